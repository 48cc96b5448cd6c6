/* Encoding records and values with msgpack-c's packer into a graft_buf.
 * Each op encodes only the fields its type uses (txrec_op_descs), so a
 * NODE_CREATE costs a few bytes. Floats are always float64 and integers take
 * msgpack's shortest form; the decoder accepts exactly what is written here.
 * Temporal values, durations and points are msgpack extension types, one
 * per value type (TXREC_EXT_*), their fields big-endian in a fixed order. */
#include "txrec.h"

#include <msgpack.h>
#include <string.h>

#include "../util/err.h"
#include "txrec_int.h"

/* The packer writes a few bytes at a time: ten calls per op of a record
 * of millions, so room at hand is used without a call. */
static int buf_write(void *data, const char *p, size_t n)
{
	struct graft_buf *b = data;

	if (b->cap - b->len >= n) {
		memcpy(b->data + b->len, p, n);
		b->len += n;
		return 0;
	}
	return graft_buf_append(b, p, n) == GRAFT_OK ? 0 : -1;
}

static int write_str(msgpack_packer *pk, const struct graft_str *s)
{
	if (msgpack_pack_str(pk, s->len) != 0)
		return -1;
	return msgpack_pack_str_body(pk, s->data, s->len);
}

static size_t put_be(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
	return n;
}

static uint64_t double_bits(double d)
{
	uint64_t u;

	memcpy(&u, &d, sizeof u);
	return u;
}

/* An extended value as extension type TXREC_EXT_BASE + its offset from
 * GRAFT_VALUE_DATE. Layouts: DATE days; LOCALTIME, LOCALDATETIME secs,
 * nanos; TIME secs, nanos, offset; DATETIME the same then the zone name's
 * bytes; DURATION months, days, secs, nanos; POINT srid, dims, x, y, z.
 * 64-bit integers and doubles take 8 bytes, the rest 4. */
static int write_ext(msgpack_packer *pk, const struct graft_value *v)
{
	const struct graft_ext *x = v->u.x;
	uint8_t body[64];
	size_t n = 0, zone = 0;

	switch (v->type) {
	case GRAFT_VALUE_DATE:
		n += put_be(body + n, (uint64_t)x->days, 8);
		break;
	case GRAFT_VALUE_DURATION:
		n += put_be(body + n, (uint64_t)x->months, 8);
		n += put_be(body + n, (uint64_t)x->days, 8);
		n += put_be(body + n, (uint64_t)x->secs, 8);
		n += put_be(body + n, (uint32_t)x->nanos, 4);
		break;
	case GRAFT_VALUE_POINT:
		n += put_be(body + n, x->srid, 4);
		n += put_be(body + n, x->dims, 4);
		n += put_be(body + n, double_bits(x->x), 8);
		n += put_be(body + n, double_bits(x->y), 8);
		n += put_be(body + n, double_bits(x->z), 8);
		break;
	default: /* the times: seconds, nanoseconds[, offset[, zone]] */
		n += put_be(body + n, (uint64_t)x->secs, 8);
		n += put_be(body + n, (uint32_t)x->nanos, 4);
		if (v->type == GRAFT_VALUE_TIME || v->type == GRAFT_VALUE_DATETIME)
			n += put_be(body + n, (uint32_t)x->offset, 4);
		if (v->type == GRAFT_VALUE_DATETIME && x->zone != NULL)
			zone = x->zone->len;
		break;
	}
	if (msgpack_pack_ext(pk, n + zone, (int8_t)(TXREC_EXT_BASE +
						     v->type -
						     GRAFT_VALUE_DATE)) != 0 ||
	    msgpack_pack_ext_body(pk, body, n) != 0)
		return -1;
	return zone ? msgpack_pack_ext_body(pk, x->zone->data, zone) : 0;
}

/* -1 on out of memory, -2 when nested deeper than TXREC_MAX_DEPTH, -3 for
 * a malformed value (unknown type, map key missing). */
