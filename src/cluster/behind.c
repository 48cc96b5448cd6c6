/* A core member whose stores are behind a Raft snapshot it installed (the
 * leader compacted its log past what this member has, and sent its
 * snapshot instead): the member catches up by itself.
 *
 * Happy path: restore (snapshot.c) finds a database below the transaction
 * the snapshot names -> behind_begin: the member reports itself
 * UNAVAILABLE and, from then on, holds every committed entry libraft hands
 * it (behind_hold: copied, in order) instead of applying it, so libraft
 * goes on taking part in Raft -> behind_step (after every loop iteration)
 * copies the first database still behind from the leader's transaction
 * port (the store source: checkpoint, then the log after it), which
 * refuses a copy holding less than the snapshot needs and installs the
 * rest atomically (dbms_replace) -> once every database holds what the
 * snapshot names, the held entries apply in order through the FSM's own
 * path (those already in a copied store are recognised by their
 * transaction id and skipped, as after a restart) -> the member reports
 * itself a FOLLOWER again and applies as usual.
 *
 * Failures: a copy that fails (connection cut, damage, an upstream that is
 * itself behind or has no checkpoint yet) changes nothing here and is
 * tried again after RETRY_MS, TRIES_PER_MEMBER times from the same member,
 * then from the next (leader first, then the other voters in turn): an
 * upstream without a checkpoint starts one when it refuses, a few seconds
 * for a 10 M graph, and moving on at once made every member write one
 * together (3 x 241 MB on one disk beside the Raft log's fsyncs). A database the snapshot names that does not exist here is
 * created empty first, then copied. A newer snapshot arriving meanwhile
 * replaces what is needed and drops the held entries it covers. While
 * behind, no snapshot of this member's own is taken (snapshot.c): it would
 * name stores that miss the held entries. A held entry that cannot be
 * applied stops the member for good, with the reason in the log. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/log.h"
#include "cluster_int.h"

#define RETRY_MS 1000
#define TRIES_PER_MEMBER 5

void cluster_set_store_source(struct cluster *c,
			      const struct cluster_store_source *src)
{
	c->behind.src = src;
}

static void free_held(struct cluster_behind *b)
{
	for (size_t i = 0; i < b->n_held; i++)
		raft_free(b->held[i].base);
	b->n_held = 0;
	b->held_bytes = 0;
}

void behind_begin(struct cluster *c, uint64_t index, uint64_t term,
		  struct cluster_snap_db *dbs, size_t n_dbs)
{
	struct cluster_behind *b = &c->behind;

	free(b->dbs);
	b->dbs = dbs;
	b->n_dbs = n_dbs;
	b->index = index;
	b->term = term;
	/* The snapshot covers every entry held so far. */
	free_held(b);
	b->attempt = 0;
	b->next_try_ms = 0;
	b->copied_bytes = 0;
	c->stores_behind = true;
	graft_warn("cluster: installed the Raft snapshot at index %" PRIu64
		   " (term %" PRIu64 ") whose stores this member lacks (%s); "
		   "it copies them from another member's transaction port "
		   "and reports itself UNAVAILABLE until they are in",
		   index, term, c->behind_why);
	topology_publish(c, true);
}

int behind_hold(struct cluster *c, uint64_t index, const void *base,
		size_t len)
{
	struct cluster_behind *b = &c->behind;
	struct cluster_held *h;

	if (b->n_held == b->cap_held) {
		size_t cap = b->cap_held > 0 ? 2 * b->cap_held : 64;

		h = realloc(b->held, cap * sizeof *h);
		if (h == NULL)
			return RAFT_NOMEM;
		b->held = h;
		b->cap_held = cap;
	}
	h = &b->held[b->n_held];
	h->base = raft_malloc(len > 0 ? len : 1);
	if (h->base == NULL)
		return RAFT_NOMEM;
	memcpy(h->base, base, len);
	h->len = len;
	h->index = index;
	b->n_held++;
	b->held_bytes += len;
	return 0;
}

/* The first database still behind (created empty if missing); NULL when
 * every one holds what the snapshot names. */
static const struct cluster_snap_db *next_behind(struct cluster *c)
{
	struct cluster_behind *b = &c->behind;
	char errmsg[GRAFT_ERRMSG_SIZE];

	for (size_t i = 0; i < b->n_dbs; i++) {
		struct db *db = dbms_get(c->dbms, b->dbs[i].name);

		if (db == NULL &&
		    dbms_mirror(c->dbms, true, b->dbs[i].name,
				cluster_snap_db_origin(&b->dbs[i]),
				dbms_change_index(c->dbms),
				errmsg) != GRAFT_OK) {
			graft_warn("cluster: cannot create database %s to copy "
				   "it into: %s", b->dbs[i].name, errmsg);
			return &b->dbs[i];
		}
		if (db == NULL)
			graft_info("cluster: created database %s (named by the "
				   "Raft snapshot) to copy its store into",
				   b->dbs[i].name);
		db = dbms_get(c->dbms, b->dbs[i].name);
		if (db == NULL || db_last_txid(db) < b->dbs[i].txid)
			return &b->dbs[i];
	}
	return NULL;
}

/* The transaction address of the attempt-th member to copy from: the
 * leader first, then the other voters in turn. */
