/* A pool of worker threads for statements: work runs on one of them, its
 * done callback on the loop thread. Separate from libuv's own pool (which
 * the transaction log's writes and fsyncs use), so that long statements
 * never delay a commit's fsync. */
#ifndef GRAFT_UTIL_POOL_H
#define GRAFT_UTIL_POOL_H

#include <pthread.h>
#include <semaphore.h>
#include <stdbool.h>
#include <uv.h>

struct graft_work;
typedef void (*graft_work_cb)(struct graft_work *w);

/* Caller-owned; must stay alive until done_cb. */
struct graft_work {
	void *data;
	graft_work_cb work_cb; /* on a worker thread */
	graft_work_cb done_cb; /* on the loop thread, after work_cb */
	/* private */
	struct graft_work *next;
};

/* The loop never waits for a worker: it hands work over and takes it back
 * through two lock-free stacks (incoming, done) and a semaphore, never
 * through a lock a worker holds. A worker preempted while holding a lock
 * the loop takes stops the loop until the kernel runs the worker again:
 * 10-36 ms at a time on a loaded 2-core machine, when the pool's queues
 * were under one mutex (docs/benchmarks.md, 2026-12-06 14:10). */
struct graft_pool {
	pthread_mutex_t mu; /* the workers' alone: todo */
	sem_t ready;        /* a post per work pushed on incoming (and per
			     * thread to stop) */
	pthread_t *threads;
	unsigned n_threads;
	bool stopping; /* atomic: the threads exit once the queue is empty */
	bool closing;  /* loop thread only: graft_pool_close was called */
	struct graft_work *incoming; /* atomic: pushed by the loop, newest
				      * first; a worker takes all of it */
	struct graft_work *todo; /* under mu: taken from incoming, oldest
				  * first */
	struct graft_work *done; /* atomic: pushed by the workers, newest
				  * first; the loop takes all of it */
	unsigned in_flight;                       /* loop thread only */
	uv_async_t async;
	void (*closed_cb)(void *arg);
	void *closed_arg;
};

/* The number of worker threads a setting of n asks for: n, or the number
 * of cores for 0. */
unsigned graft_pool_size(unsigned n);
/* Starts threads workers. GRAFT_OK, GRAFT_ENOMEM or GRAFT_EIO (a thread
 * could not start; errmsg says why). */
int graft_pool_init(struct graft_pool *p, uv_loop_t *loop, unsigned threads,
		    char *errmsg);
/* Loop thread: queues w. */
void graft_pool_submit(struct graft_pool *p, struct graft_work *w);
/* Loop thread: once every submitted work is done (its done_cb called),
 * stops and joins the threads, then calls cb (may be NULL). */
void graft_pool_close(struct graft_pool *p, void (*cb)(void *arg), void *arg);

#endif
