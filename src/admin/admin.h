/* The graft-admin commands that live in files of their own, and what they
 * share with admin.c. */
#ifndef GRAFT_ADMIN_ADMIN_H
#define GRAFT_ADMIN_ADMIN_H

#include <stdbool.h>

#include "../util/config.h"

/* Loads the configuration graft-admin was pointed at (--config, then
 * GRAFT_CONF, then the installed file, else the defaults) into a new
 * config; prints what failed and returns NULL on error. */
struct graft_config *admin_load_config(const char *explicit_path);

/* 0 when path is a directory; else -1 after saying that opt=path must be
 * one. */
int admin_need_dir(const char *opt, const char *path);

/* Every command runs as run(config_path, argc, argv, mode): argv holds the
 * arguments after the command words, mode tells apart the commands one
 * function serves. Each returns the process exit code: 0 done, 1 failed,
 * 2 usage error; --help prints the command's usage and returns 0. */

/* `dbms set-initial-password PASSWORD [--require-password-change]`. */
int admin_set_initial_password(const char *config_path, int argc,
			       char **argv, int mode);

/* `database backup ...` (mode 0) or the 3.x `backup --backup-dir=DIR
 * --database=NAME ...` (ADMIN_BACKUP_3X): 1 unless every database was
 * backed up. */
#define ADMIN_BACKUP_3X 1
int admin_backup(const char *config_path, int argc, char **argv, int mode);

enum admin_restore_mode {
	ADMIN_RESTORE,    /* database restore --from-path=... */
	ADMIN_RESTORE_3X, /* restore --from=DIR --database=NAME [--force] */
	ADMIN_CHECK,      /* database check --from-path=...: usable? */
	ADMIN_AGGREGATE,  /* database aggregate-backup --from-path=DIR */
	ADMIN_DUMP,       /* database dump --to-path=DIR <db> */
	ADMIN_LOAD,       /* database load --from-path=DIR <db> */
};

/* The commands that restore a backup chain; mode is an
 * enum admin_restore_mode. */
int admin_restore(const char *config_path, int argc, char **argv, int mode);

#endif
