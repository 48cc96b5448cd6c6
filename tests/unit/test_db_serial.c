/* Randomized concurrent transactions checked against a serial model.
 *
 * Transactions run on the statement pool's threads as the server runs them
 * (reads holding the gate shared, writes holding it exclusive, each in two
 * parts with other transactions committing in between) and commit on the
 * loop through db_commit. Each records what it read and what its writes
 * returned. Then the committed write transactions are replayed one by one
 * in transaction id order against a model (node id -> exists, labelled L,
 * x): each must read exactly what it read live (so their commit order is an
 * equivalent serial order: no lost update, no write skew, no phantom), and
 * every read-only transaction must read exactly the model's state as of its
 * snapshot. The final model equals the database. Built with ThreadSanitizer
 * by ./configure --enable-tsan (tools/check.sh runs it so). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "db/db.h"
#include "db_fixture.h"
#include "graph/graph.h"
#include "util/gate.h"
#include "util/pool.h"

#define TXS 3000
#define WINDOW 6   /* transactions under way at once */
#define OPS 2      /* reads per part */
#define NODES 4096 /* model size: ids stay below it */
#define MISSING (-1)

enum op_kind { OP_READ, OP_SCAN, OP_SET, OP_LABEL, OP_UNLABEL, OP_CREATE,
	       OP_DELETE };

struct op {
	enum op_kind kind;
	uint64_t node;
	int64_t val;        /* written (SET, CREATE) */
	int64_t seen, seen2; /* READ: x; SCAN: count, sum; writes: status */
};

struct txn {
	struct serial *s;
	struct graft_work work;
	struct db_commit_req req;
	struct db_tx *tx;
	unsigned seed;
	bool read_only;
	int part;
	uint64_t snapshot; /* the last applied id at begin */
	struct op ops[2 * OPS + 2]; /* two parts of reads, then writes */
	unsigned n_ops;
	int status; /* of the commit */
	uint64_t txid;
	bool done;
};

struct serial {
	struct fixture *f;
	struct graft_gate gate;
	struct graft_pool pool;
	struct txn txs[TXS];
	unsigned done, started;
	bool pool_closed;
	/* One past the highest node id handed out: ids are picked below it,
	 * so a transaction also looks up nodes created after its snapshot,
	 * committed since or still on their way (or never to be). */
	uint64_t max_id;
};

struct model {
	bool exists[NODES], labelled[NODES];
	int64_t x[NODES];
};

static struct serial serial;

/* Live --------------------------------------------------------------------- */

static void start_tx(struct serial *s, struct txn *t);

static uint64_t pick_node(struct txn *t)
{
	uint64_t max = __atomic_load_n(&t->s->max_id, __ATOMIC_RELAXED);

	/* half the time one of the newest, where creators and readers meet */
	if (rand_r(&t->seed) % 2 == 0)
		return max - 1 - (uint64_t)rand_r(&t->seed) % 4;
	return (uint64_t)rand_r(&t->seed) % max;
}

static int64_t read_x(struct txn *t, uint64_t id)
{
	const struct graft_value *v =
		db_tx_node_prop(t->tx, id, t->s->f->key_x);

	return v != NULL ? v->u.i : MISSING;
}

static void scan(struct txn *t, struct op *o)
{
	struct db_cursor c;
	uint64_t id;

	o->seen = o->seen2 = 0;
	db_cursor_label(&c, t->tx, t->s->f->label);
	while ((id = db_cursor_next(&c)) != GRAPH_NO_ID) {
		o->seen++;
		o->seen2 += read_x(t, id);
	}
}

/* Whether an earlier op of t toggled node's label. */
static bool toggled(const struct txn *t, uint64_t node)
{
	for (unsigned i = 0; i + 1 < t->n_ops; i++)
		if ((t->ops[i].kind == OP_LABEL ||
		     t->ops[i].kind == OP_UNLABEL) &&
		    t->ops[i].node == node)
			return true;
	return false;
}

/* A write, holding the gate exclusive. Each one that succeeds changes the
 * graph (values are unique, a label toggles once per node), so that a
 * transaction with a successful write gets a transaction id of its own. */
