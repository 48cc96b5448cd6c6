/* graft-admin database backup (Neo4j 5's options) and the 3.x/4.x
 * spelling `backup --backup-dir=DIR --database=NAME`: asks a
 * running server's backup port for each database and writes one artifact
 * per database; `--inspect-path` lists artifacts and chains offline. Exit
 * code 0 only when every database was backed up, 1 otherwise, with a line
 * per database. */
#include "admin.h"
#include "opt.h"

#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../backup/chain.h"
#include "../backup/client.h"
#include "../backup/restore.h"
#include "../db/dbms_config.h"
#include "../util/fs.h"
#include "../util/log.h"

#define MAX_FROM 16
#define MAX_DBS 256

struct backup_cmd {
	const char *from[MAX_FROM];
	size_t n_from;
	char *from_list; /* owned: the split --from values */
	const char *to_path;
	const char *inspect_path;
	const char *additional_config;
	const char *dbs[MAX_DBS]; /* names or globs as given */
	size_t n_dbs;
	struct backup_client_opts o;
	bool legacy; /* the 3.x spelling */
	bool verify; /* restore the chain into a scratch directory after */
	struct db_options db_opts; /* for --verify */
};

static int add_from(struct backup_cmd *c, const char *list)
{
	size_t old = c->from_list ? strlen(c->from_list) + 1 : 0;
	char *buf, *tok, *save = NULL;
	size_t i;

	/* keep earlier values: they point into the old buffer */
	buf = malloc(old + strlen(list) + 1);
	if (buf == NULL)
		return -1;
	if (old > 0)
		memcpy(buf, c->from_list, old);
	strcpy(buf + old, list);
	for (i = 0; i < c->n_from; i++)
		c->from[i] = buf + (c->from[i] - c->from_list);
	free(c->from_list);
	c->from_list = buf;
	for (tok = strtok_r(buf + old, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		if (c->n_from == MAX_FROM) {
			fprintf(stderr, "graft-admin: at most %d --from "
				"addresses\n", MAX_FROM);
			return -1;
		}
		c->from[c->n_from++] = tok;
	}
	return 0;
}

static int parse_from(void *arg, const char *opt, const char *val)
{
	(void)opt;
	return add_from(arg, val);
}

static int parse_database(void *arg, const char *opt, const char *val)
{
	struct backup_cmd *c = arg;

	(void)opt;
	if (c->n_dbs == MAX_DBS) {
		fprintf(stderr, "graft-admin: at most %d databases\n", MAX_DBS);
		return -1;
	}
	c->dbs[c->n_dbs++] = val;
	return 0;
}

static int parse_type(void *arg, const char *opt, const char *val)
{
	struct backup_cmd *c = arg;

	if (strcasecmp(val, "FULL") == 0)
		c->o.type = BACKUP_WANT_FULL;
	else if (strcasecmp(val, "DIFF") == 0)
		c->o.type = BACKUP_WANT_DIFF;
	else if (strcasecmp(val, "AUTO") == 0)
		c->o.type = BACKUP_WANT_AUTO;
	else
		return fprintf(stderr, "graft-admin: %s=%s: expected FULL, "
			       "DIFF or AUTO\n", opt, val), -1;
	return 0;
}

static const char usage_5x[] =
	"usage: graft-admin [--config FILE] database backup [--from=HOST:PORT[,...]]\n"
	"         --to-path=DIR [--type=FULL|DIFF|AUTO] [--compress[=true|false]]\n"
	"         [--keep-failed[=true|false]] [--verbose] [--verify]\n"
	"         [--additional-config=FILE] [<database>|\"glob*\"...]\n"
	"       graft-admin database backup --inspect-path=PATH\n\n"
	"Online backup of each database (default neo4j) from a running server's\n"
	"backup port (default: server.backup.listen_address of the configuration)\n"
	"into one artifact per database in DIR: FULL the first time, then DIFF.\n"
	"--inspect-path lists the artifacts and chains in PATH.\n"
	"See docs/operations/backup.md.\n";

static const char usage_3x[] =
	"usage: graft-admin [--config FILE] backup --backup-dir=DIR --database=NAME\n"
	"         [--from=HOST:PORT[,...]] [--type=FULL|DIFF|AUTO]\n"
	"         [--compress[=true|false]] [--verbose]\n\n"
	"`database backup` in the 3.x/4.x spelling; DIR is created if missing.\n"
	"See docs/operations/backup.md.\n";

/* Options neo4j-admin has that take no part here (no entry to store them
 * in): accepted so that scripts written for neo4j-admin run unchanged. */
#define BACKUP_NOOP_OPTS                                                    \
	{.name = "--include-metadata", .takes_value = true},                \
	{.name = "--pagecache", .takes_value = true},                       \
	{.name = "--name", .takes_value = true},                            \
	{.name = "--cc-report-dir", .takes_value = true},                   \
	{.name = "--expand-commands"}, {.name = "--parallel-recovery"},     \
	{.name = "--fallback-to-full"}, {.name = "--check-consistency"}

static int parse_args(struct backup_cmd *c, int argc, char **argv)
{
	bool verbose = false;
	const struct admin_opt opts[] = {
		{.name = "--from", .takes_value = true, .parse = parse_from},
		{.name = c->legacy ? "--backup-dir" : "--to-path",
		 .takes_value = true, .str = &c->to_path},
		{.name = "--type", .takes_value = true, .parse = parse_type},
		{.name = "--compress", .flag = &c->o.compress},
		{.name = "--keep-failed", .flag = &c->o.keep_failed},
		{.name = "--verbose", .flag = &verbose},
		{.name = "--verify", .flag = &c->verify},
		{.name = "--inspect-path", .takes_value = true,
		 .str = &c->inspect_path},
		{.name = "--additional-config", .takes_value = true,
		 .str = &c->additional_config},
		BACKUP_NOOP_OPTS,
		/* last: only the 3.x spelling has it */
		{.name = "--database", .takes_value = true,
		 .parse = parse_database},
	};
	size_t n_opts = sizeof opts / sizeof opts[0] - !c->legacy;
	const struct admin_cmd cmd = {
		.usage = c->legacy ? usage_3x : usage_5x,
		.opts = opts, .n_opts = n_opts, .arg = c,
		.pos = c->dbs, .max_pos = MAX_DBS, .n_pos = &c->n_dbs,
		.prog = "graft-admin",
	};
	int rv = admin_opt_parse(&cmd, argc, argv);

	c->o.verbose = verbose ? stdout : NULL;
	return rv;
}

static bool is_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

/* Which databases a pattern names: the union over every --from of the
 * databases each server lists. names gets them, NUL-separated. */
static size_t expand_glob(const struct backup_cmd *c, const char *pattern,
			  const char **out, size_t max, char **blocks,
			  size_t *n_blocks)
{
	char errmsg[GRAFT_ERRMSG_SIZE], *names;
	size_t n = 0, k, i, j;
	const char *p;

	for (i = 0; i < c->n_from; i++) {
		if (backup_client_list(c->from[i], c->o.timeout_s, &names, &k,
				       errmsg) != GRAFT_OK) {
			if (c->o.verbose != NULL)
				fprintf(c->o.verbose, "%s\n", errmsg);
			continue;
		}
		blocks[(*n_blocks)++] = names;
		for (p = names; k-- > 0; p += strlen(p) + 1) {
			if (fnmatch(pattern, p, 0) != 0)
				continue;
			for (j = 0; j < n && strcmp(out[j], p) != 0; j++)
				;
			if (j == n && n < max)
				out[n++] = p;
		}
	}
	return n;
}

static void report_ok(const char *db, const char *from,
		      const struct backup_result *r)
{
	if (r->up_to_date) {
		printf("Backup of %s from %s: up to date at transaction %" PRIu64
		       "; no artifact written.\n",
		       db, from, r->m.last_txid);
		return;
	}
	printf("Backup of %s from %s: %s, transactions %" PRIu64 "..%" PRIu64,
	       db, from, backup_type_name(r->m.type),
	       r->m.type == BACKUP_FULL ? (uint64_t)1 : r->m.first_txid,
	       r->m.last_txid);
	if (r->m.type == BACKUP_FULL && r->m.checkpoint_txid > 0)
		printf(" (store copy at %" PRIu64 ")", r->m.checkpoint_txid);
	printf(", %" PRIu64 " bytes%s: %s\n", r->size,
	       r->m.compressed ? " compressed" : "", r->path);
}

/* --verify: the chain now in --to-path restores and recovers. */
static bool verify_one(const struct backup_cmd *c, const char *db)
{
	char errmsg[GRAFT_ERRMSG_SIZE];
	const char *tmp = getenv("TMPDIR");
	const char *paths[1] = {c->to_path};
	struct backup_restore_opts o = {
		.paths = paths, .n_paths = 1, .db = db,
		.until_txid = UINT64_MAX, .until_time_ms = -1,
		.db_opts = c->db_opts,
	};
	struct backup_restore_result res;

	if (backup_restore_scratch(&o, tmp ? tmp : "/tmp", -1, NULL, &res,
				   errmsg) != GRAFT_OK) {
		printf("Backup of %s FAILED verification: %s\n", db, errmsg);
		return false;
	}
	printf("Backup of %s verified: the chain restores and recovers to "
	       "transaction %" PRIu64 ".\n", db, res.last_txid);
	return true;
}

/* Backs up one database, trying each --from in order. */
static bool backup_one(const struct backup_cmd *c, const char *db)
{
	char errmsg[GRAFT_ERRMSG_SIZE] = "no --from address";
	struct backup_result r;
	size_t i;
	int rv = GRAFT_EINVAL;

	for (i = 0; i < c->n_from; i++) {
		rv = backup_client_run(c->from[i], db, &c->o, &r, errmsg);
		if (rv == GRAFT_OK) {
			report_ok(db, c->from[i], &r);
			return !c->verify || verify_one(c, db);
		}
		if (c->o.verbose != NULL || c->n_from > 1)
			fprintf(stderr, "%s: %s\n", db, errmsg);
		if (r.failed[0] != '\0')
			fprintf(stderr, "%s: the partial artifact is kept as "
				"%s\n", db, r.failed);
		if (rv != GRAFT_ENOTFOUND && rv != GRAFT_EIO)
			break; /* another server would not do better */
	}
	printf("Backup of %s FAILED: %s\n", db, errmsg);
	return false;
}

static int inspect(const char *path)
{
	char errmsg[GRAFT_ERRMSG_SIZE];
	struct backup_set s;
	int rv;

	backup_set_init(&s);
	rv = backup_set_add(&s, path, errmsg);
	if (rv != GRAFT_OK) {
		fprintf(stderr, "graft-admin: %s\n", errmsg);
		return 1;
	}
	backup_set_print(&s, stdout);
	backup_set_free(&s);
	return 0;
}

static int check_to_path(struct backup_cmd *c)
{
	char errmsg[GRAFT_ERRMSG_SIZE];

	if (c->to_path == NULL) {
		fprintf(stderr, "graft-admin: %s is required\n",
			c->legacy ? "--backup-dir" : "--to-path");
		return -1;
	}
	/* The 3.x tools created the directory; the production operations
	 * course's cron line relies on it (a new dated directory each day). */
	if (c->legacy && graft_mkdir_p(c->to_path, errmsg) != GRAFT_OK) {
		fprintf(stderr, "graft-admin: %s\n", errmsg);
		return -1;
	}
	return admin_need_dir(c->legacy ? "--backup-dir" : "--to-path",
			      c->to_path);
}

/* The default --from: this machine's backup port from the configuration. */
static int default_from(struct backup_cmd *c, const char *config_path)
{
	struct graft_config *cfg = admin_load_config(config_path);
	struct graft_address a;
	struct dbms_options d;
	char addr[300];

	if (cfg == NULL)
		return -1;
	if (c->additional_config != NULL) {
		char errmsg[GRAFT_ERRMSG_SIZE];

		if (graft_config_load(cfg, c->additional_config, errmsg) !=
		    GRAFT_OK) {
			fprintf(stderr, "graft-admin: %s\n", errmsg);
			graft_config_free(cfg);
			return -1;
		}
	}
	dbms_options_from_config(cfg, &d);
	c->db_opts = d.db; /* plain values: no pointers into cfg */
	c->o.timeout_s = (unsigned)(graft_config_duration_ms(
		cfg, "dbms.cluster.catchup.client_inactivity_timeout") / 1000);
	graft_config_address(cfg, "server.backup.listen_address", &a);
	graft_config_free(cfg);
	if (c->n_from > 0)
		return 0;
	graft_address_format(addr, sizeof addr,
			     a.host[0] == '\0' || strcmp(a.host, "0.0.0.0") == 0
				     ? "127.0.0.1" : a.host,
			     a.port);
	return add_from(c, addr);
}

static int run(struct backup_cmd *c)
{
	const char *names[MAX_DBS];
	char *blocks[MAX_FROM * MAX_DBS];
	size_t n_blocks = 0, n, i, k, failed = 0, total = 0;

	if (c->n_dbs == 0)
		c->dbs[c->n_dbs++] = "neo4j";
	for (i = 0; i < c->n_dbs; i++) {
		if (!is_glob(c->dbs[i])) {
			total++;
			failed += !backup_one(c, c->dbs[i]);
			continue;
		}
		n = expand_glob(c, c->dbs[i], names, MAX_DBS, blocks, &n_blocks);
		if (n == 0) {
			total++;
			failed++;
			printf("Backup of \"%s\" FAILED: no database on the "
			       "servers asked matches it\n", c->dbs[i]);
		}
		for (k = 0; k < n; k++) {
			total++;
			failed += !backup_one(c, names[k]);
		}
	}
	for (i = 0; i < n_blocks; i++)
		free(blocks[i]);
	if (failed > 0)
		printf("%zu of %zu database backups failed.\n", failed, total);
	return failed > 0 ? 1 : 0;
}

int admin_backup(const char *config_path, int argc, char **argv, int mode)
{
	struct backup_cmd c;
	int rv = 2;

	memset(&c, 0, sizeof c);
	c.legacy = mode == ADMIN_BACKUP_3X;
	c.o.compress = true;
	c.o.type = BACKUP_WANT_AUTO;
	rv = parse_args(&c, argc, argv);
	if (rv != 0) {
		rv = rv > 0 ? 0 : 2; /* --help, or a usage error */
		goto out;
	}
	if (c.inspect_path != NULL) {
		rv = inspect(c.inspect_path);
		goto out;
	}
	rv = 1;
	if (check_to_path(&c) != 0 || default_from(&c, config_path) != 0)
		goto out;
	c.o.to_dir = c.to_path;
	c.o.progress = isatty(STDERR_FILENO) ? stderr : NULL;
	graft_log_open(NULL, GRAFT_LOG_WARN, true, NULL); /* --verify's recovery */
	rv = run(&c);
out:
	free(c.from_list);
	return rv;
}
