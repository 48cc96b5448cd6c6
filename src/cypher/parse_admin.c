/* The parser's schema and administration statements: they share the token
 * helpers of parse.c but not its expression grammar beyond literals and
 * parameters. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parser_int.h"

static struct ast *admin_node(struct parser *p, uint16_t op)
{
	struct ast *a = parser_node(p, AST_ADMIN);

	if (a != NULL)
		a->op = op;
	return a;
}

static bool if_not_exists(struct parser *p, struct ast *a)
{
	if (parser_is_kw(p, 0, "IF") && parser_is_kw(p, 1, "NOT") && parser_is_kw(p, 2, "EXISTS")) {
		p->i += 3;
		a->flags |= AST_F_IF_EXISTS;
		return true;
	}
	return false;
}

static bool if_exists(struct parser *p, struct ast *a)
{
	if (parser_is_kw(p, 0, "IF") && parser_is_kw(p, 1, "EXISTS")) {
		p->i += 2;
		a->flags |= AST_F_IF_EXISTS;
		return true;
	}
	return false;
}

/* An optional name before IF NOT EXISTS / FOR / ON. */
static bool schema_name(struct parser *p, struct ast *a)
{
	if (parser_is_symbol(p, 0) && !parser_is_kw(p, 0, "FOR") && !parser_is_kw(p, 0, "ON") &&
	    !(parser_is_kw(p, 0, "IF") && parser_is_kw(p, 1, "NOT"))) {
		a->name = parser_symbol(p, "a name");
		return a->name != NULL;
	}
	return true;
}

/* FOR (n:L) ON (n.p) | FOR (n:L) REQUIRE n.p IS UNIQUE | ON :L(p) */
static bool schema_target(struct parser *p, struct ast *a, bool constraint)
{
	const char *var, *var2;

	if (parser_accept_punct(p, ":")) { /* 3.x: ON :Label(prop) */
		if (!parser_add(p, a, parser_name_node(p, "a label")) || !parser_expect(p, "(") ||
		    !parser_add(p, a, parser_name_node(p, "a property key")))
			return false;
		return parser_expect(p, ")");
	}
	if (!parser_expect(p, "("))
		return false;
	if (parser_is_punct(p, 0, ")")) { /* FOR ()-[r:T]-() */
		parser_fail(p, "a node pattern (relationship property indexes and constraints are not supported yet; see docs/cypher.md)");
		return false;
	}
	var = parser_symbol(p, "a variable");
	if (var == NULL || !parser_expect(p, ":") ||
	    !parser_add(p, a, parser_name_node(p, "a label")) || !parser_expect(p, ")"))
		return false;
	if (constraint) {
		if (!parser_accept_kw(p, "REQUIRE") && !parser_expect_kw(p, "ASSERT"))
			return false;
	} else if (!parser_expect_kw(p, "ON")) {
		return false;
	}
	bool paren = parser_accept_punct(p, "(");
	var2 = parser_symbol(p, "the variable of the pattern");
	if (var2 == NULL)
		return false;
	if (strcmp(var, var2) != 0) {
		parser_fail(p, "the variable declared in the pattern");
		return false;
	}
	if (!parser_expect(p, ".") || !parser_add(p, a, parser_name_node(p, "a property key")))
		return false;
	if (paren && !parser_expect(p, ")"))
		return false;
	if (constraint) {
		if (!parser_expect_kw(p, "IS"))
			return false;
		if (parser_accept_kw(p, "NODE"))
			parser_expect_kw(p, "KEY");
		else if (!parser_expect_kw(p, "UNIQUE"))
			return false;
	}
	return !p->failed;
}

static struct ast *create_schema(struct parser *p, bool constraint)
{
	struct ast *a = admin_node(p, constraint ? ADM_CREATE_CONSTRAINT
						 : ADM_CREATE_INDEX);

	if (a == NULL)
		return NULL;
	if (!constraint && parser_accept_kw(p, "INDEX") && parser_accept_kw(p, "ON"))
		return schema_target(p, a, false) ? a : NULL;
	if (constraint && parser_accept_kw(p, "CONSTRAINT") && parser_accept_kw(p, "ON"))
		return schema_target(p, a, true) ? a : NULL;
	if (!schema_name(p, a))
		return NULL;
	if_not_exists(p, a);
	if (!parser_accept_kw(p, "FOR") && !parser_expect_kw(p, "ON"))
		return NULL;
	return schema_target(p, a, constraint) ? a : NULL;
}

