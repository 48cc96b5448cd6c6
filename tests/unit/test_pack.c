/* Unit tests for PackStream: every marker boundary, the structures, and the
 * decoder's refusal of truncated, oversized and too deeply nested input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pack/pack.h"
#include "util/err.h"

/* Decodes one value from p; *used says how many bytes it took. */
static int decode(const uint8_t *p, size_t n, struct graft_value *out,
		  size_t *used)
{
	struct pack_reader r;
	char errmsg[GRAFT_ERRMSG_SIZE];
	int rv;

	pack_reader_init(&r, p, n);
	rv = pack_read_value(&r, out, errmsg);
	*used = r.pos;
	return rv;
}

/* Decodes b, which must hold exactly one value, into *out. */
static int decode_all(const struct graft_buf *b, struct graft_value *out)
{
	size_t used;
	int rv = decode(b->data, b->len, out, &used);

	if (rv == GRAFT_OK)
		assert_int_equal(used, b->len);
	return rv;
}

/* Encodes v, checks the leading bytes, decodes and compares. */
static void assert_round_trip(const struct graft_value *v, unsigned flags,
			      const uint8_t *head, size_t head_len)
{
	struct pack_options o = {.flags = flags};
	struct graft_buf b;
	struct graft_value back;

	graft_buf_init(&b);
	assert_int_equal(pack_value(&b, v, &o), GRAFT_OK);
	assert_true(b.len >= head_len);
	assert_memory_equal(b.data, head, head_len);
	assert_int_equal(decode_all(&b, &back), GRAFT_OK);
	assert_true(graft_value_equal(v, &back));
	graft_value_free(&back);
	graft_buf_free(&b);
}

static void assert_int_encoding(int64_t i, const uint8_t *bytes, size_t n)
{
	struct graft_value v = graft_value_int(i);
	struct graft_buf b;

	graft_buf_init(&b);
	assert_int_equal(pack_int(&b, i), GRAFT_OK);
	assert_int_equal(b.len, n);
	graft_buf_free(&b);
	assert_round_trip(&v, 0, bytes, n);
}

static void test_pack_int_uses_smallest_marker_at_every_limit(void **state)
{
	(void)state;
	assert_int_encoding(0, (uint8_t[]){0x00}, 1);
	assert_int_encoding(127, (uint8_t[]){0x7F}, 1);
	assert_int_encoding(-1, (uint8_t[]){0xFF}, 1);
	assert_int_encoding(-16, (uint8_t[]){0xF0}, 1);
	assert_int_encoding(-17, (uint8_t[]){0xC8, 0xEF}, 2);
	assert_int_encoding(-128, (uint8_t[]){0xC8, 0x80}, 2);
	assert_int_encoding(128, (uint8_t[]){0xC9, 0x00, 0x80}, 3);
	assert_int_encoding(-129, (uint8_t[]){0xC9, 0xFF, 0x7F}, 3);
	assert_int_encoding(INT16_MAX, (uint8_t[]){0xC9, 0x7F, 0xFF}, 3);
	assert_int_encoding(INT16_MIN, (uint8_t[]){0xC9, 0x80, 0x00}, 3);
	assert_int_encoding(INT16_MAX + 1,
			    (uint8_t[]){0xCA, 0x00, 0x00, 0x80, 0x00}, 5);
	assert_int_encoding(INT16_MIN - 1,
			    (uint8_t[]){0xCA, 0xFF, 0xFF, 0x7F, 0xFF}, 5);
	assert_int_encoding(INT32_MAX,
			    (uint8_t[]){0xCA, 0x7F, 0xFF, 0xFF, 0xFF}, 5);
	assert_int_encoding(INT32_MIN,
			    (uint8_t[]){0xCA, 0x80, 0x00, 0x00, 0x00}, 5);
	assert_int_encoding((int64_t)INT32_MAX + 1,
			    (uint8_t[]){0xCB, 0, 0, 0, 0, 0x80, 0, 0, 0}, 9);
	assert_int_encoding((int64_t)INT32_MIN - 1,
			    (uint8_t[]){0xCB, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F,
					0xFF, 0xFF, 0xFF},
			    9);
	assert_int_encoding(INT64_MAX,
			    (uint8_t[]){0xCB, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF,
					0xFF, 0xFF, 0xFF},
			    9);
	assert_int_encoding(INT64_MIN,
			    (uint8_t[]){0xCB, 0x80, 0, 0, 0, 0, 0, 0, 0}, 9);
}

