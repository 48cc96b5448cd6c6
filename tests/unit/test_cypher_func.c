/* Unit tests for the built-in scalar functions and aggregations: each
 * function's happy path, null in → null out, Neo4j's type and argument
 * errors, and the registry's lookup. Results are compared as rendered
 * Cypher literals. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cypher_fn_fixture.h"
#include "db_fixture.h"

static void test_func_lookup_is_case_insensitive(void **state)
{
	const struct cypher_func *all, *f;
	const struct cypher_agg *aggs;
	size_t n;

	(void)state;
	f = cypher_func_lookup("tointeger", 9);
	assert_non_null(f);
	assert_string_equal(f->name, "toInteger");
	assert_non_null(cypher_func_lookup("DATE.TRUNCATE", 13));
	assert_non_null(cypher_func_lookup("datetime.fromepochmillis", 24));
	assert_null(cypher_func_lookup("nosuch", 6));
	assert_null(cypher_func_lookup("toIntegerX", 10));
	assert_null(cypher_func_lookup("toInteg", 7));
	n = cypher_func_all(&all);
	assert_true(n > 100);
	for (size_t i = 0; i < n; i++) {
		assert_non_null(all[i].fn);
		assert_non_null(all[i].signature);
		assert_non_null(all[i].description);
		assert_non_null(all[i].category);
		assert_true(all[i].min_args <= all[i].max_args);
		assert_ptr_equal(cypher_func_lookup(all[i].name,
						    strlen(all[i].name)),
				 &all[i]);
	}
	n = cypher_agg_all(&aggs);
	assert_int_equal(n, 10);
	assert_ptr_equal(cypher_agg_lookup("STDEV", 5), &aggs[6]);
	assert_null(cypher_agg_lookup("median", 6));
}

static void test_func_math_matches_neo4j_and_overflow_fails_as_arithmetic_error(void **state)
{
	(void)state;
	call_is("abs", "3", 1, I(-3));
	call_is("abs", "2.5", 1, F(-2.5));
	call_is("abs", "null", 1, V_NULL());
	call_fails("abs", "ArithmeticError", 1, I(INT64_MIN));
	call_is("ceil", "2.0", 1, F(1.1));
	call_is("ceil", "-1.0", 1, F(-1.9));
	call_is("ceil", "1.0", 1, I(1));
	call_is("floor", "1.0", 1, F(1.9));
	call_is("floor", "-2.0", 1, F(-1.1));
	call_is("sign", "-1", 1, I(-7));
	call_is("sign", "0", 1, F(0));
	call_is("sign", "1", 1, F(0.1));
	call_is("sqrt", "3.0", 1, I(9));
	call_is("sqrt", "NaN", 1, I(-1));
	call_is("exp", "1.0", 1, I(0));
	call_is("log", "0.0", 1, I(1));
	call_is("log", "-Infinity", 1, I(0));
	call_is("log10", "2.0", 1, I(100));
	call_is("e", "2.718281828459045", 0);
	call_is("pi", "3.141592653589793", 0);
	call_is("sin", "0.0", 1, I(0));
	call_is("cos", "1.0", 1, I(0));
	call_is("tan", "0.0", 1, I(0));
	call_is("asin", "1.5707963267948966", 1, I(1));
	call_is("acos", "0.0", 1, I(1));
	call_is("asin", "NaN", 1, I(2));
	call_is("atan", "0.7853981633974483", 1, I(1));
	call_is("atan2", "0.7853981633974483", 2, I(1), I(1));
	call_is("atan2", "null", 2, V_NULL(), I(1));
	call_is("cot", "Infinity", 1, I(0));
	call_is("degrees", "180.0", 1, F(M_PI));
	call_is("radians", "3.141592653589793", 1, I(180));
	call_is("haversin", "1.0", 1, F(M_PI));
	call_is("haversin", "0.0", 1, I(0));
	call_is("vector.similarity.euclidean", "1.0", 2, L(2, I(1), I(2)),
		L(2, F(1), F(2)));
	call_is("vector.similarity.euclidean", "0.16666666666666666", 2,
		L(2, I(0), I(0)),
		L(2, I(1), I(2)));
	call_is("vector.similarity.cosine", "1.0", 2, L(2, I(1), I(2)),
		L(2, I(2), I(4)));
	call_is("vector.similarity.cosine", "0.5", 2, L(2, I(1), I(0)),
		L(2, I(0), I(1)));
	call_is("vector.similarity.cosine", "null", 2, L(2, I(0), I(0)),
		L(2, I(0), I(1)));
	call_is("vector.similarity.cosine", "null", 2, V_NULL(), L(1, I(1)));
	call_fails("vector.similarity.cosine", "ArgumentError", 2, L(1, I(1)),
		   L(2, I(0), I(1)));
	call_fails("vector.similarity.euclidean", "TypeError", 2,
		   L(1, S("x")), L(1, I(1)));
	call_is("isNaN", "true", 1, F(NAN));
	call_is("isNaN", "false", 1, I(1));
	call_is("sqrt", "null", 1, V_NULL());
	assert_string_equal(call_fails("sqrt", "TypeError", 1, S("x")),
			    "Invalid input for function 'sqrt()': Expected a "
			    "number, got: String(\"x\")");
	call_fails("sin", "TypeError", 1, B(true));
	call_fails("atan2", "TypeError", 2, I(1), S("1"));
}

static void test_func_round_goes_half_up_and_to_a_given_precision(void **state)
{
	(void)state;
	call_is("round", "3.0", 1, F(3.4));
	call_is("round", "4.0", 1, F(3.5));
	call_is("round", "-3.0", 1, F(-3.5));
	call_is("round", "-4.0", 1, F(-3.6));
	call_is("round", "3.0", 1, I(3));
	call_is("round", "3.142", 2, F(3.141592), I(3));
	call_is("round", "2.68", 2, F(2.675), I(2));
	call_is("round", "-1.6", 2, F(-1.55), I(1));
	call_is("round", "1.2", 3, F(1.25), I(1), S("HALF_EVEN"));
	call_is("round", "1.4", 3, F(1.35), I(1), S("HALF_EVEN"));
	call_is("round", "1.2", 3, F(1.25), I(1), S("HALF_DOWN"));
	call_is("round", "1.3", 3, F(1.21), I(1), S("UP"));
	call_is("round", "-1.3", 3, F(-1.21), I(1), S("UP"));
	call_is("round", "1.2", 3, F(1.29), I(1), S("DOWN"));
	call_is("round", "-1.2", 3, F(-1.21), I(1), S("CEILING"));
	call_is("round", "-1.3", 3, F(-1.21), I(1), S("FLOOR"));
	call_is("round", "1300.0", 2, F(1250.0), I(-2));
	call_is("round", "-1.0", 2, F(-1.5), I(0));
	call_is("round", "-2.0", 3, F(-1.5), I(0), S("HALF_UP"));
	call_is("round", "1.5", 3, F(1.5), I(1), S("UNNECESSARY"));
	call_fails("round", "ArithmeticError", 3, F(1.55), I(1),
		   S("UNNECESSARY"));
	call_is("round", "1.0", 2, F(0.999), I(2));
	call_is("round", "0.0", 2, F(0.001), I(1));
	call_is("round", "0.1", 3, F(0.001), I(1), S("UP"));
	call_is("round", "10.0", 2, F(9.99), I(1));
	call_is("round", "12.0", 2, I(12), I(3));
	call_is("round", "null", 2, V_NULL(), I(1));
	call_is("round", "NaN", 2, F(NAN), I(1));
	call_fails("round", "ArgumentError", 3, F(1), I(1), S("SIDEWAYS"));
	call_fails("round", "TypeError", 1, S("1.5"));
}

static void test_func_conversions_parse_trimmed_text_and_truncate_floats(void **state)
{
	(void)state;
	call_is("toInteger", "42", 1, S("42"));
	call_is("toInteger", "42", 1, S(" 42 "));
	call_is("toInteger", "42", 1, S("42.9"));
	call_is("toInteger", "-3", 1, F(-3.9));
	call_is("toInteger", "1", 1, B(true));
	call_is("toInteger", "0", 1, B(false));
	call_is("toInteger", "null", 1, S("forty"));
	call_is("toInteger", "null", 1, S(""));
	call_is("toInteger", "null", 1, V_NULL());
	call_is("toInteger", "1000", 1, S("1e3"));
	assert_string_equal(call_fails("toInteger", "TypeError", 1, L(0)),
			    "Invalid input for function 'toInteger()': "
			    "Expected a String, Float, Integer or Boolean, "
			    "got: List([])");
	call_is("toIntegerOrNull", "null", 1, L(0));
	call_is("toIntegerOrNull", "7", 1, S("7"));
	call_is("toFloat", "1.5", 1, S("1.5"));
	call_is("toFloat", "3.0", 1, I(3));
	call_is("toFloat", "null", 1, S("x1"));
	call_is("toFloat", "null", 1, S("0x10"));
	call_fails("toFloat", "TypeError", 1, B(true));
	call_is("toFloatOrNull", "null", 1, B(true));
	call_is("toBoolean", "true", 1, S("TRUE"));
	call_is("toBoolean", "false", 1, S("false"));
	call_is("toBoolean", "null", 1, S("yes"));
	call_is("toBoolean", "true", 1, I(5));
	call_is("toBoolean", "false", 1, I(0));
	call_fails("toBoolean", "TypeError", 1, F(1.0));
	call_is("toBooleanOrNull", "null", 1, F(1.0));
	call_is("toString", "'1'", 1, I(1));
	call_is("toString", "'1.0'", 1, F(1));
	call_is("toString", "'1.0E10'", 1, F(1e10));
	call_is("toString", "'true'", 1, B(true));
	call_is("toString", "'x'", 1, S("x"));
	call_is("toString", "'2020-01-01'", 1,
		T("date", S("2020-01-01")));
	call_is("toString", "'P1D'", 1, T("duration", S("P1D")));
	call_is("toString", "'point({x: 1.0, y: 2.0, crs: \\'cartesian\\'})'",
		1, T("point", M(2, "x", I(1), "y", I(2))));
	call_fails("toString", "TypeError", 1, L(0));
	call_is("toStringOrNull", "null", 1, M(0));
	call_is("toIntegerList", "[1, null, 3, 1]", 1,
		L(4, S("1"), S("x"), F(3.5), B(true)));
	call_is("toFloatList", "[1.0, null, 2.5]", 1,
		L(3, I(1), L(0), S("2.5")));
	call_is("toStringList", "['1', '1.5', null, 'true']", 1,
		L(4, I(1), F(1.5), M(0), B(true)));
	call_is("toBooleanList", "[true, null, false]", 1,
		L(3, S("true"), F(1), I(0)));
	call_is("toIntegerList", "null", 1, V_NULL());
	call_fails("toIntegerList", "TypeError", 1, I(1));
}

static void test_func_scalar_functions_give_neo4j_results_and_null_for_null(void **state)
{
	struct graft_value out;
	const struct cypher_func *f;

	(void)state;
	call_is("coalesce", "2", 3, V_NULL(), I(2), I(3));
	call_is("coalesce", "null", 2, V_NULL(), V_NULL());
	call_is("nullIf", "null", 2, I(1), F(1.0));
	call_is("nullIf", "1", 2, I(1), I(2));
	call_is("nullIf", "null", 2, V_NULL(), I(2));
	call_is("timestamp", "1592217045123", 0);
	call_is("valueType", "'INTEGER NOT NULL'", 1, I(1));
	call_is("valueType", "'FLOAT NOT NULL'", 1, F(1));
	call_is("valueType", "'STRING NOT NULL'", 1, S(""));
	call_is("valueType", "'BOOLEAN NOT NULL'", 1, B(true));
	call_is("valueType", "'NULL'", 1, V_NULL());
	call_is("valueType", "'MAP NOT NULL'", 1, M(0));
	call_is("valueType", "'LIST<NOTHING> NOT NULL'", 1, L(0));
	call_is("valueType", "'LIST<INTEGER NOT NULL> NOT NULL'", 1,
		L(2, I(1), I(2)));
	call_is("valueType", "'LIST<INTEGER NOT NULL | STRING NOT NULL> NOT "
		"NULL'", 1, L(3, I(1), S("a"), I(2)));
	call_is("valueType", "'LIST<INTEGER> NOT NULL'", 1,
		L(2, I(1), V_NULL()));
	call_is("valueType", "'LIST<LIST<FLOAT NOT NULL> NOT NULL> NOT NULL'",
		1, L(1, L(1, F(1))));
	call_is("valueType", "'ZONED DATETIME NOT NULL'", 1,
		T("datetime", S("2020-01-01T00:00Z")));
	call_is("valueType", "'DURATION NOT NULL'", 1,
		T("duration", S("PT1S")));
	call_is("valueType", "'NODE NOT NULL'", 1,
		graft_value_ref(GRAFT_VALUE_NODE, 1));
	f = cypher_func_lookup("randomUUID", 10);
	assert_int_equal(f->fn(cfx(), NULL, 0, &out), GRAFT_OK);
	assert_int_equal(out.type, GRAFT_VALUE_STRING);
	assert_int_equal(out.u.s->len, 36);
	assert_int_equal(out.u.s->data[14], '4');
	assert_int_equal(out.u.s->data[8], '-');
	graft_value_free(&out);
	f = cypher_func_lookup("rand", 4);
	for (int i = 0; i < 100; i++) {
		assert_int_equal(f->fn(cfx(), NULL, 0, &out), GRAFT_OK);
		assert_true(out.u.f >= 0 && out.u.f < 1);
	}
}

static void test_func_list_functions_give_neo4j_results_and_type_errors(void **state)
{
	(void)state;
	call_is("size", "3", 1, L(3, I(1), I(2), I(3)));
	call_is("size", "5", 1, S("héllo"));
	call_is("size", "null", 1, V_NULL());
	call_fails("size", "TypeError", 1, I(1));
	call_is("head", "1", 1, L(2, I(1), I(2)));
	call_is("head", "null", 1, L(0));
	call_is("head", "null", 1, V_NULL());
	call_fails("head", "TypeError", 1, S("abc"));
	call_is("last", "2", 1, L(2, I(1), I(2)));
	call_is("last", "null", 1, L(0));
	call_is("tail", "[2, 3]", 1, L(3, I(1), I(2), I(3)));
	call_is("tail", "[]", 1, L(1, I(1)));
	call_is("tail", "[]", 1, L(0));
	call_is("reverse", "[3, 2, 1]", 1, L(3, I(1), I(2), I(3)));
	call_is("reverse", "'olléh'", 1, S("héllo"));
	call_is("reverse", "''", 1, S(""));
	call_is("range", "[0, 1, 2, 3]", 2, I(0), I(3));
	call_is("range", "[0, 2, 4]", 3, I(0), I(5), I(2));
	call_is("range", "[5, 3, 1]", 3, I(5), I(0), I(-2));
	call_is("range", "[]", 2, I(3), I(0));
	call_is("range", "[]", 3, I(0), I(3), I(-1));
	call_is("range", "[7]", 2, I(7), I(7));
	call_fails("range", "ArgumentError", 3, I(0), I(3), I(0));
	call_fails("range", "ArgumentError", 2, F(0.5), I(3));
	call_fails("range", "ArgumentError", 3, I(0), I(1), B(true));
	call_is("range", "[]", 3, I(0), I(1), I(-123));
	call_is("range", "[0]", 3, I(0), I(1), I(2));
	call_is("range", "[1381, 83, -1215, -2513]", 3, I(1381), I(-3412),
		I(-1298));
	call_is("range", "[-9223372036854775808, -1]", 3, I(INT64_MIN), I(0),
		I(INT64_MAX));
	call_fails("range", "ArgumentError", 2, I(0), I(INT64_MAX));
	call_is("isEmpty", "true", 1, L(0));
	call_is("isEmpty", "false", 1, S("a"));
	call_is("isEmpty", "true", 1, M(0));
	call_is("isEmpty", "null", 1, V_NULL());
	call_fails("isEmpty", "TypeError", 1, I(0));
	call_is("keys", "['a', 'b']", 1, M(2, "b", I(1), "a", I(2)));
	call_is("keys", "null", 1, V_NULL());
	call_is("properties", "{a: 1}", 1, M(1, "a", I(1)));
	call_fails("keys", "TypeError", 1, I(1));
	call_fails("properties", "TypeError", 1, L(0));
}

static void test_func_string_functions_bound_lengths_and_refuse_wrong_types(void **state)
{
	(void)state;
	call_is("left", "'he'", 2, S("hello"), I(2));
	call_is("left", "'hello'", 2, S("hello"), I(20));
	call_is("left", "''", 2, S("hello"), I(0));
	call_is("left", "null", 2, V_NULL(), I(2));
	call_fails("left", "ArgumentError", 2, S("x"), I(-1));
	call_fails("left", "TypeError", 2, I(1), I(1));
	call_is("right", "'lo'", 2, S("hello"), I(2));
	call_is("right", "'hello'", 2, S("hello"), I(9));
	call_is("right", "'éa'", 2, S("xéa"), I(2));
	call_is("substring", "'ell'", 3, S("hello"), I(1), I(3));
	call_is("substring", "'llo'", 2, S("hello"), I(2));
	call_is("substring", "''", 2, S("hello"), I(10));
	call_is("substring", "'éb'", 3, S("aébc"), I(1), I(2));
	call_fails("substring", "ArgumentError", 3, S("x"), I(0), I(-1));
	call_fails("substring", "ArgumentError", 2, S("x"), I(-1));
	call_fails("substring", "ArgumentError", 2, S("x"), V_NULL());
	call_is("substring", "null", 2, V_NULL(), V_NULL());
	call_fails("left", "ArgumentError", 2, S("x"), V_NULL());
	call_is("left", "null", 2, V_NULL(), V_NULL());
	call_fails("right", "ArgumentError", 2, S("x"), V_NULL());
	call_is("trim", "'a b'", 1, S("  a b \t\n"));
	call_is("ltrim", "'a '", 1, S("  a "));
	call_is("rtrim", "'  a'", 1, S("  a "));
	call_is("btrim", "'hello'", 2, S("xxhelloxx"), S("x"));
	call_is("ltrim", "'helloxx'", 2, S("xxhelloxx"), S("x"));
	call_is("rtrim", "'xxhello'", 2, S("xxhelloxx"), S("x"));
	call_is("trim", "''", 1, S("   "));
	call_fails("trim", "TypeError", 1, I(1));
	call_is("toUpper", "'ABC É'", 1, S("abc é"));
	call_is("toLower", "'abc é'", 1, S("ABC É"));
	call_is("toUpper", "'ŁÓDŹ ΣΟΦΊΑ ΟΔΟΣ МОСКВА ЁЛКА ŸÞ ß'", 1,
		S("łódź σοφία οδος москва ёлка ÿþ ß"));
	call_is("toLower", "'łódź σοφία москва ёлка ÿþ'", 1,
		S("ŁÓDŹ ΣΟΦΊΑ МОСКВА ЁЛКА ŸÞ"));
	call_is("toUpper", "'€ 日本'", 1, S("€ 日本"));
	call_is("upper", "'X'", 1, S("x"));
	call_is("lower", "'x'", 1, S("X"));
	call_is("toUpper", "null", 1, V_NULL());
	assert_string_equal(call_fails("toUpper", "TypeError", 1, I(1)),
			    "Invalid input for function 'toUpper()': "
			    "Expected a String, got: Integer(1)");
	call_is("replace", "'heLLo'", 3, S("hello"), S("l"), S("L"));
	call_is("replace", "'hello'", 3, S("hello"), S("z"), S("L"));
	call_is("replace", "'-a-b-'", 3, S("ab"), S(""), S("-"));
	call_is("replace", "'xx'", 3, S("aaaa"), S("aa"), S("x"));
	call_is("replace", "null", 3, S("a"), V_NULL(), S("b"));
	call_is("split", "['a', 'b', '', 'c']", 2, S("a,b,,c"), S(","));
	call_is("split", "['a', 'b', '']", 2, S("a,b,"), S(","));
	call_is("split", "['abc']", 2, S("abc"), S(","));
	call_is("split", "['a', 'é', 'c']", 2, S("aéc"), S(""));
	call_is("split", "['a', 'b', 'c']", 2, S("a,b;c"),
		L(2, S(","), S(";")));
	call_is("split", "['', '']", 2, S("::"), S("::"));
	call_is("split", "null", 2, V_NULL(), S(","));
	call_is("normalize", "'abc'", 1, S("abc"));
	call_is("normalize", "'abc'", 2, S("abc"), S("NFKD"));
	/* é as one code point and as e + U+0301. */
	call_is("normalize", "'\xc3\xa9'", 1, S("e\xcc\x81"));
	call_is("normalize", "'e\xcc\x81'", 2, S("\xc3\xa9"), S("NFD"));
	/* Marks reorder by class: dot below (220) before acute (230). */
	call_is("normalize", "'\xe1\xbb\x87'", 1,
		S("e\xcc\x82\xcc\xa3"));
	call_is("normalize", "'fi 2 A'", 2,
		S("\xef\xac\x81 \xc2\xb2 \xef\xbc\xa1"), S("NFKC"));
	call_is("normalize", "'\xef\xac\x81'", 2, S("\xef\xac\x81"),
		S("NFC"));
	/* Hangul by formula. */
	call_is("normalize", "'\xea\xb0\x80'", 1,
		S("\xe1\x84\x80\xe1\x85\xa1"));
	call_is("normalize", "'\xe1\x84\x80\xe1\x85\xa1\xe1\x86\xa8'",
		2, S("\xea\xb0\x81"), S("NFD"));
	call_fails("normalize", "ArgumentError", 2, S("abc"), S("NFX"));
	call_is("char_length", "3", 1, S("aéb"));
	call_is("character_length", "0", 1, S(""));
}

