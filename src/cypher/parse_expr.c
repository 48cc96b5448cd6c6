/* The parser's expressions: operators by precedence, literals in
 * context, function calls, CASE, comprehensions, quantifiers, subquery
 * expressions and map projections. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parser_int.h"

/* Expressions ----------------------------------------------------------- */

bool parser_enter(struct parser *p)
{
	if (++p->depth > CYPHER_MAX_DEPTH) {
		p->depth--;
		if (!p->failed) {
			p->failed = true;
			p->rv = GRAFT_EINVAL;
			cypher_error_at(p->err, GRAFT_STATUS_SYNTAX_ERROR, p->st->text,
					TOK(p)->pos,
					"The query nests more than %d levels deep; simplify it",
					CYPHER_MAX_DEPTH);
		}
		return false;
	}
	return true;
}

struct ast *parser_binary(struct parser *p, uint16_t kind, uint16_t op,
		   struct ast *l, struct ast *r)
{
	struct ast *a;

	if (l == NULL || r == NULL)
		return NULL;
	a = parser_node(p, kind);
	if (a == NULL)
		return NULL;
	a->op = op;
	a->pos = l->pos;
	parser_add(p, a, l);
	parser_add(p, a, r);
	a->end = r->end;
	return a;
}

static struct ast *list_or_comprehension(struct parser *p);

/* x IN list [WHERE pred] — shared by comprehensions and quantifiers. */
static struct ast *in_clause(struct parser *p, struct ast *a)
{
	a->name = parser_symbol(p, "a variable name");
	if (a->name == NULL || !parser_expect_kw(p, "IN"))
		return NULL;
	if (!parser_add(p, a, parser_expr(p)))
		return NULL;
	return a;
}

/* KEYWORD ( ...: a node of kind with the keyword and parenthesis read. */
struct ast *parser_keyword_paren(struct parser *p, uint16_t kind)
{
	struct ast *a = parser_node(p, kind);

	if (a == NULL)
		return NULL;
	p->i++;
	return parser_expect(p, "(") ? a : NULL;
}

static struct ast *quantifier(struct parser *p, uint16_t q)
{
	struct ast *a = parser_keyword_paren(p, AST_QUANT);

	if (a == NULL)
		return NULL;
	a->op = q;
	if (!in_clause(p, a))
		return NULL;
	if (!parser_expect_kw(p, "WHERE") || !parser_add(p, a, parser_expr(p)) || !parser_expect(p, ")"))
		return NULL;
	return a;
}

static struct ast *reduce_expr(struct parser *p)
{
	struct ast *a = parser_keyword_paren(p, AST_REDUCE);

	if (a == NULL)
		return NULL;
	a->name = parser_symbol(p, "an accumulator name");
	if (a->name == NULL || !parser_expect(p, "=") || !parser_add(p, a, parser_expr(p)) ||
	    !parser_expect(p, ","))
		return NULL;
	a->name2 = parser_symbol(p, "a variable name");
	if (a->name2 == NULL || !parser_expect_kw(p, "IN") || !parser_add(p, a, parser_expr(p)) ||
	    !parser_expect(p, "|") || !parser_add(p, a, parser_expr(p)) || !parser_expect(p, ")"))
		return NULL;
	return a;
}

static struct ast *case_expr(struct parser *p)
{
	struct ast *a = parser_node(p, AST_CASE);

	if (a == NULL)
		return NULL;
	p->i++;
	if (!parser_is_kw(p, 0, "WHEN")) {
		a->flags |= AST_F_SIMPLE;
		if (!parser_add(p, a, parser_expr(p)))
			return NULL;
	}
	if (!parser_is_kw(p, 0, "WHEN"))
		return parser_fail(p, "WHEN");
	while (parser_accept_kw(p, "WHEN")) {
		if (!parser_add(p, a, parser_expr(p)) || !parser_expect_kw(p, "THEN") ||
		    !parser_add(p, a, parser_expr(p)))
			return NULL;
	}
	if (parser_accept_kw(p, "ELSE")) {
		a->flags |= AST_F_ELSE;
		if (!parser_add(p, a, parser_expr(p)))
			return NULL;
	}
	if (!parser_expect_kw(p, "END"))
		return NULL;
	return a;
}

