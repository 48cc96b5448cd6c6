/* List functions (and the string forms of size and reverse): size, head,
 * last, tail, reverse, range, isEmpty. Strings count and reverse by Unicode
 * code point, not by byte. */
#include <stdlib.h>
#include <string.h>

#include "func_int.h"

int fn_size(struct cypher_fctx *fc, const struct graft_value *args,
	    uint32_t n, struct graft_value *out)
{
	(void)n;
	*out = graft_value_null();
	switch (args[0].type) {
	case GRAFT_VALUE_NULL:
		return GRAFT_OK;
	case GRAFT_VALUE_STRING:
		*out = graft_value_int((int64_t)func_utf8_count(args[0].u.s));
		return GRAFT_OK;
	case GRAFT_VALUE_LIST:
		*out = graft_value_int(args[0].u.list->len);
		return GRAFT_OK;
	default:
		return func_type_error(fc, "size", "a String or List",
				       &args[0]);
	}
}

int fn_char_length(struct cypher_fctx *fc, const struct graft_value *args,
		   uint32_t n, struct graft_value *out)
{
	(void)n;
	*out = graft_value_null();
	if (args[0].type == GRAFT_VALUE_NULL)
		return GRAFT_OK;
	if (args[0].type != GRAFT_VALUE_STRING)
		return func_type_error(fc, "char_length", "a String", &args[0]);
	*out = graft_value_int((int64_t)func_utf8_count(args[0].u.s));
	return GRAFT_OK;
}

/* GRAFT_OK with *l the list argument, or *l NULL for a null argument. */
static int list_arg(struct cypher_fctx *fc, const char *name,
		    const struct graft_value *v, const struct graft_list **l)
{
	*l = NULL;
	if (v->type == GRAFT_VALUE_NULL)
		return GRAFT_OK;
	if (v->type != GRAFT_VALUE_LIST)
		return func_type_error(fc, name, "a List", v);
	*l = v->u.list;
	return GRAFT_OK;
}

static int item_at(struct cypher_fctx *fc, const char *name,
		   const struct graft_value *v, bool first,
		   struct graft_value *out)
{
	const struct graft_list *l;
	int rv = list_arg(fc, name, v, &l);

	*out = graft_value_null();
	if (rv != GRAFT_OK || l == NULL || l->len == 0)
		return rv;
	return graft_value_copy(out, &l->items[first ? 0 : l->len - 1]);
}

int fn_head(struct cypher_fctx *fc, const struct graft_value *args,
	    uint32_t n, struct graft_value *out)
{
	(void)n;
	return item_at(fc, "head", &args[0], true, out);
}

int fn_last(struct cypher_fctx *fc, const struct graft_value *args,
	    uint32_t n, struct graft_value *out)
{
	(void)n;
	return item_at(fc, "last", &args[0], false, out);
}

/* A new list of l's items from..len, reversed if asked (asking
 * fc->interrupted as it copies: l is an argument, the statement's own). */
static int sublist(struct cypher_fctx *fc, const struct graft_list *l,
		   uint32_t from, bool reverse, struct graft_value *out)
{
	uint32_t len = l->len - from;
	int rv = graft_value_list(out, len);

	if (rv == GRAFT_OK)
		rv = cypher_items_copy(fc, out->u.list->items,
				       &l->items[from], len, reverse);
	if (rv != GRAFT_OK) {
		graft_value_free(out);
		*out = graft_value_null();
	}
	return rv;
}

int fn_tail(struct cypher_fctx *fc, const struct graft_value *args,
	    uint32_t n, struct graft_value *out)
{
	const struct graft_list *l;
	int rv = list_arg(fc, "tail", &args[0], &l);

	(void)n;
	*out = graft_value_null();
	if (rv != GRAFT_OK || l == NULL)
		return rv;
	return sublist(fc, l, l->len > 0 ? 1 : 0, false, out);
}

static int reverse_string(const struct graft_str *s, struct graft_value *out)
{
	char *p = graft_mem_malloc(s->len + 1);
	uint32_t w = s->len;
	int rv;

	if (p == NULL)
		return GRAFT_ENOMEM;
	/* Copy each code point (lead byte and continuations) to the end. */
	for (uint32_t i = 0; i < s->len;) {
		uint32_t j = i + 1;
		while (j < s->len && ((uint8_t)s->data[j] & 0xc0) == 0x80)
			j++;
		w -= j - i;
		memcpy(p + w, s->data + i, j - i);
		i = j;
	}
	rv = graft_value_string(out, p, s->len);
	graft_mem_free(p);
	return rv;
}

