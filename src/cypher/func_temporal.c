/* Temporal, duration and spatial functions, and their field accessors.
 *
 * Each temporal constructor takes nothing (now, from the statement clock,
 * in UTC), a string (ISO 8601), another temporal value (converted), or a map
 * of fields, resolved by one builder: a base (a 'date', 'time' or
 * 'datetime' value in the map, or the value being truncated), then the
 * calendar fields (year with month/day, week/dayOfWeek, quarter/dayOfQuarter
 * or ordinalDay), the clock fields and the timezone. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "func_int.h"
#include "temporal.h"

static const char *type_func(uint8_t type)
{
	switch (type) {
	case GRAFT_VALUE_DATE: return "date";
	case GRAFT_VALUE_LOCALTIME: return "localtime";
	case GRAFT_VALUE_TIME: return "time";
	case GRAFT_VALUE_LOCALDATETIME: return "localdatetime";
	default: return "datetime";
	}
}

static bool has_date(uint8_t t)
{
	return t == GRAFT_VALUE_DATE || t == GRAFT_VALUE_LOCALDATETIME ||
	       t == GRAFT_VALUE_DATETIME;
}

static bool has_time(uint8_t t)
{
	return t >= GRAFT_VALUE_LOCALTIME && t <= GRAFT_VALUE_DATETIME;
}

static bool is_instant(uint8_t t)
{
	return t >= GRAFT_VALUE_DATE && t <= GRAFT_VALUE_DATETIME;
}

/* What a builder knows so far. */
struct tb {
	bool date, time, offset_set;
	int64_t days, tod;
	int32_t nanos, offset;
	const char *zone; /* borrowed */
	size_t zone_len;
};

static void tb_from(struct tb *b, const struct graft_value *v)
{
	struct temporal_parts p;

	temporal_parts(v, &p);
	b->date = p.has_date;
	b->time = p.has_time;
	b->days = p.days;
	b->tod = p.tod;
	b->nanos = p.nanos;
	b->offset_set = p.has_offset;
	b->offset = p.offset;
	b->zone = p.zone ? p.zone->data : NULL;
	b->zone_len = p.zone ? p.zone->len : 0;
}

/* The instant ms (since the epoch) in zone (NULL: UTC). */
static int tb_at(struct cypher_fctx *fc, struct tb *b, int64_t ms,
		 const char *zone, size_t zone_len)
{
	int64_t secs = temporal_floor_div(ms, 1000);
	int32_t offset = 0;

	if (zone != NULL &&
	    temporal_zone_at_utc(zone, zone_len, secs, &offset) != GRAFT_OK)
		return cypher_fail(fc, GRAFT_STATUS_ARGUMENT_ERROR,
				   "Invalid value for TimeZone: Text '%.*s'",
				   (int)zone_len, zone);
	memset(b, 0, sizeof *b);
	b->date = b->time = b->offset_set = true;
	b->days = temporal_floor_div(secs + offset, TEMPORAL_DAY_SECS);
	b->tod = temporal_floor_mod(secs + offset, TEMPORAL_DAY_SECS);
	b->nanos = (int32_t)(temporal_floor_mod(ms, 1000) * 1000000);
	b->offset = offset;
	b->zone = zone;
	b->zone_len = zone_len;
	return GRAFT_OK;
}

/* The statement's clock in zone. */
static int tb_now(struct cypher_fctx *fc, struct tb *b, const char *zone,
		  size_t zone_len)
{
	return tb_at(fc, b, fc->statement_ms, zone, zone_len);
}

/* Makes a value of type from what b knows; b must hold what type needs. */
static int tb_make(struct cypher_fctx *fc, const struct tb *b, uint8_t type,
		   struct graft_value *out)
{
	int rv;

