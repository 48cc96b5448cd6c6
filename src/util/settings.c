/* The table of every setting graft knows: Neo4j 5.x names first, with the
 * 3.x/4.x spellings the operations guides still use as aliases. Defaults are
 * Neo4j's unless the doc line says otherwise. Kept grouped by prefix: the
 * template and docs/configuration.md follow this order. */
#include "config.h"

#include <string.h>

#define KIB 1024LL
#define MIB (1024LL * KIB)
#define GIB (1024LL * MIB)
#define SEC 1000LL
#define MINUTE (60 * SEC)
#define DAY (24 * 60 * MINUTE)

#define STR(n, al, d, doc_)                                                    \
	{ .name = n, .aliases = al, .type = GRAFT_CONFIG_STRING, .def = d,     \
	  .doc = doc_ }
#define PATH(n, al, d, b, doc_)                                                \
	{ .name = n, .aliases = al, .type = GRAFT_CONFIG_PATH, .def = d,       \
	  .base = b, .doc = doc_ }
#define BOOL(n, al, d, doc_)                                                   \
	{ .name = n, .aliases = al, .type = GRAFT_CONFIG_BOOL, .def = d,       \
	  .doc = doc_ }
#define INT(n, al, d, lo, hi, doc_)                                            \
	{ .name = n, .aliases = al, .type = GRAFT_CONFIG_INT, .def = d,        \
	  .min = lo, .max = hi, .doc = doc_ }
#define SIZE(n, al, d, lo, hi, doc_)                                           \
	{ .name = n, .aliases = al, .type = GRAFT_CONFIG_SIZE, .def = d,       \
	  .min = lo, .max = hi, .doc = doc_ }
#define DUR(n, al, d, lo, hi, doc_)                                            \
	{ .name = n, .aliases = al, .type = GRAFT_CONFIG_DURATION, .def = d,   \
	  .min = lo, .max = hi, .doc = doc_ }
#define RANGE(n, al, d, doc_)                                                  \
	{ .name = n, .aliases = al, .type = GRAFT_CONFIG_DURATION_RANGE,       \
	  .def = d, .doc = doc_ }
#define ADDR(n, al, d, doc_)                                                   \
	{ .name = n, .aliases = al, .type = GRAFT_CONFIG_ADDRESS, .def = d,    \
	  .doc = doc_ }
#define ADDRS(n, al, p, doc_)                                                  \
	{ .name = n, .aliases = al, .type = GRAFT_CONFIG_ADDRESS_LIST,         \
	  .def = "", .port = p, .doc = doc_ }
#define HOST(n, al, d, doc_)                                                   \
	{ .name = n, .aliases = al, .type = GRAFT_CONFIG_HOST, .def = d,       \
	  .doc = doc_ }
#define ENUM(n, al, d, allowed_, doc_)                                         \
	{ .name = n, .aliases = al, .type = GRAFT_CONFIG_ENUM, .def = d,       \
	  .allowed = allowed_, .doc = doc_ }
#define RETAIN(n, al, d, doc_)                                                 \
	{ .name = n, .aliases = al, .type = GRAFT_CONFIG_RETENTION, .def = d,  \
	  .doc = doc_ }

/* The SSL framework's suffixes, the same for every scope but client_auth. */
#define SSL_POLICY(scope, client_auth_default)                                 \
	BOOL("dbms.ssl.policy." scope ".enabled", NULL, "false",               \
	     "Whether the " scope " SSL policy is in force."),                 \
	PATH("dbms.ssl.policy." scope ".base_directory", NULL,                 \
	     "certificates/" scope, NULL,                                      \
	     "Directory of the " scope " policy's keys and certificates."),    \
	PATH("dbms.ssl.policy." scope ".private_key", NULL, "private.key",     \
	     "dbms.ssl.policy." scope ".base_directory",                       \
	     "Private key of the " scope " policy (PEM)."),                    \
	STR("dbms.ssl.policy." scope ".private_key_password", NULL, NULL,      \
	    "Passphrase of the " scope " policy's private key, if it has one."), \
	PATH("dbms.ssl.policy." scope ".public_certificate", NULL,             \
	     "public.crt", "dbms.ssl.policy." scope ".base_directory",         \
	     "Certificate chain of the " scope " policy (PEM)."),              \
	PATH("dbms.ssl.policy." scope ".trusted_dir", NULL, "trusted",         \
	     "dbms.ssl.policy." scope ".base_directory",                       \
	     "Directory of certificates the " scope " policy trusts."),        \
	PATH("dbms.ssl.policy." scope ".revoked_dir", NULL, "revoked",         \
	     "dbms.ssl.policy." scope ".base_directory",                       \
	     "Directory of certificate revocation lists for the " scope        \
	     " policy."),                                                      \
	ENUM("dbms.ssl.policy." scope ".client_auth", NULL,                    \
	     client_auth_default, "NONE|OPTIONAL|REQUIRE",                     \
	     "Whether " scope " clients must present a trusted certificate."), \
	STR("dbms.ssl.policy." scope ".tls_versions", NULL,                    \
	    "TLSv1.2,TLSv1.3",                                                 \
	    "Comma-separated TLS protocol versions the " scope                 \
	    " policy allows."),                                                \
	STR("dbms.ssl.policy." scope ".ciphers", NULL, NULL,                   \
	    "Comma-separated cipher suites (default: OpenSSL's)."),            \
	BOOL("dbms.ssl.policy." scope ".verify_hostname", NULL, "false",       \
	     "Whether clients of the " scope                                   \
	     " policy check the peer's host name."),                           \
	BOOL("dbms.ssl.policy." scope ".trust_all", NULL, "false",             \
	     "Trust every certificate (testing only).")