int fn_reverse(struct cypher_fctx *fc, const struct graft_value *args,
	       uint32_t n, struct graft_value *out)
{
	(void)n;
	*out = graft_value_null();
	switch (args[0].type) {
	case GRAFT_VALUE_NULL:
		return GRAFT_OK;
	case GRAFT_VALUE_STRING:
		return reverse_string(args[0].u.s, out);
	case GRAFT_VALUE_LIST:
		return sublist(fc, args[0].u.list, 0, true, out);
	default:
		return func_type_error(fc, "reverse", "a String or List",
				       &args[0]);
	}
}

/* range() longer than this is refused rather than exhausting memory. */
#define RANGE_MAX (INT64_C(1) << 28)

int cypher_range_bounds(struct cypher_fctx *fc, const struct graft_value *args,
			uint32_t n, struct cypher_range *r)
{
	int64_t v[3] = {0, 0, 1};
	__int128 count;

	/* Neo4j reports a non-integer bound or step as an ArgumentError. */
	for (uint32_t i = 0; i < n; i++) {
		char d[192];
		if (args[i].type != GRAFT_VALUE_INT)
			return cypher_fail(fc, GRAFT_STATUS_ARGUMENT_ERROR,
					   "Invalid input for function "
					   "'range()': Expected an Integer, "
					   "got: %s",
					   func_describe(&args[i], d, sizeof d));
		v[i] = args[i].u.i;
	}
	if (v[2] == 0)
		return func_arg_error(fc, "range",
				      "step argument to range() can't be 0");
	/* A step pointing away from the end gives an empty list. */
	if ((v[2] > 0 && v[0] > v[1]) || (v[2] < 0 && v[0] < v[1]))
		count = 0;
	else
		count = ((__int128)v[1] - v[0]) / v[2] + 1;
	r->start = v[0];
	r->step = v[2];
	/* Only range(INT64_MIN, INT64_MAX) holds more: nobody walks that. */
	r->count = count > UINT64_MAX ? UINT64_MAX : (uint64_t)count;
	return GRAFT_OK;
}

/* range() longer than this is refused rather than exhausting memory. */
#define RANGE_MAX (INT64_C(1) << 28)

int fn_range(struct cypher_fctx *fc, const struct graft_value *args,
	     uint32_t n, struct graft_value *out)
{
	struct cypher_range r;
	int rv;

	*out = graft_value_null();
	rv = cypher_range_bounds(fc, args, n, &r);
	if (rv != GRAFT_OK)
		return rv;
	if (r.count > RANGE_MAX)
		return func_arg_error(fc, "range",
				      "the range would hold more than 2^28 "
				      "elements; UNWIND range(...) walks any "
				      "range without building it");
	rv = graft_value_list(out, (uint32_t)r.count);
	for (uint64_t i = 0; rv == GRAFT_OK && i < r.count; i++) {
		if (i % CYPHER_ASK_EVERY == CYPHER_ASK_EVERY - 1 &&
		    fc->interrupted != NULL &&
		    fc->interrupted(fc) != 0) {
			/* the rest is null: no need to read it to free it */
			out->u.list->len = (uint32_t)i;
			graft_value_free(out);
			*out = graft_value_null();
			return GRAFT_EINVAL;
		}
		out->u.list->items[i] = graft_value_int(
			(int64_t)((__int128)r.start + (__int128)i * r.step));
	}
	return rv;
}

int fn_is_empty(struct cypher_fctx *fc, const struct graft_value *args,
		uint32_t n, struct graft_value *out)
{
	(void)n;
	*out = graft_value_null();
	switch (args[0].type) {
	case GRAFT_VALUE_NULL:
		return GRAFT_OK;
	case GRAFT_VALUE_STRING:
		*out = graft_value_bool(args[0].u.s->len == 0);
		return GRAFT_OK;
	case GRAFT_VALUE_LIST:
		*out = graft_value_bool(args[0].u.list->len == 0);
		return GRAFT_OK;
	case GRAFT_VALUE_MAP:
		*out = graft_value_bool(args[0].u.map->len == 0);
		return GRAFT_OK;
	default:
		return func_type_error(fc, "isEmpty", "a String, Map or List",
				       &args[0]);
	}
}
