/* graft-shell: the Bolt command-line client, like cypher-shell. Reads
 * statements from the arguments, a file (-f) or standard input, or, on a
 * terminal, interactively with line editing and history (libedit). Shell
 * commands (:param, :use, :begin …) are handled here; statements go to the
 * server over Bolt (client.c) and come back printed (output.c). In
 * non-interactive mode the first error stops the shell with exit code 1. */
#include <config.h>

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <editline/readline.h>

#include "../pack/pack.h"
#include "../util/status.h"
#include "client.h"
#include "output.h"
#include "split.h"

/* New passwords asked for at a first login before giving up. */
#define PASSWORD_ATTEMPTS 3
/* :source files running :source, at most. */
#define SOURCE_DEPTH_MAX 16

enum format { FORMAT_AUTO, FORMAT_VERBOSE, FORMAT_PLAIN };

struct shell {
	struct client c;
	char host[256];
	char port[16];
	char routing[300]; /* neo4j:// : the address as given; "" for bolt:// */
	char *user;        /* owned */
	char *password;    /* owned */
	char db[256];      /* "" : the user's home database */
	enum format format;
	bool interactive;  /* prompts, line editing, keep going on errors */
	bool connected;    /* false after :disconnect or a failed :connect */
	bool in_tx;
	bool quit;
	int sourcing;      /* depth of :source files being run */
	struct graft_value params; /* MAP */
	struct split split;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: graft-shell [-a ADDRESS] [-u USER] [-p PASSWORD] [-d DATABASE]\n"
		"                   [--format auto|verbose|plain] [-f FILE] [-P 'name => value']\n"
		"                   [--non-interactive] [--change-password] [CYPHER]\n\n"
		"  -a, --address    bolt://host:port or neo4j://host:port (default\n"
		"                   bolt://localhost:7687; env NEO4J_ADDRESS / NEO4J_URI)\n"
		"  -u, --username   user (env NEO4J_USERNAME)\n"
		"  -p, --password   password (env NEO4J_PASSWORD)\n"
		"  -d, --database   database to use (env NEO4J_DATABASE; default: home)\n"
		"  --format         auto (verbose on a terminal, else plain), verbose, plain\n"
		"  -f, --file       run the statements of FILE and exit\n"
		"  -P, --param      set a parameter before running anything\n"
		"  --non-interactive  never prompt, stop at the first error\n"
		"  --change-password  change the user's password and exit\n"
		"  --version, --help\n");
}

static void help(void)
{
	printf("Available commands:\n"
	       "  :begin       Open a transaction\n"
	       "  :commit      Commit the currently open transaction\n"
	       "  :rollback    Rollback the currently open transaction\n"
	       "  :connect     Connect to the server: :connect [-u USER] [-p PASSWORD]\n"
	       "               [-d DATABASE]; what is left out is asked for\n"
	       "  :disconnect  Disconnect from the server\n"
	       "  :exit        Exit the shell (also :quit)\n"
	       "  :help        Show this help message\n"
	       "  :history     Print the statements entered (:history clear empties it)\n"
	       "  :param       Set a parameter: :param name => expression, or\n"
	       "               :param {name: expression, …}; :param clear\n"
	       "  :params      Print all parameters\n"
	       "  :source      Run the statements of a file: :source FILE\n"
	       "  :use         Set the active database: :use name (:use alone: the\n"
	       "               home database)\n"
	       "Statements end with ';'. Ctrl-C stops a running statement.\n");
}

static bool verbose(const struct shell *sh)
{
	return sh->format == FORMAT_VERBOSE ||
	       (sh->format == FORMAT_AUTO && sh->interactive);
}

static void report(const struct client_error *e)
{
	fflush(stdout); /* keep results and errors in order */
	fprintf(stderr, "%s\n", e->message);
}

/* Statements and server-side commands need a connection. */
static bool need_connection(const struct shell *sh)
{
	if (sh->connected)
		return true;
	fprintf(stderr, "Not connected to Neo4j: use :connect first.\n");
	return false;
}

/* Addresses ---------------------------------------------------------------- */

