/* The one command-line option parser of graft and graft-admin. Every
 * subcommand describes its options in a table and its usage in a string;
 * the parser gives every command the same rules:
 *   --name=value or --name value for an option that takes a value (a value
 *   that starts with "--" is refused: it is the next option, not a value);
 *   --name, --name=true or --name=false for a flag;
 *   -h or --help prints the command's usage to stdout;
 *   "--" ends the options, so a positional argument may start with '-';
 *   anything else that starts with '-' is an unknown option (exit 2), never
 *   taken as a value or a positional argument. */
#ifndef GRAFT_ADMIN_OPT_H
#define GRAFT_ADMIN_OPT_H

#include <stdbool.h>
#include <stddef.h>

struct admin_opt {
	const char *name;  /* with its dashes: "--to-path" */
	bool takes_value;  /* else a flag */
	/* Where the result goes: at most one of these; none means the option
	 * is accepted and ignored (Neo4j options that do nothing here). */
	const char **str;  /* the value (borrowed from argv) */
	bool *flag;        /* the flag */
	/* Checks and stores the value (NULL for a bare flag): 0, or -1 after
	 * saying on stderr what is wrong. arg is the command's. */
	int (*parse)(void *arg, const char *opt, const char *val);
};

struct admin_cmd {
	const char *usage; /* printed for --help, and after a usage error */
	const struct admin_opt *opts;
	size_t n_opts;
	void *arg; /* passed to every parse */
	/* Positional arguments: up to max_pos go to pos (borrowed from argv);
	 * more is a usage error. */
	const char **pos;
	size_t max_pos;
	size_t *n_pos;
	/* Set for a command that takes options only up to its first
	 * positional argument (the program's own options before the
	 * subcommand): parsing stops there and *rest gets its index, argc when
	 * there is none. */
	int *rest;
	const char *prog; /* "graft-admin": prefixes the messages */
};

#define ADMIN_OPT_HELP 1

/* Parses argv[0..argc). 0 when parsed; ADMIN_OPT_HELP when -h or --help
 * was given (the usage is printed); -1 on a usage error (said on stderr
 * with the usage). */
int admin_opt_parse(const struct admin_cmd *cmd, int argc, char **argv);

/* "true", "false" or NULL (a bare flag: true) into *out; -1 after saying
 * why for anything else. */
int admin_opt_bool(const char *prog, const char *opt, const char *val,
		   bool *out);

#endif
