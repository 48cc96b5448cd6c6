/* Built-in procedures (db.labels, dbms.components, ...) and the
 * procedures behind SHOW INDEXES / CONSTRAINTS / PROCEDURES / FUNCTIONS /
 * TRANSACTIONS / DATABASES / SERVERS / USERS / SETTINGS. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <graft.h>

#include "engine_int.h"

/* Value helpers -------------------------------------------------------- */

static struct graft_value str(const char *s)
{
	struct graft_value v = graft_value_null();

	if (s != NULL)
		graft_value_string(&v, s, strlen(s));
	return v;
}

static struct graft_value str_list(const char *const *items, size_t n)
{
	struct graft_value v;

	if (graft_value_list(&v, (uint32_t)n) != GRAFT_OK)
		return graft_value_null();
	for (size_t i = 0; i < n; i++)
		v.u.list->items[i] = str(items[i]);
	return v;
}

static int emit(struct cypher_proc_call *c, ...)
{
	struct graft_value row[32];
	va_list ap;

	va_start(ap, c);
	for (uint32_t i = 0; i < c->width && i < 32; i++)
		row[i] = va_arg(ap, struct graft_value);
	va_end(ap);
	return cypher_proc_emit(c, row);
}

/* True if a SHOW filter (args[0], a list or null) admits name. */
static bool admitted(const struct cypher_proc_call *c, const char *name)
{
	const struct graft_value *f = c->nargs ? &c->args[0] : NULL;

	if (f == NULL || f->type != GRAFT_VALUE_LIST || f->u.list->len == 0)
		return true;
	for (uint32_t i = 0; i < f->u.list->len; i++) {
		const struct graft_value *v = &f->u.list->items[i];

		if (v->type == GRAFT_VALUE_STRING && strcmp(v->u.s->data, name) == 0)
			return true;
	}
	return false;
}

/* db.* ------------------------------------------------------------------- */

static int tokens(struct cypher_proc_call *c, enum graph_token_kind k)
{
	const struct graph *g = db_graph(c->tx->db);
	uint32_t n = graph_token_count(g, k);

	for (uint32_t i = 0; i < n; i++) {
		int rv = emit(c, str(graph_token_name(g, k, i)));

		if (rv != GRAFT_OK)
			return rv;
	}
	return GRAFT_OK;
}

static int db_labels(struct cypher_proc_call *c)
{
	return tokens(c, GRAPH_TOKEN_LABEL);
}

static int db_reltypes(struct cypher_proc_call *c)
{
	return tokens(c, GRAPH_TOKEN_RELTYPE);
}

static int db_propkeys(struct cypher_proc_call *c)
{
	return tokens(c, GRAPH_TOKEN_PROPKEY);
}

static int db_ping(struct cypher_proc_call *c)
{
	return emit(c, graft_value_bool(true));
}

static int dbms_components(struct cypher_proc_call *c)
{
	const char *v[] = {GRAFT_NEO4J_VERSION};

	return emit(c, str("Neo4j Kernel"), str_list(v, 1), str("community"));
}

/* Procedures and functions listings ------------------------------------ */

static struct graft_value signature(const struct cypher_proc *p)
{
	char buf[1024];
	size_t o = (size_t)snprintf(buf, sizeof buf, "%s(", p->name);

	for (uint32_t i = 0; i < p->ninputs && o < sizeof buf; i++)
		o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%s :: %s",
				      i ? ", " : "", p->inputs[i].name,
				      p->inputs[i].type);
	if (o < sizeof buf)
		o += (size_t)snprintf(buf + o, sizeof buf - o, ") :: (");
	for (uint32_t i = 0; i < p->noutputs && o < sizeof buf; i++)
		o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%s :: %s",
				      i ? ", " : "", p->outputs[i].name,
				      p->outputs[i].type);
	if (o < sizeof buf)
		snprintf(buf + o, sizeof buf - o, ")");
	return str(buf);
}

static int list_procs(struct cypher_proc_call *c, bool show)
{
	struct cypher_engine *e = c->tx->e;

	for (size_t i = 0; i < e->nprocs; i++) {
		const struct cypher_proc *p = e->procs[i];
		int rv;

		if (p->name[0] == '_' || (show && !admitted(c, p->name)))
			continue;
		if (show)
			rv = emit(c, str(p->name), str(p->description),
				  str(p->mode), graft_value_bool(false),
				  signature(p));
		else
			rv = emit(c, str(p->name), signature(p),
				  str(p->description), str(p->mode));
		if (rv != GRAFT_OK)
			return rv;
	}
	return GRAFT_OK;
}

