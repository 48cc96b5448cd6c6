/* The client side of Bolt for graft-shell: blocking socket, handshake
 * (5.4 down to 5.0, and 4.4), chunked messages, HELLO/LOGON, and the few
 * exchanges a shell needs (auto-commit or in-transaction RUN+PULL, BEGIN,
 * COMMIT, ROLLBACK, RESET). One request at a time, answers read in order. */
#ifndef GRAFT_SHELL_CLIENT_H
#define GRAFT_SHELL_CLIENT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../util/buf.h"
#include "../util/err.h"
#include "../util/value.h"
#include "render.h"

/* Largest message the shell accepts from a server. */
#define CLIENT_MAX_MESSAGE (256u << 20)

struct client_error {
	char code[96];     /* Neo4j status, or "" for a local/transport error */
	char message[1024];
};

struct client {
	int fd;
	unsigned major, minor;      /* negotiated Bolt version */
	char server_agent[128];
	bool credentials_expired;   /* LOGON said so */
	struct graft_buf msg;       /* request being built */
	struct graft_buf wire;      /* chunked requests not yet sent */
	struct graft_buf in;        /* last message received */
	struct graft_buf rx;        /* bytes read, not yet a whole message */
	size_t rx_pos;
	uint8_t tag;                /* of the last message received */
	struct render_in body;      /* its fields */
	/* While client_run waits, a non-zero *interrupt (set by a SIGINT
	 * handler) sends RESET: the server stops the statement and rolls
	 * back any open transaction. NULL: not interruptible. */
	volatile sig_atomic_t *interrupt;
	bool reset_sent;            /* that RESET is on its way */
	bool interrupted;           /* the last client_run was interrupted */
};

/* Per-statement callbacks and results. */
struct client_result {
	/* Column names, owned (client_result_free). */
	char **fields;
	size_t nfields;
	/* Metadata of the PULL's SUCCESS (stats, type, t_last, db …): a MAP
	 * value, or null. */
	struct graft_value summary;
	int64_t t_first; /* ms, -1 unknown */
	/* Called for every RECORD with its field values (a list, read with
	 * render_list_header + render_value). Non-zero stops with that
	 * error code. */
	int (*row)(void *arg, struct render_in *values);
	void *arg;
};

void client_result_free(struct client_result *r);

/* Connects to host:port and negotiates a version. GRAFT_OK or an error
 * with e->message saying what failed and what to check. */
int client_connect(struct client *c, const char *host, const char *port,
		   struct client_error *e);
/* Authenticates ("basic" scheme; user NULL: "none"). On FAILURE, e holds
 * the server's code (Neo.ClientError.Security.Unauthorized …). */
int client_login(struct client *c, const char *user, const char *password,
		 const char *routing_address, struct client_error *e);
/* Runs query with params (MAP value or NULL). db is sent with an
 * auto-commit statement (NULL: the user's home database); in_tx: inside a
 * transaction opened with client_begin. On FAILURE the connection is reset
 * (an open transaction is then gone) and e holds the server's error. */
int client_run(struct client *c, const char *query, size_t len,
	       const struct graft_value *params, const char *db, bool in_tx,
	       struct client_result *r, struct client_error *e);
int client_begin(struct client *c, const char *db, struct client_error *e);
int client_commit(struct client *c, struct client_error *e);
int client_rollback(struct client *c, struct client_error *e);
/* GOODBYE and close. */
void client_close(struct client *c);

#endif
