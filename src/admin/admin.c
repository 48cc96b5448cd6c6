/* graft-admin: administration like neo4j-admin: `server validate-config`,
 * `dbms set-initial-password`, `database backup|restore|check|
 * aggregate-backup|dump|load` (and the 3.x spellings `backup` / `restore`). */
#include <config.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "../util/err.h"
#include "admin.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: graft-admin [--config FILE] <command>\n\n"
		"commands:\n"
		"  server validate-config   check the configuration file and print\n"
		"                           the directories and addresses it yields\n"
		"  dbms set-initial-password PASSWORD [--require-password-change]\n"
		"                           set the password of user neo4j (offline)\n"
		"  database backup [--from=HOST:PORT[,...]] --to-path=DIR\n"
		"                  [--type=FULL|DIFF|AUTO] [--compress[=true|false]]\n"
		"                  [--keep-failed] [--verbose] [<database>|\"glob*\"...]\n"
		"  database backup --inspect-path=PATH\n"
		"                           online backup from a server's backup port\n"
		"  backup --backup-dir=DIR --database=NAME [--from=HOST:PORT]\n"
		"                           the same in the 3.x/4.x spelling\n"
		"  database restore --from-path=PATH[,PATH...] [--overwrite-destination]\n"
		"                  [--restore-until=TXID|\"YYYY-MM-DD hh:mm:ss\"] [<database>]\n"
		"  restore --from=DIR --database=NAME [--force]\n"
		"                           restore a backup chain (server stopped)\n"
		"  database check --from-path=PATH[,PATH...] [<database>]\n"
		"                           restore into a scratch directory: usable?\n"
		"  database aggregate-backup --from-path=DIR [--keep-old-backup] [<database>]\n"
		"                           collapse a chain into one FULL artifact\n"
		"  database dump --to-path=DIR [--overwrite-destination] <database>\n"
		"  database load --from-path=DIR|FILE [--overwrite-destination] <database>\n"
		"                           offline copy of a stopped database (<db>.dump)\n"
		"  version                  print the version\n");
}

struct graft_config *admin_load_config(const char *explicit_path, bool quiet)
{
	char errmsg[GRAFT_ERRMSG_SIZE];
	bool must_exist;
	const char *path = graft_config_choose(explicit_path, &must_exist);
	struct graft_config *cfg;
	struct stat st;

	if (graft_config_new(&cfg) != GRAFT_OK) {
		fprintf(stderr, "graft-admin: out of memory\n");
		return NULL;
	}
	if (!must_exist && stat(path, &st) != 0) {
		if (!quiet)
			printf("No configuration file at %s: built-in defaults "
			       "apply.\n",
			       path);
	} else if (graft_config_load(cfg, path, errmsg) != GRAFT_OK) {
		fprintf(stderr, "graft-admin: %s\n", errmsg);
		graft_config_free(cfg);
		return NULL;
	} else if (!quiet) {
		printf("Configuration file %s is valid.\n", path);
	}
	return cfg;
}

static int validate_config(const char *explicit_path)
{
	struct graft_config *cfg = admin_load_config(explicit_path, false);
	struct graft_address a;

	if (cfg == NULL)
		return 1;
	printf("  data:         %s\n", graft_config_path(cfg, "server.directories.data"));
	printf("  transactions: %s\n",
	       graft_config_path(cfg, "server.directories.transaction.logs.root"));
	printf("  logs:         %s\n", graft_config_path(cfg, "server.directories.logs"));
	printf("  run:          %s\n", graft_config_path(cfg, "server.directories.run"));
	graft_config_address(cfg, "server.bolt.listen_address", &a);
	printf("  bolt:         %s:%u\n", a.host, a.port);
	graft_config_address(cfg, "server.http.listen_address", &a);
	printf("  http:         %s:%u\n", a.host, a.port);
	graft_config_address(cfg, "server.backup.listen_address", &a);
	printf("  backup:       %s:%u%s\n", a.host, a.port,
	       graft_config_bool(cfg, "server.backup.enabled") ? ""
							       : " (disabled)");
	graft_config_free(cfg);
	return 0;
}

static const struct {
	const char *name;
	enum admin_restore_mode mode;
} restore_cmds[] = {
	{"restore", ADMIN_RESTORE},
	{"check", ADMIN_CHECK},
	{"aggregate-backup", ADMIN_AGGREGATE},
	{"dump", ADMIN_DUMP},
	{"load", ADMIN_LOAD},
};

int main(int argc, char **argv)
{
	const char *config_path = NULL;
	size_t k;
	int i = 1;

	if (i + 1 < argc && strcmp(argv[i], "--config") == 0) {
		config_path = argv[i + 1];
		i += 2;
	} else if (i < argc && strncmp(argv[i], "--config=", 9) == 0) {
		config_path = argv[i++] + 9;
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[i], "version") == 0 || strcmp(argv[i], "--version") == 0) {
		printf("graft-admin %s\n", PACKAGE_VERSION);
		return 0;
	}
	if (strcmp(argv[i], "help") == 0 || strcmp(argv[i], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	if (i + 1 < argc && strcmp(argv[i], "server") == 0 &&
	    strcmp(argv[i + 1], "validate-config") == 0)
		return validate_config(config_path);
	if (i + 2 < argc && strcmp(argv[i], "dbms") == 0 &&
	    strcmp(argv[i + 1], "set-initial-password") == 0)
		return admin_set_initial_password(config_path, argc - i - 2,
						  argv + i + 2);
	if (i + 1 < argc && strcmp(argv[i], "database") == 0 &&
	    strcmp(argv[i + 1], "backup") == 0)
		return admin_backup(config_path, argc - i - 2, argv + i + 2,
				    false);
	if (strcmp(argv[i], "backup") == 0)
		return admin_backup(config_path, argc - i - 1, argv + i + 1,
				    true);
	if (i + 1 < argc && strcmp(argv[i], "database") == 0)
		for (k = 0; k < sizeof restore_cmds / sizeof restore_cmds[0]; k++)
			if (strcmp(argv[i + 1], restore_cmds[k].name) == 0)
				return admin_restore(config_path, argc - i - 2,
						     argv + i + 2,
						     restore_cmds[k].mode);
	if (strcmp(argv[i], "restore") == 0)
		return admin_restore(config_path, argc - i - 1, argv + i + 1,
				     ADMIN_RESTORE_3X);
	fprintf(stderr, "graft-admin: unknown command '%s'\n", argv[i]);
	usage(stderr);
	return 2;
}
