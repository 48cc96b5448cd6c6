/* The one commit path.
 *
 * Happy path: db_commit checks the read set against the committed graph,
 * turns the overlay into a record (record.c), validates the record exactly
 * as apply will, checks that no commit still on its way to the log writes
 * anything this one read or writes, takes the next transaction id and hands
 * the encoded record to the transaction log. The log acknowledges appends
 * once durable, in order; each acknowledgement drains the head of the
 * queue: apply (which validates again and must pass, since every commit
 * that could have interfered is either applied — then validation here saw
 * it — or in the pending set), then the caller's callback.
 *
 * Failures:
 * - a read changed, validation failed, or a commit in flight writes the same
 *   entity: GRAFT_ECONFLICT on a later loop turn, nothing logged;
 * - the log could not write a batch (ENOSPC, EIO): that commit and every
 *   later one already queued fail, nothing of them is applied; commits that
 *   arrive while the failed batch drains fail the same way; once the queue
 *   is empty the next transaction reuses the first failed id and the
 *   database goes on;
 * - a durable record that fails validation or cannot be applied would mean
 *   the log and the graph disagree: that is fatal (recovery will replay).
 *
 * With a replicator (db.h "Replication") the same queue holds proposals
 * instead of log appends: the entry is applied when the group commits it
 * (dbms_apply_entry, on every member), and db_inflight_done finishes the
 * commit with that outcome. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/check.h"
#include "../util/log.h"
#include "db_int.h"

struct db_inflight {
	struct db_inflight *next;
	struct db_commit_req *req;
	struct txlog_append_req append;
	uint64_t txid;
	uint64_t validated_at; /* last_applied when the record was validated */
	int status;
	bool done;
	/* A big commit (validated off the loop) keeps its keys in a table of
	 * its own, built off the loop, instead of adding them to db->pending
	 * and removing them again on the loop (hundreds of thousands of
	 * them for a load); n_keys is then 0. */
	bool big;
	struct idmap own;
	/* A big commit's replicated entry, kept until it applies here: the
	 * leader's apply of those very bytes needs no second validation
	 * (commit_claim_entry). handed: the memory of its copy that the
	 * replicator took (propose_buf), the entry's identity while it is in
	 * flight; never read through. */
	struct graft_buf entry;
	const void *handed;
	size_t n_keys;
	uint64_t keys[]; /* entities the record writes (db_key), for pending */
};

/* The record and its encoding (a commit's end, or one that failed). */
static void commit_req_free(struct db_commit_req *req)
{
	txrec_free(&req->rec);
	graft_buf_free(&req->frame);
	graft_buf_free(&req->kept);
}

/* What a big commit leaves to free: freed on a thread of libuv's pool,
 * where it costs the loop nothing (a record of 200k ops and values, a key
 * table of 200k keys: tens of milliseconds). Nothing here refers to the
 * database. */
struct commit_garbage {
	uv_work_t work;
	struct txrec rec;
	struct graft_buf frame, kept, entry;
	struct idmap own;
};

static void garbage_work(uv_work_t *w)
{
	struct commit_garbage *g = w->data;

	txrec_free(&g->rec);
	graft_buf_free(&g->frame);
	graft_buf_free(&g->kept);
	graft_buf_free(&g->entry);
	idmap_free(&g->own);
}

static void garbage_done(uv_work_t *w, int status)
{
	(void)status;
	free(w->data);
}

/* Ends c and the record of its request: a big one's off the loop. */
static void inflight_free(struct db *db, struct db_inflight *c)
{
	struct db_commit_req *req = c->req;
	struct commit_garbage *g = NULL;

	if (c->big && db->loop != NULL)
		g = malloc(sizeof *g);
	if (g != NULL) {
		g->work.data = g;
		g->rec = req->rec;
		g->frame = req->frame;
		g->kept = req->kept;
		g->own = c->own;
		g->entry = c->entry;
		txrec_init(&req->rec);
		graft_buf_init(&req->frame);
		graft_buf_init(&req->kept);
		if (uv_queue_work(db->loop, &g->work, garbage_work,
				  garbage_done) == 0) {
			free(c);
			return;
		}
		/* never: it fails only without a work callback */
		req->rec = g->rec;
		req->frame = g->frame;
		req->kept = g->kept;
		free(g);
	}
	commit_req_free(req);
	idmap_free(&c->own);
	graft_buf_free(&c->entry);
	free(c);
}

/* Deferred callbacks ----------------------------------------------------- */

static void defer(struct db *db, struct db_commit_req *req, int status)
{
	req->status = status;
	req->next = NULL;
	if (db->deferred_tail != NULL)
		db->deferred_tail->next = req;
	else
		db->deferred_head = req;
	db->deferred_tail = req;
	uv_idle_start(&db->deferred_idle, commit_deferred_cb);
}

