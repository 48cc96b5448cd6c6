/* What other threads may know of the member (cluster_get_status): the loop
 * owns libraft's state and discovery's lists and changes them as it runs,
 * so statement threads (dbms.cluster.overview, dbms.cluster.role, SHOW
 * DATABASES) never read them. After every loop iteration the loop builds
 * a cluster_status from them and publishes a copy under status_lock: at
 * once when the role, leader, term, writability or membership changed,
 * otherwise at most every PUBLISH_MS (for the applied index and the rate).
 * Readers copy it under the same lock, so an answer is one whole picture
 * (never two leaders in one overview).
 *
 * The roster (roster.h) adds what libraft does not know: the read
 * replicas, heard from in their probes or passed on by other cores, and
 * every server's position per database. With the status the loop
 * publishes every server, cores then replicas, with its lag (under the
 * routing lock: routing tables leave lagging readers out), at most every
 * SERVERS_MS. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/log.h"
#include "cluster_int.h"

#define PUBLISH_MS 10

/* Monotonic milliseconds, readable on any thread (uv_now is the loop's). */
static int64_t mono_ms(void)
{
	return (int64_t)(uv_hrtime() / 1000000u);
}

static void member_status(struct cluster *c, const struct cluster_peer *p,
			  uint64_t id, bool voter,
			  struct cluster_member_status *out)
{
	memset(out, 0, sizeof *out);
	out->voter = voter;
	out->role = member_role(c, id);
	if (p == NULL) {
		snprintf(out->server_id, sizeof out->server_id, "%s",
			 "(not discovered yet)");
		return;
	}
	snprintf(out->server_id, sizeof out->server_id, "%s", p->server_id);
	snprintf(out->bolt, sizeof out->bolt, "%s", p->bolt);
	snprintf(out->http, sizeof out->http, "%s", p->http);
}

/* The members: the Raft configuration once this member runs Raft, what
 * discovery saw before. */
static void members(struct cluster *c, struct cluster_status *out)
{
	if (!c->raft_started) {
		for (size_t i = 0; i < c->n_seen; i++)
			member_status(c, &c->seen[i], c->seen[i].id, false,
				      &out->members[out->n_members++]);
		return;
	}
	for (unsigned i = 0; i < c->raft.configuration.n &&
			     out->n_members < CLUSTER_MAX_MEMBERS;
	     i++) {
		const struct raft_server *s = &c->raft.configuration.servers[i];
		struct cluster_member_status *m =
			&out->members[out->n_members++];

		member_status(c, discovery_peer(c, s->id), s->id,
			      s->role == RAFT_VOTER, m);
		if (m->voter)
			memcpy(out->voters[out->n_voters++], m->server_id,
			       sizeof m->server_id);
	}
}

/* The status as the live state gives it now. */
static void build(struct cluster *c, struct cluster_status *out)
{
	raft_id leader = 0;
	const char *addr;
	const struct cluster_peer *p;

	memset(out, 0, sizeof *out);
	out->role = member_role(c, c->self.id);
	snprintf(out->member_id, sizeof out->member_id, "%s",
		 c->self.server_id);
	out->millis_since_leader = -1;
	members(c, out);
	out->proposed_entries = c->proposed_entries;
	out->proposal_batches = c->proposal_batches;
	if (!c->raft_started || member_unavailable(c))
		return;
	raft_leader(&c->raft, &leader, &addr);
	p = leader != 0 ? discovery_peer(c, leader) : NULL;
	out->has_leader = leader != 0;
	if (p != NULL)
		snprintf(out->leader_id, sizeof out->leader_id, "%s",
			 p->server_id);
	out->writable = c->writable && !c->closing;
	out->term = c->raft.current_term;
	out->last_applied = c->raft.last_applied;
	out->commit_index = c->raft.commit_index;
	out->commands_per_second = c->rate;
	/* A follower publishes when it last heard from the leader; a reader
	 * turns that into an age when it asks. */
	if (leader == c->self.id)
		out->millis_since_leader = 0;
	else if (leader != 0)
		out->leader_contact_ms =
			mono_ms() - (int64_t)(c->io.time(&c->io) -
					      c->raft.election_timer_start);
}

/* The roster: replicas and the servers' positions ----------------------- */

/* Servers are published at most this often unless the topology changed:
 * positions and lags need no finer grain than the exchanges feeding them. */
