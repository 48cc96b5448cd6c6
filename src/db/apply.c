/* Validation and application of one transaction record: the single path by
 * which commits, recovery and (later) replicas change a graph.
 *
 * Validation runs the whole record against the committed graph before
 * anything changes, keeping a scratch state per entity the record touches
 * (alive or not, relationships it created on a node), so that later ops see
 * the effect of earlier ones: every read's version must be current; created
 * ids must never have existed; labels, properties and deletes must target
 * live entities; relationship ends must be live; a node may be deleted only
 * when none of its relationships survive the ops before it; an index may be
 * created only where none exists and dropped only where one does. The same
 * record against the same graph always gives the same answer, so every
 * member accepts or rejects it alike. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "../util/log.h"
#include "db_int.h"

/* Scratch state: low bits are flags, the rest a number (for nodes: live
 * relationships created by this record on it; for relationships created by
 * this record: the index of their create op). */
#define VS_LIVE 1u
#define VS_CREATED 2u
#define VS_SHIFT 8

static bool graph_exists(const struct graph *g, enum db_key_kind kind,
			 uint64_t id)
{
	return kind == DB_KEY_NODE ? graph_node_exists(g, id)
				   : graph_rel_exists(g, id);
}

/* Validation's walk through a record. A record that starts with a run of
 * node creates of ascending ids (as commits make them) spares the lookups
 * of its ops on those nodes: a create in the run cannot repeat an earlier
 * op's id, and a node it creates is live until a node delete comes. The
 * run's nodes get no scratch state until an op after the run needs one
 * (they count as existing, as the graph's nodes do). A million-node load
 * made ten lookups per node in a table of millions. */
struct walk {
	const struct txrec *rec;
	size_t n_creates; /* apply_creates_run */
	size_t at;        /* apply_created_in_run's position */
	bool deleted;     /* a node delete came before */
	/* A record without deletes (a load) needs no count of the
	 * relationships it creates on each node (only a node delete reads
	 * them), and no state for the relationships it creates while their
	 * ids ascend (as commits make them: no id can repeat) and each of
	 * their property ops follows the create or another op on the same
	 * relationship: a load of 100k relationships made 300k insertions
	 * into the scratch table. Otherwise rels_kept: the relationships
	 * created so far get their state (keep_rels), as with deletes. */
	bool no_deletes;
	bool rels_kept;
	bool any_rel;      /* a relationship create came before */
	uint64_t last_rel; /* its id */
};

