/* Aggregating functions. Each keeps a small state the executor allocates
 * (zeroed) per group; step skips nulls as Cypher does; final writes the
 * result, and free releases whatever step kept. sum and avg keep integers
 * exact until a float arrives, and handle durations; min and max follow
 * ORDER BY's order; the percentiles keep every number seen. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "func_int.h"
#include "ops.h"
#include "temporal.h"

/* A growing array of values. */
struct vec {
	struct graft_value *items;
	uint32_t len, cap;
};

static int vec_push_copy(struct vec *v, const struct graft_value *x)
{
	if (v->len == v->cap) {
		uint32_t cap = v->cap ? v->cap * 2 : 8;
		struct graft_value *p = graft_mem_realloc(v->items, cap * sizeof *p);
		if (p == NULL || cap < v->cap)
			return GRAFT_ENOMEM;
		v->items = p;
		v->cap = cap;
	}
	if (graft_value_copy(&v->items[v->len], x) != GRAFT_OK)
		return GRAFT_ENOMEM;
	v->len++;
	return GRAFT_OK;
}

static void vec_free(struct vec *v)
{
	for (uint32_t i = 0; i < v->len; i++)
		graft_value_free(&v->items[i]);
	graft_mem_free(v->items);
	memset(v, 0, sizeof *v);
}

static void no_init(void *state)
{
	(void)state;
}

static void no_free(void *state)
{
	(void)state;
}

/* count --------------------------------------------------------------------- */

static int count_step(struct cypher_fctx *fc, void *state,
		      const struct graft_value *args, uint32_t n)
{
	(void)fc;
	(void)n;
	if (args[0].type != GRAFT_VALUE_NULL)
		(*(int64_t *)state)++;
	return GRAFT_OK;
}

static int count_final(struct cypher_fctx *fc, void *state,
		       struct graft_value *out)
{
	(void)fc;
	*out = graft_value_int(*(int64_t *)state);
	return GRAFT_OK;
}

/* collect ------------------------------------------------------------------- */

static int collect_step(struct cypher_fctx *fc, void *state,
			const struct graft_value *args, uint32_t n)
{
	(void)fc;
	(void)n;
	if (args[0].type == GRAFT_VALUE_NULL)
		return GRAFT_OK;
	return vec_push_copy(state, &args[0]);
}

/* Moves the vector into a LIST value. */
static int vec_to_list(struct vec *v, struct graft_value *out)
{
	int rv = graft_value_list(out, 0);

	if (rv != GRAFT_OK)
		return rv;
	if (v->len > 0) {
		graft_mem_free(out->u.list->items);
		out->u.list->items = v->items;
		out->u.list->len = v->len;
		memset(v, 0, sizeof *v);
	}
	return GRAFT_OK;
}

static int collect_final(struct cypher_fctx *fc, void *state,
			 struct graft_value *out)
{
	(void)fc;
	return vec_to_list(state, out);
}

static void vec_state_free(void *state)
{
	vec_free(state);
}

/* sum, avg ------------------------------------------------------------------ */

struct sum {
	int64_t count;
	bool floats, durations, numbers;
	int64_t isum;
	double fsum;
	struct graft_ext dsum;
};

static int sum_step_named(struct cypher_fctx *fc, struct sum *s,
			  const char *name, const struct graft_value *v)
{
	char d[192];

	if (v->type == GRAFT_VALUE_NULL)
		return GRAFT_OK;
	if (v->type == GRAFT_VALUE_DURATION && !s->numbers) {
		struct graft_value r;
		if (temporal_duration_add(&s->dsum, v->u.x, 1, &r) != GRAFT_OK)
			return cypher_fail(fc, GRAFT_STATUS_ARITHMETIC_ERROR,
					   "%s() overflows the duration range",
					   name);
		s->dsum = *r.u.x;
		graft_value_free(&r);
		s->durations = true;
		s->count++;
		return GRAFT_OK;
	}
	if (!func_is_number(v) || s->durations)
		return cypher_fail(fc, GRAFT_STATUS_TYPE_ERROR,
				   "%s() can only handle numerical values, "
				   "duration, and null. Got %s", name,
				   func_describe(v, d, sizeof d));
	s->numbers = true;
	s->count++;
	if (v->type == GRAFT_VALUE_FLOAT && !s->floats) {
		s->floats = true;
		s->fsum = (double)s->isum;
	}
	if (s->floats) {
		s->fsum += func_as_double(v);
		return GRAFT_OK;
	}
	if (__builtin_add_overflow(s->isum, v->u.i, &s->isum))
		return cypher_fail(fc, GRAFT_STATUS_ARITHMETIC_ERROR, "long overflow");
	return GRAFT_OK;
}

static int sum_step(struct cypher_fctx *fc, void *state,
		    const struct graft_value *args, uint32_t n)
{
	(void)n;
	return sum_step_named(fc, state, "sum", &args[0]);
}

