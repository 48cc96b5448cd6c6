/* Replacing a database with a store copy (dbms_replace: a core catching up
 * behind a Raft snapshot, a read replica's copy) while statements read it on
 * worker threads, as a core runs them: the list of databases and the old
 * database are shared with the workers, so the switch must be ordered with
 * them (the old database's close behind the gate, the list under its lock)
 * and a worker ending the last transaction of the replaced database must
 * leave its close to the loop. Built with ThreadSanitizer by
 * ./configure --enable-tsan (tools/check.sh runs it so); under
 * AddressSanitizer a worker would use the freed database. */
#define _XOPEN_SOURCE 700
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "checkpoint/checkpoint.h"
#include "db/dbms.h"
#include "util/fs.h"
#include "util/gate.h"
#include "util/log.h"
#include "util/pool.h"

#include "tmpdir.h"

#define READS 3000
#define NODES 50
#define REPLACE_EVERY 40 /* reads done between two replacements */
#define WINDOW 4         /* reads in flight at once */

struct fixture {
	char dir[256];
	uv_loop_t loop;
	struct graft_gate gate;
	struct graft_pool pool;
	struct dbms *m;
	struct graft_work works[READS];
	unsigned submitted, done, replaced, copies;
	unsigned wrong; /* reads that did not see NODES nodes (atomic) */
	bool closed;
};

static struct fixture fx;

static void closed_cb(void *arg)
{
	*(bool *)arg = true;
}

static void commit_cb(struct db_commit_req *req, int status)
{
	*(int *)req->data = status == GRAFT_OK ? 1 : -1;
}

static void add_nodes(struct fixture *f)
{
	struct db *db = dbms_get(f->m, "neo4j");
	struct db_commit_req req;
	struct db_tx *tx;
	uint64_t id;
	int done = 0;

	assert_int_equal(db_tx_begin(db, 0, &tx), GRAFT_OK);
	for (int i = 0; i < NODES; i++)
		assert_int_equal(db_tx_node_create(tx, &id), GRAFT_OK);
	req.data = &done;
	assert_int_equal(db_commit(tx, &req, commit_cb), GRAFT_OK);
	while (done == 0)
		uv_run(&f->loop, UV_RUN_ONCE);
	assert_int_equal(done, 1);
}

static int setup(void **state)
{
	struct fixture *f = &fx;
	struct dbms_options o = {0};
	char errmsg[GRAFT_ERRMSG_SIZE] = "";

	memset(f, 0, sizeof *f);
	graft_log_open(NULL, GRAFT_LOG_WARN, true, NULL);
	assert_non_null(tmpdir_make(f->dir, sizeof f->dir, "dbms-replace"));
	assert_int_equal(uv_loop_init(&f->loop), 0);
	assert_int_equal(graft_gate_init(&f->gate, &f->loop), GRAFT_OK);
	assert_int_equal(graft_pool_init(&f->pool, &f->loop, 2, errmsg),
			 GRAFT_OK);
	o.data_dir = f->dir;
	o.db.rotation_size = 1 << 20;
	o.db.retention.kind = GRAFT_RETAIN_ALL;
	o.db.gate = &f->gate;
	if (dbms_open(&f->loop, &o, &f->m, errmsg) != GRAFT_OK)
		fail_msg("dbms_open: %s", errmsg);
	add_nodes(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	bool dbms_closed = false;

	graft_pool_close(&f->pool, closed_cb, &f->closed);
	dbms_close(f->m, closed_cb, &dbms_closed);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	graft_gate_close(&f->gate, NULL);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_true(f->closed);
	assert_true(dbms_closed);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	tmpdir_remove(f->dir);
	return 0;
}

/* A statement's start and a batch, on a worker: the database found by
 * name, a transaction begun, every node counted, the transaction ended
 * there (as a USE moving a transaction elsewhere ends it). */
static void read_work(struct graft_work *w)
{
	struct fixture *f = w->data;
	struct db_cursor c;
	struct db_tx *tx;
	unsigned n = 0;

	graft_gate_enter_shared(&f->gate);
	if (db_tx_begin(dbms_get(f->m, "neo4j"), DB_TX_READ_ONLY, &tx) ==
	    GRAFT_OK) {
		db_cursor_nodes(&c, tx);
		while (db_cursor_next(&c) != GRAPH_NO_ID)
			n++;
		db_tx_rollback(tx);
	}
	graft_gate_leave(&f->gate);
	if (n != NODES)
		__atomic_add_fetch(&f->wrong, 1, __ATOMIC_RELAXED);
}

/* The store copy of the database as it is: its checkpoint in a directory
 * beside it. */
static void make_copy(struct fixture *f, char *dir, size_t n)
{
	char errmsg[GRAFT_ERRMSG_SIZE] = "";
	struct db *db = dbms_get(f->m, "neo4j");

	snprintf(dir, n, "%s/databases/.copy-%u", f->dir, ++f->copies);
	assert_int_equal(graft_mkdir_p(dir, errmsg), GRAFT_OK);
	if (checkpoint_write_sync(db_graph(db), db_last_txid(db), 0, dir,
				  errmsg) != GRAFT_OK)
		fail_msg("checkpoint_write_sync: %s", errmsg);
}

static void replace(struct fixture *f)
{
	char dir[512], errmsg[GRAFT_ERRMSG_SIZE] = "";
	struct db *old = dbms_get(f->m, "neo4j");

	struct graph *g = NULL;
	uint64_t txid = 0, last = db_last_txid(old);

	make_copy(f, dir, sizeof dir);
	/* every other copy loaded before, as a store copy's worker does */
	if (f->copies % 2 == 0) {
		assert_int_equal(graph_new(&g), GRAFT_OK);
		if (checkpoint_load_newest(dir, g, &txid, errmsg) != GRAFT_OK)
			fail_msg("checkpoint_load_newest: %s", errmsg);
	}
	if (dbms_replace(f->m, "neo4j", dir, g, txid, NULL, NULL, errmsg) !=
	    GRAFT_OK)
		fail_msg("dbms_replace: %s", errmsg);
	assert_int_equal(db_last_txid(dbms_get(f->m, "neo4j")), last);
	/* the loop sees the new database at once */
	assert_ptr_not_equal(dbms_get(f->m, "neo4j"), old);
	f->replaced++;
}

static void read_done(struct graft_work *w);

static void submit(struct fixture *f)
{
	struct graft_work *w = &f->works[f->submitted++];

	w->data = f;
	w->work_cb = read_work;
	w->done_cb = read_done;
	graft_pool_submit(&f->pool, w);
}

static void read_done(struct graft_work *w)
{
	struct fixture *f = w->data;

	f->done++;
	if (f->done % REPLACE_EVERY == 0)
		replace(f);
	if (f->submitted < READS)
		submit(f);
}

static void test_dbms_replace_while_workers_read_keeps_every_read_whole(
	void **state)
{
	struct fixture *f = *state;

	while (f->submitted < WINDOW)
		submit(f);
	while (f->done < READS)
		uv_run(&f->loop, UV_RUN_ONCE);
	assert_int_equal(f->replaced, READS / REPLACE_EVERY);
	/* every read saw a whole database, old or new */
	assert_int_equal(__atomic_load_n(&f->wrong, __ATOMIC_RELAXED), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_dbms_replace_while_workers_read_keeps_every_read_whole,
			setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
