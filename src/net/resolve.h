/* Addresses as "host:port" text to socket addresses, on the loop thread
 * without blocking it. An IP address (IPv4, or IPv6 as [::1]:7687) is
 * parsed at once; a host name (core1.example:5000, localhost:6000) is
 * resolved on libuv's thread pool (uv_getaddrinfo) and cached: discovery
 * endpoints, advertised transaction addresses of cores and the leader's
 * routing connector all come through one of these.
 *
 * A cached answer serves for NET_RESOLVE_TTL_MS; after that the next
 * question starts a new lookup in the background while the old answer
 * still serves (a member that moved, as in Kubernetes). A name that did
 * not resolve answers GRAFT_ENOTFOUND with the resolver's reason until
 * NET_RESOLVE_RETRY_MS passed, then a question starts a new lookup.
 * IPv4 answers are preferred (members listen on IPv4 unless told
 * otherwise, and "localhost" often lists ::1 first); a name with only
 * IPv6 answers resolves to its first one.
 *
 * Ownership: the caller embeds the resolver and each request; a request
 * must stay valid until its callback ran, the resolver until no lookup is
 * in flight (its closed callback; a request's callback once the resolver
 * was closed). Loop thread only. libuv's
 * contract holds: a call that does not return GRAFT_EAGAIN never calls the
 * request's callback. */
#ifndef GRAFT_NET_RESOLVE_H
#define GRAFT_NET_RESOLVE_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "../util/address.h"

#define NET_RESOLVE_ENTRIES 32
#define NET_RESOLVE_TTL_MS 30000
#define NET_RESOLVE_RETRY_MS 1000
#define NET_HOST_LEN (GRAFT_ADDRESS_HOST_MAX + 1)
#define NET_ADDR_LEN (NET_HOST_LEN + 8) /* "host:port" */

struct net_resolve_req;
/* status GRAFT_OK (sa: the address), GRAFT_ENOTFOUND (the name does not
 * resolve; sa NULL) or GRAFT_ESHUTDOWN (the resolver closed; sa NULL). */
typedef void (*net_resolve_cb)(struct net_resolve_req *req, int status,
			       const struct sockaddr *sa);

struct net_resolve_req {
	void *data;        /* the caller's */
	net_resolve_cb cb; /* set by the caller */
	/* private */
	struct net_resolve_req *next;
};

/* Private to resolve.c; embedded so that the caller allocates it. */
struct net_name {
	char text[NET_ADDR_LEN]; /* "host:port"; "" for a free entry */
	struct sockaddr_storage sa;
	char error[96];       /* why the last lookup failed */
	bool ok;              /* sa holds the last answer */
	bool pending;         /* a lookup is in flight */
	unsigned failures;    /* lookups failed in a row */
	uint64_t resolved_ms; /* uv_now of the last answer; 0: none yet */
	struct net_resolver *r;
	struct net_resolve_req *waiting; /* requests for the lookup */
	uv_getaddrinfo_t req;
};

struct net_resolver {
	uv_loop_t *loop;
	/* names the owner in the log ("read replica"); NULL: the owner
	 * logs what does not resolve itself */
	const char *who;
	void *data;      /* the caller's */
	/* private */
	struct net_name names[NET_RESOLVE_ENTRIES];
	unsigned pending; /* lookups in flight */
	bool closing;
	void (*closed_cb)(struct net_resolver *r);
};

/* Fills r; who (may be NULL) is borrowed, a literal. Nothing to close until a lookup
 * started, but net_resolver_close is always safe. */
void net_resolver_init(struct net_resolver *r, uv_loop_t *loop,
		       const char *who);

/* The address of text now:
 * - GRAFT_OK: out holds it (an IP address, or a cached answer);
 * - GRAFT_EAGAIN: a lookup is in flight; with req (not NULL) req->cb runs
 *   once it ends, otherwise the caller asks again later;
 * - GRAFT_ENOTFOUND: the name does not resolve; errmsg (may be NULL) names
 *   the host and the resolver's reason;
 * - GRAFT_EINVAL: text is not "host:port" (errmsg says why and what is
 *   allowed; an empty host is 127.0.0.1);
 * - GRAFT_ESHUTDOWN: the resolver closes;
 * - GRAFT_ELIMIT: every entry of the cache has a lookup in flight. */
int net_resolve(struct net_resolver *r, const char *text,
		struct sockaddr_storage *out, struct net_resolve_req *req,
		char *errmsg);

/* Lookups in flight. */
unsigned net_resolver_pending(const struct net_resolver *r);

/* Stops: lookups in flight are cancelled where libuv still can, every
 * waiting request's callback runs with GRAFT_ESHUTDOWN, and cb (may be
 * NULL) runs once no lookup is in flight, at once when none was. */
void net_resolver_close(struct net_resolver *r,
			void (*cb)(struct net_resolver *r));

#endif
