/* The Cypher engine: parses, plans and runs statements inside transactions
 * over the databases of one dbms, streaming rows lazily. Bolt, the shell and
 * the tests reach the data only through this unit.
 *
 * Threads: the loop thread, or a worker thread holding the options' gate:
 * cypher_run takes it itself (see cypher_engine_options.gate);
 * cypher_result_next, the result's accessors and the entity views want it
 * held shared (a result's rows are read between the loop's applies, never
 * during one); everything else (transactions begin, commit, roll back,
 * results close) runs on the loop. cypher_tx_terminate may be called from
 * any thread. One thread at a time per transaction. */
#ifndef GRAFT_CYPHER_CYPHER_H
#define GRAFT_CYPHER_CYPHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../db/dbms.h"
#include "../util/cypher_error.h"
#include "../util/value.h"

/* Query statistics, as Neo4j reports them in a result summary. */
struct cypher_stats {
	uint64_t nodes_created;
	uint64_t nodes_deleted;
	uint64_t relationships_created;
	uint64_t relationships_deleted;
	uint64_t properties_set;
	uint64_t labels_added;
	uint64_t labels_removed;
	uint64_t indexes_added;
	uint64_t indexes_removed;
	uint64_t constraints_added;
	uint64_t constraints_removed;
	uint64_t system_updates;
};

/* Neo4j's name of each counter ("nodes-created", ...), in Bolt's order,
 * and its value: i < CYPHER_STATS_COUNT. (Inline: encoders and test
 * doubles use them without the engine.) */
#define CYPHER_STATS_COUNT 12
static inline const char *cypher_stats_name(size_t i)
{
	static const char *const names[CYPHER_STATS_COUNT] = {
		"nodes-created",     "nodes-deleted",
		"relationships-created", "relationships-deleted",
		"properties-set",    "labels-added",
		"labels-removed",    "indexes-added",
		"indexes-removed",   "constraints-added",
		"constraints-removed", "system-updates",
	};
	return names[i];
}

/* The fields of struct cypher_stats are all uint64_t, in that order. */
_Static_assert(sizeof(struct cypher_stats) ==
		       CYPHER_STATS_COUNT * sizeof(uint64_t),
	       "cypher_stats holds exactly the named counters");
static inline uint64_t cypher_stats_get(const struct cypher_stats *s, size_t i)
{
	return ((const uint64_t *)(const void *)s)[i];
}

/* The engine: procedure registry and plan cache for one dbms. */
struct cypher_engine;

struct cypher_engine_options {
	size_t max_query_size;        /* bytes of query text; 0: 1 MiB */
	size_t plan_cache_size;       /* entries; 0: 1000 */
	uint64_t tx_timeout_ms;       /* db.transaction.timeout; 0: none */
	uint64_t tx_memory_max;       /* db.memory.transaction.max; 0: none */
	/* db.memory.transaction.total.max: all transactions of one
	 * database; dbms.memory.transaction.total.max: all of them. 0: none */
	uint64_t db_memory_total_max;
	uint64_t memory_total_max;
	/* db.transaction.concurrent.maximum: open transactions of clients
	 * per database; 0: none */
	uint32_t max_transactions;
	/* host:port SHOW DATABASES reports as each database's address
	 * (server.bolt.advertised_address); "": localhost:7687 */
	char bolt_address[300];
	/* The dbms's gate (db_options.gate), borrowed; NULL when everything
	 * runs on the loop thread. With one, cypher_run may be called from a
	 * worker thread holding nothing: it holds the gate shared to plan,
	 * then shared to start a statement that only reads, exclusive to
	 * start one that writes, defines schema or users, or moves with USE. */
	struct graft_gate *gate;
};

int cypher_engine_new(struct dbms *dbms, const struct cypher_engine_options *o,
		      struct cypher_engine **out);
/* Users and passwords for CREATE USER, SHOW USERS ... (security.h); NULL
 * makes those statements fail with a clear error. */
struct security;
void cypher_engine_set_security(struct cypher_engine *e, struct security *s);

/* The servers of a cluster as SHOW SERVERS and SHOW DATABASES list them,
 * from whoever knows the live topology (the cluster layer, above this
 * one). Without a source both list this server alone. */
#define CYPHER_SERVER_DBS 8
#define CYPHER_SERVERS_MAX 48 /* servers a list holds at most */
struct cypher_server_db {
	char name[64];
	uint64_t applied;  /* its last applied transaction */
	uint64_t at_ms;    /* when it was known to have (the lister's clock) */
	int64_t lag_txs;   /* behind the newest this member knows; -1: unknown */
	int64_t lag_ms;    /* how long it has been behind; -1: unknown */
	bool writer;       /* it takes this database's writes */
};
struct cypher_server {
	char server_id[40];
	char bolt[300], http[300]; /* advertised host:port */
	char tags[256];            /* "a,b" */
	const char *role; /* "LEADER", "FOLLOWER", "CANDIDATE", "READ_REPLICA",
			   * "UNAVAILABLE" (static strings) */
	bool replica;     /* a read replica (a secondary), else a core */
	bool available;   /* heard from lately */
	bool self;        /* the server answering */
	size_t n_dbs;
	struct cypher_server_db dbs[CYPHER_SERVER_DBS];
};
/* Fills up to max servers into out and returns how many; any thread. */
typedef size_t (*cypher_servers_fn)(void *data, struct cypher_server *out,
				    size_t max);
