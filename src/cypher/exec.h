/* The executor's shared shapes: the statement context, the row of variable
 * slots every operator reads and writes, and the pull interface operators
 * implement (Volcano style: next() produces one row at a time, so results
 * stream). The planner (plan.c) builds operator trees from the syntax tree;
 * eval.c evaluates expressions against the current row. */
#ifndef GRAFT_CYPHER_EXEC_H
#define GRAFT_CYPHER_EXEC_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "../db/db.h"
#include "ast.h"
#include "cypher.h"
#include "func.h"
#include "parse.h"

struct exec_ctx;
struct op;
struct cypher_regex_cache;

struct op_vt {
	const char *name; /* operator name in EXPLAIN / PROFILE */
	/* Resets the operator (and its children) to produce from scratch. */
	int (*open)(struct op *op, struct exec_ctx *x);
	/* 1: a row is in x->row; 0: no more; -1: error in x->err. */
	int (*next)(struct op *op, struct exec_ctx *x);
	void (*free)(struct op *op);
};

struct op {
	const struct op_vt *vt;
	struct op *child;
	struct op *child2;
	struct ast *a;            /* clause it came from */
	char *detail;             /* for EXPLAIN: what it does; owned, may be NULL */
	uint64_t rows, dbhits;    /* PROFILE */
};

/* Allocates a zeroed operator of size bytes (a struct starting with
 * struct op) with its table and input. NULL on out of memory. */
static inline void *op_new(size_t size, const struct op_vt *vt,
			   struct op *child)
{
	struct op *op = calloc(1, size);

	if (op != NULL) {
		op->vt = vt;
		op->child = child;
	}
	return op;
}

/* A plan for one statement or subquery. */
struct exec_plan {
	struct op *root;
	uint32_t nslots;
	const char **columns;      /* RETURN names (arena) */
	int32_t *column_slots;
	uint32_t ncolumns;
	bool writes, reads, schema, admin;
	const char *use_db;        /* USE clause, or NULL */
	bool explain, profile;
	struct op **subs;          /* subquery expressions' trees */
	uint32_t nsubs;
};

/* Per-statement state. */
struct exec_ctx {
	struct cypher_tx *ctx;
	struct cypher_engine *engine;
	struct db *db;
	struct db_tx *tx;
	const struct graft_value *params; /* MAP or NULL */
	struct cypher_fctx fc;
	struct cypher_error *err;
	struct cypher_stats *stats;
	struct cypher_stmt *stmt;
	struct exec_plan *plan;
	struct graft_value *row;   /* nslots values */
	uint32_t nslots;
	uint64_t deadline_ns;      /* 0: none */
	uint32_t tick;
	uint64_t dbhits;           /* PROFILE */
	/* the transaction's memory tracker, entered while the statement
	 * runs: every value and buffer of the statement counts in it */
	struct graft_mem *mem;
	struct cypher_regex_cache *regex; /* =~ patterns compiled; owned */
	bool *terminated;          /* set from elsewhere */
	struct graft_gate *gate;   /* the engine's, yielded at ticks */
	/* nodes deleted while they still had relationships: retried at the
	 * end of the statement (DELETE n, r in any order works) */
	uint64_t *pending_deletes;
	size_t npending, pending_cap;
};

/* Replaces slot s of the row (frees the old value; takes v). */
static inline void row_set(struct exec_ctx *x, int32_t s, struct graft_value v)
{
	graft_value_free(&x->row[s]);
	x->row[s] = v;
}

/* -1 (x->err set) if the statement was terminated or passed its deadline. */
int exec_interrupted(struct exec_ctx *x);
/* Checks the deadline and termination every few thousand calls, and
 * yields the gate to waiting commits (exec_yield). */
int exec_tick(struct exec_ctx *x);
/* Yields the gate if the loop waits for it and this thread holds it
 * shared; -1 (x->err set) if the snapshot was ended meanwhile. */
int exec_yield(struct exec_ctx *x);
/* Runs fn(arg), which reads nothing of the graphs, outside the gate when
 * this thread holds it shared; -1 (x->err set) if the snapshot was ended
 * meanwhile. */
int exec_outside_gate(struct exec_ctx *x, void (*fn)(void *arg), void *arg);
/* Fills err with Neo.TransientError.General.MemoryPoolOutOfMemoryError
 * naming the setting whose limit refused an allocation charged to m (see
 * graft_mem_refusal) and returns GRAFT_ENOMEM; false if none refused. */
bool exec_mem_refused(const struct graft_mem *m, struct cypher_error *err);

