/* A scripted stand-in for the Cypher engine (cypher.h), so the Bolt state
 * machine is tested on exact protocol behaviour, independent of the real
 * engine. The query text is the script:
 *   "RETURN <n>"   one column x, rows 1..n
 *   "CREATE"       no columns, no rows, stats nodes_created = 1, type "w"
 *   "BAD"          cypher_run fails with a SyntaxError
 *   "BREAK <n>"    n rows, then cypher_result_next fails
 *   "NODE"         one row: node 7
 *   "PATH"         one row: the path (1)<-[10]-(2)
 *   "PARAM"        one row: the parameter map's "p" value
 * Commits succeed asynchronously (a zero timer) with the next transaction
 * id of the transaction's database, or fail with Outdated when the
 * transaction's query was "CONFLICT". Memory charged by the caller is
 * refused past cypher_fake_tx_memory_max and must be credited back before
 * the transaction ends. Every allocation is freed, so ASan checks the
 * session's ownership too. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cypher/cypher.h"
#include "cypher_fake.h"

struct cypher_engine {
	struct dbms *dbms;
};

struct cypher_tx {
	struct cypher_engine *e;
	char db[64];
	bool conflict;
	uint64_t charged;
	uv_timer_t timer;
	struct cypher_commit_req *req;
};

struct cypher_result {
	char script[16];
	int64_t rows, next, break_at;
	struct graft_value row;
	struct graft_value param;
	struct cypher_stats stats;
	const char *const *fields;
	size_t nfields;
};

uv_loop_t *cypher_fake_loop;
uint64_t cypher_fake_txid;
uint64_t cypher_fake_rows_made;
uint64_t cypher_fake_tx_memory_max;

int cypher_engine_new(struct dbms *dbms, const struct cypher_engine_options *o,
		      struct cypher_engine **out)
{
	(void)o;
	*out = calloc(1, sizeof **out);
	(*out)->dbms = dbms;
	return GRAFT_OK;
}

void cypher_engine_free(struct cypher_engine *e)
{
	free(e);
}

struct dbms *cypher_engine_dbms(struct cypher_engine *e)
{
	return e->dbms;
}

static void fake_fail(struct cypher_error *err, const char *code,
		      const char *msg)
{
	snprintf(err->code, sizeof err->code, "%s", code);
	snprintf(err->message, sizeof err->message, "%s", msg);
}

int cypher_tx_begin(struct cypher_engine *e, const struct cypher_tx_options *o,
		    struct cypher_tx **out, struct cypher_error *err)
{
	const char *db = o->db != NULL ? o->db : dbms_default_db(e->dbms);

	if (dbms_get(e->dbms, db) == NULL) {
		fake_fail(err, "Neo.ClientError.Database.DatabaseNotFound",
		     "no such database");
		return GRAFT_ENOTFOUND;
	}
	*out = calloc(1, sizeof **out);
	(*out)->e = e;
	snprintf((*out)->db, sizeof (*out)->db, "%s", db);
	return GRAFT_OK;
}

const char *cypher_tx_db(const struct cypher_tx *tx)
{
	return tx->db;
}

/* Without a pool every statement runs within its call: nothing to stop. */
const char *cypher_tx_id(const struct cypher_tx *tx)
{
	(void)tx;
	return "fake-transaction";
}

bool cypher_tx_terminate_id(struct cypher_engine *e, const char *id)
{
	(void)e;
	(void)id;
	return false;
}

static void timer_close_cb(uv_handle_t *h)
{
	struct cypher_tx *tx = h->data;
	struct cypher_commit_req *req = tx->req;
	int status = GRAFT_OK;

	if (tx->conflict) {
		fake_fail(&req->error, "Neo.TransientError.Transaction.Outdated",
		     "conflict");
		status = GRAFT_ECONFLICT;
	} else {
		req->txid = ++cypher_fake_txid;
		snprintf(req->db, sizeof req->db, "%s", tx->db);
	}
	free(tx);
	req->cb(req, status);
}

static void commit_timer_cb(uv_timer_t *t)
{
	uv_close((uv_handle_t *)t, timer_close_cb);
}

int cypher_tx_charge(struct cypher_tx *tx, uint64_t bytes,
		     struct cypher_error *err)
{
	if (cypher_fake_tx_memory_max != 0 &&
	    tx->charged + bytes > cypher_fake_tx_memory_max) {
		fake_fail(err, "Neo.TransientError.General.MemoryPoolOutOfMemoryError",
		     "db.memory.transaction.max threshold reached");
		return GRAFT_ENOMEM;
	}
	tx->charged += bytes;
	return GRAFT_OK;
}

void cypher_tx_credit(struct cypher_tx *tx, uint64_t bytes)
{
	assert_true(bytes <= tx->charged);
	tx->charged -= bytes;
}

int cypher_tx_commit(struct cypher_tx *tx, struct cypher_commit_req *req,
		     cypher_commit_cb cb)
{
	assert_int_equal(tx->charged, 0);
	req->cb = cb;
	tx->req = req;
	uv_timer_init(cypher_fake_loop, &tx->timer);
	tx->timer.data = tx;
	uv_timer_start(&tx->timer, commit_timer_cb, 0, 0);
	return GRAFT_OK;
}

