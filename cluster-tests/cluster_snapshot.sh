#!/usr/bin/env bash
# Raft log pruning (causal_clustering.raft_log_prune_strategy) and Raft
# snapshots. With a small strategy every member takes snapshots as writes
# go on (logged with index and term); a follower restarted after its log
# was compacted starts from its own snapshot and catches up; a follower
# stopped while the leader compacted past its log is sent the leader's
# snapshot: its stores lack what it covers, so it logs what it lacks, copies
# the store from another member's transaction port, applies the entries it
# held meanwhile and ends AVAILABLE with every acknowledged write and the
# leader's digest.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"

cluster_confs 3 "causal_clustering.raft_log_prune_strategy=150 txs"
core_start 1 2 3
wait_cluster

# logged I TEXT: member I's log has a line with TEXT.
logged() { grep -q "$2" "$T/c$1/graftd.out"; }
snapshots() { grep -c "Raft snapshot taken at index" "$T/c$1/graftd.out" || true; }

step "writes past the pruning threshold: every member takes a snapshot"
retrying_start s 3
wait_until "300 acknowledged writes" acked s 300
for i in 1 2 3; do
	wait_until "core $i taking a Raft snapshot" logged "$i" "Raft snapshot taken at index"
done

step "a follower restarted after compaction starts from its own snapshot"
f=$(( LEADER % 3 + 1 ))
core_stop "$f"
core_start "$f"
wait_until "core $f installing its own snapshot" logged "$f" "installed: this member's stores hold"
wait_until "core $f following" core_check "$f" read-only
retrying_stop s
acked_everywhere s

step "a follower stopped while the leader compacts past its log"
core_stop "$f"
before=$(snapshots "$LEADER")
retrying_start t 3
more_snapshots() { [ "$(snapshots "$LEADER")" -ge $((before + 3)) ]; }
wait_until "three more snapshots on the leader" more_snapshots
core_start "$f"
wait_until "core $f seeing that its stores are behind the leader's snapshot" logged "$f" "whose stores this member lacks"
grep "whose stores this member lacks" "$T/c$f/graftd.out" | grep -q "database neo4j is at transaction" ||
	fail "the log does not name what core $f lacks: $(grep 'whose stores' "$T/c$f/graftd.out" | head -1)"
wait_until "core $f copying the store of neo4j and installing it" logged "$f" "store of neo4j copied from"
wait_until "core $f caught up and available" core_check "$f" available
logged "$f" "caught up with the Raft snapshot at index" || fail "core $f did not log its catch-up: $(core_log "$f")"
is_follower() { [ "$(core_node "$f" role neo4j)" = FOLLOWER ]; }
wait_until "core $f reporting itself FOLLOWER" is_follower
n=$(acked_count t)
wait_until "writes going on with core $f back" acked t $((n + 20))
retrying_stop t
acked_everywhere t
for i in 1 2 3; do core_stop "$i"; done
echo PASS
