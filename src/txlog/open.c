/* Opening a log: every segment is read and every frame verified, in large
 * buffered reads (a million records open in well under a second).
 *
 * What open accepts and what it refuses. A batch is one write and one
 * fdatasync, and the next batch is written only once that returned, so a
 * crash can tear only the last batch of the last segment; every frame
 * names its batch's first txid and end offset (txlog_int.h), which is how
 * open knows where the last batch began.
 * - A torn last batch: the first bad frame (cut short by the end of the
 *   file, zeros, a bad checksum) lies in the batch that nothing was written
 *   after. Nothing of it was acknowledged (its fdatasync never returned).
 *   When no valid frame follows the damage, it is the torn tail of a write;
 *   when valid frames of the same batch follow, a whole file-system block of
 *   zeros must lie between (power loss: a later page of the batch reached
 *   the disk, an earlier block did not and reads back as zeros; etcd's WAL
 *   reasons the same). The damaged bytes, from the first bad frame to the
 *   end of the file, are copied to txlog.<first>.cut-<offset> beside the
 *   segment and fsynced before the segment is truncated, and a WARN names
 *   the segment, the offset and that file: recovery never destroys bytes.
 * - Damage in any earlier batch is damage to acknowledged transactions:
 *   a valid frame of a later batch follows it, or the file goes on past the
 *   end of the damaged batch (so another write came after it). So is a bad
 *   frame in any segment but the last, a bad segment header, batch bounds
 *   that contradict each other, and a gap in the transaction ids (inside a
 *   segment or between two). Open refuses with GRAFT_ECORRUPT naming file
 *   and offset, and changes nothing.
 * - The one case frames cannot decide: damage that takes the header of a
 *   batch's first frame and runs to the end of the file, with nothing valid
 *   after it, reads like a next batch that was never written, and is cut
 *   (moved aside). A batch's first frame whose header survives (it has its
 *   own checksum) still says where that batch ends.
 * - A torn batch is cut whole, from its first frame, even when its first
 *   frames are intact: none of it was acknowledged, and a segment must
 *   never end inside a batch (the next batch appended there would read as
 *   a contradiction of the kept frames' bounds at the next open). A file
 *   that ends exactly on a frame boundary inside a batch is torn too.
 * - Version 1 segments record no batches: damage with a valid frame after
 *   it is refused even when it is zeros; a torn tail is cut as above.
 * - A derived log (txlog_options.derived) writes batches without an
 *   fdatasync, so a crash of the machine may lose any part of its last
 *   segment's tail, valid frames after the damage included; it is cut from
 *   the damaged batch on, whatever follows, and the owner applies those
 *   transactions again from its durable record. Earlier segments were
 *   synced when they were finished: damage there is still refused. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../util/err.h"
#include "../util/fs.h"
#include "../util/log.h"
#include "txlog_int.h"

#define RESTORE "restore the database from a backup"
#define FS_BLOCK 4096
#define COPY_CHUNK (1u << 20)

/* Whether [from, to) of f holds a whole, aligned file-system block of zeros:
 * the mark of a block that was never written. */
static bool has_unwritten_block(struct txlog_file *f, uint64_t from,
				uint64_t to)
{
	static const uint8_t zeros[FS_BLOCK];
	uint8_t block[FS_BLOCK];

	for (uint64_t b = (from + FS_BLOCK - 1) / FS_BLOCK * FS_BLOCK;
	     b + FS_BLOCK <= to; b += FS_BLOCK)
		if (graft_pread_all(f->fd, block, FS_BLOCK, (off_t)b) == GRAFT_OK &&
		    memcmp(block, zeros, FS_BLOCK) == 0)
			return true;
	return false;
}

/* Where a segment's scan stands: the next frame's offset and txid, and the
 * bounds of the batch the frame before it belongs to. */
struct scan {
	uint64_t off, expect;
	uint64_t batch_first, batch_start, batch_end;
	uint64_t size; /* of the file */
};

/* Whether a valid version 2 frame at s->off agrees with the batch bounds of
 * the frames before it; then s takes its bounds. */
