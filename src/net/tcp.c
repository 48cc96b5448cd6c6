/* The TCP server (tcp.h).
 *
 * Happy path of an accepted connection: the listener's callback asks the
 * caller for memory (conn_new), initialises the socket and timer handles
 * (one reference each), links the connection on the server's list, accepts
 * and hands it over (accepted). Reads, writes and the timer then call back
 * into the caller until something closes it.
 *
 * Closing: tcp_conn_close marks the connection, lets the caller take holds
 * (ops->closing) and closes both handles. Each handle's close callback and
 * each released hold drop a reference; the last one unlinks the connection
 * and calls conn_free. libuv cancels a write in flight before the stream's
 * close callback (UV_ECANCELED, not passed on), so the caller's buffer is
 * no longer used by then. tcp_server_close closes the listeners (one per
 * address of the listen host) and every connection; closed_cb runs when
 * the last of them is gone.
 *
 * Failures: a failed accept is logged and the listener goes on; no memory
 * for a new connection is logged; a connection libuv cannot accept, start
 * reading or write to is closed. */
#include "tcp.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../util/err.h"
#include "../util/log.h"

static void server_maybe_closed(struct tcp_server *srv)
{
	void (*cb)(struct tcp_server *srv) = srv->closed_cb;

	if (!srv->closing || srv->listening > 0 || srv->conns != NULL ||
	    cb == NULL)
		return;
	srv->closed_cb = NULL;
	cb(srv);
}

static void conn_unref(struct tcp_conn *c)
{
	struct tcp_server *srv = c->srv;

	if (--c->refs > 0)
		return;
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	srv->n_conns--;
	srv->ops->conn_free(c);
	server_maybe_closed(srv);
}

static void handle_closed_cb(uv_handle_t *h)
{
	conn_unref(h->data);
}

/* Initialises c's handles and puts it on srv's list. */
static void conn_link(struct tcp_server *srv, struct tcp_conn *c)
{
	c->srv = srv;
	uv_tcp_init(srv->loop, &c->tcp);
	uv_timer_init(srv->loop, &c->timer);
	c->tcp.data = c->timer.data = c;
	c->refs = 2;
	c->prev = NULL;
	c->next = srv->conns;
	if (srv->conns != NULL)
		srv->conns->prev = c;
	srv->conns = c;
	srv->n_conns++;
}

void tcp_conn_close(struct tcp_conn *c)
{
	if (c->closing)
		return;
	c->closing = true;
	if (c->open && c->srv->ops->closing != NULL)
		c->srv->ops->closing(c);
	uv_close((uv_handle_t *)&c->timer, handle_closed_cb);
	uv_close((uv_handle_t *)&c->tcp, handle_closed_cb);
}

bool tcp_conn_closing(const struct tcp_conn *c)
{
	return c->closing;
}

struct tcp_server *tcp_conn_server(const struct tcp_conn *c)
{
	return c->srv;
}

void tcp_conn_hold(struct tcp_conn *c)
{
	c->refs++;
}

void tcp_conn_release(struct tcp_conn *c)
{
	conn_unref(c);
}

/* Work off the loop ----------------------------------------------------- */

static void work_cb(uv_work_t *w)
{
	struct tcp_conn *c = w->data;

	c->work_cb(c);
}

/* The work item held c: released last, as that may free it. */
static void after_work_cb(uv_work_t *w, int status)
{
	struct tcp_conn *c = w->data;

	c->working = false;
	c->work_done_cb(c, c->closing ? UV_ECANCELED : status);
	conn_unref(c);
}

int tcp_conn_queue_work(struct tcp_conn *c, tcp_work_cb work,
			tcp_work_done_cb done)
{
	if (c->closing)
		return GRAFT_ESHUTDOWN;
	if (c->working)
		return GRAFT_EINVAL;
	c->work.data = c;
	c->work_cb = work;
	c->work_done_cb = done;
	if (uv_queue_work(c->srv->loop, &c->work, work_cb, after_work_cb) != 0)
		return GRAFT_EIO;
	c->working = true;
	c->refs++;
	return GRAFT_OK;
}

bool tcp_conn_working(const struct tcp_conn *c)
{
	return c->working;
}

/* Reading --------------------------------------------------------------- */

static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct tcp_conn *c = h->data;

	(void)hint;
	c->srv->ops->alloc(c, buf);
}

static void read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct tcp_conn *c = s->data;

	(void)buf;
	if (n == 0 || c->closing) /* nothing read (EAGAIN) */
		return;
	c->srv->ops->read(c, n);
	if (n < 0)
		tcp_conn_close(c);
}