void commit_defer(struct db *db, struct db_commit_req *req, int status)
{
	defer(db, req, status);
}

static void deferred_run(struct db *db)
{
	struct db_commit_req *req = db->deferred_head;

	/* Callbacks may commit again: those wait for the next turn. */
	db->deferred_head = db->deferred_tail = NULL;
	while (req != NULL) {
		struct db_commit_req *next = req->next;

		if (req->status == GRAFT_OK)
			req->txid = db->last_applied;
		req->cb(req, req->status);
		req = next;
	}
	db_maybe_finish_close(db);
}

/* Nothing is applied here (no writes, or a conflict): no gate, so that a
 * read-only transaction ends while a long reader holds it. Callers that
 * change shared state from their callback take the gate themselves. */
void commit_deferred_cb(uv_idle_t *h)
{
	struct db *db = h->data;

	uv_idle_stop(h);
	deferred_run(db);
}

bool commit_idle(const struct db *db)
{
	return db->queue_head == NULL && db->deferred_head == NULL &&
	       db->entry_appends == 0 && db->commits_waiting == 0;
}

/* Checks --------------------------------------------------------------- */

static int check_reads(const struct db_tx *tx, char *errmsg)
{
	const struct graph *g = tx->db->graph;
	const struct idmap *m = &tx->reads;

	for (size_t i = 0; i < m->cap; i++) {
		uint64_t key = m->keys[i], id = key & (DB_MAX_ID - 1), now;
		bool node = key >> 62 == DB_KEY_NODE;

		if (key == IDMAP_EMPTY)
			continue;
		now = node ? graph_node_version(g, id) : graph_rel_version(g, id);
		if (now != m->vals[i])
			return graft_errf(errmsg, GRAFT_ECONFLICT,
					  "%s %llu was changed by transaction "
					  "%llu after this transaction read it; "
					  "retry the transaction",
					  node ? "node" : "relationship",
					  (unsigned long long)id,
					  (unsigned long long)now);
	}
	return GRAFT_OK;
}

/* Whether node op i of r (labels, properties) needs no key of its own: the
 * key of the op before names the same node, or the record creates the node
 * (its create's key covers it). Records put node creates first, in
 * ascending ids, and then each node's other ops together, ascending within
 * the created and the touched ones (record.c), so *create, the next create
 * op to compare with, only moves forward; another order only costs keys. */
/* enum txrec_op_type puts the node ops first. */
_Static_assert(TXREC_NODE_CREATE < TXREC_NODE_SET_PROP &&
		       TXREC_NODE_DELETE < TXREC_NODE_SET_PROP &&
		       TXREC_NODE_ADD_LABEL < TXREC_NODE_SET_PROP &&
		       TXREC_NODE_REMOVE_LABEL < TXREC_NODE_SET_PROP &&
		       TXREC_REL_CREATE > TXREC_NODE_SET_PROP,
	       "node ops come first");

/* Whether node op i of r (labels, properties) needs no key of its own: the
 * key of the op before names the same node, or the record's run of creates
 * makes the node (its create's key covers it). Another order than
 * record.c's only costs keys. */
static bool node_key_covered(const struct txrec *r, size_t i, size_t n_creates,
			     size_t *create)
{
	uint64_t id = r->ops[i].id;

	if (i > 0 && r->ops[i - 1].type <= TXREC_NODE_SET_PROP &&
	    r->ops[i - 1].id == id)
		return true;
	return apply_created_in_run(r, n_creates, create, id);
}

/* Keys of what the record writes, for the pending set, into keys; their
 * number (keys NULL: only that). One key per node, not per op: a load of
 * a million nodes made five million, and a pending table of 256 MiB. */
