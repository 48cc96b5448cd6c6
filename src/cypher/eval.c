/* Expression evaluation against the current row. Values produced are owned
 * by the caller; operators and functions come from ops.c and func*.c. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "exec.h"
#include "ops.h"
#include "plan_int.h"
#include "regex.h"

int exec_fail(struct exec_ctx *x, enum graft_status status, const char *fmt,
	      ...)
{
	va_list ap;

	va_start(ap, fmt);
	cypher_error_vset(x->err, status, fmt, ap);
	va_end(ap);
	return -1;
}

int exec_oom(struct exec_ctx *x)
{
	if (exec_mem_refused(x->mem, x->err))
		return -1;
	return exec_fail(x, GRAFT_STATUS_OUT_OF_MEMORY,
			      "Out of memory while running the query");
}

int exec_rv(struct exec_ctx *x, int rv)
{
	if (rv == GRAFT_OK)
		return 0;
	if (rv == GRAFT_ENOMEM)
		return exec_oom(x);
	if (x->err->code[0] == 0)
		exec_fail(x, GRAFT_STATUS_EXECUTION_FAILED, "%s", graft_strerror(rv));
	return -1;
}

uint32_t exec_token(struct exec_ctx *x, enum graph_token_kind k,
		    const char *name)
{
	return graph_token_lookup(db_graph(x->db), k, name, strlen(name));
}

int exec_token_intern(struct exec_ctx *x, enum graph_token_kind k,
		      const char *name, uint32_t *out)
{
	return exec_rv(x, db_token(x->db, k, name, strlen(name), out));
}

static int eval_kids(struct exec_ctx *x, struct ast *e, uint32_t from,
		     struct graft_value *vals)
{
	for (uint32_t i = from; i < e->n; i++)
		if (eval(x, e->kids[i], &vals[i - from]) < 0) {
			for (uint32_t j = from; j < i; j++)
				graft_value_free(&vals[j - from]);
			return -1;
		}
	return 0;
}

static void free_vals(struct graft_value *v, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		graft_value_free(&v[i]);
}

static int param(struct exec_ctx *x, struct ast *e, struct graft_value *out)
{
	const struct graft_value *v = NULL;

	if (x->params != NULL && x->params->type == GRAFT_VALUE_MAP)
		v = graft_map_get(x->params->u.map, e->name, strlen(e->name));
	if (v == NULL)
		return exec_fail(x, GRAFT_STATUS_PARAMETER_MISSING,
				 "Expected parameter(s): %s", e->name);
	/* the statement's copy of the parameters (cypher_run) */
	return exec_rv(x, cypher_value_copy(&x->fc, out, v));
}

static int deleted(struct exec_ctx *x, const char *what, uint64_t id)
{
	return exec_fail(x, GRAFT_STATUS_ENTITY_NOT_FOUND,
			      "%s with id %llu has been deleted in this transaction",
			      what, (unsigned long long)id);
}

/* Property of a node or relationship; null when absent. */
static int entity_prop(struct exec_ctx *x, const struct graft_value *ent,
		       const char *key, struct graft_value *out)
{
	uint32_t k = exec_token(x, GRAPH_TOKEN_PROPKEY, key);
	const struct graft_value *v = NULL;
	bool node = ent->type == GRAFT_VALUE_NODE;
	uint64_t id = (uint64_t)ent->u.i;

	if (k != GRAPH_NO_TOKEN)
		v = node ? db_tx_node_prop(x->tx, id, k)
			 : db_tx_rel_prop(x->tx, id, k);
	if (v == NULL) {
		bool live = node ? db_tx_node_exists(x->tx, id)
				 : db_tx_rel_exists(x->tx, id);

		*out = graft_value_null();
		return live ? 0 : deleted(x, node ? "Node" : "Relationship", id);
	}
	return exec_rv(x, graft_value_copy(out, v));
}

