/* Unit tests for the Bolt server state machine, driven message by message
 * against the scripted engine (cypher_fake.c) over a real dbms: logins,
 * auto-commit and explicit transactions, streaming with has_more, FAILED
 * and IGNORED until RESET, protocol violations, oversized requests,
 * bookmarks, ROUTE, entity structures, Bolt 4.4 and backpressure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bolt/message.h"
#include "bolt/session.h"
#include "bolt/wire.h"
#include "bolt_fixture.h"
#include "cypher_fake.h"
#include "db/db.h"
#include "db/dbms.h"
#include "pack/pack.h"
#include "util/err.h"

struct fx {
	struct bolt_fixture b;
	struct bolt_env env;
	struct graft_buf out;
	struct bolt_session *s;
	bool woken;
	int step;
};

/* A response: signature and its field (metadata map or record list; null
 * if it holds structures the plain decoder refuses, like nodes). */
struct resp {
	uint8_t sig;
	struct graft_value v;
};

#define MAX_RESP 256

static void wake_cb(struct bolt_session *s, int step)
{
	struct fx *f = bolt_session_data(s);

	f->woken = true;
	f->step = step;
}

static void new_session(struct fx *f, uint32_t version)
{
	assert_int_equal(bolt_session_new(&f->env, version, 1, &f->out,
					  wake_cb, f, &f->s),
			 GRAFT_OK);
}

static void flag_cb(void *arg)
{
	*(bool *)arg = true;
}

static void close_session(struct fx *f)
{
	bool closed = false;

	bolt_session_close(f->s, flag_cb, &closed);
	while (!closed)
		uv_run(&f->b.loop, UV_RUN_ONCE);
	f->s = NULL;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);

	bolt_fixture_open(&f->b, "bolt", &f->env);
	f->env.cfg.advertised = "db.example:7687";
	f->env.cfg.bookmark_timeout_ms = 50;
	f->env.cfg.max_message = 4096;
	f->env.cfg.out_high = 1 << 20;
	graft_buf_init(&f->out);
	new_session(f, BOLT_VERSION(5, 4));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	if (f->s != NULL)
		close_session(f);
	bolt_fixture_close(&f->b);
	graft_buf_free(&f->out);
	free(f);
	return 0;
}

/* Values for building requests. */
static struct graft_value str(const char *s)
{
	struct graft_value v;

	assert_int_equal(graft_value_string(&v, s, strlen(s)), GRAFT_OK);
	return v;
}

static struct graft_value map0(void)
{
	struct graft_value v;

	assert_int_equal(graft_value_map(&v, 0), GRAFT_OK);
	return v;
}

/* A map of n key/value pairs given as (const char *, struct graft_value). */
static struct graft_value map(unsigned n, ...)
{
	struct graft_value v;
	va_list ap;

	assert_int_equal(graft_value_map(&v, n), GRAFT_OK);
	va_start(ap, n);
	for (unsigned i = 0; i < n; i++) {
		const char *k = va_arg(ap, const char *);
		v.u.map->entries[i].key = graft_str_new(k, strlen(k));
		v.u.map->entries[i].value = va_arg(ap, struct graft_value);
	}
	va_end(ap);
	graft_map_sort(v.u.map);
	return v;
}

static struct graft_value list1(struct graft_value item)
{
	struct graft_value v;

	assert_int_equal(graft_value_list(&v, 1), GRAFT_OK);
	v.u.list->items[0] = item;
	return v;
}

/* Sends one request of n fields (consumed); returns the step at once. */
static int vstart(struct fx *f, uint8_t sig, unsigned n, va_list ap)
{
	struct graft_buf b;
	struct graft_value v;
	int step;

	graft_buf_init(&b);
	assert_int_equal(pack_struct_header(&b, n, sig), GRAFT_OK);
	for (unsigned i = 0; i < n; i++) {
		v = va_arg(ap, struct graft_value);
		assert_int_equal(pack_value(&b, &v, NULL), GRAFT_OK);
		graft_value_free(&v);
	}
	f->woken = false;
	step = bolt_session_handle(f->s, b.data, b.len, false);
	graft_buf_free(&b);
	return step;
}

static int start(struct fx *f, uint8_t sig, unsigned n, ...)
{
	va_list ap;
	int step;

	va_start(ap, n);
	step = vstart(f, sig, n, ap);
	va_end(ap);
	return step;
}

/* Sends one request and returns the step, after the asynchronous part if
 * it waited. */
static int request(struct fx *f, uint8_t sig, unsigned n, ...)
{
	va_list ap;
	int step;

	va_start(ap, n);
	step = vstart(f, sig, n, ap);
	va_end(ap);
	if (step != BOLT_STEP_WAIT)
		return step;
	assert_true(bolt_session_waiting(f->s));
	while (!f->woken)
		assert_true(uv_run(&f->b.loop, UV_RUN_ONCE) != 0 || f->woken);
	return f->step;
}

static int pull(struct fx *f, int64_t n)
{
	return request(f, BOLT_PULL, 1, map(1, "n", graft_value_int(n)));
}

/* Decodes and clears the session's output. */
static size_t responses(struct fx *f, struct resp *r)
{
	struct bolt_dechunker d;
	struct pack_reader pr;
	char errmsg[GRAFT_ERRMSG_SIZE];
	size_t pos = 0, used, count = 0;
	unsigned fields;
	bool complete;

	bolt_dechunker_init(&d, 1 << 24);
	while (pos < f->out.len) {
		assert_int_equal(bolt_dechunk(&d, f->out.data + pos,
					      f->out.len - pos, &used,
					      &complete),
				 GRAFT_OK);
		pos += used;
		if (!complete)
			continue;
		assert_true(count < MAX_RESP);
		pack_reader_init(&pr, d.msg.data, d.msg.len);
		assert_int_equal(pack_read_struct_header(&pr, &fields,
							 &r[count].sig, errmsg),
				 GRAFT_OK);
		r[count].v = graft_value_null();
		if (fields == 1 &&
		    pack_read_value(&pr, &r[count].v, errmsg) != GRAFT_OK)
			r[count].v = graft_value_null();
		count++;
		bolt_dechunker_next(&d);
	}
	assert_false(bolt_dechunker_busy(&d));
	bolt_dechunker_free(&d);
	graft_buf_reset(&f->out);
	return count;
}

static void free_resp(struct resp *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		graft_value_free(&r[i].v);
}

static const struct graft_value *meta(const struct resp *r, const char *key)
{
	assert_int_equal(r->v.type, GRAFT_VALUE_MAP);
	return graft_map_get(r->v.u.map, key, strlen(key));
}

