/* Functions over nodes, relationships and paths (and the map forms of keys
 * and properties). Entities are read through the statement's transaction,
 * names through the database's token table; an entity this transaction
 * cannot see fails with EntityNotFound. Lists of names come sorted, so
 * results are deterministic. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "func_int.h"

static const char *token(struct cypher_fctx *fc, enum graph_token_kind kind,
			 uint32_t tok)
{
	const char *name = graph_token_name(db_graph(fc->db), kind, tok);

	return name ? name : "";
}

static int not_found(struct cypher_fctx *fc, const struct graft_value *v)
{
	return cypher_fail(fc, GRAFT_STATUS_ENTITY_NOT_FOUND, "%s with id %lld has been "
			   "deleted in this transaction",
			   v->type == GRAFT_VALUE_NODE ? "Node" : "Relationship",
			   (long long)v->u.i);
}

static bool entity_exists(struct cypher_fctx *fc, const struct graft_value *v)
{
	if (v->type == GRAFT_VALUE_NODE)
		return db_tx_node_exists(fc->tx, (uint64_t)v->u.i);
	return db_tx_rel_exists(fc->tx, (uint64_t)v->u.i);
}

static int name_cmp(const void *pa, const void *pb)
{
	const struct graft_value *a = pa, *b = pb;

	return strcmp(a->u.s->data, b->u.s->data);
}

static int sort_names(struct graft_value *list, int rv)
{
	if (rv != GRAFT_OK) {
		graft_value_free(list);
		return rv;
	}
	qsort(list->u.list->items, list->u.list->len,
	      sizeof *list->u.list->items, name_cmp);
	return GRAFT_OK;
}

static size_t entity_props(struct cypher_fctx *fc, const struct graft_value *v,
			   const struct graph_prop **props)
{
	if (v->type == GRAFT_VALUE_NODE)
		return db_tx_node_props(fc->tx, (uint64_t)v->u.i, props);
	return db_tx_rel_props(fc->tx, (uint64_t)v->u.i, props);
}

static bool is_entity(const struct graft_value *v)
{
	return v->type == GRAFT_VALUE_NODE || v->type == GRAFT_VALUE_REL;
}

int fn_keys(struct cypher_fctx *fc, const struct graft_value *args,
	    uint32_t n, struct graft_value *out)
{
	const struct graft_value *v = &args[0];
	const struct graph_prop *props;
	size_t np;
	int rv;

	(void)n;
	*out = graft_value_null();
	if (v->type == GRAFT_VALUE_NULL)
		return GRAFT_OK;
	if (v->type == GRAFT_VALUE_MAP) {
		rv = graft_value_list(out, v->u.map->len);
		for (uint32_t i = 0; rv == GRAFT_OK && i < v->u.map->len; i++)
			rv = graft_value_string(&out->u.list->items[i],
						v->u.map->entries[i].key->data,
						v->u.map->entries[i].key->len);
		return sort_names(out, rv);
	}
	if (!is_entity(v))
		return func_type_error(fc, "keys", "a Node, Relationship or "
				       "Map", v);
	if (!entity_exists(fc, v))
		return not_found(fc, v);
	np = entity_props(fc, v, &props);
	rv = graft_value_list(out, (uint32_t)np);
	for (size_t i = 0; rv == GRAFT_OK && i < np; i++) {
		const char *k = token(fc, GRAPH_TOKEN_PROPKEY, props[i].key);
		rv = graft_value_string(&out->u.list->items[i], k, strlen(k));
	}
	return sort_names(out, rv);
}

int fn_properties(struct cypher_fctx *fc, const struct graft_value *args,
		  uint32_t n, struct graft_value *out)
{
	const struct graft_value *v = &args[0];
	const struct graph_prop *props;
	size_t np;
	int rv;

	(void)n;
	*out = graft_value_null();
	if (v->type == GRAFT_VALUE_NULL)
		return GRAFT_OK;
	if (v->type == GRAFT_VALUE_MAP)
		return graft_value_copy(out, v);
	if (!is_entity(v))
		return func_type_error(fc, "properties", "a Node, "
				       "Relationship or Map", v);
	if (!entity_exists(fc, v))
		return not_found(fc, v);
	np = entity_props(fc, v, &props);
	rv = graft_value_map(out, (uint32_t)np);
	for (size_t i = 0; rv == GRAFT_OK && i < np; i++) {
		struct graft_map_entry *e = &out->u.map->entries[i];
		const char *k = token(fc, GRAPH_TOKEN_PROPKEY, props[i].key);
		e->key = graft_str_new(k, strlen(k));
		rv = e->key == NULL ? GRAFT_ENOMEM
				    : graft_value_copy(&e->value,
						       &props[i].value);
	}
	if (rv != GRAFT_OK) {
		/* Entries not reached have NULL keys: cut them off. */
		for (uint32_t i = 0; i < out->u.map->len; i++)
			if (out->u.map->entries[i].key == NULL)
				out->u.map->len = i;
		graft_value_free(out);
		return rv;
	}
	graft_map_sort(out->u.map);
	return GRAFT_OK;
}

int fn_labels(struct cypher_fctx *fc, const struct graft_value *args,
	      uint32_t n, struct graft_value *out)
{
	const struct graft_value *v = &args[0];
	const uint32_t *labels;
	size_t nl;
	int rv;

	(void)n;
	*out = graft_value_null();
	if (v->type == GRAFT_VALUE_NULL)
		return GRAFT_OK;
	if (v->type != GRAFT_VALUE_NODE)
		return func_type_error(fc, "labels", "a Node", v);
	if (!entity_exists(fc, v))
		return not_found(fc, v);
	nl = db_tx_node_labels(fc->tx, (uint64_t)v->u.i, &labels);
	rv = graft_value_list(out, (uint32_t)nl);
	for (size_t i = 0; rv == GRAFT_OK && i < nl; i++) {
		const char *l = token(fc, GRAPH_TOKEN_LABEL, labels[i]);
		rv = graft_value_string(&out->u.list->items[i], l, strlen(l));
	}
	return sort_names(out, rv);
}

