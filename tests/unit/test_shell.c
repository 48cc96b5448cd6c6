/* graft-shell's pure parts: splitting input into statements and commands,
 * and rendering PackStream values in cypher-shell's notation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "shell/output.h"
#include "shell/render.h"
#include "shell/split.h"
#include "util/err.h"

/* Splitting ---------------------------------------------------------------- */

struct collected {
	char items[16][256];
	int kinds[16];
	int n;
};

static int collect(void *arg, enum split_kind kind, const char *text,
		   size_t len)
{
	struct collected *c = arg;

	assert_true(c->n < 16);
	snprintf(c->items[c->n], sizeof c->items[c->n], "%.*s", (int)len, text);
	c->kinds[c->n++] = kind;
	return 0;
}

/* Feeds text line by line, then finishes. */
static void feed_all(struct collected *c, const char *text)
{
	struct split s;
	const char *p = text, *nl;

	memset(c, 0, sizeof *c);
	split_init(&s);
	while (*p != '\0') {
		nl = strchr(p, '\n');
		nl = nl != NULL ? nl + 1 : p + strlen(p);
		assert_int_equal(split_feed(&s, p, (size_t)(nl - p), collect, c), 0);
		p = nl;
	}
	assert_int_equal(split_finish(&s, collect, c), 0);
	split_free(&s);
}

static void test_split_on_semicolons_outside_strings_and_comments(void **state)
{
	struct collected c;

	(void)state;
	feed_all(&c, "RETURN 1; RETURN 'a;b'\n AS x;\n"
		     "RETURN \"c;\\\"d\" // e;f\n;"
		     "MATCH (`n;`) /* ; \n ; */ RETURN 2;");
	assert_int_equal(c.n, 4);
	assert_string_equal(c.items[0], "RETURN 1");
	assert_string_equal(c.items[1], "RETURN 'a;b'\n AS x");
	assert_string_equal(c.items[2], "RETURN \"c;\\\"d\" // e;f");
	assert_string_equal(c.items[3], "MATCH (`n;`) /* ; \n ; */ RETURN 2");
}

static void test_split_commands_end_at_the_line(void **state)
{
	struct collected c;

	(void)state;
	feed_all(&c, ":param x => 1\n  :use system\nRETURN $x;\n:exit");
	assert_int_equal(c.n, 4);
	assert_int_equal(c.kinds[0], SPLIT_COMMAND);
	assert_string_equal(c.items[0], ":param x => 1");
	assert_string_equal(c.items[1], ":use system");
	assert_int_equal(c.kinds[2], SPLIT_STATEMENT);
	assert_string_equal(c.items[3], ":exit");
}

static void test_split_last_statement_without_semicolon(void **state)
{
	struct collected c;

	(void)state;
	feed_all(&c, "RETURN 1;\nRETURN 2\n");
	assert_int_equal(c.n, 2);
	assert_string_equal(c.items[1], "RETURN 2");
	/* Comments and blanks alone are no statement. */
	feed_all(&c, "RETURN 1; // done\n\n/* end */\n");
	assert_int_equal(c.n, 1);
}

static void test_split_pending_continues_the_prompt(void **state)
{
	struct collected c = {0};
	struct split s;

	(void)state;
	split_init(&s);
	assert_false(split_pending(&s));
	split_feed(&s, "MATCH (n)", 9, collect, &c);
	assert_true(split_pending(&s));
	split_feed(&s, "RETURN n;", 9, collect, &c);
	assert_false(split_pending(&s));
	assert_int_equal(c.n, 1);
	assert_string_equal(c.items[0], "MATCH (n)\nRETURN n");
	split_feed(&s, "RETURN 'open", 12, collect, &c);
	assert_true(split_pending(&s));
	split_free(&s);
}

/* Rendering ---------------------------------------------------------------- */

static char rendered[512];

static const char *render(const void *bytes, size_t len)
{
	struct render_in in = {bytes, len, 0};
	struct graft_buf b;
	int rv;

	graft_buf_init(&b);
	rv = render_value(&in, &b);
	if (rv != GRAFT_OK)
		snprintf(rendered, sizeof rendered, "<error %d>", rv);
	else
		snprintf(rendered, sizeof rendered, "%.*s", (int)b.len,
			 (const char *)b.data);
	if (rv == GRAFT_OK)
		assert_int_equal(in.pos, len); /* consumed exactly */
	graft_buf_free(&b);
	return rendered;
}

#define R(...)                                                                 \
	render((const uint8_t[]){__VA_ARGS__},                                 \
	       sizeof((const uint8_t[]){__VA_ARGS__}))

