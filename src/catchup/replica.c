/* The read replica (dbms.mode=READ_REPLICA; 5.x a SECONDARY server): it
 * takes no part in Raft. It finds the cores by probing their discovery
 * endpoints (cluster.h: a core answers with its addresses, its transaction
 * address and its role, without counting the replica as a member), follows
 * every database's stream from an upstream (follow.c) and refuses writes
 * with NotALeader: each database's replicator refuses every proposal.
 *
 * A tick drives everything: probes every PROBE_MS (more often until a core
 * answered), and each idle database's next connection attempt. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "../util/log.h"
#include "replica_int.h"

#define TICK_MS 50
#define PROBE_MS 2000
#define PROBE_EARLY_MS 250

/* Settings ---------------------------------------------------------------- */

static void address_text(char *out, size_t n, const struct graft_config *cfg,
			 const char *setting)
{
	struct graft_address a;

	graft_config_address(cfg, setting, &a);
	graft_address_format(out, n, a.host[0] ? a.host : "127.0.0.1", a.port);
}

static const struct {
	const char *name;
	enum catchup_strategy strategy;
} strategies[] = {
	{"default", CATCHUP_LEADER_FIRST},
	{"connect-to-random-core-server", CATCHUP_RANDOM_CORE},
	{"leader-only", CATCHUP_LEADER_ONLY},
	{"typically-connect-to-random-read-replica", CATCHUP_RANDOM_REPLICA},
	{"connect-randomly-within-server-group", CATCHUP_SERVER_GROUP},
};

static int strategy(const char *text, const char *tags,
		    enum catchup_strategy *out, char *errmsg)
{
	char first[64] = "";

	/* A list is tried in order in Neo4j; graft takes its first entry
	 * (the replica strategies fall back to the cores by themselves). */
	if (text != NULL)
		sscanf(text, " %63[^, ]", first);
	if (first[0] == '\0')
		snprintf(first, sizeof first, "default");
	for (size_t i = 0; i < sizeof strategies / sizeof *strategies; i++) {
		if (strcmp(first, strategies[i].name) != 0)
			continue;
		*out = strategies[i].strategy;
		if (*out == CATCHUP_SERVER_GROUP && tags[0] == '\0')
			return graft_errf(errmsg, GRAFT_ECONFIG,
					  "causal_clustering.upstream_selection_"
					  "strategy=%s needs this replica's "
					  "server groups: set "
					  "causal_clustering.server_groups (5.x "
					  "initial.server.tags), e.g. eu,ssd",
					  first);
		return GRAFT_OK;
	}
	return graft_errf(errmsg, GRAFT_ECONFIG,
			  "causal_clustering.upstream_selection_strategy=%s: "
			  "graft supports default, "
			  "connect-to-random-core-server, leader-only, "
			  "typically-connect-to-random-read-replica and "
			  "connect-randomly-within-server-group",
			  first);
}

int catchup_replica_options_from_config(const struct graft_config *cfg,
					struct catchup_replica_options *o,
					char *errmsg)
{
	memset(o, 0, sizeof *o);
	o->n_discovery = graft_config_address_list(
		cfg, "dbms.cluster.discovery.endpoints", o->discovery,
		CATCHUP_MAX_UPSTREAMS);
	if (o->n_discovery == 0)
		return graft_errf(errmsg, GRAFT_ECONFIG,
				  "dbms.mode=READ_REPLICA needs "
				  "causal_clustering.initial_discovery_members "
				  "(5.x dbms.cluster.discovery.endpoints): list "
				  "the discovery address of every core, e.g. "
				  "core1:5000,core2:5000,core3:5000");
	if (o->n_discovery > CATCHUP_MAX_UPSTREAMS)
		return graft_errf(errmsg, GRAFT_ECONFIG,
				  "causal_clustering.initial_discovery_members "
				  "lists %zu addresses; at most %d are used",
				  o->n_discovery, CATCHUP_MAX_UPSTREAMS);
	snprintf(o->data_dir, sizeof o->data_dir, "%s",
		 graft_config_path(cfg, "server.directories.data"));
	address_text(o->bolt_advertised, sizeof o->bolt_advertised, cfg,
		     "server.bolt.advertised_address");
	address_text(o->http_advertised, sizeof o->http_advertised, cfg,
		     "server.http.advertised_address");
	address_text(o->catchup_advertised, sizeof o->catchup_advertised, cfg,
		     "server.cluster.advertised_address");
	o->retry_ms = graft_config_duration_ms(cfg,
					       "db.cluster.catchup.pull_interval");
	o->inactivity_ms = graft_config_duration_ms(
		cfg, "dbms.cluster.catchup.client_inactivity_timeout");
	o->copy_direct_min = graft_config_size(
		cfg, "dbms.cluster.catchup.store_copy_direct_io_min_size");
	if (cluster_tags_from_config(cfg, o->tags, errmsg) != GRAFT_OK)
		return GRAFT_ECONFIG;
	return strategy(graft_config_string(
				cfg, "server.cluster.catchup.upstream_strategy"),
			o->tags, &o->strategy, errmsg);
}

