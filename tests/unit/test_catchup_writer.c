/* The file end of a store copy (src/catchup/copy_writer.h): whatever way
 * it writes (buffered, or O_DIRECT on its writer thread, the last block
 * padded then cut), the file holds exactly the bytes handed, at the size
 * announced; a write error on the writer thread fails the copy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "catchup/copy_writer.h"
#include "util/err.h"

/* Not on tmpfs (no O_DIRECT there: the writer would fall back to
 * buffered): beside the build, as the other unit tests' files. */
static char path[4096];

static uint8_t byte_at(uint64_t i)
{
	return (uint8_t)(i * 2654435761u >> 13);
}

/* size bytes handed in pieces of odd sizes, as receives come. */
static void write_file(uint64_t size, uint64_t direct_min, bool want_direct)
{
	struct catchup_writer w;
	char errmsg[GRAFT_ERRMSG_SIZE];
	uint64_t at = 0, drain_us = 0, sync_us = 0;
	int cancelled = 0;

	snprintf(path, sizeof path, "test_catchup_writer.%d.tmp", (int)getpid());
	assert_int_equal(catchup_writer_open(&w, path, size, direct_min,
					     &cancelled, errmsg),
			 GRAFT_OK);
	assert_true(w.direct == want_direct);
	while (at < size) {
		size_t room, k;
		uint8_t *dst = catchup_writer_next(&w, &room, errmsg);

		assert_non_null(dst);
		k = 77777 + (size_t)(at % 3) * 1000;
		k = k < room ? k : room;
		k = k < size - at ? k : (size_t)(size - at);
		for (size_t i = 0; i < k; i++)
			dst[i] = byte_at(at + i);
		assert_int_equal(catchup_writer_filled(&w, k, errmsg), GRAFT_OK);
		at += k;
	}
	assert_int_equal(catchup_writer_finish(&w, &drain_us, &sync_us,
					       errmsg),
			 GRAFT_OK);
	catchup_writer_close(&w);
	catchup_writer_close(&w); /* idempotent */
}

static void check_file(uint64_t size)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	uint64_t i = 0;
	int c;

	assert_non_null(f);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal((uint64_t)st.st_size, size);
	while ((c = fgetc(f)) != EOF) {
		if ((uint8_t)c != byte_at(i))
			fail_msg("byte %llu differs", (unsigned long long)i);
		i++;
	}
	assert_int_equal(i, size);
	fclose(f);
	unlink(path);
}

static void test_catchup_writer_buffered_file_holds_every_byte(void **state)
{
	uint64_t size = 3 * CATCHUP_WRITER_BUF + 12345;

	(void)state;
	write_file(size, size + 1, false);
	check_file(size);
}

static void test_catchup_writer_direct_file_is_cut_to_its_size(void **state)
{
	/* more buffers than the ring holds, and a last block not full */
	uint64_t size = (CATCHUP_WRITER_RING + 3) * (uint64_t)CATCHUP_WRITER_BUF +
			4096 * 3 + 17;

	(void)state;
	write_file(size, 1, true);
	check_file(size);
}

static void test_catchup_writer_direct_empty_file(void **state)
{
	(void)state;
	write_file(0, 0, true);
	check_file(0);
}

/* A write that fails on the writer thread (here: its file descriptor
 * replaced by a read-only one) fails the copy at the receiver's next
 * call or at the finish, never a file reported durable. */
static void test_catchup_writer_direct_write_error_reaches_the_receiver(
	void **state)
{
	struct catchup_writer w;
	char errmsg[GRAFT_ERRMSG_SIZE] = "";
	uint64_t size = (uint64_t)8 * CATCHUP_WRITER_BUF, drain_us, sync_us;
	int cancelled = 0, rv = GRAFT_OK, ro = open("/dev/zero", O_RDONLY);
	size_t room;
	uint8_t *dst;

	(void)state;
	snprintf(path, sizeof path, "test_catchup_writer.%d.tmp", (int)getpid());
	assert_int_equal(catchup_writer_open(&w, path, size, 1, &cancelled,
					     errmsg),
			 GRAFT_OK);
	assert_true(ro >= 0 && dup2(ro, w.fd) == w.fd);
	for (int i = 0; i < 8 && rv == GRAFT_OK; i++) {
		dst = catchup_writer_next(&w, &room, errmsg);
		if (dst == NULL) {
			rv = GRAFT_EIO;
			break;
		}
		memset(dst, 1, room);
		rv = catchup_writer_filled(&w, room, errmsg);
	}
	if (rv == GRAFT_OK)
		rv = catchup_writer_finish(&w, &drain_us, &sync_us, errmsg);
	assert_int_not_equal(rv, GRAFT_OK);
	assert_non_null(strstr(errmsg, "cannot write the store copy"));
	catchup_writer_close(&w);
	close(ro);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_catchup_writer_buffered_file_holds_every_byte),
		cmocka_unit_test(test_catchup_writer_direct_file_is_cut_to_its_size),
		cmocka_unit_test(test_catchup_writer_direct_empty_file),
		cmocka_unit_test(test_catchup_writer_direct_write_error_reaches_the_receiver),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
