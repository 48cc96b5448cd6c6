/* The roster (roster.h): a small table of servers, their positions as
 * discovery text, and the tracks lag is measured against. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "../util/err.h"
#include "roster.h"

struct roster_server *roster_put(struct roster *r, const char *server_id)
{
	struct roster_server *s =
		(struct roster_server *)roster_find(r, server_id);

	if (s != NULL)
		return s;
	if (r->n == ROSTER_MAX)
		return NULL;
	s = &r->servers[r->n++];
	memset(s, 0, sizeof *s);
	snprintf(s->server_id, sizeof s->server_id, "%s", server_id);
	return s;
}

const struct roster_server *roster_find(const struct roster *r,
					const char *server_id)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->servers[i].server_id, server_id) == 0)
			return &r->servers[i];
	return NULL;
}

void roster_expire(struct roster *r, uint64_t now, uint64_t max_age_ms)
{
	size_t kept = 0;

	for (size_t i = 0; i < r->n; i++)
		if (now - r->servers[i].seen_ms <= max_age_ms)
			r->servers[kept++] = r->servers[i];
	r->n = kept;
}

bool roster_applied(const struct roster_server *s, const char *db,
		    uint64_t *applied)
{
	for (size_t i = 0; i < s->n_dbs; i++)
		if (strcmp(s->dbs[i].name, db) == 0) {
			*applied = s->dbs[i].applied;
			return true;
		}
	return false;
}

void roster_set_applied(struct roster_server *s, const char *db,
			uint64_t applied, uint64_t at_ms)
{
	size_t i = 0;

	while (i < s->n_dbs && strcmp(s->dbs[i].name, db) != 0)
		i++;
	if (i == ROSTER_MAX_DBS || strlen(db) >= ROSTER_DB_LEN)
		return;
	if (i == s->n_dbs) {
		snprintf(s->dbs[i].name, sizeof s->dbs[i].name, "%s", db);
		s->dbs[i].applied = 0;
		s->dbs[i].at_ms = 0;
		s->n_dbs++;
	}
	if (applied > s->dbs[i].applied ||
	    (applied == s->dbs[i].applied && at_ms > s->dbs[i].at_ms)) {
		s->dbs[i].applied = applied;
		s->dbs[i].at_ms = at_ms;
	}
}

/* Text ------------------------------------------------------------------- */

/* Appends text, keeping *len within n (n once it no longer fits). */
static void put(char *out, size_t n, size_t *len, const char *text)
{
	int w;

	if (*len >= n)
		return;
	w = snprintf(out + *len, n - *len, "%s", text);
	*len = w < 0 || (size_t)w >= n - *len ? n : *len + (size_t)w;
}

void roster_positions_text(const struct roster_server *s, uint64_t now,
			   char *out, size_t n)
{
	char one[ROSTER_DB_LEN + 48];
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = 0; i < s->n_dbs; i++) {
		const struct roster_db *d = &s->dbs[i];
		size_t before = len;
		int w = snprintf(one, sizeof one, "%s%s:%" PRIu64,
				 i > 0 ? "," : "", d->name, d->applied);

		if (now > d->at_ms && w > 0 && (size_t)w < sizeof one)
			snprintf(one + w, sizeof one - (size_t)w, "@%" PRIu64,
				 now - d->at_ms);
		put(out, n, &len, one);
		if (len >= n) { /* cut at the last whole position */
			out[before] = '\0';
			len = before;
			break;
		}
	}
	if (len == 0)
		snprintf(out, n, "-");
}

int roster_positions_parse(struct roster_server *s, const char *text,
			   uint64_t now)
{
	char name[ROSTER_DB_LEN];
	unsigned long long txid, age;
	int used;

	if (strcmp(text, "-") == 0)
		return GRAFT_OK;
	for (const char *p = text; *p != '\0';) {
		if (sscanf(p, "%63[^:,]:%llu%n", name, &txid, &used) != 2)
			return GRAFT_EINVAL;
		p += used;
		age = 0;
		if (*p == '@') {
			if (sscanf(p, "@%llu%n", &age, &used) != 1)
				return GRAFT_EINVAL;
			p += used;
		}
		roster_set_applied(s, name, txid, age < now ? now - age : 0);
		if (*p == ',')
			p++;
		else if (*p != '\0')
			return GRAFT_EINVAL;
	}
	return GRAFT_OK;
}

void roster_replicas_text(const struct roster *r, uint64_t now,
			  uint64_t max_age_ms, char *out, size_t n)
{
	char pos[ROSTER_TEXT_LEN], one[ROSTER_TEXT_LEN + 4 * CLUSTER_ADDR_LEN];
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = 0; i < r->n; i++) {
		const struct roster_server *s = &r->servers[i];

		if (!s->replica || s->direct_ms == 0 ||
		    now - s->direct_ms > max_age_ms)
			continue;
		roster_positions_text(s, now, pos, sizeof pos);
		/* '-' for an empty field: strtok_r would merge two '/' */
		snprintf(one, sizeof one, "%s/%s/%s/%s/%s/%s", s->server_id,
			 s->bolt[0] != '\0' ? s->bolt : "-",
			 s->http[0] != '\0' ? s->http : "-",
			 s->tags[0] != '\0' ? s->tags : "-", pos,
			 s->catchup[0] != '\0' ? s->catchup : "-");
		if (len + strlen(one) + 2 > n)
			break; /* the rest is heard of from another core */
		if (len > 0)
			put(out, n, &len, ";");
		put(out, n, &len, one);
	}
	if (len == 0)
		snprintf(out, n, "-");
}

