/* Unit tests for checkpoints: round trips through real files, determinism,
 * choice of the newest file, detection of every kind of damage, and the
 * forked writer running while the parent keeps changing the graph. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint/checkpoint.h"
#include "checkpoint/format.h"
#include "txrec/txrec.h"
#include "util/buf.h"
#include "util/err.h"

struct fixture {
	char dir[64];
	char errmsg[GRAFT_ERRMSG_SIZE];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	assert_non_null(f);
	strcpy(f->dir, "/tmp/graft-ckp-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	*state = f;
	return 0;
}

static int remove_cb(const char *path, const struct stat *st, int flag,
		     struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(nftw(f->dir, remove_cb, 16, FTW_DEPTH | FTW_PHYS), 0);
	free(f);
	return 0;
}

/* Graph building */

static uint32_t tok(struct graph *g, enum graph_token_kind kind,
		    const char *name)
{
	uint32_t t;

	assert_int_equal(graph_token_intern(g, kind, name, strlen(name), &t),
			 GRAFT_OK);
	return t;
}

static void set_node_prop(struct graph *g, uint64_t id, const char *key,
			  struct graft_value v, uint64_t version)
{
	uint32_t k = tok(g, GRAPH_TOKEN_PROPKEY, key);

	assert_int_equal(graph_node_set_prop(g, id, k, &v, version), GRAFT_OK);
	graft_value_free(&v);
}

static struct graft_value str_value(const char *s, size_t len)
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
	v.u.list->items[1] = str_value("two", 3);
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
	v.u.map->entries[0].value = str_value("x", 1);
	v.u.map->entries[1].key = graft_str_new("a", 1);
	v.u.map->entries[1].value = graft_value_int(1);
	graft_map_sort(v.u.map);
	return v;
}

#define SAMPLE_NODES 300
#define BIG_VALUE (200 * 1024)

/* Every value type, labels, an unused label, indexes, deleted nodes and
 * relationships (node 0 among them), id gaps, a self-loop, relationships
 * created out of id order, reserved ids past the highest, and optionally a
 * value larger than a block. */
static struct graph *sample_graph(bool big)
{
	struct graph *g;
	uint32_t person, city, knows, lives;
	struct graft_value v;

	assert_int_equal(graph_new(&g), GRAFT_OK);
	person = tok(g, GRAPH_TOKEN_LABEL, "Person");
	city = tok(g, GRAPH_TOKEN_LABEL, "City");
	tok(g, GRAPH_TOKEN_LABEL, "Ghost");
	knows = tok(g, GRAPH_TOKEN_RELTYPE, "KNOWS");
	lives = tok(g, GRAPH_TOKEN_RELTYPE, "LIVES_IN");

	assert_int_equal(graph_node_create(g, 0, 1), GRAFT_OK);
	assert_int_equal(graph_node_add_label(g, 0, person, 1), GRAFT_OK);
	assert_int_equal(graph_node_delete(g, 0, 2), GRAFT_OK);
	for (uint64_t id = 1; id <= SAMPLE_NODES; id++) {
		char name[32];
		uint64_t ver = 3 + id % 5;
		assert_int_equal(graph_node_create(g, id, ver), GRAFT_OK);
		assert_int_equal(graph_node_add_label(g, id, person, ver),
				 GRAFT_OK);
		if (id % 3 == 0)
			assert_int_equal(graph_node_add_label(g, id, city, ver),
					 GRAFT_OK);
		snprintf(name, sizeof name, "p%" PRIu64, id);
		set_node_prop(g, id, "name", str_value(name, strlen(name)), ver);
		set_node_prop(g, id, "age", graft_value_int((int64_t)id), ver);
		set_node_prop(g, id, "score", graft_value_float(id * 0.5), ver);
		set_node_prop(g, id, "flag", graft_value_bool(id % 2), ver);
	}
	assert_int_equal(graft_value_bytes(&v, "\0\1\2\xff", 4), GRAFT_OK);
	set_node_prop(g, 1, "blob", v, 3);
	set_node_prop(g, 1, "tags", list_value(), 3);
	set_node_prop(g, 1, "meta", map_value(), 3);
	set_node_prop(g, 1, "empty", str_value("", 0), 3);
	set_node_prop(g, 1, "min", graft_value_int(INT64_MIN), 3);
	set_node_prop(g, 1, "negzero", graft_value_float(-0.0), 3);
	set_node_prop(g, 1, "huge", graft_value_float(1e300), 3);
	if (big) {
		char *s = malloc(BIG_VALUE);
		assert_non_null(s);
		for (size_t i = 0; i < BIG_VALUE; i++)
			s[i] = (char)('a' + i % 26);
		set_node_prop(g, 5, "big", str_value(s, BIG_VALUE), 3);
		free(s);
	}
	/* A gap of ids, a live node past it, a deleted one after that. */
	assert_int_equal(graph_node_create(g, 310, 9), GRAFT_OK);
	assert_int_equal(graph_node_create(g, 311, 7), GRAFT_OK);

