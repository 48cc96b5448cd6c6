/* Schema and administration commands: indexes run in the statement's
 * transaction; user changes are checked now and applied at commit through
 * the security unit (hashing runs off the loop); the rest fail with a clear
 * "not yet" naming the release that brings them. */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

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
	struct admin_op *o = op_new(sizeof *o, &admin_vt, NULL);

	if (o == NULL)
		return NULL;
	o->base.a = a;
	return &o->base;
}

/* Indexes and constraints ------------------------------------------------ */

static int schema_tokens(struct exec_ctx *x, const char *l, const char *k,
			 uint32_t *label, uint32_t *key)
{
	if (exec_token_intern(x, GRAPH_TOKEN_LABEL, l, label) < 0)
		return -1;
	return exec_token_intern(x, GRAPH_TOKEN_PROPKEY, k, key);
}

enum action_kind { KIND_SCHEMA, KIND_USER, KIND_DATABASE };

static enum action_kind action_kind(const struct admin_action *a)
{
	switch (a->op) {
	case ADM_CREATE_USER:
	case ADM_ALTER_USER:
	case ADM_DROP_USER:
	case ADM_ALTER_CURRENT_USER:
		return KIND_USER;
	case ADM_CREATE_DATABASE:
	case ADM_DROP_DATABASE:
		return KIND_DATABASE;
	default:
		return KIND_SCHEMA;
	}
}

static const char *kind_name(enum action_kind k)
{
	static const char *names[] = {"an index or constraint command",
				      "a user command", "a database command"};

	return names[k];
}

/* A transaction's administration commands commit as one change only when
 * they are of one kind (its user commands are one system transaction, its
 * schema commands join its own commit) and a database command is alone:
 * anything else would be applied in parts, so it is refused before any
 * of it runs. */
static int forbid_mixed(struct exec_ctx *x, const struct admin_action *first,
			const struct admin_action *act)
{
	enum action_kind had = action_kind(first), k = action_kind(act);

	if (k == had && k != KIND_DATABASE)
		return 0;
	return exec_fail(x, GRAFT_STATUS_TX_FORBIDDEN_DUE_TO_TX_TYPE,
			 "This transaction already ran %s, and %s cannot commit "
			 "together with it: commit it first, then run this "
			 "one in a transaction of its own",
			 kind_name(had), kind_name(k));
}

static int defer_action(struct exec_ctx *x, struct admin_action *act)
{
	struct admin_action **tail = &x->ctx->actions;

	if (*tail != NULL && forbid_mixed(x, *tail, act) < 0) {
		admin_action_free(act);
		return -1;
	}
	while (*tail != NULL)
		tail = &(*tail)->next;
	*tail = act;
	return 0;
}

static int defer_schema(struct exec_ctx *x, uint16_t op, const char *name,
			const char *label, const char *key)
{
	struct admin_action *act = calloc(1, sizeof *act);

	if (act == NULL)
		return exec_oom(x);
	act->op = op;
	act->db = strdup(db_name(x->db));
	act->name = strdup(name);
	act->label = strdup(label);
	act->key = strdup(key);
	if (!act->db || !act->name || !act->label || !act->key) {
		admin_action_free(act);
		return exec_oom(x);
	}
	return defer_action(x, act);
}

static int exists_already(struct exec_ctx *x, const char *what,
			  const char *name)
{
	return exec_fail(x, GRAFT_STATUS_EQUIVALENT_SCHEMA_RULE_EXISTS,
			      "An equivalent %s already exists, '%s'; use IF NOT EXISTS to ignore it",
			      what, name);
}

