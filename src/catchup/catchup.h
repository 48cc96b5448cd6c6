/* Catch-up: the committed transaction stream of every database, served on
 * the transaction port (server.cluster.listen_address, 4.x
 * causal_clustering.transaction_listen_address, :6000) by every member, and
 * followed by read replicas (dbms.mode=READ_REPLICA). Loop thread only.
 *
 * Protocol (one database per connection; a text line each way, then
 * binary messages from the upstream only):
 *   subscriber: "GRAFT-CATCHUP/2 PULL <db> <after txid> <ANY|LEADER>
 *                <server id> <bolt addr>\n"
 *   upstream:   "GRAFT-CATCHUP/2 OK <db> <cluster id> <db id> <last txid>
 *                <role>\n"
 *               then messages, for as long as the connection lasts:
 *                 'T' one record on the wire (txlog.h: length, CRC32C,
 *                     txid, database id, name CRC, cluster id, record),
 *                     every record after
 *                     <after txid> in order, then each new one as the
 *                     upstream's log makes it durable (pushed, not
 *                     polled);
 *                 'H' u64 the upstream's last logged txid, i64 its commit
 *                     time in ms (0: unknown): a heartbeat, sent when
 *                     nothing else was for a heartbeat interval.
 *               "GRAFT-CATCHUP/2 ERR <NOTFOUND|NOTLEADER|PRUNED|AHEAD|
 *                INVALID> <text>\n" and closes.
 * PRUNED: the upstream's log no longer holds <after txid> + 1 (the
 * subscriber needs a store copy); AHEAD: the subscriber is past the
 * upstream (another history, or the upstream is behind: try another).
 *
 * A store copy (one database per connection):
 *   subscriber: "GRAFT-CATCHUP/2 STORE <db> <server id>\n"
 *   upstream:   "GRAFT-CATCHUP/2 STORE <db> <cluster id> <db id>
 *                <checkpoint txid> <checkpoint bytes> <last txid> <role>\n",
 *               then the bytes
 *               of its newest checkpoint file as they are on disk, then
 *                 'C' u32 CRC32C of those bytes,
 *                 'T' every record after the checkpoint up to <last
 *                     txid> (as in a PULL),
 *                 'E' u64 <last txid>: complete; the upstream closes.
 *               or "GRAFT-CATCHUP/2 ERR <NOTFOUND|IO|INVALID> <text>\n".
 * The log after the checkpoint stays pinned on the upstream while it is
 * sent, so the copy is always whole; a cut connection is a failed copy,
 * started again from the beginning.
 *
 * The databases (a read replica mirrors them):
 *   subscriber: "GRAFT-CATCHUP/2 DATABASES <server id>\n"
 *   upstream:   "GRAFT-CATCHUP/2 DATABASES <cluster id> <change index>
 *                <n>\n", then n
 *               lines "<db> <origin>\n" and closes. <change index> is the
 *               Raft index of the last CREATE/DROP DATABASE the upstream
 *               applied (dbms_change_index), <origin> the one that created
 *               the database (dbms_origin; 0 for system, the default
 *               database and those found in the data directory): a name
 *               whose origin changed was dropped and created again.
 *
 * After its PULL line the subscriber reports what it has applied, as lines
 * "APPLIED <txid>\n" (after each batch it applied, and on each heartbeat),
 * so that the upstream knows every subscriber's lag.
 *
 * Ids (ident_int.h): <cluster id> is the UUID the member recorded in
 * <data>/dbms/cluster_id ("-" in a DATABASES answer of a member that has
 * none yet; it serves no stream then: ERR NOTFOUND); <db id> is the
 * database's dbms_origin, so one dropped and created again under the same
 * name has another. A read replica records the cluster of the first core
 * it hears and from then on refuses cores, streams, copies and lists of
 * any other cluster. Version 2: version 1 carried only a CRC of the name.
 *
 * The subscriber checks the OK line's ids against its own (its cluster,
 * its database's id) and every record before applying it: its CRC, that
 * it carries those ids, and that its txid is the next one; then
 * db_apply_stream validates it against the graph. Any mismatch stops that
 * database's catch-up with an error in the log naming the upstream, the
 * transaction and both ids; nothing of it is applied. */
