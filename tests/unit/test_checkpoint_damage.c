/* Unit tests for damaged checkpoints: every flipped byte, truncation and
 * extra bytes are reported as corruption naming the file and the offset,
 * and files that are well framed but make no sense are refused without
 * reaching the graph's aborting preconditions. */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint/format.h"
#include "checkpoint_fixture.h"

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
		cfx_write_file(path, good->data, good->len);
		good->data[off] ^= 0x20;
		assert_int_equal(cfx_load_path(f, path, &txid), GRAFT_ECORRUPT);
		assert_corrupt_message(f, path);
		if (off + step >= good->len && off != good->len - 1)
			off = good->len - 1 - step;
	}
}

/* The checkpoint bytes of the sample graph at txid, and the path of the
 * file they belong in. */
static void sample_bytes(struct fixture *f, bool big, uint64_t txid,
			 char *path, struct graft_buf *out)
{
	struct graph *g = cfx_sample_graph(big);

	cfx_path(path, f, txid, "");
	cfx_serialise(f, g, txid, out);
	graph_free(g);
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
		cfx_set_node_prop(g, id, "k", cfx_str("value", 5), id + 1);
	}
	assert_int_equal(graph_node_delete(g, 2, 9), GRAFT_OK);
	assert_int_equal(graph_rel_create(g, 0, cfx_tok(g, GRAPH_TOKEN_RELTYPE, "R"),
					  0, 1, 10),
			 GRAFT_OK);
	assert_int_equal(graph_index_create(g, cfx_tok(g, GRAPH_TOKEN_LABEL, "L"),
					    cfx_tok(g, GRAPH_TOKEN_PROPKEY, "k")),
			 GRAFT_OK);
	cfx_path(path, f, 10, "");
	cfx_serialise(f, g, 10, &good);
	cfx_write_file(path, good.data, good.len);
	assert_int_equal(cfx_load_path(f, path, &txid), GRAFT_OK);
	flip_each(f, &good, path, 1);
	graft_buf_free(&good);
	graph_free(g);
}

static void test_checkpoint_detects_flips_in_multi_block_file(void **state)
{
	struct fixture *f = *state;
	struct graft_buf good;
	char path[4096];

	sample_bytes(f, true, 11, path, &good);
	assert_true(good.len > 3 * CKP_BLOCK_MAX);
	/* A prime step walks through headers and payloads of every block. */
	flip_each(f, &good, path, 4099);
	graft_buf_free(&good);
}

static void test_checkpoint_detects_truncation_and_extra_bytes(void **state)
{
	struct fixture *f = *state;
	struct graft_buf good;
	char path[4096];
	uint64_t txid;

	sample_bytes(f, false, 12, path, &good);
	for (size_t len = 0; len < good.len; len += len < 256 ? 1 : 97) {
		cfx_write_file(path, good.data, len);
		assert_int_equal(cfx_load_path(f, path, &txid), GRAFT_ECORRUPT);
		assert_corrupt_message(f, path);
	}
	cfx_write_file(path, good.data, good.len - 1);
	assert_int_equal(cfx_load_path(f, path, &txid), GRAFT_ECORRUPT);
	assert_int_equal(graft_buf_append(&good, "x", 1), GRAFT_OK);
	cfx_write_file(path, good.data, good.len);
	assert_int_equal(cfx_load_path(f, path, &txid), GRAFT_ECORRUPT);
	assert_corrupt_message(f, path);
	graft_buf_free(&good);
}

static void test_checkpoint_damaged_newest_is_an_error(void **state)
{
	struct fixture *f = *state;
	struct graph *g = cfx_sample_graph(false);
	struct graft_buf good;
	char path[4096];
	uint64_t txid;

	cfx_write_named(f, g, 3, "checkpoint.00000000000000000003");
	cfx_path(path, f, 4, "");
	cfx_serialise(f, g, 4, &good);
	good.data[good.len / 2] ^= 1;
	cfx_write_file(path, good.data, good.len);
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

	cfx_path(path, f, 1, "");
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
	return cfx_load_path(f, path, &txid);
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

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, cfx_setup, cfx_teardown)
	const struct CMUnitTest tests[] = {
		T(test_checkpoint_detects_every_flipped_byte),
		T(test_checkpoint_detects_flips_in_multi_block_file),
		T(test_checkpoint_detects_truncation_and_extra_bytes),
		T(test_checkpoint_damaged_newest_is_an_error),
		T(test_checkpoint_rejects_well_framed_nonsense),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
