/* The engine's public face: transactions over a database, statements with
 * a plan cache, streamed results, commits, and entity views for encoders. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "engine_int.h"
#include "plan_int.h"
#include "regex.h"

/* A transaction charges the shared memory pools in steps of this: the
 * statements of two workers then rarely write the same counter (util/mem.h),
 * and a pool's figure is off by at most two steps per open transaction. */
#define CYPHER_TX_MEM_CHUNK (32 * 1024)

static void slot_drop_spare(struct engine_tx_slot *s);
static void tx_discard(struct cypher_tx *t);

static int64_t clock_ms(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t engine_now_ms(void)
{
	return clock_ms(CLOCK_REALTIME);
}

int64_t engine_coarse_ms(void)
{
	return clock_ms(CLOCK_REALTIME_COARSE);
}

int cypher_engine_new(struct dbms *dbms, const struct cypher_engine_options *o,
		      struct cypher_engine **out)
{
	struct cypher_engine *e = calloc(1, sizeof *e);

	if (e == NULL)
		return GRAFT_ENOMEM;
	e->dbms = dbms;
	for (unsigned i = 0; i < GRAFT_SLOTS; i++)
		pthread_mutex_init(&e->caches[i].mu, NULL);
	for (unsigned i = 0; i < GRAFT_SLOTS; i++)
		pthread_mutex_init(&e->tx_slots[i].mu, NULL);
	pthread_mutex_init(&e->pools_mu, NULL);
	if (o != NULL)
		e->o = *o;
	graft_mem_init(&e->mem_total, e->o.memory_total_max,
		       "dbms.memory.transaction.total.max", NULL);
	if (e->o.max_query_size == 0)
		e->o.max_query_size = 1 << 20;
	if (e->o.plan_cache_size == 0)
		e->o.plan_cache_size = 1000;
	if (e->o.bolt_address[0] == '\0')
		snprintf(e->o.bolt_address, sizeof e->o.bolt_address, "%s",
			 "localhost:7687");
	e->started_ms = (uint64_t)engine_now_ms();
	if (proc_register_builtins(e) != GRAFT_OK ||
	    schema_follow(e) != GRAFT_OK) {
		cypher_engine_free(e);
		return GRAFT_ENOMEM;
	}
	*out = e;
	return GRAFT_OK;
}

static void cache_drop(struct plan_cache_entry *c)
{
	plan_free(c->plan);
	cypher_stmt_free(c->stmt);
	free(c->text);
	memset(c, 0, sizeof *c);
}

void cypher_engine_free(struct cypher_engine *e)
{
	if (e == NULL)
		return;
	for (unsigned i = 0; i < GRAFT_SLOTS; i++) {
		struct plan_cache *pc = &e->caches[i];

		for (size_t j = 0; j < pc->n; j++)
			cache_drop(&pc->entries[j]);
		free(pc->entries);
		pthread_mutex_destroy(&pc->mu);
	}
	free(e->procs);
	for (unsigned i = 0; i < GRAFT_SLOTS; i++) {
		slot_drop_spare(&e->tx_slots[i]);
		if (e->tx_slots[i].idle != NULL)
			tx_discard(e->tx_slots[i].idle);
	}
	while (e->pools != NULL) {
		struct engine_pool *p = e->pools;

		e->pools = p->next;
		free(p);
	}
	schema_free(e);
	for (unsigned i = 0; i < GRAFT_SLOTS; i++)
		pthread_mutex_destroy(&e->tx_slots[i].mu);
	pthread_mutex_destroy(&e->pools_mu);
	free(e);
}

struct dbms *cypher_engine_dbms(struct cypher_engine *e)
{
	return e->dbms;
}

void cypher_engine_set_security(struct cypher_engine *e, struct security *s)
{
	e->security = s;
}

/* Procedures --------------------------------------------------------------- */

const struct cypher_proc *engine_find_proc(struct cypher_engine *e,
					   const char *name)
{
	for (size_t i = 0; i < e->nprocs; i++)
		if (strcasecmp(e->procs[i]->name, name) == 0)
			return e->procs[i];
	return NULL;
}

int cypher_proc_register(struct cypher_engine *e, const struct cypher_proc *p)
{
	if (engine_find_proc(e, p->name) != NULL)
		return GRAFT_EEXIST;
	if (e->nprocs == e->procs_cap) {
		size_t cap = e->procs_cap ? e->procs_cap * 2 : 32;
		const struct cypher_proc **n =
			realloc(e->procs, cap * sizeof *n);

		if (n == NULL)
			return GRAFT_ENOMEM;
		e->procs = n;
		e->procs_cap = cap;
	}
	e->procs[e->nprocs++] = p;
	return GRAFT_OK;
}

/* Transactions ------------------------------------------------------------- */

static int db_not_found(struct cypher_error *err, const char *name)
{
	return cypher_error_set(err, GRAFT_STATUS_DATABASE_NOT_FOUND,
				"Database does not exist. Database name: '%s'. Check the name with SHOW DATABASES",
				name);
}

/* The pool of the memory of database db's transactions; the total pool
 * if there is no memory for a new one. */
static struct graft_mem *find_pool(struct cypher_engine *e, const char *db)
{
	struct engine_pool *p;

	for (p = e->pools; p != NULL; p = p->next)
		if (strcmp(p->db, db) == 0)
			return &p->mem;
	p = calloc(1, sizeof *p);
	if (p == NULL)
		return &e->mem_total;
	snprintf(p->db, sizeof p->db, "%s", db);
	graft_mem_init(&p->mem, e->o.db_memory_total_max,
		       "db.memory.transaction.total.max", &e->mem_total);
	p->next = e->pools;
	e->pools = p;
	return &p->mem;
}

/* src into dst of size bytes, cut to fit, without printf (a begin is on
 * the loop's share of every statement). */
static void copy_name(char *dst, size_t size, const char *src)
{
	size_t len = strnlen(src, size - 1);

	memcpy(dst, src, len);
	dst[len] = '\0';
}

/* A slot's spare grant goes back to its pool (under the slot's lock). */
static void slot_drop_spare(struct engine_tx_slot *s)
{
	if (s->spare != 0)
		graft_mem_credit(s->pool, s->spare);
	s->spare = 0;
}

/* Database name and its memory pool: what this thread's slot remembers
 * while the list of databases has not changed, so that beginning a
 * transaction on the same database again takes no lock other threads
 * take (the list's, the pools'). NULL if there is no such database. */
static struct db *slot_db(struct cypher_engine *e, const char *name,
			  struct graft_mem **pool, struct cypher_tx **idle)
{
	struct engine_tx_slot *s = &e->tx_slots[graft_slot()];
	uint64_t gen = dbms_generation(e->dbms);
	struct db *db = NULL;

	*pool = NULL;
	pthread_mutex_lock(&s->mu);
	if (idle != NULL) {
		*idle = s->idle;
		s->idle = NULL;
	}
	if (s->pool != NULL && strcmp(s->db_name, name) == 0) {
		*pool = s->pool;
		db = s->db_gen == gen ? s->db : NULL;
	}
	pthread_mutex_unlock(&s->mu);
	if (db != NULL)
		return db;
	db = dbms_get(e->dbms, name);
	if (db == NULL)
		return NULL;
	if (*pool == NULL) {
		pthread_mutex_lock(&e->pools_mu);
		*pool = find_pool(e, name);
		pthread_mutex_unlock(&e->pools_mu);
	}
	if (*pool == &e->mem_total || strlen(name) >= sizeof s->db_name)
		return db; /* no pool of its own: not remembered */
	pthread_mutex_lock(&s->mu);
	if (s->pool != *pool)
		slot_drop_spare(s);
	s->pool = *pool;
	copy_name(s->db_name, sizeof s->db_name, name);
	s->db = db;
	s->db_gen = gen; /* read before dbms_get: never newer than db */
	pthread_mutex_unlock(&s->mu);
	return db;
}

/* t's database transaction on db (found by slot_db with its pool), in
 * the block t kept from its last use if any (which this consumes). */
static int open_db_tx_on(struct cypher_tx *t, struct db *db,
			 struct graft_mem *pool, const char *name,
			 struct cypher_error *err)
{
	unsigned flags = DB_TX_CLIENT;
	void *block = t->db_block;
	int rv;

	t->db_block = NULL;
	if (db == NULL) {
		db_tx_block_free(block);
		return db_not_found(err, name);
	}
	if (t->o.mode == CYPHER_TX_READ)
		flags |= DB_TX_READ_ONLY;
	rv = db_tx_begin_reuse(db, flags, block, &t->tx);
	if (rv == GRAFT_ELIMIT)
		return cypher_error_set(err, GRAFT_STATUS_TX_LIMIT_REACHED,
					"Unable to start a new transaction on '%s': %u transactions are open, the maximum (db.transaction.concurrent.maximum); retry when others have finished or raise the setting",
					name, t->e->o.max_transactions);
	if (rv == GRAFT_ESHUTDOWN)
		return cypher_error_set(err, GRAFT_STATUS_DATABASE_UNAVAILABLE,
					"Database '%s' is shutting down; retry on another server",
					name);
	if (rv != GRAFT_OK)
		return cypher_error_set(err, GRAFT_STATUS_OUT_OF_MEMORY,
					"Could not start a transaction: %s",
					graft_strerror(rv));
	t->db = db;
	copy_name(t->dbname, sizeof t->dbname, name);
	graft_mem_reparent(&t->mem, pool);
	return GRAFT_OK;
}

static int open_db_tx(struct cypher_tx *t, const char *name,
		      struct cypher_error *err)
{
	struct graft_mem *pool;
	struct db *db = slot_db(t->e, name, &pool, NULL);

	return open_db_tx_on(t, db, pool, name, err);
}

/* A transaction that never began: its memory goes (not kept). */
static void tx_discard(struct cypher_tx *t)
{
	graft_value_free(&t->metadata);
	db_tx_block_free(t->db_block);
	pthread_mutex_destroy(&t->query_mu);
	free(t);
}

/* Transaction ids a slot takes from the engine's counter at a time: the
 * counter's line moves between cores once per block, not per begin. A
 * server begins Bolt transactions on its loop, one slot, so there the ids
 * still count up one by one. */
#define ENGINE_TX_ID_BLOCK 1024

/* "<db>-transaction-<n>" into t->id (sized for any name and n), without
 * printf: a begin is on the loop's share of every statement. */
static void tx_id_format(struct cypher_tx *t, uint64_t n)
{
	static const char mid[] = "-transaction-";
	_Static_assert(sizeof t->id >= sizeof t->dbname - 1 + sizeof mid - 1 +
					      20 + 1,
		       "an id fits any database name and number");
	char digits[20];
	size_t len = strlen(t->dbname), nd = 0;
	char *p = t->id;

	do
		digits[nd++] = (char)('0' + n % 10);
	while ((n /= 10) != 0);
	memcpy(p, t->dbname, len);
	p += len;
	memcpy(p, mid, sizeof mid - 1);
	p += sizeof mid - 1;
	while (nd > 0)
		*p++ = digits[--nd];
	*p = '\0';
}

int cypher_tx_begin(struct cypher_engine *e, const struct cypher_tx_options *o,
		    struct cypher_tx **out, struct cypher_error *err)
{
	const char *name = o && o->db && o->db[0] ? o->db
						  : dbms_default_db(e->dbms);
	struct graft_mem *pool;
	struct cypher_tx *t;
	/* the slot's idle transaction, taken under the lock this takes */
	struct db *db = slot_db(e, name, &pool, &t);
	struct engine_tx_slot *s;
	void *block = NULL;
	int rv;

	if (t != NULL) {
		block = t->db_block;
	} else {
		t = malloc(sizeof *t);
		if (t == NULL)
			return cypher_error_set(err, GRAFT_STATUS_OUT_OF_MEMORY,
						"Out of memory starting a transaction");
		pthread_mutex_init(&t->query_mu, NULL);
	}
	/* zeroed but for its lock, kept initialized (engine_int.h) */
	memset(t, 0, offsetof(struct cypher_tx, query_mu));
	t->db_block = block;
	t->e = e;
	graft_mem_init(&t->mem, e->o.tx_memory_max, "db.memory.transaction.max",
		       NULL);
	graft_mem_set_chunk(&t->mem, CYPHER_TX_MEM_CHUNK);
	if (o != NULL)
		t->o = *o;
	t->o.db = NULL;
	t->o.metadata = NULL;
	if (o && o->metadata &&
	    graft_value_copy(&t->metadata, o->metadata) != GRAFT_OK) {
		tx_discard(t);
		return cypher_error_set(err, GRAFT_STATUS_OUT_OF_MEMORY,
					"Out of memory starting a transaction");
	}
	copy_name(t->user, sizeof t->user, o && o->user ? o->user : "");
	t->o.user = t->user;
	rv = open_db_tx_on(t, db, pool, name, err);
	if (rv != GRAFT_OK) {
		tx_discard(t);
		return rv;
	}
	t->started_ms = (uint64_t)engine_coarse_ms();
	t->constraints_gen = __atomic_load_n(&e->constraints_gen,
					     __ATOMIC_ACQUIRE);
	uint64_t timeout = t->o.timeout_ms ? t->o.timeout_ms : e->o.tx_timeout_ms;
	t->deadline_ns = timeout ? uv_hrtime() + timeout * 1000000ull : 0;
	t->slot = graft_slot();
	s = &e->tx_slots[t->slot];
	pthread_mutex_lock(&s->mu);
	if (s->spare != 0 && t->mem.parent == s->pool &&
	    graft_mem_adopt(&t->mem, s->spare))
		s->spare = 0;
	if (s->next_id == s->end_id) {
		s->next_id = __atomic_fetch_add(&e->next_tx_id,
						ENGINE_TX_ID_BLOCK,
						__ATOMIC_RELAXED) + 1;
		s->end_id = s->next_id + ENGINE_TX_ID_BLOCK;
	}
	tx_id_format(t, s->next_id++);
	t->next = s->txs;
	if (s->txs)
		s->txs->prev = t;
	s->txs = t;
	pthread_mutex_unlock(&s->mu);
	*out = t;
	return GRAFT_OK;
}

const char *cypher_tx_db(const struct cypher_tx *tx)
{
	return tx->dbname;
}

bool cypher_tx_failed(const struct cypher_tx *tx)
{
	return tx->failed;
}

void cypher_tx_terminate(struct cypher_tx *tx)
{
	__atomic_store_n(&tx->terminated, true, __ATOMIC_RELAXED);
}

const char *cypher_tx_id(const struct cypher_tx *tx)
{
	return tx->id;
}

bool cypher_tx_terminate_id(struct cypher_engine *e, const char *id)
{
	bool found = false;

	for (unsigned i = 0; i < GRAFT_SLOTS; i++) {
		struct engine_tx_slot *s = &e->tx_slots[i];

		pthread_mutex_lock(&s->mu);
		for (struct cypher_tx *t = s->txs; t != NULL; t = t->next)
			if (strcmp(t->id, id) == 0) {
				cypher_tx_terminate(t);
				found = true;
			}
		pthread_mutex_unlock(&s->mu);
	}
	return found;
}

bool engine_tx_terminated(const struct cypher_tx *tx)
{
	return __atomic_load_n(&tx->terminated, __ATOMIC_RELAXED);
}

int cypher_tx_charge(struct cypher_tx *tx, uint64_t bytes,
		     struct cypher_error *err)
{
	if (graft_mem_charge(&tx->mem, bytes))
		return GRAFT_OK;
	exec_mem_refused(&tx->mem, err);
	graft_mem_clear_refusal(&tx->mem);
	return GRAFT_ENOMEM;
}

void cypher_tx_credit(struct cypher_tx *tx, uint64_t bytes)
{
	graft_mem_credit(&tx->mem, bytes);
}

static void actions_free(struct admin_action *a)
{
	while (a != NULL) {
		struct admin_action *n = a->next;

		admin_action_free(a);
		a = n;
	}
}

/* The transaction's constraints are in the rules now, or failed. */
static void constraints_end(struct cypher_tx *t)
{
	if (!t->creates_constraint)
		return;
	t->creates_constraint = false;
	__atomic_add_fetch(&t->e->constraints_gen, 1, __ATOMIC_RELEASE);
	__atomic_sub_fetch(&t->e->constraints_pending, 1, __ATOMIC_RELEASE);
}

static void tx_free(struct cypher_tx *t)
{
	struct engine_tx_slot *s = &t->e->tx_slots[t->slot];
	bool kept = false;

	constraints_end(t);
	pthread_mutex_lock(&s->mu);
	if (t->prev)
		t->prev->next = t->next;
	else
		s->txs = t->next;
	if (t->next)
		t->next->prev = t->prev;
	/* its first chunk stays charged for the slot's next transaction */
	if (s->spare == 0 && s->pool != NULL && t->mem.parent == s->pool)
		s->spare = graft_mem_release_keep(&t->mem, CYPHER_TX_MEM_CHUNK);
	/* and the transaction itself for its next begin, emptied here (out
	 * of the list, nobody else sees it) before another thread of the
	 * slot can take it */
	if (s->idle == NULL && t->actions == NULL && t->unique_nodes == NULL) {
		graft_value_free(&t->metadata);
		graft_mem_release(&t->mem);
		s->idle = t;
		kept = true;
	}
	pthread_mutex_unlock(&s->mu);
	if (kept)
		return;
	actions_free(t->actions);
	free(t->unique_nodes);
	graft_mem_release(&t->mem);
	tx_discard(t);
}

void cypher_tx_rollback(struct cypher_tx *tx)
{
	struct graft_mem *outer = graft_mem_enter(&tx->mem);

	if (tx->open)
		cypher_result_close(tx->open);
	if (tx->tx)
		tx->db_block = db_tx_rollback_keep(tx->tx);
	tx->tx = NULL;
	graft_mem_leave(outer);
	tx_free(tx);
}

bool cypher_tx_end_read(struct cypher_tx *tx, uint64_t *txid)
{
	if (tx->open != NULL || tx->failed || engine_tx_terminated(tx) ||
	    tx->actions != NULL || tx->n_unique > 0 || tx->creates_constraint ||
	    tx->tx == NULL || !db_tx_read_only(tx->tx))
		return false;
	*txid = db_tx_snapshot(tx->tx);
	cypher_tx_rollback(tx);
	return true;
}

void cypher_tx_prepare(struct cypher_tx *tx)
{
	if (tx->tx != NULL && tx->open == NULL && tx->n_unique == 0 &&
	    !tx->failed)
		db_tx_prepare(tx->tx);
}

bool cypher_tx_large(const struct cypher_tx *tx)
{
	return tx->tx != NULL && db_tx_changes(tx->tx) >= 4096;
}

/* Commit: deferred administration first, then the database's commit. */

static void commit_done(struct cypher_commit_req *req, int status)
{
	struct cypher_tx *t = req->tx;

	if (req->db[0] == '\0') /* else the bookmark names another one */
		snprintf(req->db, sizeof req->db, "%s", t->dbname);
	tx_free(t);
	req->cb(req, status);
}

static void actions_done(struct cypher_commit_req *req, int status)
{
	commit_done(req, status);
}

/* Users, schema names and databases change what statements read: the
 * change holds the gate. */
static void actions_run(struct graft_gate_task *t)
{
	admin_actions_run(t->data, actions_done);
}

/* The error a failed commit reports (status not GRAFT_OK): the same
 * whether db_commit returned it or called back with it (a commit that
 * waited for an apply off the loop). */
static void commit_error(struct cypher_commit_req *req, int status,
			 const char *errmsg)
{
	if (status == GRAFT_ECONFLICT) {
		cypher_error_set(&req->error, GRAFT_STATUS_TX_OUTDATED,
				 "The transaction conflicts with a concurrent one that changed what it read; retry it. %s",
				 errmsg);
	} else if (status == GRAFT_ESHUTDOWN) {
		cypher_error_set(&req->error, GRAFT_STATUS_DATABASE_UNAVAILABLE,
				 "The database is shutting down; retry on another server");
	} else if (status == GRAFT_EUNKNOWN) {
		/* Not a transient code: a driver must not retry a write that
		 * may have been applied. */
		cypher_error_set(&req->error, GRAFT_STATUS_DATABASE_COMMIT_FAILED,
				 "The outcome of the commit is unknown: %s. It may or may not have been applied; check before retrying it",
				 errmsg);
	} else if (status == GRAFT_ENOTLEADER) {
		cypher_error_set(&req->error, GRAFT_STATUS_CLUSTER_NOT_A_LEADER,
				 "No write operations are allowed on this server: %s",
				 errmsg);
	} else if (status == GRAFT_ELIMIT) {
		cypher_error_set(&req->error,
				 GRAFT_STATUS_MEMORY_POOL_OUT_OF_MEMORY,
				 "The transaction has been terminated: %s", errmsg);
	} else {
		cypher_error_set(&req->error, GRAFT_STATUS_TX_COMMIT_FAILED,
				 "Could not commit: %s. Nothing of the transaction was applied; fix the cause and retry",
				 errmsg);
	}
}

static void db_committed(struct db_commit_req *c, int status)
{
	struct cypher_commit_req *req = c->data;

	req->tx->tx = NULL;
	if (status == GRAFT_OK) {
		req->txid = c->txid;
		if (req->tx->actions != NULL) {
			req->actions.data = req;
			req->actions.fn = actions_run;
			graft_gate_run(req->tx->e->o.gate, &req->actions);
			return;
		}
	} else {
		commit_error(req, status, c->errmsg);
	}
	commit_done(req, status);
}

/* A statement's schema changes and their names in the system database,
 * committed as one replicated entry (schema_joins_commit): both apply on
 * every member or neither, and the statement's bookmark covers both. */
struct grouped_commit {
	struct cypher_commit_req *req;
	struct db_commit_req sys;
	bool wrote; /* the statement's own transaction */
	unsigned pending;
	int status;
	char errmsg[GRAFT_ERRMSG_SIZE];
};

/* Holding the gate: statements read the rules. */
static void grouped_finish(struct graft_gate_task *t)
{
	struct grouped_commit *g = t->data;
	struct cypher_commit_req *req = g->req;
	int status = g->status;

	if (status == GRAFT_OK)
		schema_reload(req->tx->e);
	else
		commit_error(req, status, g->errmsg);
	/* A statement that wrote nothing of its own (a constraint over an
	 * index that exists) changed only the system database: its
	 * database's bookmark would not name the change, so a member that
	 * lacks it could serve the next read with the bookmark. The system
	 * database's does, and the entries of one Raft group apply in order
	 * on every member, so it covers what the statement read as well. */
	if (status == GRAFT_OK && !g->wrote) {
		snprintf(req->db, sizeof req->db, "system");
		req->txid = g->sys.txid;
	}
	free(g);
	commit_done(req, status);
}

static void grouped_done(struct db_commit_req *c, int status)
{
	struct grouped_commit *g = c->data;
	struct cypher_commit_req *req = g->req;

	if (c == &req->commit && status == GRAFT_OK)
		req->txid = c->txid;
	/* the statement's own failure says most */
	if (status != GRAFT_OK &&
	    (g->status == GRAFT_OK || c == &req->commit)) {
		g->status = status;
		snprintf(g->errmsg, sizeof g->errmsg, "%s", c->errmsg);
	}
	if (--g->pending > 0)
		return;
	req->actions.data = g;
	req->actions.fn = grouped_finish;
	graft_gate_run(req->tx->e->o.gate, &req->actions);
}

static void grouped_run(struct graft_gate_task *t)
{
	struct cypher_commit_req *req = t->data;
	struct cypher_tx *tx = req->tx;
	struct grouped_commit *g = calloc(1, sizeof *g);
	struct db_tx *txs[2] = {tx->tx, NULL};
	struct db_commit_req *reqs[2];
	int rv = g != NULL ? schema_rules_tx(tx, &txs[1]) : GRAFT_ENOMEM;

	tx->tx = NULL;
	if (rv != GRAFT_OK) {
		db_tx_rollback(txs[0]);
		free(g);
		commit_error(req, rv, "the names of the schema changes could "
			     "not be written to the system database");
		commit_done(req, rv);
		return;
	}
	g->req = req;
	g->wrote = db_tx_has_writes(txs[0]);
	g->pending = 2;
	req->commit.data = g;
	g->sys.data = g;
	reqs[0] = &req->commit;
	reqs[1] = &g->sys;
	db_commit_group(txs, reqs, 2, grouped_done);
}

static int start_db_commit(struct cypher_commit_req *req)
{
	struct cypher_tx *t = req->tx;
	int rv;

	if (schema_joins_commit(t)) {
		req->actions.data = req;
		req->actions.fn = grouped_run;
		graft_gate_run(t->e->o.gate, &req->actions);
		return GRAFT_OK;
	}
	req->commit.data = req;
	rv = db_commit(t->tx, &req->commit, db_committed);
	if (rv != GRAFT_OK) {
		t->tx = NULL;
		commit_error(req, rv, req->commit.errmsg);
	}
	return rv;
}

/* A uniqueness constraint is checked against the data when it is created
 * (its scan validated at its commit) and against each write once its rule
 * is loaded; a transaction that wrote before that and commits after the
 * constraint's commit began was checked by neither: it fails, retriably
 * (coarse: whatever it wrote; constraints are created rarely). A
 * transaction that creates one makes the others fail until its rule is
 * loaded (constraints_end). Loop thread. */
static int constraints_begin(struct cypher_tx *tx, struct cypher_error *err)
{
	struct cypher_engine *e = tx->e;

	for (const struct admin_action *a = tx->actions; a; a = a->next)
		tx->creates_constraint |= a->op == ADM_CREATE_CONSTRAINT;
	if (tx->creates_constraint) {
		__atomic_add_fetch(&e->constraints_pending, 1, __ATOMIC_RELEASE);
		__atomic_add_fetch(&e->constraints_gen, 1, __ATOMIC_RELEASE);
		return GRAFT_OK;
	}
	if (tx->tx == NULL || !db_tx_has_writes(tx->tx) ||
	    (__atomic_load_n(&e->constraints_pending, __ATOMIC_ACQUIRE) == 0 &&
	     __atomic_load_n(&e->constraints_gen, __ATOMIC_ACQUIRE) ==
		     tx->constraints_gen))
		return GRAFT_OK;
	return cypher_error_set(err, GRAFT_STATUS_TX_OUTDATED,
				"A uniqueness constraint was created while the transaction wrote, and its writes were not checked against it; retry the transaction");
}

int cypher_tx_commit(struct cypher_tx *tx, struct cypher_commit_req *req,
		     cypher_commit_cb cb)
{
	int rv;

	req->tx = tx;
	req->cb = cb;
	req->db[0] = '\0';
	req->error.code[0] = 0;
	if (tx->open)
		cypher_result_close(tx->open);
	if (tx->failed || engine_tx_terminated(tx)) {
		bool terminated = engine_tx_terminated(tx);

		cypher_error_set(&req->error,
				 terminated ? GRAFT_STATUS_TX_TERMINATED
					    : GRAFT_STATUS_TX_MARKED_AS_FAILED,
				 "The transaction %s and cannot be committed; roll it back and retry",
				 terminated ? "was terminated" : "has failed");
		cypher_tx_rollback(tx);
		return GRAFT_EINVAL;
	}
	if (tx->n_unique > 0 && schema_recheck(tx, &req->error) != GRAFT_OK) {
		cypher_tx_rollback(tx);
		return GRAFT_ECONSTRAINT;
	}
	if (constraints_begin(tx, &req->error) != GRAFT_OK) {
		cypher_tx_rollback(tx);
		return GRAFT_ECONFLICT;
	}
	rv = start_db_commit(req);
	if (rv != GRAFT_OK)
		tx_free(tx);
	return rv;
}

/* Statements ---------------------------------------------------------------- */

static struct plan_cache_entry *cache_find(struct plan_cache *pc,
					   const char *q, size_t n, uint64_t h)
{
	for (size_t i = 0; i < pc->n; i++) {
		struct plan_cache_entry *c = &pc->entries[i];

		if (c->hash == h && c->len == n && !c->busy &&
		    memcmp(c->text, q, n) == 0)
			return c;
	}
	return NULL;
}

static struct plan_cache_entry *cache_slot(struct cypher_engine *e,
					   struct plan_cache *pc)
{
	struct plan_cache_entry *lru = NULL;

	if (pc->entries == NULL &&
	    (pc->entries = calloc(e->o.plan_cache_size,
				  sizeof *pc->entries)) == NULL)
		return NULL;
	if (pc->n < e->o.plan_cache_size)
		return &pc->entries[pc->n++];
	for (size_t i = 0; i < pc->n; i++)
		if (!pc->entries[i].busy &&
		    (lru == NULL || pc->entries[i].last_used < lru->last_used))
			lru = &pc->entries[i];
	if (lru != NULL)
		cache_drop(lru);
	return lru;
}

/* Trims leading and trailing white space: the cache's normal form. */
static void normalise(const char **q, size_t *n)
{
	while (*n > 0 && strchr(" \t\r\n", (*q)[0])) {
		(*q)++;
		(*n)--;
	}
	while (*n > 0 && strchr(" \t\r\n;", (*q)[*n - 1]))
		(*n)--;
}

static void cache_add(struct cypher_engine *e, struct plan_cache *pc,
		      const char *q, size_t n, uint64_t h,
		      struct cypher_result *r);

static int prepare(struct cypher_tx *t, const char *q, size_t n,
		   struct cypher_result *r, struct cypher_error *err)
{
	struct cypher_engine *e = t->e;
	struct plan_cache *pc = &e->caches[graft_slot()];
	uint64_t h;
	struct plan_cache_entry *c;
	int rv;

	normalise(&q, &n);
	h = graft_hash_bytes(GRAFT_HASH_BYTES_SEED, q, n);
	pthread_mutex_lock(&pc->mu);
	c = cache_find(pc, q, n, h);
	if (c != NULL) {
		c->busy = true;
		c->last_used = ++pc->clock;
		r->cached = c;
		r->cache = pc;
		r->stmt = c->stmt;
		r->plan = c->plan;
	}
	pthread_mutex_unlock(&pc->mu);
	if (c != NULL)
		return GRAFT_OK;
	rv = cypher_parse(q, n, &r->stmt, err);
	if (rv != GRAFT_OK)
		return rv;
	rv = plan_build(e, r->stmt, &r->plan, err);
	if (rv != GRAFT_OK) {
		if (rv == GRAFT_ENOMEM)
			cypher_error_set(err, GRAFT_STATUS_OUT_OF_MEMORY,
					 "Out of memory while planning the query");
		cypher_stmt_free(r->stmt);
		r->stmt = NULL;
		return rv;
	}
	if (r->plan->admin)
		return GRAFT_OK;
	pthread_mutex_lock(&pc->mu);
	cache_add(e, pc, q, n, h, r);
	pthread_mutex_unlock(&pc->mu);
	return GRAFT_OK;
}

/* Keeps r's statement and plan in pc (busy until r closes); under pc->mu.
 * Uncached is fine when there is no room. */
static void cache_add(struct cypher_engine *e, struct plan_cache *pc,
		      const char *q, size_t n, uint64_t h,
		      struct cypher_result *r)
{
	struct plan_cache_entry *c = cache_slot(e, pc);

	if (c == NULL || (c->text = malloc(n + 1)) == NULL)
		return;
	memcpy(c->text, q, n);
	c->text[n] = 0;
	c->len = n;
	c->hash = h;
	c->stmt = r->stmt;
	c->plan = r->plan;
	c->busy = true;
	c->last_used = ++pc->clock;
	r->cached = c;
	r->cache = pc;
}

static void release_plan(struct cypher_result *r)
{
	struct plan_cache *pc = r->cache;

	/* the cache it came from, whichever thread closes it */
	if (r->cached != NULL) {
		pthread_mutex_lock(&pc->mu);
		/* a plan left mid-stream holds buffers: drop it */
		if (!r->done)
			cache_drop(r->cached);
		else
			r->cached->busy = false;
		pthread_mutex_unlock(&pc->mu);
	} else {
		plan_free(r->plan);
		cypher_stmt_free(r->stmt);
	}
	r->plan = NULL;
	r->stmt = NULL;
	r->cached = NULL;
	r->cache = NULL;
}

static int fail_tx(struct cypher_tx *t, int rv)
{
	t->failed = true;
	return rv ? rv : GRAFT_EINVAL;
}

/* Whether the database ended the transaction's snapshot (db_tx_check):
 * then nothing more may be read, and err says why. Checked holding the
 * gate, before reading: the database ends snapshots only while no
 * statement holds it. Neo4j's code for a memory bound named in the
 * message, transient: drivers retry it with a new snapshot (they turn
 * Transaction.Terminated into a client error, never retried). */
static bool snapshot_gone(struct cypher_tx *t, struct cypher_error *err)
{
	char msg[GRAFT_ERRMSG_SIZE];

	if (t->tx == NULL || db_tx_check(t->tx, msg) == GRAFT_OK)
		return false;
	cypher_error_set(err, GRAFT_STATUS_MEMORY_POOL_OUT_OF_MEMORY,
			 "The transaction has been terminated: %s", msg);
	return true;
}

/* USE db in the first statement of a transaction moves it there. */
static int switch_db(struct cypher_tx *t, const char *name,
		     struct cypher_error *err)
{
	struct db_tx *old = t->tx;

	if (strcmp(name, t->dbname) == 0)
		return GRAFT_OK;
	if (t->used || db_tx_has_writes(old))
		return cypher_error_set(err, GRAFT_STATUS_SEMANTIC_ERROR,
					"USE %s: this transaction already runs against '%s'; one transaction uses one database",
					name, t->dbname);
	if (open_db_tx(t, name, err) != GRAFT_OK) {
		t->tx = old;
		return GRAFT_EINVAL;
	}
	db_tx_rollback(old);
	return GRAFT_OK;
}

/* A function's question (cypher_fctx.interrupted) answered for the
 * statement it runs in: stop when terminated or timed out, else let what
 * waits for the gate run (exec_yield), as between two rows. A write
 * statement building range(1, 50000000) held the gate exclusive for its
 * 2.9 s, and every read waited. Safe for the same reasons as between rows:
 * the function holds no pointer into the graph (func.h), the expressions
 * around it hold their own copies of values, and the snapshot keeps what
 * the statement reads. */
static int function_interrupted(struct cypher_fctx *fc)
{
	struct exec_ctx *x =
		(struct exec_ctx *)((char *)fc - offsetof(struct exec_ctx, fc));

	return exec_interrupted(x) < 0 || exec_yield(x) < 0 ? -1 : 0;
}

/* Points the statement's context at what the result owns: its copy of the
 * parameters and its error, never at the caller's (a Bolt RUN's fields and
 * the caller's error live only as long as the call). */
static int ctx_init(struct cypher_result *r, const struct graft_value *params)
{
	struct cypher_tx *t = r->tx;
	struct exec_ctx *x = &r->x;

	if (params != NULL && graft_value_copy(&r->params, params) != GRAFT_OK)
		return cypher_error_set(&r->err, GRAFT_STATUS_OUT_OF_MEMORY,
					"Out of memory copying the parameters");
	x->ctx = t;
	x->engine = t->e;
	x->db = t->db;
	x->tx = t->tx;
	x->params = params != NULL ? &r->params : NULL;
	x->err = &r->err;
	x->stats = &r->stats;
	x->stmt = r->stmt;
	x->plan = r->plan;
	x->nslots = r->plan->nslots;
	x->deadline_ns = t->deadline_ns;
	x->mem = &t->mem;
	x->terminated = &t->terminated;
	x->gate = t->o.no_wait ? NULL : t->e->o.gate; /* no yields */
	x->fc.db = t->db;
	x->fc.tx = t->tx;
	x->fc.ctx = t;
	x->fc.err = &r->err;
	x->fc.statement_ms = engine_now_ms();
	x->fc.interrupted = function_interrupted;
	return GRAFT_OK;
}

static int start(struct cypher_result *r)
{
	struct exec_plan *p = r->plan;
	struct cypher_error *err = &r->err;

	r->x.row = calloc(p->nslots + 1, sizeof *r->x.row);
	r->out = calloc(p->ncolumns + 1, sizeof *r->out);
	if (r->x.row == NULL || r->out == NULL)
		return cypher_error_set(err, GRAFT_STATUS_OUT_OF_MEMORY,
					"Out of memory starting the query");
	if (p->explain && !p->profile) {
		r->explain_only = true;
		r->done = true;
		return plan_describe(p, false, &r->planv) == GRAFT_OK
			       ? GRAFT_OK
			       : cypher_error_set(err, GRAFT_STATUS_OUT_OF_MEMORY,
						  "Out of memory describing the plan");
	}
	if (p->root->vt->open(p->root, &r->x) < 0)
		return GRAFT_EINVAL;
	/* the first row now: write statements finish here, as a whole; a
	 * statement without RETURN runs to its end and has no rows */
	do
		r->peek_rv = p->root->vt->next(p->root, &r->x);
	while (r->peek_rv > 0 && p->ncolumns == 0);
	if (r->peek_rv >= 0 && p->writes &&
	    exec_finish_deletes(&r->x) < 0)
		r->peek_rv = -1;
	if (r->peek_rv < 0)
		return GRAFT_EINVAL;
	r->peeked = true;
	return GRAFT_OK;
}

static int too_big(struct cypher_tx *t, size_t len, struct cypher_error *err)
{
	return cypher_error_set(err, GRAFT_STATUS_REQUEST_INVALID,
				"The query text is %zu bytes; the limit is %zu. Pass large values as parameters",
				len, t->e->o.max_query_size);
}

/* A failure after the memory tracker refused an allocation is that
 * refusal, whatever the out-of-memory path that met it said. */
static int mem_failure(struct cypher_tx *t, int rv, struct cypher_error *err)
{
	exec_mem_refused(&t->mem, err);
	return rv;
}

/* Whether starting r's statement changes what others read: writes (ids
 * and tokens are handed out as it runs), schema and administration (but
 * TERMINATE TRANSACTIONS, which only flags others), USE (begins and ends
 * transactions). */
static bool needs_exclusive(const struct cypher_result *r)
{
	const struct exec_plan *p = r->plan;
	const struct ast *root = r->stmt->root;

	if (p->writes || p->use_db != NULL)
		return true;
	return p->schema &&
	       !(root->kind == AST_ADMIN && root->op == ADM_TERMINATE_TX);
}

/* From the shared gate cypher_run entered to the exclusive one. */
static void gate_upgrade(struct cypher_engine *e)
{
	if (e->o.gate == NULL)
		return;
	graft_gate_leave(e->o.gate);
	graft_gate_enter_exclusive(e->o.gate);
}

/* A no_wait transaction's statement that needs the gate exclusive. */
static int would_wait(struct cypher_error *err)
{
	snprintf(err->message, sizeof err->message, "the statement needs the "
		 "gate exclusive, which its caller cannot wait for");
	return GRAFT_EAGAIN;
}

static int run(struct cypher_tx *tx, const char *query, size_t len,
	       const struct graft_value *params, struct cypher_result **out,
	       struct cypher_error *err)
{
	struct cypher_result *r;
	char shown[sizeof tx->current_query];
	int rv;

	err->code[0] = 0;
	if (tx->open != NULL)
		cypher_result_close(tx->open);
	if (tx->failed)
		return cypher_error_set(err, GRAFT_STATUS_TX_MARKED_AS_FAILED,
					"A statement in this transaction failed; roll it back and start a new one");
	if (snapshot_gone(tx, err))
		return fail_tx(tx, GRAFT_ELIMIT);
	if (len > tx->e->o.max_query_size)
		return fail_tx(tx, too_big(tx, len, err));
	r = calloc(1, sizeof *r);
	if (r == NULL)
		return fail_tx(tx, cypher_error_set(err, GRAFT_STATUS_OUT_OF_MEMORY,
						    "Out of memory starting the query"));
	r->tx = tx;
	/* its own lock, which no other statement's worker writes */
	redact_query(query, len, shown, sizeof shown);
	pthread_mutex_lock(&tx->query_mu);
	memcpy(tx->current_query, shown, sizeof shown);
	pthread_mutex_unlock(&tx->query_mu);
	rv = prepare(tx, query, len, r, err);
	if (rv == GRAFT_OK && needs_exclusive(r) && tx->o.no_wait)
		rv = would_wait(err);
	else if (rv == GRAFT_OK && needs_exclusive(r))
		gate_upgrade(tx->e);
	if (rv == GRAFT_OK && r->plan->use_db)
		rv = switch_db(tx, r->plan->use_db, err);
	if (rv == GRAFT_OK)
		rv = system_db_check(tx->e, tx->dbname, r->stmt->root,
				     tx->current_query, err);
	if (rv == GRAFT_OK) {
		rv = ctx_init(r, params);
		if (rv == GRAFT_OK)
			rv = start(r);
		if (rv != GRAFT_OK)
			*err = r->err;
	}
	tx->used = true;
	tx->open = r;
	if (rv != GRAFT_OK) {
		cypher_result_close(r);
		return fail_tx(tx, mem_failure(tx, rv, err));
	}
	*out = r;
	return GRAFT_OK;
}

int cypher_run(struct cypher_tx *tx, const char *query, size_t len,
	       const struct graft_value *params, struct cypher_result **out,
	       struct cypher_error *err)
{
	struct graft_gate *gate = tx->e->o.gate;
	struct graft_mem *outer;
	int rv;

	if (gate != NULL)
		graft_gate_enter_shared(gate);
	outer = graft_mem_enter(&tx->mem);
	rv = run(tx, query, len, params, out, err);
	graft_mem_leave(outer);
	if (gate != NULL)
		graft_gate_leave(gate);
	return rv;
}

size_t cypher_result_fields(const struct cypher_result *r,
			    const char *const **names)
{
	*names = r->plan->columns;
	return r->plan->ncolumns;
}

static void finish(struct cypher_result *r)
{
	r->done = true;
	if (r->plan->profile)
		plan_describe(r->plan, true, &r->planv);
}

static int result_next(struct cypher_result *r, const struct graft_value **row,
		       struct cypher_error *err)
{
	struct exec_plan *p = r->plan;
	int rv;

	if (r->done)
		return 0;
	if (r->peeked) {
		r->peeked = false;
		rv = r->peek_rv;
	} else if (snapshot_gone(r->tx, &r->err)) {
		rv = -1;
	} else {
		rv = p->root->vt->next(p->root, &r->x);
	}
	if (rv < 0) {
		*err = r->err;
		mem_failure(r->tx, rv, err);
		r->tx->failed = true;
		r->done = true;
		return -1;
	}
	if (rv == 0) {
		finish(r);
		return 0;
	}
	for (uint32_t i = 0; i < p->ncolumns; i++)
		r->out[i] = r->x.row[p->column_slots[i]];
	*row = r->out;
	return 1;
}

int cypher_result_next(struct cypher_result *r, const struct graft_value **row,
		       struct cypher_error *err)
{
	struct graft_mem *outer = graft_mem_enter(&r->tx->mem);
	int rv = result_next(r, row, err);

	graft_mem_leave(outer);
	return rv;
}

const char *cypher_result_type(const struct cypher_result *r)
{
	const struct exec_plan *p = r->plan;

	if (p->schema || p->admin)
		return p->admin && !p->schema ? "r" : "s";
	if (p->writes)
		return p->ncolumns ? "rw" : "w";
	return "r";
}

void cypher_result_stats(const struct cypher_result *r,
			 struct cypher_stats *out)
{
	*out = r->stats;
}

bool cypher_stats_any(const struct cypher_stats *s)
{
	static const struct cypher_stats zero;

	return memcmp(s, &zero, sizeof zero) != 0;
}

const struct graft_value *cypher_result_plan(const struct cypher_result *r)
{
	return r->planv.type == GRAFT_VALUE_MAP ? &r->planv : NULL;
}

void cypher_result_close(struct cypher_result *r)
{
	struct graft_mem *outer;

	if (r == NULL)
		return;
	outer = graft_mem_enter(&r->tx->mem);
	if (r->tx->open == r)
		r->tx->open = NULL;
	for (uint32_t i = 0; r->x.row && i < r->x.nslots; i++)
		graft_value_free(&r->x.row[i]);
	free(r->x.row);
	free(r->out);
	free(r->x.pending_deletes);
	graft_value_free(&r->params);
	cypher_regex_cache_free(r->x.regex);
	graft_value_free(&r->planv);
	release_plan(r);
	free(r);
	graft_mem_leave(outer);
}

/* Entity views ------------------------------------------------------------ */

static int props_map(struct db *db, const struct graph_prop *props, size_t n,
		     struct graft_value *out)
{
	const struct graph *g = db_graph(db);
	int rv = graft_value_map(out, (uint32_t)n);

	for (size_t i = 0; rv == GRAFT_OK && i < n; i++) {
		const char *k = graph_token_name(g, GRAPH_TOKEN_PROPKEY,
						 props[i].key);

		out->u.map->entries[i].key = graft_str_new(k, strlen(k));
		if (out->u.map->entries[i].key == NULL)
			rv = GRAFT_ENOMEM;
		else
			rv = graft_value_copy(&out->u.map->entries[i].value,
					      &props[i].value);
	}
	if (rv != GRAFT_OK)
		graft_value_free(out);
	else
		graft_map_sort(out->u.map);
	return rv;
}

int cypher_node_view(struct cypher_tx *tx, uint64_t id,
		     struct graft_value *labels, struct graft_value *props)
{
	const struct graph *g = db_graph(tx->db);
	const uint32_t *ls = NULL;
	const struct graph_prop *ps = NULL;
	size_t nl = 0, np = 0;
	int rv;

	if (db_tx_node_exists(tx->tx, id)) {
		nl = db_tx_node_labels(tx->tx, id, &ls);
		np = db_tx_node_props(tx->tx, id, &ps);
	}
	rv = graft_value_list(labels, (uint32_t)nl);
	for (size_t i = 0; rv == GRAFT_OK && i < nl; i++) {
		const char *name = graph_token_name(g, GRAPH_TOKEN_LABEL, ls[i]);

		rv = graft_value_string(&labels->u.list->items[i], name,
					strlen(name));
	}
	if (rv == GRAFT_OK)
		rv = props_map(tx->db, ps, np, props);
	if (rv != GRAFT_OK)
		graft_value_free(labels);
	return rv;
}

int cypher_rel_view(struct cypher_tx *tx, uint64_t id, const char **type,
		    uint64_t *src, uint64_t *dst, struct graft_value *props)
{
	struct graph_rel_ends ends = {0};
	const struct graph_prop *ps = NULL;
	size_t np = 0;

	if (db_tx_rel_ends(tx->tx, id, &ends)) {
		np = db_tx_rel_props(tx->tx, id, &ps);
		*type = graph_token_name(db_graph(tx->db), GRAPH_TOKEN_RELTYPE,
					 ends.type);
	} else {
		*type = "";
	}
	*src = ends.src;
	*dst = ends.dst;
	return props_map(tx->db, ps, np, props);
}

int cypher_element_id(const struct cypher_tx *tx, uint8_t type, uint64_t id,
		      char *buf, size_t size)
{
	int n = snprintf(buf, size, "%d:%s:%llu",
			 type == GRAFT_VALUE_REL ? 5 : 4, tx->dbname,
			 (unsigned long long)id);

	return n < 0 || (size_t)n >= size ? GRAFT_ETOOBIG : GRAFT_OK;
}
