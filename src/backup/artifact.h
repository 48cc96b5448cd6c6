/* Backup artifacts: one immutable file per backup, <db>-<time>.backup, as
 * in Neo4j 5. A 512-byte header (what, where from, when, which transactions,
 * compressed or not), the backup stream (stream.h), zstd-compressed or raw,
 * and a trailer with the CRC32C of everything before it. A file is written
 * under a temporary name, fsynced and only then linked under its final
 * name, so a failed backup never leaves an artifact that looks valid.
 *
 *   header  0 "GRAFTBAK"  8 u32 version  12 u32 flags (1: zstd, 2: the
 *             database id at 56 is set)
 *          16 u32 type (1 FULL, 2 DIFF)  24 u64 time (ms since epoch, UTC)
 *          32 u64 checkpoint txid (FULL with a store copy, else 0)
 *          40 u64 first txid of the log part  48 u64 last txid
 *          56 u64 database id  64 database name (128, NUL-padded)
 *         192 source (256)  508 u32 CRC32C of bytes 0..507
 *   body    the stream, as stored
 *   trailer "GRAFTEND", u64 body length, u32 CRC32C of header + body, u32 0
 *
 * A FULL artifact holds the whole database as of last txid: the store copy
 * as of checkpoint txid plus transactions checkpoint txid + 1 .. last. A
 * DIFF holds transactions first .. last only.
 *
 * The database id (dbms_origin: the Raft index, or on a SINGLE server the
 * count, of the CREATE DATABASE that made it; 0 for system and the default
 * database) tells a database from an earlier one of the same name that was
 * dropped: a DIFF continues only a chain of the same id, and restore gives
 * the database its artifacts' id. Artifacts written before ids were
 * recorded (flag 2 clear) have none and fit any chain; the version stayed
 * 1, since readers that ignore the flag lose nothing else. */
#ifndef GRAFT_BACKUP_ARTIFACT_H
#define GRAFT_BACKUP_ARTIFACT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "../util/err.h"
#include "stream.h"

#define BACKUP_HEADER_SIZE 512
#define BACKUP_TRAILER_SIZE 24
#define BACKUP_DB_MAX 128
#define BACKUP_SOURCE_MAX 256

enum backup_type { BACKUP_FULL = 1, BACKUP_DIFF = 2 };

struct backup_meta {
	enum backup_type type;
	bool compressed;
	uint64_t time_ms;
	uint64_t checkpoint_txid;
	uint64_t first_txid; /* last_txid + 1 when the log part is empty */
	uint64_t last_txid;
	bool has_db_id; /* false: an artifact of an older graft */
	uint64_t db_id;
	char db[BACKUP_DB_MAX];
	char source[BACKUP_SOURCE_MAX];
};

const char *backup_type_name(enum backup_type t); /* "FULL", "DIFF" */
/* Whether a and b can be of the same database: both ids equal, or one of
 * them unknown. */
bool backup_same_db_id(const struct backup_meta *a,
		       const struct backup_meta *b);

/* Writer ----------------------------------------------------------------- */
struct backup_writer;

/* Starts dir/<db>-<time>.backup.tmp with m's header. */
int backup_writer_open(const char *dir, const struct backup_meta *m,
		       struct backup_writer **out, char *errmsg);
/* Appends stream bytes (compressing them if m->compressed). */
int backup_writer_write(struct backup_writer *w, const void *p, size_t n,
			char *errmsg);
/* Makes finish use dir/name instead of the timestamped name (a dump:
 * <db>.dump); an existing file there is replaced only with overwrite,
 * otherwise finish fails with GRAFT_EEXIST. */
void backup_writer_name(struct backup_writer *w, const char *name,
			bool overwrite);
/* Finishes the body, writes the trailer, fsyncs, links the file under
 * dir/<db>-<YYYY-MM-DDTHH-MM-SS>.backup (with -2, -3... when that exists)
 * and fsyncs dir. path (4096 bytes) gets the final name. Frees w, also on
 * error (the temporary file is then removed). */
int backup_writer_finish(struct backup_writer *w, char *path, char *errmsg);
/* Gives up: removes the temporary file, or with keep renames it to
 * <name>.backup.failed (failed_path, 4096 bytes, may be NULL, gets it).
 * Frees w. */
void backup_writer_abort(struct backup_writer *w, bool keep,
			 char *failed_path);

/* Removes every dir/<db>-<time>.backup.tmp that no writer holds: what a
 * backup killed mid-way (kill -9, a crash) left behind. One being written
 * (its writer holds a lock on it) is left alone. Each removal is reported
 * as a line on report (may be NULL). GRAFT_OK, or GRAFT_EIO with errmsg
 * when a stale file cannot be removed. */
int backup_remove_stale_tmp(const char *dir, const char *db, FILE *report,
			    char *errmsg);

/* Reader ----------------------------------------------------------------- */

/* Reads and checks the header only (magic, version, header CRC).
 * GRAFT_ECORRUPT with errmsg naming path. */
int backup_read_meta(const char *path, struct backup_meta *m, char *errmsg);
/* Reads the whole artifact: checks the CRC of the file first, then
 * decompresses the body and parses it, feeding cbs (may be NULL: a pure
 * check), and checks that it holds exactly the transactions its header
 * says. Errors name path and what is wrong. */
int backup_read(const char *path, struct backup_meta *m,
		const struct backup_stream_cbs *cbs, char *errmsg);

#endif