static void assert_meta_str(const struct resp *r, const char *key,
			    const char *want)
{
	const struct graft_value *v = meta(r, key);

	assert_non_null(v);
	assert_int_equal(v->type, GRAFT_VALUE_STRING);
	assert_string_equal(v->u.s->data, want);
}

/* Expects exactly one response with signature sig; returns nothing. */
static void expect_one(struct fx *f, uint8_t sig)
{
	struct resp r[MAX_RESP];
	size_t n = responses(f, r);

	assert_int_equal(n, 1);
	assert_int_equal(r[0].sig, sig);
	free_resp(r, n);
}

static void expect_failure(struct fx *f, const char *code)
{
	struct resp r[MAX_RESP];
	size_t n = responses(f, r);

	assert_int_equal(n, 1);
	assert_int_equal(r[0].sig, BOLT_FAILURE);
	assert_meta_str(&r[0], "code", code);
	free_resp(r, n);
}

static void login(struct fx *f)
{
	assert_int_equal(request(f, BOLT_HELLO, 1,
			      map(1, "user_agent", str("test/1"))),
			 BOLT_STEP_DONE);
	assert_int_equal(request(f, BOLT_LOGON, 1,
			      map(3, "scheme", str("basic"), "principal",
				  str("neo4j"), "credentials", str("pw"))),
			 BOLT_STEP_DONE);
	graft_buf_reset(&f->out);
}

/* The session answers a RESET, then accepts RETURN 1. */
static void expect_reset_then_run(struct fx *f)
{
	assert_int_equal(request(f, BOLT_RESET, 0), BOLT_STEP_DONE);
	expect_one(f, BOLT_SUCCESS);
	assert_int_equal(request(f, BOLT_RUN, 3, str("RETURN 1"), map0(),
				 map0()),
			 BOLT_STEP_DONE);
	expect_one(f, BOLT_SUCCESS);
}

/* Tests ------------------------------------------------------------------- */

static void test_bolt_session_hello_then_logon(void **state)
{
	struct fx *f = *state;
	struct resp r[MAX_RESP];
	size_t n;

	assert_int_equal(request(f, BOLT_HELLO, 1,
			      map(1, "user_agent", str("test/1"))),
			 BOLT_STEP_DONE);
	n = responses(f, r);
	assert_int_equal(n, 1);
	assert_int_equal(r[0].sig, BOLT_SUCCESS);
	assert_meta_str(&r[0], "server", "Neo4j/5.26.0");
	assert_meta_str(&r[0], "connection_id", "bolt-1");
	assert_int_equal(meta(&r[0], "hints")->type, GRAFT_VALUE_MAP);
	free_resp(r, n);
	/* Auth is off (no user store): any scheme logs in. HELLO again is
	 * a protocol violation. */
	assert_int_equal(request(f, BOLT_LOGON, 1, map(1, "scheme", str("none"))),
			 BOLT_STEP_DONE);
	expect_one(f, BOLT_SUCCESS);
	assert_int_equal(request(f, BOLT_HELLO, 1, map0()), BOLT_STEP_CLOSE);
	expect_failure(f, "Neo.ClientError.Request.Invalid");
}

static void test_bolt_session_run_before_logon_closes(void **state)
{
	struct fx *f = *state;

	assert_int_equal(request(f, BOLT_HELLO, 1, map0()), BOLT_STEP_DONE);
	graft_buf_reset(&f->out);
	assert_int_equal(request(f, BOLT_RUN, 3, str("RETURN 1"), map0(), map0()),
			 BOLT_STEP_CLOSE);
	expect_failure(f, "Neo.ClientError.Request.Invalid");
}

static void test_bolt_session_autocommit_streams_with_has_more(void **state)
{
	struct fx *f = *state;
	struct resp r[MAX_RESP];
	size_t n;

	login(f);
	assert_int_equal(request(f, BOLT_RUN, 3, str("RETURN 3"), map0(), map0()),
			 BOLT_STEP_DONE);
	n = responses(f, r);
	assert_int_equal(n, 1);
	assert_int_equal(r[0].sig, BOLT_SUCCESS);
	assert_int_equal(meta(&r[0], "fields")->u.list->len, 1);
	assert_non_null(meta(&r[0], "t_first"));
	assert_null(meta(&r[0], "qid"));
	free_resp(r, n);

	assert_int_equal(pull(f, 2), BOLT_STEP_DONE);
	n = responses(f, r);
	assert_int_equal(n, 3);
	assert_int_equal(r[0].sig, BOLT_RECORD);
	assert_int_equal(r[0].v.u.list->items[0].u.i, 1);
	assert_int_equal(r[1].v.u.list->items[0].u.i, 2);
	assert_int_equal(r[2].sig, BOLT_SUCCESS);
	assert_true(meta(&r[2], "has_more")->u.b);
	free_resp(r, n);

	assert_int_equal(pull(f, -1), BOLT_STEP_DONE);
	n = responses(f, r);
	assert_int_equal(n, 2);
	assert_int_equal(r[0].v.u.list->items[0].u.i, 3);
	assert_int_equal(r[1].sig, BOLT_SUCCESS);
	assert_null(meta(&r[1], "has_more"));
	assert_meta_str(&r[1], "type", "r");
	assert_meta_str(&r[1], "db", "neo4j");
	assert_meta_str(&r[1], "bookmark", "neo4j:0:1");
	assert_non_null(meta(&r[1], "t_last"));
	assert_null(meta(&r[1], "stats"));
	free_resp(r, n);
	/* Back in READY: another RUN works. */
	assert_int_equal(request(f, BOLT_RUN, 3, str("RETURN 0"), map0(), map0()),
			 BOLT_STEP_DONE);
	expect_one(f, BOLT_SUCCESS);
}

