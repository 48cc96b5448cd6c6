/* Numeric, logarithmic and trigonometric functions. Integers stay integers
 * where Neo4j keeps them (abs, sign); everything else is a FLOAT. round()
 * with a precision rounds the shortest decimal form of the number, as Java's
 * BigDecimal.valueOf does, so round(2.675, 2) is 2.68. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "func_int.h"

static int unary(struct cypher_fctx *fc, const char *name,
		 const struct graft_value *v, double (*f)(double),
		 struct graft_value *out)
{
	double d;
	int rv;

	*out = graft_value_null();
	if (v->type == GRAFT_VALUE_NULL)
		return GRAFT_OK;
	rv = func_arg_number(fc, name, v, &d);
	if (rv == GRAFT_OK)
		*out = graft_value_float(f(d));
	return rv;
}

#define UNARY(fn, cname, f)                                                  \
	int fn(struct cypher_fctx *fc, const struct graft_value *args,      \
	       uint32_t n, struct graft_value *out)                          \
	{                                                                    \
		(void)n;                                                     \
		return unary(fc, cname, args, f, out);                       \
	}

static double cot_d(double d) { return 1.0 / tan(d); }
static double degrees_d(double d) { return d * 180.0 / M_PI; }
static double radians_d(double d) { return d * M_PI / 180.0; }
static double haversin_d(double d) { return (1.0 - cos(d)) / 2.0; }

UNARY(fn_ceil, "ceil", ceil)
UNARY(fn_floor, "floor", floor)
UNARY(fn_sqrt, "sqrt", sqrt)
UNARY(fn_exp, "exp", exp)
UNARY(fn_log, "log", log)
UNARY(fn_log10, "log10", log10)
UNARY(fn_sin, "sin", sin)
UNARY(fn_cos, "cos", cos)
UNARY(fn_tan, "tan", tan)
UNARY(fn_asin, "asin", asin)
UNARY(fn_acos, "acos", acos)
UNARY(fn_atan, "atan", atan)
UNARY(fn_cot, "cot", cot_d)
UNARY(fn_degrees, "degrees", degrees_d)
UNARY(fn_radians, "radians", radians_d)
UNARY(fn_haversin, "haversin", haversin_d)

int fn_atan2(struct cypher_fctx *fc, const struct graft_value *args,
	     uint32_t n, struct graft_value *out)
{
	double y, x;
	int rv;

	(void)n;
	*out = graft_value_null();
	if (func_any_null(args, 2))
		return GRAFT_OK;
	rv = func_arg_number(fc, "atan2", &args[0], &y);
	if (rv == GRAFT_OK)
		rv = func_arg_number(fc, "atan2", &args[1], &x);
	if (rv == GRAFT_OK)
		*out = graft_value_float(atan2(y, x));
	return rv;
}

int fn_e(struct cypher_fctx *fc, const struct graft_value *args, uint32_t n,
	 struct graft_value *out)
{
	(void)fc;
	(void)args;
	(void)n;
	*out = graft_value_float(M_E);
	return GRAFT_OK;
}

int fn_pi(struct cypher_fctx *fc, const struct graft_value *args, uint32_t n,
	  struct graft_value *out)
{
	(void)fc;
	(void)args;
	(void)n;
	*out = graft_value_float(M_PI);
	return GRAFT_OK;
}

int fn_abs(struct cypher_fctx *fc, const struct graft_value *args, uint32_t n,
	   struct graft_value *out)
{
	(void)n;
	*out = graft_value_null();
	switch (args[0].type) {
	case GRAFT_VALUE_NULL:
		return GRAFT_OK;
	case GRAFT_VALUE_INT:
		if (args[0].u.i == INT64_MIN)
			return cypher_fail(fc, GRAFT_STATUS_ARITHMETIC_ERROR,
					   "long overflow");
		*out = graft_value_int(args[0].u.i < 0 ? -args[0].u.i
						       : args[0].u.i);
		return GRAFT_OK;
	case GRAFT_VALUE_FLOAT:
		*out = graft_value_float(fabs(args[0].u.f));
		return GRAFT_OK;
	default:
		return func_type_error(fc, "abs", "a number", &args[0]);
	}
}

int fn_sign(struct cypher_fctx *fc, const struct graft_value *args,
	    uint32_t n, struct graft_value *out)
{
	double d;
	int rv;

	(void)n;
	*out = graft_value_null();
	if (args[0].type == GRAFT_VALUE_NULL)
		return GRAFT_OK;
	rv = func_arg_number(fc, "sign", &args[0], &d);
	if (rv == GRAFT_OK)
		*out = graft_value_int(d > 0 ? 1 : d < 0 ? -1 : 0);
	return rv;
}

int fn_isnan(struct cypher_fctx *fc, const struct graft_value *args,
	     uint32_t n, struct graft_value *out)
{
	double d;
	int rv;

	(void)n;
	*out = graft_value_null();
	if (args[0].type == GRAFT_VALUE_NULL)
		return GRAFT_OK;
	rv = func_arg_number(fc, "isNaN", &args[0], &d);
	if (rv == GRAFT_OK)
		*out = graft_value_bool(d != d);
	return rv;
}

/* round ------------------------------------------------------------------- */

