/* The Raft member (docs/design/libraft-notes.md says what libraft 0.15
 * demands; the points that shape this file):
 * - the FSM applies every committed entry through dbms_apply_entry and
 *   returns 0 even for a rejected transaction: the rejection is the entry's
 *   result (a non-zero return would make libraft retry the entry forever);
 * - a new leader is writable only after a barrier of its own term commits,
 *   so that everything earlier leaders committed is applied before it
 *   validates and numbers new transactions;
 * - libraft has no state-change callback: a uv_check handle looks at the
 *   state after every loop iteration (no added latency) and logs elections
 *   and leader changes with term and index;
 * - the commits of one loop turn are proposed together, in one raft_apply
 *   (check_cb flushes them after the turn's I/O): one AppendEntries to each
 *   follower and one log write for the batch instead of one each; and
 *   while a batch is in flight (proposed, not yet applied here) the next
 *   one collects (group commit over Raft rounds: flush). libraft
 *   calls back once per batch, so each commit's outcome comes from its own
 *   entry's apply (member_apply claims it): while this member leads in the
 *   term of the proposal, the entry at its index is the proposal;
 * - a proposal whose leader steps down ends unknown (GRAFT_EUNKNOWN): the
 *   next leader may still commit it, so never "failed, retry"; one queued
 *   but never handed to libraft ends NotALeader (nothing was appended);
 * - Raft snapshots are small (snapshot.c): the databases' own logs and
 *   checkpoints are the state; entries libraft replays after the last one
 *   at a start are skipped by dbms_apply_entry where already held. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../util/fs.h"
#include "../util/log.h"
#include "cluster_int.h"

#if defined(__SANITIZE_ADDRESS__)
/* libraft 0.15 (Debian 12) loses an array it grows with realloc while
 * raft_start loads a log that holds entries (a restart): the leak checker
 * of the sanitized build would fail every clean stop of a restarted member.
 * libraft has no frame pointers, so a leak's stack ends inside it; routing
 * libraft's reallocs through a function of ours names them, and only they
 * are excused. Its other allocations, and the buffers graft allocates with
 * raft_malloc, stay checked. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libraft_realloc\n";
}

static void *libraft_malloc(void *data, size_t n)
{
	(void)data;
	return malloc(n);
}

static void libraft_free(void *data, void *p)
{
	(void)data;
	free(p);
}

static void *libraft_calloc(void *data, size_t n, size_t size)
{
	(void)data;
	return calloc(n, size);
}

__attribute__((noinline)) static void *libraft_realloc(void *data, void *p,
						       size_t n)
{
	void *q = realloc(p, n);

	(void)data;
	__asm__ volatile("" ::: "memory"); /* keeps this frame: no tail call */
	return q;
}

static void *libraft_aligned_alloc(void *data, size_t alignment, size_t n)
{
	(void)data;
	return aligned_alloc(alignment, n);
}

static void libraft_aligned_free(void *data, size_t alignment, void *p)
{
	(void)data;
	(void)alignment;
	free(p);
}

/* libraft's heap is process-wide. */
static struct raft_heap libraft_heap = {
	.malloc = libraft_malloc,
	.free = libraft_free,
	.calloc = libraft_calloc,
	.realloc = libraft_realloc,
	.aligned_alloc = libraft_aligned_alloc,
	.aligned_free = libraft_aligned_free,
};

static void heap_init(void)
{
	raft_heap_set(&libraft_heap);
}
#else
static void heap_init(void)
{
}
#endif

/* A transaction (ins[0]), the transactions of several databases that go
 * together (ins[0..n_in): db_commit_group) or a CREATE/DROP DATABASE
 * (change): queued in its loop turn (c->queued), then proposed
 * (c->proposed) as the entry at index until that entry applies here or its
 * outcome is lost. term: the leader's term it was validated in. */
struct member_proposal {
	struct member_proposal *next;
	struct cluster *c;
	struct raft_buffer buf; /* owned until libraft takes it (base NULL) */
	uint64_t term;
	uint64_t index; /* once proposed */
	struct dbms_change_req *change;
	size_t n_in;
	struct db_inflight *ins[];
};

/* One raft_apply: the proposals of one loop turn, entries up to last.
 * libraft 0.15 calls back once for the whole batch (src/replication.c
 * applyCommand and getRequest match the request by its first index): with
 * 0 right after the first entry applied, or with an error when the batch
 * was lost before that (leadership lost, a failed write, a close). So each
 * entry's outcome comes from its own apply (member_apply), never from this
 * callback; the callback only tells of a loss. */
struct member_batch {
	struct raft_apply req;
	struct cluster *c;
	uint64_t last;
};

/* Entries handed to libraft in one raft_apply at most: one AppendEntries
 * message to each follower and one write instead of one each. */
