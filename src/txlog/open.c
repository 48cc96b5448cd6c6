/* Opening a log: every segment is read and every frame verified, in large
 * buffered reads (a million records open in well under a second).
 *
 * What open accepts and what it refuses:
 * - A torn tail in the last segment (a frame cut short by the end of the
 *   file, zeros, or a bad checksum, with no valid frame anywhere after it)
 *   is what a crash during a write leaves: it is truncated away, fsynced and
 *   logged with the file, offset and bytes dropped.
 * - A torn batch in the last segment: after a power loss the disk may hold
 *   later pages of the last batch but not an earlier one, which reads back
 *   as a whole file-system block of zeros (never-written blocks read as
 *   zeros). A block of zeros inside the damage means that batch's fsync
 *   never returned, so none of it, nor anything after it, was acknowledged:
 *   it is cut off and logged like a torn tail (etcd's WAL reasons the same).
 * - Any other bad frame followed by a valid one, a bad frame in any segment
 *   but the last, a bad segment header, or a gap in the transaction ids
 *   (inside a segment or between two) is damage: GRAFT_ECORRUPT naming file
 *   and offset. Nothing is changed then. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../util/err.h"
#include "../util/fs.h"
#include "../util/log.h"
#include "txlog_int.h"

#define RESTORE "restore the database from a backup"
#define FS_BLOCK 4096

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

/* Reads a segment's frames from its header on; cuts a torn tail when it is
 * the last segment. */
static int scan_segment(struct txlog_file *f, bool last,
			struct txlog_segment *seg, char *errmsg)
{
	uint64_t off = TXLOG_HEADER_SIZE, expect = seg->first, found;
	enum txlog_frame_status st;
	struct txlog_frame fr;
	const char *what;
	off_t size;
	int rv;

	size = lseek(f->fd, 0, SEEK_END);
	if (size < 0)
		return graft_errf(errmsg, GRAFT_EIO, "cannot read %s: %s",
				  f->path, strerror(errno));
	for (;;) {
		rv = txlog_file_frame(f, off, &fr, &st);
		if (rv == GRAFT_EIO)
			return graft_errf(errmsg, rv, "cannot read %s: %s",
					  f->path, strerror(errno));
		if (rv != GRAFT_OK)
			return rv;
		if (st == TXLOG_FRAME_OK && fr.txid != expect)
			return graft_errf(errmsg, GRAFT_ECORRUPT,
					  "transaction log segment %s: the "
					  "frame at offset %" PRIu64 " holds "
					  "transaction %" PRIu64 " where %"
					  PRIu64 " should follow (transactions "
					  "are missing); " RESTORE,
					  f->path, off, fr.txid, expect);
		if (st != TXLOG_FRAME_OK)
			break;
		off += TXLOG_FRAME_HEADER + (uint64_t)fr.len;
		expect++;
	}
	seg->next = expect;
	seg->size = off;
	if (st == TXLOG_FRAME_SHORT && off == (uint64_t)size)
		return GRAFT_OK;
	what = st == TXLOG_FRAME_SHORT ? "a frame runs past the end of the file"
				       : fr.why;
	if (!last)
		return graft_errf(errmsg, GRAFT_ECORRUPT,
				  "transaction log segment %s is damaged at "
				  "offset %" PRIu64 " (%s) and is not the last "
				  "segment; " RESTORE, f->path, off, what);
	found = txlog_file_find_frame(f, off + 1, expect,
				      expect + ((uint64_t)size - off) / 17 + 1);
	if (found != UINT64_MAX && has_unwritten_block(f, off, found))
		what = "a block of the last batch was never written (power "
		       "loss); nothing from here on was acknowledged";
	else if (found != UINT64_MAX)
		return graft_errf(errmsg, GRAFT_ECORRUPT,
				  "transaction log segment %s is damaged at "
				  "offset %" PRIu64 " (%s), and a valid frame "
				  "follows at offset %" PRIu64 ", so this is "
				  "not an interrupted write; " RESTORE,
				  f->path, off, what, found);
	if (ftruncate(f->fd, (off_t)off) != 0 || fsync(f->fd) != 0)
		return graft_errf(errmsg, GRAFT_EIO, "cannot truncate the torn "
				  "tail of %s at offset %" PRIu64 ": %s",
				  f->path, off, strerror(errno));
	graft_warn("transaction log segment %s: torn tail at offset %" PRIu64
		   " (%s), %" PRIu64 " bytes dropped: the last write before a "
		   "crash was incomplete", f->path, off, what,
		   (uint64_t)size - off);
	return GRAFT_OK;
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
		rv = scan_segment(&f, last, seg, errmsg);
		if (rv != GRAFT_OK)
			break;
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
		 * or the next one would take its name. */
		log->rotate = cur->size >= log->o.rotation_size &&
			      cur->next > cur->first;
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
