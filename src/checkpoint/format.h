/* Private to the checkpoint layer: the pieces of the file format shared by
 * the writer (save.c) and the loader (load.c): constants, the header, and
 * the block framing in both directions. The format is described at the top
 * of format.c. */
#ifndef GRAFT_CHECKPOINT_FORMAT_H
#define GRAFT_CHECKPOINT_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "../util/buf.h"

#define CKP_MAGIC "GRAFTCKP"
#define CKP_FORMAT_VERSION 2
#define CKP_FORMAT_VERSION_NO_RAFT_INDEX 1
#define CKP_HEADER_SIZE 64
#define CKP_HEADER_SIZE_V1 56
#define CKP_BLOCK_HEADER_SIZE 12
#define CKP_BLOCK_MAX (64 * 1024)
#define CKP_TRAILER_SIZE 20
/* A LEB128 encoding of a uint64_t takes at most ten bytes. */
#define CKP_VARINT_MAX 10

enum ckp_section {
	CKP_SECTION_TOKENS = 1,
	CKP_SECTION_INDEXES,
	CKP_SECTION_NODES,
	CKP_SECTION_RELS,
	CKP_SECTION_TRAILER,
};

/* The first byte of each node and relationship record. */
enum ckp_tag {
	CKP_TAG_END = 0,     /* no more records in this section */
	CKP_TAG_LIVE = 1,    /* an entity */
	CKP_TAG_DELETED = 2, /* a deleted id whose version survives it */
};

struct ckp_header {
	uint64_t txid;
	uint64_t next_node;
	uint64_t next_rel;
	uint64_t nodes; /* live */
	uint64_t rels;  /* live */
	uint64_t raft_index; /* version 2; 0 in version 1 */
};

void ckp_header_encode(const struct ckp_header *h,
		       uint8_t out[CKP_HEADER_SIZE]);

/* Cuts a byte stream into checksummed blocks and writes them to fd.
 * Errors are sticky, like stdio's: the put functions do nothing once one
 * has failed, and the caller checks rv (GRAFT_OK, GRAFT_EIO, GRAFT_ENOSPC,
 * GRAFT_ENOMEM) between records and at the end. */
struct ckp_writer {
	int fd;
	int rv;
	char *errmsg;
	uint8_t *block; /* owned: block header room + CKP_BLOCK_MAX */
	size_t len;     /* payload bytes in block */
	uint32_t section;
	uint64_t off;    /* bytes written to fd */
	uint64_t blocks; /* blocks written */
	uint32_t crc;    /* CRC32C of the bytes written */
	uint64_t started; /* write-behind: written back from here on ... */
	uint64_t waited;  /* ... and durable-ish before here (format.c) */
};

int ckp_writer_init(struct ckp_writer *w, int fd, char *errmsg);
void ckp_writer_free(struct ckp_writer *w);
/* Writes bytes outside any block (the file header). */
void ckp_writer_raw(struct ckp_writer *w, const void *p, size_t n);
/* Ends the current section's last block; later bytes belong to section. */
void ckp_writer_section(struct ckp_writer *w, enum ckp_section section);
void ckp_writer_put(struct ckp_writer *w, const void *p, size_t n);
void ckp_writer_varint(struct ckp_writer *w, uint64_t v);
/* Flushes the last block and writes the trailer. Returns w->rv. */
int ckp_writer_finish(struct ckp_writer *w);

/* Reads the blocks of an untrusted file back as one byte stream per
 * section, verifying each block's checksum and bounds before any of its
 * bytes is handed out. Every failure is GRAFT_ECORRUPT (or GRAFT_EIO,
 * GRAFT_ENOMEM) with errmsg naming the file and the byte offset. */
struct ckp_reader {
	int fd;
	const char *path; /* borrowed */
	char *errmsg;
	uint64_t size;    /* of the file */
	uint64_t next;    /* offset of the next block */
	uint64_t blk_off; /* offset of the current block */
	uint8_t *block;   /* owned: CKP_BLOCK_MAX */
	size_t len, pos;  /* of the current block's payload */
	uint32_t section; /* the one being read */
	uint64_t blocks;  /* blocks read */
	uint32_t crc;     /* CRC32C of all bytes read */
	struct graft_buf scratch; /* owned: a value that spans blocks */
};

int ckp_reader_init(struct ckp_reader *r, int fd, const char *path,
		    char *errmsg);
void ckp_reader_free(struct ckp_reader *r);
/* Reads and checks the file header. */
int ckp_reader_header(struct ckp_reader *r, struct ckp_header *h);
/* Starts reading section; the previous one must have been read exactly. */
int ckp_reader_section(struct ckp_reader *r, enum ckp_section section);
int ckp_get_u8(struct ckp_reader *r, uint8_t *out);
int ckp_get_varint(struct ckp_reader *r, uint64_t *out);
/* n contiguous bytes, valid until the next get; n is checked against what
 * is left of the file before anything is allocated. */
int ckp_get_bytes(struct ckp_reader *r, uint64_t n, const uint8_t **out);
/* Reads the trailer and checks it against everything read before it and
 * that it ends the file. */
int ckp_reader_finish(struct ckp_reader *r);
/* GRAFT_ECORRUPT with a message naming the file and the current offset. */
int ckp_corrupt(struct ckp_reader *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
