#include "retention.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "err.h"

#define ALLOWED                                                                \
	"allowed: true, keep_all, false, keep_none, or '<number>[K|M|G] "      \
	"<files|size|txs|entries|hours|days>' optionally followed by a size "  \
	"limit after hours/days, e.g. '2 days 2G', '100M size', '200k txs', "  \
	"'3 files'"

/* Parses "<digits>[K|M|G]" at *p; the suffix multiplies by 1024^n when bytes
 * is set and by 1000^n otherwise (Neo4j reads "200k txs" as 200,000). */
static int parse_amount(const char **p, int bytes, uint64_t *out)
{
	char *end;
	unsigned long long v;
	uint64_t unit = 1, base = bytes ? 1024 : 1000;

	if (!isdigit((unsigned char)**p))
		return -1;
	v = strtoull(*p, &end, 10);
	switch (toupper((unsigned char)*end)) {
	case 'K':
		unit = base;
		end++;
		break;
	case 'M':
		unit = base * base;
		end++;
		break;
	case 'G':
		unit = base * base * base;
		end++;
		break;
	default:
		break;
	}
	if (v > UINT64_MAX / unit)
		return -1;
	*out = (uint64_t)v * unit;
	*p = end;
	return 0;
}

static const char *skip_space(const char *p)
{
	while (isspace((unsigned char)*p))
		p++;
	return p;
}

static int word_is(const char *p, size_t n, const char *w)
{
	return strlen(w) == n && strncasecmp(p, w, n) == 0;
}

int graft_retention_parse(const char *text, struct graft_retention *out,
			  char *errmsg)
{
	const char *p = skip_space(text), *word;
	size_t wlen;
	uint64_t n, n_bytes;
	const char *num = p;

	memset(out, 0, sizeof *out);
	if (strcasecmp(p, "true") == 0 || strcasecmp(p, "keep_all") == 0) {
		out->kind = GRAFT_RETAIN_ALL;
		return GRAFT_OK;
	}
	if (strcasecmp(p, "false") == 0 || strcasecmp(p, "keep_none") == 0) {
		out->kind = GRAFT_RETAIN_NONE;
		return GRAFT_OK;
	}
	if (parse_amount(&p, 0, &n) != 0)
		goto bad;
	{
		const char *q = num;
		if (parse_amount(&q, 1, &n_bytes) != 0)
			goto bad;
	}
	word = p = skip_space(p);
	while (isalpha((unsigned char)*p))
		p++;
	wlen = (size_t)(p - word);
	if (word_is(word, wlen, "files")) {
		out->kind = GRAFT_RETAIN_FILES;
		out->amount = n;
	} else if (word_is(word, wlen, "size")) {
		out->kind = GRAFT_RETAIN_SIZE;
		out->amount = n_bytes;
	} else if (word_is(word, wlen, "txs") || word_is(word, wlen, "entries")) {
		out->kind = GRAFT_RETAIN_TXS;
		out->amount = n;
	} else if (word_is(word, wlen, "hours") || word_is(word, wlen, "days")) {
		uint64_t unit = word[0] == 'h' || word[0] == 'H' ? 3600000ull
								   : 86400000ull;
		out->kind = GRAFT_RETAIN_TIME;
		if (n > UINT64_MAX / unit)
			goto bad;
		out->amount = n * unit;
	} else {
		goto bad;
	}
	if (out->kind == GRAFT_RETAIN_FILES && out->amount == 0)
		goto bad;
	p = skip_space(p);
	if (*p != '\0') {
		if (out->kind != GRAFT_RETAIN_TIME ||
		    parse_amount(&p, 1, &out->size_cap) != 0)
			goto bad;
		/* An optional unit word after the cap ("2 days 2G size") is not
		 * Neo4j's grammar; only B/iB suffix letters are tolerated. */
		while (*p == 'i' || *p == 'B' || *p == 'b')
			p++;
		if (*skip_space(p) != '\0')
			goto bad;
	}
	return GRAFT_OK;
bad:
	return graft_errf(errmsg, GRAFT_ECONFIG, "'%s' is not a retention policy; %s",
			  text, ALLOWED);
}
