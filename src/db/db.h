/* A database: its graph, transaction log and checkpoints, and the one commit
 * path every layer above uses. Commit validates a transaction optimistically,
 * makes its record durable, then applies it; apply never runs Cypher, so
 * recovery (and later replicas and restores) replay physical records only.
 * Loop thread only, except what a statement on a worker thread calls
 * holding the gate (db_options.gate): transactions (begin, reads, cursors,
 * writes, rollback) and db_token (holding it exclusive). */
#ifndef GRAFT_DB_DB_H
#define GRAFT_DB_DB_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "../graph/graph.h"
#include "../txlog/txlog.h"
#include "../txrec/txrec.h"
#include "../util/err.h"
#include "../util/gate.h"
#include "../util/retention.h"

struct db_options {
	const char *name;          /* database name, e.g. "neo4j" */
	const char *store_dir;     /* <data>/databases/<name>: checkpoints */
	const char *txlog_dir;     /* <data>/transactions/<name> */
	uint64_t rotation_size;    /* db.tx_log.rotation.size */
	struct graft_retention retention; /* db.tx_log.rotation.retention_policy */
	uint64_t checkpoint_interval_ms;  /* db.checkpoint.interval.time; 0 off */
	uint64_t checkpoint_interval_tx;  /* db.checkpoint.interval.tx; 0 off */
	uint32_t max_client_tx;   /* db.transaction.concurrent.maximum; 0: none */
	uint64_t pin_max_size;    /* db.tx_log.reader_pins.max_size; 0: none */
	/* The transaction log is derived from the Raft log (a core member):
	 * written without fdatasync, a lost tail applied again from Raft
	 * (txlog_options.derived). */
	bool derived_log;
	/* db.transaction.old_versions.max_size; 0: none. The most memory the
	 * old versions kept for open snapshots may take: past it, the
	 * transactions of the oldest snapshot are ended (db_tx_check) and
	 * what only they needed is freed at once. */
	uint64_t old_versions_max_size;
	/* Borrowed, may be NULL (nothing reads off the loop): when worker
	 * threads read the graph holding this gate shared, the loop applies
	 * commits (and runs their callbacks) and forks checkpoints holding it
	 * exclusive (graft_gate_run), so readers see a commit all or nothing
	 * and a reader holding it delays applies, never the loop. A commit
	 * that applies nothing (no writes, a conflict) calls back without
	 * the gate. */
	struct graft_gate *gate;
};

struct db_recovery_stats {
	uint64_t checkpoint_txid; /* 0 if started without one */
	uint64_t replayed;        /* records replayed from the log */
	uint64_t elapsed_us;
};

struct db;

/* Opens or creates the database and recovers it: newest checkpoint, then
 * every logged transaction after it. Errors name the file and offset at
 * fault and what to do. On error the log, if opened, is still closing: run
 * the loop before uv_loop_close. */
int db_open(uv_loop_t *loop, const struct db_options *o, struct db **out,
	    char *errmsg);
/* db_open with the store's checkpoint already loaded into g (at cp_txid),
 * off the loop, by whoever verified it (a store copy): the loop is not
 * held for a second load. g is taken whatever this returns. */
int db_open_loaded(uv_loop_t *loop, const struct db_options *o,
		   struct graph *g, uint64_t cp_txid, struct db **out,
		   char *errmsg);
/* Stops taking commits, lets in-flight commits finish, writes a final
 * checkpoint, closes files, frees db, then calls cb (may be NULL). It also
 * waits for every open transaction to end: db_tx_begin then fails with
 * GRAFT_ESHUTDOWN, and so does db_commit (after which the transaction is
 * gone). Call once. */
void db_close(struct db *db, void (*cb)(void *arg), void *arg);
/* db_close for a dropped database, whose files are moved away and deleted:
 * no final checkpoint, nothing written by path any more. */
void db_close_discard(struct db *db, void (*cb)(void *arg), void *arg);