static int write_value(msgpack_packer *pk, const struct graft_value *v,
		       unsigned depth)
{
	int rv = 0;

	switch (v->type) {
	case GRAFT_VALUE_NULL:
		return msgpack_pack_nil(pk);
	case GRAFT_VALUE_BOOL:
		return v->u.b ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
	case GRAFT_VALUE_INT:
		return msgpack_pack_int64(pk, v->u.i);
	case GRAFT_VALUE_FLOAT:
		return msgpack_pack_double(pk, v->u.f);
	case GRAFT_VALUE_STRING:
		return write_str(pk, v->u.s);
	case GRAFT_VALUE_BYTES:
		if (msgpack_pack_bin(pk, v->u.s->len) != 0)
			return -1;
		return msgpack_pack_bin_body(pk, v->u.s->data, v->u.s->len);
	case GRAFT_VALUE_LIST:
		if (depth >= TXREC_MAX_DEPTH)
			return -2;
		if (msgpack_pack_array(pk, v->u.list->len) != 0)
			return -1;
		for (uint32_t i = 0; rv == 0 && i < v->u.list->len; i++)
			rv = write_value(pk, &v->u.list->items[i], depth + 1);
		return rv;
	case GRAFT_VALUE_MAP:
		if (depth >= TXREC_MAX_DEPTH)
			return -2;
		if (msgpack_pack_map(pk, v->u.map->len) != 0)
			return -1;
		for (uint32_t i = 0; rv == 0 && i < v->u.map->len; i++) {
			if (v->u.map->entries[i].key == NULL)
				return -3;
			rv = write_str(pk, v->u.map->entries[i].key);
			if (rv == 0)
				rv = write_value(pk, &v->u.map->entries[i].value,
						 depth + 1);
		}
		return rv;
	default:
		if (graft_value_is_ext(v->type))
			return write_ext(pk, v);
		return -3; /* entity references are never stored */
	}
}

static int packed(int rv)
{
	switch (rv) {
	case 0:
		return GRAFT_OK;
	case -1:
		return GRAFT_ENOMEM;
	case -2:
		return GRAFT_ETOOBIG;
	default:
		return GRAFT_EINVAL;
	}
}

int txrec_encode_value(struct graft_buf *out, const struct graft_value *v)
{
	msgpack_packer pk;
	size_t len = out->len;
	int rv;

	msgpack_packer_init(&pk, out, buf_write);
	rv = packed(write_value(&pk, v, 0));
	if (rv != GRAFT_OK)
		out->len = len;
	return rv;
}

static int write_op(msgpack_packer *pk, const struct txrec_op *op)
{
	unsigned f = txrec_op_descs[op->type].fields;
	int rv = msgpack_pack_array(pk, txrec_op_width(f));

	if (rv == 0)
		rv = msgpack_pack_uint8(pk, op->type);
	if (rv == 0 && (f & TXREC_F_ID))
		rv = msgpack_pack_uint64(pk, op->id);
	if (rv == 0 && (f & TXREC_F_NAME))
		rv = write_str(pk, op->name);
	if (rv == 0 && (f & TXREC_F_ENDS))
		rv = msgpack_pack_uint64(pk, op->src);
	if (rv == 0 && (f & TXREC_F_ENDS))
		rv = msgpack_pack_uint64(pk, op->dst);
	if (rv == 0 && (f & TXREC_F_VALUE))
		rv = write_value(pk, &op->value, 0);
	if (rv == 0 && (f & TXREC_F_NAME2))
		rv = write_str(pk, op->name2);
	return rv;
}

static int write_record(msgpack_packer *pk, const struct txrec *r)
{
	int rv = msgpack_pack_array(pk, 5);

	if (rv == 0)
		rv = msgpack_pack_uint8(pk, TXREC_FORMAT_VERSION);
	if (rv == 0)
		rv = write_str(pk, r->db);
	if (rv == 0)
		rv = msgpack_pack_int64(pk, r->commit_time_ms);
	if (rv == 0)
		rv = msgpack_pack_array(pk, (uint32_t)r->n_reads);
	for (size_t i = 0; rv == 0 && i < r->n_reads; i++) {
		rv = msgpack_pack_array(pk, 3);
		if (rv == 0)
			rv = msgpack_pack_uint8(pk, r->reads[i].entity);
		if (rv == 0)
			rv = msgpack_pack_uint64(pk, r->reads[i].id);
		if (rv == 0)
			rv = msgpack_pack_uint64(pk, r->reads[i].version);
	}
	if (rv == 0)
		rv = msgpack_pack_array(pk, (uint32_t)r->n_ops);
	/* Each op is checked as it is written (a malformed one: -3), not
	 * in a pass of its own over millions. */
	for (size_t i = 0; rv == 0 && i < r->n_ops; i++)
		rv = txrec_op_check(&r->ops[i], i, NULL) != GRAFT_OK
			     ? -3
			     : write_op(pk, &r->ops[i]);
	return rv;
}

int txrec_encode(const struct txrec *r, struct graft_buf *out)
{
	msgpack_packer pk;
	size_t len = out->len;
	int rv;

	if (r->db == NULL || r->n_reads > UINT32_MAX || r->n_ops > UINT32_MAX)
		return GRAFT_EINVAL;
	for (size_t i = 0; i < r->n_reads; i++)
		if (r->reads[i].entity > TXREC_ENTITY_REL)
			return GRAFT_EINVAL;
	msgpack_packer_init(&pk, out, buf_write);
	rv = packed(write_record(&pk, r));
	if (rv != GRAFT_OK)
		out->len = len;
	return rv;
}