static struct ast *drop_schema(struct parser *p, bool constraint)
{
	struct ast *a = admin_node(p, constraint ? ADM_DROP_CONSTRAINT
						 : ADM_DROP_INDEX);

	if (a == NULL)
		return NULL;
	if (parser_accept_kw(p, "ON"))
		return schema_target(p, a, constraint) ? a : NULL;
	a->name = parser_symbol(p, "a name");
	if (a->name == NULL)
		return NULL;
	if_exists(p, a);
	return a;
}

/* A string literal or a parameter. */
static struct ast *secret(struct parser *p)
{
	if (TOK(p)->kind == LEX_STRING)
		return parser_string_lit(p);
	if (parser_is_punct(p, 0, "$"))
		return parser_atom(p);
	return parser_fail(p, "a password string or parameter");
}

/* [SET [PLAINTEXT|ENCRYPTED] PASSWORD x [CHANGE [NOT] REQUIRED]]
 * [SET PASSWORD CHANGE [NOT] REQUIRED] [SET STATUS ACTIVE|SUSPENDED]
 * [SET HOME DATABASE db] */
static bool user_settings(struct parser *p, struct ast *a)
{
	struct ast *pw = NULL;

	while (parser_accept_kw(p, "SET")) {
		parser_accept_kw(p, "PLAINTEXT");
		if (parser_accept_kw(p, "ENCRYPTED")) {
			parser_fail(p, "PASSWORD (encrypted passwords are not supported)");
			return false;
		}
		if (parser_accept_kw(p, "PASSWORD")) {
			if (!parser_is_kw(p, 0, "CHANGE")) {
				pw = secret(p);
				if (pw == NULL)
					return false;
			}
			if (parser_accept_kw(p, "CHANGE")) {
				a->flags |= AST_F_CHANGE_SET | AST_F_CHANGE_REQ;
				if (parser_accept_kw(p, "NOT"))
					a->flags &= ~(uint32_t)AST_F_CHANGE_REQ;
				if (!parser_expect_kw(p, "REQUIRED"))
					return false;
			}
		} else if (parser_accept_kw(p, "STATUS")) {
			if (parser_accept_kw(p, "SUSPENDED"))
				a->min = 1;
			else if (parser_expect_kw(p, "ACTIVE"))
				a->min = 0;
			else
				return false;
		} else if (parser_accept_kw(p, "HOME")) {
			if (!parser_expect_kw(p, "DATABASE"))
				return false;
			a->name2 = parser_symbol(p, "a database name");
			if (a->name2 == NULL)
				return false;
		} else {
			parser_fail(p, "PASSWORD, STATUS or HOME DATABASE");
			return false;
		}
	}
	parser_add(p, a, pw);
	return !p->failed;
}

static struct ast *create_user(struct parser *p, struct ast *a)
{
	a->op = ADM_CREATE_USER;
	a->name = parser_symbol(p, "a user name");
	if (a->name == NULL)
		return NULL;
	if_not_exists(p, a);
	if (!parser_is_kw(p, 0, "SET"))
		return parser_fail(p, "SET PASSWORD");
	a->flags |= AST_F_CHANGE_REQ; /* Neo4j's default */
	if (!user_settings(p, a))
		return NULL;
	if (a->kids[0] == NULL)
		return parser_fail(p, "SET PASSWORD with a password");
	return a;
}

static struct ast *name_list(struct parser *p, struct ast *owner,
			     const char *what)
{
	struct ast *l = parser_node(p, AST_LIST_OF);

	if (l == NULL)
		return NULL;
	do {
		if (!parser_add(p, l, parser_name_node(p, what)))
			return NULL;
	} while (parser_accept_punct(p, ","));
	return parser_add(p, owner, l) ? owner : NULL;
}

static struct ast *grant_role(struct parser *p, uint16_t op)
{
	struct ast *a = admin_node(p, op);

	if (a == NULL)
		return NULL;
	if (!parser_accept_kw(p, "ROLES"))
		p->i++; /* ROLE */
	if (name_list(p, a, "a role name") == NULL)
		return NULL;
	if (op == ADM_GRANT_ROLE ? !parser_expect_kw(p, "TO") : !parser_expect_kw(p, "FROM"))
		return NULL;
	return name_list(p, a, "a user name");
}

