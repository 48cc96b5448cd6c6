/* Restore (contract in restore.h).
 *
 * Order: list the artifacts -> pick the database and the restore point ->
 * plan the chain -> verify every artifact of it in full -> take the data
 * directory's lock (so no graftd starts meanwhile) -> refuse an existing
 * database unless overwriting -> write the checkpoint file and append the
 * transactions through the transaction log's own writer into
 * .restore-<db> directories -> open that database once (recovery replays
 * the log onto the checkpoint and must reach the restore point) and close
 * it (a final checkpoint) -> rename the directories into place, the old
 * ones aside and then removed. A failure before the renames leaves the
 * existing database untouched and removes the hidden directories. */
#include "restore.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "../db/dbms.h"
#include "../txlog/txlog.h"
#include "../txrec/txrec.h"
#include "../util/fs.h"
#include "chain.h"

#define APPEND_BATCH 256
/* The progress line is redrawn at most this often. */
#define PROGRESS_EVERY_MS 500

struct restore {
	const struct backup_restore_opts *o;
	struct backup_restore_result *res;
	const char *src;  /* the artifacts' database name */
	char store[4096], txlog[4096];
	char store_tmp[4096], txlog_tmp[4096];
	uv_loop_t loop;
	struct txlog *log;
	struct txlog_append_req reqs[APPEND_BATCH];
	unsigned pending;
	int append_status;
	uint64_t end;   /* last transaction written */
	uint64_t until;
	int ckpt_fd;
	char ckpt_path[4200];
	char *errmsg;
	const char *db;     /* the name restored to */
	uint64_t shown_ms;  /* when the progress line was last drawn */
	bool shown;         /* a progress line is on the terminal */
	uint64_t ckpt_bytes;
};

/* Progress on a terminal -------------------------------------------------- */

