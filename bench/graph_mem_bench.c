/* Memory per node and per relationship of the in-memory graph, against the
 * target of 64 bytes each (without properties, every structure included),
 * plus load time and scan throughput.
 *
 * Usage: graph_mem_bench [nodes [rels [ring|random]]]
 * (default 5000000 5000000 random). Exits 1 if a figure misses the target. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "graph/graph.h"
#include "util/err.h"

#define TARGET_BYTES 64.0

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Resident set size in bytes, from the second field of /proc/self/statm. */
static uint64_t rss(void)
{
	unsigned long size, resident;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f == NULL || fscanf(f, "%lu %lu", &size, &resident) != 2) {
		fprintf(stderr,
			"graph_mem_bench: cannot read /proc/self/statm\n");
		exit(2);
	}
	fclose(f);
	return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

static uint64_t heap(const struct graph *g)
{
	struct graph_stats s;

	graph_stats(g, &s);
	return s.bytes;
}

static void check(int rv, const char *what)
{
	if (rv != GRAFT_OK) {
		fprintf(stderr, "graph_mem_bench: %s: %s\n", what,
			graft_strerror(rv));
		exit(2);
	}
}

/* Prints one per-entity figure against the target; false if it misses. */
static bool report(const char *what, const char *source, uint64_t bytes,
		   uint64_t n)
{
	double per = n ? (double)bytes / (double)n : 0;
	bool ok = per <= TARGET_BYTES;

	printf("  %-13s %-14s %7.2f B   (target <= %.0f B)  %s\n", what, source,
	       per, TARGET_BYTES, ok ? "ok" : "OVER");
	return ok;
}

static void throughput(const char *what, uint64_t n, double secs)
{
	printf("  %-22s %10llu in %6.3f s  %7.1f M/s\n", what,
	       (unsigned long long)n, secs,
	       secs > 0 ? (double)n / secs / 1e6 : 0);
}

/* Scans run over the whole graph; each counts what it saw, so the loops
 * cannot be optimised away and the counts can be checked. */
static void scans(const struct graph *g, uint32_t label, uint32_t type,
		  uint64_t nodes, uint64_t rels)
{
	uint64_t pos, n, edges = 0;
	struct graph_expand it;
	double t;

	t = now();
	for (pos = 0, n = 0; graph_node_scan(g, &pos) != GRAPH_NO_ID; n++)
		;
	throughput("node scan", n, now() - t);
	t = now();
	for (pos = 0, n = 0; graph_label_scan(g, label, &pos) != GRAPH_NO_ID;
	     n++)
		;
	throughput("label scan", n, now() - t);
	t = now();
	for (pos = 0, n = 0; graph_rel_scan(g, &pos) != GRAPH_NO_ID; n++)
		;
	throughput("relationship scan", n, now() - t);
	t = now();
	for (pos = 0, n = 0; graph_type_scan(g, type, &pos) != GRAPH_NO_ID; n++)
		;
	throughput("type scan", n, now() - t);
	t = now();
	for (uint64_t id = 0; id < nodes; id++) {
		graph_expand_init(&it, g, id, GRAPH_OUT, GRAPH_NO_TOKEN);
		while (graph_expand_next(g, &it) != GRAPH_NO_ID)
			edges++;
	}
	throughput("expand OUT, all nodes", edges, now() - t);
	if (edges != rels) {
		fprintf(stderr, "graph_mem_bench: expanded %llu relationships "
			"of %llu\n", (unsigned long long)edges,
			(unsigned long long)rels);
		exit(2);
	}
}

int main(int argc, char **argv)
{
	uint64_t nodes = argc > 1 ? strtoull(argv[1], NULL, 10) : 5000000;
	uint64_t rels = argc > 2 ? strtoull(argv[2], NULL, 10) : 5000000;
	bool ring = argc > 3 && strcmp(argv[3], "ring") == 0;
	uint64_t rng = 0x9e3779b97f4a7c15ull, rss0, rss1, rss2, heap0, heap1,
		 heap2;
	uint32_t label, type;
	struct graph_stats st;
	struct graph *g;
	double t0, t1, t2;
	bool ok = true;

	if (nodes == 0 ||
	    (argc > 3 && !ring && strcmp(argv[3], "random") != 0)) {
		fprintf(stderr, "usage: graph_mem_bench [nodes [rels "
				"[ring|random]]]\n");
		return 2;
	}
	rss0 = rss();
	check(graph_new(&g), "graph_new");
	check(graph_token_intern(g, GRAPH_TOKEN_LABEL, "Person", 6, &label),
	      "interning a label");
	check(graph_token_intern(g, GRAPH_TOKEN_RELTYPE, "KNOWS", 5, &type),
	      "interning a type");
	heap0 = heap(g);

	t0 = now();
	for (uint64_t id = 0; id < nodes; id++) {
		check(graph_node_create(g, id, 1), "creating a node");
		check(graph_node_add_label(g, id, label, 1), "adding a label");
	}
	t1 = now();
	rss1 = rss();
	heap1 = heap(g);
	for (uint64_t id = 0; id < rels; id++) {
		uint64_t src = id % nodes, dst;
		if (ring) {
			dst = (src + 1) % nodes;
		} else {
			rng ^= rng << 13; /* xorshift64 */
			rng ^= rng >> 7;
			rng ^= rng << 17;
			dst = rng % nodes;
		}
		check(graph_rel_create(g, id, type, src, dst, 2),
		      "creating a relationship");
	}
	t2 = now();
	rss2 = rss();
	heap2 = heap(g);
	graph_stats(g, &st);

	printf("graph_mem_bench: %llu nodes (one label), %llu relationships "
	       "(one type, %s ends), no properties\n",
	       (unsigned long long)nodes, (unsigned long long)rels,
	       ring ? "ring" : "random");
	printf("slots: node %llu B, relationship %llu B\n",
	       (unsigned long long)st.node_bytes,
	       (unsigned long long)st.rel_bytes);
	printf("memory:\n");
	ok &= report("per node", "graph_stats", heap1 - heap0, nodes);
	ok &= report("per node", "RSS delta", rss1 - rss0, nodes);
	ok &= report("per rel", "graph_stats", heap2 - heap1, rels);
	ok &= report("per rel", "RSS delta", rss2 - rss1, rels);
	printf("  total heap %.1f MiB, RSS delta %.1f MiB\n",
	       (double)st.bytes / 1048576, (double)(rss2 - rss0) / 1048576);
	printf("load:\n");
	throughput("nodes + labels", nodes, t1 - t0);
	throughput("relationships", rels, t2 - t1);
	printf("scans:\n");
	scans(g, label, type, nodes, rels);
	graph_free(g);
	printf("result: %s\n", ok ? "within target" : "OVER TARGET");
	return ok ? 0 : 1;
}
