/* Load-balancing policies (Neo4j's server_policies plugin): which of the
 * readers and routers a routing table names, chosen by the routing
 * context's policy=<name>. A policy is rules separated by ';', tried in
 * order, the first that leaves a server wins; a rule is filters chained by
 * '->', each narrowing what the one before left:
 *   tags(a, b) / groups(a, b)  the servers tagged a or b
 *   min(n)                     all of them if at least n, else none
 *   all()                      all of them
 *   halt()                     none, and no later rule (last rule only)
 * Without a rule that leaves a server (and no halt), all servers are
 * used. Pure: parsing and selection, no I/O. */
#ifndef GRAFT_CLUSTER_POLICY_H
#define GRAFT_CLUSTER_POLICY_H

#include <stddef.h>
#include <stdint.h>

#define POLICY_NAME_LEN 64
#define POLICY_MAX_RULES 8
#define POLICY_MAX_FILTERS 8
#define POLICY_TAGS_LEN 128
#define POLICY_MAX 16 /* policies a cluster configures */

enum policy_filter_kind { POLICY_TAGS, POLICY_MIN, POLICY_ALL, POLICY_HALT };

struct policy_filter {
	enum policy_filter_kind kind;
	unsigned n;                  /* POLICY_MIN: the count */
	char tags[POLICY_TAGS_LEN];  /* POLICY_TAGS: "a,b" */
};

struct policy_rule {
	size_t n;
	struct policy_filter filters[POLICY_MAX_FILTERS];
};

struct policy {
	char name[POLICY_NAME_LEN];
	size_t n;
	struct policy_rule rules[POLICY_MAX_RULES];
};

/* Parses text as policy name into out. GRAFT_OK, or GRAFT_ECONFIG with
 * errmsg (GRAFT_ERRMSG_SIZE) naming the policy, the rule and what is
 * allowed. */
int policy_parse(const char *name, const char *text, struct policy *out,
		 char *errmsg);
/* Which of the servers in candidates (bit i: server i) p selects; tags[i]
 * is server i's comma-separated tags ("" for none). */
uint32_t policy_select(const struct policy *p, const char *const *tags,
		       size_t n, uint32_t candidates);

#endif
