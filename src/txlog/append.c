/* Appending with group commit.
 *
 * Happy path: txlog_append frames the record (length, txid, bytes) into the
 * pending buffer and queues the request. If no batch is in flight it starts
 * one: the pending buffer and queue become the batch, and a threadpool
 * worker stamps every frame with the batch's bounds (its first txid and the
 * offset where it ends, which recovery needs to know that only the last
 * batch was torn) and its CRC32C, writes the whole batch with one write and
 * makes it durable with one fdatasync. Back on the loop thread each request's
 * callback runs in order with GRAFT_OK. Appends arriving meanwhile, including
 * those made from the callbacks, form the next batch, started as soon as the
 * callbacks return; so under load every fsync carries everything that
 * arrived during the previous one.
 *
 * Rotation: after a batch, a segment of rotation_size or more is finished;
 * the next batch first creates txlog.<its first txid> (header written as
 * .tmp, fsynced, renamed, directory fsynced). A fresh log, or one whose base
 * moved, creates its first segment the same way.
 *
 * Failure: if creating the segment, the write or the fdatasync fails
 * (ENOSPC, EFBIG, EIO), the segment is truncated back to where the batch
 * began, the failure is logged naming the file, and every request of the
 * batch, and every one queued behind it (their ids follow the failed ones),
 * fails with GRAFT_ENOSPC (disk full, file too large) or GRAFT_EIO. The log
 * then accepts appends again from the batch's first txid. Only if the
 * truncation itself fails does the log refuse appends for good (GRAFT_EIO),
 * since writing after bytes that are not records would damage it.
 *
 * Closing waits for the batch in flight, fails what is still queued with
 * GRAFT_ESHUTDOWN, closes the segment in the threadpool, then calls back. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../util/check.h"
#include "../util/err.h"
#include "../util/fs.h"
#include "../util/log.h"
#include "txlog_int.h"

/* Buffers above this are released after their batch rather than kept. */
#define KEEP_BUFFER (4u << 20)

static void start_batch(struct txlog *log);

static int errno_code(int e)
{
	return e == ENOSPC || e == EDQUOT || e == EFBIG ? GRAFT_ENOSPC
							 : GRAFT_EIO;
}

/* Worker: runs with the segment fd and the batch to itself. */
static void batch_work_cb(uv_work_t *work)
{
	struct txlog *log = work->data;

	log->w_status = GRAFT_OK;
	log->w_new_segment = false;
	log->w_fsyncs = 0;
	log->w_broken = false;
	if (log->fd >= 0 && log->rotate && log->o.derived) {
		/* A derived log may lose only its last segment's tail. */
		log->w_fsyncs++;
		if (fdatasync(log->fd) != 0) {
			log->w_what = "fdatasync";
			goto err;
		}
	}
	if (log->fd < 0 || log->rotate) {
		int fd = txlog_segment_create(log->dir, log->w_first,
					      &log->w_fsyncs);
		if (fd < 0) {
			log->w_errno = errno;
			log->w_what = "create";
			log->w_status = errno_code(errno);
			log->w_failed_first = log->w_first;
			return;
		}
		if (log->fd >= 0)
			close(log->fd);
		log->fd = fd;
		log->fd_first = log->w_first;
		log->fd_size = TXLOG_HEADER_SIZE;
		log->rotate = false;
		log->w_new_segment = true;
	}
	txlog_batch_seal(log->writing.data, log->writing.len, log->fd_size);
	if (graft_write_all(log->fd, log->writing.data, log->writing.len) !=
	    GRAFT_OK) {
		log->w_what = "write";
		goto err;
	}
	if (!log->o.derived) {
		log->w_fsyncs++;
		if (fdatasync(log->fd) != 0) {
			log->w_what = "fdatasync";
			goto err;
		}
	}
	log->fd_size += log->writing.len;
	log->rotate = log->fd_size >= log->o.rotation_size;
	return;

err:
	log->w_errno = errno;
	log->w_status = errno_code(errno);
	log->w_failed_first = log->fd_first;
	if (ftruncate(log->fd, (off_t)log->fd_size) != 0 ||
	    lseek(log->fd, (off_t)log->fd_size, SEEK_SET) < 0) {
		log->w_cut_errno = errno;
		log->w_broken = true;
	}
}