static int create_index(struct exec_ctx *x, struct ast *a)
{
	const char *l = a->kids[0]->name, *k = a->kids[1]->name;
	char name[512];
	uint32_t label, key;
	int rv;

	snprintf(name, sizeof name, "%s", a->name ? a->name : "");
	if (a->name == NULL)
		snprintf(name, sizeof name, "index_%s_%s", l, k);
	if (schema_by_name(x->engine, db_name(x->db), name) != NULL)
		return (a->flags & AST_F_IF_EXISTS) ? 0
						    : exists_already(x, "index", name);
	if (schema_tokens(x, l, k, &label, &key) < 0)
		return -1;
	rv = db_tx_index_create(x->tx, label, key);
	if (rv == GRAFT_EEXIST)
		return (a->flags & AST_F_IF_EXISTS) ? 0
						    : exists_already(x, "index", name);
	if (rv == GRAFT_EREADONLY)
		return exec_fail(x, GRAFT_STATUS_ACCESS_MODE,
				      "Schema operations are not allowed in a read transaction");
	if (exec_rv(x, rv) < 0)
		return -1;
	x->stats->indexes_added++;
	return defer_schema(x, ADM_CREATE_INDEX, name, l, k);
}

/* An index's label and key from its name: a catalogued name, or the
 * index_<label>_<key> names SHOW INDEXES gives uncatalogued ones. */