	assert_int_equal(graph_rel_create(g, 0, knows, 1, 2, 4), GRAFT_OK);
	v = graft_value_int(2020);
	assert_int_equal(graph_rel_set_prop(g, 0, tok(g, GRAPH_TOKEN_PROPKEY,
						      "since"), &v, 4),
			 GRAFT_OK);
	assert_int_equal(graph_rel_create(g, 1, lives, 2, 2, 5), GRAFT_OK);
	assert_int_equal(graph_rel_create(g, 9, knows, 3, 1, 6), GRAFT_OK);
	assert_int_equal(graph_rel_create(g, 5, knows, 3, 1, 6), GRAFT_OK);
	assert_int_equal(graph_rel_create(g, 6, knows, 1, 311, 7), GRAFT_OK);
	assert_int_equal(graph_rel_delete(g, 6, 8), GRAFT_OK);
	assert_int_equal(graph_node_delete(g, 311, 8), GRAFT_OK);
	for (uint64_t i = 0; i < SAMPLE_NODES; i++)
		assert_int_equal(graph_rel_create(g, 100 + i, i % 2 ? knows : lives,
						  1 + i % SAMPLE_NODES,
						  1 + (i * 7) % SAMPLE_NODES, 10),
				 GRAFT_OK);
	graph_reserve_ids(g, 400, 1000);
	assert_int_equal(graph_index_create(g, person, tok(g, GRAPH_TOKEN_PROPKEY,
							 "name")),
			 GRAFT_OK);
	assert_int_equal(graph_index_create(g, city, tok(g, GRAPH_TOKEN_PROPKEY,
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

static void assert_graphs_equal(const struct graph *a, const struct graph *b)
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

static void read_file(const char *path, struct graft_buf *out)
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

static void write_file(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0640);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, p, n), (ssize_t)n);
	close(fd);
}

static void ckp_path(char *out, const struct fixture *f, uint64_t txid,
		     const char *suffix)
{
	snprintf(out, 4096, "%s/checkpoint.%020" PRIu64 "%s", f->dir, txid,
		 suffix);
}

/* The bytes checkpoint_write_fd gives for g. */
static void serialise(struct fixture *f, const struct graph *g, uint64_t txid,
		      struct graft_buf *out)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof path, "%s/serialised", f->dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0640);
	assert_true(fd >= 0);
	assert_int_equal(checkpoint_write_fd(g, txid, fd, f->errmsg), GRAFT_OK);
	close(fd);
	read_file(path, out);
	unlink(path);
}

static int load_path(struct fixture *f, const char *path, uint64_t *txid)
{
	struct graph *g;
	int rv;

	assert_int_equal(graph_new(&g), GRAFT_OK);
	rv = checkpoint_load_file(path, g, txid, f->errmsg);
	graph_free(g);
	return rv;
}

static bool file_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static int count_entries(const char *dir)
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

/* Round trips */

static void test_checkpoint_round_trip_preserves_graph(void **state)
{
	struct fixture *f = *state;
	struct graph *g = sample_graph(true), *h;
	struct graft_buf a, b;
	uint64_t txid = 0;

	assert_int_equal(checkpoint_write_sync(g, 42, f->dir, f->errmsg),
			 GRAFT_OK);
	assert_int_equal(graph_new(&h), GRAFT_OK);
	assert_int_equal(checkpoint_load_newest(f->dir, h, &txid, f->errmsg),
			 GRAFT_OK);
	assert_int_equal(txid, 42);
	assert_graphs_equal(g, h);
	serialise(f, g, 42, &a);
	serialise(f, h, 42, &b);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.data, b.data, a.len);
	graft_buf_free(&a);
	graft_buf_free(&b);
	graph_free(g);
	graph_free(h);
}