#ifndef GRAFT_CATCHUP_CATCHUP_H
#define GRAFT_CATCHUP_CATCHUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "../cluster/cluster.h"
#include "../cluster/routing.h"
#include "../cypher/cypher.h"
#include "../db/dbms.h"
#include "../net/tcp.h"
#include "../txlog/txlog.h"
#include "../util/config.h"

#define CATCHUP_PROTO "GRAFT-CATCHUP/2"
#define CATCHUP_MSG_TX 'T'
#define CATCHUP_MSG_HEARTBEAT 'H'
#define CATCHUP_HEARTBEAT_SIZE 17
/* An upstream with nothing to send heartbeats this often. */
#define CATCHUP_HEARTBEAT_MS 1000
#define CATCHUP_MSG_CKPT_CRC 'C'
#define CATCHUP_MSG_END 'E'
/* Databases a replica follows, and an upstream lists, at most. */
#define CATCHUP_MAX_DATABASES 64

/* The upstream side --------------------------------------------------- */
struct catchup_server;

/* Listens on addr (setting names it in errors). dbms is borrowed; cluster
 * (may be NULL: a SINGLE server or a read replica) answers whether this
 * member is the leader; data_dir (copied) holds dbms/cluster_id. */
int catchup_server_start(uv_loop_t *loop, struct dbms *dbms,
			 struct cluster *cluster, const char *data_dir,
			 const char *setting,
			 const struct graft_address *addr,
			 struct catchup_server **out, char *errmsg);
int catchup_server_port(const struct catchup_server *s);
/* Stops listening, closes every stream; frees once the last handle and
 * work item are done. */
void catchup_server_close(struct catchup_server *s);

/* Another protocol on the transaction port (Neo4j serves backups on the
 * cluster listen address as on the backup one): a connection whose first
 * line starts with prefix is handed to cb with its socket (duplicated:
 * cb owns fd) and that line, newline included; this server then closes its
 * own copy. prefix is borrowed. Set once, before connections arrive. */
typedef void (*catchup_handoff_cb)(void *data, uv_os_sock_t fd,
				   const char *line, size_t len);
void catchup_server_handoff(struct catchup_server *s, const char *prefix,
			    catchup_handoff_cb cb, void *data);

/* A subscriber whose stream closed keeps the log from the transaction
 * after the last it reported applied, for ms (0: not kept), within
 * db.tx_log.reader_pins.max_size: a replica restarted within ms resumes
 * from the log even when the upstream prunes meanwhile
 * (dbms.cluster.catchup.departed_hold). */
void catchup_server_hold_departed(struct catchup_server *s, uint64_t ms);
/* dbms.cluster.catchup.batch_size: the most transactions one write of a
 * stream carries (0: as many as fit in a chunk). Store copies are not
 * bounded by it. */
void catchup_server_batch_size(struct catchup_server *s, uint64_t n);

/* What an upstream knows of a subscriber's position, per database, as the
 * subscriber last reported it. */
struct catchup_subscriber {
	char server_id[128];
	char db[128];
	uint64_t applied;    /* its last applied transaction */
	uint64_t lag_txs;    /* this member's last logged minus applied, at
			      * the report */
	uint64_t age_ms;     /* since the report */
	bool connected;      /* its stream is open */
};
#define CATCHUP_MAX_SUBSCRIBERS 64
/* Copies up to max subscribers (those connected, then those that left,
 * while they fit in CATCHUP_MAX_SUBSCRIBERS) into out; returns how many.
 * Thread-safe: any thread (a statement, the routing table) may call it
 * while the loop updates them. */
size_t catchup_server_subscribers(struct catchup_server *s,
				  struct catchup_subscriber *out, size_t max);

