/* The relational operators between pattern matches and writes: argument,
 * filter, unwind, projection, aggregation, distinct, sort, skip/limit,
 * union, apply (subqueries), eager buffering and procedure calls. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "ops.h"
#include "plan_int.h"

int exec_interrupted(struct exec_ctx *x)
{
	if (x->terminated != NULL &&
	    __atomic_load_n(x->terminated, __ATOMIC_RELAXED))
		return exec_fail(x, GRAFT_STATUS_TX_TERMINATED,
				      "The transaction has been terminated. Retry your operation in a new transaction, and you should see a successful result. Explicitly terminated by the user.");
	if (x->deadline_ns != 0 && uv_hrtime() > x->deadline_ns)
		return exec_fail(x, GRAFT_STATUS_TX_TIMED_OUT,
				      "The transaction has been terminated because it ran longer than its timeout (db.transaction.timeout); make the query cheaper or raise the timeout");
	return 0;
}

int exec_tick(struct exec_ctx *x)
{
	if ((++x->tick & 1023) != 0)
		return 0;
	return exec_interrupted(x) < 0 ? -1 : exec_yield(x);
}

/* After the gate was left: the database may have ended the snapshot
 * meanwhile (db_tx_check). */
static int snapshot_kept(struct exec_ctx *x)
{
	char msg[GRAFT_ERRMSG_SIZE];

	if (x->tx == NULL || db_tx_check(x->tx, msg) == GRAFT_OK)
		return 0;
	return exec_fail(x, GRAFT_STATUS_MEMORY_POOL_OUT_OF_MEMORY,
			 "The transaction has been terminated: %s", msg);
}

/* A reader lets waiting commits apply (graft_gate_yield): operators keep
 * ids and their own copies of values between rows, never pointers into
 * the graph, and the snapshot keeps what the reader sees unchanged. */
int exec_yield(struct exec_ctx *x)
{
	if (x->gate == NULL || !graft_gate_yield(x->gate))
		return 0;
	return snapshot_kept(x);
}

int exec_outside_gate(struct exec_ctx *x, void (*fn)(void *arg), void *arg)
{
	bool paused = x->gate != NULL && graft_gate_pause(x->gate);

	fn(arg);
	graft_gate_resume(x->gate, paused);
	return paused ? snapshot_kept(x) : 0;
}


bool exec_mem_refused(const struct graft_mem *m, struct cypher_error *err)
{
	const struct graft_mem *by = graft_mem_refusal(m);

	if (by == NULL)
		return false;
	cypher_error_set(err, GRAFT_STATUS_MEMORY_POOL_OUT_OF_MEMORY,
			 "The allocation of an extra %llu B would use more than the limit %llu B. Currently using %llu B. %s threshold reached; make the query hold less (LIMIT, smaller lists, strings and aggregations) or raise the setting",
			 (unsigned long long)m->refused_bytes,
			 (unsigned long long)by->max,
			 (unsigned long long)m->refused_used, by->setting);
	return true;
}

/* Saved rows ------------------------------------------------------------- */

static struct graft_value *row_save(struct exec_ctx *x)
{
	struct graft_value *r = graft_mem_calloc(x->nslots ? x->nslots : 1, sizeof *r);

	if (r == NULL)
		return NULL;
	for (uint32_t i = 0; i < x->nslots; i++)
		if (graft_value_copy(&r[i], &x->row[i]) != GRAFT_OK) {
			for (uint32_t j = 0; j < i; j++)
				graft_value_free(&r[j]);
			graft_mem_free(r);
			return NULL;
		}
	return r;
}

static void row_free(struct graft_value *r, uint32_t n)
{
	if (r == NULL)
		return;
	for (uint32_t i = 0; i < n; i++)
		graft_value_free(&r[i]);
	graft_mem_free(r);
}

/* Copies a saved row into the live row (the saved one stays). */
static int row_load(struct exec_ctx *x, const struct graft_value *r)
{
	for (uint32_t i = 0; i < x->nslots; i++) {
		struct graft_value v;

		if (graft_value_copy(&v, &r[i]) != GRAFT_OK)
			return exec_oom(x);
		row_set(x, (int32_t)i, v);
	}
	return 0;
}

struct rowbuf {
	struct graft_value **rows;
	size_t n, cap, pos;
};

static int rowbuf_push(struct exec_ctx *x, struct rowbuf *b)
{
	struct graft_value *r;

	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		struct graft_value **p = graft_mem_realloc(b->rows, cap * sizeof *p);

		if (p == NULL)
			return exec_oom(x);
		b->rows = p;
		b->cap = cap;
	}
	r = row_save(x);
	if (r == NULL)
		return exec_oom(x);
	b->rows[b->n++] = r;
	return 0;
}

static void rowbuf_clear(struct rowbuf *b, uint32_t nslots)
{
	for (size_t i = 0; i < b->n; i++)
		row_free(b->rows[i], nslots);
	b->n = b->pos = 0;
}

static void rowbuf_free(struct rowbuf *b, uint32_t nslots)
{
	rowbuf_clear(b, nslots);
	graft_mem_free(b->rows);
	b->rows = NULL;
	b->cap = 0;
}

/* Drains child into b. */
static int rowbuf_fill(struct exec_ctx *x, struct op *child, struct rowbuf *b)
{
	int r;

	while ((r = child->vt->next(child, x)) > 0)
		if (exec_tick(x) < 0 || rowbuf_push(x, b) < 0)
			return -1;
	return r;
}

