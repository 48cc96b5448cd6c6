#define _XOPEN_SOURCE 700
#include "tmpdir.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

char *tmpdir_make(char *out, size_t n, const char *name)
{
	int len = snprintf(out, n, "/tmp/graft-%s-XXXXXX", name);

	if (len < 0 || (size_t)len >= n) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	return mkdtemp(out);
}

static int remove_cb(const char *path, const struct stat *st, int type,
		     struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path);
}

int tmpdir_remove(const char *dir)
{
	return nftw(dir, remove_cb, 16, FTW_DEPTH | FTW_PHYS);
}
