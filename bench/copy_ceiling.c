/* The ceiling of a store copy on this machine (issue 16): the same bytes a
 * replica's store copy moves, copied in the simplest ways there are, so
 * that bench/replica_bench.sh can print graft's copy beside what the
 * machine itself allows, and so that a design can be tried here before it
 * goes into src/catchup. No event loop, no thread pool: a sender thread
 * reads the file 1 MB at a time, sums it (CRC32C, as the upstream does)
 * and sends it over loopback TCP with blocking calls (or, "sendfile",
 * hands the file to the kernel: its sum is then computed beforehand, as a
 * checkpoint's could be when it is written); the receiver receives it,
 * sums it again as it comes (each recv's bytes at once, while they are in
 * the cache), and writes it to a new file one of these ways:
 *
 *   buffered  one thread: recv 1 MB, sum, write(), the kernel's writeback
 *             started every 2 MB (sync_file_range), one fdatasync (graft's
 *             design until 2026-12-06);
 *   buffered2 the same writes on a second thread (a ring of 1 MB buffers),
 *             so that the receiver never waits for a write;
 *   direct    one thread: O_DIRECT writes of 1 MB from aligned buffers
 *             into a file allocated beforehand (fallocate), the last
 *             block padded then the file cut to its size, one fdatasync;
 *   direct2   the same O_DIRECT writes on a second thread;
 *   direct2c  direct2, with each recv's bytes copied (and summed) into the
 *             aligned buffer from an unaligned one, as a receiver whose
 *             stream carries other messages before the file must.
 *
 *   bench/copy_ceiling FILE DIR [ROUNDS [FIO_MBS]]
 *
 * Per round: the network alone (received, summed and dropped), the disk
 * alone (from memory, buffered and O_DIRECT) and each whole copy, each
 * with its MB/s, its final fdatasync and, given a fio figure (the durable
 * one: sequential write with its fsync at the end), its percentage of it.
 * The variants alternate within a round, so that a change of load hits
 * them alike; CEILING_ONLY=TEXT runs only the copies whose description
 * holds TEXT. DIR receives the file (removed after). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/crc32c.h"

#define CHUNK (1u << 20)
#define ALIGN 4096u
#define WRITEBACK_STEP (2u << 20)
#define RING 4

enum sink { SINK_NONE, SINK_BUFFERED, SINK_BUFFERED2, SINK_DIRECT,
	    SINK_DIRECT2, SINK_DIRECT2C, SINK_BUFFERED2F, SINK_BUFFERED2S,
	    SINK_DIRECT2S };

/* The *2S sinks' writer fdatasyncs every this many bytes
 * (CEILING_SYNC_MB), so that the device's flush of what came before
 * overlaps the rest of the transfer. */
static uint64_t sync_step = 16u << 20;

struct sender {
	const char *path;
	int port;
	bool use_sendfile;
	uint32_t crc;
	int failed;
};

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int send_all(int sock, const char *b, size_t n)
{
	for (size_t off = 0; off < n;) {
		ssize_t w = send(sock, b + off, n - off, 0);
		if (w <= 0)
			return -1;
		off += (size_t)w;
	}
	return 0;
}

static void *send_file(void *arg)
{
	struct sender *s = arg;
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons((uint16_t)s->port)};
	char *b = malloc(CHUNK);
	int fd = open(s->path, O_RDONLY | O_CLOEXEC);
	int sock = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct stat st;
	ssize_t n;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->failed = b == NULL || fd < 0 || sock < 0 || fstat(fd, &st) != 0 ||
		    connect(sock, (struct sockaddr *)&sa, sizeof sa) != 0;
	if (s->use_sendfile) {
		off_t off = 0;
		while (!s->failed && off < st.st_size)
			s->failed = sendfile(sock, fd, &off,
					     (size_t)(st.st_size - off)) <= 0;
	} else {
		while (!s->failed && (n = read(fd, b, CHUNK)) > 0) {
			s->crc = graft_crc32c(s->crc, b, (size_t)n);
			s->failed = send_all(sock, b, (size_t)n) != 0;
		}
	}
	if (fd >= 0)
		close(fd);
	if (sock >= 0)
		close(sock);
	free(b);
	return NULL;
}

/* The file's CRC32C, read beforehand (the "sendfile" sender's sum). */
static uint32_t file_crc(const char *path)
{
	char *b = malloc(CHUNK);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	uint32_t crc = 0;
	ssize_t n;

	while (b != NULL && fd >= 0 && (n = read(fd, b, CHUNK)) > 0)
		crc = graft_crc32c(crc, b, (size_t)n);
	if (fd >= 0)
		close(fd);
	free(b);
	return crc;
}

