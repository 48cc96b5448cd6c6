/* CREATE and DROP DATABASE in a cluster (dbms.h "Replication of the dbms").
 *
 * Happy path: dbms_change checks the command against this member's
 * databases (the same checks SINGLE mode makes), encodes an entry and hands
 * it to the replicator; once the group commits it, every member applies it
 * through dbms_apply_entry -> dbms_change_apply: it creates (or drops) the
 * database and records the entry's Raft index in <data>/dbms/raft_applied,
 * durably, before anything else is applied. The proposing member's callback
 * then gets the apply's result.
 *
 * Replays: after a restart the Raft log applies its entries again. A change
 * at or below the recorded index is skipped; a transaction entry below the
 * index that created its database belongs to an earlier database of that
 * name and is skipped too (entry.c asks dbms_origin).
 *
 * Failures: a change that cannot be applied (a concurrent CREATE of the same
 * name won) is the entry's result, the same on every member; a drop whose
 * files cannot all be deleted is logged (the database is gone from the
 * list either way); raft_applied that cannot be written stops the member
 * (GRAFT_ECORRUPT to the caller): going on would apply the change again at
 * the next start.
 *
 * Entry: format byte 2, the operation (1 create, 2 drop), two zero bytes,
 * the name's length (u32 LE), the name, zeros up to a multiple of 8 bytes
 * (libraft's TCP transport needs it: docs/design/libraft-notes.md). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/buf.h"
#include "../util/fs.h"
#include "../util/log.h"
#include "dbms_int.h"

#define CHANGE_FORMAT 2
#define CHANGE_CREATE 1
#define CHANGE_DROP 2
#define CHANGE_HEADER 8
#define APPLIED_FILE "raft_applied"

void dbms_set_replicator(struct dbms *m, const struct dbms_replicator_ops *ops,
			 void *data)
{
	m->repl = ops;
	m->repl_data = data;
	for (size_t i = 0; i < m->n; i++)
		db_set_replicator(m->dbs[i], ops != NULL ? ops->db : NULL, data);
}

/* The record of applied changes -------------------------------------------
 * Text, one item a line: "applied <index>", "single <n>" once a SINGLE
 * server gave a database an id, then "db <name> <index>" for every
 * database a replicated entry (or a SINGLE server) created. */

int dbms_origins_load(struct dbms *m, const char *data_dir, char *errmsg)
{
	char path[4200], line[256], name[DBMS_NAME_MAX];
	unsigned long long index;
	FILE *f;
	int rv = GRAFT_OK;

	if (graft_path_join(m->dbms_dir, sizeof m->dbms_dir, data_dir,
			    "dbms") != GRAFT_OK ||
	    graft_path_join(path, sizeof path, m->dbms_dir, APPLIED_FILE) !=
		    GRAFT_OK)
		return graft_errf(errmsg, GRAFT_ETOOBIG, "path too long: %s",
				  data_dir);
	f = fopen(path, "r");
	if (f == NULL)
		return GRAFT_OK; /* no replicated change applied yet */
	while (rv == GRAFT_OK && fgets(line, sizeof line, f) != NULL) {
		struct dbms_origin *o;

		if (sscanf(line, "applied %llu", &index) == 1) {
			m->change_index = index;
			continue;
		}
		if (sscanf(line, "single %llu", &index) == 1) {
			m->single_ids = index;
			continue;
		}
		if (sscanf(line, "db %63s %llu", name, &index) != 2) {
			rv = graft_errf(errmsg, GRAFT_ECORRUPT,
					"%s: cannot read the line '%.100s'; "
					"restore the file from a backup of "
					"this member or empty its data "
					"directory and let it catch up",
					path, line);
			break;
		}
		o = realloc(m->origins, (m->n_origins + 1) * sizeof *o);
		if (o == NULL) {
			rv = graft_errf(errmsg, GRAFT_ENOMEM, "out of memory");
			break;
		}
		m->origins = o;
		snprintf(o[m->n_origins].name, DBMS_NAME_MAX, "%s", name);
		o[m->n_origins++].index = index;
	}
	fclose(f);
	return rv;
}

static int origins_save(struct dbms *m, char *errmsg)
{
	struct graft_buf b;
	char path[4200], line[128];
	int rv = GRAFT_OK;

	if (graft_path_join(path, sizeof path, m->dbms_dir, APPLIED_FILE) !=
	    GRAFT_OK)
		return graft_errf(errmsg, GRAFT_ETOOBIG, "path too long: %s",
				  m->dbms_dir);
	graft_buf_init(&b);
	snprintf(line, sizeof line, "applied %" PRIu64 "\n", m->change_index);
	rv = graft_buf_append(&b, line, strlen(line));
	if (rv == GRAFT_OK && m->single_ids != 0) {
		snprintf(line, sizeof line, "single %" PRIu64 "\n",
			 m->single_ids);
		rv = graft_buf_append(&b, line, strlen(line));
	}
	for (size_t i = 0; i < m->n_origins && rv == GRAFT_OK; i++) {
		snprintf(line, sizeof line, "db %s %" PRIu64 "\n",
			 m->origins[i].name, m->origins[i].index);
		rv = graft_buf_append(&b, line, strlen(line));
	}
	if (rv == GRAFT_OK)
		rv = graft_file_replace(m->dbms_dir, path, b.data, b.len,
					errmsg);
	else
		rv = graft_errf(errmsg, rv, "out of memory");
	graft_buf_free(&b);
	return rv;
}

