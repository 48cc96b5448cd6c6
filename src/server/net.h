/* The server's TCP listeners and their connections: Bolt (the Bolt
 * connector listens and serves) and HTTP (discovery and health endpoints
 * for load balancers), both on src/net/tcp.h. One loop thread owns every
 * listener and connection. */
#ifndef GRAFT_SERVER_NET_H
#define GRAFT_SERVER_NET_H

#include <stdbool.h>
#include <uv.h>

#include "../bolt/bolt.h"
#include "../catchup/catchup.h"
#include "../cluster/cluster.h"
#include "../db/dbms.h"
#include "../net/tcp.h"
#include "../util/config.h"
#include "pause.h"

enum net_kind { NET_BOLT, NET_ROUTING, NET_HTTP };

struct security;

/* Everything the listeners need to answer; borrowed from the server. */
struct net {
	uv_loop_t *loop;
	struct dbms *dbms;
	char bolt_advertised[300];  /* host:port drivers should use */
	char server_id[40];         /* <data>/dbms/server_id */
	struct tcp_server http;       /* HTTP listener and connections */
	struct bolt_server *bolt_srv; /* listens and serves Bolt */
	/* The server-side routing connector of a core (NULL: none): Bolt
	 * for the transactions other members forward here. */
	struct bolt_server *routing_srv;
	struct security *security;  /* checks HTTP Basic credentials */
	bool cluster_status_auth;   /* dbms.security.cluster_status_auth_enabled */
	struct cluster *cluster;    /* NULL unless dbms.mode=CORE */
	struct catchup_replica *replica; /* NULL unless READ_REPLICA */
	struct catchup_server *catchup;  /* NULL in SINGLE mode */
	const struct pause_monitor *pauses; /* NULL until serving */
	uint64_t handshake_timeout_ms;
	void (*closed_cb)(struct net *net); /* after net_close */
	unsigned closing;
};

/* Binds and listens on addr (Bolt: net->bolt_srv set first, routing:
 * net->routing_srv). Errors name
 * the setting, the address and what to do (GRAFT_EADDRINUSE, GRAFT_EINVAL
 * for unresolvable hosts). setting must outlive net. */
int net_listen(struct net *net, enum net_kind kind, const char *setting,
	       const struct graft_address *addr, char *errmsg);
/* Bolt and the routing connector refuse new connections; the open ones
 * and HTTP (health checks) go on until net_close. */
void net_stop_accepting(struct net *net);
/* Stops listening, closes every connection, then calls closed_cb. */
void net_close(struct net *net, void (*closed_cb)(struct net *net));

#endif
