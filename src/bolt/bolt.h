/* The Bolt connector: takes connections from a listener and runs, per
 * connection, the version handshake, chunking and a session (session.h),
 * on the one loop thread. It bounds what each peer costs: a fixed input
 * buffer, messages up to max_message, output up to about out_high before it
 * stops producing records and reading requests (a client that never reads
 * holds at most that much), and timeouts for handshakes and idle
 * connections. Garbage instead of a handshake closes the connection. */
#ifndef GRAFT_BOLT_BOLT_H
#define GRAFT_BOLT_BOLT_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "session.h"

struct bolt_conn;

struct bolt_server {
	struct bolt_env env;
	uint64_t handshake_timeout_ms; /* handshake must complete within */
	uint64_t idle_timeout_ms;      /* no request for this long: close; 0: never */
	uint64_t keepalive_ms;         /* NOOP interval while a request waits;
					* 0: none */
	void *data;                    /* the caller's */
	/* private */
	struct cypher_proc routing;
	struct bolt_conn *conns;
	unsigned n_conns;
	uint64_t next_id;
	void (*closed_cb)(struct bolt_server *srv);
};

/* Registers dbms.routing.getRoutingTable (what ROUTE answers, for drivers
 * and tools that call the procedure) with srv->env.engine; once, after
 * env is filled. GRAFT_EEXIST if the name is taken. */
int bolt_server_register_procedures(struct bolt_server *srv);
/* Accepts one pending connection of listener (call from its connection
 * callback). srv is filled by the caller (env, timeouts), the rest zero. */
int bolt_server_accept(struct bolt_server *srv, uv_stream_t *listener);
/* Open connections. */
unsigned bolt_server_connections(const struct bolt_server *srv);
/* Closes every connection (rolling back their transactions); cb runs once
 * all are gone (at once if there are none). */
void bolt_server_close(struct bolt_server *srv,
		       void (*cb)(struct bolt_server *srv));

#endif
