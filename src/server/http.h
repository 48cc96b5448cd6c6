/* The HTTP endpoints load balancers and operators poll: discovery (GET /)
 * and the per-database health checks Neo4j serves under /db/<db>/cluster/.
 * One request per connection; answers are small and fixed-size.
 *
 * The cluster endpoints require HTTP Basic authentication against the users
 * of the system database when auth is on and
 * dbms.security.cluster_status_auth_enabled is true (both defaults), as in
 * Neo4j: without it anyone could probe which databases exist. Checking a
 * password is deliberately slow and runs on the thread pool, so such a
 * request is answered later, through the exchange's callback. */
#ifndef GRAFT_SERVER_HTTP_H
#define GRAFT_SERVER_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "../security/security.h"

struct net;
struct http_exchange;

/* The answer to a request that waited: n bytes in x->out. */
typedef void (*http_cb)(struct http_exchange *x, size_t n);

/* One request being answered, owned by the connection, which keeps it alive
 * until its callback when http_respond returned 0. */
struct http_exchange {
	void *data;
	struct net *net;
	char *out;    /* the response goes here */
	size_t cap;
	/* private */
	http_cb cb;
	struct security_req auth;
	char path[512];
};

/* Whether buf holds a whole request head (ends with a blank line). */
bool http_request_complete(const char *buf, size_t len);
/* Answers the request in buf (len bytes): returns the response's length
 * when it is ready now, or 0 when it waits for a password check; cb then
 * gets it, on the loop thread, never from within this call. */
size_t http_respond(struct http_exchange *x, const char *buf, size_t len,
		    http_cb cb);
/* Writes an error response with status and a one-line reason. */
size_t http_error(char *out, size_t cap, int status, const char *reason);

#endif
