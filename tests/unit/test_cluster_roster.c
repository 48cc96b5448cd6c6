/* The roster (src/cluster/roster.h): positions and replicas as discovery
 * text and back (with the age of a position passed on), a core passing on
 * only the replicas it hears from itself, positions that never go back,
 * and lag measured in time against when the newest transactions were
 * first known, as of each reader's last report. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cluster/roster.h"
#include "util/err.h"

#define ID_A "aaaaaaaa-0000-0000-0000-000000000001"
#define ID_B "bbbbbbbb-0000-0000-0000-000000000002"

static void test_roster_positions_round_trip(void **state)
{
	struct roster_server s, back;
	char text[ROSTER_TEXT_LEN];
	uint64_t at;

	(void)state;
	memset(&s, 0, sizeof s);
	memset(&back, 0, sizeof back);
	roster_positions_text(&s, 1000, text, sizeof text);
	assert_string_equal(text, "-");
	roster_set_applied(&s, "neo4j", 42, 1000);
	roster_set_applied(&s, "system", 7, 1000);
	roster_positions_text(&s, 1000, text, sizeof text);
	assert_string_equal(text, "neo4j:42,system:7");
	assert_int_equal(roster_positions_parse(&back, text, 5000), GRAFT_OK);
	assert_true(roster_applied(&back, "system", &at));
	assert_int_equal(at, 7);
	assert_int_equal(back.dbs[1].at_ms, 5000);
	assert_false(roster_applied(&back, "shop", &at));
	assert_int_equal(roster_positions_parse(&back, "neo4j:x", 5000),
			 GRAFT_EINVAL);
	assert_int_equal(roster_positions_parse(&back, "neo4j:43@", 5000),
			 GRAFT_EINVAL);
}

static void test_roster_position_never_goes_back(void **state)
{
	struct roster_server s;
	uint64_t at;

	(void)state;
	memset(&s, 0, sizeof s);
	roster_set_applied(&s, "neo4j", 42, 1000);
	/* an older report passed on */
	roster_positions_parse(&s, "neo4j:40", 2000);
	assert_true(roster_applied(&s, "neo4j", &at));
	assert_int_equal(at, 42);
	assert_int_equal(s.dbs[0].at_ms, 1000);
	/* the same position known later, and only later */
	roster_set_applied(&s, "neo4j", 42, 3000);
	roster_set_applied(&s, "neo4j", 42, 2500);
	assert_int_equal(s.dbs[0].at_ms, 3000);
}

static void test_roster_passes_on_only_replicas_heard_directly(void **state)
{
	static struct roster core, other, replica;
	char text[ROSTER_TEXT_LEN];
	struct roster_server *s;

	(void)state;
	s = roster_put(&core, ID_A);
	s->replica = true;
	s->seen_ms = s->direct_ms = 1000;
	snprintf(s->bolt, sizeof s->bolt, "127.0.0.1:7001");
	snprintf(s->tags, sizeof s->tags, "east,ssd");
	snprintf(s->catchup, sizeof s->catchup, "127.0.0.1:6001");
	roster_set_applied(s, "neo4j", 5, 1500);
	roster_replicas_text(&core, 2000, 10000, text, sizeof text);
	assert_string_equal(text, ID_A "/127.0.0.1:7001/-/east,ssd/neo4j:5@500/"
				       "127.0.0.1:6001");
	/* another core learns A from it (A's position as old there as here),
	 * but does not pass A on itself */
	assert_int_equal(roster_replicas_parse(&other, text, ID_B, 9000),
			 GRAFT_OK);
	assert_int_equal(other.n, 1);
	assert_true(other.servers[0].replica);
	assert_int_equal(other.servers[0].dbs[0].at_ms, 8500);
	assert_string_equal(other.servers[0].catchup, "127.0.0.1:6001");
	roster_replicas_text(&other, 2000, 10000, text, sizeof text);
	assert_string_equal(text, "-");
	/* a replica skips itself; a silent replica is no longer passed on */
	roster_replicas_text(&core, 2000, 10000, text, sizeof text);
	assert_int_equal(roster_replicas_parse(&replica, text, ID_A, 2000),
			 GRAFT_OK);
	assert_int_equal(replica.n, 0);
	roster_replicas_text(&core, 20000, 10000, text, sizeof text);
	assert_string_equal(text, "-");
	/* a member without transaction addresses passes on five fields */
	assert_int_equal(roster_replicas_parse(&other, ID_B "/-/-/-/neo4j:7",
					       ID_A, 9000),
			 GRAFT_OK);
	assert_string_equal(other.servers[1].catchup, "");
	roster_expire(&other, 70000, 60000);
	assert_int_equal(other.n, 0);
}

