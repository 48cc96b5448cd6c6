/* Load-balancing policies (policy.h): a small recursive-descent parser
 * over Neo4j's rule language and a selection over bit sets of servers. */
#include "policy.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/err.h"

static const char *skip_space(const char *p)
{
	while (isspace((unsigned char)*p))
		p++;
	return p;
}

static bool tag_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '-';
}

static int bad(const char *name, const char *rule, const char *why,
	       char *errmsg)
{
	return graft_errf(errmsg, GRAFT_ECONFIG,
			  "load-balancing policy '%s', rule '%s': %s; allowed: "
			  "rules separated by ';', each filters chained by "
			  "'->': tags(a,b) (or groups(a,b)), min(n), all(), "
			  "halt() (alone, last)",
			  name, rule, why);
}

/* The tags of "a, b" (the text between the parentheses) into f, as
 * "a,b". */
static int parse_tags(const char *args, struct policy_filter *f,
		      const char **why)
{
	size_t len = 0;
	bool sep = true;    /* at the start or after a comma */
	bool spaced = false; /* white space after a tag's characters */

	for (const char *p = args; *p != '\0'; p++) {
		if (isspace((unsigned char)*p)) {
			spaced = !sep;
			continue;
		}
		if (*p == ',' ? sep : !tag_char(*p) || (spaced && !sep)) {
			*why = "tags() takes tags (letters, digits, '_', '-') "
			       "separated by commas";
			return GRAFT_ECONFIG;
		}
		if (len + 1 >= sizeof f->tags) {
			*why = "the tags of tags() are longer than 127 "
			       "characters";
			return GRAFT_ECONFIG;
		}
		sep = *p == ',';
		spaced = false;
		f->tags[len++] = *p;
	}
	f->tags[len] = '\0';
	if (len == 0 || sep) {
		*why = "tags() takes one tag or more, separated by commas";
		return GRAFT_ECONFIG;
	}
	return GRAFT_OK;
}

/* One filter "name(args)" (trimmed) into f. */
static int parse_filter(char *text, struct policy_filter *f, const char **why)
{
	char *open = strchr(text, '('), *close = strrchr(text, ')'), *end;
	size_t len;
	long n;

	memset(f, 0, sizeof *f);
	if (open == NULL || close == NULL || close < open ||
	    *skip_space(close + 1) != '\0') {
		*why = "a filter is name(arguments)";
		return GRAFT_ECONFIG;
	}
	len = (size_t)(open - text);
	while (len > 0 && isspace((unsigned char)text[len - 1]))
		len--;
	*close = '\0';
	open++;
	if ((len == 4 && strncmp(text, "tags", 4) == 0) ||
	    (len == 6 && strncmp(text, "groups", 6) == 0)) {
		f->kind = POLICY_TAGS;
		return parse_tags(open, f, why);
	}
	if (len == 3 && strncmp(text, "min", 3) == 0) {
		n = strtol(open, &end, 10);
		if (end == open || *skip_space(end) != '\0' || n < 1 ||
		    n > 1000) {
			*why = "min() takes a count from 1 to 1000";
			return GRAFT_ECONFIG;
		}
		f->kind = POLICY_MIN;
		f->n = (unsigned)n;
		return GRAFT_OK;
	}
	if (len == 3 && strncmp(text, "all", 3) == 0)
		f->kind = POLICY_ALL;
	else if (len == 4 && strncmp(text, "halt", 4) == 0)
		f->kind = POLICY_HALT;
	else
		*why = "unknown filter";
	if (*why == NULL && *skip_space(open) != '\0')
		*why = "all() and halt() take no arguments";
	return *why == NULL ? GRAFT_OK : GRAFT_ECONFIG;
}

