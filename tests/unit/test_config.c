/* Unit tests for the configuration: syntax, every value type, aliases,
 * strict validation, addresses, paths, the file choice and the template. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/config.h"
#include "util/err.h"
#include "util/log.h"

#define KIB 1024ull
#define MIB (1024 * KIB)
#define GIB (1024 * MIB)

struct fixture {
	char dir[64];
	char path[128];
	struct graft_config *c;
	char errmsg[GRAFT_ERRMSG_SIZE];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	assert_non_null(f);
	unsetenv("GRAFT_HOME");
	unsetenv("GRAFT_CONF");
	strcpy(f->dir, "/tmp/graft-config-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof f->path, "%s/graft.conf", f->dir);
	assert_int_equal(graft_config_new(&f->c), GRAFT_OK);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	graft_config_free(f->c);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void write_text(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

/* Writes text as the fixture's graft.conf and loads it. */
static int load(struct fixture *f, const char *text)
{
	f->errmsg[0] = '\0';
	write_text(f->path, text);
	return graft_config_load(f->c, f->path, f->errmsg);
}

static void assert_contains(const char *hay, const char *needle)
{
	if (strstr(hay, needle) == NULL)
		fail_msg("'%s' does not contain '%s'", hay, needle);
}

/* Loading text fails with GRAFT_ECONFIG naming file, line, key=value, and
 * the given detail. */
static void assert_refused(struct fixture *f, const char *text, int line,
			   const char *keyvalue, const char *detail)
{
	char at[160];

	assert_int_equal(load(f, text), GRAFT_ECONFIG);
	snprintf(at, sizeof at, "%s:%d: ", f->path, line);
	assert_contains(f->errmsg, at);
	assert_contains(f->errmsg, keyvalue);
	assert_contains(f->errmsg, detail);
}

static void assert_address_is(const struct graft_address *a,
			      const char *host, unsigned port)
{
	assert_string_equal(a->host, host);
	assert_int_equal(a->port, port);
}

/* Setting name holds host and port. */
static void assert_address(struct fixture *f, const char *name,
			   const char *host, unsigned port)
{
	struct graft_address a;

	graft_config_address(f->c, name, &a);
	assert_address_is(&a, host, port);
}

static void test_config_defaults_match_neo4j(void **state)
{
	struct fixture *f = *state;
	struct graft_retention r;

	assert_address(f, "server.bolt.listen_address", "localhost", 7687);
	assert_address(f, "server.bolt.advertised_address", "localhost", 7687);
	assert_address(f, "server.http.listen_address", "localhost", 7474);
	assert_address(f, "server.https.listen_address", "localhost", 7473);
	assert_address(f, "server.backup.listen_address", "127.0.0.1", 6362);
	assert_address(f, "server.cluster.listen_address", "localhost", 6000);
	assert_address(f, "server.cluster.raft.listen_address", "localhost",
		       7000);
	assert_address(f, "server.discovery.listen_address", "localhost", 5000);
	assert_address(f, "server.routing.listen_address", "localhost", 7688);
	assert_address(f, "server.metrics.prometheus.endpoint", "localhost",
		       2004);
	assert_true(graft_config_bool(f->c, "server.bolt.enabled"));
	assert_false(graft_config_bool(f->c, "server.https.enabled"));
	assert_true(graft_config_bool(f->c, "server.backup.enabled"));
	assert_string_equal(graft_config_string(f->c, "server.bolt.tls_level"),
			    "DISABLED");
	assert_true(graft_config_size(f->c, "db.tx_log.rotation.size") ==
		    256 * MIB);
	graft_config_retention(f->c, "db.tx_log.rotation.retention_policy", &r);
	assert_int_equal(r.kind, GRAFT_RETAIN_TIME);
	assert_true(r.amount == 2 * 86400000ull && r.size_cap == 2 * GIB);
	assert_true(graft_config_duration_ms(f->c,
					     "db.checkpoint.interval.time") ==
		    15 * 60000ull);
	assert_int_equal(graft_config_int(f->c, "db.checkpoint.interval.tx"),
			 100000);
	assert_true(graft_config_duration_ms(
			    f->c, "db.transaction.bookmark_ready_timeout") ==
		    30000);
	assert_true(graft_config_duration_ms(f->c, "dbms.routing_ttl") ==
		    300000);
	assert_string_equal(graft_config_string(f->c, "dbms.mode"), "SINGLE");
	assert_string_equal(
		graft_config_string(f->c, "initial.dbms.default_database"),
		"neo4j");
	assert_true(graft_config_bool(f->c,
				      "server.config.strict_validation.enabled"));
	assert_false(graft_config_is_set(f->c, "dbms.mode"));
}

