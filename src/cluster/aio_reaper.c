/* Kernel AIO contexts destroyed off the event loop.
 *
 * libraft 0.15's uv backend gives every open segment of the Raft log a
 * writer with its own kernel AIO context, and destroys it on the loop
 * thread when the segment is closed (uv_writer.c
 * uvWriterCleanUpAndFireCloseCb: io_destroy), which happens each time a
 * segment fills and at every Raft snapshot (the snapshot's barrier closes
 * the open segment). io_destroy waits for the kernel to retire the
 * context, an RCU grace period at least: perf sched on a leader during a
 * 10 M store install showed the loop asleep in io_destroy for 40 ms at
 * nearly every Raft snapshot and up to 336 ms under disk load, which the
 * pause monitor logged as stalls and the leader's commit p99 carried.
 *
 * libraft calls io_destroy through syscall(2) (its uv_os.h wraps it so),
 * which it imports from libc; graftd defines syscall, so the dynamic
 * linker binds libraft's calls here. io_destroy of a context is handed to
 * a thread of this file and returns 0 at once; every other system call
 * goes to libc's syscall unchanged. The context has nothing in flight when
 * libraft destroys it on a segment close (the writer is idle by then),
 * and its eventfd and file descriptor may close before it (the kernel
 * holds its own references). When the queue is full the call is made here,
 * as before, and so before the thread is started (cluster_aio_reaper_start,
 * when a member opens its Raft log). The thread lives as long as the
 * process: contexts still queued at exit are released by the kernel with
 * the process. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cluster_int.h"

#define REAPER_SLOTS 64

typedef long (*syscall_fn)(long number, ...);

static pthread_mutex_t reaper_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t reaper_cond = PTHREAD_COND_INITIALIZER;
static long reaper_queue[REAPER_SLOTS];
static unsigned reaper_head, reaper_count;
static bool reaper_started, reaper_busy;
static uint64_t reaper_done;

/* libc's syscall, found once (dlsym is thread-safe; a race finds the
 * same address twice). */
static syscall_fn libc_syscall(void)
{
	static syscall_fn fn;
	syscall_fn f = __atomic_load_n(&fn, __ATOMIC_ACQUIRE);

	if (f == NULL) {
		f = (syscall_fn)(uintptr_t)dlsym(RTLD_NEXT, "syscall");
		__atomic_store_n(&fn, f, __ATOMIC_RELEASE);
	}
	return f;
}

static void *reaper_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&reaper_lock);
	for (;;) {
		long ctx;

		while (reaper_count == 0)
			pthread_cond_wait(&reaper_cond, &reaper_lock);
		ctx = reaper_queue[reaper_head];
		reaper_head = (reaper_head + 1) % REAPER_SLOTS;
		reaper_count--;
		reaper_busy = true;
		pthread_mutex_unlock(&reaper_lock);
		libc_syscall()(SYS_io_destroy, ctx);
		pthread_mutex_lock(&reaper_lock);
		reaper_busy = false;
		reaper_done++;
		pthread_cond_broadcast(&reaper_cond);
	}
	return NULL;
}

int cluster_aio_reaper_start(void)
{
	pthread_attr_t attr;
	pthread_t t;
	int rv = 0;

	pthread_mutex_lock(&reaper_lock);
	if (!reaper_started) {
		rv = pthread_attr_init(&attr);
		if (rv == 0) {
			pthread_attr_setdetachstate(&attr,
						    PTHREAD_CREATE_DETACHED);
			pthread_attr_setstacksize(&attr, 64 * 1024);
			rv = pthread_create(&t, &attr, reaper_main, NULL);
			pthread_attr_destroy(&attr);
		}
		reaper_started = rv == 0;
	}
	pthread_mutex_unlock(&reaper_lock);
	return rv;
}

/* Queues ctx for the thread; false when it cannot (queue full, no
 * thread): the caller destroys it itself. */
static bool reaper_take(long ctx)
{
	bool taken = false;

	pthread_mutex_lock(&reaper_lock);
	if (reaper_started && reaper_count < REAPER_SLOTS) {
		reaper_queue[(reaper_head + reaper_count) % REAPER_SLOTS] = ctx;
		reaper_count++;
		taken = true;
		pthread_cond_broadcast(&reaper_cond);
	}
	pthread_mutex_unlock(&reaper_lock);
	return taken;
}

uint64_t cluster_aio_reaper_drain(void)
{
	uint64_t done;

	pthread_mutex_lock(&reaper_lock);
	while (reaper_count > 0 || reaper_busy)
		pthread_cond_wait(&reaper_cond, &reaper_lock);
	done = reaper_done;
	pthread_mutex_unlock(&reaper_lock);
	return done;
}

/* Six arguments are read whatever the call takes, as libc's own syscall
 * does (the unused ones are whatever the registers held). */
long syscall(long number, ...)
{
	long a[6];
	va_list ap;

	va_start(ap, number);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (number == SYS_io_destroy && reaper_take(a[0]))
		return 0;
	return libc_syscall()(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}
