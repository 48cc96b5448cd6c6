/* Records on the wire (format in txlog.h): what a catch-up stream sends for
 * each transaction. The log's own frames are not sent as they are: their
 * batch bounds mean nothing to a receiver, and they do not say which
 * database they belong to, which a receiver must check before applying. */
#include <inttypes.h>
#include <string.h>

#include "../util/crc32c.h"
#include "../util/err.h"
#include "txlog_int.h"

uint32_t txlog_wire_db_id(const char *name)
{
	return graft_crc32c(0, name, strlen(name));
}

static uint32_t wire_crc(const uint8_t *frame, size_t size)
{
	return graft_crc32c(0, frame + 8, size - 8);
}

void txlog_wire_cluster_text(const struct txlog_wire_id *id, char out[37])
{
	static const char hex[] = "0123456789abcdef";
	size_t k = 0;

	for (size_t i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[k++] = '-';
		out[k++] = hex[id->cluster[i] >> 4];
		out[k++] = hex[id->cluster[i] & 15];
	}
	out[k] = '\0';
}

int txlog_wire_put(struct graft_buf *out, const struct txlog_wire_id *id,
		   uint64_t txid, const void *rec, size_t len)
{
	uint8_t *f;
	int rv;

	if (len > TXLOG_MAX_RECORD)
		return GRAFT_ETOOBIG;
	rv = graft_buf_reserve(out, TXLOG_WIRE_HEADER + len);
	if (rv != GRAFT_OK)
		return rv;
	f = out->data + out->len;
	graft_put_u32le(f, (uint32_t)len);
	graft_put_u64le(f + 8, txid);
	graft_put_u64le(f + 16, id->db);
	graft_put_u32le(f + 24, id->name);
	graft_put_u32le(f + 28, 0);
	memcpy(f + 32, id->cluster, 16);
	memcpy(f + TXLOG_WIRE_HEADER, rec, len);
	graft_put_u32le(f + 4, wire_crc(f, TXLOG_WIRE_HEADER + len));
	out->len += TXLOG_WIRE_HEADER + len;
	return GRAFT_OK;
}

int txlog_wire_size(const uint8_t *hdr, size_t *size, char *errmsg)
{
	uint32_t len = graft_get_u32le(hdr);

	if (len > TXLOG_MAX_RECORD)
		return graft_errf(errmsg, GRAFT_ETOOBIG,
				  "a record on the wire claims %" PRIu32
				  " bytes, more than the largest record (%u)",
				  len, TXLOG_MAX_RECORD);
	*size = TXLOG_WIRE_HEADER + (size_t)len;
	return GRAFT_OK;
}

int txlog_wire_check(const uint8_t *frame, size_t size,
		     const struct txlog_wire_id *want, uint64_t txid,
		     const uint8_t **rec, size_t *len, char *errmsg)
{
	struct txlog_wire_id got;
	char got_cluster[37], want_cluster[37];
	uint64_t got_txid;

	if (size < TXLOG_WIRE_HEADER ||
	    size != TXLOG_WIRE_HEADER + (size_t)graft_get_u32le(frame))
		return graft_errf(errmsg, GRAFT_ECORRUPT,
				  "a record on the wire has %zu bytes where "
				  "its length field says otherwise", size);
	got_txid = graft_get_u64le(frame + 8);
	if (graft_get_u32le(frame + 4) != wire_crc(frame, size))
		return graft_errf(errmsg, GRAFT_ECORRUPT,
				  "the record of transaction %" PRIu64 " failed "
				  "its CRC check on the wire (damaged in "
				  "transit)", got_txid);
	got.db = graft_get_u64le(frame + 16);
	got.name = graft_get_u32le(frame + 24);
	memcpy(got.cluster, frame + 32, 16);
	if (memcmp(got.cluster, want->cluster, 16) != 0 ||
	    got.db != want->db || got.name != want->name) {
		txlog_wire_cluster_text(&got, got_cluster);
		txlog_wire_cluster_text(want, want_cluster);
		return graft_errf(errmsg, GRAFT_ECORRUPT,
				  "the record of transaction %" PRIu64 " belongs "
				  "to cluster %s, database id %" PRIu64
				  " (name %08" PRIx32 "), not to the database "
				  "being caught up: cluster %s, database id "
				  "%" PRIu64 " (name %08" PRIx32 ")",
				  got_txid, got_cluster, got.db, got.name,
				  want_cluster, want->db, want->name);
	}
	if (got_txid != txid)
		return graft_errf(errmsg, GRAFT_ECORRUPT,
				  "the stream sent transaction %" PRIu64
				  " where %" PRIu64 " must follow (a gap or a "
				  "repeat)", got_txid, txid);
	*rec = frame + TXLOG_WIRE_HEADER;
	*len = size - TXLOG_WIRE_HEADER;
	return GRAFT_OK;
}
