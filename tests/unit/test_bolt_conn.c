/* Unit tests for Bolt connections over real loopback sockets (scripted
 * engine): handshake replies, pipelined requests, garbage and no common
 * version closing the connection, handshake, login and idle timeouts, an
 * oversized login closed early, the connection cap, and a client that
 * never reads holding bounded server memory. The client is a
 * plain non-blocking socket pumped beside the server's loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bolt/bolt.h"
#include "bolt/message.h"
#include "bolt/wire.h"
#include "bolt_fixture.h"
#include "cypher_fake.h"
#include "pack/pack.h"
#include "util/err.h"

struct fx {
	struct bolt_fixture b;
	struct bolt_server srv;
	int port;
	bool closed; /* the test closed srv itself */
};

static const uint8_t js6_handshake[20] = {
	0x60, 0x60, 0xB0, 0x17, 0, 0, 1, 0xFF, 0, 8, 8, 5,
	0,    2,    4,    4,    0, 0, 0, 3};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	struct graft_address a = {.host = "127.0.0.1", .port = 0};
	struct tcp_listen how = {.addr = &a,
				 .setting = "server.bolt.listen_address",
				 .family = AF_INET,
				 .backlog = 16,
				 .nodelay = true};
	char errmsg[GRAFT_ERRMSG_SIZE];

	bolt_fixture_open(&f->b, "boltconn", &f->srv.env);
	f->srv.env.cfg.advertised = "localhost:7687";
	f->srv.env.cfg.bookmark_timeout_ms = 1000;
	f->srv.env.cfg.max_message = 1 << 16;
	f->srv.env.cfg.out_high = 16384;
	f->srv.handshake_timeout_ms = 2000;
	f->srv.idle_timeout_ms = 2000;
	f->srv.keepalive_ms = 1000;
	if (bolt_server_listen(&f->srv, &how, errmsg) != GRAFT_OK)
		fail_msg("bolt_server_listen: %s", errmsg);
	f->port = tcp_server_port(&f->srv.tcp);
	*state = f;
	return 0;
}

static void srv_closed_cb(struct bolt_server *srv)
{
	*(bool *)srv->data = true;
}

/* Starts closing the server without waiting for it. */
static void server_close_start(struct fx *f)
{
	f->srv.data = &f->closed;
	bolt_server_close(&f->srv, srv_closed_cb);
}

static void server_close(struct fx *f)
{
	server_close_start(f);
	while (!f->closed)
		uv_run(&f->b.loop, UV_RUN_ONCE);
}

static int teardown(void **state)
{
	struct fx *f = *state;

	if (!f->closed)
		server_close(f);
	bolt_fixture_close(&f->b);
	free(f);
	return 0;
}

/* rcvbuf > 0 fixes the client's receive buffer (no autotuning). */
static int client_connect_buf(struct fx *f, int rcvbuf)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	assert_true(fd >= 0);
	if (rcvbuf > 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
	uv_ip4_addr("127.0.0.1", f->port, &sa);
	assert_true(connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0 ||
		    errno == EINPROGRESS);
	return fd;
}

static int client_connect(struct fx *f)
{
	return client_connect_buf(f, 0);
}

/* Writes all of p, pumping the server meanwhile. */
static void client_send(struct fx *f, int fd, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n > 0) {
		ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
		if (w > 0) {
			b += w;
			n -= (size_t)w;
		} else {
			assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
		}
		uv_run(&f->b.loop, UV_RUN_NOWAIT);
	}
}

/* Reads until want bytes arrived (or EOF / timeout_ms); returns how many
 * arrived; *eof tells whether the server closed. */
