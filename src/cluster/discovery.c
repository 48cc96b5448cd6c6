/* Discovery: a one-line exchange over TCP. A member connects to every
 * endpoint of dbms.cluster.discovery.endpoints and sends
 *
 *   GRAFT-DISCOVERY 1 <raft id> <server id> <raft addr> <bolt addr>
 *     <http addr> <cluster id|-> <members|-> <transaction addr> <role>
 *     <routing addr|-> <tags|-> <positions|-> <replicas|->
 *
 * (one line; members: <raft id>=<raft addr>,... once the cluster is formed;
 * the transaction address and role for read replicas, which probe with
 * Raft id 0 and are answered but not counted as members; positions and
 * replicas are the roster's, roster.h: what the sender applied and, from
 * a core, the replicas it hears from),
 * the endpoint answers with its own line and closes. Each side records the
 * other; a pristine member adopts a formed cluster that lists it, and the
 * pristine member with the smallest Raft id forms the cluster once it has
 * seen the formation size (cluster.h). While the cluster is not formed, the
 * endpoints tried and why they did not answer are logged every few seconds;
 * afterwards, an endpoint going silent or answering again is logged once.
 * An exchange not done within 2 s (a peer that accepts and says nothing)
 * is cut by its connection's timer. Listening, connecting, the exchanges'
 * list and closing are src/net/tcp.h's; an endpoint's host name is
 * resolved off the loop and cached (src/net/resolve.h), and one that does
 * not resolve is logged as an error naming the setting. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/log.h"
#include "cluster_int.h"

#define DISCOVERY_MAGIC "GRAFT-DISCOVERY"
#define DISCOVERY_VERSION 1
#define DISCOVERY_LINE_MAX 4096
#define TICK_MS 500
#define EXCHANGE_TIMEOUT_MS 2000
#define REPORT_MS 5000
#define FORMED_EVERY_TICKS 6 /* a formed member refreshes every 3 s */

struct discovery_conn {
	struct tcp_conn tcp; /* first: a struct tcp_conn * is one of these */
	struct cluster *c;
	int endpoint; /* index into c->endpoints; -1 for an incoming one */
	const char *result; /* what closing reports: NULL once answered */
	size_t len;
	char in[DISCOVERY_LINE_MAX];
	char out[DISCOVERY_LINE_MAX];
};

const struct cluster_peer *discovery_peer(const struct cluster *c,
					  uint64_t id)
{
	for (size_t i = 0; i < c->n_seen; i++)
		if (c->seen[i].id == id)
			return &c->seen[i];
	return NULL;
}

/* The line this member sends. */
static void own_line(struct cluster *c, char *out, size_t n)
{
	size_t len = (size_t)snprintf(
		out, n, "%s %d %016" PRIx64 " %s %s %s %s %s ", DISCOVERY_MAGIC,
		DISCOVERY_VERSION, c->self.id, c->self.server_id, c->self.raft,
		c->self.bolt, c->self.http,
		c->cluster_id[0] != '\0' ? c->cluster_id : "-");

	if (c->n_members == 0)
		len += (size_t)snprintf(out + len, n - len, "-");
	for (size_t i = 0; i < c->n_members && len < n; i++)
		len += (size_t)snprintf(out + len, n - len, "%s%016" PRIx64 "=%s",
					i > 0 ? "," : "", c->members[i].id,
					c->members[i].raft);
	if (len < n)
		len += (size_t)snprintf(
			out + len, n - len, " %s %s %s %s ",
			c->o.catchup_advertised,
			c->mem.removed_self ? "REMOVED"
					    : member_role(c, c->self.id),
			c->self.routing[0] != '\0' ? c->self.routing : "-",
			c->self.tags[0] != '\0' ? c->self.tags : "-");
	if (len < n)
		len += topology_fields(c, out + len, n - len);
	if (len < n - 1) {
		out[len++] = '\n';
		out[len] = '\0';
	}
}

/* Formation -------------------------------------------------------------- */

