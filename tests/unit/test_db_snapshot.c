/* Snapshot reads: a transaction sees the database as of its start, across
 * every commit applied while it streams, whatever the commits change
 * (properties, labels, deletions, creations, relationships); old versions
 * are freed once no snapshot needs them. Predicate validation: write
 * transactions whose scans another commit changed fail (no write skew). */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "db/db.h"
#include "db/db_int.h"
#include "db_fixture.h"
#include "graph/graph.h"

/* What a reader sums over its view: counts and sums of every scan kind. */
struct totals {
	uint64_t nodes, labelled, rels, typed, expanded, seek5;
	int64_t sum_x, sum_y;
};

static int64_t int_or_zero(const struct graft_value *v)
{
	return v != NULL && v->type == GRAFT_VALUE_INT ? v->u.i : 0;
}

/* One pass of cursor c, at most step ids (all if step is 0); false at its
 * end. */
static bool cursor_steps(struct db_cursor *c, size_t step, uint64_t *ids,
			 size_t *n)
{
	uint64_t id;

	*n = 0;
	while (step == 0 || *n < step) {
		id = db_cursor_next(c);
		if (id == GRAPH_NO_ID)
			return false;
		ids[(*n)++] = id;
	}
	return true;
}

struct reader {
	struct fixture *f;
	struct db_tx *tx;
	struct db_cursor cur;
	int stage;
	struct totals t;
	struct graft_value five;
};

static void reader_begin(struct reader *r, struct fixture *f)
{
	memset(r, 0, sizeof *r);
	r->f = f;
	r->five = graft_value_int(5);
	assert_int_equal(db_tx_begin(f->db, DB_TX_READ_ONLY, &r->tx), GRAFT_OK);
	db_cursor_label(&r->cur, r->tx, f->label);
}

/* The reader's next batch of at most step ids; false when all its scans
 * are done. Stages: label scan, all nodes (with their out-expansions),
 * relationship scan, type scan, index seek. */
static bool reader_batch(struct reader *r, size_t step)
{
	struct fixture *f = r->f;
	uint64_t ids[4096];
	size_t n;
	bool more;

	if (r->stage == 5)
		return false;
	more = cursor_steps(&r->cur, step, ids, &n);
	for (size_t i = 0; i < n; i++) {
		struct db_tx *tx = r->tx;

		switch (r->stage) {
		case 0:
			r->t.labelled++;
			r->t.sum_x += int_or_zero(db_tx_node_prop(tx, ids[i],
								  f->key_x));
			assert_true(db_tx_node_has_label(tx, ids[i], f->label));
			break;
		case 1: {
			struct db_cursor e;
			uint64_t rel;

			r->t.nodes++;
			db_cursor_expand(&e, tx, ids[i], GRAPH_OUT,
					 GRAPH_NO_TOKEN);
			while ((rel = db_cursor_next(&e)) != GRAPH_NO_ID)
				r->t.expanded++;
			break;
		}
		case 2:
			r->t.rels++;
			r->t.sum_y += int_or_zero(db_tx_rel_prop(tx, ids[i],
								 f->key_y));
			break;
		case 3:
			r->t.typed++;
			break;
		default:
			r->t.seek5++;
			break;
		}
	}
	if (more)
		return true;
	switch (++r->stage) {
	case 1:
		db_cursor_nodes(&r->cur, r->tx);
		break;
	case 2:
		db_cursor_rels(&r->cur, r->tx);
		break;
	case 3:
		db_cursor_type(&r->cur, r->tx, f->type);
		break;
	case 4:
		db_cursor_index(&r->cur, r->tx, f->label, f->key_x, &r->five);
		break;
	default:
		return false;
	}
	return true;
}

static void reader_run(struct reader *r)
{
	while (reader_batch(r, 0))
		;
}

static void index_on_x(struct fixture *f)
{
	struct db_tx *tx;

	assert_int_equal(db_tx_begin(f->db, 0, &tx), GRAFT_OK);
	assert_int_equal(db_tx_index_create(tx, f->label, f->key_x), GRAFT_OK);
	assert_int_equal(fx_commit(f, tx, NULL, NULL), GRAFT_OK);
}

static uint64_t live_node(struct db_tx *tx, uint64_t max)
{
	for (int tries = 0; tries < 64; tries++) {
		uint64_t id = (uint64_t)rand() % max;

		if (db_tx_node_exists(tx, id))
			return id;
	}
	return GRAPH_NO_ID;
}

/* Deletes node id and its relationships in tx. */
static void detach_delete(struct db_tx *tx, uint64_t id)
{
	struct db_cursor e;
	uint64_t rel, rels[4096];
	size_t n = 0;

	db_cursor_expand(&e, tx, id, GRAPH_BOTH, GRAPH_NO_TOKEN);
	while ((rel = db_cursor_next(&e)) != GRAPH_NO_ID && n < 4096)
		rels[n++] = rel;
	for (size_t i = 0; i < n; i++)
		assert_int_equal(db_tx_rel_delete(tx, rels[i]), GRAFT_OK);
	assert_int_equal(db_tx_node_delete(tx, id), GRAFT_OK);
}

