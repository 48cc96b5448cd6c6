#include "buf.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"

void graft_buf_init(struct graft_buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void graft_buf_free(struct graft_buf *b)
{
	free(b->data);
	graft_buf_init(b);
}

void graft_buf_reset(struct graft_buf *b)
{
	b->len = 0;
}

int graft_buf_reserve(struct graft_buf *b, size_t n)
{
	size_t cap;
	uint8_t *p;

	if (b->cap - b->len >= n)
		return GRAFT_OK;
	cap = b->cap ? b->cap : 256;
	while (cap - b->len < n)
		cap *= 2;
	p = realloc(b->data, cap);
	if (p == NULL)
		return GRAFT_ENOMEM;
	b->data = p;
	b->cap = cap;
	return GRAFT_OK;
}

int graft_buf_append(struct graft_buf *b, const void *p, size_t n)
{
	int rv = graft_buf_reserve(b, n);

	if (rv != GRAFT_OK)
		return rv;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	return GRAFT_OK;
}

int graft_buf_put_u32le(struct graft_buf *b, uint32_t v)
{
	uint8_t tmp[4];

	graft_put_u32le(tmp, v);
	return graft_buf_append(b, tmp, sizeof tmp);
}

int graft_buf_put_u64le(struct graft_buf *b, uint64_t v)
{
	uint8_t tmp[8];

	graft_put_u64le(tmp, v);
	return graft_buf_append(b, tmp, sizeof tmp);
}

int graft_u64_push(uint64_t **v, size_t *n, size_t *cap, uint64_t x)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 16;
		uint64_t *p = realloc(*v, c * sizeof *p);

		if (p == NULL)
			return GRAFT_ENOMEM;
		*v = p;
		*cap = c;
	}
	(*v)[(*n)++] = x;
	return GRAFT_OK;
}
