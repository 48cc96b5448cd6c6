/* File-system helpers with the durability rules graft relies on: whole
 * writes or an error, fsync of files and of the directories that name them. */
#ifndef GRAFT_UTIL_FS_H
#define GRAFT_UTIL_FS_H

#include <stddef.h>
#include <sys/types.h>

/* Creates dir and missing parents (mode 0750). GRAFT_OK or error + errmsg. */
int graft_mkdir_p(const char *dir, char *errmsg);
/* Writes all n bytes or fails; retries short writes and EINTR. Returns
 * GRAFT_OK, GRAFT_ENOSPC or GRAFT_EIO; errno is left as the call set it. */
int graft_write_all(int fd, const void *p, size_t n);
/* Reads exactly n bytes at off. GRAFT_OK, GRAFT_EIO, or GRAFT_ECORRUPT on a
 * short file. */
int graft_pread_all(int fd, void *p, size_t n, off_t off);
/* fsyncs a directory so that entries created or renamed in it are durable. */
int graft_fsync_dir(const char *dir, char *errmsg);
/* Replaces the file path (in directory dir) by the n bytes at p durably:
 * written to path.tmp, fsynced, renamed over path, dir fsynced. A crash
 * leaves the old file or the new one, never a mix. */
int graft_file_replace(const char *dir, const char *path, const void *p,
		       size_t n, char *errmsg);
/* Removes path and everything under it; GRAFT_OK when it is gone (or was
 * never there), GRAFT_EIO otherwise (errno says why). */
int graft_remove_tree(const char *path);
/* Joins a and b with one '/', into out of size n. GRAFT_ETOOBIG if it does not fit. */
int graft_path_join(char *out, size_t n, const char *a, const char *b);

#endif
