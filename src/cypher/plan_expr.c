/* The planner's expressions: names resolved to slots, compile-time type
 * checks, subquery expressions (EXISTS, COUNT, COLLECT, pattern
 * predicates and comprehensions) planned as subplans. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "planner_int.h"

/* Expressions ------------------------------------------------------------ */

int planner_resolve_kids(struct planner *pl, struct ast *e, struct scope *sc,
		 bool allow_agg)
{
	for (uint32_t i = 0; i < e->n; i++)
		if (e->kids[i] && planner_resolve(pl, e->kids[i], sc, allow_agg) < 0)
			return -1;
	return 0;
}

/* Entity functions whose argument's type is known at compile time:
 * labels(path), type(node), length(node), properties(1) ... */
static int entity_arg(struct planner *pl, struct ast *f, struct scope *sc)
{
	static const struct {
		const char *fn;
		uint8_t bad[4];
	} rules[] = {
		{"labels", {K_REL, K_PATH, K_OTHER, K_LIST}},
		{"type", {K_NODE, K_PATH, K_OTHER, K_LIST}},
		{"length", {K_NODE, K_REL, K_OTHER, 0}},
		{"properties", {K_PATH, K_OTHER, K_LIST, 0}},
		{"nodes", {K_NODE, K_REL, K_OTHER, 0}},
		{"relationships", {K_NODE, K_REL, K_OTHER, 0}},
		{"size", {K_PATH, K_NODE, K_REL, 0}},
	};
	uint8_t k = planner_expr_kind(sc, f->kids[0]);

	/* "a value" is certain only for a literal (a variable may hold a map) */
	if (k == K_UNKNOWN || (k == K_OTHER && f->kids[0]->kind != AST_LIT))
		return 0;
	for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
		if (strcasecmp(rules[i].fn, f->name) != 0)
			continue;
		for (size_t j = 0; j < 4; j++)
			if (rules[i].bad[j] == k)
				return planner_fail(pl, GRAFT_STATUS_SYNTAX_ERROR, f->kids[0]->pos,
					    "Type mismatch: %s() does not accept %s",
					    rules[i].fn, planner_kind_name(k));
	}
	return 0;
}

/* A pattern predicate tests what is bound; it cannot introduce names. */
static int pattern_pred_names(struct planner *pl, struct ast *path,
			      struct scope *sc)
{
	for (uint32_t i = 0; i < path->n; i++)
		if (path->kids[i]->name != NULL &&
		    scope_find(sc, path->kids[i]->name) < 0)
			return planner_fail(pl, GRAFT_STATUS_SYNTAX_ERROR, path->kids[i]->pos,
				    "PatternExpressions are not allowed to introduce new variables: '%s'.",
				    path->kids[i]->name);
	return 0;
}

/* Neo4j 5: a pattern is a predicate, not a list of paths. */
int planner_pattern_as_value(struct planner *pl, const struct ast *e,
		     const char *where)
{
	if (e == NULL || e->kind != AST_PATTERN_PRED)
		return 0;
	return planner_fail(pl, GRAFT_STATUS_SYNTAX_ERROR, e->pos,
		    "A pattern expression should only be used in order to test the existence of a pattern. It can not be used %s; use COUNT { } or a pattern comprehension instead.",
		    where);
}

static int resolve_function(struct planner *pl, struct ast *e,
			    struct scope *sc, bool allow_agg)
{
	const struct cypher_agg *ag = cypher_agg_lookup(e->name, strlen(e->name));
	const struct cypher_func *f;
	uint8_t min, max;

