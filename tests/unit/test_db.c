/* Unit tests for db: transactions and their overlay, cursors, the commit
 * path with optimistic validation, and apply. Recovery, checkpoints, disk
 * full and dbms are in test_db_recovery.c. */
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
#include "txlog/txlog.h"
#include "txrec/txrec.h"
#include "util/gate.h"

static int64_t prop_int(struct db_tx *tx, uint64_t id, uint32_t key)
{
	const struct graft_value *v = db_tx_node_prop(tx, id, key);

	assert_non_null(v);
	assert_int_equal(v->type, GRAFT_VALUE_INT);
	return v->u.i;
}

/* Ids a cursor returns, up to max, GRAPH_NO_ID-terminated count. */
static size_t drain_cursor(struct db_cursor *c, uint64_t *ids, size_t max)
{
	size_t n = 0;
	uint64_t id;

	while ((id = db_cursor_next(c)) != GRAPH_NO_ID) {
		assert_true(n < max);
		ids[n++] = id;
	}
	return n;
}

static void test_db_tx_sees_its_own_creates(void **state)
{
	struct fixture *f = *state;
	struct graft_value v = graft_value_int(7);
	const uint32_t *labels;
	struct graph_rel_ends ends;
	struct db_tx *tx;
	uint64_t a, b, r;

	assert_int_equal(db_tx_begin(f->db, 0, &tx), GRAFT_OK);
	assert_false(db_tx_has_writes(tx));
	assert_int_equal(db_tx_node_create(tx, &a), GRAFT_OK);
	assert_int_equal(db_tx_node_create(tx, &b), GRAFT_OK);
	assert_true(a != b);
	assert_int_equal(db_tx_node_add_label(tx, a, f->label), GRAFT_OK);
	assert_int_equal(db_tx_node_set_prop(tx, a, f->key_x, &v), GRAFT_OK);
	assert_int_equal(db_tx_rel_create(tx, f->type, a, b, &r), GRAFT_OK);
	assert_true(db_tx_has_writes(tx));

	assert_true(db_tx_node_exists(tx, a));
	assert_int_equal(db_tx_node_labels(tx, a, &labels), 1);
	assert_int_equal(labels[0], f->label);
	assert_true(db_tx_node_has_label(tx, a, f->label));
	assert_false(db_tx_node_has_label(tx, b, f->label));
	assert_int_equal(prop_int(tx, a, f->key_x), 7);
	assert_null(db_tx_node_prop(tx, a, f->key_y));
	assert_true(db_tx_rel_exists(tx, r));
	assert_true(db_tx_rel_ends(tx, r, &ends));
	assert_int_equal(ends.src, a);
	assert_int_equal(ends.dst, b);
	assert_int_equal(ends.type, f->type);

	/* The committed graph knows nothing of it yet. */
	assert_false(graph_node_exists(db_graph(f->db), a));
	assert_false(graph_rel_exists(db_graph(f->db), r));
	db_tx_rollback(tx);
}

static void test_db_rollback_leaves_nothing(void **state)
{
	struct fixture *f = *state;
	struct graph_stats st;
	struct db_tx *tx;
	uint64_t a, b, r;
	uint64_t n = fx_node(f, 1);

	assert_int_equal(db_tx_begin(f->db, 0, &tx), GRAFT_OK);
	assert_int_equal(db_tx_node_create(tx, &a), GRAFT_OK);
	assert_int_equal(db_tx_node_create(tx, &b), GRAFT_OK);
	assert_int_equal(db_tx_rel_create(tx, f->type, a, b, &r), GRAFT_OK);
	assert_int_equal(db_tx_node_remove_label(tx, n, f->label), GRAFT_OK);
	assert_int_equal(db_tx_node_set_prop(tx, n, f->key_x, NULL), GRAFT_OK);
	db_tx_rollback(tx);

	graph_stats(db_graph(f->db), &st);
	assert_int_equal(st.nodes, 1);
	assert_int_equal(st.rels, 0);
	assert_true(graph_node_has_label(db_graph(f->db), n, f->label));
	assert_non_null(graph_node_prop(db_graph(f->db), n, f->key_x));
	assert_int_equal(db_last_txid(f->db), 1);
}

static void test_db_commit_makes_visible_with_contiguous_txids(void **state)
{
	struct fixture *f = *state;
	const struct graph *g = db_graph(f->db);
	struct graft_value v;
	struct db_tx *tx;
	uint64_t id, txid;

	for (uint64_t i = 1; i <= 5; i++) {
		v = graft_value_int((int64_t)i);
		assert_int_equal(db_tx_begin(f->db, 0, &tx), GRAFT_OK);
		assert_int_equal(db_tx_node_create(tx, &id), GRAFT_OK);
		assert_int_equal(db_tx_node_set_prop(tx, id, f->key_x, &v),
				 GRAFT_OK);
		assert_int_equal(fx_commit(f, tx, &txid, NULL), GRAFT_OK);
		assert_int_equal(txid, i);
		assert_int_equal(db_last_txid(f->db), i);
		assert_true(graph_node_exists(g, id));
		assert_int_equal(graph_node_version(g, id), i);
		assert_int_equal(graph_node_prop(g, id, f->key_x)->u.i, (int64_t)i);
	}
}

static void test_db_commit_without_writes_answers_later(void **state)
{
	struct fixture *f = *state;
	struct db_tx *tx;
	uint64_t txid = 99;

	fx_node(f, 1);
	assert_int_equal(db_tx_begin(f->db, DB_TX_READ_ONLY, &tx), GRAFT_OK);
	assert_true(db_tx_node_exists(tx, 0));
	/* fx_commit asserts the callback does not run within db_commit. */
	assert_int_equal(fx_commit(f, tx, &txid, NULL), GRAFT_OK);
	assert_int_equal(txid, 1);
	assert_int_equal(db_last_txid(f->db), 1);
}

static void test_db_client_transactions_stop_at_the_maximum(void **state)
{
	struct fixture *f = *state;
	struct db_tx *a, *b, *c, *internal;

	fx_close(f);
	f->o.max_client_tx = 2;
	fx_open(f);
	assert_int_equal(db_tx_begin(f->db, DB_TX_CLIENT, &a), GRAFT_OK);
	assert_int_equal(db_tx_begin(f->db, DB_TX_CLIENT | DB_TX_READ_ONLY, &b),
			 GRAFT_OK);
	assert_int_equal(db_tx_begin(f->db, DB_TX_CLIENT, &c), GRAFT_ELIMIT);
	/* the server's own transactions are not refused */
	assert_int_equal(db_tx_begin(f->db, 0, &internal), GRAFT_OK);
	db_tx_rollback(internal);
	db_tx_rollback(a);
	assert_int_equal(db_tx_begin(f->db, DB_TX_CLIENT, &c), GRAFT_OK);
	db_tx_rollback(b);
	db_tx_rollback(c);
}

