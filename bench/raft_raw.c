/* raft_raw: the raw ceiling of libraft on this machine, the anchor graft's
 * cluster is measured against (issue 14). Three bare libraft members, each
 * in its own process with its own libuv loop, libraft's own libuv I/O
 * (raft_uv_init + raft_uv_tcp_init) on loopback, data directories on the real
 * disk (real fsync). No graft code runs: the FSM counts entries.
 *
 *   raft_raw [-d DIR] [-s SECONDS] [-r ROUNDS] [-e ELECTION_MS]
 *            [-b HEARTBEAT_MS] [-f FAILOVER_INFLIGHT]
 *
 * 1. Throughput: 64-byte commands through raft_apply on the leader with 1, 8
 *    and 64 in flight (each completion proposes the next), SECONDS each:
 *    commits/s, p50 and p99 of propose-to-apply-callback latency.
 * 2. Failover, ROUNDS times: every member proposes whenever it is leader
 *    (FAILOVER_INFLIGHT in flight); the parent SIGKILLs the leader and reads
 *    when the new leader was elected and made its first commit; the killed
 *    member is then restarted on its data directory.
 *
 * Why processes and not threads: SIGKILL of a process is the failure the
 * cluster must survive (its sockets reset by the kernel, its open segment
 * left half-written), and three processes share the two cores the way three
 * graftd would. The parent drives members over a socketpair each with one
 * line per command ("state", "load N", "stop", "quit") and reads the last
 * commit time of a member it has just killed from a shared page.
 *
 * DIR defaults to a fresh /tmp/graft-raft-raw-XXXXXX, removed at the end. */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <raft.h>
#include <raft/uv.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include "../tests/unit/tmpdir.h"
#include "bench_util.h"

#define MEMBERS 3
#define CMD_SIZE 64
#define MAX_INFLIGHT 64
#define LAT_CAP (1u << 21)
#define REPLY_TIMEOUT_MS 15000

/* Entries between two snapshots, and kept after one: what graft's default
 * causal_clustering.raft_log_prune_strategy ("1g size") gives for entries
 * of this size, so no snapshot falls within a run, as in graft's own
 * figures. libraft's default (a snapshot every 1024 entries) halves this
 * ceiling at 64 in flight and triples its p99 (7.5k against 16k commits/s
 * here): an anchor measured that way flatters whatever is compared to it. */
#define SNAPSHOT_EVERY ((1u << 30) / CMD_SIZE)

/* The figures issue 14 quotes for this machine, printed beside ours. */
#define ISSUE_RATE_64 27000.0
#define ISSUE_P50_1_MS 0.28

struct settings {
	unsigned election_ms;
	unsigned heartbeat_ms;
	unsigned snapshot_threshold;
	unsigned snapshot_trailing;
	unsigned failover_inflight;
	unsigned seconds;
	unsigned rounds;
};

/* One page shared by the parent and all members (mapped before fork). */
struct shared {
	_Atomic uint64_t last_commit_ns[MEMBERS + 1]; /* by member id */
};

/* ------------------------------------------------------------------ */
/* A member: one process, one loop, one raft instance. Loop thread only. */

struct member;

struct proposal {
	struct raft_apply req; /* req.data points back here */
	struct member *m;
	uint64_t started;
	bool busy;
};

struct member {
	uv_loop_t loop;
	struct raft_uv_transport transport;
	struct raft_io io;
	struct raft_fsm fsm;
	struct raft raft;
	uv_pipe_t ctl;
	uv_check_t check;
	unsigned id;
	struct shared *shared;
	char line[128];
	size_t line_len;
	uint64_t applied; /* the FSM: entries applied */
	/* Load generator, active between "load N" and "stop". */
	bool loading;
	bool stopping;
	bool was_leader;
	unsigned target;
	unsigned inflight;
	struct proposal props[MAX_INFLIGHT];
	uint64_t *lat;
	size_t n_lat;
	uint64_t commits, failed;
	uint64_t load_started, load_stopped;
	uint64_t leader_since, first_commit_in_term;
};

static int fsm_apply(struct raft_fsm *fsm, const struct raft_buffer *buf,
		     void **result)
{
	struct member *m = fsm->data;

	if (buf->len != CMD_SIZE)
		return RAFT_MALFORMED;
	m->applied++;
	*result = NULL;
	return 0;
}

