/* Routing tables from the live topology (routing.h).
 *
 * The loop keeps a view of what a table needs (routing_int.h): after every
 * loop iteration routing_refresh looks at libraft's state and, when the
 * leadership changed or a few milliseconds have passed, copies the voters,
 * their Bolt addresses and when discovery last heard from each, and when
 * this member last heard from the leader. cluster_route reads a copy of it
 * under the lock, on whichever thread asks, and decides with the time of
 * the question:
 * - the writer is this member when it leads and takes writes, or the leader
 *   it heard from within the lower bound of the failure detection window
 *   (a follower stops naming a leader that went silent before Raft itself
 *   calls an election, so a driver is never sent to a dead writer twice);
 * - a member that has known no live leader for LEADERLESS_WINDOWS failure
 *   detection windows is taken to be cut off from a majority (an election
 *   among reachable cores ends well within that): it answers
 *   DatabaseUnavailable, and drivers ask the next router;
 * - readers and routers are the cores discovery heard from within
 *   ROUTING_ALIVE_MS (discovery talks to every core every 3 s), and this
 *   member; the read replicas heard of within that time (topology.c's
 *   servers) read too, if they hold the database;
 * - a reader whose lag in the database (roster.h: how long it has been
 *   behind the newest transaction known) exceeds max_lag_ms reads no more
 *   until it catches up; the writer is never left out for it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/log.h"
#include "cluster_int.h"
#include "routing.h"

#define REFRESH_MS 10
#define LEADERLESS_WINDOWS 4

#define POLICIES "dbms.routing.load_balancing.config.server_policies."

/* Each "<name>=<rules>" line of the policies setting into o. */
static int read_policies(const char *text, struct cluster_routing_options *o,
			 char *errmsg)
{
	char name[POLICY_NAME_LEN], rules[GRAFT_ERRMSG_SIZE];
	char why[GRAFT_ERRMSG_SIZE];
	const char *p = text;
	size_t len, eq;
	int rv;

	o->n_policies = 0;
	o->policies = calloc(POLICY_MAX, sizeof *o->policies);
	if (o->policies == NULL)
		return graft_errf(errmsg, GRAFT_ENOMEM, "out of memory");
	while (p != NULL && *p != '\0') {
		len = strcspn(p, "\n");
		eq = strcspn(p, "=");
		if (eq >= sizeof name || len - eq > sizeof rules)
			return graft_errf(errmsg, GRAFT_ECONFIG,
					  POLICIES "%.*s: the name has at most "
					  "%zu characters, the rules %zu",
					  (int)eq, p, sizeof name - 1,
					  sizeof rules - 1);
		if (o->n_policies == POLICY_MAX)
			return graft_errf(errmsg, GRAFT_ECONFIG,
					  POLICIES "*: at most %d policies",
					  POLICY_MAX);
		snprintf(name, sizeof name, "%.*s", (int)eq, p);
		snprintf(rules, sizeof rules, "%.*s", (int)(len - eq - 1),
			 p + eq + 1);
		rv = policy_parse(name, rules, &o->policies[o->n_policies++],
				  why);
		if (rv != GRAFT_OK)
			return graft_errf(errmsg, rv, POLICIES "%s: %s", name,
					  why);
		p += len + (p[len] == '\n');
	}
	return GRAFT_OK;
}

int cluster_routing_options_from_config(const struct graft_config *cfg,
					struct cluster_routing_options *o,
					char *errmsg)
{
	const char *plugin = graft_config_string(
		cfg, "dbms.routing.load_balancing.plugin");
	int rv;

	o->policies = NULL;
	o->n_policies = 0;
	o->reads_on_writers = graft_config_bool(
		cfg, "dbms.routing.reads_on_writers_enabled");
	o->reads_on_primaries = graft_config_bool(
		cfg, "dbms.routing.reads_on_primaries_enabled");
	o->max_lag_ms = graft_config_duration_ms(
		cfg, "dbms.routing.reads.max_replication_lag");
	o->shuffle = graft_config_bool(
		cfg, "dbms.routing.load_balancing.shuffle_enabled");
	if (strcmp(plugin, "server_policies") != 0)
		return graft_errf(errmsg, GRAFT_ECONFIG,
				  "dbms.routing.load_balancing.plugin=%s: graft "
				  "has the server_policies plugin only; set it "
				  "or leave the setting out",
				  plugin);
	rv = read_policies(graft_config_string(cfg, POLICIES), o, errmsg);
	if (rv != GRAFT_OK) {
		free(o->policies);
		o->policies = NULL;
	}
	return rv;
}

