/* Retention: which whole segments may go, oldest first. Never the segment
 * being written, never one holding a transaction id >= keep_from or a
 * pinned one, and within that as many as the policy
 * (db.tx_log.rotation.retention_policy) lets go. Unlinks on the loop thread:
 * a handful of entries after a checkpoint.
 *
 * Pins (txlog.h): readers that will need the log from some transaction on.
 * A pin holding back more than db.tx_log.reader_pins.max_size bytes is
 * dropped, with a warning, before the segments are chosen: a replica that
 * died must not keep the log growing until the disk is full; when it comes
 * back it gets a store copy instead. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../util/err.h"
#include "../util/fs.h"
#include "../util/log.h"
#include "txlog_int.h"

/* Keeps the newest segments while keep(total so far, this one) says so;
 * returns how many of the oldest are left over. At least one is kept. */
static size_t beyond_newest(const struct txlog *log, int by_txs)
{
	const struct graft_retention *p = &log->o.retention;
	uint64_t total = 0;
	size_t kept = 0;

	for (size_t i = log->n_segs; i-- > 0; kept++) {
		const struct txlog_segment *s = &log->segs[i];
		if (by_txs && kept > 0 && total >= p->amount)
			break;
		if (!by_txs && kept > 0 && total + s->size > p->amount)
			break;
		total += by_txs ? s->next - s->first : s->size;
	}
	return log->n_segs - kept;
}

/* TIME: the oldest segments last written before now - amount, then while
 * the total exceeds size_cap. Only the first `eligible` are looked at. */
static int expired(const struct txlog *log, size_t eligible, size_t *k,
		   char *errmsg)
{
	const struct graft_retention *p = &log->o.retention;
	char path[PATH_MAX];
	struct timespec now;
	struct stat st;
	uint64_t total = 0;
	int64_t cutoff;
	size_t capped = 0;

	clock_gettime(CLOCK_REALTIME, &now);
	cutoff = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000 -
		 (int64_t)p->amount;
	*k = 0;
	for (size_t i = 0; i < eligible; i++) {
		uint64_t first = log->segs[i].first;
		if (txlog_segment_path(path, log->dir, first, "") != GRAFT_OK ||
		    stat(path, &st) != 0)
			return graft_errf(errmsg, GRAFT_EIO,
					  "cannot stat %s: %s", path,
					  strerror(errno));
		if ((int64_t)st.st_mtim.tv_sec * 1000 +
			    st.st_mtim.tv_nsec / 1000000 >= cutoff)
			break;
		*k = i + 1;
	}
	if (p->size_cap == 0)
		return GRAFT_OK;
	for (size_t i = 0; i < log->n_segs; i++)
		total += log->segs[i].size;
	while (capped < log->n_segs && total > p->size_cap)
		total -= log->segs[capped++].size;
	if (capped > *k)
		*k = capped;
	return GRAFT_OK;
}

static int policy_count(const struct txlog *log, size_t eligible, size_t *k,
			char *errmsg)
{
	const struct graft_retention *p = &log->o.retention;

	switch (p->kind) {
	case GRAFT_RETAIN_ALL:
		*k = 0;
		return GRAFT_OK;
	case GRAFT_RETAIN_NONE:
		*k = log->n_segs;
		return GRAFT_OK;
	case GRAFT_RETAIN_FILES:
		*k = log->n_segs > p->amount ? log->n_segs - (size_t)p->amount
					     : 0;
		return GRAFT_OK;
	case GRAFT_RETAIN_SIZE:
		*k = beyond_newest(log, 0);
		return GRAFT_OK;
	case GRAFT_RETAIN_TXS:
		*k = beyond_newest(log, 1);
		return GRAFT_OK;
	case GRAFT_RETAIN_TIME:
		return expired(log, eligible, k, errmsg);
	}
	return graft_errf(errmsg, GRAFT_EINVAL, "unknown retention kind %d",
			  (int)p->kind);
}

