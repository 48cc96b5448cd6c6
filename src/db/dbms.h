/* The set of databases one server hosts: `system` and the default database
 * (initial.dbms.default_database, "neo4j") exist from the first start, and
 * every database found under <data>/databases is recovered at open.
 * Loop thread only, but dbms_get and dbms_list, which statements call on
 * worker threads too, holding the gate (db_options.gate): a database they
 * find stays open while they hold it, and while a transaction of theirs on
 * it is open. */
#ifndef GRAFT_DB_DBMS_H
#define GRAFT_DB_DBMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
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
/* Changes with every change of the list (a database created, dropped or
 * replaced), before it: a database dbms_get gave when this read g is still
 * the one of its name while this still reads g, so that a thread may keep
 * what it looked up instead of taking the list's lock each time. */
uint64_t dbms_generation(struct dbms *m);
const char *dbms_default_db(const struct dbms *m);
/* server.directories.data, as dbms_open was given it (borrowed). */
const char *dbms_data_dir(const struct dbms *m);
/* CREATE DATABASE: makes and opens an empty database. GRAFT_EEXIST,
 * GRAFT_EINVAL (a name Neo4j would refuse; errmsg says the rule). */
int dbms_create(struct dbms *m, const char *name, char *errmsg);
/* DROP DATABASE: takes it out of the list at once, closes it (open
 * transactions end first), deletes its files, then cb. system and the
 * default database cannot be dropped. */
int dbms_drop(struct dbms *m, const char *name,
	      void (*cb)(void *arg, int status), void *arg, char *errmsg);
/* Runs on a database no statement can find yet (dbms_replace). */
typedef int (*dbms_prepare_fn)(void *arg, struct db *db, char *errmsg);

/* Replaces database name by the store in dir (a store copy: a directory
 * holding a checkpoint file, on the file system of <data>/databases), at
 * once for its readers: dbms_get gives the old database until this
 * returns, the new one (g when not NULL: that checkpoint, at cp_txid,
 * loaded and verified off the loop by the caller, taken whatever this
 * returns, so that the loop is not held to load it; else recovered from
 * the checkpoint; its log empty, then
 * given to prepare(arg, db, errmsg) when prepare is not NULL: applying the
 * log after the checkpoint there keeps statements from seeing the state
 * in between) after. dir is moved into place; the old files are moved away
 * at once and deleted once the old database closed. The old database
 * closes behind the gate (db_options.gate), so a statement that found it
 * before the switch keeps it until its transaction ends. On an error of
 * the copy nothing changed (the old files and dir are put back):
 * GRAFT_ENOTFOUND, or what opening the copy gave. An error of prepare is
 * returned after the switch all the same: the database holds what prepare
 * did. */
int dbms_replace(struct dbms *m, const char *name, const char *dir,
		 struct graph *g, uint64_t cp_txid, dbms_prepare_fn prepare,
		 void *arg, char *errmsg);
/* Databases in name order; returns the count, fills up to max. */
size_t dbms_list(struct dbms *m, struct db **out, size_t max);

/* Replication of the dbms itself -----------------------------------------
 * In a cluster, CREATE and DROP DATABASE are replicated entries too: the
 * member that runs the command checks it and proposes it; every member,
 * that one included, applies it when the group commits it. Each entry's
 * Raft index is recorded (<data>/dbms/raft_applied: the index of the last
 * CREATE/DROP applied, and the index that created each database), so that
 * entries the Raft log replays after a restart are skipped: a change
 * already applied, and a transaction of an earlier database of the same
 * name (one dropped and created again). */
struct dbms_change_req;
typedef void (*dbms_change_cb)(struct dbms_change_req *req, int status);

/* Caller-owned; stays alive until cb. */
struct dbms_change_req {
	void *data;
	char errmsg[GRAFT_ERRMSG_SIZE]; /* why it failed */
	/* private */
	struct dbms *m;
	dbms_change_cb cb;
};

struct dbms_replicator_ops {
	/* Set on every database, those created later included. */
	const struct db_replicator_ops *db;
	/* Proposes a CREATE/DROP DATABASE entry (len bytes; copy it).
	 * GRAFT_OK: the replicator calls dbms_change_done(req, ...) exactly
	 * once, later, on the loop thread. An error (GRAFT_ENOTLEADER...):
	 * it never does. */
	int (*propose)(void *data, const void *entry, size_t len,
		       struct dbms_change_req *req, char *errmsg);
};

/* NULL: SINGLE mode. Sets ops->db on every database too. */
void dbms_set_replicator(struct dbms *m, const struct dbms_replicator_ops *ops,
			 void *data);
/* The outcome of a proposed change, as dbms_apply_entry gave it on this
 * member, or GRAFT_EUNKNOWN (leadership lost: it may still be applied). */
void dbms_change_done(struct dbms_change_req *req, int status,
		      const char *errmsg);

