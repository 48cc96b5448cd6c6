#define PCRE2_CODE_UNIT_WIDTH 8
#include "regex.h"

#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "../util/mem.h"
#include "parse.h"

/* Patterns kept per statement: a statement rarely has more distinct
 * constant patterns; a pattern built per row just takes turns. */
#define CACHE_SLOTS 8

struct compiled {
	struct graft_str *text; /* owned; NULL: free slot */
	pcre2_code *code;
};

struct cypher_regex_cache {
	pcre2_general_context *gen;
	pcre2_compile_context *compile;
	pcre2_match_context *match;
	pcre2_match_data *md;
	struct compiled slot[CACHE_SLOTS];
	unsigned next; /* the slot a new pattern takes */
};

static void *mem_alloc_cb(size_t n, void *data)
{
	(void)data;
	return graft_mem_malloc(n);
}

static void mem_free_cb(void *p, void *data)
{
	(void)data;
	graft_mem_free(p);
}

static int cache_new(struct cypher_regex_cache **out)
{
	struct cypher_regex_cache *c = graft_mem_calloc(1, sizeof *c);

	if (c == NULL)
		return GRAFT_ENOMEM;
	c->gen = pcre2_general_context_create(mem_alloc_cb, mem_free_cb, NULL);
	c->compile = pcre2_compile_context_create(c->gen);
	c->match = pcre2_match_context_create(c->gen);
	c->md = pcre2_match_data_create(1, c->gen);
	if (c->gen == NULL || c->compile == NULL || c->match == NULL ||
	    c->md == NULL) {
		cypher_regex_cache_free(c);
		return GRAFT_ENOMEM;
	}
	/* Java's line terminators for '.', '^' and '$' */
	pcre2_set_newline(c->compile, PCRE2_NEWLINE_ANY);
	pcre2_set_max_pattern_length(c->compile, CYPHER_REGEX_MAX_PATTERN);
	pcre2_set_match_limit(c->match, CYPHER_REGEX_MATCH_LIMIT);
	pcre2_set_heap_limit(c->match, CYPHER_REGEX_HEAP_LIMIT_KIB);
	*out = c;
	return GRAFT_OK;
}

/* The compiled form of re, compiling it into a slot if it is new. */
static int compiled(struct cypher_regex_cache *c, const struct graft_str *re,
		    pcre2_code **out, struct cypher_error *err)
{
	struct compiled *s;
	PCRE2_UCHAR why[256];
	PCRE2_SIZE at;
	int code;

	for (unsigned i = 0; i < CACHE_SLOTS; i++) {
		s = &c->slot[i];
		if (s->text != NULL && s->text->len == re->len &&
		    memcmp(s->text->data, re->data, re->len) == 0) {
			*out = s->code;
			return GRAFT_OK;
		}
	}
	s = &c->slot[c->next];
	c->next = (c->next + 1) % CACHE_SLOTS;
	pcre2_code_free(s->code);
	graft_mem_free(s->text);
	s->code = NULL;
	s->text = graft_str_new(re->data, re->len);
	if (s->text == NULL)
		return GRAFT_ENOMEM;
	s->code = pcre2_compile((PCRE2_SPTR)re->data, re->len, PCRE2_UTF, &code,
				&at, c->compile);
	if (s->code == NULL) {
		graft_mem_free(s->text);
		s->text = NULL;
		if (graft_mem_refusal(graft_mem_current()) != NULL)
			return GRAFT_ENOMEM;
		pcre2_get_error_message(code, why, sizeof why);
		cypher_error_set(err, GRAFT_STATUS_ARGUMENT_ERROR,
				 "Invalid regex '%s': %s at offset %zu",
				 re->data, (const char *)why, (size_t)at);
		return GRAFT_EINVAL;
	}
	*out = s->code;
	return GRAFT_OK;
}

int cypher_regex_match(struct cypher_regex_cache **cache,
		       const struct graft_str *re, const struct graft_str *s,
		       bool *matched, struct cypher_error *err)
{
	pcre2_code *code;
	int rv;

	if (*cache == NULL && (rv = cache_new(cache)) != GRAFT_OK)
		return rv;
	rv = compiled(*cache, re, &code, err);
	if (rv != GRAFT_OK)
		return rv;
	rv = pcre2_match(code, (PCRE2_SPTR)s->data, s->len, 0,
			 PCRE2_ANCHORED | PCRE2_ENDANCHORED, (*cache)->md,
			 (*cache)->match);
	if (rv >= 0 || rv == PCRE2_ERROR_NOMATCH) {
		*matched = rv >= 0;
		return GRAFT_OK;
	}
	if (rv == PCRE2_ERROR_NOMEMORY)
		return GRAFT_ENOMEM;
	if (rv == PCRE2_ERROR_MATCHLIMIT || rv == PCRE2_ERROR_HEAPLIMIT ||
	    rv == PCRE2_ERROR_DEPTHLIMIT)
		cypher_error_set(err, GRAFT_STATUS_ARGUMENT_ERROR,
				 "The regex '%s' needs more backtracking than a match may do (%s); simplify it: nested quantifiers such as (a+)+ retry exponentially many ways",
				 re->data,
				 rv == PCRE2_ERROR_MATCHLIMIT
					 ? "1000000 steps"
					 : "16 MiB of backtracking state");
	else
		cypher_error_set(err, GRAFT_STATUS_ARGUMENT_ERROR,
				 "Cannot match the regex '%s': %s", re->data,
				 rv <= PCRE2_ERROR_UTF8_ERR1 &&
						 rv >= PCRE2_ERROR_UTF8_ERR21
					 ? "the string is not valid UTF-8"
					 : "PCRE2 failed");
	return GRAFT_EINVAL;
}

void cypher_regex_cache_free(struct cypher_regex_cache *c)
{
	if (c == NULL)
		return;
	for (unsigned i = 0; i < CACHE_SLOTS; i++) {
		pcre2_code_free(c->slot[i].code);
		graft_mem_free(c->slot[i].text);
	}
	pcre2_match_data_free(c->md);
	pcre2_match_context_free(c->match);
	pcre2_compile_context_free(c->compile);
	pcre2_general_context_free(c->gen);
	graft_mem_free(c);
}
