/* Cores joining and leaving a formed cluster (libraft's raft_add,
 * raft_assign and raft_remove; one change at a time, on the leader).
 *
 * Adding, as 4.x causal clustering does it: a pristine core started with
 * the cluster's discovery endpoints finds the formed cluster without itself
 * (discovery.c), records the cluster id and starts Raft with an empty log.
 * The leader, after every loop iteration (membership_step), takes the next
 * step for the first core that needs one:
 *   a core discovered with this cluster's id and not in the configuration
 *     -> raft_add (a spare: no vote, no log);
 *   a spare -> raft_assign standby: it receives the log, or the leader's
 *     Raft snapshot and then the stores over the transaction port
 *     (behind.c), without a vote, so a slow copy never costs the quorum;
 *   a standby -> raft_assign voter: libraft first catches it up in rounds,
 *     then commits the promotion.
 * A step that fails (leadership lost, the core unreachable while it is
 * caught up) is tried again after RETRY_MS, by whichever member leads.
 *
 * Removing: CALL dbms.cluster.dropServer('<server id>') on the leader (the
 * 5.x operator's DROP SERVER): refused when the voters left would be fewer
 * than causal_clustering.minimum_core_cluster_size_at_runtime. The removed
 * core is not added again while it runs with this cluster's id: it says
 * REMOVED in its discovery line once it applied its removal, and the
 * leader remembers whom it removed.
 *
 * The procedure may run on a statement thread: it leaves its request in a
 * mailbox under a lock that the loop empties after each iteration (Raft's
 * tick makes one at least every heartbeat), and waits for the answer. Every
 * member logs each configuration it applies, with term and index. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/log.h"
#include "../util/status.h"
#include "cluster_int.h"

#define RETRY_MS 2000
#define FRESH_MS 10000 /* a core is joinable while discovery hears it */

struct membership_req {
	char server_id[IDENTITY_LEN + 1];
	int rv;
	char errmsg[GRAFT_ERRMSG_SIZE];
	bool done;
};

static const char *role_name(int role)
{
	return role == RAFT_VOTER ? "voter"
	       : role == RAFT_STANDBY ? "standby" : "spare";
}

static const char *server_name(const struct cluster *c, uint64_t id)
{
	const struct cluster_peer *p = id == c->self.id ? &c->self
							: discovery_peer(c, id);

	return p != NULL ? p->server_id : "(not discovered yet)";
}

static const struct raft_server *config_get(const struct cluster *c,
					    uint64_t id)
{
	for (unsigned i = 0; i < c->raft.configuration.n; i++)
		if (c->raft.configuration.servers[i].id == id)
			return &c->raft.configuration.servers[i];
	return NULL;
}

static void change_cb(struct raft_change *req, int status)
{
	struct cluster *c = req->data;

	c->mem.busy = false;
	if (status == 0) {
		graft_info("cluster: membership: %s committed (term %llu, "
			   "Raft index %llu)", c->mem.what,
			   (unsigned long long)c->raft.current_term,
			   (unsigned long long)c->raft.configuration_index);
		return;
	}
	c->mem.retry_ms = uv_now(c->loop) + RETRY_MS;
	graft_warn("cluster: membership: %s failed: %s; tried again in %d ms "
		   "by the leader", c->mem.what, raft_strerror(status),
		   RETRY_MS);
}

/* Logs a change started (rv 0) or refused. */
static int started(struct cluster *c, int rv)
{
	if (rv != 0) {
		c->mem.retry_ms = uv_now(c->loop) + RETRY_MS;
		graft_warn("cluster: membership: cannot start %s: %s (%s)",
			   c->mem.what, raft_strerror(rv),
			   raft_errmsg(&c->raft));
		return rv;
	}
	c->mem.busy = true;
	graft_info("cluster: membership: %s (term %llu, Raft index %llu)",
		   c->mem.what, (unsigned long long)c->raft.current_term,
		   (unsigned long long)raft_last_index(&c->raft));
	return 0;
}

static bool was_removed(const struct cluster *c, uint64_t id)
{
	for (size_t i = 0; i < c->mem.n_removed; i++)
		if (c->mem.removed[i] == id)
			return true;
	return false;
}

/* A core discovered with this cluster's id, not in the configuration. */
static const struct cluster_peer *joiner(const struct cluster *c)
{
	uint64_t now = uv_now(c->loop);

	for (size_t i = 1; i < c->n_seen; i++) {
		const struct cluster_peer *p = &c->seen[i];

		if (strcmp(p->cluster_id, c->cluster_id) == 0 &&
		    strcmp(p->role, "REMOVED") != 0 &&
		    config_get(c, p->id) == NULL && !was_removed(c, p->id) &&
		    now - p->seen_ms < FRESH_MS)
			return p;
	}
	return NULL;
}