	if (ag != NULL) {
		if (!allow_agg)
			return planner_fail(pl, GRAFT_STATUS_SYNTAX_ERROR, e->pos,
				    "Invalid use of aggregating function %s(...) in this context",
				    e->name);
		min = ag->min_args;
		max = ag->max_args;
		/* no aggregates inside aggregates */
		for (uint32_t i = 0; i < e->n; i++)
			if (ast_is_aggregate(e->kids[i]))
				return planner_fail(pl, GRAFT_STATUS_SYNTAX_ERROR, e->kids[i]->pos,
					    "Can't use aggregate functions inside of aggregate functions.");
		allow_agg = false;
	} else {
		f = cypher_func_lookup(e->name, strlen(e->name));
		if (f == NULL)
			return planner_fail(pl, GRAFT_STATUS_SYNTAX_ERROR, e->pos,
				    "Unknown function '%s'", e->name);
		e->plan = (void *)f;
		min = f->min_args;
		max = f->max_args;
	}
	for (uint32_t i = 0; i < e->n; i++)
		if (planner_pattern_as_value(pl, e->kids[i], "as a function argument") < 0)
			return -1;
	if (e->n == 1 && entity_arg(pl, e, sc) < 0)
		return -1;
	if (e->n < min)
		return planner_fail(pl, GRAFT_STATUS_SYNTAX_ERROR, e->pos,
			    "Insufficient parameters for function '%s'", e->name);
	if (e->n > max)
		return planner_fail(pl, GRAFT_STATUS_SYNTAX_ERROR, e->pos,
			    "Too many parameters for function '%s'", e->name);
	return planner_resolve_kids(pl, e, sc, allow_agg);
}

/* A comprehension-like scope: the variable gets a fresh slot. */
/* x IN ['a', 'b']: the element type of a literal list of strings or
 * booleans is known, so x % 2 can be refused before running. */
static uint8_t element_kind(const struct ast *list)
{
	uint8_t t = GRAFT_VALUE_NULL;

	if (list == NULL || list->kind != AST_LIST || list->n == 0)
		return K_UNKNOWN;
	for (uint32_t i = 0; i < list->n; i++) {
		const struct ast *k = list->kids[i];

		if (k->kind != AST_LIT || (t != GRAFT_VALUE_NULL && k->v.type != t))
			return K_UNKNOWN;
		t = k->v.type;
	}
	return t == GRAFT_VALUE_STRING ? K_STRING
	       : t == GRAFT_VALUE_BOOL ? K_BOOL
				       : K_UNKNOWN;
}

static int resolve_bound(struct planner *pl, struct ast *e, struct scope *sc,
			 uint32_t first, const char *name, int32_t *slot,
			 bool allow_agg)
{
	struct scope inner = {0};
	int rv;

	if (scope_copy(pl, &inner, sc) < 0)
		return -1;
	*slot = planner_new_slot(pl);
	rv = scope_add_k(pl, &inner, name, *slot, element_kind(e->kids[0]));
	for (uint32_t i = first; rv == 0 && i < e->n; i++)
		if (e->kids[i])
			rv = planner_resolve(pl, e->kids[i], &inner, allow_agg);
	scope_free(&inner);
	return rv;
}

static struct subplan *subplan_new(struct planner *pl)
{
	struct subplan *sp = ast_arena_alloc(&pl->st->arena, sizeof *sp);

	if (sp == NULL)
		return planner_oom(pl);
	sp->slot = -1;
	return sp;
}

/* The plan owns the trees of its subquery expressions. */
static int subplan_keep(struct planner *pl, struct subplan *sp)
{
	struct exec_plan *p = pl->plan;
	struct op **subs = realloc(p->subs, (p->nsubs + 1) * sizeof *subs);

	if (subs == NULL) {
		op_free_tree(sp->root);
		sp->root = NULL;
		planner_oom(pl);
		return -1;
	}
	p->subs = subs;
	p->subs[p->nsubs++] = sp->root;
	return 0;
}

/* Pattern expressions: a match fed by the current row. */
static int resolve_pattern_expr(struct planner *pl, struct ast *e,
				struct scope *sc)
{
	struct subplan *sp = subplan_new(pl);
	struct scope inner = {0};
	struct ast *pattern = e->kids[0], *where = NULL, *proj = NULL;
	struct ast wrap = {0}, *one[1];
	struct op *arg;

