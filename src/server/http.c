#include <config.h>

#include "http.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <graft.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "../db/dbms.h"
#include "../util/err.h"
#include "net.h"

/* Room for the decoded credentials of any header that fits the request
 * buffer (base64: 3 bytes per 4 characters). */
#define HTTP_CREDENTIALS_MAX 6144

bool http_request_complete(const char *buf, size_t len)
{
	for (size_t i = 3; i < len; i++)
		if (memcmp(buf + i - 3, "\r\n\r\n", 4) == 0)
			return true;
	return false;
}

static const char *status_text(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 429:
		return "Too Many Requests";
	case 500:
		return "Internal Server Error";
	default:
		return "Request Header Fields Too Large";
	}
}

/* headers: extra header lines, each ending in CRLF ("" for none). */
static size_t respond_with(char *out, size_t cap, int status,
			   const char *headers, const char *type,
			   const char *body)
{
	int n = snprintf(out, cap,
			 "HTTP/1.1 %d %s\r\n%sContent-Type: %s\r\n"
			 "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
			 status, status_text(status), headers, type,
			 strlen(body), body);

	return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

static size_t respond(char *out, size_t cap, int status, const char *type,
		      const char *body)
{
	return respond_with(out, cap, status, "", type, body);
}

size_t http_error(char *out, size_t cap, int status, const char *reason)
{
	char body[256];

	snprintf(body, sizeof body, "{\"error\": \"%s\"}\n", reason);
	return respond(out, cap, status, "application/json", body);
}

/* The value of header name (case-insensitive) in the request head buf,
 * without leading blanks, up to the end of its line: *vlen bytes. */
static const char *header(const char *buf, size_t len, const char *name,
			  size_t *vlen)
{
	size_t n = strlen(name), i, end;

	for (i = 0; i + 2 + n < len; i++) {
		if (buf[i] != '\n' || strncasecmp(buf + i + 1, name, n) != 0 ||
		    buf[i + 1 + n] != ':')
			continue;
		i += 2 + n;
		while (i < len && (buf[i] == ' ' || buf[i] == '\t'))
			i++;
		for (end = i; end < len && buf[end] != '\r' && buf[end] != '\n';)
			end++;
		*vlen = end - i;
		return buf + i;
	}
	return NULL;
}

/* The host the client used to reach this port (its Host header), for the
 * links of the discovery document, as Neo4j builds them; only characters a
 * host:port can hold, so the JSON stays well formed. */
static void request_host(const char *buf, size_t len, char *host, size_t cap)
{
	size_t vlen = 0, i;
	const char *v = header(buf, len, "Host", &vlen);

	for (i = 0; v != NULL && i < vlen; i++)
		if (!isalnum((unsigned char)v[i]) &&
		    (v[i] == '\0' || strchr(".-:[]_", v[i]) == NULL))
			v = NULL;
	if (v == NULL || vlen == 0 || vlen >= cap)
		snprintf(host, cap, "localhost:7474");
	else
		snprintf(host, cap, "%.*s", (int)vlen, v);
}

/* GET /: the discovery document of Neo4j's HTTP API, with the edition
 * dbms.components() reports. Only endpoints graft serves are listed: the
 * per-database health checks, not the Cypher transaction API. */
static size_t discovery(struct net *net, const char *buf, size_t len,
			char *out, size_t cap)
{
	char body[1024], host[128];

	request_host(buf, len, host, sizeof host);
	snprintf(body, sizeof body,
		 "{\"bolt_routing\": \"neo4j://%s\", \"bolt_direct\": "
		 "\"bolt://%s\", \"db/cluster\": "
		 "\"http://%s/db/{databaseName}/cluster\", \"neo4j_version\": \""
		 GRAFT_NEO4J_VERSION "\", \"neo4j_edition\": \"community\", "
		 "\"graft_version\": \"" PACKAGE_VERSION "\"}\n",
		 net->bolt_advertised, net->bolt_advertised, host);
	return respond(out, cap, 200, "application/json", body);
}

/* s as the inside of a JSON string (quotes, backslashes and control
 * characters escaped), cut to fit cap. */
static const char *json_str(char *out, size_t cap, const char *s)
{
	size_t n = 0;

	for (; *s != '\0' && n + 7 < cap; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\') {
			out[n++] = '\\';
			out[n++] = (char)ch;
		} else if (ch < 0x20) {
			n += (size_t)snprintf(out + n, cap - n, "\\u%04x", ch);
		} else {
			out[n++] = (char)ch;
		}
	}
	out[n] = '\0';
	return out;
}