const char *db_name(const struct db *db);
/* The committed graph: everything applied, nothing else. */
const struct graph *db_graph(const struct db *db);
/* Id of the last applied (durable and visible) transaction. */
uint64_t db_last_txid(const struct db *db);
void db_recovery_stats(const struct db *db, struct db_recovery_stats *out);
/* Interns a token in the database's graph (not transactional). */
int db_token(struct db *db, enum graph_token_kind kind, const char *name,
	     size_t len, uint32_t *out);

/* Watches: to be woken once the database has applied a transaction (a
 * bookmark wait; later catch-up push and lag), instead of polling. */
struct db_watch;
typedef void (*db_watch_cb)(struct db_watch *w, int status);
/* Caller-owned; must stay alive until cb or db_unwatch. */
struct db_watch {
	void *data; /* for the caller */
	/* private */
	struct db *db; /* NULL when not waiting */
	struct db_watch *prev, *next;
	uint64_t txid;
	int kind; /* what it waits for (watch.c) */
	db_watch_cb cb;
};
/* Calls cb on the loop thread once db_last_txid(db) >= txid (GRAFT_OK; on a
 * later loop turn, also when it already is), or with GRAFT_ESHUTDOWN when
 * the database closes first. If this returns an error (GRAFT_ESHUTDOWN:
 * the database is closing), cb is never called. */
int db_watch(struct db *db, struct db_watch *w, uint64_t txid,
	     db_watch_cb cb);
/* Cancels a watch: cb will not run. Harmless when it is not waiting. */
void db_unwatch(struct db_watch *w);

/* The transaction stream (catch-up and backups read it) -----------------
 * What a reader of the database's log may read: every transaction up to
 * db_log_last_txid is durable in the log in db_log_dir. In a SINGLE server
 * a record is durable before it is applied; in a cluster or on a read
 * replica it is applied first and logged just after, so a follower of the
 * stream waits with db_watch_log rather than db_watch. */
const char *db_log_dir(const struct db *db);
/* Where its checkpoints are (a store copy sends the newest). */
const char *db_store_dir(const struct db *db);
uint64_t db_log_last_txid(const struct db *db);
/* Like db_watch, but for db_log_last_txid(db) >= txid. */
int db_watch_log(struct db *db, struct db_watch *w, uint64_t txid,
		 db_watch_cb cb);
/* Like db_watch_log, but for the log being on disk up to txid: in a
 * cluster member's derived log (db_options.derived_log) the log is synced
 * first; a failed sync calls back with GRAFT_EIO. Before a record kept
 * elsewhere (the Raft log) drops what the database's log must now keep. */
int db_watch_synced(struct db *db, struct db_watch *w, uint64_t txid,
		    db_watch_cb cb);
/* Retention pins on the database's log (txlog.h): pruning after a
 * checkpoint keeps every transaction from txid on while the pin holds,
 * within db.tx_log.reader_pins.max_size. */
void db_log_pin(struct db *db, struct txlog_pin *pin, uint64_t txid);
/* The time (ms since the epoch, the committing member's clock) at which the
 * last applied transaction was committed; 0 when unknown (nothing applied
 * since the start, or recovered without it). For lag figures. */
int64_t db_last_commit_ms(const struct db *db);

/* Applies one record received from an upstream's stream (a read replica),
 * as transaction txid, then writes it to this database's log without
 * waiting (the upstream keeps it; after a crash the follower asks again
 * from what its own log holds). GRAFT_ECORRUPT when the record does not
 * decode or names another database; GRAFT_EINVAL unless txid is
 * db_last_txid() + 1; GRAFT_ECONFLICT when it does not validate (the
 * follower has diverged). errmsg says which. */
int db_apply_stream(struct db *db, const void *rec, size_t len, uint64_t txid,
		    char *errmsg);

/* Starts a checkpoint now unless one is running (GRAFT_EEXIST) or the
 * database is closing (GRAFT_ESHUTDOWN). cb may be NULL. */
int db_checkpoint(struct db *db, void (*cb)(void *arg, int status), void *arg);

