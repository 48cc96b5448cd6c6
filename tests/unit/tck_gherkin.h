/* The subset of Gherkin the openCypher TCK uses: Feature, Background,
 * Scenario, Scenario Outline with Examples (expanded here, one scenario per
 * example row), steps with doc strings (""") and tables (| a | b |). Step
 * text is classified into the handful of steps the TCK has. */
#ifndef GRAFT_TESTS_TCK_GHERKIN_H
#define GRAFT_TESTS_TCK_GHERKIN_H

#include <stdbool.h>
#include <stddef.h>

enum tck_step_kind {
	TCK_STEP_GRAPH,          /* Given an empty graph / any graph */
	TCK_STEP_EXECUTED,       /* And having executed: """...""" */
	TCK_STEP_PARAMS,         /* And parameters are: | name | value | */
	TCK_STEP_PROCEDURE,      /* And there exists a procedure ... */
	TCK_STEP_QUERY,          /* When executing (control) query: """...""" */
	TCK_STEP_RESULT,         /* Then the result should be ...: | table | */
	TCK_STEP_EMPTY,          /* Then the result should be empty */
	TCK_STEP_ERROR,          /* Then a X should be raised at Y: Z */
	TCK_STEP_SIDE_EFFECTS,   /* And the side effects should be: | +nodes | 1 | */
	TCK_STEP_NO_SIDE_EFFECTS,
	TCK_STEP_UNKNOWN,
};

struct tck_table {
	size_t nrows, ncols;
	char ***cells; /* nrows rows of ncols cells */
};

struct tck_step {
	enum tck_step_kind kind;
	int line;
	char *text;           /* the step line without its keyword */
	char *doc;            /* doc string or NULL */
	struct tck_table table;
	bool ordered;         /* RESULT: "in order" */
	bool unordered_lists; /* RESULT: "ignoring element order for lists" */
	char *error_type;     /* ERROR: SyntaxError, TypeError, ... */
	char *error_phase;    /* ERROR: compile time, runtime, any time */
	char *error_detail;   /* ERROR: UndefinedVariable, ... */
};

struct tck_scenario {
	char *name;   /* "[3] Name" plus " #<n>" for an outline's example n */
	int line;
	size_t nsteps;
	struct tck_step *steps;
};

struct tck_feature {
	char *path; /* relative to the features directory */
	char *name;
	size_t nscenarios;
	struct tck_scenario *scenarios;
};

/* Parses the file at dir/path. 0, or -1 with a message on stderr. */
int tck_feature_load(const char *dir, const char *path,
		     struct tck_feature *out);
void tck_feature_free(struct tck_feature *f);

#endif
