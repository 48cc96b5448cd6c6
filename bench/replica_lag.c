/* Replica lag and catch-up rate, measured on the transaction streams
 * themselves: this program subscribes to members' catch-up ports
 * (src/catchup/catchup.h, PULL) like a read replica does, and notes when
 * each transaction arrives. A member pushes a transaction once its log
 * holds it, after applying it, so
 *   - lag (-A ACKS): subscribed to one or more members (a replica, its
 *     upstream core), the time from a write's answer reaching its client
 *     on the leader (bolt_bench -A wrote ACKS) to that transaction in each
 *     member's stream: p50, p99, max. The replica's stream comes after its
 *     apply and log write, so this bounds from above when a read there can
 *     see the write;
 *   - catch-up (-u TXID): subscribed to a replica that is behind, the rate
 *     at which it applies transactions until it holds TXID.
 *   replica_lag -A ACKS [-d SECONDS] [-a AFTER] [-D DB] TX_ADDRESS...
 *   replica_lag -u TXID [-a AFTER] [-D DB] REPLICA_TX
 * With -A the streams are followed until ACKS appears and each has carried
 * its last transaction (at most 30 s more; at most SECONDS in all, default
 * 600). AFTER is the transaction to start after
 * (the members' last one: pass what the leader's HTTP status calls
 * lastCommittedTxId). Addresses are IPv4 host:port. Blocking sockets and
 * poll(): nothing else runs here. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"

#define MAX_TX (1u << 24)
/* txlog.h TXLOG_WIRE_HEADER: a record's header on the wire */
#define WIRE_HEADER 48

struct stream {
	int fd;
	const char *addr;
	uint8_t *buf;
	size_t len, cap;
	bool ok; /* the OK line arrived */
	uint64_t last; /* last txid seen */
};

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "replica_lag: %s: %s\n", what, detail);
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static uint64_t get_u64le(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void subscribe(struct stream *s, const char *db, uint64_t after)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	char host[64], line[256];
	const char *colon = strrchr(s->addr, ':');
	int one = 1, n;

	if (colon == NULL || (size_t)(colon - s->addr) >= sizeof host)
		die("address", s->addr);
	snprintf(host, sizeof host, "%.*s", (int)(colon - s->addr), s->addr);
	sa.sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		die("address (IPv4 host:port)", s->addr);
	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (s->fd < 0 || connect(s->fd, (struct sockaddr *)&sa, sizeof sa) != 0)
		die(s->addr, strerror(errno));
	setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	n = snprintf(line, sizeof line,
		     "GRAFT-CATCHUP/2 PULL %s %" PRIu64 " ANY replica-lag-bench "
		     "127.0.0.1:0\n", db, after);
	if (write(s->fd, line, (size_t)n) != n)
		die(s->addr, "cannot send the PULL line");
	s->cap = 1 << 20;
	s->buf = malloc(s->cap);
	if (s->buf == NULL)
		die("buffer", "out of memory");
	s->last = after;
}

/* Reads what arrived; calls seen(txid, t) for each whole record. */
static void drain(struct stream *s, void (*seen)(uint64_t txid, uint64_t t,
						  void *arg), void *arg)
{
	ssize_t n;
	size_t off = 0, size;
	uint64_t t;

	if (s->cap - s->len < 65536) {
		s->cap *= 2;
		s->buf = realloc(s->buf, s->cap);
		if (s->buf == NULL)
			die("buffer", "out of memory");
	}
	n = read(s->fd, s->buf + s->len, s->cap - s->len);
	if (n <= 0)
		die(s->addr, n == 0 ? "the member closed the stream"
				    : strerror(errno));
	t = now_ns();
	s->len += (size_t)n;
	if (!s->ok) {
		uint8_t *nl = memchr(s->buf, '\n', s->len);

		if (nl == NULL)
			return;
		*nl = '\0';
		if (strstr((char *)s->buf, " OK ") == NULL)
			die(s->addr, (char *)s->buf);
		s->ok = true;
		off = (size_t)(nl - s->buf) + 1;
	}
	while (off < s->len) {
		if (s->buf[off] == 'H') { /* heartbeat: kind, u64, i64 */
			if (s->len - off < 17)
				break;
			off += 17;
			continue;
		}
		if (s->buf[off] != 'T')
			die(s->addr, "unknown message in the stream");
		if (s->len - off < 1 + WIRE_HEADER)
			break;
		size = WIRE_HEADER + (size_t)(s->buf[off + 1] |
					    s->buf[off + 2] << 8 |
					    s->buf[off + 3] << 16 |
					    (uint32_t)s->buf[off + 4] << 24);
		if (s->len - off < 1 + size)
			break;
		s->last = get_u64le(s->buf + off + 1 + 8);
		seen(s->last, t, arg);
		off += 1 + size;
	}
	memmove(s->buf, s->buf + off, s->len - off);
	s->len -= off;
}

