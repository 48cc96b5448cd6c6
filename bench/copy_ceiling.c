/* The ceiling of a store copy on this machine (issue 16): the same bytes a
 * replica's store copy moves, copied the simplest way there is, so that
 * bench/replica_bench.sh can print graft's copy beside what the machine
 * itself allows. Two threads of one process, no event loop, no thread
 * pool: a sender reads the file 1 MB at a time, sums it (CRC32C, as the
 * upstream does) and sends it over loopback TCP with blocking calls; the
 * receiver receives 1 MB at a time, sums it again, writes it to a new file
 * (the kernel's writeback started every 2 MB, as the replica does) and
 * fdatasyncs it once at the end.
 *
 *   bench/copy_ceiling FILE DIR [ROUNDS]
 *
 * Per round, three figures: the network alone (the receiver sums and
 * drops the bytes), the disk alone (the bytes, already in memory, written
 * and fdatasynced) and the whole copy; each with its MB/s, the copy's with
 * the fdatasync's share. DIR receives the file (removed after). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/crc32c.h"

#define CHUNK (1u << 20)
#define WRITEBACK_STEP (2u << 20)

struct sender {
	const char *path;
	int port;
	uint32_t crc;
	int failed;
};

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void *send_file(void *arg)
{
	struct sender *s = arg;
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons((uint16_t)s->port)};
	char *b = malloc(CHUNK);
	int fd = open(s->path, O_RDONLY | O_CLOEXEC);
	int sock = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ssize_t n;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->failed = b == NULL || fd < 0 || sock < 0 ||
		    connect(sock, (struct sockaddr *)&sa, sizeof sa) != 0;
	while (!s->failed && (n = read(fd, b, CHUNK)) > 0) {
		s->crc = graft_crc32c(s->crc, b, (size_t)n);
		for (ssize_t off = 0, w; off < n; off += w) {
			w = send(sock, b + off, (size_t)(n - off), 0);
			if (w <= 0) {
				s->failed = 1;
				break;
			}
		}
	}
	if (fd >= 0)
		close(fd);
	if (sock >= 0)
		close(sock);
	free(b);
	return NULL;
}

/* Writes n bytes at b to fd with the replica's writeback steps. */
static int put(int fd, const char *b, size_t n, uint64_t *written,
	       uint64_t *flushed)
{
	for (size_t off = 0; off < n;) {
		ssize_t w = write(fd, b + off, n - off);
		if (w <= 0)
			return -1;
		off += (size_t)w;
	}
	*written += n;
	if (*written - *flushed >= WRITEBACK_STEP) {
		(void)sync_file_range(fd, (off_t)*flushed,
				      (off_t)(*written - *flushed),
				      SYNC_FILE_RANGE_WRITE);
		*flushed = *written;
	}
	return 0;
}

/* One copy of path over loopback into out (NULL: received and dropped);
 * *total_s and *sync_s its times. Returns 0, or -1 after a message. */
static int copy_once(const char *path, const char *out, uint64_t size,
		     double *total_s, double *sync_s)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t sl = sizeof sa;
	struct sender s = {.path = path};
	pthread_t th;
	char *b = malloc(CHUNK);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), c = -1, fd = -1;
	uint64_t got = 0, written = 0, flushed = 0;
	uint32_t crc = 0;
	double t0, t1;
	int rv = -1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (b == NULL || l < 0 ||
	    bind(l, (struct sockaddr *)&sa, sizeof sa) != 0 ||
	    getsockname(l, (struct sockaddr *)&sa, &sl) != 0 ||
	    listen(l, 1) != 0) {
		perror("copy_ceiling: listen");
		goto err;
	}
	s.port = ntohs(sa.sin_port);
	if (out != NULL) {
		fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
		if (fd < 0) {
			fprintf(stderr, "copy_ceiling: %s: %s\n", out,
				strerror(errno));
			goto err;
		}
	}
	t0 = now_s();
	if (pthread_create(&th, NULL, send_file, &s) != 0)
		goto err;
	c = accept(l, NULL, NULL);
	while (c >= 0 && got < size) {
		size_t want = size - got < CHUNK ? (size_t)(size - got) : CHUNK,
		       have = 0;
		while (have < want) {
			ssize_t n = recv(c, b + have, want - have, 0);
			if (n <= 0)
				break;
			have += (size_t)n;
		}
		if (have < want)
			break;
		crc = graft_crc32c(crc, b, have);
		if (fd >= 0 && put(fd, b, have, &written, &flushed) != 0)
			break;
		got += have;
	}
	t1 = now_s();
	if (fd >= 0 && fdatasync(fd) != 0)
		got = 0;
	*total_s = now_s() - t0;
	*sync_s = now_s() - t1;
	pthread_join(th, NULL);
	if (got != size || s.failed || s.crc != crc) {
		fprintf(stderr, "copy_ceiling: the copy failed (%llu of %llu "
			"bytes%s)\n", (unsigned long long)got,
			(unsigned long long)size,
			s.crc != crc ? ", CRC mismatch" : "");
		goto err;
	}
	rv = 0;
