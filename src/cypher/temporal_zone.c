/* Time zones from the system's TZif files (/usr/share/zoneinfo), read by
 * this unit rather than through TZ, which is process-global: the listed
 * transitions, then the POSIX TZ rule at the file's end for instants past
 * the last of them. Zones load once into a small cache behind a mutex. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/err.h"
#include "temporal.h"

/* When daylight saving time starts or ends in a year: Jn (day 1..365,
 * February 29 never counted), n (day 0..365) or Mm.w.d (weekday d, 0 =
 * Sunday, of week w of month m, week 5 being the last), at time seconds of
 * local time then in force. */
struct tz_when {
	char kind; /* 'J', 'D' (plain day) or 'M' */
	int m, w, d;
	int32_t time;
};

/* The POSIX TZ string at the end of a TZif file, which says what happens
 * after the last listed transition. */
struct tz_rule {
	bool valid, has_dst;
	int32_t std, dst;          /* offsets, seconds east of UTC */
	struct tz_when start, end; /* into and out of DST */
};

struct tz_zone {
	char name[64];
	uint32_t n;         /* transitions */
	int64_t *at;        /* UTC seconds of each transition */
	int32_t *after;     /* offset from each transition on */
	int32_t initial;    /* offset before the first */
	struct tz_rule rule;
};

#define TZ_CACHE 32
static struct tz_zone tz_cache[TZ_CACHE];
static unsigned tz_cached;
static pthread_mutex_t tz_lock = PTHREAD_MUTEX_INITIALIZER;

/* POSIX TZ rules ------------------------------------------------------------ */

struct tzs {
	const char *p, *end;
};

static bool tzs_digits(struct tzs *s, int max, int *v)
{
	int k = 0;

	*v = 0;
	while (s->p < s->end && *s->p >= '0' && *s->p <= '9' && k < max) {
		*v = *v * 10 + (*s->p++ - '0');
		k++;
	}
	return k > 0;
}

/* A zone abbreviation: letters, or anything in <...>. */
static bool tzs_name(struct tzs *s)
{
	const char *start = s->p;

	if (s->p < s->end && *s->p == '<') {
		while (s->p < s->end && *s->p != '>')
			s->p++;
		if (s->p == s->end)
			return false;
		s->p++;
		return true;
	}
	while (s->p < s->end && ((*s->p >= 'a' && *s->p <= 'z') ||
				 (*s->p >= 'A' && *s->p <= 'Z')))
		s->p++;
	return s->p - start >= 3;
}

/* [+-]hh[:mm[:ss]] as seconds (hours up to 167 for rule times). */
static bool tzs_time(struct tzs *s, int32_t *out)
{
	int sign = 1, h, m = 0, sec = 0;

	if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
		sign = *s->p++ == '-' ? -1 : 1;
	if (!tzs_digits(s, 3, &h))
		return false;
	if (s->p < s->end && *s->p == ':') {
		s->p++;
		if (!tzs_digits(s, 2, &m))
			return false;
		if (s->p < s->end && *s->p == ':') {
			s->p++;
			if (!tzs_digits(s, 2, &sec))
				return false;
		}
	}
	*out = sign * (h * 3600 + m * 60 + sec);
	return true;
}

static bool tzs_when(struct tzs *s, struct tz_when *w)
{
	w->time = 7200;
	if (s->p < s->end && *s->p == 'M') {
		s->p++;
		w->kind = 'M';
		if (!tzs_digits(s, 2, &w->m) || s->p == s->end || *s->p++ != '.' ||
		    !tzs_digits(s, 1, &w->w) || s->p == s->end ||
		    *s->p++ != '.' || !tzs_digits(s, 1, &w->d) || w->m < 1 ||
		    w->m > 12 || w->w < 1 || w->w > 5 || w->d > 6)
			return false;
	} else {
		w->kind = 'D';
		if (s->p < s->end && *s->p == 'J') {
			s->p++;
			w->kind = 'J';
		}
		if (!tzs_digits(s, 3, &w->d) || w->d > 365)
			return false;
	}
	if (s->p < s->end && *s->p == '/') {
		s->p++;
		return tzs_time(s, &w->time);
	}
	return true;
}

/* "CET-1CEST,M3.5.0,M10.5.0/3": POSIX offsets count west, ours east. */
static void tz_rule_parse(const char *p, size_t n, struct tz_rule *r)
{
	struct tzs s = {p, p + n};
	int32_t off;

	memset(r, 0, sizeof *r);
	if (!tzs_name(&s) || !tzs_time(&s, &off))
		return;
	r->std = -off;
	if (s.p < s.end && *s.p != '\n') {
		if (!tzs_name(&s))
			return;
		r->dst = r->std + 3600;
		if (s.p < s.end && *s.p != ',') {
			if (!tzs_time(&s, &off))
				return;
			r->dst = -off;
		}
		if (s.p == s.end || *s.p++ != ',' || !tzs_when(&s, &r->start) ||
		    s.p == s.end || *s.p++ != ',' || !tzs_when(&s, &r->end))
			return;
		r->has_dst = true;
	}
	if (s.p < s.end && *s.p != '\n')
		return;
	r->valid = true;
}

