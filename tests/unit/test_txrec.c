/* Unit tests for txrec: every op and value type round-trips, and decoding
 * truncated, padded, mistyped, deep and mutated inputs fails cleanly with
 * GRAFT_ECORRUPT and a message saying what is wrong. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "txrec/txrec.h"
#include "util/err.h"

static struct graft_str *str(const char *s)
{
	struct graft_str *p = graft_str_new(s, strlen(s));
	assert_non_null(p);
	return p;
}

/* A value of every type, nested: [nil, true, false, ints..., floats...,
 * "", long string, bytes, [[]], {"b": {...}, "a": [...]}]. */
static void make_every_value(struct graft_value *v)
{
	static const int64_t ints[] = {0, 1, -1, 127, 128, -32, -33, 255, 256,
				       65535, 65536, -129, -32769,
				       INT64_C(1) << 40, INT64_MAX, INT64_MIN};
	static const double floats[] = {0.0, -0.0, 1.0, 1.5, -2.25, 1e300,
					INFINITY};
	const size_t ni = sizeof ints / sizeof ints[0];
	const size_t nf = sizeof floats / sizeof floats[0];
	struct graft_value *it, inner, m;
	char big[70000];
	size_t k = 0;

	memset(big, 'x', sizeof big);
	assert_int_equal(graft_value_list(v, (uint32_t)(3 + ni + nf + 5)),
			 GRAFT_OK);
	it = v->u.list->items;
	it[k++] = graft_value_null();
	it[k++] = graft_value_bool(true);
	it[k++] = graft_value_bool(false);
	for (size_t i = 0; i < ni; i++)
		it[k++] = graft_value_int(ints[i]);
	for (size_t i = 0; i < nf; i++)
		it[k++] = graft_value_float(floats[i]);
	assert_int_equal(graft_value_string(&it[k++], "", 0), GRAFT_OK);
	assert_int_equal(graft_value_string(&it[k++], big, sizeof big),
			 GRAFT_OK);
	assert_int_equal(graft_value_bytes(&it[k++], "\0\1\2\377", 4),
			 GRAFT_OK);
	assert_int_equal(graft_value_list(&it[k], 1), GRAFT_OK);
	assert_int_equal(graft_value_list(&it[k++].u.list->items[0], 0),
			 GRAFT_OK);
	assert_int_equal(graft_value_map(&m, 3), GRAFT_OK);
	m.u.map->entries[0].key = str("b");
	assert_int_equal(graft_value_map(&inner, 1), GRAFT_OK);
	inner.u.map->entries[0].key = str("deep");
	assert_int_equal(graft_value_string(&inner.u.map->entries[0].value,
					    "héllo", 6), GRAFT_OK);
	m.u.map->entries[0].value = inner;
	m.u.map->entries[1].key = str("a");
	assert_int_equal(graft_value_list(&m.u.map->entries[1].value, 2),
			 GRAFT_OK);
	m.u.map->entries[1].value.u.list->items[0] = graft_value_int(7);
	m.u.map->entries[1].value.u.list->items[1] = graft_value_float(0.5);
	m.u.map->entries[2].key = str("");
	m.u.map->entries[2].value = graft_value_null();
	graft_map_sort(m.u.map);
	it[k++] = m;
	assert_int_equal(k, v->u.list->len);
}

static void add_op(struct txrec *r, uint8_t type, uint64_t id,
		   const char *name, const char *name2)
{
	struct txrec_op op = {.type = type, .id = id};
	op.value = graft_value_null();
	op.name = name ? str(name) : NULL;
	op.name2 = name2 ? str(name2) : NULL;
	if (type == TXREC_REL_CREATE) {
		op.src = id * 10;
		op.dst = UINT64_MAX - id;
	}
	if (type == TXREC_NODE_SET_PROP)
		make_every_value(&op.value);
	if (type == TXREC_REL_SET_PROP)
		op.value = graft_value_int(-5);
	assert_int_equal(txrec_add_op(r, &op), GRAFT_OK);
}

