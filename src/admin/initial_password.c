/* graft-admin dbms set-initial-password: sets the password of the initial
 * user (neo4j) offline, before the first start or while the server is
 * stopped, as neo4j-admin does. It opens the data directory the way graftd
 * does (same configuration, same lock, databases recovered), writes through
 * the user store and closes everything cleanly. Refused while graftd holds
 * the data directory: a running server changes passwords with
 * ALTER USER / ALTER CURRENT USER SET PASSWORD. */
#include "admin.h"
#include "opt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "../security/security.h"
#include "../db/dbms_config.h"
#include "../util/fs.h"
#include "../util/log.h"

struct offline {
	uv_loop_t loop;
	struct dbms *m;
	struct security *s;
	struct security_req req;
	int done;
	int status;
	int closed;
};

/* Takes data/graft.lock as graftd does (flock, released when we exit);
 * returns the fd, or -1 after saying why. */
static int lock_data_dir(const char *data)
{
	char path[4200];
	int fd;

	snprintf(path, sizeof path, "%s/graft.lock", data);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0) {
		fprintf(stderr, "graft-admin: cannot open lock file %s: %s\n",
			path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		fprintf(stderr,
			"graft-admin: the server is running on data directory "
			"%s (lock file %s is held). Stop it first (graft stop), "
			"or change the password on the running server with "
			"ALTER CURRENT USER SET PASSWORD FROM 'old' TO 'new'.\n",
			data, path);
		close(fd);
		return -1;
	}
	return fd;
}

static void req_cb(struct security_req *req, int status)
{
	struct offline *o = req->data;

	o->done = 1;
	o->status = status;
}

static void closed_cb(void *arg)
{
	struct offline *o = arg;

	o->closed = 1;
}

/* Opens the databases, sets the password, closes them. */
static int set_password(struct graft_config *cfg, const char *password,
			bool change_required)
{
	char errmsg[GRAFT_ERRMSG_SIZE];
	struct security_options so;
	struct dbms_options dbo;
	struct offline o = {.req.data = &o};
	int rv;

	graft_log_open(NULL, GRAFT_LOG_WARN, true, NULL); /* no recovery chatter */
	uv_loop_init(&o.loop);
	dbms_options_from_config(cfg, &dbo);
	rv = dbms_open(&o.loop, &dbo, &o.m, errmsg);
	if (rv != GRAFT_OK)
		goto out;
	security_options_from_config(cfg, &so);
	rv = security_open(&o.loop, o.m, &so, &o.s, errmsg);
	if (rv != GRAFT_OK)
		goto out;
	rv = security_set_initial_password(o.s, &o.req, password,
					   strlen(password), change_required,
					   req_cb);
	while (rv == GRAFT_OK && !o.done)
		uv_run(&o.loop, UV_RUN_ONCE);
	if (rv == GRAFT_OK)
		rv = o.status;
	if (rv != GRAFT_OK)
		snprintf(errmsg, sizeof errmsg, "%s", o.req.error.message);
out:
	if (rv != GRAFT_OK)
		fprintf(stderr, "graft-admin: %s\n", errmsg);
	security_close(o.s, NULL, NULL);
	if (o.m != NULL) {
		dbms_close(o.m, closed_cb, &o);
		while (!o.closed)
			uv_run(&o.loop, UV_RUN_ONCE);
	}
	uv_run(&o.loop, UV_RUN_DEFAULT); /* a failed dbms_open's closes */
	uv_loop_close(&o.loop);
	return rv;
}

static const char usage[] =
	"usage: graft-admin [--config FILE] dbms set-initial-password PASSWORD\n"
	"         [--require-password-change[=true|false]]\n\n"
	"Sets the password of user neo4j (at least 8 characters) while the server\n"
	"is stopped, creating the user and the data directory before the first\n"
	"start. A password that starts with '-' goes after \"--\".\n"
	"See docs/operations/security.md.\n";

int admin_set_initial_password(const char *config_path, int argc, char **argv,
			       int mode)
{
	char errmsg[GRAFT_ERRMSG_SIZE];
	bool change_required = false;
	const char *password = NULL;
	size_t n_pos = 0;
	const struct admin_opt opts[] = {
		{.name = "--require-password-change", .flag = &change_required},
	};
	const struct admin_cmd cmd = {
		.usage = usage, .opts = opts, .n_opts = 1, .pos = &password,
		.max_pos = 1, .n_pos = &n_pos, .prog = "graft-admin",
	};
	struct graft_config *cfg;
	const char *data;
	int fd, rv;

	(void)mode;
	rv = admin_opt_parse(&cmd, argc, argv);
	if (rv != 0)
		return rv == ADMIN_OPT_HELP ? 0 : 2;
	if (password == NULL) {
		fprintf(stderr, "graft-admin: the password is missing\n\n%s",
			usage);
		return 2;
	}
	rv = 1;
	cfg = admin_load_config(config_path);
	if (cfg == NULL)
		return 1;
	/* A member's own system database is the cluster's: a user written
	 * here alone would make it disagree with the other members. */
	if (strcmp(graft_config_string(cfg, "dbms.mode"), "CORE") == 0) {
		fprintf(stderr,
			"graft-admin: dbms.mode=CORE: the cluster's leader "
			"creates user '%s' (password '%s', to be changed at "
			"first login) once, when the cluster first forms; "
			"log in to any core and run ALTER CURRENT USER SET "
			"PASSWORD FROM '%s' TO '...'\n",
			SECURITY_INITIAL_USER, SECURITY_INITIAL_PASSWORD,
			SECURITY_INITIAL_PASSWORD);
		goto out;
	}
	data = graft_config_path(cfg, "server.directories.data");
	if (graft_mkdir_p(data, errmsg) != GRAFT_OK) {
		fprintf(stderr, "graft-admin: %s\n", errmsg);
		goto out;
	}
	fd = lock_data_dir(data);
	if (fd < 0)
		goto out;
	if (set_password(cfg, password, change_required) == GRAFT_OK) {
		printf("Changed password for user '%s'.%s\n",
		       SECURITY_INITIAL_USER,
		       change_required ? " It must be changed at first login."
				       : "");
		rv = 0;
	}
	close(fd);
out:
	graft_config_free(cfg);
	return rv;
}