	if ((has_date(type) && !b->date) || (type != GRAFT_VALUE_DATE &&
					     !b->time && !b->date))
		return cypher_fail(fc, GRAFT_STATUS_ARGUMENT_ERROR,
				   "Cannot construct %s from the given "
				   "fields", type_func(type));
	if (type == GRAFT_VALUE_DATETIME) {
		rv = temporal_make_datetime(out, b->days * TEMPORAL_DAY_SECS +
							 b->tod,
					    b->nanos, b->zone, b->zone_len,
					    b->offset);
		if (rv == GRAFT_ENOTFOUND)
			return cypher_fail(fc, GRAFT_STATUS_ARGUMENT_ERROR,
					   "Invalid value for TimeZone: Text "
					   "'%.*s'", (int)b->zone_len, b->zone);
		return rv;
	}
	rv = graft_value_ext(out, type);
	if (rv != GRAFT_OK)
		return rv;
	switch (type) {
	case GRAFT_VALUE_DATE:
		out->u.x->days = b->days;
		return GRAFT_OK;
	case GRAFT_VALUE_LOCALDATETIME:
		out->u.x->secs = b->days * TEMPORAL_DAY_SECS + b->tod;
		break;
	default:
		out->u.x->secs = b->tod;
		break;
	}
	out->u.x->nanos = b->nanos;
	if (type == GRAFT_VALUE_TIME)
		out->u.x->offset = b->offset;
	return GRAFT_OK;
}

/* Map fields --------------------------------------------------------------- */

enum tf { F_YEAR, F_MONTH, F_DAY, F_WEEK, F_DAYOFWEEK, F_QUARTER,
	  F_DAYOFQUARTER, F_ORDINALDAY, F_HOUR, F_MINUTE, F_SECOND,
	  F_MILLISECOND, F_MICROSECOND, F_NANOSECOND, F_COUNT };

static const char *const field_names[F_COUNT] = {
	"year", "month", "day", "week", "dayOfWeek", "quarter",
	"dayOfQuarter", "ordinalDay", "hour", "minute", "second",
	"millisecond", "microsecond", "nanosecond"};

struct fields {
	bool has[F_COUNT];
	int64_t v[F_COUNT];
	const struct graft_value *date, *time, *datetime, *timezone;
};

static int read_fields(struct cypher_fctx *fc, const char *fname,
		       const struct graft_map *m, struct fields *f)
{
	memset(f, 0, sizeof *f);
	for (uint32_t i = 0; i < m->len; i++) {
		const char *k = m->entries[i].key->data;
		const struct graft_value *v = &m->entries[i].value;
		unsigned j;
		int rv;
		if (strcmp(k, "date") == 0) {
			f->date = v;
			continue;
		}
		if (strcmp(k, "time") == 0) {
			f->time = v;
			continue;
		}
		if (strcmp(k, "datetime") == 0) {
			f->datetime = v;
			continue;
		}
		if (strcmp(k, "timezone") == 0) {
			f->timezone = v;
			continue;
		}
		for (j = 0; j < F_COUNT && strcasecmp(k, field_names[j]); j++)
			;
		if (j == F_COUNT)
			return cypher_fail(fc, GRAFT_STATUS_ARGUMENT_ERROR,
					   "Invalid input for function '%s()': "
					   "no such field: %s", fname, k);
		if (v->type == GRAFT_VALUE_NULL)
			continue;
		rv = func_arg_int(fc, fname, v, &f->v[j]);
		if (rv != GRAFT_OK)
			return rv;
		f->has[j] = true;
	}
	return GRAFT_OK;
}

static int field_range(struct cypher_fctx *fc, const struct fields *f,
		       enum tf k, int64_t lo, int64_t hi)
{
	if (f->has[k] && (f->v[k] < lo || f->v[k] > hi))
		return cypher_fail(fc, GRAFT_STATUS_ARGUMENT_ERROR,
				   "Invalid value for %s (valid values %lld - "
				   "%lld): %lld", field_names[k], (long long)lo,
				   (long long)hi, (long long)f->v[k]);
	return GRAFT_OK;
}

static int apply_date(struct cypher_fctx *fc, const struct fields *f,
		      struct tb *b)
{
	int64_t y, wy, base_doq;
	unsigned m, d, w;
	int rv = GRAFT_OK;