static void test_db_read_only_tx_refuses_writes(void **state)
{
	struct fixture *f = *state;
	struct db_tx *tx;
	uint64_t id;
	uint64_t n = fx_node(f, 1);

	assert_int_equal(db_tx_begin(f->db, DB_TX_READ_ONLY, &tx), GRAFT_OK);
	assert_int_equal(db_tx_node_create(tx, &id), GRAFT_EREADONLY);
	assert_int_equal(db_tx_node_delete(tx, n), GRAFT_EREADONLY);
	assert_int_equal(db_tx_node_set_prop(tx, n, f->key_x, NULL),
			 GRAFT_EREADONLY);
	assert_false(db_tx_has_writes(tx));
	db_tx_rollback(tx);
}

static void test_db_lost_update_is_a_conflict(void **state)
{
	struct fixture *f = *state;
	char errmsg[GRAFT_ERRMSG_SIZE];
	struct graft_value v;
	struct db_tx *a, *b;
	uint64_t n = fx_node(f, 1);

	/* Both read x = 1 and write x + 1. */
	assert_int_equal(db_tx_begin(f->db, 0, &a), GRAFT_OK);
	assert_int_equal(db_tx_begin(f->db, 0, &b), GRAFT_OK);
	v = graft_value_int(prop_int(a, n, f->key_x) + 1);
	assert_int_equal(db_tx_node_set_prop(a, n, f->key_x, &v), GRAFT_OK);
	v = graft_value_int(prop_int(b, n, f->key_x) + 1);
	assert_int_equal(db_tx_node_set_prop(b, n, f->key_x, &v), GRAFT_OK);

	assert_int_equal(fx_commit(f, a, NULL, NULL), GRAFT_OK);
	assert_int_equal(fx_commit(f, b, NULL, errmsg), GRAFT_ECONFLICT);
	assert_non_null(strstr(errmsg, "retry"));
	assert_int_equal(graph_node_prop(db_graph(f->db), n, f->key_x)->u.i, 2);

	/* The retry reads 2 and so nothing is lost. */
	assert_int_equal(db_tx_begin(f->db, 0, &b), GRAFT_OK);
	v = graft_value_int(prop_int(b, n, f->key_x) + 1);
	assert_int_equal(db_tx_node_set_prop(b, n, f->key_x, &v), GRAFT_OK);
	assert_int_equal(fx_commit(f, b, NULL, NULL), GRAFT_OK);
	assert_int_equal(graph_node_prop(db_graph(f->db), n, f->key_x)->u.i, 3);
}

static void test_db_commit_in_flight_conflicts(void **state)
{
	struct fixture *f = *state;
	struct db_commit_req ra, rb, rc;
	struct fx_commit_result a = {0}, b = {0}, c = {0};
	struct graft_value v = graft_value_int(5);
	struct db_tx *ta, *tb, *tc;
	uint64_t n = fx_node(f, 1), m = fx_node(f, 1);

	assert_int_equal(db_tx_begin(f->db, 0, &ta), GRAFT_OK);
	assert_int_equal(db_tx_begin(f->db, 0, &tb), GRAFT_OK);
	assert_int_equal(db_tx_begin(f->db, 0, &tc), GRAFT_OK);
	assert_int_equal(db_tx_node_set_prop(ta, n, f->key_x, &v), GRAFT_OK);
	assert_int_equal(db_tx_node_set_prop(tb, n, f->key_y, &v), GRAFT_OK);
	assert_int_equal(db_tx_node_set_prop(tc, m, f->key_y, &v), GRAFT_OK);
	/* Same batch: a is logged but not applied when b and c validate. */
	ra.data = &a;
	rb.data = &b;
	rc.data = &c;
	assert_int_equal(db_commit(ta, &ra, fx_commit_cb), GRAFT_OK);
	assert_int_equal(db_commit(tb, &rb, fx_commit_cb), GRAFT_OK);
	assert_int_equal(db_commit(tc, &rc, fx_commit_cb), GRAFT_OK);
	while (!a.done || !b.done || !c.done)
		uv_run(&f->loop, UV_RUN_ONCE);
	assert_int_equal(a.status, GRAFT_OK);
	assert_int_equal(b.status, GRAFT_ECONFLICT);
	assert_non_null(strstr(b.errmsg, "committing now"));
	assert_int_equal(c.status, GRAFT_OK);
	assert_int_equal(c.txid, a.txid + 1);
	assert_null(graph_node_prop(db_graph(f->db), n, f->key_y));
	assert_int_equal(db_last_txid(f->db), 4);
}

static void test_db_delete_node_with_rels_is_constraint(void **state)
{
	struct fixture *f = *state;
	uint64_t n = fx_node(f, 1), m = fx_node(f, 2), r, r2;
	struct db_tx *tx;

	assert_int_equal(db_tx_begin(f->db, 0, &tx), GRAFT_OK);
	assert_int_equal(db_tx_rel_create(tx, f->type, n, m, &r), GRAFT_OK);
	assert_int_equal(fx_commit(f, tx, NULL, NULL), GRAFT_OK);

	/* Committed relationship. */
	assert_int_equal(db_tx_begin(f->db, 0, &tx), GRAFT_OK);
	assert_int_equal(db_tx_node_delete(tx, m), GRAFT_ECONSTRAINT);
	assert_int_equal(db_tx_rel_delete(tx, r), GRAFT_OK);
	/* Relationship created by the transaction itself. */
	assert_int_equal(db_tx_rel_create(tx, f->type, m, m, &r2), GRAFT_OK);
	assert_int_equal(db_tx_node_delete(tx, m), GRAFT_ECONSTRAINT);
	assert_int_equal(db_tx_rel_delete(tx, r2), GRAFT_OK);
	assert_int_equal(db_tx_node_delete(tx, m), GRAFT_OK);
	assert_false(db_tx_node_exists(tx, m));
	assert_int_equal(db_tx_node_delete(tx, m), GRAFT_ENOTFOUND);
	assert_int_equal(fx_commit(f, tx, NULL, NULL), GRAFT_OK);
	assert_false(graph_node_exists(db_graph(f->db), m));
	assert_false(graph_rel_exists(db_graph(f->db), r));
	assert_false(graph_rel_exists(db_graph(f->db), r2));
	assert_true(graph_node_exists(db_graph(f->db), n));
}

static void test_db_delete_races_relationship_create(void **state)
{
	struct fixture *f = *state;
	uint64_t n = fx_node(f, 1), m = fx_node(f, 2), r;
	struct db_tx *del, *add;

	/* del saw m without relationships; add attaches one and commits
	 * first: m's version is unchanged, yet del must not go through. */
	assert_int_equal(db_tx_begin(f->db, 0, &del), GRAFT_OK);
	assert_int_equal(db_tx_node_delete(del, m), GRAFT_OK);
	assert_int_equal(db_tx_begin(f->db, 0, &add), GRAFT_OK);
	assert_int_equal(db_tx_rel_create(add, f->type, n, m, &r), GRAFT_OK);
	assert_int_equal(fx_commit(f, add, NULL, NULL), GRAFT_OK);
	assert_int_equal(fx_commit(f, del, NULL, NULL), GRAFT_ECONFLICT);
	assert_true(graph_node_exists(db_graph(f->db), m));
}

