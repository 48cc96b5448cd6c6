/* Load-balancing policies (src/cluster/policy.h): Neo4j's rule language
 * parsed, bad rules refused with what is allowed, and the servers each
 * rule selects. Servers here: 0 tagged east, 1 east and ssd, 2 west, 3
 * none. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cluster/policy.h"
#include "util/err.h"

static const char *const tags[] = {"east", "east,ssd", "west", ""};
#define ALL 0xFu

static uint32_t select_with(const char *rules, uint32_t candidates)
{
	char errmsg[GRAFT_ERRMSG_SIZE];
	struct policy p;

	assert_int_equal(policy_parse("p", rules, &p, errmsg), GRAFT_OK);
	return policy_select(&p, tags, 4, candidates);
}

static void refused(const char *rules, const char *why)
{
	char errmsg[GRAFT_ERRMSG_SIZE];
	struct policy p;

	assert_int_equal(policy_parse("p", rules, &p, errmsg), GRAFT_ECONFIG);
	assert_non_null(strstr(errmsg, "load-balancing policy 'p'"));
	assert_non_null(strstr(errmsg, why));
}

static void test_policy_tags_select_servers_with_any_of_them(void **state)
{
	(void)state;
	assert_int_equal(select_with("tags(east)", ALL), 0x3);
	assert_int_equal(select_with("groups(ssd, west)", ALL), 0x6);
	assert_int_equal(select_with("tags(east)->tags(ssd)", ALL), 0x2);
}

static void test_policy_first_rule_with_servers_wins(void **state)
{
	(void)state;
	assert_int_equal(select_with("tags(north); tags(west); all();", ALL),
			 0x4);
	/* min(2) passes two east servers, not when one is a candidate */
	assert_int_equal(select_with("tags(east)->min(2); tags(west)", ALL),
			 0x3);
	assert_int_equal(select_with("tags(east)->min(2); tags(west)", 0x5),
			 0x4);
}

static void test_policy_falls_back_to_all_unless_halted(void **state)
{
	(void)state;
	assert_int_equal(select_with("tags(north)", 0xE), 0xE);
	assert_int_equal(select_with("tags(north); halt();", ALL), 0);
	assert_int_equal(select_with("all()", 0x9), 0x9);
}

static void test_policy_bad_rules_are_refused(void **state)
{
	(void)state;
	refused("tags()", "one tag or more");
	refused("tags(a b)", "separated by commas");
	refused("min(0)", "min() takes a count");
	refused("near(a)", "unknown filter");
	refused("halt(); tags(a)", "no rule may follow halt()");
	refused("tags(a)->halt()", "halt() stands alone");
	refused("tags(a", "name(arguments)");
	refused(" ; ", "no rule");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy_tags_select_servers_with_any_of_them),
		cmocka_unit_test(test_policy_first_rule_with_servers_wins),
		cmocka_unit_test(test_policy_falls_back_to_all_unless_halted),
		cmocka_unit_test(test_policy_bad_rules_are_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