void cluster_routing_set(struct cluster *c,
			 struct cluster_routing_options *o)
{
	pthread_mutex_lock(&c->routing.lock);
	c->routing.reads_on_writers = o->reads_on_writers;
	c->routing.reads_on_primaries = o->reads_on_primaries;
	c->routing.max_lag_ms = o->max_lag_ms;
	c->routing.shuffle = o->shuffle;
	free(c->routing.policies);
	c->routing.policies = o->policies;
	c->routing.n_policies = o->n_policies;
	o->policies = NULL;
	pthread_mutex_unlock(&c->routing.lock);
}

void routing_init(struct cluster *c)
{
	pthread_mutex_init(&c->routing.lock, NULL);
	c->routing.shuffle = true;
	c->routing.reads_on_primaries = true;
}

void routing_fini(struct cluster *c)
{
	free(c->routing.policies);
	pthread_mutex_destroy(&c->routing.lock);
}

/* The voters, with what discovery knows of each. */
static void view_members(struct cluster *c, struct routing_view *v)
{
	v->n = 0;
	for (unsigned i = 0; i < c->raft.configuration.n &&
			     v->n < CLUSTER_MAX_MEMBERS;
	     i++) {
		const struct raft_server *s = &c->raft.configuration.servers[i];
		const struct cluster_peer *p = discovery_peer(c, s->id);
		struct routing_member *m = &v->members[v->n++];

		m->id = s->id;
		snprintf(m->bolt, sizeof m->bolt, "%s",
			 p != NULL ? p->bolt : "");
		snprintf(m->routing, sizeof m->routing, "%s",
			 p != NULL ? p->routing : "");
	}
}

/* Milliseconds from then to now, 0 if then is later: a reader on another
 * thread reads its clock, then the loop may stamp the view it copies a
 * moment after (uv_now), and a plain difference would wrap to ages. */
static uint64_t ms_since(uint64_t now, uint64_t then)
{
	return now > then ? now - then : 0;
}

void routing_refresh(struct cluster *c)
{
	struct cluster_routing *r = &c->routing;
	unsigned short state = raft_state(&c->raft);
	uint64_t now = uv_now(c->loop);
	struct routing_view v;
	raft_id leader = 0;
	const char *addr;

	raft_leader(&c->raft, &leader, &addr);
	/* Only the loop writes the view: reading it here needs no lock. */
	if (r->view.formed && leader == r->last_leader &&
	    state == r->last_state && c->writable == r->view.self_leader &&
	    c->closing == r->view.closing && now - r->refreshed_ms < REFRESH_MS)
		return;
	v = r->view;
	v.formed = true;
	v.closing = c->closing;
	v.self_id = c->self.id;
	v.self_leader = state == RAFT_LEADER && c->writable;
	v.leader_id = leader;
	v.election_ms = c->o.election_ms;
	if (!r->view.formed)
		v.leader_seen_ms = now; /* a grace period from the start */
	if (state == RAFT_LEADER)
		v.leader_contact_ms = now;
	else if (state == RAFT_FOLLOWER && leader != 0)
		v.leader_contact_ms = c->raft.election_timer_start;
	if (leader != 0 && ms_since(now, v.leader_contact_ms) < v.election_ms)
		v.leader_seen_ms = now;
	view_members(c, &v);
	r->last_leader = leader;
	r->last_state = state;
	r->refreshed_ms = now;
	pthread_mutex_lock(&r->lock);
	r->view = v;
	pthread_mutex_unlock(&r->lock);
}

/* The Raft id of the writer, 0 for none. */
static uint64_t writer_of(const struct routing_view *v, uint64_t now)
{
	if (v->self_leader)
		return v->self_id;
	if (v->leader_id != 0 && v->leader_id != v->self_id &&
	    ms_since(now, v->leader_contact_ms) < v->election_ms)
		return v->leader_id;
	return 0;
}

static int unavailable(const struct routing_view *v, uint64_t now,
		       struct cypher_error *err)
{
	if (!v->formed)
		return cypher_error_set(
			err, GRAFT_STATUS_DATABASE_UNAVAILABLE,
			"This member has not joined a formed cluster yet (it "
			"waits for the other cores; see its log); route "
			"through another member");
	if (v->closing)
		return cypher_error_set(err, GRAFT_STATUS_DATABASE_UNAVAILABLE,
					"This member is shutting down; route "
					"through another member");
	return cypher_error_set(
		err, GRAFT_STATUS_DATABASE_UNAVAILABLE,
		"This member has heard from no leader for %llu ms: it cannot "
		"reach a majority of the cluster's cores, so it cannot tell "
		"who takes writes; route through another member",
		(unsigned long long)ms_since(now, v->leader_seen_ms));
}

/* Fisher-Yates with a generator seeded by the clock: the order spreads
 * clients over the readers; it need not be unpredictable. */
