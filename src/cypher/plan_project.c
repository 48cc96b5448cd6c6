/* The planner's projections: RETURN and WITH items, aggregation and its
 * grouping keys, DISTINCT, ORDER BY, SKIP and LIMIT. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "planner_int.h"

/* Projections ------------------------------------------------------------ */

static const char *item_name(struct planner *pl, struct ast *it)
{
	struct ast *e = it->kids[0];

	if (it->name)
		return it->name;
	if (e->kind == AST_VAR)
		return e->name;
	return ast_arena_strndup(&pl->st->arena, pl->st->text + it->pos,
				 it->end > it->pos ? it->end - it->pos : 0);
}

static int cmp_var_name(const void *a, const void *b)
{
	return strcmp(((const struct var *)a)->name,
		      ((const struct var *)b)->name);
}

/* RETURN * / WITH *: every named variable in scope, by name. */
static int star_items(struct planner *pl, struct ast *clause, struct scope *sc,
		      struct ast **items_out)
{
	struct ast *items = ast_arena_alloc(&pl->st->arena, sizeof *items);
	struct ast *old = clause->kids[0];
	struct scope sorted = {0};

	if (items == NULL || scope_copy(pl, &sorted, sc) < 0)
		return -1;
	if (sorted.n > 1)
		qsort(sorted.v, sorted.n, sizeof *sorted.v, cmp_var_name);
	items->kind = AST_LIST_OF;
	items->n = 0;
	items->kids = ast_arena_alloc(&pl->st->arena,
				      (sorted.n + old->n + 1) * sizeof *items->kids);
	if (items->kids == NULL) {
		scope_free(&sorted);
		return -1;
	}
	for (uint32_t i = 0; i < sorted.n; i++) {
		struct ast *it = ast_arena_alloc(&pl->st->arena, sizeof *it);
		struct ast *v = ast_arena_alloc(&pl->st->arena, sizeof *v);

		if (it == NULL || v == NULL) {
			scope_free(&sorted);
			return -1;
		}
		if (i > 0 && strcmp(sorted.v[i].name, sorted.v[i - 1].name) == 0)
			continue;
		v->kind = AST_VAR;
		v->name = sorted.v[i].name;
		v->slot = -1;
		v->pos = clause->pos;
		it->kind = AST_ITEM;
		it->kids = ast_arena_alloc(&pl->st->arena, sizeof *it->kids);
		if (it->kids == NULL) {
			scope_free(&sorted);
			return -1;
		}
		it->kids[0] = v;
		it->n = 1;
		items->kids[items->n++] = it;
	}
	for (uint32_t i = 0; i < old->n; i++)
		items->kids[items->n++] = old->kids[i];
	scope_free(&sorted);
	*items_out = items;
	return 0;
}

static bool same_text(struct planner *pl, struct ast *a, struct ast *b)
{
	size_t la = a->end - a->pos, lb = b->end - b->pos;

	return la == lb && la > 0 &&
	       memcmp(pl->st->text + a->pos, pl->st->text + b->pos, la) == 0;
}

/* After aggregation ORDER BY may repeat a projected expression. */
static struct ast *as_item_ref(struct planner *pl, struct ast *e,
			       struct ast *items)
{
	for (uint32_t i = 0; i < items->n; i++) {
		struct ast *it = items->kids[i];

		if (same_text(pl, e, it->kids[0])) {
			struct ast *v = ast_arena_alloc(&pl->st->arena, sizeof *v);

			if (v == NULL)
				return planner_oom(pl);
			v->kind = AST_VAR;
			v->name = it->name ? it->name : "";
			v->slot = it->slot;
			v->pos = e->pos;
			v->end = e->end;
			return v;
		}
	}
	return e;
}

/* Every part of e that repeats a projected expression becomes a reference
 * to it: after aggregation or DISTINCT only the projection exists. */
static struct ast *rewrite_items(struct planner *pl, struct ast *e,
				 struct ast *items)
{
	struct ast *r = as_item_ref(pl, e, items);

	if (r != e)
		return r;
	for (uint32_t i = 0; i < e->n; i++) {
		if (e->kids[i] == NULL)
			continue;
		r = rewrite_items(pl, e->kids[i], items);
		if (r == NULL)
			return NULL;
		e->kids[i] = r;
	}
	return e;
}

static void collect_aggs(struct ast *e, struct ast **out, uint32_t *n)
{
	if (e == NULL || e->kind == AST_EXISTS || e->kind == AST_COUNT_SUB ||
	    e->kind == AST_COLLECT_SUB || e->kind == AST_PATTERN_COMP)
		return;
	if (e->kind == AST_COUNT_STAR ||
	    (e->kind == AST_FUNC &&
	     cypher_agg_lookup(e->name, strlen(e->name)) != NULL)) {
		out[(*n)++] = e;
		return;
	}
	for (uint32_t i = 0; i < e->n; i++)
		collect_aggs(e->kids[i], out, n);
}

