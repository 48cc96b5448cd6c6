/* Building and releasing transaction records in memory. */
#include "txrec.h"

#include <stdlib.h>

#include "../util/err.h"
#include "txrec_int.h"

const struct txrec_op_desc txrec_op_descs[TXREC_OP_MAX + 1] = {
	[TXREC_NODE_CREATE] = {"NODE_CREATE", TXREC_F_ID, NULL},
	[TXREC_NODE_DELETE] = {"NODE_DELETE", TXREC_F_ID, NULL},
	[TXREC_NODE_ADD_LABEL] = {"NODE_ADD_LABEL", TXREC_F_ID | TXREC_F_NAME,
				  "label"},
	[TXREC_NODE_REMOVE_LABEL] = {"NODE_REMOVE_LABEL",
				     TXREC_F_ID | TXREC_F_NAME, "label"},
	[TXREC_NODE_SET_PROP] = {"NODE_SET_PROP",
				 TXREC_F_ID | TXREC_F_NAME | TXREC_F_VALUE,
				 "property key"},
	[TXREC_REL_CREATE] = {"REL_CREATE",
			      TXREC_F_ID | TXREC_F_NAME | TXREC_F_ENDS,
			      "relationship type"},
	[TXREC_REL_DELETE] = {"REL_DELETE", TXREC_F_ID, NULL},
	[TXREC_REL_SET_PROP] = {"REL_SET_PROP",
				TXREC_F_ID | TXREC_F_NAME | TXREC_F_VALUE,
				"property key"},
	[TXREC_INDEX_CREATE] = {"INDEX_CREATE", TXREC_F_NAME | TXREC_F_NAME2,
				"label"},
	[TXREC_INDEX_DROP] = {"INDEX_DROP", TXREC_F_NAME | TXREC_F_NAME2,
			      "label"},
};

unsigned txrec_op_width(unsigned fields)
{
	return 1 + !!(fields & TXREC_F_ID) + !!(fields & TXREC_F_NAME) +
	       2 * !!(fields & TXREC_F_ENDS) + !!(fields & TXREC_F_VALUE) +
	       !!(fields & TXREC_F_NAME2);
}

int txrec_op_check(const struct txrec_op *op, size_t index, char *errmsg)
{
	const struct txrec_op_desc *d;

	if (op->type < 1 || op->type > TXREC_OP_MAX)
		return graft_errf(errmsg, GRAFT_EINVAL,
				  "op %zu: unknown type %u", index, op->type);
	d = &txrec_op_descs[op->type];
	if ((d->fields & TXREC_F_NAME) && op->name == NULL)
		return graft_errf(errmsg, GRAFT_EINVAL,
				  "op %zu: %s without a %s", index, d->name,
				  d->name_what);
	if ((d->fields & TXREC_F_NAME2) && op->name2 == NULL)
		return graft_errf(errmsg, GRAFT_EINVAL,
				  "op %zu: %s without a property key", index,
				  d->name);
	if (op->value.type > GRAFT_VALUE_STORABLE_MAX)
		return graft_errf(errmsg, GRAFT_EINVAL,
				  "op %zu: %s with a value of unknown type %u",
				  index, d->name, op->value.type);
	return GRAFT_OK;
}

void txrec_init(struct txrec *r)
{
	r->db = NULL;
	r->commit_time_ms = 0;
	r->n_reads = r->cap_reads = 0;
	r->reads = NULL;
	r->n_ops = r->cap_ops = 0;
	r->ops = NULL;
	r->n_names = r->cap_names = 0;
	r->names = NULL;
}

void txrec_free(struct txrec *r)
{
	for (size_t i = 0; i < r->n_ops; i++) {
		if (!(r->ops[i].borrowed & TXREC_BORROWED_NAME))
			free(r->ops[i].name);
		if (!(r->ops[i].borrowed & TXREC_BORROWED_NAME2))
			free(r->ops[i].name2);
		graft_value_free(&r->ops[i].value);
	}
	for (size_t i = 0; i < r->n_names; i++)
		free(r->names[i]);
	free(r->names);
	free(r->ops);
	free(r->reads);
	free(r->db);
	txrec_init(r);
}

/* Makes room for one more element in an array of *cap elements of size sz. */
static int grow(void **items, size_t n, size_t *cap, size_t sz)
{
	size_t c = *cap ? *cap * 2 : 8;
	void *p;

	if (n < *cap)
		return GRAFT_OK;
	p = realloc(*items, c * sz);
	if (p == NULL)
		return GRAFT_ENOMEM;
	*items = p;
	*cap = c;
	return GRAFT_OK;
}

int txrec_add_read(struct txrec *r, enum txrec_entity entity, uint64_t id,
		   uint64_t version)
{
	int rv = grow((void **)&r->reads, r->n_reads, &r->cap_reads,
		      sizeof *r->reads);

	if (rv != GRAFT_OK)
		return rv;
	r->reads[r->n_reads].entity = (uint8_t)entity;
	r->reads[r->n_reads].id = id;
	r->reads[r->n_reads].version = version;
	r->n_reads++;
	return GRAFT_OK;
}

int txrec_add_op(struct txrec *r, struct txrec_op *op)
{
	int rv = txrec_op_check(op, r->n_ops, NULL);

	if (rv == GRAFT_OK)
		rv = grow((void **)&r->ops, r->n_ops, &r->cap_ops,
			  sizeof *r->ops);
	if (rv != GRAFT_OK)
		return rv;
	r->ops[r->n_ops++] = *op;
	return GRAFT_OK;
}

struct graft_str *txrec_name(struct txrec *r, const char *s, size_t len)
{
	struct graft_str *name;

	if (grow((void **)&r->names, r->n_names, &r->cap_names,
		 sizeof *r->names) != GRAFT_OK)
		return NULL;
	name = graft_str_new(s, len);
	if (name != NULL)
		r->names[r->n_names++] = name;
	return name;
}