/* The subscribers of db's stream here, as their reports say (catchup.h):
 * a JSON list. */
static void subscribers_json(struct net *net, const char *db, char *out,
			     size_t cap)
{
	struct catchup_subscriber subs[CATCHUP_MAX_SUBSCRIBERS];
	char id[200];
	size_t n = 0, len = 0;

	if (net->catchup != NULL)
		n = catchup_server_subscribers(net->catchup, subs,
					       CATCHUP_MAX_SUBSCRIBERS);
	out[0] = '\0';
	for (size_t i = 0; i < n && len < cap; i++) {
		if (!subs[i].connected || strcmp(subs[i].db, db) != 0)
			continue;
		len += (size_t)snprintf(
			out + len, cap - len,
			"%s{\"serverId\": \"%s\", \"lastAppliedTxId\": %llu, "
			"\"replicationLagTxs\": %llu, \"millisSinceReport\": "
			"%llu}", len > 0 ? ", " : "",
			json_str(id, sizeof id, subs[i].server_id),
			(unsigned long long)subs[i].applied,
			(unsigned long long)subs[i].lag_txs,
			(unsigned long long)subs[i].age_ms);
	}
}

/* The pause monitor's figures (pause.h), the same on every member: pauses
 * at or above the alert threshold, their total and the longest lateness. */
static const char *pauses_json(const struct net *net, char *out, size_t cap)
{
	struct pause_stats st = {0};

	if (net->pauses != NULL)
		pause_monitor_get(net->pauses, &st);
	snprintf(out, cap,
		 "\"vmPauses\": %llu, \"vmPauseTimeMillis\": %llu, "
		 "\"vmPauseMaxMillis\": %llu, ",
		 (unsigned long long)st.count, (unsigned long long)st.total_ms,
		 (unsigned long long)st.max_ms);
	return out;
}

/* /db/<name>/cluster/status of a core member, from its live Raft state,
 * with the subscribers of its transaction stream (read replicas). */
static size_t core_status(struct net *net, struct db *db, char *out,
			  size_t cap)
{
	struct cluster_status st;
	char body[12288], voters[1200] = "", subs[8192], pauses[128];
	size_t len = 0;

	cluster_get_status(net->cluster, &st);
	subscribers_json(net, db_name(db), subs, sizeof subs);
	for (size_t i = 0; i < st.n_voters && len < sizeof voters; i++)
		len += (size_t)snprintf(voters + len, sizeof voters - len,
					"%s\"%s\"", i > 0 ? ", " : "",
					st.voters[i]);
	snprintf(body, sizeof body,
		 "{\"database\": \"%s\", \"memberId\": \"%s\", "
		 "\"leader\": %s%s%s, \"role\": \"%s\", "
		 "\"millisSinceLastLeaderMessage\": %lld, "
		 "\"raftCommandsPerSecond\": %.1f, "
		 "\"proposedEntries\": %llu, \"proposalBatches\": %llu, "
		 "\"lastAppliedRaftIndex\": %llu, \"raftTerm\": %llu, "
		 "\"lastCommittedTxId\": %llu, \"votingMembers\": [%s], "
		 "\"participatingInRaftGroup\": %s, \"core\": true, "
		 "\"subscribers\": [%s], %s"
		 "\"healthy\": %s, \"isHealthy\": %s}\n",
		 db_name(db), st.member_id, st.leader_id[0] ? "\"" : "",
		 st.leader_id[0] ? st.leader_id : "null",
		 st.leader_id[0] ? "\"" : "", st.role,
		 (long long)st.millis_since_leader, st.commands_per_second,
		 (unsigned long long)st.proposed_entries,
		 (unsigned long long)st.proposal_batches,
		 (unsigned long long)st.last_applied,
		 (unsigned long long)st.term,
		 (unsigned long long)db_last_txid(db), voters,
		 st.n_voters > 0 ? "true" : "false", subs,
		 pauses_json(net, pauses, sizeof pauses),
		 st.has_leader ? "true" : "false",
		 st.has_leader ? "true" : "false");
	return respond(out, cap, 200, "application/json", body);
}

static size_t single_status(struct net *net, struct db *db, char *out,
			    size_t cap)
{
	char body[768], pauses[128];

	snprintf(body, sizeof body,
		 "{\"database\": \"%s\", \"healthy\": true, \"isHealthy\": true,"
		 " \"participatingInRaftGroup\": false, \"votingMembers\": [],"
		 " \"lastAppliedRaftIndex\": 0, \"lastCommittedTxId\": %llu, %s"
		 "\"memberId\": \"%s\", \"millisSinceLastLeaderMessage\": null}\n",
		 db_name(db), (unsigned long long)db_last_txid(db),
		 pauses_json(net, pauses, sizeof pauses), net->server_id);
	return respond(out, cap, 200, "application/json", body);
}

