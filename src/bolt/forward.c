/* Server-side routing: a write transaction a client runs on a member that
 * does not lead is forwarded to the leader's routing connector, and the
 * leader's answers are relayed back, message by message.
 *
 * Happy path: a session in READY gets BEGIN or an auto-commit RUN whose
 * access mode is write (no mode "r"); with cfg.server_routing the
 * forwarder (env->forward, the cluster) names where writes go now: ""
 * (this member leads: the request runs here) or the leader's routing
 * connector. The session then forwards: it opens (or reuses, when the
 * leader is the same) one upstream Bolt connection, negotiates the
 * client's own protocol version, replays the client's HELLO (and LOGON
 * from 5.1) so that the leader authenticates the same user with the same
 * options, and from then on sends each request of the client as it
 * arrives (pipelined, up to FWD_PIPELINE in flight) and appends each
 * answer to the client's output unchanged: records, SUCCESS with its
 * bookmark, FAILURE with its code. It follows the remote state machine
 * from the answers (BEGIN -> transaction, COMMIT/ROLLBACK/RESET -> ready,
 * an auto-commit result that has no more -> ready, FAILURE -> failed) and
 * stops forwarding once the leader's session is back in READY with no
 * answer outstanding: the next request is decided afresh, so the leader is
 * looked up again for every transaction and a leader change is followed.
 *
 * Backpressure: at FWD_PIPELINE requests in flight, or with the client's
 * output above out_high, the session reports BOLT_STEP_FULL (the
 * connection stops feeding requests but keeps writing); reading from the
 * leader stops while the client's output is above out_high and resumes
 * with bolt_session_resume.
 *
 * Failures: no leader (an election) answers the request that would have
 * been forwarded with the forwarder's error (DatabaseUnavailable, which
 * drivers retry). The leader's connector not answering (FWD_CONNECT_MS),
 * closing the connection or refusing the login fails the first request
 * waiting for an answer with DatabaseUnavailable naming what happened (or
 * relays the leader's own FAILURE) and answers the others IGNORED; the
 * session goes to FAILED, the client's RESET is handled here. Lost between
 * two requests of an open transaction, the failure answers the next
 * request. A transaction whose COMMIT was sent and whose answer was lost
 * may have committed: retrying it (a transaction function does) may write
 * twice, as with a lost direct connection. Loop thread only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/err.h"
#include "../util/log.h"
#include "bolt.h"
#include "session_int.h"
#include "wire.h"

#define FWD_PIPELINE 64 /* requests in flight to the leader at most */
#define FWD_IN_SIZE 65536
#define FWD_CONNECT_MS 5000
/* The leader is trusted: its answers are bounded by its own limits. */
#define FWD_MAX_MESSAGE ((size_t)1 << 30)

enum fwd_remote { FWD_READY, FWD_TX, FWD_AUTO, FWD_FAILED };

struct bolt_fwd {
	struct tcp_conn tcp;    /* first: a struct tcp_conn * is a bolt_fwd * */
	struct bolt_session *s; /* NULL once the session let go */
	struct net_resolve_req resolve;
	char addr[BOLT_ROUTE_ADDR_LEN];
	const char *why;        /* what closing reports */
	bool linked;            /* on the upstream server's list: it frees f */
	bool connected;
	bool versioned;         /* the leader accepted the version */
	bool paused;            /* reading stopped: client output is full */
	unsigned logins;        /* HELLO/LOGON answers still to come */
	enum fwd_remote remote;
	uint8_t pending[FWD_PIPELINE]; /* requests awaiting a summary */
	unsigned head, n;
	struct graft_buf out, inflight;
	struct bolt_dechunker dechunk;
	uint8_t in[FWD_IN_SIZE];
	size_t in_start, in_len;
};

static struct bolt_fwd *fwd_of(struct tcp_conn *c)
{
	return (struct bolt_fwd *)c;
}

/* Appends the whole message msg to out, chunked. */
static int chunk_message(struct graft_buf *out, const uint8_t *msg,
			 size_t len)
{
	size_t start;
	int rv = bolt_chunk_begin(out, &start);

	if (rv == GRAFT_OK)
		rv = graft_buf_append(out, msg, len);
	return rv != GRAFT_OK ? rv : bolt_chunk_end(out, start);
}

