/* Unit tests for the backup server and client together: a real loop and
 * database, the server on an ephemeral loopback port, the (blocking)
 * client on a thread. FULL is the newest checkpoint plus the log after
 * it, DIFF exactly the transactions after the newest artifact, AUTO falls
 * back to FULL when a DIFF cannot be served, and errors name the cause;
 * what it writes restores, with or without a database id. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include <cmocka.h>

#include "backup/client.h"
#include "backup/restore.h"
#include "backup/serve.h"
#include "db/dbms.h"
#include "util/fs.h"
#include "backup_fixture.h"
#include "tmpdir.h"

struct fixture {
	char dir[256];
	char data[300];
	char out[300];
	char addr[64];
	uv_loop_t loop;
	uv_async_t wake;
	struct dbms *dbms;
	struct db *db;
	struct backup_server *srv;
	uint32_t label;
	/* the client thread's job and result */
	const char *db_name;
	struct backup_client_opts o;
	struct backup_result res;
	char errmsg[GRAFT_ERRMSG_SIZE];
	int rv;
	volatile int done;
};

static void wake_cb(uv_async_t *a)
{
	(void)a;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	struct dbms_options o;
	struct graft_address a = {.host = "127.0.0.1", .port = 0};
	char errmsg[GRAFT_ERRMSG_SIZE], txlog_root[320];

	assert_non_null(f);
	assert_non_null(tmpdir_make(f->dir, sizeof f->dir, "backup-serve"));
	snprintf(f->data, sizeof f->data, "%s/data", f->dir);
	snprintf(f->out, sizeof f->out, "%s/out", f->dir);
	assert_int_equal(graft_mkdir_p(f->out, errmsg), GRAFT_OK);
	assert_int_equal(uv_loop_init(&f->loop), 0);
	assert_int_equal(uv_async_init(&f->loop, &f->wake, wake_cb), 0);
	memset(&o, 0, sizeof o);
	o.data_dir = f->data;
	o.db.rotation_size = 1 << 20;
	o.db.retention.kind = GRAFT_RETAIN_ALL;
	if (dbms_open(&f->loop, &o, &f->dbms, errmsg) != GRAFT_OK)
		fail_msg("dbms_open: %s", errmsg);
	f->db = dbms_get(f->dbms, "neo4j");
	assert_non_null(f->db);
	assert_int_equal(db_token(f->db, GRAPH_TOKEN_LABEL, "L", 1, &f->label),
			 GRAFT_OK);
	snprintf(txlog_root, sizeof txlog_root, "%s/transactions", f->data);
	if (backup_server_start(&f->loop, f->dbms, f->data, txlog_root,
				"server.backup.listen_address", &a, &f->srv,
				errmsg) != GRAFT_OK)
		fail_msg("backup_server_start: %s", errmsg);
	snprintf(f->addr, sizeof f->addr, "127.0.0.1:%d",
		 backup_server_port(f->srv));
	f->o.to_dir = f->out;
	f->o.compress = true;
	f->o.timeout_s = 10;
	*state = f;
	return 0;
}

static void closed_cb(void *arg)
{
	*(int *)arg = 1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int closed = 0;

	backup_server_close(f->srv);
	dbms_close(f->dbms, closed_cb, &closed);
	uv_close((uv_handle_t *)&f->wake, NULL);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_true(closed);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	tmpdir_remove(f->dir);
	free(f);
	return 0;
}

static void commit_cb(struct db_commit_req *req, int status)
{
	*(int *)req->data = status == GRAFT_OK ? 1 : -1;
}

