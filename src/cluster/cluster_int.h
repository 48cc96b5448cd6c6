/* Inside the cluster layer: the member (member.c: the Raft node, its FSM
 * and the replicator), discovery (discovery.c) and what they share. */
#ifndef GRAFT_CLUSTER_CLUSTER_INT_H
#define GRAFT_CLUSTER_CLUSTER_INT_H

#include <pthread.h>
#include <raft.h>
#include <raft/uv.h>

#include "../net/resolve.h"
#include "../net/tcp.h"
#include "cluster.h"
#include "routing_int.h"

#define CLUSTER_RAFT_ADDR_LEN 64 /* "a.b.c.d:port", as libraft wants */

struct cluster_peer {
	uint64_t id; /* Raft id, from the server id */
	char server_id[IDENTITY_LEN + 1];
	char raft[CLUSTER_RAFT_ADDR_LEN];
	char bolt[CLUSTER_ADDR_LEN];
	char http[CLUSTER_ADDR_LEN];
	char routing[CLUSTER_ADDR_LEN]; /* routing connector; "" if none */
	char catchup[CLUSTER_ADDR_LEN]; /* transaction address; "" unknown */
	char cluster_id[IDENTITY_LEN + 1]; /* as it says; "-" pristine */
	char role[16];                     /* as it says: LEADER, REMOVED... */
	char tags[CLUSTER_TAGS_LEN];    /* "a,b"; "" for none */
	uint64_t seen_ms; /* last discovery exchange with it (uv_now) */
};

/* One discovery endpoint and what the last attempt at it gave. */
struct cluster_endpoint {
	char text[CLUSTER_ADDR_LEN]; /* host:port as configured */
	bool busy;                   /* an exchange is under way */
	bool reachable;              /* the last exchange succeeded */
	char error[128];             /* why the last one failed */
};

/* A database a Raft snapshot names (snapshot.c). */
struct cluster_snap_db {
	char name[128];
	uint32_t id;   /* txlog_wire_db_id */
	uint64_t txid; /* its stores stand at least here */
	/* The Raft index that created it (dbms_origin); SNAP_ORIGIN_UNKNOWN
	 * in a snapshot of version 1, which did not say. */
	uint64_t origin;
	/* The Raft index of its transaction txid (db_raft_index); 0:
	 * unknown (a snapshot of version 1 or 2, or a store that did not
	 * know it). */
	uint64_t raft_index;
};
#define SNAP_ORIGIN_UNKNOWN UINT64_MAX
/* The origin to record for d (0 when unknown, as dbms_origin says). */
static inline uint64_t cluster_snap_db_origin(const struct cluster_snap_db *d)
{
	return d->origin != SNAP_ORIGIN_UNKNOWN ? d->origin : 0;
}

/* An entry committed while the stores are behind, kept to apply later. */
struct cluster_held {
	uint64_t index;
	size_t len;
	void *base; /* owned */
};

/* Catching up with a snapshot (behind.c); loop thread only. */
struct cluster_behind {
	const struct cluster_store_source *src;
	uint64_t index, term;         /* the snapshot's */
	struct cluster_snap_db *dbs;  /* owned: what it needs */
	size_t n_dbs;
	struct cluster_held *held;    /* owned, in index order */
	size_t n_held, cap_held;
	uint64_t held_bytes;
	struct cluster_store_req req; /* the copy in flight */
	bool copying;
	bool stopped;                 /* cannot go on without diverging */
	unsigned attempt;             /* failed copies in a row */
	uint64_t next_try_ms;
	uint64_t copied_bytes;
};

/* Cores joining and leaving (membership.c). */
struct membership_req;
struct cluster_membership {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct membership_req *req; /* a procedure's, under lock */
	bool closed;                /* under lock */
	/* loop only */
	struct raft_change change;
	bool busy;            /* change in flight */
	char what[256];       /* what it does, for the log */
	uint64_t retry_ms;
	uint64_t removed[CLUSTER_MAX_MEMBERS]; /* Raft ids removed here */
	size_t n_removed;
	uint64_t seen_index;  /* configuration index last logged */
	bool was_member, removed_self;
	struct cypher_proc proc;
};

struct cluster {
	uv_loop_t *loop;
	struct dbms *dbms;
	struct cluster_options o;
	struct cluster_peer self;
	char cluster_id[IDENTITY_LEN + 1]; /* "" until formed or adopted */

