/* Listeners and HTTP connections; the Bolt connector listens and serves
 * its own connections (src/bolt/bolt.h), both on src/net/tcp.h.
 *
 * HTTP happy path: accept -> read until the request is complete (a blank
 * line) -> write the reply -> close. Failure paths: a peer that sends
 * nothing (or too little) is closed by the handshake timer; a request larger
 * than the buffer is answered 431. Nothing a peer sends can grow memory:
 * each connection has one fixed buffer. A password check in progress holds
 * the connection (tcp_conn_hold) until it answers. */
#include "net.h"

#include <stdlib.h>

#include "../util/err.h"
#include "../util/log.h"
#include "http.h"

#define CONN_BUF 8192

struct net_conn {
	struct tcp_conn tcp; /* first: a struct tcp_conn * is a net_conn * */
	struct http_exchange http;
	struct net *net;
	size_t len;
	char out[1024];
	uint8_t buf[CONN_BUF];
};

static void maybe_closed(struct net *net)
{
	void (*cb)(struct net *net) = net->closed_cb;

	if (net->closing > 0 || cb == NULL)
		return;
	net->closed_cb = NULL;
	cb(net);
}

static void http_conn_timeout(struct tcp_conn *tc)
{
	struct net_conn *c = (struct net_conn *)tc;

	graft_debug("closing HTTP connection: no complete request within %llu "
		    "ms",
		    (unsigned long long)c->net->handshake_timeout_ms);
	tcp_conn_close(tc);
}

/* The reply is out (or failed): the exchange is over. */
static void http_conn_written(struct tcp_conn *tc, int status)
{
	(void)status;
	tcp_conn_close(tc);
}

static void conn_reply(struct net_conn *c, const void *p, size_t n)
{
	tcp_conn_read(&c->tcp, false);
	tcp_conn_write(&c->tcp, p, n);
}

/* A password check finished: answer, unless the connection closed
 * meanwhile (timeout, shutdown). */
static void http_answered_cb(struct http_exchange *x, size_t n)
{
	struct net_conn *c = x->data;

	conn_reply(c, c->out, n);
	tcp_conn_release(&c->tcp);
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
	tcp_conn_read(&c->tcp, false);
	tcp_conn_hold(&c->tcp);
}

static void http_conn_alloc(struct tcp_conn *tc, uv_buf_t *b)
{
	struct net_conn *c = (struct net_conn *)tc;

	b->base = (char *)c->buf + c->len;
	b->len = CONN_BUF - c->len;
}

/* An error or EOF closes the connection (tcp.h). */
static void http_conn_read(struct tcp_conn *tc, ssize_t n)
{
	struct net_conn *c = (struct net_conn *)tc;

	if (n < 0)
		return;
	c->len += (size_t)n;
	http_input(c);
}

static struct tcp_conn *http_conn_new(struct tcp_server *srv)
{
	struct net_conn *c = calloc(1, sizeof *c);

	if (c == NULL)
		return NULL;
	c->net = srv->data;
	return &c->tcp;
}

static void http_conn_accepted(struct tcp_conn *tc)
{
	struct net_conn *c = (struct net_conn *)tc;

	tcp_conn_read(tc, true);
	tcp_conn_timer(tc, c->net->handshake_timeout_ms, 0);
}

static void http_conn_free(struct tcp_conn *tc)
{
	free(tc);
}

static const struct tcp_ops http_tcp_ops = {
	.conn_new = http_conn_new,
	.accepted = http_conn_accepted,
	.alloc = http_conn_alloc,
	.read = http_conn_read,
	.written = http_conn_written,
	.timeout = http_conn_timeout,
	.conn_free = http_conn_free,
};

int net_listen(struct net *net, enum net_kind kind, const char *setting,
	       const struct graft_address *addr, char *errmsg)
{
	struct tcp_listen how = {
		.addr = addr,
		.setting = setting,
		.alternative = kind == NET_ROUTING
				       ? "set dbms.routing.enabled=false"
				       : NULL,
		.family = AF_UNSPEC,
		.backlog = 511,
		.nodelay = kind != NET_HTTP,
	};

	if (kind == NET_BOLT)
		return bolt_server_listen(net->bolt_srv, &how, errmsg);
	if (kind == NET_ROUTING)
		return bolt_server_listen(net->routing_srv, &how, errmsg);
	tcp_server_init(&net->http, net->loop, &http_tcp_ops, net);
	return tcp_server_listen(&net->http, &how, errmsg);
}

static void bolt_closed_cb(struct bolt_server *srv)
{
	struct net *net = srv->data;

	net->closing--;
	maybe_closed(net);
}

static void http_closed_cb(struct tcp_server *srv)
{
	struct net *net = srv->data;

	net->closing--;
	maybe_closed(net);
}

void net_stop_accepting(struct net *net)
{
	if (net->bolt_srv != NULL)
		bolt_server_stop_accepting(net->bolt_srv);
	if (net->routing_srv != NULL)
		bolt_server_stop_accepting(net->routing_srv);
}

void net_close(struct net *net, void (*closed_cb)(struct net *net))
{
	struct bolt_server *bolt[2] = {net->bolt_srv, net->routing_srv};

	net->closed_cb = closed_cb;
	/* all counted first: any may be done at once */
	net->closing = 1 + (bolt[0] != NULL) + (bolt[1] != NULL);
	net->http.data = net; /* set already if HTTP listened */
	for (int i = 0; i < 2; i++) {
		if (bolt[i] == NULL)
			continue;
		bolt[i]->data = net;
		bolt_server_close(bolt[i], bolt_closed_cb);
	}
	tcp_server_close(&net->http, http_closed_cb);
}
