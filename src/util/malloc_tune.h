/* glibc malloc tunables graft runs with.
 *
 * Checkpoints fork the server; the kernel copies page tables at fork,
 * which for a large heap of 4 KiB pages stalls the event loop for tens of
 * milliseconds (a 10 M-node graph: 23-75 ms). glibc's malloc.hugetlb
 * tunable backs the heap with transparent huge pages (512 times fewer
 * page-table entries per byte), and glibc reads it only when a process
 * starts: `graft` sets it before it executes graftd, and graftd executes
 * itself once more with it when it was started without it. */
#ifndef GRAFT_UTIL_MALLOC_TUNE_H
#define GRAFT_UTIL_MALLOC_TUNE_H

#include <stdbool.h>

/* Adds glibc.malloc.hugetlb=1 to GLIBC_TUNABLES (set to it when unset or
 * empty); an operator's own glibc.malloc.hugetlb, whatever its value, is
 * left alone. Returns whether the environment changed. */
bool graft_malloc_tune_env(void);

#endif
