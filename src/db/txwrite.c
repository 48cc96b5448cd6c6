/* Writes into a transaction's overlay. Nothing here touches the committed
 * graph: ids come from the database's counters at once (so they are final
 * and never collide), and a committed entity is copied into the overlay the
 * first time the transaction changes it, its version recorded by the read
 * that precedes every write. */
#include <stdlib.h>
#include <string.h>

#include "db_int.h"

static int writable(const struct db_tx *tx)
{
	return (tx->flags & DB_TX_READ_ONLY) ? GRAFT_EREADONLY : GRAFT_OK;
}

static bool token_ok(const struct db_tx *tx, enum graph_token_kind kind,
		     uint32_t tok)
{
	return tok < graph_token_count(tx->db->graph, kind);
}

/* writable(), and then whether token tok of kind exists. */
static int writable_with(const struct db_tx *tx, enum graph_token_kind kind,
			 uint32_t tok)
{
	int rv = writable(tx);

	if (rv == GRAFT_OK && !token_ok(tx, kind, tok))
		rv = GRAFT_EINVAL;
	return rv;
}

/* Files overlay entry e under id in map and, in order of arrival, in
 * order (the created or the touched ones). */
static int overlay_add(struct idmap *map, struct idvec *order, uint64_t id,
		       void *e)
{
	uint64_t *slot;
	int rv = idvec_push(order, id);

	if (rv != GRAFT_OK)
		return rv;
	rv = idmap_put(map, id, &slot, NULL);
	if (rv != GRAFT_OK) {
		order->n--;
		return rv;
	}
	*slot = (uint64_t)(uintptr_t)e;
	return GRAFT_OK;
}

#define OV_SLAB_MIN 8    /* nodes in a transaction's first slab */
#define OV_SLAB_MAX 1024 /* slabs double up to this many nodes */

/* A zeroed overlay node from the newest slab, or NULL. */
static struct ov_node *ov_node_alloc(struct db_tx *tx)
{
	struct ov_slab *s = tx->slab_last;

	if (s == NULL || s->n == s->cap) {
		uint32_t cap = s == NULL ? OV_SLAB_MIN
			       : s->cap < OV_SLAB_MAX ? s->cap * 2
						      : s->cap;

		s = graft_mem_malloc(sizeof *s + cap * sizeof *s->nodes);
		if (s == NULL)
			return NULL;
		s->next = NULL;
		s->n = 0;
		s->cap = cap;
		if (tx->slab_last != NULL)
			tx->slab_last->next = s;
		else
			tx->slabs = s;
		tx->slab_last = s;
	}
	memset(&s->nodes[s->n], 0, sizeof *s->nodes);
	return &s->nodes[s->n++];
}

/* The overlay entry of node id, added if absent. */
static int node_entry(struct db_tx *tx, uint64_t id, bool created,
		      struct ov_node **out)
{
	/* a created id is new: the overlay cannot hold it yet */
	struct ov_node *n = created ? NULL : tx_node(tx, id);
	int rv;

	if (n != NULL) {
		*out = n;
		return GRAFT_OK;
	}
	n = ov_node_alloc(tx);
	if (n == NULL)
		return GRAFT_ENOMEM;
	n->id = id;
	n->created = created;
	n->has_state = created;
	rv = overlay_add(&tx->nodes,
			 created ? &tx->created_nodes : &tx->touched_nodes, id, n);
	if (rv != GRAFT_OK) {
		tx->slab_last->n--; /* the node just carved */
		return rv;
	}
	*out = n;
	return GRAFT_OK;
}

static int rel_entry(struct db_tx *tx, uint64_t id, bool created,
		     const struct graph_rel_ends *ends, struct ov_rel **out)
{
	struct ov_rel *r = graft_mem_calloc(1, sizeof *r);
	int rv;

	if (r == NULL)
		return GRAFT_ENOMEM;
	r->id = id;
	r->created = created;
	r->has_state = created;
	r->ends = *ends;
	rv = overlay_add(&tx->rels,
			 created ? &tx->created_rels : &tx->touched_rels, id, r);
	if (rv != GRAFT_OK) {
		graft_mem_free(r);
		return rv;
	}
	*out = r;
	return GRAFT_OK;
}

/* Deep copy of a committed entity's properties, with (vix) an empty
 * value-index column; on failure dst is left empty. */
