/* The checkpoint file format, version 2, and its block framing.
 *
 * A checkpoint is written front to back in one pass (a child process
 * streams it from its copy-on-write image of the graph), read front to back
 * in one pass, and never changed. Integers in fixed-size fields are
 * little-endian; "v" below is an unsigned LEB128 varint (at most 10 bytes).
 *
 * Header, 64 bytes:
 *    0  magic "GRAFTCKP"
 *    8  u32 format version (2)
 *   12  u64 txid: the graph holds every transaction up to it and no other
 *   20  u64 next node id, 28 u64 next relationship id (one past the highest
 *       ever created, deleted or not; ids are never reused)
 *   36  u64 live nodes, 44 u64 live relationships
 *   52  u64 the Raft index of the last replicated entry the database had
 *       applied (0: none, or unknown; txlog_set_raft_index says when)
 *   60  u32 CRC32C of bytes 0..59
 * Version 1 (still read) had no Raft index: its header is 56 bytes, the
 * CRC32C of bytes 0..51 at 52; the Raft index is then taken as 0.
 *
 * Then blocks, each:
 *    0  u32 payload length n, 1..65536
 *    4  u32 section (1 tokens, 2 indexes, 3 nodes, 4 relationships,
 *       5 trailer), in that order, each present
 *    8  u32 CRC32C of bytes 0..7 of this block followed by the payload
 *   12  payload, n bytes
 * The payloads of a section's blocks form one byte stream; a record may
 * span blocks of its section, never two sections. The writer fills blocks
 * to 64 KiB, so equal graphs give equal bytes.
 *
 * Section streams:
 *   tokens   for labels, relationship types, property keys in turn:
 *            v count, then count names in token-id order (v length, bytes)
 *   indexes  v count, then (v label token, v property-key token) in
 *            creation order
 *   nodes    records in ascending id order, each starting with a tag byte:
 *            0 end of section;
 *            1 node: v id gap, v version, v label count, v labels
 *              (ascending), v property count, properties (ascending key);
 *            2 deleted node: v id gap, v version (the id stays versioned
 *              after a delete, and transaction validation depends on it)
 *            where the id gap is id - (previous record's id + 1), the
 *            first record counting from id 0
 *   rels     like nodes; 1 relationship: v id gap, v version, v type token,
 *            v source node, v destination node, v property count,
 *            properties; 2 deleted relationship: v id gap, v version
 *   a property is v key token, v value length, the value in the
 *   transaction records' msgpack encoding (txrec_encode_value)
 *
 * Trailer: one block of section 5 whose 20-byte payload is u64 blocks
 * before it, u64 its own offset (bytes before it), u32 CRC32C of all bytes
 * before it. It ends the file: a file without it was cut short. */
#include <config.h>

#include "format.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/crc32c.h"
#include "../util/err.h"
#include "../util/fs.h"

static const char *const section_names[] = {
	[CKP_SECTION_TOKENS] = "tokens",
	[CKP_SECTION_INDEXES] = "indexes",
	[CKP_SECTION_NODES] = "nodes",
	[CKP_SECTION_RELS] = "relationships",
	[CKP_SECTION_TRAILER] = "trailer",
};

void ckp_header_encode(const struct ckp_header *h,
		       uint8_t out[CKP_HEADER_SIZE])
{
	memcpy(out, CKP_MAGIC, 8);
	graft_put_u32le(out + 8, CKP_FORMAT_VERSION);
	graft_put_u64le(out + 12, h->txid);
	graft_put_u64le(out + 20, h->next_node);
	graft_put_u64le(out + 28, h->next_rel);
	graft_put_u64le(out + 36, h->nodes);
	graft_put_u64le(out + 44, h->rels);
	graft_put_u64le(out + 52, h->raft_index);
	graft_put_u32le(out + 60, graft_crc32c(0, out, 60));
}

