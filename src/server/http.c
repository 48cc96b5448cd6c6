#include <config.h>

#include "http.h"

#include <stdio.h>
#include <string.h>

#include <graft.h>

#include "../db/dbms.h"
#include "net.h"

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
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	default:
		return "Request Header Fields Too Large";
	}
}

static size_t respond(char *out, size_t cap, int status, const char *type,
		      const char *body)
{
	int n = snprintf(out, cap,
			 "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
			 "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
			 status, status_text(status), type, strlen(body), body);

	return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap - 1;
}

size_t http_error(char *out, size_t cap, int status, const char *reason)
{
	char body[256];

	snprintf(body, sizeof body, "{\"error\": \"%s\"}\n", reason);
	return respond(out, cap, status, "application/json", body);
}

static size_t discovery(struct net *net, char *out, size_t cap)
{
	char body[768];

	snprintf(body, sizeof body,
		 "{\"bolt_routing\": \"neo4j://%s\", \"bolt_direct\": "
		 "\"bolt://%s\", \"neo4j_version\": \"" GRAFT_NEO4J_VERSION
		 "\", \"neo4j_edition\": \"enterprise\", \"graft_version\": "
		 "\"" PACKAGE_VERSION "\"}\n",
		 net->bolt_advertised, net->bolt_advertised);
	return respond(out, cap, 200, "application/json", body);
}

/* /db/<name>/cluster/<check>: a SINGLE server hosts every database as its
 * writer, so writable and available are true, read-only is false. */
static size_t cluster_check(struct net *net, const char *path, char *out,
			    size_t cap)
{
	char name[128], check[32], body[768];
	struct db *db;

	if (sscanf(path, "/db/%127[^/]/cluster/%31s", name, check) != 2)
		return http_error(out, cap, 404, "no such endpoint");
	db = dbms_get(net->dbms, name);
	if (db == NULL)
		return http_error(out, cap, 404, "no such database");
	if (strcmp(check, "available") == 0 || strcmp(check, "writable") == 0)
		return respond(out, cap, 200, "text/plain", "true");
	if (strcmp(check, "read-only") == 0)
		return respond(out, cap, 404, "text/plain", "false");
	if (strcmp(check, "status") != 0)
		return http_error(out, cap, 404, "no such endpoint");
	snprintf(body, sizeof body,
		 "{\"database\": \"%s\", \"healthy\": true, \"isHealthy\": true,"
		 " \"participatingInRaftGroup\": false, \"votingMembers\": [],"
		 " \"lastAppliedRaftIndex\": 0, \"lastCommittedTxId\": %llu,"
		 " \"memberId\": \"%s\", \"millisSinceLastLeaderMessage\": null}\n",
		 db_name(db), (unsigned long long)db_last_txid(db),
		 net->server_id);
	return respond(out, cap, 200, "application/json", body);
}

size_t http_respond(struct net *net, const char *buf, size_t len, char *out,
		    size_t cap)
{
	char method[16], path[512];

	(void)len;
	if (sscanf(buf, "%15s %511s HTTP/1.", method, path) != 2)
		return http_error(out, cap, 400, "malformed request line");
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return http_error(out, cap, 405, "only GET is supported");
	if (strcmp(path, "/") == 0)
		return discovery(net, out, cap);
	if (strncmp(path, "/db/", 4) == 0)
		return cluster_check(net, path, out, cap);
	return http_error(out, cap, 404, "no such endpoint");
}
