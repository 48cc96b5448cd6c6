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
			return cypher_fail(fc, GRAFT_STATUS_ARGUMENT_ERROR,
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
	if (nanos / TEMPORAL_NANOS > INT64_MAX ||
	    nanos / TEMPORAL_NANOS < INT64_MIN ||
	    temporal_duration_make(out, months, days, secs,
				   (int64_t)(nanos / TEMPORAL_NANOS),
				   (int64_t)(nanos % TEMPORAL_NANOS)) != GRAFT_OK)
		return cypher_fail(fc, GRAFT_STATUS_ARITHMETIC_ERROR,
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
			return cypher_fail(fc, GRAFT_STATUS_ARGUMENT_ERROR, "%s: \"%s\"",
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

/* The zone differences are measured in: the first value's zone or offset,
 * else the second's; none when neither has one. */
struct zone_ctx {
	bool set;
	const struct graft_str *name; /* NULL: the fixed offset */
	int32_t offset;
};

static int32_t ctx_offset_at_utc(const struct zone_ctx *z, int64_t utc)
{
	int32_t off = z->offset;

	if (z->name != NULL)
		temporal_zone_at_utc(z->name->data, z->name->len, utc, &off);
	return off;
}

/* The instant of local seconds in z (a gap moves on, as datetime() does). */
static int64_t ctx_utc_of_local(const struct zone_ctx *z, int64_t local)
{
	int32_t off = z->offset;

	if (z->name != NULL)
		temporal_zone_at_local(z->name->data, z->name->len, local, &off);
	return local - off;
}

/* A value as seconds (local, or UTC when zoned) and nanos. */
struct moment {
	int64_t secs;
	int32_t nanos;
};

static __int128 moment_diff(const struct moment *a, const struct moment *b)
{
	return ((__int128)b->secs - a->secs) * TEMPORAL_NANOS +
	       (b->nanos - a->nanos);
}

/* Whole months from local a to local b, towards zero. */
static int64_t months_between(const struct moment *a, const struct moment *b)
{
	int64_t ya, yb, m, da_, db_;
	unsigned ma, mb, da, db;
	__int128 ta, tb;

	da_ = temporal_floor_div(a->secs, TEMPORAL_DAY_SECS);
	db_ = temporal_floor_div(b->secs, TEMPORAL_DAY_SECS);
	temporal_civil_from_days(da_, &ya, &ma, &da);
	temporal_civil_from_days(db_, &yb, &mb, &db);
	m = (yb * 12 + mb) - (ya * 12 + ma);
	/* Compare the rest of each: day of month, then time of day. */
	ta = ((__int128)da * TEMPORAL_DAY_SECS +
	      temporal_floor_mod(a->secs, TEMPORAL_DAY_SECS)) * TEMPORAL_NANOS +
	     a->nanos;
	tb = ((__int128)db * TEMPORAL_DAY_SECS +
	      temporal_floor_mod(b->secs, TEMPORAL_DAY_SECS)) * TEMPORAL_NANOS +
	     b->nanos;
	if (m > 0 && tb < ta)
		m--;
	else if (m < 0 && tb > ta)
		m++;
	return m;
}

/* Local seconds moved by months, the time of day kept. */
static int64_t add_months(int64_t secs, int64_t months)
{
	int64_t days = temporal_floor_div(secs, TEMPORAL_DAY_SECS);

	if (!temporal_add_months(days, months, &days))
		return secs; /* months_between never leaves the years */
	return days * TEMPORAL_DAY_SECS +
	       temporal_floor_mod(secs, TEMPORAL_DAY_SECS);
}

/* Local seconds of a value: a date alone is its midnight, a time alone
 * falls on the other value's date. */
static int64_t local_secs(const struct temporal_parts *p,
			  const struct temporal_parts *other)
{
	int64_t days = p->has_date ? p->days : other->has_date ? other->days : 0;

	return days * TEMPORAL_DAY_SECS + (p->has_time ? p->tod : 0);
}

/* Differences as Java's until() takes them: months and days between the
 * local date-times (the second moved into the first's zone), the rest
 * between instants when there is a zone, else between local times. */
static int between(struct cypher_fctx *fc, const char *fname, enum between k,
		   const struct graft_value *args, struct graft_value *out)
{
	struct temporal_parts pa, pb;
	struct zone_ctx z = {0};
	struct moment la, lb, ua, ub;
	int64_t months = 0, days = 0, whole;
	bool dated;
	__int128 rest;
	int rv;

	*out = graft_value_null();
	if (func_any_null(args, 2))
		return GRAFT_OK;
	for (int i = 0; i < 2; i++)
		if (args[i].type < GRAFT_VALUE_DATE ||
		    args[i].type > GRAFT_VALUE_DATETIME)
			return func_type_error(fc, fname, "a temporal value",
					       &args[i]);
	temporal_parts(&args[0], &pa);
	temporal_parts(&args[1], &pb);
	if (pa.has_offset || pb.has_offset) {
		const struct temporal_parts *zp = pa.has_offset ? &pa : &pb;
		z = (struct zone_ctx){true, zp->zone, zp->offset};
	}
	la = (struct moment){local_secs(&pa, &pb), pa.nanos};
	lb = (struct moment){local_secs(&pb, &pa), pb.nanos};
	ua = la;
	ub = lb;
	if (z.set) {
		/* Instants, then both seen as local times in the zone. */
		ua.secs = pa.has_offset ? la.secs - pa.offset
					: ctx_utc_of_local(&z, la.secs);
		ub.secs = pb.has_offset ? lb.secs - pb.offset
					: ctx_utc_of_local(&z, lb.secs);
		la.secs = ua.secs + ctx_offset_at_utc(&z, ua.secs);
		lb.secs = ub.secs + ctx_offset_at_utc(&z, ub.secs);
	}
	dated = pa.has_date && pb.has_date;
	if (dated && (k == B_ALL || k == B_MONTHS)) {
		months = months_between(&la, &lb);
		la.secs = add_months(la.secs, months);
	}
	if (dated && (k == B_ALL || k == B_DAYS)) {
		days = (int64_t)(moment_diff(&la, &lb) /
				 (TEMPORAL_DAY_SECS * TEMPORAL_NANOS));
		la.secs += days * TEMPORAL_DAY_SECS;
	}
	if (!z.set)
		ua = la;
	else if (months != 0 || days != 0) /* else keep the exact instant */
		ua.secs = ctx_utc_of_local(&z, la.secs);
	rest = k == B_MONTHS || k == B_DAYS ? 0 : moment_diff(&ua, &ub);
	whole = (int64_t)(rest / TEMPORAL_NANOS);
	rv = temporal_duration_make(out, (double)months, (double)days, 0, whole,
				    (int64_t)(rest % TEMPORAL_NANOS));
	if (rv == GRAFT_EINVAL)
		return cypher_fail(fc, GRAFT_STATUS_ARITHMETIC_ERROR, "Invalid input for "
				   "function '%s()': the duration is out of "
				   "range", fname);
	return rv;
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
