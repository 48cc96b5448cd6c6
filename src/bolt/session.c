/* The Bolt server state machine and the connection-level messages (HELLO,
 * LOGON, LOGOFF, RESET, GOODBYE, ROUTE, TELEMETRY); transactions and results
 * are in query.c.
 *
 * Every request is checked against the table of states it is valid in.
 * In FAILED, and in INTERRUPTED (a RESET was seen queued behind a request
 * that blocked, see bolt_session_interrupt), everything but RESET and
 * GOODBYE is IGNORED. A request that is
 * invalid in the current state, or a message that is not Bolt, is a
 * protocol violation: FAILURE Neo.ClientError.Request.Invalid, then close.
 * A failure before authentication closes too; after it, FAILURE drops the
 * open transaction and the session waits in FAILED for RESET. */
#include "session_int.h"

#include <graft.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/err.h"
#include "wire.h"

#define ST(x) (1u << BOLT_##x)
#define ANY_STATE ((1u << BOLT_STATE_COUNT) - 1)

static const char *const state_names[BOLT_STATE_COUNT] = {
	"NEGOTIATION", "AUTHENTICATION", "READY", "STREAMING",
	"TX_READY", "TX_STREAMING", "FAILED", "INTERRUPTED", "DEFUNCT",
};

/* FAILED and INTERRUPTED answer IGNORED to all but RESET and GOODBYE. */
static bool ignoring(const struct bolt_session *s)
{
	return s->state == BOLT_FAILED || s->state == BOLT_INTERRUPTED;
}

int bolt_step_of(int rv)
{
	return rv == GRAFT_OK ? BOLT_STEP_DONE : BOLT_STEP_CLOSE;
}

int bolt_put_str(struct graft_buf *b, const char *key, const char *value)
{
	int rv = pack_cstring(b, key);

	return rv != GRAFT_OK ? rv : pack_cstring(b, value);
}

int bolt_put_int(struct graft_buf *b, const char *key, int64_t value)
{
	int rv = pack_cstring(b, key);

	return rv != GRAFT_OK ? rv : pack_int(b, value);
}

void bolt_drop_tx(struct bolt_session *s)
{
	if (s->result != NULL)
		cypher_result_close(s->result);
	s->result = NULL;
	bolt_parked_free_all(s);
	if (s->tx != NULL)
		cypher_tx_rollback(s->tx);
	s->tx = NULL;
	graft_value_free(&s->summary.plan);
}

/* code is text because bolt_fail_error forwards a cypher_error's. */
static int fail_with_code(struct bolt_session *s, const char *code,
			  const char *message)
{
	int rv = bolt_write_failure(s->out, code, message);

	bolt_drop_tx(s);
	if (!s->authenticated || rv != GRAFT_OK) {
		s->state = BOLT_DEFUNCT;
		return BOLT_STEP_CLOSE;
	}
	s->state = BOLT_FAILED;
	return BOLT_STEP_DONE;
}

int bolt_fail(struct bolt_session *s, enum graft_status status,
	      const char *message)
{
	return fail_with_code(s, graft_status_code(status), message);
}

int bolt_fail_error(struct bolt_session *s, const struct cypher_error *e)
{
	/* A code is what drivers classify errors by; never send none. */
	return fail_with_code(s,
			      e->code[0] != '\0'
				      ? e->code
				      : graft_status_code(GRAFT_STATUS_UNKNOWN_ERROR),
			      e->message);
}

static int protocol_violation(struct bolt_session *s, const char *message)
{
	bolt_write_failure(s->out, graft_status_code(GRAFT_STATUS_REQUEST_INVALID),
			   message);
	bolt_drop_tx(s);
	s->state = BOLT_DEFUNCT;
	return BOLT_STEP_CLOSE;
}

static void finish_close(struct bolt_session *s);

/* Jobs ---------------------------------------------------------------------
 * A statement executes on a worker thread: the session hands it the
 * request and its output goes to job_out, so the loop never touches the
 * session's transaction or writes meanwhile (it only terminates the
 * transaction, by id, for a RESET or a close). When the job is done the
 * loop appends its output and goes on as if the step had been returned. */

static void job_work_cb(struct graft_work *w)
{
	struct bolt_session *s = w->data;

	s->job_step = s->job_fn(s);
}

static void job_done_cb(struct graft_work *w)
{
	struct bolt_session *s = w->data;
	int rv;

	s->wait = BOLT_WAIT_NONE;
	s->out = s->conn_out;
	rv = graft_buf_append(s->out, s->job_out.data, s->job_out.len);
	graft_buf_reset(&s->job_out);
	if (s->closing) {
		finish_close(s);
		return;
	}
	bolt_wake(s, rv != GRAFT_OK ? BOLT_STEP_CLOSE
				    : bolt_after_job(s, s->job_step));
}

