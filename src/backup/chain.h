/* Sets of backup artifacts and the chains in them: a FULL artifact followed
 * by DIFFs that continue it without a gap. Used by restore (which chain to
 * materialise, up to which transaction), by backup (where the next DIFF
 * starts) and by --inspect-path (what is there, without a server). */
#ifndef GRAFT_BACKUP_CHAIN_H
#define GRAFT_BACKUP_CHAIN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "artifact.h"

struct backup_entry {
	char path[4096];
	struct backup_meta m;
	uint64_t size;
	int status;                     /* GRAFT_OK or why the header is bad */
	char errmsg[GRAFT_ERRMSG_SIZE];
};

struct backup_set {
	struct backup_entry *e; /* owned; sorted by database, then last txid */
	size_t n;
};

void backup_set_init(struct backup_set *s);
void backup_set_free(struct backup_set *s);
/* Adds path: one artifact, or every *.backup and *.dump in a directory. Headers only;
 * an artifact with a bad header is added with its status and errmsg.
 * GRAFT_ENOTFOUND when path does not exist. */
int backup_set_add(struct backup_set *s, const char *path, char *errmsg);

/* The chain of db that reaches furthest without passing until (UINT64_MAX:
 * no limit): the newest FULL whose store copy is at or before until, then
 * DIFFs continuing it. Fills out (caller-allocated, s->n entries) and *n;
 * *end gets the last transaction the chain restores (<= until).
 * GRAFT_ENOTFOUND when db has no usable FULL or the chain ends before a
 * given until; GRAFT_ECORRUPT naming the artifact that breaks the chain (a
 * DIFF after a gap, when the chain ends before until).
 * Artifacts with damaged headers are left out: see check_headers. */
int backup_chain_plan(const struct backup_set *s, const char *db,
		      uint64_t until, const struct backup_entry **out,
		      size_t *n, uint64_t *end, char *errmsg);

/* GRAFT_ECORRUPT naming the first artifact whose header is damaged. */
int backup_set_check_headers(const struct backup_set *s, char *errmsg);

/* The newest artifact of db (highest last txid), or NULL. */
const struct backup_entry *backup_set_newest(const struct backup_set *s,
					     const char *db);

/* Prints the artifacts and the chain of each database (--inspect-path). */
void backup_set_print(const struct backup_set *s, FILE *out);

#endif
