/* Requests per second over Bolt against a running graftd: C clients on one
 * loop, each sending RUN + PULL {n: -1} and waiting for the summary before
 * the next (no pipelining, like redis-benchmark -P 1), for a fixed time;
 * then rate, p50 and p99 of the round trips.
 *   bolt_bench [-c CLIENTS] [-d SECONDS] [-r N] [-R RATE] [-s SETUP]
 *              HOST:PORT QUERY
 * -r N gives every request a parameter $id, random in 1..N (point lookups);
 * -R RATE paces the clients to RATE requests/s in all (open loop: each
 * client sends on its schedule, the clients' schedules spread evenly over
 * one interval, at once when it is late; the loop's timers
 * have millisecond resolution, so use clients >= RATE / 1000);
 * -s runs SETUP once before the clients start (e.g. loading data); -F counts
 * a FAILURE (e.g. a write conflict) and goes on after a RESET, where
 * without it a FAILURE ends the run; -A FILE writes, for each request
 * whose summary carries a bookmark (a write), its transaction id and when
 * the client had the answer (CLOCK_MONOTONIC ns, as uv_hrtime), one
 * "txid ns" line each: bench/replica_lag -A measures replica lag from
 * there. Logs in as neo4j with $GRAFT_PASSWORD (any password when auth is
 * off). */
#include <config.h> /* _GNU_SOURCE: memmem */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "bench_util.h"
#include "bolt/message.h"
#include "bolt/wire.h"
#include "pack/pack.h"
#include "util/err.h"

struct bench;

struct client {
	uv_tcp_t tcp;
	uv_connect_t connect;
	struct bench *b;
	struct graft_buf out;
	struct bolt_dechunker in;
	uint8_t version[4];
	size_t version_len;
	unsigned waiting;  /* summaries still expected */
	const char *query; /* the request being timed, NULL while logging in */
	uint64_t sent_ns;
	uint64_t next_ns; /* -R: when the next request is due */
	uint64_t phase_ns; /* -R: the first one's delay, spreading clients */
	bool failed;      /* -F: the request failed; RESET before the next */
	uv_timer_t pace;
	unsigned seed;
};

struct bench {
	uv_loop_t loop;
	struct sockaddr_in addr;
	const char *query;
	const char *password;
	int64_t id_range;
	uint64_t interval_ns; /* -R: between two requests of one client */
	uint64_t end_ns;
	uint64_t *lat;
	size_t nlat, cap;
	unsigned open;
	bool tolerate; /* -F */
	uint64_t failures;
	const char *acks_path; /* -A */
	uint64_t *acks;        /* -A: txid, ns pairs */
	size_t nacks, acks_cap;
};

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "bolt_bench: %s: %s\n", what, detail);
	exit(1);
}

static void check(int rv, const char *what)
{
	if (rv != GRAFT_OK)
		die(what, graft_strerror(rv));
}

/* Appends one chunked request: sig with a map of n string pairs (kv). */
static void put_map_msg(struct graft_buf *o, uint8_t sig, const char **kv,
			unsigned n)
{
	size_t start;

	check(bolt_chunk_begin(o, &start), "encode");
	check(pack_struct_header(o, 1, sig), "encode");
	check(pack_map_header(o, n), "encode");
	for (unsigned i = 0; i < 2 * n; i++)
		check(pack_cstring(o, kv[i]), "encode");
	check(bolt_chunk_end(o, start), "encode");
}

