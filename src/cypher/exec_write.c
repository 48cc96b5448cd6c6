/* Updating clauses: CREATE, MERGE, SET, REMOVE, DELETE and FOREACH, applied
 * row by row to the transaction's overlay, with Neo4j's statistics. */
#include <stdlib.h>
#include <string.h>

#include "../util/buf.h"
#include "engine_int.h"
#include "ops.h"
#include "plan_int.h"

static int write_rv(struct exec_ctx *x, int rv, const char *what)
{
	const char *db = db_name(x->db);

	switch (rv) {
	case GRAFT_OK:
		return 0;
	case GRAFT_EREADONLY:
		return exec_fail(x, GRAFT_STATUS_ACCESS_MODE,
				      "Writing in read access mode not allowed. Attempted write to database '%s'; run it in a write transaction",
				      db);
	case GRAFT_ENOTFOUND:
		return exec_fail(x, GRAFT_STATUS_ENTITY_NOT_FOUND,
				      "Cannot %s: the entity has been deleted in this transaction",
				      what);
	default:
		return exec_rv(x, rv);
	}
}

/* Property values ---------------------------------------------------------- */

static bool simple_type(uint8_t t)
{
	return t != GRAFT_VALUE_NULL && t != GRAFT_VALUE_LIST &&
	       t != GRAFT_VALUE_MAP && t <= GRAFT_VALUE_STORABLE_MAX;
}

int exec_check_storable(struct exec_ctx *x, const struct graft_value *v,
			const char *key)
{
	if (v->type == GRAFT_VALUE_NULL || simple_type(v->type))
		return 0;
	if (v->type == GRAFT_VALUE_LIST) {
		const struct graft_value *it = v->u.list->items;

		for (uint32_t i = 0; i < v->u.list->len; i++) {
			if (it[i].type == GRAFT_VALUE_NULL)
				return exec_fail(x, GRAFT_STATUS_TYPE_ERROR,
						 "Collections containing null values can not be stored in properties (property '%s')",
						 key);
			if (!simple_type(it[i].type))
				break;
			if (it[i].type != it[0].type)
				return exec_fail(x, GRAFT_STATUS_TYPE_ERROR,
						 "Collections containing mixed types can not be stored in properties (property '%s')",
						 key);
			if (i + 1 == v->u.list->len)
				return 0;
		}
		if (v->u.list->len == 0)
			return 0;
	}
	return exec_fail(x, GRAFT_STATUS_TYPE_ERROR,
			 "Property values can only be of primitive types or arrays thereof; '%s' got %s",
			 key, cypher_type_name(v));
}

static int check_unique(struct exec_ctx *x, uint64_t node)
{
	if (!schema_has_constraints(x->engine, db_name(x->db)))
		return 0;
	return schema_check_unique(x, node);
}

int exec_set_prop(struct exec_ctx *x, const struct graft_value *ent,
		  const char *key, const struct graft_value *v)
{
	uint32_t k;
	uint64_t id = (uint64_t)ent->u.i;
	bool node = ent->type == GRAFT_VALUE_NODE;
	const struct graft_value *old;

	if (exec_check_storable(x, v, key) < 0)
		return -1;
	if (v->type == GRAFT_VALUE_NULL) {
		k = exec_token(x, GRAPH_TOKEN_PROPKEY, key);
		if (k == GRAPH_NO_TOKEN)
			return 0;
		old = node ? db_tx_node_prop(x->tx, id, k)
			   : db_tx_rel_prop(x->tx, id, k);
		if (old == NULL)
			return 0;
	} else if (exec_token_intern(x, GRAPH_TOKEN_PROPKEY, key, &k) < 0) {
		return -1;
	}
	if (write_rv(x, node ? db_tx_node_set_prop(x->tx, id, k, v)
			     : db_tx_rel_set_prop(x->tx, id, k, v),
		     "set a property") < 0)
		return -1;
	x->stats->properties_set++;
	return node ? check_unique(x, id) : 0;
}

static int set_map(struct exec_ctx *x, const struct graft_value *ent,
		   const struct graft_value *m)
{
	for (uint32_t i = 0; i < m->u.map->len; i++)
		if (exec_set_prop(x, ent, m->u.map->entries[i].key->data,
				  &m->u.map->entries[i].value) < 0)
			return -1;
	return 0;
}

