#include "idmap.h"

#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "err.h"

#define IDMAP_MIN_CAP 16
#define IDMAP_KEEP_CAP 4096 /* larger tables are freed by idmap_clear */

static size_t slot_of(uint64_t key, size_t cap)
{
	/* splitmix64's finaliser: ids are dense, so spread them. */
	key ^= key >> 30;
	key *= 0xbf58476d1ce4e5b9ull;
	key ^= key >> 27;
	key *= 0x94d049bb133111ebull;
	key ^= key >> 31;
	return (size_t)key & (cap - 1);
}

void idmap_init(struct idmap *m)
{
	memset(m, 0, sizeof *m);
}

void idmap_free(struct idmap *m)
{
	free(m->keys);
	free(m->vals);
	idmap_init(m);
}

void idmap_clear(struct idmap *m)
{
	if (m->cap > IDMAP_KEEP_CAP) {
		idmap_free(m);
		return;
	}
	if (m->len > 0)
		memset(m->keys, 0xff, m->cap * sizeof *m->keys);
	m->len = 0;
}

uint64_t *idmap_get(const struct idmap *m, uint64_t key)
{
	size_t i;

	if (m->len == 0)
		return NULL;
	for (i = slot_of(key, m->cap); m->keys[i] != IDMAP_EMPTY;
	     i = (i + 1) & (m->cap - 1)) {
		if (m->keys[i] == key)
			return &m->vals[i];
	}
	return NULL;
}

static int grow(struct idmap *m, size_t cap)
{
	uint64_t *keys = malloc(cap * sizeof *keys);
	uint64_t *vals = malloc(cap * sizeof *vals);

	if (keys == NULL || vals == NULL) {
		free(keys);
		free(vals);
		return GRAFT_ENOMEM;
	}
	memset(keys, 0xff, cap * sizeof *keys);
	for (size_t i = 0; i < m->cap; i++) {
		size_t j;

		if (m->keys[i] == IDMAP_EMPTY)
			continue;
		for (j = slot_of(m->keys[i], cap); keys[j] != IDMAP_EMPTY;
		     j = (j + 1) & (cap - 1))
			;
		keys[j] = m->keys[i];
		vals[j] = m->vals[i];
	}
	free(m->keys);
	free(m->vals);
	m->keys = keys;
	m->vals = vals;
	m->cap = cap;
	return GRAFT_OK;
}

int idmap_put(struct idmap *m, uint64_t key, uint64_t **slot, bool *added)
{
	size_t i;

	GRAFT_CHECK(key != IDMAP_EMPTY);
	/* Load factor at most 1/2 keeps probe runs short. */
	if ((m->len + 1) * 2 > m->cap &&
	    grow(m, m->cap ? m->cap * 2 : IDMAP_MIN_CAP) != GRAFT_OK)
		return GRAFT_ENOMEM;
	for (i = slot_of(key, m->cap); m->keys[i] != IDMAP_EMPTY;
	     i = (i + 1) & (m->cap - 1)) {
		if (m->keys[i] == key) {
			*slot = &m->vals[i];
			if (added != NULL)
				*added = false;
			return GRAFT_OK;
		}
	}
	m->keys[i] = key;
	m->vals[i] = 0;
	m->len++;
	*slot = &m->vals[i];
	if (added != NULL)
		*added = true;
	return GRAFT_OK;
}

void idmap_del(struct idmap *m, uint64_t key)
{
	size_t mask = m->cap - 1, i, j;

	if (m->len == 0)
		return;
	for (i = slot_of(key, m->cap); m->keys[i] != key; i = (i + 1) & mask) {
		if (m->keys[i] == IDMAP_EMPTY)
			return;
	}
	/* Backward shift: move later members of the run into the hole unless
	 * their home slot lies cyclically after the hole. */
	for (j = (i + 1) & mask; m->keys[j] != IDMAP_EMPTY; j = (j + 1) & mask) {
		size_t home = slot_of(m->keys[j], m->cap);

		if (((j - home) & mask) >= ((j - i) & mask)) {
			m->keys[i] = m->keys[j];
			m->vals[i] = m->vals[j];
			i = j;
		}
	}
	m->keys[i] = IDMAP_EMPTY;
	m->len--;
}

int idmap_reserve(struct idmap *m, size_t n)
{
	size_t cap = m->cap ? m->cap : IDMAP_MIN_CAP;

	while ((m->len + n) * 2 > cap)
		cap *= 2;
	return cap == m->cap ? GRAFT_OK : grow(m, cap);
}
