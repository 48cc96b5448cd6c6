/* The backup client (protocol in serve.h). Every byte received goes
 * through the stream parser before it reaches the artifact, so a stream
 * that is cut, has a gap or holds the wrong transactions fails the backup
 * and leaves no artifact (or, with keep_failed, one named *.failed). */
#include "client.h"

#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "chain.h"
#include "serve.h"

#define RECV_BUF (256u * 1024)
#define LINE_MAX_LEN 2048

struct reply {
	int fd;
	char line[LINE_MAX_LEN]; /* the reply line, without the newline */
	uint8_t *rest;           /* bytes after it (RECV_BUF) */
	size_t rest_len;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* host:port or [v6]:port */
static int split_addr(const char *addr, char *host, size_t n, char *port,
		      char *errmsg)
{
	const char *colon = strrchr(addr, ':');
	const char *h = addr;
	size_t hl;

	if (colon == NULL || colon[1] == '\0')
		return graft_errf(errmsg, GRAFT_EINVAL,
				  "--from=%s: expected host:port", addr);
	hl = (size_t)(colon - addr);
	if (hl >= 2 && addr[0] == '[' && addr[hl - 1] == ']') {
		h++;
		hl -= 2;
	}
	if (hl >= n || strlen(colon + 1) > 5)
		return graft_errf(errmsg, GRAFT_EINVAL,
				  "--from=%s: expected host:port", addr);
	memcpy(host, h, hl);
	host[hl] = '\0';
	strcpy(port, colon + 1);
	return GRAFT_OK;
}

static int dial(const char *addr, unsigned timeout_s, int *out, char *errmsg)
{
	struct addrinfo hints, *res = NULL, *ai;
	struct timeval tv = {.tv_sec = timeout_s ? timeout_s : 600};
	char host[256], port[8];
	int fd = -1, rv, err = 0;

	rv = split_addr(addr, host, sizeof host, port, errmsg);
	if (rv != GRAFT_OK)
		return rv;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	rv = getaddrinfo(host[0] ? host : "127.0.0.1", port, &hints, &res);
	if (rv != 0)
		return graft_errf(errmsg, GRAFT_EINVAL, "cannot resolve %s: %s",
				  addr, gai_strerror(rv));
	for (ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
			err = errno;
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	if (fd < 0)
		return graft_errf(errmsg, GRAFT_EIO,
				  "cannot connect to the backup server at %s: "
				  "%s; is graftd running there with "
				  "server.backup.enabled=true and "
				  "server.backup.listen_address (or, in a "
				  "cluster, server.cluster.listen_address) on "
				  "that address?",
				  addr, strerror(err));
	*out = fd;
	return GRAFT_OK;
}

static int recv_some(int fd, const char *addr, void *p, size_t n,
		     size_t *got, char *errmsg)
{
	ssize_t k;

	do
		k = recv(fd, p, n, 0);
	while (k < 0 && errno == EINTR);
	if (k < 0)
		return graft_errf(errmsg, GRAFT_EIO,
				  "reading from the backup server at %s: %s",
				  addr,
				  errno == EAGAIN || errno == EWOULDBLOCK
					  ? "it sent nothing for too long"
					  : strerror(errno));
	*got = (size_t)k;
	return GRAFT_OK;
}

/* Sends line, reads the reply line. ERR replies become errors:
 * GRAFT_ENOTFOUND (NOTFOUND), GRAFT_ECONFLICT (PRUNED, AHEAD, IDENTITY: a
 * FULL backup would do), GRAFT_EIO (anything else). */
static int request(const char *addr, unsigned timeout_s, const char *line,
		   struct reply *r, char *errmsg)
{
	size_t len = 0, got = 0, n = strlen(line);
	char *nl = NULL, code[16] = "";
	int rv = dial(addr, timeout_s, &r->fd, errmsg);

	if (rv != GRAFT_OK)
		return rv;
	if (send(r->fd, line, n, MSG_NOSIGNAL) != (ssize_t)n)
		return graft_errf(errmsg, GRAFT_EIO, "cannot send to the backup "
				  "server at %s: %s", addr, strerror(errno));
	while (nl == NULL) {
		if (len >= LINE_MAX_LEN - 1)
			return graft_errf(errmsg, GRAFT_EIO, "%s does not "
					  "answer like a graft backup server",
					  addr);
		rv = recv_some(r->fd, addr, r->line + len,
			       LINE_MAX_LEN - 1 - len, &got, errmsg);
		if (rv != GRAFT_OK)
			return rv;
		if (got == 0)
			return graft_errf(errmsg, GRAFT_EIO, "the backup server "
					  "at %s closed the connection without "
					  "a reply", addr);
		len += got;
		r->line[len] = '\0';
		nl = memchr(r->line, '\n', len);
	}
	*nl = '\0';
	r->rest_len = len - (size_t)(nl + 1 - r->line);
	memcpy(r->rest, nl + 1, r->rest_len);
	if (strncmp(r->line, BACKUP_PROTO " OK ", strlen(BACKUP_PROTO) + 4) == 0)
		return GRAFT_OK;
	if (strncmp(r->line, BACKUP_PROTO " ERR ", strlen(BACKUP_PROTO) + 5) != 0)
		return graft_errf(errmsg, GRAFT_EIO, "%s does not answer like a "
				  "graft backup server", addr);
	sscanf(r->line + strlen(BACKUP_PROTO) + 5, "%15s", code);
	rv = strcmp(code, "NOTFOUND") == 0 ? GRAFT_ENOTFOUND
	     : strcmp(code, "PRUNED") == 0 || strcmp(code, "AHEAD") == 0 ||
			       strcmp(code, "IDENTITY") == 0
		     ? GRAFT_ECONFLICT
		     : GRAFT_EIO;
	return graft_errf(errmsg, rv, "backup server %s: %s", addr,
			  r->line + strlen(BACKUP_PROTO) + 6 + strlen(code));
}

static void reply_close(struct reply *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	free(r->rest);
	r->rest = NULL;
}

static int reply_open(struct reply *r)
{
	r->fd = -1;
	r->rest_len = 0;
	r->rest = malloc(RECV_BUF);
	return r->rest != NULL ? GRAFT_OK : GRAFT_ENOMEM;
}

int backup_client_list(const char *addr, unsigned timeout_s, char **names,
		       size_t *n, char *errmsg)
{
	struct reply r;
	char *p, *tok, *save = NULL;
	size_t len;
	int rv = reply_open(&r);

	if (rv == GRAFT_OK)
		rv = request(addr, timeout_s, BACKUP_PROTO " LIST\n", &r, errmsg);
	if (rv != GRAFT_OK) {
		reply_close(&r);
		return rv;
	}
	p = r.line + strlen(BACKUP_PROTO " OK LIST");
	len = strlen(p);
	*names = malloc(len + 1);
	*n = 0;
	if (*names == NULL) {
		reply_close(&r);
		return GRAFT_ENOMEM;
	}
	len = 0;
	for (tok = strtok_r(p, " ", &save); tok != NULL;
	     tok = strtok_r(NULL, " ", &save)) {
		strcpy(*names + len, tok);
		len += strlen(tok) + 1;
		(*n)++;
	}
	reply_close(&r);
	return GRAFT_OK;
}

struct fetch {
	const char *addr;
	const struct backup_client_opts *o;
	struct backup_stream_parser p;
	struct backup_writer *w;
	uint64_t start_ms, shown_ms, received;
};

static void show_progress(struct fetch *f, bool last)
{
	uint64_t now = now_ms(), ms = now - f->start_ms + 1;
	uint64_t total = f->p.last + 1 - f->p.first, done = f->p.n_tx;
	double rate = (double)f->received / 1048576.0 * 1000.0 / (double)ms;
	double eta;

	if (f->o->progress == NULL || (!last && now - f->shown_ms < 500))
		return;
	f->shown_ms = now;
	fprintf(f->o->progress, "\r%s: %.1f MiB, %" PRIu64 "/%" PRIu64
		" transactions, %.1f MiB/s", f->p.has_ckpt ? "store copy + log"
							   : "log",
		(double)f->received / 1048576.0, done, total, rate);
	if (!last && done > 0 && done < total) {
		eta = (double)(total - done) * (double)ms / (double)done / 1000.0;
		fprintf(f->o->progress, ", ETA %.0f s   ", eta);
	}
	fputs(last ? "\n" : "   ", f->o->progress);
	fflush(f->o->progress);
}

static int take(struct fetch *f, const void *p, size_t n, char *errmsg)
{
	int rv = backup_stream_parse(&f->p, p, n, errmsg);

	if (rv == GRAFT_OK)
		rv = backup_writer_write(f->w, p, n, errmsg);
	f->received += n;
	show_progress(f, false);
	return rv;
}

/* Receives the stream after the reply line into the artifact. */
static int receive(struct fetch *f, struct reply *r, char *errmsg)
{
	size_t got = r->rest_len;
	int rv = got > 0 ? take(f, r->rest, got, errmsg) : GRAFT_OK;

	while (rv == GRAFT_OK) {
		rv = recv_some(r->fd, f->addr, r->rest, RECV_BUF, &got, errmsg);
		if (rv != GRAFT_OK || got == 0)
			break;
		rv = take(f, r->rest, got, errmsg);
	}
	if (rv == GRAFT_OK)
		rv = backup_stream_parse_end(&f->p, errmsg);
	if (rv == GRAFT_ECORRUPT && !f->p.done)
		graft_errf(errmsg, GRAFT_EIO, "the backup server at %s closed "
			   "the connection before the end of the backup (%" PRIu64
			   " bytes received; transactions to %" PRIu64 " of %"
			   PRIu64 "); its log says why",
			   f->addr, f->received, f->p.next - 1, f->p.last);
	if (f->o->progress != NULL && f->received > 0)
		show_progress(f, true);
	return rv;
}

static int parse_ok(const char *line, const char *addr, struct backup_meta *m,
		    char *errmsg)
{
	char type[8];
	unsigned long long ckpt, first, last, id;
	/* A server of before database ids sends four fields. */
	int n = sscanf(line + strlen(BACKUP_PROTO " OK "),
		       "%7s %llu %llu %llu %llu", type, &ckpt, &first, &last,
		       &id);

	if (n < 4 || first > last + 1 ||
	    (strcmp(type, "FULL") != 0 && strcmp(type, "DIFF") != 0))
		return graft_errf(errmsg, GRAFT_EIO, "backup server %s sent a "
				  "reply this client does not understand: %s",
				  addr, line);
	m->type = strcmp(type, "FULL") == 0 ? BACKUP_FULL : BACKUP_DIFF;
	m->checkpoint_txid = ckpt;
	m->first_txid = first;
	m->last_txid = last;
	m->has_db_id = n == 5;
	m->db_id = n == 5 ? id : 0;
	return GRAFT_OK;
}

/* A FULL, or (newest not NULL) a DIFF continuing newest: after its last
 * transaction, and only from a database of its id when it has one. */
static int fetch(const char *addr, const char *db,
		 const struct backup_meta *newest,
		 const struct backup_client_opts *o, struct backup_result *res,
		 char *errmsg)
{
	struct fetch f = {.addr = addr, .o = o};
	struct stat st;
	struct reply r;
	char line[BACKUP_DB_MAX + 64];
	int rv = reply_open(&r);

	memset(res, 0, sizeof *res);
	if (newest == NULL)
		snprintf(line, sizeof line, BACKUP_PROTO " FULL %s\n", db);
	else if (newest->has_db_id)
		snprintf(line, sizeof line,
			 BACKUP_PROTO " DIFF %s %" PRIu64 " %" PRIu64 "\n", db,
			 newest->last_txid, newest->db_id);
	else
		snprintf(line, sizeof line, BACKUP_PROTO " DIFF %s %" PRIu64 "\n",
			 db, newest->last_txid);
	if (rv == GRAFT_OK)
		rv = request(addr, o->timeout_s, line, &r, errmsg);
	if (rv == GRAFT_OK)
		rv = parse_ok(r.line, addr, &res->m, errmsg);
	if (rv != GRAFT_OK)
		goto out;
	res->m.compressed = o->compress;
	res->m.time_ms = now_ms();
	snprintf(res->m.db, sizeof res->m.db, "%s", db);
	snprintf(res->m.source, sizeof res->m.source, "%s", addr);
	if (res->m.type == BACKUP_DIFF && res->m.first_txid > res->m.last_txid) {
		res->up_to_date = true;
		goto out;
	}
	rv = backup_writer_open(o->to_dir, &res->m, &f.w, errmsg);
	if (rv != GRAFT_OK)
		goto out;
	backup_stream_parser_init(&f.p, res->m.type == BACKUP_FULL,
				  res->m.first_txid, res->m.last_txid, NULL);
	f.start_ms = now_ms();
	rv = receive(&f, &r, errmsg);
	backup_stream_parser_free(&f.p);
	if (rv != GRAFT_OK) {
		backup_writer_abort(f.w, o->keep_failed, res->failed);
		goto out;
	}
	rv = backup_writer_finish(f.w, res->path, errmsg);
	if (rv == GRAFT_OK && stat(res->path, &st) == 0)
		res->size = (uint64_t)st.st_size;
out:
	reply_close(&r);
	return rv;
}

int backup_client_run(const char *addr, const char *db,
		      const struct backup_client_opts *o,
		      struct backup_result *res, char *errmsg)
{
	const struct backup_entry *newest = NULL;
	struct backup_meta chain; /* newest's, kept past the set */
	bool diff = false;
	struct backup_set s;
	int rv = GRAFT_OK;

	memset(res, 0, sizeof *res);
	/* What a killed earlier run left; always said, since it deletes. */
	rv = backup_remove_stale_tmp(o->to_dir, db,
				     o->verbose ? o->verbose : stderr, errmsg);
	if (rv != GRAFT_OK)
		return rv;
	backup_set_init(&s);
	if (o->type != BACKUP_WANT_FULL) {
		rv = backup_set_add(&s, o->to_dir, errmsg);
		newest = rv == GRAFT_OK ? backup_set_newest(&s, db) : NULL;
	}
	if (newest != NULL) {
		chain = newest->m;
		diff = true;
	} else if (rv == GRAFT_OK && o->type == BACKUP_WANT_DIFF)
		rv = graft_errf(errmsg, GRAFT_EINVAL,
				"--type=DIFF: %s holds no artifact of %s to "
				"continue; take a FULL backup first (--type=FULL "
				"or AUTO)", o->to_dir, db);
	backup_set_free(&s);
	if (rv != GRAFT_OK)
		return rv;
	if (o->verbose != NULL)
		fprintf(o->verbose, "%s: asking %s for %s\n", db, addr,
			diff ? "the transactions after the newest artifact"
			     : "a FULL backup");
	rv = fetch(addr, db, diff ? &chain : NULL, o, res, errmsg);
	if (rv == GRAFT_ECONFLICT && o->type == BACKUP_WANT_AUTO) {
		if (o->verbose != NULL)
			fprintf(o->verbose, "%s: %s; taking a FULL backup\n", db,
				errmsg);
		rv = fetch(addr, db, NULL, o, res, errmsg);
	}
	return rv;
}
