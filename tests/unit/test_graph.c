/* Unit tests for the in-memory property graph: entities, labels, types,
 * expansion, properties, indexes, tokens, versions, ids and statistics. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "graph/graph_int.h"
#include "graph_fixture.h"
#include "util/err.h"

static void test_graph_creates_reads_and_deletes_entities(void **state)
{
	struct graph *g = *state;
	struct graph_rel_ends ends;
	uint64_t pos = 0;

	for (uint64_t id = 0; id < 3; id++)
		gfx_ok(graph_node_create(g, id, 10 + id));
	gfx_ok(graph_rel_create(g, 0, KNOWS, 0, 1, 20));
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

	gfx_ok(graph_rel_delete(g, 0, 21));
	assert_false(graph_rel_exists(g, 0));
	assert_int_equal(graph_rel_version(g, 0), 21);
	assert_int_equal(graph_node_degree(g, 1, GRAPH_BOTH), 0);
	gfx_ok(graph_node_delete(g, 1, 22));
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
		gfx_ok(graph_node_create(g, id, 1));
	gfx_ok(graph_node_add_label(g, 2, C, 2));
	gfx_ok(graph_node_add_label(g, 2, A, 2));
	gfx_ok(graph_node_add_label(g, 0, A, 2));
	gfx_ok(graph_node_add_label(g, 3, A, 2));
	gfx_ok(graph_node_add_label(g, 3, A, 3)); /* already there: no change */
	assert_int_equal(graph_node_labels(g, 2, &labels), 2);
	assert_int_equal(labels[0], A);
	assert_int_equal(labels[1], C);
	assert_true(graph_node_has_label(g, 2, C));
	assert_false(graph_node_has_label(g, 1, A));
	gfx_ids(ids, gfx_label_scan(g, A, ids, 8), 3, 0, 2, 3);
	gfx_ids(ids, gfx_label_scan(g, C, ids, 8), 1, 2);
	gfx_ids(ids, gfx_label_scan(g, B, ids, 8), 0);

	gfx_ok(graph_node_remove_label(g, 2, A, 4));
	gfx_ok(graph_node_remove_label(g, 1, A, 4)); /* absent: no change */
	assert_int_equal(graph_node_labels(g, 2, &labels), 1);
	assert_int_equal(labels[0], C);
	gfx_ids(ids, gfx_label_scan(g, A, ids, 8), 2, 0, 3);
	gfx_ok(graph_node_delete(g, 3, 5));
	gfx_ids(ids, gfx_label_scan(g, A, ids, 8), 1, 0);
	/* More labels than a node change builds on the stack. */
	for (uint32_t i = 0; i < 40; i++) {
		char name[8];
		uint32_t tok;
		snprintf(name, sizeof name, "X%u", i);
		gfx_ok(graph_token_intern(g, GRAPH_TOKEN_LABEL, name,
					  strlen(name), &tok));
		gfx_ok(graph_node_add_label(g, 1, tok, 6));
	}
	gfx_ok(graph_node_remove_label(g, 1, 3 + 20, 6));
	assert_int_equal(graph_node_labels(g, 1, &labels), 39);
	assert_int_equal(labels[19], 3 + 19);
	assert_int_equal(labels[20], 3 + 21);
	/* A label scan spanning bitmap chunks. */
	gfx_ok(graph_node_create(g, 200000, 6));
	gfx_ok(graph_node_add_label(g, 200000, A, 6));
	gfx_ids(ids, gfx_label_scan(g, A, ids, 8), 2, 0, 200000);
}

