/* The planner's patterns: MATCH becomes match steps starting from the most
 * selective node (bound, indexed, range-seekable, labelled). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "planner_int.h"

/* Pattern steps ------------------------------------------------------------- */

struct steps {
	struct match_step *s;
	uint32_t n, cap;
	int32_t *rels;       /* rel slots bound so far in the clause */
	uint32_t nrels, rels_cap;
	/* bound[slot]: bound so far (outer + clause); a map, not a list, so
	 * a pattern of many hops plans in linear time */
	bool *bound;
	uint32_t bound_len;
};

static struct match_step *step_add(struct planner *pl, struct steps *st,
				   uint8_t kind)
{
	if (st->n == st->cap) {
		uint32_t cap = st->cap ? st->cap * 2 : 8;
		struct match_step *p = realloc(st->s, cap * sizeof *p);

		if (p == NULL)
			return planner_oom(pl);
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
	return slot >= 0 && (uint32_t)slot < st->bound_len && st->bound[slot];
}

static int mark_bound(struct planner *pl, struct steps *st, int32_t slot)
{
	if (slot < 0)
		return 0;
	if ((uint32_t)slot >= st->bound_len) {
		uint32_t len = ((uint32_t)slot + 1) * 2;
		bool *p = realloc(st->bound, len * sizeof *p);

		if (p == NULL) {
			planner_oom(pl);
			return -1;
		}
		memset(p + st->bound_len, 0,
		       (len - st->bound_len) * sizeof *p);
		st->bound = p;
		st->bound_len = len;
	}
	st->bound[slot] = true;
	return 0;
}

/* Appends a relationship slot bound in the clause (amortised O(1)). */
static int rels_push(struct planner *pl, struct steps *st, int32_t slot)
{
	if (st->nrels == st->rels_cap) {
		uint32_t cap = st->rels_cap ? st->rels_cap * 2 : 16;
		int32_t *p = realloc(st->rels, cap * sizeof *p);

		if (p == NULL) {
			planner_oom(pl);
			return -1;
		}
		st->rels = p;
		st->rels_cap = cap;
	}
	st->rels[st->nrels++] = slot;
	return 0;
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
	s->nuniq = st->nrels; /* uniq is set once the list is complete */
	/* bound by an earlier clause: follow it; twice in one MATCH: error */
	s->rel_bound = rp->slot2 == 1;
	if (is_bound(st, rp->slot) && !s->rel_bound)
		return planner_fail(pl, GRAFT_STATUS_SYNTAX_ERROR, rp->pos,
			    "Cannot use relationship variable `%s` twice in a pattern",
			    rp->name);
	if (rels_push(pl, st, rp->slot) < 0)
		return -1;
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
		planner_oom(pl);
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

const char *planner_kind_name(uint8_t k)
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
	return planner_fail(pl, GRAFT_STATUS_SYNTAX_ERROR, el->pos,
		    "Type mismatch: `%s` defined with conflicting type %s (expected %s)",
		    el->name, planner_kind_name(v->kind), planner_kind_name(want));
}

/* Gives every element of the pattern a slot; names not in scope are new
 * and join it. slot2 = 1 marks elements bound before the clause. */
int planner_assign_slots(struct planner *pl, struct ast *pattern,
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
				return planner_fail(pl, GRAFT_STATUS_SYNTAX_ERROR, el->kids[1]->pos,
					    "Parameter maps cannot be used in %s patterns (use a literal map instead, e.g. {id: $%s.id})",
					    rel ? "MATCH or MERGE relationship" : "MATCH or MERGE node",
					    el->kids[1]->name);
			if (s >= 0 && create && rel)
				return planner_fail(pl, GRAFT_STATUS_SYNTAX_ERROR, el->pos,
					    "Can't create relationship `%s` because it is already declared",
					    el->name);
			if (s >= 0 && create && !rel &&
			    (el->kids[0]->n > 0 || el->kids[1] != NULL))
				return planner_fail(pl, GRAFT_STATUS_SYNTAX_ERROR, el->pos,
					    "Can't create node `%s` with labels or properties here. The variable is already declared in this context",
					    el->name);
			if (s < 0) {
				uint8_t k = !rel ? K_NODE
					    : (el->flags & AST_F_VARLEN) ? K_RELS
									 : K_REL;

				s = planner_new_slot(pl);
				if (el->name &&
				    scope_add_k(pl, sc, el->name, s, k) < 0)
					return -1;
			}
			el->slot = s;
		}
		if (path->name != NULL) {
			if (scope_var(sc, path->name) != NULL)
				return planner_fail(pl, GRAFT_STATUS_SYNTAX_ERROR, path->pos,
					    "Variable `%s` already declared",
					    path->name);
			path->slot = planner_new_slot(pl);
			if (scope_add_k(pl, sc, path->name, path->slot,
					K_PATH) < 0)
				return -1;
		}
	}
	return 0;
}

int planner_resolve_pattern_props(struct planner *pl, struct ast *pattern,
			  struct scope *sc)
{
	for (uint32_t p = 0; p < pattern->n; p++) {
		struct ast *path = pattern->kids[p];

		for (uint32_t i = 0; i < path->n; i++) {
			struct ast *el = path->kids[i];

			for (uint32_t k = 1; k < el->n; k++)
				if (el->kids[k] &&
				    planner_resolve(pl, el->kids[k], sc, false) < 0)
					return -1;
		}
	}
	return 0;
}

static void steps_free(struct steps *st)
{
	for (uint32_t i = 0; i < st->n; i++)
		free(st->s[i].path);
	free(st->s);
	free(st->rels);
	free(st->bound);
}

/* WHERE n: an entity is not a predicate. */
static int entity_predicate(struct planner *pl, struct ast *where,
			    struct scope *sc)
{
	uint8_t k = planner_expr_kind(sc, where);

	if (k == K_NODE || k == K_REL || k == K_PATH || k == K_RELS)
		return planner_fail(pl, GRAFT_STATUS_SYNTAX_ERROR, where->pos,
			    "Type mismatch: expected Boolean but was %s",
			    planner_kind_name(k));
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

			if (r->slot2 == 1 && rels_push(pl, st, r->slot) < 0)
				return -1;
		}
	return 0;
}

struct op *plan_match(struct planner *pl, struct ast *pattern,
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
	if (planner_assign_slots(pl, pattern, sc, false) < 0 ||
	    planner_resolve_pattern_props(pl, pattern, sc) < 0 ||
	    (where && (entity_predicate(pl, where, sc) < 0 ||
		       planner_resolve(pl, where, sc, false) < 0)) ||
	    bound_rels_unique(pl, &st, pattern) < 0)
		goto err;
	for (uint32_t p = 0; p < pattern->n; p++)
		if (path_steps(pl, &st, pattern->kids[p], where, limit) < 0)
			goto err;
	nnew = pl->plan->nslots - (uint32_t)limit;
	news = malloc((nnew + 1) * sizeof *news);
	if (news == NULL) {
		planner_oom(pl);
		goto err;
	}
	for (uint32_t i = 0; i < nnew; i++)
		news[i] = limit + (int32_t)i;
	for (uint32_t i = 0; i < st.n; i++)
		st.s[i].uniq = st.rels;
	op = op_match(input, st.s, st.n, st.rels, where, optional, news, nnew);
	if (op == NULL) {
		free(news);
		planner_oom(pl);
		goto err;
	}
	free(st.bound);
	pl->plan->reads = true;
	return op;
err:
	steps_free(&st);
	op_free_tree(input);
	return NULL;
}
