#!/usr/bin/env bash
# Read replicas in the cluster's topology, through the official driver:
# three cores and two read replicas (replica 2 tagged 'replica', with
# server-side routing), followers not reading
# (dbms.routing.reads_on_primaries_enabled=false). Every member, cores and
# replicas alike, lists both replicas in dbms.cluster.overview() as
# READ_REPLICA with their position and lag, and still one LEADER (the
# split-brain check of the Neo4j operations manual); SHOW SERVERS lists the
# five servers and SHOW DATABASES the writer and each copy's position; the
# routing table of every member names the replicas as its readers, so
# executeRead through neo4j:// is served by them; a policy selects a
# replica by its tag; a write over bolt:// to replica 2 is forwarded to
# the leader, and replica 1 (client-side routing) refuses it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"

cluster_confs 3 "dbms.routing.reads_on_primaries_enabled=false" \
	"dbms.routing.load_balancing.config.server_policies.tagged=tags(replica)"
replica_confs 2 "dbms.routing.reads_on_primaries_enabled=false"
echo "initial.server.tags=replica" >>"$T/r2/graft.conf"
echo "dbms.routing.default_router=SERVER" >>"$T/r2/graft.conf"
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

step "every member's routing table names the replicas as its readers"
addr() { echo "127.0.0.1:$1"; }
role_set() { grep "^$2 " "$1" | cut -d' ' -f2- | tr ' ' '\n' | sed '/^$/d' | sort | tr '\n' ' '; }
replicas_read() {
	rjs table "$1" >"$T/table.$1" &&
		[ "$(role_set "$T/table.$1" READ)" = "$(printf '%s\n' "$(addr "${REPLICA_BOLT[1]}")" "$(addr "${REPLICA_BOLT[2]}")" | sort | tr '\n' ' ')" ]
}
# replica 2 routes server-side: its table names itself alone
for port in "${CORE_BOLT[1]}" "${CORE_BOLT[2]}" "${CORE_BOLT[3]}" "${REPLICA_BOLT[1]}"; do
	wait_until "member $port's READ naming both replicas" replicas_read "$port"
	grep -q "^WRITE 127.0.0.1:${CORE_BOLT[$LEADER]}$" "$T/table.$port" ||
		fail "member $port's table does not name leader $LEADER as writer: $(cat "$T/table.$port")"
done
rjs table "${CORE_BOLT[1]}" dbms.routing.getRoutingTable tagged >"$T/tagged" || fail "policy tagged"
[ "$(role_set "$T/tagged" READ)" = "$(addr "${REPLICA_BOLT[2]}") " ] ||
	fail "policy tags(replica) reads from '$(role_set "$T/tagged" READ)', not replica 2: $(cat "$T/tagged")"

step "executeRead through neo4j:// is served by the replicas"
export CORE_PORTS="${CORE_BOLT[1]},${CORE_BOLT[2]},${CORE_BOLT[3]}"
rjs reads 10 >"$T/served" || fail "reads through the routing driver"
[ "$(wc -l <"$T/served")" = 10 ] || fail "$(wc -l <"$T/served") of 10 reads"
! grep -v -e "^$(addr "${REPLICA_BOLT[1]}")$" -e "^$(addr "${REPLICA_BOLT[2]}")$" "$T/served" ||
	fail "reads served by another member than the replicas: $(sort "$T/served" | uniq -c)"

step "a write over bolt:// to a replica: forwarded with server-side routing, else NotALeader"
rjs ssr-write "${REPLICA_BOLT[2]}" via-replica || fail "a write through replica 2 with server-side routing"
[ "$(rjs query "${CORE_BOLT[$LEADER]}" "MATCH (n:S {key: 'via-replica'}) RETURN count(n)")" = 1 ] ||
	fail "the write forwarded by replica 2 is not on the leader"
got=$(rjs ssr-error "${REPLICA_BOLT[1]}")
[ "$got" = Neo.ClientError.Cluster.NotALeader ] || fail "a write on replica 1 gave '$got', not NotALeader"

for i in 1 2; do replica_stop "$i"; done
for i in 1 2 3; do core_stop "$i"; done
exit 0
