/* Whose a stream is (ident_int.h). */
#include "ident_int.h"

#include <string.h>

#include "../util/err.h"

int catchup_cluster_id_read(const char *data_dir,
			    char out[IDENTITY_LEN + 1], char *errmsg)
{
	int rv = graft_identity_read(data_dir, "cluster_id", out, errmsg);

	if (rv == GRAFT_ENOTFOUND) {
		out[0] = '\0';
		return GRAFT_OK;
	}
	return rv;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int catchup_wire_id(const char *cluster, uint64_t db_id, const char *name,
		    struct txlog_wire_id *out)
{
	size_t k = 0;

	memset(out, 0, sizeof *out);
	out->db = db_id;
	out->name = txlog_wire_db_id(name);
	if (strlen(cluster) != IDENTITY_LEN)
		return GRAFT_EINVAL;
	for (size_t i = 0; i < IDENTITY_LEN; i++) {
		int hi, lo;

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (cluster[i] != '-')
				return GRAFT_EINVAL;
			continue;
		}
		hi = hex_value(cluster[i++]);
		lo = hex_value(cluster[i]);
		if (hi < 0 || lo < 0 || k == sizeof out->cluster)
			return GRAFT_EINVAL;
		out->cluster[k++] = (uint8_t)(hi << 4 | lo);
	}
	return k == sizeof out->cluster ? GRAFT_OK : GRAFT_EINVAL;
}

bool catchup_wire_id_equal(const struct txlog_wire_id *a,
			   const struct txlog_wire_id *b)
{
	return memcmp(a->cluster, b->cluster, sizeof a->cluster) == 0 &&
	       a->db == b->db && a->name == b->name;
}
