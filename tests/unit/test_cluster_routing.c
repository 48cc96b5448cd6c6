/* Who a member names as the writer (src/cluster/routing_int.h), read by
 * worker threads on a copy of the loop's view. A worker reads its clock,
 * then copies the view, which the loop may have stamped a moment later:
 * the stamps being "in the future" must read as "just now", not as ages
 * (a wrapped difference once made a member answer DatabaseUnavailable,
 * "heard from no leader for 18446744073709551606 ms", with a leader in
 * view: routing_lag_bound.sh failed on it under load). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cluster/routing_int.h"
#include "util/cypher_error.h"
#include "util/err.h"

#define NOW 1000000u
#define ELECTION 1000u

static struct routing_view follower_view(uint64_t leader_stamp)
{
	return (struct routing_view){
		.formed = true,
		.self_id = 1,
		.leader_id = 2,
		.leader_contact_ms = leader_stamp,
		.leader_seen_ms = leader_stamp,
		.election_ms = ELECTION,
	};
}

static void test_leader_heard_after_the_readers_clock_is_the_writer(void **s)
{
	struct routing_view v = follower_view(NOW + 3);
	struct cypher_error err = {0};
	uint64_t writer = 0;

	(void)s;
	assert_int_equal(routing_find_writer(&v, NOW, &writer, &err), GRAFT_OK);
	assert_int_equal(writer, 2);
}

static void test_leader_seen_after_the_readers_clock_is_not_unavailable(
	void **s)
{
	struct routing_view v = follower_view(NOW + 3);
	struct cypher_error err = {0};
	uint64_t writer = 7;

	(void)s;
	v.leader_id = 0; /* an election runs: no writer, but not unavailable */
	assert_int_equal(routing_find_writer(&v, NOW, &writer, &err), GRAFT_OK);
	assert_int_equal(writer, 0);
}

static void test_no_leader_for_many_windows_is_unavailable(void **s)
{
	struct routing_view v = follower_view(NOW - 100 * ELECTION);
	struct cypher_error err = {0};
	uint64_t writer = 7;

	(void)s;
	v.leader_id = 0;
	assert_int_not_equal(routing_find_writer(&v, NOW, &writer, &err),
			     GRAFT_OK);
	assert_int_equal(writer, 0);
	assert_non_null(strstr(err.message, "heard from no leader for 100000 ms"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_leader_heard_after_the_readers_clock_is_the_writer),
		cmocka_unit_test(
			test_leader_seen_after_the_readers_clock_is_not_unavailable),
		cmocka_unit_test(test_no_leader_for_many_windows_is_unavailable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
