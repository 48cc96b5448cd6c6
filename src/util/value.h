/* A value as Cypher and PackStream know it: null, bool, int64, float64,
 * string, bytes, lists, maps, temporal values, durations and points (all of
 * which nodes and relationships may store), plus the runtime-only references
 * to nodes, relationships and paths. Shared by the graph, the transaction
 * records, Cypher and PackStream, so it lives at the bottom. A value owns its
 * heap parts; copy deep-copies, free releases them. */
#ifndef GRAFT_UTIL_VALUE_H
#define GRAFT_UTIL_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum graft_value_type {
	GRAFT_VALUE_NULL = 0,
	GRAFT_VALUE_BOOL,
	GRAFT_VALUE_INT,
	GRAFT_VALUE_FLOAT,
	GRAFT_VALUE_STRING,
	GRAFT_VALUE_BYTES,
	GRAFT_VALUE_LIST,
	GRAFT_VALUE_MAP,
	/* Storable extended values, payload in u.x. */
	GRAFT_VALUE_DATE,          /* x->days since 1970-01-01 */
	GRAFT_VALUE_LOCALTIME,     /* x->secs since midnight, x->nanos */
	GRAFT_VALUE_TIME,          /* LOCALTIME + x->offset (s east of UTC) */
	GRAFT_VALUE_LOCALDATETIME, /* x->secs since epoch (local), x->nanos */
	GRAFT_VALUE_DATETIME,      /* x->secs since epoch (UTC), nanos, offset,
				    * x->zone (NULL for a fixed offset) */
	GRAFT_VALUE_DURATION,      /* x->months, days, secs, nanos */
	GRAFT_VALUE_POINT,         /* x->srid, dims (2|3), x, y, z */
	/* Runtime-only references (never stored): u.i is the id; a path is a
	 * list of INT ids, node, rel, node, ..., rel, node. */
	GRAFT_VALUE_NODE,
	GRAFT_VALUE_REL,
	GRAFT_VALUE_PATH,
	GRAFT_VALUE_TYPE_COUNT
};

/* The dates a temporal value may hold, as days since 1970-01-01: years
 * -999999999 to +999999999, the range of java.time and so of Neo4j. Values
 * outside it are refused where they enter (PackStream, construction). */
#define GRAFT_DATE_DAYS_MIN INT64_C(-365243219162)
#define GRAFT_DATE_DAYS_MAX INT64_C(365241780471)
#define GRAFT_DAY_SECS INT64_C(86400)

/* Highest type a property may hold. */
#define GRAFT_VALUE_STORABLE_MAX GRAFT_VALUE_POINT

/* String and bytes payload: len bytes, plus a NUL after them for strings. */
struct graft_str {
	uint32_t len;
	char data[];
};

struct graft_value;

struct graft_list {
	uint32_t len;
	struct graft_value *items; /* owned, len entries */
};

struct graft_map_entry;

struct graft_map {
	uint32_t len;
	struct graft_map_entry *entries; /* owned, sorted by key bytes */
};

struct graft_ext {
	int64_t months;
	int64_t days;
	int64_t secs;
	int32_t nanos;  /* 0..999999999 */
	int32_t offset; /* seconds east of UTC */
	struct graft_str *zone; /* owned, may be NULL */
	uint32_t srid;
	uint32_t dims;
	double x, y, z;
};

struct graft_value {
	uint8_t type; /* enum graft_value_type */
	union {
		bool b;
		int64_t i;
		double f;
		struct graft_str *s;    /* STRING, BYTES: owned */
		struct graft_list *list; /* owned */
		struct graft_map *map;   /* owned */
		struct graft_ext *x;     /* owned */
	} u;
};

struct graft_map_entry {
	struct graft_str *key; /* owned */
	struct graft_value value;
};

static inline struct graft_value graft_value_null(void)
{
	struct graft_value v = {.type = GRAFT_VALUE_NULL};
	return v;
}
static inline struct graft_value graft_value_bool(bool b)
{
	struct graft_value v = {.type = GRAFT_VALUE_BOOL, .u.b = b};
	return v;
}
static inline struct graft_value graft_value_int(int64_t i)
{
	struct graft_value v = {.type = GRAFT_VALUE_INT, .u.i = i};
	return v;
}
static inline struct graft_value graft_value_float(double f)
{
	struct graft_value v = {.type = GRAFT_VALUE_FLOAT, .u.f = f};
	return v;
}

static inline struct graft_value graft_value_ref(uint8_t type, uint64_t id)
{
	struct graft_value v = {.type = type, .u.i = (int64_t)id};
	return v;
}

/* Builds an extended value of the given type with every field zero, for the
 * caller to fill. GRAFT_OK or GRAFT_ENOMEM. */
int graft_value_ext(struct graft_value *out, uint8_t type);
static inline bool graft_value_is_ext(uint8_t type)
{
	return type >= GRAFT_VALUE_DATE && type <= GRAFT_VALUE_POINT;
}

/* Whether s[0..len) is well-formed UTF-8 (RFC 3629: no overlong form, no
 * surrogate, nothing past U+10FFFF), as every string a client sends must
 * be before graft stores it or hands it to another client's driver. */
bool graft_utf8_valid(const void *s, size_t len);
/* Makes a string or bytes payload (copied). Returns NULL on out of memory. */
struct graft_str *graft_str_new(const void *data, size_t len);
/* Builds STRING / BYTES values copying the bytes. GRAFT_OK or GRAFT_ENOMEM. */
int graft_value_string(struct graft_value *out, const char *s, size_t len);
int graft_value_bytes(struct graft_value *out, const void *p, size_t len);
/* Builds an empty list of n null items / a map of n entries with NULL keys,
 * for the caller to fill. GRAFT_OK or GRAFT_ENOMEM. */
int graft_value_list(struct graft_value *out, uint32_t n);
int graft_value_map(struct graft_value *out, uint32_t n);
/* Sorts a filled map's entries by key; a later duplicate key wins. */
void graft_map_sort(struct graft_map *m);
/* The value under key in a sorted map, or NULL. O(log n). */
const struct graft_value *graft_map_get(const struct graft_map *m,
					const char *key, size_t len);

/* Releases the heap parts of v and sets it to null. */
void graft_value_free(struct graft_value *v);
/* Deep copy. GRAFT_OK or GRAFT_ENOMEM (then *dst is null). */
int graft_value_copy(struct graft_value *dst, const struct graft_value *src);
/* Structural equality where null equals null (storage equality, not Cypher's
 * three-valued equality); 1 and 1.0 are different values. */
bool graft_value_equal(const struct graft_value *a, const struct graft_value *b);
/* A total order (type first, then content) for indexes and determinism. */
int graft_value_cmp(const struct graft_value *a, const struct graft_value *b);
/* A hash consistent with graft_value_equal. */
uint64_t graft_value_hash(const struct graft_value *v);
/* Folds x into the running hash h (every value hash is built with it). */
uint64_t graft_hash_mix(uint64_t h, uint64_t x);
/* FNV-1a of p[0..n) continued from h: GRAFT_HASH_BYTES_SEED to start. The
 * one byte hash of names, texts and strings (mix the result before taking
 * low bits: FNV's are weak). */
#define GRAFT_HASH_BYTES_SEED 0xcbf29ce484222325ull
uint64_t graft_hash_bytes(uint64_t h, const void *p, size_t n);
/* Heap bytes owned by v (excluding the struct itself), for memory accounting. */
size_t graft_value_heap_size(const struct graft_value *v);

#endif
