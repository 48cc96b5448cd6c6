/* The configuration store: one parsed value per known setting, loading of
 * neo4j.conf-style files and the typed getters.
 *
 * A file is applied all or nothing: every line is parsed and checked into a
 * pending value per setting first, and only a file without errors replaces
 * the current values. That keeps a config usable after a refused file, and
 * lets aliases of one setting be compared before anything changes. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_int.h"
#include "err.h"
#include "log.h"

#define NEO4J_HOME "server.directories.neo4j_home"
#define STRICT "server.config.strict_validation.enabled"
/* Far above any real configuration; keeps a wrong path (a disk image, a
 * device) from being read into memory whole. */
#define MAX_FILE_SIZE (64u << 20)
/* Shown in messages: enough for any real key or value. */
#define SHOW_MAX 80

struct config_entry {
	struct config_value val;
	bool set;       /* from a file or graft_config_set, not the default */
	char *resolved; /* PATH: absolute (owned), NULL when unset */
};

struct graft_config {
	const struct graft_setting *settings;
	size_t n;
	struct config_entry *e;
};

/* A value read from the file, not yet applied. */
struct pending {
	bool used;
	struct config_value val;
	const char *spelling; /* the key as written (into the file buffer) */
	const char *shown;    /* the value as written */
	int line;
};

/* A getter called with a name or type the table does not have: a bug in
 * the caller, not something a user can fix. */
static __attribute__((noreturn)) void die(const char *name,
					   const char *problem)
{
	fprintf(stderr, "graft_config: %s: %s\n", name, problem);
	abort();
}

static size_t index_of(const struct graft_config *c, const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->settings[i].name, name) == 0)
			return i;
	return SIZE_MAX;
}

/* Copies text for a message: control and non-ASCII bytes as \xNN, and
 * cut to SHOW_MAX characters. */
static void show(char *out, size_t n, const char *text)
{
	size_t o = 0;

	for (const char *p = text; *p != '\0' && o + 8 < n; p++) {
		unsigned char ch = (unsigned char)*p;
		if ((size_t)(p - text) >= SHOW_MAX) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (ch < 0x20 || ch >= 0x7f)
			o += (size_t)snprintf(out + o, n - o, "\\x%02x", ch);
		else
			out[o++] = (char)ch;
	}
	out[o] = '\0';
}

static void where_prefix(char *out, size_t n, const char *where, int line)
{
	if (where == NULL)
		out[0] = '\0';
	else if (line > 0)
		snprintf(out, n, "%s:%d: ", where, line);
	else
		snprintf(out, n, "%s: ", where);
}

/* Absolute form of setting i's value (malloc'd), following its base. */
static char *compute_path(const struct graft_config *c, size_t i)
{
	const struct graft_setting *s = &c->settings[i];
	const char *text = c->e[i].val.text;
	char *base, *out, cwd[4096];
	size_t blen;

	if (text[0] == '/') {
		out = strdup(text);
	} else {
		if (strcmp(s->name, NEO4J_HOME) == 0)
			base = strdup(getcwd(cwd, sizeof cwd) != NULL ? cwd : "/");
		else
			base = compute_path(c, index_of(c, s->base != NULL
								  ? s->base
								  : NEO4J_HOME));
		if (base == NULL)
			return NULL;
		blen = strlen(base);
		out = malloc(blen + strlen(text) + 2);
		if (out != NULL)
			sprintf(out, "%s%s%s", base,
				blen > 0 && base[blen - 1] == '/' ? "" : "/",
				text);
		free(base);
	}
	if (out != NULL)
		for (size_t l = strlen(out); l > 1 && out[l - 1] == '/'; l--)
			out[l - 1] = '\0';
	return out;
}

/* Re-resolves every PATH; keeps the old string when it did not change so
 * that pointers handed out stay valid across unrelated changes. */
