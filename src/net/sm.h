/* A connection's life as an explicit state machine: the states, the
 * transitions allowed between them, and the one state in which its memory
 * may be freed. A server that hands a connection between the loop and a
 * worker thread keeps only its table (a struct sm_def) and moves through
 * sm_move; every move and the free are checked in every build, not only in
 * debug builds: a connection whose memory a worker still uses must never be
 * freed, and a transition the table does not allow is a bug in graft, so
 * it is logged with the connection kind and both state names and the
 * process aborts (util/check.h).
 *
 * Whoever owns the connection at the time (the loop or the worker, as the
 * caller's protocol says) moves it; the unit takes no lock. */
#ifndef GRAFT_NET_SM_H
#define GRAFT_NET_SM_H

#include <stdbool.h>

/* The table, static and borrowed for the machine's life. allowed is
 * n_states rows of n_states: allowed[from * n_states + to]. */
struct sm_def {
	const char *what; /* "catch-up connection", named in the log */
	unsigned n_states;
	const char *const *names; /* n_states names */
	const bool *allowed;
	unsigned freeable; /* the only state sm_check_freeable accepts */
};

struct sm {
	const struct sm_def *def; /* borrowed */
	unsigned state;
};

/* Starts m in state initial (< def->n_states). */
void sm_init(struct sm *m, const struct sm_def *def, unsigned initial);
/* Moves m to state to; aborts, logged, unless the table allows it. */
void sm_move(struct sm *m, unsigned to);
/* True when the table allows m's current state to move to to. */
bool sm_allows(const struct sm *m, unsigned to);
/* Before the connection's memory is freed: aborts, logged, unless m is in
 * def->freeable. */
void sm_check_freeable(const struct sm *m);
unsigned sm_state(const struct sm *m);
const char *sm_state_name(const struct sm *m);

#endif
