/* Unit tests for what open does with a zeroed 4 KiB block, wherever it
 * lands: only the last group-commit batch may be torn (it is cut and its
 * bytes moved aside); a block in any earlier batch is damage to
 * acknowledged transactions and open refuses, naming file and offset and
 * changing nothing. A torn batch is cut whole, and the log appended after a
 * cut opens again. Also: cut bytes are never overwritten, and version 1
 * segments (no batch bounds) are still read. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "txlog/txlog_int.h"
#include "txlog_fixture.h"
#include "util/crc32c.h"

#define BLOCK 4096

/* Batch sizes of the layout: small and large, the last one large enough
 * to hold whole blocks. */
static const unsigned batch_sizes[] = {40, 1, 25, 60, 3, 80, 7, 90};
#define N_BATCHES (sizeof batch_sizes / sizeof batch_sizes[0])

struct layout {
	uint64_t n;          /* records, txids 1..n */
	uint64_t *off;       /* off[t]: offset of txid t's frame; off[n+1]: end */
	uint64_t *batch;     /* batch[t]: first txid of t's batch */
	uint64_t last_batch; /* first txid of the last batch */
};

static void layout_build(struct tfx *f, struct layout *l)
{
	uint8_t rec[TFX_MAX_RECORD];
	uint64_t t = 1;

	l->n = 0;
	l->last_batch = 0;
	for (size_t i = 0; i < N_BATCHES; i++)
		l->n += batch_sizes[i];
	l->off = calloc(l->n + 2, sizeof *l->off);
	l->batch = calloc(l->n + 2, sizeof *l->batch);
	assert_non_null(l->off);
	assert_non_null(l->batch);
	l->off[1] = TXLOG_HEADER_SIZE;
	tfx_open(f, 0, "true");
	/* tfx_append's first record starts a batch of its own at once; the
	 * others, queued meanwhile, make the next one. */
	for (size_t i = 0; i < N_BATCHES; i++) {
		assert_int_equal(tfx_append(f, t, batch_sizes[i]), GRAFT_OK);
		for (unsigned k = 0; k < batch_sizes[i]; k++, t++) {
			if (k < 2)
				l->last_batch = t;
			l->batch[t] = l->last_batch;
			l->off[t + 1] = l->off[t] + TXLOG_FRAME_HEADER +
					tfx_record(t, rec);
		}
	}
	tfx_close(f);
}

static void layout_free(struct layout *l)
{
	free(l->off);
	free(l->batch);
}

/* The txid whose frame holds byte b (b past the header). */
static uint64_t frame_at(const struct layout *l, uint64_t b)
{
	uint64_t t = 1;

	while (l->off[t + 1] <= b)
		t++;
	return t;
}

static void put_file(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0640);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, p, n), (ssize_t)n);
	close(fd);
}

static void assert_file_is(const char *path, const uint8_t *p, size_t n)
{
	size_t got;
	uint8_t *q = tfx_slurp(path, &got);

	assert_true(got == n);
	assert_memory_equal(q, p, n);
	free(q);
}

/* A zeroed block in the last batch (the frame of txid t damaged): open
 * cuts that whole batch, from its first frame, keeps every batch before it,
 * and the cut bytes are in the file beside the segment that the WARN line
 * names. A batch appended after the cut reopens cleanly: a segment kept
 * ending inside the torn batch was refused at the next open after a crash
 * (crash_kill9 caught it). */
static void expect_cut(struct tfx *f, const struct layout *l, uint64_t t,
		       const char *path, const uint8_t *damaged, size_t size)
{
	char aside[512], needle[600];
	uint64_t first = l->batch[t], at = l->off[first];

	tfx_open(f, 0, "true");
	assert_true(txlog_last_txid(f->log) == first - 1);
	assert_true(tfx_file_size(path) == at);
	snprintf(aside, sizeof aside, "%s.cut-%" PRIu64, path, at);
	assert_file_is(aside, damaged + at, size - at);
	snprintf(needle, sizeof needle, "%s: torn tail at offset %" PRIu64
		 " ", path, at);
	assert_true(tfx_logged(f, needle));
	snprintf(needle, sizeof needle, "moved aside to %s", aside);
	assert_true(tfx_logged(f, needle));
	if (first > 1)
		tfx_check_read(f, 1, first - 1);
	assert_int_equal(tfx_append(f, first, 2), GRAFT_OK);
	tfx_close(f);
	tfx_open(f, 0, "true");
	assert_true(txlog_last_txid(f->log) == first + 1);
	tfx_check_read(f, 1, first + 1);
	tfx_close(f);
	assert_int_equal(unlink(aside), 0);
}

