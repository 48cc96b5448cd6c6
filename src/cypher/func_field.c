/* Points (point(), point.distance) and property access on temporal,
 * duration and point values (cypher_temporal_field): d.year, dur.days,
 * p.latitude, ... Each field is one row of a table saying which values
 * have it and how it is computed. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "func_int.h"
#include "temporal.h"

#define SRID_CARTESIAN 7203
#define SRID_CARTESIAN_3D 9157
#define SRID_WGS84 4326
#define SRID_WGS84_3D 4979
/* Neo4j's WGS-84 distance uses a sphere of this radius, in metres. */
#define EARTH_RADIUS 6378140.0

static bool geographic(uint32_t srid)
{
	return srid == SRID_WGS84 || srid == SRID_WGS84_3D;
}

/* The coordinate under one of two names, or NULL. */
static const struct graft_value *coord(const struct graft_map *m,
				       const char *a, const char *b)
{
	const struct graft_value *v = graft_map_get(m, a, strlen(a));

	return v != NULL || b == NULL ? v : graft_map_get(m, b, strlen(b));
}

int fn_point(struct cypher_fctx *fc, const struct graft_value *args,
	     uint32_t n, struct graft_value *out)
{
	const struct graft_value *c[3], *crs, *srid;
	const struct graft_map *m;
	bool geo;
	uint32_t dims, id;
	int rv;

	(void)n;
	*out = graft_value_null();
	if (args[0].type == GRAFT_VALUE_NULL)
		return GRAFT_OK;
	if (args[0].type != GRAFT_VALUE_MAP)
		return func_type_error(fc, "point", "a Map", &args[0]);
	m = args[0].u.map;
	geo = graft_map_get(m, "longitude", 9) || graft_map_get(m, "latitude", 8);
	c[0] = coord(m, geo ? "longitude" : "x", NULL);
	c[1] = coord(m, geo ? "latitude" : "y", NULL);
	c[2] = coord(m, geo ? "height" : "z", geo ? "z" : NULL);
	crs = graft_map_get(m, "crs", 3);
	srid = graft_map_get(m, "srid", 4);
	if (c[0] == NULL || c[1] == NULL)
		return func_arg_error(fc, "point", "a point needs x and y, or "
				      "longitude and latitude");
	dims = c[2] != NULL ? 3 : 2;
	for (uint32_t i = 0; i < dims; i++) {
		if (c[i]->type == GRAFT_VALUE_NULL)
			return GRAFT_OK;
		if (!func_is_number(c[i]))
			return func_type_error(fc, "point", "a number", c[i]);
	}
	if (crs != NULL && crs->type == GRAFT_VALUE_STRING)
		geo = strncasecmp(crs->u.s->data, "wgs-84", 6) == 0;
	if (srid != NULL && srid->type == GRAFT_VALUE_INT)
		geo = geographic((uint32_t)srid->u.i);
	id = geo ? (dims == 3 ? SRID_WGS84_3D : SRID_WGS84)
		 : (dims == 3 ? SRID_CARTESIAN_3D : SRID_CARTESIAN);
	if (geo && fabs(func_as_double(c[1])) > 90)
		return func_arg_error(fc, "point", "latitude must be between "
				      "-90 and 90");
	rv = graft_value_ext(out, GRAFT_VALUE_POINT);
	if (rv != GRAFT_OK)
		return rv;
	out->u.x->srid = id;
	out->u.x->dims = dims;
	out->u.x->x = func_as_double(c[0]);
	out->u.x->y = func_as_double(c[1]);
	out->u.x->z = dims == 3 ? func_as_double(c[2]) : 0;
	return GRAFT_OK;
}

