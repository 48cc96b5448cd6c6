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
 * Transactions begin and end on the loop and on worker threads, each in
 * its thread's slot (util/slot.h, struct db_tx_slot) under that slot's
 * lock, so that threads beginning and ending transactions at once write no
 * line in common; the oldest snapshot is the least of every slot's first,
 * read slot by slot under each lock (the loop, once per apply and reclaim).
 * The graph's versions change only on the loop holding the gate exclusive
 * (applies, and the reclaim task a closing snapshot wakes), so no reader
 * walks a chain while it changes. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "../util/check.h"
#include "../util/log.h"
#include "db_int.h"

void snapshot_slots_init(struct db *db)
{
	for (unsigned i = 0; i < GRAFT_SLOTS; i++)
		pthread_mutex_init(&db->tx_slots[i].mu, NULL);
}

void snapshot_slots_free(struct db *db)
{
	for (unsigned i = 0; i < GRAFT_SLOTS; i++) {
		free(db->tx_slots[i].snaps);
		pthread_mutex_destroy(&db->tx_slots[i].mu);
	}
}

static bool tx_revoked(const struct db_tx *tx)
{
	return __atomic_load_n(&tx->revoked, __ATOMIC_ACQUIRE);
}

/* The counts are read without the slot's lock by the loop (is a slot
 * empty? how many are open?), so they are stored sequentially consistent:
 * a transaction counts itself before it reads which snapshot it takes,
 * and an apply stores db->applying before it reads the counts, so either
 * the apply sees the slot busy (and reads it under its lock) or the new
 * snapshot sees the apply; likewise an end uncounts itself before it
 * reads db->closing, which the close sets before it counts. */
static unsigned load_count(const unsigned *n)
{
	return __atomic_load_n(n, __ATOMIC_SEQ_CST);
}

/* Under s->mu. */
static void count_add(unsigned *n, int d)
{
	__atomic_store_n(n, *n + (unsigned)d, __ATOMIC_SEQ_CST);
}

/* Under s->mu, for the client count: a limit, read by nobody who orders
 * anything after it, so a plain store (a sequentially consistent one is a
 * full fence, on the loop's share of every begin and end). */
static void count_add_relaxed(unsigned *n, int d)
{
	__atomic_store_n(n, *n + (unsigned)d, __ATOMIC_RELAXED);
}

unsigned snapshot_tx_count(struct db *db)
{
	unsigned n = 0;

	for (unsigned i = 0; i < GRAFT_SLOTS; i++)
		n += load_count(&db->tx_slots[i].n_tx);
	return n;
}

/* Client transactions open: a sum of counts each slot changes alone, so
 * two threads beginning at once may both pass the limit by one each. */
static unsigned client_tx_count(struct db *db)
{
	unsigned n = 0;

	for (unsigned i = 0; i < GRAFT_SLOTS; i++)
		n += __atomic_load_n(&db->tx_slots[i].n_client_tx,
				     __ATOMIC_RELAXED);
	return n;
}

/* Under s->mu. */
static int snapshot_open(struct db *db, struct db_tx_slot *s, uint64_t *out)
{
	/* An apply off the loop that passed validation: the snapshot sees it
	 * (its reads wait for the gate, which the apply holds until the loop
	 * has counted it applied). Stored before the apply reads this slot's
	 * oldest under this lock (snapshot_before_apply). */
	uint64_t applying = __atomic_load_n(&db->applying, __ATOMIC_SEQ_CST);
	uint64_t txid = applying > db->last_applied ? applying
						    : db->last_applied;
	struct db_snap *last =
		s->n_snaps > 0 ? &s->snaps[s->n_snaps - 1] : NULL;

	/* last_applied only grows: the newest snapshot is the last one. */
	if (last != NULL && last->txid == txid) {
		last->n++;
		*out = txid;
		return GRAFT_OK;
	}
	if (s->n_snaps == s->cap_snaps) {
		size_t cap = s->cap_snaps ? s->cap_snaps * 2 : 8;
		struct db_snap *p = realloc(s->snaps, cap * sizeof *p);

		if (p == NULL)
			return GRAFT_ENOMEM;
		s->snaps = p;
		s->cap_snaps = cap;
	}
	s->snaps[s->n_snaps++] = (struct db_snap){txid, 1};
	*out = txid;
	return GRAFT_OK;
}

