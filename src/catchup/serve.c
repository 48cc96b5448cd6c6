/* The upstream side of catch-up (protocol in catchup.h).
 *
 * Happy path: accept -> read the PULL line -> (loop) look the database up,
 * pin its log from the first transaction the subscriber lacks, note the
 * last logged id -> (worker) open a log reader, put the OK line and as
 * many records as fit in a chunk -> (loop) write them -> more to read?
 * (worker) next chunk : (loop) watch the log for the next id (db_watch_log)
 * -> woken when a batch is durable -> (loop, a few transactions; worker,
 * more) read it -> write ... A STORE (a store copy) is one work item: a
 * worker reads the checkpoint and the log after it 1 MB at a time (summed
 * as read) and sends each with blocking calls on its own duplicate of the
 * socket, the way two blocking threads copy fastest on two CPUs
 * (bench/copy_ceiling); the loop only answers an ERR line or closes once
 * the worker returns. The
 * stream stays open; when nothing was sent for a heartbeat interval, a
 * heartbeat tells the subscriber the upstream's last id (its lag) and that
 * the upstream is alive. The pin follows the stream, so pruning never cuts
 * under a subscriber, within db.tx_log.reader_pins.max_size.
 *
 * Failures: a bad request, an unknown database, a pruned or foreign start
 * get an ERR line. A read error half-way is logged and the connection is
 * closed; the subscriber reconnects and resumes from what it applied. A
 * database dropped or closed meanwhile wakes its watch with
 * GRAFT_ESHUTDOWN: the stream closes. A subscriber that stops reading is
 * closed once a write has waited the inactivity timeout. The loop and the
 * worker take turns on a connection (its state says whose turn it is), so
 * its fields need no lock. */
#include "catchup.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../checkpoint/checkpoint.h"
#include "../net/sm.h"
#include "../net/tcp.h"
#include "../txlog/txlog.h"
#include "../util/buf.h"
#include "../util/err.h"
#include "../util/log.h"
#include "ident_int.h"

#define CHUNK (1u << 20)
/* A store copy's chunk: read, summed, then sent by the copy's worker. */
#define STORE_CHUNK (1u << 20)
/* The copy's worker waits for room on the socket this long at a time, then
 * looks whether the connection closed. */
#define STORE_POLL_MS 100
/* Checkpoint bytes are read (and summed as read) a piece at a time: the
 * sum reads what the read has just brought into the cache. */
#define STORE_PIECE (256u << 10)
#define REQ_MAX 1024
#define REQUEST_MS 10000
#define HEARTBEAT_MS CATCHUP_HEARTBEAT_MS
#define STALL_MS 600000
#define HOLD_CHECK_MS 1000
/* A caught-up stream reads up to this many new transactions on the loop
 * (fill_inline), more on a worker. */
#define INLINE_TXS 64

enum cconn_state {
	CC_READING,  /* waiting for the PULL line */
	CC_WORKING,  /* a worker reads the next chunk */
	CC_WRITING,  /* a write is in flight */
	CC_WAITING,  /* caught up: watching the log */
	CC_DRAINING, /* closed while a worker runs: freed after it returns */
	CC_CLOSED,   /* closing; freed when tcp.h says nothing uses it */
	CC_N_STATES
};

static const char *const state_names[CC_N_STATES] = {
	"READING", "WORKING", "WRITING", "WAITING", "DRAINING", "CLOSED",
};

static const bool allowed[CC_N_STATES][CC_N_STATES] = {
	[CC_READING] = {[CC_WORKING] = true, [CC_WRITING] = true,
			[CC_CLOSED] = true},
	[CC_WORKING] = {[CC_WRITING] = true, [CC_DRAINING] = true},
	[CC_WRITING] = {[CC_WORKING] = true, [CC_WAITING] = true,
			[CC_CLOSED] = true},
	[CC_WAITING] = {[CC_WORKING] = true, [CC_WRITING] = true,
			[CC_CLOSED] = true},
	[CC_DRAINING] = {[CC_CLOSED] = true},
};

static const struct sm_def cconn_sm = {
	.what = "catch-up connection",
	.n_states = CC_N_STATES,
	.names = state_names,
	.allowed = &allowed[0][0],
	.freeable = CC_CLOSED,
};

