/* Unit tests for backup artifacts and chains: round trips with and without
 * compression, damage and truncation refused with the file named, failed
 * backups leave nothing that looks valid, and chain planning (newest FULL,
 * contiguous DIFFs, point in time, gaps named, the database id). */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "backup/artifact.h"
#include "backup/chain.h"
#include "backup_fixture.h"
#include "tmpdir.h"

struct fixture {
	char dir[256];
	char errmsg[GRAFT_ERRMSG_SIZE];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	assert_non_null(f);
	assert_non_null(tmpdir_make(f->dir, sizeof f->dir, "backup"));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	tmpdir_remove(f->dir);
	free(f);
	return 0;
}

static struct backup_meta meta(enum backup_type type, uint64_t ckpt,
			       uint64_t first, uint64_t last, uint64_t time_ms)
{
	struct backup_meta m;

	memset(&m, 0, sizeof m);
	m.type = type;
	m.compressed = true;
	m.time_ms = time_ms;
	m.checkpoint_txid = ckpt;
	m.first_txid = first;
	m.last_txid = last;
	snprintf(m.db, sizeof m.db, "neo4j");
	snprintf(m.source, sizeof m.source, "127.0.0.1:6362");
	return m;
}

/* Writes an artifact of m: a store copy of ckpt_len bytes (FULL with a
 * checkpoint) and records "tx <id>" for first..last. */
static void write_artifact(struct fixture *f, const struct backup_meta *m,
			   size_t ckpt_len, char *path)
{
	struct backup_writer *w;
	struct graft_buf b;
	char rec[32];
	uint64_t id;
	size_t i;

	graft_buf_init(&b);
	assert_int_equal(backup_writer_open(f->dir, m, &w, f->errmsg), GRAFT_OK);
	if (m->checkpoint_txid > 0) {
		assert_int_equal(backup_stream_put_ckpt_head(&b, ckpt_len),
				 GRAFT_OK);
		for (i = 0; i < ckpt_len; i++)
			assert_int_equal(graft_buf_append(&b, &(uint8_t){
						 (uint8_t)(i * 7)}, 1),
					 GRAFT_OK);
	}
	for (id = m->first_txid; id <= m->last_txid; id++) {
		snprintf(rec, sizeof rec, "tx %" PRIu64, id);
		assert_int_equal(backup_stream_put_tx(&b, id, rec,
						      (uint32_t)strlen(rec)),
				 GRAFT_OK);
	}
	assert_int_equal(backup_stream_put_end(&b, m->last_txid + 1 -
						       m->first_txid),
			 GRAFT_OK);
	/* in two writes, to cross an item boundary */
	assert_int_equal(backup_writer_write(w, b.data, b.len / 2, f->errmsg),
			 GRAFT_OK);
	assert_int_equal(backup_writer_write(w, b.data + b.len / 2,
					     b.len - b.len / 2, f->errmsg),
			 GRAFT_OK);
	assert_int_equal(backup_writer_finish(w, path, f->errmsg), GRAFT_OK);
	graft_buf_free(&b);
}

struct collected {
	uint64_t ckpt_bytes;
	uint64_t n_tx, last;
	bool ckpt_ok;
};

static int on_ckpt(void *data, const void *p, size_t n, char *errmsg)
{
	struct collected *c = data;
	const uint8_t *d = p;
	size_t i;

	(void)errmsg;
	for (i = 0; i < n; i++)
		if (d[i] != (uint8_t)((c->ckpt_bytes + i) * 7))
			c->ckpt_ok = false;
	c->ckpt_bytes += n;
	return GRAFT_OK;
}

static int on_tx(void *data, uint64_t txid, const void *rec, size_t len,
		 char *errmsg)
{
	struct collected *c = data;
	char want[32];

	(void)errmsg;
	snprintf(want, sizeof want, "tx %" PRIu64, txid);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(rec, want, len);
	c->n_tx++;
	c->last = txid;
	return GRAFT_OK;
}