/* bolt[+s|+ssc]://, neo4j[+s|+ssc]:// or host[:port]. */
static int parse_address(struct shell *sh, const char *a)
{
	const char *p = strstr(a, "://"), *hostpart, *colon;
	size_t scheme = p != NULL ? (size_t)(p - a) : 0;

	bool bolt = scheme == 4 && strncmp(a, "bolt", 4) == 0;
	bool neo4j = scheme == 5 && strncmp(a, "neo4j", 5) == 0;

	if (p != NULL && !bolt && !neo4j) {
		if (strstr(a, "+s") != NULL && strstr(a, "+s") < p)
			fprintf(stderr, "graft-shell: %s: encrypted connections "
					"(+s, +ssc) are not supported yet; use "
					"bolt:// or neo4j://\n", a);
		else
			fprintf(stderr, "graft-shell: %s: unknown scheme; use "
					"bolt:// or neo4j://\n", a);
		return -1;
	}
	hostpart = p != NULL ? p + 3 : a;
	colon = strrchr(hostpart, ':');
	snprintf(sh->host, sizeof sh->host, "%.*s",
		 colon ? (int)(colon - hostpart) : (int)strcspn(hostpart, "/"),
		 hostpart);
	snprintf(sh->port, sizeof sh->port, "%.*s",
		 colon ? (int)strcspn(colon + 1, "/") : 4,
		 colon ? colon + 1 : "7687");
	if (sh->host[0] == '\0')
		snprintf(sh->host, sizeof sh->host, "localhost");
	if (neo4j)
		snprintf(sh->routing, sizeof sh->routing, "%s:%s", sh->host,
			 sh->port);
	return 0;
}

/* Prompts ------------------------------------------------------------------ */

/* Reads a line without echo on a terminal, plainly otherwise. NULL at EOF. */
static char *read_secret(const char *prompt)
{
	struct termios old, quiet;
	bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	fputs(prompt, stderr);
	fflush(stderr);
	if (tty) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
	}
	n = getline(&line, &cap, stdin);
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSANOW, &old);
		fputc('\n', stderr);
	}
	if (n < 0) {
		free(line);
		return NULL;
	}
	line[strcspn(line, "\r\n")] = '\0';
	return line;
}

/* Parameters ----------------------------------------------------------------
 * Values are Cypher expressions evaluated by the server (RETURN expr), as
 * cypher-shell does, so every literal the server knows works. */

static int keep_value(void *arg, struct render_in *values)
{
	struct graft_value *out = arg, list;
	struct pack_reader r;
	char errmsg[GRAFT_ERRMSG_SIZE];
	int rv;

	pack_reader_init(&r, values->p + values->pos, values->len - values->pos);
	rv = pack_read_value(&r, &list, errmsg);
	if (rv != GRAFT_OK)
		return rv;
	if (list.type == GRAFT_VALUE_LIST && list.u.list->len == 1) {
		graft_value_free(out);
		*out = list.u.list->items[0];
		list.u.list->items[0] = graft_value_null();
	}
	graft_value_free(&list);
	return GRAFT_OK;
}

static int evaluate(struct shell *sh, const char *expr, struct graft_value *out)
{
	struct client_result r = {.row = keep_value, .arg = out};
	struct client_error e;
	char *q;
	int rv;

	*out = graft_value_null();
	if (!need_connection(sh))
		return GRAFT_EINVAL;
	if (asprintf(&q, "RETURN %s AS value", expr) < 0)
		return GRAFT_ENOMEM;
	rv = client_run(&sh->c, q, strlen(q), sh->params.type == GRAFT_VALUE_MAP
						 ? &sh->params
						 : NULL,
			sh->db[0] ? sh->db : NULL, sh->in_tx, &r, &e);
	free(q);
	client_result_free(&r);
	if (rv != GRAFT_OK)
		report(&e);
	return rv;
}

/* Sets params[name] = v (v is taken over). */
static int param_set(struct shell *sh, const char *name, size_t len,
		     struct graft_value *v)
{
	struct graft_map *m = sh->params.u.map;
	struct graft_value grown;
	uint32_t i, n = m->len;
	int rv = graft_value_map(&grown, n + 1);

	if (rv != GRAFT_OK)
		return rv;
	for (i = 0; i < n; i++) {
		grown.u.map->entries[i] = m->entries[i];
		m->entries[i].key = NULL;
		m->entries[i].value = graft_value_null();
	}
	grown.u.map->entries[n].key = graft_str_new(name, len);
	grown.u.map->entries[n].value = *v;
	*v = graft_value_null();
	m->len = 0;
	graft_value_free(&sh->params);
	sh->params = grown;
	if (sh->params.u.map->entries[n].key == NULL)
		return GRAFT_ENOMEM;
	graft_map_sort(sh->params.u.map); /* a later duplicate wins */
	return GRAFT_OK;
}

