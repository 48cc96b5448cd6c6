/* What the disk-bound benchmarks share: a fresh data directory (with a
 * warning where it is tmpfs, on which fsync costs nothing), the raw 4 KiB
 * O_DSYNC write rate and latency of the same disk to compare against, and
 * latency percentiles. */
#ifndef GRAFT_BENCH_UTIL_H
#define GRAFT_BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Removes dir with everything in it and creates it again (mode 0750);
 * prints a warning when it is on tmpfs. Returns 0, or -1 after printing why
 * (prog names the benchmark in the message). */
int bench_fresh_dir(const char *prog, const char *dir);

struct bench_dsync {
	double rate;     /* writes per second, 0 where none succeeded */
	double mean_ns;  /* 1e9 / rate */
	uint64_t p50_ns;
};
/* 4 KiB O_DSYNC writes appended to a fresh file in dir for about a second
 * (at most 50,000), each timed. All zero after a message if the file cannot
 * be opened. */
void bench_dsync_writes(const char *prog, const char *dir,
			struct bench_dsync *out);

/* Sorts v ascending, for bench_pct. */
void bench_sort(uint64_t *v, size_t n);
/* The p-quantile (0..1) of sorted v, 0 when n is 0. */
uint64_t bench_pct(const uint64_t *v, size_t n, double p);

#endif
