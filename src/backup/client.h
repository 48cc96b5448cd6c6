/* The backup client: asks a backup server (serve.h) for a FULL or DIFF
 * copy of one database and writes it as an artifact in a directory,
 * verifying the stream as it arrives. Blocking sockets: it runs in
 * graft-admin, which does nothing else meanwhile. */
#ifndef GRAFT_BACKUP_CLIENT_H
#define GRAFT_BACKUP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "artifact.h"

enum backup_want { BACKUP_WANT_AUTO, BACKUP_WANT_FULL, BACKUP_WANT_DIFF };

struct backup_client_opts {
	const char *to_dir;
	enum backup_want type;
	bool compress;
	bool keep_failed;
	FILE *progress; /* a terminal for progress lines, or NULL */
	FILE *verbose;  /* detail, or NULL */
	unsigned timeout_s; /* silence after which the client gives up */
};

struct backup_result {
	struct backup_meta m;
	bool up_to_date;     /* DIFF with nothing new: no artifact written */
	char path[4096];     /* the artifact */
	char failed[4096];   /* with keep_failed, the partial artifact */
	uint64_t size;
};

/* Backs db up from addr ("host:port") into o->to_dir. AUTO takes a DIFF
 * after the newest artifact of db in to_dir when there is one and the
 * server still has the log after it, a FULL otherwise. GRAFT_ENOTFOUND when
 * the server does not host db; other errors with errmsg. res is cleared
 * first, so res->failed is meaningful after any error. */
int backup_client_run(const char *addr, const char *db,
		      const struct backup_client_opts *o,
		      struct backup_result *res, char *errmsg);

/* The databases addr hosts: *names is one malloc'ed block of n
 * NUL-terminated names (free(*names)). */
int backup_client_list(const char *addr, unsigned timeout_s, char **names,
		       size_t *n, char *errmsg);

#endif