/* The snapshot is the counter; libraft frees bufs and bufs[0].base (version
 * 1 FSM: ownership passes to libraft). */
static int fsm_snapshot(struct raft_fsm *fsm, struct raft_buffer *bufs[],
			unsigned *n_bufs)
{
	struct member *m = fsm->data;

	*bufs = raft_malloc(sizeof **bufs);
	if (*bufs == NULL)
		return RAFT_NOMEM;
	(*bufs)[0].len = sizeof m->applied;
	(*bufs)[0].base = raft_malloc((*bufs)[0].len);
	if ((*bufs)[0].base == NULL) {
		raft_free(*bufs);
		return RAFT_NOMEM;
	}
	memcpy((*bufs)[0].base, &m->applied, sizeof m->applied);
	*n_bufs = 1;
	return 0;
}

/* On success restore owns buf->base and must free it. */
static int fsm_restore(struct raft_fsm *fsm, struct raft_buffer *buf)
{
	struct member *m = fsm->data;

	if (buf->len != sizeof m->applied)
		return RAFT_MALFORMED;
	memcpy(&m->applied, buf->base, sizeof m->applied);
	raft_free(buf->base);
	return 0;
}

static void member_reply(struct member *m, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Replies are a line of under 200 bytes to an idle socketpair: one
 * uv_try_write takes it whole, or the parent is gone. */
static void member_reply(struct member *m, const char *fmt, ...)
{
	char text[256];
	va_list ap;
	uv_buf_t b;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	b = uv_buf_init(text, (unsigned)n);
	if (uv_try_write((uv_stream_t *)&m->ctl, &b, 1) != n)
		fprintf(stderr, "raft_raw: member %u: reply lost\n", m->id);
}

static void member_report(struct member *m)
{
	uint64_t p50, p99;

	bench_sort(m->lat, m->n_lat);
	p50 = bench_pct(m->lat, m->n_lat, 0.50);
	p99 = bench_pct(m->lat, m->n_lat, 0.99);
	member_reply(m, "report %llu %llu %llu %llu %llu %llu %llu\n",
		     (unsigned long long)m->commits,
		     (unsigned long long)m->failed,
		     (unsigned long long)(m->load_stopped - m->load_started),
		     (unsigned long long)p50, (unsigned long long)p99,
		     (unsigned long long)m->leader_since,
		     (unsigned long long)m->first_commit_in_term);
}

static void apply_cb(struct raft_apply *req, int status, void *result)
{
	struct proposal *p = req->data;
	struct member *m = p->m;
	uint64_t now = uv_hrtime();

	(void)result;
	p->busy = false;
	m->inflight--;
	if (status == 0) {
		m->commits++;
		if (m->n_lat < LAT_CAP)
			m->lat[m->n_lat++] = now - p->started;
		if (m->first_commit_in_term == 0)
			m->first_commit_in_term = now;
		atomic_store(&m->shared->last_commit_ns[m->id], now);
	} else {
		/* RAFT_LEADERSHIPLOST or RAFT_SHUTDOWN: the outcome is
		 * unknown, counted and not retried here. */
		m->failed++;
	}
	if (m->stopping && m->inflight == 0) {
		m->stopping = false;
		member_report(m);
	}
}

/* Returns false when raft_apply refused (not leader any more). */
static bool propose(struct member *m, struct proposal *p)
{
	struct raft_buffer buf;
	int rv;

	buf.len = CMD_SIZE;
	buf.base = raft_malloc(CMD_SIZE);
	if (buf.base == NULL)
		return false;
	memset(buf.base, 'x', CMD_SIZE);
	memcpy(buf.base, &m->commits, sizeof m->commits);
	p->req.data = p;
	p->m = m;
	p->started = uv_hrtime();
	rv = raft_apply(&m->raft, &p->req, &buf, 1, apply_cb);
	if (rv != 0) {
		/* Ownership of buf passes only on success. */
		raft_free(buf.base);
		return false;
	}
	p->busy = true;
	m->inflight++;
	return true;
}

/* After every loop iteration: notice a new leadership (libraft 0.15 has no
 * state-change callback) and keep `target` proposals in flight. */
static void check_cb(uv_check_t *h)
{
	struct member *m = h->data;
	bool leader = raft_state(&m->raft) == RAFT_LEADER;
	unsigned i;

	if (leader && !m->was_leader) {
		m->leader_since = uv_hrtime();
		m->first_commit_in_term = 0;
	}
	m->was_leader = leader;
	if (!m->loading || !leader)
		return;
	for (i = 0; i < m->target && m->inflight < m->target; i++)
		if (!m->props[i].busy && !propose(m, &m->props[i]))
			return;
}

static void member_closed_cb(struct raft *r)
{
	struct member *m = r->data;

	raft_uv_close(&m->io);
	raft_uv_tcp_close(&m->transport);
	uv_close((uv_handle_t *)&m->ctl, NULL);
	uv_close((uv_handle_t *)&m->check, NULL);
}

static void member_quit(struct member *m)
{
	uv_read_stop((uv_stream_t *)&m->ctl);
	m->loading = false;
	raft_close(&m->raft, member_closed_cb);
}

static void member_command(struct member *m, const char *cmd)
{
	raft_id leader;
	const char *addr;
	unsigned n;

	if (strcmp(cmd, "state") == 0) {
		raft_leader(&m->raft, &leader, &addr);
		member_reply(m, "state %d %llu\n", raft_state(&m->raft),
			     (unsigned long long)leader);
	} else if (sscanf(cmd, "load %u", &n) == 1 && n >= 1 &&
		   n <= MAX_INFLIGHT) {
		m->target = n;
		m->loading = true;
		m->commits = m->failed = 0;
		m->n_lat = 0;
		m->leader_since = m->was_leader ? uv_hrtime() : 0;
		m->first_commit_in_term = 0;
		m->load_started = uv_hrtime();
		member_reply(m, "ok\n");
	} else if (strcmp(cmd, "stop") == 0) {
		m->loading = false;
		m->load_stopped = uv_hrtime();
		if (m->inflight == 0)
			member_report(m);
		else
			m->stopping = true;
	} else if (strcmp(cmd, "quit") == 0) {
		member_quit(m);
	} else {
		fprintf(stderr, "raft_raw: member %u: unknown command %s\n",
			m->id, cmd);
	}
}

static void ctl_alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct member *m = h->data;

	(void)hint;
	*buf = uv_buf_init(m->line + m->line_len,
			   (unsigned)(sizeof m->line - 1 - m->line_len));
}