/* { pattern [WHERE] } or { full statement } after EXISTS / COUNT / COLLECT. */
static struct ast *subquery_expr(struct parser *p, uint16_t kind)
{
	struct ast *a = parser_node(p, kind);

	if (a == NULL)
		return NULL;
	p->i++;
	if (!parser_expect(p, "{"))
		return NULL;
	if (kind != AST_COLLECT_SUB && !parser_is_kw(p, 0, "MATCH") &&
	    !parser_is_kw(p, 0, "OPTIONAL") && !parser_is_kw(p, 0, "CALL") &&
	    !parser_is_kw(p, 0, "UNWIND") && !parser_is_kw(p, 0, "WITH")) {
		struct ast *pat = parser_pattern(p);

		if (pat == NULL)
			return NULL;
		if (!parser_add(p, a, pat) || !parser_add(p, a, parser_where_opt(p)))
			return NULL;
	} else {
		if (!parser_add(p, a, parser_statement_body(p)))
			return NULL;
	}
	if (!parser_expect(p, "}"))
		return NULL;
	return a;
}

static struct ast *func_call(struct parser *p)
{
	struct ast *a = parser_node(p, AST_FUNC);
	char name[256];
	size_t o = 0;

	if (a == NULL)
		return NULL;
	for (;;) {
		const struct lex_tok *t = TOK(p);
		const char *s = parser_symbol(p, "a function name");

		(void)t;
		if (s == NULL)
			return NULL;
		o += (size_t)snprintf(name + o, sizeof name - o, "%s%s",
				      o ? "." : "", s);
		if (o >= sizeof name)
			return parser_fail(p, "a shorter function name");
		if (!parser_accept_punct(p, "."))
			break;
	}
	a->name = ast_arena_strndup(&p->st->arena, name, o);
	if (a->name == NULL)
		return parser_oom(p);
	if (!parser_expect(p, "("))
		return NULL;
	if (strcasecmp(a->name, "count") == 0 && parser_accept_punct(p, "*")) {
		a->kind = AST_COUNT_STAR;
		if (!parser_expect(p, ")"))
			return NULL;
		parser_set_end(p, a);
		return a;
	}
	if (parser_accept_kw(p, "DISTINCT"))
		a->flags |= AST_F_DISTINCT;
	else
		parser_accept_kw(p, "ALL");
	if (!parser_accept_punct(p, ")")) {
		do {
			if (!parser_add(p, a, parser_expr(p)))
				return NULL;
		} while (parser_accept_punct(p, ","));
		if (!parser_expect(p, ")"))
			return NULL;
	}
	parser_set_end(p, a);
	return a;
}

static bool looks_like_call(struct parser *p)
{
	size_t k = 0;

	while (parser_is_symbol(p, k) && parser_is_punct(p, k + 1, "."))
		k += 2;
	return parser_is_symbol(p, k) && parser_is_punct(p, k + 1, "(");
}

static struct ast *map_projection(struct parser *p, struct ast *var)
{
	struct ast *a = parser_node(p, AST_MAP_PROJ);

	if (a == NULL || !parser_add(p, a, var))
		return NULL;
	a->pos = var->pos;
	p->i++; /* { */
	if (parser_accept_punct(p, "}"))
		return a;
	do {
		struct ast *it;

		if (parser_accept_punct(p, ".")) {
			if (parser_accept_punct(p, "*")) {
				it = parser_node(p, AST_NAME);
				if (it)
					it->name = "*";
			} else {
				it = parser_node(p, AST_PROP);
				if (it)
					it->name = parser_symbol(p, "a property key");
				if (it && it->name == NULL)
					return NULL;
			}
		} else if (parser_is_symbol(p, 0) && parser_is_punct(p, 1, ":")) {
			it = parser_node(p, AST_ITEM);
			if (it == NULL)
				return NULL;
			it->name = parser_symbol(p, "a key");
			p->i++;
			if (!parser_add(p, it, parser_expr(p)))
				return NULL;
		} else {
			it = parser_node(p, AST_VAR);
			if (it)
				it->name = parser_symbol(p, "a map projection item");
			if (it && it->name == NULL)
				return NULL;
		}
		if (!parser_add(p, a, it))
			return NULL;
	} while (parser_accept_punct(p, ","));
	if (!parser_expect(p, "}"))
		return NULL;
	return a;
}

