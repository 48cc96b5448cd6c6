/* Unit tests for Cypher's operators and value rendering: integer and float
 * arithmetic with Java's semantics, string and list concatenation,
 * three-valued equality and comparison, ORDER BY's total order, DISTINCT's
 * equivalence and hash, and the literal rendering tests compare against. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cypher_fn_fixture.h"

static void test_ops_integer_arithmetic(void **state)
{
	(void)state;
	arith_is(CYPHER_ADD, I(1), I(2), "3");
	arith_is(CYPHER_SUB, I(1), I(2), "-1");
	arith_is(CYPHER_MUL, I(6), I(7), "42");
	arith_is(CYPHER_DIV, I(7), I(2), "3");
	arith_is(CYPHER_DIV, I(-7), I(2), "-3");
	arith_is(CYPHER_MOD, I(7), I(3), "1");
	arith_is(CYPHER_MOD, I(-7), I(3), "-1");
	arith_is(CYPHER_MOD, I(7), I(-3), "1");
	arith_is(CYPHER_MOD, I(INT64_MIN), I(-1), "0");
	arith_is(CYPHER_POW, I(2), I(3), "8.0");
	arith_is(CYPHER_POW, I(2), I(-1), "0.5");
	arith_is(CYPHER_ADD, I(INT64_MAX - 1), I(1), "9223372036854775807");
}

static void test_ops_integer_overflow_and_zero_fail(void **state)
{
	(void)state;
	arith_fails(CYPHER_ADD, I(INT64_MAX), I(1), "ArithmeticError");
	arith_fails(CYPHER_SUB, I(INT64_MIN), I(1), "ArithmeticError");
	arith_fails(CYPHER_MUL, I(INT64_MAX / 2 + 1), I(2),
		    "ArithmeticError");
	arith_fails(CYPHER_DIV, I(INT64_MIN), I(-1), "ArithmeticError");
	arith_fails(CYPHER_DIV, I(1), I(0), "ArithmeticError");
	arith_fails(CYPHER_MOD, I(1), I(0), "ArithmeticError");
	arith_fails(CYPHER_DIV, I(0), I(0), "ArithmeticError");
	{
		struct graft_value a = I(1), b = I(0), out;
		struct cypher_fctx *fc = cfx();
		assert_int_equal(cypher_arith(fc, CYPHER_DIV, &a, &b, &out),
				 GRAFT_EINVAL);
		assert_string_equal(fc->err->message, "/ by zero");
		a = I(INT64_MAX);
		b = I(1);
		assert_int_equal(cypher_arith(fc, CYPHER_ADD, &a, &b, &out),
				 GRAFT_EINVAL);
		assert_string_equal(fc->err->message, "long overflow");
	}
}

static void test_ops_float_arithmetic(void **state)
{
	(void)state;
	arith_is(CYPHER_ADD, F(1.5), I(1), "2.5");
	arith_is(CYPHER_ADD, I(1), F(0.5), "1.5");
	arith_is(CYPHER_SUB, F(0.5), F(0.25), "0.25");
	arith_is(CYPHER_MUL, F(1.5), I(2), "3.0");
	arith_is(CYPHER_DIV, I(1), F(2), "0.5");
	arith_is(CYPHER_DIV, F(1), I(0), "Infinity");
	arith_is(CYPHER_DIV, F(-1), I(0), "-Infinity");
	arith_is(CYPHER_DIV, F(0), F(0), "NaN");
	arith_is(CYPHER_MOD, F(7.5), I(2), "1.5");
	arith_is(CYPHER_MOD, F(1), F(0), "NaN");
	arith_is(CYPHER_POW, F(2), F(0.5), "1.4142135623730951");
	arith_is(CYPHER_ADD, F(0.1), F(0.2), "0.30000000000000004");
}

static void test_ops_null_propagates(void **state)
{
	(void)state;
	arith_is(CYPHER_ADD, V_NULL(), I(1), "null");
	arith_is(CYPHER_ADD, I(1), V_NULL(), "null");
	arith_is(CYPHER_DIV, I(1), V_NULL(), "null");
	arith_is(CYPHER_ADD, S("a"), V_NULL(), "null");
	arith_is(CYPHER_ADD, L(1, I(1)), V_NULL(), "null");
	{
		struct graft_value a = V_NULL(), out;
		assert_int_equal(cypher_negate(cfx(), &a, &out), GRAFT_OK);
		assert_int_equal(out.type, GRAFT_VALUE_NULL);
	}
}

static void test_ops_string_concatenation(void **state)
{
	(void)state;
	arith_is(CYPHER_ADD, S("a"), S("b"), "'ab'");
	arith_is(CYPHER_ADD, S("a"), I(1), "'a1'");
	arith_is(CYPHER_ADD, I(1), S("a"), "'1a'");
	arith_is(CYPHER_ADD, S("x"), F(1.5), "'x1.5'");
	arith_is(CYPHER_ADD, S("x"), F(2), "'x2.0'");
	arith_is(CYPHER_ADD, S(""), S(""), "''");
	arith_fails(CYPHER_SUB, S("a"), S("b"), "TypeError");
	arith_is(CYPHER_ADD, S("a"), B(true), "'atrue'");
	arith_is(CYPHER_ADD, T("date", S("2020-01-01")), S("!"),
		 "'2020-01-01!'");
	arith_is(CYPHER_ADD, S("d: "), T("duration", S("P1D")), "'d: P1D'");
	arith_fails(CYPHER_ADD, S("a"), M(0), "TypeError");
	arith_fails(CYPHER_ADD, graft_value_ref(GRAFT_VALUE_NODE, 1), S("a"),
		    "TypeError");
	arith_fails(CYPHER_MUL, S("a"), I(2), "TypeError");
}

static void test_ops_list_concatenation(void **state)
{
	(void)state;
	arith_is(CYPHER_ADD, L(2, I(1), I(2)), L(1, I(3)), "[1, 2, 3]");
	arith_is(CYPHER_ADD, L(1, I(1)), I(2), "[1, 2]");
	arith_is(CYPHER_ADD, I(0), L(1, I(1)), "[0, 1]");
	arith_is(CYPHER_ADD, L(0), L(0), "[]");
	arith_is(CYPHER_ADD, L(1, S("a")), L(1, L(1, I(1))), "['a', [1]]");
	arith_is(CYPHER_ADD, L(1, I(1)), S("b"), "[1, 'b']");
}

static void test_ops_type_errors_name_both_types(void **state)
{
	struct graft_value a = B(true), b = I(1), out;
	struct cypher_fctx *fc = cfx();

	(void)state;
	assert_int_equal(cypher_arith(fc, CYPHER_ADD, &a, &b, &out),
			 GRAFT_EINVAL);
	assert_string_equal(fc->err->code, "Neo.ClientError.Statement.TypeError");
	assert_string_equal(fc->err->message,
			    "Cannot add `Boolean` and `Integer`");
	arith_fails(CYPHER_SUB, M(0), I(1), "TypeError");
	arith_fails(CYPHER_POW, S("a"), I(1), "TypeError");
	arith_fails(CYPHER_MOD, L(0), I(1), "TypeError");
}

static void test_ops_negate_flips_numbers_and_refuses_overflow_and_non_numbers(void **state)
{
	struct graft_value a, out;

	(void)state;
	a = I(5);
	assert_int_equal(cypher_negate(cfx(), &a, &out), GRAFT_OK);
	assert_string_equal(R(&out), "-5");
	a = F(1.5);
	assert_int_equal(cypher_negate(cfx(), &a, &out), GRAFT_OK);
	assert_string_equal(R(&out), "-1.5");
	a = I(INT64_MIN);
	assert_int_equal(cypher_negate(cfx(), &a, &out), GRAFT_EINVAL);
	a = S("x");
	assert_int_equal(cypher_negate(cfx(), &a, &out), GRAFT_EINVAL);
	graft_value_free(&a);
}

static enum cypher_tri eq(struct graft_value a, struct graft_value b)
{
	enum cypher_tri t = cypher_equals(&a, &b);

	assert_int_equal(cypher_equals(&b, &a), t);
	graft_value_free(&a);
	graft_value_free(&b);
	return t;
}

static void test_ops_equality_is_three_valued(void **state)
{
	(void)state;
	assert_int_equal(eq(I(1), I(1)), CYPHER_TRUE);
	assert_int_equal(eq(I(1), F(1.0)), CYPHER_TRUE);
	assert_int_equal(eq(I(1), F(1.5)), CYPHER_FALSE);
	assert_int_equal(eq(I(1), S("1")), CYPHER_FALSE);
	assert_int_equal(eq(V_NULL(), V_NULL()), CYPHER_NULL);
	assert_int_equal(eq(V_NULL(), I(1)), CYPHER_NULL);
	assert_int_equal(eq(F(NAN), F(NAN)), CYPHER_FALSE);
	assert_int_equal(eq(S("a"), S("a")), CYPHER_TRUE);
	assert_int_equal(eq(S("a"), S("b")), CYPHER_FALSE);
	assert_int_equal(eq(B(true), B(true)), CYPHER_TRUE);
	assert_int_equal(eq(B(true), I(1)), CYPHER_FALSE);
	assert_int_equal(eq(L(2, I(1), I(2)), L(2, F(1), I(2))), CYPHER_TRUE);
	assert_int_equal(eq(L(2, I(1), V_NULL()), L(2, I(1), I(2))),
			 CYPHER_NULL);
	assert_int_equal(eq(L(2, I(1), V_NULL()), L(2, I(2), I(2))),
			 CYPHER_FALSE);
	assert_int_equal(eq(L(1, I(1)), L(2, I(1), V_NULL())), CYPHER_FALSE);
	assert_int_equal(eq(M(1, "a", I(1)), M(1, "a", I(1))), CYPHER_TRUE);
	assert_int_equal(eq(M(1, "a", I(1)), M(1, "b", I(1))), CYPHER_FALSE);
	assert_int_equal(eq(M(1, "a", V_NULL()), M(1, "a", I(1))),
			 CYPHER_NULL);
	assert_int_equal(eq(graft_value_ref(GRAFT_VALUE_NODE, 1),
			    graft_value_ref(GRAFT_VALUE_NODE, 1)),
			 CYPHER_TRUE);
	assert_int_equal(eq(graft_value_ref(GRAFT_VALUE_NODE, 1),
			    graft_value_ref(GRAFT_VALUE_REL, 1)),
			 CYPHER_FALSE);
	assert_int_equal(eq(I(INT64_MAX), F(9223372036854775807.0)),
			 CYPHER_FALSE);
	assert_int_equal(eq(I(1 << 30), F(1 << 30)), CYPHER_TRUE);
}

static enum cypher_tri cmp(struct graft_value a, struct graft_value b,
			   int *c)
{
	enum cypher_tri t = cypher_compare(&a, &b, c);
	int r;

	assert_int_equal(cypher_compare(&b, &a, &r), t);
	if (t == CYPHER_TRUE)
		assert_int_equal(r, -*c);
	graft_value_free(&a);
	graft_value_free(&b);
	return t;
}

static void test_ops_comparison_orders_mixed_numbers_and_yields_null_for_incomparable(void **state)
{
	int c;

	(void)state;
	assert_int_equal(cmp(I(1), I(2), &c), CYPHER_TRUE);
	assert_true(c < 0);
	assert_int_equal(cmp(I(2), F(1.5), &c), CYPHER_TRUE);
	assert_true(c > 0);
	assert_int_equal(cmp(I(1), F(1.0), &c), CYPHER_TRUE);
	assert_int_equal(c, 0);
	assert_int_equal(cmp(S("a"), S("b"), &c), CYPHER_TRUE);
	assert_true(c < 0);
	assert_int_equal(cmp(S("ab"), S("a"), &c), CYPHER_TRUE);
	assert_true(c > 0);
	assert_int_equal(cmp(S("Z"), S("a"), &c), CYPHER_TRUE);
	assert_true(c < 0);
	assert_int_equal(cmp(S("é"), S("z"), &c), CYPHER_TRUE);
	assert_true(c > 0);
	assert_int_equal(cmp(B(false), B(true), &c), CYPHER_TRUE);
	assert_true(c < 0);
	assert_int_equal(cmp(I(1), S("a"), &c), CYPHER_NULL);
	assert_int_equal(cmp(V_NULL(), I(1), &c), CYPHER_NULL);
	assert_int_equal(cmp(M(0), M(0), &c), CYPHER_NULL);
	assert_int_equal(cmp(F(NAN), I(1), &c), CYPHER_FALSE);
	assert_int_equal(cmp(L(2, I(1), I(2)), L(2, I(1), I(3)), &c),
			 CYPHER_TRUE);
	assert_true(c < 0);
	assert_int_equal(cmp(L(1, I(1)), L(2, I(1), I(0)), &c), CYPHER_TRUE);
	assert_true(c < 0);
	assert_int_equal(cmp(L(1, I(1)), L(1, S("a")), &c), CYPHER_NULL);
	assert_int_equal(cmp(I(INT64_MAX), F(9.3e18), &c), CYPHER_TRUE);
	assert_true(c < 0);
	assert_int_equal(cmp(I(INT64_MIN), F(-9.3e18), &c), CYPHER_TRUE);
	assert_true(c > 0);
	assert_int_equal(cmp(I(3), F(2.5), &c), CYPHER_TRUE);
	assert_true(c > 0);
	assert_int_equal(cmp(I(-3), F(-2.5), &c), CYPHER_TRUE);
	assert_true(c < 0);
}

static void test_ops_order_spans_types(void **state)
{
	/* MAP < NODE < REL < LIST < PATH < POINT < DATETIME < LOCALDATETIME
	 * < DATE < TIME < LOCALTIME < DURATION < STRING < BOOL < NUMBER <
	 * NULL */
	struct graft_value v[] = {
		M(1, "a", I(1)),
		graft_value_ref(GRAFT_VALUE_NODE, 5),
		graft_value_ref(GRAFT_VALUE_REL, 1),
		L(1, I(1)),
		T("point", M(2, "x", I(1), "y", I(2))),
		T("datetime", S("2020-01-01T00:00:00Z")),
		T("localdatetime", S("2020-01-01T00:00:00")),
		T("date", S("2020-01-01")),
		T("time", S("12:00:00Z")),
		T("localtime", S("12:00:00")),
		T("duration", S("P1D")),
		S("a"),
		B(false),
		B(true),
		I(-5),
		F(1.5),
		I(2),
		F(NAN),
		V_NULL(),
	};
	size_t n = sizeof v / sizeof v[0];

	(void)state;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++) {
			int c = cypher_order_cmp(&v[i], &v[j]);
			int want = i < j ? -1 : i > j;
			if ((c < 0 ? -1 : c > 0) != want)
				fail_msg("order of %zu vs %zu: %d", i, j, c);
		}
	for (size_t i = 0; i < n; i++)
		graft_value_free(&v[i]);
}

