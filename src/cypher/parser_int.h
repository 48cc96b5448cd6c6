/* The parser's internals, shared by the parse*.c files: the parser state
 * over the token array, and the functions one part of the grammar calls in
 * another. */
#ifndef GRAFT_CYPHER_PARSER_INT_H
#define GRAFT_CYPHER_PARSER_INT_H

#include "lex.h"
#include "parse.h"

struct parser {
	struct cypher_stmt *st;
	struct lex lx;
	size_t i;          /* current token */
	int depth;
	bool failed;
	int rv;
	struct cypher_error *err;
};

#define TOK(p) (&(p)->lx.toks[(p)->i])
#define TOKAT(p, k) (&(p)->lx.toks[(p)->i + (k) < (p)->lx.n ? (p)->i + (k) : (p)->lx.n - 1])

/* parse.c */
const char *tok_text(struct parser *p, const struct lex_tok *t);
bool is_punct(struct parser *p, size_t k, const char *s);
bool is_kw(struct parser *p, size_t k, const char *kw);
void *fail(struct parser *p, const char *expected);
void *oom(struct parser *p);
bool accept_p(struct parser *p, const char *s);
bool accept_kw(struct parser *p, const char *kw);
bool expect(struct parser *p, const char *s);
bool expect_kw(struct parser *p, const char *kw);
struct ast *node(struct parser *p, uint16_t kind);
bool add(struct parser *p, struct ast *parent, struct ast *kid);
bool comma_list(struct parser *p, struct ast *owner,
		struct ast *(*item)(struct parser *p));
void set_end(struct parser *p, struct ast *a);
const char *symbol(struct parser *p, const char *expected);
bool is_symbol(struct parser *p, size_t k);
struct ast *name_node(struct parser *p, const char *expected);
struct ast *string_lit(struct parser *p);
struct ast *number_lit(struct parser *p, bool negate);

/* parse_admin.c */
struct ast *admin_statement(struct parser *p);

/* parse_clause.c */
struct ast *where_opt(struct parser *p);
struct ast *parse_projection(struct parser *p, uint16_t kind);
struct ast *statement_body(struct parser *p);

/* parse_expr.c */
bool enter(struct parser *p);
struct ast *binary(struct parser *p, uint16_t kind, uint16_t op,
		   struct ast *l, struct ast *r);
struct ast *keyword_paren(struct parser *p, uint16_t kind);
struct ast *atom(struct parser *p);
struct ast *label_list(struct parser *p, struct ast *owner);
struct ast *postfix(struct parser *p);
struct ast *expr(struct parser *p);
struct ast *map_literal(struct parser *p);

/* parse_pattern.c */
struct ast *path_pattern(struct parser *p);
struct ast *pattern(struct parser *p);

#endif
