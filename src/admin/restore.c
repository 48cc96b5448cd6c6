/* graft-admin database restore (Neo4j 5's options) and the 3.x/4.x spelling
 * `restore --from=DIR --database=NAME [--force]`: materialises
 * a backup chain into this server's data directory while the server is
 * stopped; graftd recovers the database at its next start. Also the two
 * commands that restore into a scratch directory instead: `database check`
 * (is the backup usable?) and `database aggregate-backup` (a chain
 * collapsed into one FULL artifact). */
#include <config.h> /* _GNU_SOURCE: strptime, timegm */

#include "admin.h"
#include "opt.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../backup/chain.h"
#include "../backup/restore.h"
#include "../db/dbms_config.h"
#include "../util/log.h"

#define MAX_PATHS 64

struct restore_cmd {
	const char *paths[MAX_PATHS];
	size_t n_paths;
	char *path_list; /* owned */
	const char *db;
	const char *to_data, *to_txn;
	const char *to_path; /* dump */
	bool overwrite, verbose;
	bool keep_old, compress; /* aggregate-backup */
	uint64_t until_txid;
	int64_t until_time_ms;
};

static int split_paths(void *arg, const char *opt, const char *list)
{
	struct restore_cmd *c = arg;
	char *tok, *save = NULL;

	(void)opt;
	free(c->path_list);
	c->path_list = strdup(list);
	c->n_paths = 0;
	if (c->path_list == NULL)
		return -1;
	for (tok = strtok_r(c->path_list, ",", &save);
	     tok != NULL && c->n_paths < MAX_PATHS;
	     tok = strtok_r(NULL, ",", &save))
		c->paths[c->n_paths++] = tok;
	return 0;
}

/* A time in UTC: "YYYY-MM-DD hh:mm:ss" or the ISO 8601 form
 * "YYYY-MM-DDThh:mm:ss[Z]"; -1 if it is neither. */
static int64_t parse_time_ms(const char *val)
{
	static const char *const forms[] = {"%Y-%m-%d %H:%M:%S",
					    "%Y-%m-%dT%H:%M:%S"};
	struct tm tm;
	const char *end;

	for (size_t k = 0; k < sizeof forms / sizeof forms[0]; k++) {
		memset(&tm, 0, sizeof tm);
		end = strptime(val, forms[k], &tm);
		if (end != NULL && (strcmp(end, "") == 0 || strcmp(end, "Z") == 0))
			return (int64_t)timegm(&tm) * 1000 + 999;
	}
	return -1;
}

/* A transaction id, or a time (parse_time_ms). */
static int parse_until(void *arg, const char *opt, const char *val)
{
	struct restore_cmd *c = arg;
	char *e;

	c->until_txid = strtoull(val, &e, 10);
	if (*val >= '0' && *val <= '9' && *e == '\0')
		return 0;
	c->until_txid = UINT64_MAX;
	c->until_time_ms = parse_time_ms(val);
	if (c->until_time_ms < 0) {
		fprintf(stderr, "graft-admin: %s=%s: expected a transaction id, "
			"\"YYYY-MM-DD hh:mm:ss\" or YYYY-MM-DDThh:mm:ss[Z] (UTC)\n",
			opt, val);
		return -1;
	}
	return 0;
}

#define CONFIG_OPT "[--config FILE] "