static void test_ops_equivalence_and_hash(void **state)
{
	struct graft_value pairs[][2] = {
		{I(1), F(1.0)},
		{F(NAN), F(NAN)},
		{V_NULL(), V_NULL()},
		{L(2, I(1), V_NULL()), L(2, F(1), V_NULL())},
		{M(1, "k", I(2)), M(1, "k", F(2))},
		{F(0.0), F(-0.0)},
		{S("x"), S("x")},
	};
	struct graft_value a = I(1), b = S("1"), c = F(1.5), d = I(2);

	(void)state;
	for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
		assert_true(cypher_equivalent(&pairs[i][0], &pairs[i][1]));
		assert_true(cypher_equivalent_hash(&pairs[i][0]) ==
			    cypher_equivalent_hash(&pairs[i][1]));
		graft_value_free(&pairs[i][0]);
		graft_value_free(&pairs[i][1]);
	}
	assert_false(cypher_equivalent(&a, &b));
	assert_false(cypher_equivalent(&a, &c));
	assert_false(cypher_equivalent(&a, &d));
	assert_true(cypher_equivalent_hash(&a) != cypher_equivalent_hash(&d));
	graft_value_free(&b);
}

static void test_ops_type_names(void **state)
{
	struct graft_value v = S("x");

	(void)state;
	assert_string_equal(cypher_type_name(&v), "String");
	graft_value_free(&v);
	v = I(1);
	assert_string_equal(cypher_type_name(&v), "Integer");
	v = F(1);
	assert_string_equal(cypher_type_name(&v), "Float");
	v = B(true);
	assert_string_equal(cypher_type_name(&v), "Boolean");
	v = V_NULL();
	assert_string_equal(cypher_type_name(&v), "Null");
	v = graft_value_ref(GRAFT_VALUE_NODE, 1);
	assert_string_equal(cypher_type_name(&v), "Node");
	v = graft_value_ref(GRAFT_VALUE_REL, 1);
	assert_string_equal(cypher_type_name(&v), "Relationship");
	v = L(0);
	assert_string_equal(cypher_type_name(&v), "List");
	graft_value_free(&v);
	v = M(0);
	assert_string_equal(cypher_type_name(&v), "Map");
	graft_value_free(&v);
}