static bool is_sig(const uint8_t *msg, size_t len, uint8_t sig)
{
	return len >= 2 && (msg[0] & 0xF0) == 0xB0 && msg[1] == sig;
}

/* The session lets go of f, which closes on its own. */
static void fwd_detach(struct bolt_fwd *f)
{
	if (f->s != NULL)
		f->s->fwd = NULL;
	f->s = NULL;
	if (f->linked)
		tcp_conn_close(&f->tcp);
}

static void fwd_free(struct bolt_fwd *f)
{
	graft_buf_free(&f->out);
	graft_buf_free(&f->inflight);
	bolt_dechunker_free(&f->dechunk);
	free(f);
}

int bolt_forward_step(const struct bolt_session *s)
{
	if (s->out->len >= s->env->cfg.out_high ||
	    (s->fwd != NULL && s->fwd->n >= FWD_PIPELINE))
		return BOLT_STEP_FULL;
	return BOLT_STEP_DONE;
}

/* Session side: answers the requests still waiting with FAILURE (the
 * first) and IGNORED, and goes to FAILED. msg: the leader's own FAILURE
 * to relay, or NULL for one with the session's fwd_error. */
static void fail_pending(struct bolt_session *s, unsigned n,
			 const uint8_t *msg, size_t len)
{
	for (unsigned i = 0; i < n; i++) {
		if (i > 0)
			bolt_write_ignored(s->out);
		else if (msg == NULL)
			bolt_write_failure(s->out, s->fwd_error.code,
					   s->fwd_error.message);
		else
			chunk_message(s->out, msg, len);
	}
	s->forwarding = false;
	s->state = BOLT_FAILED;
}

/* The upstream connection is gone (or the leader refused the login, msg
 * its FAILURE): the requests waiting fail now; between two requests of a
 * forwarded transaction, the next one fails. */
static void fwd_lost(struct bolt_fwd *f, const uint8_t *msg, size_t len)
{
	struct bolt_session *s = f->s;
	unsigned n = f->n;

	if (s == NULL)
		return;
	cypher_error_set(&s->fwd_error, GRAFT_STATUS_DATABASE_UNAVAILABLE,
			 "The leader's routing connector at %s %s; the "
			 "transaction did not complete there (a COMMIT sent "
			 "before may have); retry it",
			 f->addr, f->why != NULL ? f->why : "closed the connection");
	f->n = 0;
	fwd_detach(f);
	if (n > 0)
		fail_pending(s, n, msg, len);
	if (n > 0 || s->forwarding)
		bolt_wake(s, bolt_forward_step(s));
}

/* Writing to the leader ------------------------------------------------- */

static void fwd_flush(struct bolt_fwd *f)
{
	struct graft_buf tmp;

	if (!f->connected || f->out.len == 0 || tcp_conn_writing(&f->tcp) ||
	    tcp_conn_closing(&f->tcp))
		return;
	tmp = f->inflight;
	f->inflight = f->out;
	f->out = tmp;
	tcp_conn_write(&f->tcp, f->inflight.data, f->inflight.len);
}


/* The handshake proposing only the client's version, then its login. */
static int queue_login(struct bolt_fwd *f, const struct bolt_session *s)
{
	uint8_t hs[BOLT_HANDSHAKE_SIZE] = {0x60, 0x60, 0xB0, 0x17, 0, 0,
					   (uint8_t)BOLT_MINOR(s->version),
					   (uint8_t)BOLT_MAJOR(s->version)};
	int rv = graft_buf_append(&f->out, hs, sizeof hs);

	if (rv == GRAFT_OK)
		rv = chunk_message(&f->out, s->hello_raw.data, s->hello_raw.len);
	f->logins = 1;
	if (rv == GRAFT_OK && s->version >= BOLT_VERSION(5, 1)) {
		rv = chunk_message(&f->out, s->logon_raw.data, s->logon_raw.len);
		f->logins = 2;
	}
	return rv;
}

static void fwd_written(struct tcp_conn *c, int status)
{
	struct bolt_fwd *f = fwd_of(c);

	graft_buf_reset(&f->inflight);
	if (status != 0) {
		f->why = "could not be written to";
		return;
	}
	fwd_flush(f);
}

/* Reading from the leader ----------------------------------------------- */

