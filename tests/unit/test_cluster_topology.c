/* Three core members in one process, on one loop, form a cluster while a
 * statement thread keeps asking member 1 for dbms.cluster.overview(),
 * dbms.cluster.role() and its status, as Bolt workers do. What a worker
 * reads must be what the loop published, never libraft's or discovery's
 * state as the loop changes it: under ThreadSanitizer (tools/check.sh's
 * _tsan stage) a read of the live state is reported as a data race. The
 * answers must also be whole: never two leaders in one overview. */
#define _XOPEN_SOURCE 700
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "cluster/cluster.h"
#include "cypher/cypher.h"
#include "db/dbms.h"
#include "util/log.h"

#include "tmpdir.h"

#define MEMBERS 3
#define BUDGET_MS 120000

struct member {
	char dir[400];
	struct dbms *dbms;
	struct cypher_engine *engine;
	struct cluster *c;
	int closed;
};

struct world {
	char dir[256];
	uv_loop_t loop;
	struct member m[MEMBERS];
	pthread_t reader;
	atomic_bool stop;
	atomic_uint reads;      /* overviews read by the statement thread */
	atomic_uint two_leaders; /* overviews naming more than one leader */
	atomic_uint leader_seen; /* overviews naming exactly one */
	char reader_error[700];
};

/* A port nothing listens on now (the kernel's pick for port 0). */
static uint16_t free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

static void address(struct graft_address *a, uint16_t port)
{
	memset(a, 0, sizeof *a);
	snprintf(a->host, sizeof a->host, "127.0.0.1");
	a->port = port;
}

static void options(struct world *w, struct cluster_options *o,
		    const uint16_t disc[], const uint16_t raft[], int i)
{
	memset(o, 0, sizeof *o);
	snprintf(o->data_dir, sizeof o->data_dir, "%s", w->m[i].dir);
	snprintf(o->state_dir, sizeof o->state_dir, "%s/cluster",
		 w->m[i].dir);
	assert_int_equal(graft_identity_new(o->server_id), GRAFT_OK);
	address(&o->discovery_listen, disc[i]);
	o->discovery_advertised = o->discovery_listen;
	address(&o->raft_listen, raft[i]);
	o->raft_advertised = o->raft_listen;
	for (int j = 0; j < MEMBERS; j++)
		address(&o->endpoints[j], disc[j]);
	o->n_endpoints = MEMBERS;
	o->formation_size = MEMBERS;
	/* Generous: a ThreadSanitizer build runs many times slower. */
	o->election_ms = 2000;
	o->heartbeat_ms = 200;
	o->pre_vote = true;
	snprintf(o->bolt_advertised, sizeof o->bolt_advertised,
		 "127.0.0.1:%d", 17000 + i);
	snprintf(o->http_advertised, sizeof o->http_advertised,
		 "127.0.0.1:%d", 17100 + i);
	snprintf(o->catchup_advertised, sizeof o->catchup_advertised,
		 "127.0.0.1:%d", 17200 + i);
}

static void member_open(struct world *w, int i, const uint16_t disc[],
			const uint16_t raft[])
{
	struct member *m = &w->m[i];
	struct dbms_options o = {0};
	struct cypher_engine_options eo = {0};
	struct cluster_options co;
	char errmsg[GRAFT_ERRMSG_SIZE] = "";
	char root[sizeof w->dir];

	memcpy(root, w->dir, sizeof root);
	snprintf(m->dir, sizeof m->dir, "%s/m%d", root, i + 1);
	o.data_dir = m->dir;
	o.db.rotation_size = 1 << 20;
	o.db.retention.kind = GRAFT_RETAIN_ALL;
	if (dbms_open(&w->loop, &o, &m->dbms, errmsg) != GRAFT_OK)
		fail_msg("dbms_open: %s", errmsg);
	assert_int_equal(cypher_engine_new(m->dbms, &eo, &m->engine), GRAFT_OK);
	options(w, &co, disc, raft, i);
	if (cluster_start(&w->loop, m->dbms, &co, &m->c, errmsg) != GRAFT_OK)
		fail_msg("cluster_start: %s", errmsg);
	assert_int_equal(cluster_register_procedures(m->c, m->engine),
			 GRAFT_OK);
}

/* Runs query in a read transaction of engine; the first column of each
 * row into out (up to max, strings only), the row count as the result,
 * -1 on an error (described in err). */
static int query_column(struct cypher_engine *engine, const char *query,
			char out[][32], int max, struct cypher_error *err)
{
	struct cypher_tx_options to = {.mode = CYPHER_TX_READ};
	const struct graft_value *row;
	struct cypher_result *r;
	struct cypher_tx *tx;
	int n = 0, rv;

	if (cypher_tx_begin(engine, &to, &tx, err) != GRAFT_OK)
		return -1;
	if (cypher_run(tx, query, strlen(query), NULL, &r, err) != GRAFT_OK) {
		cypher_tx_rollback(tx);
		return -1;
	}
	while ((rv = cypher_result_next(r, &row, err)) == 1) {
		if (n < max && row[0].type == GRAFT_VALUE_STRING)
			snprintf(out[n], 32, "%s", row[0].u.s->data);
		n++;
	}
	cypher_result_close(r);
	cypher_tx_rollback(tx);
	return rv < 0 ? -1 : n;
}

