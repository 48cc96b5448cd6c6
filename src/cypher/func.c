/* The function registry (one table, looked up case-insensitively), the
 * failure helper every function and operator reports through, and the
 * argument checks shared by the func_*.c files. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "func_int.h"
#include "ops.h"

int cypher_fail(struct cypher_fctx *fc, enum graft_status status,
		const char *fmt, ...)
{
	va_list ap;

	if (fc == NULL || fc->err == NULL)
		return GRAFT_EINVAL;
	va_start(ap, fmt);
	cypher_error_vset(fc->err, status, fmt, ap);
	va_end(ap);
	return GRAFT_EINVAL;
}

int cypher_items_copy(struct cypher_fctx *fc, struct graft_value *dst,
		      const struct graft_value *src, uint32_t n, bool reverse)
{
	for (uint32_t i = 0; i < n; i++) {
		if (i % CYPHER_ASK_EVERY == CYPHER_ASK_EVERY - 1 && fc != NULL &&
		    fc->interrupted != NULL && fc->interrupted(fc) != 0)
			return GRAFT_EINVAL;
		if (graft_value_copy(&dst[i], &src[reverse ? n - 1 - i : i]) !=
		    GRAFT_OK)
			return GRAFT_ENOMEM;
	}
	return GRAFT_OK;
}

int cypher_value_copy(struct cypher_fctx *fc, struct graft_value *dst,
		      const struct graft_value *src)
{
	int rv;

	/* a shorter list is copied between two questions anyway */
	if (src->type != GRAFT_VALUE_LIST ||
	    src->u.list->len < CYPHER_ASK_EVERY)
		return graft_value_copy(dst, src);
	rv = graft_value_list(dst, src->u.list->len);
	if (rv == GRAFT_OK)
		rv = cypher_items_copy(fc, dst->u.list->items,
				       src->u.list->items, src->u.list->len,
				       false);
	if (rv != GRAFT_OK) {
		graft_value_free(dst);
		*dst = graft_value_null();
	}
	return rv;
}

const char *func_describe(const struct graft_value *v, char *buf, size_t size)
{
	char tmp[128];

	if (v->type == GRAFT_VALUE_STRING) {
		snprintf(buf, size, "String(\"%.*s\")",
			 v->u.s->len > 100 ? 100 : (int)v->u.s->len,
			 v->u.s->data);
		return buf;
	}
	if (v->type == GRAFT_VALUE_NULL)
		return "NO_VALUE";
	cypher_render_with(NULL, v, tmp, sizeof tmp);
	snprintf(buf, size, "%s(%s)", cypher_type_name(v), tmp);
	return buf;
}

int func_type_error(struct cypher_fctx *fc, const char *name,
		    const char *what, const struct graft_value *got)
{
	char d[192];

	return cypher_fail(fc, GRAFT_STATUS_TYPE_ERROR,
			   "Invalid input for function '%s()': Expected %s, "
			   "got: %s", name, what, func_describe(got, d,
								  sizeof d));
}

int func_arg_error(struct cypher_fctx *fc, const char *name,
		   const char *reason)
{
	return cypher_fail(fc, GRAFT_STATUS_ARGUMENT_ERROR,
			   "Invalid input for function '%s()': %s", name,
			   reason);
}

int func_arg_number(struct cypher_fctx *fc, const char *name,
		    const struct graft_value *v, double *out)
{
	if (!func_is_number(v))
		return func_type_error(fc, name, "a number", v);
	*out = func_as_double(v);
	return GRAFT_OK;
}

int func_arg_int(struct cypher_fctx *fc, const char *name,
		 const struct graft_value *v, int64_t *out)
{
	if (v->type == GRAFT_VALUE_INT) {
		*out = v->u.i;
		return GRAFT_OK;
	}
	if (v->type == GRAFT_VALUE_FLOAT && v->u.f == v->u.f &&
	    v->u.f > -9.2e18 && v->u.f < 9.2e18) {
		*out = (int64_t)v->u.f;
		return GRAFT_OK;
	}
	return func_type_error(fc, name, "an Integer", v);
}

bool func_any_null(const struct graft_value *args, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (args[i].type == GRAFT_VALUE_NULL)
			return true;
	return false;
}

size_t func_utf8_count(const struct graft_str *s)
{
	size_t n = 0;

	for (uint32_t i = 0; i < s->len; i++)
		n += ((uint8_t)s->data[i] & 0xc0) != 0x80;
	return n;
}

