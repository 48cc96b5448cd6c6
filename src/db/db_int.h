/* Inside a database: the struct db itself, a transaction's overlay, and the
 * functions the db's files share (open/close, transactions, cursors, writes,
 * commit, apply). Nothing here is visible above the db layer. */
#ifndef GRAFT_DB_DB_INT_H
#define GRAFT_DB_DB_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "../checkpoint/checkpoint.h"
#include "../txlog/txlog.h"
#include "../util/buf.h"
#include "../util/mem.h"
#include "../util/slot.h"
#include "db.h"
#include "idmap_int.h"

/* A big apply runs off the loop: on a thread of libuv's pool, holding the
 * gate for one of the loop's tasks (graft_gate_offload), so that the loop
 * goes on meanwhile. Between apply_off_loop_begin(a) and _end() on that
 * thread, apply_commit and entry_log do only what that thread may do (the
 * graph) and leave in *a what the loop must do after (last_applied,
 * watches, checkpoints, snapshots' settling, the member's log);
 * apply_off_loop_finish(a) does it, on the loop, before the task's next
 * step. One apply per begin. */
struct db_applied {
	struct db *db; /* NULL: nothing applied */
	uint64_t txid;
	int64_t commit_ms;
	uint64_t index; /* of the Raft entry applied (0: none) */
	struct db *log_db; /* NULL: nothing to write to a member's log */
	const void *log_rec;
	size_t log_len;
	/* The record as the log's frame (txlog_frame_begin), made off the
	 * loop so that the loop hands it over instead of copying megabytes;
	 * empty if it could not be allocated (the loop copies log_rec). */
	struct graft_buf log_frame;
	uint64_t log_txid;
	uint64_t log_index; /* the Raft index entry_log writes with it */
};
struct db_inflight; /* commit.c: one logged (or proposed), not yet applied
		     * transaction */

/* The keys a transaction applied while an older snapshot was open wrote,
 * for predicate validation (predicate.c). */
struct db_recent {
	uint64_t txid;
	size_t n;
	uint64_t keys[];
};

/* Predicates of the scans a write transaction ran (predicate.c). */
struct tx_seek {
	uint32_t label, key;
	bool any; /* a range seek: every value counts */
	struct graft_value value; /* owned; an exact seek's value */
};
/* A label or type a scan looked for while the database had no such token:
 * tokens are numbered in order of first use, so one created later is at
 * least tok_from; the name is compared with the records of commits in
 * flight, which carry names. */
struct tx_absent {
	enum graph_token_kind kind; /* GRAPH_TOKEN_LABEL or _RELTYPE */
	uint32_t tok_from;
	struct graft_str *name; /* owned */
};
struct tx_preds {
	bool all_nodes, all_rels;
	struct idmap labels, types; /* token -> 0 */
	struct idmap expands;       /* node id -> 0 */
	struct tx_seek *seeks;
	size_t n_seeks, cap_seeks;
	struct idmap seek_at; /* a seek's hash -> its index in seeks */
	struct tx_absent *absent;
	size_t n_absent, cap_absent;
	/* the smallest tok_from of absent labels and types (UINT32_MAX:
	 * none): an entity that enters or leaves a label or type numbered
	 * from there may be one of them */
	uint32_t new_label_from, new_type_from;
};

/* Open snapshots with the same transaction id (snapshot.c). */
struct db_snap {
	uint64_t txid;
	uint64_t n;
};

/* The transactions begun on one slot's threads (util/slot.h), their open
 * snapshots and counts, under the slot's own lock: two threads beginning
 * and ending transactions write no line in common. The oldest snapshot is
 * the least of every slot's first (snapshot.c). A transaction stays in the
 * slot it began in, whichever thread ends it. */
struct db_tx_slot {
	pthread_mutex_t mu;
	struct db_snap *snaps; /* ascending */
	size_t n_snaps, cap_snaps;
	struct db_tx *txs;
	/* written under mu, read by others with atomic loads */
	unsigned n_tx, n_client_tx;
	char pad[GRAFT_CACHE_LINE]; /* the fields above alone in their lines */
};