static void test_checkpoint_round_trips_empty_graph(void **state)
{
	struct fixture *f = *state;
	struct graph *g, *h;
	uint64_t txid = 1;

	assert_int_equal(graph_new(&g), GRAFT_OK);
	assert_int_equal(checkpoint_write_sync(g, 0, f->dir, f->errmsg),
			 GRAFT_OK);
	assert_int_equal(graph_new(&h), GRAFT_OK);
	assert_int_equal(checkpoint_load_newest(f->dir, h, &txid, f->errmsg),
			 GRAFT_OK);
	assert_int_equal(txid, 0);
	assert_graphs_equal(g, h);
	graph_free(g);
	graph_free(h);
}

static void test_checkpoint_bytes_are_deterministic(void **state)
{
	struct fixture *f = *state;
	struct graph *g1 = sample_graph(true), *g2 = sample_graph(true);
	struct graft_buf a, b, c;
	struct graft_value v = graft_value_int(7);

	serialise(f, g1, 9, &a);
	serialise(f, g2, 9, &b);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.data, b.data, a.len);
	/* One changed property changes the bytes. */
	assert_int_equal(graph_node_set_prop(g2, 200, tok(g2, GRAPH_TOKEN_PROPKEY,
							 "age"), &v, 8),
			 GRAFT_OK);
	serialise(f, g2, 9, &c);
	assert_true(b.len != c.len || memcmp(b.data, c.data, b.len) != 0);
	graft_buf_free(&a);
	graft_buf_free(&b);
	graft_buf_free(&c);
	graph_free(g1);
	graph_free(g2);
}

static void test_checkpoint_refuses_non_empty_graph(void **state)
{
	struct fixture *f = *state;
	struct graph *g = sample_graph(false);
	uint64_t txid;

	assert_int_equal(checkpoint_write_sync(g, 3, f->dir, f->errmsg),
			 GRAFT_OK);
	assert_int_equal(checkpoint_load_newest(f->dir, g, &txid, f->errmsg),
			 GRAFT_EINVAL);
	graph_free(g);
}

/* Choosing the file */

static void write_named(struct fixture *f, const struct graph *g,
			uint64_t txid, const char *name)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof path, "%s/%s", f->dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0640);
	assert_true(fd >= 0);
	assert_int_equal(checkpoint_write_fd(g, txid, fd, f->errmsg), GRAFT_OK);
	close(fd);
}

static void test_checkpoint_load_picks_newest(void **state)
{
	struct fixture *f = *state;
	struct graph *g, *h;
	uint64_t txid = 0;
	char tmp[4096];

	assert_int_equal(graph_new(&g), GRAFT_OK);
	for (uint64_t t = 1; t <= 3; t++)
		assert_int_equal(graph_node_create(g, t - 1, t), GRAFT_OK);
	write_named(f, g, 3, "checkpoint.00000000000000000003");
	assert_int_equal(graph_node_create(g, 3, 12), GRAFT_OK);
	write_named(f, g, 12, "checkpoint.00000000000000000012");
	write_named(f, g, 12, "checkpoint.00000000000000000007");
	/* Not checkpoints by name: never chosen, never removed. */
	snprintf(tmp, sizeof tmp, "%s/notes", f->dir);
	write_file(tmp, "", 0);
	write_named(f, g, 99, "checkpoint.99");
	write_named(f, g, 99, "checkpoint.00000000000000000099.old");
	ckp_path(tmp, f, 100, ".tmp");
	write_file(tmp, "junk", 4);

	assert_int_equal(graph_new(&h), GRAFT_OK);
	assert_int_equal(checkpoint_load_newest(f->dir, h, &txid, f->errmsg),
			 GRAFT_OK);
	assert_int_equal(txid, 12);
	assert_int_equal(graph_next_node_id(h), 4);
	assert_false(file_exists(tmp));
	assert_int_equal(count_entries(f->dir), 6);
	graph_free(g);
	graph_free(h);
}

static void test_checkpoint_empty_dir_is_not_found(void **state)
{
	struct fixture *f = *state;
	struct graph *g;
	uint64_t txid;
	char missing[4096], tmp[4096];

	assert_int_equal(graph_new(&g), GRAFT_OK);
	assert_int_equal(checkpoint_load_newest(f->dir, g, &txid, f->errmsg),
			 GRAFT_ENOTFOUND);
	snprintf(missing, sizeof missing, "%s/nope", f->dir);
	assert_int_equal(checkpoint_load_newest(missing, g, &txid, f->errmsg),
			 GRAFT_ENOTFOUND);
	/* A leftover tmp file is no checkpoint, and it goes away. */
	ckp_path(tmp, f, 5, ".tmp");
	write_file(tmp, "GRAFTCKP", 8);
	assert_int_equal(checkpoint_load_newest(f->dir, g, &txid, f->errmsg),
			 GRAFT_ENOTFOUND);
	assert_false(file_exists(tmp));
	graph_free(g);
}

