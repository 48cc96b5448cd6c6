/* PackStream encoder: every integer, size and float is big-endian on the
 * wire; sizes pick the smallest marker that fits. */
#include "pack.h"

#include <string.h>

#include "../util/err.h"

static int put_be(struct graft_buf *b, uint8_t marker, uint64_t v,
		  unsigned bytes)
{
	uint8_t tmp[9];

	tmp[0] = marker;
	for (unsigned i = 0; i < bytes; i++)
		tmp[1 + i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
	return graft_buf_append(b, tmp, 1 + bytes);
}

int pack_null(struct graft_buf *b)
{
	return put_be(b, 0xC0, 0, 0);
}

int pack_bool(struct graft_buf *b, bool v)
{
	return put_be(b, v ? 0xC3 : 0xC2, 0, 0);
}

int pack_int(struct graft_buf *b, int64_t v)
{
	if (v >= -16 && v <= 127)
		return put_be(b, (uint8_t)v, 0, 0);
	if (v >= INT8_MIN && v <= INT8_MAX)
		return put_be(b, 0xC8, (uint64_t)v, 1);
	if (v >= INT16_MIN && v <= INT16_MAX)
		return put_be(b, 0xC9, (uint64_t)v, 2);
	if (v >= INT32_MIN && v <= INT32_MAX)
		return put_be(b, 0xCA, (uint64_t)v, 4);
	return put_be(b, 0xCB, (uint64_t)v, 8);
}

int pack_float(struct graft_buf *b, double v)
{
	uint64_t bits;

	memcpy(&bits, &v, sizeof bits);
	return put_be(b, 0xC1, bits, 8);
}

/* A size with a tiny form (tiny != 0: marker tiny | n for n < 16) and 8-,
 * 16- and 32-bit forms at markers m8, m8 + 1, m8 + 2. */
static int put_size(struct graft_buf *b, uint8_t tiny, uint8_t m8, size_t n)
{
	if (tiny != 0 && n < 16)
		return put_be(b, (uint8_t)(tiny | n), 0, 0);
	if (n <= UINT8_MAX)
		return put_be(b, m8, n, 1);
	if (n <= UINT16_MAX)
		return put_be(b, (uint8_t)(m8 + 1), n, 2);
	if (n <= UINT32_MAX)
		return put_be(b, (uint8_t)(m8 + 2), n, 4);
	return GRAFT_ETOOBIG;
}

static int put_sized(struct graft_buf *b, uint8_t tiny, uint8_t m8,
		     const void *p, size_t len)
{
	int rv = put_size(b, tiny, m8, len);

	return rv != GRAFT_OK ? rv : graft_buf_append(b, p, len);
}

int pack_string(struct graft_buf *b, const char *s, size_t len)
{
	return put_sized(b, 0x80, 0xD0, s, len);
}

int pack_cstring(struct graft_buf *b, const char *s)
{
	return pack_string(b, s, strlen(s));
}

int pack_bytes(struct graft_buf *b, const void *p, size_t len)
{
	return put_sized(b, 0, 0xCC, p, len);
}

int pack_list_header(struct graft_buf *b, size_t n)
{
	return put_size(b, 0x90, 0xD4, n);
}

int pack_map_header(struct graft_buf *b, size_t n)
{
	return put_size(b, 0xA0, 0xD8, n);
}

int pack_struct_header(struct graft_buf *b, unsigned fields, uint8_t tag)
{
	if (fields > 15)
		return GRAFT_ETOOBIG;
	return put_be(b, (uint8_t)(0xB0 | fields), tag, 1);
}

static int pack_str(struct graft_buf *b, const struct graft_str *s)
{
	return pack_string(b, s->data, s->len);
}

/* Nanoseconds since midnight, the wire form of times of day. */
static int64_t day_nanos(const struct graft_ext *x)
{
	return x->secs * 1000000000 + x->nanos;
}

static int pack_datetime(struct graft_buf *b, const struct graft_ext *x,
			 unsigned flags)
{
	bool utc = (flags & PACK_UTC_DATETIME) != 0;
	uint8_t tag;
	int rv;

	if (x->zone != NULL)
		tag = utc ? PACK_TAG_DATETIME_ZONE : PACK_TAG_DATETIME_ZONE_LEGACY;
	else
		tag = utc ? PACK_TAG_DATETIME : PACK_TAG_DATETIME_LEGACY;
	rv = pack_struct_header(b, 3, tag);
	if (rv == GRAFT_OK)
		rv = pack_int(b, utc ? x->secs : x->secs + x->offset);
	if (rv == GRAFT_OK)
		rv = pack_int(b, x->nanos);
	if (rv != GRAFT_OK)
		return rv;
	return x->zone != NULL ? pack_str(b, x->zone) : pack_int(b, x->offset);
}

static int pack_point(struct graft_buf *b, const struct graft_ext *x)
{
	int rv = pack_struct_header(b, x->dims == 3 ? 4 : 3,
				    x->dims == 3 ? PACK_TAG_POINT3D
						 : PACK_TAG_POINT2D);

	if (rv == GRAFT_OK)
		rv = pack_int(b, x->srid);
	if (rv == GRAFT_OK)
		rv = pack_float(b, x->x);
	if (rv == GRAFT_OK)
		rv = pack_float(b, x->y);
	if (rv == GRAFT_OK && x->dims == 3)
		rv = pack_float(b, x->z);
	return rv;
}

/* Structures whose fields are all integers: tag and up to four fields. */
static int pack_int_struct(struct graft_buf *b, uint8_t tag, unsigned n,
			   const int64_t *f)
{
	int rv = pack_struct_header(b, n, tag);

	for (unsigned i = 0; rv == GRAFT_OK && i < n; i++)
		rv = pack_int(b, f[i]);
	return rv;
}

static int pack_ext(struct graft_buf *b, const struct graft_value *v,
		    unsigned flags)
{
	const struct graft_ext *x = v->u.x;
	int64_t f[4];

	switch (v->type) {
	case GRAFT_VALUE_DATE:
		f[0] = x->days;
		return pack_int_struct(b, PACK_TAG_DATE, 1, f);
	case GRAFT_VALUE_LOCALTIME:
		f[0] = day_nanos(x);
		return pack_int_struct(b, PACK_TAG_LOCALTIME, 1, f);
	case GRAFT_VALUE_TIME:
		f[0] = day_nanos(x);
		f[1] = x->offset;
		return pack_int_struct(b, PACK_TAG_TIME, 2, f);
	case GRAFT_VALUE_LOCALDATETIME:
		f[0] = x->secs;
		f[1] = x->nanos;
		return pack_int_struct(b, PACK_TAG_LOCALDATETIME, 2, f);
	case GRAFT_VALUE_DATETIME:
		return pack_datetime(b, x, flags);
	case GRAFT_VALUE_DURATION:
		f[0] = x->months;
		f[1] = x->days;
		f[2] = x->secs;
		f[3] = x->nanos;
		return pack_int_struct(b, PACK_TAG_DURATION, 4, f);
	default:
		return pack_point(b, x);
	}
}

static int pack_list(struct graft_buf *b, const struct graft_list *l,
		     const struct pack_options *o)
{
	int rv = pack_list_header(b, l->len);

	for (uint32_t i = 0; rv == GRAFT_OK && i < l->len; i++)
		rv = pack_value(b, &l->items[i], o);
	return rv;
}

static int pack_map(struct graft_buf *b, const struct graft_map *m,
		    const struct pack_options *o)
{
	int rv = pack_map_header(b, m->len);

	for (uint32_t i = 0; rv == GRAFT_OK && i < m->len; i++) {
		rv = pack_str(b, m->entries[i].key);
		if (rv == GRAFT_OK)
			rv = pack_value(b, &m->entries[i].value, o);
	}
	return rv;
}

int pack_value(struct graft_buf *b, const struct graft_value *v,
	       const struct pack_options *o)
{
	switch (v->type) {
	case GRAFT_VALUE_NULL:
		return pack_null(b);
	case GRAFT_VALUE_BOOL:
		return pack_bool(b, v->u.b);
	case GRAFT_VALUE_INT:
		return pack_int(b, v->u.i);
	case GRAFT_VALUE_FLOAT:
		return pack_float(b, v->u.f);
	case GRAFT_VALUE_STRING:
		return pack_str(b, v->u.s);
	case GRAFT_VALUE_BYTES:
		return pack_bytes(b, v->u.s->data, v->u.s->len);
	case GRAFT_VALUE_LIST:
		return pack_list(b, v->u.list, o);
	case GRAFT_VALUE_MAP:
		return pack_map(b, v->u.map, o);
	case GRAFT_VALUE_NODE:
	case GRAFT_VALUE_REL:
	case GRAFT_VALUE_PATH:
		if (o == NULL || o->entity == NULL)
			return GRAFT_EINVAL;
		return o->entity(o->arg, b, v);
	default:
		if (!graft_value_is_ext(v->type))
			return GRAFT_EINVAL;
		return pack_ext(b, v, o != NULL ? o->flags : 0);
	}
}
