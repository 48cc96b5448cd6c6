/* The user store. Every request runs in three steps:
 *
 *   submit (loop)  check the arguments, copy them; authentication reads the
 *                  user's stored credentials now, writes queue up and read
 *                  theirs when they reach the head of the write queue;
 *   work (pool)    hash the new password and/or verify a given one, so the
 *                  deliberately slow PBKDF2 never stalls the loop; a request
 *                  with nothing to hash passes through too, which is how
 *                  every callback comes later than its call;
 *   after (loop)   authentication: rate limit bookkeeping and the answer;
 *                  writes: a system-database transaction checked against the
 *                  committed users, db_commit, and the answer from its
 *                  callback, then the next queued write starts.
 *
 * Writes run one at a time, so two CREATE USER of one name cannot both pass
 * the "does not exist" check. A failed commit (disk full, shutdown) is the
 * request's error; nothing else is left behind. Passwords live only in the
 * request, are wiped as soon as they have been hashed or checked, and never
 * reach a message or the log. */
#include "security.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "credentials.h"

#define SECURITY_FAILURE_SLOTS 1024
/* Pool threads (of libuv's 4) that hashing may use at once. */
#define SECURITY_POOL_MAX 2


enum security_op {
	OP_AUTH,
	OP_SEED,
	OP_INITIAL,
	OP_CREATE,
	OP_ALTER,
	OP_DROP,
	OP_CHANGE_OWN,
};

enum prop_key { KEY_NAME, KEY_CREDENTIALS, KEY_CHANGE, KEY_SUSPENDED, KEYS };
static const char *const prop_names[KEYS] = {
	"name", "credentials", "passwordChangeRequired", "suspended"};

/* Consecutive failed logins of one user name (known or not, as in Neo4j,
 * so the answer does not tell which names exist). */
struct failure {
	char *name; /* owned; NULL: free slot */
	uint32_t count;
	uint64_t last_ms;
};

struct security {
	uv_loop_t *loop;
	struct db *sys;
	struct security_options o;
	uint32_t label;
	uint32_t keys[KEYS];
	struct security_req *head, *tail; /* write queue, head running */
	struct security_req *parked, *parked_tail; /* waiting for the pool */
	unsigned hashing; /* requests in the pool */
	bool in_callback; /* a write's callback runs: submit only queues */
	bool closing;
	void (*close_cb)(void *arg);
	void *close_arg;
	struct failure failures[SECURITY_FAILURE_SLOTS];
	/* Verified against when the user does not exist, so a login takes as
	 * long for an unknown name as for a known one. */
	char dummy[CREDENTIALS_SIZE];
};

void security_options_default(struct security_options *o)
{
	*o = (struct security_options){
		.auth_enabled = true,
		.max_failed_attempts = 3,
		.lock_time_ms = 5000,
		.min_password_length = 8,
		.hash_iterations = SECURITY_HASH_ITERATIONS,
	};
}

void security_options_from_config(const struct graft_config *cfg,
				  struct security_options *o)
{
	int64_t attempts;

	security_options_default(o);
	o->auth_enabled = graft_config_bool(cfg, "dbms.security.auth_enabled");
	attempts = graft_config_int(cfg, "dbms.security.auth_max_failed_attempts");
	o->max_failed_attempts = attempts > 0 ? (uint32_t)attempts : 0;
	o->lock_time_ms =
		graft_config_duration_ms(cfg, "dbms.security.auth_lock_time");
}

int security_open(uv_loop_t *loop, struct dbms *m,
		  const struct security_options *o, struct security **out,
		  char *errmsg)
{
	struct security *s;
	struct db *sys = dbms_get(m, "system");
	int rv = GRAFT_ENOMEM;
	int i;

	if (sys == NULL)
		return graft_errf(errmsg, GRAFT_ENOTFOUND,
				  "no system database to keep users in");
	s = calloc(1, sizeof *s);
	if (s == NULL)
		return graft_errf(errmsg, GRAFT_ENOMEM, "out of memory");
	s->loop = loop;
	s->sys = sys;
	s->o = *o;
	if (s->o.hash_iterations == 0)
		s->o.hash_iterations = SECURITY_HASH_ITERATIONS;
	if (db_token(sys, GRAPH_TOKEN_LABEL, "User", 4, &s->label) != GRAFT_OK)
		goto err;
	for (i = 0; i < KEYS; i++)
		if (db_token(sys, GRAPH_TOKEN_PROPKEY, prop_names[i],
			     strlen(prop_names[i]), &s->keys[i]) != GRAFT_OK)
			goto err;
	rv = credentials_hash("", 0, s->o.hash_iterations, s->dummy);
	if (rv != GRAFT_OK)
		goto err;
	*out = s;
	return GRAFT_OK;
err:
	free(s);
	return graft_errf(errmsg, rv, "cannot open the user store: %s",
			  graft_strerror(rv));
}