static void test_checkpoint_ignores_older_leftover_tmp(void **state)
{
	struct fixture *f = *state;
	struct graph *g = sample_graph(false), *h;
	uint64_t txid;
	char tmp[4096];

	assert_int_equal(checkpoint_write_sync(g, 5, f->dir, f->errmsg),
			 GRAFT_OK);
	ckp_path(tmp, f, 9, ".tmp");
	write_file(tmp, "GRAFTCKP half a file", 20);
	assert_int_equal(graph_new(&h), GRAFT_OK);
	assert_int_equal(checkpoint_load_newest(f->dir, h, &txid, f->errmsg),
			 GRAFT_OK);
	assert_int_equal(txid, 5);
	assert_false(file_exists(tmp));
	assert_graphs_equal(g, h);
	graph_free(g);
	graph_free(h);
}

static void test_checkpoint_name_must_match_contents(void **state)
{
	struct fixture *f = *state;
	struct graph *g = sample_graph(false);
	uint64_t txid;

	write_named(f, g, 41, "checkpoint.00000000000000000042");
	graph_free(g);
	assert_int_equal(graph_new(&g), GRAFT_OK);
	assert_int_equal(checkpoint_load_newest(f->dir, g, &txid, f->errmsg),
			 GRAFT_ECORRUPT);
	assert_non_null(strstr(f->errmsg, "checkpoint.00000000000000000042"));
	graph_free(g);
}

/* Damage */

static void assert_corrupt_message(struct fixture *f, const char *path)
{
	assert_non_null(strstr(f->errmsg, path));
	assert_non_null(strstr(f->errmsg, "at byte "));
	assert_non_null(strstr(f->errmsg, "backup"));
}

/* Flips each byte of the file at the offsets step apart (and the last). */
static void flip_each(struct fixture *f, const struct graft_buf *good,
		      const char *path, size_t step)
{
	uint64_t txid;

	for (size_t off = 0; off < good->len; off += step) {
		good->data[off] ^= 0x20;
		write_file(path, good->data, good->len);
		good->data[off] ^= 0x20;
		assert_int_equal(load_path(f, path, &txid), GRAFT_ECORRUPT);
		assert_corrupt_message(f, path);
		if (off + step >= good->len && off != good->len - 1)
			off = good->len - 1 - step;
	}
}

static void test_checkpoint_detects_every_flipped_byte(void **state)
{
	struct fixture *f = *state;
	struct graph *g;
	struct graft_buf good;
	char path[4096];
	uint64_t txid;

	/* A small graph: every byte of the file is tried. */
	assert_int_equal(graph_new(&g), GRAFT_OK);
	for (uint64_t id = 0; id < 8; id++) {
		assert_int_equal(graph_node_create(g, id, id + 1), GRAFT_OK);
		set_node_prop(g, id, "k", str_value("value", 5), id + 1);
	}
	assert_int_equal(graph_node_delete(g, 2, 9), GRAFT_OK);
	assert_int_equal(graph_rel_create(g, 0, tok(g, GRAPH_TOKEN_RELTYPE, "R"),
					  0, 1, 10),
			 GRAFT_OK);
	assert_int_equal(graph_index_create(g, tok(g, GRAPH_TOKEN_LABEL, "L"),
					    tok(g, GRAPH_TOKEN_PROPKEY, "k")),
			 GRAFT_OK);
	ckp_path(path, f, 10, "");
	serialise(f, g, 10, &good);
	write_file(path, good.data, good.len);
	assert_int_equal(load_path(f, path, &txid), GRAFT_OK);
	flip_each(f, &good, path, 1);
	graft_buf_free(&good);
	graph_free(g);
}

static void test_checkpoint_detects_flips_in_multi_block_file(void **state)
{
	struct fixture *f = *state;
	struct graph *g = sample_graph(true);
	struct graft_buf good;
	char path[4096];

	ckp_path(path, f, 11, "");
	serialise(f, g, 11, &good);
	assert_true(good.len > 3 * CKP_BLOCK_MAX);
	/* A prime step walks through headers and payloads of every block. */
	flip_each(f, &good, path, 4099);
	graft_buf_free(&good);
	graph_free(g);
}

