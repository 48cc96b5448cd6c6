/* Unit tests for util: values, buffers, CRC32C, retention policies, the log
 * file's mode, address text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/address.h"
#include "util/buf.h"
#include "util/check.h"
#include "util/crc32c.h"
#include "util/err.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/retention.h"
#include "util/status.h"
#include "util/value.h"

#include "tmpdir.h"

static void test_crc32c_matches_known_vector(void **state)
{
	(void)state;
	/* RFC 3720 B.4: CRC32C("123456789") = 0xe3069283 */
	assert_int_equal(graft_crc32c(0, "123456789", 9), 0xe3069283u);
	/* Extending in two steps equals one step. */
	assert_int_equal(graft_crc32c(graft_crc32c(0, "1234", 4), "56789", 5),
			 0xe3069283u);
	/* 32 zero bytes: 0x8a9136aa (RFC 3720). */
	uint8_t zeros[32] = {0};
	assert_int_equal(graft_crc32c(0, zeros, 32), 0x8a9136aau);
}

/* Formats host and port, then splits the text again as a peer's address:
 * the same host and port come back, and want is the text. */
static void expect_address(const char *host, unsigned port, const char *want)
{
	char text[GRAFT_ADDRESS_TEXT_MAX], back[GRAFT_ADDRESS_HOST_MAX + 1];
	int got_port;

	assert_int_equal(graft_address_format(text, sizeof text, host, port),
			 (int)strlen(want));
	assert_string_equal(text, want);
	assert_int_equal(graft_address_split(text, GRAFT_ADDRESS_PORT_REQUIRED,
					     back, &got_port, NULL),
			 GRAFT_OK);
	assert_string_equal(back, host);
	assert_int_equal(got_port, (int)port);
}

static void test_address_format_brackets_ipv6_hosts_only(void **state)
{
	char longest[GRAFT_ADDRESS_HOST_MAX + 1], text[GRAFT_ADDRESS_TEXT_MAX];
	(void)state;

	expect_address("127.0.0.1", 7687, "127.0.0.1:7687");
	expect_address("db-1.example.com", 6000, "db-1.example.com:6000");
	expect_address("::1", 7687, "[::1]:7687");
	expect_address("fe80::1:2", 65535, "[fe80::1:2]:65535");
	expect_address("::ffff:127.0.0.1", 5000, "[::ffff:127.0.0.1]:5000");
	/* The longest IPv6-looking host and port fit the buffer the header
	 * promises. */
	memset(longest, ':', sizeof longest - 1);
	longest[sizeof longest - 1] = '\0';
	assert_int_equal(graft_address_format(text, sizeof text, longest,
					      65535),
			 (int)sizeof text - 1);
}

static void test_buf_grows_and_encodes_little_endian(void **state)
{
	struct graft_buf b;
	(void)state;
	graft_buf_init(&b);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(graft_buf_put_u32le(&b, (uint32_t)i), GRAFT_OK);
	assert_int_equal(b.len, 4000);
	assert_int_equal(graft_get_u32le(b.data + 4 * 999), 999);
	assert_int_equal(graft_buf_put_u64le(&b, 0x0102030405060708ull), GRAFT_OK);
	assert_int_equal(b.data[4000], 0x08);
	assert_true(graft_get_u64le(b.data + 4000) == 0x0102030405060708ull);
	graft_buf_free(&b);
}

static void make_nested(struct graft_value *v)
{
	struct graft_value m;
	assert_int_equal(graft_value_list(v, 3), GRAFT_OK);
	v->u.list->items[0] = graft_value_int(42);
	assert_int_equal(graft_value_string(&v->u.list->items[1], "héllo", 6),
			 GRAFT_OK);
	assert_int_equal(graft_value_map(&m, 2), GRAFT_OK);
	m.u.map->entries[0].key = graft_str_new("b", 1);
	m.u.map->entries[0].value = graft_value_float(1.5);
	m.u.map->entries[1].key = graft_str_new("a", 1);
	m.u.map->entries[1].value = graft_value_bool(true);
	graft_map_sort(m.u.map);
	v->u.list->items[2] = m;
}

