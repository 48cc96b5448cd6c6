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
#include "opt.h"

struct graft_config *admin_load_config(const char *explicit_path)
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
	if ((must_exist || stat(path, &st) == 0) &&
	    graft_config_load(cfg, path, errmsg) != GRAFT_OK) {
		fprintf(stderr, "graft-admin: %s\n", errmsg);
		graft_config_free(cfg);
		return NULL;
	}
	return cfg;
}

int admin_need_dir(const char *opt, const char *path)
{
	struct stat st;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	fprintf(stderr, "graft-admin: %s=%s is not a directory; create it "
		"first\n", opt, path);
	return -1;
}

static const char validate_usage[] =
	"usage: graft-admin [--config FILE] server validate-config\n\n"
	"Reads the configuration exactly as graftd would. A valid file: prints\n"
	"the directories and addresses it yields, exit 0. Otherwise: every\n"
	"error in the file (file, line, key, value, what is allowed), exit 1.\n";

static void print_config_error(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, "graft-admin: %s\n", msg);
}

/* "  <label> <address><note>", an IPv6 host in brackets. */
static void print_address(const struct graft_config *cfg, const char *label,
			  const char *setting, const char *note)
{
	struct graft_address a;
	char text[GRAFT_ADDRESS_TEXT_MAX];

	graft_config_address(cfg, setting, &a);
	graft_address_format(text, sizeof text, a.host, a.port);
	printf("  %s %s%s\n", label, text, note);
}

static int validate_config(const char *explicit_path, int argc, char **argv,
			   int mode)
{
	char errmsg[GRAFT_ERRMSG_SIZE];
	const struct admin_cmd cmd = {.usage = validate_usage,
				      .prog = "graft-admin"};
	bool must_exist;
	const char *path = graft_config_choose(explicit_path, &must_exist);
	struct graft_config *cfg = NULL;
	struct stat st;
	int n = 0, rv;

	(void)mode;
	rv = admin_opt_parse(&cmd, argc, argv);
	if (rv != 0)
		return rv == ADMIN_OPT_HELP ? 0 : 2;
	if (graft_config_new(&cfg) != GRAFT_OK) {
		fprintf(stderr, "graft-admin: out of memory\n");
		return 1;
	}
	if (!must_exist && stat(path, &st) != 0) {
		printf("No configuration file at %s: built-in defaults apply.\n",
		       path);
	} else {
		rv = graft_config_load_all(cfg, path, print_config_error, NULL,
					   &n, errmsg);
		if (rv != GRAFT_OK || n > 0) {
			if (rv != GRAFT_OK)
				fprintf(stderr, "graft-admin: %s\n", errmsg);
			else
				fprintf(stderr, "%s: %d error%s.\n", path, n,
					n == 1 ? "" : "s");
			graft_config_free(cfg);
			return 1;
		}
		printf("Configuration file %s is valid.\n", path);
	}
	printf("  data:         %s\n", graft_config_path(cfg, "server.directories.data"));
	printf("  transactions: %s\n",
	       graft_config_path(cfg, "server.directories.transaction.logs.root"));
	printf("  logs:         %s\n", graft_config_path(cfg, "server.directories.logs"));
	printf("  run:          %s\n", graft_config_path(cfg, "server.directories.run"));
	print_address(cfg, "bolt:        ", "server.bolt.listen_address", "");
	print_address(cfg, "http:        ", "server.http.listen_address", "");
	print_address(cfg, "backup:      ", "server.backup.listen_address",
		      graft_config_bool(cfg, "server.backup.enabled")
			      ? "" : " (disabled)");
	graft_config_free(cfg);
	return 0;
}

/* Every command: its words (group NULL for a one-word command), what runs
 * it, and one line for the list. */
static const struct admin_command {
	const char *group, *name;
	int (*run)(const char *config_path, int argc, char **argv, int mode);
	int mode;
	const char *summary;
} commands[] = {
	{"server", "validate-config", validate_config, 0,
	 "check the configuration file; print what it yields"},
	{"dbms", "set-initial-password", admin_set_initial_password, 0,
	 "set the password of user neo4j (offline)"},
	{"database", "backup", admin_backup, 0,
	 "online backup from a server's backup port"},
	{"database", "restore", admin_restore, ADMIN_RESTORE,
	 "restore a backup chain (server stopped)"},
	{"database", "check", admin_restore, ADMIN_CHECK,
	 "restore into a scratch directory: is the backup usable?"},
	{"database", "aggregate-backup", admin_restore, ADMIN_AGGREGATE,
	 "collapse a chain into one FULL artifact"},
	{"database", "dump", admin_restore, ADMIN_DUMP,
	 "offline copy of a stopped database into <db>.dump"},
	{"database", "load", admin_restore, ADMIN_LOAD,
	 "load a <db>.dump into a stopped server"},
	{NULL, "backup", admin_backup, ADMIN_BACKUP_3X,
	 "database backup in the 3.x/4.x spelling (--backup-dir, --database)"},
	{NULL, "restore", admin_restore, ADMIN_RESTORE_3X,
	 "database restore in the 3.x/4.x spelling (--from, --database, --force)"},
};

