/* How late graftd's event loop answers its own timers while clients work.
 * Runs a whole server in this process (the graftd wiring, a fresh home,
 * auth off) and arms a 1 ms timer on its loop again and again, recording
 * how much later than asked each one fires: the time any callback held the
 * loop. Clients are bench/bolt_bench processes, spawned from the loop:
 *   1. point reads: 50 clients of MATCH (n:P {id: $id}) for SECONDS;
 *   2. the same while one client runs a long query (UNWIND ranges,
 *      count(*)) that takes seconds.
 * Prints lag p50/p99/max for each phase beside the issue's targets
 * (p99 <= 2 ms, max <= 10 ms) and bolt_bench's own lines, and for the
 * worst tick how long the loop's thread ran meanwhile, waited for a CPU
 * and slept: a tick late while the thread waited for a CPU is the
 * machine's scheduling, not a callback holding the loop; one it slept
 * through is a lock or a blocking call. (The kernel's schedstat moves at
 * context switches, so the three are close, not exact.) For that tick it
 * also prints what the thread did by the kernel's count (getrusage: page
 * faults, sleeps, preemptions, system time) and, where it slept or
 * blocked, on what: a watchdog thread samples the loop thread every
 * millisecond while a tick is 3 ms or more overdue (its state, the
 * kernel function it waits in, the system call and its first argument:
 * the gate's mutex named, a file descriptor by what it is, a futex by
 * address and the libc function waiting on it) and the tick keeps the
 * samples taken while it was late. Its monotonic time is printed too, to
 * find it in a `perf record -k CLOCK_MONOTONIC` of the same run.
 *   loop_lag [-c CLIENTS] [-d SECONDS] [-n LONG_N] [-p BASE_PORT]
 *            [-w WORKERS] [-N NODES] [-k CHECKPOINT_SECONDS] HOME
 * -w sets server.threads.worker_count (default: one per core); -N the
 * nodes created and read (default 10,000); -k db.checkpoint.interval.time
 * in seconds, so that a checkpoint of what the setup wrote runs during the
 * first phase (the server's log line says how long it paused the loop;
 * above 1 MiB of graph it forks). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "bench_util.h"
#include "server/server.h"
#include "util/config.h"

#define INDEX "CREATE INDEX FOR (n:P) ON (n.id)"
#define POINT "MATCH (n:P {id: $id}) RETURN n.id"

/* The watchdog's samples (struct watch). */
#define WATCH_TEXT 1024
#define WATCH_KINDS 6
#define WATCH_LATE_NS 3000000ull

struct lag {
	uint64_t *v;
	size_t n, cap;
	/* The latest tick, and what the loop's thread did between it being
	 * armed and firing (/proc/thread-self/schedstat): on its CPU, waiting
	 * for one (runnable: the kernel ran others on the cores), or neither
	 * (asleep: in epoll_wait for the 1 ms asked, or blocked in a lock or
	 * a syscall). A lag spent on the CPU or blocked is the server's own;
	 * one spent waiting for a CPU is the machine's scheduling. */
	uint64_t start_ns; /* when the phase began measuring */
	struct tick_why {
		uint64_t lag, cpu, wait, at; /* at: ns into the phase */
		uint64_t mono_ns;            /* when it fired, CLOCK_MONOTONIC */
		struct tick_usage {
			long minflt, majflt, nvcsw, nivcsw;
			uint64_t sys_ns;
		} use; /* the loop thread's, over the tick (getrusage) */
		char seen[WATCH_TEXT]; /* the watchdog's samples, if late */
	} worst, worst_ours; /* of all; of those mostly not waiting for a CPU */
	size_t over5, over5_ours; /* ticks 5 ms or more late; mostly ours */
};

/* The watchdog: a thread that looks at the loop thread while a tick is
 * overdue (see the top). It reads /proc, so it sees the loop thread from
 * outside without stopping it; the loop takes its samples with a trylock
 * (never waiting for the watchdog). */
struct watch {
	pthread_t th;
	pid_t tid;             /* the loop thread's */
	uint64_t fired_ns;     /* atomic: the last tick's firing (uv_hrtime) */
	bool stop;             /* atomic */
	const void *gate_mu;   /* named in its samples */
	pthread_mutex_t mu;    /* the samples below */
	uint64_t episode;      /* fired_ns they were taken after */
	unsigned n_kinds;
	struct {
		char what[256];
		unsigned n;
	} kinds[WATCH_KINDS];
	unsigned other; /* samples beyond WATCH_KINDS kinds */
	/* its own longest sleep past the millisecond it asked, while the
	 * tick was overdue: as long as the tick's lag, the whole machine
	 * (this VM's CPUs, or the host under it) stood still, not the loop */
	uint64_t overslept_ns;
};