static void test_value_copy_is_deep_and_equal(void **state)
{
	struct graft_value a, b;
	(void)state;
	make_nested(&a);
	assert_int_equal(graft_value_copy(&b, &a), GRAFT_OK);
	assert_true(graft_value_equal(&a, &b));
	assert_true(graft_value_hash(&a) == graft_value_hash(&b));
	assert_ptr_not_equal(a.u.list->items[1].u.s, b.u.list->items[1].u.s);
	b.u.list->items[0].u.i = 43;
	assert_false(graft_value_equal(&a, &b));
	assert_true(graft_value_cmp(&a, &b) < 0);
	graft_value_free(&a);
	graft_value_free(&b);
	assert_int_equal(a.type, GRAFT_VALUE_NULL);
}

static void test_map_sort_keeps_last_duplicate_and_get_finds(void **state)
{
	struct graft_value m;
	(void)state;
	assert_int_equal(graft_value_map(&m, 3), GRAFT_OK);
	m.u.map->entries[0].key = graft_str_new("k", 1);
	m.u.map->entries[0].value = graft_value_int(1);
	m.u.map->entries[1].key = graft_str_new("a", 1);
	m.u.map->entries[1].value = graft_value_int(2);
	m.u.map->entries[2].key = graft_str_new("k", 1);
	m.u.map->entries[2].value = graft_value_int(3);
	graft_map_sort(m.u.map);
	assert_int_equal(m.u.map->len, 2);
	assert_string_equal(m.u.map->entries[0].key->data, "a");
	const struct graft_value *k = graft_map_get(m.u.map, "k", 1);
	assert_non_null(k);
	assert_int_equal(k->u.i, 3);
	assert_null(graft_map_get(m.u.map, "z", 1));
	graft_value_free(&m);
}

static void test_value_int_and_float_differ_but_zeroes_hash_alike(void **state)
{
	struct graft_value i = graft_value_int(1), f = graft_value_float(1.0);
	struct graft_value z = graft_value_float(0.0), nz = graft_value_float(-0.0);
	(void)state;
	assert_false(graft_value_equal(&i, &f));
	assert_true(graft_value_equal(&z, &nz));
	assert_true(graft_value_hash(&z) == graft_value_hash(&nz));
}

static void expect_retention(const char *text, enum graft_retention_kind kind,
			     uint64_t amount, uint64_t cap)
{
	struct graft_retention r;
	char err[GRAFT_ERRMSG_SIZE];
	assert_int_equal(graft_retention_parse(text, &r, err), GRAFT_OK);
	assert_int_equal(r.kind, kind);
	assert_true(r.amount == amount);
	assert_true(r.size_cap == cap);
}

static void test_retention_accepts_every_neo4j_form(void **state)
{
	(void)state;
	expect_retention("true", GRAFT_RETAIN_ALL, 0, 0);
	expect_retention("keep_all", GRAFT_RETAIN_ALL, 0, 0);
	expect_retention("false", GRAFT_RETAIN_NONE, 0, 0);
	expect_retention("keep_none", GRAFT_RETAIN_NONE, 0, 0);
	expect_retention("3 files", GRAFT_RETAIN_FILES, 3, 0);
	expect_retention("100M size", GRAFT_RETAIN_SIZE, 100ull << 20, 0);
	expect_retention("200k txs", GRAFT_RETAIN_TXS, 200000, 0);
	expect_retention("500 entries", GRAFT_RETAIN_TXS, 500, 0);
	expect_retention("7 days", GRAFT_RETAIN_TIME, 7 * 86400000ull, 0);
	expect_retention("12 hours", GRAFT_RETAIN_TIME, 12 * 3600000ull, 0);
	expect_retention("2 days 2G", GRAFT_RETAIN_TIME, 2 * 86400000ull,
			 2ull << 30);
}

static void test_retention_rejects_garbage_and_says_what_is_allowed(void **state)
{
	struct graft_retention r;
	char err[GRAFT_ERRMSG_SIZE];
	const char *bad[] = {"", "maybe", "3", "3 weeks", "0 files",
			     "100M size 1G", "-1 days", "2 days 2G extra"};
	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(graft_retention_parse(bad[i], &r, err),
				 GRAFT_ECONFIG);
		assert_non_null(strstr(err, "allowed"));
	}
}