/* Fills x->err with status and the message; returns -1. */
int exec_fail(struct exec_ctx *x, enum graft_status status, const char *fmt,
	      ...) __attribute__((format(printf, 3, 4)));
int exec_oom(struct exec_ctx *x);

/* Expressions (eval.c) */
int eval(struct exec_ctx *x, struct ast *e, struct graft_value *out);
/* Evaluates a predicate: CYPHER_TRUE / FALSE / NULL, or -1 on error. */
int eval_pred(struct exec_ctx *x, struct ast *e);
/* True when e (or anything in it) is an aggregate function call. */
bool ast_is_aggregate(const struct ast *e);
/* Sets x->err from a function/operator failure code returned as rv. */
int exec_rv(struct exec_ctx *x, int rv);

/* Whether node id satisfies the label expression in owner->kids[from..]
 * (AST_NAME with enum ast_label_op). */
bool exec_labels_match(struct exec_ctx *x, uint64_t id, const struct ast *owner,
		       uint32_t from);

/* Tokens: lookup without creating (GRAPH_NO_TOKEN if unknown). */
uint32_t exec_token(struct exec_ctx *x, enum graph_token_kind k,
		    const char *name);
int exec_token_intern(struct exec_ctx *x, enum graph_token_kind k,
		      const char *name, uint32_t *out);

/* Entities (exec_write.c) */
int exec_check_storable(struct exec_ctx *x, const struct graft_value *v,
			const char *key);
int exec_set_prop(struct exec_ctx *x, const struct graft_value *ent,
		  const char *key, const struct graft_value *v);

/* Clause helpers shared by write operators (exec_write.c) */
int exec_create_pattern(struct exec_ctx *x, struct ast *pattern);
int exec_set_items(struct exec_ctx *x, struct ast *set);
/* Deletes nodes whose relationships went later in the statement; fails
 * with ConstraintValidationFailed for any still attached. */
int exec_finish_deletes(struct exec_ctx *x);

/* Planner (plan.c) */
int plan_build(struct cypher_engine *e, struct cypher_stmt *st,
	       struct exec_plan **out, struct cypher_error *err);
void plan_free(struct exec_plan *p);
/* EXPLAIN/PROFILE tree as a Bolt plan map. */
int plan_describe(const struct exec_plan *p, bool profile,
		  struct graft_value *out);

/* Operators (exec_*.c): constructors used by the planner. */
struct op *op_argument(void);
struct op *op_filter(struct op *child, struct ast *pred);
struct op *op_unwind(struct op *child, struct ast *list, int32_t slot);
struct op *op_project(struct op *child, struct ast **exprs, int32_t *slots,
		      uint32_t n);
struct op *op_aggregate(struct op *child, struct ast **keys,
			int32_t *key_slots, uint32_t nkeys, struct ast **aggs,
			uint32_t naggs, struct ast **items, int32_t *item_slots,
			uint32_t nitems);
struct op *op_distinct(struct op *child, int32_t *slots, uint32_t n);
struct op *op_sort(struct op *child, struct ast **keys, bool *desc,
		   uint32_t n);
/* drain: run the input to its end even past the limit (its writes count). */
struct op *op_skip_limit(struct op *child, struct ast *skip,
			 struct ast *limit, bool drain);
struct op *op_union(struct op *a, struct op *b, int32_t *a_slots,
		    int32_t *b_slots, int32_t *out_slots, uint32_t n,
		    bool all);
/* unit: a subquery without RETURN; the outer row passes through once. */
struct op *op_apply(struct op *outer, struct op *inner, bool unit);
struct op *op_procedure(struct op *child, const struct cypher_proc *proc,
			struct ast **args, uint32_t nargs, int32_t *slots,
			uint32_t *fields, uint32_t n);
struct op *op_eager(struct op *child);
struct op *op_write(struct op *child, struct ast *clause);
struct op *op_foreach(struct op *child, struct op *body, struct ast *list,
		      int32_t slot);
struct op *op_admin(struct ast *a);

/* Pattern matching (exec_match.c) */
struct match_step;
/* Takes steps, rels (the relationship slots the steps' uniq borrow) and
 * new_slots on success. */
struct op *op_match(struct op *child, struct match_step *steps, uint32_t n,
		    int32_t *rels, struct ast *where, bool optional, int32_t *new_slots,
		    uint32_t nnew);
struct op *op_merge(struct op *child, struct op *match, struct ast *clause);
void op_free_tree(struct op *op);

#endif