#define MEMBER_BATCH_MAX 256
/* A batch in flight longer than this no longer holds the next one back
 * (flush): a round that stalls (a follower's slow fsync, a lost majority)
 * lets what queued meanwhile go to libraft, so the hold never adds more
 * than this, and a leader that loses its majority has proposed what its
 * clients sent rather than refused it. */
#define MEMBER_HOLD_MS 10

uint64_t member_raft_id(const char *server_id)
{
	uint64_t id = 0;
	int digits = 0;

	for (const char *p = server_id; *p != '\0' && digits < 16; p++) {
		char hex[2] = {*p, '\0'};

		if (*p == '-')
			continue;
		id = id << 4 | strtoull(hex, NULL, 16);
		digits++;
	}
	return id != 0 ? id : 1;
}

int member_ipv4(const char *host, uint16_t port, char *out, size_t n,
		char *errmsg)
{
	struct addrinfo hints = {.ai_family = AF_INET,
				 .ai_socktype = SOCK_STREAM};
	struct addrinfo *res = NULL;
	char ip[INET_ADDRSTRLEN];
	int rv = getaddrinfo(host, NULL, &hints, &res);

	if (rv != 0 || res == NULL)
		return graft_errf(errmsg, GRAFT_ENOTFOUND,
				  "cannot resolve %s to an IPv4 address (%s); "
				  "Raft needs an IPv4 address or a name that "
				  "resolves to one",
				  host, gai_strerror(rv));
	inet_ntop(AF_INET, &((struct sockaddr_in *)res->ai_addr)->sin_addr, ip,
		  sizeof ip);
	freeaddrinfo(res);
	graft_address_format(out, n, ip, port);
	return GRAFT_OK;
}

bool member_unavailable(const struct cluster *c)
{
	return c->stores_behind || dbms_entries_stopped(c->dbms);
}

const char *member_role(struct cluster *c, uint64_t id)
{
	raft_id leader = 0;
	const char *addr;

	/* A member whose stores miss an installed snapshot, or that stopped
	 * applying entries, serves nothing. */
	if (!c->raft_started || (id == c->self.id && member_unavailable(c)))
		return "UNAVAILABLE";
	raft_leader(&c->raft, &leader, &addr);
	if (id == c->self.id) {
		switch (raft_state(&c->raft)) {
		case RAFT_LEADER:
			return "LEADER";
		case RAFT_CANDIDATE:
			return "CANDIDATE";
		case RAFT_FOLLOWER:
			return "FOLLOWER";
		default:
			return "UNAVAILABLE";
		}
	}
	return leader == id ? "LEADER" : "FOLLOWER";
}

/* The FSM ---------------------------------------------------------------- */

static void lose_stale(struct cluster *c);
static void claim(struct cluster *c, uint64_t index, int rv);

int member_apply(struct cluster *c, uint64_t index, const void *base,
		 size_t len, void **result)
{
	int rv;

	/* Proposals of a term this member no longer leads end before any
	 * other entry applies: their buffers may be gone from the log, and
	 * their addresses taken by the entry applied now (commit.c
	 * entry_is). */
	lose_stale(c);
	if (index >= c->flight_last)
		c->flight_last = 0; /* committed: the next batch may go */
	/* Applied behind the gate, now or once readers leave it; when the
	 * entry is this leader's proposal, claim takes its outcome
	 * (dbms_entry_outcome) while it is the last one submitted. */
	rv = dbms_entry_submit(c->dbms, index, base, len, c->apply_errmsg);
	c->applied_bytes += len;
	c->applied_entries++;
	cluster_snap_retune(c);
	claim(c, index, rv);
	if (rv != GRAFT_OK) {
		/* Every member would fail alike: this member cannot go on
		 * without diverging, and a newer release can. */
		graft_error("cluster: Raft entry %llu cannot be applied: %s",
			    (unsigned long long)index, c->apply_errmsg);
		return rv == GRAFT_ENOMEM ? RAFT_NOMEM : RAFT_MALFORMED;
	}
	*result = NULL;
	return 0;
}

static int fsm_apply(struct raft_fsm *fsm, const struct raft_buffer *buf,
		     void **result)
{
	struct cluster *c = fsm->data;
	uint64_t index = c->raft.last_applied + 1;

	/* Applying past a snapshot whose stores are missing would diverge:
	 * the entry waits until the stores are copied (behind.c). A member
	 * that cannot go on refuses it (libraft then stops applying). */
	if ((c->stores_behind && c->behind.stopped) ||
	    dbms_entries_stopped(c->dbms))
		return RAFT_MALFORMED; /* logged when it stopped */
	if (c->stores_behind) {
		*result = (void *)(intptr_t)GRAFT_OK;
		return behind_hold(c, index, buf->base, buf->len);
	}
	return member_apply(c, index, buf->base, buf->len, result);
}

