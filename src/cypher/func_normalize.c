/* normalize(): Unicode normalization forms NFC, NFD, NFKC and NFKD (UAX
 * #15): decompose (compatibility mappings too for the K forms, Hangul by
 * formula), put combining marks in canonical order, then for C forms
 * compose again. The tables (unicode_data.inc, made by unicode_gen.py)
 * cover Latin, Greek, Cyrillic, Vietnamese, punctuation, letterlike and
 * enclosed symbols and the fullwidth forms; other characters pass as
 * they are. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "func_int.h"

struct norm_decomp {
	uint32_t cp;
	uint16_t at;    /* into norm_seq */
	uint8_t len;
	uint8_t compat; /* a compatibility mapping (K forms only) */
};
struct norm_ccc {
	uint32_t lo, hi;
	uint8_t ccc;
};
struct norm_pair {
	uint32_t a, b, cp;
};

#include "unicode_data.inc"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Hangul syllables decompose and compose by formula. */
#define HANGUL_S 0xac00u
#define HANGUL_L 0x1100u
#define HANGUL_V 0x1161u
#define HANGUL_T 0x11a7u
#define HANGUL_VN 21u
#define HANGUL_TN 28u
#define HANGUL_N (HANGUL_VN * HANGUL_TN)
#define HANGUL_COUNT (19u * HANGUL_N)

struct cps {
	uint32_t *p;
	size_t len, cap;
};

static int cps_push(struct cps *c, uint32_t cp)
{
	if (c->len == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		uint32_t *p = graft_mem_realloc(c->p, cap * sizeof *p);
		if (p == NULL)
			return GRAFT_ENOMEM;
		c->p = p;
		c->cap = cap;
	}
	c->p[c->len++] = cp;
	return GRAFT_OK;
}

static const struct norm_decomp *find_decomp(uint32_t cp)
{
	size_t lo = 0, hi = NELEM(norm_decomps);

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (norm_decomps[mid].cp == cp)
			return &norm_decomps[mid];
		if (norm_decomps[mid].cp < cp)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static uint8_t ccc(uint32_t cp)
{
	size_t lo = 0, hi = NELEM(norm_cccs);

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (cp < norm_cccs[mid].lo)
			hi = mid;
		else if (cp > norm_cccs[mid].hi)
			lo = mid + 1;
		else
			return norm_cccs[mid].ccc;
	}
	return 0;
}

