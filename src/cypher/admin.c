/* Schema and administration statements: indexes run in the statement's
 * transaction; user changes are checked now and applied at commit through
 * the security unit (hashing runs off the loop); the rest fail with a clear
 * "not yet" naming the release that brings them. */
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "ops.h"

/* The operator: runs the statement once, produces no rows. */
struct admin_op {
	struct op base;
	bool done;
};

static int admin_open(struct op *op, struct exec_ctx *x)
{
	(void)x;
	((struct admin_op *)op)->done = false;
	return 0;
}

static int admin_next(struct op *op, struct exec_ctx *x)
{
	struct admin_op *a = (struct admin_op *)op;

	if (a->done)
		return 0;
	a->done = true;
	return admin_run(x, op->a) < 0 ? -1 : 0;
}

static void admin_free(struct op *op)
{
	(void)op;
}

static const struct op_vt admin_vt = {"AdministrationCommand", admin_open,
				      admin_next, admin_free};

struct op *op_admin(struct ast *a)
{
	struct admin_op *o = calloc(1, sizeof *o);

	if (o == NULL)
		return NULL;
	o->base.vt = &admin_vt;
	o->base.a = a;
	return &o->base;
}

/* Indexes ---------------------------------------------------------------- */

static int schema_tokens(struct exec_ctx *x, struct ast *a, uint32_t *label,
			 uint32_t *key)
{
	if (exec_token_intern(x, GRAPH_TOKEN_LABEL, a->kids[0]->name, label) < 0)
		return -1;
	return exec_token_intern(x, GRAPH_TOKEN_PROPKEY, a->kids[1]->name, key);
}

static int create_index(struct exec_ctx *x, struct ast *a)
{
	uint32_t label, key;
	int rv;

	if (schema_tokens(x, a, &label, &key) < 0)
		return -1;
	rv = db_tx_index_create(x->tx, label, key);
	if (rv == GRAFT_EEXIST) {
		if (a->flags & AST_F_IF_EXISTS)
			return 0;
		return exec_fail_code(x, "Neo.ClientError.Schema.EquivalentSchemaRuleAlreadyExists",
				      "An equivalent index already exists, 'Index( type='RANGE', schema=(:%s {%s}) )'; use IF NOT EXISTS to ignore it",
				      a->kids[0]->name, a->kids[1]->name);
	}
	if (rv == GRAFT_EREADONLY)
		return exec_fail_code(x, "Neo.ClientError.Statement.AccessMode",
				      "Schema operations are not allowed in a read transaction");
	if (exec_rv(x, rv) < 0)
		return -1;
	x->stats->indexes_added++;
	return 0;
}

/* DROP INDEX name: the names SHOW INDEXES lists, index_<label>_<key>. */
static int index_by_name(struct exec_ctx *x, const char *name, uint32_t *label,
			 uint32_t *key)
{
	const struct graph *g = db_graph(x->db);
	uint32_t pairs[256][2];
	size_t n = graph_index_list(g, pairs, 256);

	for (size_t i = 0; i < n; i++) {
		const char *l = graph_token_name(g, GRAPH_TOKEN_LABEL, pairs[i][0]);
		const char *k = graph_token_name(g, GRAPH_TOKEN_PROPKEY,
						 pairs[i][1]);
		size_t ll = strlen(l);

		if (strncmp(name, "index_", 6) == 0 &&
		    strncmp(name + 6, l, ll) == 0 && name[6 + ll] == '_' &&
		    strcmp(name + 7 + ll, k) == 0) {
			*label = pairs[i][0];
			*key = pairs[i][1];
			return 1;
		}
	}
	return 0;
}

