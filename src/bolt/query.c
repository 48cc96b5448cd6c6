/* Transactions and results: BEGIN, RUN, PULL, DISCARD, COMMIT, ROLLBACK and
 * bookmarks.
 *
 * Auto-commit (RUN in READY): wait for the bookmarks, open a transaction,
 * run, answer {fields, t_first}; PULLs stream records; at the end of the
 * result the transaction commits and only when that is durable does the
 * last PULL get its SUCCESS with the new bookmark. Explicit (BEGIN): the
 * same without the commit, which COMMIT makes, answering {bookmark}.
 * Bookmarks are "<database>:<database id>:<transaction id>" (session_int.h;
 * the older "<database>:<transaction id>" is still taken); a request
 * carrying one this server has not applied yet waits up to
 * bookmark_timeout_ms, woken by the database when it applies the
 * transaction (db_watch), not by polling. A bookmark of a database that was
 * dropped (a database of that name here has a newer id) fails with
 * DatabaseNotFound, as in Neo4j, whose bookmarks carry the database's id:
 * the new database's transactions are not the ones it names. A member that
 * still has the older database of that name waits until it is dropped. */
#include "session_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../util/err.h"
#include "wire.h"

static uint64_t ms_since(uint64_t start_ns)
{
	return (uv_hrtime() - start_ns) / 1000000;
}

/* Whether the query starts with the words given (case-insensitive, any
 * whitespace between). */
static bool starts_with_words(const struct graft_str *q,
			      const char *const *words)
{
	size_t i = 0;

	for (; *words != NULL; words++) {
		size_t n = strlen(*words);
		while (i < q->len && isspace((unsigned char)q->data[i]))
			i++;
		if (q->len - i < n || strncasecmp(q->data + i, *words, n) != 0)
			return false;
		i += n;
		if (i < q->len && !isspace((unsigned char)q->data[i]) &&
		    words[1] != NULL)
			return false;
	}
	return true;
}

/* Rows are read holding the gate shared: no commit is applied between two
 * rows of a batch. */
static void gate_shared(struct bolt_session *s)
{
	if (s->env->gate != NULL && s->env->pool != NULL)
		graft_gate_enter_shared(s->env->gate);
}

static void gate_leave(struct bolt_session *s)
{
	if (s->env->gate != NULL && s->env->pool != NULL)
		graft_gate_leave(s->env->gate);
}

/* Bookmarks ----------------------------------------------------------------- */

void bolt_bookmarks_clear(struct bolt_session *s)
{
	free(s->bookmarks);
	s->bookmarks = NULL;
	s->nbookmarks = 0;
}

/* Digits from p up to end into *out; false when there are none, or
 * anything else, or too many. */
static bool parse_u64(const char *p, const char *end, uint64_t *out)
{
	*out = 0;
	if (p == end)
		return false;
	for (; p < end; p++) {
		if (!isdigit((unsigned char)*p) || *out > UINT64_MAX / 10 - 1)
			return false;
		*out = *out * 10 + (uint64_t)(*p - '0');
	}
	return true;
}

static bool parse_bookmark(const struct graft_value *v, struct bolt_bookmark *b)
{
	const char *s, *end, *colon, *id;
	size_t dblen;

	if (v->type != GRAFT_VALUE_STRING)
		return false;
	s = v->u.s->data;
	end = s + v->u.s->len;
	colon = strrchr(s, ':');
	if (colon == NULL || strlen(s) != v->u.s->len ||
	    !parse_u64(colon + 1, end, &b->txid))
		return false;
	/* the id's digits, after a ':' (database names have none:
	 * dbms_check_name) */
	for (id = colon; id > s && id[-1] != ':'; id--)
		;
	b->has_id = id > s;
	b->db_id = 0;
	if (b->has_id && !parse_u64(id, colon, &b->db_id))
		return false;
	dblen = (size_t)((b->has_id ? id - 1 : colon) - s);
	if (dblen == 0 || dblen >= sizeof b->db)
		return false;
	memcpy(b->db, s, dblen);
	b->db[dblen] = '\0';
	return true;
}

/* What bookmark b asks of this server now. */
enum bookmark_need {
	BOOKMARK_MET,   /* applied, or its database is not here */
	BOOKMARK_WAIT,  /* *dbp until it applies *txid (or closes) */
	BOOKMARK_STALE, /* its database was dropped: a newer one has the name */
};

static enum bookmark_need bookmark_need(struct dbms *m,
					const struct bolt_bookmark *b,
					struct db **dbp, uint64_t *txid)
{
	struct db *db = dbms_get(m, b->db);
	uint64_t id = dbms_origin(m, b->db);

	if (db == NULL)
		return BOOKMARK_MET; /* no reason to wait */
	if (b->has_id && id > b->db_id)
		return BOOKMARK_STALE;
	*dbp = db;
	/* An older database of that name: this member has not applied the
	 * bookmark's CREATE DATABASE yet; the watch ends when it is dropped. */
	*txid = b->has_id && id < b->db_id ? UINT64_MAX : b->txid;
	return db_last_txid(db) >= *txid ? BOOKMARK_MET : BOOKMARK_WAIT;
}

/* The first bookmark this server has not met yet, with what it needs, or
 * NULL. */