static int property(struct exec_ctx *x, const struct graft_value *base,
		    const char *key, struct graft_value *out)
{
	const struct graft_value *v;
	int rv;

	switch (base->type) {
	case GRAFT_VALUE_NULL:
		*out = graft_value_null();
		return 0;
	case GRAFT_VALUE_NODE:
	case GRAFT_VALUE_REL:
		return entity_prop(x, base, key, out);
	case GRAFT_VALUE_MAP:
		v = graft_map_get(base->u.map, key, strlen(key));
		if (v == NULL) {
			*out = graft_value_null();
			return 0;
		}
		return exec_rv(x, graft_value_copy(out, v));
	default:
		if (graft_value_is_ext(base->type)) {
			rv = cypher_temporal_field(&x->fc, base, key,
						   strlen(key), out);
			if (rv == GRAFT_ENOTFOUND)
				return exec_fail(x, GRAFT_STATUS_SEMANTIC_ERROR,
						 "Unsupported field '%s' on %s",
						 key, cypher_type_name(base));
			return exec_rv(x, rv);
		}
		return exec_fail(x, GRAFT_STATUS_TYPE_ERROR,
				 "Type mismatch: expected a map, node or relationship but was %s when reading property '%s'",
				 cypher_type_name(base), key);
	}
}

static int list_index(struct exec_ctx *x, const struct graft_value *l,
		      const struct graft_value *i, struct graft_value *out)
{
	int64_t k;

	*out = graft_value_null();
	if (l->type == GRAFT_VALUE_NULL || i->type == GRAFT_VALUE_NULL)
		return 0;
	if (l->type == GRAFT_VALUE_MAP || l->type == GRAFT_VALUE_NODE ||
	    l->type == GRAFT_VALUE_REL) {
		if (i->type != GRAFT_VALUE_STRING)
			return exec_fail(x, GRAFT_STATUS_TYPE_ERROR,
					 "Map access requires a String key, got %s",
					 cypher_type_name(i));
		return property(x, l, i->u.s->data, out);
	}
	if (l->type != GRAFT_VALUE_LIST)
		return exec_fail(x, GRAFT_STATUS_TYPE_ERROR,
				 "Type mismatch: expected a list or map to index but was %s",
				 cypher_type_name(l));
	if (i->type != GRAFT_VALUE_INT)
		return exec_fail(x, GRAFT_STATUS_TYPE_ERROR,
				 "List index must be an Integer, got %s",
				 cypher_type_name(i));
	k = i->u.i < 0 ? (int64_t)l->u.list->len + i->u.i : i->u.i;
	if (k < 0 || k >= (int64_t)l->u.list->len)
		return 0;
	return exec_rv(x, graft_value_copy(out, &l->u.list->items[k]));
}

static int64_t clamp_bound(int64_t b, int64_t len)
{
	if (b < 0)
		b += len;
	return b < 0 ? 0 : b > len ? len : b;
}

static int slice(struct exec_ctx *x, struct ast *e, struct graft_value *out)
{
	struct graft_value l = {0}, f = {0}, t = {0};
	int64_t len, from, to;
	int rv = -1;

	if (eval(x, e->kids[0], &l) < 0 ||
	    (e->kids[1] && eval(x, e->kids[1], &f) < 0) ||
	    (e->n > 2 && e->kids[2] && eval(x, e->kids[2], &t) < 0))
		goto out;
	*out = graft_value_null();
	if (l.type == GRAFT_VALUE_NULL ||
	    (e->kids[1] && f.type == GRAFT_VALUE_NULL) ||
	    (e->n > 2 && e->kids[2] && t.type == GRAFT_VALUE_NULL)) {
		rv = 0;
		goto out;
	}
	if (l.type != GRAFT_VALUE_LIST ||
	    (e->kids[1] && f.type != GRAFT_VALUE_INT) ||
	    (e->n > 2 && e->kids[2] && t.type != GRAFT_VALUE_INT)) {
		exec_fail(x, GRAFT_STATUS_TYPE_ERROR,
			  "List slicing needs a List and Integer bounds");
		goto out;
	}
	len = l.u.list->len;
	from = e->kids[1] ? clamp_bound(f.u.i, len) : 0;
	to = e->n > 2 && e->kids[2] ? clamp_bound(t.u.i, len) : len;
	if (to < from)
		to = from;
	if (graft_value_list(out, (uint32_t)(to - from)) != GRAFT_OK) {
		exec_oom(x);
		goto out;
	}
	for (int64_t i = from; i < to; i++) {
		if ((i - from) % CYPHER_ASK_EVERY == CYPHER_ASK_EVERY - 1 &&
		    (exec_interrupted(x) < 0 || exec_yield(x) < 0)) {
			graft_value_free(out);
			*out = graft_value_null();
			goto out;
		}
		out->u.list->items[i - from] = l.u.list->items[i];
		l.u.list->items[i] = graft_value_null();
	}
	rv = 0;
out:
	graft_value_free(&l);
	graft_value_free(&f);
	graft_value_free(&t);
	return rv;
}