static int cmp_peer(const void *a, const void *b)
{
	const struct cluster_peer *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/* Forms (or, not bootstrapping, joins) cluster c->cluster_id. */
static void form(struct cluster *c, bool decided_here, bool bootstrap)
{
	char errmsg[GRAFT_ERRMSG_SIZE];
	int rv;

	qsort(c->members, c->n_members, sizeof c->members[0], cmp_peer);
	rv = graft_identity_write(c->o.data_dir, "cluster_id", c->cluster_id,
				  errmsg);
	if (rv == GRAFT_OK)
		rv = member_start(c, bootstrap, errmsg);
	if (rv != GRAFT_OK) {
		graft_error("cluster: cannot form cluster %s: %s",
			    c->cluster_id, errmsg);
		c->n_members = 0;
		c->cluster_id[0] = '\0';
		return;
	}
	if (bootstrap)
		graft_info("cluster: %s cluster %s with %zu core members",
			   decided_here ? "formed" : "joined", c->cluster_id,
			   c->n_members);
	else
		graft_info("cluster: joining the formed cluster %s as a new "
			   "core: its leader adds this member without a vote, "
			   "catches it up, then makes it a voter",
			   c->cluster_id);
}

/* The pristine member with the smallest id, once it has seen enough. */
static void maybe_decide(struct cluster *c)
{
	if (c->raft_inited || c->cluster_id[0] != '\0' ||
	    c->n_seen < c->o.formation_size)
		return;
	for (size_t i = 0; i < c->n_seen; i++)
		if (c->seen[i].id < c->self.id)
			return;
	if (graft_identity_new(c->cluster_id) != GRAFT_OK) {
		graft_error("cluster: cannot make a cluster id: no randomness");
		c->cluster_id[0] = '\0';
		return;
	}
	memcpy(c->members, c->seen, c->n_seen * sizeof c->seen[0]);
	c->n_members = c->n_seen;
	form(c, true, true);
}

/* "<id>=<raft>,..." into c->members: 1 when it lists this member, 0 when
 * not, -1 when malformed. */
static int parse_members(struct cluster *c, char *list)
{
	int with_self = 0;
	size_t n = 0;

	for (char *save = NULL, *e = strtok_r(list, ",", &save); e != NULL;
	     e = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(e, '=');

		if (eq == NULL || n == CLUSTER_MAX_MEMBERS ||
		    strlen(eq + 1) >= CLUSTER_RAFT_ADDR_LEN)
			return -1;
		*eq = '\0';
		memset(&c->members[n], 0, sizeof c->members[n]);
		c->members[n].id = strtoull(e, NULL, 16);
		snprintf(c->members[n].raft, CLUSTER_RAFT_ADDR_LEN, "%s", eq + 1);
		with_self |= c->members[n].id == c->self.id;
		n++;
	}
	c->n_members = n;
	return with_self;
}

/* Whether a repeated complaint may be logged again (every few seconds). */
static bool report_due(struct cluster *c)
{
	uint64_t now = uv_now(c->loop);

	if (now - c->last_report_ms < REPORT_MS)
		return false;
	c->last_report_ms = now;
	return true;
}

/* A pristine member hearing a formed cluster: one of its formation, or
 * one formed without it, which it joins (membership.c). */
static void adopt(struct cluster *c, const char *cluster_id, char *members)
{
	int listed;

	if (c->raft_inited)
		return;
	listed = parse_members(c, members);
	if (listed < 0) {
		c->n_members = 0;
		return;
	}
	snprintf(c->cluster_id, sizeof c->cluster_id, "%.36s", cluster_id);
	form(c, false, listed == 1);
}

static void refuse_foreign(struct cluster *c, const struct cluster_peer *p,
			   const char *cluster_id)
{
	if (!report_due(c))
		return;
	graft_error("cluster: the member %s (discovery answer from bolt://%s) "
		    "belongs to cluster %s, but this member holds data of "
		    "cluster %s (recorded in %s/dbms/cluster_id); it does not "
		    "join another cluster: fix dbms.cluster.discovery.endpoints, "
		    "or empty this member's data directory to let it join",
		    p->server_id, p->bolt, cluster_id, c->cluster_id,
		    c->o.data_dir);
}

static void remember(struct cluster *c, const struct cluster_peer *p)
{
	struct cluster_peer *slot = (struct cluster_peer *)discovery_peer(c,
									  p->id);

	if (slot == NULL) {
		if (c->n_seen == CLUSTER_MAX_MEMBERS)
			return;
		slot = &c->seen[c->n_seen++];
		graft_info("cluster: discovered core %s (Raft %s, bolt://%s)",
			   p->server_id, p->raft, p->bolt);
	}
	*slot = *p;
	slot->seen_ms = uv_now(c->loop);
	topology_publish(c, true);
}

/* Handles a peer's line; false if it is not a discovery line. */
static bool heard(struct cluster *c, char *line)
{
	char magic[32], cluster_id[IDENTITY_LEN + 1];
	char members[DISCOVERY_LINE_MAX];
	char positions[DISCOVERY_LINE_MAX] = "-", replicas[DISCOVERY_LINE_MAX] = "-";
	struct cluster_peer p;
	int version;

	memset(&p, 0, sizeof p);
	if (sscanf(line, "%31s %d %" SCNx64 " %36s %63s %299s %299s %36s %4095s "
		   "%299s %15s %299s %255s %4095s %4095s",
		   magic, &version, &p.id, p.server_id, p.raft, p.bolt, p.http,
		   cluster_id, members, p.catchup, p.role, p.routing, p.tags,
		   positions, replicas) < 9 ||
	    strcmp(magic, DISCOVERY_MAGIC) != 0 ||
	    version != DISCOVERY_VERSION)
		return false;
	if (strcmp(p.routing, "-") == 0) /* its routing connector is off */
		p.routing[0] = '\0';
	if (strcmp(p.tags, "-") == 0)
		p.tags[0] = '\0';
	if (p.id == c->self.id)
		return true;
	topology_heard(c, &p, positions, replicas);
	if (p.id == 0) /* a replica's probe */
		return true;
	snprintf(p.cluster_id, sizeof p.cluster_id, "%s", cluster_id);
	remember(c, &p);
	if (strcmp(cluster_id, "-") != 0 && c->cluster_id[0] != '\0' &&
	    strcmp(cluster_id, c->cluster_id) != 0)
		refuse_foreign(c, &p, cluster_id);
	else if (strcmp(cluster_id, "-") != 0 && strcmp(members, "-") != 0)
		adopt(c, cluster_id, members);
	else
		maybe_decide(c);
	return true;
}

void cluster_probe_line(const struct cluster_probe_self *me, char *out,
			size_t n)
{
	snprintf(out, n, "%s %d %016x %s - %s %s - - %s READ_REPLICA - %s %s -\n",
		 DISCOVERY_MAGIC, DISCOVERY_VERSION, 0u, me->server_id, me->bolt,
		 me->http, me->catchup, me->tags[0] != '\0' ? me->tags : "-",
		 me->positions);
}

int cluster_probe_answer(const char *line, struct cluster_probe *out)
{
	char magic[32], raft[CLUSTER_RAFT_ADDR_LEN];
	char members[DISCOVERY_LINE_MAX];
	uint64_t id;
	int version, n;

	memset(out, 0, sizeof *out);
	n = sscanf(line, "%31s %d %" SCNx64 " %36s %63s %299s %299s %36s "
		   "%4095s %299s %15s %299s %255s %2047s %2047s",
		   magic, &version, &id, out->server_id, raft, out->bolt,
		   out->http, out->cluster_id, members, out->catchup, out->role,
		   out->routing, out->tags, out->positions, out->replicas);
	if (n < 9 || strcmp(magic, DISCOVERY_MAGIC) != 0 ||
	    version != DISCOVERY_VERSION || id == 0)
		return GRAFT_EINVAL;
	if (strcmp(out->tags, "-") == 0)
		out->tags[0] = '\0';
	if (strcmp(out->routing, "-") == 0)
		out->routing[0] = '\0';
	if (out->positions[0] == '\0')
		snprintf(out->positions, sizeof out->positions, "-");
	if (out->replicas[0] == '\0')
		snprintf(out->replicas, sizeof out->replicas, "-");
	return GRAFT_OK;
}

/* Connections ------------------------------------------------------------ */

static void endpoint_result(struct cluster *c, int endpoint, const char *err)
{
	struct cluster_endpoint *e;

	if (endpoint < 0)
		return;
	e = &c->endpoints[endpoint];
	e->busy = false;
	if (c->raft_inited && !c->closing && e->reachable != (err == NULL))
		graft_info("cluster: discovery endpoint %s %s%s", e->text,
			   err == NULL ? "answers again" : "does not answer: ",
			   err == NULL ? "" : err);
	e->reachable = err == NULL;
	snprintf(e->error, sizeof e->error, "%s", err != NULL ? err : "");
}

static void conn_closing(struct tcp_conn *tc)
{
	struct discovery_conn *d = (struct discovery_conn *)tc;

	endpoint_result(d->c, d->endpoint, d->result);
}

static void conn_free(struct tcp_conn *tc)
{
	free(tc);
}

static void conn_close(struct discovery_conn *d, const char *err)
{
	if (tcp_conn_closing(&d->tcp))
		return;
	d->result = err;
	tcp_conn_close(&d->tcp);
}

static void conn_timeout(struct tcp_conn *tc)
{
	conn_close((struct discovery_conn *)tc, "no answer within 2 s");
}

/* A failed write closes the connection (tcp.h). */
static void conn_written(struct tcp_conn *tc, int status)
{
	struct discovery_conn *d = (struct discovery_conn *)tc;

	if (status != 0)
		d->result = uv_strerror(status);
	else if (d->endpoint < 0) /* incoming: done once answered */
		conn_close(d, NULL);
}

static void send_line(struct discovery_conn *d)
{
	own_line(d->c, d->out, sizeof d->out);
	d->result = "cannot send";
	tcp_conn_write(&d->tcp, d->out, strlen(d->out));
}

static void conn_alloc(struct tcp_conn *tc, uv_buf_t *buf)
{
	struct discovery_conn *d = (struct discovery_conn *)tc;

	*buf = uv_buf_init(d->in + d->len,
			   (unsigned)(sizeof d->in - 1 - d->len));
}

/* An error or EOF closes the connection (tcp.h). */
static void conn_read(struct tcp_conn *tc, ssize_t nread)
{
	struct discovery_conn *d = (struct discovery_conn *)tc;
	char *nl;

	if (nread < 0) {
		d->result = nread == UV_EOF ? "closed without answering"
					    : uv_strerror((int)nread);
		return;
	}
	d->len += (size_t)nread;
	d->in[d->len] = '\0';
	nl = strchr(d->in, '\n');
	if (nl == NULL) {
		if (d->len == sizeof d->in - 1)
			conn_close(d, "answered with an overlong line");
		return;
	}
	*nl = '\0';
	tcp_conn_read(tc, false);
	if (!heard(d->c, d->in)) {
		conn_close(d, "answered with something that is not graft "
			      "discovery (another service on that port?)");
		return;
	}
	if (d->endpoint < 0 && !d->c->closing)
		send_line(d); /* incoming: answer, then close */
	else
		conn_close(d, NULL);
}

static struct discovery_conn *conn_alloc_new(struct cluster *c, int endpoint)
{
	struct discovery_conn *d = calloc(1, sizeof *d);

	if (d == NULL)
		return NULL;
	d->c = c;
	d->endpoint = endpoint;
	d->result = "closed before answering";
	return d;
}

static struct tcp_conn *conn_new(struct tcp_server *srv)
{
	struct discovery_conn *d = conn_alloc_new(srv->data, -1);

	return d != NULL ? &d->tcp : NULL;
}

static void conn_accepted(struct tcp_conn *tc)
{
	tcp_conn_timer(tc, EXCHANGE_TIMEOUT_MS, 0);
	tcp_conn_read(tc, true);
}

static void conn_connected(struct tcp_conn *tc, int status)
{
	struct discovery_conn *d = (struct discovery_conn *)tc;

	if (status != 0) {
		d->result = uv_strerror(status);
		return;
	}
	d->result = "cannot read";
	tcp_conn_read(tc, true);
	send_line(d);
}

static const struct tcp_ops discovery_tcp_ops = {
	.conn_new = conn_new,
	.accepted = conn_accepted,
	.connected = conn_connected,
	.alloc = conn_alloc,
	.read = conn_read,
	.written = conn_written,
	.timeout = conn_timeout,
	.closing = conn_closing,
	.conn_free = conn_free,
};

/* An endpoint whose host name does not resolve: an error in the log the
 * first time (the operator's typo shows at once), then the report's. */
static void unresolved(struct cluster *c, int i, const char *why)
{
	struct cluster_endpoint *e = &c->endpoints[i];

	/* e->error keeps a prefix of why */
	if (strncmp(e->error, why, sizeof e->error - 1) != 0)
		graft_error("cluster: dbms.cluster.discovery.endpoints (4.x: "
			    "causal_clustering.initial_discovery_members) "
			    "lists %s: %s; fix the name or its DNS record "
			    "(tried again until it resolves)",
			    e->text, why);
	endpoint_result(c, i, why);
}

static void try_endpoint(struct cluster *c, int i)
{
	char errmsg[GRAFT_ERRMSG_SIZE];
	struct discovery_conn *d;
	struct sockaddr_storage sa;
	int rv;

	rv = net_resolve(&c->resolver, c->endpoints[i].text, &sa, NULL,
			 errmsg);
	if (rv == GRAFT_EAGAIN)
		return; /* tried at a later tick */
	if (rv != GRAFT_OK) {
		unresolved(c, i, errmsg);
		return;
	}
	d = conn_alloc_new(c, i);
	if (d == NULL)
		return;
	c->endpoints[i].busy = true;
	rv = tcp_connect(&c->discovery, &d->tcp, (struct sockaddr *)&sa);
	if (rv != GRAFT_OK) {
		/* no callback comes: the connection is freed (or, while
		 * closing, was never taken) */
		endpoint_result(c, i, "cannot connect");
		if (rv == GRAFT_ESHUTDOWN)
			free(d);
		return;
	}
	tcp_conn_timer(&d->tcp, EXCHANGE_TIMEOUT_MS, 0);
}

static void report(struct cluster *c)
{
	char tried[2048];
	size_t len = 0;

	for (size_t i = 0; i < c->o.n_endpoints && len < sizeof tried; i++) {
		const struct cluster_endpoint *e = &c->endpoints[i];

		len += (size_t)snprintf(tried + len, sizeof tried - len,
					"%s%s (%s)", i > 0 ? ", " : "",
					e->text,
					e->reachable ? "answered"
					: e->error[0] != '\0' ? e->error
							      : "no answer yet");
	}
	graft_warn("cluster: waiting to form: found %zu of the %u core "
		   "members needed (dbms.cluster.minimum_initial_system_"
		   "primaries_count); discovery endpoints tried: %s",
		   c->n_seen, c->o.formation_size, tried);
}

static void tick_cb(uv_timer_t *t)
{
	struct cluster *c = t->data;
	bool formed = c->raft_inited;

	c->tick_count++;
	if (formed && c->tick_count % FORMED_EVERY_TICKS != 0)
		return;
	/* a formation size of 1 is met by this member alone: no peer's
	 * line ever comes to decide on */
	if (!formed)
		maybe_decide(c);
	for (size_t i = 0; i < c->o.n_endpoints; i++)
		if (!c->endpoints[i].busy)
			try_endpoint(c, (int)i);
	if (!formed && report_due(c))
		report(c);
}

static void discovery_closed_cb(struct tcp_server *srv)
{
	cluster_release(srv->data);
}

static void resolver_closed_cb(struct net_resolver *r)
{
	cluster_release(r->data);
}

int discovery_start(struct cluster *c, char *errmsg)
{
	const struct graft_address *l = &c->o.discovery_listen;
	/* Every address of the host, ::1 too: peers name members by host
	 * name and may try IPv6 first (Raft's own addresses stay IPv4,
	 * member_ipv4). */
	struct tcp_listen how = {
		.addr = l,
		.setting = "server.discovery.listen_address",
		.family = AF_UNSPEC,
		.backlog = 64,
	};
	char shown[GRAFT_ADDRESS_TEXT_MAX];
	int rv;

	for (size_t i = 0; i < c->o.n_endpoints; i++)
		graft_address_format(c->endpoints[i].text,
				     sizeof c->endpoints[i].text,
				     c->o.endpoints[i].host,
				     c->o.endpoints[i].port);
	tcp_server_init(&c->discovery, c->loop, &discovery_tcp_ops, c);
	net_resolver_init(&c->resolver, c->loop, NULL); /* unresolved() logs */
	c->resolver.data = c;
	c->discovery_inited = true;
	c->handles_open += 2; /* the server and the resolver */
	rv = tcp_server_listen(&c->discovery, &how, errmsg);
	if (rv != GRAFT_OK)
		return rv;
	/* The first report comes once every endpoint had time to answer. */
	c->last_report_ms = uv_now(c->loop);
	uv_timer_init(c->loop, &c->tick);
	c->tick.data = c;
	c->tick_inited = true;
	c->handles_open++;
	uv_timer_start(&c->tick, tick_cb, 0, TICK_MS);
	graft_address_format(shown, sizeof shown, l->host, l->port);
	graft_info("cluster: discovery listening on %s", shown);
	return GRAFT_OK;
}

void discovery_close(struct cluster *c)
{
	if (c->tick_inited)
		uv_close((uv_handle_t *)&c->tick, cluster_handle_closed);
	if (!c->discovery_inited)
		return;
	tcp_server_close(&c->discovery, discovery_closed_cb);
	net_resolver_close(&c->resolver, resolver_closed_cb);
}