/* Probes ------------------------------------------------------------------ */

struct probe {
	struct tcp_conn tcp; /* first */
	struct catchup_replica *r; /* NULL once the replica let go */
	int i;
	size_t len;
	char in[4096];
	char out[1024 + ROSTER_TEXT_LEN];
};

static struct tcp_conn *no_conn_new(struct tcp_server *srv)
{
	(void)srv;
	return NULL; /* probes only connect */
}

static void probe_connected(struct tcp_conn *tc, int status)
{
	struct probe *p = (struct probe *)tc;

	struct catchup_replica *r = p->r;
	char positions[ROSTER_TEXT_LEN];
	struct roster_server me;
	struct cluster_probe_self self;

	if (status != 0 || r == NULL)
		return;
	/* it tells the cores where it stands, for their routing tables */
	replica_positions(r, &me);
	roster_positions_text(&me, uv_now(r->loop), positions,
			      sizeof positions);
	self = (struct cluster_probe_self){
		.server_id = r->o.server_id,
		.bolt = r->o.bolt_advertised,
		.http = r->o.http_advertised,
		.catchup = r->o.catchup_advertised,
		.tags = r->o.tags,
		.positions = positions,
	};
	cluster_probe_line(&self, p->out, sizeof p->out);
	tcp_conn_read(tc, true);
	tcp_conn_timer(tc, PROBE_MS, 0);
	tcp_conn_write(tc, p->out, strlen(p->out));
}

static void probe_alloc(struct tcp_conn *tc, uv_buf_t *buf)
{
	struct probe *p = (struct probe *)tc;

	*buf = uv_buf_init(p->in + p->len, (unsigned)(sizeof p->in - 1 - p->len));
}

/* A core's cluster against this replica's: the first a formed core names
 * is recorded (the replica belongs to it from then on, across restarts);
 * a core of another is refused, once in the log. True when c may be used. */
static bool same_cluster(struct catchup_replica *r, struct replica_core *c,
			 const struct cluster_probe *got)
{
	char errmsg[GRAFT_ERRMSG_SIZE], where[GRAFT_ADDRESS_TEXT_MAX];

	if (strcmp(got->cluster_id, "-") == 0)
		return true; /* not formed yet: nothing to check */
	if (r->cluster_id[0] == '\0') {
		if (graft_identity_write(r->o.data_dir, "cluster_id",
					 got->cluster_id, errmsg) != GRAFT_OK) {
			graft_warn("read replica: cannot record the cluster id "
				   "%s: %s", got->cluster_id, errmsg);
			return false;
		}
		snprintf(r->cluster_id, sizeof r->cluster_id, "%s",
			 got->cluster_id);
		graft_info("read replica: following cluster %s (recorded in "
			   "%s/dbms/cluster_id)", r->cluster_id, r->o.data_dir);
	}
	if (strcasecmp(got->cluster_id, r->cluster_id) == 0) {
		c->foreign = false;
		return true;
	}
	graft_address_format(where, sizeof where,
			     r->o.discovery[c - r->cores].host,
			     r->o.discovery[c - r->cores].port);
	if (!c->foreign)
		graft_error("read replica: core %s (discovery %s, bolt://%s) "
			    "belongs to cluster %s; this replica belongs to "
			    "cluster %s (recorded in %s/dbms/cluster_id): it "
			    "takes no database, list or stream from that core. "
			    "Fix causal_clustering.initial_discovery_members, "
			    "or give this replica an empty data directory to "
			    "follow the other cluster", got->server_id,
			    where, got->bolt,
			    got->cluster_id, r->cluster_id, r->o.data_dir);
	c->foreign = true;
	c->answering = false;
	return false;
}

