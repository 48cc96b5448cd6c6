/* Unit tests for Bolt request decoding and response framing, and a
 * mutation loop over the decoder (chunks in, messages out): no crash, no
 * leak (ASan), no hang. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bolt/message.h"
#include "bolt/wire.h"
#include "pack/pack.h"
#include "util/err.h"

#define V54 BOLT_VERSION(5, 4)

static int decode(uint32_t version, const uint8_t *p, size_t n,
		  struct bolt_request *r)
{
	char errmsg[GRAFT_ERRMSG_SIZE];

	return bolt_request_decode(version, p, n, r, errmsg);
}

static void test_bolt_message_decodes_requests(void **state)
{
	/* PULL {n: -1} */
	static const uint8_t pull[] = {0xB1, 0x3F, 0xA1, 0x81, 'n', 0xFF};
	/* RUN "RETURN 1" {} {} */
	static const uint8_t run[] = {0xB3, 0x10, 0x88, 'R', 'E', 'T', 'U',
				      'R', 'N', ' ', '1', 0xA0, 0xA0};
	static const uint8_t reset[] = {0xB0, 0x0F};
	struct bolt_request r;
	const struct graft_value *n;
	(void)state;

	assert_int_equal(decode(V54, pull, sizeof pull, &r), GRAFT_OK);
	assert_int_equal(r.sig, BOLT_PULL);
	n = bolt_field(&r, 0, "n", GRAFT_VALUE_INT);
	assert_non_null(n);
	assert_int_equal(n->u.i, -1);
	assert_null(bolt_field(&r, 0, "qid", GRAFT_VALUE_INT));
	assert_null(bolt_field(&r, 0, "n", GRAFT_VALUE_STRING));
	bolt_request_free(&r);

	assert_int_equal(decode(V54, run, sizeof run, &r), GRAFT_OK);
	assert_int_equal(r.sig, BOLT_RUN);
	assert_int_equal(r.nfields, 3);
	assert_string_equal(r.f[0].u.s->data, "RETURN 1");
	bolt_request_free(&r);

	assert_int_equal(decode(V54, reset, sizeof reset, &r), GRAFT_OK);
	assert_int_equal(r.sig, BOLT_RESET);
	assert_string_equal(bolt_request_name(r.sig), "RESET");
	bolt_request_free(&r);
}

static void test_bolt_message_checks_version_and_shape(void **state)
{
	static const uint8_t logon[] = {0xB1, 0x6A, 0xA0};
	static const uint8_t telemetry[] = {0xB1, 0x54, 0x00};
	static const uint8_t run_short[] = {0xB2, 0x10, 0x80, 0xA0};
	static const uint8_t begin_list[] = {0xB1, 0x11, 0x90};
	static const uint8_t trailing[] = {0xB0, 0x0F, 0x00};
	static const uint8_t unknown[] = {0xB0, 0x0E};
	static const uint8_t not_struct[] = {0xA0};
	struct bolt_request r;
	(void)state;

	assert_int_equal(decode(BOLT_VERSION(5, 0), logon, 3, &r),
			 GRAFT_ECORRUPT);
	assert_int_equal(decode(BOLT_VERSION(5, 1), logon, 3, &r), GRAFT_OK);
	bolt_request_free(&r);
	assert_int_equal(decode(BOLT_VERSION(5, 3), telemetry, 3, &r),
			 GRAFT_ECORRUPT);
	assert_int_equal(decode(V54, telemetry, 3, &r), GRAFT_OK);
	bolt_request_free(&r);
	assert_int_equal(decode(V54, run_short, sizeof run_short, &r),
			 GRAFT_ECORRUPT);
	assert_int_equal(decode(V54, begin_list, sizeof begin_list, &r),
			 GRAFT_ECORRUPT);
	assert_int_equal(decode(V54, trailing, sizeof trailing, &r),
			 GRAFT_ECORRUPT);
	assert_int_equal(decode(V54, unknown, sizeof unknown, &r),
			 GRAFT_ECORRUPT);
	assert_int_equal(decode(V54, not_struct, sizeof not_struct, &r),
			 GRAFT_ECORRUPT);
	assert_int_equal(decode(V54, not_struct, 0, &r), GRAFT_ECORRUPT);
}

static void test_bolt_message_writes_framed_responses(void **state)
{
	struct graft_buf out;
	(void)state;

	graft_buf_init(&out);
	assert_int_equal(bolt_write_success_empty(&out), GRAFT_OK);
	assert_int_equal(bolt_write_ignored(&out), GRAFT_OK);
	assert_memory_equal(out.data,
			    ((uint8_t[]){0, 3, 0xB1, 0x70, 0xA0, 0, 0, 0, 2,
					 0xB0, 0x7E, 0, 0}),
			    13);
	graft_buf_reset(&out);
	assert_int_equal(bolt_write_failure(&out, "Neo.X", "m"), GRAFT_OK);
	assert_memory_equal(out.data,
			    ((uint8_t[]){0, 24, 0xB1, 0x7F, 0xA2, 0x84, 'c',
					 'o', 'd', 'e', 0x85, 'N', 'e', 'o',
					 '.', 'X', 0x87, 'm', 'e', 's', 's',
					 'a', 'g', 'e', 0x81, 'm', 0, 0}),
			    28);
	graft_buf_free(&out);
}

