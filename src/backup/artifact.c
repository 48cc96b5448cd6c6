/* Backup artifacts: header, zstd body, checksum trailer (format in
 * artifact.h). Writing goes to <name>.tmp; finish fsyncs it and link()s it
 * under the final name, which never replaces an existing artifact (a
 * second backup in the same second gets a -2 suffix). The writer holds an
 * flock on its temporary file, so that a later run can tell one left by a
 * killed client (the kernel dropped the lock) from one being written, and
 * remove it. Reading checks the whole file's CRC before it decompresses
 * anything. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "../util/buf.h"
#include "../util/crc32c.h"
#include "../util/fs.h"
#include "artifact.h"

#define MAGIC "GRAFTBAK"
#define TRAILER_MAGIC "GRAFTEND"
#define VERSION 1
#define FLAG_ZSTD 1u
#define FLAG_DB_ID 2u
#define ZSTD_LEVEL 3
#define IO_CHUNK (1u << 20)
#define TMP_SUFFIX ".backup.tmp"
#define STAMP_LEN 19 /* YYYY-MM-DDTHH-MM-SS */

struct backup_writer {
	int fd;
	char dir[3600];
	char base[BACKUP_DB_MAX + 64]; /* <db>-<time> */
	char tmp[4096];
	char name[BACKUP_DB_MAX + 16]; /* a fixed final name, or "" */
	bool overwrite;                /* ... that may replace a file */
	bool compressed;
	ZSTD_CCtx *z;
	uint8_t *zout; /* ZSTD_CStreamOutSize() bytes */
	size_t zout_size;
	uint32_t crc; /* over header and body so far */
	uint64_t body;
};

const char *backup_type_name(enum backup_type t)
{
	return t == BACKUP_FULL ? "FULL" : "DIFF";
}

bool backup_same_db_id(const struct backup_meta *a,
		       const struct backup_meta *b)
{
	return !a->has_db_id || !b->has_db_id || a->db_id == b->db_id;
}

static void encode_header(const struct backup_meta *m, uint8_t *h)
{
	memset(h, 0, BACKUP_HEADER_SIZE);
	memcpy(h, MAGIC, 8);
	graft_put_u32le(h + 8, VERSION);
	graft_put_u32le(h + 12, (m->compressed ? FLAG_ZSTD : 0) |
				(m->has_db_id ? FLAG_DB_ID : 0));
	graft_put_u32le(h + 16, (uint32_t)m->type);
	graft_put_u64le(h + 24, m->time_ms);
	graft_put_u64le(h + 32, m->checkpoint_txid);
	graft_put_u64le(h + 40, m->first_txid);
	graft_put_u64le(h + 48, m->last_txid);
	if (m->has_db_id)
		graft_put_u64le(h + 56, m->db_id);
	memcpy(h + 64, m->db, strnlen(m->db, BACKUP_DB_MAX - 1));
	memcpy(h + 192, m->source, strnlen(m->source, BACKUP_SOURCE_MAX - 1));
	graft_put_u32le(h + 508, graft_crc32c(0, h, 508));
}

static int decode_header(const uint8_t *h, const char *path,
			 struct backup_meta *m, char *errmsg)
{
	uint32_t type = graft_get_u32le(h + 16);

