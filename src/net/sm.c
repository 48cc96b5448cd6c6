#include "sm.h"

#include "../util/check.h"
#include "../util/log.h"

void sm_init(struct sm *m, const struct sm_def *def, unsigned initial)
{
	GRAFT_CHECK(initial < def->n_states && def->freeable < def->n_states);
	m->def = def;
	m->state = initial;
}

bool sm_allows(const struct sm *m, unsigned to)
{
	return to < m->def->n_states &&
	       m->def->allowed[m->state * m->def->n_states + to];
}

/* Logged before the abort so that the log names the connection kind and
 * both states, which GRAFT_CHECK's expression text alone would not. */
void sm_move(struct sm *m, unsigned to)
{
	if (!sm_allows(m, to)) {
		graft_error("%s: no transition %s -> %s", m->def->what,
			    sm_state_name(m),
			    to < m->def->n_states ? m->def->names[to] : "?");
		GRAFT_CHECK(sm_allows(m, to));
	}
	m->state = to;
}

void sm_check_freeable(const struct sm *m)
{
	if (m->state != m->def->freeable) {
		graft_error("%s: freed in state %s", m->def->what,
			    sm_state_name(m));
		GRAFT_CHECK(m->state == m->def->freeable);
	}
}

unsigned sm_state(const struct sm *m)
{
	return m->state;
}

const char *sm_state_name(const struct sm *m)
{
	return m->def->names[m->state];
}