static int dbms_procedures(struct cypher_proc_call *c)
{
	return list_procs(c, false);
}

static int show_procedures(struct cypher_proc_call *c)
{
	return list_procs(c, true);
}

static int list_funcs(struct cypher_proc_call *c, bool show)
{
	const struct cypher_func *f;
	const struct cypher_agg *a;
	size_t nf = cypher_func_all(&f), na = cypher_agg_all(&a);
	int rv = GRAFT_OK;

	for (size_t i = 0; rv == GRAFT_OK && i < nf; i++)
		if (!show || admitted(c, f[i].name))
			rv = show ? emit(c, str(f[i].name), str(f[i].category),
					 str(f[i].description),
					 graft_value_bool(false),
					 str(f[i].signature),
					 graft_value_bool(false))
				  : emit(c, str(f[i].name), str(f[i].signature),
					 str(f[i].description),
					 graft_value_bool(false));
	for (size_t i = 0; rv == GRAFT_OK && i < na; i++)
		if (!show || admitted(c, a[i].name))
			rv = show ? emit(c, str(a[i].name), str("Aggregating"),
					 str(a[i].description),
					 graft_value_bool(true),
					 str(a[i].signature),
					 graft_value_bool(false))
				  : emit(c, str(a[i].name), str(a[i].signature),
					 str(a[i].description),
					 graft_value_bool(true));
	return rv;
}

static int dbms_functions(struct cypher_proc_call *c)
{
	return list_funcs(c, false);
}

static int show_functions(struct cypher_proc_call *c)
{
	return list_funcs(c, true);
}

/* Transactions ------------------------------------------------------------ */

/* One row per open transaction of slot s; under s->mu. */
static int emit_txs(struct cypher_proc_call *c, struct engine_tx_slot *s,
		    bool show)
{
	int64_t now = engine_coarse_ms(); /* as started_ms */

	for (struct cypher_tx *t = s->txs; t != NULL; t = t->next) {
		struct graft_value meta;
		char query[sizeof t->current_query];
		int rv;

		if (show && !admitted(c, t->id))
			continue;
		pthread_mutex_lock(&t->query_mu);
		memcpy(query, t->current_query, sizeof query);
		pthread_mutex_unlock(&t->query_mu);
		if (graft_value_copy(&meta, &t->metadata) != GRAFT_OK)
			return GRAFT_ENOMEM;
		if (meta.type == GRAFT_VALUE_NULL)
			graft_value_map(&meta, 0);
		if (show)
			rv = emit(c, str(t->dbname), str(t->id),
				  str(query), str(t->user),
				  graft_value_int(now - (int64_t)t->started_ms),
				  str(engine_tx_terminated(t) ? "Terminated"
							      : "Running"),
				  meta);
		else
			rv = emit(c, str(t->id), str(query),
				  str(t->user), str(t->dbname),
				  graft_value_int(now - (int64_t)t->started_ms),
				  meta);
		if (rv != GRAFT_OK)
			return rv;
	}
	return GRAFT_OK;
}

static int list_txs(struct cypher_proc_call *c, bool show)
{
	struct cypher_engine *e = c->tx->e;
	int rv = GRAFT_OK;

	for (unsigned i = 0; i < GRAFT_SLOTS && rv == GRAFT_OK; i++) {
		struct engine_tx_slot *s = &e->tx_slots[i];

		pthread_mutex_lock(&s->mu);
		rv = emit_txs(c, s, show);
		pthread_mutex_unlock(&s->mu);
	}
	return rv;
}

static int dbms_list_queries(struct cypher_proc_call *c)
{
	return list_txs(c, false);
}

static int show_transactions(struct cypher_proc_call *c)
{
	return list_txs(c, true);
}

/* Schema ---------------------------------------------------------------- */

/* The catalogued name (a constraint names its index), or a derived one. */
static const struct schema_rule *index_rule(struct cypher_proc_call *c,
					    const char *label, const char *key)
{
	const char *db = db_name(c->tx->db);
	const struct schema_rule *r =
		schema_by_target(c->tx->e, db, label, key, true);

	return r ? r : schema_by_target(c->tx->e, db, label, key, false);
}

