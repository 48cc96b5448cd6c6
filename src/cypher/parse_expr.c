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

bool enter(struct parser *p)
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

struct ast *binary(struct parser *p, uint16_t kind, uint16_t op,
		   struct ast *l, struct ast *r)
{
	struct ast *a;

	if (l == NULL || r == NULL)
		return NULL;
	a = node(p, kind);
	if (a == NULL)
		return NULL;
	a->op = op;
	a->pos = l->pos;
	add(p, a, l);
	add(p, a, r);
	a->end = r->end;
	return a;
}

static struct ast *list_or_comprehension(struct parser *p);

/* x IN list [WHERE pred] — shared by comprehensions and quantifiers. */
static struct ast *in_clause(struct parser *p, struct ast *a)
{
	a->name = symbol(p, "a variable name");
	if (a->name == NULL || !expect_kw(p, "IN"))
		return NULL;
	if (!add(p, a, expr(p)))
		return NULL;
	return a;
}

/* KEYWORD ( ...: a node of kind with the keyword and parenthesis read. */
struct ast *keyword_paren(struct parser *p, uint16_t kind)
{
	struct ast *a = node(p, kind);

	if (a == NULL)
		return NULL;
	p->i++;
	return expect(p, "(") ? a : NULL;
}

static struct ast *quantifier(struct parser *p, uint16_t q)
{
	struct ast *a = keyword_paren(p, AST_QUANT);

	if (a == NULL)
		return NULL;
	a->op = q;
	if (!in_clause(p, a))
		return NULL;
	if (!expect_kw(p, "WHERE") || !add(p, a, expr(p)) || !expect(p, ")"))
		return NULL;
	return a;
}

static struct ast *reduce_expr(struct parser *p)
{
	struct ast *a = keyword_paren(p, AST_REDUCE);

	if (a == NULL)
		return NULL;
	a->name = symbol(p, "an accumulator name");
	if (a->name == NULL || !expect(p, "=") || !add(p, a, expr(p)) ||
	    !expect(p, ","))
		return NULL;
	a->name2 = symbol(p, "a variable name");
	if (a->name2 == NULL || !expect_kw(p, "IN") || !add(p, a, expr(p)) ||
	    !expect(p, "|") || !add(p, a, expr(p)) || !expect(p, ")"))
		return NULL;
	return a;
}

static struct ast *case_expr(struct parser *p)
{
	struct ast *a = node(p, AST_CASE);

	if (a == NULL)
		return NULL;
	p->i++;
	if (!is_kw(p, 0, "WHEN")) {
		a->flags |= AST_F_SIMPLE;
		if (!add(p, a, expr(p)))
			return NULL;
	}
	if (!is_kw(p, 0, "WHEN"))
		return fail(p, "WHEN");
	while (accept_kw(p, "WHEN")) {
		if (!add(p, a, expr(p)) || !expect_kw(p, "THEN") ||
		    !add(p, a, expr(p)))
			return NULL;
	}
	if (accept_kw(p, "ELSE")) {
		a->flags |= AST_F_ELSE;
		if (!add(p, a, expr(p)))
			return NULL;
	}
	if (!expect_kw(p, "END"))
		return NULL;
	return a;
}

/* { pattern [WHERE] } or { full statement } after EXISTS / COUNT / COLLECT. */
static struct ast *subquery_expr(struct parser *p, uint16_t kind)
{
	struct ast *a = node(p, kind);

	if (a == NULL)
		return NULL;
	p->i++;
	if (!expect(p, "{"))
		return NULL;
	if (kind != AST_COLLECT_SUB && !is_kw(p, 0, "MATCH") &&
	    !is_kw(p, 0, "OPTIONAL") && !is_kw(p, 0, "CALL") &&
	    !is_kw(p, 0, "UNWIND") && !is_kw(p, 0, "WITH")) {
		struct ast *pat = pattern(p);

		if (pat == NULL)
			return NULL;
		if (!add(p, a, pat) || !add(p, a, where_opt(p)))
			return NULL;
	} else {
		if (!add(p, a, statement_body(p)))
			return NULL;
	}
	if (!expect(p, "}"))
		return NULL;
	return a;
}

