/* The routing table a Bolt ROUTE request and the procedure
 * dbms.routing.getRoutingTable answer: which servers write, read and route a
 * database, by advertised Bolt address. Bolt does not know the cluster (it
 * lies below it): whoever knows the topology fills the table through a
 * router (struct bolt_router); without one a SINGLE server names itself in
 * every role. Loop thread only. */
#ifndef GRAFT_BOLT_ROUTE_H
#define GRAFT_BOLT_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#include "../util/cypher_error.h"
#include "../util/value.h"

#define BOLT_ROUTE_MAX 32       /* servers in one table */
#define BOLT_ROUTE_ADDR_LEN 300 /* "host:port" */

enum bolt_route_role {
	BOLT_ROUTE_WRITE = 1,
	BOLT_ROUTE_READ = 2,
	BOLT_ROUTE_ROUTE = 4,
};

struct bolt_route_server {
	char address[BOLT_ROUTE_ADDR_LEN];
	unsigned roles; /* enum bolt_route_role bits */
};

struct bolt_route_table {
	size_t n;
	struct bolt_route_server servers[BOLT_ROUTE_MAX];
};

/* What a client asks: the database (it exists), its routing context (the
 * map of ROUTE's first field or of the procedure's first argument: the
 * address the client dialled and the URI's query parameters such as
 * policy; NULL when none was sent). Borrowed for the call. */
struct bolt_route_request {
	const char *db;
	const struct graft_value *context;
};

struct bolt_router {
	/* Fills out (zeroed by the caller). GRAFT_OK, or an error whose
	 * status and message are in err (e.g. DatabaseUnavailable from a
	 * member that sees no majority). NULL table: a SINGLE server. */
	int (*table)(void *data, const struct bolt_route_request *req,
		     struct bolt_route_table *out, struct cypher_error *err);
	void *data;
};

/* Where this member's write transactions run, for server-side routing. */
struct bolt_forwarder {
	/* Fills addr (n bytes) with "" when this member takes writes, else
	 * with the "host:port" of the routing connector to forward them to;
	 * or an error in err (no leader now). Any thread. */
	int (*writer)(void *data, char *addr, size_t n,
		      struct cypher_error *err);
	void *data;
};

/* Adds address to out with role (once per address; roles accumulate).
 * GRAFT_ENOSPC when out is full. */
int bolt_route_add(struct bolt_route_table *out, const char *address,
		   unsigned role);

/* servers as the procedure and ROUTE give them: a list of
 * {addresses: [...], role} maps, one per role, WRITE, READ, ROUTE (WRITE
 * with no address while there is no writer). */
int bolt_route_servers(const struct bolt_route_table *t,
		       struct graft_value *out);

#endif
