/* Unit tests for checkpoints: round trips through real files, determinism,
 * choice of the newest file, and the forked writer running while the
 * parent keeps changing the graph. Damage is in test_checkpoint_damage.c. */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "checkpoint/format.h"
#include "checkpoint_fixture.h"
#include "util/crc32c.h"

/* Loads the newest checkpoint of f->dir into a fresh graph, asserting that
 * it loads and is the one of txid. */
static struct graph *load_newest(struct fixture *f, uint64_t txid)
{
	struct graph *h;
	uint64_t got = txid + 1;

	assert_int_equal(graph_new(&h), GRAFT_OK);
	assert_int_equal(checkpoint_load_newest(f->dir, h, &got, f->errmsg),
			 GRAFT_OK);
	assert_int_equal(got, txid);
	return h;
}

/* Round trips */

static void test_checkpoint_round_trip_preserves_graph(void **state)
{
	struct fixture *f = *state;
	struct graph *g = cfx_sample_graph(true), *h;
	struct graft_buf a, b;

	assert_int_equal(checkpoint_write_sync(g, 42, 0, f->dir, f->errmsg),
			 GRAFT_OK);
	h = load_newest(f, 42);
	cfx_assert_graphs_equal(g, h);
	cfx_serialise(f, g, 42, &a);
	cfx_serialise(f, h, 42, &b);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.data, b.data, a.len);
	graft_buf_free(&a);
	graft_buf_free(&b);
	graph_free(g);
	graph_free(h);
}

static void test_checkpoint_header_keeps_the_raft_index(void **state)
{
	struct fixture *f = *state;
	struct graph *g = cfx_sample_graph(false), *h;
	uint64_t index = 0;

	assert_int_equal(checkpoint_write_sync(g, 9, 1234, f->dir, f->errmsg),
			 GRAFT_OK);
	assert_int_equal(checkpoint_raft_index(f->dir, 9, &index, f->errmsg),
			 GRAFT_OK);
	assert_true(index == 1234);
	h = load_newest(f, 9);
	cfx_assert_graphs_equal(g, h);
	graph_free(g);
	graph_free(h);
}

/* v2's bytes as version 1 wrote them: a 56-byte header without the Raft
 * index, and a trailer that counts from it. */
static void to_version_1(const struct graft_buf *v2, struct graft_buf *out)
{
	const size_t trailer = CKP_BLOCK_HEADER_SIZE + CKP_TRAILER_SIZE;
	size_t body = v2->len - CKP_HEADER_SIZE - trailer;
	uint8_t *p;

	graft_buf_init(out);
	assert_int_equal(graft_buf_reserve(out, v2->len), GRAFT_OK);
	p = out->data;
	memcpy(p, v2->data, 52);
	graft_put_u32le(p + 8, CKP_FORMAT_VERSION_NO_RAFT_INDEX);
	graft_put_u32le(p + 52, graft_crc32c(0, p, 52));
	memcpy(p + CKP_HEADER_SIZE_V1, v2->data + CKP_HEADER_SIZE, body);
	p += CKP_HEADER_SIZE_V1 + body;
	memcpy(p, v2->data + v2->len - trailer, trailer);
	graft_put_u64le(p + CKP_BLOCK_HEADER_SIZE + 8,
			CKP_HEADER_SIZE_V1 + body);
	graft_put_u32le(p + CKP_BLOCK_HEADER_SIZE + 16,
			graft_crc32c(0, out->data, CKP_HEADER_SIZE_V1 + body));
	graft_put_u32le(p + 8,
			graft_crc32c(graft_crc32c(0, p, 8),
				     p + CKP_BLOCK_HEADER_SIZE,
				     CKP_TRAILER_SIZE));
	out->len = CKP_HEADER_SIZE_V1 + body + trailer;
}

static void test_checkpoint_reads_version_1_without_a_raft_index(
	void **state)
{
	struct fixture *f = *state;
	struct graph *g = cfx_sample_graph(true), *h;
	struct graft_buf v2, v1;
	uint64_t index = 1;
	char path[4096];

	cfx_serialise(f, g, 12, &v2);
	to_version_1(&v2, &v1);
	cfx_path(path, f, 12, "");
	cfx_write_file(path, v1.data, v1.len);
	h = load_newest(f, 12);
	cfx_assert_graphs_equal(g, h);
	assert_int_equal(checkpoint_raft_index(f->dir, 12, &index, f->errmsg),
			 GRAFT_OK);
	assert_true(index == 0);
	graft_buf_free(&v2);
	graft_buf_free(&v1);
	graph_free(g);
	graph_free(h);
}

