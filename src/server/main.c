/* graftd: the graft server, one process per member, in the foreground.
 * `graft start` runs it detached; `graft console` runs it as it is. */
#include <config.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../util/config.h"
#include "../util/err.h"
#include "../util/log.h"
#include "../util/malloc_tune.h"
#include "server.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: graftd [--config FILE] [--daemon]\n"
		"       graftd --write-config-template FILE\n"
		"       graftd --version | --help\n\n"
		"Runs the graft server in the foreground until SIGTERM or SIGINT.\n"
		"The configuration is FILE, else $GRAFT_CONF, else %s/graft/graft.conf;\n"
		"without any, built-in defaults apply (see docs/configuration.md).\n",
		GRAFT_SYSCONFDIR);
}

static void print_config_error(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, "graftd: %s\n", msg);
}

static int load_config(const char *explicit_path, struct graft_config **cfg,
		       char *errmsg)
{
	bool must_exist;
	const char *path = graft_config_choose(explicit_path, &must_exist);
	struct stat st;
	int n_errors = 0, rv = graft_config_new(cfg);

	if (rv != GRAFT_OK)
		return graft_errf(errmsg, rv, "out of memory reading configuration");
	if (!must_exist && stat(path, &st) != 0) {
		graft_info("No configuration file at %s; using built-in defaults.",
			   path);
		return GRAFT_OK;
	}
	/* Every error in the file at once: fixing them one start at a time
	 * is how a typo costs an hour. */
	rv = graft_config_load_all(*cfg, path, print_config_error, NULL,
				   &n_errors, errmsg);
	if (rv == GRAFT_OK && n_errors > 0)
		rv = graft_errf(errmsg, GRAFT_ECONFIG,
				"%d error%s in %s; graftd does not start on it "
				"(check a file with graft-admin server "
				"validate-config)",
				n_errors, n_errors == 1 ? "" : "s", path);
	if (rv != GRAFT_OK) {
		graft_config_free(*cfg);
		*cfg = NULL;
	}
	return rv;
}

int main(int argc, char **argv)
{
	char errmsg[GRAFT_ERRMSG_SIZE] = "";
	const char *config_path = NULL;
	bool daemon = false;
	struct graft_config *cfg = NULL;
	struct server s;
	int rv;

	/* Started without the heap's huge pages (directly, not by `graft`):
	 * once more with them, same pid and arguments (malloc_tune.h). If
	 * that fails, graftd runs as it is. */
	if (graft_malloc_tune_env())
		execv("/proc/self/exe", argv);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			config_path = argv[++i];
		} else if (strncmp(argv[i], "--config=", 9) == 0) {
			config_path = argv[i] + 9;
		} else if (strcmp(argv[i], "--daemon") == 0) {
			daemon = true;
		} else if (strcmp(argv[i], "--write-config-template") == 0 &&
			   i + 1 < argc) {
			rv = graft_config_write_template(argv[i + 1], errmsg);
			if (rv != GRAFT_OK)
				fprintf(stderr, "graftd: %s\n", errmsg);
			return rv == GRAFT_OK ? 0 : 1;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("graftd %s\n", PACKAGE_VERSION);
			return 0;
		} else if (strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "graftd: unknown argument '%s'\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	rv = load_config(config_path, &cfg, errmsg);
	if (rv == GRAFT_OK)
		rv = server_start(&s, cfg, daemon, errmsg);
	if (rv != GRAFT_OK) {
		fprintf(stderr, "graftd: %s\n", errmsg);
		graft_config_free(cfg);
		return 1;
	}
	rv = server_run(&s);
	graft_config_free(cfg);
	return rv;
}
