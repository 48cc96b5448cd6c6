#define _XOPEN_SOURCE 700
#include "tck_proc.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

struct tck_proc {
	struct cypher_proc def;
	char *name;
	struct cypher_proc_field *fields; /* inputs, then outputs */
	uint32_t *column;                 /* table column of each field */
	struct graft_value rows;          /* LIST of LIST, table order */
	struct tck_proc *next;
};

static char *trimmed(const char *s, size_t n)
{
	char *d;

	while (n > 0 && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n > 0 && (isspace((unsigned char)s[n - 1]) || s[n - 1] == '?'))
		n--;
	d = strndup(s, n);
	if (d == NULL)
		abort(); /* a test helper: out of memory ends the run */
	return d;
}

/* "a :: INTEGER?, b :: STRING?" (between parentheses at *p) into fields;
 * returns the count, moves *p past the closing parenthesis. */
static uint32_t parse_fields(const char **p, struct tck_proc *pr)
{
	const char *s = strchr(*p, '('), *end = s ? strchr(s, ')') : NULL;
	uint32_t n = 0;

	if (s == NULL || end == NULL) {
		*p = NULL;
		return 0;
	}
	for (s++; s < end;) {
		const char *comma = memchr(s, ',', (size_t)(end - s));
		const char *stop = comma ? comma : end;
		const char *colons = strstr(s, "::");
		struct cypher_proc_field *f;

		if (colons == NULL || colons > stop)
			break;
		pr->fields = realloc(pr->fields, (pr->def.ninputs +
						  pr->def.noutputs + n + 1) *
							 sizeof *pr->fields);
		if (pr->fields == NULL)
			abort();
		f = &pr->fields[pr->def.ninputs + pr->def.noutputs + n++];
		f->name = trimmed(s, (size_t)(colons - s));
		f->type = trimmed(colons + 2, (size_t)(stop - colons - 2));
		s = stop + 1;
	}
	*p = end + 1;
	return n;
}

static bool numeric(const struct graft_value *v)
{
	return v->type == GRAFT_VALUE_INT || v->type == GRAFT_VALUE_FLOAT;
}

static double as_double(const struct graft_value *v)
{
	return v->type == GRAFT_VALUE_INT ? (double)v->u.i : v->u.f;
}

static bool arg_matches(const struct graft_value *want,
			const struct graft_value *got)
{
	if (numeric(want) && numeric(got))
		return as_double(want) == as_double(got);
	return graft_value_equal(want, got);
}

static int emit_row(struct cypher_proc_call *call, const struct tck_proc *pr,
		    const struct graft_value *row)
{
	uint32_t nin = pr->def.ninputs, nout = pr->def.noutputs, i;
	struct graft_value *out = calloc(nout + 1, sizeof *out);
	int rv = GRAFT_OK;

	if (out == NULL)
		return GRAFT_ENOMEM;
	for (i = 0; i < nout && rv == GRAFT_OK; i++)
		rv = graft_value_copy(&out[i], &row[pr->column[nin + i]]);
	if (rv == GRAFT_OK)
		rv = cypher_proc_emit(call, out);
	else
		for (i = 0; i < nout; i++)
			graft_value_free(&out[i]);
	free(out);
	return rv;
}

static int proc_fn(struct cypher_proc_call *call)
{
	const struct tck_proc *pr = call->data;
	const struct graft_list *rows = pr->rows.u.list;
	uint32_t r, i;
	int rv = GRAFT_OK;

	for (r = 0; r < rows->len && rv == GRAFT_OK; r++) {
		const struct graft_value *row = rows->items[r].u.list->items;
		bool match = true;

		for (i = 0; i < pr->def.ninputs && i < call->nargs && match; i++)
			match = arg_matches(&row[pr->column[i]], &call->args[i]);
		if (match)
			rv = emit_row(call, pr, row);
	}
	return rv;
}

/* Header column of each field; -1 if one is missing. */
static int map_columns(struct tck_proc *pr, const struct tck_table *t)
{
	uint32_t n = pr->def.ninputs + pr->def.noutputs, i;
	size_t c;

	pr->column = calloc(n + 1, sizeof *pr->column);
	if (pr->column == NULL)
		abort();
	for (i = 0; i < n; i++) {
		for (c = 0; t->nrows > 0 && c < t->ncols; c++)
			if (strcmp(t->cells[0][c], pr->fields[i].name) == 0)
				break;
		if (t->nrows == 0 || c == t->ncols)
			return -1;
		pr->column[i] = (uint32_t)c;
	}
	return 0;
}

/* The table's value rows as one list literal, evaluated by the engine. */
static int load_rows(struct harness *h, struct tck_proc *pr,
		     const struct tck_table *t, FILE *out)
{
	struct harness_text text = {0};
	struct cypher_error err = {"", ""};
	size_t r, c;

	harness_text_add(&text, "[", 1);
	for (r = 1; r < t->nrows; r++) {
		harness_text_add(&text, r > 1 ? ", [" : "[", r > 1 ? 3 : 1);
		for (c = 0; c < t->ncols; c++)
			harness_text_addf(&text, "%s%s", c ? ", " : "",
					  t->cells[r][c]);
		harness_text_add(&text, "]", 1);
	}
	harness_text_add(&text, "]", 1);
	if (harness_map(h, text.s, &pr->rows, &err) != GRAFT_OK ||
	    pr->rows.type != GRAFT_VALUE_LIST) {
		fprintf(out, "error: procedure table %s: %s ~ %s\n", text.s,
			err.code, err.message);
		free(text.s);
		return -1;
	}
	free(text.s);
	return 0;
}

static void proc_free(struct tck_proc *pr)
{
	uint32_t i;

	for (i = 0; i < pr->def.ninputs + pr->def.noutputs; i++) {
		free((char *)pr->fields[i].name);
		free((char *)pr->fields[i].type);
	}
	free(pr->fields);
	free(pr->column);
	free(pr->name);
	graft_value_free(&pr->rows);
	free(pr);
}

int tck_proc_register(struct harness *h, const char *signature,
		      const struct tck_table *t, struct tck_proc **list,
		      FILE *out)
{
	const char *s = strstr(signature, "procedure "), *paren;
	struct tck_proc *pr = calloc(1, sizeof *pr);

	if (pr == NULL)
		abort();
	pr->rows = graft_value_null();
	s = s ? s + strlen("procedure ") : signature;
	paren = strchr(s, '(');
	pr->name = trimmed(s, paren ? (size_t)(paren - s) : strlen(s));
	pr->def.name = pr->name;
	pr->def.mode = "READ";
	pr->def.description = "a test procedure of the openCypher TCK";
	pr->def.fn = proc_fn;
	pr->def.data = pr;
	pr->def.ninputs = parse_fields(&s, pr);
	if (s != NULL)
		pr->def.noutputs = parse_fields(&s, pr);
	pr->def.inputs = pr->fields;
	pr->def.outputs = pr->fields ? pr->fields + pr->def.ninputs : NULL;
	if (s == NULL || map_columns(pr, t) != 0 ||
	    load_rows(h, pr, t, out) != 0 ||
	    cypher_proc_register(h->engine, &pr->def) != GRAFT_OK) {
		fprintf(out, "error: cannot register %s\n", signature);
		proc_free(pr);
		return -1;
	}
	pr->next = *list;
	*list = pr;
	return 0;
}

void tck_proc_free_all(struct tck_proc *list)
{
	while (list != NULL) {
		struct tck_proc *next = list->next;

		proc_free(list);
		list = next;
	}
}