/* Commits n transactions of one node each. */
static void commit_nodes(struct fixture *f, int n)
{
	struct db_commit_req req;
	struct db_tx *tx;
	uint64_t id;
	int done;

	while (n-- > 0) {
		assert_int_equal(db_tx_begin(f->db, 0, &tx), GRAFT_OK);
		assert_int_equal(db_tx_node_create(tx, &id), GRAFT_OK);
		assert_int_equal(db_tx_node_add_label(tx, id, f->label), GRAFT_OK);
		done = 0;
		req.data = &done;
		assert_int_equal(db_commit(tx, &req, commit_cb), GRAFT_OK);
		while (done == 0)
			uv_run(&f->loop, UV_RUN_ONCE);
		assert_int_equal(done, 1);
	}
}

static void checkpoint_cb(void *arg, int status)
{
	*(int *)arg = status == GRAFT_OK ? 1 : -1;
}

static void checkpoint(struct fixture *f)
{
	int done = 0;

	assert_int_equal(db_checkpoint(f->db, checkpoint_cb, &done), GRAFT_OK);
	while (done == 0)
		uv_run(&f->loop, UV_RUN_ONCE);
	assert_int_equal(done, 1);
}

static void client_thread(void *arg)
{
	struct fixture *f = arg;

	f->rv = backup_client_run(f->addr, f->db_name, &f->o, &f->res,
				  f->errmsg);
	f->done = 1;
	uv_async_send(&f->wake);
}

/* Runs one backup of db on a thread while the loop serves it. */
static int backup(struct fixture *f, const char *db, enum backup_want type)
{
	uv_thread_t t;

	f->db_name = db;
	f->o.type = type;
	f->done = 0;
	assert_int_equal(uv_thread_create(&t, client_thread, f), 0);
	while (!f->done)
		uv_run(&f->loop, UV_RUN_ONCE);
	assert_int_equal(uv_thread_join(&t), 0);
	return f->rv;
}

static void test_backup_serve_full_then_diff(void **state)
{
	struct fixture *f = *state;
	struct backup_meta m;

	commit_nodes(f, 5);
	checkpoint(f);
	commit_nodes(f, 3);
	assert_int_equal(backup(f, "neo4j", BACKUP_WANT_AUTO), GRAFT_OK);
	assert_int_equal(f->res.m.type, BACKUP_FULL);
	assert_int_equal(f->res.m.checkpoint_txid, 5);
	assert_int_equal(f->res.m.first_txid, 6);
	assert_int_equal(f->res.m.last_txid, 8);
	assert_int_equal(backup_read(f->res.path, &m, NULL, f->errmsg), GRAFT_OK);

	commit_nodes(f, 2);
	assert_int_equal(backup(f, "neo4j", BACKUP_WANT_AUTO), GRAFT_OK);
	assert_int_equal(f->res.m.type, BACKUP_DIFF);
	assert_int_equal(f->res.m.first_txid, 9);
	assert_int_equal(f->res.m.last_txid, 10);
	assert_int_equal(backup_read(f->res.path, &m, NULL, f->errmsg), GRAFT_OK);

	assert_int_equal(backup(f, "neo4j", BACKUP_WANT_DIFF), GRAFT_OK);
	assert_true(f->res.up_to_date);
}

static void test_backup_serve_unknown_database(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(backup(f, "nosuch", BACKUP_WANT_FULL), GRAFT_ENOTFOUND);
	assert_non_null(strstr(f->errmsg, "database nosuch does not exist"));
}

static void test_backup_serve_diff_without_artifact_refused(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(backup(f, "neo4j", BACKUP_WANT_DIFF), GRAFT_EINVAL);
	assert_non_null(strstr(f->errmsg, "take a FULL backup first"));
}

/* An artifact from another history (past the server's last transaction):
 * DIFF is refused, AUTO takes a FULL. */
