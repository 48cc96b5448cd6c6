/* Unit tests for the TCP server (src/net/tcp.h) over loopback, with the
 * server itself as the client (tcp_connect), all on one loop: an echo
 * exchange freeing both sides, a bind error naming the setting and the
 * way out, the timer closing a silent peer, shutdown waiting for holds,
 * one write in flight, a write taken at once without a callback, a refused
 * connect, a server that stops accepting
 * keeping its connections, and work on a worker thread
 * holding its connection. Every test ends with the loop closing clean. */
#include <netdb.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "net/tcp.h"
#include "util/err.h"

struct fx;

struct tconn {
	struct tcp_conn tcp; /* first: the tests cast */
	struct fx *f;
	bool incoming;
	bool silent; /* an outgoing one that sends nothing */
	bool write_twice; /* and tries a second write at once */
	size_t len;
	char in[64];
};

struct side {
	struct tcp_server srv;
	unsigned accepted, closing, freed, timeouts;
	unsigned closed; /* closed_cb runs */
};

struct fx {
	uv_loop_t loop;
	struct side server, client;
	struct tconn *first; /* the first connection the server accepted */
	bool hold_first;     /* the server holds it from its acceptance */
	uint64_t timeout_ms; /* the server arms it on each acceptance */
	unsigned refused_writes;
	unsigned written; /* ops->written calls */
	unsigned worked, work_done; /* tcp_conn_queue_work's callbacks */
	unsigned freed_before_done; /* server frees when work_done ran */
	int work_status;            /* the last work_done's */
	uv_thread_t loop_thread;
	bool work_off_loop;         /* work_cb ran on another thread */
	int connect_status; /* the last connect's */
	int port;
	char errmsg[GRAFT_ERRMSG_SIZE]; /* listen_on's refusal */
	/* servers a test adds (listen_on); closed by the teardown, so that
	 * a failing test cannot leave the loop waiting on them */
	struct side extra[2];
};

static struct side *side_of(struct tcp_conn *c)
{
	return tcp_conn_server(c)->data;
}

static struct tcp_conn *conn_new(struct tcp_server *srv)
{
	struct tconn *t = calloc(1, sizeof *t);

	assert_non_null(t);
	t->incoming = true;
	return &t->tcp;
}

static void accepted(struct tcp_conn *c)
{
	struct fx *f = tcp_conn_server(c)->loop->data;
	struct tconn *t = (struct tconn *)c;

	t->f = f;
	side_of(c)->accepted++;
	if (f->first == NULL) {
		f->first = t;
		if (f->hold_first)
			tcp_conn_hold(c);
	}
	if (f->timeout_ms > 0)
		tcp_conn_timer(c, f->timeout_ms, 0);
	tcp_conn_read(c, true);
}

static void alloc(struct tcp_conn *c, uv_buf_t *buf)
{
	struct tconn *t = (struct tconn *)c;

	*buf = uv_buf_init(t->in + t->len, (unsigned)(sizeof t->in - t->len));
}

/* The server echoes what arrives; the client closes once it has the
 * echo of its "hello". */
static void read_cb(struct tcp_conn *c, ssize_t n)
{
	struct tconn *t = (struct tconn *)c;

	if (n < 0)
		return;
	if (t->incoming) {
		assert_int_equal(tcp_conn_write(c, t->in + t->len, (size_t)n),
				 GRAFT_OK);
		t->len += (size_t)n;
		return;
	}
	t->len += (size_t)n;
	if (t->len == 5)
		tcp_conn_close(c);
}

static void connected(struct tcp_conn *c, int status)
{
	struct tconn *t = (struct tconn *)c;

	t->f->connect_status = status;
	if (status != 0)
		return;
	tcp_conn_read(c, true);
	if (!t->silent)
		assert_int_equal(tcp_conn_write(c, "hello", 5), GRAFT_OK);
	/* the second waits for the first's end */
	if (t->write_twice) {
		assert_true(tcp_conn_writing(c));
		assert_int_equal(tcp_conn_write(c, "again", 5), GRAFT_EINVAL);
		t->f->refused_writes++;
	}
}

static void written(struct tcp_conn *c, int status)
{
	struct fx *f = tcp_conn_server(c)->loop->data;

	(void)status;
	f->written++;
}