int bolt_after_job(struct bolt_session *s, int step)
{
	if (s->read_ended) {
		s->read_ended = false;
		return bolt_finish_read(s);
	}
	if (!s->commit_after_job)
		return step;
	s->commit_after_job = false;
	return bolt_start_commit(s);
}

int bolt_job(struct bolt_session *s, int (*fn)(struct bolt_session *s))
{
	if (s->env->pool == NULL)
		return bolt_after_job(s, fn(s));
	s->job_fn = fn;
	snprintf(s->job_tx, sizeof s->job_tx, "%s",
		 s->tx != NULL ? cypher_tx_id(s->tx) : "");
	/* published to the worker by the submit */
	s->job_tx_ready = s->tx != NULL;
	s->job_cancel = 0;
	s->conn_out = s->out;
	s->out = &s->job_out;
	s->job.data = s;
	s->job.work_cb = job_work_cb;
	s->job.done_cb = job_done_cb;
	s->wait = BOLT_WAIT_JOB;
	graft_pool_submit(s->env->pool, &s->job);
	return BOLT_STEP_WAIT;
}

/* The loop says it wants the job stopped, then looks for an id; a job
 * that begins its transaction publishes the id, then looks whether it was
 * asked (query.c, job_publish_tx): both sequentially consistent, so at
 * least one of them sees the other and the transaction is terminated. */
void bolt_job_terminate(struct bolt_session *s)
{
	__atomic_store_n(&s->job_cancel, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&s->job_tx_ready, __ATOMIC_SEQ_CST))
		cypher_tx_terminate_id(s->env->engine, s->job_tx);
}

void bolt_wake(struct bolt_session *s, int step)
{
	if (s->closing)
		finish_close(s);
	else
		s->wake_cb(s, step);
}

/* HELLO and LOGON ------------------------------------------------------- */

static int write_hello_success(struct bolt_session *s, bool patch_utc)
{
	struct graft_buf *b = s->out;
	char id[32];
	size_t start;
	int rv;

	snprintf(id, sizeof id, "bolt-%llu", (unsigned long long)s->id);
	rv = bolt_response_begin(b, BOLT_SUCCESS, 1, &start);
	if (rv == GRAFT_OK)
		rv = pack_map_header(b, patch_utc ? 4 : 3);
	if (rv == GRAFT_OK)
		rv = bolt_put_str(b, "server", GRAFT_SERVER_AGENT);
	if (rv == GRAFT_OK)
		rv = bolt_put_str(b, "connection_id", id);
	if (rv == GRAFT_OK)
		rv = pack_cstring(b, "hints");
	if (rv == GRAFT_OK)
		rv = pack_map_header(b, 0);
	if (rv == GRAFT_OK && patch_utc) {
		rv = pack_cstring(b, "patch_bolt");
		if (rv == GRAFT_OK)
			rv = pack_list_header(b, 1);
		if (rv == GRAFT_OK)
			rv = pack_cstring(b, "utc");
	}
	return rv != GRAFT_OK ? rv : bolt_response_end(b, start);
}

/* Ends a login: HELLO's SUCCESS before 5.1 (auth is part of HELLO),
 * LOGON's SUCCESS {} from 5.1. */
static int finish_auth(struct bolt_session *s, int status)
{
	int rv;

	if (status != GRAFT_OK)
		return bolt_fail_error(s, &s->auth.error);
	s->authenticated = true;
	s->credentials_expired = s->auth.credentials_expired;
	s->state = BOLT_READY;
	if (s->version < BOLT_VERSION(5, 1))
		rv = write_hello_success(s, s->utc &&
					 s->version < BOLT_VERSION(5, 0));
	else
		rv = bolt_write_success_empty(s->out);
	return bolt_step_of(rv);
}

static void auth_cb(struct security_req *req, int status)
{
	struct bolt_session *s = req->data;

	s->wait = BOLT_WAIT_NONE;
	if (s->closing) {
		finish_close(s);
		return;
	}
	bolt_wake(s, finish_auth(s, status));
}

static const char *map_str(const struct bolt_request *r, const char *key)
{
	const struct graft_value *v = bolt_field(r, 0, key, GRAFT_VALUE_STRING);

	return v != NULL ? v->u.s->data : NULL;
}

/* The length of a string field map_str found (strings may hold NULs). */
static size_t map_len(const struct bolt_request *r, const char *key)
{
	return bolt_field(r, 0, key, GRAFT_VALUE_STRING)->u.s->len;
}

