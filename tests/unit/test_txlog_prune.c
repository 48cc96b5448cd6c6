/* Unit tests for transaction-log retention: every policy form prunes whole
 * segments oldest first, never the segment being written and never one that
 * holds a transaction the newest checkpoint still needs (keep_from). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "txlog_fixture.h"

#define LAST 60
#define MAX_SEGS 64

/* A log of transactions 1..LAST in small segments (rotation 300 bytes,
 * one batch per transaction). */
static size_t build(struct tfx *f, const char *policy, uint64_t *firsts)
{
	size_t n;

	tfx_open(f, 300, policy);
	for (uint64_t t = 1; t <= LAST; t++)
		assert_int_equal(tfx_append(f, t, 1), GRAFT_OK);
	n = tfx_segments(f, firsts, MAX_SEGS);
	assert_true(n >= 8 && n < MAX_SEGS);
	return n;
}

static void reopen(struct tfx *f, const char *policy)
{
	tfx_close(f);
	tfx_open(f, 300, policy);
}

/* Prunes with keep_from and checks that, of the segments firsts[0..n) the
 * log was built with, exactly the oldest `removed` are gone now, and what
 * that means to readers. */
static void expect_prune(struct tfx *f, uint64_t keep_from,
			 const uint64_t *firsts, size_t n, unsigned removed)
{
	uint64_t now[MAX_SEGS];
	struct txlog_reader *r;
	struct txlog_stats st;
	char needle[512];
	size_t before = tfx_segments(f, now, MAX_SEGS);
	unsigned got = 99;

	if (txlog_prune(f->log, keep_from, &got, f->errmsg) != GRAFT_OK)
		fail_msg("txlog_prune: %s", f->errmsg);
	assert_int_equal(got, removed - (n - before));
	assert_int_equal(tfx_segments(f, now, MAX_SEGS), n - removed);
	for (size_t i = 0; i < n - removed; i++)
		assert_true(now[i] == firsts[removed + i]);
	txlog_get_stats(f->log, &st);
	assert_true(st.segments == n - removed);
	assert_true(txlog_first_txid(f->log) == firsts[removed]);
	assert_true(txlog_last_txid(f->log) == LAST);
	tfx_check_read(f, firsts[removed], LAST);
	if (removed == 0)
		return;
	assert_int_equal(txlog_reader_open(f->dir, firsts[removed] - 1, LAST,
					   &r, f->errmsg), GRAFT_ENOTFOUND);
	snprintf(needle, sizeof needle,
		 "transaction %" PRIu64 " is no longer in the log of %s; the "
		 "oldest retained is %" PRIu64, firsts[removed] - 1, f->dir,
		 firsts[removed]);
	assert_string_equal(f->errmsg, needle);
}

static uint64_t seg_size(const struct tfx *f, uint64_t first)
{
	char path[256];

	tfx_segment_path(f, first, path, sizeof path);
	return tfx_file_size(path);
}

