/* The resolver's cache (resolve.h): NET_RESOLVE_ENTRIES names, each with
 * its last answer and at most one lookup in flight.
 *
 * Happy path: net_resolve finds text's entry (or takes a free one, else
 * the least recently resolved one without a lookup), starts a lookup when
 * the entry has no answer yet or its answer is older than the TTL, and
 * answers from the entry. The lookup's callback stores the preferred
 * address and runs the requests waiting on the entry.
 *
 * Failures: a lookup that fails keeps the entry's reason (logged, the
 * first time and then every 20th, under the owner's name unless the owner
 * reports failures itself), and a name
 * that resolved before loses its old answer: a name that stopped
 * resolving is reported, not hidden. Closing cancels the lookups libuv has
 * not started; the others end on their own, and the resolver's closed
 * callback waits for them. The closed callback runs before the last
 * lookup's requests, so that those may free what holds the resolver. */
#include <netdb.h>
#include <stdio.h>
#include <string.h>

#include "../util/address.h"
#include "../util/err.h"
#include "../util/log.h"
#include "resolve.h"

/* Splits text, a peer's "host:port"; an empty host is this machine
 * (":7687"), as for a listen address. */
static int split(const char *text, char *host, uint16_t *port, char *errmsg)
{
	char why[GRAFT_ERRMSG_SIZE];
	int p;

	if (graft_address_split(text, GRAFT_ADDRESS_PORT_REQUIRED, host, &p,
				why) != GRAFT_OK)
		return graft_errf(errmsg, GRAFT_EINVAL,
				  "%s is not an address to connect to: %s",
				  text, why);
	if (host[0] == '\0')
		strcpy(host, "127.0.0.1");
	*port = (uint16_t)p;
	return GRAFT_OK;
}

static bool numeric(const char *host, uint16_t port,
		    struct sockaddr_storage *out)
{
	memset(out, 0, sizeof *out);
	return uv_ip4_addr(host, port, (struct sockaddr_in *)out) == 0 ||
	       uv_ip6_addr(host, port, (struct sockaddr_in6 *)out) == 0;
}

void net_resolver_init(struct net_resolver *r, uv_loop_t *loop,
		       const char *who)
{
	memset(r, 0, sizeof *r);
	r->loop = loop;
	r->who = who;
}

unsigned net_resolver_pending(const struct net_resolver *r)
{
	return r->pending;
}

static const struct addrinfo *preferred(const struct addrinfo *res)
{
	for (const struct addrinfo *a = res; a != NULL; a = a->ai_next)
		if (a->ai_family == AF_INET)
			return a;
	return res;
}

/* Runs the requests of list w; sa is a copy, since a callback may free
 * the resolver. */
static void wake(struct net_resolve_req *w, int status,
		 const struct sockaddr_storage *sa)
{
	while (w != NULL) {
		struct net_resolve_req *next = w->next;

		w->cb(w, status,
		      status == GRAFT_OK ? (const struct sockaddr *)sa : NULL);
		w = next;
	}
}

static void store(struct net_name *n, int status, struct addrinfo *res)
{
	struct net_resolver *r = n->r;

	n->resolved_ms = uv_now(r->loop);
	if (status != 0 || res == NULL) {
		snprintf(n->error, sizeof n->error, "%s",
			 uv_strerror(status != 0 ? status : UV_EAI_NONAME));
		if (n->failures++ % 20 == 0 && r->who != NULL)
			graft_warn("%s: the host name of %s does not resolve: "
				   "%s",
				   r->who, n->text, n->error);
		n->ok = false;
		return;
	}
	if (n->failures > 0 && r->who != NULL)
		graft_info("%s: %s resolves again", r->who, n->text);
	memset(&n->sa, 0, sizeof n->sa);
	memcpy(&n->sa, preferred(res)->ai_addr, preferred(res)->ai_addrlen);
	n->ok = true;
	n->failures = 0;
}

static void resolved_cb(uv_getaddrinfo_t *req, int status,
			struct addrinfo *res)
{
	struct net_name *n = req->data;
	struct net_resolver *r = n->r;
	struct net_resolve_req *waiting = n->waiting;
	struct sockaddr_storage sa;
	int result = GRAFT_ESHUTDOWN;

