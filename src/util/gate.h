/* The gate: who may touch a dbms's graphs at a time.
 *
 * Worker threads execute statements holding the gate shared: many at once,
 * each reading the committed graphs. Changing them — applying a commit,
 * interning the tokens and ids a writing statement needs, forking a
 * checkpoint — needs it exclusive: either a worker (a writing statement,
 * which blocks until the shared holders leave) or the loop thread, which
 * never blocks: graft_gate_run runs its task at once when the gate is free,
 * else queues it, keeps new shared holders out (for up to a few
 * milliseconds each, so a long reader cannot stall every other statement
 * behind a waiting commit) and runs it from the loop as soon as the last
 * holder leaves (an async wake-up). Tasks run in the order they were given,
 * so the commit order the loop decided is the order they take effect in.
 *
 * Readers therefore see a commit all or nothing, between two of their
 * batches or at a yield (graft_gate_yield), where a long reader lets the
 * loop's waiting tasks run.
 *
 * A long task (applying a commit of a million entities) hands its heavy
 * part to a thread of libuv's pool (graft_gate_offload): the gate stays
 * held exclusive for it, the tasks given meanwhile wait behind it in
 * order, and the loop goes on with everything else (timers, Raft, other
 * sessions) instead of stalling for the whole apply.
 *
 * Its shared side is a big-reader lock: a reader counts itself in its own
 * thread's slot (util/slot.h) and enters at once when the gate is open
 * (nothing holds it exclusive or waits to), touching no line another
 * reader writes; whoever wants it exclusive closes it first, then waits
 * for every slot's count to drop to zero, and readers that come meanwhile
 * take the mutex as before (so writers are never starved). */
#ifndef GRAFT_UTIL_GATE_H
#define GRAFT_UTIL_GATE_H

#include <pthread.h>
#include <stdbool.h>
#include <uv.h>

#include "slot.h"

struct graft_gate_task;
typedef void (*graft_gate_fn)(struct graft_gate_task *t);

/* Caller-owned; given to graft_gate_run, it must stay alive until its fn
 * has run. Giving a task that is already queued is harmless: it runs once. */
struct graft_gate_task {
	void *data;
	graft_gate_fn fn;
	/* private */
	struct graft_gate_task *next;
	bool queued;
};

/* The readers that entered through one slot without the mutex: the count
 * alone in its cache line (private). */
struct graft_gate_readers {
	unsigned n;
	char pad[GRAFT_CACHE_LINE - sizeof(unsigned)];
};

struct graft_gate {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned shared;       /* worker threads holding it shared through mu */
	bool exclusive;        /* held exclusive (a worker or the loop) */
	unsigned workers_waiting_exclusive;
	unsigned workers_waiting_shared;
	bool loop_held;        /* the loop runs its tasks (loop thread only) */
	/* loop thread only, except loop_waiting (under mu) */
	bool loop_waiting;
	struct graft_gate_task *head, *tail;
	uv_async_t async;
	/* loop thread only: the task whose work runs off the loop (set by
	 * graft_gate_offload, running once its fn returned) */
	struct graft_gate_task *off_task;
	graft_gate_fn off_work;
	bool off_running;
	uv_work_t off_req;
	/* Readers' fast path (private): closed (written under mu, read
	 * without) says new readers must take mu: exclusive, loop_waiting or
	 * workers_waiting_exclusive; a line of its own, read by every reader,
	 * written only when a writer comes or goes. */
	char pad_closed[GRAFT_CACHE_LINE];
	unsigned closed;
	char pad_readers[GRAFT_CACHE_LINE];
	struct graft_gate_readers readers[GRAFT_SLOTS];
};

/* GRAFT_OK or an error of uv_async_init. */
int graft_gate_init(struct graft_gate *g, uv_loop_t *loop);
/* Closes the wake-up handle (cb after; may be NULL). No worker may hold
 * or wait for the gate, and no task be queued. */
void graft_gate_close(struct graft_gate *g, uv_close_cb cb);

/* Worker threads: block until the gate is held as asked. */
void graft_gate_enter_shared(struct graft_gate *g);
void graft_gate_enter_exclusive(struct graft_gate *g);
void graft_gate_leave(struct graft_gate *g);
/* Worker thread: if it holds the gate shared once (not nested) and the
 * loop waits to run its tasks (or a worker to write), leaves and enters
 * shared again, so that they run in between (a long reader calls this now
 * and then, where it holds no pointer into the graphs); true if it did.
 * If it holds it exclusive (a long eager write) and the loop or other
 * workers wait, leaves, lets the waiting readers enter and the loop's
 * tasks run, and takes it exclusive again (after those readers leave or
 * yield in turn). Otherwise nothing. */
bool graft_gate_yield(struct graft_gate *g);
/* Worker thread, around work that reads nothing of the graphs (sorting
 * its own copies): if it holds the gate shared once, leaves it (true);
 * graft_gate_resume(g, true) enters it shared again. */
bool graft_gate_pause(struct graft_gate *g);
void graft_gate_resume(struct graft_gate *g, bool paused);

/* Loop thread: runs t->fn holding the gate exclusive, now or later (see
 * above). A task may give further tasks; they run in the same turn. g may
 * be NULL (nothing runs off the loop): fn runs at once. */
void graft_gate_run(struct graft_gate *g, struct graft_gate_task *t);

/* Loop thread, inside t->fn (t running from graft_gate_run, g not NULL):
 * once fn returns, work(t) runs on a thread of libuv's pool with the gate
 * still held exclusive for it, while the loop goes on; then t->fn (which
 * fn may have changed meanwhile) runs again on the loop, still holding
 * the gate, before any task given after t. One offload per run of fn. */
void graft_gate_offload(struct graft_gate *g, struct graft_gate_task *t,
			graft_gate_fn work);
/* Loop thread: whether a task's work runs off the loop now (the graphs
 * change on another thread: the loop must not read them). */
bool graft_gate_offloaded(const struct graft_gate *g);
/* Loop thread: whether nothing holds the gate, waits for it, or is queued
 * to run holding it, so that the loop itself may enter it (as a worker
 * does) without waiting, as long as it starts no worker meanwhile. */
bool graft_gate_free(struct graft_gate *g);
/* Loop thread: enters the gate shared, as a worker does, if that needs
 * no wait: nothing holds it exclusive, waits for it so, or is queued to
 * run holding it (true; graft_gate_leave leaves it). Entries nested in
 * this hold (the engine's) do not wait either. */
bool graft_gate_try_enter_shared(struct graft_gate *g);

#endif