static int cmd_param(struct shell *sh, char *arg)
{
	struct graft_value v;
	char *arrow = strstr(arg, "=>"), *name = arg;
	size_t len;
	uint32_t i;
	int rv;

	if (strcmp(arg, "clear") == 0) {
		graft_value_free(&sh->params);
		return graft_value_map(&sh->params, 0);
	}
	if (arg[0] == '{') { /* :param {a: 1, b: 2} */
		rv = evaluate(sh, arg, &v);
		if (rv != GRAFT_OK)
			return rv;
		for (i = 0; v.type == GRAFT_VALUE_MAP && i < v.u.map->len; i++) {
			rv = param_set(sh, v.u.map->entries[i].key->data,
				       v.u.map->entries[i].key->len,
				       &v.u.map->entries[i].value);
			if (rv != GRAFT_OK)
				break;
		}
		graft_value_free(&v);
		return rv;
	}
	if (arrow == NULL) {
		fprintf(stderr, "Incorrect usage.\nusage: :param name => "
				"expression, or :param {name: expression}\n");
		return GRAFT_EINVAL;
	}
	len = (size_t)(arrow - arg);
	while (len > 0 && (name[len - 1] == ' ' || name[len - 1] == '\t'))
		len--;
	if (len > 1 && name[0] == '`' && name[len - 1] == '`') {
		name++;
		len -= 2;
	}
	rv = evaluate(sh, arrow + 2, &v);
	if (rv == GRAFT_OK)
		rv = param_set(sh, name, len, &v);
	graft_value_free(&v);
	return rv;
}

static void cmd_params(struct shell *sh)
{
	const struct graft_map *m = sh->params.u.map;
	struct graft_buf packed, text;
	struct render_in in;
	uint32_t i;

	for (i = 0; i < m->len; i++) {
		graft_buf_init(&packed);
		graft_buf_init(&text);
		in = (struct render_in){0};
		if (pack_value(&packed, &m->entries[i].value, NULL) == GRAFT_OK) {
			in.p = packed.data;
			in.len = packed.len;
			if (render_value(&in, &text) == GRAFT_OK)
				printf(":param %s => %.*s\n",
				       m->entries[i].key->data, (int)text.len,
				       (const char *)text.data);
		}
		graft_buf_free(&packed);
		graft_buf_free(&text);
	}
}

/* Statements --------------------------------------------------------------- */

static int change_password(struct shell *sh);
static int connect_shell(struct shell *sh);
static int cmd_source(struct shell *sh, const char *path);
static int cmd_connect(struct shell *sh, char *arg);
static void cmd_disconnect(struct shell *sh);

/* The columns are known once RUN answered, inside client_run: the first
 * row (or the end, for none) starts the output. */
struct printing {
	struct shell *sh;
	struct client_result r;
	struct output o;
	bool started;
};

static void start_output(struct printing *p)
{
	if (p->started)
		return;
	p->started = true;
	output_begin(&p->o, stdout, verbose(p->sh), p->r.fields, p->r.nfields);
}

static int print_row(void *arg, struct render_in *values)
{
	struct printing *p = arg;

	start_output(p);
	return output_row(&p->o, values);
}

static volatile sig_atomic_t interrupted;

static void interrupt_cb(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* Interactive: Ctrl-C from here on interrupts (prompt, statement). */
static void catch_interrupt(struct sigaction *old)
{
	struct sigaction sa = {.sa_handler = interrupt_cb};

	interrupted = 0;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, old);
}

static int run_once(struct shell *sh, const char *q, size_t len,
		    struct client_error *e)
{
	struct printing p = {.sh = sh};
	struct sigaction old;
	int rv;

	p.r.row = print_row;
	p.r.arg = &p;
	if (sh->interactive) {
		catch_interrupt(&old);
		sh->c.interrupt = &interrupted;
	}
	rv = client_run(&sh->c, q, len,
			sh->params.type == GRAFT_VALUE_MAP ? &sh->params : NULL,
			sh->db[0] ? sh->db : NULL, sh->in_tx, &p.r, e);
	if (sh->interactive) {
		sh->c.interrupt = NULL;
		sigaction(SIGINT, &old, NULL);
	}
	if (sh->c.interrupted) {
		/* Ctrl-C: what was still on its way was dropped; a write to
		 * the terminal cut by the signal leaves stdout's error set */
		if (p.started)
			output_abort(&p.o);
		clearerr(stdout);
		client_result_free(&p.r);
		e->code[0] = '\0';
		snprintf(e->message, sizeof e->message,
			 "Interrupted: the statement was stopped.");
		return GRAFT_EINVAL;
	}
	if (rv == GRAFT_OK)
		start_output(&p);
	if (p.started)
		output_end(&p.o, rv == GRAFT_OK ? p.r.t_first : -1, &p.r.summary);
	client_result_free(&p.r);
	return rv;
}

