/* glibc malloc tunables (malloc_tune.h). */
#include "malloc_tune.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HUGETLB "glibc.malloc.hugetlb=1"

bool graft_malloc_tune_env(void)
{
	const char *t = getenv("GLIBC_TUNABLES");
	char buf[1024];

	if (t == NULL || t[0] == '\0')
		return setenv("GLIBC_TUNABLES", HUGETLB, 1) == 0;
	if (strstr(t, "glibc.malloc.hugetlb") != NULL ||
	    (size_t)snprintf(buf, sizeof buf, "%s:" HUGETLB, t) >= sizeof buf)
		return false;
	return setenv("GLIBC_TUNABLES", buf, 1) == 0;
}
