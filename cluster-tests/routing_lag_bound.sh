#!/usr/bin/env bash
# A lag bound below the interval at which positions travel keeps healthy
# readers in READ: three cores and a read replica with
# dbms.routing.reads.max_replication_lag=2s under continuous writes. For
# 20 s every core's routing table names both followers and the replica as
# readers each time it is asked. Positions reach a core every 2-3 s (a
# core's discovery line, a replica's probe); a reader's lag is how long it
# had been behind when it last reported, not that report's age, so a
# reader keeping up never looks 2 s behind between two reports.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"

cluster_confs 3 "dbms.routing.reads.max_replication_lag=2s"
replica_confs 1 "dbms.routing.reads.max_replication_lag=2s"
core_start 1 2 3
wait_cluster
replica_start 1
export CORE_PORTS
CORE_PORTS=$(IFS=,; echo "${CORE_BOLT[*]:1}")
REPLICA=127.0.0.1:${REPLICA_BOLT[1]}
rjs() { node "$GRAFT_SRC_DIR/cluster-tests/js/routing.js" "$@"; }
leader_write a 1
wait_until "the replica holding the write" replica_holds_keys 1 a 1
wait_until "every reader in READ on every core" rjs readers-held "$CORE_PORTS" 1 "$REPLICA"

step "continuous writes: no core leaves a follower or the replica out of READ"
STOP_FILE=$T/stop node "$GRAFT_SRC_DIR/cluster-tests/js/routing.js" writes w 2 120000 >"$T/writes.out" 2>"$T/writes.err" &
WRITER=$!
PIDS+=("$WRITER")
wait_until "writes acknowledged" grep -q . "$T/writes.out"
rjs readers-held "$CORE_PORTS" 20000 "$REPLICA" >"$T/held.out" ||
	fail "a reader keeping up left READ: $(head -5 "$T/held.out")"
cat "$T/held.out"
kill -0 "$WRITER" 2>/dev/null || fail "the writes stopped early: $(cat "$T/writes.err")"
touch "$T/stop"
wait "$WRITER" || fail "the writes failed: $(cat "$T/writes.err")"
n=$(wc -l <"$T/writes.out")
# the bound was tested under writes only if they went on throughout
[ "$n" -ge 40 ] || fail "only $n writes acknowledged in 20 s"
echo "$n writes acknowledged meanwhile"

replica_stop 1
for i in 1 2 3; do core_stop "$i"; done
exit 0