static int rowbuf_next(struct exec_ctx *x, struct rowbuf *b)
{
	if (b->pos >= b->n)
		return 0;
	return row_load(x, b->rows[b->pos++]) < 0 ? -1 : 1;
}

static int open_child(struct op *op, struct exec_ctx *x)
{
	return op->child ? op->child->vt->open(op->child, x) : 0;
}

static void free_nothing(struct op *op)
{
	(void)op;
}

/* Argument: one row, the one already in the context. ---------------------- */

struct argument_op {
	struct op base;
	bool done;
};

static int argument_open(struct op *op, struct exec_ctx *x)
{
	(void)x;
	((struct argument_op *)op)->done = false;
	return 0;
}

static int argument_next(struct op *op, struct exec_ctx *x)
{
	struct argument_op *a = (struct argument_op *)op;

	(void)x;
	if (a->done)
		return 0;
	a->done = true;
	op->rows++;
	return 1;
}

static const struct op_vt argument_vt = {"Argument", argument_open,
					 argument_next, free_nothing};

struct op *op_argument(void)
{
	struct argument_op *a = op_new(sizeof *a, &argument_vt, NULL);

	return a ? &a->base : NULL;
}

/* Filter -------------------------------------------------------------- */

struct expr_op {
	struct op base;
	struct ast *e;
	int32_t slot;
	struct graft_value list;
	uint32_t pos;
};

static int filter_next(struct op *op, struct exec_ctx *x)
{
	struct expr_op *f = (struct expr_op *)op;
	int r, t;

	while ((r = op->child->vt->next(op->child, x)) > 0) {
		t = eval_pred(x, f->e);
		if (t < 0)
			return -1;
		if (t == CYPHER_TRUE) {
			op->rows++;
			return 1;
		}
	}
	return r;
}

static void expr_free(struct op *op)
{
	graft_value_free(&((struct expr_op *)op)->list);
}

static const struct op_vt filter_vt = {"Filter", open_child, filter_next,
				       expr_free};

static struct op *expr_op(const struct op_vt *vt, struct op *child,
			  struct ast *e, int32_t slot)
{
	struct expr_op *f = op_new(sizeof *f, vt, child);

	if (f == NULL)
		return NULL;
	f->e = e;
	f->slot = slot;
	return &f->base;
}

struct op *op_filter(struct op *child, struct ast *pred)
{
	return expr_op(&filter_vt, child, pred, -1);
}

/* Unwind -------------------------------------------------------------- */

/* UNWIND range(...) walks the integers instead of building the list, so
 * its memory does not grow with the range (Neo4j's range is lazy too). */
struct unwind_op {
	struct expr_op e;
	bool lazy;             /* the expression is a call of range() */
	struct cypher_range r; /* what is left of the current range */
};

static int unwind_open(struct op *op, struct exec_ctx *x)
{
	struct unwind_op *u = (struct unwind_op *)op;

	graft_value_free(&u->e.list);
	u->e.pos = 0;
	u->r.count = 0;
	return open_child(op, x);
}

/* Evaluates range()'s arguments for the current row. */
static int range_start(struct exec_ctx *x, struct unwind_op *u)
{
	struct ast *call = u->e.e;
	struct graft_value args[3] = {0};
	int rv = 0;

	for (uint32_t i = 0; rv == 0 && i < call->n; i++)
		rv = eval(x, call->kids[i], &args[i]);
	if (rv == 0) {
		x->err->code[0] = 0;
		rv = exec_rv(x, cypher_range_bounds(&x->fc, args, call->n,
						     &u->r));
	}
	for (uint32_t i = 0; i < call->n; i++)
		graft_value_free(&args[i]);
	return rv;
}

/* The next item of the current list or range: 1, or 0 when it is used
 * up. */
static int unwind_item(struct exec_ctx *x, struct unwind_op *u)
{
	struct graft_value v;

	if (u->r.count > 0) {
		row_set(x, u->e.slot, graft_value_int(u->r.start));
		if (--u->r.count > 0)
			u->r.start += u->r.step;
		return 1;
	}
	if (u->e.list.type != GRAFT_VALUE_LIST ||
	    u->e.pos >= u->e.list.u.list->len)
		return 0;
	if (graft_value_copy(&v, &u->e.list.u.list->items[u->e.pos++]) !=
	    GRAFT_OK)
		return exec_oom(x);
	row_set(x, u->e.slot, v);
	return 1;
}

/* Evaluates the list for the current row; a single value is a list of
 * one. */
static int unwind_list(struct exec_ctx *x, struct unwind_op *u)
{
	struct graft_value one;

	if (u->lazy)
		return range_start(x, u);
	if (eval(x, u->e.e, &u->e.list) < 0)
		return -1;
	u->e.pos = 0;
	if (u->e.list.type == GRAFT_VALUE_NULL ||
	    u->e.list.type == GRAFT_VALUE_LIST)
		return 0;
	if (graft_value_list(&one, 1) != GRAFT_OK)
		return exec_oom(x);
	one.u.list->items[0] = u->e.list;
	u->e.list = one;
	return 0;
}

static int unwind_next(struct op *op, struct exec_ctx *x)
{
	struct unwind_op *u = (struct unwind_op *)op;
	int r;

	for (;;) {
		if (exec_tick(x) < 0)
			return -1;
		r = unwind_item(x, u);
		if (r != 0) {
			op->rows += r > 0;
			return r;
		}
		graft_value_free(&u->e.list);
		r = op->child->vt->next(op->child, x);
		if (r <= 0)
			return r;
		if (unwind_list(x, u) < 0)
			return -1;
	}
}

