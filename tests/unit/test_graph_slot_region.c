/* Slot chunks carved from huge-page regions (src/graph/slot_region.c): many
 * chunks across region boundaries read back right, every byte is counted,
 * a failed mapping leaves the graph as it was, regions are aligned and
 * advised, a forked child reads a frozen copy, and the graph gives the
 * regions back when freed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "graph/graph_int.h"
#include "graph_fixture.h"
#include "util/err.h"

#define HUGE_PAGE ((uintptr_t)2 << 20)

/* The id of the node or relationship this test puts in chunk c: not at the
 * chunk's start, so that offsets inside chunks are exercised too. */
static uint64_t id_in_chunk(uint64_t c)
{
	return c * SLOT_CHUNK + c % 5;
}

static uint64_t node_chunk_bytes(void)
{
	return SLOT_CHUNK * sizeof(struct node_slot);
}

static uint64_t bytes_of(const struct graph *g)
{
	struct graph_stats st;

	graph_stats(g, &st);
	return st.bytes;
}

/* Creates nodes in chunks [from, to). */
static void nodes_in_chunks(struct graph *g, uint64_t from, uint64_t to)
{
	for (uint64_t c = from; c < to; c++)
		gfx_ok(graph_node_create(g, id_in_chunk(c), 1 + c));
}

static void test_graph_slot_region_chunks_across_regions_read_back(void **state)
{
	struct graph *g = *state;
	const uint64_t n = SLOT_SMALL_CHUNKS + 2 * SLOT_REGION_CHUNKS + 3;
	uint64_t pos = 0, got, want = 0;
	struct graph_rel_ends e;

	nodes_in_chunks(g, 0, n);
	for (uint64_t c = 0; c < n; c++) {
		gfx_ok(graph_node_add_label(g, id_in_chunk(c), A, 1 + c));
		gfx_ok(graph_rel_create(g, id_in_chunk(n - 1 - c), KNOWS,
					id_in_chunk(c), id_in_chunk(n - 1 - c),
					1 + n + c));
	}
	assert_int_equal(g->nodes.n_small, SLOT_SMALL_CHUNKS);
	assert_int_equal(g->nodes.n_regions, 3);
	assert_int_equal(g->rels.n_regions, 3);
	for (size_t i = 0; i < g->nodes.n_regions; i++)
		assert_int_equal((uintptr_t)g->nodes.regions[i] % HUGE_PAGE, 0);
	for (size_t i = 0; i < g->rels.n_regions; i++)
		assert_int_equal((uintptr_t)g->rels.regions[i] % HUGE_PAGE, 0);

	for (uint64_t c = 0; c < n; c++) {
		uint64_t id = id_in_chunk(c);
		assert_true(graph_node_has_label(g, id, A));
		assert_int_equal(graph_node_version(g, id), 1 + c);
		assert_int_equal(graph_node_degree(g, id, GRAPH_OUT), 1);
		assert_int_equal(graph_node_degree(g, id, GRAPH_IN), 1);
		/* Neighbours in the same chunk were never created. */
		assert_false(graph_node_exists(g, id + 1));
		assert_int_equal(graph_rel_version(g, id + 1), 0);
		graph_rel_ends(g, id, &e);
		assert_int_equal(e.src, id_in_chunk(n - 1 - c));
		assert_int_equal(e.dst, id);
	}
	while ((got = graph_node_scan(g, &pos)) != GRAPH_NO_ID)
		assert_int_equal(got, id_in_chunk(want++));
	assert_int_equal(want, n);
}

/* A table's first chunks cost their size; the first chunk past them maps
 * a region, counted whole, and the next ones in it cost nothing until it
 * is full. */
