/* A Bolt connection on libuv.
 *
 * Happy path: accept -> 20 handshake bytes -> version reply -> chunks are
 * reassembled into messages -> each goes to the session, whose responses
 * collect in `out` -> out is written (one write in flight; the next batch
 * collects meanwhile) -> more input is read.
 *
 * Backpressure: requests are taken from the input only while the session
 * can take one: not while it waits for an asynchronous step (then a NOOP
 * goes out every keepalive_ms), not while a result is paused because the
 * output reached out_high (it resumes once the write drains below half of
 * that), and not while out is above out_high (a client pipelining requests
 * without reading the answers). Meanwhile input is read only into the fixed
 * buffer, where a queued RESET is looked for (jump-ahead). So a peer costs
 * at most the input buffer, one message and about two out_high buffers.
 *
 * Failures: wrong magic, no common version, a protocol violation, GOODBYE,
 * a read error or EOF close the connection (after sending what is queued,
 * where there is something to say); a handshake not done within
 * handshake_timeout_ms or no request within idle_timeout_ms closes it too.
 * Closing rolls back the session's transaction; the connection is freed
 * when its socket, timer and session have all closed. */
#include "bolt.h"

#include <stdlib.h>
#include <string.h>

#include "../util/err.h"
#include "../util/log.h"
#include "wire.h"

#define IN_SIZE 65536

struct bolt_conn {
	uv_tcp_t tcp;
	uv_timer_t timer;
	uv_write_t wr;
	struct bolt_server *srv;
	struct bolt_conn *prev, *next;
	uint64_t id;
	struct bolt_session *session; /* after the handshake */
	struct bolt_dechunker dechunk;
	struct graft_buf out;      /* responses collecting */
	struct graft_buf inflight; /* responses being written */
	size_t in_start, in_len;   /* unconsumed input is in[in_start..in_len) */
	unsigned handles;          /* open handles and session; freed at 0 */
	bool reading;
	bool writing;
	bool waiting;              /* the session waits for an async step */
	bool full;                 /* a result paused on output */
	bool close_after_flush;
	bool closing;
	uint8_t in[IN_SIZE];
};

static void conn_process(struct bolt_conn *c);
static void set_step(struct bolt_conn *c, int step);
static void arm_timer(struct bolt_conn *c);

static void conn_free(struct bolt_conn *c)
{
	struct bolt_server *srv = c->srv;

	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	srv->n_conns--;
	bolt_dechunker_free(&c->dechunk);
	graft_buf_free(&c->out);
	graft_buf_free(&c->inflight);
	free(c);
	if (srv->n_conns == 0 && srv->closed_cb != NULL) {
		void (*cb)(struct bolt_server *) = srv->closed_cb;
		srv->closed_cb = NULL;
		cb(srv);
	}
}

static void conn_release(struct bolt_conn *c)
{
	if (--c->handles == 0)
		conn_free(c);
}

static void handle_close_cb(uv_handle_t *h)
{
	conn_release(h->data);
}

static void session_closed_cb(void *data)
{
	conn_release(data);
}

static void conn_close(struct bolt_conn *c)
{
	if (c->closing)
		return;
	c->closing = true;
	if (c->session != NULL) {
		c->handles++;
		bolt_session_close(c->session, session_closed_cb, c);
		c->session = NULL;
	}
	uv_close((uv_handle_t *)&c->timer, handle_close_cb);
	uv_close((uv_handle_t *)&c->tcp, handle_close_cb);
}

static void write_cb(uv_write_t *req, int status)
{
	struct bolt_conn *c = req->data;
	int step;

	c->writing = false;
	graft_buf_reset(&c->inflight);
	if (c->closing)
		return;
	if (status != 0) {
		graft_debug("closing bolt-%llu: write failed: %s",
			    (unsigned long long)c->id, uv_strerror(status));
		conn_close(c);
		return;
	}
	if (c->full && c->out.len < c->srv->env.cfg.out_high / 2) {
		step = bolt_session_resume(c->session);
		set_step(c, step);
	} else {
		arm_timer(c); /* the peer is reading: not idle */
	}
	conn_process(c);
}

