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
 *   ALIVE_MS (discovery talks to every core every 3 s), and this member. */
#include <stdio.h>
#include <string.h>

#include "../util/log.h"
#include "cluster_int.h"
#include "routing.h"

#define REFRESH_MS 10
#define ALIVE_MS 10000
#define LEADERLESS_WINDOWS 4

void cluster_routing_options_from_config(const struct graft_config *cfg,
					 struct cluster_routing_options *o)
{
	o->reads_on_writers = graft_config_bool(
		cfg, "dbms.routing.reads_on_writers_enabled");
	o->shuffle = graft_config_bool(
		cfg, "dbms.routing.load_balancing.shuffle_enabled");
}

void cluster_routing_set(struct cluster *c,
			 const struct cluster_routing_options *o)
{
	pthread_mutex_lock(&c->routing.lock);
	c->routing.reads_on_writers = o->reads_on_writers;
	c->routing.shuffle = o->shuffle;
	pthread_mutex_unlock(&c->routing.lock);
}

void routing_init(struct cluster *c)
{
	pthread_mutex_init(&c->routing.lock, NULL);
	c->routing.shuffle = true;
}

void routing_fini(struct cluster *c)
{
	pthread_mutex_destroy(&c->routing.lock);
}

/* The voters, with what discovery knows of each. */
static void view_members(struct cluster *c, struct routing_view *v,
			 uint64_t now)
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
		m->seen_ms = s->id == c->self.id ? now
			     : p != NULL       ? p->seen_ms
					       : 0;
	}
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
	if (leader != 0 && now - v.leader_contact_ms < v.election_ms)
		v.leader_seen_ms = now;
	view_members(c, &v, now);
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
	    now - v->leader_contact_ms < v->election_ms)
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
		(unsigned long long)(now - v->leader_seen_ms));
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

static int fill(const struct routing_view *v, uint64_t writer, uint64_t now,
		bool reads_on_writers, struct bolt_route_table *out)
{
	const struct routing_member *w = NULL;
	bool readers = false;
	int rv = GRAFT_OK;

	for (size_t i = 0; i < v->n && rv == GRAFT_OK; i++) {
		const struct routing_member *m = &v->members[i];

		if (m->bolt[0] == '\0')
			continue;
		if (m->id == writer) {
			w = m;
			rv = bolt_route_add(out, m->bolt,
					    BOLT_ROUTE_WRITE | BOLT_ROUTE_ROUTE);
		} else if (now - m->seen_ms < ALIVE_MS) {
			readers = true;
			rv = bolt_route_add(out, m->bolt,
					    BOLT_ROUTE_READ | BOLT_ROUTE_ROUTE);
		}
	}
	if (rv == GRAFT_OK && w != NULL && (reads_on_writers || !readers))
		rv = bolt_route_add(out, w->bolt, BOLT_ROUTE_READ);
	return rv;
}

/* The writer of view v at now into *writer; DatabaseUnavailable when this
 * member is not in a formed cluster or has known no live leader for
 * LEADERLESS_WINDOWS windows. */
static int find_writer(const struct routing_view *v, uint64_t now,
		       uint64_t *writer, struct cypher_error *err)
{
	*writer = v->formed && !v->closing ? writer_of(v, now) : 0;
	if (!v->formed || v->closing ||
	    (*writer == 0 &&
	     now - v->leader_seen_ms > LEADERLESS_WINDOWS * v->election_ms))
		return unavailable(v, now, err);
	return GRAFT_OK;
}

int cluster_route(void *data, const struct bolt_route_request *req,
		  struct bolt_route_table *out, struct cypher_error *err)
{
	struct cluster *c = data;
	uint64_t now = uv_hrtime() / 1000000;
	struct routing_view v;
	bool reads_on_writers, mix;
	uint64_t writer;
	int rv;

	(void)req;
	pthread_mutex_lock(&c->routing.lock);
	v = c->routing.view;
	reads_on_writers = c->routing.reads_on_writers;
	mix = c->routing.shuffle;
	pthread_mutex_unlock(&c->routing.lock);
	rv = find_writer(&v, now, &writer, err);
	if (rv != GRAFT_OK)
		return rv;
	rv = fill(&v, writer, now, reads_on_writers, out);
	if (rv != GRAFT_OK)
		return cypher_error_set(err, GRAFT_STATUS_DATABASE_UNAVAILABLE,
					"Cannot build the routing table: %s",
					graft_strerror(rv));
	if (mix)
		shuffle(out, uv_hrtime());
	return GRAFT_OK;
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
	rv = find_writer(&v, now, &writer, err);
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
