/* Artifact sets and chains. A set is a flat array sorted by database and
 * last transaction id; planning a chain is a walk over it (O(n) per step,
 * sets hold tens of artifacts, not millions). */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "chain.h"

void backup_set_init(struct backup_set *s)
{
	s->e = NULL;
	s->n = 0;
}

void backup_set_free(struct backup_set *s)
{
	free(s->e);
	backup_set_init(s);
}

static int cmp_entry(const void *a, const void *b)
{
	const struct backup_entry *x = a, *y = b;
	int c = strcmp(x->m.db, y->m.db);

	if (c != 0)
		return c;
	if (x->m.last_txid != y->m.last_txid)
		return x->m.last_txid < y->m.last_txid ? -1 : 1;
	if (x->m.type != y->m.type)
		return x->m.type == BACKUP_FULL ? -1 : 1;
	return strcmp(x->path, y->path);
}

static int add_file(struct backup_set *s, const char *path, uint64_t size)
{
	struct backup_entry *e = realloc(s->e, (s->n + 1) * sizeof *e);

	if (e == NULL)
		return GRAFT_ENOMEM;
	s->e = e;
	e = &s->e[s->n++];
	memset(e, 0, sizeof *e);
	snprintf(e->path, sizeof e->path, "%s", path);
	e->size = size;
	e->status = backup_read_meta(path, &e->m, e->errmsg);
	return GRAFT_OK;
}

/* <db>-<time>.backup, and <db>.dump from `database dump` */
static bool is_artifact_name(const char *name)
{
	size_t n = strlen(name);

	return (n > 7 && strcmp(name + n - 7, ".backup") == 0) ||
	       (n > 5 && strcmp(name + n - 5, ".dump") == 0);
}

static int add_dir(struct backup_set *s, const char *dir, char *errmsg)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	struct stat st;
	char path[4096];
	int rv = GRAFT_OK;

	if (d == NULL)
		return graft_errf(errmsg, graft_err_from_errno(errno),
				  "cannot read directory %s: %s", dir,
				  strerror(errno));
	while (rv == GRAFT_OK && (de = readdir(d)) != NULL) {
		if (!is_artifact_name(de->d_name))
			continue;
		if (snprintf(path, sizeof path, "%s/%s", dir, de->d_name) >=
		    (int)sizeof path)
			continue;
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
			rv = add_file(s, path, (uint64_t)st.st_size);
	}
	closedir(d);
	return rv;
}

int backup_set_add(struct backup_set *s, const char *path, char *errmsg)
{
	struct stat st;
	int rv;

	if (stat(path, &st) != 0)
		return graft_errf(errmsg, graft_err_from_errno(errno),
				  "cannot read %s: %s", path, strerror(errno));
	rv = S_ISDIR(st.st_mode) ? add_dir(s, path, errmsg)
				 : add_file(s, path, (uint64_t)st.st_size);
	if (rv == GRAFT_ENOMEM)
		graft_errf(errmsg, rv, "out of memory listing %s", path);
	if (rv == GRAFT_OK && s->n > 0)
		qsort(s->e, s->n, sizeof *s->e, cmp_entry);
	return rv;
}

static bool of_db(const struct backup_entry *e, const char *db)
{
	return e->status == GRAFT_OK && strcmp(e->m.db, db) == 0;
}

const struct backup_entry *backup_set_newest(const struct backup_set *s,
					     const char *db)
{
	const struct backup_entry *best = NULL;
	size_t i;

	for (i = 0; i < s->n; i++)
		if (of_db(&s->e[i], db))
			best = &s->e[i]; /* sorted: the last one is newest */
	return best;
}

static const struct backup_entry *pick_full(const struct backup_set *s,
					    const char *db, uint64_t until)
{
	const struct backup_entry *best = NULL;
	size_t i;

	for (i = 0; i < s->n; i++)
		if (of_db(&s->e[i], db) && s->e[i].m.type == BACKUP_FULL &&
		    s->e[i].m.checkpoint_txid <= until)
			best = &s->e[i];
	return best;
}

/* The DIFF reaching furthest among those continuing a chain ending at end;
 * *gap gets the first DIFF that starts after end + 1. */
