/* Unit tests for the Bolt version handshake: ranges, preference order, the
 * declined manifest proposal and "no common version". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "bolt/wire.h"

/* Builds a handshake from four proposals written as 0xRRmmMM (range,
 * minor, major) and returns the chosen version, checking the reply. */
static uint32_t negotiate(uint32_t p1, uint32_t p2, uint32_t p3, uint32_t p4)
{
	uint8_t in[BOLT_HANDSHAKE_SIZE] = {0x60, 0x60, 0xB0, 0x17};
	uint32_t props[4] = {p1, p2, p3, p4};
	uint8_t reply[4];
	uint32_t v;

	for (int i = 0; i < 4; i++) {
		in[4 + 4 * i + 1] = (uint8_t)(props[i] >> 16);
		in[4 + 4 * i + 2] = (uint8_t)(props[i] >> 8);
		in[4 + 4 * i + 3] = (uint8_t)props[i];
	}
	v = bolt_handshake(in, reply);
	assert_int_equal(reply[0], 0);
	assert_int_equal(reply[1], 0);
	assert_int_equal(reply[2], BOLT_MINOR(v));
	assert_int_equal(reply[3], BOLT_MAJOR(v));
	return v;
}

static void test_bolt_handshake_js6_gets_5_4_past_the_manifest(void **state)
{
	(void)state;
	/* JS 6 / Python 5.28: manifest, 5.8-5.0, 4.4-4.2, 3.0. */
	assert_int_equal(negotiate(0x0001FF, 0x080805, 0x020404, 0x000003),
			 BOLT_VERSION(5, 4));
}

static void test_bolt_handshake_js5_gets_5_4(void **state)
{
	(void)state;
	assert_int_equal(negotiate(0x070705, 0x020404, 0x000104, 0x000003),
			 BOLT_VERSION(5, 4));
}

static void test_bolt_handshake_takes_highest_inside_a_range(void **state)
{
	(void)state;
	assert_int_equal(negotiate(0x020205, 0, 0, 0), BOLT_VERSION(5, 2));
	assert_int_equal(negotiate(0x000005, 0, 0, 0), BOLT_VERSION(5, 0));
	/* 5.5 only: never chosen. 5.6-5.5 neither. */
	assert_int_equal(negotiate(0x000505, 0, 0, 0), 0);
	assert_int_equal(negotiate(0x010605, 0x000404, 0, 0),
			 BOLT_VERSION(4, 4));
}

static void test_bolt_handshake_follows_client_order(void **state)
{
	(void)state;
	/* The first proposal we speak wins, even if a later one is higher. */
	assert_int_equal(negotiate(0x000404, 0x040405, 0, 0),
			 BOLT_VERSION(4, 4));
	assert_int_equal(negotiate(0x000003, 0x000104, 0x000404, 0),
			 BOLT_VERSION(4, 4));
}

static void test_bolt_handshake_no_common_version_is_zero(void **state)
{
	uint8_t in[BOLT_HANDSHAKE_SIZE] = {0x60, 0x60, 0xB0, 0x17};
	uint8_t reply[4] = {1, 1, 1, 1};
	(void)state;
	assert_int_equal(negotiate(0x000003, 0x000104, 0x0001FF, 0x030706), 0);
	assert_int_equal(bolt_handshake(in, reply), 0);
	assert_memory_equal(reply, ((uint8_t[]){0, 0, 0, 0}), 4);
	/* Wrong magic: nothing is chosen even with good proposals. */
	in[0] = 'G';
	in[7] = 5;
	assert_int_equal(bolt_handshake(in, reply), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bolt_handshake_js6_gets_5_4_past_the_manifest),
		cmocka_unit_test(test_bolt_handshake_js5_gets_5_4),
		cmocka_unit_test(test_bolt_handshake_takes_highest_inside_a_range),
		cmocka_unit_test(test_bolt_handshake_follows_client_order),
		cmocka_unit_test(test_bolt_handshake_no_common_version_is_zero),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
