/* Segment files: names, headers, frames, buffered reading and durable
 * creation. Shared by open (which verifies everything), the writer and
 * readers; see txlog_int.h for the format. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../util/crc32c.h"
#include "../util/err.h"
#include "../util/fs.h"
#include "../util/log.h"
#include "txlog_int.h"

void txlog_header_encode(uint8_t out[TXLOG_HEADER_SIZE], uint64_t first)
{
	memset(out, 0, TXLOG_HEADER_SIZE);
	memcpy(out, TXLOG_MAGIC, 8);
	graft_put_u32le(out + 8, TXLOG_VERSION);
	graft_put_u64le(out + 16, first);
	graft_put_u32le(out + 24, graft_crc32c(0, out, 24));
}

const char *txlog_header_check(const uint8_t h[TXLOG_HEADER_SIZE],
			       uint64_t *first, unsigned *version)
{
	if (memcmp(h, TXLOG_MAGIC, 8) != 0)
		return "it does not start with a transaction log header";
	if (graft_get_u32le(h + 24) != graft_crc32c(0, h, 24))
		return "its header checksum does not match";
	*version = graft_get_u32le(h + 8);
	if (*version != TXLOG_VERSION && *version != TXLOG_VERSION_NO_RAFT_INDEX &&
	    *version != TXLOG_VERSION_NO_BATCHES)
		return "its format version is not one this build reads "
		       "(written by a newer graft?)";
	*first = graft_get_u64le(h + 16);
	if (*first == 0)
		return "its header names transaction 0";
	return NULL;
}

uint32_t txlog_frame_crc(const uint8_t *frame, size_t hdr, uint32_t len)
{
	return graft_crc32c(graft_crc32c(0, frame, 4), frame + 8,
			    hdr - 8 + (size_t)len);
}

/* Over header bytes 0-3, 8-27 and, in version 3, the Raft index (32-39). */
static uint32_t header_crc(const uint8_t *frame, size_t hdr)
{
	uint32_t crc = graft_crc32c(graft_crc32c(0, frame, 4), frame + 8, 20);

	return graft_crc32c(crc, frame + TXLOG_FRAME_HEADER_V2,
			    hdr - TXLOG_FRAME_HEADER_V2);
}

void txlog_batch_seal(uint8_t *p, size_t n, uint64_t start)
{
	uint32_t index = 0;

	for (size_t off = 0; off < n; index++) {
		uint32_t len = graft_get_u32le(p + off);
		graft_put_u64le(p + off + 16, start + n);
		graft_put_u32le(p + off + 24, index);
		graft_put_u32le(p + off + 28,
				header_crc(p + off, TXLOG_FRAME_HEADER));
		graft_put_u32le(p + off + 4,
				txlog_frame_crc(p + off, TXLOG_FRAME_HEADER,
						len));
		off += TXLOG_FRAME_HEADER + (size_t)len;
	}
}

int txlog_segment_path(char *out, const char *dir, uint64_t first,
		       const char *suffix)
{
	char name[64];

	snprintf(name, sizeof name, TXLOG_NAME_PREFIX "%020" PRIu64 "%s",
		 first, suffix);
	return graft_path_join(out, PATH_MAX, dir, name);
}