static int run_statement(struct shell *sh, const char *q, size_t len)
{
	struct client_error e;
	int rv;

	if (!need_connection(sh))
		return GRAFT_EINVAL;
	rv = run_once(sh, q, len, &e);

	if (rv != GRAFT_OK && graft_status_is(e.code, GRAFT_STATUS_CREDENTIALS_EXPIRED) &&
	    sh->interactive) {
		report(&e);
		rv = change_password(sh);
		if (rv == GRAFT_OK)
			rv = run_once(sh, q, len, &e);
		else
			return rv;
	}
	if (rv != GRAFT_OK)
		report(&e);
	if (sh->in_tx && (sh->c.interrupted ||
			  (rv != GRAFT_OK && e.code[0] != '\0'))) {
		sh->in_tx = false; /* the reset ended it */
		fprintf(stderr, "The transaction has been rolled back.\n");
	}
	return rv;
}

/* :use name (or `name`): a database that does not exist is refused now,
 * not at the next statement: the server checks the name when a
 * transaction begins on it. :use alone goes back to the home database. */
static int cmd_use(struct shell *sh, char *db)
{
	struct client_error e;
	size_t len = strlen(db);
	int rv;

	if (sh->in_tx) {
		fprintf(stderr, "There is an open transaction. You need to close "
				"it before you can switch database.\n");
		return GRAFT_EINVAL;
	}
	if (len > 1 && db[0] == '`' && db[len - 1] == '`') {
		db[len - 1] = '\0';
		db++;
	}
	if (db[0] != '\0') {
		if (!need_connection(sh))
			return GRAFT_EINVAL;
		rv = client_begin(&sh->c, db, &e);
		if (rv == GRAFT_OK)
			rv = client_rollback(&sh->c, &e);
		if (rv != GRAFT_OK) {
			report(&e);
			return rv;
		}
	}
	snprintf(sh->db, sizeof sh->db, "%s", db);
	return GRAFT_OK;
}

/* :history prints the lines entered, numbered; :history clear empties the
 * list (and so the history file written at exit). */
static int cmd_history(const char *arg)
{
	HIST_ENTRY *h;
	int i;

	if (strcmp(arg, "clear") == 0) {
		clear_history();
		return GRAFT_OK;
	}
	if (arg[0] != '\0') {
		fprintf(stderr, "Incorrect usage.\nusage: :history [clear]\n");
		return GRAFT_EINVAL;
	}
	for (i = 0; i < history_length; i++) {
		h = history_get(history_base + i);
		if (h != NULL)
			printf("%3d  %s\n", i + 1, h->line);
	}
	return GRAFT_OK;
}

static int cmd_tx(struct shell *sh, const char *cmd)
{
	struct client_error e;
	int rv;

	if (!need_connection(sh))
		return GRAFT_EINVAL;
	if (strcmp(cmd, ":begin") == 0) {
		if (sh->in_tx) {
			fprintf(stderr, "There is already an open transaction\n");
			return GRAFT_EINVAL;
		}
		rv = client_begin(&sh->c, sh->db[0] ? sh->db : NULL, &e);
		sh->in_tx = rv == GRAFT_OK;
	} else {
		if (!sh->in_tx) {
			fprintf(stderr, "There is no open transaction to %s\n",
				cmd + 1);
			return GRAFT_EINVAL;
		}
		rv = strcmp(cmd, ":commit") == 0 ? client_commit(&sh->c, &e)
						  : client_rollback(&sh->c, &e);
		sh->in_tx = false;
	}
	if (rv != GRAFT_OK)
		report(&e);
	return rv;
}

static int run_command(struct shell *sh, char *line)
{
	char *arg = line + strcspn(line, " \t");

	if (*arg != '\0') {
		*arg++ = '\0';
		arg += strspn(arg, " \t");
	}
	if (strcmp(line, ":exit") == 0 || strcmp(line, ":quit") == 0) {
		sh->quit = true;
		return GRAFT_OK;
	}
	if (strcmp(line, ":help") == 0) {
		help();
		return GRAFT_OK;
	}
	if (strcmp(line, ":param") == 0)
		return cmd_param(sh, arg);
	if (strcmp(line, ":params") == 0) {
		if (strcmp(arg, "clear") == 0)
			return cmd_param(sh, arg);
		cmd_params(sh);
		return GRAFT_OK;
	}
	if (strcmp(line, ":use") == 0)
		return cmd_use(sh, arg);
	if (strcmp(line, ":history") == 0)
		return cmd_history(arg);
	if (strcmp(line, ":source") == 0)
		return cmd_source(sh, arg);
	if (strcmp(line, ":connect") == 0)
		return cmd_connect(sh, arg);
	if (strcmp(line, ":disconnect") == 0) {
		cmd_disconnect(sh);
		return GRAFT_OK;
	}
	if (strcmp(line, ":begin") == 0 || strcmp(line, ":commit") == 0 ||
	    strcmp(line, ":rollback") == 0)
		return cmd_tx(sh, line);
	fprintf(stderr, "Could not find command %s, use :help to see available "
			"commands\n", line);
	return GRAFT_EINVAL;
}

