/* Replica lag and catch-up rate, measured on the transaction streams
 * themselves: this program subscribes to a member's catch-up port
 * (src/catchup/catchup.h, PULL) like a read replica does, and notes when
 * each transaction arrives. A member pushes a transaction as soon as its
 * log holds it durably, so
 *   - lag: subscribed to the leader and to a replica at once, the time
 *     between a transaction arriving from the leader (committed there) and
 *     from the replica (applied and logged there): p50, p99, max;
 *   - catch-up (-u TXID): subscribed to a replica that is behind, the rate
 *     at which it applies transactions until it holds TXID.
 *   replica_lag [-d SECONDS] [-a AFTER] [-D DB] LEADER_TX REPLICA_TX
 *   replica_lag -u TXID [-a AFTER] [-D DB] REPLICA_TX
 * AFTER is the transaction to start after (the members' last one: pass
 * what the leader's HTTP status calls lastCommittedTxId). Addresses are
 * IPv4 host:port. Blocking sockets and poll(): nothing else runs here. */
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
		     "GRAFT-CATCHUP/1 PULL %s %" PRIu64 " ANY replica-lag-bench "
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
		if (s->len - off < 1 + 24)
			break;
		size = 24 + (size_t)(s->buf[off + 1] |
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

/* Lag ------------------------------------------------------------------- */

struct lag {
	uint64_t after;
	uint64_t *leader_t; /* by txid - after; 0: not seen yet */
	uint64_t *lat;
	size_t nlat;
	uint64_t unmatched; /* seen on the replica before the leader */
};

static void leader_seen(uint64_t txid, uint64_t t, void *arg)
{
	struct lag *l = arg;

	if (txid > l->after && txid - l->after < MAX_TX)
		l->leader_t[txid - l->after] = t;
}

static void replica_seen(uint64_t txid, uint64_t t, void *arg)
{
	struct lag *l = arg;
	uint64_t lt;

	if (txid <= l->after || txid - l->after >= MAX_TX)
		return;
	lt = l->leader_t[txid - l->after];
	if (lt == 0) {
		l->unmatched++; /* the leader's copy is still in our socket */
		return;
	}
	l->lat[l->nlat++] = t > lt ? t - lt : 0;
}

static int run_lag(const char *db, uint64_t after, double seconds,
		   const char *leader, const char *replica)
{
	struct stream s[2] = {{.addr = leader}, {.addr = replica}};
	struct lag l = {.after = after};
	struct pollfd p[2];
	uint64_t end;

	l.leader_t = calloc(MAX_TX, sizeof *l.leader_t);
	l.lat = calloc(MAX_TX, sizeof *l.lat);
	if (l.leader_t == NULL || l.lat == NULL)
		die("memory", "out of memory");
	subscribe(&s[0], db, after);
	subscribe(&s[1], db, after);
	end = now_ns() + (uint64_t)(seconds * 1e9);
	while (now_ns() < end) {
		for (int i = 0; i < 2; i++)
			p[i] = (struct pollfd){.fd = s[i].fd, .events = POLLIN};
		if (poll(p, 2, 100) < 0)
			die("poll", strerror(errno));
		/* The leader's stream first: a transaction that arrived on both
		 * in this round is matched. */
		if (p[0].revents)
			drain(&s[0], leader_seen, &l);
		if (p[1].revents)
			drain(&s[1], replica_seen, &l);
	}
	bench_sort(l.lat, l.nlat);
	printf("replica lag (leader's log -> replica's log), %.0f s: %zu "
	       "transactions, p50 %.2f ms, p99 %.2f ms, max %.2f ms "
	       "(%" PRIu64 " seen on the replica first, left out)\n",
	       seconds, l.nlat, bench_pct(l.lat, l.nlat, 0.5) / 1e6,
	       bench_pct(l.lat, l.nlat, 0.99) / 1e6,
	       l.nlat ? l.lat[l.nlat - 1] / 1e6 : 0.0, l.unmatched);
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
	const char *db = "neo4j";
	uint64_t after = 0, until = 0;
	double seconds = 10;
	int opt;

	while ((opt = getopt(argc, argv, "a:d:D:u:")) != -1) {
		if (opt == 'a')
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
	if (until == 0 && argc - optind == 2)
		return run_lag(db, after, seconds, argv[optind],
			       argv[optind + 1]);
	fprintf(stderr, "usage: replica_lag [-d SECONDS] [-a AFTER] [-D DB] "
			"LEADER_TX REPLICA_TX\n"
			"       replica_lag -u TXID [-a AFTER] [-D DB] "
			"REPLICA_TX\n");
	return 2;
}
