/* The backup server (protocol in serve.h).
 *
 * Happy path: accept -> read one request line -> (loop) look the database
 * up and note its last transaction both applied and logged -> (worker)
 * find and open the newest checkpoint file, open a log reader, put the
 * reply line and the first chunk in the output buffer -> (loop) write it
 * -> (worker) fill the next chunk of up to 1 MiB -> ... -> end mark ->
 * close. The loop thread
 * never reads a data file; the worker never touches the database, only
 * immutable files (a checkpoint file stays readable through its open fd
 * even when a newer checkpoint replaces it). The loop and the worker take
 * turns on a connection, so its fields need no lock.
 *
 * Failures: a bad request, an unknown database, a log pruned past the
 * requested id each get an ERR line. A failure half-way (a segment pruned
 * while a slow client reads, a read error) is logged and the connection is
 * closed without the end mark, which the client reports as a failed backup.
 * A peer that goes away makes the write fail: the connection closes, and
 * its memory is freed once its handles are closed and no work item is
 * queued for it (a work item holds the connection: tcp_conn_hold). A peer
 * that sends no request, or stops reading, is closed by the connection's
 * timer. Listening, the connection list and closing are src/net/tcp.h's. */
#include "serve.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../checkpoint/checkpoint.h"
#include "../net/sm.h"
#include "../net/tcp.h"
#include "../txlog/txlog.h"
#include "../util/buf.h"
#include "../util/err.h"
#include "../util/fs.h"
#include "../util/log.h"
#include "artifact.h"
#include "stream.h"

#define CHUNK (1u << 20)
#define REQ_MAX 512
/* A peer must send its request within REQUEST_MS and take each chunk
 * within STALL_MS, or it is closed (its open files with it). */
#define REQUEST_MS 10000
#define STALL_MS 600000

/* A connection's life. Every change goes through sm_move, which checks it
 * against `allowed` (always, not only in debug builds; net/sm.h): a connection
 * whose memory a worker still uses must never be freed. */
enum bconn_state {
	BC_READING,  /* waiting for the request line */
	BC_WORKING,  /* a worker prepares or fills the next chunk */
	BC_WRITING,  /* the loop owns the output: a write is in flight */
	BC_DRAINING, /* closed while a worker runs: freed after it returns */
	BC_CLOSED,   /* handles closing; freed when they are */
	BC_N_STATES
};

static const char *const state_names[BC_N_STATES] = {
	"READING", "WORKING", "WRITING", "DRAINING", "CLOSED",
};

static const bool allowed[BC_N_STATES][BC_N_STATES] = {
	[BC_READING] = {[BC_WORKING] = true, [BC_WRITING] = true,
			[BC_CLOSED] = true},
	[BC_WORKING] = {[BC_WRITING] = true, [BC_DRAINING] = true},
	[BC_WRITING] = {[BC_WORKING] = true, [BC_CLOSED] = true},
	[BC_DRAINING] = {[BC_CLOSED] = true},
};

static const struct sm_def bconn_sm = {
	.what = "backup connection",
	.n_states = BC_N_STATES,
	.names = state_names,
	.allowed = &allowed[0][0],
	.freeable = BC_CLOSED,
};

struct bconn {
	struct tcp_conn tcp; /* first: a struct tcp_conn * is a bconn * */
	struct sm sm; /* enum bconn_state */
	struct backup_server *s;
	bool done, prepared;
	bool refused; /* the reply is an ERR line */
	char req[REQ_MAX];
	size_t req_len;
	/* the job: the worker's between uv_queue_work and its after_work */
	enum backup_type type;
	char db[BACKUP_DB_MAX];
	char store_dir[4096];
	char txlog_dir[4096];
	uint64_t after;   /* DIFF: transactions after this one */
	bool check_id;    /* DIFF: the chain's database id is known */
	uint64_t want_id; /* ... and is this */
	uint64_t db_id;   /* dbms_origin of the database served */
	uint64_t last;    /* last transaction served */
	uint64_t next_tx; /* next transaction to put in the stream */
	uint64_t n_tx;
	struct checkpoint_file ckpt; /* the worker's */
	struct txlog_reader *reader;
	/* Keeps the log the backup still has to read from being pruned
	 * (moved on after each chunk; loop thread). */
	struct txlog_pin pin;
	struct graft_buf out;
	uint64_t bytes;
	int status;
	char errmsg[GRAFT_ERRMSG_SIZE];
};