	/* Discovery: every member seen (self first) and the decided
	 * membership (empty until formed). */
	struct cluster_peer seen[CLUSTER_MAX_MEMBERS];
	size_t n_seen;
	struct cluster_peer members[CLUSTER_MAX_MEMBERS];
	size_t n_members;
	struct cluster_endpoint endpoints[CLUSTER_MAX_MEMBERS];
	struct tcp_server discovery; /* listener and exchanges, both ways */
	struct net_resolver resolver; /* the endpoints' host names */
	uv_timer_t tick;
	bool discovery_inited, tick_inited;
	uint64_t last_report_ms;
	unsigned tick_count;

	/* Raft. */
	bool raft_inited;  /* raft_init done: raft_close releases it */
	bool raft_started;
	struct raft_uv_transport transport;
	struct raft_io io;
	struct raft_fsm fsm;
	struct raft raft;
	uv_check_t check;
	struct raft_barrier barrier;
	bool barrier_pending;
	bool writable;
	void (*writable_cb)(void *arg);
	void *writable_arg;
	unsigned short last_state;
	raft_id last_leader;
	raft_term last_term;
	unsigned last_n_config; /* servers in the configuration */
	char apply_errmsg[GRAFT_ERRMSG_SIZE];
	/* For size pruning (snapshot.c): since the last Raft snapshot, and
	 * the average entry size last taken. */
	uint64_t applied_bytes, applied_entries, entry_avg;
	/* A Raft snapshot was installed that this member's stores do not
	 * hold (snapshot.c): it holds the entries after it instead of
	 * applying them until its stores are copied (behind.c), and as a
	 * leader hands over at once. */
	bool stores_behind;
	char behind_why[512];
	struct cluster_behind behind;
	struct raft_transfer behind_transfer;
	bool behind_transferring;
	/* The snapshot being taken (snapshot.c): the loop's log watches,
	 * which a libuv worker waits for under snap_lock. */
	pthread_mutex_t snap_lock;
	pthread_cond_t snap_cond;
	unsigned snap_waiting; /* watches not fired yet, under snap_lock */
	bool snap_failed;      /* a database closed first, under snap_lock */
	struct db_watch *snap_watches;
	size_t snap_n_watches;
	uint64_t snap_index, snap_term;
	uint64_t rate_since_ms, rate_index; /* for commands per second */
	double rate;

	/* What other threads read (topology.c): the loop publishes. */
	pthread_mutex_t status_lock;
	struct cluster_status status; /* under status_lock */
	uint64_t status_ms;           /* loop only: last published */

	struct cypher_proc procs[2]; /* registered with the engine */
	struct cluster_membership mem;
	pthread_t loop_thread;
	struct cluster_routing routing; /* routing.c */

	/* Proposals (member.c): queued until check_cb hands them to libraft
	 * in one raft_apply, at the end of a loop turn in which no batch of
	 * this member's is in flight (flight_last); then the ones proposed,
	 * in Raft index order, until their entries apply here or their
	 * outcome is lost. flush_idle keeps a turn from sleeping in poll
	 * with proposals queued after check_cb ran. */
	struct member_proposal *queued, **queued_tail;
	struct member_proposal *proposed, **proposed_tail;
	uv_idle_t flush_idle;
	unsigned n_queued;
	uint64_t flight_last; /* last entry of the batch in flight, or 0 */
	uint64_t flight_ms;   /* uv_now() when it was proposed */
	unsigned proposals; /* queued or proposed, outcome not given yet */
	uint64_t proposed_entries, proposal_batches; /* raft_apply: entries, calls */

	/* Closing. */
	bool closing;
	bool draining; /* a leader waits for its proposals to end */
	struct raft_transfer transfer;
	void (*member_done)(struct cluster *c);
	bool member_closed;
	unsigned handles_open;
	void (*close_cb)(void *arg);
	void *close_arg;
};

/* member.c */
/* Resolves host to an IPv4 dotted quad (libraft's TCP transport takes no
 * names): "a.b.c.d:port" into out. */
int member_ipv4(const char *host, uint16_t port, char *out, size_t n,
		char *errmsg);
/* Bootstraps (when bootstrap is set and the log is pristine) and starts the
 * Raft member with c->members as its configuration. */
int member_start(struct cluster *c, bool bootstrap, char *errmsg);
/* Raft id of a server id: its first 64 bits, never 0. */
uint64_t member_raft_id(const char *server_id);
/* Stops Raft (a leader transfers first), then calls done. */
void member_close(struct cluster *c, void (*done)(struct cluster *c));
/* Whether this member serves nothing: its stores miss an installed
 * snapshot (behind.c), or it stopped applying entries (a database
 * diverged: src/db/entry.c). */
bool member_unavailable(const struct cluster *c);
const char *member_role(struct cluster *c, uint64_t id);

/* Applies committed entry index (*result: its outcome), as the FSM does;
 * non-zero only when this member cannot go on (libraft's code). */
