/* The parser's clauses: MATCH, WITH, RETURN, UNWIND, the writing
 * clauses, CALL (procedures and subqueries), FOREACH and UNION. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parser_int.h"

/* Clauses --------------------------------------------------------------- */

struct ast *where_opt(struct parser *p)
{
	if (!accept_kw(p, "WHERE"))
		return NULL;
	return expr(p);
}

static struct ast *clause(struct parser *p);

static struct ast *projection_item(struct parser *p)
{
	struct ast *it = node(p, AST_ITEM), *e;

	if (it == NULL)
		return NULL;
	e = expr(p);
	if (!add(p, it, e))
		return NULL;
	set_end(p, it); /* the item's text, parentheses included */
	if (accept_kw(p, "AS")) {
		it->name = symbol(p, "an alias");
		if (it->name == NULL)
			return NULL;
	}
	return it;
}

static struct ast *order_by(struct parser *p)
{
	struct ast *a = node(p, AST_LIST_OF);

	if (a == NULL || !expect_kw(p, "BY"))
		return NULL;
	do {
		struct ast *s = node(p, AST_SORT_ITEM);

		if (s == NULL || !add(p, s, expr(p)))
			return NULL;
		if (accept_kw(p, "DESC") || accept_kw(p, "DESCENDING"))
			s->flags |= AST_F_DESC;
		else if (!accept_kw(p, "ASC"))
			accept_kw(p, "ASCENDING");
		if (!add(p, a, s))
			return NULL;
	} while (accept_p(p, ","));
	return a;
}

/* WITH / RETURN: kids items, order, skip, limit, where (NULL when absent). */
struct ast *parse_projection(struct parser *p, uint16_t kind)
{
	struct ast *a = node(p, kind), *items;
	struct ast *order = NULL, *skip = NULL, *limit = NULL, *where = NULL;

	if (a == NULL)
		return NULL;
	p->i++;
	if (accept_kw(p, "DISTINCT"))
		a->flags |= AST_F_DISTINCT;
	items = node(p, AST_LIST_OF);
	if (items == NULL)
		return NULL;
	if (accept_p(p, "*")) {
		a->flags |= AST_F_STAR;
		if (!accept_p(p, ","))
			goto tail;
	}
	if (!comma_list(p, items, projection_item))
		return NULL;
tail:
	if (accept_kw(p, "ORDER") && (order = order_by(p)) == NULL)
		return NULL;
	if (accept_kw(p, "SKIP") || accept_kw(p, "OFFSET")) {
		a->flags |= AST_F_HAS_SKIP;
		if ((skip = expr(p)) == NULL)
			return NULL;
	}
	if (accept_kw(p, "LIMIT")) {
		a->flags |= AST_F_HAS_LIMIT;
		if ((limit = expr(p)) == NULL)
			return NULL;
	}
	if (kind == AST_WITH && accept_kw(p, "WHERE") &&
	    (where = expr(p)) == NULL)
		return NULL;
	add(p, a, items);
	add(p, a, order);
	add(p, a, skip);
	add(p, a, limit);
	add(p, a, where);
	return a;
}

static struct ast *set_item(struct parser *p)
{
	struct ast *target = postfix(p), *a;

	if (target == NULL)
		return NULL;
	if (target->kind == AST_LABEL_TEST) {
		target->kind = AST_SET_LABELS;
		return target;
	}
	if (target->kind == AST_PROP) {
		a = node(p, AST_SET_PROP);
		if (a == NULL || !add(p, a, target) || !expect(p, "="))
			return NULL;
	} else if (target->kind == AST_VAR) {
		a = node(p, AST_SET_ALL);
		if (a == NULL || !add(p, a, target))
			return NULL;
		if (accept_p(p, "+="))
			a->flags |= AST_F_MERGE;
		else if (!expect(p, "="))
			return NULL;
	} else {
		return fail(p, "a property, a variable or labels to set");
	}
	a->pos = target->pos;
	return add(p, a, expr(p)) ? a : NULL;
}

static struct ast *set_clause(struct parser *p)
{
	struct ast *a = node(p, AST_SET);

	if (a == NULL)
		return NULL;
	if (!comma_list(p, a, set_item))
		return NULL;
	return a;
}

static struct ast *remove_clause(struct parser *p)
{
	struct ast *a = node(p, AST_REMOVE);

	if (a == NULL)
		return NULL;
	p->i++;
	do {
		struct ast *t = postfix(p);

		if (t == NULL)
			return NULL;
		if (t->kind == AST_LABEL_TEST)
			t->kind = AST_REMOVE_LABELS;
		else if (t->kind == AST_PROP) {
			struct ast *r = node(p, AST_REMOVE_PROP);

			if (r == NULL || !add(p, r, t))
				return NULL;
			r->pos = t->pos;
			t = r;
		} else {
			return fail(p, "a property or labels to remove");
		}
		if (!add(p, a, t))
			return NULL;
	} while (accept_p(p, ","));
	return a;
}