/* One rule "f1 -> f2 -> ..." into r. */
static int parse_rule(char *text, struct policy_rule *r, const char **why)
{
	char *p = text, *arrow;

	r->n = 0;
	for (;;) {
		arrow = strstr(p, "->");
		if (arrow != NULL)
			*arrow = '\0';
		p = (char *)skip_space(p);
		if (r->n == POLICY_MAX_FILTERS) {
			*why = "more than 8 filters in a rule";
			return GRAFT_ECONFIG;
		}
		if (parse_filter(p, &r->filters[r->n++], why) != GRAFT_OK)
			return GRAFT_ECONFIG;
		if (arrow == NULL)
			break;
		p = arrow + 2;
	}
	for (size_t i = 0; i < r->n; i++)
		if (r->filters[i].kind == POLICY_HALT && r->n > 1) {
			*why = "halt() stands alone in its rule";
			return GRAFT_ECONFIG;
		}
	return GRAFT_OK;
}

int policy_parse(const char *name, const char *text, struct policy *out,
		 char *errmsg)
{
	char *copy = strdup(text), *save = NULL, *rule;
	const char *why = NULL;
	int rv = GRAFT_OK;

	if (copy == NULL)
		return graft_errf(errmsg, GRAFT_ENOMEM, "out of memory");
	memset(out, 0, sizeof *out);
	snprintf(out->name, sizeof out->name, "%s", name);
	for (rule = strtok_r(copy, ";", &save); rule != NULL && rv == GRAFT_OK;
	     rule = strtok_r(NULL, ";", &save)) {
		char shown[128];

		if (*skip_space(rule) == '\0')
			continue;
		snprintf(shown, sizeof shown, "%s", skip_space(rule));
		if (out->n > 0 &&
		    out->rules[out->n - 1].filters[0].kind == POLICY_HALT)
			rv = bad(name, shown, "no rule may follow halt()",
				 errmsg);
		else if (out->n == POLICY_MAX_RULES)
			rv = bad(name, shown, "more than 8 rules", errmsg);
		else if (parse_rule(rule, &out->rules[out->n++], &why) !=
			 GRAFT_OK)
			rv = bad(name, shown, why, errmsg);
	}
	if (rv == GRAFT_OK && out->n == 0)
		rv = bad(name, text, "no rule", errmsg);
	free(copy);
	return rv;
}

/* Whether tag is in the comma-separated list. */
static bool has_tag(const char *list, const char *tag)
{
	size_t len = strlen(tag);

	for (const char *p = list; *p != '\0';) {
		size_t n = strcspn(p, ",");

		if (n == len && strncmp(p, tag, n) == 0)
			return true;
		p += n + (p[n] == ',');
	}
	return false;
}

/* Whether the comma-separated lists a and b share a tag. */
static bool share_tag(const char *a, const char *b)
{
	char tag[POLICY_TAGS_LEN];

	for (const char *p = a; *p != '\0';) {
		size_t n = strcspn(p, ",");

		snprintf(tag, sizeof tag, "%.*s", (int)n, p);
		if (has_tag(b, tag))
			return true;
		p += n + (p[n] == ',');
	}
	return false;
}

static uint32_t tagged(const struct policy_filter *f,
		       const char *const *tags, size_t n, uint32_t set)
{
	uint32_t out = 0;

	for (size_t i = 0; i < n && i < 32; i++)
		if ((set & (1u << i)) != 0 && share_tag(f->tags, tags[i]))
			out |= 1u << i;
	return out;
}

uint32_t policy_select(const struct policy *p, const char *const *tags,
		       size_t n, uint32_t candidates)
{
	for (size_t r = 0; r < p->n; r++) {
		const struct policy_rule *rule = &p->rules[r];
		uint32_t set = candidates;

		for (size_t i = 0; i < rule->n && set != 0; i++) {
			const struct policy_filter *f = &rule->filters[i];

			if (f->kind == POLICY_HALT)
				return 0;
			if (f->kind == POLICY_TAGS)
				set = tagged(f, tags, n, set);
			else if (f->kind == POLICY_MIN &&
				 (unsigned)__builtin_popcount(set) < f->n)
				set = 0;
		}
		if (set != 0)
			return set;
	}
	return candidates; /* the implicit all() */
}