static bool batch_follows(struct scan *s, const struct txlog_frame *fr)
{
	uint64_t end = s->off + fr->size;

	if (s->off == s->batch_end) { /* the frame starts a batch */
		if (fr->batch_first != fr->txid || fr->batch_end < end)
			return false;
		s->batch_first = fr->batch_first;
		s->batch_start = s->off;
		s->batch_end = fr->batch_end;
		return true;
	}
	return fr->batch_first == s->batch_first &&
	       fr->batch_end == s->batch_end && end <= s->batch_end;
}

/* Copies bytes [off, size) of f to a new file beside it, durably, and puts
 * its path in aside (PATH_MAX). */
static int copy_aside(struct txlog_file *f, uint64_t off, uint64_t size,
		      char *aside, char *errmsg)
{
	uint8_t *buf = malloc(COPY_CHUNK);
	char *slash;
	int fd = -1, rv = GRAFT_ENOMEM;

	if (buf == NULL)
		return rv;
	/* A second crash at the same offset must not overwrite the first
	 * copy: the next free suffix. */
	for (unsigned n = 0; fd < 0 && n < 1000; n++) {
		int k = n == 0 ? snprintf(aside, PATH_MAX, "%s.cut-%" PRIu64,
					  f->path, off)
			       : snprintf(aside, PATH_MAX, "%s.cut-%" PRIu64
					  ".%u", f->path, off, n);
		if (k < 0 || k >= PATH_MAX) {
			errno = ENAMETOOLONG;
			break;
		}
		fd = open(aside, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0) {
		rv = graft_errf(errmsg, GRAFT_EIO, "cannot create %s to move "
				"the torn tail of %s aside: %s", aside, f->path,
				strerror(errno));
		goto err_after_alloc;
	}
	for (uint64_t at = off; at < size;) {
		size_t n = size - at < COPY_CHUNK ? (size_t)(size - at)
						  : COPY_CHUNK;
		if (graft_pread_all(f->fd, buf, n, (off_t)at) != GRAFT_OK ||
		    graft_write_all(fd, buf, n) != GRAFT_OK)
			goto err_after_create;
		at += n;
	}
	if (fsync(fd) != 0)
		goto err_after_create;
	close(fd);
	free(buf);
	slash = strrchr(f->path, '/');
	if (slash == NULL)
		return graft_fsync_dir(".", errmsg);
	*slash = '\0';
	rv = graft_fsync_dir(f->path, errmsg);
	*slash = '/';
	return rv;

err_after_create:
	rv = graft_errf(errmsg, GRAFT_EIO, "cannot copy the torn tail of %s "
			"to %s: %s", f->path, aside, strerror(errno));
	close(fd);
	unlink(aside);
err_after_alloc:
	free(buf);
	return rv;
}

/* Cuts the torn last batch, from its first frame (the damage lies at
 * s->off, in that batch or starting it), after moving the bytes from there
 * aside; seg then ends where the batches before it end. */
static int cut_tail(struct txlog_file *f, const struct scan *s,
		    struct txlog_segment *seg, const char *what,
		    const char *why, char *errmsg)
{
	bool inside = s->off > s->batch_start && s->off < s->batch_end;
	uint64_t at = inside ? s->batch_start : s->off;
	char aside[PATH_MAX];
	int rv = copy_aside(f, at, s->size, aside, errmsg);

	if (rv != GRAFT_OK)
		return rv;
	if (ftruncate(f->fd, (off_t)at) != 0 || fsync(f->fd) != 0)
		return graft_errf(errmsg, GRAFT_EIO, "cannot truncate the torn "
				  "tail of %s at offset %" PRIu64 ": %s",
				  f->path, at, strerror(errno));
	graft_warn("transaction log segment %s: torn tail at offset %" PRIu64
		   " (%s at offset %" PRIu64 "), %" PRIu64 " bytes moved aside "
		   "to %s: %s", f->path, at, what, s->off, s->size - at, aside,
		   why);
	if (inside) {
		seg->next = s->batch_first;
		seg->size = at;
	}
	return GRAFT_OK;
}

/* Where the batch that the damage at s->off lies in ends, or 0 when no
 * trustworthy frame says so: the frames before it when the damage is inside
 * their batch, else the damaged frame's own header when its header checksum
 * holds and it names the transaction expected there as a batch's first. */
static uint64_t damaged_batch_end(const struct scan *s,
				  const struct txlog_frame *bad)
{
	if (s->off < s->batch_end)
		return s->batch_end;
	if (bad->header_ok && bad->txid == s->expect &&
	    bad->batch_first == s->expect)
		return bad->batch_end;
	return 0;
}

/* The damage at s->off of the last segment (bad: the frame read there):
 * GRAFT_OK when it is a torn last batch (then *what says how it tore), else
 * GRAFT_ECORRUPT with errmsg. */
static int judge_damage(struct txlog_file *f, const struct scan *s,
			const struct txlog_frame *bad, const char **what,
			char *errmsg)
{
	bool batches = f->version != TXLOG_VERSION_NO_BATCHES;
	uint64_t end = batches ? damaged_batch_end(s, bad) : 0, found;
	enum txlog_frame_status st;
	struct txlog_frame fr;

	if (end != 0 && s->size > end)
		return graft_errf(errmsg, GRAFT_ECORRUPT,
				  "transaction log segment %s is damaged at "
				  "offset %" PRIu64 " (%s); the batch it lies "
				  "in ends at offset %" PRIu64 " and the file "
				  "goes on to %" PRIu64 ", so that batch was "
				  "acknowledged; " RESTORE, f->path, s->off,
				  *what, end, s->size);
	found = txlog_file_find_frame(f, s->off + 1, s->expect,
				      s->expect + (s->size - s->off) / 17 + 1);
	if (found == UINT64_MAX)
		return GRAFT_OK;
	if (txlog_file_frame(f, found, &fr, &st) != GRAFT_OK ||
	    st != TXLOG_FRAME_OK)
		return graft_errf(errmsg, GRAFT_EIO, "cannot read %s at offset "
				  "%" PRIu64, f->path, found);
	if (batches && (fr.batch_first > s->expect || s->size > fr.batch_end ||
			(s->off < s->batch_end &&
			 fr.batch_first != s->batch_first)))
		return graft_errf(errmsg, GRAFT_ECORRUPT,
				  "transaction log segment %s is damaged at "
				  "offset %" PRIu64 " (%s), in a batch that "
				  "is not the last: the frame of transaction %"
				  PRIu64 " at offset %" PRIu64 " was written "
				  "after it, so the damaged transactions were "
				  "acknowledged; " RESTORE, f->path, s->off,
				  *what, fr.txid, found);
	if (!batches || !has_unwritten_block(f, s->off, found))
		return graft_errf(errmsg, GRAFT_ECORRUPT,
				  "transaction log segment %s is damaged at "
				  "offset %" PRIu64 " (%s), and a valid frame "
				  "follows at offset %" PRIu64 ", so this is "
				  "not an interrupted write; " RESTORE,
				  f->path, s->off, *what, found);
	*what = "a block of the last batch was never written (power loss); "
		"nothing from here on was acknowledged";
	return GRAFT_OK;
}

/* Reads a segment's frames from its header on; cuts a torn last batch when
 * it is the last segment. */
static int scan_segment(struct txlog_file *f, bool last, bool derived,
			struct txlog_segment *seg, char *errmsg)
{
	struct scan s = {.off = TXLOG_HEADER_SIZE, .expect = seg->first,
			 .batch_start = TXLOG_HEADER_SIZE,
			 .batch_end = TXLOG_HEADER_SIZE};
	bool batches = f->version != TXLOG_VERSION_NO_BATCHES;
	enum txlog_frame_status st;
	struct txlog_frame fr;
	const char *what;
	off_t size;
	int rv;

	size = lseek(f->fd, 0, SEEK_END);
	if (size < 0)
		return graft_errf(errmsg, GRAFT_EIO, "cannot read %s: %s",
				  f->path, strerror(errno));
	s.size = (uint64_t)size;
	for (;;) {
		rv = txlog_file_frame(f, s.off, &fr, &st);
		if (rv == GRAFT_EIO)
			return graft_errf(errmsg, rv, "cannot read %s: %s",
					  f->path, strerror(errno));
		if (rv != GRAFT_OK)
			return rv;
		if (st != TXLOG_FRAME_OK)
			break;
		if (fr.txid != s.expect)
			return graft_errf(errmsg, GRAFT_ECORRUPT,
					  "transaction log segment %s: the "
					  "frame at offset %" PRIu64 " holds "
					  "transaction %" PRIu64 " where %"
					  PRIu64 " should follow (transactions "
					  "are missing); " RESTORE,
					  f->path, s.off, fr.txid, s.expect);
		if (batches && !batch_follows(&s, &fr))
			return graft_errf(errmsg, GRAFT_ECORRUPT,
					  "transaction log segment %s: the "
					  "frame at offset %" PRIu64 " names "
					  "batch bounds that contradict the "
					  "frames before it; " RESTORE,
					  f->path, s.off);
		s.off += fr.size;
		s.expect++;
		seg->raft_index = fr.raft_index;
	}
	seg->next = s.expect;
	seg->size = s.off;
	if (st == TXLOG_FRAME_SHORT && s.off == s.size) {
		if (s.off >= s.batch_end)
			return GRAFT_OK;
		what = "the file ends inside a batch";
	} else {
		what = st == TXLOG_FRAME_SHORT
			       ? "a frame runs past the end of the file"
			       : fr.why;
	}
	if (!last)
		return graft_errf(errmsg, GRAFT_ECORRUPT,
				  "transaction log segment %s is damaged at "
				  "offset %" PRIu64 " (%s) and is not the last "
				  "segment; " RESTORE, f->path, s.off, what);
	rv = s.off == s.size || derived
		     ? GRAFT_OK
		     : judge_damage(f, &s, &fr, &what, errmsg);
	if (rv == GRAFT_OK)
		rv = cut_tail(f, &s, seg, what,
			      derived ? "this log is derived and written "
					"without fdatasync: a cluster member "
					"applies these transactions again "
					"from its Raft log, a read replica "
					"from its upstream"
				      : "the last write before a crash was "
					"incomplete and never acknowledged",
			      errmsg);
	return rv;
}

static int load_segments(struct txlog *log, char *errmsg)
{
	struct txlog_file f;
	uint64_t *firsts, first;
	char path[PATH_MAX];
	size_t n;
	int rv;

	rv = txlog_list_segments(log->dir, true, &firsts, &n, errmsg);
	if (rv != GRAFT_OK)
		return rv;
	log->segs = malloc((n + 1) * sizeof *log->segs);
	if (log->segs == NULL) {
		free(firsts);
		return GRAFT_ENOMEM;
	}
	log->cap_segs = n + 1;
	txlog_file_init(&f);
	for (size_t i = 0; i < n; i++) {
		struct txlog_segment *seg = &log->segs[i];
		bool last = i + 1 == n;

		rv = txlog_segment_path(path, log->dir, firsts[i], "");
		if (rv == GRAFT_OK)
			rv = txlog_file_open(&f, path, last ? O_RDWR : O_RDONLY,
					     &first, errmsg);
		if (rv != GRAFT_OK)
			break;
		if (first != firsts[i]) {
			rv = graft_errf(errmsg, GRAFT_ECORRUPT,
					"transaction log segment %s is damaged "
					"at offset 0: its header says it "
					"starts at transaction %" PRIu64 "; "
					RESTORE,
					path, first);
			break;
		}
		if (i > 0 && first != seg[-1].next) {
			rv = graft_errf(errmsg, GRAFT_ECORRUPT,
					"transaction log segment %s starts at "
					"transaction %" PRIu64 " but the "
					"segment before it ends at %" PRIu64
					": transactions are missing; " RESTORE,
					path, first, seg[-1].next - 1);
			break;
		}
		seg->first = first;
		seg->version = f.version;
		seg->raft_index = 0;
		rv = scan_segment(&f, last, log->o.derived, seg, errmsg);
		if (rv != GRAFT_OK)
			break;
		if (seg->next > seg->first)
			log->raft_index = seg->raft_index;
		log->n_segs++;
		if (last && lseek(f.fd, (off_t)seg->size, SEEK_SET) >= 0) {
			log->fd = f.fd; /* ownership passes to the log */
			f.fd = -1;
		} else if (last) {
			rv = graft_errf(errmsg, GRAFT_EIO, "cannot seek in %s: "
					"%s", path, strerror(errno));
		}
	}
	txlog_file_free(&f);
	free(firsts);
	return rv;
}

int txlog_open(uv_loop_t *loop, const char *dir, const struct txlog_options *o,
	       struct txlog **out, char *errmsg)
{
	struct txlog *log = calloc(1, sizeof *log);
	int rv;

	if (log == NULL)
		return GRAFT_ENOMEM;
	log->loop = loop;
	log->o = *o;
	if (log->o.rotation_size == 0)
		log->o.rotation_size = TXLOG_DEFAULT_ROTATION;
	log->fd = -1;
	log->next_txid = 1;
	graft_buf_init(&log->pending);
	graft_buf_init(&log->writing);
	log->dir = strdup(dir);
	if (log->dir == NULL) {
		rv = GRAFT_ENOMEM;
		goto err_after_alloc;
	}
	rv = graft_mkdir_p(dir, errmsg);
	if (rv == GRAFT_OK)
		rv = load_segments(log, errmsg);
	if (rv != GRAFT_OK)
		goto err_after_alloc;
	if (log->n_segs > 0) {
		struct txlog_segment *cur = &log->segs[log->n_segs - 1];
		log->next_txid = cur->next;
		log->fd_first = cur->first;
		log->fd_size = cur->size;
		/* A segment without frames is written to whatever its size,
		 * or the next one would take its name. Appends never go to a
		 * segment of an older version: a batch starts one of this
		 * version, which replaces (rename over) an older one without
		 * frames. */
		log->rotate = cur->next > cur->first &&
			      (cur->size >= log->o.rotation_size ||
			       cur->version != TXLOG_VERSION);
		if (cur->next == cur->first && cur->version != TXLOG_VERSION) {
			close(log->fd);
			log->fd = -1;
			log->n_segs--;
		}
	}
	*out = log;
	return GRAFT_OK;

err_after_alloc:
	if (log->fd >= 0)
		close(log->fd);
	free(log->segs);
	free(log->dir);
	free(log);
	return rv;
}

void txlog_set_raft_index(struct txlog *log, uint64_t index)
{
	log->raft_index = index;
}

uint64_t txlog_raft_index(const struct txlog *log)
{
	return log->raft_index;
}

uint64_t txlog_first_txid(const struct txlog *log)
{
	return txlog_last_txid(log) ? log->segs[0].first : 0;
}

uint64_t txlog_last_txid(const struct txlog *log)
{
	if (log->n_segs == 0 ||
	    log->segs[log->n_segs - 1].next == log->segs[0].first)
		return 0;
	return log->segs[log->n_segs - 1].next - 1;
}

/* Removes every segment: all they hold is covered by the checkpoint at
 * last_txid, and the log must stay contiguous from there. */
static int remove_all(struct txlog *log, char *errmsg)
{
	char path[PATH_MAX];

	if (log->fd >= 0)
		close(log->fd);
	log->fd = -1;
	while (log->n_segs > 0) {
		uint64_t first = log->segs[log->n_segs - 1].first;
		if (txlog_segment_path(path, log->dir, first, "") != GRAFT_OK ||
		    (unlink(path) != 0 && errno != ENOENT))
			return graft_errf(errmsg, GRAFT_EIO, "cannot remove "
					  "%s: %s", path, strerror(errno));
		log->n_segs--;
	}
	return graft_fsync_dir(log->dir, errmsg);
}

void txlog_set_base(struct txlog *log, uint64_t last_txid)
{
	char errmsg[GRAFT_ERRMSG_SIZE];
	uint64_t last = txlog_last_txid(log);

	if (last_txid + 1 == log->next_txid)
		return;
	if (log->busy || log->q_head != NULL) {
		graft_error("transaction log %s: the base cannot move while "
			    "appends are under way", log->dir);
		return;
	}
	if (last_txid < last) {
		graft_error("transaction log %s holds transactions up to %"
			    PRIu64 ": it cannot restart after %" PRIu64
			    "; appends must continue from %" PRIu64,
			    log->dir, last, last_txid, log->next_txid);
		return;
	}
	if (last > 0)
		graft_warn("transaction log %s ends at transaction %" PRIu64
			   ", before the checkpoint at %" PRIu64 ": its "
			   "segments are removed and the log continues from %"
			   PRIu64, log->dir, last, last_txid, last_txid + 1);
	if (remove_all(log, errmsg) != GRAFT_OK) {
		graft_error("transaction log %s: %s; appends are refused until "
			    "it is reopened", log->dir, errmsg);
		log->broken = GRAFT_EIO;
	}
	log->next_txid = last_txid + 1;
}

void txlog_get_stats(const struct txlog *log, struct txlog_stats *out)
{
	*out = log->stats;
	out->segments = log->n_segs;
}
