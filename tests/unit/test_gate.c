/* The statement threads' pool and the gate between them and the loop:
 * readers never see half of what the loop changes holding the gate, the
 * loop's tasks run in the order given, and the pool hands every work back
 * to the loop before it closes. Built with ThreadSanitizer by
 * ./configure --enable-tsan, which checks the locking itself. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/err.h"
#include "util/gate.h"
#include "util/pool.h"

#define READS 2000

struct fixture {
	uv_loop_t loop;
	struct graft_pool pool;
	struct graft_gate gate;
	struct graft_work works[READS];
	struct graft_gate_task tasks[READS];
	uint64_t value;      /* changed by the loop's tasks, in two steps */
	uint64_t given[READS], order[READS]; /* tasks given, tasks run */
	uv_timer_t timer;
	unsigned ticks;      /* of timer (atomic) */
	unsigned ticks_in_work; /* seen by an offloaded work before it ended */
	unsigned n_given, n_order;
	unsigned torn;       /* reads that saw an odd value (atomic) */
	unsigned done;
	unsigned readers_in;   /* hammer readers that read at least once (atomic) */
	unsigned writes;       /* the hammer writer's, once done */
	bool closed;
};

static int setup(void **state)
{
	static struct fixture f;
	char errmsg[GRAFT_ERRMSG_SIZE];

	memset(&f, 0, sizeof f);
	assert_int_equal(uv_loop_init(&f.loop), 0);
	assert_int_equal(graft_gate_init(&f.gate, &f.loop), GRAFT_OK);
	assert_int_equal(graft_pool_init(&f.pool, &f.loop, 2, errmsg),
			 GRAFT_OK);
	*state = &f;
	return 0;
}

static void closed_cb(void *arg)
{
	struct fixture *f = arg;

	f->closed = true;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	graft_pool_close(&f->pool, closed_cb, f);
	graft_gate_close(&f->gate, NULL);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_true(f->closed);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	return 0;
}

/* A reader: the value twice, holding the gate shared; even both times. */
static void read_work(struct graft_work *w)
{
	struct fixture *f = w->data;
	uint64_t a, b;

	graft_gate_enter_shared(&f->gate);
	a = f->value;
	for (volatile int i = 0; i < 100; i++)
		;
	b = f->value;
	graft_gate_leave(&f->gate);
	if (a != b || a % 2 != 0)
		__atomic_add_fetch(&f->torn, 1, __ATOMIC_RELAXED);
}

/* A change in two steps, which no reader may see half of. */
static void change_task(struct graft_gate_task *t)
{
	struct fixture *f = t->data;

	f->value++;
	f->value++;
	f->order[f->n_order++] = (uint64_t)(t - f->tasks);
}

static void read_done(struct graft_work *w)
{
	struct fixture *f = w->data;
	struct graft_gate_task *t = &f->tasks[w - f->works];

	t->data = f;
	t->fn = change_task;
	f->given[f->n_given++] = (uint64_t)(t - f->tasks);
	graft_gate_run(&f->gate, t);
	f->done++;
}

static void test_gate_readers_never_see_half_a_change_and_tasks_keep_order(
	void **state)
{
	struct fixture *f = *state;

	for (unsigned i = 0; i < READS; i++) {
		f->works[i].data = f;
		f->works[i].work_cb = read_work;
		f->works[i].done_cb = read_done;
		graft_pool_submit(&f->pool, &f->works[i]);
	}
	while (f->done < READS || f->n_order < READS)
		uv_run(&f->loop, UV_RUN_ONCE);
	assert_int_equal(__atomic_load_n(&f->torn, __ATOMIC_RELAXED), 0);
	assert_int_equal(f->value, 2 * READS);
	assert_memory_equal(f->order, f->given, sizeof f->given);
}

/* A worker asking for the gate exclusive waits for the readers and keeps
 * new ones out; the loop's task still runs once both are done. */
static void exclusive_work(struct graft_work *w)
{
	struct fixture *f = w->data;
	uint64_t v;

	graft_gate_enter_exclusive(&f->gate);
	v = f->value;
	f->value = v + 1;
	f->value = v + 2;
	graft_gate_leave(&f->gate);
}

static void count_done(struct graft_work *w)
{
	struct fixture *f = w->data;

	f->done++;
}

static void test_gate_exclusive_workers_and_readers_exclude_each_other(
	void **state)
{
	struct fixture *f = *state;

	for (unsigned i = 0; i < READS; i++) {
		f->works[i].data = f;
		f->works[i].work_cb = i % 4 == 0 ? exclusive_work : read_work;
		f->works[i].done_cb = count_done;
		graft_pool_submit(&f->pool, &f->works[i]);
	}
	while (f->done < READS)
		uv_run(&f->loop, UV_RUN_ONCE);
	assert_int_equal(__atomic_load_n(&f->torn, __ATOMIC_RELAXED), 0);
	assert_int_equal(f->value, 2 * (READS / 4));
}

