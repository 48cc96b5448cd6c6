/* txlog_bench: durable appends per second and append latency of the
 * transaction log alone, with 1, 8 and 64 concurrent appenders (each issues
 * its next append from its callback), beside the raw rate and latency of
 * 4 KiB O_DSYNC writes on the same disk; then how long opening (verifying)
 * a log of a million records takes.
 *
 *   txlog_bench [DIR] [SECONDS]
 *
 * DIR defaults to ./txlog-bench-data (not /tmp, which may be tmpfs, where
 * fsync costs nothing); it is emptied first and removed at the end. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "txlog/txlog.h"
#include "util/err.h"
#include "util/log.h"

#include "../tests/unit/tmpdir.h"
#include "bench_util.h"

#define RECORD 100
#define OPEN_RECORDS 1000000u

struct bench;

struct appender {
	struct bench *b;
	struct txlog_append_req req;
	uint64_t started;
};

struct bench {
	uv_loop_t loop;
	struct txlog *log;
	uint64_t next_txid;
	uint64_t stop_at;
	uint8_t rec[RECORD];
	uint64_t *lat; /* ns per append */
	size_t n_lat, cap_lat;
	int failed;
};

static void next_append(struct appender *a);

static void append_cb(struct txlog_append_req *req, int status)
{
	struct appender *a = req->data;
	struct bench *b = a->b;

	if (status != GRAFT_OK) {
		fprintf(stderr, "txlog_bench: append failed: %s\n",
			graft_strerror(status));
		b->failed = 1;
		return;
	}
	if (b->n_lat < b->cap_lat)
		b->lat[b->n_lat++] = uv_hrtime() - a->started;
	if (uv_hrtime() < b->stop_at)
		next_append(a);
}

static void next_append(struct appender *a)
{
	struct bench *b = a->b;
	int rv;

	a->started = uv_hrtime();
	memcpy(b->rec, &b->next_txid, sizeof b->next_txid);
	rv = txlog_append(b->log, &a->req, b->next_txid, b->rec, sizeof b->rec,
			  append_cb);
	if (rv != GRAFT_OK) {
		fprintf(stderr, "txlog_bench: append: %s\n",
			graft_strerror(rv));
		b->failed = 1;
		return;
	}
	b->next_txid++;
}

static void closed_cb(struct txlog *log, void *arg)
{
	(void)log;
	(void)arg;
}

static int open_log(struct bench *b, const char *dir)
{
	struct txlog_options o = {0};
	char errmsg[GRAFT_ERRMSG_SIZE];

	o.retention.kind = GRAFT_RETAIN_ALL;
	if (txlog_open(&b->loop, dir, &o, &b->log, errmsg) != GRAFT_OK) {
		fprintf(stderr, "txlog_bench: %s\n", errmsg);
		return -1;
	}
	return 0;
}

/* n appenders for secs seconds on a fresh log in dir. */
static int run(struct bench *b, const char *dir, unsigned n, double secs,
	       uint64_t fsync_p50)
{
	struct appender *a = calloc(n, sizeof *a);
	struct txlog_stats st;
	uint64_t start, elapsed;
	double rate;

	tmpdir_remove(dir);
	if (a == NULL || open_log(b, dir) != 0) {
		free(a);
		return -1;
	}
	b->next_txid = 1;
	b->n_lat = 0;
	start = uv_hrtime();
	b->stop_at = start + (uint64_t)(secs * 1e9);
	for (unsigned i = 0; i < n; i++) {
		a[i].b = b;
		a[i].req.data = &a[i];
		next_append(&a[i]);
	}
	uv_run(&b->loop, UV_RUN_DEFAULT);
	elapsed = uv_hrtime() - start;
	txlog_get_stats(b->log, &st);
	txlog_close(b->log, closed_cb, NULL);
	uv_run(&b->loop, UV_RUN_DEFAULT);
	free(a);
	if (b->failed)
		return -1;
	bench_sort(b->lat, b->n_lat);
	rate = (double)st.appends * 1e9 / (double)elapsed;
	printf("%2u appenders: %8.0f durable appends/s, p50 %6.1f us, p99 "
	       "%7.1f us, %.1f appends per fsync\n",
	       n, rate, (double)bench_pct(b->lat, b->n_lat, 0.5) / 1e3,
	       (double)bench_pct(b->lat, b->n_lat, 0.99) / 1e3,
	       st.batches ? (double)st.appends / (double)st.batches : 0);
	if (n == 1)
		printf("             target: p50 <= 1.5 x one O_DSYNC write "
		       "(%.1f us): %s\n", 1.5 * (double)fsync_p50 / 1e3,
		       (double)bench_pct(b->lat, b->n_lat, 0.5) <=
				       1.5 * (double)fsync_p50
			       ? "met"
			       : "NOT met");
	if (n == 64)
		printf("             target: >= 20000/s (through the db layer; "
		       "this is the log alone): %s\n",
		       rate >= 20000 ? "met" : "NOT met");
	return 0;
}

