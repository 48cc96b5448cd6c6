/* Invariants that protect data or memory (an index within its table, a
 * count that must not go below zero, a key the map reserves, a handle
 * closed once): checked in every build, where assert() vanishes under
 * -DNDEBUG. A failed check is a bug in graft: it is logged with the
 * expression and where it failed, and the process aborts before it writes
 * anything wrong. Plain assert() stays for checks that only help
 * debugging. */
#ifndef GRAFT_UTIL_CHECK_H
#define GRAFT_UTIL_CHECK_H

#define GRAFT_CHECK(cond)                                                      \
	((cond) ? (void)0                                                      \
		: graft_check_failed(#cond, __FILE__, __LINE__, __func__))

_Noreturn void graft_check_failed(const char *expr, const char *file,
				  int line, const char *func);

#endif