static int index_by_name(struct exec_ctx *x, const char *name, uint32_t *label,
			 uint32_t *key, const struct schema_rule **rule)
{
	const struct graph *g = db_graph(x->db);
	uint32_t pairs[256][2];
	size_t n = graph_index_list(g, pairs, 256);

	*rule = schema_by_name(x->engine, db_name(x->db), name);
	if (*rule != NULL) {
		*label = exec_token(x, GRAPH_TOKEN_LABEL, (*rule)->label);
		*key = exec_token(x, GRAPH_TOKEN_PROPKEY, (*rule)->key);
		return *label != GRAPH_NO_TOKEN && *key != GRAPH_NO_TOKEN;
	}
	for (size_t i = 0; i < n; i++) {
		char derived[512];

		snprintf(derived, sizeof derived, "index_%s_%s",
			 graph_token_name(g, GRAPH_TOKEN_LABEL, pairs[i][0]),
			 graph_token_name(g, GRAPH_TOKEN_PROPKEY, pairs[i][1]));
		if (strcmp(derived, name) == 0) {
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
	const struct schema_rule *rule = NULL;
	int found;

	if (a->name != NULL) {
		found = index_by_name(x, a->name, &label, &key, &rule);
	} else {
		label = exec_token(x, GRAPH_TOKEN_LABEL, a->kids[0]->name);
		key = exec_token(x, GRAPH_TOKEN_PROPKEY, a->kids[1]->name);
		found = label != GRAPH_NO_TOKEN && key != GRAPH_NO_TOKEN;
	}
	if (rule != NULL && rule->constraint)
		return exec_fail(x, GRAFT_STATUS_INDEX_DROP_FAILED,
				      "Unable to drop index: Index belongs to constraint: '%s'; drop the constraint instead",
				      rule->name);
	if (found && db_tx_index_drop(x->tx, label, key) == GRAFT_OK) {
		x->stats->indexes_removed++;
		return rule ? defer_schema(x, ADM_DROP_INDEX, rule->name,
					   rule->label, rule->key)
			    : 0;
	}
	if (a->flags & AST_F_IF_EXISTS)
		return 0;
	return exec_fail(x, GRAFT_STATUS_INDEX_DROP_FAILED,
			      "Unable to drop index: No such index '%s'. SHOW INDEXES lists the indexes",
			      a->name ? a->name : a->kids[0]->name);
}

static int cmp_values(const void *a, const void *b)
{
	return cypher_order_cmp(a, b);
}

/* Existing data must already be unique for a new constraint. */
static int check_existing(struct exec_ctx *x, const char *l, const char *k,
			  uint32_t label, uint32_t key, const char *name)
{
	struct graft_value *vals = NULL;
	size_t n = 0, cap = 0;
	struct db_cursor c;
	uint64_t id;
	int rv = 0;

	db_cursor_label(&c, x->tx, label);
	while ((id = db_cursor_next(&c)) != GRAPH_NO_ID) {
		const struct graft_value *v = db_tx_node_prop(x->tx, id, key);

		if (v == NULL)
			continue;
		if (n == cap) {
			struct graft_value *p = realloc(vals, (cap = cap ? cap * 2 : 64) *
								      sizeof *p);
			if (p == NULL) {
				free(vals);
				return exec_oom(x);
			}
			vals = p;
		}
		vals[n++] = *v; /* borrowed: the graph is not changing */
	}
	if (n > 1)
		qsort(vals, n, sizeof *vals, cmp_values);
	for (size_t i = 1; i < n && rv == 0; i++)
		if (cypher_equivalent(&vals[i - 1], &vals[i])) {
			char val[128];

			cypher_render_with(NULL, &vals[i], val, sizeof val);
			rv = exec_fail(x, GRAFT_STATUS_CONSTRAINT_CREATION_FAILED,
					    "Unable to create Constraint( name='%s', type='UNIQUENESS', schema=(:%s {%s}) ): two nodes have the label `%s` and property `%s` = %s; make the values unique first",
					    name, l, k, l, k, val);
		}
	free(vals);
	return rv;
}

static int create_constraint(struct exec_ctx *x, struct ast *a)
{
	const char *l = a->kids[0]->name, *k = a->kids[1]->name, *db = db_name(x->db);
	char name[512];
	uint32_t label, key;
	int rv;

	snprintf(name, sizeof name, "%s", a->name ? a->name : "");
	if (a->name == NULL)
		snprintf(name, sizeof name, "constraint_%s_%s", l, k);
	if (schema_by_name(x->engine, db, name) != NULL ||
	    schema_by_target(x->engine, db, l, k, true) != NULL)
		return (a->flags & AST_F_IF_EXISTS)
			       ? 0
			       : exists_already(x, "constraint", name);
	if (schema_tokens(x, l, k, &label, &key) < 0 ||
	    check_existing(x, l, k, label, key, name) < 0)
		return -1;
	rv = db_tx_index_create(x->tx, label, key);
	if (rv != GRAFT_OK && rv != GRAFT_EEXIST)
		return exec_rv(x, rv);
	/* Over an existing index nothing is written here, and a duplicate
	 * committed since check_existing's scan must still fail this. */
	db_tx_validate_reads(x->tx);
	x->stats->constraints_added++;
	return defer_schema(x, ADM_CREATE_CONSTRAINT, name, l, k);
}

static int drop_constraint(struct exec_ctx *x, struct ast *a)
{
	const struct schema_rule *r =
		schema_by_name(x->engine, db_name(x->db), a->name);
	uint32_t label, key;

	if (r == NULL || !r->constraint) {
		if (a->flags & AST_F_IF_EXISTS)
			return 0;
		return exec_fail(x, GRAFT_STATUS_CONSTRAINT_DROP_FAILED,
				      "Unable to drop constraint `%s`: No such constraint %s. SHOW CONSTRAINTS lists them",
				      a->name, a->name);
	}
	label = exec_token(x, GRAPH_TOKEN_LABEL, r->label);
	key = exec_token(x, GRAPH_TOKEN_PROPKEY, r->key);
	if (label != GRAPH_NO_TOKEN && key != GRAPH_NO_TOKEN)
		db_tx_index_drop(x->tx, label, key);
	x->stats->constraints_removed++;
	return defer_schema(x, ADM_DROP_CONSTRAINT, r->name, r->label, r->key);
}

/* Users: checked and evaluated now, applied at commit --------------------- */

/* Evaluates a password expression into a counted copy (a password is any
 * bytes, NUL included). */
static int secret_value(struct exec_ctx *x, struct ast *e, char **out,
			size_t *len)
{
	struct graft_value v;

	*out = NULL;
	*len = 0;
	if (e == NULL)
		return 0;
	if (eval(x, e, &v) < 0)
		return -1;
	if (v.type != GRAFT_VALUE_STRING) {
		graft_value_free(&v);
		return exec_fail(x, GRAFT_STATUS_TYPE_ERROR,
				 "A password must be a String");
	}
	*out = malloc((size_t)v.u.s->len + 1);
	if (*out != NULL) {
		memcpy(*out, v.u.s->data, (size_t)v.u.s->len + 1);
		*len = v.u.s->len;
	}
	OPENSSL_cleanse(v.u.s->data, v.u.s->len);
	graft_value_free(&v);
	return *out ? 0 : exec_oom(x);
}

void admin_action_free(struct admin_action *act)
{
	free(act->db);
	free(act->label);
	free(act->key);
	free(act->name);
	if (act->password != NULL)
		OPENSSL_cleanse(act->password, act->password_len);
	free(act->password);
	if (act->old_password != NULL)
		OPENSSL_cleanse(act->old_password, act->old_password_len);
	free(act->old_password);
	free(act);
}

static int defer(struct exec_ctx *x, struct ast *a)
{
	struct cypher_tx *t = x->ctx;
	struct admin_action *act = calloc(1, sizeof *act);
	bool current = a->op == ADM_ALTER_CURRENT_USER;

	if (t->e->security == NULL) {
		free(act);
		return exec_fail(x, GRAFT_STATUS_AUTH_PROVIDER_FAILED,
				      "User management is not available on this server (no security unit); start graftd with its data directory");
	}
	if (act == NULL)
		return exec_oom(x);
	if (a->op == ADM_DROP_USER && t->user[0] && strcmp(a->name, t->user) == 0) {
		free(act);
		return exec_fail(x, GRAFT_STATUS_INVALID_ARGUMENTS,
				      "Failed to delete the specified user '%s': Deleting yourself is not allowed.",
				      a->name);
	}
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
			 current ? &act->old_password : &act->password,
			 current ? &act->old_password_len
				 : &act->password_len) < 0 ||
	    (current && secret_value(x, a->kids[1], &act->password,
				     &act->password_len) < 0)) {
		bool oom = act->name == NULL;

		act->next = NULL;
		admin_action_free(act);
		return oom ? exec_oom(x) : -1;
	}
	x->stats->system_updates++;
	return defer_action(x, act);
}