/* One op of every type, two reads. */
static void make_record(struct txrec *r)
{
	txrec_init(r);
	r->db = str("neo4j");
	r->commit_time_ms = 1767225600123;
	assert_int_equal(txrec_add_read(r, TXREC_ENTITY_NODE, 4, 0), GRAFT_OK);
	assert_int_equal(txrec_add_read(r, TXREC_ENTITY_REL, UINT64_MAX, 9),
			 GRAFT_OK);
	add_op(r, TXREC_NODE_CREATE, 1, NULL, NULL);
	add_op(r, TXREC_NODE_DELETE, 2, NULL, NULL);
	add_op(r, TXREC_NODE_ADD_LABEL, 3, "Person", NULL);
	add_op(r, TXREC_NODE_REMOVE_LABEL, 4, "Old", NULL);
	add_op(r, TXREC_NODE_SET_PROP, 5, "props", NULL);
	add_op(r, TXREC_REL_CREATE, 6, "KNOWS", NULL);
	add_op(r, TXREC_REL_DELETE, 7, NULL, NULL);
	add_op(r, TXREC_REL_SET_PROP, 8, "since", NULL);
	add_op(r, TXREC_INDEX_CREATE, 0, "Person", "name");
	add_op(r, TXREC_INDEX_DROP, 0, "Person", "age");
}

static bool str_eq(const struct graft_str *a, const struct graft_str *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
}

static void assert_records_equal(const struct txrec *a, const struct txrec *b)
{
	assert_true(str_eq(a->db, b->db));
	assert_true(a->commit_time_ms == b->commit_time_ms);
	assert_int_equal(a->n_reads, b->n_reads);
	for (size_t i = 0; i < a->n_reads; i++) {
		assert_int_equal(a->reads[i].entity, b->reads[i].entity);
		assert_true(a->reads[i].id == b->reads[i].id);
		assert_true(a->reads[i].version == b->reads[i].version);
	}
	assert_int_equal(a->n_ops, b->n_ops);
	for (size_t i = 0; i < a->n_ops; i++) {
		const struct txrec_op *x = &a->ops[i], *y = &b->ops[i];
		assert_int_equal(x->type, y->type);
		assert_true(str_eq(x->name, y->name));
		assert_true(str_eq(x->name2, y->name2));
		assert_true(graft_value_equal(&x->value, &y->value));
		if (x->type != TXREC_INDEX_CREATE &&
		    x->type != TXREC_INDEX_DROP)
			assert_true(x->id == y->id);
		assert_true(x->src == y->src && x->dst == y->dst);
	}
}

static void encode(const struct txrec *r, struct graft_buf *b)
{
	graft_buf_init(b);
	assert_int_equal(txrec_encode(r, b), GRAFT_OK);
}

/* The encoding of make_record's record, for tests of the bytes alone. */
static void encode_sample(struct graft_buf *b)
{
	struct txrec r;

	make_record(&r);
	encode(&r, b);
	txrec_free(&r);
}

static void test_txrec_round_trips_every_op_and_value_type(void **state)
{
	struct txrec a, b;
	struct graft_buf buf;
	char errmsg[GRAFT_ERRMSG_SIZE];
	(void)state;

	make_record(&a);
	encode(&a, &buf);
	assert_int_equal(txrec_decode(buf.data, buf.len, &b, errmsg), GRAFT_OK);
	assert_records_equal(&a, &b);
	/* The map came back sorted and the string kept its bytes. */
	const struct graft_value *v = &b.ops[4].value;
	const struct graft_value *m = &v->u.list->items[v->u.list->len - 1];
	assert_int_equal(m->u.map->len, 3);
	assert_string_equal(m->u.map->entries[0].key->data, "");
	assert_string_equal(m->u.map->entries[1].key->data, "a");
	assert_non_null(graft_map_get(m->u.map, "b", 1));
	/* -0.0 stays negative zero: floats travel as float64 bits. */
	bool neg_zero = false;
	for (uint32_t i = 0; i < v->u.list->len; i++)
		if (v->u.list->items[i].type == GRAFT_VALUE_FLOAT &&
		    v->u.list->items[i].u.f == 0 &&
		    signbit(v->u.list->items[i].u.f))
			neg_zero = true;
	assert_true(neg_zero);
	txrec_free(&a);
	txrec_free(&b);
	assert_null(b.ops);
	graft_buf_free(&buf);
}