static int show_indexes(struct cypher_proc_call *c)
{
	const struct graph *g = db_graph(c->tx->db);
	uint32_t pairs[256][2];
	size_t n = graph_index_list(g, pairs, 256);

	for (size_t i = 0; i < n; i++) {
		char name[256];
		const char *label = graph_token_name(g, GRAPH_TOKEN_LABEL,
						     pairs[i][0]);
		const char *key = graph_token_name(g, GRAPH_TOKEN_PROPKEY,
						   pairs[i][1]);
		int rv;

		const struct schema_rule *r = index_rule(c, label, key);

		if (r != NULL)
			snprintf(name, sizeof name, "%s", r->name);
		else
			snprintf(name, sizeof name, "index_%s_%s", label, key);
		if (!admitted(c, name))
			continue;
		rv = emit(c, graft_value_int((int64_t)i + 1), str(name),
			  str("ONLINE"), graft_value_float(100.0), str("RANGE"),
			  str("NODE"), str_list(&label, 1), str_list(&key, 1),
			  str("range-1.0"),
			  r && r->constraint ? str(r->name) : graft_value_null());
		if (rv != GRAFT_OK)
			return rv;
	}
	return GRAFT_OK;
}

static int show_constraints(struct cypher_proc_call *c)
{
	struct cypher_engine *e = c->tx->e;
	const char *db = db_name(c->tx->db);
	int64_t id = 0;

	for (size_t i = 0; i < e->nrules; i++) {
		const struct schema_rule *r = &e->rules[i];
		const char *label = r->label, *key = r->key;
		int rv;

		if (!r->constraint || strcmp(r->db, db) != 0 ||
		    !admitted(c, r->name))
			continue;
		rv = emit(c, graft_value_int(++id), str(r->name),
			  str("UNIQUENESS"), str("NODE"), str_list(&label, 1),
			  str_list(&key, 1), str(r->name));
		if (rv != GRAFT_OK)
			return rv;
	}
	return GRAFT_OK;
}

/* Databases and users --------------------------------------------------- */

/* SHOW DATABASES: one row per database and server hosting it, as Neo4j 5
 * lists a cluster (role primary for a core, secondary for a read replica;
 * writer on the one that takes writes; replicationLag the transactions it
 * is behind, as Neo4j, 0 or negative). Without a cluster, this server
 * alone. */
static int db_row(struct cypher_proc_call *c, struct db *db,
		  bool is_default, const struct cypher_server *sv)
{
	const char *name = db_name(db);
	const struct cypher_server_db *at = NULL;
	bool is_system = strcmp(name, "system") == 0;
	bool known, writer;
	int64_t applied, lag;

	for (size_t i = 0; i < sv->n_dbs && at == NULL; i++)
		if (strcmp(sv->dbs[i].name, name) == 0)
			at = &sv->dbs[i];
	/* this server knows its own databases, listed or not */
	known = at != NULL || sv->self;
	writer = at != NULL ? at->writer
			    : sv->self && strcmp(sv->role, "LEADER") == 0;
	applied = sv->self ? (int64_t)db_last_txid(db)
		  : at != NULL ? (int64_t)at->applied
			       : -1;
	lag = at != NULL ? at->lag_txs : sv->self ? 0 : -1;
	return emit(c, str(name), str(is_system ? "system" : "standard"),
		    str_list(NULL, 0), str(writer ? "read-write" : "read-only"),
		    str(sv->bolt), str(sv->replica ? "secondary" : "primary"),
		    graft_value_bool(writer), str("online"),
		    str(sv->available && known ? "online" : "unknown"),
		    str(sv->available ? "" : "the server is not heard from"),
		    graft_value_bool(is_default), graft_value_bool(is_default),
		    graft_value_null(),
		    applied >= 0 ? graft_value_int(applied) : graft_value_null(),
		    lag >= 0 ? graft_value_int(-lag) : graft_value_null());
}

