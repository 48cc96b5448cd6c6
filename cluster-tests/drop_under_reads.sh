#!/usr/bin/env bash
# A database dropped and created again under auto-commit reads on two
# workers: every read counts it or finds it gone, and the server lives on
# (cluster-tests/js/drop_under_reads.js; under ASan a read beginning on a
# database already freed aborts the server).
. "$(dirname "$0")/lib.sh"
command -v node >/dev/null || fail "node is missing: run tools/deps.sh"

write_conf "$T/graft.conf" "$T/home" "dbms.security.auth_enabled=false" \
	"server.threads.worker_count=2"
export BOLT_PORT GRAFT_SRC_DIR

step "reads of a database dropped and created again"
start_graftd "$T/graft.conf" "$BOLT_PORT" "$T/graftd.out"
node "$GRAFT_SRC_DIR/cluster-tests/js/drop_under_reads.js" ||
	fail "drop_under_reads.js failed; server log: $(tail -20 "$T/home/logs/graft.log" 2>/dev/null)"
stop_graftd "$T/graftd.out"
echo "PASS"