/* RUN query {id: random?} {} and PULL {n: -1}; the clock starts. */
static void put_run_pull(struct client *c, const char *query)
{
	struct graft_buf *o = &c->out;
	size_t start;

	c->waiting = 2;
	if (c->failed) {
		check(bolt_chunk_begin(o, &start), "encode");
		check(pack_struct_header(o, 0, BOLT_RESET), "encode");
		check(bolt_chunk_end(o, start), "encode");
		c->waiting = 3;
		c->failed = false;
	}
	check(bolt_chunk_begin(o, &start), "encode");
	check(pack_struct_header(o, 3, BOLT_RUN), "encode");
	check(pack_cstring(o, query), "encode");
	check(pack_map_header(o, c->b->id_range > 0), "encode");
	if (c->b->id_range > 0) {
		check(pack_cstring(o, "id"), "encode");
		check(pack_int(o, 1 + rand_r(&c->seed) % c->b->id_range),
		      "encode");
	}
	check(pack_map_header(o, 0), "encode");
	check(bolt_chunk_end(o, start), "encode");
	check(bolt_chunk_begin(o, &start), "encode");
	check(pack_struct_header(o, 1, BOLT_PULL), "encode");
	check(pack_map_header(o, 1), "encode");
	check(pack_cstring(o, "n"), "encode");
	check(pack_int(o, -1), "encode");
	check(bolt_chunk_end(o, start), "encode");
	c->query = query;
	c->sent_ns = uv_hrtime();
}

static void flush(struct client *c)
{
	uv_buf_t buf = uv_buf_init((char *)c->out.data, (unsigned)c->out.len);

	/* uv_try_write first: requests are small and the socket is free. */
	int n = uv_try_write((uv_stream_t *)&c->tcp, &buf, 1);
	if (n == (int)c->out.len) {
		graft_buf_reset(&c->out);
		return;
	}
	die("write", n < 0 ? uv_strerror(n) : "short write");
}

static void record(struct bench *b, uint64_t ns)
{
	if (b->nlat == b->cap) {
		b->cap = b->cap ? 2 * b->cap : 1 << 16;
		b->lat = realloc(b->lat, b->cap * sizeof *b->lat);
		if (b->lat == NULL)
			die("latencies", "out of memory");
	}
	b->lat[b->nlat++] = ns;
}

/* The transaction id of a summary's bookmark (its last ':' field), 0 when
 * it has none. PackStream: "bookmark" as a tiny string (0x88), then the
 * value as a tiny string (0x80 | len) or a STRING_8 (0xD0, len). */
static uint64_t bookmark_txid(const struct graft_buf *m)
{
	static const char key[] = "\x88" "bookmark";
	const uint8_t *p = memmem(m->data, m->len, key, sizeof key - 1);
	const uint8_t *end = m->data + m->len;
	const char *colon = NULL;
	size_t len;

	if (p == NULL || (p += sizeof key - 1) >= end)
		return 0;
	if ((*p & 0xF0) == 0x80) {
		len = *p++ & 0x0F;
	} else if (*p == 0xD0 && p + 1 < end) {
		len = p[1];
		p += 2;
	} else {
		return 0;
	}
	if (len > (size_t)(end - p))
		return 0;
	for (size_t i = 0; i < len; i++)
		if (p[i] == ':')
			colon = (const char *)p + i;
	return colon != NULL ? strtoull(colon + 1, NULL, 10) : 0;
}

static void note_ack(struct bench *b, uint64_t txid, uint64_t ns)
{
	if (b->nacks + 2 > b->acks_cap) {
		b->acks_cap = b->acks_cap ? 2 * b->acks_cap : 1 << 16;
		b->acks = realloc(b->acks, b->acks_cap * sizeof *b->acks);
		if (b->acks == NULL)
			die("acknowledgements", "out of memory");
	}
	b->acks[b->nacks++] = txid;
	b->acks[b->nacks++] = ns;
}

/* Written whole, then renamed into place: a reader waiting for the file
 * (replica_lag -A) never sees part of it. */
static void write_acks(const struct bench *b, const char *path)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	f = fopen(tmp, "w");
	if (f == NULL)
		die(tmp, "cannot create");
	for (size_t i = 0; i < b->nacks; i += 2)
		fprintf(f, "%" PRIu64 " %" PRIu64 "\n", b->acks[i],
			b->acks[i + 1]);
	if (fclose(f) != 0 || rename(tmp, path) != 0)
		die(path, "cannot write");
}

