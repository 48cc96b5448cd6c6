/* Runs the semantic case corpus, the .cases files in tests/cypher (format in
 * tests/cypher/README.md): each case against a fresh database in a child
 * process, its setup statements committed one by one, then the query,
 * compared with the expected columns, rows, statistics or error.
 *
 * Prints a pass count per file and every failure with file:line, expected
 * and actual. Exits 1 on a failure not listed in
 * tests/cypher/known_failures.txt; with --strict also when a listed case
 * passes. GRAFT_CASES=a,b.cases runs only those files. --no-fork runs the
 * cases in this process (for a debugger). */
#define _XOPEN_SOURCE 700
#include <stdio.h>

#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cypher_harness.h"

#ifndef GRAFT_CASES_DIR
#define GRAFT_CASES_DIR "tests/cypher"
#endif

#define CASE_TIMEOUT_S 30

struct strv {
	size_t n;
	char **v;
};

struct case_def {
	char *name;
	const char *file; /* base name, borrowed */
	int line;
	struct strv setups;
	char *params;
	char *query;
	char *columns;
	bool ordered;
	bool norows;
	struct strv rows;
	char *error_code;
	char *error_text;
	char *stats;
};

struct known {
	struct strv names;
	bool *seen;
};

struct tally {
	int passed, failed, known, known_passing;
};

static void strv_add(struct strv *s, char *str)
{
	char **v = realloc(s->v, (s->n + 1) * sizeof *v);

	if (v == NULL)
		abort();
	s->v = v;
	s->v[s->n++] = str;
}