static void test_graph_type_scan_lists_rels_of_one_type(void **state)
{
	struct graph *g = *state;
	uint64_t pos = 0;

	gfx_ok(graph_node_create(g, 0, 1));
	gfx_ok(graph_rel_create(g, 5, LIKES, 0, 0, 1));
	gfx_ok(graph_rel_create(g, 1, KNOWS, 0, 0, 1));
	gfx_ok(graph_rel_create(g, 3, LIKES, 0, 0, 1));
	assert_int_equal(graph_type_scan(g, LIKES, &pos), 3);
	assert_int_equal(graph_type_scan(g, LIKES, &pos), 5);
	assert_int_equal(graph_type_scan(g, LIKES, &pos), GRAPH_NO_ID);
	pos = 0;
	assert_int_equal(graph_type_scan(g, KNOWS, &pos), 1);
	gfx_ok(graph_rel_delete(g, 1, 2));
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
		gfx_ok(graph_node_create(g, id, 1));
	gfx_ok(graph_rel_create(g, 0, KNOWS, 0, 1, 1));
	gfx_ok(graph_rel_create(g, 1, LIKES, 0, 2, 1));
	gfx_ok(graph_rel_create(g, 2, KNOWS, 2, 0, 1));
	gfx_ok(graph_rel_create(g, 3, KNOWS, 0, 0, 1)); /* self-loop */
	/* Newest first. */
	gfx_ids(ids, gfx_expand(g, 0, GRAPH_OUT, GRAPH_NO_TOKEN, ids, 8), 3,
		   3, 1, 0);
	gfx_ids(ids, gfx_expand(g, 0, GRAPH_IN, GRAPH_NO_TOKEN, ids, 8), 2,
		   3, 2);
	gfx_ids(ids, gfx_expand(g, 0, GRAPH_BOTH, GRAPH_NO_TOKEN, ids, 8), 4,
		   3, 1, 0, 2);
	gfx_ids(ids, gfx_expand(g, 0, GRAPH_BOTH, KNOWS, ids, 8), 3, 3, 0,
		   2);
	gfx_ids(ids, gfx_expand(g, 0, GRAPH_OUT, LIKES, ids, 8), 1, 1);
	gfx_ids(ids, gfx_expand(g, 2, GRAPH_BOTH, GRAPH_NO_TOKEN, ids, 8), 2,
		   2, 1);
	assert_int_equal(graph_node_degree(g, 0, GRAPH_BOTH), 4);
	assert_int_equal(graph_node_degree(g, 0, GRAPH_IN), 2);
	/* An id never created, in a chunk that exists, has no relationships. */
	assert_int_equal(gfx_expand(g, 7, GRAPH_BOTH, GRAPH_NO_TOKEN, ids, 8),
			 0);
}

