/* Unit tests for watches: a caller is woken once the database has applied
 * the transaction it waits for (what bookmark waits use instead of
 * polling), never synchronously, in any order of waits; a cancelled watch
 * stays silent; closing the database wakes the rest with GRAFT_ESHUTDOWN. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "db_fixture.h"
#include "txlog/txlog.h"

struct seen {
	int calls;
	int status;
	uint64_t applied; /* db_last_txid when called back */
	struct db *db;
};

static void seen_cb(struct db_watch *w, int status)
{
	struct seen *s = w->data;

	s->calls++;
	s->status = status;
	s->applied = status == GRAFT_OK ? db_last_txid(s->db) : 0;
}

static void watch(struct fixture *f, struct db_watch *w, struct seen *s,
		  uint64_t txid)
{
	memset(s, 0, sizeof *s);
	s->db = f->db;
	w->data = s;
	assert_int_equal(db_watch(f->db, w, txid, seen_cb), GRAFT_OK);
}

static void test_db_watch_wakes_once_the_transaction_is_applied(void **state)
{
	struct fixture *f = *state;
	uint64_t base = db_last_txid(f->db);
	struct db_watch w1, w3, w2;
	struct seen s1, s3, s2;

	watch(f, &w3, &s3, base + 3);
	watch(f, &w1, &s1, base + 1);
	watch(f, &w2, &s2, base + 2);
	fx_node(f, 1);
	uv_run(&f->loop, UV_RUN_NOWAIT);
	assert_int_equal(s1.calls, 1);
	assert_int_equal(s1.status, GRAFT_OK);
	assert_true(s1.applied >= base + 1);
	assert_int_equal(s2.calls + s3.calls, 0);
	fx_node(f, 2);
	fx_node(f, 3);
	uv_run(&f->loop, UV_RUN_NOWAIT);
	assert_int_equal(s2.calls, 1);
	assert_int_equal(s3.calls, 1);
	assert_true(s3.applied >= base + 3);
	/* Once only: later applies call nobody. */
	fx_node(f, 4);
	uv_run(&f->loop, UV_RUN_NOWAIT);
	assert_int_equal(s1.calls + s2.calls + s3.calls, 3);
}

static void test_db_watch_of_an_applied_transaction_calls_back_later(
	void **state)
{
	struct fixture *f = *state;
	struct db_watch w;
	struct seen s;

	fx_node(f, 1);
	watch(f, &w, &s, db_last_txid(f->db));
	assert_int_equal(s.calls, 0); /* never inside db_watch */
	uv_run(&f->loop, UV_RUN_NOWAIT);
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.status, GRAFT_OK);
}

static void test_db_unwatch_silences_a_watch(void **state)
{
	struct fixture *f = *state;
	struct db_watch w, other;
	struct seen s, so;
	uint64_t next = db_last_txid(f->db) + 1;

	watch(f, &w, &s, next);
	watch(f, &other, &so, next);
	db_unwatch(&w);
	db_unwatch(&w); /* harmless twice */
	fx_node(f, 1);
	uv_run(&f->loop, UV_RUN_NOWAIT);
	assert_int_equal(s.calls, 0);
	assert_int_equal(so.calls, 1);
	db_unwatch(&other); /* harmless after the callback */
}

static void test_db_close_wakes_watches_with_shutdown(void **state)
{
	struct fixture *f = *state;
	struct db_watch w;
	struct seen s;

	watch(f, &w, &s, db_last_txid(f->db) + 100);
	fx_close(f);
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.status, GRAFT_ESHUTDOWN);
}

/* In a SINGLE server a commit is durable before it is applied: a watch on
 * the log wakes for it like a watch on the apply. */
static void test_db_watch_log_wakes_once_the_log_holds_it(void **state)
{
	struct fixture *f = *state;
	uint64_t base = db_last_txid(f->db);
	struct db_watch w;
	struct seen s;

	memset(&s, 0, sizeof s);
	s.db = f->db;
	w.data = &s;
	assert_int_equal(db_watch_log(f->db, &w, base + 1, seen_cb), GRAFT_OK);
	uv_run(&f->loop, UV_RUN_NOWAIT);
	assert_int_equal(s.calls, 0);
	fx_node(f, 1);
	uv_run(&f->loop, UV_RUN_NOWAIT);
	assert_int_equal(s.calls, 1);
	assert_true(db_log_last_txid(f->db) >= base + 1);
}

