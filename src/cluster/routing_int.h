/* The topology view routing tables are made from (routing.c): the loop
 * refreshes it (routing_refresh, after every loop iteration, copying at
 * most every few milliseconds unless the leadership changed) and any
 * thread reads it under its lock, so that a procedure running on a worker
 * thread never reads libraft's state. */
#ifndef GRAFT_CLUSTER_ROUTING_INT_H
#define GRAFT_CLUSTER_ROUTING_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "cluster.h"
#include "policy.h"
#include "roster.h"

/* A server heard from within this is alive (discovery talks to every core
 * every 3 s, replicas probe every core every 2 s). */
#define ROUTING_ALIVE_MS 10000
/* A replica not heard of for this long leaves the roster. */
#define ROUTING_FORGET_MS 60000
/* Cores and replicas a member lists at most. */
#define ROUTING_MAX_SERVERS (CLUSTER_MAX_MEMBERS + ROSTER_MAX)

struct routing_member {
	uint64_t id;                  /* Raft id */
	char bolt[CLUSTER_ADDR_LEN];  /* "" until discovery heard of it */
	char routing[CLUSTER_ADDR_LEN]; /* its routing connector, or "" */
};

struct routing_view {
	bool formed;          /* the Raft member runs */
	bool closing;
	bool self_leader;     /* and writable (its barrier committed) */
	uint64_t self_id;
	uint64_t leader_id;   /* 0: none known */
	uint64_t leader_contact_ms; /* last message from the leader */
	uint64_t leader_seen_ms;    /* last time a live leader was known */
	uint64_t election_ms;
	size_t n;             /* voters */
	struct routing_member members[CLUSTER_MAX_MEMBERS];
};

struct cluster_routing {
	pthread_mutex_t lock;
	struct routing_view view; /* under lock */
	uint64_t refreshed_ms;    /* loop only, like what follows */
	uint64_t last_leader;
	unsigned short last_state;
	bool reads_on_writers, reads_on_primaries, shuffle;
	/* set before clients, then only read: no lock; owned */
	struct policy *policies;
	size_t n_policies;
	uint64_t max_lag_ms; /* dbms.routing.reads.max_replication_lag; 0: off */
	cluster_positions_fn positions; /* the catch-up subscribers */
	void *positions_data;

	/* The roster (topology.c): loop only. */
	struct roster roster;
	struct roster_track tracks[ROSTER_MAX_DBS];
	size_t n_tracks;
	uint64_t servers_ms; /* last published */
	/* Every server as this member knows it, the cores first: under
	 * lock. */
	size_t n_servers;
	struct cypher_server servers[ROUTING_MAX_SERVERS];
};

/* Any thread, on a copy of the view: the Raft id of its writer at now
 * (ms, uv_hrtime's clock) in *writer, 0 while there is none; an error
 * (DatabaseUnavailable) when the member is not in a formed cluster, is
 * closing, or has known no live leader for several election windows. */
int routing_find_writer(const struct routing_view *v, uint64_t now,
			uint64_t *writer, struct cypher_error *err);

#endif