/* A read replica's: where it is, its upstream and its lag (catchup.h). */
static size_t replica_status(struct net *net, struct db *db,
			     const struct catchup_lag *lag, char *out,
			     size_t cap)
{
	char body[1024], error[400], pauses[128];
	uint64_t behind = lag->upstream_last > lag->applied
				  ? lag->upstream_last - lag->applied
				  : 0;

	snprintf(body, sizeof body,
		 "{\"database\": \"%s\", \"memberId\": \"%s\", "
		 "\"role\": \"READ_REPLICA\", \"core\": false, "
		 "\"participatingInRaftGroup\": false, \"votingMembers\": [], "
		 "\"lastCommittedTxId\": %llu, \"upstream\": \"%s\", "
		 "\"upstreamLastTxId\": %llu, \"replicationLagTxs\": %llu, "
		 "\"replicationLagMillis\": %lld, \"catchupError\": \"%s\", "
		 "%s\"healthy\": %s, \"isHealthy\": %s}\n",
		 db_name(db), net->server_id,
		 (unsigned long long)lag->applied, lag->upstream,
		 (unsigned long long)lag->upstream_last,
		 (unsigned long long)behind, (long long)lag->lag_ms,
		 json_str(error, sizeof error, lag->error),
		 pauses_json(net, pauses, sizeof pauses),
		 lag->following ? "true" : "false",
		 lag->following ? "true" : "false");
	return respond(out, cap, 200, "application/json", body);
}

/* true: 200 "true"; false: 404 "false" (what load balancers check). */
static size_t check_answer(char *out, size_t cap, bool yes)
{
	return respond(out, cap, yes ? 200 : 404, "text/plain",
		       yes ? "true" : "false");
}

/* /db/<name>/cluster/<check>: a SINGLE server hosts every database as its
 * writer, so writable and available are true, read-only is false; a core
 * member answers from its Raft state (writable: the leader taking writes;
 * read-only: a follower; available: either, with a known leader). */
static size_t cluster_check(struct net *net, const char *path, char *out,
			    size_t cap)
{
	char name[128], check[32];
	struct cluster_status st;
	struct catchup_lag lag;
	struct db *db;

	lag.following = false;
	if (sscanf(path, "/db/%127[^/]/cluster/%31s", name, check) != 2)
		return http_error(out, cap, 404, "no such endpoint");
	db = dbms_get(net->dbms, name);
	if (db == NULL)
		return http_error(out, cap, 404, "no such database");
	memset(&st, 0, sizeof st);
	st.writable = st.has_leader = true;
	if (net->cluster != NULL)
		cluster_get_status(net->cluster, &st);
	if (net->replica != NULL &&
	    catchup_replica_lag(net->replica, name, &lag) == GRAFT_OK) {
		st.writable = false; /* a replica serves reads only */
		st.has_leader = lag.following;
	}
	if (strcmp(check, "writable") == 0)
		return check_answer(out, cap, st.writable);
	if (strcmp(check, "available") == 0)
		return check_answer(out, cap, st.writable || st.has_leader);
	if (strcmp(check, "read-only") == 0)
		return check_answer(out, cap, !st.writable && st.has_leader);
	if (strcmp(check, "status") != 0)
		return http_error(out, cap, 404, "no such endpoint");
	if (net->replica != NULL)
		return replica_status(net, db, &lag, out, cap);
	return net->cluster != NULL ? core_status(net, db, out, cap)
				    : single_status(net, db, out, cap);
}

/* Authentication ----------------------------------------------------------
 * Neo4j's answers: 401 with a Basic challenge for a missing or wrong
 * password, 429 while the user is locked out, 403 until a required password
 * change is made (over Bolt). */

static size_t auth_error(char *out, size_t cap, int status, const char *code,
			 const char *message)
{
	char body[512];

	snprintf(body, sizeof body,
		 "{\"errors\": [{\"code\": \"%.80s\", \"message\": \"%.300s\"}]}\n",
		 code, message);
	return respond_with(out, cap, status,
			    status == 401 ? "WWW-Authenticate: Basic realm=\"Neo4j\"\r\n"
					  : "",
			    "application/json", body);
}

