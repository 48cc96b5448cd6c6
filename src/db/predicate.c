/* Predicate validation (precision locking, Neumann et al. SIGMOD 2015): a
 * write transaction remembers the predicates of the scans it ran (all
 * nodes, a label, an index value, all relationships, a type, a node's
 * relationships), and its commit fails with GRAFT_ECONFLICT if a
 * transaction that committed after its snapshot changed what any of them
 * returns: an entity entering or leaving the scan's result. Together with
 * the read versions of the entities it saw, this makes committed write
 * transactions serializable (in commit order): no phantoms, no write skew.
 *
 * What to check against: the keys written by every transaction applied
 * while an older snapshot is open (db->recent, trimmed as snapshots close),
 * each entity judged by its state as of the snapshot (kept by the graph's
 * undo records) and now; and the records of commits still in flight, judged
 * coarsely by what their operations touch.
 *
 * A scan of a label (or type) the database has no token for reads that no
 * entity has it: a predicate too (db_tx_read_absent), or the first node
 * given a new label would be a phantom. Tokens are numbered in order of
 * first use, so a commit's entity judged by token ids is checked against
 * every label or type newer than the scan (coarse: a new label that is not
 * the one scanned counts too, as rarely as labels are new); a commit in
 * flight by the names its record carries. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "db_int.h"

static void pred_mark(struct db_tx *tx, struct idmap *m, uint64_t key)
{
	uint64_t *slot;

	if (tx->flags & DB_TX_READ_ONLY)
		return;
	if (idmap_put(m, key, &slot, NULL) != GRAFT_OK)
		tx->oom = true; /* a predicate we cannot check: fail commit */
}

void pred_all(struct db_tx *tx, bool rels)
{
	if (rels)
		tx->preds.all_rels = true;
	else
		tx->preds.all_nodes = true;
}

void pred_token(struct db_tx *tx, bool type, uint32_t tok)
{
	pred_mark(tx, type ? &tx->preds.types : &tx->preds.labels, tok);
}

void pred_expand(struct db_tx *tx, uint64_t node)
{
	pred_mark(tx, &tx->preds.expands, node);
}

/* value NULL: the range seek of label and key (every value). */
static uint64_t seek_hash(uint32_t label, uint32_t key,
			  const struct graft_value *value)
{
	uint64_t h = graft_hash_mix(graft_hash_mix(label, key), value == NULL);

	if (value != NULL)
		h = graft_hash_mix(h, graft_value_hash(value));
	return h == IDMAP_EMPTY ? 0 : h;
}

static const struct tx_seek *seek_at(const struct tx_preds *p, uint64_t h)
{
	const uint64_t *i = idmap_get(&p->seek_at, h);

	return i == NULL ? NULL : &p->seeks[*i];
}

/* Whether p holds this seek already, or the range seek that covers it: by
 * hash, so that a transaction of n index seeks (an UNWIND of MATCHes)
 * records them in O(n), not O(n^2). Two seeks of one hash keep the first:
 * the second is recorded again, which costs a duplicate, never a miss. */
static bool seek_known(const struct tx_preds *p, uint32_t label,
		       uint32_t key, const struct graft_value *value)
{
	const struct tx_seek *s = seek_at(p, seek_hash(label, key, NULL));

	if (s != NULL && s->any && s->label == label && s->key == key)
		return true;
	if (value == NULL)
		return false;
	s = seek_at(p, seek_hash(label, key, value));
	return s != NULL && !s->any && s->label == label && s->key == key &&
	       graft_value_equal(&s->value, value);
}

void pred_seek(struct db_tx *tx, uint32_t label, uint32_t key,
	       const struct graft_value *value)
{
	struct tx_preds *p = &tx->preds;
	struct tx_seek *s;
	uint64_t *slot;
	bool added;

	if ((tx->flags & DB_TX_READ_ONLY) || seek_known(p, label, key, value))
		return;
	if (p->n_seeks == p->cap_seeks) {
		size_t cap = p->cap_seeks ? p->cap_seeks * 2 : 4;

		s = realloc(p->seeks, cap * sizeof *s);
		if (s == NULL) {
			tx->oom = true;
			return;
		}
		p->seeks = s;
		p->cap_seeks = cap;
	}
	s = &p->seeks[p->n_seeks];
	s->label = label;
	s->key = key;
	s->any = value == NULL;
	s->value = graft_value_null();
	if (value != NULL && graft_value_copy(&s->value, value) != GRAFT_OK) {
		tx->oom = true;
		return;
	}
	/* out of memory here, later copies are recorded again: harmless */
	if (idmap_put(&p->seek_at, seek_hash(label, key, value), &slot,
		      &added) == GRAFT_OK &&
	    added)
		*slot = p->n_seeks;
	p->n_seeks++;
}