/* A pipelined session as a driver sends it, chunked. */
static void build_session(struct graft_buf *in)
{
	size_t start;

	/* HELLO {user_agent: "x", routing: {address: "h:1"}} */
	assert_int_equal(bolt_chunk_begin(in, &start), GRAFT_OK);
	assert_int_equal(pack_struct_header(in, 1, BOLT_HELLO), GRAFT_OK);
	assert_int_equal(pack_map_header(in, 2), GRAFT_OK);
	assert_int_equal(pack_cstring(in, "user_agent"), GRAFT_OK);
	assert_int_equal(pack_cstring(in, "x"), GRAFT_OK);
	assert_int_equal(pack_cstring(in, "routing"), GRAFT_OK);
	assert_int_equal(pack_map_header(in, 1), GRAFT_OK);
	assert_int_equal(pack_cstring(in, "address"), GRAFT_OK);
	assert_int_equal(pack_cstring(in, "h:1"), GRAFT_OK);
	assert_int_equal(bolt_chunk_end(in, start), GRAFT_OK);
	/* RUN "RETURN $x" {x: [1, 2.5, "s", date]} {bookmarks: ["neo4j:1"]} */
	assert_int_equal(bolt_chunk_begin(in, &start), GRAFT_OK);
	assert_int_equal(pack_struct_header(in, 3, BOLT_RUN), GRAFT_OK);
	assert_int_equal(pack_cstring(in, "RETURN $x"), GRAFT_OK);
	assert_int_equal(pack_map_header(in, 1), GRAFT_OK);
	assert_int_equal(pack_cstring(in, "x"), GRAFT_OK);
	assert_int_equal(pack_list_header(in, 4), GRAFT_OK);
	assert_int_equal(pack_int(in, 1), GRAFT_OK);
	assert_int_equal(pack_float(in, 2.5), GRAFT_OK);
	assert_int_equal(pack_cstring(in, "s"), GRAFT_OK);
	assert_int_equal(pack_struct_header(in, 1, 'D'), GRAFT_OK);
	assert_int_equal(pack_int(in, 19000), GRAFT_OK);
	assert_int_equal(pack_map_header(in, 1), GRAFT_OK);
	assert_int_equal(pack_cstring(in, "bookmarks"), GRAFT_OK);
	assert_int_equal(pack_list_header(in, 1), GRAFT_OK);
	assert_int_equal(pack_cstring(in, "neo4j:1"), GRAFT_OK);
	assert_int_equal(bolt_chunk_end(in, start), GRAFT_OK);
	/* PULL {n: 1000}, then GOODBYE */
	assert_int_equal(bolt_chunk_begin(in, &start), GRAFT_OK);
	assert_int_equal(pack_struct_header(in, 1, BOLT_PULL), GRAFT_OK);
	assert_int_equal(pack_map_header(in, 1), GRAFT_OK);
	assert_int_equal(pack_cstring(in, "n"), GRAFT_OK);
	assert_int_equal(pack_int(in, 1000), GRAFT_OK);
	assert_int_equal(bolt_chunk_end(in, start), GRAFT_OK);
	assert_int_equal(bolt_chunk_begin(in, &start), GRAFT_OK);
	assert_int_equal(pack_struct_header(in, 0, BOLT_GOODBYE), GRAFT_OK);
	assert_int_equal(bolt_chunk_end(in, start), GRAFT_OK);
}

/* Runs bytes through the dechunker and decoder; returns decoded count. */
static int decode_stream(const uint8_t *p, size_t n)
{
	struct bolt_dechunker d;
	struct bolt_request r;
	size_t used;
	bool complete;
	int count = 0;

	bolt_dechunker_init(&d, 4096);
	while (n > 0) {
		assert_int_equal(bolt_dechunk(&d, p, n, &used, &complete),
				 GRAFT_OK);
		assert_true(used > 0);
		p += used;
		n -= used;
		if (!complete)
			continue;
		if (!d.too_big &&
		    decode(V54, d.msg.data, d.msg.len, &r) == GRAFT_OK) {
			bolt_request_free(&r);
			count++;
		}
		bolt_dechunker_next(&d);
	}
	bolt_dechunker_free(&d);
	return count;
}

static void test_bolt_message_decoder_survives_mutations(void **state)
{
	struct graft_buf in;
	uint8_t *copy;
	unsigned seed = 4242;
	(void)state;

	graft_buf_init(&in);
	build_session(&in);
	assert_int_equal(decode_stream(in.data, in.len), 4);
	copy = malloc(in.len);
	assert_non_null(copy);
	for (int round = 0; round < 50000; round++) {
		memcpy(copy, in.data, in.len);
		for (int k = 0; k < 1 + round % 5; k++)
			copy[(size_t)rand_r(&seed) % in.len] =
				(uint8_t)rand_r(&seed);
		decode_stream(copy, (size_t)rand_r(&seed) % (in.len + 1));
	}
	/* Pure noise too. */
	for (int round = 0; round < 2000; round++) {
		for (size_t i = 0; i < in.len; i++)
			copy[i] = (uint8_t)rand_r(&seed);
		decode_stream(copy, in.len);
	}
	free(copy);
	graft_buf_free(&in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bolt_message_decodes_requests),
		cmocka_unit_test(test_bolt_message_checks_version_and_shape),
		cmocka_unit_test(test_bolt_message_writes_framed_responses),
		cmocka_unit_test(test_bolt_message_decoder_survives_mutations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
