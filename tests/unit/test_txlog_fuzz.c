/* Seeded random damage to valid transaction-log segments and transaction
 * records: opening, reading and decoding must each end in GRAFT_OK or a
 * clean error with a message, never a crash, a hang or a leak. The same
 * seed gives the same inputs, so a failure reproduces. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "txlog/txlog_int.h"
#include "txlog_fixture.h"
#include "txrec/txrec.h"
#include "util/buf.h"
#include "util/crc32c.h"

#define RECORDS 80
#define LOG_ROUNDS 600
#define REC_ROUNDS 3000

static uint64_t rng(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void random_value(uint64_t *s, unsigned depth, struct graft_value *v)
{
	char text[24] = "bytes\x00\x01\xff";
	unsigned kind = (unsigned)(rng(s) % (depth < 3 ? 8 : 6));
	uint32_t n = (uint32_t)(rng(s) % 4);

	switch (kind) {
	case 0:
		*v = graft_value_null();
		break;
	case 1:
		*v = graft_value_bool(rng(s) & 1);
		break;
	case 2:
		*v = graft_value_int((int64_t)rng(s) >> (rng(s) % 64));
		break;
	case 3:
		*v = graft_value_float((double)(int64_t)rng(s) / 7.0);
		break;
	case 4:
		snprintf(text, sizeof text, "s%llu",
			 (unsigned long long)(rng(s) % 100000));
		assert_int_equal(graft_value_string(v, text, strlen(text)),
				 GRAFT_OK);
		break;
	case 5:
		assert_int_equal(graft_value_bytes(v, text, rng(s) % 8),
				 GRAFT_OK);
		break;
	case 6:
		assert_int_equal(graft_value_list(v, n), GRAFT_OK);
		for (uint32_t i = 0; i < n; i++)
			random_value(s, depth + 1, &v->u.list->items[i]);
		break;
	default:
		assert_int_equal(graft_value_map(v, n), GRAFT_OK);
		for (uint32_t i = 0; i < n; i++) {
			snprintf(text, sizeof text, "k%u",
				 (unsigned)(rng(s) % 9));
			v->u.map->entries[i].key = graft_str_new(text,
								 strlen(text));
			assert_non_null(v->u.map->entries[i].key);
			random_value(s, depth + 1, &v->u.map->entries[i].value);
		}
		graft_map_sort(v->u.map);
		break;
	}
}

static struct graft_str *name(uint64_t *s)
{
	static const char *const names[] = {"Person", "KNOWS", "name", "age",
					    "", "héllo"};
	const char *p = names[rng(s) % 6];
	struct graft_str *g = graft_str_new(p, strlen(p));

	assert_non_null(g);
	return g;
}

/* A random valid record of 0..5 reads and 1..8 ops of any type. */
static void random_record(uint64_t *s, struct graft_buf *out)
{
	struct txrec r;
	unsigned reads = (unsigned)(rng(s) % 6);
	unsigned ops = 1 + (unsigned)(rng(s) % 8);

	txrec_init(&r);
	r.db = name(s);
	r.commit_time_ms = (int64_t)(rng(s) >> 20);
	for (unsigned i = 0; i < reads; i++) {
		enum txrec_entity e = (enum txrec_entity)(rng(s) & 1);
		assert_int_equal(txrec_add_read(&r, e, rng(s) % 1000,
						rng(s) % 50), GRAFT_OK);
	}
	for (unsigned i = 0; i < ops; i++) {
		uint8_t type = (uint8_t)(1 + rng(s) % TXREC_OP_MAX);
		struct txrec_op op = {.type = type, .id = rng(s) % 100000};
		op.value = graft_value_null();
		if (type != TXREC_NODE_CREATE && type != TXREC_NODE_DELETE &&
		    type != TXREC_REL_DELETE)
			op.name = name(s);
		if (type == TXREC_INDEX_CREATE || type == TXREC_INDEX_DROP)
			op.name2 = name(s);
		if (op.type == TXREC_REL_CREATE) {
			op.src = rng(s) % 1000;
			op.dst = rng(s) % 1000;
		}
		if (type == TXREC_NODE_SET_PROP || type == TXREC_REL_SET_PROP)
			random_value(s, 0, &op.value);
		assert_int_equal(txrec_add_op(&r, &op), GRAFT_OK);
	}
	graft_buf_reset(out);
	assert_int_equal(txrec_encode(&r, out), GRAFT_OK);
	txrec_free(&r);
}

static void decode_cleanly(const void *p, size_t n)
{
	char errmsg[GRAFT_ERRMSG_SIZE] = "";
	struct txrec r;
	int rv = txrec_decode(p, n, &r, errmsg);

	if (rv == GRAFT_OK) {
		txrec_free(&r);
		return;
	}
	assert_int_equal(rv, GRAFT_ECORRUPT);
	assert_true(errmsg[0] != '\0');
}