int snapshot_tx_begin(struct db *db, struct db_tx *tx)
{
	struct db_tx_slot *s;
	int rv;

	if ((tx->flags & DB_TX_CLIENT) && db->o.max_client_tx != 0 &&
	    client_tx_count(db) >= db->o.max_client_tx)
		return GRAFT_ELIMIT;
	tx->slot = graft_slot();
	s = &db->tx_slots[tx->slot];
	pthread_mutex_lock(&s->mu);
	count_add(&s->n_tx, 1); /* before the snapshot is chosen (above) */
	rv = snapshot_open(db, s, &tx->snapshot);
	if (rv == GRAFT_OK) {
		tx->since = tx->snapshot;
		tx->prev = NULL;
		tx->next = s->txs;
		if (s->txs != NULL)
			s->txs->prev = tx;
		s->txs = tx;
		if (tx->flags & DB_TX_CLIENT)
			count_add_relaxed(&s->n_client_tx, 1);
	} else {
		count_add(&s->n_tx, -1);
	}
	pthread_mutex_unlock(&s->mu);
	return rv;
}

int snapshot_tx_open(struct db_tx *tx, uint64_t *out)
{
	struct db_tx_slot *s = &tx->db->tx_slots[tx->slot];
	int rv;

	pthread_mutex_lock(&s->mu);
	/* a revoked transaction holds no snapshot to move from */
	rv = tx->revoked ? GRAFT_ELIMIT : snapshot_open(tx->db, s, out);
	pthread_mutex_unlock(&s->mu);
	return rv;
}

/* Under s->mu. true if it was the slot's oldest snapshot and no other has
 * its id. */
static bool snapshot_close(struct db_tx_slot *s, uint64_t txid)
{
	size_t lo = 0, hi = s->n_snaps;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->snaps[mid].txid < txid)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == s->n_snaps || s->snaps[lo].txid != txid ||
	    --s->snaps[lo].n > 0)
		return false;
	memmove(&s->snaps[lo], &s->snaps[lo + 1],
		(s->n_snaps - lo - 1) * sizeof *s->snaps);
	s->n_snaps--;
	return lo == 0;
}

/* Under s->mu (tx's slot): closes tx's snapshots unless the database did
 * already; true if that closed the slot's oldest. */
static bool close_tx_locked(struct db_tx_slot *s, struct db_tx *tx)
{
	bool oldest;

	if (tx_revoked(tx))
		return false;
	oldest = snapshot_close(s, tx->since);
	if (tx->snapshot != tx->since)
		oldest = snapshot_close(s, tx->snapshot) || oldest;
	return oldest;
}

/* The slot's oldest closed: when the graph keeps old versions, the loop
 * frees what no snapshot needs now (it finds the oldest of every slot;
 * more wake-ups than ends of the very oldest, never fewer). */
static void wake_reclaim(struct db *db, bool oldest_closed)
{
	if (oldest_closed &&
	    __atomic_load_n(&db->versions_kept, __ATOMIC_SEQ_CST))
		uv_async_send(&db->reclaim_async);
}

