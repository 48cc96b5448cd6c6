/* dbms.routing.getRoutingTable(context, database) and its 4.x name
 * dbms.cluster.routing.getRoutingTable: the routing table of Bolt 4.0-4.2
 * drivers and of tools that call the procedure, the same answer ROUTE
 * gives (route.c). */
#include "bolt.h"

#include <stdio.h>
#include <string.h>

#include "../util/err.h"
#include "session_int.h"

static const struct cypher_proc_field routing_in[] = {
	{"context", "MAP"},
	{"database", "STRING"},
};
static const struct cypher_proc_field routing_out[] = {
	{"ttl", "INTEGER"},
	{"servers", "LIST<MAP>"},
};

static int get_routing_table(struct cypher_proc_call *c)
{
	const struct bolt_env *env = c->data;
	const struct graft_value *ctx = c->nargs > 0 ? &c->args[0] : NULL;
	const struct graft_value *db = c->nargs > 1 ? &c->args[1] : NULL;
	struct bolt_route_table t;
	struct graft_value row[2];
	int rv;

	rv = bolt_route_lookup(
		env,
		db != NULL && db->type == GRAFT_VALUE_STRING
			? db->u.s->data
			: dbms_default_db(cypher_engine_dbms(env->engine)),
		ctx != NULL && ctx->type == GRAFT_VALUE_MAP ? ctx : NULL, &t,
		c->err);
	if (rv != GRAFT_OK)
		return rv;
	row[0] = graft_value_int((int64_t)env->cfg.routing_ttl_s);
	rv = bolt_route_servers(&t, &row[1]);
	return rv != GRAFT_OK ? rv : cypher_proc_emit(c, row);
}

int bolt_server_register_procedures(struct bolt_server *srv)
{
	static const char *const names[] = {
		"dbms.routing.getRoutingTable",
		"dbms.cluster.routing.getRoutingTable", /* 4.x */
	};
	int rv = GRAFT_OK;

	for (size_t i = 0; i < 2 && rv == GRAFT_OK; i++) {
		struct cypher_proc *proc = &srv->routing[i];

		memset(proc, 0, sizeof *proc);
		proc->name = names[i];
		proc->mode = "DBMS";
		proc->description = "Returns the advertised bolt capable "
				    "endpoints for a given database, divided "
				    "by each endpoint's capabilities.";
		proc->inputs = routing_in;
		proc->ninputs = 2;
		proc->outputs = routing_out;
		proc->noutputs = 2;
		proc->fn = get_routing_table;
		proc->data = &srv->env;
		rv = cypher_proc_register(srv->env.engine, proc);
	}
	return rv;
}
