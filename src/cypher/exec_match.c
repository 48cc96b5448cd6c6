/* Pattern matching: a MATCH clause is a chain of steps (scan or check a
 * node, expand one relationship or a variable-length path, build a path)
 * searched depth-first with explicit cursors, so rows come out one at a time
 * and a large match never sits in memory. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/buf.h"
#include "ops.h"
#include "plan_int.h"

struct match_op {
	struct op base;
	struct match_step *steps;
	uint32_t n;
	int32_t *rels;       /* what the steps' uniq point into */
	struct ast *where;
	bool optional;
	int32_t *new_slots;
	uint32_t nnew;
	/* state */
	int level;
	bool have_input;
	bool matched;
};

/* Node checks --------------------------------------------------------- */

static int props_match(struct exec_ctx *x, struct ast *props,
		       const struct graft_value *ent)
{
	struct graft_value m, v;
	int ok = 1;

	if (props == NULL)
		return 1;
	if (eval(x, props, &m) < 0)
		return -1;
	if (m.type != GRAFT_VALUE_MAP) {
		graft_value_free(&m);
		return m.type == GRAFT_VALUE_NULL
			       ? 1
			       : exec_fail(x, GRAFT_STATUS_TYPE_ERROR,
					   "Expected a map of properties in a pattern");
	}
	for (uint32_t i = 0; ok == 1 && i < m.u.map->len; i++) {
		struct graft_map_entry *e = &m.u.map->entries[i];
		uint32_t k = exec_token(x, GRAPH_TOKEN_PROPKEY, e->key->data);
		/* read even for a key nothing has (GRAPH_NO_TOKEN: null), so
		 * that the entity's version is recorded */
		const struct graft_value *p =
			ent->type == GRAFT_VALUE_NODE
				? db_tx_node_prop(x->tx, (uint64_t)ent->u.i, k)
				: db_tx_rel_prop(x->tx, (uint64_t)ent->u.i, k);
		v = p ? *p : graft_value_null();
		ok = cypher_equals(&v, &e->value) == CYPHER_TRUE;
	}
	graft_value_free(&m);
	return ok;
}

/* Labels, properties and the inline WHERE of a node pattern, with the node
 * already bound in its slot. */
static int node_ok(struct exec_ctx *x, struct match_step *s)
{
	struct ast *np = s->node_pat;
	const struct graft_value *v = &x->row[s->node_slot];
	int r;

	if (np == NULL)
		return 1;
	if (!exec_labels_match(x, (uint64_t)v->u.i, np->kids[0], 0))
		return 0;
	r = props_match(x, np->kids[1], v);
	if (r != 1 || np->n < 3)
		return r;
	r = eval_pred(x, np->kids[2]);
	return r < 0 ? -1 : r == CYPHER_TRUE;
}

static int rel_ok(struct exec_ctx *x, struct match_step *s,
		  const struct graft_value *rel)
{
	struct ast *rp = s->rel_pat;
	int r;

	if (rp == NULL)
		return 1;
	r = props_match(x, rp->kids[1], rel);
	if (r != 1 || rp->n < 3)
		return r;
	r = eval_pred(x, rp->kids[2]);
	return r < 0 ? -1 : r == CYPHER_TRUE;
}

/* Scan ---------------------------------------------------------------- */

static bool seek_possible(struct exec_ctx *x, struct match_step *s,
			  uint32_t *label, uint32_t *key)
{
	if (s->seek_label == NULL)
		return false;
	*label = exec_token(x, GRAPH_TOKEN_LABEL, s->seek_label);
	*key = exec_token(x, GRAPH_TOKEN_PROPKEY, s->seek_key);
	return *label != GRAPH_NO_TOKEN && *key != GRAPH_NO_TOKEN &&
	       graph_index_exists(db_graph(x->db), *label, *key);
}