/* Calls back every request of a list, in order. */
static void complete(struct txlog_append_req *head, int status)
{
	while (head != NULL) {
		struct txlog_append_req *req = head;
		head = req->next;
		req->next = NULL;
		req->cb(req, status);
	}
}

static void close_work_cb(uv_work_t *work)
{
	struct txlog *log = work->data;

	/* A derived log closed cleanly needs nothing applied again. */
	if (log->fd >= 0 && log->o.derived && fdatasync(log->fd) != 0)
		graft_warn("transaction log in %s: cannot fdatasync on close "
			   "(%s); its tail is applied again at the next start",
			   log->dir, strerror(errno));
	if (log->fd >= 0)
		close(log->fd);
	log->fd = -1;
}

static void close_done_cb(uv_work_t *work, int status)
{
	struct txlog *log = work->data;

	(void)status;
	log->close_cb(log, log->close_arg);
	graft_buf_free(&log->pending);
	graft_buf_free(&log->writing);
	free(log->segs);
	free(log->dir);
	free(log);
}

static void finish_close(struct txlog *log)
{
	struct txlog_append_req *queued = log->q_head;
	struct txlog_sync_req *syncs = log->s_head;
	int rv;

	log->q_head = log->q_tail = NULL;
	log->s_head = log->s_tail = NULL;
	graft_buf_reset(&log->pending);
	complete(queued, GRAFT_ESHUTDOWN);
	while (syncs != NULL) {
		struct txlog_sync_req *req = syncs;
		syncs = req->next;
		req->cb(req, GRAFT_ESHUTDOWN);
	}
	log->work.data = log;
	rv = uv_queue_work(log->loop, &log->work, close_work_cb, close_done_cb);
	GRAFT_CHECK(rv == 0); /* fails only without a work callback */
}

static void report_failure(struct txlog *log)
{
	char path[PATH_MAX];

	txlog_segment_path(path, log->dir, log->w_failed_first, "");
	graft_error("transaction log %s: cannot %s: %s; transactions %" PRIu64
		    "..%" PRIu64 " were not logged and may be retried",
		    path, log->w_what, strerror(log->w_errno), log->w_first,
		    log->w_last);
	if (log->w_broken) {
		log->broken = GRAFT_EIO;
		graft_error("transaction log %s: cannot cut the failed write "
			    "back off (%s); appends are refused until the "
			    "database is reopened", path,
			    strerror(log->w_cut_errno));
	}
}

/* Calls back the sync requests that what is on disk answers, oldest first:
 * those it covers, and with status every one when a sync failed. With no
 * append queued, a request waiting for appends that failed is covered by
 * what the log holds. */
static void settle_syncs(struct txlog *log, int status)
{
	uint64_t last = txlog_last_txid(log);

	while (log->s_head != NULL) {
		struct txlog_sync_req *req = log->s_head;
		bool covered = req->upto <= log->synced ||
			       (log->q_head == NULL && last <= log->synced);

		if (!covered && status == GRAFT_OK)
			break;
		log->s_head = req->next;
		if (log->s_head == NULL)
			log->s_tail = NULL;
		req->next = NULL;
		req->cb(req, covered ? GRAFT_OK : status);
	}
}

static void sync_work_cb(uv_work_t *work)
{
	struct txlog *log = work->data;

	log->w_status = GRAFT_OK;
	log->w_fsyncs = 0;
	if (log->fd < 0)
		return;
	log->w_fsyncs = 1;
	if (fdatasync(log->fd) != 0) {
		log->w_errno = errno;
		log->w_status = GRAFT_EIO;
	}
}

static void next_work(struct txlog *log);

static void sync_done_cb(uv_work_t *work, int status)
{
	struct txlog *log = work->data;

	(void)status;
	log->busy = false;
	log->stats.fsyncs += log->w_fsyncs;
	if (log->w_status == GRAFT_OK)
		log->synced = log->s_target;
	else
		graft_error("transaction log in %s: cannot fdatasync: %s",
			    log->dir, strerror(log->w_errno));
	log->in_callbacks = true;
	settle_syncs(log, log->w_status);
	log->in_callbacks = false;
	next_work(log);
}

