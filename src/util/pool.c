/* The worker pool (pool.h): a mutex-protected queue of work the threads
 * take in order, and a queue of finished work the loop takes when the
 * async handle wakes it. */
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

static void push(struct graft_work **head, struct graft_work **tail,
		 struct graft_work *w)
{
	w->next = NULL;
	if (*tail != NULL)
		(*tail)->next = w;
	else
		*head = w;
	*tail = w;
}

static void *worker_main(void *arg)
{
	struct graft_pool *p = arg;
	struct graft_work *w;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (p->todo_head == NULL && !p->stopping)
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->todo_head == NULL)
			break;
		w = p->todo_head;
		p->todo_head = w->next;
		if (p->todo_head == NULL)
			p->todo_tail = NULL;
		pthread_mutex_unlock(&p->mu);
		w->work_cb(w);
		pthread_mutex_lock(&p->mu);
		push(&p->done_head, &p->done_tail, w);
		uv_async_send(&p->async);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

static void stop_threads(struct graft_pool *p)
{
	pthread_mutex_lock(&p->mu);
	p->stopping = true;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (unsigned i = 0; i < p->n_threads; i++)
		pthread_join(p->threads[i], NULL);
	p->n_threads = 0;
}

static void pool_closed_cb(uv_handle_t *h)
{
	struct graft_pool *p = h->data;

	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
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

	pthread_mutex_lock(&p->mu);
	w = p->done_head;
	p->done_head = p->done_tail = NULL;
	pthread_mutex_unlock(&p->mu);
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
	pthread_cond_init(&p->cv, NULL);
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
	pthread_mutex_lock(&p->mu);
	push(&p->todo_head, &p->todo_tail, w);
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

void graft_pool_close(struct graft_pool *p, void (*cb)(void *arg), void *arg)
{
	p->closed_cb = cb;
	p->closed_arg = arg;
	p->closing = true;
	if (p->in_flight == 0)
		finish_close(p);
}
