/* Inside the read replica: the replica (replica.c: settings, finding the
 * cores, refusing writes, procedures) and its streams (follow.c: one per
 * database, each from one upstream at a time). Loop thread only. */
#ifndef GRAFT_CATCHUP_REPLICA_INT_H
#define GRAFT_CATCHUP_REPLICA_INT_H

#include "../cluster/roster.h"
#include "../net/resolve.h"
#include "../net/tcp.h"
#include "../util/buf.h"
#include "catchup.h"
#include "ident_int.h"

/* Another replica passed on by a core within this is alive; after the
 * second it is forgotten (as on the cores, cluster/routing_int.h). */
#define REPLICA_ALIVE_MS 10000
#define REPLICA_FORGET_MS 60000

/* A core as its discovery endpoint last answered. */
struct replica_core {
	struct cluster_probe p;
	bool known;        /* answered at least once */
	bool answering;    /* the last probe was answered */
	bool foreign;      /* of another cluster: never used (logged once) */
	uint64_t answered_ms; /* uv_now of the last answer */
};

/* Where a stream comes from: a core, or another replica (a chain). */
struct replica_upstream {
	char server_id[IDENTITY_LEN + 1]; /* "" for none yet */
	char catchup[CLUSTER_ADDR_LEN];   /* its transaction address */
	int core;                         /* index into cores; -1: a replica */
};

enum follow_state {
	FOLLOW_IDLE,       /* waiting to (re)connect */
	FOLLOW_CONNECTING, /* connect, PULL line, waiting for OK */
	FOLLOW_STREAMING,  /* applying records as they come */
	FOLLOW_COPYING,    /* the upstream pruned what it lacks: store copy */
	FOLLOW_STOPPED,    /* a record failed its checks: stopped for good */
	FOLLOW_UNUSED,     /* a free slot (its database was dropped) */
};

/* One database's stream. The connection is a separate allocation, as
 * tcp.h frees it on its own schedule. */
struct follow {
	struct catchup_replica *r;
	char db[128];
	struct txlog_wire_id id; /* the stream's, once its OK line matched */
	enum follow_state state;
	struct follow_conn *conn; /* NULL when none */
	struct replica_upstream up; /* the one followed or tried last */
	int last_core;            /* the core tried last (rotation); -1 */
	/* the replica strategies (upstream.c): a core taken because no
	 * replica fitted is left once one does; a replica upstream that
	 * failed is not tried again for a while; one that lags the cores is
	 * left */
	bool fallback;
	uint64_t next_check_ms;
	char shunned[IDENTITY_LEN + 1];
	uint64_t shunned_until;
	uint64_t behind_target, behind_since; /* 0: not behind */
	unsigned attempts;
	unsigned pruned;          /* upstreams in a row that said PRUNED */
	uint64_t next_try_ms;
	uint64_t upstream_last;   /* from the OK line and heartbeats */
	/* A stream that starts behind: the upstream's last transaction at
	 * its OK line (0: none to reach), the first one applied from it and
	 * when; logged once reached (the catch-up rate, from this replica's
	 * own clock rather than an observer that may subscribe late) */
	uint64_t catchup_target, catchup_first, catchup_first_ns;
	char error[512];          /* why it stopped (FOLLOW_STOPPED) */
	struct catchup_store_copy_req copy; /* FOLLOW_COPYING */
	char copy_dir[4200];
	bool dropped; /* its database was dropped during a copy */
};