static void test_db_cursors_merge_the_overlay(void **state)
{
	struct fixture *f = *state;
	uint64_t a = fx_node(f, 1), b = fx_node(f, 2), c = fx_node(f, 3);
	uint64_t e, d, x, y, rx, ry, rz, ids[16];
	struct graft_value two = graft_value_int(2);
	struct db_cursor cur;
	struct db_tx *tx;
	size_t n;

	/* e: committed without the label; x: committed end of a->x. */
	assert_int_equal(db_tx_begin(f->db, 0, &tx), GRAFT_OK);
	assert_int_equal(db_tx_node_create(tx, &e), GRAFT_OK);
	assert_int_equal(db_tx_node_create(tx, &x), GRAFT_OK);
	assert_int_equal(db_tx_rel_create(tx, f->type, a, x, &rx), GRAFT_OK);
	assert_int_equal(fx_commit(f, tx, NULL, NULL), GRAFT_OK);

	assert_int_equal(db_tx_begin(f->db, 0, &tx), GRAFT_OK);
	assert_int_equal(db_tx_node_create(tx, &d), GRAFT_OK);
	assert_int_equal(db_tx_node_add_label(tx, d, f->label), GRAFT_OK);
	assert_int_equal(db_tx_node_remove_label(tx, b, f->label), GRAFT_OK);
	assert_int_equal(db_tx_node_delete(tx, c), GRAFT_OK);
	assert_int_equal(db_tx_node_add_label(tx, e, f->label), GRAFT_OK);

	db_cursor_label(&cur, tx, f->label);
	n = drain_cursor(&cur, ids, 16);
	assert_int_equal(n, 3);
	assert_int_equal(ids[0], a); /* committed part first */
	assert_int_equal(ids[1], d); /* then created */
	assert_int_equal(ids[2], e); /* then changed to match */

	db_cursor_nodes(&cur, tx);
	n = drain_cursor(&cur, ids, 16);
	assert_int_equal(n, 5); /* a b e x, then d; c is gone */
	for (size_t i = 0; i < n; i++)
		assert_true(ids[i] != c);
	assert_int_equal(ids[4], d);

	/* Expand: the committed a->x deleted, a->y and a self-loop added. */
	assert_int_equal(db_tx_node_create(tx, &y), GRAFT_OK);
	assert_int_equal(db_tx_rel_delete(tx, rx), GRAFT_OK);
	assert_int_equal(db_tx_rel_create(tx, f->type, a, y, &ry), GRAFT_OK);
	assert_int_equal(db_tx_rel_create(tx, f->type, a, a, &rz), GRAFT_OK);
	db_cursor_expand(&cur, tx, a, GRAPH_OUT, f->type);
	n = drain_cursor(&cur, ids, 16);
	assert_int_equal(n, 2);
	assert_int_equal(ids[0], ry);
	assert_int_equal(ids[1], rz);
	db_cursor_expand(&cur, tx, y, GRAPH_IN, GRAPH_NO_TOKEN);
	assert_int_equal(drain_cursor(&cur, ids, 16), 1);
	assert_int_equal(ids[0], ry);
	db_cursor_expand(&cur, tx, a, GRAPH_BOTH, GRAPH_NO_TOKEN);
	assert_int_equal(drain_cursor(&cur, ids, 16), 2); /* loop once */
	db_cursor_expand(&cur, tx, x, GRAPH_BOTH, GRAPH_NO_TOKEN);
	assert_int_equal(drain_cursor(&cur, ids, 16), 0);
	db_cursor_type(&cur, tx, f->type);
	assert_int_equal(drain_cursor(&cur, ids, 16), 2);
	db_cursor_rels(&cur, tx);
	assert_int_equal(drain_cursor(&cur, ids, 16), 2);

	/* Property changes move nodes in and out of an index seek. */
	assert_int_equal(db_tx_node_set_prop(tx, a, f->key_x, &two), GRAFT_OK);
	assert_int_equal(db_tx_node_set_prop(tx, d, f->key_x, &two), GRAFT_OK);
	assert_int_equal(db_tx_node_set_prop(tx, e, f->key_x, &two), GRAFT_OK);
	db_tx_rollback(tx);
	assert_int_equal(db_tx_begin(f->db, 0, &tx), GRAFT_OK);
	assert_int_equal(db_tx_index_create(tx, f->label, f->key_x), GRAFT_OK);
	assert_int_equal(db_tx_index_create(tx, f->label, f->key_x),
			 GRAFT_EEXIST);
	assert_int_equal(fx_commit(f, tx, NULL, NULL), GRAFT_OK);
	assert_true(graph_index_exists(db_graph(f->db), f->label, f->key_x));
	assert_int_equal(db_tx_begin(f->db, 0, &tx), GRAFT_OK);
	assert_int_equal(db_tx_node_set_prop(tx, b, f->key_x, NULL), GRAFT_OK);
	assert_int_equal(db_tx_node_add_label(tx, b, f->label), GRAFT_OK);
	assert_int_equal(db_tx_node_set_prop(tx, a, f->key_x, &two), GRAFT_OK);
	assert_int_equal(db_tx_node_create(tx, &d), GRAFT_OK);
	assert_int_equal(db_tx_node_add_label(tx, d, f->label), GRAFT_OK);
	assert_int_equal(db_tx_node_set_prop(tx, d, f->key_x, &two), GRAFT_OK);
	db_cursor_index(&cur, tx, f->label, f->key_x, &two);
	n = drain_cursor(&cur, ids, 16);
	/* b (x = 2 committed) lost x; a gained it; d is new (the overlay's
	 * candidates come in no particular order). */
	assert_int_equal(n, 2);
	assert_true((ids[0] == d && ids[1] == a) || (ids[0] == a && ids[1] == d));
	db_tx_rollback(tx);
}

static void test_db_cursor_keeps_its_snapshot_across_commits(void **state)
{
	struct fixture *f = *state;
	uint64_t a = fx_node(f, 1), b = fx_node(f, 2), ids[16];
	struct db_cursor cur;
	struct db_tx *tx;

	assert_int_equal(db_tx_begin(f->db, DB_TX_READ_ONLY, &tx), GRAFT_OK);
	db_cursor_label(&cur, tx, f->label);
	assert_int_equal(db_cursor_next(&cur), a);
	/* A commit lands between two batches of a streaming result: the
	 * cursor goes on as of the transaction's start. */
	fx_node(f, 3);
	assert_int_equal(drain_cursor(&cur, ids, 16), 1);
	assert_int_equal(ids[0], b);
	db_tx_rollback(tx);
}

/* Applies a record of the n ops (a label "Fresh", a type "KNOWS", a
 * relationship's key "k" where the op takes a name) as transaction txid;
 * db_apply's result. */
