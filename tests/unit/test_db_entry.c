/* The replication seam of src/db (db.h "Replication"): a leader's commit
 * becomes a proposed entry, every member applies entries alike, re-applied
 * entries are skipped, stale ones rejected, a member that diverged stops,
 * a refused proposal fails the commit. A fake replicator stands in for the
 * Raft group. */
#define _XOPEN_SOURCE 700
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "db/db_int.h"
#include "db/dbms.h"
#include "graph/graph.h"
#include "util/buf.h"
#include "util/gate.h"

#include "db_fixture.h"

#define MAX_ENTRIES 8

struct member {
	char data[700];
	struct dbms *m;
};

struct group {
	struct fixture *f;
	struct member leader, follower;
	struct graft_buf entries[MAX_ENTRIES];
	struct db_inflight *inflight[MAX_ENTRIES];
	/* a group's (db_commit_group) commits: inflight[i] is the first */
	struct db_inflight *group_ins[MAX_ENTRIES][DB_GROUP_MAX];
	size_t group_n[MAX_ENTRIES];
	size_t n;
	int refuse; /* propose answers this when non-zero */
	/* propose_buf takes the entry's memory, as libraft does, instead of
	 * copying it; took[i]: it did for entry i */
	bool take;
	bool took[MAX_ENTRIES];
};

static int fake_propose(void *data, struct db *db, const void *entry,
			size_t len, struct db_inflight *in, char *errmsg)
{
	struct group *g = data;

	(void)db;
	if (g->refuse != GRAFT_OK)
		return graft_errf(errmsg, g->refuse, "not the leader");
	/* libraft's TCP transport garbles a batch of entries whose lengths
	 * are not multiples of 8. */
	assert_int_equal(len % 8, 0);
	assert_true(g->n < MAX_ENTRIES);
	graft_buf_init(&g->entries[g->n]);
	assert_int_equal(graft_buf_append(&g->entries[g->n], entry, len),
			 GRAFT_OK);
	g->inflight[g->n++] = in;
	return GRAFT_OK;
}

static int fake_propose_group(void *data, const void *entry, size_t len,
			      struct db_inflight *const ins[], size_t n,
			      char *errmsg)
{
	struct group *g = data;
	int rv = fake_propose(data, NULL, entry, len, ins[0], errmsg);

	if (rv == GRAFT_OK) {
		memcpy(g->group_ins[g->n - 1], ins, n * sizeof *ins);
		g->group_n[g->n - 1] = n;
	}
	return rv;
}

static int fake_propose_buf(void *data, struct db *db, struct graft_buf *entry,
			    struct db_inflight *in, char *errmsg)
{
	struct group *g = data;

	if (!g->take || g->refuse != GRAFT_OK)
		return fake_propose(data, db, entry->data, entry->len, in,
				    errmsg);
	assert_int_equal(entry->len % 8, 0);
	assert_true(g->n < MAX_ENTRIES);
	g->entries[g->n] = *entry;
	graft_buf_init(entry);
	g->took[g->n] = true;
	g->inflight[g->n++] = in;
	return GRAFT_OK;
}

static const struct db_replicator_ops fake_ops = {
	.propose = fake_propose,
	.propose_buf = fake_propose_buf,
	.propose_group = fake_propose_group};

static void member_open(struct group *g, struct member *mb, const char *name)
{
	char errmsg[GRAFT_ERRMSG_SIZE] = "";
	struct dbms_options o = {0};

	snprintf(mb->data, sizeof mb->data, "%s/%s", g->f->dir, name);
	o.data_dir = mb->data;
	o.db = g->f->o;
	if (dbms_open(&g->f->loop, &o, &mb->m, errmsg) != GRAFT_OK)
		fail_msg("dbms_open: %s", errmsg);
	db_set_replicator(dbms_get(mb->m, "neo4j"), &fake_ops, g);
	db_set_replicator(dbms_get(mb->m, "system"), &fake_ops, g);
}

static void closed_cb(void *arg)
{
	*(int *)arg = 1;
}

static void member_close(struct group *g, struct member *mb)
{
	int closed = 0;

	dbms_close(mb->m, closed_cb, &closed);
	fx_run_until_set(g->f, &closed);
	mb->m = NULL;
}

static int setup(void **state)
{
	struct group *g = calloc(1, sizeof *g);

	assert_non_null(g);
	fx_setup((void **)&g->f);
	member_open(g, &g->leader, "leader");
	member_open(g, &g->follower, "follower");
	*state = g;
	return 0;
}

static int teardown(void **state)
{
	struct group *g = *state;

	for (size_t i = 0; i < g->n; i++)
		graft_buf_free(&g->entries[i]);
	if (g->leader.m != NULL)
		member_close(g, &g->leader);
	if (g->follower.m != NULL)
		member_close(g, &g->follower);
	fx_teardown((void **)&g->f);
	free(g);
	return 0;
}

/* Starts a commit creating one node on the leader; the fake group holds
 * its entry. */
static void propose_node(struct group *g, struct db_commit_req *req,
			 struct fx_commit_result *res)
{
	struct db *db = dbms_get(g->leader.m, "neo4j");
	struct db_tx *tx;
	uint64_t id;

	assert_int_equal(db_tx_begin(db, 0, &tx), GRAFT_OK);
	assert_int_equal(db_tx_node_create(tx, &id), GRAFT_OK);
	memset(res, 0, sizeof *res);
	req->data = res;
	assert_int_equal(db_commit(tx, req, fx_commit_cb), GRAFT_OK);
}