static void test_graph_slot_region_stats_count_every_byte(void **state)
{
	struct graph *g = *state;
	const uint64_t total = SLOT_SMALL_CHUNKS + 2 * SLOT_REGION_CHUNKS;
	const uint64_t region = slot_region_size(&g->nodes);
	uint64_t before, c = 0;

	assert_int_equal(region % HUGE_PAGE, 0);
	assert_true(region >= SLOT_REGION_CHUNKS * node_chunk_bytes());
	assert_true(region - SLOT_REGION_CHUNKS * node_chunk_bytes() <
		    node_chunk_bytes());
	/* The last chunk first, so that the directory does not grow below. */
	nodes_in_chunks(g, total - 1, total);
	for (; c < SLOT_SMALL_CHUNKS - 1; c++) {
		before = bytes_of(g);
		nodes_in_chunks(g, c, c + 1);
		assert_int_equal(bytes_of(g) - before, node_chunk_bytes());
	}
	for (int r = 0; r < 2; r++) {
		before = bytes_of(g);
		nodes_in_chunks(g, c, c + 1);
		c++;
		/* The list of regions is made with room for four. */
		assert_int_equal(bytes_of(g) - before,
				 region + (r == 0 ? 4 * sizeof(void *) : 0));
		before = bytes_of(g);
		nodes_in_chunks(g, c, c + SLOT_REGION_CHUNKS - 1);
		c += SLOT_REGION_CHUNKS - 1;
		assert_int_equal(bytes_of(g), before);
	}
	assert_int_equal(c, total - 1);
	assert_int_equal(g->nodes.n_regions, 2);
	assert_int_equal(g->nodes.region_used, SLOT_REGION_CHUNKS);
}

/* Runs create with allocation n failing for n = 1, 2, ... until it
 * succeeds, checking that each failure left the graph as it was but for
 * spare capacity; returns how many failed. */
static int fail_each(struct graph *g, int (*create)(struct graph *g),
		     uint64_t id, bool node)
{
	struct graph_stats st0, st;
	uint64_t next0 = node ? graph_next_node_id(g) : graph_next_rel_id(g);
	int failed = 0;

	graph_stats(g, &st0);
	for (uint64_t nth = 1;; nth++) {
		int rv;
		graph_fail_alloc(g, nth);
		rv = create(g);
		graph_fail_alloc(g, 0);
		if (rv == GRAFT_OK)
			break;
		assert_int_equal(rv, GRAFT_ENOMEM);
		failed++;
		graph_stats(g, &st);
		assert_int_equal(st.nodes, st0.nodes);
		assert_int_equal(st.rels, st0.rels);
		if (node) {
			assert_false(graph_node_exists(g, id));
			assert_int_equal(graph_next_node_id(g), next0);
		} else {
			assert_false(graph_rel_exists(g, id));
			assert_int_equal(graph_next_rel_id(g), next0);
		}
	}
	return failed;
}

#define FAR_CHUNK (SLOT_SMALL_CHUNKS + 4 * SLOT_REGION_CHUNKS)

static int create_far_node(struct graph *g)
{
	return graph_node_create(g, id_in_chunk(FAR_CHUNK), 7);
}

static int create_far_rel(struct graph *g)
{
	return graph_rel_create(g, id_in_chunk(FAR_CHUNK), LIKES, 0,
				id_in_chunk(FAR_CHUNK), 8);
}

/* The next chunk needs a fifth region: the list of regions grows (one
 * allocation) and a region is mapped (another); either failing changes
 * nothing visible, and once both succeed the node is there. A failed
 * attempt may leave spare capacity, which the next one uses. */
static void test_graph_slot_region_failed_mapping_leaves_graph_unchanged(void **state)
{
	struct graph *g = *state;
	uint64_t pos = 0, n = 0;

	nodes_in_chunks(g, 0, FAR_CHUNK);
	assert_int_equal(g->nodes.n_regions, 4);
	assert_int_equal(g->nodes.region_used, SLOT_REGION_CHUNKS);
	assert_int_equal(g->nodes.cap_regions, 4);
	assert_int_equal(fail_each(g, create_far_node,
				   id_in_chunk(FAR_CHUNK), true), 2);
	assert_int_equal(g->nodes.n_regions, 5);
	assert_int_equal(graph_node_version(g, id_in_chunk(FAR_CHUNK)), 7);

	/* A relationship in a table with only its small chunks used: its
	 * directory, its list of regions, then the type's bitmap fail, each
	 * attempt keeping what the one before made. */
	for (uint64_t c = 0; c < SLOT_SMALL_CHUNKS; c++)
		gfx_ok(graph_rel_create(g, id_in_chunk(c), KNOWS, 0, 0, 9));
	assert_int_equal(fail_each(g, create_far_rel, id_in_chunk(FAR_CHUNK),
				   false), 3);
	assert_int_equal(g->rels.n_regions, 1);
	assert_int_equal(graph_node_degree(g, 0, GRAPH_OUT),
			 SLOT_SMALL_CHUNKS + 1);
	while (graph_type_scan(g, LIKES, &pos) != GRAPH_NO_ID)
		n++;
	assert_int_equal(n, 1);
}