static void test_txrec_encodes_only_the_fields_each_op_uses(void **state)
{
	struct txrec r;
	struct graft_buf buf;
	(void)state;

	txrec_init(&r);
	r.db = str("d");
	add_op(&r, TXREC_NODE_CREATE, 5, NULL, NULL);
	encode(&r, &buf);
	/* [1, "d", 0, [], [[1, 5]]]: 0x95 01 a1 'd' 00 90 91 92 01 05 */
	static const uint8_t want[] = {0x95, 0x01, 0xa1, 'd',  0x00,
				       0x90, 0x91, 0x92, 0x01, 0x05};
	assert_int_equal(buf.len, sizeof want);
	assert_memory_equal(buf.data, want, sizeof want);
	txrec_free(&r);
	graft_buf_free(&buf);
}

static void test_txrec_floats_are_always_float64(void **state)
{
	struct graft_value v = graft_value_float(1.0), back;
	struct graft_buf buf;
	size_t used;
	char errmsg[GRAFT_ERRMSG_SIZE];
	(void)state;

	graft_buf_init(&buf);
	assert_int_equal(txrec_encode_value(&buf, &v), GRAFT_OK);
	assert_int_equal(buf.len, 9);
	assert_int_equal(buf.data[0], 0xcb);
	/* Trailing bytes are the caller's business for a lone value. */
	assert_int_equal(graft_buf_append(&buf, "\xc0", 1), GRAFT_OK);
	assert_int_equal(txrec_decode_value(buf.data, buf.len, &used, &back,
					    errmsg), GRAFT_OK);
	assert_int_equal(used, 9);
	assert_true(graft_value_equal(&v, &back));
	graft_buf_free(&buf);
}

static void test_txrec_decode_rejects_every_truncation(void **state)
{
	struct txrec b;
	struct graft_buf buf;
	char errmsg[GRAFT_ERRMSG_SIZE];
	(void)state;

	encode_sample(&buf);
	/* Every prefix, densely near the start and sparsely in the long
	 * string, must fail cleanly. */
	for (size_t n = 0; n < buf.len; n += n < 2000 ? 1 : 997) {
		errmsg[0] = '\0';
		assert_int_equal(txrec_decode(buf.data, n, &b, errmsg),
				 GRAFT_ECORRUPT);
		assert_true(strlen(errmsg) > 0);
		assert_null(b.ops);
	}
	graft_buf_free(&buf);
}

static void test_txrec_decode_rejects_trailing_bytes(void **state)
{
	struct txrec b;
	struct graft_buf buf;
	char errmsg[GRAFT_ERRMSG_SIZE];
	(void)state;

	encode_sample(&buf);
	assert_int_equal(graft_buf_append(&buf, "\0", 1), GRAFT_OK);
	assert_int_equal(txrec_decode(buf.data, buf.len, &b, errmsg),
			 GRAFT_ECORRUPT);
	assert_non_null(strstr(errmsg, "1 trailing bytes"));
	graft_buf_free(&buf);
}

static void expect_corrupt(const char *bytes, size_t n, const char *needle)
{
	struct txrec r;
	char errmsg[GRAFT_ERRMSG_SIZE] = "";

	assert_int_equal(txrec_decode(bytes, n, &r, errmsg), GRAFT_ECORRUPT);
	if (strstr(errmsg, needle) == NULL)
		fail_msg("message '%s' lacks '%s'", errmsg, needle);
}

