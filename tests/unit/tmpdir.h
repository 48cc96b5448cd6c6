/* Scratch directories for the unit tests and the benchmarks: each run gets a
 * fresh one and removes it with everything below it afterwards, so that no
 * run sees another's files. Plain return values rather than assertions, so
 * that the benchmarks (which do not link cmocka) share it. */
#ifndef GRAFT_TESTS_TMPDIR_H
#define GRAFT_TESTS_TMPDIR_H

#include <stddef.h>

/* Creates a fresh directory /tmp/graft-<name>-XXXXXX and writes its path
 * into out (n bytes). Returns out, or NULL (errno set) when the path does
 * not fit or mkdtemp fails. */
char *tmpdir_make(char *out, size_t n, const char *name);
/* Removes dir and everything below it, without following links. Returns 0,
 * or -1 (errno set) when dir or something below it could not be removed,
 * which includes dir not existing. */
int tmpdir_remove(const char *dir);

#endif
