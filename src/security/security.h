/* Users and passwords: native authentication as Neo4j does it. Users are
 * nodes (:User {name, credentials, passwordChangeRequired, suspended}) in the
 * `system` database, so they are durable, replicated and backed up with it;
 * credentials hold a salted PBKDF2-HMAC-SHA256 hash, never the password.
 * Hashing is deliberately slow, so it runs on libuv's thread pool; every
 * operation is asynchronous with a caller-owned request (libuv style) and
 * writes are applied one at a time, in submission order, so a check such as
 * "the user does not exist yet" still holds when its commit lands.
 * Failed logins are counted per user in memory and lock the user out for a
 * while (Neo.ClientError.Security.AuthenticationRateLimit).
 * Used by the Cypher executor (user commands) and Bolt (HELLO/LOGON).
 * Loop thread only. */
#ifndef GRAFT_SECURITY_SECURITY_H
#define GRAFT_SECURITY_SECURITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "../db/dbms.h"
#include "../util/config.h"
#include "../util/cypher_error.h"

/* The user graft creates on first start, with password "neo4j". */
#define SECURITY_INITIAL_USER "neo4j"
#define SECURITY_INITIAL_PASSWORD "neo4j"

struct security_options {
	bool auth_enabled;            /* dbms.security.auth_enabled */
	uint32_t max_failed_attempts; /* dbms.security.auth_max_failed_attempts;
				       * 0: never lock */
	uint64_t lock_time_ms;        /* dbms.security.auth_lock_time */
	uint32_t min_password_length; /* Neo4j 5: 8; 0: no minimum */
	uint32_t hash_iterations;     /* PBKDF2 rounds for new hashes; 0: the
				       * default (SECURITY_HASH_ITERATIONS) */
};
#define SECURITY_HASH_ITERATIONS 100000

/* Fills o with Neo4j's defaults (auth on, 3 attempts, 5 s, length 8). */
void security_options_default(struct security_options *o);
/* The defaults with cfg's dbms.security.* settings applied. */
void security_options_from_config(const struct graft_config *cfg,
				  struct security_options *o);

struct security;

/* Opens the user store of m's system database (which must exist); writes
 * nothing. GRAFT_ENOTFOUND without a system database, GRAFT_ENOMEM. */
int security_open(uv_loop_t *loop, struct dbms *m,
		  const struct security_options *o, struct security **out,
		  char *errmsg);
/* Frees s once every pending request's callback has run (a login's hash
 * or a user change may still be in the pool when the server stops), then
 * calls cb (may be NULL). cb may run from within this call. */
void security_close(struct security *s, void (*cb)(void *arg), void *arg);
bool security_auth_enabled(const struct security *s);

/* Requests -----------------------------------------------------------------
 * Every asynchronous call takes a caller-owned request that must stay alive
 * until its callback. If the call returns an error (filled into req->error
 * too), the callback is never called. The callback runs on the loop thread,
 * never from within the call, with GRAFT_OK or an error whose Neo4j status
 * and message are in req->error. Strings passed in are copied. */
struct security_req;
typedef void (*security_cb)(struct security_req *req, int status);

struct security_req {
	void *data;
	/* NULL: a write commits its change itself. Else an open transaction
	 * of the system database that a write (not a login) makes its change
	 * in and leaves uncommitted, so that the caller commits several
	 * writes as one change (an explicit transaction's user commands) or
	 * rolls them all back after a failure. */
	struct db_tx *tx;
	struct cypher_error error;  /* on failure */
	bool credentials_expired;   /* authenticate: the password must be
				     * changed before anything else runs */
	/* private */
	struct security *s;
	struct security_req *next;      /* write queue */
	struct security_req *pool_next; /* waiting for a pool thread */
	security_cb cb;
	uv_work_t work;
	struct db_commit_req commit;
	int op;
	int status;
	int change;           /* -1 unchanged, 0 not required, 1 required */
	int suspend;          /* -1 unchanged, 0 active, 1 suspended */
	bool tolerant;        /* IF EXISTS / IF NOT EXISTS */
	bool check_old;       /* verify old_password against stored */
	bool user_suspended;  /* as read with stored */
	bool matches;         /* the password checked matches stored */
	bool same_as_old;     /* the new password matches stored */
	bool bad_name;        /* authenticate: the name has a NUL byte */
	char *name;
	char *password;       /* wiped and freed once hashed */
	char *old_password;   /* wiped and freed once checked */
	size_t password_len, old_password_len;
	char *stored;         /* credentials read for a check */
	char *credentials;    /* new credentials to store */
};