static void test_strerror_covers_every_code(void **state)
{
	(void)state;
	for (int e = 0; e < GRAFT_ERR_COUNT; e++)
		assert_true(strlen(graft_strerror(e)) > 0);
	assert_string_equal(graft_strerror(-1), "unknown error");
}

static void test_u64_push_grows_and_keeps_order(void **state)
{
	uint64_t *v = NULL;
	size_t n = 0, cap = 0;

	(void)state;
	for (uint64_t i = 0; i < 1000; i++)
		assert_int_equal(graft_u64_push(&v, &n, &cap, i * 3), GRAFT_OK);
	assert_int_equal(n, 1000);
	assert_true(cap >= n);
	for (uint64_t i = 0; i < 1000; i++)
		assert_int_equal(v[i], i * 3);
	free(v);
}

static mode_t log_mode_after_open(const char *path)
{
	char errmsg[GRAFT_ERRMSG_SIZE];
	struct stat st;

	assert_int_equal(graft_log_open(path, GRAFT_LOG_INFO, false, errmsg),
			 GRAFT_OK);
	graft_info("a line");
	graft_log_close();
	assert_int_equal(stat(path, &st), 0);
	return st.st_mode & 0777;
}

/* graft.log followed the umask (0666 under umask 000); it gets the data
 * files' mode, and an existing file open to others is narrowed, never
 * widened. */
static void test_log_file_is_not_open_to_others_whatever_the_umask(
	void **state)
{
	char dir[64], path[128];
	mode_t old = umask(0);

	(void)state;
	assert_non_null(tmpdir_make(dir, sizeof dir, "log"));
	snprintf(path, sizeof path, "%s/graft.log", dir);
	assert_int_equal(log_mode_after_open(path), 0640);
	assert_int_equal(chmod(path, 0666), 0);
	assert_int_equal(log_mode_after_open(path), 0640);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(log_mode_after_open(path), 0600);
	umask(old);
	assert_int_equal(tmpdir_remove(dir), 0);
}

static void test_mem_charges_every_level_and_refuses_past_a_limit(void **state)
{
	struct graft_mem total, tx;
	struct graft_mem *outer;
	void *p;

	(void)state;
	graft_mem_init(&total, 1 << 20, "total.setting", NULL);
	graft_mem_init(&tx, 0, "tx.setting", &total);
	outer = graft_mem_enter(&tx);
	p = graft_mem_malloc(4096);
	assert_non_null(p);
	assert_true(tx.used >= 4096 && total.used == tx.used);
	/* a block past the pool's limit is refused, and the pool named; the
	 * block is counted at its usable size, which only ASan's allocator
	 * makes exactly the size asked for (glibc's adds its chunk rounding) */
	assert_null(graft_mem_malloc(2 << 20));
	assert_ptr_equal(graft_mem_refusal(&tx), &total);
	assert_true(tx.refused_bytes >= 2 << 20 &&
		    tx.refused_bytes <= (2 << 20) + 8192);
	/* growth is refused without losing the block */
	assert_null(graft_mem_realloc(p, 4 << 20));
	p = graft_mem_realloc(p, 8192);
	assert_non_null(p);
	graft_mem_free(p);
	assert_int_equal(tx.used, 0);
	assert_int_equal(total.used, 0);
	graft_mem_leave(outer);
	assert_null(graft_mem_current());
}

static void test_mem_release_gives_back_what_moved_elsewhere(void **state)
{
	struct graft_mem total, a, b;
	struct graft_mem *outer;
	void *p;

	(void)state;
	graft_mem_init(&total, 0, "total.setting", NULL);
	graft_mem_init(&a, 0, "a", &total);
	graft_mem_init(&b, 0, "b", &total);
	outer = graft_mem_enter(&a);
	p = graft_mem_malloc(1000);
	graft_mem_leave(outer);
	/* freed under another tracker: that one never goes below zero */
	outer = graft_mem_enter(&b);
	graft_mem_free(p);
	graft_mem_leave(outer);
	assert_int_equal(b.used, 0);
	assert_true(a.used >= 1000);
	/* the pool holds the sum of what its trackers hold */
	assert_int_equal(total.used, a.used);
	graft_mem_release(&a);
	assert_int_equal(total.used, 0);
}

/* A transaction's tracker charges the shared pool in whole chunks: the
 * pool holds at least what the tracker holds and at most two chunks more,
 * its own limit stays exact, and release gives back every chunk. */