static struct ast *merge_clause(struct parser *p)
{
	struct ast *a = node(p, AST_MERGE), *pat, *on_create = NULL,
		   *on_match = NULL;

	if (a == NULL)
		return NULL;
	p->i++;
	pat = node(p, AST_PATTERN);
	if (pat == NULL || !add(p, pat, path_pattern(p)) || !add(p, a, pat))
		return NULL;
	while (is_kw(p, 0, "ON")) {
		struct ast **slot;

		p->i++;
		if (accept_kw(p, "CREATE"))
			slot = &on_create;
		else if (accept_kw(p, "MATCH"))
			slot = &on_match;
		else
			return fail(p, "CREATE or MATCH after ON");
		if (!expect_kw(p, "SET"))
			return NULL;
		struct ast *s = set_clause(p);
		if (s == NULL)
			return NULL;
		if (*slot == NULL) {
			*slot = s;
		} else {
			for (uint32_t i = 0; i < s->n; i++)
				if (!add(p, *slot, s->kids[i]))
					return NULL;
		}
	}
	add(p, a, on_create);
	add(p, a, on_match);
	return a;
}

static struct ast *delete_clause(struct parser *p)
{
	struct ast *a = node(p, AST_DELETE);

	if (a == NULL)
		return NULL;
	if (accept_kw(p, "DETACH"))
		a->flags |= AST_F_DETACH;
	else
		accept_kw(p, "NODETACH");
	if (!expect_kw(p, "DELETE"))
		return NULL;
	if (!comma_list(p, a, expr))
		return NULL;
	return a;
}

static struct ast *foreach_clause(struct parser *p)
{
	struct ast *a = keyword_paren(p, AST_FOREACH);

	if (a == NULL)
		return NULL;
	a->name = symbol(p, "a variable");
	if (a->name == NULL || !expect_kw(p, "IN") || !add(p, a, expr(p)) ||
	    !expect(p, "|"))
		return NULL;
	do {
		if (!add(p, a, clause(p)))
			return NULL;
	} while (!is_punct(p, 0, ")") && TOK(p)->kind != LEX_END);
	return expect(p, ")") ? a : NULL;
}

static struct ast *procedure_name(struct parser *p, struct ast *a)
{
	char name[256];
	size_t o = 0;

	do {
		const char *s = symbol(p, "a procedure name");

		if (s == NULL)
			return NULL;
		o += (size_t)snprintf(name + o, sizeof name - o, "%s%s",
				      o ? "." : "", s);
		if (o >= sizeof name)
			return fail(p, "a shorter procedure name");
	} while (accept_p(p, "."));
	a->name = ast_arena_strndup(&p->st->arena, name, o);
	return a->name ? a : oom(p);
}

static struct ast *yield_items(struct parser *p, struct ast *a)
{
	struct ast *items = node(p, AST_LIST_OF);

	if (items == NULL)
		return NULL;
	if (accept_p(p, "*")) {
		a->flags |= AST_F_STAR;
		return items;
	}
	do {
		struct ast *it = node(p, AST_ITEM), *v = node(p, AST_VAR);

		if (it == NULL || v == NULL)
			return NULL;
		v->name = symbol(p, "a field to yield");
		if (v->name == NULL || !add(p, it, v))
			return NULL;
		if (accept_kw(p, "AS")) {
			it->name = symbol(p, "an alias");
			if (it->name == NULL)
				return NULL;
		}
		if (!add(p, items, it))
			return NULL;
	} while (accept_p(p, ","));
	return items;
}

static struct ast *call_clause(struct parser *p)
{
	struct ast *a;

	p->i++;
	if (is_punct(p, 0, "{") || is_punct(p, 0, "(")) {
		a = node(p, AST_SUBQUERY);
		if (a == NULL)
			return NULL;
		if (accept_p(p, "(")) {
			/* CALL (x, y) { ... }: importing variables */
			struct ast *imports = node(p, AST_LIST_OF);

			if (imports == NULL)
				return NULL;
			if (!accept_p(p, "*")) {
				while (!is_punct(p, 0, ")")) {
					if (!add(p, imports,
						 name_node(p, "a variable")))
						return NULL;
					if (!accept_p(p, ","))
						break;
				}
			} else {
				a->flags |= AST_F_STAR;
			}
			if (!expect(p, ")"))
				return NULL;
			a->flags |= AST_F_EXPLICIT_ARGS;
			a->plan = imports;
		}
		if (!expect(p, "{") || !add(p, a, statement_body(p)) ||
		    !expect(p, "}"))
			return NULL;
		if (is_kw(p, 0, "IN") && is_kw(p, 1, "TRANSACTIONS"))
			return fail(p, "the end of CALL { } (IN TRANSACTIONS is not supported yet)");
		return a;
	}
	a = node(p, AST_CALL);
	if (a == NULL || procedure_name(p, a) == NULL)
		return NULL;
	if (accept_p(p, "(")) {
		struct ast *args = node(p, AST_LIST_OF);

		if (args == NULL)
			return NULL;
		if (!accept_p(p, ")")) {
			if (!comma_list(p, args, expr))
				return NULL;
			if (!expect(p, ")"))
				return NULL;
		}
		add(p, a, args);
	} else {
		add(p, a, NULL);
	}
	if (accept_kw(p, "YIELD")) {
		if (!add(p, a, yield_items(p, a)))
			return NULL;
		add(p, a, where_opt(p));
	} else {
		add(p, a, NULL);
		add(p, a, NULL);
	}
	return p->failed ? NULL : a;
}

