/* Checkpoint files in a directory: writing one without stopping writes,
 * writing one in the calling thread, and finding and loading the newest.
 *
 * checkpoint_start, the happy path: the loop thread forks (the only stall:
 * the kernel copies page tables, measured into req->fork_us). The child
 * owns a copy-on-write image of the graph frozen at txid; it writes
 * checkpoint.<txid>.tmp, fsyncs it and _exit()s (no atexit handlers, no
 * sanitizer reports, no stdio flushes of the parent's buffers). A
 * thread-pool job waits for it, renames the file to checkpoint.<txid>,
 * fsyncs the directory and deletes older checkpoints; req->cb then runs on
 * the loop with the status.
 *
 * A small graph (req->copy_max_bytes) is not worth a fork, whose cost is
 * the whole process's page tables, not the graph's: it is serialised into
 * a memfd on the calling thread (measured into the same fork_us), and the
 * thread-pool job copies that into checkpoint.<txid>.tmp, fsyncs it and
 * publishes it as above.
 *
 * Failures: the child writes its message into a pipe, removes its tmp file
 * and exits with the error code; the job reads the message and reports it.
 * A child that dies by a signal leaves a tmp file, which the job removes;
 * tmp files left by a crash of the whole server are removed by the next
 * checkpoint_load_newest. A file only gets its final name once complete and
 * fsynced, so a final name always means a whole checkpoint (or damage,
 * which loading detects and reports). */
#include <config.h>

#include "checkpoint.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "../util/check.h"
#include "../util/crc32c.h"
#include "../util/fs.h"

#define NAME_PREFIX "checkpoint."
#define NAME_DIGITS 20
#define TMP_SUFFIX ".tmp"

/* Recognises checkpoint.<20 digits>, and the same with ".tmp" (*tmp). */
static bool parse_name(const char *name, uint64_t *txid, bool *tmp)
{
	const size_t plen = sizeof NAME_PREFIX - 1;
	const char *p = name + plen;
	uint64_t v = 0;

	if (strncmp(name, NAME_PREFIX, plen) != 0)
		return false;
	for (int i = 0; i < NAME_DIGITS; i++) {
		unsigned d = (unsigned char)p[i] - '0';
		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	p += NAME_DIGITS;
	if (*p == '\0')
		*tmp = false;
	else if (strcmp(p, TMP_SUFFIX) == 0)
		*tmp = true;
	else
		return false;
	*txid = v;
	return true;
}

static int make_path(char *out, size_t n, const char *dir, uint64_t txid,
		     bool tmp)
{
	char name[64];

	snprintf(name, sizeof name, NAME_PREFIX "%0*" PRIu64 "%s", NAME_DIGITS,
		 txid, tmp ? TMP_SUFFIX : "");
	return graft_path_join(out, n, dir, name);
}

/* What fills a checkpoint file: GRAFT_OK, or an error with inner filled. */
struct tmp_fill {
	int (*fn)(const struct tmp_fill *f, int fd, char *inner);
	const struct graph *g;
	uint64_t txid, raft_index;
	int src_fd; /* fill_copy: a serialised checkpoint */
};

static int fill_graph(const struct tmp_fill *f, int fd, char *inner)
{
	return checkpoint_write_fd(f->g, f->txid, f->raft_index, fd, inner);
}

static int fill_copy(const struct tmp_fill *f, int fd, char *inner)
{
	char block[65536];
	off_t at = 0;

	for (;;) {
		ssize_t n = pread(f->src_fd, block, sizeof block, at);

		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			return GRAFT_OK;
		if (n < 0 || graft_write_all(fd, block, (size_t)n) != 0)
			return graft_errf(inner, GRAFT_EIO, "%s",
					  strerror(errno));
		at += n;
	}
}

/* Writes (fill) and fsyncs path; removes it on failure. */
static int write_tmp(const struct tmp_fill *fill, const char *path,
		     char *errmsg)
{
	char inner[GRAFT_ERRMSG_SIZE];
	int fd, rv;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0)
		return graft_errf(errmsg, graft_err_from_errno(errno),
				  "cannot create checkpoint file %s: %s", path,
				  strerror(errno));
	rv = fill->fn(fill, fd, inner);
	if (rv != GRAFT_OK)
		graft_errf(errmsg, rv, "cannot write checkpoint file %s: %s",
			   path, inner);
	else if (fsync(fd) != 0)
		rv = graft_errf(errmsg, GRAFT_EIO, "cannot fsync checkpoint "
				"file %s: %s", path, strerror(errno));
	if (close(fd) != 0 && rv == GRAFT_OK)
		rv = graft_errf(errmsg, GRAFT_EIO, "cannot close checkpoint "
				"file %s: %s", path, strerror(errno));
	if (rv != GRAFT_OK)
		unlink(path);
	return rv;
}

