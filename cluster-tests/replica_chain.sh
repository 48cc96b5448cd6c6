#!/usr/bin/env bash
# Replica chaining, as Neo4j 4.x's
# causal_clustering.upstream_selection_strategy=connect-randomly-within-server-group:
# three cores; replica 1 (server group 'edge') follows the cores, replica 2
# (group 'edge', that strategy) catches up from replica 1 and follows its
# stream; after replica 1's kill -9 it falls back to a core and goes on,
# ending with the leader's graph.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"

cluster_confs 3
replica_confs 2 "causal_clustering.server_groups=edge"
echo "causal_clustering.upstream_selection_strategy=connect-randomly-within-server-group" >>"$T/r2/graft.conf"
start_cores
leader_write a 20
replica_start 1
wait_until "replica 1 holding the first writes" replica_holds_keys 1 a 20
R1=$(sed -n 's/.*INFO  Server id \([0-9a-f-]*\)\..*/\1/p' "$T/r1/graftd.out" | head -1)
[ -n "$R1" ] || fail "replica 1 logged no server id: $(tail -5 "$T/r1/graftd.out")"
# upstream_of I: the server the last 'following neo4j from' line of
# replica I names
upstream_of() { sed -n 's/.*read replica: following neo4j from \([0-9a-f-]*\) .*/\1/p' "$T/r$1/graftd.out" | tail -1; }

step "replica 2 catches up from replica 1 and follows its stream"
replica_start 2
wait_until "replica 2 following neo4j from replica 1 (log: $T/r2/graftd.out)" eval '[ "$(upstream_of 2)" = "$R1" ]'
wait_until "replica 2 holding the first writes" replica_holds_keys 2 a 20
leader_write b 20
wait_until "replica 2 holding writes made since, through replica 1" replica_holds_keys 2 b 20
[ "$(upstream_of 2)" = "$R1" ] || fail "replica 2 left replica 1 while it ran: $(grep 'read replica' "$T/r2/graftd.out" | tail -5)"

step "replica 1 killed: replica 2 falls back to a core"
replica_kill 1
leader_write c 20
wait_until "replica 2 holding the writes made after the kill" replica_holds_keys 2 c 20
up=$(upstream_of 2)
[ -n "$up" ] && [ "$up" != "$R1" ] || fail "replica 2 follows neo4j from '$up', not a core: $(grep 'read replica' "$T/r2/graftd.out" | tail -5)"
grep -q "discovered core $up " "$T/r2/graftd.out" || fail "replica 2's upstream $up is not a core"
wait_leader
want=$(replicas_js digest "${CORE_BOLT[$LEADER]}")
wait_until "replica 2 with the leader's digest" eval '[ "$(replicas_js digest "${REPLICA_BOLT[2]}")" = "$want" ]'

replica_stop 2
for i in 1 2 3; do core_stop "$i"; done
exit 0
