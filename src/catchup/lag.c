/* The lag figures as rows, for a metrics exporter (catchup.h
 * catchup_lag_rows): flattens what the servers function gives, which is
 * where every member's lag is already measured (the cluster's roster on a
 * core, the replica's on a replica), so that an exporter reads one table
 * instead of knowing either. */
#include <stdio.h>
#include <stdlib.h>

#include "catchup.h"

size_t catchup_lag_rows(cypher_servers_fn servers, void *data,
			struct catchup_lag_row *out, size_t max)
{
	/* a list is about 100 KB: not on a statement thread's stack */
	struct cypher_server *sv = malloc(CYPHER_SERVERS_MAX * sizeof *sv);
	size_t n, rows = 0;

	if (sv == NULL)
		return 0;
	n = servers(data, sv, CYPHER_SERVERS_MAX);
	for (size_t i = 0; i < n && i < CYPHER_SERVERS_MAX; i++)
		for (size_t j = 0; j < sv[i].n_dbs && j < CYPHER_SERVER_DBS;
		     j++, rows++) {
			struct catchup_lag_row *row;

			if (rows >= max)
				continue; /* counted, not filled */
			row = &out[rows];
			snprintf(row->server_id, sizeof row->server_id, "%s",
				 sv[i].server_id);
			snprintf(row->db, sizeof row->db, "%s",
				 sv[i].dbs[j].name);
			row->role = sv[i].role;
			row->self = sv[i].self;
			row->applied = sv[i].dbs[j].applied;
			row->lag_txs = sv[i].dbs[j].lag_txs;
			row->lag_ms = sv[i].dbs[j].lag_ms;
		}
	free(sv);
	return rows;
}
