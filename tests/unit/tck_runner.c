/* Runs the openCypher TCK scenarios (tests/tck/features) against the Cypher
 * engine and reports pass / fail / error / skipped counts per feature folder
 * and overall. A report, not a gate: it always exits 0 once it has run.
 *
 * Each scenario runs in a child process on a fresh database: its setup
 * queries, parameters, the query, then each Then step compared with what the
 * engine did. Values are compared structurally (tck_value.h). Side effects
 * are measured as the TCK defines them, by diffing the graph before and
 * after the query: node and relationship ids, label names in use, and
 * (entity, key, value) property triples.
 *
 * fail: a wrong result; error: the engine raised an error where a result
 * was expected, a setup query failed, or the child crashed or timed out;
 * skipped: the scenario has a step the runner does not know. The TCK's
 * test procedures are registered with the engine (tck_proc.h).
 *
 * Usage: tck_runner [-v] [--list] [--no-fork] [features-dir]
 * GRAFT_TCK=clauses/match,expressions/list runs only paths with those
 * prefixes. -v prints every failing scenario with its details; --list
 * prints one line per scenario with its verdict. */
#define _XOPEN_SOURCE 700
#include <stdio.h>

#include <ftw.h>
#include <stdlib.h>
#include <string.h>

#include "cypher_harness.h"
#include "tck_gherkin.h"
#include "tck_proc.h"
#include "tck_value.h"

#ifndef GRAFT_TCK_DIR
#define GRAFT_TCK_DIR "tests/tck/features"
#endif

#define SCENARIO_TIMEOUT_S 20

enum verdict { V_PASS, V_FAIL, V_ERROR, V_SKIP, V_COUNT };
static const char *const verdict_names[] = {"pass", "fail", "error",
					    "skipped"};

/* One scenario's run, in the child ---------------------------------------- */

/* The graph as the TCK's side effects see it: sorted text items. */
struct snapshot {
	struct harness_outcome nodes, rels, labels, props;
	bool ok;
	int failed_query; /* when !ok: index into snapshot_queries */
};

struct run_state {
	struct harness h;
	struct graft_value params;
	struct harness_outcome last; /* of the last When */
	bool have_last;
	struct snapshot before;
	struct tck_proc *procs; /* registered test procedures */
	FILE *out;
};

static const char *const snapshot_queries[] = {
	"MATCH (n) RETURN id(n) AS i",
	"MATCH ()-[r]->() RETURN id(r) AS i",
	"MATCH (n) UNWIND labels(n) AS l RETURN DISTINCT l",
	"MATCH (n) UNWIND keys(n) AS k RETURN 'n' + id(n) AS e, k, n[k] AS v "
	"UNION ALL MATCH ()-[r]->() UNWIND keys(r) AS k "
	"RETURN 'r' + id(r) AS e, k, r[k] AS v",
};

static void snapshot_free(struct snapshot *s)
{
	harness_outcome_free(&s->nodes);
	harness_outcome_free(&s->rels);
	harness_outcome_free(&s->labels);
	harness_outcome_free(&s->props);
	s->ok = false;
}