static void test_txlog_fuzz_records_decode_cleanly(void **state)
{
	static const uint8_t huge[] = {0xdd, 0xdf, 0xdb, 0xc6};
	struct graft_buf rec;
	uint64_t seed = 0x243f6a8885a308d3ull;
	uint8_t *m;
	(void)state;

	graft_buf_init(&rec);
	m = malloc(1 << 16);
	assert_non_null(m);
	for (int round = 0; round < REC_ROUNDS; round++) {
		random_record(&seed, &rec);
		assert_true(rec.len < (1 << 15));
		decode_cleanly(rec.data, rec.len);
		size_t n = rec.len;
		memcpy(m, rec.data, n);
		for (unsigned e = 1 + (unsigned)(rng(&seed) % 3); e > 0; e--) {
			size_t at = (size_t)(rng(&seed) % n);
			switch (rng(&seed) % 4) {
			case 0:
				m[at] ^= (uint8_t)(1u << (rng(&seed) % 8));
				break;
			case 1:
				m[at] = (uint8_t)rng(&seed);
				break;
			case 2: /* a marker that claims a huge size */
				m[at] = huge[rng(&seed) % 4];
				break;
			default:
				n = at + 1;
				break;
			}
		}
		decode_cleanly(m, n);
	}
	free(m);
	graft_buf_free(&rec);
}

/* Log damage ------------------------------------------------------------ */

static void noop_cb(struct txlog_append_req *req, int status)
{
	assert_int_equal(status, GRAFT_OK);
	(void)req;
}

/* The template: RECORDS random records in segments of about 1 KiB. */
static void build_template(struct tfx *f, const char *dir)
{
	struct txlog_append_req reqs[RECORDS];
	struct graft_buf rec;
	uint64_t seed = 0x13198a2e03707344ull;
	char errmsg[GRAFT_ERRMSG_SIZE];

	graft_buf_init(&rec);
	f->o.rotation_size = 1024;
	f->o.retention.kind = GRAFT_RETAIN_ALL;
	assert_int_equal(txlog_open(&f->loop, dir, &f->o, &f->log, errmsg),
			 GRAFT_OK);
	for (uint64_t t = 1; t <= RECORDS; t++) {
		random_record(&seed, &rec);
		assert_int_equal(txlog_append(f->log, &reqs[t - 1], t, rec.data,
					      rec.len, noop_cb), GRAFT_OK);
		if (t % 7 == 0) /* batches of different sizes */
			uv_run(&f->loop, UV_RUN_DEFAULT);
	}
	uv_run(&f->loop, UV_RUN_DEFAULT);
	tfx_close(f);
	graft_buf_free(&rec);
}

static size_t list_files(const char *dir, char names[][256], size_t max)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.' && n < max)
			snprintf(names[n++], 256, "%s", e->d_name);
	closedir(d);
	return n;
}

static void spit(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0640);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, p, n), (ssize_t)n);
	close(fd);
}

/* Recomputes the CRC of every whole frame, so that damage inside a record
 * reaches the decoder instead of stopping at the checksum. */
static void recrc(uint8_t *p, size_t n)
{
	const size_t hdr = TXLOG_FRAME_HEADER;

	for (size_t off = TXLOG_HEADER_SIZE; off + hdr <= n;) {
		uint32_t len = graft_get_u32le(p + off);
		if (len == 0 || off + hdr + len > n)
			break;
		graft_put_u32le(p + off + 4, txlog_frame_crc(p + off, hdr, len));
		off += hdr + len;
	}
}

/* One random kind of damage to one copied segment file. */
static void damage(uint64_t *s, const char *dir, const char *file)
{
	char path[512], other[512];
	size_t n, at, len;
	uint8_t *p;

	snprintf(path, sizeof path, "%s/%s", dir, file);
	p = tfx_slurp(path, &n);
	at = n ? (size_t)(rng(s) % n) : 0;
	switch (rng(s) % 11) {
	case 0: /* flip a bit */
		p[at] ^= (uint8_t)(1u << (rng(s) % 8));
		break;
	case 1: /* garbage over a range */
		len = 1 + (size_t)(rng(s) % 64);
		for (size_t i = at; i < at + len && i < n; i++)
			p[i] = (uint8_t)rng(s);
		break;
	case 2: /* cut the file */
		n = at;
		break;
	case 3: /* zeros over a range, as after a crash */
		len = 1 + (size_t)(rng(s) % 600);
		memset(p + at, 0, at + len < n ? len : n - at);
		break;
	case 4: /* garbage appended */
		p = realloc(p, n + 300);
		assert_non_null(p);
		for (size_t i = 0; i < 300; i++)
			p[n + i] = (uint8_t)rng(s);
		n += 1 + (size_t)(rng(s) % 300);
		break;
	case 5: /* a record damaged behind a valid checksum */
		if (n > 48)
			p[48 + (size_t)(rng(s) % (n - 48))] ^= 0x21;
		recrc(p, n);
		break;
	case 6: /* a frame's length changed, checksum made valid */
		if (n >= 48)
			graft_put_u32le(p + 32,
					(uint32_t)rng(s) >> (rng(s) % 32));
		recrc(p, n);
		break;
	case 9: /* a 4 KiB block of zeros at a block boundary, as a block
		 * that never reached the disk (or was zeroed later) */
		at = at / 4096 * 4096;
		memset(p + at, 0, at + 4096 < n ? 4096 : n - at);
		break;
	case 10: /* 4 KiB of zeros anywhere, running on past the end */
		p = realloc(p, at + 4096 > n ? at + 4096 : n);
		assert_non_null(p);
		memset(p + at, 0, 4096);
		if (at + 4096 > n)
			n = at + 4096;
		break;
	case 7: /* the segment removed */
		free(p);
		assert_int_equal(unlink(path), 0);
		return;
	default: /* the segment renamed to another first txid */
		free(p);
		snprintf(other, sizeof other, "%s/txlog.%020llu", dir,
			 (unsigned long long)(1 + rng(s) % (RECORDS + 5)));
		rename(path, other);
		return;
	}
	spit(path, p, n);
	free(p);
}

