/* The parser's clauses: MATCH, WITH, RETURN, UNWIND, the writing
 * clauses, CALL (procedures and subqueries), FOREACH and UNION. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parser_int.h"

/* Clauses --------------------------------------------------------------- */

struct ast *parser_where_opt(struct parser *p)
{
	if (!parser_accept_kw(p, "WHERE"))
		return NULL;
	return parser_expr(p);
}

static struct ast *clause(struct parser *p);

static struct ast *projection_item(struct parser *p)
{
	struct ast *it = parser_node(p, AST_ITEM), *e;

	if (it == NULL)
		return NULL;
	e = parser_expr(p);
	if (!parser_add(p, it, e))
		return NULL;
	parser_set_end(p, it); /* the item's text, parentheses included */
	if (parser_accept_kw(p, "AS")) {
		it->name = parser_symbol(p, "an alias");
		if (it->name == NULL)
			return NULL;
	}
	return it;
}

static struct ast *order_by(struct parser *p)
{
	struct ast *a = parser_node(p, AST_LIST_OF);

	if (a == NULL || !parser_expect_kw(p, "BY"))
		return NULL;
	do {
		struct ast *s = parser_node(p, AST_SORT_ITEM);

		if (s == NULL || !parser_add(p, s, parser_expr(p)))
			return NULL;
		if (parser_accept_kw(p, "DESC") || parser_accept_kw(p, "DESCENDING"))
			s->flags |= AST_F_DESC;
		else if (!parser_accept_kw(p, "ASC"))
			parser_accept_kw(p, "ASCENDING");
		if (!parser_add(p, a, s))
			return NULL;
	} while (parser_accept_punct(p, ","));
	return a;
}

/* WITH / RETURN: kids items, order, skip, limit, where (NULL when absent). */
struct ast *parse_projection(struct parser *p, uint16_t kind)
{
	struct ast *a = parser_node(p, kind), *items;
	struct ast *order = NULL, *skip = NULL, *limit = NULL, *where = NULL;

	if (a == NULL)
		return NULL;
	p->i++;
	if (parser_accept_kw(p, "DISTINCT"))
		a->flags |= AST_F_DISTINCT;
	items = parser_node(p, AST_LIST_OF);
	if (items == NULL)
		return NULL;
	if (parser_accept_punct(p, "*")) {
		a->flags |= AST_F_STAR;
		if (!parser_accept_punct(p, ","))
			goto tail;
	}
	if (!parser_comma_list(p, items, projection_item))
		return NULL;
tail:
	if (parser_accept_kw(p, "ORDER") && (order = order_by(p)) == NULL)
		return NULL;
	if (parser_accept_kw(p, "SKIP") || parser_accept_kw(p, "OFFSET")) {
		a->flags |= AST_F_HAS_SKIP;
		if ((skip = parser_expr(p)) == NULL)
			return NULL;
	}
	if (parser_accept_kw(p, "LIMIT")) {
		a->flags |= AST_F_HAS_LIMIT;
		if ((limit = parser_expr(p)) == NULL)
			return NULL;
	}
	if (kind == AST_WITH && parser_accept_kw(p, "WHERE") &&
	    (where = parser_expr(p)) == NULL)
		return NULL;
	parser_add(p, a, items);
	parser_add(p, a, order);
	parser_add(p, a, skip);
	parser_add(p, a, limit);
	parser_add(p, a, where);
	return a;
}

static struct ast *set_item(struct parser *p)
{
	struct ast *target = parser_postfix(p), *a;

	if (target == NULL)
		return NULL;
	if (target->kind == AST_LABEL_TEST) {
		target->kind = AST_SET_LABELS;
		return target;
	}
	if (target->kind == AST_PROP) {
		a = parser_node(p, AST_SET_PROP);
		if (a == NULL || !parser_add(p, a, target) || !parser_expect(p, "="))
			return NULL;
	} else if (target->kind == AST_VAR) {
		a = parser_node(p, AST_SET_ALL);
		if (a == NULL || !parser_add(p, a, target))
			return NULL;
		if (parser_accept_punct(p, "+="))
			a->flags |= AST_F_MERGE;
		else if (!parser_expect(p, "="))
			return NULL;
	} else {
		return parser_fail(p, "a property, a variable or labels to set");
	}
	a->pos = target->pos;
	return parser_add(p, a, parser_expr(p)) ? a : NULL;
}

