/* Restore: materialises a backup chain (a FULL artifact and the DIFFs that
 * continue it, or part of it with --restore-until) into a data directory
 * as a checkpoint file plus transaction log segments, exactly what graftd
 * recovers at start. Every artifact of the chain is verified (checksum,
 * continuity) before anything is written; the database is built in hidden
 * directories, opened once to prove it recovers, and only then renamed
 * into place, so a restore never leaves a half-restored database. On a
 * SINGLE server (keep_db_id) the restored database keeps its artifacts'
 * database id (recorded where the server reads it, dbms_origin_restore): a
 * DIFF backup of it continues their chain. */
#ifndef GRAFT_BACKUP_RESTORE_H
#define GRAFT_BACKUP_RESTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../db/db.h"
#include "artifact.h"

struct backup_restore_opts {
	const char *const *paths; /* artifacts or directories of them */
	size_t n_paths;
	/* Database to restore: artifacts of this name, or, when the paths
	 * hold one database only, that one restored under this name. NULL:
	 * the one database the paths hold. */
	const char *db;
	uint64_t until_txid;    /* UINT64_MAX: the end of the chain */
	int64_t until_time_ms;  /* commit time limit; -1: none */
	bool overwrite;         /* replace an existing database */
	const char *data_dir;   /* server.directories.data, whose lock is
				 * taken; NULL for a scratch directory */
	bool keep_db_id;        /* record the chain's database id for
				 * data_dir's server (a SINGLE one) */
	const char *store_root; /* where database directories go:
				 * <data>/databases, or --to-path-data */
	const char *txlog_root; /* server.directories.transaction.logs.root,
				 * or --to-path-txn */
	/* rotation size and retention for the log; name and dirs are set
	 * here */
	struct db_options db_opts;
	FILE *verbose; /* detail, or NULL */
	FILE *progress; /* a terminal for a progress line, or NULL */
};

struct backup_restore_result {
	char db[128];
	uint64_t last_txid;  /* the restored database's last transaction */
	uint64_t checkpoint_txid;
	size_t n_artifacts;  /* FULL + DIFFs used */
	bool has_db_id;      /* the chain's database id (artifact.h) */
	uint64_t db_id;
};

/* GRAFT_ELOCKED when a server holds the data directory, GRAFT_EEXIST when
 * the database exists and overwrite is false, GRAFT_ECORRUPT naming the
 * artifact that is damaged or breaks the chain, GRAFT_ENOTFOUND when there
 * is nothing to restore; errmsg says which and what to do. */
int backup_restore(const struct backup_restore_opts *o,
		   struct backup_restore_result *res, char *errmsg);

/* Restores o's chain into a scratch directory made in dir (o's directory
 * fields are ignored) and removes it again: proves the chain restores and
 * recovers. With out_compress >= 0 it first writes the restored database
 * as one FULL artifact in dir (aggregate-backup), its name in path (4096
 * bytes). */
int backup_restore_scratch(const struct backup_restore_opts *o,
			   const char *dir, int out_compress, char *path,
			   struct backup_restore_result *res, char *errmsg);

/* A FULL artifact holding only a store copy: the checkpoint file of db at
 * txid. */
void backup_store_copy_meta(struct backup_meta *m, const char *db,
			    uint64_t txid, const char *source, bool compress);
/* Writes the checkpoint file ckpt_path as artifact m in dir, named by its
 * time or, when name is not NULL, dir/name (replacing a file only with
 * overwrite). path (4096 bytes) gets the file. */
int backup_write_store_copy(const char *ckpt_path,
			    const struct backup_meta *m, const char *dir,
			    const char *name, bool overwrite, char *path,
			    char *errmsg);

/* Takes <data_dir>/graft.lock as graftd does; GRAFT_ELOCKED when a server
 * holds it. *fd is the lock (close it to release). */
int backup_lock_data_dir(const char *data_dir, int *fd, char *errmsg);

/* `database dump`: opens db of a stopped server (o: name, dirs, log
 * options), lets recovery write a checkpoint at its last transaction and
 * writes it as dir/<db>.dump (a FULL artifact). */
int backup_dump(const struct db_options *o, const char *data_dir,
		const char *dir, bool compress, bool overwrite, char *path,
		uint64_t *last_txid, char *errmsg);

#endif