/* Local seconds since the epoch at which w happens in year. */
static int64_t tz_when_local(const struct tz_when *w, int64_t year)
{
	int64_t day;

	if (w->kind == 'J') {
		/* Day 1..365, February 29 never counted. */
		day = temporal_days_from_civil(year, 1, 1) + w->d - 1;
		if (temporal_leap(year) && w->d >= 60)
			day++;
	} else if (w->kind == 'D') {
		day = temporal_days_from_civil(year, 1, 1) + w->d;
	} else {
		int64_t first = temporal_days_from_civil(year, (unsigned)w->m, 1);
		/* temporal_weekday: 1 = Monday .. 7 = Sunday; w->d: 0 = Sunday */
		int64_t shift = (w->d - (int64_t)temporal_weekday(first) % 7 + 7) %
				7;
		day = first + shift + (int64_t)(w->w - 1) * 7;
		while (w->w == 5 &&
		       day >= first + temporal_month_days(year, (unsigned)w->m))
			day -= 7;
	}
	return day * TEMPORAL_DAY_SECS + w->time;
}

static int32_t tz_rule_offset(const struct tz_rule *r, int64_t t)
{
	int64_t year, start, end;
	unsigned m, d;

	if (!r->has_dst)
		return r->std;
	temporal_civil_from_days(temporal_floor_div(t + r->std,
						    TEMPORAL_DAY_SECS),
				 &year, &m, &d);
	/* DST starts at a local standard time and ends at a local DST time. */
	start = tz_when_local(&r->start, year) - r->std;
	end = tz_when_local(&r->end, year) - r->dst;
	if (start < end)
		return t >= start && t < end ? r->dst : r->std;
	return t >= end && t < start ? r->std : r->dst;
}

static uint64_t be(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* Reads the 64-bit section of a TZif v2+ file (or v1's 32-bit one). */
static bool tz_parse(const uint8_t *p, size_t len, struct tz_zone *z)
{
	uint32_t cnt[6], typecnt, timecnt;
	unsigned tsz = 4;
	size_t need;
	const uint8_t *types;

	if (len < 44 || memcmp(p, "TZif", 4) != 0)
		return false;
	for (int i = 0; i < 6; i++)
		cnt[i] = (uint32_t)be(p + 20 + 4 * i, 4);
	if (p[4] >= '2') {
		size_t v1 = 44 + (size_t)cnt[3] * 5 + (size_t)cnt[4] * 6 +
			    cnt[5] + (size_t)cnt[2] * 8 + cnt[1] + cnt[0];
		if (len < v1 + 44 || memcmp(p + v1, "TZif", 4) != 0)
			return false;
		p += v1;
		len -= v1;
		for (int i = 0; i < 6; i++)
			cnt[i] = (uint32_t)be(p + 20 + 4 * i, 4);
		tsz = 8;
	}
	timecnt = cnt[3];
	typecnt = cnt[4];
	need = 44 + (size_t)timecnt * (tsz + 1) + (size_t)typecnt * 6;
	if (typecnt == 0 || len < need)
		return false;
	types = p + 44 + (size_t)timecnt * (tsz + 1);
	z->at = malloc((timecnt ? timecnt : 1) * sizeof *z->at);
	z->after = malloc((timecnt ? timecnt : 1) * sizeof *z->after);
	if (z->at == NULL || z->after == NULL) {
		free(z->at);
		free(z->after);
		return false;
	}
	z->n = timecnt;
	/* Time type 0 holds before the first transition (RFC 8536). */
	z->initial = (int32_t)be(types, 4);
	for (uint32_t i = 0; i < timecnt; i++) {
		uint64_t a = be(p + 44 + (size_t)i * tsz, tsz);
		uint8_t idx = p[44 + (size_t)timecnt * tsz + i];
		z->at[i] = tsz == 8 ? (int64_t)a : (int64_t)(int32_t)a;
		z->after[i] = idx < typecnt ?
			(int32_t)be(types + (size_t)idx * 6, 4) : z->initial;
	}
	if (tsz == 8) {
		/* The footer: "\n<TZ string>\n" after the v2 data. */
		size_t end = need + cnt[5] + (size_t)cnt[2] * 12 + cnt[1] +
			     cnt[0];
		memset(&z->rule, 0, sizeof z->rule);
		if (end + 2 < len && p[end] == '\n')
			tz_rule_parse((const char *)p + end + 1,
				      len - end - 1, &z->rule);
	}
	return true;
}

static bool tz_name_ok(const char *name, size_t len)
{
	if (len == 0 || len >= sizeof tz_cache[0].name || name[0] == '/')
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '/' || c == '_' ||
		      c == '-' || c == '+'))
			return false;
		if (c == '.' || (i > 0 && c == '/' && name[i - 1] == '/'))
			return false;
	}
	return true;
}

