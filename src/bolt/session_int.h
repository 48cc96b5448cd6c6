/* The session's insides, shared by session.c (states, connection-level
 * messages), query.c (transactions and results) and entity.c (nodes,
 * relationships and paths on the wire). */
#ifndef GRAFT_BOLT_SESSION_INT_H
#define GRAFT_BOLT_SESSION_INT_H

#include "../db/db.h"
#include "../pack/pack.h"
#include "message.h"
#include "session.h"

enum bolt_state {
	BOLT_NEGOTIATION,   /* before HELLO */
	BOLT_AUTHENTICATION, /* HELLO done (5.1+), waiting for LOGON */
	BOLT_READY,
	BOLT_STREAMING,     /* auto-commit result open */
	BOLT_TX_READY,      /* explicit transaction, no open result */
	BOLT_TX_STREAMING,  /* explicit transaction with an open result */
	BOLT_FAILED,        /* everything but RESET and GOODBYE is IGNORED */
	BOLT_INTERRUPTED,   /* a RESET is queued: IGNORED up to it */
	BOLT_DEFUNCT,       /* closing */
	BOLT_STATE_COUNT
};

/* The asynchronous step a session waits for. */
enum bolt_wait {
	BOLT_WAIT_NONE,
	BOLT_WAIT_AUTH,     /* security_authenticate */
	BOLT_WAIT_BOOKMARK, /* watching until bookmarks are applied */
	BOLT_WAIT_COMMIT,   /* cypher_tx_commit */
	BOLT_WAIT_JOB,      /* a statement executing on a worker thread */
};

/* "<database>:<database id>:<transaction id>"; the id is dbms_origin's
 * (the Raft index that created the database, 0 for those a server starts
 * with), the same on every member. The older "<database>:<transaction id>"
 * has no id (has_id false) and is waited for by name alone. */
struct bolt_bookmark {
	char db[64];
	uint64_t db_id;
	uint64_t txid;
	bool has_id;
};

/* What the SUCCESS ending a result says. */
struct bolt_summary {
	char type[4];
	char db[64];
	struct cypher_stats stats;
	uint64_t t_last;
	struct graft_value plan; /* owned; null without EXPLAIN/PROFILE */
	bool profile;
};

/* A result of an explicit transaction whose remaining records were read
 * when the next statement ran (the engine keeps one result open per
 * transaction): its records, encoded, wait for PULLs with its qid. */
struct bolt_parked {
	int64_t qid;
	struct graft_buf records; /* chunked RECORD messages */
	uint64_t charged;         /* bytes of records charged to the tx */
	size_t pos;               /* first byte not yet sent */
	struct bolt_summary summary;
	struct bolt_parked *next;
};

struct bolt_session {
	struct bolt_env *env;
	uint32_t version;
	uint64_t id;
	struct graft_buf *out; /* borrowed */
	void (*wake_cb)(struct bolt_session *s, int step);
	void *data;
	enum bolt_state state;
	bool utc;              /* DateTime as 'I'/'i' */
	bool authenticated;
	bool credentials_expired;
	char user[128];

	/* The open transaction and result. */
	struct cypher_tx *tx;
	bool autocommit;       /* tx belongs to one RUN */
	struct cypher_result *result;
	int64_t qid;           /* of result; next_qid numbers explicit RUNs */
	int64_t next_qid;
	int64_t pull_left;     /* rows still asked for; -1: all */
	bool discarding;
	bool profile;          /* the statement was PROFILE (plan key) */
	uint64_t run_start_ns;
	uint64_t run_hash;     /* of the auto-commit RUN's text; 0: none */
	struct pack_options pack;

	/* Asynchronous steps. */
	enum bolt_wait wait;
	struct bolt_request pending;    /* BEGIN or RUN waiting for bookmarks */
	struct bolt_bookmark *bookmarks; /* owned, nbookmarks */
	size_t nbookmarks;
	struct db_watch bookmark_watch; /* on the first bookmark not applied */
	uv_timer_t timer;
	struct security_req auth;
	struct cypher_commit_req commit;
	/* Summary of a finished result (sent after the commit for an
	 * auto-commit one). */
	struct bolt_summary summary;
	bool password_change; /* the statement is ALTER CURRENT USER */
	/* Results of the explicit transaction set aside by a later RUN, and
	 * the one a PULL is streaming from (NULL: s->result). */
	struct bolt_parked *parked;
	struct bolt_parked *serving;