/* Transactions ---------------------------------------------------------
 * A transaction reads the committed graph as of its start (its snapshot:
 * the last transaction applied when it began, for all its statements and
 * batches, whatever commits meanwhile) plus its own overlay of changes.
 * Reads of an entity's labels and properties record the version seen;
 * commit fails with GRAFT_ECONFLICT (a retriable
 * Neo.TransientError.Transaction.Outdated for clients) if any of them changed
 * meanwhile, so there are no lost updates. */

enum db_tx_flags {
	DB_TX_READ_ONLY = 1, /* writes fail with GRAFT_EREADONLY; no read set */
	/* a client's: at most max_client_tx of them are open at once
	 * (db_tx_begin fails with GRAFT_ELIMIT); the server's own reads and
	 * writes (logins, schema rules) are never refused */
	DB_TX_CLIENT = 2,
};

struct db_tx;

int db_tx_begin(struct db *db, unsigned flags, struct db_tx **out);
/* db_tx_begin in block, what db_tx_rollback_keep returned (NULL: a new
 * one), which this takes whatever it returns: a short read's begin and
 * end then allocate nothing (docs/architecture.md "On 16 cores"). */
int db_tx_begin_reuse(struct db *db, unsigned flags, void *block,
		      struct db_tx **out);
/* Moves the transaction's snapshot to the last applied transaction, so
 * that checks made at commit (uniqueness) see every commit before it; what
 * it read before stays in its read set, validated at commit. Loop thread,
 * or holding the gate. GRAFT_OK, GRAFT_ENOMEM (snapshot unchanged) or
 * GRAFT_ELIMIT (db_tx_check). */
int db_tx_read_latest(struct db_tx *tx);
/* GRAFT_OK, or GRAFT_ELIMIT (errmsg says why and what to do) once the
 * transaction was ended because its snapshot held more old versions than
 * db_options.old_versions_max_size while others committed: its snapshot is
 * gone, so it must not read (or commit) any more. The database ends a
 * snapshot only on the loop holding the gate, never while a statement
 * reads: a caller that checks this after taking the gate (or on the loop)
 * and before reading never reads a freed version. Any thread. */
int db_tx_check(const struct db_tx *tx, char *errmsg);
/* Discards the transaction and frees it. */
void db_tx_rollback(struct db_tx *tx);
/* db_tx_rollback, keeping the transaction's block for db_tx_begin_reuse
 * on any database (or db_tx_block_free). */
void *db_tx_rollback_keep(struct db_tx *tx);
void db_tx_block_free(void *block);
bool db_tx_has_writes(const struct db_tx *tx);
/* Whether its commit would only end it: nothing written, no reads to
 * validate (db_tx_validate_reads). Any thread that owns tx. */
bool db_tx_read_only(const struct db_tx *tx);
/* The transaction id its reads see the graph as of: what a commit of a
 * read-only transaction may name as its bookmark. */
uint64_t db_tx_snapshot(const struct db_tx *tx);
/* Makes the commit validate the transaction's reads and scans even if it
 * wrote nothing (GRAFT_ECONFLICT if a commit after its snapshot changed
 * them): for a decision read here but committed elsewhere (a uniqueness
 * constraint over an index that exists, whose rule only the system
 * database gets). */
void db_tx_validate_reads(struct db_tx *tx);

/* Reads (committed graph + overlay). Pointers stay valid until the next
 * write through this transaction or the next loop turn. */
bool db_tx_node_exists(struct db_tx *tx, uint64_t id);
size_t db_tx_node_labels(struct db_tx *tx, uint64_t id,
			 const uint32_t **labels);
bool db_tx_node_has_label(struct db_tx *tx, uint64_t id, uint32_t label);
size_t db_tx_node_props(struct db_tx *tx, uint64_t id,
			const struct graph_prop **props);
const struct graft_value *db_tx_node_prop(struct db_tx *tx, uint64_t id,
					  uint32_t key);
bool db_tx_rel_exists(struct db_tx *tx, uint64_t id);
bool db_tx_rel_ends(struct db_tx *tx, uint64_t id, struct graph_rel_ends *out);
size_t db_tx_rel_props(struct db_tx *tx, uint64_t id,
		       const struct graph_prop **props);
const struct graft_value *db_tx_rel_prop(struct db_tx *tx, uint64_t id,
					 uint32_t key);

