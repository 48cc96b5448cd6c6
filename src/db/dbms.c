/* The databases of one server. The first start (no <data>/dbms yet) lays
 * out the directories of `system` and the default database, and creates
 * <data>/dbms last, so that a start cut short is simply a first start again.
 * Every start opens each directory under <data>/databases, in name order. */
#define _GNU_SOURCE /* d_type */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../util/check.h"
#include "../util/fs.h"

#include "dbms_int.h"

static int path_join(char *out, const char *a, const char *b, char *errmsg)
{
	if (graft_path_join(out, 4096, a, b) != GRAFT_OK)
		return graft_errf(errmsg, GRAFT_ETOOBIG,
				  "path %s/%s is too long", a, b);
	return GRAFT_OK;
}

static int first_start(const char *data, const char *databases,
		       const char *default_db, char *errmsg)
{
	char dir[4096], marker[4096];
	struct stat st;
	int rv;

	rv = path_join(marker, data, "dbms", errmsg);
	if (rv != GRAFT_OK)
		return rv;
	if (stat(marker, &st) == 0)
		return GRAFT_OK;
	if (errno != ENOENT)
		return graft_errf(errmsg, graft_err_from_errno(errno),
				  "cannot examine %s: %s", marker,
				  strerror(errno));
	rv = path_join(dir, databases, default_db, errmsg);
	if (rv == GRAFT_OK)
		rv = graft_mkdir_p(dir, errmsg);
	if (rv == GRAFT_OK)
		rv = graft_fsync_dir(databases, errmsg);
	if (rv == GRAFT_OK)
		rv = graft_mkdir_p(marker, errmsg);
	if (rv == GRAFT_OK)
		rv = graft_fsync_dir(data, errmsg);
	return rv;
}

static int is_database(const struct dirent *e)
{
	return e->d_name[0] != '.' &&
	       (e->d_type == DT_DIR || e->d_type == DT_UNKNOWN);
}

/* g: the store's checkpoint already loaded (at cp_txid; taken), or NULL. */
static int open_loaded(uv_loop_t *loop, const struct dbms_options *o,
		       const char *databases, const char *txlog_root,
		       const char *name, struct graph *g, uint64_t cp_txid,
		       struct db **out, char *errmsg)
{
	char store[4096], txlog[4096];
	struct db_options dbo = o->db;
	struct stat st;
	int rv;

	*out = NULL;
	rv = path_join(store, databases, name, errmsg);
	if (rv == GRAFT_OK)
		rv = path_join(txlog, txlog_root, name, errmsg);
	/* d_type may be unknown on some file systems. */
	if (rv != GRAFT_OK || stat(store, &st) != 0 || !S_ISDIR(st.st_mode)) {
		if (g != NULL)
			graph_free(g);
		return rv;
	}
	dbo.name = name;
	dbo.store_dir = store;
	dbo.txlog_dir = txlog;
	return g != NULL ? db_open_loaded(loop, &dbo, g, cp_txid, out, errmsg)
			 : db_open(loop, &dbo, out, errmsg);
}

static int open_one(uv_loop_t *loop, const struct dbms_options *o,
		    const char *databases, const char *txlog_root,
		    const char *name, struct db **out, char *errmsg)
{
	return open_loaded(loop, o, databases, txlog_root, name, NULL, 0, out,
			   errmsg);
}

static void free_dbms(struct dbms *m)
{
	pthread_mutex_destroy(&m->list_mu);
	free(m->origins);
	free(m->dbs);
	free(m->default_db);
	free(m);
}