static size_t client_read(struct fx *f, int fd, struct graft_buf *in,
			  size_t want, uint64_t timeout_ms, bool *eof)
{
	uint64_t end = uv_hrtime() / 1000000 + timeout_ms;
	uint8_t tmp[65536];

	*eof = false;
	while (in->len < want && uv_hrtime() / 1000000 < end) {
		ssize_t r = recv(fd, tmp, sizeof tmp, 0);
		if (r == 0) {
			*eof = true;
			break;
		}
		if (r > 0)
			assert_int_equal(graft_buf_append(in, tmp, (size_t)r),
					 GRAFT_OK);
		else
			assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
		if (uv_run(&f->b.loop, UV_RUN_NOWAIT) == 0 && r < 0)
			usleep(1000);
	}
	return in->len;
}

/* Appends a chunked request; fields as packed by the caller between. */
static void msg_hello_logon(struct graft_buf *b)
{
	size_t start;

	assert_int_equal(bolt_chunk_begin(b, &start), GRAFT_OK);
	assert_int_equal(pack_struct_header(b, 1, BOLT_HELLO), GRAFT_OK);
	assert_int_equal(pack_map_header(b, 1), GRAFT_OK);
	assert_int_equal(pack_cstring(b, "user_agent"), GRAFT_OK);
	assert_int_equal(pack_cstring(b, "test"), GRAFT_OK);
	assert_int_equal(bolt_chunk_end(b, start), GRAFT_OK);
	assert_int_equal(bolt_chunk_begin(b, &start), GRAFT_OK);
	assert_int_equal(pack_struct_header(b, 1, BOLT_LOGON), GRAFT_OK);
	assert_int_equal(pack_map_header(b, 1), GRAFT_OK);
	assert_int_equal(pack_cstring(b, "scheme"), GRAFT_OK);
	assert_int_equal(pack_cstring(b, "none"), GRAFT_OK);
	assert_int_equal(bolt_chunk_end(b, start), GRAFT_OK);
}

static void msg_run_pull(struct graft_buf *b, const char *query)
{
	size_t start;

	assert_int_equal(bolt_chunk_begin(b, &start), GRAFT_OK);
	assert_int_equal(pack_struct_header(b, 3, BOLT_RUN), GRAFT_OK);
	assert_int_equal(pack_cstring(b, query), GRAFT_OK);
	assert_int_equal(pack_map_header(b, 0), GRAFT_OK);
	assert_int_equal(pack_map_header(b, 0), GRAFT_OK);
	assert_int_equal(bolt_chunk_end(b, start), GRAFT_OK);
	assert_int_equal(bolt_chunk_begin(b, &start), GRAFT_OK);
	assert_int_equal(pack_struct_header(b, 1, BOLT_PULL), GRAFT_OK);
	assert_int_equal(pack_map_header(b, 1), GRAFT_OK);
	assert_int_equal(pack_cstring(b, "n"), GRAFT_OK);
	assert_int_equal(pack_int(b, -1), GRAFT_OK);
	assert_int_equal(bolt_chunk_end(b, start), GRAFT_OK);
}

/* Counts whole messages with signature sig in the input after skip. */
static size_t count_messages(const struct graft_buf *in, size_t skip,
			     uint8_t sig, size_t *total)
{
	struct bolt_dechunker d;
	size_t used, n = 0;
	bool complete;

	*total = 0;
	bolt_dechunker_init(&d, 1 << 20);
	while (skip < in->len) {
		assert_int_equal(bolt_dechunk(&d, in->data + skip,
					      in->len - skip, &used, &complete),
				 GRAFT_OK);
		skip += used;
		if (!complete)
			continue;
		(*total)++;
		n += d.msg.len >= 2 && d.msg.data[1] == sig;
		bolt_dechunker_next(&d);
	}
	bolt_dechunker_free(&d);
	return n;
}

/* Connects; out holds the handshake and a login, in is empty. */
static int client_logging_in(struct fx *f, struct graft_buf *out,
			     struct graft_buf *in)
{
	int fd = client_connect(f);

	graft_buf_init(out);
	graft_buf_init(in);
	assert_int_equal(graft_buf_append(out, js6_handshake, 20), GRAFT_OK);
	msg_hello_logon(out);
	return fd;
}