static bool absent_named(const struct tx_preds *p, enum graph_token_kind kind,
			 const char *name, size_t len)
{
	for (size_t i = 0; i < p->n_absent; i++)
		if (p->absent[i].kind == kind &&
		    p->absent[i].name->len == len &&
		    memcmp(p->absent[i].name->data, name, len) == 0)
			return true;
	return false;
}

void db_tx_read_absent(struct db_tx *tx, enum graph_token_kind kind,
		       const char *name, size_t len)
{
	struct tx_preds *p = &tx->preds;
	uint32_t from = graph_token_count(tx->db->graph, kind);
	uint32_t *newest = kind == GRAPH_TOKEN_LABEL ? &p->new_label_from
						     : &p->new_type_from;
	struct tx_absent *a;

	/* an expansion looks once per node it starts from */
	if ((tx->flags & DB_TX_READ_ONLY) || absent_named(p, kind, name, len))
		return;
	if (p->n_absent == p->cap_absent) {
		size_t cap = p->cap_absent ? p->cap_absent * 2 : 4;

		a = realloc(p->absent, cap * sizeof *a);
		if (a == NULL) {
			tx->oom = true;
			return;
		}
		p->absent = a;
		p->cap_absent = cap;
	}
	a = &p->absent[p->n_absent];
	a->kind = kind;
	a->tok_from = from;
	a->name = graft_str_new(name, len);
	if (a->name == NULL) {
		tx->oom = true;
		return;
	}
	p->n_absent++;
	if (from < *newest)
		*newest = from;
}

void preds_init(struct tx_preds *p)
{
	idmap_init(&p->labels);
	idmap_init(&p->types);
	idmap_init(&p->expands);
	idmap_init(&p->seek_at);
	p->new_label_from = p->new_type_from = UINT32_MAX;
}

void preds_free(struct tx_preds *p)
{
	idmap_free(&p->labels);
	idmap_free(&p->types);
	idmap_free(&p->expands);
	idmap_free(&p->seek_at);
	for (size_t i = 0; i < p->n_seeks; i++)
		graft_value_free(&p->seeks[i].value);
	free(p->seeks);
	for (size_t i = 0; i < p->n_absent; i++)
		graft_mem_free(p->absent[i].name);
	free(p->absent);
}

static bool preds_empty(const struct tx_preds *p)
{
	return !p->all_nodes && !p->all_rels && p->labels.len == 0 &&
	       p->types.len == 0 && p->expands.len == 0 &&
	       p->n_seeks == 0 && p->n_absent == 0;
}

static bool label_scanned(const struct tx_preds *p, uint32_t label)
{
	return idmap_get(&p->labels, label) != NULL ||
	       label >= p->new_label_from;
}

/* Recent commits ---------------------------------------------------------- */

/* Room for one more at the end of db->recent: the kept ones moved to the
 * front when the trimmed ones leave room enough, else twice the array. */
static bool recent_room(struct db *db)
{
	struct db_recent **a;
	size_t cap;

	if (db->recent_first + db->recent_n < db->recent_cap)
		return true;
	if (db->recent_first > 0 && db->recent_first >= db->recent_cap / 2) {
		memmove(db->recent, db->recent + db->recent_first,
			db->recent_n * sizeof *db->recent);
		db->recent_first = 0;
		return true;
	}
	cap = db->recent_cap ? db->recent_cap * 2 : 64;
	a = realloc(db->recent, cap * sizeof *a);
	if (a == NULL)
		return false;
	db->recent = a;
	db->recent_cap = cap;
	return true;
}

void recent_add(struct db *db, const struct txrec *rec, uint64_t txid)
{
	size_t n = commit_keys(db, rec, NULL);
	struct db_recent *r = malloc(sizeof *r + n * sizeof *r->keys);

	if (r == NULL || !recent_room(db)) {
		/* Without its keys a predicate could miss this commit: every
		 * snapshot older than it is refused at commit instead. */
		free(r);
		db->recent_lost = txid;
		return;
	}
	r->txid = txid;
	r->n = commit_keys(db, rec, r->keys);
	db->recent_bytes += sizeof *r + r->n * sizeof *r->keys;
	db->recent[db->recent_first + db->recent_n++] = r;
}