/* Deletes checkpoints (and tmp files) older than txid. A failure is left
 * alone: an older file is never loaded while a newer one exists, and the
 * next checkpoint tries again. */
static void remove_older(const char *dir, uint64_t txid)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		uint64_t t;
		bool tmp;
		if (parse_name(e->d_name, &t, &tmp) && t < txid)
			unlinkat(dirfd(d), e->d_name, 0);
	}
	closedir(d);
}

/* Gives the complete tmp file of txid its final name, durably. */
static int publish(const char *dir, uint64_t txid, char *path, size_t n,
		   uint64_t *bytes, char *errmsg)
{
	char tmp[4096];
	struct stat st;
	int rv;

	rv = make_path(tmp, sizeof tmp, dir, txid, true);
	if (rv == GRAFT_OK)
		rv = make_path(path, n, dir, txid, false);
	if (rv != GRAFT_OK)
		return graft_errf(errmsg, rv, "checkpoint directory path %s is "
				  "too long", dir);
	if (rename(tmp, path) != 0) {
		rv = graft_errf(errmsg, graft_err_from_errno(errno),
				"cannot rename %s to %s: %s", tmp, path,
				strerror(errno));
		unlink(tmp);
		return rv;
	}
	rv = graft_fsync_dir(dir, errmsg);
	if (rv != GRAFT_OK)
		return rv;
	if (stat(path, &st) != 0)
		return graft_errf(errmsg, graft_err_from_errno(errno),
				  "cannot stat %s: %s", path, strerror(errno));
	*bytes = (uint64_t)st.st_size;
	remove_older(dir, txid);
	return GRAFT_OK;
}

int checkpoint_write_sync(const struct graph *g, uint64_t txid,
			  uint64_t raft_index, const char *dir, char *errmsg)
{
	char tmp[4096], path[4096];
	uint64_t bytes;
	int rv;

	if (make_path(tmp, sizeof tmp, dir, txid, true) != GRAFT_OK)
		return graft_errf(errmsg, GRAFT_EINVAL, "checkpoint directory "
				  "path %s is too long", dir);
	rv = write_tmp(&(struct tmp_fill){fill_graph, g, txid, raft_index, -1},
		       tmp, errmsg);
	if (rv != GRAFT_OK)
		return rv;
	return publish(dir, txid, path, sizeof path, &bytes, errmsg);
}

/* The child holds a copy of every descriptor of the server: a client
 * socket the server closes must not stay open here for the length of a
 * checkpoint, nor a listening socket after the server has stopped. */
static void close_inherited(int keep)
{
	long max = sysconf(_SC_OPEN_MAX);

	if ((keep <= 3 || close_range(3, (unsigned)keep - 1, 0) == 0) &&
	    close_range((unsigned)keep + 1, ~0u, 0) == 0)
		return;
	for (int fd = 3; fd < max; fd++)
		if (fd != keep)
			close(fd);
}

static void child_main(const struct graph *g, uint64_t txid,
		       uint64_t raft_index, const char *tmp, int msg_fd,
		       pid_t parent) __attribute__((noreturn));

