/* Shared fixture of the graph test suites: a fresh graph with a few tokens,
 * and helpers that collect scans, expansions and index seeks into arrays so
 * that tests compare whole results. */
#ifndef GRAFT_TESTS_GRAPH_FIXTURE_H
#define GRAFT_TESTS_GRAPH_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "graph/graph.h"
#include "util/value.h"

/* The fixture's tokens: labels "A" "B" "C", relationship types "KNOWS"
 * "LIKES", property keys "name" "age". */
enum { A, B, C };
enum { KNOWS, LIKES };
enum { NAME, AGE };

/* cmocka setup/teardown: *state is the graph. */
int gfx_setup(void **state);
int gfx_teardown(void **state);

/* Asserts rv is GRAFT_OK. */
void gfx_ok(int rv);
/* Collect an expansion, a label scan, an index seek into ids[] (at most
 * max, asserted); return the count. */
size_t gfx_expand(const struct graph *g, uint64_t node, enum graph_dir dir,
		  uint32_t type, uint64_t *ids, size_t max);
size_t gfx_label_scan(const struct graph *g, uint32_t label, uint64_t *ids,
		      size_t max);
size_t gfx_seek(const struct graph *g, uint32_t label, uint32_t key,
		const struct graft_value *v, uint64_t *ids, size_t max);
/* Asserts got[0..n) is the want_n ids that follow (as ints). */
void gfx_ids(const uint64_t *got, size_t n, size_t want_n, ...);
/* Makes the list [42, "héllo", {a: true, b: 1.5}]. */
void gfx_nested(struct graft_value *v);
/* Sets key of node id to the integer i. */
void gfx_set_int(struct graph *g, uint64_t id, uint32_t key, int64_t i,
		 uint64_t version);

#endif
