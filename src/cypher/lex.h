/* The Cypher tokenizer: splits query text into identifiers, literals and
 * punctuation with byte offsets, so the parser can name the line and column
 * of anything it rejects. Keywords are identifiers the parser recognises. */
#ifndef GRAFT_CYPHER_LEX_H
#define GRAFT_CYPHER_LEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum lex_kind { LEX_END, LEX_IDENT, LEX_QIDENT, LEX_INT, LEX_FLOAT,
		LEX_STRING, LEX_PUNCT };

struct lex_tok {
	uint8_t kind;
	uint32_t pos;
	uint32_t len;
};

struct lex {
	struct lex_tok *toks;
	size_t n, cap;
};

/* Tokenizes s; on a bad character or an unterminated string or comment
 * returns GRAFT_EINVAL with *bad set to its offset. Ends with LEX_END. */
int lex_run(struct lex *lx, const char *s, size_t len, size_t *bad);
void lex_free(struct lex *lx);
/* Decodes a string literal's body (without quotes) into out (at least len
 * bytes). Returns the decoded length, or SIZE_MAX with *bad at a bad
 * escape. */
size_t lex_unescape(const char *s, size_t len, char *out, size_t *bad);

#endif