/* The writing end: a file, buffered or O_DIRECT, and for the two-thread
 * sinks a ring of aligned 1 MB buffers between receiver and writer. */
struct out {
	enum sink sink;
	int fd;
	uint64_t size, written, flushed, synced;
	int failed;
	char *ring[RING];
	size_t len[RING];
	unsigned head, tail; /* filled: tail..head-1 */
	bool done;
	pthread_mutex_t mu;
	pthread_cond_t cv;
};

static bool is_direct(enum sink k)
{
	return k == SINK_DIRECT || k == SINK_DIRECT2 || k == SINK_DIRECT2C ||
	       k == SINK_DIRECT2S;
}

static bool two_threads(enum sink k)
{
	return k == SINK_BUFFERED2 || k == SINK_DIRECT2 ||
	       k == SINK_DIRECT2C || k == SINK_BUFFERED2F ||
	       k == SINK_BUFFERED2S || k == SINK_DIRECT2S;
}

static bool allocates(enum sink k)
{
	return is_direct(k) || k == SINK_BUFFERED2F || k == SINK_BUFFERED2S;
}

/* n bytes at b (aligned for O_DIRECT) at the end of the file. */
static int put(struct out *o, const char *b, size_t n)
{
	size_t len = n;

	if (is_direct(o->sink) && n % ALIGN != 0) { /* the last block */
		len = (n + ALIGN - 1) / ALIGN * ALIGN;
		memset((char *)b + n, 0, len - n);
	}
	for (size_t off = 0; off < len;) {
		ssize_t w = pwrite(o->fd, b + off, len - off,
				   (off_t)(o->written + off));
		if (w <= 0)
			return -1;
		off += (size_t)w;
	}
	o->written += n;
	if (!is_direct(o->sink) && o->written - o->flushed >= WRITEBACK_STEP) {
		(void)sync_file_range(o->fd, (off_t)o->flushed,
				      (off_t)(o->written - o->flushed),
				      SYNC_FILE_RANGE_WRITE);
		o->flushed = o->written;
	}
	if ((o->sink == SINK_BUFFERED2S || o->sink == SINK_DIRECT2S) &&
	    o->written - o->synced >= sync_step) {
		if (fdatasync(o->fd) != 0)
			return -1;
		o->synced = o->written;
	}
	return 0;
}

static void *writer(void *arg)
{
	struct out *o = arg;

	pthread_mutex_lock(&o->mu);
	for (;;) {
		while (o->tail == o->head && !o->done)
			pthread_cond_wait(&o->cv, &o->mu);
		if (o->tail == o->head)
			break;
		pthread_mutex_unlock(&o->mu);
		if (put(o, o->ring[o->tail % RING], o->len[o->tail % RING]) != 0)
			o->failed = 1;
		pthread_mutex_lock(&o->mu);
		o->tail++;
		pthread_cond_broadcast(&o->cv);
	}
	pthread_mutex_unlock(&o->mu);
	return NULL;
}

/* The receiver's next buffer to fill (two threads: waits for a free one). */
static char *next_buf(struct out *o)
{
	char *b;

	pthread_mutex_lock(&o->mu);
	while (o->head - o->tail == RING)
		pthread_cond_wait(&o->cv, &o->mu);
	b = o->ring[o->head % RING];
	pthread_mutex_unlock(&o->mu);
	return b;
}

static void filled(struct out *o, size_t n)
{
	pthread_mutex_lock(&o->mu);
	o->len[o->head % RING] = n;
	o->head++;
	pthread_cond_broadcast(&o->cv);
	pthread_mutex_unlock(&o->mu);
}

