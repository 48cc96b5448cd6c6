/* Cypher's operators: arithmetic with Java's integer semantics (overflow is
 * an error, division truncates), string and list concatenation, temporal
 * arithmetic through temporal.c, three-valued equality and comparison, and
 * the total order of ORDER BY with the equivalence DISTINCT uses. */
#include "ops.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "func_int.h"
#include "temporal.h"

const char *cypher_type_name(const struct graft_value *v)
{
	static const char *const names[GRAFT_VALUE_TYPE_COUNT] = {
		[GRAFT_VALUE_NULL] = "Null",
		[GRAFT_VALUE_BOOL] = "Boolean",
		[GRAFT_VALUE_INT] = "Integer",
		[GRAFT_VALUE_FLOAT] = "Float",
		[GRAFT_VALUE_STRING] = "String",
		[GRAFT_VALUE_BYTES] = "ByteArray",
		[GRAFT_VALUE_LIST] = "List",
		[GRAFT_VALUE_MAP] = "Map",
		[GRAFT_VALUE_DATE] = "Date",
		[GRAFT_VALUE_LOCALTIME] = "LocalTime",
		[GRAFT_VALUE_TIME] = "Time",
		[GRAFT_VALUE_LOCALDATETIME] = "LocalDateTime",
		[GRAFT_VALUE_DATETIME] = "DateTime",
		[GRAFT_VALUE_DURATION] = "Duration",
		[GRAFT_VALUE_POINT] = "Point",
		[GRAFT_VALUE_NODE] = "Node",
		[GRAFT_VALUE_REL] = "Relationship",
		[GRAFT_VALUE_PATH] = "Path",
	};

	return v->type < GRAFT_VALUE_TYPE_COUNT ? names[v->type] : "Unknown";
}

/* Numbers ----------------------------------------------------------------- */

static int cmp_i64(int64_t a, int64_t b)
{
	return a < b ? -1 : a > b;
}

/* Exact comparison of an integer with a float that is not NaN. */
static int cmp_int_float(int64_t i, double f)
{
	double t;

	if (f >= 9223372036854775808.0)
		return -1;
	if (f < -9223372036854775808.0)
		return 1;
	t = trunc(f);
	if (i != (int64_t)t)
		return cmp_i64(i, (int64_t)t);
	return f > t ? -1 : f < t ? 1 : 0;
}

static bool is_nan(const struct graft_value *v)
{
	return v->type == GRAFT_VALUE_FLOAT && v->u.f != v->u.f;
}

/* Numbers that are not NaN. */
static int num_cmp(const struct graft_value *a, const struct graft_value *b)
{
	if (a->type == GRAFT_VALUE_INT && b->type == GRAFT_VALUE_INT)
		return cmp_i64(a->u.i, b->u.i);
	if (a->type == GRAFT_VALUE_INT)
		return cmp_int_float(a->u.i, b->u.f);
	if (b->type == GRAFT_VALUE_INT)
		return -cmp_int_float(b->u.i, a->u.f);
	return a->u.f < b->u.f ? -1 : a->u.f > b->u.f;
}

static int str_cmp(const struct graft_str *a, const struct graft_str *b)
{
	size_t n = a->len < b->len ? a->len : b->len;
	int c = n ? memcmp(a->data, b->data, n) : 0;

	if (c != 0)
		return c < 0 ? -1 : 1;
	return cmp_i64(a->len, b->len);
}

static bool point_equal(const struct graft_ext *a, const struct graft_ext *b)
{
	return a->srid == b->srid && a->dims == b->dims && a->x == b->x &&
	       a->y == b->y && (a->dims < 3 || a->z == b->z);
}

/* Equality ---------------------------------------------------------------- */

static enum cypher_tri tri_and(enum cypher_tri acc, enum cypher_tri t)
{
	if (acc == CYPHER_FALSE || t == CYPHER_FALSE)
		return CYPHER_FALSE;
	return acc == CYPHER_NULL || t == CYPHER_NULL ? CYPHER_NULL
						      : CYPHER_TRUE;
}

static enum cypher_tri list_equals(const struct graft_list *a,
				   const struct graft_list *b)
{
	enum cypher_tri r = CYPHER_TRUE;

	if (a->len != b->len)
		return CYPHER_FALSE;
	for (uint32_t i = 0; i < a->len && r != CYPHER_FALSE; i++)
		r = tri_and(r, cypher_equals(&a->items[i], &b->items[i]));
	return r;
}