static void close_cb(uv_handle_t *h)
{
	struct client *c = h->data;

	c->b->open--;
	graft_buf_free(&c->out);
	bolt_dechunker_free(&c->in);
	uv_close((uv_handle_t *)&c->pace, NULL);
}

static void send_next(struct client *c)
{
	put_run_pull(c, c->b->query);
	flush(c);
}

static void pace_cb(uv_timer_t *t)
{
	send_next(t->data);
}

/* Sends now, or when the client's next slot comes with -R. */
static void send_when_due(struct client *c, uint64_t now)
{
	if (c->b->interval_ns == 0) {
		send_next(c);
		return;
	}
	c->next_ns = c->next_ns == 0 ? now + c->phase_ns
				     : c->next_ns + c->b->interval_ns;
	if (c->next_ns <= now) {
		send_next(c);
		return;
	}
	uv_timer_start(&c->pace, pace_cb, (c->next_ns - now) / 1000000, 0);
}

/* A summary arrived; the next request goes out once both are in. */
static void summary(struct client *c, const struct graft_buf *m)
{
	struct bench *b = c->b;
	uint64_t now, txid;

	if (m->data[1] == BOLT_FAILURE) {
		if (!b->tolerate || c->query == NULL)
			die("request failed", c->query ? c->query : "login");
		c->failed = true;
	}
	if (--c->waiting > 0)
		return;
	now = uv_hrtime();
	if (c->query != NULL && !c->failed && b->acks_path != NULL &&
	    (txid = bookmark_txid(m)) != 0)
		note_ack(b, txid, now);
	if (c->query != NULL) {
		if (c->failed)
			b->failures++;
		else
			record(b, now - c->sent_ns);
		if (now >= b->end_ns) {
			uv_close((uv_handle_t *)&c->tcp, close_cb);
			return;
		}
	}
	send_when_due(c, now);
}

static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	static char slab[1 << 16];

	(void)h;
	(void)hint;
	buf->base = slab;
	buf->len = sizeof slab;
}

static void read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct client *c = s->data;
	const uint8_t *p = (const uint8_t *)buf->base;
	size_t used;
	bool complete;

	if (n < 0)
		die("read", uv_strerror((int)n));
	while (n > 0 && c->version_len < 4) {
		c->version[c->version_len++] = *p++;
		n--;
	}
	if (c->version_len == 4 && c->version[3] == 0)
		die("handshake", "no common Bolt version");
	while (n > 0 && !uv_is_closing((uv_handle_t *)&c->tcp)) {
		check(bolt_dechunk(&c->in, p, (size_t)n, &used, &complete),
		      "read");
		p += used;
		n -= (ssize_t)used;
		if (complete && c->in.msg.len >= 2 &&
		    c->in.msg.data[1] != BOLT_RECORD)
			summary(c, &c->in.msg);
		if (complete)
			bolt_dechunker_next(&c->in);
	}
}

static void connect_cb(uv_connect_t *req, int status)
{
	static const uint8_t handshake[20] = {0x60, 0x60, 0xB0, 0x17, 0, 4, 4, 5};
	struct client *c = req->data;
	const char *hello[] = {"user_agent", "graft-bolt-bench/1"};
	const char *logon[] = {"scheme", "basic", "principal", "neo4j",
			       "credentials", c->b->password};

	if (status != 0)
		die("connect", uv_strerror(status));
	check(graft_buf_append(&c->out, handshake, sizeof handshake), "encode");
	put_map_msg(&c->out, BOLT_HELLO, hello, 1);
	put_map_msg(&c->out, BOLT_LOGON, logon, 3);
	c->waiting = 2;
	flush(c);
	uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb);
}

