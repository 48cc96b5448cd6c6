/* Chunked bitmaps over ids, one per label and per relationship type: label
 * and type scans in id order for an eighth of a byte per id, with chunks
 * of 64 Ki ids that are allocated when their first bit is set and freed
 * when their last is cleared. */
#include <string.h>

#include "../util/err.h"
#include "graph_int.h"

int bitmap_reserve(struct graph *g, struct bitmap *bm, uint64_t id)
{
	uint64_t c = id >> BITMAP_CHUNK_SHIFT;

	if (c >= bm->n_chunks) {
		struct bitmap_chunk **chunks = graph_chunk_dir_grow(
			g, bm->chunks, bm->n_chunks, c, &bm->n_chunks);
		if (chunks == NULL)
			return GRAFT_ENOMEM;
		bm->chunks = chunks;
	}
	if (bm->chunks[c] == NULL) {
		bm->chunks[c] = graph_mem_calloc(g, 1, sizeof *bm->chunks[c]);
		if (bm->chunks[c] == NULL)
			return GRAFT_ENOMEM;
	}
	return GRAFT_OK;
}

void bitmap_trim(struct graph *g, struct bitmap *bm, uint64_t id)
{
	uint64_t c = id >> BITMAP_CHUNK_SHIFT;

	if (c < bm->n_chunks && bm->chunks[c] != NULL &&
	    bm->chunks[c]->count == 0) {
		graph_mem_release(g, bm->chunks[c], sizeof *bm->chunks[c]);
		bm->chunks[c] = NULL;
	}
}

void bitmap_set(struct bitmap *bm, uint64_t id)
{
	struct bitmap_chunk *ch = bm->chunks[id >> BITMAP_CHUNK_SHIFT];
	uint64_t *w = &ch->words[(id >> 6) & (BITMAP_CHUNK_WORDS - 1)];
	uint64_t bit = (uint64_t)1 << (id & 63);

	if (!(*w & bit)) {
		*w |= bit;
		ch->count++;
	}
}

void bitmap_clear(struct graph *g, struct bitmap *bm, uint64_t id)
{
	uint64_t c = id >> BITMAP_CHUNK_SHIFT;
	struct bitmap_chunk *ch;
	uint64_t *w, bit = (uint64_t)1 << (id & 63);

	if (c >= bm->n_chunks || bm->chunks[c] == NULL)
		return;
	ch = bm->chunks[c];
	w = &ch->words[(id >> 6) & (BITMAP_CHUNK_WORDS - 1)];
	if (*w & bit) {
		*w &= ~bit;
		ch->count--;
	}
	bitmap_trim(g, bm, id);
}

uint64_t bitmap_next(const struct bitmap *bm, uint64_t from)
{
	for (uint64_t c = from >> BITMAP_CHUNK_SHIFT; c < bm->n_chunks; c++) {
		const struct bitmap_chunk *ch = bm->chunks[c];
		uint64_t base = c << BITMAP_CHUNK_SHIFT;
		uint32_t wi = 0;
		uint64_t w;

		if (ch == NULL)
			continue;
		if (from > base) {
			uint64_t off = from - base;
			wi = (uint32_t)(off >> 6);
			/* Bits below from in its word are masked off. */
			w = ch->words[wi] & (~(uint64_t)0 << (off & 63));
			if (w != 0)
				return base + wi * 64 +
				       (uint64_t)__builtin_ctzll(w);
			wi++;
		}
		for (; wi < BITMAP_CHUNK_WORDS; wi++) {
			w = ch->words[wi];
			if (w != 0)
				return base + wi * 64 +
				       (uint64_t)__builtin_ctzll(w);
		}
	}
	return GRAPH_NO_ID;
}

void bitmap_free(struct graph *g, struct bitmap *bm)
{
	for (size_t c = 0; c < bm->n_chunks; c++)
		graph_mem_release(g, bm->chunks[c], sizeof *bm->chunks[c]);
	graph_mem_release(g, bm->chunks, bm->n_chunks * sizeof *bm->chunks);
	bm->chunks = NULL;
	bm->n_chunks = 0;
}

struct bitmap *bitmap_of(struct graph *g, struct bitmap **arr, uint32_t *n,
			 uint32_t tok)
{
	if (tok >= *n) {
		uint64_t cap = *n ? *n : 8;
		struct bitmap *a;
		while (cap <= tok)
			cap *= 2;
		if (cap > UINT32_MAX)
			cap = (uint64_t)tok + 1;
		a = graph_mem_realloc(g, *arr, *n * sizeof *a, cap * sizeof *a);
		if (a == NULL)
			return NULL;
		memset(a + *n, 0, (cap - *n) * sizeof *a);
		*arr = a;
		*n = (uint32_t)cap;
	}
	return &(*arr)[tok];
}
