/* backup_bench: online backup and restore rates beside the disk's own.
 *
 *   backup_bench [DIR] [NODES] [DIFF_TRANSACTIONS] [LATENCY_OUT_DIR]
 *
 * Builds a database of NODES nodes and as many relationships (default
 * 1,000,000; the figure is 5,000,000) in transactions of 20,000,
 * checkpoints it and serves it on a loopback backup port. Then, each timed:
 * a sequential write and read of a file as large as the checkpoint (the
 * disk's bandwidth, fsync and page-cache drop included); FULL backups
 * without and with compression (MB/s of store); restores of each (the
 * restore includes opening the result once); a DIFF of DIFF_TRANSACTIONS
 * (default 100,000) one-node transactions; and the p50/p99 latency of
 * one-at-a-time commits without and then during back-to-back FULL backups,
 * whose artifacts go to LATENCY_OUT_DIR (default DIR; another disk or
 * /dev/shm separates the server's share of the effect from the writing of
 * the artifacts). DIR defaults to ./backup-bench-data; it is emptied
 * first. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "backup/client.h"
#include "backup/restore.h"
#include "backup/serve.h"
#include "db/dbms.h"
#include "util/fs.h"
#include "util/log.h"

#include "../tests/unit/tmpdir.h"
#include "bench_util.h"

#define BATCH 20000
#define COMMITTERS 256
#define LATENCY_MAX 200000

struct bench {
	uv_loop_t loop;
	uv_async_t wake;
	struct dbms *dbms;
	struct db *db;
	struct backup_server *srv;
	uint32_t label, key, type;
	char dir[4096], addr[64];
	/* the backup thread */
	struct backup_client_opts o;
	struct backup_result res;
	char errmsg[GRAFT_ERRMSG_SIZE];
	int rv;
	volatile int done, repeat;
	unsigned backups;
	/* DIFF load */
	uint64_t started, target;
	unsigned active;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *what, const char *msg)
{
	fprintf(stderr, "backup_bench: %s: %s\n", what, msg);
	exit(1);
}

static void commit_done_cb(struct db_commit_req *req, int status)
{
	if (status != GRAFT_OK)
		die("commit", req->errmsg);
	*(int *)req->data = 1;
}

static void commit_wait(struct bench *b, struct db_tx *tx)
{
	struct db_commit_req req;
	int done = 0;

	req.data = &done;
	if (db_commit(tx, &req, commit_done_cb) != GRAFT_OK)
		die("commit", "refused");
	while (!done)
		uv_run(&b->loop, UV_RUN_ONCE);
}

/* NODES nodes in a chain of NEXT relationships, BATCH per transaction. */
static void build(struct bench *b, uint64_t nodes)
{
	uint64_t i = 0, id, prev = GRAPH_NO_ID, rel;
	struct graft_value v;
	struct db_tx *tx;

	while (i < nodes) {
		if (db_tx_begin(b->db, 0, &tx) != GRAFT_OK)
			die("build", "db_tx_begin");
		for (uint64_t k = 0; k < BATCH && i < nodes; k++, i++) {
			v = graft_value_int((int64_t)i);
			if (db_tx_node_create(tx, &id) != GRAFT_OK ||
			    db_tx_node_add_label(tx, id, b->label) != GRAFT_OK ||
			    db_tx_node_set_prop(tx, id, b->key, &v) != GRAFT_OK ||
			    (prev != GRAPH_NO_ID &&
			     db_tx_rel_create(tx, b->type, prev, id, &rel) !=
				     GRAFT_OK))
				die("build", "write");
			prev = id;
		}
		commit_wait(b, tx);
	}
}

static void checkpoint_cb(void *arg, int status)
{
	if (status != GRAFT_OK)
		die("checkpoint", graft_strerror(status));
	*(int *)arg = 1;
}

static void checkpoint(struct bench *b)
{
	int done = 0;

	if (db_checkpoint(b->db, checkpoint_cb, &done) != GRAFT_OK)
		die("checkpoint", "refused");
	while (!done)
		uv_run(&b->loop, UV_RUN_ONCE);
}