uint64_t dbms_change_index(const struct dbms *m)
{
	return m->change_index;
}

uint64_t dbms_origin(const struct dbms *m, const char *name)
{
	for (size_t i = 0; i < m->n_origins; i++)
		if (strcmp(m->origins[i].name, name) == 0)
			return m->origins[i].index;
	return 0;
}

/* Records that name was created (index > 0) or dropped (index 0). */
static int origin_set(struct dbms *m, const char *name, uint64_t index)
{
	struct dbms_origin *o;
	size_t i;

	for (i = 0; i < m->n_origins; i++)
		if (strcmp(m->origins[i].name, name) == 0)
			break;
	if (index == 0) {
		if (i < m->n_origins)
			m->origins[i] = m->origins[--m->n_origins];
		return GRAFT_OK;
	}
	if (i == m->n_origins) {
		o = realloc(m->origins, (m->n_origins + 1) * sizeof *o);
		if (o == NULL)
			return GRAFT_ENOMEM;
		m->origins = o;
		m->n_origins++;
	}
	snprintf(m->origins[i].name, DBMS_NAME_MAX, "%s", name);
	m->origins[i].index = index;
	return GRAFT_OK;
}

/* Proposing ---------------------------------------------------------------- */

static int encode(struct graft_buf *b, bool create, const char *name)
{
	static const uint8_t zeros[8];
	uint8_t head[4] = {CHANGE_FORMAT, create ? CHANGE_CREATE : CHANGE_DROP,
			   0, 0};
	size_t n = strlen(name);
	int rv = graft_buf_append(b, head, sizeof head);

	if (rv == GRAFT_OK)
		rv = graft_buf_put_u32le(b, (uint32_t)n);
	if (rv == GRAFT_OK)
		rv = graft_buf_append(b, name, n);
	if (rv == GRAFT_OK)
		rv = graft_buf_append(b, zeros, (8 - b->len % 8) % 8);
	return rv;
}

static void dropped_here(void *arg, int status)
{
	struct dbms_change_req *req = arg;

	if (status != GRAFT_OK)
		snprintf(req->errmsg, sizeof req->errmsg,
			 "the database was dropped but its files could not "
			 "all be deleted; remove them by hand");
	req->cb(req, status);
}

/* SINGLE: name's id is the server's next one, recorded durably before
 * the database is created (a create that fails then leaves an id nobody
 * uses). Ids only grow, so the bookmarks of a dropped database name a
 * smaller id than the database that took its name, as in a cluster. */
static int single_id(struct dbms *m, const char *name, char *errmsg)
{
	if (origin_set(m, name, m->single_ids + 1) != GRAFT_OK)
		return graft_errf(errmsg, GRAFT_ENOMEM, "out of memory");
	m->single_ids++;
	return origins_save(m, errmsg);
}

int dbms_change(struct dbms *m, bool create, const char *name,
		struct dbms_change_req *req, dbms_change_cb cb)
{
	struct graft_buf b;
	int rv = create ? dbms_create_check(m, name, req->errmsg)
			: dbms_drop_check(m, name, req->errmsg);

	if (rv != GRAFT_OK)
		return rv;
	req->m = m;
	req->cb = cb;
	if (m->repl == NULL && !create)
		return dbms_drop(m, name, dropped_here, req, req->errmsg);
	if (m->repl == NULL) {
		rv = single_id(m, name, req->errmsg);
		if (rv == GRAFT_OK)
			rv = dbms_create(m, name, req->errmsg);
		if (rv == GRAFT_OK)
			cb(req, GRAFT_OK);
		return rv;
	}
	graft_buf_init(&b);
	rv = encode(&b, create, name);
	if (rv == GRAFT_OK)
		rv = m->repl->propose(m->repl_data, b.data, b.len, req,
				      req->errmsg);
	else
		rv = graft_errf(req->errmsg, rv, "out of memory");
	graft_buf_free(&b);
	return rv;
}

void dbms_change_done(struct dbms_change_req *req, int status,
		      const char *errmsg)
{
	if (status != GRAFT_OK && errmsg != NULL)
		snprintf(req->errmsg, sizeof req->errmsg, "%s", errmsg);
	req->cb(req, status);
}

/* Applying ----------------------------------------------------------------- */

