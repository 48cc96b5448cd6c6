/* Rebuilding a graph from a checkpoint file (format in format.c) through the
 * graph's own apply functions. The file is untrusted: every number is
 * checked against what the graph's preconditions demand before the graph
 * sees it, because a violated precondition aborts the process.
 *
 * Deleted ids come back as tombstones: created, then deleted with the same
 * version. A deleted relationship is re-created between a stand-in node
 * (the anchor: the file's first node record, kept until all relationships
 * are in even if it is deleted) and itself, since its ends are gone. */
#include "checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../txrec/txrec.h"
#include "format.h"

struct loader {
	struct ckp_reader r;
	struct graph *g;
	struct ckp_header h;
	uint32_t tokens[GRAPH_TOKEN_KINDS]; /* counts */
	uint32_t (*indexes)[2];             /* owned */
	size_t n_indexes;
	uint64_t anchor;      /* GRAPH_NO_ID until the first node record */
	uint64_t anchor_version;
	bool anchor_deleted;  /* then it is deleted after the relationships */
};

static int no_memory(struct loader *l)
{
	return graft_errf(l->r.errmsg, GRAFT_ENOMEM,
			  "no memory to load checkpoint %s (%" PRIu64
			  " nodes, %" PRIu64 " relationships)",
			  l->r.path, l->h.nodes, l->h.rels);
}

/* The graph fails only for want of memory once its preconditions hold. */
static int graph_rv(struct loader *l, int rv)
{
	return rv == GRAFT_OK ? GRAFT_OK : no_memory(l);
}

static const char *const kind_names[GRAPH_TOKEN_KINDS] = {
	[GRAPH_TOKEN_LABEL] = "label",
	[GRAPH_TOKEN_RELTYPE] = "relationship type",
	[GRAPH_TOKEN_PROPKEY] = "property key",
};

static int get_token(struct loader *l, enum graph_token_kind kind,
		     uint32_t *out)
{
	uint64_t v;
	int rv = ckp_get_varint(&l->r, &v);

	if (rv != GRAFT_OK)
		return rv;
	if (v >= l->tokens[kind])
		return ckp_corrupt(&l->r, "%s token %" PRIu64 " does not exist "
				   "(there are %" PRIu32 ")", kind_names[kind],
				   v, l->tokens[kind]);
	*out = (uint32_t)v;
	return GRAFT_OK;
}

static int load_tokens(struct loader *l)
{
	int rv = ckp_reader_section(&l->r, CKP_SECTION_TOKENS);

	for (int kind = 0; kind < GRAPH_TOKEN_KINDS && rv == GRAFT_OK; kind++) {
		uint64_t n, len;
		rv = ckp_get_varint(&l->r, &n);
		if (rv == GRAFT_OK && n >= GRAPH_NO_TOKEN)
			rv = ckp_corrupt(&l->r, "%" PRIu64 " %s tokens are too "
					 "many", n, kind_names[kind]);
		for (uint64_t i = 0; i < n && rv == GRAFT_OK; i++) {
			const uint8_t *name;
			uint32_t tok;
			rv = ckp_get_varint(&l->r, &len);
			if (rv == GRAFT_OK)
				rv = ckp_get_bytes(&l->r, len, &name);
			if (rv != GRAFT_OK)
				break;
			rv = graph_token_intern(l->g, kind, (const char *)name,
						len, &tok);
			if (rv == GRAFT_ENOMEM)
				rv = no_memory(l);
			else if (rv != GRAFT_OK || tok != i)
				rv = ckp_corrupt(&l->r, "%s name '%.*s' is "
						 "invalid or repeated",
						 kind_names[kind],
						 (int)(len > 64 ? 64 : len),
						 (const char *)name);
		}
		l->tokens[kind] = (uint32_t)n;
	}
	return rv;
}