/* Frees a closing s when no request is left in the pool or the write
 * queue; called last by whatever completes one. */
static void maybe_free(struct security *s)
{
	size_t i;

	if (!s->closing || s->hashing > 0 || s->parked != NULL ||
	    s->head != NULL)
		return;
	for (i = 0; i < SECURITY_FAILURE_SLOTS; i++)
		free(s->failures[i].name);
	if (s->close_cb != NULL)
		s->close_cb(s->close_arg);
	free(s);
}

void security_close(struct security *s, void (*cb)(void *arg), void *arg)
{
	if (s == NULL) {
		if (cb != NULL)
			cb(arg);
		return;
	}
	s->closing = true;
	s->close_cb = cb;
	s->close_arg = arg;
	maybe_free(s);
}

bool security_auth_enabled(const struct security *s)
{
	return s->o.auth_enabled;
}

/* Reading users ------------------------------------------------------------ */

static const struct graft_value *user_prop(struct security *s,
					   struct db_tx *tx, uint64_t id,
					   enum prop_key k)
{
	return db_tx_node_prop(tx, id, s->keys[k]);
}

static bool user_flag(struct security *s, struct db_tx *tx, uint64_t id,
		      enum prop_key k)
{
	const struct graft_value *v = user_prop(s, tx, id, k);

	return v != NULL && v->type == GRAFT_VALUE_BOOL && v->u.b;
}

/* The node of user name in tx's view, or GRAPH_NO_ID. O(users). */
static uint64_t user_find(struct security *s, struct db_tx *tx,
			  const char *name)
{
	struct db_cursor c;
	const struct graft_value *v;
	uint64_t id;

	db_cursor_label(&c, tx, s->label);
	while ((id = db_cursor_next(&c)) != GRAPH_NO_ID) {
		v = user_prop(s, tx, id, KEY_NAME);
		if (v != NULL && v->type == GRAFT_VALUE_STRING &&
		    strcmp(v->u.s->data, name) == 0)
			return id;
	}
	return GRAPH_NO_ID;
}

static bool any_user(struct security *s, struct db_tx *tx)
{
	struct db_cursor c;

	db_cursor_label(&c, tx, s->label);
	return db_cursor_next(&c) != GRAPH_NO_ID;
}

/* Copies user req->name's credentials into req->stored (NULL if the user
 * or its credentials are missing), its change requirement into
 * req->credentials_expired and its status into req->user_suspended. */
static int read_user(struct security *s, struct security_req *req)
{
	const struct graft_value *v;
	struct db_tx *tx;
	uint64_t id;
	int rv = db_tx_begin(s->sys, DB_TX_READ_ONLY, &tx);

	if (rv != GRAFT_OK)
		return rv;
	id = user_find(s, tx, req->name);
	if (id != GRAPH_NO_ID) {
		v = user_prop(s, tx, id, KEY_CREDENTIALS);
		if (v != NULL && v->type == GRAFT_VALUE_STRING) {
			req->stored = strdup(v->u.s->data);
			if (req->stored == NULL)
				rv = GRAFT_ENOMEM;
		}
		req->credentials_expired = user_flag(s, tx, id, KEY_CHANGE);
		req->user_suspended = user_flag(s, tx, id, KEY_SUSPENDED);
	}
	db_tx_rollback(tx);
	return rv;
}

static int user_cmp(const void *a, const void *b)
{
	const struct security_user *x = a, *y = b;

	return strcmp(x->name, y->name);
}

void security_users_free(struct security_user *users, size_t n)
{
	size_t i;

	for (i = 0; i < n && users != NULL; i++)
		free(users[i].name);
	free(users);
}

