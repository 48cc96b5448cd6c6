/* Addresses of a read replica's peers as "host:port" text: an IP address
 * is parsed at once; a host name (discovery endpoints such as
 * core1:5000, a core's advertised transaction address) is resolved on the
 * libuv thread pool (uv_getaddrinfo), never on the loop, and cached.
 *
 * replica_resolve answers from the cache; a name not resolved yet starts
 * its resolution and answers GRAFT_ENOTFOUND, and the caller tries again at
 * its next tick. A cached answer older than REFRESH_MS is resolved again
 * in the background (a member that moved, as in Kubernetes) while the old
 * one still serves. A name that does not resolve answers GRAFT_ENOTFOUND
 * and is tried again every RETRY_MS until a resolution succeeds. Resolutions in flight when the
 * replica closes are waited for (replica_part_closed). */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/log.h"
#include "replica_int.h"

#define REFRESH_MS 30000
#define RETRY_MS 1000

/* The first IPv4 answer, else the first: members listen on IPv4 unless
 * told otherwise, and "localhost" often lists ::1 first. */
static const struct addrinfo *preferred(const struct addrinfo *res)
{
	for (const struct addrinfo *a = res; a != NULL; a = a->ai_next)
		if (a->ai_family == AF_INET)
			return a;
	return res;
}

static void resolved_cb(uv_getaddrinfo_t *req, int status,
			struct addrinfo *res)
{
	struct replica_name *n = req->data;
	struct catchup_replica *r = n->r;

	n->pending = false;
	if (r->closing) {
		uv_freeaddrinfo(res);
		replica_part_closed(r);
		return;
	}
	n->resolved_ms = uv_now(r->loop);
	if (status != 0 || res == NULL) {
		if (n->ok || n->tries++ % 20 == 0)
			graft_warn("read replica: cannot resolve %s: %s", n->text,
				   uv_strerror(status));
		n->ok = false;
	} else {
		memcpy(&n->sa, preferred(res)->ai_addr,
		       preferred(res)->ai_addrlen);
		n->ok = true;
		n->tries = 0;
	}
	uv_freeaddrinfo(res);
}

static void resolve(struct catchup_replica *r, struct replica_name *n,
		    const char *host, const char *port)
{
	struct addrinfo hints;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	n->r = r;
	n->req.data = n;
	if (uv_getaddrinfo(r->loop, &n->req, resolved_cb, host, port,
			   &hints) == 0)
		n->pending = true;
}

/* The cache entry of text: its own, a free one, or the oldest. */
static struct replica_name *entry(struct catchup_replica *r, const char *text)
{
	struct replica_name *oldest = NULL;

	for (size_t i = 0; i < REPLICA_MAX_NAMES; i++) {
		struct replica_name *n = &r->names[i];

		if (strcmp(n->text, text) == 0)
			return n;
		if (!n->pending &&
		    (oldest == NULL || n->text[0] == '\0' ||
		     (oldest->text[0] != '\0' &&
		      n->resolved_ms < oldest->resolved_ms)))
			oldest = n;
	}
	if (oldest != NULL) {
		memset(oldest, 0, sizeof *oldest);
		snprintf(oldest->text, sizeof oldest->text, "%s", text);
	}
	return oldest;
}

int replica_split_address(const char *text, char *host, size_t n,
			  char *port, size_t np)
{
	const char *colon = strrchr(text, ':');
	unsigned p;

	if (colon == NULL || (size_t)(colon - text) >= n ||
	    sscanf(colon + 1, "%u", &p) != 1 || p == 0 || p > 65535)
		return GRAFT_EINVAL;
	memcpy(host, text, (size_t)(colon - text));
	host[colon - text] = '\0';
	if (host[0] == '\0')
		snprintf(host, n, "127.0.0.1");
	snprintf(port, np, "%u", p);
	return GRAFT_OK;
}

static int ip_sockaddr(const char *host, const char *port,
		       struct sockaddr_storage *out)
{
	return uv_ip4_addr(host, atoi(port), (struct sockaddr_in *)out) == 0 ||
			       uv_ip6_addr(host, atoi(port),
					   (struct sockaddr_in6 *)out) == 0
		       ? GRAFT_OK
		       : GRAFT_EINVAL;
}

int replica_sockaddr(const char *text, struct sockaddr_storage *out)
{
	char host[256], port[8];

	if (replica_split_address(text, host, sizeof host, port,
				  sizeof port) != GRAFT_OK)
		return GRAFT_EINVAL;
	if (strcmp(host, "localhost") == 0)
		snprintf(host, sizeof host, "127.0.0.1");
	return ip_sockaddr(host, port, out);
}

/* localhost too goes to the resolver here, like any name. */
int replica_resolve(struct catchup_replica *r, const char *text,
		    struct sockaddr_storage *out)
{
	char host[256], port[8];
	struct replica_name *n;

	if (replica_split_address(text, host, sizeof host, port,
				  sizeof port) != GRAFT_OK)
		return GRAFT_EINVAL;
	if (ip_sockaddr(host, port, out) == GRAFT_OK)
		return GRAFT_OK;
	n = entry(r, text);
	if (n == NULL)
		return GRAFT_ENOTFOUND; /* every entry is being resolved */
	if (!n->pending && !r->closing &&
	    (n->resolved_ms == 0 ||
	     uv_now(r->loop) - n->resolved_ms >=
		     (n->ok ? REFRESH_MS : RETRY_MS)))
		resolve(r, n, host, port);
	if (n->ok)
		*out = n->sa;
	return n->ok ? GRAFT_OK : GRAFT_ENOTFOUND;
}

unsigned replica_names_pending(const struct catchup_replica *r)
{
	unsigned k = 0;

	for (size_t i = 0; i < REPLICA_MAX_NAMES; i++)
		k += r->names[i].pending;
	return k;
}