static int unauthorized(struct bolt_session *s, const char *message)
{
	cypher_error_set(&s->auth.error, GRAFT_STATUS_UNAUTHORIZED, "%s",
			 message);
	return finish_auth(s, GRAFT_EINVAL);
}

/* The auth token is field 0 of r (LOGON, or HELLO before 5.1). */
static int start_auth(struct bolt_session *s, const struct bolt_request *r)
{
	const char *scheme = map_str(r, "scheme");
	const char *user = map_str(r, "principal");
	const char *password = map_str(r, "credentials");
	char msg[256];

	memset(&s->auth.error, 0, sizeof s->auth.error);
	s->auth.credentials_expired = false;
	snprintf(s->user, sizeof s->user, "%s", user != NULL ? user : "");
	if (s->env->security == NULL ||
	    !security_auth_enabled(s->env->security))
		return finish_auth(s, GRAFT_OK);
	if (scheme == NULL || strcmp(scheme, "basic") != 0) {
		snprintf(msg, sizeof msg,
			 "Unsupported authentication token, scheme '%.40s' is "
			 "only allowed when auth is disabled; log in with a "
			 "user name and password (scheme 'basic')",
			 scheme != NULL ? scheme : "none");
		return unauthorized(s, msg);
	}
	if (user == NULL || password == NULL || strlen(user) >= sizeof s->user)
		return unauthorized(s, "The client is unauthorized due to "
				       "authentication failure.");
	s->auth.data = s;
	s->wait = BOLT_WAIT_AUTH;
	if (security_authenticate(s->env->security, &s->auth, user,
				  map_len(r, "principal"), password,
				  map_len(r, "credentials"), auth_cb) != GRAFT_OK) {
		s->wait = BOLT_WAIT_NONE;
		return finish_auth(s, GRAFT_EINVAL);
	}
	return BOLT_STEP_WAIT;
}

static bool asks_utc_patch(const struct bolt_request *r)
{
	const struct graft_value *p = bolt_field(r, 0, "patch_bolt",
						 GRAFT_VALUE_LIST);

	for (uint32_t i = 0; p != NULL && i < p->u.list->len; i++) {
		const struct graft_value *v = &p->u.list->items[i];
		if (v->type == GRAFT_VALUE_STRING && strcmp(v->u.s->data, "utc") == 0)
			return true;
	}
	return false;
}

static void set_utc(struct bolt_session *s, bool utc)
{
	s->utc = utc;
	s->pack.flags = utc ? PACK_UTC_DATETIME : 0;
}

static int handle_hello(struct bolt_session *s, struct bolt_request *r)
{
	if (s->version < BOLT_VERSION(5, 0))
		set_utc(s, asks_utc_patch(r));
	if (s->version < BOLT_VERSION(5, 1))
		return start_auth(s, r);
	s->state = BOLT_AUTHENTICATION;
	return bolt_step_of(write_hello_success(s, false));
}

static int handle_logon(struct bolt_session *s, struct bolt_request *r)
{
	return start_auth(s, r);
}

static int handle_logoff(struct bolt_session *s, struct bolt_request *r)
{
	(void)r;
	bolt_forward_logoff(s);
	s->authenticated = false;
	s->credentials_expired = false;
	s->user[0] = '\0';
	s->state = BOLT_AUTHENTICATION;
	return bolt_step_of(bolt_write_success_empty(s->out));
}

/* RESET, GOODBYE, TELEMETRY, ROUTE -------------------------------------- */

static int handle_reset(struct bolt_session *s, struct bolt_request *r)
{
	(void)r;
	bolt_drop_tx(s);
	s->state = s->authenticated ? BOLT_READY : BOLT_AUTHENTICATION;
	return bolt_step_of(bolt_write_success_empty(s->out));
}

static int handle_goodbye(struct bolt_session *s, struct bolt_request *r)
{
	(void)r;
	bolt_drop_tx(s);
	s->state = BOLT_DEFUNCT;
	return BOLT_STEP_CLOSE;
}

static int handle_telemetry(struct bolt_session *s, struct bolt_request *r)
{
	if (r->f[0].u.i < 0 || r->f[0].u.i > 3)
		return bolt_fail(s, GRAFT_STATUS_REQUEST_INVALID,
				 "TELEMETRY api must be 0 (managed "
				 "transaction), 1 (explicit), 2 (implicit) or "
				 "3 (executeQuery)");
	return bolt_step_of(bolt_write_success_empty(s->out));
}

/* SUCCESS {rt: {ttl, db, servers}}. The bookmarks are not waited for: the
 * table does not depend on what this member has applied. */