static enum cypher_tri map_equals(const struct graft_map *a,
				  const struct graft_map *b)
{
	enum cypher_tri r = CYPHER_TRUE;

	if (a->len != b->len)
		return CYPHER_FALSE;
	for (uint32_t i = 0; i < a->len; i++)
		if (str_cmp(a->entries[i].key, b->entries[i].key) != 0)
			return CYPHER_FALSE;
	for (uint32_t i = 0; i < a->len && r != CYPHER_FALSE; i++)
		r = tri_and(r, cypher_equals(&a->entries[i].value,
					     &b->entries[i].value));
	return r;
}

static enum cypher_tri tri(bool b)
{
	return b ? CYPHER_TRUE : CYPHER_FALSE;
}

enum cypher_tri cypher_equals(const struct graft_value *a,
			      const struct graft_value *b)
{
	if (a->type == GRAFT_VALUE_NULL || b->type == GRAFT_VALUE_NULL)
		return CYPHER_NULL;
	if (func_is_number(a) && func_is_number(b))
		return tri(!is_nan(a) && !is_nan(b) && num_cmp(a, b) == 0);
	if (a->type != b->type)
		return CYPHER_FALSE;
	switch (a->type) {
	case GRAFT_VALUE_BOOL:
		return tri(a->u.b == b->u.b);
	case GRAFT_VALUE_STRING:
	case GRAFT_VALUE_BYTES:
		return tri(str_cmp(a->u.s, b->u.s) == 0);
	case GRAFT_VALUE_LIST:
	case GRAFT_VALUE_PATH:
		return list_equals(a->u.list, b->u.list);
	case GRAFT_VALUE_MAP:
		return map_equals(a->u.map, b->u.map);
	case GRAFT_VALUE_NODE:
	case GRAFT_VALUE_REL:
		return tri(a->u.i == b->u.i);
	case GRAFT_VALUE_POINT:
		return tri(point_equal(a->u.x, b->u.x));
	default:
		return tri(temporal_cmp(a, b) == 0);
	}
}

/* Comparison -------------------------------------------------------------- */

enum cypher_tri cypher_compare(const struct graft_value *a,
			       const struct graft_value *b, int *cmp)
{
	enum cypher_tri r;

	*cmp = 0;
	if (a->type == GRAFT_VALUE_NULL || b->type == GRAFT_VALUE_NULL)
		return CYPHER_NULL;
	if (func_is_number(a) && func_is_number(b)) {
		if (is_nan(a) || is_nan(b))
			return CYPHER_FALSE;
		*cmp = num_cmp(a, b);
		return CYPHER_TRUE;
	}
	if (a->type != b->type)
		return CYPHER_NULL;
	switch (a->type) {
	case GRAFT_VALUE_BOOL:
		*cmp = (int)a->u.b - (int)b->u.b;
		return CYPHER_TRUE;
	case GRAFT_VALUE_STRING:
		*cmp = str_cmp(a->u.s, b->u.s);
		return CYPHER_TRUE;
	case GRAFT_VALUE_LIST:
		for (uint32_t i = 0; i < a->u.list->len && i < b->u.list->len;
		     i++) {
			r = cypher_compare(&a->u.list->items[i],
					   &b->u.list->items[i], cmp);
			if (r != CYPHER_TRUE || *cmp != 0)
				return r;
		}
		*cmp = cmp_i64(a->u.list->len, b->u.list->len);
		return CYPHER_TRUE;
	case GRAFT_VALUE_DATE:
	case GRAFT_VALUE_LOCALTIME:
	case GRAFT_VALUE_TIME:
	case GRAFT_VALUE_LOCALDATETIME:
	case GRAFT_VALUE_DATETIME:
		*cmp = temporal_cmp(a, b);
		return CYPHER_TRUE;
	default:
		return CYPHER_NULL;
	}
}

/* The global order -------------------------------------------------------- */

