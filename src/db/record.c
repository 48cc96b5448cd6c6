/* A transaction's overlay as a record: its read set, and the changes
 * against the committed graph as ops in a fixed order (node creates, node
 * labels and properties, relationship creates with their properties,
 * relationship property changes, relationship deletes, node deletes, index
 * changes; ids ascending within each). Labels, types and keys go in by
 * name, one copy of each name for all its ops. Changes undone within the
 * transaction leave no op. The overlay's values move into the record
 * rather than being copied: the transaction is freed right after. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db_int.h"

/* What building a record carries: the record, the graph whose token names
 * go into it, and the name the record already holds per token (key kind <<
 * 32 | token), which every op of that token borrows. */
struct builder {
	struct txrec *r;
	const struct graph *g;
	struct idmap names;
};

/* The record's name of token tok of kind, NULL when out of memory. */
static struct graft_str *token_name(struct builder *b,
				    enum graph_token_kind kind, uint32_t tok)
{
	uint64_t key = (uint64_t)kind << 32 | tok, *slot;
	struct graft_str *name;
	const char *s;
	bool added;

	if (idmap_put(&b->names, key, &slot, &added) != GRAFT_OK)
		return NULL;
	if (!added)
		return (struct graft_str *)(uintptr_t)*slot;
	s = graph_token_name(b->g, kind, tok);
	name = txrec_name(b->r, s, strlen(s));
	if (name == NULL) {
		idmap_del(&b->names, key);
		return NULL;
	}
	*slot = (uint64_t)(uintptr_t)name;
	return name;
}

/* Appends one op; its value is consumed either way (its names are the
 * record's). */
static int add_op(struct txrec *r, struct txrec_op *op)
{
	op->borrowed = TXREC_BORROWED_NAME | TXREC_BORROWED_NAME2;
	if ((op->type != TXREC_NODE_CREATE && op->type != TXREC_NODE_DELETE &&
	     op->type != TXREC_REL_DELETE && op->name == NULL) ||
	    ((op->type == TXREC_INDEX_CREATE || op->type == TXREC_INDEX_DROP) &&
	     op->name2 == NULL) ||
	    txrec_add_op(r, op) != GRAFT_OK) {
		graft_value_free(&op->value);
		return GRAFT_ENOMEM;
	}
	return GRAFT_OK;
}

static int add_id_op(struct txrec *r, uint8_t type, uint64_t id)
{
	struct txrec_op op = {.type = type, .id = id};

	return add_op(r, &op);
}

static int add_label_op(struct builder *b, uint8_t type, uint64_t id,
			uint32_t label)
{
	struct txrec_op op = {.type = type, .id = id};

	op.name = token_name(b, GRAPH_TOKEN_LABEL, label);
	return add_op(b->r, &op);
}

/* value NULL removes the property; a value is taken (the overlay it comes
 * from is freed after the record is built), left null. */
static int add_prop_op(struct builder *b, uint8_t type, uint64_t id,
		       uint32_t key, struct graft_value *value)
{
	struct txrec_op op = {.type = type, .id = id};

	op.name = token_name(b, GRAPH_TOKEN_PROPKEY, key);
	if (value != NULL) {
		op.value = *value;
		*value = graft_value_null();
	}
	return add_op(b->r, &op);
}

/* Ops that turn the committed properties old into new (both sorted),
 * taking new's values. */
static int diff_props(struct builder *b, uint8_t type, uint64_t id,
		      const struct graph_prop *old, size_t n_old,
		      struct graph_prop *new, size_t n_new)
{
	size_t i = 0, j = 0;
	int rv = GRAFT_OK;

	while (rv == GRAFT_OK && (i < n_old || j < n_new)) {
		if (j == n_new || (i < n_old && old[i].key < new[j].key)) {
			rv = add_prop_op(b, type, id, old[i++].key, NULL);
		} else if (i == n_old || new[j].key < old[i].key) {
			rv = add_prop_op(b, type, id, new[j].key,
					 &new[j].value);
			j++;
		} else {
			if (!graft_value_equal(&old[i].value, &new[j].value))
				rv = add_prop_op(b, type, id, new[j].key,
						 &new[j].value);
			i++;
			j++;
		}
	}
	return rv;
}