static int load_indexes(struct loader *l)
{
	uint64_t n;
	int rv = ckp_reader_section(&l->r, CKP_SECTION_INDEXES);

	if (rv == GRAFT_OK)
		rv = ckp_get_varint(&l->r, &n);
	if (rv != GRAFT_OK)
		return rv;
	/* Each definition takes at least two bytes of what is left. */
	if (n > (l->r.len - l->r.pos + l->r.size - l->r.next) / 2)
		return ckp_corrupt(&l->r, "%" PRIu64 " indexes cannot fit in "
				   "the file", n);
	l->indexes = calloc(n ? n : 1, sizeof *l->indexes);
	if (l->indexes == NULL)
		return no_memory(l);
	for (uint64_t i = 0; i < n; i++) {
		uint32_t *pair = l->indexes[i];
		rv = get_token(l, GRAPH_TOKEN_LABEL, &pair[0]);
		if (rv == GRAFT_OK)
			rv = get_token(l, GRAPH_TOKEN_PROPKEY, &pair[1]);
		if (rv != GRAFT_OK)
			return rv;
		for (uint64_t j = 0; j < i; j++)
			if (l->indexes[j][0] == pair[0] &&
			    l->indexes[j][1] == pair[1])
				return ckp_corrupt(&l->r, "index %" PRIu64
						   " is defined twice", i);
		l->n_indexes++;
	}
	return GRAFT_OK;
}

/* Properties of a node (rel false) or relationship, set with version. */
static int load_props(struct loader *l, bool rel, uint64_t id,
		      uint64_t version)
{
	const char *what = rel ? "relationship" : "node";
	uint64_t n, len;
	uint32_t key = 0, prev = 0;
	int rv = ckp_get_varint(&l->r, &n);

	/* every key is distinct (checked below), and a token */
	if (rv == GRAFT_OK && n > l->tokens[GRAPH_TOKEN_PROPKEY])
		return ckp_corrupt(&l->r, "%s %" PRIu64 " has %" PRIu64
				   " properties; there are %" PRIu32 " keys",
				   what, id, n, l->tokens[GRAPH_TOKEN_PROPKEY]);
	if (rv == GRAFT_OK && n > 1)
		rv = graph_rv(l, rel ? graph_rel_reserve_props(l->g, id,
							       (uint32_t)n)
				     : graph_node_reserve_props(l->g, id,
								(uint32_t)n));
	for (uint64_t i = 0; i < n && rv == GRAFT_OK; i++) {
		char msg[GRAFT_ERRMSG_SIZE];
		struct graft_value v;
		const uint8_t *p;
		size_t used;

		rv = get_token(l, GRAPH_TOKEN_PROPKEY, &key);
		if (rv == GRAFT_OK && i > 0 && key <= prev)
			rv = ckp_corrupt(&l->r, "%s %" PRIu64 " has property "
					 "keys out of order", what, id);
		if (rv == GRAFT_OK)
			rv = ckp_get_varint(&l->r, &len);
		if (rv == GRAFT_OK)
			rv = ckp_get_bytes(&l->r, len, &p);
		if (rv != GRAFT_OK)
			break;
		rv = txrec_decode_value(p, len, &used, &v, msg);
		if (rv == GRAFT_ENOMEM)
			return no_memory(l);
		if (rv != GRAFT_OK)
			return ckp_corrupt(&l->r, "property %" PRIu32 " of %s %"
					   PRIu64 ": %s", key, what, id, msg);
		if (used != len || v.type == GRAFT_VALUE_NULL) {
			graft_value_free(&v);
			return ckp_corrupt(&l->r, "property %" PRIu32 " of %s %"
					   PRIu64 " is malformed or null", key,
					   what, id);
		}
		/* the decoded value goes in as it is: no copy to make and
		 * free (allocations are most of a load's time) */
		if (rel)
			rv = graph_rel_take_prop(l->g, id, key, &v, version);
		else
			rv = graph_node_take_prop(l->g, id, key, &v, version);
		graft_value_free(&v); /* null once taken */
		rv = graph_rv(l, rv);
		prev = key;
	}
	return rv;
}

/* The id gap and version that start every record; *expect is one past the
 * previous record's id and limit the header's next id. */
static int get_head(struct loader *l, uint64_t *expect, uint64_t limit,
		    uint64_t *id, uint64_t *version)
{
	uint64_t gap;
	int rv = ckp_get_varint(&l->r, &gap);

	if (rv == GRAFT_OK)
		rv = ckp_get_varint(&l->r, version);
	if (rv != GRAFT_OK)
		return rv;
	if (gap >= limit - *expect)
		return ckp_corrupt(&l->r, "id %" PRIu64 " + %" PRIu64 " is not "
				   "below the header's next id %" PRIu64,
				   *expect, gap, limit);
	*id = *expect + gap;
	*expect = *id + 1;
	return GRAFT_OK;
}

