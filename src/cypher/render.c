/* Values in Cypher literal syntax, as the tests and the shell show them.
 * Pure: entities are seen through a caller's callbacks (render_tx.c wires
 * the transaction's views), so everything else renders and is tested here
 * without a database. Output is truncated to the buffer; the length needed
 * is returned, as with snprintf. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "func_int.h"
#include "temporal.h"

struct rbuf {
	char *p;
	size_t size, len;
};

static void put_mem(struct rbuf *b, const char *s, size_t n)
{
	if (b->len < b->size) {
		size_t room = b->size - b->len - 1;
		memcpy(b->p + b->len, s, n < room ? n : room);
		b->p[b->len + (n < room ? n : room)] = '\0';
	}
	b->len += n;
}

static void put_s(struct rbuf *b, const char *s)
{
	put_mem(b, s, strlen(s));
}

static void put_f(struct rbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void put_f(struct rbuf *b, const char *fmt, ...)
{
	char tmp[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n > 0)
		put_mem(b, tmp, (size_t)n < sizeof tmp ? (size_t)n
						       : sizeof tmp - 1);
}

int func_shortest_digits(double a, char digits[32], int *exp10)
{
	char *e;
	int nd = 0;

	/* Shortest %.*e that reads back as a. */
	for (int prec = 0; prec < 17; prec++) {
		snprintf(digits, 32, "%.*e", prec, a);
		if (strtod(digits, NULL) == a)
			break;
	}
	e = strchr(digits, 'e');
	*exp10 = atoi(e + 1);
	*e = '\0';
	for (char *p = digits; *p; p++)
		if (*p != '.')
			digits[nd++] = *p;
	digits[nd] = '\0';
	return nd;
}

size_t func_format_double(double d, char *buf, size_t size)
{
	char digits[32], out[64];
	int exp10, nd, k = 0;

	if (isnan(d))
		return (size_t)snprintf(buf, size, "NaN");
	if (isinf(d))
		return (size_t)snprintf(buf, size, d < 0 ? "-Infinity"
							 : "Infinity");
	if (d == 0)
		return (size_t)snprintf(buf, size, signbit(d) ? "-0.0" : "0.0");
	nd = func_shortest_digits(fabs(d), digits, &exp10);
	if (d < 0)
		out[k++] = '-';
	if (exp10 >= -3 && exp10 < 7) {
		/* Plain, as Java prints 0.001 up to 9999999.x. */
		if (exp10 < 0) {
			k += sprintf(out + k, "0.");
			for (int i = -1; i > exp10; i--)
				out[k++] = '0';
			k += sprintf(out + k, "%s", digits);
		} else {
			for (int i = 0; i <= exp10; i++)
				out[k++] = i < nd ? digits[i] : '0';
			k += sprintf(out + k, ".%s",
				     nd > exp10 + 1 ? digits + exp10 + 1 : "0");
		}
	} else {
		k += sprintf(out + k, "%c.%sE%d", digits[0],
			     nd > 1 ? digits + 1 : "0", exp10);
	}
	out[k] = '\0';
	return (size_t)snprintf(buf, size, "%s", out);
}

static void render(struct rbuf *b, const struct cypher_render_entities *e,
		   const struct graft_value *v);

static void put_string(struct rbuf *b, const struct graft_str *s)
{
	size_t from = 0;

	put_s(b, "'");
	for (size_t i = 0; i < s->len; i++) {
		if (s->data[i] != '\'' && s->data[i] != '\\')
			continue;
		put_mem(b, s->data + from, i - from);
		put_s(b, "\\");
		from = i;
	}
	put_mem(b, s->data + from, s->len - from);
	put_s(b, "'");
}

static void put_map_body(struct rbuf *b, const struct cypher_render_entities *e,
			 const struct graft_map *m)
{
	put_s(b, "{");
	for (uint32_t i = 0; i < m->len; i++) {
		if (i > 0)
			put_s(b, ", ");
		put_mem(b, m->entries[i].key->data, m->entries[i].key->len);
		put_s(b, ": ");
		render(b, e, &m->entries[i].value);
	}
	put_s(b, "}");
}

static int str_item_cmp(const void *pa, const void *pb)
{
	const struct graft_value *a = pa, *c = pb;

	return strcmp(a->u.s->data, c->u.s->data);
}

/* ":A:B {p: 1}" with labels sorted, nothing for none. */
static void put_entity_body(struct rbuf *b,
			    const struct cypher_render_entities *e,
			    struct graft_value *labels, struct graft_value *props)
{
	if (labels->type == GRAFT_VALUE_LIST) {
		qsort(labels->u.list->items, labels->u.list->len,
		      sizeof *labels->u.list->items, str_item_cmp);
		for (uint32_t i = 0; i < labels->u.list->len; i++) {
			put_s(b, ":");
			put_s(b, labels->u.list->items[i].u.s->data);
		}
	}
	if (props->type == GRAFT_VALUE_MAP && props->u.map->len > 0) {
		if (labels->type == GRAFT_VALUE_LIST && labels->u.list->len)
			put_s(b, " ");
		put_map_body(b, e, props->u.map);
	}
}