#define SERVERS_MS 50

void cluster_set_positions(struct cluster *c, cluster_positions_fn fn,
			   void *data)
{
	c->routing.positions = fn;
	c->routing.positions_data = data;
}

/* This member's own databases as a roster entry, as of now. */
static void own_positions(struct cluster *c, struct roster_server *me)
{
	struct db *dbs[ROSTER_MAX_DBS];
	size_t n = dbms_list(c->dbms, dbs, ROSTER_MAX_DBS);
	uint64_t now = uv_now(c->loop);

	memset(me, 0, sizeof *me);
	for (size_t i = 0; i < n; i++)
		roster_set_applied(me, db_name(dbs[i]), db_last_txid(dbs[i]),
				   now);
}

size_t topology_fields(struct cluster *c, char *out, size_t n)
{
	char pos[ROSTER_TEXT_LEN], reps[ROSTER_TEXT_LEN];
	struct roster_server me;
	uint64_t now = uv_now(c->loop);
	int w;

	own_positions(c, &me);
	roster_positions_text(&me, now, pos, sizeof pos);
	roster_replicas_text(&c->routing.roster, now, ROUTING_ALIVE_MS, reps,
			     sizeof reps);
	w = snprintf(out, n, "%s %s", pos, reps);
	return w < 0 ? 0 : (size_t)w < n ? (size_t)w : n - 1;
}

void topology_heard(struct cluster *c, const struct cluster_peer *p,
		    const char *positions, const char *replicas)
{
	struct roster *r = &c->routing.roster;
	uint64_t now = uv_now(c->loop);
	struct roster_server *s = roster_put(r, p->server_id);

	if (s != NULL) {
		if (p->id == 0 && s->direct_ms == 0)
			graft_info("cluster: read replica %s (bolt://%s) is "
				   "following the cluster",
				   p->server_id, p->bolt);
		s->replica = p->id == 0;
		s->seen_ms = s->direct_ms = now;
		snprintf(s->bolt, sizeof s->bolt, "%s", p->bolt);
		snprintf(s->http, sizeof s->http, "%s", p->http);
		snprintf(s->tags, sizeof s->tags, "%s", p->tags);
		/* a replica's transaction port, for replicas that chain */
		snprintf(s->catchup, sizeof s->catchup, "%s",
			 p->id == 0 && strcmp(p->catchup, "-") != 0 ? p->catchup
								    : "");
		/* its own report replaces what it said before (positions
		 * passed on by others only grow): a database dropped and
		 * created again starts over */
		s->n_dbs = 0;
		roster_positions_parse(s, positions, now);
	}
	if (p->id != 0)
		roster_replicas_parse(r, replicas, c->self.server_id, now);
	topology_publish(c, true);
}

/* The replicas' reports to this member (their upstream): the freshest
 * positions there are. */
static void merge_subscribers(struct cluster *c, uint64_t now)
{
	struct cluster_position pos[64];
	size_t n;

	if (c->routing.positions == NULL)
		return;
	n = c->routing.positions(c->routing.positions_data, pos, 64);
	for (size_t i = 0; i < n; i++) {
		struct roster_server *s = (struct roster_server *)roster_find(
			&c->routing.roster, pos[i].server_id);

		if (s != NULL)
			roster_set_applied(s, pos[i].db, pos[i].applied,
					   now > pos[i].age_ms
						   ? now - pos[i].age_ms
						   : 0);
	}
}

/* One server's entry from its roster positions. */
static void server_entry(struct cypher_server *out, const char *server_id,
			 const char *bolt, const char *http, const char *tags,
			 const struct roster_server *pos)
{
	memset(out, 0, sizeof *out);
	snprintf(out->server_id, sizeof out->server_id, "%s", server_id);
	snprintf(out->bolt, sizeof out->bolt, "%s", bolt);
	snprintf(out->http, sizeof out->http, "%s", http);
	snprintf(out->tags, sizeof out->tags, "%s", tags);
	for (size_t i = 0; pos != NULL && i < pos->n_dbs &&
			   out->n_dbs < CYPHER_SERVER_DBS;
	     i++) {
		struct cypher_server_db *d = &out->dbs[out->n_dbs++];

		snprintf(d->name, sizeof d->name, "%s", pos->dbs[i].name);
		d->applied = pos->dbs[i].applied;
		d->at_ms = pos->dbs[i].at_ms;
		d->lag_txs = d->lag_ms = -1;
	}
}

