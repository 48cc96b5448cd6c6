/* Zone offsets of DateTime parameters. PackStream carries a zone id but no
 * offset ('i': UTC seconds, legacy 'f': local seconds, which the decoder
 * leaves as if they were UTC), so the offset is looked up in the time-zone
 * database here, before the engine sees the value. */
#include "session_int.h"

#include <stdio.h>

#include "../cypher/temporal.h"
#include "../util/err.h"

static int resolve_zone(struct graft_ext *x, bool utc, struct cypher_error *e)
{
	int32_t offset;
	int rv = utc ? temporal_zone_at_utc(x->zone->data, x->zone->len,
					    x->secs, &offset)
		     : temporal_zone_at_local(x->zone->data, x->zone->len,
					      x->secs, &offset);

	if (rv != GRAFT_OK) {
		cypher_error_set(e, GRAFT_STATUS_ARGUMENT_ERROR,
			 "Unknown time zone '%.100s' in a DateTime parameter; "
			 "use an IANA zone id such as 'Europe/Berlin'",
			 x->zone->data);
		return rv;
	}
	x->offset = offset;
	if (!utc)
		x->secs -= offset;
	return GRAFT_OK;
}

int bolt_params_resolve_zones(struct graft_value *v, bool utc,
			      struct cypher_error *e)
{
	int rv = GRAFT_OK;

	switch (v->type) {
	case GRAFT_VALUE_DATETIME:
		return v->u.x->zone != NULL ? resolve_zone(v->u.x, utc, e)
					    : GRAFT_OK;
	case GRAFT_VALUE_LIST:
		for (uint32_t i = 0; rv == GRAFT_OK && i < v->u.list->len; i++)
			rv = bolt_params_resolve_zones(&v->u.list->items[i],
						       utc, e);
		return rv;
	case GRAFT_VALUE_MAP:
		for (uint32_t i = 0; rv == GRAFT_OK && i < v->u.map->len; i++)
			rv = bolt_params_resolve_zones(&v->u.map->entries[i].value,
						       utc, e);
		return rv;
	default:
		return GRAFT_OK;
	}
}