struct db {
	uv_loop_t *loop;
	char *name;      /* owned */
	char *store_dir; /* owned */
	char *txlog_dir; /* owned */
	struct db_options o; /* its strings point at the copies above */
	struct graph *graph;
	struct txlog *log;
	uint64_t last_applied; /* last applied transaction id */
	int64_t last_commit_ms; /* its commit time; 0: unknown */
	uint64_t next_txid;    /* id the next logged transaction gets */
	uint64_t next_node, next_rel; /* ids handed to transactions */
	pthread_t loop_thread; /* the one that opened it */
	/* The transaction an apply off the loop makes, once validated
	 * (snapshot_before_apply): snapshots begun from then see it
	 * (atomic: read by the loop while the apply runs). */
	uint64_t applying;
	/* Open transactions and their snapshots, per slot: worker threads
	 * begin and end transactions too (a statement's USE, ends on the
	 * worker), and many at once (cypher_bench) */
	struct db_tx_slot tx_slots[GRAFT_SLOTS];
	/* Set (loop, holding the gate) while the graph keeps old versions:
	 * the end of the oldest snapshot then wakes the reclaim task. */
	bool versions_kept;
	uv_async_t reclaim_async;
	struct graft_gate_task reclaim_task;
	/* Applied while an older snapshot was open, oldest first (ascending
	 * txids): recent[recent_first .. recent_first + recent_n). An array,
	 * so that a commit finds the first one after its snapshot by binary
	 * search: a long reader keeps every write since it began, and a walk
	 * from the oldest made each commit cost as many steps as writes since
	 * (5,000 a second). */
	struct db_recent **recent;
	size_t recent_first, recent_n, recent_cap;
	uint64_t recent_checked; /* kept commits validations looked at (tests) */
	uint64_t recent_lost; /* a commit whose keys could not be kept */
	uint64_t recent_bytes; /* their memory */
	bool serving;          /* recovery done: checkpoints may run */
	struct db_recovery_stats rstats;

	/* Commits logged and not yet applied, in txid order; the entities
	 * they write (key -> number of such commits). */
	struct db_inflight *queue_head, *queue_tail;
	struct idmap pending;
	unsigned n_big; /* of them big, with their keys apart (commit.c) */
	int log_failure;       /* status of a failed batch still draining */
	bool draining;
	/* The drain applies the head commit off the loop (DB_OFF_LOOP_OPS):
	 * its status and what the loop does after it. */
	bool drain_off;
	int drain_status;
	struct db_applied drain_applied;
	/* Commits waiting in the gate's queue for an apply off the loop to
	 * end before they validate (db_commit). */
	unsigned commits_waiting;
	/* Commits finished without reaching the log (no writes, conflict),
	 * whose callbacks run on a later loop turn. */
	struct db_commit_req *deferred_head, *deferred_tail;
	uv_idle_t deferred_idle;
	/* What the loop does holding the gate: apply what the log made
	 * durable (and run those commits' callbacks), fork a checkpoint. */
	struct graft_gate_task drain_task, cp_task;
	/* Watches waiting for a transaction to be applied (watch.c). */
	struct db_watch *watch_head;
	uint64_t watch_min; /* smallest txid waited for; UINT64_MAX: none */
	uv_idle_t watch_idle;
	/* The sync that db_watch_synced asks of a derived log (watch.c):
	 * log_synced is on disk; sync_target is what the one in flight
	 * covers. */
	struct txlog_sync_req sync_req;
	bool sync_running;
	uint64_t log_synced, sync_target;
	/* db_watch_synced watches waiting: want_sync looks at the list (on
	 * every batch of a core's log) only when there are some. */
	size_t n_synced_watches;
	/* Replication (db.h): NULL in SINGLE mode. */
	const struct db_replicator_ops *repl;
	void *repl_data;
	/* db_commit_group collecting: the proposal goes to it */
	struct commit_group *group;
	unsigned entry_appends; /* applied entries still on their way to the
				 * transaction log */
	/* Records validated (apply_validate): commits before they are logged
	 * or proposed, entries as they apply; for tests. */
	uint64_t validations;
	/* Scratch space reused by every commit and apply. */
	struct idmap vstate;
	struct graft_buf enc;

	/* Checkpoints: one at a time. */
	uv_timer_t cp_timer;
	struct checkpoint_req cp;
	bool cp_running;
	uint64_t cp_txid;       /* txid of the newest checkpoint */
	uint64_t cp_next_tx;    /* txid that triggers the next one by count */
	void (*cp_user_cb)(void *arg, int status);
	void *cp_user_arg;

