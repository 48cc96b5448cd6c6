#!/usr/bin/env bash
# The HTTP cluster endpoints ask for HTTP Basic credentials of a user, as
# Neo4j's do while dbms.security.cluster_status_auth_enabled is true (the
# default): without them an existing and a missing database answer alike
# (401), so the endpoints do not tell anyone which databases exist.
. "$(dirname "$0")/lib.sh"

write_conf "$T/graft.conf" "$T/home"
"$GRAFT_ADMIN" --config "$T/graft.conf" dbms set-initial-password 'http-secret-1' >/dev/null
start_graftd "$T/graft.conf" "$HTTP_PORT" "$T/graftd.out"
id=$(cat "$T/home/data/dbms/server_id")

step "no credentials: 401 with a Basic challenge, for any database name"
for db in neo4j nosuchdb; do
	out=$(http_get "$HTTP_PORT" "/db/$db/cluster/status")
	expect_in "$out" "401 Unauthorized" "status of $db without credentials"
	expect_in "$out" 'WWW-Authenticate: Basic realm="Neo4j"' "challenge"
	expect_in "$out" "Neo.ClientError.Security.Unauthorized" "error code"
	! grep -qF "$id" <<<"$out" || fail "status without credentials shows the member id"
done
expect_in "$(http_get "$HTTP_PORT" /db/neo4j/cluster/writable)" "401" "writable without credentials"

step "a wrong password: 401; a malformed header: 400"
out=$(http_get_auth "$HTTP_PORT" /db/neo4j/cluster/status 'neo4j:wrong-password')
expect_in "$out" "401 Unauthorized" "wrong password"
expect_in "$out" "Invalid username or password." "wrong password message"
exec 5<>"/dev/tcp/127.0.0.1/$HTTP_PORT"
send 5 'GET /db/neo4j/cluster/status HTTP/1.1\r\nAuthorization: Bearer x\r\n\r\n'
out=$(timeout "$BUDGET" cat <&5)
exec 5>&-
expect_in "$out" "400 Bad Request" "a Bearer token"

step "a user's credentials: the answers of an unauthenticated server"
out=$(http_get_auth "$HTTP_PORT" /db/neo4j/cluster/status 'neo4j:http-secret-1')
expect_in "$out" "200 OK" "status with credentials"
expect_in "$out" "\"memberId\": \"$id\"" "status with credentials"
out=$(http_get_auth "$HTTP_PORT" /db/nosuchdb/cluster/status 'neo4j:http-secret-1')
expect_in "$out" "404" "a missing database with credentials"
expect_in "$(http_get "$HTTP_PORT" /)" "200 OK" "discovery needs no credentials"
stop_graftd "$T/graftd.out"

step "dbms.security.cluster_status_auth_enabled=false opens the endpoints"
echo "dbms.security.cluster_status_auth_enabled=false" >>"$T/graft.conf"
start_graftd "$T/graft.conf" "$HTTP_PORT" "$T/graftd.out"
expect_in "$(http_get "$HTTP_PORT" /db/neo4j/cluster/status)" "200 OK" "status without credentials"
stop_graftd "$T/graftd.out"