static int write_route(struct bolt_session *s, const char *db,
		       const struct bolt_route_table *t)
{
	struct graft_buf *b = s->out;
	struct graft_value servers;
	size_t start;
	int rv = bolt_route_servers(t, &servers);

	if (rv != GRAFT_OK)
		return rv;
	rv = bolt_response_begin(b, BOLT_SUCCESS, 1, &start);
	if (rv == GRAFT_OK)
		rv = pack_map_header(b, 1);
	if (rv == GRAFT_OK)
		rv = pack_cstring(b, "rt");
	if (rv == GRAFT_OK)
		rv = pack_map_header(b, 3);
	if (rv == GRAFT_OK)
		rv = bolt_put_int(b, "ttl", (int64_t)s->env->cfg.routing_ttl_s);
	if (rv == GRAFT_OK)
		rv = bolt_put_str(b, "db", db);
	if (rv == GRAFT_OK)
		rv = pack_cstring(b, "servers");
	if (rv == GRAFT_OK)
		rv = pack_value(b, &servers, NULL);
	graft_value_free(&servers);
	return rv != GRAFT_OK ? rv : bolt_response_end(b, start);
}

static int handle_route(struct bolt_session *s, struct bolt_request *r)
{
	struct dbms *m = cypher_engine_dbms(s->env->engine);
	const struct graft_value *dbv = bolt_field(r, 2, "db",
						   GRAFT_VALUE_STRING);
	const char *db = dbv != NULL && dbv->u.s->len > 0 ? dbv->u.s->data
							  : dbms_default_db(m);
	const struct graft_value *ctx = r->f[0].type == GRAFT_VALUE_MAP
						? &r->f[0]
						: NULL;
	struct bolt_route_table t;
	struct cypher_error e;

	if (!bolt_no_impersonation(r, 2, &e) ||
	    bolt_route_lookup(s->env, db, ctx, &t, &e) != GRAFT_OK)
		return bolt_fail_error(s, &e);
	return bolt_step_of(write_route(s, db, &t));
}

/* Dispatch ---------------------------------------------------------------- */

struct handler {
	uint8_t sig;
	unsigned states; /* where the request is valid */
	int (*fn)(struct bolt_session *s, struct bolt_request *r);
};

/* The rows of message.h's BOLT_REQUESTS, so that every request the
 * decoder accepts has a handler. */
static const struct handler handlers[] = {
#define BOLT_HANDLER_ROW(sig, since, fields, name, states, handler)            \
	{sig, states, handler},
	BOLT_REQUESTS(BOLT_HANDLER_ROW)
#undef BOLT_HANDLER_ROW
};

static const struct handler *find_handler(uint8_t sig)
{
	for (size_t i = 0; i < sizeof handlers / sizeof *handlers; i++)
		if (handlers[i].sig == sig)
			return &handlers[i];
	return NULL;
}

static int dispatch(struct bolt_session *s, struct bolt_request *r)
{
	const struct handler *h = find_handler(r->sig);
	char msg[256];

	if (ignoring(s) && r->sig != BOLT_RESET && r->sig != BOLT_GOODBYE)
		return bolt_step_of(bolt_write_ignored(s->out));
	/* Unreachable while decoding and dispatch read the same table; kept
	 * so that a message without a handler closes instead of crashing. */
	if (h == NULL) {
		snprintf(msg, sizeof msg,
			 "Message 0x%02X is not a request graft handles.",
			 r->sig);
		return protocol_violation(s, msg);
	}
	if ((h->states & (1u << s->state)) == 0) {
		snprintf(msg, sizeof msg,
			 "Message %s cannot be handled by a session in the "
			 "%s state.",
			 bolt_request_name(r->sig), state_names[s->state]);
		return protocol_violation(s, msg);
	}
	return h->fn(s, r);
}