struct catchup_replica {
	uv_loop_t *loop;
	struct dbms *dbms;
	struct catchup_replica_options o;
	/* the cluster it follows: recorded in <data>/dbms/cluster_id when a
	 * core first answered ("" until then); cores, streams, copies and
	 * lists of another are refused (ident_int.h) */
	char cluster_id[IDENTITY_LEN + 1];
	struct tcp_server probes, streams; /* outgoing connections only */
	struct tcp_server lists; /* asking for the databases (mirror.c) */
	uint64_t next_list_ms;
	uint64_t list_index; /* the newest change index mirrored */
	int list_core;       /* the core asked last; -1: none yet */
	bool listing;        /* a request is in flight */
	bool list_refused;   /* the last list was another cluster's (logged) */
	uv_timer_t tick;
	uint64_t next_probe_ms;
	struct replica_core cores[CATCHUP_MAX_UPSTREAMS];
	struct net_resolver resolver; /* the cores' host names */
	struct follow dbs[CATCHUP_MAX_DATABASES];
	size_t n_dbs; /* slots in use or freed (FOLLOW_UNUSED) */
	struct cypher_proc procs[2];
	/* the other replicas, as the cores pass them on, and the tracks
	 * lags are measured with (roster.h) */
	struct roster roster;
	struct roster_track tracks[ROSTER_MAX_DBS];
	size_t n_tracks;
	unsigned picks; /* upstream picks: every 10th a core (upstream.c) */
	struct cluster_routing_options routing; /* its policies owned */
	bool closing;
	unsigned closing_parts; /* servers, timer, resolver still closing */
	void (*close_cb)(void *arg);
	void *close_arg;
};

/* follow.c */
/* Starts following db in slot f (idle: the next tick connects). */
void follow_init(struct follow *f, struct catchup_replica *r, const char *db);
/* Stops following f's database for good (it was dropped): its slot is
 * free at once, or once its store copy ended. */
void follow_forget(struct follow *f);
/* Connects f to its next upstream if it is idle and its retry time came. */
void follow_tick(struct follow *f);
/* Cuts f's stream or store copy (closing the replica); true when a copy
 * is still ending: it calls replica_part_closed once it has. */
bool follow_stop(struct follow *f);
extern const struct tcp_ops follow_tcp_ops;

/* upstream.c: the upstream selection strategies. */
/* Picks f's next upstream into f->up; false when none is known yet. */
bool upstream_pick(struct follow *f);
/* How many upstreams f may ask before a store copy (PRUNED from each). */
unsigned upstream_count(const struct follow *f);
/* On a streaming f: true (and why) when it should leave its upstream: a
 * replica upstream behind the cores, or a core taken for want of a
 * replica once one fits. */
bool upstream_leave(struct follow *f, char *why, size_t n);
/* Not to be picked again for a while: f's upstream failed (a replica). */
void upstream_shun(struct follow *f);

/* store_copy.c: where a store copy of db goes, <data>/databases/.copy-<db>
 * (beside the store it replaces, never opened as a database: a leading
 * dot), emptied of what a copy a crash cut short left. */
void catchup_copy_dir(struct db *db, char *out, size_t n);

/* mirror.c: every MIRROR_MS asks an upstream for its databases and
 * creates or drops them here as the cores did. */
void mirror_tick(struct catchup_replica *r);
extern const struct tcp_ops mirror_tcp_ops;

/* store_copy.c: checks one record on the wire (CRC, id's cluster and
 * database, the next txid of db) and applies it. */
int catchup_apply_frame(struct db *db, const struct txlog_wire_id *id,
			const uint8_t *frame, size_t size, char *errmsg);

/* replica.c: the wire id the stream of f's database must carry; false
 * (why in errmsg) when this replica has no cluster yet. */
bool replica_wire_id(struct follow *f, struct txlog_wire_id *out,
		     char *errmsg);

/* procs.c: dbms.cluster.overview() and dbms.cluster.role() of a replica. */
int catchup_replica_register_procedures(struct catchup_replica *r,
					struct cypher_engine *engine);

/* replica.c */
/* The replica's own position in each database it follows. */
void replica_positions(struct catchup_replica *r, struct roster_server *me);
/* Follows db: a free slot, or GRAFT_ETOOBIG past CATCHUP_MAX_DATABASES. */
int replica_follow_add(struct catchup_replica *r, const char *db);
/* The slot following db; NULL when none. */
struct follow *replica_follow_find(struct catchup_replica *r, const char *db);
/* One more part of a closing replica is closed. */
void replica_part_closed(struct catchup_replica *r);

#endif
