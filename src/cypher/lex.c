#include "lex.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../util/err.h"

static bool ident_start(unsigned char c)
{
	return isalpha(c) || c == '_' || c >= 0x80;
}

static bool ident_char(unsigned char c)
{
	return isalnum(c) || c == '_' || c >= 0x80;
}

static int push(struct lex *lx, struct lex_tok t)
{
	if (lx->n == lx->cap) {
		size_t cap = lx->cap ? lx->cap * 2 : 64;
		struct lex_tok *p = realloc(lx->toks, cap * sizeof *p);

		if (p == NULL)
			return GRAFT_ENOMEM;
		lx->toks = p;
		lx->cap = cap;
	}
	lx->toks[lx->n++] = t;
	return GRAFT_OK;
}

static size_t skip_space(const char *s, size_t len, size_t i, size_t *bad)
{
	for (;;) {
		while (i < len && isspace((unsigned char)s[i]))
			i++;
		if (i + 1 < len && s[i] == '/' && s[i + 1] == '/') {
			while (i < len && s[i] != '\n')
				i++;
		} else if (i + 1 < len && s[i] == '/' && s[i + 1] == '*') {
			const char *e = NULL;

			for (size_t j = i + 2; j + 1 < len; j++)
				if (s[j] == '*' && s[j + 1] == '/') {
					e = s + j;
					break;
				}
			if (e == NULL) {
				*bad = i;
				return len;
			}
			i = (size_t)(e - s) + 2;
		} else {
			return i;
		}
	}
}

static size_t scan_number(const char *s, size_t len, size_t i, uint8_t *kind)
{
	size_t j = i;

	*kind = LEX_INT;
	if (s[j] == '0' && j + 1 < len && strchr("xXoO", s[j + 1])) {
		j += 2;
		while (j < len && isxdigit((unsigned char)s[j]))
			j++;
		return j;
	}
	while (j < len && (isdigit((unsigned char)s[j]) || s[j] == '_'))
		j++;
	if (j + 1 < len && s[j] == '.' && isdigit((unsigned char)s[j + 1])) {
		*kind = LEX_FLOAT;
		j++;
		while (j < len && isdigit((unsigned char)s[j]))
			j++;
	}
	if (j < len && (s[j] == 'e' || s[j] == 'E')) {
		size_t k = j + 1;

		if (k < len && (s[k] == '+' || s[k] == '-'))
			k++;
		if (k < len && isdigit((unsigned char)s[k])) {
			*kind = LEX_FLOAT;
			j = k;
			while (j < len && isdigit((unsigned char)s[j]))
				j++;
		}
	}
	return j;
}

static size_t scan_string(const char *s, size_t len, size_t i)
{
	char q = s[i];

	for (size_t j = i + 1; j < len; j++) {
		if (s[j] == '\\')
			j++;
		else if (s[j] == q)
			return j + 1;
	}
	return 0;
}

/* Two- and three-character operators first, then single characters. */
static size_t scan_punct(const char *s, size_t len, size_t i)
{
	static const char *const ops[] = {"<>", "!=", "<=", ">=", "=~", "+=",
					  "..", "->", "<-", NULL};

	for (size_t k = 0; ops[k] != NULL; k++)
		if (i + 1 < len && s[i] == ops[k][0] && s[i + 1] == ops[k][1])
			return 2;
	return strchr("()[]{},.:;|+-*/%^=<>$!&", s[i]) && s[i] ? 1 : 0;
}