void recent_trim(struct db *db, uint64_t oldest)
{
	struct db_recent *r;

	while (db->recent_n > 0 &&
	       (r = db->recent[db->recent_first])->txid <= oldest) {
		db->recent_first++;
		db->recent_n--;
		db->recent_bytes -= sizeof *r + r->n * sizeof *r->keys;
		free(r);
	}
	if (db->recent_n == 0) {
		/* a long reader's peak is not kept */
		free(db->recent);
		db->recent = NULL;
		db->recent_first = db->recent_cap = 0;
	}
}

/* The index in db->recent of the first commit after since (recent_first +
 * recent_n if none). */
static size_t recent_after(const struct db *db, uint64_t since)
{
	size_t lo = db->recent_first, hi = db->recent_first + db->recent_n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (db->recent[mid]->txid <= since)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Checks ------------------------------------------------------------------ */

/* Whether a node in state st (NULL: absent) is in the seek's result; for a
 * range seek (any), *v receives its value under the key. */
static bool seek_has(const struct tx_seek *s, const struct graph_state *st,
		     const struct graft_value **v)
{
	*v = NULL;
	if (st == NULL || !graph_state_has_label(st, s->label))
		return false;
	*v = graph_state_prop(st, s->key);
	return *v != NULL && (s->any || graft_value_equal(*v, &s->value));
}

/* Whether any label predicate holds for a state and not the other. */
static bool labels_moved(const struct tx_preds *p, const struct graph_state *a,
			 const struct graph_state *b)
{
	for (int side = 0; side < 2; side++) {
		const struct graph_state *x = side ? b : a, *y = side ? a : b;

		for (size_t i = 0; x != NULL && i < x->n_labels; i++) {
			uint32_t l = x->labels[i];

			if (label_scanned(p, l) &&
			    (y == NULL || !graph_state_has_label(y, l)))
				return true;
		}
	}
	return false;
}

/* Whether node id, as of since (a) and now (b), left or entered the result
 * of a predicate. */
static bool node_moved(const struct tx_preds *p, const struct graph *g,
		       uint64_t id, uint64_t since)
{
	struct graph_state sa, sb;
	const struct graph_state *a = graph_node_at(g, id, since, &sa) ? &sa
								      : NULL;
	const struct graph_state *b = graph_node_at(g, id, GRAPH_NOW, &sb)
					      ? &sb
					      : NULL;

	if (p->all_nodes && (a == NULL) != (b == NULL))
		return true;
	if (labels_moved(p, a, b))
		return true;
	for (size_t i = 0; i < p->n_seeks; i++) {
		const struct graft_value *va, *vb;
		bool ha = seek_has(&p->seeks[i], a, &va);
		bool hb = seek_has(&p->seeks[i], b, &vb);

		/* a range seek reads values: a change of one in it counts */
		if (ha != hb || (ha && p->seeks[i].any &&
				 !graft_value_equal(va, vb)))
			return true;
	}
	return false;
}

static bool rel_in(const struct tx_preds *p, const struct graph_rel_ends *e)
{
	return p->all_rels || idmap_get(&p->types, e->type) != NULL ||
	       (e->type != GRAPH_NO_TOKEN && e->type >= p->new_type_from) ||
	       idmap_get(&p->expands, e->src) != NULL ||
	       idmap_get(&p->expands, e->dst) != NULL;
}

/* A relationship's type and ends never change: only its coming or going
 * moves it in or out of a result. */
static bool rel_moved(const struct tx_preds *p, const struct graph *g,
		      uint64_t id, uint64_t since)
{
	struct graph_state a, b;
	bool ea = graph_rel_at(g, id, since, &a);
	bool eb = graph_rel_at(g, id, GRAPH_NOW, &b);

	return ea != eb && rel_in(p, ea ? &a.ends : &b.ends);
}

static int moved(char *errmsg, uint64_t key, uint64_t txid)
{
	return graft_errf(errmsg, GRAFT_ECONFLICT,
			  "%s %" PRIu64 " entered or left the result of a scan "
			  "this transaction ran, by transaction %" PRIu64
			  " committed after it began; retry the transaction",
			  key >> 62 == DB_KEY_NODE ? "node" : "relationship",
			  key & (DB_MAX_ID - 1), txid);
}

static int check_recent(const struct db_tx *tx, char *errmsg)
{
	struct db *db = tx->db;

	if (db->recent_lost > tx->since)
		return graft_errf(errmsg, GRAFT_ECONFLICT,
				  "the server ran out of memory tracking "
				  "transaction %" PRIu64 ", committed after "
				  "this one began; retry the transaction",
				  db->recent_lost);
	for (size_t at = recent_after(db, tx->since),
		    end = db->recent_first + db->recent_n;
	     at < end; at++) {
		const struct db_recent *r = db->recent[at];

		db->recent_checked++;
		for (size_t i = 0; i < r->n; i++) {
			uint64_t key = r->keys[i], id = key & (DB_MAX_ID - 1);

			if ((key >> 62 == DB_KEY_NODE &&
			     node_moved(&tx->preds, db->graph, id, tx->since)) ||
			    (key >> 62 == DB_KEY_REL &&
			     rel_moved(&tx->preds, db->graph, id, tx->since)))
				return moved(errmsg, key, r->txid);
		}
	}
	return GRAFT_OK;
}

static uint32_t token_of(const struct db *db, enum graph_token_kind kind,
			 const struct graft_str *name)
{
	return name == NULL ? GRAPH_NO_TOKEN
			    : graph_token_lookup(db->graph, kind, name->data,
						 name->len);
}

static bool seeks_touch(const struct tx_preds *p, uint32_t label,
			uint32_t key)
{
	for (size_t i = 0; i < p->n_seeks; i++)
		if (p->seeks[i].label == label || p->seeks[i].key == key)
			return true;
	return false;
}

/* Whether a node's current labels meet a label or seek predicate. */
static bool node_labels_touch(const struct tx_preds *p, const struct graph *g,
			      uint64_t id)
{
	struct graph_state st;

	if (!graph_node_at(g, id, GRAPH_NOW, &st))
		return false;
	for (size_t i = 0; i < st.n_labels; i++)
		if (label_scanned(p, st.labels[i]) ||
		    seeks_touch(p, st.labels[i], GRAPH_NO_TOKEN))
			return true;
	return false;
}

/* Whether an operation of a commit in flight names a label or type a scan
 * found absent. */
static bool op_names_absent(const struct tx_preds *p,
			    enum graph_token_kind kind,
			    const struct txrec_op *op)
{
	return op->name != NULL &&
	       absent_named(p, kind, op->name->data, op->name->len);
}

/* Whether an operation of a commit in flight may move an entity in or out
 * of a predicate's result. Coarse (its result is not applied yet): any
 * touch of a label or key a predicate names. */
static bool op_touches(const struct db_tx *tx, const struct txrec_op *op)
{
	const struct tx_preds *p = &tx->preds;
	const struct graph *g = tx->db->graph;
	struct graph_rel_ends ends;
	uint32_t tok;

	switch (op->type) {
	case TXREC_NODE_CREATE:
		return p->all_nodes;
	case TXREC_NODE_DELETE:
		return p->all_nodes || node_labels_touch(p, g, op->id);
	case TXREC_NODE_ADD_LABEL:
	case TXREC_NODE_REMOVE_LABEL:
		if (op_names_absent(p, GRAPH_TOKEN_LABEL, op))
			return true;
		tok = token_of(tx->db, GRAPH_TOKEN_LABEL, op->name);
		return tok != GRAPH_NO_TOKEN &&
		       (idmap_get(&p->labels, tok) != NULL ||
			seeks_touch(p, tok, GRAPH_NO_TOKEN));
	case TXREC_NODE_SET_PROP:
		tok = token_of(tx->db, GRAPH_TOKEN_PROPKEY, op->name);
		return tok != GRAPH_NO_TOKEN &&
		       seeks_touch(p, GRAPH_NO_TOKEN, tok);
	case TXREC_REL_CREATE:
		if (op_names_absent(p, GRAPH_TOKEN_RELTYPE, op))
			return true;
		ends.type = token_of(tx->db, GRAPH_TOKEN_RELTYPE, op->name);
		ends.src = op->src;
		ends.dst = op->dst;
		return rel_in(p, &ends);
	case TXREC_REL_DELETE:
		if (!graph_rel_exists(g, op->id))
			return false;
		graph_rel_ends(g, op->id, &ends);
		return rel_in(p, &ends);
	default:
		return false;
	}
}

static int check_in_flight(const struct db_tx *tx, char *errmsg)
{
	for (const struct db_inflight *c = tx->db->queue_head; c != NULL;
	     c = inflight_next(c)) {
		const struct txrec *r = inflight_record(c);

		for (size_t i = 0; i < r->n_ops; i++)
			if (op_touches(tx, &r->ops[i]))
				return graft_errf(
					errmsg, GRAFT_ECONFLICT,
					"a concurrent transaction that is "
					"committing now changes what a scan of "
					"this transaction read; retry the "
					"transaction");
	}
	return GRAFT_OK;
}

int pred_validate(const struct db_tx *tx, char *errmsg)
{
	int rv;

	if (preds_empty(&tx->preds))
		return GRAFT_OK;
	rv = check_recent(tx, errmsg);
	if (rv == GRAFT_OK)
		rv = check_in_flight(tx, errmsg);
	return rv;
}
