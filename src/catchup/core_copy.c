/* The store source of a core member (cluster.h "Stores behind a Raft
 * snapshot"): the cluster layer sits below this one, so the server hands
 * it this source, which is a store copy (store_copy.c) into
 * <data>/databases/.copy-<db>, a check that the copy holds what the Raft
 * snapshot needs (an upstream that is behind too is refused, and the
 * cluster tries another), then catchup_store_install. Loop thread. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/fs.h"
#include "replica_int.h"

struct core_copy {
	struct catchup_store_copy_req copy;
	struct cluster_store_req *req;
	bool cancelled;
	char dir[4200];
};

static void copied_cb(struct catchup_store_copy_req *copy, int status)
{
	struct core_copy *cc = copy->data;
	struct cluster_store_req *req = cc->req;

	req->ckpt_txid = copy->ckpt_txid;
	req->last_txid = copy->last_txid;
	req->bytes = copy->bytes;
	if (status != GRAFT_OK) {
		snprintf(req->errmsg, sizeof req->errmsg, "%s", copy->errmsg);
	} else if (cc->cancelled) {
		status = graft_errf(req->errmsg, GRAFT_ESHUTDOWN,
				    "the copy was cancelled");
	} else if (copy->last_txid < req->need_txid) {
		status = graft_errf(req->errmsg, GRAFT_ENOTFOUND,
				    "the copy ends at transaction %" PRIu64
				    ", before the %" PRIu64 " needed (that "
				    "member is behind too)",
				    copy->last_txid, req->need_txid);
	} else {
		status = catchup_store_install(req->dbms, req->db, cc->dir,
					       req->errmsg);
	}
	graft_remove_tree(cc->dir);
	req->impl = NULL;
	free(cc);
	req->cb(req, status);
}

static int core_copy_start(struct cluster_store_req *req)
{
	struct db *db = dbms_get(req->dbms, req->db);
	struct sockaddr_storage sa;
	struct core_copy *cc;
	int rv;

	if (db == NULL)
		return graft_errf(req->errmsg, GRAFT_ENOTFOUND,
				  "database %s does not exist here", req->db);
	if (replica_sockaddr(req->upstream, &sa) != GRAFT_OK)
		return graft_errf(req->errmsg, GRAFT_EINVAL,
				  "the transaction address %s is not an IP "
				  "address and port", req->upstream);
	cc = calloc(1, sizeof *cc);
	if (cc == NULL)
		return graft_errf(req->errmsg, GRAFT_ENOMEM, "out of memory");
	cc->req = req;
	cc->copy.data = cc;
	catchup_copy_dir(db, cc->dir, sizeof cc->dir);
	rv = catchup_store_copy(&cc->copy, req->loop, (struct sockaddr *)&sa,
				req->db, req->server_id, cc->dir, copied_cb);
	if (rv != GRAFT_OK) {
		snprintf(req->errmsg, sizeof req->errmsg, "%s",
			 cc->copy.errmsg);
		free(cc);
		return rv;
	}
	req->impl = cc;
	return GRAFT_OK;
}

static void core_copy_cancel(struct cluster_store_req *req)
{
	struct core_copy *cc = req->impl;

	if (cc == NULL)
		return;
	cc->cancelled = true;
	catchup_store_copy_cancel(&cc->copy);
}

const struct cluster_store_source catchup_core_store_source = {
	.copy = core_copy_start,
	.cancel = core_copy_cancel,
};
