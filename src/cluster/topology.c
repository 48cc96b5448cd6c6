/* What other threads may know of the member (cluster_get_status): the loop
 * owns libraft's state and discovery's lists and changes them as it runs,
 * so statement threads (dbms.cluster.overview, dbms.cluster.role, SHOW
 * DATABASES) never read them. After every loop iteration the loop builds
 * a cluster_status from them and publishes a copy under status_lock: at
 * once when the role, leader, term, writability or membership changed,
 * otherwise at most every PUBLISH_MS (for the applied index and the rate).
 * Readers copy it under the same lock, so an answer is one whole picture
 * (never two leaders in one overview). */
#include <stdio.h>
#include <string.h>

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
	if (!c->raft_started || c->stores_behind)
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
