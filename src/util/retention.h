/* The transaction-log retention policy, db.tx_log.rotation.retention_policy,
 * in every form Neo4j accepts: true|keep_all, false|keep_none, "<n>[K|M|G] files|size|txs|entries|hours|days",
 * and a size cap after hours/days ("2 days 2G"). Parsed here so that the config
 * layer validates it and the transaction log enforces the same meaning. */
#ifndef GRAFT_UTIL_RETENTION_H
#define GRAFT_UTIL_RETENTION_H

#include <stdint.h>

enum graft_retention_kind {
	GRAFT_RETAIN_ALL,   /* true, keep_all */
	GRAFT_RETAIN_NONE,  /* false, keep_none: keep only what recovery needs */
	GRAFT_RETAIN_FILES, /* amount = number of segment files */
	GRAFT_RETAIN_SIZE,  /* amount = bytes */
	GRAFT_RETAIN_TXS,   /* amount = transactions ("txs" and "entries") */
	GRAFT_RETAIN_TIME,  /* amount = milliseconds ("hours", "days") */
};

struct graft_retention {
	enum graft_retention_kind kind;
	uint64_t amount;
	uint64_t size_cap; /* bytes, TIME only; 0 = none */
};

/* Parses text. On error returns GRAFT_ECONFIG with errmsg saying what is allowed. */
int graft_retention_parse(const char *text, struct graft_retention *out,
			  char *errmsg);

#endif
