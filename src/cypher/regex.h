/* Cypher's =~: Java-like regular expressions through PCRE2 (Debian's
 * libpcre2-8), matched against the whole string, with bounded work.
 *
 * The whole-string rule is PCRE2_ANCHORED | PCRE2_ENDANCHORED at match
 * time, never text added to the pattern, so group numbers (back-references
 * such as (a)\1) and a pattern's own parentheses mean what they say. A
 * match stops with an error past a backtracking limit and a heap limit, so
 * a catastrophic pattern ('((a{1,100}){1,100}){1,100}', '(a+)+b') costs a
 * bounded time and memory instead of running outside the transaction
 * timeout. Compiled patterns are kept per statement, keyed by the pattern
 * text, so a constant pattern compiles once. PCRE2's memory comes from
 * graft_mem_*, so it counts against the transaction. */
#ifndef GRAFT_CYPHER_REGEX_H
#define GRAFT_CYPHER_REGEX_H

#include <stdbool.h>

#include "../util/cypher_error.h"
#include "../util/value.h"

/* Backtracking steps one match may take (PCRE2's match limit). */
#define CYPHER_REGEX_MATCH_LIMIT 1000000
/* Heap one match may use for backtracking, in KiB. */
#define CYPHER_REGEX_HEAP_LIMIT_KIB 16384
/* Longest pattern compiled. */
#define CYPHER_REGEX_MAX_PATTERN 65536

struct cypher_regex_cache;

/* Whether the whole of s matches re. GRAFT_OK with *matched; GRAFT_EINVAL
 * with err filled (Neo.ClientError.Statement.ArgumentError) for an invalid
 * pattern or a match past the limits; GRAFT_ENOMEM. *cache (NULL at
 * first) keeps compiled patterns until cypher_regex_cache_free. */
int cypher_regex_match(struct cypher_regex_cache **cache,
		       const struct graft_str *re, const struct graft_str *s,
		       bool *matched, struct cypher_error *err);
void cypher_regex_cache_free(struct cypher_regex_cache *c);

#endif