/* The txid in a name "txlog.<20 digits><suffix>", or 0. */
static uint64_t parse_name(const char *name, const char *suffix)
{
	const size_t plen = sizeof TXLOG_NAME_PREFIX - 1;
	uint64_t v = 0;

	if (strlen(name) != TXLOG_NAME_LEN + strlen(suffix) ||
	    strncmp(name, TXLOG_NAME_PREFIX, plen) != 0 ||
	    strcmp(name + TXLOG_NAME_LEN, suffix) != 0)
		return 0;
	for (size_t i = plen; i < TXLOG_NAME_LEN; i++) {
		unsigned d = (unsigned)(name[i] - '0');
		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return 0;
		v = v * 10 + d;
	}
	return v;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int txlog_list_segments(const char *dir, bool remove_tmp, uint64_t **firsts,
			size_t *n, char *errmsg)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	uint64_t *v = NULL, id;
	size_t cap = 0;
	int rv = GRAFT_OK;

	*firsts = NULL;
	*n = 0;
	if (d == NULL)
		return graft_errf(errmsg, graft_err_from_errno(errno),
				  "cannot open the transaction log directory "
				  "%s: %s", dir, strerror(errno));
	while ((e = readdir(d)) != NULL) {
		/* A segment whose creation a crash interrupted. */
		if (remove_tmp && parse_name(e->d_name, TXLOG_TMP_SUFFIX)) {
			graft_warn("transaction log %s: removing %s, left by "
				   "an interrupted segment creation", dir,
				   e->d_name);
			if (unlinkat(dirfd(d), e->d_name, 0) != 0) {
				rv = graft_errf(errmsg, GRAFT_EIO,
						"cannot remove %s/%s: %s", dir,
						e->d_name, strerror(errno));
				break;
			}
			continue;
		}
		id = parse_name(e->d_name, "");
		if (id == 0)
			continue;
		if (*n == cap) {
			uint64_t *p;
			cap = cap ? cap * 2 : 16;
			p = realloc(v, cap * sizeof *v);
			if (p == NULL) {
				rv = GRAFT_ENOMEM;
				break;
			}
			v = p;
		}
		v[(*n)++] = id;
	}
	closedir(d);
	if (rv != GRAFT_OK) {
		free(v);
		*n = 0;
		return rv;
	}
	if (*n > 0)
		qsort(v, *n, sizeof *v, cmp_u64);
	*firsts = v;
	return GRAFT_OK;
}

void txlog_file_init(struct txlog_file *f)
{
	memset(f, 0, sizeof *f);
	f->fd = -1;
}

int txlog_file_open(struct txlog_file *f, const char *path, int flags,
		    uint64_t *first, char *errmsg)
{
	uint8_t h[TXLOG_HEADER_SIZE];
	const char *why;
	int rv;

	txlog_file_close(f);
	snprintf(f->path, sizeof f->path, "%s", path);
	f->fd = open(path, flags | O_CLOEXEC);
	if (f->fd < 0)
		return graft_errf(errmsg, graft_err_from_errno(errno),
				  "cannot open transaction log segment %s: %s",
				  path, strerror(errno));
	rv = graft_pread_all(f->fd, h, sizeof h, 0);
	if (rv == GRAFT_EIO)
		rv = graft_errf(errmsg, rv, "cannot read transaction log "
				"segment %s: %s", path, strerror(errno));
	else if (rv != GRAFT_OK)
		rv = graft_errf(errmsg, GRAFT_ECORRUPT, "transaction log "
				"segment %s is shorter than its %d-byte header",
				path, TXLOG_HEADER_SIZE);
	else if ((why = txlog_header_check(h, first, &f->version)) != NULL)
		rv = graft_errf(errmsg, GRAFT_ECORRUPT, "transaction log "
				"segment %s is damaged at offset 0: %s", path,
				why);
	f->frame_header = f->version == TXLOG_VERSION_NO_BATCHES
				  ? TXLOG_FRAME_HEADER_V1
			  : f->version == TXLOG_VERSION_NO_RAFT_INDEX
				  ? TXLOG_FRAME_HEADER_V2
				  : TXLOG_FRAME_HEADER;
	if (rv != GRAFT_OK)
		txlog_file_close(f);
	return rv;
}

void txlog_file_close(struct txlog_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	f->buf_off = 0;
	f->buf_len = 0;
}

void txlog_file_free(struct txlog_file *f)
{
	txlog_file_close(f);
	free(f->buf);
	f->buf = NULL;
	f->cap = 0;
}

/* Makes bytes [off, off + n) available at *p, reading ahead at least
 * TXLOG_READ_CHUNK. *p = NULL when the file ends first. The buffer never
 * grows beyond what the file holds. */
