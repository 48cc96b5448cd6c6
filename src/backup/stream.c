/* The backup stream's encoder and push parser (format in stream.h). The
 * parser is a small state machine fed arbitrary slices: it gathers each
 * item's fixed head, passes checkpoint bytes through as they come and
 * buffers one record at a time (a record is at most TXLOG_MAX_RECORD). */
#include <inttypes.h>
#include <string.h>

#include "../txlog/txlog.h"
#include "../util/err.h"
#include "stream.h"

enum parse_state { S_TAG, S_CKPT_HEAD, S_CKPT_DATA, S_TX_HEAD, S_TX_DATA,
		   S_END_HEAD, S_DONE };

int backup_stream_put_ckpt_head(struct graft_buf *b, uint64_t len)
{
	uint8_t tag = BACKUP_STREAM_CKPT;
	int rv = graft_buf_append(b, &tag, 1);

	return rv == GRAFT_OK ? graft_buf_put_u64le(b, len) : rv;
}

int backup_stream_put_tx(struct graft_buf *b, uint64_t txid, const void *rec,
			 uint32_t len)
{
	uint8_t tag = BACKUP_STREAM_TX;
	int rv = graft_buf_reserve(b, 13 + (size_t)len);

	if (rv == GRAFT_OK)
		rv = graft_buf_append(b, &tag, 1);
	if (rv == GRAFT_OK)
		rv = graft_buf_put_u64le(b, txid);
	if (rv == GRAFT_OK)
		rv = graft_buf_put_u32le(b, len);
	return rv == GRAFT_OK ? graft_buf_append(b, rec, len) : rv;
}

int backup_stream_put_end(struct graft_buf *b, uint64_t n_tx)
{
	uint8_t tag = BACKUP_STREAM_END;
	int rv = graft_buf_append(b, &tag, 1);

	return rv == GRAFT_OK ? graft_buf_put_u64le(b, n_tx) : rv;
}

void backup_stream_parser_init(struct backup_stream_parser *p,
			       bool allow_ckpt, uint64_t first, uint64_t last,
			       const struct backup_stream_cbs *cbs)
{
	memset(p, 0, sizeof *p);
	if (cbs != NULL)
		p->cbs = *cbs;
	p->allow_ckpt = allow_ckpt;
	p->first = first;
	p->last = last;
	p->next = first;
	p->state = S_TAG;
	p->head_need = 1;
	graft_buf_init(&p->rec);
}

void backup_stream_parser_free(struct backup_stream_parser *p)
{
	graft_buf_free(&p->rec);
}

static void expect_head(struct backup_stream_parser *p, int state, size_t n)
{
	p->state = state;
	p->head_len = 0;
	p->head_need = n;
}

static int on_tag(struct backup_stream_parser *p, char *errmsg)
{
	switch (p->head[0]) {
	case BACKUP_STREAM_CKPT:
		if (!p->allow_ckpt || p->has_ckpt || p->n_tx > 0)
			return graft_errf(errmsg, GRAFT_ECORRUPT,
					  "backup stream has a store copy where "
					  "none may be");
		p->has_ckpt = true;
		expect_head(p, S_CKPT_HEAD, 8);
		return GRAFT_OK;
	case BACKUP_STREAM_TX:
		expect_head(p, S_TX_HEAD, 12);
		return GRAFT_OK;
	case BACKUP_STREAM_END:
		expect_head(p, S_END_HEAD, 8);
		return GRAFT_OK;
	default:
		return graft_errf(errmsg, GRAFT_ECORRUPT,
				  "backup stream has an unknown item 0x%02x "
				  "after transaction %" PRIu64,
				  p->head[0], p->next - 1);
	}
}

