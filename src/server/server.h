/* graftd's lifecycle: configuration -> data directory lock -> logs -> the
 * databases (recovered) -> users -> Cypher engine -> listeners (Bolt,
 * HTTP) -> pid file; and back down on SIGTERM
 * or SIGINT, leaving nothing half-done. The only place that wires layers. */
#ifndef GRAFT_SERVER_SERVER_H
#define GRAFT_SERVER_SERVER_H

#include <stdbool.h>
#include <uv.h>

#include "../bolt/bolt.h"
#include "../cypher/cypher.h"
#include "../security/security.h"
#include "../backup/serve.h"
#include "../catchup/catchup.h"
#include "../cluster/cluster.h"
#include "../db/dbms.h"
#include "../util/config.h"
#include "../util/err.h"
#include "../util/identity.h"
#include "../util/gate.h"
#include "../util/pool.h"
#include "net.h"
#include "pause.h"

struct server {
	uv_loop_t loop;
	struct graft_config *cfg; /* borrowed */
	struct dbms *dbms;
	struct security *security;
	struct cypher_engine *engine;
	struct bolt_server bolt;
	struct bolt_server routing; /* a core's server-side routing connector */
	struct net net;
	struct pause_monitor pauses; /* started once serving */
	struct backup_server *backup; /* NULL when server.backup.enabled=false */
	struct cluster *cluster;      /* NULL unless dbms.mode=CORE */
	struct security_req seed;     /* a core leader creating neo4j */
	bool seeding;
	bool stopping_run; /* closing after server_run, not a failed start */
	struct catchup_replica *replica; /* NULL unless READ_REPLICA */
	struct catchup_server *catchup;  /* NULL in a SINGLE server */
	/* Statements execute on the pool's threads holding the gate; the
	 * databases apply commits holding it (util/gate.h). */
	struct graft_gate gate;
	struct graft_pool pool;
	bool threads_started;
	uv_signal_t sigterm, sigint;
	char lock_path[4096];
	char pid_path[4096];
	int lock_fd;
	bool daemon;   /* detach stderr once ready (graft start) */
	bool stopping;
	int exit_code;
};

/* Starts everything; on failure everything acquired is released and errmsg
 * says what failed and what to do. */
int server_start(struct server *s, struct graft_config *cfg, bool daemon,
		 char *errmsg);
/* Runs the loop until a clean stop; returns the process exit code. */
int server_run(struct server *s);

#endif
