/* One Bolt connection's protocol state after the handshake: the server
 * state machine (NEGOTIATION, AUTHENTICATION, READY, STREAMING, TX_READY,
 * TX_STREAMING, FAILED, INTERRUPTED, DEFUNCT) driving the Cypher engine. It takes whole
 * messages and appends chunked responses to an output buffer; it never
 * touches a socket, so tests drive it with bytes and a loop.
 *
 * Requests are answered strictly in order. A request that waits (LOGON
 * hashing a password, a bookmark not yet applied, a statement executing on
 * a worker thread, a commit being made durable) returns BOLT_STEP_WAIT and later calls wake_cb with the step that
 * followed; while it waits the caller feeds nothing. A result streams until
 * the output buffer reaches out_high (BOLT_STEP_FULL); the caller drains the
 * buffer and calls bolt_session_resume. Loop thread only. */
#ifndef GRAFT_BOLT_SESSION_H
#define GRAFT_BOLT_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "../cypher/cypher.h"
#include "../net/resolve.h"
#include "../net/tcp.h"
#include "../security/security.h"
#include "../util/buf.h"
#include "../util/pool.h"
#include "route.h"

struct bolt_config {
	const char *advertised;       /* "host:port" put in routing tables */
	uint64_t routing_ttl_s;       /* dbms.routing_ttl */
	uint64_t bookmark_timeout_ms; /* db.transaction.bookmark_ready_timeout */
	size_t max_message;           /* larger requests get FAILURE */
	size_t out_high;              /* output bytes at which streaming pauses */
	/* dbms.routing.default_router=SERVER: write transactions of a
	 * member that does not lead go to the leader (forward.c) */
	bool server_routing;
};

/* What every session of a server shares; borrowed. */
#define BOLT_LOOP_STATEMENTS 512
struct bolt_env {
	uv_loop_t *loop;
	/* Where statements execute (RUN, and each PULL's batch of rows):
	 * a worker of pool, holding gate as the engine says (cypher.h). NULL
	 * pool: on the loop thread, within the call. */
	struct graft_pool *pool;
	struct graft_gate *gate;
	struct cypher_engine *engine;
	struct security *security; /* NULL: every login is accepted */
	struct bolt_router router; /* who fills routing tables (route.h) */
	/* where write transactions go with cfg.server_routing (route.h) */
	struct bolt_forwarder forward;
	/* the connections to the leader are on it (bolt.h) */
	struct tcp_server *upstream;
	struct net_resolver *resolver; /* the leader's host name (bolt.h) */
	struct bolt_config cfg;
	/* Auto-commit statements that run on the loop rather than on a
	 * worker (query.c, "Statements on the loop"): by a hash of their
	 * text, those seen to write briefly, and those kept on workers.
	 * Loop thread only; zeroed: none yet. */
	uint64_t loop_statements[BOLT_LOOP_STATEMENTS];
};

enum bolt_step {
	BOLT_STEP_DONE,  /* answered; feed the next request */
	BOLT_STEP_WAIT,  /* wake_cb will report the step that followed */
	BOLT_STEP_FULL,  /* drain the output, then bolt_session_resume */
	BOLT_STEP_CLOSE, /* send what is in the output, then close */
};

struct bolt_session;

/* Creates a session for a negotiated version whose responses go to out
 * (borrowed; the caller sends and resets it). id names the connection
 * ("bolt-<id>"). GRAFT_OK or GRAFT_ENOMEM. */
int bolt_session_new(struct bolt_env *env, uint32_t version, uint64_t id,
		     struct graft_buf *out,
		     void (*wake_cb)(struct bolt_session *s, int step),
		     void *data, struct bolt_session **out_session);
void *bolt_session_data(const struct bolt_session *s);
/* Handles one whole message (too_big: it was larger than max_message and
 * was not kept). Returns an enum bolt_step. */
int bolt_session_handle(struct bolt_session *s, const uint8_t *msg,
			size_t len, bool too_big);
/* Continues a stream paused by BOLT_STEP_FULL. */
int bolt_session_resume(struct bolt_session *s);
/* A RESET arrived behind a request that blocks (BOLT_STEP_WAIT or FULL):
 * a bookmark wait or a paused result ends now, answered IGNORED, and the
 * session is INTERRUPTED (IGNORED up to the RESET). A statement executing
 * is terminated (it fails within 1024 rows, then the RESET is handled). A
 * login or a commit in progress finishes first. Returns the step the blocking request now has. */
int bolt_session_interrupt(struct bolt_session *s, bool full);
/* Whether the session is logged in (HELLO or LOGON succeeded, no LOGOFF
 * since). */
bool bolt_session_authenticated(const struct bolt_session *s);
/* Whether the session waits for an asynchronous step. */
bool bolt_session_waiting(const struct bolt_session *s);
/* Rolls back what is open and frees the session once nothing it started
 * is pending (then closed_cb, which may be NULL). No wake_cb after this. */
void bolt_session_close(struct bolt_session *s,
			void (*closed_cb)(void *data), void *data);

#endif