static int apply(struct member *mb, const struct graft_buf *e, uint64_t *txid,
		 char *errmsg)
{
	return dbms_apply_entry(mb->m, 0, e->data, e->len, txid, errmsg);
}

static uint64_t last_txid(struct member *mb)
{
	return db_last_txid(dbms_get(mb->m, "neo4j"));
}

static void test_commit_waits_for_the_group_then_every_member_applies(
	void **state)
{
	struct group *g = *state;
	char errmsg[GRAFT_ERRMSG_SIZE];
	struct fx_commit_result res;
	struct db_commit_req req;
	uint64_t txid;

	propose_node(g, &req, &res);
	assert_int_equal(g->n, 1);
	uv_run(&g->f->loop, UV_RUN_NOWAIT);
	assert_false(res.done); /* not committed before the group says so */
	assert_int_equal(last_txid(&g->leader), 0);

	assert_int_equal(apply(&g->leader, &g->entries[0], &txid, errmsg),
			 GRAFT_OK);
	assert_int_equal(txid, 1);
	db_inflight_done(g->inflight[0], GRAFT_OK, NULL);
	assert_true(res.done);
	assert_int_equal(res.status, GRAFT_OK);
	assert_int_equal(res.txid, 1);

	assert_int_equal(apply(&g->follower, &g->entries[0], &txid, errmsg),
			 GRAFT_OK);
	assert_int_equal(last_txid(&g->follower), 1);
	assert_true(graph_node_exists(
		db_graph(dbms_get(g->follower.m, "neo4j")), 0));
}

static void test_entry_applied_again_after_restart_is_skipped(void **state)
{
	struct group *g = *state;
	char errmsg[GRAFT_ERRMSG_SIZE];
	struct fx_commit_result res;
	struct db_commit_req req;
	uint64_t txid;

	for (int i = 0; i < 2; i++) {
		propose_node(g, &req, &res);
		assert_int_equal(apply(&g->leader, &g->entries[i], &txid,
				       errmsg),
				 GRAFT_OK);
		db_inflight_done(g->inflight[i], GRAFT_OK, NULL);
		assert_int_equal(res.txid, (uint64_t)i + 1);
		assert_int_equal(apply(&g->follower, &g->entries[i], &txid,
				       errmsg),
				 GRAFT_OK);
	}
	member_close(g, &g->follower);
	member_open(g, &g->follower, "follower");
	assert_int_equal(last_txid(&g->follower), 2);
	/* The Raft log replays both: neither is applied twice. */
	for (int i = 0; i < 2; i++)
		assert_int_equal(apply(&g->follower, &g->entries[i], &txid,
				       errmsg),
				 GRAFT_OK);
	assert_int_equal(last_txid(&g->follower), 2);
	assert_int_equal(graph_next_node_id(db_graph(
				 dbms_get(g->follower.m, "neo4j"))),
			 2);
}

static int apply_at(struct member *mb, uint64_t index,
		    const struct graft_buf *e, char *errmsg)
{
	uint64_t txid;

	return dbms_apply_entry(mb->m, index, e->data, e->len, &txid, errmsg);
}

/* The leader proposes a node and applies it at Raft index. */
static void leader_commits_at(struct group *g, uint64_t index)
{
	char errmsg[GRAFT_ERRMSG_SIZE];
	struct fx_commit_result res;
	struct db_commit_req req;

	propose_node(g, &req, &res);
	assert_int_equal(apply_at(&g->leader, index, &g->entries[g->n - 1],
				  errmsg),
			 GRAFT_OK);
	db_inflight_done(g->inflight[g->n - 1], GRAFT_OK, NULL);
	assert_int_equal(res.status, GRAFT_OK);
}

/* The follower's data directory served briefly as a SINGLE server: one
 * transaction of its own, which the cluster does not have. */
static void follower_commits_alone(struct group *g)
{
	struct db *db = dbms_get(g->follower.m, "neo4j");
	char errmsg[GRAFT_ERRMSG_SIZE];
	struct db_tx *tx;
	uint64_t id, txid;

	db_set_replicator(db, NULL, NULL);
	assert_int_equal(db_tx_begin(db, 0, &tx), GRAFT_OK);
	assert_int_equal(db_tx_node_create(tx, &id), GRAFT_OK);
	assert_int_equal(fx_commit(g->f, tx, &txid, errmsg), GRAFT_OK);
	db_set_replicator(db, &fake_ops, g);
}

/* The leader commits two nodes at Raft indexes 3 and 5; the follower
 * applies both, is closed and opened again, and Raft replays both: they
 * must be taken as replays (skipped), not applied or refused. */
static void follower_restarts_between_replays(struct group *g)
{
	char errmsg[GRAFT_ERRMSG_SIZE];

	leader_commits_at(g, 3);
	leader_commits_at(g, 5);
	for (int round = 0; round < 2; round++) {
		if (round == 1) {
			member_close(g, &g->follower);
			member_open(g, &g->follower, "follower");
		}
		for (int i = 0; i < 2; i++)
			assert_int_equal(apply_at(&g->follower,
						  (uint64_t)(3 + 2 * i),
						  &g->entries[i], errmsg),
					 GRAFT_OK);
	}
	assert_int_equal(last_txid(&g->follower), 2);
}

static void test_entry_replayed_after_restart_is_skipped_by_raft_index(
	void **state)
{
	follower_restarts_between_replays(*state);
}

/* A checkpoint started by an entry's own apply (db.checkpoint.interval.tx)
 * records that entry's Raft index: it recorded the one before, and a
 * member restarted from it (its log holding nothing after the checkpoint)
 * took the Raft log's replay of its last transaction for a transaction
 * committed outside the cluster, and stopped applying. */
