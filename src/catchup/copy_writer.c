/* The file end of a store copy: buffered, or O_DIRECT on a writer thread
 * (why each, and when: copy_writer.h).
 *
 * Direct, happy path: open (O_DIRECT) -> fallocate the announced size ->
 * the writer thread waits for full buffers -> the receiver fills buffer
 * head (catchup_writer_next/filled) and hands it on when full, or when
 * the last byte came -> the thread pwrites it (the last one padded to the
 * 4 KB block with zeros) and frees it -> finish: the thread drains the
 * ring and is joined, the file is cut to its size, one fdatasync.
 *
 * Failures: a write error stops the thread with its errno in w->err; the
 * receiver sees it at its next catchup_writer_next or at finish. A cancel
 * of the copy is seen by a receiver waiting for a free buffer within
 * WAIT_MS. catchup_writer_close stops the thread whatever it was doing
 * (the file is then removed with the copy's directory). */
#include <config.h> /* _GNU_SOURCE: O_DIRECT, fallocate, sync_file_range */

#include "copy_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

#include "../util/deadline.h"
#include "../util/err.h"
#include "../util/fs.h"

/* O_DIRECT writes start and end on this boundary (the logical block of
 * every disk graft runs on is 512 B or 4 KB). */
#define ALIGN 4096u
/* Buffered: the kernel's writeback is started this often. */
#define WRITEBACK_STEP (2u << 20)
/* Buffered: bytes are written this many at a time, from the start of the
 * one buffer, which stays in the CPU's cache (4 MB does not). */
#define BUFFERED_STEP (1u << 20)
/* A receiver waiting for a free buffer looks at the cancel flag this
 * often. */
#define WAIT_MS 100

static int fail(char *errmsg, int e, const char *what)
{
	return graft_errf(errmsg, graft_err_from_errno(e), "cannot %s the "
			  "store copy: %s", what, strerror(e));
}

/* n bytes of b at the file's end (direct: padded to ALIGN with zeros,
 * b has room for it). 0 or an errno. */
static int write_buf(struct catchup_writer *w, uint8_t *b, size_t n)
{
	size_t len = n;

	if (w->direct && n % ALIGN != 0) {
		len = (n + ALIGN - 1) / ALIGN * ALIGN;
		memset(b + n, 0, len - n);
	}
	for (size_t off = 0; off < len;) {
		ssize_t k = pwrite(w->fd, b + off, len - off,
				   (off_t)(w->written + off));
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return k < 0 ? errno : EIO;
		off += (size_t)k;
	}
	w->written += n;
	if (!w->direct && w->written - w->started >= WRITEBACK_STEP) {
		/* advice: the writeback starts now, behind the received
		 * bytes; the final fdatasync waits for all of it */
		(void)sync_file_range(w->fd, (off_t)w->started,
				      (off_t)(w->written - w->started),
				      SYNC_FILE_RANGE_WRITE);
		w->started = w->written;
	}
	return 0;
}

static void *writer_main(void *arg)
{
	struct catchup_writer *w = arg;
	unsigned i;
	int e;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (w->tail == w->head && !w->done && !w->stop)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->stop || w->tail == w->head)
			break;
		i = w->tail % CATCHUP_WRITER_RING;
		pthread_mutex_unlock(&w->mu);
		e = write_buf(w, w->buf[i], w->len[i]);
		pthread_mutex_lock(&w->mu);
		w->tail++;
		if (e != 0)
			w->err = e;
		pthread_cond_broadcast(&w->cv);
		if (e != 0)
			break;
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

int catchup_writer_open(struct catchup_writer *w, const char *path,
			uint64_t size, uint64_t direct_min,
			const int *cancelled, char *errmsg)
{
	int flags = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, rings;

	memset(w, 0, sizeof *w);
	w->fd = -1;
	w->size = size;
	w->cancelled = cancelled;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	w->inited = true;
	w->direct = size >= direct_min;
	if (w->direct) {
		w->fd = open(path, flags | O_DIRECT, 0640);
		/* a file system without O_DIRECT (tmpfs): buffered */
		w->direct = w->fd >= 0;
	}
	if (w->fd < 0)
		w->fd = open(path, flags, 0640);
	if (w->fd < 0)
		return graft_errf(errmsg, graft_err_from_errno(errno), "cannot "
				  "create %s: %s", path, strerror(errno));
	rings = w->direct ? CATCHUP_WRITER_RING : 1;
	for (int i = 0; i < rings; i++)
		if (posix_memalign((void **)&w->buf[i], ALIGN,
				   CATCHUP_WRITER_BUF) != 0)
			return graft_errf(errmsg, GRAFT_ENOMEM, "out of memory");
	if (!w->direct)
		return GRAFT_OK;
	/* The blocks at once: no allocation per write, and a full disk
	 * fails the copy now rather than half-way. */
	if (size > 0 && fallocate(w->fd, 0, 0, (off_t)size) != 0 &&
	    errno != EOPNOTSUPP)
		return fail(errmsg, errno, "allocate");
	if (pthread_create(&w->thread, NULL, writer_main, w) != 0)
		return graft_errf(errmsg, GRAFT_ENOMEM, "cannot start the store "
				  "copy's writer thread");
	w->thread_running = true;
	return GRAFT_OK;
}