enum round_mode { R_UP, R_DOWN, R_CEILING, R_FLOOR, R_HALF_UP, R_HALF_DOWN,
		  R_HALF_EVEN, R_UNNECESSARY };

static const char *const mode_names[] = {"UP", "DOWN", "CEILING", "FLOOR",
					 "HALF_UP", "HALF_DOWN", "HALF_EVEN",
					 "UNNECESSARY"};

/* Whether dropping digits away from magnitude |x| moves it up one unit in
 * the last kept place: first the dropped digit, rest nonzero after it. */
static bool round_away(enum round_mode m, bool neg, int first, bool rest,
		       int last_kept)
{
	bool inexact = first > 0 || rest;

	switch (m) {
	case R_UP: return inexact;
	case R_DOWN: return false;
	case R_CEILING: return inexact && !neg;
	case R_FLOOR: return inexact && neg;
	case R_HALF_UP: return first >= 5;
	case R_HALF_DOWN: return first > 5 || (first == 5 && rest);
	case R_UNNECESSARY: return false; /* the caller checked it is exact */
	default:
		return first > 5 || (first == 5 && (rest || last_kept % 2));
	}
}

/* x rounded to prec decimal places by mode, on x's shortest decimal form
 * 0.d1d2... * 10^(exp10 + 1): the first exp10 + 1 + prec digits are kept
 * as an integer K (carrying if rounding goes away from zero) and the result
 * is K * 10^-prec, read back by strtod. */
static double round_decimal(double x, int64_t prec, enum round_mode m)
{
	char d[32], kept[40], text[64];
	int exp10, nd, keep, first = 0, last, k = 0;
	bool neg = signbit(x), rest = false;

	if (x == 0 || !isfinite(x) || prec > 400)
		return x;
	nd = func_shortest_digits(fabs(x), d, &exp10);
	if (prec < -400 || exp10 + 1 + prec < 0) {
		keep = 0;
		rest = true;
	} else {
		keep = exp10 + 1 + (int)prec;
	}
	if (keep >= nd)
		return x;
	if (exp10 + 1 + prec >= 0) {
		first = d[keep] - '0';
		for (int i = keep + 1; i < nd; i++)
			rest |= d[i] != '0';
	}
	last = keep > 0 ? d[keep - 1] - '0' : 0;
	kept[k++] = '0'; /* room for a carry */
	for (int i = 0; i < keep; i++)
		kept[k++] = d[i];
	kept[k] = '\0';
	if (round_away(m, neg, first, rest, last)) {
		int i = k - 1;
		while (kept[i] == '9')
			kept[i--] = '0';
		kept[i]++;
	}
	snprintf(text, sizeof text, "%s%se%lld", neg ? "-" : "", kept,
		 (long long)-(prec < -400 ? -400 : prec));
	return strtod(text, NULL);
}

static int parse_mode(struct cypher_fctx *fc, const struct graft_value *v,
		      enum round_mode *m)
{
	if (v->type != GRAFT_VALUE_STRING)
		return func_type_error(fc, "round", "a String", v);
	for (size_t i = 0; i < sizeof mode_names / sizeof mode_names[0]; i++)
		if (strcasecmp(mode_names[i], v->u.s->data) == 0) {
			*m = (enum round_mode)i;
			return GRAFT_OK;
		}
	return func_arg_error(fc, "round",
			      "Unknown rounding mode; expected one of UP, "
			      "DOWN, CEILING, FLOOR, HALF_UP, HALF_DOWN, "
			      "HALF_EVEN, UNNECESSARY");
}