/* CREATE / DROP DATABASE change the dbms: applied at commit. */
static int defer_database(struct exec_ctx *x, struct ast *a)
{
	struct admin_action *act = calloc(1, sizeof *act);

	if (act == NULL || (act->name = strdup(a->name)) == NULL) {
		free(act);
		return exec_oom(x);
	}
	act->op = a->op;
	act->flags = a->flags;
	x->stats->system_updates++;
	return defer_action(x, act);
}

static int terminate(struct exec_ctx *x, struct ast *a)
{
	struct ast *ids = a->kids[0];

	for (uint32_t i = 0; i < ids->n; i++) {
		struct graft_value v;
		bool found = false;

		if (eval(x, ids->kids[i], &v) < 0)
			return -1;
		/* Ids never hold a NUL: one that does names no transaction,
		 * whatever precedes it. */
		if (v.type == GRAFT_VALUE_STRING &&
		    memchr(v.u.s->data, '\0', v.u.s->len) == NULL)
			found = cypher_tx_terminate_id(x->engine, v.u.s->data);
		graft_value_free(&v);
		if (!found)
			return exec_fail(x, GRAFT_STATUS_TX_NOT_FOUND,
					      "Unable to terminate the transaction: no transaction with that id (SHOW TRANSACTIONS lists them)");
	}
	return 0;
}

static int not_yet(struct exec_ctx *x, const char *what)
{
	return exec_fail(x, GRAFT_STATUS_UNSUPPORTED_ADMINISTRATION_COMMAND,
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
		return create_constraint(x, a);
	case ADM_DROP_CONSTRAINT:
		return drop_constraint(x, a);
	case ADM_CREATE_ROLE:
	case ADM_DROP_ROLE:
	case ADM_GRANT_ROLE:
	case ADM_REVOKE_ROLE:
	case ADM_PRIVILEGE:
		return not_yet(x, "Role and privilege management");
	case ADM_CREATE_DATABASE:
	case ADM_DROP_DATABASE:
		return defer_database(x, a);
	default:
		return not_yet(x, "Starting and stopping databases");
	}
}

/* Applying deferred actions at commit. ----------------------------------
 * They are of one kind (forbid_mixed). User commands all go into one
 * transaction of the system database committed once (one Raft entry in a
 * cluster), so that a failing one (a user that exists) or a lost leader
 * leaves none of them applied. Schema commands record their names one
 * after another; a database command is alone. */