#define CORRUPT(lit, needle) expect_corrupt(lit, sizeof(lit) - 1, needle)

static void test_txrec_decode_names_what_is_wrong(void **state)
{
	(void)state;
	/* [1, "d", 0, [], [[5, 7]]] */
	CORRUPT("\x95\x01\xa1" "d\x00\x90\x91\x92\x05\x07",
		"op 0: NODE_SET_PROP without a property key");
	CORRUPT("\x95\x01\xa1" "d\x00\x90\x91\x93\x05\x07\xa1k",
		"op 0: NODE_SET_PROP without a value");
	CORRUPT("\x95\x01\xa1" "d\x00\x90\x92\x92\x01\x05\x94\x06\x01\xa1T\x02",
		"op 1: REL_CREATE without a destination node");
	CORRUPT("\x95\x01\xa1" "d\x00\x90\x91\x92\x09\xa1L",
		"op 0: INDEX_CREATE without a property key");
	CORRUPT("\x95\x01\xa1" "d\x00\x90\x91\x91\x03",
		"op 0: NODE_ADD_LABEL without an id");
	CORRUPT("\x95\x01\xa1" "d\x00\x90\x91\x93\x01\x05\x05",
		"NODE_CREATE has 3 fields where 2 are expected");
	CORRUPT("\x95\x01\xa1" "d\x00\x90\x91\x92\x0b\x05",
		"unknown op type 11");
	CORRUPT("\x95\x01\xa1" "d\x00\x90\x91\x92\x00\x05",
		"unknown op type 0");
	CORRUPT("\x95\x01\xa1" "d\x00\x90\x91\x93\x03\x05\x07",
		"NODE_ADD_LABEL: label at byte 10: expected a string, found an "
		"integer");
	CORRUPT("\x95\x01\xa1" "d\x00\x90\x91\x92\x01\xff",
		"expected an unsigned integer");
	CORRUPT("\x95\x02\xa1" "d\x00\x90\x90", "format version 2");
	CORRUPT("\x94\x01\xa1" "d\x00\x90", "array of 5 elements, found 4");
	CORRUPT("\x95\x01\x07\x00\x90\x90", "database name");
	CORRUPT("\x95\x01\xa1" "d\xc3\x90\x90", "commit time");
	CORRUPT("\x95\x01\xa1" "d\x00\x91\x93\x02\x01\x01\x90",
		"unknown entity kind 2");
	CORRUPT("\x95\x01\xa1" "d\x00\x91\x92\x00\x01\x90",
		"a read is [entity, id, version]");
	CORRUPT("\x95\x01\xa1" "d\x00\x90\x91\x94\x05\x01\xa1k\x81\x01\xc0",
		"map key");
	CORRUPT("\x95\x01\xa1" "d\x00\x90\x91\x94\x05\x01\xa1k\xc1",
		"unused byte 0xc1");
	CORRUPT("\x95\x01\xa1" "d\x00\x90\x91\x94\x05\x01\xa1k\xd4\x01\x01",
		"extension type 1 of 1 bytes");
	/* Unsigned above INT64_MAX is no property value. */
	CORRUPT("\x95\x01\xa1" "d\x00\x90\x91\x94\x05\x01\xa1k"
		"\xcf\x80\x00\x00\x00\x00\x00\x00\x00",
		"out of the 64-bit range");
	CORRUPT("", "expected an array, found the end of the data");
}

static void test_txrec_decode_bounds_announced_sizes(void **state)
{
	(void)state;
	/* Counts and lengths far beyond the input are refused before any
	 * allocation (ASan or valgrind would show a 100 GB attempt). */
	CORRUPT("\xdd\xff\xff\xff\xff", "array of 4294967295 elements");
	CORRUPT("\x95\x01\xa1" "d\x00\x90\xdd\xff\xff\xff\xff",
		"with only 0 bytes left");
	CORRUPT("\x95\x01\xdb\xff\xff\xff\xff" "d",
		"4294967295 bytes announced");
	CORRUPT("\x95\x01\xa1" "d\x00\x90\x91\x94\x05\x01\xa1k\xdf\xff\xff\xff"
		"\xff\x01", "map of 4294967295 entries");
	CORRUPT("\x95\x01\xa1" "d\x00\x90\x91\x94\x05\x01\xa1k\xc6\x7f\xff\xff"
		"\xff", "2147483647 bytes announced");
}

