/* Watches: a caller waits for the database to apply a transaction id
 * (bookmark waits, lag), or for its log to hold it durably (db_watch_log: a
 * catch-up stream pushing new records), woken when it happens instead of
 * polling. The log tells the database after every durable batch
 * (txlog_on_durable), which runs the same check as an apply.
 *
 * Happy path: db_watch links the caller's struct into the database's list
 * and keeps the smallest txid waited for. Every apply compares the new
 * last_applied with that minimum, O(1); once it is reached the idle handle
 * runs on the next loop turn, unlinks every watch that is due and calls
 * each back with GRAFT_OK. Callbacks never run inside db_watch or inside
 * apply (whose caller may be mid-batch), always from the idle handle, so a
 * callback may watch again, begin a transaction or unwatch others.
 *
 * A derived log (a core member's) counts a batch as durable once written;
 * db_watch_synced waits for an fdatasync, which the database asks of the
 * log (one at a time, txlog_sync) whenever such a watch waits for what the
 * log holds, and sync_target records what that sync covers.
 *
 * Closing: db_watch refuses a closing database (GRAFT_ESHUTDOWN, no
 * callback). When the database's handles close, watches still waiting are
 * called back with GRAFT_ESHUTDOWN before the database is freed. */
#include <stdint.h>

#include "db_int.h"

enum { WATCH_APPLIED, WATCH_LOGGED, WATCH_SYNCED };

/* Recomputes the smallest txid waited for (UINT64_MAX with none). O(n). */
static void watch_min_update(struct db *db)
{
	db->watch_min = UINT64_MAX;
	for (struct db_watch *w = db->watch_head; w != NULL; w = w->next)
		if (w->txid < db->watch_min)
			db->watch_min = w->txid;
}

static void watch_unlink(struct db_watch *w)
{
	struct db *db = w->db;

	if (w->prev != NULL)
		w->prev->next = w->next;
	else
		db->watch_head = w->next;
	if (w->next != NULL)
		w->next->prev = w->prev;
	w->prev = w->next = NULL;
	w->db = NULL;
	db->n_synced_watches -= w->kind == WATCH_SYNCED;
}

static uint64_t watch_reached(const struct db *db, const struct db_watch *w)
{
	switch (w->kind) {
	case WATCH_LOGGED:
		return txlog_last_txid(db->log);
	case WATCH_SYNCED:
		return db->o.derived_log ? db->log_synced
					 : txlog_last_txid(db->log);
	default:
		return db->last_applied;
	}
}

/* Calls back every watch that is due; with an error status, every one of
 * kind (every one at all for kind < 0) gets it. The due ones are detached
 * first, so callbacks may change the list. */
static void watch_fire_kind(struct db *db, int status, int kind)
{
	struct db_watch *due = NULL, *w, *next;

	for (w = db->watch_head; w != NULL; w = next) {
		next = w->next;
		if ((status != GRAFT_OK && (kind < 0 || w->kind == kind)) ||
		    w->txid <= watch_reached(db, w)) {
			watch_unlink(w);
			w->next = due;
			due = w;
		}
	}
	watch_min_update(db);
	for (w = due; w != NULL; w = next) {
		next = w->next;
		w->next = NULL;
		w->cb(w, w->txid <= watch_reached(db, w) ? GRAFT_OK : status);
	}
}

static void watch_fire(struct db *db, int status)
{
	watch_fire_kind(db, status, -1);
}

static void want_sync(struct db *db);

static void synced_cb(struct txlog_sync_req *req, int status)
{
	struct db *db = req->data;

	db->sync_running = false;
	if (db->closing)
		return;
	if (status == GRAFT_OK && db->sync_target > db->log_synced)
		db->log_synced = db->sync_target;
	watch_fire_kind(db, status, WATCH_SYNCED);
	want_sync(db);
}