	if (memcmp(h, MAGIC, 8) != 0)
		return graft_errf(errmsg, GRAFT_ECORRUPT,
				  "%s is not a graft backup artifact (bad "
				  "magic)", path);
	if (graft_get_u32le(h + 508) != graft_crc32c(0, h, 508))
		return graft_errf(errmsg, GRAFT_ECORRUPT,
				  "backup artifact %s is damaged: its header "
				  "checksum does not match", path);
	if (graft_get_u32le(h + 8) != VERSION)
		return graft_errf(errmsg, GRAFT_ECORRUPT,
				  "backup artifact %s has format version %" PRIu32
				  "; this graft reads version %d",
				  path, graft_get_u32le(h + 8), VERSION);
	if (type != BACKUP_FULL && type != BACKUP_DIFF)
		return graft_errf(errmsg, GRAFT_ECORRUPT,
				  "backup artifact %s has an unknown type %" PRIu32,
				  path, type);
	memset(m, 0, sizeof *m);
	m->type = (enum backup_type)type;
	m->compressed = (graft_get_u32le(h + 12) & FLAG_ZSTD) != 0;
	m->time_ms = graft_get_u64le(h + 24);
	m->checkpoint_txid = graft_get_u64le(h + 32);
	m->first_txid = graft_get_u64le(h + 40);
	m->last_txid = graft_get_u64le(h + 48);
	m->has_db_id = (graft_get_u32le(h + 12) & FLAG_DB_ID) != 0;
	m->db_id = m->has_db_id ? graft_get_u64le(h + 56) : 0;
	memcpy(m->db, h + 64, BACKUP_DB_MAX - 1);
	memcpy(m->source, h + 192, BACKUP_SOURCE_MAX - 1);
	if (m->first_txid > m->last_txid + 1)
		return graft_errf(errmsg, GRAFT_ECORRUPT,
				  "backup artifact %s has an impossible "
				  "transaction range %" PRIu64 "..%" PRIu64,
				  path, m->first_txid, m->last_txid);
	return GRAFT_OK;
}

/* Writer ----------------------------------------------------------------- */

static int write_raw(struct backup_writer *w, const void *p, size_t n,
		     char *errmsg)
{
	if (graft_write_all(w->fd, p, n) != GRAFT_OK)
		return graft_errf(errmsg, graft_err_from_errno(errno),
				  "cannot write backup file %s: %s", w->tmp,
				  strerror(errno));
	w->crc = graft_crc32c(w->crc, p, n);
	w->body += n;
	return GRAFT_OK;
}

static int start_zstd(struct backup_writer *w)
{
	w->z = ZSTD_createCCtx();
	w->zout_size = ZSTD_CStreamOutSize();
	w->zout = malloc(w->zout_size);
	if (w->z == NULL || w->zout == NULL)
		return GRAFT_ENOMEM;
	ZSTD_CCtx_setParameter(w->z, ZSTD_c_compressionLevel, ZSTD_LEVEL);
	ZSTD_CCtx_setParameter(w->z, ZSTD_c_checksumFlag, 1);
	return GRAFT_OK;
}

static void writer_free(struct backup_writer *w)
{
	if (w->fd >= 0)
		close(w->fd);
	ZSTD_freeCCtx(w->z);
	free(w->zout);
	free(w);
}

int backup_writer_open(const char *dir, const struct backup_meta *m,
		       struct backup_writer **out, char *errmsg)
{
	struct backup_writer *w = calloc(1, sizeof *w);
	uint8_t h[BACKUP_HEADER_SIZE];
	char stamp[32];
	time_t t = (time_t)(m->time_ms / 1000);
	struct tm tm;
	int rv;

