/* Readers: a stream of records from any retained transaction id, with their
 * own file descriptors, while the writer appends. A reader never reads past
 * to_txid, so with to_txid at the newest durable id it sees only durable
 * bytes. At the end of what is written it reports GRAFT_ENOTFOUND and
 * resumes from the same place on the next call; a frame that the file ends
 * inside is the writer's work in progress, not damage. A segment is left
 * for txlog.<next id> when that file exists. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../util/err.h"
#include "txlog_int.h"

struct txlog_reader {
	char *dir; /* owned */
	uint64_t from, to;
	uint64_t expect; /* txid of the frame at off */
	uint64_t off;
	struct txlog_file f; /* fd -1 until a segment is found */
};

static int open_segment(struct txlog_reader *r, uint64_t first, char *errmsg)
{
	char path[PATH_MAX];
	uint64_t named;
	int rv = txlog_segment_path(path, r->dir, first, "");

	if (rv == GRAFT_OK)
		rv = txlog_file_open(&r->f, path, O_RDONLY, &named, errmsg);
	if (rv != GRAFT_OK)
		return rv;
	if (named != first) {
		txlog_file_close(&r->f);
		return graft_errf(errmsg, GRAFT_ECORRUPT, "transaction log "
				  "segment %s is damaged at offset 0: its "
				  "header says it starts at transaction %"
				  PRIu64,
				  path, named);
	}
	r->expect = first;
	r->off = TXLOG_HEADER_SIZE;
	return GRAFT_OK;
}

/* Opens the segment holding r->expect, the newest one starting at or
 * before it; none while the log is empty. GRAFT_ENOTFOUND when the log
 * starts after it. */
static int find_start(struct txlog_reader *r, char *errmsg)
{
	uint64_t *firsts, want = r->expect;
	size_t n, i;
	int rv = txlog_list_segments(r->dir, false, &firsts, &n, errmsg);

	if (rv != GRAFT_OK)
		return rv;
	if (n > 0 && want < firsts[0])
		rv = graft_errf(errmsg, GRAFT_ENOTFOUND,
				"transaction %" PRIu64 " is no longer in the "
				"log of %s; the oldest retained is %" PRIu64,
				want, r->dir, firsts[0]);
	for (i = n; rv == GRAFT_OK && i-- > 0;)
		if (firsts[i] <= want)
			break;
	if (rv == GRAFT_OK && n > 0)
		rv = open_segment(r, firsts[i], errmsg);
	free(firsts);
	return rv;
}

int txlog_reader_open(const char *dir, uint64_t from_txid, uint64_t to_txid,
		      struct txlog_reader **out, char *errmsg)
{
	struct txlog_reader *r = calloc(1, sizeof *r);
	int rv;

	if (r == NULL)
		return GRAFT_ENOMEM;
	txlog_file_init(&r->f);
	r->dir = strdup(dir);
	if (r->dir == NULL) {
		free(r);
		return GRAFT_ENOMEM;
	}
	r->from = from_txid ? from_txid : 1;
	r->to = to_txid;
	r->expect = r->from;
	rv = find_start(r, errmsg);
	if (rv != GRAFT_OK) {
		txlog_reader_close(r);
		return rv;
	}
	*out = r;
	return GRAFT_OK;
}

/* At the end of the current segment: moves to the next one if it exists.
 * GRAFT_ENOTFOUND when it does not yet. */
static int next_segment(struct txlog_reader *r, char *errmsg)
{
	char path[PATH_MAX];
	struct stat st;
	int rv = txlog_segment_path(path, r->dir, r->expect, "");

	if (rv != GRAFT_OK)
		return rv;
	if (stat(path, &st) != 0)
		return errno == ENOENT ? GRAFT_ENOTFOUND
				       : graft_errf(errmsg, GRAFT_EIO,
						    "cannot stat %s: %s", path,
						    strerror(errno));
	/* The writer has moved on, so this segment is complete: a frame the
	 * file ends inside is damage now. */
	if (fstat(r->f.fd, &st) != 0)
		return graft_errf(errmsg, GRAFT_EIO, "cannot stat %s: %s",
				  r->f.path, strerror(errno));
	if ((uint64_t)st.st_size != r->off)
		return graft_errf(errmsg, GRAFT_ECORRUPT,
				  "transaction log segment %s is damaged at "
				  "offset %" PRIu64 ": a frame runs past the "
				  "end of the file and the log goes on in %s",
				  r->f.path, r->off, path);
	return open_segment(r, r->expect, errmsg);
}

int txlog_reader_next(struct txlog_reader *r, uint64_t *txid,
		      const void **rec, size_t *len, char *errmsg)
{
	enum txlog_frame_status st;
	struct txlog_frame fr;
	int rv;

	for (;;) {
		if (r->expect > r->to)
			return GRAFT_ENOTFOUND;
		if (r->f.fd < 0) {
			rv = find_start(r, errmsg);
			if (rv != GRAFT_OK)
				return rv;
			if (r->f.fd < 0) /* nothing is written yet */
				return GRAFT_ENOTFOUND;
		}
		rv = txlog_file_frame(&r->f, r->off, &fr, &st);
		if (rv == GRAFT_EIO)
			return graft_errf(errmsg, rv, "cannot read %s: %s",
					  r->f.path, strerror(errno));
		if (rv != GRAFT_OK)
			return rv;
		if (st == TXLOG_FRAME_SHORT) {
			rv = next_segment(r, errmsg);
			if (rv != GRAFT_OK)
				return rv;
			continue;
		}
		if (st == TXLOG_FRAME_BAD)
			return graft_errf(errmsg, GRAFT_ECORRUPT,
					  "transaction log segment %s is "
					  "damaged at offset %" PRIu64 " (%s)",
					  r->f.path, r->off, fr.why);
		if (fr.txid != r->expect)
			return graft_errf(errmsg, GRAFT_ECORRUPT,
					  "transaction log segment %s: the "
					  "frame at offset %" PRIu64 " holds "
					  "transaction %" PRIu64 " where %"
					  PRIu64 " should follow", r->f.path,
					  r->off, fr.txid, r->expect);
		r->off += fr.size;
		r->expect++;
		if (fr.txid < r->from)
			continue;
		*txid = fr.txid;
		*rec = fr.payload;
		*len = fr.len;
		return GRAFT_OK;
	}
}

void txlog_reader_set_end(struct txlog_reader *r, uint64_t to_txid)
{
	r->to = to_txid;
}

uint64_t txlog_reader_position(const struct txlog_reader *r)
{
	return r->expect;
}

void txlog_reader_close(struct txlog_reader *r)
{
	txlog_file_free(&r->f);
	free(r->dir);
	free(r);
}