static const struct bolt_bookmark *first_unmet(struct bolt_session *s,
					       enum bookmark_need *need,
					       struct db **dbp, uint64_t *txid)
{
	struct dbms *m = cypher_engine_dbms(s->env->engine);

	for (size_t i = 0; i < s->nbookmarks; i++) {
		*need = bookmark_need(m, &s->bookmarks[i], dbp, txid);
		if (*need != BOOKMARK_MET)
			return &s->bookmarks[i];
	}
	return NULL;
}

void bolt_bookmarks_stop_wait(struct bolt_session *s)
{
	uv_timer_stop(&s->timer);
	db_unwatch(&s->bookmark_watch);
	s->wait = BOLT_WAIT_NONE;
}

/* Fails the waiting request with code and msg. */
static int bookmark_fail(struct bolt_session *s, enum graft_status status,
			 const char *msg)
{
	bolt_bookmarks_stop_wait(s);
	bolt_bookmarks_clear(s);
	bolt_request_free(&s->pending);
	return bolt_fail(s, status, msg);
}

static void bookmark_applied_cb(struct db_watch *w, int status);

/* Whether bookmark_fail answered the request (its step is DONE then). */
static bool bookmark_failed(const struct bolt_session *s)
{
	return s->state == BOLT_FAILED || s->state == BOLT_DEFUNCT;
}

/* Fails the waiting request: b names a database dropped since. */
static int bookmark_stale(struct bolt_session *s,
			  const struct bolt_bookmark *b)
{
	char msg[GRAFT_ERRMSG_SIZE];

	snprintf(msg, sizeof msg,
		 "Database '%s' of the bookmark (database id %llu) does not "
		 "exist: it was dropped, and '%s' is now another database "
		 "(id %llu). Start a new session without the old bookmarks",
		 b->db, (unsigned long long)b->db_id, b->db,
		 (unsigned long long)dbms_origin(
			 cypher_engine_dbms(s->env->engine), b->db));
	return bookmark_fail(s, GRAFT_STATUS_DATABASE_NOT_FOUND, msg);
}

/* Watches the first bookmark not applied yet. BOLT_STEP_DONE when none is
 * left (the wait is over), BOLT_STEP_WAIT while watching, or the failure's
 * step when that database is shutting down or the bookmark's was dropped. */
static int bookmark_watch_next(struct bolt_session *s)
{
	char msg[GRAFT_ERRMSG_SIZE];
	const struct bolt_bookmark *b;
	enum bookmark_need need;
	struct db *db;
	uint64_t txid;

	b = first_unmet(s, &need, &db, &txid);
	if (b == NULL) {
		bolt_bookmarks_stop_wait(s);
		bolt_bookmarks_clear(s);
		return BOLT_STEP_DONE;
	}
	if (need == BOOKMARK_STALE)
		return bookmark_stale(s, b);
	s->bookmark_watch.data = s;
	if (db_watch(db, &s->bookmark_watch, txid, bookmark_applied_cb) ==
	    GRAFT_OK)
		return BOLT_STEP_WAIT;
	snprintf(msg, sizeof msg,
		 "Database '%s' is shutting down before it reached "
		 "transaction %llu of the bookmark; retry once it is "
		 "available", b->db, (unsigned long long)b->txid);
	return bookmark_fail(s, GRAFT_STATUS_DATABASE_UNAVAILABLE,
			     msg);
}

/* The watched transaction was applied (or its database closed: looked up
 * again); the next bookmark, or the request that waited. */
static void bookmark_applied_cb(struct db_watch *w, int status)
{
	struct bolt_session *s = w->data;
	int step;

	(void)status;
	step = bookmark_watch_next(s);
	if (step == BOLT_STEP_WAIT)
		return;
	bolt_wake(s, step == BOLT_STEP_DONE && !bookmark_failed(s)
			     ? bolt_continue_pending(s)
			     : step);
}

static void bookmark_timer_cb(uv_timer_t *t)
{
	struct bolt_session *s = t->data;
	const struct bolt_bookmark *b;
	char msg[GRAFT_ERRMSG_SIZE];
	enum bookmark_need need;
	struct db *db;
	uint64_t txid;

	b = first_unmet(s, &need, &db, &txid);
	if (b == NULL) { /* applied, its watch not yet called back */
		bolt_bookmarks_stop_wait(s);
		bolt_bookmarks_clear(s);
		bolt_wake(s, bolt_continue_pending(s));
		return;
	}
	if (need == BOOKMARK_STALE) {
		bolt_wake(s, bookmark_stale(s, b));
		return;
	}
	snprintf(msg, sizeof msg,
		 "Database '%s' has not reached transaction %llu of the "
		 "bookmark within %llu ms (it is at %llu); retry, or raise "
		 "db.transaction.bookmark_ready_timeout",
		 b->db, (unsigned long long)b->txid,
		 (unsigned long long)s->env->cfg.bookmark_timeout_ms,
		 (unsigned long long)db_last_txid(db));
	bolt_wake(s, bookmark_fail(
			     s, GRAFT_STATUS_BOOKMARK_TIMEOUT,
			     msg));
}

