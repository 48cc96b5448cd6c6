/* Raft snapshots and log pruning (db.cluster.raft.log.prune_strategy, 4.x
 * causal_clustering.raft_log_prune_strategy).
 *
 * libraft 0.15 keeps a snapshot whole in memory, sends it as one message
 * and restores it synchronously on the loop, so graft's Raft snapshot is
 * small: the Raft index and term it stands for, the index of the last
 * CREATE/DROP DATABASE applied and, per database, its name, id
 * (txlog_wire_db_id), last applied transaction id, the Raft index that
 * created it (dbms_origin: which database of that name it is) and the
 * Raft index of that transaction (db_raft_index; 0 unknown). The stores
 * themselves are the databases' own checkpoints and transaction logs:
 *
 *   GRAFT-RAFT-SNAPSHOT 3 <raft index> <term> <change index>\n
 *   <database> <id, 8 hex> <txid> <origin> <txid's raft index>\n ...
 *
 * (Versions 1 and 2, still read, had no transaction's Raft index, and 1
 * neither the change index nor the origins.) A store copied over the
 * transaction port knows no Raft index (its log came from a catch-up
 * stream); one standing at the snapshot's transaction takes the
 * snapshot's index for it (cluster_snap_adopt), one past it learns it
 * from the entry of its last transaction (src/db/entry.c), so that
 * replays are told by index and a divergence is found.
 *
 * Taking one (libraft's asynchronous snapshot, FSM version 3): on the
 * loop, the applied transaction ids are written down and every database
 * watched until its log is on disk up to them (db_watch_synced: a core's
 * logs are written without fdatasync, so this is where they are synced);
 * on a libuv
 * worker, libraft's snapshot_async waits for those watches (at most
 * DURABLE_WAIT_MS, else the snapshot is skipped); only then does libraft
 * write the snapshot and drop the entries before it, so a crash never
 * loses a transaction both from the Raft log and from the derived one.
 *
 * Installing one (at start, this member's own; or sent by the leader to a
 * member whose log ends before the leader's first entry): unless this
 * member applied a CREATE/DROP DATABASE after it (its list is then the
 * newer one: a restart after a DROP), first the databases are made those
 * it names, as the CREATE/DROP DATABASE entries
 * it covers (which this member may never have applied) made them: one
 * created before it and not named was dropped meanwhile, and one named
 * with another origin was dropped and created again — dropped here, and
 * created empty with the snapshot's origin (a database created after the
 * snapshot's index, applied here before a restart, is newer and kept).
 * Then every database it names must hold at least its transaction id
 * here, and entries after it apply as usual. A member whose stores are behind cannot apply what
 * follows without diverging: it holds those entries and copies the stores
 * from another member first (behind.c). */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../txlog/txlog.h"
#include "../util/log.h"
#include "cluster_int.h"

#define SNAPSHOT_MAGIC "GRAFT-RAFT-SNAPSHOT"
#define SNAPSHOT_VERSION 3
#define SNAPSHOT_MAX_DBS 256
#define SNAPSHOT_LINE 320
/* libraft's own default: a follower a moment behind gets entries, not a
 * snapshot. */
#define MIN_TRAILING 128
/* A guess at an entry's size until entries were applied. The size and
 * files strategies are recomputed every AVG_MIN_ENTRIES applied entries
 * (cluster_snap_retune) from the average of the entries applied since the
 * last snapshot (the previous average while fewer than AVG_MIN_ENTRIES):
 * with the guess alone, "100M size" waited for 100,000 entries however
 * big, 40 GB of a bulk load's 400 KB entries; with an average over all
 * time, a bulk load made the threshold of the small writes after it 2,000
 * times too small, a snapshot (and a new 8 MiB segment) every few hundred
 * ms. */
#define GUESSED_ENTRY_BYTES 1024
#define AVG_MIN_ENTRIES 16
#define DURABLE_WAIT_MS 10000
/* libraft's segment size (raft_uv_set_segment_size's default). */
#define SEGMENT_BYTES (8u << 20)

/* The average entry size since the last snapshot, or the one before. */
static uint64_t entry_avg(struct cluster *c)
{
	if (c->applied_entries >= AVG_MIN_ENTRIES)
		c->entry_avg = c->applied_bytes / c->applied_entries;
	return c->entry_avg > 0 ? c->entry_avg : GUESSED_ENTRY_BYTES;
}

