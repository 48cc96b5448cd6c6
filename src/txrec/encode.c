/* Encoding: [version, db, commit_time_ms, reads, ops] where a read is
 * [entity, id, version] and an op is [type, fields...] with only the fields
 * its type uses (see field_mask in txrec_int.h). Values map onto msgpack's
 * own types: nil, bool, int, float64, str, bin, array, map. */
#include <msgpack.h>

#include "../util/err.h"
#include "txrec.h"
#include "txrec_int.h"

static int buf_write_cb(void *data, const char *p, size_t n)
{
	return graft_buf_append(data, p, n) == GRAFT_OK ? 0 : -1;
}

static int pack_str(msgpack_packer *pk, const struct graft_str *s)
{
	return msgpack_pack_str_with_body(pk, s->data, s->len);
}

static int pack_value(msgpack_packer *pk, const struct graft_value *v)
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
		return pack_str(pk, v->u.s);
	case GRAFT_VALUE_BYTES:
		return msgpack_pack_bin_with_body(pk, v->u.s->data, v->u.s->len);
	case GRAFT_VALUE_LIST:
		rv = msgpack_pack_array(pk, v->u.list->len);
		for (uint32_t i = 0; rv == 0 && i < v->u.list->len; i++)
			rv = pack_value(pk, &v->u.list->items[i]);
		return rv;
	case GRAFT_VALUE_MAP:
		rv = msgpack_pack_map(pk, v->u.map->len);
		for (uint32_t i = 0; rv == 0 && i < v->u.map->len; i++) {
			rv = pack_str(pk, v->u.map->entries[i].key);
			if (rv == 0)
				rv = pack_value(pk, &v->u.map->entries[i].value);
		}
		return rv;
	default:
		return -1;
	}
}

static int pack_op(msgpack_packer *pk, const struct txrec_op *op)
{
	unsigned mask = txrec_field_mask(op->type);
	int rv = msgpack_pack_array(pk, 1 + (unsigned)__builtin_popcount(mask));

	if (rv == 0)
		rv = msgpack_pack_uint8(pk, op->type);
	if (rv == 0 && (mask & TXREC_F_ID))
		rv = msgpack_pack_uint64(pk, op->id);
	if (rv == 0 && (mask & TXREC_F_ENDS))
		rv = msgpack_pack_uint64(pk, op->src) ||
		     msgpack_pack_uint64(pk, op->dst);
	if (rv == 0 && (mask & TXREC_F_NAME))
		rv = pack_str(pk, op->name);
	if (rv == 0 && (mask & TXREC_F_NAME2))
		rv = pack_str(pk, op->name2);
	if (rv == 0 && (mask & TXREC_F_VALUE))
		rv = pack_value(pk, &op->value);
	return rv;
}

int txrec_encode(const struct txrec *r, struct graft_buf *out)
{
	msgpack_packer pk;
	size_t start = out->len;
	int rv;

	msgpack_packer_init(&pk, out, buf_write_cb);
	rv = msgpack_pack_array(&pk, 5);
	if (rv == 0)
		rv = msgpack_pack_uint8(&pk, TXREC_FORMAT_VERSION);
	if (rv == 0)
		rv = pack_str(&pk, r->db);
	if (rv == 0)
		rv = msgpack_pack_int64(&pk, r->commit_time_ms);
	if (rv == 0)
		rv = msgpack_pack_array(&pk, (uint32_t)r->n_reads);
	for (size_t i = 0; rv == 0 && i < r->n_reads; i++)
		rv = msgpack_pack_array(&pk, 3) ||
		     msgpack_pack_uint8(&pk, r->reads[i].entity) ||
		     msgpack_pack_uint64(&pk, r->reads[i].id) ||
		     msgpack_pack_uint64(&pk, r->reads[i].version);
	if (rv == 0)
		rv = msgpack_pack_array(&pk, (uint32_t)r->n_ops);
	for (size_t i = 0; rv == 0 && i < r->n_ops; i++)
		rv = pack_op(&pk, &r->ops[i]);
	if (rv != 0) {
		out->len = start;
		return GRAFT_ENOMEM;
	}
	return GRAFT_OK;
}

int txrec_encode_value(struct graft_buf *out, const struct graft_value *v)
{
	msgpack_packer pk;
	size_t start = out->len;

	msgpack_packer_init(&pk, out, buf_write_cb);
	if (pack_value(&pk, v) != 0) {
		out->len = start;
		return GRAFT_ENOMEM;
	}
	return GRAFT_OK;
}