/* '(' starts either a parenthesised expression or a pattern predicate such
 * as (a)-[:T]->(b); try the pattern first and fall back. */
static struct ast *paren_or_pattern(struct parser *p)
{
	size_t save = p->i;
	struct cypher_error keep = *p->err;
	struct ast *path = parser_path_pattern(p);
	struct ast *a;

	if (path != NULL && path->n > 1) {
		a = parser_node(p, AST_PATTERN_PRED);
		if (a == NULL || !parser_add(p, a, path))
			return NULL;
		a->pos = path->pos;
		return a;
	}
	p->failed = false;
	p->rv = GRAFT_OK;
	*p->err = keep;
	p->i = save;
	p->i++;
	a = parser_expr(p);
	if (a == NULL || !parser_expect(p, ")"))
		return NULL;
	return a;
}

struct ast *parser_atom(struct parser *p)
{
	const struct lex_tok *t = TOK(p);
	struct ast *a;

	switch (t->kind) {
	case LEX_INT:
	case LEX_FLOAT:
		return parser_number_lit(p, false);
	case LEX_STRING:
		return parser_string_lit(p);
	case LEX_END:
		return parser_fail(p, "an expression");
	default:
		break;
	}
	if (parser_is_punct(p, 0, "$")) {
		p->i++;
		a = parser_node(p, AST_PARAM);
		if (a == NULL)
			return NULL;
		a->pos = t->pos;
		if (TOK(p)->kind == LEX_INT) {
			a->name = ast_arena_strndup(&p->st->arena,
						    parser_tok_text(p, TOK(p)),
						    TOK(p)->len);
			p->i++;
		} else {
			a->name = parser_symbol(p, "a parameter name");
		}
		return a->name ? a : NULL;
	}
	if (parser_is_punct(p, 0, "["))
		return list_or_comprehension(p);
	if (parser_is_punct(p, 0, "{"))
		return parser_map_literal(p);
	if (parser_is_punct(p, 0, "("))
		return paren_or_pattern(p);
	if (t->kind == LEX_PUNCT)
		return parser_fail(p, "an expression");
	if (t->kind == LEX_IDENT) {
		a = parser_node(p, AST_LIT);
		if (a == NULL)
			return NULL;
		if (parser_is_kw(p, 0, "true") || parser_is_kw(p, 0, "false")) {
			a->v = graft_value_bool(parser_is_kw(p, 0, "true"));
			p->i++;
			return a;
		}
		if (parser_is_kw(p, 0, "null")) {
			p->i++;
			return a;
		}
		if (parser_is_kw(p, 0, "NaN") || parser_is_kw(p, 0, "Infinity")) {
			a->v = graft_value_float(parser_is_kw(p, 0, "NaN") ? NAN
								   : INFINITY);
			p->i++;
			return a;
		}
		if (parser_is_kw(p, 0, "CASE"))
			return case_expr(p);
		if (parser_is_punct(p, 1, "(")) {
			if (parser_is_kw(p, 0, "all"))
				return quantifier(p, AST_Q_ALL);
			if (parser_is_kw(p, 0, "any"))
				return quantifier(p, AST_Q_ANY);
			if (parser_is_kw(p, 0, "none"))
				return quantifier(p, AST_Q_NONE);
			if (parser_is_kw(p, 0, "single"))
				return quantifier(p, AST_Q_SINGLE);
			if (parser_is_kw(p, 0, "reduce"))
				return reduce_expr(p);
		}
		if (parser_is_punct(p, 1, "{")) {
			if (parser_is_kw(p, 0, "EXISTS"))
				return subquery_expr(p, AST_EXISTS);
			if (parser_is_kw(p, 0, "COUNT"))
				return subquery_expr(p, AST_COUNT_SUB);
			if (parser_is_kw(p, 0, "COLLECT"))
				return subquery_expr(p, AST_COLLECT_SUB);
		}
	}
	if (looks_like_call(p))
		return func_call(p);
	a = parser_node(p, AST_VAR);
	if (a == NULL)
		return NULL;
	a->name = parser_symbol(p, "an expression");
	if (a->name == NULL)
		return NULL;
	parser_set_end(p, a);
	if (parser_is_punct(p, 0, "{"))
		return map_projection(p, a);
	return a;
}

