/* Unit tests for db: recovery after a clean close and after a crash,
 * startup errors, checkpoints and pruning, a full disk, and the dbms. */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "checkpoint/checkpoint.h"
#include "db/db_int.h"
#include "db/dbms.h"
#include "db_fixture.h"
#include "txlog/txlog.h"
#include "txrec/txrec.h"

/* n transactions: each a labelled node with x, and from the second on a
 * relationship from the previous node with y. Returns nonzero on failure
 * (usable in a forked child, where cmocka must not be). */
struct chain {
	struct fixture *f;
	uint64_t prev;
	int done, status;
};

static void chain_cb(struct db_commit_req *req, int status)
{
	struct chain *c = req->data;

	c->done = 1;
	c->status = status;
}

static int chain_commit(struct fixture *f, struct chain *c, int64_t i)
{
	struct graft_value v = graft_value_int(i);
	struct db_commit_req req;
	struct db_tx *tx;
	uint64_t id, rel;
	int rv = db_tx_begin(f->db, 0, &tx);

	if (rv != GRAFT_OK)
		return rv;
	rv = db_tx_node_create(tx, &id);
	if (rv == GRAFT_OK)
		rv = db_tx_node_add_label(tx, id, f->label);
	if (rv == GRAFT_OK)
		rv = db_tx_node_set_prop(tx, id, f->key_x, &v);
	if (rv == GRAFT_OK && i > 0)
		rv = db_tx_rel_create(tx, f->type, c->prev, id, &rel);
	if (rv == GRAFT_OK && i > 0)
		rv = db_tx_rel_set_prop(tx, rel, f->key_y, &v);
	if (rv != GRAFT_OK) {
		db_tx_rollback(tx);
		return rv;
	}
	c->done = 0;
	req.data = c;
	rv = db_commit(tx, &req, chain_cb);
	if (rv != GRAFT_OK)
		return rv;
	while (!c->done)
		uv_run(&f->loop, UV_RUN_ONCE);
	c->prev = id;
	return c->status;
}

static void chain(struct fixture *f, int64_t from, int64_t to)
{
	struct chain c = {.f = f};

	for (int64_t i = from; i < to; i++)
		assert_int_equal(chain_commit(f, &c, i), GRAFT_OK);
}

static void test_db_reopen_after_close_gives_same_graph(void **state)
{
	struct fixture *f = *state;
	struct db_recovery_stats st;
	void *before, *after;
	size_t nb, na;

	chain(f, 0, 20);
	before = fx_graph_bytes(f, f->db, &nb);
	fx_close(f);
	fx_open(f);
	db_recovery_stats(f->db, &st);
	assert_int_equal(st.checkpoint_txid, 20);
	assert_int_equal(st.replayed, 0);
	assert_int_equal(db_last_txid(f->db), 20);
	after = fx_graph_bytes(f, f->db, &na);
	assert_int_equal(na, nb);
	assert_memory_equal(before, after, nb);
	free(before);
	free(after);
	/* Commits go on from there. */
	fx_tokens(f);
	assert_int_equal(fx_node(f, 1), 20);
	assert_int_equal(db_last_txid(f->db), 21);
}

/* The child commits and dies without closing: no final checkpoint. It
 * returns only on failure; on success it is killed like a crashed server
 * (and so no leak checker in it can change its exit status). */