static int sum_final(struct cypher_fctx *fc, void *state,
		     struct graft_value *out)
{
	struct sum *s = state;
	int rv;

	(void)fc;
	if (s->durations) {
		rv = graft_value_ext(out, GRAFT_VALUE_DURATION);
		if (rv == GRAFT_OK)
			*out->u.x = s->dsum;
		return rv;
	}
	*out = s->floats ? graft_value_float(s->fsum)
			 : graft_value_int(s->isum);
	return GRAFT_OK;
}

static int avg_step(struct cypher_fctx *fc, void *state,
		    const struct graft_value *args, uint32_t n)
{
	(void)n;
	return sum_step_named(fc, state, "avg", &args[0]);
}

static int avg_final(struct cypher_fctx *fc, void *state,
		     struct graft_value *out)
{
	struct sum *s = state;

	(void)fc;
	*out = graft_value_null();
	if (s->count == 0)
		return GRAFT_OK;
	if (s->durations)
		return temporal_duration_scale(&s->dsum, (double)s->count,
					       true, out);
	*out = graft_value_float((s->floats ? s->fsum : (double)s->isum) /
				 (double)s->count);
	return GRAFT_OK;
}

/* min, max ------------------------------------------------------------------ */

static int extreme_step(void *state, const struct graft_value *v, int sign)
{
	struct graft_value *best = state;

	if (v->type == GRAFT_VALUE_NULL)
		return GRAFT_OK;
	if (best->type != GRAFT_VALUE_NULL &&
	    sign * cypher_order_cmp(v, best) >= 0)
		return GRAFT_OK;
	graft_value_free(best);
	return graft_value_copy(best, v);
}

static int min_step(struct cypher_fctx *fc, void *state,
		    const struct graft_value *args, uint32_t n)
{
	(void)fc;
	(void)n;
	return extreme_step(state, &args[0], 1);
}

static int max_step(struct cypher_fctx *fc, void *state,
		    const struct graft_value *args, uint32_t n)
{
	(void)fc;
	(void)n;
	return extreme_step(state, &args[0], -1);
}

static int extreme_final(struct cypher_fctx *fc, void *state,
			 struct graft_value *out)
{
	struct graft_value *best = state;

	(void)fc;
	*out = *best;
	*best = graft_value_null();
	return GRAFT_OK;
}

static void extreme_free(void *state)
{
	graft_value_free(state);
}

/* stDev, stDevP (Welford) --------------------------------------------------- */

struct stdev {
	int64_t n;
	double mean, m2;
};

static int stdev_step(struct cypher_fctx *fc, void *state,
		      const struct graft_value *args, uint32_t n)
{
	struct stdev *s = state;
	double x, delta;

	(void)n;
	if (args[0].type == GRAFT_VALUE_NULL)
		return GRAFT_OK;
	if (!func_is_number(&args[0]))
		return func_type_error(fc, "stDev", "a number", &args[0]);
	x = func_as_double(&args[0]);
	s->n++;
	delta = x - s->mean;
	s->mean += delta / (double)s->n;
	s->m2 += delta * (x - s->mean);
	return GRAFT_OK;
}

static int stdev_final(struct cypher_fctx *fc, void *state,
		       struct graft_value *out)
{
	struct stdev *s = state;

	(void)fc;
	*out = graft_value_float(s->n < 2 ? 0.0
					  : sqrt(s->m2 / (double)(s->n - 1)));
	return GRAFT_OK;
}

static int stdevp_final(struct cypher_fctx *fc, void *state,
			struct graft_value *out)
{
	struct stdev *s = state;

	(void)fc;
	*out = graft_value_float(s->n < 1 ? 0.0 : sqrt(s->m2 / (double)s->n));
	return GRAFT_OK;
}

/* percentileCont, percentileDisc -------------------------------------------- */

struct percentile {
	struct vec values;
	double p;
	bool have_p;
};

static int percentile_step(struct cypher_fctx *fc, void *state,
			   const struct graft_value *args, uint32_t n)
{
	struct percentile *s = state;
	double p;

	(void)n;
	if (args[0].type == GRAFT_VALUE_NULL)
		return GRAFT_OK;
	if (!func_is_number(&args[0]))
		return func_type_error(fc, "percentile", "a number", &args[0]);
	if (!s->have_p) {
		if (!func_is_number(&args[1]))
			return func_type_error(fc, "percentile", "a number",
					       &args[1]);
		p = func_as_double(&args[1]);
		if (!(p >= 0 && p <= 1))
			return cypher_fail(fc, GRAFT_STATUS_ARGUMENT_ERROR,
					   "Invalid input '%g' is not a valid "
					   "argument, must be a number in the "
					   "range 0.0 to 1.0", p);
		s->p = p;
		s->have_p = true;
	}
	return vec_push_copy(&s->values, &args[0]);
}

