/* Maps the configuration (neo4j.conf keys) onto dbms options, so graftd and
 * every tool that opens a data directory read the same settings the same way. */
#ifndef GRAFT_DB_DBMS_CONFIG_H
#define GRAFT_DB_DBMS_CONFIG_H

#include "../util/config.h"
#include "dbms.h"

/* Fills o from cfg; the strings it points to belong to cfg. */
void dbms_options_from_config(const struct graft_config *cfg,
			      struct dbms_options *o);

#endif
