/* Scans and expansions. Both keep no pointers between calls: a scan resumes
 * from an id, an expansion from the relationship it returned last, whose
 * next pointers survive its deletion (see struct rel_slot), so a result can
 * be streamed over many loop turns while the graph changes. */
#include "graph_int.h"

/* The first live slot with id >= *pos in t, whose slots begin with the
 * flags at offset flags_off. */
static uint64_t slot_scan(const struct slot_table *t, size_t flags_off,
			  uint64_t next, uint64_t *pos)
{
	uint64_t id = *pos;

	while (id < next) {
		const char *chunk;
		uint64_t end;
		if ((id >> SLOT_CHUNK_SHIFT) >= t->n_chunks)
			break;
		chunk = t->chunks[id >> SLOT_CHUNK_SHIFT];
		end = (id | (SLOT_CHUNK - 1)) + 1;
		if (chunk == NULL) {
			id = end;
			continue;
		}
		for (; id < end && id < next; id++) {
			const char *slot =
				chunk + (id & (SLOT_CHUNK - 1)) * t->slot_size;
			if (*(const uint32_t *)(const void *)(slot +
							      flags_off) &
			    SLOT_LIVE) {
				*pos = id + 1;
				return id;
			}
		}
	}
	*pos = id > *pos ? id : *pos;
	return GRAPH_NO_ID;
}

uint64_t graph_node_scan(const struct graph *g, uint64_t *pos)
{
	return slot_scan(&g->nodes, offsetof(struct node_slot, flags),
			 g->next_node, pos);
}

uint64_t graph_rel_scan(const struct graph *g, uint64_t *pos)
{
	return slot_scan(&g->rels, offsetof(struct rel_slot, flags),
			 g->next_rel, pos);
}

static uint64_t bitmap_scan(const struct bitmap *arr, uint32_t n, uint32_t tok,
			    uint64_t *pos)
{
	uint64_t id;

	if (tok >= n)
		return GRAPH_NO_ID;
	id = bitmap_next(&arr[tok], *pos);
	if (id != GRAPH_NO_ID)
		*pos = id + 1;
	return id;
}

uint64_t graph_label_scan(const struct graph *g, uint32_t label, uint64_t *pos)
{
	return bitmap_scan(g->label_bits, g->n_label_bits, label, pos);
}

uint64_t graph_type_scan(const struct graph *g, uint32_t type, uint64_t *pos)
{
	return bitmap_scan(g->type_bits, g->n_type_bits, type, pos);
}

/* Phases of an expansion: the node's outgoing list, its incoming list. */
enum { PHASE_OUT, PHASE_IN, PHASE_DONE };

void graph_expand_init(struct graph_expand *it, const struct graph *g,
		       uint64_t node, enum graph_dir dir, uint32_t type)
{
	graph_expand_at(it, g, node, dir, type, GRAPH_NOW);
}

void graph_expand_at(struct graph_expand *it, const struct graph *g,
		     uint64_t node, enum graph_dir dir, uint32_t type,
		     uint64_t at)
{
	(void)g;
	it->node = node;
	it->at = at;
	it->cur = GRAPH_NO_ID;
	it->type = type;
	it->dir = (uint8_t)dir;
	it->phase = (dir & GRAPH_OUT) ? PHASE_OUT : PHASE_IN;
}

static uint64_t list_head(const struct graph *g, uint64_t node, uint8_t phase)
{
	const struct node_slot *n = graph_node_slot(g, node);

	/* A slot never created is zeroes, not empty lists. */
	if (n == NULL || !(n->flags & SLOT_USED))
		return GRAPH_NO_ID;
	return phase == PHASE_OUT ? n->first_out : n->first_in;
}

uint64_t graph_expand_next(const struct graph *g, struct graph_expand *it)
{
	while (it->phase != PHASE_DONE) {
		bool out = it->phase == PHASE_OUT;
		uint64_t id;

		if (it->cur == GRAPH_NO_ID) {
			id = list_head(g, it->node, it->phase);
		} else {
			const struct rel_slot *r = graph_rel_slot(g, it->cur);
			id = out ? r->next_out : r->next_in;
		}
		while (id != GRAPH_NO_ID) {
			const struct rel_slot *r = graph_rel_slot(g, id);
			/* Deleted ones (as of the snapshot) are passed
			 * through, not returned; with
			 * BOTH a self-loop was returned from the out list. */
			if (version_rel_live_at(g, id, r, it->at) &&
			    (it->type == GRAPH_NO_TOKEN ||
			     r->type == it->type) &&
			    (out || it->dir != GRAPH_BOTH ||
			     r->src != r->dst)) {
				it->cur = id;
				return id;
			}
			id = out ? r->next_out : r->next_in;
		}
		it->cur = GRAPH_NO_ID;
		it->phase = out && (it->dir & GRAPH_IN) ? PHASE_IN : PHASE_DONE;
	}
	return GRAPH_NO_ID;
}

uint64_t graph_node_degree(const struct graph *g, uint64_t id,
			   enum graph_dir dir)
{
	struct graph_expand it;
	uint64_t n = 0;

	graph_live_node(g, id, __func__);
	graph_expand_init(&it, g, id, dir, GRAPH_NO_TOKEN);
	while (graph_expand_next(g, &it) != GRAPH_NO_ID)
		n++;
	return n;
}
