/* Whole-graph tests: out of memory at every allocation of an apply leaves
 * the graph as it was, and random operations agree with a reference model. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/graph_int.h"
#include "graph_fixture.h"
#include "util/buf.h"
#include "util/err.h"

/* Everything observable, serialised, to compare a graph before and after an
 * apply that failed. */
static void dump(const struct graph *g, struct graft_buf *b)
{
	struct graph_stats st;
	uint32_t pairs[8][2];
	uint64_t ids[64];
	size_t n;

	graft_buf_reset(b);
	graph_stats(g, &st);
	gfx_ok(graft_buf_put_u64le(b, st.nodes));
	gfx_ok(graft_buf_put_u64le(b, st.rels));
	gfx_ok(graft_buf_put_u64le(b, graph_next_node_id(g)));
	gfx_ok(graft_buf_put_u64le(b, graph_next_rel_id(g)));
	for (int k = 0; k < GRAPH_TOKEN_KINDS; k++)
		gfx_ok(graft_buf_put_u32le(b, graph_token_count(g, k)));
	for (uint64_t id = 0; id < graph_next_node_id(g); id++) {
		const struct graph_prop *props;
		const uint32_t *labels;
		gfx_ok(graft_buf_put_u64le(b, graph_node_version(g, id)));
		if (!graph_node_exists(g, id))
			continue;
		n = graph_node_labels(g, id, &labels);
		gfx_ok(graft_buf_append(b, labels, n * sizeof *labels));
		n = graph_node_props(g, id, &props);
		for (size_t i = 0; i < n; i++) {
			gfx_ok(graft_buf_put_u32le(b, props[i].key));
			gfx_ok(graft_buf_put_u64le(
				b, graft_value_hash(&props[i].value)));
		}
		n = gfx_expand(g, id, GRAPH_BOTH, GRAPH_NO_TOKEN, ids, 64);
		gfx_ok(graft_buf_append(b, ids, n * sizeof *ids));
	}
	for (uint64_t id = 0; id < graph_next_rel_id(g); id++) {
		const struct graph_prop *props;
		struct graph_rel_ends e;
		gfx_ok(graft_buf_put_u64le(b, graph_rel_version(g, id)));
		if (!graph_rel_exists(g, id))
			continue;
		graph_rel_ends(g, id, &e);
		gfx_ok(graft_buf_append(b, &e, sizeof e));
		n = graph_rel_props(g, id, &props);
		for (size_t i = 0; i < n; i++)
			gfx_ok(graft_buf_put_u64le(
				b, graft_value_hash(&props[i].value)));
	}
	for (uint32_t l = 0; l < graph_token_count(g, GRAPH_TOKEN_LABEL); l++) {
		n = gfx_label_scan(g, l, ids, 64);
		gfx_ok(graft_buf_append(b, ids, n * sizeof *ids));
	}
	n = graph_index_list(g, pairs, 8);
	for (size_t i = 0; i < n; i++) {
		for (int64_t x = 0; x < 4; x++) {
			struct graft_value v = graft_value_int(x);
			size_t m = gfx_seek(g, pairs[i][0], pairs[i][1], &v,
					    ids, 64);
			gfx_ok(graft_buf_append(b, ids, m * sizeof *ids));
		}
	}
}

/* Runs op with the nth allocation failing for n = 1, 2, ... until it
 * succeeds, checking that each failure left the graph as it was. */
static void fail_each_alloc(struct graph *g, int (*op)(struct graph *g))
{
	struct graft_buf before, after;
	int rv;

	graft_buf_init(&before);
	graft_buf_init(&after);
	for (uint64_t nth = 1;; nth++) {
		dump(g, &before);
		graph_fail_alloc(g, nth);
		rv = op(g);
		graph_fail_alloc(g, 0);
		if (rv == GRAFT_OK)
			break;
		assert_int_equal(rv, GRAFT_ENOMEM);
		dump(g, &after);
		assert_int_equal(before.len, after.len);
		assert_memory_equal(before.data, after.data, before.len);
	}
	graft_buf_free(&before);
	graft_buf_free(&after);
}

