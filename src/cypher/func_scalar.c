/* Scalar functions: conversions (toInteger, toString, ...), coalesce,
 * valueType, nullIf, randomUUID and timestamp. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "func_int.h"
#include "ops.h"
#include "temporal.h"

/* Text of a string without surrounding whitespace. */
static void trimmed(const struct graft_str *s, const char **p, size_t *n)
{
	size_t a = 0, b = s->len;

	while (a < b && isspace((unsigned char)s->data[a]))
		a++;
	while (b > a && isspace((unsigned char)s->data[b - 1]))
		b--;
	*p = s->data + a;
	*n = b - a;
}

static bool parse_double(const struct graft_str *s, double *out)
{
	char tmp[64], *end;
	const char *p;
	size_t n;

	trimmed(s, &p, &n);
	if (n == 0 || n >= sizeof tmp)
		return false;
	memcpy(tmp, p, n);
	tmp[n] = '\0';
	/* Java's parseDouble takes neither hex nor "inf"/"nan" spellings. */
	if (strpbrk(tmp, "xXnN") != NULL && strcmp(tmp, "NaN") != 0)
		return false;
	errno = 0;
	*out = strtod(tmp, &end);
	return *end == '\0';
}

static bool parse_int(const struct graft_str *s, int64_t *out)
{
	char tmp[64], *end;
	const char *p;
	double d;
	size_t n;

	trimmed(s, &p, &n);
	if (n == 0 || n >= sizeof tmp)
		return false;
	memcpy(tmp, p, n);
	tmp[n] = '\0';
	errno = 0;
	*out = strtoll(tmp, &end, 10);
	if (*end == '\0' && errno == 0)
		return true;
	if (!parse_double(s, &d) || d != d || d >= 9223372036854775808.0 ||
	    d < -9223372036854775808.0)
		return false;
	*out = (int64_t)d;
	return true;
}

int func_to_string(const struct graft_value *v, struct graft_value *out)
{
	char buf[160];
	size_t n;

	switch (v->type) {
	case GRAFT_VALUE_STRING:
		return graft_value_copy(out, v);
	case GRAFT_VALUE_INT:
		return func_string_printf(out, "%lld", (long long)v->u.i);
	case GRAFT_VALUE_FLOAT:
		n = func_format_double(v->u.f, buf, sizeof buf);
		return graft_value_string(out, buf, n);
	case GRAFT_VALUE_BOOL:
		return func_string_printf(out, "%s", v->u.b ? "true" : "false");
	case GRAFT_VALUE_POINT: {
		char x[48], y[48], z[48];
		const struct graft_ext *p = v->u.x;
		bool geo = p->srid == 4326 || p->srid == 4979;
		func_format_double(p->x, x, sizeof x);
		func_format_double(p->y, y, sizeof y);
		func_format_double(p->z, z, sizeof z);
		if (p->dims == 3)
			return func_string_printf(out, "point({x: %s, y: %s, "
						  "z: %s, crs: '%s'})", x, y, z,
						  geo ? "wgs-84-3d"
						      : "cartesian-3d");
		return func_string_printf(out, "point({x: %s, y: %s, crs: "
					  "'%s'})", x, y,
					  geo ? "wgs-84" : "cartesian");
	}
	default:
		if (!graft_value_is_ext(v->type))
			return GRAFT_EINVAL;
		n = temporal_format(v, buf, sizeof buf);
		return graft_value_string(out, buf, n < sizeof buf ? n
								   : sizeof buf - 1);
	}
}

/* Conversions: each returns true with *out set when v converts, false when
 * it does not (a string that is no number: null), and fails the type. */
enum conv { CONV_OK, CONV_NULL, CONV_TYPE };

static enum conv conv_int(const struct graft_value *v, struct graft_value *out)
{
	int64_t i;

