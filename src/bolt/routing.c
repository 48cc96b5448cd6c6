/* dbms.routing.getRoutingTable(context, database): the routing table of
 * Bolt 4.0-4.2 drivers and of tools that call the procedure, the same
 * answer ROUTE gives. A SINGLE server is writer, reader and router of every
 * database it hosts. */
#include "bolt.h"

#include <stdio.h>
#include <string.h>

#include "../util/err.h"

static const struct cypher_proc_field routing_in[] = {
	{"context", "MAP"},
	{"database", "STRING"},
};
static const struct cypher_proc_field routing_out[] = {
	{"ttl", "INTEGER"},
	{"servers", "LIST<MAP>"},
};

/* {addresses: [address], role: role} */
static int server_entry(struct graft_value *out, const char *address,
			const char *role)
{
	struct graft_value *v;
	int rv = graft_value_map(out, 2);

	if (rv != GRAFT_OK)
		return rv;
	out->u.map->entries[0].key = graft_str_new("addresses", 9);
	out->u.map->entries[1].key = graft_str_new("role", 4);
	if (out->u.map->entries[0].key == NULL ||
	    out->u.map->entries[1].key == NULL)
		return GRAFT_ENOMEM;
	v = &out->u.map->entries[0].value;
	rv = graft_value_list(v, 1);
	if (rv == GRAFT_OK)
		rv = graft_value_string(&v->u.list->items[0], address,
					strlen(address));
	if (rv == GRAFT_OK)
		rv = graft_value_string(&out->u.map->entries[1].value, role,
					strlen(role));
	return rv;
}

static int get_routing_table(struct cypher_proc_call *c)
{
	static const char *const roles[] = {"WRITE", "READ", "ROUTE"};
	const struct bolt_env *env = c->data;
	struct dbms *m = cypher_engine_dbms(env->engine);
	const struct graft_value *db = c->nargs > 1 ? &c->args[1] : NULL;
	struct graft_value row[2];
	int rv;

	if (db != NULL && db->type == GRAFT_VALUE_STRING &&
	    dbms_get(m, db->u.s->data) == NULL) {
		cypher_error_set(c->err, GRAFT_STATUS_DATABASE_NOT_FOUND,
			 "Database does not exist. Database name: '%.200s'.",
			 db->u.s->data);
		return GRAFT_EINVAL;
	}
	row[0] = graft_value_int((int64_t)env->cfg.routing_ttl_s);
	rv = graft_value_list(&row[1], 3);
	for (int i = 0; rv == GRAFT_OK && i < 3; i++)
		rv = server_entry(&row[1].u.list->items[i], env->cfg.advertised,
				  roles[i]);
	if (rv != GRAFT_OK) {
		graft_value_free(&row[1]);
		return rv;
	}
	return cypher_proc_emit(c, row);
}

int bolt_server_register_procedures(struct bolt_server *srv)
{
	struct cypher_proc *proc = &srv->routing;

	memset(proc, 0, sizeof *proc);
	proc->name = "dbms.routing.getRoutingTable";
	proc->mode = "DBMS";
	proc->description = "Returns the advertised bolt capable endpoints for "
			    "a given database, divided by each endpoint's "
			    "capabilities.";
	proc->inputs = routing_in;
	proc->ninputs = 2;
	proc->outputs = routing_out;
	proc->noutputs = 2;
	proc->fn = get_routing_table;
	proc->data = &srv->env;
	return cypher_proc_register(srv->env.engine, proc);
}
