/* A store copy, the client side (protocol and API in catchup.h).
 *
 * Happy path: connect -> send the STORE line -> one work item on a worker
 * thread receives the whole copy itself, with blocking calls on its own
 * duplicate of the socket (the loop stops reading it), and consumes each
 * receive's bytes at once, while they are in the CPU's cache: the STORE
 * line (opens dest/store/checkpoint.<txid>.tmp through a copy_writer.h
 * writer, sized as announced; its cluster and database ids must be those
 * the caller wants), checkpoint bytes (received straight into the
 * writer's buffers, CRC32C summed while in the cache, then written:
 * buffered with the writeback started behind them, or, for a large copy,
 * O_DIRECT on the writer's thread), the 'C' mark (the sums must agree),
 * records (each checked: CRC, cluster and database ids, next txid; kept
 * in memory, as the install needs them), the 'E' mark (the last txid must
 * be the last record's) -> the last writes drained, one fdatasync of the
 * checkpoint -> the worker loads it whole into the graph the database will serve
 * (verifying its block CRCs, structure and ids as it loads), gives it its
 * final name and fsyncs the directories -> back on the loop, the copy
 * ends. The loop never touches a byte of the copy nor a file, and never
 * loads the checkpoint: catchup_store_install hands the loaded graph to
 * dbms_replace, and the loop only applies the records after the
 * checkpoint and switches the database in.
 *
 * Why one worker receives it all (since 2026-12-06): the loop reading
 * 1 MB and handing it to a worker, turn about, kept two threads of the
 * replica (and two of the upstream) waking each other per MB; on two
 * CPUs the copy ran at a third of what two blocking threads reach
 * (bench/copy_ceiling, docs/benchmarks.md). The copy holds one thread of
 * the pool for its length (a 52 MB checkpoint: about 0.1 s).
 *
 * Failures: an ERR line, a damaged byte, a disk error, a connection that
 * ends before the 'E' mark, an upstream silent for COPY_SILENT_MS or a
 * cancel (seen by the worker within POLL_MS) end the copy with the error
 * in req->errmsg; dest is removed before cb, so a later attempt starts
 * afresh. Ending always goes through tcp_server_close of the request's own
 * server, whose callback (once the connection and its worker are done)
 * reports to the caller, the last thing that touches req. */
#include <config.h> /* _GNU_SOURCE: sync_file_range, O_DIRECT, fallocate */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../checkpoint/checkpoint.h"
#include "../txlog/txlog.h"
#include "../util/buf.h"
#include "../util/crc32c.h"
#include "../util/fs.h"
#include "../util/log.h"
#include "copy_writer.h"
#include "ident_int.h"
#include "replica_int.h"

/* The most one receive takes: its bytes are summed while they are still
 * in the cache. */
#define RECV_STEP (256u << 10)
/* The worker waits for bytes this long at a time, then looks whether the
 * copy was cancelled. */
#define POLL_MS 100
/* An upstream that sends nothing for this long has failed. */
#define COPY_SILENT_MS 60000
#define LINE_MAX_LEN 1024

enum store_phase {
	SC_LINE, /* waiting for the STORE line */
	SC_CKPT, /* checkpoint bytes */
	SC_MSGS, /* 'C', 'T'..., 'E' */
	SC_DONE, /* complete and verified */
};

struct store_conn {
	struct tcp_conn tcp; /* first: a struct tcp_conn * is a store_conn * */
	struct catchup_store_copy_req *req;
	/* The worker's while its work item runs, the loop's otherwise: its
	 * duplicate of the socket, the bytes received not consumed yet (the
	 * start of a message), which start at offset `consumed` of the
	 * stream */
	int sock;
	struct graft_buf work;
	uint64_t consumed;
	enum store_phase phase;
	uint32_t crc;
	uint64_t ckpt_left, next_tx;
	uint64_t first_byte_ns;    /* when the checkpoint's first byte came */
	struct catchup_writer out; /* the checkpoint's file (worker's) */
	bool crc_seen;
	struct graft_buf frames; /* the records after the checkpoint */
	struct graph *graph;     /* the checkpoint, once loaded */
	uint64_t copy_us, transfer_us, drain_us, sync_us, load_us;
	bool direct;
	char ckpt_final[4200], ckpt_tmp[4210];
	char line[LINE_MAX_LEN + 64];
	char request[512]; /* on the wire while the worker runs */
	int status;
	char errmsg[GRAFT_ERRMSG_SIZE];
};