int dbms_open(uv_loop_t *loop, const struct dbms_options *o, struct dbms **out,
	      char *errmsg)
{
	const char *default_db = o->default_db ? o->default_db : DBMS_DEFAULT_DB;
	char databases[4096], txlog_root[4096], system_dir[4096];
	struct dirent **names = NULL;
	struct dbms *m;
	int n = 0, rv;

	m = calloc(1, sizeof *m);
	if (m == NULL)
		return graft_errf(errmsg, GRAFT_ENOMEM, "out of memory");
	pthread_mutex_init(&m->list_mu, NULL);
	m->default_db = strdup(default_db);
	if (m->default_db == NULL) {
		rv = graft_errf(errmsg, GRAFT_ENOMEM, "out of memory");
		goto err_after_alloc;
	}
	rv = path_join(databases, o->data_dir, "databases", errmsg);
	if (rv == GRAFT_OK && o->txlog_root != NULL &&
	    (size_t)snprintf(txlog_root, sizeof txlog_root, "%s",
			     o->txlog_root) >= sizeof txlog_root)
		rv = graft_errf(errmsg, GRAFT_ETOOBIG, "path %s is too long",
				o->txlog_root);
	else if (rv == GRAFT_OK && o->txlog_root == NULL)
		rv = path_join(txlog_root, o->data_dir, "transactions", errmsg);
	if (rv == GRAFT_OK)
		rv = path_join(system_dir, databases, DBMS_SYSTEM_DB, errmsg);
	/* system always exists; the default database only from the first
	 * start on (it may be dropped later). */
	if (rv == GRAFT_OK)
		rv = graft_mkdir_p(system_dir, errmsg);
	if (rv == GRAFT_OK)
		rv = first_start(o->data_dir, databases, default_db, errmsg);
	if (rv != GRAFT_OK)
		goto err_after_alloc;
	m->loop = loop;
	m->o = *o;
	memcpy(m->databases, databases, sizeof m->databases);
	memcpy(m->txlog_root, txlog_root, sizeof m->txlog_root);
	rv = dbms_origins_load(m, o->data_dir, errmsg);
	if (rv != GRAFT_OK)
		goto err_after_alloc;
	n = scandir(databases, &names, is_database, alphasort);
	if (n < 0) {
		rv = graft_errf(errmsg, graft_err_from_errno(errno),
				"cannot list %s: %s", databases,
				strerror(errno));
		goto err_after_alloc;
	}
	m->dbs = calloc((size_t)n + 1, sizeof *m->dbs);
	if (m->dbs == NULL) {
		rv = graft_errf(errmsg, GRAFT_ENOMEM, "out of memory");
		goto err_after_scan;
	}
	for (int i = 0; i < n; i++) {
		rv = open_one(loop, o, databases, txlog_root, names[i]->d_name,
			      &m->dbs[m->n], errmsg);
		if (rv != GRAFT_OK)
			goto err_after_open;
		if (m->dbs[m->n] != NULL) /* NULL: not a directory */
			m->n++;
	}
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	*out = m;
	return GRAFT_OK;

err_after_open:
	/* Those opened close on the loop; the caller runs it to let them. */
	for (size_t i = 0; i < m->n; i++)
		db_close(m->dbs[i], NULL, NULL);
err_after_scan:
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
err_after_alloc:
	free_dbms(m);
	return rv;
}

static void db_closed_cb(void *arg)
{
	struct dbms *m = arg;
	void (*cb)(void *arg) = m->close_cb;
	void *cb_arg = m->close_arg;

	if (--m->closing > 0)
		return;
	free_dbms(m);
	if (cb != NULL)
		cb(cb_arg);
}

void dbms_maybe_close(struct dbms *m)
{
	if (!m->close_waiting || m->entries_queued > 0 ||
	    m->replaces_queued > 0)
		return;
	m->close_waiting = false;
	dbms_entries_free(m);
	m->closing = m->n;
	for (size_t i = 0; i < m->n; i++)
		db_close(m->dbs[i], db_closed_cb, m);
}

/* Entries still waiting for the gate apply first: they are committed. */
void dbms_close(struct dbms *m, void (*cb)(void *arg), void *arg)
{
	GRAFT_CHECK(m->n > 0); /* system is always there */
	m->close_cb = cb;
	m->close_arg = arg;
	m->close_waiting = true;
	dbms_maybe_close(m);
}