	/* Closing. */
	bool closing;
	bool close_started; /* final steps under way */
	bool discard;       /* dropped: no final checkpoint */
	unsigned handles_open;
	void (*close_cb)(void *arg);
	void *close_arg;
};

/* Overlay ----------------------------------------------------------------
 * A transaction's private changes. An entity appears here once the
 * transaction created it, changed it (then its whole labels/properties are
 * copied: copy-on-write), deleted it, or (nodes) attached a relationship the
 * transaction created to it. */
struct ov_props {
	struct graph_prop *v; /* sorted by key; values owned */
	/* Nodes only, once the transaction's value index (struct ov_vindex)
	 * is built (NULL before, and for relationships): per property, its
	 * entry there, OV_VNONE if none. */
	uint32_t *vix;
	uint32_t n, cap;
};

struct ov_node {
	uint64_t id;
	bool created;   /* by this transaction */
	bool deleted;
	bool has_state; /* labels and props below are the transaction's view */
	bool labelled;  /* committed, and given a label here (in tx->labelled) */
	uint32_t *labels; /* sorted */
	uint32_t n_labels, cap_labels;
	struct ov_props props;
	uint64_t *rels; /* relationships this transaction created on it */
	uint32_t n_rels, cap_rels;
	uint32_t live_rels; /* of those, not deleted again */
};

/* Overlay nodes are carved from slabs, one allocation for many nodes, all
 * freed with the transaction: a load of a million nodes made a million
 * small allocations here, and freed them one by one. Slabs (and the
 * overlay's arrays) are allocated through util/mem.h, so that they count
 * against the memory limits of the transaction that writes them. */
struct ov_slab {
	struct ov_slab *next; /* newer */
	uint32_t n, cap;
	struct ov_node nodes[];
};

struct ov_rel {
	uint64_t id;
	bool created;
	bool deleted;
	bool has_state;
	struct graph_rel_ends ends;
	struct ov_props props;
};

struct ov_index {
	uint32_t label, key;
	bool exists; /* in the transaction's view */
};

struct idvec {
	uint64_t *v;
	size_t n, cap;
};

/* Which overlay nodes may hold a (property key, value), so that an index
 * cursor visits the candidates of its value instead of every node the
 * transaction touched. Per hash of (key, value) a chain of entries, one per
 * node, in order of writing; chains are found through an open-addressing
 * table of their ends.
 *
 * O(1) per write whatever the values: a write appends to its value's chain
 * (a value shared by a million nodes is one chain of a million, not a probe
 * run of a million slots every later write must walk), and a node's entry
 * stays with its property (ov_props.vix), so writing the same value again
 * adds nothing and a new value retires the old entry in place. Retired
 * entries stay linked (id OV_VDEAD), so a cursor part-way along a chain
 * never loses its place; their memory returns with the transaction.
 * Different values whose hashes collide share a chain: candidates are
 * checked against the node's value.
 *
 * Built on the first index seek of the transaction (ov_vindex_build) and
 * kept current from then on: a transaction that only writes, a bulk load,
 * pays nothing for it (it was a tenth of such a load's time and a third of
 * its memory). */
#define OV_VNONE 0 /* no entry: entry 0 is never used */
#define OV_VDEAD UINT64_MAX

struct ov_ventry {
	uint64_t hash;
	uint64_t id;   /* node, or OV_VDEAD once retired */
	uint32_t next; /* along the chain of hash; OV_VNONE at its end */
};

struct ov_vchain {
	uint32_t head, tail; /* entries; head OV_VNONE: a free slot */
};

struct ov_vindex {
	struct ov_ventry *e;    /* e[1..n-1] */
	uint32_t n, cap;
	struct ov_vchain *chains;
	uint32_t nchains, capchains; /* capchains 0 or a power of two */
	uint64_t probes; /* chain slots examined by adds: O(1) each, tested */
	bool built;      /* writes keep it current */
};

uint64_t ov_vindex_hash(uint32_t key, const struct graft_value *v);
/* Makes room for one more entry, so that ov_vindex_add cannot fail.
 * GRAFT_OK or GRAFT_ENOMEM. */
int ov_vindex_reserve(struct ov_vindex *ix);
/* Appends node id to the chain of hash; returns its entry. Precondition:
 * ov_vindex_reserve since the last add. */
