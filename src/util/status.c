#include "status.h"

#include <string.h>

static const struct {
	const char *code;
	enum graft_status_class cls;
} statuses[GRAFT_STATUS_COUNT] = {
#define GRAFT_STATUS_ROW(value, class, text)                                   \
	[value] = { .code = text, .cls = GRAFT_STATUS_CLASS_##class },
	GRAFT_STATUSES(GRAFT_STATUS_ROW)
#undef GRAFT_STATUS_ROW
};

const char *graft_status_code(enum graft_status s)
{
	if ((unsigned)s >= GRAFT_STATUS_COUNT)
		s = GRAFT_STATUS_UNKNOWN_ERROR;
	return statuses[s].code;
}

enum graft_status_class graft_status_class(enum graft_status s)
{
	if ((unsigned)s >= GRAFT_STATUS_COUNT)
		s = GRAFT_STATUS_UNKNOWN_ERROR;
	return statuses[s].cls;
}

bool graft_status_is(const char *code, enum graft_status s)
{
	return code != NULL && strcmp(code, graft_status_code(s)) == 0;
}