	if (sp == NULL || scope_copy(pl, &inner, sc) < 0)
		return -1;
	if (pattern->kind == AST_PATH) { /* wrap a single path */
		one[0] = pattern;
		wrap.kind = AST_PATTERN;
		wrap.kids = one;
		wrap.n = 1;
		pattern = ast_arena_alloc(&pl->st->arena, sizeof *pattern);
		if (pattern == NULL) {
			scope_free(&inner);
			planner_oom(pl);
			return -1;
		}
		*pattern = wrap;
		pattern->kids = ast_arena_alloc(&pl->st->arena, sizeof *one);
		if (pattern->kids == NULL) {
			scope_free(&inner);
			planner_oom(pl);
			return -1;
		}
		pattern->kids[0] = one[0];
	}
	if (e->kind == AST_PATTERN_COMP) {
		where = e->kids[1];
		proj = e->kids[2];
	} else if (e->n > 1) {
		where = e->kids[1];
	}
	arg = op_argument();
	sp->root = arg ? plan_match(pl, pattern, where, arg, &inner, false)
		       : planner_oom(pl);
	sp->proj = proj;
	e->plan = sp;
	if (sp->root == NULL || subplan_keep(pl, sp) < 0 ||
	    (proj != NULL && planner_resolve(pl, proj, &inner, false) < 0)) {
		scope_free(&inner);
		return -1;
	}
	scope_free(&inner);
	return 0;
}

static int resolve_subquery(struct planner *pl, struct ast *e, struct scope *sc)
{
	struct subplan *sp;
	struct scope inner = {0};
	struct ast *ret = NULL;
	struct op *arg;

	if (e->kids[0]->kind == AST_PATTERN && e->kind != AST_COLLECT_SUB)
		return resolve_pattern_expr(pl, e, sc);
	if (planner_writes(e->kids[0]))
		return planner_fail(pl, GRAFT_STATUS_SYNTAX_ERROR, e->pos,
			    "An EXISTS, COUNT or COLLECT subquery cannot contain an updating clause");
	sp = subplan_new(pl);
	if (sp == NULL || scope_copy(pl, &inner, sc) < 0)
		return -1;
	arg = op_argument();
	sp->root = arg ? plan_query(pl, e->kids[0], arg, &inner, &ret)
		       : planner_oom(pl);
	scope_free(&inner);
	e->plan = sp;
	if (sp->root == NULL || subplan_keep(pl, sp) < 0)
		return -1;
	if (e->kind == AST_COLLECT_SUB) {
		if (ret == NULL || ret->kids[0]->n != 1)
			return planner_fail(pl, GRAFT_STATUS_SYNTAX_ERROR, e->pos,
				    "A COLLECT subquery must end with a RETURN clause returning exactly one column");
		sp->slot = ret->kids[0]->kids[0]->slot;
	}
	return 0;
}

/* Literal operands of boolean operators are checked before running. */
static int boolean_operands(struct planner *pl, struct ast *e)
{
	for (uint32_t i = 0; i < e->n; i++) {
		struct ast *k = e->kids[i];
		const char *t = NULL;

		if (k->kind == AST_LIST || k->kind == AST_LIST_COMP)
			t = "List";
		else if (k->kind == AST_MAP)
			t = "Map";
		else if (k->kind == AST_LIT && k->v.type == GRAFT_VALUE_INT)
			t = "Integer";
		else if (k->kind == AST_LIT && k->v.type == GRAFT_VALUE_FLOAT)
			t = "Float";
		else if (k->kind == AST_LIT && k->v.type == GRAFT_VALUE_STRING)
			t = "String";
		if (t != NULL)
			return planner_fail(pl, GRAFT_STATUS_SYNTAX_ERROR, k->pos,
				    "Type mismatch: expected Boolean but was %s",
				    t);
	}
	return 0;
}

/* Arithmetic on a variable known to hold strings or booleans. */
static int arith_operands(struct planner *pl, struct ast *e, struct scope *sc)
{
	if (e->op > AST_OP_POW)
		return 0;
	for (uint32_t i = 0; i < 2; i++) {
		const struct ast *k = e->kids[i];
		const struct var *v =
			k->kind == AST_VAR ? scope_var(sc, k->name) : NULL;

		if (v == NULL || (v->kind != K_STRING && v->kind != K_BOOL) ||
		    (e->op == AST_OP_ADD && v->kind == K_STRING))
			continue;
		return planner_fail(pl, GRAFT_STATUS_SYNTAX_ERROR, k->pos,
			    "Type mismatch: `%s` is a %s here; this operator needs numbers",
			    k->name, planner_kind_name(v->kind));
	}
	return 0;
}

/* x IN <literal> needs a list. */
static int in_operand(struct planner *pl, struct ast *k)
{
	if (k->kind == AST_MAP ||
	    (k->kind == AST_LIT && k->v.type != GRAFT_VALUE_NULL))
		return planner_fail(pl, GRAFT_STATUS_SYNTAX_ERROR, k->pos,
			    "Type mismatch: expected List<T> but was %s",
			    k->kind == AST_MAP ? "Map" : "a single value");
	return 0;
}

