/* The file end of a store copy (store_copy.c): the checkpoint's bytes,
 * received straight into this writer's buffers, written to a new file
 * and made durable with one fdatasync.
 *
 * Two ways, chosen by the size the STORE line announces:
 * - buffered (below a threshold, CATCHUP_COPY_DIRECT_MIN by default): each full buffer is
 *   written by the receiving thread itself, the kernel's writeback
 *   started behind it every 2 MB (sync_file_range, no wait), so that the
 *   final fdatasync finds the data on its way and waits for the device's
 *   flush only;
 * - direct (from the threshold): O_DIRECT writes of aligned
 *   4 MB buffers on a writer thread of the copy's own, into a file
 *   allocated beforehand (fallocate), while the receiver fills the next
 *   buffer; the last block is padded, then the file cut to its size. At
 *   about 520 MB buffered writes fall to the pace of the writeback
 *   (sync_file_range blocks once the device's queue is full) and the
 *   direct ones ran 1.4-1.6x faster in bench/copy_ceiling; at 52 MB
 *   buffered writes were as fast or faster (docs/benchmarks.md).
 *
 * One receiving thread uses a writer (the copy's worker); the writer
 * thread, when there is one, is the writer's own and is joined by
 * catchup_writer_finish or catchup_writer_close. */
#ifndef GRAFT_CATCHUP_COPY_WRITER_H
#define GRAFT_CATCHUP_COPY_WRITER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Copies of this size and more are written with O_DIRECT by default
 * (dbms.cluster.catchup.store_copy_direct_io_min_size sets it on a
 * replica). */
#define CATCHUP_COPY_DIRECT_MIN ((uint64_t)128 << 20)
/* 4 MB: with 1 MB O_DIRECT writes (one at a time, each waited for) a
 * 520 MB copy ran 1.60-1.64 s against 1.27-1.41 s buffered; with 4 MB,
 * 0.70-1.32 s against 1.33-1.59 s (docs/benchmarks.md) */
#define CATCHUP_WRITER_BUF (4u << 20)
#define CATCHUP_WRITER_RING 4

struct catchup_writer {
	int fd;
	bool direct;
	uint64_t size;    /* announced: the file's final size */
	uint64_t handed;  /* bytes given to the buffers so far */
	uint64_t written; /* bytes written to the file */
	uint64_t started; /* buffered: writeback started up to here */
	const int *cancelled; /* the copy's flag, read while waiting */
	/* the ring: buffers tail..head-1 are full, waiting to be written;
	 * head is the one being filled (fill bytes of it) */
	uint8_t *buf[CATCHUP_WRITER_RING];
	size_t len[CATCHUP_WRITER_RING];
	size_t fill;
	unsigned head, tail;
	bool inited, done, stop, thread_running;
	int err; /* errno of the writer's failure, 0 */
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
};

/* Creates path for size bytes (direct when size >= direct_min and the
 * file system takes O_DIRECT), allocates its buffers and, direct, its
 * blocks and writer thread. cancelled: read while waiting for the disk.
 * On an error (errmsg set) the writer needs catchup_writer_close all the
 * same. */
int catchup_writer_open(struct catchup_writer *w, const char *path,
			uint64_t size, uint64_t direct_min,
			const int *cancelled, char *errmsg);
/* Where the next bytes go: *room (> 0) bytes at the returned address,
 * waiting for a free buffer if need be. NULL (errmsg set) on a write
 * error or a cancel. */
uint8_t *catchup_writer_next(struct catchup_writer *w, size_t *room,
			     char *errmsg);
/* n bytes were put where catchup_writer_next said. */
int catchup_writer_filled(struct catchup_writer *w, size_t n, char *errmsg);
/* Every byte handed (size of them) written, the file cut to size, then
 * one fdatasync: *drain_us the wait for the writes, *sync_us the
 * fdatasync. */
int catchup_writer_finish(struct catchup_writer *w, uint64_t *drain_us,
			  uint64_t *sync_us, char *errmsg);
/* Stops the writer thread (what it has not written is dropped), closes
 * the file and frees the buffers; the file stays (the caller removes
 * it). Idempotent, and safe on a zeroed writer. */
void catchup_writer_close(struct catchup_writer *w);

#endif
