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
 *   were compared before; the entry of the database's last transaction
 *   then gives it its index (and so does a Raft snapshot of format 3 that
 *   names the transaction the store holds: src/cluster/snapshot.c).
 * Then it is written to this member's transaction log with its Raft
 * index. The Raft log is the durable record, so the write to the
 * transaction log is not waited for; a failed one is logged, and the Raft
 * log replays the entry at the next start. Records from a catch-up stream
 * (db_apply_stream) carry no Raft index: their frames carry 0.
 *
 * A group entry (db_commit_group: a statement's transaction and its
 * changes of the system database) is a format byte, the number of entries
 * (u32 LE) and zeros up to 8 bytes, then that many entries as above, each
 * of another database. Every part is judged as above before any is
 * applied: a replay is skipped part by part (each database persists its
 * own Raft index, so after a crash between the writes of two parts' logs
 * only the missing one applies again); one part rejected rejects the
 * whole entry, on every member alike; otherwise every part applies, in
 * one task of the gate, so that no reader sees one without the other. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/log.h"
#include "db_int.h"
#include "dbms_int.h"

#define ENTRY_FORMAT 1
#define ENTRY_DBMS_FORMAT 2 /* CREATE/DROP DATABASE: dbms_change.c */
#define ENTRY_GROUP_FORMAT 3 /* several databases' entries: below */
#define ENTRY_HEADER_SIZE 13
#define ENTRY_GROUP_HEADER_SIZE 8 /* format, count (u32 LE), zeros */
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

int entry_group_begin(struct graft_buf *out, size_t n)
{
	uint8_t h[ENTRY_GROUP_HEADER_SIZE] = {ENTRY_GROUP_FORMAT};

	for (int i = 0; i < 4; i++)
		h[1 + i] = (uint8_t)(n >> (8 * i));
	return graft_buf_append(out, h, sizeof h);
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
	struct graft_buf none;

	if (apply_defer_log(db, rec, len, txid, index))
		return;
	graft_buf_init(&none);
	entry_log_frame(db, &none, rec, len, txid, index);
}