static void test_gate_task_runs_at_once_when_nothing_holds_it(void **state)
{
	struct fixture *f = *state;

	f->tasks[0].data = f;
	f->tasks[0].fn = change_task;
	graft_gate_run(&f->gate, &f->tasks[0]);
	assert_int_equal(f->value, 2);
}

/* A long reader: holds the gate shared and yields now and then until it
 * sees the loop's task done, or gives up after a few seconds. */
static void long_read_work(struct graft_work *w)
{
	struct fixture *f = w->data;
	uint64_t until = uv_hrtime() + 5000000000ull;

	graft_gate_enter_shared(&f->gate);
	__atomic_store_n(&f->done, 1, __ATOMIC_RELEASE);
	while (__atomic_load_n(&f->n_order, __ATOMIC_ACQUIRE) == 0 &&
	       uv_hrtime() < until)
		graft_gate_yield(&f->gate);
	/* seen while still inside the read: the task ran at a yield */
	if (__atomic_load_n(&f->n_order, __ATOMIC_ACQUIRE) == 1)
		f->value += 100;
	graft_gate_leave(&f->gate);
}

static void yield_task(struct graft_gate_task *t)
{
	struct fixture *f = t->data;

	__atomic_store_n(&f->n_order, 1, __ATOMIC_RELEASE);
}

static void long_read_done(struct graft_work *w)
{
	struct fixture *f = w->data;

	f->closed = true; /* the reader ended */
}

/* A reader that yields lets the loop's waiting task run before it ends. */
static void test_gate_yield_lets_a_waiting_task_run_inside_a_long_read(
	void **state)
{
	struct fixture *f = *state;

	f->works[0].data = f;
	f->works[0].work_cb = long_read_work;
	f->works[0].done_cb = long_read_done;
	graft_pool_submit(&f->pool, &f->works[0]);
	while (__atomic_load_n(&f->done, __ATOMIC_ACQUIRE) == 0)
		uv_run(&f->loop, UV_RUN_NOWAIT);
	f->tasks[0].data = f;
	f->tasks[0].fn = yield_task;
	graft_gate_run(&f->gate, &f->tasks[0]);
	while (!f->closed)
		uv_run(&f->loop, UV_RUN_ONCE);
	f->closed = false;
	assert_int_equal(f->value, 100);
	/* without the gate held shared, yielding does nothing */
	assert_false(graft_gate_yield(&f->gate));
}

/* A long writer: holds the gate exclusive and yields now and then until a
 * reader got in, or gives up after a few seconds. */
static void long_write_work(struct graft_work *w)
{
	struct fixture *f = w->data;
	uint64_t until = uv_hrtime() + 5000000000ull;

	graft_gate_enter_exclusive(&f->gate);
	__atomic_store_n(&f->n_given, 1, __ATOMIC_RELEASE);
	while (__atomic_load_n(&f->torn, __ATOMIC_ACQUIRE) == 0 &&
	       uv_hrtime() < until)
		graft_gate_yield(&f->gate);
	/* seen while still inside the write: the reader ran at a yield */
	if (__atomic_load_n(&f->torn, __ATOMIC_ACQUIRE) == 1)
		f->value += 100;
	graft_gate_leave(&f->gate);
}

/* A reader arriving while the writer holds the gate. */
static void late_read_work(struct graft_work *w)
{
	struct fixture *f = w->data;

	while (__atomic_load_n(&f->n_given, __ATOMIC_ACQUIRE) == 0)
		;
	graft_gate_enter_shared(&f->gate);
	__atomic_store_n(&f->torn, 1, __ATOMIC_RELEASE);
	graft_gate_leave(&f->gate);
}

/* A writer that yields (a long eager write) lets a reader in before it
 * ends, and takes the gate exclusive again. */
static void test_gate_yield_lets_a_reader_in_inside_a_long_write(
	void **state)
{
	struct fixture *f = *state;

	f->works[0].data = f;
	f->works[0].work_cb = long_write_work;
	f->works[0].done_cb = count_done;
	f->works[1].data = f;
	f->works[1].work_cb = late_read_work;
	f->works[1].done_cb = count_done;
	graft_pool_submit(&f->pool, &f->works[0]);
	graft_pool_submit(&f->pool, &f->works[1]);
	while (f->done < 2)
		uv_run(&f->loop, UV_RUN_ONCE);
	assert_int_equal(f->value, 100);
}

