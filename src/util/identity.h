/* Identities kept as a UUID in a file of <data>/dbms: the server's
 * (server_id, created on first start, as Neo4j does, so that cluster
 * members, logs and health endpoints can name this server across restarts
 * and address changes) and the cluster's (cluster_id, recorded when the
 * server first joins a cluster). Written durably: tmp, fsync, rename, fsync
 * of the directory. */
#ifndef GRAFT_UTIL_IDENTITY_H
#define GRAFT_UTIL_IDENTITY_H

#define IDENTITY_LEN 36 /* 8-4-4-4-12 hex digits and dashes */

/* Reads <data>/dbms/<name> into out (NUL-terminated). GRAFT_ENOTFOUND if
 * there is no such file; GRAFT_ECORRUPT naming it if it holds no UUID. */
int graft_identity_read(const char *data_dir, const char *name,
			char out[IDENTITY_LEN + 1], char *errmsg);
/* Records uuid as <data>/dbms/<name>, creating <data>/dbms if needed. */
int graft_identity_write(const char *data_dir, const char *name,
			 const char *uuid, char *errmsg);
/* A new random (version 4) UUID. GRAFT_OK or GRAFT_EIO (no randomness). */
int graft_identity_new(char out[IDENTITY_LEN + 1]);
/* Reads <data>/dbms/<name>, creating it with a new UUID if absent. */
int graft_identity_load(const char *data_dir, const char *name,
			char out[IDENTITY_LEN + 1], char *errmsg);

#endif
