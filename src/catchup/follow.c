/* One database's stream on a read replica (protocol in catchup.h).
 *
 * Happy path: pick an upstream by the strategy (upstream.c: a core, or
 * another replica) -> connect -> send PULL
 * from the last transaction applied here -> OK line -> for each record:
 * check its CRC, database id and txid (the next one), apply it
 * (db_apply_stream: validated against the graph, then logged here) ->
 * heartbeats update what the upstream has, for the lag figures. The
 * stream never ends by itself: the upstream pushes each new commit.
 *
 * Failures: an upstream that cannot be reached, refuses (NOTLEADER, AHEAD,
 * NOTFOUND), goes away or stays silent past the inactivity timeout is
 * left for the next one after db.cluster.catchup.pull_interval; records
 * already applied stay, and the next upstream resumes after them, so
 * failover has no gap and no duplicate. A record that fails its checks
 * (damaged in transit, another database, a gap) or does not validate here
 * stops this database's catch-up for good with an error in the log: the
 * replica keeps serving what it has, never a silently diverged state.
 * PRUNED (this upstream no longer holds what the replica lacks) sends it
 * to the next upstream, which may have kept its position
 * (dbms.cluster.catchup.departed_hold); once each has said PRUNED, the
 * replica copies an upstream's store. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../txlog/txlog.h"
#include "../util/fs.h"
#include "../util/log.h"
#include "replica_int.h"

#define READ_CHUNK (64u << 10)
#define LINE_MAX_LEN 1024
/* A connect not done in this long (its packets lost: a partition, a host
 * gone) is given up, and the next attempt made after the pull interval:
 * the kernel would retry for two minutes, spacing its tries up to 32 s. */
#define CONNECT_MS 3000
/* An upstream heartbeats every second when it has nothing to send: a
 * stream silent for this many heartbeats is dead or cut off, and left for
 * a new connection (or after the inactivity timeout, if that is shorter)
 * rather than waiting for TCP, whose retransmissions after a partition
 * heals come up to two minutes apart. */
#define SILENT_HEARTBEATS 10

struct follow_conn {
	struct tcp_conn tcp; /* first: a struct tcp_conn * is a follow_conn * */
	struct follow *f;    /* NULL once the follow let go of it */
	struct graft_buf in;
	bool connected;
	bool ok;             /* the OK line arrived */
	bool report;         /* an APPLIED report waits for the write */
	char line[LINE_MAX_LEN];
};

/* How long a stream may be silent: SILENT_HEARTBEATS, or the inactivity
 * timeout if shorter. */
static uint64_t silence_ms(const struct catchup_replica *r)
{
	uint64_t ms = SILENT_HEARTBEATS * CATCHUP_HEARTBEAT_MS;

	return r->o.inactivity_ms > 0 && r->o.inactivity_ms < ms
		       ? r->o.inactivity_ms
		       : ms;
}

static const char *upstream_name(const struct follow *f)
{
	return f->up.server_id[0] != '\0' ? f->up.server_id : "(none)";
}

static void detach(struct follow *f)
{
	struct follow_conn *fc = f->conn;

	if (fc == NULL)
		return;
	fc->f = NULL;
	f->conn = NULL;
	tcp_conn_close(&fc->tcp);
}

void follow_init(struct follow *f, struct catchup_replica *r, const char *db)
{
	memset(f, 0, sizeof *f);
	f->r = r;
	f->up.core = f->last_core = -1;
	f->state = FOLLOW_IDLE;
	snprintf(f->db, sizeof f->db, "%s", db);
}

static void free_slot(struct follow *f)
{
	f->state = FOLLOW_UNUSED;
	f->db[0] = '\0';
	f->dropped = false;
}

void follow_forget(struct follow *f)
{
	if (follow_stop(f)) {
		f->dropped = true; /* copy_done_cb frees the slot */
		return;
	}
	free_slot(f);
}

bool follow_stop(struct follow *f)
{
	detach(f);
	if (f->state != FOLLOW_COPYING)
		return false;
	catchup_store_copy_cancel(&f->copy);
	return true;
}