bool apply_in_creates_run(const struct txrec *rec, size_t n, uint64_t id)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (rec->ops[mid].id == id)
			return true;
		if (rec->ops[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* Whether the run creates node id (any position). */
static bool in_run(const struct walk *w, uint64_t id)
{
	return apply_in_creates_run(w->rec, w->n_creates, id);
}

/* Whether an entity without scratch state exists: in the graph, or (a
 * node) created by the run. */
static bool exists(struct db *db, const struct walk *w, enum db_key_kind kind,
		   uint64_t id)
{
	return graph_exists(db->graph, kind, id) ||
	       (kind == DB_KEY_NODE && in_run(w, id));
}

/* The scratch state of an entity, taken from the graph and the run on
 * first use. The pointer is valid until the next insertion. */
static int vstate(struct db *db, const struct walk *w, enum db_key_kind kind,
		  uint64_t id, uint64_t **st)
{
	bool added;

	if (idmap_put(&db->vstate, db_key(kind, id), st, &added) != GRAFT_OK)
		return GRAFT_ENOMEM;
	if (added)
		**st = exists(db, w, kind, id) ? VS_LIVE : 0;
	return GRAFT_OK;
}

static bool live(struct db *db, const struct walk *w, enum db_key_kind kind,
		 uint64_t id)
{
	uint64_t *st = idmap_get(&db->vstate, db_key(kind, id));

	return st != NULL ? (*st & VS_LIVE) != 0 : exists(db, w, kind, id);
}

static bool graph_never_had(const struct graph *g, enum db_key_kind kind,
			    uint64_t id)
{
	return kind == DB_KEY_NODE
		       ? !graph_node_exists(g, id) && graph_node_version(g, id) == 0
		       : !graph_rel_exists(g, id) && graph_rel_version(g, id) == 0;
}

static bool never_existed(struct db *db, const struct walk *w,
			  enum db_key_kind kind, uint64_t id)
{
	return idmap_get(&db->vstate, db_key(kind, id)) == NULL &&
	       graph_never_had(db->graph, kind, id) &&
	       !(kind == DB_KEY_NODE && in_run(w, id));
}

size_t apply_creates_run(const struct txrec *rec)
{
	size_t n = 0;

	while (n < rec->n_ops && rec->ops[n].type == TXREC_NODE_CREATE &&
	       (n == 0 || rec->ops[n].id > rec->ops[n - 1].id))
		n++;
	return n;
}

bool apply_created_in_run(const struct txrec *rec, size_t n, size_t *at,
			  uint64_t id)
{
	while (*at < n && rec->ops[*at].id < id)
		(*at)++;
	return *at < n && rec->ops[*at].id == id;
}


/* Whether node op i is on a node the run created, still live. */
static bool created_live(const struct txrec *rec, size_t i, struct walk *w)
{
	return !w->deleted &&
	       apply_created_in_run(rec, w->n_creates, &w->at, rec->ops[i].id);
}

static int check_reads(struct db *db, const struct txrec *rec, char *errmsg)
{
	const struct graph *g = db->graph;

	for (size_t i = 0; i < rec->n_reads; i++) {
		const struct txrec_read *rd = &rec->reads[i];
		bool node = rd->entity == TXREC_ENTITY_NODE;
		uint64_t now;

		if (rd->id >= DB_MAX_ID)
			now = 0;
		else
			now = node ? graph_node_version(g, rd->id)
				   : graph_rel_version(g, rd->id);
		if (now != rd->version)
			return graft_errf(errmsg, GRAFT_ECONFLICT,
					  "%s %" PRIu64 " was changed by "
					  "transaction %" PRIu64 " after the "
					  "transaction read it at version %"
					  PRIu64 "; retry the transaction",
					  node ? "node" : "relationship", rd->id,
					  now, rd->version);
	}
	return GRAFT_OK;
}

static bool same_str(const struct graft_str *a, const struct graft_str *b)
{
	return a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
}

/* Whether the index of op i exists after ops 0..i-1. */
static bool index_exists(struct db *db, const struct txrec *rec, size_t i)
{
	const struct txrec_op *op = &rec->ops[i];
	uint32_t label, key;

	while (i-- > 0) {
		const struct txrec_op *o = &rec->ops[i];

		if ((o->type == TXREC_INDEX_CREATE ||
		     o->type == TXREC_INDEX_DROP) &&
		    same_str(o->name, op->name) && same_str(o->name2, op->name2))
			return o->type == TXREC_INDEX_CREATE;
	}
	label = graph_token_lookup(db->graph, GRAPH_TOKEN_LABEL, op->name->data,
				   op->name->len);
	key = graph_token_lookup(db->graph, GRAPH_TOKEN_PROPKEY,
				 op->name2->data, op->name2->len);
	return label != GRAPH_NO_TOKEN && key != GRAPH_NO_TOKEN &&
	       graph_index_exists(db->graph, label, key);
}

static int conflict(char *errmsg, size_t i, const struct txrec_op *op,
		    const char *what)
{
	return graft_errf(errmsg, GRAFT_ECONFLICT,
			  "operation %zu (type %u, id %" PRIu64 "): %s; retry "
			  "the transaction",
			  i, op->type, op->id, what);
}

/* A node delete: nothing the graph holds on it may survive, nor anything
 * the record created on it. */
static int check_node_delete(struct db *db, const struct walk *w, size_t i,
			     const struct txrec_op *op, char *errmsg)
{
	const struct graph *g = db->graph;
	struct graph_expand it;
	uint64_t *st, rel;

	if (vstate(db, w, DB_KEY_NODE, op->id, &st) != GRAFT_OK)
		return GRAFT_ENOMEM;
	if (!(*st & VS_LIVE))
		return conflict(errmsg, i, op, "the node does not exist");
	if (*st >> VS_SHIFT != 0)
		return conflict(errmsg, i, op,
				"the node still has relationships");
	*st &= ~(uint64_t)VS_LIVE;
	if (!graph_node_exists(g, op->id))
		return GRAFT_OK;
	graph_expand_init(&it, g, op->id, GRAPH_BOTH, GRAPH_NO_TOKEN);
	while ((rel = graph_expand_next(g, &it)) != GRAPH_NO_ID) {
		if (live(db, w, DB_KEY_REL, rel))
			return conflict(errmsg, i, op,
					"the node still has relationships");
	}
	return GRAFT_OK;
}

/* The state of every relationship ops[0..i) create, from now on kept as
 * they come (struct walk). */
static int keep_rels(struct db *db, struct walk *w, size_t i)
{
	uint64_t *st;

	if (w->rels_kept)
		return GRAFT_OK;
	w->rels_kept = true;
	for (size_t k = 0; k < i; k++) {
		if (w->rec->ops[k].type != TXREC_REL_CREATE)
			continue;
		if (vstate(db, w, DB_KEY_REL, w->rec->ops[k].id, &st) !=
		    GRAFT_OK)
			return GRAFT_ENOMEM;
		*st = VS_LIVE | VS_CREATED | (uint64_t)k << VS_SHIFT;
	}
	return GRAFT_OK;
}

static int check_rel_create(struct db *db, struct walk *w, size_t i,
			    const struct txrec_op *op, char *errmsg)
{
	uint64_t *st;

	if (op->src >= DB_MAX_ID || op->dst >= DB_MAX_ID)
		return conflict(errmsg, i, op, "an end node id is out of range");
	if (!w->rels_kept && w->any_rel && op->id <= w->last_rel &&
	    keep_rels(db, w, i) != GRAFT_OK)
		return GRAFT_ENOMEM;
	if (!never_existed(db, w, DB_KEY_REL, op->id))
		return conflict(errmsg, i, op,
				"the relationship id is already taken");
	if (!live(db, w, DB_KEY_NODE, op->src) || !live(db, w, DB_KEY_NODE, op->dst))
		return conflict(errmsg, i, op, "an end node does not exist");
	w->any_rel = true;
	w->last_rel = op->id;
	if (w->rels_kept) {
		if (vstate(db, w, DB_KEY_REL, op->id, &st) != GRAFT_OK)
			return GRAFT_ENOMEM;
		*st = VS_LIVE | VS_CREATED | (uint64_t)i << VS_SHIFT;
	}
	if (w->no_deletes)
		return GRAFT_OK;
	if (vstate(db, w, DB_KEY_NODE, op->src, &st) != GRAFT_OK)
		return GRAFT_ENOMEM;
	*st += (uint64_t)1 << VS_SHIFT;
	if (op->dst == op->src)
		return GRAFT_OK;
	if (vstate(db, w, DB_KEY_NODE, op->dst, &st) != GRAFT_OK)
		return GRAFT_ENOMEM;
	*st += (uint64_t)1 << VS_SHIFT;
	return GRAFT_OK;
}

static int check_rel_delete(struct db *db, const struct walk *w, size_t i,
			    char *errmsg)
{
	const struct txrec_op *op = &w->rec->ops[i], *create;
	uint64_t *st, s;

	if (vstate(db, w, DB_KEY_REL, op->id, &st) != GRAFT_OK)
		return GRAFT_ENOMEM;
	if (!(*st & VS_LIVE))
		return conflict(errmsg, i, op,
				"the relationship does not exist");
	*st &= ~(uint64_t)VS_LIVE;
	s = *st;
	if (!(s & VS_CREATED))
		return GRAFT_OK;
	/* Created by this record: its ends lose it again. */
	create = &w->rec->ops[s >> VS_SHIFT];
	st = idmap_get(&db->vstate, db_key(DB_KEY_NODE, create->src));
	*st -= (uint64_t)1 << VS_SHIFT;
	if (create->dst != create->src) {
		st = idmap_get(&db->vstate, db_key(DB_KEY_NODE, create->dst));
		*st -= (uint64_t)1 << VS_SHIFT;
	}
	return GRAFT_OK;
}

static int check_op(struct db *db, const struct txrec *rec, size_t i,
		    struct walk *w, char *errmsg)
{
	const struct txrec_op *op = &rec->ops[i];
	bool index_op = op->type == TXREC_INDEX_CREATE ||
			op->type == TXREC_INDEX_DROP;
	uint64_t *st;

	if (op->type < TXREC_NODE_CREATE || op->type > TXREC_OP_MAX)
		return conflict(errmsg, i, op, "unknown operation");
	if (!index_op && op->id >= DB_MAX_ID)
		return conflict(errmsg, i, op, "the id is out of range");
	if ((op->type != TXREC_NODE_CREATE && op->type != TXREC_NODE_DELETE &&
	     op->type != TXREC_REL_DELETE && op->name == NULL) ||
	    (index_op && op->name2 == NULL))
		return conflict(errmsg, i, op, "a name is missing");
	switch (op->type) {
	case TXREC_NODE_CREATE:
		if (!(i < w->n_creates ? graph_never_had(db->graph, DB_KEY_NODE,
							  op->id)
				       : never_existed(db, w, DB_KEY_NODE, op->id)))
			return conflict(errmsg, i, op,
					"the node id is already taken");
		if (i < w->n_creates)
			return GRAFT_OK; /* no scratch state: see struct walk */
		if (vstate(db, w, DB_KEY_NODE, op->id, &st) != GRAFT_OK)
			return GRAFT_ENOMEM;
		*st = VS_LIVE;
		return GRAFT_OK;
	case TXREC_NODE_DELETE:
		w->deleted = true;
		return check_node_delete(db, w, i, op, errmsg);
	case TXREC_NODE_ADD_LABEL:
	case TXREC_NODE_REMOVE_LABEL:
	case TXREC_NODE_SET_PROP:
		if (!created_live(rec, i, w) && !live(db, w, DB_KEY_NODE, op->id))
			return conflict(errmsg, i, op, "the node does not exist");
		return GRAFT_OK;
	case TXREC_REL_CREATE:
		return check_rel_create(db, w, i, op, errmsg);
	case TXREC_REL_DELETE:
		return check_rel_delete(db, w, i, errmsg);
	case TXREC_REL_SET_PROP:
		if (live(db, w, DB_KEY_REL, op->id))
			return GRAFT_OK;
		if (!w->rels_kept && i > 0 && rec->ops[i - 1].id == op->id &&
		    (rec->ops[i - 1].type == TXREC_REL_CREATE ||
		     rec->ops[i - 1].type == TXREC_REL_SET_PROP))
			return GRAFT_OK; /* validated live, and no deletes */
		if (!w->rels_kept) {
			if (keep_rels(db, w, i) != GRAFT_OK)
				return GRAFT_ENOMEM;
			if (live(db, w, DB_KEY_REL, op->id))
				return GRAFT_OK;
		}
		return conflict(errmsg, i, op,
				"the relationship does not exist");
	case TXREC_INDEX_CREATE:
		if (index_exists(db, rec, i))
			return conflict(errmsg, i, op,
					"the index already exists");
		return GRAFT_OK;
	default:
		if (!index_exists(db, rec, i))
			return conflict(errmsg, i, op, "the index does not exist");
		return GRAFT_OK;
	}
}

int apply_validate(struct db *db, const struct txrec *rec, char *errmsg)
{
	struct walk w = {.rec = rec, .n_creates = apply_creates_run(rec)};
	int rv = check_reads(db, rec, errmsg);

	w.no_deletes = true;
	for (size_t i = 0; i < rec->n_ops && w.no_deletes; i++)
		w.no_deletes = rec->ops[i].type != TXREC_NODE_DELETE &&
			       rec->ops[i].type != TXREC_REL_DELETE;
	w.rels_kept = !w.no_deletes;

	/* on the loop, or off it holding the gate (one at a time) */
	__atomic_add_fetch(&db->validations, 1, __ATOMIC_RELAXED);

	idmap_clear(&db->vstate);
	for (size_t i = 0; i < rec->n_ops && rv == GRAFT_OK; i++)
		rv = check_op(db, rec, i, &w, errmsg);
	idmap_clear(&db->vstate);
	return rv;
}

/* An apply's last token per kind, by name pointer: a commit's record
 * borrows one name per token for all its ops (record.c), so consecutive
 * ops of a load find their token without hashing the name again. */
struct interned {
	const struct graft_str *name[GRAPH_TOKEN_KINDS];
	uint32_t tok[GRAPH_TOKEN_KINDS];
};

static uint32_t intern(struct db *db, struct interned *c,
		       enum graph_token_kind kind, const struct graft_str *name,
		       uint64_t txid)
{
	uint32_t tok;

	if (c->name[kind] == name)
		return c->tok[kind];
	if (graph_token_intern(db->graph, kind, name->data, name->len, &tok) !=
	    GRAFT_OK) {
		graft_error("database %s: out of memory while applying "
			    "transaction %" PRIu64 "; stopping (the log holds "
			    "it, recovery will replay it)",
			    db->name, txid);
		abort();
	}
	c->name[kind] = name;
	c->tok[kind] = tok;
	return tok;
}

/* Applies op; take (NULL: values are copied) is op's own value when the
 * graph may keep it instead of a copy. */
static int apply_op(struct db *db, struct interned *c,
		    const struct txrec_op *op, struct graft_value *take,
		    uint64_t txid)
{
	struct graph *g = db->graph;

	switch (op->type) {
	case TXREC_NODE_CREATE:
		return graph_node_create(g, op->id, txid);
	case TXREC_NODE_DELETE:
		return graph_node_delete(g, op->id, txid);
	case TXREC_NODE_ADD_LABEL:
		return graph_node_add_label(
			g, op->id, intern(db, c, GRAPH_TOKEN_LABEL, op->name, txid),
			txid);
	case TXREC_NODE_REMOVE_LABEL:
		return graph_node_remove_label(
			g, op->id, intern(db, c, GRAPH_TOKEN_LABEL, op->name, txid),
			txid);
	case TXREC_NODE_SET_PROP:
		if (take != NULL)
			return graph_node_take_prop(
				g, op->id,
				intern(db, c, GRAPH_TOKEN_PROPKEY, op->name, txid),
				take, txid);
		return graph_node_set_prop(
			g, op->id, intern(db, c, GRAPH_TOKEN_PROPKEY, op->name, txid),
			&op->value, txid);
	case TXREC_REL_CREATE:
		return graph_rel_create(
			g, op->id,
			intern(db, c, GRAPH_TOKEN_RELTYPE, op->name, txid),
			op->src, op->dst, txid);
	case TXREC_REL_DELETE:
		return graph_rel_delete(g, op->id, txid);
	case TXREC_REL_SET_PROP:
		return graph_rel_set_prop(
			g, op->id, intern(db, c, GRAPH_TOKEN_PROPKEY, op->name, txid),
			&op->value, txid);
	case TXREC_INDEX_CREATE:
		return graph_index_create(
			g, intern(db, c, GRAPH_TOKEN_LABEL, op->name, txid),
			intern(db, c, GRAPH_TOKEN_PROPKEY, op->name2, txid));
	default:
		return graph_index_drop(
			g, intern(db, c, GRAPH_TOKEN_LABEL, op->name, txid),
			intern(db, c, GRAPH_TOKEN_PROPKEY, op->name2, txid));
	}
}

void apply_record(struct db *db, const struct txrec *rec, struct txrec *take,
		  uint64_t txid)
{
	struct interned c = {{NULL}, {0}};

	for (size_t i = 0; i < rec->n_ops; i++) {
		int rv = apply_op(db, &c, &rec->ops[i],
				  take != NULL ? &take->ops[i].value : NULL, txid);

		if (rv != GRAFT_OK) {
			/* Earlier ops are in the graph: it can be neither
			 * rolled back nor left half-changed. */
			graft_error("database %s: applying operation %zu of "
				    "transaction %" PRIu64 " failed (%s); "
				    "stopping (the log holds it, recovery will "
				    "replay it)",
				    db->name, i, txid, graft_strerror(rv));
			abort();
		}
	}
}

/* The apply of this thread's offloaded task (apply_off_loop_begin), NULL
 * elsewhere: what the loop still has to do after it. */
static _Thread_local struct db_applied *off_loop;

void apply_off_loop_begin(struct db_applied *a)
{
	memset(a, 0, sizeof *a);
	off_loop = a;
}

void apply_off_loop_end(void)
{
	off_loop = NULL;
}

bool apply_defer_log(struct db *db, const void *rec, size_t len,
		     uint64_t txid, uint64_t index)
{
	if (off_loop == NULL)
		return false;
	off_loop->log_db = db;
	off_loop->log_rec = rec;
	off_loop->log_len = len;
	if (txlog_frame_begin(&off_loop->log_frame) != GRAFT_OK ||
	    graft_buf_append(&off_loop->log_frame, rec, len) != GRAFT_OK)
		graft_buf_free(&off_loop->log_frame);
	off_loop->log_txid = txid;
	off_loop->log_index = index;
	return true;
}

/* The loop's part of an apply: the snapshots' bookkeeping, the new last
 * transaction (what snapshots begun from now see), watches, checkpoints. */
static void applied(struct db *db, uint64_t txid, int64_t commit_ms,
		    uint64_t index)
{
	snapshot_after_apply(db);
	db->last_applied = txid;
	/* Before db_after_apply: a checkpoint it starts records the index of
	 * this transaction's entry, not the one before (a restart from that
	 * checkpoint took its own last transaction for another's). */
	if (index != 0)
		txlog_set_raft_index(db->log, index);
	db->last_commit_ms = commit_ms;
	if (db->next_txid <= txid)
		db->next_txid = txid + 1;
	watch_after_apply(db);
	db_after_apply(db);
}

void apply_off_loop_finish(struct db_applied *a)
{
	if (a->db != NULL)
		applied(a->db, a->txid, a->commit_ms, a->index);
	if (a->log_db != NULL)
		entry_log_frame(a->log_db, &a->log_frame, a->log_rec,
				a->log_len, a->log_txid,
			  a->log_index);
}

int apply_commit(struct db *db, const struct txrec *rec, struct txrec *take,
		 uint64_t txid, uint64_t index, bool validated, char *errmsg)
{
	int rv = GRAFT_OK;

	if (txid != db->last_applied + 1)
		return graft_errf(errmsg, GRAFT_EINVAL,
				  "database %s: transaction %" PRIu64 " cannot "
				  "follow transaction %" PRIu64 ": transactions "
				  "apply in order without gaps",
				  db->name, txid, db->last_applied);
	if (!validated)
		rv = apply_validate(db, rec, errmsg);
	if (rv != GRAFT_OK)
		return rv;
	/* Off the loop, a transaction may begin meanwhile: its snapshot
	 * sees this apply from here on (snapshot_open). */
	snapshot_before_apply(db, rec, txid, off_loop != NULL);
	apply_record(db, rec, take, txid);
	if (off_loop == NULL) {
		applied(db, txid, rec->commit_time_ms, index);
		return GRAFT_OK;
	}
	off_loop->db = db;
	off_loop->txid = txid;
	off_loop->commit_ms = rec->commit_time_ms;
	off_loop->index = index;
	return GRAFT_OK;
}

int db_apply(struct db *db, const struct txrec *rec, uint64_t txid,
	     char *errmsg)
{
	return apply_commit(db, rec, NULL, txid, 0, false, errmsg);
}
