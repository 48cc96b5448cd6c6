#include "check.h"

#include <stdlib.h>

#include "log.h"

void graft_check_failed(const char *expr, const char *file, int line,
			const char *func)
{
	graft_error("internal check failed: %s (%s:%d, %s); this is a bug in "
		    "graft: stopping before anything is written wrong",
		    expr, file, line, func);
	abort();
}
