/* cypher_bench: the Cypher engine on a generated social graph — load through
 * batched UNWIND ... CREATE, indexed point lookups, 1- and 2-hop expansion,
 * a label count, an aggregation over every node and a MERGE-heavy write
 * batch — each beside its anchor: the same work done directly through the C
 * API of src/db/db.h in the same run (the storage's cost, so the difference
 * is the engine's own), and the goal where the issue sets one.
 *
 *   cypher_bench [--small] [--nodes N] [--rels N] [--batch N] [--secs S]
 *                [--workers N] [--rounds N] [--scaling-only] [--pin] [DIR]
 *
 * Defaults: 1,000,000 :Person nodes {id, name, age} and 5,000,000 :KNOWS
 * relationships between random ends, loaded 10,000 rows per statement and
 * commit (--batch); each read is measured for 3 s (--secs); --small is
 * 100,000 / 500,000. DIR defaults to ./cypher-bench-data (emptied first,
 * removed at the end).
 * Reads run one statement per read transaction (begin, run, pull every row,
 * close, roll back) on one core, the way an auto-commit query runs; writes
 * commit every batch durably. bench/cypher_anchor.sh runs redis-benchmark
 * GET beside it.
 * Read scaling: the point lookup and the 1-hop count on 1 thread, then on
 * --workers threads (default 2) at once, as the server runs them: each
 * statement and its rows on a worker holding the gate shared, its
 * transaction begun and rolled back on that worker, in its slot (since
 * 2026-12-06 a Bolt auto-commit read on a worker begins and ends there:
 * src/bolt/query.c "Transactions on workers"; until then the loop did
 * both, one at a time, which this benchmark stood for with a lock). The
 * threads live for the whole run, as a server's workers
 * do; the two phases of a round take turns in slices of half a second
 * (--secs of each), so that what the rest of the machine takes weighs on
 * both alike. Beside them, each round, the machine's own scaling: the same
 * phases of a loop of random reads and arithmetic on each thread's own
 * memory, sharing nothing (the anchor: what two threads can get here).
 * Each phase prints what the scheduler did to its threads (CPU time per
 * query, time waiting for a CPU, migrations, sleeps, preemptions). --rounds N repeats
 * all of it N times on the same graph, each round with the load average
 * beside it. --pin pins thread i to CPU i (the lone thread is each in
 * turn): not how the server runs its workers, a way to tell placement from
 * per-query cost. --scaling-only skips every other measurement. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "cypher/cypher.h"
#include "db/db.h"
#include "util/gate.h"
#include "util/log.h"
#include "util/slot.h"

#include "../tests/unit/tmpdir.h"
#include "bench_util.h"

#define LOOKUP_GOAL_US 10.0

/* Tokens of the generated graph, for the C API anchors. */
struct anchor_tokens {
	uint32_t person, knows, id, name, age;
};

struct readers;

struct cbench {
	uv_loop_t loop;
	struct dbms *dbms;
	struct cypher_engine *engine;
	struct db *db;
	uint64_t nodes, rels;
	double secs;  /* per read measurement */
	uint32_t batch; /* rows per load statement and commit */
	uint64_t rng;
	uint64_t *lat; /* ns per query of the current measurement */
	size_t cap_lat;
	struct graft_value id_params; /* {id: INT}, reused by every read */
	struct anchor_tokens tok;
	struct graft_gate gate; /* the engine's, as the server's */
	unsigned workers;
	unsigned rounds; /* of the read scaling */
	unsigned ncpus; /* online */
	bool scaling_only;
	bool pin; /* the read scaling's threads to CPUs */
	struct readers *readers; /* the read scaling's threads */
};

/* One measured series of reads. */
struct read_figures {
	double qps, mean_us, p50_us, p99_us, max_us;
	uint64_t queries, rows;
};

