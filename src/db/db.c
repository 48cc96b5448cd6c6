/* A database's life: open with recovery, checkpoint scheduling, close.
 *
 * Open: the newest checkpoint (none: start empty), then the transaction log
 * (a torn tail is cut there), then every logged transaction after the
 * checkpoint through db_apply, exactly as commits applied them. Anything
 * that does not fit — a gap between checkpoint and log, a record that does
 * not decode or apply — stops the start with a message naming the database,
 * the transaction and what to do.
 *
 * Checkpoints run one at a time, off the loop (a forked child; a graph of
 * at most DB_CHECKPOINT_COPY_MAX bytes is copied in memory on the loop
 * instead, cheaper than a fork of a big process), every
 * checkpoint_interval_ms and every checkpoint_interval_tx transactions; a
 * finished one lets the log prune what recovery no longer needs. A failed
 * one is retried at the next interval; the log keeps everything meanwhile.
 *
 * Close: refuse new commits, wait for commits in flight, a running
 * checkpoint and open transactions, write a final checkpoint in the loop
 * thread, close the log, close the handles, free, call back. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "../util/check.h"
#include "../util/fs.h"
#include "../util/log.h"
#include "db_int.h"

/* Up to this many graph bytes a checkpoint serialises the graph on the
 * loop (about 1 ms) rather than fork: a fork copies the page tables of the
 * whole server, 20-50 ms once another database holds GBs (the system
 * database's 319-byte checkpoint took 27-53 ms to fork at 10 M nodes). */
#define DB_CHECKPOINT_COPY_MAX ((uint64_t)1 << 20)

const char *db_name(const struct db *db)
{
	return db->name;
}

const struct graph *db_graph(const struct db *db)
{
	return db->graph;
}

uint64_t db_last_txid(const struct db *db)
{
	return db->last_applied;
}

void db_recovery_stats(const struct db *db, struct db_recovery_stats *out)
{
	*out = db->rstats;
}

int db_token(struct db *db, enum graph_token_kind kind, const char *name,
	     size_t len, uint32_t *out)
{
	return graph_token_intern(db->graph, kind, name, len, out);
}

/* Checkpoints ------------------------------------------------------------ */

static void prune_log(struct db *db)
{
	char errmsg[GRAFT_ERRMSG_SIZE];
	unsigned removed = 0;

	if (txlog_prune(db->log, db->cp_txid + 1, &removed, errmsg) != GRAFT_OK)
		graft_warn("database %s: pruning the transaction log failed: "
			   "%s",
			   db->name, errmsg);
	else if (removed > 0)
		graft_info("database %s: pruned %u transaction log segment%s",
			   db->name, removed, removed == 1 ? "" : "s");
}

static void checkpoint_done_cb(struct checkpoint_req *req, int status)
{
	struct db *db = req->data;
	void (*cb)(void *arg, int status) = db->cp_user_cb;

	db->cp_running = false;
	db->cp_user_cb = NULL;
	if (status == GRAFT_OK) {
		db->cp_txid = req->txid;
		db->cp_next_tx = req->txid + db->o.checkpoint_interval_tx;
		graft_info("database %s: checkpoint at transaction %" PRIu64
			   " written to %s (%" PRIu64 " bytes; the loop paused "
			   "%" PRIu64 " us to %s)",
			   db->name, req->txid, req->path, req->bytes,
			   req->fork_us,
			   req->forked ? "fork" : "copy the graph in memory");
		prune_log(db);
	} else {
		db->cp_next_tx = db->last_applied + db->o.checkpoint_interval_tx;
		graft_warn("database %s: checkpoint at transaction %" PRIu64
			   " failed: %s; the transaction log keeps every "
			   "transaction since the previous one, and the next "
			   "interval retries",
			   db->name, req->txid, req->errmsg);
	}
	if (cb != NULL)
		cb(db->cp_user_arg, status);
	if (db->closing)
		db_maybe_finish_close(db);
	else
		db_after_apply(db); /* the interval may have passed meanwhile */
}