int security_list_users(struct security *s, struct security_user **out,
			size_t *n)
{
	struct security_user *users = NULL, *grown;
	const struct graft_value *v;
	struct db_cursor c;
	struct db_tx *tx;
	size_t len = 0, cap = 0;
	uint64_t id;
	int rv = db_tx_begin(s->sys, DB_TX_READ_ONLY, &tx);

	if (rv != GRAFT_OK)
		return rv;
	db_cursor_label(&c, tx, s->label);
	while ((id = db_cursor_next(&c)) != GRAPH_NO_ID) {
		v = user_prop(s, tx, id, KEY_NAME);
		if (v == NULL || v->type != GRAFT_VALUE_STRING)
			continue;
		if (len == cap) {
			cap = cap ? 2 * cap : 8;
			grown = realloc(users, cap * sizeof *users);
			if (grown == NULL)
				goto err_nomem;
			users = grown;
		}
		users[len].name = strdup(v->u.s->data);
		if (users[len].name == NULL)
			goto err_nomem;
		users[len].password_change_required =
			user_flag(s, tx, id, KEY_CHANGE);
		users[len].suspended = user_flag(s, tx, id, KEY_SUSPENDED);
		len++;
	}
	db_tx_rollback(tx);
	if (len > 0)
		qsort(users, len, sizeof *users, user_cmp);
	*out = users;
	*n = len;
	return GRAFT_OK;
err_nomem:
	db_tx_rollback(tx);
	security_users_free(users, len);
	return GRAFT_ENOMEM;
}

/* Requests ---------------------------------------------------------------- */