static size_t written_keys(const struct db *db, const struct txrec *r,
			   uint64_t *keys)
{
	size_t n = 0, n_creates = apply_creates_run(r), create = 0;
	uint64_t add[3];

	for (size_t i = 0; i < r->n_ops; i++) {
		const struct txrec_op *op = &r->ops[i];
		struct graph_rel_ends ends;
		uint32_t label, key;
		size_t k = 0;

		switch (op->type) {
		case TXREC_REL_CREATE:
			/* An end the record creates has its create's key. */
			add[k++] = db_key(DB_KEY_REL, op->id);
			if (!apply_in_creates_run(r, n_creates, op->src))
				add[k++] = db_key(DB_KEY_NODE, op->src);
			if (op->dst != op->src &&
			    !apply_in_creates_run(r, n_creates, op->dst))
				add[k++] = db_key(DB_KEY_NODE, op->dst);
			break;
		case TXREC_REL_DELETE:
			/* Its ends' degrees change: a node delete must see it. */
			add[k++] = db_key(DB_KEY_REL, op->id);
			if (keys == NULL) {
				k += 2;
				break;
			}
			graph_rel_ends(db->graph, op->id, &ends);
			add[k++] = db_key(DB_KEY_NODE, ends.src);
			add[k++] = db_key(DB_KEY_NODE, ends.dst);
			break;
		case TXREC_REL_SET_PROP:
			add[k++] = db_key(DB_KEY_REL, op->id);
			break;
		case TXREC_INDEX_CREATE:
		case TXREC_INDEX_DROP:
			if (keys == NULL) {
				k++;
				break;
			}
			label = graph_token_lookup(db->graph, GRAPH_TOKEN_LABEL,
						   op->name->data, op->name->len);
			key = graph_token_lookup(db->graph, GRAPH_TOKEN_PROPKEY,
						 op->name2->data,
						 op->name2->len);
			add[k++] = db_key(DB_KEY_INDEX,
					  (uint64_t)label << 32 | key);
			break;
		case TXREC_NODE_CREATE:
		case TXREC_NODE_DELETE:
			add[k++] = db_key(DB_KEY_NODE, op->id);
			break;
		default:
			if (!node_key_covered(r, i, n_creates, &create))
				add[k++] = db_key(DB_KEY_NODE, op->id);
			break;
		}
		for (size_t j = 0; j < k; j++, n++)
			if (keys != NULL)
				keys[n] = add[j];
	}
	return n;
}

size_t commit_keys(const struct db *db, const struct txrec *r,
		   uint64_t *keys)
{
	return written_keys(db, r, keys);
}

const struct db_inflight *inflight_next(const struct db_inflight *c)
{
	return c->next;
}

const struct txrec *inflight_record(const struct db_inflight *c)
{
	return &c->req->rec;
}

static const char *key_kind_name(uint64_t key)
{
	switch (key >> 62) {
	case DB_KEY_NODE:
		return "node";
	case DB_KEY_REL:
		return "relationship";
	case DB_KEY_GUARD:
		return "unique value";
	default:
		return "index";
	}
}

/* Whether a commit in flight writes key: one of db->pending's, or of a
 * big commit's own table. */
static bool pending_has(const struct db *db, uint64_t key)
{
	if (idmap_get(&db->pending, key) != NULL)
		return true;
	for (const struct db_inflight *b = db->queue_head;
	     b != NULL && db->n_big > 0; b = b->next)
		if (b->big && idmap_get(&b->own, key) != NULL)
			return true;
	return false;
}

/* A key of table a that table b holds too, or IDMAP_EMPTY: the smaller
 * one is walked. */
static uint64_t common_key(const struct idmap *a, const struct idmap *b)
{
	if (a->len > b->len) {
		const struct idmap *t = a;

		a = b;
		b = t;
	}
	for (size_t i = 0; i < a->cap && a->len > 0; i++)
		if (a->keys[i] != IDMAP_EMPTY && idmap_get(b, a->keys[i]) != NULL)
			return a->keys[i];
	return IDMAP_EMPTY;
}

/* A key big commit c writes that a commit in flight writes too, or
 * IDMAP_EMPTY: the small commits' keys (few) are looked up in c's table. */
static uint64_t big_pending_hit(const struct db *db,
				const struct db_inflight *c)
{
	uint64_t hit = common_key(&db->pending, &c->own);

	for (const struct db_inflight *b = db->queue_head;
	     b != NULL && hit == IDMAP_EMPTY && db->n_big > 0; b = b->next)
		if (b->big && b != c)
			hit = common_key(&b->own, &c->own);
	return hit;
}

/* A commit in flight that writes what this one read or writes would make
 * this one's validation stale by the time it applies. */
static int check_pending(const struct db *db, const struct txrec *r,
			 const struct db_inflight *c, char *errmsg)
{
	uint64_t hit = IDMAP_EMPTY;

	if (db->pending.len == 0 && db->n_big == 0)
		return GRAFT_OK;
	for (size_t i = 0; i < r->n_reads && hit == IDMAP_EMPTY; i++) {
		uint64_t key = db_key(r->reads[i].entity == TXREC_ENTITY_NODE
					      ? DB_KEY_NODE
					      : DB_KEY_REL,
				      r->reads[i].id);

		if (pending_has(db, key))
			hit = key;
	}
	for (size_t i = 0; i < c->n_keys && hit == IDMAP_EMPTY; i++) {
		if (pending_has(db, c->keys[i]))
			hit = c->keys[i];
	}
	if (hit == IDMAP_EMPTY && c->big)
		hit = big_pending_hit(db, c);
	if (hit == IDMAP_EMPTY)
		return GRAFT_OK;
	if (hit >> 62 == DB_KEY_INDEX || hit >> 62 == DB_KEY_GUARD)
		return graft_errf(errmsg, GRAFT_ECONFLICT,
				  "a concurrent transaction that is committing "
				  "now changes the same %s; retry the "
				  "transaction",
				  hit >> 62 == DB_KEY_INDEX ? "index"
							    : "unique value");
	return graft_errf(errmsg, GRAFT_ECONFLICT,
			  "%s %llu is changed by a concurrent transaction that "
			  "is committing now; retry the transaction",
			  key_kind_name(hit),
			  (unsigned long long)(hit & (DB_MAX_ID - 1)));
}