static void test_shell_render_scalars_print_as_shell_literals(void **state)
{
	(void)state;
	assert_string_equal(R(0xC0), "NULL");
	assert_string_equal(R(0xC3), "TRUE");
	assert_string_equal(R(0xC2), "FALSE");
	assert_string_equal(R(0x2A), "42");
	assert_string_equal(R(0xF0), "-16");
	assert_string_equal(R(0xC8, 0x80), "-128");
	assert_string_equal(R(0xC9, 0x80, 0x00), "-32768");
	assert_string_equal(R(0xCA, 0x7F, 0xFF, 0xFF, 0xFF), "2147483647");
	assert_string_equal(R(0xCB, 0x80, 0, 0, 0, 0, 0, 0, 0),
			    "-9223372036854775808");
	assert_string_equal(R(0xC1, 0x3F, 0xF0, 0, 0, 0, 0, 0, 0), "1.0");
	assert_string_equal(R(0xC1, 0x3F, 0xB9, 0x99, 0x99, 0x99, 0x99, 0x99,
			      0x9A),
			    "0.1");
	assert_string_equal(R(0xC1, 0x42, 0x02, 0xA0, 0x5F, 0x20, 0, 0, 0),
			    "1.0E10");
	assert_string_equal(R(0x83, 'a', 'b', 'c'), "\"abc\"");
	assert_string_equal(R(0xD0, 0x01, 'x'), "\"x\"");
	assert_string_equal(R(0xCC, 0x02, 0x01, 0xFF), "0x01ff");
}

static void test_shell_render_containers_nest_lists_and_maps(void **state)
{
	(void)state;
	assert_string_equal(R(0x93, 0x01, 0x02, 0x81, 'a'), "[1, 2, \"a\"]");
	assert_string_equal(R(0xA2, 0x81, 'a', 0x01, 0x81, 'b', 0x90),
			    "{a: 1, b: []}");
	assert_string_equal(R(0xD4, 0x01, 0xC0), "[NULL]");
}

static void test_shell_render_entities_print_as_cypher_patterns(void **state)
{
	(void)state;
	/* Node 5.x: id, labels, props, element id. */
	assert_string_equal(R(0xB4, 'N', 0x01, 0x91, 0x86, 'P', 'e', 'r', 's',
			      'o', 'n', 0xA1, 0x84, 'n', 'a', 'm', 'e', 0x83,
			      'A', 'n', 'n', 0x81, '1'),
			    "(:Person {name: \"Ann\"})");
	assert_string_equal(R(0xB3, 'N', 0x01, 0x90, 0xA0), "()");
	/* Relationship 4.4: id, start, end, type, props. */
	assert_string_equal(R(0xB5, 'R', 0x07, 0x01, 0x02, 0x81, 'T', 0xA1,
			      0x81, 'w', 0x02),
			    "[:T {w: 2}]");
	/* Path (a)-[:T]->(b)<-[:U]-(a). */
	assert_string_equal(R(0xB3, 'P',
			      0x92, 0xB3, 'N', 0x01, 0x91, 0x81, 'A', 0xA0,
			      0xB3, 'N', 0x02, 0x91, 0x81, 'B', 0xA0,
			      0x92, 0xB3, 'r', 0x0A, 0x81, 'T', 0xA0,
			      0xB3, 'r', 0x0B, 0x81, 'U', 0xA0,
			      0x94, 0x01, 0x01, 0xFE, 0x00),
			    "(:A)-[:T]->(:B)<-[:U]-(:A)");
}

static void test_render_temporal_and_spatial(void **state)
{
	(void)state;
	assert_string_equal(R(0xB1, 'D', 0xC9, 0x4D, 0x46), "2024-02-29");
	assert_string_equal(R(0xB1, 'D', 0x00), "1970-01-01");
	assert_string_equal(R(0xB1, 'D', 0xFF), "1969-12-31");
	/* LocalTime 12:30:05.5 */
	assert_string_equal(R(0xB1, 't', 0xCB, 0x00, 0x00, 0x28, 0xEE, 0xA8,
			      0xD7, 0x27, 0x00),
			    "12:30:05.500");
	/* Time 10:00 +01:00 */
	assert_string_equal(R(0xB2, 'T', 0xCB, 0x00, 0x00, 0x20, 0xBD, 0xE7,
			      0x36, 0x40, 0x00, 0xC9, 0x0E, 0x10),
			    "10:00+01:00");
	/* DateTime (UTC seconds 0, offset +02:00) */
	assert_string_equal(R(0xB3, 'I', 0x00, 0x00, 0xC9, 0x1C, 0x20),
			    "1970-01-01T02:00+02:00");
	/* LocalDateTime 2000-01-01T00:00:01 */
	assert_string_equal(R(0xB2, 'd', 0xCA, 0x38, 0x6D, 0x43, 0x81, 0x00),
			    "2000-01-01T00:00:01");
	/* Duration 14 months, 3 days, 3661.5 s */
	assert_string_equal(R(0xB4, 'E', 0x0E, 0x03, 0xC9, 0x0E, 0x4D, 0xCA,
			      0x1D, 0xCD, 0x65, 0x00),
			    "P1Y2M3DT1H1M1.5S");
	assert_string_equal(R(0xB4, 'E', 0x00, 0x00, 0x00, 0x00), "PT0S");
	/* Point2D srid 7203 (1.0, 2.0) */
	assert_string_equal(R(0xB3, 'X', 0xC9, 0x1C, 0x23,
			      0xC1, 0x3F, 0xF0, 0, 0, 0, 0, 0, 0,
			      0xC1, 0x40, 0x00, 0, 0, 0, 0, 0, 0),
			    "point({srid:7203, x:1.0, y:2.0})");
}