struct run {
	struct server srv;
	struct watch watch;
	struct tick_usage armed_use; /* the loop thread's at the last tick */
	uv_timer_t tick;
	uint64_t armed_ns;
	int schedstat; /* the loop thread's /proc/thread-self/schedstat */
	uint64_t armed_cpu, armed_wait; /* its CPU and runnable time then */
	struct lag phases[2];
	int phase;   /* index into phases while measuring, < 0 before */
	unsigned children;
	char bench[PATH_MAX];
	char addr[64];
	char clients[16], seconds[16], nodes[24], long_query[160];
	char setup[96];
};

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "loop_lag: %s: %s\n", what, detail);
	exit(1);
}

static void lag_add(struct lag *l, uint64_t ns)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 4096;
		l->v = realloc(l->v, l->cap * sizeof *l->v);
		if (l->v == NULL)
			die("lag samples", "out of memory");
	}
	l->v[l->n++] = ns;
}

/* The loop thread's time on a CPU and waiting for one, ns (0 and 0 where
 * the kernel keeps no schedstat). */
static void sched_times(struct run *r, uint64_t *cpu, uint64_t *wait)
{
	char buf[96];
	ssize_t n = pread(r->schedstat, buf, sizeof buf - 1, 0);
	unsigned long long c = 0, w = 0;

	if (n > 0) {
		buf[n] = '\0';
		sscanf(buf, "%llu %llu", &c, &w);
	}
	*cpu = c;
	*wait = w;
}

/* The calling thread's counts (RUSAGE_THREAD). */
static void thread_usage(struct tick_usage *u)
{
	struct rusage ru;

	memset(u, 0, sizeof *u);
	if (getrusage(RUSAGE_THREAD, &ru) != 0)
		return;
	u->minflt = ru.ru_minflt;
	u->majflt = ru.ru_majflt;
	u->nvcsw = ru.ru_nvcsw;
	u->nivcsw = ru.ru_nivcsw;
	u->sys_ns = (uint64_t)ru.ru_stime.tv_sec * 1000000000ull +
		    (uint64_t)ru.ru_stime.tv_usec * 1000ull;
}

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Loop thread: what the watchdog saw while the tick that fired now was
 * overdue (armed at episode), if it can have it without waiting. */
static void watch_take(struct watch *w, uint64_t episode, char *out)
{
	size_t len = 0;

	out[0] = '\0';
	if (pthread_mutex_trylock(&w->mu) != 0)
		return;
	if (w->episode == episode)
		for (unsigned i = 0; i < w->n_kinds; i++)
			len += (size_t)snprintf(
				out + len, len < WATCH_TEXT ? WATCH_TEXT - len : 0,
				"%s%u x %s", i ? "; " : "", w->kinds[i].n,
				w->kinds[i].what);
	if (w->episode == episode && w->other > 0 && len < WATCH_TEXT)
		len += (size_t)snprintf(out + len, WATCH_TEXT - len,
					"; %u x other", w->other);
	if (w->episode == episode && len < WATCH_TEXT)
		snprintf(out + len, WATCH_TEXT - len,
			 " (the watchdog's own 1 ms sleeps overran by up to "
			 "%.2f ms)", w->overslept_ns / 1e6);
	w->episode = 0;
	w->overslept_ns = 0;
	w->n_kinds = 0;
	w->other = 0;
	pthread_mutex_unlock(&w->mu);
}

