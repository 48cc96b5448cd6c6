/* The gate (gate.h). One mutex and one condition variable: worker threads
 * wait on the condition; the loop never waits, it is woken through the
 * async handle when the last holder leaves while its tasks are queued.
 *
 * Readers of an open gate skip the mutex: a reader adds itself to its
 * slot's count, then reads closed; whoever wants the gate exclusive sets
 * closed, then reads the counts (all sequentially consistent). So either
 * the reader sees closed, takes itself out again and waits on the mutex's
 * side, or the writer sees the reader and waits for it; a reader leaving
 * while closed is set wakes the waiting writer (and the loop) under the
 * mutex, after its count dropped, so no wake-up is lost. */
#include "gate.h"

#include <errno.h>
#include <time.h>

#include "check.h"
#include "deadline.h"
#include "err.h"

/* How long a new shared holder stays out for a waiting exclusive one; past
 * it, it enters anyway (the exclusive one waits for a moment with no
 * holder): short readers keep commits prompt, a long reader does not stall
 * the others. */
#define SHARED_YIELD_NS 5000000L

static void gate_async_cb(uv_async_t *h);

/* How many times this thread holds a gate shared, and whether it holds one
 * exclusive (graft_gate_yield). */
static _Thread_local unsigned held_shared;
static _Thread_local bool held_exclusive;
/* How many of held_shared entered fast_gate without the mutex. */
static _Thread_local unsigned held_fast;
static _Thread_local const struct graft_gate *fast_gate;

int graft_gate_init(struct graft_gate *g, uv_loop_t *loop)
{
	int rv;

	g->shared = 0;
	g->exclusive = false;
	g->workers_waiting_exclusive = 0;
	g->workers_waiting_shared = 0;
	g->loop_held = false;
	g->loop_waiting = false;
	g->head = g->tail = NULL;
	g->off_task = NULL;
	g->off_work = NULL;
	g->off_running = false;
	g->closed = 0;
	for (unsigned i = 0; i < GRAFT_SLOTS; i++)
		g->readers[i].n = 0;
	rv = uv_async_init(loop, &g->async, gate_async_cb);
	if (rv != 0)
		return GRAFT_EIO;
	g->async.data = g;
	uv_unref((uv_handle_t *)&g->async);
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->cv, NULL);
	return GRAFT_OK;
}

void graft_gate_close(struct graft_gate *g, uv_close_cb cb)
{
	pthread_mutex_destroy(&g->mu);
	pthread_cond_destroy(&g->cv);
	uv_close((uv_handle_t *)&g->async, cb);
}

/* Readers that entered without the mutex; under mu, read after closed
 * was set. */
static unsigned fast_readers(const struct graft_gate *g)
{
	unsigned n = 0;

	for (unsigned i = 0; i < GRAFT_SLOTS; i++)
		n += __atomic_load_n(&g->readers[i].n, __ATOMIC_SEQ_CST);
	return n;
}

static unsigned readers(const struct graft_gate *g)
{
	return g->shared + fast_readers(g);
}

/* Under mu, after any change of what closes the gate to fast readers. */
static void set_closed(struct graft_gate *g)
{
	__atomic_store_n(&g->closed,
			 g->exclusive || g->loop_waiting ||
				 g->workers_waiting_exclusive > 0,
			 __ATOMIC_SEQ_CST);
}

/* Under mu, once a fast reader's count dropped while the gate was closed:
 * wakes the workers waiting; true if the loop must be woken. */
static bool fast_reader_left(struct graft_gate *g)
{
	pthread_cond_broadcast(&g->cv);
	return g->loop_waiting && !g->exclusive && readers(g) == 0;
}

/* Enters an open gate without the mutex; false (nothing held) if it is
 * closed or this thread holds another gate that way. */
static bool enter_fast(struct graft_gate *g)
{
	unsigned *n = &g->readers[graft_slot()].n;
	bool wake_loop;

	if (held_fast > 0 && fast_gate != g)
		return false;
	__atomic_add_fetch(n, 1, __ATOMIC_SEQ_CST);
	/* Nested in a fast hold of this thread's: that hold keeps writers
	 * out already, so a writer waiting (closed) is no reason to wait, as
	 * this thread's own count would keep it waiting in turn. */
	if (held_fast > 0 || !__atomic_load_n(&g->closed, __ATOMIC_SEQ_CST)) {
		held_fast++;
		fast_gate = g;
		held_shared++;
		return true;
	}
	__atomic_sub_fetch(n, 1, __ATOMIC_SEQ_CST);
	pthread_mutex_lock(&g->mu);
	wake_loop = fast_reader_left(g);
	pthread_mutex_unlock(&g->mu);
	if (wake_loop)
		uv_async_send(&g->async);
	return false;
}

