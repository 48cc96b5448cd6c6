/* etcd_put: the client half of bench/etcd_anchor.sh. Threads, each with
 * one keep-alive HTTP/1.1 connection, put 64-byte values through etcd's v3
 * JSON gateway (POST /v3/kv/put), one request at a time per thread.
 *
 *   etcd_put -e HOST:PORT[,HOST:PORT...] -c CLIENTS -s SECONDS
 *       puts for SECONDS and prints puts/s, p50 and p99 latency.
 *   etcd_put -e LEADER,OTHER,... -c CLIENTS -k PID [-t TIMEOUT_MS]
 *       failover: puts for a second, SIGKILLs PID (the leader's etcd), and
 *       prints how long after the kill the first put succeeded. A thread
 *       whose connection fails, whose put is refused or unanswered for
 *       TIMEOUT_MS (default 100) moves to the next endpoint and retries at
 *       once, as a client with every member's address would. The timeout is
 *       needed because etcd drops a proposal that reaches a member while
 *       there is no leader, and answers it only at its own request timeout
 *       (7 s with defaults): a client waiting for that measures etcd's
 *       timeout, not its failover.
 *
 * Why the JSON gateway and not etcdctl: `etcdctl check perf` offers only
 * rate-limited workloads of 50 to 1,000 clients (it checks that a rate is
 * sustained, it does not measure the ceiling), and etcd's own benchmark tool
 * is not packaged in Debian. The gateway costs etcd some CPU for JSON and a
 * loopback gRPC hop inside the server, so these figures are a lower bound
 * on what a native gRPC client reaches; docs/benchmarks.md says so. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"

#define MAX_CLIENTS 256
#define MAX_ENDPOINTS 8
#define VALUE_SIZE 64
#define LAT_CAP (1u << 20)

struct endpoint {
	struct sockaddr_in sa;
	char text[64];
};

struct run {
	struct endpoint ep[MAX_ENDPOINTS];
	unsigned n_ep;
	atomic_bool stop;
	unsigned timeout_ms; /* per request: past it, the next endpoint */
	uint64_t stop_at; /* puts completing later are not counted */
	/* Failover: the kill time and the first success after it. */
	atomic_uint_fast64_t killed_at;
	atomic_uint_fast64_t first_after_kill;
	atomic_uint_fast64_t last_before_kill;
};

struct client {
	struct run *run;
	pthread_t thread;
	unsigned id;
	unsigned ep; /* index of the endpoint in use */
	int fd;
	uint64_t *lat;
	size_t n_lat;
	uint64_t puts, failures;
	char in[8192];
	size_t in_len;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void base64(const unsigned char *in, size_t n, char *out)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, o = 0;