static void set_age(const struct tfx *f, uint64_t first, int64_t seconds)
{
	struct timespec ts[2];
	char path[256];

	tfx_segment_path(f, first, path, sizeof path);
	clock_gettime(CLOCK_REALTIME, &ts[0]);
	ts[0].tv_sec -= seconds;
	ts[1] = ts[0];
	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static void test_txlog_prune_keep_all_keeps_everything(void **state)
{
	struct tfx *f = *state;
	uint64_t firsts[MAX_SEGS];
	size_t n = build(f, "true", firsts);

	expect_prune(f, LAST + 1, firsts, n, 0);
	reopen(f, "keep_all");
	expect_prune(f, LAST + 1, firsts, n, 0);
}

static void test_txlog_prune_keep_none_keeps_what_recovery_needs(void **state)
{
	struct tfx *f = *state;
	uint64_t firsts[MAX_SEGS];
	size_t n = build(f, "false", firsts);

	/* Nothing at or after keep_from goes: the first segment holds 1. */
	expect_prune(f, 1, firsts, n, 0);
	/* keep_from inside segment 3: segments 0..2 go. */
	expect_prune(f, firsts[3] + 1, firsts, n, 3);
	/* keep_from is the first id of segment 4: segment 3 goes too. */
	expect_prune(f, firsts[4], firsts, n, 4);
	/* Everything logged is checkpointed: all but the segment written. */
	reopen(f, "keep_none");
	expect_prune(f, UINT64_MAX, firsts, n, (unsigned)n - 1);
	/* Appending goes on in the remaining segment. */
	assert_int_equal(tfx_append(f, LAST + 1, 1), GRAFT_OK);
}

static void test_txlog_prune_files_keeps_the_newest_n(void **state)
{
	struct tfx *f = *state;
	uint64_t firsts[MAX_SEGS];
	size_t n = build(f, "3 files", firsts);

	expect_prune(f, firsts[1], firsts, n, 1);
	expect_prune(f, LAST + 1, firsts, n, (unsigned)n - 3);
	/* 1 file: the one being written. */
	reopen(f, "1 files");
	expect_prune(f, LAST + 1, firsts, n, (unsigned)n - 1);
}

static void test_txlog_prune_size_keeps_newest_within_the_size(void **state)
{
	struct tfx *f = *state;
	uint64_t firsts[MAX_SEGS], newest4 = 0;
	char policy[64];
	size_t n = build(f, "true", firsts);

	for (size_t i = n - 4; i < n; i++)
		newest4 += seg_size(f, firsts[i]);
	snprintf(policy, sizeof policy, "%" PRIu64 " size", newest4);
	reopen(f, policy);
	expect_prune(f, LAST + 1, firsts, n, (unsigned)n - 4);
	/* One byte less and the fourth newest no longer fits. */
	snprintf(policy, sizeof policy, "%" PRIu64 " size", newest4 - 1);
	reopen(f, policy);
	expect_prune(f, LAST + 1, firsts, n, (unsigned)n - 3);
	/* Smaller than the current segment: that one stays all the same. */
	reopen(f, "1 size");
	expect_prune(f, LAST + 1, firsts, n, (unsigned)n - 1);
}

static void test_txlog_prune_txs_keeps_fewest_newest_holding_n(void **state)
{
	struct tfx *f = *state;
	uint64_t firsts[MAX_SEGS];
	char policy[64];
	size_t n = build(f, "200k txs", firsts);

	expect_prune(f, LAST + 1, firsts, n, 0);
	/* The newest 4 hold LAST - firsts[n-4] + 1; one more needs a 5th. */
	snprintf(policy, sizeof policy, "%" PRIu64 " txs",
		 LAST - firsts[n - 4] + 2);
	reopen(f, policy);
	expect_prune(f, LAST + 1, firsts, n, (unsigned)n - 5);
	snprintf(policy, sizeof policy, "%" PRIu64 " entries",
		 LAST - firsts[n - 3] + 1);
	reopen(f, policy);
	expect_prune(f, LAST + 1, firsts, n, (unsigned)n - 3);
}

static void test_txlog_prune_hours_and_days_go_by_last_write(void **state)
{
	struct tfx *f = *state;
	uint64_t firsts[MAX_SEGS];
	size_t n = build(f, "2 hours", firsts);

	for (size_t i = 0; i < 4; i++)
		set_age(f, firsts[i], 3 * 3600);
	/* keep_from still rules. */
	expect_prune(f, firsts[2], firsts, n, 2);
	expect_prune(f, LAST + 1, firsts, n, 4);
	reopen(f, "2 days");
	set_age(f, firsts[4], 3 * 86400);
	set_age(f, firsts[5], 86400);
	/* Oldest first: segment 7 is old, but 5 and 6 are not. */
	set_age(f, firsts[7], 5 * 86400);
	expect_prune(f, LAST + 1, firsts, n, 5);
	/* Even the segment written to is kept when it is old. */
	set_age(f, firsts[n - 1], 9 * 86400);
	for (size_t i = 5; i < n - 1; i++)
		set_age(f, firsts[i], 9 * 86400);
	expect_prune(f, LAST + 1, firsts, n, (unsigned)n - 1);
}

static void test_txlog_prune_time_with_size_cap(void **state)
{
	struct tfx *f = *state;
	uint64_t firsts[MAX_SEGS], total = 0;
	unsigned k = 0;
	size_t n = build(f, "2 days 2G", firsts);

	set_age(f, firsts[0], 3 * 86400);
	expect_prune(f, LAST + 1, firsts, n, 1);
	/* A 1K cap: the oldest go, however recent, until the rest fit. */
	for (size_t i = 1; i < n; i++)
		total += seg_size(f, firsts[i]);
	for (k = 1; total > 1024; k++)
		total -= seg_size(f, firsts[k]);
	assert_true(k > 2 && k < n);
	reopen(f, "2 days 1K");
	expect_prune(f, LAST + 1, firsts, n, k);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, tfx_setup, tfx_teardown)
	const struct CMUnitTest tests[] = {
		T(test_txlog_prune_keep_all_keeps_everything),
		T(test_txlog_prune_keep_none_keeps_what_recovery_needs),
		T(test_txlog_prune_files_keeps_the_newest_n),
		T(test_txlog_prune_size_keeps_newest_within_the_size),
		T(test_txlog_prune_txs_keeps_fewest_newest_holding_n),
		T(test_txlog_prune_hours_and_days_go_by_last_write),
		T(test_txlog_prune_time_with_size_cap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