void cypher_engine_set_servers(struct cypher_engine *e, cypher_servers_fn fn,
			       void *data);
void cypher_engine_free(struct cypher_engine *e);
struct dbms *cypher_engine_dbms(struct cypher_engine *e);

/* Transactions ---------------------------------------------------------- */

enum cypher_tx_mode {
	CYPHER_TX_WRITE = 0,
	CYPHER_TX_READ = 1, /* writes fail with Neo.ClientError.Statement.AccessMode */
};

/* Read only during cypher_tx_begin: every pointer is copied there, so they
 * may point into the request that asked for the transaction. */
struct cypher_tx_options {
	const char *db;          /* NULL: the default database; copied */
	enum cypher_tx_mode mode;
	uint64_t timeout_ms;     /* 0: the engine's default */
	const char *user;        /* for SHOW TRANSACTIONS; may be NULL; copied */
	const struct graft_value *metadata; /* tx_metadata map or NULL; copied */
	/* The caller (the event loop) holds the gate shared and must never
	 * wait for it: a statement that needs it exclusive fails at its start
	 * with GRAFT_EAGAIN (nothing done; run it elsewhere), and none yields
	 * or pauses the gate. */
	bool no_wait;
};

struct cypher_tx;

/* Opens a transaction. Unknown database:
 * Neo.ClientError.Database.DatabaseNotFound. */
int cypher_tx_begin(struct cypher_engine *e, const struct cypher_tx_options *o,
		    struct cypher_tx **out, struct cypher_error *err);
/* Name of the database the transaction runs against (changes with USE in
 * the first statement of an auto-commit transaction). */
const char *cypher_tx_db(const struct cypher_tx *tx);
/* True once a statement failed: the transaction can only be rolled back. */
bool cypher_tx_failed(const struct cypher_tx *tx);
/* Terminates the transaction from elsewhere (another session, a RESET, a
 * server stopping): the running statement, which polls the flag every 1024
 * rows, and every later call fail with
 * Neo.ClientError.Transaction.Terminated. Any thread. */
void cypher_tx_terminate(struct cypher_tx *tx);
/* Memory the caller holds for the transaction outside the engine (a
 * result read ahead and kept for later PULLs) counts against its limits:
 * GRAFT_OK, or GRAFT_ENOMEM with err set to
 * Neo.TransientError.General.MemoryPoolOutOfMemoryError naming the limit.
 * What was charged is credited back before the transaction ends. */
int cypher_tx_charge(struct cypher_tx *tx, uint64_t bytes,
		     struct cypher_error *err);
void cypher_tx_credit(struct cypher_tx *tx, uint64_t bytes);

/* The transaction's id as SHOW TRANSACTIONS lists it. */
const char *cypher_tx_id(const struct cypher_tx *tx);
/* Terminates the open transaction with that id, if there is one: safe
 * from any thread while another may be ending it. True if found. */
bool cypher_tx_terminate_id(struct cypher_engine *e, const char *id);

struct cypher_commit_req;
typedef void (*cypher_commit_cb)(struct cypher_commit_req *req, int status);
struct cypher_commit_req {
	void *data;
	uint64_t txid;            /* on success: bookmark transaction id */
	char db[64];              /* on success: database name */
	struct cypher_error error; /* on failure */
	/* private */
	struct db_commit_req commit;
	cypher_commit_cb cb;
	struct cypher_tx *tx;
	struct graft_gate_task actions; /* run holding the gate */
};
/* Commits and frees tx (also on failure). cb runs later on the loop thread
 * with GRAFT_OK or an error described in req->error (a conflict gives the
 * retriable Neo.TransientError.Transaction.Outdated). Returns an error, and
 * never calls cb, if the commit could not start; tx is freed either way. */
int cypher_tx_commit(struct cypher_tx *tx, struct cypher_commit_req *req,
		     cypher_commit_cb cb);
/* Builds and encodes the commit's record ahead of cypher_tx_commit (db.h
 * db_tx_prepare), so that the loop only validates and applies it: on a
 * worker thread holding the gate shared (or on the loop), once the
 * transaction's last statement has run and its results are closed; tx
 * then serves only cypher_tx_commit or cypher_tx_rollback. Does nothing
 * for a transaction whose commit rechecks uniqueness (that reads through
 * it) or that has a result open. */
void cypher_tx_prepare(struct cypher_tx *tx);
/* Whether tx wrote enough that cypher_tx_prepare on a worker pays for the
 * hand-over (thousands of entities). */