static int props_copy(struct ov_props *dst, const struct graph_prop *src,
		      size_t n, bool vix)
{
	struct ov_props p = {.cap = (uint32_t)(n ? n : 1)};

	p.v = graft_mem_calloc(p.cap, sizeof *p.v);
	if (vix)
		p.vix = graft_mem_calloc(p.cap, sizeof *p.vix);
	if (p.v == NULL || (vix && p.vix == NULL))
		goto err;
	for (; p.n < n; p.n++) {
		p.v[p.n].key = src[p.n].key;
		if (graft_value_copy(&p.v[p.n].value, &src[p.n].value) !=
		    GRAFT_OK)
			goto err;
	}
	*dst = p;
	return GRAFT_OK;

err:
	while (p.n > 0)
		graft_value_free(&p.v[--p.n].value);
	graft_mem_free(p.v);
	graft_mem_free(p.vix);
	return GRAFT_ENOMEM;
}

/* The node as the transaction may change it: a copy of the committed state
 * on first write (the read recorded its version). */
static int node_cow(struct db_tx *tx, uint64_t id, struct ov_node **out)
{
	struct graph_state st;
	struct ov_node *n;
	size_t nl;
	int rv;

	switch (tx_node_view(tx, id, &n, &st)) {
	case TX_VIEW_NONE:
		return GRAFT_ENOTFOUND;
	case TX_VIEW_OVERLAY:
		*out = n;
		return GRAFT_OK;
	case TX_VIEW_GRAPH:
		break;
	}
	rv = node_entry(tx, id, false, &n);
	if (rv != GRAFT_OK)
		return rv;
	nl = st.n_labels;
	n->labels = graft_mem_malloc((nl ? nl : 1) * sizeof *n->labels);
	if (n->labels == NULL)
		return GRAFT_ENOMEM;
	if (nl > 0)
		memcpy(n->labels, st.labels, nl * sizeof *st.labels);
	n->cap_labels = (uint32_t)(nl ? nl : 1);
	n->n_labels = (uint32_t)nl;
	rv = props_copy(&n->props, st.props, st.n_props, tx->values.built);
	if (rv != GRAFT_OK) {
		/* The entry stays without state: reads go on through it. */
		graft_mem_free(n->labels);
		n->labels = NULL;
		n->n_labels = n->cap_labels = 0;
		return rv;
	}
	n->has_state = true;
	*out = n;
	return GRAFT_OK;
}

static int rel_cow(struct db_tx *tx, uint64_t id, struct ov_rel **out)
{
	struct graph_state st;
	struct ov_rel *r;
	int rv;

	if (tx_rel_view(tx, id, &r, &st) == TX_VIEW_NONE)
		return GRAFT_ENOTFOUND;
	if (r == NULL) {
		rv = rel_entry(tx, id, false, &st.ends, &r);
		if (rv != GRAFT_OK)
			return rv;
	}
	if (!r->has_state) {
		/* An entry without state reads through to the graph. */
		rv = props_copy(&r->props, st.props, st.n_props, false);
		if (rv != GRAFT_OK)
			return rv;
		r->has_state = true;
	}
	*out = r;
	return GRAFT_OK;
}

/* Makes room in p for one more property (and, with_vix, in its
 * value-index column). */
static int props_grow(struct ov_props *p, bool with_vix)
{
	uint32_t cap = p->cap ? p->cap * 2 : 4;
	struct graph_prop *v = graft_mem_realloc(p->v, cap * sizeof *v);
	uint32_t *vix;

	if (v == NULL)
		return GRAFT_ENOMEM;
	p->v = v; /* larger than cap says until both succeed: harmless */
	if (with_vix) {
		vix = graft_mem_realloc(p->vix, cap * sizeof *vix);
		if (vix == NULL)
			return GRAFT_ENOMEM;
		p->vix = vix;
	}
	p->cap = cap;
	return GRAFT_OK;
}

/* Sets (value non-null) or removes key in the properties p of a node or a
 * relationship, keeping p's value-index column (vix: p has one once it has
 * room for a property, where a new key starts without an entry); the value
 * is copied. */
