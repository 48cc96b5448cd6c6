/* Replicated entries (db.h "Replication"): a format byte, the transaction id
 * the proposing leader expects (u64 LE), the length of the record (u32 LE),
 * then the encoded record (which names its database) and zeros up to a
 * multiple of 8 bytes: libraft 0.15's TCP transport decodes a batch of
 * entries as if each were padded so, without padding them when it sends
 * (docs/design/libraft-notes.md).
 *
 * Applying one at Raft index i is deterministic on every member:
 * - i at or below the Raft index the database last applied (persisted in
 *   its log frames and checkpoint header: txlog_set_raft_index) is a
 *   replay (the Raft log applies its entries again after a restart):
 *   skipped;
 * - else its id must be the database's next one, and it must validate;
 *   otherwise it is rejected, the same on every member (an earlier
 *   proposal was rejected, or it conflicts), and the rejection is its
 *   result;
 * - an id this member already applied, under a larger Raft index, means
 *   the member diverged: it committed transactions the cluster does not
 *   have (its data directory served outside the cluster). Skipping would
 *   lose the leader's transaction here while the leader acknowledged it,
 *   so the entry is GRAFT_ECORRUPT: the member applies nothing more and
 *   reports itself unhealthy, and the log says what the operator does.
 *   Only when the database's Raft index is unknown (0: a store copied from
 *   a catch-up stream, or one written before frames carried it, until the
 *   next entry it applies) is such an entry taken for a replay, as ids
 *   were compared before.
 * Then it is written to this member's transaction log with its Raft
 * index. The Raft log is the durable record, so the write to the
 * transaction log is not waited for; a failed one is logged, and the Raft
 * log replays the entry at the next start. Records from a catch-up stream
 * (db_apply_stream) carry no Raft index: their frames carry 0. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/log.h"
#include "db_int.h"
#include "dbms_int.h"

#define ENTRY_FORMAT 1
#define ENTRY_DBMS_FORMAT 2 /* CREATE/DROP DATABASE: dbms_change.c */
#define ENTRY_HEADER_SIZE 13
#define ENTRY_ALIGN 8

struct entry_append {
	struct txlog_append_req req;
	struct db *db;
};

int entry_encode(struct graft_buf *out, uint64_t txid, const struct txrec *r)
{
	static const uint8_t zeros[ENTRY_ALIGN];
	uint8_t format = ENTRY_FORMAT;
	size_t start = out->len, len;
	int rv = graft_buf_append(out, &format, 1);

	if (rv == GRAFT_OK)
		rv = graft_buf_put_u64le(out, txid);
	if (rv == GRAFT_OK)
		rv = graft_buf_put_u32le(out, 0); /* the length, once known */
	if (rv == GRAFT_OK)
		rv = txrec_encode(r, out);
	if (rv != GRAFT_OK) {
		out->len = start;
		return rv;
	}
	len = out->len - start - ENTRY_HEADER_SIZE;
	for (int i = 0; i < 4; i++)
		out->data[start + 9 + i] = (uint8_t)(len >> (8 * i));
	rv = graft_buf_append(out, zeros,
			      (ENTRY_ALIGN - (out->len - start) % ENTRY_ALIGN) %
				      ENTRY_ALIGN);
	if (rv != GRAFT_OK)
		out->len = start;
	return rv;
}

