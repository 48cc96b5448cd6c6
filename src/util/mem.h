/* Memory accounting for query execution.
 *
 * A tracker counts the bytes a transaction holds and refuses an allocation
 * that would take it (or a pool above it: all transactions of a database,
 * all transactions of the server) past its limit. Trackers form a chain:
 * a transaction's tracker has the pools as parents, and a charge counts at
 * every level.
 *
 * The tracker charged is the one "entered" on the calling thread: the
 * Cypher engine enters a transaction's tracker while it runs that
 * transaction's statements, so every value (util/value.c) and every buffer
 * the executor allocates through graft_mem_* is counted without passing the
 * tracker to each function. Outside any tracker graft_mem_* are malloc and
 * free. Sizes are the allocator's usable sizes, so a block is credited by
 * exactly what it was charged. A block freed under another tracker than the
 * one it was charged to credits that one, never below zero; what a
 * transaction still holds when its tracker ends (values that moved into
 * the graph, say) is given back to the pools then, so the pools always hold
 * the sum of the live trackers.
 *
 * A refused allocation returns NULL like malloc out of memory; the tracker
 * remembers which limit refused it (graft_mem_refusal) so the caller's
 * out-of-memory path can name the setting. A transaction's tracker is used
 * by one thread at a time; the pools above it are shared by the worker
 * threads that run statements at once, so every level counts atomically
 * (mem.c says what that allows). */
#ifndef GRAFT_UTIL_MEM_H
#define GRAFT_UTIL_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct graft_mem {
	uint64_t used;          /* bytes charged now */
	uint64_t peak;          /* highest used */
	uint64_t max;           /* 0: no limit at this level */
	const char *setting;    /* the setting max comes from (static) */
	struct graft_mem *parent; /* a pool this one counts in, or NULL */
	/* The first refusal since init or graft_mem_clear_refusal: */
	const struct graft_mem *refused_by; /* NULL: none */
	uint64_t refused_bytes;
	uint64_t refused_used;  /* what refused_by held then */
	/* graft_mem_set_chunk: the step its parents are charged in (0: each
	 * allocation) and what they hold for it now */
	uint64_t chunk;
	uint64_t granted;
};

/* A tracker with the given limit (0: none), counted in parent (may be
 * NULL). setting is a static string naming the limit's setting. */
void graft_mem_init(struct graft_mem *m, uint64_t max, const char *setting,
		    struct graft_mem *parent);
/* Gives back to the parents what m still holds; m may be reused after
 * graft_mem_init. */
void graft_mem_release(struct graft_mem *m);
/* Moves m, with what it holds, under another parent. */
void graft_mem_reparent(struct graft_mem *m, struct graft_mem *parent);
/* For a tracker only one thread uses at a time (a transaction's): its
 * parents are charged and credited in steps of chunk bytes, not on every
 * allocation, so that threads allocating at once do not bounce the shared
 * pools' counters between their cores. A pool then holds up to about two
 * chunks more than the sum of such trackers; m's own limit stays exact. */
void graft_mem_set_chunk(struct graft_mem *m, uint64_t chunk);
/* A grant handed from one chunked tracker to the next under the same
 * parent, so that a stream of short transactions does not charge and
 * credit the shared pools once each: graft_mem_release_keep releases m
 * but leaves up to keep bytes of its grant charged at its parents and
 * returns them; graft_mem_adopt gives such bytes to a chunked tracker
 * that holds no grant (false, nothing taken, if it holds one). Whoever
 * keeps bytes between the two credits them to the parent if no tracker
 * adopts them (graft_mem_credit). */
uint64_t graft_mem_release_keep(struct graft_mem *m, uint64_t keep);
bool graft_mem_adopt(struct graft_mem *m, uint64_t bytes);

/* Makes m (or NULL: none) the tracker of this thread; returns the one it
 * replaces, for graft_mem_leave. Scopes nest. */
struct graft_mem *graft_mem_enter(struct graft_mem *m);
void graft_mem_leave(struct graft_mem *previous);
/* The tracker of this thread, or NULL. */
struct graft_mem *graft_mem_current(void);

/* Charges bytes to m and its parents: false (nothing charged, the refusal
 * recorded in m) if a limit would be passed. Credits never fail. */
bool graft_mem_charge(struct graft_mem *m, uint64_t bytes);
void graft_mem_credit(struct graft_mem *m, uint64_t bytes);

/* malloc, calloc, realloc and free charging the current tracker. A block
 * from these must be freed or resized by these. */
void *graft_mem_malloc(size_t n);
void *graft_mem_calloc(size_t n, size_t size);
void *graft_mem_realloc(void *p, size_t n);
void graft_mem_free(void *p);

/* The tracker whose limit refused an allocation charged to m (m or one
 * of its parents), or NULL if none was refused. */
const struct graft_mem *graft_mem_refusal(const struct graft_mem *m);
void graft_mem_clear_refusal(struct graft_mem *m);

/* Returns freed heap memory to the operating system (after many
 * connections or a large statement closed). */
void graft_mem_trim(void);

#endif