static void test_checkpoint_started_by_an_apply_records_its_entry_index(
	void **state)
{
	struct group *g = *state;

	/* the apply of the second entry starts the checkpoint at 2, which
	 * the close waits for */
	member_close(g, &g->follower);
	g->f->o.checkpoint_interval_tx = 2;
	member_open(g, &g->follower, "follower");
	follower_restarts_between_replays(g);
}

/* Removes the files of dir. */
static void remove_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			assert_int_equal(unlinkat(dirfd(d), e->d_name, 0), 0);
	closedir(d);
}

/* A database restored from a FULL backup alone (a checkpoint, no log)
 * of another cluster: the Raft index in that checkpoint's header means
 * nothing to this cluster's log, whose entries must not be skipped. */
static void test_checkpoint_without_its_log_does_not_make_entries_replays(
	void **state)
{
	struct group *g = *state;
	char errmsg[GRAFT_ERRMSG_SIZE], dir[1024];

	leader_commits_at(g, 50);
	assert_int_equal(apply_at(&g->follower, 50, &g->entries[0], errmsg),
			 GRAFT_OK);
	member_close(g, &g->follower); /* a final checkpoint, index 50 */
	snprintf(dir, sizeof dir, "%s/transactions/neo4j", g->follower.data);
	remove_files(dir);
	member_open(g, &g->follower, "follower");
	assert_int_equal(last_txid(&g->follower), 1);

	leader_commits_at(g, 7);
	assert_int_equal(apply_at(&g->follower, 7, &g->entries[1], errmsg),
			 GRAFT_OK);
	assert_int_equal(last_txid(&g->follower), 2);
}

static void test_entry_of_a_transaction_the_member_has_of_its_own_stops_it(
	void **state)
{
	struct group *g = *state;
	char errmsg[GRAFT_ERRMSG_SIZE];

	leader_commits_at(g, 3);
	assert_int_equal(apply_at(&g->follower, 3, &g->entries[0], errmsg),
			 GRAFT_OK);
	member_close(g, &g->follower);
	member_open(g, &g->follower, "follower");
	follower_commits_alone(g);
	assert_int_equal(last_txid(&g->follower), 2);

	/* The leader's transaction 2 is not the follower's: never skipped. */
	leader_commits_at(g, 4);
	assert_int_equal(apply_at(&g->follower, 3, &g->entries[0], errmsg),
			 GRAFT_OK); /* a replay */
	assert_int_equal(apply_at(&g->follower, 4, &g->entries[1], errmsg),
			 GRAFT_ECORRUPT);
	assert_non_null(strstr(errmsg, "database neo4j diverged"));
	assert_non_null(strstr(errmsg, "Raft entry 4 holds transaction 2"));
	assert_non_null(strstr(errmsg, "empty (keep) the directories "
					"databases/neo4j and transactions/neo4j"));
	assert_int_equal(last_txid(&g->follower), 2);
}

/* A store copied from a catch-up stream knows no Raft index: the entry of
 * its last transaction tells it, so that a transaction of its own after it
 * is found rather than taken for a replay. */
static void test_copied_store_learns_its_raft_index_from_its_last_entry(
	void **state)
{
	struct group *g = *state;
	struct db *db = dbms_get(g->follower.m, "neo4j");
	char errmsg[GRAFT_ERRMSG_SIZE];
	const uint8_t *e;

	leader_commits_at(g, 3);
	leader_commits_at(g, 4);
	e = g->entries[0].data;
	/* what a store copy does: the record of transaction 1, no index */
	assert_int_equal(db_apply_stream(db, e + 13, (size_t)(e[9] | e[10] << 8 |
							     e[11] << 16),
					 1, errmsg),
			 GRAFT_OK);
	assert_int_equal(db_raft_index(db), 0);
	assert_int_equal(apply_at(&g->follower, 3, &g->entries[0], errmsg),
			 GRAFT_OK); /* a replay: skipped, and learnt from */
	assert_int_equal(db_raft_index(db), 3);
	follower_commits_alone(g);
	assert_int_equal(apply_at(&g->follower, 4, &g->entries[1], errmsg),
			 GRAFT_ECORRUPT);
	assert_non_null(strstr(errmsg, "database neo4j diverged"));

	/* a snapshot's index is adopted only by a store that knows none */
	db_adopt_raft_index(db, 9);
	assert_int_equal(db_raft_index(db), 3);
}

static void test_entry_after_a_rejected_one_is_rejected_everywhere(
	void **state)
{
	struct group *g = *state;
	char errmsg[GRAFT_ERRMSG_SIZE];
	struct fx_commit_result res[2];
	struct db_commit_req req[2];
	uint64_t txid;

	propose_node(g, &req[0], &res[0]);
	propose_node(g, &req[1], &res[1]);
	assert_int_equal(g->n, 2);
	/* The group lost the first (a new leader's log replaced it): the
	 * second, stamped with id 2, cannot follow id 0. */
	assert_int_equal(apply(&g->follower, &g->entries[1], &txid, errmsg),
			 GRAFT_ECONFLICT);
	assert_non_null(strstr(errmsg, "proposed as transaction 2"));
	assert_int_equal(apply(&g->leader, &g->entries[1], &txid, errmsg),
			 GRAFT_ECONFLICT);
	db_inflight_done(g->inflight[0], GRAFT_EUNKNOWN, "leadership lost");
	db_inflight_done(g->inflight[1], GRAFT_ECONFLICT, errmsg);
	assert_int_equal(res[0].status, GRAFT_EUNKNOWN);
	assert_int_equal(res[1].status, GRAFT_ECONFLICT);
	assert_int_equal(last_txid(&g->leader), 0);
	assert_int_equal(last_txid(&g->follower), 0);

	/* The next proposal starts again from what is applied. */
	propose_node(g, &req[0], &res[0]);
	assert_int_equal(apply(&g->leader, &g->entries[2], &txid, errmsg),
			 GRAFT_OK);
	assert_int_equal(txid, 1);
	db_inflight_done(g->inflight[2], GRAFT_OK, NULL);
	assert_int_equal(res[0].txid, 1);
}