/* Passwords are counted strings (len bytes, any byte allowed), so a
 * password with a NUL byte is that whole password, never its prefix. */

/* Checks a user's password (the "basic" scheme). GRAFT_OK: authenticated;
 * req->credentials_expired tells that the user must run ALTER CURRENT USER
 * SET PASSWORD before anything else (Bolt then fails every other statement
 * with Neo.ClientError.Security.CredentialsExpired). Errors:
 * Neo.ClientError.Security.Unauthorized (unknown user, wrong password or
 * suspended user: one message, not telling which) and, once a user had
 * max_failed_attempts failures in a row, AuthenticationRateLimit for
 * lock_time, whatever the password. */
int security_authenticate(struct security *s, struct security_req *req,
			  const char *user, size_t user_len,
			  const char *password, size_t password_len,
			  security_cb cb);

/* Creates neo4j/neo4j with the change required, when the system database has
 * no user (the first start). GRAFT_EEXIST (cb never called) if it has one. */
int security_seed(struct security *s, struct security_req *req,
		  security_cb cb);
/* graft-admin dbms set-initial-password: sets neo4j's password, creating
 * the user if needed; change_required as given. */
int security_set_initial_password(struct security *s, struct security_req *req,
				  const char *password, size_t password_len,
				  bool change_required, security_cb cb);

/* CREATE USER name SET PASSWORD pw [CHANGE [NOT] REQUIRED]
 * [SET STATUS SUSPENDED|ACTIVE]. if_not_exists: an existing user is no
 * error (and is left as it is). Errors: Neo.ClientError.General.
 * InvalidArguments (user exists, password too short, empty name). */
int security_create_user(struct security *s, struct security_req *req,
			 const char *name, const char *password,
			 size_t password_len, bool change_required,
			 bool suspended, bool if_not_exists, security_cb cb);

/* ALTER USER name [SET PASSWORD pw] [CHANGE [NOT] REQUIRED]
 * [SET STATUS …]: each part optional. */
struct security_alter {
	const char *password;     /* NULL: unchanged */
	size_t password_len;
	int change_required;      /* -1 unchanged, 0 not required, 1 required */
	int suspended;            /* -1 unchanged, 0 active, 1 suspended */
};
/* Errors: Neo.ClientError.General.InvalidArguments (no such user, unless
 * if_exists; password too short). */
int security_alter_user(struct security *s, struct security_req *req,
			const char *name, const struct security_alter *a,
			bool if_exists, security_cb cb);

/* DROP USER name [IF EXISTS]. The caller refuses a user dropping itself
 * (Neo4j: "Deleting yourself is not allowed."): only it knows who runs. */
int security_drop_user(struct security *s, struct security_req *req,
		       const char *name, bool if_exists, security_cb cb);

/* ALTER CURRENT USER SET PASSWORD FROM old TO new: old must be the current
 * password and new must differ from it (both
 * Neo.ClientError.General.InvalidArguments otherwise); clears the change
 * requirement. */
int security_change_own_password(struct security *s, struct security_req *req,
				 const char *user, const char *old_password,
				 size_t old_len, const char *new_password,
				 size_t new_len, security_cb cb);

/* SHOW USERS ---------------------------------------------------------------
 * Reads the committed system database; synchronous. */
struct security_user {
	char *name;                   /* owned */
	bool password_change_required;
	bool suspended;
};
/* All users in name order into a new array (*out, free with
 * security_users_free). Roles and home databases come with the roles
 * release. GRAFT_OK or GRAFT_ENOMEM. */
int security_list_users(struct security *s, struct security_user **out,
			size_t *n);
void security_users_free(struct security_user *users, size_t n);

#endif