static struct ast *clause(struct parser *p)
{
	struct ast *a;

	if (!enter(p))
		return NULL;
	if (is_kw(p, 0, "MATCH") || is_kw(p, 0, "OPTIONAL")) {
		a = node(p, AST_MATCH);
		if (a && accept_kw(p, "OPTIONAL"))
			a->flags |= AST_F_OPTIONAL;
		if (a && (!expect_kw(p, "MATCH") || !add(p, a, pattern(p))))
			a = NULL;
		if (a)
			add(p, a, where_opt(p));
	} else if (is_kw(p, 0, "UNWIND")) {
		a = node(p, AST_UNWIND);
		p->i++;
		if (a && (!add(p, a, expr(p)) || !expect_kw(p, "AS") ||
			  (a->name = symbol(p, "a variable")) == NULL))
			a = NULL;
	} else if (is_kw(p, 0, "WITH")) {
		a = parse_projection(p, AST_WITH);
	} else if (is_kw(p, 0, "RETURN")) {
		a = parse_projection(p, AST_RETURN);
	} else if (is_kw(p, 0, "CREATE")) {
		a = node(p, AST_CREATE);
		p->i++;
		if (a && !add(p, a, pattern(p)))
			a = NULL;
	} else if (is_kw(p, 0, "MERGE")) {
		a = merge_clause(p);
	} else if (is_kw(p, 0, "SET")) {
		p->i++;
		a = set_clause(p);
	} else if (is_kw(p, 0, "REMOVE")) {
		a = remove_clause(p);
	} else if (is_kw(p, 0, "DELETE") || is_kw(p, 0, "DETACH") ||
		   is_kw(p, 0, "NODETACH")) {
		a = delete_clause(p);
	} else if (is_kw(p, 0, "FOREACH")) {
		a = foreach_clause(p);
	} else if (is_kw(p, 0, "CALL")) {
		a = call_clause(p);
	} else if (is_kw(p, 0, "USE")) {
		a = node(p, AST_USE);
		p->i++;
		if (a) {
			char name[256];
			size_t o = 0;

			do {
				const char *s = symbol(p, "a database name");

				if (s == NULL)
					break;
				o += (size_t)snprintf(name + o, sizeof name - o,
						      "%s%s", o ? "." : "", s);
			} while (o < sizeof name && accept_p(p, "."));
			a->name = p->failed ? NULL
					    : ast_arena_strndup(&p->st->arena,
								name, o);
			if (a->name == NULL)
				a = NULL;
		}
	} else if (is_kw(p, 0, "LOAD")) {
		a = fail(p, "a clause (LOAD CSV is not supported yet)");
	} else {
		a = fail(p, "a clause: MATCH, OPTIONAL MATCH, WITH, RETURN, UNWIND, CREATE, MERGE, SET, REMOVE, DELETE, DETACH DELETE, FOREACH, CALL or USE");
	}
	p->depth--;
	return p->failed ? NULL : a;
}

static bool ends_single(struct parser *p)
{
	return TOK(p)->kind == LEX_END || is_punct(p, 0, ";") ||
	       is_punct(p, 0, "}") || is_kw(p, 0, "UNION");
}

static struct ast *single_query(struct parser *p)
{
	struct ast *a = node(p, AST_SINGLE);

	if (a == NULL)
		return NULL;
	do {
		if (!add(p, a, clause(p)))
			return NULL;
	} while (!ends_single(p));
	return a;
}

struct ast *statement_body(struct parser *p)
{
	struct ast *a = single_query(p);

	if (!enter(p))
		return NULL;
	int kind = -1; /* UNION and UNION ALL do not mix */

	while (a != NULL && is_kw(p, 0, "UNION")) {
		uint16_t flags = 0;

		p->i++;
		if (accept_kw(p, "ALL"))
			flags = AST_F_ALL;
		else
			accept_kw(p, "DISTINCT");
		if (kind >= 0 && kind != flags) {
			p->depth--;
			return fail(p, "the same kind of UNION throughout (UNION and UNION ALL cannot be mixed)");
		}
		kind = flags;
		a = binary(p, AST_UNION, 0, a, single_query(p));
		if (a)
			a->flags |= flags;
	}
	p->depth--;
	return a;
}
