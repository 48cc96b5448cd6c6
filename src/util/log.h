/* The process log: one sink (a file such as <logs>/graft.log, optionally
 * mirrored to stderr) in Neo4j's line format "2026-11-23 21:36:48.123+0000 INFO  text".
 * Process-wide because a log is; everything else is passed explicitly. */
#ifndef GRAFT_UTIL_LOG_H
#define GRAFT_UTIL_LOG_H

#include <stdbool.h>

enum graft_log_level {
	GRAFT_LOG_DEBUG,
	GRAFT_LOG_INFO,
	GRAFT_LOG_WARN,
	GRAFT_LOG_ERROR,
};

/* Opens path for appending (NULL: no file). Lines below min are dropped.
 * Returns GRAFT_OK or an error with errmsg set. Until called, INFO and above
 * go to stderr. */
int graft_log_open(const char *path, enum graft_log_level min, bool to_stderr,
		   char *errmsg);
void graft_log_close(void);
/* Turns the stderr mirror on or off (a daemon stops it once detached). */
void graft_log_set_stderr(bool on);
void graft_log(enum graft_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define graft_debug(...) graft_log(GRAFT_LOG_DEBUG, __VA_ARGS__)
#define graft_info(...) graft_log(GRAFT_LOG_INFO, __VA_ARGS__)
#define graft_warn(...) graft_log(GRAFT_LOG_WARN, __VA_ARGS__)
#define graft_error(...) graft_log(GRAFT_LOG_ERROR, __VA_ARGS__)

#endif