static void test_bolt_session_explicit_transaction_commits_with_a_bookmark(void **state)
{
	struct fx *f = *state;
	struct resp r[MAX_RESP];
	const struct graft_value *stats;
	size_t n;

	login(f);
	assert_int_equal(request(f, BOLT_BEGIN, 1, map0()), BOLT_STEP_DONE);
	expect_one(f, BOLT_SUCCESS);
	assert_int_equal(request(f, BOLT_RUN, 3, str("CREATE"), map0(), map0()),
			 BOLT_STEP_DONE);
	n = responses(f, r);
	assert_int_equal(meta(&r[0], "qid")->u.i, 0);
	assert_int_equal(meta(&r[0], "fields")->u.list->len, 0);
	free_resp(r, n);
	assert_int_equal(request(f, BOLT_PULL, 1,
			      map(2, "n", graft_value_int(1000), "qid",
				  graft_value_int(0))),
			 BOLT_STEP_DONE);
	n = responses(f, r);
	assert_int_equal(n, 1);
	assert_meta_str(&r[0], "type", "w");
	assert_null(meta(&r[0], "bookmark"));
	stats = meta(&r[0], "stats");
	assert_non_null(stats);
	assert_int_equal(stats->u.map->len, 1);
	assert_int_equal(graft_map_get(stats->u.map, "nodes-created", 13)->u.i,
			 1);
	free_resp(r, n);
	/* Second statement: qid 1; PULL with qid -1 means the last. */
	assert_int_equal(request(f, BOLT_RUN, 3, str("RETURN 1"), map0(), map0()),
			 BOLT_STEP_DONE);
	n = responses(f, r);
	assert_int_equal(meta(&r[0], "qid")->u.i, 1);
	free_resp(r, n);
	assert_int_equal(request(f, BOLT_PULL, 1,
			      map(2, "n", graft_value_int(-1), "qid",
				  graft_value_int(-1))),
			 BOLT_STEP_DONE);
	assert_int_equal(responses(f, r), 2);
	free_resp(r, 2);
	assert_int_equal(request(f, BOLT_COMMIT, 0), BOLT_STEP_DONE);
	n = responses(f, r);
	assert_int_equal(n, 1);
	assert_meta_str(&r[0], "bookmark", "neo4j:0:1");
	free_resp(r, n);
	/* COMMIT again: not in a transaction any more. */
	assert_int_equal(request(f, BOLT_COMMIT, 0), BOLT_STEP_CLOSE);
	expect_failure(f, "Neo.ClientError.Request.Invalid");
}

static void test_bolt_session_rollback_and_commit_with_open_result(void **state)
{
	struct fx *f = *state;

	login(f);
	assert_int_equal(request(f, BOLT_BEGIN, 1, map0()), BOLT_STEP_DONE);
	assert_int_equal(request(f, BOLT_RUN, 3, str("RETURN 5"), map0(), map0()),
			 BOLT_STEP_DONE);
	graft_buf_reset(&f->out);
	/* ROLLBACK with a result still open is accepted, as Neo4j does;
	 * so is COMMIT, which discards the rest of the result. */
	assert_int_equal(request(f, BOLT_ROLLBACK, 0), BOLT_STEP_DONE);
	expect_one(f, BOLT_SUCCESS);
	assert_int_equal(request(f, BOLT_BEGIN, 1, map0()), BOLT_STEP_DONE);
	assert_int_equal(request(f, BOLT_RUN, 3, str("RETURN 5"), map0(),
				 map0()),
			 BOLT_STEP_DONE);
	graft_buf_reset(&f->out);
	assert_int_equal(request(f, BOLT_COMMIT, 0), BOLT_STEP_DONE);
	{
		struct resp r[MAX_RESP];
		size_t n = responses(f, r);
		assert_int_equal(n, 1);
		assert_non_null(meta(&r[0], "bookmark"));
		free_resp(r, n);
	}
}

/* PULL {n, qid} for a result RUN earlier */
static int pull_qid(struct fx *f, int64_t n, int64_t qid)
{
	return request(f, BOLT_PULL, 1,
		       map(2, "n", graft_value_int(n), "qid",
			   graft_value_int(qid)));
}

/* Counts the records in the output and checks the last response is a
 * summary (has_more as given); returns the first record's value. */
static int64_t expect_records(struct fx *f, size_t want, bool has_more)
{
	struct resp r[MAX_RESP];
	size_t n = responses(f, r);
	int64_t first;

	assert_int_equal(n, want + 1);
	for (size_t i = 0; i < want; i++)
		assert_int_equal(r[i].sig, BOLT_RECORD);
	first = want > 0 ? r[0].v.u.list->items[0].u.i : -1;
	assert_int_equal(r[want].sig, BOLT_SUCCESS);
	assert_true((meta(&r[want], "has_more") != NULL) == has_more);
	free_resp(r, n);
	return first;
}

static void test_bolt_session_results_interleave_by_qid(void **state)
{
	struct fx *f = *state;

	login(f);
	assert_int_equal(request(f, BOLT_BEGIN, 1, map0()), BOLT_STEP_DONE);
	assert_int_equal(request(f, BOLT_RUN, 3, str("RETURN 5"), map0(),
				 map0()),
			 BOLT_STEP_DONE);
	assert_int_equal(pull_qid(f, 2, 0), BOLT_STEP_DONE);
	graft_buf_reset(&f->out);
	assert_int_equal(pull_qid(f, 2, 0), BOLT_STEP_DONE);
	assert_int_equal(expect_records(f, 2, true), 3);
	/* A second statement while the first has records left: qid 1. */
	assert_int_equal(request(f, BOLT_RUN, 3, str("RETURN 2"), map0(),
				 map0()),
			 BOLT_STEP_DONE);
	graft_buf_reset(&f->out);
	assert_int_equal(pull(f, -1), BOLT_STEP_DONE);
	assert_int_equal(expect_records(f, 2, false), 1);
	assert_int_equal(pull_qid(f, 7, 9), BOLT_STEP_DONE);
	expect_failure(f, "Neo.ClientError.Request.Invalid");
	assert_int_equal(request(f, BOLT_RESET, 0), BOLT_STEP_DONE);
	graft_buf_reset(&f->out);

	/* Again, and the parked result is pulled to its end by qid. */
	assert_int_equal(request(f, BOLT_BEGIN, 1, map0()), BOLT_STEP_DONE);
	assert_int_equal(request(f, BOLT_RUN, 3, str("RETURN 5"), map0(),
				 map0()),
			 BOLT_STEP_DONE);
	assert_int_equal(pull_qid(f, 1, 0), BOLT_STEP_DONE);
	assert_int_equal(request(f, BOLT_RUN, 3, str("RETURN 1"), map0(),
				 map0()),
			 BOLT_STEP_DONE);
	assert_int_equal(pull(f, -1), BOLT_STEP_DONE);
	graft_buf_reset(&f->out);
	assert_int_equal(pull_qid(f, 3, 0), BOLT_STEP_DONE);
	assert_int_equal(expect_records(f, 3, true), 2);
	assert_int_equal(pull_qid(f, -1, 0), BOLT_STEP_DONE);
	assert_int_equal(expect_records(f, 1, false), 5);
	/* Nothing open any more: TX_READY, so COMMIT works. */
	assert_int_equal(request(f, BOLT_COMMIT, 0), BOLT_STEP_DONE);
	expect_one(f, BOLT_SUCCESS);
}