static int out_open(struct out *o, enum sink sink, const char *path,
		    uint64_t size)
{
	int flags = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC;

	memset(o, 0, sizeof *o);
	o->sink = sink;
	o->size = size;
	o->fd = -1;
	pthread_mutex_init(&o->mu, NULL);
	pthread_cond_init(&o->cv, NULL);
	for (int i = 0; i < RING; i++)
		if (posix_memalign((void **)&o->ring[i], ALIGN, CHUNK) != 0)
			return -1;
	if (sink == SINK_NONE)
		return 0;
	o->fd = open(path, flags | (is_direct(sink) ? O_DIRECT : 0), 0640);
	if (o->fd < 0) {
		fprintf(stderr, "copy_ceiling: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (allocates(sink) && size > 0 &&
	    fallocate(o->fd, 0, 0, (off_t)size) != 0)
		return -1;
	return 0;
}

/* Ends the file: cut to its size (O_DIRECT pads the last block), then
 * one fdatasync, timed in *sync_s. */
static int out_finish(struct out *o, double *sync_s)
{
	double t = now_s();
	int rv = 0;

	if (o->fd >= 0) {
		if (is_direct(o->sink) && ftruncate(o->fd, (off_t)o->size) != 0)
			rv = -1;
		if (fdatasync(o->fd) != 0)
			rv = -1;
	}
	*sync_s = now_s() - t;
	return rv;
}

static void out_close(struct out *o, const char *path)
{
	if (o->fd >= 0) {
		close(o->fd);
		unlink(path);
	}
	for (int i = 0; i < RING; i++)
		free(o->ring[i]);
	pthread_mutex_destroy(&o->mu);
	pthread_cond_destroy(&o->cv);
}

/* Receives want bytes into b, summing each recv's bytes as they come. */
static size_t recv_sum(int c, char *b, size_t want, uint32_t *crc)
{
	size_t have = 0;

	while (have < want) {
		ssize_t n = recv(c, b + have, want - have, 0);
		if (n <= 0)
			break;
		*crc = graft_crc32c(*crc, b + have, (size_t)n);
		have += (size_t)n;
	}
	return have;
}

/* One copy of path over loopback into out (SINK_NONE: received and
 * dropped); *total_s and *sync_s its times. Returns 0, or -1 after a
 * message. */
static int copy_once(const char *path, const char *out, uint64_t size,
		     enum sink sink, bool use_sendfile, double *total_s,
		     double *sync_s)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t sl = sizeof sa;
	struct sender s = {.path = path, .use_sendfile = use_sendfile};
	struct out o;
	pthread_t th, wth;
	bool sending = false, writing = false;
	char *plain = malloc(CHUNK + 333); /* unaligned, for direct2c */
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), c = -1;
	uint64_t got = 0;
	uint32_t crc = 0, want_crc;
	double t0;
	int rv = -1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (out_open(&o, sink, out, size) != 0 || plain == NULL || l < 0 ||
	    bind(l, (struct sockaddr *)&sa, sizeof sa) != 0 ||
	    getsockname(l, (struct sockaddr *)&sa, &sl) != 0 ||
	    listen(l, 1) != 0) {
		perror("copy_ceiling: setup");
		goto err;
	}
	s.port = ntohs(sa.sin_port);
	want_crc = use_sendfile ? file_crc(path) : 0;
	t0 = now_s();
	if (pthread_create(&th, NULL, send_file, &s) != 0)
		goto err;
	sending = true;
	if (two_threads(sink)) {
		if (pthread_create(&wth, NULL, writer, &o) != 0)
			goto err;
		writing = true;
	}
	c = accept(l, NULL, NULL);
	while (c >= 0 && got < size && !o.failed) {
		size_t want = size - got < CHUNK ? (size_t)(size - got) : CHUNK,
		       have = 0;
		char *b = two_threads(sink) ? next_buf(&o) : o.ring[0];

		if (sink == SINK_DIRECT2C) {
			/* recv into the unaligned buffer, then sum and copy
			 * each recv's bytes while they are in the cache */
			while (have < want) {
				size_t room = want - have < (256u << 10)
						      ? want - have
						      : (256u << 10);
				ssize_t n = recv(c, plain + 333, room, 0);

				if (n <= 0)
					break;
				crc = graft_crc32c(crc, plain + 333, (size_t)n);
				memcpy(b + have, plain + 333, (size_t)n);
				have += (size_t)n;
			}
		} else {
			have = recv_sum(c, b, want, &crc);
		}
		if (have < want)
			break;
		got += have;
		if (two_threads(sink))
			filled(&o, have);
		else if (sink != SINK_NONE && put(&o, b, have) != 0)
			break;
	}
	if (writing) {
		pthread_mutex_lock(&o.mu);
		o.done = true;
		pthread_cond_broadcast(&o.cv);
		pthread_mutex_unlock(&o.mu);
		pthread_join(wth, NULL);
		writing = false;
	}
	if (o.failed || out_finish(&o, sync_s) != 0)
		got = 0;
	*total_s = now_s() - t0;
	pthread_join(th, NULL);
	sending = false;
	if (!use_sendfile)
		want_crc = s.crc;
	if (got != size || s.failed || want_crc != crc) {
		fprintf(stderr, "copy_ceiling: the copy failed (%llu of %llu "
			"bytes%s)\n", (unsigned long long)got,
			(unsigned long long)size,
			want_crc != crc ? ", CRC mismatch" : "");
		goto err;
	}
	rv = 0;
err:
	if (c >= 0)
		close(c);
	if (sending)
		pthread_join(th, NULL);
	if (l >= 0)
		close(l);
	out_close(&o, out);
	free(plain);
	return rv;
}

/* The bytes, read into memory first, written and fdatasynced. */
static int disk_once(const char *path, const char *out, uint64_t size,
		     enum sink sink, double *total_s, double *sync_s)
{
	char *m = NULL;
	int in = open(path, O_RDONLY | O_CLOEXEC);
	uint64_t got = 0;
	struct out o;
	double t0;
	int rv = -1;