uint32_t ov_vindex_add(struct ov_vindex *ix, uint64_t hash, uint64_t id);
/* Retires entry e (its node's value changed or went). */
void ov_vindex_retire(struct ov_vindex *ix, uint32_t e);
/* The first entry of the chain of hash, OV_VNONE if there is none. */
uint32_t ov_vindex_first(const struct ov_vindex *ix, uint64_t hash);
void ov_vindex_free(struct ov_vindex *ix);
struct db_tx;
/* Indexes every value of the overlay's nodes and marks the index built.
 * GRAFT_OK, or GRAFT_ENOMEM with nothing built. */
int ov_vindex_build(struct db_tx *tx);

struct db_tx {
	struct db *db;
	unsigned flags;
	uint64_t snapshot; /* reads see the graph as of this transaction id */
	uint64_t since;    /* the snapshot it began with: what its predicates
			    * are validated from (both are held open) */
	struct tx_preds preds;
	struct db_tx *prev, *next; /* in its slot's txs (under its mu) */
	unsigned slot;             /* db->tx_slots[slot] */
	/* Set (under its slot's mu, on the loop holding the gate) when its
	 * snapshots were ended for holding too many old versions
	 * (db_tx_check). */
	bool revoked;
	struct idmap nodes;  /* id -> struct ov_node * (in slabs) */
	struct ov_slab *slabs, *slab_last; /* oldest first; the newest */
	struct idmap rels;   /* id -> struct ov_rel * */
	struct idmap reads;  /* db_key -> version first seen */
	struct idvec created_nodes, touched_nodes; /* in order of arrival */
	struct idvec created_rels, touched_rels;
	struct ov_vindex values;      /* node property values written */
	struct idvec guards;          /* db_tx_guard keys */
	struct idvec labelled;        /* committed nodes given a label */
	struct ov_index *indexes;
	size_t n_indexes, cap_indexes;
	bool wrote;
	bool validate; /* db_tx_validate_reads */
	bool oom; /* a read could not be recorded: commit must fail */
	/* db_tx_prepare: the record (the overlay's values moved into it) and
	 * its encoding, for the replicator it was encoded for (NULL: the
	 * log's frame). */
	bool prepared;
	struct txrec rec;
	struct graft_buf frame;
	const struct db_replicator_ops *frame_for;
	/* A big replicated entry: frame is an exact copy made here, which
	 * the replicator may take (propose_buf), and kept the encoding
	 * itself, which the commit keeps until the entry applies here
	 * (commit_claim_entry). Empty otherwise. */
	struct graft_buf kept;
};

int idvec_push(struct idvec *v, uint64_t id);

/* tx.c */
enum tx_view {
	TX_VIEW_NONE,    /* not there in this transaction's view */
	TX_VIEW_OVERLAY, /* *ov holds the transaction's view of it */
	TX_VIEW_GRAPH,   /* the committed graph's; its version is recorded */
};
/* *st receives the committed state (as of the snapshot) for TX_VIEW_GRAPH,
 * and for a relationship whose overlay entry has no state of its own. */
enum tx_view tx_node_view(struct db_tx *tx, uint64_t id, struct ov_node **ov,
			  struct graph_state *st);
enum tx_view tx_rel_view(struct db_tx *tx, uint64_t id, struct ov_rel **ov,
			 struct graph_state *st);
struct ov_node *tx_node(const struct db_tx *tx, uint64_t id);
struct ov_rel *tx_rel(const struct db_tx *tx, uint64_t id);
/* Records a read of a committed entity (nothing for read-only
 * transactions); on allocation failure marks the transaction oom. */
void tx_record_read(struct db_tx *tx, enum db_key_kind kind, uint64_t id,
		    uint64_t version);
bool ov_node_has_label(const struct ov_node *n, uint32_t label);
uint32_t ov_props_find(const struct ov_props *p, uint32_t key, bool *found);
const struct graft_value *ov_props_get(const struct ov_props *p, uint32_t key);
void tx_free(struct db_tx *tx);
/* Frees the overlay (the entities tx created or changed, its value index),
 * keeping what its commit still checks: the read set, the predicates, the
 * guards. db_tx_prepare calls it on the worker once the record holds the
 * changes, so that a big transaction's overlay is not freed on the loop. */
void tx_free_overlay(struct db_tx *tx);

