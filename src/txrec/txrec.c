/* Record building and freeing. Encoding is in encode.c, decoding in decode.c. */
#include "txrec.h"

#include <stdlib.h>
#include <string.h>

#include "../util/err.h"

void txrec_init(struct txrec *r)
{
	memset(r, 0, sizeof *r);
}

static void op_free(struct txrec_op *op)
{
	free(op->name);
	free(op->name2);
	graft_value_free(&op->value);
}

void txrec_free(struct txrec *r)
{
	for (size_t i = 0; i < r->n_ops; i++)
		op_free(&r->ops[i]);
	free(r->ops);
	free(r->reads);
	free(r->db);
	txrec_init(r);
}

/* Doubles *cap (from 8) until it exceeds n; O(1) amortised appends. */
static int grow(void **p, size_t *cap, size_t n, size_t size)
{
	size_t c = *cap ? *cap : 8;
	void *q;

	if (n < *cap)
		return GRAFT_OK;
	while (c <= n)
		c *= 2;
	q = realloc(*p, c * size);
	if (q == NULL)
		return GRAFT_ENOMEM;
	*p = q;
	*cap = c;
	return GRAFT_OK;
}

int txrec_add_read(struct txrec *r, enum txrec_entity entity, uint64_t id,
		   uint64_t version)
{
	int rv = grow((void **)&r->reads, &r->cap_reads, r->n_reads,
		      sizeof *r->reads);

	if (rv != GRAFT_OK)
		return rv;
	r->reads[r->n_reads++] = (struct txrec_read){
		.entity = (uint8_t)entity, .id = id, .version = version};
	return GRAFT_OK;
}

int txrec_add_op(struct txrec *r, struct txrec_op *op)
{
	int rv = grow((void **)&r->ops, &r->cap_ops, r->n_ops, sizeof *r->ops);

	if (rv != GRAFT_OK)
		return rv;
	r->ops[r->n_ops++] = *op;
	return GRAFT_OK;
}