static void progress(struct restore *r, bool force, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Redraws "<db>: what" (force: now, else at most every PROGRESS_EVERY_MS,
 * so a million transactions cost no terminal time). */
static void progress(struct restore *r, bool force, const char *fmt, ...)
{
	FILE *out = r->o->progress;
	uint64_t now = uv_hrtime() / 1000000;
	va_list ap;

	if (out == NULL || (!force && now - r->shown_ms < PROGRESS_EVERY_MS))
		return;
	r->shown_ms = now;
	r->shown = true;
	fprintf(out, "\rrestore of %s: ", r->db);
	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
	fputs("   ", out); /* over the end of a longer line before */
	fflush(out);
}

/* Ends the progress line, so that what follows starts a line of its own. */
static void progress_end(struct restore *r)
{
	if (r->shown) {
		fputc('\n', r->o->progress);
		r->shown = false;
	}
}

/* Choosing what to restore ------------------------------------------------ */

static int pick_db(const struct backup_set *s, const char *want,
		   const char **src, char *errmsg)
{
	const char *only = NULL;
	size_t i;

	for (i = 0; i < s->n; i++) {
		if (want != NULL && strcmp(s->e[i].m.db, want) == 0) {
			*src = want;
			return GRAFT_OK;
		}
		if (only != NULL && strcmp(only, s->e[i].m.db) != 0)
			return graft_errf(errmsg, GRAFT_EINVAL,
					  "the artifacts hold databases %s and "
					  "%s%s%s; name the one to restore",
					  only, s->e[i].m.db,
					  want ? ", not " : "", want ? want : "");
		only = s->e[i].m.db;
	}
	if (only == NULL)
		return graft_errf(errmsg, GRAFT_ENOTFOUND,
				  "no backup artifact (*.backup) found");
	*src = only;
	return GRAFT_OK;
}

struct time_scan {
	int64_t limit;
	uint64_t best;
};

static int time_tx_cb(void *data, uint64_t txid, const void *rec, size_t len,
		      char *errmsg)
{
	struct time_scan *t = data;
	struct txrec r;
	int rv = txrec_decode(rec, len, &r, errmsg);

	if (rv != GRAFT_OK)
		return rv;
	if (r.commit_time_ms <= t->limit && txid > t->best)
		t->best = txid;
	txrec_free(&r);
	return GRAFT_OK;
}

/* The last transaction committed at or before limit, from the records'
 * commit times and, for what lies in store copies, the artifacts' own
 * times (everything in an artifact was committed before it was taken). */
static int until_from_time(const struct backup_set *s, const char *db,
			   int64_t limit, uint64_t *until, char *errmsg)
{
	struct time_scan t = {.limit = limit};
	struct backup_stream_cbs cbs = {&t, NULL, time_tx_cb};
	struct backup_meta m;
	size_t i;
	int rv;

	for (i = 0; i < s->n; i++) {
		if (strcmp(s->e[i].m.db, db) != 0)
			continue;
		if ((int64_t)s->e[i].m.time_ms <= limit &&
		    s->e[i].m.last_txid > t.best)
			t.best = s->e[i].m.last_txid;
		rv = backup_read(s->e[i].path, &m, &cbs, errmsg);
		if (rv != GRAFT_OK)
			return rv;
	}
	if (t.best == 0)
		return graft_errf(errmsg, GRAFT_ENOTFOUND,
				  "no transaction of %s in the artifacts was "
				  "committed at or before --restore-until", db);
	*until = t.best;
	return GRAFT_OK;
}

static int verify_chain(struct restore *r, const struct backup_entry **c,
			size_t n, FILE *v, char *errmsg)
{
	struct backup_meta m;
	size_t i;
	int rv;

	for (i = 0; i < n; i++) {
		progress(r, true, "verifying artifact %zu of %zu (%.1f MiB)",
			 i + 1, n, (double)c[i]->size / 1048576.0);
		rv = backup_read(c[i]->path, &m, NULL, errmsg);
		if (rv != GRAFT_OK)
			return rv;
		if (v != NULL)
			fprintf(v, "verified %s (%s, transactions %" PRIu64
				"..%" PRIu64 ")\n", c[i]->path,
				backup_type_name(m.type), m.first_txid,
				m.last_txid);
	}
	return GRAFT_OK;
}

/* The destination ----------------------------------------------------------- */

int backup_lock_data_dir(const char *data, int *fd, char *errmsg)
{
	char path[4200];

	snprintf(path, sizeof path, "%s/graft.lock", data);
	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (*fd < 0)
		return graft_errf(errmsg, graft_err_from_errno(errno),
				  "cannot open lock file %s: %s", path,
				  strerror(errno));
	if (flock(*fd, LOCK_EX | LOCK_NB) != 0) {
		close(*fd);
		*fd = -1;
		return graft_errf(errmsg, GRAFT_ELOCKED,
				  "the server is running on data directory %s "
				  "(lock file %s is held); stop it first "
				  "(graft stop)",
				  data, path);
	}
	return GRAFT_OK;
}

/* Whether dir holds a database's files (checkpoints, log segments). */
static bool has_data(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	bool found = false;

	if (d == NULL)
		return false;
	while (!found && (de = readdir(d)) != NULL)
		found = strncmp(de->d_name, "checkpoint.", 11) == 0 ||
			strncmp(de->d_name, "txlog.", 6) == 0;
	closedir(d);
	return found;
}

/* Removes a directory of plain files (a store or log directory). */
static int remove_flat(const char *dir, char *errmsg)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char path[4400];

	if (d == NULL)
		return errno == ENOENT ? GRAFT_OK
				       : graft_errf(errmsg, GRAFT_EIO,
						    "cannot read %s: %s", dir,
						    strerror(errno));
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		unlink(path);
	}
	closedir(d);
	if (rmdir(dir) != 0)
		return graft_errf(errmsg, GRAFT_EIO, "cannot remove %s: %s", dir,
				  strerror(errno));
	return GRAFT_OK;
}

static int set_paths(struct restore *r, const char *db)
{
	const struct backup_restore_opts *o = r->o;

	if (snprintf(r->store, sizeof r->store, "%s/%s", o->store_root, db) >=
		    (int)sizeof r->store ||
	    snprintf(r->txlog, sizeof r->txlog, "%s/%s", o->txlog_root, db) >=
		    (int)sizeof r->txlog ||
	    snprintf(r->store_tmp, sizeof r->store_tmp, "%s/.restore-%s",
		     o->store_root, db) >= (int)sizeof r->store_tmp ||
	    snprintf(r->txlog_tmp, sizeof r->txlog_tmp, "%s/.restore-%s",
		     o->txlog_root, db) >= (int)sizeof r->txlog_tmp)
		return graft_errf(r->errmsg, GRAFT_EINVAL,
				  "data directory paths too long");
	return GRAFT_OK;
}

