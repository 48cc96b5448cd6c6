/* The schema catalog: names of indexes and the uniqueness constraints over
 * them, as nodes labelled __SchemaRule in the system database, mirrored in
 * memory for the checks every write makes. A database stores only its
 * indexes; the rule is written after the database's own commit. The mirror
 * is derived from the applied system database, never edited by hand: it is
 * reloaded after every commit applied there, so on every member of a
 * cluster it follows the rules the leader wrote. */
#include "../util/log.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/buf.h"
#include "engine_int.h"
#include "ops.h"

#define RULE_LABEL "__SchemaRule"

static struct db *system_db(struct cypher_engine *e)
{
	return dbms_get(e->dbms, "system");
}

static const char *prop_str(const struct graph *g, uint64_t node,
			    const char *key)
{
	uint32_t k = graph_token_lookup(g, GRAPH_TOKEN_PROPKEY, key, strlen(key));
	const struct graft_value *v =
		k == GRAPH_NO_TOKEN ? NULL : graph_node_prop(g, node, k);

	return v && v->type == GRAFT_VALUE_STRING ? v->u.s->data : "";
}

static void rule_free(struct schema_rule *r)
{
	free(r->db);
	free(r->name);
	free(r->label);
	free(r->key);
}

static int rule_add(struct cypher_engine *e, const char *db, const char *name,
		    const char *label, const char *key, bool constraint,
		    uint64_t node)
{
	struct schema_rule *r;

	if (e->nrules == e->rules_cap) {
		size_t cap = e->rules_cap ? e->rules_cap * 2 : 16;

		r = realloc(e->rules, cap * sizeof *r);
		if (r == NULL)
			return GRAFT_ENOMEM;
		e->rules = r;
		e->rules_cap = cap;
	}
	r = &e->rules[e->nrules];
	r->db = strdup(db);
	r->name = strdup(name);
	r->label = strdup(label);
	r->key = strdup(key);
	r->constraint = constraint;
	r->node = node;
	if (!r->db || !r->name || !r->label || !r->key) {
		rule_free(r);
		return GRAFT_ENOMEM;
	}
	e->nrules++;
	return GRAFT_OK;
}

static int schema_load(struct cypher_engine *e)
{
	struct db *sys = system_db(e);
	const struct graph *g;
	uint32_t label, ck;
	uint64_t pos = 0, id;

	if (sys == NULL)
		return GRAFT_OK;
	g = db_graph(sys);
	label = graph_token_lookup(g, GRAPH_TOKEN_LABEL, RULE_LABEL,
				   strlen(RULE_LABEL));
	ck = graph_token_lookup(g, GRAPH_TOKEN_PROPKEY, "constraint", 10);
	if (label == GRAPH_NO_TOKEN)
		return GRAFT_OK;
	while ((id = graph_label_scan(g, label, &pos)) != GRAPH_NO_ID) {
		const struct graft_value *c =
			ck == GRAPH_NO_TOKEN ? NULL : graph_node_prop(g, id, ck);
		int rv = rule_add(e, prop_str(g, id, "db"),
				  prop_str(g, id, "name"),
				  prop_str(g, id, "label"),
				  prop_str(g, id, "key"),
				  c && c->type == GRAFT_VALUE_BOOL && c->u.b, id);

		if (rv != GRAFT_OK)
			return rv;
	}
	return GRAFT_OK;
}

static void rules_clear(struct cypher_engine *e)
{
	for (size_t i = 0; i < e->nrules; i++)
		rule_free(&e->rules[i]);
	free(e->rules);
	e->rules = NULL;
	e->nrules = e->rules_cap = 0;
}

void schema_free(struct cypher_engine *e)
{
	db_unwatch(&e->rules_watch);
	rules_clear(e);
}

static void rules_reload(struct cypher_engine *e)
{
	rules_clear(e);
	if (schema_load(e) != GRAFT_OK)
		graft_error("schema: out of memory reloading the index and "
			    "constraint names; they are incomplete until the "
			    "next change of the system database");
}

static void rules_changed(struct db_watch *w, int status);

/* Watches for the next commit applied to the system database. */
static void rules_watch(struct cypher_engine *e)
{
	struct db *sys = system_db(e);

	e->rules_watch.data = e;
	if (sys != NULL)
		db_watch(sys, &e->rules_watch, db_last_txid(sys) + 1,
			 rules_changed);
}

/* Holds the gate: statements read the rules. */
static void rules_reload_task(struct graft_gate_task *t)
{
	struct cypher_engine *e = t->data;

	rules_reload(e);
	rules_watch(e);
}

static void rules_changed(struct db_watch *w, int status)
{
	struct cypher_engine *e = w->data;

	if (status != GRAFT_OK)
		return; /* the system database is closing */
	e->rules_task.data = e;
	e->rules_task.fn = rules_reload_task;
	graft_gate_run(e->o.gate, &e->rules_task);
}