static void test_checkpoint_round_trips_empty_graph(void **state)
{
	struct fixture *f = *state;
	struct graph *g, *h;

	assert_int_equal(graph_new(&g), GRAFT_OK);
	assert_int_equal(checkpoint_write_sync(g, 0, 0, f->dir, f->errmsg),
			 GRAFT_OK);
	h = load_newest(f, 0);
	cfx_assert_graphs_equal(g, h);
	graph_free(g);
	graph_free(h);
}

/* Temporal values, durations and points as properties survive a
 * checkpoint; a named zone keeps its name. */
static void test_checkpoint_round_trips_extended_values(void **state)
{
	struct fixture *f = *state;
	struct graph *g, *h;
	struct graft_value v;
	const struct graft_value *back;

	assert_int_equal(graph_new(&g), GRAFT_OK);
	assert_int_equal(graph_node_create(g, 1, 1), GRAFT_OK);
	for (uint8_t t = GRAFT_VALUE_DATE; t <= GRAFT_VALUE_POINT; t++) {
		char key[16];
		bool point = t == GRAFT_VALUE_POINT, date = t == GRAFT_VALUE_DATE;
		/* Each type's own fields; the others stay zero. */
		assert_int_equal(graft_value_ext(&v, t), GRAFT_OK);
		v.u.x->days = date || t == GRAFT_VALUE_DURATION ? -1 : 0;
		v.u.x->secs = date || point ? 0 : 3600;
		v.u.x->nanos = date || point ? 0 : 5;
		v.u.x->offset = t == GRAFT_VALUE_TIME ? -3600 : 0;
		v.u.x->dims = point ? 3 : 0;
		v.u.x->z = point ? 2.5 : 0;
		if (t == GRAFT_VALUE_DATETIME)
			v.u.x->zone = graft_str_new("Europe/Paris", 12);
		snprintf(key, sizeof key, "p%u", t);
		cfx_set_node_prop(g, 1, key, v, 2);
	}
	assert_int_equal(checkpoint_write_sync(g, 7, 0, f->dir, f->errmsg),
			 GRAFT_OK);
	h = load_newest(f, 7);
	cfx_assert_graphs_equal(g, h);
	back = graph_node_prop(h, 1, cfx_tok(h, GRAPH_TOKEN_PROPKEY, "p12"));
	assert_non_null(back);
	assert_int_equal(back->type, GRAFT_VALUE_DATETIME);
	assert_string_equal(back->u.x->zone->data, "Europe/Paris");
	graph_free(g);
	graph_free(h);
}

static void test_checkpoint_bytes_are_deterministic(void **state)
{
	struct fixture *f = *state;
	struct graph *g1 = cfx_sample_graph(true), *g2 = cfx_sample_graph(true);
	struct graft_buf a, b, c;
	struct graft_value v = graft_value_int(7);

	cfx_serialise(f, g1, 9, &a);
	cfx_serialise(f, g2, 9, &b);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.data, b.data, a.len);
	/* One changed property changes the bytes. */
	assert_int_equal(graph_node_set_prop(g2, 200, cfx_tok(g2, GRAPH_TOKEN_PROPKEY,
							 "age"), &v, 8),
			 GRAFT_OK);
	cfx_serialise(f, g2, 9, &c);
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
	struct graph *g = cfx_sample_graph(false);
	uint64_t txid;

	assert_int_equal(checkpoint_write_sync(g, 3, 0, f->dir, f->errmsg),
			 GRAFT_OK);
	assert_int_equal(checkpoint_load_newest(f->dir, g, &txid, f->errmsg),
			 GRAFT_EINVAL);
	graph_free(g);
}

/* Choosing the file */

