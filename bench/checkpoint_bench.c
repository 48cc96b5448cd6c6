/* Checkpoint benchmark: builds a graph of N nodes (one label, one small int
 * property each, or none with --no-props) and N relationships, then
 * measures a synchronous checkpoint write, the loop's stall to fork the
 * asynchronous writer and the latency of writes applied while it runs,
 * the file's size, and loading it back.
 *
 *   checkpoint_bench [N] [--no-props] [dir]     (N defaults to 5000000) */
#include <inttypes.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uv.h>

#include "checkpoint/checkpoint.h"
#include "util/err.h"

/* The goal: no write stalls for longer than this. */
#define STALL_TARGET_US 10000

struct async_run {
	struct checkpoint_req req;
	struct graph *g;
	uv_idle_t idle;
	uint32_t key;
	uint64_t n, next, writes, max_write_ns, version;
	int status;
	bool done;
};

static double secs(uint64_t ns)
{
	return (double)ns / 1e9;
}

static void die(const char *what, int rv, const char *errmsg)
{
	fprintf(stderr, "checkpoint_bench: %s: %s: %s\n", what,
		graft_strerror(rv), errmsg);
	exit(1);
}

static void check(const char *what, int rv)
{
	if (rv != GRAFT_OK)
		die(what, rv, "");
}

/* The process's resident set and page tables (what fork copies), in KiB,
 * from /proc/self/status; 0 where that does not exist. */
static void proc_status(uint64_t *rss_kib, uint64_t *pte_kib)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");

	*rss_kib = *pte_kib = 0;
	if (f == NULL)
		return;
	while (fgets(line, sizeof line, f) != NULL) {
		sscanf(line, "VmRSS: %" SCNu64, rss_kib);
		sscanf(line, "VmPTE: %" SCNu64, pte_kib);
	}
	fclose(f);
}

static struct graph *build(uint64_t n, bool props)
{
	struct graph *g;
	uint32_t label, key, type;

	check("graph_new", graph_new(&g));
	check("intern", graph_token_intern(g, GRAPH_TOKEN_LABEL, "Person", 6,
					   &label));
	check("intern", graph_token_intern(g, GRAPH_TOKEN_PROPKEY, "n", 1, &key));
	check("intern", graph_token_intern(g, GRAPH_TOKEN_RELTYPE, "KNOWS", 5,
					   &type));
	for (uint64_t id = 0; id < n; id++) {
		struct graft_value v = graft_value_int((int64_t)(id % 1000));
		check("node", graph_node_create(g, id, 1 + id / 1000));
		check("label", graph_node_add_label(g, id, label, 1 + id / 1000));
		if (props)
			check("prop", graph_node_set_prop(g, id, key, &v,
							  1 + id / 1000));
	}
	for (uint64_t id = 0; id < n; id++)
		check("rel", graph_rel_create(g, id, type, id,
					      (id * 7919 + 1) % n,
					      1 + n / 1000 + id / 1000));
	return g;
}

/* Sets a property on count nodes spread over the graph, each likely on a
 * page not touched since the fork, and keeps the slowest. */
static void write_spread(struct async_run *run, int count)
{
	for (int i = 0; i < count; i++) {
		struct graft_value v = graft_value_int(-1);
		uint64_t id = (run->next += 104729) % run->n;
		uint64_t t0 = uv_hrtime(), dt;
		check("write", graph_node_set_prop(run->g, id, run->key, &v,
						   run->version));
		dt = uv_hrtime() - t0;
		if (dt > run->max_write_ns)
			run->max_write_ns = dt;
		run->writes++;
	}
}

/* While the child writes, the loop keeps applying. */
static void idle_cb(uv_idle_t *idle)
{
	write_spread(idle->data, 64);
}

static void done_cb(struct checkpoint_req *req, int status)
{
	struct async_run *run = req->data;

	run->status = status;
	run->done = true;
	uv_idle_stop(&run->idle);
	uv_close((uv_handle_t *)&run->idle, NULL);
}