void entry_stamp(struct graft_buf *entry, uint64_t txid)
{
	for (int i = 0; i < 8; i++)
		entry->data[1 + i] = (uint8_t)(txid >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void entry_append_cb(struct txlog_append_req *req, int status)
{
	struct entry_append *a = req->data;
	struct db *db = a->db;

	if (status != GRAFT_OK)
		graft_error("database %s: transaction %" PRIu64 " is applied "
			    "but could not be written to the transaction log "
			    "in %s (%s); the Raft log (or the upstream of a "
			    "replica) keeps it and replays it at the next "
			    "start: check the disk",
			    db->name, req->txid, db->txlog_dir,
			    graft_strerror(status));
	free(a);
	db->entry_appends--;
	db_maybe_finish_close(db);
}

void entry_log(struct db *db, const void *rec, size_t len, uint64_t txid,
	       uint64_t index)
{
	struct entry_append *a;
	int rv;

	if (apply_defer_log(db, rec, len, txid, index))
		return;
	txlog_set_raft_index(db->log, index);
	a = malloc(sizeof *a);
	rv = a != NULL ? GRAFT_OK : GRAFT_ENOMEM;
	if (a != NULL) {
		a->db = db;
		a->req.data = a;
		rv = txlog_append(db->log, &a->req, txid, rec, len,
				  entry_append_cb);
	}
	if (rv == GRAFT_OK) {
		db->entry_appends++;
		return;
	}
	free(a);
	graft_error("database %s: transaction %" PRIu64 " is applied but "
		    "could not be written to the transaction log (%s); the "
		    "Raft log (or the upstream of a replica) keeps it and "
		    "replays it at the next start",
		    db->name, txid, graft_strerror(rv));
}

static int diverged(struct db *db, uint64_t index, uint64_t txid,
		    char *errmsg)
{
	return graft_errf(errmsg, GRAFT_ECORRUPT,
			  "database %s diverged from the cluster: Raft entry %"
			  PRIu64 " holds transaction %" PRIu64 ", which this "
			  "member already committed outside the cluster (it "
			  "is at transaction %" PRIu64 ", from Raft entry %"
			  PRIu64 "; its data directory served as another "
			  "server?). Skipping it would lose the cluster's "
			  "transaction: stop this member, empty (keep) the "
			  "directories databases/%s and transactions/%s of "
			  "its data directory, and start it: it rebuilds the "
			  "database from the cluster",
			  db->name, index, txid, db->last_applied,
			  txlog_raft_index(db->log), db->name, db->name);
}

static int entry_apply(struct db *db, const struct txrec *rec, uint64_t index,
		       uint64_t txid, const void *enc, size_t len, char *errmsg)
{
	uint64_t applied_index = txlog_raft_index(db->log);
	int rv;

	if (index != 0 && index <= applied_index)
		return GRAFT_OK;
	if (txid <= db->last_applied)
		return applied_index == 0 ? GRAFT_OK
					  : diverged(db, index, txid, errmsg);
	if (txid != db->last_applied + 1)
		return graft_errf(errmsg, GRAFT_ECONFLICT,
				  "database %s: the transaction was proposed "
				  "as transaction %" PRIu64 " but the database "
				  "is at transaction %" PRIu64 " (an earlier "
				  "proposal was rejected); retry the "
				  "transaction",
				  db->name, txid, db->last_applied);
	rv = db_apply(db, rec, txid, errmsg);
	if (rv == GRAFT_OK)
		entry_log(db, enc, len, txid, index);
	return rv;
}

int db_apply_stream(struct db *db, const void *rec, size_t len, uint64_t txid,
		    char *errmsg)
{
	struct txrec r;
	int rv = txrec_decode(rec, len, &r, errmsg);

	if (rv != GRAFT_OK)
		return rv;
	if (r.db->len != strlen(db->name) ||
	    memcmp(r.db->data, db->name, r.db->len) != 0)
		rv = graft_errf(errmsg, GRAFT_ECORRUPT,
				"the record of transaction %" PRIu64 " names "
				"database %.*s, not %s",
				txid, (int)r.db->len, r.db->data, db->name);
	if (rv == GRAFT_OK)
		rv = db_apply(db, &r, txid, errmsg);
	if (rv == GRAFT_OK)
		entry_log(db, rec, len, txid, 0);
	txrec_free(&r);
	return rv;
}

bool dbms_entry_is_change(const void *entry, size_t len)
{
	return len > 0 && ((const uint8_t *)entry)[0] == ENTRY_DBMS_FORMAT;
}

int dbms_entry_check(const void *entry, size_t len, char *errmsg)
{
	const uint8_t *p = entry;
	size_t reclen;

	if (dbms_entry_is_change(entry, len))
		return GRAFT_OK; /* dbms_change_apply checks its own */
	if (len < ENTRY_HEADER_SIZE || p[0] != ENTRY_FORMAT)
		return graft_errf(errmsg, GRAFT_ECORRUPT,
				  "a replicated entry of %zu bytes has an "
				  "unknown format (%u); a newer member wrote "
				  "it: upgrade this member",
				  len, len > 0 ? p[0] : 0u);
	reclen = (size_t)get_le(p + 9, 4);
	if (reclen > len - ENTRY_HEADER_SIZE)
		return graft_errf(errmsg, GRAFT_ECORRUPT,
				  "a replicated entry of %zu bytes claims a "
				  "record of %zu bytes",
				  len, reclen);
	return GRAFT_OK;
}

int dbms_apply_entry(struct dbms *m, uint64_t index, const void *entry,
		     size_t len, uint64_t *txid, char *errmsg)
{
	const uint8_t *p = entry;
	struct txrec rec;
	struct db *db;
	char name[256];
	size_t reclen;
	int rv;

	*txid = 0;
	rv = dbms_entry_check(entry, len, errmsg);
	if (rv != GRAFT_OK)
		return rv;
	if (dbms_entry_is_change(entry, len))
		return dbms_change_apply(m, index, p, len, errmsg);
	*txid = get_le(p + 1, 8);
	reclen = (size_t)get_le(p + 9, 4);
	len = ENTRY_HEADER_SIZE + reclen;
	rv = txrec_decode(p + ENTRY_HEADER_SIZE, reclen, &rec, errmsg);
	if (rv != GRAFT_OK)
		return rv;
	snprintf(name, sizeof name, "%.*s", (int)rec.db->len, rec.db->data);
	db = dbms_get(m, name);
	/* A transaction of a database dropped (and perhaps created again)
	 * later in the log: the Raft log replays it after a restart. */
	if (index != 0 && (db != NULL ? index < dbms_origin(m, name)
				      : index <= m->change_index))
		rv = GRAFT_OK;
	else if (db == NULL)
		rv = graft_errf(errmsg, GRAFT_ENOTFOUND,
				"database %s does not exist on this member; "
				"the entry for it is skipped",
				name);
	else
		rv = entry_apply(db, &rec, index, *txid, p + ENTRY_HEADER_SIZE,
				 len - ENTRY_HEADER_SIZE, errmsg);
	txrec_free(&rec);
	return rv;
}