	if (w == NULL)
		return GRAFT_ENOMEM;
	w->fd = -1;
	if (strlen(dir) >= sizeof w->dir) {
		free(w);
		return graft_errf(errmsg, GRAFT_EINVAL, "backup directory path "
				  "too long: %s", dir);
	}
	w->compressed = m->compressed;
	gmtime_r(&t, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H-%M-%S", &tm);
	snprintf(w->dir, sizeof w->dir, "%s", dir);
	snprintf(w->base, sizeof w->base, "%s-%s", m->db, stamp);
	snprintf(w->tmp, sizeof w->tmp, "%s/%s" TMP_SUFFIX, dir, w->base);
	rv = m->compressed ? start_zstd(w) : GRAFT_OK;
	if (rv != GRAFT_OK)
		goto err;
	w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_CLOEXEC, 0640);
	if (w->fd < 0) {
		rv = graft_errf(errmsg, graft_err_from_errno(errno),
				"cannot create backup file %s: %s; check that "
				"--to-path exists and is writable",
				w->tmp, strerror(errno));
		goto err;
	}
	/* Truncated only once it is ours: another backup of the same database
	 * started in the same second may be writing it. */
	if (flock(w->fd, LOCK_EX | LOCK_NB) != 0) {
		rv = graft_errf(errmsg, GRAFT_ECONFLICT, "backup file %s is "
				"being written by another backup of %s; wait "
				"for it or give another --to-path", w->tmp,
				m->db);
		goto err;
	}
	if (ftruncate(w->fd, 0) != 0) {
		rv = graft_errf(errmsg, graft_err_from_errno(errno),
				"cannot truncate backup file %s: %s", w->tmp,
				strerror(errno));
		goto err_after_open;
	}
	encode_header(m, h);
	rv = write_raw(w, h, sizeof h, errmsg);
	if (rv != GRAFT_OK)
		goto err_after_open;
	w->body = 0; /* the header is not body */
	*out = w;
	return GRAFT_OK;

err_after_open:
	unlink(w->tmp);
err:
	writer_free(w);
	return rv;
}

/* Runs the compressor over in with mode, writing what it produces. */
static int compress(struct backup_writer *w, const void *p, size_t n,
		    ZSTD_EndDirective mode, char *errmsg)
{
	ZSTD_inBuffer in = {p, n, 0};
	ZSTD_outBuffer out;
	size_t left;
	int rv;

	do {
		out = (ZSTD_outBuffer){w->zout, w->zout_size, 0};
		left = ZSTD_compressStream2(w->z, &out, &in, mode);
		if (ZSTD_isError(left))
			return graft_errf(errmsg, GRAFT_EIO,
					  "zstd compression of %s failed: %s",
					  w->tmp, ZSTD_getErrorName(left));
		rv = write_raw(w, w->zout, out.pos, errmsg);
		if (rv != GRAFT_OK)
			return rv;
	} while (mode == ZSTD_e_end ? left > 0 : in.pos < in.size);
	return GRAFT_OK;
}

int backup_writer_write(struct backup_writer *w, const void *p, size_t n,
			char *errmsg)
{
	if (!w->compressed)
		return write_raw(w, p, n, errmsg);
	return compress(w, p, n, ZSTD_e_continue, errmsg);
}

void backup_writer_name(struct backup_writer *w, const char *name,
			bool overwrite)
{
	snprintf(w->name, sizeof w->name, "%s", name);
	w->overwrite = overwrite;
}

/* Gives tmp its fixed name, replacing a file there only if allowed. */
static int name_fixed(struct backup_writer *w, char *path, char *errmsg)
{
	snprintf(path, 4096, "%s/%s", w->dir, w->name);
	if (w->overwrite ? rename(w->tmp, path) == 0 : link(w->tmp, path) == 0)
		return GRAFT_OK;
	if (errno == EEXIST)
		return graft_errf(errmsg, GRAFT_EEXIST, "%s already exists; use "
				  "--overwrite-destination to replace it", path);
	return graft_errf(errmsg, graft_err_from_errno(errno),
			  "cannot name backup file %s as %s: %s", w->tmp, path,
			  strerror(errno));
}

/* Links tmp under the first free final name. */
static int link_final(struct backup_writer *w, char *path, char *errmsg)
{
	int i;

	if (w->name[0] != '\0')
		return name_fixed(w, path, errmsg);

	for (i = 1; i < 1000; i++) {
		if (i == 1)
			snprintf(path, 4096, "%s/%s.backup", w->dir, w->base);
		else
			snprintf(path, 4096, "%s/%s-%d.backup", w->dir,
				 w->base, i);
		if (link(w->tmp, path) == 0)
			return GRAFT_OK;
		if (errno != EEXIST)
			break;
	}
	return graft_errf(errmsg, graft_err_from_errno(errno),
			  "cannot name backup file %s as %s: %s", w->tmp, path,
			  strerror(errno));
}