/* Whether smaps marks the mapping holding p with flag (two letters). */
static bool vma_has_flag(const void *p, const char *flag)
{
	char line[512];
	bool inside = false, found = false;
	FILE *f = fopen("/proc/self/smaps", "r");

	assert_non_null(f);
	while (fgets(line, sizeof line, f) != NULL) {
		unsigned long lo, hi;
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) {
			inside = (uintptr_t)p >= lo && (uintptr_t)p < hi;
			continue;
		}
		if (inside && strncmp(line, "VmFlags:", 8) == 0) {
			char pat[8];
			snprintf(pat, sizeof pat, " %s", flag);
			found = strstr(line + 8, pat) != NULL;
			break;
		}
	}
	fclose(f);
	return found;
}

static void test_graph_slot_region_regions_are_advised_for_huge_pages(void **state)
{
	struct graph *g = *state;

	nodes_in_chunks(g, 0, SLOT_SMALL_CHUNKS + 1);
	assert_int_equal(g->nodes.n_regions, 1);
	assert_int_equal((uintptr_t)g->nodes.regions[0] % HUGE_PAGE, 0);
	/* Kernels without transparent huge pages refuse the advice; the
	 * graph works the same, as the other tests show. */
	if (access("/sys/kernel/mm/transparent_hugepage/enabled", F_OK) != 0)
		skip();
	assert_true(vma_has_flag(g->nodes.regions[0], "hg"));
}

/* The checkpoint's child must see the graph as it was at the fork while the
 * parent goes on changing slots in the same regions. */
static void test_graph_slot_region_forked_child_reads_frozen_copy(void **state)
{
	struct graph *g = *state;
	const uint64_t n = SLOT_SMALL_CHUNKS + SLOT_REGION_CHUNKS / 2;
	int go[2], status;
	pid_t pid;
	char c;

	nodes_in_chunks(g, 0, n);
	assert_int_equal(pipe(go), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		bool frozen = true;
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(2);
		for (uint64_t k = 0; k < n; k++)
			frozen &= graph_node_version(g, id_in_chunk(k)) ==
					  1 + k &&
				  !graph_node_has_label(g, id_in_chunk(k), B);
		frozen &= !graph_node_exists(g, id_in_chunk(n));
		_exit(frozen ? 0 : 1);
	}
	close(go[0]);
	for (uint64_t k = 0; k < n; k++)
		gfx_ok(graph_node_add_label(g, id_in_chunk(k), B, 1000 + k));
	nodes_in_chunks(g, n, n + 1);
	assert_int_equal(write(go[1], "x", 1), 1);
	close(go[1]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(graph_node_version(g, id_in_chunk(0)), 1000);
}

static void test_graph_slot_region_free_unmaps_regions(void **state)
{
	struct graph *g;
	void *region[2];
	unsigned char vec;

	(void)state;
	gfx_ok(graph_new(&g));
	nodes_in_chunks(g, 0, SLOT_SMALL_CHUNKS + 1);
	gfx_ok(graph_token_intern(g, GRAPH_TOKEN_RELTYPE, "T", 1,
				  &(uint32_t){0}));
	for (uint64_t c = 0; c <= SLOT_SMALL_CHUNKS; c++)
		gfx_ok(graph_rel_create(g, id_in_chunk(c), 0, 0, 0, 2));
	region[0] = g->nodes.regions[0];
	region[1] = g->rels.regions[0];
	assert_int_equal(mincore(region[0], 4096, &vec), 0);
	assert_int_equal(mincore(region[1], 4096, &vec), 0);
	graph_free(g);
	assert_int_equal(mincore(region[0], 4096, &vec), -1);
	assert_int_equal(mincore(region[1], 4096, &vec), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, gfx_setup, gfx_teardown)
		T(test_graph_slot_region_chunks_across_regions_read_back),
		T(test_graph_slot_region_stats_count_every_byte),
		T(test_graph_slot_region_failed_mapping_leaves_graph_unchanged),
		T(test_graph_slot_region_regions_are_advised_for_huge_pages),
		T(test_graph_slot_region_forked_child_reads_frozen_copy),
		cmocka_unit_test(test_graph_slot_region_free_unmaps_regions),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