static void test_checkpoint_detects_truncation_and_extra_bytes(void **state)
{
	struct fixture *f = *state;
	struct graph *g = sample_graph(false);
	struct graft_buf good;
	char path[4096];
	uint64_t txid;

	ckp_path(path, f, 12, "");
	serialise(f, g, 12, &good);
	for (size_t len = 0; len < good.len; len += len < 256 ? 1 : 97) {
		write_file(path, good.data, len);
		assert_int_equal(load_path(f, path, &txid), GRAFT_ECORRUPT);
		assert_corrupt_message(f, path);
	}
	write_file(path, good.data, good.len - 1);
	assert_int_equal(load_path(f, path, &txid), GRAFT_ECORRUPT);
	assert_int_equal(graft_buf_append(&good, "x", 1), GRAFT_OK);
	write_file(path, good.data, good.len);
	assert_int_equal(load_path(f, path, &txid), GRAFT_ECORRUPT);
	assert_corrupt_message(f, path);
	graft_buf_free(&good);
	graph_free(g);
}

static void test_checkpoint_damaged_newest_is_an_error(void **state)
{
	struct fixture *f = *state;
	struct graph *g = sample_graph(false);
	struct graft_buf good;
	char path[4096];
	uint64_t txid;

	write_named(f, g, 3, "checkpoint.00000000000000000003");
	ckp_path(path, f, 4, "");
	serialise(f, g, 4, &good);
	good.data[good.len / 2] ^= 1;
	write_file(path, good.data, good.len);
	graph_free(g);
	assert_int_equal(graph_new(&g), GRAFT_OK);
	assert_int_equal(checkpoint_load_newest(f->dir, g, &txid, f->errmsg),
			 GRAFT_ECORRUPT);
	assert_corrupt_message(f, path);
	graft_buf_free(&good);
	graph_free(g);
}

/* Files whose checksums are right but whose contents break the graph's
 * preconditions: the loader must refuse them, not abort. Each writes a
 * whole file through the format's own writer. */

struct crafted {
	uint64_t next_node, next_rel, nodes, rels;
	const char *labels[2], *types[2], *keys[2]; /* NULL-terminated */
	uint64_t indexes[4];                       /* pairs, count in n_ix */
	unsigned n_ix;
	const uint64_t *node_rec, *rel_rec; /* varints and RAW bytes, to END */
};

#define END UINT64_MAX
#define RAW_BIT (1ull << 62)
#define RAW(b) (RAW_BIT | (b))

static void put_names(struct ckp_writer *w, const char *const *names)
{
	uint64_t n = 0;

	while (n < 2 && names[n] != NULL)
		n++;
	ckp_writer_varint(w, n);
	for (uint64_t i = 0; i < n; i++) {
		ckp_writer_varint(w, strlen(names[i]));
		ckp_writer_put(w, names[i], strlen(names[i]));
	}
}

static void put_records(struct ckp_writer *w, const uint64_t *rec)
{
	for (; *rec != END; rec++) {
		uint8_t b = (uint8_t)*rec;
		if (*rec & RAW_BIT)
			ckp_writer_put(w, &b, 1);
		else
			ckp_writer_varint(w, *rec);
	}
	ckp_writer_varint(w, CKP_TAG_END);
}

static int load_crafted(struct fixture *f, const struct crafted *c)
{
	struct ckp_header h = {.txid = 1, .next_node = c->next_node,
			       .next_rel = c->next_rel, .nodes = c->nodes,
			       .rels = c->rels};
	uint8_t head[CKP_HEADER_SIZE];
	struct ckp_writer w;
	char path[4096];
	uint64_t txid;
	int fd;

	ckp_path(path, f, 1, "");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0640);
	assert_true(fd >= 0);
	assert_int_equal(ckp_writer_init(&w, fd, f->errmsg), GRAFT_OK);
	ckp_header_encode(&h, head);
	ckp_writer_raw(&w, head, sizeof head);
	ckp_writer_section(&w, CKP_SECTION_TOKENS);
	put_names(&w, c->labels);
	put_names(&w, c->types);
	put_names(&w, c->keys);
	ckp_writer_section(&w, CKP_SECTION_INDEXES);
	ckp_writer_varint(&w, c->n_ix);
	for (unsigned i = 0; i < 2 * c->n_ix; i++)
		ckp_writer_varint(&w, c->indexes[i]);
	ckp_writer_section(&w, CKP_SECTION_NODES);
	put_records(&w, c->node_rec);
	ckp_writer_section(&w, CKP_SECTION_RELS);
	put_records(&w, c->rel_rec);
	assert_int_equal(ckp_writer_finish(&w), GRAFT_OK);
	ckp_writer_free(&w);
	close(fd);
	return load_path(f, path, &txid);
}