/* Syncs what the log holds now, on a worker. */
static void start_sync(struct txlog *log)
{
	int rv;

	log->s_target = txlog_last_txid(log);
	log->busy = true;
	log->work.data = log;
	rv = uv_queue_work(log->loop, &log->work, sync_work_cb, sync_done_cb);
	GRAFT_CHECK(rv == 0); /* fails only without a work callback */
}

/* Once nothing runs: queued appends first, then the syncs behind them. */
static void next_work(struct txlog *log)
{
	if (log->closing)
		finish_close(log);
	else if (log->q_head != NULL)
		start_batch(log);
	else if (log->s_head != NULL)
		start_sync(log);
}

static void batch_done_cb(uv_work_t *work, int status)
{
	struct txlog *log = work->data;
	struct txlog_append_req *batch = log->w_head, *queued = NULL;
	int rv = log->w_status;

	(void)status;
	log->busy = false;
	log->w_head = NULL;
	log->stats.fsyncs += log->w_fsyncs;
	if (log->w_new_segment) {
		/* Room was made by txlog_append. */
		struct txlog_segment *seg = &log->segs[log->n_segs++];
		seg->first = seg->next = log->w_first;
		seg->size = TXLOG_HEADER_SIZE;
	}
	if (rv == GRAFT_OK) {
		log->segs[log->n_segs - 1].next = log->w_last + 1;
		log->segs[log->n_segs - 1].size = log->fd_size;
		log->stats.appends += log->w_last - log->w_first + 1;
		log->stats.batches++;
		log->stats.bytes += log->writing.len;
	} else {
		report_failure(log);
		queued = log->q_head;
		log->q_head = log->q_tail = NULL;
		graft_buf_reset(&log->pending);
		log->next_txid = log->w_first;
	}
	if (log->writing.cap > KEEP_BUFFER)
		graft_buf_free(&log->writing);
	graft_buf_reset(&log->writing);
	if (rv == GRAFT_OK && !log->o.derived)
		log->synced = log->w_last;
	log->in_callbacks = true;
	complete(batch, rv);
	complete(queued, rv);
	if (rv == GRAFT_OK && log->durable_cb != NULL)
		log->durable_cb(log->durable_data, log->w_last);
	settle_syncs(log, GRAFT_OK);
	log->in_callbacks = false;
	next_work(log);
}

static void start_batch(struct txlog *log)
{
	struct graft_buf frames = log->pending;
	int rv;

	log->pending = log->writing;
	log->writing = frames;
	log->w_head = log->q_head;
	log->w_first = log->q_head->txid;
	log->w_last = log->q_tail->txid;
	log->q_head = log->q_tail = NULL;
	log->busy = true;
	log->work.data = log;
	rv = uv_queue_work(log->loop, &log->work, batch_work_cb, batch_done_cb);
	GRAFT_CHECK(rv == 0); /* fails only without a work callback */
}

/* What an append must pass before anything changes: GRAFT_OK, or the
 * error txlog_append documents. */
static int append_check(struct txlog *log, uint64_t txid, size_t len)
{
	if (log->closing)
		return GRAFT_ESHUTDOWN;
	if (log->broken != GRAFT_OK)
		return log->broken;
	if (len == 0 || txid != log->next_txid)
		return GRAFT_EINVAL;
	if (len > TXLOG_MAX_RECORD)
		return GRAFT_ETOOBIG;
	/* The batch may start a segment: room for it now, so that completing
	 * the batch cannot fail. */
	if (log->n_segs == log->cap_segs) {
		size_t cap = log->cap_segs * 2 + 4;
		struct txlog_segment *s = realloc(log->segs, cap * sizeof *s);
		if (s == NULL)
			return GRAFT_ENOMEM;
		log->segs = s;
		log->cap_segs = cap;
	}
	return GRAFT_OK;
}

