#include "err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

static const char *const messages[] = {
#define GRAFT_ERR_TEXT(name, text) text,
	GRAFT_ERRORS(GRAFT_ERR_TEXT)
#undef GRAFT_ERR_TEXT
};

const char *graft_strerror(int err)
{
	if (err < 0 || err >= GRAFT_ERR_COUNT)
		return "unknown error";
	return messages[err];
}

int graft_errf(char *errmsg, int err, const char *fmt, ...)
{
	va_list ap;

	if (errmsg == NULL)
		return err;
	va_start(ap, fmt);
	vsnprintf(errmsg, GRAFT_ERRMSG_SIZE, fmt, ap);
	va_end(ap);
	return err;
}

int graft_err_from_errno(int e)
{
	switch (e) {
	case 0:
		return GRAFT_OK;
	case ENOMEM:
		return GRAFT_ENOMEM;
	case ENOSPC:
	case EDQUOT:
		return GRAFT_ENOSPC;
	case ENOENT:
		return GRAFT_ENOTFOUND;
	case EEXIST:
		return GRAFT_EEXIST;
	case EADDRINUSE:
		return GRAFT_EADDRINUSE;
	case EINVAL:
		return GRAFT_EINVAL;
	case EROFS:
		return GRAFT_EREADONLY;
	default:
		return GRAFT_EIO;
	}
}