void snapshot_tx_end(struct db *db, struct db_tx *tx)
{
	struct db_tx_slot *s = &db->tx_slots[tx->slot];
	bool oldest;

	pthread_mutex_lock(&s->mu);
	if (tx->prev != NULL)
		tx->prev->next = tx->next;
	else
		s->txs = tx->next;
	if (tx->next != NULL)
		tx->next->prev = tx->prev;
	oldest = close_tx_locked(s, tx);
	GRAFT_CHECK(s->n_tx > 0);
	count_add(&s->n_tx, -1);
	if (tx->flags & DB_TX_CLIENT)
		count_add_relaxed(&s->n_client_tx, -1);
	pthread_mutex_unlock(&s->mu);
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

/* Ends the snapshots of the transactions whose first snapshot is the
 * oldest open one (*txid). false if none is open. Loop, holding the gate:
 * no statement begins a transaction meanwhile, only the loop does. */
static bool revoke_oldest(struct db *db, uint64_t *txid)
{
	*txid = snapshot_oldest(db);
	if (*txid == GRAPH_NOW)
		return false;
	for (unsigned i = 0; i < GRAFT_SLOTS; i++) {
		struct db_tx_slot *s = &db->tx_slots[i];

		pthread_mutex_lock(&s->mu);
		for (struct db_tx *tx = s->txs; tx != NULL; tx = tx->next)
			if (tx->since == *txid && !tx_revoked(tx)) {
				close_tx_locked(s, tx);
				__atomic_store_n(&tx->revoked, true,
						 __ATOMIC_RELEASE);
			}
		/* every open snapshot is a linked transaction's */
		GRAFT_CHECK(s->n_snaps == 0 || s->snaps[0].txid != *txid);
		pthread_mutex_unlock(&s->mu);
	}
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
		revoked = revoke_oldest(db, &txid);
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

/* Each slot that holds a transaction, under its lock (a slot found empty
 * holds no snapshot, and one opened there after sees what was stored
 * before: db->applying). The loop's slot alone when only the loop begins
 * transactions (a server's Bolt sessions). */
uint64_t snapshot_oldest(struct db *db)
{
	uint64_t oldest = GRAPH_NOW;

	for (unsigned i = 0; i < GRAFT_SLOTS; i++) {
		struct db_tx_slot *s = &db->tx_slots[i];

		if (load_count(&s->n_tx) == 0)
			continue;
		pthread_mutex_lock(&s->mu);
		if (s->n_snaps > 0 && s->snaps[0].txid < oldest)
			oldest = s->snaps[0].txid;
		pthread_mutex_unlock(&s->mu);
	}
	return oldest;
}

/* Frees what no open snapshot needs. Ordered against snapshot ends on
 * other threads through each slot's lock: an end before the read of its
 * slot is seen here, an end after it sees versions_kept set and wakes the
 * reclaim task again. */
static void versions_settle(struct db *db)
{
	__atomic_store_n(&db->versions_kept, true, __ATOMIC_SEQ_CST);
	reclaim(db);
	versions_bound(db);
	if (graph_versions_bytes(db->graph) == 0 && db->recent_n == 0)
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

void snapshot_end(struct db *db, unsigned slot, uint64_t txid)
{
	struct db_tx_slot *s = &db->tx_slots[slot];
	bool oldest;

	pthread_mutex_lock(&s->mu);
	oldest = snapshot_close(s, txid);
	pthread_mutex_unlock(&s->mu);
	wake_reclaim(db, oldest);
}

void snapshot_before_apply(struct db *db, const struct txrec *rec,
			   uint64_t txid, bool off_loop)
{
	uint64_t oldest;

	/* Off the loop, the loop may begin transactions meanwhile: from here
	 * on their snapshots see this apply (snapshot_open), so it keeps only
	 * what the snapshots open now need, instead of old states of all it
	 * changes, which the loop would then free. Stored before the slots
	 * are read: a snapshot opened in a slot after its read sees it. */
	if (off_loop)
		__atomic_store_n(&db->applying, txid, __ATOMIC_SEQ_CST);
	oldest = snapshot_oldest(db);
	graph_versions_keep(db->graph, oldest);
	if (oldest < txid)
		recent_add(db, rec, txid);
}

void snapshot_after_apply(struct db *db)
{
	versions_settle(db);
}