static int add_labels(struct exec_ctx *x, uint64_t node, struct ast *labels,
		      uint32_t from)
{
	for (uint32_t i = from; i < labels->n; i++) {
		uint32_t t;

		if (exec_token_intern(x, GRAPH_TOKEN_LABEL,
				      labels->kids[i]->name, &t) < 0)
			return -1;
		if (db_tx_node_has_label(x->tx, node, t))
			continue;
		if (write_rv(x, db_tx_node_add_label(x->tx, node, t),
			     "add a label") < 0)
			return -1;
		x->stats->labels_added++;
		if (check_unique(x, node) < 0)
			return -1;
	}
	return 0;
}

/* CREATE ---------------------------------------------------------------- */

static int eval_props(struct exec_ctx *x, struct ast *props,
		      struct graft_value *out)
{
	*out = graft_value_null();
	if (props == NULL)
		return 0;
	if (eval(x, props, out) < 0)
		return -1;
	if (out->type != GRAFT_VALUE_MAP && out->type != GRAFT_VALUE_NULL) {
		graft_value_free(out);
		return exec_fail(x, GRAFT_STATUS_TYPE_ERROR,
				 "Expected a map of properties to create with");
	}
	return 0;
}

static int create_node(struct exec_ctx *x, struct ast *np)
{
	struct graft_value props, ref;
	uint64_t id;
	int rv = -1;

	if (np->slot2 == 1) { /* bound before: reuse */
		const struct graft_value *v = &x->row[np->slot];

		if (v->type != GRAFT_VALUE_NODE && v->type != GRAFT_VALUE_NULL)
			return exec_fail(x, GRAFT_STATUS_TYPE_ERROR,
					 "Variable `%s` is not a node",
					 np->name ? np->name : "");
		return 0;
	}
	if (eval_props(x, np->kids[1], &props) < 0)
		return -1;
	if (write_rv(x, db_tx_node_create(x->tx, &id), "create a node") < 0)
		goto out;
	x->stats->nodes_created++;
	ref = graft_value_ref(GRAFT_VALUE_NODE, id);
	if (add_labels(x, id, np->kids[0], 0) < 0 ||
	    (props.type == GRAFT_VALUE_MAP && set_map(x, &ref, &props) < 0))
		goto out;
	row_set(x, np->slot, ref);
	rv = 0;
out:
	graft_value_free(&props);
	return rv;
}

static int create_rel(struct exec_ctx *x, struct ast *rp, struct ast *left,
		      struct ast *right)
{
	const struct graft_value *a = &x->row[left->slot];
	const struct graft_value *b = &x->row[right->slot];
	struct graft_value props, ref;
	uint32_t type;
	uint64_t id;
	int rv = -1;

	if (a->type != GRAFT_VALUE_NODE || b->type != GRAFT_VALUE_NODE)
		return exec_fail(x, GRAFT_STATUS_SEMANTIC_ERROR,
				 "Failed to create relationship `%s`, node `%s` is missing. If you prefer to simply ignore rows where a relationship node is missing, filter them out with WHERE ... IS NOT NULL",
				 rp->name ? rp->name : "",
				 a->type != GRAFT_VALUE_NODE
					 ? (left->name ? left->name : "")
					 : (right->name ? right->name : ""));
	if (eval_props(x, rp->kids[1], &props) < 0)
		return -1;
	if (exec_token_intern(x, GRAPH_TOKEN_RELTYPE, rp->kids[0]->kids[0]->name,
			      &type) < 0)
		goto out;
	if (rp->op == AST_DIR_IN) {
		const struct graft_value *t = a;

		a = b;
		b = t;
	}
	if (write_rv(x, db_tx_rel_create(x->tx, type, (uint64_t)a->u.i,
					 (uint64_t)b->u.i, &id),
		     "create a relationship") < 0)
		goto out;
	x->stats->relationships_created++;
	ref = graft_value_ref(GRAFT_VALUE_REL, id);
	if (props.type == GRAFT_VALUE_MAP && set_map(x, &ref, &props) < 0)
		goto out;
	row_set(x, rp->slot, ref);
	rv = 0;
out:
	graft_value_free(&props);
	return rv;
}