static void write_op(struct txn *t, struct op *o)
{
	struct fixture *f = t->s->f;
	struct graft_value v;
	int r = rand_r(&t->seed) % 10;

	o->node = pick_node(t);
	o->val = (int64_t)(t - t->s->txs + 1) * 16 + t->n_ops;
	v = graft_value_int(o->val);
	if (r < 4 || (r < 8 && toggled(t, o->node))) {
		o->kind = OP_SET;
		o->seen = db_tx_node_set_prop(t->tx, o->node, f->key_x, &v);
	} else if (r < 8) {
		bool has = db_tx_node_has_label(t->tx, o->node, f->label);

		o->kind = has ? OP_UNLABEL : OP_LABEL;
		o->seen = (has ? db_tx_node_remove_label
			       : db_tx_node_add_label)(t->tx, o->node, f->label);
	} else if (r < 9) {
		o->kind = OP_CREATE;
		o->seen = db_tx_node_create(t->tx, &o->node);
		assert_int_equal(o->seen, GRAFT_OK);
		assert_true(o->node < NODES);
		if (o->node + 1 > t->s->max_id)
			__atomic_store_n(&t->s->max_id, o->node + 1,
					 __ATOMIC_RELAXED);
		assert_int_equal(db_tx_node_add_label(t->tx, o->node, f->label),
				 GRAFT_OK);
		assert_int_equal(db_tx_node_set_prop(t->tx, o->node, f->key_x,
						     &v),
				 GRAFT_OK);
	} else {
		o->kind = OP_DELETE;
		o->seen = db_tx_node_delete(t->tx, o->node);
	}
}

static void run_part(struct txn *t)
{
	struct graft_gate *gate = &t->s->gate;

	graft_gate_enter_shared(gate);
	if (t->part == 0) {
		t->snapshot = db_last_txid(t->s->f->db);
		assert_int_equal(db_tx_begin(t->s->f->db,
					     t->read_only ? DB_TX_READ_ONLY : 0,
					     &t->tx),
				 GRAFT_OK);
	}
	for (unsigned i = 0; i < OPS; i++) {
		struct op *o = &t->ops[t->n_ops++];

		o->kind = rand_r(&t->seed) % 2 == 0 ? OP_SCAN : OP_READ;
		if (o->kind == OP_SCAN) {
			scan(t, o);
		} else {
			o->node = pick_node(t);
			o->seen = read_x(t, o->node);
		}
	}
	graft_gate_leave(gate);
	if (t->read_only || t->part == 0)
		return;
	graft_gate_enter_exclusive(gate);
	for (int w = 1 + rand_r(&t->seed) % 2; w > 0; w--) {
		t->n_ops++;
		write_op(t, &t->ops[t->n_ops - 1]);
	}
	graft_gate_leave(gate);
}

static void work_cb(struct graft_work *w)
{
	run_part(w->data);
}

static void commit_cb(struct db_commit_req *req, int status)
{
	struct txn *t = req->data;

	t->status = status;
	t->txid = req->txid;
	t->done = true;
	if (t->s->started < TXS)
		start_tx(t->s, &t->s->txs[t->s->started++]);
	t->s->done++;
}

/* Loop: the next part, or the commit. */
static void done_cb(struct graft_work *w)
{
	struct txn *t = w->data;
	int rv;

	if (t->part++ == 0) {
		graft_pool_submit(&t->s->pool, &t->work);
		return;
	}
	t->req.data = t;
	rv = db_commit(t->tx, &t->req, commit_cb);
	if (rv != GRAFT_OK)
		commit_cb(&t->req, rv);
}

/* Replay ------------------------------------------------------------------- */

static int64_t model_x(const struct model *m, uint64_t id)
{
	return m->exists[id] ? m->x[id] : MISSING;
}

static int exists_rv(const struct model *m, uint64_t id)
{
	return m->exists[id] ? GRAFT_OK : GRAFT_ENOTFOUND;
}

/* Checks op against the model, then applies it. */
static void replay_op(struct model *m, const struct txn *t, const struct op *o)
{
	int64_t n = 0, sum = 0;

	switch (o->kind) {
	case OP_READ:
		if (o->seen != model_x(m, o->node))
			fail_msg("transaction %llu (id %llu) read x=%lld of "
				 "node %llu; serially it is %lld",
				 (unsigned long long)(t - serial.txs),
				 (unsigned long long)t->txid,
				 (long long)o->seen,
				 (unsigned long long)o->node,
				 (long long)model_x(m, o->node));
		return;
	case OP_SCAN:
		for (uint64_t id = 0; id < NODES; id++)
			if (m->exists[id] && m->labelled[id]) {
				n++;
				sum += m->x[id];
			}
		if (o->seen != n || o->seen2 != sum)
			fail_msg("transaction %llu (id %llu) scanned %lld "
				 "nodes summing %lld; serially %lld, %lld",
				 (unsigned long long)(t - serial.txs),
				 (unsigned long long)t->txid,
				 (long long)o->seen, (long long)o->seen2,
				 (long long)n, (long long)sum);
		return;
	case OP_CREATE:
		m->exists[o->node] = m->labelled[o->node] = true;
		m->x[o->node] = o->val;
		return;
	default:
		break;
	}
	assert_int_equal(o->seen, exists_rv(m, o->node));
	if (o->seen != GRAFT_OK)
		return;
	if (o->kind == OP_SET) {
		m->x[o->node] = o->val;
	} else if (o->kind == OP_DELETE) {
		m->exists[o->node] = false;
	} else {
		/* the toggle read the label */
		if (m->labelled[o->node] != (o->kind == OP_UNLABEL))
			fail_msg("transaction %llu (id %llu) saw node %llu "
				 "%slabelled; serially it is not",
				 (unsigned long long)(t - serial.txs),
				 (unsigned long long)t->txid,
				 (unsigned long long)o->node,
				 o->kind == OP_UNLABEL ? "" : "not ");
		m->labelled[o->node] = o->kind == OP_LABEL;
	}
}