/* A store copy, the client side ------------------------------------------
 * Fetches database db from the transaction port at `upstream` (any member:
 * a core, the leader, a read replica) into dest_dir, which must not exist
 * and be on the file system of <data>/databases:
 *   dest_dir/store/checkpoint.<txid>  the upstream's newest checkpoint
 *   req->frames                       the records after it, as on the wire
 * Off the loop: every byte is written, checked and fsynced on worker
 * threads (tcp_conn_queue_work), and the checkpoint is loaded there once,
 * into the graph the database will serve (req->graph); the loop only
 * moves buffers. Verified before cb reports success: the checkpoint's
 * bytes against the CRC32C the upstream sent, then the whole checkpoint
 * loaded (its own block CRCs, structure, ids, its txid the one
 * announced); the ids the upstream announced against want (as check
 * says); each record against its CRC, those ids and contiguous txid.
 * Restartable: any failure (connection cut, damage, disk) removes
 * dest_dir and calls cb with the error; the caller tries again later.
 * Nothing of the caller's database is touched: install the copy with
 * catchup_store_install, or drop it with catchup_store_copy_discard.
 *
 * A core installing a Raft snapshot (the snapshot names, per database,
 * the checkpoint txid and Raft index; the store itself moves here):
 *   catchup_store_copy(&req, loop, leader's transaction address, "neo4j",
 *                      server id, "<data>/databases/.copy-neo4j", &mine,
 *                      CATCHUP_COPY_CLUSTER, done_cb);
 *   done_cb: status 0 -> req->ckpt_txid and req->last_txid say what the
 *   copy holds (last_txid >= the snapshot's txid when the upstream has
 *   applied it; ask again otherwise) -> catchup_store_install(dbms,
 *   "neo4j", &req, errmsg) -> the database now stands at
 *   last_txid; Raft entries after the snapshot's index apply on top
 *   (those at or below last_txid are already in: skip them by txid). */
/* What a copy's announced ids are checked against want for. */
enum catchup_copy_check {
	CATCHUP_COPY_ANY,     /* nothing: want is NULL */
	/* the cluster only: a core behind a Raft snapshot, whose databases
	 * follow the snapshot (a database id may be new to it), but never
	 * another cluster's */
	CATCHUP_COPY_CLUSTER,
	CATCHUP_COPY_IDS,     /* cluster and database ids: a read replica */
};

struct catchup_store_copy_req;
typedef void (*catchup_store_copy_cb)(struct catchup_store_copy_req *req,
				      int status);

/* Caller-owned; must stay alive until cb. */
struct catchup_store_copy_req {
	void *data; /* the caller's */
	/* the caller's, kept by catchup_store_copy: a checkpoint of this
	 * many bytes or more is written with O_DIRECT (copy_writer.h); 0:
	 * the default, 128 MiB */
	uint64_t direct_min;
	/* results, on success */
	uint64_t ckpt_txid;  /* the checkpoint's transaction */
	uint64_t last_txid;  /* the last record after it (>= ckpt_txid) */
	uint64_t bytes;      /* checkpoint bytes received */
	struct txlog_wire_id id; /* the copy's: cluster and database */
	struct graph *graph; /* the checkpoint, loaded (install takes it) */
	struct graft_buf frames; /* the records after it, as on the wire */
	uint64_t copy_us;    /* connect to durable checkpoint */
	uint64_t transfer_us; /* its first byte received to durable */
	uint64_t drain_us;   /* of which the last writes, after the last byte */
	uint64_t sync_us;    /* then the final fdatasync */
	bool direct;         /* written with O_DIRECT (a large copy) */
	uint64_t load_us;    /* the load, on a worker */
	uint64_t hold_us;    /* catchup_store_install's, on the loop */
	char errmsg[GRAFT_ERRMSG_SIZE]; /* on failure */
	/* private */
	struct tcp_server tcp; /* its one outgoing connection */
	struct store_conn *conn;
	char db[128];
	char dest[4096];
	char server_id[64];
	struct txlog_wire_id want;
	enum catchup_copy_check check;
	uint64_t start_ns;
	int status;
	int cancelled; /* set by the loop, read by the copy's worker */
	catchup_store_copy_cb cb;
};
/* Starts the copy; cb runs on the loop thread once it is complete and
 * verified (0: install it or discard it) or has failed (an error;
 * dest_dir is removed). An error returned here (GRAFT_EEXIST: dest_dir
 * exists; GRAFT_EINVAL) means cb never runs. server_id names this member
 * in the upstream's log. want (copied): the ids the copy must have, as
 * check says; NULL takes those the upstream announces. */