static int apply_ops_as(struct fixture *f, const struct txrec_op *ops,
			size_t n, uint64_t txid, char *errmsg)
{
	struct txrec rec;
	int rv;

	txrec_init(&rec);
	rec.db = graft_str_new("neo4j", 5);
	for (size_t i = 0; i < n; i++) {
		struct txrec_op op = ops[i];

		if (op.type == TXREC_NODE_ADD_LABEL)
			op.name = graft_str_new("Fresh", 5);
		if (op.type == TXREC_REL_CREATE)
			op.name = graft_str_new("KNOWS", 5);
		if (op.type == TXREC_REL_SET_PROP)
			op.name = graft_str_new("k", 1);
		assert_int_equal(txrec_add_op(&rec, &op), GRAFT_OK);
	}
	rv = db_apply(f->db, &rec, txid, errmsg);
	txrec_free(&rec);
	return rv;
}

/* apply_ops_as transaction 2. */
static int apply_ops(struct fixture *f, const struct txrec_op *ops, size_t n,
		     char *errmsg)
{
	return apply_ops_as(f, ops, n, 2, errmsg);
}

/* apply_ops of n ops, ops[i] of type types[i] on node ids[i]. */
static int apply_node_ops(struct fixture *f, const uint8_t *types,
			  const uint64_t *ids, size_t n, char *errmsg)
{
	struct txrec_op ops[8] = {0};

	assert_true(n <= 8);
	for (size_t i = 0; i < n; i++) {
		ops[i].type = types[i];
		ops[i].id = ids[i];
	}
	return apply_ops(f, ops, n, errmsg);
}

/* Validation spares lookups for the nodes a record's leading run of
 * ascending creates makes, and still judges every other shape: a node of
 * the run deleted and then labelled, an id created twice, and ops on the
 * run's nodes in descending order (valid). */
static void test_db_record_creating_nodes_is_judged_in_any_order(
	void **state)
{
	struct fixture *f = *state;
	char errmsg[GRAFT_ERRMSG_SIZE];
	uint64_t n = fx_node(f, 1);
	const uint8_t deleted[] = {TXREC_NODE_CREATE, TXREC_NODE_CREATE,
				   TXREC_NODE_DELETE, TXREC_NODE_ADD_LABEL};
	const uint64_t deleted_ids[] = {n + 10, n + 11, n + 10, n + 10};
	const uint8_t twice[] = {TXREC_NODE_CREATE, TXREC_NODE_CREATE};
	const uint64_t twice_ids[] = {n + 20, n + 20};
	const uint8_t descending[] = {TXREC_NODE_CREATE, TXREC_NODE_CREATE,
				      TXREC_NODE_ADD_LABEL,
				      TXREC_NODE_ADD_LABEL};
	const uint64_t descending_ids[] = {n + 30, n + 31, n + 31, n + 30};

	assert_int_equal(apply_node_ops(f, deleted, deleted_ids, 4, errmsg),
			 GRAFT_ECONFLICT);
	assert_non_null(strstr(errmsg, "does not exist"));
	assert_int_equal(apply_node_ops(f, twice, twice_ids, 2, errmsg),
			 GRAFT_ECONFLICT);
	assert_non_null(strstr(errmsg, "already taken"));
	assert_int_equal(apply_node_ops(f, descending, descending_ids, 4,
					errmsg),
			 GRAFT_OK);
	assert_true(graph_node_exists(db_graph(f->db), n + 30));
	assert_true(graph_node_exists(db_graph(f->db), n + 31));
}

/* The run's nodes have no scratch state until an op after the run needs
 * one: a relationship between two of them, then a delete of its start,
 * is refused; deleting the relationship first makes the delete valid. */
static void test_db_record_relates_and_deletes_nodes_of_its_create_run(
	void **state)
{
	struct fixture *f = *state;
	char errmsg[GRAFT_ERRMSG_SIZE];
	uint64_t n = fx_node(f, 1), r = graph_next_rel_id(db_graph(f->db));
	struct txrec_op ops[] = {
		{.type = TXREC_NODE_CREATE, .id = n + 1},
		{.type = TXREC_NODE_CREATE, .id = n + 2},
		{.type = TXREC_REL_CREATE, .id = r, .src = n + 1, .dst = n + 2},
		{.type = TXREC_NODE_DELETE, .id = n + 1},
		{.type = TXREC_NODE_DELETE, .id = n + 1},
	};

	assert_int_equal(apply_ops(f, ops, 4, errmsg), GRAFT_ECONFLICT);
	assert_non_null(strstr(errmsg, "still has relationships"));
	ops[3] = (struct txrec_op){.type = TXREC_REL_DELETE, .id = r};
	assert_int_equal(apply_ops(f, ops, 5, errmsg), GRAFT_OK);
	assert_false(graph_node_exists(db_graph(f->db), n + 1));
	assert_true(graph_node_exists(db_graph(f->db), n + 2));
	assert_false(graph_rel_exists(db_graph(f->db), r));
}

/* A record without deletes (a load) keeps no scratch state for the
 * relationships it creates while their ids ascend, and validation still
 * judges every other shape alike: an id created twice, a property of a
 * relationship that does not exist (refused); a property of one created
 * earlier but not just before, creates in descending order (valid). */
static void test_db_record_creating_relationships_is_judged_in_any_order(
	void **state)
{
	struct fixture *f = *state;
	char errmsg[GRAFT_ERRMSG_SIZE];
	const struct graph *g = db_graph(f->db);
	uint64_t n = fx_node(f, 1), r = graph_next_rel_id(g);
	const struct txrec_op twice[] = {
		{.type = TXREC_REL_CREATE, .id = r, .src = n, .dst = n},
		{.type = TXREC_REL_CREATE, .id = r + 1, .src = n, .dst = n},
		{.type = TXREC_REL_CREATE, .id = r, .src = n, .dst = n},
	};
	const struct txrec_op missing[] = {
		{.type = TXREC_REL_CREATE, .id = r, .src = n, .dst = n},
		{.type = TXREC_REL_SET_PROP, .id = r + 1},
	};
	const struct txrec_op earlier[] = {
		{.type = TXREC_REL_CREATE, .id = r, .src = n, .dst = n},
		{.type = TXREC_REL_CREATE, .id = r + 1, .src = n, .dst = n},
		{.type = TXREC_REL_SET_PROP, .id = r},
	};
	const struct txrec_op descending[] = {
		{.type = TXREC_REL_CREATE, .id = r + 3, .src = n, .dst = n},
		{.type = TXREC_REL_CREATE, .id = r + 2, .src = n, .dst = n},
		{.type = TXREC_REL_SET_PROP, .id = r + 3},
		{.type = TXREC_REL_SET_PROP, .id = r + 3},
	};

	assert_int_equal(apply_ops(f, twice, 3, errmsg), GRAFT_ECONFLICT);
	assert_non_null(strstr(errmsg, "already taken"));
	assert_int_equal(apply_ops(f, missing, 2, errmsg), GRAFT_ECONFLICT);
	assert_non_null(strstr(errmsg, "does not exist"));
	assert_int_equal(apply_ops(f, earlier, 3, errmsg), GRAFT_OK);
	assert_true(graph_rel_exists(g, r));
	assert_true(graph_rel_exists(g, r + 1));
	assert_int_equal(apply_ops_as(f, descending, 4, 3, errmsg), GRAFT_OK);
	assert_true(graph_rel_exists(g, r + 2));
	assert_true(graph_rel_exists(g, r + 3));
	assert_int_equal(db_last_txid(f->db), 3);
}