void txlog_pin(struct txlog *log, struct txlog_pin *pin, uint64_t txid)
{
	pin->log = log;
	pin->txid = txid;
	pin->lost = false;
	pin->prev = NULL;
	pin->next = log->pins;
	if (pin->next != NULL)
		pin->next->prev = pin;
	log->pins = pin;
}

void txlog_pin_move(struct txlog_pin *pin, uint64_t txid)
{
	pin->txid = txid;
}

void txlog_unpin(struct txlog_pin *pin)
{
	struct txlog *log = pin->log;

	if (log == NULL)
		return;
	if (pin->prev != NULL)
		pin->prev->next = pin->next;
	else
		log->pins = pin->next;
	if (pin->next != NULL)
		pin->next->prev = pin->prev;
	pin->prev = pin->next = NULL;
	pin->log = NULL;
}

bool txlog_pin_lost(const struct txlog_pin *pin)
{
	return pin->lost;
}

uint64_t txlog_pinned_from(const struct txlog *log)
{
	uint64_t from = UINT64_MAX;

	for (const struct txlog_pin *p = log->pins; p != NULL; p = p->next)
		if (p->txid < from)
			from = p->txid;
	return from;
}

/* Bytes of the segments holding txid or later. O(segments). */
static uint64_t held_bytes(const struct txlog *log, uint64_t txid)
{
	uint64_t total = 0;

	for (size_t i = log->n_segs; i-- > 0 && log->segs[i].next > txid;)
		total += log->segs[i].size;
	return total;
}

/* Drops the pins that hold back more than the bound allows. */
static void drop_heavy_pins(struct txlog *log)
{
	struct txlog_pin *p, *next;
	uint64_t held;

	if (log->o.pin_max_size == 0)
		return;
	for (p = log->pins; p != NULL; p = next) {
		next = p->next;
		held = held_bytes(log, p->txid);
		if (held <= log->o.pin_max_size)
			continue;
		graft_warn("transaction log %s: a reader pinned it from "
			   "transaction %" PRIu64 ", holding %" PRIu64 " bytes, "
			   "more than db.tx_log.reader_pins.max_size (%" PRIu64
			   "); the pin is dropped and that reader will need a "
			   "store copy once its transactions are pruned",
			   log->dir, p->txid, held, log->o.pin_max_size);
		txlog_unpin(p);
		p->lost = true;
	}
}

int txlog_prune(struct txlog *log, uint64_t keep_from, unsigned *removed,
		char *errmsg)
{
	char path[PATH_MAX];
	size_t eligible = 0, k = 0, done = 0;
	uint64_t pinned;
	int rv;

	if (removed != NULL)
		*removed = 0;
	drop_heavy_pins(log);
	pinned = txlog_pinned_from(log);
	if (pinned < keep_from)
		keep_from = pinned;
	/* Segment i holds [first, next): it may go when next <= keep_from.
	 * The last segment is the one being written. */
	while (eligible + 1 < log->n_segs &&
	       log->segs[eligible].next <= keep_from)
		eligible++;
	if (eligible == 0)
		return GRAFT_OK;
	rv = policy_count(log, eligible, &k, errmsg);
	if (rv != GRAFT_OK)
		return rv;
	if (k > eligible)
		k = eligible;
	for (; done < k; done++) {
		rv = txlog_segment_path(path, log->dir, log->segs[done].first,
					"");
		if (rv != GRAFT_OK || (unlink(path) != 0 && errno != ENOENT)) {
			rv = graft_errf(errmsg, GRAFT_EIO, "cannot remove "
					"transaction log segment %s: %s", path,
					strerror(errno));
			break;
		}
	}
	if (done == 0)
		return rv;
	graft_info("transaction log %s: pruned %zu segments, transactions %"
		   PRIu64 "..%" PRIu64, log->dir, done, log->segs[0].first,
		   log->segs[done - 1].next - 1);
	memmove(log->segs, log->segs + done,
		(log->n_segs - done) * sizeof *log->segs);
	log->n_segs -= done;
	if (removed != NULL)
		*removed = (unsigned)done;
	if (rv == GRAFT_OK)
		rv = graft_fsync_dir(log->dir, errmsg);
	return rv;
}