/* A node record: tag, id gap, version, labels, properties. */
#define NODE_L0 1, 0, 5, 1, 0, 0

static void test_checkpoint_rejects_well_framed_nonsense(void **state)
{
	struct fixture *f = *state;
	/* Two nodes with label 0 and no properties, one relationship. */
	static const uint64_t two_nodes[] = {NODE_L0, NODE_L0, END};
	static const uint64_t one_rel[] = {1, 0, 6, 0, 0, 1, 0, END};
	static const struct crafted good = {
		.next_node = 2, .next_rel = 1, .nodes = 2, .rels = 1,
		.labels = {"L"}, .types = {"T"}, .keys = {"k"},
		.indexes = {0, 0}, .n_ix = 1,
		.node_rec = two_nodes, .rel_rec = one_rel,
	};
	static const uint64_t bad_label[] = {NODE_L0, 1, 0, 5, 1, 1, 0, END};
	static const uint64_t repeated_label[] = {NODE_L0, 1, 0, 5, 2, 0, 0, 0,
						  END};
	static const uint64_t past_next[] = {NODE_L0, 1, 5, 5, 1, 0, 0, END};
	static const uint64_t bad_tag[] = {NODE_L0, 7, 0, 5, 1, 0, 0, END};
	static const uint64_t null_prop[] = {NODE_L0, 1, 0, 5, 1, 0, 1, 0, 1,
					     RAW(0xc0), END};
	static const uint64_t bad_value[] = {NODE_L0, 1, 0, 5, 1, 0, 1, 0, 1,
					     RAW(0xc1), END};
	static const uint64_t long_value[] = {NODE_L0, 1, 0, 5, 1, 0, 1, 0, 2,
					      RAW(5), RAW(6), END};
	static const uint64_t huge_len[] = {NODE_L0, 1, 0, 5, 1, 0, 1, 0,
					    1u << 30, RAW(5), END};
	static const uint64_t rel_to_nowhere[] = {1, 0, 6, 0, 0, 7, 0, END};
	static const uint64_t rel_bad_type[] = {1, 0, 6, 3, 0, 1, 0, END};
	static const uint64_t deleted_rel[] = {2, 0, 6, END};
	static const uint64_t no_records[] = {END};
	static const uint64_t deleted_anchor[] = {2, 0, 5, 1, 0, 5, 1, 0, 0,
						  END};
	static const uint64_t rel_to_deleted[] = {1, 0, 6, 0, 0, 1, 0, END};
	static const struct {
		const char *why;
		struct crafted c;
	} bad[] = {
		{"label token 1 does not exist",
		 {2, 1, 2, 1, {"L"}, {"T"}, {"k"}, {0}, 0, bad_label, one_rel}},
		{"labels out of order",
		 {2, 1, 2, 1, {"L"}, {"T"}, {"k"}, {0}, 0, repeated_label,
		  one_rel}},
		{"not below the header's next id",
		 {2, 1, 2, 1, {"L"}, {"T"}, {"k"}, {0}, 0, past_next, one_rel}},
		{"unknown record tag 7",
		 {2, 1, 2, 1, {"L"}, {"T"}, {"k"}, {0}, 0, bad_tag, one_rel}},
		{"malformed or null",
		 {2, 1, 2, 1, {"L"}, {"T"}, {"k"}, {0}, 0, null_prop, one_rel}},
		{"property 0 of node 1: ",
		 {2, 1, 2, 1, {"L"}, {"T"}, {"k"}, {0}, 0, bad_value, one_rel}},
		{"malformed or null",
		 {2, 1, 2, 1, {"L"}, {"T"}, {"k"}, {0}, 0, long_value, one_rel}},
		{"past the end of the file",
		 {2, 1, 2, 1, {"L"}, {"T"}, {"k"}, {0}, 0, huge_len, one_rel}},
		{"node 7, which does not exist",
		 {2, 1, 2, 1, {"L"}, {"T"}, {"k"}, {0}, 0, two_nodes,
		  rel_to_nowhere}},
		{"relationship type token 3 does not exist",
		 {2, 1, 2, 1, {"L"}, {"T"}, {"k"}, {0}, 0, two_nodes,
		  rel_bad_type}},
		{"2 nodes where the header promises 3",
		 {2, 1, 3, 1, {"L"}, {"T"}, {"k"}, {0}, 0, two_nodes, one_rel}},
		{"1 relationships where the header promises 0",
		 {2, 1, 2, 0, {"L"}, {"T"}, {"k"}, {0}, 0, two_nodes, one_rel}},
		{"property key token 4 does not exist",
		 {2, 1, 2, 1, {"L"}, {"T"}, {"k"}, {0, 4}, 1, two_nodes,
		  one_rel}},
		{"invalid or repeated",
		 {2, 1, 2, 1, {"L", "L"}, {"T"}, {"k"}, {0}, 0, two_nodes,
		  one_rel}},
		{"defined twice",
		 {2, 1, 2, 1, {"L"}, {"T"}, {"k"}, {0}, 2, two_nodes, one_rel}},
		{"never had nodes",
		 {0, 1, 0, 0, {"L"}, {"T"}, {"k"}, {0}, 0, no_records,
		  deleted_rel}},
		/* Node 0 is deleted: a live relationship may not touch it. */
		{"node 0, which does not exist",
		 {2, 1, 1, 1, {"L"}, {"T"}, {"k"}, {0}, 0, deleted_anchor,
		  rel_to_deleted}},
	};
	struct crafted ok = good;

	assert_int_equal(load_crafted(f, &good), GRAFT_OK);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(load_crafted(f, &bad[i].c), GRAFT_ECORRUPT);
		if (strstr(f->errmsg, bad[i].why) == NULL)
			fail_msg("case %zu: '%s' not in: %s", i, bad[i].why,
				 f->errmsg);
		assert_non_null(strstr(f->errmsg, "at byte "));
	}
	/* A deleted first node stands in for a deleted relationship's ends. */
	ok.node_rec = deleted_anchor;
	ok.nodes = 1;
	ok.rel_rec = deleted_rel;
	ok.rels = 0;
	assert_int_equal(load_crafted(f, &ok), GRAFT_OK);
}

