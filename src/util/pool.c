/* The worker pool (pool.h): work the loop pushes on a lock-free stack and
 * posts a semaphore for, which a worker takes in order (under the workers'
 * own lock, reversing the stack into their queue), and finished work the
 * workers push on another stack, which the loop takes when the async
 * handle wakes it. The loop takes no lock a worker holds. */
#include "pool.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"

unsigned graft_pool_size(unsigned n)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);

	if (n > 0)
		return n;
	return cores > 0 ? (unsigned)cores : 1;
}

/* Pushes w on a stack others take whole (atomic exchange): no ABA, since
 * nothing pops one element. */
static void stack_push(struct graft_work **top, struct graft_work *w)
{
	struct graft_work *old = __atomic_load_n(top, __ATOMIC_RELAXED);

	do
		w->next = old;
	while (!__atomic_compare_exchange_n(top, &old, w, true,
					    __ATOMIC_RELEASE,
					    __ATOMIC_RELAXED));
}

/* The whole stack, oldest first. */
static struct graft_work *stack_take(struct graft_work **top)
{
	struct graft_work *w = __atomic_exchange_n(top, NULL, __ATOMIC_ACQUIRE);
	struct graft_work *in_order = NULL;

	while (w != NULL) {
		struct graft_work *next = w->next;

		w->next = in_order;
		in_order = w;
		w = next;
	}
	return in_order;
}

/* The next work in submit order, or NULL (only when stopping). */
static struct graft_work *take(struct graft_pool *p)
{
	struct graft_work *w;

	pthread_mutex_lock(&p->mu);
	/* what the loop pushed since, once the older work is taken */
	if (p->todo == NULL)
		p->todo = stack_take(&p->incoming);
	w = p->todo;
	if (w != NULL)
		p->todo = w->next;
	pthread_mutex_unlock(&p->mu);
	return w;
}

static void *worker_main(void *arg)
{
	struct graft_pool *p = arg;

	for (;;) {
		struct graft_work *w;

		while (sem_wait(&p->ready) != 0)
			; /* EINTR */
		w = take(p);
		if (w == NULL) {
			if (__atomic_load_n(&p->stopping, __ATOMIC_ACQUIRE))
				break;
			continue;
		}
		w->work_cb(w);
		stack_push(&p->done, w);
		uv_async_send(&p->async);
	}
	return NULL;
}

static void stop_threads(struct graft_pool *p)
{
	__atomic_store_n(&p->stopping, true, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < p->n_threads; i++)
		sem_post(&p->ready);
	for (unsigned i = 0; i < p->n_threads; i++)
		pthread_join(p->threads[i], NULL);
	p->n_threads = 0;
}

static void pool_closed_cb(uv_handle_t *h)
{
	struct graft_pool *p = h->data;

	pthread_mutex_destroy(&p->mu);
	sem_destroy(&p->ready);
	free(p->threads);
	p->threads = NULL;
	if (p->closed_cb != NULL)
		p->closed_cb(p->closed_arg);
}

static void finish_close(struct graft_pool *p)
{
	stop_threads(p);
	uv_close((uv_handle_t *)&p->async, pool_closed_cb);
}

static void done_async_cb(uv_async_t *h)
{
	struct graft_pool *p = h->data;
	struct graft_work *w;

	w = stack_take(&p->done);
	while (w != NULL) {
		struct graft_work *next = w->next;

		/* the loop stays alive while work is out (see submit) */
		if (--p->in_flight == 0)
			uv_unref((uv_handle_t *)&p->async);
		w->done_cb(w);
		w = next;
	}
	if (p->closing && p->in_flight == 0 && p->n_threads > 0)
		finish_close(p);
}

int graft_pool_init(struct graft_pool *p, uv_loop_t *loop, unsigned threads,
		    char *errmsg)
{
	int rv;

	memset(p, 0, sizeof *p);
	p->threads = calloc(threads, sizeof *p->threads);
	if (p->threads == NULL)
		return graft_errf(errmsg, GRAFT_ENOMEM,
				  "out of memory starting %u worker threads",
				  threads);
	pthread_mutex_init(&p->mu, NULL);
	sem_init(&p->ready, 0, 0);
	uv_async_init(loop, &p->async, done_async_cb);
	p->async.data = p;
	for (; p->n_threads < threads; p->n_threads++) {
		rv = pthread_create(&p->threads[p->n_threads], NULL,
				    worker_main, p);
		if (rv != 0) {
			graft_errf(errmsg, GRAFT_EIO,
				   "cannot start worker thread %u of %u: %s; "
				   "lower server.threads.worker_count",
				   p->n_threads + 1, threads, strerror(rv));
			finish_close(p);
			return GRAFT_EIO;
		}
	}
	uv_unref((uv_handle_t *)&p->async);
	return GRAFT_OK;
}

void graft_pool_submit(struct graft_pool *p, struct graft_work *w)
{
	if (p->in_flight++ == 0)
		uv_ref((uv_handle_t *)&p->async);
	stack_push(&p->incoming, w);
	sem_post(&p->ready); /* never waits: an atomic add, a wake-up */
}

void graft_pool_close(struct graft_pool *p, void (*cb)(void *arg), void *arg)
{
	p->closed_cb = cb;
	p->closed_arg = arg;
	p->closing = true;
	if (p->in_flight == 0)
		finish_close(p);
}