static void test_graph_expand_and_scans_survive_deletions(void **state)
{
	struct graph *g = *state;
	struct graph_expand it;
	uint64_t pos = 0, lpos = 0, tpos = 0;

	for (uint64_t id = 0; id < 6; id++) {
		gfx_ok(graph_node_create(g, id, 1));
		gfx_ok(graph_node_add_label(g, id, A, 1));
	}
	for (uint64_t id = 0; id < 6; id++)
		gfx_ok(graph_rel_create(g, id, KNOWS, 0, id, 1));
	/* Out list of 0: 5 4 3 2 1 0. */
	graph_expand_init(&it, g, 0, GRAPH_OUT, GRAPH_NO_TOKEN);
	assert_int_equal(graph_expand_next(g, &it), 5);
	assert_int_equal(graph_expand_next(g, &it), 4);
	/* Delete the one the cursor stands on and the next two. */
	gfx_ok(graph_rel_delete(g, 4, 2));
	gfx_ok(graph_rel_delete(g, 3, 2));
	gfx_ok(graph_rel_delete(g, 2, 2));
	/* A newer one is not seen by a cursor past the head. */
	gfx_ok(graph_rel_create(g, 6, KNOWS, 0, 1, 2));
	assert_int_equal(graph_expand_next(g, &it), 1);
	gfx_ok(graph_rel_delete(g, 0, 3));
	assert_int_equal(graph_expand_next(g, &it), GRAPH_NO_ID);

	assert_int_equal(graph_node_scan(g, &pos), 0);
	assert_int_equal(graph_label_scan(g, A, &lpos), 0);
	assert_int_equal(graph_rel_scan(g, &tpos), 1);
	gfx_ok(graph_rel_delete(g, 1, 4));
	gfx_ok(graph_rel_delete(g, 6, 4));
	gfx_ok(graph_node_delete(g, 1, 4));
	gfx_ok(graph_node_delete(g, 2, 4));
	assert_int_equal(graph_node_scan(g, &pos), 3);
	assert_int_equal(graph_label_scan(g, A, &lpos), 3);
	assert_int_equal(graph_rel_scan(g, &tpos), 5);
	gfx_ok(graph_node_create(g, 9, 5));
	gfx_ok(graph_node_add_label(g, 9, A, 5));
	assert_int_equal(graph_node_scan(g, &pos), 4);
	assert_int_equal(graph_node_scan(g, &pos), 5);
	assert_int_equal(graph_node_scan(g, &pos), 9);
	assert_int_equal(graph_node_scan(g, &pos), GRAPH_NO_ID);
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
	gfx_ok(graft_value_string(&vals[3], "text", 4));
	gfx_ok(graft_value_bytes(&vals[4], "\0\1\2", 3));
	gfx_nested(&vals[5]);
	gfx_ok(graft_value_map(&vals[6], 1));
	vals[6].u.map->entries[0].key = graft_str_new("k", 1);
	gfx_nested(&vals[6].u.map->entries[0].value);
	/* Interned in reverse so that key order differs from set order. */
	for (int i = 6; i >= 0; i--) {
		snprintf(name, sizeof name, "p%d", i);
		gfx_ok(graph_token_intern(g, GRAPH_TOKEN_PROPKEY, name, 2,
					  &keys[i]));
	}
	gfx_ok(graph_node_create(g, 0, 1));
	gfx_ok(graph_node_create(g, 1, 1));
	gfx_ok(graph_rel_create(g, 0, KNOWS, 0, 1, 1));
	assert_int_equal(graph_node_props(g, 0, &props), 0);
	for (int i = 0; i < 7; i++) {
		gfx_ok(graph_node_set_prop(g, 0, keys[i], &vals[i], 2));
		gfx_ok(graph_rel_set_prop(g, 0, keys[i], &vals[i], 2));
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
	gfx_ok(graph_node_set_prop(g, 0, keys[3], &vals[5], 3));
	assert_true(
		graft_value_equal(graph_node_prop(g, 0, keys[3]), &vals[5]));
	gfx_ok(graph_node_set_prop(g, 0, keys[3], &nul, 4));
	gfx_ok(graph_rel_set_prop(g, 0, keys[3], NULL, 4));
	assert_null(graph_node_prop(g, 0, keys[3]));
	assert_null(graph_rel_prop(g, 0, keys[3]));
	assert_int_equal(graph_node_props(g, 0, &props), 6);
	assert_int_equal(graph_rel_props(g, 0, &props), 6);
	for (int i = 0; i < 7; i++) {
		gfx_ok(graph_node_set_prop(g, 0, keys[i], NULL, 5));
		graft_value_free(&vals[i]);
	}
	assert_int_equal(graph_node_props(g, 0, &props), 0);
	assert_null(props);
}

/* A taken value is the graph's own (not a copy), counted in its bytes as a
 * copy would be, and indexed; the caller's is left null. */
static void test_graph_take_prop_keeps_the_value_itself(void **state)
{
	struct graph *g = *state;
	struct graft_value copied, taken, indexed;
	struct graph_stats before, after_copy, after_take;
	const struct graft_str *s;
	uint64_t ids[2];

	gfx_ok(graft_value_string(&copied, "a value", 7));
	gfx_ok(graft_value_string(&taken, "a value", 7));
	gfx_ok(graft_value_string(&indexed, "a value", 7));
	s = taken.u.s;
	for (uint64_t id = 0; id < 3; id++)
		gfx_ok(graph_node_create(g, id, 1));
	graph_stats(g, &before);
	gfx_ok(graph_node_set_prop(g, 0, NAME, &copied, 2));
	graph_stats(g, &after_copy);
	gfx_ok(graph_node_take_prop(g, 1, NAME, &taken, 2));
	graph_stats(g, &after_take);
	assert_int_equal(taken.type, GRAFT_VALUE_NULL);
	assert_ptr_equal(graph_node_prop(g, 1, NAME)->u.s, s);
	assert_ptr_not_equal(graph_node_prop(g, 0, NAME)->u.s, copied.u.s);
	assert_true(after_take.bytes - after_copy.bytes ==
		    after_copy.bytes - before.bytes);
	/* Through an index on (A, NAME) as well. */
	gfx_ok(graph_index_create(g, A, NAME));
	gfx_ok(graph_node_add_label(g, 2, A, 3));
	gfx_ok(graph_node_take_prop(g, 2, NAME, &indexed, 3));
	gfx_ids(ids, gfx_seek(g, A, NAME, &copied, ids, 2), 1, 2);
	graft_value_free(&copied);
}

static void test_graph_index_built_from_existing_nodes(void **state)
{
	struct graph *g = *state;
	struct graft_value one = graft_value_int(1),
			   onef = graft_value_float(1);
	uint32_t pairs[4][2];
	uint64_t ids[8];

	for (uint64_t id = 0; id < 5; id++) {
		gfx_ok(graph_node_create(g, id, 1));
		gfx_set_int(g, id, AGE, (int64_t)id % 2, 1);
	}
	gfx_ok(graph_node_add_label(g, 1, A, 1));
	gfx_ok(graph_node_add_label(g, 3, A, 1));
	gfx_ok(graph_node_add_label(g, 4, A, 1));
	gfx_ok(graph_node_add_label(g, 2, B, 1));
	assert_false(graph_index_exists(g, A, AGE));
	gfx_ok(graph_index_create(g, A, AGE));
	assert_int_equal(graph_index_create(g, A, AGE), GRAFT_EEXIST);
	gfx_ok(graph_index_create(g, B, NAME));
	assert_true(graph_index_exists(g, A, AGE));
	assert_int_equal(graph_index_list(g, pairs, 4), 2);
	assert_int_equal(pairs[0][0], A);
	assert_int_equal(pairs[0][1], AGE);
	assert_int_equal(pairs[1][0], B);
	assert_int_equal(graph_index_list(g, pairs, 1), 1);
	gfx_ids(ids, gfx_seek(g, A, AGE, &one, ids, 8), 2, 1, 3);
	/* 1.0 is not 1. */
	gfx_ids(ids, gfx_seek(g, A, AGE, &onef, ids, 8), 0);
	one = graft_value_int(0);
	gfx_ids(ids, gfx_seek(g, A, AGE, &one, ids, 8), 1, 4);
	gfx_ok(graph_index_drop(g, A, AGE));
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

	gfx_ok(graph_index_create(g, A, AGE));
	gfx_ok(graph_index_create(g, B, AGE));
	for (uint64_t id = 0; id < 4; id++)
		gfx_ok(graph_node_create(g, id, 1));
	gfx_set_int(g, 0, AGE, 7, 2); /* no label yet: not indexed */
	gfx_ids(ids, gfx_seek(g, A, AGE, &v7, ids, 8), 0);
	gfx_ok(graph_node_add_label(g, 0, A, 3));
	gfx_ids(ids, gfx_seek(g, A, AGE, &v7, ids, 8), 1, 0);
	gfx_ok(graph_node_add_label(g, 2, A, 3));
	gfx_ok(graph_node_add_label(g, 2, B, 3));
	gfx_set_int(g, 2, AGE, 7, 3);
	gfx_ok(graph_node_add_label(g, 1, A, 3));
	gfx_set_int(g, 1, AGE, 7, 3);
	gfx_ids(ids, gfx_seek(g, A, AGE, &v7, ids, 8), 3, 0, 1, 2);
	gfx_ids(ids, gfx_seek(g, B, AGE, &v7, ids, 8), 1, 2);
	/* Overwrite moves the node between values. */
	gfx_set_int(g, 1, AGE, 8, 4);
	gfx_ids(ids, gfx_seek(g, A, AGE, &v7, ids, 8), 2, 0, 2);
	gfx_ids(ids, gfx_seek(g, A, AGE, &v8, ids, 8), 1, 1);
	/* Same value again changes nothing. */
	gfx_set_int(g, 1, AGE, 8, 5);
	gfx_ids(ids, gfx_seek(g, A, AGE, &v8, ids, 8), 1, 1);
	gfx_ok(graft_value_string(&s, "x", 1));
	gfx_ok(graph_node_set_prop(g, 2, AGE, &s, 5));
	gfx_ids(ids, gfx_seek(g, B, AGE, &v7, ids, 8), 0);
	gfx_ids(ids, gfx_seek(g, B, AGE, &s, ids, 8), 1, 2);
	gfx_ids(ids, gfx_seek(g, A, AGE, &s, ids, 8), 1, 2);
	/* Property removal, label removal, node deletion. */
	gfx_ok(graph_node_set_prop(g, 0, AGE, NULL, 6));
	gfx_ids(ids, gfx_seek(g, A, AGE, &v7, ids, 8), 0);
	gfx_ok(graph_node_remove_label(g, 2, A, 6));
	gfx_ids(ids, gfx_seek(g, A, AGE, &s, ids, 8), 0);
	gfx_ids(ids, gfx_seek(g, B, AGE, &s, ids, 8), 1, 2);
	gfx_ok(graph_node_delete(g, 2, 7));
	gfx_ids(ids, gfx_seek(g, B, AGE, &s, ids, 8), 0);
	gfx_ok(graph_node_delete(g, 1, 7));
	gfx_ids(ids, gfx_seek(g, A, AGE, &v8, ids, 8), 0);
	/* Seek resumes by id. */
	for (uint64_t id = 10; id < 14; id++) {
		gfx_ok(graph_node_create(g, id, 8));
		gfx_ok(graph_node_add_label(g, id, A, 8));
		gfx_set_int(g, id, AGE, 7, 8);
	}
	uint64_t pos = 12;
	assert_int_equal(graph_index_seek(g, A, AGE, &v7, &pos), 12);
	gfx_ok(graph_node_delete(g, 13, 9));
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
		gfx_ok(graph_token_intern(g, GRAPH_TOKEN_LABEL, name,
					  strlen(name), &tok));
		assert_int_equal(tok, 3 + i);
	}
	gfx_ok(graph_token_intern(g, GRAPH_TOKEN_LABEL, "label500", 8, &again));
	assert_int_equal(again, 503);
	/* Length counts, not the NUL: "label5" is a prefix of "label500". */
	assert_int_equal(
		graph_token_lookup(g, GRAPH_TOKEN_LABEL, "label500", 6), 3 + 5);
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
	gfx_ok(graph_node_create(g, 0, 5));
	gfx_ok(graph_node_create(g, 1, 5));
	assert_int_equal(graph_node_version(g, 0), 5);
	gfx_ok(graph_node_add_label(g, 0, A, 6));
	assert_int_equal(graph_node_version(g, 0), 6);
	gfx_set_int(g, 0, AGE, 1, 7);
	assert_int_equal(graph_node_version(g, 0), 7);
	gfx_ok(graph_node_remove_label(g, 0, A, 8));
	assert_int_equal(graph_node_version(g, 0), 8);
	gfx_ok(graph_rel_create(g, 0, KNOWS, 0, 1, 9));
	assert_int_equal(graph_rel_version(g, 0), 9);
	assert_int_equal(graph_node_version(g, 0), 8);
	assert_int_equal(graph_node_version(g, 1), 5);
	gfx_ok(graph_rel_set_prop(g, 0, NAME, &(struct graft_value){
				   .type = GRAFT_VALUE_INT, .u.i = 3}, 10));
	assert_int_equal(graph_rel_version(g, 0), 10);
	gfx_ok(graph_rel_delete(g, 0, 11));
	assert_int_equal(graph_rel_version(g, 0), 11);
	assert_int_equal(graph_node_version(g, 0), 8);
	gfx_ok(graph_node_delete(g, 0, 12));
	assert_int_equal(graph_node_version(g, 0), 12);
	assert_false(graph_node_exists(g, 0));
}

