/* The syntax tree of one Cypher statement, produced by the parser and
 * annotated by the planner (variable slots). Every node lives in the
 * statement's arena and is freed with it, so the tree has no owners. */
#ifndef GRAFT_CYPHER_AST_H
#define GRAFT_CYPHER_AST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../util/value.h"

/* A bump allocator: the statement's tree and its strings. */
struct ast_arena {
	struct ast_arena_block *head;
};
/* Zeroed; NULL on ENOMEM. */
void *ast_arena_alloc(struct ast_arena *a, size_t size);
char *ast_arena_strndup(struct ast_arena *a, const char *s, size_t len);
void ast_arena_free(struct ast_arena *a);

enum ast_kind {
	/* statements */
	AST_UNION,       /* kids: left, right; flags AST_F_ALL */
	AST_SINGLE,      /* kids: clauses */
	AST_EXPLAIN,     /* kids: statement; flags AST_F_PROFILE */
	/* clauses */
	AST_MATCH,       /* kids: pattern, where?; AST_F_OPTIONAL */
	AST_UNWIND,      /* kids: expr; name */
	AST_WITH,        /* kids: items, order?, skip?, limit?, where?;
			  * AST_F_DISTINCT, AST_F_STAR */
	AST_RETURN,      /* as WITH */
	AST_CREATE,      /* kids: pattern */
	AST_MERGE,       /* kids: pattern(one path), on-create SET?, on-match SET? */
	AST_SET,         /* kids: set items */
	AST_REMOVE,      /* kids: remove items */
	AST_DELETE,      /* kids: exprs; AST_F_DETACH */
	AST_FOREACH,     /* kids: list expr, clauses...; name */
	AST_CALL,        /* kids: args list? (NULL: implicit), yield items?,
			  * where?; name: procedure; AST_F_STAR (YIELD *) */
	AST_SUBQUERY,    /* kids: statement; CALL { ... } */
	AST_USE,         /* name: database */
	AST_LOAD_CSV,    /* unsupported, recognised for a clear error */
	/* schema and administration */
	AST_ADMIN,       /* op: enum ast_admin; kids/names per op */
	/* pattern */
	AST_PATTERN,     /* kids: paths */
	AST_PATH,        /* kids: node, rel, node, ...; name: path variable */
	AST_NODE_PAT,    /* kids: labels (AST_NAME...), props?; name */
	AST_REL_PAT,     /* kids: types (AST_NAME...), props?; name; op: dir;
			  * min/max for variable length; AST_F_VARLEN */
	/* items */
	AST_ITEM,        /* kids: expr; name: alias (NULL: text of expr) */
	AST_SORT_ITEM,   /* kids: expr; AST_F_DESC */
	AST_SET_PROP,    /* kids: target expr (PROP), value */
	AST_SET_ALL,     /* kids: var, map; AST_F_MERGE for += */
	AST_SET_LABELS,  /* kids: var, labels (AST_NAME...) */
	AST_REMOVE_PROP, /* kids: PROP expr */
	AST_REMOVE_LABELS, /* kids: var, labels */
	AST_NAME,        /* name */
	AST_LIST_OF,     /* kids: anything (a grouping) */
	/* expressions */
	AST_LIT,         /* v */
	AST_PARAM,       /* name */
	AST_VAR,         /* name; slot */
	AST_PROP,        /* kids: expr; name: key */
	AST_INDEX,       /* kids: expr, index */
	AST_SLICE,       /* kids: expr, from?, to? */
	AST_BINOP,       /* kids: a, b; op: enum ast_op */
	AST_NOT,
	AST_NEG,
	AST_AND, AST_OR, AST_XOR,
	AST_IS_NULL,     /* AST_F_NOT for IS NOT NULL */
	AST_FUNC,        /* kids: args; name; AST_F_DISTINCT */
	AST_COUNT_STAR,
	AST_LIST,        /* kids: items */
	AST_MAP,         /* kids: AST_ITEM (name: key) */
	AST_MAP_PROJ,    /* kids: var, items: AST_ITEM(key: expr) | AST_PROP
			  * (.key) | AST_VAR (var) | AST_NAME "*" (.*) */
	AST_CASE,        /* kids: test?, when, then, when, then, ..., else?;
			  * AST_F_SIMPLE when test present; AST_F_ELSE */
	AST_LIST_COMP,   /* kids: list, where?, proj?; name: var */
	AST_PATTERN_COMP, /* kids: path, where?, proj */
	AST_QUANT,       /* op: ALL/ANY/NONE/SINGLE; kids: list, where; name */
	AST_REDUCE,      /* kids: init, list, expr; name: acc; name2: var */
	AST_EXISTS,      /* kids: pattern (with where?) or statement */
	AST_COUNT_SUB,   /* kids: pattern or statement */
	AST_COLLECT_SUB, /* kids: statement */
	AST_PATTERN_PRED, /* kids: path */
	AST_LABEL_TEST,  /* kids: expr, labels (AST_NAME...) */
	AST_KIND_COUNT
};