/* The bytes of every file in dir together. */
static size_t dir_bytes(const char *dir)
{
	static char names[32][256];
	char path[512];
	size_t n = list_files(dir, names, 32), total = 0;
	struct stat st;

	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		assert_int_equal(stat(path, &st), 0);
		total += (size_t)st.st_size;
	}
	return total;
}

/* Reads everything a reader gives; returns its last status. Bounded: a
 * reader that returned more records than were ever written is a bug. */
static int read_all(const char *dir, uint64_t from, uint64_t to)
{
	char errmsg[GRAFT_ERRMSG_SIZE] = "";
	struct txlog_reader *r;
	const void *rec;
	uint64_t txid, prev = 0;
	size_t len;
	int rv, count = 0;

	rv = txlog_reader_open(dir, from, to, &r, errmsg);
	if (rv != GRAFT_OK) {
		assert_true(rv == GRAFT_ENOTFOUND || rv == GRAFT_ECORRUPT);
		assert_true(errmsg[0] != '\0');
		return rv;
	}
	while ((rv = txlog_reader_next(r, &txid, &rec, &len, errmsg)) ==
	       GRAFT_OK) {
		assert_true(++count <= RECORDS);
		assert_true(prev == 0 || txid == prev + 1);
		prev = txid;
		decode_cleanly(rec, len);
	}
	assert_true(rv == GRAFT_ENOTFOUND || rv == GRAFT_ECORRUPT);
	if (rv == GRAFT_ECORRUPT)
		assert_true(errmsg[0] != '\0');
	txlog_reader_close(r);
	return rv;
}

static void test_txlog_fuzz_damaged_logs_fail_cleanly(void **state)
{
	struct tfx *f = *state;
	static char names[32][256], work[32][256];
	char tmpl[160], from[512], to[512];
	uint64_t seed = 0xa4093822299f31d0ull;
	size_t n, n_work, bytes_before;
	int opened = 0, refused = 0;

	snprintf(tmpl, sizeof tmpl, "%s/template", f->root);
	build_template(f, tmpl);
	n = list_files(tmpl, names, 32);
	assert_true(n >= 5 && n < 32);
	for (int round = 0; round < LOG_ROUNDS; round++) {
		size_t p;
		uint8_t *bytes;

		/* A fresh copy of the template, damaged once or twice. */
		mkdir(f->dir, 0750);
		for (size_t i = 0; i < n; i++) {
			snprintf(from, sizeof from, "%s/%s", tmpl, names[i]);
			snprintf(to, sizeof to, "%s/%s", f->dir, names[i]);
			bytes = tfx_slurp(from, &p);
			spit(to, bytes, p);
			free(bytes);
		}
		for (unsigned d = 1 + (unsigned)(rng(&seed) % 2); d > 0; d--) {
			size_t k = list_files(f->dir, work, 32);
			if (k > 0)
				damage(&seed, f->dir, work[rng(&seed) % k]);
		}
		/* A reader straight on the damage, then open (which may cut a
		 * torn tail), then a reader on what open accepted. */
		read_all(f->dir, 1 + rng(&seed) % RECORDS, UINT64_MAX);
		bytes_before = dir_bytes(f->dir);
		if (tfx_try_open(f) == GRAFT_OK) {
			uint64_t first = txlog_first_txid(f->log);
			uint64_t last = txlog_last_txid(f->log);
			opened++;
			assert_true(last <= RECORDS);
			if (last > 0)
				assert_int_equal(read_all(f->dir, first, last),
						 GRAFT_ENOTFOUND);
			tfx_close(f);
			/* What open cut off was moved aside, not destroyed. */
			assert_true(dir_bytes(f->dir) == bytes_before);
		} else {
			assert_true(f->errmsg[0] != '\0');
			refused++;
		}
		n_work = list_files(f->dir, work, 32);
		for (size_t i = 0; i < n_work; i++) {
			snprintf(to, sizeof to, "%s/%s", f->dir, work[i]);
			unlink(to);
		}
	}
	/* Both outcomes were reached, so the damage was varied enough. */
	assert_true(opened > 20);
	assert_true(refused > 20);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, tfx_setup, tfx_teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_txlog_fuzz_records_decode_cleanly),
		T(test_txlog_fuzz_damaged_logs_fail_cleanly),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