static uint32_t count_nodes(const struct ast *e)
{
	uint32_t n = 1;

	for (uint32_t i = 0; e && i < e->n; i++)
		n += count_nodes(e->kids[i]);
	return n;
}

/* An aggregate-free part of an aggregating item: literals, parameters,
 * projected keys (by text), variables that are keys, their properties. */
static bool outer_slot(const struct scope *sc, int32_t slot)
{
	for (uint32_t i = 0; i < sc->n; i++)
		if (sc->v[i].slot == slot)
			return true;
	return false;
}

static bool grouped(struct planner *pl, const struct ast *e,
		    const struct ast *items, const struct scope *sc)
{
	if (e == NULL || e->kind == AST_LIT || e->kind == AST_PARAM)
		return true;
	/* a comprehension's own variable is not a grouping question */
	if (e->kind == AST_VAR && !outer_slot(sc, e->slot))
		return true;
	for (uint32_t i = 0; i < items->n; i++) {
		const struct ast *key = items->kids[i]->kids[0];

		if (ast_is_aggregate(key))
			continue;
		if ((key->kind == AST_VAR || key->kind == AST_PROP) &&
		    same_text(pl, (struct ast *)e, (struct ast *)key))
			return true;
		if (key->kind == AST_VAR && e->kind == AST_PROP &&
		    e->kids[0]->kind == AST_VAR &&
		    strcmp(e->kids[0]->name, key->name) == 0)
			return true;
	}
	if (e->kind == AST_VAR || e->kind == AST_PROP)
		return false;
	for (uint32_t i = 0; i < e->n; i++)
		if (!grouped(pl, e->kids[i], items, sc))
			return false;
	return true;
}

/* Is e (outside any aggregate) made only of grouping keys: a variable
 * projected as a key, or a property of one, or a property projected as a
 * key? Literals and parameters are fine. */
static bool key_only(struct planner *pl, const struct ast *e,
		     const struct ast *items, const struct scope *sc)
{
	if (e == NULL || e->kind == AST_LIT || e->kind == AST_PARAM ||
	    ast_is_aggregate(e) == false)
		return true;
	if (e->kind == AST_COUNT_STAR ||
	    (e->kind == AST_FUNC &&
	     cypher_agg_lookup(e->name, strlen(e->name)) != NULL))
		return true;
	for (uint32_t i = 0; i < e->n; i++) {
		const struct ast *k = e->kids[i];

		if (k == NULL || !ast_is_aggregate(k) ? !grouped(pl, k, items, sc)
						      : !key_only(pl, k, items, sc))
			return false;
	}
	return true;
}

static struct op *aggregate(struct planner *pl, struct op *input,
			    struct ast *items, int32_t *slots,
			    const struct scope *sc)
{
	uint32_t cap = 0, nkeys = 0, naggs = 0;
	struct ast **keys, **aggs, **exprs;

	for (uint32_t i = 0; i < items->n; i++)
		cap += count_nodes(items->kids[i]);
	keys = calloc(items->n + 1, sizeof *keys);
	aggs = calloc(cap + 1, sizeof *aggs);
	exprs = calloc(items->n + 1, sizeof *exprs);
	if (keys == NULL || aggs == NULL || exprs == NULL)
		goto oom;
	for (uint32_t i = 0; i < items->n; i++)
		if (ast_is_aggregate(items->kids[i]->kids[0]) &&
		    !key_only(pl, items->kids[i]->kids[0], items, sc)) {
			planner_fail(pl, GRAFT_STATUS_SYNTAX_ERROR, items->kids[i]->kids[0]->pos,
			     "Aggregation column contains implicit grouping expressions; project the variables or properties it uses as their own columns (AmbiguousAggregationExpression)");
			goto fail;
		}
	for (uint32_t i = 0; i < items->n; i++) {
		struct ast *e = items->kids[i]->kids[0];

		exprs[i] = e;
		if (ast_is_aggregate(e))
			collect_aggs(e, aggs, &naggs);
		else
			keys[nkeys++] = e;
	}
	for (uint32_t i = 0; i < naggs; i++)
		aggs[i]->slot = planner_new_slot(pl);
	struct op *op = op_aggregate(input, keys, NULL, nkeys, aggs, naggs,
				     exprs, slots, items->n);
	if (op != NULL)
		return op;
oom:
	planner_oom(pl);
fail:
	free(keys);
	free(aggs);
	free(exprs);
	free(slots);
	op_free_tree(input);
	return NULL;
}