static void tick_cb(uv_timer_t *t)
{
	struct run *r = t->data;
	uint64_t now = uv_hrtime(), due = r->armed_ns + 1000000;
	uint64_t lag = now > due ? now - due : 0, cpu, wait;
	struct tick_usage use;

	sched_times(r, &cpu, &wait);
	thread_usage(&use);
	if (r->phase >= 0) {
		struct lag *l = &r->phases[r->phase];
		uint64_t on_cpu = cpu - r->armed_cpu;
		uint64_t waited = wait - r->armed_wait;
		bool worst = lag >= l->worst.lag;
		bool ours = waited < lag / 2 && lag >= l->worst_ours.lag;
		struct tick_why why = {
			lag, on_cpu, waited, now - l->start_ns, monotonic_ns(),
			{use.minflt - r->armed_use.minflt,
			 use.majflt - r->armed_use.majflt,
			 use.nvcsw - r->armed_use.nvcsw,
			 use.nivcsw - r->armed_use.nivcsw,
			 use.sys_ns - r->armed_use.sys_ns},
			""};

		lag_add(l, lag);
		if (lag >= 5000000) {
			l->over5++;
			l->over5_ours += waited < lag / 2;
		}
		if (worst || ours)
			watch_take(&r->watch, r->armed_ns, why.seen);
		if (worst)
			l->worst = why;
		if (ours)
			l->worst_ours = why;
	}
	r->armed_ns = now;
	r->armed_cpu = cpu;
	r->armed_wait = wait;
	r->armed_use = use;
	__atomic_store_n(&r->watch.fired_ns, now, __ATOMIC_RELEASE);
	uv_timer_start(t, tick_cb, 1, 0);
}

/* Watchdog ------------------------------------------------------------ */

static const char *syscall_name(long nr)
{
	static const struct {
		long nr;
		const char *name;
	} names[] = {
		{SYS_read, "read"},         {SYS_write, "write"},
		{SYS_writev, "writev"},     {SYS_readv, "readv"},
		{SYS_futex, "futex"},       {SYS_epoll_wait, "epoll_wait"},
		{SYS_epoll_pwait, "epoll_pwait"}, {SYS_fsync, "fsync"},
		{SYS_fdatasync, "fdatasync"}, {SYS_close, "close"},
		{SYS_mmap, "mmap"},         {SYS_munmap, "munmap"},
		{SYS_madvise, "madvise"},   {SYS_mprotect, "mprotect"},
		{SYS_brk, "brk"},           {SYS_openat, "openat"},
		{SYS_sendto, "sendto"},     {SYS_recvfrom, "recvfrom"},
		{SYS_sendmsg, "sendmsg"},   {SYS_recvmsg, "recvmsg"},
		{SYS_clone, "clone"},       {SYS_clone3, "clone3"},
		{SYS_wait4, "wait4"},       {SYS_unlinkat, "unlinkat"},
		{SYS_renameat, "renameat"}, {SYS_ftruncate, "ftruncate"},
		{SYS_fallocate, "fallocate"}, {SYS_pwrite64, "pwrite64"},
		{SYS_pread64, "pread64"},
	};

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (names[i].nr == nr)
			return names[i].name;
	return NULL;
}

static ssize_t read_text(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return n;
}

/* One look at the loop thread: "S futex(the gate's mutex) from
 * __lll_lock_wait in futex_wait_queue", or "R" (on a CPU or waiting for
 * one: /proc shows no more of what it runs). */
static void watch_sample(struct watch *w, char *out, size_t size)
{
	char path[96], stat[512], wchan[64] = "", sc[256] = "", what[160];
	const char *paren, *name;
	unsigned long long a[6] = {0}, sp = 0, pc = 0;
	long nr = -2;
	char state = '?';
	Dl_info info;

	snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)w->tid);
	if (read_text(path, stat, sizeof stat) > 0 &&
	    (paren = strrchr(stat, ')')) != NULL && paren[1] == ' ')
		state = paren[2];
	if (state == 'R') {
		snprintf(out, size, "R (on a CPU or waiting for one)");
		return;
	}
	/* (epoll_wait with the tick overdue: asleep past its timer, the
	 * kernel or the host did not run it) */
	snprintf(path, sizeof path, "/proc/self/task/%d/wchan", (int)w->tid);
	read_text(path, wchan, sizeof wchan);
	snprintf(path, sizeof path, "/proc/self/task/%d/syscall", (int)w->tid);
	if (read_text(path, sc, sizeof sc) > 0 && strcmp(sc, "running") != 0)
		sscanf(sc, "%ld %llx %llx %llx %llx %llx %llx %llx %llx", &nr,
		       &a[0], &a[1], &a[2], &a[3], &a[4], &a[5], &sp, &pc);
	name = syscall_name(nr);
	if (nr == -1) {
		snprintf(what, sizeof what, "no system call (a page fault?)");
	} else if (nr == SYS_futex) {
		if ((const void *)(uintptr_t)a[0] == w->gate_mu)
			snprintf(what, sizeof what, "futex(the gate's mutex)");
		else
			snprintf(what, sizeof what, "futex(%#llx)", a[0]);
	} else if (name != NULL &&
		   (nr == SYS_read || nr == SYS_write || nr == SYS_writev ||
		    nr == SYS_fsync || nr == SYS_fdatasync ||
		    nr == SYS_pwrite64 || nr == SYS_pread64 ||
		    nr == SYS_sendto || nr == SYS_sendmsg)) {
		char fd[64], target[128];
		ssize_t n;

		snprintf(fd, sizeof fd, "/proc/self/fd/%llu", a[0]);
		n = readlink(fd, target, sizeof target - 1);
		target[n > 0 ? n : 0] = '\0';
		snprintf(what, sizeof what, "%s(fd %llu: %s)", name, a[0],
			 target);
	} else if (name != NULL) {
		snprintf(what, sizeof what, "%s", name);
	} else {
		snprintf(what, sizeof what, "system call %ld", nr);
	}
	if (pc != 0 && dladdr((void *)(uintptr_t)pc, &info) != 0 &&
	    info.dli_sname != NULL)
		snprintf(out, size, "%c %s from %s in %s", state, what,
			 info.dli_sname, wchan[0] ? wchan : "?");
	else
		snprintf(out, size, "%c %s in %s", state, what,
			 wchan[0] ? wchan : "?");
}