static void test_func_entities_without_database(void **state)
{
	(void)state;
	call_is("id", "7", 1, graft_value_ref(GRAFT_VALUE_NODE, 7));
	call_is("id", "9", 1, graft_value_ref(GRAFT_VALUE_REL, 9));
	call_is("id", "null", 1, V_NULL());
	call_fails("id", "TypeError", 1, I(7));
	call_is("elementId", "'4::7'", 1, graft_value_ref(GRAFT_VALUE_NODE, 7));
	call_is("elementId", "'5::9'", 1, graft_value_ref(GRAFT_VALUE_REL, 9));
	call_fails("labels", "TypeError", 1, I(1));
	call_fails("type", "TypeError", 1, graft_value_ref(GRAFT_VALUE_NODE, 1));
	call_fails("startNode", "TypeError", 1, M(0));
	call_is("startNode", "null", 1, V_NULL());
	{
		struct graft_value p = L(5, I(1), I(10), I(2), I(11), I(3));
		struct graft_value q;
		p.type = GRAFT_VALUE_PATH;
		assert_int_equal(graft_value_copy(&q, &p), GRAFT_OK);
		call_is("length", "2", 1, p);
		assert_int_equal(graft_value_copy(&p, &q), GRAFT_OK);
		call_is("nodes", "[(#1), (#2), (#3)]", 1, p);
		call_is("relationships", "[[#10], [#11]]", 1, q);
	}
	call_fails("length", "TypeError", 1, S("abc"));
}

