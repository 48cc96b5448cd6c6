#include "mem.h"

#include <malloc.h>
#include <stdlib.h>

static _Thread_local struct graft_mem *current;

/* The pools are shared by the transactions that worker threads run at
 * once, so every level is counted with atomic operations (a transaction's
 * own level too: it is cheap when uncontended, and one rule is simpler).
 * A limit check and the charge after it are not one step: two threads may
 * both fit under a pool's limit and pass it together by at most their two
 * allocations. */
static uint64_t load(const uint64_t *v)
{
	return __atomic_load_n(v, __ATOMIC_RELAXED);
}

/* *v -= min(bytes, *v) */
static void sub_floor(uint64_t *v, uint64_t bytes)
{
	uint64_t old = load(v), next;

	do
		next = old - (bytes < old ? bytes : old);
	while (!__atomic_compare_exchange_n(v, &old, next, true,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED));
}

/* What m's parents must hold more for bytes more at m: all of it, or for
 * a chunked tracker the chunks its grant lacks. */
static uint64_t to_grant(const struct graft_mem *m, uint64_t bytes)
{
	uint64_t need;

	if (m->chunk == 0)
		return bytes;
	need = load(&m->used) + bytes;
	if (need <= m->granted)
		return 0;
	need -= m->granted;
	return (need + m->chunk - 1) / m->chunk * m->chunk;
}

/* Whether bytes more fit at every level; records the refusal if not. */
static bool fits(struct graft_mem *m, uint64_t bytes)
{
	uint64_t above = to_grant(m, bytes);

	for (struct graft_mem *p = m; p != NULL; p = p->parent) {
		uint64_t more = p == m ? bytes : above;

		if (more == 0)
			break;
		if (p->max != 0 && load(&p->used) + more > p->max) {
			if (m->refused_by == NULL) {
				m->refused_by = p;
				m->refused_bytes = bytes;
				m->refused_used = load(&p->used);
			}
			return false;
		}
	}
	return true;
}

static void count(struct graft_mem *p, uint64_t bytes)
{
	uint64_t used, peak;

	/* a begin counts 0 twice (graft_mem_set_chunk, _reparent): no
	 * locked add for it */
	if (bytes == 0)
		return;
	used = __atomic_add_fetch(&p->used, bytes, __ATOMIC_RELAXED);
	peak = load(&p->peak);

	while (used > peak &&
	       !__atomic_compare_exchange_n(&p->peak, &peak, used, true,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

/* Counts bytes at p and every level above it. */
static void add_from(struct graft_mem *p, uint64_t bytes)
{
	for (; p != NULL && bytes != 0; p = p->parent)
		count(p, bytes);
}

static void sub_from(struct graft_mem *p, uint64_t bytes)
{
	for (; p != NULL && bytes != 0; p = p->parent)
		sub_floor(&p->used, bytes);
}

static void add(struct graft_mem *m, uint64_t bytes)
{
	uint64_t above;

	if (m->chunk == 0) {
		add_from(m, bytes);
		return;
	}
	above = to_grant(m, bytes);
	m->granted += above;
	add_from(m->parent, above);
	count(m, bytes);
}

void graft_mem_init(struct graft_mem *m, uint64_t max, const char *setting,
		    struct graft_mem *parent)
{
	*m = (struct graft_mem){.max = max, .setting = setting,
				.parent = parent};
}

void graft_mem_release(struct graft_mem *m)
{
	sub_from(m->parent, m->chunk != 0 ? m->granted : load(&m->used));
	m->granted = 0;
	__atomic_store_n(&m->used, 0, __ATOMIC_RELAXED);
}

uint64_t graft_mem_release_keep(struct graft_mem *m, uint64_t keep)
{
	uint64_t kept = m->chunk == 0 || m->parent == NULL ? 0
			: m->granted < keep			? m->granted
								: keep;

	m->granted -= kept;
	graft_mem_release(m);
	return kept;
}

bool graft_mem_adopt(struct graft_mem *m, uint64_t bytes)
{
	if (m->chunk == 0 || m->granted != 0)
		return false;
	m->granted = bytes;
	return true;
}

void graft_mem_reparent(struct graft_mem *m, struct graft_mem *parent)
{
	uint64_t held = load(&m->used);

	graft_mem_release(m);
	m->parent = parent;
	/* what it holds exists already: counted even past a pool's limit */
	add(m, held);
}

void graft_mem_set_chunk(struct graft_mem *m, uint64_t chunk)
{
	uint64_t held = load(&m->used);

	graft_mem_release(m);
	m->chunk = chunk;
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
	uint64_t held = load(&m->used), spare;

	if (bytes > held)
		bytes = held;
	if (m->chunk == 0) {
		sub_from(m, bytes);
		return;
	}
	sub_floor(&m->used, bytes);
	/* give back whole chunks, keeping one spare: a transaction that
	 * frees and allocates around a chunk's edge does not touch its
	 * parents each time */
	spare = m->granted - (held - bytes);
	if (spare >= 2 * m->chunk) {
		spare = (spare - m->chunk) / m->chunk * m->chunk;
		m->granted -= spare;
		sub_from(m->parent, spare);
	}
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
