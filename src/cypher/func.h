/* Built-in Cypher functions, scalar and aggregating, looked up by name.
 * Pure functions of their arguments plus an evaluation context that gives
 * entity access (labels, type, properties) and the statement's clock, so
 * the executor stays free of per-function code. */
#ifndef GRAFT_CYPHER_FUNC_H
#define GRAFT_CYPHER_FUNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../db/db.h"
#include "../util/mem.h"
#include "../util/value.h"
#include "cypher.h"

/* What a function may use besides its arguments. */
struct cypher_fctx {
	struct db *db;             /* token names: graph_token_name(db_graph(db)) */
	struct db_tx *tx;          /* entity reads through the transaction */
	struct cypher_tx *ctx;     /* for cypher_node_view / cypher_rel_view */
	struct cypher_error *err;  /* filled on failure */
	int64_t statement_ms;      /* statement start, ms since epoch (UTC): the
				    * clock of timestamp(), datetime() etc. */
	/* Asked every few thousand items by a function that builds or walks
	 * something large from small arguments (range()): non-zero, with err
	 * filled, when the statement must stop now (terminated, timed out).
	 * Meanwhile commits and other statements may run (the statement's
	 * gate is yielded): ask only holding no pointer into the graph.
	 * NULL: never stops. */
	int (*interrupted)(struct cypher_fctx *fc);
};

/* Items a function builds or copies between two questions to
 * fc->interrupted. */
#define CYPHER_ASK_EVERY 0x10000u

/* Copies src[0..n) into dst[0..n) (null before), reversed if asked,
 * asking fc->interrupted (fc may be NULL) every CYPHER_ASK_EVERY items:
 * a copy of a large list holds the gate no longer than a range() of it.
 * Only for values the statement owns (arguments, row values), never ones
 * in the graph: the gate may be yielded while it asks. GRAFT_OK,
 * GRAFT_ENOMEM, or GRAFT_EINVAL with fc->err filled when the statement
 * must stop; on failure dst keeps what was copied, for the caller to
 * free. */
int cypher_items_copy(struct cypher_fctx *fc, struct graft_value *dst,
		      const struct graft_value *src, uint32_t n, bool reverse);
/* graft_value_copy, asking as cypher_items_copy does over a list's items
 * (same rules); *dst is null on failure. */
int cypher_value_copy(struct cypher_fctx *fc, struct graft_value *dst,
		      const struct graft_value *src);

/* Fills fc->err with status (such as GRAFT_STATUS_TYPE_ERROR) and the
 * message; returns GRAFT_EINVAL. */
int cypher_fail(struct cypher_fctx *fc, enum graft_status status,
		const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A scalar function. args are owned by the caller (read only); *out is
 * written with a value the caller then owns. GRAFT_OK, GRAFT_ENOMEM or
 * GRAFT_EINVAL with fc->err filled. */
typedef int (*cypher_scalar_fn)(struct cypher_fctx *fc,
				const struct graft_value *args, uint32_t n,
				struct graft_value *out);

struct cypher_func {
	const char *name;      /* canonical spelling, e.g. "toInteger" */
	uint8_t min_args, max_args;
	cypher_scalar_fn fn;
	const char *signature;   /* for SHOW FUNCTIONS: "toInteger(input :: ANY) :: INTEGER" */
	const char *description;
	const char *category;    /* "Scalar", "List", "String", "Numeric", "Temporal", ... */
};

/* The integers range(start, end[, step]) denotes, for a caller that walks
 * them without building the list (UNWIND range(...)). */
struct cypher_range {
	int64_t start, step;
	uint64_t count; /* how many; 0: none */
};
/* Checks range()'s arguments (n is 2 or 3) as the function does: GRAFT_OK,
 * or GRAFT_EINVAL with fc->err filled. */
int cypher_range_bounds(struct cypher_fctx *fc, const struct graft_value *args,
			uint32_t n, struct cypher_range *r);

/* Case-insensitive lookup ("tointeger" finds toInteger; "date.truncate",
 * "datetime.fromepoch" etc. are names with a dot). NULL if unknown. */
const struct cypher_func *cypher_func_lookup(const char *name, size_t len);
/* Every scalar function, for SHOW FUNCTIONS; returns the count. */
size_t cypher_func_all(const struct cypher_func **out);

/* Aggregations: count, collect, sum, avg, min, max, stDev, stDevP,
 * percentileCont, percentileDisc. The executor handles DISTINCT (it only
 * feeds first occurrences) and count(*) (it feeds one non-null argument per
 * row). Null arguments are passed to step, which skips them as Cypher does. */
struct cypher_agg {
	const char *name;
	uint8_t min_args, max_args; /* percentile*: 2 (value, percentile) */
	size_t state_size;          /* zeroed by the caller before init */
	void (*init)(void *state);
	int (*step)(struct cypher_fctx *fc, void *state,
		    const struct graft_value *args, uint32_t n);
	int (*final)(struct cypher_fctx *fc, void *state,
		     struct graft_value *out);
	void (*free)(void *state); /* releases what init/step held */
	const char *signature;
	const char *description;
};
const struct cypher_agg *cypher_agg_lookup(const char *name, size_t len);
size_t cypher_agg_all(const struct cypher_agg **out);

/* Property access on a temporal, duration or point value (d.year, dur.days,
 * p.x, ...): *out gets the field. GRAFT_ENOTFOUND (fc->err untouched) when v
 * has no such field, GRAFT_ENOMEM, GRAFT_OK. */
int cypher_temporal_field(struct cypher_fctx *fc, const struct graft_value *v,
			  const char *name, size_t len, struct graft_value *out);

/* How rendering sees entities: the lead's cypher_node_view/cypher_rel_view
 * wrapped, or test doubles. Both fill values the renderer then frees. */
struct cypher_render_entities {
	void *data;
	int (*node)(void *data, uint64_t id, struct graft_value *labels,
		    struct graft_value *props);
	int (*rel)(void *data, uint64_t id, const char **type, uint64_t *src,
		   uint64_t *dst, struct graft_value *props);
};
/* cypher_value_render with entities seen through e; e NULL renders them by
 * id only ("(#3)", "[#4]"). Same buffer contract. */
size_t cypher_render_with(const struct cypher_render_entities *e,
			  const struct graft_value *v, char *buf, size_t size);

#endif
