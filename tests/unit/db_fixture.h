/* Shared fixture of the db test suites: a fresh directory, a loop, one open
 * database, and helpers that run the loop until a commit or close is done. */
#ifndef GRAFT_TESTS_DB_FIXTURE_H
#define GRAFT_TESTS_DB_FIXTURE_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "db/db.h"

struct fixture {
	char dir[256];
	char store[512];
	char txlog[512];
	uv_loop_t loop;
	struct db_options o;
	struct db *db;
	uint32_t label, key_x, type, key_y; /* "L", "x", "R", "y" */
};

/* cmocka setup/teardown: a temp dir and a loop (setup_open also opens the
 * database and interns the tokens). Teardown closes the database if open,
 * checks the loop closes clean and removes the directory. */
int fx_setup(void **state);
int fx_setup_open(void **state);
int fx_teardown(void **state);

void fx_open(struct fixture *f);
void fx_close(struct fixture *f);
void fx_tokens(struct fixture *f);
/* Commits and runs the loop until the callback; returns its status and
 * sets *txid (may be NULL). Asserts the callback did not run inside
 * db_commit. errmsg (may be NULL) gets the request's message. */
/* What a commit callback saw; req->data of fx_commit_cb points at one. */
struct fx_commit_result {
	int done;
	int status;
	uint64_t txid;
	char errmsg[GRAFT_ERRMSG_SIZE];
};
void fx_commit_cb(struct db_commit_req *req, int status);

int fx_commit(struct fixture *f, struct db_tx *tx, uint64_t *txid,
	      char *errmsg);
/* Creates a committed node with label L and x = x; returns its id. */
uint64_t fx_node(struct fixture *f, int64_t x);
/* The checkpoint encoding of db's graph: equal graphs give equal bytes. */
void *fx_graph_bytes(struct fixture *f, const struct db *db, size_t *len);
/* Runs the loop until *flag is set; fails if the loop runs dry first. */
void fx_run_until_set(struct fixture *f, const int *flag);

#endif
