/* duration() from text or a map of units, and duration.between / inMonths /
 * inDays / inSeconds: the difference of two temporal values in calendar
 * units (months first, then days, then seconds), computed on local times
 * with the second value moved into the first one's offset. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "func_int.h"
#include "temporal.h"

static const char *const unit_names[] = {
	"years", "quarters", "months", "weeks", "days", "hours", "minutes",
	"seconds", "milliseconds", "microseconds", "nanoseconds"};

static int duration_map(struct cypher_fctx *fc, const struct graft_map *m,
			struct graft_value *out)
{
	/* Per unit: what one of it is in months, days or nanoseconds. */
	static const double months_per[] = {12, 3, 1};
	static const double days_per[] = {7, 1};
	static const int64_t nanos_per[] = {3600 * TEMPORAL_NANOS,
					    60 * TEMPORAL_NANOS, TEMPORAL_NANOS,
					    1000000, 1000, 1};
	double months = 0, days = 0, secs = 0;
	__int128 nanos = 0;

	for (uint32_t i = 0; i < m->len; i++) {
		const struct graft_value *v = &m->entries[i].value;
		size_t u;
		for (u = 0; u < 11 && strcasecmp(unit_names[u],
						 m->entries[i].key->data);
		     u++)
			;
		if (u == 11)
			return cypher_fail(fc, "ArgumentError",
					   "Invalid input for function "
					   "'duration()': no such unit: %s",
					   m->entries[i].key->data);
		if (v->type == GRAFT_VALUE_NULL)
			continue;
		if (!func_is_number(v))
			return func_type_error(fc, "duration", "a number", v);
		if (u < 3)
			months += func_as_double(v) * months_per[u];
		else if (u < 5)
			days += func_as_double(v) * days_per[u - 3];
		else if (v->type == GRAFT_VALUE_INT)
			nanos += (__int128)v->u.i * nanos_per[u - 5];
		else
			secs += v->u.f * (double)nanos_per[u - 5] / 1e9;
	}
	/* Whole seconds go through secs (exact to 2^53 s), the rest stays
	 * exact in nanoseconds. */
	secs += (double)(int64_t)(nanos / TEMPORAL_NANOS);
	if (temporal_duration_make(out, months, days, secs,
				   (int64_t)(nanos % TEMPORAL_NANOS)) != GRAFT_OK)
		return cypher_fail(fc, "ArithmeticError",
				   "Invalid input for function 'duration()': "
				   "the duration is out of range");
	return GRAFT_OK;
}

int fn_duration(struct cypher_fctx *fc, const struct graft_value *args,
		uint32_t n, struct graft_value *out)
{
	char why[160];
	int rv;

	(void)n;
	*out = graft_value_null();
	switch (args[0].type) {
	case GRAFT_VALUE_NULL:
		return GRAFT_OK;
	case GRAFT_VALUE_STRING:
		rv = temporal_parse(GRAFT_VALUE_DURATION, args[0].u.s->data,
				    args[0].u.s->len, out, why, sizeof why);
		if (rv == GRAFT_EINVAL)
			return cypher_fail(fc, "ArgumentError", "%s: \"%s\"",
					   why, args[0].u.s->data);
		return rv;
	case GRAFT_VALUE_MAP:
		return duration_map(fc, args[0].u.map, out);
	case GRAFT_VALUE_DURATION:
		return graft_value_copy(out, &args[0]);
	default:
		return func_type_error(fc, "duration", "a String or Map",
				       &args[0]);
	}
}

/* between ------------------------------------------------------------------- */

enum between { B_ALL, B_MONTHS, B_DAYS, B_SECONDS };

/* A point in local time: days (when dated), seconds of day, nanos. */
struct moment {
	bool date;
	int64_t days, tod;
	int32_t nanos;
};

static void moments(const struct graft_value *a, const struct graft_value *b,
		    struct moment *ma, struct moment *mb)
{
	struct temporal_parts pa, pb;

	temporal_parts(a, &pa);
	temporal_parts(b, &pb);
	if (pa.has_offset && pb.has_offset && pb.offset != pa.offset) {
		/* b seen at a's offset (a's zone's offset at b's instant). */
		int64_t utc = pb.days * TEMPORAL_DAY_SECS + pb.tod - pb.offset;
		int32_t off = pa.offset;
		if (pa.zone != NULL)
			temporal_zone_at_utc(pa.zone->data, pa.zone->len, utc,
					     &off);
		pb.days = temporal_floor_div(utc + off, TEMPORAL_DAY_SECS);
		pb.tod = temporal_floor_mod(utc + off, TEMPORAL_DAY_SECS);
	}
	*ma = (struct moment){pa.has_date && pb.has_date, pa.days, pa.tod,
			      pa.nanos};
	*mb = (struct moment){ma->date, pb.days, pb.tod, pb.nanos};
	if (!ma->date)
		ma->days = mb->days = 0;
}