err:
	if (c >= 0)
		close(c);
	if (l >= 0)
		close(l);
	if (fd >= 0) {
		close(fd);
		unlink(out);
	}
	free(b);
	return rv;
}

/* The bytes, read into memory first, written and fdatasynced. */
static int disk_once(const char *path, const char *out, uint64_t size,
		     double *total_s, double *sync_s)
{
	char *m = malloc(size > 0 ? size : 1);
	int in = open(path, O_RDONLY | O_CLOEXEC), fd = -1;
	uint64_t got = 0, written = 0, flushed = 0;
	double t0, t1;
	int rv = -1;

	while (m != NULL && in >= 0 && got < size) {
		ssize_t n = read(in, m + got, (size_t)(size - got));
		if (n <= 0)
			break;
		got += (uint64_t)n;
	}
	if (got != size)
		goto err;
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0)
		goto err;
	t0 = now_s();
	for (uint64_t off = 0; off < size; off += CHUNK)
		if (put(fd, m + off, size - off < CHUNK ? size - off : CHUNK,
			&written, &flushed) != 0)
			goto err;
	t1 = now_s();
	if (fdatasync(fd) != 0)
		goto err;
	*total_s = now_s() - t0;
	*sync_s = now_s() - t1;
	rv = 0;
err:
	if (rv != 0)
		fprintf(stderr, "copy_ceiling: cannot write %s: %s\n", out,
			strerror(errno));
	if (in >= 0)
		close(in);
	if (fd >= 0) {
		close(fd);
		unlink(out);
	}
	free(m);
	return rv;
}

int main(int argc, char **argv)
{
	char out[4096];
	struct stat st;
	int rounds = argc > 3 ? atoi(argv[3]) : 1;
	double t, sync_s;

	if (argc < 3 || stat(argv[1], &st) != 0 || rounds < 1) {
		fprintf(stderr, "usage: copy_ceiling FILE DIR [ROUNDS]\n");
		return 2;
	}
	snprintf(out, sizeof out, "%s/copy_ceiling.out", argv[2]);
#define MBS(s) ((double)st.st_size / 1048576.0 / (s))
	for (int r = 0; r < rounds; r++) {
		if (copy_once(argv[1], NULL, (uint64_t)st.st_size, &t,
			      &sync_s) != 0)
			return 1;
		printf("  ceiling, the network alone (loopback TCP, 1 MB "
		       "sends, CRC32C on both ends): %.3f s, %.0f MB/s\n", t,
		       MBS(t));
		if (disk_once(argv[1], out, (uint64_t)st.st_size, &t,
			      &sync_s) != 0)
			return 1;
		printf("  ceiling, the disk alone (written from memory, "
		       "fdatasync): %.3f s, %.0f MB/s (fdatasync %.3f s)\n", t,
		       MBS(t), sync_s);
		if (copy_once(argv[1], out, (uint64_t)st.st_size, &t,
			      &sync_s) != 0)
			return 1;
		printf("  ceiling, the whole copy (two blocking threads): "
		       "%.3f s, %.0f MB/s (fdatasync %.3f s of it)\n", t,
		       MBS(t), sync_s);
	}
	return 0;
}
