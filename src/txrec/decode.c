/* Decoding untrusted bytes. msgpack-c's unpacker allocates a container's
 * storage from its claimed element count before reading the elements, so a
 * few hostile bytes can ask for gigabytes; this reader walks the bytes
 * itself and allocates only after checking that the input can hold what a
 * header claims (every element takes at least one byte). */
#include <stdlib.h>
#include <string.h>

#include "../util/err.h"
#include "txrec.h"
#include "txrec_int.h"

#define MAX_DEPTH 32

struct reader {
	const uint8_t *p, *end;
	char *errmsg;
	const char *what; /* where we are, for messages */
};

static int bad(struct reader *r, const char *problem)
{
	return graft_errf(r->errmsg, GRAFT_ECORRUPT,
			  "corrupt transaction record: %s: %s", r->what, problem);
}

static int need(struct reader *r, size_t n)
{
	return (size_t)(r->end - r->p) >= n ? GRAFT_OK
					     : bad(r, "truncated");
}

static uint64_t be(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* Reads a big-endian length of n bytes (n = 0: none). */
static int read_len(struct reader *r, unsigned n, uint64_t *len)
{
	if (need(r, n) != GRAFT_OK)
		return GRAFT_ECORRUPT;
	*len = be(r->p, n);
	r->p += n;
	return GRAFT_OK;
}

/* Container header: array (is_map 0) or map (1). */
static int read_container(struct reader *r, int is_map, uint64_t *n)
{
	uint8_t b;

	if (need(r, 1) != GRAFT_OK)
		return GRAFT_ECORRUPT;
	b = *r->p++;
	if (!is_map && (b & 0xf0) == 0x90)
		*n = b & 0x0f;
	else if (is_map && (b & 0xf0) == 0x80)
		*n = b & 0x0f;
	else if (b == (is_map ? 0xde : 0xdc))
		return read_len(r, 2, n);
	else if (b == (is_map ? 0xdf : 0xdd))
		return read_len(r, 4, n);
	else
		return bad(r, is_map ? "expected a map" : "expected an array");
	return GRAFT_OK;
}

static int read_uint(struct reader *r, uint64_t *v)
{
	uint8_t b;

	if (need(r, 1) != GRAFT_OK)
		return GRAFT_ECORRUPT;
	b = *r->p++;
	if (b <= 0x7f) {
		*v = b;
		return GRAFT_OK;
	}
	if (b >= 0xcc && b <= 0xcf)
		return read_len(r, 1u << (b - 0xcc), v);
	return bad(r, "expected an unsigned integer");
}

static int read_int(struct reader *r, int64_t *v)
{
	uint8_t b;
	uint64_t u;
	unsigned n;

	if (need(r, 1) != GRAFT_OK)
		return GRAFT_ECORRUPT;
	b = *r->p;
	if (b <= 0x7f || (b >= 0xcc && b <= 0xcf)) {
		if (read_uint(r, &u) != GRAFT_OK)
			return GRAFT_ECORRUPT;
		if (u > INT64_MAX)
			return bad(r, "integer out of range");
		*v = (int64_t)u;
		return GRAFT_OK;
	}
	r->p++;
	if (b >= 0xe0) {
		*v = (int8_t)b;
		return GRAFT_OK;
	}
	if (b < 0xd0 || b > 0xd3)
		return bad(r, "expected an integer");
	n = 1u << (b - 0xd0);
	if (read_len(r, n, &u) != GRAFT_OK)
		return GRAFT_ECORRUPT;
	/* Sign-extend from n bytes. */
	*v = n == 8 ? (int64_t)u : (int64_t)(u << (64 - 8 * n)) >> (64 - 8 * n);
	return GRAFT_OK;
}

/* str (is_bin 0) or bin (1) header and body, borrowed from the input. */
static int read_raw(struct reader *r, int is_bin, const uint8_t **p,
		    uint64_t *n)
{
	uint8_t b;
	int rv = GRAFT_OK;

	if (need(r, 1) != GRAFT_OK)
		return GRAFT_ECORRUPT;
	b = *r->p++;
	if (!is_bin && (b & 0xe0) == 0xa0)
		*n = b & 0x1f;
	else if (b == (is_bin ? 0xc4 : 0xd9))
		rv = read_len(r, 1, n);
	else if (b == (is_bin ? 0xc5 : 0xda))
		rv = read_len(r, 2, n);
	else if (b == (is_bin ? 0xc6 : 0xdb))
		rv = read_len(r, 4, n);
	else
		return bad(r, is_bin ? "expected bytes" : "expected a string");
	if (rv != GRAFT_OK || need(r, *n) != GRAFT_OK)
		return GRAFT_ECORRUPT;
	*p = r->p;
	r->p += *n;
	return GRAFT_OK;
}

static int read_str(struct reader *r, struct graft_str **out)
{
	const uint8_t *p;
	uint64_t n;

	if (read_raw(r, 0, &p, &n) != GRAFT_OK)
		return GRAFT_ECORRUPT;
	*out = graft_str_new(p, n);
	return *out != NULL ? GRAFT_OK : GRAFT_ENOMEM;
}

static int read_value(struct reader *r, struct graft_value *v, int depth);

static int read_list(struct reader *r, struct graft_value *v, int depth)
{
	uint64_t n;
	int rv = read_container(r, 0, &n);

	if (rv != GRAFT_OK)
		return rv;
	if (n > (uint64_t)(r->end - r->p))
		return bad(r, "list longer than the record");
	rv = graft_value_list(v, (uint32_t)n);
	for (uint32_t i = 0; rv == GRAFT_OK && i < n; i++)
		rv = read_value(r, &v->u.list->items[i], depth + 1);
	return rv;
}

static int read_map(struct reader *r, struct graft_value *v, int depth)
{
	uint64_t n;
	int rv = read_container(r, 1, &n);

	if (rv != GRAFT_OK)
		return rv;
	if (n > (uint64_t)(r->end - r->p) / 2)
		return bad(r, "map longer than the record");
	rv = graft_value_map(v, (uint32_t)n);
	for (uint32_t i = 0; rv == GRAFT_OK && i < n; i++) {
		rv = read_str(r, &v->u.map->entries[i].key);
		if (rv == GRAFT_OK)
			rv = read_value(r, &v->u.map->entries[i].value,
					depth + 1);
	}
	if (rv == GRAFT_OK)
		graft_map_sort(v->u.map);
	return rv;
}

static int read_value(struct reader *r, struct graft_value *v, int depth)
{
	const uint8_t *p;
	uint64_t n, bits;
	uint8_t b;

	*v = graft_value_null();
	if (depth > MAX_DEPTH)
		return bad(r, "values nested too deeply");
	if (need(r, 1) != GRAFT_OK)
		return GRAFT_ECORRUPT;
	b = *r->p;
	if (b == 0xc0 || b == 0xc2 || b == 0xc3) {
		r->p++;
		if (b != 0xc0)
			*v = graft_value_bool(b == 0xc3);
		return GRAFT_OK;
	}
	if (b == 0xcb) {
		r->p++;
		if (read_len(r, 8, &bits) != GRAFT_OK)
			return GRAFT_ECORRUPT;
		v->type = GRAFT_VALUE_FLOAT;
		memcpy(&v->u.f, &bits, sizeof bits);
		return GRAFT_OK;
	}
	if (b <= 0x7f || b >= 0xe0 || (b >= 0xcc && b <= 0xd3)) {
		v->type = GRAFT_VALUE_INT;
		return read_int(r, &v->u.i);
	}
	if ((b & 0xe0) == 0xa0 || (b >= 0xd9 && b <= 0xdb)) {
		int rv = read_str(r, &v->u.s);
		if (rv == GRAFT_OK)
			v->type = GRAFT_VALUE_STRING;
		return rv;
	}
	if (b >= 0xc4 && b <= 0xc6) {
		if (read_raw(r, 1, &p, &n) != GRAFT_OK)
			return GRAFT_ECORRUPT;
		return graft_value_bytes(v, p, n);
	}
	if ((b & 0xf0) == 0x90 || b == 0xdc || b == 0xdd)
		return read_list(r, v, depth);
	if ((b & 0xf0) == 0x80 || b == 0xde || b == 0xdf)
		return read_map(r, v, depth);
	return bad(r, "not a property value");
}

static int read_read(struct reader *r, struct txrec *rec)
{
	uint64_t n, entity, id, version;

	if (read_container(r, 0, &n) != GRAFT_OK)
		return GRAFT_ECORRUPT;
	if (n != 3)
		return bad(r, "a read has three fields");
	if (read_uint(r, &entity) != GRAFT_OK || read_uint(r, &id) != GRAFT_OK ||
	    read_uint(r, &version) != GRAFT_OK)
		return GRAFT_ECORRUPT;
	if (entity > TXREC_ENTITY_REL)
		return bad(r, "unknown entity kind");
	return txrec_add_read(rec, (enum txrec_entity)entity, id, version);
}

static int read_op_fields(struct reader *r, struct txrec_op *op, unsigned mask)
{
	int rv = GRAFT_OK;

	if (mask & TXREC_F_ID)
		rv = read_uint(r, &op->id);
	if (rv == GRAFT_OK && (mask & TXREC_F_ENDS)) {
		rv = read_uint(r, &op->src);
		if (rv == GRAFT_OK)
			rv = read_uint(r, &op->dst);
	}
	if (rv == GRAFT_OK && (mask & TXREC_F_NAME))
		rv = read_str(r, &op->name);
	if (rv == GRAFT_OK && (mask & TXREC_F_NAME2))
		rv = read_str(r, &op->name2);
	if (rv == GRAFT_OK && (mask & TXREC_F_VALUE))
		rv = read_value(r, &op->value, 0);
	return rv;
}

static int read_op(struct reader *r, struct txrec *rec)
{
	struct txrec_op op;
	uint64_t n, type;
	unsigned mask;
	int rv;

	memset(&op, 0, sizeof op);
	if (read_container(r, 0, &n) != GRAFT_OK || read_uint(r, &type) != GRAFT_OK)
		return GRAFT_ECORRUPT;
	mask = type <= TXREC_OP_MAX ? txrec_field_mask((unsigned)type) : 0;
	if (mask == 0)
		return bad(r, "unknown operation type");
	if (n != 1 + (unsigned)__builtin_popcount(mask))
		return bad(r, "wrong number of fields for its operation type");
	op.type = (uint8_t)type;
	rv = read_op_fields(r, &op, mask);
	if (rv == GRAFT_OK)
		rv = txrec_add_op(rec, &op);
	if (rv != GRAFT_OK) {
		free(op.name);
		free(op.name2);
		graft_value_free(&op.value);
	}
	return rv;
}

static int read_record(struct reader *r, struct txrec *rec)
{
	uint64_t n, version;
	int rv;

	r->what = "header";
	if (read_container(r, 0, &n) != GRAFT_OK)
		return GRAFT_ECORRUPT;
	if (n != 5)
		return bad(r, "a record has five fields");
	if (read_uint(r, &version) != GRAFT_OK)
		return GRAFT_ECORRUPT;
	if (version != TXREC_FORMAT_VERSION)
		return bad(r, "unknown format version (written by a newer graft?)");
	rv = read_str(r, &rec->db);
	if (rv == GRAFT_OK)
		rv = read_int(r, &rec->commit_time_ms);
	r->what = "reads";
	if (rv == GRAFT_OK)
		rv = read_container(r, 0, &n);
	if (rv == GRAFT_OK && n > (uint64_t)(r->end - r->p))
		return bad(r, "more reads than the record can hold");
	for (uint64_t i = 0; rv == GRAFT_OK && i < n; i++)
		rv = read_read(r, rec);
	r->what = "ops";
	if (rv == GRAFT_OK)
		rv = read_container(r, 0, &n);
	if (rv == GRAFT_OK && n > (uint64_t)(r->end - r->p))
		return bad(r, "more operations than the record can hold");
	for (uint64_t i = 0; rv == GRAFT_OK && i < n; i++)
		rv = read_op(r, rec);
	if (rv == GRAFT_OK && r->p != r->end)
		return bad(r, "trailing bytes after the record");
	return rv;
}

int txrec_decode(const void *p, size_t n, struct txrec *rec, char *errmsg)
{
	struct reader r = {p, (const uint8_t *)p + n, errmsg, "record"};
	int rv;

	txrec_init(rec);
	rv = read_record(&r, rec);
	if (rv != GRAFT_OK)
		txrec_free(rec);
	return rv;
}

int txrec_decode_value(const void *p, size_t n, size_t *used,
		       struct graft_value *out, char *errmsg)
{
	struct reader r = {p, (const uint8_t *)p + n, errmsg, "value"};
	int rv = read_value(&r, out, 0);

	if (rv != GRAFT_OK)
		graft_value_free(out);
	else
		*used = (size_t)(r.p - (const uint8_t *)p);
	return rv;
}