static void test_refused_proposal_fails_the_commit(void **state)
{
	struct group *g = *state;
	struct db *db = dbms_get(g->leader.m, "neo4j");
	struct fx_commit_result res = {0};
	struct db_commit_req req;
	struct db_tx *tx;
	uint64_t id;

	g->refuse = GRAFT_ENOTLEADER;
	assert_int_equal(db_tx_begin(db, 0, &tx), GRAFT_OK);
	assert_int_equal(db_tx_node_create(tx, &id), GRAFT_OK);
	req.data = &res;
	assert_int_equal(db_commit(tx, &req, fx_commit_cb), GRAFT_ENOTLEADER);
	assert_non_null(strstr(req.errmsg, "not the leader"));
	uv_run(&g->f->loop, UV_RUN_NOWAIT);
	assert_false(res.done);
}

/* What the proposer of a submitted entry learns, in order. */
struct outcomes {
	struct group *g;
	int status[MAX_ENTRIES];
	size_t n;
	int then_at; /* outcomes seen when dbms_entries_then called back */
};

static void outcome_cb(void *data, int status, const char *errmsg)
{
	struct outcomes *o = data;

	db_inflight_done(o->g->inflight[o->n], status, errmsg);
	o->status[o->n++] = status;
}

static void then_cb(void *arg)
{
	struct outcomes *o = arg;

	o->then_at = (int)o->n;
}

/* Submits entry i at Raft index i + 1 to mb; the leader claims it. */
static void submit(struct member *mb, struct group *g, size_t i,
		   struct outcomes *o)
{
	char errmsg[GRAFT_ERRMSG_SIZE];

	assert_int_equal(dbms_entry_submit(mb->m, i + 1, g->entries[i].data,
					   g->entries[i].len, errmsg),
			 GRAFT_OK);
	if (o != NULL)
		dbms_entry_outcome(mb->m, i + 1, outcome_cb, o);
}

/* Both members again, with a gate between the loop and workers. */
static void reopen_with_gate(struct group *g, struct graft_gate *gate)
{
	member_close(g, &g->leader);
	member_close(g, &g->follower);
	assert_int_equal(graft_gate_init(gate, &g->f->loop), GRAFT_OK);
	g->f->o.gate = gate;
	member_open(g, &g->leader, "leader");
	member_open(g, &g->follower, "follower");
}

static void close_with_gate(struct group *g, struct graft_gate *gate)
{
	member_close(g, &g->leader);
	member_close(g, &g->follower);
	graft_gate_close(gate, NULL);
	g->f->o.gate = NULL;
	/* the close completes while the caller's gate is still there */
	uv_run(&g->f->loop, UV_RUN_NOWAIT);
}

/* A member's Raft state machine applies synchronously on the loop; a
 * reader on a worker holds the gate: the entries wait for it, apply in
 * order once it leaves (copied: libraft frees its buffers), the proposer
 * learns each outcome then, and a new leader's "writable" comes after. */
static void test_entries_wait_for_readers_then_apply_in_order(void **state)
{
	struct group *g = *state;
	struct fx_commit_result res[3];
	struct db_commit_req req[3];
	struct outcomes o = {.g = g, .then_at = -1};
	struct graft_gate gate;

	reopen_with_gate(g, &gate);
	propose_node(g, &req[0], &res[0]);
	propose_node(g, &req[1], &res[1]);

	graft_gate_enter_shared(&gate); /* a long reader */
	for (size_t i = 0; i < 2; i++) {
		submit(&g->leader, g, i, &o);
		submit(&g->follower, g, i, NULL);
	}
	dbms_entries_then(g->leader.m, then_cb, &o);
	for (size_t i = 0; i < 2; i++)
		memset(g->entries[i].data, 0xee, g->entries[i].len);
	uv_run(&g->f->loop, UV_RUN_NOWAIT);
	assert_true(dbms_entries_pending(g->leader.m));
	assert_int_equal(last_txid(&g->leader), 0);
	assert_int_equal(last_txid(&g->follower), 0);
	assert_int_equal(o.n, 0);
	assert_false(res[0].done);

	graft_gate_leave(&gate);
	fx_run_until_set(g->f, &res[1].done);
	assert_int_equal(o.n, 2);
	assert_int_equal(o.status[0], GRAFT_OK);
	assert_int_equal(o.status[1], GRAFT_OK);
	assert_int_equal(res[0].txid, 1);
	assert_int_equal(res[1].txid, 2);
	assert_int_equal(o.then_at, 2);
	assert_false(dbms_entries_pending(g->leader.m));
	assert_int_equal(last_txid(&g->follower), 2);

	/* With the gate free an entry applies at once. */
	propose_node(g, &req[2], &res[2]);
	submit(&g->leader, g, 2, &o);
	assert_int_equal(last_txid(&g->leader), 3);
	fx_run_until_set(g->f, &res[2].done);
	assert_int_equal(res[2].status, GRAFT_OK);
	close_with_gate(g, &gate);
}

/* Loop turns while a member applies an entry off the loop, and what its
 * database showed then. */
struct off_loop_watch {
	struct graft_gate *gate;
	struct member *mb;
	unsigned ticks;
	uint64_t last_seen;
};

