/* Calendar maths, ISO 8601 text and time zones for Cypher's temporal
 * values (value.h's DATE .. DURATION): the proleptic Gregorian calendar over
 * days since 1970-01-01, parsing and printing as Neo4j does, arithmetic with
 * durations, and zone offsets from the system's TZif files
 * (/usr/share/zoneinfo, temporal_zone.c), read by this unit rather than
 * through TZ, which is process-global. */
#ifndef GRAFT_CYPHER_TEMPORAL_H
#define GRAFT_CYPHER_TEMPORAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../util/value.h"

#define TEMPORAL_NANOS INT64_C(1000000000)
#define TEMPORAL_DAY_SECS INT64_C(86400)
/* Average Gregorian month, as Neo4j uses for fractional months. */
#define TEMPORAL_MONTH_SECS INT64_C(2629746)
/* Years Neo4j accepts: -999999999 .. 999999999. */
#define TEMPORAL_YEAR_MAX INT64_C(999999999)

bool temporal_leap(int64_t year);
unsigned temporal_month_days(int64_t year, unsigned month);
int64_t temporal_days_from_civil(int64_t year, unsigned month, unsigned day);
void temporal_civil_from_days(int64_t days, int64_t *year, unsigned *month,
			      unsigned *day);
/* 1 = Monday .. 7 = Sunday. */
unsigned temporal_weekday(int64_t days);
/* ISO week-based year and week (1..53) of a day. */
void temporal_iso_week(int64_t days, int64_t *week_year, unsigned *week);
/* Day of the Monday of ISO week 1 of week_year. */
int64_t temporal_week1_monday(int64_t week_year);
/* days + months, the day clamped to the new month's length; false when
 * out of the supported years. */
bool temporal_add_months(int64_t days, int64_t months, int64_t *out);
/* Floor division and modulo (the result of mod has b's sign). */
int64_t temporal_floor_div(int64_t a, int64_t b);
int64_t temporal_floor_mod(int64_t a, int64_t b);

/* The broken-down fields of a temporal value (days since epoch of its local
 * date, local time of day), the way accessors and formatting see it. */
struct temporal_parts {
	bool has_date, has_time, has_offset;
	int64_t days;           /* local date */
	int64_t tod;            /* local seconds since midnight */
	int32_t nanos;
	int32_t offset;         /* seconds east of UTC */
	const struct graft_str *zone; /* borrowed, may be NULL */
};
void temporal_parts(const struct graft_value *v, struct temporal_parts *p);

/* Parses ISO 8601 text into a value of type (DATE .. DURATION). On
 * failure returns GRAFT_EINVAL with why (a sentence) filled; GRAFT_ENOMEM. */
int temporal_parse(uint8_t type, const char *s, size_t len,
		   struct graft_value *out, char *why, size_t why_size);
/* ISO text as toString() gives it ("2020-01-01T12:00:00.5+01:00[Europe/
 * Paris]", "P1Y2M3DT4H", "PT0S"); snprintf's contract. */
size_t temporal_format(const struct graft_value *v, char *buf, size_t size);

/* An offset as ISO text: "Z", "+01:00", "-05:30", "+01:00:30". */
size_t temporal_format_offset(int32_t offset, char *buf, size_t size);

/* Offset of a zone ("Europe/Paris", "UTC", "Z", "+01:00") at a UTC instant
 * / for a local date-time (the earlier offset in an overlap, the offset
 * before the gap in a gap, so that subtracting it lands after the gap, as
 * java.time does). GRAFT_ENOTFOUND for an unknown zone; GRAFT_OK. */
int temporal_zone_at_utc(const char *zone, size_t len, int64_t utc_secs,
			 int32_t *offset);
int temporal_zone_at_local(const char *zone, size_t len, int64_t local_secs,
			   int32_t *offset);
/* Parses "Z", "+01", "+0100", "+01:00", "-01:00:30" as an offset. */
bool temporal_parse_offset(const char *s, size_t len, int32_t *offset);

/* Builds a DATETIME at local_secs + nanos in zone (a name or an offset);
 * zone NULL means a fixed offset given in offset. GRAFT_ENOTFOUND for an
 * unknown zone. */
int temporal_make_datetime(struct graft_value *out, int64_t local_secs,
			   int32_t nanos, const char *zone, size_t zone_len,
			   int32_t offset);

/* A DATETIME at an instant, its offset from zone (NULL: UTC). */
int temporal_from_utc(struct graft_value *out, int64_t utc_secs,
		      int32_t nanos, const char *zone, size_t zone_len);

/* Temporal ± duration (sign 1 or -1) into *out; GRAFT_EINVAL on overflow
 * out of the supported range, GRAFT_ENOMEM. */
int temporal_add_duration(const struct graft_value *t,
			  const struct graft_ext *d, int sign,
			  struct graft_value *out);
/* Durations: a + sign * b; a * f (f a double); GRAFT_EINVAL on overflow. */
int temporal_duration_add(const struct graft_ext *a, const struct graft_ext *b,
			  int sign, struct graft_value *out);
int temporal_duration_scale(const struct graft_ext *a, double f, bool divide,
			    struct graft_value *out);
/* A DURATION of months, days and (possibly fractional) seconds, with
 * fractions cascading down as Neo4j does, plus exact whole seconds and
 * nanoseconds. GRAFT_EINVAL when out of range. */
int temporal_duration_make(struct graft_value *out, double months, double days,
			   double secs, int64_t whole_secs, int64_t extra_nanos);

/* Orders two values of the same temporal type (instants for DATETIME and
 * TIME); for DURATION by months, days, seconds, nanos. */
int temporal_cmp(const struct graft_value *a, const struct graft_value *b);

#endif