int backup_writer_finish(struct backup_writer *w, char *path, char *errmsg)
{
	uint8_t t[BACKUP_TRAILER_SIZE] = {0};
	int rv = GRAFT_OK;

	if (w->compressed)
		rv = compress(w, NULL, 0, ZSTD_e_end, errmsg);
	if (rv != GRAFT_OK)
		goto err;
	memcpy(t, TRAILER_MAGIC, 8);
	graft_put_u64le(t + 8, w->body);
	graft_put_u32le(t + 16, w->crc);
	if (graft_write_all(w->fd, t, sizeof t) != GRAFT_OK ||
	    fsync(w->fd) != 0) {
		rv = graft_errf(errmsg, graft_err_from_errno(errno),
				"cannot write backup file %s: %s", w->tmp,
				strerror(errno));
		goto err;
	}
	rv = link_final(w, path, errmsg);
	if (rv != GRAFT_OK)
		goto err;
	unlink(w->tmp);
	rv = graft_fsync_dir(w->dir, errmsg);
	writer_free(w);
	return rv;

err:
	unlink(w->tmp);
	writer_free(w);
	return rv;
}

void backup_writer_abort(struct backup_writer *w, bool keep,
			 char *failed_path)
{
	char failed[4096];

	snprintf(failed, sizeof failed, "%s/%s.backup.failed", w->dir,
		 w->base);
	if (keep && rename(w->tmp, failed) == 0) {
		if (failed_path != NULL)
			snprintf(failed_path, 4096, "%s", failed);
	} else {
		unlink(w->tmp);
		if (failed_path != NULL)
			failed_path[0] = '\0';
	}
	writer_free(w);
}

/* Whether name is <db>-<stamp>.backup.tmp. */
static bool is_tmp_of(const char *name, const char *db)
{
	size_t n = strlen(db);

	return strncmp(name, db, n) == 0 && name[n] == '-' &&
	       strlen(name + n + 1) == STAMP_LEN + strlen(TMP_SUFFIX) &&
	       strcmp(name + n + 1 + STAMP_LEN, TMP_SUFFIX) == 0;
}

/* Removes dir/name if no writer holds its lock; *gone says whether it did. */
static int remove_if_unlocked(int dfd, const char *dir, const char *name,
			      bool *gone, char *errmsg)
{
	int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
	int rv = GRAFT_OK;

	*gone = false;
	if (fd < 0) /* removed meanwhile */
		return errno == ENOENT ? GRAFT_OK
				       : graft_errf(errmsg, GRAFT_EIO,
						    "cannot open %s/%s: %s",
						    dir, name, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
		if (unlinkat(dfd, name, 0) == 0)
			*gone = true;
		else if (errno != ENOENT)
			rv = graft_errf(errmsg, GRAFT_EIO, "cannot remove %s/%s, "
					"left by an interrupted backup: %s",
					dir, name, strerror(errno));
	}
	close(fd);
	return rv;
}

int backup_remove_stale_tmp(const char *dir, const char *db, FILE *report,
			    char *errmsg)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	bool gone;
	int rv = GRAFT_OK;

	if (d == NULL) /* the writer reports a missing directory */
		return GRAFT_OK;
	while (rv == GRAFT_OK && (e = readdir(d)) != NULL) {
		if (!is_tmp_of(e->d_name, db))
			continue;
		rv = remove_if_unlocked(dirfd(d), dir, e->d_name, &gone,
					errmsg);
		if (gone && report != NULL)
			fprintf(report, "%s: removed %s/%s, left by an "
				"interrupted backup\n", db, dir, e->d_name);
	}
	closedir(d);
	return rv;
}

/* Reader ----------------------------------------------------------------- */

struct reader {
	const char *path;
	int fd;
	struct backup_meta *m;
	uint64_t body; /* body length */
	uint8_t *buf;  /* IO_CHUNK */
};