static void renders(struct graft_value v, const char *want)
{
	assert_string_equal(R(&v), want);
	graft_value_free(&v);
}

static void test_render_scalars_print_as_cypher_literals(void **state)
{
	(void)state;
	renders(V_NULL(), "null");
	renders(B(true), "true");
	renders(B(false), "false");
	renders(I(0), "0");
	renders(I(-42), "-42");
	renders(I(INT64_MIN), "-9223372036854775808");
	renders(F(1.0), "1.0");
	renders(F(0.5), "0.5");
	renders(F(-2.5), "-2.5");
	renders(F(0.1), "0.1");
	renders(F(100.0), "100.0");
	renders(F(1234567.0), "1234567.0");
	renders(F(12345678.0), "1.2345678E7");
	renders(F(1e10), "1.0E10");
	renders(F(0.001), "0.001");
	renders(F(0.0001), "1.0E-4");
	renders(F(-2.5e-7), "-2.5E-7");
	renders(F(1e300), "1.0E300");
	renders(F(3.141592653589793), "3.141592653589793");
	renders(F(1.0 / 3), "0.3333333333333333");
	renders(F(0.0), "0.0");
	renders(F(-0.0), "-0.0");
	renders(F(NAN), "NaN");
	renders(F(INFINITY), "Infinity");
	renders(F(-INFINITY), "-Infinity");
	renders(F(5e-324), "5.0E-324"); /* Java says 4.9E-324 */
	renders(F(1.7976931348623157e308), "1.7976931348623157E308");
}