static int req_fail(struct security_req *req, int rv, enum graft_status status,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int req_fail(struct security_req *req, int rv, enum graft_status status,
		    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cypher_error_vset(&req->error, status, fmt, ap);
	va_end(ap);
	return rv;
}

static int read_failed(struct security_req *req, int rv)
{
	return req_fail(req, rv, GRAFT_STATUS_UNKNOWN_ERROR, "cannot read users: %s",
			graft_strerror(rv));
}

static int out_of_memory(struct security_req *req)
{
	return req_fail(req, GRAFT_ENOMEM, GRAFT_STATUS_DATABASE_OUT_OF_MEMORY, "out of memory");
}

static void wipe(char **p, size_t *len)
{
	if (*p == NULL)
		return;
	OPENSSL_cleanse(*p, *len);
	free(*p);
	*p = NULL;
	*len = 0;
}

static void wipe_passwords(struct security_req *req)
{
	wipe(&req->password, &req->password_len);
	wipe(&req->old_password, &req->old_password_len);
}

/* A copy of the len bytes at p, NUL-terminated, or NULL. */
static char *secret_dup(const char *p, size_t len)
{
	char *d = len < SIZE_MAX ? malloc(len + 1) : NULL;

	if (d != NULL) {
		memcpy(d, p, len);
		d[len] = '\0';
	}
	return d;
}

static void req_release(struct security_req *req)
{
	wipe_passwords(req);
	free(req->stored);
	req->stored = NULL;
	free(req->credentials);
	req->credentials = NULL;
	free(req->name);
	req->name = NULL;
}

static int req_init(struct security *s, struct security_req *req, int op,
		    const char *name, const char *password,
		    size_t password_len, security_cb cb)
{
	void *data = req->data;
	struct db_tx *tx = req->tx;

	memset(req, 0, sizeof *req);
	req->data = data;
	req->tx = tx;
	req->s = s;
	req->op = op;
	req->cb = cb;
	req->change = -1;
	req->suspend = -1;
	req->name = strdup(name);
	req->password = password != NULL ? secret_dup(password, password_len)
					 : NULL;
	req->password_len = password != NULL ? password_len : 0;
	if (req->name == NULL || (password != NULL && req->password == NULL)) {
		req_release(req);
		return out_of_memory(req);
	}
	return GRAFT_OK;
}

static int check_password(struct security *s, struct security_req *req,
			  size_t len)
{
	if (len >= s->o.min_password_length)
		return GRAFT_OK;
	return req_fail(req, GRAFT_EINVAL, GRAFT_STATUS_INVALID_ARGUMENTS,
			"A password must be at least %u characters.",
			s->o.min_password_length);
}

/* Thread pool: the slow part, touching nothing but req's own strings. */
static void work_cb(uv_work_t *w)
{
	struct security_req *req = w->data;
	char *pw = req->password;
	size_t len = req->password_len;
	const char *against = req->stored != NULL ? req->stored : req->s->dummy;

	if (req->op == OP_AUTH) {
		req->matches = pw != NULL && credentials_verify(against, pw, len);
		return;
	}
	if (req->check_old) {
		req->matches = credentials_verify(against, req->old_password,
						  req->old_password_len);
		req->same_as_old = credentials_verify(against, pw, len);
	}
	if (pw == NULL)
		return;
	req->credentials = malloc(CREDENTIALS_SIZE);
	if (req->credentials == NULL) {
		req->status = GRAFT_ENOMEM;
		return;
	}
	req->status = credentials_hash(pw, len, req->s->o.hash_iterations,
				       req->credentials);
}

static void after_work_cb(uv_work_t *w, int status);

/* Hands req to the pool, or parks it while SECURITY_POOL_MAX hashes run:
 * the pool also writes the transaction log, and a burst of logins must not
 * keep every pool thread busy for tens of milliseconds. uv_queue_work fails
 * only for a missing callback, so a parked request always starts later. */
static void queue_work(struct security_req *req)
{
	struct security *s = req->s;

	req->work.data = req;
	req->pool_next = NULL;
	if (s->hashing >= SECURITY_POOL_MAX) {
		if (s->parked_tail != NULL)
			s->parked_tail->pool_next = req;
		else
			s->parked = req;
		s->parked_tail = req;
		return;
	}
	s->hashing++;
	uv_queue_work(s->loop, &req->work, work_cb, after_work_cb);
}

/* A pool slot came free: start the longest-parked request. */
static void unpark(struct security *s)
{
	struct security_req *req = s->parked;

	s->hashing--;
	if (req == NULL)
		return;
	s->parked = req->pool_next;
	if (s->parked == NULL)
		s->parked_tail = NULL;
	queue_work(req);
}

/* Authentication ---------------------------------------------------------- */

static struct failure *failure_slot(struct security *s, const char *name,
				    bool create)
{
	struct failure *f, *oldest = &s->failures[0];
	size_t i;

	for (i = 0; i < SECURITY_FAILURE_SLOTS; i++) {
		f = &s->failures[i];
		if (f->name != NULL && strcmp(f->name, name) == 0)
			return f;
		if (f->name == NULL || (oldest->name != NULL &&
					f->last_ms < oldest->last_ms))
			oldest = f;
	}
	if (!create)
		return NULL;
	/* Full: the longest-quiet name is forgotten (bounded memory whatever
	 * names an attacker tries). */
	free(oldest->name);
	*oldest = (struct failure){.name = strdup(name)};
	return oldest->name != NULL ? oldest : NULL;
}

static bool locked_out(struct security *s, const char *name)
{
	struct failure *f = failure_slot(s, name, false);

	return s->o.max_failed_attempts > 0 && f != NULL &&
	       f->count >= s->o.max_failed_attempts &&
	       uv_now(s->loop) - f->last_ms < s->o.lock_time_ms;
}

static void record_failure(struct security *s, const char *name)
{
	struct failure *f = failure_slot(s, name, true);

	if (f == NULL)
		return;
	f->count++;
	f->last_ms = uv_now(s->loop);
}

static void clear_failures(struct security *s, const char *name)
{
	struct failure *f = failure_slot(s, name, false);

	if (f == NULL)
		return;
	free(f->name);
	*f = (struct failure){0};
}

static void auth_done(struct security_req *req)
{
	struct security *s = req->s;
	int rv = GRAFT_OK;

	if (!s->o.auth_enabled) {
		rv = GRAFT_OK;
	} else if (locked_out(s, req->name)) {
		rv = req_fail(req, GRAFT_EINVAL, GRAFT_STATUS_AUTH_RATE_LIMIT,
			      "The client has provided incorrect "
			      "authentication details too many times in a "
			      "row.");
	} else if (!req->matches || req->stored == NULL ||
		   req->user_suspended || req->bad_name) {
		record_failure(s, req->name);
		rv = req_fail(req, GRAFT_EINVAL, GRAFT_STATUS_UNAUTHORIZED,
			      "The client is unauthorized due to "
			      "authentication failure.");
	} else {
		clear_failures(s, req->name);
	}
	if (rv != GRAFT_OK)
		req->credentials_expired = false;
	req_release(req);
	req->cb(req, rv);
}

int security_authenticate(struct security *s, struct security_req *req,
			  const char *user, size_t user_len,
			  const char *password, size_t password_len,
			  security_cb cb)
{
	int rv = req_init(s, req, OP_AUTH, user, password, password_len, cb);

	if (rv != GRAFT_OK)
		return rv;
	/* "alice\0x" is not alice: it fails as an unknown user does, after
	 * the same hashing. */
	req->bad_name = memchr(user, '\0', user_len) != NULL;
	/* A locked-out user gets no hashing at all; a disabled auth none. */
	if (s->o.auth_enabled && !locked_out(s, req->name)) {
		rv = req->bad_name ? GRAFT_OK : read_user(s, req);
		if (rv != GRAFT_OK)
			goto err;
	} else {
		wipe_passwords(req);
	}
	queue_work(req);
	return GRAFT_OK;
err:
	req_release(req);
	return read_failed(req, rv);
}

/* Writes ------------------------------------------------------------------- */

static void start_next(struct security *s);

/* Reads what the head write needs and hands it to the pool. */
static int start(struct security *s, struct security_req *req)
{
	int rv = req->check_old ? read_user(s, req) : GRAFT_OK;

	if (rv != GRAFT_OK)
		return read_failed(req, rv);
	queue_work(req);
	return GRAFT_OK;
}

/* The callback may submit the next write, even on req itself (the Cypher
 * executor runs a transaction's user commands one after the other):
 * submit only queues it while a callback runs, and the queue's head is
 * started once, here. */
static void write_done(struct security_req *req, int status)
{
	struct security *s = req->s;

	s->head = req->next;
	if (s->head == NULL)
		s->tail = NULL;
	req_release(req);
	s->in_callback = true;
	req->cb(req, status);
	s->in_callback = false;
	start_next(s);
}

static void start_next(struct security *s)
{
	struct security_req *req = s->head;
	int rv;

	if (req == NULL)
		return;
	rv = start(s, req);
	if (rv != GRAFT_OK)
		write_done(req, rv);
}

/* Queues req (initialised and checked); starts it if no write is running. */
static int submit(struct security *s, struct security_req *req)
{
	int rv;

	req->next = NULL;
	if (s->tail != NULL) {
		s->tail->next = req;
		s->tail = req;
		return GRAFT_OK;
	}
	s->head = s->tail = req;
	if (s->in_callback)
		return GRAFT_OK; /* write_done starts it */
	rv = start(s, req);
	if (rv != GRAFT_OK) {
		s->head = s->tail = NULL;
		req_release(req);
	}
	return rv;
}

static void commit_cb(struct db_commit_req *c, int status)
{
	struct security_req *req = c->data;
	struct security *s = req->s;

	if (status != GRAFT_OK)
		req_fail(req, status,
			 GRAFT_STATUS_DATABASE_COMMIT_FAILED,
			 "Failed to store the change to user '%s': %s",
			 req->name, c->errmsg);
	write_done(req, status);
	maybe_free(s);
}

static int set_prop(struct security *s, struct db_tx *tx, uint64_t id,
		    enum prop_key k, struct graft_value *v)
{
	int rv = db_tx_node_set_prop(tx, id, s->keys[k], v);

	graft_value_free(v);
	return rv;
}

static int set_string(struct security *s, struct db_tx *tx, uint64_t id,
		      enum prop_key k, const char *str)
{
	struct graft_value v;
	int rv = graft_value_string(&v, str, strlen(str));

	return rv != GRAFT_OK ? rv : set_prop(s, tx, id, k, &v);
}

static int set_flag(struct security *s, struct db_tx *tx, uint64_t id,
		    enum prop_key k, int flag)
{
	struct graft_value v = graft_value_bool(flag == 1);

	return flag < 0 ? GRAFT_OK : set_prop(s, tx, id, k, &v);
}

/* Writes the request's changes to user node id; a new user also gets its
 * label, name and both flags (unset ones false). */
static int write_user(struct security *s, struct security_req *req,
		      struct db_tx *tx, uint64_t id, bool is_new)
{
	int rv = GRAFT_OK;

	if (is_new) {
		rv = db_tx_node_add_label(tx, id, s->label);
		if (rv == GRAFT_OK)
			rv = set_string(s, tx, id, KEY_NAME, req->name);
		req->change = req->change == 1;
		req->suspend = req->suspend == 1;
	}
	if (rv == GRAFT_OK && req->credentials != NULL)
		rv = set_string(s, tx, id, KEY_CREDENTIALS, req->credentials);
	if (rv == GRAFT_OK)
		rv = set_flag(s, tx, id, KEY_CHANGE, req->change);
	if (rv == GRAFT_OK)
		rv = set_flag(s, tx, id, KEY_SUSPENDED, req->suspend);
	return rv;
}

static int user_missing(struct security_req *req)
{
	if (req->tolerant)
		return GRAFT_EEXIST;
	return req_fail(req, GRAFT_ENOTFOUND, GRAFT_STATUS_INVALID_ARGUMENTS,
			"Failed to %s the specified user '%s': User does not "
			"exist.",
			req->op == OP_DROP ? "delete" : "alter", req->name);
}

static int own_password_error(struct security_req *req, const char *why)
{
	return req_fail(req, GRAFT_EINVAL, GRAFT_STATUS_INVALID_ARGUMENTS,
			"User '%s' failed to alter their own password: %s",
			req->name, why);
}

/* What the request does to the user found (id, or GRAPH_NO_ID): GRAFT_OK to
 * commit, GRAFT_EEXIST for nothing to do, or an error in req->error. */
static int apply_op(struct security *s, struct security_req *req,
		    struct db_tx *tx, uint64_t id)
{
	bool exists = id != GRAPH_NO_ID;
	int rv;

	switch (req->op) {
	case OP_SEED:
		if (any_user(s, tx))
			return GRAFT_EEXIST;
		/* fall through */
	case OP_INITIAL:
	case OP_CREATE:
		if (exists && req->op == OP_CREATE)
			return req->tolerant
				       ? GRAFT_EEXIST
				       : req_fail(req, GRAFT_EEXIST, GRAFT_STATUS_INVALID_ARGUMENTS,
						  "Failed to create the specified "
						  "user '%s': User already exists.",
						  req->name);
		if (!exists) {
			rv = db_tx_node_create(tx, &id);
			if (rv != GRAFT_OK)
				return rv;
		}
		return write_user(s, req, tx, id, !exists);
	case OP_ALTER:
		return exists ? write_user(s, req, tx, id, false)
			      : user_missing(req);
	case OP_DROP:
		return exists ? db_tx_node_delete(tx, id) : user_missing(req);
	default: /* OP_CHANGE_OWN */
		if (!exists || !req->matches)
			return own_password_error(
				req, "Invalid principal or credentials.");
		if (req->same_as_old)
			return own_password_error(
				req, "Old password and new password cannot be "
				     "the same.");
		return write_user(s, req, tx, id, false);
	}
}

/* The change goes into the caller's transaction (req->tx), or into one of
 * its own that it commits. */
static void write_after_work(struct security_req *req)
{
	struct security *s = req->s;
	struct db_tx *tx = req->tx;
	int rv = req->status;

	wipe_passwords(req);
	if (rv == GRAFT_OK && tx == NULL)
		rv = db_tx_begin(s->sys, 0, &tx);
	if (rv != GRAFT_OK)
		goto err;
	rv = apply_op(s, req, tx, user_find(s, tx, req->name));
	if (rv == GRAFT_OK && req->tx == NULL) {
		req->commit.data = req;
		rv = db_commit(tx, &req->commit, commit_cb);
		if (rv == GRAFT_OK)
			return;
		goto err;
	}
	if (req->tx == NULL) /* else the caller commits or rolls back */
		db_tx_rollback(tx);
	if (rv == GRAFT_EEXIST && req->error.code[0] == '\0')
		rv = GRAFT_OK; /* nothing to do: IF [NOT] EXISTS, seed */
err:
	if (rv != GRAFT_OK && req->error.code[0] == '\0')
		req_fail(req, rv, GRAFT_STATUS_UNKNOWN_ERROR,
			 "Failed to change user '%s': %s", req->name,
			 graft_strerror(rv));
	write_done(req, rv);
}

static void after_work_cb(uv_work_t *w, int status)
{
	struct security_req *req = w->data;
	struct security *s = req->s;

	unpark(s);
	if (req->op == OP_AUTH)
		auth_done(req);
	else
		write_after_work(req);
	maybe_free(s);
}

/* The public writes ------------------------------------------------------- */

static int name_check(struct security_req *req, const char *name)
{
	if (name != NULL && name[0] != '\0')
		return GRAFT_OK;
	return req_fail(req, GRAFT_EINVAL, GRAFT_STATUS_INVALID_ARGUMENTS,
			"The provided username is empty.");
}

/* Checks name and password, then initialises and queues req as op. */
static int write_submit(struct security *s, struct security_req *req, int op,
			const char *name, const char *password,
			size_t password_len, int change, int suspend,
			bool tolerant, security_cb cb)
{
	int rv = name_check(req, name);

	if (rv == GRAFT_OK && password != NULL)
		rv = check_password(s, req, password_len);
	if (rv == GRAFT_OK)
		rv = req_init(s, req, op, name, password, password_len, cb);
	if (rv != GRAFT_OK)
		return rv;
	req->change = change;
	req->suspend = suspend;
	req->tolerant = tolerant;
	return submit(s, req);
}

int security_seed(struct security *s, struct security_req *req,
		  security_cb cb)
{
	struct db_tx *tx;
	bool exists;
	int rv = db_tx_begin(s->sys, DB_TX_READ_ONLY, &tx);

	if (rv != GRAFT_OK)
		return read_failed(req, rv);
	exists = any_user(s, tx);
	db_tx_rollback(tx);
	if (exists)
		return GRAFT_EEXIST;
	rv = req_init(s, req, OP_SEED, SECURITY_INITIAL_USER,
		      SECURITY_INITIAL_PASSWORD,
		      strlen(SECURITY_INITIAL_PASSWORD), cb);
	if (rv != GRAFT_OK)
		return rv;
	req->change = 1;
	return submit(s, req);
}

int security_set_initial_password(struct security *s, struct security_req *req,
				  const char *password, size_t password_len,
				  bool change_required, security_cb cb)
{
	return write_submit(s, req, OP_INITIAL, SECURITY_INITIAL_USER, password,
			    password_len, change_required, -1, false, cb);
}

int security_create_user(struct security *s, struct security_req *req,
			 const char *name, const char *password,
			 size_t password_len, bool change_required,
			 bool suspended, bool if_not_exists, security_cb cb)
{
	if (password == NULL)
		return req_fail(req, GRAFT_EINVAL, GRAFT_STATUS_INVALID_ARGUMENTS,
				"A password is required to create user '%s'.",
				name != NULL ? name : "");
	return write_submit(s, req, OP_CREATE, name, password, password_len,
			    change_required, suspended, if_not_exists, cb);
}

int security_alter_user(struct security *s, struct security_req *req,
			const char *name, const struct security_alter *a,
			bool if_exists, security_cb cb)
{
	return write_submit(s, req, OP_ALTER, name, a->password,
			    a->password_len, a->change_required, a->suspended,
			    if_exists, cb);
}

int security_drop_user(struct security *s, struct security_req *req,
		       const char *name, bool if_exists, security_cb cb)
{
	return write_submit(s, req, OP_DROP, name, NULL, 0, -1, -1, if_exists,
			    cb);
}

int security_change_own_password(struct security *s, struct security_req *req,
				 const char *user, const char *old_password,
				 size_t old_len, const char *new_password,
				 size_t new_len, security_cb cb)
{
	int rv = name_check(req, user);

	if (rv == GRAFT_OK)
		rv = check_password(s, req, new_len);
	if (rv == GRAFT_OK)
		rv = req_init(s, req, OP_CHANGE_OWN, user, new_password,
			      new_len, cb);
	if (rv != GRAFT_OK)
		return rv;
	req->old_password = secret_dup(old_password, old_len);
	req->old_password_len = old_len;
	if (req->old_password == NULL) {
		req_release(req);
		return out_of_memory(req);
	}
	req->check_old = true;
	req->change = 0;
	return submit(s, req);
}
