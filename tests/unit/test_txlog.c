/* Unit tests for the transaction log: append, reopen and read back; group
 * commit; rotation; what open does with torn tails and with damage; every
 * retention policy; disk-full failures for real (RLIMIT_FSIZE); closing. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "txlog/txlog_int.h"
#include "txlog_fixture.h"

#define NO_LIMIT UINT64_MAX

static void test_txlog_appends_reopens_and_reads_back(void **state)
{
	struct tfx *f = *state;
	struct txlog_stats st;

	tfx_open(f, 0, "true");
	assert_true(txlog_first_txid(f->log) == 0);
	assert_true(txlog_last_txid(f->log) == 0);
	for (uint64_t t = 1; t <= 100; t++)
		assert_int_equal(tfx_append(f, t, 1), GRAFT_OK);
	assert_true(txlog_first_txid(f->log) == 1);
	assert_true(txlog_last_txid(f->log) == 100);
	txlog_get_stats(f->log, &st);
	assert_true(st.appends == 100 && st.batches == 100);
	assert_true(st.segments == 1);
	tfx_close(f);

	tfx_open(f, 0, "true");
	assert_true(txlog_first_txid(f->log) == 1);
	assert_true(txlog_last_txid(f->log) == 100);
	tfx_check_read(f, 1, 100);
	tfx_check_read(f, 50, 60);
	/* And appending continues where it stopped. */
	assert_int_equal(tfx_append(f, 101, 3), GRAFT_OK);
	tfx_check_read(f, 99, 103);
}

static void test_txlog_refuses_wrong_txid_and_empty_record(void **state)
{
	struct tfx *f = *state;
	struct txlog_append_req req;

	tfx_open(f, 0, "true");
	assert_int_equal(tfx_append(f, 1, 2), GRAFT_OK);
	assert_int_equal(txlog_append(f->log, &req, 2, "x", 1, NULL),
			 GRAFT_EINVAL);
	assert_int_equal(txlog_append(f->log, &req, 4, "x", 1, NULL),
			 GRAFT_EINVAL);
	assert_int_equal(txlog_append(f->log, &req, 3, "x", 0, NULL),
			 GRAFT_EINVAL);
	assert_int_equal(tfx_append(f, 3, 1), GRAFT_OK);
}

static void test_txlog_group_commit_batches_queued_appends(void **state)
{
	struct tfx *f = *state;
	struct txlog_stats st;

	tfx_open(f, 0, "true");
	/* 64 appends at once: the first starts a batch, the other 63 wait for
	 * it and go together. */
	assert_int_equal(tfx_append(f, 1, 64), GRAFT_OK);
	txlog_get_stats(f->log, &st);
	assert_true(st.appends == 64);
	assert_true(st.batches == 2);
	/* Segment creation (file, directory) and one fdatasync per batch. */
	assert_true(st.fsyncs == 4);
	tfx_check_read(f, 1, 64);
}

static void frame_cb(struct txlog_append_req *req, int status)
{
	*(int *)req->data = status;
}

static void sync_cb(struct txlog_sync_req *req, int status)
{
	*(int *)req->data = status;
}

/* Syncs f's log and runs the loop until the callback, which never runs
 * from inside txlog_sync; returns its status. */
static int sync_now(struct tfx *f)
{
	int status = -1;
	struct txlog_sync_req req = {.data = &status};

	assert_int_equal(txlog_sync(f->log, &req, sync_cb), GRAFT_OK);
	assert_int_equal(status, -1);
	while (status == -1)
		uv_run(&f->loop, UV_RUN_ONCE);
	return status;
}

/* A core's log is derived from its Raft log: its batches cost no
 * fdatasync, txlog_sync does one, and finishing a segment syncs it (only
 * the last segment may lose its tail). */
static void test_txlog_derived_log_syncs_only_when_asked_and_at_rotation(
	void **state)
{
	struct tfx *f = *state;
	struct txlog_stats st;
	uint64_t firsts[64];
	size_t n;

	f->o.derived = true;
	tfx_open(f, 0, "true");
	assert_int_equal(tfx_append(f, 1, 64), GRAFT_OK);
	txlog_get_stats(f->log, &st);
	assert_true(st.batches == 2);
	assert_true(st.fsyncs == 2); /* segment creation only */
	assert_int_equal(sync_now(f), GRAFT_OK);
	txlog_get_stats(f->log, &st);
	assert_true(st.fsyncs == 3);
	tfx_check_read(f, 1, 64);
	tfx_close(f);

	tfx_open(f, 1024, "true");
	for (uint64_t t = 65; t <= 200; t += 10)
		assert_int_equal(tfx_append(f, t, 10), GRAFT_OK);
	txlog_get_stats(f->log, &st);
	n = tfx_segments(f, firsts, 64);
	assert_true(n >= 4);
	/* Per new segment: its creation (2) and the finished one's sync. */
	assert_true(st.fsyncs == 3 * (n - 1));
	tfx_check_read(f, 1, 200);
}