static int drop_index(struct exec_ctx *x, struct ast *a)
{
	uint32_t label = GRAPH_NO_TOKEN, key = GRAPH_NO_TOKEN;
	int found;

	if (a->name != NULL) {
		found = index_by_name(x, a->name, &label, &key);
	} else {
		label = exec_token(x, GRAPH_TOKEN_LABEL, a->kids[0]->name);
		key = exec_token(x, GRAPH_TOKEN_PROPKEY, a->kids[1]->name);
		found = label != GRAPH_NO_TOKEN && key != GRAPH_NO_TOKEN;
	}
	if (found && db_tx_index_drop(x->tx, label, key) == GRAFT_OK) {
		x->stats->indexes_removed++;
		return 0;
	}
	if (a->flags & AST_F_IF_EXISTS)
		return 0;
	return exec_fail_code(x, "Neo.ClientError.Schema.IndexDropFailed",
			      "Unable to drop index: No such index '%s'. SHOW INDEXES lists the indexes",
			      a->name ? a->name : a->kids[0]->name);
}

/* Users: checked and evaluated now, applied at commit --------------------- */

static int secret_value(struct exec_ctx *x, struct ast *e, char **out)
{
	struct graft_value v;

	*out = NULL;
	if (e == NULL)
		return 0;
	if (eval(x, e, &v) < 0)
		return -1;
	if (v.type != GRAFT_VALUE_STRING) {
		graft_value_free(&v);
		return exec_fail(x, "TypeError",
				 "A password must be a String");
	}
	*out = strdup(v.u.s->data);
	memset(v.u.s->data, 0, v.u.s->len);
	graft_value_free(&v);
	return *out ? 0 : exec_oom(x);
}

static void actions_free_one(struct admin_action *act)
{
	free(act->name);
	free(act->password);
	free(act->old_password);
	free(act);
}

static int defer(struct exec_ctx *x, struct ast *a)
{
	struct cypher_tx *t = x->ctx;
	struct admin_action *act = calloc(1, sizeof *act), **tail;

	if (t->e->security == NULL) {
		free(act);
		return exec_fail_code(x, "Neo.ClientError.Security.AuthProviderFailed",
				      "User management is not available on this server (no security unit); start graftd with its data directory");
	}
	if (act == NULL)
		return exec_oom(x);
	act->op = a->op;
	act->flags = a->flags;
	act->change_required = (a->flags & AST_F_CHANGE_SET) ||
					       a->op == ADM_CREATE_USER
				       ? (a->flags & AST_F_CHANGE_REQ) != 0
				       : -1;
	act->suspended = (int)a->min;
	act->name = strdup(a->name ? a->name : t->user);
	if (act->name == NULL ||
	    secret_value(x, a->n > 0 ? a->kids[0] : NULL,
			 a->op == ADM_ALTER_CURRENT_USER ? &act->old_password
							 : &act->password) < 0 ||
	    (a->op == ADM_ALTER_CURRENT_USER &&
	     secret_value(x, a->kids[1], &act->password) < 0)) {
		bool oom = act->name == NULL;

		act->next = NULL;
		actions_free_one(act);
		return oom ? exec_oom(x) : -1;
	}
	for (tail = &t->actions; *tail; tail = &(*tail)->next)
		;
	*tail = act;
	x->stats->system_updates++;
	return 0;
}

static int terminate(struct exec_ctx *x, struct ast *a)
{
	struct ast *ids = a->kids[0];

	for (uint32_t i = 0; i < ids->n; i++) {
		struct graft_value v;
		bool found = false;

		if (eval(x, ids->kids[i], &v) < 0)
			return -1;
		for (struct cypher_tx *t = x->engine->txs;
		     v.type == GRAFT_VALUE_STRING && t; t = t->next)
			if (strcmp(t->id, v.u.s->data) == 0) {
				t->terminated = true;
				found = true;
			}
		graft_value_free(&v);
		if (!found)
			return exec_fail_code(x, "Neo.ClientError.Transaction.TransactionNotFound",
					      "Unable to terminate the transaction: no transaction with that id (SHOW TRANSACTIONS lists them)");
	}
	return 0;
}