static struct graft_value tri_value(int t)
{
	return t == CYPHER_NULL ? graft_value_null()
				: graft_value_bool(t == CYPHER_TRUE);
}

static int in_list(const struct graft_value *v, const struct graft_value *l)
{
	int res = CYPHER_FALSE;

	if (l->type == GRAFT_VALUE_NULL)
		return CYPHER_NULL;
	for (uint32_t i = 0; i < l->u.list->len; i++) {
		int t = cypher_equals(v, &l->u.list->items[i]);

		if (t == CYPHER_TRUE)
			return CYPHER_TRUE;
		if (t == CYPHER_NULL)
			res = CYPHER_NULL;
	}
	return res;
}

static int regex_match(struct exec_ctx *x, const struct graft_value *s,
		       const struct graft_value *re, int *res)
{
	bool matched;
	int rv;

	if (s->type != GRAFT_VALUE_STRING || re->type != GRAFT_VALUE_STRING) {
		*res = CYPHER_NULL;
		return 0;
	}
	rv = cypher_regex_match(&x->regex, re->u.s, s->u.s, &matched, x->err);
	if (rv != GRAFT_OK)
		return exec_rv(x, rv);
	*res = matched ? CYPHER_TRUE : CYPHER_FALSE;
	return 0;
}

static int string_pred(uint16_t op, const struct graft_value *a,
		       const struct graft_value *b)
{
	const struct graft_str *s, *t;

	if (a->type != GRAFT_VALUE_STRING || b->type != GRAFT_VALUE_STRING)
		return CYPHER_NULL;
	s = a->u.s;
	t = b->u.s;
	if (t->len > s->len)
		return CYPHER_FALSE;
	switch (op) {
	case AST_OP_STARTS:
		return memcmp(s->data, t->data, t->len) == 0;
	case AST_OP_ENDS:
		return memcmp(s->data + s->len - t->len, t->data, t->len) == 0;
	default:
		return t->len == 0 || memmem(s->data, s->len, t->data, t->len);
	}
}

static int compare_op(uint16_t op, const struct graft_value *a,
		      const struct graft_value *b)
{
	int c = 0;
	int t;

	if (op == AST_OP_EQ)
		return cypher_equals(a, b);
	if (op == AST_OP_NE) {
		t = cypher_equals(a, b);
		return t == CYPHER_NULL ? t : !t;
	}
	t = cypher_compare(a, b, &c);
	if (t != CYPHER_TRUE) /* NaN: false; incomparable: null */
		return t;
	switch (op) {
	case AST_OP_LT: return c < 0;
	case AST_OP_GT: return c > 0;
	case AST_OP_LE: return c <= 0;
	default: return c >= 0;
	}
}

static int binop(struct exec_ctx *x, struct ast *e, struct graft_value *out)
{
	static const enum cypher_arith arith[] = {
		[AST_OP_ADD] = CYPHER_ADD, [AST_OP_SUB] = CYPHER_SUB,
		[AST_OP_MUL] = CYPHER_MUL, [AST_OP_DIV] = CYPHER_DIV,
		[AST_OP_MOD] = CYPHER_MOD, [AST_OP_POW] = CYPHER_POW};
	struct graft_value v[2];
	int rv = 0, t = 0;

	if (eval_kids(x, e, 0, v) < 0)
		return -1;
	if (e->op <= AST_OP_POW) {
		rv = exec_rv(x, cypher_arith(&x->fc, arith[e->op], &v[0], &v[1],
					     out));
	} else if (e->op == AST_OP_IN) {
		if (v[1].type != GRAFT_VALUE_LIST &&
		    v[1].type != GRAFT_VALUE_NULL)
			rv = exec_fail(x, GRAFT_STATUS_TYPE_ERROR,
				       "Type mismatch: expected a List after IN but was %s",
				       cypher_type_name(&v[1]));
		else
			*out = tri_value(in_list(&v[0], &v[1]));
	} else if (e->op == AST_OP_REGEX) {
		rv = regex_match(x, &v[0], &v[1], &t);
		if (rv == 0)
			*out = tri_value(t);
	} else if (e->op >= AST_OP_STARTS) {
		*out = tri_value(string_pred(e->op, &v[0], &v[1]));
	} else {
		*out = tri_value(compare_op(e->op, &v[0], &v[1]));
	}
	free_vals(v, 2);
	return rv;
}