int lex_run(struct lex *lx, const char *s, size_t len, size_t *bad)
{
	size_t i = 0;

	for (;;) {
		struct lex_tok t = {0};
		size_t j;

		*bad = SIZE_MAX;
		i = skip_space(s, len, i, bad);
		if (*bad != SIZE_MAX)
			return GRAFT_EINVAL;
		t.pos = (uint32_t)i;
		if (i >= len) {
			t.kind = LEX_END;
			return push(lx, t);
		}
		unsigned char c = (unsigned char)s[i];
		if (ident_start(c)) {
			j = i;
			while (j < len && ident_char((unsigned char)s[j]))
				j++;
			t.kind = LEX_IDENT;
		} else if (c == '`') {
			j = i + 1;
			while (j < len && !(s[j] == '`' &&
					    !(j + 1 < len && s[j + 1] == '`')))
				j += (s[j] == '`') ? 2 : 1;
			if (j >= len) {
				*bad = i;
				return GRAFT_EINVAL;
			}
			j++;
			t.kind = LEX_QIDENT;
		} else if (isdigit(c) ||
			   (c == '.' && i + 1 < len &&
			    isdigit((unsigned char)s[i + 1]))) {
			j = scan_number(s, len, i, &t.kind);
			if (c == '.')
				t.kind = LEX_FLOAT;
			if (j < len && ident_char((unsigned char)s[j])) {
				*bad = i;
				return GRAFT_EINVAL;
			}
		} else if (c == '\'' || c == '"') {
			j = scan_string(s, len, i);
			if (j == 0) {
				*bad = i;
				return GRAFT_EINVAL;
			}
			t.kind = LEX_STRING;
		} else {
			size_t n = scan_punct(s, len, i);

			if (n == 0) {
				*bad = i;
				return GRAFT_EINVAL;
			}
			j = i + n;
			t.kind = LEX_PUNCT;
		}
		t.len = (uint32_t)(j - i);
		if (push(lx, t) != GRAFT_OK)
			return GRAFT_ENOMEM;
		i = j;
	}
}

void lex_free(struct lex *lx)
{
	free(lx->toks);
	lx->toks = NULL;
	lx->n = lx->cap = 0;
}

static int utf8_put(char *out, uint32_t cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xC0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xE0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		out[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	out[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

static int unicode_escape(const char *s, size_t n, uint32_t *cp)
{
	char hex[9];

	if (n > 8)
		return -1;
	for (size_t k = 0; k < n; k++)
		if (!isxdigit((unsigned char)s[k]))
			return -1;
	memcpy(hex, s, n);
	hex[n] = 0;
	*cp = (uint32_t)strtoul(hex, NULL, 16);
	return *cp > 0x10FFFF ? -1 : 0;
}

static bool is_surrogate(uint32_t cp, uint32_t first)
{
	return cp >= first && cp <= first + 0x3FF;
}

/* The code point of the escape at s[i] ('u' or 'U'), and how many input
 * bytes after s[i] it used. Cypher's \u counts UTF-16 units, as Java and
 * JavaScript do, so "\uD83D\uDE00" is one character (U+1F600); half of
 * such a pair alone is no character at all: an error, never bytes that are
 * not UTF-8. */
static int escape_code_point(const char *s, size_t len, size_t i,
			     uint32_t *cp, size_t *used)
{
	size_t n = s[i] == 'u' ? 4 : 8;
	uint32_t low;

	if (i + n >= len || unicode_escape(s + i + 1, n, cp))
		return -1;
	*used = n;
	if (n == 8 || !is_surrogate(*cp, 0xD800))
		return is_surrogate(*cp, 0xD800) || is_surrogate(*cp, 0xDC00)
			       ? -1
			       : 0;
	if (i + 10 >= len || s[i + 5] != '\\' || s[i + 6] != 'u' ||
	    unicode_escape(s + i + 7, 4, &low) || !is_surrogate(low, 0xDC00))
		return -1;
	*cp = 0x10000 + ((*cp - 0xD800) << 10) + (low - 0xDC00);
	*used = 10;
	return 0;
}

size_t lex_unescape(const char *s, size_t len, char *out, size_t *bad)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		uint32_t cp;
		size_t n;

		if (s[i] != '\\') {
			out[o++] = s[i];
			continue;
		}
		if (++i >= len) {
			*bad = i - 1;
			return SIZE_MAX;
		}
		switch (s[i]) {
		case 't': out[o++] = '\t'; break;
		case 'b': out[o++] = '\b'; break;
		case 'n': out[o++] = '\n'; break;
		case 'r': out[o++] = '\r'; break;
		case 'f': out[o++] = '\f'; break;
		case '\'': case '"': case '\\': out[o++] = s[i]; break;
		case 'u':
		case 'U':
			if (escape_code_point(s, len, i, &cp, &n) < 0) {
				*bad = i - 1;
				return SIZE_MAX;
			}
			o += (size_t)utf8_put(out + o, cp);
			i += n;
			break;
		default:
			*bad = i - 1;
			return SIZE_MAX;
		}
	}
	return o;
}