/* Offloaded work: changes the value in two steps with the loop's timer
 * ticking in between (a few ticks, or a few seconds at most). */
static void offload_work(struct graft_gate_task *t)
{
	struct fixture *f = t->data;
	uint64_t until = uv_hrtime() + 5000000000ull;

	f->value++;
	while (__atomic_load_n(&f->ticks, __ATOMIC_ACQUIRE) < 3 &&
	       uv_hrtime() < until)
		;
	f->ticks_in_work = __atomic_load_n(&f->ticks, __ATOMIC_ACQUIRE);
	f->value++;
}

static void offload_done(struct graft_gate_task *t)
{
	struct fixture *f = t->data;

	f->order[f->n_order++] = (uint64_t)(t - f->tasks);
	assert_false(graft_gate_offloaded(&f->gate));
}

static void offload_task(struct graft_gate_task *t)
{
	struct fixture *f = t->data;

	t->fn = offload_done;
	graft_gate_offload(&f->gate, t, offload_work);
}

/* On the loop while the work runs: a task given now waits behind it, a
 * reader does not get in before it is done. */
static void offload_tick_cb(uv_timer_t *h)
{
	struct fixture *f = h->data;

	if (__atomic_add_fetch(&f->ticks, 1, __ATOMIC_RELEASE) != 1)
		return;
	assert_true(graft_gate_offloaded(&f->gate));
	f->tasks[1].data = f;
	f->tasks[1].fn = change_task;
	graft_gate_run(&f->gate, &f->tasks[1]);
	f->works[0].data = f;
	f->works[0].work_cb = read_work;
	f->works[0].done_cb = count_done;
	graft_pool_submit(&f->pool, &f->works[0]);
}

/* A task that offloads its work leaves the loop running (its timer ticks
 * while the work runs), keeps the gate exclusive for it, and the tasks
 * given meanwhile run after its end, in order. */
static void test_gate_offloaded_work_leaves_the_loop_running_in_order(
	void **state)
{
	struct fixture *f = *state;

	assert_int_equal(uv_timer_init(&f->loop, &f->timer), 0);
	f->timer.data = f;
	assert_int_equal(uv_timer_start(&f->timer, offload_tick_cb, 1, 1), 0);
	f->tasks[0].data = f;
	f->tasks[0].fn = offload_task;
	graft_gate_run(&f->gate, &f->tasks[0]);
	while (f->n_order < 2 || f->done < 1)
		uv_run(&f->loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&f->timer, NULL);
	assert_true(f->ticks_in_work >= 3);
	assert_int_equal(f->order[0], 0);
	assert_int_equal(f->order[1], 1);
	assert_int_equal(f->value, 4);
	assert_int_equal(__atomic_load_n(&f->torn, __ATOMIC_RELAXED), 0);
}

/* Readers on more threads than there are slots (util/slot.h: some share
 * one) enter without the mutex, some twice (nested), while a worker writes
 * and the loop runs tasks: no reader sees half a change, and neither the
 * writer nor the loop's tasks starve behind readers that never stop
 * coming (the test would not end). */
#define HAMMER_READERS (GRAFT_SLOTS + 3)
#define HAMMER_WRITES 300
/* The writer goes on past HAMMER_WRITES until every reader got in once (a
 * reader thread the scheduler has not run yet is no starvation), up to
 * this: a reader still out then is starved. */
#define HAMMER_WRITES_MAX 1000000

struct hammer {
	struct fixture *f;
	pthread_t th;
	unsigned reads;
};