static int truth(struct exec_ctx *x, const struct graft_value *v)
{
	if (v->type == GRAFT_VALUE_NULL)
		return CYPHER_NULL;
	if (v->type != GRAFT_VALUE_BOOL)
		return exec_fail(x, GRAFT_STATUS_TYPE_ERROR,
				 "Type mismatch: expected Boolean but was %s",
				 cypher_type_name(v));
	return v->u.b ? CYPHER_TRUE : CYPHER_FALSE;
}

int eval_pred(struct exec_ctx *x, struct ast *e)
{
	struct graft_value v;
	int t;

	if (eval(x, e, &v) < 0)
		return -1;
	t = truth(x, &v);
	graft_value_free(&v);
	return t;
}

static int logic(struct exec_ctx *x, struct ast *e, struct graft_value *out)
{
	int a = eval_pred(x, e->kids[0]), b;

	if (a < 0)
		return -1;
	if (e->kind == AST_AND && a == CYPHER_FALSE) {
		*out = graft_value_bool(false);
		return 0;
	}
	if (e->kind == AST_OR && a == CYPHER_TRUE) {
		*out = graft_value_bool(true);
		return 0;
	}
	b = eval_pred(x, e->kids[1]);
	if (b < 0)
		return -1;
	if (e->kind == AST_XOR)
		*out = a == CYPHER_NULL || b == CYPHER_NULL
			       ? graft_value_null()
			       : graft_value_bool(a != b);
	else if (e->kind == AST_AND)
		*out = b == CYPHER_FALSE ? graft_value_bool(false)
					 : tri_value(a == CYPHER_NULL ||
							     b == CYPHER_NULL
						     ? CYPHER_NULL
						     : CYPHER_TRUE);
	else
		*out = b == CYPHER_TRUE ? graft_value_bool(true)
					: tri_value(a == CYPHER_NULL ||
							    b == CYPHER_NULL
						    ? CYPHER_NULL
						    : CYPHER_FALSE);
	return 0;
}

static int call_function(struct exec_ctx *x, struct ast *e,
			 struct graft_value *out)
{
	const struct cypher_func *f = e->plan;
	struct graft_value stack[8], *args = stack;
	int rv;

	if (e->slot >= 0) /* an aggregate computed by the Aggregate operator */
		return exec_rv(x, cypher_value_copy(&x->fc, out,
						    &x->row[e->slot]));
	if (e->n > 8 && (args = graft_mem_calloc(e->n, sizeof *args)) == NULL)
		return exec_oom(x);
	rv = eval_kids(x, e, 0, args);
	if (rv == 0) {
		x->err->code[0] = 0;
		rv = exec_rv(x, f->fn(&x->fc, args, e->n, out));
		free_vals(args, e->n);
	}
	if (args != stack)
		graft_mem_free(args);
	return rv;
}

static int list_literal(struct exec_ctx *x, struct ast *e,
			struct graft_value *out)
{
	if (graft_value_list(out, e->n) != GRAFT_OK)
		return exec_oom(x);
	if (eval_kids(x, e, 0, out->u.list->items) < 0) {
		out->u.list->len = 0;
		graft_value_free(out);
		return -1;
	}
	return 0;
}

static int map_put(struct exec_ctx *x, struct graft_value *m, uint32_t i,
		   const char *key, struct graft_value v)
{
	m->u.map->entries[i].key = graft_str_new(key, strlen(key));
	m->u.map->entries[i].value = v;
	return m->u.map->entries[i].key ? 0 : exec_oom(x);
}

static int map_literal(struct exec_ctx *x, struct ast *e,
		       struct graft_value *out)
{
	if (graft_value_map(out, e->n) != GRAFT_OK)
		return exec_oom(x);
	for (uint32_t i = 0; i < e->n; i++) {
		struct graft_value v;

		if (eval(x, e->kids[i]->kids[0], &v) < 0 ||
		    map_put(x, out, i, e->kids[i]->name, v) < 0) {
			out->u.map->len = i + (v.type != 0);
			graft_value_free(out);
			return -1;
		}
	}
	graft_map_sort(out->u.map);
	return 0;
}

