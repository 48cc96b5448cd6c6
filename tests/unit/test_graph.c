/* Unit tests for the in-memory property graph: entities, labels, types,
 * expansion, properties, indexes, tokens, versions, ids, statistics, out of
 * memory, and a randomized comparison against a simple reference model. */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "graph/graph.h"
#include "graph/graph_int.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/value.h"

/* Fixture: a graph with labels A B C, types KNOWS LIKES, keys name age. */
enum { A, B, C };
enum { KNOWS, LIKES };
enum { NAME, AGE };

static int setup(void **state)
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

static int teardown(void **state)
{
	graph_free(*state);
	return 0;
}

static void ok(int rv)
{
	assert_int_equal(rv, GRAFT_OK);
}

/* Collects a scan or expansion into ids[], returning the count. */
static size_t expand_all(const struct graph *g, uint64_t node,
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

static size_t label_scan_all(const struct graph *g, uint32_t label,
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

static size_t seek_all(const struct graph *g, uint32_t label, uint32_t key,
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

static void assert_ids(const uint64_t *got, size_t n, size_t want_n, ...)
{
	va_list ap;

	assert_int_equal(n, want_n);
	va_start(ap, want_n);
	for (size_t i = 0; i < want_n; i++)
		assert_int_equal(got[i], va_arg(ap, int));
	va_end(ap);
}

static void test_graph_creates_reads_and_deletes_entities(void **state)
{
	struct graph *g = *state;
	struct graph_rel_ends ends;
	uint64_t pos = 0;

	for (uint64_t id = 0; id < 3; id++)
		ok(graph_node_create(g, id, 10 + id));
	ok(graph_rel_create(g, 0, KNOWS, 0, 1, 20));
	assert_true(graph_node_exists(g, 2));
	assert_false(graph_node_exists(g, 3));
	assert_true(graph_rel_exists(g, 0));
	assert_false(graph_rel_exists(g, 1));
	graph_rel_ends(g, 0, &ends);
	assert_int_equal(ends.type, KNOWS);
	assert_int_equal(ends.src, 0);
	assert_int_equal(ends.dst, 1);
	assert_int_equal(graph_node_degree(g, 0, GRAPH_OUT), 1);
	assert_int_equal(graph_node_degree(g, 0, GRAPH_IN), 0);
	assert_int_equal(graph_node_degree(g, 1, GRAPH_BOTH), 1);

	ok(graph_rel_delete(g, 0, 21));
	assert_false(graph_rel_exists(g, 0));
	assert_int_equal(graph_rel_version(g, 0), 21);
	assert_int_equal(graph_node_degree(g, 1, GRAPH_BOTH), 0);
	ok(graph_node_delete(g, 1, 22));
	assert_false(graph_node_exists(g, 1));
	assert_int_equal(graph_node_version(g, 1), 22);
	assert_int_equal(graph_node_scan(g, &pos), 0);
	assert_int_equal(graph_node_scan(g, &pos), 2);
	assert_int_equal(graph_node_scan(g, &pos), GRAPH_NO_ID);
	pos = 0;
	assert_int_equal(graph_rel_scan(g, &pos), GRAPH_NO_ID);
	assert_int_equal(graph_next_node_id(g), 3);
	assert_int_equal(graph_next_rel_id(g), 1);
}

static void test_graph_labels_add_remove_and_scan(void **state)
{
	struct graph *g = *state;
	const uint32_t *labels;
	uint64_t ids[8];

	for (uint64_t id = 0; id < 4; id++)
		ok(graph_node_create(g, id, 1));
	ok(graph_node_add_label(g, 2, C, 2));
	ok(graph_node_add_label(g, 2, A, 2));
	ok(graph_node_add_label(g, 0, A, 2));
	ok(graph_node_add_label(g, 3, A, 2));
	ok(graph_node_add_label(g, 3, A, 3)); /* already there: no change */
	assert_int_equal(graph_node_labels(g, 2, &labels), 2);
	assert_int_equal(labels[0], A);
	assert_int_equal(labels[1], C);
	assert_true(graph_node_has_label(g, 2, C));
	assert_false(graph_node_has_label(g, 1, A));
	assert_ids(ids, label_scan_all(g, A, ids, 8), 3, 0, 2, 3);
	assert_ids(ids, label_scan_all(g, C, ids, 8), 1, 2);
	assert_ids(ids, label_scan_all(g, B, ids, 8), 0);

	ok(graph_node_remove_label(g, 2, A, 4));
	ok(graph_node_remove_label(g, 1, A, 4)); /* absent: no change */
	assert_int_equal(graph_node_labels(g, 2, &labels), 1);
	assert_int_equal(labels[0], C);
	assert_ids(ids, label_scan_all(g, A, ids, 8), 2, 0, 3);
	ok(graph_node_delete(g, 3, 5));
	assert_ids(ids, label_scan_all(g, A, ids, 8), 1, 0);
	/* More labels than a node change builds on the stack. */
	for (uint32_t i = 0; i < 40; i++) {
		char name[8];
		uint32_t tok;
		snprintf(name, sizeof name, "X%u", i);
		ok(graph_token_intern(g, GRAPH_TOKEN_LABEL, name, strlen(name),
				      &tok));
		ok(graph_node_add_label(g, 1, tok, 6));
	}
	ok(graph_node_remove_label(g, 1, 3 + 20, 6));
	assert_int_equal(graph_node_labels(g, 1, &labels), 39);
	assert_int_equal(labels[19], 3 + 19);
	assert_int_equal(labels[20], 3 + 21);
	/* A label scan spanning bitmap chunks. */
	ok(graph_node_create(g, 200000, 6));
	ok(graph_node_add_label(g, 200000, A, 6));
	assert_ids(ids, label_scan_all(g, A, ids, 8), 2, 0, 200000);
}

static void test_graph_type_scan_lists_rels_of_one_type(void **state)
{
	struct graph *g = *state;
	uint64_t pos = 0;

	ok(graph_node_create(g, 0, 1));
	ok(graph_rel_create(g, 5, LIKES, 0, 0, 1));
	ok(graph_rel_create(g, 1, KNOWS, 0, 0, 1));
	ok(graph_rel_create(g, 3, LIKES, 0, 0, 1));
	assert_int_equal(graph_type_scan(g, LIKES, &pos), 3);
	assert_int_equal(graph_type_scan(g, LIKES, &pos), 5);
	assert_int_equal(graph_type_scan(g, LIKES, &pos), GRAPH_NO_ID);
	pos = 0;
	assert_int_equal(graph_type_scan(g, KNOWS, &pos), 1);
	ok(graph_rel_delete(g, 1, 2));
	pos = 0;
	assert_int_equal(graph_type_scan(g, KNOWS, &pos), GRAPH_NO_ID);
	pos = 0;
	assert_int_equal(graph_rel_scan(g, &pos), 3);
	assert_int_equal(graph_rel_scan(g, &pos), 5);
	assert_int_equal(graph_rel_scan(g, &pos), GRAPH_NO_ID);
}

static void test_graph_expands_by_direction_type_and_self_loop(void **state)
{
	struct graph *g = *state;
	uint64_t ids[8];

	for (uint64_t id = 0; id < 3; id++)
		ok(graph_node_create(g, id, 1));
	ok(graph_rel_create(g, 0, KNOWS, 0, 1, 1));
	ok(graph_rel_create(g, 1, LIKES, 0, 2, 1));
	ok(graph_rel_create(g, 2, KNOWS, 2, 0, 1));
	ok(graph_rel_create(g, 3, KNOWS, 0, 0, 1)); /* self-loop */
	/* Newest first. */
	assert_ids(ids, expand_all(g, 0, GRAPH_OUT, GRAPH_NO_TOKEN, ids, 8), 3,
		   3, 1, 0);
	assert_ids(ids, expand_all(g, 0, GRAPH_IN, GRAPH_NO_TOKEN, ids, 8), 2,
		   3, 2);
	assert_ids(ids, expand_all(g, 0, GRAPH_BOTH, GRAPH_NO_TOKEN, ids, 8), 4,
		   3, 1, 0, 2);
	assert_ids(ids, expand_all(g, 0, GRAPH_BOTH, KNOWS, ids, 8), 3, 3, 0,
		   2);
	assert_ids(ids, expand_all(g, 0, GRAPH_OUT, LIKES, ids, 8), 1, 1);
	assert_ids(ids, expand_all(g, 2, GRAPH_BOTH, GRAPH_NO_TOKEN, ids, 8), 2,
		   2, 1);
	assert_int_equal(graph_node_degree(g, 0, GRAPH_BOTH), 4);
	assert_int_equal(graph_node_degree(g, 0, GRAPH_IN), 2);
	/* An id never created, in a chunk that exists, has no relationships. */
	assert_int_equal(expand_all(g, 7, GRAPH_BOTH, GRAPH_NO_TOKEN, ids, 8), 0);
}

static void test_graph_expand_and_scans_survive_deletions(void **state)
{
	struct graph *g = *state;
	struct graph_expand it;
	uint64_t pos = 0, lpos = 0, tpos = 0;

	for (uint64_t id = 0; id < 6; id++) {
		ok(graph_node_create(g, id, 1));
		ok(graph_node_add_label(g, id, A, 1));
	}
	for (uint64_t id = 0; id < 6; id++)
		ok(graph_rel_create(g, id, KNOWS, 0, id, 1));
	/* Out list of 0: 5 4 3 2 1 0. */
	graph_expand_init(&it, g, 0, GRAPH_OUT, GRAPH_NO_TOKEN);
	assert_int_equal(graph_expand_next(g, &it), 5);
	assert_int_equal(graph_expand_next(g, &it), 4);
	/* Delete the one the cursor stands on and the next two. */
	ok(graph_rel_delete(g, 4, 2));
	ok(graph_rel_delete(g, 3, 2));
	ok(graph_rel_delete(g, 2, 2));
	/* A newer one is not seen by a cursor past the head. */
	ok(graph_rel_create(g, 6, KNOWS, 0, 1, 2));
	assert_int_equal(graph_expand_next(g, &it), 1);
	ok(graph_rel_delete(g, 0, 3));
	assert_int_equal(graph_expand_next(g, &it), GRAPH_NO_ID);

	assert_int_equal(graph_node_scan(g, &pos), 0);
	assert_int_equal(graph_label_scan(g, A, &lpos), 0);
	assert_int_equal(graph_rel_scan(g, &tpos), 1);
	ok(graph_rel_delete(g, 1, 4));
	ok(graph_rel_delete(g, 6, 4));
	ok(graph_node_delete(g, 1, 4));
	ok(graph_node_delete(g, 2, 4));
	assert_int_equal(graph_node_scan(g, &pos), 3);
	assert_int_equal(graph_label_scan(g, A, &lpos), 3);
	assert_int_equal(graph_rel_scan(g, &tpos), 5);
	ok(graph_node_create(g, 9, 5));
	ok(graph_node_add_label(g, 9, A, 5));
	assert_int_equal(graph_node_scan(g, &pos), 4);
	assert_int_equal(graph_node_scan(g, &pos), 5);
	assert_int_equal(graph_node_scan(g, &pos), 9);
	assert_int_equal(graph_node_scan(g, &pos), GRAPH_NO_ID);
}

/* A list [42, "héllo", {a: true, b: 1.5}]. */
static void make_nested(struct graft_value *v)
{
	struct graft_value m;

	ok(graft_value_list(v, 3));
	v->u.list->items[0] = graft_value_int(42);
	ok(graft_value_string(&v->u.list->items[1], "héllo", 6));
	ok(graft_value_map(&m, 2));
	m.u.map->entries[0].key = graft_str_new("b", 1);
	m.u.map->entries[0].value = graft_value_float(1.5);
	m.u.map->entries[1].key = graft_str_new("a", 1);
	m.u.map->entries[1].value = graft_value_bool(true);
	graft_map_sort(m.u.map);
	v->u.list->items[2] = m;
}

static void test_graph_props_hold_every_value_type(void **state)
{
	struct graph *g = *state;
	struct graft_value vals[7], nul = graft_value_null();
	const struct graph_prop *props;
	uint32_t keys[7];
	char name[8];

	vals[0] = graft_value_bool(true);
	vals[1] = graft_value_int(-7);
	vals[2] = graft_value_float(2.5);
	ok(graft_value_string(&vals[3], "text", 4));
	ok(graft_value_bytes(&vals[4], "\0\1\2", 3));
	make_nested(&vals[5]);
	ok(graft_value_map(&vals[6], 1));
	vals[6].u.map->entries[0].key = graft_str_new("k", 1);
	make_nested(&vals[6].u.map->entries[0].value);
	/* Interned in reverse so that key order differs from set order. */
	for (int i = 6; i >= 0; i--) {
		snprintf(name, sizeof name, "p%d", i);
		ok(graph_token_intern(g, GRAPH_TOKEN_PROPKEY, name, 2, &keys[i]));
	}
	ok(graph_node_create(g, 0, 1));
	ok(graph_node_create(g, 1, 1));
	ok(graph_rel_create(g, 0, KNOWS, 0, 1, 1));
	assert_int_equal(graph_node_props(g, 0, &props), 0);
	for (int i = 0; i < 7; i++) {
		ok(graph_node_set_prop(g, 0, keys[i], &vals[i], 2));
		ok(graph_rel_set_prop(g, 0, keys[i], &vals[i], 2));
	}
	assert_int_equal(graph_node_props(g, 0, &props), 7);
	for (int i = 0; i < 7; i++) {
		assert_true(props[i].key == keys[6 - i]);
		assert_true(graft_value_equal(&props[i].value, &vals[6 - i]));
		assert_true(graft_value_equal(graph_node_prop(g, 0, keys[i]),
					      &vals[i]));
		assert_true(graft_value_equal(graph_rel_prop(g, 0, keys[i]),
					      &vals[i]));
	}
	/* Copied: the caller's values can go. */
	assert_ptr_not_equal(graph_node_prop(g, 0, keys[3])->u.s, vals[3].u.s);
	ok(graph_node_set_prop(g, 0, keys[3], &vals[5], 3));
	assert_true(graft_value_equal(graph_node_prop(g, 0, keys[3]), &vals[5]));
	ok(graph_node_set_prop(g, 0, keys[3], &nul, 4));
	ok(graph_rel_set_prop(g, 0, keys[3], NULL, 4));
	assert_null(graph_node_prop(g, 0, keys[3]));
	assert_null(graph_rel_prop(g, 0, keys[3]));
	assert_int_equal(graph_node_props(g, 0, &props), 6);
	assert_int_equal(graph_rel_props(g, 0, &props), 6);
	for (int i = 0; i < 7; i++) {
		ok(graph_node_set_prop(g, 0, keys[i], NULL, 5));
		graft_value_free(&vals[i]);
	}
	assert_int_equal(graph_node_props(g, 0, &props), 0);
	assert_null(props);
}

static void set_int(struct graph *g, uint64_t id, uint32_t key, int64_t i,
		    uint64_t version)
{
	struct graft_value v = graft_value_int(i);

	ok(graph_node_set_prop(g, id, key, &v, version));
}

static void test_graph_index_built_from_existing_nodes(void **state)
{
	struct graph *g = *state;
	struct graft_value one = graft_value_int(1), onef = graft_value_float(1);
	uint32_t pairs[4][2];
	uint64_t ids[8];

	for (uint64_t id = 0; id < 5; id++) {
		ok(graph_node_create(g, id, 1));
		set_int(g, id, AGE, (int64_t)id % 2, 1);
	}
	ok(graph_node_add_label(g, 1, A, 1));
	ok(graph_node_add_label(g, 3, A, 1));
	ok(graph_node_add_label(g, 4, A, 1));
	ok(graph_node_add_label(g, 2, B, 1));
	assert_false(graph_index_exists(g, A, AGE));
	ok(graph_index_create(g, A, AGE));
	assert_int_equal(graph_index_create(g, A, AGE), GRAFT_EEXIST);
	ok(graph_index_create(g, B, NAME));
	assert_true(graph_index_exists(g, A, AGE));
	assert_int_equal(graph_index_list(g, pairs, 4), 2);
	assert_int_equal(pairs[0][0], A);
	assert_int_equal(pairs[0][1], AGE);
	assert_int_equal(pairs[1][0], B);
	assert_int_equal(graph_index_list(g, pairs, 1), 1);
	assert_ids(ids, seek_all(g, A, AGE, &one, ids, 8), 2, 1, 3);
	/* 1.0 is not 1. */
	assert_ids(ids, seek_all(g, A, AGE, &onef, ids, 8), 0);
	one = graft_value_int(0);
	assert_ids(ids, seek_all(g, A, AGE, &one, ids, 8), 1, 4);
	ok(graph_index_drop(g, A, AGE));
	assert_false(graph_index_exists(g, A, AGE));
	assert_int_equal(graph_index_list(g, pairs, 4), 1);
	assert_int_equal(pairs[0][0], B);
	assert_int_equal(graph_index_drop(g, A, AGE), GRAFT_ENOTFOUND);
}

static void test_graph_index_follows_every_mutation(void **state)
{
	struct graph *g = *state;
	struct graft_value v7 = graft_value_int(7), v8 = graft_value_int(8), s;
	uint64_t ids[8];

	ok(graph_index_create(g, A, AGE));
	ok(graph_index_create(g, B, AGE));
	for (uint64_t id = 0; id < 4; id++)
		ok(graph_node_create(g, id, 1));
	set_int(g, 0, AGE, 7, 2); /* no label yet: not indexed */
	assert_ids(ids, seek_all(g, A, AGE, &v7, ids, 8), 0);
	ok(graph_node_add_label(g, 0, A, 3));
	assert_ids(ids, seek_all(g, A, AGE, &v7, ids, 8), 1, 0);
	ok(graph_node_add_label(g, 2, A, 3));
	ok(graph_node_add_label(g, 2, B, 3));
	set_int(g, 2, AGE, 7, 3);
	ok(graph_node_add_label(g, 1, A, 3));
	set_int(g, 1, AGE, 7, 3);
	assert_ids(ids, seek_all(g, A, AGE, &v7, ids, 8), 3, 0, 1, 2);
	assert_ids(ids, seek_all(g, B, AGE, &v7, ids, 8), 1, 2);
	/* Overwrite moves the node between values. */
	set_int(g, 1, AGE, 8, 4);
	assert_ids(ids, seek_all(g, A, AGE, &v7, ids, 8), 2, 0, 2);
	assert_ids(ids, seek_all(g, A, AGE, &v8, ids, 8), 1, 1);
	/* Same value again changes nothing. */
	set_int(g, 1, AGE, 8, 5);
	assert_ids(ids, seek_all(g, A, AGE, &v8, ids, 8), 1, 1);
	ok(graft_value_string(&s, "x", 1));
	ok(graph_node_set_prop(g, 2, AGE, &s, 5));
	assert_ids(ids, seek_all(g, B, AGE, &v7, ids, 8), 0);
	assert_ids(ids, seek_all(g, B, AGE, &s, ids, 8), 1, 2);
	assert_ids(ids, seek_all(g, A, AGE, &s, ids, 8), 1, 2);
	/* Property removal, label removal, node deletion. */
	ok(graph_node_set_prop(g, 0, AGE, NULL, 6));
	assert_ids(ids, seek_all(g, A, AGE, &v7, ids, 8), 0);
	ok(graph_node_remove_label(g, 2, A, 6));
	assert_ids(ids, seek_all(g, A, AGE, &s, ids, 8), 0);
	assert_ids(ids, seek_all(g, B, AGE, &s, ids, 8), 1, 2);
	ok(graph_node_delete(g, 2, 7));
	assert_ids(ids, seek_all(g, B, AGE, &s, ids, 8), 0);
	ok(graph_node_delete(g, 1, 7));
	assert_ids(ids, seek_all(g, A, AGE, &v8, ids, 8), 0);
	/* Seek resumes by id. */
	for (uint64_t id = 10; id < 14; id++) {
		ok(graph_node_create(g, id, 8));
		ok(graph_node_add_label(g, id, A, 8));
		set_int(g, id, AGE, 7, 8);
	}
	uint64_t pos = 12;
	assert_int_equal(graph_index_seek(g, A, AGE, &v7, &pos), 12);
	ok(graph_node_delete(g, 13, 9));
	assert_int_equal(graph_index_seek(g, A, AGE, &v7, &pos), GRAPH_NO_ID);
	graft_value_free(&s);
}

static void test_graph_tokens_intern_lookup_and_name(void **state)
{
	struct graph *g = *state;
	uint32_t tok, again;
	char name[16];

	assert_int_equal(graph_token_lookup(g, GRAPH_TOKEN_LABEL, "Z", 1),
			 GRAPH_NO_TOKEN);
	/* Kinds are separate namespaces. */
	assert_int_equal(graph_token_lookup(g, GRAPH_TOKEN_PROPKEY, "A", 1),
			 GRAPH_NO_TOKEN);
	assert_int_equal(graph_token_lookup(g, GRAPH_TOKEN_LABEL, "B", 1), B);
	assert_string_equal(graph_token_name(g, GRAPH_TOKEN_RELTYPE, LIKES),
			    "LIKES");
	for (int i = 0; i < 1000; i++) {
		snprintf(name, sizeof name, "label%d", i);
		ok(graph_token_intern(g, GRAPH_TOKEN_LABEL, name, strlen(name),
				      &tok));
		assert_int_equal(tok, 3 + i);
	}
	ok(graph_token_intern(g, GRAPH_TOKEN_LABEL, "label500", 8, &again));
	assert_int_equal(again, 503);
	/* Length counts, not the NUL: "label5" is a prefix of "label500". */
	assert_int_equal(graph_token_lookup(g, GRAPH_TOKEN_LABEL, "label500", 6),
			 3 + 5);
	assert_string_equal(graph_token_name(g, GRAPH_TOKEN_LABEL, 999 + 3),
			    "label999");
	assert_int_equal(graph_token_count(g, GRAPH_TOKEN_LABEL), 1003);
	assert_int_equal(graph_token_count(g, GRAPH_TOKEN_RELTYPE), 2);
}

static void test_graph_versions_track_node_and_rel_changes(void **state)
{
	struct graph *g = *state;

	assert_int_equal(graph_node_version(g, 0), 0);
	assert_int_equal(graph_node_version(g, 123456789), 0);
	ok(graph_node_create(g, 0, 5));
	ok(graph_node_create(g, 1, 5));
	assert_int_equal(graph_node_version(g, 0), 5);
	ok(graph_node_add_label(g, 0, A, 6));
	assert_int_equal(graph_node_version(g, 0), 6);
	set_int(g, 0, AGE, 1, 7);
	assert_int_equal(graph_node_version(g, 0), 7);
	ok(graph_node_remove_label(g, 0, A, 8));
	assert_int_equal(graph_node_version(g, 0), 8);
	ok(graph_rel_create(g, 0, KNOWS, 0, 1, 9));
	assert_int_equal(graph_rel_version(g, 0), 9);
	assert_int_equal(graph_node_version(g, 0), 8);
	assert_int_equal(graph_node_version(g, 1), 5);
	ok(graph_rel_set_prop(g, 0, NAME, &(struct graft_value){
				   .type = GRAFT_VALUE_INT, .u.i = 3}, 10));
	assert_int_equal(graph_rel_version(g, 0), 10);
	ok(graph_rel_delete(g, 0, 11));
	assert_int_equal(graph_rel_version(g, 0), 11);
	assert_int_equal(graph_node_version(g, 0), 8);
	ok(graph_node_delete(g, 0, 12));
	assert_int_equal(graph_node_version(g, 0), 12);
	assert_false(graph_node_exists(g, 0));
}

static void test_graph_accepts_ids_out_of_order_and_reserved(void **state)
{
	struct graph *g = *state;
	uint64_t pos = 0;

	ok(graph_node_create(g, 70000, 1));
	ok(graph_node_create(g, 3, 2));
	ok(graph_node_create(g, 0, 3));
	assert_int_equal(graph_next_node_id(g), 70001);
	assert_int_equal(graph_node_scan(g, &pos), 0);
	assert_int_equal(graph_node_scan(g, &pos), 3);
	assert_int_equal(graph_node_scan(g, &pos), 70000);
	assert_int_equal(graph_node_scan(g, &pos), GRAPH_NO_ID);
	ok(graph_rel_create(g, 9, KNOWS, 3, 0, 4));
	ok(graph_rel_create(g, 2, KNOWS, 3, 0, 4));
	assert_int_equal(graph_next_rel_id(g), 10);
	graph_reserve_ids(g, 80000, 5);
	assert_int_equal(graph_next_node_id(g), 80000);
	assert_int_equal(graph_next_rel_id(g), 10);
	assert_int_equal(graph_node_version(g, 75000), 0);
	ok(graph_node_create(g, 75000, 5));
	assert_int_equal(graph_next_node_id(g), 80000);
}

static void test_graph_stats_count_entities_and_bytes(void **state)
{
	struct graph *g = *state;
	struct graph_stats s0, s1, s2;
	struct graft_value v;

	graph_stats(g, &s0);
	assert_int_equal(s0.nodes, 0);
	assert_int_equal(s0.node_bytes, sizeof(struct node_slot));
	assert_int_equal(s0.rel_bytes, sizeof(struct rel_slot));
	assert_true(s0.node_bytes <= 64 && s0.rel_bytes <= 64);
	for (uint64_t id = 0; id < 10; id++)
		ok(graph_node_create(g, id, 1));
	ok(graph_rel_create(g, 0, KNOWS, 0, 1, 1));
	ok(graph_node_delete(g, 9, 2));
	graph_stats(g, &s1);
	assert_int_equal(s1.nodes, 9);
	assert_int_equal(s1.rels, 1);
	assert_true(s1.bytes >= s0.bytes + SLOT_CHUNK * (s1.node_bytes +
							 s1.rel_bytes));
	ok(graft_value_string(&v, "a fairly long string value", 26));
	ok(graph_node_set_prop(g, 0, NAME, &v, 3));
	graph_stats(g, &s2);
	assert_true(s2.bytes >= s1.bytes + 26);
	ok(graph_node_set_prop(g, 0, NAME, NULL, 4));
	graph_stats(g, &s2);
	assert_int_equal(s2.bytes, s1.bytes);
	graft_value_free(&v);
}

/* Everything observable, serialised, to compare a graph before and after an
 * apply that failed. */
static void dump(const struct graph *g, struct graft_buf *b)
{
	struct graph_stats st;
	uint32_t pairs[8][2];
	uint64_t ids[64];
	size_t n;

	graft_buf_reset(b);
	graph_stats(g, &st);
	ok(graft_buf_put_u64le(b, st.nodes));
	ok(graft_buf_put_u64le(b, st.rels));
	ok(graft_buf_put_u64le(b, graph_next_node_id(g)));
	ok(graft_buf_put_u64le(b, graph_next_rel_id(g)));
	for (int k = 0; k < GRAPH_TOKEN_KINDS; k++)
		ok(graft_buf_put_u32le(b, graph_token_count(g, k)));
	for (uint64_t id = 0; id < graph_next_node_id(g); id++) {
		const struct graph_prop *props;
		const uint32_t *labels;
		ok(graft_buf_put_u64le(b, graph_node_version(g, id)));
		if (!graph_node_exists(g, id))
			continue;
		n = graph_node_labels(g, id, &labels);
		ok(graft_buf_append(b, labels, n * sizeof *labels));
		n = graph_node_props(g, id, &props);
		for (size_t i = 0; i < n; i++) {
			ok(graft_buf_put_u32le(b, props[i].key));
			ok(graft_buf_put_u64le(b,
					       graft_value_hash(&props[i].value)));
		}
		n = expand_all(g, id, GRAPH_BOTH, GRAPH_NO_TOKEN, ids, 64);
		ok(graft_buf_append(b, ids, n * sizeof *ids));
	}
	for (uint64_t id = 0; id < graph_next_rel_id(g); id++) {
		const struct graph_prop *props;
		struct graph_rel_ends e;
		ok(graft_buf_put_u64le(b, graph_rel_version(g, id)));
		if (!graph_rel_exists(g, id))
			continue;
		graph_rel_ends(g, id, &e);
		ok(graft_buf_append(b, &e, sizeof e));
		n = graph_rel_props(g, id, &props);
		for (size_t i = 0; i < n; i++)
			ok(graft_buf_put_u64le(b,
					       graft_value_hash(&props[i].value)));
	}
	for (uint32_t l = 0; l < graph_token_count(g, GRAPH_TOKEN_LABEL); l++) {
		n = label_scan_all(g, l, ids, 64);
		ok(graft_buf_append(b, ids, n * sizeof *ids));
	}
	n = graph_index_list(g, pairs, 8);
	for (size_t i = 0; i < n; i++) {
		for (int64_t x = 0; x < 4; x++) {
			struct graft_value v = graft_value_int(x);
			size_t m = seek_all(g, pairs[i][0], pairs[i][1], &v, ids,
					    64);
			ok(graft_buf_append(b, ids, m * sizeof *ids));
		}
	}
}

/* Runs op with the nth allocation failing for n = 1, 2, ... until it
 * succeeds, checking that each failure left the graph as it was. */
static void fail_each_alloc(struct graph *g, int (*op)(struct graph *g))
{
	struct graft_buf before, after;
	int rv;

	graft_buf_init(&before);
	graft_buf_init(&after);
	for (uint64_t nth = 1;; nth++) {
		dump(g, &before);
		graph_fail_alloc(g, nth);
		rv = op(g);
		graph_fail_alloc(g, 0);
		if (rv == GRAFT_OK)
			break;
		assert_int_equal(rv, GRAFT_ENOMEM);
		dump(g, &after);
		assert_int_equal(before.len, after.len);
		assert_memory_equal(before.data, after.data, before.len);
	}
	graft_buf_free(&before);
	graft_buf_free(&after);
}

static int op_create_far_node(struct graph *g)
{
	return graph_node_create(g, 3 * SLOT_CHUNK, 2);
}
static int op_add_label_a(struct graph *g)
{
	return graph_node_add_label(g, 3 * SLOT_CHUNK, A, 3);
}
static int op_add_label_b(struct graph *g)
{
	return graph_node_add_label(g, 3 * SLOT_CHUNK, B, 3);
}
static int op_set_age(struct graph *g)
{
	struct graft_value v = graft_value_int(1);
	return graph_node_set_prop(g, 3 * SLOT_CHUNK, AGE, &v, 4);
}
static int op_set_nested(struct graph *g)
{
	struct graft_value v;
	int rv;
	make_nested(&v);
	rv = graph_node_set_prop(g, 1, NAME, &v, 4);
	graft_value_free(&v);
	return rv;
}
static int op_remove_label_a(struct graph *g)
{
	return graph_node_remove_label(g, 3 * SLOT_CHUNK, A, 5);
}
static int op_rel_create(struct graph *g)
{
	uint32_t t = graph_token_lookup(g, GRAPH_TOKEN_RELTYPE, "NEW", 3);
	return graph_rel_create(g, 2 * SLOT_CHUNK, t, 1, 3 * SLOT_CHUNK, 6);
}
static int op_rel_set_prop(struct graph *g)
{
	struct graft_value v = graft_value_int(2);
	return graph_rel_set_prop(g, 2 * SLOT_CHUNK, AGE, &v, 7);
}
static int op_index_create(struct graph *g)
{
	return graph_index_create(g, A, NAME);
}
static int op_intern_label(struct graph *g)
{
	uint32_t tok;
	return graph_token_intern(g, GRAPH_TOKEN_LABEL, "Fresh", 5, &tok);
}

static void test_graph_out_of_memory_leaves_graph_unchanged(void **state)
{
	struct graph *g = *state;
	uint32_t tok;
	int (*ops[])(struct graph *) = {
		op_create_far_node, op_add_label_a, op_add_label_b, op_set_age,
		op_set_nested,	    op_index_create, op_remove_label_a,
		op_rel_create,	    op_rel_set_prop, op_intern_label,
	};

	ok(graph_index_create(g, A, AGE));
	ok(graph_index_create(g, B, AGE));
	for (uint64_t id = 0; id < 3; id++) {
		ok(graph_node_create(g, id, 1));
		ok(graph_node_add_label(g, id, A, 1));
		set_int(g, id, AGE, 1, 1);
	}
	/* A relationship type of its own, so that its bitmap is new. */
	ok(graph_token_intern(g, GRAPH_TOKEN_RELTYPE, "NEW", 3, &tok));
	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
		fail_each_alloc(g, ops[i]);
	assert_true(graph_node_has_label(g, 3 * SLOT_CHUNK, B));
	assert_int_equal(graph_node_degree(g, 1, GRAPH_OUT), 1);
}

/* The checkpoint reads the graph from a forked child; and a violated
 * precondition stops the process instead of corrupting the graph. */
static void test_graph_forked_child_reads_and_violation_aborts(void **state)
{
	struct graph *g = *state;
	int status;
	pid_t pid;

	ok(graph_node_create(g, 0, 1));
	ok(graph_node_add_label(g, 0, C, 1));
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(graph_node_has_label(g, 0, C) ? 0 : 1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);
		dup2(fd, 2);
		graph_node_create(g, 0, 2); /* already existed */
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
}

/* A reference model: plain arrays, checked against the graph after random
 * operations. */
#define M_NODES 1000
#define M_RELS 2000
#define M_LABELS 4
#define M_KEYS 3
#define M_TYPES 2

struct m_node {
	bool used, live;
	uint64_t version;
	unsigned labels; /* bit per label */
	int val[M_KEYS]; /* -1: unset */
};

struct m_rel {
	bool used, live;
	uint64_t version, src, dst, seq;
	uint32_t type;
	int val; /* property NAME; -1: unset */
};

struct model {
	struct m_node n[M_NODES];
	struct m_rel r[M_RELS];
	bool idx[M_LABELS][M_KEYS];
	uint64_t seq, rng;
};

static uint32_t m_rand(struct model *m, uint32_t n)
{
	m->rng ^= m->rng << 13; /* xorshift64: the same run everywhere */
	m->rng ^= m->rng >> 7;
	m->rng ^= m->rng << 17;
	return (uint32_t)(m->rng % n);
}

/* Key 0 holds ints, key 1 strings, key 2 floats: equal numbers of different
 * types must not meet in an index. */
static void m_value(int key, int x, struct graft_value *v)
{
	char s[8];

	if (key == 0)
		*v = graft_value_int(x);
	else if (key == 2)
		*v = graft_value_float(x);
	else
		ok(graft_value_string(v, s, (size_t)snprintf(s, sizeof s, "v%d", x)));
}

static bool m_has_rels(const struct model *m, uint64_t id)
{
	for (int r = 0; r < M_RELS; r++)
		if (m->r[r].live && (m->r[r].src == id || m->r[r].dst == id))
			return true;
	return false;
}

/* order: the live relationships, newest first. */
static size_t m_expand(const struct model *m, const uint64_t *order,
		       size_t n_order, uint64_t node, int dir, uint32_t type,
		       uint64_t *ids)
{
	size_t n = 0;

	for (int phase = 0; phase < 2; phase++) {
		if (!(dir & (phase ? GRAPH_IN : GRAPH_OUT)))
			continue;
		for (size_t i = 0; i < n_order; i++) {
			const struct m_rel *x = &m->r[order[i]];
			if ((phase ? x->dst : x->src) == node &&
			    (type == GRAPH_NO_TOKEN || x->type == type) &&
			    !(phase && dir == GRAPH_BOTH && x->src == x->dst))
				ids[n++] = order[i];
		}
	}
	return n;
}

static void m_check(struct graph *g, struct model *m)
{
	uint64_t ids[M_RELS], want[M_RELS], order[M_RELS], pos = 0, next = 0;
	uint64_t rnext = 0, *by_seq = calloc(m->seq + 1, sizeof *by_seq);
	size_t n, k, n_order = 0;
	struct graph_stats st;
	struct graph_rel_ends e;
	uint64_t live = 0, rlive = 0;

	assert_non_null(by_seq);
	for (uint64_t id = 0; id < M_RELS; id++)
		if (m->r[id].live)
			by_seq[m->r[id].seq] = id + 1;
	for (uint64_t seq = m->seq; seq > 0; seq--)
		if (by_seq[seq] != 0)
			order[n_order++] = by_seq[seq] - 1;
	free(by_seq);
	for (uint64_t id = 0; id < M_NODES; id++) {
		const struct m_node *x = &m->n[id];
		assert_int_equal(graph_node_exists(g, id), x->live);
		assert_int_equal(graph_node_version(g, id), x->version);
		next = x->used ? id + 1 : next;
		if (!x->live)
			continue;
		live++;
		assert_int_equal(graph_node_scan(g, &pos), id);
		for (uint32_t l = 0; l < M_LABELS; l++)
			assert_int_equal(graph_node_has_label(g, id, l),
					 (x->labels >> l) & 1);
		k = 0;
		for (int key = 0; key < M_KEYS; key++) {
			const struct graft_value *v = graph_node_prop(g, id, key);
			struct graft_value w;
			if (x->val[key] < 0) {
				assert_null(v);
				continue;
			}
			k++;
			m_value(key, x->val[key], &w);
			assert_true(v != NULL && graft_value_equal(v, &w));
			graft_value_free(&w);
		}
		assert_int_equal(graph_node_props(g, id, &(const struct graph_prop *){0}), k);
		for (int dir = GRAPH_OUT; dir <= GRAPH_BOTH; dir++) {
			uint32_t type = m_rand(m, 3);
			type = type == M_TYPES ? GRAPH_NO_TOKEN : type;
			n = expand_all(g, id, dir, type, ids, M_RELS);
			assert_int_equal(n, m_expand(m, order, n_order, id, dir,
						     type, want));
			assert_memory_equal(ids, want, n * sizeof *ids);
		}
	}
	assert_int_equal(graph_node_scan(g, &pos), GRAPH_NO_ID);
	pos = 0;
	for (uint64_t id = 0; id < M_RELS; id++) {
		const struct m_rel *x = &m->r[id];
		assert_int_equal(graph_rel_exists(g, id), x->live);
		assert_int_equal(graph_rel_version(g, id), x->version);
		rnext = x->used ? id + 1 : rnext;
		if (!x->live)
			continue;
		rlive++;
		assert_int_equal(graph_rel_scan(g, &pos), id);
		graph_rel_ends(g, id, &e);
		assert_true(e.src == x->src && e.dst == x->dst && e.type == x->type);
		if (x->val < 0)
			assert_null(graph_rel_prop(g, id, NAME));
		else
			assert_int_equal(graph_rel_prop(g, id, NAME)->u.i, x->val);
	}
	assert_int_equal(graph_rel_scan(g, &pos), GRAPH_NO_ID);
	graph_stats(g, &st);
	assert_int_equal(st.nodes, live);
	assert_int_equal(st.rels, rlive);
	assert_int_equal(graph_next_node_id(g), next);
	assert_int_equal(graph_next_rel_id(g), rnext);
	for (uint32_t l = 0; l < M_LABELS; l++) {
		n = label_scan_all(g, l, ids, M_RELS);
		k = 0;
		for (uint64_t id = 0; id < M_NODES; id++)
			if (m->n[id].live && (m->n[id].labels >> l & 1))
				want[k++] = id;
		assert_int_equal(n, k);
		assert_memory_equal(ids, want, n * sizeof *ids);
		for (int key = 0; key < M_KEYS; key++) {
			assert_int_equal(graph_index_exists(g, l, key),
					 m->idx[l][key]);
			for (int x = 0; m->idx[l][key] && x < 4; x++) {
				struct graft_value v;
				m_value(key, x, &v);
				n = seek_all(g, l, key, &v, ids, M_RELS);
				graft_value_free(&v);
				k = 0;
				for (uint64_t id = 0; id < M_NODES; id++)
					if (m->n[id].live &&
					    (m->n[id].labels >> l & 1) &&
					    m->n[id].val[key] == x)
						want[k++] = id;
				assert_int_equal(n, k);
				assert_memory_equal(ids, want, n * sizeof *ids);
			}
		}
	}
	for (uint32_t t = 0; t < M_TYPES; t++) {
		pos = 0;
		for (uint64_t id = 0; id < M_RELS; id++)
			if (m->r[id].live && m->r[id].type == t)
				assert_int_equal(graph_type_scan(g, t, &pos), id);
		assert_int_equal(graph_type_scan(g, t, &pos), GRAPH_NO_ID);
	}
}

/* A live node, or -1 after a few misses. */
static int m_live_node(struct model *m)
{
	for (int tries = 0; tries < 32; tries++) {
		int id = (int)m_rand(m, M_NODES);
		if (m->n[id].live)
			return id;
	}
	return -1;
}

static void m_step(struct graph *g, struct model *m, uint64_t tx)
{
	uint32_t op = m_rand(m, 100), l = m_rand(m, M_LABELS);
	int key = (int)m_rand(m, M_KEYS), x = (int)m_rand(m, 5) - 1;
	int id = m_live_node(m), r = (int)m_rand(m, M_RELS);
	struct graft_value v;

	if (op < 15) {
		id = (int)m_rand(m, M_NODES); /* out of order on purpose */
		if (m->n[id].used)
			return;
		ok(graph_node_create(g, (uint64_t)id, tx));
		m->n[id] = (struct m_node){.used = true, .live = true,
					   .version = tx, .val = {-1, -1, -1}};
	} else if (id < 0) {
		return;
	} else if (op < 32) {
		bool add = op < 25;
		ok(add ? graph_node_add_label(g, (uint64_t)id, l, tx)
		       : graph_node_remove_label(g, (uint64_t)id, l, tx));
		m->n[id].labels = add ? m->n[id].labels | 1u << l
				      : m->n[id].labels & ~(1u << l);
		m->n[id].version = tx;
	} else if (op < 50) {
		m_value(key, x, &v);
		ok(graph_node_set_prop(g, (uint64_t)id, (uint32_t)key,
				       x < 0 ? NULL : &v, tx));
		graft_value_free(&v);
		m->n[id].val[key] = x;
		m->n[id].version = tx;
	} else if (op < 70) {
		int dst = m_live_node(m);
		if (m->r[r].used || dst < 0)
			return;
		ok(graph_rel_create(g, (uint64_t)r, l % M_TYPES, (uint64_t)id,
				    (uint64_t)dst, tx));
		m->r[r] = (struct m_rel){.used = true, .live = true,
					 .version = tx, .src = (uint64_t)id,
					 .dst = (uint64_t)dst, .seq = ++m->seq,
					 .type = l % M_TYPES, .val = -1};
	} else if (op < 80) {
		if (!m->r[r].live)
			return;
		ok(graph_rel_delete(g, (uint64_t)r, tx));
		m->r[r].live = false;
		m->r[r].version = tx;
	} else if (op < 86) {
		if (m_has_rels(m, (uint64_t)id))
			return;
		ok(graph_node_delete(g, (uint64_t)id, tx));
		m->n[id].live = false;
		m->n[id].version = tx;
	} else if (op < 95) {
		if (!m->r[r].live)
			return;
		v = graft_value_int(x);
		ok(graph_rel_set_prop(g, (uint64_t)r, NAME, x < 0 ? NULL : &v,
				      tx));
		m->r[r].val = x;
		m->r[r].version = tx;
	} else if (!m->idx[l][key]) {
		ok(graph_index_create(g, l, (uint32_t)key));
		m->idx[l][key] = true;
	} else if (op == 99) {
		ok(graph_index_drop(g, l, (uint32_t)key));
		m->idx[l][key] = false;
	}
}

static void test_graph_matches_reference_model(void **state)
{
	struct graph *g = *state;
	struct model *m = calloc(1, sizeof *m);
	uint32_t tok;

	assert_non_null(m);
	m->rng = 0x2545f4914f6cdd1dull;
	ok(graph_token_intern(g, GRAPH_TOKEN_LABEL, "D", 1, &tok));
	ok(graph_token_intern(g, GRAPH_TOKEN_PROPKEY, "k2", 2, &tok));
	ok(graph_index_create(g, A, 0));
	m->idx[A][0] = true;
	for (uint64_t tx = 1; tx <= 10000; tx++) {
		m_step(g, m, tx);
		if (tx % 250 == 0)
			m_check(g, m);
	}
	m_check(g, m);
	free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_graph_creates_reads_and_deletes_entities),
		T(test_graph_labels_add_remove_and_scan),
		T(test_graph_type_scan_lists_rels_of_one_type),
		T(test_graph_expands_by_direction_type_and_self_loop),
		T(test_graph_expand_and_scans_survive_deletions),
		T(test_graph_props_hold_every_value_type),
		T(test_graph_index_built_from_existing_nodes),
		T(test_graph_index_follows_every_mutation),
		T(test_graph_tokens_intern_lookup_and_name),
		T(test_graph_versions_track_node_and_rel_changes),
		T(test_graph_accepts_ids_out_of_order_and_reserved),
		T(test_graph_stats_count_entities_and_bytes),
		T(test_graph_out_of_memory_leaves_graph_unchanged),
		T(test_graph_forked_child_reads_and_violation_aborts),
		T(test_graph_matches_reference_model),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
