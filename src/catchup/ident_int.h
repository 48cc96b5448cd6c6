/* Whose a stream is: every catch-up stream, store copy and database list
 * names the cluster its member belongs to (the cluster id it recorded in
 * <data>/dbms/cluster_id: a core when the cluster formed or it joined, a
 * read replica when it first heard a core) and, per database, its id
 * (dbms_origin: the Raft index that created it, so a database dropped and
 * created again under the same name has another), and every record on the
 * wire carries both (struct txlog_wire_id). A subscriber refuses a stream
 * of another cluster or of another database of the same name before
 * applying anything of it. Loop thread. */
#ifndef GRAFT_CATCHUP_IDENT_INT_H
#define GRAFT_CATCHUP_IDENT_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "../txlog/txlog.h"
#include "../util/identity.h"

/* The cluster id recorded under data_dir into out; "" (GRAFT_OK) when none
 * is recorded yet. GRAFT_ECORRUPT (errmsg) when the file holds no UUID. */
int catchup_cluster_id_read(const char *data_dir,
			    char out[IDENTITY_LEN + 1], char *errmsg);
/* The wire id of database name, id db_id, of cluster (a UUID's text).
 * GRAFT_EINVAL when cluster is not a UUID. */
int catchup_wire_id(const char *cluster, uint64_t db_id, const char *name,
		    struct txlog_wire_id *out);

bool catchup_wire_id_equal(const struct txlog_wire_id *a,
			   const struct txlog_wire_id *b);

#endif
