/* The cluster settings of a CORE member, checked together: each error names
 * the setting (as the 5.x name and the 4.x one operators copy from the
 * Neo4j operations manual) and what to set. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "cluster.h"

static void address_text(char *out, size_t n, const struct graft_config *cfg,
			 const char *name)
{
	struct graft_address a;

	graft_config_address(cfg, name, &a);
	graft_address_format(out, n, a.host, a.port);
}

/* initial.server.tags ("a, b") as "a,b": tags are letters, digits, '_'
 * and '-', as a policy's tags() names them. */
int cluster_tags_from_config(const struct graft_config *cfg,
			     char tags[CLUSTER_TAGS_LEN], char *errmsg)
{
	const char *text = graft_config_string(cfg, "initial.server.tags");
	size_t len = 0;

	tags[0] = '\0';
	for (const char *p = text; p != NULL && *p != '\0'; p++) {
		if (*p == ' ' || (*p == ',' && (len == 0 || tags[len - 1] == ',')))
			continue;
		if (*p != ',' && !isalnum((unsigned char)*p) && *p != '_' &&
		    *p != '-')
			return graft_errf(errmsg, GRAFT_ECONFIG,
					  "initial.server.tags=%s: a tag is "
					  "letters, digits, '_' and '-'; "
					  "separate tags with commas",
					  text);
		if (len + 2 > CLUSTER_TAGS_LEN)
			return graft_errf(errmsg, GRAFT_ECONFIG,
					  "initial.server.tags: longer than "
					  "%zu characters",
					  (size_t)CLUSTER_TAGS_LEN - 1);
		tags[len++] = *p;
	}
	if (len > 0 && tags[len - 1] == ',')
		len--;
	tags[len] = '\0';
	return GRAFT_OK;
}

static int check_endpoints(const struct graft_config *cfg,
			   struct cluster_options *o, char *errmsg)
{
	size_t n = graft_config_address_list(cfg,
					     "dbms.cluster.discovery.endpoints",
					     o->endpoints, CLUSTER_MAX_MEMBERS);
	const char *resolver = graft_config_string(
		cfg, "dbms.cluster.discovery.resolver_type");

	if (strcmp(resolver, "LIST") != 0)
		return graft_errf(errmsg, GRAFT_ECONFIG,
				  "dbms.cluster.discovery.resolver_type=%s: "
				  "graft resolves the discovery endpoints as a "
				  "LIST only; set it to LIST and list every "
				  "core's discovery address",
				  resolver);
	if (n == 0)
		return graft_errf(errmsg, GRAFT_ECONFIG,
				  "dbms.mode=CORE needs "
				  "dbms.cluster.discovery.endpoints (4.x: "
				  "causal_clustering.initial_discovery_members): "
				  "list the discovery address of every core, "
				  "e.g. host1:5000,host2:5000,host3:5000");
	if (n > CLUSTER_MAX_MEMBERS)
		return graft_errf(errmsg, GRAFT_ECONFIG,
				  "dbms.cluster.discovery.endpoints lists %zu "
				  "addresses; graft supports at most %d cores",
				  n, CLUSTER_MAX_MEMBERS);
	o->n_endpoints = n;
	o->formation_size = (unsigned)graft_config_int(
		cfg, "dbms.cluster.minimum_initial_system_primaries_count");
	o->min_runtime = (unsigned)graft_config_int(
		cfg, "causal_clustering.minimum_core_cluster_size_at_runtime");
	if (o->formation_size > n)
		return graft_errf(errmsg, GRAFT_ECONFIG,
				  "dbms.cluster.minimum_initial_system_primaries_count "
				  "(4.x: causal_clustering.minimum_core_cluster_"
				  "size_at_formation) is %u but "
				  "dbms.cluster.discovery.endpoints lists only "
				  "%zu cores: the cluster could never form; list "
				  "every core or lower the count",
				  o->formation_size, n);
	return GRAFT_OK;
}

static int check_timeouts(const struct graft_config *cfg,
			  struct cluster_options *o, char *errmsg)
{
	uint64_t hi;

	graft_config_duration_range_ms(
		cfg, "dbms.cluster.raft.leader_failure_detection_window",
		&o->election_ms, &hi);
	o->heartbeat_ms = graft_config_duration_ms(
		cfg, "dbms.cluster.raft.heartbeat_interval");
	if (o->heartbeat_ms * 2 > o->election_ms)
		return graft_errf(errmsg, GRAFT_ECONFIG,
				  "dbms.cluster.raft.heartbeat_interval=%llums "
				  "must be at most half of the lower bound of "
				  "dbms.cluster.raft.leader_failure_detection_"
				  "window (%llums), or followers would start "
				  "elections between heartbeats; a sixth keeps "
				  "failover fast",
				  (unsigned long long)o->heartbeat_ms,
				  (unsigned long long)o->election_ms);
	o->pre_vote = graft_config_bool(cfg,
					"causal_clustering.enable_pre_voting");
	graft_config_retention(cfg, "db.cluster.raft.log.prune_strategy",
			       &o->prune);
	return GRAFT_OK;
}

int cluster_options_from_config(const struct graft_config *cfg,
				struct cluster_options *o, char *errmsg)
{
	int rv;

	memset(o, 0, sizeof *o);
	snprintf(o->data_dir, sizeof o->data_dir, "%s",
		 graft_config_path(cfg, "server.directories.data"));
	snprintf(o->state_dir, sizeof o->state_dir, "%s",
		 graft_config_path(cfg, "server.directories.cluster_state"));
	graft_config_address(cfg, "server.discovery.listen_address",
			     &o->discovery_listen);
	graft_config_address(cfg, "server.discovery.advertised_address",
			     &o->discovery_advertised);
	graft_config_address(cfg, "server.cluster.raft.listen_address",
			     &o->raft_listen);
	graft_config_address(cfg, "server.cluster.raft.advertised_address",
			     &o->raft_advertised);
	address_text(o->bolt_advertised, sizeof o->bolt_advertised, cfg,
		     "server.bolt.advertised_address");
	address_text(o->http_advertised, sizeof o->http_advertised, cfg,
		     "server.http.advertised_address");
	address_text(o->catchup_advertised, sizeof o->catchup_advertised, cfg,
		     "server.cluster.advertised_address");
	if (graft_config_bool(cfg, "dbms.routing.enabled"))
		address_text(o->routing_advertised,
			     sizeof o->routing_advertised, cfg,
			     "server.routing.advertised_address");
	rv = cluster_tags_from_config(cfg, o->tags, errmsg);
	if (rv == GRAFT_OK)
		rv = check_endpoints(cfg, o, errmsg);
	if (rv == GRAFT_OK)
		rv = check_timeouts(cfg, o, errmsg);
	return rv;
}