/* n nested single-element lists around a nil, as one value. */
static void nested(struct graft_buf *b, unsigned n)
{
	graft_buf_init(b);
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(graft_buf_append(b, "\x91", 1), GRAFT_OK);
	assert_int_equal(graft_buf_append(b, "\xc0", 1), GRAFT_OK);
}

static void test_txrec_depth_is_limited_both_ways(void **state)
{
	struct graft_value v, *p = &v;
	struct graft_buf b, out;
	char errmsg[GRAFT_ERRMSG_SIZE];
	size_t used;
	(void)state;

	nested(&b, TXREC_MAX_DEPTH);
	assert_int_equal(txrec_decode_value(b.data, b.len, &used, &v, errmsg),
			 GRAFT_OK);
	assert_int_equal(used, b.len);
	graft_value_free(&v);
	graft_buf_free(&b);
	nested(&b, TXREC_MAX_DEPTH + 1);
	assert_int_equal(txrec_decode_value(b.data, b.len, &used, &v, errmsg),
			 GRAFT_ECORRUPT);
	assert_non_null(strstr(errmsg, "nested deeper than 32"));
	assert_int_equal(v.type, GRAFT_VALUE_NULL);
	graft_buf_free(&b);

	/* The encoder refuses what the decoder would refuse. */
	for (unsigned i = 0; i <= TXREC_MAX_DEPTH; i++) {
		assert_int_equal(graft_value_list(p, 1), GRAFT_OK);
		p = &p->u.list->items[0];
	}
	graft_buf_init(&out);
	assert_int_equal(graft_buf_append(&out, "x", 1), GRAFT_OK);
	assert_int_equal(txrec_encode_value(&out, &v), GRAFT_ETOOBIG);
	assert_int_equal(out.len, 1);
	graft_value_free(&v);
	graft_buf_free(&out);
}

static void test_txrec_add_op_refuses_an_op_missing_its_name(void **state)
{
	struct txrec r;
	struct txrec_op op = {.type = TXREC_NODE_SET_PROP, .id = 1};
	struct txrec_op bad = {.type = TXREC_OP_MAX + 1};
	struct graft_buf buf;
	(void)state;

	txrec_init(&r);
	assert_int_equal(txrec_add_op(&r, &op), GRAFT_EINVAL);
	assert_int_equal(txrec_add_op(&r, &bad), GRAFT_EINVAL);
	assert_int_equal(r.n_ops, 0);
	/* Nor does a record without a database name encode. */
	graft_buf_init(&buf);
	assert_int_equal(txrec_encode(&r, &buf), GRAFT_EINVAL);
	assert_int_equal(buf.len, 0);
	txrec_free(&r);
}