static struct ast *func_call(struct parser *p)
{
	struct ast *a = node(p, AST_FUNC);
	char name[256];
	size_t o = 0;

	if (a == NULL)
		return NULL;
	for (;;) {
		const struct lex_tok *t = TOK(p);
		const char *s = symbol(p, "a function name");

		(void)t;
		if (s == NULL)
			return NULL;
		o += (size_t)snprintf(name + o, sizeof name - o, "%s%s",
				      o ? "." : "", s);
		if (o >= sizeof name)
			return fail(p, "a shorter function name");
		if (!accept_p(p, "."))
			break;
	}
	a->name = ast_arena_strndup(&p->st->arena, name, o);
	if (a->name == NULL)
		return oom(p);
	if (!expect(p, "("))
		return NULL;
	if (strcasecmp(a->name, "count") == 0 && accept_p(p, "*")) {
		a->kind = AST_COUNT_STAR;
		if (!expect(p, ")"))
			return NULL;
		set_end(p, a);
		return a;
	}
	if (accept_kw(p, "DISTINCT"))
		a->flags |= AST_F_DISTINCT;
	else
		accept_kw(p, "ALL");
	if (!accept_p(p, ")")) {
		do {
			if (!add(p, a, expr(p)))
				return NULL;
		} while (accept_p(p, ","));
		if (!expect(p, ")"))
			return NULL;
	}
	set_end(p, a);
	return a;
}

static bool looks_like_call(struct parser *p)
{
	size_t k = 0;

	while (is_symbol(p, k) && is_punct(p, k + 1, "."))
		k += 2;
	return is_symbol(p, k) && is_punct(p, k + 1, "(");
}

static struct ast *map_projection(struct parser *p, struct ast *var)
{
	struct ast *a = node(p, AST_MAP_PROJ);

	if (a == NULL || !add(p, a, var))
		return NULL;
	a->pos = var->pos;
	p->i++; /* { */
	if (accept_p(p, "}"))
		return a;
	do {
		struct ast *it;

		if (accept_p(p, ".")) {
			if (accept_p(p, "*")) {
				it = node(p, AST_NAME);
				if (it)
					it->name = "*";
			} else {
				it = node(p, AST_PROP);
				if (it)
					it->name = symbol(p, "a property key");
				if (it && it->name == NULL)
					return NULL;
			}
		} else if (is_symbol(p, 0) && is_punct(p, 1, ":")) {
			it = node(p, AST_ITEM);
			if (it == NULL)
				return NULL;
			it->name = symbol(p, "a key");
			p->i++;
			if (!add(p, it, expr(p)))
				return NULL;
		} else {
			it = node(p, AST_VAR);
			if (it)
				it->name = symbol(p, "a map projection item");
			if (it && it->name == NULL)
				return NULL;
		}
		if (!add(p, a, it))
			return NULL;
	} while (accept_p(p, ","));
	if (!expect(p, "}"))
		return NULL;
	return a;
}

/* '(' starts either a parenthesised expression or a pattern predicate such
 * as (a)-[:T]->(b); try the pattern first and fall back. */
static struct ast *paren_or_pattern(struct parser *p)
{
	size_t save = p->i;
	struct cypher_error keep = *p->err;
	struct ast *path = path_pattern(p);
	struct ast *a;

	if (path != NULL && path->n > 1) {
		a = node(p, AST_PATTERN_PRED);
		if (a == NULL || !add(p, a, path))
			return NULL;
		a->pos = path->pos;
		return a;
	}
	p->failed = false;
	p->rv = GRAFT_OK;
	*p->err = keep;
	p->i = save;
	p->i++;
	a = expr(p);
	if (a == NULL || !expect(p, ")"))
		return NULL;
	return a;
}