static void child_main(const struct graph *g, uint64_t txid,
		       uint64_t raft_index, const char *tmp, int msg_fd,
		       pid_t parent)
{
	char errmsg[GRAFT_ERRMSG_SIZE];
	int rv;

	close_inherited(msg_fd);
#ifdef __linux__
	/* A writer whose server is gone only wastes the disk. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(GRAFT_ESHUTDOWN);
#endif
	rv = write_tmp(&(struct tmp_fill){fill_graph, g, txid, raft_index, -1},
		       tmp, errmsg);
	if (rv != GRAFT_OK)
		graft_write_all(msg_fd, errmsg, strlen(errmsg));
	_exit(rv);
}

/* Waits for the child; its exit code is a graft error code. */
static int reap_child(struct checkpoint_req *req, bool has_msg)
{
	char tmp[4096];
	pid_t p;
	int st;

	do
		p = waitpid(req->child, &st, 0);
	while (p < 0 && errno == EINTR);
	if (p < 0)
		return graft_errf(req->errmsg, GRAFT_EIO, "cannot wait for the "
				  "checkpoint writer (process %d): %s",
				  (int)req->child, strerror(errno));
	if (WIFEXITED(st) && WEXITSTATUS(st) == GRAFT_OK)
		return GRAFT_OK;
	if (make_path(tmp, sizeof tmp, req->dir, req->txid, true) == GRAFT_OK)
		unlink(tmp);
	if (WIFEXITED(st) && has_msg && WEXITSTATUS(st) < GRAFT_ERR_COUNT)
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return graft_errf(req->errmsg, GRAFT_EIO, "the checkpoint "
				  "writer (process %d) was killed by signal %d",
				  (int)req->child, WTERMSIG(st));
	return graft_errf(req->errmsg, GRAFT_EIO, "the checkpoint writer "
			  "(process %d) exited with status %d",
			  (int)req->child, WEXITSTATUS(st));
}

/* Thread pool: blocks until the child is done, then publishes its file. */
static void wait_child_cb(uv_work_t *work)
{
	struct checkpoint_req *req = work->data;
	size_t n = 0;

	/* The child writes only on failure, then exits: read to EOF. */
	while (n < sizeof req->errmsg - 1) {
		ssize_t r = read(req->msg_fd, req->errmsg + n,
				 sizeof req->errmsg - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	req->errmsg[n] = '\0';
	close(req->msg_fd);
	req->status = reap_child(req, n > 0);
	if (req->status == GRAFT_OK)
		req->status = publish(req->dir, req->txid, req->path,
				      sizeof req->path, &req->bytes,
				      req->errmsg);
}

/* Thread pool: writes the serialised graph held in the memfd msg_fd to
 * the tmp file, fsyncs it, then publishes it. */
static void copy_memfd_cb(uv_work_t *work)
{
	struct checkpoint_req *req = work->data;
	struct tmp_fill fill = {fill_copy, NULL, 0, 0, req->msg_fd};
	char tmp[4096];
	int rv = GRAFT_OK;

	if (make_path(tmp, sizeof tmp, req->dir, req->txid, true) != GRAFT_OK)
		rv = graft_errf(req->errmsg, GRAFT_EINVAL, "checkpoint "
				"directory path %s is too long", req->dir);
	if (rv == GRAFT_OK)
		rv = write_tmp(&fill, tmp, req->errmsg);
	close(req->msg_fd);
	if (rv == GRAFT_OK)
		rv = publish(req->dir, req->txid, req->path, sizeof req->path,
			     &req->bytes, req->errmsg);
	req->status = rv;
}

static void done_cb(uv_work_t *work, int status)
{
	struct checkpoint_req *req = work->data;

	/* The work is private to this file and never cancelled. */
	GRAFT_CHECK(status == 0);
	req->cb(req, req->status);
}

/* The copy_max_bytes path: g into a memfd here, the file on the pool. */
static int start_copy(uv_loop_t *loop, struct checkpoint_req *req,
		      const struct graph *g)
{
	uint64_t t0 = uv_hrtime();
	int fd, rv;

	fd = memfd_create("graft-checkpoint", MFD_CLOEXEC);
	if (fd < 0)
		return graft_errf(req->errmsg, graft_err_from_errno(errno),
				  "cannot create a memfd for checkpoint %"
				  PRIu64 ": %s",
				  req->txid, strerror(errno));
	rv = checkpoint_write_fd(g, req->txid, req->raft_index, fd,
				 req->errmsg);
	req->fork_us = (uv_hrtime() - t0) / 1000;
	if (rv != GRAFT_OK)
		goto err;
	req->child = 0;
	req->msg_fd = fd;
	req->work.data = req;
	rv = uv_queue_work(loop, &req->work, copy_memfd_cb, done_cb);
	if (rv != 0) {
		rv = graft_errf(req->errmsg, GRAFT_EINVAL, "cannot queue the "
				"checkpoint write: %s", uv_strerror(rv));
		goto err;
	}
	return GRAFT_OK;

err:
	close(fd);
	return rv;
}

int checkpoint_start(uv_loop_t *loop, struct checkpoint_req *req,
		     const struct graph *g, uint64_t txid, const char *dir,
		     checkpoint_cb cb)
{
	char tmp[4096];
	pid_t pid, parent = getpid();
	struct graph_stats st;
	uint64_t t0;
	int fds[2], rv;

	req->txid = txid;
	req->bytes = 0;
	req->fork_us = 0;
	req->forked = false;
	req->path[0] = '\0';
	req->errmsg[0] = '\0';
	req->status = GRAFT_OK;
	req->cb = cb;
	if (strlen(dir) >= sizeof req->dir ||
	    make_path(tmp, sizeof tmp, dir, txid, true) != GRAFT_OK)
		return graft_errf(req->errmsg, GRAFT_EINVAL, "checkpoint "
				  "directory path %s is too long", dir);
	strcpy(req->dir, dir);
	graph_stats(g, &st);
	if (req->copy_max_bytes > 0 && st.bytes <= req->copy_max_bytes)
		return start_copy(loop, req, g);
	req->forked = true;
	if (pipe2(fds, O_CLOEXEC) != 0)
		return graft_errf(req->errmsg, graft_err_from_errno(errno),
				  "cannot create a pipe for the checkpoint "
				  "writer: %s", strerror(errno));
	t0 = uv_hrtime();
	pid = fork();
	if (pid == 0)
		child_main(g, txid, req->raft_index, tmp, fds[1], parent);
	req->fork_us = (uv_hrtime() - t0) / 1000;
	close(fds[1]);
	if (pid < 0) {
		rv = graft_errf(req->errmsg, graft_err_from_errno(errno),
				"cannot fork the checkpoint writer: %s",
				strerror(errno));
		goto err_after_pipe;
	}
	req->child = pid;
	req->msg_fd = fds[0];
	req->work.data = req;
	rv = uv_queue_work(loop, &req->work, wait_child_cb, done_cb);
	if (rv != 0) {
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		unlink(tmp);
		rv = graft_errf(req->errmsg, GRAFT_EINVAL, "cannot queue the "
				"checkpoint wait: %s", uv_strerror(rv));
		goto err_after_pipe;
	}
	return GRAFT_OK;

err_after_pipe:
	close(fds[0]);
	return rv;
}

/* The txid of the newest whole checkpoint in dir (*found false when none);
 * the directory's owner (remove_tmp) also removes the tmp files a writer
 * left unfinished. */
static int find_newest(const char *dir, bool remove_tmp, uint64_t *best,
		       bool *found, char *errmsg)
{
	bool tmp;
	struct dirent *e;
	uint64_t t;
	DIR *d;

	*best = 0;
	*found = false;
	d = opendir(dir);
	if (d == NULL && errno == ENOENT)
		return graft_errf(errmsg, GRAFT_ENOTFOUND,
				  "no checkpoint in %s (no such directory)",
				  dir);
	if (d == NULL)
		return graft_errf(errmsg, graft_err_from_errno(errno),
				  "cannot read directory %s: %s", dir,
				  strerror(errno));
	while ((e = readdir(d)) != NULL) {
		if (!parse_name(e->d_name, &t, &tmp))
			continue;
		/* Left by a writer that did not finish: never whole. */
		if (tmp) {
			if (remove_tmp)
				unlinkat(dirfd(d), e->d_name, 0);
			continue;
		}
		if (!*found || t > *best)
			*best = t;
		*found = true;
	}
	closedir(d);
	return GRAFT_OK;
}

int checkpoint_load_newest(const char *dir, struct graph *g, uint64_t *txid,
			   char *errmsg)
{
	char path[4096];
	uint64_t best;
	bool found;
	int rv;

	rv = find_newest(dir, true, &best, &found, errmsg);
	if (rv != GRAFT_OK)
		return rv;
	if (!found)
		return graft_errf(errmsg, GRAFT_ENOTFOUND,
				  "no checkpoint in %s", dir);
	if (make_path(path, sizeof path, dir, best, false) != GRAFT_OK)
		return graft_errf(errmsg, GRAFT_EINVAL, "checkpoint directory "
				  "path %s is too long", dir);
	rv = checkpoint_load_file(path, g, txid, errmsg);
	if (rv == GRAFT_OK && *txid != best)
		rv = graft_errf(errmsg, GRAFT_ECORRUPT,
				"checkpoint %s holds the graph as of "
				"transaction %" PRIu64 ", not the %" PRIu64
				" its name says; restore the database from "
				"a backup",
				path, *txid, best);
	return rv;
}

int checkpoint_path(char *out, size_t n, const char *dir, uint64_t txid)
{
	return make_path(out, n, dir, txid, false);
}

int checkpoint_file_open_newest(struct checkpoint_file *f, const char *dir,
				char *errmsg)
{
	char path[4096];
	struct stat st;
	bool found;
	int rv;

	memset(f, 0, sizeof *f);
	f->fd = -1;
	/* A newer checkpoint may replace the newest between listing and
	 * opening: list again. */
	for (int tries = 0; tries < 5; tries++) {
		rv = find_newest(dir, false, &f->txid, &found, errmsg);
		if (rv != GRAFT_OK || !found)
			return rv == GRAFT_ENOTFOUND ? GRAFT_OK : rv;
		if (make_path(path, sizeof path, dir, f->txid, false) !=
		    GRAFT_OK)
			return graft_errf(errmsg, GRAFT_EINVAL, "checkpoint "
					  "directory path %s is too long", dir);
		f->fd = open(path, O_RDONLY | O_CLOEXEC);
		if (f->fd >= 0 && fstat(f->fd, &st) == 0) {
			f->size = f->left = (uint64_t)st.st_size;
			return GRAFT_OK;
		}
		if (f->fd >= 0)
			checkpoint_file_close(f);
		else if (errno != ENOENT)
			return graft_errf(errmsg, graft_err_from_errno(errno),
					  "cannot open %s: %s", path,
					  strerror(errno));
	}
	f->txid = 0;
	return graft_errf(errmsg, GRAFT_EIO, "the checkpoints in %s keep "
			  "changing; try again", dir);
}

int checkpoint_file_read(struct checkpoint_file *f, struct graft_buf *out,
			 size_t max, char *errmsg)
{
	size_t room = max;
	ssize_t n;

	if (room > f->left)
		room = (size_t)f->left;
	if (graft_buf_reserve(out, room) != GRAFT_OK)
		return graft_errf(errmsg, GRAFT_ENOMEM, "out of memory");
	n = read(f->fd, out->data + out->len, room);
	if (n <= 0)
		return graft_errf(errmsg, GRAFT_EIO,
				  "cannot read checkpoint %" PRIu64 ": %s",
				  f->txid, n == 0 ? "file shorter than it was"
						  : strerror(errno));
	f->crc = graft_crc32c(f->crc, out->data + out->len, (size_t)n);
	out->len += (size_t)n;
	f->left -= (uint64_t)n;
	return GRAFT_OK;
}

void checkpoint_file_close(struct checkpoint_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
}