static int not_yet(struct exec_ctx *x, const char *what)
{
	return exec_fail_code(x, "Neo.ClientError.Statement.UnsupportedAdministrationCommand",
			      "%s is not supported yet: it arrives with the security and multi-database releases. See docs/cypher.md",
			      what);
}

int admin_run(struct exec_ctx *x, struct ast *a)
{
	switch (a->op) {
	case ADM_CREATE_INDEX:
		return create_index(x, a);
	case ADM_DROP_INDEX:
		return drop_index(x, a);
	case ADM_CREATE_USER:
	case ADM_ALTER_USER:
	case ADM_DROP_USER:
	case ADM_ALTER_CURRENT_USER:
		return defer(x, a);
	case ADM_TERMINATE_TX:
		return terminate(x, a);
	case ADM_CREATE_CONSTRAINT:
	case ADM_DROP_CONSTRAINT:
		return not_yet(x, "A uniqueness constraint");
	case ADM_CREATE_ROLE:
	case ADM_DROP_ROLE:
	case ADM_GRANT_ROLE:
	case ADM_REVOKE_ROLE:
	case ADM_PRIVILEGE:
		return not_yet(x, "Role and privilege management");
	default:
		return not_yet(x, "Creating, dropping, starting and stopping databases");
	}
}

/* Applying deferred actions at commit, one after another. ---------------- */

struct actions_run {
	struct security_req req;
	struct cypher_commit_req *commit;
	struct admin_action *cur;
	void (*done)(struct cypher_commit_req *req, int status);
};

static void next_action(struct actions_run *r);

static void action_done(struct security_req *req, int status)
{
	struct actions_run *r = req->data;

	if (status != GRAFT_OK) {
		struct cypher_commit_req *c = r->commit;
		void (*done)(struct cypher_commit_req *, int) = r->done;

		c->error = req->error;
		free(r);
		done(c, status);
		return;
	}
	r->cur = r->cur->next;
	next_action(r);
}

static int start_action(struct actions_run *r)
{
	struct security *s = r->commit->tx->e->security;
	struct admin_action *a = r->cur;
	bool tolerant = a->flags & AST_F_IF_EXISTS;
	struct security_alter alt = {a->password, a->change_required,
				     a->suspended};

	memset(&r->req, 0, sizeof r->req);
	r->req.data = r;
	switch (a->op) {
	case ADM_CREATE_USER:
		return security_create_user(s, &r->req, a->name, a->password,
					    a->change_required == 1,
					    a->suspended == 1, tolerant,
					    action_done);
	case ADM_ALTER_USER:
		return security_alter_user(s, &r->req, a->name, &alt, tolerant,
					   action_done);
	case ADM_DROP_USER:
		return security_drop_user(s, &r->req, a->name, tolerant,
					  action_done);
	default:
		return security_change_own_password(s, &r->req, a->name,
						    a->old_password,
						    a->password, action_done);
	}
}

static void next_action(struct actions_run *r)
{
	struct cypher_commit_req *c = r->commit;
	void (*done)(struct cypher_commit_req *, int) = r->done;
	int rv;

	if (r->cur == NULL) {
		free(r);
		done(c, GRAFT_OK);
		return;
	}
	rv = start_action(r);
	if (rv != GRAFT_OK) {
		c->error = r->req.error;
		free(r);
		done(c, rv);
	}
}

int admin_actions_run(struct cypher_commit_req *req,
		      void (*done)(struct cypher_commit_req *req, int status))
{
	struct actions_run *r = calloc(1, sizeof *r);

	if (r == NULL) {
		cypher_error_set(&req->error, "Neo.TransientError.General.OutOfMemoryError",
				 "Out of memory committing");
		cypher_tx_rollback(req->tx);
		return GRAFT_ENOMEM;
	}
	r->commit = req;
	r->cur = req->tx->actions;
	r->done = done;
	next_action(r);
	return GRAFT_OK;
}