static struct ast *set_clause(struct parser *p)
{
	struct ast *a = parser_node(p, AST_SET);

	if (a == NULL)
		return NULL;
	if (!parser_comma_list(p, a, set_item))
		return NULL;
	return a;
}

static struct ast *remove_clause(struct parser *p)
{
	struct ast *a = parser_node(p, AST_REMOVE);

	if (a == NULL)
		return NULL;
	p->i++;
	do {
		struct ast *t = parser_postfix(p);

		if (t == NULL)
			return NULL;
		if (t->kind == AST_LABEL_TEST)
			t->kind = AST_REMOVE_LABELS;
		else if (t->kind == AST_PROP) {
			struct ast *r = parser_node(p, AST_REMOVE_PROP);

			if (r == NULL || !parser_add(p, r, t))
				return NULL;
			r->pos = t->pos;
			t = r;
		} else {
			return parser_fail(p, "a property or labels to remove");
		}
		if (!parser_add(p, a, t))
			return NULL;
	} while (parser_accept_punct(p, ","));
	return a;
}

static struct ast *merge_clause(struct parser *p)
{
	struct ast *a = parser_node(p, AST_MERGE), *pat, *on_create = NULL,
		   *on_match = NULL;

	if (a == NULL)
		return NULL;
	p->i++;
	pat = parser_node(p, AST_PATTERN);
	if (pat == NULL || !parser_add(p, pat, parser_path_pattern(p)) || !parser_add(p, a, pat))
		return NULL;
	while (parser_is_kw(p, 0, "ON")) {
		struct ast **slot;

		p->i++;
		if (parser_accept_kw(p, "CREATE"))
			slot = &on_create;
		else if (parser_accept_kw(p, "MATCH"))
			slot = &on_match;
		else
			return parser_fail(p, "CREATE or MATCH after ON");
		if (!parser_expect_kw(p, "SET"))
			return NULL;
		struct ast *s = set_clause(p);
		if (s == NULL)
			return NULL;
		if (*slot == NULL) {
			*slot = s;
		} else {
			for (uint32_t i = 0; i < s->n; i++)
				if (!parser_add(p, *slot, s->kids[i]))
					return NULL;
		}
	}
	parser_add(p, a, on_create);
	parser_add(p, a, on_match);
	return a;
}

static struct ast *delete_clause(struct parser *p)
{
	struct ast *a = parser_node(p, AST_DELETE);

	if (a == NULL)
		return NULL;
	if (parser_accept_kw(p, "DETACH"))
		a->flags |= AST_F_DETACH;
	else
		parser_accept_kw(p, "NODETACH");
	if (!parser_expect_kw(p, "DELETE"))
		return NULL;
	if (!parser_comma_list(p, a, parser_expr))
		return NULL;
	return a;
}

static struct ast *foreach_clause(struct parser *p)
{
	struct ast *a = parser_keyword_paren(p, AST_FOREACH);

	if (a == NULL)
		return NULL;
	a->name = parser_symbol(p, "a variable");
	if (a->name == NULL || !parser_expect_kw(p, "IN") || !parser_add(p, a, parser_expr(p)) ||
	    !parser_expect(p, "|"))
		return NULL;
	do {
		if (!parser_add(p, a, clause(p)))
			return NULL;
	} while (!parser_is_punct(p, 0, ")") && TOK(p)->kind != LEX_END);
	return parser_expect(p, ")") ? a : NULL;
}

static struct ast *procedure_name(struct parser *p, struct ast *a)
{
	char name[256];
	size_t o = 0;