static void test_graph_accepts_ids_out_of_order_and_reserved(void **state)
{
	struct graph *g = *state;
	uint64_t pos = 0;

	gfx_ok(graph_node_create(g, 70000, 1));
	gfx_ok(graph_node_create(g, 3, 2));
	gfx_ok(graph_node_create(g, 0, 3));
	assert_int_equal(graph_next_node_id(g), 70001);
	assert_int_equal(graph_node_scan(g, &pos), 0);
	assert_int_equal(graph_node_scan(g, &pos), 3);
	assert_int_equal(graph_node_scan(g, &pos), 70000);
	assert_int_equal(graph_node_scan(g, &pos), GRAPH_NO_ID);
	gfx_ok(graph_rel_create(g, 9, KNOWS, 3, 0, 4));
	gfx_ok(graph_rel_create(g, 2, KNOWS, 3, 0, 4));
	assert_int_equal(graph_next_rel_id(g), 10);
	graph_reserve_ids(g, 80000, 5);
	assert_int_equal(graph_next_node_id(g), 80000);
	assert_int_equal(graph_next_rel_id(g), 10);
	assert_int_equal(graph_node_version(g, 75000), 0);
	gfx_ok(graph_node_create(g, 75000, 5));
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
		gfx_ok(graph_node_create(g, id, 1));
	gfx_ok(graph_rel_create(g, 0, KNOWS, 0, 1, 1));
	gfx_ok(graph_node_delete(g, 9, 2));
	graph_stats(g, &s1);
	assert_int_equal(s1.nodes, 9);
	assert_int_equal(s1.rels, 1);
	assert_true(s1.bytes >= s0.bytes + SLOT_CHUNK * (s1.node_bytes +
							 s1.rel_bytes));
	gfx_ok(graft_value_string(&v, "a fairly long string value", 26));
	gfx_ok(graph_node_set_prop(g, 0, NAME, &v, 3));
	graph_stats(g, &s2);
	assert_true(s2.bytes >= s1.bytes + 26);
	gfx_ok(graph_node_set_prop(g, 0, NAME, NULL, 4));
	graph_stats(g, &s2);
	assert_int_equal(s2.bytes, s1.bytes);
	graft_value_free(&v);
}