/* The composite of a and b, or 0. */
static uint32_t compose(uint32_t a, uint32_t b)
{
	size_t lo = 0, hi = NELEM(norm_pairs);

	if (a >= HANGUL_L && a < HANGUL_L + 19 && b >= HANGUL_V &&
	    b < HANGUL_V + HANGUL_VN)
		return HANGUL_S + ((a - HANGUL_L) * HANGUL_VN +
				   (b - HANGUL_V)) * HANGUL_TN;
	if (a >= HANGUL_S && a < HANGUL_S + HANGUL_COUNT &&
	    (a - HANGUL_S) % HANGUL_TN == 0 && b > HANGUL_T &&
	    b < HANGUL_T + HANGUL_TN)
		return a + (b - HANGUL_T);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct norm_pair *p = &norm_pairs[mid];
		if (p->a == a && p->b == b)
			return p->cp;
		if (p->a < a || (p->a == a && p->b < b))
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

static int decompose(struct cps *out, uint32_t cp, bool compat, int depth)
{
	const struct norm_decomp *d;
	int rv = GRAFT_OK;

	if (cp >= HANGUL_S && cp < HANGUL_S + HANGUL_COUNT) {
		uint32_t s = cp - HANGUL_S;
		rv = cps_push(out, HANGUL_L + s / HANGUL_N);
		if (rv == GRAFT_OK)
			rv = cps_push(out, HANGUL_V + s % HANGUL_N / HANGUL_TN);
		if (rv == GRAFT_OK && s % HANGUL_TN != 0)
			rv = cps_push(out, HANGUL_T + s % HANGUL_TN);
		return rv;
	}
	d = find_decomp(cp);
	if (d == NULL || (d->compat && !compat) || depth > 8)
		return cps_push(out, cp);
	for (unsigned i = 0; rv == GRAFT_OK && i < d->len; i++)
		rv = decompose(out, norm_seq[d->at + i], compat, depth + 1);
	return rv;
}

/* Stable insertion sort of each run of marks by combining class. */
static void canonical_order(struct cps *c)
{
	for (size_t i = 1; i < c->len; i++) {
		uint8_t k = ccc(c->p[i]);
		for (size_t j = i; k != 0 && j > 0 && ccc(c->p[j - 1]) > k; j--) {
			uint32_t t = c->p[j];
			c->p[j] = c->p[j - 1];
			c->p[j - 1] = t;
		}
	}
}

/* UAX #15's canonical composition, in place. */
static void compose_all(struct cps *c)
{
	size_t starter = 0, k = 1;
	int last;

	if (c->len == 0)
		return;
	last = ccc(c->p[0]) ? 256 : 0;
	for (size_t i = 1; i < c->len; i++) {
		uint32_t ch = c->p[i], comp = compose(c->p[starter], ch);
		int cls = ccc(ch);
		if (comp != 0 && (last < cls || last == 0)) {
			c->p[starter] = comp;
			continue;
		}
		if (cls == 0)
			starter = k;
		last = cls;
		c->p[k++] = ch;
	}
	c->len = k;
}

/* One code point of UTF-8 (U+FFFD for a malformed byte). */
static size_t utf8_next(const uint8_t *p, size_t n, uint32_t *cp)
{
	unsigned len = p[0] < 0x80 ? 1 : p[0] < 0xc2 ? 0 : p[0] < 0xe0 ? 2
		       : p[0] < 0xf0 ? 3 : p[0] < 0xf5 ? 4 : 0;
	uint32_t v;

	if (len == 0 || len > n) {
		*cp = 0xfffd;
		return 1;
	}
	v = len == 1 ? p[0] : p[0] & (0x7f >> len);
	for (unsigned i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80) {
			*cp = 0xfffd;
			return 1;
		}
		v = v << 6 | (p[i] & 0x3f);
	}
	*cp = v;
	return len;
}

static size_t utf8_put(char *out, uint32_t cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

static int normalize(const struct graft_str *s, bool compat, bool comp,
		     struct graft_value *out)
{
	struct cps c = {0};
	char *text = NULL;
	size_t n = 0;
	int rv = GRAFT_OK;

	for (size_t i = 0; rv == GRAFT_OK && i < s->len;) {
		uint32_t cp;
		i += utf8_next((const uint8_t *)s->data + i, s->len - i, &cp);
		rv = decompose(&c, cp, compat, 0);
	}
	if (rv == GRAFT_OK) {
		canonical_order(&c);
		if (comp)
			compose_all(&c);
		text = graft_mem_malloc(c.len * 4 + 1);
		rv = text == NULL ? GRAFT_ENOMEM : GRAFT_OK;
	}
	for (size_t i = 0; rv == GRAFT_OK && i < c.len; i++)
		n += utf8_put(text + n, c.p[i]);
	if (rv == GRAFT_OK)
		rv = graft_value_string(out, text, n);
	graft_mem_free(text);
	graft_mem_free(c.p);
	return rv;
}

int fn_normalize(struct cypher_fctx *fc, const struct graft_value *args,
		 uint32_t n, struct graft_value *out)
{
	static const char *const forms[] = {"NFC", "NFD", "NFKC", "NFKD"};
	size_t f = 0;

	*out = graft_value_null();
	if (func_any_null(args, n))
		return GRAFT_OK;
	for (uint32_t i = 0; i < n; i++)
		if (args[i].type != GRAFT_VALUE_STRING)
			return func_type_error(fc, "normalize", "a String",
					       &args[i]);
	if (n > 1) {
		for (f = 0; f < NELEM(forms) &&
			    strcasecmp(args[1].u.s->data, forms[f]) != 0;
		     f++)
			;
		if (f == NELEM(forms))
			return func_arg_error(fc, "normalize",
					      "unknown normal form; expected "
					      "NFC, NFD, NFKC or NFKD");
	}
	return normalize(args[0].u.s, f >= 2, f % 2 == 0, out);
}
