#include "parse.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lex.h"

/* Arena ---------------------------------------------------------------- */

struct arena_block {
	struct arena_block *next;
	size_t used, size;
	max_align_t data[];
};

void *arena_alloc(struct arena *a, size_t size)
{
	struct arena_block *b = a->head;

	size = (size + 15) & ~(size_t)15;
	if (b == NULL || b->used + size > b->size) {
		size_t cap = size > 16384 ? size : 16384;

		b = malloc(sizeof *b + cap);
		if (b == NULL)
			return NULL;
		b->next = a->head;
		b->used = 0;
		b->size = cap;
		a->head = b;
	}
	void *p = (char *)b->data + b->used;
	b->used += size;
	memset(p, 0, size);
	return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t len)
{
	char *p = arena_alloc(a, len + 1);

	if (p != NULL) {
		memcpy(p, s, len);
		p[len] = 0;
	}
	return p;
}

void arena_free(struct arena *a)
{
	while (a->head != NULL) {
		struct arena_block *b = a->head;

		a->head = b->next;
		free(b);
	}
}

/* Errors ---------------------------------------------------------------- */

int cypher_error_set(struct cypher_error *err, const char *code,
		     const char *fmt, ...)
{
	va_list ap;

	snprintf(err->code, sizeof err->code, "%s", code);
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof err->message, fmt, ap);
	va_end(ap);
	return GRAFT_EINVAL;
}