static void test_config_table_is_consistent(void **state)
{
	size_t n;
	const struct graft_setting *t = graft_settings(&n);
	(void)state;

	assert_true(n > 100);
	for (size_t i = 0; i < n; i++) {
		assert_true(strlen(t[i].name) < 100);
		assert_non_null(t[i].doc);
		assert_ptr_equal(graft_setting_find(t[i].name), &t[i]);
		for (size_t j = i + 1; j < n; j++)
			assert_string_not_equal(t[i].name, t[j].name);
		if (t[i].type == GRAFT_CONFIG_ENUM)
			assert_non_null(t[i].allowed);
		if (t[i].type == GRAFT_CONFIG_ADDRESS)
			assert_non_null(strchr(t[i].def, ':'));
		if (t[i].base != NULL)
			assert_int_equal(graft_setting_find(t[i].base)->type,
					 GRAFT_CONFIG_PATH);
		/* Every alias leads back here, so none is claimed twice or
		 * shadows a canonical name. */
		for (const char *p = t[i].aliases; p != NULL && *p != '\0';) {
			char alias[128];
			size_t len = strcspn(p, " ");
			assert_true(len < sizeof alias);
			memcpy(alias, p, len);
			alias[len] = '\0';
			assert_ptr_equal(graft_setting_find(alias), &t[i]);
			p += len + (p[len] == ' ');
		}
	}
	assert_null(graft_setting_find("dbms.no_such_setting"));
}

static void test_config_syntax_comments_blanks_trim_crlf(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, "\xef\xbb\xbf# a comment\n"
				 "\n"
				 "   \t\n"
				 "  # indented comment\n"
				 "  server.bolt.listen_address  =  0.0.0.0:7777  \n"
				 "dbms.mode=CORE\r\n"
				 "initial.dbms.default_database = movies"),
			 GRAFT_OK);
	assert_address(f, "server.bolt.listen_address", "0.0.0.0", 7777);
	assert_string_equal(graft_config_string(f->c, "dbms.mode"), "CORE");
	assert_string_equal(
		graft_config_string(f->c, "initial.dbms.default_database"),
		"movies");
	assert_true(graft_config_is_set(f->c, "dbms.mode"));
	assert_false(graft_config_is_set(f->c, "server.http.enabled"));
}

static void test_config_line_without_equals_is_refused(void **state)
{
	struct fixture *f = *state;

	assert_refused(f, "dbms.mode=CORE\n\nserver.bolt.enabled true\n", 3,
		       "'server.bolt.enabled true'", "is not a setting");
	assert_contains(f->errmsg, "allowed: key=value");
	assert_refused(f, "=7687\n", 1, "", "no setting name before '='");
}

static void test_config_repeated_key_last_wins(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, "db.checkpoint.interval.tx=5\n"
				 "db.checkpoint.interval.tx=7\n"
				 "db.checkpoint.interval.tx=9\n"),
			 GRAFT_OK);
	assert_int_equal(graft_config_int(f->c, "db.checkpoint.interval.tx"), 9);
}

static void test_config_bool_is_case_insensitive(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, "server.https.enabled=TRUE\n"
				 "server.http.enabled=False\n"),
			 GRAFT_OK);
	assert_true(graft_config_bool(f->c, "server.https.enabled"));
	assert_false(graft_config_bool(f->c, "server.http.enabled"));
	assert_string_equal(graft_config_string(f->c, "server.https.enabled"),
			    "true");
	assert_refused(f, "server.bolt.enabled=yes\n", 1,
		       "server.bolt.enabled=yes", "not a boolean");
	assert_contains(f->errmsg, "allowed: true or false");
	assert_refused(f, "server.bolt.enabled=\n", 1, "server.bolt.enabled=",
		       "no value; allowed");
}

static void test_config_int_within_bounds(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, "db.checkpoint.iops.limit=-1\n"
				 "initial.dbms.default_primaries_count=+3\n"),
			 GRAFT_OK);
	assert_int_equal(graft_config_int(f->c, "db.checkpoint.iops.limit"), -1);
	assert_int_equal(
		graft_config_int(f->c, "initial.dbms.default_primaries_count"),
		3);
	assert_refused(f, "db.checkpoint.interval.tx=0\n", 1,
		       "db.checkpoint.interval.tx=0", "too small");
	assert_contains(f->errmsg, "at least 1");
	assert_refused(f, "initial.dbms.default_primaries_count=12\n", 1,
		       "=12", "too large");
	assert_contains(f->errmsg, "from 1 to 11");
	assert_refused(f, "db.checkpoint.interval.tx=12x\n", 1, "=12x",
		       "not a whole number; allowed: a whole number");
	assert_refused(f, "db.checkpoint.interval.tx=99999999999999999999\n",
		       1, "=9999", "not a whole number");
}

