/* The in-memory property graph of one database: nodes with labels and
 * properties, typed relationships with properties, label and type scans, and
 * exact-match property indexes. It holds committed state only and changes only
 * through the apply functions, which the db layer calls in transaction order
 * after validating; the graph itself never judges a transaction.
 * Loop thread only (a forked checkpoint child reads a frozen copy), but for
 * readers holding the db's gate shared while no apply runs. */
#ifndef GRAFT_GRAPH_GRAPH_H
#define GRAFT_GRAPH_GRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../util/value.h"

#define GRAPH_NO_ID UINT64_MAX
#define GRAPH_NO_TOKEN UINT32_MAX

enum graph_token_kind {
	GRAPH_TOKEN_LABEL,
	GRAPH_TOKEN_RELTYPE,
	GRAPH_TOKEN_PROPKEY,
	GRAPH_TOKEN_KINDS
};

enum graph_dir { GRAPH_OUT = 1, GRAPH_IN = 2, GRAPH_BOTH = 3 };

struct graph_prop {
	uint32_t key; /* GRAPH_TOKEN_PROPKEY */
	struct graft_value value;
};

struct graph_rel_ends {
	uint32_t type; /* GRAPH_TOKEN_RELTYPE */
	uint64_t src;
	uint64_t dst;
};

struct graph_stats {
	uint64_t nodes;     /* live */
	uint64_t rels;      /* live */
	uint64_t bytes;     /* heap bytes held by the graph, all structures */
	uint64_t node_bytes; /* bytes per node slot, structure only */
	uint64_t rel_bytes;  /* bytes per relationship slot, structure only */
};

struct graph;

int graph_new(struct graph **out); /* GRAFT_OK or GRAFT_ENOMEM */
void graph_free(struct graph *g);
void graph_stats(const struct graph *g, struct graph_stats *out);

/* Tokens: names of labels, relationship types and property keys, numbered in
 * order of first use. Interning is not transactional (as in Neo4j, a token
 * created by a rolled-back transaction stays); records carry names, so
 * members may number tokens differently without disagreeing on the graph. */
int graph_token_intern(struct graph *g, enum graph_token_kind kind,
		       const char *name, size_t len, uint32_t *out);
uint32_t graph_token_lookup(const struct graph *g, enum graph_token_kind kind,
			    const char *name, size_t len); /* or GRAPH_NO_TOKEN */
/* NUL-terminated name; tok must exist. */
const char *graph_token_name(const struct graph *g, enum graph_token_kind kind,
			     uint32_t tok);
uint32_t graph_token_count(const struct graph *g, enum graph_token_kind kind);

/* Ids are never reused. next_*_id is one past the highest id ever created. */
uint64_t graph_next_node_id(const struct graph *g);
uint64_t graph_next_rel_id(const struct graph *g);
/* Raises the next ids to at least the given values (checkpoint load, where
 * the highest ids may belong to deleted entities). */
void graph_reserve_ids(struct graph *g, uint64_t next_node, uint64_t next_rel);

/* Versions: the transaction id that last created, changed (labels,
 * properties) or deleted the entity; 0 if the id never existed. Adding or
 * removing a relationship does not change its end nodes' versions. An apply
 * call on an entity sets its version even when it changes nothing (adding a
 * label the node has, removing an unset property). */
bool graph_node_exists(const struct graph *g, uint64_t id);
uint64_t graph_node_version(const struct graph *g, uint64_t id);
bool graph_rel_exists(const struct graph *g, uint64_t id);
uint64_t graph_rel_version(const struct graph *g, uint64_t id);

/* Reads of live entities (precondition: exists). Returned pointers stay
 * valid until the entity is next changed. Labels and props sorted by token. */
size_t graph_node_labels(const struct graph *g, uint64_t id,
			 const uint32_t **labels);
bool graph_node_has_label(const struct graph *g, uint64_t id, uint32_t label);
size_t graph_node_props(const struct graph *g, uint64_t id,
			const struct graph_prop **props);
const struct graft_value *graph_node_prop(const struct graph *g, uint64_t id,
					  uint32_t key); /* NULL if unset */
uint64_t graph_node_degree(const struct graph *g, uint64_t id,
			   enum graph_dir dir);
void graph_rel_ends(const struct graph *g, uint64_t id,
		    struct graph_rel_ends *out);
size_t graph_rel_props(const struct graph *g, uint64_t id,
		       const struct graph_prop **props);