static void ctl_read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct member *m = s->data;
	char *nl;

	(void)buf;
	if (nread < 0) {
		/* The parent is gone: nothing will ever stop us otherwise. */
		member_quit(m);
		return;
	}
	m->line_len += (size_t)nread;
	m->line[m->line_len] = '\0';
	while ((nl = strchr(m->line, '\n')) != NULL) {
		*nl = '\0';
		member_command(m, m->line);
		m->line_len -= (size_t)(nl + 1 - m->line);
		memmove(m->line, nl + 1, m->line_len + 1);
	}
	if (m->line_len == sizeof m->line - 1)
		m->line_len = 0; /* a line too long: not ours, dropped */
}

static int member_configure(struct member *m, const char *addrs[],
			    const struct settings *st)
{
	struct raft_configuration conf;
	unsigned i;
	int rv;

	raft_configuration_init(&conf);
	for (i = 0; i < MEMBERS; i++) {
		rv = raft_configuration_add(&conf, i + 1, addrs[i], RAFT_VOTER);
		if (rv != 0)
			goto out;
	}
	/* A restarted member is not pristine: RAFT_CANTBOOTSTRAP is its
	 * normal answer. */
	rv = raft_bootstrap(&m->raft, &conf);
	if (rv == RAFT_CANTBOOTSTRAP)
		rv = 0;
out:
	raft_configuration_close(&conf);
	raft_set_election_timeout(&m->raft, st->election_ms);
	raft_set_heartbeat_timeout(&m->raft, st->heartbeat_ms);
	raft_set_snapshot_threshold(&m->raft, st->snapshot_threshold);
	raft_set_snapshot_trailing(&m->raft, st->snapshot_trailing);
	raft_set_pre_vote(&m->raft, true);
	return rv;
}

