/* The graph's private structures and the helpers its files share. Memory is
 * the design constraint (64 bytes per node and per relationship, everything
 * included): slots are fixed-size records in chunked arrays indexed by id,
 * label sets are interned and shared, scans use one bit per id per token, and
 * properties cost nothing until an entity has some. */
#ifndef GRAFT_GRAPH_GRAPH_INT_H
#define GRAFT_GRAPH_GRAPH_INT_H

#include <pthread.h>

#include "../util/idmap.h"
#include "graph.h"

/* Slots per chunk: small enough that a tiny graph (the system database)
 * holds little, large enough that the chunk directory stays small. */
#define SLOT_CHUNK_SHIFT 13
#define SLOT_CHUNK ((uint64_t)1 << SLOT_CHUNK_SHIFT)

#define SLOT_USED 1u /* the id was created; stays set after deletion */
#define SLOT_LIVE 2u
/* Relationships: still in its ends' lists. A deleted one stays there while
 * a reader's snapshot may see it (version.c). */
#define SLOT_LINKED 4u

struct propset;

/* 40 bytes. A slot that was never created is all zeroes. */
struct node_slot {
	uint64_t version;
	uint64_t first_out; /* newest first, linked by rel_slot.next_out */
	uint64_t first_in;  /* newest first, linked by rel_slot.next_in */
	struct propset *props; /* NULL when the node has none */
	uint32_t labelset; /* id in the labelset table; 0 is the empty set */
	uint32_t flags;
};

/* 56 bytes. A deleted relationship is unlinked from its ends' lists but
 * keeps its own next pointers, so an expansion standing on it goes on. */
struct rel_slot {
	uint64_t version;
	uint64_t src;
	uint64_t dst;
	uint64_t next_out;
	uint64_t next_in;
	struct propset *props;
	uint32_t type;
	uint32_t flags;
};

/* A table's first chunks are malloc'd, so that a small graph (the system
 * database) holds no more than it needs; the rest are carved, in the order
 * they are made, from regions mapped 2 MiB-aligned and advised for
 * transparent huge pages (slot_region.c), so that forking the checkpoint writer
 * copies one page-table entry per 2 MiB of slots instead of 512. */
#define SLOT_SMALL_CHUNKS 4
/* Chunks per region. A chunk is 8 Ki slots of a multiple of 8 bytes, so 32
 * of them fill whole 2 MiB pages (10 MiB of nodes, 14 MiB of relationships)
 * and no region ends in a gap. */
#define SLOT_REGION_CHUNKS 32

/* Chunks are allocated on demand and never move, so slot pointers stay valid
 * while the table grows; only the small directory is reallocated. Chunks are
 * freed only with the graph (ids are never reused). */
struct slot_table {
	void **chunks; /* n_chunks entries, NULL where no id was created */
	size_t n_chunks;
	size_t slot_size;
	void *small[SLOT_SMALL_CHUNKS]; /* the malloc'd chunks */
	size_t n_small;
	void **regions; /* each slot_region_size(t) bytes, mapped */
	size_t n_regions;
	size_t cap_regions;
	size_t region_used; /* chunks carved from the newest region */
};

/* Properties sorted by key; an entity without properties has none of this. */
struct propset {
	uint32_t n;
	uint32_t cap;
	struct graph_prop props[];
};

/* A sorted set of labels shared by every node carrying exactly it. */
struct labelset {
	uint64_t refs; /* nodes using it; the empty set (id 0) is not counted */
	uint64_t hash;
	uint32_t n;
	uint32_t labels[];
};

struct labelset_table {
	struct labelset **sets; /* by id, NULL where free */
	uint32_t n;             /* ids handed out */
	uint32_t cap;           /* of sets and of free_ids */
	uint32_t *free_ids; /* a stack; capacity cap, so pushes never fail */
	uint32_t n_free;
	uint32_t *slots; /* open addressing of id + 1 by hash; 0 is empty */
	uint32_t n_slots; /* power of two */
	uint32_t count;
};

/* One bit per id, in chunks of 64 Ki ids freed when they empty. */
#define BITMAP_CHUNK_SHIFT 16
#define BITMAP_CHUNK_WORDS ((1u << BITMAP_CHUNK_SHIFT) / 64)

struct bitmap_chunk {
	uint64_t count;
	uint64_t words[BITMAP_CHUNK_WORDS];
};

struct bitmap {
	struct bitmap_chunk **chunks;
	size_t n_chunks;
};

struct token_table {
	struct graft_str **names; /* by token */
	uint32_t n;
	uint32_t cap;
	uint32_t *slots; /* open addressing of token + 1 by name hash */
	uint32_t n_slots; /* power of two */
};

