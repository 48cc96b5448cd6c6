/* A hash map from 64-bit keys to 64-bit values (open addressing, linear
 * probing, backward-shift deletion): a transaction's read set and overlay
 * maps, the entities written by commits in flight, apply's scratch state
 * (db), the graph's old versions by entity (graph). One small structure for
 * all of them keeps the commit path free of per-entry allocations. */
#ifndef GRAFT_UTIL_IDMAP_H
#define GRAFT_UTIL_IDMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IDMAP_EMPTY UINT64_MAX

struct idmap {
	uint64_t *keys; /* IDMAP_EMPTY where free */
	uint64_t *vals;
	size_t cap;     /* 0 or a power of two */
	size_t len;
};

void idmap_init(struct idmap *m);
void idmap_free(struct idmap *m);
/* Empties the map; a large table is released rather than wiped, so that one
 * huge transaction does not make every later clear slow. */
void idmap_clear(struct idmap *m);
/* The value slot of key, or NULL. */
uint64_t *idmap_get(const struct idmap *m, uint64_t key);
/* Finds or inserts key (value 0 when inserted); *slot points at its value
 * until the next insertion or deletion. GRAFT_OK or GRAFT_ENOMEM. */
int idmap_put(struct idmap *m, uint64_t key, uint64_t **slot, bool *added);
void idmap_del(struct idmap *m, uint64_t key);
/* Makes room so that n more insertions cannot fail. */
int idmap_reserve(struct idmap *m, size_t n);

#endif
