/* graft-load: a load and verification tool for crash tests, through the C API.
 *
 *   graft-load write  --config FILE [--writers N] [--count N] [--first-writer W] [--pad BYTES]
 *   graft-load verify --config FILE --acks FILE
 *
 * write: N concurrent committers each commit transactions that create a
 * (:Load {writer, seq, pad}) node and, after the first, a [:NEXT] relationship
 * from the writer's previous node. Each acknowledged commit is written to
 * stdout as "writer seq txid" with one write(2) (no stdio buffering), so after
 * kill -9 every printed line is a promise the database must keep.
 * verify: recovers the data directory and checks that every acknowledged
 * transaction is there, and that nothing is half-applied: every Load node
 * has all its properties, its NEXT relationship, and each writer's sequence
 * is gapless. Exit 0 when all holds, 1 otherwise with what is wrong. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "db/dbms.h"
#include "db/dbms_config.h"
#include "util/config.h"
#include "util/err.h"
#include "util/log.h"

struct tokens {
	uint32_t load, next, writer, seq, pad;
};

struct writer {
	struct load *load;
	struct db_commit_req req;
	uint64_t id;
	uint64_t seq;
	uint64_t prev_node;
	uint64_t new_node;
};

struct load {
	uv_loop_t loop;
	struct graft_config *cfg;
	struct dbms *dbms;
	struct db *db;
	struct tokens t;
	struct writer *writers;
	unsigned n_writers;
	uint64_t count; /* per writer; 0 = until killed */
	size_t pad_len;
	char *pad;
	unsigned active;
	int failed;
};

static int tokens_init(struct db *db, struct tokens *t)
{
	int rv = db_token(db, GRAPH_TOKEN_LABEL, "Load", 4, &t->load);
	if (rv == GRAFT_OK)
		rv = db_token(db, GRAPH_TOKEN_RELTYPE, "NEXT", 4, &t->next);
	if (rv == GRAFT_OK)
		rv = db_token(db, GRAPH_TOKEN_PROPKEY, "writer", 6, &t->writer);
	if (rv == GRAFT_OK)
		rv = db_token(db, GRAPH_TOKEN_PROPKEY, "seq", 3, &t->seq);
	if (rv == GRAFT_OK)
		rv = db_token(db, GRAPH_TOKEN_PROPKEY, "pad", 3, &t->pad);
	return rv;
}

/* *cfg must outlive the dbms: the options point into it. */
static int open_db(uv_loop_t *loop, const char *config,
		   struct graft_config **cfgp, struct dbms **dbms,
		   struct db **db)
{
	char errmsg[GRAFT_ERRMSG_SIZE] = "out of memory";
	struct graft_config *cfg;
	struct dbms_options o;
	int rv = graft_config_new(cfgp);

	cfg = *cfgp;

	if (rv == GRAFT_OK)
		rv = graft_config_load(cfg, config, errmsg);
	if (rv != GRAFT_OK) {
		fprintf(stderr, "graft-load: %s\n", errmsg);
		return rv;
	}
	dbms_options_from_config(cfg, &o);
	rv = dbms_open(loop, &o, dbms, errmsg);
	if (rv != GRAFT_OK) {
		fprintf(stderr, "graft-load: %s\n", errmsg);
	} else {
		*db = dbms_get(*dbms, dbms_default_db(*dbms));
	}
	return rv;
}

static void writer_next(struct writer *w);

static void commit_cb(struct db_commit_req *req, int status)
{
	struct writer *w = req->data;
	char line[96];
	int n;

	if (status != GRAFT_OK) {
		fprintf(stderr, "graft-load: writer %llu seq %llu: %s: %s\n",
			(unsigned long long)w->id, (unsigned long long)w->seq,
			graft_strerror(status), req->errmsg);
		w->load->failed = 1;
		w->load->active--;
		return;
	}
	n = snprintf(line, sizeof line, "%llu %llu %llu\n",
		     (unsigned long long)w->id, (unsigned long long)w->seq,
		     (unsigned long long)req->txid);
	if (write(STDOUT_FILENO, line, (size_t)n) != n) {
		w->load->failed = 1;
		w->load->active--;
		return;
	}
	w->prev_node = w->new_node;
	w->seq++;
	writer_next(w);
}