bool replica_wire_id(struct follow *f, struct txlog_wire_id *out,
		     char *errmsg)
{
	struct catchup_replica *r = f->r;

	if (catchup_wire_id(r->cluster_id, dbms_origin(r->dbms, f->db), f->db,
			    out) == GRAFT_OK)
		return true;
	graft_errf(errmsg, GRAFT_EAGAIN, "this replica has no cluster id yet "
		   "(no core of a formed cluster answered)");
	return false;
}

static void probe_answered(struct probe *p)
{
	struct replica_core *c = &p->r->cores[p->i];
	struct cluster_probe got;

	if (cluster_probe_answer(p->in, &got) != GRAFT_OK ||
	    !same_cluster(p->r, c, &got))
		return;
	if (!c->known)
		graft_info("read replica: discovered core %s (bolt://%s, "
			   "transactions on %s, %s)", got.server_id, got.bolt,
			   got.catchup, got.role);
	c->p = got;
	c->answered_ms = uv_now(p->r->loop);
	c->known = c->answering = true;
	roster_replicas_parse(&p->r->roster, got.replicas, p->r->o.server_id,
			      uv_now(p->r->loop));
}

static void probe_read(struct tcp_conn *tc, ssize_t n)
{
	struct probe *p = (struct probe *)tc;
	char *nl;

	if (n < 0 || p->r == NULL)
		return;
	p->len += (size_t)n;
	p->in[p->len] = '\0';
	nl = strchr(p->in, '\n');
	if (nl == NULL && p->len < sizeof p->in - 1)
		return;
	if (nl != NULL) {
		*nl = '\0';
		probe_answered(p);
	}
	tcp_conn_close(tc);
}

static void probe_timeout(struct tcp_conn *tc)
{
	tcp_conn_close(tc);
}

static void probe_closing(struct tcp_conn *tc)
{
	struct probe *p = (struct probe *)tc;

	/* No answer: the core stays known, but is not picked. */
	if (p->r != NULL && p->len == 0)
		p->r->cores[p->i].answering = false;
}

static void probe_free(struct tcp_conn *tc)
{
	free(tc);
}

static const struct tcp_ops probe_tcp_ops = {
	.conn_new = no_conn_new,
	.connected = probe_connected,
	.alloc = probe_alloc,
	.read = probe_read,
	.timeout = probe_timeout,
	.closing = probe_closing,
	.conn_free = probe_free,
};

static void probe_all(struct catchup_replica *r)
{
	char text[CLUSTER_ADDR_LEN];
	struct sockaddr_storage sa;

	for (size_t i = 0; i < r->o.n_discovery; i++) {
		struct probe *p;

		graft_address_format(text, sizeof text, r->o.discovery[i].host,
				     r->o.discovery[i].port);
		if (net_resolve(&r->resolver, text, &sa, NULL, NULL) != GRAFT_OK)
			continue; /* a name not resolved yet: next round */
		p = calloc(1, sizeof *p);
		if (p == NULL)
			return;
		p->r = r;
		p->i = (int)i;
		tcp_connect(&r->probes, &p->tcp, (struct sockaddr *)&sa);
	}
}

/* Writes are refused ---------------------------------------------------- */

static int refuse_propose(void *data, struct db *db, const void *entry,
			  size_t len, struct db_inflight *in, char *errmsg)
{
	(void)data;
	(void)entry;
	(void)len;
	(void)in;
	return graft_errf(errmsg, GRAFT_ENOTLEADER,
			  "No write operations are allowed on this database. "
			  "This server is a read replica (dbms.mode="
			  "READ_REPLICA) of %s: send writes to the cluster's "
			  "leader (a neo4j:// driver routes them)",
			  db_name(db));
}