static int start_checkpoint(struct db *db)
{
	int rv;

	if (db->closing)
		return GRAFT_ESHUTDOWN;
	if (db->cp_running)
		return GRAFT_EEXIST;
	db->cp.data = db;
	db->cp.errmsg[0] = '\0';
	db->cp.raft_index = txlog_raft_index(db->log);
	db->cp.copy_max_bytes = DB_CHECKPOINT_COPY_MAX;
	rv = checkpoint_start(db->loop, &db->cp, db->graph, db->last_applied,
			      db->store_dir, checkpoint_done_cb);
	if (rv != GRAFT_OK) {
		db->cp_next_tx = db->last_applied + db->o.checkpoint_interval_tx;
		graft_warn("database %s: cannot start a checkpoint: %s",
			   db->name, db->cp.errmsg[0] ? db->cp.errmsg
						      : graft_strerror(rv));
		return rv;
	}
	db->cp_running = true;
	return GRAFT_OK;
}

int db_checkpoint(struct db *db, void (*cb)(void *arg, int status), void *arg)
{
	int rv = start_checkpoint(db);

	if (rv == GRAFT_OK) {
		db->cp_user_cb = cb;
		db->cp_user_arg = arg;
	}
	return rv;
}

void db_after_apply(struct db *db)
{
	if (!db->serving || db->closing || db->cp_running ||
	    db->o.checkpoint_interval_tx == 0 || db->last_applied < db->cp_next_tx)
		return;
	start_checkpoint(db);
}

static void checkpoint_timer_run(struct graft_gate_task *t)
{
	struct db *db = t->data;

	if (!db->cp_running && !db->closing && db->last_applied != db->cp_txid)
		start_checkpoint(db);
}

/* The fork holds the gate: no worker is half-way through changing
 * anything the child copies. */
static void checkpoint_timer_cb(uv_timer_t *t)
{
	struct db *db = t->data;

	db->cp_task.data = db;
	db->cp_task.fn = checkpoint_timer_run;
	graft_gate_run(db->o.gate, &db->cp_task);
}

/* Opening ---------------------------------------------------------------- */

static char *dup_str(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = malloc(n);

	if (p != NULL)
		memcpy(p, s, n);
	return p;
}

/* Prefixes errmsg (set by a lower layer) with the database's name. */
static int name_error(const struct db *db, int rv, char *errmsg)
{
	char inner[GRAFT_ERRMSG_SIZE];

	memcpy(inner, errmsg, sizeof inner);
	inner[sizeof inner - 1] = '\0';
	return graft_errf(errmsg, rv, "database %s: %s", db->name, inner);
}

/* Replays logged transactions after the checkpoint, up to last. */
static int replay(struct db *db, uint64_t last, char *errmsg)
{
	char inner[GRAFT_ERRMSG_SIZE];
	struct txlog_reader *rd;
	struct txrec rec;
	const void *p;
	uint64_t txid;
	size_t n;
	int rv;

	rv = txlog_reader_open(db->txlog_dir, db->last_applied + 1, last, &rd,
			       errmsg);
	if (rv != GRAFT_OK)
		return name_error(db, rv, errmsg);
	for (;;) {
		rv = txlog_reader_next(rd, &txid, &p, &n, errmsg);
		if (rv != GRAFT_OK)
			break;
		if (txid != db->last_applied + 1) {
			rv = graft_errf(errmsg, GRAFT_ECORRUPT,
					"database %s: the transaction log in %s "
					"holds transaction %" PRIu64 " where %"
					PRIu64 " should follow; restore the "
					"database from a backup",
					db->name, db->txlog_dir, txid,
					db->last_applied + 1);
			goto out;
		}
		rv = txrec_decode(p, n, &rec, inner);
		if (rv != GRAFT_OK) {
			graft_errf(errmsg, rv,
				   "database %s: transaction %" PRIu64 " in %s "
				   "cannot be decoded (%s); restore the "
				   "database from a backup",
				   db->name, txid, db->txlog_dir, inner);
			goto out;
		}
		rv = db_apply(db, &rec, txid, inner);
		txrec_free(&rec);
		if (rv != GRAFT_OK) {
			graft_errf(errmsg, rv,
				   "database %s: transaction %" PRIu64 " in %s "
				   "cannot be applied to the checkpoint in %s "
				   "(%s); the log and the checkpoint do not "
				   "belong together: restore the database from "
				   "a backup",
				   db->name, txid, db->txlog_dir,
				   db->store_dir, inner);
			goto out;
		}
		db->rstats.replayed++;
	}
	if (rv != GRAFT_ENOTFOUND)
		name_error(db, rv, errmsg); /* the reader's: file and offset */
	else if (db->last_applied != last)
		rv = graft_errf(errmsg, GRAFT_ECORRUPT,
				"database %s: the transaction log in %s ends at "
				"transaction %" PRIu64 " but only %" PRIu64
				" could be read; restore the database from a "
				"backup",
				db->name, db->txlog_dir, last, db->last_applied);
	else
		rv = GRAFT_OK;
out:
	txlog_reader_close(rd);
	return rv;
}