/* Stamps the frame header at frame (the batch bounds and the CRC are the
 * worker's: txlog_batch_seal), queues req and starts a batch if none is
 * under way. */
static void append_queue(struct txlog *log, struct txlog_append_req *req,
			 uint64_t txid, uint8_t *frame, size_t len,
			 txlog_append_cb cb)
{
	memset(frame, 0, TXLOG_FRAME_HEADER);
	graft_put_u32le(frame, (uint32_t)len);
	graft_put_u64le(frame + 8, txid);
	graft_put_u64le(frame + TXLOG_FRAME_HEADER_V2, log->raft_index);
	req->txid = txid;
	req->cb = cb;
	req->next = NULL;
	if (log->q_tail != NULL)
		log->q_tail->next = req;
	else
		log->q_head = req;
	log->q_tail = req;
	log->next_txid++;
	if (!log->busy && !log->in_callbacks)
		start_batch(log);
}

int txlog_append(struct txlog *log, struct txlog_append_req *req,
		 uint64_t txid, const void *rec, size_t len, txlog_append_cb cb)
{
	uint8_t *frame;
	int rv = append_check(log, txid, len);

	if (rv == GRAFT_OK)
		rv = graft_buf_reserve(&log->pending, TXLOG_FRAME_HEADER + len);
	if (rv != GRAFT_OK)
		return rv;
	frame = log->pending.data + log->pending.len;
	memcpy(frame + TXLOG_FRAME_HEADER, rec, len);
	log->pending.len += TXLOG_FRAME_HEADER + len;
	append_queue(log, req, txid, frame, len, cb);
	return GRAFT_OK;
}

int txlog_frame_begin(struct graft_buf *frame)
{
	static const uint8_t header[TXLOG_FRAME_HEADER];

	graft_buf_reset(frame);
	return graft_buf_append(frame, header, sizeof header);
}

int txlog_append_frame(struct txlog *log, struct txlog_append_req *req,
		       uint64_t txid, struct graft_buf *frame,
		       txlog_append_cb cb)
{
	size_t len = frame->len - TXLOG_FRAME_HEADER;
	struct graft_buf b;
	uint8_t *at;
	int rv;

	GRAFT_CHECK(frame->len >= TXLOG_FRAME_HEADER);
	rv = append_check(log, txid, len);
	if (rv != GRAFT_OK)
		return rv;
	if (log->pending.len == 0) {
		/* The first frame of the next batch: the buffers trade places
		 * instead of the bytes moving. */
		b = log->pending;
		log->pending = *frame;
		*frame = b;
		at = log->pending.data;
	} else {
		rv = graft_buf_reserve(&log->pending, frame->len);
		if (rv != GRAFT_OK)
			return rv;
		at = log->pending.data + log->pending.len;
		memcpy(at, frame->data, frame->len);
		log->pending.len += frame->len;
	}
	graft_buf_reset(frame);
	append_queue(log, req, txid, at, len, cb);
	return GRAFT_OK;
}

int txlog_sync(struct txlog *log, struct txlog_sync_req *req,
	       txlog_sync_cb cb)
{
	if (log->closing)
		return GRAFT_ESHUTDOWN;
	req->cb = cb;
	req->upto = log->next_txid - 1;
	req->next = NULL;
	if (log->s_tail != NULL)
		log->s_tail->next = req;
	else
		log->s_head = req;
	log->s_tail = req;
	if (!log->busy && !log->in_callbacks)
		start_sync(log);
	return GRAFT_OK;
}

void txlog_on_durable(struct txlog *log, txlog_durable_cb cb, void *data)
{
	log->durable_cb = cb;
	log->durable_data = data;
}

void txlog_close(struct txlog *log, void (*cb)(struct txlog *log, void *arg),
		 void *arg)
{
	/* Pins outlive nothing: their holders may unpin after the close. */
	while (log->pins != NULL)
		txlog_unpin(log->pins);
	log->durable_cb = NULL;
	log->closing = true;
	log->close_cb = cb;
	log->close_arg = arg;
	if (!log->busy && !log->in_callbacks)
		finish_close(log);
}