struct cconn {
	struct tcp_conn tcp; /* first: a struct tcp_conn * is a cconn * */
	struct sm sm; /* enum cconn_state */
	struct catchup_server *s;
	char req[REQ_MAX];
	size_t req_len;
	bool requested; /* the request line was handled */
	bool pulled;    /* it was a PULL: a subscriber of the stream */
	char db[128];
	char peer[128]; /* the subscriber's server id, for the log */
	char txlog_dir[4096];
	char store_dir[4096];
	struct txlog_wire_id id; /* the stream's: cluster and database */
	char cluster[IDENTITY_LEN + 1];
	bool ok_sent, closing_after_write;
	/* STORE: the worker's checkpoint, then the log after it up to end,
	 * filled into next and sent on sock (the worker's duplicate of the
	 * socket) by the worker; cancelled: the loop closed the connection */
	bool store, crc_sent, store_done;
	struct graft_buf next;
	int sock;
	int cancelled;
	struct checkpoint_file ckpt;
	char role[16];
	uint64_t next_tx; /* next transaction to send */
	uint64_t end;     /* the worker reads up to this one */
	uint64_t last_write_ms;
	struct txlog_reader *reader; /* the worker's */
	struct txlog_pin pin;
	struct db_watch watch;
	struct graft_buf out;
	int status;
	char errmsg[GRAFT_ERRMSG_SIZE];
};

struct catchup_server {
	struct tcp_server tcp;
	struct dbms *dbms;
	struct cluster *cluster;
	char data_dir[4096];
	/* this member's cluster, once recorded in <data>/dbms/cluster_id */
	char cluster_id[IDENTITY_LEN + 1];
	/* what subscribers reported; written on the loop, read anywhere */
	uv_mutex_t lock;
	struct catchup_subscriber subs[CATCHUP_MAX_SUBSCRIBERS];
	uint64_t reported_ms[CATCHUP_MAX_SUBSCRIBERS]; /* uv_now at report */
	size_t n_subs;
	/* The log kept for a subscriber whose stream closed, from what it
	 * reported, for hold_ms (loop thread; catchup_server_hold_departed). */
	struct txlog_pin held[CATCHUP_MAX_SUBSCRIBERS];
	uint64_t left_ms[CATCHUP_MAX_SUBSCRIBERS];
	uint64_t hold_ms;
	uint64_t batch_size; /* dbms.cluster.catchup.batch_size; 0: none */
	uv_timer_t hold_timer;
	unsigned closing_parts; /* the listener and the timer */
	/* catchup_server_handoff */
	const char *handoff_prefix;
	catchup_handoff_cb handoff_cb;
	void *handoff_data;
};

/* Freed only once its work item returned (the item holds it). */
static void cconn_free(struct tcp_conn *tc)
{
	struct cconn *c = (struct cconn *)tc;

	sm_check_freeable(&c->sm);
	if (c->sock >= 0)
		close(c->sock);
	if (c->reader != NULL)
		txlog_reader_close(c->reader);
	checkpoint_file_close(&c->ckpt);
	txlog_unpin(&c->pin);
	graft_buf_free(&c->out);
	graft_buf_free(&c->next);
	free(c);
}

/* The registry entry of (server id, database); a new one, or the oldest of
 * those that left when it is full. NULL when every entry is connected.
 * Holding the lock. */
static struct catchup_subscriber *subscriber(struct catchup_server *s,
					     const char *id, const char *db)
{
	struct catchup_subscriber *e = NULL;
	size_t i, oldest = SIZE_MAX;

	for (i = 0; i < s->n_subs; i++) {
		e = &s->subs[i];
		if (strcmp(e->server_id, id) == 0 && strcmp(e->db, db) == 0)
			return e;
		if (!e->connected &&
		    (oldest == SIZE_MAX ||
		     s->reported_ms[i] < s->reported_ms[oldest]))
			oldest = i;
	}
	if (s->n_subs < CATCHUP_MAX_SUBSCRIBERS)
		i = s->n_subs++;
	else if (oldest != SIZE_MAX)
		i = oldest;
	else
		return NULL;
	e = &s->subs[i];
	txlog_unpin(&s->held[i]); /* an entry that left, reused */
	memset(e, 0, sizeof *e);
	snprintf(e->server_id, sizeof e->server_id, "%s", id);
	snprintf(e->db, sizeof e->db, "%s", db);
	return e;
}

/* A subscriber's report (applied >= 0) or its leaving (connected false):
 * one that leaves after a report keeps the log from what it applied for
 * hold_ms, so that a restart resumes from the log; one that reports (its
 * stream holds its own pin) no longer needs that. */
static void note_subscriber(struct cconn *c, uint64_t applied, bool connected)
{
	struct catchup_server *s = c->s;
	struct db *d = dbms_get(s->dbms, c->db);
	uint64_t last = d != NULL ? db_log_last_txid(d) : 0;
	struct catchup_subscriber *e;
	size_t i = SIZE_MAX;

	uv_mutex_lock(&s->lock);
	e = subscriber(s, c->peer, c->db);
	if (e != NULL) {
		i = (size_t)(e - s->subs);
		e->connected = connected;
		if (connected) {
			e->applied = applied;
			e->lag_txs = last > applied ? last - applied : 0;
			s->reported_ms[i] = uv_now(s->tcp.loop);
		}
		applied = e->applied;
	}
	uv_mutex_unlock(&s->lock);
	if (i == SIZE_MAX)
		return;
	txlog_unpin(&s->held[i]);
	if (connected || d == NULL || s->hold_ms == 0 || applied == 0)
		return;
	db_log_pin(d, &s->held[i], applied + 1);
	s->left_ms[i] = uv_now(s->tcp.loop);
}