static void wake_cb(uv_async_t *a)
{
	(void)a;
}

static void backup_thread(void *arg)
{
	struct bench *b = arg;

	do {
		b->rv = backup_client_run(b->addr, "neo4j", &b->o, &b->res,
					  b->errmsg);
		b->backups++;
		if (b->repeat && b->res.path[0] != '\0')
			unlink(b->res.path);
	} while (b->rv == GRAFT_OK && b->repeat);
	b->done = 1;
	uv_async_send(&b->wake);
}

/* One backup into out, the loop serving it; returns seconds. */
static double backup(struct bench *b, const char *out, enum backup_want type,
		     bool compress)
{
	uv_thread_t t;
	uint64_t t0 = now_ns();

	graft_mkdir_p(out, b->errmsg);
	b->o.to_dir = out;
	b->o.type = type;
	b->o.compress = compress;
	b->o.timeout_s = 600;
	b->done = 0;
	b->repeat = 0;
	uv_thread_create(&t, backup_thread, b);
	while (!b->done)
		uv_run(&b->loop, UV_RUN_ONCE);
	uv_thread_join(&t);
	if (b->rv != GRAFT_OK)
		die("backup", b->errmsg);
	return (double)(now_ns() - t0) / 1e9;
}

static double restore(struct bench *b, const char *artifact, const char *to)
{
	struct backup_restore_opts o = {0};
	struct backup_restore_result res;
	char store[4200], txlog[4200], errmsg[GRAFT_ERRMSG_SIZE];
	uint64_t t0 = now_ns();

	snprintf(store, sizeof store, "%s/databases", to);
	snprintf(txlog, sizeof txlog, "%s/transactions", to);
	o.paths = &artifact;
	o.n_paths = 1;
	o.until_txid = UINT64_MAX;
	o.until_time_ms = -1;
	o.data_dir = to;
	o.store_root = store;
	o.txlog_root = txlog;
	o.db_opts.rotation_size = 256ull << 20;
	o.db_opts.retention.kind = GRAFT_RETAIN_ALL;
	if (backup_restore(&o, &res, errmsg) != GRAFT_OK)
		die("restore", errmsg);
	return (double)(now_ns() - t0) / 1e9;
}

static uint64_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

/* Sequential write (with fsync) and cold read of bytes; MB/s each. */
static void disk_anchor(const char *dir, uint64_t bytes, double *w, double *r)
{
	char path[4200];
	size_t chunk = 1 << 20;
	char *buf = malloc(chunk);
	uint64_t t0, done;
	int fd;

	snprintf(path, sizeof path, "%s/anchor", dir);
	memset(buf, 0x5a, chunk);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0640);
	if (fd < 0 || buf == NULL)
		die("anchor", strerror(errno));
	t0 = now_ns();
	for (done = 0; done < bytes; done += chunk)
		if (graft_write_all(fd, buf, chunk) != GRAFT_OK)
			die("anchor", strerror(errno));
	fsync(fd);
	*w = (double)done / 1048576.0 / ((double)(now_ns() - t0) / 1e9);
	posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	lseek(fd, 0, SEEK_SET);
	t0 = now_ns();
	while (read(fd, buf, chunk) > 0)
		;
	*r = (double)done / 1048576.0 / ((double)(now_ns() - t0) / 1e9);
	close(fd);
	unlink(path);
	free(buf);
}

static void load_next(struct bench *b, struct db_commit_req *req);

static void load_cb(struct db_commit_req *req, int status)
{
	struct bench *b = *(struct bench **)req->data;

	if (status != GRAFT_OK)
		die("commit", req->errmsg);
	load_next(b, req);
}

static void load_next(struct bench *b, struct db_commit_req *req)
{
	struct db_tx *tx;
	uint64_t id;

	if (b->started == b->target) {
		b->active--;
		return;
	}
	b->started++;
	if (db_tx_begin(b->db, 0, &tx) != GRAFT_OK ||
	    db_tx_node_create(tx, &id) != GRAFT_OK ||
	    db_commit(tx, req, load_cb) != GRAFT_OK)
		die("load", "commit refused");
}