static void pending_add(struct db *db, const struct db_inflight *c)
{
	if (c->big)
		db->n_big++;
	for (size_t i = 0; i < c->n_keys; i++) {
		uint64_t *slot;

		/* Reserved before the append: cannot fail here. */
		if (idmap_put(&db->pending, c->keys[i], &slot, NULL) != GRAFT_OK)
			abort();
		(*slot)++;
	}
}

static void pending_remove(struct db *db, const struct db_inflight *c)
{
	if (c->big)
		db->n_big--;
	for (size_t i = 0; i < c->n_keys; i++) {
		uint64_t *slot = idmap_get(&db->pending, c->keys[i]);

		GRAFT_CHECK(slot != NULL && *slot > 0);
		if (--*slot == 0)
			idmap_del(&db->pending, c->keys[i]);
	}
}

/* Logging and applying ------------------------------------------------- */

static void log_failure_msg(const struct db *db, int status, char *errmsg)
{
	if (status == GRAFT_ENOSPC)
		graft_errf(errmsg, status,
			   "database %s: the transaction log in %s could not be "
			   "written (no space left on device): the transaction "
			   "was not committed; free disk space, then retry the "
			   "transaction",
			   db->name, db->txlog_dir);
	else
		graft_errf(errmsg, status,
			   "database %s: the transaction log in %s could not be "
			   "written (%s): the transaction was not committed; "
			   "check the disk and the system log, then retry the "
			   "transaction",
			   db->name, db->txlog_dir, graft_strerror(status));
}

/* A durable record that cannot be applied: the graph would differ from
 * the log. */
static void apply_failed(struct db *db, struct db_inflight *c)
{
	graft_error("database %s: transaction %llu is durable in the log but "
		    "cannot be applied (%s); stopping so that the graph never "
		    "differs from the log",
		    db->name, (unsigned long long)c->txid, c->req->errmsg);
	abort();
}

/* The record is freed right after: the graph takes its values. */
static int finish_apply(struct db *db, struct db_inflight *c)
{
	struct db_commit_req *req = c->req;

	return apply_commit(db, &req->rec, &req->rec, c->txid, 0,
			    c->validated_at == db->last_applied, req->errmsg);
}

/* The end of c (applied or not, as status says): its callback. */
static void finish_end(struct db *db, struct db_inflight *c)
{
	struct db_commit_req *req = c->req;
	int status = c->status;

	if (status == GRAFT_OK)
		req->txid = c->txid;
	pending_remove(db, c);
	inflight_free(db, c);
	req->cb(req, status);
}

static void finish(struct db *db, struct db_inflight *c)
{
	if (db->repl == NULL && c->status == GRAFT_OK) {
		if (finish_apply(db, c) != GRAFT_OK)
			apply_failed(db, c);
	} else if (db->repl == NULL) {
		if (db->log_failure == GRAFT_OK)
			db->log_failure = c->status;
		log_failure_msg(db, c->status, c->req->errmsg);
	}
	finish_end(db, c);
}

static void drain_run(struct graft_gate_task *t);

/* On a thread of libuv's pool, holding the gate: the head commit's
 * apply. */
static void drain_work(struct graft_gate_task *t)
{
	struct db *db = t->data;

	apply_off_loop_begin(&db->drain_applied);
	db->drain_status = finish_apply(db, db->queue_head);
	apply_off_loop_end();
}

static void drain_pop(struct db *db)
{
	db->queue_head = db->queue_head->next;
	if (db->queue_head == NULL)
		db->queue_tail = NULL;
}

/* Back on the loop: the rest of the head commit, then the drain goes on. */
static void drain_work_done(struct graft_gate_task *t)
{
	struct db *db = t->data;
	struct db_inflight *c = db->queue_head;

	db->drain_off = false;
	t->fn = drain_run;
	if (db->drain_status != GRAFT_OK)
		apply_failed(db, c);
	apply_off_loop_finish(&db->drain_applied);
	drain_pop(db);
	finish_end(db, c);
	drain_run(t);
}

/* Whether the drain (a task of the gate) applies c off the loop. */
static bool drain_offloads(const struct db *db, const struct db_inflight *c)
{
	return db->repl == NULL && db->o.gate != NULL &&
	       c->status == GRAFT_OK && c->req->rec.n_ops >= DB_OFF_LOOP_OPS;
}

