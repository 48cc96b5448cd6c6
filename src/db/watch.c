/* Watches: a caller waits for the database to apply a transaction id
 * (bookmark waits now; catch-up push and lag tracking later), woken when
 * it happens instead of polling.
 *
 * Happy path: db_watch links the caller's struct into the database's list
 * and keeps the smallest txid waited for. Every apply compares the new
 * last_applied with that minimum, O(1); once it is reached the idle handle
 * runs on the next loop turn, unlinks every watch that is due and calls
 * each back with GRAFT_OK. Callbacks never run inside db_watch or inside
 * apply (whose caller may be mid-batch), always from the idle handle, so a
 * callback may watch again, begin a transaction or unwatch others.
 *
 * Closing: db_watch refuses a closing database (GRAFT_ESHUTDOWN, no
 * callback). When the database's handles close, watches still waiting are
 * called back with GRAFT_ESHUTDOWN before the database is freed. */
#include <stdint.h>

#include "db_int.h"

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
}

/* Calls back every watch that is due (all of them with GRAFT_ESHUTDOWN).
 * The due ones are detached first, so callbacks may change the list. */
static void watch_fire(struct db *db, int status)
{
	struct db_watch *due = NULL, *w, *next;

	for (w = db->watch_head; w != NULL; w = next) {
		next = w->next;
		if (status != GRAFT_OK || w->txid <= db->last_applied) {
			watch_unlink(w);
			w->next = due;
			due = w;
		}
	}
	watch_min_update(db);
	for (w = due; w != NULL; w = next) {
		next = w->next;
		w->next = NULL;
		w->cb(w, status);
	}
}

static void watch_idle_cb(uv_idle_t *h)
{
	struct db *db = h->data;

	uv_idle_stop(h);
	watch_fire(db, GRAFT_OK);
}

void watch_init(struct db *db)
{
	uv_idle_init(db->loop, &db->watch_idle);
	db->watch_idle.data = db;
	db->watch_min = UINT64_MAX;
}

void watch_after_apply(struct db *db)
{
	/* Recovery applies before watch_init: no watch can exist then. */
	if (db->watch_head != NULL && db->last_applied >= db->watch_min)
		uv_idle_start(&db->watch_idle, watch_idle_cb);
}

void watch_close(struct db *db, uv_close_cb cb)
{
	watch_fire(db, GRAFT_ESHUTDOWN);
	uv_close((uv_handle_t *)&db->watch_idle, cb);
}

int db_watch(struct db *db, struct db_watch *w, uint64_t txid,
	     db_watch_cb cb)
{
	if (db->closing)
		return GRAFT_ESHUTDOWN;
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
	watch_after_apply(db); /* already applied: called back next turn */
	return GRAFT_OK;
}

void db_unwatch(struct db_watch *w)
{
	struct db *db = w->db;

	if (db == NULL)
		return;
	watch_unlink(w);
	watch_min_update(db);
}
