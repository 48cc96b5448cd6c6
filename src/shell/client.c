#include "client.h"

#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <config.h>

#include "../pack/pack.h"

enum {
	MSG_HELLO = 0x01,
	MSG_GOODBYE = 0x02,
	MSG_RESET = 0x0F,
	MSG_RUN = 0x10,
	MSG_BEGIN = 0x11,
	MSG_COMMIT = 0x12,
	MSG_ROLLBACK = 0x13,
	MSG_PULL = 0x3F,
	MSG_LOGON = 0x6A,
	MSG_SUCCESS = 0x70,
	MSG_RECORD = 0x71,
	MSG_IGNORED = 0x7E,
	MSG_FAILURE = 0x7F,
};

/* Offered in preference order: 5.4 down to 5.0, then 4.4. */
static const uint8_t handshake[20] = {
	0x60, 0x60, 0xB0, 0x17, 0x00, 0x04, 0x04, 0x05, 0x00, 0x00,
	0x04, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

static int fail(struct client_error *e, int rv, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(struct client_error *e, int rv, const char *fmt, ...)
{
	va_list ap;

	e->code[0] = '\0';
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof e->message, fmt, ap);
	va_end(ap);
	return rv;
}

void client_result_free(struct client_result *r)
{
	size_t i;

	for (i = 0; i < r->nfields; i++)
		free(r->fields[i]);
	free(r->fields);
	r->fields = NULL;
	r->nfields = 0;
	graft_value_free(&r->summary);
}

/* Transport ---------------------------------------------------------------- */

static int write_all(struct client *c, const uint8_t *p, size_t n,
		     struct client_error *e)
{
	ssize_t w;

	while (n > 0) {
		w = send(c->fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return fail(e, GRAFT_EIO, "connection lost while "
						  "sending: %s",
				    strerror(errno));
		p += w;
		n -= (size_t)w;
	}
	return GRAFT_OK;
}

/* Sends RESET once an interrupt has been asked for (client.h). */
static int reset_on_interrupt(struct client *c, struct client_error *e)
{
	static const uint8_t reset_msg[] = {0x00, 0x02, 0xB0, MSG_RESET,
					    0x00, 0x00};

	if (c->interrupt == NULL || !*c->interrupt || c->reset_sent)
		return GRAFT_OK;
	c->reset_sent = true;
	return write_all(c, reset_msg, sizeof reset_msg, e);
}

/* Ensures n unread bytes in rx. */
static int fill(struct client *c, size_t n, struct client_error *e)
{
	uint8_t tmp[65536];
	ssize_t r;

	while (c->rx.len - c->rx_pos < n) {
		if (reset_on_interrupt(c, e) != GRAFT_OK)
			return GRAFT_EIO;
		r = recv(c->fd, tmp, sizeof tmp, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return fail(e, GRAFT_EIO,
				    "the server closed the connection%s%s",
				    r < 0 ? ": " : "", r < 0 ? strerror(errno) : "");
		if (c->rx_pos > 0) { /* keep only what is unread */
			memmove(c->rx.data, c->rx.data + c->rx_pos,
				c->rx.len - c->rx_pos);
			c->rx.len -= c->rx_pos;
			c->rx_pos = 0;
		}
		if (graft_buf_append(&c->rx, tmp, (size_t)r) != GRAFT_OK)
			return fail(e, GRAFT_ENOMEM, "out of memory");
	}
	return GRAFT_OK;
}

/* Chunks the message in c->msg onto c->wire. */
static int end_message(struct client *c)
{
	size_t off = 0, n;
	uint8_t hdr[2];

	while (off < c->msg.len) {
		n = c->msg.len - off > 65535 ? 65535 : c->msg.len - off;
		hdr[0] = (uint8_t)(n >> 8);
		hdr[1] = (uint8_t)n;
		if (graft_buf_append(&c->wire, hdr, 2) ||
		    graft_buf_append(&c->wire, c->msg.data + off, n))
			return GRAFT_ENOMEM;
		off += n;
	}
	graft_buf_reset(&c->msg);
	return graft_buf_append(&c->wire, "\0\0", 2);
}

static int flush(struct client *c, struct client_error *e)
{
	int rv = write_all(c, c->wire.data, c->wire.len, e);

	graft_buf_reset(&c->wire);
	return rv;
}

/* Reads the next whole message into c->in; c->tag and c->body describe it.
 * NOOP chunks between messages are skipped. */
static int recv_message(struct client *c, struct client_error *e)
{
	size_t n, fields;
	int rv;

	graft_buf_reset(&c->in);
	for (;;) {
		rv = fill(c, 2, e);
		if (rv != GRAFT_OK)
			return rv;
		n = (size_t)c->rx.data[c->rx_pos] << 8 | c->rx.data[c->rx_pos + 1];
		c->rx_pos += 2;
		if (n == 0) {
			if (c->in.len == 0)
				continue; /* NOOP */
			break;
		}
		if (c->in.len + n > CLIENT_MAX_MESSAGE)
			return fail(e, GRAFT_ETOOBIG,
				    "the server sent a message over %u MiB",
				    CLIENT_MAX_MESSAGE >> 20);
		rv = fill(c, n, e);
		if (rv != GRAFT_OK)
			return rv;
		if (graft_buf_append(&c->in, c->rx.data + c->rx_pos, n))
			return fail(e, GRAFT_ENOMEM, "out of memory");
		c->rx_pos += n;
	}
	c->body = (struct render_in){c->in.data, c->in.len, 0};
	if (render_struct_header(&c->body, &fields, &c->tag) != GRAFT_OK)
		return fail(e, GRAFT_ECORRUPT, "the server sent a message that "
					       "is not a structure");
	return GRAFT_OK;
}

/* Decodes the metadata map of a SUCCESS or FAILURE into meta (may be
 * NULL: then only checked). */
static int read_meta(struct client *c, struct graft_value *meta,
		     struct client_error *e)
{
	char errmsg[GRAFT_ERRMSG_SIZE];
	struct graft_value v = graft_value_null();
	struct pack_reader r;
	int rv;

	if (c->body.pos == c->body.len) { /* IGNORED, or a bare summary */
		if (meta != NULL)
			*meta = v;
		return GRAFT_OK;
	}
	pack_reader_init(&r, c->body.p + c->body.pos, c->body.len - c->body.pos);
	rv = pack_read_value(&r, &v, errmsg);
	if (rv != GRAFT_OK)
		return fail(e, rv, "unreadable metadata from the server: %s",
			    errmsg);
	if (meta != NULL)
		*meta = v;
	else
		graft_value_free(&v);
	return GRAFT_OK;
}

static const struct graft_value *meta_get(const struct graft_value *meta,
					  const char *key)
{
	if (meta->type != GRAFT_VALUE_MAP)
		return NULL;
	return graft_map_get(meta->u.map, key, strlen(key));
}

static void copy_str(char *dst, size_t size, const struct graft_value *v)
{
	snprintf(dst, size, "%s",
		 v != NULL && v->type == GRAFT_VALUE_STRING ? v->u.s->data : "");
}

/* Turns a FAILURE into e; IGNORED into a generic error. */
static int server_error(struct client *c, struct client_error *e)
{
	struct graft_value meta;
	int rv;

	if (c->tag == MSG_IGNORED)
		return fail(e, GRAFT_EINVAL, "the server ignored the request");
	if (c->tag != MSG_FAILURE)
		return fail(e, GRAFT_ECORRUPT,
			    "unexpected message 0x%02X from the server", c->tag);
	rv = read_meta(c, &meta, e);
	if (rv != GRAFT_OK)
		return rv;
	copy_str(e->code, sizeof e->code, meta_get(&meta, "code"));
	copy_str(e->message, sizeof e->message, meta_get(&meta, "message"));
	graft_value_free(&meta);
	return GRAFT_EINVAL;
}

/* Reads one summary: GRAFT_OK with meta (may be NULL) for SUCCESS. */
static int recv_summary(struct client *c, struct graft_value *meta,
			struct client_error *e)
{
	int rv = recv_message(c, e);

	if (rv != GRAFT_OK)
		return rv;
	if (c->tag != MSG_SUCCESS)
		return server_error(c, e);
	return read_meta(c, meta, e);
}

/* Message building --------------------------------------------------------- */

static int put_str(struct graft_buf *b, const char *key, const char *val)
{
	return pack_cstring(b, key) || pack_cstring(b, val);
}

static int begin_message(struct client *c, uint8_t tag, unsigned fields)
{
	return pack_struct_header(&c->msg, fields, tag);
}

/* Sends a message without fields (COMMIT, ROLLBACK, RESET, GOODBYE). */
static int simple(struct client *c, uint8_t tag, struct client_error *e)
{
	if (begin_message(c, tag, 0) || end_message(c))
		return fail(e, GRAFT_ENOMEM, "out of memory");
	return flush(c, e);
}

/* Connection --------------------------------------------------------------- */

int client_connect(struct client *c, const char *host, const char *port,
		   struct client_error *e)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res, *ai;
	uint8_t reply[4];
	int rv;

	memset(c, 0, sizeof *c);
	c->fd = -1;
	graft_buf_init(&c->msg);
	graft_buf_init(&c->wire);
	graft_buf_init(&c->in);
	graft_buf_init(&c->rx);
	rv = getaddrinfo(host, port, &hints, &res);
	if (rv != 0)
		return fail(e, GRAFT_EINVAL, "cannot resolve %s: %s", host,
			    gai_strerror(rv));
	for (ai = res; ai != NULL && c->fd < 0; ai = ai->ai_next) {
		c->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (c->fd >= 0 && connect(c->fd, ai->ai_addr, ai->ai_addrlen)) {
			close(c->fd);
			c->fd = -1;
		}
	}
	freeaddrinfo(res);
	if (c->fd < 0)
		return fail(e, GRAFT_EIO,
			    "Unable to connect to %s:%s, ensure the database is "
			    "running and that there is a working network "
			    "connection to it.",
			    host, port);
	rv = write_all(c, handshake, sizeof handshake, e);
	if (rv == GRAFT_OK)
		rv = fill(c, 4, e);
	if (rv != GRAFT_OK)
		return fail(e, rv, "%s:%s closed the connection during the Bolt "
				   "handshake", host, port);
	memcpy(reply, c->rx.data + c->rx_pos, 4);
	c->rx_pos += 4;
	if (reply[3] == 0)
		return fail(e, GRAFT_EINVAL,
			    "the server at %s:%s accepts none of Bolt 5.0-5.4 "
			    "or 4.4", host, port);
	c->major = reply[3];
	c->minor = reply[2];
	return GRAFT_OK;
}

static int put_auth(struct graft_buf *b, const char *user,
		    const char *password)
{
	if (user == NULL)
		return put_str(b, "scheme", "none");
	return put_str(b, "scheme", "basic") ||
	       put_str(b, "principal", user) ||
	       put_str(b, "credentials", password != NULL ? password : "");
}

/* HELLO {user_agent, [bolt_agent], [routing], [auth ≤ 5.0]}. */
static int hello(struct client *c, const char *user, const char *password,
		 const char *routing)
{
	const char *agent = "graft-shell/" PACKAGE_VERSION;
	bool auth_inside = c->major < 5 || (c->major == 5 && c->minor == 0);
	bool agent_map = c->major == 5 && c->minor >= 3;
	size_t n = 1 + agent_map + (routing != NULL) +
		   (auth_inside ? (user != NULL ? 3 : 1) : 0);
	struct graft_buf *b = &c->msg;

	if (begin_message(c, MSG_HELLO, 1) || pack_map_header(b, n) ||
	    put_str(b, "user_agent", agent))
		return GRAFT_ENOMEM;
	if (agent_map && (pack_cstring(b, "bolt_agent") ||
			  pack_map_header(b, 1) ||
			  put_str(b, "product", agent)))
		return GRAFT_ENOMEM;
	if (routing != NULL &&
	    (pack_cstring(b, "routing") || pack_map_header(b, 1) ||
	     put_str(b, "address", routing)))
		return GRAFT_ENOMEM;
	if (auth_inside && put_auth(b, user, password))
		return GRAFT_ENOMEM;
	return end_message(c);
}

static int logon(struct client *c, const char *user, const char *password)
{
	if (begin_message(c, MSG_LOGON, 1) ||
	    pack_map_header(&c->msg, user != NULL ? 3 : 1) ||
	    put_auth(&c->msg, user, password))
		return GRAFT_ENOMEM;
	return end_message(c);
}

int client_login(struct client *c, const char *user, const char *password,
		 const char *routing_address, struct client_error *e)
{
	bool split = c->major > 5 || (c->major == 5 && c->minor >= 1);
	struct graft_value meta;
	const struct graft_value *v;
	int rv;

	if (hello(c, user, password, routing_address) ||
	    (split && logon(c, user, password)))
		return fail(e, GRAFT_ENOMEM, "out of memory");
	rv = flush(c, e);
	if (rv == GRAFT_OK)
		rv = recv_summary(c, &meta, e);
	if (rv != GRAFT_OK)
		return rv;
	copy_str(c->server_agent, sizeof c->server_agent,
		 meta_get(&meta, "server"));
	if (split) { /* LOGON's answer tells about the credentials */
		graft_value_free(&meta);
		rv = recv_summary(c, &meta, e);
		if (rv != GRAFT_OK)
			return rv;
	}
	v = meta_get(&meta, "credentials_expired");
	c->credentials_expired = v != NULL && v->type == GRAFT_VALUE_BOOL && v->u.b;
	graft_value_free(&meta);
	return GRAFT_OK;
}

/* Skips the answers still owed (IGNORED, FAILURE) and RESET's SUCCESS. */
static void skip_to_reset(struct client *c, size_t owed)
{
	struct client_error ignore;

	while (owed-- > 0)
		if (recv_message(c, &ignore) != GRAFT_OK)
			return;
	recv_summary(c, NULL, &ignore);
}

/* After a FAILURE: RESET, and its answer. The original error in e is
 * kept. */
static void reset(struct client *c, size_t owed)
{
	struct client_error ignore;

	if (simple(c, MSG_RESET, &ignore) == GRAFT_OK)
		skip_to_reset(c, owed);
}

/* Statements ------------------------------------------------------------- */

static int take_fields(struct client_result *r, const struct graft_value *meta)
{
	const struct graft_value *f = meta_get(meta, "fields");
	const struct graft_value *t = meta_get(meta, "t_first");
	uint32_t i;

	r->t_first = t != NULL && t->type == GRAFT_VALUE_INT ? t->u.i : -1;
	if (f == NULL || f->type != GRAFT_VALUE_LIST)
		return GRAFT_OK;
	r->fields = calloc(f->u.list->len + 1, sizeof *r->fields);
	if (r->fields == NULL)
		return GRAFT_ENOMEM;
	for (i = 0; i < f->u.list->len; i++) {
		const struct graft_value *s = &f->u.list->items[i];

		r->fields[i] = strdup(s->type == GRAFT_VALUE_STRING
					      ? s->u.s->data
					      : "?");
		if (r->fields[i] == NULL)
			return GRAFT_ENOMEM;
		r->nfields = i + 1;
	}
	return GRAFT_OK;
}

static int run_message(struct client *c, const char *query, size_t len,
		       const struct graft_value *params, const char *db)
{
	struct graft_buf *b = &c->msg;

	if (begin_message(c, MSG_RUN, 3) || pack_string(b, query, len))
		return GRAFT_ENOMEM;
	if (params != NULL ? pack_value(b, params, NULL)
			   : pack_map_header(b, 0))
		return GRAFT_ENOMEM;
	if (db != NULL ? pack_map_header(b, 1) || put_str(b, "db", db)
		       : pack_map_header(b, 0))
		return GRAFT_ENOMEM;
	if (end_message(c) || begin_message(c, MSG_PULL, 1) ||
	    pack_map_header(b, 1) || pack_cstring(b, "n") || pack_int(b, -1))
		return GRAFT_ENOMEM;
	return end_message(c);
}

/* Reads RECORDs up to PULL's summary. Once interrupted, the records still
 * on their way (those the server sent before it saw RESET) are read and
 * dropped: nothing more is shown. */
static int pull(struct client *c, struct client_result *r,
		struct client_error *e)
{
	int rv;

	for (;;) {
		rv = recv_message(c, e);
		if (rv == GRAFT_OK)
			rv = reset_on_interrupt(c, e);
		if (rv != GRAFT_OK)
			return rv;
		if (c->tag != MSG_RECORD)
			break;
		if (r->row != NULL && !c->reset_sent) {
			rv = r->row(r->arg, &c->body);
			if (rv != GRAFT_OK)
				return fail(e, rv, "cannot show a row: %s",
					    graft_strerror(rv));
		}
	}
	if (c->tag != MSG_SUCCESS)
		return server_error(c, e);
	return read_meta(c, &r->summary, e);
}

int client_run(struct client *c, const char *query, size_t len,
	       const struct graft_value *params, const char *db, bool in_tx,
	       struct client_result *r, struct client_error *e)
{
	struct graft_value meta;
	size_t owed = 1; /* PULL's answer, until read */
	int rv;

	r->summary = graft_value_null();
	c->reset_sent = false;
	c->interrupted = false;
	if (run_message(c, query, len, params, in_tx ? NULL : db))
		return fail(e, GRAFT_ENOMEM, "out of memory");
	rv = flush(c, e);
	if (rv == GRAFT_OK)
		rv = recv_summary(c, &meta, e);
	if (rv == GRAFT_OK) {
		rv = take_fields(r, &meta);
		graft_value_free(&meta);
		if (rv != GRAFT_OK)
			return fail(e, rv, "out of memory");
		rv = pull(c, r, e);
		owed = 0;
	}
	c->interrupted = c->reset_sent;
	if (c->reset_sent)
		skip_to_reset(c, owed);
	else if (rv == GRAFT_EINVAL && e->code[0] != '\0')
		reset(c, owed);
	c->reset_sent = false;
	return rv;
}

int client_begin(struct client *c, const char *db, struct client_error *e)
{
	struct graft_buf *b = &c->msg;
	int rv;

	if (begin_message(c, MSG_BEGIN, 1) ||
	    (db != NULL ? pack_map_header(b, 1) || put_str(b, "db", db)
			: pack_map_header(b, 0)) ||
	    end_message(c))
		return fail(e, GRAFT_ENOMEM, "out of memory");
	rv = flush(c, e);
	if (rv == GRAFT_OK)
		rv = recv_summary(c, NULL, e);
	if (rv == GRAFT_EINVAL && e->code[0] != '\0')
		reset(c, 0);
	return rv;
}

static int end_tx(struct client *c, uint8_t tag, struct client_error *e)
{
	int rv = simple(c, tag, e);

	if (rv == GRAFT_OK)
		rv = recv_summary(c, NULL, e);
	if (rv == GRAFT_EINVAL && e->code[0] != '\0')
		reset(c, 0);
	return rv;
}

int client_commit(struct client *c, struct client_error *e)
{
	return end_tx(c, MSG_COMMIT, e);
}

int client_rollback(struct client *c, struct client_error *e)
{
	return end_tx(c, MSG_ROLLBACK, e);
}

void client_close(struct client *c)
{
	struct client_error ignore;

	if (c->fd >= 0) {
		simple(c, MSG_GOODBYE, &ignore);
		close(c->fd);
		c->fd = -1;
	}
	graft_buf_free(&c->msg);
	graft_buf_free(&c->wire);
	graft_buf_free(&c->in);
	graft_buf_free(&c->rx);
}