static int resolve_paths(struct graft_config *c)
{
	for (size_t i = 0; i < c->n; i++) {
		struct config_entry *e = &c->e[i];
		char *p;

		if (c->settings[i].type != GRAFT_CONFIG_PATH)
			continue;
		if (e->val.text == NULL) {
			free(e->resolved);
			e->resolved = NULL;
			continue;
		}
		p = compute_path(c, i);
		if (p == NULL)
			return GRAFT_ENOMEM;
		if (e->resolved != NULL && strcmp(e->resolved, p) == 0) {
			free(p);
			continue;
		}
		free(e->resolved);
		e->resolved = p;
	}
	return GRAFT_OK;
}

int graft_config_new(struct graft_config **out)
{
	char why[GRAFT_ERRMSG_SIZE];
	const char *home = getenv("GRAFT_HOME");
	struct graft_config *c = calloc(1, sizeof *c);
	size_t h;
	int rv;

	if (c == NULL)
		return GRAFT_ENOMEM;
	c->settings = graft_settings(&c->n);
	c->e = calloc(c->n, sizeof *c->e);
	if (c->e == NULL)
		goto err_after_config;
	for (size_t i = 0; i < c->n; i++) {
		const struct graft_setting *s = &c->settings[i];
		if (s->def == NULL)
			continue;
		rv = config_value_parse(s, s->def, &c->e[i].val, why);
		if (rv == GRAFT_ENOMEM)
			goto err_after_entries;
		if (rv != GRAFT_OK)
			die(s->name, why);
	}
	h = index_of(c, NEO4J_HOME);
	if (home != NULL && *home != '\0') {
		config_value_free(&c->e[h].val);
		if (config_value_parse(&c->settings[h], home, &c->e[h].val,
				       why) != GRAFT_OK)
			goto err_after_entries;
	}
	if (resolve_paths(c) != GRAFT_OK)
		goto err_after_entries;
	*out = c;
	return GRAFT_OK;
err_after_entries:
	graft_config_free(c);
	return GRAFT_ENOMEM;
err_after_config:
	free(c);
	return GRAFT_ENOMEM;
}

void graft_config_free(struct graft_config *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n; i++) {
		config_value_free(&c->e[i].val);
		free(c->e[i].resolved);
	}
	free(c->e);
	free(c);
}

/* Levenshtein distance, case-insensitive; b is at most 127 bytes. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t prev[128], cur[128], m = strlen(b);

	for (size_t j = 0; j <= m; j++)
		prev[j] = j;
	for (size_t i = 1; *a != '\0'; a++, i++) {
		cur[0] = i;
		for (size_t j = 1; j <= m; j++) {
			size_t sub = prev[j - 1] +
				     ((*a | 0x20) != (b[j - 1] | 0x20));
			size_t best = prev[j] + 1 < cur[j - 1] + 1
					      ? prev[j] + 1
					      : cur[j - 1] + 1;
			cur[j] = sub < best ? sub : best;
		}
		memcpy(prev, cur, (m + 1) * sizeof prev[0]);
	}
	return prev[m];
}

/* "; did you mean 'x'?" for the closest known name, or "" if none is
 * close: at most 3 edits and no more than a quarter of the key. */
static void suggest(const char *key, char *out, size_t n)
{
	size_t count, best = SIZE_MAX, klen = strlen(key);
	const struct graft_setting *t = graft_settings(&count);

	out[0] = '\0';
	if (klen > 100)
		return;
	for (size_t i = 0; i < count; i++) {
		const char *p = t[i].name, *list = t[i].aliases;
		char name[128];
		for (;;) {
			size_t len = strcspn(p, " "), d;
			/* Lengths 4 apart are at least 4 edits apart. */
			if (len < sizeof name && len + 3 >= klen &&
			    klen + 3 >= len) {
				memcpy(name, p, len);
				name[len] = '\0';
				d = edit_distance(key, name);
				if (d < best && d <= 3 && d * 4 <= klen) {
					best = d;
					if (p == t[i].name)
						snprintf(out, n,
							 "; did you mean '%s'?",
							 name);
					else
						snprintf(out, n,
							 "; did you mean '%s' "
							 "(now %s)?",
							 name, t[i].name);
				}
			}
			p = p == t[i].name ? list : p + len + (p[len] == ' ');
			if (p == NULL || *p == '\0')
				break;
		}
	}
}

