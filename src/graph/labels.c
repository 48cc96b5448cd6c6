/* Node labels. A node holds the id of an interned, sorted label set shared
 * by every node with exactly those labels (most graphs have a handful), so
 * labels cost a node four bytes. Sets are reference counted and their ids
 * reused once unused; id 0, the empty set, always exists. */
#include <string.h>

#include "../util/err.h"
#include "graph_int.h"

/* Label sets this long are built on the stack while a node changes. */
#define LABELS_ON_STACK 32

static uint64_t labels_hash(const uint32_t *labels, uint32_t n)
{
	uint64_t h = n;

	for (uint32_t i = 0; i < n; i++)
		h = graph_hash_mix(h ^ (labels[i] + 0x9e3779b97f4a7c15ull));
	return h;
}

static bool labels_are(const struct labelset *ls, const uint32_t *labels,
		       uint32_t n)
{
	return ls->n == n &&
	       memcmp(ls->labels, labels, n * sizeof *labels) == 0;
}

static uint32_t *find_slot(const struct labelset_table *t,
			   const uint32_t *labels, uint32_t n, uint64_t hash)
{
	uint32_t mask = t->n_slots - 1;
	uint32_t i = (uint32_t)hash & mask;

	while (t->slots[i] != 0) {
		const struct labelset *ls = t->sets[t->slots[i] - 1];
		if (ls->hash == hash && labels_are(ls, labels, n))
			break;
		i = (i + 1) & mask;
	}
	return &t->slots[i];
}

static int grow_slots(struct graph *g, struct labelset_table *t)
{
	uint32_t *old, n_old;

	if (graph_slots_double(g, &t->slots, &t->n_slots, &old, &n_old) !=
	    GRAFT_OK)
		return GRAFT_ENOMEM;
	for (uint32_t i = 0; i < n_old; i++) {
		const struct labelset *ls;
		if (old[i] == 0)
			continue;
		ls = t->sets[old[i] - 1];
		*find_slot(t, ls->labels, ls->n, ls->hash) = old[i];
	}
	graph_mem_release(g, old, n_old * sizeof *old);
	return GRAFT_OK;
}

/* Grows the id arrays together, so that the free stack can always take
 * every id. */
static int grow_ids(struct graph *g, struct labelset_table *t)
{
	uint32_t cap = t->cap ? t->cap * 2 : 16;
	struct labelset **sets;
	uint32_t *free_ids;

	if (t->cap >= UINT32_MAX / 2)
		return GRAFT_ENOMEM;
	free_ids = graph_mem_alloc(g, cap * sizeof *free_ids);
	if (free_ids == NULL)
		return GRAFT_ENOMEM;
	sets = graph_mem_realloc(g, t->sets, t->cap * sizeof *sets,
				 cap * sizeof *sets);
	if (sets == NULL) {
		graph_mem_release(g, free_ids, cap * sizeof *free_ids);
		return GRAFT_ENOMEM;
	}
	if (t->n_free > 0)
		memcpy(free_ids, t->free_ids, t->n_free * sizeof *free_ids);
	graph_mem_release(g, t->free_ids, t->cap * sizeof *t->free_ids);
	t->free_ids = free_ids;
	t->sets = sets;
	t->cap = cap;
	return GRAFT_OK;
}

/* Finds the set or creates it with no references. */
static int labelset_intern(struct graph *g, const uint32_t *labels,
			   uint32_t n, uint32_t *id)
{
	struct labelset_table *t = &g->labelsets;
	uint64_t hash = labels_hash(labels, n);
	struct labelset *ls;
	uint32_t *slot;

	if (t->n_slots > 0) {
		slot = find_slot(t, labels, n, hash);
		if (*slot != 0) {
			*id = *slot - 1;
			return GRAFT_OK;
		}
	}
	if ((t->count + 1) * 2 > t->n_slots && grow_slots(g, t) != GRAFT_OK)
		return GRAFT_ENOMEM;
	if (t->n_free == 0 && t->n == t->cap && grow_ids(g, t) != GRAFT_OK)
		return GRAFT_ENOMEM;
	ls = graph_mem_alloc(g, sizeof *ls + n * sizeof *labels);
	if (ls == NULL)
		return GRAFT_ENOMEM;
	ls->refs = 0;
	ls->hash = hash;
	ls->n = n;
	if (n > 0)
		memcpy(ls->labels, labels, n * sizeof *labels);
	*id = t->n_free > 0 ? t->free_ids[--t->n_free] : t->n++;
	t->sets[*id] = ls;
	*find_slot(t, labels, n, hash) = *id + 1;
	t->count++;
	return GRAFT_OK;
}