static void drain(struct db *db)
{
	struct db_inflight *c;

	if (db->draining)
		return;
	db->draining = true;
	while ((c = db->queue_head) != NULL && c->done) {
		if (drain_offloads(db, c)) {
			db->drain_off = true;
			db->drain_task.fn = drain_work_done;
			graft_gate_offload(db->o.gate, &db->drain_task,
					   drain_work);
			db->draining = false;
			return;
		}
		drain_pop(db);
		finish(db, c);
	}
	db->draining = false;
	if (db->queue_head == NULL) {
		/* Everything logged is applied; after a failed batch the log
		 * takes appends again from the first id that failed. */
		db->log_failure = GRAFT_OK;
		db->next_txid = db->last_applied + 1;
		db_maybe_finish_close(db);
	}
}

static void drain_run(struct graft_gate_task *t)
{
	drain(t->data);
}

/* Applies hold the gate: no reader is between two rows meanwhile. The
 * drain applying off the loop picks up what became durable meanwhile. */
static void append_cb(struct txlog_append_req *areq, int status)
{
	struct db_inflight *c = areq->data;
	struct db *db = c->req->db;

	c->status = status;
	c->done = true;
	if (db->drain_off)
		return;
	db->drain_task.data = db;
	db->drain_task.fn = drain_run;
	graft_gate_run(db->o.gate, &db->drain_task);
}

void commit_withdraw(struct db *db, struct db_inflight *c, int status,
		     const char *errmsg)
{
	struct db_inflight **p = &db->queue_head, *prev = NULL;
	struct db_commit_req *req = c->req;

	GRAFT_CHECK(c->next == NULL && db->queue_tail == c);
	while (*p != c) {
		prev = *p;
		p = &prev->next;
	}
	*p = NULL;
	db->queue_tail = prev;
	db->next_txid--;
	pending_remove(db, c);
	inflight_free(db, c);
	snprintf(req->errmsg, sizeof req->errmsg, "%s", errmsg);
	defer(db, req, status);
}

void db_inflight_done(struct db_inflight *c, int status, const char *errmsg)
{
	struct db_commit_req *req = c->req;

	c->status = status;
	c->done = true;
	if (status != GRAFT_OK && errmsg != NULL)
		snprintf(req->errmsg, sizeof req->errmsg, "%s", errmsg);
	drain(req->db);
}

void db_set_replicator(struct db *db, const struct db_replicator_ops *ops,
		       void *data)
{
	db->repl = ops;
	db->repl_data = data;
}

/* r encoded into out: in the log's frame (so that hundreds of megabytes
 * are not copied again), or (replicated) as an entry, whose transaction id
 * send_record stamps. */
static int encode_record(const struct db_replicator_ops *repl,
			 const struct txrec *r, struct graft_buf *out)
{
	int rv;

	if (repl != NULL) {
		graft_buf_reset(out);
		return entry_encode(out, 0, r);
	}
	rv = txlog_frame_begin(out);
	if (rv == GRAFT_OK)
		rv = txrec_encode(r, out);
	return rv;
}

/* A big commit's entry, as proposed, stays with c until it applies here
 * (commit_claim_entry): the copy db_tx_prepare kept, or (none made) the
 * encoding send_record used, which the replicator copied. sent: the
 * memory enc held when it was proposed. */
static void keep_entry(struct db_commit_req *req, struct db_inflight *c,
		       struct graft_buf *enc, const void *sent)
{
	if (req->kept.len > 0) {
		c->entry = req->kept;
		graft_buf_init(&req->kept);
		c->handed = enc->data == NULL ? sent : NULL;
	} else if (enc->data != NULL) {
		c->entry = *enc;
		graft_buf_init(enc);
	}
}

/* Hands the encoded record to the log, or (replicated) proposes it as an
 * entry stamped with its expected transaction id. The encoding
 * db_tx_prepare made is used when it was made for this mode; the
 * replicator may take it as it is (propose_buf): that memory was
 * allocated and filled on the statement's worker, not here. */
static int send_record(struct db *db, struct db_inflight *c)
{
	struct db_commit_req *req = c->req;
	struct graft_buf *enc = &req->frame;
	const void *sent;
	int rv = GRAFT_OK;

	if (enc->len == 0) {
		enc = &db->enc;
		rv = encode_record(db->repl, &req->rec, enc);
	}
	if (rv == GRAFT_OK && db->repl == NULL)
		return txlog_append_frame(db->log, &c->append, c->txid, enc,
					  append_cb);
	if (rv != GRAFT_OK)
		return rv;
	entry_stamp(enc, c->txid);
	if (req->kept.len > 0)
		entry_stamp(&req->kept, c->txid);
	if (db->group != NULL)
		return commit_group_collect(db->group, db, c, enc);
	sent = enc->data;
	if (enc == &req->frame && db->repl->propose_buf != NULL)
		rv = db->repl->propose_buf(db->repl_data, db, enc, c,
					   req->errmsg);
	else
		rv = db->repl->propose(db->repl_data, db, enc->data, enc->len,
				       c, req->errmsg);
	if (rv == GRAFT_OK && c->big)
		keep_entry(req, c, enc, sent);
	return rv;
}