/* Direct: waits (the lock held) while every buffer is full; false, with
 * errmsg set, on a write error or a cancel. */
static bool wait_free(struct catchup_writer *w, char *errmsg)
{
	struct timespec t;

	while (w->head - w->tail == CATCHUP_WRITER_RING && w->err == 0) {
		if (__atomic_load_n(w->cancelled, __ATOMIC_ACQUIRE)) {
			graft_errf(errmsg, GRAFT_ESHUTDOWN, "the copy was "
				   "cancelled");
			return false;
		}
		graft_deadline_in(&t, WAIT_MS * 1000000L);
		pthread_cond_timedwait(&w->cv, &w->mu, &t);
	}
	if (w->err != 0) {
		fail(errmsg, w->err, "write");
		return false;
	}
	return true;
}

uint8_t *catchup_writer_next(struct catchup_writer *w, size_t *room,
			     char *errmsg)
{
	unsigned i = 0;
	bool ok = true;

	if (w->direct) {
		pthread_mutex_lock(&w->mu);
		ok = wait_free(w, errmsg);
		i = w->head % CATCHUP_WRITER_RING;
		pthread_mutex_unlock(&w->mu);
	}
	if (!ok)
		return NULL;
	*room = CATCHUP_WRITER_BUF - w->fill;
	return w->buf[i] + w->fill;
}

/* The buffer being filled goes to the file. */
static int hand_on(struct catchup_writer *w, char *errmsg)
{
	int e;

	if (w->fill == 0)
		return GRAFT_OK;
	if (!w->direct) {
		e = write_buf(w, w->buf[0], w->fill);
		w->fill = 0;
		return e == 0 ? GRAFT_OK : fail(errmsg, e, "write");
	}
	pthread_mutex_lock(&w->mu);
	w->len[w->head % CATCHUP_WRITER_RING] = w->fill;
	w->head++;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	w->fill = 0;
	return GRAFT_OK;
}

int catchup_writer_filled(struct catchup_writer *w, size_t n, char *errmsg)
{
	w->fill += n;
	w->handed += n;
	if (w->fill == CATCHUP_WRITER_BUF || w->handed >= w->size ||
	    (!w->direct && w->fill >= BUFFERED_STEP))
		return hand_on(w, errmsg);
	return GRAFT_OK;
}

/* Direct: the thread drains the ring, then ends. */
static void join_writer(struct catchup_writer *w, bool stop)
{
	if (!w->thread_running)
		return;
	pthread_mutex_lock(&w->mu);
	w->done = true;
	w->stop = w->stop || stop;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	w->thread_running = false;
}

int catchup_writer_finish(struct catchup_writer *w, uint64_t *drain_us,
			  uint64_t *sync_us, char *errmsg)
{
	uint64_t start = uv_hrtime();
	int rv = hand_on(w, errmsg);

	if (rv != GRAFT_OK)
		return rv;
	join_writer(w, false);
	if (w->err != 0)
		return fail(errmsg, w->err, "write");
	/* padded: cut back to the announced size (fallocate set it) */
	if (w->direct && ftruncate(w->fd, (off_t)w->size) != 0)
		return fail(errmsg, errno, "truncate");
	*drain_us = (uv_hrtime() - start) / 1000;
	start = uv_hrtime();
	if (fdatasync(w->fd) != 0)
		return fail(errmsg, errno, "fsync");
	*sync_us = (uv_hrtime() - start) / 1000;
	return GRAFT_OK;
}

void catchup_writer_close(struct catchup_writer *w)
{
	if (!w->inited)
		return;
	join_writer(w, true);
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	for (int i = 0; i < CATCHUP_WRITER_RING; i++) {
		free(w->buf[i]);
		w->buf[i] = NULL;
	}
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	w->inited = false;
}