int bolt_bookmarks_await(struct bolt_session *s, const struct graft_value *list,
			 bool *failed)
{
	char msg[GRAFT_ERRMSG_SIZE];
	uint32_t n = list != NULL ? list->u.list->len : 0;
	int step;

	*failed = false;
	if (n == 0)
		return BOLT_STEP_DONE;
	s->bookmarks = calloc(n, sizeof *s->bookmarks);
	if (s->bookmarks == NULL)
		return BOLT_STEP_CLOSE;
	for (s->nbookmarks = 0; s->nbookmarks < n; s->nbookmarks++) {
		const struct graft_value *v = &list->u.list->items[s->nbookmarks];
		if (parse_bookmark(v, &s->bookmarks[s->nbookmarks]))
			continue;
		snprintf(msg, sizeof msg,
			 "Supplied bookmark '%.200s' is not one graft issued "
			 "(<database>:<database id>:<transaction id>); pass "
			 "the bookmarks this server returned",
			 v->type == GRAFT_VALUE_STRING ? v->u.s->data : "?");
		bolt_bookmarks_clear(s);
		*failed = true;
		return bolt_fail(s, GRAFT_STATUS_INVALID_BOOKMARK,
				 msg);
	}
	s->wait = BOLT_WAIT_BOOKMARK;
	uv_timer_start(&s->timer, bookmark_timer_cb,
		       s->env->cfg.bookmark_timeout_ms, 0);
	step = bookmark_watch_next(s);
	*failed = bookmark_failed(s) ||
		  (step != BOLT_STEP_DONE && step != BOLT_STEP_WAIT);
	return step;
}

/* Transactions -------------------------------------------------------------- */

bool bolt_no_impersonation(const struct bolt_request *r, unsigned f,
			   struct cypher_error *e)
{
	const struct graft_value *imp = bolt_field(r, f, "imp_user",
						   GRAFT_VALUE_STRING);

	if (imp == NULL)
		return true;
	cypher_error_set(e, GRAFT_STATUS_FORBIDDEN,
			 "Impersonation (imp_user '%.100s') is not supported "
			 "by graft; open a session as that user instead",
			 imp->u.s->data);
	return false;
}

/* Reads the transaction options of a BEGIN or auto-commit RUN extra map
 * (field f of r). False, with e filled, for a value graft refuses. The
 * strings and metadata of o are borrowed from r until cypher_tx_begin,
 * which copies them. */
static bool tx_options(struct bolt_session *s, const struct bolt_request *r,
		       unsigned f, struct cypher_tx_options *o,
		       struct cypher_error *e)
{
	const struct graft_value *db = bolt_field(r, f, "db", GRAFT_VALUE_STRING);
	const struct graft_value *mode = bolt_field(r, f, "mode",
						    GRAFT_VALUE_STRING);
	const struct graft_value *timeout = bolt_field(r, f, "tx_timeout",
						       GRAFT_VALUE_INT);

	memset(o, 0, sizeof *o);
	o->db = db != NULL && db->u.s->len > 0 ? db->u.s->data : NULL;
	o->mode = mode != NULL && strcmp(mode->u.s->data, "r") == 0
			  ? CYPHER_TX_READ
			  : CYPHER_TX_WRITE;
	o->user = s->user[0] != '\0' ? s->user : NULL;
	o->metadata = bolt_field(r, f, "tx_metadata", GRAFT_VALUE_MAP);
	if (!bolt_no_impersonation(r, f, e))
		return false;
	if (timeout != NULL && timeout->u.i < 0) {
		cypher_error_set(e, GRAFT_STATUS_REQUEST_INVALID,
			 "tx_timeout must be 0 or more milliseconds, not %lld",
			 (long long)timeout->u.i);
		return false;
	}
	o->timeout_ms = timeout != NULL ? (uint64_t)timeout->u.i : 0;
	return true;
}

/* cap_ms: at most that timeout (0: the client's, or the engine's);
 * no_wait: cypher_tx_options.no_wait. */
static int begin_tx(struct bolt_session *s, const struct bolt_request *r,
		    unsigned f, bool autocommit, uint64_t cap_ms, bool no_wait)
{
	struct cypher_tx_options o;
	struct cypher_error e;
	bool ok;

	memset(&e, 0, sizeof e);
	ok = tx_options(s, r, f, &o, &e);
	if (ok && cap_ms > 0 && (o.timeout_ms == 0 || o.timeout_ms > cap_ms))
		o.timeout_ms = cap_ms;
	o.no_wait = no_wait;
	if (!ok || cypher_tx_begin(s->env->engine, &o, &s->tx, &e) != GRAFT_OK) {
		s->tx = NULL;
		return bolt_fail_error(s, &e);
	}
	s->autocommit = autocommit;
	s->tx_in_worker = false;
	s->next_qid = 0;
	s->password_change = false;
	return BOLT_STEP_DONE;
}

static int begin_now(struct bolt_session *s, struct bolt_request *r)
{
	int step = begin_tx(s, r, 0, false, 0, false);

	if (s->tx == NULL)
		return step;
	s->state = BOLT_TX_READY;
	return bolt_step_of(bolt_write_success_empty(s->out));
}

static int run_in_job(struct bolt_session *s, struct bolt_request *r);
static bool run_on_loop(struct bolt_session *s, struct bolt_request *r,
			int *step);

static bool begins_in_job(struct bolt_session *s);