/* Appends queued when the sync is asked are written before it is done;
 * a log that is not derived answers it too. */
static void test_txlog_sync_covers_appends_queued_before_it(void **state)
{
	struct tfx *f = *state;
	uint8_t rec[TFX_MAX_RECORD];
	struct txlog_append_req reqs[3];
	int st[3] = {-1, -1, -1};

	for (int derived = 0; derived < 2; derived++) {
		f->o.derived = derived;
		tfx_open(f, 0, "true");
		for (uint64_t i = 0; i < 3; i++) {
			uint64_t t = 3 * (uint64_t)derived + i + 1;
			st[i] = -1;
			reqs[i].data = &st[i];
			assert_int_equal(txlog_append(f->log, &reqs[i], t, rec,
						      tfx_record(t, rec),
						      frame_cb),
					 GRAFT_OK);
		}
		assert_int_equal(sync_now(f), GRAFT_OK);
		for (int i = 0; i < 3; i++)
			assert_int_equal(st[i], GRAFT_OK);
		tfx_close(f);
	}
}

/* Records encoded in place: the first of a batch trades buffers with the
 * log, one behind a queued append is copied; both read back as written. */
static void test_txlog_append_frame_logs_records_encoded_in_place(void **state)
{
	struct tfx *f = *state;
	struct txlog_append_req req[3];
	uint8_t rec[TFX_MAX_RECORD];
	int status[3] = {-1, -1, -1};
	struct graft_buf b;

	tfx_open(f, 0, "true");
	graft_buf_init(&b);
	/* 1 starts a batch at once, 2 waits alone (traded), 3 behind it
	 * (copied). */
	for (uint64_t t = 1; t <= 3; t++) {
		assert_int_equal(txlog_frame_begin(&b), GRAFT_OK);
		assert_int_equal(graft_buf_append(&b, rec, tfx_record(t, rec)),
				 GRAFT_OK);
		req[t - 1].data = &status[t - 1];
		assert_int_equal(txlog_append_frame(f->log, &req[t - 1], t, &b,
						    frame_cb),
				 GRAFT_OK);
		assert_int_equal(b.len, 0);
	}
	/* A frame without a record, and a wrong txid, are refused. */
	assert_int_equal(txlog_frame_begin(&b), GRAFT_OK);
	assert_int_equal(txlog_append_frame(f->log, &req[0], 4, &b, frame_cb),
			 GRAFT_EINVAL);
	assert_int_equal(graft_buf_append(&b, "x", 1), GRAFT_OK);
	assert_int_equal(txlog_append_frame(f->log, &req[0], 5, &b, frame_cb),
			 GRAFT_EINVAL);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	for (int i = 0; i < 3; i++)
		assert_int_equal(status[i], GRAFT_OK);
	graft_buf_free(&b);
	tfx_check_read(f, 1, 3);
}

struct chain {
	struct txlog *log;
	uint64_t *next_txid;
	unsigned left;
	int failures;
	struct txlog_append_req req;
};

static void chain_cb(struct txlog_append_req *req, int status)
{
	struct chain *c = req->data;
	uint8_t rec[TFX_MAX_RECORD];

	if (status != GRAFT_OK)
		c->failures++;
	if (c->left-- == 0)
		return;
	size_t len = tfx_record(*c->next_txid, rec);
	if (txlog_append(c->log, &c->req, *c->next_txid, rec, len,
			 chain_cb) != GRAFT_OK)
		c->failures++;
	(*c->next_txid)++;
}

