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
const char *parser_tok_text(struct parser *p, const struct lex_tok *t);
bool parser_is_punct(struct parser *p, size_t k, const char *s);
bool parser_is_kw(struct parser *p, size_t k, const char *kw);
void *parser_fail(struct parser *p, const char *expected);
void *parser_oom(struct parser *p);
bool parser_accept_punct(struct parser *p, const char *s);
bool parser_accept_kw(struct parser *p, const char *kw);
bool parser_expect(struct parser *p, const char *s);
bool parser_expect_kw(struct parser *p, const char *kw);
struct ast *parser_node(struct parser *p, uint16_t kind);
bool parser_add(struct parser *p, struct ast *parent, struct ast *kid);
bool parser_comma_list(struct parser *p, struct ast *owner,
		struct ast *(*item)(struct parser *p));
void parser_set_end(struct parser *p, struct ast *a);
const char *parser_symbol(struct parser *p, const char *expected);
bool parser_is_symbol(struct parser *p, size_t k);
struct ast *parser_name_node(struct parser *p, const char *expected);
struct ast *parser_string_lit(struct parser *p);
struct ast *parser_number_lit(struct parser *p, bool negate);

/* parse_admin.c */
struct ast *parser_admin_statement(struct parser *p);

/* parse_clause.c */
struct ast *parser_where_opt(struct parser *p);
struct ast *parse_projection(struct parser *p, uint16_t kind);
struct ast *parser_statement_body(struct parser *p);

/* parse_expr.c */
bool parser_enter(struct parser *p);
struct ast *parser_binary(struct parser *p, uint16_t kind, uint16_t op,
		   struct ast *l, struct ast *r);
struct ast *parser_keyword_paren(struct parser *p, uint16_t kind);
struct ast *parser_atom(struct parser *p);
struct ast *parser_label_list(struct parser *p, struct ast *owner);
struct ast *parser_postfix(struct parser *p);
struct ast *parser_expr(struct parser *p);
struct ast *parser_map_literal(struct parser *p);

/* parse_pattern.c */
struct ast *parser_path_pattern(struct parser *p);
struct ast *parser_pattern(struct parser *p);

#endif