static void leave_fast(struct graft_gate *g)
{
	bool wake_loop;

	held_fast--;
	held_shared--;
	__atomic_sub_fetch(&g->readers[graft_slot()].n, 1, __ATOMIC_SEQ_CST);
	if (!__atomic_load_n(&g->closed, __ATOMIC_SEQ_CST))
		return;
	pthread_mutex_lock(&g->mu);
	wake_loop = fast_reader_left(g);
	pthread_mutex_unlock(&g->mu);
	if (wake_loop)
		uv_async_send(&g->async);
}

void graft_gate_enter_shared(struct graft_gate *g)
{
	struct timespec until;
	bool yielded = false;

	if (enter_fast(g))
		return;
	pthread_mutex_lock(&g->mu);
	graft_deadline_in(&until, SHARED_YIELD_NS);
	g->workers_waiting_shared++;
	while (g->exclusive ||
	       (!yielded && (g->loop_waiting || g->workers_waiting_exclusive)))
		if (pthread_cond_timedwait(&g->cv, &g->mu, &until) == ETIMEDOUT)
			yielded = true;
	g->workers_waiting_shared--;
	g->shared++;
	/* a writer yielding waits for the readers it let in */
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
	held_shared++;
}

void graft_gate_enter_exclusive(struct graft_gate *g)
{
	pthread_mutex_lock(&g->mu);
	g->workers_waiting_exclusive++;
	set_closed(g);
	/* the loop's tasks first: they carry the commit order */
	while (g->exclusive || readers(g) > 0 || g->loop_waiting)
		pthread_cond_wait(&g->cv, &g->mu);
	g->workers_waiting_exclusive--;
	g->exclusive = true;
	set_closed(g);
	pthread_mutex_unlock(&g->mu);
	held_exclusive = true;
}

void graft_gate_leave(struct graft_gate *g)
{
	bool wake_loop;

	if (held_fast > 0 && fast_gate == g) {
		leave_fast(g);
		return;
	}
	pthread_mutex_lock(&g->mu);
	if (g->shared > 0) {
		g->shared--;
		held_shared--;
	} else {
		g->exclusive = false;
		held_exclusive = false;
		set_closed(g);
	}
	wake_loop = g->loop_waiting && !g->exclusive && readers(g) == 0;
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
	if (wake_loop)
		uv_async_send(&g->async);
}

/* A worker holding the gate exclusive lets everyone waiting in: the loop's
 * tasks (enter_exclusive waits for them), and readers, which it waits for
 * to enter (for up to SHARED_YIELD_NS) before it asks for the gate again,
 * else it would most often take it back before they woke. */
static void yield_exclusive(struct graft_gate *g)
{
	struct timespec until;

	graft_gate_leave(g);
	pthread_mutex_lock(&g->mu);
	graft_deadline_in(&until, SHARED_YIELD_NS);
	while (g->workers_waiting_shared > 0 && !g->exclusive &&
	       pthread_cond_timedwait(&g->cv, &g->mu, &until) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&g->mu);
	graft_gate_enter_exclusive(g);
}

bool graft_gate_yield(struct graft_gate *g)
{
	bool exclusive = held_exclusive && held_shared == 0, waiting;

	if (held_shared != 1 && !exclusive)
		return false;
	/* open: nobody waits for a reader to go */
	if (!exclusive && !__atomic_load_n(&g->closed, __ATOMIC_SEQ_CST))
		return false;
	pthread_mutex_lock(&g->mu);
	waiting = g->loop_waiting || g->workers_waiting_exclusive > 0 ||
		  (exclusive && g->workers_waiting_shared > 0);
	pthread_mutex_unlock(&g->mu);
	if (!waiting)
		return false;
	if (exclusive) {
		yield_exclusive(g);
		return true;
	}
	graft_gate_leave(g);
	graft_gate_enter_shared(g);
	return true;
}

