/* Slots: a small number per thread, for structures kept once per worker.
 *
 * A structure every statement writes (a lock's reader count, a plan
 * cache) moves its cache line between the cores of the threads writing it,
 * on every statement: a point read of 3 µs on two cores ran slower than on
 * one. Kept once per slot instead, each thread writes its own line, and
 * the rare side that needs all of it (a writer waiting for readers to
 * leave, the oldest snapshot) reads every slot.
 *
 * A thread takes the next slot the first time it asks, round robin over
 * GRAFT_SLOTS: the first GRAFT_SLOTS threads have one each; later ones
 * share, which costs only speed (each structure stays correct for threads
 * sharing a slot: it is an index, never an exclusive claim). */
#ifndef GRAFT_UTIL_SLOT_H
#define GRAFT_UTIL_SLOT_H

/* Slots per structure: a 16-core machine's statement threads each have
 * their own (docs/architecture.md "On 16 cores"). */
#define GRAFT_SLOTS 16
/* What a per-slot part is aligned to, so two slots never share a line. */
#define GRAFT_CACHE_LINE 64

/* This thread's slot, in [0, GRAFT_SLOTS). */
unsigned graft_slot(void);

#endif