static void off_loop_idle_cb(uv_idle_t *h)
{
	struct off_loop_watch *w = h->data;

	if (w->mb == NULL || !graft_gate_offloaded(w->gate))
		return;
	w->ticks++;
	w->last_seen = last_txid(w->mb);
}

/* A big entry (20k nodes and relationships) is validated on the leader,
 * then decoded and applied by every member off the loop: the loop turns
 * meanwhile, the database shows nothing of it until it has applied, and
 * the proposer learns the outcome after. */
static void test_big_entry_applies_off_the_loop_on_every_member(void **state)
{
	struct group *g = *state;
	struct outcomes o = {.g = g, .then_at = -1};
	struct off_loop_watch w = {0};
	struct fx_commit_result res = {0};
	struct db_commit_req req;
	struct graft_gate gate;
	struct graph_stats st;
	struct db_tx *tx;
	uv_idle_t idle;
	uint64_t id, prev = 0, r;
	uint32_t type;
	enum { N = 20000 };

	reopen_with_gate(g, &gate);
	assert_int_equal(uv_idle_init(&g->f->loop, &idle), 0);
	idle.data = &w;
	w.gate = &gate;
	assert_int_equal(uv_idle_start(&idle, off_loop_idle_cb), 0);
	uv_unref((uv_handle_t *)&idle); /* a failure does not hang teardown */

	assert_int_equal(db_token(dbms_get(g->leader.m, "neo4j"),
				  GRAPH_TOKEN_RELTYPE, "R", 1, &type),
			 GRAFT_OK);
	assert_int_equal(db_tx_begin(dbms_get(g->leader.m, "neo4j"), 0, &tx),
			 GRAFT_OK);
	for (unsigned i = 0; i < N; i++) {
		assert_int_equal(db_tx_node_create(tx, &id), GRAFT_OK);
		if (i == 0)
			prev = id;
		assert_int_equal(db_tx_rel_create(tx, type, prev, id, &r),
				 GRAFT_OK);
		prev = id;
	}
	req.data = &res;
	assert_int_equal(db_commit(tx, &req, fx_commit_cb), GRAFT_OK);
	while (g->n == 0) /* validated off the loop, then proposed */
		uv_run(&g->f->loop, UV_RUN_ONCE);
	assert_true(g->entries[0].len >= DB_OFF_LOOP_BYTES);

	for (size_t m = 0; m < 2; m++) {
		struct member *mb = m == 0 ? &g->leader : &g->follower;

		w.mb = mb;
		w.ticks = 0;
		submit(mb, g, 0, m == 0 ? &o : NULL);
		assert_int_equal(last_txid(mb), 0);
		while (dbms_entries_pending(mb->m))
			uv_run(&g->f->loop, UV_RUN_ONCE);
		assert_true(w.ticks > 0);
		assert_int_equal(w.last_seen, 0);
		assert_int_equal(last_txid(mb), 1);
		graph_stats(db_graph(dbms_get(mb->m, "neo4j")), &st);
		assert_int_equal(st.nodes, N);
		assert_int_equal(st.rels, N);
	}
	fx_run_until_set(g->f, &res.done);
	assert_int_equal(res.status, GRAFT_OK);
	assert_int_equal(res.txid, 1);
	assert_int_equal(o.status[0], GRAFT_OK);

	uv_close((uv_handle_t *)&idle, NULL);
	close_with_gate(g, &gate);
}

/* Commits on the leader that set x on node id: proposed (entry n - 1). */
static void propose_x(struct group *g, uint64_t id, struct db_commit_req *req,
		      struct fx_commit_result *res)
{
	struct db *db = dbms_get(g->leader.m, "neo4j");
	struct graft_value v = graft_value_int(5);
	struct db_tx *tx;
	uint32_t key;

	assert_int_equal(db_token(db, GRAPH_TOKEN_PROPKEY, "x", 1, &key),
			 GRAFT_OK);
	assert_int_equal(db_tx_begin(db, 0, &tx), GRAFT_OK);
	assert_int_equal(db_tx_node_set_prop(tx, id, key, &v), GRAFT_OK);
	memset(res, 0, sizeof *res);
	req->data = res;
	assert_int_equal(db_commit(tx, req, fx_commit_cb), GRAFT_OK);
}

/* A transaction on db creating n nodes, each with a relationship to
 * itself: big enough to be validated and applied off the loop. */
static struct db_tx *begin_loops(struct db *db, unsigned n)
{
	struct db_tx *tx;
	uint64_t id, r;
	uint32_t type;

	assert_int_equal(db_token(db, GRAPH_TOKEN_RELTYPE, "R", 1, &type),
			 GRAFT_OK);
	assert_int_equal(db_tx_begin(db, 0, &tx), GRAFT_OK);
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(db_tx_node_create(tx, &id), GRAFT_OK);
		assert_int_equal(db_tx_rel_create(tx, type, id, id, &r),
				 GRAFT_OK);
	}
	return tx;
}

/* A big commit on the leader is validated once, before it is proposed:
 * its keys stay in a table of its own (nothing added to the pending set
 * on the loop), which a small commit writing the same node still runs
 * into while one writing another node goes through; its own entry then
 * applies on the leader without validating again (byte for byte what it
 * validated, nothing applied since), while a follower validates it. */
