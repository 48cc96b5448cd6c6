/* recovery_bench: how fast db_open replays a transaction log.
 *
 *   recovery_bench [DIR] [TRANSACTIONS]
 *
 * Commits TRANSACTIONS (default 1,000,000) small transactions through the
 * ordinary commit path (256 committers, so group commit keeps this short),
 * closes, deletes the checkpoints so that everything must come from the
 * log, then times db_open. DIR defaults to ./recovery-bench-data; it is
 * emptied first and removed at the end. */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "db/db.h"
#include "util/log.h"

#include "../tests/unit/tmpdir.h"

#define COMMITTERS 256

struct writer {
	struct load *l;
	struct db_commit_req req;
};

struct load {
	struct db *db;
	uint32_t label, key;
	uint64_t started, target;
	unsigned active;
	int failed;
};

static void writer_next(struct writer *w);

static void commit_cb(struct db_commit_req *req, int status)
{
	struct writer *w = req->data;

	if (status != GRAFT_OK) {
		fprintf(stderr, "recovery_bench: commit failed: %s\n",
			req->errmsg);
		w->l->failed = 1;
		w->l->active--;
		return;
	}
	writer_next(w);
}

static void writer_next(struct writer *w)
{
	struct load *l = w->l;
	struct graft_value v = graft_value_int((int64_t)l->started);
	struct db_tx *tx;
	uint64_t id;
	int rv;

	if (l->started == l->target) {
		l->active--;
		return;
	}
	l->started++;
	rv = db_tx_begin(l->db, 0, &tx);
	if (rv == GRAFT_OK)
		rv = db_tx_node_create(tx, &id);
	if (rv == GRAFT_OK)
		rv = db_tx_node_add_label(tx, id, l->label);
	if (rv == GRAFT_OK)
		rv = db_tx_node_set_prop(tx, id, l->key, &v);
	if (rv == GRAFT_OK)
		rv = db_commit(tx, &w->req, commit_cb);
	else
		db_tx_rollback(tx);
	if (rv != GRAFT_OK) {
		fprintf(stderr, "recovery_bench: %s\n", graft_strerror(rv));
		l->failed = 1;
		l->active--;
	}
}

static void closed_cb(void *arg)
{
	*(int *)arg = 1;
}

static void close_db(uv_loop_t *loop, struct db *db)
{
	int closed = 0;

	db_close(db, closed_cb, &closed);
	while (!closed)
		uv_run(loop, UV_RUN_ONCE);
	uv_run(loop, UV_RUN_DEFAULT);
}

static void remove_checkpoints(const char *dir)
{
	char path[8192];
	struct dirent *e;
	DIR *d = opendir(dir);

	while (d != NULL && (e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, "checkpoint", 10) != 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		unlink(path);
	}
	if (d != NULL)
		closedir(d);
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "./recovery-bench-data";
	uint64_t n = argc > 2 ? strtoull(argv[2], NULL, 10) : 1000000;
	char store[4200], txlog[4200], errmsg[GRAFT_ERRMSG_SIZE];
	struct writer ws[COMMITTERS];
	struct db_options o = {0};
	struct db_recovery_stats st;
	struct graph_stats gs;
	struct load l = {0};
	uv_loop_t loop;
	uint64_t t0;

	graft_log_open(NULL, GRAFT_LOG_WARN, true, NULL);
	tmpdir_remove(dir);
	snprintf(store, sizeof store, "%s/store", dir);
	snprintf(txlog, sizeof txlog, "%s/txlog", dir);
	o.name = "bench";
	o.store_dir = store;
	o.txlog_dir = txlog;
	o.rotation_size = 256ull << 20;
	o.retention.kind = GRAFT_RETAIN_ALL;
	uv_loop_init(&loop);
	if (db_open(&loop, &o, &l.db, errmsg) != GRAFT_OK) {
		fprintf(stderr, "recovery_bench: %s\n", errmsg);
		return 1;
	}
	db_token(l.db, GRAPH_TOKEN_LABEL, "Item", 4, &l.label);
	db_token(l.db, GRAPH_TOKEN_PROPKEY, "seq", 3, &l.key);
	l.target = n;
	l.active = COMMITTERS;
	t0 = uv_hrtime();
	for (unsigned i = 0; i < COMMITTERS; i++) {
		ws[i].l = &l;
		ws[i].req.data = &ws[i];
		writer_next(&ws[i]);
	}
	while (l.active > 0 && uv_run(&loop, UV_RUN_ONCE))
		;
	if (l.failed)
		return 1;
	printf("wrote %llu transactions in %.1f s\n", (unsigned long long)n,
	       (double)(uv_hrtime() - t0) / 1e9);
	close_db(&loop, l.db);
	remove_checkpoints(store);

	t0 = uv_hrtime();
	if (db_open(&loop, &o, &l.db, errmsg) != GRAFT_OK) {
		fprintf(stderr, "recovery_bench: %s\n", errmsg);
		return 1;
	}
	t0 = uv_hrtime() - t0;
	db_recovery_stats(l.db, &st);
	graph_stats(db_graph(l.db), &gs);
	printf("recovered %llu transactions from the log in %.2f s (db_open "
	       "%.2f s): %.0f records/s; %llu nodes, %.1f MiB graph\n",
	       (unsigned long long)st.replayed, (double)st.elapsed_us / 1e6,
	       (double)t0 / 1e9,
	       st.elapsed_us ? (double)st.replayed * 1e6 / (double)st.elapsed_us
			     : 0.0,
	       (unsigned long long)gs.nodes, (double)gs.bytes / 1048576.0);
	if (st.replayed != n || gs.nodes != n) {
		fprintf(stderr, "recovery_bench: expected %llu\n",
			(unsigned long long)n);
		return 1;
	}
	close_db(&loop, l.db);
	uv_loop_close(&loop);
	tmpdir_remove(dir);
	return 0;
}
