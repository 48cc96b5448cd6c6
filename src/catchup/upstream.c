/* Upstream selection (causal_clustering.upstream_selection_strategy), as
 * Neo4j 4.x's strategies pick, for streams that stay open:
 * - default: the core that reports itself leader, else (or after a
 *   failed attempt) as connect-to-random-core-server (graft's choice: a follower learns that
 *   an entry committed only with the leader's next message, so its
 *   stream runs a Raft round behind the leader's, 1.5-2 ms measured at
 *   1,000-5,000 writes/s, up to the heartbeat interval when writes are
 *   rare);
 * - connect-to-random-core-server: the cores in turn, from a random one;
 * - leader-only: the core that reports itself leader;
 * - typically-connect-to-random-read-replica: another replica at random,
 *   but a core every CORE_EVERY-th pick, and when no replica is known;
 * - connect-randomly-within-server-group: a replica sharing one of this
 *   replica's server groups (initial.server.tags), else a core.
 * A replica is a candidate while the cores pass it on (heard within
 * REPLICA_ALIVE_MS) with its transaction address.
 *
 * Neo4j picks again at every pull; graft's streams stay open, so
 * upstream_leave (checked every CHECK_MS) moves a default stream to the
 * leader once another core reports that it leads, and three rules keep a
 * chain sound:
 * - a core taken because no replica fitted is left once one does (a
 *   replica started before the one it should chain from);
 * - a replica upstream that has not reached, within STALE_MS, what the
 *   cores had when it was first seen behind them is left: it is stuck, or
 *   a ring of replicas follows itself and none would ever move;
 * - a replica upstream that failed or was left is shunned for SHUN_MS, so
 *   that the next pick (a core if it was the only one) does not return to
 *   a dead member while the cores still pass it on.
 * Records applied stay; the next upstream resumes after them. */
#include <stdlib.h>
#include <string.h>

#include "replica_int.h"

#define CORE_EVERY 10
#define CHECK_MS 1000
#define STALE_MS 5000
#define SHUN_MS REPLICA_ALIVE_MS

static bool core_ok(const struct catchup_replica *r, int i)
{
	const struct replica_core *c = &r->cores[i];

	return c->known && c->answering && c->p.catchup[0] != '\0' &&
	       (r->o.strategy != CATCHUP_LEADER_ONLY ||
		strcmp(c->p.role, "LEADER") == 0);
}

/* Whether the comma-separated lists a and b share an entry. */
static bool share_group(const char *a, const char *b)
{
	char copy[CLUSTER_TAGS_LEN], *save = NULL;
	size_t len;

	snprintf(copy, sizeof copy, "%s", a);
	for (char *t = strtok_r(copy, ",", &save); t != NULL;
	     t = strtok_r(NULL, ",", &save)) {
		len = strlen(t);
		for (const char *p = b; (p = strstr(p, t)) != NULL; p += len)
			if ((p == b || p[-1] == ',') &&
			    (p[len] == ',' || p[len] == '\0'))
				return true;
	}
	return false;
}

static bool replica_ok(const struct follow *f, const struct roster_server *s,
		       uint64_t now)
{
	const struct catchup_replica *r = f->r;

	return s->replica && s->catchup[0] != '\0' &&
	       now - s->seen_ms < REPLICA_ALIVE_MS &&
	       !(now < f->shunned_until &&
		 strcmp(s->server_id, f->shunned) == 0) &&
	       (r->o.strategy != CATCHUP_SERVER_GROUP ||
		share_group(r->o.tags, s->tags));
}

/* A replica fitting the strategy at random, or NULL. */
static const struct roster_server *some_replica(const struct follow *f)
{
	const struct roster *ro = &f->r->roster;
	uint64_t now = uv_now(f->r->loop);
	size_t n = 0, k;

	for (size_t i = 0; i < ro->n; i++)
		n += replica_ok(f, &ro->servers[i], now);
	if (n == 0)
		return NULL;
	k = (size_t)rand() % n;
	for (size_t i = 0; i < ro->n; i++)
		if (replica_ok(f, &ro->servers[i], now) && k-- == 0)
			return &ro->servers[i];
	return NULL;
}

static bool is_leader(const struct catchup_replica *r, int i)
{
	return core_ok(r, i) && strcmp(r->cores[i].p.role, "LEADER") == 0;
}

/* The core that reports itself leader, or -1. */
static int leader_core(const struct catchup_replica *r)
{
	for (int i = 0; i < CATCHUP_MAX_UPSTREAMS; i++)
		if (is_leader(r, i))
			return i;
	return -1;
}

/* The next core after the one tried last, or -1. */
static int next_core(const struct follow *f)
{
	int start = f->last_core >= 0 ? f->last_core + 1 : rand();

	for (int k = 0; k < CATCHUP_MAX_UPSTREAMS; k++) {
		int i = (start + k) % CATCHUP_MAX_UPSTREAMS;

		if (core_ok(f->r, i))
			return i;
	}
	return -1;
}

