#include "output.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "../util/buf.h"
#include "../util/err.h"

void output_begin(struct output *o, FILE *out, bool verbose,
		  char *const *fields, size_t nfields)
{
	size_t i;

	*o = (struct output){.out = out, .verbose = verbose, .fields = fields,
			     .nfields = nfields};
	if (verbose || nfields == 0)
		return;
	for (i = 0; i < nfields; i++)
		fprintf(out, "%s%s", i ? ", " : "", fields[i]);
	fputc('\n', out);
}

/* Renders the row's values into NUL-terminated strings appended to cells. */
static int keep_row(struct output *o, struct render_in *in)
{
	struct graft_buf b;
	char **grown;
	size_t n, i;
	int rv;

	if (render_list_header(in, &n) != GRAFT_OK || n != o->nfields)
		return GRAFT_ECORRUPT;
	if ((o->rows + 1) * n > o->cap) {
		o->cap = o->cap ? 2 * o->cap : 64 * (n ? n : 1);
		grown = realloc(o->cells, o->cap * sizeof *grown);
		if (grown == NULL)
			return GRAFT_ENOMEM;
		o->cells = grown;
	}
	for (i = 0; i < n; i++) {
		graft_buf_init(&b);
		rv = render_value(in, &b);
		if (rv == GRAFT_OK)
			rv = graft_buf_append(&b, "", 1);
		if (rv != GRAFT_OK) {
			graft_buf_free(&b);
			while (i-- > 0)
				free(o->cells[o->rows * n + i]);
			return rv;
		}
		o->cells[o->rows * n + i] = (char *)b.data;
	}
	o->rows++;
	return GRAFT_OK;
}

static void rule(FILE *out, const size_t *width, size_t n)
{
	size_t i, total = 1;

	for (i = 0; i < n; i++)
		total += width[i] + 3;
	fputc('+', out);
	for (i = 2; i < total; i++)
		fputc('-', out);
	fputs("+\n", out);
}

static void table_line(FILE *out, char *const *cells, const size_t *width,
		       size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		fprintf(out, "| %-*s ", (int)width[i], cells[i]);
	fputs("|\n", out);
}

/* Prints the buffered rows (verbose: as table lines) and frees them. */
static void flush_rows(struct output *o)
{
	char **row;
	size_t r, i;

	for (r = 0; r < o->rows; r++) {
		row = o->cells + r * o->nfields;
		if (o->verbose) {
			table_line(o->out, row, o->width, o->nfields);
		} else {
			for (i = 0; i < o->nfields; i++)
				fprintf(o->out, "%s%s", i ? ", " : "", row[i]);
			fputc('\n', o->out);
		}
		for (i = 0; i < o->nfields; i++)
			free(row[i]);
	}
	o->rows = 0;
}

/* Sizes the columns from the header and the rows buffered so far, prints
 * the table's head and those rows. */
static int open_table(struct output *o)
{
	size_t r, i, len;

	o->width = calloc(o->nfields + 1, sizeof *o->width);
	if (o->width == NULL)
		return GRAFT_ENOMEM;
	for (i = 0; i < o->nfields; i++)
		o->width[i] = strlen(o->fields[i]);
	for (r = 0; r < o->rows; r++)
		for (i = 0; i < o->nfields; i++) {
			len = strlen(o->cells[r * o->nfields + i]);
			o->width[i] = len > o->width[i] ? len : o->width[i];
		}
	rule(o->out, o->width, o->nfields);
	table_line(o->out, o->fields, o->width, o->nfields);
	rule(o->out, o->width, o->nfields);
	flush_rows(o);
	return GRAFT_OK;
}

int output_row(struct output *o, struct render_in *values)
{
	int rv = keep_row(o, values);

	if (rv != GRAFT_OK)
		return rv;
	o->total++;
	if (!o->verbose || o->width != NULL)
		flush_rows(o);
	else if (o->rows == OUTPUT_SAMPLE_ROWS)
		rv = open_table(o);
	return rv;
}

static int64_t get_int(const struct graft_value *map, const char *key)
{
	const struct graft_value *v;

	if (map == NULL || map->type != GRAFT_VALUE_MAP)
		return -1;
	v = graft_map_get(map->u.map, key, strlen(key));
	return v != NULL && v->type == GRAFT_VALUE_INT ? v->u.i : -1;
}