static int load_node(struct loader *l, uint8_t tag, uint64_t *expect)
{
	uint64_t id, version, n;
	uint32_t label = 0, prev = 0;
	int rv = get_head(l, expect, l->h.next_node, &id, &version);

	if (rv == GRAFT_OK)
		rv = graph_rv(l, graph_node_create(l->g, id, version));
	if (rv != GRAFT_OK)
		return rv;
	if (l->anchor == GRAPH_NO_ID) {
		l->anchor = id;
		l->anchor_version = version;
		l->anchor_deleted = tag == CKP_TAG_DELETED;
	}
	if (tag == CKP_TAG_DELETED && l->anchor == id)
		return GRAFT_OK;
	if (tag == CKP_TAG_DELETED)
		return graph_rv(l, graph_node_delete(l->g, id, version));
	rv = ckp_get_varint(&l->r, &n);
	for (uint64_t i = 0; i < n && rv == GRAFT_OK; i++) {
		rv = get_token(l, GRAPH_TOKEN_LABEL, &label);
		if (rv == GRAFT_OK && i > 0 && label <= prev)
			rv = ckp_corrupt(&l->r, "node %" PRIu64 " has labels "
					 "out of order", id);
		if (rv == GRAFT_OK)
			rv = graph_rv(l, graph_node_add_label(l->g, id, label,
							      version));
		prev = label;
	}
	return rv == GRAFT_OK ? load_props(l, false, id, version) : rv;
}

static int get_end(struct loader *l, uint64_t id, uint64_t *node)
{
	int rv = ckp_get_varint(&l->r, node);

	if (rv != GRAFT_OK)
		return rv;
	if (*node >= l->h.next_node || !graph_node_exists(l->g, *node) ||
	    (l->anchor_deleted && *node == l->anchor))
		return ckp_corrupt(&l->r, "relationship %" PRIu64 " ends at "
				   "node %" PRIu64 ", which does not exist",
				   id, *node);
	return GRAFT_OK;
}

static int load_rel(struct loader *l, uint8_t tag, uint64_t *expect)
{
	uint64_t id, version, src, dst;
	uint32_t type = 0;
	int rv = get_head(l, expect, l->h.next_rel, &id, &version);

	if (rv != GRAFT_OK)
		return rv;
	if (tag == CKP_TAG_DELETED) {
		if (l->anchor == GRAPH_NO_ID ||
		    l->tokens[GRAPH_TOKEN_RELTYPE] == 0)
			return ckp_corrupt(&l->r, "deleted relationship %"
					   PRIu64 " in a graph that never had "
					   "nodes or types", id);
		rv = graph_rv(l, graph_rel_create(l->g, id, 0, l->anchor,
						  l->anchor, version));
		return rv == GRAFT_OK ? graph_rv(l, graph_rel_delete(l->g, id,
								      version))
				      : rv;
	}
	rv = get_token(l, GRAPH_TOKEN_RELTYPE, &type);
	if (rv == GRAFT_OK)
		rv = get_end(l, id, &src);
	if (rv == GRAFT_OK)
		rv = get_end(l, id, &dst);
	if (rv == GRAFT_OK)
		rv = graph_rv(l, graph_rel_create(l->g, id, type, src, dst,
						  version));
	return rv == GRAFT_OK ? load_props(l, true, id, version) : rv;
}