static void test_db_invalid_record_changes_nothing(void **state)
{
	struct fixture *f = *state;
	char errmsg[GRAFT_ERRMSG_SIZE];
	struct txrec rec;
	struct txrec_op op;
	void *before, *after;
	size_t nb, na;
	uint64_t n = fx_node(f, 1);

	before = fx_graph_bytes(f, f->db, &nb);
	/* Creates a node, labels it, then labels a node that is not there. */
	txrec_init(&rec);
	rec.db = graft_str_new("neo4j", 5);
	memset(&op, 0, sizeof op);
	op.type = TXREC_NODE_CREATE;
	op.id = n + 10;
	assert_int_equal(txrec_add_op(&rec, &op), GRAFT_OK);
	op.type = TXREC_NODE_ADD_LABEL;
	op.name = graft_str_new("Fresh", 5);
	assert_int_equal(txrec_add_op(&rec, &op), GRAFT_OK);
	op.id = n + 11;
	op.name = graft_str_new("Fresh", 5);
	assert_int_equal(txrec_add_op(&rec, &op), GRAFT_OK);
	assert_int_equal(db_apply(f->db, &rec, 2, errmsg), GRAFT_ECONFLICT);
	txrec_free(&rec);

	/* A stale read. */
	txrec_init(&rec);
	assert_int_equal(txrec_add_read(&rec, TXREC_ENTITY_NODE, n, 0),
			 GRAFT_OK);
	memset(&op, 0, sizeof op);
	op.type = TXREC_NODE_DELETE;
	op.id = n;
	assert_int_equal(txrec_add_op(&rec, &op), GRAFT_OK);
	assert_int_equal(db_apply(f->db, &rec, 2, errmsg), GRAFT_ECONFLICT);
	assert_non_null(strstr(errmsg, "changed"));
	/* Out of order. */
	assert_int_equal(db_apply(f->db, &rec, 5, errmsg), GRAFT_EINVAL);
	txrec_free(&rec);

	after = fx_graph_bytes(f, f->db, &na);
	assert_int_equal(db_last_txid(f->db), 1);
	assert_int_equal(graph_token_lookup(db_graph(f->db), GRAPH_TOKEN_LABEL,
					    "Fresh", 5),
			 GRAPH_NO_TOKEN);
	assert_int_equal(na, nb);
	assert_memory_equal(before, after, nb);
	free(before);
	free(after);
}

/* A workload touching every kind of op. */
static void mixed_workload(struct fixture *f)
{
	struct graft_value s;
	uint64_t n[6], r[4];
	struct db_tx *tx;

	for (int i = 0; i < 6; i++)
		n[i] = fx_node(f, i);
	assert_int_equal(db_tx_begin(f->db, 0, &tx), GRAFT_OK);
	assert_int_equal(db_tx_index_create(tx, f->label, f->key_x), GRAFT_OK);
	for (int i = 0; i < 4; i++)
		assert_int_equal(db_tx_rel_create(tx, f->type, n[i], n[i + 1],
						  &r[i]),
				 GRAFT_OK);
	assert_int_equal(graft_value_string(&s, "hello", 5), GRAFT_OK);
	assert_int_equal(db_tx_rel_set_prop(tx, r[0], f->key_y, &s), GRAFT_OK);
	assert_int_equal(fx_commit(f, tx, NULL, NULL), GRAFT_OK);
	assert_int_equal(db_tx_begin(f->db, 0, &tx), GRAFT_OK);
	assert_int_equal(db_tx_rel_set_prop(tx, r[0], f->key_y, NULL), GRAFT_OK);
	assert_int_equal(db_tx_rel_set_prop(tx, r[1], f->key_x, &s), GRAFT_OK);
	assert_int_equal(db_tx_rel_delete(tx, r[3]), GRAFT_OK);
	assert_int_equal(db_tx_node_delete(tx, n[5]), GRAFT_OK);
	assert_int_equal(db_tx_node_remove_label(tx, n[2], f->label), GRAFT_OK);
	assert_int_equal(db_tx_node_set_prop(tx, n[3], f->key_y, &s), GRAFT_OK);
	assert_int_equal(fx_commit(f, tx, NULL, NULL), GRAFT_OK);
	graft_value_free(&s);
}

static void test_db_apply_is_deterministic(void **state)
{
	struct fixture *f = *state;
	char errmsg[GRAFT_ERRMSG_SIZE], dir[2][2][600];
	struct txlog_reader *rd;
	struct db *copy[2];
	void *want, *got;
	size_t nw, ng;
	const void *p;
	uint64_t txid;
	size_t len;

	mixed_workload(f);
	want = fx_graph_bytes(f, f->db, &nw);
	for (int k = 0; k < 2; k++) {
		struct db_options o = f->o;

		snprintf(dir[k][0], sizeof dir[k][0], "%s/copy%d/store", f->dir, k);
		snprintf(dir[k][1], sizeof dir[k][1], "%s/copy%d/log", f->dir, k);
		o.store_dir = dir[k][0];
		o.txlog_dir = dir[k][1];
		assert_int_equal(db_open(&f->loop, &o, &copy[k], errmsg),
				 GRAFT_OK);
	}
	assert_int_equal(txlog_reader_open(f->txlog, 1, db_last_txid(f->db), &rd,
					   errmsg),
			 GRAFT_OK);
	while (txlog_reader_next(rd, &txid, &p, &len, errmsg) == GRAFT_OK) {
		struct txrec rec;

		assert_int_equal(txrec_decode(p, len, &rec, errmsg), GRAFT_OK);
		for (int k = 0; k < 2; k++)
			assert_int_equal(db_apply(copy[k], &rec, txid, errmsg),
					 GRAFT_OK);
		txrec_free(&rec);
	}
	txlog_reader_close(rd);
	for (int k = 0; k < 2; k++) {
		assert_int_equal(db_last_txid(copy[k]), db_last_txid(f->db));
		got = fx_graph_bytes(f, copy[k], &ng);
		assert_int_equal(ng, nw);
		assert_memory_equal(got, want, nw);
		free(got);
		db_close(copy[k], NULL, NULL);
	}
	uv_run(&f->loop, UV_RUN_DEFAULT);
	free(want);
}

static void test_db_close_refuses_new_commits(void **state)
{
	struct fixture *f = *state;
	struct db_commit_req req;
	struct db_tx *tx, *tx2;
	uint64_t id;

	assert_int_equal(db_tx_begin(f->db, 0, &tx), GRAFT_OK);
	assert_int_equal(db_tx_node_create(tx, &id), GRAFT_OK);
	db_close(f->db, NULL, NULL);
	/* Closing waits for open transactions, and refuses their commits. */
	assert_int_equal(db_tx_begin(f->db, 0, &tx2), GRAFT_ESHUTDOWN);
	assert_int_equal(db_commit(tx, &req, NULL), GRAFT_ESHUTDOWN);
	f->db = NULL;
	uv_run(&f->loop, UV_RUN_DEFAULT);
}

/* A transaction that wrote many nodes finds one by value through the index
 * overlay (the candidates of its value), including a committed node that
 * gained the label here, and not one whose value moved away. */