/* All properties of an entity or map as a map value. */
static int all_props(struct exec_ctx *x, const struct graft_value *v,
		     struct graft_value *out)
{
	if (v->type == GRAFT_VALUE_MAP)
		return exec_rv(x, graft_value_copy(out, v));
	if (v->type == GRAFT_VALUE_NODE) {
		struct graft_value labels = {0};
		int rv = cypher_node_view(x->ctx, (uint64_t)v->u.i, &labels, out);

		graft_value_free(&labels);
		return exec_rv(x, rv);
	}
	if (v->type == GRAFT_VALUE_REL) {
		const char *type;
		uint64_t s, d;

		return exec_rv(x, cypher_rel_view(x->ctx, (uint64_t)v->u.i,
						  &type, &s, &d, out));
	}
	return exec_fail(x, GRAFT_STATUS_TYPE_ERROR,
			 "Type mismatch: expected a map, node or relationship but was %s",
			 cypher_type_name(v));
}

/* Map projection n{.a, .*, k: e, v}: item values collected then sorted. */
static int map_projection(struct exec_ctx *x, struct ast *e,
			  struct graft_value *out)
{
	struct graft_value base, acc = {0}, tmp;
	uint32_t n = 0, cap = 0;
	int rv = -1;

	if (eval(x, e->kids[0], &base) < 0)
		return -1;
	if (base.type == GRAFT_VALUE_NULL) {
		*out = base;
		return 0;
	}
	for (uint32_t i = 1; i < e->n; i++)
		cap += e->kids[i]->kind == AST_NAME ? 0 : 1;
	if (graft_value_map(&acc, cap) != GRAFT_OK)
		goto oom;
	acc.u.map->len = 0;
	for (uint32_t i = 1; i < e->n; i++) {
		struct ast *it = e->kids[i];
		const char *key = it->name;

		if (it->kind == AST_NAME) {
			if (all_props(x, &base, &tmp) < 0)
				goto out;
			struct graft_map_entry *m = graft_mem_realloc(
				acc.u.map->entries,
				(n + tmp.u.map->len + cap + 1) * sizeof *m);
			if (m == NULL) {
				graft_value_free(&tmp);
				goto oom;
			}
			acc.u.map->entries = m;
			for (uint32_t j = 0; j < tmp.u.map->len; j++)
				m[n++] = tmp.u.map->entries[j];
			tmp.u.map->len = 0;
			graft_value_free(&tmp);
			acc.u.map->len = n;
			continue;
		}
		if (it->kind == AST_PROP)
			rv = property(x, &base, key, &tmp);
		else if (it->kind == AST_ITEM)
			rv = eval(x, it->kids[0], &tmp);
		else
			rv = eval(x, it, &tmp);
		if (rv < 0)
			goto out;
		rv = -1;
		if (map_put(x, &acc, n, key, tmp) < 0)
			goto out;
		acc.u.map->len = ++n;
	}
	graft_map_sort(acc.u.map);
	graft_value_free(&base);
	*out = acc;
	return 0;
oom:
	exec_oom(x);
out:
	graft_value_free(&base);
	graft_value_free(&acc);
	return -1;
}

static int case_expr(struct exec_ctx *x, struct ast *e, struct graft_value *out)
{
	uint32_t i = 0, end = e->n - ((e->flags & AST_F_ELSE) ? 1 : 0);
	struct graft_value test = {0};

	if ((e->flags & AST_F_SIMPLE) && eval(x, e->kids[i++], &test) < 0)
		return -1;
	for (; i + 1 < end + 1 && i < end; i += 2) {
		int t;

		if (e->flags & AST_F_SIMPLE) {
			struct graft_value w;

			if (eval(x, e->kids[i], &w) < 0)
				goto err;
			t = cypher_equals(&test, &w);
			graft_value_free(&w);
		} else {
			t = eval_pred(x, e->kids[i]);
			if (t < 0)
				goto err;
		}
		if (t == CYPHER_TRUE) {
			graft_value_free(&test);
			return eval(x, e->kids[i + 1], out);
		}
	}
	graft_value_free(&test);
	if (e->flags & AST_F_ELSE)
		return eval(x, e->kids[e->n - 1], out);
	*out = graft_value_null();
	return 0;
err:
	graft_value_free(&test);
	return -1;
}

/* Iterates the list of a comprehension or quantifier, binding e->slot. */
typedef int (*each_fn)(struct exec_ctx *x, struct ast *e, void *acc);