	switch (v->type) {
	case GRAFT_VALUE_INT:
		*out = *v;
		return CONV_OK;
	case GRAFT_VALUE_FLOAT:
		if (v->u.f != v->u.f || v->u.f >= 9223372036854775808.0 ||
		    v->u.f < -9223372036854775808.0)
			return CONV_NULL;
		*out = graft_value_int((int64_t)v->u.f);
		return CONV_OK;
	case GRAFT_VALUE_BOOL:
		*out = graft_value_int(v->u.b);
		return CONV_OK;
	case GRAFT_VALUE_STRING:
		if (!parse_int(v->u.s, &i))
			return CONV_NULL;
		*out = graft_value_int(i);
		return CONV_OK;
	default:
		return CONV_TYPE;
	}
}

static enum conv conv_float(const struct graft_value *v,
			    struct graft_value *out)
{
	double d;

	switch (v->type) {
	case GRAFT_VALUE_INT:
		*out = graft_value_float((double)v->u.i);
		return CONV_OK;
	case GRAFT_VALUE_FLOAT:
		*out = *v;
		return CONV_OK;
	case GRAFT_VALUE_STRING:
		if (!parse_double(v->u.s, &d))
			return CONV_NULL;
		*out = graft_value_float(d);
		return CONV_OK;
	default:
		return CONV_TYPE;
	}
}

static enum conv conv_bool(const struct graft_value *v, struct graft_value *out)
{
	const char *p;
	size_t n;

	switch (v->type) {
	case GRAFT_VALUE_BOOL:
		*out = *v;
		return CONV_OK;
	case GRAFT_VALUE_INT:
		*out = graft_value_bool(v->u.i != 0);
		return CONV_OK;
	case GRAFT_VALUE_STRING:
		trimmed(v->u.s, &p, &n);
		if (n == 4 && strncasecmp(p, "true", 4) == 0)
			*out = graft_value_bool(true);
		else if (n == 5 && strncasecmp(p, "false", 5) == 0)
			*out = graft_value_bool(false);
		else
			return CONV_NULL;
		return CONV_OK;
	default:
		return CONV_TYPE;
	}
}

static enum conv conv_string(const struct graft_value *v,
			     struct graft_value *out)
{
	int rv = func_to_string(v, out);

	if (rv == GRAFT_EINVAL)
		return CONV_TYPE;
	return rv == GRAFT_OK ? CONV_OK : CONV_NULL;
}

typedef enum conv (*conv_fn)(const struct graft_value *, struct graft_value *);

static int convert(struct cypher_fctx *fc, const char *name, const char *what,
		   conv_fn f, bool or_null, const struct graft_value *v,
		   struct graft_value *out)
{
	enum conv c;

	*out = graft_value_null();
	if (v->type == GRAFT_VALUE_NULL)
		return GRAFT_OK;
	c = f(v, out);
	if (c == CONV_TYPE && !or_null)
		return func_type_error(fc, name, what, v);
	if (c != CONV_OK)
		*out = graft_value_null();
	return GRAFT_OK;
}

int fn_to_integer(struct cypher_fctx *fc, const struct graft_value *args,
		  uint32_t n, struct graft_value *out)
{
	(void)n;
	return convert(fc, "toInteger", "a String, Float, Integer or Boolean",
		       conv_int, false, args, out);
}

int fn_to_integer_or_null(struct cypher_fctx *fc,
			  const struct graft_value *args, uint32_t n,
			  struct graft_value *out)
{
	(void)n;
	return convert(fc, "toIntegerOrNull", "", conv_int, true, args, out);
}

int fn_to_float(struct cypher_fctx *fc, const struct graft_value *args,
		uint32_t n, struct graft_value *out)
{
	(void)n;
	return convert(fc, "toFloat", "a String, Float or Integer", conv_float,
		       false, args, out);
}

int fn_to_float_or_null(struct cypher_fctx *fc, const struct graft_value *args,
			uint32_t n, struct graft_value *out)
{
	(void)n;
	return convert(fc, "toFloatOrNull", "", conv_float, true, args, out);
}

int fn_to_boolean(struct cypher_fctx *fc, const struct graft_value *args,
		  uint32_t n, struct graft_value *out)
{
	(void)n;
	return convert(fc, "toBoolean", "a String, Integer or Boolean",
		       conv_bool, false, args, out);
}

