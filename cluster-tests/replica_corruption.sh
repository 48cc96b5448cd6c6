#!/usr/bin/env bash
# A record damaged on the wire is refused: the cores advertise their
# transaction ports through a proxy that flips one bit inside the first
# record of every catch-up stream. The read replica must detect it (CRC),
# stop that database's catch-up with an error naming the transaction, and
# apply nothing of it; it keeps serving and the cores are unaffected.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"
command -v node >/dev/null || fail "node is missing: run tools/deps.sh"
export GRAFT_SRC_DIR

cluster_confs 3
proxied_tx_ports
replica_confs 1
# node itself in the background, not the shell function: the exit kills
# this pid, and a subshell's death left node running
node "$GRAFT_SRC_DIR/cluster-tests/js/replicas.js" proxy "${PROXY_PAIRS[@]}" >"$T/proxy.out" 2>&1 &
PIDS+=("$!")
wait_until "the proxy listening" grep -q ready "$T/proxy.out"
for i in 1 2 3; do core_start "$i"; done
wait_cluster
core_node "$LEADER" write a 5 >/dev/null

step "the replica refuses the damaged record"
replica_start 1
refused() { grep -q "catch-up of database neo4j from .* stopped: the record of transaction 1 failed its CRC check on the wire" "$T/r1/graftd.out"; }
wait_until "the replica reporting the damaged record" refused
[ -z "$(replica_node 1 keys a)" ] || fail "the replica applied writes from a damaged stream"

step "the cores go on"
core_node "$LEADER" write b 3 >/dev/null
[ "$(core_node "$LEADER" keys b | wc -l)" = 3 ] || fail "the leader lost writes"
replica_stop 1
for i in 1 2 3; do core_stop "$i"; done
