/* The graph's lifecycle, memory accounting, slot tables, ids and versions,
 * and the creation and deletion of nodes and relationships. */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/err.h"
#include "../util/log.h"
#include "graph_int.h"

bool graph_mem_fails(struct graph *g)
{
	g->allocs++;
	return g->alloc_fail_at != 0 && g->allocs == g->alloc_fail_at;
}

void *graph_mem_alloc(struct graph *g, size_t size)
{
	void *p;

	if (graph_mem_fails(g))
		return NULL;
	p = malloc(size);
	if (p != NULL)
		g->bytes += size;
	return p;
}

void *graph_mem_calloc(struct graph *g, size_t n, size_t size)
{
	void *p;

	if (graph_mem_fails(g))
		return NULL;
	p = calloc(n, size);
	if (p != NULL)
		g->bytes += n * size;
	return p;
}

void *graph_mem_realloc(struct graph *g, void *p, size_t old, size_t size)
{
	void *q;

	if (graph_mem_fails(g))
		return NULL;
	q = realloc(p, size);
	if (q != NULL)
		g->bytes += size - old; /* wraps correctly when shrinking */
	return q;
}

void graph_mem_release(struct graph *g, void *p, size_t size)
{
	if (p == NULL)
		return;
	g->bytes -= size;
	free(p);
}

void *graph_chunk_dir_grow(struct graph *g, void *dir, size_t n, uint64_t c,
			   size_t *new_n)
{
	size_t want = n ? n : 1;
	void **chunks;

	while (want <= c)
		want *= 2;
	if (want > SIZE_MAX / sizeof *chunks)
		return NULL;
	chunks = graph_mem_realloc(g, dir, n * sizeof *chunks,
				   want * sizeof *chunks);
	if (chunks == NULL)
		return NULL;
	memset(chunks + n, 0, (want - n) * sizeof *chunks);
	*new_n = want;
	return chunks;
}

int graph_slots_double(struct graph *g, uint32_t **slots, uint32_t *n_slots,
		       uint32_t **old, uint32_t *n_old)
{
	uint32_t n = *n_slots ? *n_slots * 2 : 16;
	uint32_t *fresh = graph_mem_calloc(g, n, sizeof *fresh);

	if (fresh == NULL)
		return GRAFT_ENOMEM;
	*old = *slots;
	*n_old = *n_slots;
	*slots = fresh;
	*n_slots = n;
	return GRAFT_OK;
}

int graph_value_copy(struct graph *g, struct graft_value *dst,
		     const struct graft_value *src)
{
	if (graph_mem_fails(g)) {
		*dst = graft_value_null();
		return GRAFT_ENOMEM;
	}
	if (graft_value_copy(dst, src) != GRAFT_OK)
		return GRAFT_ENOMEM;
	g->bytes += graft_value_heap_size(dst);
	return GRAFT_OK;
}

void graph_value_release(struct graph *g, struct graft_value *v)
{
	g->bytes -= graft_value_heap_size(v);
	graft_value_free(v);
}

void graph_fail_alloc(struct graph *g, uint64_t nth)
{
	g->allocs = 0;
	g->alloc_fail_at = nth;
}

void graph_violation(const char *func, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	graft_error(
		"graph: %s: precondition violated: %s (a bug in the caller; "
		"stopping before the graph is corrupted)",
		func, msg);
	abort();
}

int graph_new(struct graph **out)
{
	struct graph *g = calloc(1, sizeof *g);

	*out = NULL;
	if (g == NULL)
		return GRAFT_ENOMEM;
	g->bytes = sizeof *g;
	g->nodes.slot_size = sizeof(struct node_slot);
	g->rels.slot_size = sizeof(struct rel_slot);
	if (labelsets_init(g) != GRAFT_OK) {
		free(g);
		return GRAFT_ENOMEM;
	}
	pthread_mutex_init(&g->sorted_mu, NULL);
	g->oldest_snapshot = GRAPH_NOW;
	idmap_init(&g->versions);
	*out = g;
	return GRAFT_OK;
}

static void slots_free(struct graph *g, struct slot_table *t)
{
	slot_chunks_free(g, t);
	graph_mem_release(g, t->chunks, t->n_chunks * sizeof *t->chunks);
}

void graph_free(struct graph *g)
{
	if (g == NULL)
		return;
	for (size_t c = 0; c < g->nodes.n_chunks; c++) {
		struct node_slot *chunk = g->nodes.chunks[c];
		for (uint64_t i = 0; chunk != NULL && i < SLOT_CHUNK; i++)
			propset_free(g, chunk[i].props);
	}
	for (size_t c = 0; c < g->rels.n_chunks; c++) {
		struct rel_slot *chunk = g->rels.chunks[c];
		for (uint64_t i = 0; chunk != NULL && i < SLOT_CHUNK; i++)
			propset_free(g, chunk[i].props);
	}
	slots_free(g, &g->nodes);
	slots_free(g, &g->rels);
	for (uint32_t i = 0; i < g->n_label_bits; i++)
		bitmap_free(g, &g->label_bits[i]);
	graph_mem_release(g, g->label_bits,
			  g->n_label_bits * sizeof *g->label_bits);
	for (uint32_t i = 0; i < g->n_type_bits; i++)
		bitmap_free(g, &g->type_bits[i]);
	graph_mem_release(g, g->type_bits,
			  g->n_type_bits * sizeof *g->type_bits);
	versions_free(g);
	indexes_free(g);
	labelsets_free(g);
	graph_tokens_free(g);
	pthread_mutex_destroy(&g->sorted_mu);
	/* Every byte counted in was counted out: the statistics are exact.
	 * Debug builds only: a drift in the figures is no reason to stop a
	 * server that is shutting down. */
	assert(g->bytes == sizeof *g);
	free(g);
}