	if (!(f->has[F_YEAR] || f->has[F_MONTH] || f->has[F_DAY] ||
	      f->has[F_WEEK] || f->has[F_DAYOFWEEK] || f->has[F_QUARTER] ||
	      f->has[F_DAYOFQUARTER] || f->has[F_ORDINALDAY]))
		return GRAFT_OK;
	if (!f->has[F_YEAR] && !b->date)
		return cypher_fail(fc, GRAFT_STATUS_ARGUMENT_ERROR,
				   "Cannot construct a date without a year");
	temporal_civil_from_days(b->date ? b->days : 0, &y, &m, &d);
	temporal_iso_week(b->date ? b->days : 0, &wy, &w);
	base_doq = b->date ? b->days - temporal_days_from_civil(
					       y, (m - 1) / 3 * 3 + 1, 1) + 1
			   : 1;
	if (f->has[F_YEAR])
		y = wy = f->v[F_YEAR];
	rv = field_range(fc, f, F_YEAR, -TEMPORAL_YEAR_MAX, TEMPORAL_YEAR_MAX);
	if (rv == GRAFT_OK)
		rv = field_range(fc, f, F_MONTH, 1, 12);
	if (rv == GRAFT_OK)
		rv = field_range(fc, f, F_WEEK, 1, 53);
	if (rv == GRAFT_OK)
		rv = field_range(fc, f, F_DAYOFWEEK, 1, 7);
	if (rv == GRAFT_OK)
		rv = field_range(fc, f, F_QUARTER, 1, 4);
	if (rv == GRAFT_OK)
		rv = field_range(fc, f, F_DAYOFQUARTER, 1, 92);
	if (rv == GRAFT_OK)
		rv = field_range(fc, f, F_ORDINALDAY, 1,
				 temporal_leap(y) ? 366 : 365);
	if (rv != GRAFT_OK)
		return rv;
	if (f->has[F_WEEK] || f->has[F_DAYOFWEEK]) {
		int64_t monday = temporal_week1_monday(wy);
		int64_t week = f->has[F_WEEK] ? f->v[F_WEEK] : w;
		int64_t dow = f->has[F_DAYOFWEEK] ? f->v[F_DAYOFWEEK]
			      : b->date	       ? temporal_weekday(b->days)
					       : 1;
		if (week == 53 && temporal_week1_monday(wy + 1) - monday < 371)
			return cypher_fail(fc, GRAFT_STATUS_ARGUMENT_ERROR,
					   "Invalid value for week: %lld has "
					   "no week 53", (long long)wy);
		b->days = monday + (week - 1) * 7 + dow - 1;
	} else if (f->has[F_ORDINALDAY]) {
		b->days = temporal_days_from_civil(y, 1, 1) +
			  f->v[F_ORDINALDAY] - 1;
	} else if (f->has[F_QUARTER] || f->has[F_DAYOFQUARTER]) {
		int64_t q = f->has[F_QUARTER] ? f->v[F_QUARTER] : (m - 1) / 3 + 1;
		int64_t start = temporal_days_from_civil(y, (unsigned)(q - 1) * 3 + 1, 1);
		int64_t len = temporal_days_from_civil(
				      q == 4 ? y + 1 : y,
				      q == 4 ? 1 : (unsigned)q * 3 + 1, 1) -
			      start;
		int64_t doq = f->has[F_DAYOFQUARTER] ? f->v[F_DAYOFQUARTER]
						      : base_doq;
		if (doq > len)
			return cypher_fail(fc, GRAFT_STATUS_ARGUMENT_ERROR,
					   "Invalid value for dayOfQuarter: "
					   "%lld", (long long)doq);
		b->days = start + doq - 1;
	} else {
		if (f->has[F_MONTH])
			m = (unsigned)f->v[F_MONTH];
		else if (!b->date)
			m = 1;
		if (f->has[F_DAY])
			d = (unsigned)f->v[F_DAY];
		else if (!b->date)
			d = 1;
		if (d < 1 || d > temporal_month_days(y, m))
			return cypher_fail(fc, GRAFT_STATUS_ARGUMENT_ERROR,
					   "Invalid date: day %u of month %u "
					   "of %lld", d, m, (long long)y);
		b->days = temporal_days_from_civil(y, m, d);
	}
	b->date = true;
	return GRAFT_OK;
}

