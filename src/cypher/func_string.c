/* String functions. Positions and lengths count Unicode code points of the
 * UTF-8 text. Case mapping covers ASCII, Latin-1, Latin Extended-A, Greek
 * and Cyrillic. normalize() is func_normalize.c's. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "func_int.h"

/* Byte offset cp code points after byte offset i (clamped to the end). */
static uint32_t cp_advance(const struct graft_str *s, uint32_t i, int64_t cp)
{
	while (i < s->len && cp > 0) {
		i++;
		while (i < s->len && ((uint8_t)s->data[i] & 0xc0) == 0x80)
			i++;
		cp--;
	}
	return i;
}

/* Checks (string, integer...) arguments; *null when the result is null,
 * which a null string gives, while a null position or length is an error
 * (as in Neo4j: left('abc', null) fails, left(null, 1) is null). */
static int str_args(struct cypher_fctx *fc, const char *name,
		    const struct graft_value *args, uint32_t n, bool *null)
{
	*null = args[0].type == GRAFT_VALUE_NULL;
	if (*null)
		return GRAFT_OK;
	if (args[0].type != GRAFT_VALUE_STRING)
		return func_type_error(fc, name, "a String", &args[0]);
	for (uint32_t i = 1; i < n; i++) {
		if (args[i].type == GRAFT_VALUE_NULL)
			return func_arg_error(fc, name, "a position or length "
					      "cannot be null");
		if (args[i].type != GRAFT_VALUE_INT)
			return func_type_error(fc, name, "an Integer",
					       &args[i]);
	}
	return GRAFT_OK;
}

static int slice(const struct graft_str *s, int64_t from_cp, int64_t len_cp,
		 struct graft_value *out)
{
	uint32_t a = cp_advance(s, 0, from_cp);
	uint32_t b = cp_advance(s, a, len_cp);

	return graft_value_string(out, s->data + a, b - a);
}

int fn_left(struct cypher_fctx *fc, const struct graft_value *args,
	    uint32_t n, struct graft_value *out)
{
	bool null;
	int rv = str_args(fc, "left", args, n, &null);

	*out = graft_value_null();
	if (rv != GRAFT_OK || null)
		return rv;
	if (args[1].u.i < 0)
		return func_arg_error(fc, "left", "negative length");
	return slice(args[0].u.s, 0, args[1].u.i, out);
}

int fn_right(struct cypher_fctx *fc, const struct graft_value *args,
	     uint32_t n, struct graft_value *out)
{
	bool null;
	int rv = str_args(fc, "right", args, n, &null);
	int64_t total;

	*out = graft_value_null();
	if (rv != GRAFT_OK || null)
		return rv;
	if (args[1].u.i < 0)
		return func_arg_error(fc, "right", "negative length");
	total = (int64_t)func_utf8_count(args[0].u.s);
	return slice(args[0].u.s,
		     args[1].u.i >= total ? 0 : total - args[1].u.i,
		     args[1].u.i, out);
}

int fn_substring(struct cypher_fctx *fc, const struct graft_value *args,
		 uint32_t n, struct graft_value *out)
{
	bool null;
	int rv = str_args(fc, "substring", args, n, &null);

	*out = graft_value_null();
	if (rv != GRAFT_OK || null)
		return rv;
	if (args[1].u.i < 0)
		return func_arg_error(fc, "substring", "negative start index");
	if (n > 2 && args[2].u.i < 0)
		return func_arg_error(fc, "substring", "negative length");
	return slice(args[0].u.s, args[1].u.i, n > 2 ? args[2].u.i : INT64_MAX,
		     out);
}

/* Trimming ------------------------------------------------------------------ */

/* Whether the code point at s[i..] (len bytes) is in set (or whitespace
 * when set is NULL). */
static bool trimmable(const char *p, uint32_t len, const struct graft_str *set)
{
	if (set == NULL)
		return len == 1 && isspace((unsigned char)p[0]);
	for (uint32_t i = 0; i < set->len;) {
		uint32_t j = i + 1;
		while (j < set->len && ((uint8_t)set->data[j] & 0xc0) == 0x80)
			j++;
		if (j - i == len && memcmp(set->data + i, p, len) == 0)
			return true;
		i = j;
	}
	return false;
}

static int trim(struct cypher_fctx *fc, const char *name,
		const struct graft_value *args, uint32_t n, bool left,
		bool right, struct graft_value *out)
{
	const struct graft_str *s, *set = NULL;
	uint32_t a = 0, b;

	*out = graft_value_null();
	if (func_any_null(args, n))
		return GRAFT_OK;
	for (uint32_t i = 0; i < n; i++)
		if (args[i].type != GRAFT_VALUE_STRING)
			return func_type_error(fc, name, "a String", &args[i]);
	s = args[0].u.s;
	if (n > 1)
		set = args[1].u.s;
	b = s->len;
	while (left && a < b) {
		uint32_t j = a + 1;
		while (j < b && ((uint8_t)s->data[j] & 0xc0) == 0x80)
			j++;
		if (!trimmable(s->data + a, j - a, set))
			break;
		a = j;
	}
	while (right && b > a) {
		uint32_t j = b - 1;
		while (j > a && ((uint8_t)s->data[j] & 0xc0) == 0x80)
			j--;
		if (!trimmable(s->data + j, b - j, set))
			break;
		b = j;
	}
	return graft_value_string(out, s->data + a, b - a);
}