/* Removes slot i from the hash table, shifting later entries of its probe
 * run back so that lookups never meet a hole. */
static void remove_slot(struct labelset_table *t, uint32_t i)
{
	uint32_t mask = t->n_slots - 1;
	uint32_t j = i;

	for (;;) {
		uint32_t home;
		j = (j + 1) & mask;
		if (t->slots[j] == 0)
			break;
		home = (uint32_t)t->sets[t->slots[j] - 1]->hash & mask;
		/* The entry at j may move to i if its home is not in (i, j]. */
		if (i <= j ? (home <= i || home > j)
			   : (home <= i && home > j)) {
			t->slots[i] = t->slots[j];
			i = j;
		}
	}
	t->slots[i] = 0;
}

/* Frees set id if no node uses it (the empty set stays). */
static void labelset_release_unused(struct graph *g, uint32_t id)
{
	struct labelset_table *t = &g->labelsets;
	struct labelset *ls = t->sets[id];
	uint32_t *slot;

	if (id == 0 || ls->refs != 0)
		return;
	slot = find_slot(t, ls->labels, ls->n, ls->hash);
	remove_slot(t, (uint32_t)(slot - t->slots));
	t->count--;
	graph_mem_release(g, ls, sizeof *ls + ls->n * sizeof *ls->labels);
	t->sets[id] = NULL;
	t->free_ids[t->n_free++] = id;
}

void labelset_ref(struct graph *g, uint32_t id)
{
	if (id != 0)
		g->labelsets.sets[id]->refs++;
}

void labelset_unref(struct graph *g, uint32_t id)
{
	if (id == 0)
		return;
	g->labelsets.sets[id]->refs--;
	labelset_release_unused(g, id);
}

/* Moves node n to set id. */
static void node_switch_set(struct graph *g, struct node_slot *n, uint32_t id)
{
	uint32_t old = n->labelset;

	labelset_ref(g, id);
	n->labelset = id;
	labelset_unref(g, old);
}

int labelsets_init(struct graph *g)
{
	uint32_t none[1] = {0}, id;

	return labelset_intern(g, none, 0, &id);
}

void labelsets_free(struct graph *g)
{
	struct labelset_table *t = &g->labelsets;

	for (uint32_t id = 0; id < t->n; id++)
		if (t->sets[id] != NULL)
			graph_mem_release(g, t->sets[id],
					  sizeof *t->sets[id] +
						  t->sets[id]->n *
							  sizeof(uint32_t));
	graph_mem_release(g, t->sets, t->cap * sizeof *t->sets);
	graph_mem_release(g, t->free_ids, t->cap * sizeof *t->free_ids);
	graph_mem_release(g, t->slots, t->n_slots * sizeof *t->slots);
}

const struct labelset *labelset_get(const struct graph *g, uint32_t id)
{
	return g->labelsets.sets[id];
}