static int create_path(struct exec_ctx *x, struct ast *path)
{
	struct graft_value p;

	for (uint32_t i = 0; i < path->n; i += 2)
		if (create_node(x, path->kids[i]) < 0)
			return -1;
	for (uint32_t i = 1; i < path->n; i += 2)
		if (create_rel(x, path->kids[i], path->kids[i - 1],
			       path->kids[i + 1]) < 0)
			return -1;
	if (path->slot < 0)
		return 0;
	if (graft_value_list(&p, path->n) != GRAFT_OK)
		return exec_oom(x);
	p.type = GRAFT_VALUE_PATH;
	for (uint32_t i = 0; i < path->n; i++)
		p.u.list->items[i] = graft_value_int(x->row[path->kids[i]->slot].u.i);
	row_set(x, path->slot, p);
	return 0;
}

int exec_create_pattern(struct exec_ctx *x, struct ast *pattern)
{
	for (uint32_t i = 0; i < pattern->n; i++)
		if (create_path(x, pattern->kids[i]) < 0)
			return -1;
	return 0;
}

/* SET / REMOVE ------------------------------------------------------------- */

static int entity_or_null(struct exec_ctx *x, struct ast *e,
			  struct graft_value *out, const char *what)
{
	if (eval(x, e, out) < 0)
		return -1;
	if (out->type == GRAFT_VALUE_NULL || out->type == GRAFT_VALUE_NODE ||
	    out->type == GRAFT_VALUE_REL)
		return 0;
	graft_value_free(out);
	return exec_fail(x, GRAFT_STATUS_TYPE_ERROR,
			 "Type mismatch: expected Node or Relationship to %s",
			 what);
}

static int set_all(struct exec_ctx *x, struct ast *it)
{
	struct graft_value ent, m = {0}, old = {0};
	int rv = -1;

	if (entity_or_null(x, it->kids[0], &ent, "set properties on") < 0)
		return -1;
	if (eval(x, it->kids[1], &m) < 0)
		goto out;
	if (ent.type == GRAFT_VALUE_NULL) {
		rv = 0;
		goto out;
	}
	if (m.type == GRAFT_VALUE_NODE || m.type == GRAFT_VALUE_REL) {
		struct graft_value props = {0}, labels = {0};
		const char *type;
		uint64_t s, d;
		int r = m.type == GRAFT_VALUE_NODE
				? cypher_node_view(x->ctx, (uint64_t)m.u.i,
						   &labels, &props)
				: cypher_rel_view(x->ctx, (uint64_t)m.u.i, &type,
						  &s, &d, &props);

		graft_value_free(&labels);
		if (exec_rv(x, r) < 0)
			goto out;
		graft_value_free(&m);
		m = props;
	}
	if (m.type != GRAFT_VALUE_MAP) {
		exec_fail(x, GRAFT_STATUS_TYPE_ERROR,
			  "Expected a map to set properties from, got %s",
			  cypher_type_name(&m));
		goto out;
	}
	if (!(it->flags & AST_F_MERGE)) { /* = replaces: drop the others */
		struct graft_value labels = {0};
		const char *type;
		uint64_t s, d;
		int r = ent.type == GRAFT_VALUE_NODE
				? cypher_node_view(x->ctx, (uint64_t)ent.u.i,
						   &labels, &old)
				: cypher_rel_view(x->ctx, (uint64_t)ent.u.i,
						  &type, &s, &d, &old);
		struct graft_value null = graft_value_null();

		graft_value_free(&labels);
		if (exec_rv(x, r) < 0)
			goto out;
		for (uint32_t i = 0; i < old.u.map->len; i++) {
			const char *k = old.u.map->entries[i].key->data;

			if (graft_map_get(m.u.map, k, strlen(k)) == NULL &&
			    exec_set_prop(x, &ent, k, &null) < 0)
				goto out;
		}
	}
	rv = set_map(x, &ent, &m);
out:
	graft_value_free(&ent);
	graft_value_free(&m);
	graft_value_free(&old);
	return rv;
}