/* The forked writer */

struct run {
	int calls;
	int status;
};

static void done_cb(struct checkpoint_req *req, int status)
{
	struct run *run = req->data;

	run->calls++;
	run->status = status;
}

static void run_loop(uv_loop_t *loop)
{
	assert_int_equal(uv_run(loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(uv_loop_close(loop), 0);
}

static void test_checkpoint_start_writes_the_pre_fork_graph(void **state)
{
	struct fixture *f = *state;
	struct graph *g = sample_graph(true), *before = sample_graph(true), *h;
	struct checkpoint_req req;
	struct run run = {0};
	struct graft_value v = graft_value_int(999);
	uv_loop_t loop;
	uint64_t txid;
	char path[4096];

	assert_int_equal(uv_loop_init(&loop), 0);
	req.data = &run;
	assert_int_equal(checkpoint_start(&loop, &req, g, 77, f->dir, done_cb),
			 GRAFT_OK);
	/* The parent goes on applying while the child writes. */
	assert_int_equal(graph_node_set_prop(g, 1, tok(g, GRAPH_TOKEN_PROPKEY,
						      "age"), &v, 78),
			 GRAFT_OK);
	assert_int_equal(graph_node_create(g, 401, 78), GRAFT_OK);
	assert_int_equal(graph_rel_delete(g, 0, 78), GRAFT_OK);
	assert_int_equal(graph_node_delete(g, 310, 78), GRAFT_OK);
	assert_int_equal(graph_index_create(g, tok(g, GRAPH_TOKEN_LABEL, "Person"),
					    tok(g, GRAPH_TOKEN_PROPKEY, "age")),
			 GRAFT_OK);
	tok(g, GRAPH_TOKEN_LABEL, "Later");
	assert_int_equal(run.calls, 0);
	run_loop(&loop);

	assert_int_equal(run.calls, 1);
	assert_int_equal(run.status, GRAFT_OK);
	assert_int_equal(req.txid, 77);
	ckp_path(path, f, 77, "");
	assert_string_equal(req.path, path);
	assert_true(req.bytes > BIG_VALUE);
	assert_int_equal(count_entries(f->dir), 1);
	print_message("fork took %" PRIu64 " us\n", req.fork_us);

	assert_int_equal(graph_new(&h), GRAFT_OK);
	assert_int_equal(checkpoint_load_newest(f->dir, h, &txid, f->errmsg),
			 GRAFT_OK);
	assert_int_equal(txid, 77);
	assert_graphs_equal(before, h);
	graph_free(g);
	graph_free(before);
	graph_free(h);
}

static void test_checkpoint_start_removes_older_checkpoints(void **state)
{
	struct fixture *f = *state;
	struct graph *g = sample_graph(false);
	struct checkpoint_req req;
	struct run run = {0};
	uv_loop_t loop;
	char path[4096], tmp[4096];

	assert_int_equal(checkpoint_write_sync(g, 3, f->dir, f->errmsg),
			 GRAFT_OK);
	assert_int_equal(checkpoint_write_sync(g, 5, f->dir, f->errmsg),
			 GRAFT_OK);
	ckp_path(path, f, 3, "");
	assert_false(file_exists(path));
	ckp_path(tmp, f, 6, ".tmp");
	write_file(tmp, "junk", 4);

	assert_int_equal(uv_loop_init(&loop), 0);
	req.data = &run;
	assert_int_equal(checkpoint_start(&loop, &req, g, 8, f->dir, done_cb),
			 GRAFT_OK);
	run_loop(&loop);
	assert_int_equal(run.status, GRAFT_OK);
	assert_int_equal(count_entries(f->dir), 1);
	ckp_path(path, f, 8, "");
	assert_true(file_exists(path));
	graph_free(g);
}

static void test_checkpoint_failing_child_reports_through_cb(void **state)
{
	struct fixture *f = *state;
	struct graph *g = sample_graph(false);
	struct checkpoint_req req;
	struct run run = {0};
	uv_loop_t loop;
	char dir[256], blocker[128];

	/* A file where the directory should be: fails even for root. */
	snprintf(blocker, sizeof blocker, "%s/file", f->dir);
	write_file(blocker, "x", 1);
	snprintf(dir, sizeof dir, "%s/sub", blocker);
	assert_int_equal(uv_loop_init(&loop), 0);
	req.data = &run;
	assert_int_equal(checkpoint_start(&loop, &req, g, 8, dir, done_cb),
			 GRAFT_OK);
	run_loop(&loop);
	assert_int_equal(run.calls, 1);
	assert_int_not_equal(run.status, GRAFT_OK);
	assert_non_null(strstr(req.errmsg, dir));
	assert_string_equal(req.path, "");
	assert_int_equal(count_entries(f->dir), 1);
	/* The same through the synchronous writer. */
	assert_true(checkpoint_write_sync(g, 8, dir, f->errmsg) != GRAFT_OK);
	assert_non_null(strstr(f->errmsg, dir));
	assert_int_equal(count_entries(f->dir), 1);
	graph_free(g);
}

static void test_checkpoint_start_refuses_overlong_dir(void **state)
{
	struct graph *g;
	struct checkpoint_req req;
	struct run run = {0};
	uv_loop_t loop;
	char *dir = malloc(5000);

	(void)state;
	assert_non_null(dir);
	memset(dir, 'd', 4999);
	dir[0] = '/';
	dir[4999] = '\0';
	assert_int_equal(graph_new(&g), GRAFT_OK);
	assert_int_equal(uv_loop_init(&loop), 0);
	req.data = &run;
	assert_int_equal(checkpoint_start(&loop, &req, g, 1, dir, done_cb),
			 GRAFT_EINVAL);
	run_loop(&loop);
	assert_int_equal(run.calls, 0);
	free(dir);
	graph_free(g);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_checkpoint_round_trip_preserves_graph),
		T(test_checkpoint_round_trips_empty_graph),
		T(test_checkpoint_bytes_are_deterministic),
		T(test_checkpoint_refuses_non_empty_graph),
		T(test_checkpoint_load_picks_newest),
		T(test_checkpoint_empty_dir_is_not_found),
		T(test_checkpoint_ignores_older_leftover_tmp),
		T(test_checkpoint_name_must_match_contents),
		T(test_checkpoint_detects_every_flipped_byte),
		T(test_checkpoint_detects_flips_in_multi_block_file),
		T(test_checkpoint_detects_truncation_and_extra_bytes),
		T(test_checkpoint_damaged_newest_is_an_error),
		T(test_checkpoint_rejects_well_framed_nonsense),
		T(test_checkpoint_start_writes_the_pre_fork_graph),
		T(test_checkpoint_start_removes_older_checkpoints),
		T(test_checkpoint_failing_child_reports_through_cb),
		T(test_checkpoint_start_refuses_overlong_dir),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