/* split_fn: one statement or command; stops a non-interactive run, and a
 * :source file, at the first error. */
static int on_statement(void *arg, enum split_kind kind, const char *text,
			size_t len)
{
	struct shell *sh = arg;
	char *copy = strndup(text, len);
	int rv;

	if (copy == NULL)
		return GRAFT_ENOMEM;
	if (kind == SPLIT_COMMAND) {
		if (copy[len - 1] == ';')
			copy[len - 1] = '\0';
		rv = run_command(sh, copy);
	} else {
		rv = run_statement(sh, copy, len);
	}
	free(copy);
	if (sh->quit)
		return 1;
	return sh->interactive && sh->sourcing == 0 ? 0 : rv;
}

/* Password change -------------------------------------------------------- */

/* Asks for a new password twice; a mismatch asks again. NULL at the end of
 * the input. */
static char *ask_new_password(void)
{
	char *pw, *again;

	for (;;) {
		pw = read_secret("new password: ");
		again = pw != NULL ? read_secret("confirm password: ") : NULL;
		if (again == NULL) {
			free(pw);
			return NULL;
		}
		if (strcmp(pw, again) == 0) {
			free(again);
			return pw;
		}
		fprintf(stderr, "Passwords do not match, try again.\n");
		free(pw);
		free(again);
	}
}

/* ALTER CURRENT USER SET PASSWORD FROM the login password TO pw. */
static int alter_own_password(struct shell *sh, const char *pw,
			      struct client_error *e)
{
	static const char q[] = "ALTER CURRENT USER SET PASSWORD FROM $old TO $new";
	const char *old = sh->password ? sh->password : "";
	struct client_result r = {0};
	struct graft_value params;
	int rv = graft_value_map(&params, 2);

	if (rv != GRAFT_OK)
		return graft_errf(e->message, rv, "out of memory");
	params.u.map->entries[0].key = graft_str_new("new", 3);
	params.u.map->entries[1].key = graft_str_new("old", 3);
	rv = graft_value_string(&params.u.map->entries[0].value, pw, strlen(pw));
	if (rv == GRAFT_OK)
		rv = graft_value_string(&params.u.map->entries[1].value, old,
					strlen(old));
	if (!params.u.map->entries[0].key || !params.u.map->entries[1].key)
		rv = GRAFT_ENOMEM;
	if (rv == GRAFT_OK)
		rv = client_run(&sh->c, q, sizeof q - 1, &params, "system",
				false, &r, e);
	else
		snprintf(e->message, sizeof e->message, "out of memory");
	graft_value_free(&params);
	client_result_free(&r);
	return rv;
}

/* A new password the server refuses (too short, the old one) is reported
 * with the server's rule and asked for again, PASSWORD_ATTEMPTS times. */
static int change_password(struct shell *sh)
{
	struct client_error e;
	char *pw = NULL;
	int attempt, rv = GRAFT_EINVAL;

	fprintf(stderr, "Password change required\n");
	for (attempt = 0; attempt < PASSWORD_ATTEMPTS; attempt++) {
		pw = ask_new_password();
		if (pw == NULL) {
			fprintf(stderr, "No new password given.\n");
			return GRAFT_EINVAL;
		}
		rv = alter_own_password(sh, pw, &e);
		if (rv == GRAFT_OK)
			break;
		report(&e);
		free(pw);
		pw = NULL;
		if (!graft_status_is(e.code, GRAFT_STATUS_INVALID_ARGUMENTS))
			return rv;
	}
	if (pw == NULL)
		return rv;
	free(sh->password);
	sh->password = pw;
	fprintf(stderr, "Password changed.\n");
	/* The server keeps a session's credentials expired: log in anew. */
	client_close(&sh->c);
	return connect_shell(sh);
}

/* Whether the user must change its password before anything else: LOGON
 * said so, or a first statement is refused for it (Neo4j says it only
 * then). Interactive sessions ask at once, as cypher-shell does. */