static int order_class(uint8_t type)
{
	static const int8_t rank[GRAFT_VALUE_TYPE_COUNT] = {
		[GRAFT_VALUE_MAP] = 0,       [GRAFT_VALUE_NODE] = 1,
		[GRAFT_VALUE_REL] = 2,       [GRAFT_VALUE_LIST] = 3,
		[GRAFT_VALUE_PATH] = 4,      [GRAFT_VALUE_POINT] = 5,
		[GRAFT_VALUE_DATETIME] = 6,  [GRAFT_VALUE_LOCALDATETIME] = 7,
		[GRAFT_VALUE_DATE] = 8,      [GRAFT_VALUE_TIME] = 9,
		[GRAFT_VALUE_LOCALTIME] = 10, [GRAFT_VALUE_DURATION] = 11,
		[GRAFT_VALUE_BYTES] = 12,    [GRAFT_VALUE_STRING] = 13,
		[GRAFT_VALUE_BOOL] = 14,     [GRAFT_VALUE_INT] = 15,
		[GRAFT_VALUE_FLOAT] = 15,    [GRAFT_VALUE_NULL] = 16,
	};

	return type < GRAFT_VALUE_TYPE_COUNT ? rank[type] : 17;
}

static int dbl_cmp(double a, double b)
{
	return a < b ? -1 : a > b;
}

static int list_order(const struct graft_list *a, const struct graft_list *b)
{
	for (uint32_t i = 0; i < a->len && i < b->len; i++) {
		int c = cypher_order_cmp(&a->items[i], &b->items[i]);
		if (c != 0)
			return c;
	}
	return cmp_i64(a->len, b->len);
}

static int map_order(const struct graft_map *a, const struct graft_map *b)
{
	for (uint32_t i = 0; i < a->len && i < b->len; i++) {
		int c = str_cmp(a->entries[i].key, b->entries[i].key);
		if (c == 0)
			c = cypher_order_cmp(&a->entries[i].value,
					     &b->entries[i].value);
		if (c != 0)
			return c;
	}
	return cmp_i64(a->len, b->len);
}

static int point_order(const struct graft_ext *a, const struct graft_ext *b)
{
	int c = cmp_i64(a->srid, b->srid);

	if (c == 0)
		c = dbl_cmp(a->x, b->x);
	if (c == 0)
		c = dbl_cmp(a->y, b->y);
	if (c == 0)
		c = dbl_cmp(a->z, b->z);
	return c;
}

int cypher_order_cmp(const struct graft_value *a, const struct graft_value *b)
{
	int ca = order_class(a->type), cb = order_class(b->type);

	if (ca != cb)
		return ca < cb ? -1 : 1;
	switch (a->type) {
	case GRAFT_VALUE_NULL:
		return 0;
	case GRAFT_VALUE_INT:
	case GRAFT_VALUE_FLOAT:
		if (is_nan(a) || is_nan(b))
			return (int)is_nan(a) - (int)is_nan(b);
		return num_cmp(a, b);
	case GRAFT_VALUE_BOOL:
		return (int)a->u.b - (int)b->u.b;
	case GRAFT_VALUE_STRING:
	case GRAFT_VALUE_BYTES:
		return str_cmp(a->u.s, b->u.s);
	case GRAFT_VALUE_LIST:
	case GRAFT_VALUE_PATH:
		return list_order(a->u.list, b->u.list);
	case GRAFT_VALUE_MAP:
		return map_order(a->u.map, b->u.map);
	case GRAFT_VALUE_NODE:
	case GRAFT_VALUE_REL:
		return cmp_i64(a->u.i, b->u.i);
	case GRAFT_VALUE_POINT:
		return point_order(a->u.x, b->u.x);
	default:
		return temporal_cmp(a, b);
	}
}

bool cypher_equivalent(const struct graft_value *a,
		       const struct graft_value *b)
{
	return cypher_order_cmp(a, b) == 0;
}

static uint64_t hash_double(double d)
{
	uint64_t bits;

	if (d == 0)
		return 0; /* -0.0 ~ 0.0 */
	memcpy(&bits, &d, sizeof bits);
	return bits;
}

static uint64_t hash_number(const struct graft_value *v)
{
	double f;

	if (v->type == GRAFT_VALUE_INT)
		return graft_hash_mix(15, (uint64_t)v->u.i);
	f = v->u.f;
	if (f != f)
		return graft_hash_mix(15, 0x7ff8000000000000ull);
	/* An integral float hashes as the integer it equals. */
	if (f == trunc(f) && f >= -9223372036854775808.0 &&
	    f < 9223372036854775808.0)
		return graft_hash_mix(15, (uint64_t)(int64_t)f);
	return graft_hash_mix(15, hash_double(f));
}

