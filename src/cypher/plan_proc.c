/* The planner's procedure calls and SHOW commands: CALL proc(...) YIELD,
 * argument checks against the declared signature, and SHOW rewritten to
 * a procedure call with a RETURN. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "planner_int.h"

/* Procedure calls and SHOW --------------------------------------------------- */

static struct ast *synth(struct planner *pl, uint16_t kind, uint32_t nkids)
{
	struct ast *a = ast_arena_alloc(&pl->st->arena, sizeof *a);

	if (a == NULL)
		return planner_oom(pl);
	a->kind = kind;
	a->slot = a->slot2 = -1;
	if (nkids > 0) {
		a->kids = ast_arena_alloc(&pl->st->arena, nkids * sizeof *a->kids);
		if (a->kids == NULL)
			return planner_oom(pl);
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
		return planner_fail(pl, GRAFT_STATUS_SYNTAX_ERROR, a->pos,
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
		return planner_fail(pl, GRAFT_STATUS_SYNTAX_ERROR, c->pos,
			    "Procedure call does not provide the required number of arguments: got %u, expected %u for %s",
			    n, proc->ninputs, proc->name);
	args = calloc(proc->ninputs + 1, sizeof *args);
	if (args == NULL) {
		planner_oom(pl);
		return -1;
	}
	for (uint32_t i = 0; i < proc->ninputs; i++) {
		struct ast *a;

		if (given && i < given->n) {
			a = given->kids[i];
			if (literal_arg_type(pl, a, &proc->inputs[i]) < 0 ||
			    planner_resolve(pl, a, sc, false) < 0) {
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
	*names = ast_arena_alloc(&pl->st->arena, (k + 1) * sizeof **names);
	if (*fields == NULL || *slots == NULL || *names == NULL) {
		planner_oom(pl);
		return -1;
	}
	for (uint32_t i = 0; i < k; i++) {
		const char *want = all ? proc->outputs[i].name
				       : items->kids[i]->kids[0]->name;
		uint32_t f = 0;

		while (f < proc->noutputs && strcmp(proc->outputs[f].name, want))
			f++;
		if (f == proc->noutputs)
			return planner_fail(pl, GRAFT_STATUS_SYNTAX_ERROR,
				    all ? c->pos : items->kids[i]->pos,
				    "Unknown procedure output: `%s`", want);
		(*fields)[i] = f;
		(*slots)[i] = planner_new_slot(pl);
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
	cypher_error_set(pl->err, GRAFT_STATUS_PROCEDURE_NOT_FOUND,
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
		planner_fail(pl, GRAFT_STATUS_SYNTAX_ERROR, c->pos,
		     "Procedure call inside a query does not support naming results implicitly (name explicitly using `YIELD` instead): %s",
		     proc->name);
		goto fail;
	}
	if (!standalone && ((c->flags & AST_F_STAR) ||
			    (c->kids[0] == NULL && proc->ninputs > 0))) {
		planner_fail(pl, GRAFT_STATUS_SYNTAX_ERROR, c->pos,
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
			planner_fail(pl, GRAFT_STATUS_SYNTAX_ERROR, c->pos,
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
		planner_oom(pl);
		goto fail;
	}
	if (strcmp(proc->mode, "WRITE") == 0)
		pl->plan->writes = true;
	else
		pl->plan->reads = true;
	if (c->kids[2] != NULL) {
		struct op *f;

		if (planner_resolve(pl, c->kids[2], sc, false) < 0) {
			op_free_tree(p);
			return NULL;
		}
		f = op_filter(p, c->kids[2]);
		if (f == NULL) {
			op_free_tree(p);
			return planner_oom(pl);
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

struct op *plan_call(struct planner *pl, struct ast *c, struct op *op,
		     struct scope *sc, bool standalone, struct ast **ret)
{
	const struct cypher_proc *proc = engine_find_proc(pl->e, c->name);

	return plan_proc(pl, c, proc, op, sc, standalone, ret);
}

/* CALL proc(args) YIELD *, standalone, for a command at pos. */
static struct op *command_call(struct planner *pl,
			       const struct cypher_proc *proc,
			       struct ast *call, struct ast *args,
			       uint32_t pos, struct scope *sc, struct ast **ret)
{
	struct op *op;

	call->name = proc->name;
	call->flags = AST_F_STAR;
	call->kids[0] = args;
	call->n = 3;
	call->pos = pos;
	op = op_argument();
	if (op == NULL)
		return planner_oom(pl);
	return plan_proc(pl, call, proc, op, sc, true, ret);
}

struct op *plan_drop_server(struct planner *pl, struct ast *a,
			    struct scope *sc, struct ast **ret)
{
	const struct cypher_proc *proc =
		engine_find_proc(pl->e, "dbms.cluster.dropServer");
	struct ast *call = synth(pl, AST_CALL, 3), *args;

	if (proc == NULL)
		return planner_fail(pl, GRAFT_STATUS_UNSUPPORTED_ADMINISTRATION_COMMAND,
			    a->pos, "DROP SERVER removes a core from a cluster: "
			    "run it on the cluster's leader (this server is "
			    "not a core)"),
		       NULL;
	if (call == NULL || (args = synth(pl, AST_LIST_OF, 1)) == NULL)
		return NULL;
	args->kids[0] = a->kids[0];
	args->n = 1;
	return command_call(pl, proc, call, args, a->pos, sc, ret);
}

/* SHOW kind [filter] [YIELD ...] [WHERE ...] [RETURN ...] becomes
 * CALL <show procedure>(filter) YIELD * and the projections. */
struct op *plan_show(struct planner *pl, struct ast *a,
		     struct scope *sc, struct ast **ret)
{
	uint32_t ndef;
	const struct cypher_proc *proc = proc_show(a->name, &ndef);
	struct ast *call = synth(pl, AST_CALL, 3), *args, *filter;
	struct op *op;

	if (proc == NULL)
		return planner_fail(pl, GRAFT_STATUS_SYNTAX_ERROR, a->pos,
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
				return planner_oom(pl);
			pl->st->lits = realloc(pl->st->lits,
					       (pl->st->nlits + 1) *
						       sizeof *pl->st->lits);
			if (pl->st->lits == NULL)
				return planner_oom(pl);
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
	op = command_call(pl, proc, call, args, a->pos, sc, ret);
	if (op == NULL)
		return NULL;
	if (a->kids[1] == NULL && a->kids[3] == NULL && ret && *ret)
		(*ret)->kids[0]->n = ndef; /* default columns */
	if (a->kids[1] != NULL) {
		op = plan_projection(pl, a->kids[1], op, sc);
		if (op && ret)
			*ret = a->kids[1];
	}
	if (op && a->kids[2] != NULL) {
		if (planner_resolve(pl, a->kids[2], sc, false) < 0) {
			op_free_tree(op);
			return NULL;
		}
		op = planner_wrap(pl, op_filter(op, a->kids[2]), op);
	}
	if (op && a->kids[3] != NULL) {
		op = plan_projection(pl, a->kids[3], op, sc);
		if (op && ret)
			*ret = a->kids[3];
	}
	return op;
}
