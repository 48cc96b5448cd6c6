/* A transaction's view: its overlay over the committed graph as of its
 * snapshot (the last transaction applied when it began: graph.h "Old
 * versions"), and the read set that lets commit prove nobody changed what
 * it read.
 *
 * Every read of a committed entity goes through tx_node_view/tx_rel_view,
 * which record the version seen (the first one wins: that is what the
 * transaction based its decisions on). Entities the transaction created are
 * private and need no record; entities it changed recorded their version
 * when first written. */
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../util/check.h"
#include "db_int.h"

int idvec_push(struct idvec *v, uint64_t id)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 8;
		uint64_t *p = graft_mem_realloc(v->v, cap * sizeof *p);

		if (p == NULL)
			return GRAFT_ENOMEM;
		v->v = p;
		v->cap = cap;
	}
	v->v[v->n++] = id;
	return GRAFT_OK;
}

int db_tx_guard(struct db_tx *tx, uint64_t hash)
{
	/* the low bit cleared keeps a guard from ever being IDMAP_EMPTY */
	return idvec_push(&tx->guards,
			  db_key(DB_KEY_GUARD, hash & (DB_MAX_ID - 2)));
}

int db_tx_begin(struct db *db, unsigned flags, struct db_tx **out)
{
	return db_tx_begin_reuse(db, flags, NULL, out);
}

/* A kept block charged to the caller's tracker as a new one is
 * (graft_mem_calloc), or NULL. */
static struct db_tx *tx_block(void *block)
{
	struct graft_mem *m = graft_mem_current();
	struct db_tx *tx = block;

	if (tx == NULL)
		return graft_mem_calloc(1, sizeof *tx);
	if (m != NULL && !graft_mem_charge(m, malloc_usable_size(tx))) {
		free(tx);
		return NULL;
	}
	memset(tx, 0, sizeof *tx);
	return tx;
}

int db_tx_begin_reuse(struct db *db, unsigned flags, void *block,
		      struct db_tx **out)
{
	struct db_tx *tx;
	int rv;

	if (db->closing) {
		free(block);
		return GRAFT_ESHUTDOWN;
	}
	tx = tx_block(block);
	if (tx == NULL)
		return GRAFT_ENOMEM;
	tx->db = db;
	tx->flags = flags;
	idmap_init(&tx->nodes);
	idmap_init(&tx->rels);
	idmap_init(&tx->reads);
	preds_init(&tx->preds);
	rv = snapshot_tx_begin(db, tx);
	if (rv != GRAFT_OK) {
		graft_mem_free(tx);
		return rv;
	}
	*out = tx;
	return GRAFT_OK;
}

int db_tx_read_latest(struct db_tx *tx)
{
	struct db *db = tx->db;
	uint64_t snapshot;
	int rv = snapshot_tx_open(tx, &snapshot);

	if (rv != GRAFT_OK)
		return rv;
	/* The first snapshot stays open: predicates validate from it. */
	if (tx->snapshot != tx->since)
		snapshot_end(db, tx->slot, tx->snapshot);
	tx->snapshot = snapshot;
	return GRAFT_OK;
}

static void props_free(struct ov_props *p)
{
	for (uint32_t i = 0; i < p->n; i++)
		graft_value_free(&p->v[i].value);
	graft_mem_free(p->v);
	graft_mem_free(p->vix);
}