int fn_point_distance(struct cypher_fctx *fc, const struct graft_value *args,
		      uint32_t n, struct graft_value *out)
{
	const struct graft_ext *a, *b;
	double d;

	(void)n;
	*out = graft_value_null();
	if (func_any_null(args, 2))
		return GRAFT_OK;
	for (int i = 0; i < 2; i++)
		if (args[i].type != GRAFT_VALUE_POINT)
			return func_type_error(fc, "point.distance", "a Point",
					       &args[i]);
	a = args[0].u.x;
	b = args[1].u.x;
	if (a->srid != b->srid)
		return GRAFT_OK;
	if (geographic(a->srid)) {
		double la1 = a->y * M_PI / 180, la2 = b->y * M_PI / 180;
		double dla = la2 - la1, dlo = (b->x - a->x) * M_PI / 180;
		double h = sin(dla / 2) * sin(dla / 2) +
			   cos(la1) * cos(la2) * sin(dlo / 2) * sin(dlo / 2);
		d = 2 * EARTH_RADIUS * atan2(sqrt(h), sqrt(1 - h));
		if (a->dims == 3)
			d = sqrt(d * d + (b->z - a->z) * (b->z - a->z));
	} else {
		d = sqrt((b->x - a->x) * (b->x - a->x) +
			 (b->y - a->y) * (b->y - a->y) +
			 (b->z - a->z) * (b->z - a->z));
	}
	*out = graft_value_float(d);
	return GRAFT_OK;
}

/* lo <= v <= hi, or for longitudes a box crossing the antimeridian. */
static bool within(double v, double lo, double hi, bool wraps)
{
	if (wraps && lo > hi)
		return v >= lo || v <= hi;
	return v >= lo && v <= hi;
}

int fn_point_within_bbox(struct cypher_fctx *fc,
			 const struct graft_value *args, uint32_t n,
			 struct graft_value *out)
{
	const struct graft_ext *p, *lo, *hi;
	bool geo, in;

	(void)n;
	*out = graft_value_null();
	if (func_any_null(args, 3))
		return GRAFT_OK;
	for (int i = 0; i < 3; i++)
		if (args[i].type != GRAFT_VALUE_POINT)
			return func_type_error(fc, "point.withinBBox",
					       "a Point", &args[i]);
	p = args[0].u.x;
	lo = args[1].u.x;
	hi = args[2].u.x;
	if (p->srid != lo->srid || p->srid != hi->srid)
		return GRAFT_OK;
	geo = geographic(p->srid);
	in = within(p->x, lo->x, hi->x, geo) && within(p->y, lo->y, hi->y,
							false) &&
	     (p->dims < 3 || within(p->z, lo->z, hi->z, false));
	*out = graft_value_bool(in);
	return GRAFT_OK;
}

/* Fields --------------------------------------------------------------------- */

static bool named(const char *name, size_t len, const char *want)
{
	return strlen(want) == len && memcmp(name, want, len) == 0;
}

static int point_field(const struct graft_ext *p, const char *name,
		       size_t len, struct graft_value *out)
{
	bool geo = geographic(p->srid);

	if (named(name, len, "x") || (geo && named(name, len, "longitude")))
		*out = graft_value_float(p->x);
	else if (named(name, len, "y") || (geo && named(name, len, "latitude")))
		*out = graft_value_float(p->y);
	else if (p->dims == 3 && (named(name, len, "z") ||
				  (geo && named(name, len, "height"))))
		*out = graft_value_float(p->z);
	else if (named(name, len, "srid"))
		*out = graft_value_int(p->srid);
	else if (named(name, len, "crs"))
		return func_string_printf(out, "%s%s",
					  geo ? "wgs-84" : "cartesian",
					  p->dims == 3 ? "-3d" : "");
	else
		return GRAFT_ENOTFOUND;
	return GRAFT_OK;
}

static int duration_field(const struct graft_ext *d, const char *name,
			  size_t len, struct graft_value *out)
{
	static const char *const names[] = {
		"years", "quarters", "months", "weeks", "days", "hours",
		"minutes", "seconds", "milliseconds", "microseconds",
		"nanoseconds", "quartersOfYear", "monthsOfQuarter",
		"monthsOfYear", "daysOfWeek", "minutesOfHour",
		"secondsOfMinute", "millisecondsOfSecond",
		"microsecondsOfSecond", "nanosecondsOfSecond"};
	int64_t v[] = {
		d->months / 12, d->months / 3, d->months, d->days / 7, d->days,
		d->secs / 3600, d->secs / 60, d->secs,
		d->secs * 1000 + d->nanos / 1000000,
		d->secs * 1000000 + d->nanos / 1000,
		d->secs * TEMPORAL_NANOS + d->nanos,
		d->months % 12 / 3, d->months % 3, d->months % 12, d->days % 7,
		d->secs / 60 % 60, d->secs % 60, d->nanos / 1000000,
		d->nanos / 1000, d->nanos};

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (named(name, len, names[i])) {
			*out = graft_value_int(v[i]);
			return GRAFT_OK;
		}
	return GRAFT_ENOTFOUND;
}