/* The next step of a joining core, if any. */
static void grow(struct cluster *c)
{
	const struct raft_configuration *conf = &c->raft.configuration;
	const struct cluster_peer *p;

	c->mem.change.data = c;
	for (unsigned i = 0; i < conf->n; i++) {
		const struct raft_server *s = &conf->servers[i];
		int to = s->role == RAFT_SPARE ? RAFT_STANDBY : RAFT_VOTER;

		if (s->role == RAFT_VOTER)
			continue;
		snprintf(c->mem.what, sizeof c->mem.what, "core %s from %s to "
			 "%s", server_name(c, s->id), role_name(s->role),
			 role_name(to));
		started(c, raft_assign(&c->raft, &c->mem.change, s->id, to,
				       change_cb));
		return;
	}
	p = joiner(c);
	if (p == NULL)
		return;
	snprintf(c->mem.what, sizeof c->mem.what, "adding core %s (Raft %s) "
		 "as a spare", p->server_id, p->raft);
	started(c, raft_add(&c->raft, &c->mem.change, p->id, p->raft,
			    change_cb));
}

static unsigned voters(const struct cluster *c)
{
	unsigned n = 0;

	for (unsigned i = 0; i < c->raft.configuration.n; i++)
		n += c->raft.configuration.servers[i].role == RAFT_VOTER;
	return n;
}

/* DROP SERVER, on the loop. */
static int drop(struct cluster *c, const char *server_id, char *errmsg)
{
	uint64_t id = member_raft_id(server_id);
	const struct raft_server *s = config_get(c, id);
	unsigned left;
	int rv;

	if (!c->writable || c->closing)
		return member_not_leader(c, errmsg);
	if (s == NULL)
		return graft_errf(errmsg, GRAFT_ENOTFOUND, "no core with server "
				  "id '%.64s' is a member of this cluster "
				  "(dbms.cluster.overview() lists them)",
				  server_id);
	left = voters(c) - (s->role == RAFT_VOTER);
	if (s->role == RAFT_VOTER && left < c->o.min_runtime)
		return graft_errf(errmsg, GRAFT_EINVAL, "removing %s would "
				  "leave %u voting cores, fewer than "
				  "causal_clustering.minimum_core_cluster_size_"
				  "at_runtime (%u): add a core first, or lower "
				  "that setting on every core",
				  server_id, left, c->o.min_runtime);
	if (c->mem.busy)
		return graft_errf(errmsg, GRAFT_ELIMIT, "another membership "
				  "change (%s) is under way; retry once it "
				  "is committed", c->mem.what);
	snprintf(c->mem.what, sizeof c->mem.what, "removing core %s (%s)",
		 server_id, role_name(s->role));
	c->mem.change.data = c;
	rv = started(c, raft_remove(&c->raft, &c->mem.change, id, change_cb));
	if (rv != 0)
		return graft_errf(errmsg, GRAFT_EIO, "raft_remove(): %s",
				  raft_strerror(rv));
	if (!was_removed(c, id) && c->mem.n_removed < CLUSTER_MAX_MEMBERS)
		c->mem.removed[c->mem.n_removed++] = id;
	return GRAFT_OK;
}

/* The configuration as this member applied it, logged when it changes. */
static void observe(struct cluster *c)
{
	const struct raft_configuration *conf = &c->raft.configuration;
	char text[1024];
	size_t len = 0;

	if (c->raft.configuration_index == c->mem.seen_index)
		return;
	c->mem.seen_index = c->raft.configuration_index;
	for (unsigned i = 0; i < conf->n && len < sizeof text; i++)
		len += (size_t)snprintf(text + len, sizeof text - len,
					"%s%s (%s)", i > 0 ? ", " : "",
					server_name(c, conf->servers[i].id),
					role_name(conf->servers[i].role));
	graft_info("cluster: Raft configuration at index %llu (term %llu): %u "
		   "members: %s", (unsigned long long)c->mem.seen_index,
		   (unsigned long long)c->raft.current_term, conf->n,
		   len > 0 ? text : "none yet");
	if (config_get(c, c->self.id) != NULL)
		c->mem.was_member = true;
	else if (c->mem.was_member && !c->mem.removed_self) {
		c->mem.removed_self = true;
		graft_warn("cluster: this member was removed from cluster %s: "
			   "stop it; to add it again, empty its data directory "
			   "and start it with the cluster's discovery endpoints",
			   c->cluster_id);
	}
}