bool cypher_tx_large(const struct cypher_tx *tx);
/* Discards and frees tx. Any open result of it must be closed first. */
void cypher_tx_rollback(struct cypher_tx *tx);
/* Ends tx as its commit would if it only read (nothing written or to
 * validate, no admin actions, no uniqueness recheck, not failed or
 * terminated, no result open): rolls it back and gives the transaction id
 * its reads saw, for the bookmark (true). Otherwise does nothing (false):
 * it needs cypher_tx_commit, on the loop. Unlike cypher_tx_commit, any
 * thread: a worker that began an auto-commit read ends it without the
 * loop. */
bool cypher_tx_end_read(struct cypher_tx *tx, uint64_t *txid);

/* Statements ------------------------------------------------------------- */

struct cypher_result;

/* Parses (or finds in the plan cache), plans and starts one statement.
 * params is a MAP value or NULL. On error the transaction is marked failed
 * (except for errors found before anything ran, such as syntax errors, which
 * also fail it, as in Neo4j). At most one result per transaction is open.
 * query and params are copied: the caller may free them as soon as this
 * returns, before the rows are pulled; err is filled on failure and not
 * kept. */
int cypher_run(struct cypher_tx *tx, const char *query, size_t len,
	       const struct graft_value *params, struct cypher_result **out,
	       struct cypher_error *err);

/* Column names of the result. */
size_t cypher_result_fields(const struct cypher_result *r,
			    const char *const **names);
/* Produces the next row: 1 with *row pointing at fields-many values (valid
 * until the next call), 0 at the end, -1 on error (err, the caller's for
 * this call only, filled; the transaction is failed). */
int cypher_result_next(struct cypher_result *r, const struct graft_value **row,
		       struct cypher_error *err);
/* "r", "w", "rw" or "s" (schema). */
const char *cypher_result_type(const struct cypher_result *r);
void cypher_result_stats(const struct cypher_result *r,
			 struct cypher_stats *out);
/* True if the statement wrote anything (stats not all zero). */
bool cypher_stats_any(const struct cypher_stats *s);
/* For EXPLAIN and PROFILE: the plan as a MAP value in the shape Bolt's
 * "plan"/"profile" metadata has; NULL otherwise. Valid until close. */
const struct graft_value *cypher_result_plan(const struct cypher_result *r);
/* Frees the result; rows not pulled are discarded (the statement's writes
 * are done in full at cypher_run or during pulling, never half). */
void cypher_result_close(struct cypher_result *r);

/* Procedures ------------------------------------------------------------
 * A registry other layers add to (the cluster layer registers
 * dbms.cluster.* and dbms.routing.*). A procedure produces all its rows at
 * once through cypher_proc_emit. */

struct cypher_proc_field {
	const char *name;
	const char *type;  /* "STRING", "INTEGER", "LIST<STRING>", "MAP", "ANY"... */
};

struct cypher_proc_call {
	struct cypher_tx *tx;
	void *data;                       /* the registration's data */
	const struct graft_value *args;   /* nargs, after defaults */
	uint32_t nargs;
	struct cypher_error *err;         /* fill and return GRAFT_EINVAL */
	/* private */
	struct graft_value *rows;
	size_t nrows, cap;
	uint32_t width;
};

struct cypher_proc {
	const char *name;        /* "db.labels" */
	const char *mode;        /* "READ", "WRITE", "SCHEMA" or "DBMS" */
	const char *description;
	const struct cypher_proc_field *inputs;
	uint32_t ninputs;
	const struct cypher_proc_field *outputs;
	uint32_t noutputs;
	int (*fn)(struct cypher_proc_call *call);
	void *data;
	bool system_only;        /* admin procedures: only on `system` */
};

/* Registers p (not copied: must outlive the engine). GRAFT_EEXIST if the
 * name is taken. */
int cypher_proc_register(struct cypher_engine *e, const struct cypher_proc *p);
/* Appends one row of width outputs; takes ownership of the values (also on
 * failure). */
int cypher_proc_emit(struct cypher_proc_call *c, struct graft_value *values);

/* Entities, for encoders of NODE / REL / PATH values ---------------------- */

/* Labels (LIST of STRING) and properties (MAP) of node id as the transaction
 * sees it; both empty for a node deleted in this transaction. */
int cypher_node_view(struct cypher_tx *tx, uint64_t id,
		     struct graft_value *labels, struct graft_value *props);
/* Type name, ends and properties (MAP) of relationship id. */
int cypher_rel_view(struct cypher_tx *tx, uint64_t id, const char **type,
		    uint64_t *src, uint64_t *dst, struct graft_value *props);
/* Neo4j 5 element id: "<db index>:<uuid of db>:<id>" shape; we use
 * "4:<db>:<id>" for nodes and "5:<db>:<id>" for relationships. */
int cypher_element_id(const struct cypher_tx *tx, uint8_t type, uint64_t id,
		      char *buf, size_t size);

/* Renders a value in Cypher literal syntax as the tests and the shell show
 * it: 1, 1.5, 'a', [1, 2], {a: 1}, (:L {p: 1}), [:T {p: 1}],
 * <(:A)-[:T]->(:B)>, date('2020-01-01') … Into buf (NUL-terminated,
 * truncated to size); returns the length it needed. */
size_t cypher_value_render(struct cypher_tx *tx, const struct graft_value *v,
			   char *buf, size_t size);

#endif