static int apply_time(struct cypher_fctx *fc, const struct fields *f,
		      bool add_fraction, struct tb *b)
{
	int64_t h = b->tod / 3600, mi = b->tod / 60 % 60, s = b->tod % 60;
	int rv = field_range(fc, f, F_HOUR, 0, 23);

	if (rv == GRAFT_OK)
		rv = field_range(fc, f, F_MINUTE, 0, 59);
	if (rv == GRAFT_OK)
		rv = field_range(fc, f, F_SECOND, 0, 59);
	if (rv == GRAFT_OK)
		rv = field_range(fc, f, F_MILLISECOND, 0, 999);
	if (rv == GRAFT_OK)
		rv = field_range(fc, f, F_MICROSECOND, 0, 999999);
	if (rv == GRAFT_OK)
		rv = field_range(fc, f, F_NANOSECOND, 0, 999999999);
	if (rv != GRAFT_OK)
		return rv;
	if (!b->time) {
		h = mi = s = 0;
		b->nanos = 0;
	}
	if (f->has[F_HOUR])
		h = f->v[F_HOUR];
	if (f->has[F_MINUTE])
		mi = f->v[F_MINUTE];
	if (f->has[F_SECOND])
		s = f->v[F_SECOND];
	if (f->has[F_MILLISECOND] || f->has[F_MICROSECOND] ||
	    f->has[F_NANOSECOND]) {
		int64_t ns = f->v[F_MILLISECOND] * 1000000 +
			     f->v[F_MICROSECOND] * 1000 + f->v[F_NANOSECOND] +
			     (add_fraction ? b->nanos : 0);
		if (ns >= TEMPORAL_NANOS)
			return cypher_fail(fc, GRAFT_STATUS_ARGUMENT_ERROR,
					   "Invalid value for the fraction of "
					   "a second: %lld nanoseconds",
					   (long long)ns);
		b->nanos = (int32_t)ns;
	}
	b->tod = h * 3600 + mi * 60 + s;
	b->time = true;
	return GRAFT_OK;
}

static int zone_arg(struct cypher_fctx *fc, const char *fname,
		    const struct graft_value *v, const char **zone,
		    size_t *len)
{
	int32_t off;

	if (v->type != GRAFT_VALUE_STRING)
		return func_type_error(fc, fname, "a String", v);
	if (temporal_zone_at_utc(v->u.s->data, v->u.s->len, 0, &off) !=
	    GRAFT_OK)
		return cypher_fail(fc, GRAFT_STATUS_ARGUMENT_ERROR,
				   "Invalid value for TimeZone: Text '%s'",
				   v->u.s->data);
	*zone = v->u.s->data;
	*len = v->u.s->len;
	return GRAFT_OK;
}

/* A temporal value of the map, else a TypeError. */
static int base_arg(struct cypher_fctx *fc, const char *fname,
		    const struct graft_value *v)
{
	if (!is_instant(v->type))
		return func_type_error(fc, fname, "a temporal value", v);
	return GRAFT_OK;
}

static void tb_set_zone(struct cypher_fctx *fc, struct tb *b,
			const char *zone, size_t len)
{
	b->zone = zone;
	b->zone_len = len;
	b->offset_set = true;
	if (!temporal_parse_offset(zone, len, &b->offset))
		temporal_zone_at_utc(zone, len, fc->statement_ms / 1000,
				     &b->offset);
}

/* The instant b stands for (its local time in its zone) seen in zone. */
static void tb_move_to_zone(struct cypher_fctx *fc, struct tb *b,
			    const char *zone, size_t len)
{
	int64_t local = (b->date ? b->days * TEMPORAL_DAY_SECS : 0) + b->tod;
	int64_t utc;
	int32_t off = b->offset;

	if (b->date && b->zone != NULL &&
	    !temporal_parse_offset(b->zone, b->zone_len, &off))
		temporal_zone_at_local(b->zone, b->zone_len, local, &off);
	utc = local - off;
	temporal_zone_at_utc(zone, len, b->date ? utc : fc->statement_ms / 1000,
			     &off);
	if (b->date)
		b->days = temporal_floor_div(utc + off, TEMPORAL_DAY_SECS);
	b->tod = temporal_floor_mod(utc + off, TEMPORAL_DAY_SECS);
	b->zone = zone;
	b->zone_len = len;
	b->offset = off;
}

/* Resolves map m over base b into a value of type. truncating (for the
 * *.truncate functions) adds the map's sub-second fields to the base's
 * fraction rather than replacing it, and a timezone replaces the zone
 * without moving the instant. */
static int build(struct cypher_fctx *fc, uint8_t type,
		 const struct graft_map *m, struct tb *b, bool truncating,
		 struct graft_value *out)
{
	const char *fname = type_func(type);
	const char *zone = NULL;
	size_t zone_len = 0;
	struct fields f;
	bool convert;
	struct tb t;
	int rv = read_fields(fc, fname, m, &f);