static struct op *order_by(struct planner *pl, struct op *op, struct ast *order,
			   struct scope *sc, struct ast *items, bool aggregated)
{
	struct ast **keys = calloc(order->n + 1, sizeof *keys);
	bool *desc = calloc(order->n + 1, sizeof *desc);
	struct op *s;

	if (keys == NULL || desc == NULL)
		goto oom;
	for (uint32_t i = 0; i < order->n; i++) {
		struct ast *e = order->kids[i]->kids[0];

		if (aggregated) {
			e = rewrite_items(pl, e, items);
			if (e == NULL)
				goto fail;
		}
		if (e->kind != AST_VAR || e->slot < 0)
			if (planner_resolve(pl, e, sc, false) < 0)
				goto fail;
		keys[i] = e;
		desc[i] = (order->kids[i]->flags & AST_F_DESC) != 0;
	}
	s = op_sort(op, keys, desc, order->n);
	if (s != NULL)
		return s;
oom:
	planner_oom(pl);
fail:
	free(keys);
	free(desc);
	op_free_tree(op);
	return NULL;
}

/* SKIP and LIMIT literals must be non-negative integers. */
static int bad_bound(struct planner *pl, struct ast *e)
{
	if (e == NULL || e->kind != AST_LIT)
		return 0;
	if (e->v.type == GRAFT_VALUE_INT && e->v.u.i >= 0)
		return 0;
	return planner_fail(pl, GRAFT_STATUS_SYNTAX_ERROR, e->pos,
		    "Invalid input. '%.*s' is not a valid value. Must be a non-negative integer.",
		    (int)(e->end > e->pos ? e->end - e->pos : 1),
		    pl->st->text + e->pos);
}

static struct op *skip_limit(struct planner *pl, struct op *op,
			     struct ast *skip, struct ast *limit)
{
	struct scope empty = {0};
	struct op *s;

	if (bad_bound(pl, skip) < 0 || bad_bound(pl, limit) < 0) {
		op_free_tree(op);
		return NULL;
	}
	if ((skip && planner_resolve(pl, skip, &empty, false) < 0) ||
	    (limit && planner_resolve(pl, limit, &empty, false) < 0)) {
		op_free_tree(op);
		return NULL;
	}
	s = op_skip_limit(op, skip, limit, pl->plan->writes);
	if (s == NULL) {
		op_free_tree(op);
		return planner_oom(pl);
	}
	return s;
}

uint8_t planner_expr_kind(const struct scope *sc, const struct ast *e)
{
	const struct var *v;

	switch (e->kind) {
	case AST_VAR:
		v = scope_var(sc, e->name);
		return v ? v->kind : K_UNKNOWN;
	case AST_LIT:
		return e->v.type == GRAFT_VALUE_NULL ? K_UNKNOWN : K_OTHER;
	case AST_LIST:
	case AST_LIST_COMP:
		return K_LIST;
	case AST_MAP:
	case AST_BINOP:
	case AST_AND:
	case AST_OR:
	case AST_XOR:
	case AST_NOT:
	case AST_COUNT_STAR:
		return K_OTHER;
	default:
		return K_UNKNOWN;
	}
}

/* The items of RETURN or WITH: each resolved, named once, given a slot
 * (slots[i], its expression exprs[i]) and added to next, the scope after
 * the clause. *agg tells whether any item aggregates. */
static int project_items(struct planner *pl, struct ast *clause,
			 struct scope *sc, struct scope *next, int32_t *slots,
			 struct ast **exprs, bool *agg)
{
	struct ast *items = clause->kids[0];

	for (uint32_t i = 0; i < items->n; i++) {
		struct ast *it = items->kids[i];

		if (planner_pattern_as_value(pl, it->kids[0], "as a projected value") < 0 ||
		    planner_resolve(pl, it->kids[0], sc, true) < 0)
			return -1;
		*agg |= ast_is_aggregate(it->kids[0]);
		if (clause->kind == AST_WITH && it->name == NULL &&
		    it->kids[0]->kind != AST_VAR)
			return planner_fail(pl, GRAFT_STATUS_SYNTAX_ERROR, it->kids[0]->pos,
				    "Expression in WITH must be aliased (use AS)");
		it->name = item_name(pl, it);
		for (uint32_t j = 0; j < i; j++)
			if (strcmp(items->kids[j]->name, it->name) == 0)
				return planner_fail(pl, GRAFT_STATUS_SYNTAX_ERROR, it->pos,
					    "Multiple result columns with the same name are not supported (`%s`)",
					    it->name);
		slots[i] = it->slot = planner_new_slot(pl);
		exprs[i] = it->kids[0];
		if (scope_add_k(pl, next, it->name, slots[i],
				planner_expr_kind(sc, it->kids[0])) < 0)
			return -1;
	}
	return 0;
}

