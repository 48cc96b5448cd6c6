#include "mem.h"

#include <malloc.h>
#include <stdlib.h>

static _Thread_local struct graft_mem *current;

/* Whether bytes more fit at every level; records the refusal if not. */
static bool fits(struct graft_mem *m, uint64_t bytes)
{
	for (struct graft_mem *p = m; p != NULL; p = p->parent)
		if (p->max != 0 && p->used + bytes > p->max) {
			if (m->refused_by == NULL) {
				m->refused_by = p;
				m->refused_bytes = bytes;
				m->refused_used = p->used;
			}
			return false;
		}
	return true;
}

static void add(struct graft_mem *m, uint64_t bytes)
{
	for (struct graft_mem *p = m; p != NULL; p = p->parent) {
		p->used += bytes;
		if (p->used > p->peak)
			p->peak = p->used;
	}
}

void graft_mem_init(struct graft_mem *m, uint64_t max, const char *setting,
		    struct graft_mem *parent)
{
	*m = (struct graft_mem){.max = max, .setting = setting,
				.parent = parent};
}

void graft_mem_release(struct graft_mem *m)
{
	for (struct graft_mem *p = m->parent; p != NULL; p = p->parent)
		p->used -= m->used < p->used ? m->used : p->used;
	m->used = 0;
}

void graft_mem_reparent(struct graft_mem *m, struct graft_mem *parent)
{
	uint64_t held = m->used;

	graft_mem_release(m);
	m->parent = parent;
	/* what it holds exists already: counted even past a pool's limit */
	m->used = 0;
	add(m, held);
}

struct graft_mem *graft_mem_enter(struct graft_mem *m)
{
	struct graft_mem *previous = current;

	current = m;
	return previous;
}

void graft_mem_leave(struct graft_mem *previous)
{
	current = previous;
}

struct graft_mem *graft_mem_current(void)
{
	return current;
}

bool graft_mem_charge(struct graft_mem *m, uint64_t bytes)
{
	if (!fits(m, bytes))
		return false;
	add(m, bytes);
	return true;
}

void graft_mem_credit(struct graft_mem *m, uint64_t bytes)
{
	/* a block charged elsewhere (or before the tracker) credits at most
	 * what this one holds, so each level stays the sum below it */
	if (bytes > m->used)
		bytes = m->used;
	for (struct graft_mem *p = m; p != NULL; p = p->parent)
		p->used -= bytes < p->used ? bytes : p->used;
}

/* Charges a fresh block, or frees it when the tracker refuses it. */
static void *charged(struct graft_mem *m, void *p)
{
	if (p != NULL && m != NULL &&
	    !graft_mem_charge(m, malloc_usable_size(p))) {
		free(p);
		return NULL;
	}
	return p;
}

void *graft_mem_malloc(size_t n)
{
	return charged(current, malloc(n));
}

void *graft_mem_calloc(size_t n, size_t size)
{
	struct graft_mem *m = current;

	/* refuse before zeroing a block that cannot be kept */
	if (m != NULL && size != 0 && n <= SIZE_MAX / size &&
	    !fits(m, n * size))
		return NULL;
	return charged(m, calloc(n, size));
}

void *graft_mem_realloc(void *p, size_t n)
{
	struct graft_mem *m = current;
	size_t old = p != NULL ? malloc_usable_size(p) : 0;
	void *q;

	if (m == NULL)
		return realloc(p, n);
	/* refuse the growth first: a refused realloc leaves p as it was */
	if (n > old && !fits(m, n - old))
		return NULL;
	q = realloc(p, n);
	if (q == NULL)
		return NULL;
	graft_mem_credit(m, old);
	add(m, malloc_usable_size(q));
	return q;
}

void graft_mem_free(void *p)
{
	if (p == NULL)
		return;
	if (current != NULL)
		graft_mem_credit(current, malloc_usable_size(p));
	free(p);
}

const struct graft_mem *graft_mem_refusal(const struct graft_mem *m)
{
	return m != NULL ? m->refused_by : NULL;
}

void graft_mem_clear_refusal(struct graft_mem *m)
{
	m->refused_by = NULL;
	m->refused_bytes = 0;
	m->refused_used = 0;
}

void graft_mem_trim(void)
{
	malloc_trim(0);
}