bool labelset_has(const struct labelset *ls, uint32_t label)
{
	uint32_t lo = 0, hi = ls->n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (ls->labels[mid] == label)
			return true;
		if (ls->labels[mid] < label)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

const struct labelset *graph_node_labelset(const struct graph *g,
					   const struct node_slot *n)
{
	return g->labelsets.sets[n->labelset];
}

void labelset_drop_node(struct graph *g, struct node_slot *n)
{
	node_switch_set(g, n, 0);
}

size_t graph_node_labels(const struct graph *g, uint64_t id,
			 const uint32_t **labels)
{
	const struct labelset *ls =
		graph_node_labelset(g, graph_live_node(g, id, __func__));

	*labels = ls->labels;
	return ls->n;
}

bool graph_node_has_label(const struct graph *g, uint64_t id, uint32_t label)
{
	return labelset_has(
		graph_node_labelset(g, graph_live_node(g, id, __func__)),
		label);
}

/* The labels of ls with label added or removed, sorted, into buf (or a heap
 * array the caller releases when it is not buf). */
static int labels_with(struct graph *g, const struct labelset *ls,
		       uint32_t label, bool add, uint32_t *buf,
		       uint32_t **out, uint32_t *n)
{
	uint32_t *l = buf;
	uint32_t k = 0;

	*n = add ? ls->n + 1 : ls->n - 1;
	if (*n > LABELS_ON_STACK) {
		l = graph_mem_alloc(g, *n * sizeof *l);
		if (l == NULL)
			return GRAFT_ENOMEM;
	}
	for (uint32_t i = 0; i < ls->n && ls->labels[i] < label; i++)
		l[k++] = ls->labels[i];
	if (add)
		l[k++] = label;
	for (uint32_t i = 0; i < ls->n; i++)
		if (ls->labels[i] > label)
			l[k++] = ls->labels[i];
	*out = l;
	return GRAFT_OK;
}

/* Adding or removing a label: the node's new set, the bitmap bit and the
 * index entries are all made ready before anything changes. */
static int change_label(struct graph *g, uint64_t id, uint32_t label,
			bool add, uint64_t version, const char *func)
{
	struct node_slot *n = graph_live_node(g, id, func);
	const struct labelset *ls = graph_node_labelset(g, n);
	uint32_t buf[LABELS_ON_STACK], *labels, nl, set;
	struct node_change c = {.before = ls, .props = n->props,
				.key = GRAPH_NO_TOKEN};
	struct bitmap *bm;
	int rv;

	GRAPH_REQUIRE(label < graph_token_count(g, GRAPH_TOKEN_LABEL),
		      "label %u is not a token", label);
	if (version_keep_node(g, id, version) != GRAFT_OK)
		return GRAFT_ENOMEM;
	if (labelset_has(ls, label) == add) {
		n->version = version;
		return GRAFT_OK;
	}
	rv = labels_with(g, ls, label, add, buf, &labels, &nl);
	if (rv != GRAFT_OK)
		return rv;
	rv = labelset_intern(g, labels, nl, &set);
	if (labels != buf)
		graph_mem_release(g, labels, nl * sizeof *labels);
	if (rv != GRAFT_OK)
		return rv;
	c.after = labelset_get(g, set);
	bm = bitmap_of(g, &g->label_bits, &g->n_label_bits, label);
	if (bm == NULL) {
		rv = GRAFT_ENOMEM;
		goto err_after_intern;
	}
	if (add && bitmap_reserve(g, bm, id) != GRAFT_OK) {
		rv = GRAFT_ENOMEM;
		goto err_after_bitmap;
	}
	rv = index_change_prepare(g, &c);
	if (rv != GRAFT_OK)
		goto err_after_bitmap;
	index_change_commit(g, id, &c);
	if (add)
		bitmap_set(bm, id);
	else
		bitmap_clear(g, bm, id);
	node_switch_set(g, n, set);
	n->version = version;
	return GRAFT_OK;

err_after_bitmap:
	bitmap_trim(g, bm, id);
err_after_intern:
	labelset_release_unused(g, set);
	return rv;
}

int graph_node_add_label(struct graph *g, uint64_t id, uint32_t label,
			 uint64_t version)
{
	return change_label(g, id, label, true, version, __func__);
}

int graph_node_remove_label(struct graph *g, uint64_t id, uint32_t label,
			    uint64_t version)
{
	return change_label(g, id, label, false, version, __func__);
}