	/* The job on a worker thread (at most one): it writes to job_out
	 * (s->out points there meanwhile; conn_out is the connection's). */
	struct graft_work job;
	int (*job_fn)(struct bolt_session *s);
	struct bolt_request job_req; /* the RUN it executes */
	int job_step;
	bool commit_after_job; /* a result ended: commit on the loop */
	/* An auto-commit read on a worker begins and ends its transaction
	 * there, in the worker's slot, so the loop neither spends its time on
	 * them nor serialises every worker's reads (query.c "Transactions on
	 * workers"): job_begins (loop, before the submit) asks the job to
	 * begin; tx_in_worker says the session's transaction was begun so;
	 * read_ended (the job, read by the loop after it) that it ended as a
	 * read whose reads saw read_txid, the summary still to send. */
	bool job_begins, tx_in_worker, read_ended;
	uint64_t read_txid;
	/* The job's transaction's id, to terminate it: set by the loop at the
	 * submit, or by a job that began it, which then sets job_tx_ready;
	 * job_cancel: the loop asked the job to stop (atomics, see
	 * bolt_job_terminate). */
	char job_tx[96];
	int job_tx_ready, job_cancel;
	struct graft_buf job_out;
	struct graft_buf *conn_out;

	/* Server-side routing (forward.c): the client's login, replayed to
	 * the leader (owned, wiped when freed); the connection to the
	 * leader's routing connector, or NULL; whether requests go there
	 * now; why it was lost between two requests. */
	struct graft_buf hello_raw, logon_raw;
	struct bolt_fwd *fwd;
	bool forwarding;
	struct cypher_error fwd_error;

	bool closing;
	void (*closed_cb)(void *data);
	void *closed_data;
};

/* session.c: terminates the running job's transaction (RESET, a
 * client gone), or has the job do it as soon as it has one. Loop. */
void bolt_job_terminate(struct bolt_session *s);
/* query.c: after a job whose auto-commit read ended on the worker
 * (read_ended): its summary and bookmark. Loop. */
int bolt_finish_read(struct bolt_session *s);

/* route.c */
/* The routing table of database db for a client with routing context
 * context (a MAP, or NULL): from env's router, or this server alone in
 * every role. GRAFT_OK, or an error whose status and message are in err
 * (DatabaseNotFound for a database this server does not have). */
int bolt_route_lookup(const struct bolt_env *env, const char *db,
		      const struct graft_value *context,
		      struct bolt_route_table *out, struct cypher_error *err);

/* session.c */
/* Answers FAILURE, drops any open result and transaction, and moves to
 * FAILED; returns the step (CLOSE before authentication). */
int bolt_fail(struct bolt_session *s, enum graft_status status,
	      const char *message);
int bolt_fail_error(struct bolt_session *s, const struct cypher_error *e);
/* Drops the open result and rolls back the open transaction. */
void bolt_drop_tx(struct bolt_session *s);
/* Reports an asynchronous step's outcome (or finishes a close). */
void bolt_wake(struct bolt_session *s, int step);
/* A step from an encoding status: DONE if ok, else CLOSE (out of memory). */
int bolt_step_of(int rv);
/* Runs fn(s) on a worker thread (BOLT_STEP_WAIT; wake_cb gets its step),
 * or now without a pool. */
int bolt_job(struct bolt_session *s, int (*fn)(struct bolt_session *s));
/* The step after a job: an ended auto-commit result commits now. */
int bolt_after_job(struct bolt_session *s, int step);

/* query.c */
/* False, with e filled (Neo.ClientError.Security.Forbidden), when map
 * field f of r asks for imp_user: BEGIN, RUN and ROUTE refuse it alike, so
 * a driver learns at its first request, not after routing succeeded. */