static void test_pack_decodes_wide_forms_of_small_ints(void **state)
{
	/* Drivers may send non-minimal forms; they mean the same number. */
	static const uint8_t wide[] = {0xCB, 0, 0, 0, 0, 0, 0, 0, 0x05};
	struct graft_buf b = {(uint8_t *)wide, sizeof wide, sizeof wide};
	struct graft_value v;
	(void)state;
	assert_int_equal(decode_all(&b, &v), GRAFT_OK);
	assert_int_equal(v.type, GRAFT_VALUE_INT);
	assert_int_equal(v.u.i, 5);
}

static void test_pack_scalars_round_trip(void **state)
{
	struct graft_value v;
	(void)state;
	v = graft_value_null();
	assert_round_trip(&v, 0, (uint8_t[]){0xC0}, 1);
	v = graft_value_bool(true);
	assert_round_trip(&v, 0, (uint8_t[]){0xC3}, 1);
	v = graft_value_bool(false);
	assert_round_trip(&v, 0, (uint8_t[]){0xC2}, 1);
	v = graft_value_float(1.1);
	assert_round_trip(&v, 0,
			  (uint8_t[]){0xC1, 0x3F, 0xF1, 0x99, 0x99, 0x99, 0x99,
				      0x99, 0x9A},
			  9);
	v = graft_value_float(-0.0);
	assert_round_trip(&v, 0, (uint8_t[]){0xC1, 0x80, 0}, 3);
}

/* A string or bytes of n bytes has the marker bytes head. */
static void assert_blob_size_class(uint8_t type, size_t n,
				   const uint8_t *head, size_t head_len)
{
	char *s = malloc(n + 1);
	struct graft_value v;

	assert_non_null(s);
	memset(s, 'x', n);
	if (type == GRAFT_VALUE_STRING)
		assert_int_equal(graft_value_string(&v, s, n), GRAFT_OK);
	else
		assert_int_equal(graft_value_bytes(&v, s, n), GRAFT_OK);
	assert_round_trip(&v, 0, head, head_len);
	graft_value_free(&v);
	free(s);
}

static void test_pack_string_size_classes(void **state)
{
	const uint8_t t = GRAFT_VALUE_STRING;
	(void)state;
	assert_blob_size_class(t, 0, (uint8_t[]){0x80}, 1);
	assert_blob_size_class(t, 15, (uint8_t[]){0x8F, 'x'}, 2);
	assert_blob_size_class(t, 16, (uint8_t[]){0xD0, 16, 'x'}, 3);
	assert_blob_size_class(t, 255, (uint8_t[]){0xD0, 0xFF, 'x'}, 3);
	assert_blob_size_class(t, 256, (uint8_t[]){0xD1, 0x01, 0x00}, 3);
	assert_blob_size_class(t, 65535, (uint8_t[]){0xD1, 0xFF, 0xFF}, 3);
	assert_blob_size_class(t, 65536,
			       (uint8_t[]){0xD2, 0x00, 0x01, 0x00, 0x00}, 5);
}