/* Worker side ------------------------------------------------------------ */

/* n checkpoint bytes at p (received into the work buffer, with the
 * STORE line): summed and copied into the writer's buffers. */
static int take_ckpt(struct store_conn *sc, const uint8_t *p, size_t n)
{
	size_t room, k;
	uint8_t *dst;
	int rv = GRAFT_OK;

	sc->crc = graft_crc32c(sc->crc, p, n);
	for (size_t off = 0; rv == GRAFT_OK && off < n; off += k) {
		dst = catchup_writer_next(&sc->out, &room, sc->errmsg);
		if (dst == NULL)
			return GRAFT_EIO;
		k = n - off < room ? n - off : room;
		memcpy(dst, p + off, k);
		rv = catchup_writer_filled(&sc->out, k, sc->errmsg);
	}
	sc->req->bytes += n;
	sc->ckpt_left -= n;
	if (sc->ckpt_left == 0)
		sc->phase = SC_MSGS;
	return rv;
}

/* The STORE line: what is coming, and the files it goes to. */
static int take_line(struct store_conn *sc, char *line)
{
	struct catchup_store_copy_req *req = sc->req;
	char proto[32], word[16], db[128], path[4200], cluster[40],
		want[IDENTITY_LEN + 1];
	bool same;
	unsigned long long id, ckpt, size, last;
	int rv;

	if (sscanf(line, "%31s %15s %127s %39s %llu %llu %llu %llu", proto,
		   word, db, cluster, &id, &ckpt, &size, &last) != 8 ||
	    strcmp(proto, CATCHUP_PROTO) != 0 || strcmp(word, "STORE") != 0)
		return graft_errf(sc->errmsg, GRAFT_EIO, "the upstream refused "
				  "the store copy: %.300s", line);
	if (strcmp(db, req->db) != 0 ||
	    catchup_wire_id(cluster, id, db, &req->id) != GRAFT_OK ||
	    last < ckpt)
		return graft_errf(sc->errmsg, GRAFT_ECORRUPT, "the upstream "
				  "answered for another database, without a "
				  "cluster id or with a log that ends before "
				  "its checkpoint: %.300s", line);
	same = req->check == CATCHUP_COPY_CLUSTER
		       ? memcmp(req->id.cluster, req->want.cluster,
				sizeof req->id.cluster) == 0
		       : catchup_wire_id_equal(&req->id, &req->want);
	if (req->check != CATCHUP_COPY_ANY && !same) {
		txlog_wire_cluster_text(&req->want, want);
		if (req->check == CATCHUP_COPY_CLUSTER)
			return graft_errf(sc->errmsg, GRAFT_ECORRUPT, "the "
					  "upstream offers database %s of "
					  "cluster %s; this member is of "
					  "cluster %s: refused (an upstream of "
					  "another cluster)", db, cluster,
					  want);
		return graft_errf(sc->errmsg, GRAFT_ECORRUPT, "the upstream "
				  "offers database %s of cluster %s, database "
				  "id %llu; this member's is of cluster %s, "
				  "database id %" PRIu64 ": refused (an upstream "
				  "of another cluster, or a database dropped "
				  "and created again)", db, cluster, id, want,
				  req->want.db);
	}
	req->ckpt_txid = ckpt;
	req->last_txid = last;
	sc->ckpt_left = size;
	sc->next_tx = ckpt + 1;
	snprintf(path, sizeof path, "%s/store", req->dest);
	if (checkpoint_path(sc->ckpt_final, sizeof sc->ckpt_final, path,
			    ckpt) != GRAFT_OK)
		return graft_errf(sc->errmsg, GRAFT_EINVAL, "path %s too long",
				  path);
	snprintf(sc->ckpt_tmp, sizeof sc->ckpt_tmp, "%s.tmp", sc->ckpt_final);
	rv = catchup_writer_open(&sc->out, sc->ckpt_tmp, size,
				 req->direct_min > 0 ? req->direct_min
						     : CATCHUP_COPY_DIRECT_MIN,
				 &req->cancelled, sc->errmsg);
	sc->phase = size > 0 ? SC_CKPT : SC_MSGS;
	sc->first_byte_ns = uv_hrtime();
	return rv;
}

