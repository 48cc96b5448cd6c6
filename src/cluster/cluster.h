/* A core member of a graft cluster: discovery of the other cores, formation
 * of one Raft group (canonical's libraft with its libuv I/O), and the
 * replicator behind every database's commits (db.h "Replication"). Every
 * libraft call of graft is in this folder. Loop thread only, except
 * cluster_get_status and the procedures, which any thread may run.
 *
 * Formation: each member tells every discovery endpoint its Raft id,
 * addresses and, once it has one, the cluster id and membership. When a
 * pristine member has seen minimum_initial_system_primaries_count members
 * and has the smallest Raft id among them, it decides the cluster: a new
 * cluster id (recorded in <data>/dbms/cluster_id) and the members it saw.
 * The others adopt that decision from its discovery answers, and every member
 * bootstraps the same configuration, so the group is formed exactly once. */
#ifndef GRAFT_CLUSTER_CLUSTER_H
#define GRAFT_CLUSTER_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "../cypher/cypher.h"
#include "../db/dbms.h"
#include "../util/config.h"
#include "../util/identity.h"

#define CLUSTER_MAX_MEMBERS 16
#define CLUSTER_ADDR_LEN 300
#define CLUSTER_TAGS_LEN 256

struct cluster_options {
	char data_dir[4096];  /* server.directories.data: dbms/cluster_id */
	char state_dir[4096]; /* server.directories.cluster_state */
	char server_id[IDENTITY_LEN + 1];
	struct graft_address discovery_listen, discovery_advertised;
	struct graft_address raft_listen, raft_advertised;
	struct graft_address endpoints[CLUSTER_MAX_MEMBERS];
	size_t n_endpoints;
	unsigned formation_size;
	unsigned min_runtime; /* minimum_core_cluster_size_at_runtime */
	uint64_t election_ms, heartbeat_ms;
	bool pre_vote;
	struct graft_retention prune; /* db.cluster.raft.log.prune_strategy */
	char bolt_advertised[CLUSTER_ADDR_LEN]; /* host:port */
	char http_advertised[CLUSTER_ADDR_LEN];
	char catchup_advertised[CLUSTER_ADDR_LEN]; /* transaction address */
	/* server.routing.advertised_address; "" with dbms.routing.enabled
	 * false (no routing connector to forward to) */
	char routing_advertised[CLUSTER_ADDR_LEN];
	char tags[CLUSTER_TAGS_LEN]; /* initial.server.tags: "a,b" or "" */
};

/* Reads and checks the cluster settings of a CORE member; errors name the
 * setting and what is allowed. */
int cluster_options_from_config(const struct graft_config *cfg,
				struct cluster_options *o, char *errmsg);
/* initial.server.tags ("a, b") as "a,b" (cores and replicas alike); an
 * error names the setting and what a tag may hold. */
int cluster_tags_from_config(const struct graft_config *cfg,
			     char tags[CLUSTER_TAGS_LEN], char *errmsg);

struct cluster;

/* Starts discovery and, when this member already belongs to a cluster, its
 * Raft member at once; sets itself as the replicator of every database of
 * dbms. Errors name the address or file at fault; after an error that
 * leaves *out set, the caller closes it (cluster_close) before the
 * databases, as after a start: its close still reads them. */
int cluster_start(uv_loop_t *loop, struct dbms *dbms,
		  const struct cluster_options *o, struct cluster **out,
		  char *errmsg);
/* Graceful stop: a leader hands leadership to an up-to-date follower first;
 * proposals still open end with GRAFT_EUNKNOWN; commits from then on are
 * refused (NotALeader). Then cb. The procedures and status stay usable
 * (the member reports itself UNAVAILABLE) until cluster_free, which the
 * server calls once nothing can run a statement any more. */
void cluster_close(struct cluster *c, void (*cb)(void *arg), void *arg);
void cluster_free(struct cluster *c);

/* cb(arg) runs on the loop each time this member becomes a leader that
 * takes writes (its barrier committed: everything earlier leaders
 * committed is applied): the server creates the initial user there when
 * the system database has none, so it is created once for the cluster. */
void cluster_on_writable(struct cluster *c, void (*cb)(void *arg), void *arg);

/* Stores behind a Raft snapshot ---------------------------------------------
 * A Raft snapshot names, per database, the transaction its stores stand at
 * (snapshot.c); the stores themselves move over the transaction port. A
 * member whose stores are behind a snapshot it installed copies each such
 * database from another member (the leader first) and installs it, then
 * applies the Raft entries it held meanwhile (behind.c). The copy is the
 * catch-up layer's, above this one: the server hands it in as a source. */
struct cluster_store_req;
typedef void (*cluster_store_cb)(struct cluster_store_req *req, int status);

/* Filled by the cluster; stays alive until cb. */
struct cluster_store_req {
	uv_loop_t *loop;
	struct dbms *dbms;
	char db[128];
	char upstream[CLUSTER_ADDR_LEN]; /* its transaction address */
	char server_id[IDENTITY_LEN + 1]; /* this member, for its log */
	uint64_t need_txid; /* the copy must hold at least this */
	cluster_store_cb cb;
	void *impl; /* the source's */
	/* results */
	uint64_t ckpt_txid, last_txid, bytes;
	char errmsg[GRAFT_ERRMSG_SIZE]; /* on failure */
};

struct cluster_store_source {
	/* Copies req->db from req->upstream, refuses a copy that holds less
	 * than req->need_txid, installs it as req->db, then req->cb(req, 0)
	 * on the loop; on any failure req->cb(req, error) with req->errmsg
	 * (the database here is then as it was). An error returned here means
	 * cb never runs. */
	int (*copy)(struct cluster_store_req *req);
	/* Cuts a copy in flight: its cb runs with an error, nothing is
	 * installed. */
	void (*cancel)(struct cluster_store_req *req);
};

