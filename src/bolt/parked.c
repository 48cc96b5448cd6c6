/* Parked results. The engine keeps one open result per transaction, but a
 * Bolt client may RUN again in an explicit transaction before it has
 * pulled all of the previous result, and PULL either later by qid. So the
 * rest of the open result is read, encoded as RECORD messages, and kept
 * with its summary until PULLed, DISCARDed, or the transaction ends. What
 * is parked counts against the transaction's memory limits, so a client
 * that never pulls cannot grow it past them (the RUN that would fails with
 * MemoryPoolOutOfMemoryError). Parked results always go before their
 * transaction, which is what they are credited back to. An auto-commit
 * statement run on the loop (query.c) parks its whole result too: its
 * PULLs serve it, and the end of it commits. */
#include "session_int.h"

#include <stdlib.h>
#include <string.h>

#include "../util/err.h"

static void parked_free(struct bolt_session *s, struct bolt_parked *p)
{
	if (s->tx != NULL)
		cypher_tx_credit(s->tx, p->charged);
	graft_buf_free(&p->records);
	graft_value_free(&p->summary.plan);
	free(p);
}

void bolt_parked_free_all(struct bolt_session *s)
{
	while (s->parked != NULL) {
		struct bolt_parked *p = s->parked;
		s->parked = p->next;
		parked_free(s, p);
	}
	s->serving = NULL;
}

struct bolt_parked *bolt_parked_find(struct bolt_session *s, int64_t qid)
{
	for (struct bolt_parked *p = s->parked; p != NULL; p = p->next)
		if (p->qid == qid)
			return p;
	return NULL;
}

/* Charges the transaction for what p's buffer grew by. */
static int charge(struct bolt_session *s, struct bolt_parked *p,
		  struct cypher_error *e)
{
	int rv = GRAFT_OK;

	if (p->records.cap > p->charged) {
		rv = cypher_tx_charge(s->tx, p->records.cap - p->charged, e);
		if (rv == GRAFT_OK)
			p->charged = p->records.cap;
	}
	return rv;
}

int bolt_park_result(struct bolt_session *s, struct cypher_error *e)
{
	const char *const *names;
	size_t width = cypher_result_fields(s->result, &names);
	const struct graft_value *row;
	struct bolt_parked *p = calloc(1, sizeof *p);
	int rv;

	if (p == NULL)
		return GRAFT_ENOMEM;
	p->qid = s->qid;
	graft_buf_init(&p->records);
	while ((rv = cypher_result_next(s->result, &row, e)) > 0) {
		if (bolt_write_record(s, &p->records, row, width) != GRAFT_OK ||
		    charge(s, p, e) != GRAFT_OK) {
			rv = -1;
			break;
		}
	}
	if (rv == 0 && bolt_summary_take(s, &p->summary) != GRAFT_OK)
		rv = -1;
	if (rv != 0) {
		parked_free(s, p);
		return e->code[0] != '\0' ? GRAFT_EINVAL : GRAFT_ENOMEM;
	}
	cypher_result_close(s->result);
	s->result = NULL;
	p->next = s->parked;
	s->parked = p;
	return GRAFT_OK;
}

/* The end of the message starting at pos: its chunks up to the 00 00. */
static size_t message_end(const struct graft_buf *b, size_t pos)
{
	size_t len;

	do {
		len = (size_t)b->data[pos] << 8 | b->data[pos + 1];
		pos += 2 + len;
	} while (len > 0);
	return pos;
}

int bolt_stream_parked(struct bolt_session *s)
{
	struct bolt_parked *p = s->serving, **pp;
	size_t end;
	int rv;

	while (p->pos < p->records.len) {
		if (s->pull_left == 0)
			return bolt_write_has_more(s);
		if (!s->discarding && s->out->len >= s->env->cfg.out_high)
			return BOLT_STEP_FULL;
		end = message_end(&p->records, p->pos);
		if (!s->discarding &&
		    graft_buf_append(s->out, p->records.data + p->pos,
				     end - p->pos) != GRAFT_OK)
			return BOLT_STEP_CLOSE;
		p->pos = end;
		if (s->pull_left > 0)
			s->pull_left--;
	}
	for (pp = &s->parked; *pp != p; pp = &(*pp)->next)
		;
	*pp = p->next;
	s->serving = NULL;
	if (s->autocommit) {
		/* read whole on the loop (query.c run_on_loop): the summary
		 * goes with the commit's bookmark (bolt_after_job) */
		graft_value_free(&s->summary.plan);
		s->summary = p->summary;
		p->summary.plan = graft_value_null();
		parked_free(s, p);
		cypher_tx_prepare(s->tx);
		s->commit_after_job = true;
		return BOLT_STEP_DONE;
	}
	rv = bolt_write_summary(s, &p->summary, NULL);
	parked_free(s, p);
	if (s->result == NULL && s->parked == NULL)
		s->state = BOLT_TX_READY;
	return bolt_step_of(rv);
}
