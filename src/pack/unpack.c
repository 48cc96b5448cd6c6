/* PackStream decoder. Input is untrusted: every read is bounds-checked, a
 * container's claimed size must fit in the bytes left (each item takes at
 * least one byte, each map entry two) before anything is allocated, and
 * recursion stops at PACK_MAX_DEPTH. */
#include "pack.h"

#include <stdlib.h>
#include <string.h>

#include "../util/err.h"

#define NANOS 1000000000LL
#define DAY_NANOS (86400LL * NANOS)
#define MAX_OFFSET (18 * 3600) /* seconds; as java.time.ZoneOffset */

void pack_reader_init(struct pack_reader *r, const void *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->pos = 0;
}

static int truncated(const struct pack_reader *r, char *errmsg)
{
	return graft_errf(errmsg, GRAFT_ECORRUPT,
			  "PackStream data ends early at byte %zu of %zu",
			  r->pos, r->len);
}

/* Reads an n-byte big-endian unsigned number. */
static int read_be(struct pack_reader *r, unsigned n, uint64_t *out,
		   char *errmsg)
{
	uint64_t v = 0;

	if (r->len - r->pos < n)
		return truncated(r, errmsg);
	for (unsigned i = 0; i < n; i++)
		v = v << 8 | r->p[r->pos++];
	*out = v;
	return GRAFT_OK;
}

static int read_marker(struct pack_reader *r, uint8_t *m, char *errmsg)
{
	if (r->pos >= r->len)
		return truncated(r, errmsg);
	*m = r->p[r->pos++];
	return GRAFT_OK;
}

/* A size after marker m: tiny (low nibble) when m is in the tiny range
 * [tiny, tiny + 15], else 8, 16 or 32 bits after markers m8, m8+1, m8+2.
 * The size must leave at least size * unit bytes unread. */
static int read_size(struct pack_reader *r, uint8_t m, uint8_t tiny,
		     uint8_t m8, size_t unit, uint32_t *out, char *errmsg)
{
	uint64_t n;
	int rv = GRAFT_OK;

	if (tiny != 0 && (m & 0xF0) == tiny)
		n = m & 0x0F;
	else
		rv = read_be(r, 1u << (m - m8), &n, errmsg);
	if (rv != GRAFT_OK)
		return rv;
	if (n > (r->len - r->pos) / unit)
		return graft_errf(errmsg, GRAFT_ECORRUPT,
				  "PackStream size %llu at byte %zu is larger "
				  "than the %zu bytes left",
				  (unsigned long long)n, r->pos,
				  r->len - r->pos);
	*out = (uint32_t)n;
	return GRAFT_OK;
}

static int read_int(struct pack_reader *r, uint8_t m, struct graft_value *out,
		    char *errmsg)
{
	unsigned bytes = 1u << (m - 0xC8);
	uint64_t u;
	int rv = read_be(r, bytes, &u, errmsg);

	if (rv != GRAFT_OK)
		return rv;
	/* Sign-extend from the field's width. */
	if (bytes < 8 && (u >> (8 * bytes - 1)) != 0)
		u |= ~0ULL << (8 * bytes);
	*out = graft_value_int((int64_t)u);
	return GRAFT_OK;
}

static int read_float(struct pack_reader *r, struct graft_value *out,
		      char *errmsg)
{
	uint64_t u;
	double d;
	int rv = read_be(r, 8, &u, errmsg);

	if (rv != GRAFT_OK)
		return rv;
	memcpy(&d, &u, sizeof d);
	*out = graft_value_float(d);
	return GRAFT_OK;
}

/* PackStream strings are UTF-8: one that is not would be stored and then
 * break (or be silently altered by) the drivers that read it back. */
static int not_utf8(size_t at, char *errmsg)
{
	return graft_errf(errmsg, GRAFT_ECORRUPT,
			  "PackStream string at byte %zu is not valid UTF-8",
			  at);
}

static int read_blob(struct pack_reader *r, uint8_t m, uint8_t tiny,
		     uint8_t m8, uint8_t type, struct graft_value *out,
		     char *errmsg)
{
	uint32_t n;
	int rv = read_size(r, m, tiny, m8, 1, &n, errmsg);

	if (rv != GRAFT_OK)
		return rv;
	if (type == GRAFT_VALUE_STRING && !graft_utf8_valid(r->p + r->pos, n))
		return not_utf8(r->pos, errmsg);
	if (type == GRAFT_VALUE_STRING)
		rv = graft_value_string(out, (const char *)r->p + r->pos, n);
	else
		rv = graft_value_bytes(out, r->p + r->pos, n);
	r->pos += n;
	return rv;
}

static int read_value(struct pack_reader *r, struct graft_value *out,
		      unsigned depth, char *errmsg);

