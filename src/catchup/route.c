/* Routing through a read replica (catchup.h): its tables are a core's
 * (cluster_route_servers) over the servers it knows (the cores as their
 * discovery endpoints last answered, the other replicas as the cores pass
 * them on, itself); the writer is the core that says it leads. A replica
 * takes no writes: with server-side routing it forwards them to the
 * leader's routing connector, as a follower does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replica_int.h"

void catchup_replica_set_routing(struct catchup_replica *r,
				 struct cluster_routing_options *o)
{
	free(r->routing.policies);
	r->routing = *o;
	o->policies = NULL;
}

/* The index of the core that says it leads among the n servers, or -1. */
static int leader_at(const struct cypher_server *sv, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!sv[i].replica && sv[i].available &&
		    strcmp(sv[i].role, "LEADER") == 0)
			return (int)i;
	return -1;
}

static int no_core(struct cypher_error *err)
{
	return cypher_error_set(
		err, GRAFT_STATUS_DATABASE_UNAVAILABLE,
		"This read replica hears from no core of the cluster (see its "
		"log for the discovery endpoints it probes); route through "
		"another member");
}

int catchup_replica_route(void *data, const struct bolt_route_request *req,
			  struct bolt_route_table *out,
			  struct cypher_error *err)
{
	struct catchup_replica *r = data;
	struct cypher_server *sv = malloc(CYPHER_SERVERS_MAX * sizeof *sv);
	bool cores = false;
	size_t n;
	int rv;

	if (sv == NULL)
		return cypher_error_set(err, GRAFT_STATUS_DATABASE_UNAVAILABLE,
					"Cannot build the routing table: %s",
					graft_strerror(GRAFT_ENOMEM));
	n = catchup_replica_servers(r, sv, CYPHER_SERVERS_MAX);
	for (size_t i = 0; i < n; i++)
		cores |= !sv[i].replica && sv[i].available;
	rv = cores ? cluster_route_servers(&r->routing, sv, n,
					   leader_at(sv, n), req, out, err)
		   : no_core(err);
	free(sv);
	return rv;
}

int catchup_replica_route_writer(void *data, char *addr, size_t n,
				 struct cypher_error *err)
{
	struct catchup_replica *r = data;
	const struct replica_core *lead = NULL;

	addr[0] = '\0';
	for (size_t i = 0; i < CATCHUP_MAX_UPSTREAMS && lead == NULL; i++)
		if (r->cores[i].answering &&
		    strcmp(r->cores[i].p.role, "LEADER") == 0)
			lead = &r->cores[i];
	if (lead == NULL)
		return cypher_error_set(
			err, GRAFT_STATUS_DATABASE_UNAVAILABLE,
			"No leader to forward the write transaction to: this "
			"read replica knows of none now (an election, or no core "
			"answers); retry (a transaction function retries by "
			"itself)");
	if (lead->p.routing[0] == '\0')
		return cypher_error_set(
			err, GRAFT_STATUS_CLUSTER_ROUTING,
			"The leader %s has no server-side routing connector "
			"to forward the write transaction to: set "
			"dbms.routing.enabled=true on every core",
			lead->p.bolt);
	snprintf(addr, n, "%s", lead->p.routing);
	return GRAFT_OK;
}