int fn_trim(struct cypher_fctx *fc, const struct graft_value *args,
	    uint32_t n, struct graft_value *out)
{
	return trim(fc, "trim", args, n, true, true, out);
}

int fn_btrim(struct cypher_fctx *fc, const struct graft_value *args,
	     uint32_t n, struct graft_value *out)
{
	return trim(fc, "btrim", args, n, true, true, out);
}

int fn_ltrim(struct cypher_fctx *fc, const struct graft_value *args,
	     uint32_t n, struct graft_value *out)
{
	return trim(fc, "ltrim", args, n, true, false, out);
}

int fn_rtrim(struct cypher_fctx *fc, const struct graft_value *args,
	     uint32_t n, struct graft_value *out)
{
	return trim(fc, "rtrim", args, n, false, true, out);
}

/* Case ---------------------------------------------------------------------- */

/* Upper or lower case of code point cp for the scripts whose letters pair
 * one to one: ASCII, Latin-1, Latin Extended-A, Greek and Cyrillic (cp
 * itself otherwise, and for letters such as ß whose other case is longer). */
static uint32_t case_of(uint32_t cp, bool upper)
{
	/* Ranges where upper and lower case are a fixed distance apart. */
	static const struct { uint32_t lo, hi, delta; } spans[] = {
		{0x41, 0x5a, 32},     {0xc0, 0xd6, 32},   {0xd8, 0xde, 32},
		{0x391, 0x3a1, 32},   {0x3a3, 0x3ab, 32}, {0x410, 0x42f, 32},
		{0x400, 0x40f, 80},   {0x386, 0x386, 38}, {0x388, 0x38a, 37},
		{0x38c, 0x38c, 64},   {0x38e, 0x38f, 63},
	};

	for (size_t i = 0; i < sizeof spans / sizeof spans[0]; i++) {
		if (upper && cp >= spans[i].lo + spans[i].delta &&
		    cp <= spans[i].hi + spans[i].delta)
			return cp - spans[i].delta;
		if (!upper && cp >= spans[i].lo && cp <= spans[i].hi)
			return cp + spans[i].delta;
	}
	if (upper && cp == 0x3c2) /* final sigma */
		return 0x3a3;
	if (cp == 0xff || cp == 0x178)
		return upper ? 0x178 : 0xff;
	/* Latin Extended-A: upper and lower alternate, even or odd first. */
	if (cp >= 0x100 && cp <= 0x17e && cp != 0x130 && cp != 0x131 &&
	    cp != 0x138 && cp != 0x149) {
		bool even_upper = (cp >= 0x100 && cp <= 0x137) ||
				  (cp >= 0x14a && cp <= 0x177);
		bool is_upper = (cp % 2 == 0) == even_upper;
		if (upper && !is_upper)
			return cp - 1;
		if (!upper && is_upper)
			return cp + 1;
	}
	return cp;
}

/* One code point of UTF-8 at p (n bytes left): its length and value;
 * length 1 and the byte itself for anything malformed. */
static unsigned utf8_decode(const uint8_t *p, uint32_t n, uint32_t *cp)
{
	if (p[0] >= 0xc2 && p[0] < 0xe0 && n >= 2 && (p[1] & 0xc0) == 0x80) {
		*cp = (uint32_t)(p[0] & 0x1f) << 6 | (p[1] & 0x3f);
		return 2;
	}
	*cp = p[0];
	return 1;
}

/* Changes case in place; every mapped pair has the same UTF-8 length (one
 * or two bytes), so the string keeps its size. */
static int change_case(struct cypher_fctx *fc, const char *name,
		       const struct graft_value *v, bool upper,
		       struct graft_value *out)
{
	uint8_t *p;
	int rv;

	*out = graft_value_null();
	if (v->type == GRAFT_VALUE_NULL)
		return GRAFT_OK;
	if (v->type != GRAFT_VALUE_STRING)
		return func_type_error(fc, name, "a String", v);
	rv = graft_value_copy(out, v);
	if (rv != GRAFT_OK)
		return rv;
	p = (uint8_t *)out->u.s->data;
	for (uint32_t i = 0; i < out->u.s->len;) {
		uint32_t cp, m;
		unsigned k = utf8_decode(p + i, out->u.s->len - i, &cp);
		m = case_of(cp, upper);
		if (m != cp && k == 1 && m < 0x80) {
			p[i] = (uint8_t)m;
		} else if (m != cp && k == 2 && m >= 0x80 && m < 0x800) {
			p[i] = (uint8_t)(0xc0 | m >> 6);
			p[i + 1] = (uint8_t)(0x80 | (m & 0x3f));
		}
		i += k;
	}
	return GRAFT_OK;
}

int fn_to_upper(struct cypher_fctx *fc, const struct graft_value *args,
		uint32_t n, struct graft_value *out)
{
	(void)n;
	return change_case(fc, "toUpper", &args[0], true, out);
}