/* CREATE DATABASE (create) or DROP DATABASE name, on every member of a
 * cluster. Checked first (errors as dbms_create and dbms_drop give them,
 * in req->errmsg; cb is then never called). SINGLE: applied here, and cb
 * may run before this returns; replicated: cb runs once every member
 * applies it, with the result of the apply (GRAFT_EEXIST or
 * GRAFT_ENOTFOUND when a concurrent change got there first). */
int dbms_change(struct dbms *m, bool create, const char *name,
		struct dbms_change_req *req, dbms_change_cb cb);

/* Applies one replicated entry (db.h "Replication"; a CREATE or DROP
 * DATABASE) committed at Raft index `index`: GRAFT_OK when applied or
 * already applied before (*txid: its transaction id, 0 for a CREATE/DROP),
 * GRAFT_ECONFLICT when rejected (errmsg says why: the same on every
 * member), GRAFT_EEXIST/GRAFT_ENOTFOUND/GRAFT_EINVAL for a CREATE/DROP that
 * cannot be applied (the same on every member), GRAFT_ENOTFOUND when this
 * member has no database the transaction names, GRAFT_ECORRUPT when the
 * entry cannot be decoded. */
int dbms_apply_entry(struct dbms *m, uint64_t index, const void *entry,
		     size_t len, uint64_t *txid, char *errmsg);

/* Read replicas mirror the cores' databases (catch-up's database list,
 * src/catchup): what a core has applied, and the same change made on a
 * replica. */
/* The Raft index of the last CREATE/DROP DATABASE applied (0: none). */
uint64_t dbms_change_index(const struct dbms *m);
/* The id of database name: the Raft index that created it in a cluster,
 * the server's own count of CREATE DATABASEs on a SINGLE server (0: none
 * recorded, as for system, the default database and one found in the data
 * directory). Kept in <data>/dbms/raft_applied: stable across restarts. */
uint64_t dbms_origin(const struct dbms *m, const char *name);
/* Creates (create) or drops database name here as the cores did, and
 * records, durably as an applied change does, that name was created at
 * Raft index origin and that the cores' changes up to change_index are
 * mirrored, so that this member's own subscribers see the same list.
 * Errors as dbms_create and dbms_drop give them; a drop's files are deleted
 * once it closed (a failure to delete them is logged). */
int dbms_mirror(struct dbms *m, bool create, const char *name,
		uint64_t origin, uint64_t change_index, char *errmsg);

/* Offline, for graft-admin while the server is stopped (it holds the data
 * directory's lock): the id of database name as <data>/dbms/raft_applied
 * records it (dbms_origin; 0: none). dbms_origin_restore records id for
 * a database restored from a backup (0: forget it), durably, and raises a
 * SINGLE server's count to it, so that a database created later under
 * that name never gets the same id. */
int dbms_origin_read(const char *data_dir, const char *name, uint64_t *id,
		     char *errmsg);
int dbms_origin_restore(const char *data_dir, const char *name, uint64_t id,
			char *errmsg);

/* Applying entries behind the gate -----------------------------------------
 * dbms_apply_entry changes the graphs, so it must hold the gate
 * (db_options.gate) exclusive, which waits for statements reading on worker
 * threads; the Raft state machine applies synchronously on the loop and
 * cannot wait. So it submits each committed entry here instead: the entry
 * is applied through graft_gate_run — at once when the gate is free, else
 * (copied) as soon as the readers leave — in the order submitted, so every
 * member applies the same entries in the same order whatever its readers
 * do. Loop thread only. */
typedef void (*dbms_entry_cb)(void *data, int status, const char *errmsg);

/* Submits the entry committed at Raft index. GRAFT_OK: it is applied or
 * will be (its outcome, as dbms_apply_entry's, goes to dbms_entry_outcome;
 * GRAFT_ENOTFOUND is logged as a warning). GRAFT_ECORRUPT (errmsg): its
 * format is unknown, or an earlier entry could not be applied here (logged
 * then): this member cannot go on without diverging. GRAFT_ENOMEM. entry
 * is borrowed for the call. */
int dbms_entry_submit(struct dbms *m, uint64_t index, const void *entry,
		      size_t len, char *errmsg);
/* The proposer's side: cb(data, status, errmsg or NULL) once the entry
 * submitted last, at index, has been applied (holding the gate, as SINGLE
 * commits call back), with its outcome. Call it before the next submit
 * (the cluster's member claims its proposal's entry right after submitting
 * it); an index not the last submitted gets GRAFT_EUNKNOWN. */
void dbms_entry_outcome(struct dbms *m, uint64_t index, dbms_entry_cb cb,
			void *data);
/* Whether submitted entries wait for the gate: the stores then lag the
 * Raft log's applied index (a Raft snapshot must wait). */
bool dbms_entries_pending(const struct dbms *m);
/* Whether this member stopped applying entries: one could not be applied
 * (logged), and going on would diverge from the cluster. */
bool dbms_entries_stopped(const struct dbms *m);
/* Runs cb(arg) holding the gate once every entry submitted so far has
 * been applied (at once if none waits): a new leader becomes writable only
 * then. One at a time: a second call before cb replaces the first. */
void dbms_entries_then(struct dbms *m, void (*cb)(void *arg), void *arg);

#endif
