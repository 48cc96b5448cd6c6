/* Shared fixture of the checkpoint test suites: a fresh temporary directory
 * per test, a sample graph with everything a checkpoint must carry,
 * comparison of two graphs through the graph API, and file helpers. */
#ifndef GRAFT_TESTS_CHECKPOINT_FIXTURE_H
#define GRAFT_TESTS_CHECKPOINT_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "checkpoint/checkpoint.h"
#include "graph/graph.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/value.h"

#define CFX_SAMPLE_NODES 300
#define CFX_BIG_VALUE (200 * 1024)

/* *state of every test. */
struct fixture {
	char dir[64]; /* empty at start, removed with its contents at end */
	char errmsg[GRAFT_ERRMSG_SIZE];
};

int cfx_setup(void **state);
int cfx_teardown(void **state);

/* Interns name, asserting success. */
uint32_t cfx_tok(struct graph *g, enum graph_token_kind kind,
		 const char *name);
/* Sets key on node id to v and frees v. */
void cfx_set_node_prop(struct graph *g, uint64_t id, const char *key,
		       struct graft_value v, uint64_t version);
struct graft_value cfx_str(const char *s, size_t len);

/* Every value type, labels, an unused label, two indexes, deleted nodes
 * (node 0 among them) and relationships, id gaps, a self-loop,
 * relationships created out of id order, ids reserved past the highest,
 * and with big a value of CFX_BIG_VALUE bytes, larger than a block. Equal
 * calls give equal graphs. */
struct graph *cfx_sample_graph(bool big);

/* Asserts that a and b cannot be told apart through the graph API: tokens,
 * ids, versions (deleted ids too), labels, properties, relationship ends,
 * adjacency, degrees, indexes and what they find. */
void cfx_assert_graphs_equal(const struct graph *a, const struct graph *b);

void cfx_read_file(const char *path, struct graft_buf *out);
void cfx_write_file(const char *path, const void *p, size_t n);
/* out (4096 bytes) = <dir>/checkpoint.<txid, 20 digits><suffix>. */
void cfx_path(char *out, const struct fixture *f, uint64_t txid,
	      const char *suffix);
/* The bytes checkpoint_write_fd gives for g. */
void cfx_serialise(struct fixture *f, const struct graph *g, uint64_t txid,
		   struct graft_buf *out);
/* checkpoint_write_fd of g into <dir>/name. */
void cfx_write_named(struct fixture *f, const struct graph *g, uint64_t txid,
		     const char *name);
/* checkpoint_load_file into a fresh graph, freed after; errmsg in f. */
int cfx_load_path(struct fixture *f, const char *path, uint64_t *txid);
bool cfx_exists(const char *path);
/* Entries of dir other than . and .. */
int cfx_count_entries(const char *dir);

#endif
