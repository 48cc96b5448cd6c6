/* The transaction log's private parts: the on-disk format, the buffered
 * file access shared by open, the reader and the writer, and struct txlog.
 *
 * Segment file txlog.<first txid, 20 digits>:
 *   header (32 bytes): magic "GRAFTTXL", u32 format version, u32 zero,
 *                      u64 first txid, u32 CRC32C of the 24 bytes before,
 *                      u32 zero
 *   frames (version 3, 40-byte frame header):
 *                      u32 payload length, u32 CRC32C of the frame,
 *                      u64 txid, u64 segment offset where the frame's
 *                      group-commit batch ends, u32 the frame's index in
 *                      its batch (txid - the batch's first txid),
 *                      u32 CRC32C of the header, u64 the Raft index
 *                      (txlog_set_raft_index), payload
 *   frames (version 2, 32-byte frame header): version 3's without the
 *                      Raft index
 *   frames (version 1, 16-byte frame header):
 *                      u32 payload length, u32 CRC32C, u64 txid, payload
 * The frame CRC covers everything but itself (bytes 0-3 and 8-end), so a
 * frame whose length field is damaged fails its own check. The header CRC
 * covers header bytes 0-3, 8-27 and 32-39: a frame whose payload is damaged
 * but whose header is whole still says which batch it belongs to. Integers are
 * little-endian. A segment is created as txlog.<id>.tmp with its header,
 * fsynced and renamed, so that a named segment always has a whole header.
 *
 * Why version 2 records batches: one batch is one write and one fdatasync,
 * and a batch is written only after the one before it is durable. So only
 * the last batch of the last segment can be torn by a crash; with each
 * frame naming where its batch began and ends, open can tell a torn last
 * batch (cut off, moved aside) from damage to acknowledged transactions
 * (refused). A batch never spans two segments.
 *
 * Compatibility: version 1 segments (written before batches were recorded)
 * are still read, by the stricter of the old rules: only damage with no
 * valid frame after it is taken for a torn tail; the first append after
 * opening such a log starts a version 2 segment. Version 2 segments
 * (written before frames carried the Raft index) are read likewise, their
 * frames' Raft index taken as 0 (unknown); the first append after opening
 * such a log starts a version 3 segment. */
#ifndef GRAFT_TXLOG_TXLOG_INT_H
#define GRAFT_TXLOG_TXLOG_INT_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "txlog.h"

#define TXLOG_MAGIC "GRAFTTXL"
#define TXLOG_VERSION 3
#define TXLOG_VERSION_NO_RAFT_INDEX 2
#define TXLOG_VERSION_NO_BATCHES 1
#define TXLOG_HEADER_SIZE 32
#define TXLOG_FRAME_HEADER 40
#define TXLOG_FRAME_HEADER_V2 32
#define TXLOG_FRAME_HEADER_V1 16
#define TXLOG_NAME_PREFIX "txlog."
#define TXLOG_NAME_LEN (sizeof TXLOG_NAME_PREFIX - 1 + 20)
#define TXLOG_TMP_SUFFIX ".tmp"
/* Reads of at least this much, so that scanning a big log is a few large
 * reads rather than a system call per frame. */
#define TXLOG_READ_CHUNK (1u << 20)
/* A rotation size of 0 means Neo4j's default, 256M. */
#define TXLOG_DEFAULT_ROTATION (256ull << 20)

/* Header ---------------------------------------------------------------- */

void txlog_header_encode(uint8_t out[TXLOG_HEADER_SIZE], uint64_t first);
/* NULL when h is a valid header (then *first and *version are set), else
 * what is wrong. */
const char *txlog_header_check(const uint8_t h[TXLOG_HEADER_SIZE],
			       uint64_t *first, unsigned *version);
/* Frame CRC over the first 4 and then the bytes from 8 of a whole frame
 * whose header is hdr bytes. */
uint32_t txlog_frame_crc(const uint8_t *frame, size_t hdr, uint32_t len);
/* Fills in the batch bounds and CRCs of the n bytes of whole version 3
 * frames at p, which are one batch written at segment offset start. */
void txlog_batch_seal(uint8_t *p, size_t n, uint64_t start);

/* Names ------------------------------------------------------------------ */

/* dir/txlog.<first>[suffix] into out (PATH_MAX). GRAFT_OK or GRAFT_ETOOBIG. */
int txlog_segment_path(char *out, const char *dir, uint64_t first,
		       const char *suffix);
/* The first txids of the segments in dir, sorted ascending; *firsts is
 * malloc'd (NULL when none). Leftover .tmp files are removed when
 * remove_tmp is set. GRAFT_OK, GRAFT_ENOMEM or an error with errmsg. */
int txlog_list_segments(const char *dir, bool remove_tmp, uint64_t **firsts,
			size_t *n, char *errmsg);

/* Buffered reading of one segment --------------------------------------- */