/* One committed transaction of a few random changes. */
static void random_commit(struct fixture *f)
{
	uint64_t max = graph_next_node_id(db_graph(f->db)) + 1, a, b, id;
	struct db_tx *tx;
	int ops = 1 + rand() % 4;

	assert_int_equal(db_tx_begin(f->db, 0, &tx), GRAFT_OK);
	for (int i = 0; i < ops; i++) {
		struct graft_value v = graft_value_int(rand() % 10);

		a = live_node(tx, max);
		b = live_node(tx, max);
		if (a == GRAPH_NO_ID || b == GRAPH_NO_ID)
			continue;
		switch (rand() % 6) {
		case 0:
			assert_int_equal(db_tx_node_set_prop(tx, a, f->key_x, &v),
					 GRAFT_OK);
			break;
		case 1:
			assert_int_equal(db_tx_node_create(tx, &id), GRAFT_OK);
			assert_int_equal(db_tx_node_add_label(tx, id, f->label),
					 GRAFT_OK);
			assert_int_equal(db_tx_node_set_prop(tx, id, f->key_x, &v),
					 GRAFT_OK);
			break;
		case 2:
			assert_int_equal(
				(rand() % 2 ? db_tx_node_remove_label
					    : db_tx_node_add_label)(tx, a,
								    f->label),
				GRAFT_OK);
			break;
		case 3:
			detach_delete(tx, a);
			break;
		case 4:
			assert_int_equal(db_tx_rel_create(tx, f->type, a, b, &id),
					 GRAFT_OK);
			assert_int_equal(db_tx_rel_set_prop(tx, id, f->key_y, &v),
					 GRAFT_OK);
			break;
		default: {
			struct db_cursor e;
			uint64_t rel;

			db_cursor_expand(&e, tx, a, GRAPH_OUT, GRAPH_NO_TOKEN);
			rel = db_cursor_next(&e);
			if (rel == GRAPH_NO_ID)
				break;
			if (rand() % 2)
				assert_int_equal(db_tx_rel_delete(tx, rel),
						 GRAFT_OK);
			else
				assert_int_equal(db_tx_rel_set_prop(
							 tx, rel, f->key_y, &v),
						 GRAFT_OK);
		}
		}
	}
	assert_int_equal(fx_commit(f, tx, NULL, NULL), GRAFT_OK);
}

static void populate(struct fixture *f, int nodes)
{
	for (int i = 0; i < nodes; i++)
		fx_node(f, i % 10);
	for (int i = 0; i < nodes; i++)
		random_commit(f);
}

static void settle_timer_cb(uv_timer_t *t)
{
	uv_close((uv_handle_t *)t, NULL);
}

/* Lets the loop run the reclaim a closed snapshot woke (its wake-up handle
 * does not keep a loop alive: a timer does, for one turn). */
static void settle(struct fixture *f)
{
	uv_timer_t t;

	uv_timer_init(&f->loop, &t);
	uv_timer_start(&t, settle_timer_cb, 0, 0);
	uv_run(&f->loop, UV_RUN_ONCE);
	uv_run(&f->loop, UV_RUN_NOWAIT);
}

static void test_snapshot_reader_sees_its_start_while_writers_commit(
	void **state)
{
	struct fixture *f = *state;
	struct reader before, during, late;

	srand(13);
	index_on_x(f);
	populate(f, 300);
	/* What a reader sees with nothing committing. */
	reader_begin(&before, f);
	reader_run(&before);
	db_tx_rollback(before.tx);

	/* The same, in batches of 7, with a commit after every batch; a
	 * second reader starts half-way and must see the state then. */
	reader_begin(&during, f);
	for (int batch = 0; reader_batch(&during, 7); batch++) {
		random_commit(f);
		if (batch == 100)
			reader_begin(&late, f);
	}
	assert_memory_equal(&during.t, &before.t, sizeof before.t);
	assert_true(before.t.labelled > 0 && before.t.rels > 0 &&
		    before.t.expanded > 0 && before.t.seek5 > 0);
	db_tx_rollback(during.tx);

	/* The late reader, run to the end after more commits, sees the
	 * state as of its own start, which had changed since the first. */
	struct reader now;

	reader_run(&late);
	db_tx_rollback(late.tx);
	settle(f);
	assert_int_equal(graph_versions_bytes(db_graph(f->db)), 0);
	reader_begin(&now, f);
	reader_run(&now);
	db_tx_rollback(now.tx);
	assert_memory_not_equal(&late.t, &before.t, sizeof before.t);
}