static struct db *open_follower(struct fixture *f, const char *name,
				char *store, char *txlog)
{
	struct db_options o = f->o;
	char errmsg[GRAFT_ERRMSG_SIZE] = "";
	struct db *db;

	snprintf(store, 600, "%s/follower-store-%s", f->dir, name);
	snprintf(txlog, 600, "%s/follower-txlog-%s", f->dir, name);
	o.name = name;
	o.store_dir = store;
	o.txlog_dir = txlog;
	if (db_open(&f->loop, &o, &db, errmsg) != GRAFT_OK)
		fail_msg("db_open: %s", errmsg);
	/* The leader's tokens in the leader's order (fx_tokens), so that
	 * equal graphs encode to equal bytes. */
	struct fixture tmp = *f;
	tmp.db = db;
	fx_tokens(&tmp);
	return db;
}

static void close_db(struct fixture *f, struct db *db)
{
	db_close(db, NULL, NULL);
	uv_run(&f->loop, UV_RUN_NOWAIT);
}

/* A follower applies the stream's records as they come (the apply watch
 * wakes), logs them just after (the log watch wakes once durable) and ends
 * with the leader's graph; a record out of order, or of another database,
 * is refused without changing anything. */
static void test_db_apply_stream_follows_a_leader(void **state)
{
	struct fixture *f = *state;
	char store[600], txlog[600], errmsg[GRAFT_ERRMSG_SIZE];
	struct db *fol = open_follower(f, f->o.name, store, txlog);
	struct db *other;
	struct txlog_reader *r;
	struct db_watch wa, wl;
	struct seen sa, sl;
	const void *rec;
	uint64_t txid, last;
	size_t len, n1, n2;
	void *b1, *b2;

	for (int i = 0; i < 3; i++)
		fx_node(f, i);
	last = db_last_txid(f->db);
	assert_true(db_last_txid(fol) == 0);
	memset(&sa, 0, sizeof sa);
	memset(&sl, 0, sizeof sl);
	sa.db = sl.db = fol;
	wa.data = &sa;
	wl.data = &sl;
	assert_int_equal(db_watch(fol, &wa, last, seen_cb), GRAFT_OK);
	assert_int_equal(db_watch_log(fol, &wl, last, seen_cb), GRAFT_OK);
	assert_int_equal(txlog_reader_open(db_log_dir(f->db), 1, last, &r,
					   errmsg), GRAFT_OK);
	while (txlog_reader_next(r, &txid, &rec, &len, errmsg) == GRAFT_OK) {
		if (txid == 1) {
			assert_int_equal(db_apply_stream(fol, rec, len, 2,
							 errmsg), GRAFT_EINVAL);
			other = open_follower(f, "other", store, txlog);
			assert_int_equal(db_apply_stream(other, rec, len, 1,
							 errmsg),
					 GRAFT_ECORRUPT);
			assert_non_null(strstr(errmsg, "not other"));
			close_db(f, other);
		}
		assert_int_equal(db_apply_stream(fol, rec, len, txid, errmsg),
				 GRAFT_OK);
	}
	txlog_reader_close(r);
	assert_true(db_last_txid(fol) == last);
	assert_true(db_last_commit_ms(fol) > 0);
	uv_run(&f->loop, UV_RUN_NOWAIT);
	assert_int_equal(sa.calls, 1);
	while (sl.calls == 0)
		uv_run(&f->loop, UV_RUN_ONCE);
	assert_true(db_log_last_txid(fol) == last);
	b1 = fx_graph_bytes(f, f->db, &n1);
	b2 = fx_graph_bytes(f, fol, &n2);
	assert_int_equal(n1, n2);
	assert_memory_equal(b1, b2, n1);
	free(b1);
	free(b2);
	close_db(f, fol);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup_open, fx_teardown)
	const struct CMUnitTest tests[] = {
		T(test_db_watch_wakes_once_the_transaction_is_applied),
		T(test_db_watch_of_an_applied_transaction_calls_back_later),
		T(test_db_unwatch_silences_a_watch),
		T(test_db_close_wakes_watches_with_shutdown),
		T(test_db_watch_log_wakes_once_the_log_holds_it),
		T(test_db_apply_stream_follows_a_leader),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
