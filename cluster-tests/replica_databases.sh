#!/usr/bin/env bash
# CREATE and DROP DATABASE on the cores reach read replicas that are already
# running (this replica names the cores' discovery endpoints by host name): a database created and written on the leader is created on the
# replica, which serves the same graph (a digest by names and values); a
# dropped one is dropped there; one dropped and created again under the same
# name while the replica was stopped is replaced on the replica by the new
# one (its origin differs) once it is back, never resumed from the old.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"
command -v node >/dev/null || fail "node is missing: run tools/deps.sh"
export GRAFT_SRC_DIR

cluster_confs 3
replica_confs 1
# the replica finds the cores by host name (resolved off its loop)
sed -i "s/^\(causal_clustering.initial_discovery_members=\).*/\1${CLUSTER_ENDPOINTS//127.0.0.1/localhost}/" "$T/r1/graft.conf"
grep -q "initial_discovery_members=localhost:" "$T/r1/graft.conf" || fail "the replica's discovery members are not host names"
start_cores
replica_start 1

same_digest() { # the replica's digest of database $1 is the leader's
	core_node "$LEADER" digest "$1" >"$T/lead.digest" &&
		replica_node 1 digest "$1" >"$T/rep.digest" 2>/dev/null &&
		cmp -s "$T/lead.digest" "$T/rep.digest"
}
gone() { # the replica no longer has database $1
	replica_node 1 expect-error Neo.ClientError.Database.DatabaseNotFound "RETURN 1" "$1" 2>/dev/null
}

step "CREATE DATABASE on the leader reaches the running replica"
core_node "$LEADER" query system "CREATE DATABASE sales" >/dev/null
core_node "$LEADER" query sales "UNWIND range(1, 40) AS i CREATE (:S {i: i})-[:NEXT {w: i}]->(:T {i: i})" >/dev/null
core_node "$LEADER" query sales "MATCH (s:S) WHERE s.i % 2 = 0 SET s.even = true" >/dev/null
wait_until "the replica serving sales with the leader's digest" same_digest sales
grep -q "database sales was created on the cores" "$T/r1/graftd.out" ||
	fail "the replica's log does not say it created sales"
core_node "$LEADER" query sales "CREATE (:S {i: 41})" >/dev/null
wait_until "the replica following the writes made on sales since" same_digest sales

step "DROP DATABASE on the leader reaches the running replica"
core_node "$LEADER" query system "DROP DATABASE sales" >/dev/null
wait_until "the replica dropping sales" gone sales
[ ! -d "$T/r1/data/databases/sales" ] || fail "the replica kept the files of sales"

step "a database dropped and created again while the replica was stopped"
core_node "$LEADER" query system "CREATE DATABASE stock" >/dev/null
core_node "$LEADER" query stock "UNWIND range(1, 30) AS i CREATE (:Old {i: i})" >/dev/null
wait_until "the replica serving stock" same_digest stock
replica_stop 1
core_node "$LEADER" query system "DROP DATABASE stock" >/dev/null
core_node "$LEADER" query system "CREATE DATABASE stock" >/dev/null
core_node "$LEADER" query stock "CREATE (:New {i: 1})" >/dev/null
replica_start 1
wait_until "the replica serving the new stock, not the old one" same_digest stock
grep -q "database stock was dropped on the cores" "$T/r1/graftd.out" ||
	fail "the replica did not drop its old stock"

replica_stop 1
for i in 1 2 3; do core_stop "$i"; done
exit 0