static void test_bolt_session_parked_records_count_against_the_tx(void **state)
{
	struct fx *f = *state;

	cypher_fake_tx_memory_max = 65536;
	login(f);
	assert_int_equal(request(f, BOLT_BEGIN, 1, map0()), BOLT_STEP_DONE);
	assert_int_equal(request(f, BOLT_RUN, 3, str("RETURN 100000"), map0(),
				 map0()),
			 BOLT_STEP_DONE);
	assert_int_equal(pull(f, 1), BOLT_STEP_DONE);
	graft_buf_reset(&f->out);
	/* Parking the other 99,999 records would take ~1 MB. */
	assert_int_equal(request(f, BOLT_RUN, 3, str("RETURN 1"), map0(),
				 map0()),
			 BOLT_STEP_DONE);
	expect_failure(f, "Neo.TransientError.General.MemoryPoolOutOfMemoryError");
	assert_int_equal(request(f, BOLT_RESET, 0), BOLT_STEP_DONE);
	graft_buf_reset(&f->out);
	/* A small result parks within the limit, and its charge is given
	 * back before the commit (the fake engine checks). */
	assert_int_equal(request(f, BOLT_BEGIN, 1, map0()), BOLT_STEP_DONE);
	assert_int_equal(request(f, BOLT_RUN, 3, str("RETURN 100"), map0(),
				 map0()),
			 BOLT_STEP_DONE);
	assert_int_equal(pull(f, 1), BOLT_STEP_DONE);
	assert_int_equal(request(f, BOLT_RUN, 3, str("RETURN 1"), map0(),
				 map0()),
			 BOLT_STEP_DONE);
	assert_int_equal(request(f, BOLT_COMMIT, 0), BOLT_STEP_DONE);
	cypher_fake_tx_memory_max = 0;
}

static void test_bolt_session_failed_ignores_until_reset(void **state)
{
	struct fx *f = *state;

	login(f);
	assert_int_equal(request(f, BOLT_RUN, 3, str("BAD"), map0(), map0()),
			 BOLT_STEP_DONE);
	expect_failure(f, "Neo.ClientError.Statement.SyntaxError");
	assert_int_equal(pull(f, 1000), BOLT_STEP_DONE);
	expect_one(f, BOLT_IGNORED);
	assert_int_equal(request(f, BOLT_BEGIN, 1, map0()), BOLT_STEP_DONE);
	expect_one(f, BOLT_IGNORED);
	assert_int_equal(request(f, BOLT_RESET, 0), BOLT_STEP_DONE);
	expect_one(f, BOLT_SUCCESS);
	assert_int_equal(request(f, BOLT_RUN, 3, str("RETURN 1"), map0(), map0()),
			 BOLT_STEP_DONE);
	expect_one(f, BOLT_SUCCESS);
}

static void test_bolt_session_failure_while_streaming(void **state)
{
	struct fx *f = *state;
	struct resp r[MAX_RESP];
	size_t n;

	login(f);
	assert_int_equal(request(f, BOLT_BEGIN, 1, map0()), BOLT_STEP_DONE);
	assert_int_equal(request(f, BOLT_RUN, 3, str("BREAK 2"), map0(), map0()),
			 BOLT_STEP_DONE);
	graft_buf_reset(&f->out);
	assert_int_equal(pull(f, -1), BOLT_STEP_DONE);
	n = responses(f, r);
	assert_int_equal(n, 3);
	assert_int_equal(r[0].sig, BOLT_RECORD);
	assert_int_equal(r[1].sig, BOLT_RECORD);
	assert_int_equal(r[2].sig, BOLT_FAILURE);
	assert_meta_str(&r[2], "code",
			"Neo.ClientError.Statement.ArithmeticError");
	free_resp(r, n);
	/* The transaction is gone: COMMIT is ignored, RESET recovers. */
	assert_int_equal(request(f, BOLT_COMMIT, 0), BOLT_STEP_DONE);
	expect_one(f, BOLT_IGNORED);
	assert_int_equal(request(f, BOLT_RESET, 0), BOLT_STEP_DONE);
	expect_one(f, BOLT_SUCCESS);
}

static void test_bolt_session_commit_conflict_fails(void **state)
{
	struct fx *f = *state;

	login(f);
	assert_int_equal(request(f, BOLT_RUN, 3, str("CONFLICT"), map0(), map0()),
			 BOLT_STEP_DONE);
	graft_buf_reset(&f->out);
	assert_int_equal(pull(f, -1), BOLT_STEP_DONE);
	{
		struct resp r[MAX_RESP];
		size_t n = responses(f, r);
		assert_int_equal(n, 2);
		assert_int_equal(r[1].sig, BOLT_FAILURE);
		assert_meta_str(&r[1], "code",
				"Neo.TransientError.Transaction.Outdated");
		free_resp(r, n);
	}
	assert_int_equal(request(f, BOLT_RUN, 3, str("RETURN 1"), map0(), map0()),
			 BOLT_STEP_DONE);
	expect_one(f, BOLT_IGNORED);
}

static void test_bolt_session_protocol_violations_close(void **state)
{
	struct fx *f = *state;
	static const uint8_t garbage[] = {0xB1, 0x10, 0x01};

	login(f);
	assert_int_equal(pull(f, 10), BOLT_STEP_CLOSE);
	expect_failure(f, "Neo.ClientError.Request.Invalid");
	close_session(f);

	new_session(f, BOLT_VERSION(5, 4));
	login(f);
	assert_int_equal(bolt_session_handle(f->s, garbage, sizeof garbage,
					     false),
			 BOLT_STEP_CLOSE);
	expect_failure(f, "Neo.ClientError.Request.Invalid");
	close_session(f);

	new_session(f, BOLT_VERSION(5, 4));
	login(f);
	assert_int_equal(request(f, BOLT_GOODBYE, 0), BOLT_STEP_CLOSE);
	assert_int_equal(f->out.len, 0);
}

/* Every signature without a row in the request table (and TELEMETRY before
 * the version that has it) gets a FAILURE and a close, never a crash. */
