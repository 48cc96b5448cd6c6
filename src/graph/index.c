/* Exact-match property indexes on (label, key): per index a hash table from
 * value to the ascending ids of the nodes with that label and value under
 * key. Every node change goes through index_change_prepare (which makes
 * room, so it alone can fail) and index_change_commit (which cannot).
 *
 * An entry holding one id keeps it inline, since unique values are common
 * and an array per value would double the index's size. */
#define _GNU_SOURCE /* qsort_r */
#include <stdlib.h>
#include <string.h>

#include "../util/buf.h"
#include "../util/err.h"
#include "graph_int.h"

/* An entry's cap: 0 is a free slot, 1 means the id (if len is 1) is inline,
 * larger means ids is a heap array. */
#define ENTRY_FREE 0
#define ENTRY_INLINE 1

static struct graph_index *index_find(const struct graph *g, uint32_t label,
				      uint32_t key)
{
	for (size_t i = 0; i < g->n_indexes; i++)
		if (g->indexes[i]->label == label && g->indexes[i]->key == key)
			return g->indexes[i];
	return NULL;
}

/* The slot holding value, or the free slot where it would go. */
static struct index_entry *entry_find(const struct graph_index *ix,
				      const struct graft_value *v,
				      uint64_t hash)
{
	size_t mask = ix->n_slots - 1;
	size_t i = (size_t)hash & mask;

	while (ix->slots[i].cap != ENTRY_FREE &&
	       (ix->slots[i].hash != hash ||
		!graft_value_equal(&ix->slots[i].value, v)))
		i = (i + 1) & mask;
	return &ix->slots[i];
}

static int slots_grow(struct graph *g, struct graph_index *ix)
{
	size_t n = ix->n_slots ? ix->n_slots * 2 : 16;
	struct index_entry *slots = graph_mem_calloc(g, n, sizeof *slots);
	struct index_entry *old = ix->slots;
	size_t n_old = ix->n_slots;

	if (slots == NULL)
		return GRAFT_ENOMEM;
	ix->slots = slots;
	ix->n_slots = n;
	ix->sorted_stale = true;
	for (size_t i = 0; i < n_old; i++)
		if (old[i].cap != ENTRY_FREE)
			*entry_find(ix, &old[i].value, old[i].hash) = old[i];
	graph_mem_release(g, old, n_old * sizeof *old);
	return GRAFT_OK;
}

/* Makes sure value has an entry with room for one more id. */
static int entry_reserve(struct graph *g, struct graph_index *ix,
			 const struct graft_value *v)
{
	uint64_t hash = graft_value_hash(v);
	struct index_entry *e;
	uint64_t *ids;
	uint32_t cap;

	if (ix->n_slots > 0) {
		e = entry_find(ix, v, hash);
		if (e->cap != ENTRY_FREE) {
			if (e->len < e->cap)
				return GRAFT_OK;
			if (e->cap == UINT32_MAX)
				return GRAFT_ENOMEM;
			cap = e->cap == ENTRY_INLINE	   ? 4
			      : e->cap > UINT32_MAX / 2 ? UINT32_MAX
							: e->cap * 2;
			if (e->cap == ENTRY_INLINE) {
				ids = graph_mem_alloc(g, cap * sizeof *ids);
				if (ids == NULL)
					return GRAFT_ENOMEM;
				ids[0] = e->one;
			} else {
				ids = graph_mem_realloc(g, e->ids,
							e->cap * sizeof *ids,
							cap * sizeof *ids);
				if (ids == NULL)
					return GRAFT_ENOMEM;
			}
			e->ids = ids;
			e->cap = cap;
			return GRAFT_OK;
		}
	}
	if ((ix->count + 1) * 4 > ix->n_slots * 3 &&
	    slots_grow(g, ix) != GRAFT_OK)
		return GRAFT_ENOMEM;
	e = entry_find(ix, v, hash);
	if (graph_value_copy(g, &e->value, v) != GRAFT_OK)
		return GRAFT_ENOMEM;
	e->hash = hash;
	e->len = 0;
	e->cap = ENTRY_INLINE;
	ix->count++;
	ix->sorted_stale = true;
	return GRAFT_OK;
}

static void entry_free(struct graph *g, struct index_entry *e)
{
	graph_value_release(g, &e->value);
	if (e->cap > ENTRY_INLINE)
		graph_mem_release(g, e->ids, e->cap * sizeof *e->ids);
}

/* Frees the entry in slot i and shifts later entries of its probe run back,
 * so that lookups never meet a hole. */