static void snapshot_take(struct harness *h, struct snapshot *s)
{
	struct harness_outcome *parts[] = {&s->nodes, &s->rels, &s->labels,
					   &s->props};
	size_t i;

	s->ok = true;
	for (i = 0; i < 4; i++) {
		if (harness_run(h, snapshot_queries[i], NULL, parts[i]) !=
		    GRAFT_OK)
			abort();
		if (parts[i]->failed && s->ok) {
			s->ok = false;
			s->failed_query = (int)i;
		}
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Rows of o joined, sorted. */
static char **sorted_rows(const struct harness_outcome *o)
{
	char **v = calloc(o->nrows + 1, sizeof *v);
	size_t i;

	if (v == NULL)
		abort();
	for (i = 0; i < o->nrows; i++)
		v[i] = harness_row_join(o, i);
	qsort(v, o->nrows, sizeof *v, cmp_str);
	return v;
}

/* |a \ b| and |b \ a| of two row sets. */
static void diff(const struct harness_outcome *a,
		 const struct harness_outcome *b, long *only_a, long *only_b)
{
	char **x = sorted_rows(a), **y = sorted_rows(b);
	size_t i = 0, j = 0;

	*only_a = *only_b = 0;
	while (i < a->nrows || j < b->nrows) {
		int c = i == a->nrows	? 1
			: j == b->nrows ? -1
					: strcmp(x[i], y[j]);

		if (c == 0) {
			i++;
			j++;
		} else if (c < 0) {
			(*only_a)++;
			i++;
		} else {
			(*only_b)++;
			j++;
		}
	}
	for (i = 0; i < a->nrows; i++)
		free(x[i]);
	for (j = 0; j < b->nrows; j++)
		free(y[j]);
	free(x);
	free(y);
}

static const char *const effect_keys[] = {
	"+nodes",  "-nodes",	  "+relationships", "-relationships",
	"+labels", "-labels",	  "+properties",    "-properties",
};

/* Reports a snapshot that could not be taken; 2 (error), or 0. */
static int snapshot_failed(FILE *out, const struct snapshot *s)
{
	const struct harness_outcome *parts[] = {&s->nodes, &s->rels,
						 &s->labels, &s->props};
	const struct harness_outcome *o = parts[s->failed_query];

	if (s->ok)
		return 0;
	fprintf(out, "error: side-effect snapshot query failed: %s\n  %s ~ %s\n",
		snapshot_queries[s->failed_query], o->error.code,
		o->error.message);
	return 2;
}

static int check_side_effects(struct run_state *st, const struct tck_step *s)
{
	struct snapshot after = {0};
	long got[8], want[8] = {0};
	size_t i, k;
	int rv = 0;

	if (snapshot_failed(st->out, &st->before))
		return 2;
	snapshot_take(&st->h, &after);
	if (snapshot_failed(st->out, &after)) {
		snapshot_free(&after);
		return 2;
	}
	diff(&after.nodes, &st->before.nodes, &got[0], &got[1]);
	diff(&after.rels, &st->before.rels, &got[2], &got[3]);
	diff(&after.labels, &st->before.labels, &got[4], &got[5]);
	diff(&after.props, &st->before.props, &got[6], &got[7]);
	snapshot_free(&after);
	for (i = 0; s->kind == TCK_STEP_SIDE_EFFECTS && i < s->table.nrows;
	     i++)
		for (k = 0; k < 8; k++)
			if (s->table.ncols >= 2 &&
			    strcmp(s->table.cells[i][0], effect_keys[k]) == 0)
				want[k] = atol(s->table.cells[i][1]);
	for (k = 0; k < 8; k++)
		if (got[k] != want[k]) {
			if (rv == 0)
				fprintf(st->out, "fail: side effects (line %d)\n",
					s->line);
			fprintf(st->out, "  %s: expected %ld, got %ld\n",
				effect_keys[k], want[k], got[k]);
			rv = 1;
		}
	return rv;
}

static void print_outcome(FILE *out, const struct harness_outcome *o)
{
	size_t i;

	if (o->failed) {
		fprintf(out, "  got error %s ~ %s\n", o->error.code,
			o->error.message);
		return;
	}
	fprintf(out, "  got columns:");
	for (i = 0; i < o->ncols; i++)
		fprintf(out, " | %s", o->cols[i]);
	fprintf(out, " |\n");
	for (i = 0; i < o->nrows; i++) {
		char *r = harness_row_join(o, i);

		fprintf(out, "  got row: %s\n", r);
		free(r);
	}
}

static void print_expected(FILE *out, const struct tck_table *t)
{
	size_t i, j;

	for (i = 0; i < t->nrows; i++) {
		fprintf(out, "  %s", i == 0 ? "expected columns:"
					    : "expected row:");
		for (j = 0; j < t->ncols; j++)
			fprintf(out, " | %s", t->cells[i][j]);
		fprintf(out, " |\n");
	}
}

/* Column i of the TCK table is column map[i] of the outcome. */
static bool map_columns(const struct tck_table *t,
			const struct harness_outcome *o, size_t *map)
{
	size_t i, j;

	if (t->nrows == 0 || t->ncols != o->ncols)
		return false;
	for (i = 0; i < t->ncols; i++) {
		for (j = 0; j < o->ncols; j++)
			if (strcmp(t->cells[0][i], o->cols[j]) == 0)
				break;
		if (j == o->ncols)
			return false;
		map[i] = j;
	}
	return true;
}

static bool row_equal(const struct tck_step *s, size_t trow,
		      const struct harness_outcome *o, size_t orow,
		      const size_t *map)
{
	size_t i;

	for (i = 0; i < s->table.ncols; i++)
		if (!tck_text_equal(s->table.cells[trow][i],
				    o->rows[orow][map[i]], s->unordered_lists))
			return false;
	return true;
}

static bool rows_equal(const struct tck_step *s,
		       const struct harness_outcome *o, const size_t *map)
{
	size_t want = s->table.nrows - 1, i, j;
	bool *used, same = true;

	if (o->nrows != want)
		return false;
	if (s->ordered) {
		for (i = 0; i < want && same; i++)
			same = row_equal(s, i + 1, o, i, map);
		return same;
	}
	used = calloc(want + 1, sizeof *used);
	if (used == NULL)
		abort();
	for (i = 0; i < want && same; i++) {
		for (j = 0; j < want; j++)
			if (!used[j] && row_equal(s, i + 1, o, j, map))
				break;
		if (j == want)
			same = false;
		else
			used[j] = true;
	}
	free(used);
	return same;
}

static int check_result(struct run_state *st, const struct tck_step *s)
{
	const struct harness_outcome *o = &st->last;
	size_t *map;
	bool ok;

	if (o->failed) {
		fprintf(st->out, "error: the query failed (line %d)\n", s->line);
		print_expected(st->out, &s->table);
		print_outcome(st->out, o);
		return 2;
	}
	if (s->kind == TCK_STEP_EMPTY) {
		ok = o->nrows == 0;
	} else {
		map = calloc(s->table.ncols + 1, sizeof *map);
		if (map == NULL)
			abort();
		ok = map_columns(&s->table, o, map) && rows_equal(s, o, map);
		free(map);
	}
	if (ok)
		return 0;
	fprintf(st->out, "fail: wrong result (line %d)\n", s->line);
	if (s->kind == TCK_STEP_EMPTY)
		fprintf(st->out, "  expected no rows\n");
	print_expected(st->out, &s->table);
	print_outcome(st->out, o);
	return 1;
}

/* Does the engine's code stand for the TCK's error type? Neo4j reports
 * compile-time semantic errors as SyntaxError, so those count too. */
static bool error_kind_matches(const struct tck_step *s, const char *code)
{
	static const struct {
		const char *tck, *code;
	} map[] = {
		{"ConstraintVerificationFailed",
		 "Neo.ClientError.Schema.ConstraintValidationFailed"},
		{"ProcedureError", "Neo.ClientError.Procedure."},
		{"SemanticError", "Neo.ClientError.Statement.SyntaxError"},
	};
	const char *last = strrchr(code, '.');
	size_t i;

	if (last != NULL && strcmp(last + 1, s->error_type) == 0)
		return true;
	for (i = 0; i < sizeof map / sizeof map[0]; i++)
		if (strcmp(s->error_type, map[i].tck) == 0 &&
		    strncmp(code, map[i].code, strlen(map[i].code)) == 0)
			return true;
	return s->error_phase != NULL &&
	       strcmp(s->error_phase, "compile time") == 0 &&
	       strcmp(code, "Neo.ClientError.Statement.SyntaxError") == 0;
}

static int check_error(struct run_state *st, const struct tck_step *s)
{
	const struct harness_outcome *o = &st->last;

	if (o->failed && error_kind_matches(s, o->error.code))
		return 0;
	fprintf(st->out, "fail: expected %s at %s: %s (line %d)\n",
		s->error_type, s->error_phase ? s->error_phase : "?",
		s->error_detail ? s->error_detail : "", s->line);
	print_outcome(st->out, o);
	return 1;
}

/* "{a: 1, `b`: 'x'}" from a parameters table. */
static int set_params(struct run_state *st, const struct tck_step *s)
{
	struct harness_text t = {0};
	struct cypher_error err;
	size_t i;
	int rv;

	harness_text_add(&t, "{", 1);
	for (i = 0; i < s->table.nrows; i++)
		if (s->table.ncols >= 2)
			harness_text_addf(&t, "%s`%s`: %s", i ? ", " : "",
					  s->table.cells[i][0],
					  s->table.cells[i][1]);
	harness_text_add(&t, "}", 1);
	graft_value_free(&st->params);
	rv = harness_map(&st->h, t.s, &st->params, &err);
	if (rv != GRAFT_OK)
		fprintf(st->out, "error: parameters %s failed: %s ~ %s\n", t.s,
			err.code, err.message);
	free(t.s);
	return rv == GRAFT_OK ? 0 : 2;
}

static int run_query(struct run_state *st, const struct tck_step *s)
{
	snapshot_free(&st->before);
	snapshot_take(&st->h, &st->before);
	if (st->have_last)
		harness_outcome_free(&st->last);
	if (harness_run(&st->h, s->doc ? s->doc : "",
			st->params.type == GRAFT_VALUE_MAP ? &st->params : NULL,
			&st->last) != GRAFT_OK)
		abort();
	st->have_last = true;
	return 0;
}

static int run_setup(struct run_state *st, const struct tck_step *s)
{
	struct harness_outcome o;
	int rv = 0;

	if (harness_run(&st->h, s->doc ? s->doc : "", NULL, &o) != GRAFT_OK)
		abort();
	if (o.failed) {
		fprintf(st->out, "error: setup query failed (line %d): %s ~ %s\n",
			s->line, o.error.code, o.error.message);
		rv = 2;
	}
	harness_outcome_free(&o);
	return rv;
}

static int run_step(struct run_state *st, const struct tck_step *s)
{
	switch (s->kind) {
	case TCK_STEP_GRAPH: return 0;
	case TCK_STEP_EXECUTED: return run_setup(st, s);
	case TCK_STEP_PARAMS: return set_params(st, s);
	case TCK_STEP_QUERY: return run_query(st, s);
	case TCK_STEP_RESULT:
	case TCK_STEP_EMPTY: return check_result(st, s);
	case TCK_STEP_ERROR: return check_error(st, s);
	case TCK_STEP_SIDE_EFFECTS:
	case TCK_STEP_NO_SIDE_EFFECTS: return check_side_effects(st, s);
	case TCK_STEP_PROCEDURE:
		return tck_proc_register(&st->h, s->text, &s->table, &st->procs,
					 st->out) == 0 ? 0 : 2;
	case TCK_STEP_UNKNOWN: break;
	}
	fprintf(st->out, "skipped: step not supported (line %d): %s\n", s->line,
		s->text);
	return 3;
}

/* The child's exit: 0 pass; the report's first word says the rest. */
static int run_scenario(void *arg, FILE *out)
{
	const struct tck_scenario *sc = arg;
	char errmsg[GRAFT_ERRMSG_SIZE] = "";
	struct run_state st;
	size_t i;
	int rv = 0;

	memset(&st, 0, sizeof st);
	st.out = out;
	st.params = graft_value_null();
	for (i = 0; i < sc->nsteps; i++) /* skip before opening anything */
		if (sc->steps[i].kind == TCK_STEP_UNKNOWN)
			return run_step(&st, &sc->steps[i]);
	if (harness_open(&st.h, errmsg) != GRAFT_OK) {
		fprintf(out, "error: cannot open a database: %s\n", errmsg);
		return 2;
	}
	for (i = 0; i < sc->nsteps && rv == 0; i++)
		rv = run_step(&st, &sc->steps[i]);
	snapshot_free(&st.before);
	if (st.have_last)
		harness_outcome_free(&st.last);
	graft_value_free(&st.params);
	harness_close(&st.h);
	tck_proc_free_all(st.procs);
	return rv;
}

/* The driver ------------------------------------------------------------- */

struct counts {
	char folder[256];
	int n[V_COUNT];
};

struct options {
	bool verbose, list, no_fork;
	const char *dir;
};

static struct {
	char **paths;
	size_t n;
	size_t dir_len;
} found;

static int collect_cb(const char *path, const struct stat *sb, int type,
		      struct FTW *ftw)
{
	size_t n = strlen(path);
	char **p;

	(void)sb;
	(void)ftw;
	if (type != FTW_F || n < 8 || strcmp(path + n - 8, ".feature") != 0)
		return 0;
	p = realloc(found.paths, (found.n + 1) * sizeof *p);
	if (p == NULL)
		abort();
	found.paths = p;
	found.paths[found.n] = strdup(path + found.dir_len + 1);
	if (found.paths[found.n++] == NULL)
		abort();
	return 0;
}

static bool wanted(const char *path)
{
	const char *f = getenv("GRAFT_TCK");
	char *copy, *tok, *save = NULL;
	bool yes = false;

	if (f == NULL || *f == '\0')
		return true;
	copy = strdup(f);
	if (copy == NULL)
		abort();
	for (tok = strtok_r(copy, ",", &save); tok && !yes;
	     tok = strtok_r(NULL, ",", &save))
		yes = strncmp(path, tok, strlen(tok)) == 0;
	free(copy);
	return yes;
}

static enum verdict classify(int failed, const char *report)
{
	if (!failed)
		return V_PASS;
	if (report != NULL && strncmp(report, "fail:", 5) == 0)
		return V_FAIL;
	if (report != NULL && strncmp(report, "skipped:", 8) == 0)
		return V_SKIP;
	return V_ERROR;
}

static void run_feature(const struct options *opt, const char *path,
			struct counts *c)
{
	struct tck_feature f;
	size_t i;

	if (tck_feature_load(opt->dir, path, &f) != 0) {
		c->n[V_ERROR]++;
		return;
	}
	for (i = 0; i < f.nscenarios; i++) {
		const struct tck_scenario *sc = &f.scenarios[i];
		char *report = NULL;
		int failed = harness_isolate(run_scenario, (void *)sc,
					     SCENARIO_TIMEOUT_S, opt->no_fork,
					     &report);
		enum verdict v = classify(failed, report);

		c->n[v]++;
		if (opt->list)
			printf("%-7s %s:%d %s\n", verdict_names[v], path,
			       sc->line, sc->name);
		if (opt->verbose && (v == V_FAIL || v == V_ERROR))
			printf("--- %s %s:%d %s\n%s", verdict_names[v], path,
			       sc->line, sc->name, report ? report : "");
		free(report);
	}
	tck_feature_free(&f);
}

static void print_counts(const char *label, const int *n)
{
	int total = n[V_PASS] + n[V_FAIL] + n[V_ERROR] + n[V_SKIP];

	printf("%-34s %6d %6d %6d %6d %8d %5.1f%%\n", label, total, n[V_PASS],
	       n[V_FAIL], n[V_ERROR], n[V_SKIP],
	       total ? 100.0 * n[V_PASS] / total : 0.0);
}

static void add_counts(int *into, const int *n)
{
	int k;

	for (k = 0; k < V_COUNT; k++)
		into[k] += n[k];
}

/* The folder of path: its first two components (clauses/match). */
static void folder_of(const char *path, char *out, size_t size)
{
	const char *slash = strchr(path, '/');
	const char *second = slash ? strchr(slash + 1, '/') : NULL;
	size_t n = second ? (size_t)(second - path) : strlen(path);

	snprintf(out, size, "%.*s", (int)n, path);
}

static void report(struct counts *folders, size_t nfolders)
{
	int top[V_COUNT] = {0}, all[V_COUNT] = {0};
	char cur_top[64] = "";
	size_t i;

	printf("%-34s %6s %6s %6s %6s %8s %6s\n", "folder", "total", "pass",
	       "fail", "error", "skipped", "pass%");
	for (i = 0; i < nfolders; i++) {
		char t[64];

		snprintf(t, sizeof t, "%.*s",
			 (int)strcspn(folders[i].folder, "/"),
			 folders[i].folder);
		if (cur_top[0] && strcmp(t, cur_top) != 0) {
			print_counts(cur_top, top);
			memset(top, 0, sizeof top);
		}
		snprintf(cur_top, sizeof cur_top, "%s", t);
		print_counts(folders[i].folder, folders[i].n);
		add_counts(top, folders[i].n);
		add_counts(all, folders[i].n);
	}
	if (cur_top[0])
		print_counts(cur_top, top);
	print_counts("total", all);
}

static void parse_args(int argc, char **argv, struct options *o)
{
	int i;

	o->dir = getenv("GRAFT_TCK_DIR") ? getenv("GRAFT_TCK_DIR")
					 : GRAFT_TCK_DIR;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-v") == 0 ||
		    strcmp(argv[i], "--verbose") == 0)
			o->verbose = true;
		else if (strcmp(argv[i], "--list") == 0)
			o->list = true;
		else if (strcmp(argv[i], "--no-fork") == 0)
			o->no_fork = true;
		else
			o->dir = argv[i];
	}
}

