/* Shared by the checkpoint test suites: a temporary directory per test, a
 * sample graph with every feature a checkpoint must carry, comparison of
 * graphs through the graph API, and file helpers. */
#define _GNU_SOURCE
#include "checkpoint_fixture.h"

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tmpdir.h"

int cfx_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	assert_non_null(f);
	assert_non_null(tmpdir_make(f->dir, sizeof f->dir, "ckp"));
	*state = f;
	return 0;
}

int cfx_teardown(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(tmpdir_remove(f->dir), 0);
	free(f);
	return 0;
}

/* Graph building */

uint32_t cfx_tok(struct graph *g, enum graph_token_kind kind,
		    const char *name)
{
	uint32_t t;

	assert_int_equal(graph_token_intern(g, kind, name, strlen(name), &t),
			 GRAFT_OK);
	return t;
}

void cfx_set_node_prop(struct graph *g, uint64_t id, const char *key,
			  struct graft_value v, uint64_t version)
{
	uint32_t k = cfx_tok(g, GRAPH_TOKEN_PROPKEY, key);

	assert_int_equal(graph_node_set_prop(g, id, k, &v, version), GRAFT_OK);
	graft_value_free(&v);
}

struct graft_value cfx_str(const char *s, size_t len)
{
	struct graft_value v;

	assert_int_equal(graft_value_string(&v, s, len), GRAFT_OK);
	return v;
}

/* [1, "two", 3.0, [true]] */
static struct graft_value list_value(void)
{
	struct graft_value v, inner;

	assert_int_equal(graft_value_list(&v, 4), GRAFT_OK);
	v.u.list->items[0] = graft_value_int(1);
	v.u.list->items[1] = cfx_str("two", 3);
	v.u.list->items[2] = graft_value_float(3.0);
	assert_int_equal(graft_value_list(&inner, 1), GRAFT_OK);
	inner.u.list->items[0] = graft_value_bool(true);
	v.u.list->items[3] = inner;
	return v;
}

/* {a: 1, b: "x"} */
static struct graft_value map_value(void)
{
	struct graft_value v;

	assert_int_equal(graft_value_map(&v, 2), GRAFT_OK);
	v.u.map->entries[0].key = graft_str_new("b", 1);
	v.u.map->entries[0].value = cfx_str("x", 1);
	v.u.map->entries[1].key = graft_str_new("a", 1);
	v.u.map->entries[1].value = graft_value_int(1);
	graft_map_sort(v.u.map);
	return v;
}

/* Every value type, labels, an unused label, indexes, deleted nodes and
 * relationships (node 0 among them), id gaps, a self-loop, relationships
 * created out of id order, reserved ids past the highest, and optionally a
 * value larger than a block. */
struct graph *cfx_sample_graph(bool big)
{
	struct graph *g;
	uint32_t person, city, knows, lives;
	struct graft_value v;

	assert_int_equal(graph_new(&g), GRAFT_OK);
	person = cfx_tok(g, GRAPH_TOKEN_LABEL, "Person");
	city = cfx_tok(g, GRAPH_TOKEN_LABEL, "City");
	cfx_tok(g, GRAPH_TOKEN_LABEL, "Ghost");
	knows = cfx_tok(g, GRAPH_TOKEN_RELTYPE, "KNOWS");
	lives = cfx_tok(g, GRAPH_TOKEN_RELTYPE, "LIVES_IN");

	assert_int_equal(graph_node_create(g, 0, 1), GRAFT_OK);
	assert_int_equal(graph_node_add_label(g, 0, person, 1), GRAFT_OK);
	assert_int_equal(graph_node_delete(g, 0, 2), GRAFT_OK);
	for (uint64_t id = 1; id <= CFX_SAMPLE_NODES; id++) {
		char name[32];
		uint64_t ver = 3 + id % 5;
		assert_int_equal(graph_node_create(g, id, ver), GRAFT_OK);
		assert_int_equal(graph_node_add_label(g, id, person, ver),
				 GRAFT_OK);
		if (id % 3 == 0)
			assert_int_equal(graph_node_add_label(g, id, city, ver),
					 GRAFT_OK);
		snprintf(name, sizeof name, "p%" PRIu64, id);
		cfx_set_node_prop(g, id, "name", cfx_str(name, strlen(name)), ver);
		cfx_set_node_prop(g, id, "age", graft_value_int((int64_t)id), ver);
		cfx_set_node_prop(g, id, "score", graft_value_float(id * 0.5), ver);
		cfx_set_node_prop(g, id, "flag", graft_value_bool(id % 2), ver);
	}
	assert_int_equal(graft_value_bytes(&v, "\0\1\2\xff", 4), GRAFT_OK);
	cfx_set_node_prop(g, 1, "blob", v, 3);
	cfx_set_node_prop(g, 1, "tags", list_value(), 3);
	cfx_set_node_prop(g, 1, "meta", map_value(), 3);
	cfx_set_node_prop(g, 1, "empty", cfx_str("", 0), 3);
	cfx_set_node_prop(g, 1, "min", graft_value_int(INT64_MIN), 3);
	cfx_set_node_prop(g, 1, "negzero", graft_value_float(-0.0), 3);
	cfx_set_node_prop(g, 1, "huge", graft_value_float(1e300), 3);
	if (big) {
		char *s = malloc(CFX_BIG_VALUE);
		assert_non_null(s);
		for (size_t i = 0; i < CFX_BIG_VALUE; i++)
			s[i] = (char)('a' + i % 26);
		cfx_set_node_prop(g, 5, "big", cfx_str(s, CFX_BIG_VALUE), 3);
		free(s);
	}
	/* A gap of ids, a live node past it, a deleted one after that. */
	assert_int_equal(graph_node_create(g, 310, 9), GRAFT_OK);
	assert_int_equal(graph_node_create(g, 311, 7), GRAFT_OK);