/* GRANT|DENY|REVOKE <privilege> ... TO|FROM role: kept as text; the
 * security issue gives privileges their meaning. */
static struct ast *privilege(struct parser *p)
{
	struct ast *a = admin_node(p, ADM_PRIVILEGE);
	uint32_t start = TOK(p)->pos;

	if (a == NULL)
		return NULL;
	while (TOK(p)->kind != LEX_END && !parser_is_kw(p, 0, "TO") &&
	       !parser_is_kw(p, 0, "FROM") && !parser_is_punct(p, 0, ";"))
		p->i++;
	if (!parser_accept_kw(p, "TO") && !parser_expect_kw(p, "FROM"))
		return NULL;
	a->name2 = ast_arena_strndup(&p->st->arena, p->st->text + start,
				     TOK(p)->pos - start);
	if (a->name2 == NULL)
		return parser_oom(p);
	return name_list(p, a, "a role name");
}

static const char *const show_kinds[][2] = {
	{"INDEX", "INDEXES"},       {"INDEXES", "INDEXES"},
	{"CONSTRAINT", "CONSTRAINTS"}, {"CONSTRAINTS", "CONSTRAINTS"},
	{"PROCEDURE", "PROCEDURES"}, {"PROCEDURES", "PROCEDURES"},
	{"FUNCTION", "FUNCTIONS"},  {"FUNCTIONS", "FUNCTIONS"},
	{"TRANSACTION", "TRANSACTIONS"}, {"TRANSACTIONS", "TRANSACTIONS"},
	{"DATABASE", "DATABASES"},  {"DATABASES", "DATABASES"},
	{"USER", "USERS"},          {"USERS", "USERS"},
	{"ROLE", "ROLES"},          {"ROLES", "ROLES"},
	{"PRIVILEGE", "PRIVILEGES"}, {"PRIVILEGES", "PRIVILEGES"},
	{"SETTING", "SETTINGS"},    {"SETTINGS", "SETTINGS"},
	{"SERVER", "SERVERS"},      {"SERVERS", "SERVERS"},
	{NULL, NULL},
};

static struct ast *show(struct parser *p)
{
	struct ast *a = admin_node(p, ADM_SHOW), *filter;

	if (a == NULL)
		return NULL;
	/* qualifiers such as ALL, RANGE, BUILT IN, DEFAULT, HOME, CURRENT */
	while (parser_accept_kw(p, "ALL") || parser_accept_kw(p, "RANGE") ||
	       parser_accept_kw(p, "BTREE") || parser_accept_kw(p, "UNIQUE") ||
	       parser_accept_kw(p, "BUILT") || parser_accept_kw(p, "IN") ||
	       (parser_is_kw(p, 1, "DEFINED") && parser_accept_kw(p, "USER")) ||
	       parser_accept_kw(p, "DEFINED"))
		;
	if (parser_accept_kw(p, "DEFAULT") || parser_accept_kw(p, "HOME")) {
		a->name2 = "1"; /* only the default database */
	}
	if (parser_accept_kw(p, "CURRENT")) {
		a->name = "USERS";
		a->name2 = "current";
		if (!parser_expect_kw(p, "USER"))
			return NULL;
	}
	for (size_t i = 0; a->name == NULL && show_kinds[i][0]; i++)
		if (parser_accept_kw(p, show_kinds[i][0]))
			a->name = show_kinds[i][1];
	if (a->name == NULL)
		return parser_fail(p, "INDEXES, CONSTRAINTS, PROCEDURES, FUNCTIONS, TRANSACTIONS, DATABASES, SERVERS, USERS, ROLES, PRIVILEGES or SETTINGS");
	filter = parser_node(p, AST_LIST_OF); /* names or ids after the kind */
	if (filter == NULL)
		return NULL;
	while (TOK(p)->kind == LEX_STRING || parser_is_punct(p, 0, "$") ||
	       (parser_is_symbol(p, 0) && !parser_is_kw(p, 0, "YIELD") &&
		!parser_is_kw(p, 0, "WHERE") && !parser_is_kw(p, 0, "RETURN"))) {
		struct ast *k = TOK(p)->kind == LEX_STRING || parser_is_punct(p, 0, "$")
					? secret(p)
					: parser_name_node(p, "a name");

		if (!parser_add(p, filter, k))
			return NULL;
		parser_accept_punct(p, ",");
	}
	parser_add(p, a, filter);
	if (parser_is_kw(p, 0, "YIELD")) {
		if (!parser_add(p, a, parse_projection(p, AST_WITH)))
			return NULL;
	} else {
		parser_add(p, a, NULL);
	}
	parser_add(p, a, parser_where_opt(p));
	if (parser_is_kw(p, 0, "RETURN")) {
		if (!parser_add(p, a, parse_projection(p, AST_RETURN)))
			return NULL;
	} else {
		parser_add(p, a, NULL);
	}
	return p->failed ? NULL : a;
}

