/* Inside the dbms: what dbms.c (the databases) and dbms_change.c (their
 * creation and removal in a cluster) share. Loop thread only, but the
 * list's lock. */
#ifndef GRAFT_DB_DBMS_INT_H
#define GRAFT_DB_DBMS_INT_H

#include <pthread.h>

#include "dbms.h"

#define DBMS_SYSTEM_DB "system"
#define DBMS_DEFAULT_DB "neo4j"
#define DBMS_NAME_MAX 64 /* Neo4j's names: 63 characters at most */

/* A database's id: the Raft index of the entry that created it, or on a
 * SINGLE server the server's own count (0: neither, e.g. system and the
 * default database). */
struct dbms_origin {
	char name[DBMS_NAME_MAX];
	uint64_t index;
};

struct dbms {
	char *default_db; /* owned */
	/* The databases: changed on the loop, under list_mu, which workers
	 * take to read them (dbms_get, dbms_list); the loop reads without. */
	pthread_mutex_t list_mu;
	uint64_t gen;     /* dbms_generation: under list_mu, read without */
	struct db **dbs;  /* in name order */
	size_t n;
	unsigned replaces_queued; /* replaced databases whose close waits */
	uv_loop_t *loop;
	struct dbms_options o;   /* strings below are owned copies */
	char databases[4096];
	char txlog_root[4096];
	size_t closing;   /* databases not closed yet */
	unsigned drops;   /* databases dropped since open */
	void (*close_cb)(void *arg);
	void *close_arg;

	/* Replication (dbms_change.c). */
	const struct dbms_replicator_ops *repl;
	void *repl_data;
	char dbms_dir[4096];  /* <data>/dbms: raft_applied lives there */
	/* Entries behind the gate (entry_queue.c): jobs and the
	 * dbms_entries_then task not run yet; the last job submitted, kept
	 * for its claimer; set once an entry could not be applied. */
	unsigned entries_queued;
	struct dbms_entry_job *entry_last;
	bool entry_broken;
	struct graft_gate_task then_task;
	void (*then_cb)(void *arg);
	void *then_arg;
	bool close_waiting; /* dbms_close called while entries were queued */
	uint64_t change_index; /* last CREATE/DROP applied, 0: none */
	uint64_t single_ids;   /* SINGLE: the last database id given */
	struct dbms_origin *origins; /* owned */
	size_t n_origins;
};

/* Neo4j's rule for database names; errmsg says it. */
int dbms_check_name(const char *name, char *errmsg);
/* What dbms_create and dbms_drop refuse, without doing anything. */
int dbms_create_check(struct dbms *m, const char *name, char *errmsg);
int dbms_drop_check(struct dbms *m, const char *name, char *errmsg);

/* entry.c: GRAFT_OK, or GRAFT_ECORRUPT (errmsg) for an entry of an
 * unknown format or whose length does not hold its record. */
int dbms_entry_check(const void *entry, size_t len, char *errmsg);
/* Whether an entry is a CREATE/DROP DATABASE (dbms_change.c), which
 * applies on the loop whatever its size. */
bool dbms_entry_is_change(const void *entry, size_t len);
/* Whether it carries several databases' transactions (db_commit_group),
 * which apply together, on the loop. */
bool dbms_entry_is_group(const void *entry, size_t len);
/* dbms_apply_entry; validated (or NULL): a database whose commit in
 * flight proposed this very entry, validated against its graph as it is
 * (commit_claim_entry), so that its record applies without validating
 * again. */
int dbms_apply_entry_validated(struct dbms *m, uint64_t index,
			       const void *entry, size_t len,
			       struct db *validated, uint64_t *txid,
			       char *errmsg);

/* entry_queue.c */
void dbms_entries_free(struct dbms *m); /* the kept job, at close */
/* dbms.c: starts a close dbms_close postponed until no entry waits. */
void dbms_maybe_close(struct dbms *m);

/* dbms_change.c */
/* Reads <data>/dbms/raft_applied when there is one. */
int dbms_origins_load(struct dbms *m, const char *data_dir, char *errmsg);
/* Applies a CREATE/DROP entry (format byte included) at Raft index. */
int dbms_change_apply(struct dbms *m, uint64_t index, const uint8_t *p,
		      size_t len, char *errmsg);

#endif