/* Stops this database's catch-up for good. */
static void fail(struct follow *f, const char *why)
{
	snprintf(f->error, sizeof f->error, "%s", why);
	graft_error("read replica: catch-up of database %s from %s stopped: "
		    "%s; this replica keeps serving transaction %" PRIu64
		    " and earlier. Fix the cause and restart it",
		    f->db, upstream_name(f),
		    why, db_last_txid(dbms_get(f->r->dbms, f->db)));
	f->state = FOLLOW_STOPPED;
	detach(f);
}

/* Leaves this upstream; the next tick tries another. */
static void retry(struct follow *f, const char *why)
{
	if (f->state == FOLLOW_STOPPED)
		return;
	if (f->state == FOLLOW_STREAMING || f->attempts % 20 == 0)
		graft_warn("read replica: catch-up of %s from %s: %s; trying "
			   "another upstream", f->db, upstream_name(f), why);
	f->state = FOLLOW_IDLE;
	f->attempts++;
	f->next_try_ms = uv_now(f->r->loop) + f->r->o.retry_ms;
	upstream_shun(f);
	detach(f);
}

/* The catch-up of a stream that started behind: logged once it holds
 * what its upstream had at the OK line. */
static void note_applied(struct follow *f, uint64_t txid)
{
	uint64_t now = uv_hrtime(), n;
	double s;

	if (f->catchup_target == 0)
		return;
	if (f->catchup_first_ns == 0) {
		f->catchup_first = txid;
		f->catchup_first_ns = now;
	}
	if (txid < f->catchup_target)
		return;
	n = txid - f->catchup_first + 1;
	s = (double)(now - f->catchup_first_ns) / 1e9;
	graft_info("read replica: %s caught up with %s: transactions %" PRIu64
		   "..%" PRIu64 " (%" PRIu64 ") applied in %.3f s from the "
		   "first to the last: %.0f transactions/s", f->db,
		   upstream_name(f), f->catchup_first, txid, n, s,
		   s > 0 ? (double)(n - 1) / s : 0.0);
	f->catchup_target = 0;
}

static int apply_record(struct follow *f, const uint8_t *frame, size_t size,
			char *errmsg)
{
	struct db *db = dbms_get(f->r->dbms, f->db);
	int rv;

	if (db == NULL)
		return graft_errf(errmsg, GRAFT_ENOTFOUND, "database %s is gone",
				  f->db);
	rv = catchup_apply_frame(db, &f->id, frame, size, errmsg);
	if (rv == GRAFT_OK)
		note_applied(f, db_last_txid(db));
	return rv;
}

/* Store copies ------------------------------------------------------------
 * The upstream no longer has what this replica lacks: copy its store (the
 * replica serves its own state meanwhile), switch to it, then follow the
 * stream from there. A failed copy is tried again, afresh, after the pull
 * interval; the state served is the old one until a copy is complete. */

static void copy_done_cb(struct catchup_store_copy_req *req, int status)
{
	struct follow *f = req->data;
	struct catchup_replica *r = f->r;
	char errmsg[GRAFT_ERRMSG_SIZE];

	f->state = FOLLOW_IDLE;
	f->next_try_ms = uv_now(r->loop) + r->o.retry_ms;
	if (status == GRAFT_OK && (r->closing || f->dropped))
		catchup_store_copy_discard(req);
	if (r->closing) {
		replica_part_closed(r);
		return;
	}
	if (f->dropped) {
		free_slot(f);
		return;
	}
	if (status == GRAFT_OK)
		status = catchup_store_install(r->dbms, f->db, req, errmsg);
	else
		snprintf(errmsg, sizeof errmsg, "%s", req->errmsg);
	if (status != GRAFT_OK) {
		graft_warn("read replica: store copy of %s from %s refused: "
			   "%s; this replica keeps serving transaction %" PRIu64
			   " and earlier, and tries again", f->db,
			   upstream_name(f), errmsg,
			   db_last_txid(dbms_get(r->dbms, f->db)));
		return;
	}
	f->next_try_ms = 0;
	graft_info("read replica: store copy of %s from %s installed: "
		   "checkpoint at transaction %" PRIu64 ", %" PRIu64 " bytes, "
		   "then the log to %" PRIu64 "; following from there", f->db,
		   upstream_name(f), req->ckpt_txid, req->bytes,
		   db_last_txid(dbms_get(r->dbms, f->db)));
}