/* Reads the records of the nodes (rels false) or relationships section. */
static int load_records(struct loader *l, bool rels)
{
	uint64_t expect = 0, live = 0, want = rels ? l->h.rels : l->h.nodes;
	uint8_t tag;
	int rv = ckp_reader_section(&l->r, rels ? CKP_SECTION_RELS
						: CKP_SECTION_NODES);

	while (rv == GRAFT_OK) {
		rv = ckp_get_u8(&l->r, &tag);
		if (rv != GRAFT_OK || tag == CKP_TAG_END)
			break;
		if (tag != CKP_TAG_LIVE && tag != CKP_TAG_DELETED)
			return ckp_corrupt(&l->r, "unknown record tag %u", tag);
		live += tag == CKP_TAG_LIVE;
		rv = rels ? load_rel(l, tag, &expect)
			  : load_node(l, tag, &expect);
	}
	if (rv == GRAFT_OK && live != want)
		rv = ckp_corrupt(&l->r, "%" PRIu64 " %s where the header "
				 "promises %" PRIu64, live,
				 rels ? "relationships" : "nodes", want);
	return rv;
}

static int load_all(struct loader *l, uint64_t *txid)
{
	int rv = ckp_reader_header(&l->r, &l->h);

	if (rv == GRAFT_OK)
		rv = load_tokens(l);
	if (rv == GRAFT_OK)
		rv = load_indexes(l);
	if (rv == GRAFT_OK)
		rv = load_records(l, false);
	if (rv == GRAFT_OK)
		rv = load_records(l, true);
	if (rv == GRAFT_OK && l->anchor_deleted)
		rv = graph_rv(l, graph_node_delete(l->g, l->anchor,
						   l->anchor_version));
	if (rv == GRAFT_OK)
		rv = ckp_reader_finish(&l->r);
	if (rv != GRAFT_OK)
		return rv;
	graph_reserve_ids(l->g, l->h.next_node, l->h.next_rel);
	for (size_t i = 0; i < l->n_indexes && rv == GRAFT_OK; i++)
		rv = graph_rv(l, graph_index_create(l->g, l->indexes[i][0],
						    l->indexes[i][1]));
	*txid = l->h.txid;
	return rv;
}

static bool graph_is_empty(const struct graph *g)
{
	for (int kind = 0; kind < GRAPH_TOKEN_KINDS; kind++)
		if (graph_token_count(g, kind) != 0)
			return false;
	return graph_next_node_id(g) == 0 && graph_next_rel_id(g) == 0;
}

/* Opens path for reading as a checkpoint into r (and *fd). */
static int open_reader(const char *path, struct ckp_reader *r, int *fd,
		       char *errmsg)
{
	struct stat st;
	int rv;

	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0)
		return graft_errf(errmsg, graft_err_from_errno(errno),
				  "cannot open checkpoint %s: %s", path,
				  strerror(errno));
	if (fstat(*fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rv = graft_errf(errmsg, GRAFT_EINVAL, "checkpoint %s is not a "
				"readable regular file", path);
		goto err_after_open;
	}
	rv = ckp_reader_init(r, *fd, path, errmsg);
	if (rv != GRAFT_OK)
		goto err_after_open;
	r->size = (uint64_t)st.st_size;
	return GRAFT_OK;

err_after_open:
	close(*fd);
	return rv;
}

int checkpoint_load_file(const char *path, struct graph *g, uint64_t *txid,
			 char *errmsg)
{
	struct loader l = {.g = g, .anchor = GRAPH_NO_ID};
	int fd, rv;

	if (!graph_is_empty(g))
		return graft_errf(errmsg, GRAFT_EINVAL,
				  "checkpoint %s can only be loaded into an "
				  "empty graph", path);
	rv = open_reader(path, &l.r, &fd, errmsg);
	if (rv != GRAFT_OK)
		return rv;
	rv = load_all(&l, txid);
	free(l.indexes);
	ckp_reader_free(&l.r);
	close(fd);
	return rv;
}

int checkpoint_raft_index(const char *dir, uint64_t txid, uint64_t *out,
			  char *errmsg)
{
	struct ckp_reader r;
	struct ckp_header h;
	char path[4096];
	int fd, rv;

	if (checkpoint_path(path, sizeof path, dir, txid) != GRAFT_OK)
		return graft_errf(errmsg, GRAFT_EINVAL, "checkpoint directory "
				  "path %s is too long", dir);
	rv = open_reader(path, &r, &fd, errmsg);
	if (rv != GRAFT_OK)
		return rv;
	rv = ckp_reader_header(&r, &h);
	if (rv == GRAFT_OK)
		*out = h.raft_index;
	ckp_reader_free(&r);
	close(fd);
	return rv;
}
