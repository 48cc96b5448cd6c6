/* A read replica hosts the databases the cores host (protocol in
 * catchup.h, DATABASES).
 *
 * Happy path: every MIRROR_MS, ask the next core that answers discovery
 * for its databases -> it answers with the index of the last CREATE/DROP
 * DATABASE it applied and each database's origin (the index that created
 * it), and closes -> a database the cores have and this replica does not
 * is created here and followed from transaction 0 (follow.c); one this
 * replica has and the cores do not, or whose origin differs (dropped and
 * created again under the same name), is dropped here (its stream is cut
 * first), then created again if the cores have it. Each change is
 * recorded (dbms_mirror) so that a restart, and this replica's own
 * subscribers, see the same list.
 *
 * Failures: a core that cannot be reached, or answers something else, is
 * left for the next one at the next round. A core behind the others (a
 * follower that has not applied the newest change yet) answers with an
 * older change index than one already mirrored: its list is ignored, so a
 * database is never dropped and created again by cores answering in turn.
 * A change that fails here (a disk error) is logged and tried again at the
 * next round. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../util/log.h"
#include "replica_int.h"

#define MIRROR_MS 500
#define ANSWER_MAX (64u << 10)

struct list_conn {
	struct tcp_conn tcp; /* first */
	struct catchup_replica *r;
	struct graft_buf in;
	char out[256];
};

/* The databases one upstream listed. */
struct listing {
	char cluster[40];
	uint64_t change_index;
	size_t n;
	char names[CATCHUP_MAX_DATABASES][128];
	uint64_t origins[CATCHUP_MAX_DATABASES];
};

static bool is_kept(const struct catchup_replica *r, const char *db)
{
	return strcmp(db, "system") == 0 ||
	       strcmp(db, dbms_default_db(r->dbms)) == 0;
}

static int listed(const struct listing *l, const char *db)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->names[i], db) == 0)
			return (int)i;
	return -1;
}

static void drop_here(struct catchup_replica *r, const char *db,
		      uint64_t change_index)
{
	char errmsg[GRAFT_ERRMSG_SIZE], name[128];
	struct follow *f = replica_follow_find(r, db);

	snprintf(name, sizeof name, "%s", db); /* db may be the slot's */
	if (f != NULL)
		follow_forget(f);
	if (dbms_mirror(r->dbms, false, name, 0, change_index, errmsg) !=
	    GRAFT_OK) {
		graft_warn("read replica: cannot drop database %s as the cores "
			   "did: %s", name, errmsg);
		return;
	}
	graft_info("read replica: database %s was dropped on the cores: "
		   "dropped here", name);
}

static void create_here(struct catchup_replica *r, const char *db,
			uint64_t origin, uint64_t change_index)
{
	char errmsg[GRAFT_ERRMSG_SIZE];
	int rv = dbms_mirror(r->dbms, true, db, origin, change_index, errmsg);

	if (rv == GRAFT_OK && replica_follow_add(r, db) != GRAFT_OK)
		rv = graft_errf(errmsg, GRAFT_ETOOBIG, "a replica follows at "
				"most %d databases", CATCHUP_MAX_DATABASES);
	if (rv != GRAFT_OK) {
		graft_warn("read replica: cannot create database %s as the "
			   "cores did: %s", db, errmsg);
		return;
	}
	graft_info("read replica: database %s was created on the cores (Raft "
		   "index %" PRIu64 "): created here, following it", db,
		   origin);
}

/* Makes this replica's databases those of l. */
static void mirror(struct catchup_replica *r, const struct listing *l)
{
	struct db *dbs[CATCHUP_MAX_DATABASES];
	char names[CATCHUP_MAX_DATABASES][128];
	size_t n = dbms_list(r->dbms, dbs, CATCHUP_MAX_DATABASES);
	int j;

	if (l->change_index < r->list_index)
		return; /* a core behind the one asked before */
	r->list_index = l->change_index;
	if (n > CATCHUP_MAX_DATABASES)
		n = CATCHUP_MAX_DATABASES;
	for (size_t i = 0; i < n; i++) /* a drop changes dbs */
		snprintf(names[i], sizeof names[i], "%s", db_name(dbs[i]));
	for (size_t i = 0; i < n; i++) {
		j = listed(l, names[i]);
		if (!is_kept(r, names[i]) &&
		    (j < 0 ||
		     l->origins[j] != dbms_origin(r->dbms, names[i])))
			drop_here(r, names[i], l->change_index);
	}
	for (size_t i = 0; i < l->n; i++)
		if (dbms_get(r->dbms, l->names[i]) == NULL)
			create_here(r, l->names[i], l->origins[i],
				    l->change_index);
}

/* A list of this replica's cluster: one of another (a core's transaction
 * address that leads to another cluster's member) changes nothing here. */