/* "Added 1 nodes, Set 2 properties" from the summary's stats. */
static void print_stats(FILE *out, const struct graft_value *summary)
{
	/* key, words before the count, words after it */
	static const char *const names[][3] = {
		{"nodes-created", "Added", "nodes"},
		{"relationships-created", "Created", "relationships"},
		{"properties-set", "Set", "properties"},
		{"labels-added", "Added", "labels"},
		{"nodes-deleted", "Deleted", "nodes"},
		{"relationships-deleted", "Deleted", "relationships"},
		{"labels-removed", "Removed", "labels"},
		{"indexes-added", "Added", "indexes"},
		{"indexes-removed", "Removed", "indexes"},
		{"constraints-added", "Added", "constraints"},
		{"constraints-removed", "Removed", "constraints"},
		{"system-updates", "System updates:", ""},
	};
	const struct graft_value *stats = NULL;
	size_t i, shown = 0;
	int64_t n;

	if (summary->type == GRAFT_VALUE_MAP)
		stats = graft_map_get(summary->u.map, "stats", 5);
	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		n = get_int(stats, names[i][0]);
		if (n <= 0)
			continue;
		fputs(shown++ ? ", " : "", out);
		fprintf(out, "%s %" PRId64 "%s%s", names[i][1], n,
			names[i][2][0] ? " " : "", names[i][2]);
	}
	if (shown)
		fputc('\n', out);
}

static const struct graft_value *get(const struct graft_value *map,
				     const char *key)
{
	if (map == NULL || map->type != GRAFT_VALUE_MAP)
		return NULL;
	return graft_map_get(map->u.map, key, strlen(key));
}

/* One operator line and its children, indented like cypher-shell's tree. */
static void plan_lines(FILE *out, const struct graft_value *op, int depth,
		       bool profile)
{
	const struct graft_value *type = get(op, "operatorType");
	const struct graft_value *kids = get(op, "children");
	const struct graft_value *details = get(get(op, "args"), "Details");
	char name[96];

	snprintf(name, sizeof name, "%*s+%s", depth * 2, "",
		 type && type->type == GRAFT_VALUE_STRING ? type->u.s->data
							  : "?");
	if (profile)
		fprintf(out, "| %-40s | %10" PRId64 " | %10" PRId64 " |",
			name, get_int(op, "rows"), get_int(op, "dbHits"));
	else
		fprintf(out, "| %-40s |", name);
	if (details && details->type == GRAFT_VALUE_STRING)
		fprintf(out, " %s", details->u.s->data);
	fputc('\n', out);
	for (uint32_t i = 0; kids && kids->type == GRAFT_VALUE_LIST &&
			     i < kids->u.list->len;
	     i++)
		plan_lines(out, &kids->u.list->items[i], depth + 1, profile);
}

/* EXPLAIN and PROFILE: the plan from the summary as a table. */
static void print_plan(FILE *out, const struct graft_value *summary)
{
	const struct graft_value *profile = get(summary, "profile");
	const struct graft_value *plan = profile ? profile : get(summary, "plan");
	const char *rule_line = profile ? "+------------------------------------------+------------+------------+\n"
					: "+------------------------------------------+\n";

	if (plan == NULL)
		return;
	fprintf(out, "%s", rule_line);
	if (profile)
		fprintf(out, "| %-40s | %10s | %10s |\n", "Operator", "Rows",
			"DB Hits");
	else
		fprintf(out, "| %-40s |\n", "Operator");
	fprintf(out, "%s", rule_line);
	plan_lines(out, plan, 0, profile != NULL);
	fprintf(out, "%s", rule_line);
}

/* Frees what is still buffered (rows of a table not yet opened, or of a
 * failed open_table) and flushes. */
static void release(struct output *o)
{
	size_t i;

	for (i = 0; i < o->rows * o->nfields; i++)
		free(o->cells[i]);
	free(o->cells);
	free(o->width);
	o->cells = NULL;
	o->width = NULL;
	o->rows = 0;
	fflush(o->out);
}

void output_abort(struct output *o)
{
	/* after the terminal's "^C", which may have cut a row */
	fputc('\n', o->out);
	if (o->verbose && o->width != NULL)
		rule(o->out, o->width, o->nfields);
	release(o);
}

void output_end(struct output *o, int64_t t_first,
		const struct graft_value *summary)
{
	print_plan(o->out, summary);
	int64_t t_last = get_int(summary, "t_last");

	if (o->verbose) {
		if (o->width == NULL && o->rows > 0)
			open_table(o);
		if (o->width != NULL)
			rule(o->out, o->width, o->nfields);
		fprintf(o->out, "%zu row%s\n", o->total,
			o->total == 1 ? "" : "s");
		if (t_first >= 0 && t_last >= 0)
			fprintf(o->out,
				"ready to start consuming query after %" PRId64
				" ms, results consumed after another %" PRId64
				" ms\n",
				t_first, t_last);
		print_stats(o->out, summary);
	}
	release(o);
}