static void test_mem_chunked_tracker_charges_its_pool_in_chunks(void **state)
{
	enum { CHUNK = 32 * 1024 };
	struct graft_mem total, tx;
	struct graft_mem *outer;
	void *p[64];

	(void)state;
	graft_mem_init(&total, 0, "total.setting", NULL);
	graft_mem_init(&tx, 100 * 1000, "tx.setting", NULL);
	graft_mem_set_chunk(&tx, CHUNK);
	graft_mem_reparent(&tx, &total);
	outer = graft_mem_enter(&tx);
	for (int i = 0; i < 64; i++) {
		p[i] = graft_mem_malloc(1000);
		assert_non_null(p[i]);
		assert_true(total.used >= tx.used);
		assert_true(total.used <= tx.used + 2 * CHUNK);
		assert_int_equal(total.used % CHUNK, 0);
	}
	/* the tracker's own limit: 100,000 bytes, exactly */
	assert_null(graft_mem_malloc(100 * 1000 - 64 * 1000 + 4096));
	assert_ptr_equal(graft_mem_refusal(&tx), &tx);
	for (int i = 0; i < 64; i++) {
		graft_mem_free(p[i]);
		assert_true(total.used >= tx.used);
		assert_true(total.used <= tx.used + 2 * CHUNK);
	}
	assert_int_equal(tx.used, 0);
	graft_mem_release(&tx);
	assert_int_equal(total.used, 0);
	graft_mem_leave(outer);
}

/* A pool's limit refuses a chunked tracker's chunk: the pool is named. */
/* A grant kept at release stays charged at the pool; the next tracker
 * adopts it and allocates within it without charging the pool again, and
 * the kept bytes credited back leave the pool at zero. */
static void test_mem_kept_grant_passes_to_the_next_tracker(void **state)
{
	enum { CHUNK = 32 * 1024 };
	struct graft_mem total, a, b;
	struct graft_mem *outer;
	uint64_t kept;
	void *p;

	(void)state;
	graft_mem_init(&total, 0, "total.setting", NULL);
	graft_mem_init(&a, 0, "a", NULL);
	graft_mem_set_chunk(&a, CHUNK);
	graft_mem_reparent(&a, &total);
	outer = graft_mem_enter(&a);
	p = graft_mem_malloc(3 * CHUNK); /* three chunks and a bit */
	graft_mem_free(p);
	graft_mem_leave(outer);
	assert_true(total.used >= CHUNK);
	kept = graft_mem_release_keep(&a, CHUNK);
	assert_int_equal(kept, CHUNK);
	assert_int_equal(total.used, CHUNK); /* the rest went back */
	assert_int_equal(a.used, 0);
	/* a released tracker keeps nothing more */
	assert_int_equal(graft_mem_release_keep(&a, CHUNK), 0);
	assert_int_equal(total.used, CHUNK);

	graft_mem_init(&b, 0, "b", NULL);
	graft_mem_set_chunk(&b, CHUNK);
	graft_mem_reparent(&b, &total);
	assert_true(graft_mem_adopt(&b, kept));
	assert_false(graft_mem_adopt(&b, kept)); /* it holds a grant now */
	outer = graft_mem_enter(&b);
	p = graft_mem_malloc(1000);
	assert_int_equal(total.used, CHUNK); /* within the adopted grant */
	graft_mem_free(p);
	p = graft_mem_malloc(2 * CHUNK); /* past it: charged as before */
	assert_true(total.used >= 2 * CHUNK);
	graft_mem_free(p);
	graft_mem_leave(outer);
	graft_mem_release(&b);
	assert_int_equal(total.used, 0);

	/* kept, adopted by nobody, credited back */
	graft_mem_init(&a, 0, "a", NULL);
	graft_mem_set_chunk(&a, CHUNK);
	graft_mem_reparent(&a, &total);
	outer = graft_mem_enter(&a);
	graft_mem_free(graft_mem_malloc(100));
	graft_mem_leave(outer);
	kept = graft_mem_release_keep(&a, CHUNK);
	assert_int_equal(total.used, kept);
	graft_mem_credit(&total, kept);
	assert_int_equal(total.used, 0);
}

