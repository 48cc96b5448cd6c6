/* The planner: semantic checks (variable scopes, aggregation rules, clause
 * order) and the operator tree for a statement. Variables get slots in one
 * row shared by every operator of the statement; patterns become match
 * steps starting from the most selective node (bound, indexed, labelled). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "planner_int.h"

int planner_fail(struct planner *pl, enum graft_status status, uint32_t pos,
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
	cypher_error_at(pl->err, status, pl->st->text, pos, "%s", msg);
	return -1;
}

void *planner_oom(struct planner *pl)
{
	if (!pl->failed) {
		pl->failed = true;
		cypher_error_set(pl->err,
				 GRAFT_STATUS_OUT_OF_MEMORY,
				 "Out of memory while planning the query");
	}
	return NULL;
}

int32_t planner_new_slot(struct planner *pl)
{
	return (int32_t)pl->plan->nslots++;
}

/* Scopes ---------------------------------------------------------------- */

int32_t scope_find(const struct scope *s, const char *name)
{
	for (uint32_t i = s->n; i-- > 0;)
		if (strcmp(s->v[i].name, name) == 0)
			return s->v[i].slot;
	return -1;
}

const struct var *scope_var(const struct scope *s, const char *name)
{
	for (uint32_t i = s->n; i-- > 0;)
		if (strcmp(s->v[i].name, name) == 0)
			return &s->v[i];
	return NULL;
}

int scope_add(struct planner *pl, struct scope *s, const char *name,
	      int32_t slot)
{
	return scope_add_k(pl, s, name, slot, K_UNKNOWN);
}

int scope_add_k(struct planner *pl, struct scope *s, const char *name,
		int32_t slot, uint8_t kind)
{
	if (s->n == s->cap) {
		uint32_t cap = s->cap ? s->cap * 2 : 16;
		struct var *v = realloc(s->v, cap * sizeof *v);

		if (v == NULL) {
			planner_oom(pl);
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

int scope_copy(struct planner *pl, struct scope *dst,
	       const struct scope *src)
{
	for (uint32_t i = 0; i < src->n; i++)
		if (scope_add_k(pl, dst, src->v[i].name, src->v[i].slot,
				src->v[i].kind) < 0)
			return -1;
	return 0;
}

void scope_free(struct scope *s)
{
	free(s->v);
	memset(s, 0, sizeof *s);
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
	p->columns = ast_arena_alloc(&pl->st->arena,
				     (items->n + 1) * sizeof *p->columns);
	p->column_slots = ast_arena_alloc(&pl->st->arena,
					  (items->n + 1) * sizeof *p->column_slots);
	if (p->columns == NULL || p->column_slots == NULL) {
		planner_oom(pl);
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
		if (root->op == ADM_SHOW || root->op == ADM_DROP_SERVER) {
			pl->qdepth++;
			op = root->op == ADM_SHOW
				     ? plan_show(pl, root, sc, ret)
				     : plan_drop_server(pl, root, sc, ret);
			pl->qdepth--;
			pl->plan->admin = true;
			return op;
		}
		pl->plan->admin = true;
		pl->plan->schema = true;
		op = op_admin(root);
		return op ? op : planner_oom(pl);
	}
	op = op_argument();
	if (op == NULL)
		return planner_oom(pl);
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
		return cypher_error_set(err, GRAFT_STATUS_OUT_OF_MEMORY,
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
	/* Writes finish before the first row streams. Without RETURN there is
	 * no row to hold back (start() runs the statement to its end), and
	 * buffering every row of a load cost a copy of each. */
	if (p->writes && p->ncolumns > 0) {
		struct op *eg = op_eager(p->root);

		if (eg == NULL) {
			plan_free(p);
			return cypher_error_set(err, GRAFT_STATUS_OUT_OF_MEMORY,
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