static void test_snapshot_old_versions_are_kept_only_for_readers(
	void **state)
{
	struct fixture *f = *state;
	struct db_tx *tx;
	uint64_t a = fx_node(f, 1);
	const struct graft_value *v;
	struct graft_value two = graft_value_int(2);

	/* No reader: an update keeps nothing. */
	assert_int_equal(db_tx_begin(f->db, 0, &tx), GRAFT_OK);
	assert_int_equal(db_tx_node_set_prop(tx, a, f->key_x, &two), GRAFT_OK);
	assert_int_equal(fx_commit(f, tx, NULL, NULL), GRAFT_OK);
	assert_int_equal(graph_versions_bytes(db_graph(f->db)), 0);

	/* A reader: the update keeps the old state until the reader ends. */
	struct db_tx *reader, *w;

	assert_int_equal(db_tx_begin(f->db, DB_TX_READ_ONLY, &reader),
			 GRAFT_OK);
	assert_int_equal(db_tx_begin(f->db, 0, &w), GRAFT_OK);
	struct graft_value three = graft_value_int(3);
	assert_int_equal(db_tx_node_set_prop(w, a, f->key_x, &three), GRAFT_OK);
	assert_int_equal(fx_commit(f, w, NULL, NULL), GRAFT_OK);
	assert_true(graph_versions_bytes(db_graph(f->db)) > 0);
	v = db_tx_node_prop(reader, a, f->key_x);
	assert_non_null(v);
	assert_int_equal(v->u.i, 2);
	db_tx_rollback(reader);
	settle(f);
	assert_int_equal(graph_versions_bytes(db_graph(f->db)), 0);
}

/* What an apply creates had no state before it: a reader open meanwhile
 * sees it absent without an undo record, so the apply keeps nothing for
 * it (a load of a million nodes made a million records of empty states,
 * freed again on the loop), while what it changes is still kept. */
static void test_an_apply_keeps_no_old_version_of_what_it_creates(
	void **state)
{
	struct fixture *f = *state;
	struct graft_value one = graft_value_int(1), two = graft_value_int(2);
	struct db_tx *reader, *w;
	uint64_t a = fx_node(f, 7), id, r;

	assert_int_equal(db_tx_begin(f->db, DB_TX_READ_ONLY, &reader),
			 GRAFT_OK);
	assert_int_equal(db_tx_begin(f->db, 0, &w), GRAFT_OK);
	assert_int_equal(db_tx_node_create(w, &id), GRAFT_OK);
	assert_int_equal(db_tx_node_add_label(w, id, f->label), GRAFT_OK);
	assert_int_equal(db_tx_node_set_prop(w, id, f->key_x, &one), GRAFT_OK);
	assert_int_equal(db_tx_rel_create(w, f->type, id, id, &r), GRAFT_OK);
	assert_int_equal(db_tx_rel_set_prop(w, r, f->key_y, &two), GRAFT_OK);
	assert_int_equal(fx_commit(f, w, NULL, NULL), GRAFT_OK);
	assert_int_equal(graph_versions_bytes(db_graph(f->db)), 0);
	assert_false(db_tx_node_exists(reader, id));

	assert_int_equal(db_tx_begin(f->db, 0, &w), GRAFT_OK);
	assert_int_equal(db_tx_node_set_prop(w, a, f->key_x, &two), GRAFT_OK);
	assert_int_equal(fx_commit(f, w, NULL, NULL), GRAFT_OK);
	assert_true(graph_versions_bytes(db_graph(f->db)) > 0);
	assert_int_equal(db_tx_node_prop(reader, a, f->key_x)->u.i, 7);
	assert_false(db_tx_node_exists(reader, id));
	db_tx_rollback(reader);
	settle(f);
	assert_int_equal(graph_versions_bytes(db_graph(f->db)), 0);
}

/* An apply off the loop that passed validation is what a transaction
 * begun meanwhile (on the loop) sees: its reads wait for the gate, which
 * the apply holds until the loop has counted it applied. So the apply
 * keeps no old state for such a snapshot, which the loop would have freed
 * right after (an update of 100k nodes: 100k undo records). */