/* src is static; until set, a member behind a snapshot waits. */
void cluster_set_store_source(struct cluster *c,
			      const struct cluster_store_source *src);

/* Registers dbms.cluster.overview() and dbms.cluster.role(database). */
int cluster_register_procedures(struct cluster *c,
				struct cypher_engine *engine);

/* The same procedures for members that are not Raft voters (read
 * replicas), with the caller's functions: procs is caller-owned storage
 * that must outlive the engine. The functions build their answers with
 * cluster_overview_servers (a row per server) and cluster_role_emit
 * (checks the database argument). */
int cluster_procs_register(struct cypher_engine *engine,
			   struct cypher_proc procs[2],
			   int (*overview_fn)(struct cypher_proc_call *call),
			   int (*role_fn)(struct cypher_proc_call *call),
			   void *data);
int cluster_overview_emit(struct cypher_proc_call *call, struct dbms *dbms,
			  const struct cypher_server *server);
/* One row per server fn gives. */
int cluster_overview_servers(struct cypher_proc_call *call, struct dbms *dbms,
			     cypher_servers_fn fn, void *data);
int cluster_role_emit(struct cypher_proc_call *call, struct dbms *dbms,
		      const char *role);

/* One member as this member knows it. */
struct cluster_member_status {
	char server_id[IDENTITY_LEN + 1]; /* "(not discovered yet)" */
	char bolt[CLUSTER_ADDR_LEN], http[CLUSTER_ADDR_LEN]; /* host:port */
	const char *role; /* "LEADER", "FOLLOWER", ... (static strings) */
	bool voter;
};

/* The member's state as the loop last published it (at once after a change
 * of role, leader, term or membership, within milliseconds otherwise). */
struct cluster_status {
	const char *role;           /* "LEADER", "FOLLOWER", "CANDIDATE",
				     * "UNAVAILABLE" (not formed yet) */
	bool writable;              /* leader whose barrier is committed */
	bool has_leader;
	char member_id[IDENTITY_LEN + 1];
	char leader_id[IDENTITY_LEN + 1]; /* "" when unknown */
	uint64_t term;
	uint64_t last_applied;      /* Raft index */
	uint64_t commit_index;
	int64_t millis_since_leader; /* -1: never heard from one */
	int64_t leader_contact_ms;   /* private: when a follower last heard */
	double commands_per_second;
	/* Entries this member proposed as a leader, and in how many
	 * raft_apply calls (the batches of member.c): since it started. */
	uint64_t proposed_entries, proposal_batches;
	size_t n_voters;
	char voters[CLUSTER_MAX_MEMBERS][IDENTITY_LEN + 1];
	/* The Raft configuration; before formation, the cores discovery
	 * found (this member first). */
	size_t n_members;
	struct cluster_member_status members[CLUSTER_MAX_MEMBERS];
};
/* Any thread: a copy of the last published state. */
void cluster_get_status(struct cluster *c, struct cluster_status *out);

/* Where the read replicas that follow this member stand, as they report
 * it over the transaction port (the catch-up layer, above this one, knows
 * them): fills up to max and returns how many. Any thread. */
struct cluster_position {
	char server_id[IDENTITY_LEN + 1];
	char db[64];
	uint64_t applied;
	uint64_t age_ms; /* since the server said so */
};
typedef size_t (*cluster_positions_fn)(void *data,
				       struct cluster_position *out,
				       size_t max);
/* Loop thread, before clients. */
void cluster_set_positions(struct cluster *c, cluster_positions_fn fn,
			   void *data);
/* Every server of the cluster, cores then read replicas, as this member
 * knows them (cypher_servers_fn, for SHOW SERVERS and SHOW DATABASES;
 * data is the cluster). Any thread. */
size_t cluster_servers(void *data, struct cypher_server *out, size_t max);

/* Probing a core's discovery endpoint without joining (a read replica
 * finding its upstreams): the probe line to send, and a core's answer read
 * back. A core answers a probe with its own line and does not count the
 * prober as a member. */
#define CLUSTER_ROSTER_TEXT 2048 /* roster.h ROSTER_TEXT_LEN */
struct cluster_probe {
	char server_id[IDENTITY_LEN + 1];
	char bolt[CLUSTER_ADDR_LEN], http[CLUSTER_ADDR_LEN];
	char catchup[CLUSTER_ADDR_LEN]; /* "" from a member that has none */
	char role[16];                  /* LEADER, FOLLOWER, ... */
	char cluster_id[IDENTITY_LEN + 1]; /* "-" until formed */
	char tags[CLUSTER_TAGS_LEN];       /* "" for none */
	char routing[CLUSTER_ADDR_LEN];    /* routing connector, "" if off */
	/* roster.h text: the core's positions, the replicas it hears from */
	char positions[CLUSTER_ROSTER_TEXT], replicas[CLUSTER_ROSTER_TEXT];
};
/* What a replica tells the cores of itself in its probe. */
struct cluster_probe_self {
	const char *server_id, *bolt, *http;
	const char *catchup;   /* its advertised transaction address */
	const char *tags;      /* initial.server.tags, "" for none */
	const char *positions; /* roster.h text: what it applied */
};
/* The line (with its newline) into out. */
void cluster_probe_line(const struct cluster_probe_self *me, char *out,
			size_t n);
/* GRAFT_OK, or GRAFT_EINVAL when line is not a core's discovery line. */
int cluster_probe_answer(const char *line, struct cluster_probe *out);

#endif
