/* The statement's arena: a bump allocator for the syntax tree and its
 * strings, freed in one go with the statement. */
#include "ast.h"

#include <stdlib.h>
#include <string.h>

#include "../util/mem.h"

/* Arena ---------------------------------------------------------------- */

struct ast_arena_block {
	struct ast_arena_block *next;
	size_t used, size;
	max_align_t data[];
};

void *ast_arena_alloc(struct ast_arena *a, size_t size)
{
	struct ast_arena_block *b = a->head;

	size = (size + 15) & ~(size_t)15;
	if (b == NULL || b->used + size > b->size) {
		size_t cap = size > 16384 ? size : 16384;

		/* parse trees count against the transaction's memory */
		b = graft_mem_malloc(sizeof *b + cap);
		if (b == NULL)
			return NULL;
		b->next = a->head;
		b->used = 0;
		b->size = cap;
		a->head = b;
	}
	void *p = (char *)b->data + b->used;
	b->used += size;
	memset(p, 0, size);
	return p;
}

char *ast_arena_strndup(struct ast_arena *a, const char *s, size_t len)
{
	char *p = ast_arena_alloc(a, len + 1);

	if (p != NULL) {
		memcpy(p, s, len);
		p[len] = 0;
	}
	return p;
}

void ast_arena_free(struct ast_arena *a)
{
	while (a->head != NULL) {
		struct ast_arena_block *b = a->head;

		a->head = b->next;
		graft_mem_free(b);
	}
}
