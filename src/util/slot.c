/* Slots (slot.h): one counter hands them out, once per thread. */
#include "slot.h"

static unsigned next_slot;
static _Thread_local unsigned slot_plus_one; /* 0: none taken yet */

unsigned graft_slot(void)
{
	if (slot_plus_one == 0)
		slot_plus_one = __atomic_fetch_add(&next_slot, 1,
						   __ATOMIC_RELAXED) %
					GRAFT_SLOTS +
				1;
	return slot_plus_one - 1;
}
