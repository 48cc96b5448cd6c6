/* graft: service control like `neo4j start|stop|restart|status|console`.
 * It reads the same configuration as graftd (--config, GRAFT_CONF, default)
 * to find the pid file and the Bolt address, and runs the graftd that sits
 * beside it (or GRAFT_BINDIR). Exit codes follow LSB: status is 0 when
 * running and 3 when not. */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../util/config.h"
#include "../util/err.h"
#include "../util/fs.h"
#include "../util/malloc_tune.h"
#include "opt.h"

#define EXIT_NOT_RUNNING 3 /* LSB: program is not running */
#define DEFAULT_SHUTDOWN_TIMEOUT_S 120 /* as NEO4J_SHUTDOWN_TIMEOUT; in usage */

struct ctl {
	const char *config_path; /* explicit, or NULL */
	struct graft_config *cfg;
	char graftd[PATH_MAX];
	char pid_path[PATH_MAX];
};

static const char usage[] =
	"usage: graft [--config FILE] <command>\n\n"
	"commands:\n"
	"  console   run the server in the foreground (Ctrl-C stops it)\n"
	"  start     start the server in the background and report its pid\n"
	"  stop      stop the server and wait for a clean exit\n"
	"            (GRAFT_SHUTDOWN_TIMEOUT seconds, default 120)\n"
	"  restart   stop, then start\n"
	"  status    exit 0 if the server is running, 3 if not\n"
	"  version   print the version\n\n"
	"The configuration is FILE, else $GRAFT_CONF, else the installed\n"
	"graft.conf. stop and status work through a configuration with errors\n"
	"(they need only the pid file). See docs/graft.md.\n";

static void warn_config_error(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, "graft: warning: %s\n", msg);
}

/* The configuration graftd would read. start and console need it valid (so
 * does graftd); stop and status (lenient) only need the pid file, so that a
 * typo in the file never takes control of a running server away: they
 * warn about each error and use the valid lines. */
static int load_config(struct ctl *c, bool lenient)
{
	char errmsg[GRAFT_ERRMSG_SIZE];
	bool must_exist;
	const char *path = graft_config_choose(c->config_path, &must_exist);
	struct stat st;
	int n = 0, rv;

	if (graft_config_new(&c->cfg) != GRAFT_OK) {
		fprintf(stderr, "graft: out of memory\n");
		return 1;
	}
	if (!must_exist && stat(path, &st) != 0)
		return 0;
	rv = lenient ? graft_config_load_all(c->cfg, path, warn_config_error,
					     NULL, &n, errmsg)
		     : graft_config_load(c->cfg, path, errmsg);
	if (rv != GRAFT_OK && !lenient) {
		fprintf(stderr, "graft: %s\n", errmsg);
		return 1;
	}
	if (rv != GRAFT_OK)
		fprintf(stderr, "graft: warning: %s; looking for the pid file "
			"with the built-in defaults\n", errmsg);
	else if (n > 0)
		fprintf(stderr, "graft: warning: %s has %d error%s (graftd will "
			"not start on it); the pid file is looked for with the "
			"valid lines\n", path, n, n == 1 ? "" : "s");
	return 0;
}

/* graftd is looked for beside this program first, so a build tree or an
 * unpacked prefix works without PATH changes. */
static void find_graftd(struct ctl *c)
{
	char self[PATH_MAX - 8]; /* leaves room for "/graftd" */
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	char *slash;

	if (n > 0) {
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash != NULL) {
			*slash = '\0';
			snprintf(c->graftd, sizeof c->graftd, "%s/graftd", self);
			if (access(c->graftd, X_OK) == 0)
				return;
		}
	}
	snprintf(c->graftd, sizeof c->graftd, "%s/graftd", GRAFT_BINDIR);
}

/* The pid of a running graftd from the pid file, or 0. A pid file whose
 * process is gone (or is not graftd: pid reuse) is stale and removed. */