	if (posix_memalign((void **)&m, ALIGN, size + ALIGN) != 0)
		m = NULL;
	while (m != NULL && in >= 0 && got < size) {
		ssize_t n = read(in, m + got, (size_t)(size - got));
		if (n <= 0)
			break;
		got += (uint64_t)n;
	}
	if (got != size || out_open(&o, sink, out, size) != 0)
		goto err;
	t0 = now_s();
	for (uint64_t off = 0; off < size; off += CHUNK)
		if (put(&o, m + off, size - off < CHUNK ? size - off : CHUNK) !=
		    0)
			goto err_out;
	if (out_finish(&o, sync_s) != 0)
		goto err_out;
	*total_s = now_s() - t0;
	rv = 0;
err_out:
	out_close(&o, out);
err:
	if (rv != 0)
		fprintf(stderr, "copy_ceiling: cannot write %s: %s\n", out,
			strerror(errno));
	if (in >= 0)
		close(in);
	free(m);
	return rv;
}

static double mb, fio_mbs;

static void report(const char *what, double t, double sync_s)
{
	printf("  ceiling, %s: %.3f s, %.0f MB/s", what, t, mb / t);
	if (sync_s >= 0)
		printf(" (fdatasync %.3f s)", sync_s);
	if (fio_mbs > 0)
		printf(", %.0f %% of fio's durable write",
		       100 * mb / t / fio_mbs);
	printf("\n");
}

int main(int argc, char **argv)
{
	static const struct {
		enum sink sink;
		bool sendfile;
		const char *what;
	} copies[] = {
		{SINK_BUFFERED, false, "the whole copy, buffered (one thread)"},
		{SINK_DIRECT2, false, "the whole copy, O_DIRECT, writer thread (direct2)"},
		{SINK_BUFFERED2, false, "the whole copy, buffered, writer thread (buffered2)"},
		{SINK_DIRECT, false, "the whole copy, O_DIRECT (one thread)"},
		{SINK_DIRECT2C, false, "the whole copy, direct2 + copy into aligned buffers (direct2c)"},
		{SINK_DIRECT2, true, "the whole copy, direct2, upstream sendfile"},
		{SINK_BUFFERED2F, false, "the whole copy, buffered2 + fallocate (buffered2f)"},
		{SINK_BUFFERED2S, false, "the whole copy, buffered2f + fdatasync every step (buffered2s)"},
		{SINK_DIRECT2S, false, "the whole copy, direct2 + fdatasync every step (direct2s)"},
	};
	char out[4096];
	struct stat st;
	int rounds = argc > 3 ? atoi(argv[3]) : 1;
	double t, sync_s;

	if (argc < 3 || stat(argv[1], &st) != 0 || rounds < 1) {
		fprintf(stderr, "usage: copy_ceiling FILE DIR [ROUNDS "
			"[FIO_MBS]]\n");
		return 2;
	}
	fio_mbs = argc > 4 ? atof(argv[4]) : 0;
	if (getenv("CEILING_SYNC_MB") != NULL)
		sync_step = (uint64_t)atoi(getenv("CEILING_SYNC_MB")) << 20;
	mb = (double)st.st_size / 1048576.0;
	snprintf(out, sizeof out, "%s/copy_ceiling.out", argv[2]);
	for (int r = 0; r < rounds; r++) {
		if (copy_once(argv[1], NULL, (uint64_t)st.st_size, SINK_NONE,
			      false, &t, &sync_s) != 0)
			return 1;
		report("the network alone (loopback TCP, 1 MB sends, CRC32C "
		       "on both ends)", t, -1);
		if (disk_once(argv[1], out, (uint64_t)st.st_size,
			      SINK_BUFFERED, &t, &sync_s) != 0)
			return 1;
		report("the disk alone, buffered (from memory, fdatasync)", t,
		       sync_s);
		if (disk_once(argv[1], out, (uint64_t)st.st_size, SINK_DIRECT,
			      &t, &sync_s) != 0)
			return 1;
		report("the disk alone, O_DIRECT (from memory, fdatasync)", t,
		       sync_s);
		for (size_t i = 0; i < sizeof copies / sizeof copies[0]; i++) {
			if (getenv("CEILING_ONLY") != NULL &&
			    strstr(copies[i].what, getenv("CEILING_ONLY")) ==
				    NULL)
				continue;
			if (copy_once(argv[1], out, (uint64_t)st.st_size,
				      copies[i].sink, copies[i].sendfile, &t,
				      &sync_s) != 0)
				return 1;
			report(copies[i].what, t, sync_s);
		}
	}
	return 0;
}
