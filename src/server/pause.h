/* The pause monitor: a timer on the event loop that notices when it fires
 * late, i.e. when something held the loop (a long callback, the process
 * stopped, the VM paused). Every statement's answer, Raft heartbeat and
 * election waits behind such a pause, so operators see it in the log and in
 * the status endpoint, as Neo4j's VM pause monitor reports JVM pauses. */
#ifndef GRAFT_SERVER_PAUSE_H
#define GRAFT_SERVER_PAUSE_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

struct pause_stats {
	uint64_t count;    /* pauses at or above the alert threshold */
	uint64_t total_ms; /* their summed length */
	uint64_t max_ms;   /* the longest lateness seen, any length */
};

struct pause_monitor {
	uv_timer_t timer;
	uint64_t interval_ms;
	uint64_t threshold_ms;
	uint64_t due_ns; /* uv_hrtime() at which the timer should fire */
	struct pause_stats stats;
	int sched_fd;		/* the loop thread's schedstat, or -1 */
	bool have_sched;	/* ran_ns and waited_ns were read */
	uint64_t ran_ns, waited_ns;
	uint64_t sched_ns;	/* uv_hrtime() when they were read */
	bool running;
};

/* Fires every interval_ms; a firing threshold_ms or more late is logged as
 * a WARN and counted. The timer does not keep the loop alive. */
void pause_monitor_start(struct pause_monitor *m, uv_loop_t *loop,
			 uint64_t interval_ms, uint64_t threshold_ms);
/* Stops it (the loop closes the timer's handle); safe when not started. */
void pause_monitor_stop(struct pause_monitor *m);
void pause_monitor_get(const struct pause_monitor *m, struct pause_stats *out);

#endif