/* A zeroed block anywhere else: refused, naming the segment and the offset
 * of the first damaged frame, and the files are left as they were. */
static void expect_refused(struct tfx *f, uint64_t at, const char *path,
			   const uint8_t *damaged, size_t size)
{
	uint64_t firsts[2];
	char needle[64];
	const char *p;

	assert_int_equal(tfx_try_open(f), GRAFT_ECORRUPT);
	assert_null(f->log);
	assert_non_null(strstr(f->errmsg, path));
	snprintf(needle, sizeof needle, "offset %" PRIu64, at);
	p = strstr(f->errmsg, needle);
	assert_non_null(p);
	assert_true(p[strlen(needle)] == ' ' || p[strlen(needle)] == ':');
	if (at > 0) /* a damaged header is refused in txlog_file_open */
		assert_non_null(strstr(f->errmsg, "backup"));
	assert_file_is(path, damaged, size);
	assert_int_equal(tfx_segments(f, firsts, 2), 1);
}

static void test_txlog_zeroed_block_is_cut_only_in_the_last_batch(
	void **state)
{
	struct tfx *f = *state;
	struct layout l;
	char path[256];
	uint8_t *pristine, *damaged;
	size_t size;
	unsigned cut = 0, refused = 0;

	layout_build(f, &l);
	tfx_segment_path(f, 1, path, sizeof path);
	pristine = tfx_slurp(path, &size);
	assert_true(size == l.off[l.n + 1]);
	damaged = malloc(size);
	assert_non_null(damaged);
	/* Every block of the file, the last one (the tail) included. */
	for (uint64_t b = 0; b < size; b += BLOCK) {
		uint64_t end = b + BLOCK < size ? b + BLOCK : size;
		uint64_t t = b < TXLOG_HEADER_SIZE ? 0 : frame_at(&l, b);
		memcpy(damaged, pristine, size);
		memset(damaged + b, 0, end - b);
		put_file(path, damaged, size);
		/* In the last batch; or taking the header of a batch's first
		 * frame and running to the end of the file, which reads the
		 * same as a batch never written (the one case frames cannot
		 * tell apart, documented in open.c). */
		if (t > 0 && (l.batch[t] == l.last_batch ||
			      (t == l.batch[t] &&
			       b < l.off[t] + TXLOG_FRAME_HEADER &&
			       end == size))) {
			expect_cut(f, &l, t, path, damaged, size);
			cut++;
		} else {
			expect_refused(f, t ? l.off[t] : 0, path, damaged,
				       size);
			refused++;
		}
	}
	/* Both outcomes, at several batch positions. */
	assert_true(cut >= 2);
	assert_true(refused >= 4);
	free(damaged);
	free(pristine);
	layout_free(&l);
}

/* A derived log (a core's, written without fdatasync) may lose any part
 * of its tail in a machine crash: a zeroed block anywhere in the last
 * segment is cut from its batch on, valid batches after it included (the
 * cluster applies them again from Raft), where a log that is not derived
 * refuses to open. */