/* Writing ----------------------------------------------------------------- */

static int ckpt_cb(void *data, const void *p, size_t n, char *errmsg)
{
	struct restore *r = data;

	if (r->ckpt_fd < 0)
		return GRAFT_OK; /* a later FULL's store copy: not used */
	if (graft_write_all(r->ckpt_fd, p, n) != GRAFT_OK)
		return graft_errf(errmsg, graft_err_from_errno(errno),
				  "cannot write %s: %s", r->ckpt_path,
				  strerror(errno));
	r->ckpt_bytes += n;
	progress(r, false, "writing the store copy, %.1f MiB",
		 (double)r->ckpt_bytes / 1048576.0);
	return GRAFT_OK;
}

static void append_cb(struct txlog_append_req *req, int status)
{
	struct restore *r = req->data;

	r->pending--;
	if (status != GRAFT_OK && r->append_status == GRAFT_OK)
		r->append_status = status;
}

static int drain(struct restore *r, char *errmsg)
{
	while (r->pending > 0)
		uv_run(&r->loop, UV_RUN_ONCE);
	if (r->append_status != GRAFT_OK)
		return graft_errf(errmsg, r->append_status,
				  "cannot write the transaction log in %s: %s",
				  r->txlog_tmp, graft_strerror(r->append_status));
	return GRAFT_OK;
}

static int tx_cb(void *data, uint64_t txid, const void *rec, size_t len,
		 char *errmsg)
{
	struct restore *r = data;
	struct txlog_append_req *req;
	int rv;

	if (txid <= r->end || txid > r->until)
		return GRAFT_OK; /* overlap with the previous artifact, or
				  * past the restore point */
	if (r->pending == APPEND_BATCH) {
		rv = drain(r, errmsg);
		if (rv != GRAFT_OK)
			return rv;
	}
	req = &r->reqs[r->pending];
	req->data = r;
	rv = txlog_append(r->log, req, txid, rec, len, append_cb);
	if (rv != GRAFT_OK)
		return graft_errf(errmsg, rv, "cannot append transaction %"
				  PRIu64 " to %s: %s", txid, r->txlog_tmp,
				  graft_strerror(rv));
	r->pending++;
	r->end = txid;
	progress(r, false, "writing transaction %" PRIu64 " of %" PRIu64,
		 txid, r->until);
	return GRAFT_OK;
}

static int open_checkpoint_file(struct restore *r, uint64_t txid)
{
	snprintf(r->ckpt_path, sizeof r->ckpt_path,
		 "%s/checkpoint.%020" PRIu64, r->store_tmp, txid);
	r->ckpt_fd = open(r->ckpt_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			  0640);
	if (r->ckpt_fd < 0)
		return graft_errf(r->errmsg, graft_err_from_errno(errno),
				  "cannot create %s: %s", r->ckpt_path,
				  strerror(errno));
	return GRAFT_OK;
}

static int close_checkpoint_file(struct restore *r)
{
	int rv = GRAFT_OK;

	if (r->ckpt_fd < 0)
		return GRAFT_OK;
	if (fsync(r->ckpt_fd) != 0)
		rv = graft_errf(r->errmsg, GRAFT_EIO, "cannot write %s: %s",
				r->ckpt_path, strerror(errno));
	close(r->ckpt_fd);
	r->ckpt_fd = -1;
	return rv;
}

static void log_closed_cb(struct txlog *log, void *arg)
{
	struct restore *r = arg;

	(void)log;
	r->log = NULL;
}

static void close_log(struct restore *r)
{
	if (r->log == NULL)
		return;
	txlog_close(r->log, log_closed_cb, r);
	uv_run(&r->loop, UV_RUN_DEFAULT);
}