bool upstream_pick(struct follow *f)
{
	struct catchup_replica *r = f->r;
	const struct roster_server *s = NULL;
	bool chains = r->o.strategy == CATCHUP_RANDOM_REPLICA ||
		      r->o.strategy == CATCHUP_SERVER_GROUP;
	bool core_turn = r->o.strategy == CATCHUP_RANDOM_REPLICA &&
			 ++r->picks % CORE_EVERY == 0;
	int i;

	if (chains && !core_turn)
		s = some_replica(f);
	if (s != NULL) {
		snprintf(f->up.server_id, sizeof f->up.server_id, "%s",
			 s->server_id);
		snprintf(f->up.catchup, sizeof f->up.catchup, "%s",
			 s->catchup);
		f->up.core = -1;
		f->fallback = false;
		return true;
	}
	/* After a failed attempt the leader may be the one that failed
	 * (the probes say so only later): the cores in turn meanwhile. */
	i = r->o.strategy == CATCHUP_LEADER_FIRST && f->attempts == 0
		    ? leader_core(r)
		    : -1;
	if (i < 0)
		i = next_core(f);
	if (i < 0)
		return false;
	f->last_core = i;
	snprintf(f->up.server_id, sizeof f->up.server_id, "%s",
		 r->cores[i].p.server_id);
	snprintf(f->up.catchup, sizeof f->up.catchup, "%s",
		 r->cores[i].p.catchup);
	f->up.core = i;
	f->fallback = chains && !core_turn;
	return true;
}

unsigned upstream_count(const struct follow *f)
{
	const struct catchup_replica *r = f->r;
	uint64_t now = uv_now(r->loop);
	unsigned n = 0;

	for (int i = 0; i < CATCHUP_MAX_UPSTREAMS; i++)
		n += core_ok(r, i);
	for (size_t i = 0; i < r->roster.n &&
			   (r->o.strategy == CATCHUP_RANDOM_REPLICA ||
			    r->o.strategy == CATCHUP_SERVER_GROUP);
	     i++)
		n += replica_ok(f, &r->roster.servers[i], now);
	return n > r->o.n_discovery ? n : (unsigned)r->o.n_discovery;
}

/* The newest position of f's database any core answered with; 0 if
 * none. */
static uint64_t cores_newest(const struct follow *f)
{
	const struct catchup_replica *r = f->r;
	uint64_t max = 0, at;

	for (int i = 0; i < CATCHUP_MAX_UPSTREAMS; i++) {
		struct roster_server s;

		if (!r->cores[i].answering)
			continue;
		memset(&s, 0, sizeof s);
		if (roster_positions_parse(&s, r->cores[i].p.positions, 0) ==
			    GRAFT_OK &&
		    roster_applied(&s, f->db, &at) && at > max)
			max = at;
	}
	return max;
}

/* Whether the replica upstream has stayed behind the cores past
 * STALE_MS. */
static bool upstream_stale(struct follow *f, uint64_t now)
{
	struct db *d = dbms_get(f->r->dbms, f->db);
	uint64_t has = d != NULL && db_last_txid(d) > f->upstream_last
			       ? db_last_txid(d)
			       : f->upstream_last;
	uint64_t newest;

	if (f->behind_since != 0 && has >= f->behind_target)
		f->behind_since = 0;
	if (f->behind_since != 0)
		return now - f->behind_since > STALE_MS;
	newest = cores_newest(f);
	if (newest > has) {
		f->behind_target = newest;
		f->behind_since = now;
	}
	return false;
}

bool upstream_leave(struct follow *f, char *why, size_t n)
{
	uint64_t now = uv_now(f->r->loop);

	if (now < f->next_check_ms)
		return false;
	f->next_check_ms = now + CHECK_MS;
	if (f->up.core < 0 && upstream_stale(f, now)) {
		snprintf(why, n, "it has not reached transaction %llu, which "
			 "the cores had %llu ms ago",
			 (unsigned long long)f->behind_target,
			 (unsigned long long)(now - f->behind_since));
		return true;
	}
	if (f->up.core >= 0 && f->fallback && some_replica(f) != NULL) {
		snprintf(why, n, "a read replica of the strategy is known "
			 "now");
		return true;
	}
	if (f->r->o.strategy == CATCHUP_LEADER_FIRST && f->up.core >= 0 &&
	    !is_leader(f->r, f->up.core) && leader_core(f->r) >= 0) {
		snprintf(why, n, "%s leads now",
			 f->r->cores[leader_core(f->r)].p.server_id);
		return true;
	}
	return false;
}

void upstream_shun(struct follow *f)
{
	f->behind_since = 0;
	if (f->up.core >= 0)
		return;
	snprintf(f->shunned, sizeof f->shunned, "%s", f->up.server_id);
	f->shunned_until = uv_now(f->r->loop) + SHUN_MS;
}
