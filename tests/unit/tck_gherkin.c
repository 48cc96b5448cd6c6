#define _XOPEN_SOURCE 700
#include <stdio.h>

#include "tck_gherkin.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static void *grow(void *p, size_t n, size_t size)
{
	void *q = realloc(p, (n + 1) * size);

	if (q == NULL)
		abort(); /* a test helper: out of memory ends the run */
	return q;
}

static char *copy(const char *s)
{
	char *d = strdup(s);

	if (d == NULL)
		abort();
	return d;
}

static const char *skip_ws(const char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	return s;
}

static void rstrip(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
}

/* Tables ------------------------------------------------------------------ */

/* "| a | 'x' |" into cells. Gherkin escapes inside a cell: "\|" is a pipe,
 * "\\" a backslash, "\n" a newline. */
static void table_add_row(struct tck_table *t, const char *line)
{
	char **cells = NULL, *cell = malloc(strlen(line) + 1);
	size_t ncells = 0, n = 0;
	const char *p = strchr(line, '|') + 1;

	if (cell == NULL)
		abort();
	for (; *p; p++) {
		if (*p == '\\' && (p[1] == '|' || p[1] == '\\' || p[1] == 'n')) {
			p++;
			cell[n++] = *p == 'n' ? '\n' : *p;
			continue;
		}
		if (*p != '|') {
			cell[n++] = *p;
			continue;
		}
		cell[n] = '\0';
		rstrip(cell);
		cells = grow(cells, ncells, sizeof *cells);
		cells[ncells++] = copy(skip_ws(cell));
		n = 0;
	}
	free(cell);
	if (t->nrows == 0)
		t->ncols = ncells;
	while (ncells < t->ncols) { /* a short row: pad */
		cells = grow(cells, ncells, sizeof *cells);
		cells[ncells++] = copy("");
	}
	t->cells = grow(t->cells, t->nrows, sizeof *t->cells);
	t->cells[t->nrows++] = cells;
}

static void table_free(struct tck_table *t)
{
	size_t i, j;

	for (i = 0; i < t->nrows; i++) {
		for (j = 0; j < t->ncols; j++)
			free(t->cells[i][j]);
		free(t->cells[i]);
	}
	free(t->cells);
	memset(t, 0, sizeof *t);
}

/* Steps ------------------------------------------------------------------- */

static void classify_error(struct tck_step *s)
{
	/* "a SyntaxError should be raised at compile time: Detail" */
	const char *p = s->text + 2, *sp = strchr(p, ' ');
	const char *at = strstr(p, " raised at "), *colon;

	s->kind = TCK_STEP_ERROR;
	s->error_type = strndup(p, sp ? (size_t)(sp - p) : strlen(p));
	if (at == NULL)
		return;
	at += strlen(" raised at ");
	colon = strchr(at, ':');
	s->error_phase = strndup(at, colon ? (size_t)(colon - at) : strlen(at));
	s->error_detail = copy(colon ? skip_ws(colon + 1) : "");
}

static void classify(struct tck_step *s)
{
	const char *t = s->text;

	if (strstr(t, "an empty graph") || strstr(t, "any graph"))
		s->kind = TCK_STEP_GRAPH;
	else if (strncmp(t, "having executed", 15) == 0)
		s->kind = TCK_STEP_EXECUTED;
	else if (strncmp(t, "parameters are", 14) == 0)
		s->kind = TCK_STEP_PARAMS;
	else if (strncmp(t, "there exists a procedure", 24) == 0)
		s->kind = TCK_STEP_PROCEDURE;
	else if (strncmp(t, "executing query", 15) == 0 ||
		 strncmp(t, "executing control query", 23) == 0)
		s->kind = TCK_STEP_QUERY;
	else if (strncmp(t, "the result should be empty", 26) == 0)
		s->kind = TCK_STEP_EMPTY;
	else if (strncmp(t, "the result should be", 20) == 0) {
		s->kind = TCK_STEP_RESULT;
		s->ordered = strstr(t, "in order") != NULL;
		s->unordered_lists = strstr(t, "ignoring element order") != NULL;
	} else if (strncmp(t, "a ", 2) == 0 && strstr(t, "should be raised"))
		classify_error(s);
	else if (strncmp(t, "the side effects should be", 26) == 0)
		s->kind = TCK_STEP_SIDE_EFFECTS;
	else if (strncmp(t, "no side effects", 15) == 0)
		s->kind = TCK_STEP_NO_SIDE_EFFECTS;
	else
		s->kind = TCK_STEP_UNKNOWN;
}