static void test_leader_validates_its_big_commit_once(void **state)
{
	struct group *g = *state;
	struct outcomes o = {.g = g, .then_at = -1};
	struct fx_commit_result res[5];
	struct db_commit_req req[5];
	struct graft_gate gate;
	struct graph_stats st;
	struct db *leader, *follower;
	struct db_tx *tx;
	uint64_t before, txid;
	char dir[800], errmsg[GRAFT_ERRMSG_SIZE];
	struct txlog_reader *rd;
	const void *p;
	size_t len;
	enum { N = 20000 };

	reopen_with_gate(g, &gate);
	leader = dbms_get(g->leader.m, "neo4j");
	follower = dbms_get(g->follower.m, "neo4j");
	for (size_t i = 0; i < 2; i++) { /* nodes 0 and 1 */
		propose_node(g, &req[i], &res[i]);
		submit(&g->leader, g, i, &o);
		while (dbms_entries_pending(g->leader.m))
			uv_run(&g->f->loop, UV_RUN_ONCE);
	}
	tx = begin_loops(leader, N);
	assert_int_equal(db_tx_node_delete(tx, 1), GRAFT_OK);
	memset(&res[2], 0, sizeof res[2]);
	req[2].data = &res[2];
	assert_int_equal(db_commit(tx, &req[2], fx_commit_cb), GRAFT_OK);
	while (g->n == 2) /* validated off the loop, then proposed */
		uv_run(&g->f->loop, UV_RUN_ONCE);
	assert_true(g->entries[2].len >= DB_OFF_LOOP_BYTES);
	assert_int_equal(leader->pending.len, 0);
	assert_int_equal(leader->n_big, 1);

	propose_x(g, 1, &req[3], &res[3]); /* the node the big one deletes */
	fx_run_until_set(g->f, &res[3].done);
	assert_int_equal(res[3].status, GRAFT_ECONFLICT);
	propose_x(g, 0, &req[4], &res[4]);
	assert_int_equal(g->n, 4);

	before = leader->validations;
	submit(&g->leader, g, 2, &o);
	while (dbms_entries_pending(g->leader.m))
		uv_run(&g->f->loop, UV_RUN_ONCE);
	assert_int_equal(leader->validations, before);
	submit(&g->leader, g, 3, &o);
	fx_run_until_set(g->f, &res[4].done);
	assert_int_equal(res[2].status, GRAFT_OK);
	assert_int_equal(res[2].txid, 3);
	assert_int_equal(res[4].status, GRAFT_OK);
	assert_int_equal(res[4].txid, 4);
	assert_int_equal(leader->n_big, 0);

	for (size_t i = 0; i < 4; i++) {
		before = follower->validations;
		submit(&g->follower, g, i, NULL);
		while (dbms_entries_pending(g->follower.m))
			uv_run(&g->f->loop, UV_RUN_ONCE);
		assert_int_equal(follower->validations, before + 1);
	}
	for (size_t m = 0; m < 2; m++) {
		struct db *db = m == 0 ? leader : follower;

		assert_int_equal(db_last_txid(db), 4);
		graph_stats(db_graph(db), &st);
		assert_int_equal(st.nodes, N + 1);
		assert_int_equal(st.rels, N);
	}
	/* The follower's log holds the big record as the entry carried it
	 * (its frame made off the loop). */
	member_close(g, &g->follower);
	snprintf(dir, sizeof dir, "%s/transactions/neo4j", g->follower.data);
	assert_int_equal(txlog_reader_open(dir, 3, 3, &rd, errmsg), GRAFT_OK);
	assert_int_equal(txlog_reader_next(rd, &txid, &p, &len, errmsg),
			 GRAFT_OK);
	assert_int_equal(txid, 3);
	assert_true(len + 13 <= g->entries[2].len);
	assert_memory_equal(p, g->entries[2].data + 13, len);
	txlog_reader_close(rd);
	member_open(g, &g->follower, "follower");
	close_with_gate(g, &gate);
}

/* A big transaction built ahead of its commit (db_tx_prepare, on a
 * statement's worker) hands the replicator memory made there, which the
 * replicator takes as it is (no copy on the loop); when that very entry
 * comes back to apply on the leader while a reader holds the gate, the
 * leader takes its own copy of it at once (nothing copied on the loop,
 * libraft's buffer not read again) and applies it without validating
 * again; a follower copies and validates it. */
static void test_big_prepared_entry_is_handed_over_and_claimed_back(
	void **state)
{
	struct group *g = *state;
	struct outcomes o = {.g = g, .then_at = -1};
	struct fx_commit_result res = {0};
	struct db_commit_req req;
	struct graft_gate gate;
	struct graph_stats st;
	struct db *leader, *follower;
	struct db_tx *tx;
	uint64_t before, before_f;
	enum { N = 20000 };

	reopen_with_gate(g, &gate);
	g->take = true;
	leader = dbms_get(g->leader.m, "neo4j");
	follower = dbms_get(g->follower.m, "neo4j");
	tx = begin_loops(leader, N);
	graft_gate_enter_shared(&gate); /* as the statement's worker does */
	db_tx_prepare(tx);
	graft_gate_leave(&gate);
	req.data = &res;
	assert_int_equal(db_commit(tx, &req, fx_commit_cb), GRAFT_OK);
	while (g->n == 0) /* validated off the loop, then proposed */
		uv_run(&g->f->loop, UV_RUN_ONCE);
	assert_true(g->took[0]);
	assert_true(g->entries[0].len >= DB_OFF_LOOP_BYTES);
	assert_int_equal(g->entries[0].cap, g->entries[0].len);

	before = leader->validations;
	before_f = follower->validations;
	graft_gate_enter_shared(&gate); /* a reader: the entries wait */
	submit(&g->leader, g, 0, &o);
	submit(&g->follower, g, 0, NULL);
	memset(g->entries[0].data, 0xee, g->entries[0].len);
	uv_run(&g->f->loop, UV_RUN_NOWAIT);
	assert_int_equal(last_txid(&g->leader), 0);
	graft_gate_leave(&gate);
	fx_run_until_set(g->f, &res.done);
	while (dbms_entries_pending(g->follower.m))
		uv_run(&g->f->loop, UV_RUN_ONCE);
	assert_int_equal(res.status, GRAFT_OK);
	assert_int_equal(res.txid, 1);
	assert_int_equal(o.status[0], GRAFT_OK);
	assert_int_equal(leader->validations, before);
	assert_int_equal(follower->validations, before_f + 1);
	for (size_t m = 0; m < 2; m++) {
		struct db *db = m == 0 ? leader : follower;

		assert_int_equal(db_last_txid(db), 1);
		graph_stats(db_graph(db), &st);
		assert_int_equal(st.nodes, N);
		assert_int_equal(st.rels, N);
	}
	close_with_gate(g, &gate);
}

