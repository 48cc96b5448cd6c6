/* Old versions and snapshot reads (graph.h "Old versions").
 *
 * An apply of transaction T that changes an entity while a reader's snapshot
 * is older than T first copies the entity's state (version, flags, label
 * set, properties) into an undo record: pushed on the entity's chain (newest
 * first, found through g->versions), appended to the undo log (apply order,
 * so ascending T) and marked in a bitmap of changed ids, which scans as of an
 * old snapshot visit beside their own structure. A reader as of snapshot S
 * takes the slot when its version <= S, else walks the chain to the first
 * state whose version <= S; none means the entity was created after S (a
 * creation keeps nothing: any later change made while a snapshot older than
 * it was open kept the state it replaced, and a chain's newest record is
 * never reclaimed while such a snapshot is open).
 *
 * Reclaiming pops the log while its head's T <= the oldest open snapshot:
 * that record is always the oldest of its chain. When no reader is open
 * nothing is kept at all, so a graph without readers pays nothing. */
#include <stdint.h>

#include "../util/err.h"
#include "graph_int.h"

#define VERSION_REL_BIT ((uint64_t)1 << 63)

/* The state kept or read: a slot's fields or an undo record's. */
struct vstate {
	uint64_t version;
	const struct propset *props;
	uint32_t labelset;
	uint32_t flags;
};

static uint64_t version_key(bool rel, uint64_t id)
{
	return rel ? id | VERSION_REL_BIT : id;
}

static struct graph_undo *chain_of(const struct graph *g, uint64_t key)
{
	const uint64_t *v = idmap_get(&g->versions, key);

	return v == NULL ? NULL : (struct graph_undo *)(uintptr_t)*v;
}

void graph_versions_keep(struct graph *g, uint64_t oldest)
{
	g->oldest_snapshot = oldest;
}

uint64_t graph_versions_bytes(const struct graph *g)
{
	return g->undo_bytes +
	       g->versions.cap * (sizeof *g->versions.keys +
				  sizeof *g->versions.vals);
}

static int keep(struct graph *g, bool rel, uint64_t id, uint64_t version,
		const struct vstate *cur)
{
	uint64_t key = version_key(rel, id), *slot;
	struct bitmap *bm = rel ? &g->changed_rels : &g->changed_nodes;
	struct graph_undo *head = chain_of(g, key), *u;
	uint64_t pbytes;

	version_seen(g, version);
	/* Nothing to keep: no snapshot is older, or this apply changed the
	 * entity already (its state before is kept, or it did not exist:
	 * created by this apply, whose load of a million nodes made a million
	 * undo records of empty states while a snapshot was open). */
	if (g->oldest_snapshot >= version || cur->version == version ||
	    (head != NULL && head->ts == version))
		return GRAFT_OK;
	if (bitmap_reserve(g, bm, id) != GRAFT_OK)
		return GRAFT_ENOMEM;
	if (idmap_reserve(&g->versions, 1) != GRAFT_OK)
		goto err_after_bitmap;
	u = graph_mem_alloc(g, sizeof *u);
	if (u == NULL)
		goto err_after_bitmap;
	if (propset_clone(g, cur->props, &u->props, &pbytes) != GRAFT_OK) {
		graph_mem_release(g, u, sizeof *u);
		goto err_after_bitmap;
	}
	u->key = key;
	u->ts = version;
	u->version = cur->version;
	u->labelset = rel ? 0 : cur->labelset;
	u->flags = cur->flags;
	u->bytes = sizeof *u + pbytes;
	u->older = head;
	u->newer = NULL;
	u->next = NULL;
	if (head != NULL)
		head->newer = u;
	if (idmap_put(&g->versions, key, &slot, NULL) != GRAFT_OK)
		graph_violation(__func__, "reserved map slot missing");
	*slot = (uint64_t)(uintptr_t)u;
	bitmap_set(bm, id);
	if (g->undo_tail != NULL)
		g->undo_tail->next = u;
	else
		g->undo_head = u;
	g->undo_tail = u;
	labelset_ref(g, u->labelset);
	g->undo_bytes += u->bytes;
	return GRAFT_OK;

err_after_bitmap:
	bitmap_trim(g, bm, id);
	return GRAFT_ENOMEM;
}