/* The fake builds no record: nothing to do ahead of the commit. */
void cypher_tx_prepare(struct cypher_tx *tx)
{
	(void)tx;
}

bool cypher_tx_large(const struct cypher_tx *tx)
{
	(void)tx;
	return false;
}

void cypher_tx_rollback(struct cypher_tx *tx)
{
	assert_int_equal(tx->charged, 0);
	free(tx);
}

/* Its reads end through cypher_tx_commit, as the script's commits do. */
bool cypher_tx_end_read(struct cypher_tx *tx, uint64_t *txid)
{
	(void)tx;
	(void)txid;
	return false;
}

void cypher_tx_terminate(struct cypher_tx *tx)
{
	(void)tx;
}

static const char *const x_field[] = {"x"};

int cypher_run(struct cypher_tx *tx, const char *query, size_t len,
	       const struct graft_value *params, struct cypher_result **out,
	       struct cypher_error *err)
{
	struct cypher_result *r;
	const struct graft_value *p;

	(void)len;
	if (strncmp(query, "BAD", 3) == 0) {
		fake_fail(err, "Neo.ClientError.Statement.SyntaxError",
		     "Invalid input 'BAD'");
		return GRAFT_EINVAL;
	}
	tx->conflict = strcmp(query, "CONFLICT") == 0;
	r = calloc(1, sizeof *r);
	snprintf(r->script, sizeof r->script, "%.15s", query);
	r->fields = x_field;
	r->nfields = 1;
	r->break_at = -1;
	if (strncmp(query, "RETURN ", 7) == 0) {
		r->rows = atoll(query + 7);
	} else if (strncmp(query, "BREAK ", 6) == 0) {
		r->rows = r->break_at = atoll(query + 6);
		r->rows++;
	} else if (strcmp(query, "CREATE") == 0) {
		r->nfields = 0;
		r->stats.nodes_created = 1;
	} else {
		r->rows = 1;
		p = params != NULL && params->type == GRAFT_VALUE_MAP
			    ? graft_map_get(params->u.map, "p", 1)
			    : NULL;
		if (p != NULL)
			graft_value_copy(&r->param, p);
	}
	*out = r;
	return GRAFT_OK;
}

size_t cypher_result_fields(const struct cypher_result *r,
			    const char *const **names)
{
	*names = r->fields;
	return r->nfields;
}

static void make_path(struct graft_value *v)
{
	graft_value_list(v, 3);
	v->u.list->items[0] = graft_value_int(1);
	v->u.list->items[1] = graft_value_int(10);
	v->u.list->items[2] = graft_value_int(2);
	v->type = GRAFT_VALUE_PATH;
}

int cypher_result_next(struct cypher_result *r, const struct graft_value **row,
		       struct cypher_error *err)
{
	graft_value_free(&r->row);
	if (r->next == r->break_at) {
		fake_fail(err, "Neo.ClientError.Statement.ArithmeticError",
		     "/ by zero");
		return -1;
	}
	if (r->next >= r->rows)
		return 0;
	r->next++;
	cypher_fake_rows_made++;
	if (strcmp(r->script, "NODE") == 0)
		r->row = graft_value_ref(GRAFT_VALUE_NODE, 7);
	else if (strcmp(r->script, "PATH") == 0)
		make_path(&r->row);
	else if (strcmp(r->script, "PARAM") == 0)
		graft_value_copy(&r->row, &r->param);
	else
		r->row = graft_value_int(r->next);
	*row = &r->row;
	return 1;
}

const char *cypher_result_type(const struct cypher_result *r)
{
	return r->stats.nodes_created > 0 ? "w" : "r";
}

void cypher_result_stats(const struct cypher_result *r,
			 struct cypher_stats *out)
{
	*out = r->stats;
}

bool cypher_stats_any(const struct cypher_stats *s)
{
	return s->nodes_created > 0;
}

const struct graft_value *cypher_result_plan(const struct cypher_result *r)
{
	(void)r;
	return NULL;
}

void cypher_result_close(struct cypher_result *r)
{
	graft_value_free(&r->row);
	graft_value_free(&r->param);
	free(r);
}

int cypher_node_view(struct cypher_tx *tx, uint64_t id,
		     struct graft_value *labels, struct graft_value *props)
{
	(void)tx;
	(void)id;
	graft_value_list(labels, 1);
	graft_value_string(&labels->u.list->items[0], "L", 1);
	graft_value_map(props, 1);
	props->u.map->entries[0].key = graft_str_new("p", 1);
	props->u.map->entries[0].value = graft_value_int(1);
	return GRAFT_OK;
}

int cypher_rel_view(struct cypher_tx *tx, uint64_t id, const char **type,
		    uint64_t *src, uint64_t *dst, struct graft_value *props)
{
	(void)tx;
	(void)id;
	*type = "T";
	*src = 2;
	*dst = 1;
	return graft_value_map(props, 0);
}

int cypher_element_id(const struct cypher_tx *tx, uint8_t type, uint64_t id,
		      char *buf, size_t size)
{
	snprintf(buf, size, "%d:%s:%llu", type == GRAFT_VALUE_NODE ? 4 : 5,
		 tx->db, (unsigned long long)id);
	return GRAFT_OK;
}
