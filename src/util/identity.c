#include "identity.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "fs.h"

static int is_uuid(const char *s)
{
	for (int i = 0; i < IDENTITY_LEN; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!isxdigit((unsigned char)s[i])) {
			return 0;
		}
	}
	return 1;
}

int graft_identity_new(char out[IDENTITY_LEN + 1])
{
	unsigned char b[16];

	if (RAND_bytes(b, sizeof b) != 1)
		return GRAFT_EIO;
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, IDENTITY_LEN + 1,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
		 b[10], b[11], b[12], b[13], b[14], b[15]);
	return GRAFT_OK;
}

static int paths(const char *data_dir, const char *name, char dir[4096],
		 char path[4200], char *errmsg)
{
	if (graft_path_join(dir, 4096, data_dir, "dbms") != GRAFT_OK ||
	    graft_path_join(path, 4200, dir, name) != GRAFT_OK)
		return graft_errf(errmsg, GRAFT_EINVAL, "data path too long: %s",
				  data_dir);
	return GRAFT_OK;
}

int graft_identity_write(const char *data_dir, const char *name,
			 const char *uuid, char *errmsg)
{
	char dir[4096], path[4200];
	char line[IDENTITY_LEN + 2];
	int rv;

	rv = paths(data_dir, name, dir, path, errmsg);
	if (rv == GRAFT_OK)
		rv = graft_mkdir_p(dir, errmsg);
	if (rv != GRAFT_OK)
		return rv;
	snprintf(line, sizeof line, "%.36s\n", uuid);
	return graft_file_replace(dir, path, line, IDENTITY_LEN + 1, errmsg);
}

int graft_identity_read(const char *data_dir, const char *name,
			char out[IDENTITY_LEN + 1], char *errmsg)
{
	char dir[4096], path[4200], buf[64];
	int fd, rv;
	ssize_t n;

	rv = paths(data_dir, name, dir, path, errmsg);
	if (rv != GRAFT_OK)
		return rv;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return graft_errf(errmsg, GRAFT_ENOTFOUND, "%s does not exist",
				  path);
	if (fd < 0)
		return graft_errf(errmsg, graft_err_from_errno(errno),
				  "cannot read %s: %s", path, strerror(errno));
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n < IDENTITY_LEN || !is_uuid(buf) ||
	    (n > IDENTITY_LEN && buf[IDENTITY_LEN] != '\n')) {
		char what[64];

		/* "server_id" -> "server id" */
		snprintf(what, sizeof what, "%s", name);
		for (char *p = what; *p != '\0'; p++)
			*p = *p == '_' ? ' ' : *p;
		return graft_errf(errmsg, GRAFT_ECORRUPT,
				  "%s does not hold a %s (a UUID); restore it "
				  "from a backup of this server, or remove it to "
				  "give this server a new one",
				  path, what);
	}
	memcpy(out, buf, IDENTITY_LEN);
	out[IDENTITY_LEN] = '\0';
	return GRAFT_OK;
}

int graft_identity_load(const char *data_dir, const char *name,
			char out[IDENTITY_LEN + 1], char *errmsg)
{
	int rv = graft_identity_read(data_dir, name, out, errmsg);

	if (rv != GRAFT_ENOTFOUND)
		return rv;
	if (graft_identity_new(out) != GRAFT_OK)
		return graft_errf(errmsg, GRAFT_EIO,
				  "cannot generate an id for %s: OpenSSL has no "
				  "randomness",
				  name);
	return graft_identity_write(data_dir, name, out, errmsg);
}
