/* Unit tests for the connection state machine (src/net/sm.h): moves the
 * table allows go through, a move it does not allow and a free outside the
 * freeable state stop the process with a log line naming the connection
 * kind and the states (checked in a forked child, whose stderr the test
 * reads), and a free in the freeable state does not. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "net/sm.h"

enum { T_OPEN, T_BUSY, T_CLOSED, T_N };

static const char *const names[T_N] = {"OPEN", "BUSY", "CLOSED"};

static const bool allowed[T_N][T_N] = {
	[T_OPEN] = {[T_BUSY] = true, [T_CLOSED] = true},
	[T_BUSY] = {[T_OPEN] = true},
};

static const struct sm_def def = {
	.what = "test connection",
	.n_states = T_N,
	.names = names,
	.allowed = &allowed[0][0],
	.freeable = T_CLOSED,
};

/* Runs fn in a child whose stderr goes to a file; returns the signal that
 * ended it (0 if it exited) and the first bytes it logged in out. */
static int run_child(void (*fn)(void), char *out, size_t n)
{
	FILE *err = tmpfile();
	int status;
	size_t got;
	pid_t pid;

	assert_non_null(err);
	fflush(stderr);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fileno(err), STDERR_FILENO);
		fn();
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	rewind(err);
	got = fread(out, 1, n - 1, err);
	out[got] = '\0';
	fclose(err);
	return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

static void test_sm_moves_the_table_allows(void **state)
{
	struct sm m;

	(void)state;
	sm_init(&m, &def, T_OPEN);
	assert_true(sm_allows(&m, T_BUSY));
	assert_false(sm_allows(&m, T_OPEN));
	assert_false(sm_allows(&m, T_N));
	sm_move(&m, T_BUSY);
	assert_int_equal(sm_state(&m), T_BUSY);
	assert_string_equal(sm_state_name(&m), "BUSY");
	sm_move(&m, T_OPEN);
	sm_move(&m, T_CLOSED);
	assert_false(sm_allows(&m, T_OPEN));
	sm_check_freeable(&m);
}

static void move_busy_to_closed(void)
{
	struct sm m;

	sm_init(&m, &def, T_BUSY);
	sm_move(&m, T_CLOSED);
}

static void test_sm_move_the_table_refuses_aborts_naming_both(void **state)
{
	char out[1024];

	(void)state;
	assert_int_equal(run_child(move_busy_to_closed, out, sizeof out),
			 SIGABRT);
	assert_non_null(
		strstr(out, "test connection: no transition BUSY -> CLOSED"));
}

static void free_while_busy(void)
{
	struct sm m;

	sm_init(&m, &def, T_OPEN);
	sm_move(&m, T_BUSY);
	sm_check_freeable(&m);
}

static void test_sm_free_outside_freeable_state_aborts(void **state)
{
	char out[1024];

	(void)state;
	assert_int_equal(run_child(free_while_busy, out, sizeof out),
			 SIGABRT);
	assert_non_null(strstr(out, "test connection: freed in state BUSY"));
}

static void free_when_closed(void)
{
	struct sm m;

	sm_init(&m, &def, T_OPEN);
	sm_move(&m, T_CLOSED);
	sm_check_freeable(&m);
}

static void test_sm_free_in_freeable_state_goes_on(void **state)
{
	char out[1024];

	(void)state;
	assert_int_equal(run_child(free_when_closed, out, sizeof out), 0);
	assert_string_equal(out, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sm_moves_the_table_allows),
		cmocka_unit_test(
			test_sm_move_the_table_refuses_aborts_naming_both),
		cmocka_unit_test(test_sm_free_outside_freeable_state_aborts),
		cmocka_unit_test(test_sm_free_in_freeable_state_goes_on),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