	if (rv != GRAFT_OK)
		return rv;
	if (f.datetime != NULL) {
		if ((rv = base_arg(fc, fname, f.datetime)) != GRAFT_OK)
			return rv;
		tb_from(b, f.datetime);
	}
	if (f.date != NULL) {
		if ((rv = base_arg(fc, fname, f.date)) != GRAFT_OK)
			return rv;
		tb_from(&t, f.date);
		if (!t.date)
			return func_type_error(fc, fname, "a value with a date",
					       f.date);
		b->date = true;
		b->days = t.days;
	}
	if (f.time != NULL) {
		if ((rv = base_arg(fc, fname, f.time)) != GRAFT_OK)
			return rv;
		tb_from(&t, f.time);
		if (!t.time)
			return func_type_error(fc, fname, "a value with a time",
					       f.time);
		b->time = true;
		b->tod = t.tod;
		b->nanos = t.nanos;
		if (t.offset_set) {
			b->offset_set = true;
			b->offset = t.offset;
			b->zone = t.zone;
			b->zone_len = t.zone_len;
		}
	}
	if (f.timezone != NULL && f.timezone->type != GRAFT_VALUE_NULL &&
	    (rv = zone_arg(fc, fname, f.timezone, &zone, &zone_len)) !=
		    GRAFT_OK)
		return rv;
	/* A new zone for a base that has one moves the instant there, after
	 * the fields applied in the base's zone; otherwise (and when
	 * truncating) it just becomes the zone. */
	convert = zone != NULL && b->offset_set && b->time && !truncating;
	if (zone != NULL && !convert)
		tb_set_zone(fc, b, zone, zone_len);
	if (type != GRAFT_VALUE_LOCALTIME && type != GRAFT_VALUE_TIME &&
	    (rv = apply_date(fc, &f, b)) != GRAFT_OK)
		return rv;
	if (type != GRAFT_VALUE_DATE &&
	    (rv = apply_time(fc, &f, truncating, b)) != GRAFT_OK)
		return rv;
	if (convert)
		tb_move_to_zone(fc, b, zone, zone_len);
	if (type == GRAFT_VALUE_TIME && b->zone != NULL &&
	    !temporal_parse_offset(b->zone, b->zone_len, &b->offset))
		temporal_zone_at_utc(b->zone, b->zone_len,
				     fc->statement_ms / 1000, &b->offset);
	if (type == GRAFT_VALUE_DATETIME && b->zone == NULL && !b->offset_set)
		b->offset = 0;
	return tb_make(fc, b, type, out);
}

/* Constructors -------------------------------------------------------------- */

static int epoch_map(struct cypher_fctx *fc, const struct graft_map *m,
		     struct graft_value *out);

static int construct(struct cypher_fctx *fc, uint8_t type,
		     const struct graft_value *args, uint32_t n,
		     struct graft_value *out)
{
	char why[160];
	struct tb b;
	int rv;

	*out = graft_value_null();
	if (n == 0) {
		rv = tb_now(fc, &b, NULL, 0);
		return rv == GRAFT_OK ? tb_make(fc, &b, type, out) : rv;
	}
	switch (args[0].type) {
	case GRAFT_VALUE_NULL:
		return GRAFT_OK;
	case GRAFT_VALUE_STRING:
		rv = temporal_parse(type, args[0].u.s->data, args[0].u.s->len,
				    out, why, sizeof why);
		if (rv == GRAFT_EINVAL)
			return cypher_fail(fc, GRAFT_STATUS_ARGUMENT_ERROR, "%s: \"%s\"",
					   why, args[0].u.s->data);
		return rv;
	case GRAFT_VALUE_MAP:
		memset(&b, 0, sizeof b);
		if (graft_map_get(args[0].u.map, "timezone", 8) != NULL &&
		    args[0].u.map->len == 1) {
			/* {timezone: z} alone: now in that zone. */
			const char *zone;
			size_t len;
			rv = zone_arg(fc, type_func(type),
				      &args[0].u.map->entries[0].value, &zone,
				      &len);
			if (rv == GRAFT_OK)
				rv = tb_now(fc, &b, zone, len);
			return rv == GRAFT_OK ? tb_make(fc, &b, type, out) : rv;
		}
		if (type == GRAFT_VALUE_DATETIME &&
		    (graft_map_get(args[0].u.map, "epochSeconds", 12) ||
		     graft_map_get(args[0].u.map, "epochMillis", 11)))
			return epoch_map(fc, args[0].u.map, out);
		return build(fc, type, args[0].u.map, &b, false, out);
	default:
		if (!is_instant(args[0].type))
			return func_type_error(fc, type_func(type),
					       "a String, Map or temporal value",
					       &args[0]);
		if (args[0].type == type) /* as it is, to the instant */
			return graft_value_copy(out, &args[0]);
		tb_from(&b, &args[0]);
		if (!b.time && has_time(type) && !has_date(type))
			return func_type_error(fc, type_func(type),
					       "a value with a time", &args[0]);
		b.time = true; /* a date alone is its midnight */
		if (!b.offset_set)
			b.offset = 0;
		return tb_make(fc, &b, type, out);
	}
}