static int crash_child(struct fixture *parent, const char *expected)
{
	char errmsg[GRAFT_ERRMSG_SIZE];
	struct fixture child = *parent, *f = &child; /* a loop of its own */
	struct chain c = {.f = f};
	int fd, rv;

	if (uv_loop_init(&f->loop) != 0 ||
	    db_open(&f->loop, &f->o, &f->db, errmsg) != GRAFT_OK)
		return 2;
	if (db_token(f->db, GRAPH_TOKEN_LABEL, "L", 1, &f->label) ||
	    db_token(f->db, GRAPH_TOKEN_PROPKEY, "x", 1, &f->key_x) ||
	    db_token(f->db, GRAPH_TOKEN_RELTYPE, "R", 1, &f->type) ||
	    db_token(f->db, GRAPH_TOKEN_PROPKEY, "y", 1, &f->key_y))
		return 3;
	for (int64_t i = 0; i < 50; i++) {
		if (chain_commit(f, &c, i) != GRAFT_OK)
			return 4;
	}
	while (f->db->cp_running) /* dying mid-checkpoint is the other test */
		uv_run(&f->loop, UV_RUN_ONCE);
	fd = open(expected, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return 5;
	rv = checkpoint_write_fd(db_graph(f->db), db_last_txid(f->db), 0, fd,
				 errmsg);
	close(fd);
	if (rv != GRAFT_OK)
		return 6;
	raise(SIGKILL);
	return 7;
}

/* Forks a child that commits 50 transactions and is killed; then opens
 * the database and compares with the graph the child had. */
static void crash_and_recover(struct fixture *f, struct db_recovery_stats *st)
{
	char expected[600];
	void *want, *got;
	size_t nw, ng;
	FILE *fp;
	pid_t pid;
	int status;

	snprintf(expected, sizeof expected, "%s/expected", f->dir);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(crash_child(f, expected));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFEXITED(status))
		fail_msg("the child failed at step %d", WEXITSTATUS(status));
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

	fx_open(f);
	db_recovery_stats(f->db, st);
	assert_int_equal(db_last_txid(f->db), 50);
	got = fx_graph_bytes(f, f->db, &ng);
	fp = fopen(expected, "rb");
	assert_non_null(fp);
	want = malloc(ng + 1);
	nw = fread(want, 1, ng + 1, fp);
	fclose(fp);
	assert_int_equal(nw, ng);
	assert_memory_equal(want, got, ng);
	free(want);
	free(got);
}

static void test_db_recovery_replays_log_after_crash(void **state)
{
	struct fixture *f = *state;
	struct db_recovery_stats st;

	crash_and_recover(f, &st);
	assert_int_equal(st.checkpoint_txid, 0);
	assert_int_equal(st.replayed, 50);
}

static void test_db_recovery_after_crash_starts_from_checkpoint(void **state)
{
	struct fixture *f = *state;
	struct db_recovery_stats st;

	f->o.checkpoint_interval_tx = 20;
	f->o.rotation_size = 1024;
	f->o.retention.kind = GRAFT_RETAIN_NONE;
	crash_and_recover(f, &st);
	assert_true(st.checkpoint_txid >= 20);
	assert_int_equal(st.checkpoint_txid + st.replayed, 50);
}

static void appended_cb(struct txlog_append_req *req, int status)
{
	assert_int_equal(status, GRAFT_OK);
	(*(int *)req->data)++;
}

static void log_closed_cb(struct txlog *log, void *arg)
{
	(void)log;
	*(int *)arg = 1;
}

/* Writes n records straight into the log as transactions 1..n, as if
 * commits had written them; raw (if not NULL) replaces the last one. */
static void log_records(struct fixture *f, const struct txrec *recs, size_t n,
			const char *raw)
{
	char errmsg[GRAFT_ERRMSG_SIZE];
	struct txlog_options lo = {1 << 20, {GRAFT_RETAIN_ALL, 0, 0}, 0, false};
	struct txlog_append_req req[4];
	struct graft_buf b;
	struct txlog *log;
	int done = 0, closed = 0;

	assert_true(n <= 4);
	assert_int_equal(txlog_open(&f->loop, f->txlog, &lo, &log, errmsg),
			 GRAFT_OK);
	graft_buf_init(&b);
	for (size_t i = 0; i < n; i++) {
		graft_buf_reset(&b);
		if (raw != NULL && i == n - 1)
			assert_int_equal(graft_buf_append(&b, raw, strlen(raw)),
					 GRAFT_OK);
		else
			assert_int_equal(txrec_encode(&recs[i], &b), GRAFT_OK);
		req[i].data = &done;
		assert_int_equal(txlog_append(log, &req[i], i + 1, b.data, b.len,
					      appended_cb),
				 GRAFT_OK);
	}
	graft_buf_free(&b);
	while (done < (int)n)
		uv_run(&f->loop, UV_RUN_ONCE);
	txlog_close(log, log_closed_cb, &closed);
	while (!closed)
		uv_run(&f->loop, UV_RUN_ONCE);
}

