/* A growable byte buffer: the one way graft builds encoded records, frames and
 * files in memory. Allocation failure is reported, never ignored. */
#ifndef GRAFT_UTIL_BUF_H
#define GRAFT_UTIL_BUF_H

#include <stddef.h>
#include <stdint.h>

struct graft_buf {
	uint8_t *data; /* owned */
	size_t len;
	size_t cap;
};

void graft_buf_init(struct graft_buf *b);
void graft_buf_free(struct graft_buf *b);
/* Keeps the allocation, forgets the contents. */
void graft_buf_reset(struct graft_buf *b);
/* Ensures room for n more bytes. Returns GRAFT_OK or GRAFT_ENOMEM. */
int graft_buf_reserve(struct graft_buf *b, size_t n);
int graft_buf_append(struct graft_buf *b, const void *p, size_t n);
int graft_buf_put_u32le(struct graft_buf *b, uint32_t v);
int graft_buf_put_u64le(struct graft_buf *b, uint64_t v);

/* Appends x to a growable array of ids (*v may be NULL with *cap 0).
 * GRAFT_OK or GRAFT_ENOMEM (then nothing changed). */
int graft_u64_push(uint64_t **v, size_t *n, size_t *cap, uint64_t x);

static inline uint32_t graft_get_u32le(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline uint64_t graft_get_u64le(const uint8_t *p)
{
	return (uint64_t)graft_get_u32le(p) |
	       (uint64_t)graft_get_u32le(p + 4) << 32;
}

static inline void graft_put_u32le(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static inline void graft_put_u64le(uint8_t *p, uint64_t v)
{
	graft_put_u32le(p, (uint32_t)v);
	graft_put_u32le(p + 4, (uint32_t)(v >> 32));
}

#endif