/* The Raft index of the checkpoint at cp_txid (0: none) into the log, whose
 * newest transaction was last. Only a checkpoint this database wrote
 * itself is taken at its word, one beside a log that holds frames (its
 * tail lost after the checkpoint, or ending at it): a checkpoint that
 * arrived alone (a restored FULL backup, a store copy without log) may
 * come from another cluster or time, and an index of its would make
 * entries of this cluster's log be skipped as replays. Its index stays
 * unknown (0): entries are recognised by transaction id until the next
 * one applied. */
static int recover_raft_index(struct db *db, uint64_t cp_txid, uint64_t last,
			      char *errmsg)
{
	uint64_t index = 0;
	int rv;

	if (cp_txid == 0 || last == 0)
		return GRAFT_OK;
	rv = checkpoint_raft_index(db->store_dir, cp_txid, &index, errmsg);
	if (rv != GRAFT_OK)
		return name_error(db, rv, errmsg);
	txlog_set_raft_index(db->log, index);
	return GRAFT_OK;
}

/* loaded: the graph holds the checkpoint at cp_txid already
 * (db_open_loaded). */
static int recover(struct db *db, bool loaded, uint64_t cp_txid, char *errmsg)
{
	struct txlog_options lo = {db->o.rotation_size, db->o.retention,
				   db->o.pin_max_size, db->o.derived_log};
	uint64_t start = uv_hrtime(), first, last;
	int rv = GRAFT_OK;

	if (!loaded)
		rv = checkpoint_load_newest(db->store_dir, db->graph, &cp_txid,
					    errmsg);
	if (rv == GRAFT_ENOTFOUND)
		cp_txid = 0;
	else if (rv != GRAFT_OK)
		return name_error(db, rv, errmsg);
	db->cp_txid = db->last_applied = db->rstats.checkpoint_txid = cp_txid;
	rv = txlog_open(db->loop, db->txlog_dir, &lo, &db->log, errmsg);
	if (rv != GRAFT_OK)
		return name_error(db, rv, errmsg);
	first = txlog_first_txid(db->log);
	last = txlog_last_txid(db->log);
	if (last <= cp_txid) {
		/* Nothing after the checkpoint: the log continues from it,
		 * and so does the Raft index its frames carry. */
		txlog_set_base(db->log, cp_txid);
		rv = recover_raft_index(db, cp_txid, last, errmsg);
		if (rv != GRAFT_OK)
			return rv;
	} else if (first > cp_txid + 1) {
		return graft_errf(errmsg, GRAFT_ECORRUPT,
				  "database %s: the checkpoint in %s is at "
				  "transaction %" PRIu64 " but the transaction "
				  "log in %s starts at %" PRIu64 ": transactions "
				  "%" PRIu64 "..%" PRIu64 " are missing; restore "
				  "the database from a backup",
				  db->name, db->store_dir, cp_txid,
				  db->txlog_dir, first, cp_txid + 1, first - 1);
	} else {
		rv = replay(db, last, errmsg);
		if (rv != GRAFT_OK)
			return rv;
	}
	db->next_txid = db->last_applied + 1;
	db->cp_next_tx = db->cp_txid + db->o.checkpoint_interval_tx;
	db->rstats.elapsed_us = (uv_hrtime() - start) / 1000;
	graft_info("database %s: recovered to transaction %" PRIu64 " (checkpoint "
		   "at %" PRIu64 ", %" PRIu64 " logged transactions replayed) in "
		   "%.3f s",
		   db->name, db->last_applied, cp_txid, db->rstats.replayed,
		   (double)db->rstats.elapsed_us / 1e6);
	return GRAFT_OK;
}

