/* The Neo4j status codes graft sends to clients, as one table. A code is what
 * drivers classify a failure by (retry a TransientError, give up on a
 * ClientError, refresh the routing table on Cluster.NotALeader), so every
 * code graft produces comes from here: callers name a GRAFT_STATUS_… value,
 * never a string. Codes received from another server (the shell reads them
 * off the wire) stay strings and are compared with graft_status_is. */
#ifndef GRAFT_UTIL_STATUS_H
#define GRAFT_UTIL_STATUS_H

#include <stdbool.h>

/* The class is the second part of the code and decides what a driver does:
 * CLIENT: fix the request (not retried); TRANSIENT: retrying may succeed;
 * DATABASE: the server failed (not retried). */
enum graft_status_class {
	GRAFT_STATUS_CLASS_CLIENT,
	GRAFT_STATUS_CLASS_TRANSIENT,
	GRAFT_STATUS_CLASS_DATABASE,
};

/* X(value, class, code). Each code appears once; the value names what went
 * wrong, with the class in the name only where two classes share a title. */
#define GRAFT_STATUSES(X)                                                      \
	X(GRAFT_STATUS_CLUSTER_NOT_A_LEADER, CLIENT,                           \
	  "Neo.ClientError.Cluster.NotALeader")                                \
	X(GRAFT_STATUS_CLUSTER_ROUTING, CLIENT,                                \
	  "Neo.ClientError.Cluster.Routing")                                   \
	X(GRAFT_STATUS_ROUTING_FAILED, CLIENT,                                 \
	  "Neo.ClientError.Routing.RoutingFailed")                             \
	X(GRAFT_STATUS_ROUTING_DBMS_IN_PANIC, CLIENT,                          \
	  "Neo.ClientError.Routing.DbmsInPanic")                               \
	X(GRAFT_STATUS_DATABASE_NOT_FOUND, CLIENT,                             \
	  "Neo.ClientError.Database.DatabaseNotFound")                         \
	X(GRAFT_STATUS_DATABASE_EXISTS, CLIENT,                                \
	  "Neo.ClientError.Database.ExistingDatabaseFound")                    \
	X(GRAFT_STATUS_FORBIDDEN_ON_READ_ONLY_DATABASE, CLIENT,                \
	  "Neo.ClientError.General.ForbiddenOnReadOnlyDatabase")               \
	X(GRAFT_STATUS_INVALID_ARGUMENTS, CLIENT,                              \
	  "Neo.ClientError.General.InvalidArguments")                          \
	X(GRAFT_STATUS_PROCEDURE_CALL_FAILED, CLIENT,                          \
	  "Neo.ClientError.Procedure.ProcedureCallFailed")                     \
	X(GRAFT_STATUS_PROCEDURE_NOT_FOUND, CLIENT,                            \
	  "Neo.ClientError.Procedure.ProcedureNotFound")                       \
	X(GRAFT_STATUS_REQUEST_INVALID, CLIENT,                                \
	  "Neo.ClientError.Request.Invalid")                                   \
	X(GRAFT_STATUS_REQUEST_INVALID_FORMAT, CLIENT,                         \
	  "Neo.ClientError.Request.InvalidFormat")                             \
	X(GRAFT_STATUS_CONSTRAINT_CREATION_FAILED, CLIENT,                     \
	  "Neo.ClientError.Schema.ConstraintCreationFailed")                   \
	X(GRAFT_STATUS_CONSTRAINT_DROP_FAILED, CLIENT,                         \
	  "Neo.ClientError.Schema.ConstraintDropFailed")                       \
	X(GRAFT_STATUS_CONSTRAINT_VALIDATION_FAILED, CLIENT,                   \
	  "Neo.ClientError.Schema.ConstraintValidationFailed")                 \
	X(GRAFT_STATUS_EQUIVALENT_SCHEMA_RULE_EXISTS, CLIENT,                  \
	  "Neo.ClientError.Schema.EquivalentSchemaRuleAlreadyExists")          \
	X(GRAFT_STATUS_INDEX_DROP_FAILED, CLIENT,                              \
	  "Neo.ClientError.Schema.IndexDropFailed")                            \
	X(GRAFT_STATUS_AUTH_PROVIDER_FAILED, CLIENT,                           \
	  "Neo.ClientError.Security.AuthProviderFailed")                       \
	X(GRAFT_STATUS_AUTH_RATE_LIMIT, CLIENT,                                \
	  "Neo.ClientError.Security.AuthenticationRateLimit")                  \
	X(GRAFT_STATUS_CREDENTIALS_EXPIRED, CLIENT,                            \
	  "Neo.ClientError.Security.CredentialsExpired")                       \
	X(GRAFT_STATUS_FORBIDDEN, CLIENT, "Neo.ClientError.Security.Forbidden") \
	X(GRAFT_STATUS_UNAUTHORIZED, CLIENT,                                   \
	  "Neo.ClientError.Security.Unauthorized")                             \
	X(GRAFT_STATUS_ACCESS_MODE, CLIENT,                                    \
	  "Neo.ClientError.Statement.AccessMode")                              \
	X(GRAFT_STATUS_ARGUMENT_ERROR, CLIENT,                                 \
	  "Neo.ClientError.Statement.ArgumentError")                           \
	X(GRAFT_STATUS_ARITHMETIC_ERROR, CLIENT,                               \
	  "Neo.ClientError.Statement.ArithmeticError")                         \
	X(GRAFT_STATUS_ENTITY_NOT_FOUND, CLIENT,                               \
	  "Neo.ClientError.Statement.EntityNotFound")                          \
	X(GRAFT_STATUS_EXECUTION_FAILED, CLIENT,                               \
	  "Neo.ClientError.Statement.ExecutionFailed")                         \
	X(GRAFT_STATUS_PARAMETER_MISSING, CLIENT,                              \
	  "Neo.ClientError.Statement.ParameterMissing")                        \
	X(GRAFT_STATUS_SEMANTIC_ERROR, CLIENT,                                 \
	  "Neo.ClientError.Statement.SemanticError")                           \
	X(GRAFT_STATUS_SYNTAX_ERROR, CLIENT,                                   \
	  "Neo.ClientError.Statement.SyntaxError")                             \
	X(GRAFT_STATUS_TYPE_ERROR, CLIENT, "Neo.ClientError.Statement.TypeError") \
	X(GRAFT_STATUS_UNSUPPORTED_ADMINISTRATION_COMMAND, CLIENT,             \
	  "Neo.ClientError.Statement.UnsupportedAdministrationCommand")        \
	X(GRAFT_STATUS_INVALID_BOOKMARK, CLIENT,                               \
	  "Neo.ClientError.Transaction.InvalidBookmark")                       \
	X(GRAFT_STATUS_TX_TERMINATED, CLIENT,                                  \
	  "Neo.ClientError.Transaction.Terminated")                            \
	X(GRAFT_STATUS_TX_FORBIDDEN_DUE_TO_TX_TYPE, CLIENT,                    \
	  "Neo.ClientError.Transaction.ForbiddenDueToTransactionType")         \
	X(GRAFT_STATUS_TX_MARKED_AS_FAILED, CLIENT,                            \
	  "Neo.ClientError.Transaction.TransactionMarkedAsFailed")             \
	X(GRAFT_STATUS_TX_NOT_FOUND, CLIENT,                                   \
	  "Neo.ClientError.Transaction.TransactionNotFound")                   \
	X(GRAFT_STATUS_TX_TIMED_OUT, CLIENT,                                   \
	  "Neo.ClientError.Transaction.TransactionTimedOut")                   \
	X(GRAFT_STATUS_REPLICATION_FAILURE, TRANSIENT,                         \
	  "Neo.TransientError.Cluster.ReplicationFailure")                     \
	X(GRAFT_STATUS_DATABASE_UNAVAILABLE, TRANSIENT,                        \
	  "Neo.TransientError.General.DatabaseUnavailable")                    \
	X(GRAFT_STATUS_MEMORY_POOL_OUT_OF_MEMORY, TRANSIENT,                   \
	  "Neo.TransientError.General.MemoryPoolOutOfMemoryError")             \
	X(GRAFT_STATUS_OUT_OF_MEMORY, TRANSIENT,                               \
	  "Neo.TransientError.General.OutOfMemoryError")                       \
	X(GRAFT_STATUS_BOOKMARK_TIMEOUT, TRANSIENT,                            \
	  "Neo.TransientError.Transaction.BookmarkTimeout")                    \
	X(GRAFT_STATUS_TX_LEADER_SWITCH, TRANSIENT,                            \
	  "Neo.TransientError.Transaction.LeaderSwitch")                       \
	X(GRAFT_STATUS_TX_LIMIT_REACHED, TRANSIENT,                            \
	  "Neo.TransientError.Transaction.MaximumTransactionLimitReached")     \
	X(GRAFT_STATUS_TX_OUTDATED, TRANSIENT,                                 \
	  "Neo.TransientError.Transaction.Outdated")                           \
	X(GRAFT_STATUS_TX_COMMIT_FAILED, TRANSIENT,                            \
	  "Neo.TransientError.Transaction.TransactionCommitFailed")            \
	X(GRAFT_STATUS_UNKNOWN_ERROR, DATABASE,                                \
	  "Neo.DatabaseError.General.UnknownError")                            \
	X(GRAFT_STATUS_DATABASE_OUT_OF_MEMORY, DATABASE,                       \
	  "Neo.DatabaseError.General.OutOfMemoryError")                        \
	X(GRAFT_STATUS_DATABASE_COMMIT_FAILED, DATABASE,                       \
	  "Neo.DatabaseError.Transaction.TransactionCommitFailed")

enum graft_status {
#define GRAFT_STATUS_ENUM(value, class, code) value,
	GRAFT_STATUSES(GRAFT_STATUS_ENUM)
#undef GRAFT_STATUS_ENUM
	GRAFT_STATUS_COUNT
};

/* The code's text, e.g. "Neo.ClientError.Cluster.NotALeader"; static, never
 * NULL (an out-of-range value gives the UnknownError code). */
const char *graft_status_code(enum graft_status s);

enum graft_status_class graft_status_class(enum graft_status s);

/* Whether code (a string, possibly from the wire) is status s. */
bool graft_status_is(const char *code, enum graft_status s);

#endif
