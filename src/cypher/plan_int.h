/* Planner annotations shared by the planner and the operators: pattern
 * match steps and the subplans of subquery expressions. */
#ifndef GRAFT_CYPHER_PLAN_INT_H
#define GRAFT_CYPHER_PLAN_INT_H

#include "exec.h"

/* A subquery expression (EXISTS, COUNT, COLLECT, pattern predicates and
 * comprehensions): an operator tree fed by the current row. */
struct subplan {
	struct op *root;
	struct ast *proj;   /* pattern comprehension projection, or NULL */
	int32_t slot;       /* COLLECT { }: the single returned column */
};

enum step_kind {
	STEP_SCAN,      /* bind node_slot by scanning (or index seek) */
	STEP_CHECK,     /* node_slot is bound: check it against node_pat */
	STEP_EXPAND,    /* from_slot -[rel_slot]- node_slot */
	STEP_VAREXPAND, /* from_slot -[rel_slot*min..max]- node_slot */
	STEP_PATH,      /* build the path value into node_slot */
};

struct varlen_frame {
	struct db_cursor cur;
	uint64_t node;
	bool exhausted;
};

struct match_step {
	uint8_t kind;
	uint8_t dir;              /* enum graph_dir seen from from_slot */
	bool target_bound;
	bool rel_bound;           /* the relationship (list) is bound already */
	bool reversed;            /* expanded against the pattern's direction */
	bool needs_init;
	int32_t node_slot;
	int32_t from_slot;
	int32_t rel_slot;
	struct ast *node_pat;
	struct ast *rel_pat;
	int64_t min, max;
	/* index seek candidate for STEP_SCAN */
	const char *seek_label, *seek_key;
	struct ast *seek_value;
	/* range seek candidate (WHERE n.k > v, n.k STARTS WITH s ...) */
	const char *range_label, *range_key;
	struct ast *range_lo, *range_hi;
	bool lo_incl, hi_incl, prefix;
	/* relationship slots bound earlier in the same MATCH: the first
	 * nuniq of the clause's list, which every step shares (borrowed from
	 * the match operator; copies would cost O(steps^2)) */
	int32_t *uniq;
	uint32_t nuniq;
	/* STEP_PATH: node, rel, node, ... slots; varlen rel slots hold lists */
	int32_t *path;
	uint32_t npath;
	/* runtime */
	struct db_cursor cur;
	uint32_t types[8];
	uint32_t ntypes;
	bool any_type;
	bool once;
	struct graft_value seek;
	struct graft_value seek2; /* 1 for 1.0 and back: numbers compare equal */
	uint64_t *range_ids;      /* range mode: candidates, ascending */
	size_t range_n, range_cap, range_pos;
	bool range_mode;
	bool second;
	uint32_t seek_labeltok, seek_keytok;
	struct varlen_frame *frames;
	uint32_t nframes, frames_cap;
	uint64_t *rels;
	size_t nrels, rels_cap;
	bool zero_done;
};

#endif
