/* Properties of nodes and relationships: a per-entity array sorted by key,
 * allocated only once the entity has a property and freed when its last one
 * goes. Node property changes keep the indexes on (label, key) current. */
#include <string.h>

#include "../util/err.h"
#include "graph_int.h"

static size_t propset_size(uint32_t cap)
{
	return sizeof(struct propset) + cap * sizeof(struct graph_prop);
}

/* The position of key in ps, or where it would be inserted. */
static uint32_t prop_pos(const struct propset *ps, uint32_t key, bool *found)
{
	uint32_t lo = 0, hi = ps != NULL ? ps->n : 0;

	*found = false;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (ps->props[mid].key == key) {
			*found = true;
			return mid;
		}
		if (ps->props[mid].key < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct graft_value *propset_get(const struct propset *ps, uint32_t key)
{
	bool found;
	uint32_t i = prop_pos(ps, key, &found);

	return found ? &ps->props[i].value : NULL;
}

void propset_free(struct graph *g, struct propset *ps)
{
	if (ps == NULL)
		return;
	for (uint32_t i = 0; i < ps->n; i++)
		graph_value_release(g, &ps->props[i].value);
	graph_mem_release(g, ps, propset_size(ps->cap));
}

int propset_clone(struct graph *g, const struct propset *ps,
		  struct propset **out, uint64_t *bytes)
{
	struct propset *c;

	*out = NULL;
	*bytes = 0;
	if (ps == NULL)
		return GRAFT_OK;
	c = graph_mem_alloc(g, propset_size(ps->n));
	if (c == NULL)
		return GRAFT_ENOMEM;
	c->cap = ps->n;
	*bytes = propset_size(ps->n);
	for (c->n = 0; c->n < ps->n; c->n++) {
		struct graph_prop *p = &c->props[c->n];

		p->key = ps->props[c->n].key;
		if (graph_value_copy(g, &p->value, &ps->props[c->n].value) !=
		    GRAFT_OK) {
			propset_free(g, c);
			return GRAFT_ENOMEM;
		}
		*bytes += graft_value_heap_size(&p->value);
	}
	*out = c;
	return GRAFT_OK;
}

/* Room for n properties in all, in one allocation. */
static int propset_reserve(struct graph *g, struct propset **pps, uint32_t n)
{
	struct propset *ps = *pps;

	if (n == 0 || (ps != NULL && ps->cap >= n))
		return GRAFT_OK;
	ps = graph_mem_realloc(g, ps, ps != NULL ? propset_size(ps->cap) : 0,
			       propset_size(n));
	if (ps == NULL)
		return GRAFT_ENOMEM;
	if (*pps == NULL)
		ps->n = 0;
	ps->cap = n;
	*pps = ps;
	return GRAFT_OK;
}

/* Makes room for one more property. Small sets grow by one, since most
 * entities have a few properties and memory is the constraint. */
static int propset_grow(struct graph *g, struct propset **pps)
{
	struct propset *ps = *pps;
	uint32_t cap;

	if (ps != NULL && ps->n < ps->cap)
		return GRAFT_OK;
	cap = ps == NULL    ? 1
	      : ps->cap < 4 ? ps->cap + 1
			    : ps->cap + ps->cap / 2;
	if (ps != NULL && cap <= ps->cap)
		return GRAFT_ENOMEM; /* 2^32 properties */
	return propset_reserve(g, pps, cap);
}

int graph_node_reserve_props(struct graph *g, uint64_t id, uint32_t n)
{
	return propset_reserve(g, &graph_live_node(g, id, __func__)->props, n);
}

int graph_rel_reserve_props(struct graph *g, uint64_t id, uint32_t n)
{
	return propset_reserve(g, &graph_live_rel(g, id, __func__)->props, n);
}

/* Sets key to value (owned, moved in) or removes it (value NULL); room was
 * made by propset_grow. Cannot fail. */
static void propset_put(struct graph *g, struct propset **pps, uint32_t key,
			struct graft_value *value)
{
	struct propset *ps = *pps;
	bool found;
	uint32_t i = prop_pos(ps, key, &found);

	if (found)
		graph_value_release(g, &ps->props[i].value);
	if (value != NULL) {
		if (!found) {
			memmove(&ps->props[i + 1], &ps->props[i],
				(ps->n - i) * sizeof *ps->props);
			ps->props[i].key = key;
			ps->n++;
		}
		ps->props[i].value = *value;
		return;
	}
	if (!found)
		return;
	ps->n--;
	memmove(&ps->props[i], &ps->props[i + 1],
		(ps->n - i) * sizeof *ps->props);
	if (ps->n == 0) {
		graph_mem_release(g, ps, propset_size(ps->cap));
		*pps = NULL;
	}
}

static bool is_null(const struct graft_value *v)
{
	return v == NULL || v->type == GRAFT_VALUE_NULL;
}

/* The shared path of node and relationship property changes; ls is the
 * node's label set, NULL for a relationship (which no index covers). With
 * take the value itself goes in, not a copy (the caller nulls it). */
static int set_prop(struct graph *g, uint64_t id, struct propset **pps,
		    const struct labelset *ls, uint32_t key,
		    const struct graft_value *value, bool take)
{
	struct graft_value copy = graft_value_null();
	struct node_change c = {.before = ls, .after = ls, .props = *pps,
				.key = key};
	bool found;
	int rv;

	GRAPH_REQUIRE(key < graph_token_count(g, GRAPH_TOKEN_PROPKEY),
		      "property key %u is not a token", key);
	prop_pos(*pps, key, &found);
	if (is_null(value) && !found)
		return GRAFT_OK;
	if (!is_null(value) && take) {
		copy = *value;
		g->bytes += graft_value_heap_size(&copy);
	} else if (!is_null(value)) {
		rv = graph_value_copy(g, &copy, value);
		if (rv != GRAFT_OK)
			return rv;
	}
	if (!is_null(value))
		c.value = &copy;
	if (ls != NULL) {
		rv = index_change_prepare(g, &c);
		if (rv != GRAFT_OK)
			goto err_after_copy;
	}
	if (!found && c.value != NULL) {
		rv = propset_grow(g, pps);
		if (rv != GRAFT_OK)
			goto err_after_index;
		c.props = *pps; /* it may have moved */
	}
	if (ls != NULL)
		index_change_commit(g, id, &c);
	propset_put(g, pps, key, c.value != NULL ? &copy : NULL);
	return GRAFT_OK;

err_after_index:
	if (ls != NULL)
		index_change_abandon(g, &c);
err_after_copy:
	if (take)
		g->bytes -= graft_value_heap_size(&copy); /* still the caller's */
	else
		graph_value_release(g, &copy);
	return rv;
}

static int node_set_prop(struct graph *g, uint64_t id, uint32_t key,
			 const struct graft_value *value, bool take,
			 uint64_t version, const char *func)
{
	struct node_slot *n = graph_live_node(g, id, func);
	int rv = version_keep_node(g, id, version);

	if (rv == GRAFT_OK)
		rv = set_prop(g, id, &n->props, graph_node_labelset(g, n), key,
			      value, take);
	if (rv == GRAFT_OK)
		n->version = version;
	return rv;
}

int graph_node_set_prop(struct graph *g, uint64_t id, uint32_t key,
			const struct graft_value *value, uint64_t version)
{
	return node_set_prop(g, id, key, value, false, version, __func__);
}

/* A value the graph took is no longer the caller's. */
static int taken(int rv, struct graft_value *value)
{
	if (rv == GRAFT_OK)
		*value = graft_value_null();
	return rv;
}

int graph_node_take_prop(struct graph *g, uint64_t id, uint32_t key,
			 struct graft_value *value, uint64_t version)
{
	return taken(node_set_prop(g, id, key, value, true, version, __func__),
		     value);
}

static int rel_set_prop(struct graph *g, uint64_t id, uint32_t key,
			const struct graft_value *value, bool take,
			uint64_t version, const char *func)
{
	struct rel_slot *r = graph_live_rel(g, id, func);
	int rv = version_keep_rel(g, id, version);

	if (rv == GRAFT_OK)
		rv = set_prop(g, id, &r->props, NULL, key, value, take);
	if (rv == GRAFT_OK)
		r->version = version;
	return rv;
}

int graph_rel_set_prop(struct graph *g, uint64_t id, uint32_t key,
		       const struct graft_value *value, uint64_t version)
{
	return rel_set_prop(g, id, key, value, false, version, __func__);
}

int graph_rel_take_prop(struct graph *g, uint64_t id, uint32_t key,
			struct graft_value *value, uint64_t version)
{
	return taken(rel_set_prop(g, id, key, value, true, version, __func__),
		     value);
}

size_t graph_node_props(const struct graph *g, uint64_t id,
			const struct graph_prop **props)
{
	const struct propset *ps = graph_live_node(g, id, __func__)->props;

	*props = ps != NULL ? ps->props : NULL;
	return ps != NULL ? ps->n : 0;
}

const struct graft_value *graph_node_prop(const struct graph *g, uint64_t id,
					  uint32_t key)
{
	return propset_get(graph_live_node(g, id, __func__)->props, key);
}

size_t graph_rel_props(const struct graph *g, uint64_t id,
		       const struct graph_prop **props)
{
	const struct propset *ps = graph_live_rel(g, id, __func__)->props;

	*props = ps != NULL ? ps->props : NULL;
	return ps != NULL ? ps->n : 0;
}

const struct graft_value *graph_rel_prop(const struct graph *g, uint64_t id,
					 uint32_t key)
{
	return propset_get(graph_live_rel(g, id, __func__)->props, key);
}
