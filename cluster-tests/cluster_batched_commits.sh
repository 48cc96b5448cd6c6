#!/usr/bin/env bash
# The leader proposes the commits of one loop turn in one raft_apply (a
# batch), and each commit of a batch still gets its own outcome, from its
# own entry's apply:
#  1. 32 sessions at once, each its own key, 6 rounds: every commit is
#     acknowledged with a bookmark of its own (its own transaction id); the
#     graph holds exactly those nodes, on every member; the leader's status
#     shows fewer raft_apply calls than entries (batches happened). Then two
#     sessions racing for each key of a uniqueness constraint: never two
#     acknowledged for a key, a failed one fails on the constraint or as a
#     conflict, and the graph holds exactly the acknowledged ones.
#  2. a batch cut by a leader loss: both followers paused (SIGSTOP), 24
#     writes at once on the leader, which proposes them (the first batch's
#     round never ends: the others go once it held them back for
#     MEMBER_HOLD_MS, src/cluster/member.c) and then steps down
#     (it hears from no majority): none is acknowledged (they never
#     committed), each fails with the unknown-outcome error or NotALeader;
#     resumed, the cluster holds each of them at most once and the members
#     agree.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"

status_field() { http_get "${CORE_HTTP[$1]}" /db/neo4j/cluster/status | grep -o "\"$2\": *[0-9]*" | grep -o '[0-9]*$'; }

cluster_up 3

# exactly_acked FILE LABEL: every member holds exactly the nodes FILE
# acknowledged.
exactly_acked() {
	local i
	label=$2
	grep '^ok ' "$1" | awk '{ printf "{\"k\":%s,\"c\":%s}\n", $2, $3 }' | sort >"$T/want"
	for i in 1 2 3; do
		holds() { core_node "$i" query neo4j "MATCH (n:$label) RETURN n.k AS k, n.c AS c" | sort >"$T/got.$i"; cmp -s "$T/want" "$T/got.$i"; }
		wait_until "core $i holding exactly the acknowledged :$2 nodes" holds
	done
}

step "32 sessions at once, each its own key, 6 rounds"
e0=$(status_field "$LEADER" proposedEntries)
b0=$(status_field "$LEADER" proposalBatches)
core_node "$LEADER" concurrent unique U 32 6 >"$T/unique" || fail "concurrent: $(tail -3 "$T/unique")"
[ "$(wc -l <"$T/unique")" = 192 ] || fail "$(wc -l <"$T/unique") outcomes for 192 commits"
bad=$(grep -v '^ok ' "$T/unique" || true)
[ -z "$bad" ] || fail "a commit of its own key failed: $(echo "$bad" | head -3)"
bms=$(cut -d' ' -f4 "$T/unique" | sort -u | wc -l)
[ "$bms" = 192 ] || fail "192 acknowledged commits share bookmarks ($bms distinct)"
exactly_acked "$T/unique" U
e1=$(status_field "$LEADER" proposedEntries)
b1=$(status_field "$LEADER" proposalBatches)
echo "leader: $((e1 - e0)) entries proposed in $((b1 - b0)) raft_apply calls"
[ $((e1 - e0)) -ge 192 ] || fail "$((e1 - e0)) entries proposed for 192 commits"
[ $((b1 - b0)) -lt $((e1 - e0)) ] || fail "no batch: $((b1 - b0)) raft_apply calls for $((e1 - e0)) entries"

step "two sessions racing for each key of a uniqueness constraint"
core_node "$LEADER" query neo4j "CREATE CONSTRAINT v_k FOR (n:V) REQUIRE n.k IS UNIQUE" >/dev/null || fail "CREATE CONSTRAINT"
core_node "$LEADER" concurrent race V 32 6 >"$T/race" || fail "concurrent: $(tail -3 "$T/race")"
[ "$(wc -l <"$T/race")" = 192 ] || fail "$(wc -l <"$T/race") outcomes for 192 commits"
ok=$(grep -c '^ok ' "$T/race" || true)
keys_ok=$(grep '^ok ' "$T/race" | cut -d' ' -f2 | sort -u | wc -l)
[ "$ok" = "$keys_ok" ] || fail "$ok commits acknowledged for $keys_ok keys: a key committed twice"
[ "$ok" -ge 1 ] || fail "no racing commit acknowledged"
bad=$(grep '^fail ' "$T/race" | grep -v -e ' Neo.ClientError.Schema.ConstraintValidationFailed$' -e ' Neo.TransientError.Transaction.Outdated$' || true)
[ -z "$bad" ] || fail "a racing commit failed otherwise than on the constraint or a conflict: $(echo "$bad" | head -3)"
echo "racing: $ok acknowledged, $(grep -c ' Neo.ClientError.Schema.ConstraintValidationFailed$' "$T/race" || true) on the constraint, $(grep -c ' Neo.TransientError.Transaction.Outdated$' "$T/race" || true) conflicts"
exactly_acked "$T/race" V

step "a batch cut by a leader loss acknowledges none"
wait_cluster
old=$LEADER
pick_followers
e0=$(status_field "$old" proposedEntries)
# Every connection open first: the writes must reach the leader before it
# notices (an election timeout later) that no majority answers.
core_node_bg "$T/burst" "$T/burst.err" "$old" burst cut 24 "$T/go"
burst_ready() { grep -q '^ready' "$T/burst.err"; }
wait_until "24 connections open to the leader" burst_ready
core_kill "$F1" STOP
core_kill "$F2" STOP
touch "$T/go"
wait "$BG_PID" || fail "burst: $(cat "$T/burst.err")"
core_kill "$F1" CONT
core_kill "$F2" CONT
e1=$(status_field "$old" proposedEntries)
echo "old leader proposed $((e1 - e0)) entries; outcomes: $(cut -d' ' -f1,3 "$T/burst" | sort | uniq -c | tr -s ' \n' ' ')"
[ "$(wc -l <"$T/burst")" = 24 ] || fail "$(wc -l <"$T/burst") outcomes for 24 writes"
! grep -q '^ok ' "$T/burst" || fail "a write acknowledged while no majority could commit it: $(grep '^ok ' "$T/burst" | head -3)"
bad=$(grep -v -e ' Neo.DatabaseError.Transaction.TransactionCommitFailed$' -e ' Neo.ClientError.Cluster.NotALeader$' "$T/burst" || true)
[ -z "$bad" ] || fail "a write of the cut batch failed otherwise than unknown or NotALeader: $(echo "$bad" | head -3)"
[ $((e1 - e0)) -ge 2 ] || fail "the old leader proposed $((e1 - e0)) of the writes: no batch was cut"
wait_cluster
for i in 1 2 3; do
	once() { [ -z "$(core_node "$i" keys cut | uniq -d)" ]; }
	wait_until "core $i holding each cut write at most once" once
done
wait_until "identical graphs on every member" same_digest
for i in 1 2 3; do core_stop "$i"; done
echo PASS