uint64_t cypher_equivalent_hash(const struct graft_value *v)
{
	uint64_t h = (uint64_t)order_class(v->type);
	const struct graft_ext *x;

	switch (v->type) {
	case GRAFT_VALUE_NULL:
		return h;
	case GRAFT_VALUE_INT:
	case GRAFT_VALUE_FLOAT:
		return hash_number(v);
	case GRAFT_VALUE_BOOL:
		return graft_hash_mix(h, v->u.b);
	case GRAFT_VALUE_NODE:
	case GRAFT_VALUE_REL:
		return graft_hash_mix(h, (uint64_t)v->u.i);
	case GRAFT_VALUE_STRING:
	case GRAFT_VALUE_BYTES:
		h = graft_hash_bytes(h, v->u.s->data, v->u.s->len);
		return graft_hash_mix(h, v->u.s->len);
	case GRAFT_VALUE_LIST:
	case GRAFT_VALUE_PATH:
		for (uint32_t i = 0; i < v->u.list->len; i++)
			h = graft_hash_mix(h, cypher_equivalent_hash(
						 &v->u.list->items[i]));
		return h;
	case GRAFT_VALUE_MAP:
		for (uint32_t i = 0; i < v->u.map->len; i++) {
			struct graft_value k = {.type = GRAFT_VALUE_STRING,
						.u.s = v->u.map->entries[i].key};
			h = graft_hash_mix(h, cypher_equivalent_hash(&k));
			h = graft_hash_mix(h, cypher_equivalent_hash(
						 &v->u.map->entries[i].value));
		}
		return h;
	default:
		break;
	}
	x = v->u.x;
	switch (v->type) {
	case GRAFT_VALUE_POINT:
		h = graft_hash_mix(h, x->srid);
		h = graft_hash_mix(h, hash_double(x->x));
		h = graft_hash_mix(h, hash_double(x->y));
		return graft_hash_mix(h, hash_double(x->z));
	case GRAFT_VALUE_TIME:
		h = graft_hash_mix(h, (uint64_t)(x->secs - x->offset));
		h = graft_hash_mix(h, (uint64_t)x->nanos);
		return graft_hash_mix(h, (uint64_t)x->offset);
	case GRAFT_VALUE_DATETIME: /* the instant, whatever the zone */
		h = graft_hash_mix(h, (uint64_t)x->secs);
		return graft_hash_mix(h, (uint64_t)x->nanos);
	default:
		h = graft_hash_mix(h, (uint64_t)x->months);
		h = graft_hash_mix(h, (uint64_t)x->days);
		h = graft_hash_mix(h, (uint64_t)x->secs);
		return graft_hash_mix(h, (uint64_t)x->nanos);
	}
}

/* Arithmetic -------------------------------------------------------------- */

static int overflow(struct cypher_fctx *fc)
{
	return cypher_fail(fc, GRAFT_STATUS_ARITHMETIC_ERROR, "long overflow");
}

static int by_zero(struct cypher_fctx *fc)
{
	return cypher_fail(fc, GRAFT_STATUS_ARITHMETIC_ERROR, "/ by zero");
}

static int int_arith(struct cypher_fctx *fc, enum cypher_arith op, int64_t a,
		     int64_t b, struct graft_value *out)
{
	int64_t r = 0;
	bool over = false;

	switch (op) {
	case CYPHER_ADD:
		over = __builtin_add_overflow(a, b, &r);
		break;
	case CYPHER_SUB:
		over = __builtin_sub_overflow(a, b, &r);
		break;
	case CYPHER_MUL:
		over = __builtin_mul_overflow(a, b, &r);
		break;
	case CYPHER_DIV:
		if (b == 0)
			return by_zero(fc);
		over = a == INT64_MIN && b == -1;
		r = over ? 0 : a / b;
		break;
	case CYPHER_MOD:
		if (b == 0)
			return by_zero(fc);
		r = b == -1 ? 0 : a % b;
		break;
	default:
		*out = graft_value_float(pow((double)a, (double)b));
		return GRAFT_OK;
	}
	if (over)
		return overflow(fc);
	*out = graft_value_int(r);
	return GRAFT_OK;
}