int fn_to_boolean_or_null(struct cypher_fctx *fc,
			  const struct graft_value *args, uint32_t n,
			  struct graft_value *out)
{
	(void)n;
	return convert(fc, "toBooleanOrNull", "", conv_bool, true, args, out);
}

int fn_to_string(struct cypher_fctx *fc, const struct graft_value *args,
		 uint32_t n, struct graft_value *out)
{
	(void)n;
	return convert(fc, "toString",
		       "a String, Number, Boolean, Temporal or Duration",
		       conv_string, false, args, out);
}

int fn_to_string_or_null(struct cypher_fctx *fc,
			 const struct graft_value *args, uint32_t n,
			 struct graft_value *out)
{
	(void)n;
	return convert(fc, "toStringOrNull", "", conv_string, true, args, out);
}

static int convert_list(struct cypher_fctx *fc, const char *name, conv_fn f,
			const struct graft_value *v, struct graft_value *out)
{
	int rv;

	*out = graft_value_null();
	if (v->type == GRAFT_VALUE_NULL)
		return GRAFT_OK;
	if (v->type != GRAFT_VALUE_LIST)
		return func_type_error(fc, name, "a List", v);
	rv = graft_value_list(out, v->u.list->len);
	for (uint32_t i = 0; rv == GRAFT_OK && i < v->u.list->len; i++)
		rv = convert(fc, name, "", f, true, &v->u.list->items[i],
			     &out->u.list->items[i]);
	if (rv != GRAFT_OK)
		graft_value_free(out);
	return rv;
}

int fn_to_integer_list(struct cypher_fctx *fc, const struct graft_value *args,
		       uint32_t n, struct graft_value *out)
{
	(void)n;
	return convert_list(fc, "toIntegerList", conv_int, args, out);
}

int fn_to_float_list(struct cypher_fctx *fc, const struct graft_value *args,
		     uint32_t n, struct graft_value *out)
{
	(void)n;
	return convert_list(fc, "toFloatList", conv_float, args, out);
}

int fn_to_string_list(struct cypher_fctx *fc, const struct graft_value *args,
		      uint32_t n, struct graft_value *out)
{
	(void)n;
	return convert_list(fc, "toStringList", conv_string, args, out);
}

int fn_to_boolean_list(struct cypher_fctx *fc, const struct graft_value *args,
		       uint32_t n, struct graft_value *out)
{
	(void)n;
	return convert_list(fc, "toBooleanList", conv_bool, args, out);
}

int fn_coalesce(struct cypher_fctx *fc, const struct graft_value *args,
		uint32_t n, struct graft_value *out)
{
	(void)fc;
	for (uint32_t i = 0; i < n; i++)
		if (args[i].type != GRAFT_VALUE_NULL)
			return graft_value_copy(out, &args[i]);
	*out = graft_value_null();
	return GRAFT_OK;
}

int fn_null_if(struct cypher_fctx *fc, const struct graft_value *args,
	       uint32_t n, struct graft_value *out)
{
	(void)fc;
	(void)n;
	if (cypher_equals(&args[0], &args[1]) == CYPHER_TRUE) {
		*out = graft_value_null();
		return GRAFT_OK;
	}
	return graft_value_copy(out, &args[0]);
}

/* valueType ---------------------------------------------------------------- */

static const char *base_type(uint8_t t)
{
	static const char *const names[GRAFT_VALUE_TYPE_COUNT] = {
		[GRAFT_VALUE_NULL] = "NULL",
		[GRAFT_VALUE_BOOL] = "BOOLEAN",
		[GRAFT_VALUE_INT] = "INTEGER",
		[GRAFT_VALUE_FLOAT] = "FLOAT",
		[GRAFT_VALUE_STRING] = "STRING",
		[GRAFT_VALUE_BYTES] = "ANY",
		[GRAFT_VALUE_LIST] = "LIST",
		[GRAFT_VALUE_MAP] = "MAP",
		[GRAFT_VALUE_DATE] = "DATE",
		[GRAFT_VALUE_LOCALTIME] = "LOCAL TIME",
		[GRAFT_VALUE_TIME] = "ZONED TIME",
		[GRAFT_VALUE_LOCALDATETIME] = "LOCAL DATETIME",
		[GRAFT_VALUE_DATETIME] = "ZONED DATETIME",
		[GRAFT_VALUE_DURATION] = "DURATION",
		[GRAFT_VALUE_POINT] = "POINT",
		[GRAFT_VALUE_NODE] = "NODE",
		[GRAFT_VALUE_REL] = "RELATIONSHIP",
		[GRAFT_VALUE_PATH] = "PATH",
	};

	return t < GRAFT_VALUE_TYPE_COUNT ? names[t] : "ANY";
}