static void test_pack_bytes_size_classes(void **state)
{
	const uint8_t t = GRAFT_VALUE_BYTES;
	(void)state;
	assert_blob_size_class(t, 0, (uint8_t[]){0xCC, 0x00}, 2);
	assert_blob_size_class(t, 255, (uint8_t[]){0xCC, 0xFF}, 2);
	assert_blob_size_class(t, 256, (uint8_t[]){0xCD, 0x01, 0x00}, 3);
	assert_blob_size_class(t, 65535, (uint8_t[]){0xCD, 0xFF, 0xFF}, 3);
	assert_blob_size_class(t, 65536,
			       (uint8_t[]){0xCE, 0x00, 0x01, 0x00, 0x00}, 5);
}

static void assert_list_size_class(uint32_t n, const uint8_t *head,
				   size_t head_len)
{
	struct graft_value v;

	assert_int_equal(graft_value_list(&v, n), GRAFT_OK);
	for (uint32_t i = 0; i < n; i++)
		v.u.list->items[i] = graft_value_int(i % 100);
	assert_round_trip(&v, 0, head, head_len);
	graft_value_free(&v);
}

static void test_pack_list_size_classes(void **state)
{
	(void)state;
	assert_list_size_class(0, (uint8_t[]){0x90}, 1);
	assert_list_size_class(15, (uint8_t[]){0x9F, 0x00}, 2);
	assert_list_size_class(16, (uint8_t[]){0xD4, 16, 0x00}, 3);
	assert_list_size_class(255, (uint8_t[]){0xD4, 0xFF}, 2);
	assert_list_size_class(256, (uint8_t[]){0xD5, 0x01, 0x00}, 3);
	assert_list_size_class(65535, (uint8_t[]){0xD5, 0xFF, 0xFF}, 3);
	assert_list_size_class(65536,
			       (uint8_t[]){0xD6, 0x00, 0x01, 0x00, 0x00}, 5);
}

static void assert_map_size_class(uint32_t n, const uint8_t *head,
				  size_t head_len)
{
	struct graft_value v;
	char key[16];

	assert_int_equal(graft_value_map(&v, n), GRAFT_OK);
	for (uint32_t i = 0; i < n; i++) {
		int len = snprintf(key, sizeof key, "k%u", i);
		v.u.map->entries[i].key = graft_str_new(key, (size_t)len);
		v.u.map->entries[i].value = graft_value_int(i % 7);
	}
	graft_map_sort(v.u.map);
	assert_round_trip(&v, 0, head, head_len);
	graft_value_free(&v);
}

static void test_pack_map_size_classes(void **state)
{
	(void)state;
	assert_map_size_class(0, (uint8_t[]){0xA0}, 1);
	assert_map_size_class(15, (uint8_t[]){0xAF, 0x82, 'k', '0'}, 4);
	assert_map_size_class(16, (uint8_t[]){0xD8, 16}, 2);
	assert_map_size_class(255, (uint8_t[]){0xD8, 0xFF}, 2);
	assert_map_size_class(256, (uint8_t[]){0xD9, 0x01, 0x00}, 3);
	assert_map_size_class(65535, (uint8_t[]){0xD9, 0xFF, 0xFF}, 3);
	assert_map_size_class(65536,
			      (uint8_t[]){0xDA, 0x00, 0x01, 0x00, 0x00}, 5);
}

static struct graft_value ext(uint8_t type)
{
	struct graft_value v;

	assert_int_equal(graft_value_ext(&v, type), GRAFT_OK);
	return v;
}