static void shuffle(struct bolt_route_table *t, uint64_t seed)
{
	uint64_t x = seed | 1;

	for (size_t i = t->n; i > 1; i--) {
		struct bolt_route_server tmp;
		size_t j;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		j = (size_t)(x % i);
		tmp = t->servers[i - 1];
		t->servers[i - 1] = t->servers[j];
		t->servers[j] = tmp;
	}
}

/* Whether server sv is too far behind in db to read it. */
static bool lagging(const struct cypher_server *sv, const char *db,
		    uint64_t max_lag_ms)
{
	for (size_t i = 0; i < sv->n_dbs; i++)
		if (strcmp(sv->dbs[i].name, db) == 0)
			return max_lag_ms > 0 && sv->dbs[i].lag_ms >= 0 &&
			       (uint64_t)sv->dbs[i].lag_ms > max_lag_ms;
	/* a replica that does not say it holds db cannot read it; a core
	 * holds every database */
	return sv->replica;
}

/* The readers and routers among the first n (<= 32) servers, as bit
 * sets, before a policy: the cores heard from lately (followers with
 * reads_on_primaries; the writer only with reads_on_writers or when no
 * other server can) and the replicas, less the lagging. */
static void candidates(const struct cluster_routing_options *o,
		       const struct cypher_server *sv, size_t n, int writer,
		       const char *db, uint32_t *readers, uint32_t *routers)
{
	*readers = *routers = 0;
	for (size_t i = 0; i < n; i++) {
		if (sv[i].bolt[0] == '\0')
			continue;
		if ((int)i == writer) {
			*routers |= 1u << i;
			continue;
		}
		if (!sv[i].available)
			continue;
		if (!sv[i].replica)
			*routers |= 1u << i;
		if (!lagging(&sv[i], db, o->max_lag_ms) &&
		    (sv[i].replica || o->reads_on_primaries))
			*readers |= 1u << i;
	}
	if (writer >= 0 && (o->reads_on_writers || *readers == 0))
		*readers |= 1u << writer;
}

static int fill(const struct cluster_routing_options *o,
		const struct cypher_server *sv, size_t n, int writer,
		const char *db, const struct policy *p,
		struct bolt_route_table *out)
{
	const char *tags[32] = {0}; /* all read are set; -O2 cannot tell */
	uint32_t readers, routers, picked;
	int rv = GRAFT_OK;

	n = n < 32 ? n : 32; /* cores come first: replicas past 32 are cut */
	candidates(o, sv, n, writer, db, &readers, &routers);
	for (size_t i = 0; i < n; i++)
		tags[i] = sv[i].tags;
	if (p != NULL) {
		readers = policy_select(p, tags, n, readers);
		/* drivers need a router: a policy that leaves none (halt)
		 * narrows the readers only */
		picked = policy_select(p, tags, n, routers);
		routers = picked != 0 ? picked : routers;
	}
	for (size_t i = 0; i < n && rv == GRAFT_OK; i++) {
		unsigned roles = ((int)i == writer ? BOLT_ROUTE_WRITE : 0) |
				 (readers & (1u << i) ? BOLT_ROUTE_READ : 0) |
				 (routers & (1u << i) ? BOLT_ROUTE_ROUTE : 0);

		if (roles != 0)
			rv = bolt_route_add(out, sv[i].bolt, roles);
	}
	return rv;
}

/* The policy a routing context names (policy=<name>), else 'default' if
 * configured, else none (*out NULL); an unknown name fails, listing the
 * configured ones. */
static int choose_policy(const struct cluster_routing_options *o,
			 const struct graft_value *context,
			 const struct policy **out, struct cypher_error *err)
{
	const struct graft_value *v =
		context != NULL && context->type == GRAFT_VALUE_MAP
			? graft_map_get(context->u.map, "policy", 6)
			: NULL;
	const char *name = v != NULL && v->type == GRAFT_VALUE_STRING
				   ? v->u.s->data
				   : "default";
	char known[POLICY_MAX * (POLICY_NAME_LEN + 2)] = "";
	size_t len = 0;

	*out = NULL;
	for (size_t i = 0; i < o->n_policies; i++) {
		if (strcmp(o->policies[i].name, name) == 0) {
			*out = &o->policies[i];
			return GRAFT_OK;
		}
		len += (size_t)snprintf(known + len, sizeof known - len, "%s%s",
					i > 0 ? ", " : "", o->policies[i].name);
	}
	if (v == NULL)
		return GRAFT_OK;
	return cypher_error_set(
		err, GRAFT_STATUS_PROCEDURE_CALL_FAILED,
		"Policy definition for '%s' could not be found: the routing "
		"context asks for policy=%s, and the policies configured are "
		"%s; define it with "
		"dbms.routing.load_balancing.config.server_policies.%s=<rules> "
		"on every core, or use one of those",
		name, name, len > 0 ? known : "none", name);
}