static void test_roster_lag_is_how_long_behind_as_of_the_report(void **state)
{
	static struct roster_track t;

	(void)state;
	roster_track_note(&t, 10, 1000);
	roster_track_note(&t, 11, 1050); /* within ROSTER_TRACK_MS: later */
	roster_track_note(&t, 12, 1200);
	roster_track_note(&t, 15, 1400);
	assert_int_equal(roster_track_lag_ms(&t, 15, 1500, 5000), 0);
	assert_int_equal(roster_track_lag_ms(&t, 20, 1500, 5000), 0);
	/* at 12 when it said so at 4000: behind since 1400 */
	assert_int_equal(roster_track_lag_ms(&t, 12, 4000, 5000), 2600);
	assert_int_equal(roster_track_lag_ms(&t, 10, 1300, 1300), 100);
	assert_int_equal(roster_track_lag_ms(&t, 3, 1300, 1300), 300);
	/* silent for longer than ROSTER_REPORT_MS: still behind */
	assert_int_equal(roster_track_lag_ms(&t, 12, 1500, 1500 + 5001), 5101);
}

/* Under continuous writes a reader keeping up says where it is every few
 * seconds: between two reports it must not look as far behind as the
 * report is old (a bound of 2 s flapped with positions every 3 s). */
static void test_roster_lag_of_a_reader_keeping_up_stays_small(void **state)
{
	static struct roster_track t;
	uint64_t now;

	(void)state;
	for (now = 1000; now <= 9000; now += 100)
		roster_track_note(&t, now / 100, now);
	/* it had transaction 30 (noted at 3000) at 3010 */
	for (now = 3100; now <= 8000; now += 100)
		assert_true(roster_track_lag_ms(&t, 30, 3010, now) < 100);
	/* and said nothing since: behind since 3100 */
	assert_int_equal(roster_track_lag_ms(&t, 30, 3010, 8100), 5000);
}

static void test_roster_track_starts_over_for_a_recreated_database(void **state)
{
	static struct roster_track t;

	(void)state;
	roster_track_note(&t, 50, 1000);
	roster_track_note(&t, 3, 2000);
	assert_int_equal(roster_track_lag_ms(&t, 3, 9000, 9000), 0);
	assert_int_equal(roster_track_lag_ms(&t, 2, 9000, 9000), 7000);
}

static void test_roster_lags_of_servers(void **state)
{
	static struct roster_track tracks[ROSTER_MAX_DBS];
	struct cypher_server sv[2];
	size_t n_tracks = 0;

	(void)state;
	memset(sv, 0, sizeof sv);
	for (int i = 0; i < 2; i++) {
		sv[i].n_dbs = 1;
		snprintf(sv[i].dbs[0].name, sizeof sv[i].dbs[0].name, "neo4j");
	}
	sv[0].dbs[0].applied = 8;
	sv[1].dbs[0].applied = 8;
	roster_lags(sv, 2, tracks, &n_tracks, 1000);
	sv[0].dbs[0].applied = 9; /* the leader moves on, 1 stays */
	roster_lags(sv, 2, tracks, &n_tracks, 2000);
	sv[0].dbs[0].at_ms = sv[1].dbs[0].at_ms = 4500; /* as both said */
	roster_lags(sv, 2, tracks, &n_tracks, 4500);
	assert_int_equal(n_tracks, 1);
	assert_int_equal(sv[0].dbs[0].lag_txs, 0);
	assert_int_equal(sv[0].dbs[0].lag_ms, 0);
	assert_int_equal(sv[1].dbs[0].lag_txs, 1);
	assert_int_equal(sv[1].dbs[0].lag_ms, 2500);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roster_positions_round_trip),
		cmocka_unit_test(test_roster_position_never_goes_back),
		cmocka_unit_test(test_roster_passes_on_only_replicas_heard_directly),
		cmocka_unit_test(test_roster_lag_is_how_long_behind_as_of_the_report),
		cmocka_unit_test(test_roster_lag_of_a_reader_keeping_up_stays_small),
		cmocka_unit_test(test_roster_track_starts_over_for_a_recreated_database),
		cmocka_unit_test(test_roster_lags_of_servers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
