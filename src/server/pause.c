#include "pause.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../util/log.h"

#define NS_PER_MS 1000000ULL
/* The loop thread's schedstat is read at most this often (a pread of
 * /proc and its parsing cost about what the rest of a tick does): a 1 ms
 * monitor, as the benchmarks run, reads it every 10th tick, the default
 * 100 ms one at every tick. A pause's split then covers the time since
 * the last reading, which its log line states. */
#define SCHED_EVERY_NS (10 * NS_PER_MS)

static void tick_cb(uv_timer_t *t);

/* The loop thread's time on a CPU and waiting for one (ns), from
 * /proc/thread-self/schedstat, opened once by pause_monitor_start (on
 * the loop thread). false where there is none (not Linux, no
 * CONFIG_SCHEDSTATS): the pause is then logged without its split. */
static bool sched_times(const struct pause_monitor *m, uint64_t *ran,
			uint64_t *waited)
{
	char text[96], *p, *end;
	ssize_t n;

	if (m->sched_fd < 0)
		return false;
	n = pread(m->sched_fd, text, sizeof text - 1, 0);
	if (n <= 0)
		return false;
	text[n] = '\0';
	*ran = strtoull(text, &end, 10);
	if (end == text || *end != ' ')
		return false;
	p = end + 1;
	*waited = strtoull(p, &end, 10);
	return end != p;
}

/* One-shot and re-armed from the callback: a repeating timer would count
 * from its previous due time and hide part of a pause. */
static void arm(struct pause_monitor *m)
{
	uint64_t now = uv_hrtime();

	m->due_ns = now + m->interval_ms * NS_PER_MS;
	if (!m->have_sched || now - m->sched_ns >= SCHED_EVERY_NS) {
		m->have_sched = sched_times(m, &m->ran_ns, &m->waited_ns);
		m->sched_ns = now;
	}
	uv_timer_start(&m->timer, tick_cb, m->interval_ms, 0);
}

static void tick_cb(uv_timer_t *t)
{
	struct pause_monitor *m = t->data;
	uint64_t now = uv_hrtime();
	uint64_t late_ms = now > m->due_ns ? (now - m->due_ns) / NS_PER_MS : 0;

	if (late_ms > m->stats.max_ms)
		m->stats.max_ms = late_ms;
	if (late_ms >= m->threshold_ms) {
		uint64_t ran, waited, span = (now - m->sched_ns) / NS_PER_MS;

		m->stats.count++;
		m->stats.total_ms += late_ms;
		/* Neo4j's wording, which operators' log alerts already match,
		 * then where the time went: work on the loop (on a CPU),
		 * other threads or processes on its cores (waiting for one),
		 * else the thread slept (blocked in a system call: a page
		 * fault, an fsync, a lock). */
		if (m->have_sched && sched_times(m, &ran, &waited)) {
			ran = (ran - m->ran_ns) / NS_PER_MS;
			waited = (waited - m->waited_ns) / NS_PER_MS;
			graft_warn("Detected VM stop-the-world pause: "
				   "{pauseTime=%llu} (ms the event loop ran "
				   "nothing: statements' answers, Raft "
				   "heartbeats and timers waited; see "
				   "docs/operations/monitoring.md) [the loop "
				   "thread over the last %llu ms: on a CPU "
				   "%llu, waiting for one %llu, asleep %llu]",
				   (unsigned long long)late_ms,
				   (unsigned long long)span,
				   (unsigned long long)ran,
				   (unsigned long long)waited,
				   (unsigned long long)(span > ran + waited
								? span - ran - waited
								: 0));
			m->have_sched = false; /* read afresh at arm */
		} else {
			graft_warn("Detected VM stop-the-world pause: "
				   "{pauseTime=%llu} (ms the event loop ran "
				   "nothing: statements' answers, Raft "
				   "heartbeats and timers waited; see "
				   "docs/operations/monitoring.md)",
				   (unsigned long long)late_ms);
		}
	}
	arm(m);
}

void pause_monitor_start(struct pause_monitor *m, uv_loop_t *loop,
			 uint64_t interval_ms, uint64_t threshold_ms)
{
	memset(m, 0, sizeof *m);
	m->sched_fd = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
	m->interval_ms = interval_ms;
	m->threshold_ms = threshold_ms;
	uv_timer_init(loop, &m->timer);
	m->timer.data = m;
	uv_unref((uv_handle_t *)&m->timer);
	arm(m);
	m->running = true;
}

void pause_monitor_stop(struct pause_monitor *m)
{
	if (!m->running)
		return;
	m->running = false;
	uv_close((uv_handle_t *)&m->timer, NULL);
	if (m->sched_fd >= 0)
		close(m->sched_fd);
	m->sched_fd = -1;
}

void pause_monitor_get(const struct pause_monitor *m, struct pause_stats *out)
{
	*out = m->stats;
}