const struct graft_value *graph_rel_prop(const struct graph *g, uint64_t id,
					 uint32_t key);

/* Scans return ids in ascending order. *pos starts at 0 and is advanced; a
 * scan stays valid across changes to the graph (it resumes by id), so a
 * result may be streamed over many loop turns. Each returns GRAPH_NO_ID at
 * the end. */
uint64_t graph_node_scan(const struct graph *g, uint64_t *pos);
uint64_t graph_label_scan(const struct graph *g, uint32_t label, uint64_t *pos);
uint64_t graph_rel_scan(const struct graph *g, uint64_t *pos);
uint64_t graph_type_scan(const struct graph *g, uint32_t type, uint64_t *pos);

/* Expansion of one node's relationships, newest first, optionally of one
 * type (GRAPH_NO_TOKEN: any). With GRAPH_BOTH the outgoing ones come first
 * and a self-loop is returned once. Like scans, survives relationship
 * deletions between calls; relationships created after it passed the start
 * of a list are not returned. A node that does not exist has none. Lists are
 * singly linked (a relationship fits in 56 bytes), so graph_node_degree and
 * deleting a relationship cost O(degree) of its ends. */
struct graph_expand {
	uint64_t node;
	uint64_t cur;
	uint64_t at; /* snapshot: relationships as of it (GRAPH_NOW) */
	uint32_t type;
	uint8_t dir;
	uint8_t phase;
};
void graph_expand_init(struct graph_expand *it, const struct graph *g,
		       uint64_t node, enum graph_dir dir, uint32_t type);
/* The same as of snapshot at (see "Old versions" below). */
void graph_expand_at(struct graph_expand *it, const struct graph *g,
		     uint64_t node, enum graph_dir dir, uint32_t type,
		     uint64_t at);
uint64_t graph_expand_next(const struct graph *g, struct graph_expand *it);

/* Old versions and snapshot reads ---------------------------------------
 * Changes are applied in place; the state an apply replaces is kept in an
 * undo record (Neumann et al., "Fast Serializable Multi-Version Concurrency
 * Control for Main-Memory Database Systems", SIGMOD 2015) when a reader's
 * snapshot predates the change, chained newest first per entity, so that a
 * reader sees the graph as of its snapshot (the id of the last transaction
 * applied when it began) while later transactions apply. Creations keep no
 * undo: an entity whose oldest known state is newer than a snapshot did not
 * exist in it. Readers and applies never run at once (the db's gate): the
 * chains need no atomics. */
#define GRAPH_NOW UINT64_MAX /* a snapshot of the newest state */

/* The oldest snapshot a reader holds (GRAPH_NOW: none), set before
 * applying: an apply of transaction T keeps what it replaces iff
 * oldest < T. */
void graph_versions_keep(struct graph *g, uint64_t oldest);
/* Frees every kept state no snapshot >= oldest needs (GRAPH_NOW: all), and
 * unlinks from their ends' lists the deleted relationships kept for
 * readers. */
void graph_versions_reclaim(struct graph *g, uint64_t oldest);
/* Bytes held by kept states (records, their properties, the chain map). */
uint64_t graph_versions_bytes(const struct graph *g);

/* An entity as of a snapshot. Pointers stay valid until the next apply or
 * reclaim. */
struct graph_state {
	uint64_t version;
	const uint32_t *labels; /* nodes, sorted */
	size_t n_labels;
	const struct graph_prop *props; /* sorted by key */
	size_t n_props;
	struct graph_rel_ends ends; /* relationships */
};
bool graph_state_has_label(const struct graph_state *st, uint32_t label);
/* NULL if unset. */
const struct graft_value *graph_state_prop(const struct graph_state *st,
					   uint32_t key);
/* false if the entity did not exist as of snapshot at. */
bool graph_node_at(const struct graph *g, uint64_t id, uint64_t at,
		   struct graph_state *out);
bool graph_rel_at(const struct graph *g, uint64_t id, uint64_t at,
		  struct graph_state *out);

/* A scan as of a snapshot: the entities that match as of at, ids ascending.
 * Like the scans above it resumes by id (pos), so it may be streamed while
 * later transactions apply: an id is judged once, when pos passes it, by
 * its state as of at. */
