#!/usr/bin/env bash
# Snapshot reads (issue 13): a reader streaming a large result in small
# batches through the official driver while other sessions commit sees
# exactly the state at its start, and write skew through a label scan fails
# one of the two transactions, and a reader holding more old versions than
# db.transaction.old_versions.max_size is terminated
# (cluster-tests/js/snapshot_reads.js).
. "$(dirname "$0")/lib.sh"
command -v node >/dev/null || fail "node is missing: run tools/deps.sh"

write_conf "$T/graft.conf" "$T/home" "dbms.security.auth_enabled=false" \
	"server.threads.worker_count=2" \
	"db.transaction.old_versions.max_size=1M"
export BOLT_PORT GRAFT_SRC_DIR

step "a streamed result is one snapshot while writers commit"
start_graftd "$T/graft.conf" "$BOLT_PORT" "$T/graftd.out"
node "$GRAFT_SRC_DIR/cluster-tests/js/snapshot_reads.js" ||
	fail "snapshot_reads.js failed; server log: $(tail -20 "$T/home/logs/graft.log" 2>/dev/null)"
stop_graftd "$T/graftd.out"
echo "PASS"
