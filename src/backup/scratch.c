/* Restores into a scratch directory: `database check` (does the chain
 * restore and recover?) and `database aggregate-backup` (the restored
 * database, as of the chain's end, written back as one FULL artifact whose
 * store copy is the checkpoint recovery wrote when it closed); and the
 * writer of such store-copy artifacts, which dumps use too. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../util/fs.h"
#include "artifact.h"
#include "restore.h"

#define COPY_CHUNK (1u << 20)

static int copy_checkpoint(struct backup_writer *w, const char *path,
			   char *errmsg)
{
	struct graft_buf b;
	struct stat st;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rv;

	if (fd < 0 || fstat(fd, &st) != 0) {
		rv = graft_errf(errmsg, GRAFT_EIO, "cannot read %s: %s", path,
				strerror(errno));
		goto out;
	}
	graft_buf_init(&b);
	rv = graft_buf_reserve(&b, COPY_CHUNK);
	if (rv == GRAFT_OK)
		rv = backup_stream_put_ckpt_head(&b, (uint64_t)st.st_size);
	if (rv == GRAFT_OK)
		rv = backup_writer_write(w, b.data, b.len, errmsg);
	while (rv == GRAFT_OK && (n = read(fd, b.data, COPY_CHUNK)) > 0)
		rv = backup_writer_write(w, b.data, (size_t)n, errmsg);
	graft_buf_reset(&b);
	if (rv == GRAFT_OK)
		rv = backup_stream_put_end(&b, 0);
	if (rv == GRAFT_OK)
		rv = backup_writer_write(w, b.data, b.len, errmsg);
	graft_buf_free(&b);
out:
	if (fd >= 0)
		close(fd);
	return rv;
}

int backup_write_store_copy(const char *ckpt_path,
			    const struct backup_meta *m, const char *dir,
			    const char *name, bool overwrite, char *path,
			    char *errmsg)
{
	struct backup_writer *w;
	int rv = backup_writer_open(dir, m, &w, errmsg);

	if (rv != GRAFT_OK)
		return rv;
	if (name != NULL)
		backup_writer_name(w, name, overwrite);
	rv = copy_checkpoint(w, ckpt_path, errmsg);
	if (rv != GRAFT_OK) {
		backup_writer_abort(w, false, NULL);
		return rv;
	}
	return backup_writer_finish(w, path, errmsg);
}

void backup_store_copy_meta(struct backup_meta *m, const char *db,
			    uint64_t txid, const char *source, bool compress)
{
	memset(m, 0, sizeof *m);
	m->type = BACKUP_FULL;
	m->compressed = compress;
	m->time_ms = (uint64_t)time(NULL) * 1000;
	m->checkpoint_txid = txid;
	m->first_txid = txid + 1;
	m->last_txid = txid;
	snprintf(m->db, sizeof m->db, "%s", db);
	snprintf(m->source, sizeof m->source, "%s", source);
}

int backup_restore_scratch(const struct backup_restore_opts *o,
			   const char *dir, int out_compress, char *path,
			   struct backup_restore_result *res, char *errmsg)
{
	struct backup_restore_opts so = *o;
	char scratch[4096], store[4200], txlog[4200], ckpt[4400];
	struct backup_meta m;
	int rv;

	if (snprintf(scratch, sizeof scratch, "%s/.graft-scratch-XXXXXX", dir) >=
	    (int)sizeof scratch)
		return graft_errf(errmsg, GRAFT_EINVAL, "path too long: %s", dir);
	if (mkdtemp(scratch) == NULL)
		return graft_errf(errmsg, graft_err_from_errno(errno),
				  "cannot make a scratch directory in %s: %s",
				  dir, strerror(errno));
	snprintf(store, sizeof store, "%s/databases", scratch);
	snprintf(txlog, sizeof txlog, "%s/transactions", scratch);
	so.data_dir = NULL;
	so.store_root = store;
	so.txlog_root = txlog;
	so.overwrite = false;
	rv = backup_restore(&so, res, errmsg);
	if (rv == GRAFT_OK && out_compress >= 0) {
		backup_store_copy_meta(&m, res->db, res->last_txid,
				       "aggregate-backup", out_compress > 0);
		m.has_db_id = res->has_db_id; /* it continues the chain */
		m.db_id = res->db_id;
		snprintf(ckpt, sizeof ckpt,
			 "%s/databases/%s/checkpoint.%020" PRIu64, scratch,
			 res->db, res->last_txid);
		rv = backup_write_store_copy(ckpt, &m, dir, NULL, false, path,
					     errmsg);
	}
	graft_remove_tree(scratch);
	return rv;
}
