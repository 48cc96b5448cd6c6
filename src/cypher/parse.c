#include "parse.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parser_int.h"
#include "redact.h"

/* Errors ---------------------------------------------------------------- */

void cypher_error_at(struct cypher_error *err, enum graft_status status,
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
	va_start(ap, fmt);
	cypher_error_vset(err, status, fmt, ap);
	va_end(ap);
	n = strlen(err->message);
	snprintf(err->message + n, sizeof err->message - n,
		 " (line %zu, column %zu (offset: %zu))", line, col, pos);
}

/* Parser state ----------------------------------------------------------- */

const char *parser_tok_text(struct parser *p, const struct lex_tok *t)
{
	return p->st->text + t->pos;
}

bool parser_is_punct(struct parser *p, size_t k, const char *s)
{
	const struct lex_tok *t = TOKAT(p, k);

	return t->kind == LEX_PUNCT && t->len == strlen(s) &&
	       memcmp(parser_tok_text(p, t), s, t->len) == 0;
}

bool parser_is_kw(struct parser *p, size_t k, const char *kw)
{
	const struct lex_tok *t = TOKAT(p, k);

	return t->kind == LEX_IDENT && t->len == strlen(kw) &&
	       strncasecmp(parser_tok_text(p, t), kw, t->len) == 0;
}

void *parser_fail(struct parser *p, const char *expected)
{
	const struct lex_tok *t = TOK(p);

	if (p->failed)
		return NULL;
	p->failed = true;
	p->rv = GRAFT_EINVAL;
	if (t->kind == LEX_END)
		cypher_error_at(p->err, GRAFT_STATUS_SYNTAX_ERROR, p->st->text, t->pos,
				"Invalid input: expected %s but the query ended",
				expected);
	else if (redact_token_secret(&p->lx, p->st->text, p->i))
		cypher_error_at(p->err, GRAFT_STATUS_SYNTAX_ERROR, p->st->text, t->pos,
				"Invalid input " REDACTED ": expected %s",
				expected);
	else
		cypher_error_at(p->err, GRAFT_STATUS_SYNTAX_ERROR, p->st->text, t->pos,
				"Invalid input '%.*s': expected %s",
				(int)(t->len > 40 ? 40 : t->len),
				parser_tok_text(p, t), expected);
	return NULL;
}

void *parser_oom(struct parser *p)
{
	if (!p->failed) {
		p->failed = true;
		p->rv = GRAFT_ENOMEM;
		cypher_error_set(p->err,
				 GRAFT_STATUS_OUT_OF_MEMORY,
				 "Out of memory while parsing the query");
	}
	return NULL;
}

bool parser_accept_punct(struct parser *p, const char *s)
{
	if (parser_is_punct(p, 0, s)) {
		p->i++;
		return true;
	}
	return false;
}

bool parser_accept_kw(struct parser *p, const char *kw)
{
	if (parser_is_kw(p, 0, kw)) {
		p->i++;
		return true;
	}
	return false;
}

bool parser_expect(struct parser *p, const char *s)
{
	char what[32];

	if (parser_accept_punct(p, s))
		return true;
	snprintf(what, sizeof what, "'%s'", s);
	parser_fail(p, what);
	return false;
}

bool parser_expect_kw(struct parser *p, const char *kw)
{
	if (parser_accept_kw(p, kw))
		return true;
	parser_fail(p, kw);
	return false;
}

struct ast *parser_node(struct parser *p, uint16_t kind)
{
	struct ast *a = ast_arena_alloc(&p->st->arena, sizeof *a);

	if (a == NULL)
		return parser_oom(p);
	a->kind = kind;
	a->pos = TOK(p)->pos;
	a->slot = a->slot2 = -1;
	a->min = a->max = -1;
	return a;
}

