/* Seeded random mutations of a valid graft.conf: graft_config_load must
 * return GRAFT_OK or a clean error with a message, never crash or hang, and
 * every getter must work on whatever was accepted. Deterministic: the same
 * seeds give the same files, so a failure names the seed to replay. */
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

#define ROUNDS 1500

static const char base[] =
	"# graft.conf under test\n"
	"server.directories.neo4j_home=/opt/graft\n"
	"dbms.directories.data=data\n"
	"server.default_listen_address=0.0.0.0\n"
	"server.bolt.listen_address=:7687\n"
	"dbms.connector.bolt.advertised_address=db1:7687\n"
	"server.bolt.tls_level=OPTIONAL\n"
	"server.http.enabled=true\n"
	"server.backup.listen_address=127.0.0.1:6362\n"
	"db.tx_log.rotation.size=256M\n"
	"db.tx_log.rotation.retention_policy=2 days 2G\n"
	"db.checkpoint.interval.time=15m\n"
	"db.checkpoint.interval.tx=100000\n"
	"db.transaction.bookmark_ready_timeout=30s\n"
	"dbms.mode=CORE\n"
	"causal_clustering.initial_discovery_members=a:5000,b:5000,[::1]:5001\n"
	"dbms.cluster.raft.leader_failure_detection_window=2s-3s\n"
	"initial.dbms.default_database=neo4j\n"
	"\n"
	"dbms.ssl.policy.bolt.private_key=/etc/keys/k.pem\n";

/* Values that sit on the edges of the parsers. */
static const char *const tokens[] = {
	"",	  "=",	    "#",      ":",	"[",	  "]",	   "[::1]",
	"::",	  "-1",	    "0",      "65536",	":65535", "1.",	   ".5G",
	"1e9",	  "99999999999999999999", "18446744073709551615G",
	"true",	  "FALSE",  "1d",     "1ms-",	"-",	  "5s-",   "2 days 2",
	"3 files", "keep_all", "\xce\xbcs", "\xff\xfe", " # x", ",", ",,",
	"a:1,",	  "/",	    "//",     "../..",	"\r",	  "\t",	   "%s%n",
};

static uint64_t rng_state;

static uint64_t rng(void)
{
	/* xorshift64*: small, deterministic, good enough for mutation. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}

static size_t pick(size_t n)
{
	return (size_t)(rng() % n);
}

struct text {
	char *p;
	size_t len, cap;
};

static void reserve(struct text *t, size_t more)
{
	if (t->len + more <= t->cap)
		return;
	t->cap = (t->len + more) * 2;
	t->p = realloc(t->p, t->cap);
	assert_non_null(t->p);
}

static void insert(struct text *t, size_t at, const char *s, size_t n)
{
	reserve(t, n);
	memmove(t->p + at + n, t->p + at, t->len - at);
	memcpy(t->p + at, s, n);
	t->len += n;
}

static void insert_run(struct text *t, size_t at, char c, size_t n)
{
	reserve(t, n);
	memmove(t->p + at + n, t->p + at, t->len - at);
	memset(t->p + at, c, n);
	t->len += n;
}

static void mutate(struct text *t)
{
	size_t at = t->len == 0 ? 0 : pick(t->len + 1), n;
	char byte;

	switch (pick(9)) {
	case 0: /* random bytes, NUL included */
		for (n = 1 + pick(8); n > 0 && t->len > 0; n--)
			t->p[pick(t->len)] = (char)pick(256);
		break;
	case 1: /* truncation */
		t->len = at;
		break;
	case 2: /* a huge line */
		insert(t, at, "\n", 1);
		insert_run(t, at + 1, (char)('a' + pick(26)), 1 + pick(300000));
		break;
	case 3: /* a very long key */
		insert(t, at, "\n=1\n", 4);
		insert_run(t, at + 1, 's', 1 + pick(20000));
		break;
	case 4: /* a very long value of a known key */
		insert(t, at, "\ndb.transaction.timeout=\n", 25);
		insert_run(t, at + 24, (char)('0' + pick(10)), 1 + pick(20000));
		break;
	case 5: /* an edge token */
		n = pick(sizeof tokens / sizeof tokens[0]);
		insert(t, at, tokens[n], strlen(tokens[n]));
		break;
	case 6: /* a byte that matters to the syntax */
		byte = "=\n#:,[] \0"[pick(9)];
		insert(t, at, &byte, 1);
		break;
	case 7: /* a slice of the file copied elsewhere */
		n = pick(200);
		if (at + n <= t->len) {
			char tmp[200];
			memcpy(tmp, t->p + at, n);
			insert(t, pick(t->len + 1), tmp, n);
		}
		break;
	default: /* non-strict mode, so unknown keys take the warning path */
		insert(t, 0, "server.config.strict_validation.enabled=false\n",
		       46);
		break;
	}
}

