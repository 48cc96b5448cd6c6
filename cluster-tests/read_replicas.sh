#!/usr/bin/env bash
# Three cores and two read replicas: writes on the leader appear on both
# replicas (pushed as they commit); a replica refuses writes with
# NotALeader and calls itself READ_REPLICA; a read given the write's
# bookmark sees the write; the cores' status lists where each replica
# stands (the replicas report it); a replica SIGKILLed during writes,
# restarted, catches up to exactly the leader's graph (a digest by names and
# values); by default a replica follows the leader, and the new one after
# an election; an upstream that goes away is replaced with no gap and no
# duplicate.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"
command -v node >/dev/null || fail "node is missing: run tools/deps.sh"
export GRAFT_SRC_DIR

# Streams of at most 7 transactions per write (the 4.x name of
# dbms.cluster.catchup.batch_size): the 200 writes below cross many.
cluster_confs 3 "causal_clustering.catchup.batch_size=7"
replica_confs 2
for i in 1 2 3; do core_start "$i"; done
wait_cluster
for i in 1 2; do replica_start "$i"; done
export CORE_PORTS="${CORE_BOLT[1]},${CORE_BOLT[2]},${CORE_BOLT[3]}"

same_keys() { # replica I holds exactly the leader's keys of TAG
	core_node "$LEADER" keys "$2" >"$T/lead.$1" &&
		replica_node "$1" keys "$2" >"$T/rep.$1" && cmp -s "$T/lead.$1" "$T/rep.$1"
}

step "writes on leader $LEADER appear on both replicas"
core_node "$LEADER" write a 30 >"$T/acked.a"
[ "$(wc -l <"$T/acked.a")" = 30 ] || fail "the leader acknowledged $(wc -l <"$T/acked.a") of 30 writes"
for i in 1 2; do wait_until "replica $i holding the 30 writes" same_keys "$i" a; done
caught_up() {
	http_get "${REPLICA_HTTP[1]}" /db/neo4j/cluster/status >"$T/status" &&
		grep -q '"role": "READ_REPLICA"' "$T/status" &&
		grep -q '"replicationLagTxs": 0,' "$T/status" &&
		grep -q '"healthy": true' "$T/status"
}
wait_until "replica 1's status saying it follows with no lag" caught_up

step "by default each replica follows the leader"
# upstream_selection_strategy=default: the leader's stream runs a Raft
# round ahead of a follower's (read-replicas.md, "Why default follows the
# leader").
follows_leader() { # replica I's newest stream is from the leader
	local up
	up=$(grep -o "following neo4j from [^ ]*" "$T/r$1/graftd.out" | tail -1 | awk '{print $4}')
	find_leader && [ -n "$up" ] && grep -q "Server id $up" "$T/c$LEADER/graftd.out"
}
for i in 1 2; do wait_until "replica $i following leader $LEADER" follows_leader "$i"; done

step "the cores know where each replica stands"
# Each replica reports its position to its upstream: across the cores'
# statuses, each replica is one subscriber of neo4j, with no lag.
reported() {
	local i n=0
	for i in 1 2 3; do
		http_get "${CORE_HTTP[$i]}" /db/neo4j/cluster/status >"$T/cstatus.$i" || return 1
		n=$((n + $(grep -o '"replicationLagTxs": 0, "millisSinceReport"' "$T/cstatus.$i" | wc -l)))
	done
	[ "$n" = 2 ]
}
wait_until "both replicas' positions reported to their upstreams, with no lag" reported

step "a replica refuses writes and says what it is"
replica_node 1 expect-error Neo.ClientError.Cluster.NotALeader "CREATE (:X)"
[ "$(replica_node 1 role neo4j)" = READ_REPLICA ] || fail "dbms.cluster.role on a replica: $(replica_node 1 role neo4j)"
[ "$(replica_node 1 leaders)" = 1 ] || fail "the replica's overview does not show one leader"

step "a bookmarked read on a replica sees the write"
for k in 1 2 3; do replicas_js bookmark-read "${CORE_BOLT[$LEADER]}" "${REPLICA_BOLT[2]}" "bm-$k" >/dev/null; done

step "replica 2 SIGKILLed during writes, restarted, converges"
core_node_bg "$T/acked.b" "$T/writer.err" "$LEADER" write b 200
writer=$BG_PID
partial() { replica_node 2 keys b | grep -q .; }
wait_until "replica 2 applying the writes" partial
replica_kill 2
wait "$writer" || fail "the writer failed: $(cat "$T/writer.err")"
replica_start 2
for i in 1 2; do wait_until "replica $i holding the 200 writes" same_keys "$i" b; done
lead=$(replicas_js digest "${CORE_BOLT[$LEADER]}")
for i in 1 2; do
	[ "$(replicas_js digest "${REPLICA_BOLT[$i]}")" = "$lead" ] ||
		fail "replica $i's graph differs from the leader's ($lead)"
done
grep -q "following neo4j from" "$T/r2/graftd.out" || fail "replica 2 did not resume its stream"

step "the upstream of replica 1 stops; it follows another with no gap"
up=$(grep -o "following neo4j from [^ ]*" "$T/r1/graftd.out" | tail -1 | awk '{print $4}')
for i in 1 2 3; do
	grep -q "Server id $up" "$T/c$i/graftd.out" && victim=$i
done
[ -n "${victim:-}" ] || fail "cannot tell which core replica 1 follows ($up)"
if [ "$victim" = "$LEADER" ]; then
	core_stop "$victim"
	wait_leader
else
	core_stop "$victim"
fi
core_node "$LEADER" write c 30 >"$T/acked.c"
wait_until "replica 1 holding the writes made after its upstream stopped" same_keys 1 c
wait_until "replica 1 following the new leader $LEADER" follows_leader 1
[ "$(replicas_js digest "${REPLICA_BOLT[1]}")" = "$(replicas_js digest "${CORE_BOLT[$LEADER]}")" ] ||
	fail "replica 1's graph differs from the leader's after the failover"

for i in 1 2; do replica_stop "$i"; done
for i in 1 2 3; do core_alive "$i" && core_stop "$i"; done
exit 0