int schema_follow(struct cypher_engine *e)
{
	int rv = schema_load(e);

	if (rv == GRAFT_OK)
		rules_watch(e);
	return rv;
}

const struct schema_rule *schema_by_name(struct cypher_engine *e,
					 const char *db, const char *name)
{
	for (size_t i = 0; i < e->nrules; i++)
		if (strcmp(e->rules[i].db, db) == 0 &&
		    strcmp(e->rules[i].name, name) == 0)
			return &e->rules[i];
	return NULL;
}

const struct schema_rule *schema_by_target(struct cypher_engine *e,
					   const char *db, const char *label,
					   const char *key, bool constraint)
{
	for (size_t i = 0; i < e->nrules; i++) {
		const struct schema_rule *r = &e->rules[i];

		if (strcmp(r->db, db) == 0 && strcmp(r->label, label) == 0 &&
		    strcmp(r->key, key) == 0 && r->constraint == constraint)
			return r;
	}
	return NULL;
}

bool schema_has_constraints(struct cypher_engine *e, const char *db)
{
	for (size_t i = 0; i < e->nrules; i++)
		if (e->rules[i].constraint && strcmp(e->rules[i].db, db) == 0)
			return true;
	return false;
}

/* Writing rules to the system database ----------------------------------- */

struct schema_write {
	struct db_commit_req req;
	struct cypher_engine *e;
	struct admin_action *a;
	uint64_t node;
	void (*cb)(void *arg, int status, const char *msg);
	void *arg;
};

/* Reloaded at once, so that the next statement of the client sees it;
 * the system database's watch reloads them on every other member. */
static void written(struct db_commit_req *req, int status)
{
	struct schema_write *w = req->data;

	if (status == GRAFT_OK)
		rules_reload(w->e);
	w->cb(w->arg, status, req->errmsg);
	free(w);
}

static int set_str(struct db *sys, struct db_tx *tx, uint64_t node,
		   const char *key, const char *val)
{
	struct graft_value v;
	uint32_t k;
	int rv = db_token(sys, GRAPH_TOKEN_PROPKEY, key, strlen(key), &k);

	if (rv == GRAFT_OK)
		rv = graft_value_string(&v, val, strlen(val));
	if (rv != GRAFT_OK)
		return rv;
	rv = db_tx_node_set_prop(tx, node, k, &v);
	graft_value_free(&v);
	return rv;
}

static int write_rule(struct db *sys, struct db_tx *tx,
		      const struct admin_action *a, uint64_t *node)
{
	struct graft_value c = graft_value_bool(a->op == ADM_CREATE_CONSTRAINT);
	uint32_t label, ck;
	int rv = db_token(sys, GRAPH_TOKEN_LABEL, RULE_LABEL,
			  strlen(RULE_LABEL), &label);

	if (rv == GRAFT_OK)
		rv = db_tx_node_create(tx, node);
	if (rv == GRAFT_OK)
		rv = db_tx_node_add_label(tx, *node, label);
	if (rv == GRAFT_OK)
		rv = set_str(sys, tx, *node, "db", a->db);
	if (rv == GRAFT_OK)
		rv = set_str(sys, tx, *node, "name", a->name);
	if (rv == GRAFT_OK)
		rv = set_str(sys, tx, *node, "label", a->label);
	if (rv == GRAFT_OK)
		rv = set_str(sys, tx, *node, "key", a->key);
	if (rv == GRAFT_OK)
		rv = db_token(sys, GRAPH_TOKEN_PROPKEY, "constraint", 10, &ck);
	if (rv == GRAFT_OK)
		rv = db_tx_node_set_prop(tx, *node, ck, &c);
	return rv;
}

static bool schema_op(const struct admin_action *a)
{
	return a->op == ADM_CREATE_INDEX || a->op == ADM_DROP_INDEX ||
	       a->op == ADM_CREATE_CONSTRAINT || a->op == ADM_DROP_CONSTRAINT;
}

/* What one action writes: a rule's node, or its removal. */
static int rule_change(struct cypher_engine *e, struct db *sys,
		       struct db_tx *tx, const struct admin_action *a,
		       uint64_t *node)
{
	const struct schema_rule *r;

	if (a->op == ADM_CREATE_INDEX || a->op == ADM_CREATE_CONSTRAINT)
		return write_rule(sys, tx, a, node);
	r = schema_by_name(e, a->db, a->name);
	return r ? db_tx_node_delete(tx, r->node) : GRAFT_OK;
}

bool schema_joins_commit(const struct cypher_tx *t)
{
	struct db *sys = system_db(t->e);

	if (sys == NULL || t->tx == NULL || t->db == sys ||
	    !db_replicated(t->db) || t->actions == NULL)
		return false;
	for (const struct admin_action *a = t->actions; a; a = a->next)
		if (!schema_op(a))
			return false;
	return true;
}