static const struct graft_setting settings[] = {
	/* server.directories */
	PATH("server.directories.neo4j_home", "dbms.directories.neo4j_home",
	     GRAFT_PREFIX, NULL,
	     "Root that relative paths resolve against (default: $GRAFT_HOME, "
	     "else the install prefix)."),
	PATH("server.directories.data", "dbms.directories.data", "data", NULL,
	     "Databases, their checkpoints and the server's identity."),
	PATH("server.directories.transaction.logs.root",
	     "dbms.directories.transaction.logs.root dbms.directories.tx_log",
	     "transactions", "server.directories.data",
	     "Root of the transaction logs, one directory per database "
	     "(relative to the data directory)."),
	PATH("server.directories.cluster_state",
	     "dbms.directories.cluster_state causal_clustering.cluster_state_directory",
	     "cluster-state", "server.directories.data",
	     "Raft log, snapshots and membership state (relative to the data "
	     "directory)."),
	PATH("server.directories.dumps.root", "dbms.directories.dumps.root",
	     "dumps", "server.directories.data",
	     "Default location of database dumps (relative to the data "
	     "directory)."),
	PATH("server.directories.logs", "dbms.directories.logs", "logs", NULL,
	     "Server log: graft.log (graft writes no debug.log or query.log yet)."),
	PATH("server.directories.run", "dbms.directories.run", "run", NULL,
	     "Pid file of the running server."),
	PATH("server.directories.certificates", "dbms.directories.certificates",
	     "certificates", NULL, "Root of the SSL policies' directories."),
	PATH("server.directories.metrics",
	     "dbms.directories.metrics metrics.csv.path", "metrics", NULL,
	     "Where CSV metrics are written."),
	PATH("server.directories.import", "dbms.directories.import", NULL, NULL,
	     "Root of files LOAD CSV may read (unset: no restriction)."),
	PATH("server.directories.plugins", "dbms.directories.plugins",
	     "plugins", NULL, "Plugin directory (accepted for neo4j.conf "
	     "compatibility; graft loads no plugins)."),

	/* server: default addresses */
	HOST("server.default_listen_address",
	     "dbms.default_listen_address dbms.connectors.default_listen_address",
	     "localhost",
	     "Host every listen address without one binds to (0.0.0.0: all "
	     "interfaces)."),
	HOST("server.default_advertised_address",
	     "dbms.default_advertised_address dbms.connectors.default_advertised_address",
	     "localhost",
	     "Host every advertised address without one tells clients and "
	     "peers."),

	/* server.bolt */
	BOOL("server.bolt.enabled", "dbms.connector.bolt.enabled", "true",
	     "Whether the Bolt connector is on."),
	ADDR("server.bolt.listen_address",
	     "dbms.connector.bolt.listen_address dbms.connector.bolt.address",
	     ":7687", "Address Bolt listens on."),
	ADDR("server.bolt.advertised_address",
	     "dbms.connector.bolt.advertised_address", ":7687",
	     "Bolt address put in routing tables (port: the listen port unless "
	     "given)."),
	ENUM("server.bolt.tls_level", "dbms.connector.bolt.tls_level",
	     "DISABLED", "DISABLED|OPTIONAL|REQUIRED",
	     "Encryption of Bolt connections (uses dbms.ssl.policy.bolt.*)."),
	BOOL("server.bolt.ocsp_stapling_enabled",
	     "dbms.connector.bolt.ocsp_stapling_enabled", "false",
	     "Staple OCSP responses to the Bolt certificate."),
	DUR("server.bolt.connection_keep_alive",
	    "dbms.connector.bolt.connection_keep_alive", "1m", 1, 0,
	    "Idle time before a NOOP is sent to a client waiting for a "
	    "running query."),
	ENUM("server.bolt.connection_keep_alive_for_requests",
	     "dbms.connector.bolt.connection_keep_alive_for_requests", "ALL",
	     "ALL|STREAMING|OFF",
	     "Which requests get keep-alive NOOPs: all, only streaming "
	     "results, or none."),
	INT("server.bolt.connection_keep_alive_probes",
	    "dbms.connector.bolt.connection_keep_alive_probes", "2", 1, 0,
	    "Missed keep-alives after which a connection counts as dead."),
	DUR("server.bolt.connection_keep_alive_streaming_scheduling_interval",
	    "dbms.connector.bolt.connection_keep_alive_streaming_scheduling_interval",
	    "1m", 0, 0, "How often keep-alive NOOPs are scheduled."),
	DUR("server.bolt.thread_pool_keep_alive",
	    "dbms.connector.bolt.thread_pool_keep_alive", "5m", 0, 0,
	    "Idle time after which a Bolt worker thread above the minimum "
	    "stops."),
	INT("server.bolt.thread_pool_min_size",
	    "dbms.connector.bolt.thread_pool_min_size", "5", 1, 0,
	    "Bolt worker threads kept alive."),
	INT("server.bolt.thread_pool_max_size",
	    "dbms.connector.bolt.thread_pool_max_size", "400", 1, 0,
	    "Upper bound of Bolt worker threads."),
	DUR("server.bolt.connection_idle_timeout", NULL, "30m", 0, 0,
	    "Time without a request after which a Bolt connection is closed "
	    "(0: never; graft-specific)."),
	SIZE("server.bolt.max_message_size", NULL, "64M", 1 * KIB, 0,
	     "Largest Bolt request accepted; a larger one gets a FAILURE "
	     "(graft-specific)."),
	DUR("server.bolt.unauth_connection_timeout",
	    "internal.dbms.connector.bolt.unauth_connection_timeout "
	    "dbms.connector.bolt.unsupported_unauth_connection_timeout",
	    "30s", 0, 0,
	    "Time a Bolt connection has to log in, from its start or its "
	    "LOGOFF, before it is closed (0: no limit; Neo4j's internal "
	    "setting)."),
	SIZE("server.bolt.unauth_max_inbound_bytes",
	     "internal.dbms.connector.bolt.unauth_max_inbound_bytes "
	     "dbms.connector.bolt.unsupported_unauth_max_inbound_bytes",
	     "8K", 256, 0,
	     "Largest Bolt request before login (HELLO, LOGON); a larger one "
	     "closes the connection (Neo4j's internal setting)."),
	INT("server.bolt.max_connections", NULL, "0", 0, 0,
	    "Open Bolt connections at most; past it the oldest one not "
	    "logged in is closed, or the new one if all are logged in (0: "
	    "the open-file limit less 128; graft-specific)."),

	/* server.threads */
	INT("server.threads.worker_count", NULL, "0", 0, 4096,
	    "Worker threads that execute statements, off the event loop "
	    "(0: one per core)."),
	INT("server.threads.blocking_pool_size", NULL, "0", 0, 1024,
	    "Threads of libuv's pool, which runs the blocking work: log "
	    "fsyncs, checkpoint writes, password hashing, backup reads, "
	    "big transactions validated and applied off the event loop, "
	    "libraft's file work (0: UV_THREADPOOL_SIZE from the "
	    "environment if set, else one per core plus 4, at least 8; "
	    "graft-specific)."),

	/* server.vm_pause_monitor */
	DUR("server.vm_pause_monitor.measurement_duration",
	    "internal.vm_pause_monitor.measurement_duration "
	    "unsupported.vm_pause_monitor.measurement_duration",
	    "100ms", 1, 0,
	    "How often the event loop checks that it was not held (Neo4j's "
	    "internal setting)."),
	DUR("server.vm_pause_monitor.stall_alert_threshold",
	    "internal.vm_pause_monitor.stall_alert_threshold "
	    "unsupported.vm_pause_monitor.stall_alert_threshold",
	    "100ms", 1, 0,
	    "A check this late is logged as a pause (WARN) and counted in "
	    "the status endpoint (Neo4j's internal setting)."),

	/* server.http, server.https */
	BOOL("server.http.enabled", "dbms.connector.http.enabled", "true",
	     "Whether the HTTP connector is on."),
	ADDR("server.http.listen_address",
	     "dbms.connector.http.listen_address dbms.connector.http.address",
	     ":7474", "Address HTTP listens on."),
	ADDR("server.http.advertised_address",
	     "dbms.connector.http.advertised_address", ":7474",
	     "HTTP address told to clients (port: the listen port unless "
	     "given)."),
	DUR("server.http.transaction_idle_timeout",
	    "dbms.rest.transaction.idle_timeout", "30s", 1, 0,
	    "Idle time after which an open HTTP transaction is rolled back."),
	BOOL("server.https.enabled", "dbms.connector.https.enabled", "false",
	     "Whether the HTTPS connector is on (uses dbms.ssl.policy.https.*)."),
	ADDR("server.https.listen_address",
	     "dbms.connector.https.listen_address dbms.connector.https.address",
	     ":7473", "Address HTTPS listens on."),
	ADDR("server.https.advertised_address",
	     "dbms.connector.https.advertised_address", ":7473",
	     "HTTPS address told to clients (port: the listen port unless "
	     "given)."),

	/* server.backup */
	BOOL("server.backup.enabled", "dbms.backup.enabled", "true",
	     "Whether the online backup server is on."),
	ADDR("server.backup.listen_address",
	     "dbms.backup.listen_address dbms.backup.address", "127.0.0.1:6362",
	     "Address the backup server listens on (loopback only by "
	     "default)."),
	DUR("server.backup.store_copy_max_retry_time_per_request",
	    "causal_clustering.store_copy_max_retry_time_per_request", "20m", 1,
	    0, "How long a backup retries one failing store-copy request."),

	/* server.cluster, server.discovery, server.routing */
	ADDR("server.cluster.listen_address",
	     "causal_clustering.transaction_listen_address", ":6000",
	     "Catch-up and transaction-shipping address (also serves "
	     "backups)."),
	ADDR("server.cluster.advertised_address",
	     "causal_clustering.transaction_advertised_address", ":6000",
	     "Catch-up address told to other members."),
	ADDR("server.cluster.raft.listen_address",
	     "causal_clustering.raft_listen_address", ":7000",
	     "Address Raft listens on."),
	ADDR("server.cluster.raft.advertised_address",
	     "causal_clustering.raft_advertised_address", ":7000",
	     "Raft address told to other members."),
	ENUM("server.cluster.system_database_mode", NULL, "PRIMARY",
	     "PRIMARY|SECONDARY",
	     "Whether this server hosts the system database as a primary or a "
	     "secondary."),
	STR("server.cluster.catchup.upstream_strategy",
	    "causal_clustering.upstream_selection_strategy", NULL,
	    "Comma-separated upstream selection strategies a secondary tries "
	    "in order."),
	STR("server.cluster.catchup.user_defined_upstream_strategy",
	    "causal_clustering.user_defined_upstream_strategy", NULL,
	    "Rules of the user-defined upstream strategy, e.g. "
	    "'tags(north); all()'."),
	ADDR("server.discovery.listen_address",
	     "causal_clustering.discovery_listen_address", ":5000",
	     "Address cluster discovery listens on."),
	ADDR("server.discovery.advertised_address",
	     "causal_clustering.discovery_advertised_address", ":5000",
	     "Discovery address told to other members."),
	ADDR("server.routing.listen_address", "dbms.routing.listen_address",
	     ":7688", "Address of the server-side routing connector."),
	ADDR("server.routing.advertised_address",
	     "dbms.routing.advertised_address", ":7688",
	     "Server-side routing address told to other members."),

	/* server.metrics */
	BOOL("server.metrics.enabled", "metrics.enabled", "true",
	     "Whether metrics are collected."),
	STR("server.metrics.prefix", "metrics.prefix", "neo4j",
	    "Prefix of every metric name."),
	STR("server.metrics.filter", NULL, "*",
	    "Comma-separated globs of the metrics to publish (graft default: "
	    "all)."),
	BOOL("server.metrics.prometheus.enabled",
	     "metrics.prometheus.enabled dbms.prometheus.enabled", "false",
	     "Whether the Prometheus endpoint is served."),
	ADDR("server.metrics.prometheus.endpoint",
	     "metrics.prometheus.endpoint dbms.prometheus.endpoint",
	     "localhost:2004",
	     "Address of the Prometheus endpoint (keep it off public "
	     "networks)."),
	BOOL("server.metrics.csv.enabled", "metrics.csv.enabled", "false",
	     "Whether metrics are written as CSV to server.directories.metrics "
	     "(graft default: off)."),
	DUR("server.metrics.csv.interval", "metrics.csv.interval", "30s", 1, 0,
	    "How often CSV metrics are written."),

	/* server: other */
	BOOL("server.config.strict_validation.enabled",
	     "dbms.config.strict_validation", "true",
	     "Refuse to start on unknown settings (false: warn and go on)."),
	BOOL("server.panic.shutdown_on_panic", NULL, "false",
	     "Stop the server when a database panics (default: the database "
	     "stops, the server stays)."),
	SIZE("server.memory.heap.initial_size", "dbms.memory.heap.initial_size",
	     NULL, 0, 0, "JVM heap size (accepted for neo4j.conf compatibility; "
	     "graft has no JVM)."),
	SIZE("server.memory.heap.max_size", "dbms.memory.heap.max_size", NULL, 0,
	     0, "JVM heap limit (accepted for neo4j.conf compatibility; graft "
	     "has no JVM)."),
	SIZE("server.memory.pagecache.size", "dbms.memory.pagecache.size", NULL,
	     0, 0, "Page cache size (accepted for neo4j.conf compatibility; "
	     "graft keeps graphs in memory)."),
	STR("server.jvm.additional", "dbms.jvm.additional", NULL,
	    "JVM option (accepted for neo4j.conf compatibility; graft has no "
	    "JVM)."),
	STR("server.logs.gc.options", "dbms.logs.gc.options", NULL,
	    "JVM GC logging options (accepted for neo4j.conf compatibility; "
	    "graft has no JVM)."),

	/* initial */
	STR("initial.dbms.default_database",
	    "dbms.default_database dbms.active_database", "neo4j",
	    "Database created on first start and used when a client names "
	    "none."),
	INT("initial.dbms.default_primaries_count", NULL, "1", 1, 11,
	    "Primaries of a new database when its topology is not given."),
	INT("initial.dbms.default_secondaries_count", NULL, "0", 0, 20,
	    "Secondaries of a new database when its topology is not given."),
	ENUM("initial.server.mode_constraint", NULL, "NONE",
	     "NONE|PRIMARY|SECONDARY",
	     "Which allocations this server accepts when first enabled."),
	STR("initial.server.tags", "server.groups causal_clustering.server_groups",
	    NULL,
	    "Comma-separated tags of this server, used by routing and "
	    "upstream policies."),

	/* dbms */
	ENUM("dbms.mode", NULL, "SINGLE", "SINGLE|CORE|READ_REPLICA",
	     "Role of this server: SINGLE (no cluster), CORE (Raft voter; "
	     "5.x primary) or READ_REPLICA (5.x secondary)."),
	INT("dbms.max_databases", NULL, "100", 2, 0,
	    "Most databases, system included, this DBMS may hold."),
	DUR("dbms.routing_ttl", "causal_clustering.cluster_routing_ttl", "5m",
	    SEC, 0, "How long clients may cache a routing table."),
	BOOL("dbms.security.auth_enabled", NULL, "true",
	     "Whether clients must authenticate."),
	INT("dbms.security.auth_max_failed_attempts", NULL, "3", 0, 0,
	    "Failed logins after which a user is locked out for "
	    "auth_lock_time (0: never)."),
	DUR("dbms.security.auth_lock_time", NULL, "5s", 0, 0,
	    "How long a user is locked out after too many failed logins."),
	BOOL("dbms.security.cluster_status_auth_enabled", NULL, "true",
	     "Whether the HTTP cluster status endpoints require "
	     "authentication."),
	SIZE("dbms.memory.transaction.total.max",
	     "dbms.memory.transaction.global_max_size", NULL, 0, 0,
	     "Memory all transactions together may use (unset: 70% of the "
	     "machine's memory or its cgroup limit; 0: unlimited)."),

	/* dbms.routing */
	BOOL("dbms.routing.enabled", NULL, "true",
	     "Whether the server-side routing connector is on."),
	ENUM("dbms.routing.default_router", NULL, "CLIENT", "CLIENT|SERVER",
	     "Who routes neo4j:// requests by default: the driver or the "
	     "server."),
	BOOL("dbms.routing.reads_on_primaries_enabled",
	     "causal_clustering.cluster_allow_reads_on_followers", "true",
	     "Whether followers appear among the readers of a routing table."),
	BOOL("dbms.routing.reads_on_writers_enabled",
	     "causal_clustering.cluster_allow_reads_on_leader", "false",
	     "Whether the leader appears among the readers when others can "
	     "read."),
	DUR("dbms.routing.reads.max_replication_lag", NULL, "10s", 0, 0,
	    "A follower or read replica behind the newest transaction for "
	    "longer than this leaves the readers of routing tables until it "
	    "catches up (0: never)."),
	BOOL("dbms.routing.load_balancing.shuffle_enabled",
	     "causal_clustering.load_balancing.shuffle", "true",
	     "Shuffle the order of addresses in routing tables."),
	STR("dbms.routing.load_balancing.plugin",
	    "causal_clustering.load_balancing.plugin", "server_policies",
	    "Load-balancing plugin for routing tables (server_policies)."),
	STR("dbms.routing.load_balancing.config.server_policies.",
	    "causal_clustering.load_balancing.config.server_policies.", NULL,
	    "A load-balancing policy by name, in Neo4j's rule language "
	    "(tags(a)->min(2); all();), chosen by a driver's routing "
	    "context policy=<name>; 'default' applies without one."),

	/* dbms.cluster */
	ADDRS("dbms.cluster.discovery.endpoints",
	      "causal_clustering.initial_discovery_members", 5000,
	      "Comma-separated discovery addresses of the core members "
	      "(host:port; port 5000 if left out)."),
	ENUM("dbms.cluster.discovery.resolver_type",
	     "dbms.cluster.discovery.type causal_clustering.discovery_type",
	     "LIST", "LIST|DNS|SRV|K8S",
	     "How the endpoints are resolved into members."),
	INT("dbms.cluster.minimum_initial_system_primaries_count",
	    "causal_clustering.minimum_core_cluster_size_at_formation "
	    "causal_clustering.expected_core_cluster_size",
	    "3", 1, 0, "Core members that must find each other before the "
	    "cluster forms."),
	RANGE("dbms.cluster.raft.leader_failure_detection_window",
	      "causal_clustering.leader_failure_detection_window "
	      "causal_clustering.leader_election_timeout",
	      "300ms-600ms", "Randomised window after which a silent leader is "
	      "presumed gone and an election starts (graft default: "
	      "300ms-600ms for failover under a second; Raft draws each "
	      "timeout between the lower bound and twice it)."),
	DUR("dbms.cluster.raft.heartbeat_interval", NULL, "50ms", 1, 0,
	    "How often the leader sends heartbeats; at most a sixth of the "
	    "failure detection window's lower bound keeps failover fast "
	    "(graft-specific)."),
	RANGE("dbms.cluster.raft.election_failure_detection_window",
	      "causal_clustering.election_failure_detection_window", "3s-6s",
	      "Randomised window after which a failed election is retried."),
	DUR("dbms.cluster.raft.binding_timeout",
	    "causal_clustering.cluster_binding_timeout", "1d", SEC, 0,
	    "How long a member waits to join or form its cluster."),
	DUR("dbms.cluster.raft.membership.join_max_lag",
	    "causal_clustering.join_catch_up_max_lag", "10s", 0, 0,
	    "How far behind a new member may be when it becomes a voter."),
	DUR("dbms.cluster.raft.membership.join_timeout",
	    "causal_clustering.join_catch_up_timeout", "10m", SEC, 0,
	    "How long a new member has to catch up before joining fails."),
	SIZE("dbms.cluster.raft.log.rotation_size",
	     "causal_clustering.raft_log_rotation_size", "250M", KIB, 0,
	     "Size at which a Raft log segment rotates."),
	DUR("dbms.cluster.raft.log.pruning_frequency",
	    "causal_clustering.raft_log_pruning_frequency", "10m", SEC, 0,
	    "How often the Raft log is pruned."),
	ENUM("dbms.cluster.raft.leader_transfer.balancing_strategy",
	     "causal_clustering.leadership_balancing", "EQUAL_BALANCING",
	     "EQUAL_BALANCING|NO_BALANCING",
	     "Whether leadership is spread evenly across cores."),
	DUR("dbms.cluster.catchup.client_inactivity_timeout",
	    "causal_clustering.catch_up_client_inactivity_timeout", "10m", SEC,
	    0, "Silence after which a read replica leaves its upstream for "
	    "another (upstreams send a heartbeat every second)."),
	INT("dbms.cluster.catchup.batch_size",
	    "causal_clustering.catchup.batch_size", "0", 0, 0,
	    "The most transactions an upstream sends in one write of a read "
	    "replica's stream (a write holds 1 MiB at most); 0: as many as "
	    "fit. Lower makes the first transactions of a long backlog "
	    "arrive sooner, for more writes."),
	SIZE("dbms.cluster.catchup.store_copy_direct_io_min_size", NULL, "128M",
	     1, 0, "A store copy whose checkpoint is this large or larger is "
	     "written with O_DIRECT on a writer thread of its own; a smaller "
	     "one through the page cache."),
	DUR("dbms.cluster.catchup.departed_hold", NULL, "5m", 0, 0,
	    "How long an upstream keeps its transaction log from a read "
	    "replica's last reported position after the replica's stream "
	    "closed, so that a replica restarted within it resumes from the "
	    "log, not a store copy; bounded by "
	    "db.tx_log.reader_pins.max_size too. 0: not kept."),
	DUR("dbms.cluster.network.connect_timeout", NULL, "30s", 1, 0,
	    "Timeout of connecting to another member."),
	DUR("dbms.cluster.network.handshake_timeout",
	    "causal_clustering.handshake_timeout", "20s", 1, 0,
	    "Timeout of the protocol handshake between members."),
	DUR("dbms.cluster.store_copy.max_retry_time_per_request", NULL, "20m",
	    1, 0, "How long a store copy retries one failing request."),

	INT("causal_clustering.minimum_core_cluster_size_at_runtime", NULL, "3",
	    2, 0, "Voting cores below which dbms.cluster.dropServer refuses "
	    "to remove one (a 4.x setting graft keeps)."),
	BOOL("causal_clustering.enable_pre_voting", NULL, "true",
	     "Raft pre-vote: a partitioned member cannot disrupt the leader "
	     "when it returns (a 4.x setting graft keeps)."),

	/* db.cluster */
	DUR("db.cluster.catchup.pull_interval", "causal_clustering.pull_interval",
	    "100ms", 1, 0,
	    "How soon a read replica tries another upstream after one failed "
	    "(upstreams push each commit; nothing is polled)."),
	RETAIN("db.cluster.raft.log.prune_strategy",
	       "causal_clustering.raft_log_prune_strategy", "1g size",
	       "How much Raft log to keep beyond what is applied (same grammar "
	       "as the transaction log retention policy)."),

	/* db.tx_log */
	SIZE("db.tx_log.rotation.size", "dbms.tx_log.rotation.size", "256M",
	     128 * KIB, 0, "Size at which a transaction log segment rotates."),
	RETAIN("db.tx_log.rotation.retention_policy",
	       "dbms.tx_log.rotation.retention_policy", "2 days 2G",
	       "Transaction logs kept after a checkpoint: true, false, "
	       "'<n> files|size|txs|hours|days [size cap]'."),
	SIZE("db.tx_log.reader_pins.max_size", NULL, "1G", 0, 0,
	     "The most transaction log one reader (a catch-up subscriber, "
	     "a running backup) may keep from pruning; past it the pin is "
	     "dropped and that reader needs a store copy. 0: no bound."),
	BOOL("db.tx_log.preallocate", "dbms.tx_log.preallocate", "true",
	     "Preallocate transaction log segments to their rotation size."),

	/* db.checkpoint */
	ENUM("db.checkpoint", "dbms.checkpoint", "PERIODIC",
	     "PERIODIC|CONTINUOUS|VOLUME|VOLUMETRIC",
	     "When checkpoints happen: by interval (PERIODIC), back to back "
	     "(CONTINUOUS) or by log volume (VOLUME, VOLUMETRIC)."),
	DUR("db.checkpoint.interval.time", "dbms.checkpoint.interval.time",
	    "15m", SEC, 0, "Most time between two periodic checkpoints."),
	INT("db.checkpoint.interval.tx", "dbms.checkpoint.interval.tx",
	    "100000", 1, 0,
	    "Most transactions between two periodic checkpoints."),
	SIZE("db.checkpoint.interval.volume", "dbms.checkpoint.interval.volume",
	     "250M", KIB, 0,
	     "Log volume that triggers a checkpoint under VOLUME policies."),
	INT("db.checkpoint.iops.limit", "dbms.checkpoint.iops.limit", "600", -1,
	    0, "Write operations per second a checkpoint may use (-1: no "
	    "limit)."),

	/* db.transaction, db.memory, db.logs */
	DUR("db.transaction.timeout", "dbms.transaction.timeout", "0s", 0, 0,
	    "Time after which a running transaction is terminated (0: never)."),
	DUR("db.transaction.bookmark_ready_timeout",
	    "dbms.transaction.bookmark_ready_timeout", "30s", SEC, 0,
	    "How long a transaction waits for its bookmark before "
	    "BookmarkTimeout."),
	INT("db.transaction.concurrent.maximum",
	    "dbms.transaction.concurrent.maximum", "1000", 0, 0,
	    "Most concurrently open transactions per database (0: no limit)."),
	SIZE("db.transaction.old_versions.max_size", NULL, "1G", 0, 0,
	     "The most memory old versions (kept for transactions that read "
	     "an older snapshot) may take per database; past it the "
	     "transactions reading the oldest snapshot are terminated and "
	     "the memory freed. 0: no bound."),
	SIZE("db.memory.transaction.max", "dbms.memory.transaction.max_size",
	     "0", 0, 0, "Memory one transaction may use (0: unlimited)."),
	SIZE("db.memory.transaction.total.max",
	     "dbms.memory.transaction.database_max_size", "0", 0, 0,
	     "Memory all transactions of one database may use (0: "
	     "unlimited)."),
	ENUM("db.logs.query.enabled", "dbms.logs.query.enabled", "VERBOSE",
	     "OFF|INFO|VERBOSE",
	     "Query log: OFF, INFO (completed queries) or VERBOSE (start and "
	     "end)."),
	DUR("db.logs.query.threshold", "dbms.logs.query.threshold", "0s", 0, 0,
	    "Queries faster than this are not logged (0: log all)."),

	/* dbms.ssl.policy */
	SSL_POLICY("bolt", "OPTIONAL"),
	SSL_POLICY("https", "OPTIONAL"),
	SSL_POLICY("cluster", "REQUIRE"),
	SSL_POLICY("backup", "REQUIRE"),
};