/* The ends of a relationship argument; *null when it is null. */
static int rel_arg(struct cypher_fctx *fc, const char *name,
		   const struct graft_value *v, struct graph_rel_ends *ends,
		   bool *null)
{
	*null = v->type == GRAFT_VALUE_NULL;
	if (*null)
		return GRAFT_OK;
	if (v->type != GRAFT_VALUE_REL)
		return func_type_error(fc, name, "a Relationship", v);
	if (!db_tx_rel_ends(fc->tx, (uint64_t)v->u.i, ends))
		return not_found(fc, v);
	return GRAFT_OK;
}

int fn_type(struct cypher_fctx *fc, const struct graft_value *args,
	    uint32_t n, struct graft_value *out)
{
	struct graph_rel_ends ends;
	const char *t;
	bool null;
	int rv = rel_arg(fc, "type", &args[0], &ends, &null);

	(void)n;
	*out = graft_value_null();
	if (rv != GRAFT_OK || null)
		return rv;
	t = token(fc, GRAPH_TOKEN_RELTYPE, ends.type);
	return graft_value_string(out, t, strlen(t));
}

int fn_start_node(struct cypher_fctx *fc, const struct graft_value *args,
		  uint32_t n, struct graft_value *out)
{
	struct graph_rel_ends ends;
	bool null;
	int rv = rel_arg(fc, "startNode", &args[0], &ends, &null);

	(void)n;
	*out = graft_value_null();
	if (rv == GRAFT_OK && !null)
		*out = graft_value_ref(GRAFT_VALUE_NODE, ends.src);
	return rv;
}

int fn_end_node(struct cypher_fctx *fc, const struct graft_value *args,
		uint32_t n, struct graft_value *out)
{
	struct graph_rel_ends ends;
	bool null;
	int rv = rel_arg(fc, "endNode", &args[0], &ends, &null);

	(void)n;
	*out = graft_value_null();
	if (rv == GRAFT_OK && !null)
		*out = graft_value_ref(GRAFT_VALUE_NODE, ends.dst);
	return rv;
}

int fn_id(struct cypher_fctx *fc, const struct graft_value *args, uint32_t n,
	  struct graft_value *out)
{
	(void)n;
	*out = graft_value_null();
	if (args[0].type == GRAFT_VALUE_NULL)
		return GRAFT_OK;
	if (!is_entity(&args[0]))
		return func_type_error(fc, "id", "a Node or Relationship",
				       &args[0]);
	*out = graft_value_int(args[0].u.i);
	return GRAFT_OK;
}

/* "4:<db>:<id>" for nodes, "5:<db>:<id>" for relationships, the shape
 * cypher_element_id documents. */
int fn_element_id(struct cypher_fctx *fc, const struct graft_value *args,
		  uint32_t n, struct graft_value *out)
{
	(void)n;
	*out = graft_value_null();
	if (args[0].type == GRAFT_VALUE_NULL)
		return GRAFT_OK;
	if (!is_entity(&args[0]))
		return func_type_error(fc, "elementId", "a Node or "
				       "Relationship", &args[0]);
	return func_string_printf(out, "%d:%s:%lld",
				  args[0].type == GRAFT_VALUE_NODE ? 4 : 5,
				  fc->db ? db_name(fc->db) : "",
				  (long long)args[0].u.i);
}

static int path_arg(struct cypher_fctx *fc, const char *name,
		    const struct graft_value *v, bool *null)
{
	*null = v->type == GRAFT_VALUE_NULL;
	if (!*null && v->type != GRAFT_VALUE_PATH)
		return func_type_error(fc, name, "a Path", v);
	return GRAFT_OK;
}

int fn_length(struct cypher_fctx *fc, const struct graft_value *args,
	      uint32_t n, struct graft_value *out)
{
	bool null;
	int rv = path_arg(fc, "length", &args[0], &null);

	(void)n;
	*out = graft_value_null();
	if (rv == GRAFT_OK && !null)
		*out = graft_value_int(args[0].u.list->len / 2);
	return rv;
}

/* Every other element of a path from first, as refs of type. */
static int path_part(struct cypher_fctx *fc, const char *name,
		     const struct graft_value *v, uint32_t first, uint8_t type,
		     struct graft_value *out)
{
	const struct graft_list *l;
	bool null;
	int rv = path_arg(fc, name, v, &null);

	*out = graft_value_null();
	if (rv != GRAFT_OK || null)
		return rv;
	l = v->u.list;
	rv = graft_value_list(out, (l->len + 1 - first) / 2);
	for (uint32_t i = first, k = 0; rv == GRAFT_OK && i < l->len;
	     i += 2, k++)
		out->u.list->items[k] = graft_value_ref(type,
							(uint64_t)l->items[i].u.i);
	return rv;
}

int fn_nodes(struct cypher_fctx *fc, const struct graft_value *args,
	     uint32_t n, struct graft_value *out)
{
	(void)n;
	return path_part(fc, "nodes", &args[0], 0, GRAFT_VALUE_NODE, out);
}

int fn_relationships(struct cypher_fctx *fc, const struct graft_value *args,
		     uint32_t n, struct graft_value *out)
{
	(void)n;
	return path_part(fc, "relationships", &args[0], 1, GRAFT_VALUE_REL,
			 out);
}