static void put_node(struct rbuf *b, const struct cypher_render_entities *e,
		     uint64_t id)
{
	struct graft_value labels = graft_value_null(), props = labels;

	if (e == NULL || e->node(e->data, id, &labels, &props) != GRAFT_OK) {
		put_f(b, "(#%llu)", (unsigned long long)id);
		return;
	}
	put_s(b, "(");
	put_entity_body(b, e, &labels, &props);
	put_s(b, ")");
	graft_value_free(&labels);
	graft_value_free(&props);
}

static void put_rel(struct rbuf *b, const struct cypher_render_entities *e,
		    uint64_t id, uint64_t *src)
{
	struct graft_value props = graft_value_null();
	const char *name = NULL;
	uint64_t s = 0, d = 0;

	if (e == NULL || e->rel(e->data, id, &name, &s, &d, &props) != GRAFT_OK) {
		put_f(b, "[#%llu]", (unsigned long long)id);
		return;
	}
	if (src != NULL)
		*src = s;
	put_s(b, "[:");
	put_s(b, name ? name : "");
	if (props.type == GRAFT_VALUE_MAP && props.u.map->len > 0) {
		put_s(b, " ");
		put_map_body(b, e, props.u.map);
	}
	put_s(b, "]");
	graft_value_free(&props);
}

/* <(:A)-[:T]->(:B)<-[:U]-()>: a relationship points away from the node
 * before it when that node is its source. */
static void put_path(struct rbuf *b, const struct cypher_render_entities *e,
		     const struct graft_list *l)
{
	put_s(b, "<");
	for (uint32_t i = 0; i < l->len; i++) {
		uint64_t id = (uint64_t)l->items[i].u.i, src = 0;
		struct rbuf tmp;
		bool forward;
		char *rel;
		size_t need;

		if (i % 2 == 0) {
			put_node(b, e, id);
			continue;
		}
		/* The arrow goes before the relationship: render it aside. */
		tmp = (struct rbuf){.p = NULL, .size = 0};
		put_rel(&tmp, e, id, &src);
		need = tmp.len + 1;
		rel = malloc(need);
		tmp = (struct rbuf){.p = rel, .size = rel ? need : 0};
		put_rel(&tmp, e, id, &src);
		forward = src == (uint64_t)l->items[i - 1].u.i;
		put_s(b, forward ? "-" : "<-");
		put_s(b, rel ? rel : "[?]");
		put_s(b, forward ? "->" : "-");
		free(rel);
	}
	put_s(b, ">");
}

static const char *ext_name(uint8_t type)
{
	switch (type) {
	case GRAFT_VALUE_DATE: return "date";
	case GRAFT_VALUE_LOCALTIME: return "localtime";
	case GRAFT_VALUE_TIME: return "time";
	case GRAFT_VALUE_LOCALDATETIME: return "localdatetime";
	case GRAFT_VALUE_DATETIME: return "datetime";
	default: return "duration";
	}
}

static void put_double(struct rbuf *b, double d)
{
	char tmp[48];

	func_format_double(d, tmp, sizeof tmp);
	put_s(b, tmp);
}

static void put_point(struct rbuf *b, const struct graft_ext *x)
{
	put_f(b, "point({srid: %u, x: ", x->srid);
	put_double(b, x->x);
	put_s(b, ", y: ");
	put_double(b, x->y);
	if (x->dims == 3) {
		put_s(b, ", z: ");
		put_double(b, x->z);
	}
	put_s(b, "})");
}

static void render(struct rbuf *b, const struct cypher_render_entities *e,
		   const struct graft_value *v)
{
	char tmp[160];

	switch (v->type) {
	case GRAFT_VALUE_NULL:
		put_s(b, "null");
		return;
	case GRAFT_VALUE_BOOL:
		put_s(b, v->u.b ? "true" : "false");
		return;
	case GRAFT_VALUE_INT:
		put_f(b, "%lld", (long long)v->u.i);
		return;
	case GRAFT_VALUE_FLOAT:
		put_double(b, v->u.f);
		return;
	case GRAFT_VALUE_STRING:
		put_string(b, v->u.s);
		return;
	case GRAFT_VALUE_BYTES:
		put_f(b, "<BYTES len=%u>", v->u.s->len);
		return;
	case GRAFT_VALUE_LIST:
		put_s(b, "[");
		for (uint32_t i = 0; i < v->u.list->len; i++) {
			if (i > 0)
				put_s(b, ", ");
			render(b, e, &v->u.list->items[i]);
		}
		put_s(b, "]");
		return;
	case GRAFT_VALUE_MAP:
		put_map_body(b, e, v->u.map);
		return;
	case GRAFT_VALUE_POINT:
		put_point(b, v->u.x);
		return;
	case GRAFT_VALUE_NODE:
		put_node(b, e, (uint64_t)v->u.i);
		return;
	case GRAFT_VALUE_REL:
		put_rel(b, e, (uint64_t)v->u.i, NULL);
		return;
	case GRAFT_VALUE_PATH:
		put_path(b, e, v->u.list);
		return;
	default:
		temporal_format(v, tmp, sizeof tmp);
		put_f(b, "%s('%s')", ext_name(v->type), tmp);
		return;
	}
}

size_t cypher_render_with(const struct cypher_render_entities *e,
			  const struct graft_value *v, char *buf, size_t size)
{
	struct rbuf b = {.p = buf, .size = size};

	if (size > 0)
		buf[0] = '\0';
	render(&b, e, v);
	return b.len;
}
