/* Project-wide error codes and their messages.
 * Every fallible function returns one of these; detail for the user goes in a
 * caller-provided message buffer (char errmsg[GRAFT_ERRMSG_SIZE]) that names what
 * failed and what to do about it. */
#ifndef GRAFT_UTIL_ERR_H
#define GRAFT_UTIL_ERR_H

#include <stddef.h>

#define GRAFT_ERRMSG_SIZE 512

#define GRAFT_ERRORS(X)                                                        \
	X(GRAFT_OK, "success")                                                 \
	X(GRAFT_ENOMEM, "out of memory")                                       \
	X(GRAFT_EIO, "input/output error")                                     \
	X(GRAFT_ENOSPC, "no space left on device")                             \
	X(GRAFT_ECORRUPT, "corrupt data")                                      \
	X(GRAFT_ECONFIG, "invalid configuration")                              \
	X(GRAFT_EINVAL, "invalid argument")                                    \
	X(GRAFT_ENOTFOUND, "not found")                                        \
	X(GRAFT_EEXIST, "already exists")                                      \
	X(GRAFT_ECONFLICT, "transaction conflicts with a concurrent one")     \
	X(GRAFT_ECONSTRAINT, "constraint violated")                            \
	X(GRAFT_ELOCKED, "locked by another process")                          \
	X(GRAFT_EADDRINUSE, "address already in use")                          \
	X(GRAFT_ESHUTDOWN, "shutting down")                                    \
	X(GRAFT_EREADONLY, "read only")                                        \
	X(GRAFT_ETOOBIG, "too large")                                          \
	X(GRAFT_ELIMIT, "limit reached")                                       \
	X(GRAFT_ENOTLEADER, "not the cluster leader")                          \
	X(GRAFT_EUNKNOWN, "outcome unknown")                                   \
	X(GRAFT_EAGAIN, "not ready yet: try again")

enum graft_err {
#define GRAFT_ERR_ENUM(name, text) name,
	GRAFT_ERRORS(GRAFT_ERR_ENUM)
#undef GRAFT_ERR_ENUM
	GRAFT_ERR_COUNT
};

/* Static text for a code; never NULL. */
const char *graft_strerror(int err);

/* Writes a formatted message into errmsg (GRAFT_ERRMSG_SIZE bytes, may be NULL)
 * and returns err, so that "return graft_errf(buf, GRAFT_EIO, ...)" reads well. */
int graft_errf(char *errmsg, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Maps an errno value from a failed system call to a graft code. */
int graft_err_from_errno(int e);

#endif