static void start_client(struct bench *b, struct client *c)
{
	c->b = b;
	c->seed = (unsigned)(uintptr_t)c;
	graft_buf_init(&c->out);
	bolt_dechunker_init(&c->in, 1 << 26);
	uv_tcp_init(&b->loop, &c->tcp);
	uv_tcp_nodelay(&c->tcp, 1);
	uv_timer_init(&b->loop, &c->pace);
	c->tcp.data = c->connect.data = c->pace.data = c;
	b->open++;
	if (uv_tcp_connect(&c->connect, &c->tcp, (struct sockaddr *)&b->addr,
			   connect_cb) != 0)
		die("connect", "cannot start");
}

/* Runs n clients until they close: login, then the query once per
 * answer until end_ns (at least once). */
static void run_clients(struct bench *b, struct client *cs, unsigned n)
{
	/* Clients spread over one interval: started together they would
	 * send in bursts, every client in the same millisecond. */
	for (unsigned i = 0; i < n; i++) {
		cs[i].phase_ns = b->interval_ns * i / n;
		start_client(b, &cs[i]);
	}
	uv_run(&b->loop, UV_RUN_DEFAULT);
}

int main(int argc, char **argv)
{
	struct bench b;
	struct client *cs;
	unsigned clients = 1;
	double seconds = 5;
	const char *setup = NULL, *colon;
	char host[256];
	double rate = 0;
	int opt;

	memset(&b, 0, sizeof b);
	while ((opt = getopt(argc, argv, "A:c:d:Fr:R:s:")) != -1) {
		if (opt == 'A')
			b.acks_path = optarg;
		else if (opt == 'c')
			clients = (unsigned)atoi(optarg);
		else if (opt == 'd')
			seconds = atof(optarg);
		else if (opt == 'r')
			b.id_range = atoll(optarg);
		else if (opt == 'R')
			rate = atof(optarg);
		else if (opt == 's')
			setup = optarg;
		else if (opt == 'F')
			b.tolerate = true;
		else
			return 2;
	}
	if (argc - optind != 2 || clients == 0 ||
	    (colon = strrchr(argv[optind], ':')) == NULL) {
		fprintf(stderr, "usage: bolt_bench [-A FILE] [-c CLIENTS] "
				"[-d SECONDS] [-F] [-r N] [-R RATE] [-s SETUP] "
				"HOST:PORT QUERY\n");
		return 2;
	}
	snprintf(host, sizeof host, "%.*s", (int)(colon - argv[optind]),
		 argv[optind]);
	if (uv_ip4_addr(host, atoi(colon + 1), &b.addr) != 0)
		die("address", argv[optind]);
	b.password = getenv("GRAFT_PASSWORD") ? getenv("GRAFT_PASSWORD") : "x";
	uv_loop_init(&b.loop);
	cs = calloc(clients, sizeof *cs);
	if (cs == NULL)
		die("clients", "out of memory");
	if (setup != NULL) {
		/* One client, one request. */
		b.query = setup;
		run_clients(&b, cs, 1);
		b.nlat = b.nacks = 0;
		memset(cs, 0, sizeof *cs);
	}
	b.query = argv[optind + 1];
	b.interval_ns = rate > 0 ? (uint64_t)(clients * 1e9 / rate) : 0;
	b.end_ns = uv_hrtime() + (uint64_t)(seconds * 1e9);
	run_clients(&b, cs, clients);
	bench_sort(b.lat, b.nlat);
	printf("bolt: %u clients, %.1f s: %zu requests, %.0f req/s, p50 %.0f "
	       "us, p99 %.0f us",
	       clients, seconds, b.nlat, b.nlat / seconds,
	       bench_pct(b.lat, b.nlat, 0.5) / 1e3,
	       bench_pct(b.lat, b.nlat, 0.99) / 1e3);
	if (b.tolerate)
		printf(", %llu failed", (unsigned long long)b.failures);
	printf("  (%s)\n", b.query);
	if (b.acks_path != NULL)
		write_acks(&b, b.acks_path);
	free(b.acks);
	free(b.lat);
	free(cs);
	uv_loop_close(&b.loop);
	return 0;
}