static int op_create_far_node(struct graph *g)
{
	return graph_node_create(g, 3 * SLOT_CHUNK, 2);
}
static int op_add_label_a(struct graph *g)
{
	return graph_node_add_label(g, 3 * SLOT_CHUNK, A, 3);
}
static int op_add_label_b(struct graph *g)
{
	return graph_node_add_label(g, 3 * SLOT_CHUNK, B, 3);
}
static int op_set_age(struct graph *g)
{
	struct graft_value v = graft_value_int(1);
	return graph_node_set_prop(g, 3 * SLOT_CHUNK, AGE, &v, 4);
}
static int op_set_nested(struct graph *g)
{
	struct graft_value v;
	int rv;
	gfx_nested(&v);
	rv = graph_node_set_prop(g, 1, NAME, &v, 4);
	graft_value_free(&v);
	return rv;
}
static int op_remove_label_a(struct graph *g)
{
	return graph_node_remove_label(g, 3 * SLOT_CHUNK, A, 5);
}
static int op_rel_create(struct graph *g)
{
	uint32_t t = graph_token_lookup(g, GRAPH_TOKEN_RELTYPE, "NEW", 3);
	return graph_rel_create(g, 2 * SLOT_CHUNK, t, 1, 3 * SLOT_CHUNK, 6);
}
static int op_rel_set_prop(struct graph *g)
{
	struct graft_value v = graft_value_int(2);
	return graph_rel_set_prop(g, 2 * SLOT_CHUNK, AGE, &v, 7);
}
static int op_index_create(struct graph *g)
{
	return graph_index_create(g, A, NAME);
}
static int op_intern_label(struct graph *g)
{
	uint32_t tok;
	return graph_token_intern(g, GRAPH_TOKEN_LABEL, "Fresh", 5, &tok);
}

static void test_graph_out_of_memory_leaves_graph_unchanged(void **state)
{
	struct graph *g = *state;
	uint32_t tok;
	int (*ops[])(struct graph *) = {
		op_create_far_node, op_add_label_a, op_add_label_b, op_set_age,
		op_set_nested,	    op_index_create, op_remove_label_a,
		op_rel_create,	    op_rel_set_prop, op_intern_label,
	};

	gfx_ok(graph_index_create(g, A, AGE));
	gfx_ok(graph_index_create(g, B, AGE));
	for (uint64_t id = 0; id < 3; id++) {
		gfx_ok(graph_node_create(g, id, 1));
		gfx_ok(graph_node_add_label(g, id, A, 1));
		gfx_set_int(g, id, AGE, 1, 1);
	}
	/* A relationship type of its own, so that its bitmap is new. */
	gfx_ok(graph_token_intern(g, GRAPH_TOKEN_RELTYPE, "NEW", 3, &tok));
	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
		fail_each_alloc(g, ops[i]);
	assert_true(graph_node_has_label(g, 3 * SLOT_CHUNK, B));
	assert_int_equal(graph_node_degree(g, 1, GRAPH_OUT), 1);
}

/* A reference model: plain arrays, checked against the graph after random
 * operations. */
#define M_NODES 1000
#define M_RELS 2000
#define M_LABELS 4
#define M_KEYS 3
#define M_TYPES 2

struct m_node {
	bool used, live;
	uint64_t version;
	unsigned labels; /* bit per label */
	int val[M_KEYS]; /* -1: unset */
};

struct m_rel {
	bool used, live;
	uint64_t version, src, dst, seq;
	uint32_t type;
	int val; /* property NAME; -1: unset */
};

struct model {
	struct m_node n[M_NODES];
	struct m_rel r[M_RELS];
	bool idx[M_LABELS][M_KEYS];
	uint64_t seq, rng;
};

static uint32_t m_rand(struct model *m, uint32_t n)
{
	m->rng ^= m->rng << 13; /* xorshift64: the same run everywhere */
	m->rng ^= m->rng >> 7;
	m->rng ^= m->rng << 17;
	return (uint32_t)(m->rng % n);
}

/* Key 0 holds ints, key 1 strings, key 2 floats: equal numbers of different
 * types must not meet in an index. */
static void m_value(int key, int x, struct graft_value *v)
{
	char s[8];

	if (key == 0)
		*v = graft_value_int(x);
	else if (key == 2)
		*v = graft_value_float(x);
	else
		gfx_ok(graft_value_string(
			v, s, (size_t)snprintf(s, sizeof s, "v%d", x)));
}

static bool m_has_rels(const struct model *m, uint64_t id)
{
	for (int r = 0; r < M_RELS; r++)
		if (m->r[r].live && (m->r[r].src == id || m->r[r].dst == id))
			return true;
	return false;
}

/* order: the live relationships, newest first. */
static size_t m_expand(const struct model *m, const uint64_t *order,
		       size_t n_order, uint64_t node, int dir, uint32_t type,
		       uint64_t *ids)
{
	size_t n = 0;

	for (int phase = 0; phase < 2; phase++) {
		if (!(dir & (phase ? GRAPH_IN : GRAPH_OUT)))
			continue;
		for (size_t i = 0; i < n_order; i++) {
			const struct m_rel *x = &m->r[order[i]];
			if ((phase ? x->dst : x->src) == node &&
			    (type == GRAPH_NO_TOKEN || x->type == type) &&
			    !(phase && dir == GRAPH_BOTH && x->src == x->dst))
				ids[n++] = order[i];
		}
	}
	return n;
}

