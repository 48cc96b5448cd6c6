/* Cypher's operators on values: arithmetic (numbers, strings, lists,
 * temporal and duration arithmetic), three-valued equality and comparison,
 * and the total order ORDER BY uses. The executor calls these for every
 * operator in an expression. */
#ifndef GRAFT_CYPHER_OPS_H
#define GRAFT_CYPHER_OPS_H

#include "func.h"

/* Ternary truth: Cypher's boolean logic with null. */
enum cypher_tri { CYPHER_FALSE = 0, CYPHER_TRUE = 1, CYPHER_NULL = 2 };

enum cypher_arith { CYPHER_ADD, CYPHER_SUB, CYPHER_MUL, CYPHER_DIV,
		    CYPHER_MOD, CYPHER_POW };

/* a OP b into *out (owned by caller). null in → null out. Integer overflow
 * and integer division/modulo by zero fail with ArithmeticError ("/ by
 * zero"), unsupported types with TypeError naming both types. */
int cypher_arith(struct cypher_fctx *fc, enum cypher_arith op,
		 const struct graft_value *a, const struct graft_value *b,
		 struct graft_value *out);
int cypher_negate(struct cypher_fctx *fc, const struct graft_value *a,
		  struct graft_value *out);

/* a = b with Cypher semantics: 1 = 1.0 is true, null = x is null, lists and
 * maps compare element-wise (null inside makes the result null unless some
 * element already differs), NaN = NaN is false. */
enum cypher_tri cypher_equals(const struct graft_value *a,
			      const struct graft_value *b);
/* a < b etc.: returns <0, 0, >0 in *cmp and CYPHER_TRUE when comparable,
 * CYPHER_NULL when either is null or the types are not comparable (e.g. 1 <
 * 'a'), as Cypher's inequality operators do. CYPHER_FALSE when both are
 * numbers and one is NaN: every inequality is then false, not null. */
enum cypher_tri cypher_compare(const struct graft_value *a,
			       const struct graft_value *b, int *cmp);
/* The global sort order of ORDER BY, min() and max(): MAP < NODE < REL <
 * LIST < PATH < POINT < DATETIME < LOCALDATETIME < DATE < TIME < LOCALTIME <
 * DURATION < STRING < BOOL < NUMBER (ints and floats together, NaN last
 * among numbers) < NULL. */
int cypher_order_cmp(const struct graft_value *a, const struct graft_value *b);
/* Equivalence for DISTINCT, grouping keys and UNION: like equality but
 * null ~ null and NaN ~ NaN; hash consistent with it (1 and 1.0 alike). */
bool cypher_equivalent(const struct graft_value *a,
		       const struct graft_value *b);
uint64_t cypher_equivalent_hash(const struct graft_value *v);

/* The Cypher type name of a value for messages: "Integer", "String",
 * "Node", "List", ... */
const char *cypher_type_name(const struct graft_value *v);

#endif