static double float_arith(enum cypher_arith op, double a, double b)
{
	switch (op) {
	case CYPHER_ADD: return a + b;
	case CYPHER_SUB: return a - b;
	case CYPHER_MUL: return a * b;
	case CYPHER_DIV: return a / b;
	case CYPHER_MOD: return fmod(a, b);
	default: return pow(a, b);
	}
}

/* What a string concatenates with, as its toString: a property value
 * (numbers, booleans, temporal values, durations, points), not a list, map
 * or entity. */
static bool concatenable(const struct graft_value *v)
{
	return v->type == GRAFT_VALUE_STRING || v->type == GRAFT_VALUE_BOOL ||
	       func_is_number(v) || graft_value_is_ext(v->type);
}

/* Concatenation of a and b's toString (numbers) or text. */
static int concat(const struct graft_value *a, const struct graft_value *b,
		  struct graft_value *out)
{
	struct graft_value sa = graft_value_null(), sb = sa;
	char *p;
	int rv = func_to_string(a, &sa);

	if (rv == GRAFT_OK)
		rv = func_to_string(b, &sb);
	if (rv == GRAFT_OK) {
		p = graft_mem_malloc((size_t)sa.u.s->len + sb.u.s->len + 1);
		if (p == NULL) {
			rv = GRAFT_ENOMEM;
		} else {
			memcpy(p, sa.u.s->data, sa.u.s->len);
			memcpy(p + sa.u.s->len, sb.u.s->data, sb.u.s->len);
			rv = graft_value_string(out, p, (size_t)sa.u.s->len +
								sb.u.s->len);
			graft_mem_free(p);
		}
	}
	graft_value_free(&sa);
	graft_value_free(&sb);
	return rv;
}

/* Copies n values into dst items starting at at. */
/* list + list, list + x, x + list: a and b are the statement's own
 * (evaluated operands), so the copy may ask fc->interrupted. */
static int list_concat(struct cypher_fctx *fc, const struct graft_value *a,
		       const struct graft_value *b, struct graft_value *out)
{
	const struct graft_value *ai = a->type == GRAFT_VALUE_LIST ?
					       a->u.list->items : a;
	const struct graft_value *bi = b->type == GRAFT_VALUE_LIST ?
					       b->u.list->items : b;
	uint32_t na = a->type == GRAFT_VALUE_LIST ? a->u.list->len : 1;
	uint32_t nb = b->type == GRAFT_VALUE_LIST ? b->u.list->len : 1;
	int rv;

	if ((uint64_t)na + nb > UINT32_MAX)
		return GRAFT_ENOMEM;
	rv = graft_value_list(out, na + nb);
	if (rv == GRAFT_OK)
		rv = cypher_items_copy(fc, out->u.list->items, ai, na, false);
	/* each copy asks from its own start: two of just under 64 Ki items
	 * ask here, between them */
	if (rv == GRAFT_OK && (uint64_t)na + nb >= CYPHER_ASK_EVERY &&
	    fc != NULL && fc->interrupted != NULL && fc->interrupted(fc) != 0)
		rv = GRAFT_EINVAL;
	if (rv == GRAFT_OK)
		rv = cypher_items_copy(fc, out->u.list->items + na, bi, nb,
				       false);
	if (rv != GRAFT_OK) {
		graft_value_free(out);
		*out = graft_value_null();
	}
	return rv;
}

static int type_mismatch(struct cypher_fctx *fc, enum cypher_arith op,
			 const struct graft_value *a,
			 const struct graft_value *b)
{
	static const char *const verbs[] = {
		[CYPHER_ADD] = "add", [CYPHER_SUB] = "subtract",
		[CYPHER_MUL] = "multiply", [CYPHER_DIV] = "divide",
		[CYPHER_MOD] = "calculate modulus of",
		[CYPHER_POW] = "raise",
	};

	if (op == CYPHER_POW)
		return cypher_fail(fc, GRAFT_STATUS_TYPE_ERROR,
				   "Cannot raise `%s` to the power of `%s`",
				   cypher_type_name(a), cypher_type_name(b));
	return cypher_fail(fc, GRAFT_STATUS_TYPE_ERROR, "Cannot %s `%s` and `%s`",
			   verbs[op], cypher_type_name(a), cypher_type_name(b));
}