static int fsm_snapshot(struct raft_fsm *fsm, struct raft_buffer *bufs[],
			unsigned *n_bufs)
{
	return cluster_snap_take(fsm->data, bufs, n_bufs);
}

static int fsm_snapshot_async(struct raft_fsm *fsm, struct raft_buffer *bufs[],
			      unsigned *n_bufs)
{
	(void)bufs;
	(void)n_bufs;
	return cluster_snap_wait_durable(fsm->data);
}

static int fsm_snapshot_finalize(struct raft_fsm *fsm,
				 struct raft_buffer *bufs[], unsigned *n_bufs)
{
	cluster_snap_finish(fsm->data, bufs, n_bufs);
	return 0;
}

static int fsm_restore(struct raft_fsm *fsm, struct raft_buffer *buf)
{
	return cluster_snap_restore(fsm->data, buf);
}

/* The replicator ---------------------------------------------------------- */

int member_not_leader(struct cluster *c, char *errmsg)
{
	const struct cluster_peer *p;
	raft_id leader = 0;
	const char *addr;

	if (c->closing)
		return graft_errf(errmsg, GRAFT_ENOTLEADER,
				  "this member is shutting down; write to the "
				  "cluster's leader");
	if (!c->raft_started)
		return graft_errf(errmsg, GRAFT_ENOTLEADER,
				  "this member is not in a cluster yet (it "
				  "waits for the cluster to form or to be "
				  "added to it); write to the cluster's "
				  "leader");
	raft_leader(&c->raft, &leader, &addr);
	if (leader == c->self.id)
		return graft_errf(errmsg, GRAFT_ENOTLEADER,
				  "this member was just elected leader and "
				  "takes writes once its first entry commits; "
				  "retry");
	p = leader != 0 ? discovery_peer(c, leader) : NULL;
	if (p != NULL)
		return graft_errf(errmsg, GRAFT_ENOTLEADER,
				  "this member is a follower; the leader is "
				  "%s at bolt://%s",
				  p->server_id, p->bolt);
	return graft_errf(errmsg, GRAFT_ENOTLEADER,
			  "this member is a follower and no leader is known "
			  "right now (an election is under way); retry");
}

static void hand_over(struct cluster *c);

/* p's outcome, given once; p is freed. */
static void proposal_end(struct member_proposal *p, int status,
			 const char *msg)
{
	struct cluster *c = p->c;

	if (p->change != NULL)
		dbms_change_done(p->change, status, msg);
	for (size_t i = 0; i < p->n_in; i++)
		db_inflight_done(p->ins[i], status, msg);
	/* after done: the commit no longer claims an entry at this
	 * address (commit.c entry_is) */
	raft_free(p->buf.base);
	free(p);
	c->proposals--;
	if (c->draining && c->proposals == 0)
		hand_over(c);
}

static struct member_proposal *proposed_pop(struct cluster *c)
{
	struct member_proposal *p = c->proposed;

	c->proposed = p->next;
	if (c->proposed == NULL)
		c->proposed_tail = &c->proposed;
	p->next = NULL;
	return p;
}

/* The proposals up to entry last, not applied here: another leader may
 * still commit them, so their outcome is unknown. */
static void lose_proposed(struct cluster *c, uint64_t last, const char *why)
{
	char msg[GRAFT_ERRMSG_SIZE];

	snprintf(msg, sizeof msg,
		 "this member stopped being the leader (%s) after the "
		 "transaction was proposed, before it was known to be "
		 "committed",
		 why);
	while (c->proposed != NULL && c->proposed->index <= last)
		proposal_end(proposed_pop(c), GRAFT_EUNKNOWN, msg);
	if (c->flight_last <= last || c->proposed == NULL)
		c->flight_last = 0;
}

/* A leader never rewrites its log within its term: while this member
 * leads in the term a proposal was made in, the entry at its index is
 * that proposal. Once it does not, every proposal still open is lost
 * (terms only grow along c->proposed, and none of a new term is proposed
 * before the stale ones end: check_cb calls this first). */
static void lose_stale(struct cluster *c)
{
	if (c->proposed != NULL &&
	    (raft_state(&c->raft) != RAFT_LEADER ||
	     c->raft.current_term != c->proposed->term))
		lose_proposed(c, UINT64_MAX, "its term ended");
}

/* The proposal's outcome, once its entry applied here. */
static void outcome_cb(void *data, int status, const char *errmsg)
{
	proposal_end(data, status, errmsg);
}

/* Entry index was just submitted (rv): when it is this leader's
 * proposal, the proposal claims its outcome. */