/* This server alone, when no cluster tells the engine of servers. */
static size_t alone(struct cypher_proc_call *c, struct cypher_server *out)
{
	struct db *dbs[CYPHER_SERVER_DBS];
	size_t n = dbms_list(c->tx->e->dbms, dbs, CYPHER_SERVER_DBS);

	memset(out, 0, sizeof *out);
	snprintf(out->bolt, sizeof out->bolt, "%s", c->tx->e->o.bolt_address);
	snprintf(out->server_id, sizeof out->server_id, "%.39s",
		 c->tx->e->o.bolt_address);
	out->role = "LEADER";
	out->available = out->self = true;
	for (size_t i = 0; i < n; i++) {
		snprintf(out->dbs[i].name, sizeof out->dbs[i].name, "%s",
			 db_name(dbs[i]));
		out->dbs[i].applied = db_last_txid(dbs[i]);
		out->dbs[i].writer = true;
	}
	out->n_dbs = n;
	return 1;
}

static size_t servers(struct cypher_proc_call *c, struct cypher_server *out)
{
	struct cypher_engine *e = c->tx->e;

	return e->servers != NULL ? e->servers(e->servers_data, out,
					       CYPHER_SERVERS_MAX)
				  : alone(c, out);
}

static int show_databases(struct cypher_proc_call *c)
{
	struct dbms *m = c->tx->e->dbms;
	struct cypher_server *sv = malloc(CYPHER_SERVERS_MAX * sizeof *sv);
	struct db *dbs[64];
	size_t n = dbms_list(m, dbs, 64), ns;
	bool only_default = c->nargs > 1 && c->args[1].type == GRAFT_VALUE_BOOL;
	int rv = GRAFT_OK;

	if (sv == NULL)
		return GRAFT_ENOMEM;
	ns = servers(c, sv);
	for (size_t i = 0; i < n && rv == GRAFT_OK; i++) {
		const char *name = db_name(dbs[i]);
		bool is_default = strcmp(name, dbms_default_db(m)) == 0;

		if (!admitted(c, name) || (only_default && !is_default))
			continue;
		for (size_t k = 0; k < ns && rv == GRAFT_OK; k++)
			rv = db_row(c, dbs[i], is_default, &sv[k]);
	}
	free(sv);
	return rv;
}

/* SHOW SERVERS (Neo4j 5's columns; name is the server id, as Neo4j names
 * a server until it is renamed). */
static int server_row(struct cypher_proc_call *c,
		      const struct cypher_server *sv)
{
	const char *hosting[CYPHER_SERVER_DBS], *tags[16];
	char tagbuf[sizeof sv->tags], *save = NULL;
	size_t ntags = 0;

	for (size_t i = 0; i < sv->n_dbs; i++)
		hosting[i] = sv->dbs[i].name;
	snprintf(tagbuf, sizeof tagbuf, "%s", sv->tags);
	for (char *t = strtok_r(tagbuf, ",", &save); t != NULL && ntags < 16;
	     t = strtok_r(NULL, ",", &save))
		tags[ntags++] = t;
	return emit(c, str(sv->server_id), str(sv->bolt), str("Enabled"),
		    str(sv->available ? "Available" : "Unavailable"),
		    str_list(hosting, sv->n_dbs), str(sv->server_id),
		    str(sv->http[0] != '\0' ? sv->http : NULL), graft_value_null(),
		    str_list(hosting, sv->n_dbs), str_list(tags, ntags),
		    str_list(NULL, 0), str_list(NULL, 0),
		    str(sv->replica ? "SECONDARY" : "PRIMARY"), str(sv->role));
}

static int show_servers(struct cypher_proc_call *c)
{
	struct cypher_server *sv = malloc(CYPHER_SERVERS_MAX * sizeof *sv);
	size_t ns;
	int rv = GRAFT_OK;

	if (sv == NULL)
		return GRAFT_ENOMEM;
	ns = servers(c, sv);
	for (size_t k = 0; k < ns && rv == GRAFT_OK; k++)
		if (admitted(c, sv[k].server_id))
			rv = server_row(c, &sv[k]);
	free(sv);
	return rv;
}

void cypher_engine_set_servers(struct cypher_engine *e, cypher_servers_fn fn,
			       void *data)
{
	e->servers = fn;
	e->servers_data = data;
}

static int show_users(struct cypher_proc_call *c)
{
	struct security_user *u = NULL;
	size_t n = 0;
	int rv;

	if (c->tx->e->security == NULL)
		return GRAFT_OK;
	rv = security_list_users(c->tx->e->security, &u, &n);
	for (size_t i = 0; rv == GRAFT_OK && i < n; i++) {
		const char *roles[] = {"PUBLIC", "admin"};

		if (!admitted(c, u[i].name) ||
		    (c->nargs > 1 && c->args[1].type == GRAFT_VALUE_BOOL &&
		     strcmp(u[i].name, c->tx->user) != 0))
			continue;
		rv = emit(c, str(u[i].name), str_list(roles, 2),
			  graft_value_bool(u[i].password_change_required),
			  graft_value_bool(u[i].suspended), graft_value_null());
	}
	security_users_free(u, n);
	return rv;
}