/* Temporal values, durations and points as properties: DATE .. POINT. */
static void make_ext_values(struct graft_value *v)
{
	static const uint8_t types[] = {
		GRAFT_VALUE_DATE, GRAFT_VALUE_LOCALTIME, GRAFT_VALUE_TIME,
		GRAFT_VALUE_LOCALDATETIME, GRAFT_VALUE_DATETIME,
		GRAFT_VALUE_DATETIME, GRAFT_VALUE_DURATION, GRAFT_VALUE_POINT,
		GRAFT_VALUE_POINT};
	const uint32_t n = sizeof types / sizeof types[0];

	assert_int_equal(graft_value_list(v, n), GRAFT_OK);
	for (uint32_t i = 0; i < n; i++) {
		struct graft_value *it = &v->u.list->items[i];
		assert_int_equal(graft_value_ext(it, types[i]), GRAFT_OK);
		it->u.x->days = -719528 + i;
		it->u.x->secs = types[i] <= GRAFT_VALUE_TIME ? 45296
							      : -(INT64_C(1) << 40);
		it->u.x->nanos = 999999999 - (int32_t)i;
		it->u.x->months = types[i] == GRAFT_VALUE_DURATION ? -14 : 0;
		it->u.x->offset = types[i] == GRAFT_VALUE_TIME ||
						  types[i] == GRAFT_VALUE_DATETIME
					  ? -5 * 3600 - 30
					  : 0;
		it->u.x->srid = 4979;
		it->u.x->dims = 2 + (i % 2);
		it->u.x->x = -0.0;
		it->u.x->y = 1e300;
		it->u.x->z = it->u.x->dims == 3 ? 3.5 : 0;
	}
	v->u.list->items[4].u.x->zone = str("America/New_York");
	/* Fields a type does not use stay zero, as the builders leave them. */
	for (uint32_t i = 0; i < n; i++) {
		struct graft_ext *x = v->u.list->items[i].u.x;
		uint8_t t = types[i];
		if (t != GRAFT_VALUE_DATE && t != GRAFT_VALUE_DURATION)
			x->days = 0;
		if (t == GRAFT_VALUE_DATE || t == GRAFT_VALUE_POINT)
			x->secs = x->nanos = 0;
		if (t != GRAFT_VALUE_POINT) {
			x->srid = x->dims = 0;
			x->x = x->y = x->z = 0;
		}
	}
}

