/* Nodes, relationships and paths as Bolt structures, read through the
 * session's transaction:
 *   Node 'N'          id, labels, properties [, element_id]            (5.x adds)
 *   Relationship 'R'  id, start, end, type, properties
 *                     [, element_id, start_element_id, end_element_id]
 *   Unbound 'r'       id, type, properties [, element_id]
 *   Path 'P'          unique nodes, unique unbound relationships, indices
 * Path indices alternate a relationship (1-based, negative when traversed
 * against its direction) and a node (0-based); the first node is implied. */
#include "session_int.h"

#include <stdlib.h>

#include "../util/err.h"
#include "wire.h"

static bool v5(const struct bolt_session *s)
{
	return s->version >= BOLT_VERSION(5, 0);
}

static int pack_element_id(struct bolt_session *s, struct graft_buf *b,
			   uint8_t type, uint64_t id)
{
	char eid[128];
	int rv = cypher_element_id(s->tx, type, id, eid, sizeof eid);

	return rv != GRAFT_OK ? rv : pack_cstring(b, eid);
}

static int pack_node(struct bolt_session *s, struct graft_buf *b, uint64_t id)
{
	struct graft_value labels = graft_value_null();
	struct graft_value props = graft_value_null();
	int rv = cypher_node_view(s->tx, id, &labels, &props);

	if (rv == GRAFT_OK)
		rv = pack_struct_header(b, v5(s) ? 4 : 3, PACK_TAG_NODE);
	if (rv == GRAFT_OK)
		rv = pack_int(b, (int64_t)id);
	if (rv == GRAFT_OK)
		rv = pack_value(b, &labels, &s->pack);
	if (rv == GRAFT_OK)
		rv = pack_value(b, &props, &s->pack);
	if (rv == GRAFT_OK && v5(s))
		rv = pack_element_id(s, b, GRAFT_VALUE_NODE, id);
	graft_value_free(&labels);
	graft_value_free(&props);
	return rv;
}

/* bound: a Relationship with its ends; else an UnboundRelationship. */
static int pack_rel(struct bolt_session *s, struct graft_buf *b, uint64_t id,
		    bool bound)
{
	struct graft_value props = graft_value_null();
	const char *type;
	uint64_t src, dst;
	unsigned fields = bound ? 5 : 3;
	int rv = cypher_rel_view(s->tx, id, &type, &src, &dst, &props);

	if (v5(s))
		fields += bound ? 3 : 1;
	if (rv == GRAFT_OK)
		rv = pack_struct_header(b, fields, bound ? PACK_TAG_REL
							 : PACK_TAG_UNBOUND_REL);
	if (rv == GRAFT_OK)
		rv = pack_int(b, (int64_t)id);
	if (rv == GRAFT_OK && bound)
		rv = pack_int(b, (int64_t)src);
	if (rv == GRAFT_OK && bound)
		rv = pack_int(b, (int64_t)dst);
	if (rv == GRAFT_OK)
		rv = pack_cstring(b, type);
	if (rv == GRAFT_OK)
		rv = pack_value(b, &props, &s->pack);
	if (rv == GRAFT_OK && v5(s))
		rv = pack_element_id(s, b, GRAFT_VALUE_REL, id);
	if (rv == GRAFT_OK && v5(s) && bound)
		rv = pack_element_id(s, b, GRAFT_VALUE_NODE, src);
	if (rv == GRAFT_OK && v5(s) && bound)
		rv = pack_element_id(s, b, GRAFT_VALUE_NODE, dst);
	graft_value_free(&props);
	return rv;
}

/* Index of id in set (n long), appending it if absent. */
static size_t intern(uint64_t *set, size_t *n, uint64_t id)
{
	for (size_t i = 0; i < *n; i++)
		if (set[i] == id)
			return i;
	set[*n] = id;
	return (*n)++;
}

struct path_parts {
	uint64_t *nodes, *rels; /* unique, in first-seen order */
	size_t nnodes, nrels;
	int64_t *indices;
	size_t nindices;
};

/* Splits a path value (node, rel, node, ... ids) into its parts. O(n^2) in
 * the path length, which is small. */
static int path_split(struct bolt_session *s, const struct graft_list *l,
		      struct path_parts *p)
{
	uint64_t src, dst;
	const char *type;
	struct graft_value props;
	size_t r;
	int rv;

	p->nodes = calloc(l->len + 1, sizeof *p->nodes);
	p->rels = calloc(l->len + 1, sizeof *p->rels);
	p->indices = calloc(l->len + 1, sizeof *p->indices);
	if (p->nodes == NULL || p->rels == NULL || p->indices == NULL)
		return GRAFT_ENOMEM;
	if (l->len % 2 == 0)
		return GRAFT_EINVAL; /* node (rel node)* */
	for (uint32_t i = 0; i < l->len; i++)
		if (l->items[i].type != GRAFT_VALUE_INT)
			return GRAFT_EINVAL;
	intern(p->nodes, &p->nnodes, (uint64_t)l->items[0].u.i);
	for (uint32_t i = 1; i + 1 < l->len; i += 2) {
		uint64_t prev = (uint64_t)l->items[i - 1].u.i;
		uint64_t rel = (uint64_t)l->items[i].u.i;
		uint64_t next = (uint64_t)l->items[i + 1].u.i;
		props = graft_value_null();
		rv = cypher_rel_view(s->tx, rel, &type, &src, &dst, &props);
		graft_value_free(&props);
		if (rv != GRAFT_OK)
			return rv;
		r = intern(p->rels, &p->nrels, rel) + 1;
		p->indices[p->nindices++] = src == prev && dst == next
						    ? (int64_t)r
						    : -(int64_t)r;
		p->indices[p->nindices++] =
			(int64_t)intern(p->nodes, &p->nnodes, next);
	}
	return GRAFT_OK;
}

static int pack_path(struct bolt_session *s, struct graft_buf *b,
		     const struct graft_list *l)
{
	struct path_parts p = {0};
	int rv = path_split(s, l, &p);

	if (rv == GRAFT_OK)
		rv = pack_struct_header(b, 3, PACK_TAG_PATH);
	if (rv == GRAFT_OK)
		rv = pack_list_header(b, p.nnodes);
	for (size_t i = 0; rv == GRAFT_OK && i < p.nnodes; i++)
		rv = pack_node(s, b, p.nodes[i]);
	if (rv == GRAFT_OK)
		rv = pack_list_header(b, p.nrels);
	for (size_t i = 0; rv == GRAFT_OK && i < p.nrels; i++)
		rv = pack_rel(s, b, p.rels[i], false);
	if (rv == GRAFT_OK)
		rv = pack_list_header(b, p.nindices);
	for (size_t i = 0; rv == GRAFT_OK && i < p.nindices; i++)
		rv = pack_int(b, p.indices[i]);
	free(p.nodes);
	free(p.rels);
	free(p.indices);
	return rv;
}

int bolt_pack_entity(void *arg, struct graft_buf *b,
		     const struct graft_value *v)
{
	struct bolt_session *s = arg;

	switch (v->type) {
	case GRAFT_VALUE_NODE:
		return pack_node(s, b, (uint64_t)v->u.i);
	case GRAFT_VALUE_REL:
		return pack_rel(s, b, (uint64_t)v->u.i, true);
	default:
		return pack_path(s, b, v->u.list);
	}
}