struct index_entry {
	uint64_t hash;
	struct graft_value value; /* owned */
	union {
		uint64_t *ids; /* cap > 1: sorted node ids */
		uint64_t one;  /* cap == 1: the id, if len is 1 */
	};
	uint32_t len;
	uint32_t cap; /* 0: a free slot */
};

struct graph_index {
	uint32_t label;
	uint32_t key;
	struct index_entry *slots; /* open addressing by value hash */
	size_t n_slots;            /* power of two */
	size_t count;
	/* Range seeks: slot numbers of the entries in value order, rebuilt
	 * on the first range seek after the set of entries changed. */
	size_t *sorted;
	size_t n_sorted, cap_sorted;
	bool sorted_stale;
};

/* The state of one entity before transaction ts changed it, kept while a
 * snapshot older than ts may read it. */
struct graph_undo {
	struct graph_undo *older, *newer; /* the entity's chain */
	struct graph_undo *next;          /* the undo log, in apply order */
	uint64_t key;     /* version_key(): the entity */
	uint64_t ts;      /* the transaction that replaced this state */
	uint64_t version; /* this state's own version */
	struct propset *props; /* owned copy */
	uint64_t bytes;   /* held by this record and its properties */
	uint32_t labelset; /* nodes: a reference held */
	uint32_t flags;    /* the slot's flags then */
};

struct graph {
	uint64_t bytes; /* heap held, counted by the graph_mem_* functions */
	uint64_t allocs;       /* allocations made, for fault injection */
	uint64_t alloc_fail_at; /* 0 or the allocation number that fails */
	struct slot_table nodes;
	struct slot_table rels;
	uint64_t next_node;
	uint64_t next_rel;
	uint64_t n_nodes;
	uint64_t n_rels;
	struct token_table tokens[GRAPH_TOKEN_KINDS];
	struct labelset_table labelsets;
	struct bitmap *label_bits; /* by label token, n_label_bits of them */
	uint32_t n_label_bits;
	struct bitmap *type_bits; /* by relationship type token */
	uint32_t n_type_bits;
	/* Range seeks of readers holding the gate shared (util/gate.h) may
	 * rebuild an index's sorted view at once: one at a time. */
	pthread_mutex_t sorted_mu;
	struct graph_index **indexes; /* creation order */
	size_t n_indexes;
	size_t cap_indexes;
	/* Old versions (version.c). */
	uint64_t oldest_snapshot; /* GRAPH_NOW: no reader */
	uint64_t newest_version;  /* the highest version applied */
	struct idmap versions;    /* version_key -> newest undo */
	struct graph_undo *undo_head, *undo_tail; /* oldest first */
	uint64_t undo_bytes;
	struct bitmap changed_nodes, changed_rels; /* ids with a chain */
};

/* Every allocation of the graph goes through these, so that bytes held are
 * known exactly and tests can fail the nth allocation. */
void *graph_mem_alloc(struct graph *g, size_t size);
void *graph_mem_calloc(struct graph *g, size_t n, size_t size);
/* Like realloc: on failure p is untouched and NULL is returned. */
void *graph_mem_realloc(struct graph *g, void *p, size_t old, size_t size);
void graph_mem_release(struct graph *g, void *p, size_t size);
/* Counts one allocation made by other means (a mapping, slot_region.c); true
 * if a test asked for it to fail. */
bool graph_mem_fails(struct graph *g);
/* Grows a directory of chunk pointers (n entries) by doubling until it has
 * more than c entries, the new ones NULL. Returns the new directory and its
 * size in *new_n, or NULL (dir untouched) when out of memory. */
void *graph_chunk_dir_grow(struct graph *g, void *dir, size_t n, uint64_t c,
			   size_t *new_n);
/* Replaces an open-addressing table of uint32_t slots by an empty one twice
 * as large (16 at first). *old and *n_old receive the previous table, which
 * the caller rehashes into the new one and releases. */
int graph_slots_double(struct graph *g, uint32_t **slots, uint32_t *n_slots,
		       uint32_t **old, uint32_t *n_old);
/* Value copies allocate through util; their heap is counted here. */
int graph_value_copy(struct graph *g, struct graft_value *dst,
		     const struct graft_value *src);
void graph_value_release(struct graph *g, struct graft_value *v);
/* Tests: the nth allocation from now fails (0: none fails). */
void graph_fail_alloc(struct graph *g, uint64_t nth);

/* Violated preconditions of the apply functions are programming errors in
 * the caller; they are checked in every build because continuing would
 * corrupt the graph. */
#define GRAPH_REQUIRE(cond, ...)                                               \
	do {                                                                   \
		if (!(cond))                                                   \
			graph_violation(__func__, __VA_ARGS__);                \
	} while (0)
void graph_violation(const char *func, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 2, 3)));

static inline uint64_t graph_hash_mix(uint64_t h)
{
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebull;
	return h ^ (h >> 31);
}