static void flush(struct bolt_conn *c)
{
	struct graft_buf tmp;
	uv_buf_t b;

	if (c->closing || c->writing)
		return;
	if (c->out.len == 0) {
		if (c->close_after_flush)
			conn_close(c);
		return;
	}
	tmp = c->inflight;
	c->inflight = c->out;
	c->out = tmp;
	b = uv_buf_init((char *)c->inflight.data, (unsigned)c->inflight.len);
	c->wr.data = c;
	c->writing = true;
	if (uv_write(&c->wr, (uv_stream_t *)&c->tcp, &b, 1, write_cb) != 0) {
		c->writing = false;
		conn_close(c);
	}
}

static void timer_cb(uv_timer_t *t)
{
	struct bolt_conn *c = t->data;

	if (c->waiting) {
		/* Keep-alive while a request waits; the driver may time out
		 * reads otherwise. */
		if (bolt_chunk_noop(&c->out) == GRAFT_OK)
			flush(c);
		return;
	}
	graft_debug("closing bolt-%llu: %s", (unsigned long long)c->id,
		    c->session == NULL ? "no handshake in time"
				       : "idle for too long");
	conn_close(c);
}

/* (Re)arms the timer for the current phase. */
static void arm_timer(struct bolt_conn *c)
{
	struct bolt_server *srv = c->srv;

	if (c->waiting && srv->keepalive_ms > 0)
		uv_timer_start(&c->timer, timer_cb, srv->keepalive_ms,
			       srv->keepalive_ms);
	else if (c->waiting)
		uv_timer_stop(&c->timer);
	else if (c->session == NULL)
		uv_timer_start(&c->timer, timer_cb, srv->handshake_timeout_ms, 0);
	else if (srv->idle_timeout_ms > 0)
		uv_timer_start(&c->timer, timer_cb, srv->idle_timeout_ms, 0);
	else
		uv_timer_stop(&c->timer);
}

/* Takes the session's step (enum bolt_step); any progress re-arms the
 * timer, so a long stream to a reading client is not idle. */
static void set_step(struct bolt_conn *c, int step)
{
	c->waiting = step == BOLT_STEP_WAIT;
	c->full = step == BOLT_STEP_FULL;
	c->close_after_flush = step == BOLT_STEP_CLOSE;
	arm_timer(c);
}

static void wake_cb(struct bolt_session *s, int step)
{
	struct bolt_conn *c = bolt_session_data(s);

	set_step(c, step);
	conn_process(c);
}

static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct bolt_conn *c = h->data;

	(void)hint;
	if (c->in_start > 0) {
		memmove(c->in, c->in + c->in_start, c->in_len - c->in_start);
		c->in_len -= c->in_start;
		c->in_start = 0;
	}
	b->base = (char *)c->in + c->in_len;
	b->len = IN_SIZE - c->in_len;
}

static void read_cb(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
	struct bolt_conn *c = st->data;

	(void)b;
	if (n < 0) {
		if (n != UV_EOF)
			graft_debug("closing bolt-%llu: read failed: %s",
				    (unsigned long long)c->id,
				    uv_strerror((int)n));
		conn_close(c);
		return;
	}
	c->in_len += (size_t)n;
	conn_process(c);
}

/* Input is read while there is room for it, even while the session
 * blocks: that is how a RESET queued behind a blocked request is seen.
 * The buffer is fixed, so a peer that sends without reading answers fills
 * it and then waits. */
static void update_reading(struct bolt_conn *c)
{
	bool want = !c->closing && !c->close_after_flush &&
		    c->in_len < IN_SIZE;

	if (want && !c->reading)
		c->reading = uv_read_start((uv_stream_t *)&c->tcp, alloc_cb,
					   read_cb) == 0;
	else if (!want && c->reading) {
		uv_read_stop((uv_stream_t *)&c->tcp);
		c->reading = false;
	}
}