void tx_free_overlay(struct db_tx *tx)
{
	while (tx->slabs != NULL) {
		struct ov_slab *s = tx->slabs;

		for (uint32_t i = 0; i < s->n; i++) {
			graft_mem_free(s->nodes[i].labels);
			props_free(&s->nodes[i].props);
			graft_mem_free(s->nodes[i].rels);
		}
		tx->slabs = s->next;
		graft_mem_free(s);
	}
	for (size_t i = 0; i < tx->rels.cap; i++) {
		struct ov_rel *r;

		if (tx->rels.keys[i] == IDMAP_EMPTY)
			continue;
		r = (struct ov_rel *)(uintptr_t)tx->rels.vals[i];
		props_free(&r->props);
		graft_mem_free(r);
	}
	tx->slab_last = NULL;
	idmap_free(&tx->nodes);
	idmap_free(&tx->rels);
	graft_mem_free(tx->created_nodes.v);
	graft_mem_free(tx->touched_nodes.v);
	graft_mem_free(tx->created_rels.v);
	graft_mem_free(tx->touched_rels.v);
	tx->created_nodes = tx->touched_nodes = (struct idvec){0};
	tx->created_rels = tx->touched_rels = (struct idvec){0};
	ov_vindex_free(&tx->values);
	graft_mem_free(tx->labelled.v);
	tx->labelled = (struct idvec){0};
	graft_mem_free(tx->indexes);
	tx->indexes = NULL;
	tx->n_indexes = tx->cap_indexes = 0;
}

/* Ends tx; its block is freed, or returned when keep. */
static void *tx_end(struct db_tx *tx, bool keep)
{
	struct graft_mem *m = graft_mem_current();
	struct db *db = tx->db;
	bool closing;

	if (tx->prepared) {
		txrec_free(&tx->rec);
		graft_buf_free(&tx->frame);
		graft_buf_free(&tx->kept);
	}
	tx_free_overlay(tx);
	idmap_free(&tx->reads);
	graft_mem_free(tx->guards.v);
	preds_free(&tx->preds);
	snapshot_tx_end(db, tx);
	if (!keep) {
		graft_mem_free(tx);
		tx = NULL;
	} else if (m != NULL) {
		graft_mem_credit(m, malloc_usable_size(tx)); /* as a free */
	}
	/* A worker may end the last transaction of a database closing
	 * meanwhile (replaced or dropped while its statement ran): the close
	 * goes on on the loop, woken through the reclaim task, and checks
	 * that none is left. Read after the count dropped (in its slot, under
	 * its lock), so either the close counted this one gone or this end
	 * sees closing. */
	closing = __atomic_load_n(&db->closing, __ATOMIC_SEQ_CST);
	if (closing && pthread_equal(pthread_self(), db->loop_thread))
		db_maybe_finish_close(db);
	else if (closing)
		uv_async_send(&db->reclaim_async);
	return tx;
}

void tx_free(struct db_tx *tx)
{
	tx_end(tx, false);
}

void db_tx_rollback(struct db_tx *tx)
{
	tx_end(tx, false);
}

void *db_tx_rollback_keep(struct db_tx *tx)
{
	return tx_end(tx, true);
}

void db_tx_block_free(void *block)
{
	free(block); /* charged to nobody since db_tx_rollback_keep */
}

bool db_tx_has_writes(const struct db_tx *tx)
{
	return tx->wrote;
}

bool db_tx_read_only(const struct db_tx *tx)
{
	return !tx->wrote && !tx->validate;
}

uint64_t db_tx_snapshot(const struct db_tx *tx)
{
	return tx->snapshot;
}

void db_tx_validate_reads(struct db_tx *tx)
{
	tx->validate = true;
}

struct ov_node *tx_node(const struct db_tx *tx, uint64_t id)
{
	uint64_t *v = idmap_get(&tx->nodes, id);

	return v == NULL ? NULL : (struct ov_node *)(uintptr_t)*v;
}

struct ov_rel *tx_rel(const struct db_tx *tx, uint64_t id)
{
	uint64_t *v = idmap_get(&tx->rels, id);

	return v == NULL ? NULL : (struct ov_rel *)(uintptr_t)*v;
}