/* Lag -------------------------------------------------------------------
 * The reference is the commit as the writing client saw it: bolt_bench -A
 * notes when the answer of each write reached it (CLOCK_MONOTONIC, the
 * same clock as here on one machine). A leader's own stream is no
 * reference: a core writes its log from Raft after applying, without
 * waiting, so a replica can hold a transaction before the leader's stream
 * carries it. */

#define MAX_STREAMS 4
#define GRACE_NS 30000000000u /* for the last writes to arrive */

struct arrivals {
	uint64_t after;
	uint64_t *t; /* by txid - after; 0: not seen */
};

static void arrived(uint64_t txid, uint64_t t, void *arg)
{
	struct arrivals *a = arg;

	if (txid > a->after && txid - a->after < MAX_TX &&
	    a->t[txid - a->after] == 0)
		a->t[txid - a->after] = t;
}

/* One line per stream: acknowledgement -> arrival there. */
static void report_lag(const char *addr, const struct arrivals *a,
		       const uint64_t *acks, size_t nacks)
{
	uint64_t *lat = malloc((nacks / 2 + 1) * sizeof *lat);
	uint64_t early = 0, missing = 0;
	size_t n = 0;

	if (lat == NULL)
		die("memory", "out of memory");
	for (size_t i = 0; i < nacks; i += 2) {
		uint64_t txid = acks[i], ack = acks[i + 1], t;

		if (txid <= a->after || txid - a->after >= MAX_TX ||
		    (t = a->t[txid - a->after]) == 0) {
			missing++;
			continue;
		}
		early += t < ack;
		lat[n++] = t > ack ? t - ack : 0;
	}
	bench_sort(lat, n);
	printf("lag (commit acknowledged to the client on the leader -> in "
	       "%s's stream): %zu transactions, p50 %.2f ms, p99 %.2f ms, max "
	       "%.2f ms (%" PRIu64 " there before the acknowledgement, counted "
	       "as 0; %" PRIu64 " not seen within 30 s of the writes)\n", addr, n,
	       bench_pct(lat, n, 0.5) / 1e6, bench_pct(lat, n, 0.99) / 1e6,
	       n ? lat[n - 1] / 1e6 : 0.0, early, missing);
	free(lat);
}

/* The "txid ns" pairs of bolt_bench -A; *n counts both. */
static uint64_t *read_acks(const char *path, size_t *n)
{
	FILE *f = fopen(path, "r");
	uint64_t *v = NULL, txid, ns;
	size_t cap = 0;

	if (f == NULL)
		die(path, strerror(errno));
	*n = 0;
	while (fscanf(f, "%" SCNu64 " %" SCNu64, &txid, &ns) == 2) {
		if (*n + 2 > cap) {
			cap = cap ? 2 * cap : 1 << 16;
			v = realloc(v, cap * sizeof *v);
			if (v == NULL)
				die("memory", "out of memory");
		}
		v[(*n)++] = txid;
		v[(*n)++] = ns;
	}
	fclose(f);
	return v;
}

static bool all_reached(const struct stream *s, int n, uint64_t txid)
{
	for (int i = 0; i < n; i++)
		if (s[i].last < txid)
			return false;
	return true;
}

/* Follows the streams until the acknowledgements file appears (the writer
 * finished) and every stream has carried the last transaction in it (at
 * most GRACE_NS more), or for at most seconds in all. */