struct ast *atom(struct parser *p)
{
	const struct lex_tok *t = TOK(p);
	struct ast *a;

	switch (t->kind) {
	case LEX_INT:
	case LEX_FLOAT:
		return number_lit(p, false);
	case LEX_STRING:
		return string_lit(p);
	case LEX_END:
		return fail(p, "an expression");
	default:
		break;
	}
	if (is_punct(p, 0, "$")) {
		p->i++;
		a = node(p, AST_PARAM);
		if (a == NULL)
			return NULL;
		a->pos = t->pos;
		if (TOK(p)->kind == LEX_INT) {
			a->name = ast_arena_strndup(&p->st->arena,
						    tok_text(p, TOK(p)),
						    TOK(p)->len);
			p->i++;
		} else {
			a->name = symbol(p, "a parameter name");
		}
		return a->name ? a : NULL;
	}
	if (is_punct(p, 0, "["))
		return list_or_comprehension(p);
	if (is_punct(p, 0, "{"))
		return map_literal(p);
	if (is_punct(p, 0, "("))
		return paren_or_pattern(p);
	if (t->kind == LEX_PUNCT)
		return fail(p, "an expression");
	if (t->kind == LEX_IDENT) {
		a = node(p, AST_LIT);
		if (a == NULL)
			return NULL;
		if (is_kw(p, 0, "true") || is_kw(p, 0, "false")) {
			a->v = graft_value_bool(is_kw(p, 0, "true"));
			p->i++;
			return a;
		}
		if (is_kw(p, 0, "null")) {
			p->i++;
			return a;
		}
		if (is_kw(p, 0, "NaN") || is_kw(p, 0, "Infinity")) {
			a->v = graft_value_float(is_kw(p, 0, "NaN") ? NAN
								   : INFINITY);
			p->i++;
			return a;
		}
		if (is_kw(p, 0, "CASE"))
			return case_expr(p);
		if (is_punct(p, 1, "(")) {
			if (is_kw(p, 0, "all"))
				return quantifier(p, AST_Q_ALL);
			if (is_kw(p, 0, "any"))
				return quantifier(p, AST_Q_ANY);
			if (is_kw(p, 0, "none"))
				return quantifier(p, AST_Q_NONE);
			if (is_kw(p, 0, "single"))
				return quantifier(p, AST_Q_SINGLE);
			if (is_kw(p, 0, "reduce"))
				return reduce_expr(p);
		}
		if (is_punct(p, 1, "{")) {
			if (is_kw(p, 0, "EXISTS"))
				return subquery_expr(p, AST_EXISTS);
			if (is_kw(p, 0, "COUNT"))
				return subquery_expr(p, AST_COUNT_SUB);
			if (is_kw(p, 0, "COLLECT"))
				return subquery_expr(p, AST_COLLECT_SUB);
		}
	}
	if (looks_like_call(p))
		return func_call(p);
	a = node(p, AST_VAR);
	if (a == NULL)
		return NULL;
	a->name = symbol(p, "an expression");
	if (a->name == NULL)
		return NULL;
	set_end(p, a);
	if (is_punct(p, 0, "{"))
		return map_projection(p, a);
	return a;
}

/* :A:B, :A&B (all), :A|B (any), :!A (none of): each name's op says
 * which (enum ast_label_op). */
struct ast *label_list(struct parser *p, struct ast *owner)
{
	while (accept_p(p, ":")) {
		uint16_t op = AST_LABEL_ALL;

		do {
			bool neg = accept_p(p, "!");
			struct ast *n = name_node(p, "a label name");

			if (!add(p, owner, n))
				return NULL;
			n->op = neg ? AST_LABEL_NOT : op;
			if (is_punct(p, 0, "|")) {
				n->op = neg ? AST_LABEL_NOT : AST_LABEL_ANY;
				op = AST_LABEL_ANY;
			}
		} while (accept_p(p, "&") || accept_p(p, "|"));
	}
	return owner;
}