enum ast_op {
	AST_OP_ADD, AST_OP_SUB, AST_OP_MUL, AST_OP_DIV, AST_OP_MOD, AST_OP_POW,
	AST_OP_EQ, AST_OP_NE, AST_OP_LT, AST_OP_GT, AST_OP_LE, AST_OP_GE,
	AST_OP_REGEX, AST_OP_IN, AST_OP_STARTS, AST_OP_ENDS, AST_OP_CONTAINS,
};

/* Label expressions: a node matches when it has every ALL label, at least
 * one ANY label (if there are any) and no NOT label. */
enum ast_label_op { AST_LABEL_ALL = 0, AST_LABEL_ANY = 1, AST_LABEL_NOT = 2 };

enum ast_quant { AST_Q_ALL, AST_Q_ANY, AST_Q_NONE, AST_Q_SINGLE };

enum ast_dir { AST_DIR_BOTH = 0, AST_DIR_OUT = 1, AST_DIR_IN = 2 };

enum ast_flags {
	AST_F_ALL = 1 << 0,
	AST_F_PROFILE = 1 << 1,
	AST_F_OPTIONAL = 1 << 2,
	AST_F_DISTINCT = 1 << 3,
	AST_F_STAR = 1 << 4,
	AST_F_DETACH = 1 << 5,
	AST_F_VARLEN = 1 << 6,
	AST_F_DESC = 1 << 7,
	AST_F_MERGE = 1 << 8,
	AST_F_NOT = 1 << 9,
	AST_F_SIMPLE = 1 << 10,
	AST_F_ELSE = 1 << 11,
	AST_F_IF_EXISTS = 1 << 12,   /* IF EXISTS / IF NOT EXISTS */
	AST_F_OR_REPLACE = 1 << 13,
	AST_F_CHANGE_REQ = 1 << 14,  /* CHANGE REQUIRED */
	AST_F_CHANGE_SET = 1 << 15,  /* CHANGE [NOT] REQUIRED was given */
	AST_F_HAS_SKIP = 1 << 16,
	AST_F_HAS_LIMIT = 1 << 17,
	AST_F_HAS_WHERE = 1 << 18,
	AST_F_HAS_ORDER = 1 << 19,
	AST_F_EXPLICIT_ARGS = 1 << 20,
};

/* Administration and schema commands (AST_ADMIN). */
enum ast_admin {
	ADM_CREATE_INDEX,      /* name?, label, key */
	ADM_DROP_INDEX,        /* name */
	ADM_CREATE_CONSTRAINT, /* name?, label, key */
	ADM_DROP_CONSTRAINT,   /* name */
	ADM_SHOW,              /* name: what ("INDEXES", ...); kids: yield?, where?, return? */
	ADM_CREATE_DATABASE,   /* name */
	ADM_DROP_DATABASE,
	ADM_START_DATABASE,
	ADM_STOP_DATABASE,
	ADM_CREATE_USER,       /* name, password expr; flags */
	ADM_ALTER_USER,        /* name, password expr?; flags; suspended */
	ADM_DROP_USER,
	ADM_ALTER_CURRENT_USER, /* old, new password exprs */
	ADM_CREATE_ROLE,
	ADM_DROP_ROLE,
	ADM_GRANT_ROLE,        /* role, user */
	ADM_REVOKE_ROLE,
	ADM_PRIVILEGE,         /* GRANT/DENY/REVOKE <privilege> ...: text */
	ADM_TERMINATE_TX,      /* kids: ids */
	ADM_DROP_SERVER,       /* kids: the server's name (string or parameter) */
};

struct ast {
	uint16_t kind;
	uint16_t op;
	uint32_t flags;
	uint32_t pos;            /* byte offset in the query text */
	uint32_t end;            /* end offset (for default column names) */
	const char *name;        /* variable, alias, key, function ... */
	const char *name2;
	struct graft_value v;    /* AST_LIT (owned by the tree: freed with it) */
	struct ast **kids;
	uint32_t n;
	int32_t slot;            /* resolved variable slot; -1 none */
	int32_t slot2;
	int64_t min, max;        /* variable length bounds; -1 unbounded */
	void *plan;              /* planner annotation */
};

#endif