static void start_copy(struct follow *f)
{
	struct catchup_replica *r = f->r;
	struct db *db = dbms_get(r->dbms, f->db);
	struct sockaddr_storage sa;
	struct txlog_wire_id want;
	char errmsg[GRAFT_ERRMSG_SIZE];

	detach(f);
	f->state = FOLLOW_IDLE;
	f->next_try_ms = uv_now(r->loop) + r->o.retry_ms;
	if (db == NULL || !replica_wire_id(f, &want, errmsg) ||
	    net_resolve(&r->resolver, f->up.catchup, &sa, NULL, NULL) !=
		    GRAFT_OK)
		return;
	catchup_copy_dir(db, f->copy_dir, sizeof f->copy_dir);
	graft_info("read replica: %s no longer has the transactions of %s "
		   "after %" PRIu64 " : copying its store", upstream_name(f),
		   f->db, db_last_txid(db));
	f->copy.data = f;
	f->copy.direct_min = r->o.copy_direct_min;
	if (catchup_store_copy(&f->copy, r->loop, (struct sockaddr *)&sa,
			       f->db, r->o.server_id, f->copy_dir, &want,
			       CATCHUP_COPY_IDS, copy_done_cb) != GRAFT_OK) {
		graft_warn("read replica: cannot start a store copy of %s: %s",
			   f->db, f->copy.errmsg);
		return;
	}
	f->state = FOLLOW_COPYING;
}

/* The OK line's ids against this replica's: a stream of another cluster,
 * or of another database of the same name (dropped and created again), is
 * refused before anything of it is applied. GRAFT_OK when they match. */
static int check_ids(struct follow *f, const char *db, const char *cluster,
		     uint64_t id)
{
	struct txlog_wire_id got, want;
	char errmsg[GRAFT_ERRMSG_SIZE], why[GRAFT_ERRMSG_SIZE + 512],
		mine[IDENTITY_LEN + 1];

	if (!replica_wire_id(f, &want, errmsg)) {
		retry(f, errmsg);
		return GRAFT_EAGAIN;
	}
	if (strcmp(db, f->db) == 0 &&
	    catchup_wire_id(cluster, id, db, &got) == GRAFT_OK &&
	    catchup_wire_id_equal(&got, &want)) {
		f->id = want;
		return GRAFT_OK;
	}
	txlog_wire_cluster_text(&want, mine);
	snprintf(why, sizeof why, "the upstream offers %.128s of cluster "
		 "%.40s, database id %" PRIu64 "; this replica's is of cluster "
		 "%s (its data/dbms/cluster_id), database id %" PRIu64 ": "
		 "refused, nothing of it applied (an upstream of another "
		 "cluster, or a database dropped and created again)", db,
		 cluster, id, mine, want.db);
	fail(f, why);
	return GRAFT_ECORRUPT;
}

/* The OK or ERR line. GRAFT_OK to go on. */
static int handle_line(struct follow *f, char *line)
{
	char proto[32], word[16], db[128], role[16], cluster[40];
	unsigned long long last, id;
	struct db *d;
	int rv;

	if (sscanf(line, "%31s %15s %127s %39s %llu %llu %15s", proto, word,
		   db, cluster, &id, &last, role) == 7 &&
	    strcmp(proto, CATCHUP_PROTO) == 0 && strcmp(word, "OK") == 0) {
		rv = check_ids(f, db, cluster, id);
		if (rv != GRAFT_OK)
			return rv;
		f->upstream_last = last;
		d = dbms_get(f->r->dbms, f->db);
		f->catchup_target = d != NULL && db_last_txid(d) < last ? last
									 : 0;
		f->catchup_first_ns = 0;
		f->state = FOLLOW_STREAMING;
		f->attempts = 0;
		f->pruned = 0;
		graft_info("read replica: following %s from %s (%s), which is "
			   "at transaction %llu", f->db, upstream_name(f), role,
			   last);
		return GRAFT_OK;
	}
	/* Another upstream may still hold the log (it kept this replica's
	 * position when it left): a store copy once each has said PRUNED. */
	if (strstr(line, " ERR PRUNED ") != NULL &&
	    ++f->pruned < upstream_count(f)) {
		retry(f, line);
		return GRAFT_ENOTFOUND;
	}
	if (strstr(line, " ERR PRUNED ") != NULL) {
		f->pruned = 0;
		start_copy(f);
		return GRAFT_ENOTFOUND;
	}
	retry(f, line);
	return GRAFT_EINVAL;
}