static void test_bolt_conn_pipelined_session(void **state)
{
	struct fx *f = *state;
	struct graft_buf out, in;
	size_t total;
	bool eof;
	int fd = client_logging_in(f, &out, &in);

	msg_run_pull(&out, "RETURN 3");
	/* One send: handshake and requests in the same segment. */
	client_send(f, fd, out.data, out.len);
	for (int i = 0; i < 200 && count_messages(&in, 4, BOLT_SUCCESS,
						   &total) < 4;
	     i++)
		client_read(f, fd, &in, in.len + 1, 50, &eof);
	assert_memory_equal(in.data, ((uint8_t[]){0, 0, 4, 5}), 4);
	assert_int_equal(count_messages(&in, 4, BOLT_RECORD, &total), 3);
	assert_int_equal(total, 7); /* HELLO, LOGON, RUN, 3 records, PULL */
	assert_int_equal(bolt_server_connections(&f->srv), 1);
	close(fd);
	graft_buf_free(&out);
	graft_buf_free(&in);
}

/* Requests pipelined behind more answers than out_high are all answered
 * when the socket takes each batch of answers at once (no write callback
 * then resumes the input: conn_process goes on by itself). */
static void test_bolt_conn_requests_behind_out_high_are_all_answered(
	void **state)
{
	struct fx *f = *state;
	struct graft_buf out, in;
	size_t total = 0, want = 2 + 3 * 2000;
	bool eof;
	int fd = client_logging_in(f, &out, &in);

	for (int i = 0; i < 2000; i++)
		msg_run_pull(&out, "RETURN 1");
	client_send(f, fd, out.data, out.len);
	for (int i = 0; i < 200 && total < want; i++) {
		client_read(f, fd, &in, in.len + (1 << 20), 50, &eof);
		count_messages(&in, 4, BOLT_SUCCESS, &total);
	}
	/* far more than out_high (16 KiB) of answers */
	assert_true(in.len > 4 * f->srv.env.cfg.out_high);
	assert_int_equal(count_messages(&in, 4, BOLT_RECORD, &total), 2000);
	assert_int_equal(total, want);
	close(fd);
	graft_buf_free(&out);
	graft_buf_free(&in);
}

static void test_bolt_conn_garbage_is_closed(void **state)
{
	struct fx *f = *state;
	struct graft_buf in;
	bool eof;
	int fd = client_connect(f);

	graft_buf_init(&in);
	client_send(f, fd, "GET / HTTP/1.1\r\n\r\n", 18);
	client_read(f, fd, &in, 1, 2000, &eof);
	assert_true(eof);
	assert_int_equal(in.len, 0);
	close(fd);
	graft_buf_free(&in);
}

static void test_bolt_conn_no_common_version(void **state)
{
	struct fx *f = *state;
	uint8_t hs[20] = {0x60, 0x60, 0xB0, 0x17, 0, 0, 0, 3, 0, 0, 1, 4};
	struct graft_buf in;
	bool eof;
	int fd = client_connect(f);

	graft_buf_init(&in);
	client_send(f, fd, hs, sizeof hs);
	client_read(f, fd, &in, 5, 2000, &eof);
	assert_true(eof);
	assert_int_equal(in.len, 4);
	assert_memory_equal(in.data, ((uint8_t[]){0, 0, 0, 0}), 4);
	close(fd);
	graft_buf_free(&in);
}

static void test_bolt_conn_timeouts_close(void **state)
{
	struct fx *f = *state;
	struct graft_buf in;
	bool eof;
	int fd;

	f->srv.handshake_timeout_ms = 50;
	f->srv.idle_timeout_ms = 100;
	graft_buf_init(&in);
	/* Half a handshake, then silence. */
	fd = client_connect(f);
	client_send(f, fd, js6_handshake, 10);
	client_read(f, fd, &in, 1, 2000, &eof);
	assert_true(eof);
	close(fd);
	/* A handshake, then no request. */
	fd = client_connect(f);
	client_send(f, fd, js6_handshake, 20);
	client_read(f, fd, &in, 5, 2000, &eof);
	assert_true(eof);
	assert_int_equal(in.len, 4);
	close(fd);
	graft_buf_free(&in);
}