static void test_txlog_group_commit_batches_committers_chained_from_callbacks(
	void **state)
{
	struct tfx *f = *state;
	struct chain c[64];
	struct txlog_stats st;
	uint64_t next = 1;

	tfx_open(f, 0, "true");
	/* Each committer issues its next append from its callback, as the
	 * database does: appends made during callbacks must share a batch. */
	for (int i = 0; i < 64; i++) {
		c[i] = (struct chain){.log = f->log, .next_txid = &next,
				      .left = 10};
		c[i].req.data = &c[i];
		chain_cb(&c[i].req, GRAFT_OK);
	}
	uv_run(&f->loop, UV_RUN_DEFAULT);
	for (int i = 0; i < 64; i++)
		assert_int_equal(c[i].failures, 0);
	txlog_get_stats(f->log, &st);
	assert_true(st.appends == 640);
	assert_true(st.batches <= 640 / 32);
	assert_true(st.fsyncs <= st.batches + 2);
	tfx_check_read(f, 1, 640);
}

static void test_txlog_rotates_and_reader_crosses_segments(void **state)
{
	struct tfx *f = *state;
	struct txlog_stats st;
	uint64_t firsts[64];
	size_t n;

	tfx_open(f, 1024, "true");
	for (uint64_t t = 1; t <= 300; t += 10)
		assert_int_equal(tfx_append(f, t, 10), GRAFT_OK);
	txlog_get_stats(f->log, &st);
	n = tfx_segments(f, firsts, 64);
	assert_true(n >= 10);
	assert_true(st.segments == n);
	assert_true(firsts[0] == 1);
	for (size_t i = 1; i < n; i++) {
		char path[256];
		/* Every finished segment reached the rotation size. */
		tfx_segment_path(f, firsts[i - 1], path, sizeof path);
		assert_true(tfx_file_size(path) >= 1024);
	}
	tfx_check_read(f, 1, 300);
	/* Starting inside a later segment. */
	tfx_check_read(f, firsts[n / 2] + 1, 300);
	tfx_close(f);
	tfx_open(f, 1024, "true");
	assert_true(txlog_first_txid(f->log) == 1);
	assert_true(txlog_last_txid(f->log) == 300);
	tfx_check_read(f, 1, 300);
}

/* Offset of txid's frame in a single-segment log starting at 1. */
static uint64_t frame_offset(uint64_t txid)
{
	uint8_t rec[TFX_MAX_RECORD];
	uint64_t off = 32;

	for (uint64_t t = 1; t < txid; t++)
		off += TXLOG_FRAME_HEADER + tfx_record(t, rec);
	return off;
}

static void test_txlog_truncates_torn_tail(void **state)
{
	struct tfx *f = *state;
	uint8_t frame[TFX_MAX_RECORD + TXLOG_FRAME_HEADER], rec[TFX_MAX_RECORD];
	uint8_t zeros[4096] = {0};
	char path[256], needle[512];

	tfx_open(f, 0, "true");
	assert_int_equal(tfx_append(f, 1, 10), GRAFT_OK);
	tfx_segment_path(f, 1, path, sizeof path);
	/* What a crash mid-write leaves: a frame cut short, zeros from a
	 * block allocated but never written, a whole frame with a bad CRC. */
	for (int kind = 0; kind < 3; kind++) {
		uint64_t last = 10 + (uint64_t)kind, size;
		uint32_t len = (uint32_t)tfx_record(last + 1, rec);
		size_t n;
		tfx_close(f);
		size = tfx_file_size(path);
		n = tfx_frame(last + 1, rec, len, size, frame);
		if (kind == 0)
			tfx_append_bytes(path, frame, n - 7);
		else if (kind == 1)
			tfx_append_bytes(path, zeros, sizeof zeros);
		else {
			frame[n - 1] ^= 0x40;
			tfx_append_bytes(path, frame, n);
		}
		tfx_open(f, 0, "true");
		assert_true(tfx_file_size(path) == size);
		assert_true(txlog_last_txid(f->log) == last);
		snprintf(needle, sizeof needle,
			 "%s: torn tail at offset %" PRIu64, path, size);
		assert_true(tfx_logged(f, needle));
		snprintf(needle, sizeof needle, "%" PRIu64 " bytes moved aside "
			 "to %s.cut-%" PRIu64,
			 (uint64_t)(kind == 0 ? n - 7 : kind == 1 ? 4096 : n),
			 path, size);
		assert_true(tfx_logged(f, needle));
		assert_int_equal(tfx_append(f, last + 1, 1), GRAFT_OK);
	}
	tfx_close(f);
	tfx_open(f, 0, "true");
	tfx_check_read(f, 1, 13);
}