	assert_int_equal(graph_rel_create(g, 0, knows, 1, 2, 4), GRAFT_OK);
	v = graft_value_int(2020);
	assert_int_equal(graph_rel_set_prop(g, 0, cfx_tok(g, GRAPH_TOKEN_PROPKEY,
						      "since"), &v, 4),
			 GRAFT_OK);
	assert_int_equal(graph_rel_create(g, 1, lives, 2, 2, 5), GRAFT_OK);
	assert_int_equal(graph_rel_create(g, 9, knows, 3, 1, 6), GRAFT_OK);
	assert_int_equal(graph_rel_create(g, 5, knows, 3, 1, 6), GRAFT_OK);
	assert_int_equal(graph_rel_create(g, 6, knows, 1, 311, 7), GRAFT_OK);
	assert_int_equal(graph_rel_delete(g, 6, 8), GRAFT_OK);
	assert_int_equal(graph_node_delete(g, 311, 8), GRAFT_OK);
	for (uint64_t i = 0; i < CFX_SAMPLE_NODES; i++)
		assert_int_equal(graph_rel_create(g, 100 + i, i % 2 ? knows : lives,
						  1 + i % CFX_SAMPLE_NODES,
						  1 + (i * 7) % CFX_SAMPLE_NODES, 10),
				 GRAFT_OK);
	graph_reserve_ids(g, 400, 1000);
	assert_int_equal(graph_index_create(g, person, cfx_tok(g, GRAPH_TOKEN_PROPKEY,
							 "name")),
			 GRAFT_OK);
	assert_int_equal(graph_index_create(g, city, cfx_tok(g, GRAPH_TOKEN_PROPKEY,
						       "age")),
			 GRAFT_OK);
	return g;
}

/* Comparing graphs through their API */