struct ast *postfix(struct parser *p)
{
	struct ast *a = atom(p);

	while (a != NULL) {
		struct ast *b;

		if (accept_p(p, ".")) {
			b = node(p, AST_PROP);
			if (b == NULL || !add(p, b, a))
				return NULL;
			b->pos = a->pos;
			b->name = symbol(p, "a property key");
			if (b->name == NULL)
				return NULL;
		} else if (accept_p(p, "[")) {
			b = node(p, AST_INDEX);
			if (b == NULL || !add(p, b, a))
				return NULL;
			b->pos = a->pos;
			if (is_punct(p, 0, ".."))
				add(p, b, NULL);
			else if (!add(p, b, expr(p)))
				return NULL;
			if (accept_p(p, "..")) {
				b->kind = AST_SLICE;
				if (is_punct(p, 0, "]"))
					add(p, b, NULL);
				else if (!add(p, b, expr(p)))
					return NULL;
			}
			if (!expect(p, "]"))
				return NULL;
		} else if (is_punct(p, 0, ":") && a->kind != AST_LIT) {
			b = node(p, AST_LABEL_TEST);
			if (b == NULL || !add(p, b, a))
				return NULL;
			b->pos = a->pos;
			if (label_list(p, b) == NULL)
				return NULL;
		} else {
			break;
		}
		set_end(p, b);
		a = b;
	}
	return a;
}

static struct ast *unary(struct parser *p)
{
	struct ast *a, *k;

	if (!enter(p))
		return NULL;
	if (is_punct(p, 0, "-") || is_punct(p, 0, "+")) {
		bool neg = is_punct(p, 0, "-");
		uint32_t pos = TOK(p)->pos;

		p->i++;
		if (neg && (TOK(p)->kind == LEX_INT || TOK(p)->kind == LEX_FLOAT) &&
		    !is_punct(p, 1, ".") && !is_punct(p, 1, "[") &&
		    !is_punct(p, 1, "^")) {
			a = number_lit(p, true);
			if (a)
				a->pos = pos;
		} else {
			k = unary(p);
			a = k && neg ? node(p, AST_NEG) : k;
			if (a && neg) {
				a->pos = pos;
				add(p, a, k);
			}
		}
	} else {
		a = postfix(p);
	}
	if (a)
		set_end(p, a);
	p->depth--;
	return a;
}

static struct ast *power(struct parser *p)
{
	struct ast *a = unary(p);

	while (a && accept_p(p, "^"))
		a = binary(p, AST_BINOP, AST_OP_POW, a, unary(p));
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

		while (i < n && !accept_p(p, ops[i].tok))
			i++;
		if (i == n)
			return a;
		a = binary(p, AST_BINOP, ops[i].op, a, next(p));
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
		if (is_kw(p, 0, "STARTS") && is_kw(p, 1, "WITH")) {
			p->i += 2;
			op = AST_OP_STARTS;
		} else if (is_kw(p, 0, "ENDS") && is_kw(p, 1, "WITH")) {
			p->i += 2;
			op = AST_OP_ENDS;
		} else if (accept_kw(p, "CONTAINS")) {
			op = AST_OP_CONTAINS;
		} else if (accept_kw(p, "IN")) {
			op = AST_OP_IN;
		} else if (is_kw(p, 0, "IS")) {
			struct ast *b = node(p, AST_IS_NULL);

			p->i++;
			if (b == NULL || !add(p, b, a))
				return NULL;
			b->pos = a->pos;
			if (accept_kw(p, "NOT"))
				b->flags |= AST_F_NOT;
			if (!expect_kw(p, "NULL"))
				return NULL;
			set_end(p, b);
			a = b;
			continue;
		} else {
			return a;
		}
		a = binary(p, AST_BINOP, op, a, additive(p));
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
		if (accept_p(p, ops[i].s))
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
		struct ast *c = binary(p, AST_BINOP, (uint16_t)op, prev, r);

