/* The parser's patterns: nodes, relationships with types, variable
 * lengths and properties, and named paths. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parser_int.h"

/* Patterns -------------------------------------------------------------- */

static struct ast *properties_opt(struct parser *p, struct ast *owner)
{
	if (is_punct(p, 0, "{"))
		return add(p, owner, map_literal(p)) ? owner : NULL;
	if (is_punct(p, 0, "$")) {
		struct ast *a = atom(p);

		return add(p, owner, a) ? owner : NULL;
	}
	return owner;
}

static struct ast *node_pattern(struct parser *p)
{
	struct ast *a = node(p, AST_NODE_PAT), *labels;

	if (a == NULL || !expect(p, "("))
		return NULL;
	if (is_symbol(p, 0)) {
		a->name = symbol(p, "a variable");
		if (a->name == NULL)
			return NULL;
	}
	labels = node(p, AST_LIST_OF);
	if (labels == NULL || label_list(p, labels) == NULL ||
	    !add(p, a, labels))
		return NULL;
	if (properties_opt(p, a) == NULL)
		return NULL;
	if (a->n == 1)
		add(p, a, NULL);
	if (accept_kw(p, "WHERE")) {
		/* inline WHERE: kept as a third kid */
		if (!add(p, a, expr(p)))
			return NULL;
	}
	if (!expect(p, ")"))
		return NULL;
	return a;
}

static bool range_bound(struct parser *p, int64_t *out)
{
	if (TOK(p)->kind != LEX_INT)
		return false;
	*out = strtoll(tok_text(p, TOK(p)), NULL, 10);
	p->i++;
	return true;
}

static struct ast *rel_detail(struct parser *p, struct ast *a)
{
	struct ast *types = node(p, AST_LIST_OF);

	if (types == NULL)
		return NULL;
	if (is_symbol(p, 0)) {
		a->name = symbol(p, "a variable");
		if (a->name == NULL)
			return NULL;
	}
	if (accept_p(p, ":")) {
		do {
			accept_p(p, ":");
			if (!add(p, types, name_node(p, "a relationship type")))
				return NULL;
		} while (accept_p(p, "|"));
	}
	if (!add(p, a, types))
		return NULL;
	if (accept_p(p, "*")) {
		a->flags |= AST_F_VARLEN;
		if (range_bound(p, &a->min)) {
			if (!accept_p(p, ".."))
				a->max = a->min;
			else
				range_bound(p, &a->max);
		} else if (accept_p(p, "..")) {
			range_bound(p, &a->max);
		}
		if (a->min < 0)
			a->min = 1;
	}
	if (properties_opt(p, a) == NULL)
		return NULL;
	if (a->n == 1)
		add(p, a, NULL);
	if (accept_kw(p, "WHERE") && !add(p, a, expr(p)))
		return NULL;
	return expect(p, "]") ? a : NULL;
}

static struct ast *rel_pattern(struct parser *p)
{
	struct ast *a = node(p, AST_REL_PAT);
	bool left = false, right = false;

	if (a == NULL)
		return NULL;
	if (accept_p(p, "<-")) {
		left = true;
	} else if (!expect(p, "-")) {
		return NULL;
	}
	if (accept_p(p, "[")) {
		if (rel_detail(p, a) == NULL)
			return NULL;
	} else {
		struct ast *types = node(p, AST_LIST_OF);

		if (types == NULL || !add(p, a, types))
			return NULL;
		add(p, a, NULL);
	}
	if (accept_p(p, "->"))
		right = true;
	else if (!expect(p, "-"))
		return NULL;
	/* <--> is the same as -- */
	a->op = left == right ? AST_DIR_BOTH : left ? AST_DIR_IN : AST_DIR_OUT;
	return a;
}

struct ast *path_pattern(struct parser *p)
{
	struct ast *a = node(p, AST_PATH);

	if (a == NULL || !enter(p))
		return NULL;
	if (is_symbol(p, 0) && is_punct(p, 1, "=")) {
		a->name = symbol(p, "a path variable");
		p->i++;
	}
	if (is_kw(p, 0, "shortestPath") || is_kw(p, 0, "allShortestPaths")) {
		p->depth--;
		return fail(p, "a pattern (shortestPath is not supported yet)");
	}
	if (!add(p, a, node_pattern(p))) {
		p->depth--;
		return NULL;
	}
	while (is_punct(p, 0, "-") || is_punct(p, 0, "<-")) {
		if (!add(p, a, rel_pattern(p)) || !add(p, a, node_pattern(p))) {
			p->depth--;
			return NULL;
		}
	}
	set_end(p, a);
	p->depth--;
	return a;
}

struct ast *pattern(struct parser *p)
{
	struct ast *a = node(p, AST_PATTERN);

	if (a == NULL)
		return NULL;
	if (!comma_list(p, a, path_pattern))
		return NULL;
	return a;
}