/* :A:B, :A&B (all), :A|B (any), :!A (none of): each name's op says
 * which (enum ast_label_op). */
struct ast *parser_label_list(struct parser *p, struct ast *owner)
{
	while (parser_accept_punct(p, ":")) {
		uint16_t op = AST_LABEL_ALL;

		do {
			bool neg = parser_accept_punct(p, "!");
			struct ast *n = parser_name_node(p, "a label name");

			if (!parser_add(p, owner, n))
				return NULL;
			n->op = neg ? AST_LABEL_NOT : op;
			if (parser_is_punct(p, 0, "|")) {
				n->op = neg ? AST_LABEL_NOT : AST_LABEL_ANY;
				op = AST_LABEL_ANY;
			}
		} while (parser_accept_punct(p, "&") || parser_accept_punct(p, "|"));
	}
	return owner;
}

struct ast *parser_postfix(struct parser *p)
{
	struct ast *a = parser_atom(p);

	while (a != NULL) {
		struct ast *b;

		if (parser_accept_punct(p, ".")) {
			b = parser_node(p, AST_PROP);
			if (b == NULL || !parser_add(p, b, a))
				return NULL;
			b->pos = a->pos;
			b->name = parser_symbol(p, "a property key");
			if (b->name == NULL)
				return NULL;
		} else if (parser_accept_punct(p, "[")) {
			b = parser_node(p, AST_INDEX);
			if (b == NULL || !parser_add(p, b, a))
				return NULL;
			b->pos = a->pos;
			if (parser_is_punct(p, 0, ".."))
				parser_add(p, b, NULL);
			else if (!parser_add(p, b, parser_expr(p)))
				return NULL;
			if (parser_accept_punct(p, "..")) {
				b->kind = AST_SLICE;
				if (parser_is_punct(p, 0, "]"))
					parser_add(p, b, NULL);
				else if (!parser_add(p, b, parser_expr(p)))
					return NULL;
			}
			if (!parser_expect(p, "]"))
				return NULL;
		} else if (parser_is_punct(p, 0, ":") && a->kind != AST_LIT) {
			b = parser_node(p, AST_LABEL_TEST);
			if (b == NULL || !parser_add(p, b, a))
				return NULL;
			b->pos = a->pos;
			if (parser_label_list(p, b) == NULL)
				return NULL;
		} else {
			break;
		}
		parser_set_end(p, b);
		a = b;
	}
	return a;
}

static struct ast *unary(struct parser *p)
{
	struct ast *a, *k;

	if (!parser_enter(p))
		return NULL;
	if (parser_is_punct(p, 0, "-") || parser_is_punct(p, 0, "+")) {
		bool neg = parser_is_punct(p, 0, "-");
		uint32_t pos = TOK(p)->pos;

		p->i++;
		if (neg && (TOK(p)->kind == LEX_INT || TOK(p)->kind == LEX_FLOAT) &&
		    !parser_is_punct(p, 1, ".") && !parser_is_punct(p, 1, "[") &&
		    !parser_is_punct(p, 1, "^")) {
			a = parser_number_lit(p, true);
			if (a)
				a->pos = pos;
		} else {
			k = unary(p);
			a = k && neg ? parser_node(p, AST_NEG) : k;
			if (a && neg) {
				a->pos = pos;
				parser_add(p, a, k);
			}
		}
	} else {
		a = parser_postfix(p);
	}
	if (a)
		parser_set_end(p, a);
	p->depth--;
	return a;
}

static struct ast *power(struct parser *p)
{
	struct ast *a = unary(p);

	while (a && parser_accept_punct(p, "^"))
		a = parser_binary(p, AST_BINOP, AST_OP_POW, a, unary(p));
	return a;
}