static int read_fail(struct reader *r, char *errmsg)
{
	return graft_errf(errmsg, GRAFT_EIO, "cannot read backup artifact %s: "
			  "%s", r->path, strerror(errno));
}

/* Opens, decodes the header and checks the trailer against the size. */
static int reader_open(struct reader *r, char *errmsg)
{
	uint8_t h[BACKUP_HEADER_SIZE], t[BACKUP_TRAILER_SIZE];
	struct stat st;
	int rv;

	r->fd = open(r->path, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0)
		return graft_errf(errmsg, graft_err_from_errno(errno),
				  "cannot open backup artifact %s: %s", r->path,
				  strerror(errno));
	if (fstat(r->fd, &st) != 0)
		return read_fail(r, errmsg);
	if ((uint64_t)st.st_size < BACKUP_HEADER_SIZE + BACKUP_TRAILER_SIZE)
		return graft_errf(errmsg, GRAFT_ECORRUPT,
				  "backup artifact %s is damaged: only %lld "
				  "bytes, too short for a header and trailer",
				  r->path, (long long)st.st_size);
	rv = graft_pread_all(r->fd, h, sizeof h, 0);
	if (rv == GRAFT_OK)
		rv = graft_pread_all(r->fd, t, sizeof t,
				     st.st_size - BACKUP_TRAILER_SIZE);
	if (rv != GRAFT_OK)
		return read_fail(r, errmsg);
	rv = decode_header(h, r->path, r->m, errmsg);
	if (rv != GRAFT_OK)
		return rv;
	r->body = (uint64_t)st.st_size - BACKUP_HEADER_SIZE -
		  BACKUP_TRAILER_SIZE;
	if (memcmp(t, TRAILER_MAGIC, 8) != 0 ||
	    graft_get_u64le(t + 8) != r->body)
		return graft_errf(errmsg, GRAFT_ECORRUPT,
				  "backup artifact %s is damaged or incomplete: "
				  "its trailer is missing or does not match its "
				  "length",
				  r->path);
	return GRAFT_OK;
}

static int check_crc(struct reader *r, char *errmsg)
{
	uint64_t off = 0, end = BACKUP_HEADER_SIZE + r->body;
	uint8_t t[4];
	uint32_t crc = 0;
	size_t n;

	while (off < end) {
		n = end - off < IO_CHUNK ? (size_t)(end - off) : IO_CHUNK;
		if (graft_pread_all(r->fd, r->buf, n, (off_t)off) != GRAFT_OK)
			return read_fail(r, errmsg);
		crc = graft_crc32c(crc, r->buf, n);
		off += n;
	}
	if (graft_pread_all(r->fd, t, 4, (off_t)end + 16) != GRAFT_OK)
		return read_fail(r, errmsg);
	if (graft_get_u32le(t) != crc)
		return graft_errf(errmsg, GRAFT_ECORRUPT,
				  "backup artifact %s is damaged: checksum "
				  "mismatch (stored %08" PRIx32 ", computed %08"
				  PRIx32 "); it cannot be used",
				  r->path, graft_get_u32le(t), crc);
	return GRAFT_OK;
}

static int decompress(struct reader *r, ZSTD_DCtx *z, uint8_t *out,
		      size_t out_size, size_t n,
		      struct backup_stream_parser *p, size_t *last, char *errmsg)
{
	ZSTD_inBuffer in = {r->buf, n, 0};
	ZSTD_outBuffer o;
	int rv;

	while (in.pos < in.size) {
		o = (ZSTD_outBuffer){out, out_size, 0};
		*last = ZSTD_decompressStream(z, &o, &in);
		if (ZSTD_isError(*last))
			return graft_errf(errmsg, GRAFT_ECORRUPT,
					  "backup artifact %s is damaged: %s",
					  r->path, ZSTD_getErrorName(*last));
		rv = backup_stream_parse(p, out, o.pos, errmsg);
		if (rv != GRAFT_OK)
			return rv;
	}
	return GRAFT_OK;
}

