#!/usr/bin/env bash
# Three cores configured with the 4.x keys of the Neo4j operations manual,
# started one by one in an order that is not the bootstrapping one: they
# find each other, form one cluster (one cluster id on every member), elect
# one leader; writes on the leader reach every follower; a write sent to a
# follower fails with NotALeader; after all three restart, every write is
# there exactly once and the cluster is the same.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"

cluster_confs 3

step "a lone core waits, naming the discovery endpoints it tried"
core_start 3
# The first report may come before the first attempts have failed ("no
# answer yet"); a later one names the refusal.
waiting() { grep "waiting to form: found 1 of the 3 core members" "$T/c3/logs/graft.log" | grep -qF "127.0.0.1:${CORE_DISC[1]} (connection refused)"; }
wait_until "a waiting report naming the endpoints tried" waiting
core_check 3 writable && fail "a lone core takes writes"
# Committed here, outside Raft, such a write would exist on this member
# only and shift its transaction ids: once in the cluster it would skip or
# reject the entries of every other member (two runs lost every write so).
core_node 3 expect-error Neo.ClientError.Cluster.NotALeader "CREATE (:W {tag: 'early'})" ||
	fail "a core not in a cluster yet commits a write"
core_node 3 expect-error Neo.ClientError.Cluster.NotALeader "CREATE DATABASE early" system ||
	fail "a core not in a cluster yet creates a database"

step "the others join in any order; one cluster, one leader"
core_start 1
core_start 2
wait_cluster
id=$(cat "$T/c1/data/dbms/cluster_id")
for i in 2 3; do
	[ "$(cat "$T/c$i/data/dbms/cluster_id")" = "$id" ] || fail "core $i has another cluster id"
done
for i in 1 2 3; do
	[ "$(core_node "$i" leaders)" = 1 ] || fail "core $i does not see exactly one leader"
done
[ "$(core_node "$LEADER" role neo4j)" = LEADER ] || fail "the leader's dbms.cluster.role"
grep -q "cluster: elected leader in term" "$T/c$LEADER/logs/graft.log" || fail "no election logged"

step "writes on the leader reach every follower"
core_node "$LEADER" write a 20 >"$T/acks" || fail "writes on the leader failed: $(core_log "$LEADER")"
sort "$T/acks" >"$T/acks.sorted"
for i in 1 2 3; do
	same() { core_node "$i" keys a >"$T/keys.$i" && cmp -s "$T/keys.$i" "$T/acks.sorted"; }
	wait_until "core $i holding every write" same
	[ -z "$(core_node "$i" keys early)" ] || fail "core $i holds the write refused before the cluster formed"
done

step "a write sent to a follower fails with NotALeader"
f=$(( LEADER % 3 + 1 ))
core_node "$f" expect-error Neo.ClientError.Cluster.NotALeader "CREATE (:W {tag: 'no'})" ||
	fail "write on follower $f"
core_check "$f" read-only || fail "follower $f does not say read-only"

step "all three restart: the same cluster, every write once"
for i in 1 2 3; do core_stop "$i"; done
for i in 2 3 1; do core_start "$i"; done
wait_cluster
for i in 1 2 3; do
	[ "$(cat "$T/c$i/data/dbms/cluster_id")" = "$id" ] || fail "core $i changed cluster"
	core_node "$i" keys a >"$T/keys.$i"
	cmp -s "$T/keys.$i" "$T/acks.sorted" || fail "core $i after restart: $(diff "$T/keys.$i" "$T/acks.sorted" | head)"
done
core_node "$LEADER" write b 1 >/dev/null || fail "no write after the restart: $(core_log "$LEADER")"

step "a clean stop of every member"
for i in 1 2 3; do core_stop "$i"; done