/* A graph of at least this many bytes is freed on a worker thread: a
 * database replaced by a store copy, or dropped, held the loop tens of ms
 * for every 50 MB it freed. */
#define FREE_ON_WORKER_BYTES (1u << 20)

struct graph_drop {
	uv_work_t work;
	struct graph *g;
};

static void graph_drop_work(uv_work_t *w)
{
	struct graph_drop *d = w->data;

	graph_free(d->g);
}

static void graph_drop_done(uv_work_t *w, int status)
{
	(void)status; /* the work always runs: nothing cancels it */
	free(w->data);
}

/* Only a database that served, closed by a running loop: the loop runs
 * until the work is done (a queued work item keeps it running), so a
 * shutdown frees the graph all the same; an open that failed may be the
 * end of the process, and frees it here. */
static void free_graph(struct db *db)
{
	struct graph_stats st;
	struct graph_drop *d = NULL;

	graph_stats(db->graph, &st);
	if (db->serving && st.bytes >= FREE_ON_WORKER_BYTES)
		d = malloc(sizeof *d);
	if (d != NULL) {
		d->g = db->graph;
		d->work.data = d;
		if (uv_queue_work(db->loop, &d->work, graph_drop_work,
				  graph_drop_done) == 0)
			return;
		free(d);
	}
	graph_free(db->graph);
}

static void db_free(struct db *db)
{
	if (db->graph != NULL)
		free_graph(db);
	idmap_free(&db->pending);
	idmap_free(&db->vstate);
	snapshot_slots_free(db);
	recent_trim(db, GRAPH_NOW);
	graft_buf_free(&db->enc);
	free(db->name);
	free(db->store_dir);
	free(db->txlog_dir);
	free(db);
}

static void failed_log_closed_cb(struct txlog *log, void *arg)
{
	(void)log;
	db_free(arg);
}

/* g NULL: load the newest checkpoint of the store; else g holds it (at
 * cp_txid), taken whatever this returns. */
static int open_db(uv_loop_t *loop, const struct db_options *o,
		   struct graph *g, uint64_t cp_txid, struct db **out,
		   char *errmsg)
{
	struct db *db = calloc(1, sizeof *db);
	int rv;

	if (db == NULL) {
		if (g != NULL)
			graph_free(g);
		return graft_errf(errmsg, GRAFT_ENOMEM, "out of memory");
	}
	db->graph = g;
	db->loop = loop;
	db->o = *o;
	snapshot_slots_init(db);
	db->loop_thread = pthread_self();
	db->name = dup_str(o->name);
	db->store_dir = dup_str(o->store_dir);
	db->txlog_dir = dup_str(o->txlog_dir);
	idmap_init(&db->pending);
	idmap_init(&db->vstate);
	graft_buf_init(&db->enc);
	if (db->name == NULL || db->store_dir == NULL ||
	    db->txlog_dir == NULL ||
	    (db->graph == NULL && graph_new(&db->graph) != GRAFT_OK)) {
		rv = graft_errf(errmsg, GRAFT_ENOMEM, "out of memory");
		goto err;
	}
	db->o.name = db->name;
	db->o.store_dir = db->store_dir;
	db->o.txlog_dir = db->txlog_dir;
	rv = graft_mkdir_p(db->store_dir, errmsg);
	if (rv == GRAFT_OK)
		rv = graft_mkdir_p(db->txlog_dir, errmsg);
	if (rv != GRAFT_OK) {
		name_error(db, rv, errmsg);
		goto err;
	}
	rv = recover(db, g != NULL, cp_txid, errmsg);
	if (rv != GRAFT_OK)
		goto err;
	uv_idle_init(loop, &db->deferred_idle);
	uv_timer_init(loop, &db->cp_timer);
	db->deferred_idle.data = db->cp_timer.data = db;
	watch_init(db);
	snapshot_init(db);
	db->handles_open = 4;
	if (db->o.checkpoint_interval_ms > 0) {
		uv_timer_start(&db->cp_timer, checkpoint_timer_cb,
			       db->o.checkpoint_interval_ms,
			       db->o.checkpoint_interval_ms);
		uv_unref((uv_handle_t *)&db->cp_timer); /* never keeps a loop up */
	}
	db->serving = true;
	*out = db;
	return GRAFT_OK;

err:
	if (db->log != NULL)
		txlog_close(db->log, failed_log_closed_cb, db);
	else
		db_free(db);
	return rv;
}