static int refuse_change(void *data, const void *entry, size_t len,
			 struct dbms_change_req *req, char *errmsg)
{
	(void)data;
	(void)entry;
	(void)len;
	(void)req;
	return graft_errf(errmsg, GRAFT_ENOTLEADER,
			  "This server is a read replica (dbms.mode="
			  "READ_REPLICA): create and drop databases on the "
			  "cluster's leader");
}

static const struct db_replicator_ops refuse_db_ops = {
	.propose = refuse_propose};
static const struct dbms_replicator_ops refuse_ops = {&refuse_db_ops,
						      refuse_change};

/* The tick ---------------------------------------------------------------- */

static bool any_core(const struct catchup_replica *r)
{
	for (size_t i = 0; i < CATCHUP_MAX_UPSTREAMS; i++)
		if (r->cores[i].answering)
			return true;
	return false;
}

static void tick_cb(uv_timer_t *t)
{
	struct catchup_replica *r = t->data;
	static const uint64_t every[2] = {PROBE_EARLY_MS, PROBE_MS};
	uint64_t now = uv_now(r->loop);

	if (now >= r->next_probe_ms) {
		probe_all(r);
		r->next_probe_ms = now + every[any_core(r)];
	}
	mirror_tick(r);
	for (size_t i = 0; i < r->n_dbs; i++)
		follow_tick(&r->dbs[i]);
}

/* Lifecycle -------------------------------------------------------------- */

int catchup_replica_start(uv_loop_t *loop, struct dbms *dbms,
			  struct cypher_engine *engine,
			  const struct catchup_replica_options *o,
			  struct catchup_replica **out, char *errmsg)
{
	struct catchup_replica *r = calloc(1, sizeof *r);
	struct db *dbs[CATCHUP_MAX_DATABASES];
	size_t n;
	char text[CLUSTER_ADDR_LEN], host[NET_HOST_LEN],
		why[GRAFT_ERRMSG_SIZE];
	int port, rv;

	if (r == NULL)
		return GRAFT_ENOMEM;
	for (size_t i = 0; i < o->n_discovery; i++) {
		graft_address_format(text, sizeof text, o->discovery[i].host,
				     o->discovery[i].port);
		if (graft_address_split(text, GRAFT_ADDRESS_PORT_REQUIRED,
					host, &port, why) != GRAFT_OK) {
			free(r);
			return graft_errf(errmsg, GRAFT_ECONFIG,
					  "causal_clustering.initial_discovery_"
					  "members: %s is not an address: %s",
					  text, why);
		}
	}
	rv = catchup_cluster_id_read(o->data_dir, r->cluster_id, errmsg);
	if (rv != GRAFT_OK) {
		free(r);
		return rv;
	}
	r->loop = loop;
	r->dbms = dbms;
	r->o = *o;
	net_resolver_init(&r->resolver, loop, "read replica");
	r->resolver.data = r;
	r->routing.reads_on_primaries = r->routing.shuffle = true;
	srand((unsigned)time(NULL) ^ (unsigned)uv_hrtime());
	tcp_server_init(&r->probes, loop, &probe_tcp_ops, r);
	tcp_server_init(&r->streams, loop, &follow_tcp_ops, r);
	tcp_server_init(&r->lists, loop, &mirror_tcp_ops, r);
	r->list_core = -1;
	r->list_index = dbms_change_index(dbms);
	n = dbms_list(dbms, dbs, CATCHUP_MAX_DATABASES);
	for (size_t i = 0; i < n && i < CATCHUP_MAX_DATABASES; i++)
		follow_init(&r->dbs[r->n_dbs++], r, db_name(dbs[i]));
	dbms_set_replicator(dbms, &refuse_ops, r);
	rv = catchup_replica_register_procedures(r, engine);
	if (rv != GRAFT_OK) {
		free(r);
		return graft_errf(errmsg, rv, "cannot register the cluster "
				  "procedures: %s", graft_strerror(rv));
	}
	uv_timer_init(loop, &r->tick);
	r->tick.data = r;
	uv_timer_start(&r->tick, tick_cb, 0, TICK_MS);
	graft_info("read replica: following %zu databases from the cores at "
		   "%zu discovery endpoints", r->n_dbs, o->n_discovery);
	*out = r;
	return GRAFT_OK;
}