struct txlog_file {
	int fd;
	char path[PATH_MAX];
	unsigned version;   /* of the open segment's format */
	size_t frame_header; /* its frame header size */
	uint8_t *buf; /* owned */
	size_t cap;
	uint64_t buf_off; /* file offset of buf[0] */
	size_t buf_len;
};

enum txlog_frame_status {
	TXLOG_FRAME_OK,
	TXLOG_FRAME_SHORT, /* the file ends inside the frame */
	TXLOG_FRAME_BAD,   /* impossible length or CRC mismatch */
};

struct txlog_frame {
	uint64_t txid;
	uint32_t len;
	uint64_t size; /* header and payload */
	/* From version 2: the batch's first txid and end offset (0 in
	 * version 1). */
	uint64_t batch_first, batch_end;
	uint64_t raft_index; /* version 3; 0 before */
	/* TXLOG_FRAME_BAD from version 2 on: whether the header alone is valid
	 * (then txid, len and the batch bounds are set). */
	bool header_ok;
	const uint8_t *payload; /* in the file's buffer, until the next read */
	const char *why;        /* TXLOG_FRAME_BAD: what is wrong */
};

void txlog_file_init(struct txlog_file *f);
/* Opens path (flags as open(2)) and checks its header. GRAFT_OK, GRAFT_EIO,
 * GRAFT_ENOTFOUND, or GRAFT_ECORRUPT with errmsg naming file and problem. */
int txlog_file_open(struct txlog_file *f, const char *path, int flags,
		    uint64_t *first, char *errmsg);
/* Closes the file, keeping the buffer for the next one. */
void txlog_file_close(struct txlog_file *f);
/* Closes the file and releases the buffer. */
void txlog_file_free(struct txlog_file *f);
/* The frame at off into fr and *status. GRAFT_OK or GRAFT_EIO/ENOMEM. */
int txlog_file_frame(struct txlog_file *f, uint64_t off,
		     struct txlog_frame *fr, enum txlog_frame_status *status);
/* Offset of the first frame after off that is whole and valid with a txid
 * in [lo, hi], or UINT64_MAX when there is none. */
uint64_t txlog_file_find_frame(struct txlog_file *f, uint64_t off,
			       uint64_t lo, uint64_t hi);

/* Creates dir/txlog.<first> holding only its header, durably: written as
 * .tmp, fsynced, renamed, directory fsynced. Returns the fd (O_WRONLY,
 * positioned after the header) or -1 with errno set; *fsyncs counts the
 * fsyncs made. */
int txlog_segment_create(const char *dir, uint64_t first, unsigned *fsyncs);

/* The log ---------------------------------------------------------------- */

struct txlog_segment {
	uint64_t first; /* first txid, from the name and header */
	unsigned version; /* format */
	uint64_t next;  /* txid after its last frame (== first when empty) */
	uint64_t size;  /* bytes */
	uint64_t raft_index; /* its last frame's (0: none, or unknown) */
};

struct txlog {
	uv_loop_t *loop;
	char *dir; /* owned */
	struct txlog_options o;
	int broken; /* GRAFT_OK, or why appends are refused for good */

	/* Segments oldest first; the last is the one written to. Loop
	 * thread only. */
	struct txlog_segment *segs; /* owned */
	size_t n_segs, cap_segs;
	uint64_t next_txid; /* what the next append must carry */
	uint64_t raft_index; /* what the next append's frame carries */

	/* The open segment: the worker's while a batch is in flight, the loop
	 * thread's otherwise. */
	int fd;             /* -1 when no segment is open */
	uint64_t fd_first;  /* its first txid */
	uint64_t fd_size;   /* bytes in it that belong to the log */
	bool rotate;        /* the next batch starts a new segment */

	/* Appends not yet handed to a batch: their frames and requests. */
	struct graft_buf pending;
	struct txlog_append_req *q_head, *q_tail;

	/* The batch in flight. */
	bool busy;
	bool in_callbacks; /* appends from callbacks wait for the next batch */
	uv_work_t work;
	struct graft_buf writing;
	struct txlog_append_req *w_head;
	uint64_t w_first, w_last;
	int w_status;          /* worker result */
	int w_errno;
	const char *w_what;    /* which step failed */
	uint64_t w_failed_first; /* the segment it failed on */
	int w_cut_errno;
	bool w_new_segment;    /* the worker created a segment at w_first */
	unsigned w_fsyncs;
	bool w_broken;         /* could not undo a failed write */

	/* txlog_sync requests, oldest first; synced: the newest txid known to
	 * be on disk. A batch or a sync in flight holds busy, so the worker
	 * has the segment to itself. */
	struct txlog_sync_req *s_head, *s_tail;
	uint64_t synced;
	uint64_t s_target; /* what the sync in flight covers */

	/* Retention pins (prune.c) and the durability listener. */
	struct txlog_pin *pins;
	txlog_durable_cb durable_cb;
	void *durable_data;

	bool closing;
	void (*close_cb)(struct txlog *log, void *arg);
	void *close_arg;

	struct txlog_stats stats;
};

#endif