static int props_set(struct ov_props *p, bool vix, uint32_t key,
		     const struct graft_value *value)
{
	bool found;
	uint32_t i = ov_props_find(p, key, &found);
	struct graft_value copy;

	if (value == NULL || value->type == GRAFT_VALUE_NULL) {
		if (!found)
			return GRAFT_OK;
		graft_value_free(&p->v[i].value);
		memmove(&p->v[i], &p->v[i + 1], (p->n - i - 1) * sizeof *p->v);
		if (p->vix != NULL)
			memmove(&p->vix[i], &p->vix[i + 1],
				(p->n - i - 1) * sizeof *p->vix);
		p->n--;
		return GRAFT_OK;
	}
	if (graft_value_copy(&copy, value) != GRAFT_OK)
		return GRAFT_ENOMEM;
	if (found) {
		graft_value_free(&p->v[i].value);
		p->v[i].value = copy;
		return GRAFT_OK;
	}
	if (p->n == p->cap && props_grow(p, vix) != GRAFT_OK) {
		graft_value_free(&copy);
		return GRAFT_ENOMEM;
	}
	memmove(&p->v[i + 1], &p->v[i], (p->n - i) * sizeof *p->v);
	p->v[i].key = key;
	p->v[i].value = copy;
	if (p->vix != NULL) {
		memmove(&p->vix[i + 1], &p->vix[i],
			(p->n - i) * sizeof *p->vix);
		p->vix[i] = OV_VNONE;
	}
	p->n++;
	return GRAFT_OK;
}

int db_tx_node_create(struct db_tx *tx, uint64_t *id)
{
	struct db *db = tx->db;
	uint64_t next = graph_next_node_id(db->graph);
	struct ov_node *n;
	int rv = writable(tx);

	if (rv != GRAFT_OK)
		return rv;
	if (db->next_node < next)
		db->next_node = next;
	rv = node_entry(tx, db->next_node, true, &n);
	if (rv != GRAFT_OK)
		return rv;
	*id = db->next_node++;
	tx->wrote = true;
	return GRAFT_OK;
}

/* Whether node id still has a relationship in the transaction's view. */
static bool has_rels(struct db_tx *tx, uint64_t id, const struct ov_node *n)
{
	const struct graph *g = tx->db->graph;
	struct graph_expand it;
	uint64_t rel;

	if (n != NULL && n->live_rels > 0)
		return true;
	if (n != NULL && n->created)
		return false;
	/* O(degree): a DETACH DELETE has deleted every one of them. */
	graph_expand_at(&it, g, id, GRAPH_BOTH, GRAPH_NO_TOKEN, tx->snapshot);
	while ((rel = graph_expand_next(g, &it)) != GRAPH_NO_ID) {
		struct ov_rel *r = tx_rel(tx, rel);

		if (r == NULL || !r->deleted)
			return true;
	}
	return false;
}

int db_tx_node_delete(struct db_tx *tx, uint64_t id)
{
	struct graph_state st;
	struct ov_node *n;
	enum tx_view view;
	int rv = writable(tx);

	if (rv != GRAFT_OK)
		return rv;
	view = tx_node_view(tx, id, &n, &st);
	if (view == TX_VIEW_NONE)
		return GRAFT_ENOTFOUND;
	if (n == NULL)
		n = tx_node(tx, id); /* may hold relationships it created */
	if (has_rels(tx, id, n))
		return GRAFT_ECONSTRAINT;
	if (n == NULL) {
		rv = node_entry(tx, id, false, &n);
		if (rv != GRAFT_OK)
			return rv;
	}
	n->deleted = true;
	tx->wrote = true;
	return GRAFT_OK;
}

/* Adds (on) or removes label on node id; its labels stay sorted. */
static int label_set(struct db_tx *tx, uint64_t id, uint32_t label, bool on)
{
	struct ov_node *n;
	uint32_t i;
	int rv = writable_with(tx, GRAPH_TOKEN_LABEL, label);

	if (rv != GRAFT_OK)
		return rv;
	rv = node_cow(tx, id, &n);
	if (rv != GRAFT_OK || ov_node_has_label(n, label) == on)
		return rv;
	if (on && !n->created && !n->labelled) {
		if (idvec_push(&tx->labelled, id) != GRAFT_OK)
			return GRAFT_ENOMEM;
		n->labelled = true;
	}
	if (on && n->n_labels == n->cap_labels) {
		uint32_t cap = n->cap_labels ? n->cap_labels * 2 : 4;
		uint32_t *v = graft_mem_realloc(n->labels, cap * sizeof *v);

		if (v == NULL)
			return GRAFT_ENOMEM;
		n->labels = v;
		n->cap_labels = cap;
	}
	if (on) {
		for (i = n->n_labels; i > 0 && n->labels[i - 1] > label; i--)
			n->labels[i] = n->labels[i - 1];
		n->labels[i] = label;
		n->n_labels++;
	} else {
		for (i = 0; n->labels[i] != label; i++)
			;
		memmove(&n->labels[i], &n->labels[i + 1],
			(n->n_labels - i - 1) * sizeof *n->labels);
		n->n_labels--;
	}
	tx->wrote = true;
	return GRAFT_OK;
}

