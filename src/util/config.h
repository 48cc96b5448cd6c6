/* neo4j.conf-style configuration: key=value lines, # comments, the last of a
 * repeated key wins. Every known setting is described once in settings.c with
 * its type, default and aliases (the 5.x name is canonical; 3.x/4.x spellings
 * map onto it). Bad input is refused with file, line, key, value and what is
 * allowed. */
#ifndef GRAFT_UTIL_CONFIG_H
#define GRAFT_UTIL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "address.h"
#include "retention.h"

enum graft_config_type {
	GRAFT_CONFIG_STRING,
	GRAFT_CONFIG_PATH,      /* relative paths resolve against server.directories.neo4j_home */
	GRAFT_CONFIG_BOOL,      /* true|false */
	GRAFT_CONFIG_INT,       /* decimal, within [min, max] */
	GRAFT_CONFIG_SIZE,      /* bytes: 1024, 250M, 1g, 512KiB, 2GB */
	GRAFT_CONFIG_DURATION,  /* ms: 500ms, 20s, 15m, 2h, 1d; bare number = seconds */
	GRAFT_CONFIG_ADDRESS,   /* host:port, :port, host */
	GRAFT_CONFIG_ENUM,      /* one of allowed, "A|B|C", case-insensitive */
	GRAFT_CONFIG_RETENTION, /* db.tx_log.rotation.retention_policy grammar */
	GRAFT_CONFIG_HOST,      /* a host name or IP address, no port */
	GRAFT_CONFIG_ADDRESS_LIST, /* comma-separated host[:port], port default .port */
	GRAFT_CONFIG_DURATION_RANGE, /* <min>-<max> durations (20s-23s); one = both */
};

/* A setting whose name (and aliases) end in '.' is a family: every key
 * <name><member>=<value> belongs to it, and its value is the text of all
 * its members, one "<member>=<value>" line each (a member set again
 * replaces its line): e.g. the load-balancing policies by name. */
struct graft_setting {
	const char *name;     /* canonical (5.x) name */
	const char *aliases;  /* space-separated older names, or NULL */
	enum graft_config_type type;
	const char *def;      /* default as text (NULL: unset) */
	const char *allowed;  /* ENUM: "A|B|C" */
	int64_t min, max;     /* INT, SIZE, DURATION bounds (0,0: none;
			       * otherwise max 0: no upper bound) */
	const char *doc;      /* one line for graft.conf and docs */
	const char *base;     /* PATH: the PATH setting a relative value
			       * resolves against (NULL: neo4j_home) */
	uint16_t port;        /* ADDRESS_LIST: port of an element without one */
};

struct graft_config;

/* A config holding every setting's default. GRAFT_OK or GRAFT_ENOMEM. */
int graft_config_new(struct graft_config **out);
void graft_config_free(struct graft_config *c);

/* Loads path over the current values. Unknown keys are errors unless
 * server.config.strict_validation.enabled=false (in the file or already set),
 * then warnings (logged). A canonical key and an alias of it both present
 * with different values is an error. GRAFT_ECONFIG / GRAFT_EIO + errmsg of
 * the form "<file>:<line>: <key>=<value>: <what is allowed>". */
int graft_config_load(struct graft_config *c, const char *path, char *errmsg);
/* Called with each error of a file, formatted as graft_config_load's. */
typedef void (*graft_config_report_fn)(void *arg, const char *msg);
/* Loads path as graft_config_load does, but reads on past a bad line: every
 * error goes to report and *n_errors counts them, and the valid lines are
 * applied (so that service control can find the pid file through a file
 * with a typo, and validate-config can list every error). GRAFT_OK unless
 * the file cannot be read (or memory runs out): then errmsg says why. */
int graft_config_load_all(struct graft_config *c, const char *path,
			  graft_config_report_fn report, void *arg,
			  int *n_errors, char *errmsg);
/* Sets one key (canonical or alias) from text, as if read at where:line. */
int graft_config_set(struct graft_config *c, const char *key,
		     const char *value, const char *where, int line,
		     char *errmsg);

/* Typed getters by canonical name; the setting must exist with that type
 * (a programming error otherwise, which aborts). */
/* Any type: the value as text, canonicalised (ENUM in its allowed spelling,
 * BOOL lower case); NULL if unset without a default. */
const char *graft_config_string(const struct graft_config *c, const char *name);
/* PATH: absolute, resolved against server.directories.neo4j_home. */
const char *graft_config_path(const struct graft_config *c, const char *name);
bool graft_config_bool(const struct graft_config *c, const char *name);
int64_t graft_config_int(const struct graft_config *c, const char *name);
uint64_t graft_config_size(const struct graft_config *c, const char *name);
uint64_t graft_config_duration_ms(const struct graft_config *c,
				  const char *name);
/* ADDRESS: a missing host is taken from server.default_listen_address
 * (server.default_advertised_address for *.advertised_address); a missing
 * port is the default's. An advertised address that is unset or has no port
 * takes the port of its listen address, as in Neo4j. */
void graft_config_address(const struct graft_config *c, const char *name,
			  struct graft_address *out);
/* ADDRESS_LIST: fills up to max elements of out; returns how many the list
 * holds (may exceed max). */
size_t graft_config_address_list(const struct graft_config *c,
				 const char *name, struct graft_address *out,
				 size_t max);
/* DURATION_RANGE: both bounds in ms. */
void graft_config_duration_range_ms(const struct graft_config *c,
				    const char *name, uint64_t *min_ms,
				    uint64_t *max_ms);
void graft_config_retention(const struct graft_config *c, const char *name,
			    struct graft_retention *out);
/* Whether the value came from a file or graft_config_set (not a default). */
bool graft_config_is_set(const struct graft_config *c, const char *name);

/* The table of every known setting (settings.c). */
const struct graft_setting *graft_settings(size_t *n);
/* Whether s is a family of settings (see struct graft_setting). */
bool graft_setting_family(const struct graft_setting *s);
/* The setting a key names, canonical or alias; NULL if unknown. */
const struct graft_setting *graft_setting_find(const char *key);

/* Whether graft accepts the setting without acting on it yet (settings.c
 * lists them). */
bool graft_setting_inert(const struct graft_setting *s);
/* Logs a warning naming each inert setting the configuration sets to
 * something that asks for an effect (anything but false or OFF); returns
 * how many. */
size_t graft_config_warn_inert(const struct graft_config *c);

/* Writes a graft.conf with every setting commented out and its default
 * shown (what `make install` installs). */
int graft_config_write_template(const char *path, char *errmsg);

/* The config file to use: explicit (--config) if not NULL, else $GRAFT_CONF,
 * else the built-in default <sysconfdir>/graft/graft.conf. Also reports
 * whether the file must exist (explicit choices must; the default may be
 * absent, and then the embedded defaults apply). */
const char *graft_config_choose(const char *explicit_path, bool *must_exist);

#endif