#define CONSTRUCTOR(fn, type)                                                \
	int fn(struct cypher_fctx *fc, const struct graft_value *args,      \
	       uint32_t n, struct graft_value *out)                          \
	{                                                                    \
		return construct(fc, type, args, n, out);                    \
	}

CONSTRUCTOR(fn_date, GRAFT_VALUE_DATE)
CONSTRUCTOR(fn_localtime, GRAFT_VALUE_LOCALTIME)
CONSTRUCTOR(fn_time, GRAFT_VALUE_TIME)
CONSTRUCTOR(fn_localdatetime, GRAFT_VALUE_LOCALDATETIME)
CONSTRUCTOR(fn_datetime, GRAFT_VALUE_DATETIME)

/* The current value of type in the zone argument, by the statement's
 * clock (statement and transaction) or the wall clock (realtime). */
static int now(struct cypher_fctx *fc, uint8_t type, bool realtime,
	       const struct graft_value *args, uint32_t n,
	       struct graft_value *out)
{
	const char *zone = NULL;
	struct timespec ts;
	size_t len = 0;
	struct tb b;
	int64_t ms = fc->statement_ms;
	int rv = GRAFT_OK;

	*out = graft_value_null();
	if (n > 0 && args[0].type == GRAFT_VALUE_NULL)
		return GRAFT_OK;
	if (n > 0)
		rv = zone_arg(fc, type_func(type), &args[0], &zone, &len);
	if (realtime && clock_gettime(CLOCK_REALTIME, &ts) == 0)
		ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	if (rv == GRAFT_OK)
		rv = tb_at(fc, &b, ms, zone, len);
	return rv == GRAFT_OK ? tb_make(fc, &b, type, out) : rv;
}

#define NOW(fn, type, realtime)                                              \
	int fn(struct cypher_fctx *fc, const struct graft_value *args,      \
	       uint32_t n, struct graft_value *out)                          \
	{                                                                    \
		return now(fc, type, realtime, args, n, out);                \
	}

NOW(fn_date_now, GRAFT_VALUE_DATE, false)
NOW(fn_localtime_now, GRAFT_VALUE_LOCALTIME, false)
NOW(fn_time_now, GRAFT_VALUE_TIME, false)
NOW(fn_localdatetime_now, GRAFT_VALUE_LOCALDATETIME, false)
NOW(fn_datetime_now, GRAFT_VALUE_DATETIME, false)
NOW(fn_date_realtime, GRAFT_VALUE_DATE, true)
NOW(fn_localtime_realtime, GRAFT_VALUE_LOCALTIME, true)
NOW(fn_time_realtime, GRAFT_VALUE_TIME, true)
NOW(fn_localdatetime_realtime, GRAFT_VALUE_LOCALDATETIME, true)
NOW(fn_datetime_realtime, GRAFT_VALUE_DATETIME, true)

/* truncate ------------------------------------------------------------------ */

static const char *const units[] = {
	"millennium", "century", "decade", "year", "weekYear", "quarter",
	"month", "week", "day", "hour", "minute", "second", "millisecond",
	"microsecond"};