static void claim(struct cluster *c, uint64_t index, int rv)
{
	struct member_proposal *p;

	/* Entries apply in index order: one skipped cannot be (it is
	 * lost, were it to happen). */
	while (c->proposed != NULL && c->proposed->index < index)
		lose_proposed(c, c->proposed->index,
			      "its entry was not applied in order");
	if (c->proposed == NULL || c->proposed->index != index)
		return;
	p = proposed_pop(c);
	if (rv != GRAFT_OK) {
		proposal_end(p, GRAFT_EUNKNOWN, c->apply_errmsg);
		return;
	}
	dbms_entry_outcome(c->dbms, index, outcome_cb, p);
}

static void apply_cb(struct raft_apply *req, int status, void *result)
{
	struct member_batch *b = req->data;

	(void)result;
	if (status != 0)
		lose_proposed(b->c, b->last, raft_strerror(status));
	free(b);
}

/* Hands the queued proposals to libraft, MEMBER_BATCH_MAX entries per
 * raft_apply. A proposal validated in an earlier term, or queued by a
 * member that no longer leads, fails NotALeader: nothing of it was
 * appended. raft_apply may fail after appending some of the entries
 * (libraft 0.15 logAppendCommands stops at the first that fails and
 * leaves the ones before it in the log): those are proposed (they may
 * commit) and only the others fail. */
static void flush_batch(struct cluster *c)
{
	struct raft_buffer bufs[MEMBER_BATCH_MAX];
	struct member_proposal *ps[MEMBER_BATCH_MAX];
	struct member_proposal *failed = NULL, **failed_tail = &failed, *p;
	struct member_batch *b;
	uint64_t before, term = c->raft.current_term;
	bool leads = raft_state(&c->raft) == RAFT_LEADER;
	unsigned n = 0, taken = 0;
	char msg[GRAFT_ERRMSG_SIZE];
	int rv = RAFT_NOTLEADER;

	while (c->queued != NULL && n < MEMBER_BATCH_MAX) {
		p = c->queued;
		c->queued = p->next;
		p->next = NULL;
		c->n_queued--;
		if (leads && p->term == term) {
			bufs[n] = p->buf;
			ps[n++] = p;
		} else {
			*failed_tail = p;
			failed_tail = &p->next;
		}
	}
	if (c->queued == NULL)
		c->queued_tail = &c->queued;
	b = n > 0 ? malloc(sizeof *b) : NULL;
	if (b != NULL) {
		b->c = c;
		b->req.data = b;
		before = raft_last_index(&c->raft);
		b->last = before + n;
		rv = raft_apply(&c->raft, &b->req, bufs, n, apply_cb);
		taken = rv == 0 ? n : (unsigned)(raft_last_index(&c->raft) -
						 before);
		if (rv != 0)
			free(b); /* libraft never calls back */
		c->proposed_entries += taken;
		c->proposal_batches += taken > 0;
		if (taken > 0) {
			c->flight_last = before + taken;
			c->flight_ms = uv_now(c->loop);
		}
		for (unsigned i = 0; i < taken; i++) {
			ps[i]->buf.base = NULL; /* libraft's now */
			ps[i]->index = before + 1 + i;
			*c->proposed_tail = ps[i];
			c->proposed_tail = &ps[i]->next;
		}
	} else if (n > 0) {
		rv = RAFT_NOMEM;
	}
	for (unsigned i = n; i > taken; i--) {
		ps[i - 1]->next = failed;
		failed = ps[i - 1];
	}
	if (failed == NULL)
		return;
	if (rv == RAFT_NOTLEADER || !leads)
		member_not_leader(c, msg);
	else
		graft_errf(msg, GRAFT_EIO, "raft_apply(): %s (%s)",
			   raft_strerror(rv), raft_errmsg(&c->raft));
	rv = rv == RAFT_NOTLEADER || !leads ? GRAFT_ENOTLEADER : GRAFT_EIO;
	while ((p = failed) != NULL) {
		failed = p->next;
		/* validated in an earlier term, by this leader still: not a
		 * leader of that term any more */
		proposal_end(p, p->term != term ? GRAFT_ENOTLEADER : rv, msg);
	}
}

/* Group commit over Raft rounds: while this leader's previous batch is in
 * flight (its last entry not yet applied here), what arrives meanwhile
 * waits and goes as the next batch once it committed, at MEMBER_BATCH_MAX
 * queued, or at the first loop turn after MEMBER_HOLD_MS. At 64 clients a raft_apply then carries what
 * arrived during a whole round instead of what one loop turn read: fewer
 * AppendEntries, log writes and follower wake-ups per transaction, and
 * the round no longer queues behind a pipeline of small batches (at 64
 * clients on 2 cores: 12-16k tx/s against 11-12k, p99 14-18 ms against
 * 46-49 ms, alternating runs). One client never waits: nothing of its
 * own is in flight when it commits. The check after every loop turn
 * flushes once the batch applied; a lost batch (lose_proposed) frees the
 * way as well. */
