/* Bolt's framing below the messages: the version handshake and chunking.
 * Pure functions over byte buffers, so they are tested without sockets.
 *
 * Handshake: the client sends the magic 60 60 B0 17 and four proposals
 * [0, range, minor, major]; the server answers [0, 0, minor, major] with the
 * first proposal (in client order) that covers a version it speaks, the
 * highest inside that proposal, or four zero bytes and closes. The manifest
 * proposal (major 0xFF) is declined by not matching, which makes drivers
 * use their other proposals.
 *
 * Chunking: a message travels as chunks of [u16 big-endian size][data],
 * ended by a zero-size chunk; a zero-size chunk between messages is a NOOP
 * (keep-alive). */
#ifndef GRAFT_BOLT_WIRE_H
#define GRAFT_BOLT_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../util/buf.h"

#define BOLT_MAGIC 0x6060B017u
#define BOLT_HANDSHAKE_SIZE 20
#define BOLT_CHUNK_MAX 0xFFFF

/* A protocol version as a number: major << 8 | minor (5.4 is 0x0504). */
#define BOLT_VERSION(major, minor) ((uint32_t)(major) << 8 | (minor))
#define BOLT_MAJOR(v) ((v) >> 8)
#define BOLT_MINOR(v) ((v) & 0xFF)

/* Chooses the version for a 20-byte handshake. Returns the version, or 0
 * if none is acceptable or the magic is wrong. reply gets the 4 bytes to
 * send (zeros when 0 is returned). */
uint32_t bolt_handshake(const uint8_t in[BOLT_HANDSHAKE_SIZE], uint8_t reply[4]);

/* Reassembles messages from chunks. A message larger than max is not kept:
 * its chunks are skipped and it completes with too_big set, so the session
 * can answer FAILURE and carry on. */
struct bolt_dechunker {
	struct graft_buf msg; /* the message being assembled; owned */
	size_t max;           /* largest message kept, bytes */
	uint32_t left;        /* data bytes left in the current chunk */
	uint8_t header[2];
	uint8_t have;         /* header bytes read */
	bool in_message;      /* a non-empty chunk of this message was read */
	bool too_big;         /* the current message went past max */
};

void bolt_dechunker_init(struct bolt_dechunker *d, size_t max);
void bolt_dechunker_free(struct bolt_dechunker *d);
/* Consumes bytes of p (n long) until a message completes or p runs out;
 * *used says how many. *complete is set when d->msg (and d->too_big) hold
 * a whole message; call bolt_dechunker_next before the next feed. NOOPs
 * are skipped. GRAFT_OK or GRAFT_ENOMEM. */
int bolt_dechunk(struct bolt_dechunker *d, const uint8_t *p, size_t n,
		 size_t *used, bool *complete);
/* Forgets the completed message (and frees a large buffer). */
void bolt_dechunker_next(struct bolt_dechunker *d);
/* Whether part of a message has arrived (for timeouts). */
bool bolt_dechunker_busy(const struct bolt_dechunker *d);

/* Whether the chunked input p (n bytes, starting at a message boundary)
 * holds a whole RESET message (B0 0F) among its complete messages: the
 * jump-ahead check made while a request blocks. */
bool bolt_chunks_hold_reset(const uint8_t *p, size_t n);

/* Writing: bolt_chunk_begin marks where a message starts in out; the
 * caller appends the message bytes; bolt_chunk_end frames them in place
 * (chunk headers, splitting at BOLT_CHUNK_MAX, the end marker). */
int bolt_chunk_begin(struct graft_buf *out, size_t *start);
int bolt_chunk_end(struct graft_buf *out, size_t start);
/* Appends a NOOP (a lone end marker). */
int bolt_chunk_noop(struct graft_buf *out);

#endif