static void test_config_size_units(void **state)
{
	static const struct {
		const char *text;
		uint64_t bytes;
	} ok[] = {
		{"1048576", 1048576},	{"512k", 512 * KIB},
		{"512KiB", 512 * KIB},	{"250M", 250 * MIB},
		{"250 MiB", 250 * MIB}, {"256.00MiB", 256 * MIB},
		{"1g", GIB},		{"1GiB", GIB},
		{"2GB", 2 * GIB},	{"1.5G", 3 * GIB / 2},
		{"4mb", 4 * MIB},	{"1T", 1024 * GIB},
	};
	struct fixture *f = *state;
	char text[128];

	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		snprintf(text, sizeof text, "db.tx_log.rotation.size=%s\n",
			 ok[i].text);
		assert_int_equal(load(f, text), GRAFT_OK);
		assert_true(graft_config_size(f->c, "db.tx_log.rotation.size") ==
			    ok[i].bytes);
	}
	assert_refused(f, "# c\n\ndb.tx_log.rotation.size=12Q\n", 3,
		       "db.tx_log.rotation.size=12Q",
		       "not a size; allowed: a number of bytes with an "
		       "optional unit K, M, G (e.g. 250M), at least 128K");
	assert_refused(f, "db.tx_log.rotation.size=64k\n", 1, "=64k",
		       "too small; allowed");
	assert_contains(f->errmsg, "at least 128K");
	assert_refused(f, "db.tx_log.rotation.size=-1\n", 1, "=-1", "not a size");
	assert_refused(f, "db.tx_log.rotation.size=M\n", 1, "=M", "not a size");
	assert_refused(f, "db.tx_log.rotation.size=99999999999G\n", 1, "=999",
		       "not a size");
}

static void test_config_duration_units(void **state)
{
	static const struct {
		const char *text;
		uint64_t ms;
	} ok[] = {
		{"500ms", 500},	      {"20s", 20000},	  {"15m", 900000},
		{"2h", 7200000},      {"1d", 86400000},	  {"90", 90000},
		{"3 s", 3000},	      {"2000000us", 2000}, {"0", 0},
	};
	struct fixture *f = *state;
	char text[128];

	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		snprintf(text, sizeof text, "db.transaction.timeout=%s\n",
			 ok[i].text);
		assert_int_equal(load(f, text), GRAFT_OK);
		assert_true(graft_config_duration_ms(
				    f->c, "db.transaction.timeout") == ok[i].ms);
	}
	assert_refused(f, "db.transaction.timeout=5x\n", 1,
		       "db.transaction.timeout=5x",
		       "not a duration; allowed: a number with a unit ms, s, "
		       "m, h or d");
	assert_refused(f, "db.transaction.timeout=1.5s\n", 1, "=1.5s",
		       "not a duration");
	assert_refused(f, "db.transaction.timeout=-1s\n", 1, "=-1s",
		       "not a duration");
	assert_refused(f, "db.transaction.bookmark_ready_timeout=500ms\n", 1,
		       "=500ms", "too small");
	assert_contains(f->errmsg, "at least 1s");
}

static void test_config_duration_range(void **state)
{
	struct fixture *f = *state;
	uint64_t lo, hi;
	const char *name = "dbms.cluster.raft.leader_failure_detection_window";

	graft_config_duration_range_ms(f->c, name, &lo, &hi);
	assert_true(lo == 300 && hi == 600);
	assert_int_equal(load(f, "dbms.cluster.raft.leader_failure_detection_window"
				 "=500ms - 2s\n"),
			 GRAFT_OK);
	graft_config_duration_range_ms(f->c, name, &lo, &hi);
	assert_true(lo == 500 && hi == 2000);
	/* The 3.x single timeout is a window of one value. */
	assert_int_equal(load(f, "causal_clustering.leader_election_timeout=7s\n"),
			 GRAFT_OK);
	graft_config_duration_range_ms(f->c, name, &lo, &hi);
	assert_true(lo == 7000 && hi == 7000);
	assert_refused(f, "dbms.cluster.raft.election_failure_detection_window"
			  "=6s-3s\n",
		       1, "=6s-3s", "not a duration range");
}

