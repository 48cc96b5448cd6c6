#define _XOPEN_SOURCE 700
#include "tck_value.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Recursion is bounded so that a hostile or broken text cannot blow the
 * stack. */
#define TCK_MAX_DEPTH 64

struct cursor {
	const char *p;
	int depth;
	bool bad;
};

static void skip_ws(struct cursor *c)
{
	while (isspace((unsigned char)*c->p))
		c->p++;
}

static bool eat(struct cursor *c, const char *tok)
{
	size_t n = strlen(tok);

	skip_ws(c);
	if (strncmp(c->p, tok, n) != 0)
		return false;
	c->p += n;
	return true;
}

static void expect(struct cursor *c, const char *tok)
{
	if (!eat(c, tok))
		c->bad = true;
}

static void *grow(void *p, size_t n, size_t size)
{
	void *q = realloc(p, (n + 1) * size);

	if (q == NULL)
		abort(); /* a test helper: out of memory ends the run */
	return q;
}

static char *copy_n(const char *s, size_t n)
{
	char *d = strndup(s, n);

	if (d == NULL)
		abort();
	return d;
}

static bool is_name_char(char ch)
{
	return isalnum((unsigned char)ch) || ch == '_' || ch == '.' ||
	       ch == '$';
}

/* A name: letters and digits, or `backticked`. */
static char *parse_name(struct cursor *c)
{
	const char *s;

	skip_ws(c);
	if (*c->p == '`') {
		s = ++c->p;
		while (*c->p && *c->p != '`')
			c->p++;
		if (*c->p != '`') {
			c->bad = true;
			return copy_n("", 0);
		}
		c->p++;
		return copy_n(s, (size_t)(c->p - 1 - s));
	}
	s = c->p;
	while (is_name_char(*c->p))
		c->p++;
	if (c->p == s)
		c->bad = true;
	return copy_n(s, (size_t)(c->p - s));
}

static char unescape(char ch)
{
	switch (ch) {
	case 'n': return '\n';
	case 't': return '\t';
	case 'r': return '\r';
	case 'b': return '\b';
	case 'f': return '\f';
	default: return ch;
	}
}

static void parse_string(struct cursor *c, struct tck_value *v)
{
	char quote = *c->p++;
	size_t n = 0;
	char *s = malloc(strlen(c->p) + 1);

	if (s == NULL)
		abort();
	while (*c->p && *c->p != quote) {
		if (*c->p == '\\' && c->p[1] != '\0') {
			s[n++] = unescape(c->p[1]);
			c->p += 2;
		} else {
			s[n++] = *c->p++;
		}
	}
	s[n] = '\0';
	if (*c->p == quote)
		c->p++;
	else
		c->bad = true;
	v->kind = TCK_STRING;
	v->s = s;
}

static void parse_number(struct cursor *c, struct tck_value *v)
{
	const char *s = c->p;
	char *end;

	if (*c->p == '-' || *c->p == '+')
		c->p++;
	if (strncmp(c->p, "Infinity", 8) == 0) {
		c->p += 8;
		v->kind = TCK_FLOAT;
		v->f = *s == '-' ? -INFINITY : INFINITY;
		return;
	}
	if (strncmp(c->p, "NaN", 3) == 0) {
		c->p += 3;
		v->kind = TCK_FLOAT;
		v->f = NAN;
		return;
	}
	while (isdigit((unsigned char)*c->p))
		c->p++;
	if (*c->p == '.' || *c->p == 'e' || *c->p == 'E') {
		v->kind = TCK_FLOAT;
		v->f = strtod(s, &end);
		c->p = end;
		return;
	}
	v->kind = TCK_INT;
	v->i = strtoll(s, &end, 10);
	if (end == s)
		c->bad = true;
}

static void parse_value(struct cursor *c, struct tck_value *v);

/* {k: v, ...} into keys/items of v, sorted by key. */
static void parse_props(struct cursor *c, struct tck_value *v)
{
	size_t i, j;

	expect(c, "{");
	if (eat(c, "}"))
		return;
	do {
		v->keys = grow(v->keys, v->n, sizeof *v->keys);
		v->items = grow(v->items, v->n, sizeof *v->items);
		v->keys[v->n] = parse_name(c);
		memset(&v->items[v->n], 0, sizeof v->items[0]);
		v->n++;
		expect(c, ":");
		parse_value(c, &v->items[v->n - 1]);
	} while (!c->bad && eat(c, ","));
	expect(c, "}");
	for (i = 1; i < v->n; i++) /* insertion sort: maps are small */
		for (j = i; j > 0 && strcmp(v->keys[j - 1], v->keys[j]) > 0;
		     j--) {
			char *k = v->keys[j];
			struct tck_value t = v->items[j];

			v->keys[j] = v->keys[j - 1];
			v->items[j] = v->items[j - 1];
			v->keys[j - 1] = k;
			v->items[j - 1] = t;
		}
}

