/* The Cypher lexer and recursive-descent parser: query text to a syntax
 * tree, or a SyntaxError naming what was expected at which line and column.
 * Bounded: nesting depth and text size are limited, so hostile input fails
 * cleanly instead of exhausting the stack. */
#ifndef GRAFT_CYPHER_PARSE_H
#define GRAFT_CYPHER_PARSE_H

#include "ast.h"
#include "cypher.h"

#define CYPHER_MAX_DEPTH 200

struct cypher_stmt {
	struct ast_arena arena;
	struct ast *root;
	char *text;          /* copy of the query, NUL-terminated */
	size_t len;
	struct ast **lits;   /* literal nodes whose values the tree owns */
	size_t nlits, lits_cap;
};

int cypher_parse(const char *query, size_t len, struct cypher_stmt **out,
		 struct cypher_error *err);
void cypher_stmt_free(struct cypher_stmt *s);
/* Fills err with status and the message followed by
 * " (line L, column C (offset: O))" for offset pos. */
void cypher_error_at(struct cypher_error *err, enum graft_status status,
		     const char *text, size_t pos, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

#endif
