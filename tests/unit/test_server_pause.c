/* The pause monitor (src/server/pause.c): a loop held by a long callback is
 * counted, measured and logged with Neo4j's wording and where the time went
 * (on a CPU, waiting for one, asleep); the monitor alone never keeps a loop
 * running. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "server/pause.h"
#include "tmpdir.h"
#include "util/err.h"
#include "util/log.h"

#define HOLD_MS 150

struct fixture {
	uv_loop_t loop;
	struct pause_monitor m;
	uv_timer_t hold, end;
	bool busy; /* hold the loop computing, not sleeping */
};

static void hold_cb(uv_timer_t *t)
{
	struct fixture *f = t->data;
	uint64_t until = uv_hrtime() + HOLD_MS * 1000000ULL;

	if (!f->busy)
		usleep(HOLD_MS * 1000);
	else
		while (uv_hrtime() < until)
			;
}

static void end_cb(uv_timer_t *t)
{
	struct fixture *f = t->data;

	pause_monitor_stop(&f->m);
	uv_close((uv_handle_t *)&f->hold, NULL);
	uv_close((uv_handle_t *)&f->end, NULL);
}

static bool file_has(const char *path, const char *text)
{
	char line[512];
	bool found = false;
	FILE *fp = fopen(path, "r");

	assert_non_null(fp);
	while (!found && fgets(line, sizeof line, fp) != NULL)
		found = strstr(line, text) != NULL;
	fclose(fp);
	return found;
}

/* The split of the longest pause logged: on a CPU, waiting, asleep (ms);
 * false if no line has one (no schedstat in this kernel). */
static bool longest_split(const char *path, unsigned long long split[3])
{
	char line[1024];
	unsigned long long best = 0, pause, span, cpu, wait, sleep;
	bool found = false;
	FILE *fp = fopen(path, "r");

	assert_non_null(fp);
	while (fgets(line, sizeof line, fp) != NULL) {
		const char *p = strstr(line, "{pauseTime=");
		const char *q = strstr(line, "[the loop thread over the last ");

		if (p == NULL || q == NULL ||
		    sscanf(p, "{pauseTime=%llu}", &pause) != 1 ||
		    sscanf(q, "[the loop thread over the last %llu ms: on a "
			      "CPU %llu, waiting for one %llu, asleep %llu]",
			   &span, &cpu, &wait, &sleep) != 4 || pause < best)
			continue;
		best = pause;
		split[0] = cpu;
		split[1] = wait;
		split[2] = sleep;
		found = true;
	}
	fclose(fp);
	return found;
}

/* Holds the loop HOLD_MS (busy or asleep) under a monitor of 5 ms, 50 ms
 * threshold, logging to dir/graft.log. */
static void hold_loop(struct fixture *f, const char *dir, bool busy,
		      struct pause_stats *st)
{
	char path[300], errmsg[GRAFT_ERRMSG_SIZE];

	snprintf(path, sizeof path, "%s/graft.log", dir);
	assert_int_equal(graft_log_open(path, GRAFT_LOG_INFO, false, errmsg),
			 GRAFT_OK);
	f->busy = busy;
	uv_loop_init(&f->loop);
	pause_monitor_start(&f->m, &f->loop, 5, 50);
	uv_timer_init(&f->loop, &f->hold);
	uv_timer_init(&f->loop, &f->end);
	f->hold.data = f;
	f->end.data = f;
	uv_timer_start(&f->hold, hold_cb, 1, 0);
	uv_timer_start(&f->end, end_cb, HOLD_MS + 50, 0);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	pause_monitor_get(&f->m, st);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	graft_log_close();
}

/* A loop asleep in a callback is logged as asleep, one computing as on a
 * CPU (or waiting for one, on a loaded machine): the log line tells work
 * on the loop from a blocking call. */
static void test_a_pause_is_logged_with_where_its_time_went(void **state)
{
	struct fixture f;
	struct pause_stats st;
	unsigned long long split[3];
	char dir[256], path[300];
	(void)state;

	if (access("/proc/thread-self/schedstat", R_OK) != 0)
		skip();
	assert_non_null(tmpdir_make(dir, sizeof dir, "pause"));
	snprintf(path, sizeof path, "%s/graft.log", dir);
	hold_loop(&f, dir, false, &st);
	assert_true(longest_split(path, split));
	assert_true(split[2] >= HOLD_MS - 20);
	assert_true(split[0] < HOLD_MS / 2);
	unlink(path);
	hold_loop(&f, dir, true, &st);
	assert_true(longest_split(path, split));
	assert_true(split[0] + split[1] >= HOLD_MS - 20);
	assert_true(split[2] < HOLD_MS / 2);
	assert_int_equal(tmpdir_remove(dir), 0);
}

static void test_a_loop_held_by_a_callback_is_counted_and_logged(void **state)
{
	struct fixture f;
	struct pause_stats st;
	char dir[256], path[300];
	(void)state;

	assert_non_null(tmpdir_make(dir, sizeof dir, "pause"));
	snprintf(path, sizeof path, "%s/graft.log", dir);
	hold_loop(&f, dir, false, &st);
	/* The hold began at most 5 ms before the monitor was due. */
	assert_true(st.count >= 1);
	assert_true(st.max_ms >= HOLD_MS - 5);
	assert_true(st.total_ms >= st.max_ms);
	assert_true(file_has(path, "WARN  Detected VM stop-the-world pause: "
				   "{pauseTime="));
	assert_int_equal(tmpdir_remove(dir), 0);
}

static void test_the_monitor_alone_lets_the_loop_end(void **state)
{
	struct fixture f;
	(void)state;

	uv_loop_init(&f.loop);
	pause_monitor_start(&f.m, &f.loop, 5, 50);
	assert_int_equal(uv_run(&f.loop, UV_RUN_DEFAULT), 0);
	pause_monitor_stop(&f.m);
	pause_monitor_stop(&f.m); /* a second stop does nothing */
	uv_run(&f.loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&f.loop), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_a_loop_held_by_a_callback_is_counted_and_logged),
		cmocka_unit_test(test_the_monitor_alone_lets_the_loop_end),
		cmocka_unit_test(
			test_a_pause_is_logged_with_where_its_time_went),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
