/* dbms.cluster.overview() and dbms.cluster.role(database), from the state
 * the loop published (topology.c; they run on statement threads): one row
 * per core, LEADER for the one this member knows as leader, then one per
 * read replica (READ_REPLICA); beyond Neo4j, per database each server's
 * last applied transaction and how far behind it is (transactions, ms), so the split-brain check of the Neo4j operations manual
 *   CALL dbms.cluster.overview() YIELD role
 *   WITH role, count(*) AS count WHERE role = 'LEADER' RETURN count
 * gives 1 on every member that knows a leader. Every database replicates
 * through the one Raft group, so a member's role is the same for all. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_int.h"

static const struct cypher_proc_field overview_out[] = {
	{"id", "STRING"},     {"addresses", "LIST<STRING>"},
	{"role", "STRING"},   {"groups", "LIST<STRING>"},
	{"database", "STRING"}, {"databases", "MAP"},
	{"lastCommittedTxn", "MAP"}, {"replicationLagTxs", "MAP"},
	{"replicationLagMillis", "MAP"},
};
#define OVERVIEW_WIDTH 9
static const struct cypher_proc_field role_in[] = {{"database", "STRING"}};
static const struct cypher_proc_field role_out[] = {{"role", "STRING"}};

static int string(struct graft_value *v, const char *s)
{
	return graft_value_string(v, s, strlen(s));
}

static int addresses(struct graft_value *v, const char *bolt_addr,
		     const char *http_addr)
{
	char bolt[CLUSTER_ADDR_LEN + 16], http[CLUSTER_ADDR_LEN + 16];
	int rv = graft_value_list(v, 2);

	snprintf(bolt, sizeof bolt, "bolt://%s", bolt_addr);
	snprintf(http, sizeof http, "http://%s", http_addr);
	if (rv == GRAFT_OK)
		rv = string(&v->u.list->items[0], bolt);
	if (rv == GRAFT_OK)
		rv = string(&v->u.list->items[1], http);
	return rv;
}

static int groups(struct graft_value *v, const char *tags)
{
	char copy[CLUSTER_TAGS_LEN], *save = NULL;
	const char *t[32];
	uint32_t n = 0;
	int rv;

	snprintf(copy, sizeof copy, "%s", tags);
	for (char *x = strtok_r(copy, ",", &save); x != NULL && n < 32;
	     x = strtok_r(NULL, ",", &save))
		t[n++] = x;
	rv = graft_value_list(v, n);
	for (uint32_t i = 0; i < n && rv == GRAFT_OK; i++)
		rv = string(&v->u.list->items[i], t[i]);
	return rv;
}

/* The map {database: what} over the server's databases: the role
 * (what NULL), or one of its figures (-1: unknown, null). */
enum figure { FIG_ROLE, FIG_TXID, FIG_LAG_TXS, FIG_LAG_MS };

static int per_db(struct graft_value *v, const struct cypher_server *sv,
		  enum figure what)
{
	int rv = graft_value_map(v, (uint32_t)sv->n_dbs);

	for (size_t i = 0; i < sv->n_dbs && rv == GRAFT_OK; i++) {
		const struct cypher_server_db *d = &sv->dbs[i];
		struct graft_map_entry *e = &v->u.map->entries[i];
		int64_t x = what == FIG_TXID     ? (int64_t)d->applied
			    : what == FIG_LAG_TXS ? d->lag_txs
						  : d->lag_ms;

		e->key = graft_str_new(d->name, strlen(d->name));
		if (e->key == NULL)
			rv = GRAFT_ENOMEM;
		else if (what == FIG_ROLE)
			rv = string(&e->value, sv->role);
		else
			e->value = x >= 0 ? graft_value_int(x)
					  : graft_value_null();
	}
	return rv;
}