int main(int argc, char **argv)
{
	char errmsg[GRAFT_ERRMSG_SIZE], tmpl[] = "/tmp/graft-ckp-bench-XXXXXX";
	const char *dir = NULL;
	uint64_t n = 5000000, t0, dt, txid, rss, pte;
	bool props = true;
	struct graph_stats st;
	struct async_run run = {0};
	struct graph *g, *h;
	struct stat sb;
	uv_loop_t loop;
	char path[4200];
	double ents;
	int rv;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--no-props") == 0)
			props = false;
		else if (argv[i][0] >= '0' && argv[i][0] <= '9')
			n = strtoull(argv[i], NULL, 10);
		else
			dir = argv[i];
	}
	if (n == 0) {
		fprintf(stderr, "usage: checkpoint_bench [N] [--no-props] [dir]\n");
		return 2;
	}
	if (dir == NULL && (dir = mkdtemp(tmpl)) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	ents = 2.0 * (double)n;

	t0 = uv_hrtime();
	g = build(n, props);
	graph_stats(g, &st);
	printf("graph: %" PRIu64 " nodes%s, %" PRIu64 " relationships, built "
	       "in %.2f s, %.1f MiB in the graph\n", n,
	       props ? " (1 label, 1 int property)" : " (1 label)", n,
	       secs(uv_hrtime() - t0), (double)st.bytes / 1048576.0);

	t0 = uv_hrtime();
	rv = checkpoint_write_sync(g, 1, 0, dir, errmsg);
	dt = uv_hrtime() - t0;
	if (rv != GRAFT_OK)
		die("checkpoint_write_sync", rv, errmsg);
	snprintf(path, sizeof path, "%s/checkpoint.%020d", dir, 1);
	if (stat(path, &sb) != 0) {
		perror(path);
		return 1;
	}
	printf("sync write:  %.2f s (%.1f M entities/s, %.0f MiB/s, with "
	       "fsync)\n", secs(dt), ents / 1e6 / secs(dt),
	       (double)sb.st_size / 1048576.0 / secs(dt));
	printf("file:        %.1f MiB, %.1f bytes per node+relationship\n",
	       (double)sb.st_size / 1048576.0, (double)sb.st_size / ents);

	check("graph_new", graph_new(&h));
	/* Into a fresh graph, as recovery does, before the heap has seen a
	 * big free. */
	t0 = uv_hrtime();
	rv = checkpoint_load_newest(dir, h, &txid, errmsg);
	dt = uv_hrtime() - t0;
	if (rv != GRAFT_OK)
		die("checkpoint_load_newest", rv, errmsg);
	graph_stats(h, &st);
	printf("load:        %.2f s (%.1f M entities/s), txid %" PRIu64
	       ", %" PRIu64 " nodes, %" PRIu64 " relationships\n",
	       secs(dt), ents / 1e6 / secs(dt), txid, st.nodes, st.rels);
	graph_free(h);
	/* What fork copies is what is mapped: give the loaded copy back. */
	malloc_trim(0);

	check("uv_loop_init", uv_loop_init(&loop));
	run.g = g;
	run.n = n;
	run.version = 2 + 2 * n / 1000;
	run.req.data = &run;
	uv_idle_init(&loop, &run.idle);
	run.idle.data = &run;
	/* The same writes without a checkpoint running, for comparison. */
	check("intern", graph_token_intern(g, GRAPH_TOKEN_PROPKEY, "b", 1,
					   &run.key));
	write_spread(&run, n < 1000000 ? (int)n : 1000000);
	printf("baseline:    slowest of %" PRIu64 " writes without a "
	       "checkpoint running %.3f ms\n", run.writes,
	       (double)run.max_write_ns / 1e6);
	run.writes = run.max_write_ns = 0;
	check("intern", graph_token_intern(g, GRAPH_TOKEN_PROPKEY, "w", 1,
					   &run.key));
	proc_status(&rss, &pte);
	t0 = uv_hrtime();
	rv = checkpoint_start(&loop, &run.req, g, 2, dir, done_cb);
	if (rv != GRAFT_OK)
		die("checkpoint_start", rv, run.req.errmsg);
	uv_idle_start(&run.idle, idle_cb);
	uv_run(&loop, UV_RUN_DEFAULT);
	if (run.status != GRAFT_OK)
		die("checkpoint (async)", run.status, run.req.errmsg);
	printf("async write: %.2f s; fork stall %.2f ms (target < %.0f ms: "
	       "%s) with %.0f MiB resident, %.0f KiB of page tables\n",
	       secs(uv_hrtime() - t0), run.req.fork_us / 1000.0,
	       STALL_TARGET_US / 1000.0,
	       run.req.fork_us < STALL_TARGET_US ? "met" : "MISSED",
	       rss / 1024.0, (double)pte);
	printf("             %" PRIu64 " writes applied meanwhile, slowest "
	       "%.3f ms (target < %.0f ms: %s)\n", run.writes,
	       (double)run.max_write_ns / 1e6, STALL_TARGET_US / 1000.0,
	       run.max_write_ns < STALL_TARGET_US * 1000ull ? "met" : "MISSED");
	uv_loop_close(&loop);
	graph_free(g);

	snprintf(path, sizeof path, "%s/checkpoint.%020d", dir, 2);
	unlink(path);
	if (dir == tmpl)
		rmdir(dir);
	return 0;
}