/* The statement thread: what a Bolt worker running these procedures does,
 * over and over while the cluster forms and elects. */
static void *reader_main(void *arg)
{
	struct world *w = arg;
	struct cypher_engine *e = w->m[0].engine;
	struct cypher_error err;
	struct cluster_status st;
	char roles[CLUSTER_MAX_MEMBERS][32];

	while (!atomic_load(&w->stop)) {
		int n = query_column(e, "CALL dbms.cluster.overview() "
					"YIELD role RETURN role",
				     roles, CLUSTER_MAX_MEMBERS, &err);
		int leaders = 0;

		if (n < 0 || query_column(e, "CALL dbms.cluster.role('neo4j')",
					  roles + n, 1, &err) != 1) {
			snprintf(w->reader_error, sizeof w->reader_error,
				 "%s: %s", err.code, err.message);
			break;
		}
		for (int i = 0; i < n && i < CLUSTER_MAX_MEMBERS; i++)
			leaders += strcmp(roles[i], "LEADER") == 0;
		cluster_get_status(w->m[0].c, &st);
		if (leaders > 1)
			atomic_fetch_add(&w->two_leaders, 1);
		if (leaders == 1)
			atomic_fetch_add(&w->leader_seen, 1);
		atomic_fetch_add(&w->reads, 1);
	}
	return NULL;
}

static bool any_writable(struct world *w)
{
	struct cluster_status st;

	for (int i = 0; i < MEMBERS; i++) {
		cluster_get_status(w->m[i].c, &st);
		if (st.writable)
			return true;
	}
	return false;
}

static void closed_cb(void *arg)
{
	*(int *)arg = 1;
}

static void close_all(struct world *w)
{
	for (int i = 0; i < MEMBERS; i++)
		cluster_close(w->m[i].c, closed_cb, &w->m[i].closed);
	for (int i = 0; i < MEMBERS; i++)
		while (!w->m[i].closed)
			uv_run(&w->loop, UV_RUN_ONCE);
	for (int i = 0; i < MEMBERS; i++) {
		cluster_free(w->m[i].c);
		cypher_engine_free(w->m[i].engine);
		w->m[i].closed = 0;
		dbms_close(w->m[i].dbms, closed_cb, &w->m[i].closed);
	}
	uv_run(&w->loop, UV_RUN_DEFAULT);
	for (int i = 0; i < MEMBERS; i++)
		assert_true(w->m[i].closed);
	assert_int_equal(uv_loop_close(&w->loop), 0);
}

static void
test_cluster_overview_from_a_statement_thread_reads_what_the_loop_published(
	void **state)
{
	struct world *w = calloc(1, sizeof *w);
	uint16_t disc[MEMBERS], raft[MEMBERS];
	uint64_t start;
	unsigned after;

	(void)state;
	signal(SIGPIPE, SIG_IGN); /* as graftd: a peer's closed socket */
	assert_non_null(w);
	assert_non_null(tmpdir_make(w->dir, sizeof w->dir, "topology"));
	graft_log_open(NULL, GRAFT_LOG_WARN, true, NULL);
	assert_int_equal(uv_loop_init(&w->loop), 0);
	for (int i = 0; i < MEMBERS; i++) {
		disc[i] = free_port();
		raft[i] = free_port();
	}
	for (int i = 0; i < MEMBERS; i++)
		member_open(w, i, disc, raft);
	/* The thread starts before formation: it reads through discovery,
	 * formation, the election and the first leader's barrier. */
	assert_int_equal(pthread_create(&w->reader, NULL, reader_main, w), 0);
	start = uv_now(&w->loop);
	while (!any_writable(w) && uv_now(&w->loop) - start < BUDGET_MS)
		uv_run(&w->loop, UV_RUN_ONCE);
	after = atomic_load(&w->reads) + 20;
	while (atomic_load(&w->reads) < after && w->reader_error[0] == '\0' &&
	       uv_now(&w->loop) - start < BUDGET_MS) {
		uv_run(&w->loop, UV_RUN_NOWAIT);
		uv_sleep(1);
	}
	atomic_store(&w->stop, true);
	pthread_join(w->reader, NULL);
	assert_string_equal(w->reader_error, "");
	assert_true(any_writable(w));
	assert_int_equal(atomic_load(&w->two_leaders), 0);
	assert_true(atomic_load(&w->leader_seen) > 0);
	close_all(w);
	tmpdir_remove(w->dir);
	free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_cluster_overview_from_a_statement_thread_reads_what_the_loop_published),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