/* n one-node transactions through COMMITTERS concurrent committers. */
static void load_small(struct bench *b, uint64_t n)
{
	static struct db_commit_req reqs[COMMITTERS];
	struct bench *self = b;
	unsigned i;

	b->started = 0;
	b->target = n;
	b->active = COMMITTERS;
	for (i = 0; i < COMMITTERS; i++) {
		reqs[i].data = &self;
		load_next(b, &reqs[i]);
	}
	while (b->active > 0)
		uv_run(&b->loop, UV_RUN_ONCE);
}

/* Commit latencies (one at a time, seconds long); p50 and p99 in us. */
static void latency(struct bench *b, double seconds, uint64_t *p50,
		    uint64_t *p99)
{
	static uint64_t lat[LATENCY_MAX];
	uint64_t end = now_ns() + (uint64_t)(seconds * 1e9), t0, id;
	struct db_tx *tx;
	size_t n = 0;

	while (now_ns() < end && n < LATENCY_MAX) {
		t0 = now_ns();
		if (db_tx_begin(b->db, 0, &tx) != GRAFT_OK ||
		    db_tx_node_create(tx, &id) != GRAFT_OK)
			die("latency", "write");
		commit_wait(b, tx);
		lat[n++] = now_ns() - t0;
	}
	bench_sort(lat, n);
	*p50 = bench_pct(lat, n, 0.50) / 1000;
	*p99 = bench_pct(lat, n, 0.99) / 1000;
}

static void latency_under_backup(struct bench *b, const char *out,
				 uint64_t *p50, uint64_t *p99)
{
	uv_thread_t t;

	graft_mkdir_p(out, b->errmsg);
	b->o.to_dir = out;
	b->o.type = BACKUP_WANT_FULL;
	b->o.compress = false;
	b->done = 0;
	b->repeat = 1;
	b->backups = 0;
	uv_thread_create(&t, backup_thread, b);
	latency(b, 3.0, p50, p99);
	b->repeat = 0;
	while (!b->done)
		uv_run(&b->loop, UV_RUN_ONCE);
	uv_thread_join(&t);
	if (b->rv != GRAFT_OK)
		die("backup", b->errmsg);
}

static void closed_cb(void *arg)
{
	*(int *)arg = 1;
}