static __int128 moment_nanos(const struct moment *m)
{
	return ((__int128)m->days * TEMPORAL_DAY_SECS + m->tod) *
		       TEMPORAL_NANOS + m->nanos;
}

/* Whole months from a to b, towards zero. */
static int64_t months_between(const struct moment *a, const struct moment *b)
{
	int64_t ya, yb, m;
	unsigned ma, mb, da, db;
	__int128 ta, tb;

	temporal_civil_from_days(a->days, &ya, &ma, &da);
	temporal_civil_from_days(b->days, &yb, &mb, &db);
	m = (yb * 12 + mb) - (ya * 12 + ma);
	/* Compare the rest of each moment: day of month, then time. */
	ta = ((__int128)da * TEMPORAL_DAY_SECS + a->tod) * TEMPORAL_NANOS +
	     a->nanos;
	tb = ((__int128)db * TEMPORAL_DAY_SECS + b->tod) * TEMPORAL_NANOS +
	     b->nanos;
	if (m > 0 && tb < ta)
		m--;
	else if (m < 0 && tb > ta)
		m++;
	return m;
}

static int64_t add_months_days(int64_t days, int64_t months)
{
	int64_t y, total;
	unsigned m, d, md;

	temporal_civil_from_days(days, &y, &m, &d);
	total = y * 12 + (m - 1) + months;
	y = temporal_floor_div(total, 12);
	m = (unsigned)temporal_floor_mod(total, 12) + 1;
	md = temporal_month_days(y, m);
	return temporal_days_from_civil(y, m, d < md ? d : md);
}

static int between(struct cypher_fctx *fc, const char *fname, enum between k,
		   const struct graft_value *args, struct graft_value *out)
{
	struct moment a, b;
	int64_t months = 0, days = 0;
	__int128 rest;

	*out = graft_value_null();
	if (func_any_null(args, 2))
		return GRAFT_OK;
	for (int i = 0; i < 2; i++)
		if (args[i].type < GRAFT_VALUE_DATE ||
		    args[i].type > GRAFT_VALUE_DATETIME)
			return func_type_error(fc, fname, "a temporal value",
					       &args[i]);
	moments(&args[0], &args[1], &a, &b);
	if (a.date && (k == B_ALL || k == B_MONTHS)) {
		months = months_between(&a, &b);
		a.days = add_months_days(a.days, months);
	}
	rest = moment_nanos(&b) - moment_nanos(&a);
	if (k == B_MONTHS)
		rest = 0;
	if (a.date && (k == B_ALL || k == B_DAYS)) {
		days = (int64_t)(rest / (TEMPORAL_DAY_SECS * TEMPORAL_NANOS));
		rest -= (__int128)days * TEMPORAL_DAY_SECS * TEMPORAL_NANOS;
	}
	if (k == B_DAYS)
		rest = 0;
	return temporal_duration_make(out, (double)months, (double)days,
				      (double)(int64_t)(rest / TEMPORAL_NANOS),
				      (int64_t)(rest % TEMPORAL_NANOS));
}

int fn_duration_between(struct cypher_fctx *fc, const struct graft_value *args,
			uint32_t n, struct graft_value *out)
{
	(void)n;
	return between(fc, "duration.between", B_ALL, args, out);
}

int fn_duration_in_months(struct cypher_fctx *fc,
			  const struct graft_value *args, uint32_t n,
			  struct graft_value *out)
{
	(void)n;
	return between(fc, "duration.inMonths", B_MONTHS, args, out);
}

int fn_duration_in_days(struct cypher_fctx *fc, const struct graft_value *args,
			uint32_t n, struct graft_value *out)
{
	(void)n;
	return between(fc, "duration.inDays", B_DAYS, args, out);
}

int fn_duration_in_seconds(struct cypher_fctx *fc,
			   const struct graft_value *args, uint32_t n,
			   struct graft_value *out)
{
	(void)n;
	return between(fc, "duration.inSeconds", B_SECONDS, args, out);
}
