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
 * Before login a peer is cheap and short-lived: its input buffer is
 * IN_SIZE_UNAUTH (it grows to IN_SIZE at login), a request past
 * unauth_max_message closes the connection as soon as the chunks say so
 * (nothing past that is kept), and one not logged in auth_timeout_ms after
 * it connected (or sent LOGOFF) is closed, unless its password is being
 * checked then (a long queue of checks is the server's time, not the
 * client's). At max_connections the oldest
 * connection not logged in is closed to make room; if all are logged in,
 * the newcomer is closed instead (logged at most once a minute). When a
 * burst of connections has closed (half of the high mark gone) freed heap
 * is given back to the system.
 *
 * Closing the server (bolt.h): the logged-in connections close at once;
 * the others get the login grace: every connection's timer runs to its
 * end, a login that succeeds meanwhile closes once its answer is written
 * (close_after_flush, as while stopping), and once no connection is open
 * (or the grace is over) the server closes what is left.
 *
 * Failures: wrong magic, no common version, a protocol violation, GOODBYE,
 * a read error or EOF close the connection (after sending what is queued,
 * where there is something to say); a handshake not done within
 * handshake_timeout_ms or no request within idle_timeout_ms closes it too.
 * Closing rolls back the session's transaction and drops its results; the
 * connection is freed when its socket, timer and session have all closed
 * (the session holds it: tcp_conn_hold). Listening, the connection list,
 * the timer and closing are src/net/tcp.h's; this file is the protocol. */
#include "bolt.h"

#include <stdlib.h>
#include <string.h>

#include "../util/err.h"
#include "../util/log.h"
#include "../util/mem.h"
#include "wire.h"

#define IN_SIZE 65536
/* Enough for any login a driver sends in one read; a larger one is read
 * in pieces. */
#define IN_SIZE_UNAUTH 4096
/* Output buffers larger than this are freed once written, so an idle
 * connection that once streamed does not keep about 2 x out_high. */
#define OUT_KEEP 65536
/* Give freed heap back once this many connections were open and half of
 * them have closed. */
#define TRIM_MIN_CONNS 64
#define REFUSAL_LOG_MS 60000

struct bolt_conn {
	struct tcp_conn tcp; /* first: a struct tcp_conn * is a bolt_conn * */
	struct bolt_server *srv;
	struct bolt_conn *prev, *next;
	struct bolt_conn_list *list; /* srv->unauth or srv->authed; NULL
				      * once closing */
	uint64_t id;
	uint64_t handshake_end; /* loop time the handshake must be done by */
	uint64_t auth_end;      /* loop time the login must be done by */
	struct bolt_session *session; /* after the handshake */
	struct bolt_dechunker dechunk;
	struct graft_buf out;      /* responses collecting */
	struct graft_buf inflight; /* responses being written */
	uint8_t *in;               /* in_cap bytes; owned */
	size_t in_cap;
	size_t in_start, in_len;   /* unconsumed input is in[in_start..in_len) */
	bool waiting;              /* the session waits for an async step */
	bool full;                 /* a result paused on output */
	bool close_after_flush;
};

static void conn_process(struct bolt_conn *c);
static void set_step(struct bolt_conn *c, int step);
static void arm_timer(struct bolt_conn *c);
static void finish_close(struct bolt_server *srv);

static void list_append(struct bolt_conn_list *l, struct bolt_conn *c)
{
	c->list = l;
	c->next = NULL;
	c->prev = l->tail;
	if (l->tail != NULL)
		l->tail->next = c;
	else
		l->head = c;
	l->tail = c;
}

static void list_remove(struct bolt_conn *c)
{
	struct bolt_conn_list *l = c->list;

	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		l->head = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	else
		l->tail = c->prev;
	c->prev = c->next = NULL;
	c->list = NULL;
}

/* After a burst of connections closed, their buffers are free but the heap
 * keeps the pages: hand them back (O(heap), so only at half the mark). */
static void maybe_trim(struct bolt_server *srv)
{
	unsigned n = tcp_server_conns(&srv->tcp);

	if (srv->trim_peak >= TRIM_MIN_CONNS && n <= srv->trim_peak / 2) {
		graft_mem_trim();
		srv->trim_peak = n;
	}
}

static void conn_free(struct tcp_conn *tc)
{
	struct bolt_conn *c = (struct bolt_conn *)tc;
	struct bolt_server *srv = c->srv;

	bolt_dechunker_free(&c->dechunk);
	graft_buf_free(&c->out);
	graft_buf_free(&c->inflight);
	free(c->in);
	free(c);
	maybe_trim(srv);
}

static bool closing(const struct bolt_conn *c)
{
	return tcp_conn_closing(&c->tcp);
}

static void session_closed_cb(void *data)
{
	struct bolt_conn *c = data;

	tcp_conn_release(&c->tcp);
}

/* The connection leaves the lists; its session closes, holding it. */
static void conn_closing(struct tcp_conn *tc)
{
	struct bolt_conn *c = (struct bolt_conn *)tc;

	list_remove(c);
	c->srv->n_open--;
	if (c->session != NULL) {
		tcp_conn_hold(tc);
		bolt_session_close(c->session, session_closed_cb, c);
		c->session = NULL;
	}
	/* c stays on the server's list until freed: no synchronous end */
	if (c->srv->grace_end != 0 && c->srv->n_open == 0)
		finish_close(c->srv); /* the last login of the grace ended */
}

static void conn_close(struct bolt_conn *c)
{
	tcp_conn_close(&c->tcp);
}

/* A failed write closes the connection (tcp.h). */
static void conn_written(struct tcp_conn *tc, int status)
{
	struct bolt_conn *c = (struct bolt_conn *)tc;
	int step;

	if (c->inflight.cap > OUT_KEEP)
		graft_buf_free(&c->inflight);
	else
		graft_buf_reset(&c->inflight);
	if (status != 0) {
		graft_debug("closing bolt-%llu: write failed: %s",
			    (unsigned long long)c->id, uv_strerror(status));
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

/* Writes what collected; true when the socket took all of it at once.
 * A reply that fits the socket's buffer (nearly every one) goes out here
 * with one write: no write request, no deferred callback, no epoll_ctl
 * once libuv's queue drains (tcp_conn_try_write), which at 64 clients was
 * one system call per transaction. What the socket does not take goes out
 * through tcp_conn_write, and conn_written goes on from there; so does a
 * result paused on output (full), which only the write callback resumes,
 * so that a long stream gives the loop back between its batches. */
static bool flush(struct bolt_conn *c)
{
	struct graft_buf tmp;
	size_t taken = 0;

	if (closing(c) || tcp_conn_writing(&c->tcp))
		return false;
	if (c->out.len == 0) {
		if (c->close_after_flush)
			conn_close(c);
		return false;
	}
	if (!c->full) {
		if (tcp_conn_try_write(&c->tcp, c->out.data, c->out.len,
				       &taken) != GRAFT_OK)
			return false; /* closed */
		if (taken == c->out.len) {
			if (c->out.cap > OUT_KEEP)
				graft_buf_free(&c->out);
			else
				graft_buf_reset(&c->out);
			if (c->close_after_flush)
				conn_close(c);
			return true;
		}
	}
	tmp = c->inflight;
	c->inflight = c->out;
	c->out = tmp;
	tcp_conn_write(&c->tcp, c->inflight.data + taken,
		       c->inflight.len - taken);
	return false;
}

static bool authenticated(const struct bolt_conn *c)
{
	return c->list == &c->srv->authed;
}

/* Whether the timer runs to the handshake or login deadline (else it is
 * the keep-alive or idle timer). */
static bool login_pending(const struct bolt_conn *c)
{
	return !authenticated(c) && (c->session == NULL || c->auth_end != 0);
}

static void conn_timeout(struct tcp_conn *tc)
{
	struct bolt_conn *c = (struct bolt_conn *)tc;

	if (c->srv->grace_end != 0) {
		graft_debug("closing bolt-%llu: the server stops, and the "
			    "login grace is over",
			    (unsigned long long)c->id);
		conn_close(c);
		return;
	}
	if (login_pending(c)) {
		graft_debug("closing bolt-%llu: %s", (unsigned long long)c->id,
			    c->session == NULL ? "no handshake in time"
					       : "not logged in in time");
		conn_close(c);
		return;
	}
	if (c->waiting) {
		/* Keep-alive while a request waits; the driver may time out
		 * reads otherwise. */
		if (bolt_chunk_noop(&c->out) == GRAFT_OK)
			flush(c);
		return;
	}
	graft_debug("closing bolt-%llu: idle for too long",
		    (unsigned long long)c->id);
	conn_close(c);
}

/* The earlier of the handshake and login deadlines that apply, as a delay
 * from now. */
static uint64_t unauth_delay(const struct bolt_conn *c)
{
	uint64_t now = uv_now(c->srv->env.loop);
	uint64_t end = c->auth_end;

	if (c->session == NULL && (end == 0 || c->handshake_end < end))
		end = c->handshake_end;
	return end > now ? end - now : 0;
}

/* (Re)arms the timer for the current phase. */
static void arm_timer(struct bolt_conn *c)
{
	struct bolt_server *srv = c->srv;
	uint64_t now = uv_now(srv->env.loop);

	if (closing(c))
		return;
	if (srv->grace_end != 0) /* the server closes: no later than this */
		tcp_conn_timer(&c->tcp,
			       srv->grace_end > now ? srv->grace_end - now : 0,
			       0);
	else if (login_pending(c) && c->waiting)
		tcp_conn_timer_stop(&c->tcp); /* the server checks a password:
					       * its time, not the client's */
	else if (login_pending(c))
		tcp_conn_timer(&c->tcp, unauth_delay(c), 0);
	else if (c->waiting && srv->keepalive_ms > 0)
		tcp_conn_timer(&c->tcp, srv->keepalive_ms, srv->keepalive_ms);
	else if (c->waiting)
		tcp_conn_timer_stop(&c->tcp);
	else if (srv->idle_timeout_ms > 0)
		tcp_conn_timer(&c->tcp, srv->idle_timeout_ms, 0);
	else
		tcp_conn_timer_stop(&c->tcp);
}

static size_t unauth_max_message(const struct bolt_server *srv)
{
	size_t max = srv->env.cfg.max_message;

	return srv->unauth_max_message > 0 && srv->unauth_max_message < max
		       ? srv->unauth_max_message
		       : max;
}

/* Moves the connection between the logged-in and the not-logged-in list
 * when the session's login state changed, with the limits of its new
 * state. */
static void update_auth(struct bolt_conn *c)
{
	struct bolt_server *srv = c->srv;
	bool now = bolt_session_authenticated(c->session);
	uint8_t *in;

	if (closing(c) || now == authenticated(c))
		return;
	list_remove(c);
	if (!now) { /* LOGOFF: a new login deadline */
		list_append(&srv->unauth, c);
		c->dechunk.max = unauth_max_message(srv);
		c->auth_end = srv->auth_timeout_ms > 0
				      ? uv_now(srv->env.loop) +
						srv->auth_timeout_ms
				      : 0;
		return;
	}
	list_append(&srv->authed, c);
	/* A stopping server lets a login in progress end, then closes: a
	 * driver cut off in the middle of its login reports a protocol error
	 * it never retries, while one whose connection closes after it
	 * retries on another member. */
	c->close_after_flush |= srv->stopping;
	c->dechunk.max = srv->env.cfg.max_message;
	/* A larger input buffer, if memory allows; the small one works. */
	if (c->in_cap < IN_SIZE && (in = realloc(c->in, IN_SIZE)) != NULL) {
		c->in = in;
		c->in_cap = IN_SIZE;
	}
}

/* Takes the session's step (enum bolt_step); any progress re-arms the
 * timer, so a long stream to a reading client is not idle. */
static void set_step(struct bolt_conn *c, int step)
{
	c->waiting = step == BOLT_STEP_WAIT;
	c->full = step == BOLT_STEP_FULL;
	c->close_after_flush = step == BOLT_STEP_CLOSE;
	update_auth(c);
	arm_timer(c);
}

static void wake_cb(struct bolt_session *s, int step)
{
	struct bolt_conn *c = bolt_session_data(s);

	set_step(c, step);
	conn_process(c);
}

static void conn_alloc(struct tcp_conn *tc, uv_buf_t *b)
{
	struct bolt_conn *c = (struct bolt_conn *)tc;

	if (c->in_start > 0) {
		memmove(c->in, c->in + c->in_start, c->in_len - c->in_start);
		c->in_len -= c->in_start;
		c->in_start = 0;
	}
	b->base = (char *)c->in + c->in_len;
	b->len = c->in_cap - c->in_len;
}

/* An error or EOF closes the connection (tcp.h). */
static void conn_read(struct tcp_conn *tc, ssize_t n)
{
	struct bolt_conn *c = (struct bolt_conn *)tc;

	if (n < 0) {
		if (n != UV_EOF)
			graft_debug("closing bolt-%llu: read failed: %s",
				    (unsigned long long)c->id,
				    uv_strerror((int)n));
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
	tcp_conn_read(&c->tcp, !c->close_after_flush && c->in_len < c->in_cap);
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

	while (!closing(c) && !c->close_after_flush && !c->waiting &&
	       !c->full && c->out.len < c->srv->env.cfg.out_high &&
	       c->in_start < c->in_len) {
		if (bolt_dechunk(&c->dechunk, c->in + c->in_start,
				 c->in_len - c->in_start, &used,
				 &complete) != GRAFT_OK) {
			conn_close(c);
			return;
		}
		c->in_start += used;
		if (c->dechunk.too_big && !authenticated(c)) {
			graft_debug("closing bolt-%llu: a request of more than "
				    "%zu bytes before login",
				    (unsigned long long)c->id, c->dechunk.max);
			conn_close(c);
			return;
		}
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
	/* While a request waits (mostly a commit becoming durable, well
	 * under a millisecond) its answers collect and go out in one write
	 * with what follows; the keep-alive timer flushes them otherwise.
	 * Answers the socket took at once (flush) make room for requests
	 * held behind out_high: they are taken at once, as conn_written
	 * would once a write finished. */
	do {
		if (closing(c))
			return;
		if (c->session != NULL || c->close_after_flush ||
		    handshake(c)) {
			check_interrupt(c);
			feed(c);
		}
		if (closing(c))
			return;
		if (c->in_start == c->in_len)
			c->in_start = c->in_len = 0;
	} while (!c->waiting && flush(c) && c->in_start < c->in_len);
	update_reading(c);
}

/* At the cap, the oldest connection not logged in makes room; returns
 * false if every open connection is logged in. */
static bool make_room(struct bolt_server *srv)
{
	struct bolt_conn *oldest = srv->unauth.head;

	if (srv->max_connections == 0 || srv->n_open < srv->max_connections)
		return true;
	if (oldest == NULL)
		return false;
	graft_debug("closing bolt-%llu: not logged in, and %u connections "
		    "are open (server.bolt.max_connections)",
		    (unsigned long long)oldest->id, srv->n_open);
	conn_close(oldest);
	return true;
}

static void log_refusal(struct bolt_server *srv)
{
	uint64_t now = uv_now(srv->env.loop);

	srv->refused++;
	if (srv->refusal_logged_ms != 0 &&
	    now - srv->refusal_logged_ms < REFUSAL_LOG_MS)
		return;
	srv->refusal_logged_ms = now;
	graft_warn("Bolt connection refused: %u logged-in connections are "
		   "open, the limit server.bolt.max_connections (%llu refused "
		   "so far); raise it if these clients are expected",
		   srv->n_open, (unsigned long long)srv->refused);
}

static struct tcp_conn *conn_new(struct tcp_server *tsrv)
{
	struct bolt_server *srv = tsrv->data;
	struct bolt_conn *c = calloc(1, sizeof *c);
	uint64_t now = uv_now(srv->env.loop);

	if (c == NULL || (c->in = malloc(IN_SIZE_UNAUTH)) == NULL) {
		free(c);
		return NULL;
	}
	c->srv = srv;
	c->id = ++srv->next_id;
	c->in_cap = IN_SIZE_UNAUTH;
	c->handshake_end = now + srv->handshake_timeout_ms;
	c->auth_end = srv->auth_timeout_ms > 0 ? now + srv->auth_timeout_ms
					       : 0;
	bolt_dechunker_init(&c->dechunk, unauth_max_message(srv));
	graft_buf_init(&c->out);
	graft_buf_init(&c->inflight);
	return &c->tcp;
}

static void conn_accepted(struct tcp_conn *tc)
{
	struct bolt_conn *c = (struct bolt_conn *)tc;
	struct bolt_server *srv = c->srv;
	bool room = make_room(srv);
	unsigned n = tcp_server_conns(&srv->tcp);

	list_append(&srv->unauth, c);
	srv->n_open++;
	if (n > srv->trim_peak)
		srv->trim_peak = n;
	if (!room) { /* accepted only to be closed: it leaves the backlog */
		log_refusal(srv);
		conn_close(c);
		return;
	}
	arm_timer(c);
	update_reading(c);
}

static const struct tcp_ops bolt_tcp_ops = {
	.conn_new = conn_new,
	.accepted = conn_accepted,
	.alloc = conn_alloc,
	.read = conn_read,
	.written = conn_written,
	.timeout = conn_timeout,
	.closing = conn_closing,
	.conn_free = conn_free,
};

int bolt_server_listen(struct bolt_server *srv, const struct tcp_listen *how,
		       char *errmsg)
{
	tcp_server_init(&srv->tcp, srv->env.loop, &bolt_tcp_ops, srv);
	tcp_server_init(&srv->upstream, srv->env.loop, bolt_forward_ops(),
			srv);
	srv->env.upstream = &srv->upstream;
	net_resolver_init(&srv->resolver, srv->env.loop, "server-side routing");
	srv->resolver.data = srv;
	srv->env.resolver = &srv->resolver;
	return tcp_server_listen(&srv->tcp, how, errmsg);
}

unsigned bolt_server_connections(const struct bolt_server *srv)
{
	return tcp_server_conns(&srv->tcp);
}

static void tcp_closed_cb(struct tcp_server *tsrv)
{
	struct bolt_server *srv = tsrv->data;
	void (*cb)(struct bolt_server *srv) = srv->closed_cb;

	if (--srv->closing > 0)
		return;
	srv->closed_cb = NULL;
	if (cb != NULL)
		cb(srv);
}

static void resolver_closed_cb(struct net_resolver *r)
{
	tcp_closed_cb(&((struct bolt_server *)r->data)->tcp);
}

void bolt_server_stop_accepting(struct bolt_server *srv)
{
	srv->stopping = true;
	tcp_server_stop_accepting(&srv->tcp);
}

/* Closes the listener, every connection left and the upstreams. */
static void finish_close(struct bolt_server *srv)
{
	srv->grace_end = 0;
	srv->closing = srv->env.upstream != NULL ? 3 : 1;
	/* the clients' sessions first: they let go of their upstreams */
	tcp_server_close(&srv->tcp, tcp_closed_cb);
	if (srv->env.upstream == NULL)
		return;
	tcp_server_close(&srv->upstream, tcp_closed_cb);
	net_resolver_close(&srv->resolver, resolver_closed_cb);
}

/* Whether a connection is in its handshake or login, or writing the
 * answer to its login before it closes. */
static bool logins_in_progress(const struct bolt_server *srv)
{
	if (srv->unauth.head != NULL)
		return true;
	for (const struct bolt_conn *c = srv->authed.head; c != NULL;
	     c = c->next)
		if (c->close_after_flush)
			return true;
	return false;
}

/* The login grace: logged-in connections close now, the others keep
 * their timers only to the grace's end. At least one connection stays
 * open here, so the grace cannot end inside this function. */
void bolt_server_close(struct bolt_server *srv,
		       void (*cb)(struct bolt_server *srv))
{
	struct bolt_conn *c, *next;

	srv->closed_cb = cb;
	srv->tcp.data = srv; /* set already if it listened */
	if (!logins_in_progress(srv)) {
		finish_close(srv);
		return;
	}
	bolt_server_stop_accepting(srv);
	srv->grace_end = uv_now(srv->env.loop) + BOLT_LOGIN_GRACE_MS;
	for (c = srv->authed.head; c != NULL; c = next) {
		next = c->next;
		if (!c->close_after_flush) /* a login being answered flushes */
			conn_close(c);
		else
			arm_timer(c);
	}
	for (c = srv->unauth.head; c != NULL; c = c->next)
		arm_timer(c);
}