int cluster_route_servers(const struct cluster_routing_options *o,
			  const struct cypher_server *sv, size_t n, int writer,
			  const struct bolt_route_request *req,
			  struct bolt_route_table *out, struct cypher_error *err)
{
	const struct policy *policy;
	int rv = choose_policy(o, req->context, &policy, err);

	if (rv != GRAFT_OK)
		return rv;
	rv = fill(o, sv, n, writer, req->db, policy, out);
	if (rv != GRAFT_OK)
		return cypher_error_set(err, GRAFT_STATUS_DATABASE_UNAVAILABLE,
					"Cannot build the routing table: %s",
					graft_strerror(rv));
	if (o->shuffle)
		shuffle(out, uv_hrtime());
	return GRAFT_OK;
}

int routing_find_writer(const struct routing_view *v, uint64_t now,
			uint64_t *writer, struct cypher_error *err)
{
	*writer = v->formed && !v->closing ? writer_of(v, now) : 0;
	if (!v->formed || v->closing ||
	    (*writer == 0 &&
	     ms_since(now, v->leader_seen_ms) >
		     LEADERLESS_WINDOWS * v->election_ms))
		return unavailable(v, now, err);
	return GRAFT_OK;
}

int cluster_route(void *data, const struct bolt_route_request *req,
		  struct bolt_route_table *out, struct cypher_error *err)
{
	struct cluster *c = data;
	struct cluster_routing *r = &c->routing;
	uint64_t now = uv_hrtime() / 1000000;
	struct cluster_routing_options o;
	struct cypher_server *sv;
	struct routing_view v;
	uint64_t writer;
	int at = -1, rv;
	size_t n;

	sv = malloc(ROUTING_MAX_SERVERS * sizeof *sv);
	if (sv == NULL)
		return cypher_error_set(err, GRAFT_STATUS_DATABASE_UNAVAILABLE,
					"Cannot build the routing table: %s",
					graft_strerror(GRAFT_ENOMEM));
	pthread_mutex_lock(&r->lock);
	v = r->view;
	o = (struct cluster_routing_options){
		.reads_on_writers = r->reads_on_writers,
		.reads_on_primaries = r->reads_on_primaries,
		.max_lag_ms = r->max_lag_ms,
		.shuffle = r->shuffle,
		.policies = r->policies, /* set before clients: read only */
		.n_policies = r->n_policies,
	};
	n = r->n_servers;
	memcpy(sv, r->servers, n * sizeof *sv);
	pthread_mutex_unlock(&r->lock);
	rv = routing_find_writer(&v, now, &writer, err);
	for (size_t i = 0; i < n && rv == GRAFT_OK && writer != 0; i++)
		if (!sv[i].replica && member_raft_id(sv[i].server_id) == writer)
			at = (int)i;
	if (rv == GRAFT_OK)
		rv = cluster_route_servers(&o, sv, n, at, req, out, err);
	free(sv);
	return rv;
}

int cluster_route_writer(void *data, char *addr, size_t n,
			 struct cypher_error *err)
{
	struct cluster *c = data;
	uint64_t now = uv_hrtime() / 1000000;
	const struct routing_member *w = NULL;
	struct routing_view v;
	uint64_t writer;
	int rv;

	pthread_mutex_lock(&c->routing.lock);
	v = c->routing.view;
	pthread_mutex_unlock(&c->routing.lock);
	addr[0] = '\0';
	rv = routing_find_writer(&v, now, &writer, err);
	if (rv != GRAFT_OK)
		return rv;
	if (writer == v.self_id)
		return GRAFT_OK;
	if (writer == 0)
		return cypher_error_set(
			err, GRAFT_STATUS_DATABASE_UNAVAILABLE,
			"No leader to forward the write transaction to: the "
			"cluster is electing one; retry (a transaction "
			"function retries by itself)");
	for (size_t i = 0; i < v.n && w == NULL; i++)
		if (v.members[i].id == writer)
			w = &v.members[i];
	if (w == NULL || w->routing[0] == '\0')
		return cypher_error_set(
			err, GRAFT_STATUS_CLUSTER_ROUTING,
			"The leader %s has no server-side routing connector "
			"to forward the write transaction to: set "
			"dbms.routing.enabled=true on every core",
			w != NULL && w->bolt[0] != '\0' ? w->bolt : "(unknown)");
	snprintf(addr, n, "%s", w->routing);
	return GRAFT_OK;
}
