/* Artifact sets and chains. A set is a flat array sorted by database and
 * last transaction id; planning a chain is a walk over it (O(n) per step,
 * sets hold tens of artifacts, not millions).
 *
 * A directory may hold artifacts of two databases of one name: one that
 * was dropped, and the one created under its name since (their database
 * ids differ, artifact.h). Their transaction ids overlap and say nothing
 * about which is current, so the chain of a name is that of the database
 * of the artifact taken last; artifacts of other ids are left out of it
 * (restore an older one by naming its artifacts). */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
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

static bool of_name(const struct backup_entry *e, const char *db)
{
	return e->status == GRAFT_OK && strcmp(e->m.db, db) == 0;
}

/* The artifact of db taken last (then the one reaching furthest): its
 * database id is the one the chain of db is of. */
static const struct backup_entry *taken_last(const struct backup_set *s,
					     const char *db)
{
	const struct backup_entry *last = NULL;
	size_t i;

	for (i = 0; i < s->n; i++)
		if (of_name(&s->e[i], db) &&
		    (last == NULL || s->e[i].m.time_ms >= last->m.time_ms))
			last = &s->e[i];
	return last;
}

/* Whether e belongs to the chain of db whose artifact taken last is ref. */
static bool of_db(const struct backup_entry *e, const char *db,
		  const struct backup_entry *ref)
{
	return of_name(e, db) && ref != NULL &&
	       backup_same_db_id(&e->m, &ref->m);
}

const struct backup_entry *backup_set_newest(const struct backup_set *s,
					     const char *db)
{
	const struct backup_entry *best = NULL, *ref = taken_last(s, db);
	size_t i;

	for (i = 0; i < s->n; i++)
		if (of_db(&s->e[i], db, ref))
			best = &s->e[i]; /* sorted: the last one is newest */
	return best;
}

static const struct backup_entry *pick_full(const struct backup_set *s,
					    const char *db,
					    const struct backup_entry *ref,
					    uint64_t until)
{
	const struct backup_entry *best = NULL;
	size_t i;

	for (i = 0; i < s->n; i++)
		if (of_db(&s->e[i], db, ref) &&
		    s->e[i].m.type == BACKUP_FULL &&
		    s->e[i].m.checkpoint_txid <= until)
			best = &s->e[i];
	return best;
}

/* The DIFF reaching furthest among those continuing a chain ending at end;
 * *gap gets the first DIFF that starts after end + 1. */