/* Tells the upstream what is applied here (its lag figures), once the
 * write in flight, if any, is done. */
static void report_applied(struct follow_conn *fc)
{
	struct db *db = dbms_get(fc->f->r->dbms, fc->f->db);
	int n;

	fc->report = tcp_conn_writing(&fc->tcp);
	if (fc->report || db == NULL)
		return;
	n = snprintf(fc->line, sizeof fc->line, "APPLIED %" PRIu64 "\n",
		     db_last_txid(db));
	tcp_conn_write(&fc->tcp, fc->line, (size_t)n);
}

/* Consumes whole messages at the front of the input. */
static void parse(struct follow_conn *fc)
{
	struct follow *f = fc->f;
	char errmsg[GRAFT_ERRMSG_SIZE];
	uint8_t *p = fc->in.data;
	size_t off = 0, n = fc->in.len, size;
	bool applied = false; /* or heard a heartbeat: worth a report */
	char *nl;

	if (!fc->ok) {
		nl = memchr(p, '\n', n);
		if (nl == NULL) {
			if (n > LINE_MAX_LEN)
				retry(f, "the upstream's answer is too long");
			return;
		}
		*nl = '\0';
		if (handle_line(f, (char *)p) != GRAFT_OK)
			return;
		fc->ok = true;
		off = (size_t)((uint8_t *)nl - p) + 1;
	}
	while (f->conn == fc && off < n) {
		if (p[off] == CATCHUP_MSG_HEARTBEAT) {
			if (n - off < CATCHUP_HEARTBEAT_SIZE)
				break;
			f->upstream_last = graft_get_u64le(p + off + 1);
			off += CATCHUP_HEARTBEAT_SIZE;
			applied = true;
			continue;
		}
		if (p[off] != CATCHUP_MSG_TX) {
			snprintf(errmsg, sizeof errmsg, "the stream holds a "
				 "message of unknown kind 0x%02x (damaged in "
				 "transit?)", p[off]);
			fail(f, errmsg);
			return;
		}
		if (n - off < 1 + TXLOG_WIRE_HEADER)
			break;
		if (txlog_wire_size(p + off + 1, &size, errmsg) != GRAFT_OK) {
			fail(f, errmsg);
			return;
		}
		if (n - off < 1 + size)
			break;
		if (apply_record(f, p + off + 1, size, errmsg) != GRAFT_OK) {
			fail(f, errmsg);
			return;
		}
		off += 1 + size;
		applied = true;
	}
	memmove(p, p + off, n - off);
	fc->in.len = n - off;
	if (applied && f->conn == fc)
		report_applied(fc);
}

static struct tcp_conn *no_conn_new(struct tcp_server *srv)
{
	(void)srv;
	return NULL; /* the streams server only connects */
}

static void fc_connected(struct tcp_conn *tc, int status)
{
	struct follow_conn *fc = (struct follow_conn *)tc;
	struct follow *f = fc->f;
	struct catchup_replica *r;
	struct db *db;
	int n;

	if (f == NULL)
		return;
	if (status != 0) {
		retry(f, uv_strerror(status));
		return;
	}
	r = f->r;
	fc->connected = true;
	db = dbms_get(r->dbms, f->db);
	if (db == NULL) {
		retry(f, "the database is gone here");
		return;
	}
	n = snprintf(fc->line, sizeof fc->line,
		     CATCHUP_PROTO " PULL %s %" PRIu64 " %s %s %s\n", f->db,
		     db_last_txid(db),
		     r->o.strategy == CATCHUP_LEADER_ONLY ? "LEADER" : "ANY",
		     r->o.server_id, r->o.bolt_advertised);
	tcp_conn_read(tc, true);
	tcp_conn_timer(tc, silence_ms(r), 0);
	tcp_conn_write(tc, fc->line, (size_t)n);
}

