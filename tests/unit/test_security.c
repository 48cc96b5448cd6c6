/* Users in the system database: the first-start user, authentication with
 * its rate limit, the user commands, durability across a restart, and the
 * stored credentials format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "security/credentials.h"
#include "security/security.h"
#include "util/log.h"

#include "tmpdir.h"

struct fixture {
	char dir[256];
	char data[300];
	uv_loop_t loop;
	struct dbms *m;
	struct security *s;
	struct security_options o;
};

/* What a request's callback saw. */
struct outcome {
	int done;
	int status;
	bool expired;
	struct cypher_error error;
};

static void req_cb(struct security_req *req, int status)
{
	struct outcome *out = req->data;

	out->done = 1;
	out->status = status;
	out->expired = req->credentials_expired;
	out->error = req->error;
}

static void run_until_done(struct fixture *f, struct outcome *out)
{
	while (!out->done)
		if (uv_run(&f->loop, UV_RUN_ONCE) == 0 && !out->done)
			fail_msg("the loop ran dry before the callback");
}

static void closed_cb(void *arg)
{
	*(int *)arg = 1;
}

static void fx_open(struct fixture *f)
{
	char errmsg[GRAFT_ERRMSG_SIZE] = "";
	struct dbms_options o = {.data_dir = f->data};

	o.db.rotation_size = 1 << 20;
	o.db.retention.kind = GRAFT_RETAIN_ALL;
	if (dbms_open(&f->loop, &o, &f->m, errmsg) != GRAFT_OK)
		fail_msg("dbms_open: %s", errmsg);
	if (security_open(&f->loop, f->m, &f->o, &f->s, errmsg) != GRAFT_OK)
		fail_msg("security_open: %s", errmsg);
}

