/* A core member's lifecycle: identity, discovery, the Raft member once the
 * cluster is formed (at once on a restart), and back down. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/log.h"
#include "cluster_int.h"

/* A core commits only through Raft. Before its Raft member runs (a
 * pristine core waiting to form or to be added: data is the cluster) and
 * once it is leaving (commits still arriving until the server's listeners
 * close: data is NULL, the cluster may be gone), commits are refused,
 * never written locally: a transaction committed outside Raft would exist
 * on this member only and shift its transaction ids, and the member would
 * then skip or reject the entries of every other one. */
static int refuse(void *data, struct db *db, const void *entry, size_t len,
		  struct db_inflight *in, char *errmsg)
{
	(void)db;
	(void)entry;
	(void)len;
	(void)in;
	if (data != NULL)
		return member_not_leader(data, errmsg);
	return graft_errf(errmsg, GRAFT_ENOTLEADER,
			  "this member is shutting down; write to the "
			  "cluster's leader");
}

static int refuse_change(void *data, const void *entry, size_t len,
			 struct dbms_change_req *req, char *errmsg)
{
	(void)req;
	return refuse(data, NULL, entry, len, NULL, errmsg);
}

static const struct db_replicator_ops refusing_db = {.propose = refuse};
static const struct dbms_replicator_ops refusing = {
	.db = &refusing_db, .propose = refuse_change};

static void maybe_finish(struct cluster *c)
{
	if (c->handles_open > 0 || !c->member_closed)
		return;
	if (c->close_cb != NULL)
		c->close_cb(c->close_arg);
}

void cluster_free(struct cluster *c)
{
	routing_fini(c);
	behind_fini(c);
	membership_fini(c);
	free(c);
}

void cluster_release(struct cluster *c)
{
	c->handles_open--;
	maybe_finish(c);
}

void cluster_handle_closed(uv_handle_t *h)
{
	cluster_release(h->data);
}

static void member_closed(struct cluster *c)
{
	c->member_closed = true;
	maybe_finish(c);
}

void cluster_close(struct cluster *c, void (*cb)(void *arg), void *arg)
{
	/* Proposals in flight still end through Raft's callbacks. */
	dbms_set_replicator(c->dbms, &refusing, NULL);
	c->closing = true;
	topology_publish(c, true);
	c->close_cb = cb;
	c->close_arg = arg;
	/* Holds the cluster until member and discovery are both down. */
	c->handles_open++;
	discovery_close(c);
	behind_stop(c);
	membership_close(c);
	member_close(c, member_closed);
	cluster_release(c);
}

static int init_self(struct cluster *c, char *errmsg)
{
	const struct graft_address *a = &c->o.raft_advertised;
	struct cluster_peer *s = &c->self;
	char why[GRAFT_ERRMSG_SIZE], shown[GRAFT_ADDRESS_TEXT_MAX];
	int rv;

	snprintf(s->server_id, sizeof s->server_id, "%s", c->o.server_id);
	s->id = member_raft_id(s->server_id);
	rv = member_ipv4(a->host, a->port, s->raft, sizeof s->raft, why);
	if (rv != GRAFT_OK) {
		graft_address_format(shown, sizeof shown, a->host, a->port);
		return graft_errf(errmsg, rv,
				  "server.cluster.raft.advertised_address "
				  "(4.x: causal_clustering.raft_advertised_"
				  "address) is %s: %s",
				  shown, why);
	}
	snprintf(s->bolt, sizeof s->bolt, "%s", c->o.bolt_advertised);
	snprintf(s->http, sizeof s->http, "%s", c->o.http_advertised);
	snprintf(s->routing, sizeof s->routing, "%s", c->o.routing_advertised);
	snprintf(s->tags, sizeof s->tags, "%s", c->o.tags);
	c->seen[0] = *s;
	c->n_seen = 1;
	rv = graft_identity_read(c->o.data_dir, "cluster_id", c->cluster_id,
				 errmsg);
	if (rv == GRAFT_ENOTFOUND) {
		c->cluster_id[0] = '\0';
		rv = GRAFT_OK;
	}
	return rv;
}

int cluster_start(uv_loop_t *loop, struct dbms *dbms,
		  const struct cluster_options *o, struct cluster **out,
		  char *errmsg)
{
	struct cluster *c = calloc(1, sizeof *c);
	int rv;

	if (c == NULL)
		return graft_errf(errmsg, GRAFT_ENOMEM, "out of memory");
	c->loop = loop;
	c->dbms = dbms;
	c->o = *o;
	topology_init(c);
	cluster_snap_init(c);
	membership_init(c);
	routing_init(c);
	rv = init_self(c, errmsg);
	if (rv != GRAFT_OK) {
		cluster_free(c);
		return rv;
	}
	dbms_set_replicator(dbms, &refusing, c); /* member_start replaces it */
	topology_publish(c, true);
	graft_info("cluster: core member %s (Raft id %016" PRIx64 ", %s)",
		   c->self.server_id, c->self.id,
		   c->cluster_id[0] != '\0' ? "restarting in its cluster"
					    : "not in a cluster yet");
	rv = discovery_start(c, errmsg);
	/* A member of a formed cluster starts Raft at once: its log holds
	 * the configuration. */
	if (rv == GRAFT_OK && c->cluster_id[0] != '\0')
		rv = member_start(c, false, errmsg);
	*out = c; /* on an error too: the caller closes it */
	return rv;
}

void cluster_on_writable(struct cluster *c, void (*cb)(void *arg), void *arg)
{
	c->writable_cb = cb;
	c->writable_arg = arg;
}
