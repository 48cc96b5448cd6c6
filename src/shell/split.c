#include "split.h"

#include <ctype.h>
#include <string.h>

#include "../util/err.h"

enum {
	ST_CODE,
	ST_SINGLE,  /* '…' */
	ST_DOUBLE,  /* "…" */
	ST_BACKTICK,
	ST_LINE_COMMENT,
	ST_BLOCK_COMMENT,
};

void split_init(struct split *s)
{
	graft_buf_init(&s->text);
	s->state = ST_CODE;
	s->escape = false;
}

void split_free(struct split *s)
{
	graft_buf_free(&s->text);
}

static size_t step(struct split *s, char c, char next);

/* Whether p holds anything but blanks and comments. */
static bool meaningful(const char *p, size_t len)
{
	struct split s = {.state = ST_CODE};
	size_t i = 0;
	int before;

	while (i < len) {
		before = s.state;
		if (before == ST_CODE && !isspace((unsigned char)p[i]) &&
		    !(p[i] == '/' && i + 1 < len &&
		      (p[i + 1] == '/' || p[i + 1] == '*')))
			return true;
		i += step(&s, p[i], i + 1 < len ? p[i + 1] : 0);
	}
	return false;
}

bool split_pending(const struct split *s)
{
	return s->state != ST_CODE ||
	       meaningful((const char *)s->text.data, s->text.len);
}

/* Hands over text trimmed, unless it is only blanks and comments. */
static int emit(enum split_kind kind, const char *p, size_t len, split_fn fn,
		void *arg)
{
	while (len > 0 && isspace((unsigned char)*p)) {
		p++;
		len--;
	}
	while (len > 0 && isspace((unsigned char)p[len - 1]))
		len--;
	return meaningful(p, len) ? fn(arg, kind, p, len) : 0;
}

/* Moves the lexical state over c (next is the character after it, or 0);
 * returns how many characters it consumed (2 for a comment's delimiters). */
static size_t step(struct split *s, char c, char next)
{
	switch (s->state) {
	case ST_CODE:
		if (c == '\'')
			s->state = ST_SINGLE;
		else if (c == '"')
			s->state = ST_DOUBLE;
		else if (c == '`')
			s->state = ST_BACKTICK;
		else if (c == '/' && next == '/')
			s->state = ST_LINE_COMMENT;
		else if (c == '/' && next == '*')
			s->state = ST_BLOCK_COMMENT;
		return s->state == ST_LINE_COMMENT ||
				       s->state == ST_BLOCK_COMMENT
			       ? 2
			       : 1;
	case ST_SINGLE:
	case ST_DOUBLE:
		if (s->escape)
			s->escape = false;
		else if (c == '\\')
			s->escape = true;
		else if (c == (s->state == ST_SINGLE ? '\'' : '"'))
			s->state = ST_CODE;
		return 1;
	case ST_BACKTICK:
		if (c == '`')
			s->state = ST_CODE;
		return 1;
	case ST_LINE_COMMENT:
		if (c == '\n')
			s->state = ST_CODE;
		return 1;
	default: /* ST_BLOCK_COMMENT */
		if (c == '*' && next == '/') {
			s->state = ST_CODE;
			return 2;
		}
		return 1;
	}
}

int split_feed(struct split *s, const char *line, size_t len, split_fn fn,
	       void *arg)
{
	size_t i = 0, n, start;
	int rv;

	if (!split_pending(s)) {
		while (i < len && isspace((unsigned char)line[i]))
			i++;
		if (i < len && line[i] == ':') {
			graft_buf_reset(&s->text);
			return emit(SPLIT_COMMAND, line + i, len - i, fn, arg);
		}
	}
	start = i;
	while (i < len) {
		if (s->state == ST_CODE && line[i] == ';') {
			if (graft_buf_append(&s->text, line + start, i - start) !=
			    GRAFT_OK)
				return -1;
			rv = emit(SPLIT_STATEMENT, (const char *)s->text.data,
				  s->text.len, fn, arg);
			graft_buf_reset(&s->text);
			if (rv != 0)
				return rv;
			start = ++i;
			continue;
		}
		n = step(s, line[i], i + 1 < len ? line[i + 1] : 0);
		i += n < len - i ? n : len - i;
	}
	if (s->state == ST_LINE_COMMENT)
		s->state = ST_CODE; /* the line ended it */
	if (graft_buf_append(&s->text, line + start, len - start) != GRAFT_OK ||
	    (len > 0 && line[len - 1] != '\n' &&
	     graft_buf_append(&s->text, "\n", 1) != GRAFT_OK))
		return -1;
	return 0;
}

void split_reset(struct split *s)
{
	graft_buf_reset(&s->text);
	s->state = ST_CODE;
	s->escape = false;
}

int split_finish(struct split *s, split_fn fn, void *arg)
{
	int rv = emit(SPLIT_STATEMENT, (const char *)s->text.data, s->text.len,
		      fn, arg);

	split_reset(s);
	return rv;
}
