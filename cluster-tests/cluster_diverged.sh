#!/usr/bin/env bash
# A member whose copy of a database diverged from the cluster stops loudly
# instead of skipping the cluster's transactions. Here a follower's data
# directory serves briefly as a SINGLE server and commits a transaction of
# its own; back as a core, the leader's next transaction carries the id the
# follower already used. Comparing transaction ids only, the follower took
# it for a replay and skipped it while the leader acknowledged it (silent
# loss); with the Raft index each database persists, it refuses it, logs
# what diverged and what to do, and reports itself unhealthy. The operator's
# fix from that message (empty its copy of the database, restart) brings it
# back with the leader's data.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"

cluster_confs 3 "causal_clustering.raft_log_prune_strategy=keep_all"
core_start 1 2 3
wait_cluster

step "writes through the leader reach every member"
leader_write a 5
pick_followers
keys_on() { [ "$(core_node "$1" keys "$2" | wc -l)" = "$3" ]; }
wait_until "core $F1 holding the 5 writes" keys_on "$F1" a 5
core_stop "$F1"

step "core $F1's data directory serves as a SINGLE server: a transaction of its own"
sed 's/^dbms\.mode=CORE$/dbms.mode=SINGLE/' "$T/c$F1/graft.conf" >"$T/single.conf"
start_graftd "$T/single.conf" "${CORE_BOLT[$F1]}" "$T/single.out"
BOLT_PORT=${CORE_BOLT[$F1]} node "$GRAFT_SRC_DIR/cluster-tests/js/cluster.js" write local 1 >/dev/null ||
	fail "no local write: $(tail -20 "$T/single.out")"
stop_graftd "$T/single.out"

step "back as a core: the leader's next transaction is refused, not skipped"
core_start "$F1"
leader_write b 1
logged() { grep -q "$2" "$T/c$1/graftd.out"; }
wait_until "core $F1 reporting the divergence" logged "$F1" "database neo4j diverged from the cluster"
grep "diverged from the cluster" "$T/c$F1/graftd.out" | head -1
expect_in "$(grep "diverged" "$T/c$F1/graftd.out")" "empty (keep) the directories databases/neo4j and transactions/neo4j" "the advice"
status=$(http_get "${CORE_HTTP[$F1]}" /db/neo4j/cluster/status)
expect_in "$status" '"healthy": false' "core $F1's status"
expect_in "$(http_get "${CORE_HTTP[$F1]}" /db/neo4j/cluster/available | head -1)" " 404 " "core $F1's availability"
core_check "$LEADER" writable || fail "the leader stopped taking writes"
leader_write c 1

step "the operator's fix: core $F1's copy of neo4j emptied, it rebuilds it from the cluster"
core_stop "$F1"
rm -f "$T/c$F1"/data/databases/neo4j/* "$T/c$F1"/data/transactions/neo4j/*
core_start "$F1"
wait_until "core $F1 following" core_check "$F1" read-only
wait_until "identical graphs on every member" same_digest
keys_on "$F1" local 0 || fail "core $F1 still holds its own transaction"
keys_on "$F1" b 1 || fail "core $F1 lacks the leader's transaction"
for i in 1 2 3; do core_stop "$i"; done
echo PASS
