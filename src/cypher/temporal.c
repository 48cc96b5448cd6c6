/* Calendar, ISO 8601 text, durations and zones for temporal values.
 *
 * Dates are days since 1970-01-01 in the proleptic Gregorian calendar
 * (Howard Hinnant's civil_from_days / days_from_civil). Text is parsed with a
 * small cursor over the bytes; every malformed input is refused with a
 * sentence rather than guessed at. Zones are temporal_zone.c's. */
#include "temporal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/err.h"

/* Calendar ---------------------------------------------------------------- */

int64_t temporal_floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

int64_t temporal_floor_mod(int64_t a, int64_t b)
{
	return a - temporal_floor_div(a, b) * b;
}

bool temporal_leap(int64_t year)
{
	return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

unsigned temporal_month_days(int64_t year, unsigned month)
{
	static const unsigned days[] = {31, 28, 31, 30, 31, 30,
					31, 31, 30, 31, 30, 31};

	if (month == 2 && temporal_leap(year))
		return 29;
	return days[(month - 1) % 12];
}

int64_t temporal_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = temporal_floor_div(y, 400);
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void temporal_civil_from_days(int64_t z, int64_t *year, unsigned *month,
			      unsigned *day)
{
	int64_t era, doe, yoe, doy, mp, y;

	z += 719468;
	era = temporal_floor_div(z, 146097);
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*day = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*month = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*year = y + (*month <= 2);
}

unsigned temporal_weekday(int64_t days)
{
	/* 1970-01-01 was a Thursday (4). */
	return (unsigned)(temporal_floor_mod(days + 3, 7) + 1);
}

int64_t temporal_week1_monday(int64_t week_year)
{
	int64_t jan4 = temporal_days_from_civil(week_year, 1, 4);

	return jan4 - (temporal_weekday(jan4) - 1);
}

void temporal_iso_week(int64_t days, int64_t *week_year, unsigned *week)
{
	int64_t y;
	unsigned m, d;

	temporal_civil_from_days(days, &y, &m, &d);
	if (days >= temporal_week1_monday(y + 1))
		y++;
	else if (days < temporal_week1_monday(y))
		y--;
	*week_year = y;
	*week = (unsigned)((days - temporal_week1_monday(y)) / 7 + 1);
}

void temporal_parts(const struct graft_value *v, struct temporal_parts *p)
{
	const struct graft_ext *x = v->u.x;
	int64_t local;

	memset(p, 0, sizeof *p);
	p->nanos = x->nanos;
	switch (v->type) {
	case GRAFT_VALUE_DATE:
		p->has_date = true;
		p->days = x->days;
		p->nanos = 0;
		return;
	case GRAFT_VALUE_TIME:
		p->has_offset = true;
		p->offset = x->offset;
		/* fall through */
	case GRAFT_VALUE_LOCALTIME:
		p->has_time = true;
		p->tod = x->secs;
		return;
	case GRAFT_VALUE_DATETIME:
		p->has_offset = true;
		p->offset = x->offset;
		p->zone = x->zone;
		/* fall through */
	default:
		local = x->secs + p->offset;
		p->has_date = p->has_time = true;
		p->days = temporal_floor_div(local, TEMPORAL_DAY_SECS);
		p->tod = temporal_floor_mod(local, TEMPORAL_DAY_SECS);
		return;
	}
}

static unsigned digits_at(const char *s, size_t len, size_t at, unsigned max,
			  int64_t *v)
{
	unsigned k = 0;

	*v = 0;
	while (at + k < len && k < max && s[at + k] >= '0' && s[at + k] <= '9') {
		*v = *v * 10 + (s[at + k] - '0');
		k++;
	}
	return k;
}

bool temporal_parse_offset(const char *s, size_t len, int32_t *offset)
{
	int64_t h, m = 0, sec = 0;
	size_t at = 1;
	int sign;

	if (len == 1 && (s[0] == 'Z' || s[0] == 'z')) {
		*offset = 0;
		return true;
	}
	if (len < 3 || (s[0] != '+' && s[0] != '-'))
		return false;
	sign = s[0] == '-' ? -1 : 1;
	if (digits_at(s, len, at, 2, &h) != 2)
		return false;
	at += 2;
	if (at < len) {
		at += s[at] == ':';
		if (digits_at(s, len, at, 2, &m) != 2)
			return false;
		at += 2;
	}
	if (at < len) {
		at += s[at] == ':';
		if (digits_at(s, len, at, 2, &sec) != 2)
			return false;
		at += 2;
	}
	if (at != len || h > 18 || m > 59 || sec > 59 ||
	    h * 3600 + m * 60 + sec > 18 * 3600)
		return false;
	*offset = (int32_t)(sign * (h * 3600 + m * 60 + sec));
	return true;
}

int temporal_make_datetime(struct graft_value *out, int64_t local_secs,
			   int32_t nanos, const char *zone, size_t zone_len,
			   int32_t offset)
{
	bool named = zone != NULL && !temporal_parse_offset(zone, zone_len,
							     &offset);
	int64_t utc = local_secs - offset;
	int32_t before;
	int rv;

	if (named) {
		/* In a gap the local time moves on by the gap's length. */
		rv = temporal_zone_at_local(zone, zone_len, local_secs, &before);
		if (rv != GRAFT_OK)
			return rv;
		utc = local_secs - before;
		rv = temporal_zone_at_utc(zone, zone_len, utc, &offset);
		if (rv != GRAFT_OK)
			return rv;
	}
	rv = graft_value_ext(out, GRAFT_VALUE_DATETIME);
	if (rv != GRAFT_OK)
		return rv;
	out->u.x->secs = utc;
	out->u.x->nanos = nanos;
	out->u.x->offset = offset;
	if (named && !(zone_len == 1 && (zone[0] == 'Z' || zone[0] == 'z'))) {
		out->u.x->zone = graft_str_new(zone, zone_len);
		if (out->u.x->zone == NULL) {
			graft_value_free(out);
			return GRAFT_ENOMEM;
		}
	}
	return GRAFT_OK;
}

/* Parsing ----------------------------------------------------------------- */

static int duration_new(struct graft_value *out, int64_t months, int64_t days,
			int64_t secs, int64_t nanos);

struct cur {
	const char *s;
	size_t len, at;
	char *why;
	size_t why_size;
};

static bool cur_fail(struct cur *c, const char *what)
{
	snprintf(c->why, c->why_size, "Text cannot be parsed to a %s", what);
	return false;
}

static bool cur_is(struct cur *c, char ch)
{
	if (c->at < c->len && c->s[c->at] == ch) {
		c->at++;
		return true;
	}
	return false;
}

static unsigned cur_digits(struct cur *c, unsigned max, int64_t *v)
{
	unsigned k = digits_at(c->s, c->len, c->at, max, v);

	c->at += k;
	return k;
}

/* Counts the digits ahead without consuming them. */
static unsigned cur_peek_digits(const struct cur *c)
{
	unsigned k = 0;

	while (c->at + k < c->len && c->s[c->at + k] >= '0' &&
	       c->s[c->at + k] <= '9')
		k++;
	return k;
}

static bool date_from(struct cur *c, int64_t y, int64_t m, int64_t d,
		      int64_t *days)
{
	if (m < 1 || m > 12 || d < 1 || d > temporal_month_days(y, (unsigned)m))
		return cur_fail(c, "date");
	*days = temporal_days_from_civil(y, (unsigned)m, (unsigned)d);
	return true;
}

/* YYYY[-MM[-DD]] | YYYYMMDD | YYYY-Www[-D] | YYYY-DDD | YYYYDDD; a year
 * beyond 4 digits needs a sign. */
static bool parse_date(struct cur *c, int64_t *days)
{
	int64_t y, m = 1, d = 1, w, dow = 1;
	int sign = 1;
	bool signed_year = false, ext;
	unsigned k;

	if (c->at < c->len && (c->s[c->at] == '+' || c->s[c->at] == '-')) {
		sign = c->s[c->at++] == '-' ? -1 : 1;
		signed_year = true;
	}
	k = cur_digits(c, signed_year ? 9 : 4, &y);
	if (k < 4)
		return cur_fail(c, "date");
	y *= sign;
	ext = cur_is(c, '-');
	if (cur_is(c, 'W')) {
		int64_t monday;
		if (cur_digits(c, 2, &w) != 2)
			return cur_fail(c, "date");
		if ((ext ? cur_is(c, '-') : true) && cur_peek_digits(c) >= 1 &&
		    cur_digits(c, 1, &dow) != 1)
			return cur_fail(c, "date");
		monday = temporal_week1_monday(y);
		if (w < 1 || dow < 1 || dow > 7 ||
		    (w == 53 && temporal_week1_monday(y + 1) - monday < 371))
			return cur_fail(c, "date");
		*days = monday + (w - 1) * 7 + dow - 1;
		return true;
	}
	k = cur_peek_digits(c);
	if (k == 3 || k == 7) {
		cur_digits(c, 3, &d);
		if (d < 1 || d > (temporal_leap(y) ? 366 : 365))
			return cur_fail(c, "date");
		*days = temporal_days_from_civil(y, 1, 1) + d - 1;
		return true;
	}
	if (k == 0 && !ext)
		return date_from(c, y, 1, 1, days);
	if (cur_digits(c, 2, &m) != 2)
		return cur_fail(c, "date");
	if (ext ? cur_is(c, '-') : cur_peek_digits(c) >= 2) {
		if (cur_digits(c, 2, &d) != 2)
			return cur_fail(c, "date");
	}
	return date_from(c, y, m, d, days);
}

/* HH[:MM[:SS[.fffffffff]]] or HH[MM[SS[.f]]]. */
static bool parse_time(struct cur *c, int64_t *tod, int32_t *nanos)
{
	int64_t h, m = 0, s = 0, f = 0;
	bool colon;
	unsigned k;

	*nanos = 0;
	if (cur_digits(c, 2, &h) != 2)
		return cur_fail(c, "time");
	colon = cur_is(c, ':');
	if (cur_peek_digits(c) >= 2 || colon) {
		if (cur_digits(c, 2, &m) != 2)
			return cur_fail(c, "time");
		if (colon ? cur_is(c, ':') : cur_peek_digits(c) >= 2) {
			if (cur_digits(c, 2, &s) != 2)
				return cur_fail(c, "time");
			if (cur_is(c, '.') || cur_is(c, ',')) {
				k = cur_digits(c, 9, &f);
				if (k == 0)
					return cur_fail(c, "time");
				while (k++ < 9)
					f *= 10;
				if (cur_peek_digits(c) > 0)
					return cur_fail(c, "time");
			}
		}
	}
	if (h > 23 || m > 59 || s > 59)
		return cur_fail(c, "time");
	*tod = h * 3600 + m * 60 + s;
	*nanos = (int32_t)f;
	return true;
}

/* An offset ending at the string's end or at '['. */
static bool parse_offset_at(struct cur *c, int32_t *offset, bool *has)
{
	size_t end = c->at;

	*has = false;
	while (end < c->len && c->s[end] != '[')
		end++;
	if (end == c->at)
		return true;
	if (!temporal_parse_offset(c->s + c->at, end - c->at, offset))
		return cur_fail(c, "time zone offset");
	c->at = end;
	*has = true;
	return true;
}

static bool parse_zone_name(struct cur *c, const char **zone, size_t *len)
{
	size_t end;

	*zone = NULL;
	if (!cur_is(c, '['))
		return true;
	end = c->at;
	while (end < c->len && c->s[end] != ']')
		end++;
	if (end == c->len || end == c->at)
		return cur_fail(c, "time zone");
	*zone = c->s + c->at;
	*len = end - c->at;
	c->at = end + 1;
	return true;
}

static int parse_datetime(struct cur *c, uint8_t type, struct graft_value *out)
{
	int64_t days = 0, tod = 0;
	int32_t nanos = 0, offset = 0;
	const char *zone = NULL;
	size_t zone_len = 0;
	bool has_offset = false, has_date = type == GRAFT_VALUE_DATE ||
					      type == GRAFT_VALUE_LOCALDATETIME ||
					      type == GRAFT_VALUE_DATETIME;
	bool has_time = type != GRAFT_VALUE_DATE;
	int rv;

	if (has_date && !parse_date(c, &days))
		return GRAFT_EINVAL;
	if (has_date && has_time && !cur_is(c, 'T') && !cur_is(c, 't'))
		has_time = false; /* a date alone is its midnight */
	if (has_time && !parse_time(c, &tod, &nanos))
		return GRAFT_EINVAL;
	if ((type == GRAFT_VALUE_TIME || type == GRAFT_VALUE_DATETIME) &&
	    (!parse_offset_at(c, &offset, &has_offset) ||
	     (type == GRAFT_VALUE_DATETIME &&
	      !parse_zone_name(c, &zone, &zone_len))))
		return GRAFT_EINVAL;
	if (c->at != c->len) {
		cur_fail(c, type == GRAFT_VALUE_DATE ? "date" :
			    type == GRAFT_VALUE_DURATION ? "duration" :
			    "date-time");
		return GRAFT_EINVAL;
	}
	if (type == GRAFT_VALUE_DATETIME) {
		int64_t local = days * TEMPORAL_DAY_SECS + tod;
		int32_t valid;
		/* An offset the zone really has then (the second 02:30 of a
		 * night the clocks go back) picks that instant. */
		if (zone != NULL && has_offset &&
		    temporal_zone_at_utc(zone, zone_len, local - offset,
					 &valid) == GRAFT_OK &&
		    valid == offset)
			rv = temporal_from_utc(out, local - offset, nanos, zone,
					       zone_len);
		else
			rv = temporal_make_datetime(out, local, nanos, zone,
						    zone_len, offset);
		if (rv == GRAFT_ENOTFOUND) {
			snprintf(c->why, c->why_size,
				 "Invalid value for TimeZone: Text '%.*s'",
				 (int)zone_len, zone);
			return GRAFT_EINVAL;
		}
		return rv;
	}
	rv = graft_value_ext(out, type);
	if (rv != GRAFT_OK)
		return rv;
	out->u.x->nanos = nanos;
	out->u.x->offset = offset;
	if (type == GRAFT_VALUE_DATE) {
		out->u.x->days = days;
		out->u.x->nanos = 0;
	} else if (type == GRAFT_VALUE_LOCALDATETIME) {
		out->u.x->secs = days * TEMPORAL_DAY_SECS + tod;
	} else {
		out->u.x->secs = tod;
	}
	return GRAFT_OK;
}

/* One signed decimal number of a duration: integer part and fraction. */
static bool duration_number(struct cur *c, double *v, int64_t *whole,
			    int64_t *frac_nanos)
{
	int sign = cur_is(c, '-') ? -1 : (cur_is(c, '+'), 1);
	int64_t f = 0;
	unsigned k = cur_digits(c, 18, whole), fk;

	if (k == 0)
		return false;
	*frac_nanos = 0;
	*v = (double)*whole;
	if (cur_is(c, '.') || cur_is(c, ',')) {
		fk = cur_digits(c, 9, &f);
		if (fk == 0)
			return false;
		while (cur_peek_digits(c) > 0)
			c->at++; /* beyond nanoseconds */
		for (unsigned i = fk; i < 9; i++)
			f *= 10;
		*v += (double)f / 1e9;
		*frac_nanos = f;
	}
	*v *= sign;
	*whole *= sign;
	*frac_nanos *= sign;
	return true;
}

/* The alternative form P<date>T<time>: "P2012-02-02T14:37:21.545" is 2012
 * years, 2 months, 2 days, 14 hours ... */
static int parse_duration_alt(struct cur *c, int sign, struct graft_value *out)
{
	int64_t y, mo, d, tod;
	int32_t nanos;

	if (cur_digits(c, 9, &y) < 4 || !cur_is(c, '-') ||
	    cur_digits(c, 2, &mo) != 2 || !cur_is(c, '-') ||
	    cur_digits(c, 2, &d) != 2 || !cur_is(c, 'T') ||
	    !parse_time(c, &tod, &nanos) || c->at != c->len || mo > 12 ||
	    d > 31)
		return cur_fail(c, "duration"), GRAFT_EINVAL;
	return duration_new(out, sign * (y * 12 + mo), sign * d, sign * tod,
			    sign * (int64_t)nanos);
}

static int parse_duration(struct cur *c, struct graft_value *out)
{
	static const char date_units[] = "YMWD", time_units[] = "HMS";
	double months = 0, days = 0, secs = 0, v;
	int64_t whole, frac, isecs = 0, nanos = 0;
	int sign = cur_is(c, '-') ? -1 : 1;
	bool in_time = false, any = false;
	const char *units = date_units;

	if (!cur_is(c, 'P'))
		return cur_fail(c, "duration"), GRAFT_EINVAL;
	if (cur_peek_digits(c) >= 4 && c->at + cur_peek_digits(c) < c->len &&
	    c->s[c->at + cur_peek_digits(c)] == '-')
		return parse_duration_alt(c, sign, out);
	while (c->at < c->len) {
		const char *u;
		if (!in_time && cur_is(c, 'T')) {
			in_time = true;
			units = time_units;
			continue;
		}
		if (!duration_number(c, &v, &whole, &frac) || c->at == c->len ||
		    (u = strchr(units, c->s[c->at])) == NULL || *u == '\0')
			return cur_fail(c, "duration"), GRAFT_EINVAL;
		units = u + 1; /* units in order, each once */
		c->at++;
		any = true;
		switch (in_time ? 4 + (u - time_units) : u - date_units) {
		case 0: months += v * 12; break;
		case 1: months += v; break;
		case 2: days += v * 7; break;
		case 3: days += v; break;
		case 4: secs += v * 3600; break;
		case 5: secs += v * 60; break;
		default:
			isecs += whole;
			nanos += frac;
			break;
		}
	}
	if (!any || units == time_units) /* "P" or a "T" with nothing after */
		return cur_fail(c, "duration"), GRAFT_EINVAL;
	return temporal_duration_make(out, sign * months, sign * days,
				      sign * secs, sign * isecs, sign * nanos);
}

int temporal_parse(uint8_t type, const char *s, size_t len,
		   struct graft_value *out, char *why, size_t why_size)
{
	struct cur c = {.s = s, .len = len, .why = why, .why_size = why_size};

	*out = graft_value_null();
	if (type == GRAFT_VALUE_DURATION)
		return parse_duration(&c, out);
	return parse_datetime(&c, type, out);
}

/* Formatting -------------------------------------------------------------- */

struct fmt {
	char *buf;
	size_t size, len;
};

static void put(struct fmt *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void put(struct fmt *f, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(f->len < f->size ? f->buf + f->len : NULL,
		      f->len < f->size ? f->size - f->len : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		f->len += (size_t)n;
}

static void put_date(struct fmt *f, int64_t days)
{
	int64_t y;
	unsigned m, d;

	temporal_civil_from_days(days, &y, &m, &d);
	if (y > 9999)
		put(f, "+%lld", (long long)y);
	else if (y < 0)
		put(f, "-%04lld", -(long long)y);
	else
		put(f, "%04lld", (long long)y);
	put(f, "-%02u-%02u", m, d);
}

/* Nanoseconds as ".5", ".000000001": no trailing zeros, nothing for 0. */
static void put_fraction(struct fmt *f, int64_t nanos)
{
	char digits[16];
	int n;

	if (nanos == 0)
		return;
	n = snprintf(digits, sizeof digits, "%09lld", (long long)nanos);
	while (n > 1 && digits[n - 1] == '0')
		n--;
	put(f, ".%.*s", n, digits);
}

static void put_time(struct fmt *f, int64_t tod, int32_t nanos)
{
	put(f, "%02lld:%02lld:%02lld", (long long)(tod / 3600),
	    (long long)(tod / 60 % 60), (long long)(tod % 60));
	put_fraction(f, nanos);
}

static void put_offset(struct fmt *f, int32_t offset)
{
	int32_t a = offset < 0 ? -offset : offset;

	if (offset == 0) {
		put(f, "Z");
		return;
	}
	put(f, "%c%02d:%02d", offset < 0 ? '-' : '+', a / 3600, a / 60 % 60);
	if (a % 60)
		put(f, ":%02d", a % 60);
}

static void put_unit(struct fmt *f, int64_t v, char unit)
{
	if (v != 0)
		put(f, "%lld%c", (long long)v, unit);
}

static void put_duration(struct fmt *f, const struct graft_ext *x)
{
	int64_t s = x->secs, n = x->nanos;

	put(f, "P");
	put_unit(f, x->months / 12, 'Y');
	put_unit(f, x->months % 12, 'M');
	put_unit(f, x->days, 'D');
	if (s != 0 || n != 0) {
		if (s < 0 && n != 0) {
			s++;
			n -= TEMPORAL_NANOS;
		}
		put(f, "T");
		put_unit(f, s / 3600, 'H');
		put_unit(f, s / 60 % 60, 'M');
		s %= 60;
		if (s != 0 || n != 0) {
			put(f, "%s%lld", s == 0 && n < 0 ? "-" : "",
			    (long long)s);
			put_fraction(f, n < 0 ? -n : n);
			put(f, "S");
		}
	}
	if (f->len == 1)
		put(f, "T0S");
}

size_t temporal_format_offset(int32_t offset, char *buf, size_t size)
{
	struct fmt f = {.buf = buf, .size = size};

	if (size > 0)
		buf[0] = '\0';
	put_offset(&f, offset);
	return f.len;
}

size_t temporal_format(const struct graft_value *v, char *buf, size_t size)
{
	struct fmt f = {.buf = buf, .size = size};
	struct temporal_parts p;

	if (size > 0)
		buf[0] = '\0';
	if (v->type == GRAFT_VALUE_DURATION) {
		put_duration(&f, v->u.x);
		return f.len;
	}
	temporal_parts(v, &p);
	if (p.has_date)
		put_date(&f, p.days);
	if (p.has_date && p.has_time)
		put(&f, "T");
	if (p.has_time)
		put_time(&f, p.tod, p.nanos);
	if (p.has_offset)
		put_offset(&f, p.offset);
	if (p.zone != NULL)
		put(&f, "[%.*s]", (int)p.zone->len, p.zone->data);
	return f.len;
}

/* Durations and arithmetic ------------------------------------------------ */

static int duration_new(struct graft_value *out, int64_t months, int64_t days,
			int64_t secs, int64_t nanos)
{
	int rv = graft_value_ext(out, GRAFT_VALUE_DURATION);

	if (rv != GRAFT_OK)
		return rv;
	secs += temporal_floor_div(nanos, TEMPORAL_NANOS);
	out->u.x->months = months;
	out->u.x->days = days;
	out->u.x->secs = secs;
	out->u.x->nanos = (int32_t)temporal_floor_mod(nanos, TEMPORAL_NANOS);
	return GRAFT_OK;
}

static bool fits(double d)
{
	return d == d && fabs(d) < 9.2e18;
}

int temporal_duration_make(struct graft_value *out, double months, double days,
			   double secs, int64_t whole_secs, int64_t extra_nanos)
{
	double wm = trunc(months), wd, ws, ns, near;
	int64_t s;

	*out = graft_value_null();
	days += (months - wm) * ((double)TEMPORAL_MONTH_SECS /
				 (double)TEMPORAL_DAY_SECS);
	wd = trunc(days);
	secs += (days - wd) * (double)TEMPORAL_DAY_SECS;
	ws = trunc(secs);
	/* Fractions of a nanosecond are cut off, as Neo4j does, unless the
	 * double is merely a hair off a whole nanosecond. */
	ns = (secs - ws) * 1e9;
	near = round(ns);
	ns = fabs(ns - near) < 1e-3 ? near : trunc(ns);
	if (!fits(wm) || !fits(wd) || !fits(ws) ||
	    __builtin_add_overflow((int64_t)ws, whole_secs, &s))
		return GRAFT_EINVAL;
	return duration_new(out, (int64_t)wm, (int64_t)wd, s,
			    (int64_t)ns + extra_nanos);
}

int temporal_duration_add(const struct graft_ext *a, const struct graft_ext *b,
			  int sign, struct graft_value *out)
{
	int64_t m, d, s;

	*out = graft_value_null();
	if (__builtin_mul_overflow(b->months, sign, &m) ||
	    __builtin_add_overflow(a->months, m, &m) ||
	    __builtin_mul_overflow(b->days, sign, &d) ||
	    __builtin_add_overflow(a->days, d, &d) ||
	    __builtin_mul_overflow(b->secs, sign, &s) ||
	    __builtin_add_overflow(a->secs, s, &s))
		return GRAFT_EINVAL;
	return duration_new(out, m, d, s,
			    (int64_t)a->nanos + sign * (int64_t)b->nanos);
}

int temporal_duration_scale(const struct graft_ext *a, double f, bool divide,
			    struct graft_value *out)
{
	__int128 total = (__int128)a->secs * TEMPORAL_NANOS + a->nanos;
	long double t;

	/* Seconds and nanoseconds exactly for whole factors, in long double
	 * otherwise; fractions of a nanosecond are cut off. */
	if (f == trunc(f) && fabs(f) < 9e15) {
		if (divide)
			total /= (int64_t)f;
		else if (__builtin_mul_overflow(total, (__int128)(int64_t)f,
						&total))
			return GRAFT_EINVAL;
	} else {
		t = divide ? (long double)total / f : (long double)total * f;
		if (!(fabsl(t) < 9e36L))
			return GRAFT_EINVAL;
		total = (__int128)t;
	}
	if (total / TEMPORAL_NANOS > INT64_MAX ||
	    total / TEMPORAL_NANOS < INT64_MIN)
		return GRAFT_EINVAL;
	return temporal_duration_make(out, divide ? a->months / f
						  : a->months * f,
				      divide ? a->days / f : a->days * f, 0,
				      (int64_t)(total / TEMPORAL_NANOS),
				      (int64_t)(total % TEMPORAL_NANOS));
}

bool temporal_add_months(int64_t days, int64_t months, int64_t *out)
{
	int64_t y, total;
	unsigned m, d, md;

	temporal_civil_from_days(days, &y, &m, &d);
	if (__builtin_add_overflow(y * 12 + (m - 1), months, &total))
		return false;
	y = temporal_floor_div(total, 12);
	m = (unsigned)temporal_floor_mod(total, 12) + 1;
	if (y > TEMPORAL_YEAR_MAX || y < -TEMPORAL_YEAR_MAX)
		return false;
	md = temporal_month_days(y, m);
	*out = temporal_days_from_civil(y, m, d < md ? d : md);
	return true;
}

static bool day_in_range(int64_t days)
{
	return days >= GRAFT_DATE_DAYS_MIN && days <= GRAFT_DATE_DAYS_MAX;
}

/* A DATETIME: months and days move the local date (the offset re-resolved
 * in its zone), seconds then move the instant. */
static int datetime_add(const struct temporal_parts *p, int64_t days,
			int64_t dsecs, int64_t dnanos, struct graft_value *out)
{
	const char *zone = p->zone ? p->zone->data : NULL;
	size_t zone_len = p->zone ? p->zone->len : 0;
	int64_t local = days * TEMPORAL_DAY_SECS + p->tod;
	int64_t utc = local - p->offset, nanos;
	int rv;

	/* A new date re-resolves its offset in the zone; the same date keeps
	 * the instant (which matters in a DST overlap). */
	if (days != p->days) {
		rv = temporal_make_datetime(out, local, 0, zone, zone_len,
					    p->offset);
		if (rv != GRAFT_OK)
			return rv;
		utc = out->u.x->secs;
		graft_value_free(out);
	}
	nanos = p->nanos + dnanos;
	utc += dsecs + temporal_floor_div(nanos, TEMPORAL_NANOS);
	nanos = temporal_floor_mod(nanos, TEMPORAL_NANOS);
	if (zone == NULL)
		return temporal_make_datetime(out, utc + p->offset,
					      (int32_t)nanos, NULL, 0,
					      p->offset);
	return temporal_from_utc(out, utc, (int32_t)nanos, zone, zone_len);
}

int temporal_add_duration(const struct graft_value *t,
			  const struct graft_ext *d, int sign,
			  struct graft_value *out)
{
	struct temporal_parts p;
	int64_t days, secs, nanos, months = d->months * sign;
	int64_t dsecs = d->secs * sign, dnanos = (int64_t)d->nanos * sign;
	int rv;

	*out = graft_value_null();
	temporal_parts(t, &p);
	if (d->days > INT64_C(1) << 40 || d->days < -(INT64_C(1) << 40) ||
	    d->secs > INT64_C(1) << 50 || d->secs < -(INT64_C(1) << 50) ||
	    d->months > INT64_C(1) << 40 || d->months < -(INT64_C(1) << 40))
		return GRAFT_EINVAL;
	days = p.days;
	if (p.has_date && !temporal_add_months(p.days, months, &days))
		return GRAFT_EINVAL;
	days += d->days * sign;
	if (!p.has_time) /* a date moves by whole days of the seconds */
		days += (dsecs + temporal_floor_div(dnanos, TEMPORAL_NANOS)) /
			TEMPORAL_DAY_SECS;
	if (!day_in_range(days))
		return GRAFT_EINVAL;
	if (t->type == GRAFT_VALUE_DATETIME)
		return datetime_add(&p, days, dsecs, dnanos, out);
	nanos = p.nanos + dnanos;
	secs = p.tod + dsecs + temporal_floor_div(nanos, TEMPORAL_NANOS);
	nanos = temporal_floor_mod(nanos, TEMPORAL_NANOS);
	rv = graft_value_ext(out, t->type);
	if (rv != GRAFT_OK)
		return rv;
	out->u.x->offset = p.offset;
	if (t->type == GRAFT_VALUE_DATE) {
		out->u.x->days = days;
		return GRAFT_OK;
	}
	out->u.x->nanos = (int32_t)nanos;
	if (t->type == GRAFT_VALUE_LOCALDATETIME)
		out->u.x->secs = days * TEMPORAL_DAY_SECS + secs;
	else
		out->u.x->secs = temporal_floor_mod(secs, TEMPORAL_DAY_SECS);
	return GRAFT_OK;
}

int temporal_from_utc(struct graft_value *out, int64_t utc_secs,
		      int32_t nanos, const char *zone, size_t zone_len)
{
	int32_t offset = 0;
	bool named = zone != NULL &&
		     !temporal_parse_offset(zone, zone_len, &offset) &&
		     !(zone_len == 1 && (zone[0] == 'Z' || zone[0] == 'z'));
	int rv = named ? temporal_zone_at_utc(zone, zone_len, utc_secs, &offset)
		       : GRAFT_OK;

	/* Built from the instant itself: going through local time would pick
	 * the earlier of two instants in an overlap. */
	if (rv == GRAFT_OK)
		rv = graft_value_ext(out, GRAFT_VALUE_DATETIME);
	if (rv != GRAFT_OK)
		return rv;
	out->u.x->secs = utc_secs;
	out->u.x->nanos = nanos;
	out->u.x->offset = offset;
	if (named) {
		out->u.x->zone = graft_str_new(zone, zone_len);
		if (out->u.x->zone == NULL) {
			graft_value_free(out);
			return GRAFT_ENOMEM;
		}
	}
	return GRAFT_OK;
}

static int cmp_i(int64_t a, int64_t b)
{
	return a < b ? -1 : a > b;
}

int temporal_cmp(const struct graft_value *a, const struct graft_value *b)
{
	const struct graft_ext *x = a->u.x, *y = b->u.x;
	int c = 0;

	switch (a->type) {
	case GRAFT_VALUE_DATE:
		return cmp_i(x->days, y->days);
	case GRAFT_VALUE_TIME:
		c = cmp_i(x->secs - x->offset, y->secs - y->offset);
		if (c == 0)
			c = cmp_i(x->nanos, y->nanos);
		return c != 0 ? c : cmp_i(y->offset, x->offset);
	case GRAFT_VALUE_DURATION:
		c = cmp_i(x->months, y->months);
		if (c == 0)
			c = cmp_i(x->days, y->days);
		break;
	default:
		break;
	}
	if (c == 0)
		c = cmp_i(x->secs, y->secs);
	return c != 0 ? c : cmp_i(x->nanos, y->nanos);
}