/* Releases what departed subscribers held past hold_ms. */
static void hold_timer_cb(uv_timer_t *t)
{
	struct catchup_server *s = t->data;
	uint64_t now = uv_now(t->loop);

	for (size_t i = 0; i < CATCHUP_MAX_SUBSCRIBERS; i++) {
		if (s->held[i].log == NULL || now - s->left_ms[i] < s->hold_ms)
			continue;
		txlog_unpin(&s->held[i]);
		graft_info("catch-up: %s left %s %" PRIu64 " s ago; its log is "
			   "no longer kept (dbms.cluster.catchup.departed_hold)"
			   ": if it returns after a prune it takes a store copy",
			   s->subs[i].server_id, s->subs[i].db,
			   (now - s->left_ms[i]) / 1000);
	}
}

void catchup_server_hold_departed(struct catchup_server *s, uint64_t ms)
{
	s->hold_ms = ms;
}

void catchup_server_batch_size(struct catchup_server *s, uint64_t n)
{
	s->batch_size = n;
}

size_t catchup_server_subscribers(struct catchup_server *s,
				  struct catchup_subscriber *out, size_t max)
{
	size_t n = 0;
	uint64_t now = uv_now(s->tcp.loop);

	uv_mutex_lock(&s->lock);
	for (int want = 1; want >= 0; want--)
		for (size_t i = 0; i < s->n_subs && n < max; i++) {
			if (s->subs[i].connected != want)
				continue;
			out[n] = s->subs[i];
			out[n++].age_ms = now - s->reported_ms[i];
		}
	uv_mutex_unlock(&s->lock);
	return n;
}

static void cconn_closing(struct tcp_conn *tc)
{
	struct cconn *c = (struct cconn *)tc;

	if (c->pulled)
		note_subscriber(c, 0, false);
	/* a store copy's worker sees it within STORE_POLL_MS */
	__atomic_store_n(&c->cancelled, 1, __ATOMIC_RELEASE);
	db_unwatch(&c->watch);
	sm_move(&c->sm,
		sm_state(&c->sm) == CC_WORKING ? CC_DRAINING : CC_CLOSED);
}

static void conn_close(struct cconn *c)
{
	tcp_conn_close(&c->tcp);
}

/* Worker side ------------------------------------------------------------ */

static int put_line(struct graft_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int put_line(struct graft_buf *b, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof line - 1)
		n = (int)sizeof line - 2;
	line[n++] = '\n';
	return graft_buf_append(b, line, (size_t)n);
}

/* Opens the log reader; a PULL's reply goes first (an ERR PRUNED instead
 * when the log no longer has next_tx). */
static int open_reader(struct cconn *c)
{
	int rv = txlog_reader_open(c->txlog_dir, c->next_tx, c->end,
				   &c->reader, c->errmsg);

	if (rv == GRAFT_OK && !c->ok_sent && !c->store)
		rv = put_line(&c->out, CATCHUP_PROTO " OK %s %s %" PRIu64
			      " %" PRIu64 " %s", c->db, c->cluster, c->id.db,
			      c->end, c->role);
	return rv;
}

/* Reads records next_tx..end into b, up to size bytes or max records
 * (0: no bound). */
static int put_records(struct cconn *c, struct graft_buf *b, size_t size,
		       uint64_t max)
{
	const void *rec;
	uint64_t txid, n = 0;
	size_t len;
	uint8_t kind = CATCHUP_MSG_TX;
	int rv = GRAFT_OK;

	if (c->reader == NULL)
		rv = open_reader(c);
	else
		txlog_reader_set_end(c->reader, c->end);
	while (rv == GRAFT_OK && b->len < size && (max == 0 || n++ < max)) {
		rv = txlog_reader_next(c->reader, &txid, &rec, &len, c->errmsg);
		if (rv == GRAFT_ENOTFOUND)
			return GRAFT_OK;
		if (rv == GRAFT_OK)
			rv = graft_buf_append(b, &kind, 1);
		if (rv == GRAFT_OK)
			rv = txlog_wire_put(b, &c->id, txid, rec, len);
		if (rv == GRAFT_OK)
			c->next_tx = txid + 1;
	}
	return rv;
}

static int prepare_store(struct cconn *c)
{
	int rv = checkpoint_file_open_newest(&c->ckpt, c->store_dir,
					     c->errmsg);

	if (rv == GRAFT_OK && c->ckpt.txid == 0)
		rv = graft_errf(c->errmsg, GRAFT_ENOTFOUND, "%s has no "
				"checkpoint yet on this member", c->db);
	if (rv != GRAFT_OK)
		return rv;
	if (c->ckpt.txid > c->end)
		c->end = c->ckpt.txid;
	c->next_tx = c->ckpt.txid + 1;
	return put_line(&c->next, CATCHUP_PROTO " STORE %s %s %" PRIu64
			" %" PRIu64 " %" PRIu64 " %" PRIu64 " %s", c->db,
			c->cluster, c->id.db, c->ckpt.txid, c->ckpt.size,
			c->end, c->role);
}