static void test_config_address_forms(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, "server.bolt.listen_address=db1:7000\n"
				 "server.http.listen_address=:8080\n"
				 "server.https.listen_address=db2\n"
				 "server.routing.listen_address=[::1]:7699\n"
				 "server.cluster.listen_address=[::]\n"
				 "server.discovery.listen_address=::1\n"
				 "server.backup.listen_address=0.0.0.0:0\n"),
			 GRAFT_OK);
	assert_address(f, "server.bolt.listen_address", "db1", 7000);
	assert_address(f, "server.http.listen_address", "localhost", 8080);
	assert_address(f, "server.https.listen_address", "db2", 7473);
	assert_address(f, "server.routing.listen_address", "::1", 7699);
	assert_address(f, "server.cluster.listen_address", "::", 6000);
	assert_address(f, "server.discovery.listen_address", "::1", 5000);
	assert_address(f, "server.backup.listen_address", "0.0.0.0", 0);
	assert_refused(f, "server.bolt.listen_address=:70000\n", 1,
		       "server.bolt.listen_address=:70000",
		       "not an address: the port is past 65535; allowed: "
		       "host:port, :port, host or [IPv6]:port, with a port "
		       "from 0 to 65535");
	assert_refused(f, "server.bolt.listen_address=db1:\n", 1, "=db1:",
		       "not an address: the port after ':' is missing");
	assert_refused(f, "server.bolt.listen_address=db1:7x\n", 1, "=db1:7x",
		       "not an address: the port is not a number");
	assert_refused(f, "server.bolt.listen_address=[::1\n", 1, "=[::1",
		       "not an address: the '[' of an IPv6 address has no ']'");
	assert_refused(f, "server.bolt.listen_address=[::1]7687\n", 1,
		       "=[::1]7687", "not an address: text follows the ']'");
	assert_refused(f, "server.bolt.listen_address=[]:7687\n", 1,
		       "=[]:7687", "not an address: the IPv6 address is empty");
	assert_refused(f, "server.bolt.listen_address=db 1:7687\n", 1,
		       "=db 1:7687",
		       "not an address: a host name has only letters");
	assert_refused(f, "server.default_listen_address=0.0.0.0:7687\n", 1,
		       "=0.0.0.0:7687", "not a host name");
}

static void test_config_address_host_from_default_listen_address(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, "server.bolt.listen_address=:7688\n"
				 "server.default_listen_address=0.0.0.0\n"
				 "server.default_advertised_address=db1.example\n"),
			 GRAFT_OK);
	assert_address(f, "server.bolt.listen_address", "0.0.0.0", 7688);
	assert_address(f, "server.http.listen_address", "0.0.0.0", 7474);
	/* An explicit host is kept. */
	assert_address(f, "server.backup.listen_address", "127.0.0.1", 6362);
	assert_address(f, "server.bolt.advertised_address", "db1.example", 7688);
}

static void test_config_advertised_port_follows_listen_port(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, "server.bolt.listen_address=:7777\n"
				 "server.http.listen_address=:8080\n"
				 "server.http.advertised_address=web1\n"
				 "server.cluster.advertised_address=:6001\n"),
			 GRAFT_OK);
	assert_address(f, "server.bolt.advertised_address", "localhost", 7777);
	assert_address(f, "server.http.advertised_address", "web1", 8080);
	assert_address(f, "server.cluster.advertised_address", "localhost",
		       6001);
}

static void test_config_address_list(void **state)
{
	struct fixture *f = *state;
	struct graft_address a[4];
	const char *name = "dbms.cluster.discovery.endpoints";

	assert_int_equal(graft_config_address_list(f->c, name, a, 4), 0);
	assert_int_equal(load(f, "causal_clustering.initial_discovery_members="
				 "server1:5000, server2 ,[fe80::1]:5001\n"),
			 GRAFT_OK);
	assert_int_equal(graft_config_address_list(f->c, name, a, 2), 3);
	assert_int_equal(graft_config_address_list(f->c, name, a, 4), 3);
	assert_address_is(&a[0], "server1", 5000);
	assert_address_is(&a[1], "server2", 5000);
	assert_address_is(&a[2], "fe80::1", 5001);
	assert_refused(f, "dbms.cluster.discovery.endpoints=a:1,,b:2\n", 1,
		       "=a:1,,b:2", "not a list of addresses");
	assert_refused(f, "dbms.cluster.discovery.endpoints=a:99999\n", 1,
		       "=a:99999", "allowed: comma-separated host:port");
	assert_refused(f, "dbms.cluster.discovery.endpoints=:5000\n", 1,
		       "=:5000", "not a list of addresses");
}

