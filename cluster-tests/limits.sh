#!/usr/bin/env bash
# Resource limits end to end (cluster-tests/js/limits.js): the
# per-transaction memory limit on strings, collect(), sorts, a 30,000-hop
# pattern and parked results; UNWIND range() streaming; bounded regular
# expressions; strings with NUL; the transaction maximum; connections that
# never log in closed at server.bolt.unauth_connection_timeout. Then unread
# streams, server.bolt.max_connections and oversized logins, and the global
# memory pool on its own.
. "$(dirname "$0")/lib.sh"
command -v node >/dev/null || fail "node is missing: run tools/deps.sh"

export GRAFT_PW=limits-secret-1
sh_() { "$GRAFT_SHELL" -a "bolt://127.0.0.1:$BOLT_PORT" -u neo4j -p "$GRAFT_PW" "$@"; }
# limits_js CONF PHASE: runs one phase of limits.js on a fresh server.
limits_js() {
	"$GRAFT_ADMIN" --config "$1" dbms set-initial-password "$GRAFT_PW" >/dev/null
	start_graftd "$1" "$BOLT_PORT" "$T/graftd.out"
	export BOLT_PORT GRAFTD_PID PHASE=$2
	node "$GRAFT_SRC_DIR/cluster-tests/js/limits.js" ||
		fail "limits.js ($2) failed; server log: $(tail -20 "$T/graftd.out")"
	stop_graftd "$T/graftd.out"
}

step "memory, regular expressions, transactions, the login deadline"
write_conf "$T/memory.conf" "$T/memory" "db.memory.transaction.max=50M" \
	"db.transaction.concurrent.maximum=5" \
	"server.bolt.unauth_connection_timeout=2s"
limits_js "$T/memory.conf" memory

step "the connection cap and the size of a login"
export MAX_CONNECTIONS=50
write_conf "$T/conns.conf" "$T/conns" "server.bolt.max_connections=$MAX_CONNECTIONS" \
	"server.bolt.unauth_connection_timeout=10m"
limits_js "$T/conns.conf" connections
grep -q "server.bolt.max_connections" "$T/graftd.out" &&
	fail "a connection was refused although idle ones could give way"

step "dbms.memory.transaction.total.max bounds every transaction together"
write_conf "$T/total.conf" "$T/total" "dbms.memory.transaction.total.max=20M"
"$GRAFT_ADMIN" --config "$T/total.conf" dbms set-initial-password "$GRAFT_PW" >/dev/null
start_graftd "$T/total.conf" "$BOLT_PORT" "$T/graftd.out"
set +e
out=$(sh_ "UNWIND range(1, 2000000) AS x RETURN size(collect(x))" 2>&1)
rc=$?
set -e
[ "$rc" -ne 0 ] || fail "a 32 MB list passed a 20M total limit: $out"
expect_in "$out" "dbms.memory.transaction.total.max threshold reached" "total limit message"
out=$(sh_ "RETURN 1 AS one" 2>&1) || fail "the server stopped answering: $out"
stop_graftd "$T/graftd.out"
echo "PASS"