	n->pending = false;
	n->waiting = NULL;
	r->pending--;
	if (!r->closing) {
		store(n, status, res);
		result = n->ok ? GRAFT_OK : GRAFT_ENOTFOUND;
		sa = n->sa;
	}
	uv_freeaddrinfo(res);
	if (r->closing && r->pending == 0 && r->closed_cb != NULL)
		r->closed_cb(r);
	wake(waiting, result, &sa);
}

static int lookup(struct net_resolver *r, struct net_name *n,
		  const char *host, uint16_t port)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
				 .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_NUMERICSERV};
	char service[8];
	int rv;

	snprintf(service, sizeof service, "%u", port);
	n->r = r;
	n->req.data = n;
	rv = uv_getaddrinfo(r->loop, &n->req, resolved_cb, host, service,
			    &hints);
	if (rv != 0) {
		store(n, rv, NULL);
		return GRAFT_ENOTFOUND;
	}
	n->pending = true;
	r->pending++;
	return GRAFT_EAGAIN;
}

/* The entry of text: its own, a free one, or the one resolved longest
 * ago without a lookup in flight; NULL when every one has a lookup. */
static struct net_name *entry(struct net_resolver *r, const char *text)
{
	struct net_name *victim = NULL;

	for (size_t i = 0; i < NET_RESOLVE_ENTRIES; i++) {
		struct net_name *n = &r->names[i];

		if (strcmp(n->text, text) == 0)
			return n;
		if (!n->pending &&
		    (victim == NULL || n->text[0] == '\0' ||
		     (victim->text[0] != '\0' &&
		      n->resolved_ms < victim->resolved_ms)))
			victim = n;
	}
	if (victim != NULL) {
		memset(victim, 0, sizeof *victim);
		snprintf(victim->text, sizeof victim->text, "%s", text);
	}
	return victim;
}

static bool due(const struct net_resolver *r, const struct net_name *n)
{
	return n->resolved_ms == 0 ||
	       uv_now(r->loop) - n->resolved_ms >=
		       (n->ok ? NET_RESOLVE_TTL_MS : NET_RESOLVE_RETRY_MS);
}

int net_resolve(struct net_resolver *r, const char *text,
		struct sockaddr_storage *out, struct net_resolve_req *req,
		char *errmsg)
{
	char host[NET_HOST_LEN];
	struct net_name *n;
	uint16_t port = 0;
	int rv;

	rv = split(text, host, &port, errmsg);
	if (rv != GRAFT_OK)
		return rv;
	if (numeric(host, port, out))
		return GRAFT_OK;
	if (r->closing)
		return graft_errf(errmsg, GRAFT_ESHUTDOWN,
				  "the resolver is closing");
	n = entry(r, text);
	if (n == NULL)
		return graft_errf(errmsg, GRAFT_ELIMIT,
				  "%u host names are being resolved; %s "
				  "waits its turn",
				  NET_RESOLVE_ENTRIES, text);
	if (!n->pending && due(r, n))
		lookup(r, n, host, port);
	if (n->ok) {
		*out = n->sa;
		return GRAFT_OK;
	}
	if (n->pending) {
		if (req != NULL) {
			req->next = n->waiting;
			n->waiting = req;
		}
		return graft_errf(errmsg, GRAFT_EAGAIN,
				  "the host name of %s is being resolved",
				  text);
	}
	return graft_errf(errmsg, GRAFT_ENOTFOUND,
			  "the host name %s does not resolve (%s)", host,
			  n->error);
}

void net_resolver_close(struct net_resolver *r,
			void (*cb)(struct net_resolver *r))
{
	r->closing = true;
	r->closed_cb = cb;
	for (size_t i = 0; i < NET_RESOLVE_ENTRIES; i++)
		if (r->names[i].pending)
			uv_cancel((uv_req_t *)&r->names[i].req);
	if (r->pending == 0 && cb != NULL)
		cb(r);
}
