#define _XOPEN_SOURCE 700
#include <stdio.h>

#include "cypher_harness.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/log.h"

#include "tmpdir.h"

int harness_open(struct harness *h, char *errmsg)
{
	struct dbms_options o = {0};
	struct cypher_engine_options eo = {0};
	int rv;

	memset(h, 0, sizeof *h);
	if (tmpdir_make(h->dir, sizeof h->dir, "cypher") == NULL)
		return graft_errf(errmsg, GRAFT_EIO,
				  "cannot make a scratch directory in /tmp: %s",
				  strerror(errno));
	graft_log_open(NULL, GRAFT_LOG_WARN, true, NULL);
	if (uv_loop_init(&h->loop) != 0) {
		rv = graft_errf(errmsg, GRAFT_EIO, "uv_loop_init failed");
		goto err_after_dir;
	}
	o.data_dir = h->dir;
	o.db.rotation_size = 1 << 20;
	o.db.retention.kind = GRAFT_RETAIN_ALL;
	rv = dbms_open(&h->loop, &o, &h->dbms, errmsg);
	if (rv != GRAFT_OK)
		goto err_after_loop;
	rv = cypher_engine_new(h->dbms, &eo, &h->engine);
	if (rv != GRAFT_OK) {
		graft_errf(errmsg, rv, "cypher_engine_new: %s",
			   graft_strerror(rv));
		harness_close(h);
		return rv;
	}
	return GRAFT_OK;

err_after_loop:
	uv_run(&h->loop, UV_RUN_DEFAULT);
	uv_loop_close(&h->loop);
err_after_dir:
	tmpdir_remove(h->dir);
	return rv;
}

static void set_flag_cb(void *arg)
{
	*(int *)arg = 1;
}

/* Runs the loop until *flag is set or it has nothing left to do. */
static void run_until(struct harness *h, const int *flag)
{
	while (!*flag)
		if (uv_run(&h->loop, UV_RUN_ONCE) == 0 && !*flag)
			return;
}

void harness_close(struct harness *h)
{
	int done = 0;

	if (h->engine != NULL)
		cypher_engine_free(h->engine);
	h->engine = NULL;
	dbms_close(h->dbms, set_flag_cb, &done);
	run_until(h, &done);
	uv_run(&h->loop, UV_RUN_DEFAULT);
	uv_loop_close(&h->loop);
	tmpdir_remove(h->dir);
}

static char *render(struct cypher_tx *tx, const struct graft_value *v)
{
	char small[256];
	size_t n = cypher_value_render(tx, v, small, sizeof small);
	char *s = malloc(n + 1);

	if (s == NULL)
		return NULL;
	if (n < sizeof small)
		memcpy(s, small, n + 1);
	else
		cypher_value_render(tx, v, s, n + 1);
	return s;
}

static int add_row(struct harness_outcome *o, struct cypher_tx *tx,
		   const struct graft_value *row)
{
	char ***rows = realloc(o->rows, (o->nrows + 1) * sizeof *rows);
	char **cells;
	size_t i;

	if (rows == NULL)
		return GRAFT_ENOMEM;
	o->rows = rows;
	cells = calloc(o->ncols ? o->ncols : 1, sizeof *cells);
	if (cells == NULL)
		return GRAFT_ENOMEM;
	o->rows[o->nrows++] = cells;
	for (i = 0; i < o->ncols; i++) {
		cells[i] = render(tx, &row[i]);
		if (cells[i] == NULL)
			return GRAFT_ENOMEM;
	}
	return GRAFT_OK;
}

/* Columns, every row and the statistics of r. */
static int collect(struct cypher_tx *tx, struct cypher_result *r,
		   struct harness_outcome *o)
{
	const char *const *names;
	const struct graft_value *row;
	size_t i;
	int rv;

