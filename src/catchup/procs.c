/* dbms.cluster.overview() and dbms.cluster.role(database) on a read
 * replica: the cores as their discovery endpoints last answered (with the
 * role each reported), the other replicas as the cores pass them on, then
 * this replica, READ_REPLICA for every database. The rows are the core's
 * (cluster.h). */
#include <stdio.h>
#include <string.h>

#include "replica_int.h"

#define ROLE_REPLICA "READ_REPLICA"

/* One server from what the roster knows of it. */
static void entry(struct cypher_server *sv, const struct roster_server *s,
		  const char *role, bool available)
{
	memset(sv, 0, sizeof *sv);
	snprintf(sv->server_id, sizeof sv->server_id, "%s", s->server_id);
	snprintf(sv->bolt, sizeof sv->bolt, "%s", s->bolt);
	snprintf(sv->http, sizeof sv->http, "%s", s->http);
	snprintf(sv->tags, sizeof sv->tags, "%s", s->tags);
	sv->role = role;
	sv->replica = strcmp(role, ROLE_REPLICA) == 0;
	sv->available = available;
	for (size_t i = 0; i < s->n_dbs && i < CYPHER_SERVER_DBS; i++) {
		snprintf(sv->dbs[i].name, sizeof sv->dbs[i].name, "%s",
			 s->dbs[i].name);
		sv->dbs[i].applied = s->dbs[i].applied;
		sv->dbs[i].at_ms = s->dbs[i].at_ms;
		sv->dbs[i].writer = strcmp(role, "LEADER") == 0;
		sv->n_dbs = i + 1;
	}
}

/* A core as its last probe answer tells it. */
static void core_entry(struct cypher_server *sv, const struct replica_core *c)
{
	struct roster_server s;

	memset(&s, 0, sizeof s);
	snprintf(s.server_id, sizeof s.server_id, "%s", c->p.server_id);
	snprintf(s.bolt, sizeof s.bolt, "%s", c->p.bolt);
	snprintf(s.http, sizeof s.http, "%s", c->p.http);
	snprintf(s.tags, sizeof s.tags, "%s", c->p.tags);
	roster_positions_parse(&s, c->p.positions, c->answered_ms);
	/* LEADER etc. as static strings: the probe's text is not one */
	entry(sv, &s,
	      !c->answering                      ? "UNAVAILABLE"
	      : strcmp(c->p.role, "LEADER") == 0   ? "LEADER"
	      : strcmp(c->p.role, "FOLLOWER") == 0 ? "FOLLOWER"
	      : strcmp(c->p.role, "CANDIDATE") == 0 ? "CANDIDATE"
						    : "UNAVAILABLE",
	      c->answering);
}

size_t catchup_replica_servers(void *data, struct cypher_server *out,
			       size_t max)
{
	struct catchup_replica *r = data;
	uint64_t now = uv_now(r->loop);
	struct roster_server me;
	size_t n = 0;

	for (size_t i = 0; i < CATCHUP_MAX_UPSTREAMS && n + 1 < max; i++)
		if (r->cores[i].known)
			core_entry(&out[n++], &r->cores[i]);
	roster_expire(&r->roster, now, REPLICA_FORGET_MS);
	for (size_t i = 0; i < r->roster.n && n + 1 < max; i++)
		entry(&out[n++], &r->roster.servers[i], ROLE_REPLICA,
		      now - r->roster.servers[i].seen_ms < REPLICA_ALIVE_MS);
	if (n < max) {
		replica_positions(r, &me);
		snprintf(me.server_id, sizeof me.server_id, "%.36s",
			 r->o.server_id);
		snprintf(me.bolt, sizeof me.bolt, "%s", r->o.bolt_advertised);
		snprintf(me.http, sizeof me.http, "%s", r->o.http_advertised);
		snprintf(me.tags, sizeof me.tags, "%s", r->o.tags);
		entry(&out[n], &me, ROLE_REPLICA, true);
		out[n++].self = true;
	}
	roster_lags(out, n, r->tracks, &r->n_tracks, now);
	return n;
}

static int overview(struct cypher_proc_call *call)
{
	struct catchup_replica *r = call->data;

	return cluster_overview_servers(call, r->dbms, catchup_replica_servers,
					r);
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