static const struct op_vt unwind_vt = {"Unwind", unwind_open, unwind_next,
				       expr_free};

struct op *op_unwind(struct op *child, struct ast *list, int32_t slot)
{
	struct unwind_op *u = op_new(sizeof *u, &unwind_vt, child);

	if (u == NULL)
		return NULL;
	u->e.e = list;
	u->e.slot = slot;
	u->lazy = list->kind == AST_FUNC && list->slot < 0 &&
		  list->plan == cypher_func_lookup("range", 5);
	return &u->e.base;
}

/* Projection ---------------------------------------------------------- */

struct project_op {
	struct op base;
	struct ast **exprs;
	int32_t *slots;
	uint32_t n;
	struct graft_value *tmp;
};

static int project_next(struct op *op, struct exec_ctx *x)
{
	struct project_op *p = (struct project_op *)op;
	int r = op->child->vt->next(op->child, x);

	if (r <= 0)
		return r;
	/* evaluate all first: WITH a AS b, b AS a swaps */
	for (uint32_t i = 0; i < p->n; i++)
		if (eval(x, p->exprs[i], &p->tmp[i]) < 0) {
			for (uint32_t j = 0; j < i; j++)
				graft_value_free(&p->tmp[j]);
			return -1;
		}
	for (uint32_t i = 0; i < p->n; i++) {
		row_set(x, p->slots[i], p->tmp[i]);
		p->tmp[i] = graft_value_null();
	}
	op->rows++;
	return 1;
}

static void project_free(struct op *op)
{
	struct project_op *p = (struct project_op *)op;

	graft_mem_free(p->exprs);
	graft_mem_free(p->slots);
	graft_mem_free(p->tmp);
}

static const struct op_vt project_vt = {"Projection", open_child,
					project_next, project_free};

struct op *op_project(struct op *child, struct ast **exprs, int32_t *slots,
		      uint32_t n)
{
	struct project_op *p = op_new(sizeof *p, &project_vt, child);

	if (p == NULL || (p->tmp = graft_mem_calloc(n + 1, sizeof *p->tmp)) == NULL) {
		graft_mem_free(p);
		return NULL;
	}
	p->exprs = exprs;
	p->slots = slots;
	p->n = n;
	return &p->base;
}

/* Hash sets of value tuples (grouping, DISTINCT, UNION) ------------------ */

struct tuple {
	struct tuple *next;
	uint64_t hash;
	void *data;               /* group payload */
	uint32_t n;
	struct graft_value v[];
};

struct tuple_set {
	struct tuple **buckets;
	size_t nb, count;
	struct tuple **order;     /* insertion order */
	size_t cap;
};

static uint64_t tuple_hash(const struct graft_value *v, uint32_t n)
{
	uint64_t h = 1469598103934665603ull;

	for (uint32_t i = 0; i < n; i++)
		h = (h ^ cypher_equivalent_hash(&v[i])) * 1099511628211ull;
	return h;
}

static bool tuple_eq(const struct tuple *t, const struct graft_value *v,
		     uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (!cypher_equivalent(&t->v[i], &v[i]))
			return false;
	return true;
}

static int set_grow(struct tuple_set *s)
{
	size_t nb = s->nb ? s->nb * 2 : 64;
	struct tuple **b = graft_mem_calloc(nb, sizeof *b);

	if (b == NULL)
		return GRAFT_ENOMEM;
	for (size_t i = 0; i < s->count; i++) {
		struct tuple *t = s->order[i];

		t->next = b[t->hash & (nb - 1)];
		b[t->hash & (nb - 1)] = t;
	}
	graft_mem_free(s->buckets);
	s->buckets = b;
	s->nb = nb;
	return GRAFT_OK;
}

/* Finds v (n values) or inserts a copy; *found says which. */
static struct tuple *set_find_or_add(struct tuple_set *s,
				     const struct graft_value *v, uint32_t n,
				     bool *found)
{
	uint64_t h = tuple_hash(v, n);
	struct tuple *t;

	for (t = s->nb ? s->buckets[h & (s->nb - 1)] : NULL; t; t = t->next)
		if (t->hash == h && tuple_eq(t, v, n)) {
			*found = true;
			return t;
		}
	*found = false;
	if (s->count >= s->nb * 3 / 4 && set_grow(s) != GRAFT_OK)
		return NULL;
	if (s->count == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct tuple **o = graft_mem_realloc(s->order, cap * sizeof *o);

		if (o == NULL)
			return NULL;
		s->order = o;
		s->cap = cap;
	}
	t = graft_mem_calloc(1, sizeof *t + n * sizeof t->v[0]);
	if (t == NULL)
		return NULL;
	t->hash = h;
	t->n = n;
	for (uint32_t i = 0; i < n; i++)
		if (graft_value_copy(&t->v[i], &v[i]) != GRAFT_OK) {
			for (uint32_t j = 0; j < i; j++)
				graft_value_free(&t->v[j]);
			graft_mem_free(t);
			return NULL;
		}
	t->next = s->buckets[h & (s->nb - 1)];
	s->buckets[h & (s->nb - 1)] = t;
	s->order[s->count++] = t;
	return t;
}