static const char *const usages[] = {
	[ADMIN_RESTORE] =
	"usage: graft-admin " CONFIG_OPT "database restore --from-path=PATH[,PATH...]\n"
	"         [--overwrite-destination[=true|false]]\n"
	"         [--restore-until=TXID|\"YYYY-MM-DD hh:mm:ss\"|YYYY-MM-DDThh:mm:ss]\n"
	"         [--to-path-data=DIR] [--to-path-txn=DIR] [--verbose] [<database>]\n\n"
	"Restores the chain of backup artifacts in PATH (a directory or files)\n"
	"into the data directory of a stopped server, up to the last transaction\n"
	"or the one --restore-until names (times in UTC).\n"
	"See docs/operations/restore.md.\n",
	[ADMIN_RESTORE_3X] =
	"usage: graft-admin " CONFIG_OPT "restore --from=DIR --database=NAME [--force]\n"
	"         [--verbose]\n\n"
	"`database restore` in the 3.x/4.x spelling. See docs/operations/restore.md.\n",
	[ADMIN_CHECK] =
	"usage: graft-admin " CONFIG_OPT "database check --from-path=PATH[,PATH...]\n"
	"         [--verbose] [<database>]\n\n"
	"Restores the chain into a scratch directory ($TMPDIR or /tmp) and\n"
	"recovers it: exit 0 when the backup is usable.\n"
	"See docs/operations/restore.md.\n",
	[ADMIN_AGGREGATE] =
	"usage: graft-admin " CONFIG_OPT "database aggregate-backup --from-path=DIR\n"
	"         [--keep-old-backup[=true|false]] [--compress[=true|false]] [<database>]\n\n"
	"Collapses the chain in DIR into one FULL artifact; the artifacts it\n"
	"covers are removed unless --keep-old-backup.\n"
	"See docs/operations/backup.md.\n",
	[ADMIN_DUMP] =
	"usage: graft-admin " CONFIG_OPT "database dump --to-path=DIR\n"
	"         [--overwrite-destination[=true|false]] [--compress[=true|false]]\n"
	"         <database>\n\n"
	"Copies a database of a stopped server into DIR/<database>.dump.\n"
	"See docs/operations/backup.md.\n",
	[ADMIN_LOAD] =
	"usage: graft-admin " CONFIG_OPT "database load --from-path=DIR|FILE\n"
	"         [--overwrite-destination[=true|false]] <database>\n\n"
	"Loads DIR/<database>.dump (or FILE) into a stopped server.\n"
	"See docs/operations/backup.md.\n",
};

/* What a mode needs beyond its options: "" when it has it. */
static const char *missing(const struct restore_cmd *c,
			   enum admin_restore_mode mode)
{
	if (mode == ADMIN_DUMP && c->to_path == NULL)
		return "--to-path";
	if ((mode == ADMIN_DUMP || mode == ADMIN_LOAD) && c->db == NULL)
		return "a database";
	if (mode != ADMIN_DUMP && c->n_paths == 0)
		return mode == ADMIN_RESTORE_3X ? "--from" : "--from-path";
	return "";
}

static int parse_args(struct restore_cmd *c, int argc, char **argv,
		      enum admin_restore_mode mode)
{
	bool legacy = mode == ADMIN_RESTORE_3X;
	const char *what;
	size_t n_db = 0;
	const struct admin_opt opts[] = {
		{.name = legacy ? "--from" : "--from-path", .takes_value = true,
		 .parse = split_paths},
		{.name = legacy ? "--force" : "--overwrite-destination",
		 .flag = &c->overwrite},
		{.name = "--restore-until", .takes_value = true,
		 .parse = parse_until},
		{.name = "--to-path", .takes_value = true, .str = &c->to_path},
		{.name = "--to-path-data", .takes_value = true,
		 .str = &c->to_data},
		{.name = "--to-path-txn", .takes_value = true, .str = &c->to_txn},
		{.name = "--verbose", .flag = &c->verbose},
		{.name = "--keep-old-backup", .flag = &c->keep_old},
		{.name = "--compress", .flag = &c->compress},
		{.name = "--expand-commands"}, /* neo4j-admin's; nothing here */
		/* last: only the 3.x spelling has it */
		{.name = "--database", .takes_value = true, .str = &c->db},
	};
	const struct admin_cmd cmd = {
		.usage = usages[mode], .opts = opts,
		.n_opts = sizeof opts / sizeof opts[0] - !legacy, .arg = c,
		.pos = &c->db, .max_pos = legacy ? 0 : 1, .n_pos = &n_db,
		.prog = "graft-admin",
	};
	int rv = admin_opt_parse(&cmd, argc, argv);