void entry_log_frame(struct db *db, struct graft_buf *frame, const void *rec,
		     size_t len, uint64_t txid, uint64_t index)
{
	struct entry_append *a;
	int rv;

	txlog_set_raft_index(db->log, index);
	a = malloc(sizeof *a);
	rv = a != NULL ? GRAFT_OK : GRAFT_ENOMEM;
	if (a != NULL) {
		a->db = db;
		a->req.data = a;
		rv = frame->len > 0
			     ? txlog_append_frame(db->log, &a->req, txid, frame,
						  entry_append_cb)
			     : txlog_append(db->log, &a->req, txid, rec, len,
					    entry_append_cb);
	}
	graft_buf_free(frame); /* what the log handed back, or unused */
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

/* Whether transaction txid of entry index may apply to db: GRAFT_OK with
 * *skip when db has it already (a replay); else its id must be the next,
 * and (validate) its record validate. */
static int entry_admit(struct db *db, const struct txrec *rec, uint64_t index,
		       uint64_t txid, bool validate, bool *skip, char *errmsg)
{
	uint64_t applied_index = txlog_raft_index(db->log);

	*skip = true;
	if (index != 0 && index <= applied_index)
		return GRAFT_OK;
	if (txid <= db->last_applied && applied_index != 0)
		return diverged(db, index, txid, errmsg);
	if (txid <= db->last_applied) {
		/* A store whose index is unknown (copied) learns it from the
		 * entry of its last transaction: from then on a replay is
		 * told by index, and a transaction of its own is found. */
		if (txid == db->last_applied && index != 0)
			txlog_set_raft_index(db->log, index);
		return GRAFT_OK;
	}
	*skip = false;
	if (txid != db->last_applied + 1)
		return graft_errf(errmsg, GRAFT_ECONFLICT,
				  "database %s: the transaction was proposed "
				  "as transaction %" PRIu64 " but the database "
				  "is at transaction %" PRIu64 " (an earlier "
				  "proposal was rejected); retry the "
				  "transaction",
				  db->name, txid, db->last_applied);
	return validate ? apply_validate(db, rec, errmsg) : GRAFT_OK;
}

/* validated: rec passed validation against db's graph as it is now
 * (commit_claim_entry), which is not run again. */
static int entry_apply(struct db *db, const struct txrec *rec, uint64_t index,
		       uint64_t txid, const void *enc, size_t len,
		       bool validated, char *errmsg)
{
	bool skip;
	int rv = entry_admit(db, rec, index, txid, false, &skip, errmsg);

	if (rv != GRAFT_OK || skip)
		return rv;
	rv = apply_commit(db, rec, NULL, txid, index, validated, errmsg);
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

uint64_t db_raft_index(const struct db *db)
{
	return txlog_raft_index(db->log);
}

void db_adopt_raft_index(struct db *db, uint64_t index)
{
	if (txlog_raft_index(db->log) == 0)
		txlog_set_raft_index(db->log, index);
}

bool dbms_entry_is_change(const void *entry, size_t len)
{
	return len > 0 && ((const uint8_t *)entry)[0] == ENTRY_DBMS_FORMAT;
}

bool dbms_entry_is_group(const void *entry, size_t len)
{
	return len > 0 && ((const uint8_t *)entry)[0] == ENTRY_GROUP_FORMAT;
}

/* A transaction's entry (ENTRY_FORMAT) of len bytes or fewer (a group's
 * part: what is left of the group); *size: its bytes with padding. */
static int record_check(const uint8_t *p, size_t len, size_t *size,
			char *errmsg)
{
	size_t reclen;

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
	*size = ENTRY_HEADER_SIZE + reclen;
	*size += (ENTRY_ALIGN - *size % ENTRY_ALIGN) % ENTRY_ALIGN;
	return GRAFT_OK;
}

static int group_check(const uint8_t *p, size_t len, char *errmsg)
{
	size_t n, at = ENTRY_GROUP_HEADER_SIZE, size;
	int rv;

	n = len >= at ? (size_t)get_le(p + 1, 4) : 0;
	if (n == 0 || n > DB_GROUP_MAX)
		return graft_errf(errmsg, GRAFT_ECORRUPT,
				  "a group entry of %zu bytes holds %zu "
				  "transactions (1 to %d)",
				  len, n, DB_GROUP_MAX);
	for (size_t i = 0; i < n; i++) {
		rv = record_check(p + at, len - at, &size, errmsg);
		if (rv != GRAFT_OK)
			return rv;
		if (size > len - at)
			return graft_errf(errmsg, GRAFT_ECORRUPT,
					  "a group entry of %zu bytes ends "
					  "within its transaction %zu",
					  len, i + 1);
		at += size;
	}
	return GRAFT_OK;
}

int dbms_entry_check(const void *entry, size_t len, char *errmsg)
{
	size_t size;

	if (dbms_entry_is_change(entry, len))
		return GRAFT_OK; /* dbms_change_apply checks its own */
	if (dbms_entry_is_group(entry, len))
		return group_check(entry, len, errmsg);
	return record_check(entry, len, &size, errmsg);
}

/* One transaction of an entry, decoded. */
struct entry_part {
	struct txrec rec;
	bool decoded;
	struct db *db; /* NULL: nothing to apply on this member */
	uint64_t txid;
	const uint8_t *enc; /* the record, as the member's log takes it */
	size_t len;
	bool skip; /* the database has it already */
};

/* Decodes the (checked) entry at p: GRAFT_OK, also when its database was
 * dropped later in the Raft log (part->db NULL); GRAFT_ENOTFOUND when the
 * member has no such database; GRAFT_ECORRUPT. */
static int part_open(struct dbms *m, uint64_t index, const uint8_t *p,
		     struct entry_part *part, char *errmsg)
{
	char name[256];
	struct db *db;
	int rv;

	memset(part, 0, sizeof *part);
	part->txid = get_le(p + 1, 8);
	part->len = (size_t)get_le(p + 9, 4);
	part->enc = p + ENTRY_HEADER_SIZE;
	rv = txrec_decode(part->enc, part->len, &part->rec, errmsg);
	if (rv != GRAFT_OK)
		return rv;
	part->decoded = true;
	snprintf(name, sizeof name, "%.*s", (int)part->rec.db->len,
		 part->rec.db->data);
	db = dbms_get(m, name);
	/* A transaction of a database dropped (and perhaps created again)
	 * later in the log: the Raft log replays it after a restart. */
	if (index != 0 && (db != NULL ? index < dbms_origin(m, name)
				      : index <= m->change_index))
		return GRAFT_OK;
	if (db == NULL)
		return graft_errf(errmsg, GRAFT_ENOTFOUND,
				  "database %s does not exist on this member; "
				  "the entry for it is skipped",
				  name);
	part->db = db;
	return GRAFT_OK;
}

static void part_close(struct entry_part *part)
{
	if (part->decoded)
		txrec_free(&part->rec);
}

/* Every part judged first, then every part applied, or none. */
static int group_apply(struct dbms *m, uint64_t index, const uint8_t *p,
		       size_t len, uint64_t *txid, char *errmsg)
{
	struct entry_part parts[DB_GROUP_MAX];
	size_t n = (size_t)get_le(p + 1, 4), at = ENTRY_GROUP_HEADER_SIZE;
	size_t opened = 0, size;
	int rv = GRAFT_OK, missing = GRAFT_OK;

	for (; opened < n && rv == GRAFT_OK; opened++) {
		struct entry_part *part = &parts[opened];

		(void)record_check(p + at, len - at, &size, errmsg);
		rv = part_open(m, index, p + at, part, errmsg);
		at += size;
		if (rv == GRAFT_ENOTFOUND) { /* as for an entry of its own */
			missing = rv;
			rv = GRAFT_OK;
		} else if (rv == GRAFT_OK && part->db != NULL) {
			rv = entry_admit(part->db, &part->rec, index,
					 part->txid, true, &part->skip,
					 errmsg);
		}
	}
	for (size_t i = 0; i < opened && rv == GRAFT_OK; i++) {
		struct entry_part *part = &parts[i];

		if (part->db == NULL || part->skip)
			continue;
		/* validated by entry_admit just above, against the graph as
		 * it still is: each part is another database's next id */
		rv = apply_commit(part->db, &part->rec, NULL, part->txid,
				  index, true, errmsg);
		if (rv != GRAFT_OK)
			break; /* admitted just before: cannot happen */
		entry_log(part->db, part->enc, part->len, part->txid, index);
		if (*txid == 0)
			*txid = part->txid;
	}
	for (size_t i = 0; i < opened; i++)
		part_close(&parts[i]);
	if (rv == GRAFT_OK && missing != GRAFT_OK)
		return graft_errf(errmsg, missing, "a database of Raft entry "
				  "%" PRIu64 " does not exist on this member; "
				  "its part is skipped", index);
	return rv;
}

int dbms_apply_entry(struct dbms *m, uint64_t index, const void *entry,
		     size_t len, uint64_t *txid, char *errmsg)
{
	return dbms_apply_entry_validated(m, index, entry, len, NULL, txid,
					  errmsg);
}

int dbms_apply_entry_validated(struct dbms *m, uint64_t index,
			       const void *entry, size_t len,
			       struct db *validated, uint64_t *txid,
			       char *errmsg)
{
	const uint8_t *p = entry;
	struct entry_part part;
	int rv;

	*txid = 0;
	rv = dbms_entry_check(entry, len, errmsg);
	if (rv != GRAFT_OK)
		return rv;
	if (dbms_entry_is_change(entry, len))
		return dbms_change_apply(m, index, p, len, errmsg);
	if (dbms_entry_is_group(entry, len))
		return group_apply(m, index, p, len, txid, errmsg);
	rv = part_open(m, index, p, &part, errmsg);
	*txid = part.txid;
	if (rv == GRAFT_OK && part.db != NULL)
		rv = entry_apply(part.db, &part.rec, index, part.txid,
				 part.enc, part.len, part.db == validated,
				 errmsg);
	part_close(&part);
	return rv;
}