/* The handshake: false while incomplete. */
static bool handshake(struct bolt_conn *c)
{
	static const uint8_t magic[4] = {0x60, 0x60, 0xB0, 0x17};
	size_t have = c->in_len - c->in_start;
	const uint8_t *p = c->in + c->in_start;
	uint8_t reply[4];
	uint32_t version;

	if (memcmp(p, magic, have < 4 ? have : 4) != 0) {
		graft_debug("closing bolt-%llu: not a Bolt handshake",
			    (unsigned long long)c->id);
		conn_close(c);
		return false;
	}
	if (have < BOLT_HANDSHAKE_SIZE)
		return false;
	c->in_start += BOLT_HANDSHAKE_SIZE;
	version = bolt_handshake(p, reply);
	if (graft_buf_append(&c->out, reply, 4) != GRAFT_OK || version == 0 ||
	    bolt_session_new(&c->srv->env, version, c->id, &c->out, wake_cb, c,
			     &c->session) != GRAFT_OK) {
		graft_debug("closing bolt-%llu: no common protocol version",
			    (unsigned long long)c->id);
		c->close_after_flush = true;
		return false;
	}
	arm_timer(c);
	return true;
}

/* Feeds input to the session until it blocks or input runs out. */
static void feed(struct bolt_conn *c)
{
	size_t used;
	bool complete;
	int step;

	while (!c->closing && !c->close_after_flush && !c->waiting &&
	       !c->full && c->out.len < c->srv->env.cfg.out_high &&
	       c->in_start < c->in_len) {
		if (bolt_dechunk(&c->dechunk, c->in + c->in_start,
				 c->in_len - c->in_start, &used,
				 &complete) != GRAFT_OK) {
			conn_close(c);
			return;
		}
		c->in_start += used;
		if (!complete)
			continue;
		step = bolt_session_handle(c->session, c->dechunk.msg.data,
					   c->dechunk.msg.len,
					   c->dechunk.too_big);
		bolt_dechunker_next(&c->dechunk);
		set_step(c, step);
	}
}

/* Jump-ahead RESET: a blocked request gives way to a RESET queued in the
 * input (the input starts at a message boundary while blocked). */
static void check_interrupt(struct bolt_conn *c)
{
	if ((c->waiting || c->full) &&
	    bolt_chunks_hold_reset(c->in + c->in_start, c->in_len - c->in_start))
		set_step(c, bolt_session_interrupt(c->session, c->full));
}

static void conn_process(struct bolt_conn *c)
{
	if (c->closing)
		return;
	if (c->session == NULL && !c->close_after_flush && !handshake(c))
		goto out;
	check_interrupt(c);
	feed(c);
out:
	if (c->closing)
		return;
	if (c->in_start == c->in_len)
		c->in_start = c->in_len = 0;
	/* While a request waits (mostly a commit becoming durable, well
	 * under a millisecond) its answers collect and go out in one write
	 * with what follows; the keep-alive timer flushes them otherwise. */
	if (!c->waiting)
		flush(c);
	if (!c->closing)
		update_reading(c);
}

int bolt_server_accept(struct bolt_server *srv, uv_stream_t *listener)
{
	struct bolt_conn *c = calloc(1, sizeof *c);

	if (c == NULL)
		return GRAFT_ENOMEM;
	c->srv = srv;
	c->id = ++srv->next_id;
	bolt_dechunker_init(&c->dechunk, srv->env.cfg.max_message);
	graft_buf_init(&c->out);
	graft_buf_init(&c->inflight);
	uv_tcp_init(srv->env.loop, &c->tcp);
	uv_timer_init(srv->env.loop, &c->timer);
	c->tcp.data = c->timer.data = c;
	c->handles = 2;
	c->next = srv->conns;
	if (srv->conns != NULL)
		srv->conns->prev = c;
	srv->conns = c;
	srv->n_conns++;
	if (uv_accept(listener, (uv_stream_t *)&c->tcp) != 0) {
		conn_close(c);
		return GRAFT_EIO;
	}
	uv_tcp_nodelay(&c->tcp, 1);
	arm_timer(c);
	update_reading(c);
	return GRAFT_OK;
}

unsigned bolt_server_connections(const struct bolt_server *srv)
{
	return srv->n_conns;
}

void bolt_server_close(struct bolt_server *srv,
		       void (*cb)(struct bolt_server *srv))
{
	srv->closed_cb = cb;
	if (srv->n_conns == 0) {
		srv->closed_cb = NULL;
		if (cb != NULL)
			cb(srv);
		return;
	}
	for (struct bolt_conn *c = srv->conns; c != NULL; c = c->next)
		conn_close(c);
}