/* Cursors over the transaction's view, ids ascending within the committed
 * part, then the transaction's own new entities. Each *_next returns
 * GRAPH_NO_ID at the end. A cursor is tied to its transaction. */
enum db_cursor_kind {
	DB_CURSOR_NODES,
	DB_CURSOR_LABEL,
	DB_CURSOR_INDEX,
	DB_CURSOR_RELS,
	DB_CURSOR_TYPE,
	DB_CURSOR_EXPAND,
};
struct db_cursor {
	struct db_tx *tx;
	uint8_t kind;
	uint8_t phase; /* 0: committed part, 1: overlay part, 2: (index
			* cursors) committed nodes labelled in the overlay */
	uint32_t token;  /* label / type / GRAPH_NO_TOKEN */
	uint32_t key;    /* index key */
	uint64_t overlay_pos;
	const struct graft_value *value; /* index seek value, borrowed */
	struct graph_scan scan;     /* committed part of a scan */
	struct graph_expand expand; /* committed part of an expansion */
};
void db_cursor_nodes(struct db_cursor *c, struct db_tx *tx);
void db_cursor_label(struct db_cursor *c, struct db_tx *tx, uint32_t label);
/* Precondition: the index exists (committed). */
void db_cursor_index(struct db_cursor *c, struct db_tx *tx, uint32_t label,
		     uint32_t key, const struct graft_value *value);
void db_cursor_rels(struct db_cursor *c, struct db_tx *tx);
void db_cursor_type(struct db_cursor *c, struct db_tx *tx, uint32_t type);
void db_cursor_expand(struct db_cursor *c, struct db_tx *tx, uint64_t node,
		      enum graph_dir dir, uint32_t type);
uint64_t db_cursor_next(struct db_cursor *c);

/* Records that the transaction looked for nodes with a label (kind
 * GRAPH_TOKEN_LABEL) or relationships of a type (GRAPH_TOKEN_RELTYPE) the
 * database has no token for, and so found none: a scan of it, whose commit
 * fails (GRAFT_ECONFLICT) if a transaction committed after its snapshot, or
 * one committing, gives the first entity that label or type. Call it where
 * the scan would have been (holding the gate). Out of memory marks the
 * transaction to fail at commit. */
void db_tx_read_absent(struct db_tx *tx, enum graph_token_kind kind,
		       const char *name, size_t len);

/* Range seek through the (committed) index on (label, key): appends to *ids
 * (growable: *n, *cap), ascending and without duplicates, every node that
 * may hold a value in lo..hi (see graph_index_range) — the committed
 * index's matches plus the transaction's own candidates. A superset: the
 * caller checks each node's labels and value in the transaction's view.
 * GRAFT_OK or GRAFT_ENOMEM. */
int db_tx_index_range(struct db_tx *tx, uint32_t label, uint32_t key,
		      const struct graft_value *lo, bool lo_incl,
		      const struct graft_value *hi, bool hi_incl,
		      uint64_t **ids, size_t *n, size_t *cap);

/* Writes (into the overlay). GRAFT_OK, GRAFT_ENOMEM, GRAFT_ENOTFOUND (no
 * such live entity in this transaction's view), GRAFT_ECONSTRAINT (deleting a
 * node that still has relationships), GRAFT_EREADONLY, GRAFT_EINVAL (a token
 * the database does not have). Ids are final at once: they come from the
 * database's counters and are never reused, even if the transaction is
 * rolled back. */
int db_tx_node_create(struct db_tx *tx, uint64_t *id);
int db_tx_node_delete(struct db_tx *tx, uint64_t id);
int db_tx_node_add_label(struct db_tx *tx, uint64_t id, uint32_t label);
int db_tx_node_remove_label(struct db_tx *tx, uint64_t id, uint32_t label);
/* value NULL or null removes. Copied. */
int db_tx_node_set_prop(struct db_tx *tx, uint64_t id, uint32_t key,
			const struct graft_value *value);
int db_tx_rel_create(struct db_tx *tx, uint32_t type, uint64_t src,
		     uint64_t dst, uint64_t *id);