static void test_a_transaction_begun_during_an_apply_off_the_loop_sees_it(
	void **state)
{
	struct fixture *f = *state;
	struct graft_value two = graft_value_int(2);
	char errmsg[GRAFT_ERRMSG_SIZE];
	struct db_applied a;
	struct db_tx *w, *reader;
	struct txrec rec;
	uint64_t n = fx_node(f, 1), txid = db_last_txid(f->db) + 1;

	assert_int_equal(db_tx_begin(f->db, 0, &w), GRAFT_OK);
	assert_int_equal(db_tx_node_set_prop(w, n, f->key_x, &two), GRAFT_OK);
	txrec_init(&rec);
	assert_int_equal(record_build(w, &rec), GRAFT_OK);
	tx_free(w);
	apply_off_loop_begin(&a); /* as a thread of libuv's pool does */
	assert_int_equal(db_apply(f->db, &rec, txid, errmsg), GRAFT_OK);
	apply_off_loop_end();
	assert_int_equal(db_last_txid(f->db), txid - 1); /* not counted yet */
	assert_int_equal(db_tx_begin(f->db, DB_TX_READ_ONLY, &reader),
			 GRAFT_OK);
	assert_int_equal(graph_versions_bytes(db_graph(f->db)), 0);
	apply_off_loop_finish(&a);
	assert_int_equal(db_last_txid(f->db), txid);
	assert_int_equal(db_tx_node_prop(reader, n, f->key_x)->u.i, 2);
	db_tx_rollback(reader);
	txrec_free(&rec);
}

struct thread_begin {
	struct db *db;
	struct db_tx *tx;
};

static void *begin_reader_main(void *arg)
{
	struct thread_begin *b = arg;

	if (db_tx_begin(b->db, DB_TX_READ_ONLY, &b->tx) != GRAFT_OK)
		b->tx = NULL;
	return NULL;
}

/* A reader begun on another thread sits in that thread's slot (util/slot.h)
 * and counts as much as one begun on the loop: the oldest snapshot is the
 * least of every slot's, so what a later commit changes is kept for it
 * once the loop's older reader ended, and freed when it ends, on whatever
 * thread. */