int planner_resolve(struct planner *pl, struct ast *e, struct scope *sc,
	    bool allow_agg)
{
	int rv;

	if (++pl->depth > CYPHER_MAX_DEPTH * 2) {
		pl->depth--;
		return planner_fail(pl, GRAFT_STATUS_SYNTAX_ERROR, e->pos,
			    "The query nests too deeply");
	}
	switch (e->kind) {
	case AST_VAR:
		e->slot = scope_find(sc, e->name);
		rv = e->slot < 0 ? planner_fail(pl, GRAFT_STATUS_SYNTAX_ERROR, e->pos,
					"Variable `%s` not defined", e->name)
				 : 0;
		break;
	case AST_FUNC:
		rv = resolve_function(pl, e, sc, allow_agg);
		break;
	case AST_COUNT_STAR:
		rv = allow_agg ? 0
			       : planner_fail(pl, GRAFT_STATUS_SYNTAX_ERROR, e->pos,
				      "Invalid use of aggregating function count(*) in this context");
		break;
	case AST_LIST_COMP:
	case AST_QUANT:
		rv = planner_resolve(pl, e->kids[0], sc, allow_agg);
		if (rv == 0)
			rv = resolve_bound(pl, e, sc, 1, e->name, &e->slot,
					   false);
		break;
	case AST_REDUCE:
		rv = planner_resolve(pl, e->kids[0], sc, allow_agg) < 0 ||
				     planner_resolve(pl, e->kids[1], sc, allow_agg) < 0
			     ? -1
			     : 0;
		if (rv == 0) {
			struct scope inner = {0};

			e->slot = planner_new_slot(pl);
			e->slot2 = planner_new_slot(pl);
			rv = scope_copy(pl, &inner, sc) < 0 ||
					     scope_add(pl, &inner, e->name, e->slot) < 0 ||
					     scope_add(pl, &inner, e->name2, e->slot2) < 0 ||
					     planner_resolve(pl, e->kids[2], &inner, false) < 0
				     ? -1
				     : 0;
			scope_free(&inner);
		}
		break;
	case AST_PATTERN_PRED:
		rv = pattern_pred_names(pl, e->kids[0], sc);
		if (rv == 0)
			rv = resolve_pattern_expr(pl, e, sc);
		break;
	case AST_PATTERN_COMP:
		rv = resolve_pattern_expr(pl, e, sc);
		break;
	case AST_EXISTS:
	case AST_COUNT_SUB:
	case AST_COLLECT_SUB:
		rv = resolve_subquery(pl, e, sc);
		break;
	case AST_MAP:
		rv = 0;
		for (uint32_t i = 0; rv == 0 && i < e->n; i++)
			rv = planner_resolve(pl, e->kids[i]->kids[0], sc, allow_agg);
		break;
	case AST_MAP_PROJ:
		rv = planner_resolve(pl, e->kids[0], sc, allow_agg);
		for (uint32_t i = 1; rv == 0 && i < e->n; i++) {
			struct ast *it = e->kids[i];

			if (it->kind == AST_ITEM)
				rv = planner_resolve(pl, it->kids[0], sc, allow_agg);
			else if (it->kind == AST_VAR)
				rv = planner_resolve(pl, it, sc, allow_agg);
		}
		break;
	case AST_LABEL_TEST:
		rv = planner_resolve(pl, e->kids[0], sc, allow_agg);
		break;
	case AST_BINOP:
		rv = e->op == AST_OP_IN ? in_operand(pl, e->kids[1])
					: arith_operands(pl, e, sc);
		if (rv == 0)
			rv = planner_resolve_kids(pl, e, sc, allow_agg);
		break;
	case AST_AND:
	case AST_OR:
	case AST_XOR:
	case AST_NOT:
		rv = boolean_operands(pl, e);
		if (rv == 0)
			rv = planner_resolve_kids(pl, e, sc, allow_agg);
		break;
	case AST_LIT:
	case AST_PARAM:
	case AST_NAME:
		rv = 0;
		break;
	default:
		rv = planner_resolve_kids(pl, e, sc, allow_agg);
		break;
	}
	pl->depth--;
	return rv;
}