static void test_render_strings_and_containers(void **state)
{
	struct graft_value b;

	(void)state;
	renders(S("abc"), "'abc'");
	renders(S(""), "''");
	renders(S("it's"), "'it\\'s'");
	renders(S("back\\slash"), "'back\\\\slash'");
	renders(S("héllo"), "'héllo'");
	assert_int_equal(graft_value_bytes(&b, "\1\2\3", 3), GRAFT_OK);
	renders(b, "<BYTES len=3>");
	renders(L(0), "[]");
	renders(L(2, I(1), I(2)), "[1, 2]");
	renders(L(3, I(1), S("a"), L(1, V_NULL())), "[1, 'a', [null]]");
	renders(M(0), "{}");
	renders(M(2, "b", S("x"), "a", I(1)), "{a: 1, b: 'x'}");
	renders(M(1, "m", M(1, "n", L(1, F(1)))), "{m: {n: [1.0]}}");
}

static void test_render_truncates_and_reports_length(void **state)
{
	struct graft_value v = S("abcdef");
	char buf[4];

	(void)state;
	assert_int_equal(cypher_render_with(NULL, &v, buf, sizeof buf), 8);
	assert_string_equal(buf, "'ab");
	assert_int_equal(cypher_render_with(NULL, &v, NULL, 0), 8);
	graft_value_free(&v);
}

