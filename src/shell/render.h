/* Renders PackStream values received from a server as graft-shell shows
 * them, in cypher-shell's notation: 1, 1.5, "text", TRUE, NULL, [1, 2],
 * {a: 1}, (:Person {name: "Ann"}), [:KNOWS {since: 1999}],
 * (:A)-[:T]->(:B), 2024-05-01, 12:00:00Z, P1DT2H, point({srid:7203, x:1.0,
 * y:2.0}). Works on the bytes directly (no graph needed for entities);
 * every length is checked against the input, nesting is bounded. */
#ifndef GRAFT_SHELL_RENDER_H
#define GRAFT_SHELL_RENDER_H

#include <stddef.h>
#include <stdint.h>

#include "../util/buf.h"

struct render_in {
	const uint8_t *p; /* borrowed */
	size_t len;
	size_t pos;
};

/* Reads a list header (the RECORD's field list); GRAFT_ECORRUPT if the
 * next item is not a list. */
int render_list_header(struct render_in *in, size_t *n);
/* Reads a structure header; GRAFT_ECORRUPT if the next item is not one. */
int render_struct_header(struct render_in *in, size_t *fields, uint8_t *tag);
/* Appends the next value's text to out (not NUL-terminated). GRAFT_OK,
 * GRAFT_ENOMEM or GRAFT_ECORRUPT (truncated or unknown input). */
int render_value(struct render_in *in, struct graft_buf *out);

#endif
