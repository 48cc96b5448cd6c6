/* Unit tests for transaction records: round trips of every op and value
 * type, and hostile input that must be refused cleanly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "txrec/txrec.h"
#include "util/err.h"

static struct graft_str *s(const char *text)
{
	return graft_str_new(text, strlen(text));
}

static struct graft_value nested_value(void)
{
	struct graft_value v, m;

	assert_int_equal(graft_value_list(&v, 7), GRAFT_OK);
	v.u.list->items[0] = graft_value_int(INT64_MIN);
	v.u.list->items[1] = graft_value_int(-33);
	v.u.list->items[2] = graft_value_float(-0.5);
	assert_int_equal(graft_value_string(&v.u.list->items[3], "ünïcode", 9),
			 GRAFT_OK);
	assert_int_equal(graft_value_bytes(&v.u.list->items[4], "\0\1\2", 3),
			 GRAFT_OK);
	v.u.list->items[5] = graft_value_bool(false);
	assert_int_equal(graft_value_map(&m, 2), GRAFT_OK);
	m.u.map->entries[0].key = s("z");
	m.u.map->entries[0].value = graft_value_int(INT64_MAX);
	m.u.map->entries[1].key = s("a");
	m.u.map->entries[1].value = graft_value_null();
	graft_map_sort(m.u.map);
	v.u.list->items[6] = m;
	return v;
}

static void add_op(struct txrec *r, uint8_t type, uint64_t id, const char *name,
		   const char *name2, struct graft_value value)
{
	struct txrec_op op = {.type = type, .id = id, .value = value};

	if (type == TXREC_REL_CREATE) {
		op.src = id + 100;
		op.dst = UINT64_MAX - 1;
	}
	op.name = name ? s(name) : NULL;
	op.name2 = name2 ? s(name2) : NULL;
	assert_int_equal(txrec_add_op(r, &op), GRAFT_OK);
}

static void build_every_op(struct txrec *r)
{
	txrec_init(r);
	r->db = s("neo4j");
	r->commit_time_ms = 1764000000123;
	assert_int_equal(txrec_add_read(r, TXREC_ENTITY_NODE, 7, 41), GRAFT_OK);
	assert_int_equal(txrec_add_read(r, TXREC_ENTITY_REL, UINT64_MAX, 0),
			 GRAFT_OK);
	add_op(r, TXREC_NODE_CREATE, 1, NULL, NULL, graft_value_null());
	add_op(r, TXREC_NODE_DELETE, 2, NULL, NULL, graft_value_null());
	add_op(r, TXREC_NODE_ADD_LABEL, 3, "Person", NULL, graft_value_null());
	add_op(r, TXREC_NODE_REMOVE_LABEL, 4, "Old", NULL, graft_value_null());
	add_op(r, TXREC_NODE_SET_PROP, 5, "tags", NULL, nested_value());
	add_op(r, TXREC_NODE_SET_PROP, 5, "gone", NULL, graft_value_null());
	add_op(r, TXREC_REL_CREATE, 6, "KNOWS", NULL, graft_value_null());
	add_op(r, TXREC_REL_DELETE, 7, NULL, NULL, graft_value_null());
	add_op(r, TXREC_REL_SET_PROP, 8, "since", NULL, graft_value_float(1.25));
	add_op(r, TXREC_INDEX_CREATE, 0, "Person", "name", graft_value_null());
	add_op(r, TXREC_INDEX_DROP, 0, "Person", "age", graft_value_null());
}

static void assert_str(const struct graft_str *a, const struct graft_str *b)
{
	if (a == NULL || b == NULL) {
		assert_ptr_equal(a, b);
		return;
	}
	assert_int_equal(a->len, b->len);
	assert_memory_equal(a->data, b->data, a->len);
}

static void assert_records_equal(const struct txrec *a, const struct txrec *b)
{
	assert_str(a->db, b->db);
	assert_true(a->commit_time_ms == b->commit_time_ms);
	assert_int_equal(a->n_reads, b->n_reads);
	assert_memory_equal(a->reads, b->reads, a->n_reads * sizeof *a->reads);
	assert_int_equal(a->n_ops, b->n_ops);
	for (size_t i = 0; i < a->n_ops; i++) {
		const struct txrec_op *x = &a->ops[i], *y = &b->ops[i];
		assert_int_equal(x->type, y->type);
		assert_true(x->id == y->id);
		assert_true(x->src == y->src && x->dst == y->dst);
		assert_str(x->name, y->name);
		assert_str(x->name2, y->name2);
		assert_true(graft_value_equal(&x->value, &y->value));
	}
}

static void test_txrec_round_trips_every_op_and_value_type(void **state)
{
	struct txrec a, b;
	struct graft_buf buf;
	char err[GRAFT_ERRMSG_SIZE];
	(void)state;

	build_every_op(&a);
	graft_buf_init(&buf);
	assert_int_equal(txrec_encode(&a, &buf), GRAFT_OK);
	assert_int_equal(txrec_decode(buf.data, buf.len, &b, err), GRAFT_OK);
	assert_records_equal(&a, &b);
	/* Re-encoding the decoded record gives the same bytes. */
	struct graft_buf again;
	graft_buf_init(&again);
	assert_int_equal(txrec_encode(&b, &again), GRAFT_OK);
	assert_int_equal(again.len, buf.len);
	assert_memory_equal(again.data, buf.data, buf.len);
	graft_buf_free(&again);
	graft_buf_free(&buf);
	txrec_free(&a);
	txrec_free(&b);
}

