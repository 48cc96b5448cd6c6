/* What the Cypher case runner and the TCK runner share: a fresh dbms and
 * engine in a scratch directory, one statement run to completion in its own
 * transaction (rows rendered as text, statistics, the error if any), and a
 * child process per case so that a crash or a hang in the engine fails that
 * case only. */
#ifndef GRAFT_TESTS_CYPHER_HARNESS_H
#define GRAFT_TESTS_CYPHER_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "cypher/cypher.h"

struct harness {
	char dir[256];
	uv_loop_t loop;
	struct dbms *dbms;
	struct cypher_engine *engine;
};

/* What one statement did: columns, rows (each a row of rendered cells),
 * statistics and, if it failed anywhere from cypher_run to the commit, the
 * error. */
struct harness_outcome {
	size_t ncols;
	char **cols;
	size_t nrows;
	char ***rows; /* nrows rows of ncols strings */
	struct cypher_stats stats;
	bool failed;
	struct cypher_error error;
};

/* Opens a dbms with an empty default database and an engine over it in a
 * fresh scratch directory. GRAFT_OK, or an error described in errmsg. */
int harness_open(struct harness *h, char *errmsg);
/* Closes the engine and the dbms, runs the loop dry, removes the
 * directory. */
void harness_close(struct harness *h);

/* Runs query with params (a MAP or NULL) in a write transaction of the
 * default database: pulls every row, renders each value with
 * cypher_value_render, then commits. Fills *out (free it with
 * harness_outcome_free); returns GRAFT_ENOMEM only. */
int harness_run(struct harness *h, const char *query,
		const struct graft_value *params, struct harness_outcome *out);
void harness_outcome_free(struct harness_outcome *o);

/* Evaluates a Cypher expression without variables, such as the map
 * literal of a case's parameters (`RETURN <text> AS p`), into *out.
 * GRAFT_OK, or the engine's error in err. */
int harness_map(struct harness *h, const char *text, struct graft_value *out,
		struct cypher_error *err);

/* Row i joined with ", " into a new string (caller frees). */
char *harness_row_join(const struct harness_outcome *o, size_t i);

/* Runs fn(arg, out) in a child process with an alarm of timeout_s seconds;
 * the child writes its report into out (a FILE on a pipe) and returns 0 for
 * a pass. Returns 0 on a pass, 1 on a failure, with the report (or a line
 * saying how the child died) in *report (caller frees). With fork_off the
 * function runs in this process instead (for debuggers). */
int harness_isolate(int (*fn)(void *arg, FILE *out), void *arg,
		    unsigned timeout_s, bool fork_off, char **report);

/* Growable text, for reports. */
struct harness_text {
	char *s;
	size_t len, cap;
};
void harness_text_add(struct harness_text *t, const char *s, size_t n);
void harness_text_addf(struct harness_text *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