int bolt_session_handle(struct bolt_session *s, const uint8_t *msg,
			size_t len, bool too_big)
{
	char errmsg[GRAFT_ERRMSG_SIZE];
	struct bolt_request r;
	bool local = true;
	int rv, step = BOLT_STEP_DONE;

	if (s->forwarding && !too_big &&
	    !(len >= 2 && msg[1] == BOLT_GOODBYE))
		return bolt_forward_relay(s, msg, len);
	if (s->forwarding && too_big) /* answers must stay in order */
		return protocol_violation(
			s, "Request larger than server.bolt.max_message_size "
			   "in a transaction forwarded to the leader; the "
			   "connection closes");
	if (too_big) {
		snprintf(errmsg, sizeof errmsg,
			 "Request of more than %zu bytes refused; send "
			 "smaller parameters (for example in batches)",
			 s->env->cfg.max_message);
		return ignoring(s)
			       ? bolt_step_of(bolt_write_ignored(s->out))
			       : bolt_fail(s, GRAFT_STATUS_REQUEST_INVALID,
					   errmsg);
	}
	rv = bolt_request_decode(s->version, msg, len, &r, errmsg);
	if (rv == GRAFT_EINVAL || rv == GRAFT_ETOOBIG)
		return ignoring(s)
			       ? bolt_step_of(bolt_write_ignored(s->out))
			       : bolt_fail(s, GRAFT_STATUS_REQUEST_INVALID,
					   errmsg);
	if (rv != GRAFT_OK)
		return protocol_violation(s, errmsg);
	if (r.sig == BOLT_HELLO || r.sig == BOLT_LOGON)
		bolt_forward_keep_login(s, r.sig, msg, len);
	if (s->state == BOLT_READY &&
	    (r.sig == BOLT_BEGIN || r.sig == BOLT_RUN))
		step = bolt_forward_start(s, &r, msg, len, &local);
	if (local)
		step = dispatch(s, &r);
	bolt_request_free(&r);
	return step;
}

int bolt_session_resume(struct bolt_session *s)
{
	if (s->forwarding)
		return bolt_forward_resume(s);
	return bolt_job(s, bolt_stream);
}

int bolt_session_interrupt(struct bolt_session *s, bool full)
{
	if (s->forwarding) /* the RESET goes to the leader in its turn */
		return bolt_forward_step(s);
	if (s->wait == BOLT_WAIT_JOB) {
		bolt_job_terminate(s);
		return BOLT_STEP_WAIT;
	}
	if (!full && s->wait != BOLT_WAIT_BOOKMARK)
		return BOLT_STEP_WAIT;
	if (!full) {
		bolt_bookmarks_stop_wait(s);
		bolt_bookmarks_clear(s);
		bolt_request_free(&s->pending);
	}
	bolt_drop_tx(s);
	s->state = BOLT_INTERRUPTED;
	return bolt_step_of(bolt_write_ignored(s->out));
}

bool bolt_session_authenticated(const struct bolt_session *s)
{
	return s->authenticated;
}

bool bolt_session_waiting(const struct bolt_session *s)
{
	return s->wait != BOLT_WAIT_NONE;
}

void *bolt_session_data(const struct bolt_session *s)
{
	return s->data;
}

int bolt_session_new(struct bolt_env *env, uint32_t version, uint64_t id,
		     struct graft_buf *out,
		     void (*wake_cb)(struct bolt_session *s, int step),
		     void *data, struct bolt_session **out_session)
{
	struct bolt_session *s = calloc(1, sizeof *s);

	if (s == NULL)
		return GRAFT_ENOMEM;
	s->env = env;
	s->version = version;
	s->id = id;
	s->out = out;
	s->wake_cb = wake_cb;
	s->data = data;
	s->state = BOLT_NEGOTIATION;
	set_utc(s, version >= BOLT_VERSION(5, 0));
	graft_buf_init(&s->job_out);
	graft_buf_init(&s->hello_raw);
	graft_buf_init(&s->logon_raw);
	s->pack.entity = bolt_pack_entity;
	s->pack.arg = s;
	uv_timer_init(env->loop, &s->timer);
	s->timer.data = s;
	*out_session = s;
	return GRAFT_OK;
}

static void timer_close_cb(uv_handle_t *h)
{
	struct bolt_session *s = h->data;

	if (s->closed_cb != NULL)
		s->closed_cb(s->closed_data);
	graft_buf_free(&s->job_out);
	free(s);
}

static void finish_close(struct bolt_session *s)
{
	if (s->wait == BOLT_WAIT_AUTH || s->wait == BOLT_WAIT_COMMIT ||
	    s->wait == BOLT_WAIT_JOB)
		return; /* their callbacks come back here */
	bolt_request_free(&s->pending);
	bolt_bookmarks_clear(s);
	bolt_drop_tx(s);
	uv_close((uv_handle_t *)&s->timer, timer_close_cb);
}

void bolt_session_close(struct bolt_session *s,
			void (*closed_cb)(void *data), void *data)
{
	s->closing = true;
	bolt_forward_release(s);
	s->closed_cb = closed_cb;
	s->closed_data = data;
	if (s->wait == BOLT_WAIT_BOOKMARK)
		bolt_bookmarks_stop_wait(s);
	if (s->wait == BOLT_WAIT_JOB) /* a client gone: its statement stops */
		bolt_job_terminate(s);
	finish_close(s);
}