/* A field of a replica's entry: "-" for empty. */
static void field(char *out, size_t n, const char *text)
{
	snprintf(out, n, "%s", strcmp(text, "-") == 0 ? "" : text);
}

/* One "<id>/<bolt>/<http>/<tags>/<positions>[/<transaction address>]"
 * into r (the address is new: a member without it passes on five
 * fields). */
static int replica_parse(struct roster *r, char *one, const char *self_id,
			 uint64_t now)
{
	char *f[6], *save = NULL;
	struct roster_server *s;
	size_t k = 0;

	for (char *t = strtok_r(one, "/", &save); t != NULL && k < 6;
	     t = strtok_r(NULL, "/", &save))
		f[k++] = t;
	if (k < 5 || strlen(f[0]) > IDENTITY_LEN ||
	    strlen(f[1]) >= CLUSTER_ADDR_LEN ||
	    strlen(f[2]) >= CLUSTER_ADDR_LEN ||
	    strlen(f[3]) >= CLUSTER_TAGS_LEN ||
	    (k == 6 && strlen(f[5]) >= CLUSTER_ADDR_LEN))
		return GRAFT_EINVAL;
	if (strcmp(f[0], self_id) == 0)
		return GRAFT_OK;
	s = roster_put(r, f[0]);
	if (s == NULL)
		return GRAFT_OK; /* full: the table keeps whom it has */
	s->replica = true;
	s->seen_ms = now;
	field(s->bolt, sizeof s->bolt, f[1]);
	field(s->http, sizeof s->http, f[2]);
	field(s->tags, sizeof s->tags, f[3]);
	field(s->catchup, sizeof s->catchup, k == 6 ? f[5] : "-");
	return roster_positions_parse(s, f[4], now);
}

int roster_replicas_parse(struct roster *r, const char *text,
			  const char *self_id, uint64_t now)
{
	char copy[ROSTER_TEXT_LEN], *save = NULL;
	int rv = GRAFT_OK;

	if (strcmp(text, "-") == 0)
		return GRAFT_OK;
	if (strlen(text) >= sizeof copy)
		return GRAFT_EINVAL;
	snprintf(copy, sizeof copy, "%s", text);
	for (char *one = strtok_r(copy, ";", &save); one != NULL && rv == 0;
	     one = strtok_r(NULL, ";", &save))
		rv = replica_parse(r, one, self_id, now);
	return rv;
}

/* Tracks ----------------------------------------------------------------- */

void roster_track_note(struct roster_track *t, uint64_t txid, uint64_t now)
{
	size_t last = (t->head + t->n - 1) % ROSTER_TRACK_LEN;

	/* One sample per ROSTER_TRACK_MS at most, so that the ring spans
	 * minutes under any write rate: lag is then known to within that. */
	if (t->n > 0 && txid < t->ring[last].txid)
		t->head = t->n = 0; /* the database was dropped and created again */
	else if (t->n > 0 && (t->ring[last].txid == txid ||
			      now - t->ring[last].ms < ROSTER_TRACK_MS))
		return;
	if (t->n == ROSTER_TRACK_LEN) { /* forget the oldest */
		t->head = (t->head + 1) % ROSTER_TRACK_LEN;
		t->n--;
	}
	last = (t->head + t->n) % ROSTER_TRACK_LEN;
	t->ring[last].txid = txid;
	t->ring[last].ms = now;
	t->n++;
}

uint64_t roster_track_lag_ms(const struct roster_track *t, uint64_t applied,
			     uint64_t at_ms, uint64_t now)
{
	/* The oldest noted transaction after applied: this member has held
	 * something the reader lacks since then. Past the ring's memory the
	 * oldest it has is a lower bound. */
	for (size_t i = 0; i < t->n; i++) {
		size_t at = (t->head + i) % ROSTER_TRACK_LEN;
		uint64_t since = t->ring[at].ms;

		if (t->ring[at].txid <= applied)
			continue;
		if (now > at_ms + ROSTER_REPORT_MS) /* silent: still behind */
			return now > since ? now - since : 0;
		return at_ms > since ? at_ms - since : 0;
	}
	return 0;
}

/* The track of db in tracks, added if new and there is room. */
static struct roster_track *track(struct roster_track *tracks,
				  size_t *n_tracks, const char *db)
{
	struct roster_track *t;

	for (size_t i = 0; i < *n_tracks; i++)
		if (strcmp(tracks[i].db, db) == 0)
			return &tracks[i];
	if (*n_tracks == ROSTER_MAX_DBS)
		return NULL;
	t = &tracks[(*n_tracks)++];
	memset(t, 0, sizeof *t);
	snprintf(t->db, sizeof t->db, "%s", db);
	return t;
}

/* The newest position of db among the n servers. O(n * dbs). */
static uint64_t newest(const struct cypher_server *sv, size_t n,
		       const char *db)
{
	uint64_t max = 0;

	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < sv[i].n_dbs; k++)
			if (strcmp(sv[i].dbs[k].name, db) == 0 &&
			    sv[i].dbs[k].applied > max)
				max = sv[i].dbs[k].applied;
	return max;
}

void roster_lags(struct cypher_server *sv, size_t n,
		 struct roster_track *tracks, size_t *n_tracks, uint64_t now)
{
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < sv[i].n_dbs; k++) {
			struct cypher_server_db *d = &sv[i].dbs[k];
			uint64_t top = newest(sv, n, d->name);
			struct roster_track *t = track(tracks, n_tracks,
						       d->name);

			if (t != NULL)
				roster_track_note(t, top, now);
			d->lag_txs = (int64_t)(top - d->applied);
			d->lag_ms = t != NULL ? (int64_t)roster_track_lag_ms(
							t, d->applied,
							d->at_ms, now)
					      : -1;
		}
}