static void round_trip(struct fixture *f, bool compressed)
{
	struct backup_meta m = meta(BACKUP_FULL, 5, 6, 40, 1700000000000ull), got;
	struct collected c = {.ckpt_ok = true};
	struct backup_stream_cbs cbs = {&c, on_ckpt, on_tx};
	char path[4096];

	m.compressed = compressed;
	write_artifact(f, &m, 300000, path);
	assert_non_null(strstr(path, "/neo4j-2023-11-14T22-13-20.backup"));
	assert_int_equal(backup_read(path, &got, &cbs, f->errmsg), GRAFT_OK);
	assert_int_equal(got.type, BACKUP_FULL);
	assert_int_equal(got.compressed, compressed);
	assert_int_equal(got.time_ms, m.time_ms);
	assert_int_equal(got.checkpoint_txid, 5);
	assert_int_equal(got.first_txid, 6);
	assert_int_equal(got.last_txid, 40);
	assert_string_equal(got.db, "neo4j");
	assert_string_equal(got.source, "127.0.0.1:6362");
	assert_int_equal(c.ckpt_bytes, 300000);
	assert_true(c.ckpt_ok);
	assert_int_equal(c.n_tx, 35);
	assert_int_equal(c.last, 40);
}

static void test_backup_round_trips_compressed(void **state)
{
	round_trip(*state, true);
}

static void test_backup_round_trips_uncompressed(void **state)
{
	round_trip(*state, false);
}

static void test_backup_compression_shrinks_repetitive_data(void **state)
{
	struct fixture *f = *state;
	struct backup_meta m = meta(BACKUP_FULL, 5, 6, 5, 1000);
	char a[4096], b[4096];
	struct stat sa, sb;

	write_artifact(f, &m, 1 << 20, a);
	m.compressed = false;
	write_artifact(f, &m, 1 << 20, b);
	assert_string_not_equal(a, b); /* same second: a -2 suffix */
	assert_int_equal(stat(a, &sa), 0);
	assert_int_equal(stat(b, &sb), 0);
	assert_true(sa.st_size * 10 < sb.st_size);
}

static void flip(const char *path, off_t off)
{
	int fd = open(path, O_RDWR);
	uint8_t c;

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &c, 1, off), 1);
	c ^= 0x10;
	assert_int_equal(pwrite(fd, &c, 1, off), 1);
	close(fd);
}

static void test_backup_refuses_flipped_byte_naming_file(void **state)
{
	struct fixture *f = *state;
	struct backup_meta m = meta(BACKUP_DIFF, 0, 11, 500, 1000), got;
	char path[4096];
	struct stat st;

	write_artifact(f, &m, 0, path);
	assert_int_equal(stat(path, &st), 0);
	flip(path, st.st_size / 2);
	assert_int_equal(backup_read(path, &got, NULL, f->errmsg),
			 GRAFT_ECORRUPT);
	assert_non_null(strstr(f->errmsg, path));
	assert_non_null(strstr(f->errmsg, "checksum"));
}

static void test_backup_refuses_truncated_file(void **state)
{
	struct fixture *f = *state;
	struct backup_meta m = meta(BACKUP_DIFF, 0, 11, 500, 1000), got;
	char path[4096];
	struct stat st;

	write_artifact(f, &m, 0, path);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(truncate(path, st.st_size - 100), 0);
	assert_int_equal(backup_read(path, &got, NULL, f->errmsg),
			 GRAFT_ECORRUPT);
	assert_non_null(strstr(f->errmsg, path));
}

static size_t count_files(const char *dir, const char *suffix)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0, l;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		l = strlen(de->d_name);
		if (l >= strlen(suffix) &&
		    strcmp(de->d_name + l - strlen(suffix), suffix) == 0)
			n++;
	}
	closedir(d);
	return n;
}