static bool has_more(const uint8_t *msg, size_t len)
{
	char errmsg[GRAFT_ERRMSG_SIZE];
	struct pack_reader r;
	struct graft_value meta;
	const struct graft_value *v;
	unsigned fields;
	uint8_t tag;
	bool more = false;

	pack_reader_init(&r, msg, len);
	if (pack_read_struct_header(&r, &fields, &tag, errmsg) != GRAFT_OK ||
	    fields != 1 || pack_read_value(&r, &meta, errmsg) != GRAFT_OK)
		return false;
	if (meta.type == GRAFT_VALUE_MAP &&
	    (v = graft_map_get(meta.u.map, "has_more", 8)) != NULL &&
	    v->type == GRAFT_VALUE_BOOL)
		more = v->u.b;
	graft_value_free(&meta);
	return more;
}

/* The leader's session state after answering request sig with summary
 * msg (SUCCESS, FAILURE or IGNORED). */
static void follow_remote(struct bolt_fwd *f, uint8_t sig,
			  const uint8_t *msg, size_t len)
{
	if (is_sig(msg, len, BOLT_FAILURE)) {
		f->remote = FWD_FAILED;
		return;
	}
	if (!is_sig(msg, len, BOLT_SUCCESS))
		return;
	if (sig == BOLT_BEGIN)
		f->remote = FWD_TX;
	else if (sig == BOLT_RUN && f->remote == FWD_READY)
		f->remote = FWD_AUTO;
	else if ((sig == BOLT_PULL || sig == BOLT_DISCARD) &&
		 f->remote == FWD_AUTO && !has_more(msg, len))
		f->remote = FWD_READY;
	else if (sig == BOLT_COMMIT || sig == BOLT_ROLLBACK ||
		 sig == BOLT_RESET)
		f->remote = FWD_READY;
}

/* One whole message from the leader. false: f was let go. */
static bool fwd_answer(struct bolt_fwd *f, const uint8_t *msg, size_t len)
{
	struct bolt_session *s = f->s;
	uint8_t sig;

	if (f->logins > 0 && !is_sig(msg, len, BOLT_RECORD)) {
		f->logins--;
		if (is_sig(msg, len, BOLT_SUCCESS))
			return true;
		f->why = "refused the login";
		fwd_lost(f, msg, len);
		return false;
	}
	if (chunk_message(s->out, msg, len) != GRAFT_OK) {
		f->why = "sent more than this member could buffer";
		fwd_lost(f, NULL, 0);
		return false;
	}
	if (is_sig(msg, len, BOLT_RECORD) || f->n == 0)
		return true;
	sig = f->pending[f->head];
	f->head = (f->head + 1) % FWD_PIPELINE;
	f->n--;
	follow_remote(f, sig, msg, len);
	if (f->n == 0 && f->remote == FWD_READY)
		s->forwarding = false;
	return true;
}

/* The 4 bytes of the version answer; false if the leader refused it. */
static bool fwd_version(struct bolt_fwd *f)
{
	const uint8_t *p = f->in + f->in_start;
	uint32_t version;

	if (f->in_len - f->in_start < 4)
		return true;
	version = BOLT_VERSION(p[3], p[2]);
	f->in_start += 4;
	if (version == f->s->version) {
		f->versioned = true;
		tcp_conn_timer_stop(&f->tcp);
		return true;
	}
	f->why = "does not speak the client's Bolt version";
	fwd_lost(f, NULL, 0);
	return false;
}

/* Relays what has arrived until the client's output is full. false: f
 * was let go. */
static bool fwd_pump(struct bolt_fwd *f)
{
	size_t used;
	bool complete;

	while (f->s != NULL && f->in_start < f->in_len) {
		if (f->s->out->len >= f->s->env->cfg.out_high) {
			f->paused = true;
			tcp_conn_read(&f->tcp, false);
			return true;
		}
		if (!f->versioned) {
			if (!fwd_version(f))
				return false;
			continue;
		}
		if (bolt_dechunk(&f->dechunk, f->in + f->in_start,
				 f->in_len - f->in_start, &used,
				 &complete) != GRAFT_OK) {
			f->why = "sent what could not be buffered";
			fwd_lost(f, NULL, 0);
			return false;
		}
		f->in_start += used;
		if (!complete)
			continue;
		if (!fwd_answer(f, f->dechunk.msg.data, f->dechunk.msg.len))
			return false;
		bolt_dechunker_next(&f->dechunk);
	}
	if (f->in_start == f->in_len)
		f->in_start = f->in_len = 0;
	return f->s != NULL;
}

