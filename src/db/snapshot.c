/* Snapshots: every transaction reads the graph as of the last transaction
 * applied when it began (graph.h "Old versions"). The database counts the
 * open snapshots by transaction id, so that an apply keeps the states it
 * replaces only while an older snapshot is open, and old states are freed
 * as soon as the oldest snapshot that needs them closes.
 *
 * Their memory is bounded (db.transaction.old_versions.max_size): when an
 * apply leaves more old versions (undo records and the keys predicate
 * validation keeps) than that, the transactions of the oldest snapshot are
 * ended — their snapshots closed by the database, db_tx_check failing from
 * then on — and what only they needed is freed at once, oldest first until
 * the rest fits. A long reader is thus stopped with an error that says so
 * instead of growing the server without end while writers go on.
 *
 * Transactions begin and end on the loop and on worker threads (under
 * tx_mu); the graph's versions change only on the loop holding the gate
 * exclusive (applies, and the reclaim task a closing snapshot wakes), so no
 * reader walks a chain while it changes. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "../util/check.h"
#include "../util/log.h"
#include "db_int.h"

/* Under tx_mu. */
static uint64_t oldest_locked(const struct db *db)
{
	return db->n_snaps > 0 ? db->snaps[0].txid : GRAPH_NOW;
}

static bool tx_revoked(const struct db_tx *tx)
{
	return __atomic_load_n(&tx->revoked, __ATOMIC_ACQUIRE);
}

int snapshot_open(struct db *db, uint64_t *out)
{
	/* An apply off the loop that passed validation: the snapshot sees it
	 * (its reads wait for the gate, which the apply holds until the loop
	 * has counted it applied). */
	uint64_t txid = db->applying > db->last_applied ? db->applying
							: db->last_applied;
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

/* Under tx_mu: closes tx's snapshots unless the database did already;
 * true if that closed the oldest. */
static bool close_tx_locked(struct db *db, struct db_tx *tx)
{
	bool oldest;

	if (tx_revoked(tx))
		return false;
	oldest = snapshot_close(db, tx->since);
	if (tx->snapshot != tx->since)
		oldest = snapshot_close(db, tx->snapshot) || oldest;
	return oldest;
}

void snapshot_tx_link(struct db *db, struct db_tx *tx)
{
	tx->prev = NULL;
	tx->next = db->txs;
	if (db->txs != NULL)
		db->txs->prev = tx;
	db->txs = tx;
}

static void wake_reclaim(struct db *db, bool oldest_closed)
{
	if (oldest_closed &&
	    __atomic_load_n(&db->versions_kept, __ATOMIC_SEQ_CST))
		uv_async_send(&db->reclaim_async);
}

void snapshot_tx_end(struct db *db, struct db_tx *tx)
{
	bool oldest;

	pthread_mutex_lock(&db->tx_mu);
	if (tx->prev != NULL)
		tx->prev->next = tx->next;
	else
		db->txs = tx->next;
	if (tx->next != NULL)
		tx->next->prev = tx->prev;
	oldest = close_tx_locked(db, tx);
	pthread_mutex_unlock(&db->tx_mu);
	wake_reclaim(db, oldest);
}

int db_tx_check(const struct db_tx *tx, char *errmsg)
{
	if (!tx_revoked(tx))
		return GRAFT_OK;
	return graft_errf(errmsg, GRAFT_ELIMIT,
			  "its snapshot (as of transaction %" PRIu64 ") held "
			  "more old versions of what later transactions "
			  "changed than db.transaction.old_versions.max_size "
			  "(%" PRIu64 " B) allows, so it was ended and they "
			  "were freed; retry it (a new transaction reads the "
			  "current state), make it shorter, or raise the "
			  "setting",
			  tx->since, tx->db->o.old_versions_max_size);
}

/* Under tx_mu: ends the snapshots of the transactions whose first
 * snapshot is the oldest open one (*txid). false if none is open. */
static bool revoke_oldest_locked(struct db *db, uint64_t *txid)
{
	if (db->n_snaps == 0)
		return false;
	*txid = db->snaps[0].txid;
	for (struct db_tx *tx = db->txs; tx != NULL; tx = tx->next)
		if (tx->since == *txid && !tx_revoked(tx)) {
			close_tx_locked(db, tx);
			__atomic_store_n(&tx->revoked, true, __ATOMIC_RELEASE);
		}
	/* every open snapshot is a linked transaction's */
	GRAFT_CHECK(db->n_snaps == 0 || db->snaps[0].txid != *txid);
	return true;
}

static uint64_t versions_bytes(const struct db *db)
{
	return graph_versions_bytes(db->graph) + db->recent_bytes;
}

/* Frees what no open snapshot needs. */
static void reclaim(struct db *db)
{
	uint64_t oldest = snapshot_oldest(db);

	graph_versions_reclaim(db->graph, oldest);
	recent_trim(db, oldest);
}

/* Past the bound, ends the oldest snapshots until the rest fits. Loop,
 * holding the gate: no statement reads meanwhile. */
static void versions_bound(struct db *db)
{
	uint64_t max = db->o.old_versions_max_size, held, txid;
	bool revoked;

	while (max != 0 && (held = versions_bytes(db)) > max) {
		pthread_mutex_lock(&db->tx_mu);
		revoked = revoke_oldest_locked(db, &txid);
		pthread_mutex_unlock(&db->tx_mu);
		if (!revoked)
			return;
		graft_warn("database %s: ended the transactions reading as "
			   "of transaction %" PRIu64 ": they held %" PRIu64
			   " B of old versions, more than "
			   "db.transaction.old_versions.max_size (%" PRIu64
			   " B)",
			   db->name, txid, held, max);
		reclaim(db);
	}
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
	__atomic_store_n(&db->versions_kept, true, __ATOMIC_SEQ_CST);
	reclaim(db);
	versions_bound(db);
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

	/* Its final steps under way, the database is freed with every
	 * version it holds: a task queued now would outlive it (its wake-up
	 * can still come until this handle is closed). */
	if (db->close_started)
		return;
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
	wake_reclaim(db, oldest);
}

void snapshot_before_apply(struct db *db, const struct txrec *rec,
			   uint64_t txid, bool off_loop)
{
	uint64_t oldest;

	/* Off the loop, the loop may begin transactions meanwhile: from here
	 * on their snapshots see this apply (snapshot_open), so it keeps only
	 * what the snapshots open now need, instead of old states of all it
	 * changes, which the loop would then free. */
	pthread_mutex_lock(&db->tx_mu);
	oldest = oldest_locked(db);
	if (off_loop)
		db->applying = txid;
	pthread_mutex_unlock(&db->tx_mu);
	graph_versions_keep(db->graph, oldest);
	if (oldest < txid)
		recent_add(db, rec, txid);
}

void snapshot_after_apply(struct db *db)
{
	versions_settle(db);
}