static void test_txlog_derived_log_cuts_damage_anywhere_in_its_tail(
	void **state)
{
	struct tfx *f = *state;
	struct layout l;
	char path[256], needle[300];
	uint8_t *pristine, *damaged;
	uint64_t b, t, at;
	size_t size;

	layout_build(f, &l);
	tfx_segment_path(f, 1, path, sizeof path);
	pristine = tfx_slurp(path, &size);
	damaged = malloc(size);
	assert_non_null(damaged);
	memcpy(damaged, pristine, size);
	/* A block in the middle of the file: batches follow it. */
	b = (size / 2) & ~(uint64_t)(BLOCK - 1);
	t = frame_at(&l, b);
	assert_true(l.batch[t] != l.last_batch);
	memset(damaged + b, 0, BLOCK);
	put_file(path, damaged, size);
	assert_int_equal(tfx_try_open(f), GRAFT_ECORRUPT);
	f->o.derived = true;
	tfx_open(f, 0, "true");
	at = l.off[l.batch[t]];
	assert_true(txlog_last_txid(f->log) == l.batch[t] - 1);
	assert_true(tfx_file_size(path) == at);
	snprintf(needle, sizeof needle, "%s: torn tail at offset %" PRIu64
		 " ", path, at);
	assert_true(tfx_logged(f, needle));
	assert_true(tfx_logged(f, "applies these transactions again"));
	tfx_check_read(f, 1, l.batch[t] - 1);
	tfx_close(f);
	free(damaged);
	free(pristine);
	layout_free(&l);
}

/* The case: the log's last 4 KiB zeroed while the last batch is a
 * single small transaction. The block reaches back into batches that were
 * acknowledged, so open refuses instead of dropping them. */
static void test_txlog_zeroed_tail_reaching_acknowledged_batches_is_refused(
	void **state)
{
	struct tfx *f = *state;
	uint8_t zeros[BLOCK] = {0};
	char path[256];
	uint64_t size;

	tfx_open(f, 0, "true");
	for (uint64_t t = 1; t <= 200; t++)
		assert_int_equal(tfx_append(f, t, 1), GRAFT_OK);
	tfx_close(f);
	tfx_segment_path(f, 1, path, sizeof path);
	size = tfx_file_size(path);
	tfx_write_at(path, size - BLOCK, zeros, BLOCK);
	assert_int_equal(tfx_try_open(f), GRAFT_ECORRUPT);
	assert_non_null(strstr(f->errmsg, path));
	assert_non_null(strstr(f->errmsg, "was acknowledged"));
	assert_true(tfx_file_size(path) == size);
}

static void test_txlog_second_cut_at_one_offset_keeps_the_first(
	void **state)
{
	struct tfx *f = *state;
	uint8_t junk[100];
	char path[256], aside[512];
	uint64_t size;

	tfx_open(f, 0, "true");
	assert_int_equal(tfx_append(f, 1, 5), GRAFT_OK);
	tfx_close(f);
	tfx_segment_path(f, 1, path, sizeof path);
	size = tfx_file_size(path);
	for (int round = 0; round < 2; round++) {
		memset(junk, 0x11 * (round + 1), sizeof junk);
		tfx_append_bytes(path, junk, sizeof junk);
		tfx_open(f, 0, "true");
		tfx_close(f);
		assert_true(tfx_file_size(path) == size);
	}
	snprintf(aside, sizeof aside, "%s.cut-%" PRIu64, path, size);
	memset(junk, 0x11, sizeof junk);
	assert_file_is(aside, junk, sizeof junk);
	snprintf(aside, sizeof aside, "%s.cut-%" PRIu64 ".1", path, size);
	memset(junk, 0x22, sizeof junk);
	assert_file_is(aside, junk, sizeof junk);
}

/* A crash can leave the last batch's write cut exactly on a frame
 * boundary: every frame present is whole, but the batch's bounds say it
 * goes on. That batch was never acknowledged and is cut whole. */
static void test_txlog_batch_ending_on_a_frame_boundary_is_cut_whole(
	void **state)
{
	struct tfx *f = *state;
	uint8_t rec[TFX_MAX_RECORD];
	char path[256];
	uint64_t batch2, frame4, cut;

	tfx_open(f, 0, "true");
	assert_int_equal(tfx_append(f, 1, 3), GRAFT_OK);
	tfx_close(f);
	tfx_segment_path(f, 1, path, sizeof path);
	batch2 = tfx_file_size(path);
	tfx_open(f, 0, "true");
	assert_int_equal(tfx_append(f, 4, 5), GRAFT_OK);
	tfx_close(f);
	/* Batches {4} and {5..8} (tfx_append's first record goes alone):
	 * cut after the frame of 5. */
	frame4 = TXLOG_FRAME_HEADER + tfx_record(4, rec);
	cut = batch2 + frame4 + TXLOG_FRAME_HEADER + tfx_record(5, rec);
	assert_int_equal(truncate(path, (off_t)cut), 0);
	tfx_open(f, 0, "true");
	assert_true(txlog_last_txid(f->log) == 4);
	assert_true(tfx_file_size(path) == batch2 + frame4);
	assert_int_equal(tfx_append(f, 5, 1), GRAFT_OK);
	tfx_close(f);
	tfx_open(f, 0, "true");
	tfx_check_read(f, 1, 5);
	tfx_close(f);
}