void tcp_alloc_in(struct graft_buf *b, size_t want, uv_buf_t *buf)
{
	if (graft_buf_reserve(b, want) != GRAFT_OK) {
		*buf = uv_buf_init(NULL, 0);
		return;
	}
	*buf = uv_buf_init((char *)b->data + b->len,
			   (unsigned)(b->cap - b->len));
}

void tcp_conn_read(struct tcp_conn *c, bool on)
{
	if (c->closing || on == c->reading)
		return;
	if (!on) {
		uv_read_stop((uv_stream_t *)&c->tcp);
		c->reading = false;
		return;
	}
	if (uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb) != 0) {
		tcp_conn_close(c);
		return;
	}
	c->reading = true;
}

/* Writing, timer -------------------------------------------------------- */

static void write_cb(uv_write_t *w, int status)
{
	struct tcp_conn *c = w->data;

	c->writing = false;
	if (c->closing) /* cancelled by the close */
		return;
	if (c->srv->ops->written != NULL)
		c->srv->ops->written(c, status);
	if (status != 0)
		tcp_conn_close(c);
}

int tcp_conn_write(struct tcp_conn *c, const void *p, size_t n)
{
	uv_buf_t b = uv_buf_init((char *)p, (unsigned)n);

	if (c->closing)
		return GRAFT_ESHUTDOWN;
	if (c->writing)
		return GRAFT_EINVAL;
	c->write.data = c;
	if (uv_write(&c->write, (uv_stream_t *)&c->tcp, &b, 1, write_cb) != 0) {
		tcp_conn_close(c);
		return GRAFT_EIO;
	}
	c->writing = true;
	return GRAFT_OK;
}

int tcp_conn_try_write(struct tcp_conn *c, const void *p, size_t n,
		       size_t *taken)
{
	uv_buf_t b = uv_buf_init((char *)p, (unsigned)n);
	int rv;

	*taken = 0;
	if (c->closing)
		return GRAFT_ESHUTDOWN;
	if (c->writing || n == 0)
		return GRAFT_OK;
	rv = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
	if (rv == UV_EAGAIN)
		return GRAFT_OK;
	if (rv < 0) {
		graft_debug("tcp: write failed: %s", uv_strerror(rv));
		tcp_conn_close(c);
		return GRAFT_EIO;
	}
	*taken = (size_t)rv;
	return GRAFT_OK;
}

bool tcp_conn_writing(const struct tcp_conn *c)
{
	return c->writing;
}

static void timer_cb(uv_timer_t *t)
{
	struct tcp_conn *c = t->data;

	if (!c->closing)
		c->srv->ops->timeout(c);
}

void tcp_conn_timer(struct tcp_conn *c, uint64_t timeout_ms,
		    uint64_t repeat_ms)
{
	if (!c->closing)
		uv_timer_start(&c->timer, timer_cb, timeout_ms, repeat_ms);
}

void tcp_conn_timer_stop(struct tcp_conn *c)
{
	if (!c->closing)
		uv_timer_stop(&c->timer);
}

/* Connecting ------------------------------------------------------------ */

static void connect_cb(uv_connect_t *req, int status)
{
	struct tcp_conn *c = req->data;

	if (c->closing) /* closed meanwhile: UV_ECANCELED */
		return;
	c->srv->ops->connected(c, status);
	if (status != 0)
		tcp_conn_close(c);
}

int tcp_connect(struct tcp_server *srv, struct tcp_conn *c,
		const struct sockaddr *addr)
{
	if (srv->closing)
		return GRAFT_ESHUTDOWN;
	conn_link(srv, c);
	c->connect.data = c;
	if (uv_tcp_connect(&c->connect, &c->tcp, addr, connect_cb) != 0) {
		tcp_conn_close(c);
		return GRAFT_EIO;
	}
	c->open = true;
	return GRAFT_OK;
}

/* Listening ------------------------------------------------------------- */

/* An accepted or adopted connection is the caller's from here. */
static void conn_opened(struct tcp_server *srv, struct tcp_conn *c)
{
	if (srv->nodelay)
		uv_tcp_nodelay(&c->tcp, 1);
	c->open = true;
	if (srv->ops->accepted != NULL)
		srv->ops->accepted(c);
}

static void accept_cb(uv_stream_t *l, int status)
{
	struct tcp_server *srv = l->data;
	struct tcp_conn *c;

	if (status != 0) {
		graft_warn("accept on %s failed: %s", srv->setting,
			   uv_strerror(status));
		return;
	}
	c = srv->ops->conn_new(srv);
	if (c == NULL) {
		graft_error("out of memory accepting a connection on %s",
			    srv->setting);
		return;
	}
	conn_link(srv, c);
	if (uv_accept(l, (uv_stream_t *)&c->tcp) != 0) {
		tcp_conn_close(c);
		return;
	}
	conn_opened(srv, c);
}