static void test_txlog_flipped_byte_mid_log_is_corrupt(void **state)
{
	struct tfx *f = *state;
	char path[256], needle[64];
	uint64_t off = frame_offset(5), size;
	uint8_t b = 0x5a;

	tfx_open(f, 0, "true");
	assert_int_equal(tfx_append(f, 1, 20), GRAFT_OK);
	tfx_close(f);
	tfx_segment_path(f, 1, path, sizeof path);
	size = tfx_file_size(path);
	tfx_write_at(path, off + 20, &b, 1);
	assert_int_equal(tfx_try_open(f), GRAFT_ECORRUPT);
	assert_null(f->log);
	assert_non_null(strstr(f->errmsg, path));
	snprintf(needle, sizeof needle, "offset %" PRIu64 " ", off);
	assert_non_null(strstr(f->errmsg, needle));
	assert_non_null(strstr(f->errmsg, "valid frame follows"));
	assert_non_null(strstr(f->errmsg, "backup"));
	/* Nothing was cut. */
	assert_true(tfx_file_size(path) == size);
}

/* Power loss mid-batch: a later page of the last batch reached the disk, an
 * earlier block did not and reads back as zeros. That batch was never
 * acknowledged, so it is cut off; the same block holding garbage instead is
 * damage, not a torn write, and open refuses. */
static void test_txlog_cuts_batch_with_unwritten_block(void **state)
{
	struct tfx *f = *state;
	uint8_t block[4096];
	char path[256];
	uint64_t start;

	tfx_open(f, 0, "true");
	assert_int_equal(tfx_append(f, 1, 200), GRAFT_OK);
	tfx_close(f);
	tfx_segment_path(f, 1, path, sizeof path);
	start = (frame_offset(120) + 4095) / 4096 * 4096;
	assert_true(start + 4096 < tfx_file_size(path));

	memset(block, 0xa5, sizeof block);
	tfx_write_at(path, start, block, sizeof block);
	assert_int_equal(tfx_try_open(f), GRAFT_ECORRUPT);
	assert_non_null(strstr(f->errmsg, "valid frame follows"));

	/* The batch is {2..200} (tfx_append's first record goes alone): it
	 * is cut whole, from transaction 2, and the log appended after the
	 * cut opens again. */
	memset(block, 0, sizeof block);
	tfx_write_at(path, start, block, sizeof block);
	tfx_open(f, 0, "true");
	assert_true(txlog_last_txid(f->log) == 1);
	assert_true(tfx_file_size(path) == frame_offset(2));
	assert_true(tfx_logged(f, "was never written (power loss)"));
	tfx_check_read(f, 1, 1);
	assert_int_equal(tfx_append(f, 2, 1), GRAFT_OK);
	tfx_close(f);
	tfx_open(f, 0, "true");
	tfx_check_read(f, 1, 2);
}

static void test_txlog_damaged_segment_header_is_corrupt(void **state)
{
	struct tfx *f = *state;
	char path[256];
	uint8_t b = 'X';

	tfx_open(f, 0, "true");
	assert_int_equal(tfx_append(f, 1, 5), GRAFT_OK);
	tfx_close(f);
	tfx_segment_path(f, 1, path, sizeof path);
	tfx_write_at(path, 17, &b, 1); /* inside the first txid */
	assert_int_equal(tfx_try_open(f), GRAFT_ECORRUPT);
	assert_non_null(strstr(f->errmsg, path));
	assert_non_null(strstr(f->errmsg, "offset 0"));
	assert_non_null(strstr(f->errmsg, "header checksum"));
}

static void test_txlog_detects_txid_gap_in_a_segment(void **state)
{
	struct tfx *f = *state;
	uint8_t frame[TFX_MAX_RECORD + TXLOG_FRAME_HEADER], rec[TFX_MAX_RECORD];
	char path[256];
	size_t n;

	tfx_open(f, 0, "true");
	assert_int_equal(tfx_append(f, 1, 5), GRAFT_OK);
	tfx_close(f);
	tfx_segment_path(f, 1, path, sizeof path);
	/* A valid frame, but for transaction 7 where 6 should follow. */
	n = tfx_frame(7, rec, (uint32_t)tfx_record(7, rec),
		      tfx_file_size(path), frame);
	tfx_append_bytes(path, frame, n);
	assert_int_equal(tfx_try_open(f), GRAFT_ECORRUPT);
	assert_non_null(strstr(f->errmsg, path));
	assert_non_null(strstr(f->errmsg, "holds transaction 7 where 6"));
}