/* Node a (:L:A {x: 1, y: 'two'}) -[:R {y: 2.5}]-> node b (), written in
 * a transaction that the functions then read through. */
static void test_func_entities_through_a_transaction(void **state)
{
	struct fixture *f = *state;
	struct graft_value v;
	struct db_tx *tx;
	uint64_t a, b, r, gone;
	uint32_t label_a;
	char want[64];

	assert_int_equal(db_token(f->db, GRAPH_TOKEN_LABEL, "A", 1, &label_a),
			 GRAFT_OK);
	assert_int_equal(db_tx_begin(f->db, 0, &tx), GRAFT_OK);
	assert_int_equal(db_tx_node_create(tx, &a), GRAFT_OK);
	assert_int_equal(db_tx_node_create(tx, &b), GRAFT_OK);
	assert_int_equal(db_tx_node_create(tx, &gone), GRAFT_OK);
	assert_int_equal(db_tx_node_delete(tx, gone), GRAFT_OK);
	assert_int_equal(db_tx_node_add_label(tx, a, f->label), GRAFT_OK);
	assert_int_equal(db_tx_node_add_label(tx, a, label_a), GRAFT_OK);
	v = I(1);
	assert_int_equal(db_tx_node_set_prop(tx, a, f->key_x, &v), GRAFT_OK);
	v = S("two");
	assert_int_equal(db_tx_node_set_prop(tx, a, f->key_y, &v), GRAFT_OK);
	graft_value_free(&v);
	assert_int_equal(db_tx_rel_create(tx, f->type, a, b, &r), GRAFT_OK);
	v = F(2.5);
	assert_int_equal(db_tx_rel_set_prop(tx, r, f->key_y, &v), GRAFT_OK);
	cfx_use_db(f->db, tx);
	call_is("labels", "['A', 'L']", 1, graft_value_ref(GRAFT_VALUE_NODE, a));
	call_is("labels", "[]", 1, graft_value_ref(GRAFT_VALUE_NODE, b));
	call_is("keys", "['x', 'y']", 1, graft_value_ref(GRAFT_VALUE_NODE, a));
	call_is("keys", "['y']", 1, graft_value_ref(GRAFT_VALUE_REL, r));
	call_is("properties", "{x: 1, y: 'two'}", 1,
		graft_value_ref(GRAFT_VALUE_NODE, a));
	call_is("properties", "{}", 1, graft_value_ref(GRAFT_VALUE_NODE, b));
	call_is("properties", "{y: 2.5}", 1,
		graft_value_ref(GRAFT_VALUE_REL, r));
	call_is("type", "'R'", 1, graft_value_ref(GRAFT_VALUE_REL, r));
	snprintf(want, sizeof want, "(#%llu)", (unsigned long long)a);
	call_is("startNode", want, 1, graft_value_ref(GRAFT_VALUE_REL, r));
	snprintf(want, sizeof want, "(#%llu)", (unsigned long long)b);
	call_is("endNode", want, 1, graft_value_ref(GRAFT_VALUE_REL, r));
	snprintf(want, sizeof want, "'4:%s:%llu'", f->o.name,
		 (unsigned long long)a);
	call_is("elementId", want, 1, graft_value_ref(GRAFT_VALUE_NODE, a));
	call_fails("labels", "EntityNotFound", 1,
		   graft_value_ref(GRAFT_VALUE_NODE, gone));
	call_fails("keys", "EntityNotFound", 1,
		   graft_value_ref(GRAFT_VALUE_NODE, gone));
	call_fails("type", "EntityNotFound", 1,
		   graft_value_ref(GRAFT_VALUE_REL, r + 100));
	/* A temporal property is stored like any other value. */
	v = T("datetime", S("2020-01-01T12:00[Europe/Paris]"));
	assert_int_equal(db_tx_node_set_prop(tx, b, f->key_x, &v), GRAFT_OK);
	graft_value_free(&v);
	call_is("properties",
		"{x: datetime('2020-01-01T12:00:00+01:00[Europe/Paris]')}", 1,
		graft_value_ref(GRAFT_VALUE_NODE, b));
	cfx_use_db(NULL, NULL);
	assert_int_equal(fx_commit(f, tx, NULL, NULL), GRAFT_OK);
}