/* A derived log is synced when a watch waits for what it holds. */
static void want_sync(struct db *db)
{
	uint64_t logged = txlog_last_txid(db->log);
	bool wanted = false;

	if (!db->o.derived_log || db->sync_running || db->closing ||
	    db->n_synced_watches == 0)
		return;
	for (struct db_watch *w = db->watch_head; w != NULL && !wanted;
	     w = w->next)
		wanted = w->kind == WATCH_SYNCED && w->txid > db->log_synced &&
			 w->txid <= logged;
	if (!wanted)
		return;
	db->sync_req.data = db;
	db->sync_target = logged;
	if (txlog_sync(db->log, &db->sync_req, synced_cb) == GRAFT_OK)
		db->sync_running = true;
}

static void watch_idle_cb(uv_idle_t *h)
{
	struct db *db = h->data;

	uv_idle_stop(h);
	watch_fire(db, GRAFT_OK);
}

/* Something advanced: the idle handle checks the watches on the next loop
 * turn if any may be due (watch_min is a lower bound over both kinds). */
static void watch_check(struct db *db, uint64_t reached)
{
	if (db->watch_head != NULL && reached >= db->watch_min)
		uv_idle_start(&db->watch_idle, watch_idle_cb);
}

static void watch_durable_cb(void *data, uint64_t last_txid)
{
	watch_check(data, last_txid);
	want_sync(data);
}

void watch_init(struct db *db)
{
	uv_idle_init(db->loop, &db->watch_idle);
	db->watch_idle.data = db;
	db->watch_min = UINT64_MAX;
	txlog_on_durable(db->log, watch_durable_cb, db);
}

void watch_after_apply(struct db *db)
{
	/* Recovery applies before watch_init: no watch can exist then. */
	watch_check(db, db->last_applied);
}

void watch_close(struct db *db, uv_close_cb cb)
{
	watch_fire(db, GRAFT_ESHUTDOWN);
	uv_close((uv_handle_t *)&db->watch_idle, cb);
}

static int watch_add(struct db *db, struct db_watch *w, uint64_t txid,
		     db_watch_cb cb, int kind)
{
	if (db->closing)
		return GRAFT_ESHUTDOWN;
	w->kind = kind;
	db->n_synced_watches += kind == WATCH_SYNCED;
	w->db = db;
	w->txid = txid;
	w->cb = cb;
	w->prev = NULL;
	w->next = db->watch_head;
	if (w->next != NULL)
		w->next->prev = w;
	db->watch_head = w;
	if (txid < db->watch_min)
		db->watch_min = txid;
	/* already reached: called back next turn */
	watch_check(db, watch_reached(db, w));
	want_sync(db);
	return GRAFT_OK;
}

int db_watch(struct db *db, struct db_watch *w, uint64_t txid,
	     db_watch_cb cb)
{
	return watch_add(db, w, txid, cb, WATCH_APPLIED);
}

int db_watch_log(struct db *db, struct db_watch *w, uint64_t txid,
		 db_watch_cb cb)
{
	return watch_add(db, w, txid, cb, WATCH_LOGGED);
}

int db_watch_synced(struct db *db, struct db_watch *w, uint64_t txid,
		    db_watch_cb cb)
{
	return watch_add(db, w, txid, cb, WATCH_SYNCED);
}

const char *db_log_dir(const struct db *db)
{
	return db->txlog_dir;
}

const char *db_store_dir(const struct db *db)
{
	return db->store_dir;
}

uint64_t db_log_last_txid(const struct db *db)
{
	return txlog_last_txid(db->log);
}

void db_log_pin(struct db *db, struct txlog_pin *pin, uint64_t txid)
{
	txlog_pin(db->log, pin, txid);
}

int64_t db_last_commit_ms(const struct db *db)
{
	return db->last_commit_ms;
}

void db_unwatch(struct db_watch *w)
{
	struct db *db = w->db;

	if (db == NULL)
		return;
	watch_unlink(w);
	watch_min_update(db);
}