static pid_t running_pid(struct ctl *c)
{
	char buf[64], comm_path[64], comm[64] = "";
	FILE *f = fopen(c->pid_path, "r");
	long pid = 0;

	if (f == NULL)
		return 0;
	if (fgets(buf, sizeof buf, f) != NULL)
		pid = strtol(buf, NULL, 10);
	fclose(f);
	snprintf(comm_path, sizeof comm_path, "/proc/%ld/comm", pid);
	f = pid > 0 ? fopen(comm_path, "r") : NULL;
	if (f != NULL) {
		if (fgets(comm, sizeof comm, f) == NULL)
			comm[0] = '\0';
		fclose(f);
	}
	if (pid <= 0 || kill((pid_t)pid, 0) != 0 ||
	    strncmp(comm, "graftd", 6) != 0) {
		unlink(c->pid_path);
		return 0;
	}
	return (pid_t)pid;
}

static void exec_graftd(struct ctl *c, bool daemon)
{
	char *argv[5];
	int i = 0;

	(void)graft_malloc_tune_env(); /* graftd need not execute itself again */

	argv[i++] = c->graftd;
	if (c->config_path != NULL) {
		argv[i++] = "--config";
		argv[i++] = (char *)c->config_path;
	}
	if (daemon)
		argv[i++] = "--daemon";
	argv[i] = NULL;
	execv(c->graftd, argv);
	fprintf(stderr, "graft: cannot run %s: %s\n", c->graftd, strerror(errno));
	_exit(127);
}

static int cmd_console(struct ctl *c)
{
	pid_t pid = running_pid(c);

	if (pid != 0) {
		fprintf(stderr, "graft is already running (pid %ld).\n", (long)pid);
		return 1;
	}
	exec_graftd(c, false);
	return 1;
}

/* Relays what graftd prints while starting; graftd closes its stderr once it
 * is ready, so end of input means "ready or dead", and waitpid tells which. */