static int show_roles(struct cypher_proc_call *c)
{
	static const char *const roles[] = {"PUBLIC", "admin", "architect",
					    "editor", "publisher", "reader"};
	int rv = GRAFT_OK;

	for (size_t i = 0; rv == GRAFT_OK && i < 6; i++)
		if (admitted(c, roles[i]))
			rv = emit(c, str(roles[i]));
	return rv;
}

/* Registry --------------------------------------------------------------- */

#define F(n, t) {n, t}
#define N(a) (uint32_t)(sizeof(a) / sizeof(a[0]))

static const struct cypher_proc_field out_label[] = {F("label", "STRING")};
static const struct cypher_proc_field out_reltype[] = {
	F("relationshipType", "STRING")};
static const struct cypher_proc_field out_propkey[] = {
	F("propertyKey", "STRING")};
static const struct cypher_proc_field out_ping[] = {F("success", "BOOLEAN")};
static const struct cypher_proc_field out_components[] = {
	F("name", "STRING"), F("versions", "LIST<STRING>"),
	F("edition", "STRING")};
static const struct cypher_proc_field out_procs[] = {
	F("name", "STRING"), F("signature", "STRING"),
	F("description", "STRING"), F("mode", "STRING")};
static const struct cypher_proc_field out_funcs[] = {
	F("name", "STRING"), F("signature", "STRING"),
	F("description", "STRING"), F("aggregating", "BOOLEAN")};
static const struct cypher_proc_field out_queries[] = {
	F("queryId", "STRING"), F("query", "STRING"), F("username", "STRING"),
	F("database", "STRING"), F("elapsedTimeMillis", "INTEGER"),
	F("metaData", "MAP")};
static const struct cypher_proc_field in_show[] = {F("filter", "LIST<ANY>"),
						  F("option", "BOOLEAN")};
static const struct cypher_proc_field out_show_procs[] = {
	F("name", "STRING"), F("description", "STRING"), F("mode", "STRING"),
	F("worksOnSystem", "BOOLEAN"), F("signature", "STRING")};
static const struct cypher_proc_field out_show_funcs[] = {
	F("name", "STRING"), F("category", "STRING"),
	F("description", "STRING"), F("aggregating", "BOOLEAN"),
	F("signature", "STRING"), F("isBuiltIn", "BOOLEAN")};
static const struct cypher_proc_field out_show_txs[] = {
	F("database", "STRING"), F("transactionId", "STRING"),
	F("currentQuery", "STRING"), F("username", "STRING"),
	F("elapsedTime", "INTEGER"), F("status", "STRING"),
	F("metaData", "MAP")};
static const struct cypher_proc_field out_show_indexes[] = {
	F("id", "INTEGER"), F("name", "STRING"), F("state", "STRING"),
	F("populationPercent", "FLOAT"), F("type", "STRING"),
	F("entityType", "STRING"), F("labelsOrTypes", "LIST<STRING>"),
	F("properties", "LIST<STRING>"), F("indexProvider", "STRING"),
	F("owningConstraint", "STRING")};
static const struct cypher_proc_field out_show_constraints[] = {
	F("id", "INTEGER"), F("name", "STRING"), F("type", "STRING"),
	F("entityType", "STRING"), F("labelsOrTypes", "LIST<STRING>"),
	F("properties", "LIST<STRING>"), F("ownedIndex", "STRING")};
static const struct cypher_proc_field out_show_dbs[] = {
	F("name", "STRING"), F("type", "STRING"), F("aliases", "LIST<STRING>"),
	F("access", "STRING"), F("address", "STRING"), F("role", "STRING"),
	F("writer", "BOOLEAN"), F("requestedStatus", "STRING"),
	F("currentStatus", "STRING"), F("statusMessage", "STRING"),
	F("default", "BOOLEAN"), F("home", "BOOLEAN"),
	F("constituents", "LIST<STRING>"), F("lastCommittedTxn", "INTEGER"),
	F("replicationLag", "INTEGER")};