/* Entities through a test double: node 1 (:B:A {p: 1}), node 2 (),
 * relationship 7 [:T {w: 0.5}] from 1 to 2, relationship 8 [:U] 2 -> 1
 * (reversed in the path below). */
static int node_view(void *data, uint64_t id, struct graft_value *labels,
		     struct graft_value *props)
{
	(void)data;
	if (id == 1) {
		*labels = L(2, S("B"), S("A"));
		*props = M(1, "p", I(1));
	} else {
		*labels = L(0);
		*props = M(0);
	}
	return GRAFT_OK;
}

static int rel_view(void *data, uint64_t id, const char **type,
		    uint64_t *src, uint64_t *dst, struct graft_value *props)
{
	(void)data;
	*type = id == 7 ? "T" : "U";
	*src = id == 7 ? 1 : 2;
	*dst = id == 7 ? 2 : 1;
	*props = id == 7 ? M(1, "w", F(0.5)) : M(0);
	return GRAFT_OK;
}

static void test_render_entities_print_labels_and_properties(void **state)
{
	struct cypher_render_entities e = {.node = node_view, .rel = rel_view};
	struct graft_value v = graft_value_ref(GRAFT_VALUE_NODE, 1);
	char buf[256];

	(void)state;
	cypher_render_with(&e, &v, buf, sizeof buf);
	assert_string_equal(buf, "(:A:B {p: 1})");
	v = graft_value_ref(GRAFT_VALUE_NODE, 2);
	cypher_render_with(&e, &v, buf, sizeof buf);
	assert_string_equal(buf, "()");
	v = graft_value_ref(GRAFT_VALUE_REL, 7);
	cypher_render_with(&e, &v, buf, sizeof buf);
	assert_string_equal(buf, "[:T {w: 0.5}]");
	v = L(5, I(1), I(7), I(2), I(8), I(1));
	v.type = GRAFT_VALUE_PATH;
	cypher_render_with(&e, &v, buf, sizeof buf);
	assert_string_equal(buf, "<(:A:B {p: 1})-[:T {w: 0.5}]->()-[:U]->"
				 "(:A:B {p: 1})>");
	graft_value_free(&v);
	v = L(3, I(2), I(7), I(1));
	v.type = GRAFT_VALUE_PATH;
	cypher_render_with(&e, &v, buf, sizeof buf);
	assert_string_equal(buf, "<()<-[:T {w: 0.5}]-(:A:B {p: 1})>");
	graft_value_free(&v);
	v = graft_value_ref(GRAFT_VALUE_NODE, 3);
	cypher_render_with(NULL, &v, buf, sizeof buf);
	assert_string_equal(buf, "(#3)");
}

