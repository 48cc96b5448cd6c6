/* Replicated entries behind the gate (dbms.h "Applying entries behind the
 * gate").
 *
 * Happy path: the Raft state machine hands each committed entry to
 * dbms_entry_submit, on the loop. Its job runs through graft_gate_run:
 * at once when no statement holds the gate (the entry is borrowed, nothing
 * is copied), else it waits in the gate's queue, which is ordered, so
 * entries apply in Raft index order on every member whatever their
 * readers do; then the entry is copied (libraft frees its buffer once the
 * state machine returns), unless it is the leader's own big proposal,
 * whose commit kept a copy made on the statement's worker (job_claim).
 * Right after submitting an entry that is its own proposal, the leader's
 * member (src/cluster/member.c claim) claims the outcome with
 * dbms_entry_outcome, which finds the
 * job as the last one submitted and calls back once it has applied
 * (holding the gate, as SINGLE commits call back). A job nobody claimed
 * (a follower's, or one proposed by an earlier leader) is freed when it
 * has applied and the next one is submitted.
 *
 * An entry of DB_OFF_LOOP_BYTES or more is decoded and applied off the
 * loop (db_int.h "struct db_applied"), copied first: the loop goes on
 * with Raft's ticks and the other sessions, the gate stays held for it,
 * and the entries after it wait in the gate's queue, in order. Its outcome
 * is reported once the loop has finished the apply.
 *
 * Failures: an entry whose format is unknown or whose length is wrong is
 * refused at once (GRAFT_ECORRUPT: the state machine stops). One that
 * cannot be applied later for the same kind of reason (its record does
 * not decode, raft_applied cannot be written) is logged, and every later
 * submit is refused the same way: going on would diverge. A copy that
 * cannot be allocated is fatal, like an apply that runs out of memory. */
#include <stdlib.h>
#include <string.h>

#include "../util/log.h"
#include "db_int.h"
#include "dbms_int.h"

struct dbms_entry_job {
	struct graft_gate_task task;
	struct dbms *m;
	uint64_t index;
	const void *entry; /* borrowed until queued, then copy */
	void *copy;        /* owned */
	size_t len;
	bool applied;
	struct db_applied off; /* an apply off the loop leaves its rest here */
	/* The database whose own proposal the entry is (the leader's:
	 * commit_claim_entry), claimed when submitted or at apply, and the
	 * transaction id it had applied when it validated it: applied
	 * without validating again if it is still there (validated). */
	struct db *claimed;
	uint64_t claimed_at;
	struct db *validated;
	int status;
	char errmsg[GRAFT_ERRMSG_SIZE];
	dbms_entry_cb cb; /* the claimer's; NULL: unclaimed */
	void *cb_data;
};

static void job_free(struct dbms_entry_job *j)
{
	struct dbms *m = j->m;

	if (m->entry_last == j)
		m->entry_last = NULL;
	free(j->copy);
	free(j);
}

/* Holding the gate: the claimer learns the outcome. */
static void job_report(struct graft_gate_task *t)
{
	struct dbms_entry_job *j = t->data;

	j->cb(j->cb_data, j->status, j->status != GRAFT_OK ? j->errmsg : NULL);
	job_free(j);
}

/* The entry applied (or not): the outcome is claimed or kept. */
static void job_applied(struct dbms_entry_job *j)
{
	struct dbms *m = j->m;

	if (j->status == GRAFT_ECORRUPT && !m->entry_broken) {
		m->entry_broken = true;
		graft_error("Raft entry %llu cannot be applied: %s; this member "
			    "applies nothing more",
			    (unsigned long long)j->index, j->errmsg);
	} else if (j->status == GRAFT_ENOTFOUND) {
		graft_warn("cluster: %s", j->errmsg);
	}
	j->applied = true;
	m->entries_queued--;
	if (j->cb != NULL)
		job_report(&j->task);
	else if (m->entry_last != j)
		job_free(j);
	dbms_maybe_close(m);
}

static void job_apply_entry(struct dbms_entry_job *j)
{
	uint64_t txid;

	j->status = dbms_apply_entry_validated(j->m, j->index, j->entry,
					       j->len, j->validated, &txid,
					       j->errmsg);
}

/* On a thread of libuv's pool, holding the gate. */
static void job_apply_work(struct graft_gate_task *t)
{
	struct dbms_entry_job *j = t->data;

	apply_off_loop_begin(&j->off);
	job_apply_entry(j);
	apply_off_loop_end();
}

static void job_apply_done(struct graft_gate_task *t)
{
	struct dbms_entry_job *j = t->data;

	apply_off_loop_finish(&j->off);
	job_applied(j);
}

/* Whether the entry is big enough to apply off the loop. */
static bool job_big(const struct dbms_entry_job *j)
{
	return j->len >= DB_OFF_LOOP_BYTES && j->m->o.db.gate != NULL &&
	       !dbms_entry_is_change(j->entry, j->len) &&
	       !dbms_entry_is_group(j->entry, j->len);
}

/* The leader's own proposal, byte for byte: its copy is taken (it is the
 * entry's, and the job keeps it: no copy of libraft's buffer on the
 * loop). */