/* Entries to keep for the strategy (UINT_MAX: all, never snapshot). */
static unsigned keep_entries(struct cluster *c)
{
	const struct graft_retention *p = &c->o.prune;
	uint64_t avg = entry_avg(c);
	uint64_t n;

	switch (p->kind) {
	case GRAFT_RETAIN_NONE:
		n = MIN_TRAILING;
		break;
	case GRAFT_RETAIN_TXS:
		n = p->amount;
		break;
	case GRAFT_RETAIN_SIZE:
		n = p->amount / (avg > 0 ? avg : 1);
		break;
	case GRAFT_RETAIN_FILES:
		n = p->amount * SEGMENT_BYTES / (avg > 0 ? avg : 1);
		break;
	default: /* keep_all; a time cannot be kept by libraft: all */
		return UINT_MAX;
	}
	if (n < MIN_TRAILING)
		n = MIN_TRAILING;
	return n >= UINT_MAX / 2 ? UINT_MAX : (unsigned)n;
}

/* Keeps between keep and twice keep entries: a snapshot every keep
 * entries, keep trailing ones after it. */
static void set_thresholds(struct cluster *c)
{
	unsigned keep = keep_entries(c);

	raft_set_snapshot_threshold(&c->raft, keep);
	raft_set_snapshot_trailing(&c->raft, keep == UINT_MAX ? 0 : keep);
}

void cluster_snap_retune(struct cluster *c)
{
	/* Not while a snapshot is taken: libraft reads the trailing count
	 * again when it ends (takeSnapshotCb), and the log kept on disk and
	 * in memory would differ. */
	if (c->applied_entries % AVG_MIN_ENTRIES == 0 &&
	    c->snap_watches == NULL &&
	    (c->o.prune.kind == GRAFT_RETAIN_SIZE ||
	     c->o.prune.kind == GRAFT_RETAIN_FILES))
		set_thresholds(c);
}

void cluster_snap_configure(struct cluster *c)
{
	if (c->o.prune.kind == GRAFT_RETAIN_TIME)
		graft_warn("cluster: db.cluster.raft.log.prune_strategy by time "
			   "is not supported for the Raft log (libraft counts "
			   "entries): the whole log is kept; use a size, "
			   "files or txs strategy");
	set_thresholds(c);
}

static void durable_cb(struct db_watch *w, int status)
{
	struct cluster *c = w->data;

	pthread_mutex_lock(&c->snap_lock);
	if (status != GRAFT_OK)
		c->snap_failed = true;
	c->snap_waiting--;
	pthread_cond_signal(&c->snap_cond);
	pthread_mutex_unlock(&c->snap_lock);
}

/* Watches every database's log up to what is applied (loop). */
static int watch_logs(struct cluster *c, struct db **dbs, size_t n)
{
	c->snap_watches = calloc(n > 0 ? n : 1, sizeof *c->snap_watches);
	if (c->snap_watches == NULL)
		return RAFT_NOMEM;
	c->snap_n_watches = n;
	c->snap_failed = false;
	for (size_t i = 0; i < n; i++) {
		struct db_watch *w = &c->snap_watches[i];

		w->data = c;
		pthread_mutex_lock(&c->snap_lock);
		c->snap_waiting++;
		pthread_mutex_unlock(&c->snap_lock);
		if (db_watch_synced(dbs[i], w, db_last_txid(dbs[i]),
				    durable_cb) != GRAFT_OK)
			durable_cb(w, GRAFT_ESHUTDOWN);
	}
	return 0;
}

