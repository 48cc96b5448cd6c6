/* The backup stream: what a backup server sends and what an artifact holds
 * (compressed or not) — an optional store copy (the bytes of one checkpoint
 * file) followed by transactions in id order and an end mark. One push
 * parser reads it wherever it appears (client, verifier, restore), checking
 * that the transactions are exactly the range the header promised.
 *
 *   'C' u64 length, checkpoint bytes        (at most once, first)
 *   'T' u64 txid, u32 length, record bytes  (txids contiguous)
 *   'E' u64 number of transactions          (last; nothing follows)
 *
 * Integers little-endian. */
#ifndef GRAFT_BACKUP_STREAM_H
#define GRAFT_BACKUP_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../util/buf.h"

#define BACKUP_STREAM_CKPT 'C'
#define BACKUP_STREAM_TX 'T'
#define BACKUP_STREAM_END 'E'

/* Appends an item's head (the bytes before its payload) to b. */
int backup_stream_put_ckpt_head(struct graft_buf *b, uint64_t len);
int backup_stream_put_tx(struct graft_buf *b, uint64_t txid, const void *rec,
			 uint32_t len);
int backup_stream_put_end(struct graft_buf *b, uint64_t n_tx);

/* Callbacks, each may be NULL; a non-OK return stops the parse with it. */
struct backup_stream_cbs {
	void *data;
	/* A piece of the checkpoint file, in order. */
	int (*ckpt)(void *data, const void *p, size_t n, char *errmsg);
	/* One whole record (valid only during the call). */
	int (*tx)(void *data, uint64_t txid, const void *rec, size_t len,
		  char *errmsg);
};

struct backup_stream_parser {
	struct backup_stream_cbs cbs;
	bool allow_ckpt;   /* a store copy may come first */
	uint64_t first;    /* expected first txid */
	uint64_t last;     /* expected last txid (first - 1: none) */
	uint64_t next;     /* txid expected next */
	uint64_t n_tx;
	uint64_t ckpt_bytes;
	bool has_ckpt;
	bool done;         /* end mark seen */
	/* private */
	int state;
	uint8_t head[16];
	size_t head_len, head_need;
	uint64_t remain;
	struct graft_buf rec;
};

void backup_stream_parser_init(struct backup_stream_parser *p,
			       bool allow_ckpt, uint64_t first, uint64_t last,
			       const struct backup_stream_cbs *cbs);
void backup_stream_parser_free(struct backup_stream_parser *p);
/* Feeds n bytes. GRAFT_ECORRUPT with errmsg for a malformed stream, a gap
 * or a transaction outside [first, last], bytes after the end mark; or what
 * a callback returned. */
int backup_stream_parse(struct backup_stream_parser *p, const void *data,
			size_t n, char *errmsg);
/* After the last byte: GRAFT_ECORRUPT unless the end mark was seen and the
 * transactions ran exactly from first to last. */
int backup_stream_parse_end(struct backup_stream_parser *p, char *errmsg);

#endif