static void test_pack_temporal_and_spatial_structures(void **state)
{
	struct graft_value v;
	(void)state;

	v = ext(GRAFT_VALUE_DATE);
	v.u.x->days = 19000;
	assert_round_trip(&v, 0, (uint8_t[]){0xB1, 'D', 0xC9, 0x4A, 0x38}, 5);
	graft_value_free(&v);

	v = ext(GRAFT_VALUE_LOCALTIME);
	v.u.x->secs = 1;
	v.u.x->nanos = 5;
	assert_round_trip(&v, 0,
			  (uint8_t[]){0xB1, 't', 0xCA, 0x3B, 0x9A, 0xCA, 0x05},
			  7);
	graft_value_free(&v);

	v = ext(GRAFT_VALUE_TIME);
	v.u.x->secs = 0;
	v.u.x->nanos = 1;
	v.u.x->offset = -3600;
	assert_round_trip(&v, 0, (uint8_t[]){0xB2, 'T', 0x01, 0xC9, 0xF1, 0xF0},
			  6);
	graft_value_free(&v);

	v = ext(GRAFT_VALUE_LOCALDATETIME);
	v.u.x->secs = -1;
	v.u.x->nanos = 999999999;
	assert_round_trip(&v, 0, (uint8_t[]){0xB2, 'd', 0xFF, 0xCA}, 4);
	graft_value_free(&v);

	v = ext(GRAFT_VALUE_DURATION);
	v.u.x->months = 14;
	v.u.x->days = -3;
	v.u.x->secs = 100;
	v.u.x->nanos = 7;
	assert_round_trip(&v, 0,
			  (uint8_t[]){0xB4, 'E', 0x0E, 0xFD, 0x64, 0x07}, 6);
	graft_value_free(&v);

	v = ext(GRAFT_VALUE_POINT);
	v.u.x->srid = 7203;
	v.u.x->dims = 2;
	v.u.x->x = 1.5;
	v.u.x->y = -2;
	assert_round_trip(&v, 0, (uint8_t[]){0xB3, 'X', 0xC9, 0x1C, 0x23}, 5);
	v.u.x->srid = 9157;
	v.u.x->dims = 3;
	v.u.x->z = 3;
	assert_round_trip(&v, 0, (uint8_t[]){0xB4, 'Y', 0xC9, 0x23, 0xC5}, 5);
	graft_value_free(&v);
}

static void test_pack_datetime_utc_and_legacy_forms(void **state)
{
	struct graft_value v = ext(GRAFT_VALUE_DATETIME);
	(void)state;

	v.u.x->secs = 1000;
	v.u.x->nanos = 1;
	v.u.x->offset = 3600;
	/* UTC form: seconds since the epoch in UTC. */
	assert_round_trip(&v, PACK_UTC_DATETIME,
			  (uint8_t[]){0xB3, 'I', 0xC9, 0x03, 0xE8, 0x01, 0xC9,
				      0x0E, 0x10},
			  9);
	/* Legacy form: local seconds (UTC + offset), decoded back to UTC. */
	assert_round_trip(&v, 0,
			  (uint8_t[]){0xB3, 'F', 0xC9, 0x11, 0xF8, 0x01}, 6);
	v.u.x->offset = 0; /* zone ids decode with offset 0 */
	v.u.x->zone = graft_str_new("Europe/Berlin", 13);
	assert_round_trip(&v, PACK_UTC_DATETIME,
			  (uint8_t[]){0xB3, 'i', 0xC9, 0x03, 0xE8, 0x01, 0x8D,
				      'E'},
			  8);
	assert_round_trip(&v, 0, (uint8_t[]){0xB3, 'f'}, 2);
	graft_value_free(&v);
}

static int entity_hook(void *arg, struct graft_buf *b,
		       const struct graft_value *v)
{
	(*(int *)arg)++;
	return pack_int(b, v->u.i);
}

static void test_pack_entities_go_through_the_hook(void **state)
{
	int calls = 0;
	struct pack_options o = {.entity = entity_hook, .arg = &calls};
	struct graft_value l;
	struct graft_buf b;
	(void)state;

	assert_int_equal(graft_value_list(&l, 2), GRAFT_OK);
	l.u.list->items[0] = graft_value_ref(GRAFT_VALUE_NODE, 3);
	l.u.list->items[1] = graft_value_ref(GRAFT_VALUE_REL, 4);
	graft_buf_init(&b);
	assert_int_equal(pack_value(&b, &l, &o), GRAFT_OK);
	assert_int_equal(calls, 2);
	assert_memory_equal(b.data, ((uint8_t[]){0x92, 0x03, 0x04}), 3);
	graft_buf_reset(&b);
	assert_int_equal(pack_value(&b, &l, NULL), GRAFT_EINVAL);
	graft_buf_free(&b);
	graft_value_free(&l);
}