struct actions_run {
	struct security_req req;
	struct dbms_change_req change;
	struct db_commit_req users_commit;
	struct db_tx *users_tx; /* the user commands' change, once begun */
	bool users;             /* the actions are user commands */
	struct cypher_commit_req *commit;
	struct admin_action *cur;
	void (*done)(struct cypher_commit_req *req, int status);
};

static void next_action(struct actions_run *r);
static void cover_system_changes(struct cypher_commit_req *c);

/* Ends the run with status, the error in r->req.error (a failure takes
 * back the user commands not yet committed). */
static void run_end(struct actions_run *r, int status)
{
	struct cypher_commit_req *c = r->commit;
	void (*done)(struct cypher_commit_req *, int) = r->done;

	if (r->users_tx != NULL)
		db_tx_rollback(r->users_tx);
	if (status != GRAFT_OK)
		c->error = r->req.error;
	free(r);
	if (status == GRAFT_OK)
		cover_system_changes(c);
	done(c, status);
}

static void action_done(struct security_req *req, int status)
{
	struct actions_run *r = req->data;

	if (status != GRAFT_OK) {
		run_end(r, status);
		return;
	}
	r->cur = r->cur->next;
	next_action(r);
}

static void schema_done(void *arg, int status, const char *msg)
{
	struct actions_run *r = arg;

	if (status != GRAFT_OK)
		cypher_error_set(&r->req.error,
				 GRAFT_STATUS_TX_COMMIT_FAILED,
				 "The schema change was applied but its name could not be recorded in the system database: %s",
				 msg);
	action_done(&r->req, status);
}

/* The Neo4j status of a CREATE/DROP DATABASE that failed. */
static enum graft_status database_status(int rv, bool drop)
{
	switch (rv) {
	case GRAFT_EEXIST:
		return GRAFT_STATUS_DATABASE_EXISTS;
	case GRAFT_ENOTFOUND:
		return GRAFT_STATUS_DATABASE_NOT_FOUND;
	case GRAFT_ENOTLEADER:
		return GRAFT_STATUS_CLUSTER_NOT_A_LEADER;
	case GRAFT_EUNKNOWN:
		return GRAFT_STATUS_DATABASE_COMMIT_FAILED;
	case GRAFT_EINVAL:
		return drop ? GRAFT_STATUS_FORBIDDEN_ON_READ_ONLY_DATABASE
			    : GRAFT_STATUS_ARGUMENT_ERROR;
	default:
		return GRAFT_STATUS_UNKNOWN_ERROR;
	}
}

/* IF [NOT] EXISTS makes the expected failure a success. */
static bool database_tolerated(const struct admin_action *a, int rv)
{
	return (a->flags & AST_F_IF_EXISTS) &&
	       (a->op == ADM_DROP_DATABASE ? rv == GRAFT_ENOTFOUND
					   : rv == GRAFT_EEXIST);
}

static int database_failed(struct actions_run *r, int rv)
{
	struct admin_action *a = r->cur;

	cypher_error_set(&r->req.error,
			 database_status(rv, a->op == ADM_DROP_DATABASE),
			 "%s", r->change.errmsg);
	return rv;
}

static void database_changed(struct dbms_change_req *req, int status)
{
	struct actions_run *r = req->data;

	if (status != GRAFT_OK && !database_tolerated(r->cur, status))
		database_failed(r, status);
	else
		status = GRAFT_OK;
	action_done(&r->req, status);
}

/* Applies CREATE or DROP DATABASE, on every member of a cluster. */
static int database_action(struct actions_run *r)
{
	struct dbms *m = r->commit->tx->e->dbms;
	struct admin_action *a = r->cur;
	int rv;

	r->change.data = r;
	rv = dbms_change(m, a->op == ADM_CREATE_DATABASE, a->name, &r->change,
			 database_changed);
	if (rv == GRAFT_OK)
		return GRAFT_OK;
	if (database_tolerated(a, rv))
		return action_done(&r->req, GRAFT_OK), GRAFT_OK;
	return database_failed(r, rv);
}

