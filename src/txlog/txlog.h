/* The transaction log of one database: the ordered, durable stream of its
 * committed transactions, in segment files of frames (length, CRC32C,
 * transaction id, record). Appends are group-committed: many concurrent
 * appends share one write and one fsync, off the loop thread, and each is
 * acknowledged only once durable. Readers stream records from any retained
 * transaction id; recovery, catch-up and backups are built on them. */
#ifndef GRAFT_TXLOG_TXLOG_H
#define GRAFT_TXLOG_TXLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "../util/buf.h"
#include "../util/retention.h"

/* The largest record an append takes. */
#define TXLOG_MAX_RECORD (1u << 30)

struct txlog_options {
	uint64_t rotation_size; /* bytes; a segment rotates once it reaches
				 * this; 0 = 256M */
	struct graft_retention retention;
	/* db.tx_log.reader_pins.max_size: the most log a reader's pin may
	 * hold back from pruning (bytes from the pinned transaction's
	 * segment to the end); 0 = no bound. */
	uint64_t pin_max_size;
	/* The log is derived from a durable record kept elsewhere (a cluster
	 * member's Raft log, which applies a lost tail again after a crash;
	 * a read replica's upstream, which sends it again):
	 * batches are written without an fdatasync and count as durable once
	 * written; txlog_sync makes them durable for real (before the record
	 * elsewhere may drop them); a finished segment and a closing log are
	 * synced; and open cuts damage anywhere in the last segment, valid
	 * frames after it included, instead of refusing. */
	bool derived;
};

struct txlog;
struct txlog_append_req;
typedef void (*txlog_append_cb)(struct txlog_append_req *req, int status);

/* Caller-owned; must stay alive until cb. */
struct txlog_append_req {
	void *data; /* for the caller */
	/* private */
	struct txlog_append_req *next;
	uint64_t txid;
	txlog_append_cb cb;
};

/* Opens (creating if absent) the log in dir. Verifies every frame: damage in
 * the last group-commit batch (a crash mid-write) is cut off, its bytes
 * moved to txlog.<first>.cut-<offset> beside the segment, and logged; any
 * other bad frame is GRAFT_ECORRUPT with errmsg naming file and offset, and
 * nothing is changed. See open.c for the rules.
 * Loop thread only from here on. */
int txlog_open(uv_loop_t *loop, const char *dir, const struct txlog_options *o,
	       struct txlog **out, char *errmsg);
/* Oldest retained and newest durable transaction ids; 0 when empty. */
uint64_t txlog_first_txid(const struct txlog *log);
uint64_t txlog_last_txid(const struct txlog *log);
/* Sets the id the next append must carry when the log is empty or starts
 * after a checkpoint (e.g. after pruning everything, or a restore). If the
 * log ends before last_txid, its segments (all covered by that checkpoint)
 * are removed so that the log stays contiguous; a failure there is logged
 * and later appends fail with GRAFT_EIO. Moving the base below the newest
 * logged transaction is refused (logged). Call with no append under way. */
void txlog_set_base(struct txlog *log, uint64_t last_txid);

/* The Raft index of the last replicated entry the database applied (0:
 * none, or unknown: the store came from a catch-up stream or an older
 * format). Every frame appended carries the value set last, so the newest
 * frame on disk says which Raft entries its database already holds, and a
 * member restarted recognises the entries its Raft log applies again
 * (src/db/entry.c). txlog_open sets it from the newest frame (0 in logs of
 * an older format). Loop thread only. */
void txlog_set_raft_index(struct txlog *log, uint64_t index);
uint64_t txlog_raft_index(const struct txlog *log);

/* Appends one record with txid == the previous append's txid + 1; the bytes
 * are copied. cb runs on the loop thread once the record is durable
 * (GRAFT_OK), or with GRAFT_ENOSPC / GRAFT_EIO when its batch could not be
 * written: then neither it nor any later append of that batch is in the log,
 * and the log accepts appends again from the same txid (appends queued
 * behind the failed batch fail with it, in order). If this function
 * returns an error, cb is never called: GRAFT_EINVAL (wrong txid, empty
 * record), GRAFT_ETOOBIG (len > TXLOG_MAX_RECORD), GRAFT_ENOMEM,
 * GRAFT_ESHUTDOWN (closing), GRAFT_EIO (a failed write could not be undone
 * or the base could not be moved: reopen the log). */
