/* Request decoding and response framing; see message.h. */
#include "message.h"

#include <string.h>

#include "../pack/pack.h"
#include "../util/err.h"
#include "wire.h"

/* A row of BOLT_REQUESTS as decoding needs it. */
struct request_spec {
	uint8_t sig;
	uint32_t since;
	const char *fields;
	const char *name;
};

static const struct request_spec specs[] = {
#define BOLT_SPEC_ROW(sig, since, fields, name, states, handler)               \
	{sig, since, fields, name},
	BOLT_REQUESTS(BOLT_SPEC_ROW)
#undef BOLT_SPEC_ROW
};

static const struct request_spec *find_spec(uint8_t sig)
{
	for (size_t i = 0; i < sizeof specs / sizeof *specs; i++)
		if (specs[i].sig == sig)
			return &specs[i];
	return NULL;
}

const char *bolt_request_name(uint8_t sig)
{
	const struct request_spec *s = find_spec(sig);

	return s != NULL ? s->name : NULL;
}

static bool field_fits(char kind, const struct graft_value *v)
{
	switch (kind) {
	case 'm':
		return v->type == GRAFT_VALUE_MAP;
	case 's':
		return v->type == GRAFT_VALUE_STRING;
	case 'l':
		return v->type == GRAFT_VALUE_LIST;
	default:
		return v->type == GRAFT_VALUE_INT;
	}
}

void bolt_request_free(struct bolt_request *r)
{
	for (unsigned i = 0; i < r->nfields; i++)
		graft_value_free(&r->f[i]);
	r->nfields = 0;
}

int bolt_request_decode(uint32_t version, const uint8_t *p, size_t n,
			struct bolt_request *out, char *errmsg)
{
	const struct request_spec *s;
	struct pack_reader r;
	unsigned fields;
	int rv;

	out->nfields = 0;
	pack_reader_init(&r, p, n);
	rv = pack_read_struct_header(&r, &fields, &out->sig, errmsg);
	if (rv != GRAFT_OK)
		return rv;
	s = find_spec(out->sig);
	if (s == NULL || version < s->since)
		return graft_errf(errmsg, GRAFT_ECORRUPT,
				  "message 0x%02X is not a request of Bolt "
				  "%u.%u",
				  out->sig, BOLT_MAJOR(version),
				  BOLT_MINOR(version));
	if (fields != strlen(s->fields))
		return graft_errf(errmsg, GRAFT_ECORRUPT,
				  "%s has %u fields, expected %zu", s->name,
				  fields, strlen(s->fields));
	for (; out->nfields < fields; out->nfields++) {
		struct graft_value *f = &out->f[out->nfields];
		rv = pack_read_value(&r, f, errmsg);
		if (rv != GRAFT_OK)
			goto err;
		if (!field_fits(s->fields[out->nfields], f)) {
			out->nfields++;
			rv = graft_errf(errmsg, GRAFT_ECORRUPT,
					"%s field %u has the wrong type",
					s->name, out->nfields);
			goto err;
		}
	}
	if (r.pos == n)
		return GRAFT_OK;
	rv = graft_errf(errmsg, GRAFT_ECORRUPT,
			"%s is followed by %zu unexpected bytes", s->name,
			n - r.pos);
err:
	bolt_request_free(out);
	return rv;
}

const struct graft_value *bolt_field(const struct bolt_request *r,
				     unsigned field, const char *key,
				     uint8_t type)
{
	const struct graft_value *v;

	if (field >= r->nfields || r->f[field].type != GRAFT_VALUE_MAP)
		return NULL;
	v = graft_map_get(r->f[field].u.map, key, strlen(key));
	return v != NULL && v->type == type ? v : NULL;
}

int bolt_response_begin(struct graft_buf *out, uint8_t sig, unsigned fields,
			size_t *start)
{
	int rv = bolt_chunk_begin(out, start);

	return rv != GRAFT_OK ? rv : pack_struct_header(out, fields, sig);
}

int bolt_response_end(struct graft_buf *out, size_t start)
{
	return bolt_chunk_end(out, start);
}

int bolt_write_success_empty(struct graft_buf *out)
{
	size_t start;
	int rv = bolt_response_begin(out, BOLT_SUCCESS, 1, &start);

	if (rv == GRAFT_OK)
		rv = pack_map_header(out, 0);
	return rv != GRAFT_OK ? rv : bolt_response_end(out, start);
}

int bolt_write_failure(struct graft_buf *out, const char *code,
		       const char *message)
{
	size_t start;
	int rv = bolt_response_begin(out, BOLT_FAILURE, 1, &start);

	if (rv == GRAFT_OK)
		rv = pack_map_header(out, 2);
	if (rv == GRAFT_OK)
		rv = pack_cstring(out, "code");
	if (rv == GRAFT_OK)
		rv = pack_cstring(out, code);
	if (rv == GRAFT_OK)
		rv = pack_cstring(out, "message");
	if (rv == GRAFT_OK)
		rv = pack_cstring(out, message);
	return rv != GRAFT_OK ? rv : bolt_response_end(out, start);
}

int bolt_write_ignored(struct graft_buf *out)
{
	size_t start;
	int rv = bolt_response_begin(out, BOLT_IGNORED, 0, &start);

	return rv != GRAFT_OK ? rv : bolt_response_end(out, start);
}