int fn_round(struct cypher_fctx *fc, const struct graft_value *args,
	     uint32_t n, struct graft_value *out)
{
	enum round_mode m = R_HALF_UP;
	int64_t prec = 0;
	double d, r;
	int rv;

	*out = graft_value_null();
	if (func_any_null(args, n))
		return GRAFT_OK;
	rv = func_arg_number(fc, "round", &args[0], &d);
	if (rv == GRAFT_OK && n > 1)
		rv = func_arg_int(fc, "round", &args[1], &prec);
	if (rv == GRAFT_OK && n > 2)
		rv = parse_mode(fc, &args[2], &m);
	if (rv != GRAFT_OK)
		return rv;
	/* Without a mode, precision 0 rounds like round(x): Java's Math.round,
	 * ties towards positive infinity; otherwise ties go as the mode says
	 * (HALF_UP: away from zero). */
	if (n == 1 || (n == 2 && prec == 0))
		r = isfinite(d) ? floor(d + 0.5) : d;
	else
		r = round_decimal(d, prec, m);
	if (m == R_UNNECESSARY && r != d)
		return cypher_fail(fc, GRAFT_STATUS_ARITHMETIC_ERROR, "Rounding necessary");
	*out = graft_value_float(r);
	return GRAFT_OK;
}

/* vector.similarity.* ------------------------------------------------------- */

/* Checks two numeric lists of one length; *null when either is null. */
static int vectors(struct cypher_fctx *fc, const char *name,
		   const struct graft_value *args, bool *null)
{
	*null = func_any_null(args, 2);
	if (*null)
		return GRAFT_OK;
	for (int i = 0; i < 2; i++) {
		if (args[i].type != GRAFT_VALUE_LIST)
			return func_type_error(fc, name, "a List of numbers",
					       &args[i]);
		for (uint32_t k = 0; k < args[i].u.list->len; k++)
			if (!func_is_number(&args[i].u.list->items[k]))
				return func_type_error(
					fc, name, "a List of numbers",
					&args[i].u.list->items[k]);
	}
	if (args[0].u.list->len != args[1].u.list->len ||
	    args[0].u.list->len == 0)
		return func_arg_error(fc, name, "the vectors must be non-empty "
				      "and of the same dimension");
	return GRAFT_OK;
}

static double item(const struct graft_value *v, uint32_t i)
{
	return func_as_double(&v->u.list->items[i]);
}

/* 1 / (1 + squared Euclidean distance), as Neo4j's vector indexes. */
int fn_vector_euclidean(struct cypher_fctx *fc, const struct graft_value *args,
			uint32_t n, struct graft_value *out)
{
	double d2 = 0;
	bool null;
	int rv = vectors(fc, "vector.similarity.euclidean", args, &null);

	(void)n;
	*out = graft_value_null();
	if (rv != GRAFT_OK || null)
		return rv;
	for (uint32_t i = 0; i < args[0].u.list->len; i++) {
		double d = item(&args[0], i) - item(&args[1], i);
		d2 += d * d;
	}
	*out = graft_value_float(1.0 / (1.0 + d2));
	return GRAFT_OK;
}

/* (1 + cosine) / 2; null for a zero vector. */
int fn_vector_cosine(struct cypher_fctx *fc, const struct graft_value *args,
		     uint32_t n, struct graft_value *out)
{
	double dot = 0, na = 0, nb = 0;
	bool null;
	int rv = vectors(fc, "vector.similarity.cosine", args, &null);

	(void)n;
	*out = graft_value_null();
	if (rv != GRAFT_OK || null)
		return rv;
	for (uint32_t i = 0; i < args[0].u.list->len; i++) {
		double a = item(&args[0], i), b = item(&args[1], i);
		dot += a * b;
		na += a * a;
		nb += b * b;
	}
	if (na > 0 && nb > 0)
		*out = graft_value_float((1.0 + dot / sqrt(na * nb)) / 2.0);
	return GRAFT_OK;
}
