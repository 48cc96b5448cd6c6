#include "cypher_fn_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

static struct cypher_error err;
static struct cypher_fctx ctx;
static struct db *use_db;
static struct db_tx *use_tx;

void cfx_use_db(struct db *db, struct db_tx *tx)
{
	use_db = db;
	use_tx = tx;
}

struct cypher_fctx *cfx(void)
{
	memset(&err, 0, sizeof err);
	ctx = (struct cypher_fctx){.db = use_db, .tx = use_tx, .err = &err,
				   .statement_ms = CFX_NOW_MS};
	return &ctx;
}

struct graft_value V_NULL(void)
{
	return graft_value_null();
}

struct graft_value B(bool b)
{
	return graft_value_bool(b);
}

struct graft_value I(int64_t i)
{
	return graft_value_int(i);
}

struct graft_value F(double f)
{
	return graft_value_float(f);
}

struct graft_value S(const char *s)
{
	struct graft_value v;

	assert_int_equal(graft_value_string(&v, s, strlen(s)), GRAFT_OK);
	return v;
}

struct graft_value L(uint32_t n, ...)
{
	struct graft_value v;
	va_list ap;

	assert_int_equal(graft_value_list(&v, n), GRAFT_OK);
	va_start(ap, n);
	for (uint32_t i = 0; i < n; i++)
		v.u.list->items[i] = va_arg(ap, struct graft_value);
	va_end(ap);
	return v;
}

struct graft_value M(uint32_t n, ...)
{
	struct graft_value v;
	va_list ap;

	assert_int_equal(graft_value_map(&v, n), GRAFT_OK);
	va_start(ap, n);
	for (uint32_t i = 0; i < n; i++) {
		const char *k = va_arg(ap, const char *);
		v.u.map->entries[i].key = graft_str_new(k, strlen(k));
		v.u.map->entries[i].value = va_arg(ap, struct graft_value);
	}
	va_end(ap);
	graft_map_sort(v.u.map);
	return v;
}

struct graft_value T(const char *fn, struct graft_value arg)
{
	const struct cypher_func *f = cypher_func_lookup(fn, strlen(fn));
	struct graft_value out;
	int rv;

	assert_non_null(f);
	rv = f->fn(cfx(), &arg, 1, &out);
	if (rv != GRAFT_OK)
		fail_msg("%s(%s): %s", fn, R(&arg), err.message);
	graft_value_free(&arg);
	return out;
}

const char *R(const struct graft_value *v)
{
	static char buf[4096];

	cypher_render_with(NULL, v, buf, sizeof buf);
	return buf;
}

static int vcall(const char *fn, struct graft_value *out, uint32_t n,
		 va_list ap)
{
	const struct cypher_func *f = cypher_func_lookup(fn, strlen(fn));
	struct graft_value args[8];
	int rv;

	if (f == NULL)
		fail_msg("no function %s", fn);
	assert_true(n <= 8);
	assert_true(n >= f->min_args && n <= f->max_args);
	for (uint32_t i = 0; i < n; i++)
		args[i] = va_arg(ap, struct graft_value);
	*out = graft_value_null();
	rv = f->fn(cfx(), args, n, out);
	for (uint32_t i = 0; i < n; i++)
		graft_value_free(&args[i]);
	return rv;
}

void call_is(const char *fn, const char *want, uint32_t n, ...)
{
	struct graft_value out;
	va_list ap;
	int rv;

	va_start(ap, n);
	rv = vcall(fn, &out, n, ap);
	va_end(ap);
	if (rv != GRAFT_OK)
		fail_msg("%s failed (%d): %s: %s", fn, rv, err.code,
			 err.message);
	if (strcmp(R(&out), want) != 0)
		fail_msg("%s gave %s, want %s", fn, R(&out), want);
	graft_value_free(&out);
}

const char *call_fails(const char *fn, const char *kind, uint32_t n, ...)
{
	static char message[GRAFT_ERRMSG_SIZE];
	struct graft_value out;
	char code[128];
	va_list ap;
	int rv;

	va_start(ap, n);
	rv = vcall(fn, &out, n, ap);
	va_end(ap);
	if (rv == GRAFT_OK)
		fail_msg("%s gave %s, want a %s", fn, R(&out), kind);
	assert_int_equal(rv, GRAFT_EINVAL);
	snprintf(code, sizeof code, "Neo.ClientError.Statement.%s", kind);
	if (strcmp(err.code, code) != 0)
		fail_msg("%s failed with %s (%s), want %s", fn, err.code,
			 err.message, kind);
	assert_int_equal(out.type, GRAFT_VALUE_NULL);
	memcpy(message, err.message, sizeof message);
	return message;
}

void arith_is(enum cypher_arith op, struct graft_value a,
	      struct graft_value b, const char *want)
{
	struct graft_value out;
	int rv = cypher_arith(cfx(), op, &a, &b, &out);

	if (rv != GRAFT_OK)
		fail_msg("%s op %d %s failed: %s", R(&a), op, R(&b),
			 err.message);
	if (strcmp(R(&out), want) != 0)
		fail_msg("op %d gave %s, want %s", op, R(&out), want);
	graft_value_free(&a);
	graft_value_free(&b);
	graft_value_free(&out);
}

void arith_fails(enum cypher_arith op, struct graft_value a,
		 struct graft_value b, const char *kind)
{
	struct graft_value out;
	char code[128];
	int rv = cypher_arith(cfx(), op, &a, &b, &out);

	if (rv == GRAFT_OK)
		fail_msg("op %d gave %s, want %s", op, R(&out), kind);
	snprintf(code, sizeof code, "Neo.ClientError.Statement.%s", kind);
	assert_string_equal(err.code, code);
	graft_value_free(&a);
	graft_value_free(&b);
}