static void timeout(struct tcp_conn *c)
{
	side_of(c)->timeouts++;
	tcp_conn_close(c);
}

static void closing(struct tcp_conn *c)
{
	side_of(c)->closing++;
}

static void conn_free(struct tcp_conn *c)
{
	side_of(c)->freed++;
	free(c);
}

static const struct tcp_ops ops = {
	.conn_new = conn_new,
	.accepted = accepted,
	.connected = connected,
	.alloc = alloc,
	.read = read_cb,
	.written = written,
	.timeout = timeout,
	.closing = closing,
	.conn_free = conn_free,
};

static void server_closed_cb(struct tcp_server *srv)
{
	struct side *s = srv->data;

	s->closed++;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	struct graft_address a = {.host = "127.0.0.1", .port = 0};
	struct tcp_listen how = {.addr = &a,
				 .setting = "test.listen_address",
				 .family = AF_UNSPEC,
				 .backlog = 16};
	char errmsg[GRAFT_ERRMSG_SIZE];

	assert_non_null(f);
	assert_int_equal(uv_loop_init(&f->loop), 0);
	f->loop.data = f;
	tcp_server_init(&f->server.srv, &f->loop, &ops, &f->server);
	tcp_server_init(&f->client.srv, &f->loop, &ops, &f->client);
	for (int i = 0; i < 2; i++)
		tcp_server_init(&f->extra[i].srv, &f->loop, &ops, &f->extra[i]);
	if (tcp_server_listen(&f->server.srv, &how, errmsg) != GRAFT_OK)
		fail_msg("tcp_server_listen: %s", errmsg);
	f->port = tcp_server_port(&f->server.srv);
	assert_true(f->port > 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	tcp_server_close(&f->client.srv, server_closed_cb);
	tcp_server_close(&f->server.srv, server_closed_cb);
	for (int i = 0; i < 2; i++)
		tcp_server_close(&f->extra[i].srv, server_closed_cb);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_true(f->client.closed >= 1 && f->server.closed >= 1);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	free(f);
	return 0;
}

/* Runs the loop until *n reaches want; fails if the loop runs dry. */
static void run_until(struct fx *f, const unsigned *n, unsigned want)
{
	while (*n < want)
		assert_true(uv_run(&f->loop, UV_RUN_ONCE) != 0 || *n >= want);
}

static struct tconn *client_connect(struct fx *f, bool silent)
{
	struct tconn *t = calloc(1, sizeof *t);
	struct sockaddr_in sa;

	assert_non_null(t);
	t->f = f;
	t->silent = silent;
	uv_ip4_addr("127.0.0.1", f->port, &sa);
	assert_int_equal(tcp_connect(&f->client.srv, &t->tcp,
				     (struct sockaddr *)&sa),
			 GRAFT_OK);
	return t;
}

/* Whether localhost resolves to ::1 here and the machine has ::1 (a
 * fresh chroot may have neither). */
static bool localhost_has_ipv6(void)
{
	struct addrinfo hints = {.ai_family = AF_INET6,
				 .ai_socktype = SOCK_STREAM};
	struct addrinfo *res = NULL;
	bool yes = access("/proc/net/if_inet6", F_OK) == 0 &&
		   getaddrinfo("localhost", "1", &hints, &res) == 0;

	if (res != NULL)
		freeaddrinfo(res);
	return yes;
}

/* Connects a client to ip:port and runs the loop until srv accepted it;
 * fails when the connect is refused. */
static void connect_to(struct fx *f, struct side *srv, const char *ip,
		       int port)
{
	struct tconn *t = calloc(1, sizeof *t);
	struct sockaddr_storage sa;
	unsigned want = srv->accepted + 1;

	assert_non_null(t);
	t->f = f;
	t->silent = true;
	assert_true(uv_ip4_addr(ip, port, (struct sockaddr_in *)&sa) == 0 ||
		    uv_ip6_addr(ip, port, (struct sockaddr_in6 *)&sa) == 0);
	f->connect_status = 0;
	assert_int_equal(tcp_connect(&f->client.srv, &t->tcp,
				     (struct sockaddr *)&sa),
			 GRAFT_OK);
	/* until accepted, or refused (the listeners would keep the loop
	 * waiting for ever) */
	while (srv->accepted < want && f->connect_status == 0)
		uv_run(&f->loop, UV_RUN_ONCE);
	assert_int_equal(f->connect_status, 0);
	assert_int_equal(srv->accepted, want);
}

/* s (one of f->extra) listens on host:port; want: the result. */
static void listen_on(struct fx *f, struct side *s, const char *host,
		      int port, int want)
{
	struct graft_address a = {.port = (uint16_t)port};
	struct tcp_listen how = {.addr = &a,
				 .setting = "test.listen_address",
				 .family = AF_UNSPEC,
				 .backlog = 16};
	char errmsg[GRAFT_ERRMSG_SIZE];

	snprintf(a.host, sizeof a.host, "%s", host);
	assert_int_equal(tcp_server_listen(&s->srv, &how, errmsg), want);
	if (want != GRAFT_OK)
		snprintf(f->errmsg, sizeof f->errmsg, "%s", errmsg);
}

/* A client trying localhost's ::1 first (Node's driver on Debian 12) is
 * not refused: a listen host that is a name listens on each of its
 * addresses, on one port even when port 0 let the system pick it. */
static void test_tcp_host_name_listens_on_each_of_its_addresses(void **state)
{
	struct fx *f = *state;
	struct side *s = &f->extra[0];
	int port;

	if (!localhost_has_ipv6())
		skip(); /* nothing to prove without ::1 */
	listen_on(f, s, "localhost", 0, GRAFT_OK);
	port = tcp_server_port(&s->srv);
	assert_true(port > 0);
	connect_to(f, s, "::1", port);
	connect_to(f, s, "127.0.0.1", port);
	assert_int_equal(s->accepted, 2);
}

/* One address of the name taken (::1 by another process) fails the whole
 * listen, naming that address, the name and the setting. */
static void test_tcp_host_name_with_one_address_taken_is_refused(
	void **state)
{
	struct fx *f = *state;
	struct side *v6 = &f->extra[0], *name = &f->extra[1];
	char want[128];
	int port;

	if (!localhost_has_ipv6())
		skip();
	listen_on(f, v6, "::1", 0, GRAFT_OK);
	port = tcp_server_port(&v6->srv);
	listen_on(f, name, "localhost", port, GRAFT_EADDRINUSE);
	snprintf(want, sizeof want,
		 "cannot listen on [::1]:%d of localhost (test.listen_address)",
		 port);
	assert_non_null(strstr(f->errmsg, want));
}

/* An IP address is one socket: 127.0.0.1 does not answer on ::1. */
static void test_tcp_ip_address_listens_on_that_address_only(void **state)
{
	struct fx *f = *state;
	struct tconn *t;
	struct sockaddr_in6 sa;

	if (!localhost_has_ipv6())
		skip();
	t = calloc(1, sizeof *t);
	assert_non_null(t);
	t->f = f;
	uv_ip6_addr("::1", f->port, &sa);
	assert_int_equal(tcp_connect(&f->client.srv, &t->tcp,
				     (struct sockaddr *)&sa),
			 GRAFT_OK);
	run_until(f, &f->client.freed, 1);
	assert_int_equal(f->connect_status, UV_ECONNREFUSED);
	assert_int_equal(f->server.accepted, 0);
}

static void test_tcp_echo_frees_both_sides_once_closed(void **state)
{
	struct fx *f = *state;

	client_connect(f, false);
	run_until(f, &f->server.freed, 1);
	run_until(f, &f->client.freed, 1);
	assert_int_equal(f->server.accepted, 1);
	/* each side: closing announced once, then freed */
	assert_int_equal(f->server.closing, 1);
	assert_int_equal(f->client.closing, 1);
	assert_int_equal(tcp_server_conns(&f->server.srv), 0);
	assert_int_equal(tcp_server_conns(&f->client.srv), 0);
}

static void test_tcp_port_in_use_names_the_setting_and_the_way_out(
	void **state)
{
	struct fx *f = *state;
	struct graft_address a = {.host = "127.0.0.1",
				  .port = (uint16_t)f->port};
	struct tcp_listen how = {.addr = &a,
				 .setting = "test.listen_address",
				 .alternative = "set test.enabled=false",
				 .family = AF_INET,
				 .backlog = 16};
	struct side second;
	char errmsg[GRAFT_ERRMSG_SIZE], want[128];

	memset(&second, 0, sizeof second);
	tcp_server_init(&second.srv, &f->loop, &ops, &second);
	assert_int_equal(tcp_server_listen(&second.srv, &how, errmsg),
			 GRAFT_EADDRINUSE);
	snprintf(want, sizeof want,
		 "cannot listen on 127.0.0.1:%d (test.listen_address)",
		 f->port);
	assert_null(strstr(errmsg, " of 127.0.0.1")); /* an IP, no name */
	assert_non_null(strstr(errmsg, want));
	assert_non_null(strstr(errmsg, "change test.listen_address, or set "
				       "test.enabled=false"));
	/* the failed listener's handle still closes */
	tcp_server_close(&second.srv, server_closed_cb);
	run_until(f, &second.closed, 1);
}

static void test_tcp_timer_closes_a_silent_peer(void **state)
{
	struct fx *f = *state;

	f->timeout_ms = 20;
	client_connect(f, true);
	run_until(f, &f->server.freed, 1);
	assert_int_equal(f->server.timeouts, 1);
	/* the client sees the end of the stream and closes */
	run_until(f, &f->client.freed, 1);
}

static void test_tcp_server_close_closes_all_and_waits_for_holds(
	void **state)
{
	struct fx *f = *state;
	struct tconn *first, spare;

	f->hold_first = true;
	for (int i = 0; i < 3; i++)
		client_connect(f, true);
	run_until(f, &f->server.accepted, 3);
	first = f->first;
	tcp_server_close(&f->server.srv, server_closed_cb);
	assert_int_equal(f->server.closing, 3);
	/* the two without a hold go; the held one's memory stays */
	run_until(f, &f->server.freed, 2);
	for (int i = 0; i < 20; i++)
		uv_run(&f->loop, UV_RUN_NOWAIT);
	assert_int_equal(f->server.freed, 2);
	assert_int_equal(f->server.closed, 0);
	assert_true(tcp_conn_closing(&first->tcp));
	tcp_conn_release(&first->tcp);
	assert_int_equal(f->server.freed, 3);
	assert_int_equal(f->server.closed, 1);
	/* a closing server connects nothing, and leaves the memory alone */
	memset(&spare, 0, sizeof spare);
	assert_int_equal(tcp_connect(&f->server.srv, &spare.tcp, NULL),
			 GRAFT_ESHUTDOWN);
	assert_null(spare.tcp.srv);
}

static void test_tcp_one_write_in_flight(void **state)
{
	struct fx *f = *state;
	struct tconn *t = client_connect(f, false);

	t->write_twice = true;
	run_until(f, &f->client.freed, 1);
	run_until(f, &f->server.freed, 1);
	assert_int_equal(f->refused_writes, 1);
}

/* tcp_conn_try_write: what fits the socket's buffer is taken at once and
 * nothing calls back; more than fits (the peer reads nothing) is taken in
 * part; nothing is taken while a write is in flight. */
static void test_tcp_try_write_takes_what_fits_without_a_callback(
	void **state)
{
	struct fx *f = *state;
	size_t big = 64u << 20, taken = 1, rest;
	char *p = calloc(1, big);
	struct tcp_conn *c;

	assert_non_null(p);
	client_connect(f, true);
	run_until(f, &f->server.accepted, 1);
	c = &f->first->tcp;
	assert_int_equal(tcp_conn_try_write(c, "hello", 5, &taken), GRAFT_OK);
	assert_int_equal(taken, 5);
	assert_false(tcp_conn_writing(c));
	assert_int_equal(tcp_conn_try_write(c, p, big, &taken), GRAFT_OK);
	assert_true(taken > 0 && taken < big);
	rest = big - taken;
	assert_int_equal(tcp_conn_write(c, p + taken, rest), GRAFT_OK);
	assert_int_equal(tcp_conn_try_write(c, "x", 1, &taken), GRAFT_OK);
	assert_int_equal(taken, 0);
	uv_run(&f->loop, UV_RUN_NOWAIT);
	assert_int_equal(f->written, 0); /* the peer still reads nothing */
	tcp_conn_close(c);
	run_until(f, &f->server.freed, 1);
	free(p);
}

static void test_tcp_refused_connect_reports_and_frees(void **state)
{
	struct fx *f = *state;

	/* nothing listens on the port once the server closed it */
	tcp_server_close(&f->server.srv, server_closed_cb);
	run_until(f, &f->server.closed, 1);
	client_connect(f, false);
	run_until(f, &f->client.freed, 1);
	assert_int_equal(f->connect_status, UV_ECONNREFUSED);
	assert_int_equal(f->client.closing, 1);
}

static void test_tcp_stop_accepting_refuses_newcomers_and_keeps_the_open(
	void **state)
{
	struct fx *f = *state;

	client_connect(f, true);
	run_until(f, &f->server.accepted, 1);
	tcp_server_stop_accepting(&f->server.srv);
	while (tcp_server_port(&f->server.srv) > 0)
		uv_run(&f->loop, UV_RUN_ONCE);
	client_connect(f, false);
	run_until(f, &f->client.freed, 1);
	assert_int_equal(f->connect_status, UV_ECONNREFUSED);
	assert_int_equal(f->server.accepted, 1);
	/* the connection made before is still there, still open */
	assert_int_equal(tcp_server_conns(&f->server.srv), 1);
	assert_int_equal(f->server.closing, 0);
	assert_false(tcp_conn_closing(&f->first->tcp));
}

static void work_cb(struct tcp_conn *c)
{
	struct fx *f = tcp_conn_server(c)->loop->data;
	uv_thread_t self = uv_thread_self();

	/* the loop thread waits in uv_run: the only other writer is done */
	f->work_off_loop = !uv_thread_equal(&self, &f->loop_thread);
	f->worked++;
}

static void work_done_cb(struct tcp_conn *c, int status)
{
	struct fx *f = tcp_conn_server(c)->loop->data;

	f->work_done++;
	f->work_status = status;
	f->freed_before_done = f->server.freed;
}

static void test_tcp_queue_work_runs_off_the_loop_then_calls_back(
	void **state)
{
	struct fx *f = *state;

	f->loop_thread = uv_thread_self();
	client_connect(f, true);
	run_until(f, &f->server.accepted, 1);
	assert_int_equal(tcp_conn_queue_work(&f->first->tcp, work_cb,
					     work_done_cb),
			 GRAFT_OK);
	assert_true(tcp_conn_working(&f->first->tcp));
	/* one at a time */
	assert_int_equal(tcp_conn_queue_work(&f->first->tcp, work_cb,
					     work_done_cb),
			 GRAFT_EINVAL);
	run_until(f, &f->work_done, 1);
	assert_int_equal(f->worked, 1);
	assert_true(f->work_off_loop);
	assert_int_equal(f->work_status, 0);
	assert_false(tcp_conn_working(&f->first->tcp));
}

static void test_tcp_queue_work_holds_a_closed_connection_until_done(
	void **state)
{
	struct fx *f = *state;
	struct tcp_conn *c;

	client_connect(f, true);
	run_until(f, &f->server.accepted, 1);
	c = &f->first->tcp;
	assert_int_equal(tcp_conn_queue_work(c, work_cb, work_done_cb),
			 GRAFT_OK);
	tcp_conn_close(c);
	assert_int_equal(tcp_conn_queue_work(c, work_cb, work_done_cb),
			 GRAFT_ESHUTDOWN);
	run_until(f, &f->server.freed, 1);
	/* done ran first, told that the connection closed meanwhile */
	assert_int_equal(f->work_done, 1);
	assert_int_equal(f->work_status, UV_ECANCELED);
	assert_int_equal(f->freed_before_done, 0);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_tcp_echo_frees_both_sides_once_closed),
		T(test_tcp_port_in_use_names_the_setting_and_the_way_out),
		T(test_tcp_host_name_listens_on_each_of_its_addresses),
		T(test_tcp_host_name_with_one_address_taken_is_refused),
		T(test_tcp_ip_address_listens_on_that_address_only),
		T(test_tcp_timer_closes_a_silent_peer),
		T(test_tcp_server_close_closes_all_and_waits_for_holds),
		T(test_tcp_one_write_in_flight),
		T(test_tcp_try_write_takes_what_fits_without_a_callback),
		T(test_tcp_refused_connect_reports_and_frees),
	T(test_tcp_stop_accepting_refuses_newcomers_and_keeps_the_open),
		T(test_tcp_queue_work_runs_off_the_loop_then_calls_back),
		T(test_tcp_queue_work_holds_a_closed_connection_until_done),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
