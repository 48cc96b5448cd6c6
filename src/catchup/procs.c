/* dbms.cluster.overview() and dbms.cluster.role(database) on a read
 * replica: the cores as their discovery endpoints last answered (with the
 * role each reported), then this replica, READ_REPLICA for every database.
 * The rows are the core's (cluster.h). */
#include "replica_int.h"

#define ROLE_REPLICA "READ_REPLICA"

static int overview(struct cypher_proc_call *call)
{
	struct catchup_replica *r = call->data;
	int rv = GRAFT_OK;

	for (size_t i = 0; i < CATCHUP_MAX_UPSTREAMS && rv == GRAFT_OK; i++) {
		const struct replica_core *c = &r->cores[i];

		if (c->known)
			rv = cluster_overview_emit(
				call, r->dbms, c->p.server_id, c->p.bolt,
				c->p.http,
				c->answering ? c->p.role : "UNAVAILABLE");
	}
	if (rv == GRAFT_OK)
		rv = cluster_overview_emit(call, r->dbms, r->o.server_id,
					   r->o.bolt_advertised,
					   r->o.http_advertised, ROLE_REPLICA);
	return rv;
}

static int role(struct cypher_proc_call *call)
{
	struct catchup_replica *r = call->data;

	return cluster_role_emit(call, r->dbms, ROLE_REPLICA);
}

int catchup_replica_register_procedures(struct catchup_replica *r,
					struct cypher_engine *engine)
{
	return cluster_procs_register(engine, r->procs, overview, role, r);
}