/* Sets up and runs one member until "quit"; returns the exit status. */
static int member_run(struct member *m, const char *dir, const char *addrs[],
		      int ctl_fd, const struct settings *st)
{
	int rv;

	m->lat = malloc(LAT_CAP * sizeof *m->lat);
	if (m->lat == NULL || uv_loop_init(&m->loop) != 0)
		return 1;
	m->fsm = (struct raft_fsm){.version = 1,
				   .data = m,
				   .apply = fsm_apply,
				   .snapshot = fsm_snapshot,
				   .restore = fsm_restore};
	rv = raft_uv_tcp_init(&m->transport, &m->loop);
	if (rv != 0)
		goto err;
	rv = raft_uv_init(&m->io, &m->loop, dir, &m->transport);
	if (rv != 0) {
		fprintf(stderr, "raft_raw: raft_uv_init(): %s\n",
			m->io.errmsg);
		goto err;
	}
	rv = raft_init(&m->raft, &m->io, &m->fsm, m->id, addrs[m->id - 1]);
	if (rv != 0)
		goto err_raft;
	m->raft.data = m;
	rv = member_configure(m, addrs, st);
	if (rv != 0)
		goto err_raft;
	rv = raft_start(&m->raft);
	if (rv != 0)
		goto err_raft;
	uv_pipe_init(&m->loop, &m->ctl, 0);
	uv_pipe_open(&m->ctl, ctl_fd);
	m->ctl.data = m;
	uv_read_start((uv_stream_t *)&m->ctl, ctl_alloc_cb, ctl_read_cb);
	uv_check_init(&m->loop, &m->check);
	m->check.data = m;
	uv_check_start(&m->check, check_cb);
	uv_run(&m->loop, UV_RUN_DEFAULT);
	rv = uv_loop_close(&m->loop);
	free(m->lat);
	return rv == 0 ? 0 : 1;
err_raft:
	fprintf(stderr, "raft_raw: member %u: %s (%s)\n", m->id,
		raft_strerror(rv), raft_errmsg(&m->raft));
err:
	return 1;
}

/* ------------------------------------------------------------------ */
/* The parent: starts, drives, kills and stops the members. */

struct cluster {
	const char *base;
	char dirs[MEMBERS][512];
	char addr_text[MEMBERS][32];
	const char *addrs[MEMBERS];
	pid_t pid[MEMBERS];
	int fd[MEMBERS]; /* parent's end of each socketpair, -1 when dead */
	struct shared *shared;
	struct settings st;
};

/* A port the kernel just handed out on loopback; the tiny window until the
 * member binds it is acceptable for a benchmark run by hand. */
static int free_port(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof sa;
	int fd, port = -1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

static int cluster_spawn(struct cluster *c, unsigned i)
{
	struct member *m;
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		return -1;
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(sv[0]);
		for (unsigned j = 0; j < MEMBERS; j++)
			if (c->fd[j] >= 0)
				close(c->fd[j]);
		m = calloc(1, sizeof *m);
		if (m == NULL)
			_exit(1);
		m->id = i + 1;
		m->shared = c->shared;
		_exit(member_run(m, c->dirs[i], c->addrs, sv[1], &c->st));
	}
	close(sv[1]);
	c->pid[i] = pid;
	c->fd[i] = sv[0];
	return 0;
}

static int send_line(struct cluster *c, unsigned i, const char *line)
{
	size_t n = strlen(line);

	if (c->fd[i] >= 0 && write(c->fd[i], line, n) == (ssize_t)n)
		return 0;
	fprintf(stderr, "raft_raw: member %u is gone\n", i + 1);
	return -1;
}

/* Reads one reply line of member i (a command gets one, or none). */
static int read_line(struct cluster *c, unsigned i, char *out, size_t n)
{
	struct pollfd pfd = {.fd = c->fd[i], .events = POLLIN};
	size_t len = 0;

	while (len + 1 < n) {
		if (poll(&pfd, 1, REPLY_TIMEOUT_MS) != 1 ||
		    read(c->fd[i], out + len, 1) != 1) {
			fprintf(stderr, "raft_raw: member %u did not answer\n",
				i + 1);
			return -1;
		}
		if (out[len++] == '\n')
			break;
	}
	out[len] = '\0';
	return 0;
}