	if (rv != 0)
		return rv;
	what = missing(c, mode);
	if (what[0] == '\0')
		return 0;
	fprintf(stderr, "graft-admin: %s is required\n\n%s", what, usages[mode]);
	return -1;
}

/* Removes the artifacts in dir that the aggregate (keep, of chain res)
 * covers; returns how many. Those of another database id (one of that name
 * dropped since) stay. */
static size_t remove_covered(const char *dir,
			     const struct backup_restore_result *res,
			     const char *keep)
{
	struct backup_meta chain = {.has_db_id = res->has_db_id,
				    .db_id = res->db_id};
	char errmsg[GRAFT_ERRMSG_SIZE];
	struct backup_set s;
	size_t i, n = 0;

	backup_set_init(&s);
	if (backup_set_add(&s, dir, errmsg) == GRAFT_OK)
		for (i = 0; i < s.n; i++)
			if (s.e[i].status == GRAFT_OK &&
			    strcmp(s.e[i].m.db, res->db) == 0 &&
			    backup_same_db_id(&s.e[i].m, &chain) &&
			    s.e[i].m.last_txid <= res->last_txid &&
			    strcmp(s.e[i].path, keep) != 0 &&
			    unlink(s.e[i].path) == 0)
				n++;
	backup_set_free(&s);
	return n;
}

static int scratch(const struct restore_cmd *c, struct backup_restore_opts *o,
		   enum admin_restore_mode mode)
{
	char errmsg[GRAFT_ERRMSG_SIZE], path[4096] = "";
	const char *tmp = getenv("TMPDIR");
	struct backup_restore_result res;
	size_t removed = 0;

	if (mode == ADMIN_AGGREGATE && c->n_paths != 1) {
		fprintf(stderr, "graft-admin: aggregate-backup takes one "
			"--from-path directory\n");
		return 1;
	}
	if (backup_restore_scratch(o, mode == ADMIN_AGGREGATE ? c->paths[0]
					      : tmp ? tmp : "/tmp",
				   mode == ADMIN_AGGREGATE ? c->compress : -1,
				   path, &res, errmsg) != GRAFT_OK) {
		fprintf(stderr, "graft-admin: %s failed: %s\n",
			mode == ADMIN_AGGREGATE ? "aggregate-backup" : "check",
			errmsg);
		return 1;
	}
	if (mode == ADMIN_CHECK) {
		printf("%s: the chain (FULL + %zu DIFF) restores and recovers to "
		       "transaction %" PRIu64 "; the backup is usable.\n",
		       res.db, res.n_artifacts - 1, res.last_txid);
		return 0;
	}
	if (!c->keep_old)
		removed = remove_covered(c->paths[0], &res, path);
	printf("Aggregated the chain of %s (FULL + %zu DIFF, up to transaction %"
	       PRIu64 ") into %s; %zu older artifacts removed.\n",
	       res.db, res.n_artifacts - 1, res.last_txid, path, removed);
	return 0;
}

static int dump(const struct restore_cmd *c, const struct dbms_options *d,
		const char *store_root)
{
	char errmsg[GRAFT_ERRMSG_SIZE], store[4400], txlog[4400], path[4096];
	struct db_options o = d->db;
	uint64_t last = 0;

	snprintf(store, sizeof store, "%s/%s", store_root, c->db);
	snprintf(txlog, sizeof txlog, "%s/%s", d->txlog_root, c->db);
	o.name = c->db;
	o.store_dir = store;
	o.txlog_dir = txlog;
	o.checkpoint_interval_ms = o.checkpoint_interval_tx = 0;
	if (admin_need_dir("--to-path", c->to_path) != 0)
		return 1;
	if (backup_dump(&o, d->data_dir, c->to_path, c->compress, c->overwrite,
			path, &last, errmsg) != GRAFT_OK) {
		fprintf(stderr, "graft-admin: dump failed: %s\n", errmsg);
		return 1;
	}
	printf("Dumped database %s (up to transaction %" PRIu64 ") to %s.\n",
	       c->db, last, path);
	return 0;
}