static void job_claim(struct dbms_entry_job *j)
{
	struct dbms *m = j->m;
	struct graft_buf own;

	for (size_t i = 0; i < m->n && j->claimed == NULL; i++)
		if (commit_claim_entry(m->dbs[i], j->entry, j->len, &own,
				       &j->claimed_at)) {
			free(j->copy); /* made while the job waited */
			j->copy = own.data;
			j->entry = j->copy;
			j->claimed = m->dbs[i];
		}
}

/* At apply: the claimed database, when nothing was applied to it since
 * it validated the entry (and it is open still). */
static struct db *job_validated(const struct dbms_entry_job *j)
{
	const struct dbms *m = j->m;

	for (size_t i = 0; i < m->n; i++)
		if (m->dbs[i] == j->claimed &&
		    j->claimed->last_applied == j->claimed_at)
			return j->claimed;
	return NULL;
}

/* The entry is kept until it has applied: libraft frees its buffer once
 * the state machine returns. */
static void job_copy(struct dbms_entry_job *j)
{
	if (j->copy != NULL)
		return;
	j->copy = malloc(j->len > 0 ? j->len : 1);
	if (j->copy == NULL) {
		graft_error("no memory to keep Raft entry %llu (%zu B) "
			    "until readers leave the gate; stopping",
			    (unsigned long long)j->index, j->len);
		abort();
	}
	memcpy(j->copy, j->entry, j->len);
	j->entry = j->copy;
}

static void job_apply(struct graft_gate_task *t)
{
	struct dbms_entry_job *j = t->data;
	struct dbms *m = j->m;

	if (m->entry_broken) {
		j->status = graft_errf(j->errmsg, GRAFT_ECORRUPT,
				       "an earlier replicated entry could not "
				       "be applied on this member");
	} else if (job_big(j)) {
		job_claim(j);
		j->validated = job_validated(j);
		job_copy(j);
		t->fn = job_apply_done;
		graft_gate_offload(m->o.db.gate, t, job_apply_work);
		return;
	} else {
		job_apply_entry(j);
	}
	job_applied(j);
}

int dbms_entry_submit(struct dbms *m, uint64_t index, const void *entry,
		      size_t len, char *errmsg)
{
	struct dbms_entry_job *j;
	int rv;

	if (m->entry_broken)
		return graft_errf(errmsg, GRAFT_ECORRUPT,
				  "an earlier replicated entry could not be "
				  "applied on this member");
	rv = dbms_entry_check(entry, len, errmsg);
	if (rv != GRAFT_OK)
		return rv;
	j = calloc(1, sizeof *j);
	if (j == NULL)
		return graft_errf(errmsg, GRAFT_ENOMEM,
				  "no memory to apply Raft entry %llu",
				  (unsigned long long)index);
	/* the previous one, unclaimed by now, is nobody's */
	if (m->entry_last != NULL && m->entry_last->applied &&
	    m->entry_last->cb == NULL)
		job_free(m->entry_last);
	j->m = m;
	j->index = index;
	j->entry = entry;
	j->len = len;
	j->task.data = j;
	j->task.fn = job_apply;
	m->entry_last = j;
	m->entries_queued++;
	graft_gate_run(m->o.db.gate, &j->task);
	/* Waiting (not begun: nothing copied or claimed yet): the leader's
	 * kept bytes, not a copy of libraft's. */
	if (!j->applied && j->copy == NULL && job_big(j))
		job_claim(j);
	if (!j->applied)
		job_copy(j);
	return GRAFT_OK;
}

void dbms_entry_outcome(struct dbms *m, uint64_t index, dbms_entry_cb cb,
			void *data)
{
	struct dbms_entry_job *j = m->entry_last;
	char errmsg[GRAFT_ERRMSG_SIZE];

	if (j == NULL || j->index != index || j->cb != NULL) {
		graft_errf(errmsg, GRAFT_EUNKNOWN,
			   "the outcome of Raft entry %llu was not kept",
			   (unsigned long long)index);
		cb(data, GRAFT_EUNKNOWN, errmsg);
		return;
	}
	j->cb = cb;
	j->cb_data = data;
	if (!j->applied)
		return; /* job_apply reports */
	j->task.fn = job_report;
	graft_gate_run(m->o.db.gate, &j->task);
}

bool dbms_entries_pending(const struct dbms *m)
{
	return m->entries_queued > 0;
}

static void then_run(struct graft_gate_task *t)
{
	struct dbms *m = t->data;
	void (*cb)(void *arg) = m->then_cb;

	m->then_cb = NULL;
	m->entries_queued--;
	cb(m->then_arg);
	dbms_maybe_close(m);
}

void dbms_entries_then(struct dbms *m, void (*cb)(void *arg), void *arg)
{
	if (m->then_cb == NULL)
		m->entries_queued++;
	m->then_cb = cb;
	m->then_arg = arg;
	m->then_task.data = m;
	m->then_task.fn = then_run;
	graft_gate_run(m->o.db.gate, &m->then_task);
}

void dbms_entries_free(struct dbms *m)
{
	if (m->entry_last != NULL)
		job_free(m->entry_last);
}
