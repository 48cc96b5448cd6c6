/* Listeners and HTTP connections; Bolt connections are handed to the Bolt
 * connector (src/bolt/bolt.h) as they are accepted.
 *
 * HTTP happy path: accept -> read until the request is complete (a blank
 * line) -> write the reply -> close. Failure paths: a peer that sends
 * nothing (or too little) is closed by the handshake timer; a request larger
 * than the buffer is answered 431. Nothing a peer sends can grow memory:
 * each connection has one fixed buffer. */
#include "net.h"

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/err.h"
#include "../util/log.h"
#include "http.h"

#define CONN_BUF 8192

struct net_conn {
	uv_tcp_t tcp;
	uv_timer_t timer;
	uv_write_t wr;
	struct http_exchange http;
	struct net *net;
	struct net_conn *prev, *next;
	/* open handles, plus one while a password check is pending; freed
	 * when it reaches 0 */
	unsigned handles;
	bool closing;
	size_t len;
	char out[1024];
	uint8_t buf[CONN_BUF];
};

static void conn_unlink(struct net_conn *c)
{
	struct net *net = c->net;

	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		net->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	net->n_conns--;
}

static void maybe_closed(struct net *net)
{
	if (net->closing == 0 && net->closed_cb != NULL && net->conns == NULL &&
	    !net->bolt.open && !net->http.open) {
		void (*cb)(struct net *) = net->closed_cb;
		net->closed_cb = NULL;
		cb(net);
	}
}

static void conn_release(struct net_conn *c)
{
	struct net *net = c->net;

	if (--c->handles > 0)
		return;
	conn_unlink(c);
	free(c);
	maybe_closed(net);
}

static void conn_handle_close_cb(uv_handle_t *h)
{
	conn_release(h->data);
}

static void conn_close(struct net_conn *c)
{
	if (c->closing)
		return;
	c->closing = true;
	uv_timer_stop(&c->timer);
	uv_close((uv_handle_t *)&c->timer, conn_handle_close_cb);
	uv_close((uv_handle_t *)&c->tcp, conn_handle_close_cb);
}

static void conn_timeout_cb(uv_timer_t *t)
{
	struct net_conn *c = t->data;

	graft_debug("closing HTTP connection: no complete request within %llu "
		    "ms",
		    (unsigned long long)c->net->handshake_timeout_ms);
	conn_close(c);
}

static void conn_write_cb(uv_write_t *req, int status)
{
	(void)status; /* the connection closes either way */
	conn_close(req->data);
}

static void conn_reply(struct net_conn *c, const void *p, size_t n)
{
	uv_buf_t b = uv_buf_init((char *)p, (unsigned)n);

	uv_read_stop((uv_stream_t *)&c->tcp);
	c->wr.data = c;
	if (uv_write(&c->wr, (uv_stream_t *)&c->tcp, &b, 1, conn_write_cb) != 0)
		conn_close(c);
}

/* A password check finished: answer, unless the connection closed
 * meanwhile (timeout, shutdown). */
static void http_answered_cb(struct http_exchange *x, size_t n)
{
	struct net_conn *c = x->data;

	if (!c->closing)
		conn_reply(c, c->out, n);
	conn_release(c);
}

static void http_input(struct net_conn *c)
{
	size_t n;

	if (!http_request_complete((const char *)c->buf, c->len)) {
		if (c->len < CONN_BUF)
			return;
		n = http_error(c->out, sizeof c->out, 431,
			       "request header larger than 8 KiB");
	} else {
		c->http.data = c;
		c->http.net = c->net;
		c->http.out = c->out;
		c->http.cap = sizeof c->out;
		n = http_respond(&c->http, (const char *)c->buf, c->len,
				 http_answered_cb);
	}
	if (n > 0) {
		conn_reply(c, c->out, n);
		return;
	}
	uv_read_stop((uv_stream_t *)&c->tcp);
	c->handles++;
}

static void conn_alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct net_conn *c = h->data;

	(void)hint;
	b->base = (char *)c->buf + c->len;
	b->len = CONN_BUF - c->len;
}

static void conn_read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct net_conn *c = s->data;

	(void)b;
	if (n < 0) {
		conn_close(c);
		return;
	}
	c->len += (size_t)n;
	http_input(c);
}