bool parser_add(struct parser *p, struct ast *parent, struct ast *kid)
{
	if (kid == NULL && p->failed)
		return false;
	if ((parent->n & (parent->n - 1)) == 0) {
		uint32_t cap = parent->n ? parent->n * 2 : 1;
		struct ast **k = ast_arena_alloc(&p->st->arena, cap * sizeof *k);

		if (k == NULL) {
			parser_oom(p);
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
bool parser_comma_list(struct parser *p, struct ast *owner,
		struct ast *(*item)(struct parser *p))
{
	do {
		if (!parser_add(p, owner, item(p)))
			return false;
	} while (parser_accept_punct(p, ","));
	return true;
}

void parser_set_end(struct parser *p, struct ast *a)
{
	const struct lex_tok *t = &p->lx.toks[p->i ? p->i - 1 : 0];

	a->end = t->pos + t->len;
}

/* Names: identifiers and `quoted` ones. */
const char *parser_symbol(struct parser *p, const char *expected)
{
	const struct lex_tok *t = TOK(p);
	char *s;

	if (t->kind == LEX_IDENT) {
		s = ast_arena_strndup(&p->st->arena, parser_tok_text(p, t), t->len);
	} else if (t->kind == LEX_QIDENT) {
		const char *q = parser_tok_text(p, t) + 1;
		size_t o = 0;

		/* Names are C strings below the parser: a NUL would cut
		 * `bob\0evil` to bob. */
		if (memchr(q, '\0', t->len - 2) != NULL)
			return parser_fail(p, "a name without the NUL character");
		s = ast_arena_alloc(&p->st->arena, t->len);
		if (s == NULL)
			return parser_oom(p);
		for (size_t i = 0; i + 2 < t->len; i++) {
			s[o++] = q[i];
			if (q[i] == '`')
				i++; /* `` inside quotes is one backtick */
		}
		s[o] = 0;
	} else {
		return parser_fail(p, expected);
	}
	if (s == NULL)
		return parser_oom(p);
	p->i++;
	return s;
}

bool parser_is_symbol(struct parser *p, size_t k)
{
	uint8_t kind = TOKAT(p, k)->kind;

	return kind == LEX_IDENT || kind == LEX_QIDENT;
}

struct ast *parser_name_node(struct parser *p, const char *expected)
{
	struct ast *a = parser_node(p, AST_NAME);

	if (a != NULL)
		a->name = parser_symbol(p, expected);
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
			parser_oom(p);
			return false;
		}
		st->lits = l;
		st->lits_cap = cap;
	}
	st->lits[st->nlits++] = a;
	return true;
}

struct ast *parser_string_lit(struct parser *p)
{
	const struct lex_tok *t = TOK(p);
	struct ast *a = parser_node(p, AST_LIT);
	size_t bad, n;
	char *buf;

	if (a == NULL)
		return NULL;
	buf = malloc(t->len);
	if (buf == NULL)
		return parser_oom(p);
	n = lex_unescape(parser_tok_text(p, t) + 1, t->len - 2, buf, &bad);
	if (n == SIZE_MAX) {
		free(buf);
		p->failed = true;
		p->rv = GRAFT_EINVAL;
		cypher_error_at(p->err, GRAFT_STATUS_SYNTAX_ERROR, p->st->text,
				t->pos + 1 + bad,
				"Invalid input: bad escape sequence in string");
		return NULL;
	}
	if (graft_value_string(&a->v, buf, n) != GRAFT_OK) {
		free(buf);
		return parser_oom(p);
	}
	free(buf);
	if (!own_literal(p, a)) {
		graft_value_free(&a->v);
		return NULL;
	}
	p->i++;
	return a;
}

struct ast *parser_number_lit(struct parser *p, bool negate)
{
	const struct lex_tok *t = TOK(p);
	struct ast *a = parser_node(p, AST_LIT);
	char *buf;
	size_t o = 0;

	if (a == NULL)
		return NULL;
	/* the whole literal: long ones are exact up to double precision */
	buf = ast_arena_alloc(&p->st->arena, t->len + 2);
	if (buf == NULL)
		return parser_oom(p);
	if (negate)
		buf[o++] = '-';
	for (size_t i = 0; i < t->len; i++)
		if (parser_tok_text(p, t)[i] != '_')
			buf[o++] = parser_tok_text(p, t)[i];
	buf[o] = 0;
	errno = 0;
	if (t->kind == LEX_FLOAT) {
		a->v = graft_value_float(strtod(buf, NULL));
		if (errno == ERANGE && (a->v.u.f > 1 || a->v.u.f < -1)) {
			p->failed = true;
			p->rv = GRAFT_EINVAL;
			cypher_error_at(p->err, GRAFT_STATUS_SYNTAX_ERROR, p->st->text,
					t->pos,
					"floating point number is too large: %.40s",
					buf);
			return NULL;
		}
	} else if (t->len == 2 && parser_tok_text(p, t)[0] == '0' &&
		   strchr("xXoO", parser_tok_text(p, t)[1])) {
		p->failed = true;
		p->rv = GRAFT_EINVAL;
		cypher_error_at(p->err, GRAFT_STATUS_SYNTAX_ERROR, p->st->text, t->pos,
				"Invalid input '%.2s': a hexadecimal or octal integer needs digits",
				parser_tok_text(p, t));
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
				cypher_error_at(p->err, GRAFT_STATUS_SYNTAX_ERROR,
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

/* Statements ------------------------------------------------------------- */

static struct ast *statement(struct parser *p)
{
	struct ast *a;

	if (parser_is_kw(p, 0, "EXPLAIN") || parser_is_kw(p, 0, "PROFILE")) {
		a = parser_node(p, AST_EXPLAIN);
		if (a == NULL)
			return NULL;
		if (parser_is_kw(p, 0, "PROFILE"))
			a->flags |= AST_F_PROFILE;
		p->i++;
		if (!parser_add(p, a, parser_statement_body(p)))
			return NULL;
		return a;
	}
	a = parser_admin_statement(p);
	if (a != NULL || p->failed)
		return a;
	return parser_statement_body(p);
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
		return cypher_error_set(err, GRAFT_STATUS_OUT_OF_MEMORY,
					"Out of memory while parsing the query");
	}
	memcpy(st->text, query, len);
	st->text[len] = 0;
	st->len = len;
	p.st = st;
	rv = lex_run(&p.lx, st->text, len, &bad);
	if (rv == GRAFT_EINVAL) {
		cypher_error_at(err, GRAFT_STATUS_SYNTAX_ERROR, st->text, bad,
				"Invalid input '%c': unterminated string, comment or quoted name, or a character Cypher does not use",
				st->text[bad]);
		goto err;
	}
	if (rv != GRAFT_OK) {
		cypher_error_set(err, GRAFT_STATUS_OUT_OF_MEMORY,
				 "Out of memory while parsing the query");
		goto err;
	}
	if (TOK(&p)->kind == LEX_END) {
		cypher_error_at(err, GRAFT_STATUS_SYNTAX_ERROR, st->text, 0,
				"Invalid input: the query is empty");
		rv = GRAFT_EINVAL;
		goto err;
	}
	st->root = statement(&p);
	parser_accept_punct(&p, ";");
	if (st->root != NULL && TOK(&p)->kind != LEX_END)
		parser_fail(&p, "the end of the query (one statement at a time)");
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
	ast_arena_free(&st->arena);
	free(st->text);
	free(st);
}