static const struct cluster_peer *pick_upstream(struct cluster *c)
{
	const struct cluster_peer *order[CLUSTER_MAX_MEMBERS];
	const struct raft_configuration *conf = &c->raft.configuration;
	raft_id leader = 0;
	const char *addr;
	size_t n = 0;

	raft_leader(&c->raft, &leader, &addr);
	if (leader != 0 && leader != c->self.id)
		order[n++] = discovery_peer(c, leader);
	for (unsigned i = 0; i < conf->n && n < CLUSTER_MAX_MEMBERS; i++)
		if (conf->servers[i].id != c->self.id &&
		    conf->servers[i].id != leader)
			order[n++] = discovery_peer(c, conf->servers[i].id);
	for (size_t k = 0; k < n; k++) {
		const struct cluster_peer *p =
			order[(c->behind.attempt / TRIES_PER_MEMBER + k) % n];

		if (p != NULL && p->catchup[0] != '\0')
			return p;
	}
	return NULL;
}

static void copy_done_cb(struct cluster_store_req *req, int status)
{
	struct cluster *c = (struct cluster *)((char *)req -
					       offsetof(struct cluster,
							behind.req));
	struct cluster_behind *b = &c->behind;

	b->copying = false;
	if (c->closing) {
		cluster_release(c);
		return;
	}
	if (status == GRAFT_OK) {
		b->attempt = 0;
		b->next_try_ms = 0;
		b->copied_bytes += req->bytes;
		graft_info("cluster: store of %s copied from %s and installed: "
			   "checkpoint at transaction %" PRIu64 " (%" PRIu64
			   " bytes), then the log to %" PRIu64 "; the Raft "
			   "snapshot at index %" PRIu64 " needs %" PRIu64,
			   req->db, req->upstream, req->ckpt_txid, req->bytes,
			   req->last_txid, b->index, req->need_txid);
	} else {
		b->attempt++;
		b->next_try_ms = uv_now(c->loop) + RETRY_MS;
		graft_warn("cluster: store copy of %s from %s failed: %s; "
			   "trying again from %s member in %d ms",
			   req->db, req->upstream, req->errmsg,
			   c->raft.configuration.n > 2 &&
					   b->attempt % TRIES_PER_MEMBER == 0
				   ? "the next"
				   : "that",
			   RETRY_MS);
	}
	cluster_release(c);
}

static void start_copy(struct cluster *c, const struct cluster_snap_db *d)
{
	struct cluster_behind *b = &c->behind;
	struct cluster_store_req *req = &b->req;
	const struct cluster_peer *p = pick_upstream(c);
	int rv;

	b->next_try_ms = uv_now(c->loop) + RETRY_MS;
	if (p == NULL)
		return; /* no other member discovered yet */
	memset(req, 0, sizeof *req);
	req->loop = c->loop;
	req->dbms = c->dbms;
	snprintf(req->db, sizeof req->db, "%s", d->name);
	snprintf(req->upstream, sizeof req->upstream, "%s", p->catchup);
	snprintf(req->server_id, sizeof req->server_id, "%s",
		 c->self.server_id);
	req->need_txid = d->txid;
	req->cb = copy_done_cb;
	graft_info("cluster: copying the store of %s from %s (%s) at "
		   "transaction address %s: the Raft snapshot at index %" PRIu64
		   " needs transaction %" PRIu64 ", this member has %" PRIu64,
		   d->name, p->server_id, member_role(c, p->id), p->catchup,
		   b->index, d->txid, db_last_txid(dbms_get(c->dbms, d->name)));
	rv = b->src->copy(req);
	if (rv != GRAFT_OK) {
		b->attempt++;
		graft_warn("cluster: cannot start a store copy of %s from %s: "
			   "%s", d->name, p->catchup, req->errmsg);
		return;
	}
	b->copying = true;
	c->handles_open++; /* until copy_done_cb */
}

/* Every database holds what the snapshot names: the held entries apply. */
static void finish(struct cluster *c)
{
	struct cluster_behind *b = &c->behind;
	size_t n = b->n_held;
	uint64_t last = b->index;
	void *result;

	cluster_snap_adopt(c, b->dbs, b->n_dbs);
	for (size_t i = 0; i < b->n_held; i++) {
		struct cluster_held *h = &b->held[i];

		if (member_apply(c, h->index, h->base, h->len, &result) != 0) {
			/* member_apply logged why; the stores are past the
			 * entries before it, so nothing is undone. */
			b->stopped = true;
			snprintf(c->behind_why, sizeof c->behind_why,
				 "Raft entry %" PRIu64 " cannot be applied",
				 h->index);
			free_held(b);
			return;
		}
		last = h->index;
	}
	free_held(b);
	free(b->dbs);
	b->dbs = NULL;
	b->n_dbs = 0;
	c->stores_behind = false;
	graft_info("cluster: caught up with the Raft snapshot at index %" PRIu64
		   " (term %" PRIu64 "): %" PRIu64 " store bytes copied, %zu "
		   "entries held meanwhile applied, up to Raft index %" PRIu64
		   "; this member is available",
		   b->index, b->term, b->copied_bytes, n, last);
	topology_publish(c, true);
}

void behind_step(struct cluster *c)
{
	struct cluster_behind *b = &c->behind;
	const struct cluster_snap_db *d;

	if (!c->stores_behind || b->stopped || b->copying || c->closing ||
	    b->src == NULL || uv_now(c->loop) < b->next_try_ms)
		return;
	d = next_behind(c);
	if (d == NULL)
		finish(c);
	else
		start_copy(c, d);
}

void behind_stop(struct cluster *c)
{
	if (c->behind.copying)
		c->behind.src->cancel(&c->behind.req);
}

void behind_fini(struct cluster *c)
{
	free_held(&c->behind);
	free(c->behind.held);
	free(c->behind.dbs);
}
