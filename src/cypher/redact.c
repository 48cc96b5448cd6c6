#include "redact.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "../util/err.h"

static bool is_word(const struct lex *lx, const char *text, size_t i,
		    const char *w)
{
	const struct lex_tok *t = &lx->toks[i];

	return t->kind == LEX_IDENT && t->len == strlen(w) &&
	       strncasecmp(text + t->pos, w, t->len) == 0;
}

/* The statement has the keywords USER and PASSWORD (as identifiers, not
 * inside strings). O(tokens). */
static bool user_statement(const struct lex *lx, const char *text)
{
	bool user = false, password = false;

	for (size_t i = 0; i < lx->n; i++) {
		user = user || is_word(lx, text, i, "USER");
		password = password || is_word(lx, text, i, "PASSWORD");
	}
	return user && password;
}

static bool after_secret_keyword(const struct lex *lx, const char *text,
				 size_t i)
{
	return i > 0 && (is_word(lx, text, i - 1, "PASSWORD") ||
			 is_word(lx, text, i - 1, "FROM") ||
			 is_word(lx, text, i - 1, "TO"));
}

bool redact_token_secret(const struct lex *lx, const char *text, size_t i)
{
	return i < lx->n && lx->toks[i].kind != LEX_END &&
	       after_secret_keyword(lx, text, i) && user_statement(lx, text);
}

/* Appends n bytes of s to out (cap bytes) at *o, as far as they fit. */
static void put(char *out, size_t cap, size_t *o, const char *s, size_t n)
{
	size_t room = cap - 1 - *o;

	if (n > room)
		n = room;
	memcpy(out + *o, s, n);
	*o += n;
}

/* Whether the word PASSWORD appears in any case in q's first n bytes:
 * without it no token can be the keyword, and nothing is secret. */
static bool names_password(const char *q, size_t n)
{
	static const char w[] = "password";
	const size_t wl = sizeof w - 1;

	for (size_t i = 0; i + wl <= n; i++)
		if ((q[i] | 0x20) == 'p' && strncasecmp(q + i, w, wl) == 0)
			return true;
	return false;
}

size_t redact_query(const char *query, size_t len, char *out, size_t cap)
{
	struct lex lx = {0};
	size_t bad = SIZE_MAX, from = 0, o = 0;
	bool user;
	int rv;

	/* every statement passes here: most are not about users, and
	 * lexing them again cost 6 % of a point read */
	if (!names_password(query, len < cap ? len : cap)) {
		put(out, cap, &o, query, len);
		out[o] = '\0';
		return o;
	}
	/* Only what fits is lexed: a string cut at the end counts as
	 * unterminated, and is redacted as such. */
	rv = lex_run(&lx, query, len < cap ? len : cap, &bad);

	user = (rv == GRAFT_OK || rv == GRAFT_EINVAL) &&
	       user_statement(&lx, query);
	if (rv != GRAFT_OK && rv != GRAFT_EINVAL) {
		/* out of memory: show nothing rather than a secret */
		lx.n = 0;
		bad = 0;
		user = true;
	}
	for (size_t i = 0; user && i < lx.n; i++) {
		const struct lex_tok *t = &lx.toks[i];

		if (t->kind != LEX_STRING || !after_secret_keyword(&lx, query, i))
			continue;
		put(out, cap, &o, query + from, t->pos - from);
		put(out, cap, &o, REDACTED, strlen(REDACTED));
		from = t->pos + t->len;
	}
	if (user && bad != SIZE_MAX && bad >= from) {
		put(out, cap, &o, query + from, bad - from);
		put(out, cap, &o, REDACTED, strlen(REDACTED));
		from = len;
	}
	put(out, cap, &o, query + from, len - from);
	out[o] = '\0';
	lex_free(&lx);
	return o;
}