static void test_txrec_round_trips_extended_values(void **state)
{
	struct graft_value v, back, ref;
	struct graft_buf buf;
	struct txrec r;
	struct txrec_op op = {.type = TXREC_NODE_SET_PROP, .id = 1};
	char errmsg[GRAFT_ERRMSG_SIZE];
	size_t used;
	(void)state;

	make_ext_values(&v);
	graft_buf_init(&buf);
	assert_int_equal(txrec_encode_value(&buf, &v), GRAFT_OK);
	assert_int_equal(txrec_decode_value(buf.data, buf.len, &used, &back,
					    errmsg), GRAFT_OK);
	assert_int_equal(used, buf.len);
	assert_true(graft_value_equal(&v, &back));
	assert_string_equal(back.u.list->items[4].u.x->zone->data,
			    "America/New_York");
	assert_null(back.u.list->items[5].u.x->zone);
	graft_value_free(&back);
	/* Every truncation fails cleanly. */
	for (size_t n = 0; n < buf.len; n++)
		assert_int_equal(txrec_decode_value(buf.data, n, &used, &back,
						    errmsg), GRAFT_ECORRUPT);
	graft_buf_free(&buf);
	/* Out-of-range fields and unknown codes are refused. */
	static const uint8_t bad_nanos[] = {0xd8, 0x03, 0, 0, 0, 0, 0, 0, 0,
					    0, 0x3b, 0x9a, 0xca, 0x00, 0, 0,
					    0, 0};
	static const uint8_t unknown[] = {0xd7, 0x09, 0, 0, 0, 0, 0, 0, 0, 0};
	static const uint8_t short_date[] = {0xd6, 0x01, 0, 0, 0, 0};
	assert_int_equal(txrec_decode_value(unknown, sizeof unknown, &used,
					    &back, errmsg), GRAFT_ECORRUPT);
	assert_non_null(strstr(errmsg, "extension type 9"));
	assert_int_equal(txrec_decode_value(short_date, sizeof short_date,
					    &used, &back, errmsg),
			 GRAFT_ECORRUPT);
	assert_int_equal(txrec_decode_value(bad_nanos, sizeof bad_nanos,
					    &used, &back, errmsg),
			 GRAFT_ECORRUPT);
	assert_non_null(strstr(errmsg, "1000000000 nanoseconds"));
	/* Entity references are never stored. */
	ref = graft_value_ref(GRAFT_VALUE_NODE, 1);
	graft_buf_init(&buf);
	assert_int_equal(txrec_encode_value(&buf, &ref), GRAFT_EINVAL);
	txrec_init(&r);
	r.db = str("neo4j");
	op.name = str("p");
	op.value = ref;
	assert_int_equal(txrec_add_op(&r, &op), GRAFT_EINVAL);
	free(op.name);
	op.name = str("p");
	op.value = v;
	assert_int_equal(txrec_add_op(&r, &op), GRAFT_OK);
	encode(&r, &buf);
	txrec_free(&r);
	assert_int_equal(txrec_decode(buf.data, buf.len, &r, errmsg), GRAFT_OK);
	assert_int_equal(r.ops[0].value.u.list->len, 9);
	txrec_free(&r);
	graft_buf_free(&buf);
}

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void test_txrec_decode_survives_random_mutations(void **state)
{
	struct txrec a, b;
	struct graft_buf buf;
	uint8_t *m;
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	char errmsg[GRAFT_ERRMSG_SIZE];
	unsigned ok = 0, bad = 0;
	(void)state;

	/* A small record so that mutations land in structure, not in the
	 * long string. */
	txrec_init(&a);
	a.db = str("neo4j");
	assert_int_equal(txrec_add_read(&a, TXREC_ENTITY_NODE, 300, 70000),
			 GRAFT_OK);
	add_op(&a, TXREC_REL_CREATE, 6, "KNOWS", NULL);
	add_op(&a, TXREC_REL_SET_PROP, 8, "since", NULL);
	add_op(&a, TXREC_INDEX_DROP, 0, "Person", "age");
	add_op(&a, TXREC_NODE_ADD_LABEL, 3, "Person", NULL);
	encode(&a, &buf);
	m = malloc(buf.len + 8);
	assert_non_null(m);
	for (int i = 0; i < 20000; i++) {
		size_t n = buf.len;
		memcpy(m, buf.data, n);
		unsigned edits = 1 + (unsigned)(rng_next(&seed) % 4);
		for (unsigned e = 0; e < edits; e++) {
			size_t at = rng_next(&seed) % n;
			switch (rng_next(&seed) % 3) {
			case 0:
				m[at] ^= (uint8_t)(1u << (rng_next(&seed) % 8));
				break;
			case 1:
				m[at] = (uint8_t)rng_next(&seed);
				break;
			default:
				n = at + 1;
				break;
			}
		}
		int rv = txrec_decode(m, n, &b, errmsg);
		if (rv == GRAFT_OK) {
			/* Whatever decodes must encode again. */
			struct graft_buf again;
			encode(&b, &again);
			graft_buf_free(&again);
			txrec_free(&b);
			ok++;
		} else {
			assert_int_equal(rv, GRAFT_ECORRUPT);
			bad++;
		}
	}
	assert_true(bad > 10000);
	assert_true(ok > 0);
	free(m);
	txrec_free(&a);
	graft_buf_free(&buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_txrec_round_trips_every_op_and_value_type),
		cmocka_unit_test(test_txrec_encodes_only_the_fields_each_op_uses),
		cmocka_unit_test(test_txrec_floats_are_always_float64),
		cmocka_unit_test(test_txrec_decode_rejects_every_truncation),
		cmocka_unit_test(test_txrec_decode_rejects_trailing_bytes),
		cmocka_unit_test(test_txrec_decode_names_what_is_wrong),
		cmocka_unit_test(test_txrec_decode_bounds_announced_sizes),
		cmocka_unit_test(test_txrec_depth_is_limited_both_ways),
		cmocka_unit_test(test_txrec_add_op_refuses_an_op_missing_its_name),
		cmocka_unit_test(test_txrec_decode_survives_random_mutations),
		cmocka_unit_test(test_txrec_round_trips_extended_values),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