static int build_tx(struct writer *w, struct db_tx *tx)
{
	struct load *l = w->load;
	struct graft_value v;
	uint64_t rel;
	int rv = db_tx_node_create(tx, &w->new_node);

	if (rv == GRAFT_OK)
		rv = db_tx_node_add_label(tx, w->new_node, l->t.load);
	v = graft_value_int((int64_t)w->id);
	if (rv == GRAFT_OK)
		rv = db_tx_node_set_prop(tx, w->new_node, l->t.writer, &v);
	v = graft_value_int((int64_t)w->seq);
	if (rv == GRAFT_OK)
		rv = db_tx_node_set_prop(tx, w->new_node, l->t.seq, &v);
	if (rv == GRAFT_OK && l->pad_len > 0) {
		rv = graft_value_string(&v, l->pad, l->pad_len);
		if (rv == GRAFT_OK)
			rv = db_tx_node_set_prop(tx, w->new_node, l->t.pad, &v);
		graft_value_free(&v);
	}
	if (rv == GRAFT_OK && w->seq > 0)
		rv = db_tx_rel_create(tx, l->t.next, w->prev_node, w->new_node,
				      &rel);
	return rv;
}

static void writer_next(struct writer *w)
{
	struct load *l = w->load;
	struct db_tx *tx;
	int rv;

	if (l->count > 0 && w->seq >= l->count) {
		l->active--;
		return;
	}
	rv = db_tx_begin(l->db, 0, &tx);
	if (rv == GRAFT_OK) {
		rv = build_tx(w, tx);
		if (rv != GRAFT_OK)
			db_tx_rollback(tx);
	}
	if (rv == GRAFT_OK) {
		w->req.data = w;
		rv = db_commit(tx, &w->req, commit_cb);
	}
	if (rv != GRAFT_OK) {
		fprintf(stderr, "graft-load: writer %llu: %s\n",
			(unsigned long long)w->id, graft_strerror(rv));
		l->failed = 1;
		l->active--;
	}
}

static void closed_cb(void *arg)
{
	(void)arg;
}

static int cmd_write(const char *config, unsigned n, uint64_t count,
		     uint64_t first, size_t pad)
{
	struct load l;

	memset(&l, 0, sizeof l);
	uv_loop_init(&l.loop);
	if (open_db(&l.loop, config, &l.cfg, &l.dbms, &l.db) != GRAFT_OK ||
	    tokens_init(l.db, &l.t) != GRAFT_OK)
		return 1;
	l.count = count;
	l.pad_len = pad;
	l.pad = malloc(pad + 1);
	l.writers = calloc(n, sizeof *l.writers);
	if (l.pad == NULL || l.writers == NULL)
		return 1;
	memset(l.pad, 'x', pad);
	l.n_writers = l.active = n;
	for (unsigned i = 0; i < n; i++) {
		l.writers[i].load = &l;
		l.writers[i].id = first + i;
		writer_next(&l.writers[i]);
	}
	while (l.active > 0 && uv_run(&l.loop, UV_RUN_ONCE))
		;
	dbms_close(l.dbms, closed_cb, NULL);
	uv_run(&l.loop, UV_RUN_DEFAULT);
	uv_loop_close(&l.loop);
	graft_config_free(l.cfg);
	free(l.writers);
	free(l.pad);
	return l.failed;
}

/* Verification ------------------------------------------------------------ */

struct seen {
	uint64_t writer, seq, node;
};

static int cmp_seen(const void *a, const void *b)
{
	const struct seen *x = a, *y = b;
	if (x->writer != y->writer)
		return x->writer < y->writer ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static const struct graft_value *int_prop(struct db_tx *tx, uint64_t node,
					  uint32_t key)
{
	const struct graft_value *v = db_tx_node_prop(tx, node, key);
	return v != NULL && v->type == GRAFT_VALUE_INT ? v : NULL;
}

/* Collects every Load node; each must carry writer and seq. */
static int collect(struct db_tx *tx, const struct tokens *t, struct seen **out,
		   size_t *n)
{
	struct db_cursor c;
	size_t cap = 1024;
	uint64_t id;

	*n = 0;
	*out = malloc(cap * sizeof **out);
	db_cursor_label(&c, tx, t->load);
	while (*out != NULL && (id = db_cursor_next(&c)) != GRAPH_NO_ID) {
		const struct graft_value *w = int_prop(tx, id, t->writer);
		const struct graft_value *s = int_prop(tx, id, t->seq);
		if (w == NULL || s == NULL) {
			printf("node %llu is half-applied: it lacks writer or seq\n",
			       (unsigned long long)id);
			return 1;
		}
		if (*n == cap)
			*out = realloc(*out, (cap *= 2) * sizeof **out);
		if (*out == NULL)
			break;
		(*out)[(*n)++] = (struct seen){(uint64_t)w->u.i, (uint64_t)s->u.i, id};
	}
	if (*out == NULL) {
		printf("out of memory\n");
		return 1;
	}
	qsort(*out, *n, sizeof **out, cmp_seen);
	return 0;
}

/* Each writer's nodes are seq 0..k without gaps, each after the first has
 * exactly one incoming NEXT from its predecessor. */
static int check_chains(struct db_tx *tx, const struct tokens *t,
			const struct seen *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		bool first = i == 0 || s[i - 1].writer != s[i].writer;
		struct db_cursor c;
		struct graph_rel_ends ends;
		uint64_t rel, count = 0;

		if (first ? s[i].seq != 0 : s[i].seq != s[i - 1].seq + 1) {
			printf("writer %llu: seq %llu follows a gap\n",
			       (unsigned long long)s[i].writer,
			       (unsigned long long)s[i].seq);
			return 1;
		}
		db_cursor_expand(&c, tx, s[i].node, GRAPH_IN, t->next);
		while ((rel = db_cursor_next(&c)) != GRAPH_NO_ID) {
			db_tx_rel_ends(tx, rel, &ends);
			if (first || ends.src != s[i - 1].node)
				break;
			count++;
		}
		if (count != (first ? 0u : 1u) || rel != GRAPH_NO_ID) {
			printf("writer %llu seq %llu: NEXT relationship missing or "
			       "wrong (half-applied transaction)\n",
			       (unsigned long long)s[i].writer,
			       (unsigned long long)s[i].seq);
			return 1;
		}
	}
	return 0;
}