static void test_txrec_value_codec_reports_bytes_used(void **state)
{
	struct graft_value v = nested_value(), w;
	struct graft_buf buf;
	size_t used = 0;
	(void)state;

	graft_buf_init(&buf);
	assert_int_equal(txrec_encode_value(&buf, &v), GRAFT_OK);
	size_t one = buf.len;
	assert_int_equal(txrec_encode_value(&buf, &v), GRAFT_OK);
	assert_int_equal(txrec_decode_value(buf.data, buf.len, &used, &w, NULL),
			 GRAFT_OK);
	assert_int_equal(used, one);
	assert_true(graft_value_equal(&v, &w));
	graft_value_free(&w);
	graft_value_free(&v);
	graft_buf_free(&buf);
}

static void expect_corrupt(const void *p, size_t n, const char *fragment)
{
	struct txrec r;
	char err[GRAFT_ERRMSG_SIZE] = "";

	assert_int_equal(txrec_decode(p, n, &r, err), GRAFT_ECORRUPT);
	assert_non_null(strstr(err, "corrupt transaction record"));
	if (fragment != NULL && strstr(err, fragment) == NULL)
		fail_msg("expected '%s' in '%s'", fragment, err);
	assert_null(r.ops);
}

static void test_txrec_rejects_truncated_records_at_every_length(void **state)
{
	struct txrec a;
	struct graft_buf buf;
	(void)state;

	build_every_op(&a);
	graft_buf_init(&buf);
	assert_int_equal(txrec_encode(&a, &buf), GRAFT_OK);
	for (size_t n = 0; n < buf.len; n++)
		expect_corrupt(buf.data, n, NULL);
	graft_buf_free(&buf);
	txrec_free(&a);
}

static void test_txrec_rejects_hostile_headers_without_allocating(void **state)
{
	/* [1, "d", 0, array32 of 4 billion reads] */
	const uint8_t huge_reads[] = {0x95, 0x01, 0xa1, 'd', 0x00,
				      0xdd, 0xff, 0xff, 0xff, 0xff};
	/* unknown op type 99 */
	const uint8_t bad_op[] = {0x95, 0x01, 0xa1, 'd', 0x00, 0x90,
				  0x91, 0x92, 0x63, 0x01};
	/* op with too few fields: NODE_SET_PROP without key and value */
	const uint8_t short_op[] = {0x95, 0x01, 0xa1, 'd', 0x00, 0x90,
				    0x91, 0x92, TXREC_NODE_SET_PROP, 0x01};
	/* valid empty record followed by a trailing byte */
	const uint8_t trailing[] = {0x95, 0x01, 0xa1, 'd', 0x00, 0x90, 0x90, 0x00};
	/* future format version */
	const uint8_t version[] = {0x95, 0x07, 0xa1, 'd', 0x00, 0x90, 0x90};
	(void)state;

	expect_corrupt(huge_reads, sizeof huge_reads, "more reads");
	expect_corrupt(bad_op, sizeof bad_op, "unknown operation");
	expect_corrupt(short_op, sizeof short_op, "wrong number of fields");
	expect_corrupt(trailing, sizeof trailing, "trailing");
	expect_corrupt(version, sizeof version, "version");
}

static void test_txrec_rejects_values_nested_too_deeply(void **state)
{
	uint8_t buf[64];
	size_t n = 0, used;
	struct graft_value v;
	char err[GRAFT_ERRMSG_SIZE];
	(void)state;

	for (int i = 0; i < 40; i++)
		buf[n++] = 0x91; /* array of one */
	buf[n++] = 0xc0;
	assert_int_equal(txrec_decode_value(buf, n, &used, &v, err),
			 GRAFT_ECORRUPT);
	assert_non_null(strstr(err, "nested too deeply"));
}

/* Seeded random mutations of a valid record: every outcome is either a
 * clean decode or a clean GRAFT_ECORRUPT (ASan/valgrind watch the rest). */
static void test_txrec_survives_random_mutations(void **state)
{
	struct txrec a, b;
	struct graft_buf buf;
	uint8_t *m;
	(void)state;

	build_every_op(&a);
	graft_buf_init(&buf);
	assert_int_equal(txrec_encode(&a, &buf), GRAFT_OK);
	m = malloc(buf.len);
	srand(12345);
	for (int round = 0; round < 20000; round++) {
		memcpy(m, buf.data, buf.len);
		for (int k = 0; k < 1 + round % 4; k++)
			m[(size_t)rand() % buf.len] = (uint8_t)rand();
		size_t n = round % 7 == 0 ? (size_t)rand() % buf.len : buf.len;
		int rv = txrec_decode(m, n, &b, NULL);
		assert_true(rv == GRAFT_OK || rv == GRAFT_ECORRUPT);
		txrec_free(&b);
	}
	free(m);
	graft_buf_free(&buf);
	txrec_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_txrec_round_trips_every_op_and_value_type),
		cmocka_unit_test(test_txrec_value_codec_reports_bytes_used),
		cmocka_unit_test(test_txrec_rejects_truncated_records_at_every_length),
		cmocka_unit_test(test_txrec_rejects_hostile_headers_without_allocating),
		cmocka_unit_test(test_txrec_rejects_values_nested_too_deeply),
		cmocka_unit_test(test_txrec_survives_random_mutations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