int fn_to_lower(struct cypher_fctx *fc, const struct graft_value *args,
		uint32_t n, struct graft_value *out)
{
	(void)n;
	return change_case(fc, "toLower", &args[0], false, out);
}

/* replace, split ------------------------------------------------------------- */

struct sbuf {
	char *p;
	size_t len, cap;
};

static int sbuf_put(struct sbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->len + n + 1) * 2;
		char *p = graft_mem_realloc(b->p, cap);
		if (p == NULL)
			return GRAFT_ENOMEM;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	return GRAFT_OK;
}

static bool all_strings(const struct graft_value *args, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (args[i].type != GRAFT_VALUE_STRING)
			return false;
	return true;
}

int fn_replace(struct cypher_fctx *fc, const struct graft_value *args,
	       uint32_t n, struct graft_value *out)
{
	const struct graft_str *s, *find, *with;
	struct sbuf b = {0};
	uint32_t i = 0;
	int rv = GRAFT_OK;

	*out = graft_value_null();
	if (func_any_null(args, n))
		return GRAFT_OK;
	for (uint32_t k = 0; k < n; k++)
		if (args[k].type != GRAFT_VALUE_STRING)
			return func_type_error(fc, "replace", "a String",
					       &args[k]);
	s = args[0].u.s;
	find = args[1].u.s;
	with = args[2].u.s;
	/* An empty search string matches before every code point and at
	 * the end, as Java's String.replace does. */
	while (rv == GRAFT_OK && i <= s->len) {
		if (find->len > 0 && i + find->len <= s->len &&
		    memcmp(s->data + i, find->data, find->len) == 0) {
			rv = sbuf_put(&b, with->data, with->len);
			i += find->len;
			continue;
		}
		if (find->len == 0)
			rv = sbuf_put(&b, with->data, with->len);
		if (rv != GRAFT_OK || i == s->len)
			break;
		{
			uint32_t j = i + 1;
			while (j < s->len &&
			       ((uint8_t)s->data[j] & 0xc0) == 0x80)
				j++;
			rv = sbuf_put(&b, s->data + i, j - i);
			i = j;
		}
	}
	if (rv == GRAFT_OK)
		rv = graft_value_string(out, b.p ? b.p : "", b.len);
	graft_mem_free(b.p);
	return rv;
}

/* Length of the delimiter among delims that matches at s[i..], 0 if none. */
static uint32_t delim_at(const struct graft_str *s, uint32_t i,
			 const struct graft_value *delims, uint32_t nd)
{
	for (uint32_t k = 0; k < nd; k++) {
		const struct graft_str *d = delims[k].u.s;
		if (d->len > 0 && i + d->len <= s->len &&
		    memcmp(s->data + i, d->data, d->len) == 0)
			return d->len;
	}
	return 0;
}

static int push_piece(struct graft_value *list, const char *p, size_t n)
{
	struct graft_list *l = list->u.list;
	struct graft_value *items = graft_mem_realloc(l->items,
					    (l->len + 1) * sizeof *items);

	if (items == NULL)
		return GRAFT_ENOMEM;
	l->items = items;
	items[l->len] = graft_value_null();
	if (graft_value_string(&items[l->len], p, n) != GRAFT_OK)
		return GRAFT_ENOMEM;
	l->len++;
	return GRAFT_OK;
}

int fn_split(struct cypher_fctx *fc, const struct graft_value *args,
	     uint32_t n, struct graft_value *out)
{
	const struct graft_value *delims = &args[1];
	const struct graft_str *s;
	uint32_t nd = 1, start = 0, i = 0, dl;
	bool empty_delim;
	int rv;

	(void)n;
	*out = graft_value_null();
	if (func_any_null(args, 2))
		return GRAFT_OK;
	if (args[0].type != GRAFT_VALUE_STRING)
		return func_type_error(fc, "split", "a String", &args[0]);
	if (args[1].type == GRAFT_VALUE_LIST) {
		delims = args[1].u.list->items;
		nd = args[1].u.list->len;
	}
	if (!all_strings(delims, nd))
		return func_type_error(fc, "split", "a String or a List of "
				       "Strings", &args[1]);
	s = args[0].u.s;
	empty_delim = nd == 1 && delims[0].u.s->len == 0;
	rv = graft_value_list(out, 0);
	/* An empty delimiter splits into code points. */
	while (rv == GRAFT_OK && i < s->len) {
		if (empty_delim) {
			uint32_t j = i + 1;
			while (j < s->len &&
			       ((uint8_t)s->data[j] & 0xc0) == 0x80)
				j++;
			rv = push_piece(out, s->data + i, j - i);
			start = i = j;
			continue;
		}
		dl = delim_at(s, i, delims, nd);
		if (dl == 0) {
			i++;
			continue;
		}
		rv = push_piece(out, s->data + start, i - start);
		start = i = i + dl;
	}
	if (rv == GRAFT_OK && !(empty_delim && s->len > 0))
		rv = push_piece(out, s->data + start, s->len - start);
	if (rv != GRAFT_OK)
		graft_value_free(out);
	return rv;
}