int txlog_append(struct txlog *log, struct txlog_append_req *req,
		 uint64_t txid, const void *rec, size_t len, txlog_append_cb cb);

/* txlog_append of a record encoded in place, for records of hundreds of
 * megabytes: txlog_frame_begin empties frame and leaves room for the frame
 * header, the caller appends the record's bytes, txlog_append_frame takes
 * them (frame is left empty, with whatever capacity: reuse it). When no
 * other append waits for the next batch, the bytes are not copied. Both
 * return txlog_append's errors (txlog_frame_begin only GRAFT_ENOMEM). */
int txlog_frame_begin(struct graft_buf *frame);
int txlog_append_frame(struct txlog *log, struct txlog_append_req *req,
		       uint64_t txid, struct graft_buf *frame,
		       txlog_append_cb cb);

/* Applies the retention policy: deletes whole segments that the policy lets
 * go, never one holding a transaction id >= keep_from (what the newest
 * checkpoint still needs for recovery) nor the segment being written.
 * Pruning happens after checkpoints, as in Neo4j. *removed (may be NULL) gets
 * the number of segments deleted. GRAFT_OK or GRAFT_EIO with errmsg. */
int txlog_prune(struct txlog *log, uint64_t keep_from, unsigned *removed,
		char *errmsg);

/* Retention pins: a reader that will need the log from txid on (a catch-up
 * subscriber, a running backup) pins it, and txlog_prune removes no segment
 * holding txid or later while the pin holds, whatever the retention policy
 * says. So that a subscriber that went away cannot fill the disk, a pin
 * holding back more than pin_max_size bytes is dropped by the next prune
 * (logged; txlog_pin_lost then says so, and the reader needs a store copy
 * once its transactions are pruned). Caller-owned; loop thread only. */
struct txlog_pin {
	void *data; /* for the caller */
	/* private */
	struct txlog *log; /* NULL when not pinning */
	struct txlog_pin *prev, *next;
	uint64_t txid;
	bool lost; /* dropped for holding back too much */
};
void txlog_pin(struct txlog *log, struct txlog_pin *pin, uint64_t txid);
/* Moves the pin to a later (or earlier) transaction; harmless once lost. */
void txlog_pin_move(struct txlog_pin *pin, uint64_t txid);
/* Releases the pin; harmless when it does not hold. */
void txlog_unpin(struct txlog_pin *pin);
bool txlog_pin_lost(const struct txlog_pin *pin);
/* The oldest transaction any pin holds; UINT64_MAX when none. */
uint64_t txlog_pinned_from(const struct txlog *log);

/* txlog_sync: cb runs on the loop thread once every append that succeeded
 * before the call is on disk, whatever the log's mode: GRAFT_OK, GRAFT_EIO
 * (the fdatasync failed; logged) or GRAFT_ESHUTDOWN (the log closed
 * first). Caller-owned; must stay alive until cb. */
struct txlog_sync_req;
typedef void (*txlog_sync_cb)(struct txlog_sync_req *req, int status);
struct txlog_sync_req {
	void *data; /* for the caller */
	/* private */
	struct txlog_sync_req *next;
	uint64_t upto;
	txlog_sync_cb cb;
};
/* GRAFT_OK: cb runs later, never from inside this call. GRAFT_ESHUTDOWN
 * (closing): it never does. */
int txlog_sync(struct txlog *log, struct txlog_sync_req *req,
	       txlog_sync_cb cb);

/* Durability notification: cb runs on the loop thread after every batch
 * made durable, with the newest durable txid (once per batch, after its
 * appends' callbacks), so a follower of the log (a catch-up stream) learns
 * of new records without polling. One per log; NULL stops it. */
typedef void (*txlog_durable_cb)(void *data, uint64_t last_txid);
void txlog_on_durable(struct txlog *log, txlog_durable_cb cb, void *data);