struct backup_server {
	struct tcp_server tcp;
	struct dbms *dbms;
	char *data_dir, *txlog_root; /* owned */
};

/* The server frees a connection only once its work item returned (the
 * item holds it); its state says so, checked always. */
static void bconn_free(struct tcp_conn *tc)
{
	struct bconn *c = (struct bconn *)tc;

	sm_check_freeable(&c->sm);
	checkpoint_file_close(&c->ckpt);
	if (c->reader != NULL)
		txlog_reader_close(c->reader);
	txlog_unpin(&c->pin);
	graft_buf_free(&c->out);
	free(c);
}

static void bconn_closing(struct tcp_conn *tc)
{
	struct bconn *c = (struct bconn *)tc;

	sm_move(&c->sm,
		sm_state(&c->sm) == BC_WORKING ? BC_DRAINING : BC_CLOSED);
}

static void conn_close(struct bconn *c)
{
	tcp_conn_close(&c->tcp);
}

/* Worker side ------------------------------------------------------------ */

static int vput_line(struct bconn *c, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
static int put_line(struct bconn *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int vput_line(struct bconn *c, const char *fmt, va_list ap)
{
	char line[GRAFT_ERRMSG_SIZE + 512];
	int n = vsnprintf(line, sizeof line - 1, fmt, ap);

	if (n < 0 || (size_t)n >= sizeof line - 1)
		n = (int)sizeof line - 2;
	line[n++] = '\n';
	return graft_buf_append(&c->out, line, (size_t)n);
}

static int put_line(struct bconn *c, const char *fmt, ...)
{
	va_list ap;
	int rv;

	va_start(ap, fmt);
	rv = vput_line(c, fmt, ap);
	va_end(ap);
	return rv;
}

static int prepare_full(struct bconn *c)
{
	int rv = checkpoint_file_open_newest(&c->ckpt, c->store_dir,
					     c->errmsg);
	uint64_t ckpt = c->ckpt.txid;

	if (rv != GRAFT_OK)
		return rv;
	if (ckpt > c->last) /* a checkpoint finished after the request */
		c->last = ckpt;
	c->next_tx = ckpt + 1;
	if (c->next_tx <= c->last) {
		rv = txlog_reader_open(c->txlog_dir, c->next_tx, c->last,
				       &c->reader, c->errmsg);
		if (rv != GRAFT_OK)
			return rv;
	}
	rv = put_line(c, BACKUP_PROTO " OK FULL %" PRIu64 " %" PRIu64
		      " %" PRIu64 " %" PRIu64, ckpt, ckpt + 1, c->last,
		      c->db_id);
	if (rv == GRAFT_OK && ckpt > 0)
		rv = backup_stream_put_ckpt_head(&c->out, c->ckpt.size);
	return rv;
}

static int prepare_diff(struct bconn *c)
{
	const void *rec;
	size_t len;
	uint64_t txid;
	int rv;

	c->next_tx = c->after + 1;
	if (c->next_tx <= c->last) {
		rv = txlog_reader_open(c->txlog_dir, c->next_tx, c->last,
				       &c->reader, c->errmsg);
		if (rv == GRAFT_OK)
			rv = txlog_reader_next(c->reader, &txid, &rec, &len,
					       c->errmsg);
		if (rv == GRAFT_ENOTFOUND || (rv == GRAFT_OK && txid != c->next_tx)) {
			c->refused = true;
			return put_line(c, BACKUP_PROTO " ERR PRUNED transaction "
					"%" PRIu64 " of %s is no longer in the "
					"server's log; take a FULL backup "
					"(--type=FULL or AUTO)",
					c->next_tx, c->db);
		}
		if (rv != GRAFT_OK)
			return rv;
		rv = put_line(c, BACKUP_PROTO " OK DIFF 0 %" PRIu64 " %" PRIu64
			      " %" PRIu64, c->next_tx, c->last, c->db_id);
		if (rv == GRAFT_OK)
			rv = backup_stream_put_tx(&c->out, txid, rec,
						  (uint32_t)len);
		c->next_tx++;
		c->n_tx++;
		return rv;
	}
	return put_line(c, BACKUP_PROTO " OK DIFF 0 %" PRIu64 " %" PRIu64
			" %" PRIu64, c->next_tx, c->last, c->db_id);
}

static int fill_tx(struct bconn *c)
{
	const void *rec;
	size_t len;
	uint64_t txid;
	int rv = txlog_reader_next(c->reader, &txid, &rec, &len, c->errmsg);

	if (rv == GRAFT_ENOTFOUND || (rv == GRAFT_OK && txid != c->next_tx))
		return graft_errf(c->errmsg, GRAFT_ENOTFOUND,
				  "transaction %" PRIu64 " of %s left the log "
				  "while the backup ran (pruned after a "
				  "checkpoint); run the backup again",
				  c->next_tx, c->db);
	if (rv != GRAFT_OK)
		return rv;
	c->next_tx++;
	c->n_tx++;
	return backup_stream_put_tx(&c->out, txid, rec, (uint32_t)len);
}

static int fill(struct bconn *c)
{
	int rv = GRAFT_OK;

	while (rv == GRAFT_OK && !c->done && c->out.len < CHUNK) {
		if (c->ckpt.left > 0) {
			rv = checkpoint_file_read(&c->ckpt, &c->out,
						  CHUNK - c->out.len, c->errmsg);
		} else if (c->next_tx <= c->last) {
			rv = fill_tx(c);
		} else {
			rv = backup_stream_put_end(&c->out, c->n_tx);
			c->done = true;
		}
	}
	return rv;
}

/* A failure before anything was sent becomes an ERR line; after that the
 * stream is cut without its end mark. */
static void fail_job(struct bconn *c)
{
	graft_buf_reset(&c->out);
	if (c->bytes == 0)
		put_line(c, BACKUP_PROTO " ERR IO %s", c->errmsg);
	c->done = true;
}

static void work_cb(struct tcp_conn *tc)
{
	struct bconn *c = (struct bconn *)tc;

	graft_buf_reset(&c->out);
	if (!c->prepared) {
		c->prepared = true;
		c->status = c->type == BACKUP_FULL ? prepare_full(c)
						   : prepare_diff(c);
		if (c->status != GRAFT_OK || c->refused) {
			if (c->status != GRAFT_OK)
				fail_job(c);
			c->done = true;
			return;
		}
	}
	c->status = fill(c);
	if (c->status != GRAFT_OK)
		fail_job(c);
}

/* Loop side -------------------------------------------------------------- */

static void queue_fill(struct bconn *c);

static void bconn_timeout(struct tcp_conn *tc)
{
	struct bconn *c = (struct bconn *)tc;

	graft_warn("backup connection closed: the peer %s",
		   c->prepared ? "stopped reading" : "sent no request");
	conn_close(c);
}

/* A failed write closes the connection (tcp.h). */
static void bconn_written(struct tcp_conn *tc, int status)
{
	struct bconn *c = (struct bconn *)tc;

	if (status != 0) {
		graft_warn("backup of %s: the client went away (%s)", c->db,
			   uv_strerror(status));
		return;
	}
	if (c->done) {
		if (c->status == GRAFT_OK && c->prepared && c->bytes > 0)
			graft_info("Backup %s of %s served: transactions up to "
				   "%" PRIu64 ", %" PRIu64 " bytes.",
				   backup_type_name(c->type), c->db, c->last,
				   c->bytes);
		conn_close(c);
		return;
	}
	tcp_conn_timer_stop(tc);
	queue_fill(c);
}

/* Precondition: state WRITING. */
static void send_out(struct bconn *c)
{
	if (c->out.len == 0) {
		conn_close(c);
		return;
	}
	c->bytes += c->out.len;
	tcp_conn_timer(&c->tcp, STALL_MS, 0);
	tcp_conn_write(&c->tcp, c->out.data, c->out.len);
}

/* The worker filled the next chunk (or the reply): send it. status
 * UV_ECANCELED when the connection closed meanwhile (tcp.h). */
static void chunk_ready(struct tcp_conn *tc, int status)
{
	struct bconn *c = (struct bconn *)tc;

	if (sm_state(&c->sm) == BC_DRAINING) {
		sm_move(&c->sm, BC_CLOSED);
		return;
	}
	sm_move(&c->sm, BC_WRITING);
	if (status != 0) {
		conn_close(c);
		return;
	}
	if (c->next_tx > 0)
		txlog_pin_move(&c->pin, c->next_tx);
	if (c->status != GRAFT_OK)
		graft_warn("backup of %s failed: %s", c->db, c->errmsg);
	send_out(c);
}

static void queue_fill(struct bconn *c)
{
	if (tcp_conn_queue_work(&c->tcp, work_cb, chunk_ready) != GRAFT_OK) {
		conn_close(c);
		return;
	}
	sm_move(&c->sm, BC_WORKING);
}

static void reply_and_close(struct bconn *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void reply_and_close(struct bconn *c, const char *fmt, ...)
{
	va_list ap;

	graft_buf_reset(&c->out);
	va_start(ap, fmt);
	vput_line(c, fmt, ap);
	va_end(ap);
	c->done = true;
	sm_move(&c->sm, BC_WRITING);
	send_out(c);
}

static void reply_list(struct bconn *c)
{
	struct db *dbs[256];
	size_t n = dbms_list(c->s->dbms, dbs, 256), i;
	int rv;

	graft_buf_reset(&c->out);
	rv = graft_buf_append(&c->out, BACKUP_PROTO " OK LIST",
			      strlen(BACKUP_PROTO " OK LIST"));
	for (i = 0; rv == GRAFT_OK && i < n && i < 256; i++) {
		rv = graft_buf_append(&c->out, " ", 1);
		if (rv == GRAFT_OK)
			rv = graft_buf_append(&c->out, db_name(dbs[i]),
					      strlen(db_name(dbs[i])));
	}
	if (rv == GRAFT_OK)
		rv = graft_buf_append(&c->out, "\n", 1);
	c->done = true;
	if (rv != GRAFT_OK) {
		conn_close(c);
		return;
	}
	sm_move(&c->sm, BC_WRITING);
	send_out(c);
}

static void start_job(struct bconn *c, const char *db)
{
	struct db *d = dbms_get(c->s->dbms, db);

	if (d == NULL) {
		reply_and_close(c, BACKUP_PROTO " ERR NOTFOUND database %s does "
				"not exist on this server", db);
		return;
	}
	c->db_id = dbms_origin(c->s->dbms, db);
	if (c->type == BACKUP_DIFF && c->check_id && c->want_id != c->db_id) {
		reply_and_close(c, BACKUP_PROTO " ERR IDENTITY the artifacts "
				"are of database %s with id %" PRIu64 ", but %s "
				"on this server has id %" PRIu64 ": it was "
				"dropped and created again since; a DIFF cannot "
				"continue that chain: take a FULL backup",
				db, c->want_id, db, c->db_id);
		return;
	}
	c->last = db_last_txid(d);
	if (c->type == BACKUP_DIFF && c->after > c->last) {
		reply_and_close(c, BACKUP_PROTO " ERR AHEAD the newest artifact "
				"of %s is past the server's last transaction "
				"%" PRIu64 "; it is a backup of another history: "
				"take a FULL backup", db, c->last);
		return;
	}
	/* Up to what both the graph and the log hold: a cluster member or
	 * a read replica applies a transaction before its log has it, a
	 * SINGLE server logs it before applying. */
	if (db_log_last_txid(d) < c->last)
		c->last = db_log_last_txid(d);
	/* A FULL backup's checkpoint is found by the worker: until then
	 * the pin holds the whole log. */
	db_log_pin(d, &c->pin, c->type == BACKUP_DIFF ? c->after + 1 : 0);
	snprintf(c->db, sizeof c->db, "%s", db);
	if (snprintf(c->store_dir, sizeof c->store_dir, "%s/databases/%s",
		     c->s->data_dir, db) >= (int)sizeof c->store_dir ||
	    graft_path_join(c->txlog_dir, sizeof c->txlog_dir,
			    c->s->txlog_root, db) != GRAFT_OK) {
		reply_and_close(c, BACKUP_PROTO " ERR INVALID path of %s too "
				"long", db);
		return;
	}
	queue_fill(c);
}

static void handle_request(struct bconn *c)
{
	char verb[8] = "", db[BACKUP_DB_MAX] = "", proto[32] = "";
	unsigned long long after = 0, id = 0;
	int n = sscanf(c->req, "%31s %7s %127s %llu %llu", proto, verb, db,
		       &after, &id);

	if (n < 2 || strcmp(proto, BACKUP_PROTO) != 0) {
		reply_and_close(c, BACKUP_PROTO " ERR INVALID this is a graft "
				"backup server; expected a %s request",
				BACKUP_PROTO);
		return;
	}
	if (strcmp(verb, "LIST") == 0) {
		reply_list(c);
		return;
	}
	c->type = strcmp(verb, "FULL") == 0 ? BACKUP_FULL : BACKUP_DIFF;
	c->after = after;
	c->check_id = n == 5;
	c->want_id = id;
	if ((c->type == BACKUP_FULL && n == 3) ||
	    (strcmp(verb, "DIFF") == 0 && (n == 4 || n == 5))) {
		start_job(c, db);
		return;
	}
	reply_and_close(c, BACKUP_PROTO " ERR INVALID bad request '%s'",
			c->req);
}

static void bconn_alloc(struct tcp_conn *tc, uv_buf_t *buf)
{
	struct bconn *c = (struct bconn *)tc;

	*buf = uv_buf_init(c->req + c->req_len,
			   (unsigned)(sizeof c->req - 1 - c->req_len));
}

/* An error or EOF closes the connection (tcp.h). */
static void bconn_read(struct tcp_conn *tc, ssize_t n)
{
	struct bconn *c = (struct bconn *)tc;
	char *nl;

	if (n < 0)
		return;
	c->req_len += (size_t)n;
	c->req[c->req_len] = '\0';
	nl = strchr(c->req, '\n');
	if (nl == NULL && c->req_len < sizeof c->req - 1)
		return;
	tcp_conn_read(tc, false);
	tcp_conn_timer_stop(tc);
	if (nl != NULL)
		*nl = '\0';
	handle_request(c);
}

static struct tcp_conn *bconn_new(struct tcp_server *srv)
{
	struct bconn *c = calloc(1, sizeof *c);

	if (c == NULL)
		return NULL;
	sm_init(&c->sm, &bconn_sm, BC_READING);
	c->s = srv->data;
	c->ckpt.fd = -1;
	graft_buf_init(&c->out);
	return &c->tcp;
}

static void bconn_accepted(struct tcp_conn *tc)
{
	tcp_conn_read(tc, true);
	tcp_conn_timer(tc, REQUEST_MS, 0);
}

static const struct tcp_ops backup_tcp_ops = {
	.conn_new = bconn_new,
	.accepted = bconn_accepted,
	.alloc = bconn_alloc,
	.read = bconn_read,
	.written = bconn_written,
	.timeout = bconn_timeout,
	.closing = bconn_closing,
	.conn_free = bconn_free,
};

void backup_server_adopt(void *backup_server, uv_os_sock_t fd,
			 const char *head, size_t n)
{
	struct backup_server *s = backup_server;
	struct tcp_conn *tc;
	struct bconn *c;

	if (tcp_server_adopt(&s->tcp, fd, &tc) != GRAFT_OK)
		return;
	c = (struct bconn *)tc;
	if (n >= sizeof c->req) {
		tcp_conn_close(tc);
		return;
	}
	memcpy(c->req, head, n);
	bconn_read(tc, (ssize_t)n);
}

static void server_closed_cb(struct tcp_server *srv)
{
	struct backup_server *s = srv->data;

	free(s->data_dir);
	free(s->txlog_root);
	free(s);
}

int backup_server_start(uv_loop_t *loop, struct dbms *dbms,
			const char *data_dir, const char *txlog_root,
			const char *setting, const struct graft_address *addr,
			struct backup_server **out, char *errmsg)
{
	struct backup_server *s = calloc(1, sizeof *s);
	struct tcp_listen how = {
		.addr = addr,
		.setting = setting,
		.alternative = "set server.backup.enabled=false",
		.family = AF_UNSPEC,
		.backlog = 64,
	};
	int rv;

	if (s == NULL)
		return GRAFT_ENOMEM;
	tcp_server_init(&s->tcp, loop, &backup_tcp_ops, s);
	s->dbms = dbms;
	s->data_dir = strdup(data_dir);
	s->txlog_root = strdup(txlog_root);
	rv = s->data_dir == NULL || s->txlog_root == NULL
		     ? GRAFT_ENOMEM
		     : tcp_server_listen(&s->tcp, &how, errmsg);
	if (rv != GRAFT_OK) {
		backup_server_close(s);
		return rv;
	}
	*out = s;
	return GRAFT_OK;
}

int backup_server_port(const struct backup_server *s)
{
	return tcp_server_port(&s->tcp);
}

void backup_server_close(struct backup_server *s)
{
	tcp_server_close(&s->tcp, server_closed_cb);
}
