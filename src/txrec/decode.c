/* Decoding records and values from untrusted bytes.
 *
 * A small bounds-checked msgpack reader rather than msgpack-c's unpacker:
 * msgpack_unpack allocates count * sizeof(msgpack_object) for an array or
 * map header before checking that the data is there, so five bytes can ask
 * for gigabytes. Here every length is checked against the bytes that remain
 * before anything is allocated, containers grow as their elements actually
 * parse (so memory stays proportional to the input), nesting stops at
 * TXREC_MAX_DEPTH, every field is type-checked, and any problem is
 * GRAFT_ECORRUPT with a message naming the field and byte offset. */
#include "txrec.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/check.h"
#include "../util/err.h"
#include "txrec_int.h"

struct mp {
	const uint8_t *start, *p, *end;
	size_t at;     /* offset of the element being read, for messages */
	char why[160]; /* what is wrong with it, once something is */
};

static int mp_fail(struct mp *m, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int mp_fail(struct mp *m, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m->why, sizeof m->why, fmt, ap);
	va_end(ap);
	return GRAFT_ECORRUPT;
}

static const char *kind_of(const struct mp *m)
{
	uint8_t b;

	if (m->p == m->end)
		return "the end of the data";
	b = *m->p;
	if (b <= 0x7f || b >= 0xe0 || (b >= 0xcc && b <= 0xd3))
		return "an integer";
	if (b <= 0x8f || b == 0xde || b == 0xdf)
		return "a map";
	if (b <= 0x9f || b == 0xdc || b == 0xdd)
		return "an array";
	if (b <= 0xbf || (b >= 0xd9 && b <= 0xdb))
		return "a string";
	if (b == 0xc0)
		return "nil";
	if (b == 0xc2 || b == 0xc3)
		return "a boolean";
	if (b == 0xca || b == 0xcb)
		return "a float";
	if (b >= 0xc4 && b <= 0xc6)
		return "bytes";
	if (b == 0xc1)
		return "the unused byte 0xc1";
	return "an extension type";
}

static int mp_unexpected(struct mp *m, const char *expected)
{
	return mp_fail(m, "expected %s, found %s", expected, kind_of(m));
}

