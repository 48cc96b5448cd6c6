#!/usr/bin/env bash
# A read replica belongs to one cluster: it records the cluster id of the
# first core it hears (data/dbms/cluster_id), and every stream, store copy
# and list of databases names the cluster and the database's id (every
# record on the wire carries both). A stream of another cluster is refused
# with an error naming both ids, before anything of it is applied (here a
# core of cluster A whose advertised transaction address leads to cluster
# B's member), and so are cores of another cluster (the replica's discovery
# pointed at B): the replica keeps serving exactly what it had, and creates
# or drops no database on their word. (A database dropped and created again under the
# same name has another id: tests/unit/test_txlog_stream.c, and
# replica_databases.sh for the replica that replaces it.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"
command -v node >/dev/null || fail "node is missing: run tools/deps.sh"
export GRAFT_SRC_DIR

# Four cores, two clusters of two: A (cores 1 and 2) and B (3 and 4).
CORE_FORMATION=2 CORE_MIN_RUNTIME=2
cluster_confs 4
pair() { echo "127.0.0.1:${CORE_DISC[$1]},127.0.0.1:${CORE_DISC[$2]}"; }
for i in 1 2 3 4; do
	if [ "$i" -le 2 ]; then ends=$(pair 1 2); else ends=$(pair 3 4); fi
	sed -i "s/^causal_clustering.initial_discovery_members=.*/causal_clustering.initial_discovery_members=$ends/" "$T/c$i/graft.conf"
done
CLUSTER_ENDPOINTS=$(pair 1 2)
replica_confs 1 "db.cluster.catchup.pull_interval=200ms"
core_start 1 2 3 4
# leader_of I J: the writable one of cores I and J, in $L.
leader_of() { if core_check "$1" writable; then L=$1; elif core_check "$2" writable; then L=$2; else return 1; fi; }
wait_until "cluster A (cores 1, 2) taking writes" leader_of 1 2
wait_until "cluster B (cores 3, 4) taking writes" leader_of 3 4
ida=$(cat "$T/c1/data/dbms/cluster_id")
idb=$(cat "$T/c3/data/dbms/cluster_id")
[ -n "$ida" ] && [ -n "$idb" ] && [ "$ida" != "$idb" ] || fail "two clusters with ids '$ida' and '$idb'"
[ "$(cat "$T/c2/data/dbms/cluster_id")" = "$ida" ] && [ "$(cat "$T/c4/data/dbms/cluster_id")" = "$idb" ] ||
	fail "the pairs did not form two clusters"
# on_a/on_b ARGS...: cluster.js against A's or B's leader
on_a() { leader_of 1 2 && core_node "$L" "$@"; }
on_b() { leader_of 3 4 && core_node "$L" "$@"; }

step "the replica follows cluster A and records its id"
on_a write a 5 >/dev/null
on_a query system "CREATE DATABASE adb" >/dev/null
on_a query adb "UNWIND range(1, 20) AS i CREATE (:A {i: i})" >/dev/null
on_b write b 3 >/dev/null
on_b query system "CREATE DATABASE bdb" >/dev/null
replica_start 1
wait_until "the replica holding A's 5 writes" replica_holds 1 a 5
same_adb() { [ "$(replica_node 1 digest adb 2>/dev/null)" = "$(on_a digest adb)" ]; }
wait_until "the replica serving A's adb" same_adb
[ "$(cat "$T/r1/data/dbms/cluster_id")" = "$ida" ] || fail "the replica recorded cluster '$(cat "$T/r1/data/dbms/cluster_id")', not A's $ida"
neo=$(replica_node 1 digest neo4j)
adb=$(replica_node 1 digest adb)
# nothing lost, nothing of B: the same graphs, adb kept, no bdb
unchanged() {
	[ "$(replica_node 1 digest neo4j)" = "$neo" ] || fail "the replica's neo4j changed: $(replica_node 1 keys b)"
	[ "$(replica_node 1 digest adb)" = "$adb" ] || fail "the replica's adb changed or is gone"
	replica_node 1 expect-error Neo.ClientError.Database.DatabaseNotFound "RETURN 1" bdb >/dev/null ||
		fail "the replica created B's database bdb"
}

step "A's cores advertise a transaction address that leads to B's member: streams and lists refused"
core_stop 1
core_stop 2
for i in 1 2; do
	sed -i "s/^causal_clustering.transaction_advertised_address=.*/causal_clustering.transaction_advertised_address=127.0.0.1:${CORE_TX[3]}/" "$T/c$i/graft.conf"
done
core_start 1 2
wait_until "cluster A taking writes again" leader_of 1 2
on_b write b2 4 >/dev/null # B is past the replica: a stream of B has records to send
refused() { grep -q "catch-up of database neo4j from .* stopped: the upstream offers neo4j of cluster $idb, database id 0; this replica's is of cluster $ida" "$T/r1/graftd.out"; }
wait_until "the replica refusing B's stream of neo4j, naming both clusters" refused
ignored() { grep -q "the databases listed by 127.0.0.1:${CORE_TX[3]} belong to cluster $idb; this replica belongs to cluster $ida" "$T/r1/graftd.out"; }
wait_until "the replica ignoring B's list of databases" ignored
sleep 3 # several rounds of the replica's database list (500 ms each)
unchanged

step "cores of another cluster: refused"
replica_stop 1
sed -i "s/^causal_clustering.initial_discovery_members=.*/causal_clustering.initial_discovery_members=$(pair 3 4)/" "$T/r1/graft.conf"
replica_start 1
foreign() { grep -q "read replica: core .* belongs to cluster $idb; this replica belongs to cluster $ida" "$T/r1/graftd.out"; }
wait_until "the replica refusing B's core, naming both clusters" foreign
sleep 3
unchanged
[ "$(cat "$T/r1/data/dbms/cluster_id")" = "$ida" ] || fail "the replica's recorded cluster changed"

replica_stop 1
for i in 1 2 3 4; do core_stop "$i"; done
exit 0
