/* The routing table of a database (route.h) as ROUTE and the routing
 * procedures (routing.c) give it: from the environment's router, or this
 * server alone in every role. */
#include <stdio.h>
#include <string.h>

#include "../util/err.h"
#include "session_int.h"

int bolt_route_add(struct bolt_route_table *out, const char *address,
		   unsigned role)
{
	size_t i = 0;

	while (i < out->n && strcmp(out->servers[i].address, address) != 0)
		i++;
	if (i == out->n) {
		if (out->n == BOLT_ROUTE_MAX)
			return GRAFT_ENOSPC;
		snprintf(out->servers[i].address,
			 sizeof out->servers[i].address, "%s", address);
		out->servers[i].roles = 0;
		out->n++;
	}
	out->servers[i].roles |= role;
	return GRAFT_OK;
}

/* {addresses: [every address with role], role: name} */
static int role_entry(struct graft_value *out,
		      const struct bolt_route_table *t, unsigned role,
		      const char *name)
{
	struct graft_value *v;
	uint32_t n = 0, k = 0;
	int rv = graft_value_map(out, 2);

	for (size_t i = 0; i < t->n; i++)
		n += (t->servers[i].roles & role) != 0;
	if (rv != GRAFT_OK)
		return rv;
	out->u.map->entries[0].key = graft_str_new("addresses", 9);
	out->u.map->entries[1].key = graft_str_new("role", 4);
	if (out->u.map->entries[0].key == NULL ||
	    out->u.map->entries[1].key == NULL)
		return GRAFT_ENOMEM;
	v = &out->u.map->entries[0].value;
	rv = graft_value_list(v, n);
	for (size_t i = 0; i < t->n && rv == GRAFT_OK; i++)
		if (t->servers[i].roles & role)
			rv = graft_value_string(&v->u.list->items[k++],
						t->servers[i].address,
						strlen(t->servers[i].address));
	if (rv == GRAFT_OK)
		rv = graft_value_string(&out->u.map->entries[1].value, name,
					strlen(name));
	return rv;
}

int bolt_route_servers(const struct bolt_route_table *t,
		       struct graft_value *out)
{
	static const struct {
		unsigned role;
		const char *name;
	} roles[] = {{BOLT_ROUTE_WRITE, "WRITE"},
		     {BOLT_ROUTE_READ, "READ"},
		     {BOLT_ROUTE_ROUTE, "ROUTE"}};
	int rv = graft_value_list(out, 3);

	for (uint32_t i = 0; rv == GRAFT_OK && i < 3; i++)
		rv = role_entry(&out->u.list->items[i], t, roles[i].role,
				roles[i].name);
	if (rv != GRAFT_OK)
		graft_value_free(out);
	return rv;
}

int bolt_route_lookup(const struct bolt_env *env, const char *db,
		      const struct graft_value *context,
		      struct bolt_route_table *out, struct cypher_error *err)
{
	struct dbms *m = cypher_engine_dbms(env->engine);
	struct bolt_route_request req = {.db = db, .context = context};

	memset(out, 0, sizeof *out);
	if (dbms_get(m, db) == NULL)
		return cypher_error_set(
			err, GRAFT_STATUS_DATABASE_NOT_FOUND,
			"Database does not exist. Database name: '%.200s'.",
			db);
	if (env->router.table != NULL)
		return env->router.table(env->router.data, &req, out, err);
	return bolt_route_add(out, env->cfg.advertised,
			      BOLT_ROUTE_WRITE | BOLT_ROUTE_READ |
				      BOLT_ROUTE_ROUTE);
}
