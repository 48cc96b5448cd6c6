#!/usr/bin/env bash
# A core behind a Raft snapshot copies the stores it lacks from another
# member's transaction port; it takes only a store of its own cluster (its
# data/dbms/cluster_id), and refuses another cluster's with an error naming
# both ids, before anything of it is installed. It used to take whatever
# ids the upstream announced. Here cluster A's cores (1, 2, 3) advertise a
# transaction address that leads to cluster B's one core (4); A's follower,
# stopped while A compacted its Raft log, comes back behind a snapshot and
# must refuse B's store (which holds more transactions than A's snapshot
# needs, so that nothing else would refuse it), again and again, never
# installing it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"

cluster_confs 4 "causal_clustering.raft_log_prune_strategy=150 txs"
disc() { local i out=""; for i in "$@"; do out+="127.0.0.1:${CORE_DISC[$i]},"; done; echo "${out%,}"; }
for i in 1 2 3; do
	sed -i -e "s/^causal_clustering.initial_discovery_members=.*/causal_clustering.initial_discovery_members=$(disc 1 2 3)/" \
		-e "s/^causal_clustering.minimum_core_cluster_size_at_formation=.*/causal_clustering.minimum_core_cluster_size_at_formation=3/" \
		-e "s/^causal_clustering.minimum_core_cluster_size_at_runtime=.*/causal_clustering.minimum_core_cluster_size_at_runtime=3/" \
		-e "s/^causal_clustering.transaction_advertised_address=.*/causal_clustering.transaction_advertised_address=127.0.0.1:${CORE_TX[4]}/" \
		"$T/c$i/graft.conf"
done
sed -i -e "s/^causal_clustering.initial_discovery_members=.*/causal_clustering.initial_discovery_members=$(disc 4)/" \
	-e "s/^causal_clustering.minimum_core_cluster_size_at_formation=.*/causal_clustering.minimum_core_cluster_size_at_formation=1/" \
	-e "s/^causal_clustering.minimum_core_cluster_size_at_runtime=.*/causal_clustering.minimum_core_cluster_size_at_runtime=2/" \
	"$T/c4/graft.conf"
CORE_N=3 # find_leader and wait_cluster: cluster A
core_start 1 2 3 4
wait_cluster
wait_until "cluster B (core 4) taking writes" core_check 4 writable
ida=$(cat "$T/c1/data/dbms/cluster_id")
idb=$(cat "$T/c4/data/dbms/cluster_id")
[ -n "$ida" ] && [ -n "$idb" ] && [ "$ida" != "$idb" ] || fail "two clusters with ids '$ida' and '$idb'"
core_node 4 write b 5 >/dev/null

step "A's follower stopped while A compacts its Raft log past it"
f=$((LEADER % 3 + 1))
core_stop "$f"
snapshots() { grep -c "Raft snapshot taken at index" "$T/c$LEADER/graftd.out" || true; }
before=$(snapshots)
more_snapshots() { core_node "$LEADER" write a 50 >/dev/null || find_leader || true; [ "$(snapshots)" -ge $((before + 2)) ]; }
wait_until "two more snapshots on A's leader" more_snapshots

step "B's neo4j ahead of A's: only its cluster id tells it apart"
last_tx() { http_get "${CORE_HTTP[$1]}" /db/neo4j/cluster/status | grep -o '"lastCommittedTxId": [0-9]*' | head -1 | grep -o '[0-9]*$'; }
a=$(last_tx "$LEADER")
replicas_js bulk "${CORE_BOLT[4]}" ahead 1 $((a + 20))
[ "$(last_tx 4)" -gt "$a" ] || fail "B's neo4j is at $(last_tx 4), not past A's $a"

step "back behind the snapshot, it refuses B's store, naming both clusters"
core_start "$f"
log=$T/c$f/graftd.out
wait_until "core $f seeing that its stores are behind the snapshot" grep -q "whose stores this member lacks" "$log"
refused() { grep -q "store copy of neo4j from 127.0.0.1:${CORE_TX[4]} failed: the upstream offers database neo4j of cluster $idb; this member is of cluster $ida: refused" "$log"; }
wait_until "core $f refusing B's store" refused
grep -q "store of neo4j copied from" "$log" && fail "core $f installed a store: $(grep 'store of neo4j copied from' "$log")"
core_check "$f" available && fail "core $f reports itself available without the stores it lacks"
[ "$(cat "$T/c$f/data/dbms/cluster_id")" = "$ida" ] || fail "core $f's cluster id changed"
for i in 1 2 3 4; do core_stop "$i"; done
exit 0
