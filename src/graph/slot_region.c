/* Where slot chunks live. A big graph is mostly slot chunks, and the
 * checkpoint forks the server to write it: fork copies the page tables of
 * everything mapped, 512 entries per 2 MiB of 4 KiB pages but one per 2 MiB
 * huge page (5 M nodes and 5 M relationships fork in 0.5 ms instead of 15).
 * So past a table's first SLOT_SMALL_CHUNKS chunks, which are malloc'd so
 * that a small graph holds little, chunks are carved from regions mapped at
 * 2 MiB boundaries and advised MADV_HUGEPAGE, which the kernel backs with
 * huge pages in its "madvise" mode of transparent huge pages as well as in
 * "always". Where it cannot (no THP in the kernel, or "never"), madvise
 * fails or is ignored and a region is ordinary anonymous memory: slower to
 * fork, the same otherwise.
 *
 * Regions are private anonymous mappings, so a forked child reads a frozen
 * copy like the rest of the heap. A write while the child lives copies one
 * 4 KiB page: the kernel splits the huge page's mapping in the writer, and
 * that 2 MiB forks at the 4 KiB cost again until khugepaged merges it back
 * (minutes, at its default scan rate).
 *
 * A region is counted in the graph's bytes whole from when it is mapped,
 * since that is what the graph holds; pages never touched take no memory. */
#include <stdint.h>
#include <sys/mman.h>

#include "../util/err.h"
#include "graph_int.h"

/* The PMD size on x86-64 and on arm64 with 4 KiB pages. Elsewhere regions
 * are still correct, only not backed by huge pages. */
#define HUGE_PAGE ((size_t)2 << 20)

size_t slot_region_size(const struct slot_table *t)
{
	size_t size = SLOT_REGION_CHUNKS * SLOT_CHUNK * t->slot_size;

	return (size + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
}

/* Maps size bytes (a multiple of HUGE_PAGE) at a HUGE_PAGE boundary, by
 * mapping one huge page more and giving back both ends. */
static void *region_map(size_t size)
{
	char *p = mmap(NULL, size + HUGE_PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	size_t head;

	if (p == MAP_FAILED)
		return NULL;
	head = (HUGE_PAGE - (uintptr_t)p % HUGE_PAGE) % HUGE_PAGE;
	if (head > 0)
		munmap(p, head);
	munmap(p + head + size, HUGE_PAGE - head);
	p += head;
	/* EINVAL without THP: the region stays ordinary memory. */
	(void)madvise(p, size, MADV_HUGEPAGE);
	return p;
}

/* Maps a region and makes it the one chunks are carved from. The list of
 * regions grows first, so a failed mapping leaves only spare capacity. */
static int region_add(struct graph *g, struct slot_table *t)
{
	size_t size = slot_region_size(t);
	void *p;

	if (t->n_regions == t->cap_regions) {
		size_t cap = t->cap_regions ? 2 * t->cap_regions : 4;
		void **regions = graph_mem_realloc(
			g, t->regions, t->cap_regions * sizeof *regions,
			cap * sizeof *regions);
		if (regions == NULL)
			return GRAFT_ENOMEM;
		t->regions = regions;
		t->cap_regions = cap;
	}
	if (graph_mem_fails(g) || (p = region_map(size)) == NULL)
		return GRAFT_ENOMEM;
	g->bytes += size;
	t->regions[t->n_regions++] = p;
	t->region_used = 0;
	return GRAFT_OK;
}

void *slot_chunk_new(struct graph *g, struct slot_table *t)
{
	size_t chunk = SLOT_CHUNK * t->slot_size;
	void *p;

	if (t->n_small < SLOT_SMALL_CHUNKS) {
		p = graph_mem_calloc(g, SLOT_CHUNK, t->slot_size);
		if (p != NULL)
			t->small[t->n_small++] = p;
		return p;
	}
	if ((t->n_regions == 0 ||
	     (t->region_used + 1) * chunk > slot_region_size(t)) &&
	    region_add(g, t) != GRAFT_OK)
		return NULL;
	/* Fresh mappings are zeroes: nothing to clear, nothing touched. */
	p = (char *)t->regions[t->n_regions - 1] + t->region_used * chunk;
	t->region_used++;
	return p;
}

void slot_chunks_free(struct graph *g, struct slot_table *t)
{
	size_t size = slot_region_size(t);

	for (size_t i = 0; i < t->n_small; i++)
		graph_mem_release(g, t->small[i], SLOT_CHUNK * t->slot_size);
	for (size_t i = 0; i < t->n_regions; i++) {
		munmap(t->regions[i], size);
		g->bytes -= size;
	}
	graph_mem_release(g, t->regions, t->cap_regions * sizeof *t->regions);
	t->n_small = t->n_regions = t->cap_regions = 0;
	t->regions = NULL;
}
