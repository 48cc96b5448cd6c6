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
	if (parser_is_punct(p, 0, "{"))
		return parser_add(p, owner, parser_map_literal(p)) ? owner : NULL;
	if (parser_is_punct(p, 0, "$")) {
		struct ast *a = parser_atom(p);

		return parser_add(p, owner, a) ? owner : NULL;
	}
	return owner;
}

static struct ast *node_pattern(struct parser *p)
{
	struct ast *a = parser_node(p, AST_NODE_PAT), *labels;

	if (a == NULL || !parser_expect(p, "("))
		return NULL;
	if (parser_is_symbol(p, 0)) {
		a->name = parser_symbol(p, "a variable");
		if (a->name == NULL)
			return NULL;
	}
	labels = parser_node(p, AST_LIST_OF);
	if (labels == NULL || parser_label_list(p, labels) == NULL ||
	    !parser_add(p, a, labels))
		return NULL;
	if (properties_opt(p, a) == NULL)
		return NULL;
	if (a->n == 1)
		parser_add(p, a, NULL);
	if (parser_accept_kw(p, "WHERE")) {
		/* inline WHERE: kept as a third kid */
		if (!parser_add(p, a, parser_expr(p)))
			return NULL;
	}
	if (!parser_expect(p, ")"))
		return NULL;
	return a;
}

static bool range_bound(struct parser *p, int64_t *out)
{
	if (TOK(p)->kind != LEX_INT)
		return false;
	*out = strtoll(parser_tok_text(p, TOK(p)), NULL, 10);
	p->i++;
	return true;
}

static struct ast *rel_detail(struct parser *p, struct ast *a)
{
	struct ast *types = parser_node(p, AST_LIST_OF);

	if (types == NULL)
		return NULL;
	if (parser_is_symbol(p, 0)) {
		a->name = parser_symbol(p, "a variable");
		if (a->name == NULL)
			return NULL;
	}
	if (parser_accept_punct(p, ":")) {
		do {
			parser_accept_punct(p, ":");
			if (!parser_add(p, types, parser_name_node(p, "a relationship type")))
				return NULL;
		} while (parser_accept_punct(p, "|"));
	}
	if (!parser_add(p, a, types))
		return NULL;
	if (parser_accept_punct(p, "*")) {
		a->flags |= AST_F_VARLEN;
		if (range_bound(p, &a->min)) {
			if (!parser_accept_punct(p, ".."))
				a->max = a->min;
			else
				range_bound(p, &a->max);
		} else if (parser_accept_punct(p, "..")) {
			range_bound(p, &a->max);
		}
		if (a->min < 0)
			a->min = 1;
	}
	if (properties_opt(p, a) == NULL)
		return NULL;
	if (a->n == 1)
		parser_add(p, a, NULL);
	if (parser_accept_kw(p, "WHERE") && !parser_add(p, a, parser_expr(p)))
		return NULL;
	return parser_expect(p, "]") ? a : NULL;
}

static struct ast *rel_pattern(struct parser *p)
{
	struct ast *a = parser_node(p, AST_REL_PAT);
	bool left = false, right = false;

	if (a == NULL)
		return NULL;
	if (parser_accept_punct(p, "<-")) {
		left = true;
	} else if (!parser_expect(p, "-")) {
		return NULL;
	}
	if (parser_accept_punct(p, "[")) {
		if (rel_detail(p, a) == NULL)
			return NULL;
	} else {
		struct ast *types = parser_node(p, AST_LIST_OF);

		if (types == NULL || !parser_add(p, a, types))
			return NULL;
		parser_add(p, a, NULL);
	}
	if (parser_accept_punct(p, "->"))
		right = true;
	else if (!parser_expect(p, "-"))
		return NULL;
	/* <--> is the same as -- */
	a->op = left == right ? AST_DIR_BOTH : left ? AST_DIR_IN : AST_DIR_OUT;
	return a;
}

struct ast *parser_path_pattern(struct parser *p)
{
	struct ast *a = parser_node(p, AST_PATH);

	if (a == NULL || !parser_enter(p))
		return NULL;
	if (parser_is_symbol(p, 0) && parser_is_punct(p, 1, "=")) {
		a->name = parser_symbol(p, "a path variable");
		p->i++;
	}
	if (parser_is_kw(p, 0, "shortestPath") || parser_is_kw(p, 0, "allShortestPaths")) {
		p->depth--;
		return parser_fail(p, "a pattern (shortestPath is not supported yet)");
	}
	if (!parser_add(p, a, node_pattern(p))) {
		p->depth--;
		return NULL;
	}
	while (parser_is_punct(p, 0, "-") || parser_is_punct(p, 0, "<-")) {
		if (!parser_add(p, a, rel_pattern(p)) || !parser_add(p, a, node_pattern(p))) {
			p->depth--;
			return NULL;
		}
	}
	parser_set_end(p, a);
	p->depth--;
	return a;
}

struct ast *parser_pattern(struct parser *p)
{
	struct ast *a = parser_node(p, AST_PATTERN);

	if (a == NULL)
		return NULL;
	if (!parser_comma_list(p, a, parser_path_pattern))
		return NULL;
	return a;
}