int cluster_snap_take(struct cluster *c, struct raft_buffer *bufs[],
		  unsigned *n_bufs)
{
	struct db *dbs[SNAPSHOT_MAX_DBS];
	size_t n = dbms_list(c->dbms, dbs, SNAPSHOT_MAX_DBS);
	size_t cap = (n + 1) * SNAPSHOT_LINE, len;
	uint64_t index = c->raft.snapshot.pending.index;
	uint64_t term = c->raft.snapshot.pending.term;
	char *text;

	/* Behind, the stores miss the held entries, and entries waiting
	 * for the gate are not in them yet: a snapshot of this member would
	 * name less than its index covers. */
	if (n > SNAPSHOT_MAX_DBS || c->stores_behind ||
	    dbms_entries_pending(c->dbms))
		return RAFT_BUSY;
	*bufs = raft_malloc(sizeof **bufs);
	text = raft_malloc(cap);
	if (*bufs == NULL || text == NULL || watch_logs(c, dbs, n) != 0) {
		raft_free(*bufs);
		raft_free(text);
		*bufs = NULL;
		return RAFT_NOMEM;
	}
	len = (size_t)snprintf(text, cap,
			       "%s %d %" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
			       SNAPSHOT_MAGIC, SNAPSHOT_VERSION, index, term,
			       dbms_change_index(c->dbms));
	for (size_t i = 0; i < n && len < cap; i++)
		len += (size_t)snprintf(
			text + len, cap - len,
			"%s %08" PRIx32 " %" PRIu64 " %" PRIu64 " %" PRIu64
			"\n",
			db_name(dbs[i]), txlog_wire_db_id(db_name(dbs[i])),
			db_last_txid(dbs[i]),
			dbms_origin(c->dbms, db_name(dbs[i])),
			db_raft_index(dbs[i]));
	(*bufs)[0].base = text;
	(*bufs)[0].len = len;
	*n_bufs = 1;
	c->snap_index = index;
	c->snap_term = term;
	return 0;
}

int cluster_snap_wait_durable(struct cluster *c)
{
	struct timespec until;
	int rv = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += DURABLE_WAIT_MS / 1000;
	pthread_mutex_lock(&c->snap_lock);
	while (c->snap_waiting > 0 && rv != ETIMEDOUT)
		rv = pthread_cond_timedwait(&c->snap_cond, &c->snap_lock,
					    &until);
	rv = c->snap_waiting > 0 || c->snap_failed ? RAFT_IOERR : 0;
	pthread_mutex_unlock(&c->snap_lock);
	return rv;
}

void cluster_snap_finish(struct cluster *c, struct raft_buffer *bufs[],
		     unsigned *n_bufs)
{
	bool durable;

	pthread_mutex_lock(&c->snap_lock);
	durable = c->snap_waiting == 0 && !c->snap_failed;
	c->snap_waiting = 0;
	pthread_mutex_unlock(&c->snap_lock);
	for (size_t i = 0; i < c->snap_n_watches; i++)
		db_unwatch(&c->snap_watches[i]);
	free(c->snap_watches);
	c->snap_watches = NULL;
	c->snap_n_watches = 0;
	if (*bufs != NULL) {
		for (unsigned i = 0; i < *n_bufs; i++)
			raft_free((*bufs)[i].base);
		raft_free(*bufs);
	}
	*bufs = NULL;
	*n_bufs = 0;
	/* libraft calls this whether or not it wrote the snapshot; only a
	 * written one moves the log's snapshot index (takeSnapshotCb). */
	if (durable && c->raft.log.snapshot.last_index == c->snap_index)
		graft_info("cluster: Raft snapshot taken at index %" PRIu64
			   " (term %" PRIu64 "); the log keeps %u entries "
			   "before it",
			   c->snap_index, c->snap_term,
			   c->raft.snapshot.trailing);
	else if (durable)
		graft_warn("cluster: Raft snapshot at index %" PRIu64 " could "
			   "not be written to %s/raft (disk full or not "
			   "writable?); the log keeps its entries and the next "
			   "snapshot tries again",
			   c->snap_index, c->o.state_dir);
	else
		graft_warn("cluster: Raft snapshot at index %" PRIu64 " skipped: "
			   "the databases' logs were not durable up to it "
			   "within %d s; the next one tries again",
			   c->snap_index, DURABLE_WAIT_MS / 1000);
	/* The next threshold follows the entries' average size; the next
	 * average counts from here. */
	set_thresholds(c);
	if (durable && c->raft.log.snapshot.last_index == c->snap_index) {
		c->applied_bytes = 0;
		c->applied_entries = 0;
	}
}

void cluster_snap_init(struct cluster *c)
{
	pthread_mutex_init(&c->snap_lock, NULL);
	pthread_cond_init(&c->snap_cond, NULL);
}

void cluster_snap_fini(struct cluster *c)
{
	pthread_cond_destroy(&c->snap_cond);
	pthread_mutex_destroy(&c->snap_lock);
}

/* The databases the snapshot names, into *out (owned by the caller);
 * *why says what is wrong when it is not a snapshot of graft's. */
