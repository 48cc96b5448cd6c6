#!/usr/bin/env bash
# An IPv6 host in an address graft shows or hands on is bracketed: with
# server.bolt.advertised_address=[::1]:PORT the routing table, the HTTP
# discovery answer and `graft-admin server validate-config` say [::1]:PORT
# (before, "::1:PORT", which a driver reads as host "::1:PORT" or splits at
# the wrong colon). The server itself listens on 127.0.0.1 only: the
# advertised address is what it tells clients, not where it binds.
. "$(dirname "$0")/lib.sh"

write_conf "$T/graft.conf" "$T/home" "dbms.security.auth_enabled=false"
echo "server.bolt.advertised_address=[::1]:$BOLT_PORT" >>"$T/graft.conf"
start_graftd "$T/graft.conf" "$BOLT_PORT" "$T/graftd.out"

step "the routing table names the server as [::1]:$BOLT_PORT"
out=$("$GRAFT_SHELL" -a "bolt://127.0.0.1:$BOLT_PORT" --format plain \
	"CALL dbms.routing.getRoutingTable({}, 'neo4j') YIELD servers UNWIND servers AS s RETURN s.role, s.addresses")
expect_in "$out" "\"[::1]:$BOLT_PORT\"" "routing table"
grep -qF "\"::1:$BOLT_PORT\"" <<<"$out" && fail "an unbracketed address in: $out"

step "the HTTP discovery answer gives neo4j://[::1]:$BOLT_PORT"
out=$(http_get "$HTTP_PORT" /)
expect_in "$out" "\"bolt_routing\": \"neo4j://[::1]:$BOLT_PORT\"" "discovery"
expect_in "$out" "\"bolt_direct\": \"bolt://[::1]:$BOLT_PORT\"" "discovery"
stop_graftd "$T/graftd.out"

step "validate-config shows an IPv6 listen address in brackets"
cp "$T/graft.conf" "$T/v6.conf"
echo "server.http.listen_address=[::1]:$HTTP_PORT" >>"$T/v6.conf"
out=$("$GRAFT_ADMIN" --config "$T/v6.conf" server validate-config) || fail "validate-config: $out"
expect_in "$out" "  http:         [::1]:$HTTP_PORT" "validate-config"
expect_in "$out" "  bolt:         127.0.0.1:$BOLT_PORT" "validate-config"
echo "PASS"