static void test_entry_of_an_unknown_database_or_format_is_refused(
	void **state)
{
	struct group *g = *state;
	char errmsg[GRAFT_ERRMSG_SIZE];
	const unsigned char junk[12] = {9};
	uint64_t txid;

	assert_int_equal(dbms_apply_entry(g->follower.m, 0, junk, sizeof junk,
					  &txid, errmsg),
			 GRAFT_ECORRUPT);
	assert_non_null(strstr(errmsg, "unknown format"));
}

static void test_entry_shorter_than_its_record_is_refused(void **state)
{
	struct group *g = *state;
	char errmsg[GRAFT_ERRMSG_SIZE];
	struct fx_commit_result res;
	struct db_commit_req req;
	uint64_t txid;

	propose_node(g, &req, &res);
	assert_int_equal(dbms_apply_entry(g->follower.m, 0, g->entries[0].data,
					  g->entries[0].len - 8, &txid,
					  errmsg),
			 GRAFT_ECORRUPT);
	assert_non_null(strstr(errmsg, "claims a record"));
	db_inflight_done(g->inflight[0], GRAFT_EUNKNOWN, NULL);
}

/* A group entry's outcome, as the replicator reports it to each commit. */
static void group_done(struct group *g, size_t i, int status,
		       const char *errmsg)
{
	for (size_t k = 0; k < g->group_n[i]; k++)
		db_inflight_done(g->group_ins[i][k], status, errmsg);
}

static uint64_t txid_of(struct member *mb, const char *db)
{
	return db_last_txid(dbms_get(mb->m, db));
}

/* Property key x of the leader's neo4j. */
static uint32_t key_x(struct dbms *m)
{
	uint32_t k;

	assert_int_equal(db_token(dbms_get(m, "neo4j"), GRAPH_TOKEN_PROPKEY,
				  "x", 1, &k),
			 GRAFT_OK);
	return k;
}

/* A statement's transaction on neo4j (a node) and its change of the
 * system database (a node there), committed as one group on the leader;
 * the first one writes node `node` of neo4j's committed graph instead
 * when node is not GRAPH_NO_ID. */
static void propose_statement(struct group *g, uint64_t node,
			      struct db_commit_req req[2],
			      struct fx_commit_result res[2])
{
	struct db_tx *txs[2];
	struct db_commit_req *reqs[2] = {&req[0], &req[1]};
	struct graft_value v = graft_value_int(1);
	uint64_t id;

	/* the system part first: applying parts in order as they come
	 * would apply it before the other part is judged */
	assert_int_equal(db_tx_begin(dbms_get(g->leader.m, "system"), 0,
				     &txs[0]),
			 GRAFT_OK);
	assert_int_equal(db_tx_node_create(txs[0], &id), GRAFT_OK);
	assert_int_equal(db_tx_begin(dbms_get(g->leader.m, "neo4j"), 0,
				     &txs[1]),
			 GRAFT_OK);
	if (node == GRAPH_NO_ID)
		assert_int_equal(db_tx_node_create(txs[1], &id), GRAFT_OK);
	else
		assert_int_equal(db_tx_node_set_prop(txs[1], node,
						     key_x(g->leader.m), &v),
				 GRAFT_OK);
	memset(res, 0, 2 * sizeof *res);
	req[0].data = &res[0];
	req[1].data = &res[1];
	db_commit_group(txs, reqs, 2, fx_commit_cb);
}

static void test_statement_and_its_system_change_are_one_entry_applied_whole(
	void **state)
{
	struct group *g = *state;
	char errmsg[GRAFT_ERRMSG_SIZE], dir[1024];
	struct fx_commit_result res[2];
	struct db_commit_req req[2];

	propose_statement(g, GRAPH_NO_ID, req, res);
	assert_int_equal(g->n, 1); /* one entry */
	assert_int_equal(g->group_n[0], 2);
	assert_int_equal(apply_at(&g->leader, 7, &g->entries[0], errmsg),
			 GRAFT_OK);
	group_done(g, 0, GRAFT_OK, NULL);
	fx_run_until_set(g->f, &res[1].done);
	assert_true(res[0].done);
	assert_int_equal(res[0].status, GRAFT_OK);
	assert_int_equal(res[1].status, GRAFT_OK);
	assert_int_equal(res[0].txid, 1);
	assert_int_equal(res[1].txid, 1);

	assert_int_equal(apply_at(&g->follower, 7, &g->entries[0], errmsg),
			 GRAFT_OK);
	assert_int_equal(txid_of(&g->follower, "neo4j"), 1);
	assert_int_equal(txid_of(&g->follower, "system"), 1);
	assert_true(graph_node_exists(
		db_graph(dbms_get(g->follower.m, "system")), 0));

	/* A crash after neo4j's log had the entry but before system's did:
	 * the Raft log applies the entry again, and only the missing part
	 * applies. */
	member_close(g, &g->follower);
	snprintf(dir, sizeof dir, "%s/transactions/system", g->follower.data);
	remove_files(dir);
	snprintf(dir, sizeof dir, "%s/databases/system", g->follower.data);
	remove_files(dir);
	member_open(g, &g->follower, "follower");
	assert_int_equal(txid_of(&g->follower, "neo4j"), 1);
	assert_int_equal(txid_of(&g->follower, "system"), 0);
	assert_int_equal(apply_at(&g->follower, 7, &g->entries[0], errmsg),
			 GRAFT_OK);
	assert_int_equal(txid_of(&g->follower, "neo4j"), 1);
	assert_int_equal(txid_of(&g->follower, "system"), 1);
}

