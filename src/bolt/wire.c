/* Handshake and chunking; see wire.h. */
#include "wire.h"

#include <string.h>

#include "../util/err.h"

/* Versions graft speaks, highest first: 5.0-5.4 and 4.4. 5.5 must never be
 * chosen (drivers skip it); 5.6+ change FAILURE and notifications. */
static const uint32_t supported[] = {
	BOLT_VERSION(5, 4), BOLT_VERSION(5, 3), BOLT_VERSION(5, 2),
	BOLT_VERSION(5, 1), BOLT_VERSION(5, 0), BOLT_VERSION(4, 4),
};

static uint32_t get_u32be(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* The highest supported version within one proposal, or 0. */
static uint32_t choose(const uint8_t *prop)
{
	unsigned range = prop[1], minor = prop[2], major = prop[3];

	for (size_t i = 0; i < sizeof supported / sizeof *supported; i++) {
		unsigned smaj = BOLT_MAJOR(supported[i]);
		unsigned smin = BOLT_MINOR(supported[i]);
		if (smaj == major && smin <= minor && smin + range >= minor)
			return supported[i];
	}
	return 0;
}

uint32_t bolt_handshake(const uint8_t in[BOLT_HANDSHAKE_SIZE], uint8_t reply[4])
{
	uint32_t v = 0;

	memset(reply, 0, 4);
	if (get_u32be(in) != BOLT_MAGIC)
		return 0;
	for (int i = 0; i < 4 && v == 0; i++)
		v = choose(in + 4 + 4 * i);
	reply[2] = (uint8_t)BOLT_MINOR(v);
	reply[3] = (uint8_t)BOLT_MAJOR(v);
	return v;
}

void bolt_dechunker_init(struct bolt_dechunker *d, size_t max)
{
	memset(d, 0, sizeof *d);
	graft_buf_init(&d->msg);
	d->max = max;
}

void bolt_dechunker_free(struct bolt_dechunker *d)
{
	graft_buf_free(&d->msg);
}

/* A buffer that held a large request is freed, not kept for the
 * connection's life. */
#define MSG_KEEP 65536

void bolt_dechunker_next(struct bolt_dechunker *d)
{
	if (d->msg.cap > MSG_KEEP)
		graft_buf_free(&d->msg);
	else
		graft_buf_reset(&d->msg);
	d->in_message = false;
	d->too_big = false;
}

bool bolt_dechunker_busy(const struct bolt_dechunker *d)
{
	return d->in_message || d->have > 0;
}

/* Takes chunk data; a message past max is counted but not stored. */
static int take_data(struct bolt_dechunker *d, const uint8_t *p, size_t n)
{
	if (!d->too_big && d->msg.len + n > d->max) {
		d->too_big = true;
		graft_buf_reset(&d->msg);
	}
	return d->too_big ? GRAFT_OK : graft_buf_append(&d->msg, p, n);
}

int bolt_dechunk(struct bolt_dechunker *d, const uint8_t *p, size_t n,
		 size_t *used, bool *complete)
{
	size_t i = 0, take;
	int rv;

	*complete = false;
	while (i < n && !*complete) {
		if (d->left > 0) {
			take = n - i < d->left ? n - i : d->left;
			rv = take_data(d, p + i, take);
			if (rv != GRAFT_OK)
				return rv;
			d->left -= (uint32_t)take;
			i += take;
			continue;
		}
		d->header[d->have++] = p[i++];
		if (d->have < 2)
			continue;
		d->have = 0;
		d->left = (uint32_t)d->header[0] << 8 | d->header[1];
		if (d->left > 0)
			d->in_message = true;
		else
			*complete = d->in_message; /* else a NOOP */
	}
	*used = i;
	return GRAFT_OK;
}

bool bolt_chunks_hold_reset(const uint8_t *p, size_t n)
{
	size_t pos = 0, len, size;
	uint8_t head[2];

	for (;;) {
		/* One message: chunks up to the end marker. */
		size = 0;
		do {
			if (n - pos < 2)
				return false;
			len = (size_t)p[pos] << 8 | p[pos + 1];
			pos += 2;
			if (n - pos < len)
				return false;
			for (size_t i = 0; i < len && size + i < 2; i++)
				head[size + i] = p[pos + i];
			size += len;
			pos += len;
		} while (len > 0);
		if (size == 2 && head[0] == 0xB0 && head[1] == 0x0F)
			return true;
	}
}

int bolt_chunk_begin(struct graft_buf *out, size_t *start)
{
	static const uint8_t header[2];

	*start = out->len;
	return graft_buf_append(out, header, sizeof header);
}

int bolt_chunk_end(struct graft_buf *out, size_t start)
{
	size_t len = out->len - start - 2;
	size_t extra = len == 0 ? 0 : (len - 1) / BOLT_CHUNK_MAX;
	size_t src, dst, piece, last;
	uint8_t *base;
	int rv;

	/* One more header per extra chunk, plus the end marker. */
	rv = graft_buf_reserve(out, 2 * extra + 2);
	if (rv != GRAFT_OK)
		return rv;
	base = out->data + start;
	/* Move chunks into place from the last one back, so nothing is
	 * overwritten before it has moved. */
	last = len - extra * BOLT_CHUNK_MAX;
	src = 2 + extra * BOLT_CHUNK_MAX;
	dst = src + 2 * extra;
	for (size_t k = extra + 1; k-- > 0;) {
		piece = k == extra ? last : BOLT_CHUNK_MAX;
		memmove(base + dst, base + src, piece);
		base[dst - 2] = (uint8_t)(piece >> 8);
		base[dst - 1] = (uint8_t)piece;
		src -= BOLT_CHUNK_MAX;
		dst -= BOLT_CHUNK_MAX + 2;
	}
	out->len += 2 * extra;
	return bolt_chunk_noop(out);
}

int bolt_chunk_noop(struct graft_buf *out)
{
	static const uint8_t end[2];

	return graft_buf_append(out, end, sizeof end);
}