enum graph_scan_kind {
	GRAPH_SCAN_NODES,
	GRAPH_SCAN_LABEL, /* token: label */
	GRAPH_SCAN_INDEX, /* token: label, key, value (borrowed); the index
			   * exists */
	GRAPH_SCAN_RELS,
	GRAPH_SCAN_TYPE,  /* token: relationship type */
};
struct graph_scan {
	uint8_t kind;
	uint32_t token, key;
	const struct graft_value *value;
	uint64_t pos;
	uint64_t at;
};
uint64_t graph_scan_next(const struct graph *g, struct graph_scan *s);
/* Nodes changed after snapshot at (whose old states are kept), ascending
 * from *pos: with the index's own matches, the candidates of a range seek
 * as of at. GRAPH_NO_ID at the end. */
uint64_t graph_changed_node_next(const struct graph *g, uint64_t at,
				 uint64_t *pos);

/* Exact-match property indexes on (label, key). */
bool graph_index_exists(const struct graph *g, uint32_t label, uint32_t key);
/* Lists (label, key) pairs of the indexes, in creation order, into at most
 * max entries; returns how many it wrote (max: there may be more). */
size_t graph_index_list(const struct graph *g, uint32_t (*pairs)[2], size_t max);
/* Node ids with label and key == value (graft_value_equal), ascending, from
 * *pos on. Precondition: the index exists. */
uint64_t graph_index_seek(const struct graph *g, uint32_t label, uint32_t key,
			  const struct graft_value *value, uint64_t *pos);

/* Appends to *ids (growable: *n, *cap) the nodes whose value under key is
 * in the range lo..hi (each bound inclusive or not; NULL: open), within the
 * bounds' type (graft_value_cmp order: an INT range holds no FLOATs).
 * Values in order, ids ascending within a value. The first seek after the
 * index changed sorts its values (cached until it changes again), hence
 * the non-const graph. GRAFT_OK or GRAFT_ENOMEM. Precondition: the index
 * exists and lo or hi is given. */
int graph_index_range(struct graph *g, uint32_t label, uint32_t key,
		      const struct graft_value *lo, bool lo_incl,
		      const struct graft_value *hi, bool hi_incl,
		      uint64_t **ids, size_t *n, size_t *cap);

/* Apply functions: the only mutations. The caller has validated the change;
 * violated preconditions are programming errors and abort. They return
 * GRAFT_OK or GRAFT_ENOMEM (then the graph is unchanged). version is the
 * transaction id being applied. Values are copied. */
/* Precondition: id never existed. */
int graph_node_create(struct graph *g, uint64_t id, uint64_t version);
/* Precondition: the node has no live relationships. */
int graph_node_delete(struct graph *g, uint64_t id, uint64_t version);
int graph_node_add_label(struct graph *g, uint64_t id, uint32_t label,
			 uint64_t version);
int graph_node_remove_label(struct graph *g, uint64_t id, uint32_t label,
			    uint64_t version);
/* value NULL or null removes the property. */
int graph_node_set_prop(struct graph *g, uint64_t id, uint32_t key,
			const struct graft_value *value, uint64_t version);
/* graph_node_set_prop of a value the graph keeps instead of a copy (a
 * record about to be freed): on GRAFT_OK *value is left null, else it is
 * still the caller's. */
int graph_node_take_prop(struct graph *g, uint64_t id, uint32_t key,
			 struct graft_value *value, uint64_t version);
/* The same for a relationship (a checkpoint's load). */
int graph_rel_take_prop(struct graph *g, uint64_t id, uint32_t key,
			struct graft_value *value, uint64_t version);
/* Room for n properties in all on a live node or relationship, made at
 * once (a checkpoint's load knows how many come; sets otherwise grow one
 * by one). Not a change: no version is kept. GRAFT_ENOMEM. */
int graph_node_reserve_props(struct graph *g, uint64_t id, uint32_t n);
int graph_rel_reserve_props(struct graph *g, uint64_t id, uint32_t n);
/* Preconditions: id never existed (ids may arrive out of order: they are
 * allocated at transaction time, applied at commit time); src and dst exist. */
int graph_rel_create(struct graph *g, uint64_t id, uint32_t type, uint64_t src,
		     uint64_t dst, uint64_t version);
int graph_rel_delete(struct graph *g, uint64_t id, uint64_t version);
int graph_rel_set_prop(struct graph *g, uint64_t id, uint32_t key,
		       const struct graft_value *value, uint64_t version);
/* Builds the index from existing nodes. GRAFT_EEXIST if present. */
int graph_index_create(struct graph *g, uint32_t label, uint32_t key);
/* GRAFT_ENOTFOUND if absent. */
int graph_index_drop(struct graph *g, uint32_t label, uint32_t key);

#endif