static void test_config_enum_is_canonicalised(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, "server.bolt.tls_level=required\n"
				 "dbms.mode=read_replica\n"),
			 GRAFT_OK);
	assert_string_equal(graft_config_string(f->c, "server.bolt.tls_level"),
			    "REQUIRED");
	assert_string_equal(graft_config_string(f->c, "dbms.mode"),
			    "READ_REPLICA");
	assert_refused(f, "dbms.mode=HA\n", 1, "dbms.mode=HA",
		       "not an allowed value; allowed: SINGLE, CORE, "
		       "READ_REPLICA");
}

static void test_config_retention_policy(void **state)
{
	struct fixture *f = *state;
	struct graft_retention r;

	assert_int_equal(load(f, "dbms.tx_log.rotation.retention_policy=3 files\n"),
			 GRAFT_OK);
	graft_config_retention(f->c, "db.tx_log.rotation.retention_policy", &r);
	assert_int_equal(r.kind, GRAFT_RETAIN_FILES);
	assert_int_equal(r.amount, 3);
	assert_refused(f, "db.tx_log.rotation.retention_policy=3 weeks\n", 1,
		       "=3 weeks", "not a retention policy; allowed:");
}

static void test_config_aliases_map_to_canonical(void **state)
{
	struct fixture *f = *state;

	/* The core-server neo4j.conf of a 4.x operations course. */
	assert_int_equal(
		load(f, "# Cluster settings\n"
			"dbms.mode=CORE\n"
			"causal_clustering.minimum_core_cluster_size_at_formation=3\n"
			"causal_clustering.minimum_core_cluster_size_at_runtime=3\n"
			"causal_clustering.initial_discovery_members=server1:5000,"
			"server2:5000,server3:5000\n"
			"causal_clustering.discovery_listen_address=0.0.0.0:5000\n"
			"causal_clustering.transaction_listen_address=0.0.0.0:6000\n"
			"causal_clustering.raft_listen_address=0.0.0.0:7000\n"
			"dbms.connector.bolt.enabled=true\n"
			"dbms.connector.bolt.listen_address=0.0.0.0:7687\n"
			"dbms.directories.data=/srv/neo\n"
			"dbms.tx_log.rotation.size=256M\n"
			"dbms.checkpoint.interval.time=5m\n"
			"dbms.default_database=movies\n"
			"dbms.default_listen_address=0.0.0.0\n"
			"dbms.backup.address=:6362\n"
			"dbms.security.auth_enabled=true\n"
			"dbms.jvm.additional=-XX:+UseG1GC\n"
			"dbms.jvm.additional=-XX:MaxGCPauseMillis=200\n"
			"dbms.memory.heap.max_size=8g\n"),
		GRAFT_OK);
	assert_string_equal(graft_config_string(f->c, "dbms.mode"), "CORE");
	assert_int_equal(
		graft_config_int(f->c,
				 "dbms.cluster.minimum_initial_system_primaries_count"),
		3);
	assert_address(f, "server.discovery.listen_address", "0.0.0.0", 5000);
	assert_address(f, "server.cluster.listen_address", "0.0.0.0", 6000);
	assert_address(f, "server.cluster.raft.listen_address", "0.0.0.0", 7000);
	assert_address(f, "server.bolt.listen_address", "0.0.0.0", 7687);
	assert_address(f, "server.backup.listen_address", "0.0.0.0", 6362);
	assert_string_equal(graft_config_path(f->c, "server.directories.data"),
			    "/srv/neo");
	assert_true(graft_config_size(f->c, "db.tx_log.rotation.size") ==
		    256 * MIB);
	assert_true(graft_config_duration_ms(f->c,
					     "db.checkpoint.interval.time") ==
		    300000);
	assert_string_equal(
		graft_config_string(f->c, "initial.dbms.default_database"),
		"movies");
	assert_true(graft_config_is_set(f->c, "server.bolt.enabled"));
}

static void test_config_conflicting_aliases_name_both_lines(void **state)
{
	struct fixture *f = *state;

	assert_refused(f, "# c\nserver.bolt.listen_address=:7687\n\n"
			  "dbms.connector.bolt.listen_address=:7688\n",
		       4, "dbms.connector.bolt.listen_address=:7688",
		       "conflicts with server.bolt.listen_address=:7687 on "
		       "line 2");
	assert_contains(f->errmsg, "both set server.bolt.listen_address");
	/* Two older names of one setting conflict too. */
	assert_refused(f, "dbms.backup.address=:6362\n"
			  "dbms.backup.listen_address=:6363\n",
		       2, "dbms.backup.listen_address=:6363",
		       "dbms.backup.address=:6362 on line 1");
	/* The same value under two names is no conflict. */
	assert_int_equal(load(f, "db.tx_log.rotation.size=256M\n"
				 "dbms.tx_log.rotation.size=256m\n"),
			 GRAFT_OK);
}

