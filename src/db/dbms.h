/* The set of databases one server hosts: `system` and the default database
 * (initial.dbms.default_database, "neo4j") exist from the first start, and
 * every database found under <data>/databases is recovered at open.
 * Loop thread only. */
#ifndef GRAFT_DB_DBMS_H
#define GRAFT_DB_DBMS_H

#include <stddef.h>
#include <uv.h>

#include "db.h"

struct dbms_options {
	const char *data_dir;   /* server.directories.data */
	const char *txlog_root; /* server.directories.transaction.logs.root */
	const char *default_db; /* initial.dbms.default_database */
	/* Applied to every database; name and dirs are filled per database. */
	struct db_options db;
};

struct dbms;

/* Creates the layout on first start (<data>/dbms, <data>/databases/<db>,
 * <txlog_root>/<db>) and opens every database, recovering each. txlog_root
 * NULL means <data>/transactions, default_db NULL "neo4j". On error the
 * databases already opened are closing: run the loop before uv_loop_close. */
int dbms_open(uv_loop_t *loop, const struct dbms_options *o, struct dbms **out,
	      char *errmsg);
/* Closes every database cleanly (final checkpoints), frees, then cb. */
void dbms_close(struct dbms *m, void (*cb)(void *arg), void *arg);
struct db *dbms_get(struct dbms *m, const char *name); /* NULL if absent */
const char *dbms_default_db(const struct dbms *m);
/* CREATE DATABASE: makes and opens an empty database. GRAFT_EEXIST,
 * GRAFT_EINVAL (a name Neo4j would refuse; errmsg says the rule). */
int dbms_create(struct dbms *m, const char *name, char *errmsg);
/* DROP DATABASE: takes it out of the list at once, closes it (open
 * transactions end first), deletes its files, then cb. system and the
 * default database cannot be dropped. */
int dbms_drop(struct dbms *m, const char *name,
	      void (*cb)(void *arg, int status), void *arg, char *errmsg);
/* Databases in name order; returns the count, fills up to max. */
size_t dbms_list(struct dbms *m, struct db **out, size_t max);

/* Applies one replicated entry (db.h "Replication") to the database it
 * names: GRAFT_OK when applied or already applied before (*txid: its
 * transaction id), GRAFT_ECONFLICT when rejected (errmsg says why: the same
 * on every member), GRAFT_ENOTFOUND when this member has no such database,
 * GRAFT_ECORRUPT when the entry cannot be decoded. */
int dbms_apply_entry(struct dbms *m, const void *entry, size_t len,
		     uint64_t *txid, char *errmsg);

#endif