static void fwd_alloc(struct tcp_conn *c, uv_buf_t *b)
{
	struct bolt_fwd *f = fwd_of(c);

	if (f->in_start > 0) {
		memmove(f->in, f->in + f->in_start, f->in_len - f->in_start);
		f->in_len -= f->in_start;
		f->in_start = 0;
	}
	b->base = (char *)f->in + f->in_len;
	b->len = sizeof f->in - f->in_len;
}

static void fwd_read(struct tcp_conn *c, ssize_t n)
{
	struct bolt_fwd *f = fwd_of(c);
	struct bolt_session *s = f->s;

	if (n < 0)
		return; /* closing reports it */
	f->in_len += (size_t)n;
	if (fwd_pump(f)) /* else fwd_lost woke the session */
		bolt_wake(s, bolt_forward_step(s));
}

/* Connection life -------------------------------------------------------- */

static void fwd_connected(struct tcp_conn *c, int status)
{
	struct bolt_fwd *f = fwd_of(c);

	if (status != 0) {
		f->why = "refused the connection";
		return;
	}
	f->connected = true;
	tcp_conn_read(c, true);
	fwd_flush(f);
}

static void fwd_timeout(struct tcp_conn *c)
{
	struct bolt_fwd *f = fwd_of(c);

	f->why = "did not answer within 5 s";
	tcp_conn_close(c);
}

static void fwd_closing(struct tcp_conn *c)
{
	fwd_lost(fwd_of(c), NULL, 0);
}

static void fwd_conn_free(struct tcp_conn *c)
{
	fwd_free(fwd_of(c));
}

static const struct tcp_ops fwd_ops = {
	.connected = fwd_connected,
	.alloc = fwd_alloc,
	.read = fwd_read,
	.written = fwd_written,
	.timeout = fwd_timeout,
	.closing = fwd_closing,
	.conn_free = fwd_conn_free,
};

const struct tcp_ops *bolt_forward_ops(void)
{
	return &fwd_ops;
}

/* Connects f to sa. Unless GRAFT_ESHUTDOWN (f was not taken), f is on
 * the upstream server's list, which frees it. */
static int fwd_dial(struct bolt_fwd *f, const struct sockaddr *sa)
{
	int rv = tcp_connect(f->s->env->upstream, &f->tcp, sa);

	f->linked = rv != GRAFT_ESHUTDOWN;
	if (rv == GRAFT_OK)
		tcp_conn_timer(&f->tcp, FWD_CONNECT_MS, 0);
	return rv;
}

/* Connects f to sa (NULL: the name did not resolve, or the server
 * closes), or fails the requests waiting on it. */
static void fwd_connect(struct bolt_fwd *f, const struct sockaddr *sa)
{
	int rv = GRAFT_EIO;

	if (f->s != NULL && sa != NULL)
		rv = fwd_dial(f, sa);
	if (rv == GRAFT_OK)
		return;
	f->why = sa == NULL ? "does not resolve" : "cannot be connected to";
	fwd_lost(f, NULL, 0);
	if (!f->linked)
		fwd_free(f);
}

static void resolved_cb(struct net_resolve_req *req, int status,
			const struct sockaddr *sa)
{
	(void)status; /* sa is NULL unless it is GRAFT_OK */
	fwd_connect(req->data, sa);
}

/* A connection to addr ("host:port") for s, resolving first. */
static int fwd_open(struct bolt_session *s, const char *addr,
		    struct bolt_fwd **out)
{
	struct sockaddr_storage sa;
	struct bolt_fwd *f;
	int rv;

	f = calloc(1, sizeof *f);
	if (f == NULL)
		return GRAFT_ENOMEM;
	f->s = s;
	snprintf(f->addr, sizeof f->addr, "%s", addr);
	graft_buf_init(&f->out);
	graft_buf_init(&f->inflight);
	bolt_dechunker_init(&f->dechunk, FWD_MAX_MESSAGE);
	rv = queue_login(f, s);
	if (rv != GRAFT_OK)
		goto err;
	f->resolve.data = f;
	f->resolve.cb = resolved_cb;
	rv = net_resolve(s->env->resolver, addr, &sa, &f->resolve, NULL);
	if (rv == GRAFT_EAGAIN) { /* resolved_cb goes on */
		*out = f;
		return GRAFT_OK;
	}
	if (rv != GRAFT_OK)
		goto err;
	rv = fwd_dial(f, (struct sockaddr *)&sa);
	if (rv == GRAFT_OK)
		*out = f;
	if (f->linked)
		return rv; /* the upstream server frees f */
err:
	fwd_free(f);
	return rv;
}