static void test_bolt_conn_client_that_never_reads(void **state)
{
	struct fx *f = *state;
	struct graft_buf out, in;
	uint64_t end;
	size_t total;
	bool eof;
	/* A fixed receive buffer, so the kernel holds little for us. */
	int fd = client_connect_buf(f, 65536);

	graft_buf_init(&out);
	graft_buf_init(&in);
	assert_int_equal(graft_buf_append(&out, js6_handshake, 20), GRAFT_OK);
	msg_hello_logon(&out);
	msg_run_pull(&out, "RETURN 1000000");
	cypher_fake_rows_made = 0;
	client_send(f, fd, out.data, out.len);
	end = uv_hrtime() / 1000000 + 300;
	while (uv_hrtime() / 1000000 < end)
		uv_run(&f->b.loop, UV_RUN_NOWAIT);
	/* The server stopped producing: 8 MB of records were asked for, no
	 * more than the kernel's socket buffers and out_high were made. */
	assert_true(cypher_fake_rows_made < 800000);
	/* Reading resumes the stream to the end. */
	do {
		total = in.len;
		client_read(f, fd, &in, in.len + (1 << 24), 300, &eof);
	} while (in.len > total);
	assert_int_equal(count_messages(&in, 4, BOLT_RECORD, &total), 1000000);
	assert_int_equal(total, 1000000 + 4);
	close(fd);
	graft_buf_free(&out);
	graft_buf_free(&in);
}

/* Connects and completes the handshake (the server has accepted it). */
static int client_handshaken(struct fx *f)
{
	struct graft_buf in;
	bool eof;
	int fd = client_connect(f);

	graft_buf_init(&in);
	client_send(f, fd, js6_handshake, 20);
	assert_int_equal(client_read(f, fd, &in, 4, 2000, &eof), 4);
	graft_buf_free(&in);
	return fd;
}

/* Whether the server closed fd (after any bytes it sent) within ms. */
static bool client_sees_close(struct fx *f, int fd, uint64_t ms)
{
	struct graft_buf in;
	bool eof;

	graft_buf_init(&in);
	client_read(f, fd, &in, SIZE_MAX, ms, &eof);
	graft_buf_free(&in);
	return eof;
}

static void test_bolt_conn_login_deadline_closes_a_silent_client(void **state)
{
	struct fx *f = *state;
	int fd;

	f->srv.auth_timeout_ms = 100; /* idle_timeout_ms is 2000 */
	fd = client_handshaken(f);
	assert_true(client_sees_close(f, fd, 1500));
	close(fd);
}

static void test_bolt_conn_logged_in_client_outlives_the_login_deadline(
	void **state)
{
	struct fx *f = *state;
	struct graft_buf out;
	int fd;

	f->srv.auth_timeout_ms = 100;
	fd = client_handshaken(f);
	graft_buf_init(&out);
	msg_hello_logon(&out);
	client_send(f, fd, out.data, out.len);
	assert_false(client_sees_close(f, fd, 500));
	close(fd);
	graft_buf_free(&out);
}

/* Sends HELLO and LOGON on a handshaken fd. */
static void send_login(struct fx *f, int fd)
{
	struct graft_buf out;

	graft_buf_init(&out);
	msg_hello_logon(&out);
	client_send(f, fd, out.data, out.len);
	graft_buf_free(&out);
}

/* Logs in on a handshaken fd: waits for both answers. */
static void client_log_in(struct fx *f, int fd)
{
	struct graft_buf in;
	size_t total;
	bool eof;

	graft_buf_init(&in);
	send_login(f, fd);
	while (count_messages(&in, 0, BOLT_SUCCESS, &total) < 2)
		assert_true(client_read(f, fd, &in, in.len + 1, 2000, &eof) >
				    0 &&
			    !eof);
	graft_buf_free(&in);
}