static bool is_instant(uint8_t t)
{
	return t >= GRAFT_VALUE_DATE && t <= GRAFT_VALUE_DATETIME;
}

static int temporal_result(struct cypher_fctx *fc, int rv)
{
	if (rv == GRAFT_EINVAL)
		return cypher_fail(fc, GRAFT_STATUS_ARITHMETIC_ERROR,
				   "The result of the temporal arithmetic is "
				   "out of the supported range");
	return rv;
}

static int duration_arith(struct cypher_fctx *fc, enum cypher_arith op,
			  const struct graft_value *a,
			  const struct graft_value *b, struct graft_value *out)
{
	bool ad = a->type == GRAFT_VALUE_DURATION;
	bool bd = b->type == GRAFT_VALUE_DURATION;

	if (ad && bd && (op == CYPHER_ADD || op == CYPHER_SUB))
		return temporal_result(fc, temporal_duration_add(
			a->u.x, b->u.x, op == CYPHER_ADD ? 1 : -1, out));
	if (ad && is_instant(b->type) && op == CYPHER_ADD)
		return temporal_result(fc, temporal_add_duration(b, a->u.x, 1,
								 out));
	if (bd && is_instant(a->type) && (op == CYPHER_ADD || op == CYPHER_SUB))
		return temporal_result(fc, temporal_add_duration(
			a, b->u.x, op == CYPHER_ADD ? 1 : -1, out));
	if (ad && func_is_number(b) && (op == CYPHER_MUL || op == CYPHER_DIV)) {
		if (op == CYPHER_DIV && func_as_double(b) == 0)
			return by_zero(fc);
		return temporal_result(fc, temporal_duration_scale(
			a->u.x, func_as_double(b), op == CYPHER_DIV, out));
	}
	if (bd && func_is_number(a) && op == CYPHER_MUL)
		return temporal_result(fc, temporal_duration_scale(
			b->u.x, func_as_double(a), false, out));
	return type_mismatch(fc, op, a, b);
}

int cypher_arith(struct cypher_fctx *fc, enum cypher_arith op,
		 const struct graft_value *a, const struct graft_value *b,
		 struct graft_value *out)
{
	*out = graft_value_null();
	if (a->type == GRAFT_VALUE_NULL || b->type == GRAFT_VALUE_NULL)
		return GRAFT_OK;
	if (a->type == GRAFT_VALUE_INT && b->type == GRAFT_VALUE_INT)
		return int_arith(fc, op, a->u.i, b->u.i, out);
	if (func_is_number(a) && func_is_number(b)) {
		*out = graft_value_float(float_arith(op, func_as_double(a),
						     func_as_double(b)));
		return GRAFT_OK;
	}
	if (op == CYPHER_ADD) {
		if (a->type == GRAFT_VALUE_LIST || b->type == GRAFT_VALUE_LIST)
			return list_concat(fc, a, b, out);
		if ((a->type == GRAFT_VALUE_STRING && concatenable(b)) ||
		    (b->type == GRAFT_VALUE_STRING && concatenable(a)))
			return concat(a, b, out);
	}
	if (a->type == GRAFT_VALUE_DURATION || b->type == GRAFT_VALUE_DURATION)
		return duration_arith(fc, op, a, b, out);
	return type_mismatch(fc, op, a, b);
}

int cypher_negate(struct cypher_fctx *fc, const struct graft_value *a,
		  struct graft_value *out)
{
	struct graft_ext zero = {0};

	*out = graft_value_null();
	switch (a->type) {
	case GRAFT_VALUE_NULL:
		return GRAFT_OK;
	case GRAFT_VALUE_INT:
		if (a->u.i == INT64_MIN)
			return overflow(fc);
		*out = graft_value_int(-a->u.i);
		return GRAFT_OK;
	case GRAFT_VALUE_FLOAT:
		*out = graft_value_float(-a->u.f);
		return GRAFT_OK;
	case GRAFT_VALUE_DURATION:
		return temporal_result(fc, temporal_duration_add(&zero, a->u.x,
								 -1, out));
	default:
		return cypher_fail(fc, GRAFT_STATUS_TYPE_ERROR, "Cannot negate `%s`",
				   cypher_type_name(a));
	}
}