static void test_db_index_seek_in_a_large_overlay(void **state)
{
	struct fixture *f = *state;
	struct graft_value v, two = graft_value_int(2);
	struct db_cursor cur;
	struct db_tx *tx;
	uint64_t ids[4], old, id, last = 0;

	assert_int_equal(db_tx_begin(f->db, 0, &tx), GRAFT_OK);
	assert_int_equal(db_tx_index_create(tx, f->label, f->key_x), GRAFT_OK);
	assert_int_equal(db_tx_node_create(tx, &old), GRAFT_OK);
	assert_int_equal(db_tx_node_set_prop(tx, old, f->key_x, &two), GRAFT_OK);
	assert_int_equal(fx_commit(f, tx, NULL, NULL), GRAFT_OK);
	assert_int_equal(db_tx_begin(f->db, 0, &tx), GRAFT_OK);
	for (int i = 0; i < 5000; i++) {
		v = graft_value_int(i + 10);
		assert_int_equal(db_tx_node_create(tx, &id), GRAFT_OK);
		assert_int_equal(db_tx_node_add_label(tx, id, f->label), GRAFT_OK);
		assert_int_equal(db_tx_node_set_prop(tx, id, f->key_x, &v),
				 GRAFT_OK);
		last = id;
	}
	v = graft_value_int(4000);
	db_cursor_index(&cur, tx, f->label, f->key_x, &v);
	assert_int_equal(drain_cursor(&cur, ids, 4), 1);
	assert_int_equal(ids[0], last - 1009);
	/* moved away: 4000 -> 1 */
	v = graft_value_int(1);
	assert_int_equal(db_tx_node_set_prop(tx, ids[0], f->key_x, &v), GRAFT_OK);
	v = graft_value_int(4000);
	db_cursor_index(&cur, tx, f->label, f->key_x, &v);
	assert_int_equal(drain_cursor(&cur, ids, 4), 0);
	/* committed x = 2 without the label, labelled now */
	assert_int_equal(db_tx_node_add_label(tx, old, f->label), GRAFT_OK);
	db_cursor_index(&cur, tx, f->label, f->key_x, &two);
	assert_int_equal(drain_cursor(&cur, ids, 4), 1);
	assert_int_equal(ids[0], old);
	db_tx_rollback(tx);
}

/* Creates a node in tx with label L, x and (y non-NULL) y; its id. */
static uint64_t tx_labelled_node(struct fixture *f, struct db_tx *tx,
				 const struct graft_value *x,
				 const struct graft_value *y)
{
	uint64_t id;

	assert_int_equal(db_tx_node_create(tx, &id), GRAFT_OK);
	assert_int_equal(db_tx_node_add_label(tx, id, f->label), GRAFT_OK);
	assert_int_equal(db_tx_node_set_prop(tx, id, f->key_x, x), GRAFT_OK);
	if (y != NULL)
		assert_int_equal(db_tx_node_set_prop(tx, id, f->key_y, y),
				 GRAFT_OK);
	return id;
}

/* A transaction's value index costs O(1) per write whatever the values:
 * 50,000 nodes given one shared value (the trigger of the quadratic
 * loads) and a unique one each examine at most a few chain slots per
 * write, where one probe run per value made the k-th write of a shared
 * value walk k slots. Writing a node's value again adds nothing, and a
 * seek still finds every node of the shared value exactly once. (A seek
 * first builds the index, so that the writes keep it.) */
static void test_db_value_index_is_o1_per_write_for_a_shared_value(
	void **state)
{
	struct fixture *f = *state;
	struct graft_value shared, v;
	struct db_cursor cur;
	struct db_tx *tx;
	uint64_t id, first = 0, n = 0, probes;
	const int count = 50000;

	assert_int_equal(db_tx_begin(f->db, 0, &tx), GRAFT_OK);
	assert_int_equal(db_tx_index_create(tx, f->label, f->key_y), GRAFT_OK);
	assert_int_equal(fx_commit(f, tx, NULL, NULL), GRAFT_OK);
	assert_int_equal(graft_value_string(&shared, "the same payload", 16),
			 GRAFT_OK);
	assert_int_equal(db_tx_begin(f->db, 0, &tx), GRAFT_OK);
	db_cursor_index(&cur, tx, f->label, f->key_y, &shared);
	assert_int_equal(db_cursor_next(&cur), GRAPH_NO_ID);
	assert_true(tx->values.built);
	for (int i = 0; i < count; i++) {
		v = graft_value_int(i);
		id = tx_labelled_node(f, tx, &v, &shared);
		first = i == 0 ? id : first;
	}
	probes = tx->values.probes;
	assert_true(probes <= 4 * 2 * (uint64_t)count);
	/* the same value again: no new entry, nothing probed */
	assert_int_equal(db_tx_node_set_prop(tx, first, f->key_y, &shared),
			 GRAFT_OK);
	assert_int_equal(tx->values.probes, probes);
	db_cursor_index(&cur, tx, f->label, f->key_y, &shared);
	while ((id = db_cursor_next(&cur)) != GRAPH_NO_ID)
		n++;
	assert_int_equal(n, count);
	graft_value_free(&shared);
	db_tx_rollback(tx);
}

/* A commit on its way to the log holds one pending key per entity it
 * writes, not one per op: a load of a million nodes with a label and
 * three properties each reserved a pending table for five million keys
 * (256 MiB). Concurrent writers of those nodes still conflict. */
static void test_db_pending_commit_holds_one_key_per_node(void **state)
{
	struct fixture *f = *state;
	struct fx_commit_result res = {0};
	struct db_commit_req req;
	struct graft_value v = graft_value_int(1);
	struct db_tx *tx, *other;
	uint64_t id = 0;
	const int count = 1000;

	assert_int_equal(db_tx_begin(f->db, 0, &tx), GRAFT_OK);
	for (int i = 0; i < count; i++)
		id = tx_labelled_node(f, tx, &v, &v);
	req.data = &res;
	assert_int_equal(db_commit(tx, &req, fx_commit_cb), GRAFT_OK);
	assert_int_equal(f->db->pending.len, count);
	assert_true(f->db->pending.cap <= 4 * (size_t)count);
	fx_run_until_set(f, &res.done);
	assert_int_equal(res.status, GRAFT_OK);
	assert_int_equal(f->db->pending.len, 0);
	/* a node written while its creating commit is pending conflicts */
	assert_int_equal(db_tx_begin(f->db, 0, &tx), GRAFT_OK);
	v = graft_value_int(2);
	assert_int_equal(db_tx_node_set_prop(tx, id, f->key_x, &v), GRAFT_OK);
	assert_int_equal(db_tx_begin(f->db, 0, &other), GRAFT_OK);
	assert_int_equal(db_tx_node_set_prop(other, id, f->key_y, &v),
			 GRAFT_OK);
	memset(&res, 0, sizeof res);
	assert_int_equal(db_commit(tx, &req, fx_commit_cb), GRAFT_OK);
	assert_int_equal(fx_commit(f, other, NULL, NULL), GRAFT_ECONFLICT);
	fx_run_until_set(f, &res.done);
	assert_int_equal(res.status, GRAFT_OK);
}

