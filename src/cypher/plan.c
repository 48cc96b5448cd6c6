/* The planner: semantic checks (variable scopes, aggregation rules, clause
 * order) and the operator tree for a statement. Variables get slots in one
 * row shared by every operator of the statement; patterns become match
 * steps starting from the most selective node (bound, indexed, labelled). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine_int.h"
#include "ops.h"
#include "plan_int.h"

/* What a variable is known to hold, for compile-time type checks. */
enum var_kind { K_UNKNOWN, K_NODE, K_REL, K_RELS, K_PATH, K_OTHER, K_LIST,
		K_STRING, K_BOOL };

struct var {
	const char *name;
	int32_t slot;
	uint8_t kind;
};

struct scope {
	struct var *v;
	uint32_t n, cap;
};

struct planner {
	struct cypher_engine *e;
	struct cypher_stmt *st;
	struct exec_plan *plan;
	struct cypher_error *err;
	bool failed;
	int depth;
	int qdepth; /* nesting of statements: 1 at the top */
};

static int perr(struct planner *pl, const char *kind, uint32_t pos,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int perr(struct planner *pl, const char *kind, uint32_t pos,
		const char *fmt, ...)
{
	char msg[GRAFT_ERRMSG_SIZE];
	va_list ap;

	if (pl->failed)
		return -1;
	pl->failed = true;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	cypher_error_at(pl->err, kind, pl->st->text, pos, "%s", msg);
	return -1;
}

static void *poom(struct planner *pl)
{
	if (!pl->failed) {
		pl->failed = true;
		cypher_error_set(pl->err,
				 "Neo.TransientError.General.OutOfMemoryError",
				 "Out of memory while planning the query");
	}
	return NULL;
}

static int32_t new_slot(struct planner *pl)
{
	return (int32_t)pl->plan->nslots++;
}

/* Scopes ---------------------------------------------------------------- */

static int32_t scope_find(const struct scope *s, const char *name)
{
	for (uint32_t i = s->n; i-- > 0;)
		if (strcmp(s->v[i].name, name) == 0)
			return s->v[i].slot;
	return -1;
}

static const struct var *scope_var(const struct scope *s, const char *name)
{
	for (uint32_t i = s->n; i-- > 0;)
		if (strcmp(s->v[i].name, name) == 0)
			return &s->v[i];
	return NULL;
}

static int scope_add_k(struct planner *pl, struct scope *s, const char *name,
		       int32_t slot, uint8_t kind);

static int scope_add(struct planner *pl, struct scope *s, const char *name,
		     int32_t slot)
{
	return scope_add_k(pl, s, name, slot, K_UNKNOWN);
}

static int scope_add_k(struct planner *pl, struct scope *s, const char *name,
		       int32_t slot, uint8_t kind)
{
	if (s->n == s->cap) {
		uint32_t cap = s->cap ? s->cap * 2 : 16;
		struct var *v = realloc(s->v, cap * sizeof *v);

		if (v == NULL) {
			poom(pl);
			return -1;
		}
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n].name = name;
	s->v[s->n].kind = kind;
	s->v[s->n++].slot = slot;
	return 0;
}

static int scope_copy(struct planner *pl, struct scope *dst,
		      const struct scope *src)
{
	for (uint32_t i = 0; i < src->n; i++)
		if (scope_add_k(pl, dst, src->v[i].name, src->v[i].slot,
				src->v[i].kind) < 0)
			return -1;
	return 0;
}

static void scope_free(struct scope *s)
{
	free(s->v);
	memset(s, 0, sizeof *s);
}

/* Expressions ------------------------------------------------------------ */

static int resolve(struct planner *pl, struct ast *e, struct scope *sc,
		   bool allow_agg);
static struct op *plan_query(struct planner *pl, struct ast *q,
			     struct op *input, struct scope *sc,
			     struct ast **ret);
static struct op *plan_match(struct planner *pl, struct ast *pattern,
			     struct ast *where, struct op *input,
			     struct scope *sc, bool optional);

static int resolve_kids(struct planner *pl, struct ast *e, struct scope *sc,
			bool allow_agg)
{
	for (uint32_t i = 0; i < e->n; i++)
		if (e->kids[i] && resolve(pl, e->kids[i], sc, allow_agg) < 0)
			return -1;
	return 0;
}

static uint8_t expr_kind(const struct scope *sc, const struct ast *e);
static const char *kind_name(uint8_t k);

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
	uint8_t k = expr_kind(sc, f->kids[0]);

	/* "a value" is certain only for a literal (a variable may hold a map) */
	if (k == K_UNKNOWN || (k == K_OTHER && f->kids[0]->kind != AST_LIT))
		return 0;
	for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
		if (strcasecmp(rules[i].fn, f->name) != 0)
			continue;
		for (size_t j = 0; j < 4; j++)
			if (rules[i].bad[j] == k)
				return perr(pl, "SyntaxError", f->kids[0]->pos,
					    "Type mismatch: %s() does not accept %s",
					    rules[i].fn, kind_name(k));
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
			return perr(pl, "SyntaxError", path->kids[i]->pos,
				    "PatternExpressions are not allowed to introduce new variables: '%s'.",
				    path->kids[i]->name);
	return 0;
}

/* Neo4j 5: a pattern is a predicate, not a list of paths. */
static int pattern_as_value(struct planner *pl, const struct ast *e,
			    const char *where)
{
	if (e == NULL || e->kind != AST_PATTERN_PRED)
		return 0;
	return perr(pl, "SyntaxError", e->pos,
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
			return perr(pl, "SyntaxError", e->pos,
				    "Invalid use of aggregating function %s(...) in this context",
				    e->name);
		min = ag->min_args;
		max = ag->max_args;
		/* no aggregates inside aggregates */
		for (uint32_t i = 0; i < e->n; i++)
			if (ast_is_aggregate(e->kids[i]))
				return perr(pl, "SyntaxError", e->kids[i]->pos,
					    "Can't use aggregate functions inside of aggregate functions.");
		allow_agg = false;
	} else {
		f = cypher_func_lookup(e->name, strlen(e->name));
		if (f == NULL)
			return perr(pl, "SyntaxError", e->pos,
				    "Unknown function '%s'", e->name);
		e->plan = (void *)f;
		min = f->min_args;
		max = f->max_args;
	}
	for (uint32_t i = 0; i < e->n; i++)
		if (pattern_as_value(pl, e->kids[i], "as a function argument") < 0)
			return -1;
	if (e->n == 1 && entity_arg(pl, e, sc) < 0)
		return -1;
	if (e->n < min)
		return perr(pl, "SyntaxError", e->pos,
			    "Insufficient parameters for function '%s'", e->name);
	if (e->n > max)
		return perr(pl, "SyntaxError", e->pos,
			    "Too many parameters for function '%s'", e->name);
	return resolve_kids(pl, e, sc, allow_agg);
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
	*slot = new_slot(pl);
	rv = scope_add_k(pl, &inner, name, *slot, element_kind(e->kids[0]));
	for (uint32_t i = first; rv == 0 && i < e->n; i++)
		if (e->kids[i])
			rv = resolve(pl, e->kids[i], &inner, allow_agg);
	scope_free(&inner);
	return rv;
}

static struct subplan *subplan_new(struct planner *pl)
{
	struct subplan *sp = arena_alloc(&pl->st->arena, sizeof *sp);

	if (sp == NULL)
		return poom(pl);
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
		poom(pl);
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
		pattern = arena_alloc(&pl->st->arena, sizeof *pattern);
		if (pattern == NULL) {
			scope_free(&inner);
			poom(pl);
			return -1;
		}
		*pattern = wrap;
		pattern->kids = arena_alloc(&pl->st->arena, sizeof *one);
		if (pattern->kids == NULL) {
			scope_free(&inner);
			poom(pl);
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
		       : poom(pl);
	sp->proj = proj;
	e->plan = sp;
	if (sp->root == NULL || subplan_keep(pl, sp) < 0 ||
	    (proj != NULL && resolve(pl, proj, &inner, false) < 0)) {
		scope_free(&inner);
		return -1;
	}
	scope_free(&inner);
	return 0;
}

static bool writes(const struct ast *c);

static int resolve_subquery(struct planner *pl, struct ast *e, struct scope *sc)
{
	struct subplan *sp;
	struct scope inner = {0};
	struct ast *ret = NULL;
	struct op *arg;

	if (e->kids[0]->kind == AST_PATTERN && e->kind != AST_COLLECT_SUB)
		return resolve_pattern_expr(pl, e, sc);
	if (writes(e->kids[0]))
		return perr(pl, "SyntaxError", e->pos,
			    "An EXISTS, COUNT or COLLECT subquery cannot contain an updating clause");
	sp = subplan_new(pl);
	if (sp == NULL || scope_copy(pl, &inner, sc) < 0)
		return -1;
	arg = op_argument();
	sp->root = arg ? plan_query(pl, e->kids[0], arg, &inner, &ret)
		       : poom(pl);
	scope_free(&inner);
	e->plan = sp;
	if (sp->root == NULL || subplan_keep(pl, sp) < 0)
		return -1;
	if (e->kind == AST_COLLECT_SUB) {
		if (ret == NULL || ret->kids[0]->n != 1)
			return perr(pl, "SyntaxError", e->pos,
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
			return perr(pl, "SyntaxError", k->pos,
				    "Type mismatch: expected Boolean but was %s",
				    t);
	}
	return 0;
}

static const char *kind_name(uint8_t k);

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
		return perr(pl, "SyntaxError", k->pos,
			    "Type mismatch: `%s` is a %s here; this operator needs numbers",
			    k->name, kind_name(v->kind));
	}
	return 0;
}