static void test_bolt_session_unknown_message_fails_and_closes(void **state)
{
	struct fx *f = *state;
	uint8_t m[2] = {0xB0, 0};

	for (unsigned sig = 0; sig < 0x80; sig++) {
		if (bolt_request_name((uint8_t)sig) != NULL)
			continue;
		m[1] = (uint8_t)sig;
		login(f);
		assert_int_equal(bolt_session_handle(f->s, m, sizeof m, false),
				 BOLT_STEP_CLOSE);
		expect_failure(f, "Neo.ClientError.Request.Invalid");
		close_session(f);
		new_session(f, BOLT_VERSION(5, 4));
	}
	close_session(f);
	new_session(f, BOLT_VERSION(5, 3));
	login(f);
	assert_int_equal(request(f, BOLT_TELEMETRY, 1, graft_value_int(0)),
			 BOLT_STEP_CLOSE);
	expect_failure(f, "Neo.ClientError.Request.Invalid");
}

static void test_bolt_session_oversized_request_fails(void **state)
{
	struct fx *f = *state;

	login(f);
	assert_int_equal(bolt_session_handle(f->s, NULL, 0, true),
			 BOLT_STEP_DONE);
	expect_failure(f, "Neo.ClientError.Request.Invalid");
	assert_int_equal(bolt_session_handle(f->s, NULL, 0, true),
			 BOLT_STEP_DONE);
	expect_one(f, BOLT_IGNORED);
	assert_int_equal(request(f, BOLT_RESET, 0), BOLT_STEP_DONE);
	expect_one(f, BOLT_SUCCESS);
	/* Parameters that cannot be parameters (a node) fail the request. */
	{
		static const uint8_t run[] = {0xB3, 0x10, 0x81, 'x', 0xA1, 0x81,
					      'p', 0xB3, 'N', 0x01, 0x90, 0xA0,
					      0xA0};
		assert_int_equal(bolt_session_handle(f->s, run, sizeof run,
						     false),
				 BOLT_STEP_DONE);
		expect_failure(f, "Neo.ClientError.Request.Invalid");
	}
}

static void test_bolt_session_bookmarks_refuse_garbage_and_time_out_when_unapplied(void **state)
{
	struct fx *f = *state;
	struct resp r[MAX_RESP];
	size_t n;

	login(f);
	assert_int_equal(request(f, BOLT_BEGIN, 1,
			      map(1, "bookmarks", list1(str("garbage")))),
			 BOLT_STEP_DONE);
	expect_failure(f, "Neo.ClientError.Transaction.InvalidBookmark");
	assert_int_equal(request(f, BOLT_RESET, 0), BOLT_STEP_DONE);
	graft_buf_reset(&f->out);
	/* Applied (txid 0) and unknown-database bookmarks do not wait. */
	assert_int_equal(request(f, BOLT_BEGIN, 1,
			      map(1, "bookmarks", list1(str("neo4j:0")))),
			 BOLT_STEP_DONE);
	expect_one(f, BOLT_SUCCESS);
	assert_int_equal(request(f, BOLT_ROLLBACK, 0), BOLT_STEP_DONE);
	graft_buf_reset(&f->out);
	assert_int_equal(request(f, BOLT_RUN, 3, str("RETURN 1"), map0(),
			      map(1, "bookmarks", list1(str("gone:9")))),
			 BOLT_STEP_DONE);
	expect_one(f, BOLT_SUCCESS);
	assert_int_equal(request(f, BOLT_RESET, 0), BOLT_STEP_DONE);
	graft_buf_reset(&f->out);
	/* A transaction this server never applied: waits, then times out. */
	assert_int_equal(request(f, BOLT_RUN, 3, str("RETURN 1"), map0(),
			      map(1, "bookmarks", list1(str("neo4j:5")))),
			 BOLT_STEP_DONE);
	n = responses(f, r);
	assert_int_equal(n, 1);
	assert_meta_str(&r[0], "code",
			"Neo.TransientError.Transaction.BookmarkTimeout");
	free_resp(r, n);
}

static void commit_done_cb(struct db_commit_req *req, int status)
{
	assert_int_equal(status, GRAFT_OK);
	*(bool *)req->data = true;
}

/* A bookmark wait is woken by the database applying the transaction, not
 * by polling: while it waits no timer is due before the timeout (the loop
 * would sleep), and the commit alone lets the request go on. */
static void test_bolt_session_bookmark_wait_wakes_on_apply(void **state)
{
	struct fx *f = *state;
	struct db *db = dbms_get(f->b.dbms, "neo4j");
	struct db_commit_req req = {0};
	struct db_tx *tx;
	char bookmark[64];
	uint64_t id;
	bool done = false;

	login(f);
	f->env.cfg.bookmark_timeout_ms = 60000;
	snprintf(bookmark, sizeof bookmark, "neo4j:%llu",
		 (unsigned long long)db_last_txid(db) + 1);
	f->woken = false;
	assert_int_equal(start(f, BOLT_RUN, 3, str("RETURN 1"), map0(),
			       map(1, "bookmarks", list1(str(bookmark)))),
			 BOLT_STEP_WAIT);
	uv_run(&f->b.loop, UV_RUN_NOWAIT);
	assert_false(f->woken);
	assert_true(uv_backend_timeout(&f->b.loop) > 1000);
	assert_int_equal(db_tx_begin(db, 0, &tx), GRAFT_OK);
	assert_int_equal(db_tx_node_create(tx, &id), GRAFT_OK);
	req.data = &done;
	assert_int_equal(db_commit(tx, &req, commit_done_cb), GRAFT_OK);
	while (!f->woken)
		assert_true(uv_run(&f->b.loop, UV_RUN_ONCE) != 0 || f->woken);
	assert_true(done);
	expect_one(f, BOLT_SUCCESS);
}

/* Commits one transaction (a node) in db, on the loop. */
static void commit_one(struct fx *f, struct db *db)
{
	struct db_commit_req req = {0};
	struct db_tx *tx;
	uint64_t id;
	bool done = false;

	assert_int_equal(db_tx_begin(db, 0, &tx), GRAFT_OK);
	assert_int_equal(db_tx_node_create(tx, &id), GRAFT_OK);
	req.data = &done;
	assert_int_equal(db_commit(tx, &req, commit_done_cb), GRAFT_OK);
	while (!done)
		assert_true(uv_run(&f->b.loop, UV_RUN_ONCE) != 0 || done);
}

/* BEGIN with one bookmark: the answer's signature, or the FAILURE code. */
static void begin_expect(struct fx *f, const char *bookmark, const char *code)
{
	assert_int_equal(request(f, BOLT_BEGIN, 1,
			      map(1, "bookmarks", list1(str(bookmark)))),
			 BOLT_STEP_DONE);
	if (code != NULL) {
		expect_failure(f, code);
		assert_int_equal(request(f, BOLT_RESET, 0), BOLT_STEP_DONE);
		expect_one(f, BOLT_SUCCESS);
		return;
	}
	expect_one(f, BOLT_SUCCESS);
	assert_int_equal(request(f, BOLT_ROLLBACK, 0), BOLT_STEP_DONE);
	expect_one(f, BOLT_SUCCESS);
}