/* The checkpoint reads the graph from a forked child; and a violated
 * precondition stops the process instead of corrupting the graph. */
static void test_graph_forked_child_reads_and_violation_aborts(void **state)
{
	struct graph *g = *state;
	int status;
	pid_t pid;

	gfx_ok(graph_node_create(g, 0, 1));
	gfx_ok(graph_node_add_label(g, 0, C, 1));
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

/* Range seeks return the ids of one value type between the bounds, and
 * follow changes to the index (the sorted view is rebuilt). */
static void test_graph_index_range_follows_changes(void **state)
{
	struct graph *g = *state;
	struct graft_value lo = graft_value_int(3), hi = graft_value_int(6),
			   f = graft_value_float(4.5);
	uint64_t *ids = NULL;
	size_t n = 0, cap = 0;

	gfx_ok(graph_index_create(g, A, AGE));
	for (uint64_t id = 0; id < 10; id++) {
		gfx_ok(graph_node_create(g, id, 1));
		gfx_ok(graph_node_add_label(g, id, A, 1));
		gfx_set_int(g, id, AGE, (int64_t)id, 1);
	}
	gfx_ok(graph_node_create(g, 10, 1));
	gfx_ok(graph_node_add_label(g, 10, A, 1));
	gfx_ok(graph_node_set_prop(g, 10, AGE, &f, 1));
	gfx_ok(graph_index_range(g, A, AGE, &lo, true, &hi, false, &ids, &n,
				 &cap));
	gfx_ids(ids, n, 3, 3, 4, 5); /* ints only: 4.5 is a FLOAT */
	n = 0;
	gfx_ok(graph_index_range(g, A, AGE, &lo, false, NULL, false, &ids, &n,
				 &cap));
	assert_int_equal(n, 6); /* 4..9 */
	gfx_set_int(g, 9, AGE, 1, 2); /* 9 leaves, a new value appears */
	gfx_set_int(g, 0, AGE, 100, 2);
	n = 0;
	gfx_ok(graph_index_range(g, A, AGE, &hi, true, NULL, false, &ids, &n,
				 &cap));
	gfx_ids(ids, n, 4, 6, 7, 8, 0);
	n = 0;
	gfx_ok(graph_index_range(g, A, AGE, &f, true, NULL, false, &ids, &n,
				 &cap));
	gfx_ids(ids, n, 1, 10);
	free(ids);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, gfx_setup, gfx_teardown)
		T(test_graph_creates_reads_and_deletes_entities),
		T(test_graph_labels_add_remove_and_scan),
		T(test_graph_type_scan_lists_rels_of_one_type),
		T(test_graph_expands_by_direction_type_and_self_loop),
		T(test_graph_expand_and_scans_survive_deletions),
		T(test_graph_props_hold_every_value_type),
		T(test_graph_take_prop_keeps_the_value_itself),
		T(test_graph_index_built_from_existing_nodes),
		T(test_graph_index_follows_every_mutation),
		T(test_graph_index_range_follows_changes),
		T(test_graph_tokens_intern_lookup_and_name),
		T(test_graph_versions_track_node_and_rel_changes),
		T(test_graph_accepts_ids_out_of_order_and_reserved),
		T(test_graph_stats_count_entities_and_bytes),
		T(test_graph_forked_child_reads_and_violation_aborts),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
