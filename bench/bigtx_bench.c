/* bigtx_bench: one big write transaction through the Cypher engine — the
 * way Neo4j users load data:
 *
 *   UNWIND range(1, $n) AS i
 *   CREATE (:Item {i: i, name: 'item-' + toString(i), payload: '<50 chars>'})
 *
 * three properties, two of them strings, one the same in every row (the
 * repeated value that made a transaction's own value index quadratic,
 * issue 10). For each size: the statement, the durable commit, nodes per
 * second over both, beside the anchor: the same nodes written through the
 * C API of src/db/db.h in one transaction (the storage's cost). Besides
 * wall clock: processor seconds (all threads) of the whole and of the
 * commit, and the longest the commit held the event loop at once: the
 * commit's record is built and encoded first as a worker thread does it in
 * the server (db_tx_prepare: column "prepare s", part of the commit's
 * figures, not of the loop's), then committed on the loop. Each run
 * is a child process of its own, so that its peak resident set (printed
 * per node) is its own and not the largest run's before it.
 *
 *   bigtx_bench [--sizes N,N,...] [DIR]
 *
 * Sizes default to 10000,100000,1000000; DIR to ./bigtx-bench-data (emptied
 * before each size, removed at the end). Goal: >= 100,000 nodes/s at
 * 1,000,000 nodes. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include "cypher/cypher.h"
#include "db/db.h"
#include "util/gate.h"
#include "util/log.h"

#include "../tests/unit/tmpdir.h"
#include "bench_util.h"

#define GOAL_NODES 1000000
#define GOAL_RATE 100000.0
#define PAYLOAD "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwx"

static const char query[] =
	"UNWIND range(1, $n) AS i CREATE (:Item {i: i, name: 'item-' + "
	"toString(i), payload: '" PAYLOAD "'})";

struct run {
	uv_loop_t loop;
	struct graft_gate gate; /* as the server's: big commits apply off the
				 * loop behind it */
	struct dbms *dbms;
	struct cypher_engine *engine;
	struct db *db;
};

/* Seconds of one measured transaction: building it and committing it
 * (wall clock), and the processor time of both and of the commit alone
 * (user + system, every thread), which other work on a shared machine
 * inflates less; and the longest the commit held the loop at once (the
 * commit call, or the longest gap between two calls of a 1 ms timer until
 * it was acknowledged): what every
 * other client of the loop waited meanwhile. The commit's figures include
 * building its record ahead (prepare_s), which the server does on the
 * statement's worker thread. */
struct figures {
	double build_s, commit_s, prepare_s, cpu_s, commit_cpu_s, loop_held_s;
	long maxrss_kib; /* the run's peak resident set */
};

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "bigtx_bench: %s: %s\n", what, detail);
	exit(1);
}

static void set_flag_cb(void *arg)
{
	*(int *)arg = 1;
}

/* A timer every millisecond while the commit goes on: the longest gap
 * between two of its calls is the longest the loop was held at once (a
 * turn that only waits for the log's fsync or for an apply running off
 * the loop holds nothing). */
struct lag {
	uv_timer_t timer;
	uint64_t last, max_ns;
};

static void lag_cb(uv_timer_t *h)
{
	struct lag *l = h->data;
	uint64_t now = uv_hrtime();

	if (now - l->last > l->max_ns)
		l->max_ns = now - l->last;
	l->last = now;
}

/* Runs the loop until *flag; the longest the loop was held at once
 * (nanoseconds) in *max_ns when not NULL, if longer than it was. */
static void run_until_max(struct run *r, const int *flag, uint64_t *max_ns)
{
	struct lag l = {.last = uv_hrtime()};

	uv_timer_init(&r->loop, &l.timer);
	l.timer.data = &l;
	if (max_ns != NULL)
		uv_timer_start(&l.timer, lag_cb, 1, 1);
	while (!*flag && uv_run(&r->loop, UV_RUN_ONCE) != 0)
		;
	lag_cb(&l.timer);
	uv_close((uv_handle_t *)&l.timer, NULL);
	uv_run(&r->loop, UV_RUN_NOWAIT);
	if (max_ns != NULL && l.max_ns > *max_ns)
		*max_ns = l.max_ns;
}

static void run_until(struct run *r, const int *flag)
{
	run_until_max(r, flag, NULL);
}

static double secs_since(uint64_t t)
{
	return (double)(uv_hrtime() - t) / 1e9;
}