static int each_item(struct exec_ctx *x, struct ast *e, struct ast *listx,
		     int32_t slot, each_fn fn, void *acc, bool *isnull)
{
	struct graft_value l;
	int rv = 0;

	if (eval(x, listx, &l) < 0)
		return -1;
	*isnull = l.type == GRAFT_VALUE_NULL;
	if (*isnull)
		return 0;
	if (l.type != GRAFT_VALUE_LIST) {
		rv = exec_fail(x, GRAFT_STATUS_TYPE_ERROR,
			       "Type mismatch: expected a List but was %s",
			       cypher_type_name(&l));
		graft_value_free(&l);
		return rv;
	}
	for (uint32_t i = 0; rv == 0 && i < l.u.list->len; i++) {
		row_set(x, slot, l.u.list->items[i]);
		l.u.list->items[i] = graft_value_null();
		rv = exec_tick(x) < 0 ? -1 : fn(x, e, acc);
	}
	graft_value_free(&l);
	return rv < 0 ? -1 : 0;
}

struct comp_acc {
	struct graft_value list;
	uint32_t n, cap;
};

static int comp_push(struct exec_ctx *x, struct comp_acc *c,
		     struct graft_value v)
{
	if (c->n == c->cap) {
		uint32_t cap = c->cap ? c->cap * 2 : 8;
		struct graft_value *p =
			graft_mem_realloc(c->list.u.list->items, cap * sizeof *p);

		if (p == NULL) {
			graft_value_free(&v);
			return exec_oom(x);
		}
		c->list.u.list->items = p;
		c->cap = cap;
	}
	c->list.u.list->items[c->n++] = v;
	c->list.u.list->len = c->n;
	return 0;
}

static int comp_step(struct exec_ctx *x, struct ast *e, void *p)
{
	struct comp_acc *c = p;
	struct graft_value v;

	if (e->kids[1] != NULL) {
		int t = eval_pred(x, e->kids[1]);

		if (t < 0)
			return -1;
		if (t != CYPHER_TRUE)
			return 0;
	}
	if (e->kids[2] != NULL) {
		if (eval(x, e->kids[2], &v) < 0)
			return -1;
	} else if (graft_value_copy(&v, &x->row[e->slot]) != GRAFT_OK) {
		return exec_oom(x);
	}
	return comp_push(x, c, v);
}

static int comp_init(struct exec_ctx *x, struct comp_acc *c)
{
	memset(c, 0, sizeof *c);
	if (graft_value_list(&c->list, 0) != GRAFT_OK)
		return exec_oom(x);
	return 0;
}

static int list_comp(struct exec_ctx *x, struct ast *e, struct graft_value *out)
{
	struct comp_acc c;
	bool isnull;

	if (comp_init(x, &c) < 0)
		return -1;
	if (each_item(x, e, e->kids[0], e->slot, comp_step, &c, &isnull) < 0) {
		graft_value_free(&c.list);
		return -1;
	}
	if (isnull) {
		graft_value_free(&c.list);
		*out = graft_value_null();
		return 0;
	}
	*out = c.list;
	return 0;
}

struct quant_acc {
	uint32_t trues, falses, nulls;
};

static int quant_step(struct exec_ctx *x, struct ast *e, void *p)
{
	struct quant_acc *q = p;
	int t = eval_pred(x, e->kids[1]);

	if (t < 0)
		return -1;
	if (t == CYPHER_TRUE)
		q->trues++;
	else if (t == CYPHER_FALSE)
		q->falses++;
	else
		q->nulls++;
	return 0;
}

static int quantifier(struct exec_ctx *x, struct ast *e, struct graft_value *out)
{
	struct quant_acc q = {0};
	bool isnull;
	int t;

	if (each_item(x, e, e->kids[0], e->slot, quant_step, &q, &isnull) < 0)
		return -1;
	if (isnull) {
		*out = graft_value_null();
		return 0;
	}
	switch (e->op) {
	case AST_Q_ALL:
		t = q.falses ? CYPHER_FALSE : q.nulls ? CYPHER_NULL : CYPHER_TRUE;
		break;
	case AST_Q_ANY:
		t = q.trues ? CYPHER_TRUE : q.nulls ? CYPHER_NULL : CYPHER_FALSE;
		break;
	case AST_Q_NONE:
		t = q.trues ? CYPHER_FALSE : q.nulls ? CYPHER_NULL : CYPHER_TRUE;
		break;
	default:
		t = q.trues > 1 ? CYPHER_FALSE
		    : q.nulls  ? CYPHER_NULL
			       : (q.trues == 1 ? CYPHER_TRUE : CYPHER_FALSE);
		break;
	}
	*out = tri_value(t);
	return 0;
}