/* load reads <from-path>/<db>.dump, or the file --from-path names. */
static int load_path(struct restore_cmd *c)
{
	struct stat st;
	char *p;

	if (c->n_paths != 1 || stat(c->paths[0], &st) != 0 ||
	    !S_ISDIR(st.st_mode))
		return 0;
	p = malloc(strlen(c->paths[0]) + strlen(c->db) + 8);
	if (p == NULL)
		return -1;
	sprintf(p, "%s/%s.dump", c->paths[0], c->db);
	free(c->path_list);
	c->path_list = p;
	c->paths[0] = p;
	return 0;
}

int admin_restore(const char *config_path, int argc, char **argv, int mode)
{
	char errmsg[GRAFT_ERRMSG_SIZE], store_root[4200];
	struct restore_cmd c = {.until_txid = UINT64_MAX, .until_time_ms = -1,
				.compress = true};
	struct backup_restore_result res;
	struct backup_restore_opts o;
	struct graft_config *cfg = NULL;
	struct dbms_options d;
	int rv = 2;

	rv = parse_args(&c, argc, argv, mode);
	if (rv != 0) {
		rv = rv > 0 ? 0 : 2; /* --help, or a usage error */
		goto out;
	}
	rv = 1;
	cfg = admin_load_config(config_path);
	if (cfg == NULL)
		goto out;
	dbms_options_from_config(cfg, &d);
	snprintf(store_root, sizeof store_root, "%s/databases", d.data_dir);
	memset(&o, 0, sizeof o);
	o.paths = c.paths;
	o.n_paths = c.n_paths;
	o.db = c.db;
	o.until_txid = c.until_txid;
	o.until_time_ms = c.until_time_ms;
	o.overwrite = c.overwrite;
	o.data_dir = d.data_dir;
	o.store_root = c.to_data != NULL ? c.to_data : store_root;
	o.txlog_root = c.to_txn != NULL ? c.to_txn : d.txlog_root;
	o.db_opts = d.db;
	/* A cluster member's database ids are the Raft indices of its
	 * cluster's CREATE DATABASE entries, which an id from elsewhere must
	 * not overtake (entries below it would be skipped). */
	o.keep_db_id = strcmp(graft_config_string(cfg, "dbms.mode"),
			      "SINGLE") == 0;
	o.verbose = c.verbose ? stdout : NULL;
	/* as backup does; --verbose's lines say more and would break it */
	o.progress = !c.verbose && isatty(STDERR_FILENO) ? stderr : NULL;
	/* recovery's INFO lines only with --verbose */
	graft_log_open(NULL, c.verbose ? GRAFT_LOG_INFO : GRAFT_LOG_WARN, true,
		       errmsg);
	if (mode == ADMIN_CHECK || mode == ADMIN_AGGREGATE) {
		rv = scratch(&c, &o, mode);
		goto out;
	}
	if (mode == ADMIN_DUMP) {
		rv = dump(&c, &d, store_root);
		goto out;
	}
	if (mode == ADMIN_LOAD && load_path(&c) != 0)
		goto out;
	if (backup_restore(&o, &res, errmsg) != GRAFT_OK) {
		fprintf(stderr, "graft-admin: restore failed: %s\n", errmsg);
		goto out;
	}
	printf("Restored database %s up to transaction %" PRIu64 " (FULL + %zu "
	       "DIFF) into %s/%s. Start the server to open it.\n",
	       res.db, res.last_txid, res.n_artifacts - 1, o.store_root,
	       res.db);
	if (res.has_db_id && o.keep_db_id)
		printf("Its database id is %" PRIu64 ", as in the backup.\n",
		       res.db_id);
	rv = 0;
out:
	if (cfg != NULL)
		graft_config_free(cfg);
	free(c.path_list);
	return rv;
}