/* A bookmark names its database by id (the Raft index that created it):
 * once the database is dropped and created again, the new one's
 * transactions do not satisfy it (DatabaseNotFound, as Neo4j answers),
 * while a bookmark of the new one, and one of the older form without an
 * id, are waited for as before. */
static void test_bolt_session_bookmark_of_a_dropped_database_is_refused(
	void **state)
{
	struct fx *f = *state;
	char errmsg[GRAFT_ERRMSG_SIZE];

	login(f);
	if (dbms_mirror(f->b.dbms, true, "shop", 7, 7, errmsg) != GRAFT_OK)
		fail_msg("create: %s", errmsg);
	commit_one(f, dbms_get(f->b.dbms, "shop"));
	begin_expect(f, "shop:7:1", NULL);
	if (dbms_mirror(f->b.dbms, false, "shop", 0, 8, errmsg) != GRAFT_OK)
		fail_msg("drop: %s", errmsg);
	if (dbms_mirror(f->b.dbms, true, "shop", 9, 9, errmsg) != GRAFT_OK)
		fail_msg("create again: %s", errmsg);
	commit_one(f, dbms_get(f->b.dbms, "shop"));
	begin_expect(f, "shop:7:1", "Neo.ClientError.Database.DatabaseNotFound");
	begin_expect(f, "shop:9:1", NULL);
	begin_expect(f, "shop:1", NULL);
}

static void test_bolt_session_route_and_telemetry(void **state)
{
	struct fx *f = *state;
	struct resp r[MAX_RESP];
	const struct graft_value *rt, *servers;
	size_t n;

	login(f);
	assert_int_equal(request(f, BOLT_ROUTE, 3,
			      map(1, "address", str("db.example:7687")),
			      list1(str("neo4j:0")), map0()),
			 BOLT_STEP_DONE);
	n = responses(f, r);
	assert_int_equal(n, 1);
	rt = meta(&r[0], "rt");
	assert_non_null(rt);
	assert_int_equal(graft_map_get(rt->u.map, "ttl", 3)->u.i, 300);
	assert_string_equal(graft_map_get(rt->u.map, "db", 2)->u.s->data,
			    "neo4j");
	servers = graft_map_get(rt->u.map, "servers", 7);
	assert_int_equal(servers->u.list->len, 3);
	for (int i = 0; i < 3; i++) {
		const struct graft_map *s = servers->u.list->items[i].u.map;
		const struct graft_value *a = graft_map_get(s, "addresses", 9);
		assert_string_equal(a->u.list->items[0].u.s->data,
				    "db.example:7687");
	}
	free_resp(r, n);
	assert_int_equal(request(f, BOLT_ROUTE, 3, map0(), map0(),
			      map(1, "db", str("nope"))),
			 BOLT_STEP_CLOSE); /* bookmarks must be a list */
	expect_failure(f, "Neo.ClientError.Request.Invalid");
	close_session(f);

	new_session(f, BOLT_VERSION(5, 4));
	login(f);
	assert_int_equal(request(f, BOLT_ROUTE, 3, map0(),
			      list1(str("neo4j:0")), map(1, "db", str("nope"))),
			 BOLT_STEP_DONE);
	expect_failure(f, "Neo.ClientError.Database.DatabaseNotFound");
	assert_int_equal(request(f, BOLT_RESET, 0), BOLT_STEP_DONE);
	graft_buf_reset(&f->out);
	/* Impersonation is refused by ROUTE as by BEGIN and RUN. */
	assert_int_equal(request(f, BOLT_ROUTE, 3, map0(), list1(str("neo4j:0")),
			      map(1, "imp_user", str("bob"))),
			 BOLT_STEP_DONE);
	expect_failure(f, "Neo.ClientError.Security.Forbidden");
	assert_int_equal(request(f, BOLT_RESET, 0), BOLT_STEP_DONE);
	graft_buf_reset(&f->out);
	assert_int_equal(request(f, BOLT_RUN, 3, str("RETURN 1"), map0(),
			      map(1, "imp_user", str("bob"))),
			 BOLT_STEP_DONE);
	expect_failure(f, "Neo.ClientError.Security.Forbidden");
	assert_int_equal(request(f, BOLT_RESET, 0), BOLT_STEP_DONE);
	graft_buf_reset(&f->out);
	assert_int_equal(request(f, BOLT_TELEMETRY, 1, graft_value_int(2)),
			 BOLT_STEP_DONE);
	expect_one(f, BOLT_SUCCESS);
	assert_int_equal(request(f, BOLT_TELEMETRY, 1, graft_value_int(9)),
			 BOLT_STEP_DONE);
	expect_failure(f, "Neo.ClientError.Request.Invalid");
}

/* Finds needle in the output bytes. */
static bool output_has(struct fx *f, const uint8_t *needle, size_t n)
{
	for (size_t i = 0; i + n <= f->out.len; i++)
		if (memcmp(f->out.data + i, needle, n) == 0)
			return true;
	return false;
}

static void test_bolt_session_entities_on_the_wire(void **state)
{
	/* Node 7 {labels [L], props {p: 1}, element_id "4:neo4j:7"}. */
	static const uint8_t node5[] = {0xB4, 'N', 0x07, 0x91, 0x81, 'L',
					0xA1, 0x81, 'p', 0x01, 0x89, '4',
					':', 'n', 'e', 'o', '4', 'j', ':',
					'7'};
	/* Path (1)<-[10:T]-(2): unbound rel 10, indices [-1, 1]. */
	static const uint8_t path_tail[] = {0x91, 0xB4, 'r', 0x0A, 0x81, 'T',
					    0xA0};
	static const uint8_t indices[] = {0x92, 0xFF, 0x01};
	struct fx *f = *state;

	login(f);
	assert_int_equal(request(f, BOLT_RUN, 3, str("NODE"), map0(), map0()),
			 BOLT_STEP_DONE);
	assert_int_equal(pull(f, -1), BOLT_STEP_DONE);
	assert_true(output_has(f, node5, sizeof node5));
	graft_buf_reset(&f->out);
	assert_int_equal(request(f, BOLT_RUN, 3, str("PATH"), map0(), map0()),
			 BOLT_STEP_DONE);
	assert_int_equal(pull(f, -1), BOLT_STEP_DONE);
	assert_true(output_has(f, (uint8_t[]){0xB3, 'P', 0x92, 0xB4, 'N', 0x01},
			       6));
	assert_true(output_has(f, path_tail, sizeof path_tail));
	assert_true(output_has(f, indices, sizeof indices));
}

