#include "pause.h"

#include <string.h>

#include "../util/log.h"

#define NS_PER_MS 1000000ULL

static void tick_cb(uv_timer_t *t);

/* One-shot and re-armed from the callback: a repeating timer would count
 * from its previous due time and hide part of a pause. */
static void arm(struct pause_monitor *m)
{
	m->due_ns = uv_hrtime() + m->interval_ms * NS_PER_MS;
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
		m->stats.count++;
		m->stats.total_ms += late_ms;
		/* Neo4j's wording, which operators' log alerts already match. */
		graft_warn("Detected VM stop-the-world pause: {pauseTime=%llu} "
			   "(ms the event loop ran nothing: statements' answers, "
			   "Raft heartbeats and timers waited; see "
			   "docs/operations/monitoring.md)",
			   (unsigned long long)late_ms);
	}
	arm(m);
}

void pause_monitor_start(struct pause_monitor *m, uv_loop_t *loop,
			 uint64_t interval_ms, uint64_t threshold_ms)
{
	memset(m, 0, sizeof *m);
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
}

void pause_monitor_get(const struct pause_monitor *m, struct pause_stats *out)
{
	*out = m->stats;
}