	o->ncols = cypher_result_fields(r, &names);
	o->cols = calloc(o->ncols ? o->ncols : 1, sizeof *o->cols);
	if (o->cols == NULL)
		return GRAFT_ENOMEM;
	for (i = 0; i < o->ncols; i++)
		if ((o->cols[i] = strdup(names[i])) == NULL)
			return GRAFT_ENOMEM;
	while ((rv = cypher_result_next(r, &row, &o->error)) == 1)
		if (add_row(o, tx, row) != GRAFT_OK)
			return GRAFT_ENOMEM;
	if (rv < 0)
		o->failed = true;
	else
		cypher_result_stats(r, &o->stats);
	return GRAFT_OK;
}

struct commit_wait {
	int done;
	int status;
};

static void commit_cb(struct cypher_commit_req *req, int status)
{
	struct commit_wait *w = req->data;

	w->done = 1;
	w->status = status;
}

static void commit_error(struct harness_outcome *o,
			 const struct cypher_commit_req *req, int status)
{
	o->failed = true;
	if (req->error.code[0] != '\0') {
		o->error = req->error;
		return;
	}
	snprintf(o->error.code, sizeof o->error.code, "graft.CommitFailed");
	snprintf(o->error.message, sizeof o->error.message,
		 "commit failed: %s", graft_strerror(status));
}

static void commit(struct harness *h, struct cypher_tx *tx,
		   struct harness_outcome *o)
{
	struct cypher_commit_req req;
	struct commit_wait w = {0};
	int rv;

	memset(&req, 0, sizeof req);
	req.data = &w;
	rv = cypher_tx_commit(tx, &req, commit_cb);
	if (rv != GRAFT_OK) {
		commit_error(o, &req, rv);
		return;
	}
	run_until(h, &w.done);
	if (!w.done)
		commit_error(o, &req, GRAFT_EIO); /* the loop ran dry */
	else if (w.status != GRAFT_OK)
		commit_error(o, &req, w.status);
}

int harness_run(struct harness *h, const char *query,
		const struct graft_value *params, struct harness_outcome *out)
{
	struct cypher_tx_options to = {0};
	struct cypher_result *r;
	struct cypher_tx *tx;
	int rv;

	memset(out, 0, sizeof *out);
	if (cypher_tx_begin(h->engine, &to, &tx, &out->error) != GRAFT_OK) {
		out->failed = true;
		return GRAFT_OK;
	}
	if (cypher_run(tx, query, strlen(query), params, &r, &out->error) !=
	    GRAFT_OK) {
		out->failed = true;
		cypher_tx_rollback(tx);
		return GRAFT_OK;
	}
	rv = collect(tx, r, out);
	cypher_result_close(r);
	if (rv != GRAFT_OK || out->failed) {
		cypher_tx_rollback(tx);
		return rv;
	}
	commit(h, tx, out);
	return GRAFT_OK;
}

void harness_outcome_free(struct harness_outcome *o)
{
	size_t i, j;

	for (i = 0; i < o->nrows; i++) {
		for (j = 0; j < o->ncols; j++)
			free(o->rows[i][j]);
		free(o->rows[i]);
	}
	for (i = 0; o->cols != NULL && i < o->ncols; i++)
		free(o->cols[i]);
	free(o->rows);
	free(o->cols);
	memset(o, 0, sizeof *o);
}

int harness_map(struct harness *h, const char *text, struct graft_value *out,
		struct cypher_error *err)
{
	struct cypher_tx_options to = {0};
	const struct graft_value *row;
	struct cypher_result *r;
	struct cypher_tx *tx;
	size_t n = strlen(text) + 16;
	char *q = malloc(n);
	int rv = GRAFT_EINVAL;