/* Stops accepting appends, waits for the batch in flight, closes files, then
 * calls cb. Appends still queued and not yet written fail with GRAFT_ESHUTDOWN. */
void txlog_close(struct txlog *log, void (*cb)(struct txlog *log, void *arg),
		 void *arg);

/* Stats for metrics and benchmarks. */
struct txlog_stats {
	uint64_t appends, batches, fsyncs, bytes, segments;
};
void txlog_get_stats(const struct txlog *log, struct txlog_stats *out);

/* A reader of records (from_txid .. to_txid inclusive) independent of the
 * writer: its own file descriptors, usable from any one thread. It may run
 * while the log is appended to: with to_txid <= txlog_last_txid() it sees
 * only durable records; beyond that, whatever is written so far. */
struct txlog_reader;
/* GRAFT_ENOTFOUND with errmsg when from_txid is no longer retained.
 * to_txid UINT64_MAX reads whatever is written, durable or not: a reader
 * following a live log instead starts at the newest durable id and is moved
 * on with txlog_reader_set_end as more becomes durable. */
int txlog_reader_open(const char *dir, uint64_t from_txid, uint64_t to_txid,
		      struct txlog_reader **out, char *errmsg);
/* Next record: GRAFT_OK and *rec, *len valid until the next call;
 * GRAFT_ENOTFOUND past to_txid or at the end of what is written;
 * GRAFT_ECORRUPT with errmsg naming file and offset. */
int txlog_reader_next(struct txlog_reader *r, uint64_t *txid,
		      const void **rec, size_t *len, char *errmsg);
/* Moves the reader's end to to_txid (a live follower's next durable id);
 * the next txlog_reader_next goes on from where the reader stopped. The
 * reader's thread only. */
void txlog_reader_set_end(struct txlog_reader *r, uint64_t to_txid);
/* The txid the next txlog_reader_next returns if it has it. */
uint64_t txlog_reader_position(const struct txlog_reader *r);
void txlog_reader_close(struct txlog_reader *r);

/* Records on the wire (catch-up streams): each carries its own CRC and
 * whose it is, so that a receiver verifies it whole before applying it,
 * whatever the transport did:
 *   u32 record length, u32 CRC32C of the frame (bytes 8 to the end),
 *   u64 txid, u64 database id, u32 database name CRC, u32 zero,
 *   16 bytes cluster id, record
 * Integers little-endian. Ids in struct txlog_wire_id (a record also names
 * its database inside). */
#define TXLOG_WIRE_HEADER 48
/* Whose a record is. The catch-up layer fills it: cluster is the cluster
 * id's UUID (<data>/dbms/cluster_id) as 16 bytes, db the database's id
 * (dbms_origin: the Raft index that created it, 0 for system and the
 * default database), name txlog_wire_db_id of its name (which tells those
 * two apart). */
struct txlog_wire_id {
	uint8_t cluster[16];
	uint64_t db;
	uint32_t name;
};
/* The CRC32C of a database's name. */
uint32_t txlog_wire_db_id(const char *name);
/* Appends one frame to out. GRAFT_OK, GRAFT_ENOMEM, GRAFT_ETOOBIG. */
int txlog_wire_put(struct graft_buf *out, const struct txlog_wire_id *id,
		   uint64_t txid, const void *rec, size_t len);
/* The whole frame's size from its first TXLOG_WIRE_HEADER bytes;
 * GRAFT_ETOOBIG (with errmsg) past TXLOG_MAX_RECORD. */
int txlog_wire_size(const uint8_t *hdr, size_t *size, char *errmsg);
/* Checks a whole frame (size bytes) against its CRC, the expected ids and
 * txid; on GRAFT_OK *rec and *len point into it. GRAFT_ECORRUPT with
 * errmsg saying what did not match (both ids, when they differ). */
int txlog_wire_check(const uint8_t *frame, size_t size,
		     const struct txlog_wire_id *want, uint64_t txid,
		     const uint8_t **rec, size_t *len, char *errmsg);
/* id's cluster as a UUID's text (37 bytes with the NUL). */
void txlog_wire_cluster_text(const struct txlog_wire_id *id, char out[37]);

#endif
