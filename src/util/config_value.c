/* The value types of settings: parsing text into a config_value, checking
 * bounds, and saying what is allowed when a value is refused. */
#include "config_int.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "err.h"

#define KIB UINT64_C(1024)
#define MS_PER_S UINT64_C(1000)
#define MS_PER_MIN (60 * MS_PER_S)
#define MS_PER_HOUR (60 * MS_PER_MIN)
#define MS_PER_DAY (24 * MS_PER_HOUR)

struct unit {
	const char *name;
	uint64_t mult;
};

/* Neo4j's byte multipliers; every spelling means powers of 1024. */
static const struct unit size_units[] = {
	{"", 1},		{"b", 1},
	{"k", KIB},		{"kb", KIB},
	{"kib", KIB},		{"m", KIB * KIB},
	{"mb", KIB * KIB},	{"mib", KIB * KIB},
	{"g", KIB * KIB * KIB}, {"gb", KIB * KIB * KIB},
	{"gib", KIB * KIB * KIB}, {"t", KIB * KIB * KIB * KIB},
	{"tb", KIB * KIB * KIB * KIB}, {"tib", KIB * KIB * KIB * KIB},
};

static const char *skip_blank(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* Reads decimal digits at *p into *out; -1 on none or overflow. */
static int read_digits(const char **p, uint64_t *out)
{
	uint64_t v = 0;
	const char *q = *p;

	if (!isdigit((unsigned char)*q))
		return -1;
	for (; isdigit((unsigned char)*q); q++) {
		unsigned d = (unsigned)(*q - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*p = q;
	*out = v;
	return 0;
}

/* "250M", "1g", "512 KiB", "1.5G", "1024". */
static int parse_size(const char *text, uint64_t *out)
{
	const char *p = text;
	uint64_t whole, frac = 0, frac_div = 1, mult = 0, v;

	if (read_digits(&p, &whole) != 0)
		return -1;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -1;
		for (; isdigit((unsigned char)*p); p++) {
			if (frac_div < 1000000000ull) {
				frac = frac * 10 + (uint64_t)(*p - '0');
				frac_div *= 10;
			}
		}
	}
	p = skip_blank(p);
	for (size_t i = 0; i < sizeof size_units / sizeof size_units[0]; i++)
		if (strcasecmp(p, size_units[i].name) == 0)
			mult = size_units[i].mult;
	if (mult == 0 || whole > UINT64_MAX / mult)
		return -1;
	v = whole * mult;
	/* The fraction of a unit is below one unit, so long double is exact
	 * enough and this cannot overflow mult. */
	mult = (uint64_t)((long double)frac * (long double)mult /
			  (long double)frac_div);
	if (v > UINT64_MAX - mult)
		return -1;
	*out = v + mult;
	return 0;
}

/* "500ms", "20s", "15m", "2h", "1d", "90" (seconds, Neo4j's default unit). */
static int parse_duration(const char *text, uint64_t *out)
{
	static const struct unit units[] = {
		{"", MS_PER_S}, {"s", MS_PER_S},	  {"ms", 1},
		{"m", MS_PER_MIN}, {"h", MS_PER_HOUR}, {"d", MS_PER_DAY},
	};
	const char *p = text;
	uint64_t n;

	if (read_digits(&p, &n) != 0)
		return -1;
	p = skip_blank(p);
	/* Below a millisecond: ns and us (or μs) round down to whole ms. */
	if (strcasecmp(p, "ns") == 0) {
		*out = n / 1000000;
		return 0;
	}
	if (strcasecmp(p, "us") == 0 || strcmp(p, "\xce\xbcs") == 0) {
		*out = n / 1000;
		return 0;
	}
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		if (strcasecmp(p, units[i].name) != 0)
			continue;
		if (n > UINT64_MAX / units[i].mult)
			return -1;
		*out = n * units[i].mult;
		return 0;
	}
	return -1;
}

static int parse_range(const char *text, uint64_t *lo, uint64_t *hi)
{
	const char *dash = strchr(text, '-');
	char first[64];
	size_t n;

	if (dash == NULL) {
		if (parse_duration(text, lo) != 0)
			return -1;
		*hi = *lo;
		return 0;
	}
	n = (size_t)(dash - text);
	while (n > 0 && (text[n - 1] == ' ' || text[n - 1] == '\t'))
		n--;
	if (n >= sizeof first)
		return -1;
	memcpy(first, text, n);
	first[n] = '\0';
	if (parse_duration(first, lo) != 0 ||
	    parse_duration(skip_blank(dash + 1), hi) != 0 || *lo > *hi)
		return -1;
	return 0;
}

static int parse_int(const char *text, int64_t *out)
{
	const char *p = text + (*text == '-' || *text == '+');
	char *end;
	long long v;

	if (!isdigit((unsigned char)*p))
		return -1;
	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

static void format_size(uint64_t v, char *out, size_t n)
{
	static const char suffix[] = "KMGT";
	int i = -1;

	while (v != 0 && v % KIB == 0 && i < 3) {
		v /= KIB;
		i++;
	}
	if (i < 0)
		snprintf(out, n, "%" PRIu64, v);
	else
		snprintf(out, n, "%" PRIu64 "%c", v, suffix[i]);
}

static void format_duration(uint64_t ms, char *out, size_t n)
{
	if (ms != 0 && ms % MS_PER_DAY == 0)
		snprintf(out, n, "%" PRIu64 "d", ms / MS_PER_DAY);
	else if (ms != 0 && ms % MS_PER_HOUR == 0)
		snprintf(out, n, "%" PRIu64 "h", ms / MS_PER_HOUR);
	else if (ms != 0 && ms % MS_PER_MIN == 0)
		snprintf(out, n, "%" PRIu64 "m", ms / MS_PER_MIN);
	else if (ms % MS_PER_S == 0)
		snprintf(out, n, "%" PRIu64 "s", ms / MS_PER_S);
	else
		snprintf(out, n, "%" PRIu64 "ms", ms);
}

static void format_bound(const struct graft_setting *s, int64_t v, char *out,
			 size_t n)
{
	if (s->type == GRAFT_CONFIG_SIZE)
		format_size((uint64_t)v, out, n);
	else if (s->type == GRAFT_CONFIG_DURATION)
		format_duration((uint64_t)v, out, n);
	else
		snprintf(out, n, "%" PRId64, v);
}

static bool has_bounds(const struct graft_setting *s)
{
	return s->min != 0 || s->max != 0;
}

/* What a value of each type may be, where that is the same for every
 * setting of the type; the others are worded in config_allowed. */
static const char *const allowed_text[] = {
	[GRAFT_CONFIG_STRING] = "any text",
	[GRAFT_CONFIG_BOOL] = "true or false",
	[GRAFT_CONFIG_INT] = "a whole number",
	[GRAFT_CONFIG_SIZE] = "a number of bytes with an optional unit K, M, G "
			      "(e.g. 250M)",
	[GRAFT_CONFIG_DURATION] = "a number with a unit ms, s, m, h or d (e.g. "
				  "500ms, 20s, 15m); a bare number is seconds",
	[GRAFT_CONFIG_DURATION_RANGE] = "two durations <min>-<max> (e.g. "
					"20s-23s; units ms, s, m, h, d), or one "
					"for both",
	[GRAFT_CONFIG_HOST] = "a host name or IP address without a port (e.g. "
			      "localhost, 0.0.0.0, ::)",
};

void config_allowed(const struct graft_setting *s, char *out, size_t n)
{
	char lo[32], hi[32], rerr[GRAFT_ERRMSG_SIZE] = "";
	struct graft_retention r;
	int len = 0;

	switch (s->type) {
	case GRAFT_CONFIG_PATH:
		len = snprintf(out, n,
			       "allowed: an absolute path, or one relative to %s",
			       s->base != NULL ? s->base
					       : "server.directories.neo4j_home");
		break;
	case GRAFT_CONFIG_ADDRESS_LIST:
		len = snprintf(out, n,
			       "allowed: comma-separated host:port addresses "
			       "(port %u if left out)",
			       (unsigned)s->port);
		break;
	case GRAFT_CONFIG_ENUM:
		len = snprintf(out, n, "allowed: ");
		for (const char *p = s->allowed; *p != '\0' && len < (int)n; p++)
			len += *p == '|' ? snprintf(out + len, n - (size_t)len, ", ")
					 : snprintf(out + len, n - (size_t)len,
						    "%c", *p);
		break;
	case GRAFT_CONFIG_RETENTION:
		/* retention.c owns the grammar and its wording. */
		graft_retention_parse("", &r, rerr);
		len = snprintf(out, n, "%s",
			       strstr(rerr, "allowed:") != NULL
				       ? strstr(rerr, "allowed:")
				       : rerr);
		break;
	case GRAFT_CONFIG_ADDRESS:
		len = snprintf(out, n, "allowed: %s",
			       graft_address_allowed(GRAFT_ADDRESS_PORT_OPTIONAL));
		break;
	case GRAFT_CONFIG_STRING:
	case GRAFT_CONFIG_BOOL:
	case GRAFT_CONFIG_INT:
	case GRAFT_CONFIG_SIZE:
	case GRAFT_CONFIG_DURATION:
	case GRAFT_CONFIG_DURATION_RANGE:
	case GRAFT_CONFIG_HOST:
		len = snprintf(out, n, "allowed: %s", allowed_text[s->type]);
		break;
	}
	if (!has_bounds(s) || len < 0 || (size_t)len >= n)
		return;
	format_bound(s, s->min, lo, sizeof lo);
	format_bound(s, s->max, hi, sizeof hi);
	if (s->max == 0)
		snprintf(out + len, n - (size_t)len, ", at least %s", lo);
	else
		snprintf(out + len, n - (size_t)len, ", from %s to %s", lo, hi);
}

/* -1 below the setting's range, 1 above, 0 within. */
static int check_bounds(const struct graft_setting *s, int64_t v)
{
	if (!has_bounds(s))
		return 0;
	if (v < s->min)
		return -1;
	return s->max != 0 && v > s->max ? 1 : 0;
}

static int check_ubounds(const struct graft_setting *s, uint64_t v)
{
	return v > INT64_MAX ? (has_bounds(s) && s->max != 0 ? 1 : 0)
			     : check_bounds(s, (int64_t)v);
}

static int parse_enum(const struct graft_setting *s, const char *text,
		      const char **canon, size_t *len)
{
	const char *p = s->allowed;

	while (*p != '\0') {
		size_t n = strcspn(p, "|");
		if (n == strlen(text) && strncasecmp(p, text, n) == 0) {
			*canon = p;
			*len = n;
			return 0;
		}
		p += n + (p[n] == '|');
	}
	return -1;
}

/* Splits one element of an address list, n bytes at p, blanks trimmed;
 * the element must name a host. */
static int split_item(const char *p, size_t n, char *host, int *port)
{
	char item[GRAFT_ADDRESS_HOST_MAX + 16];

	while (n > 0 && (*p == ' ' || *p == '\t')) {
		p++;
		n--;
	}
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	if (n == 0 || n >= sizeof item)
		return -1;
	memcpy(item, p, n);
	item[n] = '\0';
	if (graft_address_split(item, GRAFT_ADDRESS_PORT_OPTIONAL, host, port,
				NULL) != GRAFT_OK ||
	    host[0] == '\0')
		return -1;
	return 0;
}

size_t config_address_list_parse(const char *text, uint16_t default_port,
				 struct graft_address *out, size_t max)
{
	const char *p = text;
	size_t count = 0;
	int port;

	if (*skip_blank(p) == '\0')
		return 0;
	for (;;) {
		size_t n = strcspn(p, ",");
		struct graft_address a;
		if (split_item(p, n, a.host, &port) != 0)
			return SIZE_MAX;
		a.port = port < 0 ? default_port : (uint16_t)port;
		if (count < max)
			out[count] = a;
		count++;
		if (p[n] == '\0')
			return count;
		p += n + 1;
	}
}

static int parse_address_list(const struct graft_setting *s, const char *text,
			      char *why)
{
	char allowed[256];

	if (config_address_list_parse(text, s->port, NULL, 0) != SIZE_MAX)
		return GRAFT_OK;
	config_allowed(s, allowed, sizeof allowed);
	return graft_errf(why, GRAFT_ECONFIG,
			  "not a list of addresses; %s", allowed);
}

/* Parses text as s's type; on failure sets what (the first words of why). */
static int parse_typed(const struct graft_setting *s, const char *text,
		       struct config_value *out, const char **what, char *why)
{
	char rerr[GRAFT_ERRMSG_SIZE];
	const char *canon;
	size_t clen;
	int b = 0;

	switch (s->type) {
	case GRAFT_CONFIG_STRING:
		return GRAFT_OK;
	case GRAFT_CONFIG_PATH:
		*what = "not a path";
		return *text != '\0' ? GRAFT_OK : GRAFT_ECONFIG;
	case GRAFT_CONFIG_BOOL:
		*what = "not a boolean";
		if (strcasecmp(text, "true") != 0 &&
		    strcasecmp(text, "false") != 0)
			return GRAFT_ECONFIG;
		out->v.b = strcasecmp(text, "true") == 0;
		strcpy(out->text, out->v.b ? "true" : "false");
		return GRAFT_OK;
	case GRAFT_CONFIG_INT:
		*what = "not a whole number";
		if (parse_int(text, &out->v.i) != 0)
			return GRAFT_ECONFIG;
		b = check_bounds(s, out->v.i);
		break;
	case GRAFT_CONFIG_SIZE:
		*what = "not a size";
		if (parse_size(text, &out->v.u) != 0)
			return GRAFT_ECONFIG;
		b = check_ubounds(s, out->v.u);
		break;
	case GRAFT_CONFIG_DURATION:
		*what = "not a duration";
		if (parse_duration(text, &out->v.u) != 0)
			return GRAFT_ECONFIG;
		b = check_ubounds(s, out->v.u);
		break;
	case GRAFT_CONFIG_DURATION_RANGE:
		*what = "not a duration range";
		return parse_range(text, &out->v.range.lo, &out->v.range.hi) == 0
			       ? GRAFT_OK
			       : GRAFT_ECONFIG;
	case GRAFT_CONFIG_ADDRESS:
		if (graft_address_split(text, GRAFT_ADDRESS_PORT_OPTIONAL,
					out->v.addr.host, &out->v.addr.port,
					rerr) == GRAFT_OK)
			return GRAFT_OK;
		return graft_errf(why, GRAFT_ECONFIG, "not an address: %s",
				  rerr);
	case GRAFT_CONFIG_HOST:
		*what = "not a host name";
		return graft_address_split(text, GRAFT_ADDRESS_PORT_OPTIONAL,
					   out->v.addr.host, &out->v.addr.port,
					   NULL) == GRAFT_OK &&
				       out->v.addr.port < 0 &&
				       out->v.addr.host[0] != '\0'
			       ? GRAFT_OK
			       : GRAFT_ECONFIG;
	case GRAFT_CONFIG_ADDRESS_LIST:
		return parse_address_list(s, text, why);
	case GRAFT_CONFIG_ENUM:
		*what = "not an allowed value";
		if (parse_enum(s, text, &canon, &clen) != 0)
			return GRAFT_ECONFIG;
		memcpy(out->text, canon, clen);
		out->text[clen] = '\0';
		return GRAFT_OK;
	case GRAFT_CONFIG_RETENTION:
		*what = "not a retention policy";
		return graft_retention_parse(text, &out->v.retention, rerr);
	}
	if (b != 0)
		*what = b < 0 ? "too small" : "too large";
	return b == 0 ? GRAFT_OK : GRAFT_ECONFIG;
}

int config_value_parse(const struct graft_setting *s, const char *text,
		       struct config_value *out, char *why)
{
	char allowed[GRAFT_ERRMSG_SIZE];
	const char *what = NULL;
	int rv;

	memset(out, 0, sizeof *out);
	out->text = strdup(text);
	if (out->text == NULL)
		return graft_errf(why, GRAFT_ENOMEM, "out of memory");
	if (*text == '\0' && s->type != GRAFT_CONFIG_STRING &&
	    s->type != GRAFT_CONFIG_ADDRESS_LIST) {
		what = "no value";
		rv = GRAFT_ECONFIG;
	} else {
		rv = parse_typed(s, text, out, &what, why);
	}
	if (rv == GRAFT_OK)
		return GRAFT_OK;
	if (what != NULL) {
		config_allowed(s, allowed, sizeof allowed);
		graft_errf(why, rv, "%s; %s", what, allowed);
	}
	config_value_free(out);
	return rv;
}

void config_value_free(struct config_value *v)
{
	free(v->text);
	v->text = NULL;
}

bool config_value_equal(const struct graft_setting *s,
			const struct config_value *a,
			const struct config_value *b)
{
	if (a->text == NULL || b->text == NULL)
		return a->text == b->text;
	switch (s->type) {
	case GRAFT_CONFIG_BOOL:
		return a->v.b == b->v.b;
	case GRAFT_CONFIG_INT:
		return a->v.i == b->v.i;
	case GRAFT_CONFIG_SIZE:
	case GRAFT_CONFIG_DURATION:
		return a->v.u == b->v.u;
	case GRAFT_CONFIG_DURATION_RANGE:
		return a->v.range.lo == b->v.range.lo &&
		       a->v.range.hi == b->v.range.hi;
	case GRAFT_CONFIG_RETENTION:
		return a->v.retention.kind == b->v.retention.kind &&
		       a->v.retention.amount == b->v.retention.amount &&
		       a->v.retention.size_cap == b->v.retention.size_cap;
	case GRAFT_CONFIG_ADDRESS:
	case GRAFT_CONFIG_HOST:
		return strcasecmp(a->v.addr.host, b->v.addr.host) == 0 &&
		       a->v.addr.port == b->v.addr.port;
	default:
		return strcmp(a->text, b->text) == 0;
	}
}