/* Logs in on fd: the server answers HELLO and LOGON with SUCCESS (after
 * skip bytes of the handshake's answer), then closes the connection. */
static void login_answered_then_closed(struct fx *f, int fd, size_t skip)
{
	struct graft_buf in;
	size_t total;
	bool eof;

	graft_buf_init(&in);
	send_login(f, fd);
	client_read(f, fd, &in, SIZE_MAX, 5000, &eof);
	assert_true(eof);
	assert_true(in.len > skip);
	assert_int_equal(count_messages(&in, skip, BOLT_SUCCESS, &total), 2);
	assert_int_equal(total, 2);
	graft_buf_free(&in);
}

/* A driver cut off in the middle of its login reports a protocol error
 * it never retries; one whose connection closes once it logged in retries
 * elsewhere. So a stopping server lets a login end, then closes. */
static void test_bolt_conn_stopping_server_closes_a_login_once_it_is_answered(
	void **state)
{
	struct fx *f = *state;
	int fd = client_handshaken(f);

	bolt_server_stop_accepting(&f->srv);
	login_answered_then_closed(f, fd, 0);
	close(fd);
}

/* A connection accepted before the server closes, whose handshake and
 * login come after: it gets its answers, then the server closes it (the
 * driver retries elsewhere) instead of cutting it off in its handshake. */
static void test_bolt_conn_closing_server_lets_a_handshake_and_login_end(
	void **state)
{
	struct fx *f = *state;
	int fd = client_connect(f);

	while (bolt_server_connections(&f->srv) == 0) /* accepted */
		uv_run(&f->b.loop, UV_RUN_ONCE);
	server_close_start(f);
	assert_false(f->closed);
	client_send(f, fd, js6_handshake, 20);
	login_answered_then_closed(f, fd, 4); /* after the version */
	while (!f->closed)
		uv_run(&f->b.loop, UV_RUN_ONCE);
	close(fd);
}

/* The grace is bounded: a peer that never finishes its handshake is closed
 * once it is over, and a logged-in connection is closed at once. */
static void test_bolt_conn_closing_server_ends_the_login_grace(void **state)
{
	struct fx *f = *state;
	int silent = client_connect(f);
	int authed = client_handshaken(f);

	client_log_in(f, authed);
	while (bolt_server_connections(&f->srv) < 2)
		uv_run(&f->b.loop, UV_RUN_ONCE);
	server_close_start(f);
	assert_true(client_sees_close(f, authed, 1000));
	while (!f->closed)
		uv_run(&f->b.loop, UV_RUN_ONCE);
	assert_true(client_sees_close(f, silent, 1000)); /* closed already */
	close(silent);
	close(authed);
}

static void test_bolt_conn_oversized_login_is_closed_before_it_ends(
	void **state)
{
	struct fx *f = *state;
	uint8_t chunk[2 + 2048];
	struct graft_buf in;
	bool eof;
	int fd;

	f->srv.unauth_max_message = 1024; /* max_message is 64 KiB */
	fd = client_handshaken(f);
	/* The start of a 64 KiB HELLO, never finished. */
	memset(chunk, 0x41, sizeof chunk);
	chunk[0] = 0xFF;
	chunk[1] = 0xFF;
	chunk[2] = 0xB1;
	chunk[3] = BOLT_HELLO;
	client_send(f, fd, chunk, sizeof chunk);
	graft_buf_init(&in);
	client_read(f, fd, &in, 1, 1500, &eof);
	assert_true(eof);
	assert_int_equal(in.len, 0); /* closed, no FAILURE awaited */
	close(fd);
	graft_buf_free(&in);
}