static void step_free(struct tck_step *s)
{
	free(s->text);
	free(s->doc);
	table_free(&s->table);
	free(s->error_type);
	free(s->error_phase);
	free(s->error_detail);
}

/* Replaces every <name> of the outline's header with the example's value. */
static char *substitute(const char *text, const struct tck_table *ex,
			size_t row)
{
	size_t cap = strlen(text) + 1, n = 0, k;
	char *out = malloc(cap);
	const char *p = text;

	if (out == NULL)
		abort();
	while (*p) {
		for (k = 0; *p == '<' && k < ex->ncols; k++) {
			size_t l = strlen(ex->cells[0][k]);

			if (strncmp(p + 1, ex->cells[0][k], l) == 0 &&
			    p[l + 1] == '>')
				break;
		}
		if (*p == '<' && k < ex->ncols) {
			const char *v = ex->cells[row][k];
			size_t vl = strlen(v);

			cap += vl;
			out = grow(out, cap, 1);
			memcpy(out + n, v, vl);
			n += vl;
			p += strlen(ex->cells[0][k]) + 2;
			continue;
		}
		out = grow(out, ++cap, 1);
		out[n++] = *p++;
	}
	out[n] = '\0';
	return out;
}

static void step_copy(struct tck_step *dst, const struct tck_step *src,
		      const struct tck_table *ex, size_t row)
{
	size_t i, j;

	memset(dst, 0, sizeof *dst);
	dst->line = src->line;
	dst->text = ex ? substitute(src->text, ex, row) : copy(src->text);
	dst->doc = src->doc == NULL ? NULL
		   : ex		    ? substitute(src->doc, ex, row)
				    : copy(src->doc);
	dst->table.nrows = src->table.nrows;
	dst->table.ncols = src->table.ncols;
	dst->table.cells = calloc(src->table.nrows + 1, sizeof(char **));
	if (dst->table.cells == NULL)
		abort();
	for (i = 0; i < src->table.nrows; i++) {
		dst->table.cells[i] = calloc(src->table.ncols + 1, sizeof(char *));
		if (dst->table.cells[i] == NULL)
			abort();
		for (j = 0; j < src->table.ncols; j++)
			dst->table.cells[i][j] =
				ex ? substitute(src->table.cells[i][j], ex, row)
				   : copy(src->table.cells[i][j]);
	}
	classify(dst);
}

/* Parsing ----------------------------------------------------------------- */

struct gparser {
	const char *path;
	struct tck_feature *f;
	struct tck_step *bg;      /* Background steps */
	size_t nbg;
	/* The scenario being read, before outline expansion. */
	char *name;
	int line;
	bool outline, in_examples, in_background;
	struct tck_step *steps;
	size_t nsteps;
	struct tck_table examples;
};

static void add_scenario(struct gparser *g, const struct tck_table *ex,
			 size_t row)
{
	struct tck_scenario *s;
	char suffix[32] = "";
	size_t i;

	g->f->scenarios = grow(g->f->scenarios, g->f->nscenarios,
			       sizeof *g->f->scenarios);
	s = &g->f->scenarios[g->f->nscenarios++];
	if (ex != NULL)
		snprintf(suffix, sizeof suffix, " #%zu", row);
	s->name = malloc(strlen(g->name) + sizeof suffix);
	if (s->name == NULL)
		abort();
	sprintf(s->name, "%s%s", g->name, suffix);
	s->line = g->line;
	s->nsteps = g->nbg + g->nsteps;
	s->steps = calloc(s->nsteps + 1, sizeof *s->steps);
	if (s->steps == NULL)
		abort();
	for (i = 0; i < g->nbg; i++)
		step_copy(&s->steps[i], &g->bg[i], NULL, 0);
	for (i = 0; i < g->nsteps; i++)
		step_copy(&s->steps[g->nbg + i], &g->steps[i], ex, row);
}

/* Ends the scenario being read: expands it into f. */
static void flush(struct gparser *g)
{
	size_t i;

	if (g->name != NULL && !g->outline)
		add_scenario(g, NULL, 0);
	for (i = 1; g->name != NULL && g->outline && i < g->examples.nrows; i++)
		add_scenario(g, &g->examples, i);
	for (i = 0; i < g->nsteps; i++)
		step_free(&g->steps[i]);
	free(g->steps);
	free(g->name);
	table_free(&g->examples);
	g->steps = NULL;
	g->nsteps = 0;
	g->name = NULL;
	g->outline = g->in_examples = g->in_background = false;
}

static struct tck_step *last_step(struct gparser *g)
{
	if (g->in_background)
		return g->nbg ? &g->bg[g->nbg - 1] : NULL;
	return g->nsteps ? &g->steps[g->nsteps - 1] : NULL;
}