static void set_clear(struct tuple_set *s, void (*data_free)(void *, void *),
		      void *arg)
{
	for (size_t i = 0; i < s->count; i++) {
		struct tuple *t = s->order[i];

		if (data_free)
			data_free(arg, t->data);
		for (uint32_t j = 0; j < t->n; j++)
			graft_value_free(&t->v[j]);
		graft_mem_free(t);
	}
	graft_mem_free(s->buckets);
	graft_mem_free(s->order);
	memset(s, 0, sizeof *s);
}

/* Distinct ------------------------------------------------------------- */

struct distinct_op {
	struct op base;
	int32_t *slots;
	uint32_t n;
	struct tuple_set seen;
	struct graft_value *tmp;
};

static int distinct_open(struct op *op, struct exec_ctx *x)
{
	struct distinct_op *d = (struct distinct_op *)op;

	set_clear(&d->seen, NULL, NULL);
	return open_child(op, x);
}

static int distinct_next(struct op *op, struct exec_ctx *x)
{
	struct distinct_op *d = (struct distinct_op *)op;
	int r;

	while ((r = op->child->vt->next(op->child, x)) > 0) {
		bool found;

		for (uint32_t i = 0; i < d->n; i++)
			d->tmp[i] = x->row[d->slots[i]];
		if (set_find_or_add(&d->seen, d->tmp, d->n, &found) == NULL)
			return exec_oom(x);
		if (!found) {
			op->rows++;
			return 1;
		}
	}
	if (r == 0)
		set_clear(&d->seen, NULL, NULL);
	return r;
}

static void distinct_free(struct op *op)
{
	struct distinct_op *d = (struct distinct_op *)op;

	set_clear(&d->seen, NULL, NULL);
	graft_mem_free(d->slots);
	graft_mem_free(d->tmp);
}

static const struct op_vt distinct_vt = {"Distinct", distinct_open,
					 distinct_next, distinct_free};

struct op *op_distinct(struct op *child, int32_t *slots, uint32_t n)
{
	struct distinct_op *d = op_new(sizeof *d, &distinct_vt, child);

	if (d == NULL || (d->tmp = graft_mem_calloc(n + 1, sizeof *d->tmp)) == NULL) {
		graft_mem_free(d);
		return NULL;
	}
	d->slots = slots;
	d->n = n;
	return &d->base;
}

/* Aggregation -------------------------------------------------------------- */

struct agg_op {
	struct op base;
	struct ast **keys;
	uint32_t nkeys;
	struct ast **aggs;        /* AST_FUNC / AST_COUNT_STAR, slot set */
	uint32_t naggs;
	const struct cypher_agg **defs;
	struct ast **items;
	int32_t *item_slots;
	uint32_t nitems;
	struct tuple_set groups;
	size_t pos;
	bool filled;
	struct graft_value *tmp;
	uint32_t nslots;
};

struct group {
	struct graft_value *first;
	void **states;
	struct tuple_set *distinct; /* per aggregate, for DISTINCT */
};

static void group_free(void *arg, void *p)
{
	struct agg_op *a = arg;
	struct group *g = p;

	if (g == NULL)
		return;
	for (uint32_t i = 0; i < a->naggs; i++) {
		if (g->states[i] != NULL) {
			if (a->defs[i]->free)
				a->defs[i]->free(g->states[i]);
			graft_mem_free(g->states[i]);
		}
		set_clear(&g->distinct[i], NULL, NULL);
	}
	row_free(g->first, a->nslots);
	graft_mem_free(g->states);
	graft_mem_free(g->distinct);
	graft_mem_free(g);
}

static struct group *group_new(struct agg_op *a, struct exec_ctx *x)
{
	struct group *g = graft_mem_calloc(1, sizeof *g);

	if (g == NULL)
		return NULL;
	g->states = graft_mem_calloc(a->naggs + 1, sizeof *g->states);
	g->distinct = graft_mem_calloc(a->naggs + 1, sizeof *g->distinct);
	g->first = row_save(x);
	if (g->states == NULL || g->distinct == NULL || g->first == NULL)
		goto err;
	for (uint32_t i = 0; i < a->naggs; i++) {
		g->states[i] = graft_mem_calloc(1, a->defs[i]->state_size + 1);
		if (g->states[i] == NULL)
			goto err;
		a->defs[i]->init(g->states[i]);
	}
	return g;
err:
	group_free(a, g);
	return NULL;
}

static int agg_step(struct agg_op *a, struct exec_ctx *x, struct group *g,
		    uint32_t i)
{
	struct ast *e = a->aggs[i];
	struct graft_value args[4] = {{0}};
	uint32_t n = e->kind == AST_COUNT_STAR ? 1 : e->n;
	int rv = -1;
	bool seen;

	if (e->kind == AST_COUNT_STAR) {
		args[0] = graft_value_int(1);
	} else {
		for (uint32_t k = 0; k < n && k < 4; k++)
			if (eval(x, e->kids[k], &args[k]) < 0)
				goto out;
	}
	if (e->flags & AST_F_DISTINCT) {
		if (args[0].type == GRAFT_VALUE_NULL) {
			rv = 0;
			goto out;
		}
		if (set_find_or_add(&g->distinct[i], args, 1, &seen) == NULL) {
			exec_oom(x);
			goto out;
		}
		if (seen) {
			rv = 0;
			goto out;
		}
	}
	x->err->code[0] = 0;
	rv = exec_rv(x, a->defs[i]->step(&x->fc, g->states[i], args, n));
out:
	for (uint32_t k = 0; k < 4; k++)
		graft_value_free(&args[k]);
	return rv;
}