static void flush(struct cluster *c)
{
	uv_idle_stop(&c->flush_idle);
	if (c->flight_last != 0 && c->proposed != NULL &&
	    c->n_queued < MEMBER_BATCH_MAX && !c->closing &&
	    uv_now(c->loop) - c->flight_ms < MEMBER_HOLD_MS &&
	    raft_state(&c->raft) == RAFT_LEADER)
		return;
	while (c->queued != NULL)
		flush_batch(c);
}

/* A proposal queued after check_cb ran in a loop turn: the next turn
 * does not sleep in poll before proposing it. */
static void flush_idle_cb(uv_idle_t *h)
{
	flush(h->data);
}

/* Ends every proposal (the member closed). */
static void proposals_close(struct cluster *c)
{
	char msg[GRAFT_ERRMSG_SIZE];
	struct member_proposal *p;

	lose_proposed(c, UINT64_MAX, "it stopped");
	member_not_leader(c, msg);
	while ((p = c->queued) != NULL) {
		c->queued = p->next;
		c->n_queued--;
		if (c->queued == NULL)
			c->queued_tail = &c->queued;
		proposal_end(p, GRAFT_ENOTLEADER, msg);
	}
}

/* An entry this big or bigger is handed to libraft as it is when its
 * proposer allows (propose_buf); a smaller one is copied, which costs less
 * than the growth of a buffer built from nothing for each entry. */
#define MEMBER_TAKE_BYTES (64 * 1024)

/* Queues entry for ins[0..n_in) or change (n_in 0), to be proposed with
 * the other proposals of this loop turn (flush). own (or NULL): the memory
 * entry is in, which libraft may take instead of a copy: raft_apply takes
 * the buffers it is given on success and frees them with raft_free, which
 * is the C library's free whatever heap_init did, so memory graft
 * allocated with malloc may be handed over. On success own is left
 * empty; on an error it is the caller's still. From GRAFT_OK on, the
 * outcome comes later, on the loop, whatever it is (NotALeader
 * included). */
static int submit(struct cluster *c, const void *entry, size_t len,
		  struct graft_buf *own, struct db_inflight *const ins[],
		  size_t n_in, struct dbms_change_req *change, char *errmsg)
{
	bool take = own != NULL && len >= MEMBER_TAKE_BYTES;
	struct member_proposal *p;

	if (c->closing || !c->writable)
		return member_not_leader(c, errmsg);
	/* libraft holds the entry until a snapshot: not the room a buffer
	 * grew by (a shrinking realloc stays in place). */
	if (take && own->cap > len + len / 8) {
		void *q = realloc(own->data, len);

		if (q != NULL) {
			own->data = q;
			own->cap = len;
		}
		entry = own->data;
	}
	p = malloc(sizeof *p + n_in * sizeof *ins);
	if (p == NULL)
		return GRAFT_ENOMEM;
	p->buf.len = len;
	p->buf.base = take ? (void *)entry : raft_malloc(len);
	if (p->buf.base == NULL) {
		free(p);
		return GRAFT_ENOMEM;
	}
	if (take)
		graft_buf_init(own);
	else
		memcpy(p->buf.base, entry, len);
	p->next = NULL;
	p->c = c;
	p->term = c->raft.current_term;
	p->index = 0;
	p->change = change;
	p->n_in = n_in;
	if (n_in > 0)
		memcpy(p->ins, ins, n_in * sizeof *ins);
	*c->queued_tail = p;
	c->queued_tail = &p->next;
	c->n_queued++;
	c->proposals++;
	uv_idle_start(&c->flush_idle, flush_idle_cb);
	return GRAFT_OK;
}

static int propose(void *data, struct db *db, const void *entry, size_t len,
		   struct db_inflight *in, char *errmsg)
{
	(void)db;
	return submit(data, entry, len, NULL, &in, 1, NULL, errmsg);
}

/* A big entry built on a statement's worker goes to libraft without a
 * copy on the loop. */
static int propose_buf(void *data, struct db *db, struct graft_buf *entry,
		       struct db_inflight *in, char *errmsg)
{
	(void)db;
	return submit(data, entry->data, entry->len, entry, &in, 1, NULL,
		      errmsg);
}

static int propose_group(void *data, const void *entry, size_t len,
			 struct db_inflight *const ins[], size_t n,
			 char *errmsg)
{
	return submit(data, entry, len, NULL, ins, n, NULL, errmsg);
}

static int propose_change(void *data, const void *entry, size_t len,
			  struct dbms_change_req *req, char *errmsg)
{
	return submit(data, entry, len, NULL, NULL, 0, req, errmsg);
}

static const struct db_replicator_ops db_replicator = {
	.propose = propose,
	.propose_buf = propose_buf,
	.propose_group = propose_group};