/* Writes the chain into the hidden directories. */
static int materialise(struct restore *r, const struct backup_entry **c,
		       size_t n)
{
	struct txlog_options lo = {.rotation_size = r->o->db_opts.rotation_size,
				   .retention = r->o->db_opts.retention};
	struct backup_stream_cbs cbs = {r, ckpt_cb, tx_cb};
	struct backup_meta m;
	uint64_t ckpt = c[0]->m.checkpoint_txid;
	size_t i;
	int rv = graft_mkdir_p(r->store_tmp, r->errmsg);

	if (rv == GRAFT_OK)
		rv = graft_mkdir_p(r->txlog_tmp, r->errmsg);
	if (rv == GRAFT_OK && ckpt > 0)
		rv = open_checkpoint_file(r, ckpt);
	if (rv == GRAFT_OK)
		rv = txlog_open(&r->loop, r->txlog_tmp, &lo, &r->log, r->errmsg);
	if (rv != GRAFT_OK)
		goto out;
	if (ckpt > 0)
		txlog_set_base(r->log, ckpt);
	r->end = ckpt;
	for (i = 0; rv == GRAFT_OK && i < n && (i == 0 || r->end < r->until);
	     i++) {
		rv = backup_read(c[i]->path, &m, &cbs, r->errmsg);
		if (rv == GRAFT_OK)
			rv = close_checkpoint_file(r); /* after the FULL */
		if (r->o->verbose != NULL && rv == GRAFT_OK)
			fprintf(r->o->verbose, "applied %s: now at transaction "
				"%" PRIu64 "\n", c[i]->path, r->end);
	}
	if (rv == GRAFT_OK)
		rv = drain(r, r->errmsg);
out:
	close_checkpoint_file(r);
	close_log(r);
	return rv;
}

/* Opens the restored database the way graftd will and checks where
 * recovery ends; closing it writes a checkpoint at that point. */
static int prove(struct restore *r, const char *db)
{
	struct db_options dbo = r->o->db_opts;
	struct db *d = NULL;
	int rv;

	dbo.name = db;
	dbo.store_dir = r->store_tmp;
	dbo.txlog_dir = r->txlog_tmp;
	dbo.checkpoint_interval_ms = 0;
	dbo.checkpoint_interval_tx = 0;
	progress(r, true, "recovering: replaying transactions %" PRIu64
		 "..%" PRIu64 " onto the store copy", r->res->checkpoint_txid + 1,
		 r->end);
	rv = db_open(&r->loop, &dbo, &d, r->errmsg);
	if (rv == GRAFT_OK && db_last_txid(d) != r->end)
		rv = graft_errf(r->errmsg, GRAFT_ECORRUPT,
				"the restored database recovers to transaction "
				"%" PRIu64 ", not %" PRIu64,
				db_last_txid(d), r->end);
	if (d != NULL)
		db_close(d, NULL, NULL);
	uv_run(&r->loop, UV_RUN_DEFAULT);
	return rv;
}

/* Puts tmp in final's place; an existing final is moved aside first. */
static int swap_in(const char *tmp, const char *final, char *errmsg)
{
	char old[4200], parent[4096];
	char *slash;
	int rv;

	snprintf(old, sizeof old, "%s.restore-old", final);
	rv = remove_flat(old, errmsg);
	if (rv == GRAFT_OK && rename(final, old) != 0 && errno != ENOENT)
		rv = graft_errf(errmsg, GRAFT_EIO, "cannot move %s aside: %s",
				final, strerror(errno));
	if (rv == GRAFT_OK && rename(tmp, final) != 0)
		rv = graft_errf(errmsg, GRAFT_EIO, "cannot rename %s to %s: %s",
				tmp, final, strerror(errno));
	if (rv != GRAFT_OK)
		return rv;
	snprintf(parent, sizeof parent, "%s", final);
	slash = strrchr(parent, '/');
	if (slash != NULL && slash != parent)
		*slash = '\0';
	rv = graft_fsync_dir(parent, errmsg);
	return rv == GRAFT_OK ? remove_flat(old, errmsg) : rv;
}

static int build(struct restore *r, const struct backup_entry **c, size_t n,
		 const char *db)
{
	int rv;

	if (has_data(r->store) || has_data(r->txlog)) {
		if (!r->o->overwrite)
			return graft_errf(r->errmsg, GRAFT_EEXIST,
					  "database %s already exists (%s); "
					  "use --overwrite-destination (3.x: "
					  "--force) to replace it",
					  db, r->store);
	}
	rv = remove_flat(r->store_tmp, r->errmsg);
	if (rv == GRAFT_OK)
		rv = remove_flat(r->txlog_tmp, r->errmsg);
	if (rv == GRAFT_OK)
		rv = uv_loop_init(&r->loop) == 0 ? GRAFT_OK : GRAFT_EIO;
	if (rv != GRAFT_OK)
		return rv;
	rv = materialise(r, c, n);
	if (rv == GRAFT_OK)
		rv = prove(r, db);
	uv_loop_close(&r->loop);
	if (rv == GRAFT_OK)
		rv = swap_in(r->store_tmp, r->store, r->errmsg);
	if (rv == GRAFT_OK)
		rv = swap_in(r->txlog_tmp, r->txlog, r->errmsg);
	if (rv != GRAFT_OK) {
		remove_flat(r->store_tmp, NULL);
		remove_flat(r->txlog_tmp, NULL);
	}
	return rv;
}