static int agg_fill(struct agg_op *a, struct exec_ctx *x)
{
	int r;

	while ((r = a->base.child->vt->next(a->base.child, x)) > 0) {
		struct tuple *t;
		bool found;

		if (exec_tick(x) < 0)
			return -1;
		for (uint32_t i = 0; i < a->nkeys; i++)
			if (eval(x, a->keys[i], &a->tmp[i]) < 0)
				return -1;
		t = set_find_or_add(&a->groups, a->tmp, a->nkeys, &found);
		for (uint32_t i = 0; i < a->nkeys; i++)
			graft_value_free(&a->tmp[i]);
		if (t == NULL)
			return exec_oom(x);
		if (!found && (t->data = group_new(a, x)) == NULL)
			return exec_oom(x);
		for (uint32_t i = 0; i < a->naggs; i++)
			if (agg_step(a, x, t->data, i) < 0)
				return -1;
	}
	if (r < 0)
		return -1;
	if (a->groups.count == 0 && a->nkeys == 0) {
		struct tuple *t;
		bool found;

		t = set_find_or_add(&a->groups, a->tmp, 0, &found);
		if (t == NULL || (t->data = group_new(a, x)) == NULL)
			return exec_oom(x);
	}
	return 0;
}

static int agg_open(struct op *op, struct exec_ctx *x)
{
	struct agg_op *a = (struct agg_op *)op;

	set_clear(&a->groups, group_free, a);
	a->nslots = x->nslots;
	a->pos = 0;
	a->filled = false;
	return open_child(op, x);
}

static int agg_next(struct op *op, struct exec_ctx *x)
{
	struct agg_op *a = (struct agg_op *)op;
	struct group *g;

	if (!a->filled) {
		a->filled = true;
		if (agg_fill(a, x) < 0)
			return -1;
	}
	if (a->pos >= a->groups.count) {
		set_clear(&a->groups, group_free, a); /* release at the end */
		return 0;
	}
	g = a->groups.order[a->pos++]->data;
	if (row_load(x, g->first) < 0)
		return -1;
	for (uint32_t i = 0; i < a->naggs; i++) {
		struct graft_value v = {0};

		x->err->code[0] = 0;
		if (exec_rv(x, a->defs[i]->final(&x->fc, g->states[i], &v)) < 0)
			return -1;
		row_set(x, a->aggs[i]->slot, v);
	}
	for (uint32_t i = 0; i < a->nitems; i++)
		if (eval(x, a->items[i], &a->tmp[i]) < 0) {
			for (uint32_t j = 0; j < i; j++)
				graft_value_free(&a->tmp[j]);
			return -1;
		}
	for (uint32_t i = 0; i < a->nitems; i++) {
		row_set(x, a->item_slots[i], a->tmp[i]);
		a->tmp[i] = graft_value_null();
	}
	op->rows++;
	return 1;
}

static void agg_free(struct op *op)
{
	struct agg_op *a = (struct agg_op *)op;

	set_clear(&a->groups, group_free, a);
	graft_mem_free(a->keys);
	graft_mem_free(a->aggs);
	graft_mem_free(a->defs);
	graft_mem_free(a->items);
	graft_mem_free(a->item_slots);
	graft_mem_free(a->tmp);
}

static const struct op_vt agg_vt = {"EagerAggregation", agg_open, agg_next,
				    agg_free};

struct op *op_aggregate(struct op *child, struct ast **keys,
			int32_t *key_slots, uint32_t nkeys, struct ast **aggs,
			uint32_t naggs, struct ast **items, int32_t *item_slots,
			uint32_t nitems)
{
	struct agg_op *a = op_new(sizeof *a, &agg_vt, child);
	uint32_t ntmp = (nkeys > nitems ? nkeys : nitems) + 1;

	graft_mem_free(key_slots);
	if (a == NULL)
		return NULL;
	a->tmp = graft_mem_calloc(ntmp, sizeof *a->tmp);
	a->defs = graft_mem_calloc(naggs + 1, sizeof *a->defs);
	if (a->tmp == NULL || a->defs == NULL) {
		graft_mem_free(a->tmp);
		graft_mem_free(a->defs);
		graft_mem_free(a);
		return NULL;
	}
	for (uint32_t i = 0; i < naggs; i++)
		a->defs[i] = aggs[i]->kind == AST_COUNT_STAR
				     ? cypher_agg_lookup("count", 5)
				     : cypher_agg_lookup(aggs[i]->name,
							 strlen(aggs[i]->name));
	a->keys = keys;
	a->nkeys = nkeys;
	a->aggs = aggs;
	a->naggs = naggs;
	a->items = items;
	a->item_slots = item_slots;
	a->nitems = nitems;
	return &a->base;
}

/* Sort ------------------------------------------------------------------ */

struct sort_op {
	struct op base;
	struct ast **keys;
	bool *desc;
	uint32_t n;
	struct rowbuf buf;
	struct graft_value **keyvals;
	size_t *order;
	bool filled;
	uint32_t nslots;
};

static int sort_cmp(const void *pa, const void *pb, void *arg)
{
	struct sort_op *s = arg;
	size_t a = *(const size_t *)pa, b = *(const size_t *)pb;

	for (uint32_t i = 0; i < s->n; i++) {
		int c = cypher_order_cmp(&s->keyvals[a][i], &s->keyvals[b][i]);

		if (c != 0)
			return s->desc[i] ? -c : c;
	}
	return a < b ? -1 : a > b; /* stable */
}

/* Sorts copies only: runs outside the gate. */
static void sort_order(void *arg)
{
	struct sort_op *s = arg;

	qsort_r(s->order, s->buf.n, sizeof *s->order, sort_cmp, s);
}