struct op_token {
	const char *tok;
	uint16_t op;
};

/* One level of left-associative binary operators over next. */
static struct ast *left_assoc(struct parser *p,
			      struct ast *(*next)(struct parser *p),
			      const struct op_token *ops, size_t n)
{
	struct ast *a = next(p);

	while (a != NULL) {
		size_t i = 0;

		while (i < n && !parser_accept_punct(p, ops[i].tok))
			i++;
		if (i == n)
			return a;
		a = parser_binary(p, AST_BINOP, ops[i].op, a, next(p));
	}
	return NULL;
}

static struct ast *mul(struct parser *p)
{
	static const struct op_token ops[] = {
		{"*", AST_OP_MUL}, {"/", AST_OP_DIV}, {"%", AST_OP_MOD}};

	return left_assoc(p, power, ops, 3);
}

static struct ast *additive(struct parser *p)
{
	static const struct op_token ops[] = {{"+", AST_OP_ADD},
					      {"-", AST_OP_SUB}};

	return left_assoc(p, mul, ops, 2);
}

static struct ast *string_list_null(struct parser *p)
{
	struct ast *a = additive(p);

	for (;;) {
		uint16_t op;

		if (a == NULL)
			return NULL;
		if (parser_is_kw(p, 0, "STARTS") && parser_is_kw(p, 1, "WITH")) {
			p->i += 2;
			op = AST_OP_STARTS;
		} else if (parser_is_kw(p, 0, "ENDS") && parser_is_kw(p, 1, "WITH")) {
			p->i += 2;
			op = AST_OP_ENDS;
		} else if (parser_accept_kw(p, "CONTAINS")) {
			op = AST_OP_CONTAINS;
		} else if (parser_accept_kw(p, "IN")) {
			op = AST_OP_IN;
		} else if (parser_is_kw(p, 0, "IS")) {
			struct ast *b = parser_node(p, AST_IS_NULL);

			p->i++;
			if (b == NULL || !parser_add(p, b, a))
				return NULL;
			b->pos = a->pos;
			if (parser_accept_kw(p, "NOT"))
				b->flags |= AST_F_NOT;
			if (!parser_expect_kw(p, "NULL"))
				return NULL;
			parser_set_end(p, b);
			a = b;
			continue;
		} else {
			return a;
		}
		a = parser_binary(p, AST_BINOP, op, a, additive(p));
	}
}

static int cmp_op(struct parser *p)
{
	static const struct {
		const char *s;
		uint16_t op;
	} ops[] = {{"=", AST_OP_EQ},  {"<>", AST_OP_NE}, {"!=", AST_OP_NE},
		   {"<=", AST_OP_LE}, {">=", AST_OP_GE}, {"<", AST_OP_LT},
		   {">", AST_OP_GT},  {"=~", AST_OP_REGEX}};

	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
		if (parser_accept_punct(p, ops[i].s))
			return ops[i].op;
	return -1;
}

/* a < b < c means a < b AND b < c. */
static struct ast *comparison(struct parser *p)
{
	struct ast *a = string_list_null(p), *chain = NULL, *prev = a;
	int op;

	while (a != NULL && (op = cmp_op(p)) >= 0) {
		struct ast *r = string_list_null(p);
		struct ast *c = parser_binary(p, AST_BINOP, (uint16_t)op, prev, r);

		if (c == NULL)
			return NULL;
		chain = chain ? parser_binary(p, AST_AND, 0, chain, c) : c;
		prev = r;
	}
	return chain ? chain : a;
}

static struct ast *not_expr(struct parser *p)
{
	struct ast *a;

	if (!parser_enter(p))
		return NULL;
	if (parser_is_kw(p, 0, "NOT")) {
		uint32_t pos = TOK(p)->pos;
		struct ast *k;

		p->i++;
		k = not_expr(p);
		a = k ? parser_node(p, AST_NOT) : NULL;
		if (a) {
			a->pos = pos;
			parser_add(p, a, k);
			a->end = k->end;
		}
	} else {
		a = comparison(p);
	}
	p->depth--;
	return a;
}

