#!/usr/bin/env bash
# A read replica cut from its upstream by a network partition (nftables
# rules on loopback dropping every packet to and from the cores'
# transaction ports, in a table of this test's own, always deleted at
# exit) while the leader takes writes: meanwhile it keeps serving reads of
# its old state; healed, it catches up from the log, without a store copy,
# and ends with exactly the leader's graph (a digest by names and values).
# The time from the heal to the leader's digest is printed. Without a
# usable nft (not root, no nftables, a kernel refusing tables) the suite is
# skipped, saying why.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"
command -v node >/dev/null || fail "node is missing: run tools/deps.sh"
export GRAFT_SRC_DIR

nft_usable || { echo "SKIP: $NFT_WHY"; exit 77; }
cluster_confs 3
replica_confs 1 "db.cluster.catchup.pull_interval=200ms"
start_cores
replica_start 1
leader_write a 5
wait_until "the replica holding the 5 writes" replica_holds 1 a 5

# cut_streams: drops every packet to or from a core's transaction port on
# loopback: the replica's streams (and new connections to those ports) go
# silent, as across a partition; discovery and Raft go on.
cut_streams() {
	local ports
	ports=$(IFS=,; echo "${CORE_TX[*]:1}")
	nft_drop "tcp dport { $ports }" "tcp sport { $ports }"
}

for round in $(seq 1 "$SOAK_ROUNDS"); do
	step "round $round: the replica cut from the cores' transaction ports while the leader takes writes"
	cut_streams
	leader_write "p$round" 30
	sleep 5 # the cut outlasts a few heartbeats of the upstream
	leader_write "q$round" 30
	replica_holds 1 "p$round" 0 || fail "the replica got writes through the partition"
	replica_holds 1 a 5 || fail "the cut replica stopped serving its old state"
	[ "$(replica_node 1 digest neo4j)" != "$(core_node "$LEADER" digest neo4j)" ] ||
		fail "the cut replica already had the leader's graph"

	step "round $round: healed, the replica catches up from the log"
	heal
	healed=$SECONDS
	lead=$(replicas_js digest "${CORE_BOLT[$LEADER]}")
	same() { [ "$(replicas_js digest "${REPLICA_BOLT[1]}")" = "$lead" ]; }
	wait_until "the replica holding exactly the leader's graph" same
	echo "caught up $((SECONDS - healed)) s after the heal"
	replica_holds 1 "p$round" 30 && replica_holds 1 "q$round" 30 || fail "the replica misses writes of the partition"
done
grep -q "copying its store\|store copy" "$T/r1/graftd.out" && fail "the replica took a store copy: $(grep 'store' "$T/r1/graftd.out")"

replica_stop 1
for i in 1 2 3; do core_stop "$i"; done
exit 0