static int read_list(struct pack_reader *r, uint8_t m, struct graft_value *out,
		     unsigned depth, char *errmsg)
{
	uint32_t n;
	int rv = read_size(r, m, 0x90, 0xD4, 1, &n, errmsg);

	if (rv == GRAFT_OK)
		rv = graft_value_list(out, n);
	for (uint32_t i = 0; rv == GRAFT_OK && i < n; i++)
		rv = read_value(r, &out->u.list->items[i], depth + 1, errmsg);
	return rv;
}

static int read_key(struct pack_reader *r, struct graft_str **key,
		    char *errmsg)
{
	size_t at = r->pos;
	uint8_t m = 0;
	uint32_t n;
	int rv = read_marker(r, &m, errmsg);

	if (rv != GRAFT_OK)
		return rv;
	if ((m & 0xF0) != 0x80 && (m < 0xD0 || m > 0xD2))
		return graft_errf(errmsg, GRAFT_ECORRUPT,
				  "PackStream map key at byte %zu is not a "
				  "string (marker 0x%02X)",
				  at, m);
	rv = read_size(r, m, 0x80, 0xD0, 1, &n, errmsg);
	if (rv != GRAFT_OK)
		return rv;
	if (!graft_utf8_valid(r->p + r->pos, n))
		return not_utf8(r->pos, errmsg);
	*key = graft_str_new(r->p + r->pos, n);
	r->pos += n;
	return *key == NULL ? GRAFT_ENOMEM : GRAFT_OK;
}

static int read_map(struct pack_reader *r, uint8_t m, struct graft_value *out,
		    unsigned depth, char *errmsg)
{
	struct graft_map_entry *e;
	uint32_t n;
	int rv = read_size(r, m, 0xA0, 0xD8, 2, &n, errmsg);

	if (rv == GRAFT_OK)
		rv = graft_value_map(out, n);
	for (uint32_t i = 0; rv == GRAFT_OK && i < n; i++) {
		e = &out->u.map->entries[i];
		rv = read_key(r, &e->key, errmsg);
		if (rv == GRAFT_OK)
			rv = read_value(r, &e->value, depth + 1, errmsg);
	}
	if (rv == GRAFT_OK)
		graft_map_sort(out->u.map);
	return rv;
}

/* Value structures: tag, value type and field kinds ('i' integer, 'f'
 * float, 's' string). */
struct struct_spec {
	uint8_t tag;
	uint8_t type;
	const char *fields;
	const char *name;
};

static const struct struct_spec struct_specs[] = {
	{PACK_TAG_DATE, GRAFT_VALUE_DATE, "i", "Date"},
	{PACK_TAG_TIME, GRAFT_VALUE_TIME, "ii", "Time"},
	{PACK_TAG_LOCALTIME, GRAFT_VALUE_LOCALTIME, "i", "LocalTime"},
	{PACK_TAG_DATETIME, GRAFT_VALUE_DATETIME, "iii", "DateTime"},
	{PACK_TAG_DATETIME_ZONE, GRAFT_VALUE_DATETIME, "iis", "DateTimeZoneId"},
	{PACK_TAG_DATETIME_LEGACY, GRAFT_VALUE_DATETIME, "iii",
	 "legacy DateTime"},
	{PACK_TAG_DATETIME_ZONE_LEGACY, GRAFT_VALUE_DATETIME, "iis",
	 "legacy DateTimeZoneId"},
	{PACK_TAG_LOCALDATETIME, GRAFT_VALUE_LOCALDATETIME, "ii",
	 "LocalDateTime"},
	{PACK_TAG_DURATION, GRAFT_VALUE_DURATION, "iiii", "Duration"},
	{PACK_TAG_POINT2D, GRAFT_VALUE_POINT, "iff", "Point2D"},
	{PACK_TAG_POINT3D, GRAFT_VALUE_POINT, "ifff", "Point3D"},
};

static const struct struct_spec *find_spec(uint8_t tag)
{
	for (size_t i = 0; i < sizeof struct_specs / sizeof *struct_specs; i++)
		if (struct_specs[i].tag == tag)
			return &struct_specs[i];
	return NULL;
}

static bool field_fits(char kind, const struct graft_value *v)
{
	switch (kind) {
	case 'i':
		return v->type == GRAFT_VALUE_INT;
	case 'f':
		return v->type == GRAFT_VALUE_FLOAT ||
		       v->type == GRAFT_VALUE_INT;
	default:
		return v->type == GRAFT_VALUE_STRING;
	}
}

static double as_float(const struct graft_value *v)
{
	return v->type == GRAFT_VALUE_INT ? (double)v->u.i : v->u.f;
}

/* Floor division and its remainder, for negative nanosecond counts. */
static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t floor_mod(int64_t a, int64_t b)
{
	return a - floor_div(a, b) * b;
}

