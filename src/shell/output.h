/* How graft-shell prints a result, like cypher-shell: "plain" (a header
 * line of column names, then one line per row, values comma-separated) or
 * "verbose" (a table, then the row count, timings and what was changed).
 * Rows arrive rendered (render.h). A table's column widths come from its
 * first OUTPUT_SAMPLE_ROWS rows, as in cypher-shell: later rows are printed
 * as they come, so a huge result never piles up in memory. */
#ifndef GRAFT_SHELL_OUTPUT_H
#define GRAFT_SHELL_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "../util/value.h"
#include "render.h"

#define OUTPUT_SAMPLE_ROWS 1000

struct output {
	FILE *out;
	bool verbose;
	char *const *fields; /* borrowed, nfields */
	size_t nfields;
	char **cells;  /* rows * nfields rendered values not yet printed */
	size_t rows;
	size_t cap;    /* cells allocated */
	size_t *width; /* verbose: column widths once the table is open */
	size_t total;  /* rows received */
};

/* Starts a result with these columns (borrowed until output_end). */
void output_begin(struct output *o, FILE *out, bool verbose,
		  char *const *fields, size_t nfields);
/* One RECORD's values; GRAFT_OK, GRAFT_ENOMEM or GRAFT_ECORRUPT. */
int output_row(struct output *o, struct render_in *values);
/* Prints what is buffered and the summary (verbose: rows, timings from
 * t_first and the summary's t_last, and the summary's stats). */
void output_end(struct output *o, int64_t t_first,
		const struct graft_value *summary);
/* An interrupted result: the rows still buffered are dropped, not printed
 * (an open table gets its closing rule). */
void output_abort(struct output *o);

#endif