/* Slots (graph.c). NULL where the chunk does not exist. */
struct node_slot *graph_node_slot(const struct graph *g, uint64_t id);
struct rel_slot *graph_rel_slot(const struct graph *g, uint64_t id);
/* The slot of a live entity; aborts otherwise. */
struct node_slot *graph_live_node(const struct graph *g, uint64_t id,
				  const char *func);
struct rel_slot *graph_live_rel(const struct graph *g, uint64_t id,
				const char *func);

/* Slot chunks (slot_region.c). A new chunk is all zeroes (never-created slots);
 * NULL on out of memory, and then the table is as it was but for spare
 * capacity. slot_chunks_free frees every chunk, not the directory. */
void *slot_chunk_new(struct graph *g, struct slot_table *t);
void slot_chunks_free(struct graph *g, struct slot_table *t);
size_t slot_region_size(const struct slot_table *t);

/* Tokens (tokens.c). */
void graph_tokens_free(struct graph *g);

/* Bitmaps (bitmap.c). reserve makes sure set cannot fail; trim frees the
 * chunk of id again if reserve made it and nothing was set. */
int bitmap_reserve(struct graph *g, struct bitmap *bm, uint64_t id);
void bitmap_trim(struct graph *g, struct bitmap *bm, uint64_t id);
void bitmap_set(struct bitmap *bm, uint64_t id);
void bitmap_clear(struct graph *g, struct bitmap *bm, uint64_t id);
/* The first set id >= from, or GRAPH_NO_ID. */
uint64_t bitmap_next(const struct bitmap *bm, uint64_t from);
void bitmap_free(struct graph *g, struct bitmap *bm);
/* The bitmap of a label or relationship type, growing the array of them;
 * NULL on out of memory. */
struct bitmap *bitmap_of(struct graph *g, struct bitmap **arr, uint32_t *n,
			 uint32_t tok);

/* Label sets (labels.c). */
int labelsets_init(struct graph *g);
void labelsets_free(struct graph *g);
const struct labelset *labelset_get(const struct graph *g, uint32_t id);
bool labelset_has(const struct labelset *ls, uint32_t label);
/* The labels of node slot n (sorted). */
const struct labelset *graph_node_labelset(const struct graph *g,
					   const struct node_slot *n);
/* Switches n to the empty set (node deletion). */
void labelset_drop_node(struct graph *g, struct node_slot *n);

/* Properties (props.c). */
const struct graft_value *propset_get(const struct propset *ps, uint32_t key);
void propset_free(struct graph *g, struct propset *ps);
/* A deep copy (NULL for NULL); *bytes receives what it holds. GRAFT_OK or
 * GRAFT_ENOMEM. */
int propset_clone(struct graph *g, const struct propset *ps,
		  struct propset **out, uint64_t *bytes);

/* Label set references held by kept states (labels.c). */
void labelset_ref(struct graph *g, uint32_t id);
void labelset_unref(struct graph *g, uint32_t id);

/* Old versions (version.c). Called by an apply function of transaction
 * version on an entity before it changes anything: keeps the entity's
 * state if a snapshot older than version may read it (once per
 * transaction). GRAFT_OK or GRAFT_ENOMEM (nothing kept, nothing changed). */
int version_keep_node(struct graph *g, uint64_t id, uint64_t version);
int version_keep_rel(struct graph *g, uint64_t id, uint64_t version);
/* Whether relationship id has kept states (its deletion leaves it linked). */
bool version_rel_kept(const struct graph *g, uint64_t id);
void versions_free(struct graph *g);
static inline void version_seen(struct graph *g, uint64_t version)
{
	if (g->newest_version < version)
		g->newest_version = version;
}
/* Relationship r (live as of at) for an expansion. */
bool version_rel_live_at(const struct graph *g, uint64_t id,
			 const struct rel_slot *r, uint64_t at);
/* Unlinks relationship id from its ends' lists (graph.c). */
void graph_rel_unlink(struct graph *g, uint64_t id);

/* Index maintenance (index.c). A change of one node seen by the indexes:
 * its labels before and after, its properties before the change, and the
 * one property being changed (key GRAPH_NO_TOKEN when none is). */
struct node_change {
	const struct labelset *before;
	const struct labelset *after;
	const struct propset *props;
	uint32_t key;
	const struct graft_value *value; /* new value of key; NULL: removed */
};
/* Makes room in every index the change touches, so commit cannot fail.
 * GRAFT_OK or GRAFT_ENOMEM (then the indexes are as they were). */
int index_change_prepare(struct graph *g, const struct node_change *c);
/* Undoes prepare when a later step of the same change failed. */
void index_change_abandon(struct graph *g, const struct node_change *c);
void index_change_commit(struct graph *g, uint64_t id,
			 const struct node_change *c);
void indexes_free(struct graph *g);

#endif
