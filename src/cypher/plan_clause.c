/* The planner's clauses: UNWIND, CREATE, MERGE, SET/REMOVE, DELETE,
 * FOREACH, CALL { } subqueries, clause order, single queries and UNION. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "planner_int.h"

/* Clauses ----------------------------------------------------------------- */

struct op *planner_wrap(struct planner *pl, struct op *made, struct op *input)
{
	if (made == NULL) {
		op_free_tree(input);
		return planner_oom(pl);
	}
	return made;
}

static struct op *plan_unwind(struct planner *pl, struct ast *c,
			      struct op *op, struct scope *sc)
{
	int32_t slot;

	if (planner_resolve(pl, c->kids[0], sc, false) < 0) {
		op_free_tree(op);
		return NULL;
	}
	if (scope_find(sc, c->name) >= 0) {
		op_free_tree(op);
		planner_fail(pl, GRAFT_STATUS_SYNTAX_ERROR, c->pos,
		     "Variable `%s` already declared", c->name);
		return NULL;
	}
	slot = planner_new_slot(pl);
	if (scope_add(pl, sc, c->name, slot) < 0) {
		op_free_tree(op);
		return NULL;
	}
	return planner_wrap(pl, op_unwind(op, c->kids[0], slot), op);
}

static int check_create_rels(struct planner *pl, struct ast *pattern,
			     bool merge)
{
	for (uint32_t p = 0; p < pattern->n; p++) {
		struct ast *path = pattern->kids[p];

		for (uint32_t i = 1; i < path->n; i += 2) {
			struct ast *r = path->kids[i];

			if (r->kids[0]->n != 1)
				return planner_fail(pl, GRAFT_STATUS_SYNTAX_ERROR, r->pos,
					    "Exactly one relationship type must be specified for %s. Did you forget to prefix your relationship type with a ':'?",
					    merge ? "MERGE" : "CREATE");
			if (r->flags & AST_F_VARLEN)
				return planner_fail(pl, GRAFT_STATUS_SYNTAX_ERROR, r->pos,
					    "Variable length relationships cannot be used in %s",
					    merge ? "MERGE" : "CREATE");
			if (!merge && r->op == AST_DIR_BOTH)
				return planner_fail(pl, GRAFT_STATUS_SYNTAX_ERROR, r->pos,
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
			return planner_fail(pl, GRAFT_STATUS_SYNTAX_ERROR, owner->kids[i]->pos,
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
			return planner_fail(pl, GRAFT_STATUS_SYNTAX_ERROR, np->pos,
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
	    planner_assign_slots(pl, c->kids[0], sc, true) < 0 ||
	    planner_resolve_pattern_props(pl, c->kids[0], sc) < 0) {
		op_free_tree(op);
		return NULL;
	}
	pl->plan->writes = true;
	return planner_wrap(pl, op_write(op, c), op);
}

static int resolve_set_items(struct planner *pl, struct ast *set,
			     struct scope *sc)
{
	for (uint32_t i = 0; set && i < set->n; i++) {
		struct ast *it = set->kids[i];

		if (it->kind == AST_SET_LABELS || it->kind == AST_REMOVE_LABELS) {
			if (plain_labels(pl, it, 1) < 0 ||
			    planner_resolve(pl, it->kids[0], sc, false) < 0)
				return -1;
		} else if (planner_resolve_kids(pl, it, sc, false) < 0) {
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
			return planner_fail(pl, GRAFT_STATUS_SYNTAX_ERROR, np->pos,
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
		return planner_oom(pl);
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
		return planner_oom(pl);
	}
	return m;
}

/* DELETE takes entities: not labels, not literals. */
static int delete_targets(struct planner *pl, struct ast *c)
{
	for (uint32_t i = 0; c->kind == AST_DELETE && i < c->n; i++) {
		struct ast *k = c->kids[i];

		if (k->kind == AST_LABEL_TEST)
			return planner_fail(pl, GRAFT_STATUS_SYNTAX_ERROR, k->pos,
				    "Invalid DELETE: labels and relationship types are removed with REMOVE, not DELETE");
		if (k->kind == AST_LIT || k->kind == AST_MAP ||
		    k->kind == AST_BINOP)
			return planner_fail(pl, GRAFT_STATUS_SYNTAX_ERROR, k->pos,
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
	int rv = c->kind == AST_DELETE ? planner_resolve_kids(pl, c, sc, false)
				       : resolve_set_items(pl, c, sc);

	if (rv < 0) {
		op_free_tree(op);
		return NULL;
	}
	pl->plan->writes = true;
	return planner_wrap(pl, op_write(op, c), op);
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

	if (planner_resolve(pl, c->kids[0], sc, false) < 0 ||
	    scope_copy(pl, &inner, sc) < 0) {
		op_free_tree(op);
		return NULL;
	}
	slot = planner_new_slot(pl);
	arg = op_argument();
	if (arg == NULL || scope_add(pl, &inner, c->name, slot) < 0) {
		scope_free(&inner);
		op_free_tree(op);
		return planner_oom(pl);
	}
	for (uint32_t i = 1; i < c->n; i++) {
		uint16_t k = c->kids[i]->kind;

		if (k != AST_CREATE && k != AST_MERGE && k != AST_SET &&
		    k != AST_REMOVE && k != AST_DELETE && k != AST_FOREACH) {
			scope_free(&inner);
			op_free_tree(op);
			op_free_tree(arg);
			planner_fail(pl, GRAFT_STATUS_SYNTAX_ERROR, c->kids[i]->pos,
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
		return planner_oom(pl);
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
				return planner_fail(pl, GRAFT_STATUS_SYNTAX_ERROR, imports->kids[i]->pos,
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
		return planner_oom(pl);
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
				planner_fail(pl, GRAFT_STATUS_SYNTAX_ERROR, items->kids[i]->pos,
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
		return planner_oom(pl);
	}
	return a;
}

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
bool planner_writes(const struct ast *c)
{
	if (c == NULL)
		return false;
	if (updates_clause(c->kind))
		return true;
	if (c->kind != AST_SUBQUERY && c->kind != AST_UNION &&
	    c->kind != AST_SINGLE)
		return false;
	for (uint32_t i = 0; i < c->n; i++)
		if (planner_writes(c->kids[i]))
			return true;
	return false;
}

static struct op *eager(struct planner *pl, struct op *op)
{
	return planner_wrap(pl, op_eager(op), op);
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
		return plan_projection(pl, c, op, sc);
	case AST_RETURN:
		op = plan_projection(pl, c, op, sc);
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
		planner_fail(pl, GRAFT_STATUS_SYNTAX_ERROR, c->pos,
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
			planner_fail(pl, GRAFT_STATUS_SYNTAX_ERROR, c->pos,
			     "RETURN can only be used at the end of the query");
			return NULL;
		}
		if (c->kind == AST_MATCH && i > from &&
		    updates_clause(single->kids[i - 1]->kind)) {
			op_free_tree(op);
			planner_fail(pl, GRAFT_STATUS_SYNTAX_ERROR, c->pos,
			     "WITH is required between an updating clause and MATCH");
			return NULL;
		}
		/* reads after writes, and writes after reads, see a stable
		 * world: the clause before finishes first */
		if ((wrote && reads_clause(c->kind)) ||
		    (read && planner_writes(c) && c->kind != AST_FOREACH)) {
			op = eager(pl, op);
			wrote = read = false;
			if (op == NULL)
				return NULL;
		}
		op = plan_clause(pl, c, op, sc, from == 0 && to == 1, ret);
		wrote |= planner_writes(c);
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
			planner_fail(pl, GRAFT_STATUS_SYNTAX_ERROR, single->kids[0]->pos,
			     "Multiple USE clauses name different databases; one statement runs against one database (`%s`)",
			     single->kids[0]->name);
			return NULL;
		}
		pl->plan->use_db = single->kids[0]->name;
		from = 1;
		if (single->n == 1) {
			op_free_tree(input);
			planner_fail(pl, GRAFT_STATUS_SYNTAX_ERROR, single->kids[0]->pos,
			     "USE must be followed by a query");
			return NULL;
		}
	}
	last = single->kids[single->n - 1];
	if (pl->qdepth == 1 && (last->kind == AST_MATCH || last->kind == AST_WITH ||
			    last->kind == AST_UNWIND)) {
		op_free_tree(input);
		planner_fail(pl, GRAFT_STATUS_SYNTAX_ERROR, last->pos,
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
		return planner_fail(pl, GRAFT_STATUS_SYNTAX_ERROR, u->pos,
			    "All sub queries in an UNION must have the same return column names");
	*as = malloc((n + 1) * sizeof **as);
	*bs = malloc((n + 1) * sizeof **bs);
	*outs = malloc((n + 1) * sizeof **outs);
	if (*as == NULL || *bs == NULL || *outs == NULL) {
		planner_oom(pl);
		return -1;
	}
	for (uint32_t i = 0; i < n; i++) {
		if (strcmp(ia->kids[i]->name, ib->kids[i]->name) != 0)
			return planner_fail(pl, GRAFT_STATUS_SYNTAX_ERROR, u->pos,
				    "All sub queries in an UNION must have the same return column names");
		(*as)[i] = ia->kids[i]->slot;
		(*bs)[i] = ib->kids[i]->slot;
		(*outs)[i] = planner_new_slot(pl);
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
	planner_oom(pl);
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

struct op *plan_query(struct planner *pl, struct ast *q,
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