static void fc_alloc(struct tcp_conn *tc, uv_buf_t *buf)
{
	struct follow_conn *fc = (struct follow_conn *)tc;

	tcp_alloc_in(&fc->in, READ_CHUNK, buf);
}

static void fc_read(struct tcp_conn *tc, ssize_t n)
{
	struct follow_conn *fc = (struct follow_conn *)tc;

	if (fc->f == NULL)
		return;
	if (n < 0) {
		retry(fc->f, n == UV_EOF ? "the upstream closed the stream"
					 : uv_strerror((int)n));
		return;
	}
	fc->in.len += (size_t)n;
	tcp_conn_timer(tc, silence_ms(fc->f->r), 0);
	parse(fc);
}

static void fc_written(struct tcp_conn *tc, int status)
{
	struct follow_conn *fc = (struct follow_conn *)tc;

	if (fc->f == NULL)
		return;
	if (status != 0)
		retry(fc->f, uv_strerror(status));
	else if (fc->report)
		report_applied(fc);
}

static void fc_timeout(struct tcp_conn *tc)
{
	struct follow_conn *fc = (struct follow_conn *)tc;
	char why[200];

	if (fc->f == NULL)
		return;
	if (!fc->connected)
		snprintf(why, sizeof why, "no connection within %d ms (the "
			 "upstream or the network to it is down)", CONNECT_MS);
	else
		snprintf(why, sizeof why, "the upstream sent nothing, not even "
			 "a heartbeat, for %" PRIu64 " ms (it stopped, or the "
			 "network to it is cut)", silence_ms(fc->f->r));
	retry(fc->f, why);
}

static void fc_closing(struct tcp_conn *tc)
{
	struct follow_conn *fc = (struct follow_conn *)tc;

	if (fc->f != NULL)
		retry(fc->f, "the connection closed");
}

static void fc_free(struct tcp_conn *tc)
{
	struct follow_conn *fc = (struct follow_conn *)tc;

	graft_buf_free(&fc->in);
	free(fc);
}

const struct tcp_ops follow_tcp_ops = {
	.conn_new = no_conn_new,
	.connected = fc_connected,
	.alloc = fc_alloc,
	.read = fc_read,
	.written = fc_written,
	.timeout = fc_timeout,
	.closing = fc_closing,
	.conn_free = fc_free,
};

/* A streaming f leaves its upstream when the strategy says so: at once
 * to the next pick, the records applied kept. */
static void check_upstream(struct follow *f)
{
	char why[256];

	if (!upstream_leave(f, why, sizeof why))
		return;
	graft_info("read replica: catch-up of %s leaves %s: %s", f->db,
		   upstream_name(f), why);
	upstream_shun(f);
	detach(f);
	f->state = FOLLOW_IDLE;
	f->next_try_ms = 0;
}

void follow_tick(struct follow *f)
{
	struct catchup_replica *r = f->r;
	struct sockaddr_storage sa;
	struct follow_conn *fc;

	if (f->state == FOLLOW_STREAMING && !r->closing)
		check_upstream(f);
	if (f->state != FOLLOW_IDLE || r->closing ||
	    uv_now(r->loop) < f->next_try_ms)
		return;
	if (!upstream_pick(f))
		return;
	if (net_resolve(&r->resolver, f->up.catchup, &sa, NULL, NULL) !=
	    GRAFT_OK) {
		retry(f, "its transaction address does not resolve (yet)");
		return;
	}
	fc = calloc(1, sizeof *fc);
	if (fc == NULL)
		return;
	fc->f = f;
	graft_buf_init(&fc->in);
	f->conn = fc;
	f->state = FOLLOW_CONNECTING;
	if (tcp_connect(&r->streams, &fc->tcp, (struct sockaddr *)&sa) !=
	    GRAFT_OK) {
		fc->f = NULL;
		f->conn = NULL;
		retry(f, "cannot connect");
		return;
	}
	tcp_conn_timer(&fc->tcp, CONNECT_MS, 0);
}