static void assert_props_equal(const struct graph_prop *a, size_t na,
			       const struct graph_prop *b, size_t nb)
{
	assert_int_equal(na, nb);
	for (size_t i = 0; i < na; i++) {
		assert_int_equal(a[i].key, b[i].key);
		assert_true(graft_value_equal(&a[i].value, &b[i].value));
		/* -0.0 and 0.0 must stay apart in storage. */
		if (a[i].value.type == GRAFT_VALUE_FLOAT)
			assert_int_equal(signbit(a[i].value.u.f),
					 signbit(b[i].value.u.f));
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The relationships around a node as a sorted set: the graph promises no
 * order for expansion. */
static size_t expand_sorted(const struct graph *g, uint64_t node,
			    uint64_t *out, size_t max)
{
	struct graph_expand it;
	size_t n = 0;
	uint64_t r;

	graph_expand_init(&it, g, node, GRAPH_BOTH, GRAPH_NO_TOKEN);
	while ((r = graph_expand_next(g, &it)) != GRAPH_NO_ID) {
		assert_true(n < max);
		out[n++] = r;
	}
	qsort(out, n, sizeof *out, cmp_u64);
	return n;
}

static void assert_nodes_equal(const struct graph *a, const struct graph *b)
{
	uint64_t ra[1024], rb[1024];

	assert_int_equal(graph_next_node_id(a), graph_next_node_id(b));
	for (uint64_t id = 0; id < graph_next_node_id(a); id++) {
		const uint32_t *la, *lb;
		const struct graph_prop *pa, *pb;
		size_t na, nb;

		assert_int_equal(graph_node_exists(a, id),
				 graph_node_exists(b, id));
		assert_int_equal(graph_node_version(a, id),
				 graph_node_version(b, id));
		if (!graph_node_exists(a, id))
			continue;
		na = graph_node_labels(a, id, &la);
		nb = graph_node_labels(b, id, &lb);
		assert_int_equal(na, nb);
		assert_memory_equal(la, lb, na * sizeof *la);
		na = graph_node_props(a, id, &pa);
		nb = graph_node_props(b, id, &pb);
		assert_props_equal(pa, na, pb, nb);
		na = expand_sorted(a, id, ra, 1024);
		nb = expand_sorted(b, id, rb, 1024);
		assert_int_equal(na, nb);
		assert_memory_equal(ra, rb, na * sizeof *ra);
		assert_int_equal(graph_node_degree(a, id, GRAPH_OUT),
				 graph_node_degree(b, id, GRAPH_OUT));
		assert_int_equal(graph_node_degree(a, id, GRAPH_IN),
				 graph_node_degree(b, id, GRAPH_IN));
	}
}

static void assert_rels_equal(const struct graph *a, const struct graph *b)
{
	assert_int_equal(graph_next_rel_id(a), graph_next_rel_id(b));
	for (uint64_t id = 0; id < graph_next_rel_id(a); id++) {
		struct graph_rel_ends ea, eb;
		const struct graph_prop *pa, *pb;
		size_t na, nb;

		assert_int_equal(graph_rel_exists(a, id), graph_rel_exists(b, id));
		assert_int_equal(graph_rel_version(a, id),
				 graph_rel_version(b, id));
		if (!graph_rel_exists(a, id))
			continue;
		graph_rel_ends(a, id, &ea);
		graph_rel_ends(b, id, &eb);
		assert_int_equal(ea.type, eb.type);
		assert_int_equal(ea.src, eb.src);
		assert_int_equal(ea.dst, eb.dst);
		na = graph_rel_props(a, id, &pa);
		nb = graph_rel_props(b, id, &pb);
		assert_props_equal(pa, na, pb, nb);
	}
}

static void assert_indexes_equal(const struct graph *a, const struct graph *b)
{
	uint32_t pa[16][2], pb[16][2];
	size_t n = graph_index_list(a, pa, 16);

	assert_int_equal(n, graph_index_list(b, pb, 16));
	assert_memory_equal(pa, pb, n * sizeof pa[0]);
	for (size_t i = 0; i < n; i++) {
		uint64_t pos_a = 0, pos_b = 0, id;
		/* Seek every live node's own value and compare the hits. */
		for (uint64_t node = 0; node < graph_next_node_id(a); node++) {
			const struct graft_value *v;
			if (!graph_node_exists(a, node) ||
			    !graph_node_has_label(a, node, pa[i][0]))
				continue;
			v = graph_node_prop(a, node, pa[i][1]);
			if (v == NULL)
				continue;
			pos_a = pos_b = 0;
			do {
				id = graph_index_seek(a, pa[i][0], pa[i][1], v,
						      &pos_a);
				assert_int_equal(id, graph_index_seek(b, pb[i][0],
								      pb[i][1], v,
								      &pos_b));
			} while (id != GRAPH_NO_ID);
		}
	}
}

void cfx_assert_graphs_equal(const struct graph *a, const struct graph *b)
{
	struct graph_stats sa, sb;

	for (int kind = 0; kind < GRAPH_TOKEN_KINDS; kind++) {
		uint32_t n = graph_token_count(a, kind);
		assert_int_equal(n, graph_token_count(b, kind));
		for (uint32_t t = 0; t < n; t++)
			assert_string_equal(graph_token_name(a, kind, t),
					    graph_token_name(b, kind, t));
	}
	graph_stats(a, &sa);
	graph_stats(b, &sb);
	assert_int_equal(sa.nodes, sb.nodes);
	assert_int_equal(sa.rels, sb.rels);
	assert_nodes_equal(a, b);
	assert_rels_equal(a, b);
	assert_indexes_equal(a, b);
}

/* Files */

void cfx_read_file(const char *path, struct graft_buf *out)
{
	uint8_t tmp[65536];
	ssize_t r;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	graft_buf_init(out);
	while ((r = read(fd, tmp, sizeof tmp)) > 0)
		assert_int_equal(graft_buf_append(out, tmp, (size_t)r), GRAFT_OK);
	assert_int_equal(r, 0);
	close(fd);
}

void cfx_write_file(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0640);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, p, n), (ssize_t)n);
	close(fd);
}

void cfx_path(char *out, const struct fixture *f, uint64_t txid,
		     const char *suffix)
{
	snprintf(out, 4096, "%s/checkpoint.%020" PRIu64 "%s", f->dir, txid,
		 suffix);
}

void cfx_serialise(struct fixture *f, const struct graph *g, uint64_t txid,
		      struct graft_buf *out)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof path, "%s/serialised", f->dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0640);
	assert_true(fd >= 0);
	assert_int_equal(checkpoint_write_fd(g, txid, 0, fd, f->errmsg),
			 GRAFT_OK);
	close(fd);
	cfx_read_file(path, out);
	unlink(path);
}

int cfx_load_path(struct fixture *f, const char *path, uint64_t *txid)
{
	struct graph *g;
	int rv;

	assert_int_equal(graph_new(&g), GRAFT_OK);
	rv = checkpoint_load_file(path, g, txid, f->errmsg);
	graph_free(g);
	return rv;
}

bool cfx_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

int cfx_count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n;
}

void cfx_write_named(struct fixture *f, const struct graph *g,
			uint64_t txid, const char *name)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof path, "%s/%s", f->dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0640);
	assert_true(fd >= 0);
	assert_int_equal(checkpoint_write_fd(g, txid, 0, fd, f->errmsg),
			 GRAFT_OK);
	close(fd);
}