void tx_record_read(struct db_tx *tx, enum db_key_kind kind, uint64_t id,
		    uint64_t version)
{
	uint64_t *slot;
	bool added;

	if (tx->flags & DB_TX_READ_ONLY)
		return;
	if (idmap_put(&tx->reads, db_key(kind, id), &slot, &added) != GRAFT_OK) {
		/* A read we cannot remember could hide a lost update: the
		 * commit must fail instead. */
		tx->oom = true;
		return;
	}
	if (added)
		*slot = version;
}

/* Records that the transaction found committed entity id absent from its
 * snapshot: absence is a read too, or a transaction that looked an entity
 * up by id before its creator committed could commit after it without a
 * conflict. The version it saw is its tombstone's if it was deleted before
 * the snapshot, else 0 (it did not exist yet); one created since then has
 * a newer version, which check_reads sees, and one still committing is in
 * the pending set. */
static void record_absent(struct db_tx *tx, enum db_key_kind kind,
			  uint64_t id, uint64_t now)
{
	tx_record_read(tx, kind, id, now <= tx->snapshot ? now : 0);
}

enum tx_view tx_node_view(struct db_tx *tx, uint64_t id, struct ov_node **ov,
			  struct graph_state *st)
{
	struct ov_node *n;

	*ov = NULL;
	if (id >= DB_MAX_ID)
		return TX_VIEW_NONE;
	n = tx_node(tx, id);
	if (n != NULL && (n->created || n->has_state || n->deleted)) {
		*ov = n;
		return n->deleted ? TX_VIEW_NONE : TX_VIEW_OVERLAY;
	}
	if (!graph_node_at(tx->db->graph, id, tx->snapshot, st)) {
		record_absent(tx, DB_KEY_NODE, id,
			      graph_node_version(tx->db->graph, id));
		return TX_VIEW_NONE;
	}
	tx_record_read(tx, DB_KEY_NODE, id, st->version);
	return TX_VIEW_GRAPH;
}

enum tx_view tx_rel_view(struct db_tx *tx, uint64_t id, struct ov_rel **ov,
			 struct graph_state *st)
{
	const struct graph *g = tx->db->graph;
	struct ov_rel *r;

	*ov = NULL;
	if (id >= DB_MAX_ID)
		return TX_VIEW_NONE;
	r = tx_rel(tx, id);
	if (r != NULL) {
		*ov = r;
		if (r->deleted)
			return TX_VIEW_NONE;
		/* An entry without state reads through to the graph (its
		 * version was recorded when the entry was made). */
		if (!r->has_state && !graph_rel_at(g, id, tx->snapshot, st))
			return TX_VIEW_NONE;
		return TX_VIEW_OVERLAY;
	}
	if (!graph_rel_at(g, id, tx->snapshot, st)) {
		record_absent(tx, DB_KEY_REL, id, graph_rel_version(g, id));
		return TX_VIEW_NONE;
	}
	tx_record_read(tx, DB_KEY_REL, id, st->version);
	return TX_VIEW_GRAPH;
}