int version_keep_node(struct graph *g, uint64_t id, uint64_t version)
{
	const struct node_slot *n = graph_node_slot(g, id);
	struct vstate cur = {n->version, n->props, n->labelset, n->flags};

	return keep(g, false, id, version, &cur);
}

int version_keep_rel(struct graph *g, uint64_t id, uint64_t version)
{
	const struct rel_slot *r = graph_rel_slot(g, id);
	struct vstate cur = {r->version, r->props, 0, r->flags};

	return keep(g, true, id, version, &cur);
}

bool version_rel_kept(const struct graph *g, uint64_t id)
{
	return chain_of(g, version_key(true, id)) != NULL;
}

/* Frees u, the oldest record of its chain. */
static void undo_free(struct graph *g, struct graph_undo *u)
{
	bool rel = (u->key & VERSION_REL_BIT) != 0;
	uint64_t id = u->key & ~VERSION_REL_BIT;

	if (u->newer != NULL) {
		u->newer->older = NULL;
	} else {
		const struct rel_slot *r = rel ? graph_rel_slot(g, id) : NULL;

		idmap_del(&g->versions, u->key);
		bitmap_clear(g, rel ? &g->changed_rels : &g->changed_nodes, id);
		/* No snapshot sees the deleted relationship any more. */
		if (r != NULL && !(r->flags & SLOT_LIVE) &&
		    (r->flags & SLOT_LINKED))
			graph_rel_unlink(g, id);
	}
	labelset_unref(g, u->labelset);
	propset_free(g, u->props);
	g->undo_bytes -= u->bytes;
	graph_mem_release(g, u, sizeof *u);
}

void graph_versions_reclaim(struct graph *g, uint64_t oldest)
{
	struct graph_undo *u;

	while ((u = g->undo_head) != NULL && u->ts <= oldest) {
		g->undo_head = u->next;
		if (g->undo_head == NULL)
			g->undo_tail = NULL;
		undo_free(g, u);
	}
	if (g->undo_head == NULL)
		idmap_free(&g->versions);
}

void versions_free(struct graph *g)
{
	graph_versions_reclaim(g, GRAPH_NOW);
	bitmap_free(g, &g->changed_nodes);
	bitmap_free(g, &g->changed_rels);
}

/* The state of the entity as of at, from its current state cur: false if
 * it did not exist then. */
static bool resolve(const struct graph *g, uint64_t key,
		    const struct vstate *cur, uint64_t at, struct vstate *out)
{
	const struct graph_undo *u;

	if (!(cur->flags & SLOT_USED))
		return false;
	if (cur->version <= at) {
		*out = *cur;
		return (cur->flags & SLOT_LIVE) != 0;
	}
	for (u = chain_of(g, key); u != NULL && u->version > at; u = u->older)
		;
	if (u == NULL)
		return false; /* created after at */
	out->version = u->version;
	out->props = u->props;
	out->labelset = u->labelset;
	out->flags = u->flags;
	return (u->flags & SLOT_LIVE) != 0;
}

static void state_out(const struct graph *g, const struct vstate *st,
		      struct graph_state *out)
{
	const struct labelset *ls = labelset_get(g, st->labelset);

	out->version = st->version;
	out->labels = ls->labels;
	out->n_labels = ls->n;
	out->props = st->props != NULL ? st->props->props : NULL;
	out->n_props = st->props != NULL ? st->props->n : 0;
}

bool graph_node_at(const struct graph *g, uint64_t id, uint64_t at,
		   struct graph_state *out)
{
	const struct node_slot *n = graph_node_slot(g, id);
	struct vstate cur, st;

	if (n == NULL)
		return false;
	cur = (struct vstate){n->version, n->props, n->labelset, n->flags};
	if (!resolve(g, version_key(false, id), &cur, at, &st))
		return false;
	state_out(g, &st, out);
	out->ends = (struct graph_rel_ends){GRAPH_NO_TOKEN, GRAPH_NO_ID,
					    GRAPH_NO_ID};
	return true;
}