int db_tx_node_add_label(struct db_tx *tx, uint64_t id, uint32_t label)
{
	return label_set(tx, id, label, true);
}

int db_tx_node_remove_label(struct db_tx *tx, uint64_t id, uint32_t label)
{
	return label_set(tx, id, label, false);
}

/* After node n's property key was set to value (NULL: removed), with old
 * its value-index entry before: the entry follows the value. Cannot fail
 * (ov_vindex_reserve came before the write). */
static void index_value(struct db_tx *tx, struct ov_node *n, uint32_t key,
			uint32_t old, const struct graft_value *value)
{
	struct ov_vindex *ix = &tx->values;
	uint64_t h;
	uint32_t i;
	bool found;

	if (value == NULL || value->type == GRAFT_VALUE_NULL) {
		if (old != OV_VNONE)
			ov_vindex_retire(ix, old);
		return;
	}
	h = ov_vindex_hash(key, value);
	if (old != OV_VNONE && ix->e[old].hash == h)
		return; /* the same chain already holds the node */
	if (old != OV_VNONE)
		ov_vindex_retire(ix, old);
	i = ov_props_find(&n->props, key, &found);
	n->props.vix[i] = ov_vindex_add(ix, h, n->id);
}

/* Sets or removes property key of node (kind DB_KEY_NODE) or relationship
 * id, copying the entity into the overlay on its first write; a node's
 * value goes into the transaction's value index. */
static int set_prop(struct db_tx *tx, enum db_key_kind kind, uint64_t id,
		    uint32_t key, const struct graft_value *value)
{
	struct ov_node *n = NULL;
	struct ov_rel *r = NULL;
	uint32_t old = OV_VNONE, i;
	bool found;
	int rv = writable_with(tx, GRAPH_TOKEN_PROPKEY, key);

	if (rv != GRAFT_OK)
		return rv;
	if (kind == DB_KEY_REL) {
		rv = rel_cow(tx, id, &r);
		if (rv == GRAFT_OK)
			rv = props_set(&r->props, false, key, value);
		tx->wrote |= rv == GRAFT_OK;
		return rv;
	}
	rv = node_cow(tx, id, &n);
	if (rv == GRAFT_OK && tx->values.built && value != NULL &&
	    value->type != GRAFT_VALUE_NULL)
		rv = ov_vindex_reserve(&tx->values);
	if (rv != GRAFT_OK)
		return rv;
	i = ov_props_find(&n->props, key, &found);
	if (found && tx->values.built)
		old = n->props.vix[i];
	rv = props_set(&n->props, tx->values.built, key, value);
	if (rv != GRAFT_OK)
		return rv;
	if (tx->values.built)
		index_value(tx, n, key, old, value);
	tx->wrote = true;
	return GRAFT_OK;
}

int db_tx_node_set_prop(struct db_tx *tx, uint64_t id, uint32_t key,
			const struct graft_value *value)
{
	return set_prop(tx, DB_KEY_NODE, id, key, value);
}

/* Notes on node id that the transaction created relationship rel on it. */
static int attach(struct db_tx *tx, uint64_t id, uint64_t rel)
{
	struct ov_node *n;
	int rv = node_entry(tx, id, false, &n);

	if (rv != GRAFT_OK)
		return rv;
	if (n->n_rels == n->cap_rels) {
		uint32_t cap = n->cap_rels ? n->cap_rels * 2 : 4;
		uint64_t *v = graft_mem_realloc(n->rels, cap * sizeof *v);

		if (v == NULL)
			return GRAFT_ENOMEM;
		n->rels = v;
		n->cap_rels = cap;
	}
	n->rels[n->n_rels++] = rel;
	n->live_rels++;
	return GRAFT_OK;
}