	do {
		const char *s = parser_symbol(p, "a procedure name");

		if (s == NULL)
			return NULL;
		o += (size_t)snprintf(name + o, sizeof name - o, "%s%s",
				      o ? "." : "", s);
		if (o >= sizeof name)
			return parser_fail(p, "a shorter procedure name");
	} while (parser_accept_punct(p, "."));
	a->name = ast_arena_strndup(&p->st->arena, name, o);
	return a->name ? a : parser_oom(p);
}

static struct ast *yield_items(struct parser *p, struct ast *a)
{
	struct ast *items = parser_node(p, AST_LIST_OF);

	if (items == NULL)
		return NULL;
	if (parser_accept_punct(p, "*")) {
		a->flags |= AST_F_STAR;
		return items;
	}
	do {
		struct ast *it = parser_node(p, AST_ITEM), *v = parser_node(p, AST_VAR);

		if (it == NULL || v == NULL)
			return NULL;
		v->name = parser_symbol(p, "a field to yield");
		if (v->name == NULL || !parser_add(p, it, v))
			return NULL;
		if (parser_accept_kw(p, "AS")) {
			it->name = parser_symbol(p, "an alias");
			if (it->name == NULL)
				return NULL;
		}
		if (!parser_add(p, items, it))
			return NULL;
	} while (parser_accept_punct(p, ","));
	return items;
}

static struct ast *call_clause(struct parser *p)
{
	struct ast *a;

	p->i++;
	if (parser_is_punct(p, 0, "{") || parser_is_punct(p, 0, "(")) {
		a = parser_node(p, AST_SUBQUERY);
		if (a == NULL)
			return NULL;
		if (parser_accept_punct(p, "(")) {
			/* CALL (x, y) { ... }: importing variables */
			struct ast *imports = parser_node(p, AST_LIST_OF);

			if (imports == NULL)
				return NULL;
			if (!parser_accept_punct(p, "*")) {
				while (!parser_is_punct(p, 0, ")")) {
					if (!parser_add(p, imports,
						 parser_name_node(p, "a variable")))
						return NULL;
					if (!parser_accept_punct(p, ","))
						break;
				}
			} else {
				a->flags |= AST_F_STAR;
			}
			if (!parser_expect(p, ")"))
				return NULL;
			a->flags |= AST_F_EXPLICIT_ARGS;
			a->plan = imports;
		}
		if (!parser_expect(p, "{") || !parser_add(p, a, parser_statement_body(p)) ||
		    !parser_expect(p, "}"))
			return NULL;
		if (parser_is_kw(p, 0, "IN") && parser_is_kw(p, 1, "TRANSACTIONS"))
			return parser_fail(p, "the end of CALL { } (IN TRANSACTIONS is not supported yet)");
		return a;
	}
	a = parser_node(p, AST_CALL);
	if (a == NULL || procedure_name(p, a) == NULL)
		return NULL;
	if (parser_accept_punct(p, "(")) {
		struct ast *args = parser_node(p, AST_LIST_OF);

		if (args == NULL)
			return NULL;
		if (!parser_accept_punct(p, ")")) {
			if (!parser_comma_list(p, args, parser_expr))
				return NULL;
			if (!parser_expect(p, ")"))
				return NULL;
		}
		parser_add(p, a, args);
	} else {
		parser_add(p, a, NULL);
	}
	if (parser_accept_kw(p, "YIELD")) {
		if (!parser_add(p, a, yield_items(p, a)))
			return NULL;
		parser_add(p, a, parser_where_opt(p));
	} else {
		parser_add(p, a, NULL);
		parser_add(p, a, NULL);
	}
	return p->failed ? NULL : a;
}

static struct ast *clause(struct parser *p)
{
	struct ast *a;