/* A message of kind with n bytes (4 or 8) of v. */
static int put_mark(struct graft_buf *b, uint8_t kind, uint64_t v, size_t n)
{
	uint8_t m[9];

	m[0] = kind;
	graft_put_u64le(m + 1, v);
	return graft_buf_append(b, m, 1 + n);
}

/* The next chunk of a store copy into c->next: the checkpoint's bytes,
 * its CRC, the records after it up to end, the end mark. */
static int fill_store(struct cconn *c)
{
	struct graft_buf *b = &c->next;
	int rv = GRAFT_OK;

	while (rv == GRAFT_OK && !c->store_done && b->len < STORE_CHUNK) {
		if (c->ckpt.left > 0) {
			size_t room = STORE_CHUNK - b->len;
			rv = checkpoint_file_read(&c->ckpt, b,
						  room < STORE_PIECE ? room
								     : STORE_PIECE,
						  c->errmsg);
		} else if (!c->crc_sent) {
			rv = put_mark(b, CATCHUP_MSG_CKPT_CRC, c->ckpt.crc, 4);
			c->crc_sent = true;
		} else if (c->next_tx <= c->end) {
			rv = put_records(c, b, STORE_CHUNK, 0);
			if (rv == GRAFT_OK && c->next_tx <= c->end &&
			    b->len < STORE_CHUNK)
				rv = graft_errf(c->errmsg, GRAFT_ENOTFOUND,
						"transaction %" PRIu64 " left "
						"the log during the store copy",
						c->next_tx);
		} else {
			rv = put_mark(b, CATCHUP_MSG_END, c->end, 8);
			c->store_done = true;
		}
	}
	return rv;
}

/* b on the copy's socket, waiting for room as long as the subscriber
 * reads (STALL_MS at most) and the connection is open. */
static int send_store(struct cconn *c, const struct graft_buf *b)
{
	struct pollfd pfd = {.fd = c->sock, .events = POLLOUT};
	uint64_t stalled_ms = 0;
	size_t off = 0;
	ssize_t n;

	while (off < b->len) {
		if (__atomic_load_n(&c->cancelled, __ATOMIC_ACQUIRE))
			return graft_errf(c->errmsg, GRAFT_ESHUTDOWN, "the "
					  "connection closed");
		n = send(c->sock, b->data + off, b->len - off,
			 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0) {
			off += (size_t)n;
			c->ok_sent = true;
			stalled_ms = 0;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR)
			return graft_errf(c->errmsg, GRAFT_EIO, "cannot send: "
					  "%s", strerror(errno));
		if (stalled_ms >= STALL_MS)
			return graft_errf(c->errmsg, GRAFT_EIO, "the subscriber "
					  "stopped reading");
		if (poll(&pfd, 1, STORE_POLL_MS) == 0)
			stalled_ms += STORE_POLL_MS;
	}
	return GRAFT_OK;
}

/* A whole store copy: the STORE line, the checkpoint, its CRC, the log
 * after it, the end mark, read and sent a chunk at a time. */
static int send_store_copy(struct cconn *c)
{
	int rv = prepare_store(c);

	while (rv == GRAFT_OK && !c->store_done) {
		rv = fill_store(c);
		if (rv == GRAFT_OK)
			rv = send_store(c, &c->next);
		graft_buf_reset(&c->next);
	}
	return rv;
}

static void work_cb(struct tcp_conn *tc)
{
	struct cconn *c = (struct cconn *)tc;

	c->status = c->store ? send_store_copy(c)
			     : put_records(c, &c->out, CHUNK,
					   c->s->batch_size);
}

/* Loop side -------------------------------------------------------------- */

static void send_out(struct cconn *c);
static void continue_stream(struct cconn *c);