static void test_bolt_session_parameters_round_trip(void **state)
{
	struct fx *f = *state;
	struct resp r[MAX_RESP];
	struct graft_value d;
	size_t n;

	login(f);
	assert_int_equal(graft_value_ext(&d, GRAFT_VALUE_DATETIME), GRAFT_OK);
	d.u.x->secs = 1700000000;
	d.u.x->offset = 3600;
	assert_int_equal(request(f, BOLT_RUN, 3, str("PARAM"), map(1, "p", d),
			      map0()),
			 BOLT_STEP_DONE);
	graft_buf_reset(&f->out);
	assert_int_equal(pull(f, -1), BOLT_STEP_DONE);
	/* Bolt 5 sends the UTC form 'I'. */
	assert_true(output_has(f, (uint8_t[]){0xB3, 'I'}, 2));
	n = responses(f, r);
	assert_int_equal(r[0].sig, BOLT_RECORD);
	assert_int_equal(r[0].v.u.list->items[0].type, GRAFT_VALUE_DATETIME);
	assert_int_equal(r[0].v.u.list->items[0].u.x->secs, 1700000000);
	assert_int_equal(r[0].v.u.list->items[0].u.x->offset, 3600);
	free_resp(r, n);
	/* Zone ids are looked up: an unknown one fails the statement. */
	assert_int_equal(graft_value_ext(&d, GRAFT_VALUE_DATETIME), GRAFT_OK);
	d.u.x->zone = graft_str_new("Mars/Olympus", 12);
	assert_int_equal(request(f, BOLT_RUN, 3, str("PARAM"), map(1, "p", d),
				 map0()),
			 BOLT_STEP_DONE);
	expect_failure(f, "Neo.ClientError.Statement.ArgumentError");
}

static void test_bolt_session_bolt44_logs_in_with_hello(void **state)
{
	static const uint8_t node3[] = {0xB3, 'N', 0x07, 0x91};
	struct fx *f = *state;
	struct resp r[MAX_RESP];
	const struct graft_value *patch;
	struct graft_value d;
	size_t n;

	close_session(f);
	new_session(f, BOLT_VERSION(4, 4));
	assert_int_equal(request(f, BOLT_HELLO, 1,
			      map(4, "user_agent", str("t"), "scheme",
				  str("basic"), "principal", str("neo4j"),
				  "patch_bolt", list1(str("utc")))),
			 BOLT_STEP_DONE);
	n = responses(f, r);
	assert_int_equal(n, 1);
	patch = meta(&r[0], "patch_bolt");
	assert_non_null(patch);
	assert_string_equal(patch->u.list->items[0].u.s->data, "utc");
	free_resp(r, n);
	/* READY at once: no LOGON in 4.4 (and LOGON is not a 4.4 message). */
	assert_int_equal(request(f, BOLT_RUN, 3, str("NODE"), map0(), map0()),
			 BOLT_STEP_DONE);
	assert_int_equal(pull(f, -1), BOLT_STEP_DONE);
	assert_true(output_has(f, node3, sizeof node3));
	graft_buf_reset(&f->out);
	assert_int_equal(graft_value_ext(&d, GRAFT_VALUE_DATETIME), GRAFT_OK);
	assert_int_equal(request(f, BOLT_RUN, 3, str("PARAM"), map(1, "p", d),
			      map0()),
			 BOLT_STEP_DONE);
	assert_int_equal(pull(f, -1), BOLT_STEP_DONE);
	assert_true(output_has(f, (uint8_t[]){0xB3, 'I'}, 2));
	assert_int_equal(request(f, BOLT_LOGON, 1, map0()), BOLT_STEP_CLOSE);
}

static void test_bolt_session_pauses_on_full_output(void **state)
{
	struct fx *f = *state;
	struct resp r[MAX_RESP];
	size_t records = 0, n;
	int step, pauses = 0;

	f->env.cfg.out_high = 64;
	login(f);
	assert_int_equal(request(f, BOLT_RUN, 3, str("RETURN 100"), map0(),
			      map0()),
			 BOLT_STEP_DONE);
	graft_buf_reset(&f->out);
	step = pull(f, -1);
	while (step == BOLT_STEP_FULL) {
		assert_true(f->out.len < 64 + 16);
		pauses++;
		n = responses(f, r);
		for (size_t i = 0; i < n; i++)
			records += r[i].sig == BOLT_RECORD;
		free_resp(r, n);
		step = bolt_session_resume(f->s);
		if (step == BOLT_STEP_WAIT) {
			f->woken = false;
			while (!f->woken)
				uv_run(&f->b.loop, UV_RUN_ONCE);
			step = f->step;
		}
	}
	assert_int_equal(step, BOLT_STEP_DONE);
	n = responses(f, r);
	for (size_t i = 0; i < n; i++)
		records += r[i].sig == BOLT_RECORD;
	assert_int_equal(r[n - 1].sig, BOLT_SUCCESS);
	assert_non_null(meta(&r[n - 1], "bookmark"));
	free_resp(r, n);
	assert_int_equal(records, 100);
	assert_true(pauses > 10);
}

static void test_bolt_session_reset_jumps_ahead(void **state)
{
	struct fx *f = *state;
	struct resp r[MAX_RESP];
	size_t n;

	login(f);
	/* A bookmark wait gives way: IGNORED, then INTERRUPTED. */
	f->env.cfg.bookmark_timeout_ms = 60000;
	assert_int_equal(start(f, BOLT_RUN, 3, str("RETURN 1"), map0(),
			       map(1, "bookmarks", list1(str("neo4j:9")))),
			 BOLT_STEP_WAIT);
	assert_int_equal(bolt_session_interrupt(f->s, false), BOLT_STEP_DONE);
	assert_false(bolt_session_waiting(f->s));
	expect_one(f, BOLT_IGNORED);
	assert_int_equal(pull(f, -1), BOLT_STEP_DONE);
	expect_one(f, BOLT_IGNORED);
	assert_int_equal(request(f, BOLT_RESET, 0), BOLT_STEP_DONE);
	expect_one(f, BOLT_SUCCESS);
	/* A result paused on full output gives way too. */
	f->env.cfg.out_high = 64;
	assert_int_equal(request(f, BOLT_RUN, 3, str("RETURN 100"), map0(),
				 map0()),
			 BOLT_STEP_DONE);
	graft_buf_reset(&f->out);
	assert_int_equal(pull(f, -1), BOLT_STEP_FULL);
	assert_int_equal(bolt_session_interrupt(f->s, true), BOLT_STEP_DONE);
	n = responses(f, r);
	assert_int_equal(r[n - 1].sig, BOLT_IGNORED);
	free_resp(r, n);
	expect_reset_then_run(f);
}

