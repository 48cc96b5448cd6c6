#!/usr/bin/env bash
# A store copy that stalls half-way is cut promptly on both ends, and the
# next attempt copies afresh. Since 2026-12-06 each end of a copy runs on
# one worker thread with blocking calls on its own duplicate of the socket
# (the loop carries none of its bytes), so a stop must reach a worker
# that is waiting for bytes (the replica) or for room on the socket (the
# upstream): each looks at a cancel flag every 100 ms. The core's
# transaction port is behind replicas.js store-stall, which forwards the
# first 1 MB of a store copy and then nothing, without reading the core's
# socket further, while $T/stall exists (then it cuts the connection).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"
command -v node >/dev/null || fail "node is missing: run tools/deps.sh"
export GRAFT_SRC_DIR

store_stall_cluster
core_start 1
wait_leader

step "a store of about 15 MB on the core, its log pruned"
replicas_js bulk "${CORE_BOLT[1]}" big 5000 30
pruned() { [ "$(core_oldest_log 1)" -gt 2 ]; }
wait_until "the core's log starting after transaction 2" pruned
lead=$(replicas_js digest "${CORE_BOLT[1]}")

stalled() { [ "$(grep -c stalled "$T/proxy.out")" -ge "$1" ]; }
touch "$T/stall"

# stop_stalled WHAT PID LIMIT LOG: SIGTERM PID (a stalled copy waiting),
# which must exit within LIMIT s.
stop_stalled() {
	local t0
	sleep 0.5
	t0=$SECONDS
	kill -TERM "$2"
	wait_exit "$2" "$3" || fail "$1 did not stop within $3 s during a stalled copy: $(stop_report "$4")"
	echo "$1 stopped in $((SECONDS - t0)) s"
}

step "the replica, stopped while its copy waits for bytes, exits at once"
replica_start 1
wait_until "the copy stalled after 1 MB" stalled 1
stop_stalled "replica 1" "${REPLICA_PID[1]}" 5 "$T/r1/graftd.out"
REPLICA_PID[1]=

step "the next copy, not stalled, is whole"
rm -f "$T/stall"
replica_start 1
same() { [ "$(replicas_js digest "${REPLICA_BOLT[1]}")" = "$lead" ]; }
wait_until "replica 1 holding exactly the core's graph" same
grep -q "read replica: store copy of neo4j from .* installed" "$T/r1/graftd.out" || fail "no store copy installed"
ls -d "$T/r1/data/databases/.copy-neo4j" 2>/dev/null && fail "a cut copy was left on disk"
replica_stop 1

step "the core, stopped while its copy waits for room, exits at once"
rm -rf "$T/r1/data" # empty again: it copies the store again
touch "$T/stall"
replica_start 1
wait_until "the next copy stalled after 1 MB" stalled 2
stop_stalled "core 1" "${CORE_PID[1]}" 10 "$T/c1/graftd.out"
CORE_PID[1]=
rm -f "$T/stall" # the proxy cuts the stalled connection to the replica
refused() { grep -Eq "store copy of neo4j from .* refused: the upstream (closed the connection|connection failed) before the copy was complete" "$T/r1/graftd.out"; }
wait_until "replica 1 refusing the cut copy" refused
ls -d "$T/r1/data/databases/.copy-neo4j" 2>/dev/null && fail "a cut copy was left on disk"
replica_stop 1

# Its last checkpoint was started by the apply of its last transaction
# (db.checkpoint.interval.tx=2) and its log holds nothing after it: it
# recorded the Raft entry before that transaction's, and the restarted core
# took its own last transaction, replayed by Raft, for one committed
# outside the cluster ("diverged") and never took writes.
step "the core, started again, takes writes with its graph whole"
core_start 1
wait_leader
[ "$(replicas_js digest "${CORE_BOLT[1]}")" = "$lead" ] || fail "the restarted core's graph differs"
grep -q diverged "$T/c1/graftd.out" && fail "the restarted core found itself diverged: $(grep diverged "$T/c1/graftd.out")"
true
