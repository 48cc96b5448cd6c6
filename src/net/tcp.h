/* A TCP server on the loop thread: one listener, the list of its
 * connections, one timer per connection, one write in flight per
 * connection, holds for asynchronous work, and an orderly close of
 * everything. Every server of graft (Bolt, HTTP, backup, discovery,
 * catch-up) is built on it and writes only its protocol.
 *
 * Ownership: the caller allocates each connection, a struct of its own with
 * a struct tcp_conn in it (recovered with container_of or a cast when it is
 * the first member): in ops->conn_new for an accepted one, before
 * tcp_connect for an outgoing one. The server frees nothing of the
 * caller's: ops->conn_free does, once nothing uses the connection.
 *
 * A connection's life:
 *   accepted (ops->accepted) or connected (ops->connected)
 *     -> open: the caller reads (tcp_conn_read, into ops->alloc's buffer,
 *        ops->read), writes (tcp_conn_write, ops->written), arms its timer
 *        (tcp_conn_timer, ops->timeout), takes holds (tcp_conn_hold), runs
 *        blocking work on a worker thread (tcp_conn_queue_work)
 *     -> closing (tcp_conn_close by the caller, an error, or
 *        tcp_server_close for all): ops->closing runs once, reading, the
 *        timer and every later callback stop, the handles close
 *     -> freed (ops->conn_free) once the handles are closed and every hold
 *        is released.
 * A read error or end of stream (ops->read with n < 0), a failed write
 * (ops->written with status != 0) and a failed connect (ops->connected
 * with status != 0) close the connection once the callback returns. On a
 * closing connection the calls that read, write or arm the timer are
 * no-ops, so a caller does not check before calling.
 *
 * Backpressure: the caller stops reading (tcp_conn_read(c, false)) while it
 * cannot take more input, and sends its next buffer from ops->written; with
 * one write in flight, a peer that does not read costs at most the
 * caller's own buffers.
 *
 * libuv's contract holds: a function that returns an error does not call
 * its callback. Loop thread only. */
#ifndef GRAFT_NET_TCP_H
#define GRAFT_NET_TCP_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "../util/buf.h"
#include "../util/config.h"

struct tcp_server;
struct tcp_conn;

/* Work of tcp_conn_queue_work: work runs on a worker thread, done on the
 * loop thread. */
typedef void (*tcp_work_cb)(struct tcp_conn *c);
typedef void (*tcp_work_done_cb)(struct tcp_conn *c, int status);

/* Private to tcp.c; embedded so that the caller allocates it. */
struct tcp_conn {
	uv_tcp_t tcp;
	uv_timer_t timer;
	uv_write_t write;
	uv_connect_t connect;
	uv_work_t work;
	tcp_work_cb work_cb;
	tcp_work_done_cb work_done_cb;
	struct tcp_server *srv;
	struct tcp_conn *prev, *next;
	unsigned refs; /* open handles and holds; freed at 0 */
	bool open;     /* handed to the caller (accepted or connecting) */
	bool reading, writing, closing, working;
};

/* What the server calls back; conn_new (for a listener), conn_free and
 * whichever of the others the caller's protocol uses; NULL for the rest. */
struct tcp_ops {
	/* Memory for an accepted connection, its struct tcp_conn zeroed;
	 * NULL when out of memory (the peer is then dropped and logged). */
	struct tcp_conn *(*conn_new)(struct tcp_server *srv);
	/* Accepted: the caller starts reading, arms the timer, or closes it
	 * at once (a refusal). */
	void (*accepted)(struct tcp_conn *c);
	/* The connect of tcp_connect finished: status 0 or a libuv error. */
	void (*connected)(struct tcp_conn *c, int status);
	/* Where the next read goes; a buffer of length 0 stops reading. */
	void (*alloc)(struct tcp_conn *c, uv_buf_t *buf);
	/* n > 0 bytes arrived in alloc's buffer, or n < 0: a libuv error
	 * (UV_EOF when the peer finished sending). */
	void (*read)(struct tcp_conn *c, ssize_t n);
	/* The write of tcp_conn_write finished: status 0 or a libuv error. */
	void (*written)(struct tcp_conn *c, int status);
	/* The connection's timer fired. */
	void (*timeout)(struct tcp_conn *c);
	/* The connection starts closing; it may take a hold (a session or a
	 * worker that must finish first). */
	void (*closing)(struct tcp_conn *c);
	/* Nothing uses the connection any more: free the caller's struct. */
	void (*conn_free)(struct tcp_conn *c);
};

/* How to listen. */
struct tcp_listen {
	const struct graft_address *addr; /* as configured; host "" = all */
	const char *setting;     /* the config key, named in errors and logs */
	const char *alternative; /* another way out of a bind error, e.g.
				  * "set server.backup.enabled=false"; or NULL */
	int family;  /* AF_UNSPEC, or AF_INET where peers reach it by IPv4 */
	int backlog; /* pending connections the kernel keeps */
	bool nodelay; /* TCP_NODELAY on accepted connections */
};

/* The addresses one listen setting may resolve to (localhost: 127.0.0.1
 * and ::1). */
#define TCP_LISTENERS_MAX 8

struct tcp_server {
	uv_loop_t *loop;
	const struct tcp_ops *ops;
	void *data; /* the caller's */
	/* private */
	uv_tcp_t listeners[TCP_LISTENERS_MAX]; /* one per address */
	unsigned n_listeners; /* initialised handles */
	const char *setting; /* for messages; borrowed from tcp_listen */
	bool nodelay;
	unsigned listening; /* listener handles not closed yet */
	bool closing;
	struct tcp_conn *conns; /* every connection, closing ones too */
	unsigned n_conns;
	void (*closed_cb)(struct tcp_server *srv);
};