static int ask(struct cluster *c, unsigned i, const char *cmd, char *out,
	       size_t n)
{
	return send_line(c, i, cmd) == 0 ? read_line(c, i, out, n) : -1;
}

/* Index of the member that reports itself leader, -1 after timeout_ms. */
static int wait_leader(struct cluster *c, unsigned timeout_ms)
{
	uint64_t until = uv_hrtime() + (uint64_t)timeout_ms * 1000000;
	char line[128];
	int state;

	while (uv_hrtime() < until) {
		for (unsigned i = 0; i < MEMBERS; i++) {
			if (c->fd[i] < 0 ||
			    ask(c, i, "state\n", line, sizeof line) != 0)
				continue;
			if (sscanf(line, "state %d", &state) == 1 &&
			    state == RAFT_LEADER)
				return (int)i;
		}
		usleep(10000);
	}
	return -1;
}

struct report {
	unsigned long long commits, failed, elapsed, p50, p99, leader_since,
		first_commit;
};

static int read_report(struct cluster *c, unsigned i, struct report *r)
{
	char line[256];

	if (read_line(c, i, line, sizeof line) != 0)
		return -1;
	return sscanf(line, "report %llu %llu %llu %llu %llu %llu %llu",
		      &r->commits, &r->failed, &r->elapsed, &r->p50, &r->p99,
		      &r->leader_since, &r->first_commit) == 7
		       ? 0
		       : -1;
}

/* Starts load on every live member, lets it run, stops it and collects each
 * member's report (a follower's shows no commits). */
static int run_load(struct cluster *c, unsigned inflight, unsigned ms,
		    struct report rep[MEMBERS])
{
	char cmd[32], line[64];

	snprintf(cmd, sizeof cmd, "load %u\n", inflight);
	for (unsigned i = 0; i < MEMBERS; i++)
		if (c->fd[i] >= 0 && ask(c, i, cmd, line, sizeof line) != 0)
			return -1;
	usleep(ms * 1000);
	for (unsigned i = 0; i < MEMBERS; i++)
		if (c->fd[i] >= 0 && send_line(c, i, "stop\n") != 0)
			return -1;
	memset(rep, 0, MEMBERS * sizeof *rep);
	for (unsigned i = 0; i < MEMBERS; i++)
		if (c->fd[i] >= 0 && read_report(c, i, &rep[i]) != 0)
			return -1;
	return 0;
}

static void print_throughput(unsigned inflight, const struct report rep[])
{
	const struct report *best = &rep[0];
	unsigned long long commits = 0, failed = 0;
	unsigned leaders = 0;
	double rate;

	for (unsigned i = 0; i < MEMBERS; i++) {
		commits += rep[i].commits;
		failed += rep[i].failed;
		leaders += rep[i].commits > 0;
		if (rep[i].commits > best->commits)
			best = &rep[i];
	}
	rate = best->elapsed ? commits * 1e9 / (double)best->elapsed : 0;
	printf("  %2u in flight: %8.0f commits/s  p50 %6.3f ms  p99 %7.3f ms",
	       inflight, rate, best->p50 / 1e6, best->p99 / 1e6);
	if (inflight == 64)
		printf("   (issue 14: %.0f commits/s)", ISSUE_RATE_64);
	if (inflight == 1)
		printf("   (issue 14: p50 %.2f ms)", ISSUE_P50_1_MS);
	if (failed || leaders > 1)
		printf("  [%llu failed, %u leaders]", failed, leaders);
	printf("\n");
}

static void print_load(void)
{
	double avg[3];

	if (getloadavg(avg, 3) == 3)
		printf("  (load average %.2f %.2f %.2f)\n", avg[0], avg[1],
		       avg[2]);
}

static int throughput(struct cluster *c)
{
	static const unsigned inflight[] = {1, 8, 64};
	struct report rep[MEMBERS];

	printf("throughput: 64-byte commands, %u s per run, two runs each\n",
	       c->st.seconds);
	for (unsigned k = 0; k < 3; k++)
		for (unsigned run = 0; run < 2; run++) {
			if (wait_leader(c, 10000) < 0 ||
			    run_load(c, inflight[k], c->st.seconds * 1000,
				     rep) != 0)
				return -1;
			print_throughput(inflight[k], rep);
		}
	print_load();
	return 0;
}

