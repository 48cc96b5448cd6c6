/* Tokens: the names of labels, relationship types and property keys, each
 * kind numbered from 0 in order of first use, with a hash table from name to
 * number. Tokens are never removed. */
#include <string.h>

#include "../util/err.h"
#include "graph_int.h"

static uint64_t name_hash(const char *p, size_t len)
{
	return graph_hash_mix(graft_hash_bytes(GRAFT_HASH_BYTES_SEED, p, len));
}

static bool name_is(const struct graft_str *s, const char *p, size_t len)
{
	return s->len == len && memcmp(s->data, p, len) == 0;
}

/* The slot holding name, or the empty slot where it would go. */
static uint32_t *find_slot(const struct token_table *t, const char *name,
			   size_t len)
{
	uint32_t mask = t->n_slots - 1;
	uint32_t i = (uint32_t)name_hash(name, len) & mask;

	while (t->slots[i] != 0 &&
	       !name_is(t->names[t->slots[i] - 1], name, len))
		i = (i + 1) & mask;
	return &t->slots[i];
}

/* Keeps the table at most half full; rehashing allocates the new table
 * first, so failure leaves the old one. */
static int grow_slots(struct graph *g, struct token_table *t)
{
	uint32_t *old, n_old;

	if (graph_slots_double(g, &t->slots, &t->n_slots, &old, &n_old) !=
	    GRAFT_OK)
		return GRAFT_ENOMEM;
	for (uint32_t tok = 0; tok < t->n; tok++)
		*find_slot(t, t->names[tok]->data, t->names[tok]->len) =
			tok + 1;
	graph_mem_release(g, old, n_old * sizeof *old);
	return GRAFT_OK;
}

int graph_token_intern(struct graph *g, enum graph_token_kind kind,
		       const char *name, size_t len, uint32_t *out)
{
	struct token_table *t = &g->tokens[kind];
	struct graft_str *s;
	uint32_t *slot;

	*out = graph_token_lookup(g, kind, name, len);
	if (*out != GRAPH_NO_TOKEN)
		return GRAFT_OK;
	if (len > UINT32_MAX || t->n == GRAPH_NO_TOKEN - 1)
		return GRAFT_ENOMEM;
	if ((t->n + 1) * 2 > t->n_slots && grow_slots(g, t) != GRAFT_OK)
		return GRAFT_ENOMEM;
	if (t->n == t->cap) {
		uint32_t cap = t->cap ? t->cap * 2 : 16;
		struct graft_str **names =
			graph_mem_realloc(g, t->names, t->cap * sizeof *names,
					  cap * sizeof *names);
		if (names == NULL)
			return GRAFT_ENOMEM;
		t->names = names;
		t->cap = cap;
	}
	s = graph_mem_alloc(g, sizeof *s + len + 1);
	if (s == NULL)
		return GRAFT_ENOMEM;
	s->len = (uint32_t)len;
	memcpy(s->data, name, len);
	s->data[len] = '\0';
	slot = find_slot(t, name, len);
	t->names[t->n] = s;
	*slot = ++t->n;
	*out = t->n - 1;
	return GRAFT_OK;
}

uint32_t graph_token_lookup(const struct graph *g, enum graph_token_kind kind,
			    const char *name, size_t len)
{
	const struct token_table *t = &g->tokens[kind];

	if (t->n == 0)
		return GRAPH_NO_TOKEN;
	return *find_slot(t, name, len) - 1; /* 0 - 1 is GRAPH_NO_TOKEN */
}

const char *graph_token_name(const struct graph *g, enum graph_token_kind kind,
			     uint32_t tok)
{
	GRAPH_REQUIRE(tok < g->tokens[kind].n, "token %u of kind %d does not "
		      "exist", tok, (int)kind);
	return g->tokens[kind].names[tok]->data;
}

uint32_t graph_token_count(const struct graph *g, enum graph_token_kind kind)
{
	return g->tokens[kind].n;
}

void graph_tokens_free(struct graph *g)
{
	for (int kind = 0; kind < GRAPH_TOKEN_KINDS; kind++) {
		struct token_table *t = &g->tokens[kind];
		for (uint32_t tok = 0; tok < t->n; tok++)
			graph_mem_release(g, t->names[tok],
					  sizeof *t->names[tok] +
						  t->names[tok]->len + 1);
		graph_mem_release(g, t->names, t->cap * sizeof *t->names);
		graph_mem_release(g, t->slots, t->n_slots * sizeof *t->slots);
	}
}