/* Streams the body through zstd (if compressed) into the parser. */
static int parse_body(struct reader *r, struct backup_stream_parser *p,
		      char *errmsg)
{
	size_t out_size = ZSTD_DStreamOutSize(), n, last = 0;
	uint8_t *out = malloc(out_size);
	ZSTD_DCtx *z = ZSTD_createDCtx();
	uint64_t off = 0;
	int rv = out != NULL && z != NULL ? GRAFT_OK : GRAFT_ENOMEM;

	while (rv == GRAFT_OK && off < r->body) {
		n = r->body - off < IO_CHUNK ? (size_t)(r->body - off)
					     : IO_CHUNK;
		if (graft_pread_all(r->fd, r->buf, n,
				    (off_t)(BACKUP_HEADER_SIZE + off)) !=
		    GRAFT_OK)
			rv = read_fail(r, errmsg);
		else if (r->m->compressed)
			rv = decompress(r, z, out, out_size, n, p, &last,
					errmsg);
		else
			rv = backup_stream_parse(p, r->buf, n, errmsg);
		off += n;
	}
	if (rv == GRAFT_OK && r->m->compressed && last != 0)
		rv = graft_errf(errmsg, GRAFT_ECORRUPT,
				"backup artifact %s is damaged: its compressed "
				"body is cut short",
				r->path);
	ZSTD_freeDCtx(z);
	free(out);
	return rv;
}

int backup_read_meta(const char *path, struct backup_meta *m, char *errmsg)
{
	uint8_t h[BACKUP_HEADER_SIZE];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rv;

	if (fd < 0)
		return graft_errf(errmsg, graft_err_from_errno(errno),
				  "cannot open backup artifact %s: %s", path,
				  strerror(errno));
	rv = graft_pread_all(fd, h, sizeof h, 0);
	close(fd);
	if (rv == GRAFT_ECORRUPT)
		return graft_errf(errmsg, rv, "%s is too short to be a backup "
				  "artifact", path);
	if (rv != GRAFT_OK)
		return graft_errf(errmsg, rv, "cannot read backup artifact "
				  "%s", path);
	return decode_header(h, path, m, errmsg);
}

int backup_read(const char *path, struct backup_meta *m,
		const struct backup_stream_cbs *cbs, char *errmsg)
{
	struct reader r = {.path = path, .fd = -1, .m = m};
	struct backup_stream_parser p;
	int rv;

	r.buf = malloc(IO_CHUNK);
	if (r.buf == NULL)
		return GRAFT_ENOMEM;
	rv = reader_open(&r, errmsg);
	if (rv == GRAFT_OK)
		rv = check_crc(&r, errmsg);
	if (rv != GRAFT_OK)
		goto out;
	backup_stream_parser_init(&p, m->type == BACKUP_FULL, m->first_txid,
				  m->last_txid, cbs);
	rv = parse_body(&r, &p, errmsg);
	if (rv == GRAFT_OK)
		rv = backup_stream_parse_end(&p, errmsg);
	if (rv == GRAFT_OK && m->type == BACKUP_FULL &&
	    (p.has_ckpt != (m->checkpoint_txid > 0) ||
	     m->first_txid != m->checkpoint_txid + 1))
		rv = graft_errf(errmsg, GRAFT_ECORRUPT,
				"backup artifact %s is damaged: its store copy "
				"does not match its header (checkpoint %" PRIu64
				", first transaction %" PRIu64 ")",
				path, m->checkpoint_txid, m->first_txid);
	if (rv == GRAFT_ECORRUPT && strstr(errmsg, path) == NULL) {
		char inner[GRAFT_ERRMSG_SIZE];

		snprintf(inner, sizeof inner, "%s", errmsg);
		graft_errf(errmsg, rv, "backup artifact %s is damaged: %s",
			   path, inner);
	}
	backup_stream_parser_free(&p);
out:
	if (r.fd >= 0)
		close(r.fd);
	free(r.buf);
	return rv;
}