static void reap(struct cluster *c, unsigned i)
{
	waitpid(c->pid[i], NULL, 0);
	close(c->fd[i]);
	c->fd[i] = -1;
	c->pid[i] = -1;
}

static uint64_t commit_of(struct cluster *c, unsigned i)
{
	return atomic_load(&c->shared->last_commit_ns[i + 1]);
}

/* Waits until a survivor commits after `after`, at most 10 s. */
static void wait_commit_after(struct cluster *c, uint64_t after)
{
	uint64_t until = uv_hrtime() + 10000000000ull;

	while (uv_hrtime() < until) {
		for (unsigned i = 0; i < MEMBERS; i++)
			if (c->fd[i] >= 0 && commit_of(c, i) > after)
				return;
		usleep(1000);
	}
}

static int failover_round(struct cluster *c, unsigned round)
{
	struct report rep[MEMBERS];
	uint64_t killed, last_ack;
	char cmd[32], line[64];
	int l;

	l = wait_leader(c, 10000);
	if (l < 0)
		return -1;
	snprintf(cmd, sizeof cmd, "load %u\n", c->st.failover_inflight);
	for (unsigned i = 0; i < MEMBERS; i++)
		if (ask(c, i, cmd, line, sizeof line) != 0)
			return -1;
	usleep(1000000);
	l = wait_leader(c, 10000);
	if (l < 0)
		return -1;
	killed = uv_hrtime();
	kill(c->pid[l], SIGKILL);
	reap(c, (unsigned)l);
	last_ack = commit_of(c, (unsigned)l);
	wait_commit_after(c, killed);
	for (unsigned i = 0; i < MEMBERS; i++)
		if (c->fd[i] >= 0 && send_line(c, i, "stop\n") != 0)
			return -1;
	memset(rep, 0, sizeof rep);
	for (unsigned i = 0; i < MEMBERS; i++) {
		if (c->fd[i] < 0)
			continue;
		if (read_report(c, i, &rep[i]) != 0)
			return -1;
		if (rep[i].first_commit > killed)
			printf("  round %u: killed leader %d; member %u elected "
			       "after %.0f ms, first commit %.0f ms after the "
			       "kill (%.0f ms after the last acknowledged "
			       "commit)\n",
			       round, l + 1, i + 1,
			       (double)(rep[i].leader_since - killed) / 1e6,
			       (double)(rep[i].first_commit - killed) / 1e6,
			       (double)(rep[i].first_commit - last_ack) / 1e6);
	}
	/* Restart the killed member on its own data for the next round. */
	if (cluster_spawn(c, (unsigned)l) != 0)
		return -1;
	usleep(1000000);
	return 0;
}

static int failover(struct cluster *c)
{
	printf("failover: SIGKILL of the leader, %u in flight on whoever "
	       "leads; election timeout %u ms (randomized to 1-2x), "
	       "heartbeat %u ms, pre-vote on\n",
	       c->st.failover_inflight, c->st.election_ms,
	       c->st.heartbeat_ms);
	for (unsigned r = 1; r <= c->st.rounds; r++)
		if (failover_round(c, r) != 0)
			return -1;
	print_load();
	return 0;
}

/* Asks each live member to close cleanly; a member that has not exited 5 s
 * later is killed, by its pid. */
static void cluster_stop(struct cluster *c)
{
	for (unsigned i = 0; i < MEMBERS; i++)
		if (c->fd[i] >= 0)
			send_line(c, i, "quit\n");
	for (unsigned i = 0; i < MEMBERS; i++) {
		int status = 0;
		unsigned waited = 0;

		if (c->pid[i] <= 0)
			continue;
		while (waitpid(c->pid[i], &status, WNOHANG) == 0) {
			if (++waited == 500) {
				fprintf(stderr, "raft_raw: member %u did not "
						"close; killing it\n",
					i + 1);
				kill(c->pid[i], SIGKILL);
				waitpid(c->pid[i], &status, 0);
				break;
			}
			usleep(10000);
		}
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			fprintf(stderr, "raft_raw: member %u exited badly\n",
				i + 1);
		close(c->fd[i]);
		c->fd[i] = -1;
		c->pid[i] = -1;
	}
}