static void m_check(struct graph *g, struct model *m)
{
	uint64_t ids[M_RELS], want[M_RELS], order[M_RELS], pos = 0, next = 0;
	uint64_t rnext = 0, *by_seq = calloc(m->seq + 1, sizeof *by_seq);
	size_t n, k, n_order = 0;
	struct graph_stats st;
	struct graph_rel_ends e;
	uint64_t live = 0, rlive = 0;

	assert_non_null(by_seq);
	for (uint64_t id = 0; id < M_RELS; id++)
		if (m->r[id].live)
			by_seq[m->r[id].seq] = id + 1;
	for (uint64_t seq = m->seq; seq > 0; seq--)
		if (by_seq[seq] != 0)
			order[n_order++] = by_seq[seq] - 1;
	free(by_seq);
	for (uint64_t id = 0; id < M_NODES; id++) {
		const struct m_node *x = &m->n[id];
		assert_int_equal(graph_node_exists(g, id), x->live);
		assert_int_equal(graph_node_version(g, id), x->version);
		next = x->used ? id + 1 : next;
		if (!x->live)
			continue;
		live++;
		assert_int_equal(graph_node_scan(g, &pos), id);
		for (uint32_t l = 0; l < M_LABELS; l++)
			assert_int_equal(graph_node_has_label(g, id, l),
					 (x->labels >> l) & 1);
		k = 0;
		for (int key = 0; key < M_KEYS; key++) {
			const struct graft_value *v =
				graph_node_prop(g, id, key);
			struct graft_value w;
			if (x->val[key] < 0) {
				assert_null(v);
				continue;
			}
			k++;
			m_value(key, x->val[key], &w);
			assert_true(v != NULL && graft_value_equal(v, &w));
			graft_value_free(&w);
		}
		assert_int_equal(
			graph_node_props(g, id,
					 &(const struct graph_prop *){0}),
			k);
		for (int dir = GRAPH_OUT; dir <= GRAPH_BOTH; dir++) {
			uint32_t type = m_rand(m, 3);
			type = type == M_TYPES ? GRAPH_NO_TOKEN : type;
			n = gfx_expand(g, id, dir, type, ids, M_RELS);
			assert_int_equal(n, m_expand(m, order, n_order, id, dir,
						     type, want));
			assert_memory_equal(ids, want, n * sizeof *ids);
		}
	}
	assert_int_equal(graph_node_scan(g, &pos), GRAPH_NO_ID);
	pos = 0;
	for (uint64_t id = 0; id < M_RELS; id++) {
		const struct m_rel *x = &m->r[id];
		assert_int_equal(graph_rel_exists(g, id), x->live);
		assert_int_equal(graph_rel_version(g, id), x->version);
		rnext = x->used ? id + 1 : rnext;
		if (!x->live)
			continue;
		rlive++;
		assert_int_equal(graph_rel_scan(g, &pos), id);
		graph_rel_ends(g, id, &e);
		assert_true(e.src == x->src && e.dst == x->dst &&
			    e.type == x->type);
		if (x->val < 0)
			assert_null(graph_rel_prop(g, id, NAME));
		else
			assert_int_equal(graph_rel_prop(g, id, NAME)->u.i,
					 x->val);
	}
	assert_int_equal(graph_rel_scan(g, &pos), GRAPH_NO_ID);
	graph_stats(g, &st);
	assert_int_equal(st.nodes, live);
	assert_int_equal(st.rels, rlive);
	assert_int_equal(graph_next_node_id(g), next);
	assert_int_equal(graph_next_rel_id(g), rnext);
	for (uint32_t l = 0; l < M_LABELS; l++) {
		n = gfx_label_scan(g, l, ids, M_RELS);
		k = 0;
		for (uint64_t id = 0; id < M_NODES; id++)
			if (m->n[id].live && (m->n[id].labels >> l & 1))
				want[k++] = id;
		assert_int_equal(n, k);
		assert_memory_equal(ids, want, n * sizeof *ids);
		for (int key = 0; key < M_KEYS; key++) {
			assert_int_equal(graph_index_exists(g, l, key),
					 m->idx[l][key]);
			for (int x = 0; m->idx[l][key] && x < 4; x++) {
				struct graft_value v;
				m_value(key, x, &v);
				n = gfx_seek(g, l, key, &v, ids, M_RELS);
				graft_value_free(&v);
				k = 0;
				for (uint64_t id = 0; id < M_NODES; id++)
					if (m->n[id].live &&
					    (m->n[id].labels >> l & 1) &&
					    m->n[id].val[key] == x)
						want[k++] = id;
				assert_int_equal(n, k);
				assert_memory_equal(ids, want, n * sizeof *ids);
			}
		}
	}
	for (uint32_t t = 0; t < M_TYPES; t++) {
		pos = 0;
		for (uint64_t id = 0; id < M_RELS; id++)
			if (m->r[id].live && m->r[id].type == t)
				assert_int_equal(graph_type_scan(g, t, &pos),
						 id);
		assert_int_equal(graph_type_scan(g, t, &pos), GRAPH_NO_ID);
	}
}

