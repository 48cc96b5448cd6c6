/* Unit tests for Bolt chunking: framing messages of every size class,
 * reassembly across arbitrary read boundaries, NOOPs, and oversized
 * messages that are skipped rather than stored. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bolt/wire.h"
#include "util/err.h"

/* Frames a message of n bytes (byte i = i * 7) into out. */
static void frame(struct graft_buf *out, size_t n)
{
	size_t start;

	assert_int_equal(bolt_chunk_begin(out, &start), GRAFT_OK);
	for (size_t i = 0; i < n; i++) {
		uint8_t c = (uint8_t)(i * 7);
		assert_int_equal(graft_buf_append(out, &c, 1), GRAFT_OK);
	}
	assert_int_equal(bolt_chunk_end(out, start), GRAFT_OK);
}

static void assert_message(const struct graft_buf *m, size_t n)
{
	assert_int_equal(m->len, n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(m->data[i], (uint8_t)(i * 7));
}

static void test_bolt_chunk_frames_small_message(void **state)
{
	struct graft_buf out;
	(void)state;
	graft_buf_init(&out);
	frame(&out, 3);
	assert_int_equal(out.len, 7);
	assert_memory_equal(out.data, ((uint8_t[]){0, 3, 0, 7, 14, 0, 0}), 7);
	graft_buf_free(&out);
}

static void test_bolt_chunk_splits_at_65535(void **state)
{
	static const size_t sizes[] = {65534, 65535, 65536, 131070, 131071,
				       200000};
	struct graft_buf out;
	(void)state;

	for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
		size_t n = sizes[k], pos = 0, total = 0;
		graft_buf_init(&out);
		frame(&out, n);
		/* Walk the chunks: all full but the last, then 00 00. */
		for (;;) {
			size_t len = (size_t)out.data[pos] << 8 | out.data[pos + 1];
			pos += 2;
			if (len == 0)
				break;
			assert_true(len <= BOLT_CHUNK_MAX);
			if (total + len < n)
				assert_int_equal(len, BOLT_CHUNK_MAX);
			for (size_t i = 0; i < len; i++)
				assert_int_equal(out.data[pos + i],
						 (uint8_t)((total + i) * 7));
			total += len;
			pos += len;
		}
		assert_int_equal(total, n);
		assert_int_equal(pos, out.len);
		graft_buf_free(&out);
	}
}

/* Feeds in pieces of `step` bytes; returns how many messages completed,
 * checking each is n bytes long. */
static int feed(struct bolt_dechunker *d, const struct graft_buf *in,
		size_t step, size_t n)
{
	size_t pos = 0, used;
	bool complete;
	int count = 0;

	while (pos < in->len) {
		size_t len = in->len - pos < step ? in->len - pos : step;
		assert_int_equal(bolt_dechunk(d, in->data + pos, len, &used,
					      &complete),
				 GRAFT_OK);
		pos += used;
		if (complete) {
			if (d->too_big)
				assert_int_equal(d->msg.len, 0);
			else
				assert_message(&d->msg, n);
			bolt_dechunker_next(d);
			count++;
		}
	}
	return count;
}

static void test_bolt_dechunk_across_any_boundary(void **state)
{
	static const size_t steps[] = {1, 2, 3, 7, 4096, 1 << 20};
	struct bolt_dechunker d;
	struct graft_buf in;
	(void)state;

	graft_buf_init(&in);
	/* NOOPs before, between and after three messages. */
	assert_int_equal(bolt_chunk_noop(&in), GRAFT_OK);
	frame(&in, 70000);
	assert_int_equal(bolt_chunk_noop(&in), GRAFT_OK);
	assert_int_equal(bolt_chunk_noop(&in), GRAFT_OK);
	frame(&in, 70000);
	frame(&in, 70000);
	assert_int_equal(bolt_chunk_noop(&in), GRAFT_OK);
	for (size_t k = 0; k < sizeof steps / sizeof *steps; k++) {
		bolt_dechunker_init(&d, 1 << 20);
		assert_int_equal(feed(&d, &in, steps[k], 70000), 3);
		assert_false(bolt_dechunker_busy(&d));
		bolt_dechunker_free(&d);
	}
	graft_buf_free(&in);
}