int replica_follow_add(struct catchup_replica *r, const char *db)
{
	size_t i;

	for (i = 0; i < r->n_dbs && r->dbs[i].state != FOLLOW_UNUSED; i++)
		;
	if (i == CATCHUP_MAX_DATABASES)
		return GRAFT_ETOOBIG;
	if (i == r->n_dbs)
		r->n_dbs++;
	follow_init(&r->dbs[i], r, db);
	return GRAFT_OK;
}

struct follow *replica_follow_find(struct catchup_replica *r, const char *db)
{
	for (size_t i = 0; i < r->n_dbs; i++)
		if (r->dbs[i].state != FOLLOW_UNUSED &&
		    strcmp(r->dbs[i].db, db) == 0)
			return &r->dbs[i];
	return NULL;
}

void replica_part_closed(struct catchup_replica *r)
{
	if (--r->closing_parts == 0 && r->close_cb != NULL)
		r->close_cb(r->close_arg);
}

static void tick_closed_cb(uv_handle_t *h)
{
	replica_part_closed(h->data);
}

static void server_closed_cb(struct tcp_server *srv)
{
	replica_part_closed(srv->data);
}

static void resolver_closed_cb(struct net_resolver *res)
{
	replica_part_closed(res->data);
}

static void let_go_of_probes(struct catchup_replica *r)
{
	for (struct tcp_conn *c = r->probes.conns; c != NULL; c = c->next)
		((struct probe *)c)->r = NULL;
}

void catchup_replica_close(struct catchup_replica *r, void (*cb)(void *arg),
			   void *arg)
{
	r->closing = true;
	r->close_cb = cb;
	r->close_arg = arg;
	r->closing_parts = 5;
	for (size_t i = 0; i < r->n_dbs; i++)
		r->closing_parts += follow_stop(&r->dbs[i]);
	let_go_of_probes(r);
	uv_close((uv_handle_t *)&r->tick, tick_closed_cb);
	tcp_server_close(&r->probes, server_closed_cb);
	tcp_server_close(&r->streams, server_closed_cb);
	tcp_server_close(&r->lists, server_closed_cb);
	net_resolver_close(&r->resolver, resolver_closed_cb);
}

void catchup_replica_free(struct catchup_replica *r)
{
	free(r->routing.policies);
	free(r);
}

void replica_positions(struct catchup_replica *r, struct roster_server *me)
{
	uint64_t now = uv_now(r->loop);

	memset(me, 0, sizeof *me);
	for (size_t i = 0; i < r->n_dbs; i++) {
		struct db *d = dbms_get(r->dbms, r->dbs[i].db);

		if (d != NULL)
			roster_set_applied(me, r->dbs[i].db, db_last_txid(d),
					   now);
	}
}

int catchup_replica_lag(struct catchup_replica *r, const char *db,
			struct catchup_lag *out)
{
	struct timespec now;

	for (size_t i = 0; i < r->n_dbs; i++) {
		const struct follow *f = &r->dbs[i];
		struct db *d = dbms_get(r->dbms, f->db);

		if (strcmp(f->db, db) != 0 || d == NULL)
			continue;
		memset(out, 0, sizeof *out);
		out->applied = db_last_txid(d);
		out->upstream_last = f->upstream_last;
		out->following = f->state == FOLLOW_STREAMING;
		clock_gettime(CLOCK_REALTIME, &now);
		out->lag_ms = out->applied >= out->upstream_last ? 0
			      : db_last_commit_ms(d) == 0
				      ? -1
				      : (int64_t)now.tv_sec * 1000 +
						now.tv_nsec / 1000000 -
						db_last_commit_ms(d);
		snprintf(out->upstream, sizeof out->upstream, "%s",
			 f->up.server_id[0] != '\0' ? f->up.server_id
					  : "");
		snprintf(out->error, sizeof out->error, "%s", f->error);
		return GRAFT_OK;
	}
	return GRAFT_ENOTFOUND;
}