	for (i = 0; i + 2 < n; i += 3) {
		unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 |
			     in[i + 2];
		out[o++] = tab[v >> 18 & 63];
		out[o++] = tab[v >> 12 & 63];
		out[o++] = tab[v >> 6 & 63];
		out[o++] = tab[v & 63];
	}
	if (i < n) {
		unsigned v = (unsigned)in[i] << 16 |
			     (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0);
		out[o++] = tab[v >> 18 & 63];
		out[o++] = tab[v >> 12 & 63];
		out[o++] = i + 1 < n ? tab[v >> 6 & 63] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
}

static int client_connect(struct client *c)
{
	struct timeval tv = {.tv_sec = c->run->timeout_ms / 1000,
			     .tv_usec = (c->run->timeout_ms % 1000) * 1000};
	int one = 1;

	c->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (c->fd < 0)
		return -1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	if (connect(c->fd, (struct sockaddr *)&c->run->ep[c->ep].sa,
		    sizeof c->run->ep[c->ep].sa) != 0) {
		close(c->fd);
		c->fd = -1;
		return -1;
	}
	c->in_len = 0;
	return 0;
}

static void client_drop(struct client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->ep = (c->ep + 1) % c->run->n_ep;
}

static int send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads more of the response into c->in; -1 on EOF or error. */
static int fill(struct client *c)
{
	ssize_t r;

	if (c->in_len == sizeof c->in - 1)
		return -1;
	r = recv(c->fd, c->in + c->in_len, sizeof c->in - 1 - c->in_len, 0);
	if (r <= 0)
		return -1;
	c->in_len += (size_t)r;
	c->in[c->in_len] = '\0';
	return 0;
}

/* Consumes n bytes from the front of c->in. */
static void consume(struct client *c, size_t n)
{
	memmove(c->in, c->in + n, c->in_len - n + 1);
	c->in_len -= n;
}

/* Reads a chunked body whose chunks start at the front of c->in. */
static int read_chunked(struct client *c)
{
	for (;;) {
		char *eol, *end;
		unsigned long size;

		while ((eol = strstr(c->in, "\r\n")) == NULL)
			if (fill(c) != 0)
				return -1;
		size = strtoul(c->in, &end, 16);
		while (c->in_len < (size_t)(eol - c->in) + 2 + size + 2)
			if (fill(c) != 0)
				return -1;
		consume(c, (size_t)(eol - c->in) + 2 + size + 2);
		if (size == 0)
			return 0;
	}
}

/* Reads one response; returns its HTTP status, or -1 when the connection
 * failed. */
static int read_response(struct client *c)
{
	char *head_end, *cl;
	int status;
	size_t head;

	while ((head_end = strstr(c->in, "\r\n\r\n")) == NULL)
		if (fill(c) != 0)
			return -1;
	head = (size_t)(head_end - c->in) + 4;
	if (sscanf(c->in, "HTTP/1.%*d %d", &status) != 1)
		return -1;
	cl = strcasestr(c->in, "\r\ncontent-length:");
	if (cl != NULL && cl < head_end) {
		size_t len = strtoul(cl + 17, NULL, 10);

		while (c->in_len < head + len)
			if (fill(c) != 0)
				return -1;
		consume(c, head + len);
		return status;
	}
	consume(c, head);
	return read_chunked(c) == 0 ? status : -1;
}

/* One put; returns the HTTP status, or -1 when the connection failed. */
static int put(struct client *c, const char *body)
{
	char req[512];
	int n;

	if (c->fd < 0 && client_connect(c) != 0)
		return -1;
	n = snprintf(req, sizeof req,
		     "POST /v3/kv/put HTTP/1.1\r\nHost: %s\r\n"
		     "Content-Type: application/json\r\n"
		     "Content-Length: %zu\r\n\r\n%s",
		     c->run->ep[c->ep].text, strlen(body), body);
	if (send_all(c->fd, req, (size_t)n) != 0)
		return -1;
	return read_response(c);
}

static void note_success(struct client *c, uint64_t t)
{
	struct run *r = c->run;
	uint64_t killed = atomic_load(&r->killed_at);
	uint_fast64_t expected = 0;

	if (killed == 0)
		atomic_store(&r->last_before_kill, t);
	else if (t > killed)
		atomic_compare_exchange_strong(&r->first_after_kill, &expected,
					       t);
}

static void *client_main(void *arg)
{
	struct client *c = arg;
	unsigned char value[VALUE_SIZE];
	char key[64], key64[128], value64[128], body[400];
	uint64_t seq = 0;

	memset(value, 'v', sizeof value);
	base64(value, sizeof value, value64);
	c->fd = -1;
	while (!atomic_load(&c->run->stop)) {
		uint64_t t0, t1;
		int status;

		snprintf(key, sizeof key, "bench/%u/%llu", c->id,
			 (unsigned long long)(seq++ % 1000));
		base64((const unsigned char *)key, strlen(key), key64);
		snprintf(body, sizeof body, "{\"key\":\"%s\",\"value\":\"%s\"}",
			 key64, value64);
		t0 = now_ns();
		status = put(c, body);
		t1 = now_ns();
		if (status != 200) {
			c->failures++;
			client_drop(c);
			continue;
		}
		if (t1 > c->run->stop_at)
			break;
		c->puts++;
		if (c->n_lat < LAT_CAP)
			c->lat[c->n_lat++] = t1 - t0;
		note_success(c, t1);
	}
	if (c->fd >= 0)
		close(c->fd);
	return NULL;
}

static int parse_endpoints(struct run *r, char *list)
{
	char *save = NULL, *tok;

	for (tok = strtok_r(list, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		struct endpoint *e = &r->ep[r->n_ep];
		char *colon = strrchr(tok, ':');

		if (r->n_ep == MAX_ENDPOINTS || colon == NULL)
			return -1;
		*colon = '\0';
		e->sa.sin_family = AF_INET;
		e->sa.sin_port = htons((uint16_t)atoi(colon + 1));
		if (inet_pton(AF_INET, tok, &e->sa.sin_addr) != 1)
			return -1;
		*colon = ':';
		snprintf(e->text, sizeof e->text, "%s", tok);
		r->n_ep++;
	}
	return r->n_ep > 0 ? 0 : -1;
}

static void print_throughput(struct client *cl, unsigned n, double secs)
{
	uint64_t puts = 0, failures = 0, *all;
	size_t total = 0, k = 0;

	for (unsigned i = 0; i < n; i++) {
		puts += cl[i].puts;
		failures += cl[i].failures;
		total += cl[i].n_lat;
	}
	all = malloc((total ? total : 1) * sizeof *all);
	if (all == NULL)
		return;
	for (unsigned i = 0; i < n; i++) {
		memcpy(all + k, cl[i].lat, cl[i].n_lat * sizeof *all);
		k += cl[i].n_lat;
	}
	bench_sort(all, total);
	printf("  %2u clients: %8.0f puts/s  p50 %6.3f ms  p99 %7.3f ms",
	       n, (double)puts / secs, bench_pct(all, total, 0.5) / 1e6,
	       bench_pct(all, total, 0.99) / 1e6);
	if (failures)
		printf("  [%llu failed]", (unsigned long long)failures);
	printf("\n");
	free(all);
}

static void print_failover(struct run *r)
{
	uint64_t killed = atomic_load(&r->killed_at);
	uint64_t first = atomic_load(&r->first_after_kill);
	uint64_t last = atomic_load(&r->last_before_kill);

	if (first == 0) {
		printf("  no put succeeded within 15 s of the kill\n");
		return;
	}
	printf("  first put %.0f ms after the kill (%.0f ms after the last "
	       "acknowledged put)\n",
	       (double)(first - killed) / 1e6, (double)(first - last) / 1e6);
}

/* Sleeps ms, or in failover mode kills the leader after a second and waits
 * (at most 15 s) for the first put after it. */
static void drive(struct run *r, unsigned ms, pid_t victim)
{
	struct timespec ts = {.tv_sec = ms / 1000,
			      .tv_nsec = (long)(ms % 1000) * 1000000};
	uint64_t until;

	if (victim <= 0) {
		nanosleep(&ts, NULL);
		return;
	}
	sleep(1);
	atomic_store(&r->killed_at, now_ns());
	kill(victim, SIGKILL);
	until = now_ns() + 15000000000ull;
	while (atomic_load(&r->first_after_kill) == 0 && now_ns() < until)
		usleep(1000);
}

int main(int argc, char **argv)
{
	static struct run r;
	struct client *cl;
	unsigned clients = 1, secs = 5;
	int timeout_ms = 100;
	pid_t victim = 0;
	int opt;

	while ((opt = getopt(argc, argv, "e:c:s:k:t:")) != -1) {
		if (opt == 'e' && parse_endpoints(&r, optarg) == 0)
			continue;
		if (opt == 'c' && (clients = (unsigned)atoi(optarg)) >= 1 &&
		    clients <= MAX_CLIENTS)
			continue;
		if (opt == 's' && (secs = (unsigned)atoi(optarg)) >= 1)
			continue;
		if (opt == 'k' && (victim = (pid_t)atoi(optarg)) > 0)
			continue;
		if (opt == 't' && (timeout_ms = atoi(optarg)) > 0)
			continue;
		goto usage;
	}
	if (r.n_ep == 0 || optind != argc)
		goto usage;
	cl = calloc(clients, sizeof *cl);
	if (cl == NULL)
		return 1;
	/* Throughput: past etcd's own request timeout (7 s), never hit. */
	r.timeout_ms = victim > 0 ? (unsigned)timeout_ms : 10000;
	r.stop_at = victim > 0 ? UINT64_MAX
			       : now_ns() + (uint64_t)secs * 1000000000ull;
	for (unsigned i = 0; i < clients; i++) {
		cl[i].run = &r;
		cl[i].id = i;
		cl[i].lat = malloc(LAT_CAP * sizeof *cl[i].lat);
		if (cl[i].lat == NULL ||
		    pthread_create(&cl[i].thread, NULL, client_main, &cl[i]))
			return 1;
	}
	drive(&r, secs * 1000, victim);
	atomic_store(&r.stop, true);
	for (unsigned i = 0; i < clients; i++)
		pthread_join(cl[i].thread, NULL);
	if (victim > 0)
		print_failover(&r);
	else
		print_throughput(cl, clients, secs);
	for (unsigned i = 0; i < clients; i++)
		free(cl[i].lat);
	free(cl);
	return 0;
usage:
	fprintf(stderr, "usage: etcd_put -e HOST:PORT[,HOST:PORT...] "
			"[-c CLIENTS (1-%d)] [-s SECONDS | -k LEADER_PID [-t MS]]\n",
		MAX_CLIENTS);
	return 2;
}