/* x IN <literal> needs a list. */
static int in_operand(struct planner *pl, struct ast *k)
{
	if (k->kind == AST_MAP ||
	    (k->kind == AST_LIT && k->v.type != GRAFT_VALUE_NULL))
		return perr(pl, "SyntaxError", k->pos,
			    "Type mismatch: expected List<T> but was %s",
			    k->kind == AST_MAP ? "Map" : "a single value");
	return 0;
}

static int resolve(struct planner *pl, struct ast *e, struct scope *sc,
		   bool allow_agg)
{
	int rv;

	if (++pl->depth > CYPHER_MAX_DEPTH * 2) {
		pl->depth--;
		return perr(pl, "SyntaxError", e->pos,
			    "The query nests too deeply");
	}
	switch (e->kind) {
	case AST_VAR:
		e->slot = scope_find(sc, e->name);
		rv = e->slot < 0 ? perr(pl, "SyntaxError", e->pos,
					"Variable `%s` not defined", e->name)
				 : 0;
		break;
	case AST_FUNC:
		rv = resolve_function(pl, e, sc, allow_agg);
		break;
	case AST_COUNT_STAR:
		rv = allow_agg ? 0
			       : perr(pl, "SyntaxError", e->pos,
				      "Invalid use of aggregating function count(*) in this context");
		break;
	case AST_LIST_COMP:
	case AST_QUANT:
		rv = resolve(pl, e->kids[0], sc, allow_agg);
		if (rv == 0)
			rv = resolve_bound(pl, e, sc, 1, e->name, &e->slot,
					   false);
		break;
	case AST_REDUCE:
		rv = resolve(pl, e->kids[0], sc, allow_agg) < 0 ||
				     resolve(pl, e->kids[1], sc, allow_agg) < 0
			     ? -1
			     : 0;
		if (rv == 0) {
			struct scope inner = {0};

			e->slot = new_slot(pl);
			e->slot2 = new_slot(pl);
			rv = scope_copy(pl, &inner, sc) < 0 ||
					     scope_add(pl, &inner, e->name, e->slot) < 0 ||
					     scope_add(pl, &inner, e->name2, e->slot2) < 0 ||
					     resolve(pl, e->kids[2], &inner, false) < 0
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
			rv = resolve(pl, e->kids[i]->kids[0], sc, allow_agg);
		break;
	case AST_MAP_PROJ:
		rv = resolve(pl, e->kids[0], sc, allow_agg);
		for (uint32_t i = 1; rv == 0 && i < e->n; i++) {
			struct ast *it = e->kids[i];

			if (it->kind == AST_ITEM)
				rv = resolve(pl, it->kids[0], sc, allow_agg);
			else if (it->kind == AST_VAR)
				rv = resolve(pl, it, sc, allow_agg);
		}
		break;
	case AST_LABEL_TEST:
		rv = resolve(pl, e->kids[0], sc, allow_agg);
		break;
	case AST_BINOP:
		rv = e->op == AST_OP_IN ? in_operand(pl, e->kids[1])
					: arith_operands(pl, e, sc);
		if (rv == 0)
			rv = resolve_kids(pl, e, sc, allow_agg);
		break;
	case AST_AND:
	case AST_OR:
	case AST_XOR:
	case AST_NOT:
		rv = boolean_operands(pl, e);
		if (rv == 0)
			rv = resolve_kids(pl, e, sc, allow_agg);
		break;
	case AST_LIT:
	case AST_PARAM:
	case AST_NAME:
		rv = 0;
		break;
	default:
		rv = resolve_kids(pl, e, sc, allow_agg);
		break;
	}
	pl->depth--;
	return rv;
}

/* Pattern steps ------------------------------------------------------------- */

struct steps {
	struct match_step *s;
	uint32_t n, cap;
	int32_t *rels;       /* rel slots bound so far in the clause */
	uint32_t nrels;
	int32_t *bound;      /* slots bound so far (outer + clause) */
	uint32_t nbound, bcap;
};

static struct match_step *step_add(struct planner *pl, struct steps *st,
				   uint8_t kind)
{
	if (st->n == st->cap) {
		uint32_t cap = st->cap ? st->cap * 2 : 8;
		struct match_step *p = realloc(st->s, cap * sizeof *p);

		if (p == NULL)
			return poom(pl);
		st->s = p;
		st->cap = cap;
	}
	memset(&st->s[st->n], 0, sizeof st->s[0]);
	st->s[st->n].kind = kind;
	st->s[st->n].node_slot = st->s[st->n].from_slot = -1;
	st->s[st->n].rel_slot = -1;
	return &st->s[st->n++];
}

static bool is_bound(const struct steps *st, int32_t slot)
{
	for (uint32_t i = 0; i < st->nbound; i++)
		if (st->bound[i] == slot)
			return true;
	return false;
}

static int mark_bound(struct planner *pl, struct steps *st, int32_t slot)
{
	if (st->nbound == st->bcap) {
		uint32_t cap = st->bcap ? st->bcap * 2 : 16;
		int32_t *p = realloc(st->bound, cap * sizeof *p);

		if (p == NULL) {
			poom(pl);
			return -1;
		}
		st->bound = p;
		st->bcap = cap;
	}
	st->bound[st->nbound++] = slot;
	return 0;
}

static int32_t *slots_dup(struct planner *pl, const int32_t *s, uint32_t n)
{
	int32_t *p = malloc((n + 1) * sizeof *p);

	if (p == NULL)
		return poom(pl);
	if (n > 0)
		memcpy(p, s, n * sizeof *p);
	return p;
}

/* Every slot referenced by e is below limit (bound before the clause). */
static bool only_outer(const struct ast *e, int32_t limit)
{
	if (e == NULL)
		return true;
	if ((e->kind == AST_VAR && e->slot >= limit) || e->kind == AST_PATTERN_PRED ||
	    e->kind == AST_EXISTS || e->kind == AST_LIST_COMP ||
	    e->kind == AST_PATTERN_COMP || e->kind == AST_REDUCE ||
	    e->kind == AST_QUANT || e->kind == AST_COUNT_SUB ||
	    e->kind == AST_COLLECT_SUB)
		return false;
	for (uint32_t i = 0; i < e->n; i++)
		if (!only_outer(e->kids[i], limit))
			return false;
	return true;
}

/* n.key = expr among the top-level conjuncts of where. */
static struct ast *where_equality(struct ast *where, int32_t slot,
				  int32_t limit, const char **key)
{
	if (where == NULL)
		return NULL;
	if (where->kind == AST_AND) {
		struct ast *a = where_equality(where->kids[0], slot, limit, key);

		return a ? a : where_equality(where->kids[1], slot, limit, key);
	}
	if (where->kind != AST_BINOP || where->op != AST_OP_EQ)
		return NULL;
	for (int side = 0; side < 2; side++) {
		struct ast *p = where->kids[side], *v = where->kids[1 - side];

		if (p->kind == AST_PROP && p->kids[0]->kind == AST_VAR &&
		    p->kids[0]->slot == slot && only_outer(v, limit)) {
			*key = p->name;
			return v;
		}
	}
	return NULL;
}

/* Collects n.key OP v bounds from the top-level conjuncts of where, for
 * the first key that has one. */
static void where_range(struct ast *where, int32_t slot, int32_t limit,
			struct match_step *s)
{
	struct ast *p, *v;
	uint16_t op;
	bool flip;

	if (where == NULL)
		return;
	if (where->kind == AST_AND) {
		where_range(where->kids[0], slot, limit, s);
		where_range(where->kids[1], slot, limit, s);
		return;
	}
	if (where->kind != AST_BINOP ||
	    (where->op != AST_OP_LT && where->op != AST_OP_LE &&
	     where->op != AST_OP_GT && where->op != AST_OP_GE &&
	     where->op != AST_OP_STARTS))
		return;
	for (int side = 0; side < 2; side++) {
		p = where->kids[side];
		v = where->kids[1 - side];
		flip = side == 1;
		if (p->kind != AST_PROP || p->kids[0]->kind != AST_VAR ||
		    p->kids[0]->slot != slot || !only_outer(v, limit) ||
		    (flip && where->op == AST_OP_STARTS))
			continue;
		if (s->range_key != NULL && strcmp(s->range_key, p->name) != 0)
			return;
		s->range_key = p->name;
		op = where->op;
		if (flip) /* v < n.k is n.k > v */
			op = op == AST_OP_LT ? AST_OP_GT
			     : op == AST_OP_LE ? AST_OP_GE
			     : op == AST_OP_GT ? AST_OP_LT
					       : AST_OP_LE;
		if (op == AST_OP_GT || op == AST_OP_GE || op == AST_OP_STARTS) {
			s->range_lo = v;
			s->lo_incl = op != AST_OP_GT;
			s->prefix = op == AST_OP_STARTS;
		} else {
			s->range_hi = v;
			s->hi_incl = op == AST_OP_LE;
		}
		return;
	}
}

static void seek_candidate(struct match_step *s, struct ast *np,
			   struct ast *where, int32_t limit)
{
	struct ast *labels = np->kids[0], *props = np->kids[1];

	if (labels->n == 0 || labels->kids[0]->op != AST_LABEL_ALL)
		return;
	s->seek_label = labels->kids[0]->name;
	if (props != NULL && props->kind == AST_MAP && props->n > 0 &&
	    only_outer(props->kids[0]->kids[0], limit)) {
		s->seek_key = props->kids[0]->name;
		s->seek_value = props->kids[0]->kids[0];
		return;
	}
	s->seek_value = where_equality(where, np->slot, limit, &s->seek_key);
	if (s->seek_value != NULL)
		return;
	s->seek_label = NULL;
	where_range(where, np->slot, limit, s);
	if (s->range_key != NULL)
		s->range_label = labels->kids[0]->name;
}

/* How good a start node is: bound > indexed candidate > labelled > any. */
static int start_score(const struct steps *st, struct ast *np,
		       struct ast *where, int32_t limit)
{
	struct match_step tmp = {0};

	if (is_bound(st, np->slot))
		return 3;
	seek_candidate(&tmp, np, where, limit);
	if (tmp.seek_label || tmp.range_label)
		return 2;
	return np->kids[0]->n > 0 && np->kids[0]->kids[0]->op == AST_LABEL_ALL;
}

static int node_step(struct planner *pl, struct steps *st, struct ast *np,
		     struct ast *where, int32_t limit)
{
	bool bound = is_bound(st, np->slot);
	struct match_step *s = step_add(pl, st, bound ? STEP_CHECK : STEP_SCAN);

	if (s == NULL)
		return -1;
	s->node_slot = np->slot;
	s->node_pat = np;
	if (!bound)
		seek_candidate(s, np, where, limit);
	return bound ? 0 : mark_bound(pl, st, np->slot);
}

static int rel_step(struct planner *pl, struct steps *st, struct ast *rp,
		    struct ast *from, struct ast *to, bool reversed)
{
	bool varlen = rp->flags & AST_F_VARLEN;
	struct match_step *s = step_add(pl, st, varlen ? STEP_VAREXPAND
						      : STEP_EXPAND);
	uint8_t dir = rp->op == AST_DIR_OUT ? GRAPH_OUT
		      : rp->op == AST_DIR_IN ? GRAPH_IN
					     : GRAPH_BOTH;

	if (s == NULL)
		return -1;
	if (reversed && dir != GRAPH_BOTH)
		dir = dir == GRAPH_OUT ? GRAPH_IN : GRAPH_OUT;
	s->dir = dir;
	s->reversed = reversed;
	s->from_slot = from->slot;
	s->node_slot = to->slot;
	s->rel_slot = rp->slot;
	s->rel_pat = rp;
	s->node_pat = to;
	s->min = varlen ? rp->min : 1;
	s->max = varlen ? rp->max : 1;
	s->target_bound = is_bound(st, to->slot);
	s->uniq = slots_dup(pl, st->rels, st->nrels);
	s->nuniq = st->nrels;
	if (s->uniq == NULL)
		return -1;
	/* bound by an earlier clause: follow it; twice in one MATCH: error */
	s->rel_bound = rp->slot2 == 1;
	if (is_bound(st, rp->slot) && !s->rel_bound)
		return perr(pl, "SyntaxError", rp->pos,
			    "Cannot use relationship variable `%s` twice in a pattern",
			    rp->name);
	int32_t *r = realloc(st->rels, (st->nrels + 1) * sizeof *r);
	if (r == NULL) {
		poom(pl);
		return -1;
	}
	st->rels = r;
	st->rels[st->nrels++] = rp->slot;
	if (mark_bound(pl, st, rp->slot) < 0)
		return -1;
	return s->target_bound ? 0 : mark_bound(pl, st, to->slot);
}

static int path_step(struct planner *pl, struct steps *st, struct ast *path)
{
	struct match_step *s = step_add(pl, st, STEP_PATH);

	if (s == NULL)
		return -1;
	s->node_slot = path->slot;
	s->path = malloc(path->n * sizeof *s->path);
	if (s->path == NULL) {
		poom(pl);
		return -1;
	}
	s->npath = path->n;
	for (uint32_t i = 0; i < path->n; i++)
		s->path[i] = path->kids[i]->slot;
	return mark_bound(pl, st, path->slot);
}

static int path_steps(struct planner *pl, struct steps *st, struct ast *path,
		      struct ast *where, int32_t limit)
{
	uint32_t best = 0;
	int best_score = -1;

	for (uint32_t i = 0; i < path->n; i += 2) {
		int sc = start_score(st, path->kids[i], where, limit);

		if (sc > best_score) {
			best_score = sc;
			best = i;
		}
	}
	if (node_step(pl, st, path->kids[best], where, limit) < 0)
		return -1;
	for (uint32_t i = best + 1; i < path->n; i += 2)
		if (rel_step(pl, st, path->kids[i], path->kids[i - 1],
			     path->kids[i + 1], false) < 0)
			return -1;
	for (uint32_t i = best; i > 0; i -= 2)
		if (rel_step(pl, st, path->kids[i - 1], path->kids[i],
			     path->kids[i - 2], true) < 0)
			return -1;
	return path->name ? path_step(pl, st, path) : 0;
}

static const char *kind_name(uint8_t k)
{
	static const char *const names[] = {"Any", "Node", "Relationship",
					    "List<Relationship>", "Path",
					    "a value", "List", "String",
					    "Boolean"};
	return names[k];
}

/* A name reused in a pattern must keep its type; a path name is new. */
static int check_reuse(struct planner *pl, struct ast *el, bool rel,
		       const struct var *v)
{
	uint8_t want = rel ? ((el->flags & AST_F_VARLEN) ? K_RELS : K_REL)
			   : K_NODE;

	if (v->kind == K_UNKNOWN || v->kind == want ||
	    (v->kind == K_LIST && want == K_RELS))
		return 0;
	return perr(pl, "SyntaxError", el->pos,
		    "Type mismatch: `%s` defined with conflicting type %s (expected %s)",
		    el->name, kind_name(v->kind), kind_name(want));
}

/* Gives every element of the pattern a slot; names not in scope are new
 * and join it. slot2 = 1 marks elements bound before the clause. */
static int assign_slots(struct planner *pl, struct ast *pattern,
			struct scope *sc, bool create)
{
	/* slots from here on are this clause's own */
	int32_t limit = create ? INT32_MAX : (int32_t)pl->plan->nslots;

	for (uint32_t p = 0; p < pattern->n; p++) {
		struct ast *path = pattern->kids[p];

		for (uint32_t i = 0; i < path->n; i++) {
			struct ast *el = path->kids[i];
			const struct var *v = el->name ? scope_var(sc, el->name)
						       : NULL;
			int32_t s = v ? v->slot : -1;
			bool rel = i % 2 == 1;

			el->slot2 = s >= 0 && s < limit;
			if (v && check_reuse(pl, el, rel, v) < 0)
				return -1;
			if (!create && el->n > 1 && el->kids[1] != NULL &&
			    el->kids[1]->kind == AST_PARAM)
				return perr(pl, "SyntaxError", el->kids[1]->pos,
					    "Parameter maps cannot be used in %s patterns (use a literal map instead, e.g. {id: $%s.id})",
					    rel ? "MATCH or MERGE relationship" : "MATCH or MERGE node",
					    el->kids[1]->name);
			if (s >= 0 && create && rel)
				return perr(pl, "SyntaxError", el->pos,
					    "Can't create relationship `%s` because it is already declared",
					    el->name);
			if (s >= 0 && create && !rel &&
			    (el->kids[0]->n > 0 || el->kids[1] != NULL))
				return perr(pl, "SyntaxError", el->pos,
					    "Can't create node `%s` with labels or properties here. The variable is already declared in this context",
					    el->name);
			if (s < 0) {
				uint8_t k = !rel ? K_NODE
					    : (el->flags & AST_F_VARLEN) ? K_RELS
									 : K_REL;

				s = new_slot(pl);
				if (el->name &&
				    scope_add_k(pl, sc, el->name, s, k) < 0)
					return -1;
			}
			el->slot = s;
		}
		if (path->name != NULL) {
			if (scope_var(sc, path->name) != NULL)
				return perr(pl, "SyntaxError", path->pos,
					    "Variable `%s` already declared",
					    path->name);
			path->slot = new_slot(pl);
			if (scope_add_k(pl, sc, path->name, path->slot,
					K_PATH) < 0)
				return -1;
		}
	}
	return 0;
}

static int resolve_pattern_props(struct planner *pl, struct ast *pattern,
				 struct scope *sc)
{
	for (uint32_t p = 0; p < pattern->n; p++) {
		struct ast *path = pattern->kids[p];

		for (uint32_t i = 0; i < path->n; i++) {
			struct ast *el = path->kids[i];

			for (uint32_t k = 1; k < el->n; k++)
				if (el->kids[k] &&
				    resolve(pl, el->kids[k], sc, false) < 0)
					return -1;
		}
	}
	return 0;
}

static void steps_free(struct steps *st)
{
	for (uint32_t i = 0; i < st->n; i++) {
		free(st->s[i].uniq);
		free(st->s[i].path);
	}
	free(st->s);
	free(st->rels);
	free(st->bound);
}

/* WHERE n: an entity is not a predicate. */
static int entity_predicate(struct planner *pl, struct ast *where,
			    struct scope *sc)
{
	uint8_t k = expr_kind(sc, where);

	if (k == K_NODE || k == K_REL || k == K_PATH || k == K_RELS)
		return perr(pl, "SyntaxError", where->pos,
			    "Type mismatch: expected Boolean but was %s",
			    kind_name(k));
	return 0;
}

/* Relationships bound by an earlier clause take part in this MATCH's
 * uniqueness from its first step on. */
static int bound_rels_unique(struct planner *pl, struct steps *st,
			     struct ast *pattern)
{
	for (uint32_t p = 0; p < pattern->n; p++)
		for (uint32_t i = 1; i < pattern->kids[p]->n; i += 2) {
			struct ast *r = pattern->kids[p]->kids[i];
			int32_t *v;

			if (r->slot2 != 1)
				continue;
			v = realloc(st->rels, (st->nrels + 1) * sizeof *v);
			if (v == NULL) {
				poom(pl);
				return -1;
			}
			st->rels = v;
			st->rels[st->nrels++] = r->slot;
		}
	return 0;
}

static struct op *plan_match(struct planner *pl, struct ast *pattern,
			     struct ast *where, struct op *input,
			     struct scope *sc, bool optional)
{
	struct steps st = {0};
	int32_t limit = (int32_t)pl->plan->nslots;
	int32_t *news = NULL;
	uint32_t nnew = 0;
	struct op *op;

	for (uint32_t i = 0; i < sc->n; i++)
		if (mark_bound(pl, &st, sc->v[i].slot) < 0)
			goto err;
	if (assign_slots(pl, pattern, sc, false) < 0 ||
	    resolve_pattern_props(pl, pattern, sc) < 0 ||
	    (where && (entity_predicate(pl, where, sc) < 0 ||
		       resolve(pl, where, sc, false) < 0)) ||
	    bound_rels_unique(pl, &st, pattern) < 0)
		goto err;
	for (uint32_t p = 0; p < pattern->n; p++)
		if (path_steps(pl, &st, pattern->kids[p], where, limit) < 0)
			goto err;
	nnew = pl->plan->nslots - (uint32_t)limit;
	news = malloc((nnew + 1) * sizeof *news);
	if (news == NULL) {
		poom(pl);
		goto err;
	}
	for (uint32_t i = 0; i < nnew; i++)
		news[i] = limit + (int32_t)i;
	op = op_match(input, st.s, st.n, where, optional, news, nnew);
	if (op == NULL) {
		free(news);
		poom(pl);
		goto err;
	}
	free(st.rels);
	free(st.bound);
	pl->plan->reads = true;
	return op;
err:
	steps_free(&st);
	op_free_tree(input);
	return NULL;
}

/* Projections ------------------------------------------------------------ */

static const char *item_name(struct planner *pl, struct ast *it)
{
	struct ast *e = it->kids[0];

	if (it->name)
		return it->name;
	if (e->kind == AST_VAR)
		return e->name;
	return arena_strndup(&pl->st->arena, pl->st->text + it->pos,
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
	struct ast *items = arena_alloc(&pl->st->arena, sizeof *items);
	struct ast *old = clause->kids[0];
	struct scope sorted = {0};

	if (items == NULL || scope_copy(pl, &sorted, sc) < 0)
		return -1;
	if (sorted.n > 1)
		qsort(sorted.v, sorted.n, sizeof *sorted.v, cmp_var_name);
	items->kind = AST_LIST_OF;
	items->n = 0;
	items->kids = arena_alloc(&pl->st->arena,
				  (sorted.n + old->n + 1) * sizeof *items->kids);
	if (items->kids == NULL) {
		scope_free(&sorted);
		return -1;
	}
	for (uint32_t i = 0; i < sorted.n; i++) {
		struct ast *it = arena_alloc(&pl->st->arena, sizeof *it);
		struct ast *v = arena_alloc(&pl->st->arena, sizeof *v);

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
		it->kids = arena_alloc(&pl->st->arena, sizeof *it->kids);
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
			struct ast *v = arena_alloc(&pl->st->arena, sizeof *v);

			if (v == NULL)
				return poom(pl);
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
			perr(pl, "SyntaxError", items->kids[i]->kids[0]->pos,
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
		aggs[i]->slot = new_slot(pl);
	struct op *op = op_aggregate(input, keys, NULL, nkeys, aggs, naggs,
				     exprs, slots, items->n);
	if (op != NULL)
		return op;
oom:
	poom(pl);
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
			if (resolve(pl, e, sc, false) < 0)
				goto fail;
		keys[i] = e;
		desc[i] = (order->kids[i]->flags & AST_F_DESC) != 0;
	}
	s = op_sort(op, keys, desc, order->n);
	if (s != NULL)
		return s;
oom:
	poom(pl);
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
	return perr(pl, "SyntaxError", e->pos,
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
	if ((skip && resolve(pl, skip, &empty, false) < 0) ||
	    (limit && resolve(pl, limit, &empty, false) < 0)) {
		op_free_tree(op);
		return NULL;
	}
	s = op_skip_limit(op, skip, limit, pl->plan->writes);
	if (s == NULL) {
		op_free_tree(op);
		return poom(pl);
	}
	return s;
}

static uint8_t expr_kind(const struct scope *sc, const struct ast *e)
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

static struct op *projection(struct planner *pl, struct ast *clause,
			     struct op *op, struct scope *sc)
{
	struct ast *items = clause->kids[0], *order = clause->kids[1];
	struct scope next = {0}, sortsc = {0};
	bool agg = false, distinct = clause->flags & AST_F_DISTINCT;
	int32_t *slots;
	struct ast **exprs;

	if ((clause->flags & AST_F_STAR) &&
	    star_items(pl, clause, sc, &items) < 0)
		goto oom;
	clause->kids[0] = items;
	if (items->n == 0 && clause->kind == AST_RETURN)
		return perr(pl, "SyntaxError", clause->pos,
			    "RETURN * is not allowed when there are no variables in scope"),
		       op_free_tree(op), NULL;
	slots = malloc((items->n + 1) * sizeof *slots);
	exprs = malloc((items->n + 1) * sizeof *exprs);
	if (slots == NULL || exprs == NULL) {
		free(slots);
		free(exprs);
		goto oom;
	}
	for (uint32_t i = 0; i < items->n; i++) {
		struct ast *it = items->kids[i];

		if (pattern_as_value(pl, it->kids[0], "as a projected value") < 0 ||
		    resolve(pl, it->kids[0], sc, true) < 0)
			goto fail_arrays;
		agg |= ast_is_aggregate(it->kids[0]);
		if (clause->kind == AST_WITH && it->name == NULL &&
		    it->kids[0]->kind != AST_VAR) {
			perr(pl, "SyntaxError", it->kids[0]->pos,
			     "Expression in WITH must be aliased (use AS)");
			goto fail_arrays;
		}
		it->name = item_name(pl, it);
		for (uint32_t j = 0; j < i; j++)
			if (strcmp(items->kids[j]->name, it->name) == 0) {
				perr(pl, "SyntaxError", it->pos,
				     "Multiple result columns with the same name are not supported (`%s`)",
				     it->name);
				goto fail_arrays;
			}
		slots[i] = it->slot = new_slot(pl);
		exprs[i] = it->kids[0];
		if (scope_add_k(pl, &next, it->name, slots[i],
				expr_kind(sc, it->kids[0])) < 0)
			goto fail_arrays;
	}
	if (agg) {
		free(exprs);
		op = aggregate(pl, op, items, slots, sc);
	} else {
		op = op_project(op, exprs, slots, items->n);
		if (op == NULL) {
			free(exprs);
			free(slots);
			goto oom;
		}
	}
	if (op == NULL)
		goto fail;
	if (distinct) {
		int32_t *ds = malloc(items->n * sizeof *ds);

		if (ds == NULL)
			goto oom;
		for (uint32_t i = 0; i < items->n; i++)
			ds[i] = items->kids[i]->slot;
		struct op *d = op_distinct(op, ds, items->n);
		if (d == NULL) {
			free(ds);
			goto oom;
		}
		op = d;
	}
	if (order != NULL) {
		/* ORDER BY sees the projection and, without aggregation or
		 * DISTINCT, the variables before it */
		if ((!agg && !distinct && scope_copy(pl, &sortsc, sc) < 0) ||
		    scope_copy(pl, &sortsc, &next) < 0)
			goto fail;
		op = order_by(pl, op, order, &sortsc, items, agg || distinct);
		if (op == NULL)
			goto fail_nop;
	}
	if (clause->kids[2] || clause->kids[3]) {
		op = skip_limit(pl, op, clause->kids[2], clause->kids[3]);
		if (op == NULL)
			goto fail_nop;
	}
	if (clause->n > 4 && clause->kids[4] != NULL) {
		struct op *f;

		/* like ORDER BY, WITH's WHERE sees what came before unless
		 * aggregation or DISTINCT replaced it */
		if (sortsc.n == 0 &&
		    ((!agg && !distinct && scope_copy(pl, &sortsc, sc) < 0) ||
		     scope_copy(pl, &sortsc, &next) < 0))
			goto fail;
		if ((agg || distinct) &&
		    (clause->kids[4] = rewrite_items(pl, clause->kids[4],
						     items)) == NULL)
			goto fail;
		if (resolve(pl, clause->kids[4], &sortsc, false) < 0)
			goto fail;
		f = op_filter(op, clause->kids[4]);
		if (f == NULL)
			goto oom;
		op = f;
	}
	scope_free(&sortsc);
	scope_free(sc);
	*sc = next;
	return op;
fail_arrays:
	free(slots);
	free(exprs);
	goto fail;
oom:
	poom(pl);
fail:
	op_free_tree(op);
fail_nop:
	scope_free(&next);
	scope_free(&sortsc);
	return NULL;
}

/* Clauses ----------------------------------------------------------------- */

static struct op *wrap(struct planner *pl, struct op *made, struct op *input)
{
	if (made == NULL) {
		op_free_tree(input);
		return poom(pl);
	}
	return made;
}

static struct op *plan_unwind(struct planner *pl, struct ast *c,
			      struct op *op, struct scope *sc)
{
	int32_t slot;

	if (resolve(pl, c->kids[0], sc, false) < 0) {
		op_free_tree(op);
		return NULL;
	}
	if (scope_find(sc, c->name) >= 0) {
		op_free_tree(op);
		perr(pl, "SyntaxError", c->pos,
		     "Variable `%s` already declared", c->name);
		return NULL;
	}
	slot = new_slot(pl);
	if (scope_add(pl, sc, c->name, slot) < 0) {
		op_free_tree(op);
		return NULL;
	}
	return wrap(pl, op_unwind(op, c->kids[0], slot), op);
}

static int check_create_rels(struct planner *pl, struct ast *pattern,
			     bool merge)
{
	for (uint32_t p = 0; p < pattern->n; p++) {
		struct ast *path = pattern->kids[p];

		for (uint32_t i = 1; i < path->n; i += 2) {
			struct ast *r = path->kids[i];

			if (r->kids[0]->n != 1)
				return perr(pl, "SyntaxError", r->pos,
					    "Exactly one relationship type must be specified for %s. Did you forget to prefix your relationship type with a ':'?",
					    merge ? "MERGE" : "CREATE");
			if (r->flags & AST_F_VARLEN)
				return perr(pl, "SyntaxError", r->pos,
					    "Variable length relationships cannot be used in %s",
					    merge ? "MERGE" : "CREATE");
			if (!merge && r->op == AST_DIR_BOTH)
				return perr(pl, "SyntaxError", r->pos,
					    "Only directed relationships are supported in CREATE");
		}
	}
	return 0;
}

/* Labels to write are plain names: no |, no !. */
static int plain_labels(struct planner *pl, const struct ast *owner,
			uint32_t from)
{
	for (uint32_t i = from; i < owner->n; i++)
		if (owner->kids[i]->op != AST_LABEL_ALL)
			return perr(pl, "SyntaxError", owner->kids[i]->pos,
				    "Label expressions (| and !) are not allowed where labels are written (`%s`)",
				    owner->kids[i]->name);
	return 0;
}

static int pattern_plain_labels(struct planner *pl, const struct ast *pattern)
{
	for (uint32_t p = 0; p < pattern->n; p++)
		for (uint32_t i = 0; i < pattern->kids[p]->n; i += 2)
			if (plain_labels(pl, pattern->kids[p]->kids[i]->kids[0],
					 0) < 0)
				return -1;
	return 0;
}

/* CREATE (a) with a bound a creates nothing: Neo4j refuses it. */
static int create_bound_alone(struct planner *pl, struct ast *pattern,
			      struct scope *sc)
{
	for (uint32_t p = 0; p < pattern->n; p++) {
		struct ast *path = pattern->kids[p], *np = path->kids[0];

		if (path->n == 1 && np->name && scope_find(sc, np->name) >= 0)
			return perr(pl, "SyntaxError", np->pos,
				    "Variable `%s` already declared", np->name);
	}
	return 0;
}

static struct op *plan_create(struct planner *pl, struct ast *c,
			      struct op *op, struct scope *sc)
{
	if (create_bound_alone(pl, c->kids[0], sc) < 0 ||
	    pattern_plain_labels(pl, c->kids[0]) < 0 ||
	    check_create_rels(pl, c->kids[0], false) < 0 ||
	    assign_slots(pl, c->kids[0], sc, true) < 0 ||
	    resolve_pattern_props(pl, c->kids[0], sc) < 0) {
		op_free_tree(op);
		return NULL;
	}
	pl->plan->writes = true;
	return wrap(pl, op_write(op, c), op);
}

static int resolve_set_items(struct planner *pl, struct ast *set,
			     struct scope *sc)
{
	for (uint32_t i = 0; set && i < set->n; i++) {
		struct ast *it = set->kids[i];

		if (it->kind == AST_SET_LABELS || it->kind == AST_REMOVE_LABELS) {
			if (plain_labels(pl, it, 1) < 0 ||
			    resolve(pl, it->kids[0], sc, false) < 0)
				return -1;
		} else if (resolve_kids(pl, it, sc, false) < 0) {
			return -1;
		}
	}
	return 0;
}

/* MERGE can neither merge a bound node on its own nor add labels or
 * properties to a bound one. */
static int merge_bound(struct planner *pl, struct ast *path, struct scope *sc)
{
	for (uint32_t i = 0; i < path->n; i += 2) {
		struct ast *np = path->kids[i];

		if (np->name == NULL || scope_find(sc, np->name) < 0)
			continue;
		if (path->n == 1 || np->kids[0]->n > 0 || np->kids[1] != NULL)
			return perr(pl, "SyntaxError", np->pos,
				    "Variable `%s` already declared: MERGE cannot %s a node that is already bound",
				    np->name,
				    path->n == 1 ? "merge" : "add labels or properties to");
	}
	return 0;
}

static struct op *plan_merge(struct planner *pl, struct ast *c,
			     struct op *op, struct scope *sc)
{
	struct op *arg, *match;

	if (pattern_plain_labels(pl, c->kids[0]) < 0 ||
	    check_create_rels(pl, c->kids[0], true) < 0 ||
	    merge_bound(pl, c->kids[0]->kids[0], sc) < 0) {
		op_free_tree(op);
		return NULL;
	}
	arg = op_argument();
	if (arg == NULL) {
		op_free_tree(op);
		return poom(pl);
	}
	match = plan_match(pl, c->kids[0], NULL, arg, sc, false);
	if (match == NULL || resolve_set_items(pl, c->kids[1], sc) < 0 ||
	    resolve_set_items(pl, c->kids[2], sc) < 0) {
		op_free_tree(match);
		op_free_tree(op);
		return NULL;
	}
	pl->plan->writes = true;
	struct op *m = op_merge(op, match, c);
	if (m == NULL) {
		op_free_tree(match);
		op_free_tree(op);
		return poom(pl);
	}
	return m;
}

/* DELETE takes entities: not labels, not literals. */
static int delete_targets(struct planner *pl, struct ast *c)
{
	for (uint32_t i = 0; c->kind == AST_DELETE && i < c->n; i++) {
		struct ast *k = c->kids[i];

		if (k->kind == AST_LABEL_TEST)
			return perr(pl, "SyntaxError", k->pos,
				    "Invalid DELETE: labels and relationship types are removed with REMOVE, not DELETE");
		if (k->kind == AST_LIT || k->kind == AST_MAP ||
		    k->kind == AST_BINOP)
			return perr(pl, "SyntaxError", k->pos,
				    "Type mismatch: DELETE expects a Node, Relationship or Path");
	}
	return 0;
}

static struct op *plan_update(struct planner *pl, struct ast *c,
			      struct op *op, struct scope *sc)
{
	if (delete_targets(pl, c) < 0) {
		op_free_tree(op);
		return NULL;
	}
	int rv = c->kind == AST_DELETE ? resolve_kids(pl, c, sc, false)
				       : resolve_set_items(pl, c, sc);

	if (rv < 0) {
		op_free_tree(op);
		return NULL;
	}
	pl->plan->writes = true;
	return wrap(pl, op_write(op, c), op);
}

static struct op *plan_clauses(struct planner *pl, struct ast *single,
			       uint32_t from, uint32_t to, struct op *op,
			       struct scope *sc, struct ast **ret);

static struct op *plan_foreach(struct planner *pl, struct ast *c,
			       struct op *op, struct scope *sc)
{
	struct scope inner = {0};
	struct op *arg, *body;
	int32_t slot;

	if (resolve(pl, c->kids[0], sc, false) < 0 ||
	    scope_copy(pl, &inner, sc) < 0) {
		op_free_tree(op);
		return NULL;
	}
	slot = new_slot(pl);
	arg = op_argument();
	if (arg == NULL || scope_add(pl, &inner, c->name, slot) < 0) {
		scope_free(&inner);
		op_free_tree(op);
		return poom(pl);
	}
	for (uint32_t i = 1; i < c->n; i++) {
		uint16_t k = c->kids[i]->kind;

		if (k != AST_CREATE && k != AST_MERGE && k != AST_SET &&
		    k != AST_REMOVE && k != AST_DELETE && k != AST_FOREACH) {
			scope_free(&inner);
			op_free_tree(op);
			op_free_tree(arg);
			perr(pl, "SyntaxError", c->kids[i]->pos,
			     "Only updating clauses (CREATE, MERGE, SET, REMOVE, DELETE, FOREACH) are allowed in FOREACH");
			return NULL;
		}
	}
	body = plan_clauses(pl, c, 1, c->n, arg, &inner, NULL);
	scope_free(&inner);
	if (body == NULL) {
		op_free_tree(op);
		return NULL;
	}
	pl->plan->writes = true;
	struct op *f = op_foreach(op, body, c->kids[0], slot);
	if (f == NULL) {
		op_free_tree(body);
		op_free_tree(op);
		return poom(pl);
	}
	return f;
}

/* What a CALL { } body sees of the outer query: the variables of
 * CALL (a, b) { }, all of them for CALL (*) { } or a body that starts with
 * an importing WITH (which then narrows the scope), otherwise none. */
static int import_scope(struct planner *pl, struct ast *c,
			const struct scope *sc, struct scope *inner)
{
	struct ast *body = c->kids[0], *imports = c->plan;

	if (c->flags & AST_F_EXPLICIT_ARGS) {
		if (c->flags & AST_F_STAR)
			return scope_copy(pl, inner, sc);
		for (uint32_t i = 0; imports && i < imports->n; i++) {
			int32_t s = scope_find(sc, imports->kids[i]->name);

			if (s < 0)
				return perr(pl, "SyntaxError", imports->kids[i]->pos,
					    "Variable `%s` not defined",
					    imports->kids[i]->name);
			if (scope_add_k(pl, inner, imports->kids[i]->name, s,
					scope_var(sc, imports->kids[i]->name)->kind) < 0)
				return -1;
		}
		return 0;
	}
	while (body->kind == AST_UNION)
		body = body->kids[0];
	if (body->n > 0 && body->kids[0]->kind == AST_WITH)
		return scope_copy(pl, inner, sc);
	return 0;
}

static struct op *plan_subquery(struct planner *pl, struct ast *c,
				struct op *op, struct scope *sc)
{
	struct scope inner = {0};
	struct ast *ret = NULL;
	struct op *arg = op_argument(), *body, *a;

	if (arg == NULL || import_scope(pl, c, sc, &inner) < 0) {
		op_free_tree(op);
		op_free_tree(arg);
		return poom(pl);
	}
	body = plan_query(pl, c->kids[0], arg, &inner, &ret);
	if (body == NULL) {
		scope_free(&inner);
		op_free_tree(op);
		return NULL;
	}
	if (ret != NULL) {
		struct ast *items = ret->kids[0];

		for (uint32_t i = 0; i < items->n; i++) {
			if (scope_find(sc, items->kids[i]->name) >= 0 &&
			    !(items->kids[i]->kids[0]->kind == AST_VAR &&
			      strcmp(items->kids[i]->kids[0]->name,
				     items->kids[i]->name) == 0)) {
				perr(pl, "SyntaxError", items->kids[i]->pos,
				     "Variable `%s` already declared in outer scope",
				     items->kids[i]->name);
				scope_free(&inner);
				op_free_tree(body);
				op_free_tree(op);
				return NULL;
			}
			if (scope_add(pl, sc, items->kids[i]->name,
				      items->kids[i]->slot) < 0)
				break;
		}
	}
	scope_free(&inner);
	a = op_apply(op, body, ret == NULL);
	if (a == NULL) {
		op_free_tree(body);
		op_free_tree(op);
		return poom(pl);
	}
	return a;
}

static struct op *plan_call(struct planner *pl, struct ast *c, struct op *op,
			    struct scope *sc, bool standalone, struct ast **ret);

static bool reads_clause(uint16_t k)
{
	return k == AST_MATCH || k == AST_MERGE || k == AST_CALL ||
	       k == AST_SUBQUERY;
}

static bool updates_clause(uint16_t k)
{
	return k == AST_CREATE || k == AST_MERGE || k == AST_SET ||
	       k == AST_REMOVE || k == AST_DELETE || k == AST_FOREACH;
}

/* A clause that writes, itself or in a subquery it runs. */
static bool writes(const struct ast *c)
{
	if (c == NULL)
		return false;
	if (updates_clause(c->kind))
		return true;
	if (c->kind != AST_SUBQUERY && c->kind != AST_UNION &&
	    c->kind != AST_SINGLE)
		return false;
	for (uint32_t i = 0; i < c->n; i++)
		if (writes(c->kids[i]))
			return true;
	return false;
}

static struct op *eager(struct planner *pl, struct op *op)
{
	return wrap(pl, op_eager(op), op);
}

static struct op *plan_clause(struct planner *pl, struct ast *c, struct op *op,
			      struct scope *sc, bool standalone,
			      struct ast **ret)
{
	switch (c->kind) {
	case AST_MATCH:
		return plan_match(pl, c->kids[0], c->kids[1], op, sc,
				  c->flags & AST_F_OPTIONAL);
	case AST_UNWIND:
		return plan_unwind(pl, c, op, sc);
	case AST_WITH:
		return projection(pl, c, op, sc);
	case AST_RETURN:
		op = projection(pl, c, op, sc);
		if (op && ret)
			*ret = c;
		return op;
	case AST_CREATE:
		return plan_create(pl, c, op, sc);
	case AST_MERGE:
		return plan_merge(pl, c, op, sc);
	case AST_SET:
	case AST_REMOVE:
	case AST_DELETE:
		return plan_update(pl, c, op, sc);
	case AST_FOREACH:
		return plan_foreach(pl, c, op, sc);
	case AST_CALL:
		return plan_call(pl, c, op, sc, standalone, ret);
	case AST_SUBQUERY:
		return plan_subquery(pl, c, op, sc);
	default:
		op_free_tree(op);
		perr(pl, "SyntaxError", c->pos,
		     "USE must be the first clause of a query");
		return NULL;
	}
}

static const char *clause_name(uint16_t k)
{
	switch (k) {
	case AST_MATCH: return "MATCH";
	case AST_UNWIND: return "UNWIND";
	case AST_WITH: return "WITH";
	default: return "this clause";
	}
}

static struct op *plan_clauses(struct planner *pl, struct ast *single,
			       uint32_t from, uint32_t to, struct op *op,
			       struct scope *sc, struct ast **ret)
{
	bool wrote = false, read = false;

	for (uint32_t i = from; i < to && op != NULL; i++) {
		struct ast *c = single->kids[i];

		if (c->kind == AST_RETURN && i + 1 < to) {
			op_free_tree(op);
			perr(pl, "SyntaxError", c->pos,
			     "RETURN can only be used at the end of the query");
			return NULL;
		}
		if (c->kind == AST_MATCH && i > from &&
		    updates_clause(single->kids[i - 1]->kind)) {
			op_free_tree(op);
			perr(pl, "SyntaxError", c->pos,
			     "WITH is required between an updating clause and MATCH");
			return NULL;
		}
		/* reads after writes, and writes after reads, see a stable
		 * world: the clause before finishes first */
		if ((wrote && reads_clause(c->kind)) ||
		    (read && writes(c) && c->kind != AST_FOREACH)) {
			op = eager(pl, op);
			wrote = read = false;
			if (op == NULL)
				return NULL;
		}
		op = plan_clause(pl, c, op, sc, from == 0 && to == 1, ret);
		wrote |= writes(c);
		read |= reads_clause(c->kind);
	}
	return op;
}

static struct op *plan_single(struct planner *pl, struct ast *single,
			      struct op *input, struct scope *sc,
			      struct ast **ret)
{
	uint32_t from = 0;
	struct ast *last;

	if (single->kids[0]->kind == AST_USE) {
		if (pl->plan->use_db && strcmp(pl->plan->use_db,
					       single->kids[0]->name) != 0) {
			op_free_tree(input);
			perr(pl, "SyntaxError", single->kids[0]->pos,
			     "Multiple USE clauses name different databases; one statement runs against one database (`%s`)",
			     single->kids[0]->name);
			return NULL;
		}
		pl->plan->use_db = single->kids[0]->name;
		from = 1;
		if (single->n == 1) {
			op_free_tree(input);
			perr(pl, "SyntaxError", single->kids[0]->pos,
			     "USE must be followed by a query");
			return NULL;
		}
	}
	last = single->kids[single->n - 1];
	if (pl->qdepth == 1 && (last->kind == AST_MATCH || last->kind == AST_WITH ||
			    last->kind == AST_UNWIND)) {
		op_free_tree(input);
		perr(pl, "SyntaxError", last->pos,
		     "Query cannot conclude with %s (must be a RETURN clause, an update clause, a unit subquery call, or a procedure call with no YIELD)",
		     clause_name(last->kind));
		return NULL;
	}
	return plan_clauses(pl, single, from, single->n, input, sc, ret);
}

static int union_columns(struct planner *pl, struct ast *u, struct ast *ra,
			 struct ast *rb, int32_t **as, int32_t **bs,
			 int32_t **outs)
{
	struct ast *ia = ra ? ra->kids[0] : NULL, *ib = rb ? rb->kids[0] : NULL;
	uint32_t n = ia ? ia->n : 0;

	if (ia == NULL || ib == NULL || ia->n != ib->n)
		return perr(pl, "SyntaxError", u->pos,
			    "All sub queries in an UNION must have the same return column names");
	*as = malloc((n + 1) * sizeof **as);
	*bs = malloc((n + 1) * sizeof **bs);
	*outs = malloc((n + 1) * sizeof **outs);
	if (*as == NULL || *bs == NULL || *outs == NULL) {
		poom(pl);
		return -1;
	}
	for (uint32_t i = 0; i < n; i++) {
		if (strcmp(ia->kids[i]->name, ib->kids[i]->name) != 0)
			return perr(pl, "SyntaxError", u->pos,
				    "All sub queries in an UNION must have the same return column names");
		(*as)[i] = ia->kids[i]->slot;
		(*bs)[i] = ib->kids[i]->slot;
		(*outs)[i] = new_slot(pl);
	}
	return 0;
}

/* UNION: both sides see the outer scope; the result rows go to new slots
 * named like the left side's columns. */
static struct op *plan_union(struct planner *pl, struct ast *q,
			     struct op *input, struct scope *sc,
			     struct ast **ret)
{
	struct scope s1 = {0}, s2 = {0};
	struct ast *ra = NULL, *rb = NULL, *r;
	struct op *a, *b, *u = NULL, *arg = op_argument();
	int32_t *as = NULL, *bs = NULL, *outs = NULL;

	if (arg == NULL || scope_copy(pl, &s1, sc) < 0 ||
	    scope_copy(pl, &s2, sc) < 0)
		goto oom;
	a = plan_query(pl, q->kids[0], input, &s1, &ra);
	input = NULL;
	if (a != NULL) { /* the right side takes arg, also when it fails */
		b = plan_query(pl, q->kids[1], arg, &s2, &rb);
		arg = NULL;
	} else {
		b = NULL;
	}
	if (a == NULL || b == NULL) {
		op_free_tree(a);
		op_free_tree(b);
		goto out;
	}
	if (union_columns(pl, q, ra, rb, &as, &bs, &outs) < 0) {
		op_free_tree(a);
		op_free_tree(b);
		goto out;
	}
	u = op_union(a, b, as, bs, outs, ra->kids[0]->n, q->flags & AST_F_ALL);
	if (u == NULL) {
		op_free_tree(a);
		op_free_tree(b);
		goto oom;
	}
	as = bs = NULL;
	/* the left RETURN's items now name the union's slots */
	r = ra;
	for (uint32_t i = 0; i < r->kids[0]->n; i++)
		r->kids[0]->kids[i]->slot = outs[i];
	outs = NULL;
	if (ret)
		*ret = r;
	scope_free(sc);
	for (uint32_t i = 0; i < r->kids[0]->n; i++)
		scope_add(pl, sc, r->kids[0]->kids[i]->name,
			  r->kids[0]->kids[i]->slot);
	goto out;
oom:
	poom(pl);
out:
	op_free_tree(input);
	op_free_tree(arg);
	free(as);
	free(bs);
	free(outs);
	scope_free(&s1);
	scope_free(&s2);
	return u;
}

static struct op *plan_query(struct planner *pl, struct ast *q,
			     struct op *input, struct scope *sc,
			     struct ast **ret)
{
	struct op *op;

	pl->qdepth++;
	if (q->kind == AST_UNION)
		op = plan_union(pl, q, input, sc, ret);
	else
		op = plan_single(pl, q, input, sc, ret);
	pl->qdepth--;
	return op;
}

/* Procedure calls and SHOW --------------------------------------------------- */

static struct ast *synth(struct planner *pl, uint16_t kind, uint32_t nkids)
{
	struct ast *a = arena_alloc(&pl->st->arena, sizeof *a);

	if (a == NULL)
		return poom(pl);
	a->kind = kind;
	a->slot = a->slot2 = -1;
	if (nkids > 0) {
		a->kids = arena_alloc(&pl->st->arena, nkids * sizeof *a->kids);
		if (a->kids == NULL)
			return poom(pl);
	}
	return a;
}

/* A RETURN-shaped node naming result columns, for statements that end
 * without one (standalone CALL, SHOW). */
static struct ast *synth_return(struct planner *pl, const char **names,
				const int32_t *slots, uint32_t n)
{
	struct ast *r = synth(pl, AST_RETURN, 1), *items;

	if (r == NULL || (items = synth(pl, AST_LIST_OF, n + 1)) == NULL)
		return NULL;
	r->kids[0] = items;
	r->n = 1;
	for (uint32_t i = 0; i < n; i++) {
		struct ast *it = synth(pl, AST_ITEM, 0);

		if (it == NULL)
			return NULL;
		it->name = names[i];
		it->slot = slots[i];
		items->kids[items->n++] = it;
	}
	return r;
}

/* A literal argument of the wrong type fails before the call: the
 * declared types are INTEGER, FLOAT, NUMBER, STRING, BOOLEAN (a trailing
 * '?' allows null); others (ANY, MAP, LIST ...) take anything. */
static int literal_arg_type(struct planner *pl, const struct ast *a,
			    const struct cypher_proc_field *in)
{
	static const struct {
		const char *name;
		uint8_t t1, t2;
	} types[] = {
		{"INTEGER", GRAFT_VALUE_INT, GRAFT_VALUE_INT},
		{"FLOAT", GRAFT_VALUE_FLOAT, GRAFT_VALUE_INT},
		{"NUMBER", GRAFT_VALUE_INT, GRAFT_VALUE_FLOAT},
		{"STRING", GRAFT_VALUE_STRING, GRAFT_VALUE_STRING},
		{"BOOLEAN", GRAFT_VALUE_BOOL, GRAFT_VALUE_BOOL},
	};

	if (a->kind != AST_LIT || a->v.type == GRAFT_VALUE_NULL)
		return 0;
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
		size_t n = strlen(types[i].name);

		if (strncmp(in->type, types[i].name, n) != 0 ||
		    (in->type[n] != 0 && in->type[n] != '?'))
			continue;
		if (a->v.type == types[i].t1 || a->v.type == types[i].t2)
			return 0;
		return perr(pl, "SyntaxError", a->pos,
			    "Type mismatch: argument `%s` of the procedure expects %s",
			    in->name, in->type);
	}
	return 0;
}

static int proc_args(struct planner *pl, struct ast *c,
		     const struct cypher_proc *proc, struct scope *sc,
		     struct ast ***args_out)
{
	struct ast *given = c->kids[0];
	uint32_t n = given ? given->n : proc->ninputs;
	struct ast **args;

	if (n != proc->ninputs)
		return perr(pl, "SyntaxError", c->pos,
			    "Procedure call does not provide the required number of arguments: got %u, expected %u for %s",
			    n, proc->ninputs, proc->name);
	args = calloc(proc->ninputs + 1, sizeof *args);
	if (args == NULL) {
		poom(pl);
		return -1;
	}
	for (uint32_t i = 0; i < proc->ninputs; i++) {
		struct ast *a;

		if (given && i < given->n) {
			a = given->kids[i];
			if (literal_arg_type(pl, a, &proc->inputs[i]) < 0 ||
			    resolve(pl, a, sc, false) < 0) {
				free(args);
				return -1;
			}
		} else {
			a = synth(pl, given ? AST_LIT : AST_PARAM, 0);
			if (a == NULL) {
				free(args);
				return -1;
			}
			a->name = proc->inputs[i].name;
		}
		args[i] = a;
	}
	*args_out = args;
	return 0;
}

static int yield_fields(struct planner *pl, struct ast *c,
			const struct cypher_proc *proc, bool all,
			uint32_t **fields, int32_t **slots, const char ***names,
			uint32_t *n)
{
	struct ast *items = c->kids[1];
	uint32_t k = all ? proc->noutputs : items->n;

	*fields = calloc(k + 1, sizeof **fields);
	*slots = calloc(k + 1, sizeof **slots);
	*names = arena_alloc(&pl->st->arena, (k + 1) * sizeof **names);
	if (*fields == NULL || *slots == NULL || *names == NULL) {
		poom(pl);
		return -1;
	}
	for (uint32_t i = 0; i < k; i++) {
		const char *want = all ? proc->outputs[i].name
				       : items->kids[i]->kids[0]->name;
		uint32_t f = 0;

		while (f < proc->noutputs && strcmp(proc->outputs[f].name, want))
			f++;
		if (f == proc->noutputs)
			return perr(pl, "SyntaxError",
				    all ? c->pos : items->kids[i]->pos,
				    "Unknown procedure output: `%s`", want);
		(*fields)[i] = f;
		(*slots)[i] = new_slot(pl);
		(*names)[i] = all || items->kids[i]->name == NULL
				      ? want
				      : items->kids[i]->name;
	}
	*n = k;
	return 0;
}

static int proc_not_found(struct planner *pl, const char *name)
{
	pl->failed = true;
	cypher_error_set(pl->err, "Neo.ClientError.Procedure.ProcedureNotFound",
			 "There is no procedure with the name `%s` registered for this database instance. Please ensure you've spelled the procedure name correctly and that the procedure is properly deployed.",
			 name);
	return -1;
}

static struct op *plan_proc(struct planner *pl, struct ast *c,
			    const struct cypher_proc *proc, struct op *op,
			    struct scope *sc, bool standalone, struct ast **ret)
{
	struct ast **args = NULL;
	uint32_t *fields = NULL, n = 0;
	int32_t *slots = NULL;
	const char **names = NULL;
	struct op *p;
	bool all = c->kids[1] == NULL || (c->flags & AST_F_STAR);

	if (proc == NULL) {
		proc_not_found(pl, c->name);
		goto fail;
	}
	if (c->kids[1] == NULL && !standalone && proc->noutputs > 0) {
		perr(pl, "SyntaxError", c->pos,
		     "Procedure call inside a query does not support naming results implicitly (name explicitly using `YIELD` instead): %s",
		     proc->name);
		goto fail;
	}
	if (!standalone && ((c->flags & AST_F_STAR) ||
			    (c->kids[0] == NULL && proc->ninputs > 0))) {
		perr(pl, "SyntaxError", c->pos,
		     "Procedure call inside a query must %s: %s",
		     (c->flags & AST_F_STAR) ? "name the fields it yields (YIELD * is for standalone calls)"
					     : "pass its arguments explicitly",
		     proc->name);
		goto fail;
	}
	if (proc_args(pl, c, proc, sc, &args) < 0 ||
	    yield_fields(pl, c, proc, all, &fields, &slots, &names, &n) < 0)
		goto fail;
	for (uint32_t i = 0; i < n; i++) {
		if (scope_find(sc, names[i]) >= 0) {
			perr(pl, "SyntaxError", c->pos,
			     "Variable `%s` already declared", names[i]);
			goto fail;
		}
		if (scope_add(pl, sc, names[i], slots[i]) < 0)
			goto fail;
	}
	if (standalone && ret != NULL &&
	    (*ret = synth_return(pl, names, slots, n)) == NULL)
		goto fail;
	p = op_procedure(op, proc, args, proc->ninputs, slots, fields, n);
	if (p == NULL) {
		poom(pl);
		goto fail;
	}
	if (strcmp(proc->mode, "WRITE") == 0)
		pl->plan->writes = true;
	else
		pl->plan->reads = true;
	if (c->kids[2] != NULL) {
		struct op *f;

		if (resolve(pl, c->kids[2], sc, false) < 0) {
			op_free_tree(p);
			return NULL;
		}
		f = op_filter(p, c->kids[2]);
		if (f == NULL) {
			op_free_tree(p);
			return poom(pl);
		}
		p = f;
	}
	return p;
fail:
	free(args);
	free(fields);
	free(slots);
	op_free_tree(op);
	return NULL;
}

static struct op *plan_call(struct planner *pl, struct ast *c, struct op *op,
			    struct scope *sc, bool standalone, struct ast **ret)
{
	const struct cypher_proc *proc = engine_find_proc(pl->e, c->name);

	return plan_proc(pl, c, proc, op, sc, standalone, ret);
}

/* SHOW kind [filter] [YIELD ...] [WHERE ...] [RETURN ...] becomes
 * CALL <show procedure>(filter) YIELD * and the projections. */
static struct op *plan_show(struct planner *pl, struct ast *a,
			    struct scope *sc, struct ast **ret)
{
	uint32_t ndef;
	const struct cypher_proc *proc = proc_show(a->name, &ndef);
	struct ast *call = synth(pl, AST_CALL, 3), *args, *filter;
	struct op *op;

	if (proc == NULL)
		return perr(pl, "SyntaxError", a->pos,
			    "SHOW %s is not supported yet; see docs/cypher.md",
			    a->name),
		       NULL;
	if (call == NULL || (args = synth(pl, AST_LIST_OF, 2)) == NULL)
		return NULL;
	filter = synth(pl, AST_LIST, a->kids[0]->n + 1);
	if (filter == NULL)
		return NULL;
	for (uint32_t i = 0; i < a->kids[0]->n; i++) {
		struct ast *k = a->kids[0]->kids[i];

		if (k->kind == AST_NAME) { /* a bare name means the string */
			struct ast *lit = synth(pl, AST_LIT, 0);

			if (lit == NULL ||
			    graft_value_string(&lit->v, k->name,
					       strlen(k->name)) != GRAFT_OK)
				return poom(pl);
			pl->st->lits = realloc(pl->st->lits,
					       (pl->st->nlits + 1) *
						       sizeof *pl->st->lits);
			if (pl->st->lits == NULL)
				return poom(pl);
			pl->st->lits[pl->st->nlits++] = lit;
			k = lit;
		}
		filter->kids[filter->n++] = k;
	}
	args->kids[0] = filter;
	args->kids[1] = synth(pl, AST_LIT, 0); /* the show's name2 option */
	if (args->kids[1] == NULL)
		return NULL;
	if (a->name2 != NULL)
		args->kids[1]->v = graft_value_bool(true);
	args->n = proc->ninputs;
	call->name = proc->name;
	call->flags = AST_F_STAR;
	call->kids[0] = args;
	call->n = 3;
	call->pos = a->pos;
	op = op_argument();
	if (op == NULL)
		return poom(pl);
	op = plan_proc(pl, call, proc, op, sc, true, ret);
	if (op == NULL)
		return NULL;
	if (a->kids[1] == NULL && a->kids[3] == NULL && ret && *ret)
		(*ret)->kids[0]->n = ndef; /* default columns */
	if (a->kids[1] != NULL) {
		op = projection(pl, a->kids[1], op, sc);
		if (op && ret)
			*ret = a->kids[1];
	}
	if (op && a->kids[2] != NULL) {
		if (resolve(pl, a->kids[2], sc, false) < 0) {
			op_free_tree(op);
			return NULL;
		}
		op = wrap(pl, op_filter(op, a->kids[2]), op);
	}
	if (op && a->kids[3] != NULL) {
		op = projection(pl, a->kids[3], op, sc);
		if (op && ret)
			*ret = a->kids[3];
	}
	return op;
}

/* Building ---------------------------------------------------------------- */

static int set_columns(struct planner *pl, struct ast *ret)
{
	struct exec_plan *p = pl->plan;
	struct ast *items;

	if (ret == NULL)
		return 0;
	items = ret->kids[0];
	p->ncolumns = items->n;
	p->columns = arena_alloc(&pl->st->arena,
				 (items->n + 1) * sizeof *p->columns);
	p->column_slots = arena_alloc(&pl->st->arena,
				      (items->n + 1) * sizeof *p->column_slots);
	if (p->columns == NULL || p->column_slots == NULL) {
		poom(pl);
		return -1;
	}
	for (uint32_t i = 0; i < items->n; i++) {
		p->columns[i] = items->kids[i]->name;
		p->column_slots[i] = items->kids[i]->slot;
	}
	return 0;
}

static struct op *plan_statement(struct planner *pl, struct ast *root,
				 struct scope *sc, struct ast **ret)
{
	struct op *op;

	if (root->kind == AST_ADMIN) {
		if (root->op == ADM_SHOW) {
			pl->qdepth++;
			op = plan_show(pl, root, sc, ret);
			pl->qdepth--;
			pl->plan->admin = true;
			return op;
		}
		pl->plan->admin = true;
		pl->plan->schema = true;
		op = op_admin(root);
		return op ? op : poom(pl);
	}
	op = op_argument();
	if (op == NULL)
		return poom(pl);
	return plan_query(pl, root, op, sc, ret);
}

int plan_build(struct cypher_engine *e, struct cypher_stmt *st,
	       struct exec_plan **out, struct cypher_error *err)
{
	struct planner pl = {.e = e, .st = st, .err = err};
	struct exec_plan *p = calloc(1, sizeof *p);
	struct scope sc = {0};
	struct ast *root = st->root, *ret = NULL;

	if (p == NULL)
		return cypher_error_set(err, "Neo.TransientError.General.OutOfMemoryError",
					"Out of memory while planning the query");
	pl.plan = p;
	if (root->kind == AST_EXPLAIN) {
		p->explain = true;
		p->profile = root->flags & AST_F_PROFILE;
		root = root->kids[0];
	}
	p->root = plan_statement(&pl, root, &sc, &ret);
	scope_free(&sc);
	if (p->root != NULL && set_columns(&pl, ret) < 0) {
		op_free_tree(p->root);
		p->root = NULL;
	}
	if (p->root == NULL) {
		plan_free(p);
		return pl.failed ? GRAFT_EINVAL : GRAFT_ENOMEM;
	}
	if (p->writes) { /* writes finish before the first row streams */
		struct op *eg = op_eager(p->root);

		if (eg == NULL) {
			plan_free(p);
			return cypher_error_set(err, "Neo.TransientError.General.OutOfMemoryError",
						"Out of memory while planning the query");
		}
		p->root = eg;
	}
	*out = p;
	return GRAFT_OK;
}

void plan_free(struct exec_plan *p)
{
	if (p == NULL)
		return;
	op_free_tree(p->root);
	for (uint32_t i = 0; i < p->nsubs; i++)
		op_free_tree(p->subs[i]);
	free(p->subs);
	free(p);
}

/* EXPLAIN / PROFILE ------------------------------------------------------- */

static int map_entry(struct graft_value *m, uint32_t i, const char *k,
		     struct graft_value v)
{
	m->u.map->entries[i].key = graft_str_new(k, strlen(k));
	m->u.map->entries[i].value = v;
	return m->u.map->entries[i].key ? GRAFT_OK : GRAFT_ENOMEM;
}

static int describe_op(const struct op *op, bool profile,
		       struct graft_value *out)
{
	struct graft_value kids = {0}, args = {0}, ids = {0}, type = {0};
	uint32_t n = 0, i = 0;
	int rv;

	n = (op->child != NULL) + (op->child2 != NULL);
	rv = graft_value_list(&kids, n);
	if (rv == GRAFT_OK && op->child)
		rv = describe_op(op->child, profile, &kids.u.list->items[i++]);
	if (rv == GRAFT_OK && op->child2)
		rv = describe_op(op->child2, profile, &kids.u.list->items[i++]);
	if (rv == GRAFT_OK)
		rv = graft_value_map(&args, op->detail ? 1 : 0);
	if (rv == GRAFT_OK && op->detail) {
		args.u.map->entries[0].key = graft_str_new("Details", 7);
		rv = args.u.map->entries[0].key == NULL
			     ? GRAFT_ENOMEM
			     : graft_value_string(&args.u.map->entries[0].value,
						  op->detail, strlen(op->detail));
	}
	if (rv == GRAFT_OK)
		rv = graft_value_list(&ids, 0);
	if (rv == GRAFT_OK)
		rv = graft_value_string(&type, op->vt->name, strlen(op->vt->name));
	if (rv == GRAFT_OK)
		rv = graft_value_map(out, profile ? 6 : 4);
	if (rv != GRAFT_OK) {
		graft_value_free(&kids);
		graft_value_free(&args);
		graft_value_free(&ids);
		graft_value_free(&type);
		return rv;
	}
	map_entry(out, 0, "operatorType", type);
	map_entry(out, 1, "args", args);
	map_entry(out, 2, "identifiers", ids);
	map_entry(out, 3, "children", kids);
	if (profile) {
		map_entry(out, 4, "rows", graft_value_int((int64_t)op->rows));
		map_entry(out, 5, "dbHits", graft_value_int((int64_t)op->dbhits));
	}
	graft_map_sort(out->u.map);
	return GRAFT_OK;
}

int plan_describe(const struct exec_plan *p, bool profile,
		  struct graft_value *out)
{
	return describe_op(p->root, profile, out);
}