int main(int argc, char **argv)
{
	static struct bench b;
	const char *dir = argc > 1 ? argv[1] : "./backup-bench-data";
	uint64_t nodes = argc > 2 ? strtoull(argv[2], NULL, 10) : 1000000;
	uint64_t diff_n = argc > 3 ? strtoull(argv[3], NULL, 10) : 100000;
	struct graft_address a = {.host = "127.0.0.1", .port = 0};
	char data[4200], path[4300], txlog_root[4300], full_raw[4096],
		full_z[4096];
	struct dbms_options o = {0};
	uint64_t store, raw_size, z_size, p50, p99, bp50, bp99;
	double aw, ar, t_raw, t_z, r_raw, r_z, t_diff;
	int closed = 0;

	graft_log_open(NULL, GRAFT_LOG_WARN, true, NULL);
	if (bench_fresh_dir("backup_bench", dir) != 0)
		return 1;
	snprintf(b.dir, sizeof b.dir, "%s", dir);
	snprintf(data, sizeof data, "%s/src", dir);
	snprintf(txlog_root, sizeof txlog_root, "%s/transactions", data);
	uv_loop_init(&b.loop);
	uv_async_init(&b.loop, &b.wake, wake_cb);
	o.data_dir = data;
	o.db.rotation_size = 256ull << 20;
	o.db.retention.kind = GRAFT_RETAIN_ALL;
	if (dbms_open(&b.loop, &o, &b.dbms, b.errmsg) != GRAFT_OK)
		die("dbms_open", b.errmsg);
	b.db = dbms_get(b.dbms, "neo4j");
	db_token(b.db, GRAPH_TOKEN_LABEL, "Person", 6, &b.label);
	db_token(b.db, GRAPH_TOKEN_PROPKEY, "id", 2, &b.key);
	db_token(b.db, GRAPH_TOKEN_RELTYPE, "NEXT", 4, &b.type);
	printf("building %" PRIu64 " nodes and relationships...\n", nodes);
	build(&b, nodes);
	checkpoint(&b);
	if (backup_server_start(&b.loop, b.dbms, data, txlog_root, "bench", &a,
				&b.srv, b.errmsg) != GRAFT_OK)
		die("backup_server_start", b.errmsg);
	snprintf(b.addr, sizeof b.addr, "127.0.0.1:%d", backup_server_port(b.srv));

	snprintf(path, sizeof path, "%s/full-raw", dir);
	t_raw = backup(&b, path, BACKUP_WANT_FULL, false);
	snprintf(full_raw, sizeof full_raw, "%s", b.res.path);
	store = raw_size = file_size(full_raw);
	snprintf(path, sizeof path, "%s/full-zstd", dir);
	t_z = backup(&b, path, BACKUP_WANT_FULL, true);
	snprintf(full_z, sizeof full_z, "%s", b.res.path);
	z_size = file_size(full_z);
	disk_anchor(dir, store, &aw, &ar);
	snprintf(path, sizeof path, "%s/restore-raw", dir);
	r_raw = restore(&b, full_raw, path);
	snprintf(path, sizeof path, "%s/restore-zstd", dir);
	r_z = restore(&b, full_z, path);

	printf("store copy: %.1f MiB; disk: write+fsync %.0f MB/s, cold read "
	       "%.0f MB/s\n", (double)store / 1048576.0, aw, ar);
	printf("FULL uncompressed: %.2f s, %.0f MB/s (%.0f%% of the disk's "
	       "read rate; target >= 80%%)\n", t_raw,
	       (double)store / 1048576.0 / t_raw,
	       100.0 * (double)store / 1048576.0 / t_raw / ar);
	printf("FULL zstd:         %.2f s, %.0f MB/s of store, artifact %.1f "
	       "MiB (%.1fx smaller)\n", t_z, (double)store / 1048576.0 / t_z,
	       (double)z_size / 1048576.0, (double)raw_size / (double)z_size);
	printf("restore uncompressed: %.2f s, %.0f MB/s (%.0f%% of the disk's "
	       "write rate; opening the result included)\n", r_raw,
	       (double)store / 1048576.0 / r_raw,
	       100.0 * (double)store / 1048576.0 / r_raw / aw);
	printf("restore zstd:         %.2f s, %.0f MB/s of store\n", r_z,
	       (double)store / 1048576.0 / r_z);

	load_small(&b, diff_n);
	snprintf(path, sizeof path, "%s/full-raw", dir);
	t_diff = backup(&b, path, BACKUP_WANT_DIFF, true);
	printf("DIFF of %" PRIu64 " transactions: %.2f s (%" PRIu64 "..%" PRIu64
	       ")\n", diff_n, t_diff, b.res.m.first_txid, b.res.m.last_txid);

	latency(&b, 3.0, &p50, &p99);
	snprintf(path, sizeof path, "%s/backup-bench-loop",
		 argc > 4 ? argv[4] : dir);
	latency_under_backup(&b, path, &bp50, &bp99);
	tmpdir_remove(path);
	printf("commit latency alone:          p50 %" PRIu64 " us, p99 %" PRIu64
	       " us\n", p50, p99);
	printf("commit latency during backups: p50 %" PRIu64 " us, p99 %" PRIu64
	       " us (%u FULL backups ran; target: p99 < 20%% worse)\n",
	       bp50, bp99, b.backups);

	backup_server_close(b.srv);
	dbms_close(b.dbms, closed_cb, &closed);
	uv_close((uv_handle_t *)&b.wake, NULL);
	uv_run(&b.loop, UV_RUN_DEFAULT);
	uv_loop_close(&b.loop);
	tmpdir_remove(dir);
	return 0;
}