/* record.c */
/* Fills r (initialised) from tx, taking the values of its overlay (tx is
 * only fit for tx_free afterwards). Precondition: every read is still
 * current, so the committed state the diffs start from is what tx saw. */
int record_build(struct db_tx *tx, struct txrec *r);

/* commit.c */
/* watch.c: the idle handle (one of handles_open), the check after each
 * apply, and closing (remaining watches get GRAFT_ESHUTDOWN). */
void watch_init(struct db *db);
void watch_after_apply(struct db *db);
void watch_close(struct db *db, uv_close_cb cb);
void commit_deferred_cb(uv_idle_t *h);
bool commit_idle(const struct db *db); /* nothing logged or deferred */
/* req's callback with status on a later loop turn (nothing applied). */
void commit_defer(struct db *db, struct db_commit_req *req, int status);
/* Takes back c, the last commit of db's queue, which was proposed to no
 * one: its transaction id is free again and its callback gets status
 * (errmsg) on a later turn. */
void commit_withdraw(struct db *db, struct db_inflight *c, int status,
		     const char *errmsg);

/* commit_group.c: db_commit_group. A database whose group is set hands
 * its commit's encoded entry (stamped with its id) here instead of
 * proposing it: GRAFT_OK or GRAFT_ENOMEM. */
struct commit_group;
int commit_group_collect(struct commit_group *g, struct db *db,
			 struct db_inflight *c, const struct graft_buf *enc);

/* entry.c: replicated entries */
/* Appends the entry of record r, expected to become transaction txid, to
 * out: GRAFT_OK, or txrec_encode's errors. */
int entry_encode(struct graft_buf *out, uint64_t txid, const struct txrec *r);
/* Puts txid into the entry entry_encode made (with another id). */
void entry_stamp(struct graft_buf *entry, uint64_t txid);
/* The header of a group entry (db_commit_group) of n entries, which
 * follow it as entry_encode made them: GRAFT_OK or GRAFT_ENOMEM. */
int entry_group_begin(struct graft_buf *out, size_t n);
/* Writes the record of an applied entry to the member's log, with the
 * Raft index it came from (0 for a catch-up stream's record: unknown;
 * txlog_set_raft_index), after its apply, on the loop (apply_defer_log). */
void entry_log(struct db *db, const void *rec, size_t len, uint64_t txid,
	       uint64_t index);
/* entry_log of rec, made into frame (txlog_frame_begin) already when
 * frame is not empty: handed to the log (frame is left to free). */
void entry_log_frame(struct db *db, struct graft_buf *frame, const void *rec,
		     size_t len, uint64_t txid, uint64_t index);

/* apply.c */
/* Records from commits start with their node creates, ids ascending
 * (record.c): the length of that run at the start of rec (ids strictly
 * ascending). */
size_t apply_creates_run(const struct txrec *rec);
/* Whether the run ops[0..n) creates node id; *at (0 at first) moves
 * forward, so calls must come in ascending ids to find every one (a
 * smaller id than before is reported as not created). */
bool apply_created_in_run(const struct txrec *rec, size_t n, size_t *at,
			  uint64_t id);
/* The same, in any order (binary search). */
bool apply_in_creates_run(const struct txrec *rec, size_t n, uint64_t id);
/* Checks rec against the committed graph without changing anything. */
int apply_validate(struct db *db, const struct txrec *rec, char *errmsg);
/* Applies a validated record; only allocation can fail, and then the graph
 * is half-changed, so that is fatal. take: NULL, or rec itself when its
 * owner frees it right after, so that the graph keeps its property values
 * (left null) instead of copies. */
void apply_record(struct db *db, const struct txrec *rec, struct txrec *take,
		  uint64_t txid);
/* db_apply, with apply_record's take; validated: apply_validate passed
 * against the graph as it is now (nothing was applied since), so it is not
 * run again — one pass less over a big record. index: the Raft entry rec
 * comes from (0: none), the database's index from its apply on, before a
 * checkpoint the apply starts reads it. */
int apply_commit(struct db *db, const struct txrec *rec, struct txrec *take,
		 uint64_t txid, uint64_t index, bool validated, char *errmsg);

void apply_off_loop_begin(struct db_applied *a);
void apply_off_loop_end(void);
void apply_off_loop_finish(struct db_applied *a);
/* entry_log's check: true (and the write left to apply_off_loop_finish)
 * when called off the loop. */
