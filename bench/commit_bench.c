/* commit_bench: durable commits per second and commit latency through the
 * whole commit path (overlay, validation, record, group-committed log,
 * apply), at 1, 8 and 64 concurrent committers, beside what the same disk
 * does for raw 4 KiB O_DSYNC writes (and fio, if installed).
 *
 *   commit_bench [DIR] [SECONDS]
 *
 * DIR defaults to ./commit-bench-data (not /tmp, which may be tmpfs, where
 * fsync costs nothing); it is emptied first and removed at the end. Each
 * committer starts its next transaction from its commit callback; each
 * transaction creates one node with a label and two small properties. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "db/db.h"
#include "db/db_int.h"
#include "util/log.h"

#include "../tests/unit/tmpdir.h"
#include "bench_util.h"

struct bench;

struct committer {
	struct bench *b;
	struct db_commit_req req;
	uint64_t started;
	uint64_t seq;
};

struct bench {
	uv_loop_t loop;
	struct db *db;
	uint32_t label, k_seq, k_name;
	uint64_t stop_at;   /* uv_hrtime after which nobody starts again */
	unsigned active;
	uint64_t *lat;      /* ns per commit */
	size_t n_lat, cap_lat;
	int failed;
};

/* fio's write IOPS for 4 KiB writes each followed by fsync, or -1. */
static double fio_iops(const char *dir)
{
	char cmd[4300], line[8192];
	double iops = -1;
	FILE *p;

	snprintf(cmd, sizeof cmd,
		 "fio --name=sync4k --directory='%s' --rw=write --bs=4k "
		 "--size=16m --fsync=1 --output-format=terse 2>/dev/null",
		 dir);
	p = popen(cmd, "r");
	if (p == NULL)
		return -1;
	while (fgets(line, sizeof line, p) != NULL) {
		/* Terse v3: field 49 (1-based) is the write IOPS. */
		char *save = NULL, *tok = strtok_r(line, ";", &save);
		int field = 1;

		if (tok == NULL || strcmp(tok, "3") != 0)
			continue;
		while (tok != NULL && field < 49) {
			tok = strtok_r(NULL, ";", &save);
			field++;
		}
		if (tok != NULL)
			iops = strtod(tok, NULL);
	}
	pclose(p);
	snprintf(cmd, sizeof cmd, "%s/sync4k.0.0", dir);
	unlink(cmd);
	return iops;
}

static void committer_next(struct committer *c);

static void commit_cb(struct db_commit_req *req, int status)
{
	struct committer *c = req->data;
	struct bench *b = c->b;

	if (status != GRAFT_OK) {
		fprintf(stderr, "commit_bench: commit failed: %s: %s\n",
			graft_strerror(status), req->errmsg);
		b->failed = 1;
		b->active--;
		return;
	}
	if (b->n_lat == b->cap_lat) {
		b->cap_lat = b->cap_lat ? b->cap_lat * 2 : 1 << 16;
		b->lat = realloc(b->lat, b->cap_lat * sizeof *b->lat);
		if (b->lat == NULL)
			abort();
	}
	b->lat[b->n_lat++] = uv_hrtime() - c->started;
	committer_next(c);
}

static void committer_next(struct committer *c)
{
	struct bench *b = c->b;
	struct graft_value v;
	struct db_tx *tx;
	uint64_t id;
	char name[32];
	int rv, n;

	c->started = uv_hrtime();
	if (c->started >= b->stop_at) {
		b->active--;
		return;
	}
	n = snprintf(name, sizeof name, "n%llu", (unsigned long long)c->seq++);
	rv = db_tx_begin(b->db, 0, &tx);
	if (rv == GRAFT_OK)
		rv = db_tx_node_create(tx, &id);
	if (rv == GRAFT_OK)
		rv = db_tx_node_add_label(tx, id, b->label);
	v = graft_value_int((int64_t)c->seq);
	if (rv == GRAFT_OK)
		rv = db_tx_node_set_prop(tx, id, b->k_seq, &v);
	if (rv == GRAFT_OK)
		rv = graft_value_string(&v, name, (size_t)n);
	if (rv == GRAFT_OK) {
		rv = db_tx_node_set_prop(tx, id, b->k_name, &v);
		graft_value_free(&v);
	}
	if (rv == GRAFT_OK)
		rv = db_commit(tx, &c->req, commit_cb);
	else
		db_tx_rollback(tx);
	if (rv != GRAFT_OK) {
		fprintf(stderr, "commit_bench: %s\n", graft_strerror(rv));
		b->failed = 1;
		b->active--;
	}
}

static void closed_cb(void *arg)
{
	*(int *)arg = 1;
}