int ckp_writer_init(struct ckp_writer *w, int fd, char *errmsg)
{
	memset(w, 0, sizeof *w);
	w->fd = fd;
	w->errmsg = errmsg;
	w->block = malloc(CKP_BLOCK_HEADER_SIZE + CKP_BLOCK_MAX);
	if (w->block == NULL)
		return graft_errf(errmsg, GRAFT_ENOMEM,
				  "no memory for a checkpoint write buffer");
	return GRAFT_OK;
}

void ckp_writer_free(struct ckp_writer *w)
{
	free(w->block);
	w->block = NULL;
}

/* Write-behind: every CKP_WRITE_BEHIND bytes the kernel is asked to start
 * writing what was just written and waited for on the window before, so
 * at most twice that of a checkpoint is dirty at a time. On ext4
 * (data=ordered) a journal commit, which the Raft log's fsyncs need,
 * first writes out every dirty data block: a 241 MB checkpoint written
 * to the page cache at once held the leader's commits up to 0.5 s. The
 * calls are advice (a memfd or another file system may ignore them); the
 * final fsync reports what matters. */
#define CKP_WRITE_BEHIND ((uint64_t)8 << 20)

static void write_behind(struct ckp_writer *w)
{
	if (w->off - w->started < CKP_WRITE_BEHIND)
		return;
#ifdef SYNC_FILE_RANGE_WRITE
	if (w->started > w->waited)
		(void)sync_file_range(w->fd, (off_t)w->waited,
				      (off_t)(w->started - w->waited),
				      SYNC_FILE_RANGE_WAIT_BEFORE |
					      SYNC_FILE_RANGE_WRITE |
					      SYNC_FILE_RANGE_WAIT_AFTER);
	(void)sync_file_range(w->fd, (off_t)w->started,
			      (off_t)(w->off - w->started),
			      SYNC_FILE_RANGE_WRITE);
#endif
	w->waited = w->started;
	w->started = w->off;
}

void ckp_writer_raw(struct ckp_writer *w, const void *p, size_t n)
{
	int rv;

	if (w->rv != GRAFT_OK)
		return;
	rv = graft_write_all(w->fd, p, n);
	if (rv != GRAFT_OK) {
		w->rv = graft_errf(w->errmsg, rv,
				   "write failed at byte %" PRIu64 ": %s",
				   w->off, strerror(errno));
		return;
	}
	w->crc = graft_crc32c(w->crc, p, n);
	w->off += n;
	write_behind(w);
}

static void write_block(struct ckp_writer *w, uint8_t *blk, uint32_t section,
			size_t n)
{
	uint32_t crc;

	graft_put_u32le(blk, (uint32_t)n);
	graft_put_u32le(blk + 4, section);
	crc = graft_crc32c(0, blk, 8);
	crc = graft_crc32c(crc, blk + CKP_BLOCK_HEADER_SIZE, n);
	graft_put_u32le(blk + 8, crc);
	ckp_writer_raw(w, blk, CKP_BLOCK_HEADER_SIZE + n);
	w->blocks++;
}

static void flush_block(struct ckp_writer *w)
{
	if (w->len == 0)
		return;
	write_block(w, w->block, w->section, w->len);
	w->len = 0;
}

void ckp_writer_section(struct ckp_writer *w, enum ckp_section section)
{
	flush_block(w);
	w->section = section;
}

void ckp_writer_put(struct ckp_writer *w, const void *p, size_t n)
{
	const uint8_t *c = p;

	while (n > 0 && w->rv == GRAFT_OK) {
		size_t room = CKP_BLOCK_MAX - w->len;
		if (room == 0) {
			flush_block(w);
			continue;
		}
		if (room > n)
			room = n;
		memcpy(w->block + CKP_BLOCK_HEADER_SIZE + w->len, c, room);
		w->len += room;
		c += room;
		n -= room;
	}
}