static void test_checkpoint_load_picks_newest(void **state)
{
	struct fixture *f = *state;
	struct graph *g, *h;
	char tmp[4096];

	assert_int_equal(graph_new(&g), GRAFT_OK);
	for (uint64_t t = 1; t <= 3; t++)
		assert_int_equal(graph_node_create(g, t - 1, t), GRAFT_OK);
	cfx_write_named(f, g, 3, "checkpoint.00000000000000000003");
	assert_int_equal(graph_node_create(g, 3, 12), GRAFT_OK);
	cfx_write_named(f, g, 12, "checkpoint.00000000000000000012");
	cfx_write_named(f, g, 12, "checkpoint.00000000000000000007");
	/* Not checkpoints by name: never chosen, never removed. */
	snprintf(tmp, sizeof tmp, "%s/notes", f->dir);
	cfx_write_file(tmp, "", 0);
	cfx_write_named(f, g, 99, "checkpoint.99");
	cfx_write_named(f, g, 99, "checkpoint.00000000000000000099.old");
	cfx_path(tmp, f, 100, ".tmp");
	cfx_write_file(tmp, "junk", 4);

	h = load_newest(f, 12);
	assert_int_equal(graph_next_node_id(h), 4);
	assert_false(cfx_exists(tmp));
	assert_int_equal(cfx_count_entries(f->dir), 6);
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
	cfx_path(tmp, f, 5, ".tmp");
	cfx_write_file(tmp, "GRAFTCKP", 8);
	assert_int_equal(checkpoint_load_newest(f->dir, g, &txid, f->errmsg),
			 GRAFT_ENOTFOUND);
	assert_false(cfx_exists(tmp));
	graph_free(g);
}

static void test_checkpoint_ignores_older_leftover_tmp(void **state)
{
	struct fixture *f = *state;
	struct graph *g = cfx_sample_graph(false), *h;
	char tmp[4096];

	assert_int_equal(checkpoint_write_sync(g, 5, 0, f->dir, f->errmsg),
			 GRAFT_OK);
	cfx_path(tmp, f, 9, ".tmp");
	cfx_write_file(tmp, "GRAFTCKP half a file", 20);
	h = load_newest(f, 5);
	assert_false(cfx_exists(tmp));
	cfx_assert_graphs_equal(g, h);
	graph_free(g);
	graph_free(h);
}

static void test_checkpoint_name_must_match_contents(void **state)
{
	struct fixture *f = *state;
	struct graph *g = cfx_sample_graph(false);
	uint64_t txid;

	cfx_write_named(f, g, 41, "checkpoint.00000000000000000042");
	graph_free(g);
	assert_int_equal(graph_new(&g), GRAFT_OK);
	assert_int_equal(checkpoint_load_newest(f->dir, g, &txid, f->errmsg),
			 GRAFT_ECORRUPT);
	assert_non_null(strstr(f->errmsg, "checkpoint.00000000000000000042"));
	graph_free(g);
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
	struct graph *g = cfx_sample_graph(true), *before = cfx_sample_graph(true), *h;
	struct checkpoint_req req = {0};
	struct run run = {0};
	struct graft_value v = graft_value_int(999);
	uv_loop_t loop;
	char path[4096];

	assert_int_equal(uv_loop_init(&loop), 0);
	req.data = &run;
	assert_int_equal(checkpoint_start(&loop, &req, g, 77, f->dir, done_cb),
			 GRAFT_OK);
	/* The parent goes on applying while the child writes. */
	assert_int_equal(graph_node_set_prop(g, 1, cfx_tok(g, GRAPH_TOKEN_PROPKEY,
						      "age"), &v, 78),
			 GRAFT_OK);
	assert_int_equal(graph_node_create(g, 401, 78), GRAFT_OK);
	assert_int_equal(graph_rel_delete(g, 0, 78), GRAFT_OK);
	assert_int_equal(graph_node_delete(g, 310, 78), GRAFT_OK);
	assert_int_equal(graph_index_create(g, cfx_tok(g, GRAPH_TOKEN_LABEL, "Person"),
					    cfx_tok(g, GRAPH_TOKEN_PROPKEY, "age")),
			 GRAFT_OK);
	cfx_tok(g, GRAPH_TOKEN_LABEL, "Later");
	assert_int_equal(run.calls, 0);
	run_loop(&loop);

	assert_int_equal(run.calls, 1);
	assert_int_equal(run.status, GRAFT_OK);
	assert_int_equal(req.txid, 77);
	cfx_path(path, f, 77, "");
	assert_string_equal(req.path, path);
	assert_true(req.bytes > CFX_BIG_VALUE);
	assert_int_equal(cfx_count_entries(f->dir), 1);
	print_message("fork took %" PRIu64 " us\n", req.fork_us);

	h = load_newest(f, 77);
	cfx_assert_graphs_equal(before, h);
	graph_free(g);
	graph_free(before);
	graph_free(h);
}

