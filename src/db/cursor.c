/* Cursors over a transaction's view. Phase 0 walks the committed graph as
 * of the transaction's snapshot (graph_scan_next, graph_expand_at: they
 * resume by id, so a cursor survives commits between batches and still sees
 * its snapshot), hiding what the transaction deleted and judging what it
 * changed by its overlay. Phase 1 walks the overlay: entities the transaction created,
 * then (label and index cursors) committed nodes that match only because of
 * the transaction's changes, so that nothing is returned twice. */
#include <stdlib.h>
#include <string.h>

#include "../util/buf.h"
#include "db_int.h"

static void cursor_init(struct db_cursor *c, struct db_tx *tx,
			enum db_cursor_kind kind, uint32_t token)
{
	memset(c, 0, sizeof *c);
	c->tx = tx;
	c->kind = (uint8_t)kind;
	c->token = token;
	c->key = GRAPH_NO_TOKEN;
	c->scan.token = token;
	c->scan.key = GRAPH_NO_TOKEN;
	c->scan.at = tx->snapshot;
}

void db_cursor_nodes(struct db_cursor *c, struct db_tx *tx)
{
	cursor_init(c, tx, DB_CURSOR_NODES, GRAPH_NO_TOKEN);
	c->scan.kind = GRAPH_SCAN_NODES;
	pred_all(tx, false);
}

void db_cursor_label(struct db_cursor *c, struct db_tx *tx, uint32_t label)
{
	cursor_init(c, tx, DB_CURSOR_LABEL, label);
	c->scan.kind = GRAPH_SCAN_LABEL;
	pred_token(tx, false, label);
}

void db_cursor_index(struct db_cursor *c, struct db_tx *tx, uint32_t label,
		     uint32_t key, const struct graft_value *value)
{
	cursor_init(c, tx, DB_CURSOR_INDEX, label);
	c->key = key;
	c->value = value;
	c->scan.kind = GRAPH_SCAN_INDEX;
	c->scan.key = key;
	c->scan.value = value;
	pred_seek(tx, label, key, value);
}

void db_cursor_rels(struct db_cursor *c, struct db_tx *tx)
{
	cursor_init(c, tx, DB_CURSOR_RELS, GRAPH_NO_TOKEN);
	c->scan.kind = GRAPH_SCAN_RELS;
	pred_all(tx, true);
}

void db_cursor_type(struct db_cursor *c, struct db_tx *tx, uint32_t type)
{
	cursor_init(c, tx, DB_CURSOR_TYPE, type);
	c->scan.kind = GRAPH_SCAN_TYPE;
	pred_token(tx, true, type);
}

void db_cursor_expand(struct db_cursor *c, struct db_tx *tx, uint64_t node,
		      enum graph_dir dir, uint32_t type)
{
	const struct graph *g = tx->db->graph;
	struct graph_state st;

	cursor_init(c, tx, DB_CURSOR_EXPAND, type);
	pred_expand(tx, node);
	if (node < DB_MAX_ID && graph_node_at(g, node, tx->snapshot, &st))
		graph_expand_at(&c->expand, g, node, dir, type, tx->snapshot);
	else
		c->phase = 1; /* nothing committed to walk */
	c->expand.node = node;
	c->expand.dir = (uint8_t)dir;
	c->expand.type = type;
}

static bool is_node_cursor(const struct db_cursor *c)
{
	return c->kind == DB_CURSOR_NODES || c->kind == DB_CURSOR_LABEL ||
	       c->kind == DB_CURSOR_INDEX;
}

static uint64_t committed_next(struct db_cursor *c)
{
	const struct graph *g = c->tx->db->graph;

	if (c->kind == DB_CURSOR_EXPAND)
		return graph_expand_next(g, &c->expand);
	/* Dropped by a commit between batches: nothing more. */
	if (c->kind == DB_CURSOR_INDEX &&
	    !graph_index_exists(g, c->token, c->key))
		return GRAPH_NO_ID;
	return graph_scan_next(g, &c->scan);
}

/* Whether a node with this overlay state belongs to the cursor. */
static bool ov_matches(const struct db_cursor *c, const struct ov_node *n)
{
	const struct graft_value *v;

	if (n->deleted)
		return false;
	if (c->kind == DB_CURSOR_NODES)
		return true;
	if (!ov_node_has_label(n, c->token))
		return false;
	if (c->kind == DB_CURSOR_LABEL)
		return true;
	v = ov_props_get(&n->props, c->key);
	return v != NULL && graft_value_equal(v, c->value);
}