void graph_stats(const struct graph *g, struct graph_stats *out)
{
	out->nodes = g->n_nodes;
	out->rels = g->n_rels;
	out->bytes = g->bytes;
	out->node_bytes = sizeof(struct node_slot);
	out->rel_bytes = sizeof(struct rel_slot);
}

static void *slot_at(const struct slot_table *t, uint64_t id)
{
	uint64_t c = id >> SLOT_CHUNK_SHIFT;

	if (c >= t->n_chunks || t->chunks[c] == NULL)
		return NULL;
	return (char *)t->chunks[c] + (id & (SLOT_CHUNK - 1)) * t->slot_size;
}

/* Makes the chunk holding id exist. An empty chunk is all never-created
 * slots, so one left behind by a later failure changes nothing visible. */
static int slot_reserve(struct graph *g, struct slot_table *t, uint64_t id)
{
	uint64_t c = id >> SLOT_CHUNK_SHIFT;

	if (c >= t->n_chunks) {
		void **chunks = graph_chunk_dir_grow(g, t->chunks, t->n_chunks,
						     c, &t->n_chunks);
		if (chunks == NULL)
			return GRAFT_ENOMEM;
		t->chunks = chunks;
	}
	if (t->chunks[c] == NULL) {
		t->chunks[c] = slot_chunk_new(g, t);
		if (t->chunks[c] == NULL)
			return GRAFT_ENOMEM;
	}
	return GRAFT_OK;
}

struct node_slot *graph_node_slot(const struct graph *g, uint64_t id)
{
	return slot_at(&g->nodes, id);
}

struct rel_slot *graph_rel_slot(const struct graph *g, uint64_t id)
{
	return slot_at(&g->rels, id);
}

struct node_slot *graph_live_node(const struct graph *g, uint64_t id,
				  const char *func)
{
	struct node_slot *n = graph_node_slot(g, id);

	if (n == NULL || !(n->flags & SLOT_LIVE))
		graph_violation(func, "node %llu does not exist",
				(unsigned long long)id);
	return n;
}

struct rel_slot *graph_live_rel(const struct graph *g, uint64_t id,
				const char *func)
{
	struct rel_slot *r = graph_rel_slot(g, id);

	if (r == NULL || !(r->flags & SLOT_LIVE))
		graph_violation(func, "relationship %llu does not exist",
				(unsigned long long)id);
	return r;
}

uint64_t graph_next_node_id(const struct graph *g)
{
	return g->next_node;
}

uint64_t graph_next_rel_id(const struct graph *g)
{
	return g->next_rel;
}

void graph_reserve_ids(struct graph *g, uint64_t next_node, uint64_t next_rel)
{
	if (g->next_node < next_node)
		g->next_node = next_node;
	if (g->next_rel < next_rel)
		g->next_rel = next_rel;
}

bool graph_node_exists(const struct graph *g, uint64_t id)
{
	const struct node_slot *n = graph_node_slot(g, id);

	return n != NULL && (n->flags & SLOT_LIVE);
}

uint64_t graph_node_version(const struct graph *g, uint64_t id)
{
	const struct node_slot *n = graph_node_slot(g, id);

	return n != NULL ? n->version : 0;
}

bool graph_rel_exists(const struct graph *g, uint64_t id)
{
	const struct rel_slot *r = graph_rel_slot(g, id);

	return r != NULL && (r->flags & SLOT_LIVE);
}

uint64_t graph_rel_version(const struct graph *g, uint64_t id)
{
	const struct rel_slot *r = graph_rel_slot(g, id);

	return r != NULL ? r->version : 0;
}

void graph_rel_ends(const struct graph *g, uint64_t id,
		    struct graph_rel_ends *out)
{
	const struct rel_slot *r = graph_live_rel(g, id, __func__);

	out->type = r->type;
	out->src = r->src;
	out->dst = r->dst;
}

