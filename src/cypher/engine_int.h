/* The engine's private state shared by engine.c, proc.c, exec_command.c and
 * the planner: procedure registry, plan cache, open transactions. */
#ifndef GRAFT_CYPHER_ENGINE_INT_H
#define GRAFT_CYPHER_ENGINE_INT_H

#include <pthread.h>

#include "exec.h"
#include "../util/slot.h"
#include "../security/security.h"
#include "redact.h"

struct plan_cache_entry {
	char *text;
	size_t len;
	uint64_t hash;
	struct cypher_stmt *stmt;
	struct exec_plan *plan;
	uint64_t last_used;
	bool busy;  /* in use by a running result */
};

/* One slot's plan cache (util/slot.h): the statements its threads ran
 * last, each plan used by one result at a time (busy). A thread uses its
 * slot's, so its lock, busy flags and clock stay in that thread's cache
 * lines; threads sharing a slot share it correctly, only slower. */
struct plan_cache {
	pthread_mutex_t mu;
	struct plan_cache_entry *entries; /* o.plan_cache_size, at first use */
	size_t n;
	uint64_t clock;
	/* the fields above alone in their lines (slot.h) */
	char pad[GRAFT_CACHE_LINE];
};

/* The open transactions begun on one slot's threads (util/slot.h), for
 * SHOW TRANSACTIONS and TERMINATE, and what a begin there would otherwise
 * take from what every thread writes; under mu. A transaction stays in the
 * slot it began in. */
struct engine_tx_slot {
	pthread_mutex_t mu;
	struct cypher_tx *txs;
	/* The database last begun on here, as dbms_get gave it while the list
	 * was at generation db_gen (dbms_generation), and its memory pool
	 * (pools are never freed); pool NULL: none yet. */
	char db_name[64];
	struct db *db;
	uint64_t db_gen;
	struct graft_mem *pool;
	/* Charged to pool and held by no transaction: the grant the last one
	 * left (graft_mem_release_keep), the next one's first chunk. */
	uint64_t spare;
	/* Transaction ids this slot took from the engine's counter, a block
	 * at a time: [next_id, end_id). */
	uint64_t next_id, end_id;
	/* The last transaction ended here, kept for the next begin (with its
	 * database transaction's block, db_tx_rollback_keep): a short read
	 * then allocates nothing. NULL: none. */
	struct cypher_tx *idle;
	char pad[GRAFT_CACHE_LINE]; /* the fields above alone in their lines */
};

/* An administrative action deferred to commit (user changes run through
 * the security unit, which is asynchronous). */
struct admin_action {
	struct admin_action *next;
	uint16_t op;
	uint32_t flags;
	char *name;
	char *password;            /* counted: may hold NUL bytes */
	char *old_password;
	size_t password_len, old_password_len;
	int change_required;
	int suspended;
	/* schema rules */
	char *db;
	char *label;
	char *key;
};

/* A named index or uniqueness constraint, kept in the system database (the
 * database itself stores only the index) so names survive restarts. */
struct schema_rule {
	char *db;
	char *name;
	char *label;
	char *key;
	bool constraint;
	uint64_t node;   /* its node in the system database */
};

/* The memory all transactions of one database hold. */
struct engine_pool {
	struct engine_pool *next;
	char db[64];
	struct graft_mem mem;
};

/* Threads: statements run on worker threads holding the gate (o.gate) and
 * the loop begins, commits and ends transactions meanwhile, so what they
 * share has its own lock: each plan cache its mu, each transaction slot
 * its mu (the open transactions and their metadata), pools_mu the memory
 * pools, a transaction's query_mu its current_query. A transaction's
 * terminated flag is atomic, and so is next_tx_id. */
struct cypher_engine {
	struct dbms *dbms;
	pthread_mutex_t pools_mu;
	struct engine_pool *pools;
	struct cypher_engine_options o;
	const struct cypher_proc **procs;
	size_t nprocs, procs_cap;
	struct plan_cache caches[GRAFT_SLOTS]; /* one per slot */
	struct security *security;
	cypher_servers_fn servers;  /* SHOW SERVERS / DATABASES; NULL: alone */
	void *servers_data;
	struct engine_tx_slot tx_slots[GRAFT_SLOTS]; /* open transactions */
	/* Written by transactions of every slot (a chunk past a slot's spare,
	 * a block of ids), apart from what statements only read. */
	char pad_shared[GRAFT_CACHE_LINE];
	struct graft_mem mem_total;  /* every transaction's memory */
	uint64_t next_tx_id;         /* the last id a slot took */
	char pad_shared_end[GRAFT_CACHE_LINE];
	uint64_t started_ms;
	struct schema_rule *rules;  /* as the applied system database has
				     * them (schema.c) */
	size_t nrules, rules_cap;
	struct db_watch rules_watch;
	struct graft_gate_task rules_task;
	/* Uniqueness constraints being created (commit to reload of the
	 * rules), and a count moved at both ends of each: a transaction
	 * that wrote while either moved may have written a duplicate no
	 * rule checked, so its commit fails (cypher_tx_commit). Atomic: a
	 * transaction may begin off the loop. */
	unsigned constraints_pending;
	uint64_t constraints_gen;
};