static void test_render_temporal_and_points(void **state)
{
	(void)state;
	renders(T("date", S("2020-01-01")), "date('2020-01-01')");
	renders(T("localtime", S("12:00")), "localtime('12:00:00')");
	renders(T("localtime", S("12:00:00.500")), "localtime('12:00:00.5')");
	renders(T("time", S("12:00:00+01:00")), "time('12:00:00+01:00')");
	renders(T("localdatetime", S("2020-01-01T12:00:00")),
		"localdatetime('2020-01-01T12:00:00')");
	renders(T("datetime", S("2020-01-01T12:00:00Z")),
		"datetime('2020-01-01T12:00:00Z')");
	renders(T("datetime", S("2020-01-01T12:00:00+01:00")),
		"datetime('2020-01-01T12:00:00+01:00')");
	renders(T("datetime", S("2020-01-01T12:00:00[Europe/Paris]")),
		"datetime('2020-01-01T12:00:00+01:00[Europe/Paris]')");
	renders(T("duration", S("P1Y2M3DT4H5M6S")),
		"duration('P1Y2M3DT4H5M6S')");
	renders(T("duration", S("PT1.5S")), "duration('PT1.5S')");
	renders(T("duration", S("PT0S")), "duration('PT0S')");
	renders(T("point", M(2, "x", I(1), "y", F(2))),
		"point({srid: 7203, x: 1.0, y: 2.0})");
	renders(T("point", M(3, "x", I(1), "y", I(2), "z", I(3))),
		"point({srid: 9157, x: 1.0, y: 2.0, z: 3.0})");
	renders(T("point", M(2, "latitude", F(56.7), "longitude", F(12.78))),
		"point({srid: 4326, x: 12.78, y: 56.7})");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ops_integer_arithmetic),
		cmocka_unit_test(test_ops_integer_overflow_and_zero_fail),
		cmocka_unit_test(test_ops_float_arithmetic),
		cmocka_unit_test(test_ops_null_propagates),
		cmocka_unit_test(test_ops_string_concatenation),
		cmocka_unit_test(test_ops_list_concatenation),
		cmocka_unit_test(test_ops_type_errors_name_both_types),
		cmocka_unit_test(test_ops_negate_flips_numbers_and_refuses_overflow_and_non_numbers),
		cmocka_unit_test(test_ops_equality_is_three_valued),
		cmocka_unit_test(test_ops_comparison_orders_mixed_numbers_and_yields_null_for_incomparable),
		cmocka_unit_test(test_ops_order_spans_types),
		cmocka_unit_test(test_ops_equivalence_and_hash),
		cmocka_unit_test(test_ops_type_names),
		cmocka_unit_test(test_render_scalars_print_as_cypher_literals),
		cmocka_unit_test(test_render_strings_and_containers),
		cmocka_unit_test(test_render_truncates_and_reports_length),
		cmocka_unit_test(test_render_entities_print_labels_and_properties),
		cmocka_unit_test(test_render_temporal_and_points),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