static void sort_reset(struct sort_op *s, uint32_t nslots)
{
	for (size_t i = 0; i < s->buf.n && s->keyvals; i++)
		row_free(s->keyvals[i], s->n);
	graft_mem_free(s->keyvals);
	graft_mem_free(s->order);
	s->keyvals = NULL;
	s->order = NULL;
	rowbuf_clear(&s->buf, nslots);
}

static int sort_fill(struct sort_op *s, struct exec_ctx *x)
{
	int r;

	while ((r = s->base.child->vt->next(s->base.child, x)) > 0) {
		struct graft_value **kv;

		if (s->buf.n == s->buf.cap || s->keyvals == NULL) {
			kv = graft_mem_realloc(s->keyvals,
				     (s->buf.cap ? s->buf.cap * 2 : 64) *
					     sizeof *kv);
			if (kv == NULL)
				return exec_oom(x);
			s->keyvals = kv;
		}
		kv = &s->keyvals[s->buf.n];
		*kv = graft_mem_calloc(s->n, sizeof **kv);
		if (*kv == NULL)
			return exec_oom(x);
		for (uint32_t i = 0; i < s->n; i++)
			if (eval(x, s->keys[i], &(*kv)[i]) < 0) {
				row_free(*kv, s->n);
				return -1;
			}
		if (rowbuf_push(x, &s->buf) < 0) {
			row_free(*kv, s->n);
			return -1;
		}
	}
	if (r < 0)
		return -1;
	s->order = graft_mem_malloc((s->buf.n + 1) * sizeof *s->order);
	if (s->order == NULL)
		return exec_oom(x);
	for (size_t i = 0; i < s->buf.n; i++)
		s->order[i] = i;
	return exec_outside_gate(x, sort_order, s);
}

static int sort_open(struct op *op, struct exec_ctx *x)
{
	struct sort_op *s = (struct sort_op *)op;

	sort_reset(s, x->nslots);
	s->nslots = x->nslots;
	s->filled = false;
	return open_child(op, x);
}

static int sort_next(struct op *op, struct exec_ctx *x)
{
	struct sort_op *s = (struct sort_op *)op;

	if (!s->filled) {
		s->filled = true;
		if (sort_fill(s, x) < 0)
			return -1;
	}
	if (s->buf.pos >= s->buf.n) {
		sort_reset(s, s->nslots); /* release at the end */
		return 0;
	}
	op->rows++;
	return row_load(x, s->buf.rows[s->order[s->buf.pos++]]) < 0 ? -1 : 1;
}

static void sort_free(struct op *op)
{
	struct sort_op *s = (struct sort_op *)op;

	sort_reset(s, s->nslots);
	rowbuf_free(&s->buf, s->nslots);
	graft_mem_free(s->keys);
	graft_mem_free(s->desc);
}

static const struct op_vt sort_vt = {"Sort", sort_open, sort_next, sort_free};

struct op *op_sort(struct op *child, struct ast **keys, bool *desc, uint32_t n)
{
	struct sort_op *s = op_new(sizeof *s, &sort_vt, child);

	if (s == NULL)
		return NULL;
	s->keys = keys;
	s->desc = desc;
	s->n = n;
	return &s->base;
}

/* Skip and limit ---------------------------------------------------------- */

struct skip_op {
	struct op base;
	struct ast *skip, *limit;
	int64_t to_skip, left;
	bool drain;
};

static int bound_value(struct exec_ctx *x, struct ast *e, int64_t *out)
{
	struct graft_value v;

	if (eval(x, e, &v) < 0)
		return -1;
	if (v.type != GRAFT_VALUE_INT || v.u.i < 0) {
		/* Neo4j reports this as a SyntaxError, at run time */
		int rv = exec_fail(x, GRAFT_STATUS_SYNTAX_ERROR,
				   "Invalid input. '%s' is not a valid value for SKIP or LIMIT. Must be a non-negative integer.",
				   v.type == GRAFT_VALUE_INT ? "a negative integer"
							     : cypher_type_name(&v));

		graft_value_free(&v);
		return rv;
	}
	*out = v.u.i;
	return 0;
}

static int skip_open(struct op *op, struct exec_ctx *x)
{
	struct skip_op *s = (struct skip_op *)op;

	s->to_skip = 0;
	s->left = -1;
	if (s->skip && bound_value(x, s->skip, &s->to_skip) < 0)
		return -1;
	if (s->limit && bound_value(x, s->limit, &s->left) < 0)
		return -1;
	return open_child(op, x);
}

static int skip_next(struct op *op, struct exec_ctx *x)
{
	struct skip_op *s = (struct skip_op *)op;
	int r = 0;

	if (s->left == 0) {
		while (s->drain && (r = op->child->vt->next(op->child, x)) > 0)
			;
		return s->drain ? (r < 0 ? -1 : 0) : 0;
	}
	while (s->to_skip > 0) {
		r = op->child->vt->next(op->child, x);
		if (r <= 0)
			return r;
		s->to_skip--;
	}
	r = op->child->vt->next(op->child, x);
	if (r > 0) {
		if (s->left > 0)
			s->left--;
		op->rows++;
	}
	return r;
}

static const struct op_vt skip_vt = {"Limit", skip_open, skip_next,
				     free_nothing};

struct op *op_skip_limit(struct op *child, struct ast *skip, struct ast *limit,
			 bool drain)
{
	struct skip_op *s = op_new(sizeof *s, &skip_vt, child);

	if (s == NULL)
		return NULL;
	s->skip = skip;
	s->limit = limit;
	s->drain = drain;
	return &s->base;
}