/* Settings graft accepts, so that a Neo4j configuration loads unchanged, but
 * does not act on yet: graftd warns when one is set (graft_config_warn_inert)
 * and the template says so. A name ending in '.' covers every setting under
 * it. Whoever implements one removes it here; config_errors.sh fails while a
 * listed setting is read anywhere in src/. */
static const char *const inert[] = {
	"server.directories.dumps.root",
	"server.directories.certificates",
	"server.directories.metrics",
	"server.directories.import",
	"server.directories.plugins",
	"server.bolt.tls_level",
	"server.bolt.ocsp_stapling_enabled",
	"server.bolt.connection_keep_alive_probes",
	"server.bolt.connection_keep_alive_streaming_scheduling_interval",
	"server.bolt.thread_pool_keep_alive",
	"server.bolt.thread_pool_min_size",
	"server.bolt.thread_pool_max_size",
	"server.http.transaction_idle_timeout",
	"server.https.",
	"server.backup.store_copy_max_retry_time_per_request",
	"server.cluster.catchup.user_defined_upstream_strategy",
	"server.metrics.",
	"server.panic.shutdown_on_panic",
	"server.memory.heap.",
	"server.memory.pagecache.size",
	"server.jvm.additional",
	"server.logs.gc.options",
	"initial.dbms.default_primaries_count",
	"initial.dbms.default_secondaries_count",
	"dbms.max_databases",
	"dbms.cluster.raft.election_failure_detection_window",
	"dbms.cluster.raft.binding_timeout",
	"dbms.cluster.raft.membership.",
	"dbms.cluster.raft.log.",
	"dbms.cluster.raft.leader_transfer.",
	"dbms.cluster.network.",
	"dbms.cluster.store_copy.",
	"db.tx_log.preallocate",
	"db.checkpoint",
	"db.checkpoint.interval.volume",
	"db.checkpoint.iops.limit",
	"db.logs.query.",
	"dbms.ssl.policy.",
};

