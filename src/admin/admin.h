/* The graft-admin commands that live in files of their own, and what they
 * share with admin.c. */
#ifndef GRAFT_ADMIN_ADMIN_H
#define GRAFT_ADMIN_ADMIN_H

#include <stdbool.h>

#include "../util/config.h"

/* Loads the configuration graft-admin was pointed at (--config, then
 * GRAFT_CONF, then the installed file, else the defaults) into a new
 * config; prints what failed and returns NULL on error. quiet: do not say
 * which file was read. */
struct graft_config *admin_load_config(const char *explicit_path, bool quiet);

/* `dbms set-initial-password PASSWORD [--require-password-change]`:
 * argv[0] is the password. Returns the process exit code. */
int admin_set_initial_password(const char *config_path, int argc,
			       char **argv);

/* `database backup ...` (legacy false) or the 3.x `backup --backup-dir=DIR
 * --database=NAME ...` (legacy true); argv holds the options after the
 * command words. Returns the process exit code: 0 when every database was
 * backed up, 1 otherwise, 2 for a usage error. */
int admin_backup(const char *config_path, int argc, char **argv, bool legacy);
enum admin_restore_mode {
	ADMIN_RESTORE,    /* database restore --from-path=... */
	ADMIN_RESTORE_3X, /* restore --from=DIR --database=NAME [--force] */
	ADMIN_CHECK,      /* database check --from-path=...: usable? */
	ADMIN_AGGREGATE,  /* database aggregate-backup --from-path=DIR */
	ADMIN_DUMP,       /* database dump --to-path=DIR <db> */
	ADMIN_LOAD,       /* database load --from-path=DIR <db> */
};

/* The commands that restore a backup chain. 0 done, 1 failed, 2 usage
 * error. */
int admin_restore(const char *config_path, int argc, char **argv,
		  enum admin_restore_mode mode);

#endif