static const struct dbms_replicator_ops replicator = {
	.db = &db_replicator, .propose = propose_change};

/* Leadership ------------------------------------------------------------- */

/* Every entry before the barrier is applied (behind the gate). */
static void applied_to_barrier(void *arg)
{
	struct cluster *c = arg;

	c->barrier_pending = false;
	if (raft_state(&c->raft) != RAFT_LEADER ||
	    c->raft.current_term != c->last_term || c->stores_behind)
		return;
	c->writable = true;
	graft_info("cluster: leader for term %llu takes writes (everything "
		   "up to Raft index %llu is applied)",
		   (unsigned long long)c->raft.current_term,
		   (unsigned long long)c->raft.last_applied);
	topology_publish(c, true);
	if (c->writable_cb != NULL)
		c->writable_cb(c->writable_arg);
}

static void barrier_cb(struct raft_barrier *req, int status)
{
	struct cluster *c = req->data;

	if (status != 0) {
		c->barrier_pending = false;
		return;
	}
	dbms_entries_then(c->dbms, applied_to_barrier, c);
}

static void log_change(struct cluster *c, unsigned short state,
		       raft_id leader)
{
	const struct cluster_peer *p = discovery_peer(c, leader);

	if (state == RAFT_LEADER)
		graft_info("cluster: elected leader in term %llu at Raft index "
			   "%llu (commit index %llu)",
			   (unsigned long long)c->raft.current_term,
			   (unsigned long long)raft_last_index(&c->raft),
			   (unsigned long long)c->raft.commit_index);
	else if (state == RAFT_CANDIDATE && c->last_state != RAFT_CANDIDATE)
		graft_info("cluster: no leader heard from, standing for "
			   "election (term %llu)",
			   (unsigned long long)c->raft.current_term);
	else if (state == RAFT_FOLLOWER && leader != 0)
		graft_info("cluster: following leader %s (bolt://%s) in term "
			   "%llu at Raft index %llu",
			   p != NULL ? p->server_id : "(not discovered yet)",
			   p != NULL ? p->bolt : "?",
			   (unsigned long long)c->raft.current_term,
			   (unsigned long long)c->raft.last_applied);
	if (c->last_state == RAFT_LEADER && state != RAFT_LEADER)
		graft_info("cluster: no longer leader (term %llu); writes "
			   "here fail with NotALeader",
			   (unsigned long long)c->raft.current_term);
}

static void rate_update(struct cluster *c)
{
	uint64_t now = uv_now(c->loop);

	if (now - c->rate_since_ms < 1000)
		return;
	c->rate = (double)(c->raft.last_applied - c->rate_index) * 1000.0 /
		  (double)(now - c->rate_since_ms);
	c->rate_since_ms = now;
	c->rate_index = c->raft.last_applied;
}

static void behind_transfer_cb(struct raft_transfer *req)
{
	struct cluster *c = req->data;

	c->behind_transferring = false;
}

/* A leader whose stores miss a snapshot's transactions, or that stopped
 * applying entries (a diverged database), applies nothing: it hands
 * leadership to another member at once, or the cluster could take no
 * write while it leads. */
static void hand_over_behind(struct cluster *c)
{
	if (c->behind_transferring || c->closing)
		return;
	c->behind_transfer.data = c;
	if (raft_transfer(&c->raft, &c->behind_transfer, 0,
			  behind_transfer_cb) != 0)
		return;
	c->behind_transferring = true;
	if (c->stores_behind)
		graft_warn("cluster: elected leader with stores behind the "
			   "installed Raft snapshot (%s); handing leadership "
			   "over", c->behind_why);
	else
		graft_warn("cluster: elected leader while this member applies "
			   "no entry (the error logged before says why); "
			   "handing leadership over");
}

/* After every loop iteration. */
static void check_cb(uv_check_t *h)
{
	struct cluster *c = h->data;
	unsigned short state = raft_state(&c->raft);
	raft_id leader = 0;
	const char *addr;

	bool was_writable = c->writable;
	bool changed;

	lose_stale(c);
	raft_leader(&c->raft, &leader, &addr);
	if (state != c->last_state || leader != c->last_leader ||
	    (state == RAFT_LEADER && c->raft.current_term != c->last_term))
		log_change(c, state, leader);
	if (state != RAFT_LEADER || c->raft.current_term != c->last_term)
		c->writable = false;
	changed = state != c->last_state || leader != c->last_leader ||
		  c->raft.current_term != c->last_term ||
		  c->writable != was_writable ||
		  c->raft.configuration.n != c->last_n_config;
	c->last_n_config = c->raft.configuration.n;
	c->last_state = state;
	c->last_leader = leader;
	c->last_term = c->raft.current_term;
	if (state == RAFT_LEADER && member_unavailable(c))
		hand_over_behind(c);
	else if (state == RAFT_LEADER && !c->writable && !c->barrier_pending &&
		 !c->closing) {
		c->barrier.data = c;
		if (raft_barrier(&c->raft, &c->barrier, barrier_cb) == 0)
			c->barrier_pending = true;
	}
	behind_step(c);
	membership_step(c);
	rate_update(c);
	topology_publish(c, changed);
	routing_refresh(c);
	/* Last: what this turn's statements committed, as one batch. */
	flush(c);
}