static int cmp_label(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void parse_node(struct cursor *c, struct tck_value *v)
{
	v->kind = TCK_NODE;
	expect(c, "(");
	while (!c->bad && eat(c, ":")) {
		v->labels = grow(v->labels, v->nlabels, sizeof *v->labels);
		v->labels[v->nlabels++] = parse_name(c);
	}
	if (v->nlabels > 1)
		qsort(v->labels, v->nlabels, sizeof *v->labels, cmp_label);
	skip_ws(c);
	if (*c->p == '{')
		parse_props(c, v);
	expect(c, ")");
}

static void parse_rel(struct cursor *c, struct tck_value *v)
{
	v->kind = TCK_REL;
	expect(c, "[");
	expect(c, ":");
	v->s = parse_name(c);
	skip_ws(c);
	if (*c->p == '{')
		parse_props(c, v);
	expect(c, "]");
}

static struct tck_value *add_item(struct tck_value *v)
{
	v->items = grow(v->items, v->n, sizeof *v->items);
	memset(&v->items[v->n], 0, sizeof v->items[0]);
	return &v->items[v->n++];
}

/* <(a)-[:T]->(b)<-[:U]-(c)> */
static void parse_path(struct cursor *c, struct tck_value *v)
{
	v->kind = TCK_PATH;
	expect(c, "<");
	parse_node(c, add_item(v));
	while (!c->bad && !eat(c, ">")) {
		bool left = eat(c, "<-");
		struct tck_value *r;

		if (!left)
			expect(c, "-");
		r = add_item(v);
		parse_rel(c, r);
		r->b = left;
		expect(c, left ? "-" : "->");
		parse_node(c, add_item(v));
	}
}

static void parse_list(struct cursor *c, struct tck_value *v)
{
	v->kind = TCK_LIST;
	expect(c, "[");
	if (eat(c, "]"))
		return;
	do
		parse_value(c, add_item(v));
	while (!c->bad && eat(c, ","));
	expect(c, "]");
}

/* true, false, null, or name(argument). */
static void parse_word(struct cursor *c, struct tck_value *v)
{
	const char *s = c->p;
	char *name = parse_name(c);

	if (strcasecmp(name, "null") == 0) {
		v->kind = TCK_NULL;
	} else if (strcasecmp(name, "true") == 0 ||
		   strcasecmp(name, "false") == 0) {
		v->kind = TCK_BOOL;
		v->b = strcasecmp(name, "true") == 0;
	} else if (strcmp(name, "NaN") == 0 || strcmp(name, "Infinity") == 0) {
		c->p = s;
		free(name);
		parse_number(c, v);
		return;
	} else if (eat(c, "(")) {
		v->kind = TCK_CALL;
		v->s = name;
		parse_value(c, add_item(v));
		expect(c, ")");
		return;
	} else {
		c->bad = true;
	}
	free(name);
}

static void parse_value(struct cursor *c, struct tck_value *v)
{
	const char *after;

	if (++c->depth > TCK_MAX_DEPTH) {
		c->bad = true;
		return;
	}
	skip_ws(c);
	after = c->p + 1;
	while (isspace((unsigned char)*after))
		after++;
	if (*c->p == '\'' || *c->p == '"')
		parse_string(c, v);
	else if (*c->p == '[' && *after == ':')
		parse_rel(c, v);
	else if (*c->p == '[')
		parse_list(c, v);
	else if (*c->p == '{') {
		v->kind = TCK_MAP;
		parse_props(c, v);
	}
	else if (*c->p == '(')
		parse_node(c, v);
	else if (*c->p == '<')
		parse_path(c, v);
	else if (isdigit((unsigned char)*c->p) || *c->p == '-' ||
		 *c->p == '+' || *c->p == '.')
		parse_number(c, v);
	else
		parse_word(c, v);
	c->depth--;
}

int tck_value_parse(const char *text, struct tck_value *out, size_t *where)
{
	struct cursor c = {.p = text};

	memset(out, 0, sizeof *out);
	parse_value(&c, out);
	skip_ws(&c);
	if (c.bad || *c.p != '\0') {
		if (where != NULL)
			*where = (size_t)(c.p - text);
		tck_value_free(out);
		return -1;
	}
	return 0;
}

void tck_value_free(struct tck_value *v)
{
	size_t i;

	for (i = 0; i < v->n; i++) {
		tck_value_free(&v->items[i]);
		if (v->keys != NULL)
			free(v->keys[i]);
	}
	for (i = 0; i < v->nlabels; i++)
		free(v->labels[i]);
	free(v->items);
	free(v->keys);
	free(v->labels);
	free(v->s);
	memset(v, 0, sizeof *v);
}

static bool props_equal(const struct tck_value *a, const struct tck_value *b,
			bool unordered)
{
	size_t i;

	if (a->n != b->n)
		return false;
	for (i = 0; i < a->n; i++)
		if (strcmp(a->keys[i], b->keys[i]) != 0 ||
		    !tck_value_equal(&a->items[i], &b->items[i], unordered))
			return false;
	return true;
}

static bool labels_equal(const struct tck_value *a, const struct tck_value *b)
{
	size_t i;

	if (a->nlabels != b->nlabels)
		return false;
	for (i = 0; i < a->nlabels; i++)
		if (strcmp(a->labels[i], b->labels[i]) != 0)
			return false;
	return true;
}

static bool items_equal(const struct tck_value *a, const struct tck_value *b,
			bool unordered)
{
	size_t i;

	if (a->n != b->n)
		return false;
	for (i = 0; i < a->n; i++)
		if (!tck_value_equal(&a->items[i], &b->items[i], unordered))
			return false;
	return true;
}

/* Multiset equality: each item of a matched to a distinct item of b. */
static bool items_equal_unordered(const struct tck_value *a,
				  const struct tck_value *b)
{
	bool *used, same = true;
	size_t i, j;

	if (a->n != b->n)
		return false;
	used = calloc(b->n + 1, sizeof *used);
	if (used == NULL)
		abort();
	for (i = 0; i < a->n && same; i++) {
		for (j = 0; j < b->n; j++)
			if (!used[j] &&
			    tck_value_equal(&a->items[i], &b->items[j], true))
				break;
		if (j == b->n)
			same = false;
		else
			used[j] = true;
	}
	free(used);
	return same;
}

/* The TCK writes temporal values as Java does: "12:00" for "12:00:00", and
 * fractions without trailing zeros. Copies s into out (size bytes) in that
 * spelling. */
static void java_temporal(const char *s, char *out, size_t size)
{
	size_t n = 0;
	const char *p;

	for (p = s; *p && n + 4 < size; p++) {
		out[n++] = *p;
		/* hh:mm not followed by :ss, i.e. a time without seconds */
		if (p - s >= 4 && isdigit((unsigned char)p[-4]) &&
		    isdigit((unsigned char)p[-3]) && p[-2] == ':' &&
		    isdigit((unsigned char)p[-1]) && isdigit((unsigned char)*p) &&
		    (p - s == 4 || p[-5] != ':') && p[1] == ':' &&
		    strncmp(p + 1, ":00", 3) == 0 &&
		    !isdigit((unsigned char)p[4]) && p[4] != '.') {
			p += 3; /* drop ":00" */
		} else if (*p == '.' && isdigit((unsigned char)p[1])) {
			size_t digits = strspn(p + 1, "0123456789"), keep = digits;

			while (keep > 0 && p[keep] == '0')
				keep--;
			if (keep == 0)
				n--; /* all zeros: no fraction at all */
			else if (n + keep + 1 < size) {
				memcpy(out + n, p + 1, keep);
				n += keep;
			}
			p += digits;
		}
	}
	out[n] = '\0';
}

/* A temporal call equals the string the TCK writes for it. */
static bool call_equals_string(const struct tck_value *call,
			       const struct tck_value *str)
{
	char a[256], b[256];

	if (call->kind != TCK_CALL || str->kind != TCK_STRING ||
	    call->n != 1 || call->items[0].kind != TCK_STRING)
		return false;
	java_temporal(call->items[0].s, a, sizeof a);
	java_temporal(str->s, b, sizeof b);
	return strcmp(a, b) == 0;
}

bool tck_value_equal(const struct tck_value *a, const struct tck_value *b,
		     bool unordered)
{
	if (call_equals_string(a, b) || call_equals_string(b, a))
		return true;
	if (a->kind != b->kind)
		return false;
	switch (a->kind) {
	case TCK_NULL: return true;
	case TCK_BOOL: return a->b == b->b;
	case TCK_INT: return a->i == b->i;
	case TCK_FLOAT: return a->f == b->f || (isnan(a->f) && isnan(b->f));
	case TCK_STRING: return strcmp(a->s, b->s) == 0;
	case TCK_LIST:
		return unordered ? items_equal_unordered(a, b)
				 : items_equal(a, b, false);
	case TCK_MAP: return props_equal(a, b, unordered);
	case TCK_NODE: return labels_equal(a, b) && props_equal(a, b, unordered);
	case TCK_REL:
		return a->b == b->b && strcmp(a->s, b->s) == 0 &&
		       props_equal(a, b, unordered);
	case TCK_PATH: return items_equal(a, b, unordered);
	case TCK_CALL:
		return strcmp(a->s, b->s) == 0 && items_equal(a, b, unordered);
	}
	return false;
}

bool tck_text_equal(const char *a, const char *b, bool unordered_lists)
{
	struct tck_value va, vb;
	bool same;

	if (tck_value_parse(a, &va, NULL) != 0)
		return strcmp(a, b) == 0;
	if (tck_value_parse(b, &vb, NULL) != 0) {
		tck_value_free(&va);
		return strcmp(a, b) == 0;
	}
	same = tck_value_equal(&va, &vb, unordered_lists);
	tck_value_free(&va);
	tck_value_free(&vb);
	return same;
}
