#include "value.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "mem.h"

/* The length of the sequence that starts with lead byte b and the bounds
 * of its second byte (which is what rules out overlong forms, surrogates
 * and code points past U+10FFFF); 0 for a byte that cannot start one. */
static size_t utf8_sequence(uint8_t b, uint8_t *lo, uint8_t *hi)
{
	*lo = 0x80;
	*hi = 0xBF;
	if (b >= 0xC2 && b <= 0xDF)
		return 2;
	if (b >= 0xE0 && b <= 0xEF) {
		*lo = b == 0xE0 ? 0xA0 : 0x80;
		*hi = b == 0xED ? 0x9F : 0xBF;
		return 3;
	}
	if (b >= 0xF0 && b <= 0xF4) {
		*lo = b == 0xF0 ? 0x90 : 0x80;
		*hi = b == 0xF4 ? 0x8F : 0xBF;
		return 4;
	}
	return 0;
}

bool graft_utf8_valid(const void *s, size_t len)
{
	const uint8_t *p = s, *end = p + len;

	while (p < end) {
		uint8_t lo, hi;
		size_t n;

		if (*p < 0x80) {
			p++;
			continue;
		}
		n = utf8_sequence(*p, &lo, &hi);
		if (n == 0 || (size_t)(end - p) < n || p[1] < lo || p[1] > hi)
			return false;
		for (size_t k = 2; k < n; k++)
			if ((p[k] & 0xC0) != 0x80)
				return false;
		p += n;
	}
	return true;
}

struct graft_str *graft_str_new(const void *data, size_t len)
{
	struct graft_str *s;

	if (len > UINT32_MAX)
		return NULL;
	s = graft_mem_malloc(sizeof *s + len + 1);
	if (s == NULL)
		return NULL;
	s->len = (uint32_t)len;
	if (len > 0)
		memcpy(s->data, data, len);
	s->data[len] = '\0';
	return s;
}

static int value_str(struct graft_value *out, uint8_t type, const void *p,
		     size_t len)
{
	struct graft_str *s = graft_str_new(p, len);

	*out = graft_value_null();
	if (s == NULL)
		return GRAFT_ENOMEM;
	out->type = type;
	out->u.s = s;
	return GRAFT_OK;
}

int graft_value_string(struct graft_value *out, const char *s, size_t len)
{
	return value_str(out, GRAFT_VALUE_STRING, s, len);
}

int graft_value_bytes(struct graft_value *out, const void *p, size_t len)
{
	return value_str(out, GRAFT_VALUE_BYTES, p, len);
}

int graft_value_list(struct graft_value *out, uint32_t n)
{
	struct graft_list *l = graft_mem_malloc(sizeof *l);

	*out = graft_value_null();
	if (l == NULL)
		return GRAFT_ENOMEM;
	l->len = n;
	l->items = graft_mem_calloc(n ? n : 1, sizeof *l->items);
	if (l->items == NULL) {
		graft_mem_free(l);
		return GRAFT_ENOMEM;
	}
	out->type = GRAFT_VALUE_LIST;
	out->u.list = l;
	return GRAFT_OK;
}

int graft_value_map(struct graft_value *out, uint32_t n)
{
	struct graft_map *m = graft_mem_malloc(sizeof *m);

	*out = graft_value_null();
	if (m == NULL)
		return GRAFT_ENOMEM;
	m->len = n;
	m->entries = graft_mem_calloc(n ? n : 1, sizeof *m->entries);
	if (m->entries == NULL) {
		graft_mem_free(m);
		return GRAFT_ENOMEM;
	}
	out->type = GRAFT_VALUE_MAP;
	out->u.map = m;
	return GRAFT_OK;
}

static int str_cmp(const struct graft_str *a, const char *b, size_t blen)
{
	size_t n = a->len < blen ? a->len : blen;
	int c = n ? memcmp(a->data, b, n) : 0;

	if (c != 0)
		return c;
	return a->len < blen ? -1 : a->len > blen ? 1 : 0;
}

