/* Keys of the db's idmaps (util/idmap.h): an entity of one kind. */
#ifndef GRAFT_DB_IDMAP_INT_H
#define GRAFT_DB_IDMAP_INT_H

#include "../util/idmap.h"

/* Keys name an entity of one kind: the kind sits in the top two bits, so
 * ids must stay below DB_MAX_ID (checked where ids come from outside). */
enum db_key_kind { DB_KEY_NODE = 0, DB_KEY_REL = 1, DB_KEY_INDEX = 2,
		   DB_KEY_GUARD = 3 };
#define DB_MAX_ID ((uint64_t)1 << 62)

static inline uint64_t db_key(enum db_key_kind kind, uint64_t id)
{
	return (uint64_t)kind << 62 | id;
}

#endif
