/* cypher_value_render: render.c's renderer seeing entities through the
 * transaction's views (cypher_node_view, cypher_rel_view). Part of the
 * engine, so that the function library below it calls nothing of it. */
#include "func_int.h"

static int node_cb(void *data, uint64_t id, struct graft_value *labels,
		   struct graft_value *props)
{
	return cypher_node_view(data, id, labels, props);
}

static int rel_cb(void *data, uint64_t id, const char **type, uint64_t *src,
		  uint64_t *dst, struct graft_value *props)
{
	return cypher_rel_view(data, id, type, src, dst, props);
}

size_t cypher_value_render(struct cypher_tx *tx, const struct graft_value *v,
			   char *buf, size_t size)
{
	struct cypher_render_entities e = {.data = tx, .node = node_cb,
					   .rel = rel_cb};

	return cypher_render_with(tx ? &e : NULL, v, buf, size);
}
