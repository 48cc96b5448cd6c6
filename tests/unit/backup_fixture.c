/* Artifacts as an older graft wrote them (backup_fixture.h): the header
 * layout is artifact.h's. */
#include "backup_fixture.h"

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/buf.h"
#include "util/crc32c.h"
#include "util/err.h"
#include "util/fs.h"

void backup_fixture_strip_id(const char *path)
{
	struct stat st;
	uint8_t *p;
	size_t n;
	int fd = open(path, O_RDWR | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	n = (size_t)st.st_size;
	p = malloc(n);
	assert_non_null(p);
	assert_int_equal(graft_pread_all(fd, p, n, 0), GRAFT_OK);
	graft_put_u32le(p + 12, graft_get_u32le(p + 12) & ~2u); /* the flag */
	memset(p + 56, 0, 8);                                   /* the id */
	graft_put_u32le(p + 508, graft_crc32c(0, p, 508));
	/* the trailer's CRC of header and body */
	graft_put_u32le(p + n - 8, graft_crc32c(0, p, n - 24));
	assert_int_equal(pwrite(fd, p, n, 0), (ssize_t)n);
	close(fd);
	free(p);
}
