/* Splits shell input into statements the way cypher-shell does: a statement
 * ends at a ';' that is outside strings ('…', "…"), escaped names (`…`) and
 * comments (// to the end of the line, / * … * /); a line that starts a new
 * statement with ':' is a shell command and ends at the end of its line.
 * Fed line by line, so the interactive prompt knows when to continue. */
#ifndef GRAFT_SHELL_SPLIT_H
#define GRAFT_SHELL_SPLIT_H

#include <stdbool.h>
#include <stddef.h>

#include "../util/buf.h"

enum split_kind { SPLIT_STATEMENT, SPLIT_COMMAND };

struct split {
	struct graft_buf text; /* the statement being collected */
	int state;             /* lexical state carried across lines */
	bool escape;           /* a backslash inside a string */
};

/* Called for each complete statement (without its ';', trimmed) or command
 * (the line, trimmed); a non-zero return stops the feed and is returned. */
typedef int (*split_fn)(void *arg, enum split_kind kind, const char *text,
			size_t len);

void split_init(struct split *s);
void split_free(struct split *s);
/* Feeds one line (its newline included or not). Returns 0, the callback's
 * non-zero value, or -1 when out of memory. */
int split_feed(struct split *s, const char *line, size_t len, split_fn fn,
	       void *arg);
/* Whether a statement is partly collected (the prompt continues). */
bool split_pending(const struct split *s);
/* Drops a partly collected statement (Ctrl-C at the prompt). */
void split_reset(struct split *s);
/* End of input: hands over a last statement that lacks its ';'. */
int split_finish(struct split *s, split_fn fn, void *arg);

#endif