/* The checkpoint durable, loaded whole once (into the graph the database
 * will serve: sc->graph), then named. */
static int finish(struct store_conn *sc)
{
	struct catchup_store_copy_req *req = sc->req;
	uint64_t txid = 0, start;
	char dir[4200];
	int rv;

	rv = catchup_writer_finish(&sc->out, &sc->drain_us, &sc->sync_us,
				   sc->errmsg);
	sc->direct = sc->out.direct;
	catchup_writer_close(&sc->out);
	if (rv != GRAFT_OK)
		return rv;
	start = uv_hrtime();
	sc->copy_us = (start - req->start_ns) / 1000;
	sc->transfer_us = (start - sc->first_byte_ns) / 1000;
	if (graph_new(&sc->graph) != GRAFT_OK)
		return graft_errf(sc->errmsg, GRAFT_ENOMEM, "out of memory");
	rv = checkpoint_load_file(sc->ckpt_tmp, sc->graph, &txid, sc->errmsg);
	sc->load_us = (uv_hrtime() - start) / 1000;
	if (rv == GRAFT_OK && txid != req->ckpt_txid)
		rv = graft_errf(sc->errmsg, GRAFT_ECORRUPT, "the copied "
				"checkpoint holds transaction %" PRIu64 ", not "
				"the %" PRIu64 " announced", txid,
				req->ckpt_txid);
	if (rv != GRAFT_OK)
		return rv;
	if (rename(sc->ckpt_tmp, sc->ckpt_final) != 0)
		return graft_errf(sc->errmsg, GRAFT_EIO, "cannot rename %s: %s",
				  sc->ckpt_tmp, strerror(errno));
	snprintf(dir, sizeof dir, "%s/store", req->dest);
	rv = graft_fsync_dir(dir, sc->errmsg);
	if (rv == GRAFT_OK)
		rv = graft_fsync_dir(req->dest, sc->errmsg);
	sc->phase = SC_DONE;
	return rv;
}

/* One message of the tail at p (n bytes there); *used = 0 when it is not
 * all there yet. */
static int take_msg(struct store_conn *sc, const uint8_t *p, size_t n,
		    size_t *used)
{
	const uint8_t *rec;
	size_t size, len;
	int rv;

	*used = 0;
	switch (p[0]) {
	case CATCHUP_MSG_CKPT_CRC:
		if (n < 5)
			return GRAFT_OK;
		*used = 5;
		sc->crc_seen = true;
		if (graft_get_u32le(p + 1) != sc->crc)
			return graft_errf(sc->errmsg, GRAFT_ECORRUPT, "the "
					  "checkpoint's bytes do not match the "
					  "CRC32C the upstream sent (damaged in "
					  "transit)");
		return GRAFT_OK;
	case CATCHUP_MSG_TX:
		if (n < 1 + TXLOG_WIRE_HEADER)
			return GRAFT_OK;
		rv = txlog_wire_size(p + 1, &size, sc->errmsg);
		if (rv != GRAFT_OK || n < 1 + size)
			return rv;
		*used = 1 + size;
		rv = sc->crc_seen ? txlog_wire_check(p + 1, size, &sc->req->id,
						     sc->next_tx, &rec, &len,
						     sc->errmsg)
				  : graft_errf(sc->errmsg, GRAFT_ECORRUPT,
					       "a record before the "
					       "checkpoint's CRC");
		if (rv == GRAFT_OK)
			rv = graft_buf_append(&sc->frames, p + 1, size);
		if (rv == GRAFT_ENOMEM)
			rv = graft_errf(sc->errmsg, rv, "out of memory for "
					"the log after the checkpoint");
		sc->next_tx++;
		return rv;
	case CATCHUP_MSG_END:
		if (n < 9)
			return GRAFT_OK;
		*used = 9;
		if (!sc->crc_seen || graft_get_u64le(p + 1) != sc->next_tx - 1 ||
		    sc->next_tx - 1 != sc->req->last_txid)
			return graft_errf(sc->errmsg, GRAFT_ECORRUPT, "the copy "
					  "ended at transaction %" PRIu64
					  ", not at the %" PRIu64 " announced",
					  sc->next_tx - 1, sc->req->last_txid);
		return finish(sc);
	default:
		return graft_errf(sc->errmsg, GRAFT_ECORRUPT, "the store copy "
				  "holds a message of unknown kind 0x%02x "
				  "(damaged in transit?)", p[0]);
	}
}