/* Start and stop --------------------------------------------------------- */

static int raft_fail(struct cluster *c, const char *what, int rv,
		     const char *detail, char *errmsg)
{
	(void)c;
	return graft_errf(errmsg, GRAFT_EIO, "cluster: %s: %s (%s)", what,
			  raft_strerror(rv), detail);
}

static int configure(struct cluster *c, bool bootstrap, char *errmsg)
{
	struct raft_configuration conf;
	int rv = 0;

	raft_configuration_init(&conf);
	for (size_t i = 0; i < c->n_members && rv == 0; i++)
		rv = raft_configuration_add(&conf, c->members[i].id,
					    c->members[i].raft, RAFT_VOTER);
	/* Not pristine (a restart): RAFT_CANTBOOTSTRAP is the normal
	 * answer, and the configuration is the log's. */
	if (rv == 0 && bootstrap) {
		rv = raft_bootstrap(&c->raft, &conf);
		if (rv == RAFT_CANTBOOTSTRAP)
			rv = 0;
	}
	raft_configuration_close(&conf);
	if (rv != 0)
		return raft_fail(c, "raft_bootstrap()", rv,
				 raft_errmsg(&c->raft), errmsg);
	raft_set_election_timeout(&c->raft, (unsigned)c->o.election_ms);
	raft_set_heartbeat_timeout(&c->raft, (unsigned)c->o.heartbeat_ms);
	raft_set_pre_vote(&c->raft, c->o.pre_vote);
	cluster_snap_configure(c);
	return GRAFT_OK;
}

static int init_io(struct cluster *c, char *errmsg)
{
	char dir[4200], bind[CLUSTER_RAFT_ADDR_LEN];
	int rv;

	if (graft_path_join(dir, sizeof dir, c->o.state_dir, "raft") !=
	    GRAFT_OK)
		return graft_errf(errmsg, GRAFT_EINVAL, "path too long: %s",
				  c->o.state_dir);
	rv = graft_mkdir_p(dir, errmsg);
	if (rv == GRAFT_OK)
		rv = member_ipv4(c->o.raft_listen.host, c->o.raft_listen.port,
				 bind, sizeof bind, errmsg);
	if (rv != GRAFT_OK)
		return rv;
	rv = cluster_aio_reaper_start();
	if (rv != 0)
		graft_warn("cluster: cannot start the thread that closes the "
			   "Raft log's AIO contexts (%s): the event loop "
			   "closes them, pausing 10-300 ms at each log "
			   "segment's end", strerror(rv));
	rv = raft_uv_tcp_init(&c->transport, c->loop);
	if (rv != 0)
		return raft_fail(c, "raft_uv_tcp_init()", rv,
				 c->transport.errmsg, errmsg);
	rv = raft_uv_tcp_set_bind_address(&c->transport, bind);
	if (rv == 0)
		rv = raft_uv_init(&c->io, c->loop, dir, &c->transport);
	if (rv != 0) {
		raft_uv_tcp_close(&c->transport);
		return raft_fail(c, "raft_uv_init()", rv, c->io.errmsg,
				 errmsg);
	}
	/* libraft 0.15's uv backend implements async_work (src/uv.c:722,
	 * which asynchronous snapshots need) but says version 1 (:707), and
	 * raft_init refuses an FSM of version 3 over an io below 2. */
	if (c->io.version < 2 && c->io.async_work != NULL)
		c->io.version = 2;
	return GRAFT_OK;
}

/* libraft 0.15 says only "I/O error" when its Raft listener cannot bind
 * (uvTcpListen sets no message): a bind of our own names the reason, most
 * often a port another process holds. */
static void listen_failure(const struct cluster *c, char *why, size_t n)
{
	char ip[CLUSTER_RAFT_ADDR_LEN], shown[GRAFT_ADDRESS_TEXT_MAX];
	char err[GRAFT_ERRMSG_SIZE];
	struct sockaddr_in sa;
	int one = 1, fd;

	graft_address_format(shown, sizeof shown, c->o.raft_listen.host,
			     c->o.raft_listen.port);
	snprintf(why, n, "no reason given by libraft");
	if (member_ipv4(c->o.raft_listen.host, c->o.raft_listen.port, ip,
			sizeof ip, err) != GRAFT_OK)
		return;
	*strrchr(ip, ':') = '\0';
	if (uv_ip4_addr(ip, c->o.raft_listen.port, &sa) != 0)
		return;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
			snprintf(why, n,
				 "cannot listen on %s: %s; set "
				 "causal_clustering.raft_listen_address to a "
				 "free port",
				 shown, strerror(errno));
		close(fd);
	}
}