static const struct backup_entry *pick_diff(const struct backup_set *s,
					    const char *db,
					    const struct backup_entry *ref,
					    uint64_t end,
					    const struct backup_entry **gap)
{
	const struct backup_entry *best = NULL, *e;
	size_t i;

	*gap = NULL;
	for (i = 0; i < s->n; i++) {
		e = &s->e[i];
		if (!of_db(e, db, ref) || e->m.type != BACKUP_DIFF ||
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
	const struct backup_entry *ref = taken_last(s, db), *gap = NULL;
	const struct backup_entry *e = pick_full(s, db, ref, until);
	char which[80] = "";

	if (e == NULL && ref != NULL && ref->m.has_db_id)
		snprintf(which, sizeof which, " with database id %" PRIu64
			 " (that of the artifact taken last)", ref->m.db_id);
	if (e == NULL)
		return graft_errf(errmsg, GRAFT_ENOTFOUND,
				  "no FULL backup artifact of database %s%s%s",
				  db, which, until == UINT64_MAX ? "" :
				  " old enough for --restore-until");
	*n = 0;
	while (e != NULL) {
		out[(*n)++] = e;
		*end = e->m.last_txid;
		if (*end >= until)
			break;
		e = pick_diff(s, db, ref, *end, &gap);
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
	    GRAFT_OK) {
		fprintf(out, "chain %s: FULL + %zu DIFF, restores up to "
			"transaction %" PRIu64, db, n - 1, end);
		if (c[n - 1]->m.has_db_id)
			fprintf(out, ", database id %" PRIu64,
				c[n - 1]->m.db_id);
		fputc('\n', out);
	} else
		fprintf(out, "chain %s: none usable: %s\n", db, errmsg);
	free(c);
}

/* --inspect-path's table, like the Neo4j operations manual's inspect
 * output: one row per artifact in the order they were taken (time, then
 * chain order), columns as wide as their widest cell so long paths keep
 * them aligned; damaged artifacts after them. */
enum { COL_FILE, COL_DB, COL_DB_ID, COL_TIME, COL_TYPE, COL_COMPRESSED,
       COL_LOW, COL_HIGH, COL_RECOVERED, COL_SIZE, N_COLS };

static const char *const col_head[N_COLS] = {
	"FILE", "DATABASE", "DATABASE ID", "TIME (UTC)", "TYPE", "COMPRESSED",
	"LOWEST TX", "HIGHEST TX", "RECOVERED", "SIZE"};

struct inspect_row {
	const struct backup_entry *e;
	const char *cell[N_COLS];
	char db_id[24], when[32], low[24], high[24], size[24];
};

static int cmp_row(const void *a, const void *b)
{
	const struct inspect_row *x = a, *y = b;
	const struct backup_meta *m = &x->e->m, *n = &y->e->m;
	int c;

	if (x->e->status != y->e->status) /* damaged ones last */
		return x->e->status == GRAFT_OK ? -1 : 1;
	if (x->e->status == GRAFT_OK) {
		if (m->time_ms != n->time_ms)
			return m->time_ms < n->time_ms ? -1 : 1;
		c = strcmp(m->db, n->db);
		if (c != 0)
			return c;
		if (m->first_txid != n->first_txid)
			return m->first_txid < n->first_txid ? -1 : 1;
		if (m->last_txid != n->last_txid)
			return m->last_txid < n->last_txid ? -1 : 1;
	}
	return strcmp(x->e->path, y->e->path);
}

static void fill_row(struct inspect_row *r, const struct backup_entry *e)
{
	const struct backup_meta *m = &e->m;

	r->e = e;
	print_time(m->time_ms, r->when, sizeof r->when);
	snprintf(r->low, sizeof r->low, "%" PRIu64,
		 m->type == BACKUP_FULL ? m->checkpoint_txid : m->first_txid);
	snprintf(r->high, sizeof r->high, "%" PRIu64, m->last_txid);
	snprintf(r->size, sizeof r->size, "%" PRIu64, e->size);
	if (m->has_db_id)
		snprintf(r->db_id, sizeof r->db_id, "%" PRIu64, m->db_id);
	else /* written before graft recorded ids */
		snprintf(r->db_id, sizeof r->db_id, "-");
	r->cell[COL_FILE] = e->path;
	r->cell[COL_DB] = m->db;
	r->cell[COL_DB_ID] = r->db_id;
	r->cell[COL_TIME] = r->when;
	r->cell[COL_TYPE] = backup_type_name(m->type);
	r->cell[COL_COMPRESSED] = m->compressed ? "true" : "false";
	r->cell[COL_LOW] = r->low;
	r->cell[COL_HIGH] = r->high;
	/* A store copy that needs no log replayed onto it. */
	r->cell[COL_RECOVERED] = m->type == BACKUP_DIFF ? "-"
				 : m->checkpoint_txid == m->last_txid ? "true"
								      : "false";
	r->cell[COL_SIZE] = r->size;
}

/* Numbers right-aligned, text left-aligned; no padding after the last. */
static void print_line(FILE *out, const char *const *cell,
		       const size_t *width)
{
	bool right;
	int i;

	for (i = 0; i < N_COLS; i++) {
		right = i == COL_DB_ID || i == COL_LOW || i == COL_HIGH ||
			i == COL_SIZE;
		fprintf(out, "%s%*s", i > 0 ? "  " : "",
			right ? (int)width[i] : -(int)(i + 1 < N_COLS ? width[i] : 0),
			cell[i]);
	}
	fputc('\n', out);
}

void backup_set_print(const struct backup_set *s, FILE *out)
{
	struct inspect_row *rows = calloc(s->n + 1, sizeof *rows);
	size_t width[N_COLS], i, len;
	int c;

	if (rows == NULL) {
		fprintf(out, "out of memory listing %zu artifacts\n", s->n);
		return;
	}
	for (i = 0; i < s->n; i++)
		rows[i].e = &s->e[i];
	/* before filling: cells point into their own row */
	qsort(rows, s->n, sizeof *rows, cmp_row);
	for (c = 0; c < N_COLS; c++)
		width[c] = strlen(col_head[c]);
	for (i = 0; i < s->n; i++) {
		fill_row(&rows[i], rows[i].e);
		for (c = 0; c < N_COLS; c++) {
			len = strlen(rows[i].cell[c]);
			if (rows[i].e->status == GRAFT_OK && len > width[c])
				width[c] = len;
		}
	}
	print_line(out, col_head, width);
	for (i = 0; i < s->n; i++) {
		if (rows[i].e->status == GRAFT_OK)
			print_line(out, rows[i].cell, width);
		else
			fprintf(out, "%-*s  DAMAGED: %s\n", (int)width[COL_FILE],
				rows[i].e->path, rows[i].e->errmsg);
	}
	free(rows);
	for (i = 0; i < s->n; i++)
		if (s->e[i].status == GRAFT_OK &&
		    (i == 0 || strcmp(s->e[i - 1].m.db, s->e[i].m.db) != 0))
			print_chain(s, s->e[i].m.db, out);
}