static int entry_cmp(const void *pa, const void *pb)
{
	const struct graft_map_entry *a = pa, *b = pb;
	int c = str_cmp(a->key, b->key->data, b->key->len);

	/* Stable on ties by address, so "later duplicate wins" is decidable. */
	if (c == 0)
		c = a < b ? -1 : a > b ? 1 : 0;
	return c;
}

void graft_map_sort(struct graft_map *m)
{
	uint32_t out = 0;

	qsort(m->entries, m->len, sizeof *m->entries, entry_cmp);
	for (uint32_t i = 0; i < m->len; i++) {
		if (out > 0 && str_cmp(m->entries[out - 1].key,
				       m->entries[i].key->data,
				       m->entries[i].key->len) == 0) {
			graft_mem_free(m->entries[out - 1].key);
			graft_value_free(&m->entries[out - 1].value);
			out--;
		}
		m->entries[out++] = m->entries[i];
	}
	m->len = out;
}

const struct graft_value *graft_map_get(const struct graft_map *m,
					const char *key, size_t len)
{
	uint32_t lo = 0, hi = m->len;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = str_cmp(m->entries[mid].key, key, len);
		if (c == 0)
			return &m->entries[mid].value;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

int graft_value_ext(struct graft_value *out, uint8_t type)
{
	out->u.x = graft_mem_calloc(1, sizeof *out->u.x);
	if (out->u.x == NULL) {
		*out = graft_value_null();
		return GRAFT_ENOMEM;
	}
	out->type = type;
	return GRAFT_OK;
}

static int ext_copy(struct graft_value *dst, const struct graft_value *src)
{
	if (graft_value_ext(dst, src->type) != GRAFT_OK)
		return GRAFT_ENOMEM;
	*dst->u.x = *src->u.x;
	if (src->u.x->zone == NULL)
		return GRAFT_OK;
	dst->u.x->zone = graft_str_new(src->u.x->zone->data,
				       src->u.x->zone->len);
	if (dst->u.x->zone != NULL)
		return GRAFT_OK;
	graft_mem_free(dst->u.x);
	*dst = graft_value_null();
	return GRAFT_ENOMEM;
}

static int ext_cmp(const struct graft_ext *a, const struct graft_ext *b)
{
	int64_t ia[] = {a->months, a->days, a->secs, a->nanos, a->offset,
			a->srid, a->dims};
	int64_t ib[] = {b->months, b->days, b->secs, b->nanos, b->offset,
			b->srid, b->dims};
	double fa[] = {a->x, a->y, a->z}, fb[] = {b->x, b->y, b->z};
	int c;

	for (size_t i = 0; i < sizeof ia / sizeof ia[0]; i++)
		if (ia[i] != ib[i])
			return ia[i] < ib[i] ? -1 : 1;
	for (size_t i = 0; i < 3; i++)
		if (fa[i] != fb[i])
			return fa[i] < fb[i] ? -1 : 1;
	if (a->zone == NULL || b->zone == NULL)
		return (a->zone != NULL) - (b->zone != NULL);
	c = memcmp(a->zone->data, b->zone->data,
		   a->zone->len < b->zone->len ? a->zone->len : b->zone->len);
	if (c != 0)
		return c;
	return a->zone->len < b->zone->len ? -1 : a->zone->len > b->zone->len;
}

void graft_value_free(struct graft_value *v)
{
	if (graft_value_is_ext(v->type)) {
		graft_mem_free(v->u.x->zone);
		graft_mem_free(v->u.x);
		*v = graft_value_null();
		return;
	}
	switch (v->type) {
	case GRAFT_VALUE_STRING:
	case GRAFT_VALUE_BYTES:
		graft_mem_free(v->u.s);
		break;
	case GRAFT_VALUE_PATH:
	case GRAFT_VALUE_LIST:
		for (uint32_t i = 0; i < v->u.list->len; i++)
			graft_value_free(&v->u.list->items[i]);
		graft_mem_free(v->u.list->items);
		graft_mem_free(v->u.list);
		break;
	case GRAFT_VALUE_MAP:
		for (uint32_t i = 0; i < v->u.map->len; i++) {
			graft_mem_free(v->u.map->entries[i].key);
			graft_value_free(&v->u.map->entries[i].value);
		}
		graft_mem_free(v->u.map->entries);
		graft_mem_free(v->u.map);
		break;
	default:
		break;
	}
	*v = graft_value_null();
}

int graft_value_copy(struct graft_value *dst, const struct graft_value *src)
{
	int rv;

	if (graft_value_is_ext(src->type))
		return ext_copy(dst, src);
	switch (src->type) {
	case GRAFT_VALUE_STRING:
	case GRAFT_VALUE_BYTES:
		return value_str(dst, src->type, src->u.s->data, src->u.s->len);
	case GRAFT_VALUE_PATH:
	case GRAFT_VALUE_LIST:
		rv = graft_value_list(dst, src->u.list->len);
		if (rv == GRAFT_OK)
			dst->type = src->type;
		for (uint32_t i = 0; rv == GRAFT_OK && i < src->u.list->len; i++)
			rv = graft_value_copy(&dst->u.list->items[i],
					      &src->u.list->items[i]);
		break;
	case GRAFT_VALUE_MAP:
		rv = graft_value_map(dst, src->u.map->len);
		for (uint32_t i = 0; rv == GRAFT_OK && i < src->u.map->len; i++) {
			const struct graft_map_entry *e = &src->u.map->entries[i];
			dst->u.map->entries[i].key =
				graft_str_new(e->key->data, e->key->len);
			if (dst->u.map->entries[i].key == NULL)
				rv = GRAFT_ENOMEM;
			else
				rv = graft_value_copy(
					&dst->u.map->entries[i].value, &e->value);
		}
		break;
	default:
		*dst = *src;
		return GRAFT_OK;
	}
	if (rv != GRAFT_OK)
		graft_value_free(dst);
	return rv;
}

bool graft_value_equal(const struct graft_value *a, const struct graft_value *b)
{
	return graft_value_cmp(a, b) == 0;
}

static int num_cmp_i(int64_t a, int64_t b)
{
	return a < b ? -1 : a > b ? 1 : 0;
}

static int float_cmp(double a, double b)
{
	/* NaN sorts after every number and equals itself, to keep a total order. */
	if (a != a || b != b)
		return (a != a) - (b != b);
	return a < b ? -1 : a > b ? 1 : 0;
}

int graft_value_cmp(const struct graft_value *a, const struct graft_value *b)
{
	int c;

	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	if (graft_value_is_ext(a->type))
		return ext_cmp(a->u.x, b->u.x);
	switch (a->type) {
	case GRAFT_VALUE_BOOL:
		return (int)a->u.b - (int)b->u.b;
	case GRAFT_VALUE_NODE:
	case GRAFT_VALUE_REL:
	case GRAFT_VALUE_INT:
		return num_cmp_i(a->u.i, b->u.i);
	case GRAFT_VALUE_FLOAT:
		return float_cmp(a->u.f, b->u.f);
	case GRAFT_VALUE_STRING:
	case GRAFT_VALUE_BYTES:
		return str_cmp(a->u.s, b->u.s->data, b->u.s->len);
	case GRAFT_VALUE_PATH:
	case GRAFT_VALUE_LIST:
		for (uint32_t i = 0; i < a->u.list->len && i < b->u.list->len; i++) {
			c = graft_value_cmp(&a->u.list->items[i],
					    &b->u.list->items[i]);
			if (c != 0)
				return c;
		}
		return num_cmp_i(a->u.list->len, b->u.list->len);
	case GRAFT_VALUE_MAP:
		for (uint32_t i = 0; i < a->u.map->len && i < b->u.map->len; i++) {
			const struct graft_map_entry *x = &a->u.map->entries[i];
			const struct graft_map_entry *y = &b->u.map->entries[i];
			c = str_cmp(x->key, y->key->data, y->key->len);
			if (c == 0)
				c = graft_value_cmp(&x->value, &y->value);
			if (c != 0)
				return c;
		}
		return num_cmp_i(a->u.map->len, b->u.map->len);
	default:
		return 0;
	}
}

uint64_t graft_hash_mix(uint64_t h, uint64_t x)
{
	/* splitmix64 finaliser over the running hash: cheap, well distributed. */
	h ^= x + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebull;
	return h ^ (h >> 31);
}

uint64_t graft_hash_bytes(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

static uint64_t hash_bytes(uint64_t h, const char *p, size_t n)
{
	return graft_hash_mix(h, graft_hash_bytes(GRAFT_HASH_BYTES_SEED, p, n));
}

uint64_t graft_value_hash(const struct graft_value *v)
{
	uint64_t h = graft_hash_mix(0, v->type);
	uint64_t bits;

	if (graft_value_is_ext(v->type)) {
		h = graft_hash_mix(h, (uint64_t)v->u.x->days);
		h = graft_hash_mix(h, (uint64_t)v->u.x->secs);
		return graft_hash_mix(h, (uint64_t)v->u.x->nanos ^
					 (uint64_t)v->u.x->months);
	}
	switch (v->type) {
	case GRAFT_VALUE_BOOL:
		return graft_hash_mix(h, v->u.b);
	case GRAFT_VALUE_NODE:
	case GRAFT_VALUE_REL:
	case GRAFT_VALUE_INT:
		return graft_hash_mix(h, (uint64_t)v->u.i);
	case GRAFT_VALUE_FLOAT:
		if (v->u.f != v->u.f)
			return graft_hash_mix(h, 1); /* every NaN hashes alike */
		if (v->u.f == 0)
			return graft_hash_mix(h, 0); /* -0.0 == 0.0 */
		memcpy(&bits, &v->u.f, sizeof bits);
		return graft_hash_mix(h, bits);
	case GRAFT_VALUE_STRING:
	case GRAFT_VALUE_BYTES:
		return hash_bytes(h, v->u.s->data, v->u.s->len);
	case GRAFT_VALUE_PATH:
	case GRAFT_VALUE_LIST:
		for (uint32_t i = 0; i < v->u.list->len; i++)
			h = graft_hash_mix(h, graft_value_hash(
						 &v->u.list->items[i]));
		return h;
	case GRAFT_VALUE_MAP:
		for (uint32_t i = 0; i < v->u.map->len; i++) {
			const struct graft_map_entry *e = &v->u.map->entries[i];
			h = hash_bytes(h, e->key->data, e->key->len);
			h = graft_hash_mix(h, graft_value_hash(&e->value));
		}
		return h;
	default:
		return h;
	}
}

size_t graft_value_heap_size(const struct graft_value *v)
{
	size_t n = 0;

	if (graft_value_is_ext(v->type))
		return sizeof(struct graft_ext) +
		       (v->u.x->zone ? sizeof(struct graft_str) +
						v->u.x->zone->len + 1
				     : 0);
	switch (v->type) {
	case GRAFT_VALUE_STRING:
	case GRAFT_VALUE_BYTES:
		return sizeof(struct graft_str) + v->u.s->len + 1;
	case GRAFT_VALUE_PATH:
	case GRAFT_VALUE_LIST:
		n = sizeof(struct graft_list) +
		    v->u.list->len * sizeof(struct graft_value);
		for (uint32_t i = 0; i < v->u.list->len; i++)
			n += graft_value_heap_size(&v->u.list->items[i]);
		return n;
	case GRAFT_VALUE_MAP:
		n = sizeof(struct graft_map) +
		    v->u.map->len * sizeof(struct graft_map_entry);
		for (uint32_t i = 0; i < v->u.map->len; i++)
			n += sizeof(struct graft_str) +
			     v->u.map->entries[i].key->len + 1 +
			     graft_value_heap_size(&v->u.map->entries[i].value);
		return n;
	default:
		return 0;
	}
}