static int diff_labels(struct builder *b, uint64_t id, const uint32_t *old,
		       size_t n_old, const uint32_t *new, size_t n_new)
{
	size_t i = 0, j = 0;
	int rv = GRAFT_OK;

	while (rv == GRAFT_OK && (i < n_old || j < n_new)) {
		if (j == n_new || (i < n_old && old[i] < new[j]))
			rv = add_label_op(b, TXREC_NODE_REMOVE_LABEL, id,
					  old[i++]);
		else if (i == n_old || new[j] < old[i])
			rv = add_label_op(b, TXREC_NODE_ADD_LABEL, id,
					  new[j++]);
		else
			i++, j++;
	}
	return rv;
}

/* Labels and properties of node n against the committed state (none for a
 * node the transaction created). */
static int node_state_ops(struct builder *b, struct ov_node *n)
{
	const uint32_t *labels = NULL;
	const struct graph_prop *props = NULL;
	size_t nl = 0, np = 0;
	int rv;

	if (!n->created) {
		nl = graph_node_labels(b->g, n->id, &labels);
		np = graph_node_props(b->g, n->id, &props);
	}
	rv = diff_labels(b, n->id, labels, nl, n->labels, n->n_labels);
	if (rv == GRAFT_OK)
		rv = diff_props(b, TXREC_NODE_SET_PROP, n->id, props, np,
				n->props.v, n->props.n);
	return rv;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int add_reads(struct txrec *r, const struct db_tx *tx)
{
	const struct idmap *m = &tx->reads;
	uint64_t *keys = malloc((m->len ? m->len : 1) * sizeof *keys);
	size_t n = 0;
	int rv = GRAFT_OK;

	if (keys == NULL)
		return GRAFT_ENOMEM;
	for (size_t i = 0; i < m->cap; i++) {
		if (m->keys[i] != IDMAP_EMPTY)
			keys[n++] = m->keys[i];
	}
	qsort(keys, n, sizeof *keys, cmp_u64); /* deterministic records */
	for (size_t i = 0; i < n && rv == GRAFT_OK; i++)
		rv = txrec_add_read(r, (enum txrec_entity)(keys[i] >> 62),
				    keys[i] & (DB_MAX_ID - 1),
				    *idmap_get(m, keys[i]));
	free(keys);
	return rv;
}

/* Created nodes in order of creation, walking the slabs (where they sit
 * in that order) rather than looking each one up. */
static int node_ops(struct builder *b, const struct db_tx *tx,
		    const uint64_t *touched)
{
	int rv = GRAFT_OK;

	for (struct ov_slab *s = tx->slabs; s != NULL; s = s->next)
		for (uint32_t i = 0; i < s->n && rv == GRAFT_OK; i++)
			if (s->nodes[i].created && !s->nodes[i].deleted)
				rv = add_id_op(b->r, TXREC_NODE_CREATE,
					       s->nodes[i].id);
	for (struct ov_slab *s = tx->slabs; s != NULL; s = s->next)
		for (uint32_t i = 0; i < s->n && rv == GRAFT_OK; i++)
			if (s->nodes[i].created && !s->nodes[i].deleted)
				rv = node_state_ops(b, &s->nodes[i]);
	for (size_t i = 0; i < tx->touched_nodes.n && rv == GRAFT_OK; i++) {
		struct ov_node *n = tx_node(tx, touched[i]);

		if (n->has_state && !n->deleted)
			rv = node_state_ops(b, n);
	}
	return rv;
}

static int rel_ops(struct builder *b, const struct db_tx *tx,
		   const uint64_t *touched)
{
	const struct graph_prop *props;
	int rv = GRAFT_OK;

	for (size_t i = 0; i < tx->created_rels.n && rv == GRAFT_OK; i++) {
		struct ov_rel *rel = tx_rel(tx, tx->created_rels.v[i]);
		struct txrec_op op = {.type = TXREC_REL_CREATE, .id = rel->id};

		if (rel->deleted)
			continue;
		op.name = token_name(b, GRAPH_TOKEN_RELTYPE, rel->ends.type);
		op.src = rel->ends.src;
		op.dst = rel->ends.dst;
		rv = add_op(b->r, &op);
		if (rv == GRAFT_OK)
			rv = diff_props(b, TXREC_REL_SET_PROP, rel->id, NULL, 0,
					rel->props.v, rel->props.n);
	}
	for (size_t i = 0; i < tx->touched_rels.n && rv == GRAFT_OK; i++) {
		struct ov_rel *rel = tx_rel(tx, touched[i]);
		size_t np;

		if (!rel->has_state || rel->deleted)
			continue;
		np = graph_rel_props(b->g, rel->id, &props);
		rv = diff_props(b, TXREC_REL_SET_PROP, rel->id, props, np,
				rel->props.v, rel->props.n);
	}
	for (size_t i = 0; i < tx->touched_rels.n && rv == GRAFT_OK; i++) {
		if (tx_rel(tx, touched[i])->deleted)
			rv = add_id_op(b->r, TXREC_REL_DELETE, touched[i]);
	}
	return rv;
}

static int index_ops(struct builder *b, const struct db_tx *tx)
{
	int rv = GRAFT_OK;

	for (size_t i = 0; i < tx->n_indexes && rv == GRAFT_OK; i++) {
		const struct ov_index *e = &tx->indexes[i];
		struct txrec_op op = {0};

		if (e->exists == graph_index_exists(b->g, e->label, e->key))
			continue;
		op.type = e->exists ? TXREC_INDEX_CREATE : TXREC_INDEX_DROP;
		op.name = token_name(b, GRAPH_TOKEN_LABEL, e->label);
		op.name2 = token_name(b, GRAPH_TOKEN_PROPKEY, e->key);
		rv = add_op(b->r, &op);
	}
	return rv;
}

static int64_t wall_clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The ids of v, sorted into out. */
static void sorted_ids(uint64_t *out, const struct idvec *v)
{
	if (v->n == 0)
		return;
	memcpy(out, v->v, v->n * sizeof *out);
	qsort(out, v->n, sizeof *out, cmp_u64);
}

int record_build(struct db_tx *tx, struct txrec *r)
{
	const struct db *db = tx->db;
	struct builder b = {.r = r, .g = db->graph};
	size_t n_touched = tx->touched_nodes.n > tx->touched_rels.n
				   ? tx->touched_nodes.n
				   : tx->touched_rels.n;
	uint64_t *touched = malloc((n_touched ? n_touched : 1) * sizeof *touched);
	int rv;

	if (touched == NULL)
		return GRAFT_ENOMEM;
	idmap_init(&b.names);
	r->db = graft_str_new(db->name, strlen(db->name));
	r->commit_time_ms = wall_clock_ms();
	rv = r->db == NULL ? GRAFT_ENOMEM : add_reads(r, tx);
	if (rv == GRAFT_OK) {
		sorted_ids(touched, &tx->touched_nodes);
		rv = node_ops(&b, tx, touched);
	}
	if (rv == GRAFT_OK) {
		sorted_ids(touched, &tx->touched_rels);
		rv = rel_ops(&b, tx, touched);
	}
	if (rv == GRAFT_OK) {
		sorted_ids(touched, &tx->touched_nodes);
		for (size_t i = 0; i < tx->touched_nodes.n && rv == GRAFT_OK;
		     i++) {
			if (tx_node(tx, touched[i])->deleted)
				rv = add_id_op(r, TXREC_NODE_DELETE, touched[i]);
		}
	}
	if (rv == GRAFT_OK)
		rv = index_ops(&b, tx);
	idmap_free(&b.names);
	free(touched);
	return rv;
}
