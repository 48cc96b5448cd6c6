/* The option parser every graft and graft-admin command goes through; the
 * rules are in opt.h. */
#include "opt.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

int admin_opt_bool(const char *prog, const char *opt, const char *val,
		   bool *out)
{
	if (val == NULL || strcasecmp(val, "true") == 0) {
		*out = true;
		return 0;
	}
	if (strcasecmp(val, "false") == 0) {
		*out = false;
		return 0;
	}
	fprintf(stderr, "%s: %s=%s: expected true or false\n", prog, opt, val);
	return -1;
}

static int usage_error(const struct admin_cmd *cmd)
{
	fprintf(stderr, "\n%s", cmd->usage);
	return -1;
}

/* The table entry for argv's "--name[=value]", or NULL; *eq gets the text
 * after '=' (NULL without one). */
static const struct admin_opt *find_opt(const struct admin_cmd *cmd,
					const char *arg, const char **eq)
{
	size_t len = strcspn(arg, "=");

	*eq = arg[len] == '=' ? arg + len + 1 : NULL;
	for (size_t k = 0; k < cmd->n_opts; k++)
		if (strlen(cmd->opts[k].name) == len &&
		    strncmp(cmd->opts[k].name, arg, len) == 0)
			return &cmd->opts[k];
	return NULL;
}

static int store(const struct admin_cmd *cmd, const struct admin_opt *o,
		 const char *val)
{
	if (o->parse != NULL)
		return o->parse(cmd->arg, o->name, val);
	if (o->str != NULL)
		*o->str = val;
	if (o->flag != NULL)
		return admin_opt_bool(cmd->prog, o->name, val, o->flag);
	return 0;
}

/* argv[*i] is an option: finds it, takes its value (perhaps the next
 * argument) and stores it. */
static int one_option(const struct admin_cmd *cmd, int argc, char **argv,
		      int *i)
{
	const char *val;
	const struct admin_opt *o = find_opt(cmd, argv[*i], &val);

	if (o == NULL) {
		fprintf(stderr, "%s: unknown option %s\n", cmd->prog, argv[*i]);
		return usage_error(cmd);
	}
	if (o->takes_value && val == NULL) {
		if (*i + 1 >= argc || strncmp(argv[*i + 1], "--", 2) == 0) {
			fprintf(stderr, "%s: %s needs a value (%s=VALUE)\n",
				cmd->prog, o->name, o->name);
			return usage_error(cmd);
		}
		val = argv[++*i];
	}
	return store(cmd, o, val);
}

static int positional(const struct admin_cmd *cmd, const char *arg)
{
	if (*cmd->n_pos >= cmd->max_pos) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", cmd->prog,
			arg);
		return usage_error(cmd);
	}
	cmd->pos[(*cmd->n_pos)++] = arg;
	return 0;
}

int admin_opt_parse(const struct admin_cmd *cmd, int argc, char **argv)
{
	bool options = true;
	size_t none = 0;
	struct admin_cmd c = *cmd;

	if (c.n_pos == NULL)
		c.n_pos = &none;
	if (c.rest != NULL)
		*c.rest = argc;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		int rv;

		if (options && (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)) {
			fputs(c.usage, stdout);
			return ADMIN_OPT_HELP;
		}
		if (options && strcmp(a, "--") == 0) {
			options = false;
			continue;
		}
		if (options && a[0] == '-' && a[1] != '\0')
			rv = one_option(&c, argc, argv, &i);
		else if (c.rest != NULL) {
			*c.rest = i;
			return 0;
		} else
			rv = positional(&c, a);
		if (rv != 0)
			return -1;
	}
	return 0;
}