static uint64_t get_be(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* Consumes a marker byte and an n-byte big-endian argument. */
static int take(struct mp *m, unsigned n, uint64_t *arg)
{
	if ((size_t)(m->end - m->p) < 1 + (size_t)n)
		return mp_fail(m, "truncated: %s needs %u more bytes, %zu "
			       "remain", kind_of(m), 1 + n,
			       (size_t)(m->end - m->p));
	*arg = get_be(m->p + 1, n);
	m->p += 1 + n;
	return GRAFT_OK;
}

static void mp_begin(struct mp *m)
{
	m->at = (size_t)(m->p - m->start);
}

/* Reads any integer msgpack form as a sign and magnitude. */
static int read_integer(struct mp *m, bool *neg, uint64_t *mag)
{
	uint8_t b;
	uint64_t a;
	int rv;

	mp_begin(m);
	if (m->p == m->end)
		return mp_unexpected(m, "an integer");
	b = *m->p;
	*neg = false;
	if (b <= 0x7f || b >= 0xe0) {
		m->p++;
		*neg = b >= 0xe0;
		*mag = *neg ? (uint64_t)(-(int64_t)(int8_t)b) : b;
		return GRAFT_OK;
	}
	if (b < 0xcc || b > 0xd3)
		return mp_unexpected(m, "an integer");
	rv = take(m, 1u << ((b - 0xcc) & 3), &a);
	if (rv != GRAFT_OK)
		return rv;
	if (b <= 0xcf) {
		*mag = a;
		return GRAFT_OK;
	}
	/* int8..int64: sign-extend from the width just read. */
	unsigned bits = 8u << ((b - 0xd0) & 3);
	if (bits < 64 && (a >> (bits - 1)) & 1)
		a |= ~(uint64_t)0 << bits;
	*neg = (int64_t)a < 0;
	*mag = *neg ? (uint64_t)0 - a : a;
	return GRAFT_OK;
}

static int read_uint(struct mp *m, uint64_t *out)
{
	bool neg;
	int rv = read_integer(m, &neg, out);

	if (rv == GRAFT_OK && neg)
		return mp_fail(m, "expected an unsigned integer, found -%llu",
			       (unsigned long long)*out);
	return rv;
}

static int read_int(struct mp *m, int64_t *out)
{
	uint64_t mag;
	bool neg;
	int rv = read_integer(m, &neg, &mag);

	if (rv != GRAFT_OK)
		return rv;
	if (mag > (uint64_t)INT64_MAX + neg)
		return mp_fail(m, "integer %s%llu is out of the 64-bit range",
			       neg ? "-" : "", (unsigned long long)mag);
	*out = neg ? (int64_t)((uint64_t)0 - mag) : (int64_t)mag;
	return GRAFT_OK;
}

/* A header: fix form when b & ~fix_mask == fix_base, else 8/16/32-bit forms
 * at codes c8 (0 when absent), c16, c32. */
static int read_header(struct mp *m, const char *what, uint8_t fix_base,
		       uint8_t fix_mask, uint8_t c8, uint8_t c16, uint8_t c32,
		       uint32_t *n)
{
	uint64_t a = 0;
	uint8_t b;
	int rv;

	mp_begin(m);
	if (m->p == m->end)
		return mp_unexpected(m, what);
	b = *m->p;
	if ((b & (uint8_t)~fix_mask) == fix_base) {
		m->p++;
		*n = b & fix_mask;
		return GRAFT_OK;
	}
	if (c8 != 0 && b == c8)
		rv = take(m, 1, &a);
	else if (b == c16)
		rv = take(m, 2, &a);
	else if (b == c32)
		rv = take(m, 4, &a);
	else
		return mp_unexpected(m, what);
	if (rv == GRAFT_OK)
		*n = (uint32_t)a;
	return rv;
}

/* Counts are bounded by the bytes left: every element takes at least one. */
static int read_array(struct mp *m, uint32_t *n)
{
	int rv = read_header(m, "an array", 0x90, 0x0f, 0, 0xdc, 0xdd, n);

	if (rv == GRAFT_OK && *n > (size_t)(m->end - m->p))
		return mp_fail(m, "array of %u elements with only %zu bytes "
			       "left", *n, (size_t)(m->end - m->p));
	return rv;
}

static int read_map(struct mp *m, uint32_t *n)
{
	int rv = read_header(m, "a map", 0x80, 0x0f, 0, 0xde, 0xdf, n);

	if (rv == GRAFT_OK && 2 * (uint64_t)*n > (size_t)(m->end - m->p))
		return mp_fail(m, "map of %u entries with only %zu bytes left",
			       *n, (size_t)(m->end - m->p));
	return rv;
}

static int read_body(struct mp *m, uint32_t n, const uint8_t **p)
{
	if (n > (size_t)(m->end - m->p))
		return mp_fail(m, "truncated: %u bytes announced, %zu remain",
			       n, (size_t)(m->end - m->p));
	*p = m->p;
	m->p += n;
	return GRAFT_OK;
}

static int read_str(struct mp *m, const uint8_t **p, uint32_t *n)
{
	int rv = read_header(m, "a string", 0xa0, 0x1f, 0xd9, 0xda, 0xdb, n);

	return rv == GRAFT_OK ? read_body(m, *n, p) : rv;
}

static int read_new_str(struct mp *m, struct graft_str **out)
{
	const uint8_t *p = NULL;
	uint32_t n;
	int rv = read_str(m, &p, &n);

	if (rv != GRAFT_OK)
		return rv;
	*out = graft_str_new(p, n);
	return *out == NULL ? GRAFT_ENOMEM : GRAFT_OK;
}

static int read_value(struct mp *m, unsigned depth, struct graft_value *v);

/* Makes room for element n of an array announced to hold total: the
 * capacity doubles (from 8) as elements actually parse, never beyond
 * total, so that memory follows the bytes read rather than the count. */
static int grow(void **items, size_t n, size_t *cap, size_t total, size_t sz)
{
	size_t c;
	void *p;

	if (n < *cap)
		return GRAFT_OK;
	c = *cap ? *cap * 2 : 8;
	if (c > total)
		c = total;
	p = realloc(*items, c * sz);
	if (p == NULL)
		return GRAFT_ENOMEM;
	*items = p;
	*cap = c;
	return GRAFT_OK;
}

/* On failure v stays a valid value holding what was decoded so far. */
static int read_list(struct mp *m, unsigned depth, uint32_t n,
		     struct graft_value *v)
{
	size_t cap = n < 8 ? n : 8;
	struct graft_list *l;
	int rv = graft_value_list(v, (uint32_t)cap);

	if (rv != GRAFT_OK)
		return rv;
	l = v->u.list;
	l->len = 0; /* counted as the items parse */
	while (rv == GRAFT_OK && l->len < n) {
		rv = grow((void **)&l->items, l->len, &cap, n,
			  sizeof *l->items);
		if (rv != GRAFT_OK)
			break;
		l->items[l->len] = graft_value_null();
		rv = read_value(m, depth + 1, &l->items[l->len++]);
	}
	return rv;
}

static int read_map_value(struct mp *m, unsigned depth, uint32_t n,
			  struct graft_value *v)
{
	size_t cap = n < 8 ? n : 8;
	struct graft_map *map;
	int rv = graft_value_map(v, (uint32_t)cap);

	if (rv != GRAFT_OK)
		return rv;
	map = v->u.map;
	map->len = 0; /* counted as the entries parse */
	while (rv == GRAFT_OK && map->len < n) {
		struct graft_map_entry *e;

		rv = grow((void **)&map->entries, map->len, &cap, n,
			  sizeof *map->entries);
		if (rv != GRAFT_OK)
			break;
		e = &map->entries[map->len++];
		e->key = NULL;
		e->value = graft_value_null();
		rv = read_new_str(m, &e->key);
		if (rv == GRAFT_ECORRUPT) {
			char why[sizeof m->why];
			memcpy(why, m->why, sizeof why);
			mp_fail(m, "map key: %s", why);
		}
		if (rv == GRAFT_OK)
			rv = read_value(m, depth + 1, &e->value);
	}
	if (rv == GRAFT_OK)
		graft_map_sort(map);
	return rv;
}

/* Body of an extension type: the layouts encode.c's pack_ext writes. */
static int read_ext_body(struct mp *m, int8_t code, const uint8_t *p,
			 uint32_t n, struct graft_value *v)
{
	static const uint32_t sizes[] = {8, 12, 16, 12, 16, 28, 32};
	uint8_t type = (uint8_t)(GRAFT_VALUE_DATE + code - TXREC_EXT_BASE);
	struct graft_ext *x;
	uint64_t b;
	int rv;

	if (code < TXREC_EXT_BASE || type > GRAFT_VALUE_POINT)
		return mp_fail(m, "unknown extension type %d", code);
	if (n < sizes[type - GRAFT_VALUE_DATE] ||
	    (type != GRAFT_VALUE_DATETIME && n != sizes[type - GRAFT_VALUE_DATE]))
		return mp_fail(m, "extension type %d of %u bytes", code, n);
	rv = graft_value_ext(v, type);
	if (rv != GRAFT_OK)
		return rv;
	x = v->u.x;
	switch (type) {
	case GRAFT_VALUE_DATE:
		x->days = (int64_t)get_be(p, 8);
		return GRAFT_OK;
	case GRAFT_VALUE_DURATION:
		x->months = (int64_t)get_be(p, 8);
		x->days = (int64_t)get_be(p + 8, 8);
		x->secs = (int64_t)get_be(p + 16, 8);
		x->nanos = (int32_t)get_be(p + 24, 4);
		break;
	case GRAFT_VALUE_POINT:
		x->srid = (uint32_t)get_be(p, 4);
		x->dims = (uint32_t)get_be(p + 4, 4);
		b = get_be(p + 8, 8);
		memcpy(&x->x, &b, sizeof b);
		b = get_be(p + 16, 8);
		memcpy(&x->y, &b, sizeof b);
		b = get_be(p + 24, 8);
		memcpy(&x->z, &b, sizeof b);
		if (x->dims != 2 && x->dims != 3)
			return mp_fail(m, "a point of %u dimensions", x->dims);
		return GRAFT_OK;
	default:
		x->secs = (int64_t)get_be(p, 8);
		x->nanos = (int32_t)get_be(p + 8, 4);
		if (type == GRAFT_VALUE_TIME || type == GRAFT_VALUE_DATETIME)
			x->offset = (int32_t)get_be(p + 12, 4);
		if (n > 16) {
			x->zone = graft_str_new(p + 16, n - 16);
			if (x->zone == NULL)
				return GRAFT_ENOMEM;
		}
		break;
	}
	if (x->nanos < 0 || x->nanos > 999999999)
		return mp_fail(m, "%d nanoseconds", x->nanos);
	if (x->offset < -18 * 3600 || x->offset > 18 * 3600)
		return mp_fail(m, "a zone offset of %d seconds", x->offset);
	if ((type == GRAFT_VALUE_LOCALTIME || type == GRAFT_VALUE_TIME) &&
	    (x->secs < 0 || x->secs >= 86400))
		return mp_fail(m, "a time of day of %lld seconds",
			       (long long)x->secs);
	return GRAFT_OK;
}

/* fixext 1..16 (d4..d8) and ext 8/16/32 (c7..c9): length, type, body. */
static int read_ext(struct mp *m, struct graft_value *v)
{
	uint8_t b = *m->p;
	const uint8_t *p = NULL;
	uint64_t n;
	int8_t code;
	int rv;

	if (b >= 0xd4) {
		n = 1u << (b - 0xd4);
		rv = take(m, 0, &(uint64_t){0});
	} else {
		rv = take(m, 1u << (b - 0xc7), &n);
	}
	if (rv == GRAFT_OK && m->p == m->end)
		rv = mp_fail(m, "truncated: an extension type without its "
			     "type byte");
	if (rv != GRAFT_OK)
		return rv;
	code = (int8_t)*m->p++;
	rv = read_body(m, (uint32_t)n, &p);
	return rv == GRAFT_OK ? read_ext_body(m, code, p, (uint32_t)n, v) : rv;
}

static int read_value(struct mp *m, unsigned depth, struct graft_value *v)
{
	const uint8_t *p = NULL;
	uint64_t a = 0;
	uint32_t n;
	uint8_t b;
	int rv;

	*v = graft_value_null();
	mp_begin(m);
	if (m->p == m->end)
		return mp_unexpected(m, "a value");
	b = *m->p;
	switch (b) {
	case 0xc0:
		m->p++;
		return GRAFT_OK;
	case 0xc2:
	case 0xc3:
		m->p++;
		*v = graft_value_bool(b == 0xc3);
		return GRAFT_OK;
	case 0xca: {
		float f;
		uint32_t u;
		rv = take(m, 4, &a);
		u = (uint32_t)a;
		memcpy(&f, &u, sizeof f);
		if (rv == GRAFT_OK)
			*v = graft_value_float(f);
		return rv;
	}
	case 0xcb: {
		double d;
		rv = take(m, 8, &a);
		memcpy(&d, &a, sizeof d);
		if (rv == GRAFT_OK)
			*v = graft_value_float(d);
		return rv;
	}
	case 0xc7:
	case 0xc8:
	case 0xc9:
	case 0xd4:
	case 0xd5:
	case 0xd6:
	case 0xd7:
	case 0xd8:
		return read_ext(m, v);
	case 0xc4:
	case 0xc5:
	case 0xc6:
		rv = take(m, 1u << (b - 0xc4), &a);
		if (rv == GRAFT_OK)
			rv = read_body(m, (uint32_t)a, &p);
		if (rv == GRAFT_OK)
			rv = graft_value_bytes(v, p, (uint32_t)a);
		return rv;
	default:
		break;
	}
	if ((b >= 0xa0 && b <= 0xbf) || (b >= 0xd9 && b <= 0xdb)) {
		rv = read_str(m, &p, &n);
		if (rv == GRAFT_OK)
			rv = graft_value_string(v, (const char *)p, n);
		return rv;
	}
	if ((b >= 0x80 && b <= 0x9f) || (b >= 0xdc && b <= 0xdf)) {
		if (depth >= TXREC_MAX_DEPTH)
			return mp_fail(m, "value nested deeper than %d levels",
				       TXREC_MAX_DEPTH);
		if ((b >= 0x90 && b <= 0x9f) || b == 0xdc || b == 0xdd) {
			rv = read_array(m, &n);
			return rv == GRAFT_OK ? read_list(m, depth, n, v) : rv;
		}
		rv = read_map(m, &n);
		return rv == GRAFT_OK ? read_map_value(m, depth, n, v) : rv;
	}
	if (b <= 0x7f || b >= 0xe0 || (b >= 0xcc && b <= 0xd3)) {
		int64_t i = 0;
		rv = read_int(m, &i);
		if (rv == GRAFT_OK)
			*v = graft_value_int(i);
		return rv;
	}
	return mp_unexpected(m, "a value");
}

int txrec_decode_value(const void *p, size_t n, size_t *used,
		       struct graft_value *out, char *errmsg)
{
	struct mp m = {.start = p, .p = p, .end = (const uint8_t *)p + n};
	int rv = read_value(&m, 0, out);

	if (rv != GRAFT_OK) {
		graft_value_free(out);
		if (rv == GRAFT_ECORRUPT)
			graft_errf(errmsg, rv, "value at byte %zu: %s", m.at,
				   m.why);
		return rv;
	}
	*used = (size_t)(m.p - m.start);
	return GRAFT_OK;
}

/* Record ----------------------------------------------------------------- */

static int rec_fail(struct mp *m, int rv, char *errmsg, const char *what)
{
	if (rv == GRAFT_ENOMEM)
		return rv;
	return graft_errf(errmsg, rv, "%s at byte %zu: %s", what, m->at,
			  m->why);
}

static int op_fail(struct mp *m, int rv, char *errmsg, size_t i,
		   const struct txrec_op_desc *d, const char *field)
{
	if (rv == GRAFT_ENOMEM)
		return rv;
	return graft_errf(errmsg, rv, "op %zu: %s: %s at byte %zu: %s", i,
			  d->name, field, m->at, m->why);
}

/* The field an op with w elements (w < its width) lacks first. */
static const char *missing_field(const struct txrec_op_desc *d, uint32_t w)
{
	static const unsigned order[] = {TXREC_F_ID, TXREC_F_NAME,
					 TXREC_F_ENDS, TXREC_F_ENDS,
					 TXREC_F_VALUE, TXREC_F_NAME2};
	static const char *const nouns[] = {"id", NULL, "source node",
					    "destination node", "value",
					    "property key"};
	uint32_t at = 1;
	unsigned k;

	for (k = 0; k < sizeof order / sizeof order[0]; k++)
		if ((d->fields & order[k]) && at++ >= w)
			break;
	GRAFT_CHECK(k < sizeof nouns / sizeof nouns[0]);
	return k == 1 ? d->name_what : nouns[k];
}

static int read_op(struct mp *m, size_t i, struct txrec_op *op, char *errmsg)
{
	const struct txrec_op_desc *d;
	uint64_t type;
	uint32_t w;
	unsigned f;
	int rv;

	rv = read_array(m, &w);
	if (rv == GRAFT_OK && w == 0)
		rv = mp_fail(m, "an op is an array starting with its type, "
			     "found an empty array");
	if (rv == GRAFT_OK)
		rv = read_uint(m, &type);
	if (rv != GRAFT_OK) {
		if (rv == GRAFT_ENOMEM)
			return rv;
		return graft_errf(errmsg, rv, "op %zu at byte %zu: %s", i,
				  m->at, m->why);
	}
	if (type < 1 || type > TXREC_OP_MAX)
		return graft_errf(errmsg, GRAFT_ECORRUPT,
				  "op %zu at byte %zu: unknown op type %llu", i,
				  m->at, (unsigned long long)type);
	op->type = (uint8_t)type;
	d = &txrec_op_descs[type];
	f = d->fields;
	if (w < txrec_op_width(f)) {
		const char *what = missing_field(d, w);
		return graft_errf(errmsg, GRAFT_ECORRUPT, "op %zu: %s without "
				  "%s %s", i, d->name,
				  strchr("aeiou", what[0]) ? "an" : "a", what);
	}
	if (w > txrec_op_width(f))
		return graft_errf(errmsg, GRAFT_ECORRUPT,
				  "op %zu: %s has %u fields where %u are "
				  "expected", i, d->name, w,
				  txrec_op_width(f));
	if ((f & TXREC_F_ID) && (rv = read_uint(m, &op->id)) != GRAFT_OK)
		return op_fail(m, rv, errmsg, i, d, "id");
	if ((f & TXREC_F_NAME) &&
	    (rv = read_new_str(m, &op->name)) != GRAFT_OK)
		return op_fail(m, rv, errmsg, i, d, d->name_what);
	if ((f & TXREC_F_ENDS) && (rv = read_uint(m, &op->src)) != GRAFT_OK)
		return op_fail(m, rv, errmsg, i, d, "source node");
	if ((f & TXREC_F_ENDS) && (rv = read_uint(m, &op->dst)) != GRAFT_OK)
		return op_fail(m, rv, errmsg, i, d, "destination node");
	if ((f & TXREC_F_VALUE) &&
	    (rv = read_value(m, 0, &op->value)) != GRAFT_OK)
		return op_fail(m, rv, errmsg, i, d, "value");
	if ((f & TXREC_F_NAME2) &&
	    (rv = read_new_str(m, &op->name2)) != GRAFT_OK)
		return op_fail(m, rv, errmsg, i, d, "property key");
	return GRAFT_OK;
}

static int read_reads(struct mp *m, struct txrec *r, char *errmsg)
{
	uint32_t n, w;
	int rv = read_array(m, &n);

	if (rv != GRAFT_OK)
		return rec_fail(m, rv, errmsg, "reads");
	for (uint32_t i = 0; i < n; i++) {
		uint64_t entity, id, version;

		rv = read_array(m, &w);
		if (rv == GRAFT_OK && w != 3)
			rv = mp_fail(m, "a read is [entity, id, version], "
				     "found %u elements", w);
		if (rv == GRAFT_OK)
			rv = read_uint(m, &entity);
		if (rv == GRAFT_OK && entity > TXREC_ENTITY_REL)
			rv = mp_fail(m, "unknown entity kind %llu",
				     (unsigned long long)entity);
		if (rv == GRAFT_OK)
			rv = read_uint(m, &id);
		if (rv == GRAFT_OK)
			rv = read_uint(m, &version);
		if (rv == GRAFT_OK)
			rv = txrec_add_read(r, (enum txrec_entity)entity, id,
					    version);
		if (rv == GRAFT_ENOMEM)
			return rv;
		if (rv != GRAFT_OK)
			return graft_errf(errmsg, rv, "read %u at byte %zu: %s",
					  i, m->at, m->why);
	}
	return GRAFT_OK;
}

static int read_ops(struct mp *m, struct txrec *r, char *errmsg)
{
	uint32_t n;
	int rv = read_array(m, &n);

	if (rv != GRAFT_OK)
		return rec_fail(m, rv, errmsg, "ops");
	for (uint32_t i = 0; i < n; i++) {
		struct txrec_op *op;

		rv = grow((void **)&r->ops, r->n_ops, &r->cap_ops, n,
			  sizeof *r->ops);
		if (rv != GRAFT_OK)
			return rv;
		/* Counted at once so that txrec_free releases a partial op. */
		op = &r->ops[r->n_ops++];
		memset(op, 0, sizeof *op);
		op->value = graft_value_null();
		rv = read_op(m, i, op, errmsg);
		if (rv != GRAFT_OK)
			return rv;
	}
	return GRAFT_OK;
}

int txrec_decode(const void *p, size_t n, struct txrec *r, char *errmsg)
{
	struct mp m = {.start = p, .p = p, .end = (const uint8_t *)p + n};
	uint64_t version;
	uint32_t w;
	int rv;

	txrec_init(r);
	rv = read_array(&m, &w);
	if (rv == GRAFT_OK && w != 5)
		rv = mp_fail(&m, "a record is an array of 5 elements, found %u",
			     w);
	if (rv != GRAFT_OK) {
		rec_fail(&m, rv, errmsg, "record");
		goto err;
	}
	rv = read_uint(&m, &version);
	if (rv == GRAFT_OK && version != TXREC_FORMAT_VERSION)
		rv = mp_fail(&m, "format version %llu is not supported (this "
			     "build reads version %d)",
			     (unsigned long long)version, TXREC_FORMAT_VERSION);
	if (rv != GRAFT_OK) {
		rec_fail(&m, rv, errmsg, "record version");
		goto err;
	}
	rv = read_new_str(&m, &r->db);
	if (rv != GRAFT_OK) {
		rec_fail(&m, rv, errmsg, "database name");
		goto err;
	}
	rv = read_int(&m, &r->commit_time_ms);
	if (rv != GRAFT_OK) {
		rec_fail(&m, rv, errmsg, "commit time");
		goto err;
	}
	rv = read_reads(&m, r, errmsg);
	if (rv == GRAFT_OK)
		rv = read_ops(&m, r, errmsg);
	if (rv == GRAFT_OK && m.p != m.end)
		rv = graft_errf(errmsg, GRAFT_ECORRUPT,
				"%zu trailing bytes after the record at byte "
				"%zu",
				(size_t)(m.end - m.p), (size_t)(m.p - m.start));
	if (rv != GRAFT_OK)
		goto err;
	return GRAFT_OK;

err:
	txrec_free(r);
	return rv;
}