/* Union ------------------------------------------------------------------ */

struct union_op {
	struct op base;
	int32_t *a_slots, *b_slots, *out_slots;
	uint32_t n;
	bool all, second;
	struct tuple_set seen;
	struct graft_value *tmp;
};

static int union_open(struct op *op, struct exec_ctx *x)
{
	struct union_op *u = (struct union_op *)op;

	u->second = false;
	set_clear(&u->seen, NULL, NULL);
	if (op->child->vt->open(op->child, x) < 0)
		return -1;
	return op->child2->vt->open(op->child2, x);
}

static int union_emit(struct union_op *u, struct exec_ctx *x, int32_t *from)
{
	bool found = false;

	for (uint32_t i = 0; i < u->n; i++)
		if (graft_value_copy(&u->tmp[i], &x->row[from[i]]) != GRAFT_OK)
			return exec_oom(x);
	for (uint32_t i = 0; i < u->n; i++) {
		row_set(x, u->out_slots[i], u->tmp[i]);
		u->tmp[i] = graft_value_null();
	}
	if (!u->all) {
		for (uint32_t i = 0; i < u->n; i++)
			u->tmp[i] = x->row[u->out_slots[i]];
		struct tuple *t = set_find_or_add(&u->seen, u->tmp, u->n, &found);
		for (uint32_t i = 0; i < u->n; i++)
			u->tmp[i] = graft_value_null();
		if (t == NULL)
			return exec_oom(x);
	}
	return found ? 0 : 1;
}

static int union_next(struct op *op, struct exec_ctx *x)
{
	struct union_op *u = (struct union_op *)op;
	int r;

	for (;;) {
		struct op *c = u->second ? op->child2 : op->child;

		r = c->vt->next(c, x);
		if (r < 0)
			return -1;
		if (r == 0) {
			if (u->second)
				return 0;
			u->second = true;
			continue;
		}
		r = union_emit(u, x, u->second ? u->b_slots : u->a_slots);
		if (r != 0) {
			op->rows += r > 0;
			return r;
		}
	}
}

static void union_free(struct op *op)
{
	struct union_op *u = (struct union_op *)op;

	set_clear(&u->seen, NULL, NULL);
	graft_mem_free(u->a_slots);
	graft_mem_free(u->b_slots);
	graft_mem_free(u->out_slots);
	graft_mem_free(u->tmp);
}

static const struct op_vt union_vt = {"Union", union_open, union_next,
				      union_free};

struct op *op_union(struct op *a, struct op *b, int32_t *a_slots,
		    int32_t *b_slots, int32_t *out_slots, uint32_t n, bool all)
{
	struct union_op *u = op_new(sizeof *u, &union_vt, a);

	if (u == NULL || (u->tmp = graft_mem_calloc(n + 1, sizeof *u->tmp)) == NULL) {
		graft_mem_free(u);
		return NULL;
	}
	u->base.child2 = b;
	u->a_slots = a_slots;
	u->b_slots = b_slots;
	u->out_slots = out_slots;
	u->n = n;
	u->all = all;
	return &u->base;
}

/* Apply: CALL { } subqueries run once per outer row. A unit subquery (no
 * RETURN) is drained and the outer row passes through once. --------- */

struct apply_op {
	struct op base;
	bool unit;
	bool inner_open;
};

static int apply_open(struct op *op, struct exec_ctx *x)
{
	((struct apply_op *)op)->inner_open = false;
	return open_child(op, x);
}

static int apply_next(struct op *op, struct exec_ctx *x)
{
	struct apply_op *a = (struct apply_op *)op;
	struct graft_value *saved;
	int r;

	for (;;) {
		if (!a->inner_open) {
			r = op->child->vt->next(op->child, x);
			if (r <= 0)
				return r;
			if (op->child2->vt->open(op->child2, x) < 0)
				return -1;
			a->inner_open = true;
		}
		if (!a->unit) {
			r = op->child2->vt->next(op->child2, x);
			if (r < 0)
				return -1;
			if (r > 0) {
				op->rows++;
				return 1;
			}
			a->inner_open = false;
			continue;
		}
		saved = row_save(x);
		if (saved == NULL)
			return exec_oom(x);
		while ((r = op->child2->vt->next(op->child2, x)) > 0)
			;
		a->inner_open = false;
		if (r == 0)
			r = row_load(x, saved) < 0 ? -1 : 1;
		row_free(saved, x->nslots);
		op->rows += r > 0;
		return r;
	}
}

static const struct op_vt apply_vt = {"Apply", apply_open, apply_next,
				      free_nothing};

struct op *op_apply(struct op *outer, struct op *inner, bool unit)
{
	struct apply_op *a = op_new(sizeof *a, &apply_vt, outer);

	if (a == NULL)
		return NULL;
	a->base.child2 = inner;
	a->unit = unit;
	return &a->base;
}

/* Eager: the whole input first (writes finish before later reads see
 * them, and results of write queries are complete before streaming). */

struct eager_op {
	struct op base;
	struct rowbuf buf;
	bool filled;
	uint32_t nslots;
};

static int eager_open(struct op *op, struct exec_ctx *x)
{
	struct eager_op *e = (struct eager_op *)op;

	rowbuf_clear(&e->buf, x->nslots);
	e->nslots = x->nslots;
	e->filled = false;
	return open_child(op, x);
}

