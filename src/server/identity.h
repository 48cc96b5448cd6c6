/* The server's identity: a random UUID created on first start and kept in
 * <data>/dbms/server_id, as Neo4j does, so that cluster members, logs and
 * health endpoints can name this server across restarts and address changes. */
#ifndef GRAFT_SERVER_IDENTITY_H
#define GRAFT_SERVER_IDENTITY_H

#define IDENTITY_LEN 36 /* 8-4-4-4-12 hex digits and dashes */

/* Reads <data>/dbms/server_id, creating it durably (tmp, fsync, rename,
 * fsync dir) if absent. out gets the NUL-terminated UUID. A file that is not
 * a UUID is GRAFT_ECORRUPT naming it. */
int identity_load(const char *data_dir, char out[IDENTITY_LEN + 1],
		  char *errmsg);

#endif
