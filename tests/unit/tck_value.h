/* Values as the openCypher TCK writes them in result tables, and as
 * cypher_value_render writes them: null, booleans, numbers, 'strings',
 * [lists], {maps}, (:nodes {..}), [:RELS {..}], <paths> and calls such as
 * date('2020-01-01'). Both sides are parsed into this tree and compared
 * structurally, so that key order, label order and float spelling do not
 * matter, and a temporal call equals the string the TCK writes for it. */
#ifndef GRAFT_TESTS_TCK_VALUE_H
#define GRAFT_TESTS_TCK_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum tck_kind {
	TCK_NULL,
	TCK_BOOL,
	TCK_INT,
	TCK_FLOAT,
	TCK_STRING,
	TCK_LIST,
	TCK_MAP,
	TCK_NODE,
	TCK_REL,
	TCK_PATH,
	TCK_CALL, /* name(argument), e.g. date('2020-01-01') */
};

struct tck_value {
	enum tck_kind kind;
	bool b;       /* BOOL; REL inside a PATH: written right to left */
	int64_t i;
	double f;
	char *s;      /* STRING; REL type; CALL name */
	size_t n;     /* LIST/PATH items; MAP/NODE/REL properties */
	struct tck_value *items; /* PATH: node, rel, node, ...; CALL: 1 */
	char **keys;  /* MAP/NODE/REL property keys, sorted */
	size_t nlabels;
	char **labels; /* NODE, sorted */
};

/* Parses all of text. Returns 0, or -1 with *where at the offending
 * character when text is not a value. */
int tck_value_parse(const char *text, struct tck_value *out, size_t *where);
void tck_value_free(struct tck_value *v);
/* Structural equality; with unordered_lists, lists compare as multisets. */
bool tck_value_equal(const struct tck_value *a, const struct tck_value *b,
		     bool unordered_lists);
/* Equality of two texts as values; texts that do not parse compare as
 * text. */
bool tck_text_equal(const char *a, const char *b, bool unordered_lists);

#endif