static void one_op(struct txrec *r, uint8_t type, uint64_t id,
		   const char *name)
{
	struct txrec_op op = {.type = type, .id = id};

	txrec_init(r);
	r->db = graft_str_new("neo4j", 5);
	if (name != NULL)
		op.name = graft_str_new(name, strlen(name));
	assert_int_equal(txrec_add_op(r, &op), GRAFT_OK);
}

static void expect_open_error(struct fixture *f, int code, const char *what)
{
	char errmsg[GRAFT_ERRMSG_SIZE] = "";
	struct db *db = NULL;

	assert_int_equal(db_open(&f->loop, &f->o, &db, errmsg), code);
	assert_null(db);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	if (strstr(errmsg, "database neo4j") == NULL ||
	    strstr(errmsg, what) == NULL || strstr(errmsg, "restore") == NULL)
		fail_msg("unexpected message: %s", errmsg);
}

static void test_db_open_refuses_a_record_that_does_not_apply(void **state)
{
	struct fixture *f = *state;
	struct txrec recs[2];

	one_op(&recs[0], TXREC_NODE_CREATE, 0, NULL);
	one_op(&recs[1], TXREC_NODE_ADD_LABEL, 7, "L"); /* no node 7 */
	log_records(f, recs, 2, NULL);
	txrec_free(&recs[0]);
	txrec_free(&recs[1]);
	expect_open_error(f, GRAFT_ECONFLICT, "transaction 2");
}

static void test_db_open_refuses_a_record_that_does_not_decode(void **state)
{
	struct fixture *f = *state;
	struct txrec recs[1];

	one_op(&recs[0], TXREC_NODE_CREATE, 0, NULL);
	log_records(f, recs, 2, "this is not msgpack");
	txrec_free(&recs[0]);
	expect_open_error(f, GRAFT_ECORRUPT, "transaction 2");
}

static bool has_checkpoint(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	bool found = false;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		found |= strncmp(e->d_name, "checkpoint.", 11) == 0;
	closedir(d);
	return found;
}

static void test_db_checkpoints_by_tx_interval_then_prunes(void **state)
{
	struct fixture *f = *state;
	struct db_recovery_stats st;

	fx_close(f);
	f->o.checkpoint_interval_tx = 5;
	f->o.rotation_size = 512;
	f->o.retention.kind = GRAFT_RETAIN_NONE;
	fx_open(f);
	fx_tokens(f);
	chain(f, 0, 23);
	while (f->db->cp_running)
		uv_run(&f->loop, UV_RUN_ONCE);
	assert_true(f->db->cp_txid >= 15);
	assert_true(has_checkpoint(f->store));
	/* What the checkpoint covers is gone from the log. */
	assert_true(txlog_first_txid(f->db->log) > 1);
	assert_true(txlog_first_txid(f->db->log) <= f->db->cp_txid + 1);
	fx_close(f);
	fx_open(f);
	db_recovery_stats(f->db, &st);
	assert_int_equal(st.checkpoint_txid, 23);
	assert_int_equal(db_last_txid(f->db), 23);
}

struct checkpoint_result {
	int done;
	int status;
};

static void checkpoint_done_cb(void *arg, int status)
{
	struct checkpoint_result *r = arg;

	r->done = 1;
	r->status = status;
}

static void tick_cb(uv_timer_t *t)
{
	(void)t;
}