static void test_backup_serve_auto_falls_back_to_full(void **state)
{
	struct fixture *f = *state;
	struct backup_meta m = {.type = BACKUP_DIFF, .first_txid = 1000,
				.last_txid = 999, .time_ms = 1000};
	struct backup_writer *w;
	struct graft_buf b;
	char path[4096];

	snprintf(m.db, sizeof m.db, "neo4j");
	graft_buf_init(&b);
	assert_int_equal(backup_stream_put_end(&b, 0), GRAFT_OK);
	assert_int_equal(backup_writer_open(f->out, &m, &w, f->errmsg), GRAFT_OK);
	assert_int_equal(backup_writer_write(w, b.data, b.len, f->errmsg),
			 GRAFT_OK);
	assert_int_equal(backup_writer_finish(w, path, f->errmsg), GRAFT_OK);
	graft_buf_free(&b);

	commit_nodes(f, 2);
	assert_int_equal(backup(f, "neo4j", BACKUP_WANT_DIFF), GRAFT_ECONFLICT);
	assert_non_null(strstr(f->errmsg, "past the server's last transaction"));
	assert_int_equal(backup(f, "neo4j", BACKUP_WANT_AUTO), GRAFT_OK);
	assert_int_equal(f->res.m.type, BACKUP_FULL);
	assert_int_equal(f->res.m.last_txid, 2);
}

/* Restores the artifacts in f->out as neo4j into <dir>/dst, a SINGLE
 * server's data directory. */
static int restore_dst(struct fixture *f, struct backup_restore_result *res)
{
	char dst[320], store[340], txlog[340];
	const char *paths[1] = {f->out};
	struct backup_restore_opts o;

	snprintf(dst, sizeof dst, "%s/dst", f->dir);
	snprintf(store, sizeof store, "%s/databases", dst);
	snprintf(txlog, sizeof txlog, "%s/transactions", dst);
	memset(&o, 0, sizeof o);
	o.paths = paths;
	o.n_paths = 1;
	o.until_txid = UINT64_MAX;
	o.until_time_ms = -1;
	o.overwrite = true;
	o.data_dir = dst;
	o.keep_db_id = true;
	o.store_root = store;
	o.txlog_root = txlog;
	o.db_opts.rotation_size = 1 << 20;
	o.db_opts.retention.kind = GRAFT_RETAIN_ALL;
	return backup_restore(&o, res, f->errmsg);
}

/* The FULL carries neo4j's id (0); made into an artifact of a graft before
 * ids it still restores, and the id recorded for the database it replaces
 * is forgotten rather than kept for other contents. */
static void test_backup_restore_of_an_artifact_without_id(void **state)
{
	struct fixture *f = *state;
	struct backup_restore_result res;
	char dst[320];
	uint64_t id = 1;

	commit_nodes(f, 3);
	checkpoint(f);
	commit_nodes(f, 2);
	assert_int_equal(backup(f, "neo4j", BACKUP_WANT_FULL), GRAFT_OK);
	assert_true(f->res.m.has_db_id);
	assert_int_equal(f->res.m.db_id, 0);

	snprintf(dst, sizeof dst, "%s/dst", f->dir);
	assert_int_equal(dbms_origin_restore(dst, "neo4j", 7, f->errmsg),
			 GRAFT_OK);
	assert_int_equal(restore_dst(f, &res), GRAFT_OK);
	assert_true(res.has_db_id);
	assert_int_equal(dbms_origin_read(dst, "neo4j", &id, f->errmsg),
			 GRAFT_OK);
	assert_int_equal(id, 0);

	assert_int_equal(dbms_origin_restore(dst, "neo4j", 7, f->errmsg),
			 GRAFT_OK);
	backup_fixture_strip_id(f->res.path);
	assert_int_equal(restore_dst(f, &res), GRAFT_OK);
	assert_false(res.has_db_id);
	assert_int_equal(res.last_txid, 5);
	assert_int_equal(dbms_origin_read(dst, "neo4j", &id, f->errmsg),
			 GRAFT_OK);
	assert_int_equal(id, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_backup_serve_full_then_diff),
		T(test_backup_serve_unknown_database),
		T(test_backup_serve_diff_without_artifact_refused),
		T(test_backup_serve_auto_falls_back_to_full),
		T(test_backup_restore_of_an_artifact_without_id),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