static void test_group_entry_with_a_rejected_part_applies_no_part(
	void **state)
{
	struct group *g = *state;
	char errmsg[GRAFT_ERRMSG_SIZE];
	struct fx_commit_result single, res[2];
	struct db_commit_req one, req[2];

	/* neo4j's transaction 1 is lost (a new leader's log replaced it):
	 * the group's neo4j part, stamped 2, is rejected, and its system
	 * part, which alone would apply, must not. */
	propose_node(g, &one, &single);
	propose_statement(g, GRAPH_NO_ID, req, res);
	assert_int_equal(g->n, 2);
	assert_int_equal(apply_at(&g->follower, 3, &g->entries[1], errmsg),
			 GRAFT_ECONFLICT);
	assert_non_null(strstr(errmsg, "proposed as transaction 2"));
	assert_int_equal(txid_of(&g->follower, "neo4j"), 0);
	assert_int_equal(txid_of(&g->follower, "system"), 0);
	db_inflight_done(g->inflight[0], GRAFT_EUNKNOWN, "leadership lost");
	group_done(g, 1, GRAFT_ECONFLICT, errmsg);
	fx_run_until_set(g->f, &res[1].done);
	assert_int_equal(res[0].status, GRAFT_ECONFLICT);
	assert_int_equal(res[1].status, GRAFT_ECONFLICT);
}

static void test_group_whose_statement_conflicts_proposes_nothing(
	void **state)
{
	struct group *g = *state;
	char errmsg[GRAFT_ERRMSG_SIZE];
	struct fx_commit_result first, res[2], sys;
	struct db_commit_req one, req[2], sreq;
	struct db_tx *tx;
	uint64_t id;
	struct graft_value v = graft_value_int(2);

	leader_commits_at(g, 1); /* node 0 */
	/* a commit in flight writes node 0 ... */
	assert_int_equal(db_tx_begin(dbms_get(g->leader.m, "neo4j"), 0, &tx),
			 GRAFT_OK);
	assert_int_equal(db_tx_node_set_prop(tx, 0, key_x(g->leader.m), &v),
			 GRAFT_OK);
	memset(&first, 0, sizeof first);
	one.data = &first;
	assert_int_equal(db_commit(tx, &one, fx_commit_cb), GRAFT_OK);
	assert_int_equal(g->n, 2);
	/* ... so the statement writing it too conflicts, and its system
	 * part is taken back: nothing more is proposed */
	propose_statement(g, 0, req, res);
	fx_run_until_set(g->f, &res[1].done);
	fx_run_until_set(g->f, &res[0].done);
	assert_int_equal(g->n, 2);
	assert_int_equal(res[0].status, GRAFT_ECONFLICT);
	assert_int_equal(res[1].status, GRAFT_ECONFLICT);
	assert_non_null(strstr(res[0].errmsg, "database neo4j failed"));

	/* the id the system part had is free again */
	assert_int_equal(db_tx_begin(dbms_get(g->leader.m, "system"), 0, &tx),
			 GRAFT_OK);
	assert_int_equal(db_tx_node_create(tx, &id), GRAFT_OK);
	memset(&sys, 0, sizeof sys);
	sreq.data = &sys;
	assert_int_equal(db_commit(tx, &sreq, fx_commit_cb), GRAFT_OK);
	assert_int_equal(g->n, 3);
	assert_int_equal(apply_at(&g->leader, 3, &g->entries[2], errmsg),
			 GRAFT_OK);
	db_inflight_done(g->inflight[2], GRAFT_OK, NULL);
	assert_int_equal(sys.txid, 1);
	db_inflight_done(g->inflight[1], GRAFT_EUNKNOWN, "leadership lost");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_entries_wait_for_readers_then_apply_in_order,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_commit_waits_for_the_group_then_every_member_applies,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_entry_applied_again_after_restart_is_skipped,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_entry_after_a_rejected_one_is_rejected_everywhere,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_entry_replayed_after_restart_is_skipped_by_raft_index,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_entry_of_a_transaction_the_member_has_of_its_own_stops_it,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_checkpoint_without_its_log_does_not_make_entries_replays,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_checkpoint_started_by_an_apply_records_its_entry_index,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_refused_proposal_fails_the_commit, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_big_prepared_entry_is_handed_over_and_claimed_back,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_entry_of_an_unknown_database_or_format_is_refused,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_big_entry_applies_off_the_loop_on_every_member,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_entry_shorter_than_its_record_is_refused, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_statement_and_its_system_change_are_one_entry_applied_whole,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_group_entry_with_a_rejected_part_applies_no_part,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_group_whose_statement_conflicts_proposes_nothing,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_copied_store_learns_its_raft_index_from_its_last_entry,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_leader_validates_its_big_commit_once, setup,
			teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