/* The index holds values exactly; Cypher's = finds 1.0 for 1 too. */
static void other_number(const struct graft_value *v, struct graft_value *alt)
{
	if (v->type == GRAFT_VALUE_INT &&
	    (double)v->u.i == (double)(int64_t)(double)v->u.i)
		*alt = graft_value_float((double)v->u.i);
	else if (v->type == GRAFT_VALUE_FLOAT && v->u.f == (double)(int64_t)v->u.f &&
		 v->u.f >= -9.2e18 && v->u.f <= 9.2e18)
		*alt = graft_value_int((int64_t)v->u.f);
	else
		*alt = graft_value_null();
}

static int id_order(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The same bound in the other number type, widened to stay inclusive:
 * the WHERE clause still filters exactly. */
static bool widen(const struct graft_value *v, uint8_t to, bool up,
		  struct graft_value *out)
{
	if (v->type == to) {
		*out = *v;
		return true;
	}
	if (to == GRAFT_VALUE_FLOAT) {
		*out = graft_value_float((double)v->u.i);
		return true;
	}
	if (v->u.f != v->u.f || v->u.f > 9.2e18 || v->u.f < -9.2e18)
		return false; /* NaN or out of range: no int bound */
	*out = graft_value_int((int64_t)(up ? ceil(v->u.f) : floor(v->u.f)));
	return true;
}

static bool numeric(const struct graft_value *v)
{
	return v->type == GRAFT_VALUE_INT || v->type == GRAFT_VALUE_FLOAT;
}

/* Candidates for one value type; exact bounds keep their inclusiveness. */
static int range_type(struct exec_ctx *x, struct match_step *s, uint32_t l,
		      uint32_t k, const struct graft_value *lo,
		      const struct graft_value *hi, uint8_t t)
{
	struct graft_value a, b;
	bool has_lo = lo && widen(lo, t, false, &a);
	bool has_hi = hi && widen(hi, t, true, &b);

	if ((lo && !has_lo) || (hi && !has_hi))
		return 0;
	return exec_rv(x, db_tx_index_range(
				  x->tx, l, k, has_lo ? &a : NULL,
				  !has_lo || lo->type != t || s->lo_incl,
				  has_hi ? &b : NULL,
				  !has_hi || hi->type != t || s->hi_incl,
				  &s->range_ids, &s->range_n, &s->range_cap));
}

/* STARTS WITH p: strings from p up to p with its last byte raised. */
static int range_prefix(struct exec_ctx *x, struct match_step *s, uint32_t l,
			uint32_t k, const struct graft_value *p)
{
	struct graft_value hi = {0};
	uint32_t n = p->u.s->len;
	int rv;

	if (n == 0 || (uint8_t)p->u.s->data[n - 1] == 0xff)
		return exec_rv(x, db_tx_index_range(x->tx, l, k, p, true, NULL,
						    false, &s->range_ids,
						    &s->range_n, &s->range_cap));
	if (graft_value_string(&hi, p->u.s->data, n) != GRAFT_OK)
		return exec_oom(x);
	hi.u.s->data[n - 1]++;
	rv = exec_rv(x, db_tx_index_range(x->tx, l, k, p, true, &hi, false,
					  &s->range_ids, &s->range_n,
					  &s->range_cap));
	graft_value_free(&hi);
	return rv;
}

static int range_bounds(struct exec_ctx *x, struct match_step *s, uint32_t l,
			uint32_t k, struct graft_value *lo, struct graft_value *hi)
{
	const struct graft_value *a = s->range_lo ? lo : NULL;
	const struct graft_value *b = s->range_hi ? hi : NULL;

	if ((a && a->type == GRAFT_VALUE_NULL) ||
	    (b && b->type == GRAFT_VALUE_NULL))
		return 0; /* compared with null: nothing matches */
	if (s->prefix)
		return a->type == GRAFT_VALUE_STRING
			       ? range_prefix(x, s, l, k, a)
			       : 0;
	if (a && b && (numeric(a) != numeric(b) ||
		       (!numeric(a) && a->type != b->type)))
		return 0; /* incomparable bounds: nothing matches */
	if (numeric(a ? a : b))
		return range_type(x, s, l, k, a, b, GRAFT_VALUE_INT) < 0 ||
				       range_type(x, s, l, k, a, b,
						  GRAFT_VALUE_FLOAT) < 0
			       ? -1
			       : 0;
	return range_type(x, s, l, k, a, b, (a ? a : b)->type);
}

/* Range mode: the candidate ids, sorted, taken once at the start. */
static int range_init(struct exec_ctx *x, struct match_step *s, uint32_t l,
		      uint32_t k)
{
	struct graft_value lo = {0}, hi = {0};
	int rv = -1;

	s->range_mode = true;
	s->range_n = s->range_pos = 0;
	if ((s->range_lo && eval(x, s->range_lo, &lo) < 0) ||
	    (s->range_hi && eval(x, s->range_hi, &hi) < 0))
		goto out;
	rv = range_bounds(x, s, l, k, &lo, &hi);
	if (rv == 0 && s->range_n > 1) /* two number types: merge */
		qsort(s->range_ids, s->range_n, sizeof *s->range_ids, id_order);
out:
	graft_value_free(&lo);
	graft_value_free(&hi);
	return rv;
}

static int scan_init(struct exec_ctx *x, struct match_step *s)
{
	uint32_t label, key;
	struct ast *labels = s->node_pat ? s->node_pat->kids[0] : NULL;

	graft_value_free(&s->seek);
	s->seek2 = graft_value_null();
	s->second = false;
	s->once = false;
	s->range_mode = false;
	if (s->range_label != NULL) {
		label = exec_token(x, GRAPH_TOKEN_LABEL, s->range_label);
		key = exec_token(x, GRAPH_TOKEN_PROPKEY, s->range_key);
		if (label != GRAPH_NO_TOKEN && key != GRAPH_NO_TOKEN &&
		    graph_index_exists(db_graph(x->db), label, key))
			return range_init(x, s, label, key);
	}
	if (seek_possible(x, s, &label, &key)) {
		if (eval(x, s->seek_value, &s->seek) < 0)
			return -1;
		if (s->seek.type == GRAFT_VALUE_NULL) {
			s->once = true; /* = null matches nothing */
			return 0;
		}
		other_number(&s->seek, &s->seek2);
		s->seek_labeltok = label;
		s->seek_keytok = key;
		db_cursor_index(&s->cur, x->tx, label, key, &s->seek);
		return 0;
	}
	if (labels != NULL && labels->n > 0 &&
	    labels->kids[0]->op == AST_LABEL_ALL) {
		const char *name = labels->kids[0]->name;

		label = exec_token(x, GRAPH_TOKEN_LABEL, name);
		if (label == GRAPH_NO_TOKEN) {
			/* no node has it: a scan that finds none */
			db_tx_read_absent(x->tx, GRAPH_TOKEN_LABEL, name,
					  strlen(name));
			s->once = true;
			return 0;
		}
		db_cursor_label(&s->cur, x->tx, label);
		return 0;
	}
	db_cursor_nodes(&s->cur, x->tx);
	return 0;
}

static int range_next(struct exec_ctx *x, struct match_step *s)
{
	while (s->range_pos < s->range_n) {
		uint64_t id = s->range_ids[s->range_pos++];
		int r;

		x->dbhits++;
		if (exec_tick(x) < 0)
			return -1;
		if (!db_tx_node_exists(x->tx, id))
			continue;
		row_set(x, s->node_slot, graft_value_ref(GRAFT_VALUE_NODE, id));
		r = node_ok(x, s);
		if (r != 0)
			return r;
	}
	return 0;
}

static int scan_next(struct exec_ctx *x, struct match_step *s)
{
	if (s->range_mode)
		return range_next(x, s);
	for (;;) {
		uint64_t id;
		int r;

		if (s->once || exec_tick(x) < 0)
			return s->once ? 0 : -1;
		id = db_cursor_next(&s->cur);
		x->dbhits++;
		if (id == GRAPH_NO_ID && !s->second &&
		    s->seek2.type != GRAFT_VALUE_NULL) {
			s->second = true;
			db_cursor_index(&s->cur, x->tx, s->seek_labeltok,
					s->seek_keytok, &s->seek2);
			continue;
		}
		if (id == GRAPH_NO_ID)
			return 0;
		row_set(x, s->node_slot, graft_value_ref(GRAFT_VALUE_NODE, id));
		r = node_ok(x, s);
		if (r != 0)
			return r;
	}
}

static int check_next(struct exec_ctx *x, struct match_step *s, bool init)
{
	const struct graft_value *v = &x->row[s->node_slot];

	if (!init || v->type == GRAFT_VALUE_NULL)
		return 0;
	if (v->type != GRAFT_VALUE_NODE)
		return exec_fail(x, GRAFT_STATUS_TYPE_ERROR,
				 "Type mismatch: expected Node but was %s",
				 cypher_type_name(v));
	if (!db_tx_node_exists(x->tx, (uint64_t)v->u.i))
		return 0;
	return node_ok(x, s);
}

/* Expand -------------------------------------------------------------- */

static int resolve_types(struct exec_ctx *x, struct match_step *s)
{
	struct ast *types = s->rel_pat ? s->rel_pat->kids[0] : NULL;

	s->ntypes = 0;
	s->any_type = types == NULL || types->n == 0;
	for (uint32_t i = 0; !s->any_type && i < types->n; i++) {
		const char *name = types->kids[i]->name;
		uint32_t t = exec_token(x, GRAPH_TOKEN_RELTYPE, name);

		if (t == GRAPH_NO_TOKEN)
			db_tx_read_absent(x->tx, GRAPH_TOKEN_RELTYPE, name,
					  strlen(name));
		else if (s->ntypes < 8)
			s->types[s->ntypes++] = t;
	}
	return s->any_type || s->ntypes > 0;
}

static bool type_ok(const struct match_step *s, uint32_t type)
{
	if (s->any_type)
		return true;
	for (uint32_t i = 0; i < s->ntypes; i++)
		if (s->types[i] == type)
			return true;
	return false;
}

static bool rel_in_slot(const struct graft_value *v, uint64_t rel)
{
	if (v->type == GRAFT_VALUE_REL)
		return (uint64_t)v->u.i == rel;
	if (v->type != GRAFT_VALUE_LIST)
		return false;
	for (uint32_t i = 0; i < v->u.list->len; i++)
		if (rel_in_slot(&v->u.list->items[i], rel))
			return true;
	return false;
}

static bool rel_unique(struct exec_ctx *x, const struct match_step *s,
		       uint64_t rel)
{
	for (uint32_t i = 0; i < s->nuniq; i++)
		if (rel_in_slot(&x->row[s->uniq[i]], rel))
			return false;
	return true;
}

static void start_expand(struct exec_ctx *x, struct match_step *s,
			 struct db_cursor *c, uint64_t node)
{
	db_cursor_expand(c, x->tx, node, (enum graph_dir)s->dir,
			 s->ntypes == 1 && !s->any_type ? s->types[0]
							: GRAPH_NO_TOKEN);
}

/* Next relationship from a cursor that passes type and uniqueness checks;
 * *other is its far end. */
static uint64_t next_rel(struct exec_ctx *x, struct match_step *s,
			 struct db_cursor *c, uint64_t from, uint64_t *other)
{
	for (;;) {
		struct graph_rel_ends ends;
		uint64_t r = db_cursor_next(c);

		x->dbhits++;
		if (r == GRAPH_NO_ID)
			return r;
		if (!db_tx_rel_ends(x->tx, r, &ends) || !type_ok(s, ends.type) ||
		    !rel_unique(x, s, r))
			continue;
		if (s->dir == GRAPH_OUT)
			*other = ends.dst;
		else if (s->dir == GRAPH_IN)
			*other = ends.src;
		else
			*other = ends.src == from ? ends.dst : ends.src;
		return r;
	}
}

static int bind_target(struct exec_ctx *x, struct match_step *s, uint64_t node)
{
	const struct graft_value *t = &x->row[s->node_slot];

	if (s->target_bound) /* the pattern may still ask for labels */
		return t->type == GRAFT_VALUE_NODE && (uint64_t)t->u.i == node
			       ? node_ok(x, s)
			       : 0;
	row_set(x, s->node_slot, graft_value_ref(GRAFT_VALUE_NODE, node));
	return node_ok(x, s);
}

static int from_node(struct exec_ctx *x, struct match_step *s, uint64_t *id)
{
	const struct graft_value *f = &x->row[s->from_slot];

	if (f->type == GRAFT_VALUE_NULL)
		return 0;
	if (f->type != GRAFT_VALUE_NODE)
		return exec_fail(x, GRAFT_STATUS_TYPE_ERROR,
				 "Type mismatch: expected Node but was %s",
				 cypher_type_name(f));
	*id = (uint64_t)f->u.i;
	return 1;
}

/* The far end of rel from node in the step's direction, or GRAPH_NO_ID if
 * rel does not leave node that way (or is not of the step's types). */
static uint64_t follow(struct exec_ctx *x, struct match_step *s, uint64_t rel,
		       uint64_t node)
{
	struct graph_rel_ends e;

	if (!db_tx_rel_ends(x->tx, rel, &e) || !type_ok(s, e.type))
		return GRAPH_NO_ID;
	if (e.src == node && s->dir != GRAPH_IN)
		return e.dst;
	if (e.dst == node && s->dir != GRAPH_OUT)
		return e.src;
	return GRAPH_NO_ID;
}

/* A relationship (or list of them) bound by an earlier clause: the one
 * candidate is to follow it from the source node. */
static int bound_next(struct exec_ctx *x, struct match_step *s, bool init)
{
	const struct graft_value *v = &x->row[s->rel_slot];
	uint64_t node = GRAPH_NO_ID, n;
	int ok;

	if (!init || v->type == GRAFT_VALUE_NULL)
		return 0;
	ok = from_node(x, s, &node);
	if (ok <= 0 || !resolve_types(x, s))
		return ok < 0 ? -1 : 0;
	n = v->type == GRAFT_VALUE_LIST ? v->u.list->len : 1;
	if (v->type == GRAFT_VALUE_LIST &&
	    ((int64_t)n < s->min || (s->max >= 0 && (int64_t)n > s->max)))
		return 0;
	for (uint32_t i = 0; i < n && node != GRAPH_NO_ID; i++) {
		const struct graft_value *r =
			v->type == GRAFT_VALUE_LIST ? &v->u.list->items[i] : v;

		if (r->type != GRAFT_VALUE_REL)
			return exec_fail(x, GRAFT_STATUS_TYPE_ERROR,
					 "Type mismatch: expected Relationship but was %s",
					 cypher_type_name(r));
		node = follow(x, s, (uint64_t)r->u.i, node);
	}
	if (node == GRAPH_NO_ID)
		return 0;
	ok = rel_ok(x, s, v);
	return ok == 1 ? bind_target(x, s, node) : ok;
}

static int expand_next(struct exec_ctx *x, struct match_step *s, bool init)
{
	uint64_t from = 0, other = 0, r;
	int ok;

	if (init) {
		ok = from_node(x, s, &from);
		if (ok <= 0 || !resolve_types(x, s)) {
			s->once = true;
			return ok < 0 ? -1 : 0;
		}
		s->once = false;
		start_expand(x, s, &s->cur, from);
	}
	if (s->once)
		return 0;
	from = (uint64_t)x->row[s->from_slot].u.i;
	for (;;) {
		if (exec_tick(x) < 0)
			return -1;
		r = next_rel(x, s, &s->cur, from, &other);
		if (r == GRAPH_NO_ID)
			return 0;
		row_set(x, s->rel_slot, graft_value_ref(GRAFT_VALUE_REL, r));
		ok = rel_ok(x, s, &x->row[s->rel_slot]);
		if (ok == 1)
			ok = bind_target(x, s, other);
		if (ok != 0)
			return ok;
	}
}

/* Variable length ------------------------------------------------------ */

static int push_frame(struct exec_ctx *x, struct match_step *s, uint64_t node)
{
	struct varlen_frame *f;

	if (s->nframes == s->frames_cap) {
		uint32_t cap = s->frames_cap ? s->frames_cap * 2 : 8;

		f = graft_mem_realloc(s->frames, cap * sizeof *f);
		if (f == NULL)
			return exec_oom(x);
		s->frames = f;
		s->frames_cap = cap;
	}
	f = &s->frames[s->nframes++];
	f->node = node;
	f->exhausted = s->max >= 0 && (int64_t)s->nrels >= s->max;
	if (!f->exhausted)
		start_expand(x, s, &f->cur, node);
	return 0;
}

static int push_rel(struct exec_ctx *x, struct match_step *s, uint64_t r)
{
	return exec_rv(x, graft_u64_push(&s->rels, &s->nrels, &s->rels_cap, r));
}

static bool in_path(const struct match_step *s, uint64_t r)
{
	for (size_t i = 0; i < s->nrels; i++)
		if (s->rels[i] == r)
			return true;
	return false;
}

static int bind_varlen(struct exec_ctx *x, struct match_step *s, uint64_t node)
{
	struct graft_value l;

	if (graft_value_list(&l, (uint32_t)s->nrels) != GRAFT_OK)
		return exec_oom(x);
	/* in pattern order, also when matched from the pattern's far end */
	for (size_t i = 0; i < s->nrels; i++)
		l.u.list->items[s->reversed ? s->nrels - 1 - i : i] =
			graft_value_ref(GRAFT_VALUE_REL, s->rels[i]);
	row_set(x, s->rel_slot, l);
	return bind_target(x, s, node);
}

static int varlen_next(struct exec_ctx *x, struct match_step *s, bool init)
{
	uint64_t from = 0, other = 0, r;
	int ok;

	if (init) {
		s->nframes = s->nrels = 0;
		s->zero_done = false;
		ok = from_node(x, s, &from);
		if (ok <= 0 || !resolve_types(x, s))
			return ok < 0 ? -1 : 0;
		if (push_frame(x, s, from) < 0)
			return -1;
		if (s->min == 0) {
			s->zero_done = true;
			ok = bind_varlen(x, s, from);
			if (ok != 0)
				return ok;
		}
	}
	while (s->nframes > 0) {
		struct varlen_frame *f = &s->frames[s->nframes - 1];

		if (exec_tick(x) < 0)
			return -1;
		r = f->exhausted ? GRAPH_NO_ID
				 : next_rel(x, s, &f->cur, f->node, &other);
		while (r != GRAPH_NO_ID && in_path(s, r))
			r = next_rel(x, s, &f->cur, f->node, &other);
		if (r == GRAPH_NO_ID) {
			s->nframes--;
			if (s->nrels > 0 && s->nframes > 0)
				s->nrels--;
			continue;
		}
		struct graft_value rv = graft_value_ref(GRAFT_VALUE_REL, r);
		ok = rel_ok(x, s, &rv);
		if (ok < 0)
			return -1;
		if (ok == 0)
			continue;
		if (push_rel(x, s, r) < 0 || push_frame(x, s, other) < 0)
			return -1;
		if ((int64_t)s->nrels >= s->min) {
			ok = bind_varlen(x, s, other);
			if (ok != 0)
				return ok;
		}
	}
	return 0;
}

/* Paths ---------------------------------------------------------------- */

static int path_push(struct graft_value *p, uint32_t *n, uint64_t id)
{
	struct graft_value *items = graft_mem_realloc(p->u.list->items,
					    (*n + 1) * sizeof *items);

	if (items == NULL)
		return GRAFT_ENOMEM;
	p->u.list->items = items;
	items[(*n)++] = graft_value_int((int64_t)id);
	p->u.list->len = *n;
	return GRAFT_OK;
}

static uint64_t far_end(struct exec_ctx *x, uint64_t rel, uint64_t from)
{
	struct graph_rel_ends e;

	if (!db_tx_rel_ends(x->tx, rel, &e))
		return from;
	return e.src == from ? e.dst : e.src;
}

static bool touches(struct exec_ctx *x, uint64_t rel, uint64_t node)
{
	struct graph_rel_ends e;

	return db_tx_rel_ends(x->tx, rel, &e) && (e.src == node || e.dst == node);
}

static int build_path(struct exec_ctx *x, struct match_step *s, bool init)
{
	struct graft_value p;
	uint32_t n = 0;
	uint64_t cur = GRAPH_NO_ID;

	if (!init)
		return 0;
	if (graft_value_list(&p, 0) != GRAFT_OK)
		return exec_oom(x);
	p.type = GRAFT_VALUE_PATH;
	for (uint32_t i = 0; i < s->npath; i++) {
		const struct graft_value *v = &x->row[s->path[i]];

		if (v->type == GRAFT_VALUE_NULL) {
			graft_value_free(&p);
			row_set(x, s->node_slot, graft_value_null());
			return 1;
		}
		if (i == 0) {
			cur = (uint64_t)v->u.i;
			if (path_push(&p, &n, cur) != GRAFT_OK)
				goto oom;
			continue;
		}
		if (i % 2 == 0) /* nodes after single rels were pushed */
			continue;
		const struct graft_value *rels = v;
		uint32_t k = v->type == GRAFT_VALUE_LIST ? v->u.list->len : 1;
		/* a list expanded from the far end runs backwards */
		bool back = k > 1 && !touches(x, (uint64_t)rels->u.list->items[0].u.i,
					      cur);
		for (uint32_t j = 0; j < k; j++) {
			uint64_t r = (uint64_t)(v->type == GRAFT_VALUE_LIST
							? rels->u.list->items[back ? k - 1 - j : j].u.i
							: v->u.i);

			cur = far_end(x, r, cur);
			if (path_push(&p, &n, r) != GRAFT_OK ||
			    path_push(&p, &n, cur) != GRAFT_OK)
				goto oom;
		}
	}
	row_set(x, s->node_slot, p);
	return 1;
oom:
	graft_value_free(&p);
	return exec_oom(x);
}

static int step_advance(struct exec_ctx *x, struct match_step *s)
{
	bool init = s->needs_init;

	s->needs_init = false;
	switch (s->kind) {
	case STEP_SCAN:
		if (init && scan_init(x, s) < 0)
			return -1;
		return scan_next(x, s);
	case STEP_CHECK:
		return check_next(x, s, init);
	case STEP_EXPAND:
		return s->rel_bound ? bound_next(x, s, init)
				    : expand_next(x, s, init);
	case STEP_VAREXPAND:
		return s->rel_bound ? bound_next(x, s, init)
				    : varlen_next(x, s, init);
	default:
		return build_path(x, s, init);
	}
}

/* The operator ------------------------------------------------------------ */

static int match_open(struct op *op, struct exec_ctx *x)
{
	struct match_op *m = (struct match_op *)op;

	m->have_input = false;
	return op->child->vt->open(op->child, x);
}

static int match_found(struct exec_ctx *x, struct match_op *m)
{
	int t;

	if (m->where == NULL)
		return 1;
	t = eval_pred(x, m->where);
	return t < 0 ? -1 : t == CYPHER_TRUE;
}

static int match_search(struct op *op, struct exec_ctx *x);

/* PROFILE: the database hits made while this operator searched. */
static int match_next(struct op *op, struct exec_ctx *x)
{
	uint64_t before = x->dbhits;
	int r = match_search(op, x);

	op->dbhits += x->dbhits - before;
	return r;
}

static int match_search(struct op *op, struct exec_ctx *x)
{
	struct match_op *m = (struct match_op *)op;
	int r;

	for (;;) {
		if (!m->have_input) {
			r = op->child->vt->next(op->child, x);
			if (r <= 0)
				return r;
			m->have_input = true;
			m->matched = false;
			m->level = 0;
			m->steps[0].needs_init = true;
		}
		while (m->level >= 0) {
			struct match_step *s = &m->steps[m->level];

			r = step_advance(x, s);
			if (r < 0)
				return -1;
			if (r == 0) {
				m->level--;
				continue;
			}
			if ((uint32_t)m->level + 1 < m->n) {
				m->level++;
				m->steps[m->level].needs_init = true;
				continue;
			}
			r = match_found(x, m);
			if (r < 0)
				return -1;
			if (r == 1) {
				m->matched = true;
				op->rows++;
				return 1;
			}
		}
		m->have_input = false;
		if (m->optional && !m->matched) {
			for (uint32_t i = 0; i < m->nnew; i++)
				row_set(x, m->new_slots[i], graft_value_null());
			op->rows++;
			return 1;
		}
	}
}

static void match_free(struct op *op)
{
	struct match_op *m = (struct match_op *)op;

	for (uint32_t i = 0; i < m->n; i++) {
		graft_value_free(&m->steps[i].seek);
		graft_mem_free(m->steps[i].range_ids);
		graft_mem_free(m->steps[i].frames);
		graft_mem_free(m->steps[i].rels);
		graft_mem_free(m->steps[i].path);
	}
	graft_mem_free(m->steps);
	graft_mem_free(m->rels);
	graft_mem_free(m->new_slots);
}

static const struct op_vt match_vt = {"Expand", match_open, match_next,
				      match_free};
static const struct op_vt optional_vt = {"OptionalExpand", match_open,
					 match_next, match_free};

static const char *var_or_anon(const struct ast *a)
{
	return a != NULL && a->name != NULL ? a->name : "";
}

/* "NodeIndexSeek (n:Person {id}), Expand (n)-[:KNOWS]->(f)" for EXPLAIN. */
static char *steps_detail(const struct match_step *steps, uint32_t n)
{
	char buf[512];
	size_t o = 0;

	buf[0] = 0;
	for (uint32_t i = 0; i < n && o < sizeof buf; i++) {
		const struct match_step *s = &steps[i];
		const struct ast *np = s->node_pat;
		const char *label = np && np->kids[0]->n ? np->kids[0]->kids[0]->name
							 : NULL;
		const char *sep = i ? ", " : "";

		switch (s->kind) {
		case STEP_SCAN:
			if (s->seek_label || s->range_label)
				o += (size_t)snprintf(buf + o, sizeof buf - o,
						      "%s%s (%s:%s {%s})", sep,
						      s->seek_label ? "NodeIndexSeek"
								    : "NodeIndexSeekByRange",
						      var_or_anon(np),
						      s->seek_label ? s->seek_label
								    : s->range_label,
						      s->seek_label ? s->seek_key
								    : s->range_key);
			else
				o += (size_t)snprintf(buf + o, sizeof buf - o,
						      "%s%s (%s%s%s)", sep,
						      label ? "NodeByLabelScan"
							    : "AllNodesScan",
						      var_or_anon(np),
						      label ? ":" : "",
						      label ? label : "");
			break;
		case STEP_CHECK:
			o += (size_t)snprintf(buf + o, sizeof buf - o,
					      "%sArgument (%s)", sep,
					      var_or_anon(np));
			break;
		case STEP_EXPAND:
		case STEP_VAREXPAND:
			o += (size_t)snprintf(buf + o, sizeof buf - o,
					      "%s%s %s-[%s%s]-%s (%s)", sep,
					      s->kind == STEP_EXPAND
						      ? "Expand"
						      : "VarLengthExpand",
					      s->dir == GRAPH_IN ? "<" : "",
					      var_or_anon(s->rel_pat),
					      s->kind == STEP_VAREXPAND ? "*"
									: "",
					      s->dir == GRAPH_OUT ? ">" : "",
					      var_or_anon(np));
			break;
		default:
			o += (size_t)snprintf(buf + o, sizeof buf - o,
					      "%sProjectPath", sep);
			break;
		}
	}
	return buf[0] ? strdup(buf) : NULL;
}

struct op *op_match(struct op *child, struct match_step *steps, uint32_t n,
		    int32_t *rels, struct ast *where, bool optional, int32_t *new_slots,
		    uint32_t nnew)
{
	struct match_op *m =
		op_new(sizeof *m, optional ? &optional_vt : &match_vt, child);

	if (m == NULL)
		return NULL;
	m->steps = steps;
	m->rels = rels;
	m->base.detail = steps_detail(steps, n);
	m->n = n;
	m->where = where;
	m->optional = optional;
	m->new_slots = new_slots;
	m->nnew = nnew;
	return &m->base;
}