static int unknown_key(const char *key, bool strict, const char *where,
		       int line, char *errmsg)
{
	char pre[300], k[SHOW_MAX * 4 + 8], hint[300];

	where_prefix(pre, sizeof pre, where, line);
	show(k, sizeof k, key);
	suggest(key, hint, sizeof hint);
	if (strict)
		return graft_errf(errmsg, GRAFT_ECONFIG,
				  "%sunknown setting '%s'%s%s", pre, k, hint,
				  hint[0] != '\0'
					  ? ""
					  : "; see docs/configuration.md for "
					    "the settings graft knows, or set "
					    STRICT "=false to only warn");
	graft_warn("%signoring unknown setting '%s'%s (" STRICT "=false)", pre,
		   k, hint);
	return GRAFT_OK;
}

static int bad_value(const char *key, const char *value, const char *why,
		     const char *where, int line, char *errmsg, int rv)
{
	char pre[300], k[SHOW_MAX * 4 + 8], v[SHOW_MAX * 4 + 8];
	const char *hint = strstr(value, " #") != NULL || strstr(value, "\t#")
				   ? " (a # starts a comment only at the "
				     "start of a line)"
				   : "";

	where_prefix(pre, sizeof pre, where, line);
	show(k, sizeof k, key);
	show(v, sizeof v, value);
	return graft_errf(errmsg, rv, "%s%s=%s: %s%s", pre, k, v, why, hint);
}

/* The value of a family (config.h) with the line of key's member set to
 * value, from old (NULL: none): into *out, which the caller frees. */
static int family_text(const char *old, const char *key, const char *value,
		       char **out)
{
	const char *member = strrchr(key, '.') + 1, *p = old;
	size_t mlen = strlen(member), len;
	char *t = malloc((old != NULL ? strlen(old) : 0) + mlen +
			 strlen(value) + 3);
	char *w = t;

	if (t == NULL)
		return GRAFT_ENOMEM;
	while (p != NULL && *p != '\0') {
		len = strcspn(p, "\n") + (p[strcspn(p, "\n")] == '\n');
		if (strncmp(p, member, mlen) != 0 || p[mlen] != '=') {
			memcpy(w, p, len);
			w += len;
		}
		p += len;
	}
	sprintf(w, "%s=%s\n", member, value);
	*out = t;
	return GRAFT_OK;
}

/* Parses value for key of s into *v; a family member's value is merged
 * into the family's text old. */
static int parse_for_key(const struct graft_setting *s, const char *key,
			 const char *value, const char *old,
			 struct config_value *v, char *why)
{
	char *merged;
	int rv;

	if (!graft_setting_family(s))
		return config_value_parse(s, value, v, why);
	if (family_text(old, key, value, &merged) != GRAFT_OK)
		return graft_errf(why, GRAFT_ENOMEM, "out of memory");
	rv = config_value_parse(s, merged, v, why);
	free(merged);
	return rv;
}

static bool strict_now(const struct graft_config *c)
{
	return c->e[index_of(c, STRICT)].val.v.b;
}

int graft_config_set(struct graft_config *c, const char *key,
		     const char *value, const char *where, int line,
		     char *errmsg)
{
	char why[GRAFT_ERRMSG_SIZE];
	const struct graft_setting *s = graft_setting_find(key);
	struct config_entry *e;
	struct config_value v;
	int rv;

	if (s == NULL)
		return unknown_key(key, strict_now(c), where, line, errmsg);
	e = &c->e[s - c->settings];
	rv = parse_for_key(s, key, value, e->val.text, &v, why);
	if (rv != GRAFT_OK)
		return bad_value(key, value, why, where, line, errmsg, rv);
	config_value_free(&e->val);
	e->val = v;
	e->set = true;
	if (resolve_paths(c) != GRAFT_OK)
		return graft_errf(errmsg, GRAFT_ENOMEM,
				  "out of memory resolving paths");
	return GRAFT_OK;
}