static const struct cypher_proc_field out_show_servers[] = {
	F("name", "STRING"), F("address", "STRING"), F("state", "STRING"),
	F("health", "STRING"), F("hosting", "LIST<STRING>"),
	F("serverId", "STRING"), F("httpAddress", "STRING"),
	F("httpsAddress", "STRING"), F("requestedHosting", "LIST<STRING>"),
	F("tags", "LIST<STRING>"), F("allowedDatabases", "LIST<STRING>"),
	F("deniedDatabases", "LIST<STRING>"), F("modeConstraint", "STRING"),
	F("role", "STRING")};
static const struct cypher_proc_field out_show_users[] = {
	F("user", "STRING"), F("roles", "LIST<STRING>"),
	F("passwordChangeRequired", "BOOLEAN"), F("suspended", "BOOLEAN"),
	F("home", "STRING")};
static const struct cypher_proc_field out_show_roles[] = {F("role", "STRING")};

#define PROC(name, mode, desc, in, out, fn)                                    \
	{name, mode, desc, in, sizeof(in) ? N(in) : 0, out, N(out), fn, NULL,  \
	 false}
#define PROC0(name, mode, desc, out, fn)                                       \
	{name, mode, desc, NULL, 0, out, N(out), fn, NULL, false}

static const struct cypher_proc builtins[] = {
	PROC0("db.labels", "READ", "List all labels in the database.",
	      out_label, db_labels),
	PROC0("db.relationshipTypes", "READ",
	      "List all relationship types in the database.", out_reltype,
	      db_reltypes),
	PROC0("db.propertyKeys", "READ",
	      "List all property keys in the database.", out_propkey,
	      db_propkeys),
	PROC0("db.ping", "READ",
	      "This procedure can be used by client side tooling to test whether they are correctly connected to a database.",
	      out_ping, db_ping),
	PROC0("dbms.components", "DBMS",
	      "List DBMS components and their versions.", out_components,
	      dbms_components),
	PROC0("dbms.procedures", "DBMS", "List all procedures in the DBMS.",
	      out_procs, dbms_procedures),
	PROC0("dbms.functions", "DBMS", "List all functions in the DBMS.",
	      out_funcs, dbms_functions),
	PROC0("dbms.listQueries", "DBMS",
	      "List all queries currently executing at the instance.",
	      out_queries, dbms_list_queries),
};

static const struct {
	const char *kind;
	uint32_t ndefault;
	struct cypher_proc proc;
} shows[] = {
	{"INDEXES", 10, PROC("__show.indexes", "READ", "", in_show,
			     out_show_indexes, show_indexes)},
	{"CONSTRAINTS", 7, PROC("__show.constraints", "READ", "", in_show,
				out_show_constraints, show_constraints)},
	{"PROCEDURES", 4, PROC("__show.procedures", "DBMS", "", in_show,
			       out_show_procs, show_procedures)},
	{"FUNCTIONS", 4, PROC("__show.functions", "DBMS", "", in_show,
			      out_show_funcs, show_functions)},
	{"TRANSACTIONS", 6, PROC("__show.transactions", "DBMS", "", in_show,
				 out_show_txs, show_transactions)},
	{"DATABASES", 13, PROC("__show.databases", "DBMS", "", in_show,
			       out_show_dbs, show_databases)},
	{"SERVERS", 5, PROC("__show.servers", "DBMS", "", in_show,
			    out_show_servers, show_servers)},
	{"USERS", 5, PROC("__show.users", "DBMS", "", in_show, out_show_users,
			  show_users)},
	{"ROLES", 1, PROC("__show.roles", "DBMS", "", in_show, out_show_roles,
			  show_roles)},
};

const struct cypher_proc *proc_show(const char *kind, uint32_t *ndefault)
{
	for (size_t i = 0; i < N(shows); i++)
		if (strcmp(shows[i].kind, kind) == 0) {
			*ndefault = shows[i].ndefault;
			return &shows[i].proc;
		}
	*ndefault = 0;
	return NULL;
}

int proc_register_builtins(struct cypher_engine *e)
{
	for (size_t i = 0; i < N(builtins); i++) {
		int rv = cypher_proc_register(e, &builtins[i]);

		if (rv != GRAFT_OK)
			return rv;
	}
	return GRAFT_OK;
}