static void strv_free(struct strv *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

static char *dup_or_die(const char *s)
{
	char *d = strdup(s);

	if (d == NULL)
		abort();
	return d;
}

/* Appends "\n" + more to *s (a continuation line). */
static void append_line(char **s, const char *more)
{
	size_t a = strlen(*s), b = strlen(more);
	char *p = realloc(*s, a + b + 2);

	if (p == NULL)
		abort();
	p[a] = '\n';
	memcpy(p + a + 1, more, b + 1);
	*s = p;
}

static void case_free(struct case_def *c)
{
	free(c->name);
	strv_free(&c->setups);
	free(c->params);
	free(c->query);
	free(c->columns);
	strv_free(&c->rows);
	free(c->error_code);
	free(c->error_text);
	free(c->stats);
	memset(c, 0, sizeof *c);
}

/* Parsing ---------------------------------------------------------------- */

struct parser {
	const char *file;
	int line;
	struct case_def *cases;
	size_t ncases;
	char **cont; /* the field a continuation line extends, or NULL */
	int errors;
};

static struct case_def *cur(struct parser *p)
{
	return p->ncases ? &p->cases[p->ncases - 1] : NULL;
}

static const char *after(const char *line, const char *key)
{
	size_t n = strlen(key);

	if (strncmp(line, key, n) != 0)
		return NULL;
	line += n;
	while (*line == ' ')
		line++;
	return line;
}

static void parse_error(struct parser *p, const char *what)
{
	fprintf(stderr, "%s:%d: %s\n", p->file, p->line, what);
	p->errors++;
}

static void new_case(struct parser *p, const char *name)
{
	struct case_def *c;

	c = realloc(p->cases, (p->ncases + 1) * sizeof *c);
	if (c == NULL)
		abort();
	p->cases = c;
	c = &p->cases[p->ncases++];
	memset(c, 0, sizeof *c);
	c->name = dup_or_die(name);
	c->file = p->file;
	c->line = p->line;
	p->cont = NULL;
}

static void set_once(struct parser *p, char **field, const char *v)
{
	if (*field != NULL)
		parse_error(p, "field given twice");
	free(*field);
	*field = dup_or_die(v);
	p->cont = field;
}

static void parse_error_line(struct parser *p, struct case_def *c,
			     const char *v)
{
	const char *tilde = strstr(v, " ~ ");
	size_t n = tilde ? (size_t)(tilde - v) : strlen(v);

	c->error_code = strndup(v, n);
	if (c->error_code == NULL)
		abort();
	if (tilde != NULL)
		c->error_text = dup_or_die(tilde + 3);
	p->cont = NULL;
}

/* One line of a field of the current case. */
static void parse_field(struct parser *p, struct case_def *c, const char *l)
{
	const char *v;

	if ((v = after(l, "setup:")) != NULL) {
		strv_add(&c->setups, dup_or_die(v));
		p->cont = &c->setups.v[c->setups.n - 1];
	} else if ((v = after(l, "params:")) != NULL) {
		set_once(p, &c->params, v);
	} else if ((v = after(l, "query:")) != NULL) {
		set_once(p, &c->query, v);
	} else if ((v = after(l, "columns:")) != NULL) {
		set_once(p, &c->columns, v);
	} else if ((v = after(l, "row:")) != NULL) {
		strv_add(&c->rows, dup_or_die(v));
		p->cont = NULL;
	} else if ((v = after(l, "error:")) != NULL) {
		parse_error_line(p, c, v);
	} else if ((v = after(l, "stats:")) != NULL) {
		set_once(p, &c->stats, v);
		p->cont = NULL;
	} else if (strcmp(l, "ordered") == 0) {
		c->ordered = true;
	} else if (strcmp(l, "norows") == 0) {
		c->norows = true;
	} else {
		parse_error(p, "unknown line (see tests/cypher/README.md)");
	}
}

static void parse_line(struct parser *p, char *l)
{
	size_t n = strlen(l);

	while (n > 0 && (l[n - 1] == '\n' || l[n - 1] == '\r'))
		l[--n] = '\0';
	if (strncmp(l, "### ", 4) == 0) {
		new_case(p, l + 4);
		return;
	}
	if (n == 0 || l[0] == '#') {
		p->cont = NULL;
		return;
	}
	if (strncmp(l, "  ", 2) == 0 && p->cont != NULL) {
		append_line(p->cont, l + 2);
		return;
	}
	if (cur(p) == NULL) {
		parse_error(p, "a line before the first ### case");
		return;
	}
	p->cont = NULL;
	parse_field(p, cur(p), l);
}

static void check_case(struct parser *p, const struct case_def *c)
{
	p->line = c->line;
	if (c->query == NULL)
		parse_error(p, "case without query:");
	if (c->error_code != NULL && (c->rows.n || c->norows || c->columns))
		parse_error(p, "case with both error: and a result");
	if (c->error_code == NULL && !c->norows && c->rows.n == 0 &&
	    c->stats == NULL)
		parse_error(p, "case expects nothing (add row:, norows, "
			       "error: or stats:)");
	if (c->norows && c->rows.n)
		parse_error(p, "case with both norows and row:");
}

static int parse_file(const char *path, const char *base,
		      struct case_def **cases, size_t *n)
{
	struct parser p = {.file = base};
	char *line = NULL;
	size_t cap = 0, i;
	FILE *f = fopen(path, "r");

	if (f == NULL) {
		perror(path);
		return 1;
	}
	while (getline(&line, &cap, f) > 0) {
		p.line++;
		parse_line(&p, line);
	}
	free(line);
	fclose(f);
	for (i = 0; i < p.ncases; i++)
		check_case(&p, &p.cases[i]);
	*cases = p.cases;
	*n = p.ncases;
	return p.errors;
}

/* Running one case (in the child) ------------------------------------------ */

static void print_outcome(FILE *out, const struct harness_outcome *o)
{
	size_t i;

	if (o->failed) {
		fprintf(out, "    error: %s ~ %s\n", o->error.code,
			o->error.message);
		return;
	}
	fprintf(out, "    columns: ");
	for (i = 0; i < o->ncols; i++)
		fprintf(out, "%s%s", i ? ", " : "", o->cols[i]);
	fprintf(out, "\n");
	if (o->nrows == 0)
		fprintf(out, "    norows\n");
	for (i = 0; i < o->nrows; i++) {
		char *r = harness_row_join(o, i);

		fprintf(out, "    row: %s\n", r);
		free(r);
	}
}

static void print_expected(FILE *out, const struct case_def *c)
{
	size_t i;

	if (c->error_code != NULL) {
		fprintf(out, "    error: %s%s%s\n", c->error_code,
			c->error_text ? " ~ " : "",
			c->error_text ? c->error_text : "");
		return;
	}
	if (c->columns)
		fprintf(out, "    columns: %s\n", c->columns);
	if (c->ordered)
		fprintf(out, "    ordered\n");
	if (c->norows)
		fprintf(out, "    norows\n");
	for (i = 0; i < c->rows.n; i++)
		fprintf(out, "    row: %s\n", c->rows.v[i]);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool rows_match(const struct case_def *c,
		       const struct harness_outcome *o)
{
	char **got, **want;
	bool same = true;
	size_t i;

	if (o->nrows != c->rows.n)
		return false;
	if (o->nrows == 0)
		return true;
	got = calloc(o->nrows, sizeof *got);
	want = calloc(o->nrows, sizeof *want);
	if (got == NULL || want == NULL)
		abort();
	for (i = 0; i < o->nrows; i++) {
		got[i] = harness_row_join(o, i);
		want[i] = c->rows.v[i];
	}
	if (!c->ordered) {
		qsort(got, o->nrows, sizeof *got, cmp_str);
		qsort(want, o->nrows, sizeof *want, cmp_str);
	}
	for (i = 0; i < o->nrows && same; i++)
		same = strcmp(got[i], want[i]) == 0;
	for (i = 0; i < o->nrows; i++)
		free(got[i]);
	free(got);
	free(want);
	return same;
}

static bool columns_match(const struct case_def *c,
			  const struct harness_outcome *o)
{
	struct harness_text t = {0};
	size_t i;
	bool same;

	if (c->columns == NULL)
		return true;
	harness_text_add(&t, "", 0);
	for (i = 0; i < o->ncols; i++) {
		if (i > 0)
			harness_text_add(&t, ", ", 2);
		harness_text_add(&t, o->cols[i], strlen(o->cols[i]));
	}
	same = strcmp(t.s, c->columns) == 0;
	free(t.s);
	return same;
}

/* Checks each key=value of the stats line; reports mismatches to out. */
static bool stats_match(const struct case_def *c,
			const struct harness_outcome *o, FILE *out)
{
	char *copy, *tok, *save = NULL;
	bool same = true;
	size_t i;

	if (c->stats == NULL)
		return true;
	copy = dup_or_die(c->stats);
	for (tok = strtok_r(copy, " ", &save); tok != NULL;
	     tok = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(tok, '=');
		uint64_t got;

		for (i = 0; eq != NULL && i < CYPHER_STATS_COUNT; i++)
			if (strncmp(tok, cypher_stats_name(i),
				    (size_t)(eq - tok)) == 0 &&
			    cypher_stats_name(i)[eq - tok] == '\0')
				break;
		if (eq == NULL || i == CYPHER_STATS_COUNT) {
			fprintf(out, "  unknown stats key in '%s'\n", tok);
			same = false;
			continue;
		}
		got = cypher_stats_get(&o->stats, i);
		if (got != strtoull(eq + 1, NULL, 10)) {
			fprintf(out, "  stats %s: expected %s, got %llu\n",
				cypher_stats_name(i), eq + 1,
				(unsigned long long)got);
			same = false;
		}
	}
	free(copy);
	return same;
}

static bool error_matches(const struct case_def *c,
			  const struct harness_outcome *o)
{
	if (!o->failed || strcmp(o->error.code, c->error_code) != 0)
		return false;
	return c->error_text == NULL ||
	       strstr(o->error.message, c->error_text) != NULL;
}

/* Compares; on a difference writes expected and got to out. */
static int compare(const struct case_def *c, const struct harness_outcome *o,
		   FILE *out)
{
	bool ok;

	if (c->error_code != NULL)
		ok = error_matches(c, o);
	else
		ok = !o->failed && columns_match(c, o) &&
		     (c->rows.n == 0 && !c->norows ? true : rows_match(c, o));
	if (!ok) {
		fprintf(out, "  expected:\n");
		print_expected(out, c);
		fprintf(out, "  got:\n");
		print_outcome(out, o);
	}
	if (c->error_code == NULL && !o->failed && !stats_match(c, o, out))
		ok = false;
	return ok ? 0 : 1;
}

static int run_setup(struct harness *h, const struct case_def *c, FILE *out)
{
	struct harness_outcome o;
	size_t i;

	for (i = 0; i < c->setups.n; i++) {
		if (harness_run(h, c->setups.v[i], NULL, &o) != GRAFT_OK)
			abort();
		if (o.failed) {
			fprintf(out, "  setup %zu failed: %s ~ %s\n", i + 1,
				o.error.code, o.error.message);
			harness_outcome_free(&o);
			return 1;
		}
		harness_outcome_free(&o);
	}
	return 0;
}

static int run_case(void *arg, FILE *out)
{
	const struct case_def *c = arg;
	struct graft_value params = graft_value_null();
	struct harness_outcome o;
	struct cypher_error err;
	char errmsg[GRAFT_ERRMSG_SIZE] = "";
	struct harness h;
	int rv = 1;

	if (harness_open(&h, errmsg) != GRAFT_OK) {
		fprintf(out, "  cannot open a database: %s\n", errmsg);
		return 1;
	}
	if (run_setup(&h, c, out) != 0)
		goto out;
	if (c->params != NULL &&
	    harness_map(&h, c->params, &params, &err) != GRAFT_OK) {
		fprintf(out, "  params failed: %s ~ %s\n", err.code,
			err.message);
		goto out;
	}
	if (harness_run(&h, c->query, c->params ? &params : NULL, &o) !=
	    GRAFT_OK)
		abort();
	rv = compare(c, &o, out);
	harness_outcome_free(&o);
out:
	graft_value_free(&params);
	harness_close(&h);
	return rv;
}

/* Known failures and the driver ------------------------------------------- */

static void load_known(const char *dir, struct known *k)
{
	char path[4096], *line = NULL;
	size_t cap = 0;
	FILE *f;

	snprintf(path, sizeof path, "%s/known_failures.txt", dir);
	f = fopen(path, "r");
	if (f != NULL) {
		while (getline(&line, &cap, f) > 0) {
			char *hash = strstr(line, " #");
			size_t n;

			if (line[0] == '#')
				continue;
			if (hash != NULL)
				*hash = '\0';
			n = strlen(line);
			while (n > 0 && strchr(" \t\r\n", line[n - 1]))
				line[--n] = '\0';
			if (n > 0)
				strv_add(&k->names, dup_or_die(line));
		}
		free(line);
		fclose(f);
	}
	k->seen = calloc(k->names.n + 1, sizeof *k->seen);
	if (k->seen == NULL)
		abort();
}

static int known_index(const struct known *k, const char *name)
{
	size_t i;

	for (i = 0; i < k->names.n; i++)
		if (strcmp(k->names.v[i], name) == 0)
			return (int)i;
	return -1;
}

static bool wanted(const char *base)
{
	const char *f = getenv("GRAFT_CASES");
	size_t n = strlen(base) - strlen(".cases");
	char *copy, *tok, *save = NULL;
	bool yes = false;

	if (f == NULL || *f == '\0')
		return true;
	copy = dup_or_die(f);
	for (tok = strtok_r(copy, ", ", &save); tok && !yes;
	     tok = strtok_r(NULL, ", ", &save))
		yes = strcmp(tok, base) == 0 ||
		      (strlen(tok) == n && strncmp(tok, base, n) == 0);
	free(copy);
	return yes;
}

static int is_cases(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return n > 6 && strcmp(d->d_name + n - 6, ".cases") == 0;
}

struct options {
	bool strict, no_fork, verbose;
	const char *dir;
};

static void run_one(const struct options *opt, struct known *k,
		    const struct case_def *c, struct tally *t)
{
	int ki = known_index(k, c->name);
	char *report = NULL;
	int failed;

	if (ki >= 0)
		k->seen[ki] = true;
	failed = harness_isolate(run_case, (void *)c, CASE_TIMEOUT_S,
				 opt->no_fork, &report);
	if (!failed && ki < 0) {
		t->passed++;
		if (opt->verbose)
			printf("ok   %s:%d %s\n", c->file, c->line, c->name);
	} else if (!failed) {
		t->known_passing++;
		printf("KNOWN FAILURE NOW PASSES %s:%d %s (remove it from "
		       "known_failures.txt)\n",
		       c->file, c->line, c->name);
	} else if (ki >= 0) {
		t->known++;
		if (opt->verbose)
			printf("known %s:%d %s\n%s", c->file, c->line, c->name,
			       report ? report : "");
	} else {
		t->failed++;
		printf("FAIL %s:%d %s\n  query: %s\n%s", c->file, c->line,
		       c->name, c->query, report ? report : "");
	}
	free(report);
}

/* Runs one file; returns its parse error count. */
static int run_file(const struct options *opt, struct known *k,
		    const char *base, struct tally *all, struct strv *names)
{
	struct case_def *cases = NULL;
	struct tally t = {0};
	char path[4096];
	size_t n = 0, i, j;
	int errors;

	snprintf(path, sizeof path, "%s/%s", opt->dir, base);
	errors = parse_file(path, base, &cases, &n);
	for (i = 0; i < n; i++) {
		for (j = 0; j < names->n; j++)
			if (strcmp(names->v[j], cases[i].name) == 0)
				break;
		if (j < names->n) {
			fprintf(stderr, "%s:%d: duplicate case name '%s'\n",
				base, cases[i].line, cases[i].name);
			errors++;
		}
		strv_add(names, dup_or_die(cases[i].name));
	}
	for (i = 0; errors == 0 && i < n; i++)
		run_one(opt, k, &cases[i], &t);
	printf("%-24s %4d/%-4zu passed%s", base, t.passed, n,
	       errors ? "  (not run: format errors)" : "");
	if (t.known)
		printf(", %d known failure%s", t.known, t.known > 1 ? "s" : "");
	if (t.failed)
		printf(", %d FAILED", t.failed);
	printf("\n");
	fflush(stdout);
	all->passed += t.passed;
	all->failed += t.failed + (errors ? (int)n : 0);
	all->known += t.known;
	all->known_passing += t.known_passing;
	for (i = 0; i < n; i++)
		case_free(&cases[i]);
	free(cases);
	return errors;
}

static void parse_args(int argc, char **argv, struct options *o)
{
	int i;

	o->dir = getenv("GRAFT_CASES_DIR") ? getenv("GRAFT_CASES_DIR")
					   : GRAFT_CASES_DIR;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--strict") == 0)
			o->strict = true;
		else if (strcmp(argv[i], "--no-fork") == 0)
			o->no_fork = true;
		else if (strcmp(argv[i], "-v") == 0 ||
			 strcmp(argv[i], "--verbose") == 0)
			o->verbose = true;
		else
			o->dir = argv[i];
	}
}

static int unseen_known(const struct known *k)
{
	size_t i;
	int n = 0;

	if (getenv("GRAFT_CASES") != NULL && *getenv("GRAFT_CASES") != '\0')
		return 0; /* a filtered run does not see every case */
	for (i = 0; i < k->names.n; i++)
		if (!k->seen[i]) {
			printf("known_failures.txt names no case: '%s'\n",
			       k->names.v[i]);
			n++;
		}
	return n;
}

int main(int argc, char **argv)
{
	struct options opt = {0};
	struct known k = {0};
	struct tally all = {0};
	struct strv names = {0};
	struct dirent **files;
	int nfiles, i, errors = 0, stale;

	parse_args(argc, argv, &opt);
	load_known(opt.dir, &k);
	nfiles = scandir(opt.dir, &files, is_cases, alphasort);
	if (nfiles < 0) {
		perror(opt.dir);
		return 2;
	}
	for (i = 0; i < nfiles; i++) {
		if (wanted(files[i]->d_name))
			errors += run_file(&opt, &k, files[i]->d_name, &all,
					   &names);
		free(files[i]);
	}
	free(files);
	stale = unseen_known(&k);
	printf("cases: %d passed, %d failed, %d known failures, %d known "
	       "failures now passing%s\n",
	       all.passed, all.failed, all.known, all.known_passing,
	       opt.strict ? " (strict)" : "");
	strv_free(&names);
	strv_free(&k.names);
	free(k.seen);
	if (errors || all.failed)
		return 1;
	return opt.strict && (all.known_passing || stale) ? 1 : 0;
}