int main(int argc, char **argv)
{
	struct options opt = {0};
	struct counts *folders = NULL;
	size_t nfolders = 0, i;

	parse_args(argc, argv, &opt);
	found.dir_len = strlen(opt.dir);
	if (nftw(opt.dir, collect_cb, 16, FTW_PHYS) != 0) {
		perror(opt.dir);
		return 0;
	}
	qsort(found.paths, found.n, sizeof *found.paths, cmp_str);
	printf("openCypher TCK: %s\n", opt.dir);
	for (i = 0; i < found.n; i++) {
		char folder[256];

		if (wanted(found.paths[i])) {
			folder_of(found.paths[i], folder, sizeof folder);
			if (nfolders == 0 ||
			    strcmp(folders[nfolders - 1].folder, folder) != 0) {
				folders = realloc(folders, (nfolders + 1) *
								   sizeof *folders);
				if (folders == NULL)
					abort();
				memset(&folders[nfolders], 0, sizeof *folders);
				snprintf(folders[nfolders].folder,
					 sizeof folders[nfolders].folder, "%s",
					 folder);
				nfolders++;
			}
			run_feature(&opt, found.paths[i],
				    &folders[nfolders - 1]);
			fflush(stdout);
		}
		free(found.paths[i]);
	}
	free(found.paths);
	report(folders, nfolders);
	free(folders);
	return 0;
}