static bool must_change(struct shell *sh)
{
	static const char probe[] = "RETURN 1";
	struct client_result r = {0};
	struct client_error e;
	int rv;

	if (sh->c.credentials_expired)
		return true;
	rv = client_run(&sh->c, probe, sizeof probe - 1, NULL,
			sh->db[0] ? sh->db : NULL, false, &r, &e);
	client_result_free(&r);
	return rv != GRAFT_OK && graft_status_is(e.code, GRAFT_STATUS_CREDENTIALS_EXPIRED);
}

/* Input -------------------------------------------------------------------- */

static char *history_path(void)
{
	const char *home = getenv("HOME");
	char *path;

	if (home == NULL || asprintf(&path, "%s/.graft_shell_history", home) < 0)
		return NULL;
	return path;
}

/* Ctrl-C at the prompt drops the statement being typed instead of leaving
 * the shell (as cypher-shell does); during a statement it interrupts it
 * (client.h). */
static char *prompt_line(struct shell *sh, const char *prompt)
{
	struct sigaction old;
	char *line;

	catch_interrupt(&old);
	line = readline(prompt);
	sigaction(SIGINT, &old, NULL);
	if (interrupted) {
		free(line);
		split_reset(&sh->split);
		fprintf(stderr, "\nInterrupted (Note that Cypher queries must end "
				"with a semicolon. Type :exit to exit the shell.)\n");
		return strdup("");
	}
	return line;
}

static int interactive_loop(struct shell *sh)
{
	char *hist = history_path(), *line, prompt[600];
	int rv = 0;

	using_history();
	if (hist != NULL)
		read_history(hist);
	printf("Connected to %s at %s:%s as user %s.\n"
	       "Type :help for a list of available commands or :exit to exit "
	       "the shell.\nNote that Cypher queries must end with a "
	       "semicolon.\n",
	       sh->c.server_agent, sh->host, sh->port,
	       sh->user ? sh->user : "(none)");
	while (!sh->quit) {
		snprintf(prompt, sizeof prompt, "%s@%s%s ",
			 sh->user ? sh->user : "", sh->db[0] ? sh->db : "neo4j",
			 sh->in_tx ? "#" : ">");
		if (!sh->connected)
			snprintf(prompt, sizeof prompt, "disconnected> ");
		if (split_pending(&sh->split))
			snprintf(prompt, sizeof prompt, "%*s ",
				 (int)strlen(prompt) - 1, ">");
		line = prompt_line(sh, prompt);
		if (line == NULL)
			break;
		if (line[0] != '\0')
			add_history(line);
		rv = split_feed(&sh->split, line, strlen(line), on_statement, sh);
		free(line);
		if (rv < 0)
			break;
	}
	if (hist != NULL)
		write_history(hist);
	free(hist);
	return rv < 0 ? 1 : 0;
}

/* Feeds a whole stream through split; 0 or what stopped it. */
static int feed_stream(struct shell *sh, struct split *split, FILE *in)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rv = 0;

	while (rv == 0 && (n = getline(&line, &cap, in)) >= 0)
		rv = split_feed(split, line, (size_t)n, on_statement, sh);
	free(line);
	if (rv == 0)
		rv = split_finish(split, on_statement, sh);
	return rv;
}

/* Feeds a whole stream; returns the process exit code. */
static int run_stream(struct shell *sh, FILE *in)
{
	int rv = feed_stream(sh, &sh->split, in);

	return rv != 0 && !sh->quit ? 1 : 0;
}

/* :source FILE runs the file's statements and commands as if typed, up to
 * its first error. Its own splitter: the line holding :source is still
 * being fed through the shell's. */
static int cmd_source(struct shell *sh, const char *path)
{
	struct split split;
	FILE *in;
	int rv;

	if (path[0] == '\0') {
		fprintf(stderr, "Incorrect usage.\nusage: :source FILE\n");
		return GRAFT_EINVAL;
	}
	if (sh->sourcing >= SOURCE_DEPTH_MAX) {
		fprintf(stderr, "Cannot run %s: :source is nested more than %d "
				"deep (does a file source itself?)\n",
			path, SOURCE_DEPTH_MAX);
		return GRAFT_ELIMIT;
	}
	in = fopen(path, "r");
	if (in == NULL) {
		fprintf(stderr, "Cannot read %s: %s\n", path, strerror(errno));
		return graft_err_from_errno(errno);
	}
	split_init(&split);
	sh->sourcing++;
	rv = feed_stream(sh, &split, in);
	sh->sourcing--;
	split_free(&split);
	fclose(in);
	if (rv < 0)
		return GRAFT_ENOMEM;
	return rv > 0 && !sh->quit ? GRAFT_EINVAL : GRAFT_OK;
}