/* Answers a procedure's request left in the mailbox. */
static void serve_mailbox(struct cluster *c)
{
	struct membership_req *r;

	pthread_mutex_lock(&c->mem.lock);
	r = c->mem.req;
	if (r != NULL) {
		r->rv = drop(c, r->server_id, r->errmsg);
		r->done = true;
		c->mem.req = NULL;
		pthread_cond_broadcast(&c->mem.cond);
	}
	pthread_mutex_unlock(&c->mem.lock);
}

void membership_step(struct cluster *c)
{
	observe(c);
	serve_mailbox(c);
	if (c->writable && !c->closing && !c->mem.busy &&
	    uv_now(c->loop) >= c->mem.retry_ms)
		grow(c);
}

/* Runs drop on the loop: at once from the loop thread, else through the
 * mailbox. */
static int drop_anywhere(struct cluster *c, struct membership_req *r)
{
	if (pthread_equal(pthread_self(), c->loop_thread))
		return drop(c, r->server_id, r->errmsg);
	pthread_mutex_lock(&c->mem.lock);
	while (c->mem.req != NULL && !c->mem.closed)
		pthread_cond_wait(&c->mem.cond, &c->mem.lock);
	if (!c->mem.closed)
		c->mem.req = r;
	while (!r->done && !c->mem.closed)
		pthread_cond_wait(&c->mem.cond, &c->mem.lock);
	if (!r->done)
		r->rv = graft_errf(r->errmsg, GRAFT_ESHUTDOWN, "this member is "
				   "shutting down");
	pthread_mutex_unlock(&c->mem.lock);
	return r->rv;
}

static int drop_server(struct cypher_proc_call *call)
{
	struct cluster *c = call->data;
	const struct graft_value *a = call->nargs > 0 ? &call->args[0] : NULL;
	struct membership_req r = {0};
	struct graft_value row[2];
	int rv;

	if (a == NULL || a->type != GRAFT_VALUE_STRING) {
		cypher_error_set(call->err, GRAFT_STATUS_INVALID_ARGUMENTS,
				 "dbms.cluster.dropServer takes the server id "
				 "of a core (a string, as "
				 "dbms.cluster.overview() gives it)");
		return GRAFT_EINVAL;
	}
	snprintf(r.server_id, sizeof r.server_id, "%s", a->u.s->data);
	rv = drop_anywhere(c, &r);
	if (rv != GRAFT_OK) {
		cypher_error_set(call->err,
				 rv == GRAFT_ENOTLEADER
					 ? GRAFT_STATUS_CLUSTER_NOT_A_LEADER
					 : GRAFT_STATUS_PROCEDURE_CALL_FAILED,
				 "Cannot drop server '%.64s': %s", r.server_id,
				 r.errmsg);
		return GRAFT_EINVAL;
	}
	memset(row, 0, sizeof row);
	rv = graft_value_string(&row[0], r.server_id, strlen(r.server_id));
	if (rv == GRAFT_OK)
		rv = graft_value_string(&row[1], "REMOVING", 8);
	if (rv != GRAFT_OK) {
		graft_value_free(&row[0]);
		return rv;
	}
	return cypher_proc_emit(call, row);
}

static const struct cypher_proc_field drop_in[] = {{"serverId", "STRING"}};
static const struct cypher_proc_field drop_out[] = {
	{"serverId", "STRING"}, {"state", "STRING"}};

int membership_register(struct cluster *c, struct cypher_engine *engine)
{
	c->mem.proc = (struct cypher_proc){
		.name = "dbms.cluster.dropServer",
		.mode = "DBMS",
		.description = "Removes a core from the cluster's Raft "
			       "membership (as 5.x DROP SERVER); run it on "
			       "the leader.",
		.inputs = drop_in,
		.ninputs = 1,
		.outputs = drop_out,
		.noutputs = 2,
		.fn = drop_server,
		.data = c,
	};
	return cypher_proc_register(engine, &c->mem.proc);
}

void membership_init(struct cluster *c)
{
	c->loop_thread = pthread_self();
	pthread_mutex_init(&c->mem.lock, NULL);
	pthread_cond_init(&c->mem.cond, NULL);
}

void membership_close(struct cluster *c)
{
	pthread_mutex_lock(&c->mem.lock);
	c->mem.closed = true;
	pthread_cond_broadcast(&c->mem.cond);
	pthread_mutex_unlock(&c->mem.lock);
}

void membership_fini(struct cluster *c)
{
	pthread_cond_destroy(&c->mem.cond);
	pthread_mutex_destroy(&c->mem.lock);
}
