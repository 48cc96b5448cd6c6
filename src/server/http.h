/* The HTTP endpoints load balancers and operators poll: discovery (GET /)
 * and the per-database health checks Neo4j serves under /db/<db>/cluster/.
 * One request per connection; answers are small and fixed-size. */
#ifndef GRAFT_SERVER_HTTP_H
#define GRAFT_SERVER_HTTP_H

#include <stdbool.h>
#include <stddef.h>

struct net;

/* Whether buf holds a whole request head (ends with a blank line). */
bool http_request_complete(const char *buf, size_t len);
/* Writes the response to the request in buf into out; returns its length. */
size_t http_respond(struct net *net, const char *buf, size_t len, char *out,
		    size_t cap);
/* Writes an error response with status and a one-line reason. */
size_t http_error(char *out, size_t cap, int status, const char *reason);

#endif