static void test_bolt_session_logoff_needs_logon_again(void **state)
{
	struct fx *f = *state;

	login(f);
	assert_int_equal(request(f, BOLT_LOGOFF, 0), BOLT_STEP_DONE);
	expect_one(f, BOLT_SUCCESS);
	assert_int_equal(request(f, BOLT_LOGON, 1, map(1, "scheme", str("none"))),
			 BOLT_STEP_DONE);
	expect_one(f, BOLT_SUCCESS);
	assert_int_equal(request(f, BOLT_LOGOFF, 0), BOLT_STEP_DONE);
	graft_buf_reset(&f->out);
	assert_int_equal(request(f, BOLT_BEGIN, 1, map0()), BOLT_STEP_CLOSE);
	expect_failure(f, "Neo.ClientError.Request.Invalid");
}

/* Loop turns one request may take at the most: a bookmark wait is the
 * longest (one timer of bookmark_timeout_ms), so this bound is generous and
 * depends on no clock. */
#define MUTATED_TURNS_MAX 1000

/* Runs one raw message to its end (waits and full output included) within
 * MUTATED_TURNS_MAX loop turns; returns the last step. */
static int handle_bounded(struct fx *f, const uint8_t *m, size_t len)
{
	int step, turns = 0;

	f->woken = false;
	step = bolt_session_handle(f->s, m, len, false);
	while (step == BOLT_STEP_WAIT && !f->woken) {
		assert_true(++turns <= MUTATED_TURNS_MAX);
		uv_run(&f->b.loop, UV_RUN_ONCE);
	}
	if (step == BOLT_STEP_WAIT)
		step = f->step;
	while (step == BOLT_STEP_FULL) {
		assert_true(++turns <= MUTATED_TURNS_MAX);
		step = bolt_session_resume(f->s);
	}
	return step;
}

/* Every reply decodes as a whole message and is one a server may send; a
 * FAILURE carries a Neo4j status code. Returns how many replies. */
static size_t expect_well_formed_replies(struct fx *f)
{
	struct resp r[MAX_RESP];
	size_t n = responses(f, r);

	for (size_t i = 0; i < n; i++) {
		const struct graft_value *code;

		assert_true(r[i].sig == BOLT_SUCCESS ||
			    r[i].sig == BOLT_FAILURE ||
			    r[i].sig == BOLT_IGNORED ||
			    r[i].sig == BOLT_RECORD);
		if (r[i].sig != BOLT_FAILURE)
			continue;
		code = meta(&r[i], "code");
		assert_non_null(code);
		assert_int_equal(code->type, GRAFT_VALUE_STRING);
		assert_int_equal(strncmp(code->u.s->data, "Neo.", 4), 0);
	}
	free_resp(r, n);
	return n;
}

/* Mutated messages against a logged-in session: each gets well-formed
 * replies within a bounded number of loop turns, and whatever state they
 * drive the session into, it still answers a RESET and a query after. */
static void test_bolt_session_survives_mutated_messages(void **state)
{
	struct fx *f = *state;
	static const uint8_t seeds[][16] = {
		{0xB3, 0x10, 0x88, 'R', 'E', 'T', 'U', 'R', 'N', ' ', '2',
		 0xA0, 0xA0},
		{0xB1, 0x3F, 0xA1, 0x81, 'n', 0xFF},
		{0xB1, 0x11, 0xA0},
		{0xB0, 0x12},
		{0xB0, 0x0F},
		{0xB1, 0x2F, 0xA1, 0x81, 'n', 0x01},
		{0xB1, 0x3F, 0xA2, 0x81, 'n', 0x01, 0x83, 'q', 'i', 'd', 0x00},
	};
	static const size_t lens[] = {13, 6, 3, 2, 2, 6, 11};
	unsigned seed = 99;
	uint8_t m[16];
	int step;

	size_t replies = 0;

	login(f);
	for (int round = 0; round < 20000; round++) {
		size_t k = (size_t)rand_r(&seed) % 7, len = lens[k];
		memcpy(m, seeds[k], len);
		if (rand_r(&seed) % 3 == 0)
			m[(size_t)rand_r(&seed) % len] = (uint8_t)rand_r(&seed);
		step = handle_bounded(f, m, len);
		assert_true(step == BOLT_STEP_DONE || step == BOLT_STEP_CLOSE);
		replies += expect_well_formed_replies(f);
		if (step == BOLT_STEP_CLOSE) {
			close_session(f);
			new_session(f, BOLT_VERSION(5, 4));
			login(f);
		}
	}
	/* Every request gets at least one reply, except GOODBYE. */
	assert_true(replies >= 10000);
	expect_reset_then_run(f);
	assert_int_equal(pull(f, -1), BOLT_STEP_DONE);
	assert_int_equal(expect_records(f, 1, false), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_bolt_session_hello_then_logon),
		T(test_bolt_session_run_before_logon_closes),
		T(test_bolt_session_autocommit_streams_with_has_more),
		T(test_bolt_session_explicit_transaction_commits_with_a_bookmark),
		T(test_bolt_session_rollback_and_commit_with_open_result),
		T(test_bolt_session_results_interleave_by_qid),
		T(test_bolt_session_parked_records_count_against_the_tx),
		T(test_bolt_session_failed_ignores_until_reset),
		T(test_bolt_session_failure_while_streaming),
		T(test_bolt_session_commit_conflict_fails),
		T(test_bolt_session_protocol_violations_close),
		T(test_bolt_session_unknown_message_fails_and_closes),
		T(test_bolt_session_oversized_request_fails),
		T(test_bolt_session_bookmarks_refuse_garbage_and_time_out_when_unapplied),
		T(test_bolt_session_bookmark_wait_wakes_on_apply),
		T(test_bolt_session_bookmark_of_a_dropped_database_is_refused),
		T(test_bolt_session_route_and_telemetry),
		T(test_bolt_session_entities_on_the_wire),
		T(test_bolt_session_parameters_round_trip),
		T(test_bolt_session_bolt44_logs_in_with_hello),
		T(test_bolt_session_pauses_on_full_output),
		T(test_bolt_session_reset_jumps_ahead),
		T(test_bolt_session_logoff_needs_logon_again),
		T(test_bolt_session_survives_mutated_messages),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