static void test_config_unknown_key_is_refused_with_suggestion(void **state)
{
	struct fixture *f = *state;

	assert_refused(f, "dbms.mode=CORE\n\n\n\n\n\n"
			  "server.bolt.listen_adress=:7687\n",
		       7, "unknown setting 'server.bolt.listen_adress'",
		       "; did you mean 'server.bolt.listen_address'?");
	assert_refused(f, "dbms.conector.bolt.listen_address=:1\n", 1,
		       "unknown setting",
		       "did you mean 'dbms.connector.bolt.listen_address' "
		       "(now server.bolt.listen_address)?");
	assert_refused(f, "frobnicate=1\n", 1, "unknown setting 'frobnicate'",
		       "server.config.strict_validation.enabled=false");
	assert_null(strstr(f->errmsg, "did you mean"));
	/* Nothing of a refused file is applied. */
	assert_refused(f, "dbms.mode=CORE\nfrobnicate=1\n", 2, "frobnicate",
		       "unknown");
	assert_string_equal(graft_config_string(f->c, "dbms.mode"), "SINGLE");
	assert_false(graft_config_is_set(f->c, "dbms.mode"));
}

static void test_config_unknown_key_warns_when_not_strict(void **state)
{
	struct fixture *f = *state;
	char log[160], text[1024] = "";
	FILE *fp;

	snprintf(log, sizeof log, "%s/graft.log", f->dir);
	assert_int_equal(graft_log_open(log, GRAFT_LOG_INFO, false, f->errmsg),
			 GRAFT_OK);
	assert_int_equal(load(f, "server.bolt.listen_adress=:1\n"
				 "dbms.mode=CORE\n"
				 "server.config.strict_validation.enabled=false\n"),
			 GRAFT_OK);
	graft_log_close();
	assert_string_equal(graft_config_string(f->c, "dbms.mode"), "CORE");
	fp = fopen(log, "r");
	assert_non_null(fp);
	assert_true(fread(text, 1, sizeof text - 1, fp) > 0);
	fclose(fp);
	assert_contains(text, "WARN");
	assert_contains(text, ":1: ignoring unknown setting "
			      "'server.bolt.listen_adress'; did you mean");
	/* Once off, it stays off for later files (Neo4j reads it once). */
	assert_int_equal(graft_log_open(NULL, GRAFT_LOG_ERROR, false, f->errmsg),
			 GRAFT_OK);
	assert_int_equal(load(f, "frobnicate=1\n"), GRAFT_OK);
	graft_log_close();
	/* The 4.x name works as well, and true turns strictness back on. */
	assert_int_equal(load(f, "dbms.config.strict_validation=true\n"),
			 GRAFT_OK);
	assert_refused(f, "frobnicate=1\n", 1, "frobnicate", "unknown");
}

static void test_config_inline_comment_gets_a_hint(void **state)
{
	struct fixture *f = *state;

	assert_refused(f, "dbms.memory.pagecache.size=32g # For 64GB RAM\n", 1,
		       "=32g # For 64GB RAM", "not a size");
	assert_contains(f->errmsg, "a # starts a comment only at the start");
}

static void test_config_nul_byte_is_refused(void **state)
{
	struct fixture *f = *state;
	FILE *fp = fopen(f->path, "w");

	assert_non_null(fp);
	assert_int_equal(fwrite("dbms.mode=CORE\ndbms.mo\0de=X\n", 1, 28, fp),
			 28);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(graft_config_load(f->c, f->path, f->errmsg),
			 GRAFT_ECONFIG);
	assert_contains(f->errmsg, ":2: ");
	assert_contains(f->errmsg, "NUL byte");
}

static void test_config_unreadable_file_is_eio(void **state)
{
	struct fixture *f = *state;
	char missing[160];

	snprintf(missing, sizeof missing, "%s/nope.conf", f->dir);
	assert_int_equal(graft_config_load(f->c, missing, f->errmsg), GRAFT_EIO);
	assert_contains(f->errmsg, missing);
	assert_contains(f->errmsg, "No such file or directory");
	assert_int_equal(graft_config_load(f->c, f->dir, f->errmsg), GRAFT_EIO);
	assert_contains(f->errmsg, "Is a directory");
}

struct reports {
	int n;
	char text[4][GRAFT_ERRMSG_SIZE];
};

static void collect(void *arg, const char *msg)
{
	struct reports *r = arg;

	if (r->n < 4)
		snprintf(r->text[r->n], sizeof r->text[0], "%s", msg);
	r->n++;
}