static int set_prop_item(struct exec_ctx *x, struct ast *target,
			 struct ast *value)
{
	struct graft_value ent, v;
	int rv;

	if (entity_or_null(x, target->kids[0], &ent, "set a property on") < 0)
		return -1;
	if (eval(x, value, &v) < 0) {
		graft_value_free(&ent);
		return -1;
	}
	rv = ent.type == GRAFT_VALUE_NULL ? 0
					   : exec_set_prop(x, &ent, target->name,
							   &v);
	graft_value_free(&v);
	return rv;
}

static int labels_item(struct exec_ctx *x, struct ast *it, bool add)
{
	struct graft_value ent;

	if (eval(x, it->kids[0], &ent) < 0)
		return -1;
	if (ent.type == GRAFT_VALUE_NULL)
		return 0;
	if (ent.type != GRAFT_VALUE_NODE) {
		graft_value_free(&ent);
		return exec_fail(x, GRAFT_STATUS_TYPE_ERROR,
				 "Type mismatch: labels can only be set on nodes");
	}
	if (add)
		return add_labels(x, (uint64_t)ent.u.i, it, 1);
	for (uint32_t i = 1; i < it->n; i++) {
		uint32_t t = exec_token(x, GRAPH_TOKEN_LABEL, it->kids[i]->name);

		if (t == GRAPH_NO_TOKEN ||
		    !db_tx_node_has_label(x->tx, (uint64_t)ent.u.i, t))
			continue;
		if (write_rv(x, db_tx_node_remove_label(x->tx,
							(uint64_t)ent.u.i, t),
			     "remove a label") < 0)
			return -1;
		x->stats->labels_removed++;
	}
	return 0;
}

int exec_set_items(struct exec_ctx *x, struct ast *set)
{
	static const struct graft_value null = {0};

	for (uint32_t i = 0; set && i < set->n; i++) {
		struct ast *it = set->kids[i];
		int rv;

		switch (it->kind) {
		case AST_SET_PROP:
			rv = set_prop_item(x, it->kids[0], it->kids[1]);
			break;
		case AST_SET_ALL:
			rv = set_all(x, it);
			break;
		case AST_SET_LABELS:
			rv = labels_item(x, it, true);
			break;
		case AST_REMOVE_LABELS:
			rv = labels_item(x, it, false);
			break;
		default: { /* AST_REMOVE_PROP */
			struct ast lit = {.kind = AST_LIT, .v = null};

			rv = set_prop_item(x, it->kids[0], &lit);
			break;
		}
		}
		if (rv < 0)
			return -1;
	}
	return 0;
}

/* DELETE ---------------------------------------------------------------- */

static int delete_rel(struct exec_ctx *x, uint64_t r)
{
	if (!db_tx_rel_exists(x->tx, r))
		return 0;
	if (write_rv(x, db_tx_rel_delete(x->tx, r), "delete") < 0)
		return -1;
	x->stats->relationships_deleted++;
	return 0;
}

static int pending_push(struct exec_ctx *x, uint64_t node)
{
	return exec_rv(x, graft_u64_push(&x->pending_deletes, &x->npending,
					 &x->pending_cap, node));
}

static int delete_node(struct exec_ctx *x, uint64_t n, bool detach)
{
	int rv;

	if (!db_tx_node_exists(x->tx, n))
		return 0;
	if (detach) {
		struct db_cursor c;
		uint64_t r;

		db_cursor_expand(&c, x->tx, n, GRAPH_BOTH, GRAPH_NO_TOKEN);
		while ((r = db_cursor_next(&c)) != GRAPH_NO_ID)
			if (delete_rel(x, r) < 0)
				return -1;
	}
	rv = db_tx_node_delete(x->tx, n);
	if (rv == GRAFT_ECONSTRAINT)
		return pending_push(x, n);
	if (write_rv(x, rv, "delete") < 0)
		return -1;
	x->stats->nodes_deleted++;
	return 0;
}

