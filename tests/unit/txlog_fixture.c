#define _GNU_SOURCE
#include "txlog_fixture.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "txlog/txlog_int.h"
#include "util/buf.h"
#include "util/crc32c.h"
#include "util/log.h"
#include "util/retention.h"

#include "tmpdir.h"

int tfx_setup(void **state)
{
	struct tfx *f = calloc(1, sizeof *f);
	char errmsg[GRAFT_ERRMSG_SIZE];

	assert_non_null(f);
	assert_non_null(tmpdir_make(f->root, sizeof f->root, "txlog"));
	snprintf(f->dir, sizeof f->dir, "%s/txlog", f->root);
	snprintf(f->logfile, sizeof f->logfile, "%s/graft.log", f->root);
	assert_int_equal(graft_log_open(f->logfile, GRAFT_LOG_DEBUG, false,
					errmsg), GRAFT_OK);
	assert_int_equal(uv_loop_init(&f->loop), 0);
	*state = f;
	return 0;
}

int tfx_teardown(void **state)
{
	struct tfx *f = *state;
	struct rlimit rl;

	/* A failed disk-full test must not leave its limit to the next. */
	if (getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_FSIZE, &rl);
	}
	signal(SIGXFSZ, SIG_DFL);
	if (f->log != NULL)
		tfx_close(f);
	assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	graft_log_close();
	tmpdir_remove(f->root);
	free(f);
	return 0;
}

int tfx_try_open(struct tfx *f)
{
	f->errmsg[0] = '\0';
	return txlog_open(&f->loop, f->dir, &f->o, &f->log, f->errmsg);
}

void tfx_open(struct tfx *f, uint64_t rotation, const char *retention)
{
	char errmsg[GRAFT_ERRMSG_SIZE];

	f->o.rotation_size = rotation;
	assert_int_equal(graft_retention_parse(retention, &f->o.retention,
					       errmsg), GRAFT_OK);
	if (tfx_try_open(f) != GRAFT_OK)
		fail_msg("txlog_open: %s", f->errmsg);
}

static void closed_cb(struct txlog *log, void *arg)
{
	(void)log;
	*(bool *)arg = true;
}

void tfx_close(struct tfx *f)
{
	bool closed = false;

	txlog_close(f->log, closed_cb, &closed);
	assert_false(closed); /* always asynchronous */
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_true(closed);
	f->log = NULL;
}

size_t tfx_record(uint64_t txid, uint8_t *out)
{
	size_t len = 20 + (size_t)(txid % 97);
	int n = snprintf((char *)out, len, "tx-%llu-",
			 (unsigned long long)txid);

	for (size_t i = (size_t)n; i < len; i++)
		out[i] = (uint8_t)(txid * 31 + i);
	return len;
}

struct pending_append {
	struct txlog_append_req req;
	uint64_t txid;
	int status;
	int order;
};

static int order_counter;

static void append_cb(struct txlog_append_req *req, int status)
{
	struct pending_append *p = req->data;

	p->status = status;
	p->order = order_counter++;
}

int tfx_append(struct tfx *f, uint64_t first, unsigned n)
{
	struct pending_append *p = calloc(n, sizeof *p);
	uint8_t rec[TFX_MAX_RECORD];
	int status;

	assert_non_null(p);
	order_counter = 0;
	for (unsigned i = 0; i < n; i++) {
		size_t len = tfx_record(first + i, rec);
		p[i].req.data = &p[i];
		p[i].txid = first + i;
		p[i].order = -1;
		assert_int_equal(txlog_append(f->log, &p[i].req, first + i, rec,
					      len, append_cb), GRAFT_OK);
	}
	uv_run(&f->loop, UV_RUN_DEFAULT);
	status = p[0].status;
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(p[i].order, (int)i);
		assert_int_equal(p[i].status, status);
	}
	free(p);
	return status;
}

void tfx_check_read(struct tfx *f, uint64_t from, uint64_t to)
{
	struct txlog_reader *r;
	uint8_t want[TFX_MAX_RECORD];
	const void *rec;
	uint64_t txid;
	size_t len;

	if (txlog_reader_open(f->dir, from, to, &r, f->errmsg) != GRAFT_OK)
		fail_msg("txlog_reader_open: %s", f->errmsg);
	for (uint64_t t = from; t <= to; t++) {
		if (txlog_reader_next(r, &txid, &rec, &len, f->errmsg) !=
		    GRAFT_OK)
			fail_msg("reading %llu: %s", (unsigned long long)t,
				 f->errmsg);
		assert_true(txid == t);
		assert_int_equal(len, tfx_record(t, want));
		assert_memory_equal(rec, want, len);
	}
	assert_int_equal(txlog_reader_next(r, &txid, &rec, &len, f->errmsg),
			 GRAFT_ENOTFOUND);
	txlog_reader_close(r);
}

void tfx_segment_path(const struct tfx *f, uint64_t first, char *out,
		      size_t n)
{
	snprintf(out, n, "%s/txlog.%020llu", f->dir, (unsigned long long)first);
}

uint64_t tfx_file_size(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return (uint64_t)st.st_size;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

size_t tfx_segments(const struct tfx *f, uint64_t *firsts, size_t max)
{
	DIR *d = opendir(f->dir);
	struct dirent *e;
	size_t n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, "txlog.", 6) != 0 ||
		    strlen(e->d_name) != 26)
			continue;
		if (n < max)
			firsts[n] = strtoull(e->d_name + 6, NULL, 10);
		n++;
	}
	closedir(d);
	if (n > 0)
		qsort(firsts, n < max ? n : max, sizeof *firsts, cmp_u64);
	return n;
}

size_t tfx_frame(uint64_t txid, const void *rec, uint32_t len, uint64_t at,
		 uint8_t *out)
{
	memset(out, 0, TXLOG_FRAME_HEADER);
	graft_put_u32le(out, len);
	graft_put_u64le(out + 8, txid);
	memcpy(out + TXLOG_FRAME_HEADER, rec, len);
	txlog_batch_seal(out, TXLOG_FRAME_HEADER + (size_t)len, at);
	return TXLOG_FRAME_HEADER + (size_t)len;
}

uint8_t *tfx_slurp(const char *path, size_t *n)
{
	struct stat st;
	uint8_t *p;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	*n = (size_t)st.st_size;
	p = malloc(*n + 1);
	assert_non_null(p);
	assert_int_equal(read(fd, p, *n), (ssize_t)*n);
	close(fd);
	return p;
}

void tfx_append_bytes(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0640);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, p, n), (ssize_t)n);
	close(fd);
}

void tfx_write_at(const char *path, uint64_t off, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY);

	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, p, n, (off_t)off), (ssize_t)n);
	close(fd);
}

bool tfx_logged(const struct tfx *f, const char *s)
{
	FILE *fp = fopen(f->logfile, "r");
	char line[2048];
	bool found = false;

	assert_non_null(fp);
	while (!found && fgets(line, sizeof line, fp) != NULL)
		found = strstr(line, s) != NULL;
	fclose(fp);
	return found;
}
