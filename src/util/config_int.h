/* Internals of the configuration unit, shared by config.c (the store, files
 * and getters), config_value.c (the value types) and config_template.c (the
 * graft.conf template). Not for use outside src/util/config*.c. */
#ifndef GRAFT_UTIL_CONFIG_INT_H
#define GRAFT_UTIL_CONFIG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* One setting's value, parsed once when set. */
struct config_value {
	char *text; /* canonical spelling (owned); NULL: unset */
	union {
		bool b;
		int64_t i;
		uint64_t u; /* SIZE: bytes; DURATION: ms */
		struct {
			uint64_t lo, hi;
		} range; /* DURATION_RANGE, ms */
		struct graft_retention retention;
		struct {
			char host[GRAFT_ADDRESS_HOST_MAX + 1]; /* "": not given */
			int port;                       /* -1: not given */
		} addr; /* ADDRESS, HOST */
	} v;
};

/* Parses text as s's type into *out (text is copied). GRAFT_OK, GRAFT_ENOMEM,
 * or GRAFT_ECONFIG with why (GRAFT_ERRMSG_SIZE bytes) saying what is wrong
 * and what is allowed: "not a size; allowed: ...". */
int config_value_parse(const struct graft_setting *s, const char *text,
		       struct config_value *out, char *why);
void config_value_free(struct config_value *v);
/* Whether a and b mean the same value of s ("256M" and "256m" do). */
bool config_value_equal(const struct graft_setting *s,
			const struct config_value *a,
			const struct config_value *b);
/* Walks a comma-separated address list, filling up to max of out (NULL
 * with max 0 only validates). Returns the element count, or SIZE_MAX if an
 * element is not host[:port]. */
size_t config_address_list_parse(const char *text, uint16_t default_port,
				 struct graft_address *out, size_t max);
/* What s accepts, as "allowed: ..." text, into out of n bytes. */
void config_allowed(const struct graft_setting *s, char *out, size_t n);

#endif