static void test_txlog_detects_txid_gap_between_segments(void **state)
{
	struct tfx *f = *state;
	uint64_t firsts[64];
	char path[256];
	size_t n;

	tfx_open(f, 512, "true");
	for (uint64_t t = 1; t <= 60; t += 3)
		assert_int_equal(tfx_append(f, t, 3), GRAFT_OK);
	tfx_close(f);
	n = tfx_segments(f, firsts, 64);
	assert_true(n >= 4);
	tfx_segment_path(f, firsts[1], path, sizeof path);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(tfx_try_open(f), GRAFT_ECORRUPT);
	tfx_segment_path(f, firsts[2], path, sizeof path);
	assert_non_null(strstr(f->errmsg, path));
	assert_non_null(strstr(f->errmsg, "transactions are missing"));
}

static void set_fsize_limit(rlim_t limit)
{
	struct rlimit rl;

	assert_int_equal(getrlimit(RLIMIT_FSIZE, &rl), 0);
	rl.rlim_cur = limit == NO_LIMIT ? rl.rlim_max : limit;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &rl), 0);
}

static void test_txlog_disk_full_fails_batch_then_retry_succeeds(void **state)
{
	struct tfx *f = *state;
	struct txlog_stats st;
	char path[256];
	uint64_t size;

	signal(SIGXFSZ, SIG_IGN);
	tfx_open(f, 0, "true");
	assert_int_equal(tfx_append(f, 1, 10), GRAFT_OK);
	tfx_segment_path(f, 1, path, sizeof path);
	size = tfx_file_size(path);
	/* Room for part of the next batch only: write() fails with EFBIG
	 * after a short write. */
	set_fsize_limit(size + 40);
	assert_int_equal(tfx_append(f, 11, 40), GRAFT_ENOSPC);
	set_fsize_limit(NO_LIMIT);
	assert_true(tfx_file_size(path) == size);
	assert_true(txlog_last_txid(f->log) == 10);
	assert_true(tfx_logged(f, path));
	assert_true(tfx_logged(f, "cannot write: File too large"));
	/* The same transactions again, now with room. */
	assert_int_equal(tfx_append(f, 11, 40), GRAFT_OK);
	txlog_get_stats(f->log, &st);
	assert_true(st.appends == 50);
	tfx_close(f);
	tfx_open(f, 0, "true");
	tfx_check_read(f, 1, 50);
	signal(SIGXFSZ, SIG_DFL);
}

static void test_txlog_failed_segment_creation_leaves_nothing_behind(
	void **state)
{
	struct tfx *f = *state;
	uint64_t firsts[4];

	signal(SIGXFSZ, SIG_IGN);
	tfx_open(f, 0, "true");
	set_fsize_limit(10); /* not even a segment header fits */
	assert_int_equal(tfx_append(f, 1, 3), GRAFT_ENOSPC);
	set_fsize_limit(NO_LIMIT);
	assert_int_equal(tfx_segments(f, firsts, 4), 0);
	assert_int_equal(tfx_append(f, 1, 3), GRAFT_OK);
	tfx_close(f);
	tfx_open(f, 0, "true");
	tfx_check_read(f, 1, 3);
	signal(SIGXFSZ, SIG_DFL);
}

static void test_txlog_header_only_last_segment_opens(void **state)
{
	struct tfx *f = *state;
	struct txlog_stats st;
	uint64_t firsts[8];
	char path[256];

	/* Rotation after every batch: also proves that a segment without
	 * frames is written to, not replaced, whatever its size. */
	signal(SIGXFSZ, SIG_IGN);
	tfx_open(f, 1, "true");
	assert_int_equal(tfx_append(f, 1, 1), GRAFT_OK);
	/* Segment 1 is full: the next batch creates txlog.<2> (header only),
	 * then its write fails, so the segment stays without a frame. */
	set_fsize_limit(40);
	assert_int_equal(tfx_append(f, 2, 2), GRAFT_ENOSPC);
	set_fsize_limit(NO_LIMIT);
	assert_int_equal(tfx_segments(f, firsts, 8), 2);
	tfx_segment_path(f, 2, path, sizeof path);
	assert_true(tfx_file_size(path) == 32);
	tfx_close(f);
	tfx_open(f, 1, "true");
	assert_true(txlog_last_txid(f->log) == 1);
	assert_int_equal(tfx_append(f, 2, 2), GRAFT_OK);
	/* Batches {2} and {3}: segments 1, 2 and 3, each listed once. */
	txlog_get_stats(f->log, &st);
	assert_int_equal(tfx_segments(f, firsts, 8), 3);
	assert_true(st.segments == 3);
	tfx_check_read(f, 1, 3);
	signal(SIGXFSZ, SIG_DFL);
}

