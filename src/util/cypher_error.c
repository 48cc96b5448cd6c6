#include "cypher_error.h"

#include <stdio.h>

int cypher_error_vset(struct cypher_error *err, enum graft_status status,
		      const char *fmt, va_list ap)
{
	snprintf(err->code, sizeof err->code, "%s", graft_status_code(status));
	vsnprintf(err->message, sizeof err->message, fmt, ap);
	return GRAFT_EINVAL;
}

int cypher_error_set(struct cypher_error *err, enum graft_status status,
		     const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cypher_error_vset(err, status, fmt, ap);
	va_end(ap);
	return GRAFT_EINVAL;
}