static int parse_dbs(char *text, int version, struct cluster_snap_db **out,
		     size_t *n, char *why, size_t why_len)
{
	struct cluster_snap_db *dbs = calloc(SNAPSHOT_MAX_DBS, sizeof *dbs);
	char *save = NULL;

	*n = 0;
	if (dbs == NULL)
		return GRAFT_ENOMEM;
	for (char *line = strtok_r(text, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		struct cluster_snap_db *d = &dbs[*n];
		int fields = version == 1 ? 3 : version == 2 ? 4 : 5;

		d->origin = SNAP_ORIGIN_UNKNOWN;
		d->raft_index = 0;
		if (*n == SNAPSHOT_MAX_DBS ||
		    sscanf(line,
			   "%127s %" SCNx32 " %" SCNu64 " %" SCNu64 " %" SCNu64,
			   d->name, &d->id, &d->txid, &d->origin,
			   &d->raft_index) < fields ||
		    d->id != txlog_wire_db_id(d->name)) {
			snprintf(why, why_len, "a line of it is malformed or "
				 "names a database by the wrong id: %.100s",
				 line);
			free(dbs);
			return GRAFT_ECORRUPT;
		}
		(*n)++;
	}
	*out = dbs;
	return GRAFT_OK;
}

static const struct cluster_snap_db *
snap_db_find(const struct cluster_snap_db *dbs, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(dbs[i].name, name) == 0)
			return &dbs[i];
	return NULL;
}

/* Whether this member's database name is one the snapshot at index does
 * not hold (d: what it names, NULL: nothing): created before the
 * snapshot, and dropped in what it covers (perhaps created again). */
static bool stale_db(struct cluster *c, const char *name, uint64_t index,
		     const struct cluster_snap_db *d)
{
	uint64_t origin = dbms_origin(c->dbms, name);

	if (origin > index)
		return false; /* newer than the snapshot: applied after it */
	if (d == NULL)
		return true;
	return d->origin != SNAP_ORIGIN_UNKNOWN && d->origin != origin;
}

static void reconciled(const char *name, const char *what, int rv,
		       const char *errmsg)
{
	if (rv == GRAFT_OK)
		graft_info("cluster: database %s %s, as the Raft snapshot "
			   "says", name, what);
	else
		graft_warn("cluster: database %s could not be %s as the Raft "
			   "snapshot says: %s", name, what, errmsg);
}

/* Makes this member's databases those the snapshot at index names (see
 * the top of the file): drops the stale ones, creates the missing ones
 * (empty, with the snapshot's origin; copied later when behind). */
static void reconcile_dbs(struct cluster *c, uint64_t index,
			  uint64_t change_index,
			  const struct cluster_snap_db *dbs, size_t n)
{
	char names[SNAPSHOT_MAX_DBS][sizeof dbs->name];
	char errmsg[GRAFT_ERRMSG_SIZE];
	struct db *local[SNAPSHOT_MAX_DBS];
	size_t n_local = dbms_list(c->dbms, local, SNAPSHOT_MAX_DBS);
	uint64_t ci = dbms_change_index(c->dbms);
	int rv;

	if (change_index > ci)
		ci = change_index;
	if (n_local > SNAPSHOT_MAX_DBS)
		n_local = SNAPSHOT_MAX_DBS;
	for (size_t i = 0; i < n_local; i++) /* a drop changes local */
		snprintf(names[i], sizeof names[i], "%s", db_name(local[i]));
	for (size_t i = 0; i < n_local; i++) {
		if (!stale_db(c, names[i], index, snap_db_find(dbs, n, names[i])))
			continue;
		rv = dbms_mirror(c->dbms, false, names[i], 0, ci, errmsg);
		reconciled(names[i], "dropped", rv, errmsg);
	}
	for (size_t i = 0; i < n; i++) {
		if (dbms_get(c->dbms, dbs[i].name) != NULL)
			continue;
		rv = dbms_mirror(c->dbms, true, dbs[i].name,
				 cluster_snap_db_origin(&dbs[i]), ci, errmsg);
		reconciled(dbs[i].name, "created (empty)", rv, errmsg);
	}
}

/* The first database of dbs that this member lacks or holds less of; *why
 * says how. GRAFT_OK when it holds all. newer: this member applied a
 * CREATE/DROP DATABASE after the snapshot, so its list is the newer one: a
 * database it lacks, or holds with another origin, was dropped (and
 * perhaps created again) after the snapshot, and needs nothing of it. */