static void entry_remove(struct graph *g, struct graph_index *ix, size_t i)
{
	size_t mask = ix->n_slots - 1;
	size_t j = i;

	entry_free(g, &ix->slots[i]);
	for (;;) {
		size_t home;
		j = (j + 1) & mask;
		if (ix->slots[j].cap == ENTRY_FREE)
			break;
		home = (size_t)ix->slots[j].hash & mask;
		/* The entry at j may move to i if its home is not in (i, j]. */
		if (i <= j ? (home <= i || home > j)
			   : (home <= i && home > j)) {
			ix->slots[i] = ix->slots[j];
			i = j;
		}
	}
	memset(&ix->slots[i], 0, sizeof ix->slots[i]);
	ix->count--;
	ix->sorted_stale = true;
}

/* The first position in e's ids holding an id >= id. */
static uint32_t ids_lower_bound(const struct index_entry *e, uint64_t id)
{
	uint32_t lo = 0, hi = e->len;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (e->ids[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Room was made by entry_reserve. */
static void entry_insert(struct graph_index *ix, const struct graft_value *v,
			 uint64_t id)
{
	struct index_entry *e = entry_find(ix, v, graft_value_hash(v));
	uint32_t i;

	if (e->cap == ENTRY_INLINE) {
		e->one = id;
		e->len = 1;
		return;
	}
	i = ids_lower_bound(e, id);
	memmove(&e->ids[i + 1], &e->ids[i], (e->len - i) * sizeof *e->ids);
	e->ids[i] = id;
	e->len++;
}

static void entry_delete_id(struct graph *g, struct graph_index *ix,
			    const struct graft_value *v, uint64_t id)
{
	struct index_entry *e = entry_find(ix, v, graft_value_hash(v));
	uint32_t i;

	GRAPH_REQUIRE(e->cap != ENTRY_FREE && e->len > 0,
		      "node %llu is missing from the index on (%u, %u)",
		      (unsigned long long)id, ix->label, ix->key);
	if (e->cap == ENTRY_INLINE) {
		entry_remove(g, ix, (size_t)(e - ix->slots));
		return;
	}
	i = ids_lower_bound(e, id);
	GRAPH_REQUIRE(i < e->len && e->ids[i] == id,
		      "node %llu is missing from the index on (%u, %u)",
		      (unsigned long long)id, ix->label, ix->key);
	e->len--;
	memmove(&e->ids[i], &e->ids[i + 1], (e->len - i) * sizeof *e->ids);
	if (e->len == 1) {
		/* Back to inline: shrinking needs no allocation. */
		uint64_t last = e->ids[0];
		graph_mem_release(g, e->ids, e->cap * sizeof *e->ids);
		e->one = last;
		e->cap = ENTRY_INLINE;
	}
}

/* Drops an entry left empty by a reservation whose change failed. */
static void entry_trim(struct graph *g, struct graph_index *ix,
		       const struct graft_value *v)
{
	struct index_entry *e;

	if (ix->n_slots == 0)
		return;
	e = entry_find(ix, v, graft_value_hash(v));
	if (e->cap != ENTRY_FREE && e->len == 0)
		entry_remove(g, ix, (size_t)(e - ix->slots));
}

/* The values of ix's key before and after change c, or false when the
 * change does not touch ix. */
static bool change_values(const struct node_change *c,
			  const struct graph_index *ix,
			  const struct graft_value **old,
			  const struct graft_value **new)
{
	*old = NULL;
	*new = NULL;
	if (labelset_has(c->before, ix->label))
		*old = propset_get(c->props, ix->key);
	if (labelset_has(c->after, ix->label))
		*new = ix->key == c->key ? c->value
					 : propset_get(c->props, ix->key);
	if (*old != NULL && *new != NULL && graft_value_equal(*old, *new))
		return false;
	return *old != NULL || *new != NULL;
}

int index_change_prepare(struct graph *g, const struct node_change *c)
{
	const struct graft_value *old, *new;

	for (size_t i = 0; i < g->n_indexes; i++) {
		if (!change_values(c, g->indexes[i], &old, &new) || new == NULL)
			continue;
		if (entry_reserve(g, g->indexes[i], new) != GRAFT_OK) {
			for (size_t j = 0; j < i; j++)
				if (change_values(c, g->indexes[j], &old,
						  &new) &&
				    new != NULL)
					entry_trim(g, g->indexes[j], new);
			return GRAFT_ENOMEM;
		}
	}
	return GRAFT_OK;
}

void index_change_abandon(struct graph *g, const struct node_change *c)
{
	const struct graft_value *old, *new;

	for (size_t i = 0; i < g->n_indexes; i++)
		if (change_values(c, g->indexes[i], &old, &new) && new != NULL)
			entry_trim(g, g->indexes[i], new);
}

void index_change_commit(struct graph *g, uint64_t id,
			 const struct node_change *c)
{
	const struct graft_value *old, *new;

	for (size_t i = 0; i < g->n_indexes; i++) {
		struct graph_index *ix = g->indexes[i];
		if (!change_values(c, ix, &old, &new))
			continue;
		if (old != NULL)
			entry_delete_id(g, ix, old, id);
		if (new != NULL)
			entry_insert(ix, new, id);
	}
}

static void index_free(struct graph *g, struct graph_index *ix)
{
	for (size_t i = 0; i < ix->n_slots; i++)
		if (ix->slots[i].cap != ENTRY_FREE)
			entry_free(g, &ix->slots[i]);
	graph_mem_release(g, ix->slots, ix->n_slots * sizeof *ix->slots);
	graph_mem_release(g, ix->sorted, ix->cap_sorted * sizeof *ix->sorted);
	graph_mem_release(g, ix, sizeof *ix);
}

void indexes_free(struct graph *g)
{
	for (size_t i = 0; i < g->n_indexes; i++)
		index_free(g, g->indexes[i]);
	graph_mem_release(g, g->indexes, g->cap_indexes * sizeof *g->indexes);
}

bool graph_index_exists(const struct graph *g, uint32_t label, uint32_t key)
{
	return index_find(g, label, key) != NULL;
}

size_t graph_index_list(const struct graph *g, uint32_t (*pairs)[2], size_t max)
{
	size_t n = g->n_indexes < max ? g->n_indexes : max;

	for (size_t i = 0; i < n; i++) {
		pairs[i][0] = g->indexes[i]->label;
		pairs[i][1] = g->indexes[i]->key;
	}
	return n;
}

uint64_t graph_index_seek(const struct graph *g, uint32_t label, uint32_t key,
			  const struct graft_value *value, uint64_t *pos)
{
	const struct graph_index *ix = index_find(g, label, key);
	const struct index_entry *e;
	uint64_t id = GRAPH_NO_ID;
	uint32_t i;

	GRAPH_REQUIRE(ix != NULL, "no index on (%u, %u)", label, key);
	if (ix->n_slots == 0)
		return GRAPH_NO_ID;
	e = entry_find(ix, value, graft_value_hash(value));
	if (e->cap == ENTRY_INLINE) {
		if (e->len == 1 && e->one >= *pos)
			id = e->one;
	} else if (e->cap != ENTRY_FREE) {
		i = ids_lower_bound(e, *pos);
		if (i < e->len)
			id = e->ids[i];
	}
	if (id != GRAPH_NO_ID)
		*pos = id + 1;
	return id;
}

/* Indexes the existing nodes of label, in ascending id order. */
static int index_fill(struct graph *g, struct graph_index *ix)
{
	const struct bitmap *bm = ix->label < g->n_label_bits
					  ? &g->label_bits[ix->label]
					  : NULL;
	uint64_t id = 0;

	while (bm != NULL && (id = bitmap_next(bm, id)) != GRAPH_NO_ID) {
		const struct graft_value *v =
			propset_get(graph_node_slot(g, id)->props, ix->key);
		if (v != NULL) {
			if (entry_reserve(g, ix, v) != GRAFT_OK)
				return GRAFT_ENOMEM;
			entry_insert(ix, v, id);
		}
		id++;
	}
	return GRAFT_OK;
}

int graph_index_create(struct graph *g, uint32_t label, uint32_t key)
{
	struct graph_index **indexes, *ix;

	GRAPH_REQUIRE(label < graph_token_count(g, GRAPH_TOKEN_LABEL),
		      "label %u is not a token", label);
	GRAPH_REQUIRE(key < graph_token_count(g, GRAPH_TOKEN_PROPKEY),
		      "property key %u is not a token", key);
	if (index_find(g, label, key) != NULL)
		return GRAFT_EEXIST;
	ix = graph_mem_calloc(g, 1, sizeof *ix);
	if (ix == NULL)
		return GRAFT_ENOMEM;
	ix->label = label;
	ix->key = key;
	if (index_fill(g, ix) != GRAFT_OK)
		goto err_after_alloc;
	if (g->n_indexes == g->cap_indexes) {
		size_t cap = g->cap_indexes ? g->cap_indexes * 2 : 4;
		indexes = graph_mem_realloc(g, g->indexes,
					    g->cap_indexes * sizeof *indexes,
					    cap * sizeof *indexes);
		if (indexes == NULL)
			goto err_after_alloc;
		g->indexes = indexes;
		g->cap_indexes = cap;
	}
	g->indexes[g->n_indexes++] = ix;
	return GRAFT_OK;

err_after_alloc:
	index_free(g, ix);
	return GRAFT_ENOMEM;
}

int graph_index_drop(struct graph *g, uint32_t label, uint32_t key)
{
	for (size_t i = 0; i < g->n_indexes; i++) {
		struct graph_index *ix = g->indexes[i];
		if (ix->label != label || ix->key != key)
			continue;
		index_free(g, ix);
		g->n_indexes--;
		memmove(&g->indexes[i], &g->indexes[i + 1],
			(g->n_indexes - i) * sizeof *g->indexes);
		return GRAFT_OK;
	}
	return GRAFT_ENOTFOUND;
}

/* Range seeks ----------------------------------------------------------- */

static int slot_cmp(const void *a, const void *b, void *arg)
{
	const struct graph_index *ix = arg;

	return graft_value_cmp(&ix->slots[*(const size_t *)a].value,
			       &ix->slots[*(const size_t *)b].value);
}

static int sorted_view(struct graph *g, struct graph_index *ix)
{
	size_t n = 0;

	if (!ix->sorted_stale && ix->sorted != NULL)
		return GRAFT_OK;
	if (ix->cap_sorted < ix->count) {
		size_t *p = graph_mem_realloc(g, ix->sorted,
					      ix->cap_sorted * sizeof *p,
					      ix->count * sizeof *p);

		if (p == NULL)
			return GRAFT_ENOMEM;
		ix->sorted = p;
		ix->cap_sorted = ix->count;
	}
	for (size_t i = 0; i < ix->n_slots; i++)
		if (ix->slots[i].cap != ENTRY_FREE)
			ix->sorted[n++] = i;
	qsort_r(ix->sorted, n, sizeof *ix->sorted, slot_cmp, ix);
	ix->n_sorted = n;
	ix->sorted_stale = false;
	return GRAFT_OK;
}

/* The first position whose value is not below lo (lo NULL: the first of
 * type t). */
static size_t range_start(const struct graph_index *ix,
			  const struct graft_value *lo, uint8_t t)
{
	size_t a = 0, b = ix->n_sorted;

	while (a < b) {
		size_t mid = a + (b - a) / 2;
		const struct graft_value *v = &ix->slots[ix->sorted[mid]].value;
		bool below = lo ? graft_value_cmp(v, lo) < 0 : v->type < t;

		if (below)
			a = mid + 1;
		else
			b = mid;
	}
	return a;
}

static int push_ids(const struct index_entry *e, uint64_t **ids, size_t *n,
		    size_t *cap)
{
	for (uint32_t i = 0; i < e->len; i++)
		if (graft_u64_push(ids, n, cap,
				   e->cap == ENTRY_INLINE ? e->one : e->ids[i]) !=
		    GRAFT_OK)
			return GRAFT_ENOMEM;
	return GRAFT_OK;
}

int graph_index_range(struct graph *g, uint32_t label, uint32_t key,
		      const struct graft_value *lo, bool lo_incl,
		      const struct graft_value *hi, bool hi_incl,
		      uint64_t **ids, size_t *n, size_t *cap)
{
	struct graph_index *ix = index_find(g, label, key);
	uint8_t t = lo ? lo->type : hi->type;
	int rv;

	GRAPH_REQUIRE(ix != NULL, "no index on (%u, %u)", label, key);
	/* built once after a change; read by every seek until the next */
	pthread_mutex_lock(&g->sorted_mu);
	rv = sorted_view(g, ix);
	pthread_mutex_unlock(&g->sorted_mu);
	for (size_t i = range_start(ix, lo, t); rv == GRAFT_OK && i < ix->n_sorted;
	     i++) {
		const struct index_entry *e = &ix->slots[ix->sorted[i]];
		int c;

		if (e->value.type != t)
			break;
		if (lo && !lo_incl && graft_value_cmp(&e->value, lo) == 0)
			continue;
		if (hi && ((c = graft_value_cmp(&e->value, hi)) > 0 ||
			   (c == 0 && !hi_incl)))
			break;
		rv = push_ids(e, ids, n, cap);
	}
	return rv;
}