int catchup_store_copy(struct catchup_store_copy_req *req, uv_loop_t *loop,
		       const struct sockaddr *upstream, const char *db,
		       const char *server_id, const char *dest_dir,
		       const struct txlog_wire_id *want,
		       enum catchup_copy_check check, catchup_store_copy_cb cb);
/* Frees what a complete copy holds (its graph and records) and removes
 * its dest_dir, when it is not installed. */
void catchup_store_copy_discard(struct catchup_store_copy_req *req);
/* Cuts a copy in flight: cb runs with GRAFT_ECANCELED (or what it had). */
void catchup_store_copy_cancel(struct catchup_store_copy_req *req);

/* Installs a completed copy as database db (dbms_replace: readers see the
 * old state until the switch, the new one after) with the graph its worker
 * loaded (the loop never loads the checkpoint), applies req->frames on
 * top (db_apply_stream; each checked again against req->id), logs how
 * long the load took off the loop and how long the loop was held, then
 * discards what is left of req (catchup_store_copy_discard). Loop thread;
 * the apply runs on the loop, bounded by the log after one checkpoint. On
 * an error before the switch the old database is kept. */
int catchup_store_install(struct dbms *dbms, const char *db,
			  struct catchup_store_copy_req *req, char *errmsg);

/* A core's store source (cluster.h "Stores behind a Raft snapshot"): a
 * store copy checked against what the snapshot needs, then
 * catchup_store_install. Give it to cluster_set_store_source. */
extern const struct cluster_store_source catchup_core_store_source;

/* The read replica --------------------------------------------------- */
enum catchup_strategy {
	/* default: the leader while a core says it leads, else as
	 * CATCHUP_RANDOM_CORE (a follower learns that an entry committed
	 * only with the leader's next message: its stream comes later) */
	CATCHUP_LEADER_FIRST,
	CATCHUP_RANDOM_CORE, /* connect-to-random-core-server */
	CATCHUP_LEADER_ONLY, /* leader-only */
	/* typically-connect-to-random-read-replica: another replica, a core
	 * every 10th pick or when no replica is known */
	CATCHUP_RANDOM_REPLICA,
	/* connect-randomly-within-server-group: a replica sharing one of
	 * this one's server groups (initial.server.tags), else a core */
	CATCHUP_SERVER_GROUP,
};

#define CATCHUP_MAX_UPSTREAMS 16

struct catchup_replica_options {
	char server_id[64];
	char data_dir[4096]; /* server.directories.data: dbms/cluster_id */
	char bolt_advertised[300], http_advertised[300];
	char catchup_advertised[300]; /* its transaction port, for chains */
	char tags[CLUSTER_TAGS_LEN]; /* initial.server.tags, "a,b" */
	struct graft_address discovery[CATCHUP_MAX_UPSTREAMS];
	size_t n_discovery;
	enum catchup_strategy strategy;
	uint64_t retry_ms;      /* db.cluster.catchup.pull_interval */
	uint64_t inactivity_ms; /* catch_up_client_inactivity_timeout */
	/* dbms.cluster.catchup.store_copy_direct_io_min_size */
	uint64_t copy_direct_min;
};

/* Reads and checks the settings of a READ_REPLICA; errors name the
 * setting and what is allowed. */