	if (!parser_enter(p))
		return NULL;
	if (parser_is_kw(p, 0, "MATCH") || parser_is_kw(p, 0, "OPTIONAL")) {
		a = parser_node(p, AST_MATCH);
		if (a && parser_accept_kw(p, "OPTIONAL"))
			a->flags |= AST_F_OPTIONAL;
		if (a && (!parser_expect_kw(p, "MATCH") || !parser_add(p, a, parser_pattern(p))))
			a = NULL;
		if (a)
			parser_add(p, a, parser_where_opt(p));
	} else if (parser_is_kw(p, 0, "UNWIND")) {
		a = parser_node(p, AST_UNWIND);
		p->i++;
		if (a && (!parser_add(p, a, parser_expr(p)) || !parser_expect_kw(p, "AS") ||
			  (a->name = parser_symbol(p, "a variable")) == NULL))
			a = NULL;
	} else if (parser_is_kw(p, 0, "WITH")) {
		a = parse_projection(p, AST_WITH);
	} else if (parser_is_kw(p, 0, "RETURN")) {
		a = parse_projection(p, AST_RETURN);
	} else if (parser_is_kw(p, 0, "CREATE")) {
		a = parser_node(p, AST_CREATE);
		p->i++;
		if (a && !parser_add(p, a, parser_pattern(p)))
			a = NULL;
	} else if (parser_is_kw(p, 0, "MERGE")) {
		a = merge_clause(p);
	} else if (parser_is_kw(p, 0, "SET")) {
		p->i++;
		a = set_clause(p);
	} else if (parser_is_kw(p, 0, "REMOVE")) {
		a = remove_clause(p);
	} else if (parser_is_kw(p, 0, "DELETE") || parser_is_kw(p, 0, "DETACH") ||
		   parser_is_kw(p, 0, "NODETACH")) {
		a = delete_clause(p);
	} else if (parser_is_kw(p, 0, "FOREACH")) {
		a = foreach_clause(p);
	} else if (parser_is_kw(p, 0, "CALL")) {
		a = call_clause(p);
	} else if (parser_is_kw(p, 0, "USE")) {
		a = parser_node(p, AST_USE);
		p->i++;
		if (a) {
			char name[256];
			size_t o = 0;

			do {
				const char *s = parser_symbol(p, "a database name");

				if (s == NULL)
					break;
				o += (size_t)snprintf(name + o, sizeof name - o,
						      "%s%s", o ? "." : "", s);
			} while (o < sizeof name && parser_accept_punct(p, "."));
			a->name = p->failed ? NULL
					    : ast_arena_strndup(&p->st->arena,
								name, o);
			if (a->name == NULL)
				a = NULL;
		}
	} else if (parser_is_kw(p, 0, "LOAD")) {
		a = parser_fail(p, "a clause (LOAD CSV is not supported yet)");
	} else {
		a = parser_fail(p, "a clause: MATCH, OPTIONAL MATCH, WITH, RETURN, UNWIND, CREATE, MERGE, SET, REMOVE, DELETE, DETACH DELETE, FOREACH, CALL or USE");
	}
	p->depth--;
	return p->failed ? NULL : a;
}

static bool ends_single(struct parser *p)
{
	return TOK(p)->kind == LEX_END || parser_is_punct(p, 0, ";") ||
	       parser_is_punct(p, 0, "}") || parser_is_kw(p, 0, "UNION");
}

static struct ast *single_query(struct parser *p)
{
	struct ast *a = parser_node(p, AST_SINGLE);

	if (a == NULL)
		return NULL;
	do {
		if (!parser_add(p, a, clause(p)))
			return NULL;
	} while (!ends_single(p));
	return a;
}

struct ast *parser_statement_body(struct parser *p)
{
	struct ast *a = single_query(p);

	if (!parser_enter(p))
		return NULL;
	int kind = -1; /* UNION and UNION ALL do not mix */

	while (a != NULL && parser_is_kw(p, 0, "UNION")) {
		uint16_t flags = 0;

		p->i++;
		if (parser_accept_kw(p, "ALL"))
			flags = AST_F_ALL;
		else
			parser_accept_kw(p, "DISTINCT");
		if (kind >= 0 && kind != flags) {
			p->depth--;
			return parser_fail(p, "the same kind of UNION throughout (UNION and UNION ALL cannot be mixed)");
		}
		kind = flags;
		a = parser_binary(p, AST_UNION, 0, a, single_query(p));
		if (a)
			a->flags |= flags;
	}
	p->depth--;
	return a;
}