/* Fills srv; ops is borrowed and must outlive it. Nothing to free until
 * tcp_server_listen or tcp_connect succeeded. */
void tcp_server_init(struct tcp_server *srv, uv_loop_t *loop,
		     const struct tcp_ops *ops, void *data);
/* Binds and listens on every address the host resolves to (Debian's
 * localhost: 127.0.0.1 and ::1, since clients try ::1 first), one socket
 * each; an IP address, or an empty host (every address), is one socket
 * as before. With port 0 the first address picks the port and the others
 * take the same. An address this machine lacks (::1 without IPv6) is
 * skipped with a warning while another one listens. Errors name the
 * address, the setting and what to do: GRAFT_EINVAL for a host that does
 * not resolve, GRAFT_EADDRINUSE for a port taken on any of its addresses,
 * GRAFT_EIO otherwise. After an error, tcp_server_close still closes the
 * listener handles. */
int tcp_server_listen(struct tcp_server *srv, const struct tcp_listen *how,
		      char *errmsg);
/* The port the listeners are bound to (the one chosen for port 0); -1 if
 * none listens. */
int tcp_server_port(const struct tcp_server *srv);
/* Connections of srv, closing ones too. */
unsigned tcp_server_conns(const struct tcp_server *srv);
/* Stops listening and keeps the open connections: a server about to stop
 * refuses newcomers (who then try another member) instead of accepting
 * them and cutting them off in the middle of their login. */
void tcp_server_stop_accepting(struct tcp_server *srv);
/* Stops listening and closes every connection; closed_cb (may be NULL)
 * runs once the listener and every connection are freed, at once when
 * nothing was open. No new connection is accepted meanwhile. */
void tcp_server_close(struct tcp_server *srv,
		      void (*closed_cb)(struct tcp_server *srv));

/* A port that serves two protocols hands a connection over: the socket of
 * c, duplicated (the caller closes c, which leaves the duplicate open), and
 * srv takes it as if it had accepted it (ops->conn_new, then
 * ops->accepted). GRAFT_EIO when the socket cannot be had;
 * tcp_server_adopt always takes fd, closing it on an error (GRAFT_ENOMEM,
 * GRAFT_ESHUTDOWN while srv closes, GRAFT_EIO). */
int tcp_conn_dup_socket(const struct tcp_conn *c, uv_os_sock_t *fd);
int tcp_server_adopt(struct tcp_server *srv, uv_os_sock_t fd,
		     struct tcp_conn **out);

/* Connects c (the caller's memory, its struct tcp_conn zeroed) to addr
 * and puts it on srv's list; ops->connected runs when done. On an error
 * (GRAFT_EIO, GRAFT_ESHUTDOWN while srv closes) connected and closing are
 * not called, and conn_free runs once its handles are closed. */
int tcp_connect(struct tcp_server *srv, struct tcp_conn *c,
		const struct sockaddr *addr);

struct tcp_server *tcp_conn_server(const struct tcp_conn *c);
/* For ops->alloc: room for at least want bytes at the end of b (which the
 * read then appends to: b->len += n); a buffer of length 0 when out of
 * memory. */
void tcp_alloc_in(struct graft_buf *b, size_t want, uv_buf_t *buf);
/* Starts or stops reading (idempotent); a failure to start closes c. */
void tcp_conn_read(struct tcp_conn *c, bool on);
/* Writes n bytes at p, which must stay valid until ops->written runs (or
 * the connection is freed). One write at a time: GRAFT_EINVAL while one
 * is in flight. A write libuv refuses closes c (GRAFT_EIO); written is
 * not called then. */
int tcp_conn_write(struct tcp_conn *c, const void *p, size_t n);
/* Writes what the socket takes of the n bytes at p now, without waiting
 * and without ops->written: *taken is the count (0 while a write is in
 * flight or the socket's buffer is full). A write of tcp_conn_write costs
 * libuv a deferred callback and an epoll_ctl once it drained; a reply
 * that fits the socket's buffer costs neither this way. A failed write
 * closes c (GRAFT_EIO). */
int tcp_conn_try_write(struct tcp_conn *c, const void *p, size_t n,
		       size_t *taken);
bool tcp_conn_writing(const struct tcp_conn *c);
/* (Re)arms the timer: ops->timeout after timeout_ms, then every repeat_ms
 * if that is not 0. */
void tcp_conn_timer(struct tcp_conn *c, uint64_t timeout_ms,
		    uint64_t repeat_ms);
void tcp_conn_timer_stop(struct tcp_conn *c);
/* A hold keeps c's memory after it closed, until released (a worker
 * using it, a session closing). */
void tcp_conn_hold(struct tcp_conn *c);
void tcp_conn_release(struct tcp_conn *c);
/* Runs work_cb(c) on a worker thread, then done_cb(c, status) on the
 * loop: status 0, or UV_ECANCELED when c started closing meanwhile (the
 * work ran all the same, or never started: done_cb releases whatever the
 * caller prepared for it). c is held from the call until done_cb returned,
 * so a worker never uses freed memory; the caller's fields are the
 * worker's until done_cb, the loop leaves them alone meanwhile. One work
 * item at a time: GRAFT_EINVAL while one is queued, GRAFT_ESHUTDOWN on a
 * closing connection, GRAFT_EIO when libuv refuses; no callback runs
 * after an error. */
int tcp_conn_queue_work(struct tcp_conn *c, tcp_work_cb work_cb,
			tcp_work_done_cb done_cb);
bool tcp_conn_working(const struct tcp_conn *c);
/* Closes c (idempotent); see the life of a connection above. */
void tcp_conn_close(struct tcp_conn *c);
bool tcp_conn_closing(const struct tcp_conn *c);

#endif
