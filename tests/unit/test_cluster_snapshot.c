/* Raft snapshots (src/cluster/snapshot.c): libraft hands a taken snapshot
 * back to the FSM (snapshot_finalize) whether or not its files were
 * written, so the "snapshot taken" line must follow what libraft recorded,
 * never the mere call. The member here is a bare struct cluster, as
 * libraft leaves it after a snapshot put succeeded or failed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cluster/cluster_int.h"
#include "util/log.h"

#include "tmpdir.h"

struct fixture {
	char dir[256];
	char log[400];
	struct cluster *c;
};

static int setup(void **state)
{
	char errmsg[GRAFT_ERRMSG_SIZE];
	struct fixture *f = calloc(1, sizeof *f);

	assert_non_null(f);
	assert_non_null(tmpdir_make(f->dir, sizeof f->dir, "snap"));
	snprintf(f->log, sizeof f->log, "%s/graft.log", f->dir);
	assert_int_equal(graft_log_open(f->log, GRAFT_LOG_INFO, false, errmsg),
			 GRAFT_OK);
	f->c = calloc(1, sizeof *f->c);
	assert_non_null(f->c);
	snprintf(f->c->o.state_dir, sizeof f->c->o.state_dir, "%s", f->dir);
	cluster_snap_init(f->c);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	cluster_snap_fini(f->c);
	free(f->c);
	graft_log_close();
	assert_int_equal(tmpdir_remove(f->dir), 0);
	free(f);
	return 0;
}

/* Ends a snapshot at index 200 whose put left the log's snapshot index at
 * logged_index; returns the log's text. */
static char *finish_at(struct fixture *f, uint64_t logged_index)
{
	static char text[8192];
	struct raft_buffer *bufs = NULL;
	unsigned n_bufs = 0;
	size_t n;
	FILE *in;

	f->c->snap_index = 200;
	f->c->snap_term = 3;
	f->c->raft.log.snapshot.last_index = logged_index;
	cluster_snap_finish(f->c, &bufs, &n_bufs);
	in = fopen(f->log, "r");
	assert_non_null(in);
	n = fread(text, 1, sizeof text - 1, in);
	text[n] = '\0';
	fclose(in);
	return text;
}

static void test_snapshot_taken_logged_once_written(void **state)
{
	char *log = finish_at(*state, 200);

	assert_non_null(strstr(log, "Raft snapshot taken at index 200 (term 3)"));
}

static void test_snapshot_not_written_is_not_logged_as_taken(void **state)
{
	char *log = finish_at(*state, 100);

	assert_null(strstr(log, "snapshot taken"));
	assert_non_null(strstr(log, "Raft snapshot at index 200 could not be "
				    "written"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_snapshot_taken_logged_once_written, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_snapshot_not_written_is_not_logged_as_taken, setup,
			teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