/* The one transaction of the system database the user commands go in. */
static int begin_users_tx(struct actions_run *r)
{
	struct db *sys = dbms_get(r->commit->tx->e->dbms, "system");
	int rv;

	if (r->users_tx != NULL)
		return GRAFT_OK;
	rv = sys != NULL ? db_tx_begin(sys, 0, &r->users_tx) : GRAFT_ENOTFOUND;
	if (rv != GRAFT_OK)
		cypher_error_set(&r->req.error, GRAFT_STATUS_UNKNOWN_ERROR,
				 "Cannot change users: %s", graft_strerror(rv));
	return rv;
}

static int start_action(struct actions_run *r)
{
	struct security *s = r->commit->tx->e->security;
	struct admin_action *a = r->cur;
	bool tolerant = a->flags & AST_F_IF_EXISTS;
	struct security_alter alt = {a->password, a->password_len,
				     a->change_required, a->suspended};

	memset(&r->req, 0, sizeof r->req);
	r->req.data = r;
	if (r->users) {
		int rv = begin_users_tx(r);

		if (rv != GRAFT_OK)
			return rv;
		r->req.tx = r->users_tx;
	}
	switch (a->op) {
	case ADM_CREATE_INDEX:
	case ADM_DROP_INDEX:
	case ADM_CREATE_CONSTRAINT:
	case ADM_DROP_CONSTRAINT:
		return schema_apply(r->commit->tx->e, a, schema_done, r);
	case ADM_CREATE_DATABASE:
	case ADM_DROP_DATABASE:
		return database_action(r);
	case ADM_CREATE_USER:
		return security_create_user(s, &r->req, a->name, a->password,
					    a->password_len,
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
						    a->old_password_len,
						    a->password,
						    a->password_len, action_done);
	}
}

/* The actions committed to the system database after the statement's own
 * (empty) commit there, so a bookmark of that commit would predate them:
 * the bookmark moves to what the system database has applied now, which
 * includes every action. (A statement run on another database keeps that
 * database's bookmark; see docs/cypher.md.) */
static void cover_system_changes(struct cypher_commit_req *c)
{
	struct db *sys = dbms_get(c->tx->e->dbms, "system");

	if (sys != NULL && c->tx->db == sys && db_last_txid(sys) > c->txid)
		c->txid = db_last_txid(sys);
}

static void users_committed(struct db_commit_req *commit, int status)
{
	struct actions_run *r = commit->data;

	if (status != GRAFT_OK)
		cypher_error_set(&r->req.error,
				 status == GRAFT_ENOTLEADER
					 ? GRAFT_STATUS_CLUSTER_NOT_A_LEADER
					 : GRAFT_STATUS_DATABASE_COMMIT_FAILED,
				 "Failed to store the transaction's user changes "
				 "(none is applied): %s",
				 commit->errmsg);
	run_end(r, status);
}

/* Commits the user commands' change, if any, as one. */
static void commit_users(struct actions_run *r)
{
	struct db_tx *tx = r->users_tx;
	int rv;

	if (tx == NULL) {
		run_end(r, GRAFT_OK);
		return;
	}
	r->users_tx = NULL;
	r->users_commit.data = r;
	rv = db_commit(tx, &r->users_commit, users_committed);
	if (rv != GRAFT_OK)
		users_committed(&r->users_commit, rv);
}

static void next_action(struct actions_run *r)
{
	int rv;

	if (r->cur == NULL && r->users) {
		commit_users(r);
		return;
	}
	if (r->cur == NULL) {
		run_end(r, GRAFT_OK);
		return;
	}
	rv = start_action(r);
	if (rv != GRAFT_OK)
		run_end(r, rv);
}

int admin_actions_run(struct cypher_commit_req *req,
		      void (*done)(struct cypher_commit_req *req, int status))
{
	struct actions_run *r = calloc(1, sizeof *r);

	if (r == NULL) {
		cypher_error_set(&req->error, GRAFT_STATUS_OUT_OF_MEMORY,
				 "Out of memory committing");
		cypher_tx_rollback(req->tx);
		return GRAFT_ENOMEM;
	}
	r->commit = req;
	r->done = done;
	r->cur = req->tx->actions;
	r->users = r->cur != NULL && action_kind(r->cur) == KIND_USER;
	next_action(r);
	return GRAFT_OK;
}