static size_t encode_varint(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

void ckp_writer_varint(struct ckp_writer *w, uint64_t v)
{
	uint8_t *end = w->block + CKP_BLOCK_HEADER_SIZE + w->len;
	uint8_t tmp[CKP_VARINT_MAX];

	if (CKP_BLOCK_MAX - w->len >= CKP_VARINT_MAX) {
		w->len += encode_varint(end, v);
		return;
	}
	ckp_writer_put(w, tmp, encode_varint(tmp, v));
}

int ckp_writer_finish(struct ckp_writer *w)
{
	uint8_t blk[CKP_BLOCK_HEADER_SIZE + CKP_TRAILER_SIZE];
	uint8_t *t = blk + CKP_BLOCK_HEADER_SIZE;

	flush_block(w);
	graft_put_u64le(t, w->blocks);
	graft_put_u64le(t + 8, w->off);
	graft_put_u32le(t + 16, w->crc);
	write_block(w, blk, CKP_SECTION_TRAILER, CKP_TRAILER_SIZE);
	return w->rv;
}

/* Reader. Offsets in messages are of the file, so that an operator can look
 * at the damage with a hex dump. */

static int corrupt_at(struct ckp_reader *r, uint64_t off, const char *fmt,
		      va_list ap) __attribute__((format(printf, 3, 0)));

static int corrupt_at(struct ckp_reader *r, uint64_t off, const char *fmt,
		      va_list ap)
{
	char what[256];

	vsnprintf(what, sizeof what, fmt, ap);
	return graft_errf(r->errmsg, GRAFT_ECORRUPT,
			  "checkpoint %s is damaged at byte %" PRIu64
			  ": %s; restore the database from a backup or a "
			  "copy of another member's store",
			  r->path, off, what);
}

static int corrupt_block(struct ckp_reader *r, uint64_t off, const char *fmt,
			 ...) __attribute__((format(printf, 3, 4)));

static int corrupt_block(struct ckp_reader *r, uint64_t off, const char *fmt,
			 ...)
{
	va_list ap;
	int rv;

	va_start(ap, fmt);
	rv = corrupt_at(r, off, fmt, ap);
	va_end(ap);
	return rv;
}

static uint64_t reader_offset(const struct ckp_reader *r)
{
	if (r->blocks == 0)
		return r->next;
	return r->blk_off + CKP_BLOCK_HEADER_SIZE + r->pos;
}

int ckp_corrupt(struct ckp_reader *r, const char *fmt, ...)
{
	va_list ap;
	int rv;

	va_start(ap, fmt);
	rv = corrupt_at(r, reader_offset(r), fmt, ap);
	va_end(ap);
	return rv;
}

static int read_at(struct ckp_reader *r, void *p, size_t n, uint64_t off)
{
	int rv = graft_pread_all(r->fd, p, n, (off_t)off);

	if (rv == GRAFT_ECORRUPT)
		return corrupt_block(r, off,
				     "the file shrank while being read");
	if (rv != GRAFT_OK)
		return graft_errf(r->errmsg, rv,
				  "cannot read checkpoint %s at byte %" PRIu64
				  ": %s", r->path, off, strerror(errno));
	return GRAFT_OK;
}

int ckp_reader_init(struct ckp_reader *r, int fd, const char *path,
		    char *errmsg)
{
	memset(r, 0, sizeof *r);
	r->fd = fd;
	r->path = path;
	r->errmsg = errmsg;
	graft_buf_init(&r->scratch);
	r->block = malloc(CKP_BLOCK_MAX);
	if (r->block == NULL)
		return graft_errf(errmsg, GRAFT_ENOMEM,
				  "no memory to read checkpoint %s", path);
	return GRAFT_OK;
}

void ckp_reader_free(struct ckp_reader *r)
{
	free(r->block);
	r->block = NULL;
	graft_buf_free(&r->scratch);
}

int ckp_reader_header(struct ckp_reader *r, struct ckp_header *h)
{
	uint8_t b[CKP_HEADER_SIZE];
	uint32_t version;
	size_t size, crc_at;
	int rv;

	if (r->size < CKP_HEADER_SIZE_V1)
		return corrupt_block(r, r->size,
				     "the file is %" PRIu64 " bytes, too short "
				     "for a checkpoint header (truncated)",
				     r->size);
	rv = read_at(r, b, CKP_HEADER_SIZE_V1, 0);
	if (rv != GRAFT_OK)
		return rv;
	if (memcmp(b, CKP_MAGIC, 8) != 0)
		return corrupt_block(r, 0,
				     "not a graft checkpoint (bad magic)");
	version = graft_get_u32le(b + 8);
	size = version == CKP_FORMAT_VERSION_NO_RAFT_INDEX ? CKP_HEADER_SIZE_V1
							   : CKP_HEADER_SIZE;
	crc_at = size - 4;
	if (size > CKP_HEADER_SIZE_V1 && r->size < size)
		return corrupt_block(r, r->size,
				     "the file is %" PRIu64 " bytes, too short "
				     "for a checkpoint header (truncated)",
				     r->size);
	if (size > CKP_HEADER_SIZE_V1)
		rv = read_at(r, b + CKP_HEADER_SIZE_V1,
			     size - CKP_HEADER_SIZE_V1, CKP_HEADER_SIZE_V1);
	if (rv != GRAFT_OK)
		return rv;
	if (graft_get_u32le(b + crc_at) != graft_crc32c(0, b, crc_at))
		return corrupt_block(r, crc_at, "header checksum mismatch");
	if (version != CKP_FORMAT_VERSION &&
	    version != CKP_FORMAT_VERSION_NO_RAFT_INDEX)
		return corrupt_block(r, 8,
				     "format version %" PRIu32 " is not one "
				     "this graft reads (%d)",
				     version, CKP_FORMAT_VERSION);
	h->txid = graft_get_u64le(b + 12);
	h->next_node = graft_get_u64le(b + 20);
	h->next_rel = graft_get_u64le(b + 28);
	h->nodes = graft_get_u64le(b + 36);
	h->rels = graft_get_u64le(b + 44);
	h->raft_index = size == CKP_HEADER_SIZE ? graft_get_u64le(b + 52) : 0;
	r->crc = graft_crc32c(0, b, size);
	r->next = size;
	return GRAFT_OK;
}

static int fetch_block(struct ckp_reader *r)
{
	uint8_t h[CKP_BLOCK_HEADER_SIZE];
	uint64_t off = r->next;
	uint32_t n, section, crc;
	int rv;

	if (r->size - off < CKP_BLOCK_HEADER_SIZE)
		return corrupt_block(r, off, "the file ends where a block of "
				     "the %s section should start (truncated)",
				     section_names[r->section]);
	rv = read_at(r, h, sizeof h, off);
	if (rv != GRAFT_OK)
		return rv;
	n = graft_get_u32le(h);
	section = graft_get_u32le(h + 4);
	if (n == 0 || n > CKP_BLOCK_MAX)
		return corrupt_block(r, off, "block length %" PRIu32
				     " is out of range", n);
	if (r->size - off - CKP_BLOCK_HEADER_SIZE < n)
		return corrupt_block(r, off, "the file ends inside a block of "
				     "%" PRIu32 " bytes (truncated)", n);
	rv = read_at(r, r->block, n, off + CKP_BLOCK_HEADER_SIZE);
	if (rv != GRAFT_OK)
		return rv;
	crc = graft_crc32c(graft_crc32c(0, h, 8), r->block, n);
	if (crc != graft_get_u32le(h + 8))
		return corrupt_block(r, off, "block checksum mismatch");
	if (section != r->section)
		return corrupt_block(r, off, "a block of section %" PRIu32
				     " where the %s section was expected",
				     section, section_names[r->section]);
	r->crc = graft_crc32c(r->crc, h, sizeof h);
	r->crc = graft_crc32c(r->crc, r->block, n);
	r->blk_off = off;
	r->next = off + CKP_BLOCK_HEADER_SIZE + n;
	r->len = n;
	r->pos = 0;
	r->blocks++;
	return GRAFT_OK;
}

int ckp_reader_section(struct ckp_reader *r, enum ckp_section section)
{
	if (r->pos != r->len)
		return ckp_corrupt(r, "%zu unexpected bytes at the end of the "
				   "%s section", r->len - r->pos,
				   section_names[r->section]);
	r->section = section;
	return fetch_block(r);
}

int ckp_get_u8(struct ckp_reader *r, uint8_t *out)
{
	if (r->pos == r->len) {
		int rv = fetch_block(r);
		if (rv != GRAFT_OK)
			return rv;
	}
	*out = r->block[r->pos++];
	return GRAFT_OK;
}

int ckp_get_varint(struct ckp_reader *r, uint64_t *out)
{
	uint64_t v = 0;

	for (unsigned shift = 0; shift < 64; shift += 7) {
		uint8_t b;
		int rv = ckp_get_u8(r, &b);
		if (rv != GRAFT_OK)
			return rv;
		if (shift == 63 && b > 1)
			return ckp_corrupt(r, "a number overflows 64 bits");
		v |= (uint64_t)(b & 0x7f) << shift;
		if ((b & 0x80) == 0) {
			*out = v;
			return GRAFT_OK;
		}
	}
	return ckp_corrupt(r, "a number overflows 64 bits");
}

int ckp_get_bytes(struct ckp_reader *r, uint64_t n, const uint8_t **out)
{
	int rv;

	if (n > r->size - reader_offset(r))
		return ckp_corrupt(r, "a length of %" PRIu64 " bytes runs past "
				   "the end of the file", n);
	if (r->len - r->pos >= n) {
		*out = r->block + r->pos;
		r->pos += n;
		return GRAFT_OK;
	}
	graft_buf_reset(&r->scratch);
	if (graft_buf_reserve(&r->scratch, n) != GRAFT_OK)
		return graft_errf(r->errmsg, GRAFT_ENOMEM,
				  "no memory for a value of %" PRIu64
				  " bytes in checkpoint %s", n, r->path);
	while (n > 0) {
		size_t take = r->len - r->pos;
		if (take == 0) {
			rv = fetch_block(r);
			if (rv != GRAFT_OK)
				return rv;
			continue;
		}
		if (take > n)
			take = n;
		graft_buf_append(&r->scratch, r->block + r->pos, take);
		r->pos += take;
		n -= take;
	}
	*out = r->scratch.data;
	return GRAFT_OK;
}

int ckp_reader_finish(struct ckp_reader *r)
{
	uint64_t blocks = r->blocks, off = r->next;
	uint32_t crc = r->crc;
	const uint8_t *t = r->block;
	int rv;

	rv = ckp_reader_section(r, CKP_SECTION_TRAILER);
	if (rv != GRAFT_OK)
		return rv;
	if (r->len != CKP_TRAILER_SIZE)
		return corrupt_block(r, off, "the trailer is %zu bytes, not %d",
				     r->len, CKP_TRAILER_SIZE);
	if (graft_get_u64le(t) != blocks || graft_get_u64le(t + 8) != off)
		return corrupt_block(r, off, "the trailer counts %" PRIu64
				     " blocks and %" PRIu64 " bytes before it, "
				     "the file has %" PRIu64 " and %" PRIu64,
				     graft_get_u64le(t), graft_get_u64le(t + 8),
				     blocks, off);
	if (graft_get_u32le(t + 16) != crc)
		return corrupt_block(r, off, "whole-file checksum mismatch");
	if (r->next != r->size)
		return corrupt_block(r, r->next, "%" PRIu64 " unexpected bytes "
				     "after the trailer", r->size - r->next);
	return GRAFT_OK;
}