static int reduce_step(struct exec_ctx *x, struct ast *e, void *p)
{
	struct graft_value v;

	(void)p;
	if (eval(x, e->kids[2], &v) < 0)
		return -1;
	row_set(x, e->slot, v);
	return 0;
}

static int reduce(struct exec_ctx *x, struct ast *e, struct graft_value *out)
{
	struct graft_value init;
	bool isnull;

	if (eval(x, e->kids[0], &init) < 0)
		return -1;
	row_set(x, e->slot, init);
	if (each_item(x, e, e->kids[1], e->slot2, reduce_step, NULL,
		      &isnull) < 0)
		return -1;
	if (isnull) {
		*out = graft_value_null();
		return 0;
	}
	*out = x->row[e->slot];
	x->row[e->slot] = graft_value_null();
	return 0;
}

/* Subqueries in expressions: the planner left a struct subplan in e->plan. */
static int subquery(struct exec_ctx *x, struct ast *e, struct graft_value *out)
{
	struct subplan *sp = e->plan;
	struct comp_acc c;
	int64_t count = 0;
	int r;

	if (comp_init(x, &c) < 0)
		return -1;
	if (sp->root->vt->open(sp->root, x) < 0)
		goto err;
	while ((r = sp->root->vt->next(sp->root, x)) > 0) {
		struct graft_value v;

		count++;
		if (e->kind == AST_EXISTS || e->kind == AST_PATTERN_PRED)
			break;
		if (e->kind == AST_COUNT_SUB)
			continue;
		if (sp->proj != NULL) {
			if (eval(x, sp->proj, &v) < 0)
				goto err;
		} else if (graft_value_copy(&v, &x->row[sp->slot]) != GRAFT_OK) {
			exec_oom(x);
			goto err;
		}
		if (comp_push(x, &c, v) < 0)
			goto err;
	}
	if (r < 0)
		goto err;
	if (e->kind == AST_EXISTS || e->kind == AST_PATTERN_PRED) {
		graft_value_free(&c.list);
		*out = graft_value_bool(count > 0);
	} else if (e->kind == AST_COUNT_SUB) {
		graft_value_free(&c.list);
		*out = graft_value_int(count);
	} else {
		*out = c.list;
	}
	return 0;
err:
	graft_value_free(&c.list);
	return -1;
}

bool exec_labels_match(struct exec_ctx *x, uint64_t id, const struct ast *owner,
		       uint32_t from)
{
	bool any_wanted = false, any_found = false;

	for (uint32_t i = from; i < owner->n; i++) {
		const struct ast *l = owner->kids[i];
		uint32_t t = exec_token(x, GRAPH_TOKEN_LABEL, l->name);
		/* read even for a label no node has (GRAPH_NO_TOKEN): the
		 * read records the node's version, so that a commit giving
		 * it the label meanwhile conflicts */
		bool has = db_tx_node_has_label(x->tx, id, t);

		x->dbhits++;
		if (l->op == AST_LABEL_NOT && has)
			return false;
		if (l->op == AST_LABEL_ALL && !has)
			return false;
		if (l->op == AST_LABEL_ANY) {
			any_wanted = true;
			any_found |= has;
		}
	}
	return !any_wanted || any_found;
}

static int label_test(struct exec_ctx *x, struct ast *e, struct graft_value *out)
{
	struct graft_value v;

	if (eval(x, e->kids[0], &v) < 0)
		return -1;
	if (v.type == GRAFT_VALUE_NULL) {
		*out = v;
		return 0;
	}
	if (v.type != GRAFT_VALUE_NODE && v.type != GRAFT_VALUE_REL) {
		graft_value_free(&v);
		return exec_fail(x, GRAFT_STATUS_TYPE_ERROR,
				 "Type mismatch: expected Node but was %s",
				 cypher_type_name(&v));
	}
	bool all = true;
	for (uint32_t i = 1; i < e->n && all && v.type == GRAFT_VALUE_REL; i++) {
		struct graph_rel_ends ends;
		uint32_t t = exec_token(x, GRAPH_TOKEN_RELTYPE, e->kids[i]->name);

		all = db_tx_rel_ends(x->tx, (uint64_t)v.u.i, &ends) &&
		      ends.type == t;
	}
	if (v.type == GRAFT_VALUE_NODE)
		all = exec_labels_match(x, (uint64_t)v.u.i, e, 1);
	*out = graft_value_bool(all);
	return 0;
}