static void test_a_reader_of_another_threads_slot_keeps_its_old_versions(
	void **state)
{
	struct fixture *f = *state;
	struct graft_value two = graft_value_int(2), three = graft_value_int(3);
	struct thread_begin b = {.db = f->db};
	struct db_tx *old_reader, *w;
	pthread_t th;
	uint64_t a = fx_node(f, 1);

	assert_int_equal(db_tx_begin(f->db, DB_TX_READ_ONLY, &old_reader),
			 GRAFT_OK);
	assert_int_equal(db_tx_begin(f->db, 0, &w), GRAFT_OK);
	assert_int_equal(db_tx_node_set_prop(w, a, f->key_x, &two), GRAFT_OK);
	assert_int_equal(fx_commit(f, w, NULL, NULL), GRAFT_OK);
	assert_int_equal(pthread_create(&th, NULL, begin_reader_main, &b), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_non_null(b.tx);
	assert_int_not_equal(b.tx->slot, old_reader->slot);

	/* the loop's reader, the oldest, ends: the other slot's is now */
	db_tx_rollback(old_reader);
	settle(f);
	assert_int_equal(db_tx_begin(f->db, 0, &w), GRAFT_OK);
	assert_int_equal(db_tx_node_set_prop(w, a, f->key_x, &three),
			 GRAFT_OK);
	assert_int_equal(fx_commit(f, w, NULL, NULL), GRAFT_OK);
	assert_true(graph_versions_bytes(db_graph(f->db)) > 0);
	assert_int_equal(db_tx_node_prop(b.tx, a, f->key_x)->u.i, 2);

	/* ended on the loop's thread, it leaves its own slot */
	db_tx_rollback(b.tx);
	settle(f);
	assert_int_equal(graph_versions_bytes(db_graph(f->db)), 0);
}

/* A write transaction reads its snapshot too; what it read changed since,
 * so its commit conflicts instead of writing over a state it never saw. */
static void test_snapshot_writer_that_read_a_changed_node_conflicts(
	void **state)
{
	struct fixture *f = *state;
	uint64_t a = fx_node(f, 1);
	struct graft_value two = graft_value_int(2), ten = graft_value_int(10);
	struct db_tx *slow, *fast;
	const struct graft_value *v;

	assert_int_equal(db_tx_begin(f->db, 0, &slow), GRAFT_OK);
	assert_int_equal(db_tx_begin(f->db, 0, &fast), GRAFT_OK);
	assert_int_equal(db_tx_node_set_prop(fast, a, f->key_x, &two), GRAFT_OK);
	assert_int_equal(fx_commit(f, fast, NULL, NULL), GRAFT_OK);
	v = db_tx_node_prop(slow, a, f->key_x);
	assert_int_equal(v->u.i, 1);
	assert_int_equal(db_tx_node_set_prop(slow, a, f->key_x, &ten), GRAFT_OK);
	assert_int_equal(fx_commit(f, slow, NULL, NULL), GRAFT_ECONFLICT);
}

/* A node without labels, committed. */
static uint64_t bare_node(struct fixture *f)
{
	struct db_tx *tx;
	uint64_t id;

	assert_int_equal(db_tx_begin(f->db, 0, &tx), GRAFT_OK);
	assert_int_equal(db_tx_node_create(tx, &id), GRAFT_OK);
	assert_int_equal(fx_commit(f, tx, NULL, NULL), GRAFT_OK);
	return id;
}

/* Begins a write transaction that counts the nodes labelled label (a
 * label scan) and then labels node id: disjoint writes, each changing what
 * the other's scan read. */
static struct db_tx *count_then_label(struct fixture *f, uint32_t label,
				      uint64_t id)
{
	struct db_cursor c;
	struct db_tx *tx;

	assert_int_equal(db_tx_begin(f->db, 0, &tx), GRAFT_OK);
	db_cursor_label(&c, tx, label);
	while (db_cursor_next(&c) != GRAPH_NO_ID)
		;
	assert_int_equal(db_tx_node_add_label(tx, id, label), GRAFT_OK);
	return tx;
}

static void test_write_skew_through_a_label_scan_fails_one_commit(
	void **state)
{
	struct fixture *f = *state;
	uint64_t x = bare_node(f), y = bare_node(f);
	char errmsg[GRAFT_ERRMSG_SIZE];
	struct db_tx *t1, *t2;

	fx_node(f, 1);
	t1 = count_then_label(f, f->label, x);
	t2 = count_then_label(f, f->label, y);
	assert_int_equal(fx_commit(f, t1, NULL, NULL), GRAFT_OK);
	assert_int_equal(fx_commit(f, t2, NULL, errmsg), GRAFT_ECONFLICT);
	assert_non_null(strstr(errmsg, "entered or left the result of a scan"));
}

/* Commits t1 and, while t1 is on its way to the log, t2: t1 succeeds, t2
 * ends with want2. */
static void commit_in_flight(struct fixture *f, struct db_tx *t1,
			     struct db_tx *t2, int want2)
{
	struct fx_commit_result r1 = {0}, r2 = {0};
	struct db_commit_req q1, q2;

	q1.data = &r1;
	q2.data = &r2;
	assert_int_equal(db_commit(t1, &q1, fx_commit_cb), GRAFT_OK);
	assert_int_equal(db_commit(t2, &q2, fx_commit_cb), GRAFT_OK);
	fx_run_until_set(f, &r1.done);
	fx_run_until_set(f, &r2.done);
	assert_int_equal(r1.status, GRAFT_OK);
	assert_int_equal(r2.status, want2);
}

static void test_write_skew_with_a_commit_in_flight_fails_one_commit(
	void **state)
{
	struct fixture *f = *state;
	uint64_t x = bare_node(f), y = bare_node(f);
	struct db_tx *t1 = count_then_label(f, f->label, x);
	struct db_tx *t2 = count_then_label(f, f->label, y);

	commit_in_flight(f, t1, t2, GRAFT_ECONFLICT);
}

static void test_scans_of_other_labels_do_not_conflict(void **state)
{
	struct fixture *f = *state;
	uint64_t x = bare_node(f), y = bare_node(f);
	uint32_t other;
	struct db_tx *t1, *t2;

	assert_int_equal(db_token(f->db, GRAPH_TOKEN_LABEL, "M", 1, &other),
			 GRAFT_OK);
	t1 = count_then_label(f, f->label, x);
	t2 = count_then_label(f, other, y);
	assert_int_equal(fx_commit(f, t1, NULL, NULL), GRAFT_OK);
	assert_int_equal(fx_commit(f, t2, NULL, NULL), GRAFT_OK);
}

/* An index seek for a value is a predicate too: a node taking the value
 * after the seek moves into its result. */
static void test_an_index_seek_sees_a_value_taken_after_it(void **state)
{
	struct fixture *f = *state;
	uint64_t a = fx_node(f, 1), b = fx_node(f, 2);
	struct graft_value seven = graft_value_int(7);
	struct db_cursor c;
	struct db_tx *t1, *t2;

	index_on_x(f);
	assert_int_equal(db_tx_begin(f->db, 0, &t1), GRAFT_OK);
	assert_int_equal(db_tx_begin(f->db, 0, &t2), GRAFT_OK);
	db_cursor_index(&c, t2, f->label, f->key_x, &seven);
	assert_int_equal(db_cursor_next(&c), GRAPH_NO_ID);
	assert_int_equal(db_tx_node_set_prop(t1, a, f->key_x, &seven), GRAFT_OK);
	assert_int_equal(db_tx_node_set_prop(t2, b, f->key_x, &seven), GRAFT_OK);
	assert_int_equal(fx_commit(f, t1, NULL, NULL), GRAFT_OK);
	assert_int_equal(fx_commit(f, t2, NULL, NULL), GRAFT_ECONFLICT);
}

/* A transaction seeking many values (an UNWIND of MATCHes) records each
 * once, by hash: a value it sought first, last or twice is still a
 * predicate a later commit can move a node into. */
static void test_many_index_seeks_each_see_a_value_taken_after_them(
	void **state)
{
	struct fixture *f = *state;
	uint64_t a = fx_node(f, 1), b = fx_node(f, 2);
	struct graft_value v;
	struct db_cursor c;
	struct db_tx *t1, *t2;

	index_on_x(f);
	for (int64_t sought = 0; sought < 20000; sought += 9999) {
		assert_int_equal(db_tx_begin(f->db, 0, &t1), GRAFT_OK);
		assert_int_equal(db_tx_begin(f->db, 0, &t2), GRAFT_OK);
		for (int pass = 0; pass < 2; pass++)
			for (int64_t i = 1000; i < 21000; i++) {
				v = graft_value_int(i);
				db_cursor_index(&c, t2, f->label, f->key_x, &v);
				assert_int_equal(db_cursor_next(&c),
						 GRAPH_NO_ID);
			}
		v = graft_value_int(1000 + sought);
		assert_int_equal(db_tx_node_set_prop(t1, a, f->key_x, &v),
				 GRAFT_OK);
		assert_int_equal(db_tx_node_set_prop(t2, b, f->key_x, &v),
				 GRAFT_OK);
		assert_int_equal(fx_commit(f, t1, NULL, NULL), GRAFT_OK);
		assert_int_equal(fx_commit(f, t2, NULL, NULL),
				 GRAFT_ECONFLICT);
		v = graft_value_int(0);
		assert_int_equal(db_tx_begin(f->db, 0, &t1), GRAFT_OK);
		assert_int_equal(db_tx_node_set_prop(t1, a, f->key_x, &v),
				 GRAFT_OK);
		assert_int_equal(fx_commit(f, t1, NULL, NULL), GRAFT_OK);
	}
}

/* Begins a write transaction that scans label name, which the database
 * has no token for (it finds nothing), and then labels node id L. */
static struct db_tx *scan_absent_then_label(struct fixture *f,
					    const char *name, uint64_t id)
{
	struct db_tx *tx;

	assert_int_equal(db_tx_begin(f->db, 0, &tx), GRAFT_OK);
	db_tx_read_absent(tx, GRAPH_TOKEN_LABEL, name, strlen(name));
	assert_int_equal(db_tx_node_add_label(tx, id, f->label), GRAFT_OK);
	return tx;
}

/* Begins a write transaction that creates a node with the label name
 * (interned now, as a writing statement does). */
static struct db_tx *create_labelled(struct fixture *f, const char *name)
{
	struct db_tx *tx;
	uint32_t label;
	uint64_t id;

	assert_int_equal(db_token(f->db, GRAPH_TOKEN_LABEL, name, strlen(name),
				  &label),
			 GRAFT_OK);
	assert_int_equal(db_tx_begin(f->db, 0, &tx), GRAFT_OK);
	assert_int_equal(db_tx_node_create(tx, &id), GRAFT_OK);
	assert_int_equal(db_tx_node_add_label(tx, id, label), GRAFT_OK);
	return tx;
}

/* A scan of a label no node ever had is a predicate too: the first node
 * given it by a commit after the snapshot is a phantom. */
static void test_a_scan_of_a_label_never_used_sees_its_first_node(
	void **state)
{
	struct fixture *f = *state;
	uint64_t x = bare_node(f);
	struct db_tx *scanner, *creator;
	char errmsg[GRAFT_ERRMSG_SIZE];

	scanner = scan_absent_then_label(f, "Fresh", x);
	creator = create_labelled(f, "Fresh");
	assert_int_equal(fx_commit(f, creator, NULL, NULL), GRAFT_OK);
	assert_int_equal(fx_commit(f, scanner, NULL, errmsg), GRAFT_ECONFLICT);
	assert_non_null(strstr(errmsg, "entered or left the result of a scan"));
	/* A commit in flight is judged by the names it carries: another new
	 * label does not conflict with the scan. */
	scanner = scan_absent_then_label(f, "Sentry", x);
	creator = create_labelled(f, "Other");
	commit_in_flight(f, creator, scanner, GRAFT_OK);
}

static void test_a_scan_of_a_label_never_used_sees_a_commit_in_flight(
	void **state)
{
	struct fixture *f = *state;
	uint64_t x = bare_node(f);
	struct db_tx *scanner = scan_absent_then_label(f, "Fresh", x);
	struct db_tx *creator = create_labelled(f, "Fresh");

	commit_in_flight(f, creator, scanner, GRAFT_ECONFLICT);
}

/* Begins a write transaction that creates a node (*id). */
static struct db_tx *create_node(struct fixture *f, uint64_t *id)
{
	struct db_tx *tx;

	assert_int_equal(db_tx_begin(f->db, 0, &tx), GRAFT_OK);
	assert_int_equal(db_tx_node_create(tx, id), GRAFT_OK);
	return tx;
}

/* Begins a write transaction that looks node id up (absent from its
 * snapshot) and then labels node other. */
static struct db_tx *miss_then_label(struct fixture *f, uint64_t id,
				     uint64_t other)
{
	struct db_tx *tx;

	assert_int_equal(db_tx_begin(f->db, 0, &tx), GRAFT_OK);
	assert_false(db_tx_node_exists(tx, id));
	assert_int_equal(db_tx_node_add_label(tx, other, f->label), GRAFT_OK);
	return tx;
}

/* Finding an entity absent by its id is a read: serially after the
 * creator's commit the lookup would have found it, so the reader's commit
 * conflicts, whether the creator committed first or is still committing. */
static void test_a_lookup_by_id_of_a_node_created_after_the_snapshot_conflicts(
	void **state)
{
	struct fixture *f = *state;
	uint64_t x = bare_node(f), n;
	struct db_tx *creator = create_node(f, &n);
	struct db_tx *reader = miss_then_label(f, n, x);
	char errmsg[GRAFT_ERRMSG_SIZE];

	assert_int_equal(fx_commit(f, creator, NULL, NULL), GRAFT_OK);
	assert_int_equal(fx_commit(f, reader, NULL, errmsg), GRAFT_ECONFLICT);
	assert_non_null(strstr(errmsg, "after this transaction read it"));
	creator = create_node(f, &n);
	reader = miss_then_label(f, n, x);
	commit_in_flight(f, creator, reader, GRAFT_ECONFLICT);
	/* an id nobody created is absent in every serial order */
	reader = miss_then_label(f, n + 1000, x);
	assert_int_equal(fx_commit(f, reader, NULL, NULL), GRAFT_OK);
}

/* Sets node id's x to v in a committed transaction. */
static void set_x(struct fixture *f, uint64_t id, int64_t v)
{
	struct graft_value x = graft_value_int(v);
	struct db_tx *tx;

	assert_int_equal(db_tx_begin(f->db, 0, &tx), GRAFT_OK);
	assert_int_equal(db_tx_node_set_prop(tx, id, f->key_x, &x), GRAFT_OK);
	assert_int_equal(fx_commit(f, tx, NULL, NULL), GRAFT_OK);
}

/* A long reader keeps the keys of every commit since it began (5,000 a
 * second under old_versions.sh's writers): a writer's commit looks only at
 * those after its own snapshot, whatever the reader holds, and still finds
 * the one that moved a node into its scan, after trims and compactions of
 * what is kept. */
static void test_a_commit_under_a_long_reader_checks_only_commits_after_it(
	void **state)
{
	struct fixture *f = *state;
	uint64_t z = bare_node(f), b = bare_node(f), c = bare_node(f);
	uint64_t d = bare_node(f);
	struct db_tx *old, *young, *scanned, *w;
	uint64_t before;

	fx_node(f, 0);
	assert_int_equal(db_tx_begin(f->db, DB_TX_READ_ONLY, &old), GRAFT_OK);
	for (int i = 1; i <= 2000; i++)
		set_x(f, z, i);
	w = count_then_label(f, f->label, b);
	set_x(f, z, 2001);
	set_x(f, z, 2002);
	before = f->db->recent_checked;
	assert_int_equal(fx_commit(f, w, NULL, NULL), GRAFT_OK);
	assert_int_equal(f->db->recent_checked - before, 2);
	db_tx_rollback(old);
	settle(f);
	assert_int_equal(f->db->recent_n, 0);
	assert_null(f->db->recent); /* given back, not kept at its peak */

	/* an old reader's 40 commits trimmed under a younger one's 20: the
	 * rest moves to the front of the array as more come */
	assert_int_equal(db_tx_begin(f->db, DB_TX_READ_ONLY, &old), GRAFT_OK);
	for (int i = 0; i < 40; i++)
		set_x(f, z, i);
	assert_int_equal(db_tx_begin(f->db, DB_TX_READ_ONLY, &young), GRAFT_OK);
	for (int i = 0; i < 20; i++)
		set_x(f, z, 100 + i);
	db_tx_rollback(old);
	settle(f);
	assert_int_equal(f->db->recent_n, 20);
	for (int i = 0; i < 50; i++)
		set_x(f, z, 200 + i);
	assert_int_equal(f->db->recent_n, 70);
	scanned = count_then_label(f, f->label, c);
	set_x(f, z, 300);
	assert_int_equal(db_tx_begin(f->db, 0, &w), GRAFT_OK);
	assert_int_equal(db_tx_node_add_label(w, d, f->label), GRAFT_OK);
	assert_int_equal(fx_commit(f, w, NULL, NULL), GRAFT_OK);
	set_x(f, z, 301);
	before = f->db->recent_checked;
	assert_int_equal(fx_commit(f, scanned, NULL, NULL), GRAFT_ECONFLICT);
	assert_int_equal(f->db->recent_checked - before, 2); /* found at 2 */
	assert_int_equal(db_tx_node_prop(young, z, f->key_x)->u.i, 39);
	db_tx_rollback(young);
	settle(f);
	assert_int_equal(f->db->recent_n, 0);
	assert_null(f->db->recent);
}

/* Past db.transaction.old_versions.max_size, the transactions of the
 * oldest snapshot (a reader, a writer that scanned) are ended and the old
 * versions freed at once; a younger reader within the bound goes on and
 * still sees its snapshot. */
static void test_old_versions_past_the_bound_end_the_oldest_snapshot(
	void **state)
{
	struct fixture *f = *state;
	const uint64_t max = 4096;
	char errmsg[GRAFT_ERRMSG_SIZE];
	struct db_tx *old, *writer, *young = NULL;
	struct db_cursor c;
	uint64_t a, b;
	int commits = 0, young_x = 0;

	fx_close(f);
	f->o.old_versions_max_size = max;
	fx_open(f);
	fx_tokens(f);
	a = fx_node(f, 0);
	b = bare_node(f);
	assert_int_equal(db_tx_begin(f->db, DB_TX_READ_ONLY, &old), GRAFT_OK);
	assert_int_equal(db_tx_begin(f->db, 0, &writer), GRAFT_OK);
	db_cursor_label(&c, writer, f->label);
	while (db_cursor_next(&c) != GRAPH_NO_ID)
		;
	assert_int_equal(db_tx_node_add_label(writer, b, f->label), GRAFT_OK);
	/* Within the bound, every old version is kept for the old reader;
	 * the young one starts when half of it is used. */
	while (db_tx_check(old, errmsg) == GRAFT_OK) {
		assert_true(graph_versions_bytes(db_graph(f->db)) <= max);
		assert_int_equal(db_tx_node_prop(old, a, f->key_x)->u.i, 0);
		if (young == NULL &&
		    graph_versions_bytes(db_graph(f->db)) > max / 2) {
			assert_int_equal(db_tx_begin(f->db, DB_TX_READ_ONLY,
						     &young),
					 GRAFT_OK);
			young_x = commits;
		}
		assert_true(++commits < 10000);
		set_x(f, a, commits);
	}
	assert_non_null(young);
	assert_non_null(strstr(errmsg, "db.transaction.old_versions.max_size"));
	assert_int_equal(db_tx_check(writer, errmsg), GRAFT_ELIMIT);
	assert_int_equal(fx_commit(f, writer, NULL, errmsg), GRAFT_ELIMIT);
	assert_non_null(strstr(errmsg, "retry it"));
	/* Freed at once, without waiting for the old reader to end, down to
	 * what the young one needs. */
	assert_int_equal(db_tx_check(young, NULL), GRAFT_OK);
	assert_true(graph_versions_bytes(db_graph(f->db)) <= max / 2 + 512);
	assert_int_equal(db_tx_node_prop(young, a, f->key_x)->u.i, young_x);
	db_tx_rollback(old);
	db_tx_rollback(young);
	settle(f);
	assert_int_equal(graph_versions_bytes(db_graph(f->db)), 0);
	/* The revoked snapshots were closed once: a new reader keeps what a
	 * commit changes, and frees it when it ends. */
	assert_int_equal(db_tx_begin(f->db, DB_TX_READ_ONLY, &old), GRAFT_OK);
	set_x(f, a, 0);
	assert_true(graph_versions_bytes(db_graph(f->db)) > 0);
	db_tx_rollback(old);
	settle(f);
	assert_int_equal(graph_versions_bytes(db_graph(f->db)), 0);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup_open, fx_teardown)
	const struct CMUnitTest tests[] = {
		T(test_snapshot_reader_sees_its_start_while_writers_commit),
		T(test_snapshot_old_versions_are_kept_only_for_readers),
		T(test_an_apply_keeps_no_old_version_of_what_it_creates),
		T(test_a_transaction_begun_during_an_apply_off_the_loop_sees_it),
		T(test_a_reader_of_another_threads_slot_keeps_its_old_versions),
		T(test_snapshot_writer_that_read_a_changed_node_conflicts),
		T(test_write_skew_through_a_label_scan_fails_one_commit),
		T(test_write_skew_with_a_commit_in_flight_fails_one_commit),
		T(test_scans_of_other_labels_do_not_conflict),
		T(test_an_index_seek_sees_a_value_taken_after_it),
		T(test_many_index_seeks_each_see_a_value_taken_after_them),
		T(test_old_versions_past_the_bound_end_the_oldest_snapshot),
		T(test_a_commit_under_a_long_reader_checks_only_commits_after_it),
		T(test_a_scan_of_a_label_never_used_sees_its_first_node),
		T(test_a_scan_of_a_label_never_used_sees_a_commit_in_flight),
		T(test_a_lookup_by_id_of_a_node_created_after_the_snapshot_conflicts),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