static void listener_connection_cb(uv_stream_t *server, int status)
{
	struct net_listener *l = server->data;
	struct net *net = l->net;
	struct net_conn *c;

	if (status != 0) {
		graft_warn("accept on %s failed: %s", l->setting,
			   uv_strerror(status));
		return;
	}
	if (l->kind == NET_BOLT) {
		if (bolt_server_accept(net->bolt_srv, server) != GRAFT_OK)
			graft_warn("cannot accept a connection on %s",
				   l->setting);
		return;
	}
	c = calloc(1, sizeof *c);
	if (c == NULL) {
		graft_error("out of memory accepting a connection on %s",
			    l->setting);
		return;
	}
	c->net = net;
	uv_tcp_init(net->loop, &c->tcp);
	uv_timer_init(net->loop, &c->timer);
	c->tcp.data = c->timer.data = c;
	c->handles = 2;
	c->next = net->conns;
	if (net->conns != NULL)
		net->conns->prev = c;
	net->conns = c;
	net->n_conns++;
	if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0 ||
	    uv_read_start((uv_stream_t *)&c->tcp, conn_alloc_cb, conn_read_cb) != 0) {
		conn_close(c);
		return;
	}
	uv_timer_start(&c->timer, conn_timeout_cb, net->handshake_timeout_ms, 0);
}

static int resolve(const struct graft_address *a, struct sockaddr_storage *out,
		   char *errmsg, const char *setting)
{
	struct addrinfo hints, *res = NULL;
	char port[8];
	const char *host = a->host;
	int rv;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(port, sizeof port, "%u", a->port);
	if (host[0] == '\0')
		host = NULL;
	rv = getaddrinfo(host, port, &hints, &res);
	if (rv != 0)
		return graft_errf(errmsg, GRAFT_EINVAL,
				  "cannot resolve '%s' (%s): %s; set %s to an "
				  "address of this machine",
				  a->host, setting, gai_strerror(rv), setting);
	memcpy(out, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	return GRAFT_OK;
}

int net_listen(struct net *net, struct net_listener *l, enum net_kind kind,
	       const char *setting, const struct graft_address *addr,
	       char *errmsg)
{
	struct sockaddr_storage sa;
	int rv;

	l->kind = kind;
	l->setting = setting;
	l->addr = *addr;
	l->net = net;
	rv = resolve(addr, &sa, errmsg, setting);
	if (rv != GRAFT_OK)
		return rv;
	uv_tcp_init(net->loop, &l->tcp);
	l->tcp.data = l;
	l->open = true;
	rv = uv_tcp_bind(&l->tcp, (struct sockaddr *)&sa, 0);
	if (rv == 0)
		rv = uv_listen((uv_stream_t *)&l->tcp, 511,
			       listener_connection_cb);
	if (rv != 0)
		return graft_errf(errmsg,
				  rv == UV_EADDRINUSE ? GRAFT_EADDRINUSE
						      : GRAFT_EIO,
				  "cannot listen on %s:%u (%s): %s; stop the "
				  "process using it or change %s",
				  addr->host, addr->port, setting,
				  uv_strerror(rv), setting);
	return GRAFT_OK;
}

static void listener_close_cb(uv_handle_t *h)
{
	struct net_listener *l = h->data;
	struct net *net = l->net;

	l->open = false;
	net->closing--;
	maybe_closed(net);
}

static void listener_close(struct net_listener *l)
{
	if (!l->open || uv_is_closing((uv_handle_t *)&l->tcp))
		return;
	l->net->closing++;
	uv_close((uv_handle_t *)&l->tcp, listener_close_cb);
}

static void bolt_closed_cb(struct bolt_server *srv)
{
	struct net *net = srv->data;

	net->closing--;
	maybe_closed(net);
}

void net_close(struct net *net, void (*closed_cb)(struct net *net))
{
	net->closed_cb = closed_cb;
	if (net->bolt_srv != NULL) {
		net->closing++;
		net->bolt_srv->data = net;
		bolt_server_close(net->bolt_srv, bolt_closed_cb);
	}
	listener_close(&net->bolt);
	listener_close(&net->http);
	for (struct net_conn *c = net->conns; c != NULL; c = c->next)
		conn_close(c);
	maybe_closed(net);
}
