/* PackStream v1, the value encoding of the Bolt protocol: an encoder that
 * appends to graft buffers and a bounded decoder that turns untrusted bytes
 * into graft values. Every size the decoder allocates is checked against the
 * bytes still unread, and nesting is limited, so hostile input costs at most
 * a small multiple of its own length. Structures that are values (temporal,
 * duration, point) are handled here; nodes, relationships and paths need the
 * graph and are encoded through a caller's hook. */
#ifndef GRAFT_PACK_PACK_H
#define GRAFT_PACK_PACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../util/buf.h"
#include "../util/value.h"

/* Deepest nesting of lists, maps and structures the decoder accepts. */
#define PACK_MAX_DEPTH 64

/* Structure tags (the byte after a structure marker). */
enum pack_tag {
	PACK_TAG_NODE = 'N',
	PACK_TAG_REL = 'R',
	PACK_TAG_UNBOUND_REL = 'r',
	PACK_TAG_PATH = 'P',
	PACK_TAG_DATE = 'D',
	PACK_TAG_TIME = 'T',
	PACK_TAG_LOCALTIME = 't',
	PACK_TAG_DATETIME = 'I',        /* UTC seconds, nanos, offset */
	PACK_TAG_DATETIME_ZONE = 'i',   /* UTC seconds, nanos, zone id */
	PACK_TAG_DATETIME_LEGACY = 'F', /* local seconds, nanos, offset */
	PACK_TAG_DATETIME_ZONE_LEGACY = 'f', /* local seconds, nanos, zone */
	PACK_TAG_LOCALDATETIME = 'd',
	PACK_TAG_DURATION = 'E',
	PACK_TAG_POINT2D = 'X',
	PACK_TAG_POINT3D = 'Y',
};

enum pack_flags {
	/* DateTime travels as 'I'/'i' (Bolt 5, and 4.4 with the "utc" patch);
	 * without it as the legacy 'F'/'f' with local seconds. */
	PACK_UTC_DATETIME = 1u << 0,
};

/* Encoder ------------------------------------------------------------------
 * Each function appends one item to b and returns GRAFT_OK, GRAFT_ENOMEM, or
 * GRAFT_ETOOBIG for a size PackStream cannot express. */
int pack_null(struct graft_buf *b);
int pack_bool(struct graft_buf *b, bool v);
/* The shortest form: tiny int, INT_8, INT_16, INT_32 or INT_64. */
int pack_int(struct graft_buf *b, int64_t v);
int pack_float(struct graft_buf *b, double v);
int pack_string(struct graft_buf *b, const char *s, size_t len);
int pack_cstring(struct graft_buf *b, const char *s);
int pack_bytes(struct graft_buf *b, const void *p, size_t len);
/* Headers: the n items / n key-value pairs / fields follow. */
int pack_list_header(struct graft_buf *b, size_t n);
int pack_map_header(struct graft_buf *b, size_t n);
int pack_struct_header(struct graft_buf *b, unsigned fields, uint8_t tag);

/* Writes a NODE, REL or PATH value (which only the caller can describe). */
typedef int (*pack_entity_fn)(void *arg, struct graft_buf *b,
			      const struct graft_value *v);

struct pack_options {
	unsigned flags;        /* enum pack_flags */
	pack_entity_fn entity; /* NULL: entities are GRAFT_EINVAL */
	void *arg;
};

/* Appends any value, containers recursively. o may be NULL. */
int pack_value(struct graft_buf *b, const struct graft_value *v,
	       const struct pack_options *o);

/* Decoder ---------------------------------------------------------------- */

struct pack_reader {
	const uint8_t *p; /* borrowed */
	size_t len;
	size_t pos;
};

/* Both DateTime variants are accepted whatever was negotiated. A zone id's
 * offset is not on the wire: it is read as 0 (and a legacy 'f' value's
 * local seconds as UTC); the caller resolves zones (Bolt: params.c). */
void pack_reader_init(struct pack_reader *r, const void *p, size_t len);
/* Reads one value into out (owned by the caller on success; null on error).
 * Errors, with errmsg naming the offset and what was wrong: GRAFT_ECORRUPT
 * (truncated input, unknown marker, a map key that is not a string, a
 * structure with the wrong number or type of fields), GRAFT_EINVAL (a
 * structure that cannot be a value here: nodes, relationships, paths and
 * unknown tags), GRAFT_ETOOBIG (nesting deeper than PACK_MAX_DEPTH),
 * GRAFT_ENOMEM. */
int pack_read_value(struct pack_reader *r, struct graft_value *out,
		    char *errmsg);
/* Reads a structure marker and its tag. GRAFT_ECORRUPT if the next item is
 * not a structure. */
int pack_read_struct_header(struct pack_reader *r, unsigned *fields,
			    uint8_t *tag, char *errmsg);

#endif
