/* A failure as a client of the database sees it: a Neo4j status code such
 * as "Neo.ClientError.Statement.SyntaxError" and a message naming what
 * failed, where (line and column for query text) and what to do. The Cypher
 * engine reports its errors in it; it lives below the engine so that the
 * layers the engine builds on (security) report theirs the same way without
 * including cypher.h. The code is text because errors read off the wire (the
 * shell's) carry any server's codes; graft's own come from status.h. */
#ifndef GRAFT_UTIL_CYPHER_ERROR_H
#define GRAFT_UTIL_CYPHER_ERROR_H

#include <stdarg.h>

#include "err.h"
#include "status.h"

struct cypher_error {
	char code[96];
	char message[GRAFT_ERRMSG_SIZE];
};

/* Sets the status code and the formatted message. Returns GRAFT_EINVAL, so
 * that "return cypher_error_set(err, …)" reads well. */
int cypher_error_set(struct cypher_error *err, enum graft_status status,
		     const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int cypher_error_vset(struct cypher_error *err, enum graft_status status,
		      const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

#endif