int tcp_conn_dup_socket(const struct tcp_conn *c, uv_os_sock_t *fd)
{
	uv_os_fd_t own;

	if (uv_fileno((const uv_handle_t *)&c->tcp, &own) != 0)
		return GRAFT_EIO;
	*fd = dup(own);
	return *fd >= 0 ? GRAFT_OK : GRAFT_EIO;
}

int tcp_server_adopt(struct tcp_server *srv, uv_os_sock_t fd,
		     struct tcp_conn **out)
{
	struct tcp_conn *c = srv->closing ? NULL : srv->ops->conn_new(srv);

	if (c == NULL) {
		close(fd);
		return srv->closing ? GRAFT_ESHUTDOWN : GRAFT_ENOMEM;
	}
	conn_link(srv, c);
	if (uv_tcp_open(&c->tcp, fd) != 0) {
		close(fd);
		tcp_conn_close(c);
		return GRAFT_EIO;
	}
	conn_opened(srv, c);
	*out = c;
	return GRAFT_OK;
}

/* The addresses to listen on, into out (TCP_LISTENERS_MAX), duplicates
 * dropped; *n their count. An empty host is the first of the wildcard
 * addresses only (0.0.0.0 or ::, which takes IPv4 too). */
static int resolve(const struct tcp_listen *how,
		   struct sockaddr_storage *out, unsigned *n, char *errmsg)
{
	const struct graft_address *a = how->addr;
	struct addrinfo hints, *res = NULL;
	char port[8];
	int rv;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = how->family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(port, sizeof port, "%u", a->port);
	rv = getaddrinfo(a->host[0] != '\0' ? a->host : NULL, port, &hints,
			 &res);
	if (rv != 0)
		return graft_errf(errmsg, GRAFT_EINVAL,
				  "cannot resolve '%s' (%s): %s; set %s to an "
				  "address of this machine",
				  a->host, how->setting, gai_strerror(rv),
				  how->setting);
	*n = 0;
	for (const struct addrinfo *r = res; r != NULL; r = r->ai_next) {
		unsigned i = 0;

		while (i < *n && memcmp(&out[i], r->ai_addr, r->ai_addrlen))
			i++;
		if (i < *n)
			continue; /* /etc/hosts may list one twice */
		if (*n == TCP_LISTENERS_MAX) {
			freeaddrinfo(res);
			return graft_errf(errmsg, GRAFT_EINVAL,
					  "'%s' (%s) resolves to more than %d "
					  "addresses; set %s to one of them",
					  a->host, how->setting,
					  TCP_LISTENERS_MAX, how->setting);
		}
		memset(&out[*n], 0, sizeof out[*n]);
		memcpy(&out[(*n)++], r->ai_addr, r->ai_addrlen);
		if (a->host[0] == '\0')
			break;
	}
	freeaddrinfo(res);
	return GRAFT_OK;
}