static bool split_day_nanos(struct graft_ext *x, int64_t n)
{
	x->secs = n / NANOS;
	x->nanos = (int32_t)(n % NANOS);
	return n >= 0 && n < DAY_NANOS;
}

static bool set_nanos(struct graft_ext *x, int64_t n)
{
	x->nanos = (int32_t)n;
	return n >= 0 && n < NANOS;
}

static bool set_offset(struct graft_ext *x, int64_t off)
{
	x->offset = (int32_t)off;
	return off >= -MAX_OFFSET && off <= MAX_OFFSET;
}

static bool set_days(struct graft_ext *x, int64_t days)
{
	x->days = days;
	return days >= GRAFT_DATE_DAYS_MIN && days <= GRAFT_DATE_DAYS_MAX;
}

/* Seconds since the epoch of a local date-time, or of an instant whose
 * offset (up to MAX_OFFSET) is not known here, within the supported
 * dates. */
static bool set_epoch_secs(struct graft_ext *x, int64_t secs, int64_t slack)
{
	x->secs = secs;
	return secs >= GRAFT_DATE_DAYS_MIN * GRAFT_DAY_SECS - slack &&
	       secs < (GRAFT_DATE_DAYS_MAX + 1) * GRAFT_DAY_SECS + slack;
}

/* Fills x from checked fields f; false if a field is out of range. A zone
 * id's offset is left 0: PackStream does not carry it and this layer has no
 * time-zone database. */
static bool fill_ext(struct graft_ext *x, uint8_t tag,
		     const struct graft_value *f)
{
	switch (tag) {
	case PACK_TAG_DATE:
		return set_days(x, f[0].u.i);
	case PACK_TAG_LOCALTIME:
		return split_day_nanos(x, f[0].u.i);
	case PACK_TAG_TIME:
		return split_day_nanos(x, f[0].u.i) && set_offset(x, f[1].u.i);
	case PACK_TAG_LOCALDATETIME:
		return set_epoch_secs(x, f[0].u.i, 0) && set_nanos(x, f[1].u.i);
	case PACK_TAG_DATETIME_ZONE:
	case PACK_TAG_DATETIME_ZONE_LEGACY:
		return set_epoch_secs(x, f[0].u.i, MAX_OFFSET) &&
		       set_nanos(x, f[1].u.i);
	case PACK_TAG_DATETIME:
		return set_epoch_secs(x, f[0].u.i, MAX_OFFSET) &&
		       set_nanos(x, f[1].u.i) && set_offset(x, f[2].u.i);
	case PACK_TAG_DATETIME_LEGACY:
		/* local seconds, then the instant */
		if (!set_epoch_secs(x, f[0].u.i, 0) || !set_nanos(x, f[1].u.i) ||
		    !set_offset(x, f[2].u.i))
			return false;
		x->secs = f[0].u.i - f[2].u.i;
		return true;
	case PACK_TAG_DURATION:
		x->months = f[0].u.i;
		x->days = f[1].u.i;
		x->nanos = (int32_t)floor_mod(f[3].u.i, NANOS);
		return !__builtin_add_overflow(f[2].u.i,
					       floor_div(f[3].u.i, NANOS),
					       &x->secs);
	default: /* points */
		if (f[0].u.i < 0 || f[0].u.i > UINT32_MAX)
			return false;
		x->srid = (uint32_t)f[0].u.i;
		x->dims = tag == PACK_TAG_POINT3D ? 3 : 2;
		x->x = as_float(&f[1]);
		x->y = as_float(&f[2]);
		x->z = x->dims == 3 ? as_float(&f[3]) : 0;
		return true;
	}
}

static int build_ext(const struct struct_spec *s, struct graft_value *f,
		     struct graft_value *out, size_t at, char *errmsg)
{
	int rv = graft_value_ext(out, s->type);

	if (rv != GRAFT_OK)
		return rv;
	if (!fill_ext(out->u.x, s->tag, f)) {
		graft_value_free(out);
		return graft_errf(errmsg, GRAFT_ECORRUPT,
				  "PackStream %s at byte %zu has a field out "
				  "of range (dates run from year -999999999 to "
				  "+999999999, offsets to 18 hours, nanoseconds "
				  "to 999999999)",
				  s->name, at);
	}
	if (strchr(s->fields, 's') != NULL) {
		/* The zone id is the last field; ownership moves to out. */
		out->u.x->zone = f[2].u.s;
		f[2] = graft_value_null();
	}
	return GRAFT_OK;
}

static int read_struct(struct pack_reader *r, uint8_t m,
		       struct graft_value *out, unsigned depth, char *errmsg)
{
	size_t at = r->pos - 1;
	struct graft_value f[15];
	const struct struct_spec *s;
	unsigned n = m & 0x0F, i;
	uint64_t tag;
	int rv = read_be(r, 1, &tag, errmsg);