int db_tx_rel_create(struct db_tx *tx, uint32_t type, uint64_t src,
		     uint64_t dst, uint64_t *id)
{
	struct db *db = tx->db;
	struct graph_rel_ends ends = {type, src, dst};
	uint64_t next = graph_next_rel_id(db->graph);
	struct graph_state st;
	struct ov_node *n;
	struct ov_rel *r;
	int rv = writable_with(tx, GRAPH_TOKEN_RELTYPE, type);

	if (rv != GRAFT_OK)
		return rv;
	/* Both ends are read: a concurrent delete of either must conflict. */
	if (tx_node_view(tx, src, &n, &st) == TX_VIEW_NONE ||
	    tx_node_view(tx, dst, &n, &st) == TX_VIEW_NONE)
		return GRAFT_ENOTFOUND;
	if (db->next_rel < next)
		db->next_rel = next;
	rv = rel_entry(tx, db->next_rel, true, &ends, &r);
	if (rv != GRAFT_OK)
		return rv;
	*id = db->next_rel++;
	/* Attached before the id is exposed; on failure the relationship is
	 * marked deleted so that the overlay stays consistent. */
	rv = attach(tx, src, *id);
	if (rv == GRAFT_OK && dst != src)
		rv = attach(tx, dst, *id);
	if (rv != GRAFT_OK) {
		r->deleted = true;
		n = tx_node(tx, src);
		if (n != NULL && n->n_rels > 0 && n->rels[n->n_rels - 1] == *id)
			n->live_rels--;
		return rv;
	}
	tx->wrote = true;
	return GRAFT_OK;
}

int db_tx_rel_delete(struct db_tx *tx, uint64_t id)
{
	struct graph_state st;
	struct ov_rel *r;
	int rv = writable(tx);

	if (rv != GRAFT_OK)
		return rv;
	switch (tx_rel_view(tx, id, &r, &st)) {
	case TX_VIEW_NONE:
		return GRAFT_ENOTFOUND;
	case TX_VIEW_OVERLAY:
		if (r->created) {
			tx_node(tx, r->ends.src)->live_rels--;
			if (r->ends.dst != r->ends.src)
				tx_node(tx, r->ends.dst)->live_rels--;
		}
		break;
	case TX_VIEW_GRAPH:
		rv = rel_entry(tx, id, false, &st.ends, &r);
		if (rv != GRAFT_OK)
			return rv;
		break;
	}
	r->deleted = true;
	tx->wrote = true;
	return GRAFT_OK;
}

int db_tx_rel_set_prop(struct db_tx *tx, uint64_t id, uint32_t key,
		       const struct graft_value *value)
{
	return set_prop(tx, DB_KEY_REL, id, key, value);
}

static int index_set(struct db_tx *tx, uint32_t label, uint32_t key,
		     bool exists)
{
	struct ov_index *e = NULL;
	int rv = writable_with(tx, GRAPH_TOKEN_LABEL, label);

	if (rv != GRAFT_OK)
		return rv;
	if (!token_ok(tx, GRAPH_TOKEN_PROPKEY, key))
		return GRAFT_EINVAL;
	for (size_t i = 0; i < tx->n_indexes && e == NULL; i++) {
		if (tx->indexes[i].label == label && tx->indexes[i].key == key)
			e = &tx->indexes[i];
	}
	if ((e != NULL ? e->exists
		       : graph_index_exists(tx->db->graph, label, key)) == exists)
		return exists ? GRAFT_EEXIST : GRAFT_ENOTFOUND;
	if (e == NULL) {
		if (tx->n_indexes == tx->cap_indexes) {
			size_t cap = tx->cap_indexes ? tx->cap_indexes * 2 : 2;
			struct ov_index *v =
				graft_mem_realloc(tx->indexes, cap * sizeof *v);

			if (v == NULL)
				return GRAFT_ENOMEM;
			tx->indexes = v;
			tx->cap_indexes = cap;
		}
		e = &tx->indexes[tx->n_indexes++];
		e->label = label;
		e->key = key;
	}
	e->exists = exists;
	tx->wrote = true;
	return GRAFT_OK;
}

int db_tx_index_create(struct db_tx *tx, uint32_t label, uint32_t key)
{
	return index_set(tx, label, key, true);
}

int db_tx_index_drop(struct db_tx *tx, uint32_t label, uint32_t key)
{
	return index_set(tx, label, key, false);
}