static void reply_and_close(struct cconn *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void reply_and_close(struct cconn *c, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	graft_buf_reset(&c->out);
	put_line(&c->out, "%s", line);
	c->closing_after_write = true;
	if (sm_state(&c->sm) != CC_WRITING)
		sm_move(&c->sm, CC_WRITING);
	send_out(c);
}

static void filled(struct cconn *c);
static void store_filled(struct cconn *c);
static void queue_fill(struct cconn *c);

/* The worker filled the next chunk; status UV_ECANCELED when the
 * connection closed meanwhile (tcp.h). */
static void chunk_ready(struct tcp_conn *tc, int status)
{
	struct cconn *c = (struct cconn *)tc;

	if (sm_state(&c->sm) == CC_DRAINING) {
		sm_move(&c->sm, CC_CLOSED);
		return;
	}
	sm_move(&c->sm, CC_WRITING);
	if (status != 0) {
		conn_close(c);
		return;
	}
	if (c->store)
		store_filled(c);
	else
		filled(c);
}

/* Transactions of log after the copied checkpoint below which a copy's
 * end starts no checkpoint (cluster helper, issue 14). */
#define STORE_CHECKPOINT_MIN_LOG 10000

/* A store copy ended (sent or refused): a checkpoint starts (none if one
 * runs), so that the next copy finds a recent one and less log after it;
 * a database that never had one (a core that never reached
 * db.checkpoint.interval.*) refused this copy, and the subscriber's next
 * attempt finds it. Neo4j's store copy starts one as it begins; here the
 * copy sends the newest finished checkpoint at once, and one started then
 * would share the disk and the CPU with the copy's reads for nothing. */
static void store_ended(struct cconn *c)
{
	struct db *d = dbms_get(c->s->dbms, c->db);

	/* Not after a copy whose checkpoint had little log after it: the
	 * next copy would find nearly as recent a one, and a big database's
	 * fork, right after the one that made that checkpoint, pauses the
	 * loop 100 ms and more (huge pages split while that child ran). */
	if (c->ckpt.size > 0 && c->end >= c->ckpt.txid &&
	    c->end - c->ckpt.txid < STORE_CHECKPOINT_MIN_LOG)
		return;
	if (d != NULL)
		db_checkpoint(d, NULL, NULL);
}

/* When the worker failed (c->status), answers or closes and returns true:
 * an ERR line when nothing was sent yet, else a warning and the end of the
 * connection. Nothing is on the wire when it answers. */
static bool fill_failed(struct cconn *c)
{
	if (c->status == GRAFT_OK)
		return false;
	if (c->store)
		store_ended(c);
	if (!c->ok_sent && (c->store || c->status == GRAFT_ENOTFOUND)) {
		reply_and_close(c, CATCHUP_PROTO " ERR %s %s",
				c->store ? "IO" : "PRUNED", c->errmsg);
		return true;
	}
	graft_warn("catch-up of %s to %s stopped at transaction %" PRIu64
		   ": %s; the subscriber reconnects and resumes", c->db,
		   c->peer, c->next_tx, c->errmsg);
	conn_close(c);
	return true;
}

/* The output holds the next chunk (or c->status says why not): send it. */
static void filled(struct cconn *c)
{
	txlog_pin_move(&c->pin, c->next_tx);
	if (fill_failed(c))
		return;
	c->ok_sent = true;
	send_out(c);
}

/* The copy's worker returned: the whole copy was sent, or c->status says
 * why not. State WRITING. */
static void store_filled(struct cconn *c)
{
	txlog_pin_move(&c->pin, c->next_tx);
	if (fill_failed(c))
		return;
	graft_info("catch-up: store copy of %s (checkpoint %" PRIu64 ", %" PRIu64
		   " bytes, log to %" PRIu64 ") sent to %s", c->db,
		   c->ckpt.txid, c->ckpt.size, c->end, c->peer);
	store_ended(c);
	conn_close(c);
}

/* The few transactions the log has just written, read on the loop: they
 * are in the page cache (microseconds), and a trip through the threadpool,
 * where statements queue, is what a replica following thousands of commits
 * a second would wait for. The loop's turn (WRITING or WAITING): no worker
 * holds the reader. */
static void fill_inline(struct cconn *c)
{
	if (sm_state(&c->sm) != CC_WRITING)
		sm_move(&c->sm, CC_WRITING);
	c->status = put_records(c, &c->out, CHUNK, c->s->batch_size);
	if (c->status == GRAFT_OK && c->out.len == 0) {
		queue_fill(c); /* nothing read here: no recursion */
		return;
	}
	filled(c);
}

static void queue_fill(struct cconn *c)
{
	if (tcp_conn_queue_work(&c->tcp, work_cb, chunk_ready) != GRAFT_OK) {
		conn_close(c);
		return;
	}
	sm_move(&c->sm, CC_WORKING);
}

/* A failed write closes the connection (tcp.h). */
static void cconn_written(struct tcp_conn *tc, int status)
{
	struct cconn *c = (struct cconn *)tc;

	graft_buf_reset(&c->out);
	if (status != 0)
		return;
	if (c->closing_after_write) {
		conn_close(c);
		return;
	}
	continue_stream(c);
}

/* Precondition: state WRITING. */
static void send_out(struct cconn *c)
{
	if (c->out.len == 0) {
		continue_stream(c);
		return;
	}
	c->last_write_ms = uv_now(c->s->tcp.loop);
	tcp_conn_write(&c->tcp, c->out.data, c->out.len);
}

static void watch_cb(struct db_watch *w, int status)
{
	struct cconn *c = w->data;

	if (status != GRAFT_OK) {
		conn_close(c);
		return;
	}
	continue_stream(c);
}

/* After a write: read what the log holds beyond what was sent, or wait
 * for the log to hold more. */
static void continue_stream(struct cconn *c)
{
	struct db *d = dbms_get(c->s->dbms, c->db);
	uint64_t last;

	if (d == NULL) {
		conn_close(c);
		return;
	}
	if (c->store) {
		queue_fill(c);
		return;
	}
	last = db_log_last_txid(d);
	if (c->next_tx <= last) {
		c->end = last;
		if (c->reader != NULL && last - c->next_tx < INLINE_TXS)
			fill_inline(c);
		else
			queue_fill(c);
		return;
	}
	c->watch.data = c;
	if (db_watch_log(d, &c->watch, c->next_tx, watch_cb) != GRAFT_OK) {
		conn_close(c);
		return;
	}
	if (sm_state(&c->sm) != CC_WAITING)
		sm_move(&c->sm, CC_WAITING);
}

static void heartbeat(struct cconn *c)
{
	struct db *d = dbms_get(c->s->dbms, c->db);
	uint8_t *p;

	if (d == NULL || graft_buf_reserve(&c->out, CATCHUP_HEARTBEAT_SIZE) !=
				 GRAFT_OK) {
		conn_close(c);
		return;
	}
	db_unwatch(&c->watch);
	p = c->out.data + c->out.len;
	p[0] = CATCHUP_MSG_HEARTBEAT;
	graft_put_u64le(p + 1, db_log_last_txid(d));
	graft_put_u64le(p + 9, (uint64_t)db_last_commit_ms(d));
	c->out.len += CATCHUP_HEARTBEAT_SIZE;
	sm_move(&c->sm, CC_WRITING);
	send_out(c);
}

static void cconn_timeout(struct tcp_conn *tc)
{
	struct cconn *c = (struct cconn *)tc;
	uint64_t idle = uv_now(c->s->tcp.loop) - c->last_write_ms;

	if (sm_state(&c->sm) == CC_READING && idle >= REQUEST_MS)
		conn_close(c);
	else if (sm_state(&c->sm) == CC_WRITING && idle >= STALL_MS)
		conn_close(c); /* the subscriber stopped reading */
	else if (sm_state(&c->sm) == CC_WAITING && idle >= HEARTBEAT_MS)
		heartbeat(c);
}

static const char *own_role(struct catchup_server *s)
{
	struct cluster_status st;

	/* a SINGLE server has no transaction port: without a cluster this
	 * is a read replica, serving another one (a chain) or a backup */
	if (s->cluster == NULL)
		return "READ_REPLICA";
	cluster_get_status(s->cluster, &st);
	return st.role;
}

/* This member's cluster id into out (the file is read until it exists: a
 * core records it when the cluster forms, a replica when it first hears a
 * core); false when none is recorded yet. */
static bool own_cluster(struct catchup_server *s, char out[IDENTITY_LEN + 1])
{
	char errmsg[GRAFT_ERRMSG_SIZE];

	if (s->cluster_id[0] == '\0' &&
	    catchup_cluster_id_read(s->data_dir, s->cluster_id, errmsg) !=
		    GRAFT_OK) {
		graft_warn("catch-up: %s", errmsg);
		s->cluster_id[0] = '\0';
	}
	snprintf(out, IDENTITY_LEN + 1, "%s", s->cluster_id);
	return out[0] != '\0';
}

static void start_stream(struct cconn *c, uint64_t after, bool leader_only)
{
	struct db *d = dbms_get(c->s->dbms, c->db);

	snprintf(c->role, sizeof c->role, "%s", own_role(c->s));
	if (!own_cluster(c->s, c->cluster)) {
		reply_and_close(c, CATCHUP_PROTO " ERR NOTFOUND this member "
				"belongs to no cluster yet (no "
				"<data>/dbms/cluster_id): it serves no stream");
		return;
	}
	if (d == NULL) {
		reply_and_close(c, CATCHUP_PROTO " ERR NOTFOUND database %s does "
				"not exist on this member", c->db);
		return;
	}
	if (leader_only && strcmp(c->role, "LEADER") != 0) {
		reply_and_close(c, CATCHUP_PROTO " ERR NOTLEADER this member is "
				"%s and the subscriber asked for the leader",
				c->role);
		return;
	}
	c->end = db_log_last_txid(d);
	if (after > c->end && after > db_last_txid(d)) {
		reply_and_close(c, CATCHUP_PROTO " ERR AHEAD the subscriber is at "
				"transaction %" PRIu64 " of %s, past this "
				"member's last (%" PRIu64 "): try another "
				"upstream", after, c->db, c->end);
		return;
	}
	if (snprintf(c->txlog_dir, sizeof c->txlog_dir, "%s", db_log_dir(d)) >=
		    (int)sizeof c->txlog_dir ||
	    snprintf(c->store_dir, sizeof c->store_dir, "%s",
		     db_store_dir(d)) >= (int)sizeof c->store_dir) {
		reply_and_close(c, CATCHUP_PROTO " ERR INVALID path too long");
		return;
	}
	if (catchup_wire_id(c->cluster, dbms_origin(c->s->dbms, c->db), c->db,
			    &c->id) != GRAFT_OK) {
		reply_and_close(c, CATCHUP_PROTO " ERR INVALID the cluster id "
				"%s recorded here is not a UUID", c->cluster);
		return;
	}
	/* A store copy's checkpoint is found by the worker: until then the
	 * pin holds the whole log. */
	c->next_tx = c->store ? 0 : after + 1;
	db_log_pin(d, &c->pin, c->next_tx);
	graft_info("catch-up: %s %s %s from transaction %" PRIu64, c->peer,
		   c->store ? "copies the store of" : "follows", c->db,
		   c->next_tx);
	queue_fill(c);
}

/* The databases this member hosts and where each came from, for a read
 * replica that mirrors them; then the connection closes. */
static void send_databases(struct cconn *c)
{
	struct dbms *m = c->s->dbms;
	struct db *dbs[CATCHUP_MAX_DATABASES];
	size_t n = dbms_list(m, dbs, CATCHUP_MAX_DATABASES);
	int rv;

	if (n > CATCHUP_MAX_DATABASES)
		n = CATCHUP_MAX_DATABASES;
	graft_buf_reset(&c->out);
	if (!own_cluster(c->s, c->cluster))
		snprintf(c->cluster, sizeof c->cluster, "-");
	rv = put_line(&c->out, CATCHUP_PROTO " DATABASES %s %" PRIu64 " %zu",
		      c->cluster, dbms_change_index(m), n);
	for (size_t i = 0; i < n && rv == GRAFT_OK; i++)
		rv = put_line(&c->out, "%s %" PRIu64, db_name(dbs[i]),
			      dbms_origin(m, db_name(dbs[i])));
	if (rv != GRAFT_OK) {
		conn_close(c);
		return;
	}
	c->closing_after_write = true;
	sm_move(&c->sm, CC_WRITING);
	send_out(c);
}

void catchup_server_handoff(struct catchup_server *s, const char *prefix,
			    catchup_handoff_cb cb, void *data)
{
	s->handoff_prefix = prefix;
	s->handoff_cb = cb;
	s->handoff_data = data;
}

/* True when the request is another protocol's and was handed over. */
static bool handed_off(struct cconn *c)
{
	struct catchup_server *s = c->s;
	size_t len = strlen(c->req);
	uv_os_sock_t fd;

	if (s->handoff_cb == NULL ||
	    strncmp(c->req, s->handoff_prefix, strlen(s->handoff_prefix)) != 0)
		return false;
	c->req[len++] = '\n'; /* the reader put a NUL there */
	if (tcp_conn_dup_socket(&c->tcp, &fd) == GRAFT_OK)
		s->handoff_cb(s->handoff_data, fd, c->req, len);
	c->req[--len] = '\0';
	conn_close(c);
	return true;
}

static void handle_request(struct cconn *c)
{
	char proto[32] = "", verb[16] = "", mode[8] = "";
	unsigned long long after = 0;
	int n = sscanf(c->req, "%31s %15s %127s %llu %7s %127s", proto, verb,
		       c->db, &after, mode, c->peer);

	if (n >= 3 && strcmp(proto, CATCHUP_PROTO) == 0 &&
	    strcmp(verb, "STORE") == 0) {
		/* "<proto> STORE <db> <server id>" */
		sscanf(c->req, "%*s %*s %*s %127s", c->peer);
		c->store = true;
		if (tcp_conn_dup_socket(&c->tcp, &c->sock) != GRAFT_OK) {
			reply_and_close(c, CATCHUP_PROTO " ERR IO cannot "
					"duplicate the socket: %s",
					strerror(errno));
			return;
		}
		start_stream(c, 0, false);
		return;
	}
	if (handed_off(c))
		return;
	if (n >= 2 && strcmp(proto, CATCHUP_PROTO) == 0 &&
	    strcmp(verb, "DATABASES") == 0) {
		send_databases(c);
		return;
	}
	if (n < 5 || strcmp(proto, CATCHUP_PROTO) != 0 ||
	    strcmp(verb, "PULL") != 0) {
		reply_and_close(c, CATCHUP_PROTO " ERR INVALID this is a graft "
				"catch-up server; expected '%s PULL <db> <after "
				"txid> <ANY|LEADER> <server id> <bolt "
				"address>'", CATCHUP_PROTO);
		return;
	}
	if (n < 6)
		snprintf(c->peer, sizeof c->peer, "a subscriber");
	c->pulled = true;
	start_stream(c, after, strcmp(mode, "LEADER") == 0);
}

/* "APPLIED <txid>" from a subscriber of the stream. */
static void handle_report(struct cconn *c, const char *line)
{
	unsigned long long applied;

	if (!c->store && sscanf(line, "APPLIED %llu", &applied) == 1)
		note_subscriber(c, applied, true);
}

static void cconn_alloc(struct tcp_conn *tc, uv_buf_t *buf)
{
	struct cconn *c = (struct cconn *)tc;

	*buf = uv_buf_init(c->req + c->req_len,
			   (unsigned)(sizeof c->req - 1 - c->req_len));
}

/* An error or EOF closes the connection (tcp.h). */
static void cconn_read(struct tcp_conn *tc, ssize_t n)
{
	struct cconn *c = (struct cconn *)tc;
	char *nl;

	if (n < 0)
		return;
	c->req_len += (size_t)n;
	c->req[c->req_len] = '\0';
	while (!tcp_conn_closing(tc) &&
	       (nl = strchr(c->req, '\n')) != NULL) {
		*nl = '\0';
		if (c->requested) {
			handle_report(c, c->req);
		} else {
			c->requested = true;
			handle_request(c);
		}
		c->req_len -= (size_t)(nl + 1 - c->req);
		memmove(c->req, nl + 1, c->req_len + 1);
	}
	if (c->req_len == sizeof c->req - 1) {
		graft_warn("catch-up: %s sent a line longer than %d bytes",
			   c->peer, REQ_MAX);
		conn_close(c);
	}
}

static struct tcp_conn *cconn_new(struct tcp_server *srv)
{
	struct cconn *c = calloc(1, sizeof *c);

	if (c == NULL)
		return NULL;
	sm_init(&c->sm, &cconn_sm, CC_READING);
	c->s = srv->data;
	c->ckpt.fd = -1;
	c->sock = -1;
	graft_buf_init(&c->out);
	return &c->tcp;
}

static void cconn_accepted(struct tcp_conn *tc)
{
	struct cconn *c = (struct cconn *)tc;

	c->last_write_ms = uv_now(c->s->tcp.loop);
	tcp_conn_read(tc, true);
	tcp_conn_timer(tc, HEARTBEAT_MS / 4, HEARTBEAT_MS / 4);
}

static const struct tcp_ops catchup_tcp_ops = {
	.conn_new = cconn_new,
	.accepted = cconn_accepted,
	.alloc = cconn_alloc,
	.read = cconn_read,
	.written = cconn_written,
	.timeout = cconn_timeout,
	.closing = cconn_closing,
	.conn_free = cconn_free,
};

static void server_part_closed(struct catchup_server *s)
{
	if (--s->closing_parts > 0)
		return;
	uv_mutex_destroy(&s->lock);
	free(s);
}

static void server_closed_cb(struct tcp_server *srv)
{
	server_part_closed(srv->data);
}

static void hold_timer_closed_cb(uv_handle_t *h)
{
	server_part_closed(h->data);
}

int catchup_server_start(uv_loop_t *loop, struct dbms *dbms,
			 struct cluster *cluster, const char *data_dir,
			 const char *setting,
			 const struct graft_address *addr,
			 struct catchup_server **out, char *errmsg)
{
	struct catchup_server *s = calloc(1, sizeof *s);
	struct tcp_listen how = {
		.addr = addr,
		.setting = setting,
		.family = AF_UNSPEC,
		.backlog = 64,
		.nodelay = true, /* a pushed commit goes out at once */
	};
	char shown[GRAFT_ADDRESS_TEXT_MAX];
	int rv;

	if (s == NULL)
		return GRAFT_ENOMEM;
	if (uv_mutex_init(&s->lock) != 0) {
		free(s);
		return GRAFT_ENOMEM;
	}
	tcp_server_init(&s->tcp, loop, &catchup_tcp_ops, s);
	uv_timer_init(loop, &s->hold_timer);
	s->hold_timer.data = s;
	uv_timer_start(&s->hold_timer, hold_timer_cb, HOLD_CHECK_MS,
		       HOLD_CHECK_MS);
	s->dbms = dbms;
	s->cluster = cluster;
	snprintf(s->data_dir, sizeof s->data_dir, "%s", data_dir);
	rv = tcp_server_listen(&s->tcp, &how, errmsg);
	if (rv != GRAFT_OK) {
		catchup_server_close(s);
		return rv;
	}
	graft_address_format(shown, sizeof shown, addr->host,
			     (unsigned)catchup_server_port(s));
	graft_info("Catch-up enabled on %s.", shown);
	*out = s;
	return GRAFT_OK;
}

int catchup_server_port(const struct catchup_server *s)
{
	return tcp_server_port(&s->tcp);
}

void catchup_server_close(struct catchup_server *s)
{
	s->closing_parts = 2;
	for (size_t i = 0; i < CATCHUP_MAX_SUBSCRIBERS; i++)
		txlog_unpin(&s->held[i]);
	uv_close((uv_handle_t *)&s->hold_timer, hold_timer_closed_cb);
	tcp_server_close(&s->tcp, server_closed_cb);
}