#define N_COMMANDS (sizeof commands / sizeof commands[0])

/* The commands of group (NULL: all of them). */
static void list_commands(FILE *out, const char *group)
{
	fprintf(out, "usage: graft-admin [--config FILE] %s <command> "
		     "[options]\n\ncommands:\n",
		group != NULL ? group : "[<group>]");
	for (size_t k = 0; k < N_COMMANDS; k++) {
		const struct admin_command *c = &commands[k];
		char words[64];

		if (group != NULL &&
		    (c->group == NULL || strcmp(c->group, group) != 0))
			continue;
		snprintf(words, sizeof words, "%s%s%s",
			 c->group != NULL ? c->group : "",
			 c->group != NULL ? " " : "", c->name);
		fprintf(out, "  %-27s %s\n", words, c->summary);
	}
	if (group == NULL)
		fprintf(out, "  %-27s %s\n", "version", "print the version");
	fprintf(out, "\n`graft-admin <command> --help` shows a command's "
		     "options; see docs/graft-admin.md.\n");
}

static bool is_group(const char *word)
{
	for (size_t k = 0; k < N_COMMANDS; k++)
		if (commands[k].group != NULL &&
		    strcmp(commands[k].group, word) == 0)
			return true;
	return false;
}

/* argv[0] (and argv[1]) name a command: runs it. */
static int dispatch(const char *config_path, int argc, char **argv)
{
	bool grouped = is_group(argv[0]);
	const char *name = grouped ? (argc > 1 ? argv[1] : NULL) : argv[0];
	int skip = grouped ? 2 : 1;

	if (strcmp(argv[0], "version") == 0) {
		printf("graft-admin %s\n", PACKAGE_VERSION);
		return 0;
	}
	if (strcmp(argv[0], "help") == 0) {
		list_commands(stdout, argc > 1 && is_group(argv[1]) ? argv[1]
								  : NULL);
		return 0;
	}
	if (grouped && name != NULL &&
	    (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0)) {
		list_commands(stdout, argv[0]);
		return 0;
	}
	for (size_t k = 0; name != NULL && k < N_COMMANDS; k++) {
		const struct admin_command *c = &commands[k];

		if (strcmp(c->name, name) == 0 &&
		    (grouped ? c->group != NULL && strcmp(c->group, argv[0]) == 0
			     : c->group == NULL))
			return c->run(config_path, argc - skip, argv + skip,
				      c->mode);
	}
	if (name == NULL)
		fprintf(stderr, "graft-admin: %s needs a command\n", argv[0]);
	else
		fprintf(stderr, "graft-admin: unknown command '%s%s%s'\n",
			grouped ? argv[0] : "", grouped ? " " : "", name);
	list_commands(stderr, grouped ? argv[0] : NULL);
	return 2;
}

int main(int argc, char **argv)
{
	static char usage[4096];
	const char *config_path = NULL;
	bool version = false;
	const struct admin_opt opts[] = {
		{.name = "--config", .takes_value = true, .str = &config_path},
		{.name = "--version", .flag = &version},
	};
	struct admin_cmd top = {
		.usage = usage, .opts = opts, .n_opts = 2, .prog = "graft-admin",
	};
	FILE *f = fmemopen(usage, sizeof usage - 1, "w");
	int rest, rv;

	if (f != NULL) {
		list_commands(f, NULL);
		fclose(f);
	}
	top.rest = &rest;
	rv = admin_opt_parse(&top, argc - 1, argv + 1);
	if (rv != 0)
		return rv == ADMIN_OPT_HELP ? 0 : 2;
	if (version) {
		printf("graft-admin %s\n", PACKAGE_VERSION);
		return 0;
	}
	if (rest >= argc - 1) {
		list_commands(stderr, NULL);
		return 2;
	}
	return dispatch(config_path, argc - 1 - rest, argv + 1 + rest);
}