static int file_fill(struct txlog_file *f, uint64_t off, size_t n,
		     const uint8_t **p)
{
	size_t want = n > TXLOG_READ_CHUNK ? n : TXLOG_READ_CHUNK, got = 0;

	*p = NULL;
	if (off >= f->buf_off && off + n <= f->buf_off + f->buf_len) {
		*p = f->buf + (off - f->buf_off);
		return GRAFT_OK;
	}
	if (want > f->cap) {
		struct stat st;
		uint8_t *b;
		if (n > TXLOG_READ_CHUNK) {
			if (fstat(f->fd, &st) != 0)
				return GRAFT_EIO;
			if ((uint64_t)st.st_size < off + n)
				return GRAFT_OK;
		}
		b = realloc(f->buf, want);
		if (b == NULL)
			return GRAFT_ENOMEM;
		f->buf = b;
		f->cap = want;
	}
	f->buf_off = off;
	f->buf_len = 0;
	while (got < want) {
		ssize_t r = pread(f->fd, f->buf + got, want - got,
				  (off_t)(off + got));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return GRAFT_EIO;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	f->buf_len = got;
	if (got >= n)
		*p = f->buf;
	return GRAFT_OK;
}

int txlog_file_frame(struct txlog_file *f, uint64_t off,
		     struct txlog_frame *fr, enum txlog_frame_status *status)
{
	const size_t hdr = f->frame_header;
	const uint8_t *p;
	int rv = file_fill(f, off, hdr, &p);

	*status = TXLOG_FRAME_SHORT;
	fr->header_ok = false;
	if (rv != GRAFT_OK || p == NULL)
		return rv;
	fr->len = graft_get_u32le(p);
	fr->txid = graft_get_u64le(p + 8);
	fr->size = hdr + (uint64_t)fr->len;
	fr->batch_first = fr->batch_end = fr->raft_index = 0;
	if (hdr >= TXLOG_FRAME_HEADER_V2) {
		fr->header_ok = graft_get_u32le(p + 28) == header_crc(p, hdr);
		fr->batch_end = graft_get_u64le(p + 16);
		fr->batch_first = fr->txid - graft_get_u32le(p + 24);
	}
	if (hdr == TXLOG_FRAME_HEADER)
		fr->raft_index = graft_get_u64le(p + TXLOG_FRAME_HEADER_V2);
	if (fr->len == 0 || fr->len > TXLOG_MAX_RECORD) {
		*status = TXLOG_FRAME_BAD;
		fr->header_ok = false;
		fr->why = "impossible record length";
		return GRAFT_OK;
	}
	rv = file_fill(f, off, hdr + (size_t)fr->len, &p);
	if (rv != GRAFT_OK || p == NULL)
		return rv;
	if (graft_get_u32le(p + 4) != txlog_frame_crc(p, hdr, fr->len)) {
		*status = TXLOG_FRAME_BAD;
		fr->why = "checksum mismatch";
		return GRAFT_OK;
	}
	fr->payload = p + hdr;
	*status = TXLOG_FRAME_OK;
	return GRAFT_OK;
}

uint64_t txlog_file_find_frame(struct txlog_file *f, uint64_t off,
			       uint64_t lo, uint64_t hi)
{
	struct txlog_frame fr;
	enum txlog_frame_status st;
	const uint8_t *p;

	for (;; off++) {
		if (file_fill(f, off, f->frame_header, &p) != GRAFT_OK ||
		    p == NULL)
			return UINT64_MAX;
		uint64_t txid = graft_get_u64le(p + 8);
		/* The txid filter keeps this linear: a CRC is computed only
		 * where a plausible frame starts. */
		if (txid < lo || txid > hi)
			continue;
		if (txlog_file_frame(f, off, &fr, &st) != GRAFT_OK)
			return UINT64_MAX;
		if (st == TXLOG_FRAME_OK)
			return off;
	}
}

int txlog_segment_create(const char *dir, uint64_t first, unsigned *fsyncs)
{
	char tmp[PATH_MAX], path[PATH_MAX];
	uint8_t h[TXLOG_HEADER_SIZE];
	int fd, e;

	if (txlog_segment_path(tmp, dir, first, TXLOG_TMP_SUFFIX) != GRAFT_OK ||
	    txlog_segment_path(path, dir, first, "") != GRAFT_OK) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0)
		return -1;
	txlog_header_encode(h, first);
	if (graft_write_all(fd, h, sizeof h) != GRAFT_OK)
		goto err_after_open;
	(*fsyncs)++;
	if (fsync(fd) != 0 || rename(tmp, path) != 0)
		goto err_after_open;
	(*fsyncs)++;
	if (graft_fsync_dir(dir, NULL) != GRAFT_OK) {
		e = errno;
		close(fd);
		unlink(path);
		errno = e;
		return -1;
	}
	return fd;

err_after_open:
	e = errno;
	close(fd);
	unlink(tmp);
	errno = e;
	return -1;
}