static struct ast *and_expr(struct parser *p)
{
	struct ast *a = not_expr(p);

	while (a && parser_accept_kw(p, "AND"))
		a = parser_binary(p, AST_AND, 0, a, not_expr(p));
	return a;
}

static struct ast *xor_expr(struct parser *p)
{
	struct ast *a = and_expr(p);

	while (a && parser_accept_kw(p, "XOR"))
		a = parser_binary(p, AST_XOR, 0, a, and_expr(p));
	return a;
}

struct ast *parser_expr(struct parser *p)
{
	struct ast *a;

	if (!parser_enter(p))
		return NULL;
	a = xor_expr(p);
	while (a && parser_accept_kw(p, "OR"))
		a = parser_binary(p, AST_OR, 0, a, xor_expr(p));
	if (a)
		parser_set_end(p, a);
	p->depth--;
	return a;
}

struct ast *parser_map_literal(struct parser *p)
{
	struct ast *a = parser_node(p, AST_MAP);

	if (a == NULL || !parser_expect(p, "{"))
		return NULL;
	if (parser_accept_punct(p, "}"))
		return a;
	do {
		struct ast *it = parser_node(p, AST_ITEM);

		if (it == NULL)
			return NULL;
		it->name = parser_symbol(p, "a map key");
		if (it->name == NULL || !parser_expect(p, ":") ||
		    !parser_add(p, it, parser_expr(p)) || !parser_add(p, a, it))
			return NULL;
	} while (parser_accept_punct(p, ","));
	if (!parser_expect(p, "}"))
		return NULL;
	parser_set_end(p, a);
	return a;
}

/* [x IN l WHERE p | e], [(a)-->(b) WHERE p | e] or [1, 2]. */
static struct ast *list_or_comprehension(struct parser *p)
{
	struct ast *a;

	if (!parser_enter(p))
		return NULL;
	if (parser_is_symbol(p, 1) && parser_is_kw(p, 2, "IN") && !parser_is_punct(p, 3, "]")) {
		a = parser_node(p, AST_LIST_COMP);
		p->i++;
		if (a == NULL || !in_clause(p, a))
			goto out_null;
		if (parser_accept_kw(p, "WHERE")) {
			if (!parser_add(p, a, parser_expr(p)))
				goto out_null;
		} else {
			parser_add(p, a, NULL);
		}
		if (parser_accept_punct(p, "|")) {
			if (!parser_add(p, a, parser_expr(p)))
				goto out_null;
		} else {
			parser_add(p, a, NULL);
		}
	} else if (parser_is_punct(p, 1, "(") ||
		   (parser_is_symbol(p, 1) && parser_is_punct(p, 2, "=") &&
		    parser_is_punct(p, 3, "("))) {
		size_t save = p->i;
		struct cypher_error keep = *p->err;
		struct ast *path;

		p->i++;
		path = parser_path_pattern(p);
		if (path != NULL && path->n > 1 &&
		    (parser_is_kw(p, 0, "WHERE") || parser_is_punct(p, 0, "|"))) {
			a = parser_node(p, AST_PATTERN_COMP);
			if (a == NULL || !parser_add(p, a, path))
				goto out_null;
			if (parser_accept_kw(p, "WHERE")) {
				if (!parser_add(p, a, parser_expr(p)))
					goto out_null;
			} else {
				parser_add(p, a, NULL);
			}
			if (!parser_expect(p, "|") || !parser_add(p, a, parser_expr(p)))
				goto out_null;
		} else {
			p->failed = false;
			p->rv = GRAFT_OK;
			*p->err = keep;
			p->i = save;
			goto plain;
		}
	} else {
	plain:
		a = parser_node(p, AST_LIST);
		if (a == NULL)
			goto out_null;
		p->i++;
		if (!parser_is_punct(p, 0, "]")) {
			do {
				if (!parser_add(p, a, parser_expr(p)))
					goto out_null;
			} while (parser_accept_punct(p, ","));
		}
	}
	if (!parser_expect(p, "]"))
		goto out_null;
	parser_set_end(p, a);
	p->depth--;
	return a;
out_null:
	p->depth--;
	return NULL;
}