static struct ast *database_cmd(struct parser *p, uint16_t op)
{
	struct ast *a = admin_node(p, op);

	if (a == NULL)
		return NULL;
	a->name = parser_symbol(p, "a database name");
	if (a->name == NULL)
		return NULL;
	if (op == ADM_CREATE_DATABASE)
		if_not_exists(p, a);
	else
		if_exists(p, a);
	/* options Neo4j takes that do not change a single server's answer */
	while (TOK(p)->kind != LEX_END && !parser_is_punct(p, 0, ";"))
		p->i++;
	return a;
}

static struct ast *create_admin(struct parser *p)
{
	struct ast *a;
	uint32_t flags = 0;

	if (parser_is_kw(p, 1, "OR") && parser_is_kw(p, 2, "REPLACE")) {
		p->i += 3;
		flags = AST_F_OR_REPLACE;
	} else {
		p->i++;
	}
	if (parser_is_kw(p, 0, "INDEX") || parser_is_kw(p, 0, "RANGE") ||
	    parser_is_kw(p, 0, "BTREE")) {
		parser_accept_kw(p, "RANGE");
		parser_accept_kw(p, "BTREE");
		if (parser_is_kw(p, 0, "INDEX") && parser_is_kw(p, 1, "ON"))
			return create_schema(p, false);
		p->i++;
		return create_schema(p, false);
	}
	if (parser_is_kw(p, 0, "CONSTRAINT")) {
		if (parser_is_kw(p, 1, "ON"))
			return create_schema(p, true);
		p->i++;
		return create_schema(p, true);
	}
	if (parser_accept_kw(p, "DATABASE"))
		a = database_cmd(p, ADM_CREATE_DATABASE);
	else if (parser_accept_kw(p, "USER") && (a = admin_node(p, 0)) != NULL)
		a = create_user(p, a);
	else if (parser_accept_kw(p, "ROLE") &&
		 (a = admin_node(p, ADM_CREATE_ROLE)) != NULL) {
		a->name = parser_symbol(p, "a role name");
		if (a->name == NULL)
			return NULL;
		if_not_exists(p, a);
		if (parser_accept_kw(p, "AS")) {
			if (!parser_expect_kw(p, "COPY") || !parser_expect_kw(p, "OF"))
				return NULL;
			a->name2 = parser_symbol(p, "a role name");
		}
	} else
		return parser_fail(p, "INDEX, CONSTRAINT, DATABASE, USER or ROLE");
	if (a)
		a->flags |= flags;
	return p->failed ? NULL : a;
}

/* DROP SERVER 'name' (Neo4j 5): a cluster core's removal, planned as
 * CALL dbms.cluster.dropServer(name). */
static struct ast *drop_server(struct parser *p)
{
	struct ast *a = admin_node(p, ADM_DROP_SERVER), *name;

	if (a == NULL)
		return NULL;
	if (TOK(p)->kind == LEX_STRING)
		name = parser_string_lit(p);
	else if (parser_is_punct(p, 0, "$"))
		name = parser_atom(p);
	else
		return parser_fail(p, "a server name (a string or parameter)");
	if (name == NULL || !parser_add(p, a, name))
		return NULL;
	return p->failed ? NULL : a;
}

static struct ast *drop_admin(struct parser *p)
{
	struct ast *a;