int member_start(struct cluster *c, bool bootstrap, char *errmsg)
{
	char why[GRAFT_ERRMSG_SIZE];

	int rv;

	heap_init();
	c->queued_tail = &c->queued;
	c->proposed_tail = &c->proposed;
	rv = init_io(c, errmsg);
	if (rv != GRAFT_OK)
		return rv;
	c->fsm = (struct raft_fsm){.version = 3,
				   .data = c,
				   .apply = fsm_apply,
				   .snapshot = fsm_snapshot,
				   .restore = fsm_restore,
				   .snapshot_finalize = fsm_snapshot_finalize,
				   .snapshot_async = fsm_snapshot_async};
	rv = raft_init(&c->raft, &c->io, &c->fsm, c->self.id, c->self.raft);
	if (rv != 0) {
		rv = raft_fail(c, "raft_init()", rv, c->io.errmsg, errmsg);
		goto err_after_io;
	}
	c->raft.data = c;
	/* From here only raft_close releases it (member_close). */
	c->raft_inited = true;
	rv = configure(c, bootstrap, errmsg);
	/* libraft 0.15 leaves a failed load's reason in the I/O backend. */
	if (rv == GRAFT_OK && (rv = raft_start(&c->raft)) != 0) {
		if (raft_errmsg(&c->raft)[0] != '\0')
			snprintf(why, sizeof why, "%s", raft_errmsg(&c->raft));
		else if (c->io.errmsg[0] != '\0')
			snprintf(why, sizeof why, "%s", c->io.errmsg);
		else
			listen_failure(c, why, sizeof why);
		rv = raft_fail(c, "raft_start()", rv, why, errmsg);
	}
	if (rv != GRAFT_OK)
		return rv;
	dbms_set_replicator(c->dbms, &replicator, c);
	uv_check_init(c->loop, &c->check);
	c->check.data = c;
	uv_check_start(&c->check, check_cb);
	uv_idle_init(c->loop, &c->flush_idle);
	c->flush_idle.data = c;
	c->handles_open += 2;
	c->raft_started = true;
	c->rate_since_ms = uv_now(c->loop);
	topology_publish(c, true);
	graft_info("cluster: Raft member %016" PRIx64 " started on %s in "
		   "cluster %s with %u members in its configuration (election "
		   "timeout %llums, heartbeat %llums)",
		   c->self.id, c->self.raft, c->cluster_id,
		   c->raft.configuration.n,
		   (unsigned long long)c->o.election_ms,
		   (unsigned long long)c->o.heartbeat_ms);
	return GRAFT_OK;

err_after_io:
	raft_uv_close(&c->io);
	raft_uv_tcp_close(&c->transport);
	return rv;
}

static void raft_closed_cb(struct raft *r)
{
	struct cluster *c = r->data;

	raft_uv_close(&c->io);
	raft_uv_tcp_close(&c->transport);
	proposals_close(c);
	if (c->raft_started) {
		uv_close((uv_handle_t *)&c->check, cluster_handle_closed);
		uv_close((uv_handle_t *)&c->flush_idle, cluster_handle_closed);
	}
	c->raft_started = false;
	topology_publish(c, true);
	c->member_done(c);
}

static void transfer_cb(struct raft_transfer *req)
{
	struct cluster *c = req->data;
	raft_id leader = 0;
	const char *addr;

	raft_leader(&c->raft, &leader, &addr);
	graft_info("cluster: leadership %s before stopping",
		   leader != 0 && leader != c->self.id ? "handed over"
						       : "not handed over");
	raft_close(&c->raft, raft_closed_cb);
}

/* A leader hands over once its proposals have ended: one still open when
 * leadership moves would end "outcome unknown" though the next leader
 * commits it. They end by themselves (committed, or failed when this
 * member steps down), so the wait is bounded. */
static void hand_over(struct cluster *c)
{
	c->draining = false;
	c->transfer.data = c;
	if (c->raft_started && raft_state(&c->raft) == RAFT_LEADER &&
	    raft_transfer(&c->raft, &c->transfer, 0, transfer_cb) == 0)
		return;
	raft_close(&c->raft, raft_closed_cb);
}

void member_close(struct cluster *c, void (*done)(struct cluster *c))
{
	c->member_done = done;
	c->writable = false;
	if (!c->raft_inited) {
		done(c);
		return;
	}
	if (c->raft_started && raft_state(&c->raft) == RAFT_LEADER &&
	    c->proposals > 0) {
		c->draining = true;
		return;
	}
	hand_over(c);
}