static int run_autocommit(struct bolt_session *s, struct bolt_request *r)
{
	int step;

	if (run_on_loop(s, r, &step))
		return step;
	if (begins_in_job(s)) {
		s->job_begins = true;
		return run_in_job(s, r);
	}
	step = begin_tx(s, r, 2, true, 0, false);
	return s->tx == NULL ? step : run_in_job(s, r);
}

/* Moves r into s->pending when the bookmarks make it wait. */
static int await_then(struct bolt_session *s, struct bolt_request *r,
		      unsigned f,
		      int (*then)(struct bolt_session *, struct bolt_request *))
{
	bool failed;
	int step = bolt_bookmarks_await(
		s, bolt_field(r, f, "bookmarks", GRAFT_VALUE_LIST), &failed);

	if (failed || step == BOLT_STEP_CLOSE)
		return step;
	if (step == BOLT_STEP_DONE)
		return then(s, r);
	s->pending = *r;
	r->nfields = 0;
	return BOLT_STEP_WAIT;
}

int bolt_continue_pending(struct bolt_session *s)
{
	struct bolt_request r = s->pending;
	int step;

	s->pending.nfields = 0;
	step = r.sig == BOLT_BEGIN ? begin_now(s, &r) : run_autocommit(s, &r);
	bolt_request_free(&r);
	return step;
}

int bolt_handle_begin(struct bolt_session *s, struct bolt_request *r)
{
	return await_then(s, r, 0, begin_now);
}

static void commit_cb(struct cypher_commit_req *req, int status);

int bolt_start_commit(struct bolt_session *s)
{
	struct cypher_tx *tx = s->tx;

	s->tx = NULL;
	memset(&s->commit.error, 0, sizeof s->commit.error);
	s->commit.data = s;
	s->wait = BOLT_WAIT_COMMIT;
	if (cypher_tx_commit(tx, &s->commit, commit_cb) != GRAFT_OK) {
		s->wait = BOLT_WAIT_NONE;
		return bolt_fail_error(s, &s->commit.error);
	}
	return BOLT_STEP_WAIT;
}

/* A job: a large transaction's record is built on a worker, then the
 * commit goes on on the loop (bolt_after_job). */
static int prepare_commit(struct bolt_session *s)
{
	gate_shared(s);
	cypher_tx_prepare(s->tx);
	gate_leave(s);
	s->commit_after_job = true;
	return BOLT_STEP_DONE;
}

/* COMMIT with results still open (TX_STREAMING) discards their remaining
 * records first, as Neo4j does. */
int bolt_handle_commit(struct bolt_session *s, struct bolt_request *r)
{
	(void)r;
	if (s->result != NULL)
		cypher_result_close(s->result);
	s->result = NULL;
	bolt_parked_free_all(s);
	s->autocommit = false;
	if (s->env->pool != NULL && s->tx != NULL && cypher_tx_large(s->tx))
		return bolt_job(s, prepare_commit);
	return bolt_start_commit(s);
}

int bolt_handle_rollback(struct bolt_session *s, struct bolt_request *r)
{
	(void)r;
	bolt_drop_tx(s);
	s->state = BOLT_READY;
	return bolt_step_of(bolt_write_success_empty(s->out));
}

/* Results -------------------------------------------------------------------- */

static const char *const password_words[] = {"ALTER", "CURRENT", "USER",
					     "SET", "PASSWORD", NULL};
static const char *const profile_words[] = {"PROFILE", NULL};

static int write_run_success(struct bolt_session *s)
{
	const char *const *names;
	size_t n = cypher_result_fields(s->result, &names), start;
	struct graft_buf *b = s->out;
	int rv = bolt_response_begin(b, BOLT_SUCCESS, 1, &start);

	if (rv == GRAFT_OK)
		rv = pack_map_header(b, s->autocommit ? 2 : 3);
	if (rv == GRAFT_OK)
		rv = pack_cstring(b, "fields");
	if (rv == GRAFT_OK)
		rv = pack_list_header(b, n);
	for (size_t i = 0; rv == GRAFT_OK && i < n; i++)
		rv = pack_cstring(b, names[i]);
	if (rv == GRAFT_OK)
		rv = bolt_put_int(b, "t_first", (int64_t)ms_since(s->run_start_ns));
	if (rv == GRAFT_OK && !s->autocommit)
		rv = bolt_put_int(b, "qid", s->qid);
	return rv != GRAFT_OK ? rv : bolt_response_end(b, start);
}

static int run_statement(struct bolt_session *s, struct bolt_request *r)
{
	const struct graft_str *q = r->f[0].u.s;
	struct cypher_error e;

	s->password_change = starts_with_words(q, password_words);
	if (s->credentials_expired && !s->password_change) {
		return bolt_fail(
			s, GRAFT_STATUS_CREDENTIALS_EXPIRED,
			"The credentials you provided were valid, but must be "
			"changed before you can use this instance. Issue "
			"ALTER CURRENT USER SET PASSWORD FROM 'current "
			"password' TO 'new password' against the system "
			"database in this session, then reconnect with the "
			"new password.");
	}
	memset(&e, 0, sizeof e);
	if (bolt_params_resolve_zones(&r->f[1], s->utc, &e) != GRAFT_OK)
		return bolt_fail_error(s, &e);
	s->run_start_ns = uv_hrtime();
	/* the query text and the parameters are copied by cypher_run: r is
	 * freed when this RUN is answered, its rows are PULLed later (or
	 * parked by the next RUN) */
	if (cypher_run(s->tx, q->data, q->len, &r->f[1], &s->result, &e) !=
	    GRAFT_OK) {
		s->result = NULL;
		return bolt_fail_error(s, &e);
	}
	s->profile = starts_with_words(q, profile_words);
	if (!s->autocommit)
		s->qid = s->next_qid++;
	s->state = s->autocommit ? BOLT_STREAMING : BOLT_TX_STREAMING;
	return bolt_step_of(write_run_success(s));
}