static bool tz_load(const char *name, size_t len, struct tz_zone *z)
{
	char path[128];
	uint8_t *data;
	long size;
	FILE *f;
	bool ok;

	snprintf(path, sizeof path, "/usr/share/zoneinfo/%.*s", (int)len,
		 name);
	f = fopen(path, "rb");
	if (f == NULL)
		return false;
	if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) <= 0 ||
	    size > 1 << 20 || fseek(f, 0, SEEK_SET) != 0) {
		fclose(f);
		return false;
	}
	data = malloc((size_t)size);
	ok = data != NULL && fread(data, 1, (size_t)size, f) == (size_t)size &&
	     tz_parse(data, (size_t)size, z);
	free(data);
	fclose(f);
	if (ok) {
		memcpy(z->name, name, len);
		z->name[len] = '\0';
	}
	return ok;
}

static int32_t tz_offset_utc(const struct tz_zone *z, int64_t t)
{
	uint32_t lo = 0, hi = z->n;

	if (z->rule.valid && (z->n == 0 || t >= z->at[z->n - 1]))
		return tz_rule_offset(&z->rule, t);
	if (z->n == 0 || t < z->at[0])
		return z->initial;
	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (z->at[mid] <= t)
			lo = mid;
		else
			hi = mid;
	}
	return z->after[lo];
}

static int32_t tz_offset_local(const struct tz_zone *z, int64_t t)
{
	/* Offsets a day either side; in an overlap the earlier
	 * (pre-transition) one wins, and in a gap too, so that the caller's
	 * instant lands after the gap. */
	int32_t a = tz_offset_utc(z, t - TEMPORAL_DAY_SECS);
	int32_t b = tz_offset_utc(z, t + TEMPORAL_DAY_SECS);

	if (tz_offset_utc(z, t - a) == a || tz_offset_utc(z, t - b) != b)
		return a;
	return b;
}

/* The offset of zone name at t (UTC, or local when local is set), the
 * zone loaded into the cache on first use; once the cache is full, further
 * zones are loaded for the one call. */
static int tz_with(const char *name, size_t len, int64_t t, bool local,
		   int32_t *offset)
{
	struct tz_zone *z = NULL, once;

	if (!tz_name_ok(name, len))
		return GRAFT_ENOTFOUND;
	pthread_mutex_lock(&tz_lock);
	for (unsigned i = 0; i < tz_cached && z == NULL; i++)
		if (strlen(tz_cache[i].name) == len &&
		    memcmp(tz_cache[i].name, name, len) == 0)
			z = &tz_cache[i];
	if (z == NULL && tz_cached < TZ_CACHE &&
	    tz_load(name, len, &tz_cache[tz_cached]))
		z = &tz_cache[tz_cached++];
	else if (z == NULL && tz_cached == TZ_CACHE && tz_load(name, len, &once))
		z = &once;
	if (z != NULL)
		*offset = local ? tz_offset_local(z, t) : tz_offset_utc(z, t);
	pthread_mutex_unlock(&tz_lock);
	if (z == &once) {
		free(once.at);
		free(once.after);
	}
	return z != NULL ? GRAFT_OK : GRAFT_ENOTFOUND;
}

static bool is_utc_name(const char *zone, size_t len)
{
	return (len == 3 && memcmp(zone, "UTC", 3) == 0) ||
	       (len == 1 && (zone[0] == 'Z' || zone[0] == 'z'));
}

int temporal_zone_at_utc(const char *zone, size_t len, int64_t utc_secs,
			 int32_t *offset)
{
	if (temporal_parse_offset(zone, len, offset))
		return GRAFT_OK;
	if (is_utc_name(zone, len)) {
		*offset = 0;
		return GRAFT_OK;
	}
	return tz_with(zone, len, utc_secs, false, offset);
}

int temporal_zone_at_local(const char *zone, size_t len, int64_t local_secs,
			   int32_t *offset)
{
	if (temporal_parse_offset(zone, len, offset))
		return GRAFT_OK;
	if (is_utc_name(zone, len)) {
		*offset = 0;
		return GRAFT_OK;
	}
	return tz_with(zone, len, local_secs, true, offset);
}