	p->i++;
	if (parser_accept_kw(p, "INDEX"))
		return drop_schema(p, false);
	if (parser_accept_kw(p, "CONSTRAINT"))
		return drop_schema(p, true);
	if (parser_accept_kw(p, "DATABASE"))
		return database_cmd(p, ADM_DROP_DATABASE);
	if (parser_accept_kw(p, "SERVER"))
		return drop_server(p);
	if (parser_accept_kw(p, "USER"))
		a = admin_node(p, ADM_DROP_USER);
	else if (parser_accept_kw(p, "ROLE"))
		a = admin_node(p, ADM_DROP_ROLE);
	else
		return parser_fail(p, "INDEX, CONSTRAINT, DATABASE, USER, ROLE or SERVER");
	if (a == NULL || (a->name = parser_symbol(p, "a name")) == NULL)
		return NULL;
	if_exists(p, a);
	return a;
}

static struct ast *alter_admin(struct parser *p)
{
	struct ast *a = admin_node(p, ADM_ALTER_USER);

	p->i++;
	if (a == NULL)
		return NULL;
	if (parser_accept_kw(p, "CURRENT")) {
		a->op = ADM_ALTER_CURRENT_USER;
		if (!parser_expect_kw(p, "USER") || !parser_expect_kw(p, "SET") ||
		    !parser_expect_kw(p, "PASSWORD") || !parser_expect_kw(p, "FROM") ||
		    !parser_add(p, a, secret(p)) || !parser_expect_kw(p, "TO") ||
		    !parser_add(p, a, secret(p)))
			return NULL;
		return a;
	}
	if (!parser_expect_kw(p, "USER"))
		return NULL;
	a->name = parser_symbol(p, "a user name");
	if (a->name == NULL)
		return NULL;
	if_exists(p, a);
	return user_settings(p, a) ? a : NULL;
}

static struct ast *terminate(struct parser *p)
{
	struct ast *a = admin_node(p, ADM_TERMINATE_TX), *ids;

	p->i++;
	if (a == NULL || (!parser_accept_kw(p, "TRANSACTIONS") &&
			  !parser_expect_kw(p, "TRANSACTION")))
		return NULL;
	ids = parser_node(p, AST_LIST_OF);
	if (ids == NULL)
		return NULL;
	if (!parser_comma_list(p, ids, parser_expr))
		return NULL;
	return parser_add(p, a, ids) ? a : NULL;
}

/* Returns NULL without failing when the statement is not administrative. */
struct ast *parser_admin_statement(struct parser *p)
{
	if (parser_is_kw(p, 0, "SHOW")) {
		p->i++;
		return show(p);
	}
	if (parser_is_kw(p, 0, "CREATE") &&
	    (parser_is_kw(p, 1, "INDEX") || parser_is_kw(p, 1, "CONSTRAINT") ||
	     parser_is_kw(p, 1, "RANGE") || parser_is_kw(p, 1, "BTREE") ||
	     parser_is_kw(p, 1, "DATABASE") || parser_is_kw(p, 1, "USER") ||
	     parser_is_kw(p, 1, "ROLE") || parser_is_kw(p, 1, "OR")))
		return create_admin(p);
	if (parser_is_kw(p, 0, "DROP"))
		return drop_admin(p);
	if (parser_is_kw(p, 0, "ALTER"))
		return alter_admin(p);
	if ((parser_is_kw(p, 0, "START") || parser_is_kw(p, 0, "STOP")) &&
	    parser_is_kw(p, 1, "DATABASE")) {
		uint16_t op = parser_is_kw(p, 0, "START") ? ADM_START_DATABASE
						   : ADM_STOP_DATABASE;
		p->i += 2;
		return database_cmd(p, op);
	}
	if ((parser_is_kw(p, 0, "GRANT") || parser_is_kw(p, 0, "REVOKE")) &&
	    (parser_is_kw(p, 1, "ROLE") || parser_is_kw(p, 1, "ROLES"))) {
		uint16_t op = parser_is_kw(p, 0, "GRANT") ? ADM_GRANT_ROLE
						   : ADM_REVOKE_ROLE;
		p->i++;
		return grant_role(p, op);
	}
	if (parser_is_kw(p, 0, "GRANT") || parser_is_kw(p, 0, "DENY") ||
	    parser_is_kw(p, 0, "REVOKE"))
		return privilege(p);
	if (parser_is_kw(p, 0, "TERMINATE"))
		return terminate(p);
	return NULL;
}