static int read_file(const char *path, char **out, size_t *len, char *errmsg)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap + 1);
	struct stat st;
	int fd, e;

	if (buf == NULL)
		return graft_errf(errmsg, GRAFT_ENOMEM, "out of memory");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		goto err_io;
	if (fstat(fd, &st) != 0)
		goto err_io;
	if (S_ISDIR(st.st_mode)) {
		errno = EISDIR;
		goto err_io;
	}
	for (;;) {
		ssize_t r;
		if (n == cap) {
			char *b;
			if (cap >= MAX_FILE_SIZE) {
				close(fd);
				free(buf);
				return graft_errf(errmsg, GRAFT_ECONFIG,
						  "%s: larger than %u MiB; not "
						  "a configuration file",
						  path, MAX_FILE_SIZE >> 20);
			}
			b = realloc(buf, cap * 2 + 1);
			if (b == NULL) {
				close(fd);
				free(buf);
				return graft_errf(errmsg, GRAFT_ENOMEM,
						  "out of memory reading %s",
						  path);
			}
			buf = b;
			cap *= 2;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto err_io;
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return GRAFT_OK;
err_io:
	e = errno;
	if (fd >= 0)
		close(fd);
	free(buf);
	return graft_errf(errmsg, GRAFT_EIO,
			  "cannot read configuration file %s: %s", path,
			  strerror(e));
}

/* The next line of buf as a NUL-terminated string, blanks (and a CR)
 * trimmed; *nul tells whether the line held a NUL byte. */
static char *next_line(char **cursor, char *end, bool *nul)
{
	char *p = *cursor, *nl = memchr(p, '\n', (size_t)(end - p)), *e;

	if (nl == NULL)
		nl = end;
	*nul = memchr(p, '\0', (size_t)(nl - p)) != NULL;
	*nl = '\0';
	*cursor = nl < end ? nl + 1 : end;
	e = nl;
	while (e > p && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* Splits "key = value" in place; NULL value if there is no '='. */
static void split_setting(char *line, char **key, char **value)
{
	char *eq = strchr(line, '='), *k;

	*key = line;
	*value = NULL;
	if (eq == NULL)
		return;
	for (k = eq; k > line && (k[-1] == ' ' || k[-1] == '\t'); k--)
		;
	*k = '\0';
	*value = eq + 1;
	while (**value == ' ' || **value == '\t')
		(*value)++;
}

/* Neo4j reads server.config.strict_validation.enabled before anything else,
 * wherever it is in the file. A bad value is left to the main pass. */
static bool prescan_strict(const struct graft_config *c, const char *buf,
			   size_t len)
{
	static const char *const names[] = {STRICT,
					    "dbms.config.strict_validation"};
	bool strict = strict_now(c);
	const char *p = buf, *end = buf + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl != NULL ? nl : end;
		for (size_t i = 0; i < 2; i++) {
			size_t n = strlen(names[i]);
			const char *q = p, *v;
			while (q < le && (*q == ' ' || *q == '\t'))
				q++;
			if ((size_t)(le - q) <= n || memcmp(q, names[i], n) != 0)
				continue;
			for (q += n; q < le && (*q == ' ' || *q == '\t'); q++)
				;
			if (q == le || *q != '=')
				continue;
			for (v = q + 1; v < le && (*v == ' ' || *v == '\t');
			     v++)
				;
			for (q = le; q > v && (q[-1] == ' ' || q[-1] == '\t' ||
					       q[-1] == '\r');
			     q--)
				;
			if (q - v == 4 && strncasecmp(v, "true", 4) == 0)
				strict = true;
			else if (q - v == 5 && strncasecmp(v, "false", 5) == 0)
				strict = false;
		}
		p = le + 1;
	}
	return strict;
}

/* One key=value of a file into pending, refusing conflicting aliases. */
static int stage(struct graft_config *c, struct pending *pend,
		 const char *path, int line, const char *key,
		 const char *value, bool strict, char *errmsg)
{
	char why[GRAFT_ERRMSG_SIZE], pre[300], k1[SHOW_MAX * 4 + 8],
		v1[SHOW_MAX * 4 + 8], k2[SHOW_MAX * 4 + 8], v2[SHOW_MAX * 4 + 8];
	const struct graft_setting *s = graft_setting_find(key);
	struct config_value v;
	struct pending *p;
	int rv;

	if (s == NULL)
		return unknown_key(key, strict, path, line, errmsg);
	p = &pend[s - c->settings];
	rv = parse_for_key(s, key, value,
			   p->used ? p->val.text : c->e[s - c->settings].val.text,
			   &v, why);
	if (rv != GRAFT_OK)
		return bad_value(key, value, why, path, line, errmsg, rv);
	if (p->used && strcmp(p->spelling, key) != 0 &&
	    !graft_setting_family(s) &&
	    !config_value_equal(s, &p->val, &v)) {
		config_value_free(&v);
		where_prefix(pre, sizeof pre, path, line);
		show(k1, sizeof k1, p->spelling);
		show(v1, sizeof v1, p->shown);
		show(k2, sizeof k2, key);
		show(v2, sizeof v2, value);
		return graft_errf(errmsg, GRAFT_ECONFIG,
				  "%s%s=%s conflicts with %s=%s on line %d: "
				  "both set %s; keep one of the two lines",
				  pre, k2, v2, k1, v1, p->line, s->name);
	}
	config_value_free(&p->val);
	p->used = true;
	p->val = v;
	p->spelling = key;
	p->shown = value;
	p->line = line;
	return GRAFT_OK;
}

/* One line of a file into pending; "" and comments stage nothing. */
static int stage_line(struct graft_config *c, struct pending *pend,
		      const char *path, int lineno, char *line, bool nul,
		      bool strict, char *errmsg)
{
	char shown[SHOW_MAX * 4 + 8], *key, *value;

	if (nul)
		return graft_errf(errmsg, GRAFT_ECONFIG,
				  "%s:%d: the line holds a NUL byte; a "
				  "configuration file is text",
				  path, lineno);
	if (*line == '\0' || *line == '#')
		return GRAFT_OK;
	split_setting(line, &key, &value);
	if (value == NULL) {
		show(shown, sizeof shown, line);
		return graft_errf(errmsg, GRAFT_ECONFIG,
				  "%s:%d: '%s' is not a setting; allowed: "
				  "key=value, a # comment or a blank line",
				  path, lineno, shown);
	}
	if (*key == '\0')
		return graft_errf(errmsg, GRAFT_ECONFIG,
				  "%s:%d: no setting name before '='; "
				  "allowed: key=value",
				  path, lineno);
	return stage(c, pend, path, lineno, key, value, strict, errmsg);
}

/* Stages every line of buf; with report, an error is reported and the next
 * line read, else it ends the parse. *n_errors counts them. Returns the
 * first error (errmsg tells it), GRAFT_ENOMEM ending the parse always. */
static int stage_all(struct graft_config *c, struct pending *pend,
		     const char *path, char *buf, size_t len,
		     graft_config_report_fn report, void *arg, int *n_errors,
		     char *errmsg)
{
	char msg[GRAFT_ERRMSG_SIZE], *cursor = buf, *end = buf + len, *line;
	bool strict = prescan_strict(c, buf, len), nul;
	int lineno = 0, first = GRAFT_OK, rv;

	/* A UTF-8 byte order mark, as some editors write. */
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		cursor += 3;
	while (cursor < end) {
		line = next_line(&cursor, end, &nul);
		rv = stage_line(c, pend, path, ++lineno, line, nul, strict, msg);
		if (rv == GRAFT_OK)
			continue;
		if ((*n_errors)++ == 0) {
			first = rv;
			memcpy(errmsg, msg, GRAFT_ERRMSG_SIZE);
		}
		if (rv == GRAFT_ENOMEM)
			return rv;
		if (report == NULL)
			break;
		report(arg, msg);
	}
	return first;
}

/* Reads and stages path; applies what was staged when the file had no
 * error, or when keep_valid the valid lines of a file with errors. */
static int load_file(struct graft_config *c, const char *path,
		     graft_config_report_fn report, void *arg, bool keep_valid,
		     int *n_errors, char *errmsg)
{
	char *buf = NULL;
	struct pending *pend;
	size_t len = 0;
	bool apply;
	int rv = read_file(path, &buf, &len, errmsg);

	*n_errors = 0;
	if (rv != GRAFT_OK)
		return rv;
	pend = calloc(c->n, sizeof *pend);
	if (pend == NULL) {
		free(buf);
		return graft_errf(errmsg, GRAFT_ENOMEM, "out of memory");
	}
	rv = stage_all(c, pend, path, buf, len, report, arg, n_errors, errmsg);
	apply = rv == GRAFT_OK || (keep_valid && rv != GRAFT_ENOMEM);
	for (size_t i = 0; i < c->n; i++) {
		if (!pend[i].used)
			continue;
		if (apply) {
			config_value_free(&c->e[i].val);
			c->e[i].val = pend[i].val;
			c->e[i].set = true;
		} else {
			config_value_free(&pend[i].val);
		}
	}
	free(pend);
	free(buf);
	if (apply && resolve_paths(c) != GRAFT_OK)
		return graft_errf(errmsg, GRAFT_ENOMEM,
				  "out of memory resolving paths");
	return rv;
}

int graft_config_load(struct graft_config *c, const char *path, char *errmsg)
{
	int n;

	return load_file(c, path, NULL, NULL, false, &n, errmsg);
}

int graft_config_load_all(struct graft_config *c, const char *path,
			  graft_config_report_fn report, void *arg,
			  int *n_errors, char *errmsg)
{
	char first[GRAFT_ERRMSG_SIZE];
	int rv = load_file(c, path, report, arg, true, n_errors, first);

	/* errors in lines were reported: only a file that could not be read
	 * at all (or no memory) fails the call */
	if (rv == GRAFT_ENOMEM || (rv != GRAFT_OK && *n_errors == 0)) {
		memcpy(errmsg, first, GRAFT_ERRMSG_SIZE);
		return rv;
	}
	return GRAFT_OK;
}

static const struct config_entry *entry(const struct graft_config *c,
					const char *name,
					enum graft_config_type type)
{
	size_t i = index_of(c, name);

	if (i == SIZE_MAX)
		die(name, "no such setting");
	if (c->settings[i].type != type)
		die(name, "read with a getter of another type");
	return &c->e[i];
}

const char *graft_config_string(const struct graft_config *c, const char *name)
{
	size_t i = index_of(c, name);

	if (i == SIZE_MAX)
		die(name, "no such setting");
	return c->e[i].val.text;
}

const char *graft_config_path(const struct graft_config *c, const char *name)
{
	return entry(c, name, GRAFT_CONFIG_PATH)->resolved;
}

bool graft_config_bool(const struct graft_config *c, const char *name)
{
	return entry(c, name, GRAFT_CONFIG_BOOL)->val.v.b;
}

int64_t graft_config_int(const struct graft_config *c, const char *name)
{
	const struct config_entry *e = entry(c, name, GRAFT_CONFIG_INT);

	return e->val.text != NULL ? e->val.v.i : 0;
}

uint64_t graft_config_size(const struct graft_config *c, const char *name)
{
	const struct config_entry *e = entry(c, name, GRAFT_CONFIG_SIZE);

	return e->val.text != NULL ? e->val.v.u : 0;
}

uint64_t graft_config_duration_ms(const struct graft_config *c,
				  const char *name)
{
	const struct config_entry *e = entry(c, name, GRAFT_CONFIG_DURATION);

	return e->val.text != NULL ? e->val.v.u : 0;
}

void graft_config_duration_range_ms(const struct graft_config *c,
				    const char *name, uint64_t *min_ms,
				    uint64_t *max_ms)
{
	const struct config_entry *e =
		entry(c, name, GRAFT_CONFIG_DURATION_RANGE);

	*min_ms = e->val.v.range.lo;
	*max_ms = e->val.v.range.hi;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

void graft_config_address(const struct graft_config *c, const char *name,
			  struct graft_address *out)
{
	const struct config_entry *e = entry(c, name, GRAFT_CONFIG_ADDRESS);
	const char *host = e->val.v.addr.host;
	int port = e->val.v.addr.port;
	bool advertised = ends_with(name, ".advertised_address");
	char def_host[GRAFT_ADDRESS_HOST_MAX + 1], listen[128];

	if (host[0] == '\0')
		host = entry(c, advertised ? "server.default_advertised_address"
					   : "server.default_listen_address",
			     GRAFT_CONFIG_HOST)
			       ->val.v.addr.host;
	snprintf(out->host, sizeof out->host, "%s", host);
	/* Neo4j: an advertised address follows its listen address's port
	 * unless it names a port of its own. */
	if (advertised && (!e->set || port < 0)) {
		size_t stem = strlen(name) - strlen("advertised_address");
		snprintf(listen, sizeof listen, "%.*slisten_address", (int)stem,
			 name);
		if (index_of(c, listen) != SIZE_MAX) {
			struct graft_address l;
			graft_config_address(c, listen, &l);
			out->port = l.port;
			return;
		}
	}
	if (port < 0 &&
	    graft_address_split(c->settings[e - c->e].def,
				GRAFT_ADDRESS_PORT_OPTIONAL, def_host, &port,
				NULL) != GRAFT_OK)
		die(name, "bad default address in settings.c");
	out->port = (uint16_t)(port < 0 ? 0 : port);
}

size_t graft_config_address_list(const struct graft_config *c,
				 const char *name, struct graft_address *out,
				 size_t max)
{
	const struct config_entry *e =
		entry(c, name, GRAFT_CONFIG_ADDRESS_LIST);

	return config_address_list_parse(e->val.text, c->settings[e - c->e].port,
					 out, max);
}

void graft_config_retention(const struct graft_config *c, const char *name,
			    struct graft_retention *out)
{
	*out = entry(c, name, GRAFT_CONFIG_RETENTION)->val.v.retention;
}

bool graft_config_is_set(const struct graft_config *c, const char *name)
{
	size_t i = index_of(c, name);

	if (i == SIZE_MAX)
		die(name, "no such setting");
	return c->e[i].set;
}

size_t graft_config_warn_inert(const struct graft_config *c)
{
	size_t n = 0;

	for (size_t i = 0; i < c->n; i++) {
		const char *v = c->e[i].val.text;

		if (!c->e[i].set || !graft_setting_inert(&c->settings[i]) ||
		    v == NULL || strcasecmp(v, "false") == 0 ||
		    strcasecmp(v, "OFF") == 0)
			continue;
		graft_warn("%s=%s is accepted but not yet acted on by graft: it "
			   "changes nothing (see docs/configuration.md)",
			   c->settings[i].name, v);
		n++;
	}
	return n;
}

const char *graft_config_choose(const char *explicit_path, bool *must_exist)
{
	const char *env = getenv("GRAFT_CONF");

	*must_exist = true;
	if (explicit_path != NULL)
		return explicit_path;
	if (env != NULL && *env != '\0')
		return env;
	*must_exist = false;
	return GRAFT_SYSCONFDIR "/graft/graft.conf";
}