int func_string_printf(struct graft_value *out, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	return graft_value_string(out, tmp,
				  (size_t)n < sizeof tmp ? (size_t)n
							 : sizeof tmp - 1);
}

/* The table --------------------------------------------------------------- */

#define F(name, lo, hi, fn, sig, desc, cat) {name, lo, hi, fn, sig, desc, cat}

static const struct cypher_func funcs[] = {
	/* Numeric */
	F("abs", 1, 1, fn_abs, "abs(input :: INTEGER | FLOAT) :: INTEGER | FLOAT", "Returns the absolute value of an INTEGER or FLOAT.", "Numeric"),
	F("ceil", 1, 1, fn_ceil, "ceil(input :: FLOAT) :: FLOAT", "Returns the smallest FLOAT that is greater than or equal to a number and equal to an INTEGER.", "Numeric"),
	F("floor", 1, 1, fn_floor, "floor(input :: FLOAT) :: FLOAT", "Returns the largest FLOAT that is less than or equal to a number and equal to an INTEGER.", "Numeric"),
	F("round", 1, 3, fn_round, "round(value :: FLOAT, precision = 0 :: INTEGER | FLOAT, mode = 'HALF_UP' :: STRING) :: FLOAT", "Returns the value of a number rounded to the specified precision with the specified rounding mode.", "Numeric"),
	F("sign", 1, 1, fn_sign, "sign(input :: INTEGER | FLOAT) :: INTEGER", "Returns the signum of an INTEGER or FLOAT: 0 if the number is 0, -1 for any negative number, and 1 for any positive number.", "Numeric"),
	F("rand", 0, 0, fn_rand, "rand() :: FLOAT", "Returns a random FLOAT in the range from 0 (inclusive) to 1 (exclusive).", "Numeric"),
	F("isNaN", 1, 1, fn_isnan, "isNaN(input :: INTEGER | FLOAT) :: BOOLEAN", "Returns whether the given INTEGER or FLOAT is NaN.", "Numeric"),
	F("sqrt", 1, 1, fn_sqrt, "sqrt(input :: FLOAT) :: FLOAT", "Returns the square root of a FLOAT.", "Logarithmic"),
	F("exp", 1, 1, fn_exp, "exp(input :: FLOAT) :: FLOAT", "Returns e^n, where e is the base of the natural logarithm, and n is the value of the argument expression.", "Logarithmic"),
	F("log", 1, 1, fn_log, "log(input :: FLOAT) :: FLOAT", "Returns the natural logarithm of a FLOAT.", "Logarithmic"),
	F("log10", 1, 1, fn_log10, "log10(input :: FLOAT) :: FLOAT", "Returns the common logarithm (base 10) of a FLOAT.", "Logarithmic"),
	F("e", 0, 0, fn_e, "e() :: FLOAT", "Returns the base of the natural logarithm, e.", "Logarithmic"),
	F("pi", 0, 0, fn_pi, "pi() :: FLOAT", "Returns the mathematical constant pi.", "Trigonometric"),
	F("sin", 1, 1, fn_sin, "sin(input :: FLOAT) :: FLOAT", "Returns the sine of a FLOAT.", "Trigonometric"),
	F("cos", 1, 1, fn_cos, "cos(input :: FLOAT) :: FLOAT", "Returns the cosine of a FLOAT.", "Trigonometric"),
	F("tan", 1, 1, fn_tan, "tan(input :: FLOAT) :: FLOAT", "Returns the tangent of a FLOAT.", "Trigonometric"),
	F("asin", 1, 1, fn_asin, "asin(input :: FLOAT) :: FLOAT", "Returns the arcsine of a FLOAT.", "Trigonometric"),
	F("acos", 1, 1, fn_acos, "acos(input :: FLOAT) :: FLOAT", "Returns the arccosine of a FLOAT.", "Trigonometric"),
	F("atan", 1, 1, fn_atan, "atan(input :: FLOAT) :: FLOAT", "Returns the arctangent of a FLOAT.", "Trigonometric"),
	F("atan2", 2, 2, fn_atan2, "atan2(y :: FLOAT, x :: FLOAT) :: FLOAT", "Returns the arctangent2 of a set of coordinates in radians.", "Trigonometric"),
	F("cot", 1, 1, fn_cot, "cot(input :: FLOAT) :: FLOAT", "Returns the cotangent of a FLOAT.", "Trigonometric"),
	F("degrees", 1, 1, fn_degrees, "degrees(input :: FLOAT) :: FLOAT", "Converts radians to degrees.", "Trigonometric"),
	F("radians", 1, 1, fn_radians, "radians(input :: FLOAT) :: FLOAT", "Converts degrees to radians.", "Trigonometric"),
	F("haversin", 1, 1, fn_haversin, "haversin(input :: FLOAT) :: FLOAT", "Returns half the versine of a number.", "Trigonometric"),
	F("vector.similarity.euclidean", 2, 2, fn_vector_euclidean, "vector.similarity.euclidean(a :: VECTOR, b :: VECTOR) :: FLOAT", "Returns a FLOAT representing the similarity between the argument vectors based on their Euclidean distance.", "Vector"),
	F("vector.similarity.cosine", 2, 2, fn_vector_cosine, "vector.similarity.cosine(a :: VECTOR, b :: VECTOR) :: FLOAT", "Returns a FLOAT representing the similarity between the argument vectors based on their cosine.", "Vector"),
	/* Scalar */
	F("toInteger", 1, 1, fn_to_integer, "toInteger(input :: ANY) :: INTEGER", "Converts a BOOLEAN, STRING, INTEGER or FLOAT value to an INTEGER value.", "Scalar"),
	F("toFloat", 1, 1, fn_to_float, "toFloat(input :: ANY) :: FLOAT", "Converts a STRING, INTEGER or FLOAT value to a FLOAT value.", "Scalar"),
	F("toString", 1, 1, fn_to_string, "toString(input :: ANY) :: STRING", "Converts an INTEGER, FLOAT, BOOLEAN, STRING, POINT, DURATION, DATE, ZONED TIME, LOCAL TIME, LOCAL DATETIME or ZONED DATETIME value to a STRING.", "Scalar"),
	F("toBoolean", 1, 1, fn_to_boolean, "toBoolean(input :: ANY) :: BOOLEAN", "Converts a BOOLEAN, STRING or INTEGER value to a BOOLEAN value.", "Scalar"),
	F("toIntegerOrNull", 1, 1, fn_to_integer_or_null, "toIntegerOrNull(input :: ANY) :: INTEGER", "Converts a value to an INTEGER value, or null if the value cannot be converted.", "Scalar"),
	F("toFloatOrNull", 1, 1, fn_to_float_or_null, "toFloatOrNull(input :: ANY) :: FLOAT", "Converts a value to a FLOAT value, or null if the value cannot be converted.", "Scalar"),
	F("toBooleanOrNull", 1, 1, fn_to_boolean_or_null, "toBooleanOrNull(input :: ANY) :: BOOLEAN", "Converts a value to a BOOLEAN value, or null if the value cannot be converted.", "Scalar"),
	F("toStringOrNull", 1, 1, fn_to_string_or_null, "toStringOrNull(input :: ANY) :: STRING", "Converts a value to a STRING value, or null if the value cannot be converted.", "Scalar"),
	F("coalesce", 1, 255, fn_coalesce, "coalesce(input :: ANY) :: ANY", "Returns the first non-null value in a list of expressions.", "Scalar"),
	F("valueType", 1, 1, fn_value_type, "valueType(input :: ANY) :: STRING", "Returns a STRING representation of the most precise value type that the given expression evaluates to.", "Scalar"),
	F("randomUUID", 0, 0, fn_random_uuid, "randomUUID() :: STRING", "Generates a random UUID.", "Scalar"),
	F("timestamp", 0, 0, fn_timestamp, "timestamp() :: INTEGER", "Returns the difference, measured in milliseconds, between the current time and midnight, January 1, 1970 UTC.", "Scalar"),
	F("nullIf", 2, 2, fn_null_if, "nullIf(v1 :: ANY, v2 :: ANY) :: ANY", "Returns null if the two given parameters are equivalent, otherwise returns the value of the first parameter.", "Scalar"),
	F("size", 1, 1, fn_size, "size(input :: STRING | LIST<ANY>) :: INTEGER", "Returns the number of items in a LIST or the number of Unicode characters in a STRING.", "Scalar"),
	F("length", 1, 1, fn_length, "length(input :: PATH) :: INTEGER", "Returns the length of a PATH.", "Scalar"),
	F("head", 1, 1, fn_head, "head(list :: LIST<ANY>) :: ANY", "Returns the first element in a LIST.", "Scalar"),
	F("last", 1, 1, fn_last, "last(list :: LIST<ANY>) :: ANY", "Returns the last element in a LIST.", "Scalar"),
	F("keys", 1, 1, fn_keys, "keys(input :: NODE | RELATIONSHIP | MAP) :: LIST<STRING>", "Returns a LIST containing the STRING representations for all the property names of a NODE, RELATIONSHIP, or MAP.", "List"),
	F("properties", 1, 1, fn_properties, "properties(input :: MAP | NODE | RELATIONSHIP) :: MAP", "Returns a MAP containing all the properties of a NODE, RELATIONSHIP or MAP.", "Scalar"),
	F("labels", 1, 1, fn_labels, "labels(input :: NODE) :: LIST<STRING>", "Returns a LIST containing the STRING representations for all the labels of a NODE.", "List"),
	F("type", 1, 1, fn_type, "type(input :: RELATIONSHIP) :: STRING", "Returns a STRING representation of the RELATIONSHIP type.", "Scalar"),
	F("id", 1, 1, fn_id, "id(input :: NODE | RELATIONSHIP) :: INTEGER", "Returns the id of a NODE or a RELATIONSHIP.", "Scalar"),
	F("elementId", 1, 1, fn_element_id, "elementId(input :: NODE | RELATIONSHIP) :: STRING", "Returns the element id of a NODE or RELATIONSHIP.", "Scalar"),
	F("startNode", 1, 1, fn_start_node, "startNode(input :: RELATIONSHIP) :: NODE", "Returns the start NODE of a RELATIONSHIP.", "Scalar"),
	F("endNode", 1, 1, fn_end_node, "endNode(input :: RELATIONSHIP) :: NODE", "Returns the end NODE of a RELATIONSHIP.", "Scalar"),
	F("nodes", 1, 1, fn_nodes, "nodes(input :: PATH) :: LIST<NODE>", "Returns a LIST containing all the NODE values in a PATH.", "List"),
	F("relationships", 1, 1, fn_relationships, "relationships(input :: PATH) :: LIST<RELATIONSHIP>", "Returns a LIST containing all the RELATIONSHIP values in a PATH.", "List"),
	/* List */
	F("tail", 1, 1, fn_tail, "tail(input :: LIST<ANY>) :: LIST<ANY>", "Returns all but the first element in a LIST.", "List"),
	F("range", 2, 3, fn_range, "range(start :: INTEGER, end :: INTEGER, step = 1 :: INTEGER) :: LIST<INTEGER>", "Returns a LIST comprising all INTEGER values within a specified range, optionally specifying a step length.", "List"),
	F("reverse", 1, 1, fn_reverse, "reverse(input :: STRING | LIST<ANY>) :: STRING | LIST<ANY>", "Returns a STRING or LIST in which the order of all characters or elements in the given STRING or LIST have been reversed.", "List"),
	F("isEmpty", 1, 1, fn_is_empty, "isEmpty(input :: STRING | MAP | LIST<ANY>) :: BOOLEAN", "Checks whether a STRING, MAP or LIST is empty.", "Predicate"),
	F("toIntegerList", 1, 1, fn_to_integer_list, "toIntegerList(input :: LIST<ANY>) :: LIST<INTEGER>", "Converts a LIST of values to a LIST<INTEGER> values. If any values are not convertible to INTEGER they will be null in the LIST<INTEGER> returned.", "List"),
	F("toFloatList", 1, 1, fn_to_float_list, "toFloatList(input :: LIST<ANY>) :: LIST<FLOAT>", "Converts a LIST of values to a LIST<FLOAT> values. If any values are not convertible to FLOAT they will be null in the LIST<FLOAT> returned.", "List"),
	F("toStringList", 1, 1, fn_to_string_list, "toStringList(input :: LIST<ANY>) :: LIST<STRING>", "Converts a LIST of values to a LIST<STRING> values. If any values are not convertible to STRING they will be null in the LIST<STRING> returned.", "List"),
	F("toBooleanList", 1, 1, fn_to_boolean_list, "toBooleanList(input :: LIST<ANY>) :: LIST<BOOLEAN>", "Converts a LIST of values to a LIST<BOOLEAN> values. If any values are not convertible to BOOLEAN they will be null in the LIST<BOOLEAN> returned.", "List"),
	/* String */
	F("left", 2, 2, fn_left, "left(original :: STRING, length :: INTEGER) :: STRING", "Returns a STRING containing the specified number (INTEGER) of leftmost characters in the given STRING.", "String"),
	F("right", 2, 2, fn_right, "right(original :: STRING, length :: INTEGER) :: STRING", "Returns a STRING containing the specified number of rightmost characters in the given STRING.", "String"),
	F("substring", 2, 3, fn_substring, "substring(original :: STRING, start :: INTEGER, length :: INTEGER) :: STRING", "Returns a substring of a given length from the given STRING, beginning with a 0-based index.", "String"),
	F("trim", 1, 1, fn_trim, "trim(input :: STRING) :: STRING", "Returns the given STRING with leading and trailing whitespace removed.", "String"),
	F("ltrim", 1, 2, fn_ltrim, "ltrim(input :: STRING, trimCharacterString :: STRING) :: STRING", "Returns the given STRING with leading whitespace removed.", "String"),
	F("rtrim", 1, 2, fn_rtrim, "rtrim(input :: STRING, trimCharacterString :: STRING) :: STRING", "Returns the given STRING with trailing whitespace removed.", "String"),
	F("btrim", 1, 2, fn_btrim, "btrim(original :: STRING, trimCharacterString :: STRING) :: STRING", "Returns the given STRING with leading and trailing trimCharacterString characters removed.", "String"),
	F("toUpper", 1, 1, fn_to_upper, "toUpper(input :: STRING) :: STRING", "Returns the given STRING in uppercase.", "String"),
	F("toLower", 1, 1, fn_to_lower, "toLower(input :: STRING) :: STRING", "Returns the given STRING in lowercase.", "String"),
	F("upper", 1, 1, fn_to_upper, "upper(input :: STRING) :: STRING", "Returns the given STRING in uppercase. This function is an alias to the toUpper() function.", "String"),
	F("lower", 1, 1, fn_to_lower, "lower(input :: STRING) :: STRING", "Returns the given STRING in lowercase. This function is an alias to the toLower() function.", "String"),
	F("replace", 3, 3, fn_replace, "replace(original :: STRING, search :: STRING, replace :: STRING) :: STRING", "Returns a STRING in which all occurrences of a specified search STRING in the given STRING have been replaced by another (specified) replacement STRING.", "String"),
	F("split", 2, 2, fn_split, "split(original :: STRING, splitDelimiter :: STRING | LIST<STRING>) :: LIST<STRING>", "Returns a LIST<STRING> resulting from the splitting of the given STRING around matches of the given delimiter(s).", "String"),
	F("normalize", 1, 2, fn_normalize, "normalize(input :: STRING, normalForm = NFC :: [NFC, NFD, NFKC, NFKD]) :: STRING", "Normalize a STRING according to the specified normalization form.", "String"),
	F("char_length", 1, 1, fn_char_length, "char_length(input :: STRING) :: INTEGER", "Returns the number of Unicode characters in a STRING.", "Scalar"),
	F("character_length", 1, 1, fn_char_length, "character_length(input :: STRING) :: INTEGER", "Returns the number of Unicode characters in a STRING.", "Scalar"),
	/* Temporal */
	F("date", 0, 1, fn_date, "date(input = DEFAULT_TEMPORAL_ARGUMENT :: ANY) :: DATE", "Creates a DATE instant.", "Temporal"),
	F("date.statement", 0, 1, fn_date_now, "date.statement(timezone = DEFAULT_TEMPORAL_ARGUMENT :: ANY) :: DATE", "Returns the current DATE instant using the statement clock.", "Temporal"),
	F("date.transaction", 0, 1, fn_date_now, "date.transaction(timezone = DEFAULT_TEMPORAL_ARGUMENT :: ANY) :: DATE", "Returns the current DATE instant using the transaction clock.", "Temporal"),
	F("date.realtime", 0, 1, fn_date_realtime, "date.realtime(timezone = DEFAULT_TEMPORAL_ARGUMENT :: ANY) :: DATE", "Returns the current DATE instant using the realtime clock.", "Temporal"),
	F("date.truncate", 2, 3, fn_date_truncate, "date.truncate(unit :: STRING, input = DEFAULT_TEMPORAL_ARGUMENT :: ANY, fields = null :: MAP) :: DATE", "Truncates the given temporal value to a DATE instant using the specified unit.", "Temporal"),
	F("localtime", 0, 1, fn_localtime, "localtime(input = DEFAULT_TEMPORAL_ARGUMENT :: ANY) :: LOCAL TIME", "Creates a LOCAL TIME instant.", "Temporal"),
	F("localtime.statement", 0, 1, fn_localtime_now, "localtime.statement(timezone = DEFAULT_TEMPORAL_ARGUMENT :: ANY) :: LOCAL TIME", "Returns the current LOCAL TIME instant using the statement clock.", "Temporal"),
	F("localtime.transaction", 0, 1, fn_localtime_now, "localtime.transaction(timezone = DEFAULT_TEMPORAL_ARGUMENT :: ANY) :: LOCAL TIME", "Returns the current LOCAL TIME instant using the transaction clock.", "Temporal"),
	F("localtime.realtime", 0, 1, fn_localtime_realtime, "localtime.realtime(timezone = DEFAULT_TEMPORAL_ARGUMENT :: ANY) :: LOCAL TIME", "Returns the current LOCAL TIME instant using the realtime clock.", "Temporal"),
	F("localtime.truncate", 2, 3, fn_localtime_truncate, "localtime.truncate(unit :: STRING, input = DEFAULT_TEMPORAL_ARGUMENT :: ANY, fields = null :: MAP) :: LOCAL TIME", "Truncates the given temporal value to a LOCAL TIME instant using the specified unit.", "Temporal"),
	F("time", 0, 1, fn_time, "time(input = DEFAULT_TEMPORAL_ARGUMENT :: ANY) :: ZONED TIME", "Creates a ZONED TIME instant.", "Temporal"),
	F("time.statement", 0, 1, fn_time_now, "time.statement(timezone = DEFAULT_TEMPORAL_ARGUMENT :: ANY) :: ZONED TIME", "Returns the current ZONED TIME instant using the statement clock.", "Temporal"),
	F("time.transaction", 0, 1, fn_time_now, "time.transaction(timezone = DEFAULT_TEMPORAL_ARGUMENT :: ANY) :: ZONED TIME", "Returns the current ZONED TIME instant using the transaction clock.", "Temporal"),
	F("time.realtime", 0, 1, fn_time_realtime, "time.realtime(timezone = DEFAULT_TEMPORAL_ARGUMENT :: ANY) :: ZONED TIME", "Returns the current ZONED TIME instant using the realtime clock.", "Temporal"),
	F("time.truncate", 2, 3, fn_time_truncate, "time.truncate(unit :: STRING, input = DEFAULT_TEMPORAL_ARGUMENT :: ANY, fields = null :: MAP) :: ZONED TIME", "Truncates the given temporal value to a ZONED TIME instant using the specified unit.", "Temporal"),
	F("localdatetime", 0, 1, fn_localdatetime, "localdatetime(input = DEFAULT_TEMPORAL_ARGUMENT :: ANY) :: LOCAL DATETIME", "Creates a LOCAL DATETIME instant.", "Temporal"),
	F("localdatetime.statement", 0, 1, fn_localdatetime_now, "localdatetime.statement(timezone = DEFAULT_TEMPORAL_ARGUMENT :: ANY) :: LOCAL DATETIME", "Returns the current LOCAL DATETIME instant using the statement clock.", "Temporal"),
	F("localdatetime.transaction", 0, 1, fn_localdatetime_now, "localdatetime.transaction(timezone = DEFAULT_TEMPORAL_ARGUMENT :: ANY) :: LOCAL DATETIME", "Returns the current LOCAL DATETIME instant using the transaction clock.", "Temporal"),
	F("localdatetime.realtime", 0, 1, fn_localdatetime_realtime, "localdatetime.realtime(timezone = DEFAULT_TEMPORAL_ARGUMENT :: ANY) :: LOCAL DATETIME", "Returns the current LOCAL DATETIME instant using the realtime clock.", "Temporal"),
	F("localdatetime.truncate", 2, 3, fn_localdatetime_truncate, "localdatetime.truncate(unit :: STRING, input = DEFAULT_TEMPORAL_ARGUMENT :: ANY, fields = null :: MAP) :: LOCAL DATETIME", "Truncates the given temporal value to a LOCAL DATETIME instant using the specified unit.", "Temporal"),
	F("datetime", 0, 1, fn_datetime, "datetime(input = DEFAULT_TEMPORAL_ARGUMENT :: ANY) :: ZONED DATETIME", "Creates a ZONED DATETIME instant.", "Temporal"),
	F("datetime.statement", 0, 1, fn_datetime_now, "datetime.statement(timezone = DEFAULT_TEMPORAL_ARGUMENT :: ANY) :: ZONED DATETIME", "Returns the current ZONED DATETIME instant using the statement clock.", "Temporal"),
	F("datetime.transaction", 0, 1, fn_datetime_now, "datetime.transaction(timezone = DEFAULT_TEMPORAL_ARGUMENT :: ANY) :: ZONED DATETIME", "Returns the current ZONED DATETIME instant using the transaction clock.", "Temporal"),
	F("datetime.realtime", 0, 1, fn_datetime_realtime, "datetime.realtime(timezone = DEFAULT_TEMPORAL_ARGUMENT :: ANY) :: ZONED DATETIME", "Returns the current ZONED DATETIME instant using the realtime clock.", "Temporal"),
	F("datetime.truncate", 2, 3, fn_datetime_truncate, "datetime.truncate(unit :: STRING, input = DEFAULT_TEMPORAL_ARGUMENT :: ANY, fields = null :: MAP) :: ZONED DATETIME", "Truncates the given temporal value to a ZONED DATETIME instant using the specified unit.", "Temporal"),
	F("datetime.fromepoch", 2, 2, fn_datetime_fromepoch, "datetime.fromepoch(seconds :: INTEGER | FLOAT, nanoseconds :: INTEGER | FLOAT) :: ZONED DATETIME", "Creates a ZONED DATETIME given the seconds and nanoseconds since the start of the epoch.", "Temporal"),
	F("datetime.fromepochmillis", 1, 1, fn_datetime_fromepochmillis, "datetime.fromepochmillis(milliseconds :: INTEGER | FLOAT) :: ZONED DATETIME", "Creates a ZONED DATETIME given the milliseconds since the start of the epoch.", "Temporal"),
	F("duration", 1, 1, fn_duration, "duration(input :: ANY) :: DURATION", "Constructs a DURATION value.", "Temporal"),
	F("duration.between", 2, 2, fn_duration_between, "duration.between(from :: ANY, to :: ANY) :: DURATION", "Computes the DURATION between the from instant (inclusive) and the to instant (exclusive) in logical units.", "Temporal"),
	F("duration.inMonths", 2, 2, fn_duration_in_months, "duration.inMonths(from :: ANY, to :: ANY) :: DURATION", "Computes the DURATION between the from instant (inclusive) and the to instant (exclusive) in months.", "Temporal"),
	F("duration.inDays", 2, 2, fn_duration_in_days, "duration.inDays(from :: ANY, to :: ANY) :: DURATION", "Computes the DURATION between the from instant (inclusive) and the to instant (exclusive) in days.", "Temporal"),
	F("duration.inSeconds", 2, 2, fn_duration_in_seconds, "duration.inSeconds(from :: ANY, to :: ANY) :: DURATION", "Computes the DURATION between the from instant (inclusive) and the to instant (exclusive) in seconds.", "Temporal"),
	/* Spatial */
	F("point", 1, 1, fn_point, "point(input :: MAP) :: POINT", "Returns a 2D or 3D point object, given two or respectively three coordinate values in the Cartesian coordinate system or WGS 84 geographic coordinate system.", "Spatial"),
	F("point.withinBBox", 3, 3, fn_point_within_bbox, "point.withinBBox(point :: POINT, lowerLeft :: POINT, upperRight :: POINT) :: BOOLEAN", "Returns true if the provided point is within the bounding box defined by the two provided points.", "Spatial"),
	F("point.distance", 2, 2, fn_point_distance, "point.distance(from :: POINT, to :: POINT) :: FLOAT", "Returns a FLOAT representing the geodesic distance between any two points in the same CRS.", "Spatial"),
};

const struct cypher_func *cypher_func_lookup(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof funcs / sizeof funcs[0]; i++)
		if (strlen(funcs[i].name) == len &&
		    strncasecmp(funcs[i].name, name, len) == 0)
			return &funcs[i];
	return NULL;
}

size_t cypher_func_all(const struct cypher_func **out)
{
	*out = funcs;
	return sizeof funcs / sizeof funcs[0];
}