void cypher_error_at(struct cypher_error *err, const char *kind,
		     const char *text, size_t pos, const char *fmt, ...)
{
	size_t line = 1, col = 1, n;
	va_list ap;

	for (size_t i = 0; i < pos && text[i]; i++) {
		if (text[i] == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	snprintf(err->code, sizeof err->code, "Neo.ClientError.Statement.%s",
		 kind);
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof err->message, fmt, ap);
	va_end(ap);
	n = strlen(err->message);
	snprintf(err->message + n, sizeof err->message - n,
		 " (line %zu, column %zu (offset: %zu))", line, col, pos);
}

/* Parser state ----------------------------------------------------------- */

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

static const char *tok_text(struct parser *p, const struct lex_tok *t)
{
	return p->st->text + t->pos;
}

static bool is_punct(struct parser *p, size_t k, const char *s)
{
	const struct lex_tok *t = TOKAT(p, k);

	return t->kind == LEX_PUNCT && t->len == strlen(s) &&
	       memcmp(tok_text(p, t), s, t->len) == 0;
}

static bool is_kw(struct parser *p, size_t k, const char *kw)
{
	const struct lex_tok *t = TOKAT(p, k);

	return t->kind == LEX_IDENT && t->len == strlen(kw) &&
	       strncasecmp(tok_text(p, t), kw, t->len) == 0;
}

static void *fail(struct parser *p, const char *expected)
{
	const struct lex_tok *t = TOK(p);

	if (p->failed)
		return NULL;
	p->failed = true;
	p->rv = GRAFT_EINVAL;
	if (t->kind == LEX_END)
		cypher_error_at(p->err, "SyntaxError", p->st->text, t->pos,
				"Invalid input: expected %s but the query ended",
				expected);
	else
		cypher_error_at(p->err, "SyntaxError", p->st->text, t->pos,
				"Invalid input '%.*s': expected %s",
				(int)(t->len > 40 ? 40 : t->len),
				tok_text(p, t), expected);
	return NULL;
}

static void *oom(struct parser *p)
{
	if (!p->failed) {
		p->failed = true;
		p->rv = GRAFT_ENOMEM;
		cypher_error_set(p->err,
				 "Neo.TransientError.General.OutOfMemoryError",
				 "Out of memory while parsing the query");
	}
	return NULL;
}

static bool accept_p(struct parser *p, const char *s)
{
	if (is_punct(p, 0, s)) {
		p->i++;
		return true;
	}
	return false;
}

static bool accept_kw(struct parser *p, const char *kw)
{
	if (is_kw(p, 0, kw)) {
		p->i++;
		return true;
	}
	return false;
}

static bool expect(struct parser *p, const char *s)
{
	char what[32];

	if (accept_p(p, s))
		return true;
	snprintf(what, sizeof what, "'%s'", s);
	fail(p, what);
	return false;
}

static bool expect_kw(struct parser *p, const char *kw)
{
	if (accept_kw(p, kw))
		return true;
	fail(p, kw);
	return false;
}

static struct ast *node(struct parser *p, uint16_t kind)
{
	struct ast *a = arena_alloc(&p->st->arena, sizeof *a);

	if (a == NULL)
		return oom(p);
	a->kind = kind;
	a->pos = TOK(p)->pos;
	a->slot = a->slot2 = -1;
	a->min = a->max = -1;
	return a;
}

static bool add(struct parser *p, struct ast *parent, struct ast *kid)
{
	if (kid == NULL && p->failed)
		return false;
	if ((parent->n & (parent->n - 1)) == 0) {
		uint32_t cap = parent->n ? parent->n * 2 : 1;
		struct ast **k = arena_alloc(&p->st->arena, cap * sizeof *k);

		if (k == NULL) {
			oom(p);
			return false;
		}
		if (parent->n)
			memcpy(k, parent->kids, parent->n * sizeof *k);
		parent->kids = k;
	}
	parent->kids[parent->n++] = kid;
	return true;
}

/* item (, item)*: each added to owner. */
static bool comma_list(struct parser *p, struct ast *owner,
		       struct ast *(*item)(struct parser *p))
{
	do {
		if (!add(p, owner, item(p)))
			return false;
	} while (accept_p(p, ","));
	return true;
}

static void set_end(struct parser *p, struct ast *a)
{
	const struct lex_tok *t = &p->lx.toks[p->i ? p->i - 1 : 0];

	a->end = t->pos + t->len;
}

/* Names: identifiers and `quoted` ones. */
static const char *symbol(struct parser *p, const char *expected)
{
	const struct lex_tok *t = TOK(p);
	char *s;

	if (t->kind == LEX_IDENT) {
		s = arena_strndup(&p->st->arena, tok_text(p, t), t->len);
	} else if (t->kind == LEX_QIDENT) {
		const char *q = tok_text(p, t) + 1;
		size_t o = 0;

		s = arena_alloc(&p->st->arena, t->len);
		if (s == NULL)
			return oom(p);
		for (size_t i = 0; i + 2 < t->len; i++) {
			s[o++] = q[i];
			if (q[i] == '`')
				i++; /* `` inside quotes is one backtick */
		}
		s[o] = 0;
	} else {
		return fail(p, expected);
	}
	if (s == NULL)
		return oom(p);
	p->i++;
	return s;
}

static bool is_symbol(struct parser *p, size_t k)
{
	uint8_t kind = TOKAT(p, k)->kind;

	return kind == LEX_IDENT || kind == LEX_QIDENT;
}

static struct ast *name_node(struct parser *p, const char *expected)
{
	struct ast *a = node(p, AST_NAME);

	if (a != NULL)
		a->name = symbol(p, expected);
	return a && a->name ? a : NULL;
}

/* Literals ---------------------------------------------------------------- */

static bool own_literal(struct parser *p, struct ast *a)
{
	struct cypher_stmt *st = p->st;

	if (st->nlits == st->lits_cap) {
		size_t cap = st->lits_cap ? st->lits_cap * 2 : 16;
		struct ast **l = realloc(st->lits, cap * sizeof *l);

		if (l == NULL) {
			oom(p);
			return false;
		}
		st->lits = l;
		st->lits_cap = cap;
	}
	st->lits[st->nlits++] = a;
	return true;
}

static struct ast *string_lit(struct parser *p)
{
	const struct lex_tok *t = TOK(p);
	struct ast *a = node(p, AST_LIT);
	size_t bad, n;
	char *buf;

	if (a == NULL)
		return NULL;
	buf = malloc(t->len);
	if (buf == NULL)
		return oom(p);
	n = lex_unescape(tok_text(p, t) + 1, t->len - 2, buf, &bad);
	if (n == SIZE_MAX) {
		free(buf);
		p->failed = true;
		p->rv = GRAFT_EINVAL;
		cypher_error_at(p->err, "SyntaxError", p->st->text,
				t->pos + 1 + bad,
				"Invalid input: bad escape sequence in string");
		return NULL;
	}
	if (graft_value_string(&a->v, buf, n) != GRAFT_OK) {
		free(buf);
		return oom(p);
	}
	free(buf);
	if (!own_literal(p, a)) {
		graft_value_free(&a->v);
		return NULL;
	}
	p->i++;
	return a;
}

static struct ast *number_lit(struct parser *p, bool negate)
{
	const struct lex_tok *t = TOK(p);
	struct ast *a = node(p, AST_LIT);
	char *buf;
	size_t o = 0;

	if (a == NULL)
		return NULL;
	/* the whole literal: long ones are exact up to double precision */
	buf = arena_alloc(&p->st->arena, t->len + 2);
	if (buf == NULL)
		return oom(p);
	if (negate)
		buf[o++] = '-';
	for (size_t i = 0; i < t->len; i++)
		if (tok_text(p, t)[i] != '_')
			buf[o++] = tok_text(p, t)[i];
	buf[o] = 0;
	errno = 0;
	if (t->kind == LEX_FLOAT) {
		a->v = graft_value_float(strtod(buf, NULL));
		if (errno == ERANGE && (a->v.u.f > 1 || a->v.u.f < -1)) {
			p->failed = true;
			p->rv = GRAFT_EINVAL;
			cypher_error_at(p->err, "SyntaxError", p->st->text,
					t->pos,
					"floating point number is too large: %.40s",
					buf);
			return NULL;
		}
	} else if (t->len == 2 && tok_text(p, t)[0] == '0' &&
		   strchr("xXoO", tok_text(p, t)[1])) {
		p->failed = true;
		p->rv = GRAFT_EINVAL;
		cypher_error_at(p->err, "SyntaxError", p->st->text, t->pos,
				"Invalid input '%.2s': a hexadecimal or octal integer needs digits",
				tok_text(p, t));
		return NULL;
	} else {
		char *e;
		const char *digits = buf + negate;
		int base = 10;
		long long v;

		if (digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X'))
			base = 16, digits += 2;
		else if (digits[0] == '0' && (digits[1] == 'o' || digits[1] == 'O'))
			base = 8, digits += 2;
		v = strtoll(digits, &e, base);
		if (*e != 0 || errno == ERANGE) {
			/* -9223372036854775808 is the one literal whose
			 * positive part does not fit */
			unsigned long long u = strtoull(digits, &e, base);

			if (!(negate && *e == 0 && u == 9223372036854775808ull)) {
				p->failed = true;
				p->rv = GRAFT_EINVAL;
				cypher_error_at(p->err, "SyntaxError",
						p->st->text, t->pos,
						"integer is too large: %.40s",
						buf);
				return NULL;
			}
			a->v = graft_value_int(INT64_MIN);
		} else {
			a->v = graft_value_int(negate ? -v : v);
		}
	}
	p->i++;
	return a;
}

/* Expressions ----------------------------------------------------------- */

static struct ast *expr(struct parser *p);
static struct ast *path_pattern(struct parser *p);
static struct ast *pattern(struct parser *p);
static struct ast *statement_body(struct parser *p);
static struct ast *where_opt(struct parser *p);

static bool enter(struct parser *p)
{
	if (++p->depth > CYPHER_MAX_DEPTH) {
		p->depth--;
		if (!p->failed) {
			p->failed = true;
			p->rv = GRAFT_EINVAL;
			cypher_error_at(p->err, "SyntaxError", p->st->text,
					TOK(p)->pos,
					"The query nests more than %d levels deep; simplify it",
					CYPHER_MAX_DEPTH);
		}
		return false;
	}
	return true;
}

static struct ast *binary(struct parser *p, uint16_t kind, uint16_t op,
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
static struct ast *map_literal(struct parser *p);

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
static struct ast *keyword_paren(struct parser *p, uint16_t kind)
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
	a->name = arena_strndup(&p->st->arena, name, o);
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

static struct ast *atom(struct parser *p)
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
			a->name = arena_strndup(&p->st->arena,
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
static struct ast *label_list(struct parser *p, struct ast *owner)
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

static struct ast *postfix(struct parser *p)
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

static struct ast *expr(struct parser *p)
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

static struct ast *map_literal(struct parser *p)
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

/* Patterns -------------------------------------------------------------- */

static struct ast *properties_opt(struct parser *p, struct ast *owner)
{
	if (is_punct(p, 0, "{"))
		return add(p, owner, map_literal(p)) ? owner : NULL;
	if (is_punct(p, 0, "$")) {
		struct ast *a = atom(p);

		return add(p, owner, a) ? owner : NULL;
	}
	return owner;
}

static struct ast *node_pattern(struct parser *p)
{
	struct ast *a = node(p, AST_NODE_PAT), *labels;

	if (a == NULL || !expect(p, "("))
		return NULL;
	if (is_symbol(p, 0)) {
		a->name = symbol(p, "a variable");
		if (a->name == NULL)
			return NULL;
	}
	labels = node(p, AST_LIST_OF);
	if (labels == NULL || label_list(p, labels) == NULL ||
	    !add(p, a, labels))
		return NULL;
	if (properties_opt(p, a) == NULL)
		return NULL;
	if (a->n == 1)
		add(p, a, NULL);
	if (accept_kw(p, "WHERE")) {
		/* inline WHERE: kept as a third kid */
		if (!add(p, a, expr(p)))
			return NULL;
	}
	if (!expect(p, ")"))
		return NULL;
	return a;
}

static bool range_bound(struct parser *p, int64_t *out)
{
	if (TOK(p)->kind != LEX_INT)
		return false;
	*out = strtoll(tok_text(p, TOK(p)), NULL, 10);
	p->i++;
	return true;
}

static struct ast *rel_detail(struct parser *p, struct ast *a)
{
	struct ast *types = node(p, AST_LIST_OF);

	if (types == NULL)
		return NULL;
	if (is_symbol(p, 0)) {
		a->name = symbol(p, "a variable");
		if (a->name == NULL)
			return NULL;
	}
	if (accept_p(p, ":")) {
		do {
			accept_p(p, ":");
			if (!add(p, types, name_node(p, "a relationship type")))
				return NULL;
		} while (accept_p(p, "|"));
	}
	if (!add(p, a, types))
		return NULL;
	if (accept_p(p, "*")) {
		a->flags |= AST_F_VARLEN;
		if (range_bound(p, &a->min)) {
			if (!accept_p(p, ".."))
				a->max = a->min;
			else
				range_bound(p, &a->max);
		} else if (accept_p(p, "..")) {
			range_bound(p, &a->max);
		}
		if (a->min < 0)
			a->min = 1;
	}
	if (properties_opt(p, a) == NULL)
		return NULL;
	if (a->n == 1)
		add(p, a, NULL);
	if (accept_kw(p, "WHERE") && !add(p, a, expr(p)))
		return NULL;
	return expect(p, "]") ? a : NULL;
}

static struct ast *rel_pattern(struct parser *p)
{
	struct ast *a = node(p, AST_REL_PAT);
	bool left = false, right = false;

	if (a == NULL)
		return NULL;
	if (accept_p(p, "<-")) {
		left = true;
	} else if (!expect(p, "-")) {
		return NULL;
	}
	if (accept_p(p, "[")) {
		if (rel_detail(p, a) == NULL)
			return NULL;
	} else {
		struct ast *types = node(p, AST_LIST_OF);

		if (types == NULL || !add(p, a, types))
			return NULL;
		add(p, a, NULL);
	}
	if (accept_p(p, "->"))
		right = true;
	else if (!expect(p, "-"))
		return NULL;
	/* <--> is the same as -- */
	a->op = left == right ? AST_DIR_BOTH : left ? AST_DIR_IN : AST_DIR_OUT;
	return a;
}

static struct ast *path_pattern(struct parser *p)
{
	struct ast *a = node(p, AST_PATH);

	if (a == NULL || !enter(p))
		return NULL;
	if (is_symbol(p, 0) && is_punct(p, 1, "=")) {
		a->name = symbol(p, "a path variable");
		p->i++;
	}
	if (is_kw(p, 0, "shortestPath") || is_kw(p, 0, "allShortestPaths")) {
		p->depth--;
		return fail(p, "a pattern (shortestPath is not supported yet)");
	}
	if (!add(p, a, node_pattern(p))) {
		p->depth--;
		return NULL;
	}
	while (is_punct(p, 0, "-") || is_punct(p, 0, "<-")) {
		if (!add(p, a, rel_pattern(p)) || !add(p, a, node_pattern(p))) {
			p->depth--;
			return NULL;
		}
	}
	set_end(p, a);
	p->depth--;
	return a;
}

static struct ast *pattern(struct parser *p)
{
	struct ast *a = node(p, AST_PATTERN);

	if (a == NULL)
		return NULL;
	if (!comma_list(p, a, path_pattern))
		return NULL;
	return a;
}

/* Clauses --------------------------------------------------------------- */

static struct ast *where_opt(struct parser *p)
{
	if (!accept_kw(p, "WHERE"))
		return NULL;
	return expr(p);
}

static struct ast *clause(struct parser *p);

static struct ast *projection_item(struct parser *p)
{
	struct ast *it = node(p, AST_ITEM), *e;

	if (it == NULL)
		return NULL;
	e = expr(p);
	if (!add(p, it, e))
		return NULL;
	set_end(p, it); /* the item's text, parentheses included */
	if (accept_kw(p, "AS")) {
		it->name = symbol(p, "an alias");
		if (it->name == NULL)
			return NULL;
	}
	return it;
}

static struct ast *order_by(struct parser *p)
{
	struct ast *a = node(p, AST_LIST_OF);

	if (a == NULL || !expect_kw(p, "BY"))
		return NULL;
	do {
		struct ast *s = node(p, AST_SORT_ITEM);

		if (s == NULL || !add(p, s, expr(p)))
			return NULL;
		if (accept_kw(p, "DESC") || accept_kw(p, "DESCENDING"))
			s->flags |= AST_F_DESC;
		else if (!accept_kw(p, "ASC"))
			accept_kw(p, "ASCENDING");
		if (!add(p, a, s))
			return NULL;
	} while (accept_p(p, ","));
	return a;
}

/* WITH / RETURN: kids items, order, skip, limit, where (NULL when absent). */
static struct ast *projection(struct parser *p, uint16_t kind)
{
	struct ast *a = node(p, kind), *items;
	struct ast *order = NULL, *skip = NULL, *limit = NULL, *where = NULL;

	if (a == NULL)
		return NULL;
	p->i++;
	if (accept_kw(p, "DISTINCT"))
		a->flags |= AST_F_DISTINCT;
	items = node(p, AST_LIST_OF);
	if (items == NULL)
		return NULL;
	if (accept_p(p, "*")) {
		a->flags |= AST_F_STAR;
		if (!accept_p(p, ","))
			goto tail;
	}
	if (!comma_list(p, items, projection_item))
		return NULL;
tail:
	if (accept_kw(p, "ORDER") && (order = order_by(p)) == NULL)
		return NULL;
	if (accept_kw(p, "SKIP") || accept_kw(p, "OFFSET")) {
		a->flags |= AST_F_HAS_SKIP;
		if ((skip = expr(p)) == NULL)
			return NULL;
	}
	if (accept_kw(p, "LIMIT")) {
		a->flags |= AST_F_HAS_LIMIT;
		if ((limit = expr(p)) == NULL)
			return NULL;
	}
	if (kind == AST_WITH && accept_kw(p, "WHERE") &&
	    (where = expr(p)) == NULL)
		return NULL;
	add(p, a, items);
	add(p, a, order);
	add(p, a, skip);
	add(p, a, limit);
	add(p, a, where);
	return a;
}

static struct ast *set_item(struct parser *p)
{
	struct ast *target = postfix(p), *a;

	if (target == NULL)
		return NULL;
	if (target->kind == AST_LABEL_TEST) {
		target->kind = AST_SET_LABELS;
		return target;
	}
	if (target->kind == AST_PROP) {
		a = node(p, AST_SET_PROP);
		if (a == NULL || !add(p, a, target) || !expect(p, "="))
			return NULL;
	} else if (target->kind == AST_VAR) {
		a = node(p, AST_SET_ALL);
		if (a == NULL || !add(p, a, target))
			return NULL;
		if (accept_p(p, "+="))
			a->flags |= AST_F_MERGE;
		else if (!expect(p, "="))
			return NULL;
	} else {
		return fail(p, "a property, a variable or labels to set");
	}
	a->pos = target->pos;
	return add(p, a, expr(p)) ? a : NULL;
}

static struct ast *set_clause(struct parser *p)
{
	struct ast *a = node(p, AST_SET);

	if (a == NULL)
		return NULL;
	if (!comma_list(p, a, set_item))
		return NULL;
	return a;
}

static struct ast *remove_clause(struct parser *p)
{
	struct ast *a = node(p, AST_REMOVE);

	if (a == NULL)
		return NULL;
	p->i++;
	do {
		struct ast *t = postfix(p);

		if (t == NULL)
			return NULL;
		if (t->kind == AST_LABEL_TEST)
			t->kind = AST_REMOVE_LABELS;
		else if (t->kind == AST_PROP) {
			struct ast *r = node(p, AST_REMOVE_PROP);

			if (r == NULL || !add(p, r, t))
				return NULL;
			r->pos = t->pos;
			t = r;
		} else {
			return fail(p, "a property or labels to remove");
		}
		if (!add(p, a, t))
			return NULL;
	} while (accept_p(p, ","));
	return a;
}

static struct ast *merge_clause(struct parser *p)
{
	struct ast *a = node(p, AST_MERGE), *pat, *on_create = NULL,
		   *on_match = NULL;

	if (a == NULL)
		return NULL;
	p->i++;
	pat = node(p, AST_PATTERN);
	if (pat == NULL || !add(p, pat, path_pattern(p)) || !add(p, a, pat))
		return NULL;
	while (is_kw(p, 0, "ON")) {
		struct ast **slot;

		p->i++;
		if (accept_kw(p, "CREATE"))
			slot = &on_create;
		else if (accept_kw(p, "MATCH"))
			slot = &on_match;
		else
			return fail(p, "CREATE or MATCH after ON");
		if (!expect_kw(p, "SET"))
			return NULL;
		struct ast *s = set_clause(p);
		if (s == NULL)
			return NULL;
		if (*slot == NULL) {
			*slot = s;
		} else {
			for (uint32_t i = 0; i < s->n; i++)
				if (!add(p, *slot, s->kids[i]))
					return NULL;
		}
	}
	add(p, a, on_create);
	add(p, a, on_match);
	return a;
}

static struct ast *delete_clause(struct parser *p)
{
	struct ast *a = node(p, AST_DELETE);

	if (a == NULL)
		return NULL;
	if (accept_kw(p, "DETACH"))
		a->flags |= AST_F_DETACH;
	else
		accept_kw(p, "NODETACH");
	if (!expect_kw(p, "DELETE"))
		return NULL;
	if (!comma_list(p, a, expr))
		return NULL;
	return a;
}

static struct ast *foreach_clause(struct parser *p)
{
	struct ast *a = keyword_paren(p, AST_FOREACH);

	if (a == NULL)
		return NULL;
	a->name = symbol(p, "a variable");
	if (a->name == NULL || !expect_kw(p, "IN") || !add(p, a, expr(p)) ||
	    !expect(p, "|"))
		return NULL;
	do {
		if (!add(p, a, clause(p)))
			return NULL;
	} while (!is_punct(p, 0, ")") && TOK(p)->kind != LEX_END);
	return expect(p, ")") ? a : NULL;
}

static struct ast *procedure_name(struct parser *p, struct ast *a)
{
	char name[256];
	size_t o = 0;

	do {
		const char *s = symbol(p, "a procedure name");

		if (s == NULL)
			return NULL;
		o += (size_t)snprintf(name + o, sizeof name - o, "%s%s",
				      o ? "." : "", s);
		if (o >= sizeof name)
			return fail(p, "a shorter procedure name");
	} while (accept_p(p, "."));
	a->name = arena_strndup(&p->st->arena, name, o);
	return a->name ? a : oom(p);
}

static struct ast *yield_items(struct parser *p, struct ast *a)
{
	struct ast *items = node(p, AST_LIST_OF);

	if (items == NULL)
		return NULL;
	if (accept_p(p, "*")) {
		a->flags |= AST_F_STAR;
		return items;
	}
	do {
		struct ast *it = node(p, AST_ITEM), *v = node(p, AST_VAR);

		if (it == NULL || v == NULL)
			return NULL;
		v->name = symbol(p, "a field to yield");
		if (v->name == NULL || !add(p, it, v))
			return NULL;
		if (accept_kw(p, "AS")) {
			it->name = symbol(p, "an alias");
			if (it->name == NULL)
				return NULL;
		}
		if (!add(p, items, it))
			return NULL;
	} while (accept_p(p, ","));
	return items;
}

static struct ast *call_clause(struct parser *p)
{
	struct ast *a;

	p->i++;
	if (is_punct(p, 0, "{") || is_punct(p, 0, "(")) {
		a = node(p, AST_SUBQUERY);
		if (a == NULL)
			return NULL;
		if (accept_p(p, "(")) {
			/* CALL (x, y) { ... }: importing variables */
			struct ast *imports = node(p, AST_LIST_OF);

			if (imports == NULL)
				return NULL;
			if (!accept_p(p, "*")) {
				while (!is_punct(p, 0, ")")) {
					if (!add(p, imports,
						 name_node(p, "a variable")))
						return NULL;
					if (!accept_p(p, ","))
						break;
				}
			} else {
				a->flags |= AST_F_STAR;
			}
			if (!expect(p, ")"))
				return NULL;
			a->flags |= AST_F_EXPLICIT_ARGS;
			a->plan = imports;
		}
		if (!expect(p, "{") || !add(p, a, statement_body(p)) ||
		    !expect(p, "}"))
			return NULL;
		if (is_kw(p, 0, "IN") && is_kw(p, 1, "TRANSACTIONS"))
			return fail(p, "the end of CALL { } (IN TRANSACTIONS is not supported yet)");
		return a;
	}
	a = node(p, AST_CALL);
	if (a == NULL || procedure_name(p, a) == NULL)
		return NULL;
	if (accept_p(p, "(")) {
		struct ast *args = node(p, AST_LIST_OF);

		if (args == NULL)
			return NULL;
		if (!accept_p(p, ")")) {
			if (!comma_list(p, args, expr))
				return NULL;
			if (!expect(p, ")"))
				return NULL;
		}
		add(p, a, args);
	} else {
		add(p, a, NULL);
	}
	if (accept_kw(p, "YIELD")) {
		if (!add(p, a, yield_items(p, a)))
			return NULL;
		add(p, a, where_opt(p));
	} else {
		add(p, a, NULL);
		add(p, a, NULL);
	}
	return p->failed ? NULL : a;
}

static struct ast *clause(struct parser *p)
{
	struct ast *a;

	if (!enter(p))
		return NULL;
	if (is_kw(p, 0, "MATCH") || is_kw(p, 0, "OPTIONAL")) {
		a = node(p, AST_MATCH);
		if (a && accept_kw(p, "OPTIONAL"))
			a->flags |= AST_F_OPTIONAL;
		if (a && (!expect_kw(p, "MATCH") || !add(p, a, pattern(p))))
			a = NULL;
		if (a)
			add(p, a, where_opt(p));
	} else if (is_kw(p, 0, "UNWIND")) {
		a = node(p, AST_UNWIND);
		p->i++;
		if (a && (!add(p, a, expr(p)) || !expect_kw(p, "AS") ||
			  (a->name = symbol(p, "a variable")) == NULL))
			a = NULL;
	} else if (is_kw(p, 0, "WITH")) {
		a = projection(p, AST_WITH);
	} else if (is_kw(p, 0, "RETURN")) {
		a = projection(p, AST_RETURN);
	} else if (is_kw(p, 0, "CREATE")) {
		a = node(p, AST_CREATE);
		p->i++;
		if (a && !add(p, a, pattern(p)))
			a = NULL;
	} else if (is_kw(p, 0, "MERGE")) {
		a = merge_clause(p);
	} else if (is_kw(p, 0, "SET")) {
		p->i++;
		a = set_clause(p);
	} else if (is_kw(p, 0, "REMOVE")) {
		a = remove_clause(p);
	} else if (is_kw(p, 0, "DELETE") || is_kw(p, 0, "DETACH") ||
		   is_kw(p, 0, "NODETACH")) {
		a = delete_clause(p);
	} else if (is_kw(p, 0, "FOREACH")) {
		a = foreach_clause(p);
	} else if (is_kw(p, 0, "CALL")) {
		a = call_clause(p);
	} else if (is_kw(p, 0, "USE")) {
		a = node(p, AST_USE);
		p->i++;
		if (a) {
			char name[256];
			size_t o = 0;

			do {
				const char *s = symbol(p, "a database name");

				if (s == NULL)
					break;
				o += (size_t)snprintf(name + o, sizeof name - o,
						      "%s%s", o ? "." : "", s);
			} while (o < sizeof name && accept_p(p, "."));
			a->name = p->failed ? NULL
					    : arena_strndup(&p->st->arena,
							    name, o);
			if (a->name == NULL)
				a = NULL;
		}
	} else if (is_kw(p, 0, "LOAD")) {
		a = fail(p, "a clause (LOAD CSV is not supported yet)");
	} else {
		a = fail(p, "a clause: MATCH, OPTIONAL MATCH, WITH, RETURN, UNWIND, CREATE, MERGE, SET, REMOVE, DELETE, DETACH DELETE, FOREACH, CALL or USE");
	}
	p->depth--;
	return p->failed ? NULL : a;
}

static bool ends_single(struct parser *p)
{
	return TOK(p)->kind == LEX_END || is_punct(p, 0, ";") ||
	       is_punct(p, 0, "}") || is_kw(p, 0, "UNION");
}

static struct ast *single_query(struct parser *p)
{
	struct ast *a = node(p, AST_SINGLE);

	if (a == NULL)
		return NULL;
	do {
		if (!add(p, a, clause(p)))
			return NULL;
	} while (!ends_single(p));
	return a;
}

static struct ast *statement_body(struct parser *p)
{
	struct ast *a = single_query(p);

	if (!enter(p))
		return NULL;
	int kind = -1; /* UNION and UNION ALL do not mix */

	while (a != NULL && is_kw(p, 0, "UNION")) {
		uint16_t flags = 0;

		p->i++;
		if (accept_kw(p, "ALL"))
			flags = AST_F_ALL;
		else
			accept_kw(p, "DISTINCT");
		if (kind >= 0 && kind != flags) {
			p->depth--;
			return fail(p, "the same kind of UNION throughout (UNION and UNION ALL cannot be mixed)");
		}
		kind = flags;
		a = binary(p, AST_UNION, 0, a, single_query(p));
		if (a)
			a->flags |= flags;
	}
	p->depth--;
	return a;
}

/* Administration --------------------------------------------------------- */

#include "parse_admin.inc"

static struct ast *statement(struct parser *p)
{
	struct ast *a;

	if (is_kw(p, 0, "EXPLAIN") || is_kw(p, 0, "PROFILE")) {
		a = node(p, AST_EXPLAIN);
		if (a == NULL)
			return NULL;
		if (is_kw(p, 0, "PROFILE"))
			a->flags |= AST_F_PROFILE;
		p->i++;
		if (!add(p, a, statement_body(p)))
			return NULL;
		return a;
	}
	a = admin_statement(p);
	if (a != NULL || p->failed)
		return a;
	return statement_body(p);
}

int cypher_parse(const char *query, size_t len, struct cypher_stmt **out,
		 struct cypher_error *err)
{
	struct parser p = {.err = err};
	struct cypher_stmt *st = calloc(1, sizeof *st);
	size_t bad;
	int rv;

	if (st == NULL || (st->text = malloc(len + 1)) == NULL) {
		free(st);
		return cypher_error_set(err, "Neo.TransientError.General.OutOfMemoryError",
					"Out of memory while parsing the query");
	}
	memcpy(st->text, query, len);
	st->text[len] = 0;
	st->len = len;
	p.st = st;
	rv = lex_run(&p.lx, st->text, len, &bad);
	if (rv == GRAFT_EINVAL) {
		cypher_error_at(err, "SyntaxError", st->text, bad,
				"Invalid input '%c': unterminated string, comment or quoted name, or a character Cypher does not use",
				st->text[bad]);
		goto err;
	}
	if (rv != GRAFT_OK) {
		cypher_error_set(err, "Neo.TransientError.General.OutOfMemoryError",
				 "Out of memory while parsing the query");
		goto err;
	}
	if (TOK(&p)->kind == LEX_END) {
		cypher_error_at(err, "SyntaxError", st->text, 0,
				"Invalid input: the query is empty");
		rv = GRAFT_EINVAL;
		goto err;
	}
	st->root = statement(&p);
	accept_p(&p, ";");
	if (st->root != NULL && TOK(&p)->kind != LEX_END)
		fail(&p, "the end of the query (one statement at a time)");
	if (p.failed || st->root == NULL) {
		rv = p.rv ? p.rv : GRAFT_EINVAL;
		goto err;
	}
	lex_free(&p.lx);
	*out = st;
	return GRAFT_OK;
err:
	lex_free(&p.lx);
	cypher_stmt_free(st);
	return rv ? rv : GRAFT_EINVAL;
}

void cypher_stmt_free(struct cypher_stmt *st)
{
	if (st == NULL)
		return;
	for (size_t i = 0; i < st->nlits; i++)
		graft_value_free(&st->lits[i]->v);
	free(st->lits);
	arena_free(&st->arena);
	free(st->text);
	free(st);
}
