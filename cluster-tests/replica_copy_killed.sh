#!/usr/bin/env bash
# A read replica killed with SIGKILL in the middle of a store copy serves
# its old store when it starts again, and only a complete, verified and
# durable copy ever replaces it. The copy is written beside the store
# (<data>/databases/.copy-neo4j) and the old store is not touched until
# the switch, so a crash leaves the old store whole and at most that
# directory, which the next copy removes. The replica writes this copy
# with O_DIRECT on a writer thread (dbms.cluster.catchup.
# store_copy_direct_io_min_size=1: every copy, as for a large store), so
# the kill finds that thread running. The copy is held half-way by
# replicas.js store-stall (the first 1 MB of a copy forwarded, then
# nothing while $T/stall exists), so the kill lands in it every time, and
# the restarted replica is asked what it serves while its next copy is
# held the same way.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"
command -v node >/dev/null || fail "node is missing: run tools/deps.sh"
export GRAFT_SRC_DIR

store_stall_cluster "dbms.cluster.catchup.store_copy_direct_io_min_size=1"
core_start 1
wait_leader

last_tx() { http_get "$1" /db/neo4j/cluster/status | grep -o '"lastCommittedTxId": [0-9]*' | head -1 | grep -o '[0-9]*$'; }
copies() { grep -c "store copy of neo4j: .* written O_DIRECT on a writer thread" "$T/r1/graftd.out" || true; }

step "the replica holds an old store: 5,000 nodes"
replicas_js bulk "${CORE_BOLT[1]}" old 5000 1
replica_start 1
holds() { [ "$(replicas_js count "${REPLICA_BOLT[1]}" "$1")" = "$2" ]; }
wait_until "replica 1 holding the 5,000 old nodes" holds old 5000
old=$(replicas_js digest "${REPLICA_BOLT[1]}")
stopped_at=$(last_tx "${REPLICA_HTTP[1]}")
replica_stop 1
before=$(copies)

step "the core takes 15 MB more and prunes what the replica lacks"
replicas_js bulk "${CORE_BOLT[1]}" big 5000 30
pruned() { [ "$(core_oldest_log 1)" -gt "$((stopped_at + 1))" ]; }
wait_until "the core's log starting after transaction $((stopped_at + 1))" pruned
lead=$(replicas_js digest "${CORE_BOLT[1]}")

stalled() { [ "$(grep -c stalled "$T/proxy.out")" -ge "$1" ]; }
touch "$T/stall"

step "SIGKILL in the middle of the copy (1 MB of it written)"
replica_start 1
wait_until "the copy stalled after 1 MB" stalled 1
sleep 0.5
[ -d "$T/r1/data/databases/.copy-neo4j" ] || fail "no copy in progress beside the store"
[ "$(copies)" = "$before" ] || fail "a copy was installed before the kill"
replica_kill 1

step "restarted, it serves its old store while the next copy is held"
replica_start 1
wait_until "the next copy stalled" stalled 2
[ "$(replicas_js digest "${REPLICA_BOLT[1]}")" = "$old" ] || fail "replica 1 does not serve its old store after the kill: $(tail -20 "$T/r1/graftd.out")"
holds big 0 || fail "replica 1 serves part of the new store before its copy is complete"

step "the copy, no longer held, replaces it whole"
rm -f "$T/stall" # the proxy cuts the stalled connection; the next attempt is whole
same() { [ "$(replicas_js digest "${REPLICA_BOLT[1]}")" = "$lead" ]; }
wait_until "replica 1 holding exactly the core's graph" same
[ "$(copies)" -gt "$before" ] ||
	fail "the copy was not written with O_DIRECT: $(grep 'store copy of neo4j:' "$T/r1/graftd.out")"
[ -d "$T/r1/data/databases/.copy-neo4j" ] && fail "a cut copy was left on disk"
replica_stop 1
core_stop 1