static void *hammer_read_main(void *arg)
{
	struct hammer *h = arg;
	struct fixture *f = h->f;
	uint64_t a, b;

	while (!__atomic_load_n(&f->closed, __ATOMIC_ACQUIRE)) {
		bool nested = h->reads % 8 == 0;

		graft_gate_enter_shared(&f->gate);
		if (nested)
			graft_gate_enter_shared(&f->gate);
		a = f->value;
		b = f->value;
		if (nested)
			graft_gate_leave(&f->gate);
		graft_gate_leave(&f->gate);
		if (a != b || a % 2 != 0)
			__atomic_add_fetch(&f->torn, 1, __ATOMIC_RELAXED);
		if (h->reads++ == 0)
			__atomic_add_fetch(&f->readers_in, 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

static void *hammer_write_main(void *arg)
{
	struct fixture *f = arg;

	unsigned i;

	for (i = 0; i < HAMMER_WRITES ||
		    (__atomic_load_n(&f->readers_in, __ATOMIC_ACQUIRE) <
			     HAMMER_READERS &&
		     i < HAMMER_WRITES_MAX);
	     i++) {
		graft_gate_enter_exclusive(&f->gate);
		f->value++;
		f->value++;
		graft_gate_leave(&f->gate);
	}
	f->writes = i;
	__atomic_store_n(&f->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void hammer_task(struct graft_gate_task *t)
{
	struct fixture *f = t->data;

	f->value++;
	f->value++;
	f->n_order++;
}

static void test_gate_fast_readers_exclude_writers_and_starve_none(
	void **state)
{
	struct fixture *f = *state;
	struct hammer h[HAMMER_READERS];
	pthread_t writer;

	for (unsigned i = 0; i < HAMMER_READERS; i++) {
		h[i] = (struct hammer){.f = f};
		assert_int_equal(pthread_create(&h[i].th, NULL,
						hammer_read_main, &h[i]), 0);
	}
	assert_int_equal(pthread_create(&writer, NULL, hammer_write_main, f),
			 0);
	for (unsigned i = 0; i < HAMMER_WRITES; i++) {
		f->tasks[i].data = f;
		f->tasks[i].fn = hammer_task;
		graft_gate_run(&f->gate, &f->tasks[i]);
		while (f->n_order <= i)
			uv_run(&f->loop, UV_RUN_ONCE);
	}
	assert_int_equal(pthread_join(writer, NULL), 0);
	__atomic_store_n(&f->closed, true, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < HAMMER_READERS; i++) {
		assert_int_equal(pthread_join(h[i].th, NULL), 0);
		assert_true(h[i].reads > 0);
	}
	f->closed = false;
	assert_int_equal(__atomic_load_n(&f->torn, __ATOMIC_RELAXED), 0);
	assert_int_equal(f->value, 2 * f->writes + 2 * HAMMER_WRITES);
	assert_int_equal(__atomic_load_n(&f->done, __ATOMIC_ACQUIRE), 1);
}

/* A writer thread: takes the gate exclusive, holds it until release. */
struct writer {
	struct graft_gate *gate;
	pthread_t th;
	bool holding, release; /* atomic */
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;

	graft_gate_enter_exclusive(w->gate);
	__atomic_store_n(&w->holding, true, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&w->release, __ATOMIC_ACQUIRE))
		usleep(100);
	graft_gate_leave(w->gate);
	return NULL;
}

/* A count of g's read under its lock: waiting writers or slow readers. */
static unsigned gate_count(struct graft_gate *g, const unsigned *field)
{
	unsigned n;

	pthread_mutex_lock(&g->mu);
	n = *field;
	pthread_mutex_unlock(&g->mu);
	return n;
}

/* The loop runs a short read itself only if it can enter the gate at once
 * (graft_gate_try_enter_shared), and the engine's entries nested in that
 * hold must not wait for a writer that came meanwhile: the writer waits
 * for the loop's own count, and before, a nested entry took the slow path
 * and waited 5 ms for it (through mu: shared counted there). */
static void test_gate_loop_enters_only_at_once_and_nested_entries_do_not_wait(
	void **state)
{
	struct fixture *f = *state;
	struct writer w = {.gate = &f->gate};
	unsigned slow;
	bool writer_in;

	assert_true(graft_gate_try_enter_shared(&f->gate));
	graft_gate_leave(&f->gate);

	assert_int_equal(pthread_create(&w.th, NULL, writer_main, &w), 0);
	while (!__atomic_load_n(&w.holding, __ATOMIC_ACQUIRE))
		usleep(100);
	assert_false(graft_gate_try_enter_shared(&f->gate));
	__atomic_store_n(&w.release, true, __ATOMIC_RELEASE);
	assert_int_equal(pthread_join(w.th, NULL), 0);

	w = (struct writer){.gate = &f->gate};
	assert_true(graft_gate_try_enter_shared(&f->gate));
	assert_int_equal(pthread_create(&w.th, NULL, writer_main, &w), 0);
	while (gate_count(&f->gate, &f->gate.workers_waiting_exclusive) == 0)
		usleep(100);
	graft_gate_enter_shared(&f->gate); /* nested, a writer waiting */
	slow = gate_count(&f->gate, &f->gate.shared);
	graft_gate_leave(&f->gate);
	writer_in = __atomic_load_n(&w.holding, __ATOMIC_ACQUIRE);
	graft_gate_leave(&f->gate);
	__atomic_store_n(&w.release, true, __ATOMIC_RELEASE);
	assert_int_equal(pthread_join(w.th, NULL), 0);
	/* checked once everything is left, so that a failure stops here */
	assert_int_equal(slow, 0);
	assert_false(writer_in);
	assert_true(w.holding);
}

static void test_pool_closes_after_the_work_in_flight_is_done(void **state)
{
	struct fixture *f = *state;

	f->works[0].data = f;
	f->works[0].work_cb = read_work;
	f->works[0].done_cb = count_done;
	graft_pool_submit(&f->pool, &f->works[0]);
	graft_pool_close(&f->pool, closed_cb, f);
	while (!f->closed)
		uv_run(&f->loop, UV_RUN_ONCE);
	assert_int_equal(f->done, 1);
	/* teardown closes it again: make that a fresh pool */
	{
		char errmsg[GRAFT_ERRMSG_SIZE];

		f->closed = false;
		assert_int_equal(graft_pool_init(&f->pool, &f->loop, 1, errmsg),
				 GRAFT_OK);
	}
}

/* A worker that holds the workers' lock (p->mu) and is not run again for a
 * while: the kernel preempted it there, on a loaded machine. */
struct lock_holder {
	struct graft_pool *pool;
	unsigned running, held, release; /* atomic */
	bool timed_out;
	pthread_t th;
};

static void *hold_main(void *arg)
{
	struct lock_holder *h = arg;

	pthread_mutex_lock(&h->pool->mu);
	__atomic_store_n(&h->held, 1, __ATOMIC_RELEASE);
	/* until the loop says it went on without it (5 s at most: a loop
	 * that waits for this lock would wait that long, then fail) */
	for (int ms = 0; !__atomic_load_n(&h->release, __ATOMIC_ACQUIRE);
	     ms++) {
		if (ms == 5000) {
			h->timed_out = true;
			break;
		}
		usleep(1000);
	}
	pthread_mutex_unlock(&h->pool->mu);
	return NULL;
}

static struct lock_holder *holder; /* the test's, for wait_for_holder */

static void wait_for_holder(struct graft_work *w)
{
	(void)w;
	__atomic_store_n(&holder->running, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&holder->held, __ATOMIC_ACQUIRE))
		usleep(1000);
}

static void count_done_loop(struct graft_work *w)
{
	struct fixture *f = w->data;

	f->done++;
}

/* The loop hands work to the pool and takes finished work back without the
 * lock the workers share: a worker holding it (preempted there) does not
 * stop the loop. It did, 10-36 ms at a time under load, when the queues
 * were under that lock (docs/benchmarks.md, 2026-12-06 14:10). */
static void test_pool_the_loop_never_waits_for_a_worker_holding_its_lock(
	void **state)
{
	struct fixture *f = *state;
	struct lock_holder h = {.pool = &f->pool};

	holder = &h;
	f->works[0] = (struct graft_work){.data = f,
					  .work_cb = wait_for_holder,
					  .done_cb = count_done_loop};
	graft_pool_submit(&f->pool, &f->works[0]);
	/* taken by a worker before the lock is: a worker still to take it
	 * would wait for the lock, and nothing would come back (seen under
	 * ThreadSanitizer on a loaded machine) */
	while (!__atomic_load_n(&h.running, __ATOMIC_ACQUIRE))
		usleep(1000);
	assert_int_equal(pthread_create(&h.th, NULL, hold_main, &h), 0);
	while (!__atomic_load_n(&h.held, __ATOMIC_ACQUIRE))
		usleep(1000);
	/* work 0 ends while the lock is held: its done comes back, and new
	 * work is handed over, with the loop never blocking */
	f->works[2] = (struct graft_work){.data = f,
					  .work_cb = read_work,
					  .done_cb = count_done_loop};
	graft_pool_submit(&f->pool, &f->works[2]);
	while (f->done < 1)
		uv_run(&f->loop, UV_RUN_ONCE);
	__atomic_store_n(&h.release, 1, __ATOMIC_RELEASE);
	assert_int_equal(pthread_join(h.th, NULL), 0);
	assert_false(h.timed_out);
	while (f->done < 2)
		uv_run(&f->loop, UV_RUN_ONCE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_gate_readers_never_see_half_a_change_and_tasks_keep_order,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_gate_exclusive_workers_and_readers_exclude_each_other,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_gate_task_runs_at_once_when_nothing_holds_it, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_gate_yield_lets_a_waiting_task_run_inside_a_long_read,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_gate_yield_lets_a_reader_in_inside_a_long_write,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_gate_offloaded_work_leaves_the_loop_running_in_order,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_gate_fast_readers_exclude_writers_and_starve_none,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_gate_loop_enters_only_at_once_and_nested_entries_do_not_wait,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_pool_closes_after_the_work_in_flight_is_done, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_pool_the_loop_never_waits_for_a_worker_holding_its_lock,
			setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