/* Runs aggregation name over the values of list (taken over), one row per
 * value (two arguments per row when extra is not null), and renders. */
static const char *agg(const char *name, struct graft_value list,
		       struct graft_value extra, int want_rv)
{
	static char buf[512];
	const struct cypher_agg *a = cypher_agg_lookup(name, strlen(name));
	struct cypher_fctx *fc = cfx();
	struct graft_value args[2], out = graft_value_null();
	void *state;
	int rv = GRAFT_OK;

	assert_non_null(a);
	state = calloc(1, a->state_size);
	a->init(state);
	for (uint32_t i = 0; rv == GRAFT_OK && i < list.u.list->len; i++) {
		args[0] = list.u.list->items[i];
		args[1] = extra;
		rv = a->step(fc, state, args, a->max_args);
	}
	if (rv == GRAFT_OK)
		rv = a->final(fc, state, &out);
	assert_int_equal(rv, want_rv);
	a->free(state);
	free(state);
	strcpy(buf, rv == GRAFT_OK ? R(&out) : fc->err->code);
	graft_value_free(&out);
	graft_value_free(&list);
	return buf;
}

static void test_func_aggregations_skip_nulls_and_fail_on_mixed_types(void **state)
{
	struct graft_value nul = V_NULL();

	(void)state;
	assert_string_equal(agg("count", L(3, I(1), V_NULL(), S("a")), nul, 0),
			    "2");
	assert_string_equal(agg("count", L(0), nul, 0), "0");
	assert_string_equal(agg("collect", L(3, I(1), V_NULL(), S("a")), nul,
				0), "[1, 'a']");
	assert_string_equal(agg("collect", L(0), nul, 0), "[]");
	assert_string_equal(agg("sum", L(3, I(1), I(2), V_NULL()), nul, 0),
			    "3");
	assert_string_equal(agg("sum", L(2, I(1), F(0.5)), nul, 0), "1.5");
	assert_string_equal(agg("sum", L(0), nul, 0), "0");
	assert_string_equal(agg("sum", L(2, I(INT64_MAX), I(1)), nul,
				GRAFT_EINVAL),
			    "Neo.ClientError.Statement.ArithmeticError");
	assert_string_equal(agg("sum", L(2, I(1), S("x")), nul, GRAFT_EINVAL),
			    "Neo.ClientError.Statement.TypeError");
	assert_string_equal(agg("sum", L(2, T("duration", S("PT1H")),
					 T("duration", S("P1DT30M"))),
				nul, 0),
			    "duration('P1DT1H30M')");
	assert_string_equal(agg("sum", L(2, T("duration", S("PT1H")), I(1)),
				nul, GRAFT_EINVAL),
			    "Neo.ClientError.Statement.TypeError");
	assert_string_equal(agg("avg", L(3, I(1), I(2), V_NULL()), nul, 0),
			    "1.5");
	assert_string_equal(agg("avg", L(0), nul, 0), "null");
	assert_string_equal(agg("avg", L(2, T("duration", S("PT1H")),
					 T("duration", S("PT2H"))),
				nul, 0),
			    "duration('PT1H30M')");
	assert_string_equal(agg("min", L(4, I(3), V_NULL(), F(1.5), I(2)),
				nul, 0), "1.5");
	assert_string_equal(agg("max", L(4, I(3), V_NULL(), F(1.5), I(2)),
				nul, 0), "3");
	assert_string_equal(agg("max", L(3, I(3), S("z"), L(0)), nul, 0),
			    "3");
	assert_string_equal(agg("min", L(3, I(3), S("z"), L(0)), nul, 0),
			    "[]");
	assert_string_equal(agg("min", L(1, V_NULL()), nul, 0), "null");
	assert_string_equal(agg("stDev", L(4, I(2), I(4), I(4), I(6)), nul, 0),
			    "1.632993161855452");
	assert_string_equal(agg("stDevP", L(4, I(2), I(4), I(4), I(6)), nul,
				0), "1.4142135623730951");
	assert_string_equal(agg("stDev", L(1, I(2)), nul, 0), "0.0");
	assert_string_equal(agg("stDevP", L(0), nul, 0), "0.0");
	assert_string_equal(agg("percentileCont",
				L(4, I(10), I(20), I(30), I(40)), F(0.5), 0),
			    "25.0");
	assert_string_equal(agg("percentileDisc",
				L(4, I(10), I(20), I(30), I(40)), F(0.5), 0),
			    "20");
	assert_string_equal(agg("percentileDisc",
				L(4, I(40), I(30), I(20), I(10)), F(0.51), 0),
			    "30");
	assert_string_equal(agg("percentileDisc", L(2, I(1), I(2)), F(0), 0),
			    "1");
	assert_string_equal(agg("percentileCont", L(3, I(1), I(2), I(4)),
				F(1), 0), "4.0");
	assert_string_equal(agg("percentileCont", L(0), F(0.5), 0), "null");
	assert_string_equal(agg("percentileCont", L(1, I(1)), F(1.5),
				GRAFT_EINVAL),
			    "Neo.ClientError.Statement.ArgumentError");
	assert_string_equal(agg("percentileDisc", L(1, I(1)), F(-0.1),
				GRAFT_EINVAL),
			    "Neo.ClientError.Statement.ArgumentError");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_func_lookup_is_case_insensitive),
		cmocka_unit_test(test_func_math_matches_neo4j_and_overflow_fails_as_arithmetic_error),
		cmocka_unit_test(test_func_round_goes_half_up_and_to_a_given_precision),
		cmocka_unit_test(test_func_conversions_parse_trimmed_text_and_truncate_floats),
		cmocka_unit_test(test_func_scalar_functions_give_neo4j_results_and_null_for_null),
		cmocka_unit_test(test_func_list_functions_give_neo4j_results_and_type_errors),
		cmocka_unit_test(test_func_string_functions_bound_lengths_and_refuse_wrong_types),
		cmocka_unit_test(test_func_entities_without_database),
		cmocka_unit_test_setup_teardown(
			test_func_entities_through_a_transaction,
			fx_setup_open, fx_teardown),
		cmocka_unit_test(test_func_aggregations_skip_nulls_and_fail_on_mixed_types),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