/* A live node, or -1 after a few misses. */
static int m_live_node(struct model *m)
{
	for (int tries = 0; tries < 32; tries++) {
		int id = (int)m_rand(m, M_NODES);
		if (m->n[id].live)
			return id;
	}
	return -1;
}

static void m_step(struct graph *g, struct model *m, uint64_t tx)
{
	uint32_t op = m_rand(m, 100), l = m_rand(m, M_LABELS);
	int key = (int)m_rand(m, M_KEYS), x = (int)m_rand(m, 5) - 1;
	int id = m_live_node(m), r = (int)m_rand(m, M_RELS);
	struct graft_value v;

	if (op < 15) {
		id = (int)m_rand(m, M_NODES); /* out of order on purpose */
		if (m->n[id].used)
			return;
		gfx_ok(graph_node_create(g, (uint64_t)id, tx));
		m->n[id] = (struct m_node){.used = true, .live = true,
					   .version = tx, .val = {-1, -1, -1}};
	} else if (id < 0) {
		return;
	} else if (op < 32) {
		bool add = op < 25;
		gfx_ok(add ? graph_node_add_label(g, (uint64_t)id, l, tx)
		       : graph_node_remove_label(g, (uint64_t)id, l, tx));
		m->n[id].labels = add ? m->n[id].labels | 1u << l
				      : m->n[id].labels & ~(1u << l);
		m->n[id].version = tx;
	} else if (op < 50) {
		m_value(key, x, &v);
		gfx_ok(graph_node_set_prop(g, (uint64_t)id, (uint32_t)key,
				       x < 0 ? NULL : &v, tx));
		graft_value_free(&v);
		m->n[id].val[key] = x;
		m->n[id].version = tx;
	} else if (op < 70) {
		int dst = m_live_node(m);
		if (m->r[r].used || dst < 0)
			return;
		gfx_ok(graph_rel_create(g, (uint64_t)r, l % M_TYPES,
					(uint64_t)id, (uint64_t)dst, tx));
		m->r[r] = (struct m_rel){.used = true, .live = true,
					 .version = tx, .src = (uint64_t)id,
					 .dst = (uint64_t)dst, .seq = ++m->seq,
					 .type = l % M_TYPES, .val = -1};
	} else if (op < 80) {
		if (!m->r[r].live)
			return;
		gfx_ok(graph_rel_delete(g, (uint64_t)r, tx));
		m->r[r].live = false;
		m->r[r].version = tx;
	} else if (op < 86) {
		if (m_has_rels(m, (uint64_t)id))
			return;
		gfx_ok(graph_node_delete(g, (uint64_t)id, tx));
		m->n[id].live = false;
		m->n[id].version = tx;
	} else if (op < 95) {
		if (!m->r[r].live)
			return;
		v = graft_value_int(x);
		gfx_ok(graph_rel_set_prop(g, (uint64_t)r, NAME,
					  x < 0 ? NULL : &v, tx));
		m->r[r].val = x;
		m->r[r].version = tx;
	} else if (!m->idx[l][key]) {
		gfx_ok(graph_index_create(g, l, (uint32_t)key));
		m->idx[l][key] = true;
	} else if (op == 99) {
		gfx_ok(graph_index_drop(g, l, (uint32_t)key));
		m->idx[l][key] = false;
	}
}

static void test_graph_matches_reference_model(void **state)
{
	struct graph *g = *state;
	struct model *m = calloc(1, sizeof *m);
	uint32_t tok;

	assert_non_null(m);
	m->rng = 0x2545f4914f6cdd1dull;
	gfx_ok(graph_token_intern(g, GRAPH_TOKEN_LABEL, "D", 1, &tok));
	gfx_ok(graph_token_intern(g, GRAPH_TOKEN_PROPKEY, "k2", 2, &tok));
	gfx_ok(graph_index_create(g, A, 0));
	m->idx[A][0] = true;
	for (uint64_t tx = 1; tx <= 10000; tx++) {
		m_step(g, m, tx);
		if (tx % 250 == 0)
			m_check(g, m);
	}
	m_check(g, m);
	free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, gfx_setup, gfx_teardown)
		T(test_graph_out_of_memory_leaves_graph_unchanged),
		T(test_graph_matches_reference_model),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