/* Consumes what it can of the bytes received. */
static int consume(struct store_conn *sc)
{
	uint8_t *p = sc->work.data, *nl;
	size_t off = 0, n = sc->work.len, used = 1, k;
	int rv = GRAFT_OK;

	while (rv == GRAFT_OK && off < n && used > 0 && sc->phase != SC_DONE) {
		switch (sc->phase) {
		case SC_LINE:
			nl = memchr(p, '\n', n);
			if (nl == NULL) {
				used = 0;
				if (n > LINE_MAX_LEN)
					rv = graft_errf(sc->errmsg, GRAFT_EIO,
							"the upstream's answer "
							"is too long");
				break;
			}
			k = (size_t)(nl - p);
			memcpy(sc->line, p, k < LINE_MAX_LEN ? k : LINE_MAX_LEN);
			sc->line[k < LINE_MAX_LEN ? k : LINE_MAX_LEN] = '\0';
			off = k + 1;
			rv = take_line(sc, sc->line);
			break;
		case SC_CKPT:
			k = n - off < sc->ckpt_left ? n - off
						    : (size_t)sc->ckpt_left;
			rv = take_ckpt(sc, p + off, k);
			off += k;
			break;
		default:
			rv = take_msg(sc, p + off, n - off, &used);
			off += used;
			break;
		}
	}
	memmove(p, p + off, n - off);
	sc->work.len = n - off;
	sc->consumed += off;
	return rv;
}

/* The next bytes of the copy, at most max of them, into dst: GRAFT_OK
 * once *got (> 0) came, else why none will. */
static int receive_into(struct store_conn *sc, uint8_t *dst, size_t max,
			size_t *got)
{
	struct pollfd pfd = {.fd = sc->sock, .events = POLLIN};
	uint64_t silent_ms = 0;
	ssize_t n;

	for (;;) {
		if (__atomic_load_n(&sc->req->cancelled, __ATOMIC_ACQUIRE))
			return graft_errf(sc->errmsg, GRAFT_ESHUTDOWN, "the "
					  "copy was cancelled");
		n = recv(sc->sock, dst, max, MSG_DONTWAIT);
		if (n > 0) {
			*got = (size_t)n;
			return GRAFT_OK;
		}
		if (n == 0)
			return graft_errf(sc->errmsg, GRAFT_EIO, "the upstream "
					  "closed the connection before the "
					  "copy was complete");
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return graft_errf(sc->errmsg, GRAFT_EIO, "the upstream "
					  "connection failed before the copy "
					  "was complete: %s", strerror(errno));
		if (silent_ms >= COPY_SILENT_MS)
			return graft_errf(sc->errmsg, GRAFT_EIO, "the "
					  "upstream sent nothing for %d s "
					  "during the copy", COPY_SILENT_MS /
					  1000);
		if (poll(&pfd, 1, POLL_MS) == 0)
			silent_ms += POLL_MS;
	}
}

/* The next bytes of the copy into sc->work. */
static int receive(struct store_conn *sc)
{
	size_t got;
	int rv;

	if (graft_buf_reserve(&sc->work, RECV_STEP) != GRAFT_OK)
		return graft_errf(sc->errmsg, GRAFT_ENOMEM, "out of memory");
	rv = receive_into(sc, sc->work.data + sc->work.len, RECV_STEP, &got);
	if (rv == GRAFT_OK)
		sc->work.len += got;
	return rv;
}