bool graft_setting_inert(const struct graft_setting *s)
{
	for (size_t i = 0; i < sizeof inert / sizeof inert[0]; i++) {
		size_t n = strlen(inert[i]);
		if (inert[i][n - 1] == '.' ? strncmp(s->name, inert[i], n) == 0
					   : strcmp(s->name, inert[i]) == 0)
			return true;
	}
	return false;
}

const struct graft_setting *graft_settings(size_t *n)
{
	*n = sizeof settings / sizeof settings[0];
	return settings;
}

/* Whether key is one of the space-separated names in list. */
static int in_list(const char *list, const char *key)
{
	size_t klen = strlen(key);
	const char *p = list;

	while (p != NULL && *p != '\0') {
		const char *end = strchr(p, ' ');
		size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
		if (n == klen && memcmp(p, key, n) == 0)
			return 1;
		p = end != NULL ? end + 1 : NULL;
	}
	return 0;
}

/* O(settings x aliases); called once per configuration line. */
/* Whether key is a member of family s: a prefix of its ends in '.', and
 * key is that prefix and a name. */
static bool in_family(const struct graft_setting *s, const char *key)
{
	const char *p = s->name;
	size_t len;

	while (p != NULL && *p != '\0') {
		len = strcspn(p, " ");
		if (p[len - 1] == '.' && strncmp(key, p, len) == 0 &&
		    key[len] != '\0' && strchr(key + len, '.') == NULL)
			return true;
		p = p == s->name ? s->aliases : p + len + (p[len] == ' ');
	}
	return false;
}

bool graft_setting_family(const struct graft_setting *s)
{
	return s->name[strlen(s->name) - 1] == '.';
}

const struct graft_setting *graft_setting_find(const char *key)
{
	size_t n = sizeof settings / sizeof settings[0];

	for (size_t i = 0; i < n; i++)
		if (strcmp(settings[i].name, key) == 0)
			return &settings[i];
	for (size_t i = 0; i < n; i++)
		if (in_list(settings[i].aliases, key))
			return &settings[i];
	for (size_t i = 0; i < n; i++)
		if (in_family(&settings[i], key))
			return &settings[i];
	return NULL;
}