		if (c == NULL)
			return NULL;
		chain = chain ? binary(p, AST_AND, 0, chain, c) : c;
		prev = r;
	}
	return chain ? chain : a;
}

static struct ast *not_expr(struct parser *p)
{
	struct ast *a;

	if (!enter(p))
		return NULL;
	if (is_kw(p, 0, "NOT")) {
		uint32_t pos = TOK(p)->pos;
		struct ast *k;

		p->i++;
		k = not_expr(p);
		a = k ? node(p, AST_NOT) : NULL;
		if (a) {
			a->pos = pos;
			add(p, a, k);
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

	while (a && accept_kw(p, "AND"))
		a = binary(p, AST_AND, 0, a, not_expr(p));
	return a;
}

static struct ast *xor_expr(struct parser *p)
{
	struct ast *a = and_expr(p);

	while (a && accept_kw(p, "XOR"))
		a = binary(p, AST_XOR, 0, a, and_expr(p));
	return a;
}

struct ast *expr(struct parser *p)
{
	struct ast *a;

	if (!enter(p))
		return NULL;
	a = xor_expr(p);
	while (a && accept_kw(p, "OR"))
		a = binary(p, AST_OR, 0, a, xor_expr(p));
	if (a)
		set_end(p, a);
	p->depth--;
	return a;
}

struct ast *map_literal(struct parser *p)
{
	struct ast *a = node(p, AST_MAP);

	if (a == NULL || !expect(p, "{"))
		return NULL;
	if (accept_p(p, "}"))
		return a;
	do {
		struct ast *it = node(p, AST_ITEM);

		if (it == NULL)
			return NULL;
		it->name = symbol(p, "a map key");
		if (it->name == NULL || !expect(p, ":") ||
		    !add(p, it, expr(p)) || !add(p, a, it))
			return NULL;
	} while (accept_p(p, ","));
	if (!expect(p, "}"))
		return NULL;
	set_end(p, a);
	return a;
}

/* [x IN l WHERE p | e], [(a)-->(b) WHERE p | e] or [1, 2]. */
static struct ast *list_or_comprehension(struct parser *p)
{
	struct ast *a;

	if (!enter(p))
		return NULL;
	if (is_symbol(p, 1) && is_kw(p, 2, "IN") && !is_punct(p, 3, "]")) {
		a = node(p, AST_LIST_COMP);
		p->i++;
		if (a == NULL || !in_clause(p, a))
			goto out_null;
		if (accept_kw(p, "WHERE")) {
			if (!add(p, a, expr(p)))
				goto out_null;
		} else {
			add(p, a, NULL);
		}
		if (accept_p(p, "|")) {
			if (!add(p, a, expr(p)))
				goto out_null;
		} else {
			add(p, a, NULL);
		}
	} else if (is_punct(p, 1, "(") ||
		   (is_symbol(p, 1) && is_punct(p, 2, "=") &&
		    is_punct(p, 3, "("))) {
		size_t save = p->i;
		struct cypher_error keep = *p->err;
		struct ast *path;

		p->i++;
		path = path_pattern(p);
		if (path != NULL && path->n > 1 &&
		    (is_kw(p, 0, "WHERE") || is_punct(p, 0, "|"))) {
			a = node(p, AST_PATTERN_COMP);
			if (a == NULL || !add(p, a, path))
				goto out_null;
			if (accept_kw(p, "WHERE")) {
				if (!add(p, a, expr(p)))
					goto out_null;
			} else {
				add(p, a, NULL);
			}
			if (!expect(p, "|") || !add(p, a, expr(p)))
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
		a = node(p, AST_LIST);
		if (a == NULL)
			goto out_null;
		p->i++;
		if (!is_punct(p, 0, "]")) {
			do {
				if (!add(p, a, expr(p)))
					goto out_null;
			} while (accept_p(p, ","));
		}
	}
	if (!expect(p, "]"))
		goto out_null;
	set_end(p, a);
	p->depth--;
	return a;
out_null:
	p->depth--;
	return NULL;
}
