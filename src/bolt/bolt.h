/* The Bolt connector: takes connections from a listener and runs, per
 * connection, the version handshake, chunking and a session (session.h),
 * on the one loop thread. It bounds what each peer costs: a fixed input
 * buffer, messages up to max_message, output up to about out_high before it
 * stops producing records and reading requests (a client that never reads
 * holds at most that much), and timeouts for handshakes and idle
 * connections. Garbage instead of a handshake closes the connection.
 *
 * A peer that has not logged in costs less and for a bounded time: a small
 * input buffer, requests up to unauth_max_message (a larger one closes the
 * connection as soon as its size is known, nothing of it is kept), and
 * auth_timeout_ms to log in. At most max_connections are open: past it the
 * oldest connection not logged in gives way to the new one, and when every
 * connection is logged in the new one is closed at once.
 *
 * Closing the server closes the logged-in connections at once, but gives
 * a connection in its handshake or login up to BOLT_LOGIN_GRACE_MS to
 * finish it (then it closes once the answer is written): a driver cut off
 * in the middle of its login reports an error it does not retry, while a
 * closed connection sends it to another member. */
#ifndef GRAFT_BOLT_BOLT_H
#define GRAFT_BOLT_BOLT_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "../net/tcp.h"
#include "session.h"

#define BOLT_LOGIN_GRACE_MS 2000

struct bolt_conn;

struct bolt_server {
	struct bolt_env env;
	uint64_t handshake_timeout_ms; /* handshake must complete within */
	uint64_t idle_timeout_ms;      /* no request for this long: close; 0: never */
	uint64_t keepalive_ms;         /* NOOP interval while a request waits;
					* 0: none */
	uint64_t auth_timeout_ms;      /* login must complete within, from
					* the connection's start or LOGOFF */
	size_t unauth_max_message;     /* largest request before login */
	unsigned max_connections;      /* open connections at most; 0: any */
	void *data;                    /* the caller's */
	/* private */
	struct tcp_server tcp; /* the listener and every connection */
	/* Connections to the leader's routing connector (env.forward set). */
	struct tcp_server upstream;
	struct net_resolver resolver; /* their host names */
	unsigned closing;      /* of tcp, upstream, resolver not closed yet */
	bool stopping;         /* stop_accepting was called */
	uint64_t grace_end;    /* closing: loop time the logins in progress
				* must end by; 0 outside that grace */
	struct cypher_proc routing[2];
	/* Open connections (not closing), oldest first, on one list while
	 * not logged in and on the other once logged in. */
	struct bolt_conn_list {
		struct bolt_conn *head, *tail;
	} unauth, authed;
	unsigned n_open;               /* on the two lists */
	unsigned trim_peak;            /* connections' high mark since a trim */
	uint64_t next_id;
	uint64_t refused;              /* connections refused at the cap */
	uint64_t refusal_logged_ms;    /* when a refusal was last logged */
	void (*closed_cb)(struct bolt_server *srv);
};

/* The callbacks of srv->upstream's connections (forward.c). */
const struct tcp_ops *bolt_forward_ops(void);

/* Registers dbms.routing.getRoutingTable and its 4.x name
 * dbms.cluster.routing.getRoutingTable (what ROUTE answers, for drivers
 * and tools that call the procedure) with srv->env.engine; once, after
 * env is filled. GRAFT_EEXIST if the name is taken. */
int bolt_server_register_procedures(struct bolt_server *srv);
/* Listens (how->setting names the address in errors; see tcp.h) and
 * serves every connection accepted there. srv is filled by the caller
 * (env, timeouts), the rest zero. */
int bolt_server_listen(struct bolt_server *srv, const struct tcp_listen *how,
		       char *errmsg);
/* Connections allocated (closing ones too). */
unsigned bolt_server_connections(const struct bolt_server *srv);
/* Refuses new connections, keeping the open ones (tcp_server_stop_accepting). */
void bolt_server_stop_accepting(struct bolt_server *srv);
/* Stops listening and closes every connection (rolling back their
 * transactions; those in their login after the grace above); cb runs once
 * all are gone (at once if nothing was open), whether or not srv
 * listened. */
void bolt_server_close(struct bolt_server *srv,
		       void (*cb)(struct bolt_server *srv));

#endif