static void test_backup_failed_leaves_nothing_valid(void **state)
{
	struct fixture *f = *state;
	struct backup_meta m = meta(BACKUP_FULL, 0, 1, 10, 1000);
	struct backup_writer *w;
	char failed[4096];

	assert_int_equal(backup_writer_open(f->dir, &m, &w, f->errmsg), GRAFT_OK);
	assert_int_equal(backup_writer_write(w, "T", 1, f->errmsg), GRAFT_OK);
	backup_writer_abort(w, false, failed);
	assert_int_equal(count_files(f->dir, ""), 2); /* . and .. */

	assert_int_equal(backup_writer_open(f->dir, &m, &w, f->errmsg), GRAFT_OK);
	backup_writer_abort(w, true, failed);
	assert_int_equal(count_files(f->dir, ".backup"), 0);
	assert_int_equal(count_files(f->dir, ".backup.failed"), 1);
	assert_non_null(strstr(failed, ".backup.failed"));
}

/* A backup client killed with -9 leaves its .backup.tmp; the next run
 * removes it, but not the one a running backup is writing, nor another
 * database's. */
static void test_backup_stale_tmp_of_a_killed_client_is_removed(void **state)
{
	struct fixture *f = *state;
	struct backup_meta killed = meta(BACKUP_FULL, 0, 1, 10, 1000);
	struct backup_meta live = meta(BACKUP_FULL, 0, 1, 10, 2000);
	struct backup_meta other = meta(BACKUP_FULL, 0, 1, 10, 3000);
	struct backup_writer *w;
	char path[512], failed[4096];
	FILE *report = tmpfile();
	int status;
	pid_t pid;

	assert_non_null(report);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) { /* the client, killed mid-write */
		if (backup_writer_open(f->dir, &killed, &w, f->errmsg) ==
			    GRAFT_OK &&
		    backup_writer_write(w, "T", 1, f->errmsg) == GRAFT_OK)
			raise(SIGKILL);
		_exit(1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	snprintf(other.db, sizeof other.db, "other");
	snprintf(path, sizeof path, "%s/other-1970-01-01T00-00-03.backup.tmp",
		 f->dir);
	assert_int_equal(close(open(path, O_WRONLY | O_CREAT, 0640)), 0);
	assert_int_equal(backup_writer_open(f->dir, &live, &w, f->errmsg),
			 GRAFT_OK);
	assert_int_equal(count_files(f->dir, ".backup.tmp"), 3);

	assert_int_equal(backup_remove_stale_tmp(f->dir, "neo4j", report,
						 f->errmsg), GRAFT_OK);
	assert_int_equal(count_files(f->dir, ".backup.tmp"), 2);
	snprintf(path, sizeof path, "%s/neo4j-1970-01-01T00-00-01.backup.tmp",
		 f->dir);
	assert_int_equal(access(path, F_OK), -1);
	rewind(report);
	assert_non_null(fgets(failed, sizeof failed, report));
	assert_non_null(strstr(failed, "removed"));
	assert_non_null(strstr(failed, "neo4j-1970-01-01T00-00-01.backup.tmp"));
	backup_writer_abort(w, false, failed);
	fclose(report);
}

static void test_backup_stream_refuses_gap(void **state)
{
	struct fixture *f = *state;
	struct backup_stream_parser p;
	struct graft_buf b;

	graft_buf_init(&b);
	assert_int_equal(backup_stream_put_tx(&b, 1, "a", 1), GRAFT_OK);
	assert_int_equal(backup_stream_put_tx(&b, 3, "c", 1), GRAFT_OK);
	backup_stream_parser_init(&p, false, 1, 3, NULL);
	assert_int_equal(backup_stream_parse(&p, b.data, b.len, f->errmsg),
			 GRAFT_ECORRUPT);
	assert_non_null(strstr(f->errmsg, "transaction 3"));
	backup_stream_parser_free(&p);
	graft_buf_free(&b);
}

/* Chains */

static void chain_dir(struct fixture *f, char paths[][4096])
{
	struct backup_meta m[] = {
		meta(BACKUP_FULL, 0, 1, 10, 1000),
		meta(BACKUP_DIFF, 0, 11, 20, 2000),
		meta(BACKUP_DIFF, 0, 21, 30, 3000),
		meta(BACKUP_FULL, 25, 26, 35, 4000),
		meta(BACKUP_DIFF, 0, 36, 50, 5000),
	};
	size_t i;

	for (i = 0; i < sizeof m / sizeof m[0]; i++)
		write_artifact(f, &m[i], 64, paths[i]);
}

static void plan(struct fixture *f, uint64_t until, int want_rv,
		 size_t want_n, uint64_t want_end, uint64_t want_full_last)
{
	const struct backup_entry *c[16];
	struct backup_set s;
	uint64_t end = 0;
	size_t n = 0;

	backup_set_init(&s);
	assert_int_equal(backup_set_add(&s, f->dir, f->errmsg), GRAFT_OK);
	assert_int_equal(backup_chain_plan(&s, "neo4j", until, c, &n, &end,
					   f->errmsg),
			 want_rv);
	if (want_rv == GRAFT_OK) {
		assert_int_equal(n, want_n);
		assert_int_equal(end, want_end);
		assert_int_equal(c[0]->m.type, BACKUP_FULL);
		assert_int_equal(c[0]->m.last_txid, want_full_last);
	}
	backup_set_free(&s);
}

static void test_backup_chain_newest_full_and_diffs(void **state)
{
	struct fixture *f = *state;
	char paths[5][4096];

	chain_dir(f, paths);
	plan(f, UINT64_MAX, GRAFT_OK, 2, 50, 35);
	plan(f, 15, GRAFT_OK, 2, 15, 10);  /* before the newer FULL's store */
	plan(f, 30, GRAFT_OK, 1, 30, 35); /* the newer store copy wins */
	plan(f, 24, GRAFT_OK, 3, 24, 10);
	plan(f, 27, GRAFT_OK, 1, 27, 35); /* inside the newer FULL */
	plan(f, 60, GRAFT_ENOTFOUND, 0, 0, 0); /* past the end of the chain */
}

static void test_backup_chain_gap_names_artifact(void **state)
{
	struct fixture *f = *state;
	char paths[5][4096];

	chain_dir(f, paths);
	assert_int_equal(unlink(paths[1]), 0); /* DIFF 11..20 */
	plan(f, 24, GRAFT_ECORRUPT, 0, 0, 0);
	assert_non_null(strstr(f->errmsg, paths[2]));
	assert_non_null(strstr(f->errmsg, "11..20"));
	plan(f, UINT64_MAX, GRAFT_OK, 2, 50, 35); /* the newer chain is whole */
	plan(f, 5, GRAFT_OK, 1, 5, 10);
}

static void test_backup_chain_without_full_is_not_found(void **state)
{
	struct fixture *f = *state;
	struct backup_meta m = meta(BACKUP_DIFF, 0, 11, 20, 2000);
	char path[4096];

	write_artifact(f, &m, 0, path);
	plan(f, UINT64_MAX, GRAFT_ENOTFOUND, 0, 0, 0);
}

/* Database ids */

static struct backup_meta with_id(struct backup_meta m, uint64_t id)
{
	m.has_db_id = true;
	m.db_id = id;
	return m;
}

static void test_backup_header_carries_the_database_id(void **state)
{
	struct fixture *f = *state;
	struct backup_meta m = with_id(meta(BACKUP_FULL, 0, 1, 3, 1000), 7);
	struct backup_meta zero = with_id(meta(BACKUP_FULL, 0, 1, 3, 2000), 0);
	struct backup_meta got;
	char path[4096], zpath[4096];

	write_artifact(f, &m, 0, path);
	assert_int_equal(backup_read(path, &got, NULL, f->errmsg), GRAFT_OK);
	assert_true(got.has_db_id);
	assert_int_equal(got.db_id, 7);
	/* 0 (system, the default database) is an id, not its absence */
	write_artifact(f, &zero, 0, zpath);
	assert_int_equal(backup_read_meta(zpath, &got, f->errmsg), GRAFT_OK);
	assert_true(got.has_db_id);
	assert_int_equal(got.db_id, 0);
	/* an artifact written before ids reads whole, with none */
	backup_fixture_strip_id(path);
	assert_int_equal(backup_read(path, &got, NULL, f->errmsg), GRAFT_OK);
	assert_false(got.has_db_id);
	assert_int_equal(got.last_txid, 3);
}

static void test_backup_same_db_id_only_when_both_are_known(void **state)
{
	struct backup_meta a = with_id(meta(BACKUP_FULL, 0, 1, 3, 1000), 3);
	struct backup_meta b = with_id(a, 4), none = meta(BACKUP_FULL, 0, 1, 3, 1);

	(void)state;
	assert_true(backup_same_db_id(&a, &a));
	assert_false(backup_same_db_id(&a, &b));
	assert_true(backup_same_db_id(&a, &none));
	assert_true(backup_same_db_id(&none, &b));
}

/* The database of id 3 reached transaction 50; it was dropped, and the
 * one created since under its name (id 9) is at 8. The name's chain is the
 * new one's, though the old one's transaction ids run higher. */
static void test_backup_chain_is_of_the_database_taken_last(void **state)
{
	struct fixture *f = *state;
	struct backup_meta m[] = {
		with_id(meta(BACKUP_FULL, 0, 1, 40, 1000), 3),
		with_id(meta(BACKUP_DIFF, 0, 41, 50, 2000), 3),
		with_id(meta(BACKUP_FULL, 0, 1, 5, 3000), 9),
		with_id(meta(BACKUP_DIFF, 0, 6, 8, 4000), 9),
	};
	char paths[4][4096];
	const struct backup_entry *newest;
	struct backup_set s;
	size_t i;

	for (i = 0; i < 4; i++)
		write_artifact(f, &m[i], 0, paths[i]);
	backup_set_init(&s);
	assert_int_equal(backup_set_add(&s, f->dir, f->errmsg), GRAFT_OK);
	newest = backup_set_newest(&s, "neo4j");
	assert_non_null(newest);
	assert_string_equal(newest->path, paths[3]);
	backup_set_free(&s);
	plan(f, UINT64_MAX, GRAFT_OK, 2, 8, 5);
	/* the new database's FULL gone: no chain, and the old one is not
	 * taken for it */
	assert_int_equal(unlink(paths[2]), 0);
	plan(f, UINT64_MAX, GRAFT_ENOTFOUND, 0, 0, 0);
	assert_non_null(strstr(f->errmsg, "database id 9"));
}

/* The first DIFF after an upgrade continues a FULL of before ids. */
static void test_backup_chain_continues_an_artifact_without_id(void **state)
{
	struct fixture *f = *state;
	struct backup_meta full = meta(BACKUP_FULL, 0, 1, 10, 1000);
	struct backup_meta diff = with_id(meta(BACKUP_DIFF, 0, 11, 12, 2000), 4);
	char paths[2][4096];

	write_artifact(f, &full, 0, paths[0]);
	write_artifact(f, &diff, 0, paths[1]);
	plan(f, UINT64_MAX, GRAFT_OK, 2, 12, 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_backup_round_trips_compressed),
		T(test_backup_round_trips_uncompressed),
		T(test_backup_compression_shrinks_repetitive_data),
		T(test_backup_refuses_flipped_byte_naming_file),
		T(test_backup_refuses_truncated_file),
		T(test_backup_failed_leaves_nothing_valid),
		T(test_backup_stale_tmp_of_a_killed_client_is_removed),
		T(test_backup_stream_refuses_gap),
		T(test_backup_chain_newest_full_and_diffs),
		T(test_backup_chain_gap_names_artifact),
		T(test_backup_chain_without_full_is_not_found),
		T(test_backup_header_carries_the_database_id),
		T(test_backup_same_db_id_only_when_both_are_known),
		T(test_backup_chain_is_of_the_database_taken_last),
		T(test_backup_chain_continues_an_artifact_without_id),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
