#define _GNU_SOURCE
#include "bench_util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <uv.h>

#include "../tests/unit/tmpdir.h"

#define TMPFS_MAGIC_NUMBER 0x01021994
#define DSYNC_MAX 50000

int bench_fresh_dir(const char *prog, const char *dir)
{
	struct statfs sfs;

	tmpdir_remove(dir);
	if (mkdir(dir, 0750) != 0) {
		fprintf(stderr, "%s: cannot create %s: %s\n", prog, dir,
			strerror(errno));
		return -1;
	}
	if (statfs(dir, &sfs) == 0 && sfs.f_type == TMPFS_MAGIC_NUMBER)
		printf("WARNING: %s is on tmpfs: fsync costs nothing there, "
		       "these are not disk numbers\n",
		       dir);
	return 0;
}

void bench_dsync_writes(const char *prog, const char *dir,
			struct bench_dsync *out)
{
	static uint64_t lat[DSYNC_MAX];
	char path[4200], block[4096];
	uint64_t start, elapsed, n = 0;
	int fd;

	memset(out, 0, sizeof *out);
	snprintf(path, sizeof path, "%s/dsync-probe", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_DSYNC, 0600);
	if (fd < 0) {
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
		return;
	}
	memset(block, 'x', sizeof block);
	start = uv_hrtime();
	while (uv_hrtime() - start < 1000000000ull && n < DSYNC_MAX) {
		uint64_t t = uv_hrtime();

		if (write(fd, block, sizeof block) != (ssize_t)sizeof block)
			break;
		lat[n++] = uv_hrtime() - t;
	}
	elapsed = uv_hrtime() - start;
	close(fd);
	unlink(path);
	if (n == 0)
		return;
	out->mean_ns = (double)elapsed / (double)n;
	out->rate = 1e9 / out->mean_ns;
	bench_sort(lat, n);
	out->p50_ns = bench_pct(lat, n, 0.5);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

void bench_sort(uint64_t *v, size_t n)
{
	qsort(v, n, sizeof *v, cmp_u64);
}

uint64_t bench_pct(const uint64_t *v, size_t n, double p)
{
	if (n == 0)
		return 0;
	return v[(size_t)(p * (double)(n - 1))];
}