static void test_render_refuses_truncated_and_hostile_input(void **state)
{
	uint8_t deep[200];

	(void)state;
	assert_string_equal(R(0x83, 'a'), "<error 4>");
	assert_string_equal(R(0xD6, 0xFF, 0xFF, 0xFF, 0xFF), "<error 4>");
	assert_string_equal(R(0xB1, 'Z', 0x01), "<error 4>");
	assert_string_equal(R(0xC7), "<error 4>");
	memset(deep, 0x91, sizeof deep); /* lists nested 200 deep */
	assert_string_equal(render(deep, sizeof deep), "<error 4>");
}

/* Output ------------------------------------------------------------------ */

/* Prints rows [i, "x..."] for i in 1..n through an output into text. */
static void print_rows(bool verbose, int n, char *text, size_t size)
{
	static char *const fields[] = {"i", "s"};
	uint8_t row[8] = {0x92, 0, 0x81, 'x'};
	struct render_in in;
	struct output o;
	FILE *f = fmemopen(text, size, "w");
	int i;

	assert_non_null(f);
	output_begin(&o, f, verbose, fields, 2);
	for (i = 1; i <= n; i++) {
		row[1] = (uint8_t)(i % 100);
		in = (struct render_in){row, 4, 0};
		assert_int_equal(output_row(&o, &in), GRAFT_OK);
	}
	output_end(&o, 3, &(struct graft_value){.type = GRAFT_VALUE_NULL});
	fclose(f);
}

static void test_output_plain_and_table(void **state)
{
	char text[256];

	(void)state;
	print_rows(false, 2, text, sizeof text);
	assert_string_equal(text, "i, s\n1, \"x\"\n2, \"x\"\n");
	print_rows(true, 2, text, sizeof text);
	assert_string_equal(text, "+---------+\n"
				  "| i | s   |\n"
				  "+---------+\n"
				  "| 1 | \"x\" |\n"
				  "| 2 | \"x\" |\n"
				  "+---------+\n"
				  "2 rows\n");
}

/* Past the sample, rows are printed as they come (widths of the sample). */
static void test_output_table_streams_past_the_sample(void **state)
{
	size_t size = 64 * 1024;
	char *text = malloc(size);

	(void)state;
	assert_non_null(text);
	print_rows(true, OUTPUT_SAMPLE_ROWS + 5, text, size);
	assert_non_null(strstr(text, "| 99 | \"x\" |\n"));
	assert_non_null(strstr(text, "1005 rows\n"));
	free(text);
}

/* Random and mutated input never crashes, hangs or leaks (ASan/UBSan builds
 * check the last two). Seeded, so a failure repeats. */
static void test_render_survives_random_input(void **state)
{
	static const uint8_t seedbytes[] = {
		0xB3, 'P', 0x92, 0xB3, 'N', 0x01, 0x91, 0x81, 'A', 0xA0, 0xB3,
		'N', 0x02, 0x90, 0xA1, 0x81, 'k', 0x93, 0x01, 0xC1, 0, 0, 0, 0,
		0, 0, 0, 0, 0x91, 0xB3, 'r', 0x0A, 0x81, 'T', 0xA0, 0x92, 0x01,
		0x01};
	uint8_t buf[64];
	uint64_t x = 88172645463325252ull;
	struct render_in in;
	struct graft_buf out;
	size_t i, len;
	int round;

	(void)state;
	graft_buf_init(&out);
	for (round = 0; round < 20000; round++) {
		memcpy(buf, seedbytes, sizeof seedbytes);
		len = sizeof seedbytes;
		for (i = 0; i < 1 + (size_t)round % 4; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			if (round % 3 == 0)
				buf[x % len] = (uint8_t)(x >> 32);
			else
				len = 1 + (x >> 20) % len; /* truncate */
		}
		if (round % 5 == 0)
			for (i = 0; i < len; i++, x ^= x << 13, x ^= x >> 7,
			    x ^= x << 17)
				buf[i] = (uint8_t)x;
		in = (struct render_in){buf, len, 0};
		graft_buf_reset(&out);
		(void)render_value(&in, &out);
		assert_true(in.pos <= len);
	}
	graft_buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_on_semicolons_outside_strings_and_comments),
		cmocka_unit_test(test_split_commands_end_at_the_line),
		cmocka_unit_test(test_split_last_statement_without_semicolon),
		cmocka_unit_test(test_split_pending_continues_the_prompt),
		cmocka_unit_test(test_shell_render_scalars_print_as_shell_literals),
		cmocka_unit_test(test_shell_render_containers_nest_lists_and_maps),
		cmocka_unit_test(test_shell_render_entities_print_as_cypher_patterns),
		cmocka_unit_test(test_render_temporal_and_spatial),
		cmocka_unit_test(test_render_refuses_truncated_and_hostile_input),
		cmocka_unit_test(test_render_survives_random_input),
		cmocka_unit_test(test_output_plain_and_table),
		cmocka_unit_test(test_output_table_streams_past_the_sample),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