static size_t unauthorized(struct http_exchange *x, const char *message)
{
	return auth_error(x->out, x->cap, 401,
			  graft_status_code(GRAFT_STATUS_UNAUTHORIZED), message);
}

static bool needs_auth(const struct net *net)
{
	return net->security != NULL && net->cluster_status_auth &&
	       security_auth_enabled(net->security);
}

/* Decodes "Basic <base64 of user:password>" into buf (NUL-terminated user
 * at buf, password of *pwlen bytes after it). False if malformed. */
static bool basic_credentials(const char *v, size_t vlen, unsigned char *buf,
			      const char **password, size_t *pwlen)
{
	size_t pad = 0;
	int n;
	unsigned char *colon;

	if (vlen < 6 || strncasecmp(v, "Basic ", 6) != 0)
		return false;
	v += 6;
	vlen -= 6;
	if (vlen == 0 || vlen % 4 != 0 || vlen / 4 * 3 > HTTP_CREDENTIALS_MAX)
		return false;
	n = EVP_DecodeBlock(buf, (const unsigned char *)v, (int)vlen);
	while (pad < 2 && v[vlen - 1 - pad] == '=')
		pad++;
	if (n < 0 || (size_t)n < pad)
		return false;
	n -= (int)pad;
	colon = memchr(buf, ':', (size_t)n);
	if (colon == NULL || memchr(buf, '\0', (size_t)(colon - buf)) != NULL)
		return false;
	*colon = '\0';
	*password = (const char *)colon + 1;
	*pwlen = (size_t)(buf + n - (colon + 1));
	return true;
}

static void auth_cb(struct security_req *req, int status)
{
	struct http_exchange *x = req->data;
	size_t n;

	if (status == GRAFT_OK && req->credentials_expired)
		n = auth_error(x->out, x->cap, 403,
			       graft_status_code(GRAFT_STATUS_FORBIDDEN),
			       "User is required to change their password.");
	else if (status == GRAFT_OK)
		n = cluster_check(x->net, x->path, x->out, x->cap);
	else if (graft_status_is(req->error.code, GRAFT_STATUS_AUTH_RATE_LIMIT))
		n = auth_error(x->out, x->cap, 429, req->error.code,
			       "Too many failed authentication requests. "
			       "Please wait and try again.");
	else if (graft_status_is(req->error.code, GRAFT_STATUS_UNAUTHORIZED))
		n = unauthorized(x, "Invalid username or password.");
	else
		n = auth_error(x->out, x->cap, 500, req->error.code,
			       req->error.message);
	x->cb(x, n);
}

/* Checks the request's credentials, then answers the cluster endpoint in
 * x->path: 0 when the check started (x->cb answers), else the response. */
static size_t authenticate(struct http_exchange *x, const char *buf,
			   size_t len)
{
	unsigned char creds[HTTP_CREDENTIALS_MAX + 1];
	const char *v, *password = NULL;
	size_t vlen, pwlen = 0, n = 0;

	v = header(buf, len, "Authorization", &vlen);
	if (v == NULL)
		return unauthorized(x, "No authentication header supplied.");
	if (!basic_credentials(v, vlen, creds, &password, &pwlen))
		n = auth_error(x->out, x->cap, 400,
			       graft_status_code(GRAFT_STATUS_REQUEST_INVALID_FORMAT),
			       "Invalid authentication header: use Basic "
			       "with base64 of user:password.");
	x->auth.data = x;
	if (n == 0 && security_authenticate(x->net->security, &x->auth,
					    (const char *)creds,
					    strlen((const char *)creds),
					    password, pwlen,
					    auth_cb) != GRAFT_OK)
		n = auth_error(x->out, x->cap, 500, x->auth.error.code,
			       x->auth.error.message);
	OPENSSL_cleanse(creds, sizeof creds);
	return n;
}

size_t http_respond(struct http_exchange *x, const char *buf, size_t len,
		    http_cb cb)
{
	char method[16];

	if (sscanf(buf, "%15s %511s HTTP/1.", method, x->path) != 2)
		return http_error(x->out, x->cap, 400, "malformed request line");
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return http_error(x->out, x->cap, 405, "only GET is supported");
	if (strcmp(x->path, "/") == 0)
		return discovery(x->net, buf, len, x->out, x->cap);
	if (strncmp(x->path, "/db/", 4) != 0)
		return http_error(x->out, x->cap, 404, "no such endpoint");
	if (!needs_auth(x->net))
		return cluster_check(x->net, x->path, x->out, x->cap);
	x->cb = cb;
	return authenticate(x, buf, len);
}