static int check_stores(struct cluster *c, const struct cluster_snap_db *dbs,
			size_t n, bool newer, char *why, size_t why_len)
{
	for (size_t i = 0; i < n; i++) {
		struct db *db = dbms_get(c->dbms, dbs[i].name);

		if (newer && (db == NULL || stale_db(c, dbs[i].name, UINT64_MAX,
						     &dbs[i])))
			continue;
		if (db == NULL) {
			snprintf(why, why_len, "database %s (up to transaction "
				 "%" PRIu64 ") does not exist here",
				 dbs[i].name, dbs[i].txid);
			return GRAFT_ENOTFOUND;
		}
		if (db_last_txid(db) < dbs[i].txid) {
			snprintf(why, why_len, "database %s is at transaction %"
				 PRIu64 " here and the snapshot needs %" PRIu64,
				 dbs[i].name, db_last_txid(db), dbs[i].txid);
			return GRAFT_ENOTFOUND;
		}
	}
	return GRAFT_OK;
}

void cluster_snap_adopt(struct cluster *c, const struct cluster_snap_db *dbs,
			size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct db *db = dbms_get(c->dbms, dbs[i].name);

		if (db == NULL || dbs[i].raft_index == 0 ||
		    db_raft_index(db) != 0 || db_last_txid(db) != dbs[i].txid ||
		    stale_db(c, dbs[i].name, UINT64_MAX, &dbs[i]))
			continue;
		db_adopt_raft_index(db, dbs[i].raft_index);
		graft_info("cluster: database %s (its store copied) takes Raft "
			   "index %" PRIu64 " for its transaction %" PRIu64
			   " from the Raft snapshot",
			   dbs[i].name, dbs[i].raft_index, dbs[i].txid);
	}
}

int cluster_snap_restore(struct cluster *c, struct raft_buffer *buf)
{
	char magic[32], why[512] = "";
	uint64_t index = 0, term = 0, change_index = 0;
	char *text = malloc(buf->len + 1), *body;
	struct cluster_snap_db *dbs = NULL;
	int version = 0, rv;
	size_t n = 0;
	bool newer;

	if (text == NULL)
		return RAFT_NOMEM;
	/* stores still applying entries would look behind it */
	if (dbms_entries_pending(c->dbms)) {
		free(text);
		return RAFT_BUSY;
	}
	memcpy(text, buf->base, buf->len);
	text[buf->len] = '\0';
	body = strchr(text, '\n');
	if (body == NULL ||
	    sscanf(text, "%31s %d %" SCNu64 " %" SCNu64 " %" SCNu64, magic,
		   &version, &index, &term, &change_index) < 4 ||
	    strcmp(magic, SNAPSHOT_MAGIC) != 0 || version < 1 ||
	    version > SNAPSHOT_VERSION) {
		rv = GRAFT_ECORRUPT;
		snprintf(why, sizeof why, "it is not a graft Raft snapshot of "
			 "version %d or older (a newer member wrote it?)",
			 SNAPSHOT_VERSION);
	} else {
		rv = parse_dbs(body + 1, version, &dbs, &n, why, sizeof why);
	}
	free(text);
	if (rv == GRAFT_ENOMEM)
		return RAFT_NOMEM;
	newer = dbms_change_index(c->dbms) > index;
	if (rv == GRAFT_OK && !newer)
		reconcile_dbs(c, index, change_index, dbs, n);
	if (rv == GRAFT_OK)
		rv = check_stores(c, dbs, n, newer, why, sizeof why);
	raft_free(buf->base);
	if (rv == GRAFT_OK) {
		graft_info("cluster: Raft snapshot at index %" PRIu64
			   " (term %" PRIu64 ") installed: this member's "
			   "stores hold everything it covers",
			   index, term);
		if (!newer)
			cluster_snap_adopt(c, dbs, n);
		free(dbs);
		return 0;
	}
	snprintf(c->behind_why, sizeof c->behind_why, "%s", why);
	if (rv == GRAFT_ENOTFOUND) {
		behind_begin(c, index, term, dbs, n);
		return 0;
	}
	/* Not a snapshot this release can read: applying on would diverge. */
	c->stores_behind = true;
	c->behind.stopped = true;
	graft_error("cluster: cannot install the Raft snapshot at index %"
		    PRIu64 " (term %" PRIu64 "): %s. This member applies "
		    "nothing more so as not to diverge: run the same graft "
		    "release on every member",
		    index, term, why);
	return 0;
}
