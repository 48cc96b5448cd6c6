/* Unit tests for watches: a caller is woken once the database has applied
 * the transaction it waits for (what bookmark waits use instead of
 * polling), never synchronously, in any order of waits; a cancelled watch
 * stays silent; closing the database wakes the rest with GRAFT_ESHUTDOWN. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "db_fixture.h"

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

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup_open, fx_teardown)
	const struct CMUnitTest tests[] = {
		T(test_db_watch_wakes_once_the_transaction_is_applied),
		T(test_db_watch_of_an_applied_transaction_calls_back_later),
		T(test_db_unwatch_silences_a_watch),
		T(test_db_close_wakes_watches_with_shutdown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
