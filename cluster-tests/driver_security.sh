#!/usr/bin/env bash
# The security review's cases end to end with the official JavaScript driver
# (cluster-tests/js/security.js): the forced password change cannot be
# skipped, the system database accepts administration only, password
# literals are redacted wherever query text goes, and user commands return a
# bookmark that covers them.
. "$(dirname "$0")/lib.sh"
command -v node >/dev/null || fail "node is missing: run tools/deps.sh"

write_conf "$T/graft.conf" "$T/home"
export BOLT_PORT
start_graftd "$T/graft.conf" "$BOLT_PORT" "$T/graftd.out"
node "$GRAFT_SRC_DIR/cluster-tests/js/security.js" || fail "security.js failed; server log: $(tail -20 "$T/home/logs/graft.log" 2>/dev/null)"
if grep -rq -e 'carol-secret' -e 'secret-9' "$T/home/logs" "$T/graftd.out"; then
	fail "a password reached the logs"
fi
stop_graftd "$T/graftd.out"
