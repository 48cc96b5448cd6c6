/* `database dump`: the offline path. The database of a stopped server is
 * opened (recovered), closed again (which writes a checkpoint at its last
 * transaction), and that checkpoint becomes <db>.dump, a FULL artifact that
 * `database load` (a restore) reads back; it carries the database's id
 * (artifact.h) as the server recorded it. */
#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>
#include <uv.h>

#include "../db/dbms.h"
#include "restore.h"

static void closed_cb(void *arg)
{
	*(int *)arg = 1;
}

/* Recovers the database and closes it; *last gets its last transaction. */
static int settle(const struct db_options *o, uint64_t *last, char *errmsg)
{
	uv_loop_t loop;
	struct db *db = NULL;
	int closed = 0, rv;

	if (uv_loop_init(&loop) != 0)
		return graft_errf(errmsg, GRAFT_EIO, "cannot start an event loop");
	rv = db_open(&loop, o, &db, errmsg);
	if (rv == GRAFT_OK) {
		*last = db_last_txid(db);
		db_close(db, closed_cb, &closed);
	}
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	if (rv == GRAFT_OK && !closed)
		rv = graft_errf(errmsg, GRAFT_EIO, "database %s did not close",
				o->name);
	return rv;
}

int backup_dump(const struct db_options *o, const char *data_dir,
		const char *dir, bool compress, bool overwrite, char *path,
		uint64_t *last_txid, char *errmsg)
{
	char ckpt[4200], name[BACKUP_DB_MAX + 8];
	struct backup_meta m;
	int fd = -1;
	int rv = backup_lock_data_dir(data_dir, &fd, errmsg);

	if (rv == GRAFT_OK && access(o->store_dir, F_OK) != 0)
		rv = graft_errf(errmsg, GRAFT_ENOTFOUND, "database %s does not "
				"exist (no %s)", o->name, o->store_dir);
	if (rv == GRAFT_OK)
		rv = settle(o, last_txid, errmsg);
	if (rv == GRAFT_OK) {
		snprintf(ckpt, sizeof ckpt, "%s/checkpoint.%020" PRIu64,
			 o->store_dir, *last_txid);
		snprintf(name, sizeof name, "%s.dump", o->name);
		backup_store_copy_meta(&m, o->name, *last_txid, "dump",
				       compress);
		m.has_db_id = true;
		rv = dbms_origin_read(data_dir, o->name, &m.db_id, errmsg);
	}
	if (rv == GRAFT_OK)
		rv = backup_write_store_copy(ckpt, &m, dir, name, overwrite,
					     path, errmsg);
	if (fd >= 0)
		close(fd);
	return rv;
}