static void test_txlog_open_removes_interrupted_segment_creation(void **state)
{
	struct tfx *f = *state;
	char path[256];
	struct stat st;

	tfx_open(f, 0, "true");
	assert_int_equal(tfx_append(f, 1, 2), GRAFT_OK);
	tfx_close(f);
	snprintf(path, sizeof path, "%s/txlog.%020d.tmp", f->dir, 3);
	tfx_append_bytes(path, "", 0);
	tfx_open(f, 0, "true");
	assert_int_equal(stat(path, &st), -1);
	assert_true(txlog_last_txid(f->log) == 2);
}

struct close_order {
	struct txlog_append_req *reqs;
	int seq, closed_at;
	int status[10];
};

static void close_append_cb(struct txlog_append_req *req, int status)
{
	struct close_order *o = req->data;

	assert_ptr_equal(req, &o->reqs[o->seq]); /* in order */
	o->status[o->seq++] = status;
}

static void close_cb(struct txlog *log, void *arg)
{
	struct close_order *o = arg;

	(void)log;
	o->closed_at = o->seq++;
}

static void test_txlog_close_fails_queued_appends(void **state)
{
	struct tfx *f = *state;
	struct txlog_append_req reqs[10], late;
	struct close_order o = {.reqs = reqs, .closed_at = -1};
	uint8_t rec[TFX_MAX_RECORD];

	tfx_open(f, 0, "true");
	for (int i = 0; i < 10; i++) {
		size_t len = tfx_record((uint64_t)i + 1, rec);
		reqs[i].data = &o;
		assert_int_equal(txlog_append(f->log, &reqs[i], (uint64_t)i + 1,
					      rec, len, close_append_cb),
				 GRAFT_OK);
	}
	/* Append 1 is in flight, 2..10 are queued. */
	txlog_close(f->log, close_cb, &o);
	assert_int_equal(txlog_append(f->log, &late, 11, rec, 5,
				      close_append_cb), GRAFT_ESHUTDOWN);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	f->log = NULL;
	assert_int_equal(o.status[0], GRAFT_OK);
	for (int i = 1; i < 10; i++)
		assert_int_equal(o.status[i], GRAFT_ESHUTDOWN);
	assert_int_equal(o.closed_at, 10);
	tfx_open(f, 0, "true");
	assert_true(txlog_last_txid(f->log) == 1);
}

static void test_txlog_set_base_starts_after_a_checkpoint(void **state)
{
	struct tfx *f = *state;
	struct txlog_reader *r;
	uint64_t firsts[4];

	tfx_open(f, 0, "true");
	txlog_set_base(f->log, 1000);
	assert_int_equal(tfx_append(f, 1001, 5), GRAFT_OK);
	assert_true(txlog_first_txid(f->log) == 1001);
	tfx_close(f);
	tfx_open(f, 0, "true");
	assert_true(txlog_first_txid(f->log) == 1001);
	assert_true(txlog_last_txid(f->log) == 1005);
	/* Below the newest logged transaction: refused, nothing changes. */
	txlog_set_base(f->log, 1002);
	assert_true(txlog_last_txid(f->log) == 1005);
	/* A checkpoint beyond the log: the log restarts after it. */
	txlog_set_base(f->log, 2000);
	assert_true(txlog_last_txid(f->log) == 0);
	assert_int_equal(tfx_segments(f, firsts, 4), 0);
	assert_int_equal(tfx_append(f, 2001, 2), GRAFT_OK);
	tfx_close(f);
	tfx_open(f, 0, "true");
	assert_true(txlog_first_txid(f->log) == 2001);
	tfx_check_read(f, 2001, 2002);
	assert_int_equal(txlog_reader_open(f->dir, 1001, 2002, &r, f->errmsg),
			 GRAFT_ENOTFOUND);
}

