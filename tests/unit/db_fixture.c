#define _XOPEN_SOURCE 700
#include "db_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "checkpoint/checkpoint.h"
#include "util/log.h"

#include "tmpdir.h"

int fx_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	assert_non_null(f);
	assert_non_null(tmpdir_make(f->dir, sizeof f->dir, "db"));
	snprintf(f->store, sizeof f->store, "%s/databases/neo4j", f->dir);
	snprintf(f->txlog, sizeof f->txlog, "%s/transactions/neo4j", f->dir);
	assert_int_equal(uv_loop_init(&f->loop), 0);
	f->o.name = "neo4j";
	f->o.store_dir = f->store;
	f->o.txlog_dir = f->txlog;
	f->o.rotation_size = 1 << 20;
	f->o.retention.kind = GRAFT_RETAIN_ALL;
	graft_log_open(NULL, GRAFT_LOG_WARN, true, NULL);
	*state = f;
	return 0;
}

int fx_setup_open(void **state)
{
	fx_setup(state);
	fx_open(*state);
	fx_tokens(*state);
	return 0;
}

int fx_teardown(void **state)
{
	struct fixture *f = *state;

	if (f->db != NULL)
		fx_close(f);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	tmpdir_remove(f->dir);
	free(f);
	return 0;
}

void fx_open(struct fixture *f)
{
	char errmsg[GRAFT_ERRMSG_SIZE] = "";
	int rv = db_open(&f->loop, &f->o, &f->db, errmsg);

	if (rv != GRAFT_OK)
		fail_msg("db_open: %s: %s", graft_strerror(rv), errmsg);
}

void fx_run_until_set(struct fixture *f, const int *flag)
{
	/* A loop with nothing left to do would never set it. */
	while (!*flag)
		if (uv_run(&f->loop, UV_RUN_ONCE) == 0 && !*flag)
			fail_msg("the loop ran dry before the callback");
}

static void set_flag_cb(void *arg)
{
	*(int *)arg = 1;
}

void fx_close(struct fixture *f)
{
	int done = 0;

	db_close(f->db, set_flag_cb, &done);
	fx_run_until_set(f, &done);
	f->db = NULL;
}

void fx_tokens(struct fixture *f)
{
	/* In the order the tests first use them, so that a graph rebuilt
	 * from records numbers them alike. */
	assert_int_equal(db_token(f->db, GRAPH_TOKEN_LABEL, "L", 1, &f->label),
			 GRAFT_OK);
	assert_int_equal(db_token(f->db, GRAPH_TOKEN_PROPKEY, "x", 1, &f->key_x),
			 GRAFT_OK);
	assert_int_equal(db_token(f->db, GRAPH_TOKEN_RELTYPE, "R", 1, &f->type),
			 GRAFT_OK);
	assert_int_equal(db_token(f->db, GRAPH_TOKEN_PROPKEY, "y", 1, &f->key_y),
			 GRAFT_OK);
}

void fx_commit_cb(struct db_commit_req *req, int status)
{
	struct fx_commit_result *r = req->data;

	r->done = 1;
	r->status = status;
	r->txid = req->txid;
	memcpy(r->errmsg, req->errmsg, sizeof r->errmsg);
}

int fx_commit(struct fixture *f, struct db_tx *tx, uint64_t *txid,
	      char *errmsg)
{
	struct db_commit_req req;
	struct fx_commit_result r = {0};
	int rv;

	req.data = &r;
	rv = db_commit(tx, &req, fx_commit_cb);
	if (rv != GRAFT_OK)
		return rv;
	assert_false(r.done);
	fx_run_until_set(f, &r.done);
	if (txid != NULL)
		*txid = r.txid;
	if (errmsg != NULL)
		memcpy(errmsg, r.errmsg, GRAFT_ERRMSG_SIZE);
	return r.status;
}

uint64_t fx_node(struct fixture *f, int64_t x)
{
	struct graft_value v = graft_value_int(x);
	struct db_tx *tx;
	uint64_t id;

	assert_int_equal(db_tx_begin(f->db, 0, &tx), GRAFT_OK);
	assert_int_equal(db_tx_node_create(tx, &id), GRAFT_OK);
	assert_int_equal(db_tx_node_add_label(tx, id, f->label), GRAFT_OK);
	assert_int_equal(db_tx_node_set_prop(tx, id, f->key_x, &v), GRAFT_OK);
	assert_int_equal(fx_commit(f, tx, NULL, NULL), GRAFT_OK);
	return id;
}

void *fx_graph_bytes(struct fixture *f, const struct db *db, size_t *len)
{
	char path[600], errmsg[GRAFT_ERRMSG_SIZE] = "";
	FILE *fp;
	void *p;
	long n;
	int fd;

	snprintf(path, sizeof path, "%s/bytes-XXXXXX", f->dir);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	if (checkpoint_write_fd(db_graph(db), db_last_txid(db), 0, fd, errmsg) !=
	    GRAFT_OK)
		fail_msg("checkpoint_write_fd: %s", errmsg);
	close(fd);
	fp = fopen(path, "rb");
	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	p = malloc((size_t)n + 1);
	assert_non_null(p);
	assert_int_equal(fread(p, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	unlink(path);
	*len = (size_t)n;
	return p;
}