static void append(char *buf, size_t size, size_t *len, const char *s)
{
	int n = snprintf(buf + *len, *len < size ? size - *len : 0, "%s", s);

	if (n > 0)
		*len = *len + (size_t)n < size ? *len + (size_t)n : size - 1;
}

/* "LIST<INTEGER NOT NULL | STRING NOT NULL> NOT NULL": element types in
 * first-seen order, each once; a null element makes the others nullable. */
static void value_type(const struct graft_value *v, bool not_null, char *buf,
		       size_t size, size_t *len)
{
	char seen[8][128], one[128];
	unsigned ns = 0;
	bool has_null = false;

	if (v->type != GRAFT_VALUE_LIST) {
		append(buf, size, len, base_type(v->type));
		if (not_null && v->type != GRAFT_VALUE_NULL)
			append(buf, size, len, " NOT NULL");
		return;
	}
	for (uint32_t i = 0; i < v->u.list->len; i++)
		has_null |= v->u.list->items[i].type == GRAFT_VALUE_NULL;
	append(buf, size, len, "LIST<");
	for (uint32_t i = 0; i < v->u.list->len; i++) {
		const struct graft_value *it = &v->u.list->items[i];
		size_t l = 0;
		unsigned k;
		if (it->type == GRAFT_VALUE_NULL)
			continue;
		one[0] = '\0';
		value_type(it, !has_null, one, sizeof one, &l);
		for (k = 0; k < ns && strcmp(seen[k], one) != 0; k++)
			;
		if (k < ns)
			continue;
		if (ns == 8)
			break;
		memcpy(seen[ns++], one, sizeof one);
		if (ns > 1)
			append(buf, size, len, " | ");
		append(buf, size, len, one);
	}
	if (ns == 0)
		append(buf, size, len, has_null ? "NULL" : "NOTHING");
	append(buf, size, len, not_null ? "> NOT NULL" : ">");
}

int fn_value_type(struct cypher_fctx *fc, const struct graft_value *args,
		  uint32_t n, struct graft_value *out)
{
	char buf[512];
	size_t len = 0;

	(void)fc;
	(void)n;
	buf[0] = '\0';
	value_type(&args[0], true, buf, sizeof buf, &len);
	return graft_value_string(out, buf, len);
}

/* Random and time ---------------------------------------------------------- */

static void random_bytes(void *p, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = getrandom((char *)p + got, n - got, 0);
		if (r > 0)
			got += (size_t)r;
	}
}

int fn_rand(struct cypher_fctx *fc, const struct graft_value *args,
	    uint32_t n, struct graft_value *out)
{
	uint64_t r;

	(void)fc;
	(void)args;
	(void)n;
	random_bytes(&r, sizeof r);
	*out = graft_value_float((double)(r >> 11) / 9007199254740992.0);
	return GRAFT_OK;
}

int fn_random_uuid(struct cypher_fctx *fc, const struct graft_value *args,
		   uint32_t n, struct graft_value *out)
{
	uint8_t b[16];

	(void)fc;
	(void)args;
	(void)n;
	random_bytes(b, sizeof b);
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
	return func_string_printf(out,
				  "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
				  "%02x%02x%02x%02x%02x%02x",
				  b[0], b[1], b[2], b[3], b[4], b[5], b[6],
				  b[7], b[8], b[9], b[10], b[11], b[12], b[13],
				  b[14], b[15]);
}

int fn_timestamp(struct cypher_fctx *fc, const struct graft_value *args,
		 uint32_t n, struct graft_value *out)
{
	(void)args;
	(void)n;
	*out = graft_value_int(fc->statement_ms);
	return GRAFT_OK;
}