int db_tx_rel_delete(struct db_tx *tx, uint64_t id);
int db_tx_rel_set_prop(struct db_tx *tx, uint64_t id, uint32_t key,
		       const struct graft_value *value);
/* GRAFT_EEXIST if the index exists in the transaction's view. */
int db_tx_index_create(struct db_tx *tx, uint32_t label, uint32_t key);
/* GRAFT_ENOTFOUND if it does not. */
int db_tx_index_drop(struct db_tx *tx, uint32_t label, uint32_t key);

/* Makes the transaction's commit conflict (GRAFT_ECONFLICT, retriable) with
 * any concurrent commit still in flight that guards the same hash: how a
 * rule above this layer (a uniqueness constraint on a value) keeps two
 * transactions that each checked alone from both committing. */
int db_tx_guard(struct db_tx *tx, uint64_t hash);

/* Commit ---------------------------------------------------------------- */
struct db_commit_req;
struct db_inflight;
typedef void (*db_commit_cb)(struct db_commit_req *req, int status);

/* Caller-owned; must stay alive until cb. */
struct db_commit_req {
	void *data;
	uint64_t txid;                 /* on success: the transaction's id */
	char errmsg[GRAFT_ERRMSG_SIZE]; /* on failure: what failed, what to do */
	/* private */
	struct db_commit_req *next;
	struct db *db;
	struct txrec rec;
	struct graft_buf frame; /* rec encoded by db_tx_prepare, else empty */
	struct graft_buf kept;  /* a big entry's copy made with it (commit.c) */
	db_commit_cb cb;
	int status;
	uint64_t *guards;
	size_t n_guards;
	struct db_tx *tx;            /* waiting for an apply off the loop */
	struct db_inflight *inflight; /* validated off the loop */
	struct graft_gate_task task; /* its turn behind either */
};

/* Builds tx's commit record and encodes it (the log's frame, or the
 * replicated entry) ahead of db_commit, so that a big transaction's commit
 * does not build them on the loop: a worker thread calls it holding the
 * gate shared, after the transaction's last statement (tx serves nothing
 * but db_commit or db_tx_rollback afterwards). The record diffs against
 * the committed graph as of now; db_commit validates the reads as before,
 * so a change committed meanwhile to what tx wrote fails the commit
 * (GRAFT_ECONFLICT) rather than leaving a stale diff. Transactions that
 * change indexes are built at commit as before. An allocation failure is
 * the commit's (GRAFT_ENOMEM from db_commit). */
void db_tx_prepare(struct db_tx *tx);
/* How many entities tx created or changed (an estimate of its commit's
 * size). */
size_t db_tx_changes(const struct db_tx *tx);

/* Commits tx, which is consumed (freed) whether or not this succeeds. cb runs
 * on the loop thread, never from within this call: GRAFT_OK once the
 * transaction is durable and visible (req->txid set; a transaction without
 * writes gets the last applied id); GRAFT_ECONFLICT when a concurrent commit
 * changed what it read (retriable); GRAFT_ENOSPC / GRAFT_EIO when the log
 * could not be written (nothing of it applied; reads go on); GRAFT_ESHUTDOWN.
 * If this returns an error, cb is never called. */
int db_commit(struct db_tx *tx, struct db_commit_req *req, db_commit_cb cb);

/* Validates and applies one record as transaction txid: the single apply
 * path for commits, recovery and (later) replicas. Deterministic: the same
 * records in the same order give the same graph. GRAFT_ECONFLICT (nothing
 * applied) if validation fails; GRAFT_EINVAL unless txid is
 * db_last_txid() + 1. Precondition: no db_commit of this database is in
 * flight (a database either commits or follows a stream, not both). Running
 * out of memory half-way through a record is fatal (abort): the graph could
 * neither keep nor undo the half, and the record's durable copy is replayed
 * by recovery. */
int db_apply(struct db *db, const struct txrec *rec, uint64_t txid,
	     char *errmsg);