static void watch_add(struct watch *w, uint64_t episode, const char *what,
		      uint64_t overslept)
{
	pthread_mutex_lock(&w->mu);
	if (w->episode != episode) {
		w->episode = episode;
		w->n_kinds = 0;
		w->other = 0;
		w->overslept_ns = 0;
	}
	if (overslept > w->overslept_ns)
		w->overslept_ns = overslept;
	for (unsigned i = 0; i < w->n_kinds; i++)
		if (strcmp(w->kinds[i].what, what) == 0) {
			w->kinds[i].n++;
			pthread_mutex_unlock(&w->mu);
			return;
		}
	if (w->n_kinds < WATCH_KINDS) {
		snprintf(w->kinds[w->n_kinds].what,
			 sizeof w->kinds[w->n_kinds].what, "%s", what);
		w->kinds[w->n_kinds++].n = 1;
	} else {
		w->other++;
	}
	pthread_mutex_unlock(&w->mu);
}

static void *watch_main(void *arg)
{
	struct watch *w = arg;
	struct timespec ms = {0, 1000000};
	char what[256];

	while (!__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE)) {
		uint64_t fired = __atomic_load_n(&w->fired_ns, __ATOMIC_ACQUIRE);
		uint64_t slept = uv_hrtime(), over;

		nanosleep(&ms, NULL);
		slept = uv_hrtime() - slept;
		over = slept > 1000000 ? slept - 1000000 : 0;
		if (fired == 0 || uv_hrtime() < fired + WATCH_LATE_NS ||
		    __atomic_load_n(&w->fired_ns, __ATOMIC_ACQUIRE) != fired)
			continue;
		watch_sample(w, what, sizeof what);
		/* the tick fired meanwhile: not this episode's */
		if (__atomic_load_n(&w->fired_ns, __ATOMIC_ACQUIRE) == fired)
			watch_add(w, fired, what, over);
	}
	return NULL;
}

static void phase_start(struct run *r, int phase);

/* Stops measuring and the server, through its own clean stop. */
static void stop(struct run *r)
{
	uv_close((uv_handle_t *)&r->tick, NULL);
	uv_kill(getpid(), SIGTERM);
}

static void exit_cb(uv_process_t *p, int64_t status, int sig)
{
	struct run *r = p->data;

	if (status != 0 || sig != 0)
		die("bolt_bench", "failed (see its message above)");
	uv_close((uv_handle_t *)p, (uv_close_cb)free);
	if (--r->children > 0)
		return;
	if (r->phase < 1)
		phase_start(r, r->phase + 1);
	else
		stop(r);
}

/* Spawns bolt_bench with args (NULL-terminated, after the program). */
static void spawn_bench(struct run *r, const char *const *args)
{
	uv_process_options_t o;
	uv_stdio_container_t io[3];
	const char *argv[16];
	uv_process_t *p = calloc(1, sizeof *p);
	size_t n = 0;

	if (p == NULL)
		die("spawn", "out of memory");
	argv[n++] = r->bench;
	while (*args != NULL && n < 15)
		argv[n++] = *args++;
	argv[n] = NULL;
	memset(&o, 0, sizeof o);
	for (int i = 0; i < 3; i++) {
		io[i].flags = UV_INHERIT_FD;
		io[i].data.fd = i;
	}
	o.file = r->bench;
	o.args = (char **)argv;
	o.exit_cb = exit_cb;
	o.stdio = io;
	o.stdio_count = 3;
	p->data = r;
	if (uv_spawn(&r->srv.loop, p, &o) != 0)
		die("spawn", r->bench);
	r->children++;
}