bool bolt_no_impersonation(const struct bolt_request *r, unsigned f,
			   struct cypher_error *e);
int bolt_handle_begin(struct bolt_session *s, struct bolt_request *r);
int bolt_handle_run(struct bolt_session *s, struct bolt_request *r);
int bolt_handle_pull(struct bolt_session *s, struct bolt_request *r);
int bolt_handle_commit(struct bolt_session *s, struct bolt_request *r);
int bolt_handle_rollback(struct bolt_session *s, struct bolt_request *r);
int bolt_stream(struct bolt_session *s);
/* Starts the commit of s->tx (loop thread). */
int bolt_start_commit(struct bolt_session *s);
/* Bookmarks: parses r's "bookmarks" (field, key) into s; starts waiting
 * if needed. Returns DONE to go on, WAIT, or a failure's step (*failed). */
int bolt_bookmarks_await(struct bolt_session *s, const struct graft_value *list,
			 bool *failed);
void bolt_bookmarks_clear(struct bolt_session *s);
/* Ends a bookmark wait without answering it: its watch and its timer. */
void bolt_bookmarks_stop_wait(struct bolt_session *s);
int bolt_continue_pending(struct bolt_session *s);

/* query.c: results */
/* Copies the open result's summary into sum (closing nothing). */
int bolt_summary_take(struct bolt_session *s, struct bolt_summary *sum);
int bolt_write_summary(struct bolt_session *s, struct bolt_summary *sum,
		       const char *bookmark);
int bolt_write_record(struct bolt_session *s, struct graft_buf *out,
		      const struct graft_value *row, size_t n);
int bolt_write_has_more(struct bolt_session *s);

/* parked.c */
/* Reads the rest of the open result into a parked entry and closes it.
 * GRAFT_OK, or an error described in e (GRAFT_ENOMEM with e empty). */
int bolt_park_result(struct bolt_session *s, struct cypher_error *e);
struct bolt_parked *bolt_parked_find(struct bolt_session *s, int64_t qid);
/* Streams s->serving for the current PULL/DISCARD. */
int bolt_stream_parked(struct bolt_session *s);
void bolt_parked_free_all(struct bolt_session *s);

/* forward.c */
/* Decides where r (BEGIN or an auto-commit RUN, msg its bytes, the session
 * in READY) runs: *local, or forwarded to the leader (the step returned),
 * or failed (no leader: the step of the FAILURE). */
int bolt_forward_start(struct bolt_session *s, const struct bolt_request *r,
		       const uint8_t *msg, size_t len, bool *local);
/* While s->forwarding: sends the request msg to the leader. */
int bolt_forward_relay(struct bolt_session *s, const uint8_t *msg,
		       size_t len);
/* FULL while the client's output or the requests in flight are at their
 * bound, else DONE. */
int bolt_forward_step(const struct bolt_session *s);
/* The client drained its output: reading from the leader goes on. */
int bolt_forward_resume(struct bolt_session *s);
/* Keeps the bytes of HELLO or LOGON (sig) to replay to the leader. */
void bolt_forward_keep_login(struct bolt_session *s, uint8_t sig,
			     const uint8_t *msg, size_t len);
void bolt_forward_forget_login(struct graft_buf *b);
/* LOGOFF: the connection to the leader and the LOGON go. */
void bolt_forward_logoff(struct bolt_session *s);
/* The session closes: everything of forward.c goes. */
void bolt_forward_release(struct bolt_session *s);

/* params.c: fills in the offsets of zoned DateTime values in v (received
 * in the UTC form if utc, else the legacy local form). GRAFT_OK, or an
 * error described in e. */
int bolt_params_resolve_zones(struct graft_value *v, bool utc,
			      struct cypher_error *e);

/* entity.c: the pack_entity_fn for records (arg: the session). */
int bolt_pack_entity(void *arg, struct graft_buf *b,
		     const struct graft_value *v);

/* Metadata map entries. */
int bolt_put_str(struct graft_buf *b, const char *key, const char *value);
int bolt_put_int(struct graft_buf *b, const char *key, int64_t value);

#endif