/* A segment of an older version (1: before batches were recorded, 16-byte
 * frame headers; 2: before frames carried the Raft index, 32-byte ones,
 * each frame a batch of its own) holding txids 1..n. Returns the file
 * size. */
static uint64_t write_old_segment(const char *path, unsigned version,
				  uint64_t n)
{
	uint8_t h[TXLOG_HEADER_SIZE] = {0};
	uint8_t frame[TXLOG_FRAME_HEADER_V2 + TFX_MAX_RECORD];
	size_t hdr = version == TXLOG_VERSION_NO_BATCHES ? TXLOG_FRAME_HEADER_V1
							  : TXLOG_FRAME_HEADER_V2;
	uint64_t size = TXLOG_HEADER_SIZE;

	memcpy(h, TXLOG_MAGIC, 8);
	graft_put_u32le(h + 8, version);
	graft_put_u64le(h + 16, 1);
	graft_put_u32le(h + 24, graft_crc32c(0, h, 24));
	put_file(path, h, sizeof h);
	for (uint64_t t = 1; t <= n; t++) {
		uint32_t len = (uint32_t)tfx_record(t, frame + hdr);

		memset(frame, 0, hdr);
		graft_put_u32le(frame, len);
		graft_put_u64le(frame + 8, t);
		if (hdr == TXLOG_FRAME_HEADER_V2) {
			graft_put_u64le(frame + 16, size + hdr + len);
			graft_put_u32le(frame + 28,
					graft_crc32c(graft_crc32c(0, frame, 4),
						     frame + 8, 20));
		}
		graft_put_u32le(frame + 4, txlog_frame_crc(frame, hdr, len));
		tfx_append_bytes(path, frame, hdr + len);
		size += hdr + len;
	}
	return size;
}

static void test_txlog_reads_version_1_and_appends_in_the_current_version(
	void **state)
{
	struct tfx *f = *state;
	uint64_t firsts[4];
	uint8_t h[TXLOG_HEADER_SIZE];
	char path[256];
	int fd;

	assert_int_equal(mkdir(f->dir, 0750), 0);
	tfx_segment_path(f, 1, path, sizeof path);
	write_old_segment(path, TXLOG_VERSION_NO_BATCHES, 5);
	tfx_open(f, 0, "true");
	assert_true(txlog_last_txid(f->log) == 5);
	tfx_check_read(f, 1, 5);
	assert_int_equal(tfx_append(f, 6, 3), GRAFT_OK);
	tfx_close(f);
	/* The appends went to a new segment of the current version. */
	assert_int_equal(tfx_segments(f, firsts, 4), 2);
	assert_true(firsts[1] == 6);
	tfx_segment_path(f, 6, path, sizeof path);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, h, sizeof h), (ssize_t)sizeof h);
	close(fd);
	assert_true(graft_get_u32le(h + 8) == TXLOG_VERSION);
	tfx_open(f, 0, "true");
	tfx_check_read(f, 1, 8);
}

static void test_txlog_reads_version_2_and_its_raft_index_is_unknown(
	void **state)
{
	struct tfx *f = *state;
	uint64_t firsts[4];
	char path[256];

	assert_int_equal(mkdir(f->dir, 0750), 0);
	tfx_segment_path(f, 1, path, sizeof path);
	write_old_segment(path, TXLOG_VERSION_NO_RAFT_INDEX, 5);
	tfx_open(f, 0, "true");
	assert_true(txlog_last_txid(f->log) == 5);
	assert_true(txlog_raft_index(f->log) == 0);
	tfx_check_read(f, 1, 5);
	txlog_set_raft_index(f->log, 41);
	assert_int_equal(tfx_append(f, 6, 3), GRAFT_OK);
	tfx_close(f);
	/* A version 3 segment took the appends, with their Raft index. */
	assert_int_equal(tfx_segments(f, firsts, 4), 2);
	assert_true(firsts[1] == 6);
	tfx_open(f, 0, "true");
	assert_true(txlog_raft_index(f->log) == 41);
	tfx_check_read(f, 1, 8);
}