static void sa_ip(const struct sockaddr_storage *sa, char *ip, size_t n)
{
	const void *in = sa->ss_family == AF_INET6
				 ? (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr
				 : (const void *)&((const struct sockaddr_in *)sa)->sin_addr;

	if (inet_ntop(sa->ss_family, in, ip, (socklen_t)n) == NULL)
		snprintf(ip, n, "?");
}

static void sa_set_port(struct sockaddr_storage *sa, int port)
{
	if (sa->ss_family == AF_INET6)
		((struct sockaddr_in6 *)sa)->sin6_port = htons((uint16_t)port);
	else
		((struct sockaddr_in *)sa)->sin_port = htons((uint16_t)port);
}

static int bind_failed(const struct tcp_listen *how,
		       const struct sockaddr_storage *sa, int uv_err,
		       char *errmsg)
{
	const struct graft_address *a = how->addr;
	int err = uv_err == UV_EADDRINUSE ? GRAFT_EADDRINUSE : GRAFT_EIO;
	char also[256] = "", ip[INET6_ADDRSTRLEN], of[300] = "";
	bool v6 = sa->ss_family == AF_INET6;

	sa_ip(sa, ip, sizeof ip);
	if (strcmp(ip, a->host) != 0 && a->host[0] != '\0')
		snprintf(of, sizeof of, " of %s", a->host);
	if (how->alternative != NULL)
		snprintf(also, sizeof also, ", or %s", how->alternative);
	return graft_errf(errmsg, err,
			  "cannot listen on %s%s%s:%u%s (%s): %s; stop the "
			  "process using it or change %s%s",
			  v6 ? "[" : "", ip, v6 ? "]" : "", a->port, of,
			  how->setting, uv_strerror(uv_err), how->setting,
			  also);
}

/* Whether a bind failed because this machine lacks the address (::1
 * where IPv6 is off, a name's stale address): skipped while another of the
 * name's addresses listens. */
static bool address_missing(int uv_err)
{
	return uv_err == UV_EADDRNOTAVAIL || uv_err == UV_EAFNOSUPPORT;
}

void tcp_server_init(struct tcp_server *srv, uv_loop_t *loop,
		     const struct tcp_ops *ops, void *data)
{
	memset(srv, 0, sizeof *srv);
	srv->loop = loop;
	srv->ops = ops;
	srv->data = data;
	srv->setting = "an outgoing connection";
}

/* Binds and listens on sa with a handle of its own; v6only when the
 * host has IPv4 addresses too, which then must not collide with ::. */
static int listen_one(struct tcp_server *srv, const struct tcp_listen *how,
		      const struct sockaddr_storage *sa, bool v6only)
{
	uv_tcp_t *l = &srv->listeners[srv->n_listeners++];
	int rv;

	uv_tcp_init(srv->loop, l);
	l->data = srv;
	srv->listening++;
	rv = uv_tcp_bind(l, (const struct sockaddr *)sa,
			 v6only && sa->ss_family == AF_INET6 ? UV_TCP_IPV6ONLY
							    : 0);
	if (rv == 0)
		rv = uv_listen((uv_stream_t *)l, how->backlog, accept_cb);
	return rv;
}

int tcp_server_listen(struct tcp_server *srv, const struct tcp_listen *how,
		      char *errmsg)
{
	struct sockaddr_storage sa[TCP_LISTENERS_MAX];
	char ip[INET6_ADDRSTRLEN];
	unsigned n, bound = 0, missing = TCP_LISTENERS_MAX;
	int rv, err = 0, missing_err = 0;

	srv->setting = how->setting;
	srv->nodelay = how->nodelay;
	rv = resolve(how, sa, &n, errmsg);
	if (rv != GRAFT_OK)
		return rv;
	for (unsigned i = 0; i < n; i++) {
		if (bound > 0 && how->addr->port == 0)
			sa_set_port(&sa[i], tcp_server_port(srv));
		err = listen_one(srv, how, &sa[i], n > 1);
		if (err == 0) {
			bound++;
		} else if (n > 1 && address_missing(err)) {
			missing = i;
			missing_err = err;
		} else {
			return bind_failed(how, &sa[i], err, errmsg);
		}
	}
	if (bound == 0)
		return bind_failed(how, &sa[n - 1], err, errmsg);
	if (missing < n) {
		sa_ip(&sa[missing], ip, sizeof ip);
		graft_warn("%s: not listening on %s, an address of %s this "
			   "machine lacks (%s); its other addresses listen",
			   how->setting, ip, how->addr->host,
			   uv_strerror(missing_err));
	}
	return GRAFT_OK;
}

int tcp_server_port(const struct tcp_server *srv)
{
	struct sockaddr_storage sa;
	int len = sizeof sa;

	for (unsigned i = 0; i < srv->n_listeners; i++) {
		len = sizeof sa;
		if (uv_is_closing((const uv_handle_t *)&srv->listeners[i]) ||
		    uv_tcp_getsockname(&srv->listeners[i],
				       (struct sockaddr *)&sa, &len) != 0)
			continue; /* closed, or an address this machine lacks */
		return ntohs(sa.ss_family == AF_INET6
				     ? ((struct sockaddr_in6 *)&sa)->sin6_port
				     : ((struct sockaddr_in *)&sa)->sin_port);
	}
	return -1;
}

unsigned tcp_server_conns(const struct tcp_server *srv)
{
	return srv->n_conns;
}

static void listener_closed_cb(uv_handle_t *h)
{
	struct tcp_server *srv = h->data;

	srv->listening--;
	server_maybe_closed(srv);
}

void tcp_server_stop_accepting(struct tcp_server *srv)
{
	for (unsigned i = 0; i < srv->n_listeners; i++)
		if (!uv_is_closing((uv_handle_t *)&srv->listeners[i]))
			uv_close((uv_handle_t *)&srv->listeners[i],
				 listener_closed_cb);
}

void tcp_server_close(struct tcp_server *srv,
		      void (*closed_cb)(struct tcp_server *srv))
{
	srv->closing = true;
	srv->closed_cb = closed_cb;
	tcp_server_stop_accepting(srv);
	for (struct tcp_conn *c = srv->conns; c != NULL; c = c->next)
		tcp_conn_close(c);
	server_maybe_closed(srv);
}