bool apply_defer_log(struct db *db, const void *rec, size_t len,
		     uint64_t txid, uint64_t index);
/* Records and entries of at least so many ops (or bytes) apply off the
 * loop: below, the hop to a thread costs more than it spares (a record of
 * 4096 nodes applies in about a millisecond). */
#define DB_OFF_LOOP_OPS 4096
#define DB_OFF_LOOP_BYTES (128 * 1024)

/* snapshot.c. tx (flags and db set) takes this thread's slot, its first
 * snapshot and counts there: GRAFT_OK, GRAFT_ELIMIT (max_client_tx) or
 * GRAFT_ENOMEM. */
int snapshot_tx_begin(struct db *db, struct db_tx *tx);
/* tx's later snapshot (db_tx_read_latest) into *out: GRAFT_OK, GRAFT_ELIMIT
 * (revoked) or GRAFT_ENOMEM. */
int snapshot_tx_open(struct db_tx *tx, uint64_t *out);
/* Ends one snapshot of tx's slot; when it was that slot's oldest and old
 * versions are kept, the loop reclaims. */
void snapshot_end(struct db *db, unsigned slot, uint64_t txid);
uint64_t snapshot_oldest(struct db *db); /* GRAPH_NOW: none */
/* Open transactions (every slot's; exact when no other thread begins or
 * ends one meanwhile). */
unsigned snapshot_tx_count(struct db *db);
void snapshot_init(struct db *db); /* the reclaim handle (handles_open) */
void snapshot_slots_init(struct db *db); /* first thing in db_open */
void snapshot_slots_free(struct db *db);
/* Around an apply (loop, gate held) of validated rec as txid: tells the
 * graph which states to keep and remembers the keys rec writes while an
 * older snapshot is open (off_loop: snapshots begun while the apply runs
 * off the loop see it, db->applying); after, frees what no snapshot
 * needs. */
void snapshot_before_apply(struct db *db, const struct txrec *rec,
			   uint64_t txid, bool off_loop);
void snapshot_after_apply(struct db *db);
/* tx leaves its slot and its snapshots close, unless the database closed
 * them already (revoked). */
void snapshot_tx_end(struct db *db, struct db_tx *tx);

/* predicate.c. Recording (no-ops for read-only transactions; out of
 * memory marks the transaction oom). */
void pred_all(struct db_tx *tx, bool rels);
void pred_token(struct db_tx *tx, bool type, uint32_t tok);
void pred_expand(struct db_tx *tx, uint64_t node);
/* value NULL: a range seek (any value of key). */
void pred_seek(struct db_tx *tx, uint32_t label, uint32_t key,
	       const struct graft_value *value);
void preds_init(struct tx_preds *p);
void preds_free(struct tx_preds *p);
/* At commit, on the loop: GRAFT_ECONFLICT (errmsg) if a transaction
 * committed after tx->since, or one in flight, moves an entity in or out
 * of a predicate's result. */
int pred_validate(const struct db_tx *tx, char *errmsg);
void recent_add(struct db *db, const struct txrec *rec, uint64_t txid);
void recent_trim(struct db *db, uint64_t oldest); /* those <= oldest */

/* commit.c, for predicate.c: the keys a record writes (keys NULL: their
 * number), and the commits in flight with their records. */
size_t commit_keys(const struct db *db, const struct txrec *r,
		   uint64_t *keys);
const struct db_inflight *inflight_next(const struct db_inflight *c);
/* Loop, when a replicated entry of DB_OFF_LOOP_BYTES or more is submitted
 * or applies (entry_queue.c): true if it is, byte for byte, the entry of
 * db's oldest commit in flight; *out then takes that commit's copy of it
 * (the entry need not be copied again) and *validated_at the transaction
 * id db had applied when the commit validated it. Validation gives the
 * same answer for the same record against the same graph, so that an
 * apply finding db still at *validated_at skips it: the leader validates
 * once (before it proposes), and every member still decides alike. */
bool commit_claim_entry(struct db *db, const void *entry, size_t len,
			struct graft_buf *out, uint64_t *validated_at);
const struct txrec *inflight_record(const struct db_inflight *c);

/* db.c */
/* After each applied transaction: counts towards a checkpoint. */
void db_after_apply(struct db *db);
/* Called when the commit queue drains; finishes a close waiting on it. */
void db_maybe_finish_close(struct db *db);

#endif
