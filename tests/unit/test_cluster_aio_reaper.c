/* The AIO reaper (src/cluster/aio_reaper.c): an io_destroy made through
 * syscall(2), as libraft 0.15 makes it on the event loop when a Raft log
 * segment closes, is done by the reaper's thread once it is started, and
 * by the caller before; every other system call goes through unchanged. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <linux/aio_abi.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "cluster/cluster_int.h"

static aio_context_t new_ctx(void)
{
	aio_context_t ctx = 0;

	assert_int_equal(syscall(SYS_io_setup, 1, &ctx), 0);
	return ctx;
}

/* io_submit of nothing: 0 on a live context, EINVAL on a destroyed one. */
static bool ctx_alive(aio_context_t ctx)
{
	long rv = syscall(SYS_io_submit, ctx, 0, NULL);

	assert_true(rv == 0 || errno == EINVAL);
	return rv == 0;
}

static void test_io_destroy_runs_on_the_reaper_once_started(void **state)
{
	aio_context_t ctx;
	uint64_t before;
	(void)state;

	/* Not started: the caller destroys it, as libc would. */
	ctx = new_ctx();
	assert_true(ctx_alive(ctx));
	assert_int_equal(syscall(SYS_io_destroy, ctx), 0);
	assert_false(ctx_alive(ctx));
	assert_int_equal(cluster_aio_reaper_drain(), 0);

	assert_int_equal(cluster_aio_reaper_start(), 0);
	assert_int_equal(cluster_aio_reaper_start(), 0); /* once */
	before = cluster_aio_reaper_drain();
	for (int i = 0; i < 3; i++) {
		ctx = new_ctx();
		assert_int_equal(syscall(SYS_io_destroy, ctx), 0);
		assert_int_equal(cluster_aio_reaper_drain(), before + 1);
		assert_false(ctx_alive(ctx));
		before++;
	}
}

/* Arguments and results of other calls pass through unchanged. */
static void test_other_system_calls_pass_through(void **state)
{
	(void)state;
	assert_int_equal(syscall(SYS_getpid), getpid());
	assert_int_equal(syscall(SYS_close, -1), -1);
	assert_int_equal(errno, EBADF);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_io_destroy_runs_on_the_reaper_once_started),
		cmocka_unit_test(test_other_system_calls_pass_through),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
