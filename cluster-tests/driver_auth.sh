#!/usr/bin/env bash
# Authentication end to end with the official JavaScript driver: first-login
# password change, wrong passwords, the rate limit, users; then graft-admin
# dbms set-initial-password on the stopped server and the users after a
# restart (cluster-tests/js/auth.js).
. "$(dirname "$0")/lib.sh"
command -v node >/dev/null || fail "node is missing: run tools/deps.sh"

write_conf "$T/graft.conf" "$T/home" "dbms.security.auth_lock_time=2s"
export BOLT_PORT LOCK_MS=2000

step "first start"
start_graftd "$T/graft.conf" "$BOLT_PORT" "$T/graftd.out"
node "$GRAFT_SRC_DIR/cluster-tests/js/auth.js" || fail "auth.js failed; server log: $(tail -20 "$T/home/logs/graft.log" 2>/dev/null)"
stop_graftd "$T/graftd.out"

step "set-initial-password on the stopped server, restart"
"$GRAFT_ADMIN" --config "$T/graft.conf" dbms set-initial-password 'reset-secret-1' >/dev/null
start_graftd "$T/graft.conf" "$BOLT_PORT" "$T/graftd.out"
node "$GRAFT_SRC_DIR/cluster-tests/js/auth.js" reset || fail "auth.js reset failed"
stop_graftd "$T/graftd.out"