static void add_step(struct gparser *g, const char *text, int line)
{
	struct tck_step *s;

	if (g->in_background) {
		g->bg = grow(g->bg, g->nbg, sizeof *g->bg);
		s = &g->bg[g->nbg++];
	} else {
		g->steps = grow(g->steps, g->nsteps, sizeof *g->steps);
		s = &g->steps[g->nsteps++];
	}
	memset(s, 0, sizeof *s);
	s->line = line;
	s->text = copy(text);
	rstrip(s->text);
	if (s->text[0] && s->text[strlen(s->text) - 1] == ':')
		s->text[strlen(s->text) - 1] = '\0';
	classify(s);
}

static const char *keyword(const char *t)
{
	static const char *const kws[] = {"Given ", "When ", "Then ", "And ",
					  "But "};
	size_t i;

	for (i = 0; i < sizeof kws / sizeof kws[0]; i++)
		if (strncmp(t, kws[i], strlen(kws[i])) == 0)
			return t + strlen(kws[i]);
	return NULL;
}

/* Reads a doc string's lines up to the closing quotes. */
static void read_doc(struct gparser *g, FILE *f, int *lineno, size_t indent)
{
	struct tck_step *s = last_step(g);
	char *line = NULL, *doc = copy("");
	size_t cap = 0, n = 0;

	while (getline(&line, &cap, f) > 0) {
		const char *p = line;
		size_t l, k;

		(*lineno)++;
		if (strncmp(skip_ws(line), "\"\"\"", 3) == 0)
			break;
		for (k = 0; k < indent && *p == ' '; k++)
			p++;
		l = strlen(p);
		doc = grow(doc, n + l + 1, 1);
		memcpy(doc + n, p, l + 1);
		n += l;
	}
	free(line);
	if (n > 0 && doc[n - 1] == '\n')
		doc[n - 1] = '\0';
	if (s != NULL) {
		free(s->doc);
		s->doc = doc;
	} else {
		free(doc);
	}
}

static void parse_line(struct gparser *g, FILE *f, char *line, int *lineno)
{
	const char *t = skip_ws(line), *kw;
	struct tck_step *s;

	rstrip(line);
	if (*t == '\0' || *t == '#' || *t == '@')
		return;
	if (strncmp(t, "Feature:", 8) == 0) {
		g->f->name = copy(skip_ws(t + 8));
	} else if (strncmp(t, "Background:", 11) == 0) {
		flush(g);
		g->in_background = true;
	} else if (strncmp(t, "Scenario", 8) == 0) {
		flush(g);
		g->outline = strncmp(t, "Scenario Outline:", 17) == 0;
		g->name = copy(skip_ws(strchr(t, ':') + 1));
		g->line = *lineno;
	} else if (strncmp(t, "Examples:", 9) == 0) {
		g->in_examples = true;
	} else if (strncmp(t, "\"\"\"", 3) == 0) {
		read_doc(g, f, lineno, (size_t)(t - line));
	} else if (*t == '|' && g->in_examples) {
		table_add_row(&g->examples, t);
	} else if (*t == '|' && (s = last_step(g)) != NULL) {
		table_add_row(&s->table, t);
	} else if ((kw = keyword(t)) != NULL) {
		add_step(g, kw, *lineno);
	} else {
		fprintf(stderr, "%s:%d: line not understood: %s\n", g->path,
			*lineno, t);
	}
}

int tck_feature_load(const char *dir, const char *path,
		     struct tck_feature *out)
{
	struct gparser g = {.path = path, .f = out};
	char full[4096], *line = NULL;
	size_t cap = 0, i;
	int lineno = 0;
	FILE *f;

	memset(out, 0, sizeof *out);
	snprintf(full, sizeof full, "%s/%s", dir, path);
	f = fopen(full, "r");
	if (f == NULL) {
		perror(full);
		return -1;
	}
	out->path = copy(path);
	while (getline(&line, &cap, f) > 0) {
		lineno++;
		parse_line(&g, f, line, &lineno);
	}
	flush(&g);
	free(line);
	fclose(f);
	for (i = 0; i < g.nbg; i++)
		step_free(&g.bg[i]);
	free(g.bg);
	return 0;
}

void tck_feature_free(struct tck_feature *f)
{
	size_t i, j;

	for (i = 0; i < f->nscenarios; i++) {
		for (j = 0; j < f->scenarios[i].nsteps; j++)
			step_free(&f->scenarios[i].steps[j]);
		free(f->scenarios[i].steps);
		free(f->scenarios[i].name);
	}
	free(f->scenarios);
	free(f->path);
	free(f->name);
	memset(f, 0, sizeof *f);
}