static void test_db_checkpoints_on_demand_and_by_time(void **state)
{
	struct fixture *f = *state;
	struct checkpoint_result r = {0};
	uv_timer_t tick;
	uint64_t deadline;

	chain(f, 0, 3);
	assert_int_equal(db_checkpoint(f->db, checkpoint_done_cb, &r), GRAFT_OK);
	assert_int_equal(db_checkpoint(f->db, NULL, NULL), GRAFT_EEXIST);
	fx_run_until_set(f, &r.done);
	assert_int_equal(r.status, GRAFT_OK);
	assert_int_equal(f->db->cp_txid, 3);
	assert_true(has_checkpoint(f->store));

	fx_close(f);
	f->o.checkpoint_interval_ms = 10;
	fx_open(f);
	fx_tokens(f);
	chain(f, 3, 5);
	/* The checkpoint timer never keeps a loop alive by itself. */
	uv_timer_init(&f->loop, &tick);
	uv_timer_start(&tick, tick_cb, 5, 5);
	deadline = uv_hrtime() + 10000000000ull;
	while (f->db->cp_txid != 5 && uv_hrtime() < deadline)
		uv_run(&f->loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&tick, NULL);
	uv_run(&f->loop, UV_RUN_NOWAIT); /* tick lives on this stack */
	assert_int_equal(f->db->cp_txid, 5);
}

struct disk_full_result {
	int done;
	int status;
	char errmsg[GRAFT_ERRMSG_SIZE];
	/* Committed from this callback, while the batch still fails. */
	struct db *db;
	struct db_commit_req *follower;
	struct disk_full_result *follower_res;
};

static void disk_full_cb(struct db_commit_req *req, int status)
{
	struct disk_full_result *r = req->data;
	struct db_tx *tx;
	uint64_t id;

	r->done = 1;
	r->status = status;
	memcpy(r->errmsg, req->errmsg, sizeof r->errmsg);
	if (r->follower == NULL)
		return;
	assert_int_equal(db_tx_begin(r->db, 0, &tx), GRAFT_OK);
	assert_int_equal(db_tx_node_create(tx, &id), GRAFT_OK);
	r->follower->data = r->follower_res;
	assert_int_equal(db_commit(tx, r->follower, disk_full_cb), GRAFT_OK);
}

static void test_db_disk_full_fails_commit_then_recovers(void **state)
{
	struct fixture *f = *state;
	char errmsg[GRAFT_ERRMSG_SIZE];
	struct disk_full_result res[4] = {{0}};
	struct db_commit_req reqs[4];
	struct rlimit old, full;
	struct db_tx *tx;
	uint64_t id, txid;

	chain(f, 0, 3);
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	full = old;
	full.rlim_cur = 1; /* every write past the first byte fails */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &full), 0);

	/* Three commits, the first alone in its batch, two queued behind it:
	 * all fail, nothing of them applies, and so does one made from the
	 * first one's callback while the others still wait for theirs. */
	res[0].db = f->db;
	res[0].follower = &reqs[3];
	res[0].follower_res = &res[3];
	for (int i = 0; i < 3; i++) {
		assert_int_equal(db_tx_begin(f->db, 0, &tx), GRAFT_OK);
		assert_int_equal(db_tx_node_create(tx, &id), GRAFT_OK);
		reqs[i].data = &res[i];
		assert_int_equal(db_commit(tx, &reqs[i], disk_full_cb), GRAFT_OK);
	}
	for (int i = 0; i < 4; i++)
		fx_run_until_set(f, &res[i].done);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(res[i].status, GRAFT_ENOSPC);
		assert_non_null(strstr(res[i].errmsg, "not committed"));
		assert_non_null(strstr(res[i].errmsg, "free disk space"));
		assert_false(graph_node_exists(db_graph(f->db), 3 + (uint64_t)i));
	}
	assert_int_equal(db_last_txid(f->db), 3);
	assert_int_equal(db_tx_begin(f->db, 0, &tx), GRAFT_OK);
	assert_int_equal(db_tx_node_create(tx, &id), GRAFT_OK);
	assert_int_equal(fx_commit(f, tx, NULL, errmsg), GRAFT_ENOSPC);

	/* Reads go on. */
	assert_int_equal(db_tx_begin(f->db, DB_TX_READ_ONLY, &tx), GRAFT_OK);
	assert_true(db_tx_node_exists(tx, 2));
	assert_int_equal(db_tx_node_prop(tx, 2, f->key_x)->u.i, 2);
	db_tx_rollback(tx);

	/* Space again: commits go on from the same transaction id. */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	assert_int_equal(db_tx_begin(f->db, 0, &tx), GRAFT_OK);
	assert_int_equal(db_tx_node_create(tx, &id), GRAFT_OK);
	assert_int_equal(fx_commit(f, tx, &txid, NULL), GRAFT_OK);
	assert_int_equal(txid, 4);
	fx_close(f);
	signal(SIGXFSZ, SIG_DFL);

	fx_open(f);
	assert_int_equal(db_last_txid(f->db), 4);
	assert_true(graph_node_exists(db_graph(f->db), id));
	assert_true(graph_node_exists(db_graph(f->db), 2));
	for (uint64_t i = 3; i < 8; i++) /* the failed ones */
		assert_false(graph_node_exists(db_graph(f->db), i));
}