static void test_checkpoint_start_removes_older_checkpoints(void **state)
{
	struct fixture *f = *state;
	struct graph *g = cfx_sample_graph(false);
	struct checkpoint_req req = {0};
	struct run run = {0};
	uv_loop_t loop;
	char path[4096], tmp[4096];

	assert_int_equal(checkpoint_write_sync(g, 3, 0, f->dir, f->errmsg),
			 GRAFT_OK);
	assert_int_equal(checkpoint_write_sync(g, 5, 0, f->dir, f->errmsg),
			 GRAFT_OK);
	cfx_path(path, f, 3, "");
	assert_false(cfx_exists(path));
	cfx_path(tmp, f, 6, ".tmp");
	cfx_write_file(tmp, "junk", 4);

	assert_int_equal(uv_loop_init(&loop), 0);
	req.data = &run;
	assert_int_equal(checkpoint_start(&loop, &req, g, 8, f->dir, done_cb),
			 GRAFT_OK);
	run_loop(&loop);
	assert_int_equal(run.status, GRAFT_OK);
	assert_int_equal(cfx_count_entries(f->dir), 1);
	cfx_path(path, f, 8, "");
	assert_true(cfx_exists(path));
	graph_free(g);
}

/* A checkpoint_start into a file where the directory should be (fails
 * even for root) reports through cb, naming the directory, and leaves
 * nothing; copy_max_bytes picks the forked child or the in-memory copy. */
static void start_into_a_file(struct fixture *f, const struct graph *g,
			      uint64_t copy_max_bytes, char *dir, size_t n)
{
	struct checkpoint_req req = {0};
	struct run run = {0};
	uv_loop_t loop;
	char blocker[128];

	snprintf(blocker, sizeof blocker, "%s/file", f->dir);
	cfx_write_file(blocker, "x", 1);
	snprintf(dir, n, "%s/sub", blocker);
	assert_int_equal(uv_loop_init(&loop), 0);
	req.data = &run;
	req.copy_max_bytes = copy_max_bytes;
	assert_int_equal(checkpoint_start(&loop, &req, g, 8, dir, done_cb),
			 GRAFT_OK);
	assert_int_equal(req.forked, copy_max_bytes == 0);
	run_loop(&loop);
	assert_int_equal(run.calls, 1);
	assert_int_not_equal(run.status, GRAFT_OK);
	assert_non_null(strstr(req.errmsg, dir));
	assert_string_equal(req.path, "");
	assert_int_equal(cfx_count_entries(f->dir), 1);
}

static void test_checkpoint_failing_child_reports_through_cb(void **state)
{
	struct fixture *f = *state;
	struct graph *g = cfx_sample_graph(false);
	char dir[256];

	start_into_a_file(f, g, 0, dir, sizeof dir);
	/* The same through the synchronous writer. */
	assert_true(checkpoint_write_sync(g, 8, 0, dir, f->errmsg) != GRAFT_OK);
	assert_non_null(strstr(f->errmsg, dir));
	assert_int_equal(cfx_count_entries(f->dir), 1);
	graph_free(g);
}

/* A small graph is copied in memory instead of forking: the file holds
 * the graph as of the start though the caller changes it at once, and no
 * child was made. */
static void test_checkpoint_small_graph_is_copied_without_a_fork(void **state)
{
	struct fixture *f = *state;
	struct graph *g = cfx_sample_graph(true), *before = cfx_sample_graph(true), *h;
	struct checkpoint_req req = {0};
	struct run run = {0};
	struct graft_value v = graft_value_int(999);
	struct graph_stats st;
	uv_loop_t loop;
	char path[4096];

	graph_stats(g, &st);
	assert_int_equal(uv_loop_init(&loop), 0);
	req.data = &run;
	req.copy_max_bytes = st.bytes;
	assert_int_equal(checkpoint_start(&loop, &req, g, 77, f->dir, done_cb),
			 GRAFT_OK);
	assert_false(req.forked);
	assert_int_equal(req.child, 0);
	assert_int_equal(graph_node_set_prop(g, 1, cfx_tok(g, GRAPH_TOKEN_PROPKEY,
						      "age"), &v, 78),
			 GRAFT_OK);
	assert_int_equal(graph_node_delete(g, 310, 78), GRAFT_OK);
	cfx_tok(g, GRAPH_TOKEN_LABEL, "Later");
	run_loop(&loop);
	assert_int_equal(run.calls, 1);
	assert_int_equal(run.status, GRAFT_OK);
	cfx_path(path, f, 77, "");
	assert_string_equal(req.path, path);
	assert_true(req.bytes > CFX_BIG_VALUE);
	assert_int_equal(cfx_count_entries(f->dir), 1);
	print_message("%" PRIu64 " graph bytes serialised in %" PRIu64 " us\n",
		      st.bytes, req.fork_us);
	h = load_newest(f, 77);
	cfx_assert_graphs_equal(before, h);
	graph_free(g);
	graph_free(before);
	graph_free(h);
}