static int delete_value(struct exec_ctx *x, const struct graft_value *v,
			bool detach)
{
	switch (v->type) {
	case GRAFT_VALUE_NULL:
		return 0;
	case GRAFT_VALUE_NODE:
		return delete_node(x, (uint64_t)v->u.i, detach);
	case GRAFT_VALUE_REL:
		return delete_rel(x, (uint64_t)v->u.i);
	case GRAFT_VALUE_PATH:
		for (uint32_t i = 1; i < v->u.list->len; i += 2)
			if (delete_rel(x, (uint64_t)v->u.list->items[i].u.i) < 0)
				return -1;
		for (uint32_t i = 0; i < v->u.list->len; i += 2)
			if (delete_node(x, (uint64_t)v->u.list->items[i].u.i,
					detach) < 0)
				return -1;
		return 0;
	default:
		return exec_fail(x, GRAFT_STATUS_TYPE_ERROR,
				 "Expected a Node, Relationship or Path to delete, got %s",
				 cypher_type_name(v));
	}
}

static int delete_items(struct exec_ctx *x, struct ast *d)
{
	for (uint32_t i = 0; i < d->n; i++) {
		struct graft_value v;
		int rv;

		if (eval(x, d->kids[i], &v) < 0)
			return -1;
		rv = delete_value(x, &v, (d->flags & AST_F_DETACH) != 0);
		graft_value_free(&v);
		if (rv < 0)
			return -1;
	}
	return 0;
}

/* Called at the end of a statement: nodes whose relationships were deleted
 * later in the statement go now; any still attached fail it. */
int exec_finish_deletes(struct exec_ctx *x)
{
	for (size_t i = 0; i < x->npending; i++) {
		uint64_t n = x->pending_deletes[i];
		int rv;

		if (!db_tx_node_exists(x->tx, n))
			continue;
		rv = db_tx_node_delete(x->tx, n);
		if (rv == GRAFT_ECONSTRAINT)
			return exec_fail(x, GRAFT_STATUS_CONSTRAINT_VALIDATION_FAILED,
					      "Cannot delete node<%llu>, because it still has relationships. To delete this node, you must first delete its relationships (or use DETACH DELETE).",
					      (unsigned long long)n);
		if (write_rv(x, rv, "delete") < 0)
			return -1;
		x->stats->nodes_deleted++;
	}
	x->npending = 0;
	return 0;
}

/* The write operator ---------------------------------------------------- */

struct write_op {
	struct op base;
	struct ast *clause;
};

static int write_open(struct op *op, struct exec_ctx *x)
{
	return op->child->vt->open(op->child, x);
}

static int write_apply(struct exec_ctx *x, struct ast *c)
{
	switch (c->kind) {
	case AST_CREATE:
		return exec_create_pattern(x, c->kids[0]);
	case AST_SET:
	case AST_REMOVE:
		return exec_set_items(x, c);
	case AST_DELETE:
		return delete_items(x, c);
	default:
		return exec_fail(x, GRAFT_STATUS_SYNTAX_ERROR, "Not an updating clause");
	}
}

static int write_next(struct op *op, struct exec_ctx *x)
{
	struct write_op *w = (struct write_op *)op;
	int r = op->child->vt->next(op->child, x);

	if (r <= 0)
		return r;
	if (write_apply(x, w->clause) < 0)
		return -1;
	op->rows++;
	return 1;
}

static void write_free(struct op *op)
{
	(void)op;
}

static const struct op_vt create_vt = {"Create", write_open, write_next,
				       write_free};
static const struct op_vt set_vt = {"SetProperty", write_open, write_next,
				    write_free};
static const struct op_vt delete_vt = {"Delete", write_open, write_next,
				       write_free};

struct op *op_write(struct op *child, struct ast *clause)
{
	struct write_op *w = op_new(sizeof *w, clause->kind == AST_CREATE   ? &create_vt
		     : clause->kind == AST_DELETE ? &delete_vt
						  : &set_vt, child);

	if (w == NULL)
		return NULL;
	w->clause = clause;
	return &w->base;
}

/* FOREACH: the body runs per list item; the row passes through once. ---- */

struct foreach_op {
	struct op base;
	struct ast *list;
	int32_t slot;
};