static void test_bolt_conn_cap_closes_the_oldest_not_logged_in(void **state)
{
	struct fx *f = *state;
	int idle, user, late, refused;

	f->srv.max_connections = 2;
	idle = client_handshaken(f);
	user = client_handshaken(f);
	client_log_in(f, user);
	/* At the cap: the idle connection makes room for a new one. */
	late = client_handshaken(f);
	assert_true(client_sees_close(f, idle, 1500));
	/* Once it logs in too, every open connection is logged in: a new
	 * one is refused and the others are served. */
	client_log_in(f, late);
	refused = client_connect(f);
	assert_true(client_sees_close(f, refused, 1500));
	assert_false(client_sees_close(f, user, 200));
	assert_int_equal(f->srv.refused, 1);
	close(idle);
	close(user);
	close(late);
	close(refused);
}

/* The last two messages' signatures in the input after skip. */
static void last_two(const struct graft_buf *in, size_t skip, uint8_t *sigs)
{
	struct bolt_dechunker d;
	size_t used;
	bool complete;

	bolt_dechunker_init(&d, 1 << 20);
	while (skip < in->len) {
		assert_int_equal(bolt_dechunk(&d, in->data + skip,
					      in->len - skip, &used, &complete),
				 GRAFT_OK);
		skip += used;
		if (!complete)
			continue;
		sigs[0] = sigs[1];
		sigs[1] = d.msg.data[1];
		bolt_dechunker_next(&d);
	}
	bolt_dechunker_free(&d);
}

static void test_bolt_conn_reset_jumps_ahead_of_a_stalled_stream(void **state)
{
	static const uint8_t reset[] = {0, 2, 0xB0, 0x0F, 0, 0};
	struct fx *f = *state;
	struct graft_buf out, in;
	uint8_t sigs[2] = {0, 0};
	uint64_t end;
	size_t total;
	bool eof;
	int fd = client_connect_buf(f, 65536);

	graft_buf_init(&out);
	graft_buf_init(&in);
	assert_int_equal(graft_buf_append(&out, js6_handshake, 20), GRAFT_OK);
	msg_hello_logon(&out);
	msg_run_pull(&out, "RETURN 1000000");
	client_send(f, fd, out.data, out.len);
	end = uv_hrtime() / 1000000 + 200;
	while (uv_hrtime() / 1000000 < end)
		uv_run(&f->b.loop, UV_RUN_NOWAIT);
	/* The stream is stalled on the unread socket; RESET gets through. */
	client_send(f, fd, reset, sizeof reset);
	do {
		total = in.len;
		client_read(f, fd, &in, in.len + (1 << 24), 300, &eof);
	} while (in.len > total);
	assert_true(count_messages(&in, 4, BOLT_RECORD, &total) < 1000000);
	last_two(&in, 4, sigs);
	assert_int_equal(sigs[0], BOLT_IGNORED);
	assert_int_equal(sigs[1], BOLT_SUCCESS);
	close(fd);
	graft_buf_free(&out);
	graft_buf_free(&in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_bolt_conn_pipelined_session),
		T(test_bolt_conn_requests_behind_out_high_are_all_answered),
		T(test_bolt_conn_garbage_is_closed),
		T(test_bolt_conn_no_common_version),
		T(test_bolt_conn_timeouts_close),
		T(test_bolt_conn_login_deadline_closes_a_silent_client),
		T(test_bolt_conn_logged_in_client_outlives_the_login_deadline),
		T(test_bolt_conn_oversized_login_is_closed_before_it_ends),
		T(test_bolt_conn_cap_closes_the_oldest_not_logged_in),
		T(test_bolt_conn_client_that_never_reads),
		T(test_bolt_conn_reset_jumps_ahead_of_a_stalled_stream),
		T(test_bolt_conn_stopping_server_closes_a_login_once_it_is_answered),
		T(test_bolt_conn_closing_server_lets_a_handshake_and_login_end),
		T(test_bolt_conn_closing_server_ends_the_login_grace),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