static void test_mem_chunked_tracker_is_refused_by_its_pool(void **state)
{
	struct graft_mem total, tx;
	struct graft_mem *outer;
	void *p;

	(void)state;
	graft_mem_init(&total, 48 * 1024, "total.setting", NULL);
	graft_mem_init(&tx, 0, "tx.setting", &total);
	graft_mem_set_chunk(&tx, 32 * 1024);
	outer = graft_mem_enter(&tx);
	p = graft_mem_malloc(1000);
	assert_non_null(p);
	assert_int_equal(total.used, 32 * 1024);
	assert_null(graft_mem_malloc(40 * 1024));
	assert_ptr_equal(graft_mem_refusal(&tx), &total);
	graft_mem_free(p);
	graft_mem_leave(outer);
	graft_mem_release(&tx);
	assert_int_equal(total.used, 0);
}

/* Drivers act on a code's class (retry a TransientError only), so each
 * table row's class must be the one its text names, and no code may appear
 * twice under two values. */
static void test_status_codes_are_unique_and_name_their_class(void **state)
{
	static const char *const prefix[] = {
		[GRAFT_STATUS_CLASS_CLIENT] = "Neo.ClientError.",
		[GRAFT_STATUS_CLASS_TRANSIENT] = "Neo.TransientError.",
		[GRAFT_STATUS_CLASS_DATABASE] = "Neo.DatabaseError.",
	};

	(void)state;
	for (int i = 0; i < GRAFT_STATUS_COUNT; i++) {
		const char *code = graft_status_code(i);
		const char *p = prefix[graft_status_class(i)];

		assert_int_equal(strncmp(code, p, strlen(p)), 0);
		assert_true(graft_status_is(code, i));
		for (int j = 0; j < i; j++)
			assert_string_not_equal(code, graft_status_code(j));
	}
	assert_string_equal(graft_status_code(GRAFT_STATUS_CLUSTER_NOT_A_LEADER),
			    "Neo.ClientError.Cluster.NotALeader");
	assert_false(graft_status_is("Neo.ClientError.Cluster.NotALeader",
				     GRAFT_STATUS_CLUSTER_ROUTING));
	assert_false(graft_status_is(NULL, GRAFT_STATUS_UNKNOWN_ERROR));
	assert_string_equal(graft_status_code(GRAFT_STATUS_COUNT),
			    graft_status_code(GRAFT_STATUS_UNKNOWN_ERROR));
}

/* Unlike assert(), GRAFT_CHECK does not depend on NDEBUG: a failed check
 * stops the process in every build. */
static void test_check_stops_the_process_in_every_build(void **state)
{
	int status;
	pid_t pid;

	(void)state;
	GRAFT_CHECK(1 + 1 == 2);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		GRAFT_CHECK(1 + 1 == 3);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGABRT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32c_matches_known_vector),
		cmocka_unit_test(test_address_format_brackets_ipv6_hosts_only),
		cmocka_unit_test(test_buf_grows_and_encodes_little_endian),
		cmocka_unit_test(test_u64_push_grows_and_keeps_order),
		cmocka_unit_test(test_value_copy_is_deep_and_equal),
		cmocka_unit_test(test_map_sort_keeps_last_duplicate_and_get_finds),
		cmocka_unit_test(test_value_int_and_float_differ_but_zeroes_hash_alike),
		cmocka_unit_test(test_retention_accepts_every_neo4j_form),
		cmocka_unit_test(test_retention_rejects_garbage_and_says_what_is_allowed),
		cmocka_unit_test(test_strerror_covers_every_code),
		cmocka_unit_test(test_log_file_is_not_open_to_others_whatever_the_umask),
		cmocka_unit_test(test_mem_charges_every_level_and_refuses_past_a_limit),
		cmocka_unit_test(test_mem_release_gives_back_what_moved_elsewhere),
		cmocka_unit_test(
			test_mem_chunked_tracker_charges_its_pool_in_chunks),
		cmocka_unit_test(test_mem_chunked_tracker_is_refused_by_its_pool),
		cmocka_unit_test(test_mem_kept_grant_passes_to_the_next_tracker),
		cmocka_unit_test(test_status_codes_are_unique_and_name_their_class),
		cmocka_unit_test(test_check_stops_the_process_in_every_build),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