static int cluster_start(struct cluster *c)
{
	for (unsigned i = 0; i < MEMBERS; i++) {
		int port = free_port();

		if (port < 0)
			return -1;
		snprintf(c->addr_text[i], sizeof c->addr_text[i],
			 "127.0.0.1:%d", port);
		c->addrs[i] = c->addr_text[i];
		snprintf(c->dirs[i], sizeof c->dirs[i], "%s/m%u", c->base,
			 i + 1);
		if (bench_fresh_dir("raft_raw", c->dirs[i]) != 0)
			return -1;
	}
	for (unsigned i = 0; i < MEMBERS; i++)
		if (cluster_spawn(c, i) != 0)
			return -1;
	return 0;
}

static int parse_args(int argc, char **argv, struct settings *st,
		      const char **dir)
{
	int opt;

	while ((opt = getopt(argc, argv, "d:s:r:e:b:f:")) != -1) {
		unsigned long v = 0;

		if (opt == '?')
			goto usage;
		if (opt != 'd') {
			char *end;
			v = strtoul(optarg, &end, 10);
			if (*end != '\0' || v == 0 || v > 60000)
				goto usage;
		}
		switch (opt) {
		case 'd':
			*dir = optarg;
			break;
		case 's':
			st->seconds = (unsigned)v;
			break;
		case 'r':
			st->rounds = (unsigned)v;
			break;
		case 'e':
			st->election_ms = (unsigned)v;
			break;
		case 'b':
			st->heartbeat_ms = (unsigned)v;
			break;
		default: /* 'f' */
			if (v > MAX_INFLIGHT)
				goto usage;
			st->failover_inflight = (unsigned)v;
			break;
		}
	}
	if (optind == argc && st->heartbeat_ms < st->election_ms)
		return 0;
usage:
	fprintf(stderr,
		"usage: raft_raw [-d DIR] [-s SECONDS] [-r ROUNDS] "
		"[-e ELECTION_MS] [-b HEARTBEAT_MS (below ELECTION_MS)] "
		"[-f FAILOVER_INFLIGHT (1-%d)]\n",
		MAX_INFLIGHT);
	return -1;
}

int main(int argc, char **argv)
{
	struct cluster c = {
		.st = {.election_ms = 300,
		       .heartbeat_ms = 50,
		       .snapshot_threshold = SNAPSHOT_EVERY,
		       .snapshot_trailing = SNAPSHOT_EVERY,
		       .failover_inflight = 1,
		       .seconds = 5,
		       .rounds = 3}};
	const char *dir = NULL;
	struct bench_dsync disk;
	char made[256];
	int rv = 1;

	if (parse_args(argc, argv, &c.st, &dir) != 0)
		return 2;
	if (dir == NULL) {
		dir = tmpdir_make(made, sizeof made, "raft-raw");
		if (dir == NULL) {
			perror("raft_raw: temp dir");
			return 1;
		}
	} else if (bench_fresh_dir("raft_raw", dir) != 0) {
		return 1;
	}
	c.base = dir;
	/* No member yet: cluster_stop must not take a zeroed slot for fd 0. */
	for (unsigned i = 0; i < MEMBERS; i++) {
		c.fd[i] = -1;
		c.pid[i] = -1;
	}
	c.shared = mmap(NULL, sizeof *c.shared, PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (c.shared == MAP_FAILED) {
		perror("raft_raw: mmap");
		goto out;
	}
	/* A member that dies must not kill us through a write to its pipe. */
	signal(SIGPIPE, SIG_IGN);
	/* The disk's own floor: a commit needs at least one fsync on the
	 * leader and one on a follower, one after the other. */
	bench_dsync_writes("raft_raw", dir, &disk);
	printf("raft_raw: 3 libraft members (processes) on loopback, "
	       "data in %s; snapshot threshold %u, trailing %u\n"
	       "disk: %.0f 4 KiB O_DSYNC writes/s, p50 %.1f us\n",
	       dir, c.st.snapshot_threshold, c.st.snapshot_trailing, disk.rate,
	       (double)disk.p50_ns / 1e3);
	if (cluster_start(&c) == 0 && throughput(&c) == 0 &&
	    failover(&c) == 0)
		rv = 0;
	cluster_stop(&c);
	munmap(c.shared, sizeof *c.shared);
out:
	tmpdir_remove(dir);
	return rv;
}