bool graph_rel_at(const struct graph *g, uint64_t id, uint64_t at,
		  struct graph_state *out)
{
	const struct rel_slot *r = graph_rel_slot(g, id);
	struct vstate cur, st;

	if (r == NULL)
		return false;
	cur = (struct vstate){r->version, r->props, 0, r->flags};
	if (!resolve(g, version_key(true, id), &cur, at, &st))
		return false;
	state_out(g, &st, out);
	out->ends = (struct graph_rel_ends){r->type, r->src, r->dst};
	return true;
}

bool version_rel_live_at(const struct graph *g, uint64_t id,
			 const struct rel_slot *r, uint64_t at)
{
	struct vstate cur = {r->version, r->props, 0, r->flags}, st;

	if (at >= g->newest_version)
		return (r->flags & SLOT_LIVE) != 0;
	return resolve(g, version_key(true, id), &cur, at, &st);
}

/* Scans as of a snapshot --------------------------------------------------- */

static bool scan_of_rels(const struct graph_scan *s)
{
	return s->kind == GRAPH_SCAN_RELS || s->kind == GRAPH_SCAN_TYPE;
}

/* The next id >= from in the scan's own (current) structure. */
static uint64_t scan_candidate(const struct graph *g,
			       const struct graph_scan *s, uint64_t from)
{
	uint64_t pos = from;

	switch (s->kind) {
	case GRAPH_SCAN_NODES:
		return graph_node_scan(g, &pos);
	case GRAPH_SCAN_LABEL:
		return graph_label_scan(g, s->token, &pos);
	case GRAPH_SCAN_INDEX:
		return graph_index_seek(g, s->token, s->key, s->value, &pos);
	case GRAPH_SCAN_RELS:
		return graph_rel_scan(g, &pos);
	default:
		return graph_type_scan(g, s->token, &pos);
	}
}

bool graph_state_has_label(const struct graph_state *st, uint32_t label)
{
	for (size_t i = 0; i < st->n_labels; i++)
		if (st->labels[i] == label)
			return true;
	return false;
}

const struct graft_value *graph_state_prop(const struct graph_state *st,
					   uint32_t key)
{
	for (size_t i = 0; i < st->n_props; i++)
		if (st->props[i].key == key)
			return &st->props[i].value;
	return NULL;
}

/* Whether id belongs to the scan as of its snapshot. */
static bool scan_match(const struct graph *g, const struct graph_scan *s,
		       uint64_t id)
{
	struct graph_state st;
	const struct graft_value *v;

	if (scan_of_rels(s) ? !graph_rel_at(g, id, s->at, &st)
			    : !graph_node_at(g, id, s->at, &st))
		return false;
	switch (s->kind) {
	case GRAPH_SCAN_LABEL:
		return graph_state_has_label(&st, s->token);
	case GRAPH_SCAN_INDEX:
		v = graph_state_prop(&st, s->key);
		return graph_state_has_label(&st, s->token) && v != NULL &&
		       graft_value_equal(v, s->value);
	case GRAPH_SCAN_TYPE:
		return st.ends.type == s->token;
	default:
		return true;
	}
}

uint64_t graph_scan_next(const struct graph *g, struct graph_scan *s)
{
	const struct bitmap *changed =
		scan_of_rels(s) ? &g->changed_rels : &g->changed_nodes;
	/* Nothing applied after the snapshot: the structure is its state. */
	bool past = s->at < g->newest_version;

	for (;;) {
		uint64_t a = scan_candidate(g, s, s->pos);
		uint64_t b = past ? bitmap_next(changed, s->pos) : GRAPH_NO_ID;
		uint64_t id = a < b ? a : b;

		if (id == GRAPH_NO_ID)
			return GRAPH_NO_ID;
		s->pos = id + 1;
		if (!past || scan_match(g, s, id))
			return id;
	}
}

uint64_t graph_changed_node_next(const struct graph *g, uint64_t at,
				 uint64_t *pos)
{
	uint64_t id;

	if (at >= g->newest_version)
		return GRAPH_NO_ID;
	id = bitmap_next(&g->changed_nodes, *pos);
	if (id != GRAPH_NO_ID)
		*pos = id + 1;
	return id;
}