static int run_text(struct shell *sh, const char *text)
{
	int rv = split_feed(&sh->split, text, strlen(text), on_statement, sh);

	if (rv == 0)
		rv = split_finish(&sh->split, on_statement, sh);
	return rv != 0 && !sh->quit ? 1 : 0;
}

/* Connection --------------------------------------------------------------- */

/* Connects and logs in; on a terminal, asks for what is missing of the
 * user name and password. */
static int connect_shell(struct shell *sh)
{
	struct client_error e;
	int rv = client_connect(&sh->c, sh->host, sh->port, &e);

	if (rv == GRAFT_OK && sh->user == NULL && sh->interactive) {
		fputs("username: ", stderr);
		sh->user = readline("");
	}
	if (rv == GRAFT_OK && sh->user != NULL && sh->password == NULL &&
	    sh->interactive)
		sh->password = read_secret("password: ");
	if (rv == GRAFT_OK)
		rv = client_login(&sh->c, sh->user, sh->password,
				  sh->routing[0] ? sh->routing : NULL, &e);
	if (rv != GRAFT_OK) {
		report(&e);
		client_close(&sh->c); /* the socket of a failed login */
	}
	sh->connected = rv == GRAFT_OK;
	return rv;
}

/* Connects, then, interactively, has a password that must change changed
 * at once, as cypher-shell does. */
static int start_session(struct shell *sh)
{
	int rv = connect_shell(sh);

	if (rv == GRAFT_OK && sh->interactive && must_change(sh))
		rv = change_password(sh);
	return rv;
}

/* The value of a :connect option at tokens[*i] (-u X, --username X or
 * --username=X); NULL when the token is no such option. */
static char *connect_value(char **tok, size_t n, size_t *i,
			   const char *shortname, const char *longname)
{
	size_t len = strlen(longname);

	if ((strcmp(tok[*i], shortname) == 0 || strcmp(tok[*i], longname) == 0) &&
	    *i + 1 < n)
		return tok[++*i];
	if (strncmp(tok[*i], longname, len) == 0 && tok[*i][len] == '=')
		return tok[*i] + len + 1;
	return NULL;
}

static int connect_usage(void)
{
	fprintf(stderr, "Incorrect usage.\nusage: :connect [-u USER] "
			"[-p PASSWORD] [-d DATABASE]\n");
	return GRAFT_EINVAL;
}

/* :connect [-u USER] [-p PASSWORD] [-d DATABASE]: to the address the shell
 * was started with; a user name or password left out is asked for. */
static int cmd_connect(struct shell *sh, char *arg)
{
	char *tok[8], *save = NULL, *user = NULL, *password = NULL, *db = NULL;
	char *v;
	size_t n = 0, i;

	if (sh->connected) {
		fprintf(stderr, "Already connected: use :disconnect first.\n");
		return GRAFT_EINVAL;
	}
	for (v = strtok_r(arg, " \t", &save); v != NULL;
	     v = strtok_r(NULL, " \t", &save)) {
		if (n == sizeof tok / sizeof tok[0])
			return connect_usage();
		tok[n++] = v;
	}
	for (i = 0; i < n; i++) {
		if ((v = connect_value(tok, n, &i, "-u", "--username")) != NULL)
			user = v;
		else if ((v = connect_value(tok, n, &i, "-p", "--password")))
			password = v;
		else if ((v = connect_value(tok, n, &i, "-d", "--database")))
			db = v;
		else
			return connect_usage();
	}
	free(sh->user);
	free(sh->password);
	sh->user = user != NULL ? strdup(user) : NULL;
	sh->password = password != NULL ? strdup(password) : NULL;
	sh->db[0] = '\0';
	if (start_session(sh) != GRAFT_OK)
		return GRAFT_EINVAL;
	fprintf(stderr, "Connected to %s at %s:%s as user %s.\n",
		sh->c.server_agent, sh->host, sh->port,
		sh->user ? sh->user : "(none)");
	return db != NULL ? cmd_use(sh, db) : GRAFT_OK;
}

/* :disconnect: an open transaction is rolled back by the server. */
static void cmd_disconnect(struct shell *sh)
{
	if (!sh->connected)
		return;
	if (sh->in_tx)
		fprintf(stderr, "The transaction has been rolled back.\n");
	client_close(&sh->c);
	sh->connected = false;
	sh->in_tx = false;
}