int graph_node_create(struct graph *g, uint64_t id, uint64_t version)
{
	struct node_slot *n;

	GRAPH_REQUIRE(id != GRAPH_NO_ID, "node id %llu is reserved",
		      (unsigned long long)id);
	n = graph_node_slot(g, id);
	GRAPH_REQUIRE(n == NULL || !(n->flags & SLOT_USED),
		      "node %llu already existed", (unsigned long long)id);
	if (slot_reserve(g, &g->nodes, id) != GRAFT_OK)
		return GRAFT_ENOMEM;
	n = graph_node_slot(g, id);
	n->version = version;
	n->first_out = GRAPH_NO_ID;
	n->first_in = GRAPH_NO_ID;
	n->flags = SLOT_USED | SLOT_LIVE;
	version_seen(g, version);
	g->n_nodes++;
	if (g->next_node <= id)
		g->next_node = id + 1;
	return GRAFT_OK;
}

int graph_node_delete(struct graph *g, uint64_t id, uint64_t version)
{
	struct node_slot *n = graph_live_node(g, id, __func__);
	const struct labelset *ls = graph_node_labelset(g, n);
	struct node_change c = {
		.before = ls,
		.after = labelset_get(g, 0),
		.props = n->props,
		.key = GRAPH_NO_TOKEN,
	};

	GRAPH_REQUIRE(graph_node_degree(g, id, GRAPH_BOTH) == 0,
		      "node %llu still has relationships",
		      (unsigned long long)id);
	if (version_keep_node(g, id, version) != GRAFT_OK)
		return GRAFT_ENOMEM;
	/* Removing from indexes and bitmaps allocates nothing. */
	index_change_commit(g, id, &c);
	for (uint32_t i = 0; i < ls->n; i++)
		bitmap_clear(g, &g->label_bits[ls->labels[i]], id);
	labelset_drop_node(g, n);
	propset_free(g, n->props);
	n->props = NULL;
	n->version = version;
	n->flags &= ~SLOT_LIVE;
	g->n_nodes--;
	return GRAFT_OK;
}

int graph_rel_create(struct graph *g, uint64_t id, uint32_t type, uint64_t src,
		     uint64_t dst, uint64_t version)
{
	struct node_slot *s = graph_live_node(g, src, __func__);
	struct node_slot *d = graph_live_node(g, dst, __func__);
	struct rel_slot *r;
	struct bitmap *bm;

	GRAPH_REQUIRE(id != GRAPH_NO_ID, "relationship id %llu is reserved",
		      (unsigned long long)id);
	GRAPH_REQUIRE(type < graph_token_count(g, GRAPH_TOKEN_RELTYPE),
		      "relationship type %u is not a token", type);
	r = graph_rel_slot(g, id);
	GRAPH_REQUIRE(r == NULL || !(r->flags & SLOT_USED),
		      "relationship %llu already existed",
		      (unsigned long long)id);
	if (slot_reserve(g, &g->rels, id) != GRAFT_OK)
		return GRAFT_ENOMEM;
	bm = bitmap_of(g, &g->type_bits, &g->n_type_bits, type);
	if (bm == NULL || bitmap_reserve(g, bm, id) != GRAFT_OK)
		return GRAFT_ENOMEM;
	bitmap_set(bm, id);
	r = graph_rel_slot(g, id);
	r->version = version;
	r->src = src;
	r->dst = dst;
	r->type = type;
	r->flags = SLOT_USED | SLOT_LIVE | SLOT_LINKED;
	version_seen(g, version);
	r->next_out = s->first_out;
	s->first_out = id;
	r->next_in = d->first_in;
	d->first_in = id;
	g->n_rels++;
	if (g->next_rel <= id)
		g->next_rel = id + 1;
	return GRAFT_OK;
}

/* Unlinks id from one end's list. O(degree of that end). */
static void unlink_rel(struct graph *g, uint64_t *head, uint64_t id, bool out)
{
	uint64_t *link = head;

	while (*link != id) {
		struct rel_slot *r = graph_rel_slot(g, *link);
		GRAPH_REQUIRE(r != NULL, "relationship %llu is missing from "
			      "its end's list", (unsigned long long)id);
		link = out ? &r->next_out : &r->next_in;
	}
	/* The unlinked slot keeps its next pointers for cursors on it. */
	*link = out ? graph_rel_slot(g, id)->next_out
		    : graph_rel_slot(g, id)->next_in;
}

void graph_rel_unlink(struct graph *g, uint64_t id)
{
	struct rel_slot *r = graph_rel_slot(g, id);

	unlink_rel(g, &graph_node_slot(g, r->src)->first_out, id, true);
	unlink_rel(g, &graph_node_slot(g, r->dst)->first_in, id, false);
	r->flags &= ~SLOT_LINKED;
}

int graph_rel_delete(struct graph *g, uint64_t id, uint64_t version)
{
	struct rel_slot *r = graph_live_rel(g, id, __func__);

	if (version_keep_rel(g, id, version) != GRAFT_OK)
		return GRAFT_ENOMEM;
	/* A snapshot that still sees it expands through it: it stays in its
	 * ends' lists until its old state is reclaimed (version.c). */
	if (!version_rel_kept(g, id))
		graph_rel_unlink(g, id);
	bitmap_clear(g, &g->type_bits[r->type], id);
	propset_free(g, r->props);
	r->props = NULL;
	r->version = version;
	r->flags &= ~SLOT_LIVE;
	g->n_rels--;
	return GRAFT_OK;
}
