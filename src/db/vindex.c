/* A transaction's value index (struct ov_vindex in db_int.h): chains of
 * entries per hash of (property key, value), found through a table of
 * chain ends.
 *
 * Why chains: the first version kept (hash, node) pairs in one
 * open-addressing table, so every node holding a value shared by k others
 * sat in one probe run of k slots that each later write of that value (and
 * of any value hashing into the run) walked to its end: 20k rows with a
 * constant property took 0.56 s, 80k 15.7 s. A chain costs one table probe
 * per write whatever the values. Figures in docs/benchmarks.md.
 *
 * Why built on the first seek: until a statement of the transaction looks a
 * value up, nothing reads the index, and a load of a million nodes spent a
 * tenth of its time and a third of its memory keeping it. */
#include <stdlib.h>
#include <string.h>

#include "db_int.h"

#define CHAINS_MIN 64

uint64_t ov_vindex_hash(uint32_t key, const struct graft_value *v)
{
	uint64_t h = graft_value_hash(v) ^ ((uint64_t)key * 0x9e3779b97f4a7c15ull);

	/* splitmix64's finaliser: small integers hash to themselves */
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebull;
	return h ^ (h >> 31);
}

/* The slot of the chain of hash, or the free slot where it would go. */
static struct ov_vchain *chain_slot(const struct ov_vindex *ix, uint64_t hash,
				    uint64_t *probes)
{
	uint32_t mask = ix->capchains - 1;
	uint32_t i = (uint32_t)hash & mask;

	for (;; i = (i + 1) & mask) {
		struct ov_vchain *c = &ix->chains[i];

		(*probes)++;
		if (c->head == OV_VNONE || ix->e[c->head].hash == hash)
			return c;
	}
}

static int chains_grow(struct ov_vindex *ix)
{
	uint32_t cap = ix->capchains ? ix->capchains * 2 : CHAINS_MIN;
	struct ov_vchain *old = ix->chains;
	uint32_t oldcap = ix->capchains;
	uint64_t ignored = 0;

	if (cap == 0) /* past 2^31 chains */
		return GRAFT_ENOMEM;
	ix->chains = graft_mem_calloc(cap, sizeof *ix->chains);
	if (ix->chains == NULL) {
		ix->chains = old;
		return GRAFT_ENOMEM;
	}
	ix->capchains = cap;
	for (uint32_t i = 0; i < oldcap; i++)
		if (old[i].head != OV_VNONE)
			*chain_slot(ix, ix->e[old[i].head].hash, &ignored) =
				old[i];
	graft_mem_free(old);
	return GRAFT_OK;
}

int ov_vindex_reserve(struct ov_vindex *ix)
{
	/* one more entry, and at most one more chain: load <= 3/4 */
	if ((uint64_t)(ix->nchains + 1) * 4 > (uint64_t)ix->capchains * 3 &&
	    chains_grow(ix) != GRAFT_OK)
		return GRAFT_ENOMEM;
	if (ix->n == 0)
		ix->n = 1; /* entry 0 is OV_VNONE */
	if (ix->n >= ix->cap) {
		uint32_t cap = ix->cap ? ix->cap * 2 : 64;
		struct ov_ventry *e;

		if (cap < ix->cap) /* past 2^32 entries */
			return GRAFT_ENOMEM;
		e = graft_mem_realloc(ix->e, (size_t)cap * sizeof *e);
		if (e == NULL)
			return GRAFT_ENOMEM;
		ix->e = e;
		ix->cap = cap;
	}
	return GRAFT_OK;
}

uint32_t ov_vindex_add(struct ov_vindex *ix, uint64_t hash, uint64_t id)
{
	struct ov_vchain *c = chain_slot(ix, hash, &ix->probes);
	uint32_t e = ix->n++;

	ix->e[e].hash = hash;
	ix->e[e].id = id;
	ix->e[e].next = OV_VNONE;
	if (c->head == OV_VNONE) {
		c->head = e;
		ix->nchains++;
	} else {
		ix->e[c->tail].next = e;
	}
	c->tail = e;
	return e;
}

void ov_vindex_retire(struct ov_vindex *ix, uint32_t e)
{
	ix->e[e].id = OV_VDEAD;
}

uint32_t ov_vindex_first(const struct ov_vindex *ix, uint64_t hash)
{
	uint64_t ignored = 0;

	return ix->capchains == 0 ? OV_VNONE
				  : chain_slot(ix, hash, &ignored)->head;
}

void ov_vindex_free(struct ov_vindex *ix)
{
	graft_mem_free(ix->e);
	graft_mem_free(ix->chains);
	memset(ix, 0, sizeof *ix);
}

/* Gives node n's properties their value-index column and entries. */
static int index_node(struct ov_vindex *ix, struct ov_node *n)
{
	struct ov_props *p = &n->props;

	if (p->cap == 0)
		return GRAFT_OK;
	p->vix = graft_mem_malloc(p->cap * sizeof *p->vix);
	if (p->vix == NULL)
		return GRAFT_ENOMEM;
	for (uint32_t i = 0; i < p->n; i++) {
		if (ov_vindex_reserve(ix) != GRAFT_OK)
			return GRAFT_ENOMEM;
		p->vix[i] = ov_vindex_add(
			ix, ov_vindex_hash(p->v[i].key, &p->v[i].value), n->id);
	}
	return GRAFT_OK;
}

int ov_vindex_build(struct db_tx *tx)
{
	const struct idvec *lists[] = {&tx->created_nodes, &tx->touched_nodes};
	int rv = GRAFT_OK;

	for (size_t l = 0; l < 2; l++) {
		for (size_t i = 0; i < lists[l]->n && rv == GRAFT_OK; i++) {
			struct ov_node *n = tx_node(tx, lists[l]->v[i]);

			if (n->has_state && !n->deleted)
				rv = index_node(&tx->values, n);
		}
	}
	if (rv == GRAFT_OK) {
		tx->values.built = true;
		return GRAFT_OK;
	}
	/* Nothing half-built stays: writes go on without the index. */
	for (size_t l = 0; l < 2; l++) {
		for (size_t i = 0; i < lists[l]->n; i++) {
			struct ov_node *n = tx_node(tx, lists[l]->v[i]);

			graft_mem_free(n->props.vix);
			n->props.vix = NULL;
		}
	}
	ov_vindex_free(&tx->values);
	return rv;
}
