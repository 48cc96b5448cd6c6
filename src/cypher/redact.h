/* Password literals out of query text. Wherever the text of a statement
 * goes beyond the parser (SHOW TRANSACTIONS, dbms.listQueries, error
 * messages), the string literals that set or check a password are shown as
 * '******', as Neo4j shows them; parameters ($pw) are names, not values, and
 * stay. A user statement is one with the keywords USER and PASSWORD; its
 * password literals are the strings right after PASSWORD, FROM and TO
 * (CREATE USER … SET PASSWORD 'x', ALTER CURRENT USER SET PASSWORD FROM 'a'
 * TO 'b'). Pure functions, any thread. */
#ifndef GRAFT_CYPHER_REDACT_H
#define GRAFT_CYPHER_REDACT_H

#include <stdbool.h>
#include <stddef.h>

#include "lex.h"

#define REDACTED "'******'"

/* Copies query (len bytes) into out (cap bytes, at least 1), each password
 * literal replaced by REDACTED, cut to cap - 1 bytes and NUL-terminated. Text
 * the lexer cannot split (an unterminated string) is redacted from that
 * point on in a user statement. Returns the length written. */
size_t redact_query(const char *query, size_t len, char *out, size_t cap);

/* Whether token i of lx (over text) is a password literal, or whatever stands
 * where one belongs: the parser does not echo it in an error. */
bool redact_token_secret(const struct lex *lx, const char *text, size_t i);

#endif