static void phase_start(struct run *r, int phase)
{
	const char *setup[] = {"-c", "1", "-d", "0", "-s", INDEX, r->addr,
			       r->setup, NULL};
	const char *points[] = {"-c", r->clients, "-d", r->seconds, "-r",
				r->nodes, r->addr, POINT, NULL};
	const char *one_long[] = {"-c", "1", "-d", "0", r->addr,
				  r->long_query, NULL};

	r->phase = phase;
	if (phase == -1) {
		spawn_bench(r, setup);
		return;
	}
	printf("phase %d: %s\n", phase + 1,
	       phase == 0 ? "point reads alone" : "point reads beside one long query");
	fflush(stdout);
	if (phase == 1)
		spawn_bench(r, one_long);
	spawn_bench(r, points);
	/* A spawn forks this process and waits on the loop for the child's
	 * exec (uv_spawn): 10-20 ms here, the bench's own, which the first
	 * tick of a phase counted as the server's until 2026-12-06. The
	 * phase is measured from here. */
	r->phases[phase].start_ns = uv_hrtime();
	r->armed_ns = r->phases[phase].start_ns;
	sched_times(r, &r->armed_cpu, &r->armed_wait);
	thread_usage(&r->armed_use);
	__atomic_store_n(&r->watch.fired_ns, r->armed_ns, __ATOMIC_RELEASE);
	uv_timer_start(&r->tick, tick_cb, 1, 0);
}

static void print_why(const char *what, const struct tick_why *w)
{
	uint64_t span = w->lag + 1000000, other = span - w->cpu - w->wait;

	if (w->cpu + w->wait > span)
		other = 0;
	printf("  %s: %.2f ms late, %.2f s into the phase; of its %.2f ms "
	       "the loop's thread ran %.2f ms, waited for a CPU %.2f ms, "
	       "slept or blocked %.2f ms\n",
	       what, w->lag / 1e6, w->at / 1e9, span / 1e6, w->cpu / 1e6,
	       w->wait / 1e6, other / 1e6);
	if (w->lag == 0)
		return;
	printf("    at CLOCK_MONOTONIC %.6f s; the thread: %ld minor and %ld "
	       "major page faults, %ld sleeps, %ld preemptions, %.2f ms in "
	       "the kernel\n",
	       w->mono_ns / 1e9, w->use.minflt, w->use.majflt, w->use.nvcsw,
	       w->use.nivcsw, w->use.sys_ns / 1e6);
	if (w->seen[0] != '\0')
		printf("    seen while 3 ms or more overdue, each millisecond: "
		       "%s\n", w->seen);
}

static void print_lag(const char *name, struct lag *l)
{
	bench_sort(l->v, l->n);
	printf("loop lag, %-34s %7zu ticks  p50 %6.2f ms  p99 %8.2f ms  max "
	       "%8.2f ms   (target p99 <= 2 ms, max <= 10 ms)\n",
	       name, l->n, bench_pct(l->v, l->n, 0.5) / 1e6,
	       bench_pct(l->v, l->n, 0.99) / 1e6,
	       l->n ? l->v[l->n - 1] / 1e6 : 0.0);
	print_why("worst tick", &l->worst);
	print_why("worst tick not mostly waiting for a CPU", &l->worst_ours);
	printf("  %zu ticks 5 ms or more late, %zu of them mostly not waiting "
	       "for a CPU\n", l->over5, l->over5_ours);
}

static void set(struct graft_config *cfg, const char *key, const char *value)
{
	char errmsg[GRAFT_ERRMSG_SIZE];

	if (graft_config_set(cfg, key, value, "loop_lag", 0, errmsg) != GRAFT_OK)
		die(key, errmsg);
}

