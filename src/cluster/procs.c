/* dbms.cluster.overview() and dbms.cluster.role(database), from the state
 * the loop published (topology.c; they run on statement threads): one row
 * per core, LEADER for the one this member knows as
 * leader, so the split-brain check of the Neo4j operations manual
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
};
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

/* {name: role} for every database of this member. */
static int databases(struct graft_value *v, struct dbms *dbms,
		     const char *role)
{
	struct db *dbs[256];
	size_t n = dbms_list(dbms, dbs, sizeof dbs / sizeof dbs[0]);
	int rv = graft_value_map(v, (uint32_t)n);

	for (size_t i = 0; i < n && rv == GRAFT_OK; i++) {
		const char *name = db_name(dbs[i]);

		v->u.map->entries[i].key = graft_str_new(name, strlen(name));
		rv = v->u.map->entries[i].key == NULL
			     ? GRAFT_ENOMEM
			     : string(&v->u.map->entries[i].value, role);
	}
	return rv;
}

int cluster_overview_emit(struct cypher_proc_call *call, struct dbms *dbms,
			  const char *server_id, const char *bolt,
			  const char *http, const char *role)
{
	struct graft_value row[6];
	int rv;

	memset(row, 0, sizeof row);
	rv = string(&row[0], server_id);
	if (rv == GRAFT_OK)
		rv = addresses(&row[1], bolt, http);
	if (rv == GRAFT_OK)
		rv = string(&row[2], role);
	if (rv == GRAFT_OK)
		rv = graft_value_list(&row[3], 0);
	if (rv == GRAFT_OK)
		rv = string(&row[4], dbms_default_db(dbms));
	if (rv == GRAFT_OK)
		rv = databases(&row[5], dbms, role);
	if (rv != GRAFT_OK) {
		for (int i = 0; i < 6; i++)
			graft_value_free(&row[i]);
		return rv;
	}
	return cypher_proc_emit(call, row);
}

static int overview(struct cypher_proc_call *call)
{
	struct cluster *c = call->data;
	struct cluster_status *st = malloc(sizeof *st);
	int rv = GRAFT_OK;

	if (st == NULL)
		return GRAFT_ENOMEM;
	cluster_get_status(c, st);
	for (size_t i = 0; i < st->n_members && rv == GRAFT_OK; i++) {
		const struct cluster_member_status *m = &st->members[i];

		rv = cluster_overview_emit(call, c->dbms, m->server_id, m->bolt,
					   m->http, m->role);
	}
	free(st);
	return rv;
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
		 .noutputs = 6},
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
	return cluster_procs_register(engine, c->procs, overview, role, c);
}