/* After the database is in place: a failure here leaves it restored, and
 * says so. */
static int record_id(const char *data_dir, const char *db,
		     const struct backup_restore_result *res, char *errmsg)
{
	char why[GRAFT_ERRMSG_SIZE];
	int rv = dbms_origin_restore(data_dir, db,
				     res->has_db_id ? res->db_id : 0, why);

	if (rv != GRAFT_OK)
		return graft_errf(errmsg, rv, "database %s was restored, but "
				  "its database id %" PRIu64 " could not be "
				  "recorded: %s; a DIFF backup will not continue "
				  "the chain it came from: take a FULL one",
				  db, res->db_id, why);
	return GRAFT_OK;
}

int backup_restore(const struct backup_restore_opts *o,
		   struct backup_restore_result *res, char *errmsg)
{
	struct restore r = {.o = o, .res = res, .ckpt_fd = -1, .errmsg = errmsg};
	const struct backup_entry **chain = NULL;
	struct backup_set s;
	const char *db;
	size_t i, n = 0;
	int lock_fd = -1, rv = GRAFT_OK;

	memset(res, 0, sizeof *res);
	backup_set_init(&s);
	for (i = 0; rv == GRAFT_OK && i < o->n_paths; i++)
		rv = backup_set_add(&s, o->paths[i], errmsg);
	if (rv == GRAFT_OK)
		rv = backup_set_check_headers(&s, errmsg);
	if (rv == GRAFT_OK)
		rv = pick_db(&s, o->db, &r.src, errmsg);
	if (rv != GRAFT_OK)
		goto out;
	db = o->db != NULL ? o->db : r.src;
	r.db = db;
	r.until = o->until_txid;
	if (o->until_time_ms >= 0)
		rv = until_from_time(&s, r.src, o->until_time_ms, &r.until,
				     errmsg);
	chain = calloc(s.n, sizeof *chain);
	if (rv == GRAFT_OK && chain == NULL)
		rv = GRAFT_ENOMEM;
	if (rv == GRAFT_OK)
		rv = backup_chain_plan(&s, r.src, r.until, chain, &n, &r.until,
				       errmsg);
	if (rv == GRAFT_OK)
		r.res->checkpoint_txid = chain[0]->m.checkpoint_txid;
	if (rv == GRAFT_OK)
		rv = verify_chain(&r, chain, n, o->verbose, errmsg);
	if (rv == GRAFT_OK)
		rv = set_paths(&r, db);
	if (rv == GRAFT_OK && o->data_dir != NULL)
		rv = graft_mkdir_p(o->data_dir, errmsg);
	if (rv == GRAFT_OK && o->data_dir != NULL)
		rv = backup_lock_data_dir(o->data_dir, &lock_fd, errmsg);
	for (i = 0; rv == GRAFT_OK && i < n; i++)
		if (chain[i]->m.has_db_id) { /* an older FULL may have none */
			res->has_db_id = true;
			res->db_id = chain[i]->m.db_id;
		}
	if (rv == GRAFT_OK)
		rv = build(&r, chain, n, db);
	/* The id of an artifact of before ids is unknown: forgotten (0), not
	 * left to the database this one replaced. */
	if (rv == GRAFT_OK && o->data_dir != NULL && o->keep_db_id)
		rv = record_id(o->data_dir, db, res, errmsg);
	if (rv == GRAFT_OK)
		progress(&r, true, "done, at transaction %" PRIu64, r.end);
	progress_end(&r);
	if (rv == GRAFT_OK) {
		snprintf(res->db, sizeof res->db, "%s", db);
		res->last_txid = r.end;
		res->n_artifacts = n;
	}
	if (lock_fd >= 0)
		close(lock_fd);
out:
	free(chain);
	backup_set_free(&s);
	return rv;
}