static void truncate_to(struct tb *b, unsigned unit)
{
	int64_t y, wy;
	unsigned m, d, w;

	temporal_civil_from_days(b->days, &y, &m, &d);
	temporal_iso_week(b->days, &wy, &w);
	if (unit <= 8)
		b->tod = b->nanos = 0;
	switch (unit) {
	case 0: case 1: case 2: case 3: {
		int64_t span = unit == 0 ? 1000 : unit == 1 ? 100
					       : unit == 2 ? 10 : 1;
		b->days = temporal_days_from_civil(
			temporal_floor_div(y, span) * span, 1, 1);
		break;
	}
	case 4:
		b->days = temporal_week1_monday(wy);
		break;
	case 5:
		b->days = temporal_days_from_civil(y, (m - 1) / 3 * 3 + 1, 1);
		break;
	case 6:
		b->days = temporal_days_from_civil(y, m, 1);
		break;
	case 7:
		b->days -= temporal_weekday(b->days) - 1;
		break;
	case 9:
		b->tod -= b->tod % 3600;
		b->nanos = 0;
		break;
	case 10:
		b->tod -= b->tod % 60;
		b->nanos = 0;
		break;
	case 11:
		b->nanos = 0;
		break;
	case 12:
		b->nanos -= b->nanos % 1000000;
		break;
	case 13:
		b->nanos -= b->nanos % 1000;
		break;
	default:
		break;
	}
}

static int truncate_value(struct cypher_fctx *fc, uint8_t type,
		    const struct graft_value *args, uint32_t n,
		    struct graft_value *out)
{
	const char *fname = type == GRAFT_VALUE_DATE ? "date.truncate" :
			    type == GRAFT_VALUE_LOCALTIME ? "localtime.truncate" :
			    type == GRAFT_VALUE_TIME ? "time.truncate" :
			    type == GRAFT_VALUE_LOCALDATETIME ?
			    "localdatetime.truncate" : "datetime.truncate";
	struct graft_value empty;
	struct tb b;
	unsigned u;
	int rv;

	*out = graft_value_null();
	if (args[0].type == GRAFT_VALUE_NULL || args[1].type == GRAFT_VALUE_NULL)
		return GRAFT_OK;
	if (args[0].type != GRAFT_VALUE_STRING)
		return func_type_error(fc, fname, "a String", &args[0]);
	for (u = 0; u < sizeof units / sizeof units[0] &&
		    strcasecmp(units[u], args[0].u.s->data) != 0; u++)
		;
	if (u == sizeof units / sizeof units[0])
		return cypher_fail(fc, GRAFT_STATUS_ARGUMENT_ERROR,
				   "Invalid input for function '%s()': unknown "
				   "unit '%s'", fname, args[0].u.s->data);
	if ((rv = base_arg(fc, fname, &args[1])) != GRAFT_OK)
		return rv;
	tb_from(&b, &args[1]);
	if ((u < 8 && !b.date) || (u > 8 && type == GRAFT_VALUE_DATE))
		return cypher_fail(fc, GRAFT_STATUS_ARGUMENT_ERROR,
				   "Invalid input for function '%s()': cannot "
				   "truncate to unit '%s'", fname, units[u]);
	truncate_to(&b, u);
	b.time = true;
	if (!b.offset_set)
		b.offset = 0;
	if (n > 2 && args[2].type == GRAFT_VALUE_MAP)
		return build(fc, type, args[2].u.map, &b, true, out);
	rv = graft_value_map(&empty, 0);
	if (rv != GRAFT_OK)
		return rv;
	rv = build(fc, type, empty.u.map, &b, true, out);
	graft_value_free(&empty);
	return rv;
}

#define TRUNCATE(fn, type)                                                   \
	int fn(struct cypher_fctx *fc, const struct graft_value *args,      \
	       uint32_t n, struct graft_value *out)                          \
	{                                                                    \
		return truncate_value(fc, type, args, n, out);                     \
	}

TRUNCATE(fn_date_truncate, GRAFT_VALUE_DATE)
TRUNCATE(fn_localtime_truncate, GRAFT_VALUE_LOCALTIME)
TRUNCATE(fn_time_truncate, GRAFT_VALUE_TIME)
TRUNCATE(fn_localdatetime_truncate, GRAFT_VALUE_LOCALDATETIME)
TRUNCATE(fn_datetime_truncate, GRAFT_VALUE_DATETIME)

/* Epoch --------------------------------------------------------------------- */

