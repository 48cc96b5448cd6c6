#define _GNU_SOURCE /* tm_gmtoff */
#include "render.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../util/err.h"

#define MAX_DEPTH 64

/* Input ------------------------------------------------------------------- */

static int take(struct render_in *in, size_t n, const uint8_t **out)
{
	if (in->len - in->pos < n)
		return GRAFT_ECORRUPT;
	*out = in->p + in->pos;
	in->pos += n;
	return GRAFT_OK;
}

static int read_be(struct render_in *in, size_t n, uint64_t *v)
{
	const uint8_t *p;
	size_t i;

	if (take(in, n, &p) != GRAFT_OK)
		return GRAFT_ECORRUPT;
	*v = 0;
	for (i = 0; i < n; i++)
		*v = *v << 8 | p[i];
	return GRAFT_OK;
}

/* The size that follows a D0-style marker: 1, 2 or 4 bytes. */
static int read_size(struct render_in *in, unsigned which, size_t *n)
{
	uint64_t v = 0;
	int rv = read_be(in, (size_t)1 << which, &v);

	*n = (size_t)v;
	return rv;
}

/* A header of a sized kind: tiny (nibble) or D0+which style. */
static int read_header(struct render_in *in, uint8_t tiny, uint8_t sized,
		       size_t *n)
{
	const uint8_t *m;

	if (take(in, 1, &m) != GRAFT_OK)
		return GRAFT_ECORRUPT;
	if ((*m & 0xF0) == tiny) {
		*n = *m & 0x0F;
		return GRAFT_OK;
	}
	if (*m >= sized && *m <= sized + 2)
		return read_size(in, *m - sized, n);
	return GRAFT_ECORRUPT;
}

int render_list_header(struct render_in *in, size_t *n)
{
	return read_header(in, 0x90, 0xD4, n);
}

int render_struct_header(struct render_in *in, size_t *fields, uint8_t *tag)
{
	const uint8_t *m;

	if (take(in, 1, &m) != GRAFT_OK || (*m & 0xF0) != 0xB0)
		return GRAFT_ECORRUPT;
	*fields = *m & 0x0F;
	if (take(in, 1, &m) != GRAFT_OK)
		return GRAFT_ECORRUPT;
	*tag = *m;
	return GRAFT_OK;
}

static int read_int(struct render_in *in, int64_t *v)
{
	const uint8_t *m;
	uint64_t u;
	size_t n;

	if (take(in, 1, &m) != GRAFT_OK)
		return GRAFT_ECORRUPT;
	if (*m < 0x80 || *m >= 0xF0) {
		*v = (int8_t)*m;
		return GRAFT_OK;
	}
	if (*m < 0xC8 || *m > 0xCB)
		return GRAFT_ECORRUPT;
	n = (size_t)1 << (*m - 0xC8);
	if (read_be(in, n, &u) != GRAFT_OK)
		return GRAFT_ECORRUPT;
	/* Sign-extend from n bytes. */
	*v = n == 8 ? (int64_t)u
		    : (int64_t)(u ^ ((uint64_t)1 << (8 * n - 1))) -
			      ((int64_t)1 << (8 * n - 1));
	return GRAFT_OK;
}

static int read_float(struct render_in *in, double *d)
{
	const uint8_t *m;
	uint64_t u;

	if (take(in, 1, &m) != GRAFT_OK || *m != 0xC1 ||
	    read_be(in, 8, &u) != GRAFT_OK)
		return GRAFT_ECORRUPT;
	memcpy(d, &u, sizeof *d);
	return GRAFT_OK;
}

static int read_string(struct render_in *in, const char **s, size_t *len)
{
	const uint8_t *p;

	if (read_header(in, 0x80, 0xD0, len) != GRAFT_OK ||
	    take(in, *len, &p) != GRAFT_OK)
		return GRAFT_ECORRUPT;
	*s = (const char *)p;
	return GRAFT_OK;
}

/* Output ------------------------------------------------------------------ */

static int put(struct graft_buf *out, const char *s)
{
	return graft_buf_append(out, s, strlen(s));
}

