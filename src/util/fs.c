#include <config.h> /* _GNU_SOURCE: nftw */

#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"

int graft_mkdir_p(const char *dir, char *errmsg)
{
	char path[4096];
	size_t len = strlen(dir);

	if (len == 0 || len >= sizeof path)
		return graft_errf(errmsg, GRAFT_EINVAL,
				  "directory path '%s' is empty or too long", dir);
	memcpy(path, dir, len + 1);
	for (char *p = path + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(path, 0750) != 0 && errno != EEXIST)
			return graft_errf(errmsg, graft_err_from_errno(errno),
					  "cannot create directory %s: %s", path,
					  strerror(errno));
		*p = c;
		if (c == '\0')
			break;
	}
	return GRAFT_OK;
}

int graft_write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = write(fd, c, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return errno == ENOSPC || errno == EDQUOT ? GRAFT_ENOSPC
								  : GRAFT_EIO;
		}
		c += w;
		n -= (size_t)w;
	}
	return GRAFT_OK;
}

int graft_pread_all(int fd, void *p, size_t n, off_t off)
{
	char *c = p;

	while (n > 0) {
		ssize_t r = pread(fd, c, n, off);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return GRAFT_EIO;
		}
		if (r == 0)
			return GRAFT_ECORRUPT;
		c += r;
		n -= (size_t)r;
		off += r;
	}
	return GRAFT_OK;
}

int graft_fsync_dir(const char *dir, char *errmsg)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY);
	int rv = GRAFT_OK;

	if (fd < 0)
		return graft_errf(errmsg, graft_err_from_errno(errno),
				  "cannot open directory %s: %s", dir,
				  strerror(errno));
	if (fsync(fd) != 0)
		rv = graft_errf(errmsg, GRAFT_EIO, "cannot fsync directory %s: %s",
				dir, strerror(errno));
	close(fd);
	return rv;
}

int graft_file_replace(const char *dir, const char *path, const void *p,
		       size_t n, char *errmsg)
{
	char tmp[4200];
	int fd, rv;

	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp)
		return graft_errf(errmsg, GRAFT_ETOOBIG, "path too long: %s",
				  path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0)
		return graft_errf(errmsg, graft_err_from_errno(errno),
				  "cannot create %s: %s", tmp, strerror(errno));
	rv = graft_write_all(fd, p, n);
	if (rv == GRAFT_OK && fsync(fd) != 0)
		rv = GRAFT_EIO;
	close(fd);
	if (rv == GRAFT_OK && rename(tmp, path) != 0)
		rv = GRAFT_EIO;
	if (rv != GRAFT_OK)
		return graft_errf(errmsg, rv, "cannot write %s: %s", path,
				  strerror(errno));
	return graft_fsync_dir(dir, errmsg);
}

int graft_path_join(char *out, size_t n, const char *a, const char *b)
{
	size_t la = strlen(a);
	int w;

	while (la > 1 && a[la - 1] == '/')
		la--;
	w = snprintf(out, n, "%.*s/%s", (int)la, a, b);
	return w < 0 || (size_t)w >= n ? GRAFT_ETOOBIG : GRAFT_OK;
}

static int remove_entry(const char *path, const struct stat *st, int flag,
			struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

int graft_remove_tree(const char *path)
{
	return nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS) == 0 ||
			       errno == ENOENT
		       ? GRAFT_OK
		       : GRAFT_EIO;
}