static void job_publish_tx(struct bolt_session *s);

/* Reads the rest of the open result aside (if any), then runs the RUN in
 * s->job_req; on a worker thread when there is a pool. */
static int run_job(struct bolt_session *s)
{
	struct cypher_error e;
	int step, rv = GRAFT_OK;

	if (s->job_begins) {
		s->job_begins = false;
		/* Under the gate: a database dropped or replaced is closed by a
		 * task holding it exclusive, so the db this finds cannot be
		 * closed and freed before the transaction counts on it. */
		gate_shared(s);
		step = begin_tx(s, &s->job_req, 2, true, 0, false);
		gate_leave(s);
		if (s->tx == NULL) {
			bolt_request_free(&s->job_req);
			return step;
		}
		s->tx_in_worker = true;
		job_publish_tx(s);
	}
	memset(&e, 0, sizeof e);
	if (s->result != NULL) {
		gate_shared(s);
		rv = bolt_park_result(s, &e);
		gate_leave(s);
	}
	if (rv != GRAFT_OK)
		step = e.code[0] != '\0' ? bolt_fail_error(s, &e)
					  : BOLT_STEP_CLOSE;
	else
		step = run_statement(s, &s->job_req);
	bolt_request_free(&s->job_req);
	return step;
}

/* Moves r into the job. */
static int run_in_job(struct bolt_session *s, struct bolt_request *r)
{
	s->job_req = *r;
	r->nfields = 0;
	return bolt_job(s, run_job);
}

int bolt_handle_run(struct bolt_session *s, struct bolt_request *r)
{
	if (s->state == BOLT_READY)
		return await_then(s, r, 2, run_autocommit);
	return run_in_job(s, r);
}

int bolt_handle_pull(struct bolt_session *s, struct bolt_request *r)
{
	const struct graft_value *n = bolt_field(r, 0, "n", GRAFT_VALUE_INT);
	const struct graft_value *qid = bolt_field(r, 0, "qid", GRAFT_VALUE_INT);
	int64_t q;

	if (n == NULL || n->u.i == 0 || n->u.i < -1)
		return bolt_fail(s, GRAFT_STATUS_REQUEST_INVALID,
				 "PULL and DISCARD need n: a number of records "
				 "of at least 1, or -1 for all");
	/* qid -1 (or none) is the last statement run; another qid may name
	 * a parked result. */
	q = qid != NULL ? qid->u.i : -1;
	s->serving = NULL;
	/* an auto-commit result read whole on the loop (run_on_loop) */
	if (s->autocommit && s->result == NULL && q == -1)
		s->serving = s->parked;
	if (q != -1 && (s->result == NULL || s->autocommit || q != s->qid))
		s->serving = bolt_parked_find(s, q);
	if (s->serving == NULL && (s->result == NULL ||
				   (q != -1 && q != s->qid)))
		return bolt_fail(s, GRAFT_STATUS_REQUEST_INVALID,
				 "No open result with that qid in this "
				 "transaction");
	s->pull_left = n->u.i;
	s->discarding = r->sig == BOLT_DISCARD;
	return s->serving != NULL ? bolt_after_job(s, bolt_stream_parked(s))
				  : bolt_job(s, bolt_stream);
}

/* "stats": the counters that are not zero, as Neo4j sends them. */
static int put_stats(struct graft_buf *b, const struct cypher_stats *st)
{
	size_t n = 0, count = CYPHER_STATS_COUNT;
	int rv;

	for (size_t i = 0; i < count; i++)
		n += cypher_stats_get(st, i) != 0;
	rv = pack_cstring(b, "stats");
	if (rv == GRAFT_OK)
		rv = pack_map_header(b, n);
	for (size_t i = 0; rv == GRAFT_OK && i < count; i++)
		if (cypher_stats_get(st, i) != 0)
			rv = bolt_put_int(b, cypher_stats_name(i),
					  (int64_t)cypher_stats_get(st, i));
	return rv;
}

/* The SUCCESS ending a result; bookmark NULL inside a transaction. Frees
 * sum's plan. */
int bolt_write_summary(struct bolt_session *s, struct bolt_summary *sum,
		       const char *bookmark)
{
	struct graft_buf *b = s->out;
	bool stats = cypher_stats_any(&sum->stats);
	bool plan = sum->plan.type != GRAFT_VALUE_NULL;
	size_t start;
	int rv = bolt_response_begin(b, BOLT_SUCCESS, 1, &start);

	if (rv == GRAFT_OK)
		rv = pack_map_header(b, 3 + stats + plan + (bookmark != NULL));
	if (rv == GRAFT_OK)
		rv = bolt_put_str(b, "type", sum->type);
	if (rv == GRAFT_OK)
		rv = bolt_put_int(b, "t_last", (int64_t)sum->t_last);
	if (rv == GRAFT_OK)
		rv = bolt_put_str(b, "db", sum->db);
	if (rv == GRAFT_OK && stats)
		rv = put_stats(b, &sum->stats);
	if (rv == GRAFT_OK && plan) {
		rv = pack_cstring(b, sum->profile ? "profile" : "plan");
		if (rv == GRAFT_OK)
			rv = pack_value(b, &sum->plan, &s->pack);
	}
	if (rv == GRAFT_OK && bookmark != NULL)
		rv = bolt_put_str(b, "bookmark", bookmark);
	graft_value_free(&sum->plan);
	return rv != GRAFT_OK ? rv : bolt_response_end(b, start);
}