int catchup_replica_options_from_config(const struct graft_config *cfg,
					struct catchup_replica_options *o,
					char *errmsg);

struct catchup_replica;

/* Refuses writes on every database of dbms (NotALeader), finds the cores
 * through their discovery endpoints and follows each database's stream
 * from an upstream chosen by the strategy, failing over to another when
 * one goes away. Registers dbms.cluster.overview() and
 * dbms.cluster.role() with engine. */
int catchup_replica_start(uv_loop_t *loop, struct dbms *dbms,
			  struct cypher_engine *engine,
			  const struct catchup_replica_options *o,
			  struct catchup_replica **out, char *errmsg);
/* Stops following (streams are cut), then cb. The procedures stay usable
 * until catchup_replica_free. */
void catchup_replica_close(struct catchup_replica *r, void (*cb)(void *arg),
			   void *arg);
void catchup_replica_free(struct catchup_replica *r);

/* Every server of the cluster as the replica knows it (cypher_servers_fn;
 * data is the replica): the cores as their discovery endpoints last
 * answered, the other replicas as the cores pass them on, then itself.
 * Loop thread (a replica runs its statements there). */
size_t catchup_replica_servers(void *data, struct cypher_server *out,
			       size_t max);

/* Routing through a read replica (src/cluster/routing.h): the settings
 * its tables use (takes o's policies; loop thread, before clients); its
 * table for a database (bolt_router's table; data is the replica): WRITE
 * the core that reports itself leader, READ and ROUTE as a core's
 * tables; DatabaseUnavailable while it hears from no core. Its writer
 * for server-side routing (bolt_forwarder's writer): the leader's
 * routing connector. Loop thread, as the replica's statements. */
void catchup_replica_set_routing(struct catchup_replica *r,
				 struct cluster_routing_options *o);
int catchup_replica_route(void *data, const struct bolt_route_request *req,
			  struct bolt_route_table *out,
			  struct cypher_error *err);
int catchup_replica_route_writer(void *data, char *addr, size_t n,
				 struct cypher_error *err);

/* Per database, what the replica knows of its lag, for the HTTP status. */
struct catchup_lag {
	uint64_t applied;       /* last applied here */
	uint64_t upstream_last; /* upstream's last logged, as last heard */
	int64_t lag_ms;         /* now - commit time of what is applied, while
				 * behind; 0 when caught up; -1 unknown */
	bool following;         /* a stream is open */
	char upstream[300];     /* its server id, "" when none */
	char error[512];        /* why catch-up stopped, "" if it did not */
};
/* GRAFT_ENOTFOUND when the replica does not follow db. */
int catchup_replica_lag(struct catchup_replica *r, const char *db,
			struct catchup_lag *out);

/* The lag figures of the whole cluster, for a metrics exporter (the
 * monitoring issue publishes them; this is their one source): a row per
 * server and database as this member knows them, from any member, core or
 * read replica — the figures of dbms.cluster.overview()'s
 * replicationLagTxs and replicationLagMillis and of SHOW DATABASES.
 * servers and data are what this member gives its engine
 * (cypher_engine_set_servers: cluster_servers and the cluster on a core,
 * catchup_replica_servers and the replica on a read replica; the thread
 * rules are theirs: any thread on a core, the loop on a replica). Fills up
 * to max rows in the servers' order (cores, then replicas), each server's
 * databases in its order; returns how many rows there are. */
struct catchup_lag_row {
	char server_id[40];
	const char *role; /* "LEADER", "FOLLOWER", "READ_REPLICA", ... */
	bool self;        /* the member answering */
	char db[64];
	uint64_t applied; /* its last applied transaction */
	int64_t lag_txs;  /* behind the newest known; -1: unknown */
	int64_t lag_ms;   /* how long it has been behind; -1: unknown */
};
size_t catchup_lag_rows(cypher_servers_fn servers, void *data,
			struct catchup_lag_row *out, size_t max);

#endif
