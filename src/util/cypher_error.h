/* A failure as a client of the database sees it: a Neo4j status code such
 * as "Neo.ClientError.Statement.SyntaxError" and a message naming what
 * failed, where (line and column for query text) and what to do. The Cypher
 * engine reports its errors in it; it lives below the engine so that the
 * layers the engine builds on (security) report theirs the same way without
 * including cypher.h. */
#ifndef GRAFT_UTIL_CYPHER_ERROR_H
#define GRAFT_UTIL_CYPHER_ERROR_H

#include "err.h"

struct cypher_error {
	char code[96];
	char message[GRAFT_ERRMSG_SIZE];
};

#endif