static int on_tx_head(struct backup_stream_parser *p, char *errmsg)
{
	uint64_t txid = graft_get_u64le(p->head);
	uint32_t len = graft_get_u32le(p->head + 8);

	if (txid != p->next || txid > p->last)
		return graft_errf(errmsg, GRAFT_ECORRUPT,
				  "backup stream has transaction %" PRIu64
				  " where %" PRIu64 " (of %" PRIu64 "..%" PRIu64
				  ") was due",
				  txid, p->next, p->first, p->last);
	if (len == 0 || len > TXLOG_MAX_RECORD)
		return graft_errf(errmsg, GRAFT_ECORRUPT,
				  "backup stream: transaction %" PRIu64
				  " has an impossible length %" PRIu32,
				  txid, len);
	graft_buf_reset(&p->rec);
	if (graft_buf_reserve(&p->rec, len) != GRAFT_OK)
		return GRAFT_ENOMEM;
	p->remain = len;
	p->state = S_TX_DATA;
	return GRAFT_OK;
}

static int on_head(struct backup_stream_parser *p, char *errmsg)
{
	uint64_t v = graft_get_u64le(p->head);

	switch (p->state) {
	case S_TAG:
		return on_tag(p, errmsg);
	case S_CKPT_HEAD:
		p->remain = v;
		p->state = S_CKPT_DATA;
		if (v == 0)
			expect_head(p, S_TAG, 1);
		return GRAFT_OK;
	case S_TX_HEAD:
		return on_tx_head(p, errmsg);
	default: /* S_END_HEAD */
		if (v != p->n_tx)
			return graft_errf(errmsg, GRAFT_ECORRUPT,
					  "backup stream ends claiming %" PRIu64
					  " transactions after %" PRIu64,
					  v, p->n_tx);
		p->state = S_DONE;
		p->done = true;
		return GRAFT_OK;
	}
}

/* Consumes payload bytes of the current checkpoint or record. */
static int on_payload(struct backup_stream_parser *p, const uint8_t *d,
		      size_t n, char *errmsg)
{
	int rv = GRAFT_OK;

	if (p->state == S_CKPT_DATA) {
		p->ckpt_bytes += n;
		if (p->cbs.ckpt != NULL)
			rv = p->cbs.ckpt(p->cbs.data, d, n, errmsg);
	} else {
		rv = graft_buf_append(&p->rec, d, n);
	}
	p->remain -= n;
	if (rv != GRAFT_OK || p->remain > 0)
		return rv;
	if (p->state == S_TX_DATA) {
		if (p->cbs.tx != NULL)
			rv = p->cbs.tx(p->cbs.data, p->next, p->rec.data,
				       p->rec.len, errmsg);
		p->next++;
		p->n_tx++;
	}
	expect_head(p, S_TAG, 1);
	return rv;
}

int backup_stream_parse(struct backup_stream_parser *p, const void *data,
			size_t n, char *errmsg)
{
	const uint8_t *d = data;
	size_t k;
	int rv;

	while (n > 0) {
		if (p->state == S_DONE)
			return graft_errf(errmsg, GRAFT_ECORRUPT,
					  "backup stream goes on after its end "
					  "mark");
		if (p->state == S_CKPT_DATA || p->state == S_TX_DATA) {
			k = n < p->remain ? n : (size_t)p->remain;
			rv = on_payload(p, d, k, errmsg);
		} else {
			k = p->head_need - p->head_len;
			k = n < k ? n : k;
			memcpy(p->head + p->head_len, d, k);
			p->head_len += k;
			rv = p->head_len == p->head_need ? on_head(p, errmsg)
							 : GRAFT_OK;
		}
		if (rv != GRAFT_OK)
			return rv;
		d += k;
		n -= k;
	}
	return GRAFT_OK;
}

int backup_stream_parse_end(struct backup_stream_parser *p, char *errmsg)
{
	if (!p->done)
		return graft_errf(errmsg, GRAFT_ECORRUPT,
				  "backup stream is cut short after transaction "
				  "%" PRIu64 " (expected up to %" PRIu64 ")",
				  p->next - 1, p->last);
	if (p->next != p->last + 1)
		return graft_errf(errmsg, GRAFT_ECORRUPT,
				  "backup stream ends at transaction %" PRIu64
				  " but promised up to %" PRIu64,
				  p->next - 1, p->last);
	return GRAFT_OK;
}