struct db *dbms_get(struct dbms *m, const char *name)
{
	struct db *db = NULL;

	pthread_mutex_lock(&m->list_mu);
	for (size_t i = 0; i < m->n && db == NULL; i++)
		if (strcmp(db_name(m->dbs[i]), name) == 0)
			db = m->dbs[i];
	pthread_mutex_unlock(&m->list_mu);
	return db;
}

uint64_t dbms_generation(struct dbms *m)
{
	return __atomic_load_n(&m->gen, __ATOMIC_ACQUIRE);
}

/* Under list_mu, before the list changes. */
static void list_changing(struct dbms *m)
{
	__atomic_store_n(&m->gen, m->gen + 1, __ATOMIC_SEQ_CST);
}

const char *dbms_default_db(const struct dbms *m)
{
	return m->default_db;
}

const char *dbms_data_dir(const struct dbms *m)
{
	return m->o.data_dir;
}

size_t dbms_list(struct dbms *m, struct db **out, size_t max)
{
	size_t n;

	pthread_mutex_lock(&m->list_mu);
	n = m->n;
	for (size_t i = 0; i < n && i < max; i++)
		out[i] = m->dbs[i];
	pthread_mutex_unlock(&m->list_mu);
	return n;
}

/* Neo4j's rule: 3 to 63 of a-z, 0-9, '.' and '-', starting with a letter;
 * names starting with "system" are reserved. */
int dbms_check_name(const char *name, char *errmsg)
{
	size_t n = strlen(name);

	if (n < 3 || n > 63 || !islower((unsigned char)name[0]))
		goto bad;
	for (size_t i = 0; i < n; i++)
		if (!islower((unsigned char)name[i]) &&
		    !isdigit((unsigned char)name[i]) && name[i] != '.' &&
		    name[i] != '-')
			goto bad;
	if (strncmp(name, DBMS_SYSTEM_DB, 6) == 0)
		return graft_errf(errmsg, GRAFT_EINVAL,
				  "Database name '%s' is reserved: names starting with 'system' are not allowed",
				  name);
	return GRAFT_OK;
bad:
	return graft_errf(errmsg, GRAFT_EINVAL,
			  "Database name '%s' is not valid: use 3 to 63 characters of a-z, 0-9, '.' and '-', starting with a letter",
			  name);
}

int dbms_create_check(struct dbms *m, const char *name, char *errmsg)
{
	int rv = dbms_check_name(name, errmsg);

	if (rv == GRAFT_OK && dbms_get(m, name) != NULL)
		rv = graft_errf(errmsg, GRAFT_EEXIST,
				"Database '%s' already exists", name);
	return rv;
}

int dbms_create(struct dbms *m, const char *name, char *errmsg)
{
	char dir[4096];
	struct db **dbs, *db;
	size_t i;
	int rv = dbms_create_check(m, name, errmsg);

	if (rv != GRAFT_OK)
		return rv;
	rv = path_join(dir, m->databases, name, errmsg);
	if (rv == GRAFT_OK)
		rv = graft_mkdir_p(dir, errmsg);
	if (rv == GRAFT_OK)
		rv = graft_fsync_dir(m->databases, errmsg);
	if (rv == GRAFT_OK)
		rv = open_one(m->loop, &m->o, m->databases, m->txlog_root, name,
			      &db, errmsg);
	if (rv != GRAFT_OK)
		return rv;
	if (m->repl != NULL)
		db_set_replicator(db, m->repl->db, m->repl_data);
	pthread_mutex_lock(&m->list_mu);
	list_changing(m);
	dbs = realloc(m->dbs, (m->n + 2) * sizeof *dbs);
	if (dbs != NULL) {
		m->dbs = dbs;
		for (i = m->n; i > 0 && strcmp(db_name(dbs[i - 1]), name) > 0;
		     i--)
			dbs[i] = dbs[i - 1];
		dbs[i] = db;
		m->n++;
	}
	pthread_mutex_unlock(&m->list_mu);
	if (dbs == NULL) {
		db_close(db, NULL, NULL);
		return graft_errf(errmsg, GRAFT_ENOMEM, "out of memory");
	}
	return GRAFT_OK;
}