static void test_txlog_raft_index_is_the_newest_frames_after_reopen(
	void **state)
{
	struct tfx *f = *state;

	tfx_open(f, 0, "true");
	assert_true(txlog_raft_index(f->log) == 0);
	txlog_set_raft_index(f->log, 10);
	assert_int_equal(tfx_append(f, 1, 2), GRAFT_OK);
	txlog_set_raft_index(f->log, 17);
	assert_int_equal(tfx_append(f, 3, 1), GRAFT_OK);
	/* Set but carried by no frame: not what the log holds. */
	txlog_set_raft_index(f->log, 99);
	tfx_close(f);
	tfx_open(f, 0, "true");
	assert_true(txlog_raft_index(f->log) == 17);
	tfx_check_read(f, 1, 3);
}

/* A derived log (a cluster member's) loses its unsynced tail in a crash:
 * the Raft index it reports is then that of the last frame kept, so the
 * Raft log applies the lost entries again. */
static void test_txlog_raft_index_of_a_cut_tail_is_the_frame_before(
	void **state)
{
	struct tfx *f = *state;
	uint8_t junk[8] = {0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0};
	char path[256];
	uint64_t size;

	f->o.derived = true;
	tfx_open(f, 0, "true");
	txlog_set_raft_index(f->log, 5);
	assert_int_equal(tfx_append(f, 1, 1), GRAFT_OK);
	txlog_set_raft_index(f->log, 8);
	assert_int_equal(tfx_append(f, 2, 1), GRAFT_OK);
	tfx_close(f);
	tfx_segment_path(f, 1, path, sizeof path);
	size = tfx_file_size(path);
	/* Damage the last frame's payload. */
	tfx_write_at(path, size - sizeof junk, junk, sizeof junk);
	tfx_open(f, 0, "true");
	assert_true(txlog_last_txid(f->log) == 1);
	assert_true(txlog_raft_index(f->log) == 5);
}

/* Version 1 frames do not say where a batch began, so zeros followed by a
 * valid frame cannot be shown to lie in the last batch: refused. */
static void test_txlog_version_1_zeroed_block_is_refused(void **state)
{
	struct tfx *f = *state;
	uint8_t zeros[BLOCK] = {0};
	char path[256];
	uint64_t size;

	assert_int_equal(mkdir(f->dir, 0750), 0);
	tfx_segment_path(f, 1, path, sizeof path);
	size = write_old_segment(path, TXLOG_VERSION_NO_BATCHES, 300);
	assert_true(size > 3 * BLOCK);
	tfx_write_at(path, BLOCK, zeros, BLOCK);
	assert_int_equal(tfx_try_open(f), GRAFT_ECORRUPT);
	assert_non_null(strstr(f->errmsg, path));
	assert_non_null(strstr(f->errmsg, "valid frame follows"));
	assert_true(tfx_file_size(path) == size);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, tfx_setup, tfx_teardown)
	const struct CMUnitTest tests[] = {
		T(test_txlog_zeroed_block_is_cut_only_in_the_last_batch),
		T(test_txlog_derived_log_cuts_damage_anywhere_in_its_tail),
		T(test_txlog_zeroed_tail_reaching_acknowledged_batches_is_refused),
		T(test_txlog_second_cut_at_one_offset_keeps_the_first),
		T(test_txlog_reads_version_1_and_appends_in_the_current_version),
		T(test_txlog_reads_version_2_and_its_raft_index_is_unknown),
		T(test_txlog_raft_index_is_the_newest_frames_after_reopen),
		T(test_txlog_raft_index_of_a_cut_tail_is_the_frame_before),
		T(test_txlog_version_1_zeroed_block_is_refused),
		T(test_txlog_batch_ending_on_a_frame_boundary_is_cut_whole),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