	if (rv != GRAFT_OK)
		return rv;
	s = find_spec((uint8_t)tag);
	if (s == NULL)
		return graft_errf(errmsg, GRAFT_EINVAL,
				  "PackStream structure 0x%02X at byte %zu "
				  "cannot be a value here (nodes, relationships "
				  "and paths cannot be parameters)",
				  (unsigned)tag, at);
	if (n != strlen(s->fields))
		return graft_errf(errmsg, GRAFT_ECORRUPT,
				  "PackStream %s at byte %zu has %u fields, "
				  "not %zu",
				  s->name, at, n, strlen(s->fields));
	for (i = 0; i < n; i++)
		f[i] = graft_value_null();
	for (i = 0; rv == GRAFT_OK && i < n; i++) {
		rv = read_value(r, &f[i], depth + 1, errmsg);
		if (rv == GRAFT_OK && !field_fits(s->fields[i], &f[i]))
			rv = graft_errf(errmsg, GRAFT_ECORRUPT,
					"PackStream %s at byte %zu: field %u "
					"has the wrong type",
					s->name, at, i + 1);
	}
	if (rv == GRAFT_OK)
		rv = build_ext(s, f, out, at, errmsg);
	for (i = 0; i < n; i++)
		graft_value_free(&f[i]);
	return rv;
}

static int read_value(struct pack_reader *r, struct graft_value *out,
		      unsigned depth, char *errmsg)
{
	uint8_t m = 0;
	int rv;

	*out = graft_value_null();
	if (depth > PACK_MAX_DEPTH)
		return graft_errf(errmsg, GRAFT_ETOOBIG,
				  "PackStream nesting deeper than %d at byte "
				  "%zu",
				  PACK_MAX_DEPTH, r->pos);
	rv = read_marker(r, &m, errmsg);
	if (rv != GRAFT_OK)
		return rv;
	if (m <= 0x7F || m >= 0xF0) {
		*out = graft_value_int((int8_t)m);
		return GRAFT_OK;
	}
	switch (m & 0xF0) {
	case 0x80:
		return read_blob(r, m, 0x80, 0xD0, GRAFT_VALUE_STRING, out,
				 errmsg);
	case 0x90:
		rv = read_list(r, m, out, depth, errmsg);
		goto container;
	case 0xA0:
		rv = read_map(r, m, out, depth, errmsg);
		goto container;
	case 0xB0:
		return read_struct(r, m, out, depth, errmsg);
	}
	switch (m) {
	case 0xC0:
		return GRAFT_OK;
	case 0xC1:
		return read_float(r, out, errmsg);
	case 0xC2:
	case 0xC3:
		*out = graft_value_bool(m == 0xC3);
		return GRAFT_OK;
	case 0xC8: case 0xC9: case 0xCA: case 0xCB:
		return read_int(r, m, out, errmsg);
	case 0xCC: case 0xCD: case 0xCE:
		return read_blob(r, m, 0, 0xCC, GRAFT_VALUE_BYTES, out, errmsg);
	case 0xD0: case 0xD1: case 0xD2:
		return read_blob(r, m, 0x80, 0xD0, GRAFT_VALUE_STRING, out,
				 errmsg);
	case 0xD4: case 0xD5: case 0xD6:
		rv = read_list(r, m, out, depth, errmsg);
		goto container;
	case 0xD8: case 0xD9: case 0xDA:
		rv = read_map(r, m, out, depth, errmsg);
		goto container;
	default:
		return graft_errf(errmsg, GRAFT_ECORRUPT,
				  "unknown PackStream marker 0x%02X at byte %zu",
				  m, r->pos - 1);
	}
container:
	if (rv != GRAFT_OK)
		graft_value_free(out);
	return rv;
}

int pack_read_value(struct pack_reader *r, struct graft_value *out,
		    char *errmsg)
{
	return read_value(r, out, 0, errmsg);
}

int pack_read_struct_header(struct pack_reader *r, unsigned *fields,
			    uint8_t *tag, char *errmsg)
{
	uint8_t m = 0;
	uint64_t t;
	int rv = read_marker(r, &m, errmsg);

	if (rv != GRAFT_OK)
		return rv;
	if ((m & 0xF0) != 0xB0)
		return graft_errf(errmsg, GRAFT_ECORRUPT,
				  "expected a PackStream structure at byte %zu, "
				  "found marker 0x%02X",
				  r->pos - 1, m);
	rv = read_be(r, 1, &t, errmsg);
	if (rv != GRAFT_OK)
		return rv;
	*fields = m & 0x0F;
	*tag = (uint8_t)t;
	return GRAFT_OK;
}