int member_apply(struct cluster *c, uint64_t index, const void *base,
		 size_t len, void **result);

/* A NotALeader error naming the leader when it is known. */
int member_not_leader(struct cluster *c, char *errmsg);

/* membership.c */
void membership_init(struct cluster *c);
/* Answers waiting procedures and refuses new ones (closing). */
void membership_close(struct cluster *c);
void membership_fini(struct cluster *c);
/* Logs a newly applied configuration, answers dbms.cluster.dropServer,
 * and on the leader takes a joining core's next step; after every loop
 * iteration. */
void membership_step(struct cluster *c);
/* Registers dbms.cluster.dropServer(serverId). */
int membership_register(struct cluster *c, struct cypher_engine *engine);

/* behind.c */
/* Installing snapshot index/term whose databases dbs (ownership passes)
 * this member's stores do not all hold: copies start from check_cb. */
void behind_begin(struct cluster *c, uint64_t index, uint64_t term,
		  struct cluster_snap_db *dbs, size_t n_dbs);
/* Keeps an entry committed while behind (libraft has marked it applied);
 * RAFT_NOMEM when it cannot. */
int behind_hold(struct cluster *c, uint64_t index, const void *base,
		size_t len);
/* Starts or retries a copy, or ends the catch-up once every database is
 * there; after every loop iteration. */
void behind_step(struct cluster *c);
/* Cuts a copy in flight (closing). */
void behind_stop(struct cluster *c);
void behind_fini(struct cluster *c);

/* discovery.c */
int discovery_start(struct cluster *c, char *errmsg);
void discovery_close(struct cluster *c);
/* A member seen by discovery (or self), by Raft id; NULL if none. */
const struct cluster_peer *discovery_peer(const struct cluster *c,
					  uint64_t id);

/* routing.c */
void routing_init(struct cluster *c);
void routing_fini(struct cluster *c);
/* Brings the view routing tables are made from up to date; loop thread,
 * after every loop iteration once Raft runs. */
void routing_refresh(struct cluster *c);

/* snapshot.c */
/* Sets libraft's snapshot threshold and trailing entries from
 * db.cluster.raft.log.prune_strategy. */
void cluster_snap_configure(struct cluster *c);
/* The same again for a size or files strategy, every few applied entries,
 * as their average size moves. */
void cluster_snap_retune(struct cluster *c);
void cluster_snap_init(struct cluster *c);
void cluster_snap_fini(struct cluster *c);
/* The FSM's snapshot (loop), snapshot_async (a libuv worker: waits until
 * the databases' logs hold what the snapshot names), snapshot_finalize
 * (loop: frees, logs) and restore. */
int cluster_snap_take(struct cluster *c, struct raft_buffer *bufs[],
		  unsigned *n_bufs);
int cluster_snap_wait_durable(struct cluster *c);
void cluster_snap_finish(struct cluster *c, struct raft_buffer *bufs[],
		     unsigned *n_bufs);
int cluster_snap_restore(struct cluster *c, struct raft_buffer *buf);
/* A database of dbs whose store knows no Raft index (copied) and stands
 * at the transaction the snapshot names takes the snapshot's index for
 * it (db_adopt_raft_index). */
void cluster_snap_adopt(struct cluster *c, const struct cluster_snap_db *dbs,
			size_t n);

/* topology.c */
void topology_init(struct cluster *c);
void topology_fini(struct cluster *c);
/* Publishes the member's state for other threads (cluster_get_status):
 * at once when changed, otherwise at most every few milliseconds. Loop
 * thread, after every iteration and after each change it makes. */
void topology_publish(struct cluster *c, bool changed);
/* The roster's fields of this member's discovery line (roster.h: its
 * positions, then the replicas it hears from) into out; returns the
 * length written. Loop thread. */
size_t topology_fields(struct cluster *c, char *out, size_t n);
/* What a discovery line or a replica's probe (p->id 0) told of its sender:
 * its roster fields. Loop thread. */
void topology_heard(struct cluster *c, const struct cluster_peer *p,
		    const char *positions, const char *replicas);

/* cluster.c */
/* One of the cluster's handles is closed (handles_open counts them): the
 * last one finishes cluster_close. */
void cluster_release(struct cluster *c);
/* uv_close callback of a handle whose data is the cluster. */
void cluster_handle_closed(uv_handle_t *h);

/* aio_reaper.c: libraft's io_destroy calls, made on the loop when a Raft
 * log segment closes, run on a thread of their own once started (0, or an
 * errno when the thread cannot start: they then stay where they are).
 * drain waits until every queued one is done and returns how many were. */
int cluster_aio_reaper_start(void);
uint64_t cluster_aio_reaper_drain(void);

#endif