static int putf(struct graft_buf *out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int putf(struct graft_buf *out, const char *fmt, ...)
{
	char tmp[160];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	return graft_buf_append(out, tmp, n < (int)sizeof tmp ? (size_t)n
							    : sizeof tmp - 1);
}

/* Java's Double.toString, which cypher-shell prints: the shortest digits
 * that read back the same, 1.0 not 1, and E notation outside [1e-3, 1e7). */
static int put_float(struct graft_buf *out, double d)
{
	char digits[40], *e;
	int prec;
	double a = fabs(d);

	if (isnan(d))
		return put(out, "NaN");
	if (isinf(d))
		return put(out, d > 0 ? "Infinity" : "-Infinity");
	if (d == 0)
		return put(out, signbit(d) ? "-0.0" : "0.0");
	if (a >= 1e-3 && a < 1e7) {
		for (prec = 1; prec < 17; prec++) {
			snprintf(digits, sizeof digits, "%.*f", prec, d);
			if (strtod(digits, NULL) == d)
				break;
		}
		if (prec == 17)
			snprintf(digits, sizeof digits, "%.17g", d);
		return put(out, digits);
	}
	for (prec = 0; prec < 17; prec++) {
		snprintf(digits, sizeof digits, "%.*e", prec, d);
		if (strtod(digits, NULL) == d)
			break;
	}
	e = strchr(digits, 'e');
	if (e == NULL)
		return put(out, digits);
	*e = '\0';
	return putf(out, "%s%sE%d", digits, strchr(digits, '.') ? "" : ".0",
		    atoi(e + 1));
}

/* Temporal values --------------------------------------------------------- */

/* Days since 1970-01-01 to a civil date (proleptic Gregorian). */
static void civil(int64_t days, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;

	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int put_date(struct graft_buf *out, int64_t days)
{
	int64_t y;
	unsigned m, d;

	civil(days, &y, &m, &d);
	return putf(out, y >= 0 && y <= 9999 ? "%04" PRId64 "-%02u-%02u"
					     : "%+" PRId64 "-%02u-%02u",
		    y, m, d);
}

/* HH:MM[:SS[.fraction]] for nanoseconds since midnight, as Java prints. */
static int put_time(struct graft_buf *out, int64_t nanos)
{
	int64_t secs = nanos / 1000000000, frac = nanos % 1000000000;

	if (putf(out, "%02d:%02d", (int)(secs / 3600), (int)(secs / 60 % 60)))
		return GRAFT_ENOMEM;
	if (secs % 60 == 0 && frac == 0)
		return GRAFT_OK;
	if (putf(out, ":%02d", (int)(secs % 60)))
		return GRAFT_ENOMEM;
	if (frac == 0)
		return GRAFT_OK;
	/* java.time prints 3, 6 or 9 digits. */
	if (frac % 1000000 == 0)
		return putf(out, ".%03d", (int)(frac / 1000000));
	if (frac % 1000 == 0)
		return putf(out, ".%06d", (int)(frac / 1000));
	return putf(out, ".%09d", (int)frac);
}

static int put_offset(struct graft_buf *out, int64_t offset)
{
	int64_t a = offset < 0 ? -offset : offset;

	if (offset == 0)
		return put(out, "Z");
	if (a % 60 != 0)
		return putf(out, "%c%02d:%02d:%02d", offset < 0 ? '-' : '+',
			    (int)(a / 3600), (int)(a / 60 % 60), (int)(a % 60));
	return putf(out, "%c%02d:%02d", offset < 0 ? '-' : '+',
		    (int)(a / 3600), (int)(a / 60 % 60));
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static int put_local_datetime(struct graft_buf *out, int64_t secs,
			      int64_t nanos)
{
	int64_t days = floor_div(secs, 86400);

	if (put_date(out, days) || put(out, "T"))
		return GRAFT_ENOMEM;
	return put_time(out, (secs - days * 86400) * 1000000000 + nanos);
}

/* The offset of zone at UTC instant secs, from the system's tz database
 * (0 if the zone is unknown there). */
static int64_t zone_offset(const char *zone, int64_t secs)
{
	char *old = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
	time_t t = (time_t)secs;
	struct tm tm;
	long off = 0;

	setenv("TZ", zone, 1);
	tzset();
	if (localtime_r(&t, &tm) != NULL)
		off = tm.tm_gmtoff;
	if (old != NULL)
		setenv("TZ", old, 1);
	else
		unsetenv("TZ");
	tzset();
	free(old);
	return off;
}

/* s.fraction with the fraction's trailing zeros dropped ("1.5S"). */
static int put_seconds(struct graft_buf *out, int64_t s, int64_t nanos)
{
	char frac[16];
	int n = snprintf(frac, sizeof frac, "%09" PRId64,
			 nanos < 0 ? -nanos : nanos);

	while (n > 1 && frac[n - 1] == '0')
		n--;
	return putf(out, "%s%" PRId64 ".%.*sS", s == 0 && nanos < 0 ? "-" : "",
		    s, n, frac);
}

static int put_duration(struct graft_buf *out, int64_t months, int64_t days,
			int64_t secs, int64_t nanos)
{
	int64_t s;

	if (put(out, "P"))
		return GRAFT_ENOMEM;
	if (months / 12 != 0 && putf(out, "%" PRId64 "Y", months / 12))
		return GRAFT_ENOMEM;
	if (months % 12 != 0 && putf(out, "%" PRId64 "M", months % 12))
		return GRAFT_ENOMEM;
	if (days != 0 && putf(out, "%" PRId64 "D", days))
		return GRAFT_ENOMEM;
	if (secs == 0 && nanos == 0)
		return months == 0 && days == 0 ? put(out, "T0S") : GRAFT_OK;
	secs += nanos / 1000000000;
	nanos %= 1000000000;
	if (nanos < 0 && secs > 0) {
		nanos += 1000000000;
		secs--;
	}
	if (put(out, "T"))
		return GRAFT_ENOMEM;
	if (secs / 3600 != 0 && putf(out, "%" PRId64 "H", secs / 3600))
		return GRAFT_ENOMEM;
	if (secs / 60 % 60 != 0 && putf(out, "%" PRId64 "M", secs / 60 % 60))
		return GRAFT_ENOMEM;
	s = secs % 60;
	if (s == 0 && nanos == 0)
		return GRAFT_OK;
	if (nanos == 0)
		return putf(out, "%" PRId64 "S", s);
	return put_seconds(out, s, nanos);
}

/* Structures -------------------------------------------------------------- */

static int value(struct render_in *in, struct graft_buf *out, int depth);

/* Reads fields integer fields into v. */
static int ints(struct render_in *in, int64_t *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (read_int(in, &v[i]) != GRAFT_OK)
			return GRAFT_ECORRUPT;
	return GRAFT_OK;
}

/* ":A:B" from a list of label strings. */
static int labels(struct render_in *in, struct graft_buf *out, bool single)
{
	const char *s;
	size_t n, len, i;

	if (single) {
		n = 1;
	} else if (render_list_header(in, &n) != GRAFT_OK) {
		return GRAFT_ECORRUPT;
	}
	for (i = 0; i < n; i++) {
		if (read_string(in, &s, &len) != GRAFT_OK)
			return GRAFT_ECORRUPT;
		if (put(out, ":") || graft_buf_append(out, s, len))
			return GRAFT_ENOMEM;
	}
	return GRAFT_OK;
}

/* " {k: v, …}" for a property map, nothing for an empty one. */
static int props(struct render_in *in, struct graft_buf *out, int depth)
{
	size_t mark = out->len, before;
	int rv;

	if (put(out, " "))
		return GRAFT_ENOMEM;
	before = out->len;
	rv = value(in, out, depth);
	if (rv == GRAFT_OK && out->len - before == 2) /* "{}" */
		out->len = mark;
	return rv;
}

/* Skips n values (element ids and the like). */
static int skip(struct render_in *in, size_t n, int depth)
{
	struct graft_buf sink;
	int rv = GRAFT_OK;

	graft_buf_init(&sink);
	while (rv == GRAFT_OK && n-- > 0)
		rv = value(in, &sink, depth);
	graft_buf_free(&sink);
	return rv;
}

/* Node: id, labels, props[, element_id]. */
static int node(struct render_in *in, struct graft_buf *out, size_t fields,
		int depth)
{
	int64_t id;

	if (fields < 3 || read_int(in, &id) || put(out, "("))
		return GRAFT_ECORRUPT;
	if (labels(in, out, false) || props(in, out, depth) ||
	    skip(in, fields - 3, depth))
		return GRAFT_ECORRUPT;
	return put(out, ")");
}

/* Relationship: id, start, end, type, props[, element ids]; unbound: id,
 * type, props[, element_id]. */
static int rel(struct render_in *in, struct graft_buf *out, size_t fields,
	       bool unbound, int depth)
{
	size_t before = unbound ? 1 : 3;
	int64_t ids[3];

	if (fields < before + 2 || ints(in, ids, before) || put(out, "["))
		return GRAFT_ECORRUPT;
	if (labels(in, out, true) || props(in, out, depth) ||
	    skip(in, fields - before - 2, depth))
		return GRAFT_ECORRUPT;
	return put(out, "]");
}

/* Path: nodes, unbound relationships, and the index sequence (rel index,
 * 1-based and negative when traversed backwards, then node index). */
static int path(struct render_in *in, struct graft_buf *out, int depth)
{
	struct graft_buf *texts, *grown;
	size_t nn, nr, ni, i, k, f, total;
	int64_t rel_i, node_i;
	uint8_t tag;
	int rv = GRAFT_ECORRUPT;

	if (render_list_header(in, &nn) != GRAFT_OK || nn == 0 ||
	    nn > in->len - in->pos)
		return GRAFT_ECORRUPT;
	total = nn;
	texts = calloc(nn + 1, sizeof *texts);
	if (texts == NULL)
		return GRAFT_ENOMEM;
	for (i = 0; i < nn; i++)
		if (render_struct_header(in, &f, &tag) || tag != 'N' ||
		    node(in, &texts[i], f, depth))
			goto out;
	if (render_list_header(in, &nr) != GRAFT_OK || nr > in->len - in->pos)
		goto out;
	grown = realloc(texts, (nn + nr + 1) * sizeof *texts);
	if (grown == NULL) {
		rv = GRAFT_ENOMEM;
		goto out;
	}
	texts = grown;
	memset(texts + nn, 0, (nr + 1) * sizeof *texts);
	total = nn + nr;
	for (i = 0; i < nr; i++)
		if (render_struct_header(in, &f, &tag) || tag != 'r' ||
		    rel(in, &texts[nn + i], f, true, depth))
			goto out;
	if (render_list_header(in, &ni) != GRAFT_OK || ni % 2 != 0 ||
	    graft_buf_append(out, texts[0].data, texts[0].len))
		goto out;
	for (k = 0; k < ni; k += 2) {
		if (read_int(in, &rel_i) || read_int(in, &node_i) ||
		    rel_i == 0 || (size_t)llabs(rel_i) > nr || node_i < 0 ||
		    (size_t)node_i >= nn)
			goto out;
		i = nn + (size_t)llabs(rel_i) - 1;
		if (put(out, rel_i > 0 ? "-" : "<-") ||
		    graft_buf_append(out, texts[i].data, texts[i].len) ||
		    put(out, rel_i > 0 ? "->" : "-") ||
		    graft_buf_append(out, texts[node_i].data,
				     texts[node_i].len))
			goto out;
	}
	rv = GRAFT_OK;
out:
	for (i = 0; i < total; i++)
		graft_buf_free(&texts[i]);
	free(texts);
	return rv;
}

static int point(struct render_in *in, struct graft_buf *out, size_t dims)
{
	int64_t srid;
	double c[3];
	size_t i;

	if (read_int(in, &srid) || putf(out, "point({srid:%" PRId64, srid))
		return GRAFT_ECORRUPT;
	for (i = 0; i < dims; i++) {
		if (read_float(in, &c[i]) || putf(out, ", %c:", "xyz"[i]) ||
		    put_float(out, c[i]))
			return GRAFT_ECORRUPT;
	}
	return put(out, "})");
}

static int zoned(struct render_in *in, struct graft_buf *out, bool utc)
{
	int64_t v[2], off;
	const char *zone;
	char name[128];
	size_t len;

	if (ints(in, v, 2) || read_string(in, &zone, &len))
		return GRAFT_ECORRUPT;
	snprintf(name, sizeof name, "%.*s", (int)len, zone);
	off = utc ? zone_offset(name, v[0]) : 0;
	if (put_local_datetime(out, v[0] + off, v[1]))
		return GRAFT_ENOMEM;
	if (utc && put_offset(out, off))
		return GRAFT_ENOMEM;
	return putf(out, "[%s]", name);
}

static int structure(struct render_in *in, struct graft_buf *out, int depth)
{
	size_t fields;
	uint8_t tag;
	int64_t v[4];

	if (render_struct_header(in, &fields, &tag) != GRAFT_OK)
		return GRAFT_ECORRUPT;
	switch (tag) {
	case 'N':
		return node(in, out, fields, depth);
	case 'R':
		return rel(in, out, fields, false, depth);
	case 'r':
		return rel(in, out, fields, true, depth);
	case 'P':
		return fields == 3 ? path(in, out, depth) : GRAFT_ECORRUPT;
	case 'D':
		return ints(in, v, 1) ? GRAFT_ECORRUPT : put_date(out, v[0]);
	case 't':
		return ints(in, v, 1) ? GRAFT_ECORRUPT : put_time(out, v[0]);
	case 'T':
		if (ints(in, v, 2) || put_time(out, v[0]))
			return GRAFT_ECORRUPT;
		return put_offset(out, v[1]);
	case 'd':
		return ints(in, v, 2) ? GRAFT_ECORRUPT
				      : put_local_datetime(out, v[0], v[1]);
	case 'I': /* UTC seconds */
	case 'F': /* local seconds */
		if (ints(in, v, 3) ||
		    put_local_datetime(out, v[0] + (tag == 'I' ? v[2] : 0),
				       v[1]))
			return GRAFT_ECORRUPT;
		return put_offset(out, v[2]);
	case 'i':
	case 'f':
		return zoned(in, out, tag == 'i');
	case 'E':
		return ints(in, v, 4) ? GRAFT_ECORRUPT
				      : put_duration(out, v[0], v[1], v[2], v[3]);
	case 'X':
	case 'Y':
		return point(in, out, tag == 'X' ? 2 : 3);
	default:
		return GRAFT_ECORRUPT;
	}
}

static int container(struct render_in *in, struct graft_buf *out, bool map,
		     int depth)
{
	const char *key;
	size_t n, i, len;

	if (read_header(in, map ? 0xA0 : 0x90, map ? 0xD8 : 0xD4, &n) ||
	    n > in->len - in->pos || put(out, map ? "{" : "["))
		return GRAFT_ECORRUPT;
	for (i = 0; i < n; i++) {
		if (i > 0 && put(out, ", "))
			return GRAFT_ENOMEM;
		if (map && (read_string(in, &key, &len) ||
			    graft_buf_append(out, key, len) || put(out, ": ")))
			return GRAFT_ECORRUPT;
		if (value(in, out, depth + 1))
			return GRAFT_ECORRUPT;
	}
	return put(out, map ? "}" : "]");
}

static int bytes(struct render_in *in, struct graft_buf *out)
{
	const uint8_t *p, *m;
	size_t n, i;

	if (take(in, 1, &m) || read_size(in, *m - 0xCC, &n) ||
	    take(in, n, &p) || put(out, "0x"))
		return GRAFT_ECORRUPT;
	for (i = 0; i < n; i++)
		if (putf(out, "%02x", p[i]))
			return GRAFT_ENOMEM;
	return GRAFT_OK;
}

static int value(struct render_in *in, struct graft_buf *out, int depth)
{
	const char *s;
	size_t len;
	int64_t i;
	double d;
	uint8_t m;

	if (in->pos >= in->len || depth > MAX_DEPTH)
		return GRAFT_ECORRUPT;
	m = in->p[in->pos];
	if (m < 0x80 || m >= 0xF0 || (m >= 0xC8 && m <= 0xCB))
		return read_int(in, &i) ? GRAFT_ECORRUPT
					: putf(out, "%" PRId64, i);
	if ((m & 0xF0) == 0x80 || (m >= 0xD0 && m <= 0xD2)) {
		if (read_string(in, &s, &len))
			return GRAFT_ECORRUPT;
		return put(out, "\"") || graft_buf_append(out, s, len) ||
			       put(out, "\"")
			       ? GRAFT_ENOMEM
			       : GRAFT_OK;
	}
	if ((m & 0xF0) == 0x90 || (m >= 0xD4 && m <= 0xD6))
		return container(in, out, false, depth);
	if ((m & 0xF0) == 0xA0 || (m >= 0xD8 && m <= 0xDA))
		return container(in, out, true, depth);
	if ((m & 0xF0) == 0xB0)
		return structure(in, out, depth + 1);
	if (m >= 0xCC && m <= 0xCE)
		return bytes(in, out);
	if (m == 0xC1)
		return read_float(in, &d) ? GRAFT_ECORRUPT : put_float(out, d);
	in->pos++;
	switch (m) {
	case 0xC0:
		return put(out, "NULL");
	case 0xC2:
		return put(out, "FALSE");
	case 0xC3:
		return put(out, "TRUE");
	default:
		return GRAFT_ECORRUPT;
	}
}

int render_value(struct render_in *in, struct graft_buf *out)
{
	return value(in, out, 0);
}