/* Whether the committed node matches as of the snapshot, i.e. phase 0
 * returned it (or will). */
static bool graph_matches(const struct db_cursor *c, uint64_t id)
{
	struct graph_state st;
	const struct graft_value *v;

	if (!graph_node_at(c->tx->db->graph, id, c->tx->snapshot, &st))
		return false;
	if (c->kind == DB_CURSOR_NODES)
		return true;
	if (!graph_state_has_label(&st, c->token) ||
	    c->kind == DB_CURSOR_LABEL)
		return graph_state_has_label(&st, c->token);
	v = graph_state_prop(&st, c->key);
	return v != NULL && graft_value_equal(v, c->value);
}

static bool committed_visible(struct db_cursor *c, uint64_t id)
{
	const struct graph *g = c->tx->db->graph;
	struct graph_state st;

	if (is_node_cursor(c)) {
		struct ov_node *n = tx_node(c->tx, id);

		if (n != NULL && (n->has_state || n->deleted))
			return ov_matches(c, n);
		if (graph_node_at(g, id, c->tx->snapshot, &st))
			tx_record_read(c->tx, DB_KEY_NODE, id, st.version);
		return true;
	}
	struct ov_rel *r = tx_rel(c->tx, id);

	if (r != NULL)
		return !r->deleted;
	if (graph_rel_at(g, id, c->tx->snapshot, &st))
		tx_record_read(c->tx, DB_KEY_REL, id, st.version);
	return true;
}

static bool expand_wants(const struct db_cursor *c, const struct ov_rel *r)
{
	uint64_t node = c->expand.node;

	if (r->deleted)
		return false;
	if (c->token != GRAPH_NO_TOKEN && r->ends.type != c->token)
		return false;
	switch (c->expand.dir) {
	case GRAPH_OUT:
		return r->ends.src == node;
	case GRAPH_IN:
		return r->ends.dst == node;
	default:
		return true;
	}
}

/* Whether an overlay node is a new member of the cursor's result: created
 * here, or committed but not returned by phase 0. */
static bool ov_new_match(const struct db_cursor *c, uint64_t id)
{
	const struct ov_node *n = tx_node(c->tx, id);

	if (n == NULL || !ov_matches(c, n))
		return false;
	return n->created || (n->has_state && !graph_matches(c, id));
}

/* Whether phase 1 of an index cursor on key with value hash h visits
 * overlay node id: its value under key has a live entry in that chain. */
static bool in_value_chain(const struct db_tx *tx, uint64_t id, uint32_t key,
			   uint64_t h)
{
	const struct ov_node *n = tx_node(tx, id);
	uint32_t i;
	bool found;

	if (n == NULL || n->props.vix == NULL)
		return false;
	i = ov_props_find(&n->props, key, &found);
	return found && n->props.vix[i] != OV_VNONE &&
	       tx->values.e[n->props.vix[i]].hash == h;
}

/* Index cursors walk the chain of their value's hash in the value index
 * (overlay_pos: the next entry, 0 before the first), then (phase 2)
 * committed nodes given a label here (whose value may be committed). */
static uint64_t overlay_index_next(struct db_cursor *c)
{
	const struct db_tx *tx = c->tx;
	const struct ov_vindex *ix = &tx->values;
	uint64_t h = ov_vindex_hash(c->key, c->value);

	if (c->phase == 1 && c->overlay_pos == 0) {
		c->overlay_pos = ov_vindex_first(ix, h);
		c->phase = c->overlay_pos == OV_VNONE ? 2 : 1;
	}
	while (c->phase == 1) {
		const struct ov_ventry *e = &ix->e[c->overlay_pos];

		c->overlay_pos = e->next;
		if (e->next == OV_VNONE)
			c->phase = 2; /* overlay_pos is 0 again for phase 2 */
		if (e->id != OV_VDEAD && ov_new_match(c, e->id))
			return e->id;
	}
	while (c->overlay_pos < tx->labelled.n) {
		uint64_t id = tx->labelled.v[c->overlay_pos++];

		if (!in_value_chain(tx, id, c->key, h) && ov_new_match(c, id))
			return id;
	}
	return GRAPH_NO_ID;
}

/* Whether the transaction's value index can serve a seek: built on the
 * first one. Out of memory, seeks walk the overlay instead, and the commit
 * fails (tx->oom), so the index is never built part-way through a cursor
 * that walks without it. */
