/* Shared fixture of the transaction-log test suites: a fresh temporary
 * directory and libuv loop per test, appends that wait for their callbacks,
 * deterministic records, a reader check, and hand-made frames for damage. */
#ifndef GRAFT_TESTS_TXLOG_FIXTURE_H
#define GRAFT_TESTS_TXLOG_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <uv.h>

#include "txlog/txlog.h"
#include "util/err.h"

#define TFX_MAX_RECORD 160

/* *state of every test. */
struct tfx {
	char root[64];  /* removed with its contents at the end */
	char dir[128];  /* the log directory, root/txlog */
	char logfile[128]; /* graft_log sink, root/graft.log */
	uv_loop_t loop;
	struct txlog *log; /* closed at teardown when still open */
	struct txlog_options o;
	char errmsg[GRAFT_ERRMSG_SIZE];
};

int tfx_setup(void **state);
int tfx_teardown(void **state);

/* Opens f->dir with rotation size and retention text; asserts success. */
void tfx_open(struct tfx *f, uint64_t rotation, const char *retention);
/* txlog_open's result, for tests that expect it to fail. */
int tfx_try_open(struct tfx *f);
void tfx_close(struct tfx *f);

/* The record logged as txid: 20..116 bytes derived from txid. */
size_t tfx_record(uint64_t txid, uint8_t *out);
/* Appends txids first..first+n-1 all at once, runs the loop until every
 * callback ran, asserts they ran in order, and returns their status (all
 * equal, asserted). */
int tfx_append(struct tfx *f, uint64_t first, unsigned n);
/* Reads from..to through a reader and checks every record, then that the
 * reader is at its end. */
void tfx_check_read(struct tfx *f, uint64_t from, uint64_t to);

/* The path of segment first, and its size (asserted to exist). */
void tfx_segment_path(const struct tfx *f, uint64_t first, char *out,
		      size_t n);
uint64_t tfx_file_size(const char *path);
/* Number of segment files in f->dir and their first txids (up to max). */
size_t tfx_segments(const struct tfx *f, uint64_t *firsts, size_t max);
/* A whole valid frame for txid holding rec, a batch of its own written at
 * segment offset at; returns its length (TXLOG_FRAME_HEADER + len). */
size_t tfx_frame(uint64_t txid, const void *rec, uint32_t len, uint64_t at,
		 uint8_t *out);
/* The whole file at path, malloc'd; *n its size. */
uint8_t *tfx_slurp(const char *path, size_t *n);
void tfx_append_bytes(const char *path, const void *p, size_t n);
void tfx_write_at(const char *path, uint64_t off, const void *p, size_t n);
/* Whether the graft_log file contains s. */
bool tfx_logged(const struct tfx *f, const char *s);

#endif