static int unary(struct exec_ctx *x, struct ast *e, struct graft_value *out)
{
	struct graft_value v;
	int rv = 0;

	if (eval(x, e->kids[0], &v) < 0)
		return -1;
	switch (e->kind) {
	case AST_NOT: {
		int t = truth(x, &v);

		if (t < 0)
			rv = -1;
		else
			*out = tri_value(t == CYPHER_NULL ? t : !t);
		break;
	}
	case AST_NEG:
		rv = exec_rv(x, cypher_negate(&x->fc, &v, out));
		break;
	case AST_IS_NULL:
		*out = graft_value_bool((v.type == GRAFT_VALUE_NULL) !=
					((e->flags & AST_F_NOT) != 0));
		break;
	default:
		break;
	}
	graft_value_free(&v);
	return rv;
}

static int two(struct exec_ctx *x, struct ast *e, struct graft_value *out)
{
	struct graft_value v[2];
	int rv;

	if (eval_kids(x, e, 0, v) < 0)
		return -1;
	if (e->kind == AST_PROP) {
		rv = property(x, &v[0], e->name, out);
		graft_value_free(&v[0]);
		return rv;
	}
	rv = list_index(x, &v[0], &v[1], out);
	free_vals(v, 2);
	return rv;
}

int eval(struct exec_ctx *x, struct ast *e, struct graft_value *out)
{
	*out = graft_value_null();
	switch (e->kind) {
	case AST_LIT:
		return exec_rv(x, graft_value_copy(out, &e->v));
	case AST_PARAM:
		return param(x, e, out);
	case AST_VAR:
		/* a row's value is the statement's own (never the graph's):
		 * copying a large list asks, and may yield, as range() does */
		return exec_rv(x, cypher_value_copy(&x->fc, out,
						    &x->row[e->slot]));
	case AST_PROP:
	case AST_INDEX:
		return two(x, e, out);
	case AST_SLICE:
		return slice(x, e, out);
	case AST_BINOP:
		return binop(x, e, out);
	case AST_NOT:
	case AST_NEG:
	case AST_IS_NULL:
		return unary(x, e, out);
	case AST_AND:
	case AST_OR:
	case AST_XOR:
		return logic(x, e, out);
	case AST_FUNC:
	case AST_COUNT_STAR:
		return call_function(x, e, out);
	case AST_LIST:
		return list_literal(x, e, out);
	case AST_MAP:
		return map_literal(x, e, out);
	case AST_MAP_PROJ:
		return map_projection(x, e, out);
	case AST_CASE:
		return case_expr(x, e, out);
	case AST_LIST_COMP:
		return list_comp(x, e, out);
	case AST_QUANT:
		return quantifier(x, e, out);
	case AST_REDUCE:
		return reduce(x, e, out);
	case AST_EXISTS:
	case AST_COUNT_SUB:
	case AST_COLLECT_SUB:
	case AST_PATTERN_PRED:
	case AST_PATTERN_COMP:
		return subquery(x, e, out);
	case AST_LABEL_TEST:
		return label_test(x, e, out);
	default:
		return exec_fail(x, GRAFT_STATUS_SYNTAX_ERROR,
				 "This expression cannot be evaluated here");
	}
}

bool ast_is_aggregate(const struct ast *e)
{
	if (e == NULL)
		return false;
	if (e->kind == AST_COUNT_STAR)
		return true;
	if (e->kind == AST_FUNC &&
	    cypher_agg_lookup(e->name, strlen(e->name)) != NULL)
		return true;
	/* subqueries and comprehensions have their own scope */
	if (e->kind == AST_EXISTS || e->kind == AST_COUNT_SUB ||
	    e->kind == AST_COLLECT_SUB || e->kind == AST_PATTERN_COMP)
		return false;
	for (uint32_t i = 0; i < e->n; i++)
		if (ast_is_aggregate(e->kids[i]))
			return true;
	return false;
}