static int from_epoch(struct cypher_fctx *fc, int64_t secs, int64_t nanos,
		      struct graft_value *out)
{
	secs += temporal_floor_div(nanos, TEMPORAL_NANOS);
	nanos = temporal_floor_mod(nanos, TEMPORAL_NANOS);
	if (secs >= (GRAFT_DATE_DAYS_MAX + 1) * GRAFT_DAY_SECS ||
	    secs < GRAFT_DATE_DAYS_MIN * GRAFT_DAY_SECS)
		return cypher_fail(fc, GRAFT_STATUS_ARGUMENT_ERROR,
				   "Instant exceeds the supported range");
	return temporal_from_utc(out, secs, (int32_t)nanos, NULL, 0);
}

int fn_datetime_fromepoch(struct cypher_fctx *fc,
			  const struct graft_value *args, uint32_t n,
			  struct graft_value *out)
{
	int64_t s, ns;
	int rv;

	(void)n;
	*out = graft_value_null();
	if (func_any_null(args, 2))
		return GRAFT_OK;
	rv = func_arg_int(fc, "datetime.fromepoch", &args[0], &s);
	if (rv == GRAFT_OK)
		rv = func_arg_int(fc, "datetime.fromepoch", &args[1], &ns);
	return rv == GRAFT_OK ? from_epoch(fc, s, ns, out) : rv;
}

int fn_datetime_fromepochmillis(struct cypher_fctx *fc,
				const struct graft_value *args, uint32_t n,
				struct graft_value *out)
{
	int64_t ms;
	int rv;

	(void)n;
	*out = graft_value_null();
	if (args[0].type == GRAFT_VALUE_NULL)
		return GRAFT_OK;
	rv = func_arg_int(fc, "datetime.fromepochmillis", &args[0], &ms);
	if (rv != GRAFT_OK)
		return rv;
	return from_epoch(fc, temporal_floor_div(ms, 1000),
			  temporal_floor_mod(ms, 1000) * 1000000, out);
}

/* datetime({epochSeconds | epochMillis, [millisecond, microsecond,
 * nanosecond], [timezone]}). */
static int epoch_map(struct cypher_fctx *fc, const struct graft_map *m,
		     struct graft_value *out)
{
	static const char *const keys[] = {"epochSeconds", "epochMillis",
					   "millisecond", "microsecond",
					   "nanosecond"};
	static const int64_t nanos_per[] = {TEMPORAL_NANOS, 1000000, 1000000,
					    1000, 1};
	const struct graft_value *tz = graft_map_get(m, "timezone", 8);
	const char *zone = NULL;
	size_t zone_len = 0;
	__int128 nanos = 0;
	int64_t v;
	int32_t ns;
	int rv;

	for (uint32_t i = 0; i < m->len; i++) {
		const char *k = m->entries[i].key->data;
		size_t j;
		for (j = 0; j < 5 && strcmp(keys[j], k) != 0; j++)
			;
		if (j == 5 && strcmp(k, "timezone") != 0)
			return cypher_fail(fc, GRAFT_STATUS_ARGUMENT_ERROR,
					   "Invalid input for function "
					   "'datetime()': %s cannot be combined "
					   "with epochSeconds or epochMillis", k);
		if (j == 5 || m->entries[i].value.type == GRAFT_VALUE_NULL)
			continue;
		rv = func_arg_int(fc, "datetime", &m->entries[i].value, &v);
		if (rv != GRAFT_OK)
			return rv;
		nanos += (__int128)v * nanos_per[j];
	}
	if (tz != NULL && tz->type != GRAFT_VALUE_NULL &&
	    (rv = zone_arg(fc, "datetime", tz, &zone, &zone_len)) != GRAFT_OK)
		return rv;
	if (nanos / TEMPORAL_NANOS > INT64_C(31556889864403199) ||
	    nanos / TEMPORAL_NANOS < -INT64_C(31557014167219200))
		return cypher_fail(fc, GRAFT_STATUS_ARGUMENT_ERROR,
				   "Instant exceeds the supported range");
	rv = from_epoch(fc, (int64_t)(nanos / TEMPORAL_NANOS),
			(int64_t)(nanos % TEMPORAL_NANOS), out);
	if (rv != GRAFT_OK || zone == NULL)
		return rv;
	v = out->u.x->secs;
	ns = out->u.x->nanos;
	graft_value_free(out);
	return temporal_from_utc(out, v, ns, zone, zone_len);
}