static int decode_bytes(const uint8_t *p, size_t n)
{
	struct graft_value v;
	size_t used;
	int rv = decode(p, n, &v, &used);

	graft_value_free(&v);
	return rv;
}

static void test_pack_refuses_malformed_input(void **state)
{
	static const uint8_t reserved[] = {0xC4, 0xC5, 0xC6, 0xC7, 0xCF, 0xD3,
					   0xD7, 0xDB, 0xDC, 0xDD, 0xDE, 0xDF,
					   0xE0, 0xEF};
	(void)state;
	for (size_t i = 0; i < sizeof reserved; i++)
		assert_int_equal(decode_bytes(&reserved[i], 1), GRAFT_ECORRUPT);
	/* A list claiming 2^32-1 items in 5 bytes is refused before any
	 * allocation. */
	assert_int_equal(decode_bytes((uint8_t[]){0xD6, 0xFF, 0xFF, 0xFF, 0xFF},
				      5),
			 GRAFT_ECORRUPT);
	assert_int_equal(decode_bytes((uint8_t[]){0xDA, 0x7F, 0, 0, 0, 0x80,
						  0x01},
				      7),
			 GRAFT_ECORRUPT);
	/* Map keys are strings. */
	assert_int_equal(decode_bytes((uint8_t[]){0xA1, 0x01, 0x01}, 3),
			 GRAFT_ECORRUPT);
	/* Structures: nodes cannot be parameters; counts and types checked. */
	assert_int_equal(decode_bytes((uint8_t[]){0xB3, 'N', 0x01, 0x90, 0xA0},
				      5),
			 GRAFT_EINVAL);
	assert_int_equal(decode_bytes((uint8_t[]){0xB2, 'D', 0x01, 0x01}, 4),
			 GRAFT_ECORRUPT);
	assert_int_equal(decode_bytes((uint8_t[]){0xB1, 'D', 0x80}, 3),
			 GRAFT_ECORRUPT);
	/* DateTime nanos out of range. */
	assert_int_equal(decode_bytes((uint8_t[]){0xB3, 'I', 0x00, 0xCA, 0x7F,
						  0xFF, 0xFF, 0xFF, 0x00},
				      9),
			 GRAFT_ECORRUPT);
}

/* Strings and map keys from a client are UTF-8 or refused: what is not
 * would be stored and break the drivers that read it back. */
static void test_pack_refuses_strings_that_are_not_utf8(void **state)
{
	static const struct {
		uint8_t b[5];
		size_t n;
	} bad[] = {
		{{0x81, 0xFF}, 2},                   /* never in UTF-8 */
		{{0x81, 0x80}, 2},                   /* a lone continuation */
		{{0x82, 0xC0, 0x80}, 3},             /* overlong NUL */
		{{0x83, 0xE0, 0x80, 0x80}, 4},       /* overlong */
		{{0x83, 0xED, 0xA0, 0x80}, 4},       /* surrogate U+D800 */
		{{0x84, 0xF4, 0x90, 0x80, 0x80}, 5}, /* past U+10FFFF */
		{{0x82, 0xE2, 0x82}, 3},             /* cut short */
		{{0xA1, 0x81, 0xC3, 0x01}, 4},       /* a key cut short */
	};
	static const uint8_t good[] = {0x8A, 'a', 0xC3, 0xA9, 0xE2, 0x82,
				       0xAC, 0xF0, 0x9F, 0x98, 0x80};
	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(decode_bytes(bad[i].b, bad[i].n),
				 GRAFT_ECORRUPT);
	assert_int_equal(decode_bytes(good, sizeof good), GRAFT_OK);
	assert_true(graft_utf8_valid("", 0));
	assert_true(graft_utf8_valid("\0", 1));
}