int cluster_overview_emit(struct cypher_proc_call *call, struct dbms *dbms,
			  const struct cypher_server *sv)
{
	struct graft_value row[OVERVIEW_WIDTH];
	int rv;

	memset(row, 0, sizeof row);
	rv = string(&row[0], sv->server_id);
	if (rv == GRAFT_OK)
		rv = addresses(&row[1], sv->bolt, sv->http);
	if (rv == GRAFT_OK)
		rv = string(&row[2], sv->role);
	if (rv == GRAFT_OK)
		rv = groups(&row[3], sv->tags);
	if (rv == GRAFT_OK)
		rv = string(&row[4], dbms_default_db(dbms));
	for (int f = FIG_ROLE; f <= FIG_LAG_MS && rv == GRAFT_OK; f++)
		rv = per_db(&row[5 + f], sv, (enum figure)f);
	if (rv != GRAFT_OK) {
		for (int i = 0; i < OVERVIEW_WIDTH; i++)
			graft_value_free(&row[i]);
		return rv;
	}
	return cypher_proc_emit(call, row);
}

int cluster_overview_servers(struct cypher_proc_call *call, struct dbms *dbms,
			     cypher_servers_fn fn, void *data)
{
	struct cypher_server *sv = malloc(CYPHER_SERVERS_MAX * sizeof *sv);
	size_t n;
	int rv = GRAFT_OK;

	if (sv == NULL)
		return GRAFT_ENOMEM;
	n = fn(data, sv, CYPHER_SERVERS_MAX);
	for (size_t i = 0; i < n && rv == GRAFT_OK; i++)
		rv = cluster_overview_emit(call, dbms, &sv[i]);
	free(sv);
	return rv;
}

static int overview(struct cypher_proc_call *call)
{
	struct cluster *c = call->data;

	return cluster_overview_servers(call, c->dbms, cluster_servers, c);
}

int cluster_role_emit(struct cypher_proc_call *call, struct dbms *dbms,
		      const char *role)
{
	const struct graft_value *db = call->nargs > 0 ? &call->args[0] : NULL;
	struct graft_value row[1];

	if (db == NULL || db->type != GRAFT_VALUE_STRING ||
	    dbms_get(dbms, db->u.s->data) == NULL) {
		cypher_error_set(call->err, GRAFT_STATUS_DATABASE_NOT_FOUND,
				 "Database does not exist. Database name: '%.200s'.",
				 db != NULL && db->type == GRAFT_VALUE_STRING
					 ? db->u.s->data
					 : "");
		return GRAFT_EINVAL;
	}
	if (string(&row[0], role) != GRAFT_OK)
		return GRAFT_ENOMEM;
	return cypher_proc_emit(call, row);
}

static int role(struct cypher_proc_call *call)
{
	struct cluster *c = call->data;
	struct cluster_status *st = malloc(sizeof *st);
	int rv;

	if (st == NULL)
		return GRAFT_ENOMEM;
	cluster_get_status(c, st);
	rv = cluster_role_emit(call, c->dbms, st->role);
	free(st);
	return rv;
}

int cluster_procs_register(struct cypher_engine *engine,
			   struct cypher_proc procs[2],
			   int (*overview_fn)(struct cypher_proc_call *call),
			   int (*role_fn)(struct cypher_proc_call *call),
			   void *data)
{
	static const struct cypher_proc templates[] = {
		{.name = "dbms.cluster.overview",
		 .mode = "DBMS",
		 .description = "Overview of all currently accessible cluster "
				"members, their databases and roles.",
		 .outputs = overview_out,
		 .noutputs = OVERVIEW_WIDTH},
		{.name = "dbms.cluster.role",
		 .mode = "DBMS",
		 .description = "The role of this member in the cluster for "
				"the given database.",
		 .inputs = role_in,
		 .ninputs = 1,
		 .outputs = role_out,
		 .noutputs = 1},
	};
	int rv = GRAFT_OK;

	for (size_t i = 0; i < 2 && rv == GRAFT_OK; i++) {
		procs[i] = templates[i];
		procs[i].fn = i == 0 ? overview_fn : role_fn;
		procs[i].data = data;
		rv = cypher_proc_register(engine, &procs[i]);
	}
	return rv;
}

int cluster_register_procedures(struct cluster *c,
				struct cypher_engine *engine)
{
	int rv = cluster_procs_register(engine, c->procs, overview, role, c);

	return rv == GRAFT_OK ? membership_register(c, engine) : rv;
}
