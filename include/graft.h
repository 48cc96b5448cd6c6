/* graft's public identity: the Neo4j version it answers as (graft's own
 * version is PACKAGE_VERSION, from configure.ac). Drivers enable features by
 * the server agent ("Neo4j/5.26.0") and tools read the same version from the
 * HTTP discovery endpoint, so both come from here. Installed as
 * <prefix>/include/graft.h. */
#ifndef GRAFT_H
#define GRAFT_H

/* The Neo4j release whose protocol and behaviour graft follows. */
#define GRAFT_NEO4J_VERSION "5.26.0"
/* What Bolt's HELLO SUCCESS carries as "server"; must start with "Neo4j/". */
#define GRAFT_SERVER_AGENT "Neo4j/" GRAFT_NEO4J_VERSION

#endif