static char *env_dup(const char *name)
{
	const char *v = getenv(name);

	return v != NULL ? strdup(v) : NULL;
}

struct args {
	const char *address;
	const char *file;
	const char *cypher;
	const char *params[32];
	size_t nparams;
	bool change_password;
	bool non_interactive;
};

/* Returns -1 to go on, else an exit code. */
static int parse_args(struct shell *sh, struct args *a, int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		bool takes = true;

		if ((!strcmp(o, "-a") || !strcmp(o, "--address")) && v)
			a->address = v;
		else if ((!strcmp(o, "-u") || !strcmp(o, "--username")) && v) {
			free(sh->user);
			sh->user = strdup(v);
		} else if ((!strcmp(o, "-p") || !strcmp(o, "--password")) && v) {
			free(sh->password);
			sh->password = strdup(v);
		} else if ((!strcmp(o, "-d") || !strcmp(o, "--database")) && v)
			snprintf(sh->db, sizeof sh->db, "%s", v);
		else if ((!strcmp(o, "-f") || !strcmp(o, "--file")) && v)
			a->file = v;
		else if ((!strcmp(o, "-P") || !strcmp(o, "--param")) && v &&
			 a->nparams < 32)
			a->params[a->nparams++] = v;
		else if (!strcmp(o, "--format") && v && !strcmp(v, "auto"))
			sh->format = FORMAT_AUTO;
		else if (!strcmp(o, "--format") && v && !strcmp(v, "verbose"))
			sh->format = FORMAT_VERBOSE;
		else if (!strcmp(o, "--format") && v && !strcmp(v, "plain"))
			sh->format = FORMAT_PLAIN;
		else {
			takes = false;
			if (!strcmp(o, "--version")) {
				printf("graft-shell %s\n", PACKAGE_VERSION);
				return 0;
			} else if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
				usage(stdout);
				return 0;
			} else if (!strcmp(o, "--non-interactive")) {
				a->non_interactive = true;
			} else if (!strcmp(o, "--change-password")) {
				a->change_password = true;
			} else if (o[0] != '-' && a->cypher == NULL) {
				a->cypher = o;
			} else {
				fprintf(stderr, "graft-shell: bad option %s\n", o);
				usage(stderr);
				return 2;
			}
		}
		i += takes;
	}
	return -1;
}

int main(int argc, char **argv)
{
	struct shell sh = {.format = FORMAT_AUTO};
	struct args a = {0};
	const char *address;
	FILE *in = NULL;
	size_t i;
	int rv;

	sh.user = env_dup("NEO4J_USERNAME");
	sh.password = env_dup("NEO4J_PASSWORD");
	if (getenv("NEO4J_DATABASE") != NULL)
		snprintf(sh.db, sizeof sh.db, "%s", getenv("NEO4J_DATABASE"));
	rv = parse_args(&sh, &a, argc, argv);
	if (rv >= 0)
		goto out;
	address = a.address ? a.address
			    : getenv("NEO4J_ADDRESS") ? getenv("NEO4J_ADDRESS")
			    : getenv("NEO4J_URI")     ? getenv("NEO4J_URI")
						      : "bolt://localhost:7687";
	rv = 2;
	if (parse_address(&sh, address) != 0)
		goto out;
	if (a.file != NULL && (in = fopen(a.file, "r")) == NULL) {
		fprintf(stderr, "graft-shell: cannot read %s: %s\n", a.file,
			strerror(errno));
		goto out;
	}
	sh.interactive = !a.non_interactive && a.file == NULL &&
			 a.cypher == NULL && isatty(STDIN_FILENO);
	split_init(&sh.split);
	rv = 1;
	if (graft_value_map(&sh.params, 0) != GRAFT_OK)
		goto out_split;
	if (a.change_password) {
		if (connect_shell(&sh) == GRAFT_OK)
			rv = change_password(&sh) == GRAFT_OK ? 0 : 1;
		goto out_client;
	}
	if (start_session(&sh) != GRAFT_OK)
		goto out_client;
	for (i = 0; i < a.nparams; i++)
		if (cmd_param(&sh, (char *)a.params[i]) != GRAFT_OK)
			goto out_client;
	if (a.cypher != NULL)
		rv = run_text(&sh, a.cypher);
	else if (sh.interactive)
		rv = interactive_loop(&sh);
	else
		rv = run_stream(&sh, in != NULL ? in : stdin);
out_client:
	client_close(&sh.c);
out_split:
	split_free(&sh.split);
	graft_value_free(&sh.params);
out:
	if (in != NULL)
		fclose(in);
	free(sh.user);
	free(sh.password);
	return rv;
}