bool ov_node_has_label(const struct ov_node *n, uint32_t label)
{
	uint32_t lo = 0, hi = n->n_labels;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (n->labels[mid] == label)
			return true;
		if (n->labels[mid] < label)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* Index of key in v (n sorted properties), or of where it would go (then
 * *found is false). */
static size_t props_find(const struct graph_prop *v, size_t n, uint32_t key,
			 bool *found)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v[mid].key == key) {
			*found = true;
			return mid;
		}
		if (v[mid].key < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

uint32_t ov_props_find(const struct ov_props *p, uint32_t key, bool *found)
{
	return (uint32_t)props_find(p->v, p->n, key, found);
}

const struct graft_value *ov_props_get(const struct ov_props *p, uint32_t key)
{
	bool found;
	uint32_t i = ov_props_find(p, key, &found);

	return found ? &p->v[i].value : NULL;
}

/* Reads ------------------------------------------------------------------ */

/* The properties of node (kind DB_KEY_NODE) or relationship id in the
 * transaction's view: the overlay's or the committed graph's as of the
 * snapshot; false if it is not there. */
static bool props_view(struct db_tx *tx, enum db_key_kind kind, uint64_t id,
		       const struct graph_prop **props, size_t *n)
{
	struct graph_state st;
	const struct ov_props *p = NULL;
	struct ov_node *on;
	struct ov_rel *r;
	enum tx_view view;

	if (kind == DB_KEY_NODE) {
		view = tx_node_view(tx, id, &on, &st);
		if (view == TX_VIEW_OVERLAY)
			p = &on->props;
	} else {
		view = tx_rel_view(tx, id, &r, &st);
		if (view == TX_VIEW_OVERLAY && r->has_state)
			p = &r->props;
	}
	if (view == TX_VIEW_NONE) {
		*props = NULL;
		*n = 0;
		return false;
	}
	*props = p != NULL ? p->v : st.props;
	*n = p != NULL ? p->n : st.n_props;
	return true;
}

static size_t entity_props(struct db_tx *tx, enum db_key_kind kind,
			   uint64_t id, const struct graph_prop **props)
{
	size_t n;

	props_view(tx, kind, id, props, &n);
	return n;
}

static const struct graft_value *entity_prop(struct db_tx *tx,
					     enum db_key_kind kind,
					     uint64_t id, uint32_t key)
{
	const struct graph_prop *props;
	size_t n, i;
	bool found;

	props_view(tx, kind, id, &props, &n);
	i = props_find(props, n, key, &found);
	return found ? &props[i].value : NULL;
}

bool db_tx_node_exists(struct db_tx *tx, uint64_t id)
{
	struct graph_state st;
	struct ov_node *n;

	return tx_node_view(tx, id, &n, &st) != TX_VIEW_NONE;
}

size_t db_tx_node_labels(struct db_tx *tx, uint64_t id,
			 const uint32_t **labels)
{
	struct graph_state st;
	struct ov_node *n;

	switch (tx_node_view(tx, id, &n, &st)) {
	case TX_VIEW_OVERLAY:
		*labels = n->labels;
		return n->n_labels;
	case TX_VIEW_GRAPH:
		*labels = st.labels;
		return st.n_labels;
	default:
		*labels = NULL;
		return 0;
	}
}

bool db_tx_node_has_label(struct db_tx *tx, uint64_t id, uint32_t label)
{
	const uint32_t *labels;
	size_t n = db_tx_node_labels(tx, id, &labels);

	for (size_t i = 0; i < n; i++)
		if (labels[i] == label)
			return true;
	return false;
}

size_t db_tx_node_props(struct db_tx *tx, uint64_t id,
			const struct graph_prop **props)
{
	return entity_props(tx, DB_KEY_NODE, id, props);
}

const struct graft_value *db_tx_node_prop(struct db_tx *tx, uint64_t id,
					  uint32_t key)
{
	return entity_prop(tx, DB_KEY_NODE, id, key);
}

bool db_tx_rel_exists(struct db_tx *tx, uint64_t id)
{
	struct graph_state st;
	struct ov_rel *r;

	return tx_rel_view(tx, id, &r, &st) != TX_VIEW_NONE;
}

bool db_tx_rel_ends(struct db_tx *tx, uint64_t id, struct graph_rel_ends *out)
{
	struct graph_state st;
	struct ov_rel *r;

	switch (tx_rel_view(tx, id, &r, &st)) {
	case TX_VIEW_OVERLAY:
		*out = r->ends;
		return true;
	case TX_VIEW_GRAPH:
		*out = st.ends;
		return true;
	default:
		return false;
	}
}

size_t db_tx_rel_props(struct db_tx *tx, uint64_t id,
		       const struct graph_prop **props)
{
	return entity_props(tx, DB_KEY_REL, id, props);
}

const struct graft_value *db_tx_rel_prop(struct db_tx *tx, uint64_t id,
					 uint32_t key)
{
	return entity_prop(tx, DB_KEY_REL, id, key);
}