/* The cores of st (this member with its own positions), then the
 * replicas of the roster. */
static size_t build_servers(struct cluster *c, const struct cluster_status *st,
			    struct cypher_server *out, uint64_t now)
{
	struct roster *r = &c->routing.roster;
	struct roster_server me;
	size_t n = 0;

	own_positions(c, &me);
	for (size_t i = 0; i < st->n_members; i++) {
		const struct cluster_member_status *m = &st->members[i];
		const struct cluster_peer *p =
			discovery_peer(c, member_raft_id(m->server_id));
		bool self = strcmp(m->server_id, c->self.server_id) == 0;
		struct cypher_server *sv = &out[n++];

		server_entry(sv, m->server_id, m->bolt, m->http,
			     self ? c->self.tags : p != NULL ? p->tags : "",
			     self ? &me : roster_find(r, m->server_id));
		sv->role = m->role;
		sv->self = self;
		sv->available = self || (p != NULL && now - p->seen_ms <
							      ROUTING_ALIVE_MS);
		for (size_t k = 0; k < sv->n_dbs; k++)
			sv->dbs[k].writer = strcmp(m->role, "LEADER") == 0 &&
					    (!self || st->writable);
	}
	for (size_t i = 0; i < r->n && n < ROUTING_MAX_SERVERS; i++) {
		const struct roster_server *s = &r->servers[i];
		struct cypher_server *sv;

		if (!s->replica)
			continue;
		sv = &out[n++];
		server_entry(sv, s->server_id, s->bolt, s->http, s->tags, s);
		sv->role = "READ_REPLICA";
		sv->replica = true;
		sv->available = now - s->seen_ms < ROUTING_ALIVE_MS;
	}
	roster_lags(out, n, c->routing.tracks, &c->routing.n_tracks, now);
	return n;
}

/* Publishes the servers for other threads; loop thread, from
 * topology_publish. */
static void publish_servers(struct cluster *c, const struct cluster_status *st,
			    bool changed)
{
	struct cluster_routing *r = &c->routing;
	uint64_t now = uv_now(c->loop);
	struct cypher_server *sv;
	size_t n;

	if (!changed && now - r->servers_ms < SERVERS_MS)
		return;
	sv = malloc(ROUTING_MAX_SERVERS * sizeof *sv);
	if (sv == NULL)
		return; /* the last published stays */
	r->servers_ms = now;
	roster_expire(&r->roster, now, ROUTING_FORGET_MS);
	merge_subscribers(c, now);
	n = build_servers(c, st, sv, now);
	pthread_mutex_lock(&r->lock);
	memcpy(r->servers, sv, n * sizeof *sv);
	r->n_servers = n;
	pthread_mutex_unlock(&r->lock);
	free(sv);
}

size_t cluster_servers(void *data, struct cypher_server *out, size_t max)
{
	struct cluster *c = data;
	size_t n;

	pthread_mutex_lock(&c->routing.lock);
	n = c->routing.n_servers < max ? c->routing.n_servers : max;
	memcpy(out, c->routing.servers, n * sizeof *out);
	pthread_mutex_unlock(&c->routing.lock);
	return n;
}

void topology_publish(struct cluster *c, bool changed)
{
	uint64_t now = uv_now(c->loop);
	struct cluster_status st;

	if (!changed && now - c->status_ms < PUBLISH_MS)
		return;
	c->status_ms = now;
	build(c, &st);
	pthread_mutex_lock(&c->status_lock);
	c->status = st;
	pthread_mutex_unlock(&c->status_lock);
	publish_servers(c, &st, changed);
}

void topology_init(struct cluster *c)
{
	pthread_mutex_init(&c->status_lock, NULL);
	c->status.role = "UNAVAILABLE";
	c->status.millis_since_leader = -1;
}

void topology_fini(struct cluster *c)
{
	pthread_mutex_destroy(&c->status_lock);
}

void cluster_get_status(struct cluster *c, struct cluster_status *out)
{
	pthread_mutex_lock(&c->status_lock);
	*out = c->status;
	pthread_mutex_unlock(&c->status_lock);
	if (out->leader_contact_ms != 0) {
		int64_t age = mono_ms() - out->leader_contact_ms;

		out->millis_since_leader = age > 0 ? age : 0;
	}
}