static void dropped_applied(void *arg, int status)
{
	char *name = arg;

	if (status != GRAFT_OK)
		graft_error("database %s was dropped but its files could not "
			    "all be deleted; remove them by hand",
			    name);
	free(name);
}

static int apply_drop(struct dbms *m, const char *name, char *errmsg)
{
	char *copy = strdup(name);
	int rv;

	if (copy == NULL)
		return graft_errf(errmsg, GRAFT_ENOMEM, "out of memory");
	rv = dbms_drop(m, name, dropped_applied, copy, errmsg);
	if (rv != GRAFT_OK)
		free(copy);
	return rv;
}

/* Notes the change at index, and that name was created at origin (0:
 * dropped) when changed; saved before anything else is applied. */
static int record(struct dbms *m, bool changed, const char *name,
		  uint64_t origin, uint64_t index, char *errmsg)
{
	int rec = GRAFT_OK;

	m->change_index = index;
	if (changed)
		rec = origin_set(m, name, origin);
	if (rec == GRAFT_OK && index != 0)
		rec = origins_save(m, errmsg);
	if (rec != GRAFT_OK)
		return graft_errf(errmsg, GRAFT_ECORRUPT,
				  "database %s: cannot record the applied "
				  "change: %s",
				  name, rec == GRAFT_ENOMEM ? "out of memory"
							    : errmsg);
	return GRAFT_OK;
}

int dbms_change_apply(struct dbms *m, uint64_t index, const uint8_t *p,
		      size_t len, char *errmsg)
{
	char name[DBMS_NAME_MAX], saved[GRAFT_ERRMSG_SIZE];
	size_t n;
	int rv, rec;

	n = len >= CHANGE_HEADER ? (size_t)p[4] | (size_t)p[5] << 8 |
					   (size_t)p[6] << 16 |
					   (size_t)p[7] << 24
				 : 0;
	if (len < CHANGE_HEADER || n == 0 || n >= DBMS_NAME_MAX ||
	    n > len - CHANGE_HEADER ||
	    (p[1] != CHANGE_CREATE && p[1] != CHANGE_DROP))
		return graft_errf(errmsg, GRAFT_ECORRUPT,
				  "a replicated CREATE/DROP DATABASE entry of "
				  "%zu bytes cannot be decoded",
				  len);
	if (index != 0 && index <= m->change_index)
		return GRAFT_OK; /* applied before this start */
	memcpy(name, p + CHANGE_HEADER, n);
	name[n] = '\0';
	rv = p[1] == CHANGE_CREATE ? dbms_create(m, name, errmsg)
				   : apply_drop(m, name, errmsg);
	graft_info("dbms: %s DATABASE %s at Raft index %" PRIu64 ": %s",
		   p[1] == CHANGE_CREATE ? "CREATE" : "DROP", name, index,
		   rv == GRAFT_OK ? "applied" : errmsg);
	/* The index is recorded whatever the result: a refused change is
	 * applied as a refusal, and is not tried again. */
	memcpy(saved, errmsg, sizeof saved);
	rec = record(m, rv == GRAFT_OK, name,
		     p[1] == CHANGE_CREATE ? index : 0, index, errmsg);
	if (rec != GRAFT_OK)
		return rec;
	memcpy(errmsg, saved, GRAFT_ERRMSG_SIZE);
	return rv;
}

int dbms_mirror(struct dbms *m, bool create, const char *name,
		uint64_t origin, uint64_t change_index, char *errmsg)
{
	int rv = create ? dbms_create(m, name, errmsg)
			: apply_drop(m, name, errmsg);

	if (rv != GRAFT_OK)
		return rv;
	return record(m, true, name, create ? origin : 0, change_index,
		      errmsg);
}

/* Offline ---------------------------------------------------------------- */

int dbms_origin_read(const char *data_dir, const char *name, uint64_t *id,
		     char *errmsg)
{
	struct dbms m;
	int rv;

	memset(&m, 0, sizeof m);
	rv = dbms_origins_load(&m, data_dir, errmsg);
	*id = rv == GRAFT_OK ? dbms_origin(&m, name) : 0;
	free(m.origins);
	return rv;
}

int dbms_origin_restore(const char *data_dir, const char *name, uint64_t id,
			char *errmsg)
{
	struct dbms m;
	int rv;

	memset(&m, 0, sizeof m);
	rv = dbms_origins_load(&m, data_dir, errmsg);
	if (rv == GRAFT_OK)
		rv = graft_mkdir_p(m.dbms_dir, errmsg); /* never started */
	if (rv == GRAFT_OK && origin_set(&m, name, id) != GRAFT_OK)
		rv = graft_errf(errmsg, GRAFT_ENOMEM, "out of memory");
	if (rv == GRAFT_OK && id > m.single_ids)
		m.single_ids = id;
	if (rv == GRAFT_OK)
		rv = origins_save(&m, errmsg);
	free(m.origins);
	return rv;
}