static int offset_string(int32_t offset, struct graft_value *out)
{
	char buf[16];
	size_t n = temporal_format_offset(offset, buf, sizeof buf);

	return graft_value_string(out, buf, n);
}

static int date_field(const struct temporal_parts *p, const char *name,
		      size_t len, struct graft_value *out)
{
	static const char *const names[] = {
		"year", "quarter", "month", "week", "weekYear", "dayOfQuarter",
		"quarterDay", "day", "ordinalDay", "dayOfWeek", "weekDay"};
	int64_t y, wy;
	unsigned m, d, w;
	int64_t q_start;

	temporal_civil_from_days(p->days, &y, &m, &d);
	temporal_iso_week(p->days, &wy, &w);
	q_start = temporal_days_from_civil(y, (m - 1) / 3 * 3 + 1, 1);
	{
		int64_t v[] = {y, (m - 1) / 3 + 1, m, w, wy,
			       p->days - q_start + 1, p->days - q_start + 1, d,
			       p->days - temporal_days_from_civil(y, 1, 1) + 1,
			       temporal_weekday(p->days),
			       temporal_weekday(p->days)};
		for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
			if (named(name, len, names[i])) {
				*out = graft_value_int(v[i]);
				return GRAFT_OK;
			}
	}
	return GRAFT_ENOTFOUND;
}

static int time_field(const struct temporal_parts *p, const char *name,
		      size_t len, struct graft_value *out)
{
	static const char *const names[] = {"hour", "minute", "second",
					    "millisecond", "microsecond",
					    "nanosecond"};
	int64_t v[] = {p->tod / 3600, p->tod / 60 % 60, p->tod % 60,
		       p->nanos / 1000000, p->nanos / 1000, p->nanos};

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (named(name, len, names[i])) {
			*out = graft_value_int(v[i]);
			return GRAFT_OK;
		}
	return GRAFT_ENOTFOUND;
}

static int zone_field(const struct graft_value *v,
		      const struct temporal_parts *p, const char *name,
		      size_t len, struct graft_value *out)
{
	int64_t epoch;

	if (named(name, len, "timezone")) {
		if (p->zone != NULL)
			return graft_value_string(out, p->zone->data,
						  p->zone->len);
		return offset_string(p->offset, out);
	}
	if (named(name, len, "offset"))
		return offset_string(p->offset, out);
	if (named(name, len, "offsetMinutes"))
		*out = graft_value_int(p->offset / 60);
	else if (named(name, len, "offsetSeconds"))
		*out = graft_value_int(p->offset);
	else if (v->type != GRAFT_VALUE_DATETIME)
		return GRAFT_ENOTFOUND;
	else if (named(name, len, "epochSeconds"))
		*out = graft_value_int(v->u.x->secs);
	else if (named(name, len, "epochMillis") &&
		 !__builtin_mul_overflow(v->u.x->secs, 1000, &epoch))
		*out = graft_value_int(epoch + v->u.x->nanos / 1000000);
	else
		return GRAFT_ENOTFOUND;
	return GRAFT_OK;
}

int cypher_temporal_field(struct cypher_fctx *fc, const struct graft_value *v,
			  const char *name, size_t len, struct graft_value *out)
{
	struct temporal_parts p;
	int rv = GRAFT_ENOTFOUND;

	(void)fc;
	*out = graft_value_null();
	if (v->type == GRAFT_VALUE_POINT)
		return point_field(v->u.x, name, len, out);
	if (v->type == GRAFT_VALUE_DURATION)
		return duration_field(v->u.x, name, len, out);
	if (v->type < GRAFT_VALUE_DATE || v->type > GRAFT_VALUE_DATETIME)
		return GRAFT_ENOTFOUND;
	temporal_parts(v, &p);
	if (p.has_date)
		rv = date_field(&p, name, len, out);
	if (rv == GRAFT_ENOTFOUND && p.has_time)
		rv = time_field(&p, name, len, out);
	if (rv == GRAFT_ENOTFOUND && p.has_offset)
		rv = zone_field(v, &p, name, len, out);
	return rv;
}