struct drop {
	struct dbms *m;
	char store[4096];
	char txlog[4096];
	void (*cb)(void *arg, int status);
	void *arg;
	struct db *old;               /* dbms_replace: the replaced one */
	struct graft_gate_task task; /* dbms_replace: its close */
};

static void dropped(void *arg)
{
	struct drop *d = arg;
	int rv = GRAFT_OK;

	if (graft_remove_tree(d->store) != GRAFT_OK ||
	    graft_remove_tree(d->txlog) != GRAFT_OK)
		rv = GRAFT_EIO;
	if (d->cb != NULL)
		d->cb(d->arg, rv);
	free(d);
}

/* Moves <root>/<name> to <root>/.dropped-<name>-<n> (into out), so that a
 * database of the same name created before the files are deleted starts
 * empty; names starting with '.' are never opened as databases. */
static int move_away(struct dbms *m, const char *root, const char *name,
		     char *out, char *errmsg)
{
	char from[4096], base[128];
	int rv;

	snprintf(base, sizeof base, ".dropped-%s-%u", name, ++m->drops);
	rv = path_join(from, root, name, errmsg);
	if (rv == GRAFT_OK)
		rv = path_join(out, root, base, errmsg);
	if (rv != GRAFT_OK)
		return rv;
	if (rename(from, out) != 0 && errno != ENOENT)
		return graft_errf(errmsg, graft_err_from_errno(errno),
				  "cannot move %s away: %s", from,
				  strerror(errno));
	return graft_fsync_dir(root, errmsg);
}

/* Moves the store and the log of name away, into a new drop; NULL (*rv
 * says why) when they cannot both be moved: then neither is. */
static struct drop *move_both_away(struct dbms *m, const char *name, int *rv,
				   char *errmsg)
{
	struct drop *d = calloc(1, sizeof *d);
	char store[4096];

	if (d == NULL) {
		*rv = graft_errf(errmsg, GRAFT_ENOMEM, "out of memory");
		return NULL;
	}
	*rv = move_away(m, m->databases, name, d->store, errmsg);
	if (*rv == GRAFT_OK) {
		*rv = move_away(m, m->txlog_root, name, d->txlog, errmsg);
		if (*rv != GRAFT_OK &&
		    path_join(store, m->databases, name, NULL) == GRAFT_OK)
			rename(d->store, store);
	}
	if (*rv != GRAFT_OK) {
		free(d);
		return NULL;
	}
	return d;
}

int dbms_drop_check(struct dbms *m, const char *name, char *errmsg)
{
	if (dbms_get(m, name) == NULL)
		return graft_errf(errmsg, GRAFT_ENOTFOUND,
				  "Database '%s' does not exist", name);
	if (strcmp(name, DBMS_SYSTEM_DB) == 0 ||
	    strcmp(name, m->default_db) == 0)
		return graft_errf(errmsg, GRAFT_EINVAL,
				  "Database '%s' is the %s database and cannot be dropped",
				  name, strcmp(name, DBMS_SYSTEM_DB) == 0 ? "system"
									 : "default");
	return GRAFT_OK;
}