/* A one-field structure tag (Date) or two-field one (LocalDateTime, with
 * nanos 0) holding n as a 64-bit integer: its result. */
static int decode_struct_int64(uint8_t tag, int64_t n)
{
	uint8_t b[13] = {tag == 'D' ? 0xB1 : 0xB2, tag, 0xCB};
	uint64_t u = (uint64_t)n;

	for (int i = 0; i < 8; i++)
		b[3 + i] = (uint8_t)(u >> (56 - 8 * i));
	b[11] = 0x00;
	return decode_bytes(b, tag == 'D' ? 11 : 12);
}

/* Days of 2^63-1 once made year -25252734927764585: every temporal value
 * from a client lies within years -999999999 .. +999999999. */
static void test_pack_refuses_dates_outside_the_supported_years(void **state)
{
	(void)state;
	assert_int_equal(decode_struct_int64('D', INT64_MAX), GRAFT_ECORRUPT);
	assert_int_equal(decode_struct_int64('D', INT64_MIN), GRAFT_ECORRUPT);
	assert_int_equal(decode_struct_int64('D', GRAFT_DATE_DAYS_MAX + 1),
			 GRAFT_ECORRUPT);
	assert_int_equal(decode_struct_int64('D', GRAFT_DATE_DAYS_MAX),
			 GRAFT_OK);
	assert_int_equal(decode_struct_int64('D', GRAFT_DATE_DAYS_MIN),
			 GRAFT_OK);
	assert_int_equal(decode_struct_int64('d', INT64_MAX), GRAFT_ECORRUPT);
	assert_int_equal(decode_struct_int64('d', GRAFT_DATE_DAYS_MIN *
							  GRAFT_DAY_SECS - 1),
			 GRAFT_ECORRUPT);
	assert_int_equal(decode_struct_int64('d', 0), GRAFT_OK);
}

static void test_pack_every_truncation_is_an_error(void **state)
{
	struct graft_value m, l, d;
	struct graft_buf b;
	(void)state;

	assert_int_equal(graft_value_map(&m, 2), GRAFT_OK);
	m.u.map->entries[0].key = graft_str_new("a", 1);
	assert_int_equal(graft_value_list(&l, 3), GRAFT_OK);
	l.u.list->items[0] = graft_value_int(100000);
	l.u.list->items[1] = graft_value_float(2.5);
	assert_int_equal(graft_value_string(&l.u.list->items[2], "héllo", 6),
			 GRAFT_OK);
	m.u.map->entries[0].value = l;
	m.u.map->entries[1].key = graft_str_new("b", 1);
	d = ext(GRAFT_VALUE_DATETIME);
	d.u.x->zone = graft_str_new("UTC", 3);
	m.u.map->entries[1].value = d;
	graft_buf_init(&b);
	assert_int_equal(pack_value(&b, &m, NULL), GRAFT_OK);
	for (size_t n = 0; n < b.len; n++)
		assert_int_equal(decode_bytes(b.data, n), GRAFT_ECORRUPT);
	assert_int_equal(decode_bytes(b.data, b.len), GRAFT_OK);
	graft_buf_free(&b);
	graft_value_free(&m);
}

static void test_pack_limits_nesting_depth(void **state)
{
	uint8_t deep[PACK_MAX_DEPTH + 2];
	(void)state;

	/* PACK_MAX_DEPTH + 1 nested lists: the innermost is at the limit. */
	memset(deep, 0x91, sizeof deep);
	deep[PACK_MAX_DEPTH] = 0x90;
	assert_int_equal(decode_bytes(deep, PACK_MAX_DEPTH + 1), GRAFT_OK);
	deep[PACK_MAX_DEPTH] = 0x91;
	deep[PACK_MAX_DEPTH + 1] = 0x90;
	assert_int_equal(decode_bytes(deep, sizeof deep), GRAFT_ETOOBIG);
}