/* Session side ------------------------------------------------------------ */

/* Whether r runs in write access mode: BEGIN's or RUN's "mode" is not
 * "r" (write is the default). */
static bool writes(const struct bolt_request *r)
{
	const struct graft_value *mode = bolt_field(
		r, r->sig == BOLT_BEGIN ? 0 : 2, "mode", GRAFT_VALUE_STRING);

	return mode == NULL || strcmp(mode->u.s->data, "r") != 0;
}

int bolt_forward_relay(struct bolt_session *s, const uint8_t *msg,
		       size_t len)
{
	struct bolt_fwd *f = s->fwd;

	if (f == NULL) { /* lost between two requests */
		fail_pending(s, 1, NULL, 0);
		return bolt_forward_step(s);
	}
	if (chunk_message(&f->out, msg, len) != GRAFT_OK)
		return BOLT_STEP_CLOSE;
	f->pending[(f->head + f->n) % FWD_PIPELINE] = msg[1];
	f->n++;
	fwd_flush(f);
	return bolt_forward_step(s);
}

int bolt_forward_start(struct bolt_session *s, const struct bolt_request *r,
		       const uint8_t *msg, size_t len, bool *local)
{
	const struct bolt_forwarder *fw = &s->env->forward;
	char addr[BOLT_ROUTE_ADDR_LEN];
	struct cypher_error e;
	int rv;

	*local = true;
	if (!s->env->cfg.server_routing || fw->writer == NULL ||
	    s->hello_raw.len == 0 || !writes(r))
		return BOLT_STEP_DONE;
	memset(&e, 0, sizeof e);
	if (fw->writer(fw->data, addr, sizeof addr, &e) != GRAFT_OK) {
		*local = false;
		return bolt_fail_error(s, &e);
	}
	if (addr[0] == '\0')
		return BOLT_STEP_DONE; /* this member leads */
	*local = false;
	if (s->fwd != NULL && strcmp(s->fwd->addr, addr) != 0)
		fwd_detach(s->fwd); /* the leader changed */
	if (s->fwd == NULL) {
		rv = fwd_open(s, addr, &s->fwd);
		if (rv != GRAFT_OK) {
			cypher_error_set(&e, GRAFT_STATUS_CLUSTER_ROUTING,
					 "Cannot forward the write transaction "
					 "to the leader's routing connector "
					 "%s: %s",
					 addr, graft_strerror(rv));
			return bolt_fail_error(s, &e);
		}
	}
	s->fwd->remote = FWD_READY;
	s->forwarding = true;
	return bolt_forward_relay(s, msg, len);
}

int bolt_forward_resume(struct bolt_session *s)
{
	struct bolt_fwd *f = s->fwd;

	if (f != NULL && f->paused &&
	    s->out->len < s->env->cfg.out_high) {
		f->paused = false;
		tcp_conn_read(&f->tcp, true);
		fwd_pump(f);
	}
	return bolt_forward_step(s);
}

void bolt_forward_keep_login(struct bolt_session *s, uint8_t sig,
			     const uint8_t *msg, size_t len)
{
	struct graft_buf *b = sig == BOLT_HELLO ? &s->hello_raw
						: &s->logon_raw;

	if (!s->env->cfg.server_routing)
		return;
	bolt_forward_forget_login(b);
	if (graft_buf_append(b, msg, len) != GRAFT_OK)
		graft_buf_reset(b); /* then this session does not forward */
}

void bolt_forward_forget_login(struct graft_buf *b)
{
	/* it holds a password: wiped, not just freed */
	if (b->data != NULL)
		explicit_bzero(b->data, b->cap);
	graft_buf_free(b);
}

void bolt_forward_logoff(struct bolt_session *s)
{
	/* the upstream session is the old user's */
	if (s->fwd != NULL)
		fwd_detach(s->fwd);
	bolt_forward_forget_login(&s->logon_raw);
}

void bolt_forward_release(struct bolt_session *s)
{
	bolt_forward_logoff(s);
	s->forwarding = false;
	bolt_forward_forget_login(&s->hello_raw);
}
