/* The store source of a core member (cluster.h "Stores behind a Raft
 * snapshot"): the cluster layer sits below this one, so the server hands
 * it this source, which is a store copy (store_copy.c) into
 * <data>/databases/.copy-<db>, a check that the copy holds what the Raft
 * snapshot needs (an upstream that is behind too is refused, and the
 * cluster tries another), then catchup_store_install. The upstream's
 * transaction address may be a host name: it is resolved first
 * (src/net/resolve.h), off the loop. Loop thread. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/fs.h"
#include "ident_int.h"
#include "replica_int.h"

struct core_copy {
	struct catchup_store_copy_req copy;
	struct cluster_store_req *req;
	struct net_resolver resolver;
	struct net_resolve_req resolve;
	bool resolving; /* the copy waits for the address */
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
		catchup_store_copy_discard(copy);
		status = graft_errf(req->errmsg, GRAFT_ESHUTDOWN,
				    "the copy was cancelled");
	} else if (copy->last_txid < req->need_txid) {
		status = graft_errf(req->errmsg, GRAFT_ENOTFOUND,
				    "the copy ends at transaction %" PRIu64
				    ", before the %" PRIu64 " needed (that "
				    "member is behind too)",
				    copy->last_txid, req->need_txid);
		catchup_store_copy_discard(copy);
	} else {
		status = catchup_store_install(req->dbms, req->db, copy,
					       req->errmsg);
	}
	graft_remove_tree(cc->dir);
	req->impl = NULL;
	free(cc);
	req->cb(req, status);
}

/* Starts the copy from sa; on an error req->errmsg says why and no
 * callback comes. Only a store of this member's own cluster is taken
 * (<data>/dbms/cluster_id, recorded when it formed or joined; none yet:
 * the upstream's word); the database id may be new to it, as its
 * databases follow the snapshot. */
static int copy_from(struct core_copy *cc, const struct sockaddr *sa)
{
	struct cluster_store_req *req = cc->req;
	char mine[IDENTITY_LEN + 1];
	struct txlog_wire_id want;
	bool check;
	int rv = catchup_cluster_id_read(dbms_data_dir(req->dbms), mine,
					 req->errmsg);

	check = rv == GRAFT_OK && mine[0] != '\0';
	if (check)
		rv = catchup_wire_id(mine, 0, req->db, &want);
	if (rv == GRAFT_EINVAL)
		graft_errf(req->errmsg, rv, "this member's cluster id %s is "
			   "not a UUID", mine);
	if (rv == GRAFT_OK)
		rv = catchup_store_copy(&cc->copy, req->loop, sa, req->db,
					req->server_id, cc->dir,
					check ? &want : NULL,
					CATCHUP_COPY_CLUSTER, copied_cb);
	if (rv != GRAFT_OK && cc->copy.errmsg[0] != '\0')
		snprintf(req->errmsg, sizeof req->errmsg, "%s",
			 cc->copy.errmsg);
	return rv;
}

static void resolved_cb(struct net_resolve_req *rq, int status,
			const struct sockaddr *sa)
{
	struct core_copy *cc = rq->data;
	struct cluster_store_req *req = cc->req;

	cc->resolving = false;
	net_resolver_close(&cc->resolver, NULL); /* nothing in flight now */
	if (cc->cancelled || status == GRAFT_ESHUTDOWN)
		status = graft_errf(req->errmsg, GRAFT_ESHUTDOWN,
				    "the copy was cancelled");
	else if (status != GRAFT_OK)
		graft_errf(req->errmsg, status,
			   "the transaction address %s does not resolve",
			   req->upstream);
	else
		status = copy_from(cc, sa);
	if (status == GRAFT_OK)
		return;
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
	cc = calloc(1, sizeof *cc);
	if (cc == NULL)
		return graft_errf(req->errmsg, GRAFT_ENOMEM, "out of memory");
	cc->req = req;
	cc->copy.data = cc;
	cc->resolve.data = cc;
	cc->resolve.cb = resolved_cb;
	catchup_copy_dir(db, cc->dir, sizeof cc->dir);
	net_resolver_init(&cc->resolver, req->loop, "store copy");
	rv = net_resolve(&cc->resolver, req->upstream, &sa, &cc->resolve,
			 req->errmsg);
	cc->resolving = rv == GRAFT_EAGAIN;
	if (rv == GRAFT_OK)
		rv = copy_from(cc, (struct sockaddr *)&sa);
	if (rv != GRAFT_OK && !cc->resolving) {
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
	if (cc->resolving)
		net_resolver_close(&cc->resolver, NULL); /* resolved_cb ends it */
	else
		catchup_store_copy_cancel(&cc->copy);
}

const struct cluster_store_source catchup_core_store_source = {
	.copy = core_copy_start,
	.cancel = core_copy_cancel,
};