/* Checkpoint bytes received straight into the writer's buffer (no copy),
 * summed while they are in the cache. */
static int receive_ckpt(struct store_conn *sc)
{
	size_t room, got;
	uint8_t *dst = catchup_writer_next(&sc->out, &room, sc->errmsg);
	int rv;

	if (dst == NULL)
		return GRAFT_EIO;
	room = room < RECV_STEP ? room : RECV_STEP;
	room = room < sc->ckpt_left ? room : (size_t)sc->ckpt_left;
	rv = receive_into(sc, dst, room, &got);
	if (rv != GRAFT_OK)
		return rv;
	sc->crc = graft_crc32c(sc->crc, dst, got);
	sc->req->bytes += got;
	sc->ckpt_left -= got;
	if (sc->ckpt_left == 0)
		sc->phase = SC_MSGS;
	return catchup_writer_filled(&sc->out, got, sc->errmsg);
}

/* The whole copy, on a worker: receive, consume, until it is complete
 * (finish ran) or failed. The writer (its thread) never outlives it. */
static void copy_work_cb(struct tcp_conn *tc)
{
	struct store_conn *sc = (struct store_conn *)tc;
	int rv = GRAFT_OK;

	while (rv == GRAFT_OK && sc->phase != SC_DONE) {
		if (sc->phase == SC_CKPT && sc->work.len == 0) {
			rv = receive_ckpt(sc);
			continue;
		}
		rv = receive(sc);
		if (rv == GRAFT_OK)
			rv = consume(sc);
	}
	catchup_writer_close(&sc->out);
	sc->status = rv;
}



/* Loop side -------------------------------------------------------------- */

static void end_copy(struct catchup_store_copy_req *req);

/* The worker is done (or the connection closed meanwhile: status != 0,
 * end_copy runs from sc_closing). */
static void copied_cb(struct tcp_conn *tc, int status)
{
	struct store_conn *sc = (struct store_conn *)tc;
	struct catchup_store_copy_req *req = sc->req;

	if (status != 0)
		return;
	req->status = sc->status;
	if (sc->status == GRAFT_OK) { /* the caller's from now on */
		req->graph = sc->graph;
		req->frames = sc->frames;
		req->copy_us = sc->copy_us;
		req->transfer_us = sc->transfer_us;
		req->drain_us = sc->drain_us;
		req->direct = sc->direct;
		req->sync_us = sc->sync_us;
		req->load_us = sc->load_us;
		sc->graph = NULL;
		graft_buf_init(&sc->frames);
	}
	snprintf(req->errmsg, sizeof req->errmsg, "%s", sc->errmsg);
	end_copy(req);
}

/* Connected: the request goes out, and a worker receives the copy on its
 * own duplicate of the socket (the loop does not read it). */
static void sc_connected(struct tcp_conn *tc, int status)
{
	struct store_conn *sc = (struct store_conn *)tc;
	struct catchup_store_copy_req *req = sc->req;
	int n;

	if (status != 0) {
		graft_errf(req->errmsg, GRAFT_EIO, "cannot connect to the "
			   "upstream: %s", uv_strerror(status));
		return;
	}
	if (tcp_conn_dup_socket(tc, &sc->sock) != GRAFT_OK) {
		graft_errf(req->errmsg, GRAFT_EIO, "cannot duplicate the "
			   "upstream's socket: %s", strerror(errno));
		tcp_conn_close(tc);
		return;
	}
	n = snprintf(sc->request, sizeof sc->request,
		     CATCHUP_PROTO " STORE %s %s\n", req->db, req->server_id);
	tcp_conn_write(tc, sc->request, (size_t)n);
	if (tcp_conn_queue_work(tc, copy_work_cb, copied_cb) != GRAFT_OK) {
		graft_errf(req->errmsg, GRAFT_EIO, "cannot queue work");
		tcp_conn_close(tc);
	}
}

/* However the connection ends, the copy ends. */
static void sc_closing(struct tcp_conn *tc)
{
	end_copy(((struct store_conn *)tc)->req);
}