static int foreach_next(struct op *op, struct exec_ctx *x)
{
	struct foreach_op *f = (struct foreach_op *)op;
	struct graft_value l;
	int r = op->child->vt->next(op->child, x);

	if (r <= 0)
		return r;
	if (eval(x, f->list, &l) < 0)
		return -1;
	if (l.type != GRAFT_VALUE_LIST && l.type != GRAFT_VALUE_NULL) {
		graft_value_free(&l);
		return exec_fail(x, GRAFT_STATUS_TYPE_ERROR,
				 "FOREACH needs a List to iterate over");
	}
	for (uint32_t i = 0; l.type == GRAFT_VALUE_LIST && i < l.u.list->len;
	     i++) {
		row_set(x, f->slot, l.u.list->items[i]);
		l.u.list->items[i] = graft_value_null();
		if (op->child2->vt->open(op->child2, x) < 0)
			r = -1;
		while (r > 0 && (r = op->child2->vt->next(op->child2, x)) > 0)
			;
		if (r < 0)
			break;
		r = 1;
	}
	graft_value_free(&l);
	op->rows += r > 0;
	return r < 0 ? -1 : 1;
}

static const struct op_vt foreach_vt = {"Foreach", write_open, foreach_next,
					write_free};

struct op *op_foreach(struct op *child, struct op *body, struct ast *list,
		      int32_t slot)
{
	struct foreach_op *f = op_new(sizeof *f, &foreach_vt, child);

	if (f == NULL)
		return NULL;
	f->base.child2 = body;
	f->list = list;
	f->slot = slot;
	return &f->base;
}

/* MERGE: match the pattern for the row; if nothing matches, create it. -- */

struct merge_op {
	struct op base;
	struct ast *clause;
	bool matching;    /* the current input row matched */
	bool have_input;
};

/* MERGE cannot create what it could never match again: a null property. */
static int merge_null_check(struct exec_ctx *x, struct ast *pattern)
{
	struct ast *path = pattern->kids[0];

	for (uint32_t i = 0; i < path->n; i++) {
		struct ast *el = path->kids[i];
		struct graft_value m;
		int rv = 0;

		if (el->slot2 == 1 || el->kids[1] == NULL)
			continue;
		if (eval(x, el->kids[1], &m) < 0)
			return -1;
		for (uint32_t k = 0; m.type == GRAFT_VALUE_MAP && k < m.u.map->len;
		     k++)
			if (m.u.map->entries[k].value.type == GRAFT_VALUE_NULL) {
				rv = exec_fail(x, GRAFT_STATUS_SEMANTIC_ERROR,
					       "Cannot merge the following %s because of null property value for '%s': the value must not be null",
					       i % 2 ? "relationship" : "node",
					       m.u.map->entries[k].key->data);
				break;
			}
		graft_value_free(&m);
		if (rv < 0)
			return -1;
	}
	return 0;
}

static int merge_open(struct op *op, struct exec_ctx *x)
{
	((struct merge_op *)op)->have_input = false;
	return op->child->vt->open(op->child, x);
}

static int merge_next(struct op *op, struct exec_ctx *x)
{
	struct merge_op *m = (struct merge_op *)op;
	int r;

	for (;;) {
		if (!m->have_input) {
			r = op->child->vt->next(op->child, x);
			if (r <= 0)
				return r;
			if (op->child2->vt->open(op->child2, x) < 0)
				return -1;
			m->have_input = true;
			m->matching = false;
		}
		r = op->child2->vt->next(op->child2, x);
		if (r < 0)
			return -1;
		if (r > 0) {
			m->matching = true;
			if (exec_set_items(x, m->clause->kids[2]) < 0)
				return -1;
			op->rows++;
			return 1;
		}
		m->have_input = false;
		if (m->matching)
			continue;
		if (merge_null_check(x, m->clause->kids[0]) < 0 ||
		    exec_create_pattern(x, m->clause->kids[0]) < 0 ||
		    exec_set_items(x, m->clause->kids[1]) < 0)
			return -1;
		op->rows++;
		return 1;
	}
}

static const struct op_vt merge_vt = {"Merge", merge_open, merge_next,
				      write_free};

struct op *op_merge(struct op *child, struct op *match, struct ast *clause)
{
	struct merge_op *m = op_new(sizeof *m, &merge_vt, child);

	if (m == NULL)
		return NULL;
	m->base.child2 = match;
	m->clause = clause;
	return &m->base;
}