static void test_config_load_all_reports_every_error_and_keeps_valid_lines(
	void **state)
{
	struct fixture *f = *state;
	struct reports r = {0};
	int n = -1;

	write_text(f->path, "db.tx_log.rotation.size=12Q\n"
			    "server.directories.run=/var/run/graft\n"
			    "just words\n"
			    "server.bolt.listen_adress=:1\n");
	assert_int_equal(graft_config_load_all(f->c, f->path, collect, &r, &n,
					       f->errmsg),
			 GRAFT_OK);
	assert_int_equal(n, 3);
	assert_int_equal(r.n, 3);
	assert_contains(r.text[0], ":1: db.tx_log.rotation.size=12Q");
	assert_contains(r.text[1], ":3: 'just words'");
	assert_contains(r.text[2], ":4: unknown setting");
	assert_string_equal(graft_config_path(f->c, "server.directories.run"),
			    "/var/run/graft");
	/* graft_config_load of the same file still changes nothing */
	graft_config_free(f->c);
	assert_int_equal(graft_config_new(&f->c), GRAFT_OK);
	assert_int_equal(graft_config_load(f->c, f->path, f->errmsg),
			 GRAFT_ECONFIG);
	assert_false(graft_config_is_set(f->c, "server.directories.run"));
}

static void test_config_paths_resolve_against_neo4j_home(void **state)
{
	struct fixture *f = *state;
	const char *data;

	assert_string_equal(graft_config_path(f->c,
					      "server.directories.neo4j_home"),
			    GRAFT_PREFIX);
	assert_int_equal(load(f, "server.directories.neo4j_home=/opt/graft/\n"
				 "server.directories.logs=/var/log/graft\n"),
			 GRAFT_OK);
	data = graft_config_path(f->c, "server.directories.data");
	assert_string_equal(data, "/opt/graft/data");
	assert_string_equal(graft_config_path(f->c, "server.directories.run"),
			    "/opt/graft/run");
	assert_string_equal(graft_config_path(f->c, "server.directories.logs"),
			    "/var/log/graft");
	assert_string_equal(
		graft_config_path(f->c,
				  "server.directories.transaction.logs.root"),
		"/opt/graft/data/transactions");
	assert_string_equal(
		graft_config_path(f->c, "dbms.ssl.policy.bolt.private_key"),
		"/opt/graft/certificates/bolt/private.key");
	assert_null(graft_config_path(f->c, "server.directories.import"));
	/* An unrelated change keeps the pointer handed out. */
	assert_int_equal(graft_config_set(f->c, "dbms.mode", "CORE", NULL, 0,
					  f->errmsg),
			 GRAFT_OK);
	assert_ptr_equal(graft_config_path(f->c, "server.directories.data"),
			 data);
	/* The transaction logs follow a moved data directory, as in Neo4j. */
	assert_int_equal(graft_config_set(f->c, "dbms.directories.data",
					  "/srv/db", "cli", 0, f->errmsg),
			 GRAFT_OK);
	assert_string_equal(
		graft_config_path(f->c,
				  "server.directories.transaction.logs.root"),
		"/srv/db/transactions");
}

static void test_config_neo4j_home_from_environment(void **state)
{
	struct fixture *f = *state;
	struct graft_config *c;
	char cwd[4096], want[4200];

	setenv("GRAFT_HOME", "/home/graft", 1);
	assert_int_equal(graft_config_new(&c), GRAFT_OK);
	assert_string_equal(graft_config_path(c, "server.directories.logs"),
			    "/home/graft/logs");
	assert_false(graft_config_is_set(c, "server.directories.neo4j_home"));
	graft_config_free(c);
	setenv("GRAFT_HOME", "relative/home", 1);
	assert_int_equal(graft_config_new(&c), GRAFT_OK);
	assert_non_null(getcwd(cwd, sizeof cwd));
	snprintf(want, sizeof want, "%s/relative/home/data", cwd);
	assert_string_equal(graft_config_path(c, "server.directories.data"),
			    want);
	graft_config_free(c);
	unsetenv("GRAFT_HOME");
	(void)f;
}

static void test_config_set_names_where_and_key(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(graft_config_set(f->c, "dbms.connector.bolt.tls_level",
					  "optional", "--set", 0, f->errmsg),
			 GRAFT_OK);
	assert_string_equal(graft_config_string(f->c, "server.bolt.tls_level"),
			    "OPTIONAL");
	assert_int_equal(graft_config_set(f->c, "db.tx_log.rotation.size", "1k",
					  "graftd.env", 4, f->errmsg),
			 GRAFT_ECONFIG);
	assert_contains(f->errmsg, "graftd.env:4: db.tx_log.rotation.size=1k: "
				   "too small");
	assert_int_equal(graft_config_set(f->c, "nope", "1", NULL, 0, f->errmsg),
			 GRAFT_ECONFIG);
	assert_string_equal(f->errmsg,
			    "unknown setting 'nope'; see docs/configuration.md "
			    "for the settings graft knows, or set "
			    "server.config.strict_validation.enabled=false to "
			    "only warn");
}

