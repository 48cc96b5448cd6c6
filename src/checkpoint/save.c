/* Serialising a graph into the checkpoint format (see format.c). Runs in a
 * forked child on a frozen copy of the graph, so it only reads through the
 * graph's API and allocates little: one 64 KiB block and a value buffer. */
#include "checkpoint.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "../txrec/txrec.h"
#include "../util/buf.h"
#include "format.h"

static void put_tokens(struct ckp_writer *w, const struct graph *g)
{
	ckp_writer_section(w, CKP_SECTION_TOKENS);
	for (int kind = 0; kind < GRAPH_TOKEN_KINDS; kind++) {
		uint32_t n = graph_token_count(g, kind);
		ckp_writer_varint(w, n);
		for (uint32_t tok = 0; tok < n; tok++) {
			const char *name = graph_token_name(g, kind, tok);
			size_t len = strlen(name);
			ckp_writer_varint(w, len);
			ckp_writer_put(w, name, len);
		}
	}
}

static void put_tag(struct ckp_writer *w, enum ckp_tag tag)
{
	uint8_t b = (uint8_t)tag;

	ckp_writer_put(w, &b, 1);
}

/* The start of a node or relationship record; *expect is one past the
 * previous record's id. */
static void put_head(struct ckp_writer *w, enum ckp_tag tag, uint64_t id,
		     uint64_t version, uint64_t *expect)
{
	put_tag(w, tag);
	ckp_writer_varint(w, id - *expect);
	ckp_writer_varint(w, version);
	*expect = id + 1;
}

static int put_indexes(struct ckp_writer *w, const struct graph *g)
{
	uint32_t(*pairs)[2];
	size_t cap = 16, n;

	/* A full array may mean there are more: grow until one is not. */
	for (;;) {
		pairs = malloc(cap * sizeof *pairs);
		if (pairs == NULL)
			return graft_errf(w->errmsg, GRAFT_ENOMEM,
					  "no memory to list %zu indexes", cap);
		n = graph_index_list(g, pairs, cap);
		if (n < cap)
			break;
		free(pairs);
		cap *= 2;
	}
	ckp_writer_section(w, CKP_SECTION_INDEXES);
	ckp_writer_varint(w, n);
	for (size_t i = 0; i < n; i++) {
		ckp_writer_varint(w, pairs[i][0]);
		ckp_writer_varint(w, pairs[i][1]);
	}
	free(pairs);
	return w->rv;
}

static int put_props(struct ckp_writer *w, struct graft_buf *vbuf,
		     const struct graph_prop *props, size_t n)
{
	ckp_writer_varint(w, n);
	for (size_t i = 0; i < n; i++) {
		graft_buf_reset(vbuf);
		if (txrec_encode_value(vbuf, &props[i].value) != GRAFT_OK)
			return graft_errf(w->errmsg, GRAFT_ENOMEM,
					  "no memory to encode a property "
					  "value");
		ckp_writer_varint(w, props[i].key);
		ckp_writer_varint(w, vbuf->len);
		ckp_writer_put(w, vbuf->data, vbuf->len);
	}
	return w->rv;
}

static void put_labels(struct ckp_writer *w, const struct graph *g,
		       uint64_t id)
{
	const uint32_t *labels;
	size_t n = graph_node_labels(g, id, &labels);

	ckp_writer_varint(w, n);
	for (size_t i = 0; i < n; i++)
		ckp_writer_varint(w, labels[i]);
}

static void put_ends(struct ckp_writer *w, const struct graph *g,
		     uint64_t id)
{
	struct graph_rel_ends ends;

	graph_rel_ends(g, id, &ends);
	ckp_writer_varint(w, ends.type);
	ckp_writer_varint(w, ends.src);
	ckp_writer_varint(w, ends.dst);
}

/* The nodes section and the relationships section differ only in these. */
struct entity_kind {
	enum ckp_section section;
	uint64_t (*next_id)(const struct graph *g);
	bool (*exists)(const struct graph *g, uint64_t id);
	uint64_t (*version)(const struct graph *g, uint64_t id);
	/* What a live record holds before its properties. */
	void (*put_fields)(struct ckp_writer *w, const struct graph *g,
			   uint64_t id);
	size_t (*props)(const struct graph *g, uint64_t id,
			const struct graph_prop **props);
};

static const struct entity_kind nodes_kind = {
	CKP_SECTION_NODES, graph_next_node_id, graph_node_exists,
	graph_node_version, put_labels, graph_node_props,
};

static const struct entity_kind rels_kind = {
	CKP_SECTION_RELS, graph_next_rel_id, graph_rel_exists,
	graph_rel_version, put_ends, graph_rel_props,
};

/* Every id below the next one is visited: deleted ones keep their
 * versions. O(next id). *live counts the live records. */
static int put_entities(struct ckp_writer *w, const struct graph *g,
			const struct entity_kind *k, struct graft_buf *vbuf,
			uint64_t *live)
{
	uint64_t next = k->next_id(g), expect = 0;
	int rv;

	ckp_writer_section(w, k->section);
	for (uint64_t id = 0; id < next; id++) {
		const struct graph_prop *props;
		uint64_t version = k->version(g, id);
		size_t n;

		if (!k->exists(g, id)) {
			if (version != 0)
				put_head(w, CKP_TAG_DELETED, id, version,
					 &expect);
			continue;
		}
		put_head(w, CKP_TAG_LIVE, id, version, &expect);
		k->put_fields(w, g, id);
		n = k->props(g, id, &props);
		rv = put_props(w, vbuf, props, n);
		if (rv != GRAFT_OK)
			return rv;
		(*live)++;
	}
	put_tag(w, CKP_TAG_END);
	return w->rv;
}

int checkpoint_write_fd(const struct graph *g, uint64_t txid,
			uint64_t raft_index, int fd, char *errmsg)
{
	uint8_t head[CKP_HEADER_SIZE];
	struct ckp_header h = {.txid = txid, .raft_index = raft_index};
	struct graph_stats stats;
	struct ckp_writer w;
	struct graft_buf vbuf;
	uint64_t nodes = 0, rels = 0;
	int rv;

	rv = ckp_writer_init(&w, fd, errmsg);
	if (rv != GRAFT_OK)
		return rv;
	graft_buf_init(&vbuf);
	graph_stats(g, &stats);
	h.next_node = graph_next_node_id(g);
	h.next_rel = graph_next_rel_id(g);
	h.nodes = stats.nodes;
	h.rels = stats.rels;
	ckp_header_encode(&h, head);
	ckp_writer_raw(&w, head, sizeof head);
	put_tokens(&w, g);
	rv = put_indexes(&w, g);
	if (rv == GRAFT_OK)
		rv = put_entities(&w, g, &nodes_kind, &vbuf, &nodes);
	if (rv == GRAFT_OK)
		rv = put_entities(&w, g, &rels_kind, &vbuf, &rels);
	if (rv == GRAFT_OK)
		rv = ckp_writer_finish(&w);
	/* The header was written before the scan; both come from one frozen
	 * graph, so they agree unless the graph's counters are wrong. */
	if (rv == GRAFT_OK && (nodes != h.nodes || rels != h.rels))
		rv = graft_errf(errmsg, GRAFT_EINVAL,
				"the graph counts %" PRIu64 " nodes and %"
				PRIu64 " relationships but holds %" PRIu64
				" and %" PRIu64,
				h.nodes, h.rels, nodes, rels);
	graft_buf_free(&vbuf);
	ckp_writer_free(&w);
	return rv;
}