	*out = graft_value_null();
	if (q == NULL)
		return GRAFT_ENOMEM;
	snprintf(q, n, "RETURN %s AS p", text);
	if (cypher_tx_begin(h->engine, &to, &tx, err) != GRAFT_OK)
		goto out;
	if (cypher_run(tx, q, strlen(q), NULL, &r, err) == GRAFT_OK) {
		if (cypher_result_next(r, &row, err) == 1)
			rv = graft_value_copy(out, &row[0]);
		cypher_result_close(r);
	}
	cypher_tx_rollback(tx);
out:
	free(q);
	return rv;
}

char *harness_row_join(const struct harness_outcome *o, size_t i)
{
	struct harness_text t = {0};
	size_t j;

	harness_text_add(&t, "", 0);
	for (j = 0; j < o->ncols; j++) {
		if (j > 0)
			harness_text_add(&t, ", ", 2);
		harness_text_add(&t, o->rows[i][j], strlen(o->rows[i][j]));
	}
	return t.s;
}

/* Makes room for n more bytes and a NUL. */
static void text_reserve(struct harness_text *t, size_t n)
{
	size_t cap;
	char *p;

	if (t->len + n + 1 <= t->cap)
		return;
	cap = (t->len + n + 1) * 2;
	p = realloc(t->s, cap);
	if (p == NULL)
		abort(); /* a test helper: out of memory ends the run */
	t->s = p;
	t->cap = cap;
}

void harness_text_add(struct harness_text *t, const char *s, size_t n)
{
	text_reserve(t, n);
	memcpy(t->s + t->len, s, n);
	t->len += n;
	t->s[t->len] = '\0';
}

void harness_text_addf(struct harness_text *t, const char *fmt, ...)
{
	va_list ap, again;
	int n;

	va_start(ap, fmt);
	va_copy(again, ap);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n >= 0) {
		text_reserve(t, (size_t)n);
		vsnprintf(t->s + t->len, (size_t)n + 1, fmt, again);
		t->len += (size_t)n;
	}
	va_end(again);
}

static void read_all(int fd, struct harness_text *t)
{
	char buf[4096];
	ssize_t n;

	harness_text_add(t, "", 0);
	while ((n = read(fd, buf, sizeof buf)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		harness_text_add(t, buf, (size_t)n);
	}
}

static int run_here(int (*fn)(void *arg, FILE *out), void *arg, char **report)
{
	size_t len;
	FILE *out = open_memstream(report, &len);
	int rv;

	if (out == NULL)
		abort();
	rv = fn(arg, out);
	fclose(out);
	return rv == 0 ? 0 : 1;
}

static void describe_death(struct harness_text *t, int status,
			   unsigned timeout_s)
{
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
		harness_text_addf(t, "  timed out after %u s\n", timeout_s);
	else if (WIFSIGNALED(status))
		harness_text_addf(t, "  crashed: signal %d (%s)\n",
				  WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		harness_text_addf(t,
				  "  exited with status %d (a sanitizer report "
				  "on stderr?)\n",
				  WEXITSTATUS(status));
}

int harness_isolate(int (*fn)(void *arg, FILE *out), void *arg,
		    unsigned timeout_s, bool fork_off, char **report)
{
	struct harness_text t = {0};
	int fds[2], status;
	pid_t pid;

	if (fork_off)
		return run_here(fn, arg, report);
	fflush(stdout);
	fflush(stderr);
	if (pipe(fds) != 0 || (pid = fork()) < 0) {
		perror("harness_isolate: pipe/fork");
		exit(2);
	}
	if (pid == 0) {
		FILE *out = fdopen(fds[1], "w");
		int rv;

		close(fds[0]);
		/* Line by line, so that a crash keeps what was reported. */
		setvbuf(out, NULL, _IOLBF, 0);
		alarm(timeout_s);
		rv = fn(arg, out);
		fclose(out);
		exit(rv == 0 ? 0 : 1);
	}
	close(fds[1]);
	read_all(fds[0], &t);
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		*report = t.s;
		return 0;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 1 || t.len == 0)
		describe_death(&t, status, timeout_s);
	*report = t.s;
	return 1;
}