static void replay_tx(struct model *m, const struct txn *t)
{
	for (unsigned i = 0; i < t->n_ops; i++)
		replay_op(m, t, &t->ops[i]);
}

/* Whether t changed the graph (then its commit has an id of its own);
 * otherwise it committed as a reader of its snapshot. */
static bool wrote(const struct txn *t)
{
	for (unsigned i = 0; i < t->n_ops; i++)
		if (t->ops[i].kind >= OP_SET && t->ops[i].seen == GRAFT_OK)
			return true;
	return false;
}

/* Where t goes in the serial order: writers at their id, readers of
 * snapshot S right after the writer S. */
static uint64_t serial_key(const struct txn *t)
{
	return wrote(t) ? 2 * t->txid : 2 * t->snapshot + 1;
}

static int by_txid(const void *a, const void *b)
{
	uint64_t x = serial_key(*(const struct txn *const *)a);
	uint64_t y = serial_key(*(const struct txn *const *)b);

	return x < y ? -1 : x > y;
}

/* The test ------------------------------------------------------------------ */

static void start_tx(struct serial *s, struct txn *t)
{
	unsigned i = (unsigned)(t - s->txs);

	t->s = s;
	t->seed = 1000 + i;
	t->read_only = i % 4 == 0;
	t->work.data = t;
	t->work.work_cb = work_cb;
	t->work.done_cb = done_cb;
	graft_pool_submit(&s->pool, &t->work);
}

static int setup(void **state)
{
	struct serial *s = &serial;
	char errmsg[GRAFT_ERRMSG_SIZE];

	memset(s, 0, sizeof *s);
	fx_setup(state);
	s->f = *state;
	assert_int_equal(graft_gate_init(&s->gate, &s->f->loop), GRAFT_OK);
	s->f->o.gate = &s->gate;
	fx_open(s->f);
	fx_tokens(s->f);
	assert_int_equal(graft_pool_init(&s->pool, &s->f->loop, 2, errmsg),
			 GRAFT_OK);
	return 0;
}

static void pool_closed_cb(void *arg)
{
	struct serial *s = arg;

	s->pool_closed = true;
}

static int teardown(void **state)
{
	struct serial *s = &serial;

	graft_pool_close(&s->pool, pool_closed_cb, s);
	fx_run_until_set(s->f, (const int *)&s->pool_closed);
	fx_close(s->f);
	graft_gate_close(&s->gate, NULL);
	return fx_teardown(state);
}

static void check_final(struct serial *s, const struct model *m)
{
	struct db_tx *tx;

	assert_int_equal(db_tx_begin(s->f->db, DB_TX_READ_ONLY, &tx), GRAFT_OK);
	for (uint64_t id = 0; id < NODES; id++) {
		const struct graft_value *v =
			db_tx_node_prop(tx, id, s->f->key_x);

		assert_int_equal(db_tx_node_exists(tx, id), m->exists[id]);
		if (!m->exists[id])
			continue;
		assert_int_equal(v->u.i, m->x[id]);
		assert_int_equal(db_tx_node_has_label(tx, id, s->f->label),
				 m->labelled[id]);
	}
	db_tx_rollback(tx);
}

static void
test_committed_transactions_replay_serially_in_commit_order(void **state)
{
	struct serial *s = &serial;
	static struct model m;
	static const struct txn *order[TXS];
	unsigned committed = 0, conflicts = 0, writers = 0;

	(void)state;
	memset(&m, 0, sizeof m);
	for (int i = 0; i < 40; i++) {
		uint64_t id = fx_node(s->f, 0);

		m.exists[id] = m.labelled[id] = true;
		s->max_id = id + 1;
	}
	while (s->started < WINDOW)
		start_tx(s, &s->txs[s->started++]);
	while (s->done < TXS)
		uv_run(&s->f->loop, UV_RUN_ONCE);
	for (unsigned i = 0; i < TXS; i++) {
		const struct txn *t = &s->txs[i];

		if (t->status == GRAFT_ECONFLICT)
			conflicts++;
		else
			assert_int_equal(t->status, GRAFT_OK);
		if (t->status == GRAFT_OK)
			order[committed++] = t;
		if (t->status == GRAFT_OK && wrote(t))
			writers++;
	}
	qsort(order, committed, sizeof *order, by_txid);
	for (unsigned i = 0; i < committed; i++)
		replay_tx(&m, order[i]);
	check_final(s, &m);
	/* the workload did contend: some commits were refused */
	assert_true(conflicts > 0);
	assert_true(writers > 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_committed_transactions_replay_serially_in_commit_order,
			setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