static bool value_index_ready(struct db_tx *tx)
{
	if (!tx->values.built && !tx->oom && ov_vindex_build(tx) != GRAFT_OK)
		tx->oom = true;
	return tx->values.built;
}

static uint64_t overlay_next(struct db_cursor *c)
{
	const struct db_tx *tx = c->tx;

	if (c->kind == DB_CURSOR_INDEX && value_index_ready(c->tx))
		return overlay_index_next(c);

	if (c->kind == DB_CURSOR_EXPAND) {
		const struct ov_node *n = tx_node(tx, c->expand.node);

		while (n != NULL && c->overlay_pos < n->n_rels) {
			uint64_t id = n->rels[c->overlay_pos++];

			if (expand_wants(c, tx_rel(tx, id)))
				return id;
		}
		return GRAPH_NO_ID;
	}
	if (!is_node_cursor(c)) {
		while (c->overlay_pos < tx->created_rels.n) {
			uint64_t id = tx->created_rels.v[c->overlay_pos++];
			const struct ov_rel *r = tx_rel(tx, id);

			if (!r->deleted && (c->token == GRAPH_NO_TOKEN ||
					    r->ends.type == c->token))
				return id;
		}
		return GRAPH_NO_ID;
	}
	while (c->overlay_pos < tx->created_nodes.n) {
		uint64_t id = tx->created_nodes.v[c->overlay_pos++];

		if (ov_matches(c, tx_node(tx, id)))
			return id;
	}
	while (c->overlay_pos < tx->created_nodes.n + tx->touched_nodes.n) {
		uint64_t id = tx->touched_nodes.v[c->overlay_pos++ -
						  tx->created_nodes.n];
		const struct ov_node *n = tx_node(tx, id);

		if (n->has_state && ov_matches(c, n) && !graph_matches(c, id))
			return id;
	}
	return GRAPH_NO_ID;
}

uint64_t db_cursor_next(struct db_cursor *c)
{
	uint64_t id;

	if (c->phase == 0) {
		while ((id = committed_next(c)) != GRAPH_NO_ID) {
			if (committed_visible(c, id))
				return id;
		}
		c->phase = 1;
	}
	return overlay_next(c);
}

static int id_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Overlay nodes that may hold a value in the range: created here, or
 * committed and changed here, with the label and some value under key. */
static int overlay_candidates(struct db_tx *tx, uint32_t label, uint32_t key,
			      uint64_t **ids, size_t *n, size_t *cap)
{
	const struct idvec *lists[] = {&tx->created_nodes, &tx->touched_nodes};

	for (size_t l = 0; l < 2; l++)
		for (size_t i = 0; i < lists[l]->n; i++) {
			const struct ov_node *o = tx_node(tx, lists[l]->v[i]);

			if (o == NULL || o->deleted ||
			    (!o->created && !o->has_state) ||
			    !ov_node_has_label(o, label) ||
			    ov_props_get(&o->props, key) == NULL)
				continue;
			if (graft_u64_push(ids, n, cap, o->id) != GRAFT_OK)
				return GRAFT_ENOMEM;
		}
	return GRAFT_OK;
}

int db_tx_index_range(struct db_tx *tx, uint32_t label, uint32_t key,
		      const struct graft_value *lo, bool lo_incl,
		      const struct graft_value *hi, bool hi_incl,
		      uint64_t **ids, size_t *n, size_t *cap)
{
	struct graph *g = tx->db->graph;
	uint64_t pos = 0, id;
	size_t w = 0;
	int rv = GRAFT_OK;

	pred_seek(tx, label, key, NULL);
	if (graph_index_exists(g, label, key))
		rv = graph_index_range(g, label, key, lo, lo_incl, hi, hi_incl,
				       ids, n, cap);
	/* Nodes changed since the snapshot may have held a value in range
	 * then. */
	while (rv == GRAFT_OK &&
	       (id = graph_changed_node_next(g, tx->snapshot, &pos)) !=
		       GRAPH_NO_ID)
		rv = graft_u64_push(ids, n, cap, id);
	if (rv == GRAFT_OK)
		rv = overlay_candidates(tx, label, key, ids, n, cap);
	if (rv != GRAFT_OK || *n == 0)
		return rv;
	qsort(*ids, *n, sizeof **ids, id_cmp);
	for (size_t i = 0; i < *n; i++)
		if (w == 0 || (*ids)[w - 1] != (*ids)[i])
			(*ids)[w++] = (*ids)[i];
	*n = w;
	return GRAFT_OK;
}