/* One round with n committers for secs seconds; prints a line and returns
 * the p50 latency in ns. */
static double round_run(const char *dir, unsigned n, double secs,
			double *rate)
{
	char store[4200], txlog[4200], errmsg[GRAFT_ERRMSG_SIZE];
	struct db_options o = {0};
	struct committer *cs = calloc(n, sizeof *cs);
	struct txlog_stats ls;
	struct bench b;
	uint64_t start, elapsed;
	double p50, p99;
	int closed = 0;

	memset(&b, 0, sizeof b);
	snprintf(store, sizeof store, "%s/c%u/store", dir, n);
	snprintf(txlog, sizeof txlog, "%s/c%u/txlog", dir, n);
	o.name = "bench";
	o.store_dir = store;
	o.txlog_dir = txlog;
	o.rotation_size = 256ull << 20;
	o.retention.kind = GRAFT_RETAIN_ALL;
	uv_loop_init(&b.loop);
	if (cs == NULL || db_open(&b.loop, &o, &b.db, errmsg) != GRAFT_OK) {
		fprintf(stderr, "commit_bench: %s\n", errmsg);
		exit(1);
	}
	db_token(b.db, GRAPH_TOKEN_LABEL, "Bench", 5, &b.label);
	db_token(b.db, GRAPH_TOKEN_PROPKEY, "seq", 3, &b.k_seq);
	db_token(b.db, GRAPH_TOKEN_PROPKEY, "name", 4, &b.k_name);
	start = uv_hrtime();
	b.stop_at = start + (uint64_t)(secs * 1e9);
	b.active = n;
	for (unsigned i = 0; i < n; i++) {
		cs[i].b = &b;
		cs[i].req.data = &cs[i];
		committer_next(&cs[i]);
	}
	while (b.active > 0 && uv_run(&b.loop, UV_RUN_ONCE))
		;
	elapsed = uv_hrtime() - start;
	txlog_get_stats(b.db->log, &ls);
	bench_sort(b.lat, b.n_lat);
	p50 = (double)bench_pct(b.lat, b.n_lat, 0.5);
	p99 = (double)bench_pct(b.lat, b.n_lat, 0.99);
	*rate = (double)b.n_lat / ((double)elapsed / 1e9);
	printf("%3u committers: %8.0f commits/s  p50 %7.3f ms  p99 %7.3f ms  "
	       "(%llu commits, %.1f per fsync)%s\n",
	       n, *rate, p50 / 1e6, p99 / 1e6, (unsigned long long)b.n_lat,
	       ls.fsyncs ? (double)ls.appends / (double)ls.fsyncs : 0.0,
	       b.failed ? "  FAILED" : "");
	db_close(b.db, closed_cb, &closed);
	while (!closed)
		uv_run(&b.loop, UV_RUN_ONCE);
	uv_run(&b.loop, UV_RUN_DEFAULT);
	uv_loop_close(&b.loop);
	free(b.lat);
	free(cs);
	if (b.failed)
		exit(1);
	return p50;
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "./commit-bench-data";
	double secs = argc > 2 ? strtod(argv[2], NULL) : 3.0;
	static const unsigned rounds[] = {1, 8, 64};
	double fsync_ns, iops, p50_1 = 0, rate = 0;
	struct bench_dsync disk;

	graft_log_open(NULL, GRAFT_LOG_WARN, true, NULL);
	if (bench_fresh_dir("commit_bench", dir) != 0)
		return 1;
	bench_dsync_writes("commit_bench", dir, &disk);
	fsync_ns = disk.mean_ns;
	printf("disk: one 4 KiB O_DSYNC write takes %.3f ms (%.0f writes/s)\n",
	       fsync_ns / 1e6, disk.rate);
	iops = fio_iops(dir);
	if (iops >= 0)
		printf("fio sync4k (4 KiB write + fsync): %.0f write IOPS\n",
		       iops);
	else
		printf("fio: not available\n");
	for (size_t i = 0; i < sizeof rounds / sizeof *rounds; i++) {
		double p50 = round_run(dir, rounds[i], secs, &rate);

		if (rounds[i] == 1)
			p50_1 = p50;
	}
	printf("target: >= 20000 commits/s at 64 committers: %s (%.0f)\n",
	       rate >= 20000 ? "met" : "NOT met", rate);
	printf("target: p50 at 1 committer <= 1.5 x one O_DSYNC write: %s "
	       "(%.2f x)\n",
	       fsync_ns > 0 && p50_1 <= 1.5 * fsync_ns ? "met" : "NOT met",
	       fsync_ns > 0 ? p50_1 / fsync_ns : 0.0);
	tmpdir_remove(dir);
	return 0;
}
