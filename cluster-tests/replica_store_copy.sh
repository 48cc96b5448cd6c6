#!/usr/bin/env bash
# Store copy over the transaction port: the cores checkpoint every few
# transactions and keep no log beyond what recovery needs, so a read
# replica that was away, or starts empty, asks for transactions no upstream
# has any more. It copies an upstream's store (its newest checkpoint, then
# the log after it), switches to it, and follows the stream from there. A
# copy damaged on the wire (a proxy flips a byte inside the checkpoint's
# bytes while $T/damage exists) is refused: the replica keeps serving its
# old state and tries again; the next whole copy is taken.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"
command -v node >/dev/null || fail "node is missing: run tools/deps.sh"
export GRAFT_SRC_DIR

cluster_confs 3 "db.tx_log.rotation.size=128k" "db.checkpoint.interval.tx=2" \
	"dbms.cluster.catchup.departed_hold=0" \
	"db.tx_log.rotation.retention_policy=false" "db.tx_log.preallocate=false"
proxied_tx_ports
replica_confs 2 "db.cluster.catchup.pull_interval=200ms"
# node itself in the background, not the shell function: the exit kills
# this pid, and a subshell's death left node running
node "$GRAFT_SRC_DIR/cluster-tests/js/replicas.js" store-proxy "$T/damage" "${PROXY_PAIRS[@]}" >"$T/proxy.out" 2>&1 &
PIDS+=("$!")
wait_until "the proxy listening" grep -q ready "$T/proxy.out"
for i in 1 2 3; do core_start "$i"; done
wait_cluster

step "replica 1 follows, then stops"
replica_start 1
core_node "$LEADER" write a 5 >/dev/null
has_a() { [ "$(replica_node 1 keys a | wc -l)" = 5 ]; }
wait_until "replica 1 holding the 5 writes" has_a
replica_stop 1

step "the cores prune their logs past the replica"
replicas_js bulk "${CORE_BOLT[$LEADER]}" big 600 12
pruned() { local i; for i in 1 2 3; do [ "$(core_oldest_log "$i")" -gt 8 ] || return 1; done; }
wait_until "every core's log starting after transaction 8" pruned

step "a damaged store copy is refused; the old state stays"
touch "$T/damage"
replica_start 1
refused() { grep -q "store copy of neo4j from .* refused: the checkpoint's bytes do not match the CRC32C" "$T/r1/graftd.out"; }
wait_until "replica 1 refusing the damaged copy" refused
[ "$(replica_node 1 keys a | wc -l)" = 5 ] || fail "replica 1 lost its old state"
[ "$(replicas_js count "${REPLICA_BOLT[1]}" big)" = 0 ] || fail "replica 1 applied part of a damaged copy"

step "the next whole copy is taken, then the log after it"
rm "$T/damage"
installed() { grep -q "store copy of neo4j from .* installed" "$T/r$1/graftd.out"; }
wait_until "replica 1 installing a store copy" installed 1
# Not checked while the damage lasts: the replica retries at once, and the
# next attempt's directory is there while it runs.
ls -d "$T/r1/data/databases/.copy-neo4j" 2>/dev/null && fail "a refused or installed copy was left on disk"
core_node "$LEADER" write c 3 >/dev/null
replica_start 2
wait_until "replica 2, started empty, installing a store copy" installed 2
lead=$(replicas_js digest "${CORE_BOLT[$LEADER]}")
same() { [ "$(replicas_js digest "${REPLICA_BOLT[$1]}")" = "$lead" ]; }
for i in 1 2; do wait_until "replica $i holding exactly the leader's graph" same "$i"; done
[ "$(replicas_js count "${REPLICA_BOLT[1]}" big)" = 7200 ] || fail "replica 1 misses bulk writes"

step "writes after the copy stream in"
core_node "$LEADER" write d 3 >/dev/null
has_d() { [ "$(replica_node "$1" keys d | wc -l)" = 3 ]; }
for i in 1 2; do wait_until "replica $i holding the writes after the copy" has_d "$i"; done
for i in 1 2; do replica_stop "$i"; done
for i in 1 2 3; do core_stop "$i"; done