static void fill_cb(struct txlog_append_req *req, int status)
{
	struct bench *b = req->data;

	if (status != GRAFT_OK)
		b->failed = 1;
}

/* Writes OPEN_RECORDS records in batches of 10,000, then times opening. */
static int open_time(struct bench *b, const char *dir)
{
	static struct txlog_append_req reqs[10000];
	struct txlog_stats st;
	uint64_t start, elapsed;

	tmpdir_remove(dir);
	if (open_log(b, dir) != 0)
		return -1;
	for (uint64_t t = 1; t <= OPEN_RECORDS && !b->failed;) {
		for (unsigned i = 0; i < 10000 && t <= OPEN_RECORDS; i++, t++) {
			reqs[i].data = b;
			memcpy(b->rec, &t, sizeof t);
			if (txlog_append(b->log, &reqs[i], t, b->rec,
					 sizeof b->rec, fill_cb) != GRAFT_OK)
				return -1;
		}
		uv_run(&b->loop, UV_RUN_DEFAULT);
	}
	txlog_close(b->log, closed_cb, NULL);
	uv_run(&b->loop, UV_RUN_DEFAULT);
	if (b->failed)
		return -1;
	start = uv_hrtime();
	if (open_log(b, dir) != 0)
		return -1;
	elapsed = uv_hrtime() - start;
	txlog_get_stats(b->log, &st);
	printf("open of %llu records of %d B (%llu segments): %.0f ms; target "
	       "well under 1 s: %s\n",
	       (unsigned long long)txlog_last_txid(b->log), RECORD,
	       (unsigned long long)st.segments,
	       (double)elapsed / 1e6,
	       elapsed < 1000000000ull ? "met" : "NOT met");
	txlog_close(b->log, closed_cb, NULL);
	uv_run(&b->loop, UV_RUN_DEFAULT);
	return 0;
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "./txlog-bench-data";
	double secs = argc > 2 ? atof(argv[2]) : 3.0;
	static const unsigned counts[] = {1, 8, 64};
	char errmsg[GRAFT_ERRMSG_SIZE], logdir[4200];
	struct bench_dsync disk;
	struct bench b;
	int rv = 0;

	memset(&b, 0, sizeof b);
	graft_log_open(NULL, GRAFT_LOG_WARN, true, errmsg);
	if (bench_fresh_dir("txlog_bench", dir) != 0)
		return 1;
	snprintf(logdir, sizeof logdir, "%s/txlog", dir);
	b.cap_lat = 20000000;
	b.lat = malloc(b.cap_lat * sizeof *b.lat);
	if (b.lat == NULL || uv_loop_init(&b.loop) != 0)
		return 1;

	bench_dsync_writes("txlog_bench", dir, &disk);
	printf("disk (%s): %.0f 4 KiB O_DSYNC writes/s, p50 %.1f us\n", dir,
	       disk.rate, (double)disk.p50_ns / 1e3);
	for (size_t i = 0; rv == 0 && i < sizeof counts / sizeof *counts; i++)
		rv = run(&b, logdir, counts[i], secs, disk.p50_ns);
	if (rv == 0)
		rv = open_time(&b, logdir);

	uv_loop_close(&b.loop);
	free(b.lat);
	tmpdir_remove(dir);
	return rv == 0 ? 0 : 1;
}
