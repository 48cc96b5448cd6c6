/* The roster: what a member knows of every server of the cluster beyond
 * libraft's configuration, above all the read replicas, which take no part
 * in Raft. Each server tells what it is with the discovery exchange (a core
 * every 3 s to every core, a replica in its probe every 2 s to every core):
 * its addresses, its tags and, per database, the last transaction it
 * applied. A core also passes on the replicas it heard from, so that a
 * replica, which only talks to cores, knows the other replicas too.
 *
 * How far behind a reader is (lag) is measured in time, on the member that
 * asks: each member keeps, per database, when it first knew of each recent
 * transaction (a track of the newest position any server reported), and
 * with each server's position when that position was last known to hold
 * (reports passed on by a core carry their age). A reader at X as of time
 * T had been behind for T minus the time this member first knew of a
 * transaction after X (0 when it held the newest known then): its lag is
 * that, not the age of the report, since positions travel only every 2-3 s
 * and a reader keeping up under continuous writes would otherwise look up
 * to that long behind (lag bounds of a few seconds would flap). A reader
 * not heard of for ROSTER_REPORT_MS while this member knows a transaction
 * after X is taken to be still behind: its lag is then now minus that
 * time, as it would be were it stopped.
 *
 * Pure: text in and out, times given by the caller (monotonic ms). The
 * owner (a core's loop, a replica's loop) serialises access. */
#ifndef GRAFT_CLUSTER_ROSTER_H
#define GRAFT_CLUSTER_ROSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cluster.h"

#define ROSTER_MAX 32     /* servers: cores and replicas */
#define ROSTER_MAX_DBS 8  /* databases whose positions are kept */
#define ROSTER_DB_LEN 64
#define ROSTER_TRACK_LEN 1024 /* samples a track remembers ... */
#define ROSTER_TRACK_MS 100   /* ... one per 100 ms at most: 102 s */
#define ROSTER_TEXT_LEN 2048 /* the discovery fields, at most */
/* Every server's position reaches every member within this, while the
 * server runs: a core's discovery line every 3 s, a replica's probe every
 * 2 s and its upstream passing on its catch-up reports (every batch and
 * heartbeat) every 3 s; the rest is room for a loaded machine. */
#define ROSTER_REPORT_MS 5000

struct roster_db {
	char name[ROSTER_DB_LEN];
	uint64_t applied; /* last transaction applied there */
	uint64_t at_ms;   /* when it was last known to be there */
};

struct roster_server {
	char server_id[IDENTITY_LEN + 1];
	char bolt[CLUSTER_ADDR_LEN], http[CLUSTER_ADDR_LEN]; /* host:port */
	char tags[CLUSTER_TAGS_LEN];                          /* "a,b" */
	char catchup[CLUSTER_ADDR_LEN]; /* a replica's transaction address */
	bool replica;
	uint64_t seen_ms;   /* last heard of, directly or through a core */
	uint64_t direct_ms; /* last heard from directly; 0: never */
	size_t n_dbs;
	struct roster_db dbs[ROSTER_MAX_DBS];
};

struct roster {
	size_t n;
	struct roster_server servers[ROSTER_MAX];
};

/* The server of that id, added (zeroed but for the id) when new; NULL
 * when the roster is full. */
struct roster_server *roster_put(struct roster *r, const char *server_id);
/* The server of that id, or NULL. */
const struct roster_server *roster_find(const struct roster *r,
					const char *server_id);
/* Forgets the servers not heard of since now - max_age_ms. */
void roster_expire(struct roster *r, uint64_t now, uint64_t max_age_ms);
/* The position of s in database db; false when s did not tell it. */
bool roster_applied(const struct roster_server *s, const char *db,
		    uint64_t *applied);
/* Raises s's position in db to applied, known to hold at at_ms (added if
 * there is room): positions only grow, so an older report passed on by a
 * core never takes one back; the same position known later moves at_ms
 * on. */
void roster_set_applied(struct roster_server *s, const char *db,
			uint64_t applied, uint64_t at_ms);

/* On the wire (no spaces: one field of a discovery line each):
 * positions  "<db>:<txid>[@<age ms>],..." or "-" (no age: as of now)
 * replicas   "<server id>/<bolt|->/<http|->/<tags|->/<positions>
 *            [/<transaction address|->]" joined by ';', or "-" */
void roster_positions_text(const struct roster_server *s, uint64_t now,
			   char *out, size_t n);
/* Positions of text, received at now; GRAFT_OK, or GRAFT_EINVAL when text
 * is malformed (s keeps what it parsed before). */
int roster_positions_parse(struct roster_server *s, const char *text,
			   uint64_t now);
/* The replicas of r heard from directly since now - max_age_ms, as many as
 * fit (only those: a replica that went away stops being passed on). */
void roster_replicas_text(const struct roster *r, uint64_t now,
			  uint64_t max_age_ms, char *out, size_t n);
/* Adds or refreshes each replica of text (seen at now), except self_id;
 * GRAFT_EINVAL when malformed. */
int roster_replicas_parse(struct roster *r, const char *text,
			  const char *self_id, uint64_t now);

/* When this member first held each of a database's recent transactions. */
struct roster_track {
	char db[ROSTER_DB_LEN];
	size_t head, n; /* ring: oldest at head */
	struct {
		uint64_t txid, ms;
	} ring[ROSTER_TRACK_LEN];
};
/* Notes that txid is the newest known at now; a no-op unless it is newer
 * than the last noted (an older one starts the track over: the database
 * was dropped and created again). */
void roster_track_note(struct roster_track *t, uint64_t txid, uint64_t now);
/* The lag at now of a reader known at at_ms to have applied applied (see
 * the top): 0 when applied is the newest noted or later. */
uint64_t roster_track_lag_ms(const struct roster_track *t, uint64_t applied,
			     uint64_t at_ms, uint64_t now);
/* Notes the newest position of each database of the n servers in tracks
 * (*n_tracks of ROSTER_MAX_DBS; a track is added for a new database), then
 * sets each server's lag: transactions behind that newest, and time
 * behind by the track (from each position's at_ms). */
void roster_lags(struct cypher_server *sv, size_t n,
		 struct roster_track *tracks, size_t *n_tracks, uint64_t now);

#endif