int dbms_drop(struct dbms *m, const char *name,
	      void (*cb)(void *arg, int status), void *arg, char *errmsg)
{
	struct drop *d;
	struct db *db = dbms_get(m, name);
	size_t i;
	int rv = dbms_drop_check(m, name, errmsg);

	if (rv != GRAFT_OK)
		return rv;
	d = move_both_away(m, name, &rv, errmsg);
	if (d == NULL)
		return rv;
	d->m = m;
	d->cb = cb;
	d->arg = arg;
	for (i = 0; m->dbs[i] != db; i++)
		;
	pthread_mutex_lock(&m->list_mu);
	list_changing(m);
	memmove(&m->dbs[i], &m->dbs[i + 1], (m->n - i - 1) * sizeof *m->dbs);
	m->n--;
	pthread_mutex_unlock(&m->list_mu);
	db_close_discard(db, dropped, d);
	return GRAFT_OK;
}

/* Undoes dbms_replace's moves when the copy cannot be opened: the copy
 * goes back to dir (when it was moved in), the old files back to their
 * names. */
static void move_back(struct drop *d, bool copied, const char *store,
		      const char *txlog, const char *dir)
{
	if (copied) {
		/* a log the failed open may have begun */
		graft_remove_tree(txlog);
		rename(store, dir);
	}
	rename(d->txlog, txlog);
	rename(d->store, store);
}

/* The replaced database closes behind the gate: a statement that found it
 * before the switch may be beginning a transaction on it (it then closes
 * once that ends). */
static void replaced_close(struct graft_gate_task *t)
{
	struct drop *d = t->data;
	struct dbms *m = d->m;

	db_close_discard(d->old, dropped, d);
	m->replaces_queued--;
	dbms_maybe_close(m);
}

int dbms_replace(struct dbms *m, const char *name, const char *dir,
		 struct graph *g, uint64_t cp_txid, dbms_prepare_fn prepare,
		 void *arg, char *errmsg)
{
	char store[4096], txlog[4096];
	struct db *old = dbms_get(m, name), *db = NULL;
	struct drop *d = NULL;
	bool copied = false;
	size_t i;
	int rv = GRAFT_OK;

	if (old == NULL)
		rv = graft_errf(errmsg, GRAFT_ENOTFOUND,
				"Database '%s' does not exist", name);
	if (rv == GRAFT_OK)
		rv = path_join(store, m->databases, name, errmsg);
	if (rv == GRAFT_OK)
		rv = path_join(txlog, m->txlog_root, name, errmsg);
	if (rv == GRAFT_OK)
		d = move_both_away(m, name, &rv, errmsg);
	if (d == NULL) {
		if (g != NULL)
			graph_free(g);
		return rv;
	}
	if (rename(dir, store) != 0)
		rv = graft_errf(errmsg, graft_err_from_errno(errno),
				"cannot move %s to %s: %s", dir, store,
				strerror(errno));
	if (rv == GRAFT_OK) {
		copied = true;
		rv = graft_fsync_dir(m->databases, errmsg);
	}
	if (rv == GRAFT_OK) {
		rv = open_loaded(m->loop, &m->o, m->databases, m->txlog_root,
				 name, g, cp_txid, &db, errmsg);
		g = NULL; /* taken */
	}
	if (g != NULL)
		graph_free(g);
	if (rv != GRAFT_OK || db == NULL) {
		move_back(d, copied, store, txlog, dir);
		free(d);
		return rv != GRAFT_OK ? rv : GRAFT_EIO;
	}
	d->m = m;
	d->old = old;
	if (m->repl != NULL)
		db_set_replicator(db, m->repl->db, m->repl_data);
	/* no statement can find it yet: nothing reads what prepare changes */
	if (prepare != NULL)
		rv = prepare(arg, db, errmsg);
	for (i = 0; m->dbs[i] != old; i++)
		;
	pthread_mutex_lock(&m->list_mu);
	list_changing(m);
	m->dbs[i] = db;
	pthread_mutex_unlock(&m->list_mu);
	d->task.data = d;
	d->task.fn = replaced_close;
	m->replaces_queued++;
	graft_gate_run(m->o.db.gate, &d->task);
	return rv;
}

bool dbms_entries_stopped(const struct dbms *m)
{
	return m->entry_broken;
}
