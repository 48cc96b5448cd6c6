/* Deadlines for pthread_cond_timedwait: a lock-holding wait that must
 * wake now and then (a cancel to look at, waiting readers to let in)
 * takes an absolute CLOCK_REALTIME time; computing it is one function. */
#ifndef GRAFT_UTIL_DEADLINE_H
#define GRAFT_UTIL_DEADLINE_H

#include <time.h>

/* *ts = now (CLOCK_REALTIME, pthread_cond_timedwait's clock) + ns, ns
 * under a second. */
void graft_deadline_in(struct timespec *ts, long ns);

#endif
