/* The installed graft.conf: every setting of the table, commented out with
 * its default, what it accepts and its older names, grouped by prefix. */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "config_int.h"
#include "err.h"

static const char header[] =
	"# graft.conf: configuration of the graft server, in neo4j.conf "
	"syntax.\n"
	"#\n"
	"# One setting per line as key=value; a line starting with # is a "
	"comment.\n"
	"# Every setting graft knows is listed below, commented out, with its\n"
	"# default. Uncomment a line and change its value to override it. "
	"Neo4j\n"
	"# 3.x/4.x names are accepted as well (\"older names\"). Relative "
	"paths\n"
	"# resolve against server.directories.neo4j_home. Unknown settings "
	"stop\n"
	"# the server unless server.config.strict_validation.enabled=false.\n"
	"# Reference: docs/configuration.md\n";

/* Whether some setting's name continues name with a dot (db.checkpoint
 * has db.checkpoint.interval.time). */
static bool has_children(const struct graft_setting *t, size_t n,
			 const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; i < n; i++)
		if (strncmp(t[i].name, name, len) == 0 && t[i].name[len] == '.')
			return true;
	return false;
}

/* The prefix a setting is grouped under: its first two name components
 * (four for an SSL policy); a shorter name joins its first component's
 * group unless it heads a group of its own. */
static size_t group_len(const struct graft_setting *t, size_t n,
			const char *name)
{
	size_t want = strncmp(name, "dbms.ssl.policy.", 16) == 0 ? 4 : 2;
	size_t dots = 0, cut[4] = {0};

	for (const char *p = name; *p != '\0'; p++)
		if (*p == '.' && dots++ < 4)
			cut[dots - 1] = (size_t)(p - name);
	if (dots == 0 || (dots < want && has_children(t, n, name)))
		return strlen(name);
	return dots < want ? cut[0] : cut[want - 1];
}

static void write_setting(FILE *f, const struct graft_setting *s)
{
	char allowed[GRAFT_ERRMSG_SIZE];

	config_allowed(s, allowed, sizeof allowed);
	fprintf(f, "\n# %s\n", s->doc);
	if (graft_setting_inert(s))
		fputs("# Accepted, not yet acted on: setting it changes nothing "
		      "(graftd warns).\n", f);
	if (s->type != GRAFT_CONFIG_STRING)
		fprintf(f, "# %s\n", allowed);
	if (s->aliases != NULL) {
		fputs("# Older names: ", f);
		for (const char *p = s->aliases; *p != '\0'; p++) {
			if (*p == ' ')
				fputs(", ", f);
			else
				fputc(*p, f);
		}
		fputc('\n', f);
	}
	fprintf(f, "#%s%s=%s\n", s->name,
		graft_setting_family(s) ? "<name>" : "",
		s->def != NULL ? s->def : "");
}

int graft_config_write_template(const char *path, char *errmsg)
{
	size_t n, glen = 0;
	const struct graft_setting *t = graft_settings(&n);
	const char *group = "";
	FILE *f = fopen(path, "w");
	int failed;

	if (f == NULL)
		return graft_errf(errmsg, GRAFT_EIO, "cannot write %s: %s", path,
				  strerror(errno));
	fputs(header, f);
	for (size_t i = 0; i < n; i++) {
		size_t l = group_len(t, n, t[i].name);
		if (l != glen || strncmp(group, t[i].name, l) != 0) {
			group = t[i].name;
			glen = l;
			fprintf(f, "\n#%.78s\n# %.*s\n#%.78s\n",
				"*****************************************"
				"*****************************************",
				(int)l, group,
				"*****************************************"
				"*****************************************");
		}
		write_setting(f, &t[i]);
	}
	failed = ferror(f);
	if (fclose(f) != 0 || failed)
		return graft_errf(errmsg, GRAFT_EIO, "cannot write %s: %s", path,
				  strerror(errno));
	return GRAFT_OK;
}