/* Every getter on every setting: none may crash on an accepted value. */
static void read_everything(const struct graft_config *c)
{
	size_t n;
	const struct graft_setting *t = graft_settings(&n);
	struct graft_address a[4];
	struct graft_retention r;
	uint64_t lo, hi;

	for (size_t i = 0; i < n; i++) {
		const char *name = t[i].name;
		(void)graft_config_string(c, name);
		(void)graft_config_is_set(c, name);
		switch (t[i].type) {
		case GRAFT_CONFIG_PATH: {
			const char *p = graft_config_path(c, name);
			assert_true(p == NULL || p[0] == '/');
			break;
		}
		case GRAFT_CONFIG_BOOL:
			(void)graft_config_bool(c, name);
			break;
		case GRAFT_CONFIG_INT:
			(void)graft_config_int(c, name);
			break;
		case GRAFT_CONFIG_SIZE:
			(void)graft_config_size(c, name);
			break;
		case GRAFT_CONFIG_DURATION:
			(void)graft_config_duration_ms(c, name);
			break;
		case GRAFT_CONFIG_DURATION_RANGE:
			graft_config_duration_range_ms(c, name, &lo, &hi);
			assert_true(lo <= hi);
			break;
		case GRAFT_CONFIG_ADDRESS:
			graft_config_address(c, name, &a[0]);
			assert_true(a[0].host[0] != '\0');
			break;
		case GRAFT_CONFIG_ADDRESS_LIST:
			assert_true(graft_config_address_list(c, name, a, 4) !=
				    SIZE_MAX);
			break;
		case GRAFT_CONFIG_RETENTION:
			graft_config_retention(c, name, &r);
			break;
		default:
			break;
		}
	}
}

static void test_config_survives_mutated_files(void **state)
{
	char dir[] = "/tmp/graft-config-fuzz-XXXXXX", path[64], cmd[96];
	char errmsg[GRAFT_ERRMSG_SIZE];
	size_t accepted = 0;
	(void)state;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/graft.conf", dir);
	/* Warnings of the non-strict rounds go nowhere. */
	assert_int_equal(graft_log_open(NULL, GRAFT_LOG_ERROR, false, errmsg),
			 GRAFT_OK);
	for (uint64_t seed = 1; seed <= ROUNDS; seed++) {
		struct text t = {0};
		struct graft_config *c;
		FILE *fp;
		int rv;

		rng_state = seed * 0x9e3779b97f4a7c15ull;
		insert(&t, 0, base, sizeof base - 1);
		for (size_t m = 1 + pick(4); m > 0; m--)
			mutate(&t);
		fp = fopen(path, "w");
		assert_non_null(fp);
		assert_int_equal(fwrite(t.p, 1, t.len, fp), t.len);
		assert_int_equal(fclose(fp), 0);
		free(t.p);

		assert_int_equal(graft_config_new(&c), GRAFT_OK);
		memset(errmsg, 0x55, sizeof errmsg);
		rv = graft_config_load(c, path, errmsg);
		if (rv != GRAFT_OK) {
			if (rv != GRAFT_ECONFIG)
				fail_msg("seed %llu: code %d",
					 (unsigned long long)seed, rv);
			if (memchr(errmsg, '\0', sizeof errmsg) == NULL ||
			    errmsg[0] == '\0')
				fail_msg("seed %llu: no message",
					 (unsigned long long)seed);
		} else {
			accepted++;
		}
		read_everything(c);
		graft_config_free(c);
	}
	graft_log_close();
	/* Both outcomes must have been exercised for the test to mean much. */
	assert_true(accepted > ROUNDS / 20 && accepted < ROUNDS - ROUNDS / 20);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_survives_mutated_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
