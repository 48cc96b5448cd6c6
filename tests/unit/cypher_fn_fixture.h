/* Shared helpers of the Cypher function, operator and temporal tests: value
 * builders that read like Cypher literals, a function context without a
 * database, and assertions that call a function by name and compare the
 * rendered result (or the error kind) with what Neo4j gives. */
#ifndef GRAFT_TESTS_CYPHER_FN_FIXTURE_H
#define GRAFT_TESTS_CYPHER_FN_FIXTURE_H

#include <stdint.h>

#include "cypher/func.h"
#include "cypher/ops.h"

/* Builders; the values own their heap parts (tests free them, or the
 * assertions below take them over). */
struct graft_value V_NULL(void);
struct graft_value B(bool b);
struct graft_value I(int64_t i);
struct graft_value F(double f);
struct graft_value S(const char *s);
/* A list of n values (taken over). */
struct graft_value L(uint32_t n, ...);
/* A map of n key, value pairs (values taken over). */
struct graft_value M(uint32_t n, ...);
/* A value by calling a function: T("date", S("2020-01-01")). */
struct graft_value T(const char *fn, struct graft_value arg);

/* A context with the statement clock at 2020-06-15T10:30:45.123Z. */
#define CFX_NOW_MS INT64_C(1592217045123)
struct cypher_fctx *cfx(void);
/* Later contexts read entities of db through tx (both NULL: none). */
void cfx_use_db(struct db *db, struct db_tx *tx);
/* The rendering of v in a static buffer. */
const char *R(const struct graft_value *v);

/* Calls fn with the n arguments (taken over) and asserts the rendered
 * result is want. */
void call_is(const char *fn, const char *want, uint32_t n, ...);
/* Calls fn and asserts it fails with Neo.ClientError.Statement.<kind>;
 * returns the message (static). */
const char *call_fails(const char *fn, const char *kind, uint32_t n, ...);
/* The result of an operator, rendered; or fails with kind. */
void arith_is(enum cypher_arith op, struct graft_value a,
	      struct graft_value b, const char *want);
void arith_fails(enum cypher_arith op, struct graft_value a,
		 struct graft_value b, const char *kind);

#endif
