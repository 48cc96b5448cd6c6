/* The planner's internals, shared by the plan*.c files: the planner state,
 * variable scopes with what each variable is known to hold, and the
 * functions one part of the planner calls in another. */
#ifndef GRAFT_CYPHER_PLANNER_INT_H
#define GRAFT_CYPHER_PLANNER_INT_H

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

/* plan.c */
/* Records a syntax/semantic error at pos (the first one wins); returns -1. */
int planner_fail(struct planner *pl, enum graft_status status, uint32_t pos,
	 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void *planner_oom(struct planner *pl);
int32_t planner_new_slot(struct planner *pl);
int32_t scope_find(const struct scope *s, const char *name);
const struct var *scope_var(const struct scope *s, const char *name);
int scope_add(struct planner *pl, struct scope *s, const char *name,
	      int32_t slot);
int scope_add_k(struct planner *pl, struct scope *s, const char *name,
		int32_t slot, uint8_t kind);
int scope_copy(struct planner *pl, struct scope *dst,
	       const struct scope *src);
void scope_free(struct scope *s);

/* plan_clause.c */
struct op *planner_wrap(struct planner *pl, struct op *made, struct op *input);
bool planner_writes(const struct ast *c);
struct op *plan_query(struct planner *pl, struct ast *q,
		      struct op *input, struct scope *sc,
		      struct ast **ret);

/* plan_expr.c */
int planner_resolve_kids(struct planner *pl, struct ast *e, struct scope *sc,
		 bool allow_agg);
int planner_pattern_as_value(struct planner *pl, const struct ast *e,
		     const char *where);
int planner_resolve(struct planner *pl, struct ast *e, struct scope *sc,
	    bool allow_agg);

/* plan_pattern.c */
const char *planner_kind_name(uint8_t k);
int planner_assign_slots(struct planner *pl, struct ast *pattern,
		 struct scope *sc, bool create);
int planner_resolve_pattern_props(struct planner *pl, struct ast *pattern,
			  struct scope *sc);
struct op *plan_match(struct planner *pl, struct ast *pattern,
		      struct ast *where, struct op *input,
		      struct scope *sc, bool optional);

/* plan_proc.c */
struct op *plan_call(struct planner *pl, struct ast *c, struct op *op,
		     struct scope *sc, bool standalone, struct ast **ret);
struct op *plan_show(struct planner *pl, struct ast *a,
		     struct scope *sc, struct ast **ret);
/* DROP SERVER 'name' becomes CALL dbms.cluster.dropServer(name) YIELD *,
 * the procedure a cluster core registers. */
struct op *plan_drop_server(struct planner *pl, struct ast *a,
			    struct scope *sc, struct ast **ret);

/* plan_project.c */
uint8_t planner_expr_kind(const struct scope *sc, const struct ast *e);
struct op *plan_projection(struct planner *pl, struct ast *clause,
			   struct op *op, struct scope *sc);

#endif