bool db_replicated(const struct db *db)
{
	return db->repl != NULL;
}

size_t db_tx_changes(const struct db_tx *tx)
{
	return tx->created_nodes.n + tx->touched_nodes.n +
	       tx->created_rels.n + tx->touched_rels.n;
}

/* A big replicated entry in two copies, made here on the statement's
 * worker rather than on the loop when it is proposed (a 100k nodes + 100k
 * relationships entry took the loop ~28 ms to copy): an exact-size copy
 * for the replicator to take, and the encoding itself, which the commit
 * keeps until the entry applies here (struct db_inflight entry). */
static int split_entry(struct db_tx *tx)
{
	uint8_t *copy = malloc(tx->frame.len);

	if (copy == NULL)
		return GRAFT_ENOMEM;
	memcpy(copy, tx->frame.data, tx->frame.len);
	tx->kept = tx->frame;
	tx->frame.data = copy;
	tx->frame.cap = tx->frame.len;
	return GRAFT_OK;
}

void db_tx_prepare(struct db_tx *tx)
{
	int rv;

	if (!tx->wrote || tx->oom || tx->prepared || tx->n_indexes > 0)
		return;
	txrec_init(&tx->rec);
	graft_buf_init(&tx->frame);
	graft_buf_init(&tx->kept);
	tx->frame_for = tx->db->repl;
	rv = record_build(tx, &tx->rec);
	if (rv == GRAFT_OK && tx->rec.n_ops > 0)
		rv = encode_record(tx->frame_for, &tx->rec, &tx->frame);
	if (rv == GRAFT_OK && tx->frame_for != NULL &&
	    tx->rec.n_ops >= DB_OFF_LOOP_OPS)
		rv = split_entry(tx);
	tx->prepared = true;
	/* the overlay's values may be in the record by now: nothing else
	 * can commit it */
	if (rv != GRAFT_OK)
		tx->oom = true;
	/* Here, on the statement's worker, rather than on the loop at
	 * db_commit: the overlay of a load of 100k nodes and relationships
	 * took the loop tens of milliseconds to free. */
	tx_free_overlay(tx);
}

/* The record db_tx_prepare built (and its encoding, when made for the
 * mode the database is in now), moved into req. */
static void take_prepared(struct db_tx *tx, struct db_commit_req *req)
{
	req->rec = tx->rec;
	txrec_init(&tx->rec);
	if (tx->frame_for == tx->db->repl) {
		req->frame = tx->frame;
		req->kept = tx->kept;
		graft_buf_init(&tx->frame);
		graft_buf_init(&tx->kept);
	}
}

/* Whether entry is c's, byte for byte. The memory the replicator took is
 * the entry's identity: libraft applies the very buffer it was given, and
 * frees it only once the entry has left its log, which (before the entry
 * applied) takes a step down, which ends c's proposal at once
 * (RAFT_LEADERSHIPLOST: c is done). So the same address on a commit not
 * done is the same bytes; only their ends are compared (the header with
 * the stamped id, the last page), a check worth nothing in time, where
 * comparing all of a 100 MB entry took the loop milliseconds. Otherwise
 * (a replicator that copied) every byte is compared. */
static bool entry_is(const struct db_inflight *c, const void *entry,
		     size_t len)
{
	const uint8_t *e = entry;
	size_t n = len < 4096 ? len : 4096;

	if (c->handed == NULL)
		return memcmp(c->entry.data, entry, len) == 0;
	return entry == c->handed && memcmp(c->entry.data, e, n) == 0 &&
	       memcmp(c->entry.data + len - n, e + len - n, n) == 0;
}

bool commit_claim_entry(struct db *db, const void *entry, size_t len,
			struct graft_buf *out, uint64_t *validated_at)
{
	struct db_inflight *c = db->queue_head;

	if (c == NULL || c->done || c->entry.len != len ||
	    !entry_is(c, entry, len))
		return false;
	*out = c->entry;
	*validated_at = c->validated_at;
	graft_buf_init(&c->entry);
	c->handed = NULL;
	return true;
}

/* A commit in flight with room for the keys of r: at most three per op (a
 * relationship and its ends), and the guards. Only what is written is ever
 * touched, so the bound costs no memory, and it spares a pass over a
 * record of millions of ops to count them. */