static const struct backup_entry *pick_diff(const struct backup_set *s,
					    const char *db, uint64_t end,
					    const struct backup_entry **gap)
{
	const struct backup_entry *best = NULL, *e;
	size_t i;

	*gap = NULL;
	for (i = 0; i < s->n; i++) {
		e = &s->e[i];
		if (!of_db(e, db) || e->m.type != BACKUP_DIFF ||
		    e->m.last_txid <= end)
			continue;
		if (e->m.first_txid <= end + 1)
			best = e;
		else if (*gap == NULL)
			*gap = e;
	}
	return best;
}

int backup_set_check_headers(const struct backup_set *s, char *errmsg)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->e[i].status != GRAFT_OK)
			return graft_errf(errmsg, GRAFT_ECORRUPT, "%s",
					  s->e[i].errmsg);
	return GRAFT_OK;
}

int backup_chain_plan(const struct backup_set *s, const char *db,
		      uint64_t until, const struct backup_entry **out,
		      size_t *n, uint64_t *end, char *errmsg)
{
	const struct backup_entry *e = pick_full(s, db, until), *gap = NULL;

	if (e == NULL)
		return graft_errf(errmsg, GRAFT_ENOTFOUND,
				  "no FULL backup artifact of database %s%s",
				  db, until == UINT64_MAX ? "" :
				  " old enough for --restore-until");
	*n = 0;
	while (e != NULL) {
		out[(*n)++] = e;
		*end = e->m.last_txid;
		if (*end >= until)
			break;
		e = pick_diff(s, db, *end, &gap);
	}
	if (*end < until && gap != NULL)
		return graft_errf(errmsg, GRAFT_ECORRUPT,
				  "backup chain of %s is broken at %s: it starts "
				  "at transaction %" PRIu64 " but the chain "
				  "before it ends at %" PRIu64 " (transactions %"
				  PRIu64 "..%" PRIu64 " are in no artifact)",
				  db, gap->path, gap->m.first_txid, *end,
				  *end + 1, gap->m.first_txid - 1);
	if (*end < until && until != UINT64_MAX)
		return graft_errf(errmsg, GRAFT_ENOTFOUND,
				  "the backup chain of %s ends at transaction %"
				  PRIu64 ", before --restore-until=%" PRIu64,
				  db, *end, until);
	if (*end > until)
		*end = until;
	return GRAFT_OK;
}

static void print_time(uint64_t ms, char *out, size_t n)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void print_chain(const struct backup_set *s, const char *db, FILE *out)
{
	const struct backup_entry **c = calloc(s->n, sizeof *c);
	char errmsg[GRAFT_ERRMSG_SIZE];
	uint64_t end;
	size_t n;

	if (c == NULL)
		return;
	if (backup_chain_plan(s, db, UINT64_MAX, c, &n, &end, errmsg) ==
	    GRAFT_OK)
		fprintf(out, "chain %s: FULL + %zu DIFF, restores up to "
			"transaction %" PRIu64 "\n", db, n - 1, end);
	else
		fprintf(out, "chain %s: none usable: %s\n", db, errmsg);
	free(c);
}

void backup_set_print(const struct backup_set *s, FILE *out)
{
	const struct backup_entry *e;
	char when[32];
	size_t i;

	fprintf(out, "%-52s %-12s %-20s %-4s %-10s %10s %10s %-9s %12s\n",
		"FILE", "DATABASE", "TIME (UTC)", "TYPE", "COMPRESSED",
		"LOWEST TX", "HIGHEST TX", "RECOVERED", "SIZE");
	for (i = 0; i < s->n; i++) {
		e = &s->e[i];
		if (e->status != GRAFT_OK) {
			fprintf(out, "%-52s DAMAGED: %s\n", e->path, e->errmsg);
			continue;
		}
		print_time(e->m.time_ms, when, sizeof when);
		/* A store copy that needs no log replayed onto it. */
		fprintf(out, "%-52s %-12s %-20s %-4s %-10s %10" PRIu64
			" %10" PRIu64 " %-9s %12" PRIu64 "\n",
			e->path, e->m.db, when, backup_type_name(e->m.type),
			e->m.compressed ? "true" : "false",
			e->m.type == BACKUP_FULL ? e->m.checkpoint_txid
						 : e->m.first_txid,
			e->m.last_txid,
			e->m.type == BACKUP_DIFF ? "-"
			: e->m.checkpoint_txid == e->m.last_txid ? "true"
								 : "false",
			e->size);
	}
	for (i = 0; i < s->n; i++)
		if (s->e[i].status == GRAFT_OK &&
		    (i == 0 || strcmp(s->e[i - 1].m.db, s->e[i].m.db) != 0))
			print_chain(s, s->e[i].m.db, out);
}