static void configure(struct graft_config *cfg, const char *home, int port,
		      const char *workers, const char *checkpoint_s)
{
	char v[64];

	set(cfg, "server.threads.worker_count", workers);
	if (checkpoint_s != NULL) {
		snprintf(v, sizeof v, "%ss", checkpoint_s);
		set(cfg, "db.checkpoint.interval.time", v);
	}
	set(cfg, "server.directories.neo4j_home", home);
	set(cfg, "dbms.security.auth_enabled", "false");
	set(cfg, "server.backup.enabled", "false");
	snprintf(v, sizeof v, "127.0.0.1:%d", port);
	set(cfg, "server.bolt.listen_address", v);
	snprintf(v, sizeof v, "127.0.0.1:%d", port + 1);
	set(cfg, "server.http.listen_address", v);
}

int main(int argc, char **argv)
{
	static struct run r;
	struct graft_config *cfg;
	char errmsg[GRAFT_ERRMSG_SIZE];
	const char *slash;
	int opt, port = 17687, rv;
	const char *workers = "0", *checkpoint_s = NULL;
	long long long_n = 4000, nodes = 10000;

	snprintf(r.clients, sizeof r.clients, "50");
	snprintf(r.seconds, sizeof r.seconds, "3");
	while ((opt = getopt(argc, argv, "c:d:n:p:w:N:k:")) != -1) {
		if (opt == 'c')
			snprintf(r.clients, sizeof r.clients, "%s", optarg);
		else if (opt == 'd')
			snprintf(r.seconds, sizeof r.seconds, "%s", optarg);
		else if (opt == 'n')
			long_n = atoll(optarg);
		else if (opt == 'p')
			port = atoi(optarg);
		else if (opt == 'w')
			workers = optarg;
		else if (opt == 'N')
			nodes = atoll(optarg);
		else if (opt == 'k')
			checkpoint_s = optarg;
		else
			return 2;
	}
	if (argc - optind != 1) {
		fprintf(stderr, "usage: loop_lag [-c CLIENTS] [-d SECONDS] "
				"[-n LONG_N] [-p BASE_PORT] [-w WORKERS] "
				"[-N NODES] [-k CHECKPOINT_SECONDS] HOME\n");
		return 2;
	}
	if (bench_fresh_dir("loop_lag", argv[optind]) != 0)
		return 1;
	slash = strrchr(argv[0], '/');
	snprintf(r.bench, sizeof r.bench, "%.*sbolt_bench",
		 slash ? (int)(slash - argv[0] + 1) : 0, argv[0]);
	snprintf(r.addr, sizeof r.addr, "127.0.0.1:%d", port);
	snprintf(r.nodes, sizeof r.nodes, "%lld", nodes);
	snprintf(r.setup, sizeof r.setup,
		 "UNWIND range(1, %lld) AS i CREATE (:P {id: i})", nodes);
	snprintf(r.long_query, sizeof r.long_query,
		 "UNWIND range(1, %lld) AS a UNWIND range(1, %lld) AS b "
		 "RETURN count(*)", long_n, long_n);
	if (graft_config_new(&cfg) != GRAFT_OK)
		die("config", "out of memory");
	configure(cfg, argv[optind], port, workers, checkpoint_s);
	rv = server_start(&r.srv, cfg, false, errmsg);
	if (rv != GRAFT_OK)
		die("server", errmsg);
	uv_timer_init(&r.srv.loop, &r.tick);
	uv_unref((uv_handle_t *)&r.tick);
	r.tick.data = &r;
	r.schedstat = open("/proc/thread-self/schedstat", O_RDONLY);
	r.armed_ns = uv_hrtime();
	sched_times(&r, &r.armed_cpu, &r.armed_wait);
	thread_usage(&r.armed_use);
	r.watch.tid = (pid_t)syscall(SYS_gettid);
	r.watch.gate_mu = &r.srv.gate.mu;
	r.watch.fired_ns = r.armed_ns;
	pthread_mutex_init(&r.watch.mu, NULL);
	if (pthread_create(&r.watch.th, NULL, watch_main, &r.watch) != 0)
		die("watchdog", "cannot start its thread");
	uv_timer_start(&r.tick, tick_cb, 1, 0);
	phase_start(&r, -1); /* the index and the nodes, unmeasured */
	rv = server_run(&r.srv);
	__atomic_store_n(&r.watch.stop, true, __ATOMIC_RELEASE);
	pthread_join(r.watch.th, NULL);
	print_lag("point reads alone:", &r.phases[0]);
	print_lag("point reads + one long query:", &r.phases[1]);
	printf("(long query: %s)\n", r.long_query);
	graft_config_free(cfg);
	return rv;
}