static int wait_started(struct ctl *c, pid_t pid, int fd)
{
	char buf[4096];
	ssize_t n;
	int status;
	struct graft_address a;
	char text[GRAFT_ADDRESS_TEXT_MAX];

	while ((n = read(fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
		if (n > 0 && write(STDERR_FILENO, buf, (size_t)n) < 0)
			break;
	close(fd);
	if (waitpid(pid, &status, WNOHANG) == pid) {
		fprintf(stderr, "graft failed to start (exit status %d); see the "
				"messages above and %s/graft.log\n",
			WIFEXITED(status) ? WEXITSTATUS(status) : -1,
			graft_config_path(c->cfg, "server.directories.logs"));
		return 1;
	}
	graft_config_address(c->cfg, "server.bolt.advertised_address", &a);
	graft_address_format(text, sizeof text, a.host, a.port);
	printf("Started graft (pid %ld). It is available at bolt://%s\n"
	       "There may be a short delay until the server is ready.\n",
	       (long)pid, text);
	return 0;
}

static int cmd_start(struct ctl *c)
{
	pid_t pid = running_pid(c);
	int fds[2];

	if (pid != 0) {
		printf("graft is already running (pid %ld).\n", (long)pid);
		return 0;
	}
	if (pipe(fds) != 0) {
		perror("graft: pipe");
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		perror("graft: fork");
		return 1;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		setsid();
		close(fds[0]);
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(fds[1], STDERR_FILENO);
		close(fds[1]);
		close(null);
		exec_graftd(c, true);
	}
	close(fds[1]);
	return wait_started(c, pid, fds[0]);
}

static unsigned shutdown_timeout(void)
{
	const char *t = getenv("GRAFT_SHUTDOWN_TIMEOUT");
	long v = t != NULL ? strtol(t, NULL, 10) : 0;

	return v > 0 ? (unsigned)v : DEFAULT_SHUTDOWN_TIMEOUT_S;
}

static int cmd_stop(struct ctl *c)
{
	pid_t pid = running_pid(c);
	unsigned timeout = shutdown_timeout();
	struct timespec tick = {0, 50 * 1000 * 1000};

	if (pid == 0) {
		printf("graft is not running.\n");
		return 0;
	}
	printf("Stopping graft (pid %ld)", (long)pid);
	fflush(stdout);
	if (kill(pid, SIGTERM) != 0) {
		fprintf(stderr, "\ngraft: cannot signal pid %ld: %s\n", (long)pid,
			strerror(errno));
		return 1;
	}
	for (unsigned i = 0; i < timeout * 20; i++) {
		if (kill(pid, 0) != 0) {
			printf(" stopped.\n");
			return 0;
		}
		if (i % 20 == 19) {
			putchar('.');
			fflush(stdout);
		}
		nanosleep(&tick, NULL);
	}
	printf("\n");
	fprintf(stderr,
		"graft (pid %ld) did not stop within %u s and is still running. "
		"Look at %s/graft.log; set GRAFT_SHUTDOWN_TIMEOUT to wait longer, "
		"or kill -9 %ld as a last resort (recovery will replay the log).\n",
		(long)pid, timeout,
		graft_config_path(c->cfg, "server.directories.logs"), (long)pid);
	return 1;
}

static int cmd_restart(struct ctl *c)
{
	return cmd_stop(c) != 0 ? 1 : cmd_start(c);
}

static int cmd_status(struct ctl *c)
{
	pid_t pid = running_pid(c);

	if (pid == 0) {
		printf("graft is not running.\n");
		return EXIT_NOT_RUNNING;
	}
	printf("graft is running at pid %ld\n", (long)pid);
	return 0;
}

static const struct {
	const char *name;
	int (*run)(struct ctl *c);
	bool lenient; /* works through a configuration with errors */
} commands[] = {
	{"console", cmd_console, false}, {"start", cmd_start, false},
	{"stop", cmd_stop, true}, {"restart", cmd_restart, false},
	{"status", cmd_status, true},
};

int main(int argc, char **argv)
{
	struct ctl c;
	const char *cmd = NULL;
	size_t n_pos = 0, k;
	bool version = false;
	const struct admin_opt opts[] = {
		{.name = "--config", .takes_value = true, .str = &c.config_path},
		{.name = "--version", .flag = &version},
	};
	const struct admin_cmd spec = {
		.usage = usage, .opts = opts, .n_opts = 2, .pos = &cmd,
		.max_pos = 1, .n_pos = &n_pos, .prog = "graft",
	};
	int rv;

	memset(&c, 0, sizeof c);
	rv = admin_opt_parse(&spec, argc - 1, argv + 1);
	if (rv != 0)
		return rv == ADMIN_OPT_HELP ? 0 : 2;
	if (cmd != NULL && strcmp(cmd, "help") == 0) {
		fputs(usage, stdout);
		return 0;
	}
	if (version || (cmd != NULL && strcmp(cmd, "version") == 0)) {
		printf("graft %s\n", PACKAGE_VERSION);
		return 0;
	}
	for (k = 0; cmd != NULL && k < sizeof commands / sizeof commands[0]; k++)
		if (strcmp(cmd, commands[k].name) == 0)
			break;
	if (cmd == NULL || k == sizeof commands / sizeof commands[0]) {
		if (cmd != NULL)
			fprintf(stderr, "graft: unknown command '%s'\n\n", cmd);
		fputs(usage, stderr);
		return 2;
	}
	if (load_config(&c, commands[k].lenient) != 0) {
		graft_config_free(c.cfg);
		return 1;
	}
	find_graftd(&c);
	if (graft_path_join(c.pid_path, sizeof c.pid_path,
			    graft_config_path(c.cfg, "server.directories.run"),
			    "graft.pid") != GRAFT_OK) {
		fprintf(stderr, "graft: server.directories.run is too long\n");
		graft_config_free(c.cfg);
		return 1;
	}
	rv = commands[k].run(&c);
	graft_config_free(c.cfg);
	return rv;
}
