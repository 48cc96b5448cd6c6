/* The lag figures as rows (src/catchup/catchup.h catchup_lag_rows): one
 * row per server and database, in the servers' order, with the figures the
 * servers function measured; rows past max are counted, not written. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "catchup/catchup.h"

/* Two servers as a core's cluster_servers would list them: itself, the
 * leader, with neo4j and system; a replica one transaction and 40 ms
 * behind on neo4j. */
static size_t two_servers(void *data, struct cypher_server *out, size_t max)
{
	(void)data;
	assert_true(max >= 2);
	memset(out, 0, 2 * sizeof *out);
	strcpy(out[0].server_id, "aaaaaaaa-0000-0000-0000-000000000001");
	out[0].role = "LEADER";
	out[0].self = true;
	out[0].n_dbs = 2;
	strcpy(out[0].dbs[0].name, "neo4j");
	out[0].dbs[0].applied = 12;
	strcpy(out[0].dbs[1].name, "system");
	out[0].dbs[1].applied = 3;
	strcpy(out[1].server_id, "bbbbbbbb-0000-0000-0000-000000000002");
	out[1].role = "READ_REPLICA";
	out[1].replica = true;
	out[1].n_dbs = 1;
	strcpy(out[1].dbs[0].name, "neo4j");
	out[1].dbs[0].applied = 11;
	out[1].dbs[0].lag_txs = 1;
	out[1].dbs[0].lag_ms = 40;
	return 2;
}

static void test_catchup_lag_rows_one_per_server_and_database(void **state)
{
	struct catchup_lag_row rows[4];

	(void)state;
	assert_int_equal(catchup_lag_rows(two_servers, NULL, rows, 4), 3);
	assert_string_equal(rows[0].db, "neo4j");
	assert_true(rows[0].self);
	assert_string_equal(rows[1].db, "system");
	assert_int_equal(rows[1].applied, 3);
	assert_string_equal(rows[2].server_id,
			    "bbbbbbbb-0000-0000-0000-000000000002");
	assert_string_equal(rows[2].role, "READ_REPLICA");
	assert_false(rows[2].self);
	assert_int_equal(rows[2].applied, 11);
	assert_int_equal(rows[2].lag_txs, 1);
	assert_int_equal(rows[2].lag_ms, 40);
}

static void test_catchup_lag_rows_past_max_are_counted_only(void **state)
{
	struct catchup_lag_row rows[2];

	(void)state;
	memset(rows, 0x5a, sizeof rows);
	assert_int_equal(catchup_lag_rows(two_servers, NULL, rows, 1), 3);
	assert_string_equal(rows[0].db, "neo4j");
	assert_int_equal(rows[1].applied, 0x5a5a5a5a5a5a5a5aull);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_catchup_lag_rows_one_per_server_and_database),
		cmocka_unit_test(test_catchup_lag_rows_past_max_are_counted_only),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