static void test_txlog_reader_follows_a_log_being_written(void **state)
{
	struct tfx *f = *state;
	uint8_t want[TFX_MAX_RECORD];
	struct txlog_reader *r;
	const void *rec;
	uint64_t txid, t = 1, firsts[64];
	size_t len, k;

	tfx_open(f, 400, "true");
	assert_int_equal(txlog_reader_open(f->dir, 1, UINT64_MAX, &r,
					   f->errmsg), GRAFT_OK);
	assert_int_equal(txlog_reader_next(r, &txid, &rec, &len, f->errmsg),
			 GRAFT_ENOTFOUND);
	for (uint64_t end = 5; end <= 60; end += 5) {
		assert_int_equal(tfx_append(f, t, (unsigned)(end - t + 1)),
				 GRAFT_OK);
		for (; t <= end; t++) {
			assert_int_equal(txlog_reader_next(r, &txid, &rec, &len,
							   f->errmsg),
					 GRAFT_OK);
			assert_true(txid == t);
			assert_int_equal(len, tfx_record(t, want));
			assert_memory_equal(rec, want, len);
		}
		assert_int_equal(txlog_reader_next(r, &txid, &rec, &len,
						   f->errmsg), GRAFT_ENOTFOUND);
	}
	k = tfx_segments(f, firsts, 64);
	assert_true(k > 3);
	txlog_reader_close(r);
}

static void test_txlog_reader_takes_a_frame_in_progress_for_the_end(
	void **state)
{
	struct tfx *f = *state;
	uint8_t frame[TFX_MAX_RECORD + TXLOG_FRAME_HEADER], rec1[TFX_MAX_RECORD];
	struct txlog_reader *r;
	const void *rec;
	uint64_t txid;
	char path[256];
	size_t len, n;

	tfx_open(f, 0, "true");
	assert_int_equal(tfx_append(f, 1, 3), GRAFT_OK);
	assert_int_equal(txlog_reader_open(f->dir, 3, UINT64_MAX, &r,
					   f->errmsg), GRAFT_OK);
	assert_int_equal(txlog_reader_next(r, &txid, &rec, &len, f->errmsg),
			 GRAFT_OK);
	/* Half of frame 4 is there, as while the writer's write() runs: the
	 * end for now, not damage. The writer then writes it whole. */
	tfx_segment_path(f, 1, path, sizeof path);
	n = tfx_frame(4, rec1, (uint32_t)tfx_record(4, rec1),
		      tfx_file_size(path), frame);
	tfx_append_bytes(path, frame, n / 2);
	assert_int_equal(txlog_reader_next(r, &txid, &rec, &len, f->errmsg),
			 GRAFT_ENOTFOUND);
	assert_int_equal(tfx_append(f, 4, 1), GRAFT_OK);
	assert_int_equal(txlog_reader_next(r, &txid, &rec, &len, f->errmsg),
			 GRAFT_OK);
	assert_true(txid == 4);
	assert_int_equal(txlog_reader_next(r, &txid, &rec, &len, f->errmsg),
			 GRAFT_ENOTFOUND);
	txlog_reader_close(r);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, tfx_setup, tfx_teardown)
	const struct CMUnitTest tests[] = {
		T(test_txlog_appends_reopens_and_reads_back),
		T(test_txlog_refuses_wrong_txid_and_empty_record),
		T(test_txlog_group_commit_batches_queued_appends),
		T(test_txlog_derived_log_syncs_only_when_asked_and_at_rotation),
		T(test_txlog_sync_covers_appends_queued_before_it),
		T(test_txlog_append_frame_logs_records_encoded_in_place),
		T(test_txlog_group_commit_batches_committers_chained_from_callbacks),
		T(test_txlog_rotates_and_reader_crosses_segments),
		T(test_txlog_truncates_torn_tail),
		T(test_txlog_flipped_byte_mid_log_is_corrupt),
		T(test_txlog_cuts_batch_with_unwritten_block),
		T(test_txlog_damaged_segment_header_is_corrupt),
		T(test_txlog_detects_txid_gap_in_a_segment),
		T(test_txlog_detects_txid_gap_between_segments),
		T(test_txlog_disk_full_fails_batch_then_retry_succeeds),
		T(test_txlog_failed_segment_creation_leaves_nothing_behind),
		T(test_txlog_header_only_last_segment_opens),
		T(test_txlog_open_removes_interrupted_segment_creation),
		T(test_txlog_close_fails_queued_appends),
		T(test_txlog_set_base_starts_after_a_checkpoint),
		T(test_txlog_reader_follows_a_log_being_written),
		T(test_txlog_reader_takes_a_frame_in_progress_for_the_end),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