static struct db_inflight *inflight_new(const struct db_commit_req *req)
{
	size_t max_keys = 3 * req->rec.n_ops + req->n_guards;

	return malloc(sizeof(struct db_inflight) + max_keys * sizeof(uint64_t));
}

/* c with room for its keys only. */
static struct db_inflight *inflight_trim(struct db_inflight *c)
{
	struct db_inflight *t =
		realloc(c, sizeof *c + c->n_keys * sizeof *c->keys);

	return t != NULL ? t : c; /* a shrink that fails keeps c */
}

/* The rest of log_record once rec is validated (rv) and c holds its keys
 * (with its guards'): the commits in flight, the transaction id, the log.
 * Takes req->guards. GRAFT_OK when the callback will run; an error when
 * it will not. */
static int log_validated(struct db *db, struct db_commit_req *req,
			 struct db_inflight *c, int rv)
{
	if (rv == GRAFT_OK)
		rv = check_pending(db, &req->rec, c, req->errmsg);
	graft_mem_free(req->guards);
	req->guards = NULL;
	if (rv == GRAFT_OK && db->log_failure != GRAFT_OK) {
		rv = db->log_failure;
		log_failure_msg(db, rv, req->errmsg);
	}
	if (rv == GRAFT_ECONFLICT || rv == GRAFT_ENOSPC || rv == GRAFT_EIO) {
		inflight_free(db, c);
		defer(db, req, rv);
		return GRAFT_OK;
	}
	/* Room in the pending set first, so that adding cannot fail later. */
	if (rv == GRAFT_OK)
		rv = idmap_reserve(&db->pending, c->n_keys);
	/* A member that was a follower applied entries without this queue:
	 * its next id follows what it applied. */
	if (db->repl != NULL && db->queue_head == NULL)
		db->next_txid = db->last_applied + 1;
	c->txid = db->next_txid;
	c->append.data = c;
	if (rv == GRAFT_OK)
		rv = send_record(db, c);
	graft_buf_free(&req->frame); /* the log or the replicator has it */
	if (rv != GRAFT_OK)
		goto err_after_alloc;
	db->next_txid++;
	pending_add(db, c);
	if (db->queue_tail != NULL)
		db->queue_tail->next = c;
	else
		db->queue_head = c;
	db->queue_tail = c;
	return GRAFT_OK;

err_after_alloc:
	idmap_free(&c->own); /* the caller frees the record */
	free(c);
	return rv;
}

/* Validation against the graph as it is now, and the keys rec writes
 * (with its guards'). */
static int validate(struct db *db, struct db_commit_req *req,
		    struct db_inflight *c)
{
	int rv = apply_validate(db, &req->rec, req->errmsg);

	c->validated_at = db->last_applied;
	if (rv != GRAFT_OK)
		return rv;
	c->n_keys = written_keys(db, &req->rec, c->keys);
	for (size_t i = 0; i < req->n_guards; i++)
		c->keys[c->n_keys++] = req->guards[i];
	return GRAFT_OK;
}

/* A big commit's keys into its own table (struct db_inflight). */
static int inflight_own(struct db_inflight *c)
{
	int rv = idmap_reserve(&c->own, c->n_keys);

	for (size_t i = 0; i < c->n_keys && rv == GRAFT_OK; i++) {
		uint64_t *slot;

		rv = idmap_put(&c->own, c->keys[i], &slot, NULL);
	}
	if (rv != GRAFT_OK) {
		idmap_free(&c->own);
		return rv;
	}
	c->big = true;
	c->n_keys = 0;
	return GRAFT_OK;
}

/* On a thread of libuv's pool, holding the gate: validation, the keys in
 * their table. */
static void validate_work(struct graft_gate_task *t)
{
	struct db_commit_req *req = t->data;
	struct db_inflight *c = req->inflight;
	int rv = validate(req->db, req, c);

	if (rv == GRAFT_OK)
		rv = inflight_own(c);
	req->inflight = inflight_trim(c);
	req->status = rv;
}

static void validate_done(struct graft_gate_task *t)
{
	struct db_commit_req *req = t->data;
	struct db *db = req->db;
	int rv;

	db->commits_waiting--;
	rv = log_validated(db, req, req->inflight, req->status);
	req->status = GRAFT_OK;
	if (rv != GRAFT_OK) {
		commit_req_free(req);
		defer(db, req, rv);
	}
}

static void validate_start(struct graft_gate_task *t)
{
	struct db_commit_req *req = t->data;

	t->fn = validate_done;
	graft_gate_offload(req->db->o.gate, t, validate_work);
}

/* Takes req->rec (complete) and req->guards to the log, validating a
 * record of DB_OFF_LOOP_OPS or more off the loop: as a task of the gate,
 * so that nothing changes the graph meanwhile and commits given meanwhile
 * validate after it. GRAFT_OK when the callback will run; an error when it
 * will not. */