static void test_config_choose_file(void **state)
{
	bool must;
	(void)state;

	assert_string_equal(graft_config_choose("/x/y.conf", &must), "/x/y.conf");
	assert_true(must);
	setenv("GRAFT_CONF", "/env/graft.conf", 1);
	assert_string_equal(graft_config_choose("/x/y.conf", &must), "/x/y.conf");
	assert_string_equal(graft_config_choose(NULL, &must), "/env/graft.conf");
	assert_true(must);
	setenv("GRAFT_CONF", "", 1);
	assert_string_equal(graft_config_choose(NULL, &must),
			    GRAFT_SYSCONFDIR "/graft/graft.conf");
	assert_false(must);
	unsetenv("GRAFT_CONF");
	assert_string_equal(graft_config_choose(NULL, &must),
			    GRAFT_SYSCONFDIR "/graft/graft.conf");
	assert_false(must);
}

static void test_config_template_loads_back_to_defaults(void **state)
{
	struct fixture *f = *state;
	char line[1024], seen[64][80];
	size_t n, nseen = 0, names = 0;
	const struct graft_setting *t = graft_settings(&n);
	FILE *fp;

	assert_int_equal(graft_config_write_template(f->path, f->errmsg),
			 GRAFT_OK);
	assert_int_equal(graft_config_load(f->c, f->path, f->errmsg), GRAFT_OK);
	for (size_t i = 0; i < n; i++)
		assert_false(graft_config_is_set(f->c, t[i].name));
	fp = fopen(f->path, "r");
	assert_non_null(fp);
	while (fgets(line, sizeof line, fp) != NULL) {
		assert_true(line[0] == '#' || line[0] == '\n');
		/* A group header appears once: groups are contiguous. */
		if (strncmp(line, "#****", 5) == 0 &&
		    fgets(line, sizeof line, fp) != NULL) {
			for (size_t i = 0; i < nseen; i++)
				assert_string_not_equal(seen[i], line);
			assert_true(nseen < 64);
			snprintf(seen[nseen++], sizeof seen[0], "%.79s", line);
			assert_non_null(fgets(line, sizeof line, fp));
		}
		for (size_t i = 0; i < n; i++) {
			size_t len = strlen(t[i].name);
			/* a family's line names a member: <name> */
			if (strncmp(line + 1, t[i].name, len) == 0 &&
			    (line[len + 1] == '=' ||
			     (graft_setting_family(&t[i]) &&
			      strncmp(line + len + 1, "<name>=", 7) == 0)))
				names++;
		}
	}
	fclose(fp);
	assert_int_equal(names, n);
	/* Uncommenting a line of it gives a file that loads. */
	assert_int_equal(load(f, "db.tx_log.rotation.size=256M\n"), GRAFT_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_config_defaults_match_neo4j),
		T(test_config_table_is_consistent),
		T(test_config_syntax_comments_blanks_trim_crlf),
		T(test_config_line_without_equals_is_refused),
		T(test_config_repeated_key_last_wins),
		T(test_config_bool_is_case_insensitive),
		T(test_config_int_within_bounds),
		T(test_config_size_units),
		T(test_config_duration_units),
		T(test_config_duration_range),
		T(test_config_address_forms),
		T(test_config_address_host_from_default_listen_address),
		T(test_config_advertised_port_follows_listen_port),
		T(test_config_address_list),
		T(test_config_enum_is_canonicalised),
		T(test_config_retention_policy),
		T(test_config_aliases_map_to_canonical),
		T(test_config_conflicting_aliases_name_both_lines),
		T(test_config_unknown_key_is_refused_with_suggestion),
		T(test_config_unknown_key_warns_when_not_strict),
		T(test_config_inline_comment_gets_a_hint),
		T(test_config_nul_byte_is_refused),
		T(test_config_unreadable_file_is_eio),
		T(test_config_load_all_reports_every_error_and_keeps_valid_lines),
		T(test_config_paths_resolve_against_neo4j_home),
		T(test_config_neo4j_home_from_environment),
		T(test_config_set_names_where_and_key),
		T(test_config_choose_file),
		T(test_config_template_loads_back_to_defaults),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
