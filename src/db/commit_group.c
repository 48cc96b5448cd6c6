/* Several databases' commits as one replicated entry (db.h
 * db_commit_group): a statement's transaction and the changes of the
 * system database it makes (the name of an index or constraint) commit
 * all or nothing on every member, and the statement's bookmark covers
 * both, since they apply together.
 *
 * Happy path, holding the gate (a task of it, so that no apply runs off
 * the loop and every commit validates on the loop, at once): each
 * database's group is set, so that its commit goes through the usual path
 * (read set, validation, pending set, the next transaction id) but hands
 * its stamped entry here instead of proposing it; then the entries are
 * proposed as one group entry (entry.c), and each commit ends through its
 * own queue when the replicator reports the entry's outcome.
 *
 * Failures: a commit that fails before it is proposed (a conflict, a
 * shutdown) takes the others back (commit_withdraw: their ids are free
 * again, nothing was proposed) with the same status; a refused proposal
 * takes them all back with its error. A commit that had nothing to write
 * ends as db_commit ends it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/check.h"
#include "db_int.h"

struct commit_group {
	struct graft_gate_task task;
	struct db_tx *txs[DB_GROUP_MAX];
	struct db_commit_req *reqs[DB_GROUP_MAX];
	size_t n;
	db_commit_cb cb;
	/* collected: the commits proposed together, and their entries */
	struct db *dbs[DB_GROUP_MAX];
	struct db_inflight *ins[DB_GROUP_MAX];
	size_t n_in;
	struct graft_buf entries;
	int status; /* the first failure */
	char errmsg[GRAFT_ERRMSG_SIZE];
};

int commit_group_collect(struct commit_group *g, struct db *db,
			 struct db_inflight *c, const struct graft_buf *enc)
{
	int rv = graft_buf_append(&g->entries, enc->data, enc->len);

	if (rv != GRAFT_OK)
		return rv;
	g->dbs[g->n_in] = db;
	g->ins[g->n_in++] = c;
	return GRAFT_OK;
}

static bool collected(const struct commit_group *g,
		      const struct db_commit_req *req)
{
	for (size_t i = 0; i < g->n_in; i++)
		if (g->dbs[i] == req->db)
			return true;
	return false;
}

static void failed(struct commit_group *g, int status, const char *db,
		   const char *errmsg)
{
	if (g->status != GRAFT_OK)
		return;
	g->status = status;
	snprintf(g->errmsg, sizeof g->errmsg, "the commit of database %.64s "
		 "failed, and the statement's commits go together: %.300s",
		 db, errmsg);
}

/* Proposes what was collected: GRAFT_OK, or why not (g->errmsg). */
static int propose(struct commit_group *g)
{
	const struct db_replicator_ops *ops = g->dbs[0]->repl;
	struct graft_buf entry;
	int rv;

	/* A replicator without groups takes no writes (a read replica's):
	 * its refusal is the group's. */
	if (ops->propose_group == NULL) {
		rv = ops->propose(g->dbs[0]->repl_data, g->dbs[0],
				  g->entries.data, g->entries.len, g->ins[0],
				  g->errmsg);
		GRAFT_CHECK(rv != GRAFT_OK);
		return rv;
	}
	graft_buf_init(&entry);
	rv = entry_group_begin(&entry, g->n_in);
	if (rv == GRAFT_OK)
		rv = graft_buf_append(&entry, g->entries.data, g->entries.len);
	if (rv != GRAFT_OK) {
		graft_buf_free(&entry);
		return graft_errf(g->errmsg, rv, "no memory for the "
				  "statement's entry");
	}
	rv = ops->propose_group(g->dbs[0]->repl_data, entry.data, entry.len,
				g->ins, g->n_in, g->errmsg);
	graft_buf_free(&entry);
	return rv;
}

static void run(struct graft_gate_task *t)
{
	struct commit_group *g = t->data;
	int rv;

	for (size_t i = 0; i < g->n; i++)
		g->txs[i]->db->group = g;
	for (size_t i = 0; i < g->n; i++) {
		struct db_commit_req *req = g->reqs[i];
		struct db *db = g->txs[i]->db;

		/* one failed already: the rest would be taken back */
		if (g->status != GRAFT_OK) {
			db->group = NULL;
			db_tx_rollback(g->txs[i]);
			req->cb = g->cb;
			snprintf(req->errmsg, sizeof req->errmsg, "%s",
				 g->errmsg);
			commit_defer(db, req, g->status);
			continue;
		}
		rv = db_commit(g->txs[i], req, g->cb);
		db->group = NULL;
		if (rv != GRAFT_OK) { /* its callback is ours to give */
			failed(g, rv, db->name, req->errmsg);
			commit_defer(db, req, rv);
		} else if (!collected(g, req) && req->status != GRAFT_OK) {
			failed(g, req->status, db->name, req->errmsg);
		}
	}
	rv = g->status;
	if (rv == GRAFT_OK && g->n_in > 0)
		rv = propose(g);
	if (rv != GRAFT_OK)
		for (size_t i = g->n_in; i-- > 0;)
			commit_withdraw(g->dbs[i], g->ins[i], rv, g->errmsg);
	graft_buf_free(&g->entries);
	free(g);
}

/* Each commit alone (SINGLE), or a group that could not start (status,
 * why). */
static void one_by_one(struct db_tx *const txs[],
		       struct db_commit_req *const reqs[], size_t n,
		       db_commit_cb cb, int status, const char *why)
{
	for (size_t i = 0; i < n; i++) {
		struct db *db = txs[i]->db;
		int rv = status;

		if (rv == GRAFT_OK)
			rv = db_commit(txs[i], reqs[i], cb);
		else
			db_tx_rollback(txs[i]);
		if (rv != GRAFT_OK) {
			reqs[i]->cb = cb;
			if (status != GRAFT_OK)
				graft_errf(reqs[i]->errmsg, rv, "%s", why);
			commit_defer(db, reqs[i], rv);
		}
	}
}

/* One transaction per database, and not too many. */
static bool distinct(struct db_tx *const txs[], size_t n)
{
	if (n > DB_GROUP_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < i; j++)
			if (txs[i]->db == txs[j]->db)
				return false;
	return true;
}

void db_commit_group(struct db_tx *const txs[],
		     struct db_commit_req *const reqs[], size_t n,
		     db_commit_cb cb)
{
	struct commit_group *g;

	if (n == 0 || txs[0]->db->repl == NULL) {
		one_by_one(txs, reqs, n, cb, GRAFT_OK, "");
		return;
	}
	if (!distinct(txs, n)) {
		one_by_one(txs, reqs, n, cb, GRAFT_EINVAL, "a group commits "
			   "one transaction of each database, at most "
			   "DB_GROUP_MAX of them");
		return;
	}
	g = calloc(1, sizeof *g);
	if (g == NULL) {
		one_by_one(txs, reqs, n, cb, GRAFT_ENOMEM, "no memory to "
			   "commit");
		return;
	}
	memcpy(g->txs, txs, n * sizeof *txs);
	memcpy(g->reqs, reqs, n * sizeof *reqs);
	g->n = n;
	g->cb = cb;
	graft_buf_init(&g->entries);
	g->task.data = g;
	g->task.fn = run;
	graft_gate_run(txs[0]->db->o.gate, &g->task);
}