static void closed_cb(void *arg)
{
	*(int *)arg = 1;
}

static void test_dbms_first_start_creates_system_and_default(void **state)
{
	struct fixture *f = *state;
	char errmsg[GRAFT_ERRMSG_SIZE] = "", data[600], other[700];
	struct dbms_options o = {0};
	struct db *dbs[4];
	struct dbms *m;
	struct stat st;
	int closed;

	snprintf(data, sizeof data, "%s/data", f->dir);
	o.data_dir = data;
	o.db = f->o;
	for (int round = 0; round < 2; round++) {
		if (dbms_open(&f->loop, &o, &m, errmsg) != GRAFT_OK)
			fail_msg("dbms_open: %s", errmsg);
		assert_string_equal(dbms_default_db(m), "neo4j");
		assert_int_equal(dbms_list(m, dbs, 4), 2 + (size_t)round);
		assert_string_equal(db_name(dbs[0]), "neo4j");
		if (round == 1)
			assert_string_equal(db_name(dbs[1]), "other");
		assert_string_equal(db_name(dbs[1 + round]), "system");
		assert_ptr_equal(dbms_get(m, "system"), dbs[1 + round]);
		assert_null(dbms_get(m, "nope"));
		closed = 0;
		dbms_close(m, closed_cb, &closed);
		while (!closed)
			uv_run(&f->loop, UV_RUN_ONCE);
		/* An operator adds a database directory. */
		snprintf(other, sizeof other, "%s/databases/other", data);
		mkdir(other, 0750);
	}
	snprintf(other, sizeof other, "%s/transactions/system", data);
	assert_int_equal(stat(other, &st), 0);
	snprintf(other, sizeof other, "%s/dbms", data);
	assert_int_equal(stat(other, &st), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name, setup) cmocka_unit_test_setup_teardown(name, setup, fx_teardown)
		T(test_db_reopen_after_close_gives_same_graph, fx_setup_open),
		T(test_db_recovery_replays_log_after_crash, fx_setup),
		T(test_db_recovery_after_crash_starts_from_checkpoint, fx_setup),
		T(test_db_open_refuses_a_record_that_does_not_apply, fx_setup),
		T(test_db_open_refuses_a_record_that_does_not_decode, fx_setup),
		T(test_db_checkpoints_by_tx_interval_then_prunes, fx_setup_open),
		T(test_db_checkpoints_on_demand_and_by_time, fx_setup_open),
		T(test_db_disk_full_fails_commit_then_recovers, fx_setup_open),
		T(test_dbms_first_start_creates_system_and_default, fx_setup),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