int db_open(uv_loop_t *loop, const struct db_options *o, struct db **out,
	    char *errmsg)
{
	return open_db(loop, o, NULL, 0, out, errmsg);
}

int db_open_loaded(uv_loop_t *loop, const struct db_options *o,
		   struct graph *g, uint64_t cp_txid, struct db **out,
		   char *errmsg)
{
	return open_db(loop, o, g, cp_txid, out, errmsg);
}

/* Closing ---------------------------------------------------------------- */

static void handle_closed_cb(uv_handle_t *h)
{
	struct db *db = h->data;
	void (*cb)(void *arg) = db->close_cb;
	void *arg = db->close_arg;

	if (--db->handles_open > 0)
		return;
	db_free(db);
	if (cb != NULL)
		cb(arg);
}

static void log_closed_cb(struct txlog *log, void *arg)
{
	struct db *db = arg;

	(void)log;
	uv_close((uv_handle_t *)&db->deferred_idle, handle_closed_cb);
	uv_close((uv_handle_t *)&db->cp_timer, handle_closed_cb);
	uv_close((uv_handle_t *)&db->reclaim_async, handle_closed_cb);
	watch_close(db, handle_closed_cb);
}

/* A worker thread may be ending one meanwhile: it wakes the loop after
 * (tx.c tx_free). */
static bool tx_open(struct db *db)
{
	return snapshot_tx_count(db) > 0;
}

void db_maybe_finish_close(struct db *db)
{
	char errmsg[GRAFT_ERRMSG_SIZE];

	if (!db->closing || db->close_started || !commit_idle(db) ||
	    db->draining || db->cp_running || tx_open(db) ||
	    db->reclaim_task.queued)
		return;
	db->close_started = true;
	if (db->last_applied != db->cp_txid && !db->discard) {
		if (checkpoint_write_sync(db->graph, db->last_applied,
					  txlog_raft_index(db->log),
					  db->store_dir, errmsg) == GRAFT_OK) {
			db->cp_txid = db->last_applied;
			graft_info("database %s: final checkpoint at "
				   "transaction %" PRIu64,
				   db->name, db->cp_txid);
			prune_log(db);
		} else {
			graft_error("database %s: the final checkpoint failed: "
				    "%s; the transaction log still holds every "
				    "transaction, the next start replays them",
				    db->name, errmsg);
		}
	}
	txlog_close(db->log, log_closed_cb, db);
}

void db_close(struct db *db, void (*cb)(void *arg), void *arg)
{
	GRAFT_CHECK(!db->closing);
	/* atomic: a worker ending a transaction reads it (tx.c tx_free) */
	__atomic_store_n(&db->closing, true, __ATOMIC_SEQ_CST);
	db->close_cb = cb;
	db->close_arg = arg;
	uv_timer_stop(&db->cp_timer);
	db_maybe_finish_close(db);
}

void db_close_discard(struct db *db, void (*cb)(void *arg), void *arg)
{
	db->discard = true;
	db_close(db, cb, arg);
}