/* Replication ------------------------------------------------------------
 * In a cluster the database does not log its own commits: db_commit
 * validates as in SINGLE mode, then hands the encoded entry to a replicator
 * (the Raft group) instead of the transaction log. Every member, the leader
 * included, applies each committed entry through dbms_apply_entry, which
 * validates it again (deterministically: a rejection is the entry's result,
 * the same on every member), applies it and writes it to the member's own
 * transaction log. The leader stamps each entry with the transaction id it
 * expects the entry to get (the next one after everything it has applied and
 * proposed); an entry whose id is not the database's next is rejected.
 * Entries the Raft log applies again after a restart are recognised by the
 * Raft index each database persists (entry.c); one whose id is already
 * applied under a later index means this member diverged: it stops. */
struct db_inflight; /* one proposed commit, waiting for its outcome */

struct db_replicator_ops {
	/* Proposes entry (len bytes; copy it to keep it). GRAFT_OK: the
	 * replicator calls db_inflight_done(in, ...) exactly once, later, on
	 * the loop thread. An error (GRAFT_ENOTLEADER: this member cannot
	 * take writes now; errmsg names the leader if known): it never
	 * does, and the commit fails with that error. */
	int (*propose)(void *data, struct db *db, const void *entry, size_t len,
		       struct db_inflight *in, char *errmsg);
	/* Optional (NULL: propose): as propose, but the replicator may take
	 * entry's memory (malloc'd) instead of copying it, leaving entry
	 * empty (data NULL), so that a big entry built on a statement's
	 * worker is not copied on the loop. On an error entry is the
	 * caller's still. */
	int (*propose_buf)(void *data, struct db *db, struct graft_buf *entry,
			   struct db_inflight *in, char *errmsg);
	/* Proposes one entry carrying the commits ins[0..n) of several
	 * databases (db_commit_group), as propose does for one: GRAFT_OK,
	 * then db_inflight_done for each of them, later, with the entry's
	 * one outcome; an error, and none of them is called. NULL: the
	 * replicator takes no writes, and propose refuses the group. */
	int (*propose_group)(void *data, const void *entry, size_t len,
			     struct db_inflight *const ins[], size_t n,
			     char *errmsg);
};

/* NULL ops: SINGLE mode (the transaction log path). Set before any commit
 * and never changed while commits are in flight. */
void db_set_replicator(struct db *db, const struct db_replicator_ops *ops,
		       void *data);
/* The Raft index of the last replicated entry db applied, as its log
 * frames and checkpoints persist it; 0: unknown (a store copied from a
 * catch-up stream, until an entry tells it: entry.c). */
uint64_t db_raft_index(const struct db *db);
/* Gives db, whose Raft index is unknown, index as that of its last
 * transaction (a Raft snapshot named both); persisted with its next log
 * frame or checkpoint. Nothing when db knows its index. */
void db_adopt_raft_index(struct db *db, uint64_t index);

/* Whether db commits through a replicator (db_set_replicator). */
bool db_replicated(const struct db *db);

/* Commits txs[0..n) (n <= DB_GROUP_MAX, each of another database: a
 * statement's transaction and its changes of the system database) as one.
 * Replicated, they are one entry that every member applies all or nothing
 * (dbms_apply_entry): each reqs[i] gets the entry's outcome, and when one
 * of them fails at commit (a conflict) or at apply, every one fails, none
 * is applied. SINGLE, each is committed as db_commit does, one after
 * another, not atomically. txs are consumed; cb runs once for each req,
 * on the loop, never from within this call; the commits start holding the
 * gate (graft_gate_run), so that none of them validates off the loop. */
#define DB_GROUP_MAX 4
void db_commit_group(struct db_tx *const txs[],
		     struct db_commit_req *const reqs[], size_t n,
		     db_commit_cb cb);

/* The outcome of a proposal: GRAFT_OK once the entry is applied here (the
 * commit's callback gets its transaction id), GRAFT_ECONFLICT when it was
 * rejected at apply, GRAFT_EUNKNOWN when leadership was lost before it was
 * known to be committed (it may still be applied: the client must not
 * blindly retry it), or another error. errmsg may be NULL. */
void db_inflight_done(struct db_inflight *in, int status, const char *errmsg);

#endif
