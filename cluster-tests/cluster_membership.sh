#!/usr/bin/env bash
# Cores joining and leaving a running cluster. A fourth core started with
# the cluster's discovery endpoints while writers go on joins by itself: the
# leader adds it without a vote, catches it up, then makes it a voter, and
# it ends holding every acknowledged write with the leader's digest.
# DROP SERVER (5.x; graft's procedure dbms.cluster.dropServer underneath)
# removes a core while writers go on (every member
# then lists three, writes continue, none fails, every acknowledged write
# is on the three), and refuses to go below causal_clustering.minimum_core_cluster_size_at_runtime,
# naming the setting.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"

CORE_FORMATION=3 CORE_MIN_RUNTIME=3 cluster_confs 4
core_start 1 2 3
wait_cluster

# logged I TEXT: member I's log has a line with TEXT.
logged() { grep -q "$2" "$T/c$1/graftd.out"; }
server_id() { cat "$T/c$1/data/dbms/server_id"; }
members() { core_node "$1" query system "CALL dbms.cluster.overview() YIELD id RETURN count(id) AS n" | grep -o '[0-9]\+'; }
members_are() { [ "$(members "$1")" = "$2" ]; }

step "a fourth core started under writes joins as a non-voter, then becomes a voter"
retrying_start m 3
wait_until "50 acknowledged writes" acked m 50
core_start 4
wait_until "core 4 joining the formed cluster" logged 4 "joining the formed cluster"
wait_until "the leader adding core 4" logged "$LEADER" "membership: adding core $(server_id 4)"
wait_until "core 4 promoted to voter" logged "$LEADER" "core $(server_id 4) from standby to voter committed"
wait_until "core 4 following" core_check 4 read-only
self_voter() { grep "Raft configuration at index" "$T/c4/graftd.out" | tail -1 | grep -q "$(server_id 4) (voter)"; }
wait_until "core 4 seeing itself a voter" self_voter
n=$(acked_count m)
wait_until "writes going on with four voters" acked m $((n + 20))
retrying_stop m
acked_everywhere m
wait_until "four members in the leader's overview" members_are "$LEADER" 4

step "DROP SERVER removes a core while writers go on"
retrying_start r 3
wait_until "20 acknowledged writes" acked r 20
gone=$(( LEADER % 3 + 1 ))
id=$(server_id "$gone")
out=$(core_node "$LEADER" query system "DROP SERVER '$id'")
expect_in "$out" "REMOVING" "DROP SERVER's answer"
wait_until "the removal committed" logged "$LEADER" "removing core $id (voter) committed"
n=$(acked_count r)
core_stop "$gone"
for i in 1 2 3 4; do
	[ "$i" = "$gone" ] && continue
	wait_until "three members in core $i's overview" members_are "$i" 3
	core_node "$i" query system "CALL dbms.cluster.overview() YIELD id RETURN id" | grep -q "$id" &&
		fail "core $i still lists the removed core $id"
done
wait_until "writes going on with three voters" acked r $((n + 20))
retrying_stop r
[ "$(grep -c '^# failed' "$T/acks.r" || true)" = 0 ] ||
	fail "writes failed during the removal: $(grep '^# failed' "$T/acks.r" | head -3)"
for i in 1 2 3 4; do
	[ "$i" = "$gone" ] && continue
	wait_until "core $i holding every acknowledged write once" holds_acked "$i" r "$T/acked.r"
done
wait_until "identical graphs on the three members" same_digest

step "no removal below causal_clustering.minimum_core_cluster_size_at_runtime"
for i in 1 2 3 4; do
	[ "$i" = "$LEADER" ] || [ "$i" = "$gone" ] || break
done
msg=$(core_node "$LEADER" expect-error Neo.ClientError.Procedure.ProcedureCallFailed \
	"CALL dbms.cluster.dropServer('$(server_id "$i")')" system)
expect_in "$msg" "causal_clustering.minimum_core_cluster_size_at_runtime (3)" "the refusal"
echo "refused: $msg"
msg=$(core_node "$LEADER" expect-error Neo.ClientError.Procedure.ProcedureCallFailed \
	"DROP SERVER '$(server_id "$i")'" system)
expect_in "$msg" "causal_clustering.minimum_core_cluster_size_at_runtime (3)" "DROP SERVER's refusal"
msg=$(core_node "$LEADER" expect-error Neo.ClientError.Procedure.ProcedureCallFailed \
	"CALL dbms.cluster.dropServer('no-such-server')" system)
expect_in "$msg" "no core with server id 'no-such-server'" "an unknown server"
for i in 1 2 3 4; do [ "$i" = "$gone" ] || core_stop "$i"; done
echo PASS