static void test_pack_struct_header_reads_tag(void **state)
{
	static const uint8_t hello[] = {0xB1, 0x01, 0xA0};
	struct pack_reader r;
	unsigned fields;
	uint8_t tag;
	char errmsg[GRAFT_ERRMSG_SIZE];
	(void)state;

	pack_reader_init(&r, hello, sizeof hello);
	assert_int_equal(pack_read_struct_header(&r, &fields, &tag, errmsg),
			 GRAFT_OK);
	assert_int_equal(fields, 1);
	assert_int_equal(tag, 0x01);
	assert_int_equal(pack_read_struct_header(&r, &fields, &tag, errmsg),
			 GRAFT_ECORRUPT);
}

/* Random mutations of a valid encoding: the decoder must return (OK or an
 * error) without crashing, leaking (ASan) or reading out of bounds. */
static void test_pack_survives_mutations(void **state)
{
	struct graft_value m;
	struct graft_buf b;
	uint8_t *copy;
	unsigned seed = 12345;
	(void)state;

	assert_int_equal(graft_value_map(&m, 3), GRAFT_OK);
	m.u.map->entries[0].key = graft_str_new("list", 4);
	assert_int_equal(graft_value_list(&m.u.map->entries[0].value, 20),
			 GRAFT_OK);
	for (int i = 0; i < 20; i++)
		m.u.map->entries[0].value.u.list->items[i] =
			graft_value_int((int64_t)i << (i * 3));
	m.u.map->entries[1].key = graft_str_new("dur", 3);
	m.u.map->entries[1].value = ext(GRAFT_VALUE_DURATION);
	m.u.map->entries[2].key = graft_str_new("s", 1);
	assert_int_equal(graft_value_string(&m.u.map->entries[2].value,
					    "some text here", 14),
			 GRAFT_OK);
	graft_map_sort(m.u.map);
	graft_buf_init(&b);
	assert_int_equal(pack_value(&b, &m, NULL), GRAFT_OK);
	copy = malloc(b.len);
	assert_non_null(copy);
	for (int round = 0; round < 20000; round++) {
		memcpy(copy, b.data, b.len);
		for (int k = 0; k < 1 + round % 4; k++)
			copy[rand_r(&seed) % b.len] = (uint8_t)rand_r(&seed);
		decode_bytes(copy, (size_t)rand_r(&seed) % (b.len + 1));
	}
	free(copy);
	graft_buf_free(&b);
	graft_value_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pack_int_uses_smallest_marker_at_every_limit),
		cmocka_unit_test(test_pack_decodes_wide_forms_of_small_ints),
		cmocka_unit_test(test_pack_scalars_round_trip),
		cmocka_unit_test(test_pack_string_size_classes),
		cmocka_unit_test(test_pack_bytes_size_classes),
		cmocka_unit_test(test_pack_list_size_classes),
		cmocka_unit_test(test_pack_map_size_classes),
		cmocka_unit_test(test_pack_temporal_and_spatial_structures),
		cmocka_unit_test(test_pack_datetime_utc_and_legacy_forms),
		cmocka_unit_test(test_pack_entities_go_through_the_hook),
		cmocka_unit_test(test_pack_refuses_strings_that_are_not_utf8),
		cmocka_unit_test(test_pack_refuses_malformed_input),
		cmocka_unit_test(test_pack_refuses_dates_outside_the_supported_years),
		cmocka_unit_test(test_pack_every_truncation_is_an_error),
		cmocka_unit_test(test_pack_limits_nesting_depth),
		cmocka_unit_test(test_pack_struct_header_reads_tag),
		cmocka_unit_test(test_pack_survives_mutations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