/* One byte over the limit forks as before. */
static void test_checkpoint_graph_over_the_copy_limit_forks(void **state)
{
	struct fixture *f = *state;
	struct graph *g = cfx_sample_graph(false);
	struct checkpoint_req req = {0};
	struct run run = {0};
	struct graph_stats st;
	uv_loop_t loop;

	graph_stats(g, &st);
	assert_int_equal(uv_loop_init(&loop), 0);
	req.data = &run;
	req.copy_max_bytes = st.bytes - 1;
	assert_int_equal(checkpoint_start(&loop, &req, g, 9, f->dir, done_cb),
			 GRAFT_OK);
	assert_true(req.forked);
	assert_true(req.child > 0);
	run_loop(&loop);
	assert_int_equal(run.status, GRAFT_OK);
	assert_int_equal(cfx_count_entries(f->dir), 1);
	graph_free(g);
}

/* A copied checkpoint that cannot be written reports through cb, naming
 * the directory, and leaves nothing. */
static void test_checkpoint_failing_copy_reports_through_cb(void **state)
{
	struct fixture *f = *state;
	struct graph *g = cfx_sample_graph(false);
	char dir[256];

	start_into_a_file(f, g, UINT64_MAX, dir, sizeof dir);
	graph_free(g);
}

/* A file size limit cuts the writer off halfway: by SIGXFSZ for the
 * forked child, by EFBIG for the synchronous writer that ignores it. */
static void test_checkpoint_writer_cut_off_leaves_nothing(void **state)
{
	struct fixture *f = *state;
	struct graph *g = cfx_sample_graph(true);
	struct rlimit old, small;
	struct checkpoint_req req = {0};
	struct run run = {0};
	uv_loop_t loop;

	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	small = old;
	small.rlim_cur = 100 * 1024;
	assert_int_equal(uv_loop_init(&loop), 0);
	req.data = &run;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	assert_int_equal(checkpoint_start(&loop, &req, g, 4, f->dir, done_cb),
			 GRAFT_OK);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	run_loop(&loop);
	assert_int_equal(run.status, GRAFT_EIO);
	assert_non_null(strstr(req.errmsg, "killed by signal"));
	assert_int_equal(cfx_count_entries(f->dir), 0);

	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	assert_int_not_equal(checkpoint_write_sync(g, 4, 0, f->dir, f->errmsg),
			     GRAFT_OK);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
	assert_non_null(strstr(f->errmsg, "write failed at byte"));
	assert_int_equal(cfx_count_entries(f->dir), 0);
	graph_free(g);
}

static void test_checkpoint_start_refuses_overlong_dir(void **state)
{
	struct graph *g;
	struct checkpoint_req req = {0};
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
#define T(name) cmocka_unit_test_setup_teardown(name, cfx_setup, cfx_teardown)
	const struct CMUnitTest tests[] = {
		T(test_checkpoint_round_trip_preserves_graph),
		T(test_checkpoint_round_trips_empty_graph),
		T(test_checkpoint_header_keeps_the_raft_index),
		T(test_checkpoint_reads_version_1_without_a_raft_index),
		T(test_checkpoint_round_trips_extended_values),
		T(test_checkpoint_bytes_are_deterministic),
		T(test_checkpoint_refuses_non_empty_graph),
		T(test_checkpoint_load_picks_newest),
		T(test_checkpoint_empty_dir_is_not_found),
		T(test_checkpoint_ignores_older_leftover_tmp),
		T(test_checkpoint_name_must_match_contents),
		T(test_checkpoint_start_writes_the_pre_fork_graph),
		T(test_checkpoint_start_removes_older_checkpoints),
		T(test_checkpoint_failing_child_reports_through_cb),
		T(test_checkpoint_writer_cut_off_leaves_nothing),
		T(test_checkpoint_start_refuses_overlong_dir),
		T(test_checkpoint_small_graph_is_copied_without_a_fork),
		T(test_checkpoint_graph_over_the_copy_limit_forks),
		T(test_checkpoint_failing_copy_reports_through_cb),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