static bool ours(struct catchup_replica *r, const struct listing *l)
{
	bool was = r->list_refused;

	r->list_refused = r->cluster_id[0] == '\0' ||
			  strcasecmp(l->cluster, r->cluster_id) != 0;
	if (!r->list_refused || was)
		return !r->list_refused;
	graft_error("read replica: the databases listed by %s belong to "
		    "cluster %s; this replica belongs to cluster %s (recorded "
		    "in its data/dbms/cluster_id): the list is ignored, no "
		    "database is created or dropped",
		    r->cores[r->list_core].p.catchup,
		    l->cluster, r->cluster_id[0] != '\0' ? r->cluster_id
						       : "(none yet)");
	return false;
}

/* The whole answer, NUL-terminated. GRAFT_OK when it is a list. */
static int parse_listing(char *text, struct listing *l)
{
	char proto[32], word[16], *line = text, *nl;
	unsigned long long index, origin;
	size_t n;

	nl = strchr(line, '\n');
	if (nl == NULL || sscanf(line, "%31s %15s %39s %llu %zu", proto, word,
				 l->cluster, &index, &n) != 5 ||
	    strcmp(proto, CATCHUP_PROTO) != 0 ||
	    strcmp(word, "DATABASES") != 0 || n > CATCHUP_MAX_DATABASES)
		return GRAFT_EINVAL;
	l->change_index = index;
	for (l->n = 0; l->n < n; l->n++) {
		line = nl + 1;
		nl = strchr(line, '\n');
		if (nl == NULL ||
		    sscanf(line, "%127s %llu", l->names[l->n], &origin) != 2)
			return GRAFT_EINVAL;
		l->origins[l->n] = origin;
	}
	return GRAFT_OK;
}

static struct tcp_conn *no_conn_new(struct tcp_server *srv)
{
	(void)srv;
	return NULL; /* asks only */
}

static void lc_connected(struct tcp_conn *tc, int status)
{
	struct list_conn *lc = (struct list_conn *)tc;
	int n;

	if (status != 0 || lc->r->closing)
		return;
	n = snprintf(lc->out, sizeof lc->out, CATCHUP_PROTO " DATABASES %s\n",
		     lc->r->o.server_id);
	tcp_conn_read(tc, true);
	tcp_conn_timer(tc, lc->r->o.inactivity_ms, 0);
	tcp_conn_write(tc, lc->out, (size_t)n);
}

static void lc_alloc(struct tcp_conn *tc, uv_buf_t *buf)
{
	struct list_conn *lc = (struct list_conn *)tc;

	tcp_alloc_in(&lc->in, 4096, buf);
}

static void lc_read(struct tcp_conn *tc, ssize_t n)
{
	struct list_conn *lc = (struct list_conn *)tc;
	struct listing *l;

	if (n > 0) {
		lc->in.len += (size_t)n;
		if (lc->in.len > ANSWER_MAX)
			tcp_conn_close(tc);
		return;
	}
	/* The upstream closes once it has answered. */
	if (n != UV_EOF || lc->r->closing ||
	    graft_buf_append(&lc->in, "", 1) != GRAFT_OK)
		return;
	l = malloc(sizeof *l);
	if (l != NULL && parse_listing((char *)lc->in.data, l) == GRAFT_OK &&
	    ours(lc->r, l))
		mirror(lc->r, l);
	free(l);
}

static void lc_timeout(struct tcp_conn *tc)
{
	tcp_conn_close(tc);
}

static void lc_closing(struct tcp_conn *tc)
{
	((struct list_conn *)tc)->r->listing = false;
}

static void lc_free(struct tcp_conn *tc)
{
	struct list_conn *lc = (struct list_conn *)tc;

	graft_buf_free(&lc->in);
	free(lc);
}

const struct tcp_ops mirror_tcp_ops = {
	.conn_new = no_conn_new,
	.connected = lc_connected,
	.alloc = lc_alloc,
	.read = lc_read,
	.timeout = lc_timeout,
	.closing = lc_closing,
	.conn_free = lc_free,
};

/* The next core after the one asked last that answers discovery and has a
 * transaction address; -1 when none does. */
static int next_core(const struct catchup_replica *r)
{
	int start = r->list_core + 1;

	for (int k = 0; k < CATCHUP_MAX_UPSTREAMS; k++) {
		int i = (start + k) % CATCHUP_MAX_UPSTREAMS;
		const struct replica_core *c = &r->cores[i];

		if (c->answering && c->p.catchup[0] != '\0')
			return i;
	}
	return -1;
}

void mirror_tick(struct catchup_replica *r)
{
	struct sockaddr_storage sa;
	struct list_conn *lc;
	uint64_t now = uv_now(r->loop);
	int i;

	if (r->listing || r->closing || now < r->next_list_ms)
		return;
	r->next_list_ms = now + MIRROR_MS;
	i = next_core(r);
	if (i < 0)
		return;
	r->list_core = i;
	if (net_resolve(&r->resolver, r->cores[i].p.catchup, &sa, NULL, NULL) != GRAFT_OK)
		return;
	lc = calloc(1, sizeof *lc);
	if (lc == NULL)
		return;
	lc->r = r;
	graft_buf_init(&lc->in);
	if (tcp_connect(&r->lists, &lc->tcp, (struct sockaddr *)&sa) ==
	    GRAFT_OK)
		r->listing = true;
}