static void sc_free(struct tcp_conn *tc)
{
	struct store_conn *sc = (struct store_conn *)tc;

	catchup_writer_close(&sc->out); /* the worker closed it, if it ran */
	if (sc->sock >= 0)
		close(sc->sock);
	if (sc->graph != NULL)
		graph_free(sc->graph);
	graft_buf_free(&sc->frames);
	graft_buf_free(&sc->work);
	free(sc);
}

static struct tcp_conn *no_conn_new(struct tcp_server *srv)
{
	(void)srv;
	return NULL; /* it only connects */
}

static const struct tcp_ops store_tcp_ops = {
	.conn_new = no_conn_new,
	.connected = sc_connected,
	.closing = sc_closing,
	.conn_free = sc_free,
};

/* The connection and its worker are done: report, the last use of req. */
static void copy_closed_cb(struct tcp_server *srv)
{
	struct catchup_store_copy_req *req = srv->data;

	if (req->status != GRAFT_OK)
		catchup_store_copy_discard(req);
	req->cb(req, req->status);
}

static void end_copy(struct catchup_store_copy_req *req)
{
	if (req->tcp.closing)
		return;
	if (req->status == GRAFT_OK && req->errmsg[0] != '\0')
		req->status = GRAFT_EIO;
	tcp_server_close(&req->tcp, copy_closed_cb);
}

int catchup_store_copy(struct catchup_store_copy_req *req, uv_loop_t *loop,
		       const struct sockaddr *upstream, const char *db,
		       const char *server_id, const char *dest_dir,
		       const struct txlog_wire_id *want,
		       enum catchup_copy_check check, catchup_store_copy_cb cb)
{
	char store[4200];
	struct store_conn *sc;
	struct stat st;
	void *data = req->data;
	uint64_t direct_min = req->direct_min;

	memset(req, 0, sizeof *req);
	req->data = data;
	req->direct_min = direct_min;
	if (snprintf(req->db, sizeof req->db, "%s", db) >= (int)sizeof req->db ||
	    snprintf(req->dest, sizeof req->dest, "%s", dest_dir) >=
		    (int)sizeof req->dest)
		return graft_errf(req->errmsg, GRAFT_EINVAL, "database name or "
				  "path too long");
	if (stat(dest_dir, &st) == 0)
		return graft_errf(req->errmsg, GRAFT_EEXIST, "%s exists: remove "
				  "it, or copy elsewhere", dest_dir);
	snprintf(store, sizeof store, "%s/store", dest_dir);
	if (graft_mkdir_p(store, req->errmsg) != GRAFT_OK)
		return GRAFT_EIO;
	sc = calloc(1, sizeof *sc);
	if (sc == NULL) {
		graft_remove_tree(dest_dir);
		return graft_errf(req->errmsg, GRAFT_ENOMEM, "out of memory");
	}
	snprintf(req->server_id, sizeof req->server_id, "%s", server_id);
	req->check = want != NULL ? check : CATCHUP_COPY_ANY;
	if (want != NULL)
		req->want = *want;
	req->cb = cb;
	req->start_ns = uv_hrtime();
	req->status = GRAFT_EIO; /* until the copy is complete */
	sc->req = req;
	sc->sock = -1;
	graft_buf_init(&sc->work);
	graft_buf_init(&sc->frames);
	tcp_server_init(&req->tcp, loop, &store_tcp_ops, req);
	/* On an error the connection is freed by tcp.h, and the closed
	 * server reports it through cb like any other failure. */
	if (tcp_connect(&req->tcp, &sc->tcp, upstream) != GRAFT_OK) {
		graft_errf(req->errmsg, GRAFT_EIO, "cannot connect to the "
			   "upstream");
		end_copy(req);
	}
	return GRAFT_OK;
}

void catchup_store_copy_discard(struct catchup_store_copy_req *req)
{
	if (req->graph != NULL)
		graph_free(req->graph);
	req->graph = NULL;
	graft_buf_free(&req->frames);
	graft_remove_tree(req->dest);
}

void catchup_store_copy_cancel(struct catchup_store_copy_req *req)
{
	/* the worker sees it within POLL_MS; tcp_server_close waits for it */
	__atomic_store_n(&req->cancelled, 1, __ATOMIC_RELEASE);
	if (req->errmsg[0] == '\0')
		graft_errf(req->errmsg, GRAFT_ESHUTDOWN, "the copy was "
			   "cancelled");
	end_copy(req);
}

