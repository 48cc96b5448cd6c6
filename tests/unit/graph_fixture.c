/* Shared fixture of the graph test suites. */
#include "graph_fixture.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/err.h"

int gfx_setup(void **state)
{
	static const char *labels[] = {"A", "B", "C"};
	static const char *types[] = {"KNOWS", "LIKES"};
	static const char *keys[] = {"name", "age"};
	struct graph *g;
	uint32_t tok;

	assert_int_equal(graph_new(&g), GRAFT_OK);
	for (uint32_t i = 0; i < 3; i++) {
		assert_int_equal(graph_token_intern(g, GRAPH_TOKEN_LABEL,
						    labels[i], 1, &tok),
				 GRAFT_OK);
		assert_int_equal(tok, i);
	}
	for (uint32_t i = 0; i < 2; i++) {
		assert_int_equal(graph_token_intern(g, GRAPH_TOKEN_RELTYPE,
						    types[i], strlen(types[i]),
						    &tok),
				 GRAFT_OK);
		assert_int_equal(graph_token_intern(g, GRAPH_TOKEN_PROPKEY,
						    keys[i], strlen(keys[i]),
						    &tok),
				 GRAFT_OK);
	}
	*state = g;
	return 0;
}

int gfx_teardown(void **state)
{
	graph_free(*state);
	return 0;
}

void gfx_ok(int rv)
{
	assert_int_equal(rv, GRAFT_OK);
}

/* Collects a scan or expansion into ids[], returning the count. */
size_t gfx_expand(const struct graph *g, uint64_t node,
			 enum graph_dir dir, uint32_t type, uint64_t *ids,
			 size_t max)
{
	struct graph_expand it;
	size_t n = 0;
	uint64_t id;

	graph_expand_init(&it, g, node, dir, type);
	while ((id = graph_expand_next(g, &it)) != GRAPH_NO_ID) {
		assert_true(n < max);
		ids[n++] = id;
	}
	return n;
}

size_t gfx_label_scan(const struct graph *g, uint32_t label,
			     uint64_t *ids, size_t max)
{
	uint64_t pos = 0, id;
	size_t n = 0;

	while ((id = graph_label_scan(g, label, &pos)) != GRAPH_NO_ID) {
		assert_true(n < max);
		ids[n++] = id;
	}
	return n;
}

size_t gfx_seek(const struct graph *g, uint32_t label, uint32_t key,
		       const struct graft_value *v, uint64_t *ids, size_t max)
{
	uint64_t pos = 0, id;
	size_t n = 0;

	while ((id = graph_index_seek(g, label, key, v, &pos)) != GRAPH_NO_ID) {
		assert_true(n < max);
		ids[n++] = id;
	}
	return n;
}

void gfx_ids(const uint64_t *got, size_t n, size_t want_n, ...)
{
	va_list ap;

	assert_int_equal(n, want_n);
	va_start(ap, want_n);
	for (size_t i = 0; i < want_n; i++)
		assert_int_equal(got[i], va_arg(ap, int));
	va_end(ap);
}


/* A list [42, "héllo", {a: true, b: 1.5}]. */
void gfx_nested(struct graft_value *v)
{
	struct graft_value m;

	gfx_ok(graft_value_list(v, 3));
	v->u.list->items[0] = graft_value_int(42);
	gfx_ok(graft_value_string(&v->u.list->items[1], "héllo", 6));
	gfx_ok(graft_value_map(&m, 2));
	m.u.map->entries[0].key = graft_str_new("b", 1);
	m.u.map->entries[0].value = graft_value_float(1.5);
	m.u.map->entries[1].key = graft_str_new("a", 1);
	m.u.map->entries[1].value = graft_value_bool(true);
	graft_map_sort(m.u.map);
	v->u.list->items[2] = m;
}


void gfx_set_int(struct graph *g, uint64_t id, uint32_t key, int64_t i,
		    uint64_t version)
{
	struct graft_value v = graft_value_int(i);

	gfx_ok(graph_node_set_prop(g, id, key, &v, version));
}

