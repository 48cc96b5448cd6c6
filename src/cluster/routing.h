/* The routing table of a core member, from the live topology: WRITE is the
 * leader this member hears from (none while there is none, never one it
 * has stopped hearing from), READ the other cores discovery hears from and
 * the read replicas that hold the database (the leader too when
 * dbms.routing.reads_on_writers_enabled, or when no other server can
 * read), leaving out a reader behind the newest transaction for longer
 * than dbms.routing.reads.max_replication_lag, ROUTE every core discovery
 * hears from; addresses are the advertised Bolt addresses. A member that has seen no leader for a while
 * (it cannot reach a majority) refuses with DatabaseUnavailable rather than
 * name a writer it cannot vouch for. Every database replicates through the
 * one Raft group, so every database has the same table. */
#ifndef GRAFT_CLUSTER_ROUTING_H
#define GRAFT_CLUSTER_ROUTING_H

#include "../bolt/route.h"
#include "cluster.h"
#include "policy.h"

struct cluster_routing_options {
	bool reads_on_writers; /* dbms.routing.reads_on_writers_enabled */
	bool reads_on_primaries; /* dbms.routing.reads_on_primaries_enabled */
	uint64_t max_lag_ms; /* dbms.routing.reads.max_replication_lag */
	bool shuffle;          /* dbms.routing.load_balancing.shuffle_enabled */
	/* dbms.routing.load_balancing.config.server_policies.<name>:
	 * n_policies of them (owned; cluster_routing_set takes them) */
	struct policy *policies;
	size_t n_policies;
};

/* Reads and checks the routing settings; errors name the setting (an
 * unknown plugin, a policy that does not parse). */
int cluster_routing_options_from_config(const struct graft_config *cfg,
					struct cluster_routing_options *o,
					char *errmsg);
/* Sets the options cluster_route uses, taking o's policies; loop thread,
 * before clients. */
void cluster_routing_set(struct cluster *c,
			 struct cluster_routing_options *o);
/* The table for req (bolt_router's table; data is the cluster): READ and
 * ROUTE as the policy the routing context names (policy=<name>, else the
 * policy 'default' if configured) selects; an unknown policy is
 * ProcedureCallFailed naming the configured ones. Any thread: it reads a
 * view the loop refreshes. */
int cluster_route(void *data, const struct bolt_route_request *req,
		  struct bolt_route_table *out, struct cypher_error *err);
/* The table for req from a list of servers, cores first (cluster_servers
 * or a read replica's list): WRITE the server at index writer (-1: none),
 * READ and ROUTE as described above, with o's settings and the policy
 * req's routing context names (o is borrowed). Pure: any thread. */
int cluster_route_servers(const struct cluster_routing_options *o,
			  const struct cypher_server *sv, size_t n, int writer,
			  const struct bolt_route_request *req,
			  struct bolt_route_table *out, struct cypher_error *err);
/* Where a write transaction of this member goes (bolt_forwarder's writer;
 * data is the cluster): "" in addr when this member leads and takes
 * writes, else the leader's routing connector ("host:port"). Errors, in
 * err: DatabaseUnavailable while there is no leader, Cluster.Routing when
 * the leader has no routing connector. Any thread, like cluster_route. */
int cluster_route_writer(void *data, char *addr, size_t n,
			 struct cypher_error *err);

#endif
