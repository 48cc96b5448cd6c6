/* Transaction records: what a committed transaction is on the wire and on
 * disk. A record names its database, the versions of the entities it read
 * (for optimistic validation at apply) and its physical changes, with
 * labels, types and keys as names so that any member can apply it.
 * Encoded with msgpack; decoding untrusted bytes never crashes. */
#ifndef GRAFT_TXREC_TXREC_H
#define GRAFT_TXREC_TXREC_H

#include <stddef.h>
#include <stdint.h>

#include "../util/buf.h"
#include "../util/value.h"

#define TXREC_FORMAT_VERSION 1
/* Lists and maps nest at most this deep inside a value, on both sides. */
#define TXREC_MAX_DEPTH 32

enum txrec_op_type {
	TXREC_NODE_CREATE = 1,  /* id */
	TXREC_NODE_DELETE,      /* id */
	TXREC_NODE_ADD_LABEL,   /* id, name = label */
	TXREC_NODE_REMOVE_LABEL, /* id, name = label */
	TXREC_NODE_SET_PROP,    /* id, name = key, value (null removes) */
	TXREC_REL_CREATE,       /* id, name = type, src, dst */
	TXREC_REL_DELETE,       /* id */
	TXREC_REL_SET_PROP,     /* id, name = key, value (null removes) */
	TXREC_INDEX_CREATE,     /* name = label, name2 = key */
	TXREC_INDEX_DROP,       /* name = label, name2 = key */
	TXREC_OP_MAX = TXREC_INDEX_DROP
};

enum txrec_entity { TXREC_ENTITY_NODE = 0, TXREC_ENTITY_REL = 1 };

struct txrec_read {
	uint8_t entity; /* enum txrec_entity */
	uint64_t id;
	uint64_t version; /* as the transaction saw it; 0 = did not exist */
};

/* txrec_op.borrowed: which names the record's pool owns (txrec_name). */
#define TXREC_BORROWED_NAME 1u
#define TXREC_BORROWED_NAME2 2u

struct txrec_op {
	uint8_t type; /* enum txrec_op_type */
	uint8_t borrowed; /* TXREC_BORROWED_*; 0: the op owns its names */
	uint64_t id;
	uint64_t src, dst;
	struct graft_str *name;  /* owned, or NULL */
	struct graft_str *name2; /* owned, or NULL */
	struct graft_value value; /* owned */
};

struct txrec {
	struct graft_str *db;   /* owned: database name */
	int64_t commit_time_ms; /* committing member's wall clock (UTC) */
	size_t n_reads, cap_reads;
	struct txrec_read *reads; /* owned */
	size_t n_ops, cap_ops;
	struct txrec_op *ops; /* owned */
	/* Names ops borrow: one allocation per label or key, not per op (a
	 * load of a million nodes made four million). */
	size_t n_names, cap_names;
	struct graft_str **names; /* owned */
};

void txrec_init(struct txrec *r);
void txrec_free(struct txrec *r); /* releases everything; r is then empty */
/* GRAFT_OK or GRAFT_ENOMEM. */
int txrec_add_read(struct txrec *r, enum txrec_entity entity, uint64_t id,
		   uint64_t version);
/* Ownership of op's name, name2 and value passes to r on success only.
 * GRAFT_OK, GRAFT_ENOMEM, or GRAFT_EINVAL when op's type is unknown or it
 * lacks a name its type needs (see enum txrec_op_type). */
int txrec_add_op(struct txrec *r, struct txrec_op *op);
/* A copy of the len bytes at s that r owns, for ops of r to borrow (with
 * TXREC_BORROWED_*): the caller reuses it for every op of that name. NULL
 * when out of memory. */
struct graft_str *txrec_name(struct txrec *r, const char *s, size_t len);

/* Appends the encoding of r to out. GRAFT_OK or GRAFT_ENOMEM; GRAFT_EINVAL
 * for a malformed record (no db, an op lacking a field its type needs) and
 * GRAFT_ETOOBIG for a value nested deeper than TXREC_MAX_DEPTH, which could
 * not be decoded. On error out is as it was. */
int txrec_encode(const struct txrec *r, struct graft_buf *out);
/* Decodes n bytes into r (initialised by this call). GRAFT_OK, GRAFT_ENOMEM,
 * or GRAFT_ECORRUPT with errmsg saying what is wrong. */
int txrec_decode(const void *p, size_t n, struct txrec *r, char *errmsg);

/* Extension type codes of the extended values: TXREC_EXT_BASE + (type -
 * GRAFT_VALUE_DATE) for DATE .. POINT. */
#define TXREC_EXT_BASE 1

/* One value in the same msgpack encoding, for other formats (checkpoints).
 * Errors as txrec_encode. */
int txrec_encode_value(struct graft_buf *out, const struct graft_value *v);
/* Decodes one value from the start of p; *used gets its length. GRAFT_OK,
 * GRAFT_ENOMEM or GRAFT_ECORRUPT with errmsg; on error *out is null. */
int txrec_decode_value(const void *p, size_t n, size_t *used,
		       struct graft_value *out, char *errmsg);

#endif