static int check_acks(const char *acks, const struct seen *s, size_t n)
{
	FILE *f = fopen(acks, "r");
	unsigned long long w, q, txid;
	uint64_t count = 0;
	int rv = 0;

	if (f == NULL) {
		printf("cannot open %s: %s\n", acks, strerror(errno));
		return 1;
	}
	/* A line cut by kill -9 has fewer than three fields: not an ack. */
	while (rv == 0 && fscanf(f, "%llu %llu %llu\n", &w, &q, &txid) == 3) {
		struct seen key = {w, q, 0};
		count++;
		if (bsearch(&key, s, n, sizeof *s, cmp_seen) == NULL) {
			printf("LOST: acknowledged writer %llu seq %llu (txid %llu) "
			       "is missing\n", w, q, txid);
			rv = 1;
		}
	}
	fclose(f);
	if (rv == 0)
		printf("verified: %llu acknowledged transactions present, %zu "
		       "Load nodes, none half-applied\n",
		       (unsigned long long)count, n);
	return rv;
}

static int cmd_verify(const char *config, const char *acks)
{
	uv_loop_t loop;
	struct graft_config *cfg = NULL;
	struct dbms *dbms;
	struct db *db;
	struct db_tx *tx;
	struct tokens t;
	struct seen *s = NULL;
	size_t n = 0;
	int rv;

	uv_loop_init(&loop);
	if (open_db(&loop, config, &cfg, &dbms, &db) != GRAFT_OK ||
	    tokens_init(db, &t) != GRAFT_OK ||
	    db_tx_begin(db, DB_TX_READ_ONLY, &tx) != GRAFT_OK)
		return 1;
	rv = collect(tx, &t, &s, &n);
	if (rv == 0)
		rv = check_chains(tx, &t, s, n);
	if (rv == 0)
		rv = check_acks(acks, s, n);
	db_tx_rollback(tx);
	free(s);
	dbms_close(dbms, closed_cb, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	graft_config_free(cfg);
	return rv;
}

int main(int argc, char **argv)
{
	const char *config = NULL, *acks = NULL;
	unsigned writers = 8;
	uint64_t count = 0, first = 0;
	size_t pad = 32;

	if (argc < 2)
		goto usage;
	for (int i = 2; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--config") == 0)
			config = argv[i + 1];
		else if (strcmp(argv[i], "--acks") == 0)
			acks = argv[i + 1];
		else if (strcmp(argv[i], "--writers") == 0)
			writers = (unsigned)strtoul(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--count") == 0)
			count = strtoull(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--first-writer") == 0)
			first = strtoull(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--pad") == 0)
			pad = strtoul(argv[i + 1], NULL, 10);
		else
			goto usage;
	}
	graft_log_open(NULL, GRAFT_LOG_WARN, true, NULL);
	if (config != NULL && strcmp(argv[1], "write") == 0 && writers > 0)
		return cmd_write(config, writers, count, first, pad);
	if (config != NULL && acks != NULL && strcmp(argv[1], "verify") == 0)
		return cmd_verify(config, acks);
usage:
	fprintf(stderr, "usage: graft-load write --config FILE [--writers N] "
			"[--count N] [--first-writer W] [--pad BYTES]\n"
			"       graft-load verify --config FILE --acks FILE\n");
	return 2;
}