/* A transaction that only writes (a bulk load) keeps no value index: the
 * first seek builds it from the overlay, finding what was written before,
 * and later writes keep it current. */
static void test_db_value_index_is_built_by_the_first_seek(void **state)
{
	struct fixture *f = *state;
	struct graft_value one = graft_value_int(1), two = graft_value_int(2);
	struct db_cursor cur;
	struct db_tx *tx;
	uint64_t ids[8], first = 0, id;

	assert_int_equal(db_tx_begin(f->db, 0, &tx), GRAFT_OK);
	assert_int_equal(db_tx_index_create(tx, f->label, f->key_x), GRAFT_OK);
	assert_int_equal(fx_commit(f, tx, NULL, NULL), GRAFT_OK);
	assert_int_equal(db_tx_begin(f->db, 0, &tx), GRAFT_OK);
	for (int i = 0; i < 3; i++) {
		id = tx_labelled_node(f, tx, &one, NULL);
		first = i == 0 ? id : first;
	}
	assert_false(tx->values.built);
	assert_int_equal(tx->values.n, 0);
	db_cursor_index(&cur, tx, f->label, f->key_x, &one);
	assert_int_equal(drain_cursor(&cur, ids, 8), 3);
	assert_true(tx->values.built);
	/* later writes: a new node, and the first one moved to 2 */
	tx_labelled_node(f, tx, &two, NULL);
	assert_int_equal(db_tx_node_set_prop(tx, first, f->key_x, &two),
			 GRAFT_OK);
	db_cursor_index(&cur, tx, f->label, f->key_x, &one);
	assert_int_equal(drain_cursor(&cur, ids, 8), 2);
	db_cursor_index(&cur, tx, f->label, f->key_x, &two);
	assert_int_equal(drain_cursor(&cur, ids, 8), 2);
	assert_int_equal(ids[0] == first || ids[1] == first, true);
	db_tx_rollback(tx);
}

/* A node whose value goes 1 -> 2 -> 1 -> removed -> 1 within one
 * transaction is found once by a seek for 1, and not for 2. */
static void test_db_index_seek_returns_a_rewritten_node_once(void **state)
{
	struct fixture *f = *state;
	struct graft_value one = graft_value_int(1), two = graft_value_int(2);
	const struct graft_value *seq[] = {&one, &two, &one, NULL, &one};
	struct db_cursor cur;
	struct db_tx *tx;
	uint64_t id, ids[4];

	assert_int_equal(db_tx_begin(f->db, 0, &tx), GRAFT_OK);
	assert_int_equal(db_tx_index_create(tx, f->label, f->key_x), GRAFT_OK);
	assert_int_equal(fx_commit(f, tx, NULL, NULL), GRAFT_OK);
	assert_int_equal(db_tx_begin(f->db, 0, &tx), GRAFT_OK);
	assert_int_equal(db_tx_node_create(tx, &id), GRAFT_OK);
	assert_int_equal(db_tx_node_add_label(tx, id, f->label), GRAFT_OK);
	for (size_t i = 0; i < sizeof seq / sizeof *seq; i++)
		assert_int_equal(db_tx_node_set_prop(tx, id, f->key_x, seq[i]),
				 GRAFT_OK);
	db_cursor_index(&cur, tx, f->label, f->key_x, &one);
	assert_int_equal(drain_cursor(&cur, ids, 4), 1);
	assert_int_equal(ids[0], id);
	db_cursor_index(&cur, tx, f->label, f->key_x, &two);
	assert_int_equal(drain_cursor(&cur, ids, 4), 0);
	db_tx_rollback(tx);
}

/* x of node n += d in tx. */
static void add_to_x(struct fixture *f, struct db_tx *tx, uint64_t n,
		     int64_t d)
{
	struct graft_value v = graft_value_int(prop_int(tx, n, f->key_x) + d);

	assert_int_equal(db_tx_node_set_prop(tx, n, f->key_x, &v), GRAFT_OK);
}

/* A record built ahead of the commit (db_tx_prepare, as a worker does)
 * is logged and applied as one built at commit: recovery from the log gives
 * the same graph. */
static void test_db_prepared_commit_logs_what_it_applies(void **state)
{
	struct fixture *f = *state;
	struct graft_value v = graft_value_int(7);
	struct db_tx *tx;
	void *want, *got;
	size_t nw, ng;
	uint64_t id, n = fx_node(f, 1), txid;

	assert_int_equal(db_tx_begin(f->db, 0, &tx), GRAFT_OK);
	for (int i = 0; i < 100; i++) {
		assert_int_equal(db_tx_node_create(tx, &id), GRAFT_OK);
		assert_int_equal(db_tx_node_set_prop(tx, id, f->key_x, &v),
				 GRAFT_OK);
	}
	assert_int_equal(db_tx_node_set_prop(tx, n, f->key_x, &v), GRAFT_OK);
	assert_true(db_tx_changes(tx) >= 101);
	db_tx_prepare(tx);
	assert_int_equal(fx_commit(f, tx, &txid, NULL), GRAFT_OK);
	assert_int_equal(txid, 2);
	assert_int_equal(graph_node_prop(db_graph(f->db), n, f->key_x)->u.i, 7);
	want = fx_graph_bytes(f, f->db, &nw);
	fx_close(f);
	fx_open(f);
	assert_int_equal(db_last_txid(f->db), 2);
	got = fx_graph_bytes(f, f->db, &ng);
	assert_int_equal(ng, nw);
	assert_memory_equal(got, want, nw);
	free(got);
	free(want);
}

/* A commit between a record's prepare and its commit that changes what it
 * wrote makes it a conflict: the diff it holds started from the state
 * before. */
static void test_db_prepared_commit_conflicts_with_a_commit_in_between(
	void **state)
{
	struct fixture *f = *state;
	uint64_t n = fx_node(f, 1);
	struct db_tx *prepared, *between;

	assert_int_equal(db_tx_begin(f->db, 0, &prepared), GRAFT_OK);
	add_to_x(f, prepared, n, 1);
	db_tx_prepare(prepared);
	assert_int_equal(db_tx_begin(f->db, 0, &between), GRAFT_OK);
	add_to_x(f, between, n, 10);
	assert_int_equal(fx_commit(f, between, NULL, NULL), GRAFT_OK);
	assert_int_equal(fx_commit(f, prepared, NULL, NULL), GRAFT_ECONFLICT);
	assert_int_equal(graph_node_prop(db_graph(f->db), n, f->key_x)->u.i,
			 11);
}

/* db_tx_prepare frees the overlay on the thread that calls it (a
 * statement's worker), charged to the transaction's memory, once the
 * record holds the changes: the loop's db_commit then frees only the read
 * set (a load of 100k nodes and relationships freed its overlay on the
 * loop for tens of milliseconds). The commit still applies every node. */