int schema_rules_tx(struct cypher_tx *t, struct db_tx **out)
{
	struct db *sys = system_db(t->e);
	uint64_t node;
	int rv;

	*out = NULL;
	if (sys == NULL)
		return GRAFT_ENOTFOUND;
	rv = db_tx_begin(sys, 0, out);
	for (const struct admin_action *a = t->actions;
	     a != NULL && rv == GRAFT_OK; a = a->next)
		rv = rule_change(t->e, sys, *out, a, &node);
	if (rv != GRAFT_OK && *out != NULL) {
		db_tx_rollback(*out);
		*out = NULL;
	}
	return rv;
}

void schema_reload(struct cypher_engine *e)
{
	rules_reload(e);
}

int schema_apply(struct cypher_engine *e, struct admin_action *a,
		 void (*cb)(void *arg, int status, const char *msg), void *arg)
{
	struct db *sys = system_db(e);
	struct schema_write *w;
	struct db_tx *tx;
	int rv;

	if (sys == NULL)
		return GRAFT_ENOTFOUND;
	w = calloc(1, sizeof *w);
	if (w == NULL)
		return GRAFT_ENOMEM;
	w->e = e;
	w->a = a;
	w->cb = cb;
	w->arg = arg;
	w->req.data = w;
	rv = db_tx_begin(sys, 0, &tx);
	if (rv != GRAFT_OK) {
		free(w);
		return rv;
	}
	rv = rule_change(e, sys, tx, a, &w->node);
	if (rv != GRAFT_OK) {
		db_tx_rollback(tx);
		free(w);
		return rv;
	}
	rv = db_commit(tx, &w->req, written);
	if (rv != GRAFT_OK)
		free(w);
	return rv;
}

/* Checks ------------------------------------------------------------------ */

static int violation(struct exec_ctx *x, const struct schema_rule *r,
		     uint64_t other, const struct graft_value *v)
{
	char val[128];

	cypher_render_with(NULL, v, val, sizeof val);
	return exec_fail(x, GRAFT_STATUS_CONSTRAINT_VALIDATION_FAILED,
			      "Node(%llu) already exists with label `%s` and property `%s` = %s (constraint '%s')",
			      (unsigned long long)other, r->label, r->key, val,
			      r->name);
}

/* Two transactions writing the same constrained value conflict at commit,
 * and the node is checked again then. */
static int track(struct exec_ctx *x, uint64_t node, uint32_t l, uint32_t k,
		 const struct graft_value *v)
{
	struct cypher_tx *t = x->ctx;
	uint64_t h = cypher_equivalent_hash(v) ^ ((uint64_t)l << 32 | k) *
							0x9e3779b97f4a7c15ull;

	if (exec_rv(x, graft_u64_push(&t->unique_nodes, &t->n_unique,
				      &t->cap_unique, node)) < 0)
		return -1;
	return exec_rv(x, db_tx_guard(x->tx, h));
}

static int check_rule(struct exec_ctx *x, const struct schema_rule *r,
		      uint64_t node)
{
	uint32_t l = exec_token(x, GRAPH_TOKEN_LABEL, r->label);
	uint32_t k = exec_token(x, GRAPH_TOKEN_PROPKEY, r->key);
	const struct graft_value *v;
	struct db_cursor c;
	uint64_t id;

	if (l == GRAPH_NO_TOKEN || k == GRAPH_NO_TOKEN ||
	    !db_tx_node_has_label(x->tx, node, l) ||
	    !graph_index_exists(db_graph(x->db), l, k))
		return 0;
	v = db_tx_node_prop(x->tx, node, k);
	if (v == NULL)
		return 0;
	db_cursor_index(&c, x->tx, l, k, v);
	while ((id = db_cursor_next(&c)) != GRAPH_NO_ID)
		if (id != node)
			return violation(x, r, id, v);
	return track(x, node, l, k, v);
}

int schema_check_unique(struct exec_ctx *x, uint64_t node)
{
	struct cypher_engine *e = x->engine;
	const char *db = db_name(x->db);

	for (size_t i = 0; i < e->nrules; i++)
		if (e->rules[i].constraint && strcmp(e->rules[i].db, db) == 0 &&
		    check_rule(x, &e->rules[i], node) < 0)
			return -1;
	return 0;
}

int schema_recheck(struct cypher_tx *tx, struct cypher_error *err)
{
	struct exec_ctx x = {.ctx = tx, .engine = tx->e, .db = tx->db,
			     .tx = tx->tx, .err = err};
	struct cypher_stats stats = {0};
	size_t n = tx->n_unique;

	x.stats = &stats;
	/* The checks see every commit before this one. */
	if (exec_rv(&x, db_tx_read_latest(tx->tx)) < 0)
		return GRAFT_ECONSTRAINT;
	tx->n_unique = 0; /* the checks below track again */
	for (size_t i = 0; i < n; i++)
		if (db_tx_node_exists(tx->tx, tx->unique_nodes[i]) &&
		    schema_check_unique(&x, tx->unique_nodes[i]) < 0)
			return GRAFT_ECONSTRAINT;
	return GRAFT_OK;
}
