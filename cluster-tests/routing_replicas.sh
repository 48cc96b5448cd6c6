#!/usr/bin/env bash
# Read replicas in the cluster's topology, through the official driver:
# three cores and two read replicas (replica 2 tagged 'replica'). Every
# member, cores and replicas alike, lists both replicas in
# dbms.cluster.overview() as READ_REPLICA with their position and lag, and
# still one LEADER (the split-brain check of the Neo4j operations manual);
# SHOW SERVERS lists the five servers and SHOW DATABASES the writer and
# each copy's position.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"

cluster_confs 3
replica_confs 2
echo "initial.server.tags=replica" >>"$T/r2/graft.conf"
core_start 1 2 3
wait_cluster
for i in 1 2; do replica_start "$i"; done
rjs() { node "$GRAFT_SRC_DIR/cluster-tests/js/routing.js" "$@"; }
MEMBERS=("${CORE_BOLT[1]}" "${CORE_BOLT[2]}" "${CORE_BOLT[3]}" "${REPLICA_BOLT[1]}" "${REPLICA_BOLT[2]}")

core_node "$LEADER" write a 20 >"$T/acked.a"
want=$(rjs query "${CORE_BOLT[$LEADER]}" "SHOW DATABASES YIELD name, writer, lastCommittedTxn WHERE name = 'neo4j' AND writer RETURN lastCommittedTxn")
[ -n "$want" ] || fail "SHOW DATABASES on the leader names no writer of neo4j"

step "every member lists both replicas, at the leader's position, and one leader"
# replica ROWS of member PORT: "id position lag groups" of each READ_REPLICA
replica_rows() {
	rjs query "$1" "CALL dbms.cluster.overview() YIELD id, role, lastCommittedTxn, replicationLagTxs, groups
		WHERE role = 'READ_REPLICA'
		RETURN id + ' ' + toString(lastCommittedTxn['neo4j']) + ' ' + toString(replicationLagTxs['neo4j']) + ' ' + reduce(s = '', g IN groups | s + g)"
}
sees_replicas() {
	replica_rows "$1" >"$T/rows.$1" || return 1
	[ "$(grep -c " $want 0" "$T/rows.$1")" = 2 ] && grep -q " $want 0 replica$" "$T/rows.$1"
}
for port in "${MEMBERS[@]}"; do
	wait_until "member $port listing both replicas at transaction $want" sees_replicas "$port"
	leaders=$(rjs query "$port" "CALL dbms.cluster.overview() YIELD role WITH role, count(*) AS count WHERE role = 'LEADER' RETURN count")
	[ "$leaders" = 1 ] || fail "the split-brain check on $port gives '$leaders', not 1"
done

step "SHOW SERVERS lists the five servers; SHOW DATABASES one writer and every copy"
for port in "${MEMBERS[@]}"; do
	n=$(rjs query "$port" "SHOW SERVERS YIELD name, health, modeConstraint WHERE health = 'Available' RETURN count(*)")
	[ "$n" = 5 ] || fail "SHOW SERVERS on $port lists $n available servers, not 5"
	n=$(rjs query "$port" "SHOW SERVERS YIELD modeConstraint WHERE modeConstraint = 'SECONDARY' RETURN count(*)")
	[ "$n" = 2 ] || fail "SHOW SERVERS on $port lists $n secondaries, not 2"
	rows=$(rjs query "$port" "SHOW DATABASES YIELD name, role, writer, currentStatus, lastCommittedTxn, replicationLag WHERE name = 'neo4j'
		RETURN role + ' ' + toString(writer) + ' ' + currentStatus + ' ' + toString(lastCommittedTxn) + ' ' + toString(replicationLag)")
	[ "$(grep -c "^primary true online $want 0$" <<<"$rows")" = 1 ] ||
		fail "SHOW DATABASES on $port does not show one writer at $want: $rows"
	[ "$(grep -c "^secondary false online $want 0$" <<<"$rows")" = 2 ] ||
		fail "SHOW DATABASES on $port does not show both replicas at $want: $rows"
done

for i in 1 2; do replica_stop "$i"; done
for i in 1 2 3; do core_stop "$i"; done
exit 0