static uint64_t rng_next(struct cbench *b)
{
	/* splitmix64: deterministic across runs. */
	uint64_t z = (b->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void die_cypher(const char *what, const struct cypher_error *err)
{
	fprintf(stderr, "cypher_bench: %s: %s: %s\n", what, err->code,
		err->message);
	exit(1);
}

static void die_oom(void)
{
	fprintf(stderr, "cypher_bench: out of memory\n");
	exit(1);
}

static void set_flag_cb(void *arg)
{
	*(int *)arg = 1;
}

static void run_until(struct cbench *b, const int *flag)
{
	while (!*flag)
		if (uv_run(&b->loop, UV_RUN_ONCE) == 0 && !*flag)
			return;
}

/* Parameters ---------------------------------------------------------- */

/* A map from n keys to values (ownership of the values passes). */
static struct graft_value map_of(uint32_t n, const char *const *keys,
				 struct graft_value *values)
{
	struct graft_value m;

	if (graft_value_map(&m, n) != GRAFT_OK)
		die_oom();
	for (uint32_t i = 0; i < n; i++) {
		m.u.map->entries[i].key = graft_str_new(keys[i], strlen(keys[i]));
		if (m.u.map->entries[i].key == NULL)
			die_oom();
		m.u.map->entries[i].value = values[i];
	}
	graft_map_sort(m.u.map);
	return m;
}

static struct graft_value param1(const char *key, struct graft_value v)
{
	return map_of(1, &key, &v);
}

static struct graft_value node_row(struct cbench *b, uint64_t id)
{
	static const char *const keys[] = {"id", "name", "age"};
	struct graft_value v[3];
	char name[32];
	int n = snprintf(name, sizeof name, "person%llu",
			 (unsigned long long)id);

	v[0] = graft_value_int((int64_t)id);
	if (graft_value_string(&v[1], name, (size_t)n) != GRAFT_OK)
		die_oom();
	v[2] = graft_value_int((int64_t)(18 + rng_next(b) % 80));
	return map_of(3, keys, v);
}

static struct graft_value rel_row(struct cbench *b, uint64_t i)
{
	static const char *const keys[] = {"a", "b"};
	struct graft_value v[2];

	(void)i; /* random ends */
	v[0] = graft_value_int((int64_t)(rng_next(b) % b->nodes));
	v[1] = graft_value_int((int64_t)(rng_next(b) % b->nodes));
	return map_of(2, keys, v);
}

/* Statements ---------------------------------------------------------- */

static void commit_wait_cb(struct cypher_commit_req *req, int status)
{
	int *done = req->data;

	*done = status == GRAFT_OK ? 1 : -1;
}

static void commit(struct cbench *b, struct cypher_tx *tx)
{
	struct cypher_commit_req req;
	int done = 0;

	memset(&req, 0, sizeof req);
	req.data = &done;
	if (cypher_tx_commit(tx, &req, commit_wait_cb) != GRAFT_OK)
		die_cypher("commit", &req.error);
	run_until(b, &done);
	if (done != 1)
		die_cypher("commit", &req.error);
}

/* Runs q in tx and pulls every row; returns the row count and the first
 * column of the first row in *first (if an integer). */
static uint64_t pull_all(struct cypher_tx *tx, const char *q,
			 const struct graft_value *params, int64_t *first)
{
	const struct graft_value *row;
	struct cypher_result *r;
	struct cypher_error err;
	uint64_t n = 0;
	int rv;

	if (cypher_run(tx, q, strlen(q), params, &r, &err) != GRAFT_OK)
		die_cypher(q, &err);
	while ((rv = cypher_result_next(r, &row, &err)) == 1) {
		if (n++ == 0 && first != NULL && row[0].type == GRAFT_VALUE_INT)
			*first = row[0].u.i;
	}
	if (rv < 0)
		die_cypher(q, &err);
	cypher_result_close(r);
	return n;
}

static struct cypher_tx *begin(struct cbench *b, enum cypher_tx_mode mode)
{
	struct cypher_tx_options o = {.mode = mode};
	struct cypher_error err;
	struct cypher_tx *tx;

	if (cypher_tx_begin(b->engine, &o, &tx, &err) != GRAFT_OK)
		die_cypher("begin", &err);
	return tx;
}

/* One committed write statement. */
static void write_stmt(struct cbench *b, const char *q,
		       const struct graft_value *params)
{
	struct cypher_tx *tx = begin(b, CYPHER_TX_WRITE);

	pull_all(tx, q, params, NULL);
	commit(b, tx);
}

/* One read statement in its own read transaction, rolled back. */
static uint64_t read_stmt(struct cbench *b, const char *q,
			  const struct graft_value *params, int64_t *first)
{
	struct cypher_tx *tx = begin(b, CYPHER_TX_READ);
	uint64_t n = pull_all(tx, q, params, first);

	cypher_tx_rollback(tx);
	return n;
}

/* Load ------------------------------------------------------------------ */

/* Row i of a load: a MAP value. */
typedef struct graft_value (*row_fn)(struct cbench *b, uint64_t i);

/* Runs q with $rows in batches of b->batch rows made by fn, committing each;
 * returns entities per second (building the parameters not counted). */
static double load(struct cbench *b, const char *q, uint64_t total, row_fn fn)
{
	uint64_t done = 0, spent = 0;

	while (done < total) {
		uint32_t n = (uint32_t)(total - done < b->batch ? total - done
								: b->batch);
		struct graft_value rows, params;
		uint64_t t;

		if (graft_value_list(&rows, n) != GRAFT_OK)
			die_oom();
		for (uint32_t i = 0; i < n; i++)
			rows.u.list->items[i] = fn(b, done + i);
		params = param1("rows", rows);
		t = uv_hrtime();
		write_stmt(b, q, &params);
		spent += uv_hrtime() - t;
		graft_value_free(&params);
		done += n;
	}
	return (double)total / ((double)spent / 1e9);
}

/* Reads ----------------------------------------------------------------- */

static void lat_reserve(struct cbench *b, size_t n)
{
	if (n <= b->cap_lat)
		return;
	b->cap_lat = n * 2;
	b->lat = realloc(b->lat, b->cap_lat * sizeof *b->lat);
	if (b->lat == NULL)
		die_oom();
}

/* A query: one statement (Cypher) or its C API anchor, for a node id. */
typedef uint64_t (*query_fn)(struct cbench *b, const void *arg, int64_t id);

/* Runs fn with random node ids for b->secs seconds (at least 100 times),
 * one at a time on this core, each timed. */
static void measure(struct cbench *b, query_fn fn, const void *arg,
		    struct read_figures *f)
{
	uint64_t start = uv_hrtime(), stop = start + (uint64_t)(b->secs * 1e9);
	uint64_t elapsed;
	size_t n = 0;

	memset(f, 0, sizeof *f);
	for (;;) {
		uint64_t t = uv_hrtime();

		if (n >= 100 && t >= stop)
			break;
		lat_reserve(b, n + 1);
		f->rows += fn(b, arg, (int64_t)(rng_next(b) % b->nodes));
		b->lat[n++] = uv_hrtime() - t;
	}
	elapsed = uv_hrtime() - start;
	bench_sort(b->lat, n);
	f->queries = n;
	f->qps = (double)n / ((double)elapsed / 1e9);
	f->mean_us = (double)elapsed / (double)n / 1e3;
	f->p50_us = (double)bench_pct(b->lat, n, 0.5) / 1e3;
	f->p99_us = (double)bench_pct(b->lat, n, 0.99) / 1e3;
	f->max_us = (double)b->lat[n - 1] / 1e3;
}

/* The statement arg with $id, in its own read transaction; the rows it
 * returned, or the count it returned if it is a count. */
static uint64_t cypher_by_id(struct cbench *b, const void *arg, int64_t id)
{
	int64_t first = 0;
	uint64_t n;

	b->id_params.u.map->entries[0].value.u.i = id;
	n = read_stmt(b, arg, &b->id_params, &first);
	return strstr(arg, "count(") != NULL ? (uint64_t)first : n;
}

/* Nodes depth KNOWS hops out of node (1 for depth 0). */
static uint64_t count_hops(struct db_tx *tx, uint32_t knows, uint64_t node,
			   int depth)
{
	struct db_cursor c;
	uint64_t n = 0, rel;

	if (depth == 0)
		return 1;
	db_cursor_expand(&c, tx, node, GRAPH_OUT, knows);
	while ((rel = db_cursor_next(&c)) != GRAPH_NO_ID) {
		struct graph_rel_ends ends;

		if (db_tx_rel_ends(tx, rel, &ends))
			n += count_hops(tx, knows, ends.dst, depth - 1);
	}
	return n;
}

static struct db_tx *anchor_begin(struct cbench *b)
{
	struct db_tx *tx;
	int rv = db_tx_begin(b->db, DB_TX_READ_ONLY, &tx);

	if (rv != GRAFT_OK) {
		fprintf(stderr, "cypher_bench: db_tx_begin: %s\n",
			graft_strerror(rv));
		exit(1);
	}
	return tx;
}

/* The anchors: the same reads through src/db/db.h, one read-only
 * transaction each. arg points at the depth: 0 reads the name of the node
 * found by the index, 1 and 2 count the nodes that many KNOWS hops out. */
static uint64_t anchor_by_id(struct cbench *b, const void *arg, int64_t id)
{
	int depth = *(const int *)arg;
	const struct anchor_tokens *t = &b->tok;
	struct graft_value v = graft_value_int(id);
	struct db_tx *tx = anchor_begin(b);
	struct db_cursor c;
	uint64_t node, n = 0;

	db_cursor_index(&c, tx, t->person, t->id, &v);
	while ((node = db_cursor_next(&c)) != GRAPH_NO_ID)
		n += depth == 0 ? db_tx_node_prop(tx, node, t->name) != NULL
				: count_hops(tx, t->knows, node, depth);
	db_tx_rollback(tx);
	return n;
}

static void print_read(const char *name, const struct read_figures *f)
{
	printf("  %-14s %8.0f queries/s  mean %6.2f us  p50 %6.2f us  "
	       "p99 %7.2f us  max %8.1f us  (%.2f per query)\n",
	       name, f->qps, f->mean_us, f->p50_us, f->p99_us, f->max_us,
	       f->queries ? (double)f->rows / (double)f->queries : 0.0);
}

/* One read by id beside its C API anchor. */
static void read_pair(struct cbench *b, const char *title, const char *q,
		      int depth, struct read_figures *out)
{
	struct read_figures f, a;

	printf("%s: %s\n", title, q);
	measure(b, cypher_by_id, q, &f);
	print_read("cypher", &f);
	measure(b, anchor_by_id, &depth, &a);
	print_read("anchor: C API", &a);
	printf("  engine's own cost: %.2f us per query (mean), %.2f us at p50\n",
	       f.mean_us - a.mean_us, f.p50_us - a.p50_us);
	if (out != NULL)
		*out = f;
}

/* Read scaling ---------------------------------------------------------- */

/* The calling thread's scheduling counts (/proc/thread-self/sched and
 * schedstat): over a phase they tell whether a per-query cost that moved
 * did so because the thread waited for a CPU, moved between CPUs or slept
 * (on a lock), or because each query cost more
 * CPU time (the code, the caches). */
struct thread_sched {
	uint64_t wait_ns;       /* runnable, waiting for a CPU */
	uint64_t migrations;    /* moved to another CPU */
	uint64_t vol, invol;    /* context switches: slept, preempted */
};

static void thread_sched_read(struct thread_sched *s)
{
	char line[256];
	unsigned long long run, wait;
	FILE *f = fopen("/proc/thread-self/schedstat", "r");

	memset(s, 0, sizeof *s);
	if (f != NULL) {
		if (fscanf(f, "%llu %llu", &run, &wait) == 2)
			s->wait_ns = wait;
		fclose(f);
	}
	f = fopen("/proc/thread-self/sched", "r");
	if (f == NULL)
		return;
	while (fgets(line, sizeof line, f) != NULL) {
		const char *colon = strchr(line, ':');
		unsigned long long v;

		if (colon == NULL || sscanf(colon + 1, "%llu", &v) != 1)
			continue;
		if (strncmp(line, "se.nr_migrations", 16) == 0)
			s->migrations = v;
		else if (strncmp(line, "nr_voluntary_switches", 21) == 0)
			s->vol = v;
		else if (strncmp(line, "nr_involuntary_switches", 23) == 0)
			s->invol = v;
	}
	fclose(f);
}

static void thread_sched_since(struct thread_sched *s,
			       const struct thread_sched *before)
{
	s->wait_ns -= before->wait_ns;
	s->migrations -= before->migrations;
	s->vol -= before->vol;
	s->invol -= before->invol;
}

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* What one thread did over the slices of one phase. */
struct reader_acc {
	uint64_t queries, cpu_ns;
	struct thread_sched sched;
};

enum reader_phase { PHASE_LONE, PHASE_ALL, PHASES };

/* What the read scaling's threads run: a statement, or the machine's own
 * scaling (below). */
enum reader_work { WORK_CYPHER, WORK_MACHINE };

/* The read scaling's threads, kept over every phase and round as a server
 * keeps its workers: a thread takes a slot (util/slot.h) on first use and
 * keeps it, so new threads for every phase would soon share slots. */
struct reader {
	struct cbench *b;
	unsigned index;
	uint64_t rng;
	int cpu; /* the CPU it is pinned to, -1: none */
	uint32_t *table; /* WORK_MACHINE's own memory */
	struct reader_acc acc[PHASES];
	pthread_t th;
	/* each thread writes its own every query: two readers in one cache
	 * line would move it between the cores on every query */
	char pad[GRAFT_CACHE_LINE];
};

struct readers {
	pthread_mutex_t mu;
	pthread_cond_t go, done;
	unsigned generation; /* of the slice to run */
	unsigned running;    /* threads still in it */
	bool quit;
	/* the slice: threads [first, first + count) mod n run work (q) into
	 * acc[phase] until stop_ns */
	unsigned first, count;
	enum reader_phase phase;
	enum reader_work work;
	const char *q;
	uint64_t stop_ns;
	unsigned n;
	struct reader *r;
};

static uint64_t reader_rand(struct reader *r)
{
	r->rng = r->rng * 6364136223846793005ull + 1442695040888963407ull;
	return r->rng >> 33;
}

/* One read as a Bolt worker runs an auto-commit read: it begins the
 * transaction, runs the statement and its rows holding the gate, and ends
 * it (cypher_tx_end_read, a rollback), all on the worker. */
static void threaded_read(struct reader *r, const char *q,
			  struct graft_value *params, struct reader_acc *acc)
{
	struct cbench *b = r->b;
	struct cypher_tx *tx;
	uint64_t txid;

	params->u.map->entries[0].value.u.i =
		(int64_t)(reader_rand(r) % b->nodes);
	tx = begin(b, CYPHER_TX_READ);
	graft_gate_enter_shared(&b->gate);
	pull_all(tx, q, params, NULL);
	graft_gate_leave(&b->gate);
	if (!cypher_tx_end_read(tx, &txid))
		cypher_tx_rollback(tx);
	acc->queries++;
}

/* The machine's own scaling, the anchor of the ratio: work of the kind a
 * point read does (dependent random reads missing the caches, integer
 * work) on memory of the thread's own, so nothing is shared and nothing
 * waits. Two threads fall short of 2x here only for what the machine
 * does: the two vCPUs placed on one host core's hyperthreads, the shared
 * L3, a neighbour. */
#define MACHINE_TABLE (4u << 20) /* 16 MiB of uint32, a permutation cycle */

static void machine_table(struct reader *r)
{
	uint32_t *t = malloc(MACHINE_TABLE * sizeof *t);

	if (t == NULL)
		die_oom();
	/* Sattolo's shuffle: one cycle through every entry */
	for (uint32_t i = 0; i < MACHINE_TABLE; i++)
		t[i] = i;
	for (uint32_t i = MACHINE_TABLE - 1; i > 0; i--) {
		uint32_t j = (uint32_t)(reader_rand(r) % i), x = t[i];

		t[i] = t[j];
		t[j] = x;
	}
	r->table = t;
}

static void machine_read(struct reader *r, struct reader_acc *acc)
{
	uint32_t at = (uint32_t)(reader_rand(r) % MACHINE_TABLE);
	uint64_t h = at;

	for (int i = 0; i < 4; i++)
		at = r->table[at];
	for (int i = 0; i < 200; i++)
		h = (h ^ (h >> 29)) * 0xbf58476d1ce4e5b9ull + (uint64_t)i;
	r->rng ^= h & 1;
	acc->queries += at != UINT32_MAX;
}

static void reader_slice(struct readers *rs, struct reader *r,
			 struct graft_value *params)
{
	struct reader_acc *acc = &r->acc[rs->phase];
	struct thread_sched before, after;
	uint64_t cpu;

	thread_sched_read(&before);
	cpu = thread_cpu_ns();
	while (uv_hrtime() < rs->stop_ns) {
		if (rs->work == WORK_MACHINE)
			machine_read(r, acc);
		else
			threaded_read(r, rs->q, params, acc);
	}
	acc->cpu_ns += thread_cpu_ns() - cpu;
	thread_sched_read(&after);
	thread_sched_since(&after, &before);
	acc->sched.wait_ns += after.wait_ns;
	acc->sched.migrations += after.migrations;
	acc->sched.vol += after.vol;
	acc->sched.invol += after.invol;
}

static void *reader_main(void *arg)
{
	struct reader *r = arg;
	struct readers *rs = r->b->readers;
	struct graft_value params = param1("id", graft_value_int(0));
	unsigned seen = 0;

	if (r->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(r->cpu, &set);
		if (pthread_setaffinity_np(pthread_self(), sizeof set, &set))
			fprintf(stderr, "cypher_bench: cannot pin to CPU %d\n",
				r->cpu);
	}
	pthread_mutex_lock(&rs->mu);
	for (;;) {
		bool mine;

		while (!rs->quit && rs->generation == seen)
			pthread_cond_wait(&rs->go, &rs->mu);
		if (rs->quit)
			break;
		seen = rs->generation;
		mine = (r->index + rs->n - rs->first) % rs->n < rs->count;
		if (!mine)
			continue;
		pthread_mutex_unlock(&rs->mu);
		reader_slice(rs, r, &params);
		pthread_mutex_lock(&rs->mu);
		if (--rs->running == 0)
			pthread_cond_signal(&rs->done);
	}
	pthread_mutex_unlock(&rs->mu);
	graft_value_free(&params);
	free(r->table);
	return NULL;
}

static void readers_start(struct cbench *b)
{
	struct readers *rs = calloc(1, sizeof *rs);

	if (rs == NULL || (rs->r = calloc(b->workers, sizeof *rs->r)) == NULL)
		die_oom();
	b->readers = rs;
	rs->n = b->workers;
	pthread_mutex_init(&rs->mu, NULL);
	pthread_cond_init(&rs->go, NULL);
	pthread_cond_init(&rs->done, NULL);
	for (unsigned i = 0; i < rs->n; i++) {
		rs->r[i] = (struct reader){
			.b = b, .index = i, .rng = 7919 * (i + 1),
			.cpu = b->pin ? (int)(i % b->ncpus) : -1};
		machine_table(&rs->r[i]);
		if (pthread_create(&rs->r[i].th, NULL, reader_main,
				   &rs->r[i]) != 0)
			die_oom();
	}
}

static void readers_stop(struct cbench *b)
{
	struct readers *rs = b->readers;

	if (rs == NULL)
		return;
	pthread_mutex_lock(&rs->mu);
	rs->quit = true;
	pthread_cond_broadcast(&rs->go);
	pthread_mutex_unlock(&rs->mu);
	for (unsigned i = 0; i < rs->n; i++)
		pthread_join(rs->r[i].th, NULL);
	pthread_cond_destroy(&rs->go);
	pthread_cond_destroy(&rs->done);
	pthread_mutex_destroy(&rs->mu);
	free(rs->r);
	free(rs);
	b->readers = NULL;
}

/* Runs one slice of ns on count threads from first; its wall time. */
static uint64_t readers_slice(struct readers *rs, enum reader_phase phase,
			      unsigned first, unsigned count, uint64_t ns)
{
	uint64_t start = uv_hrtime();

	pthread_mutex_lock(&rs->mu);
	rs->phase = phase;
	rs->first = first;
	rs->count = count;
	rs->running = count;
	rs->stop_ns = start + ns;
	rs->generation++;
	pthread_cond_broadcast(&rs->go);
	while (rs->running > 0)
		pthread_cond_wait(&rs->done, &rs->mu);
	pthread_mutex_unlock(&rs->mu);
	return uv_hrtime() - start;
}

/* One phase of the read scaling, over its slices. */
struct phase {
	double qps;     /* queries per second of wall time, all threads */
	double per_cpu; /* queries per second of CPU time the threads had */
	double cpu_ns_per_query;
	double wait_share; /* of the phase, on average per thread, runnable
			    * but waiting for a CPU */
	uint64_t queries, migrations, vol, invol;
};

static void phase_sum(const struct readers *rs, enum reader_phase ph,
		      unsigned threads, uint64_t wall_ns, struct phase *p)
{
	uint64_t cpu = 0, wait = 0;

	memset(p, 0, sizeof *p);
	for (unsigned i = 0; i < rs->n; i++) {
		const struct reader_acc *a = &rs->r[i].acc[ph];

		p->queries += a->queries;
		p->migrations += a->sched.migrations;
		p->vol += a->sched.vol;
		p->invol += a->sched.invol;
		cpu += a->cpu_ns;
		wait += a->sched.wait_ns;
	}
	p->per_cpu = cpu > 0 ? (double)p->queries / ((double)cpu / 1e9) : 0;
	p->cpu_ns_per_query = p->queries ? (double)cpu / (double)p->queries : 0;
	p->wait_share = wall_ns ? (double)wait / threads / (double)wall_ns : 0;
	p->qps = wall_ns ? (double)p->queries / ((double)wall_ns / 1e9) : 0;
}

/* Both phases of one round: --secs of one thread alone and --secs of all
 * of them, in slices of half a second taken in turn (lone, all, all, lone,
 * ...), so that what the machine gives comes and goes over both alike
 * rather than over one phase. The lone thread is each thread in turn
 * (pinned: each CPU). */
static void read_phases(struct cbench *b, enum reader_work work,
			const char *q, unsigned round, struct phase *lone,
			struct phase *all)
{
	struct readers *rs = b->readers;
	unsigned slices = (unsigned)(b->secs / 0.5 + 0.5);
	uint64_t ns, wall[PHASES] = {0, 0};

	if (slices == 0)
		slices = 1;
	ns = (uint64_t)(b->secs * 1e9) / slices;
	rs->work = work;
	rs->q = q;
	for (unsigned i = 0; i < rs->n; i++)
		memset(rs->r[i].acc, 0, sizeof rs->r[i].acc);
	for (unsigned s = 0; s < slices; s++) {
		bool lone_first = s % 2 == 0;

		for (int k = 0; k < 2; k++) {
			if (lone_first == (k == 0))
				wall[PHASE_LONE] += readers_slice(
					rs, PHASE_LONE, (round + s) % rs->n, 1,
					ns);
			else
				wall[PHASE_ALL] += readers_slice(
					rs, PHASE_ALL, 0, rs->n, ns);
		}
	}
	phase_sum(rs, PHASE_LONE, 1, wall[PHASE_LONE], lone);
	phase_sum(rs, PHASE_ALL, rs->n, wall[PHASE_ALL], all);
}

static double load_average(void)
{
	double avg[1];

	return getloadavg(avg, 1) == 1 ? avg[0] : -1;
}

/* What the scheduler did to a phase, per 1,000 queries. */
static void print_phase(const char *what, const struct phase *p)
{
	double k = p->queries ? 1000.0 / (double)p->queries : 0;

	printf("  %s: %.0f ns CPU per query, waited for a CPU %.1f %% of the "
	       "phase, per 1,000 queries %.2f migrations, %.2f sleeps, "
	       "%.2f preemptions\n",
	       what, p->cpu_ns_per_query, p->wait_share * 100,
	       (double)p->migrations * k, (double)p->vol * k,
	       (double)p->invol * k);
}

/* The machine's own scaling this round, the anchor beside the reads'. */
static double machine_scaling(struct cbench *b, unsigned round)
{
	struct phase lone, all;

	read_phases(b, WORK_MACHINE, NULL, round, &lone, &all);
	printf("machine scaling (anchor: random reads and arithmetic on each "
	       "thread's own memory): 1 thread %.0f/s, %u threads %.0f/s: "
	       "%.2fx, per CPU second %.2f of it, load average %.2f\n",
	       lone.qps, b->workers, all.qps, all.qps / lone.qps,
	       all.per_cpu / lone.per_cpu, load_average());
	print_phase("1 thread", &lone);
	print_phase("all threads", &all);
	printf("SCALING_machine %.2f\n", all.qps / lone.qps);
	return all.qps / lone.qps;
}

static void read_scaling(struct cbench *b, const char *title, const char *q,
			 unsigned round, double machine)
{
	struct phase p1, pn;
	double one, many, one_cpu, many_cpu;

	read_phases(b, WORK_CYPHER, q, round, &p1, &pn);
	one = p1.qps;
	many = pn.qps;
	one_cpu = p1.per_cpu;
	many_cpu = pn.per_cpu;
	printf("read scaling, %s: 1 thread %.0f queries/s, %u threads %.0f "
	       "queries/s: %.2fx (goal >= 1.7x with 2; the machine's "
	       "%.2fx), load average %.2f\n",
	       title, one, b->workers, many, many / one, machine,
	       load_average());
	/* 1.00: a thread does as much per CPU second beside the others as
	 * alone; the scaling a machine with the cores free would show,
	 * less what the threads share */
	printf("  per CPU second: 1 thread %.0f queries, %u threads %.0f "
	       "queries: %.2f of it\n",
	       one_cpu, b->workers, many_cpu, many_cpu / one_cpu);
	print_phase("1 thread", &p1);
	print_phase("all threads", &pn);
	printf("SCALING_%s %.2f\n", title, many / one);
	printf("CPU_EFFICIENCY_%s %.2f\n", title, many_cpu / one_cpu);
}

/* A read's begin and rollback alone: an empty read transaction on one
 * thread, ns each. What a worker spends per auto-commit read besides the
 * statement, or the loop for a read it runs itself (and for a text known
 * to write); until 2026-12-06 the loop's for every read, the serial part
 * that bounded the scaling. The best of windows of 10,000
 * pairs over a third of --secs: what other processes take from the core
 * comes in bursts, and the least a window took is the code's own cost. */
static void tx_share(struct cbench *b)
{
	double best_begin = 0, best_rollback = 0;
	uint64_t n = 0, stop = uv_hrtime() + (uint64_t)(b->secs * 1e9 / 3);

	while (uv_hrtime() < stop) {
		uint64_t in_begin = 0, in_rollback = 0;

		for (int i = 0; i < 10000; i++) {
			uint64_t t0 = uv_hrtime(), t1, t2;
			struct cypher_tx *tx = begin(b, CYPHER_TX_READ);

			t1 = uv_hrtime();
			cypher_tx_rollback(tx);
			t2 = uv_hrtime();
			in_begin += t1 - t0;
			in_rollback += t2 - t1;
		}
		if (n == 0 || in_begin + in_rollback <
				      (best_begin + best_rollback) * 10000) {
			best_begin = (double)in_begin / 10000;
			best_rollback = (double)in_rollback / 10000;
		}
		n += 10000;
	}
	/* each interval holds one clock read: the figures include it */
	printf("a read's begin and rollback: begin %.0f ns, rollback %.0f ns "
	       "(one thread, best window of 10,000 of %llu pairs, each "
	       "timed with one clock read), load average %.2f\n",
	       best_begin, best_rollback, (unsigned long long)n,
	       load_average());
	printf("LOOP_SHARE_NS %.0f\n", best_begin + best_rollback);
}

/* Scans ----------------------------------------------------------------- */

/* Best of three runs of q (ms); *rows gets its row count. */
static double best_of_3(struct cbench *b, const char *q, uint64_t *rows)
{
	double best = 0;

	for (int i = 0; i < 3; i++) {
		uint64_t t = uv_hrtime();
		double ms;

		*rows = read_stmt(b, q, NULL, NULL);
		ms = (double)(uv_hrtime() - t) / 1e6;
		if (i == 0 || ms < best)
			best = ms;
	}
	return best;
}

/* The anchor of both scans: every :Person through db_cursor_label, reading
 * age into a histogram when with_age. Best of three, ms. */
static double anchor_scan(struct cbench *b, bool with_age)
{
	const struct anchor_tokens *t = &b->tok;
	double best = 0;

	for (int i = 0; i < 3; i++) {
		uint64_t start = uv_hrtime(), node, n = 0, hist[128] = {0};
		struct db_tx *tx = anchor_begin(b);
		struct db_cursor c;
		double ms;

		db_cursor_label(&c, tx, t->person);
		while ((node = db_cursor_next(&c)) != GRAPH_NO_ID) {
			const struct graft_value *v =
				with_age ? db_tx_node_prop(tx, node, t->age)
					 : NULL;

			n++;
			if (v != NULL && v->type == GRAFT_VALUE_INT)
				hist[(uint64_t)v->u.i & 127]++;
		}
		db_tx_rollback(tx);
		ms = (double)(uv_hrtime() - start) / 1e6;
		if (i == 0 || ms < best)
			best = ms;
		if (n != b->nodes && !with_age)
			printf("  (anchor counted %llu nodes)\n",
			       (unsigned long long)n);
	}
	return best;
}

static void scan_pair(struct cbench *b, const char *q, bool with_age)
{
	uint64_t rows;
	double ms = best_of_3(b, q, &rows), anchor = anchor_scan(b, with_age);

	printf("%s\n  cypher %9.1f ms  (%.1f M nodes/s, %llu rows)\n"
	       "  anchor: C API %6.1f ms  (%.1f M nodes/s)\n",
	       q, ms, (double)b->nodes / ms / 1e3, (unsigned long long)rows,
	       anchor, (double)b->nodes / anchor / 1e3);
}

/* MERGE ----------------------------------------------------------------- */

/* Batches of size random ids in [0, 2 × nodes): about half exist. */
static void merge_batches(struct cbench *b, int batches, uint32_t size)
{
	static const char q[] = "UNWIND $ids AS id MERGE (p:Person {id: id}) "
				"ON CREATE SET p.new = true";
	uint64_t spent = 0, before = 0, after = 0;
	int64_t count = 0;

	read_stmt(b, "MATCH (p:Person) RETURN count(*)", NULL, &count);
	before = (uint64_t)count;
	for (int i = 0; i < batches; i++) {
		struct graft_value ids, params;
		uint64_t t;

		if (graft_value_list(&ids, size) != GRAFT_OK)
			die_oom();
		for (uint32_t j = 0; j < size; j++)
			ids.u.list->items[j] = graft_value_int(
				(int64_t)(rng_next(b) % (2 * b->nodes)));
		params = param1("ids", ids);
		t = uv_hrtime();
		write_stmt(b, q, &params);
		spent += uv_hrtime() - t;
		graft_value_free(&params);
	}
	read_stmt(b, "MATCH (p:Person) RETURN count(*)", NULL, &count);
	after = (uint64_t)count;
	printf("%s\n  %d batches of %u: %.0f merges/s (%.1f ms per batch, "
	       "%llu nodes created)\n",
	       q, batches, size,
	       (double)batches * size / ((double)spent / 1e9),
	       (double)spent / 1e6 / batches,
	       (unsigned long long)(after - before));
}

/* Setup and main ---------------------------------------------------------- */

static void open_engine(struct cbench *b, const char *dir)
{
	struct dbms_options o = {0};
	struct cypher_engine_options eo = {0};
	char errmsg[GRAFT_ERRMSG_SIZE];

	if (uv_loop_init(&b->loop) != 0 ||
	    graft_gate_init(&b->gate, &b->loop) != GRAFT_OK)
		exit(1);
	eo.gate = &b->gate;
	o.data_dir = dir;
	o.db.rotation_size = 256ull << 20;
	o.db.retention.kind = GRAFT_RETAIN_ALL;
	if (dbms_open(&b->loop, &o, &b->dbms, errmsg) != GRAFT_OK) {
		fprintf(stderr, "cypher_bench: %s\n", errmsg);
		exit(1);
	}
	if (cypher_engine_new(b->dbms, &eo, &b->engine) != GRAFT_OK) {
		fprintf(stderr, "cypher_bench: cypher_engine_new failed\n");
		exit(1);
	}
	b->db = dbms_get(b->dbms, dbms_default_db(b->dbms));
	b->id_params = param1("id", graft_value_int(0));
}

/* After the load, when every token exists. */
static void find_tokens(struct cbench *b)
{
	struct anchor_tokens *t = &b->tok;

	db_token(b->db, GRAPH_TOKEN_LABEL, "Person", 6, &t->person);
	db_token(b->db, GRAPH_TOKEN_RELTYPE, "KNOWS", 5, &t->knows);
	db_token(b->db, GRAPH_TOKEN_PROPKEY, "id", 2, &t->id);
	db_token(b->db, GRAPH_TOKEN_PROPKEY, "name", 4, &t->name);
	db_token(b->db, GRAPH_TOKEN_PROPKEY, "age", 3, &t->age);
}

static void close_engine(struct cbench *b)
{
	int done = 0;

	cypher_engine_free(b->engine);
	dbms_close(b->dbms, set_flag_cb, &done);
	run_until(b, &done);
	graft_gate_close(&b->gate, NULL);
	uv_run(&b->loop, UV_RUN_DEFAULT);
	uv_loop_close(&b->loop);
	graft_value_free(&b->id_params);
	free(b->lat);
}

static void load_graph(struct cbench *b)
{
	uint64_t t;
	double rate;

	rate = load(b, "UNWIND $rows AS r CREATE (:Person {id: r.id, "
		       "name: r.name, age: r.age})",
		    b->nodes, node_row);
	printf("load nodes:   %9.0f nodes/s  (UNWIND $rows CREATE, "
	       "%u per commit)\n", rate, b->batch);
	t = uv_hrtime();
	write_stmt(b, "CREATE INDEX person_id FOR (p:Person) ON (p.id)", NULL);
	printf("index :Person(id): %.2f s to build over %llu nodes\n",
	       (double)(uv_hrtime() - t) / 1e9, (unsigned long long)b->nodes);
	rate = load(b, "UNWIND $rows AS r MATCH (a:Person {id: r.a}), "
		       "(b:Person {id: r.b}) CREATE (a)-[:KNOWS]->(b)",
		    b->rels, rel_row);
	printf("load rels:    %9.0f rels/s   (UNWIND $rows MATCH MATCH "
	       "CREATE, %u per commit)\n", rate, b->batch);
}

static int parse_args(struct cbench *b, int argc, char **argv,
		      const char **dir)
{
	b->nodes = 1000000;
	b->rels = 5000000;
	b->secs = 3.0;
	b->batch = 10000;
	b->workers = 2;
	b->rounds = 1;
	b->ncpus = (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
	if (b->ncpus == 0)
		b->ncpus = 1;
	*dir = "./cypher-bench-data";
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--small") == 0) {
			b->nodes = 100000;
			b->rels = 500000;
		} else if (strcmp(argv[i], "--nodes") == 0 && i + 1 < argc) {
			b->nodes = strtoull(argv[++i], NULL, 10);
		} else if (strcmp(argv[i], "--rels") == 0 && i + 1 < argc) {
			b->rels = strtoull(argv[++i], NULL, 10);
		} else if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc) {
			b->batch = (uint32_t)strtoul(argv[++i], NULL, 10);
		} else if (strcmp(argv[i], "--secs") == 0 && i + 1 < argc) {
			b->secs = strtod(argv[++i], NULL);
		} else if (strcmp(argv[i], "--workers") == 0 && i + 1 < argc) {
			b->workers = (unsigned)strtoul(argv[++i], NULL, 10);
		} else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc) {
			b->rounds = (unsigned)strtoul(argv[++i], NULL, 10);
		} else if (strcmp(argv[i], "--scaling-only") == 0) {
			b->scaling_only = true;
		} else if (strcmp(argv[i], "--pin") == 0) {
			b->pin = true;
		} else if (argv[i][0] != '-') {
			*dir = argv[i];
		} else {
			fprintf(stderr, "usage: cypher_bench [--small] "
					"[--nodes N] [--rels N] [--batch N] "
					"[--secs S] [--workers N] "
					"[--rounds N] [--scaling-only] [--pin] "
					"[DIR]\n");
			return -1;
		}
	}
	return b->nodes > 0 && b->batch > 0 && b->workers > 0 && b->rounds > 0
		       ? 0
		       : -1;
}