static int log_record(struct db *db, struct db_commit_req *req)
{
	struct db_inflight *c = inflight_new(req);

	if (c == NULL) {
		graft_mem_free(req->guards);
		req->guards = NULL;
		return GRAFT_ENOMEM;
	}
	c->next = NULL;
	c->req = req;
	c->done = false;
	c->status = GRAFT_OK;
	c->big = false;
	idmap_init(&c->own);
	graft_buf_init(&c->entry);
	c->handed = NULL;
	c->n_keys = 0;
	/* A group's commits are proposed together, at once. */
	if (db->o.gate == NULL || db->group != NULL ||
	    req->rec.n_ops < DB_OFF_LOOP_OPS) {
		int rv = validate(db, req, c);

		return log_validated(db, req, inflight_trim(c), rv);
	}
	req->inflight = c;
	req->task.data = req;
	req->task.fn = validate_start;
	db->commits_waiting++;
	graft_gate_run(db->o.gate, &req->task);
	return GRAFT_OK;
}

/* The commit of tx, which wrote: validation, the record, the log. */
static int commit_writes(struct db_tx *tx, struct db_commit_req *req)
{
	struct db *db = tx->db;
	bool undone;
	int rv = check_reads(tx, req->errmsg);

	if (rv == GRAFT_OK)
		rv = pred_validate(tx, req->errmsg);
	if (rv != GRAFT_OK) {
		tx_free(tx);
		defer(db, req, rv);
		return GRAFT_OK;
	}
	if (tx->prepared)
		take_prepared(tx, req);
	else
		rv = record_build(tx, &req->rec);
	req->guards = tx->guards.v; /* the commit carries them from here */
	req->n_guards = tx->guards.n;
	tx->guards.v = NULL;
	tx_free(tx);
	/* n_ops 0: every change was undone within the transaction */
	undone = rv == GRAFT_OK && req->rec.n_ops == 0;
	if (rv == GRAFT_OK && !undone) {
		rv = log_record(db, req); /* takes the guards */
	} else {
		graft_mem_free(req->guards);
		req->guards = NULL;
	}
	if (undone) {
		commit_req_free(req);
		defer(db, req, GRAFT_OK);
		return GRAFT_OK;
	}
	if (rv != GRAFT_OK)
		commit_req_free(req);
	return rv;
}

/* Its turn came, behind an apply that ran off the loop. */
static void commit_waited(struct graft_gate_task *t)
{
	struct db_commit_req *req = t->data;
	struct db *db = req->db;
	int rv;

	db->commits_waiting--;
	rv = db->closing ? GRAFT_ESHUTDOWN : GRAFT_OK;
	if (rv == GRAFT_OK)
		rv = commit_writes(req->tx, req);
	else
		tx_free(req->tx);
	if (rv != GRAFT_OK)
		defer(db, req, rv);
}

int db_commit(struct db_tx *tx, struct db_commit_req *req, db_commit_cb cb)
{
	struct db *db = tx->db;
	int rv;

	req->db = db;
	req->cb = cb;
	req->txid = 0;
	req->errmsg[0] = '\0';
	req->status = GRAFT_OK;
	req->next = NULL;
	req->guards = NULL;
	req->n_guards = 0;
	req->tx = NULL;
	req->inflight = NULL;
	/* The caller's struct is not zeroed: a task marked queued by chance
	 * would never be queued (graft_gate_run), and the commit never end. */
	req->task.queued = false;
	txrec_init(&req->rec);
	graft_buf_init(&req->frame);
	graft_buf_init(&req->kept);
	if (db->closing) {
		tx_free(tx);
		return GRAFT_ESHUTDOWN;
	}
	if (tx->oom) {
		tx_free(tx);
		return GRAFT_ENOMEM;
	}
	/* its predicates would be judged against freed versions */
	rv = tx->wrote || tx->validate ? db_tx_check(tx, req->errmsg)
				       : GRAFT_OK;
	if (rv != GRAFT_OK) {
		tx_free(tx);
		return rv;
	}
	/* (validate without writes: an empty record, committed as undone) */
	if (!tx->wrote && !tx->validate) {
		tx_free(tx);
		defer(db, req, GRAFT_OK);
		return GRAFT_OK;
	}
	/* Validation reads the graph, which an apply off the loop is
	 * changing: its turn comes after that apply, in the order given. */
	if (graft_gate_offloaded(db->o.gate)) {
		req->tx = tx;
		req->task.data = req;
		req->task.fn = commit_waited;
		db->commits_waiting++;
		graft_gate_run(db->o.gate, &req->task);
		return GRAFT_OK;
	}
	return commit_writes(tx, req);
}