static double cpu_secs(void)
{
	struct rusage u;

	getrusage(RUSAGE_SELF, &u);
	return (double)(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
	       (double)(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

static void open_run(struct run *r, const char *dir)
{
	struct dbms_options o = {0};
	char errmsg[GRAFT_ERRMSG_SIZE];

	if (bench_fresh_dir("bigtx_bench", dir) != 0)
		exit(1);
	if (uv_loop_init(&r->loop) != 0)
		die("uv_loop_init", "failed");
	if (graft_gate_init(&r->gate, &r->loop) != GRAFT_OK)
		die("graft_gate_init", "failed");
	o.data_dir = dir;
	o.db.gate = &r->gate;
	o.db.rotation_size = 256ull << 20;
	o.db.retention.kind = GRAFT_RETAIN_ALL;
	if (dbms_open(&r->loop, &o, &r->dbms, errmsg) != GRAFT_OK)
		die("dbms_open", errmsg);
	if (cypher_engine_new(r->dbms, NULL, &r->engine) != GRAFT_OK)
		die("cypher_engine_new", "out of memory");
	r->db = dbms_get(r->dbms, dbms_default_db(r->dbms));
}

static void close_run(struct run *r, const char *dir)
{
	int done = 0;

	cypher_engine_free(r->engine);
	dbms_close(r->dbms, set_flag_cb, &done);
	run_until(r, &done);
	graft_gate_close(&r->gate, NULL);
	uv_run(&r->loop, UV_RUN_DEFAULT);
	uv_loop_close(&r->loop);
	tmpdir_remove(dir);
}

/* The statement ----------------------------------------------------------- */

static void cypher_committed_cb(struct cypher_commit_req *req, int status)
{
	*(int *)req->data = status == GRAFT_OK ? 1 : -1;
}

static void cypher_once(struct run *r, uint64_t n, struct figures *f)
{
	struct cypher_tx_options o = {.mode = CYPHER_TX_WRITE};
	struct cypher_commit_req req;
	struct cypher_result *res;
	const struct graft_value *row;
	struct cypher_error err;
	struct cypher_tx *tx;
	struct graft_value params;
	uint64_t t = uv_hrtime(), held;
	double cpu = cpu_secs();
	int done = 0;

	if (graft_value_map(&params, 1) != GRAFT_OK ||
	    (params.u.map->entries[0].key = graft_str_new("n", 1)) == NULL)
		die("parameters", "out of memory");
	params.u.map->entries[0].value = graft_value_int((int64_t)n);
	if (cypher_tx_begin(r->engine, &o, &tx, &err) != GRAFT_OK ||
	    cypher_run(tx, query, strlen(query), &params, &res, &err) !=
		    GRAFT_OK ||
	    cypher_result_next(res, &row, &err) < 0)
		die(err.code, err.message);
	cypher_result_close(res);
	graft_value_free(&params);
	f->build_s = secs_since(t);
	t = uv_hrtime();
	f->commit_cpu_s = cpu_secs();
	cypher_tx_prepare(tx);
	f->prepare_s = secs_since(t);
	held = uv_hrtime();
	memset(&req, 0, sizeof req);
	req.data = &done;
	if (cypher_tx_commit(tx, &req, cypher_committed_cb) != GRAFT_OK)
		die("commit", req.error.message);
	held = uv_hrtime() - held;
	run_until_max(r, &done, &held);
	if (done != 1)
		die("commit", req.error.message);
	f->commit_s = secs_since(t);
	f->loop_held_s = (double)held / 1e9;
	f->commit_cpu_s = cpu_secs() - f->commit_cpu_s;
	f->cpu_s = cpu_secs() - cpu;
}

/* The anchor: the same nodes through src/db/db.h ----------------------- */

static void db_committed_cb(struct db_commit_req *req, int status)
{
	*(int *)req->data = status == GRAFT_OK ? 1 : -1;
}

static void check(int rv, const char *what)
{
	if (rv != GRAFT_OK)
		die(what, graft_strerror(rv));
}

static void anchor_once(struct run *r, uint64_t n, struct figures *f)
{
	uint32_t item, key_i, key_name, key_payload;
	struct graft_value payload, v;
	struct db_commit_req req;
	struct db_tx *tx;
	uint64_t t = uv_hrtime(), id, held;
	double cpu = cpu_secs();
	char name[32];
	int done = 0;

	check(db_token(r->db, GRAPH_TOKEN_LABEL, "Item", 4, &item), "token");
	check(db_token(r->db, GRAPH_TOKEN_PROPKEY, "i", 1, &key_i), "token");
	check(db_token(r->db, GRAPH_TOKEN_PROPKEY, "name", 4, &key_name),
	      "token");
	check(db_token(r->db, GRAPH_TOKEN_PROPKEY, "payload", 7, &key_payload),
	      "token");
	check(graft_value_string(&payload, PAYLOAD, strlen(PAYLOAD)), "value");
	check(db_tx_begin(r->db, 0, &tx), "db_tx_begin");
	for (uint64_t i = 1; i <= n; i++) {
		int len = snprintf(name, sizeof name, "item-%llu",
				   (unsigned long long)i);

		check(db_tx_node_create(tx, &id), "node");
		check(db_tx_node_add_label(tx, id, item), "label");
		v = graft_value_int((int64_t)i);
		check(db_tx_node_set_prop(tx, id, key_i, &v), "i");
		check(graft_value_string(&v, name, (size_t)len), "value");
		check(db_tx_node_set_prop(tx, id, key_name, &v), "name");
		graft_value_free(&v);
		check(db_tx_node_set_prop(tx, id, key_payload, &payload),
		      "payload");
	}
	graft_value_free(&payload);
	f->build_s = secs_since(t);
	t = uv_hrtime();
	f->commit_cpu_s = cpu_secs();
	db_tx_prepare(tx);
	f->prepare_s = secs_since(t);
	held = uv_hrtime();
	memset(&req, 0, sizeof req);
	req.data = &done;
	check(db_commit(tx, &req, db_committed_cb), "db_commit");
	held = uv_hrtime() - held;
	run_until_max(r, &done, &held);
	if (done != 1)
		die("db_commit", req.errmsg);
	f->commit_s = secs_since(t);
	f->loop_held_s = (double)held / 1e9;
	f->commit_cpu_s = cpu_secs() - f->commit_cpu_s;
	f->cpu_s = cpu_secs() - cpu;
}

/* Main ------------------------------------------------------------------ */

/* One measured transaction in a child process: its figures come back
 * through a pipe, its peak resident set from wait4. */
static void run_child(void (*once)(struct run *, uint64_t, struct figures *),
		      uint64_t n, const char *dir, struct figures *f)
{
	struct rusage u;
	struct run r;
	int fds[2], status;
	pid_t pid;

	if (pipe(fds) != 0 || (pid = fork()) < 0)
		die("fork", strerror(errno));
	if (pid == 0) {
		close(fds[0]);
		open_run(&r, dir);
		once(&r, n, f);
		close_run(&r, dir);
		_exit(write(fds[1], f, sizeof *f) == (ssize_t)sizeof *f ? 0 : 1);
	}
	close(fds[1]);
	if (read(fds[0], f, sizeof *f) != (ssize_t)sizeof *f ||
	    wait4(pid, &status, 0, &u) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		die("run", "the measuring child failed");
	close(fds[0]);
	f->maxrss_kib = u.ru_maxrss;
}

static double print_row(const char *what, uint64_t n, const struct figures *f)
{
	double total = f->build_s + f->commit_s;
	double rate = (double)n / total;

	printf("| %-7s | %9llu | %8.2f | %8.2f | %9.2f | %8.2f | %10.0f | %6.2f | %12.2f "
	       "| %11.0f | %11.2f | %8.0f | %6.0f |\n",
	       what, (unsigned long long)n, f->build_s, f->commit_s,
	       f->prepare_s, total,
	       rate, f->cpu_s, f->commit_cpu_s, (double)n / f->cpu_s,
	       f->loop_held_s,
	       (double)f->maxrss_kib / 1024.0,
	       (double)f->maxrss_kib * 1024.0 / (double)n);
	fflush(stdout);
	return rate;
}

static int parse_sizes(const char *s, uint64_t *sizes, size_t max)
{
	size_t n = 0;
	char *end;

	while (*s != '\0' && n < max) {
		sizes[n++] = strtoull(s, &end, 10);
		if (end == s || sizes[n - 1] == 0)
			return -1;
		s = *end == ',' ? end + 1 : end;
	}
	return (int)n;
}

int main(int argc, char **argv)
{
	uint64_t sizes[16] = {10000, 100000, 1000000};
	int nsizes = 3;
	const char *dir = "./bigtx-bench-data";
	double goal_rate = -1;
	struct figures f;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--sizes") == 0 && i + 1 < argc)
			nsizes = parse_sizes(argv[++i], sizes, 16);
		else if (argv[i][0] != '-')
			dir = argv[i];
		else
			nsizes = -1;
		if (nsizes < 0) {
			fprintf(stderr, "usage: bigtx_bench [--sizes N,N,...] "
					"[DIR]\n");
			return 2;
		}
	}
	graft_log_open(NULL, GRAFT_LOG_WARN, true, NULL);
	printf("one transaction: %s\n", query);
	printf("|         |     nodes |  build s | commit s | prepare s |  total s |    nodes/s |  cpu s | commit cpu s "
	       "| nodes/cpu s | loop held s | peak MiB | B/node |\n");
	printf("|---------|-----------|----------|----------|-----------|----------|------------|--------|--------------"
	       "|-------------|-------------|----------|--------|\n");
	for (int i = 0; i < nsizes; i++) {
		double rate;

		run_child(cypher_once, sizes[i], dir, &f);
		rate = print_row("cypher", sizes[i], &f);
		run_child(anchor_once, sizes[i], dir, &f);
		print_row("anchor", sizes[i], &f);
		if (sizes[i] == GOAL_NODES)
			goal_rate = rate;
	}
	if (goal_rate >= 0)
		printf("goal: >= %.0f nodes/s at %d nodes in one transaction: "
		       "%s (%.0f nodes/s)\n",
		       GOAL_RATE, GOAL_NODES,
		       goal_rate >= GOAL_RATE ? "met" : "NOT met", goal_rate);
	return 0;
}
