/* Snapshots: every transaction reads the graph as of the last transaction
 * applied when it began (graph.h "Old versions"). The database counts the
 * open snapshots by transaction id, so that an apply keeps the states it
 * replaces only while an older snapshot is open, and old states are freed
 * as soon as the oldest snapshot that needs them closes.
 *
 * Transactions begin and end on the loop and on worker threads (under
 * tx_mu); the graph's versions change only on the loop holding the gate
 * exclusive (applies, and the reclaim task a closing snapshot wakes), so no
 * reader walks a chain while it changes. */
#include <stdlib.h>
#include <string.h>

#include "db_int.h"

/* Under tx_mu. */
static uint64_t oldest_locked(const struct db *db)
{
	return db->n_snaps > 0 ? db->snaps[0].txid : GRAPH_NOW;
}

int snapshot_open(struct db *db, uint64_t *out)
{
	uint64_t txid = db->last_applied;
	struct db_snap *last =
		db->n_snaps > 0 ? &db->snaps[db->n_snaps - 1] : NULL;

	/* last_applied only grows: the newest snapshot is the last one. */
	if (last != NULL && last->txid == txid) {
		last->n++;
		*out = txid;
		return GRAFT_OK;
	}
	if (db->n_snaps == db->cap_snaps) {
		size_t cap = db->cap_snaps ? db->cap_snaps * 2 : 8;
		struct db_snap *s = realloc(db->snaps, cap * sizeof *s);

		if (s == NULL)
			return GRAFT_ENOMEM;
		db->snaps = s;
		db->cap_snaps = cap;
	}
	db->snaps[db->n_snaps++] = (struct db_snap){txid, 1};
	*out = txid;
	return GRAFT_OK;
}

/* true if it was the oldest snapshot and no other has its id. */
static bool snapshot_close(struct db *db, uint64_t txid)
{
	size_t lo = 0, hi = db->n_snaps;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (db->snaps[mid].txid < txid)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == db->n_snaps || db->snaps[lo].txid != txid ||
	    --db->snaps[lo].n > 0)
		return false;
	memmove(&db->snaps[lo], &db->snaps[lo + 1],
		(db->n_snaps - lo - 1) * sizeof *db->snaps);
	db->n_snaps--;
	return lo == 0;
}

uint64_t snapshot_oldest(struct db *db)
{
	uint64_t oldest;

	pthread_mutex_lock(&db->tx_mu);
	oldest = oldest_locked(db);
	pthread_mutex_unlock(&db->tx_mu);
	return oldest;
}

/* Frees what no open snapshot needs. Ordered against snapshot ends on
 * other threads through tx_mu: an end before the read of the oldest is
 * seen here, an end after it sees versions_kept set and wakes the reclaim
 * task again. */
static void versions_settle(struct db *db)
{
	uint64_t oldest;

	__atomic_store_n(&db->versions_kept, true, __ATOMIC_SEQ_CST);
	oldest = snapshot_oldest(db);
	graph_versions_reclaim(db->graph, oldest);
	recent_trim(db, oldest);
	if (graph_versions_bytes(db->graph) == 0 && db->recent_head == NULL)
		__atomic_store_n(&db->versions_kept, false, __ATOMIC_SEQ_CST);
}

static void reclaim_run(struct graft_gate_task *t)
{
	struct db *db = t->data;

	versions_settle(db);
	db_maybe_finish_close(db);
}

/* The oldest snapshot closed: free what only it needed, holding the gate
 * (readers may be walking chains). */
static void reclaim_async_cb(uv_async_t *h)
{
	struct db *db = h->data;

	db->reclaim_task.data = db;
	db->reclaim_task.fn = reclaim_run;
	graft_gate_run(db->o.gate, &db->reclaim_task);
}

void snapshot_init(struct db *db)
{
	uv_async_init(db->loop, &db->reclaim_async, reclaim_async_cb);
	db->reclaim_async.data = db;
	uv_unref((uv_handle_t *)&db->reclaim_async);
}

void snapshot_end(struct db *db, uint64_t txid)
{
	bool oldest;

	pthread_mutex_lock(&db->tx_mu);
	oldest = snapshot_close(db, txid);
	pthread_mutex_unlock(&db->tx_mu);
	if (oldest && __atomic_load_n(&db->versions_kept, __ATOMIC_SEQ_CST))
		uv_async_send(&db->reclaim_async);
}

void snapshot_before_apply(struct db *db, const struct txrec *rec,
			   uint64_t txid)
{
	uint64_t oldest = snapshot_oldest(db);

	graph_versions_keep(db->graph, oldest);
	if (oldest < txid)
		recent_add(db, rec, txid);
}

void snapshot_after_apply(struct db *db)
{
	versions_settle(db);
}