/* Statements on the loop -----------------------------------------------------
 * A statement on a worker costs two hand-overs between threads per RUN and
 * per PULL (the loop wakes a worker, the worker wakes the loop). On the
 * 2-core machine of issue 14's benchmark those wake-ups cost the leader
 * more CPU than the statement itself: with 64 clients writing, 68-82 us of
 * the leader's CPU per transaction, 36 us without them; a point read over
 * Bolt at 50 clients ran at 0.7x Redis GET with them, 1.08x without. So an
 * auto-commit statement whose text was seen to end quickly (its first run
 * is on a worker) runs on the loop, its RUN and all its rows at once (the
 * rows parked for the PULLs, parked.c), with the budget as its
 * transaction's timeout. One that outruns it is rolled back, nothing of it
 * answered or committed, and runs again on a worker, as its text does for
 * the next LOOP_RETRY commits. The loop never waits for the gate:
 * - a write runs only when no job is out and nothing holds or waits for
 *   the gate (it may take the gate exclusive);
 * - a read enters the gate shared only if it can at once
 *   (graft_gate_try_enter_shared) and holds it for its whole run, without
 *   yielding (cypher_tx_options.no_wait; a plan that would need the gate
 *   exclusive fails at its start and goes to a worker). It runs on the loop
 *   when no job is out, or when every worker is busy: the loop then is one
 *   more worker, without the hand-overs; in between, workers have cores
 *   free and take it.
 * What the loop holds is the budget plus up to one check interval of the
 * engine (1024 rows). */
#define LOOP_BUDGET_MS 2
#define LOOP_TEXT_MAX 4096 /* longer texts are not hashed, stay on workers */
/* A loop_statements entry: the text's hash in the high bits, and in the
 * low byte LOOP_ON (a write), LOOP_READ, or LOOP_OFF plus the commits on
 * workers since it outran the budget: at LOOP_RETRY it may try the loop
 * again (a statement outruns it now and then because the loop thread did
 * not get a core, not only because it is long). */
#define LOOP_LOW 0xffULL
#define LOOP_ON 1u
#define LOOP_READ 2u
#define LOOP_OFF 3u
#define LOOP_RETRY 255u
/* A read learned for the loop ended within this on its worker (ms). */
#define LOOP_READ_LEARN_MS 1

static uint64_t *loop_slot(struct bolt_session *s, uint64_t h)
{
	return &s->env->loop_statements[(h >> 8) % BOLT_LOOP_STATEMENTS];
}

/* The text's hash, its low byte free for the state; 0: none. */
static uint64_t loop_hash(const struct graft_str *q)
{
	uint64_t h;

	if (q->len > LOOP_TEXT_MAX)
		return 0;
	h = graft_hash_bytes(GRAFT_HASH_BYTES_SEED, q->data, q->len);
	return h & ~LOOP_LOW ? h & ~LOOP_LOW : LOOP_LOW + 1;
}

/* At the commit of an auto-commit statement (loop thread): a text that
 * wrote, or read and ended quickly, may run on the loop; one kept on
 * workers, after LOOP_RETRY more commits there. */
static void loop_learn(struct bolt_session *s)
{
	const char *t = s->summary.type;
	uint64_t h = s->run_hash, *slot, low, on;

	if (h == 0)
		return;
	if (strcmp(t, "w") == 0 || strcmp(t, "rw") == 0)
		on = LOOP_ON;
	else if (strcmp(t, "r") == 0 && s->summary.t_last <= LOOP_READ_LEARN_MS)
		on = LOOP_READ;
	else
		return;
	slot = loop_slot(s, h);
	low = *slot & LOOP_LOW;
	if ((*slot & ~LOOP_LOW) != h || low + 1 >= LOOP_RETRY)
		*slot = h | on;
	else if (low >= LOOP_OFF)
		*slot = h | (low + 1);
}

static bool timed_out(const struct cypher_error *e)
{
	return graft_status_is(e->code, GRAFT_STATUS_TX_TIMED_OUT);
}

/* Whether the text of slot may run on the loop now; *read: as a read,
 * holding the gate shared from here (leave it after). */
static bool loop_may_run(struct bolt_session *s, const struct graft_str *q,
			 uint64_t h, const uint64_t *slot, bool *read)
{
	const struct graft_pool *pool = s->env->pool;
	uint64_t low = *slot & LOOP_LOW;

	*read = false;
	if ((*slot & ~LOOP_LOW) != h || s->credentials_expired ||
	    starts_with_words(q, password_words))
		return false;
	if (low == LOOP_ON)
		return pool->in_flight == 0 && graft_gate_free(s->env->gate);
	if (low != LOOP_READ ||
	    (pool->in_flight > 0 && pool->in_flight < pool->n_threads) ||
	    !graft_gate_try_enter_shared(s->env->gate))
		return false;
	*read = true;
	return true;
}

