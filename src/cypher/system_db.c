/* What the `system` database accepts. As in Neo4j, it holds the security
 * graph (users, schema rules) and answers administration commands only:
 * users, databases, SHOW commands, and calls of DBMS procedures with YIELD
 * and RETURN. Plain Cypher there would read the password hashes or write a
 * user that skips every check of CREATE USER, so it is refused before it
 * runs. The security unit and the schema catalog reach the system database
 * through the db layer, not through Cypher, and are not affected. */
#include <string.h>

#include "engine_int.h"

#define SYSTEM_DB_NAME "system"

/* Procedures that do not read the graph of the database they run on. */
static bool system_procedure(struct cypher_engine *e, const char *name)
{
	const struct cypher_proc *p = engine_find_proc(e, name);

	if (p == NULL)
		return false;
	return strcmp(p->mode, "DBMS") == 0 || strcmp(p->name, "db.ping") == 0;
}

/* Whether anything under a reads or writes a graph: a pattern, a subquery,
 * an updating clause, or a call of a procedure that reads the database.
 * O(size of the tree). */
static bool touches_graph(struct cypher_engine *e, const struct ast *a)
{
	if (a == NULL)
		return false;
	switch (a->kind) {
	case AST_MATCH:
	case AST_CREATE:
	case AST_MERGE:
	case AST_SET:
	case AST_REMOVE:
	case AST_DELETE:
	case AST_FOREACH:
	case AST_SUBQUERY:
	case AST_LOAD_CSV:
	case AST_PATTERN:
	case AST_PATH:
	case AST_NODE_PAT:
	case AST_REL_PAT:
	case AST_PATTERN_COMP:
	case AST_EXISTS:
	case AST_COUNT_SUB:
	case AST_COLLECT_SUB:
	case AST_PATTERN_PRED:
		return true;
	case AST_CALL:
		if (!system_procedure(e, a->name))
			return true;
		break;
	default:
		break;
	}
	for (uint32_t i = 0; i < a->n; i++)
		if (touches_graph(e, a->kids[i]))
			return true;
	return false;
}

/* A procedure call with optional YIELD, WITH and RETURN: the one form of
 * query Neo4j runs on `system`. */
static bool procedure_call(struct cypher_engine *e, const struct ast *single)
{
	bool call = false;

	for (uint32_t i = 0; i < single->n; i++) {
		const struct ast *c = single->kids[i];

		if (c->kind == AST_CALL)
			call = true;
		else if (c->kind != AST_USE && c->kind != AST_WITH &&
			 c->kind != AST_RETURN)
			return false;
	}
	return call && !touches_graph(e, single);
}

static bool allowed(struct cypher_engine *e, const struct ast *root)
{
	switch (root->kind) {
	case AST_EXPLAIN:
		return allowed(e, root->kids[0]);
	case AST_SINGLE:
		return procedure_call(e, root);
	case AST_ADMIN:
		/* indexes and constraints belong to user databases */
		return root->op != ADM_CREATE_INDEX && root->op != ADM_DROP_INDEX &&
		       root->op != ADM_CREATE_CONSTRAINT &&
		       root->op != ADM_DROP_CONSTRAINT &&
		       !touches_graph(e, root);
	default:
		return false;
	}
}

int system_db_check(struct cypher_engine *e, const char *db,
		    const struct ast *root, const char *query,
		    struct cypher_error *err)
{
	if (strcmp(db, SYSTEM_DB_NAME) != 0 || allowed(e, root))
		return GRAFT_OK;
	return cypher_error_set(err, GRAFT_STATUS_SEMANTIC_ERROR,
				"Not a recognised system command or procedure. "
				"This Cypher command can only be executed in a "
				"user database: %s",
				query);
}