bool graft_gate_pause(struct graft_gate *g)
{
	if (held_shared != 1)
		return false;
	graft_gate_leave(g);
	return true;
}

void graft_gate_resume(struct graft_gate *g, bool paused)
{
	if (paused)
		graft_gate_enter_shared(g);
}

/* Takes the gate for the loop if it is free; under mu. */
static bool loop_take(struct graft_gate *g)
{
	bool took;

	pthread_mutex_lock(&g->mu);
	/* closed before the readers are counted (see the top) */
	g->loop_waiting = true;
	set_closed(g);
	took = !g->exclusive && readers(g) == 0;
	if (took) {
		g->exclusive = true;
		g->loop_waiting = false;
		set_closed(g);
	}
	pthread_mutex_unlock(&g->mu);
	return took;
}

static void offload_start(struct graft_gate *g);

/* Runs every queued task, including those they queue, then lets the
 * workers in again; a task that offloads its work stops the drain, which
 * goes on (still holding the gate) once that work is done. */
static void loop_drain(struct graft_gate *g)
{
	struct graft_gate_task *t;

	g->loop_held = true;
	while ((t = g->head) != NULL) {
		g->head = t->next;
		if (g->head == NULL)
			g->tail = NULL;
		t->queued = false;
		t->fn(t);
		if (g->off_task != NULL) {
			offload_start(g);
			return;
		}
	}
	g->loop_held = false;
	uv_unref((uv_handle_t *)&g->async);
	pthread_mutex_lock(&g->mu);
	g->exclusive = false;
	set_closed(g);
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
}

static void gate_async_cb(uv_async_t *h)
{
	struct graft_gate *g = h->data;

	if (g->head != NULL && !g->loop_held && loop_take(g))
		loop_drain(g);
}

void graft_gate_run(struct graft_gate *g, struct graft_gate_task *t)
{
	if (g == NULL) {
		t->fn(t);
		return;
	}
	if (!t->queued) {
		t->queued = true;
		t->next = NULL;
		if (g->tail != NULL)
			g->tail->next = t;
		else
			g->head = t;
		g->tail = t;
	}
	/* inside a drain, the drain runs it; else now if the gate is free,
	 * else once the async handle says so: meanwhile it keeps the loop
	 * alive */
	if (g->loop_held)
		return;
	uv_ref((uv_handle_t *)&g->async);
	if (loop_take(g))
		loop_drain(g);
}

static void offload_work_cb(uv_work_t *req)
{
	struct graft_gate *g = req->data;

	g->off_work(g->off_task);
}

/* Back on the loop, still holding the gate: the task's fn runs again
 * first, then the tasks that waited behind it. */
static void offload_after_cb(uv_work_t *req, int status)
{
	struct graft_gate *g = req->data;
	struct graft_gate_task *t = g->off_task;

	(void)status; /* never cancelled: nothing else holds off_req */
	g->off_task = NULL;
	g->off_running = false;
	t->queued = true;
	t->next = g->head;
	g->head = t;
	if (g->tail == NULL)
		g->tail = t;
	loop_drain(g);
}

static void offload_start(struct graft_gate *g)
{
	int rv;

	g->off_req.data = g;
	g->off_running = true;
	rv = uv_queue_work(g->async.loop, &g->off_req, offload_work_cb,
			   offload_after_cb);
	GRAFT_CHECK(rv == 0); /* it fails only without a work callback */
}

void graft_gate_offload(struct graft_gate *g, struct graft_gate_task *t,
			graft_gate_fn work)
{
	g->off_task = t;
	g->off_work = work;
}

bool graft_gate_offloaded(const struct graft_gate *g)
{
	return g != NULL && g->off_running;
}

bool graft_gate_try_enter_shared(struct graft_gate *g)
{
	if (g->head != NULL || g->loop_held || g->off_running)
		return false;
	return enter_fast(g);
}

bool graft_gate_free(struct graft_gate *g)
{
	bool free;

	if (g->head != NULL || g->loop_held || g->off_running)
		return false;
	pthread_mutex_lock(&g->mu);
	free = !g->exclusive && !g->loop_waiting && readers(g) == 0 &&
	       g->workers_waiting_exclusive == 0 &&
	       g->workers_waiting_shared == 0;
	pthread_mutex_unlock(&g->mu);
	return free;
}