static void test_bolt_dechunk_reads_client_chunk_sizes(void **state)
{
	/* A 20-byte message split 16 + 4, as the reference example. */
	uint8_t in[26] = {0, 16};
	struct bolt_dechunker d;
	size_t used;
	bool complete;
	(void)state;

	for (int i = 0; i < 20; i++)
		in[2 + i + (i >= 16 ? 2 : 0)] = (uint8_t)(i * 7);
	in[18] = 0;
	in[19] = 4;
	bolt_dechunker_init(&d, 100);
	assert_int_equal(bolt_dechunk(&d, in, 24, &used, &complete), GRAFT_OK);
	assert_false(complete);
	assert_true(bolt_dechunker_busy(&d));
	assert_int_equal(used, 24);
	assert_int_equal(bolt_dechunk(&d, in + 24, 0, &used, &complete),
			 GRAFT_OK);
	assert_int_equal(bolt_dechunk(&d, in + 24, 2, &used, &complete),
			 GRAFT_OK);
	assert_true(complete);
	assert_message(&d.msg, 20);
	bolt_dechunker_free(&d);
}

static void test_bolt_dechunk_skips_oversized_message(void **state)
{
	struct bolt_dechunker d;
	struct graft_buf in;
	(void)state;

	graft_buf_init(&in);
	frame(&in, 5000);
	bolt_dechunker_init(&d, 4999);
	/* Completes flagged too_big without holding the bytes. */
	assert_int_equal(feed(&d, &in, 100, 5000), 1);
	graft_buf_reset(&in);
	frame(&in, 4999);
	assert_int_equal(feed(&d, &in, 100, 4999), 1);
	assert_true(d.msg.cap < 5000 * 2);
	bolt_dechunker_free(&d);
	graft_buf_free(&in);
}

static void test_bolt_chunks_find_a_queued_reset(void **state)
{
	static const uint8_t reset[] = {0, 2, 0xB0, 0x0F, 0, 0};
	static const uint8_t split_reset[] = {0, 1, 0xB0, 0, 1, 0x0F, 0, 0};
	static const uint8_t goodbye[] = {0, 2, 0xB0, 0x02, 0, 0};
	static const uint8_t pull_then_reset[] = {0, 3, 0xB1, 0x3F, 0xA0, 0, 0,
						  0, 0, /* NOOP */
						  0, 2, 0xB0, 0x0F, 0, 0};
	(void)state;
	assert_true(bolt_chunks_hold_reset(reset, sizeof reset));
	assert_true(bolt_chunks_hold_reset(split_reset, sizeof split_reset));
	assert_true(bolt_chunks_hold_reset(pull_then_reset,
					   sizeof pull_then_reset));
	/* Incomplete, or not a RESET. */
	assert_false(bolt_chunks_hold_reset(reset, sizeof reset - 1));
	assert_false(bolt_chunks_hold_reset(pull_then_reset,
					    sizeof pull_then_reset - 1));
	assert_false(bolt_chunks_hold_reset(goodbye, sizeof goodbye));
	assert_false(bolt_chunks_hold_reset(reset, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bolt_chunk_frames_small_message),
		cmocka_unit_test(test_bolt_chunk_splits_at_65535),
		cmocka_unit_test(test_bolt_dechunk_across_any_boundary),
		cmocka_unit_test(test_bolt_dechunk_reads_client_chunk_sizes),
		cmocka_unit_test(test_bolt_dechunk_skips_oversized_message),
		cmocka_unit_test(test_bolt_chunks_find_a_queued_reset),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