static void test_db_prepare_frees_the_overlay_where_it_runs(void **state)
{
	struct fixture *f = *state;
	struct graft_value v = graft_value_int(3);
	struct graph_stats st;
	struct graft_mem mem, *outer;
	struct db_tx *tx;
	uint64_t id, built;
	enum { N = 5000 };

	graft_mem_init(&mem, 0, "test", NULL);
	outer = graft_mem_enter(&mem);
	assert_int_equal(db_tx_begin(f->db, 0, &tx), GRAFT_OK);
	for (int i = 0; i < N; i++) {
		assert_int_equal(db_tx_node_create(tx, &id), GRAFT_OK);
		assert_int_equal(db_tx_node_add_label(tx, id, f->label),
				 GRAFT_OK);
		assert_int_equal(db_tx_node_set_prop(tx, id, f->key_x, &v),
				 GRAFT_OK);
	}
	built = mem.used;
	db_tx_prepare(tx);
	/* the slabs of N overlay nodes, their labels and properties */
	assert_true(mem.used + N * 64 < built);
	graft_mem_leave(outer);
	assert_int_equal(fx_commit(f, tx, NULL, NULL), GRAFT_OK);
	graph_stats(db_graph(f->db), &st);
	assert_int_equal(st.nodes, N);
	graft_mem_release(&mem);
}

/* A prepared transaction that is rolled back frees its record. */
static void test_db_prepared_rollback_frees_the_record(void **state)
{
	struct fixture *f = *state;
	struct graft_value v = graft_value_int(3);
	struct db_tx *tx;
	uint64_t id;

	assert_int_equal(db_tx_begin(f->db, 0, &tx), GRAFT_OK);
	assert_int_equal(db_tx_node_create(tx, &id), GRAFT_OK);
	assert_int_equal(db_tx_node_set_prop(tx, id, f->key_x, &v), GRAFT_OK);
	db_tx_prepare(tx);
	db_tx_rollback(tx);
	assert_int_equal(db_last_txid(f->db), 0);
}

/* A big commit's apply, watched from the loop: every loop iteration
 * while the apply runs off the loop counts, and the first gives a small
 * commit, which must wait for it. */
struct big_commit {
	struct fixture *f;
	struct graft_gate gate;
	uv_idle_t idle;
	unsigned ticks_off_loop;
	uint64_t last_seen; /* db_last_txid during the apply */
	struct db_commit_req small_req;
	struct fx_commit_result small;
	bool small_given;
};

static void big_commit_idle_cb(uv_idle_t *h)
{
	struct big_commit *b = h->data;
	struct db_tx *tx;
	uint64_t id;

	if (!graft_gate_offloaded(&b->gate))
		return;
	b->ticks_off_loop++;
	b->last_seen = db_last_txid(b->f->db);
	if (b->small_given)
		return;
	b->small_given = true;
	assert_int_equal(db_tx_begin(b->f->db, 0, &tx), GRAFT_OK);
	assert_int_equal(db_tx_node_create(tx, &id), GRAFT_OK);
	b->small_req.data = &b->small;
	assert_int_equal(db_commit(tx, &b->small_req, fx_commit_cb), GRAFT_OK);
}

/* A commit of 20k nodes and relationships applies off the loop: the loop
 * keeps turning while it applies (readers see nothing of it meanwhile),
 * a commit given then waits for it and follows it in order, and every
 * node and relationship is there after. */
static void test_db_big_commit_applies_while_the_loop_runs(void **state)
{
	struct fixture *f = *state;
	static struct big_commit b;
	const struct graph *g;
	struct graph_stats st;
	struct db_tx *tx;
	uint64_t first, prev = 0, id, r, txid;
	enum { N = 20000 };

	memset(&b, 0, sizeof b);
	b.f = f;
	assert_int_equal(graft_gate_init(&b.gate, &f->loop), GRAFT_OK);
	f->o.gate = &b.gate;
	fx_open(f);
	fx_tokens(f);
	assert_int_equal(uv_idle_init(&f->loop, &b.idle), 0);
	b.idle.data = &b;
	assert_int_equal(uv_idle_start(&b.idle, big_commit_idle_cb), 0);
	uv_unref((uv_handle_t *)&b.idle); /* a failure does not hang teardown */

	assert_int_equal(db_tx_begin(f->db, 0, &tx), GRAFT_OK);
	for (unsigned i = 0; i < N; i++) {
		assert_int_equal(db_tx_node_create(tx, &id), GRAFT_OK);
		if (i == 0)
			first = prev = id;
		assert_int_equal(db_tx_rel_create(tx, f->type, prev, id, &r),
				 GRAFT_OK);
		prev = id;
	}
	db_tx_prepare(tx);
	assert_int_equal(fx_commit(f, tx, &txid, NULL), GRAFT_OK);
	assert_true(b.ticks_off_loop > 0);
	assert_int_equal(b.last_seen, txid - 1);
	fx_run_until_set(f, &b.small.done);

	assert_int_equal(b.small.status, GRAFT_OK);
	assert_int_equal(b.small.txid, txid + 1);
	g = db_graph(f->db);
	graph_stats(g, &st);
	assert_int_equal(st.nodes, N + 1);
	assert_int_equal(st.rels, N);
	assert_true(graph_node_exists(g, first));
	assert_int_equal(graph_node_version(g, prev), txid);

	uv_close((uv_handle_t *)&b.idle, NULL);
	fx_close(f);
	graft_gate_close(&b.gate, NULL);
	f->o.gate = NULL;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup_open, fx_teardown)
		T(test_db_tx_sees_its_own_creates),
		T(test_db_rollback_leaves_nothing),
		T(test_db_commit_makes_visible_with_contiguous_txids),
		T(test_db_commit_without_writes_answers_later),
		T(test_db_read_only_tx_refuses_writes),
		T(test_db_client_transactions_stop_at_the_maximum),
		T(test_db_lost_update_is_a_conflict),
		T(test_db_commit_in_flight_conflicts),
		T(test_db_delete_node_with_rels_is_constraint),
		T(test_db_delete_races_relationship_create),
		T(test_db_cursors_merge_the_overlay),
		T(test_db_index_seek_in_a_large_overlay),
		T(test_db_value_index_is_o1_per_write_for_a_shared_value),
		T(test_db_value_index_is_built_by_the_first_seek),
		T(test_db_record_creating_nodes_is_judged_in_any_order),
		T(test_db_record_relates_and_deletes_nodes_of_its_create_run),
		T(test_db_record_creating_relationships_is_judged_in_any_order),
		T(test_db_pending_commit_holds_one_key_per_node),
		T(test_db_index_seek_returns_a_rewritten_node_once),
		T(test_db_cursor_keeps_its_snapshot_across_commits),
		T(test_db_invalid_record_changes_nothing),
		T(test_db_apply_is_deterministic),
		T(test_db_close_refuses_new_commits),
		T(test_db_prepared_commit_logs_what_it_applies),
		T(test_db_prepared_commit_conflicts_with_a_commit_in_between),
		T(test_db_prepared_rollback_frees_the_record),
		T(test_db_prepare_frees_the_overlay_where_it_runs),
		cmocka_unit_test_setup_teardown(
			test_db_big_commit_applies_while_the_loop_runs,
			fx_setup, fx_teardown),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