int main(int argc, char **argv)
{
	struct cbench b;
	struct read_figures lookup;
	const char *dir;

	memset(&b, 0, sizeof b);
	if (parse_args(&b, argc, argv, &dir) != 0)
		return 2;
	graft_log_open(NULL, GRAFT_LOG_WARN, true, NULL);
	if (bench_fresh_dir("cypher_bench", dir) != 0)
		return 1;
	open_engine(&b, dir);
	printf("graph: %llu :Person nodes, %llu :KNOWS relationships\n",
	       (unsigned long long)b.nodes, (unsigned long long)b.rels);
	load_graph(&b);
	find_tokens(&b);
	tx_share(&b);
	readers_start(&b);
	for (unsigned i = 0; i < b.rounds; i++) {
		double machine = machine_scaling(&b, i);

		read_scaling(&b, "lookup",
			     "MATCH (p:Person {id: $id}) RETURN p.name", i,
			     machine);
		read_scaling(&b, "1hop", "MATCH (p:Person {id: $id})-[:KNOWS]->"
					 "(f) RETURN count(f)", i, machine);
	}
	readers_stop(&b);
	if (b.scaling_only)
		goto out;
	read_pair(&b, "point lookup",
		  "MATCH (p:Person {id: $id}) RETURN p.name", 0, &lookup);
	printf("  goal: engine's own cost <= %.0f us per lookup: %s "
	       "(%.2f us per lookup, statement and transaction included)\n",
	       LOOKUP_GOAL_US, lookup.mean_us <= LOOKUP_GOAL_US ? "met"
								: "NOT met",
	       lookup.mean_us);
	read_pair(&b, "1-hop",
		  "MATCH (p:Person {id: $id})-[:KNOWS]->(f) RETURN count(f)",
		  1, NULL);
	read_pair(&b, "2-hop",
		  "MATCH (p:Person {id: $id})-[:KNOWS]->()-[:KNOWS]->(f) "
		  "RETURN count(f)",
		  2, NULL);
	scan_pair(&b, "MATCH (p:Person) RETURN count(*)", false);
	scan_pair(&b, "MATCH (p:Person) RETURN p.age, count(*)", true);
	/* The same ids per commit in small and large batches: the cost of a
	 * MERGE grows with what its transaction has written before it. */
	merge_batches(&b, 100, 1000);
	merge_batches(&b, 10, 10000);
	printf("LOOKUP_QPS %.0f\n", lookup.qps);
out:
	close_engine(&b);
	tmpdir_remove(dir);
	return 0;
}