/* run_on_loop's statement, allowed to run there: false when it goes to
 * a worker after all (nothing answered, the slot told). */
static bool loop_run(struct bolt_session *s, struct bolt_request *r,
		     int *step, uint64_t *slot, bool read)
{
	const struct graft_str *q = r->f[0].u.s;
	struct cypher_error e;
	size_t out_len;
	int rv;

	*step = begin_tx(s, r, 2, true, LOOP_BUDGET_MS, read);
	if (s->tx == NULL)
		return true;
	memset(&e, 0, sizeof e);
	s->password_change = false;
	s->run_start_ns = uv_hrtime();
	out_len = s->out->len;
	rv = bolt_params_resolve_zones(&r->f[1], s->utc, &e);
	if (rv == GRAFT_OK)
		rv = cypher_run(s->tx, q->data, q->len, &r->f[1], &s->result,
				&e);
	if (rv != GRAFT_OK)
		s->result = NULL;
	/* the answer to the RUN needs the result's fields: written now,
	 * taken back if its rows do not follow within the budget */
	if (rv == GRAFT_OK && write_run_success(s) != GRAFT_OK) {
		*step = BOLT_STEP_CLOSE;
		return true;
	}
	if (rv == GRAFT_OK) {
		s->qid = -1;
		graft_gate_enter_shared(s->env->gate);
		rv = bolt_park_result(s, &e);
		graft_gate_leave(s->env->gate);
		if (rv != GRAFT_OK)
			s->out->len = out_len;
	}
	if (rv == GRAFT_EAGAIN || (rv != GRAFT_OK && timed_out(&e))) {
		bolt_drop_tx(s);
		*slot = (*slot & ~LOOP_LOW) | LOOP_OFF;
		return false;
	}
	if (rv != GRAFT_OK) {
		*step = e.code[0] != '\0' ? bolt_fail_error(s, &e)
					  : BOLT_STEP_CLOSE;
		return true;
	}
	s->profile = starts_with_words(q, profile_words);
	s->state = BOLT_STREAMING;
	*step = BOLT_STEP_DONE;
	return true;
}

/* Runs the auto-commit RUN r on the loop if it may (true, *step its
 * outcome); false: run it on a worker (nothing was answered). */
static bool run_on_loop(struct bolt_session *s, struct bolt_request *r,
			int *step)
{
	uint64_t h = loop_hash(r->f[0].u.s), *slot;
	bool read, ran;

	s->run_hash = h;
	if (h == 0 || s->env->pool == NULL || s->env->gate == NULL)
		return false;
	slot = loop_slot(s, h);
	if (!loop_may_run(s, r->f[0].u.s, h, slot, &read))
		return false;
	ran = loop_run(s, r, step, slot, read);
	if (read)
		graft_gate_leave(s->env->gate);
	return ran;
}

static void commit_cb(struct cypher_commit_req *req, int status)
{
	struct bolt_session *s = req->data;
	char bookmark[128];
	size_t start;
	int rv;

	s->wait = BOLT_WAIT_NONE;
	if (s->closing) {
		bolt_wake(s, BOLT_STEP_CLOSE);
		return;
	}
	if (status != GRAFT_OK) {
		bolt_wake(s, bolt_fail_error(s, &req->error));
		return;
	}
	/* Only a committed change lifts the requirement: the old password is
	 * checked at commit, and a rolled back change changed nothing. */
	if (s->password_change)
		s->credentials_expired = false;
	if (s->autocommit)
		loop_learn(s);
	snprintf(bookmark, sizeof bookmark, "%s:%llu:%llu", req->db,
		 (unsigned long long)dbms_origin(
			 cypher_engine_dbms(s->env->engine), req->db),
		 (unsigned long long)req->txid);
	s->state = BOLT_READY;
	if (s->autocommit) {
		rv = bolt_write_summary(s, &s->summary, bookmark);
	} else {
		rv = bolt_response_begin(s->out, BOLT_SUCCESS, 1, &start);
		if (rv == GRAFT_OK)
			rv = pack_map_header(s->out, 1);
		if (rv == GRAFT_OK)
			rv = bolt_put_str(s->out, "bookmark", bookmark);
		if (rv == GRAFT_OK)
			rv = bolt_response_end(s->out, start);
	}
	bolt_wake(s, bolt_step_of(rv));
}

int bolt_summary_take(struct bolt_session *s, struct bolt_summary *sum)
{
	const struct graft_value *plan = cypher_result_plan(s->result);

	snprintf(sum->type, sizeof sum->type, "%s",
		 cypher_result_type(s->result));
	snprintf(sum->db, sizeof sum->db, "%s", cypher_tx_db(s->tx));
	cypher_result_stats(s->result, &sum->stats);
	sum->t_last = ms_since(s->run_start_ns);
	sum->profile = s->profile;
	sum->plan = graft_value_null();
	return plan != NULL ? graft_value_copy(&sum->plan, plan) : GRAFT_OK;
}

/* The result has no more rows: keep its summary, close it, and have an
 * auto-commit transaction committed (on the loop, after the job). */