struct cypher_tx {
	struct cypher_engine *e;
	struct cypher_tx *next, *prev; /* in e->tx_slots[slot] */
	unsigned slot;
	struct db *db;
	struct db_tx *tx;
	struct cypher_tx_options o;
	char dbname[64];
	char user[64];
	char id[64 + 13 + 20];     /* "neo4j-transaction-N": dbname, the
				    * middle, a uint64_t's digits */
	uint64_t started_ms;
	uint64_t deadline_ns;
	bool failed;
	bool terminated;
	bool used;                 /* a statement ran */
	struct cypher_result *open;
	struct graft_mem mem;      /* what its statements hold */
	struct graft_value metadata;
	struct admin_action *actions;
	char current_query[256];
	/* nodes written under a uniqueness constraint: checked again at
	 * commit against what committed meanwhile */
	uint64_t *unique_nodes;
	size_t n_unique, cap_unique;
	uint64_t constraints_gen;  /* the engine's at begin */
	bool creates_constraint;   /* committing: pending in the engine */
	/* An ended transaction's database transaction block, kept for the
	 * next begin (db_tx_rollback_keep); NULL: none. */
	void *db_block;
	/* Kept as it is when the transaction is reused (engine_tx_slot.idle):
	 * a begin zeroes every field above it. current_query's own lock: its
	 * statement's worker writes it, SHOW TRANSACTIONS reads it (under its
	 * slot's mu, then this). */
	pthread_mutex_t query_mu;
};

/* One running statement. It outlives the calls that made it (a Bolt RUN
 * message is freed as soon as it is handled; PULLs come later), so it owns
 * everything its operators read between calls: the parameters (copied at
 * cypher_run), its error (x.err points at err; cypher_result_next copies
 * it out to the caller's) and the statement and plan (the plan cache marks
 * the entry busy until the result closes). */
struct cypher_result {
	struct cypher_tx *tx;
	struct cypher_stmt *stmt;
	struct exec_plan *plan;
	struct plan_cache_entry *cached;
	struct plan_cache *cache;  /* cached's */
	struct exec_ctx x;
	struct graft_value params; /* owned copy of the RUN's; x.params */
	struct cypher_error err;   /* owned; x.err and x.fc.err point here */
	struct cypher_stats stats;
	struct graft_value *out;   /* current output row */
	struct graft_value planv;  /* EXPLAIN / PROFILE */
	bool done, peeked, explain_only;
	int peek_rv;
};

/* The transaction's terminated flag (set from any thread). */
bool engine_tx_terminated(const struct cypher_tx *tx);
const struct cypher_proc *engine_find_proc(struct cypher_engine *e,
					   const char *name);
/* Built-in procedures and the SHOW commands (proc.c). */
int proc_register_builtins(struct cypher_engine *e);
/* The procedure behind SHOW <kind>, and how many of its outputs SHOW
 * prints without YIELD. */
const struct cypher_proc *proc_show(const char *kind, uint32_t *ndefault);
/* Runs schema and administration statements (exec_command.c). */
int admin_run(struct exec_ctx *x, struct ast *a);
/* Frees one deferred action, wiping its passwords. */
void admin_action_free(struct admin_action *act);
/* Applies a committing transaction's deferred user changes in order, then
 * calls done (possibly before returning if one fails at once). */
int admin_actions_run(struct cypher_commit_req *req,
		      void (*done)(struct cypher_commit_req *req, int status));
int64_t engine_now_ms(void);
/* The same to the kernel's tick (a few ms), for a transaction's start
 * and SHOW TRANSACTIONS' elapsed time: a begin is the loop's share of
 * every statement, and the exact clock costs ~40 ns there (a VM's). */
int64_t engine_coarse_ms(void);
/* Refuses a statement the system database does not run (system_db.c):
 * GRAFT_OK on any other database and for administration commands; else
 * Neo4j's SemanticError quoting query (text already redacted). */
int system_db_check(struct cypher_engine *e, const char *db,
		    const struct ast *root, const char *query,
		    struct cypher_error *err);

/* Schema catalog (schema.c) */
/* Loads the rules from the system database and keeps them following it:
 * every commit applied there, on any member of a cluster, reloads them. */
int schema_follow(struct cypher_engine *e);
void schema_free(struct cypher_engine *e);
const struct schema_rule *schema_by_name(struct cypher_engine *e,
					 const char *db, const char *name);
const struct schema_rule *schema_by_target(struct cypher_engine *e,
					   const char *db, const char *label,
					   const char *key, bool constraint);
/* Whether t's deferred actions are schema changes only, whose names in
 * the system database commit with t's own transaction as one replicated
 * entry (db_commit_group: a cluster member); else schema_apply records
 * them after t's commit. */
bool schema_joins_commit(const struct cypher_tx *t);
/* Holding the gate: a transaction of the system database recording the
 * names of t's deferred schema changes, into *out. */
int schema_rules_tx(struct cypher_tx *t, struct db_tx **out);
/* Holding the gate: the rules again from the system database as applied
 * (after a schema_rules_tx committed). */
void schema_reload(struct cypher_engine *e);
/* Applies a deferred SCHEMA action to the system database, then cb. */
int schema_apply(struct cypher_engine *e, struct admin_action *a,
		 void (*cb)(void *arg, int status, const char *msg), void *arg);
/* Fails the statement if node breaks a uniqueness constraint of x->db;
 * otherwise guards the value against concurrent commits and remembers the
 * node for schema_recheck. */
int schema_check_unique(struct exec_ctx *x, uint64_t node);
/* At commit: the remembered nodes against the graph as committed now.
 * GRAFT_OK or GRAFT_ECONSTRAINT with err filled. */
int schema_recheck(struct cypher_tx *tx, struct cypher_error *err);
bool schema_has_constraints(struct cypher_engine *e, const char *db);

#endif
