#include "server.h"

#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <unistd.h>

#include "../cluster/routing.h"
#include "../db/dbms_config.h"
#include "../util/fs.h"
#include "../util/log.h"

#define HANDSHAKE_TIMEOUT_MS 10000
/* Output a Bolt connection may queue before it pauses a result. */
#define BOLT_OUT_HIGH (1u << 20)
/* Descriptors left for everything but Bolt connections (store and log
 * files, HTTP, backup) when the Bolt cap follows the open-file limit. */
#define FD_RESERVE 128
#define BOLT_MIN_CONNECTIONS 16

#define container_of(p, type, member) \
	((type *)((char *)(p) - offsetof(type, member)))

/* The lock is flock()ed, so the kernel drops it when the process dies, even
 * by kill -9: a stale lock file never blocks a restart. */
static int lock_data_dir(struct server *s, const char *data, char *errmsg)
{
	char pid[32] = "";
	int n;

	if (graft_path_join(s->lock_path, sizeof s->lock_path, data,
			    "graft.lock") != GRAFT_OK)
		return graft_errf(errmsg, GRAFT_EINVAL, "data path too long: %s",
				  data);
	s->lock_fd = open(s->lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (s->lock_fd < 0)
		return graft_errf(errmsg, graft_err_from_errno(errno),
				  "cannot open lock file %s: %s", s->lock_path,
				  strerror(errno));
	if (flock(s->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		n = (int)pread(s->lock_fd, pid, sizeof pid - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		close(s->lock_fd);
		s->lock_fd = -1;
		return graft_errf(errmsg, GRAFT_ELOCKED,
				  "data directory %s is locked by another graftd "
				  "(pid %s, lock file %s); stop that server first "
				  "or set server.directories.data to another "
				  "directory",
				  data, pid[0] ? pid : "unknown", s->lock_path);
	}
	n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
	if (ftruncate(s->lock_fd, 0) != 0 ||
	    pwrite(s->lock_fd, pid, (size_t)n, 0) != n)
		graft_warn("cannot record pid in %s: %s", s->lock_path,
			   strerror(errno));
	return GRAFT_OK;
}

static void unlock_data_dir(struct server *s)
{
	if (s->lock_fd < 0)
		return;
	close(s->lock_fd); /* releases the flock; the file itself stays */
	s->lock_fd = -1;
}

/* Written atomically (tmp + rename) so `graft status` never reads half a pid. */
static int write_pid_file(struct server *s, const char *run, char *errmsg)
{
	char tmp[4200], pid[32];
	int fd, n, rv;

	rv = graft_mkdir_p(run, errmsg);
	if (rv != GRAFT_OK)
		return rv;
	if (graft_path_join(s->pid_path, sizeof s->pid_path, run,
			    "graft.pid") != GRAFT_OK)
		return graft_errf(errmsg, GRAFT_EINVAL, "run path too long: %s",
				  run);
	snprintf(tmp, sizeof tmp, "%s.tmp", s->pid_path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return graft_errf(errmsg, graft_err_from_errno(errno),
				  "cannot write pid file %s: %s; check "
				  "server.directories.run",
				  tmp, strerror(errno));
	n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
	rv = graft_write_all(fd, pid, (size_t)n);
	close(fd);
	if (rv != GRAFT_OK || rename(tmp, s->pid_path) != 0)
		return graft_errf(errmsg, GRAFT_EIO, "cannot write pid file %s: %s",
				  s->pid_path, strerror(errno));
	return GRAFT_OK;
}

static int open_logs(const struct graft_config *cfg, char *errmsg)
{
	const char *logs = graft_config_path(cfg, "server.directories.logs");
	char path[4200];
	int rv = graft_mkdir_p(logs, errmsg);

	if (rv != GRAFT_OK)
		return rv;
	if (graft_path_join(path, sizeof path, logs, "graft.log") != GRAFT_OK)
		return graft_errf(errmsg, GRAFT_EINVAL, "logs path too long: %s",
				  logs);
	return graft_log_open(path, GRAFT_LOG_INFO, true, errmsg);
}

/* dbms.mode; unset, a 5.x SECONDARY server
 * (server.cluster.system_database_mode=SECONDARY or
 * initial.server.mode_constraint=SECONDARY) is a READ_REPLICA. */
static const char *server_mode(const struct graft_config *cfg)
{
	if (!graft_config_is_set(cfg, "dbms.mode") &&
	    (strcmp(graft_config_string(cfg,
					"server.cluster.system_database_mode"),
		    "SECONDARY") == 0 ||
	     strcmp(graft_config_string(cfg, "initial.server.mode_constraint"),
		    "SECONDARY") == 0))
		return "READ_REPLICA";
	return graft_config_string(cfg, "dbms.mode");
}

static int check_mode(const struct graft_config *cfg, char *errmsg)
{
	const char *mode = server_mode(cfg);

	if (strcmp(mode, "READ_REPLICA") == 0) {
		struct catchup_replica_options o;

		return catchup_replica_options_from_config(cfg, &o, errmsg);
	}
	if (strcmp(mode, "CORE") == 0) {
		struct cluster_options o;

		return cluster_options_from_config(cfg, &o, errmsg);
	}
	return GRAFT_OK;
}

static void leader_seeded(struct security_req *req, int status)
{
	struct server *s = req->data;

	s->seeding = false;
	if (status == GRAFT_OK)
		graft_info("Created the initial user '%s' for the cluster "
			   "(its password must be changed at first login).",
			   SECURITY_INITIAL_USER);
	else
		graft_warn("cluster: cannot create the initial user '%s' "
			   "yet: %s; the next leader tries again",
			   SECURITY_INITIAL_USER, req->error.message);
}

/* A core leader that takes writes: the cluster's system database gets its
 * initial user once, from the first leader that finds it without one (its
 * barrier applied everything earlier leaders committed, so a seed one of
 * them committed is seen here). */
static void leader_seed(void *arg)
{
	struct server *s = arg;

	if (s->seeding || s->security == NULL)
		return;
	memset(&s->seed, 0, sizeof s->seed);
	s->seed.data = s;
	s->seeding = security_seed(s->security, &s->seed, leader_seeded) ==
		     GRAFT_OK;
}

/* dbms.mode=CORE: discovery and the Raft member, once the databases and
 * the engine are up (the member replicates their commits and registers
 * dbms.cluster.*). */
static int start_replica(struct server *s, char *errmsg)
{
	struct catchup_replica_options o;
	struct cluster_routing_options ro;
	int rv = catchup_replica_options_from_config(s->cfg, &o, errmsg);

	if (rv == GRAFT_OK)
		rv = cluster_routing_options_from_config(s->cfg, &ro, errmsg);
	if (rv != GRAFT_OK)
		return rv;
	snprintf(o.server_id, sizeof o.server_id, "%s", s->net.server_id);
	rv = catchup_replica_start(&s->loop, s->dbms, s->engine, &o,
				   &s->replica, errmsg);
	s->net.replica = s->replica;
	if (rv != GRAFT_OK) {
		free(ro.policies);
		return rv;
	}
	catchup_replica_set_routing(s->replica, &ro);
	cypher_engine_set_servers(s->engine, catchup_replica_servers,
				  s->replica);
	return GRAFT_OK;
}

static int start_cluster(struct server *s, char *errmsg)
{
	struct cluster_routing_options ro;
	struct cluster_options o;
	int rv;

	if (strcmp(server_mode(s->cfg), "READ_REPLICA") ==
	    0)
		return start_replica(s, errmsg);
	if (strcmp(server_mode(s->cfg), "CORE") != 0)
		return GRAFT_OK;
	rv = cluster_options_from_config(s->cfg, &o, errmsg);
	if (rv == GRAFT_OK)
		rv = cluster_routing_options_from_config(s->cfg, &ro, errmsg);
	if (rv != GRAFT_OK)
		return rv;
	memcpy(o.server_id, s->net.server_id, IDENTITY_LEN);
	o.server_id[IDENTITY_LEN] = '\0';
	rv = cluster_start(&s->loop, s->dbms, &o, &s->cluster, errmsg);
	if (rv != GRAFT_OK) {
		free(ro.policies);
		return rv;
	}
	s->net.cluster = s->cluster;
	cypher_engine_set_servers(s->engine, cluster_servers, s->cluster);
	cluster_on_writable(s->cluster, leader_seed, s);
	cluster_routing_set(s->cluster, &ro);
	rv = cluster_register_procedures(s->cluster, s->engine);
	if (rv != GRAFT_OK)
		return graft_errf(errmsg, rv, "cannot register the cluster "
				  "procedures: %s", graft_strerror(rv));
	return GRAFT_OK;
}

static void seed_cb(struct security_req *req, int status)
{
	*(int *)req->data = status;
}

/* The first start creates neo4j/neo4j (change required); the loop runs
 * until the user is durable, before any client can connect. A core leaves
 * it to the cluster's leader (leader_seed); a read replica gets the users
 * with the system database's stream. */
static int seed_users(struct server *s, char *errmsg)
{
	struct security_req req;
	int status = -1, rv;

	if (strcmp(server_mode(s->cfg), "SINGLE") != 0)
		return GRAFT_OK;
	memset(&req, 0, sizeof req);
	req.data = &status;
	rv = security_seed(s->security, &req, seed_cb);
	if (rv == GRAFT_EEXIST)
		return GRAFT_OK;
	while (rv == GRAFT_OK && status < 0)
		uv_run(&s->loop, UV_RUN_ONCE);
	if (rv == GRAFT_OK)
		rv = status;
	if (rv != GRAFT_OK)
		return graft_errf(errmsg, rv,
				  "cannot create the initial user '%s': %s",
				  SECURITY_INITIAL_USER, req.error.message);
	graft_info("Created the initial user '%s' (its password must be "
		   "changed at first login).",
		   SECURITY_INITIAL_USER);
	return GRAFT_OK;
}

/* dbms.memory.transaction.total.max; unset: 70% of the memory the process
 * may use (its cgroup's limit or the machine's), as Neo4j takes 70% of its
 * heap, so a query fails with MemoryPoolOutOfMemoryError before the kernel
 * kills the server. */
static uint64_t memory_total_max(const struct graft_config *cfg)
{
	uint64_t total = uv_get_total_memory();
	uint64_t limit = uv_get_constrained_memory();

	if (graft_config_is_set(cfg, "dbms.memory.transaction.total.max"))
		return graft_config_size(cfg,
					 "dbms.memory.transaction.total.max");
	if (limit != 0 && limit < total)
		total = limit;
	return total / 10 * 7;
}

/* The gate statements hold on worker threads, or NULL: they run on the
 * loop. A core member's Raft state machine applies entries behind the gate
 * (dbms_entry_submit); a read replica still applies its stream on the loop
 * without it, so its statements stay there. */
static struct graft_gate *statement_gate(struct server *s)
{
	if (strcmp(server_mode(s->cfg), "READ_REPLICA") == 0)
		return NULL;
	return &s->gate;
}

static int start_engine(struct server *s, char *errmsg)
{
	struct security_options so;
	struct cypher_engine_options eo;
	struct graft_address a;
	int rv;

	security_options_from_config(s->cfg, &so);
	rv = security_open(&s->loop, s->dbms, &so, &s->security, errmsg);
	if (rv != GRAFT_OK)
		return rv;
	rv = seed_users(s, errmsg);
	if (rv != GRAFT_OK)
		return rv;
	memset(&eo, 0, sizeof eo);
	eo.tx_timeout_ms = graft_config_duration_ms(s->cfg,
						    "db.transaction.timeout");
	eo.tx_memory_max = graft_config_size(s->cfg,
					     "db.memory.transaction.max");
	eo.db_memory_total_max = graft_config_size(
		s->cfg, "db.memory.transaction.total.max");
	eo.memory_total_max = memory_total_max(s->cfg);
	eo.max_transactions = (uint32_t)graft_config_int(
		s->cfg, "db.transaction.concurrent.maximum");
	graft_config_address(s->cfg, "server.bolt.advertised_address", &a);
	graft_address_format(eo.bolt_address, sizeof eo.bolt_address, a.host,
			     a.port);
	eo.gate = statement_gate(s);
	rv = cypher_engine_new(s->dbms, &eo, &s->engine);
	if (rv != GRAFT_OK)
		return graft_errf(errmsg, rv, "cannot start the Cypher engine: "
				  "%s", graft_strerror(rv));
	cypher_engine_set_security(s->engine, s->security);
	return GRAFT_OK;
}

/* NOOPs go out while a request waits, unless keep-alives are OFF. */
static uint64_t bolt_keepalive_ms(const struct graft_config *cfg)
{
	const char *when = graft_config_string(
		cfg, "server.bolt.connection_keep_alive_for_requests");

	if (strcmp(when, "OFF") == 0)
		return 0;
	return graft_config_duration_ms(cfg,
					"server.bolt.connection_keep_alive");
}

/* server.bolt.max_connections, or with 0 the open-file limit less what
 * the rest of the server needs: past it accept() would fail and nobody
 * could log in. */
static unsigned bolt_max_connections(const struct graft_config *cfg)
{
	int64_t set = graft_config_int(cfg, "server.bolt.max_connections");
	struct rlimit rl;
	rlim_t fds;

	if (set > 0)
		return set > UINT32_MAX ? UINT32_MAX : (unsigned)set;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return 0;
	fds = rl.rlim_cur;
	return fds > FD_RESERVE + BOLT_MIN_CONNECTIONS
		       ? (unsigned)(fds > UINT32_MAX ? UINT32_MAX
						     : fds - FD_RESERVE)
		       : BOLT_MIN_CONNECTIONS;
}

/* What the Bolt connector and the routing connector share. */
static void fill_bolt(struct server *s, struct bolt_server *b)
{
	b->env.loop = &s->loop;
	b->env.gate = statement_gate(s);
	b->env.pool = b->env.gate != NULL ? &s->pool : NULL;
	b->env.engine = s->engine;
	b->env.security = s->security;
	/* A member's routing tables come from the live topology. */
	if (s->cluster != NULL)
		b->env.router = (struct bolt_router){.table = cluster_route,
						     .data = s->cluster};
	else if (s->replica != NULL)
		b->env.router = (struct bolt_router){
			.table = catchup_replica_route, .data = s->replica};
	b->env.cfg.advertised = s->net.bolt_advertised;
	b->env.cfg.routing_ttl_s =
		graft_config_duration_ms(s->cfg, "dbms.routing_ttl") / 1000;
	b->env.cfg.bookmark_timeout_ms = graft_config_duration_ms(
		s->cfg, "db.transaction.bookmark_ready_timeout");
	b->env.cfg.max_message =
		graft_config_size(s->cfg, "server.bolt.max_message_size");
	b->env.cfg.out_high = BOLT_OUT_HIGH;
	b->handshake_timeout_ms = HANDSHAKE_TIMEOUT_MS;
	b->idle_timeout_ms = graft_config_duration_ms(
		s->cfg, "server.bolt.connection_idle_timeout");
	b->keepalive_ms = bolt_keepalive_ms(s->cfg);
	b->auth_timeout_ms = graft_config_duration_ms(
		s->cfg, "server.bolt.unauth_connection_timeout");
	b->unauth_max_message = graft_config_size(
		s->cfg, "server.bolt.unauth_max_inbound_bytes");
	b->max_connections = bolt_max_connections(s->cfg);
}

static int setup_bolt(struct server *s, char *errmsg)
{
	struct bolt_server *b = &s->bolt;
	int rv;

	fill_bolt(s, b);
	/* dbms.routing.default_router=SERVER: write transactions sent to a
	 * follower or a read replica go to the leader (bolt/forward.c), and a
	 * routing table
	 * names this member alone, so that neo4j:// drivers send it all. */
	if ((s->cluster != NULL || s->replica != NULL) &&
	    strcmp(graft_config_string(s->cfg, "dbms.routing.default_router"),
		   "SERVER") == 0) {
		b->env.cfg.server_routing = true;
		if (s->cluster != NULL)
			b->env.forward = (struct bolt_forwarder){
				.writer = cluster_route_writer,
				.data = s->cluster};
		else
			b->env.forward = (struct bolt_forwarder){
				.writer = catchup_replica_route_writer,
				.data = s->replica};
		b->env.router = (struct bolt_router){0};
	}
	rv = bolt_server_register_procedures(b);
	if (rv != GRAFT_OK)
		return graft_errf(errmsg, rv, "cannot register the routing "
				  "procedure: %s", graft_strerror(rv));
	s->net.bolt_srv = b;
	return GRAFT_OK;
}

/* "<what> enabled on <address>.", an IPv6 host in brackets. */
static void announce(const char *what, const struct graft_address *a)
{
	char text[GRAFT_ADDRESS_TEXT_MAX];

	graft_address_format(text, sizeof text, a->host, a->port);
	graft_info("%s enabled on %s.", what, text);
}

/* The server-side routing connector (dbms.routing.enabled) of a core:
 * the members that route a client's write transaction to the leader
 * forward it there. Only a core can lead, so only a core listens. */
static int start_routing(struct server *s, char *errmsg)
{
	struct graft_address a;
	int rv;

	if (s->cluster == NULL ||
	    !graft_config_bool(s->cfg, "dbms.routing.enabled"))
		return GRAFT_OK;
	fill_bolt(s, &s->routing);
	s->net.routing_srv = &s->routing;
	graft_config_address(s->cfg, "server.routing.listen_address", &a);
	rv = net_listen(&s->net, NET_ROUTING, "server.routing.listen_address",
			&a, errmsg);
	if (rv == GRAFT_OK)
		announce("Server-side routing connector", &a);
	return rv;
}

/* The backup port (src/backup/serve.h). */
static int start_backup(struct server *s, char *errmsg)
{
	struct graft_address a;
	int rv;

	if (!graft_config_bool(s->cfg, "server.backup.enabled"))
		return GRAFT_OK;
	graft_config_address(s->cfg, "server.backup.listen_address", &a);
	rv = backup_server_start(
		&s->loop, s->dbms,
		graft_config_path(s->cfg, "server.directories.data"),
		graft_config_path(s->cfg,
				  "server.directories.transaction.logs.root"),
		"server.backup.listen_address", &a, &s->backup, errmsg);
	if (rv == GRAFT_OK)
		announce("Backup server", &a);
	return rv;
}

/* What the replicas following this core reported (cluster_positions_fn):
 * the cluster's routing tables leave lagging ones out. */
static size_t subscriber_positions(void *data, struct cluster_position *out,
				   size_t max)
{
	struct catchup_subscriber subs[CATCHUP_MAX_SUBSCRIBERS];
	size_t n = catchup_server_subscribers(data, subs,
					      CATCHUP_MAX_SUBSCRIBERS);
	size_t k = 0;

	for (size_t i = 0; i < n && k < max; i++) {
		snprintf(out[k].server_id, sizeof out[k].server_id, "%.36s",
			 subs[i].server_id);
		snprintf(out[k].db, sizeof out[k].db, "%.63s", subs[i].db);
		out[k].applied = subs[i].applied;
		out[k++].age_ms = subs[i].age_ms;
	}
	return k;
}

/* The transaction port of a cluster member, core or replica
 * (src/catchup/catchup.h). */
static int start_catchup(struct server *s, char *errmsg)
{
	struct graft_address a;
	int rv;

	if (strcmp(server_mode(s->cfg), "SINGLE") == 0)
		return GRAFT_OK;
	graft_config_address(s->cfg, "server.cluster.listen_address", &a);
	rv = catchup_server_start(&s->loop, s->dbms, s->cluster,
				  graft_config_path(s->cfg,
						    "server.directories.data"),
				  "server.cluster.listen_address", &a,
				  &s->catchup, errmsg);
	if (rv != GRAFT_OK)
		return rv;
	s->net.catchup = s->catchup;
	/* A core behind a Raft snapshot copies stores over this port; the
	 * replicas' reports on it feed the routing tables. */
	if (s->cluster != NULL) {
		cluster_set_store_source(s->cluster,
					 &catchup_core_store_source);
		cluster_set_positions(s->cluster, subscriber_positions,
				      s->catchup);
	}
	catchup_server_hold_departed(
		s->catchup, graft_config_duration_ms(
				    s->cfg, "dbms.cluster.catchup.departed_hold"));
	catchup_server_batch_size(
		s->catchup,
		(uint64_t)graft_config_int(s->cfg,
					   "dbms.cluster.catchup.batch_size"));
	/* Backups are served on the transaction port too, as in Neo4j. */
	if (s->backup != NULL)
		catchup_server_handoff(s->catchup, BACKUP_PROTO,
				       backup_server_adopt, s->backup);
	return GRAFT_OK;
}

static void stop_backup(struct server *s)
{
	if (s->cluster != NULL) /* it no longer asks the closing server */
		cluster_set_positions(s->cluster, NULL, NULL);
	if (s->catchup != NULL)
		catchup_server_close(s->catchup);
	s->catchup = NULL;
	if (s->backup != NULL)
		backup_server_close(s->backup);
	s->backup = NULL;
}

static int start_listeners(struct server *s, char *errmsg)
{
	struct graft_address a;
	int rv;

	s->net.loop = &s->loop;
	s->net.dbms = s->dbms;
	s->net.handshake_timeout_ms = HANDSHAKE_TIMEOUT_MS;
	s->net.security = s->security;
	s->net.cluster_status_auth = graft_config_bool(
		s->cfg, "dbms.security.cluster_status_auth_enabled");
	graft_config_address(s->cfg, "server.bolt.advertised_address", &a);
	graft_address_format(s->net.bolt_advertised,
			     sizeof s->net.bolt_advertised, a.host, a.port);
	if (graft_config_bool(s->cfg, "server.bolt.enabled")) {
		rv = setup_bolt(s, errmsg);
		if (rv != GRAFT_OK)
			return rv;
		graft_config_address(s->cfg, "server.bolt.listen_address", &a);
		rv = net_listen(&s->net, NET_BOLT, "server.bolt.listen_address",
				&a, errmsg);
		if (rv != GRAFT_OK)
			return rv;
		announce("Bolt", &a);
	}
	rv = start_routing(s, errmsg);
	if (rv == GRAFT_OK)
		rv = start_backup(s, errmsg);
	if (rv == GRAFT_OK)
		rv = start_catchup(s, errmsg);
	if (rv != GRAFT_OK)
		return rv;
	if (!graft_config_bool(s->cfg, "server.http.enabled"))
		return GRAFT_OK;
	graft_config_address(s->cfg, "server.http.listen_address", &a);
	rv = net_listen(&s->net, NET_HTTP, "server.http.listen_address", &a,
			errmsg);
	if (rv == GRAFT_OK)
		announce("HTTP", &a);
	return rv;
}

/* Once every session and database has closed, nothing holds the gate or
 * has work in the pool. */
static void stop_threads(struct server *s)
{
	if (!s->threads_started)
		return;
	s->threads_started = false;
	graft_pool_close(&s->pool, NULL, NULL);
	graft_gate_close(&s->gate, NULL);
}

/* libuv's thread pool runs graft's blocking work: the transaction logs'
 * fsyncs, checkpoint writes, password hashing, backup readers, big
 * transactions validated and applied off the loop, their frees, and
 * libraft's file work. libuv's default of 4 threads lets four logins
 * hashing passwords hold every thread while a commit's fsync waits behind
 * them. Its size: one thread per core for the work that computes, plus 4
 * for work that waits on the disk, at least 8. libuv reads it once, when
 * the pool first starts, so it is set before the loop exists. */
static unsigned uv_pool_size(const struct graft_config *cfg)
{
	int64_t n = graft_config_int(cfg, "server.threads.blocking_pool_size");
	const char *env = getenv("UV_THREADPOOL_SIZE");
	char v[16];

	if (n == 0 && env != NULL && atoi(env) > 0) { /* the operator's */
		n = atoi(env);
	} else if (n == 0) {
		n = graft_pool_size(0) + 4;
		n = n < 8 ? 8 : n;
	}
	n = n > 1024 ? 1024 : n; /* libuv's limit */
	snprintf(v, sizeof v, "%u", (unsigned)n);
	setenv("UV_THREADPOOL_SIZE", v, 1);
	return (unsigned)n;
}

static int start_threads(struct server *s, char *errmsg)
{
	unsigned n = graft_pool_size(
		(unsigned)graft_config_int(s->cfg, "server.threads.worker_count"));
	int rv = graft_gate_init(&s->gate, &s->loop);

	if (rv != GRAFT_OK)
		return graft_errf(errmsg, rv, "cannot start the statement gate");
	rv = graft_pool_init(&s->pool, &s->loop, n, errmsg);
	if (rv != GRAFT_OK) {
		graft_gate_close(&s->gate, NULL);
		return rv;
	}
	s->threads_started = true;
	graft_info("%u worker threads execute statements.", n);
	return GRAFT_OK;
}

static void loop_closed_cb(void *arg)
{
	struct server *s = arg;

	if (s->cluster != NULL)
		cluster_free(s->cluster);
	s->cluster = s->net.cluster = NULL;
	if (s->replica != NULL)
		catchup_replica_free(s->replica);
	s->replica = s->net.replica = NULL;
	stop_threads(s);
	uv_close((uv_handle_t *)&s->sigterm, NULL);
	uv_close((uv_handle_t *)&s->sigint, NULL);
}

static void security_closed_cb(void *arg)
{
	struct server *s = arg;
	struct dbms *m = s->dbms;

	s->dbms = NULL;
	if (m != NULL)
		dbms_close(m, s->stopping_run ? loop_closed_cb : NULL, s);
	else if (s->stopping_run)
		loop_closed_cb(s);
}

/* The engine and the user store go before the databases they use; the
 * store waits for a login's hash or a user change still in the pool. */
static void close_engine(struct server *s)
{
	struct security *sec = s->security;

	if (s->engine != NULL)
		cypher_engine_free(s->engine);
	s->engine = NULL;
	s->security = NULL;
	security_close(sec, security_closed_cb, s);
}

static void net_closed_cb(struct net *net)
{
	struct server *s = container_of(net, struct server, net);

	s->stopping_run = true;
	close_engine(s);
}

static void cluster_closed_cb(void *arg)
{
	struct server *s = arg;

	stop_backup(s);
	net_close(&s->net, net_closed_cb);
}

/* A core member leaves the cluster first (a leader hands over), so that
 * clients still connected are told NotALeader rather than cut off. New
 * Bolt connections are refused from the start: one accepted now would be
 * cut off in its login, which drivers do not retry (a protocol error),
 * while a refused connect sends them to another member. */
static void server_stop(struct server *s)
{
	if (s->stopping)
		return;
	s->stopping = true;
	graft_info("Stopping...");
	pause_monitor_stop(&s->pauses);
	net_stop_accepting(&s->net);
	if (s->cluster != NULL)
		cluster_close(s->cluster, cluster_closed_cb, s);
	else if (s->replica != NULL)
		catchup_replica_close(s->replica, cluster_closed_cb, s);
	else
		cluster_closed_cb(s);
}

static void signal_cb(uv_signal_t *h, int signum)
{
	struct server *s = h->data;

	graft_info("Received %s.", signum == SIGTERM ? "SIGTERM" : "SIGINT");
	server_stop(s);
}

static void detach_stdio(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	graft_log_set_stderr(false);
	if (fd < 0)
		return;
	dup2(fd, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO); /* closes the pipe `graft start` waits on */
	close(fd);
}

/* A failed start, once its cluster member or replica is down. */
static void failed_start_closed(void *arg)
{
	struct server *s = arg;

	stop_backup(s);
	net_close(&s->net, NULL);
	close_engine(s);
}

int server_start(struct server *s, struct graft_config *cfg, bool daemon,
		 char *errmsg)
{
	struct dbms_options o;
	const char *data = graft_config_path(cfg, "server.directories.data");
	int rv;

	memset(s, 0, sizeof *s);
	s->cfg = cfg;
	s->daemon = daemon;
	s->lock_fd = -1;
	signal(SIGPIPE, SIG_IGN);
	rv = check_mode(cfg, errmsg);
	if (rv != GRAFT_OK)
		return rv;
	rv = graft_mkdir_p(data, errmsg);
	if (rv != GRAFT_OK)
		return rv;
	rv = lock_data_dir(s, data, errmsg);
	if (rv != GRAFT_OK)
		return rv;
	rv = open_logs(cfg, errmsg);
	if (rv != GRAFT_OK)
		goto err_after_lock;
	graft_info("Starting graft %s (%s) with data in %s", PACKAGE_VERSION,
		   server_mode(cfg), data);
	graft_config_warn_inert(cfg);
	graft_info("%u threads in libuv's pool run blocking work "
		   "(server.threads.blocking_pool_size).", uv_pool_size(cfg));
	uv_loop_init(&s->loop);
	rv = start_threads(s, errmsg);
	if (rv != GRAFT_OK)
		goto err_after_dbms;
	dbms_options_from_config(cfg, &o);
	o.db.gate = &s->gate;
	/* A core's Raft log is the durable record: no second fsync. A read
	 * replica's log copies its upstream's, which it asks again for what a
	 * crash cut: no fsync to wait for before it serves the stream on. */
	o.db.derived_log = strcmp(server_mode(cfg), "CORE") == 0 ||
			   strcmp(server_mode(cfg), "READ_REPLICA") == 0;
	rv = dbms_open(&s->loop, &o, &s->dbms, errmsg);
	if (rv != GRAFT_OK)
		goto err_after_dbms;
	rv = graft_identity_load(data, "server_id", s->net.server_id, errmsg);
	if (rv != GRAFT_OK)
		goto err_after_dbms;
	graft_info("Server id %s.", s->net.server_id);
	rv = start_engine(s, errmsg);
	if (rv != GRAFT_OK)
		goto err_after_dbms;
	rv = start_cluster(s, errmsg);
	if (rv != GRAFT_OK)
		goto err_after_dbms;
	rv = start_listeners(s, errmsg);
	if (rv != GRAFT_OK)
		goto err_after_dbms;
	rv = write_pid_file(s, graft_config_path(cfg, "server.directories.run"),
			    errmsg);
	if (rv != GRAFT_OK)
		goto err_after_dbms;
	uv_signal_init(&s->loop, &s->sigterm);
	uv_signal_init(&s->loop, &s->sigint);
	s->sigterm.data = s->sigint.data = s;
	uv_signal_start(&s->sigterm, signal_cb, SIGTERM);
	uv_signal_start(&s->sigint, signal_cb, SIGINT);
	pause_monitor_start(
		&s->pauses, &s->loop,
		graft_config_duration_ms(
			cfg, "server.vm_pause_monitor.measurement_duration"),
		graft_config_duration_ms(
			cfg, "server.vm_pause_monitor.stall_alert_threshold"));
	s->net.pauses = &s->pauses;
	graft_info("Started.");
	if (daemon)
		detach_stdio();
	return GRAFT_OK;

err_after_dbms:
	/* Close what was opened (a failed dbms_open may still be closing the
	 * databases it had opened), the databases after the cluster, as at a
	 * stop, then let the loop finish those closes. */
	s->stopping = true;
	if (s->cluster != NULL)
		cluster_close(s->cluster, failed_start_closed, s);
	else if (s->replica != NULL)
		catchup_replica_close(s->replica, failed_start_closed, s);
	else
		failed_start_closed(s);
	uv_run(&s->loop, UV_RUN_DEFAULT);
	if (s->cluster != NULL)
		cluster_free(s->cluster);
	if (s->replica != NULL)
		catchup_replica_free(s->replica);
	stop_threads(s);
	uv_run(&s->loop, UV_RUN_DEFAULT);
	uv_loop_close(&s->loop);
	graft_log_close();
err_after_lock:
	unlock_data_dir(s);
	return rv;
}

int server_run(struct server *s)
{
	uv_run(&s->loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&s->loop) != 0)
		graft_warn("event loop closed with handles still open");
	if (s->pid_path[0] != '\0')
		unlink(s->pid_path);
	graft_info("Stopped.");
	graft_log_close();
	unlock_data_dir(s);
	return s->exit_code;
}