static int value_order(const void *a, const void *b)
{
	return cypher_order_cmp(a, b);
}

static int percentile_cont_final(struct cypher_fctx *fc, void *state,
				 struct graft_value *out)
{
	struct percentile *s = state;
	struct graft_value *v = s->values.items;
	double idx, lo, hi;
	uint32_t n = s->values.len;

	(void)fc;
	*out = graft_value_null();
	if (n == 0)
		return GRAFT_OK;
	qsort(v, n, sizeof *v, value_order);
	idx = s->p * (n - 1);
	lo = func_as_double(&v[(uint32_t)floor(idx)]);
	hi = func_as_double(&v[(uint32_t)ceil(idx)]);
	*out = graft_value_float(lo + (hi - lo) * (idx - floor(idx)));
	return GRAFT_OK;
}

static int percentile_disc_final(struct cypher_fctx *fc, void *state,
				 struct graft_value *out)
{
	struct percentile *s = state;
	struct graft_value *v = s->values.items;
	uint32_t n = s->values.len;
	int64_t idx;

	(void)fc;
	*out = graft_value_null();
	if (n == 0)
		return GRAFT_OK;
	qsort(v, n, sizeof *v, value_order);
	/* Nearest rank: the smallest value with at least p of them at or
	 * below it. */
	idx = (int64_t)ceil(s->p * n) - 1;
	if (idx < 0)
		idx = 0;
	return graft_value_copy(out, &v[idx]);
}

static void percentile_free(void *state)
{
	vec_free(&((struct percentile *)state)->values);
}

/* The table ------------------------------------------------------------------ */

static const struct cypher_agg aggs[] = {
	{"count", 1, 1, sizeof(int64_t), no_init, count_step, count_final,
	 no_free, "count(input :: ANY) :: INTEGER",
	 "Returns the number of values or rows."},
	{"collect", 1, 1, sizeof(struct vec), no_init, collect_step,
	 collect_final, vec_state_free, "collect(input :: ANY) :: LIST<ANY>",
	 "Returns a list containing the values returned by an expression."},
	{"sum", 1, 1, sizeof(struct sum), no_init, sum_step, sum_final,
	 no_free, "sum(input :: INTEGER | FLOAT | DURATION) :: INTEGER | FLOAT | DURATION",
	 "Returns the sum of a set of INTEGER, FLOAT or DURATION values"},
	{"avg", 1, 1, sizeof(struct sum), no_init, avg_step, avg_final,
	 no_free, "avg(input :: INTEGER | FLOAT | DURATION) :: INTEGER | FLOAT | DURATION",
	 "Returns the average of a set of INTEGER, FLOAT or DURATION values."},
	{"min", 1, 1, sizeof(struct graft_value), no_init, min_step,
	 extreme_final, extreme_free, "min(input :: ANY) :: ANY",
	 "Returns the minimum value in a set of values."},
	{"max", 1, 1, sizeof(struct graft_value), no_init, max_step,
	 extreme_final, extreme_free, "max(input :: ANY) :: ANY",
	 "Returns the maximum value in a set of values."},
	{"stDev", 1, 1, sizeof(struct stdev), no_init, stdev_step,
	 stdev_final, no_free, "stDev(input :: FLOAT) :: FLOAT",
	 "Returns the standard deviation for the given value over a group "
	 "for a sample of a population."},
	{"stDevP", 1, 1, sizeof(struct stdev), no_init, stdev_step,
	 stdevp_final, no_free, "stDevP(input :: FLOAT) :: FLOAT",
	 "Returns the standard deviation for the given value over a group "
	 "for an entire population."},
	{"percentileCont", 2, 2, sizeof(struct percentile), no_init,
	 percentile_step, percentile_cont_final, percentile_free,
	 "percentileCont(input :: FLOAT, percentile :: FLOAT) :: FLOAT",
	 "Returns the percentile of a value over a group using linear "
	 "interpolation."},
	{"percentileDisc", 2, 2, sizeof(struct percentile), no_init,
	 percentile_step, percentile_disc_final, percentile_free,
	 "percentileDisc(input :: INTEGER | FLOAT, percentile :: FLOAT) :: INTEGER | FLOAT",
	 "Returns the nearest INTEGER or FLOAT value to the given percentile "
	 "over a group using a rounding method."},
};

const struct cypher_agg *cypher_agg_lookup(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof aggs / sizeof aggs[0]; i++)
		if (strlen(aggs[i].name) == len &&
		    strncasecmp(aggs[i].name, name, len) == 0)
			return &aggs[i];
	return NULL;
}

size_t cypher_agg_all(const struct cypher_agg **out)
{
	*out = aggs;
	return sizeof aggs / sizeof aggs[0];
}