static int finish_result(struct bolt_session *s)
{
	if (bolt_summary_take(s, &s->summary) != GRAFT_OK)
		return BOLT_STEP_CLOSE;
	cypher_result_close(s->result);
	s->result = NULL;
	if (s->autocommit && s->tx_in_worker &&
	    cypher_tx_end_read(s->tx, &s->read_txid)) {
		s->tx = NULL;
		s->read_ended = true; /* the summary: bolt_finish_read */
		return BOLT_STEP_DONE;
	}
	if (s->autocommit) {
		/* the record is built here, on the worker, not on the loop */
		cypher_tx_prepare(s->tx);
		s->commit_after_job = true;
		return BOLT_STEP_DONE;
	}
	s->state = s->parked != NULL ? BOLT_TX_STREAMING : BOLT_TX_READY;
	return bolt_step_of(bolt_write_summary(s, &s->summary, NULL));
}

int bolt_write_record(struct bolt_session *s, struct graft_buf *out,
		      const struct graft_value *row, size_t n)
{
	size_t start;
	int rv = bolt_response_begin(out, BOLT_RECORD, 1, &start);

	if (rv == GRAFT_OK)
		rv = pack_list_header(out, n);
	for (size_t i = 0; rv == GRAFT_OK && i < n; i++)
		rv = pack_value(out, &row[i], &s->pack);
	return rv != GRAFT_OK ? rv : bolt_response_end(out, start);
}

int bolt_write_has_more(struct bolt_session *s)
{
	size_t start;
	int rv = bolt_response_begin(s->out, BOLT_SUCCESS, 1, &start);

	if (rv == GRAFT_OK)
		rv = pack_map_header(s->out, 1);
	if (rv == GRAFT_OK)
		rv = pack_cstring(s->out, "has_more");
	if (rv == GRAFT_OK)
		rv = pack_bool(s->out, true);
	return bolt_step_of(rv != GRAFT_OK ? rv
					   : bolt_response_end(s->out, start));
}

static int stream_rows(struct bolt_session *s);

int bolt_stream(struct bolt_session *s)
{
	int step;

	if (s->serving != NULL)
		return bolt_stream_parked(s);
	gate_shared(s);
	step = stream_rows(s);
	gate_leave(s);
	return step;
}

static int stream_rows(struct bolt_session *s)
{
	const char *const *names;
	size_t width;
	const struct graft_value *row;
	struct cypher_error e;
	int rv;

	width = cypher_result_fields(s->result, &names);
	for (;;) {
		if (s->pull_left == 0)
			return bolt_write_has_more(s);
		if (!s->discarding && s->out->len >= s->env->cfg.out_high)
			return BOLT_STEP_FULL;
		memset(&e, 0, sizeof e);
		rv = cypher_result_next(s->result, &row, &e);
		if (rv < 0)
			return bolt_fail_error(s, &e);
		if (rv == 0)
			return finish_result(s);
		if (!s->discarding &&
		    bolt_write_record(s, s->out, row, width) != GRAFT_OK)
			return BOLT_STEP_CLOSE;
		if (s->pull_left > 0)
			s->pull_left--;
	}
}

/* Transactions on workers -----------------------------------------------
 * An auto-commit statement that goes to a worker begins its transaction
 * there (in the worker's slot) and, when it only read, ends it there too
 * (cypher_tx_end_read): the loop's share of it is then only Bolt's. Begun
 * and rolled back on the loop, one at a time, they were the serial part of
 * every worker's reads: cypher_bench's two threads did 1.22-1.56x one
 * thread's point lookups with a lock standing for it, 1.72-2.00x without
 * (docs/benchmarks.md, 2026-12-06 20:15). What stays on the loop: a text
 * known to write (its commit is the loop's, and the end of a transaction
 * takes its slot's lock, which the loop must not share with a worker), the
 * summary with its bookmark (bolt_finish_read), and RESET or a client's
 * close, which reach the transaction once the job has published its id
 * (bolt_job_terminate). */
static bool begins_in_job(struct bolt_session *s)
{
	uint64_t h = s->run_hash;

	if (s->env->pool == NULL || s->env->gate == NULL)
		return false;
	return h == 0 || (*loop_slot(s, h) & ~LOOP_LOW) != h ||
	       (*loop_slot(s, h) & LOOP_LOW) != LOOP_ON;
}

/* On the worker, once the job began its transaction: the id for RESET,
 * then whether a RESET came before it (session.c, bolt_job_terminate). */
static void job_publish_tx(struct bolt_session *s)
{
	snprintf(s->job_tx, sizeof s->job_tx, "%s", cypher_tx_id(s->tx));
	__atomic_store_n(&s->job_tx_ready, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&s->job_cancel, __ATOMIC_SEQ_CST))
		cypher_tx_terminate(s->tx);
}

int bolt_finish_read(struct bolt_session *s)
{
	char bookmark[128];

	if (s->closing)
		return BOLT_STEP_CLOSE;
	loop_learn(s);
	snprintf(bookmark, sizeof bookmark, "%s:%llu:%llu", s->summary.db,
		 (unsigned long long)dbms_origin(
			 cypher_engine_dbms(s->env->engine), s->summary.db),
		 (unsigned long long)s->read_txid);
	s->state = BOLT_READY;
	return bolt_step_of(bolt_write_summary(s, &s->summary, bookmark));
}