static void fx_close(struct fixture *f)
{
	int closed = 0;

	if (f->s != NULL)
		security_close(f->s, NULL, NULL);
	f->s = NULL;
	dbms_close(f->m, closed_cb, &closed);
	while (!closed)
		uv_run(&f->loop, UV_RUN_ONCE);
	f->m = NULL;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	assert_non_null(f);
	assert_non_null(tmpdir_make(f->dir, sizeof f->dir, "security"));
	snprintf(f->data, sizeof f->data, "%s/data", f->dir);
	assert_int_equal(uv_loop_init(&f->loop), 0);
	graft_log_open(NULL, GRAFT_LOG_WARN, true, NULL);
	security_options_default(&f->o);
	f->o.hash_iterations = 1000; /* fast tests; the format is the same */
	f->o.lock_time_ms = 200;
	fx_open(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (f->m != NULL)
		fx_close(f);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	tmpdir_remove(f->dir);
	free(f);
	return 0;
}

/* Helpers running one request to its callback ------------------------------ */

static void expect_started(int rv, struct security_req *req)
{
	if (rv != GRAFT_OK)
		fail_msg("request refused: %s %s", req->error.code,
			 req->error.message);
}

/* Logs in with counted strings (which may hold NUL bytes). */
static struct outcome auth_n(struct fixture *f, const char *user,
			     size_t user_len, const char *pw, size_t pw_len)
{
	struct outcome out = {0};
	struct security_req req = {.data = &out};

	expect_started(security_authenticate(f->s, &req, user, user_len, pw,
					     pw_len, req_cb),
		       &req);
	run_until_done(f, &out);
	return out;
}

static struct outcome auth(struct fixture *f, const char *user,
			   const char *pw)
{
	return auth_n(f, user, strlen(user), pw, strlen(pw));
}

static void assert_ok(struct outcome out)
{
	if (out.status != GRAFT_OK)
		fail_msg("expected success, got %s: %s", out.error.code,
			 out.error.message);
}

static void assert_code(struct outcome out, const char *code)
{
	assert_int_not_equal(out.status, GRAFT_OK);
	assert_string_equal(out.error.code, code);
}

static void seed(struct fixture *f)
{
	struct outcome out = {0};
	struct security_req req = {.data = &out};

	expect_started(security_seed(f->s, &req, req_cb), &req);
	run_until_done(f, &out);
	assert_ok(out);
}

static struct outcome create_n(struct fixture *f, const char *name,
			       const char *pw, size_t pw_len, bool change,
			       bool if_not_exists)
{
	struct outcome out = {0};
	struct security_req req = {.data = &out};

	expect_started(security_create_user(f->s, &req, name, pw, pw_len,
					    change, false, if_not_exists,
					    req_cb),
		       &req);
	run_until_done(f, &out);
	return out;
}

static struct outcome create(struct fixture *f, const char *name,
			     const char *pw, bool change, bool if_not_exists)
{
	return create_n(f, name, pw, strlen(pw), change, if_not_exists);
}

static struct outcome alter(struct fixture *f, const char *name,
			    const struct security_alter *a, bool if_exists)
{
	struct outcome out = {0};
	struct security_req req = {.data = &out};

	expect_started(security_alter_user(f->s, &req, name, a, if_exists,
					   req_cb),
		       &req);
	run_until_done(f, &out);
	return out;
}

static struct outcome drop(struct fixture *f, const char *name,
			   bool if_exists)
{
	struct outcome out = {0};
	struct security_req req = {.data = &out};

	expect_started(security_drop_user(f->s, &req, name, if_exists, req_cb),
		       &req);
	run_until_done(f, &out);
	return out;
}

static struct outcome change_own(struct fixture *f, const char *user,
				 const char *old, const char *pw)
{
	struct outcome out = {0};
	struct security_req req = {.data = &out};

	expect_started(security_change_own_password(f->s, &req, user, old,
						    strlen(old), pw,
						    strlen(pw), req_cb),
		       &req);
	run_until_done(f, &out);
	return out;
}

#define INVALID "Neo.ClientError.General.InvalidArguments"
#define UNAUTHORIZED "Neo.ClientError.Security.Unauthorized"
#define RATE_LIMIT "Neo.ClientError.Security.AuthenticationRateLimit"

/* Tests -------------------------------------------------------------------- */

static void test_credentials_verify_only_the_password(void **state)
{
	char a[CREDENTIALS_SIZE], b[CREDENTIALS_SIZE];

	(void)state;
	assert_int_equal(credentials_hash("secret", 6, 1000, a), GRAFT_OK);
	assert_int_equal(credentials_hash("secret", 6, 1000, b), GRAFT_OK);
	assert_string_not_equal(a, b); /* fresh salt each time */
	assert_non_null(strstr(a, "pbkdf2-sha256$1000$"));
	assert_null(strstr(a, "secret"));
	assert_true(credentials_verify(a, "secret", 6));
	assert_true(credentials_verify(b, "secret", 6));
	assert_false(credentials_verify(a, "secreT", 6));
	assert_false(credentials_verify(a, "secret!", 7));
	assert_false(credentials_verify(a, "", 0));
}

static void test_credentials_refuse_damaged_strings(void **state)
{
	char a[CREDENTIALS_SIZE], bad[CREDENTIALS_SIZE + 8];

	(void)state;
	assert_int_equal(credentials_hash("pw", 2, 10, a), GRAFT_OK);
	assert_false(credentials_verify(NULL, "pw", 2));
	assert_false(credentials_verify("", "pw", 2));
	assert_false(credentials_verify("pbkdf2-sha256$", "pw", 2));
	assert_false(credentials_verify("pbkdf2-sha256$0$x$y", "pw", 2));
	assert_false(credentials_verify("pbkdf2-sha256$99999999999$x$y", "pw", 2));
	snprintf(bad, sizeof bad, "%.*s", (int)strlen(a) - 1, a); /* cut */
	assert_false(credentials_verify(bad, "pw", 2));
	snprintf(bad, sizeof bad, "%sA", a); /* trailing garbage */
	assert_false(credentials_verify(bad, "pw", 2));
	snprintf(bad, sizeof bad, "sha1%s", a + 6);
	assert_false(credentials_verify(bad, "pw", 2));
	assert_int_equal(credentials_hash("pw", 2, 0, a), GRAFT_EINVAL);
}

static void test_seed_creates_neo4j_with_change_required(void **state)
{
	struct fixture *f = *state;
	struct security_req req = {0};
	struct security_user *users;
	struct outcome out;
	size_t n;

	seed(f);
	out = auth(f, "neo4j", "neo4j");
	assert_ok(out);
	assert_true(out.expired);
	assert_int_equal(security_list_users(f->s, &users, &n), GRAFT_OK);
	assert_int_equal(n, 1);
	assert_string_equal(users[0].name, "neo4j");
	assert_true(users[0].password_change_required);
	assert_false(users[0].suspended);
	security_users_free(users, n);
	/* Users exist now: seeding again does nothing and calls nothing. */
	assert_int_equal(security_seed(f->s, &req, req_cb), GRAFT_EEXIST);
}

static void test_wrong_password_and_unknown_user_are_unauthorized(void **state)
{
	struct fixture *f = *state;

	seed(f);
	assert_code(auth(f, "neo4j", "wrong"), UNAUTHORIZED);
	assert_code(auth(f, "nobody", "neo4j"), UNAUTHORIZED);
	assert_code(auth(f, "", ""), UNAUTHORIZED);
	assert_ok(auth(f, "neo4j", "neo4j"));
}

static void test_repeated_failures_lock_the_user_for_lock_time(void **state)
{
	struct fixture *f = *state;
	int i;

	seed(f);
	for (i = 0; i < 3; i++)
		assert_code(auth(f, "neo4j", "wrong"), UNAUTHORIZED);
	/* Locked: even the right password is refused. */
	assert_code(auth(f, "neo4j", "neo4j"), RATE_LIMIT);
	/* Other users are not affected. */
	assert_ok(create(f, "alice", "alicepass", false, false));
	assert_ok(auth(f, "alice", "alicepass"));
	usleep(250 * 1000);
	uv_update_time(&f->loop);
	assert_ok(auth(f, "neo4j", "neo4j"));
	/* Success resets the count: two failures do not lock. */
	assert_code(auth(f, "neo4j", "x"), UNAUTHORIZED);
	assert_code(auth(f, "neo4j", "x"), UNAUTHORIZED);
	assert_ok(auth(f, "neo4j", "neo4j"));
}

static void test_change_own_password(void **state)
{
	struct fixture *f = *state;
	struct outcome out;

	seed(f);
	out = change_own(f, "neo4j", "neo4j", "neo4jneo4j");
	assert_ok(out);
	out = auth(f, "neo4j", "neo4jneo4j");
	assert_ok(out);
	assert_false(out.expired);
	assert_code(auth(f, "neo4j", "neo4j"), UNAUTHORIZED);
	out = change_own(f, "neo4j", "neo4jneo4j", "neo4jneo4j");
	assert_code(out, INVALID);
	assert_non_null(strstr(out.error.message, "cannot be the same"));
	out = change_own(f, "neo4j", "wrongwrong", "otherpass");
	assert_code(out, INVALID);
	assert_non_null(strstr(out.error.message, "Invalid principal"));
	assert_ok(auth(f, "neo4j", "neo4jneo4j"));
}

static void test_short_password_is_refused_at_once(void **state)
{
	struct fixture *f = *state;
	struct security_req req = {0};

	seed(f);
	assert_int_equal(security_change_own_password(f->s, &req, "neo4j",
						      "neo4j", 5, "short", 5,
						      req_cb),
			 GRAFT_EINVAL);
	assert_string_equal(req.error.code, INVALID);
	assert_non_null(strstr(req.error.message, "at least 8 characters"));
	assert_int_equal(security_create_user(f->s, &req, "bob", "1234567", 7,
					      true, false, false, req_cb),
			 GRAFT_EINVAL);
	assert_int_equal(security_create_user(f->s, &req, "", "12345678", 8,
					      true, false, false, req_cb),
			 GRAFT_EINVAL);
}

static void test_create_alter_drop_and_list(void **state)
{
	struct fixture *f = *state;
	struct security_alter suspend = {NULL, 0, -1, 1},
			      activate = {NULL, 0, -1, 0};
	struct security_alter repass = {"bobsecond", 9, 1, -1};
	struct security_user *users;
	struct outcome out;
	size_t n;

	seed(f);
	assert_ok(create(f, "bob", "bobfirst", false, false));
	assert_ok(create(f, "alice", "alicepass", true, false));
	out = create(f, "bob", "whatever1", false, false);
	assert_code(out, INVALID);
	assert_non_null(strstr(out.error.message, "already exists"));
	assert_ok(create(f, "bob", "whatever1", false, true));
	assert_ok(auth(f, "bob", "bobfirst")); /* IF NOT EXISTS left it */

	assert_int_equal(security_list_users(f->s, &users, &n), GRAFT_OK);
	assert_int_equal(n, 3);
	assert_string_equal(users[0].name, "alice");
	assert_true(users[0].password_change_required);
	assert_string_equal(users[1].name, "bob");
	assert_false(users[1].password_change_required);
	assert_string_equal(users[2].name, "neo4j");
	security_users_free(users, n);

	assert_ok(alter(f, "bob", &suspend, false));
	assert_code(auth(f, "bob", "bobfirst"), UNAUTHORIZED);
	assert_ok(alter(f, "bob", &activate, false));
	assert_ok(auth(f, "bob", "bobfirst"));
	assert_ok(alter(f, "bob", &repass, false));
	out = auth(f, "bob", "bobsecond");
	assert_ok(out);
	assert_true(out.expired);
	assert_code(alter(f, "carol", &suspend, false), INVALID);
	assert_ok(alter(f, "carol", &suspend, true));

	assert_ok(drop(f, "bob", false));
	assert_code(auth(f, "bob", "bobsecond"), UNAUTHORIZED);
	out = drop(f, "bob", false);
	assert_code(out, INVALID);
	assert_non_null(strstr(out.error.message, "does not exist"));
	assert_ok(drop(f, "bob", true));
}

/* Writes submitted together apply in order, each seeing the one before. */
static void test_queued_writes_apply_in_order(void **state)
{
	struct fixture *f = *state;
	struct outcome out[3] = {{0}};
	struct security_req req[3] = {{.data = &out[0]},
				      {.data = &out[1]},
				      {.data = &out[2]}};

	expect_started(security_create_user(f->s, &req[0], "dave", "davepass",
					    8, false, false, false, req_cb),
		       &req[0]);
	expect_started(security_create_user(f->s, &req[1], "dave", "davepass2",
					    9, false, false, false, req_cb),
		       &req[1]);
	expect_started(security_drop_user(f->s, &req[2], "dave", false, req_cb),
		       &req[2]);
	run_until_done(f, &out[2]);
	assert_true(out[0].done && out[1].done);
	assert_ok(out[0]);
	assert_code(out[1], INVALID);
	assert_ok(out[2]);
}

/* A chain of user commands where each callback submits the next on the
 * same request, as the Cypher executor runs BEGIN; CREATE USER a; CREATE
 * USER b; COMMIT. The second used to be started twice (by the submit in
 * the callback and by the queue after it): a pool thread then ran a
 * zeroed work item and the server died. */
struct chain {
	struct security *s;
	struct security_req req;
	const char *names[3];
	int next;
	int status;
	bool done;
};

static void chain_cb(struct security_req *req, int status)
{
	struct chain *c = req->data;
	const char *name;

	c->status = status;
	if (status != GRAFT_OK || c->names[c->next] == NULL) {
		c->done = true;
		return;
	}
	name = c->names[c->next++];
	memset(&c->req, 0, sizeof c->req);
	c->req.data = c;
	expect_started(security_create_user(c->s, &c->req, name, "chainpass",
					    9, false, false, false, chain_cb),
		       &c->req);
}

static void test_callback_submitting_the_next_write_runs_it_once(void **state)
{
	struct fixture *f = *state;
	struct chain c = {.s = f->s, .names = {"amy", "ben", NULL}};

	c.req.data = &c;
	expect_started(security_create_user(f->s, &c.req, "ann", "chainpass",
					    9, false, false, false, chain_cb),
		       &c.req);
	while (!c.done)
		if (uv_run(&f->loop, UV_RUN_ONCE) == 0 && !c.done)
			fail_msg("the loop ran dry before the chain ended");
	assert_int_equal(c.status, GRAFT_OK);
	assert_ok(auth(f, "ann", "chainpass"));
	assert_ok(auth(f, "amy", "chainpass"));
	assert_ok(auth(f, "ben", "chainpass"));
}

/* A server stopping while logins hash and a user change waits in the
 * queue: the store is freed only after every callback ran (it used to be
 * freed at once and the pool's completion read it: a use after free). */
static void test_close_waits_for_requests_in_the_pool(void **state)
{
	struct fixture *f = *state;
	struct outcome out[6] = {{0}};
	struct security_req req[6];
	int i, closed = 0;

	seed(f);
	for (i = 0; i < 5; i++) {
		req[i] = (struct security_req){.data = &out[i]};
		expect_started(security_authenticate(f->s, &req[i], "neo4j", 5,
						     "neo4j", 5, req_cb),
			       &req[i]);
	}
	req[5] = (struct security_req){.data = &out[5]};
	expect_started(security_create_user(f->s, &req[5], "erin", "erinpass",
					    8, false, false, false, req_cb),
		       &req[5]);
	security_close(f->s, closed_cb, &closed);
	f->s = NULL;
	assert_int_equal(closed, 0);
	while (!closed)
		if (uv_run(&f->loop, UV_RUN_ONCE) == 0 && !closed)
			fail_msg("the loop ran dry before the store closed");
	for (i = 0; i < 6; i++)
		assert_true(out[i].done);
	assert_ok(out[0]);
	assert_ok(out[5]);
}

/* More logins at once than pool threads hashing may take: the rest wait
 * their turn and every one gets its own answer. */
static void test_concurrent_logins_all_answered(void **state)
{
	struct fixture *f = *state;
	struct outcome out[10] = {{0}};
	struct security_req req[10];
	char ghost[16];
	int i;

	seed(f);
	for (i = 0; i < 10; i++) {
		/* Failures under names of their own: no lock-out here. */
		snprintf(ghost, sizeof ghost, "ghost%d", i);
		req[i] = (struct security_req){.data = &out[i]};
		expect_started(security_authenticate(
				       f->s, &req[i], i % 2 ? "neo4j" : ghost,
				       strlen(i % 2 ? "neo4j" : ghost), "neo4j",
				       5, req_cb),
			       &req[i]);
	}
	run_until_done(f, &out[9]);
	for (i = 0; i < 10; i++) {
		run_until_done(f, &out[i]);
		if (i % 2)
			assert_int_equal(out[i].status, GRAFT_OK);
		else
			assert_string_equal(out[i].error.code, UNAUTHORIZED);
	}
}

static void test_users_survive_a_restart(void **state)
{
	struct fixture *f = *state;
	struct outcome out;

	seed(f);
	assert_ok(change_own(f, "neo4j", "neo4j", "letmein123"));
	fx_close(f);
	fx_open(f);
	out = auth(f, "neo4j", "letmein123");
	assert_ok(out);
	assert_false(out.expired);
}

static void test_set_initial_password(void **state)
{
	struct fixture *f = *state;
	struct outcome out = {0};
	struct security_req req = {.data = &out};

	expect_started(security_set_initial_password(f->s, &req, "initial123",
						     10, false, req_cb),
		       &req);
	run_until_done(f, &out);
	assert_ok(out);
	out = auth(f, "neo4j", "initial123");
	assert_ok(out);
	assert_false(out.expired);
	/* The first start then finds a user and seeds nothing. */
	assert_int_equal(security_seed(f->s, &req, req_cb), GRAFT_EEXIST);
	out = (struct outcome){0};
	expect_started(security_set_initial_password(f->s, &req, "initial456",
						     10, true, req_cb),
		       &req);
	run_until_done(f, &out);
	out = auth(f, "neo4j", "initial456");
	assert_ok(out);
	assert_true(out.expired);
}

/* Passwords are counted: "pw\0x" is neither "pw" nor anything cut at the
 * NUL, and a name with a NUL is not the name before it. */
static void test_password_with_nul_is_the_whole_password(void **state)
{
	struct fixture *f = *state;
	static const char nul_pw[] = "nulpass1\0tail";

	seed(f);
	assert_ok(create(f, "ada", "adapass1", false, false));
	assert_code(auth_n(f, "ada", 3, "adapass1\0x", 10), UNAUTHORIZED);
	assert_ok(auth(f, "ada", "adapass1"));
	assert_code(auth_n(f, "ada\0x", 5, "adapass1", 8), UNAUTHORIZED);
	assert_ok(create_n(f, "bea", nul_pw, sizeof nul_pw - 1, false, false));
	assert_code(auth(f, "bea", "nulpass1"), UNAUTHORIZED);
	assert_ok(auth_n(f, "bea", 3, nul_pw, sizeof nul_pw - 1));
}

static void test_auth_disabled_accepts_anyone(void **state)
{
	struct fixture *f = *state;

	security_close(f->s, NULL, NULL);
	f->o.auth_enabled = false;
	assert_int_equal(security_open(&f->loop, f->m, &f->o, &f->s, NULL),
			 GRAFT_OK);
	assert_false(security_auth_enabled(f->s));
	assert_ok(auth(f, "anyone", "anything"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_credentials_verify_only_the_password),
		T(test_credentials_refuse_damaged_strings),
		T(test_seed_creates_neo4j_with_change_required),
		T(test_wrong_password_and_unknown_user_are_unauthorized),
		T(test_repeated_failures_lock_the_user_for_lock_time),
		T(test_change_own_password),
		T(test_short_password_is_refused_at_once),
		T(test_create_alter_drop_and_list),
		T(test_queued_writes_apply_in_order),
		T(test_concurrent_logins_all_answered),
		T(test_close_waits_for_requests_in_the_pool),
		T(test_callback_submitting_the_next_write_runs_it_once),
		T(test_users_survive_a_restart),
		T(test_set_initial_password),
		T(test_password_with_nul_is_the_whole_password),
		T(test_auth_disabled_accepts_anyone),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