static int run_lag(const char *db, uint64_t after, double seconds,
		   const char *acks_path, char **addrs, int n)
{
	struct stream s[MAX_STREAMS] = {{0}};
	struct arrivals a[MAX_STREAMS];
	struct pollfd p[MAX_STREAMS];
	uint64_t end = now_ns() + (uint64_t)(seconds * 1e9), *acks = NULL;
	uint64_t last_acked = 0;
	size_t nacks = 0;

	if (n > MAX_STREAMS)
		die("streams", "at most 4");
	for (int i = 0; i < n; i++) {
		s[i].addr = addrs[i];
		a[i].after = after;
		a[i].t = calloc(MAX_TX, sizeof *a[i].t);
		if (a[i].t == NULL)
			die("memory", "out of memory");
		subscribe(&s[i], db, after);
	}
	while (now_ns() < end &&
	       (acks == NULL || !all_reached(s, n, last_acked))) {
		if (acks == NULL && access(acks_path, F_OK) == 0) {
			acks = read_acks(acks_path, &nacks);
			for (size_t i = 0; i < nacks; i += 2)
				if (acks[i] > last_acked)
					last_acked = acks[i];
			if (end > now_ns() + GRACE_NS)
				end = now_ns() + GRACE_NS;
		}
		for (int i = 0; i < n; i++)
			p[i] = (struct pollfd){.fd = s[i].fd, .events = POLLIN};
		if (poll(p, (nfds_t)n, 100) < 0)
			die("poll", strerror(errno));
		for (int i = 0; i < n; i++)
			if (p[i].revents)
				drain(&s[i], arrived, &a[i]);
	}
	if (acks == NULL)
		die(acks_path, "did not appear within the time given (-d)");
	for (int i = 0; i < n; i++)
		report_lag(addrs[i], &a[i], acks, nacks);
	free(acks);
	return 0;
}

/* Catch-up rate ---------------------------------------------------------- */

struct catchup {
	uint64_t first_t, first_tx, last_t;
};

static void catchup_seen(uint64_t txid, uint64_t t, void *arg)
{
	struct catchup *c = arg;

	if (c->first_t == 0) {
		c->first_t = t;
		c->first_tx = txid;
	}
	c->last_t = t;
}

static int run_catchup(const char *db, uint64_t after, uint64_t until,
		       const char *replica)
{
	struct stream s = {.addr = replica};
	struct catchup c = {0};

	subscribe(&s, db, after);
	while (s.last < until)
		drain(&s, catchup_seen, &c);
	printf("catch-up: transactions %" PRIu64 "..%" PRIu64 " applied in "
	       "%.2f s: %.0f tx/s\n", c.first_tx, s.last,
	       (c.last_t - c.first_t) / 1e9,
	       c.last_t > c.first_t ? (s.last - c.first_tx) /
					      ((c.last_t - c.first_t) / 1e9)
				    : 0.0);
	return 0;
}

int main(int argc, char **argv)
{
	const char *db = "neo4j", *acks = NULL;
	uint64_t after = 0, until = 0;
	double seconds = 600;
	int opt;

	while ((opt = getopt(argc, argv, "A:a:d:D:u:")) != -1) {
		if (opt == 'A')
			acks = optarg;
		else if (opt == 'a')
			after = strtoull(optarg, NULL, 10);
		else if (opt == 'd')
			seconds = atof(optarg);
		else if (opt == 'D')
			db = optarg;
		else if (opt == 'u')
			until = strtoull(optarg, NULL, 10);
		else
			return 2;
	}
	if (until > 0 && argc - optind == 1)
		return run_catchup(db, after, until, argv[optind]);
	if (acks != NULL && argc - optind >= 1)
		return run_lag(db, after, seconds, acks, argv + optind,
			       argc - optind);
	fprintf(stderr, "usage: replica_lag -A ACKS [-d SECONDS] [-a AFTER] "
			"[-D DB] TX_ADDRESS...\n"
			"       replica_lag -u TXID [-a AFTER] [-D DB] "
			"REPLICA_TX\n");
	return 2;
}