/* The rows of the items: an aggregation when an item aggregates, else a
 * projection. Takes slots and exprs; frees op on failure. */
static struct op *project_rows(struct planner *pl, struct op *op,
			       struct ast *items, int32_t *slots,
			       struct ast **exprs, bool agg, struct scope *sc)
{
	struct op *p;

	if (agg) {
		free(exprs);
		return aggregate(pl, op, items, slots, sc);
	}
	p = op_project(op, exprs, slots, items->n);
	if (p != NULL)
		return p;
	free(exprs);
	free(slots);
	planner_oom(pl);
	op_free_tree(op);
	return NULL;
}

/* RETURN DISTINCT / WITH DISTINCT: rows distinct over every item. Frees op
 * on failure. */
static struct op *project_distinct(struct planner *pl, struct op *op,
				   struct ast *items)
{
	int32_t *ds = malloc(items->n * sizeof *ds);
	struct op *d;

	if (ds == NULL)
		goto oom;
	for (uint32_t i = 0; i < items->n; i++)
		ds[i] = items->kids[i]->slot;
	d = op_distinct(op, ds, items->n);
	if (d != NULL)
		return d;
	free(ds);
oom:
	planner_oom(pl);
	op_free_tree(op);
	return NULL;
}

/* What ORDER BY and WITH's WHERE see, built once into *visible: the
 * projection and, unless aggregation or DISTINCT replaced the rows, the
 * variables before it. */
static int visible_scope(struct planner *pl, struct scope *visible,
			 const struct scope *before, const struct scope *next,
			 bool replaced)
{
	if (visible->n > 0)
		return 0;
	if (!replaced && scope_copy(pl, visible, before) < 0)
		return -1;
	return scope_copy(pl, visible, next);
}

/* WITH ... WHERE: a filter over the projected rows; after aggregation or
 * DISTINCT, the items it repeats read their projected slots. Frees op on
 * failure. */
static struct op *with_where(struct planner *pl, struct ast *clause,
			     struct op *op, struct scope *visible,
			     bool replaced)
{
	struct op *f;

	if (replaced &&
	    (clause->kids[4] = rewrite_items(pl, clause->kids[4],
					     clause->kids[0])) == NULL)
		goto fail;
	if (planner_resolve(pl, clause->kids[4], visible, false) < 0)
		goto fail;
	f = op_filter(op, clause->kids[4]);
	if (f != NULL)
		return f;
	planner_oom(pl);
fail:
	op_free_tree(op);
	return NULL;
}

struct op *plan_projection(struct planner *pl, struct ast *clause,
			   struct op *op, struct scope *sc)
{
	struct ast *items = clause->kids[0], *order = clause->kids[1];
	struct scope next = {0}, visible = {0};
	bool agg = false, distinct = clause->flags & AST_F_DISTINCT, replaced;
	int32_t *slots = NULL;
	struct ast **exprs = NULL;

	if ((clause->flags & AST_F_STAR) &&
	    star_items(pl, clause, sc, &items) < 0) {
		planner_oom(pl);
		goto fail;
	}
	clause->kids[0] = items;
	if (items->n == 0 && clause->kind == AST_RETURN) {
		planner_fail(pl, GRAFT_STATUS_SYNTAX_ERROR, clause->pos,
		     "RETURN * is not allowed when there are no variables in scope");
		goto fail;
	}
	slots = malloc((items->n + 1) * sizeof *slots);
	exprs = malloc((items->n + 1) * sizeof *exprs);
	if (slots == NULL || exprs == NULL) {
		planner_oom(pl);
		goto fail_arrays;
	}
	if (project_items(pl, clause, sc, &next, slots, exprs, &agg) < 0)
		goto fail_arrays;
	replaced = agg || distinct;
	op = project_rows(pl, op, items, slots, exprs, agg, sc);
	if (op != NULL && distinct)
		op = project_distinct(pl, op, items);
	if (op != NULL && order != NULL) {
		if (visible_scope(pl, &visible, sc, &next, replaced) < 0)
			goto fail;
		op = order_by(pl, op, order, &visible, items, replaced);
	}
	if (op != NULL && (clause->kids[2] || clause->kids[3]))
		op = skip_limit(pl, op, clause->kids[2], clause->kids[3]);
	if (op != NULL && clause->n > 4 && clause->kids[4] != NULL) {
		if (visible_scope(pl, &visible, sc, &next, replaced) < 0)
			goto fail;
		op = with_where(pl, clause, op, &visible, replaced);
	}
	if (op == NULL)
		goto fail;
	scope_free(&visible);
	scope_free(sc);
	*sc = next;
	return op;
fail_arrays:
	free(slots);
	free(exprs);
fail:
	op_free_tree(op);
	scope_free(&next);
	scope_free(&visible);
	return NULL;
}