/* Installing a copy ------------------------------------------------------ */

void catchup_copy_dir(struct db *db, char *out, size_t n)
{
	const char *slash = strrchr(db_store_dir(db), '/');

	snprintf(out, n, "%.*s/.copy-%s",
		 slash != NULL ? (int)(slash - db_store_dir(db)) : 1,
		 slash != NULL ? db_store_dir(db) : ".", db_name(db));
	graft_remove_tree(out);
}

int catchup_apply_frame(struct db *db, const struct txlog_wire_id *id,
			const uint8_t *frame, size_t size, char *errmsg)
{
	uint64_t next = db_last_txid(db) + 1;
	const uint8_t *rec;
	size_t len;
	int rv = txlog_wire_check(frame, size, id, next, &rec, &len, errmsg);

	if (rv == GRAFT_OK)
		rv = db_apply_stream(db, rec, len, next, errmsg);
	return rv;
}

/* What catchup_store_install applies on top of the copied checkpoint. */
struct install {
	const char *dest;
	const struct txlog_wire_id *id;
	const struct graft_buf *frames;
	uint64_t applied;
};

/* The log after the checkpoint, applied before statements can see the
 * database (dbms_replace's prepare). Each frame was checked as it came;
 * catchup_apply_frame checks it again against the database's next txid. */
static int apply_log(void *arg, struct db *db, char *errmsg)
{
	struct install *in = arg;
	const struct graft_buf *b = in->frames;
	size_t off = 0, size;
	int rv = GRAFT_OK;

	while (rv == GRAFT_OK && off < b->len) {
		rv = b->len - off < TXLOG_WIRE_HEADER
			     ? graft_errf(errmsg, GRAFT_ECORRUPT, "the log of "
					  "%s ends in the middle of a record",
					  in->dest)
			     : txlog_wire_size(b->data + off, &size, errmsg);
		if (rv == GRAFT_OK && b->len - off < size)
			rv = graft_errf(errmsg, GRAFT_ECORRUPT, "the log of %s "
					"ends in the middle of a record",
					in->dest);
		if (rv == GRAFT_OK)
			rv = catchup_apply_frame(db, in->id, b->data + off,
						 size, errmsg);
		in->applied += rv == GRAFT_OK;
		off += size;
	}
	return rv;
}

int catchup_store_install(struct dbms *dbms, const char *name,
			  struct catchup_store_copy_req *req, char *errmsg)
{
	struct install in = {.dest = req->dest, .id = &req->id,
			     .frames = &req->frames};
	uint64_t start = uv_hrtime();
	struct graph *g = req->graph;
	char store[4200];
	int rv;

	req->graph = NULL; /* dbms_replace takes it */
	snprintf(store, sizeof store, "%s/store", req->dest);
	rv = dbms_replace(dbms, name, store, g, req->ckpt_txid, apply_log, &in,
			  errmsg);
	req->hold_us = (uv_hrtime() - start) / 1000;
	if (rv == GRAFT_OK)
		graft_info("store copy of %s: %" PRIu64 " bytes of checkpoint "
			   "(transaction %" PRIu64 ") received, checked and "
			   "durable in %.3f s (%.3f s from its first byte, "
			   "%.3f s of it the final wait for the disk: %.3f s "
			   "of writes, then fdatasync; written %s); "
			   "loaded and verified off the loop in %.3f s; the "
			   "loop held %.3f s to switch to it (%" PRIu64
			   " records after it applied)", name,
			   req->bytes, req->ckpt_txid,
			   (double)req->copy_us / 1e6,
			   (double)req->transfer_us / 1e6,
			   (double)(req->drain_us + req->sync_us) / 1e6,
			   (double)req->drain_us / 1e6,
			   req->direct ? "O_DIRECT on a writer thread"
				       : "buffered",
			   (double)req->load_us / 1e6,
			   (double)req->hold_us / 1e6, in.applied);
	catchup_store_copy_discard(req);
	return rv;
}