static int eager_next(struct op *op, struct exec_ctx *x)
{
	struct eager_op *e = (struct eager_op *)op;
	int r;

	if (!e->filled) {
		e->filled = true;
		if (rowbuf_fill(x, op->child, &e->buf) < 0)
			return -1;
	}
	r = rowbuf_next(x, &e->buf);
	op->rows += r > 0;
	if (r == 0)
		rowbuf_clear(&e->buf, e->nslots);
	return r;
}

static void eager_free(struct op *op)
{
	struct eager_op *e = (struct eager_op *)op;

	rowbuf_free(&e->buf, e->nslots);
}

static const struct op_vt eager_vt = {"Eager", eager_open, eager_next,
				      eager_free};

struct op *op_eager(struct op *child)
{
	struct eager_op *e = op_new(sizeof *e, &eager_vt, child);

	if (e == NULL)
		return NULL;
	return &e->base;
}

/* Procedure calls ------------------------------------------------------- */

struct proc_op {
	struct op base;
	const struct cypher_proc *proc;
	struct ast **args;
	uint32_t nargs;
	int32_t *slots;
	uint32_t *fields;
	uint32_t n;
	struct cypher_proc_call call;
	size_t pos;
	bool have;
};

static void call_clear(struct cypher_proc_call *c)
{
	for (size_t i = 0; i < c->nrows * c->width; i++)
		graft_value_free(&c->rows[i]);
	c->nrows = 0;
}

int cypher_proc_emit(struct cypher_proc_call *c, struct graft_value *values)
{
	if (c->nrows == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		struct graft_value *p =
			graft_mem_realloc(c->rows, cap * (c->width ? c->width : 1) *
						 sizeof *p);

		if (p == NULL) {
			for (uint32_t i = 0; i < c->width; i++)
				graft_value_free(&values[i]);
			return GRAFT_ENOMEM;
		}
		c->rows = p;
		c->cap = cap;
	}
	memcpy(&c->rows[c->nrows * c->width], values,
	       c->width * sizeof *values);
	c->nrows++;
	return GRAFT_OK;
}

static int proc_run(struct proc_op *p, struct exec_ctx *x)
{
	const struct cypher_proc *pr = p->proc;
	struct graft_value args[16] = {{0}};
	int rv;

	for (uint32_t i = 0; i < p->nargs && i < 16; i++)
		if (eval(x, p->args[i], &args[i]) < 0)
			goto err;
	call_clear(&p->call);
	p->call.tx = x->ctx;
	p->call.data = pr->data;
	p->call.args = args;
	p->call.nargs = p->nargs;
	p->call.err = x->err;
	p->call.width = pr->noutputs;
	x->err->code[0] = 0;
	rv = pr->fn(&p->call);
	for (uint32_t i = 0; i < 16; i++)
		graft_value_free(&args[i]);
	if (rv != GRAFT_OK) {
		if (x->err->code[0] == 0)
			exec_fail(x, GRAFT_STATUS_PROCEDURE_CALL_FAILED,
				       "Failed to invoke procedure `%s`: %s",
				       pr->name, graft_strerror(rv));
		return -1;
	}
	p->pos = 0;
	return 0;
err:
	for (uint32_t i = 0; i < 16; i++)
		graft_value_free(&args[i]);
	return -1;
}

static int proc_open(struct op *op, struct exec_ctx *x)
{
	struct proc_op *p = (struct proc_op *)op;

	p->have = false;
	call_clear(&p->call);
	return open_child(op, x);
}

static int proc_next(struct op *op, struct exec_ctx *x)
{
	struct proc_op *p = (struct proc_op *)op;
	int r;

	for (;;) {
		if (p->have && p->pos < p->call.nrows) {
			struct graft_value *row =
				&p->call.rows[p->pos++ * p->call.width];

			for (uint32_t i = 0; i < p->n; i++) {
				struct graft_value v;

				if (graft_value_copy(&v, &row[p->fields[i]]) !=
				    GRAFT_OK)
					return exec_oom(x);
				row_set(x, p->slots[i], v);
			}
			op->rows++;
			return 1;
		}
		r = op->child->vt->next(op->child, x);
		if (r <= 0)
			return r;
		if (proc_run(p, x) < 0)
			return -1;
		p->have = true;
		if (p->proc->noutputs == 0) { /* a void procedure: row passes */
			op->rows++;
			return 1;
		}
	}
}

static void proc_free(struct op *op)
{
	struct proc_op *p = (struct proc_op *)op;

	call_clear(&p->call);
	graft_mem_free(p->call.rows);
	graft_mem_free(p->args);
	graft_mem_free(p->slots);
	graft_mem_free(p->fields);
}

static const struct op_vt proc_vt = {"ProcedureCall", proc_open, proc_next,
				     proc_free};

struct op *op_procedure(struct op *child, const struct cypher_proc *proc,
			struct ast **args, uint32_t nargs, int32_t *slots,
			uint32_t *fields, uint32_t n)
{
	struct proc_op *p = op_new(sizeof *p, &proc_vt, child);

	if (p == NULL)
		return NULL;
	p->proc = proc;
	p->args = args;
	p->nargs = nargs;
	p->slots = slots;
	p->fields = fields;
	p->n = n;
	return &p->base;
}

void op_free_tree(struct op *op)
{
	if (op == NULL)
		return;
	op_free_tree(op->child);
	op_free_tree(op->child2);
	op->vt->free(op);
	graft_mem_free(op->detail);
	graft_mem_free(op);
}
