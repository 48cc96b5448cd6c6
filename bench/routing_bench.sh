#!/usr/bin/env bash
# Routing figures of three graft cores on loopback with server-side routing
# (dbms.routing.default_router=SERVER), through bench/bolt_bench:
#  1. the routing table: CALL dbms.routing.getRoutingTable({}, 'neo4j') on
#     a follower (what a ROUTE request computes), requests/s, p50, p99, at
#     1 and 8 clients;
#  2. writes: CREATE (:B {v: 1}) per auto-commit transaction, direct to the
#     leader and through a follower (forwarded to the leader's routing
#     connector), at 1 and 8 clients: requests/s, p50, p99.
#
#   bench/routing_bench.sh [BUILD_DIR]
#
# BUILD_DIR (default .) holds graftd and bench/bolt_bench; use a build
# configured without --enable-debug/--enable-sanitize for figures.
# SECONDS_PER_RUN (5). Stops everything it started, by pid.
set -euo pipefail
build=$(cd "${1:-.}" && pwd)
secs=${SECONDS_PER_RUN:-5}
dir=$(mktemp -d /tmp/graft-routing-bench-XXXXXX)
for p in graftd bench/bolt_bench; do
	[ -x "$build/$p" ] || { echo "$build/$p not found: run make in BUILD_DIR first" >&2; exit 2; }
done

. "$(dirname "$0")/bench_lib.sh"

bolt=() http=() disc=() raft=() routing=()
endpoints=""
for i in 0 1 2; do
	bolt[i]=$(free_port); http[i]=$(free_port); disc[i]=$(free_port)
	raft[i]=$(free_port); routing[i]=$(free_port)
	endpoints="${endpoints:+$endpoints,}127.0.0.1:${disc[i]}"
done
for i in 0 1 2; do
	mkdir -p "$dir/c$i"
	cat >"$dir/c$i/graft.conf" <<CONF
server.directories.neo4j_home=$dir/c$i
dbms.mode=CORE
dbms.security.auth_enabled=false
dbms.security.cluster_status_auth_enabled=false
server.backup.enabled=false
causal_clustering.minimum_core_cluster_size_at_formation=3
causal_clustering.initial_discovery_members=$endpoints
causal_clustering.discovery_listen_address=127.0.0.1:${disc[i]}
causal_clustering.raft_listen_address=127.0.0.1:${raft[i]}
server.bolt.listen_address=127.0.0.1:${bolt[i]}
server.http.listen_address=127.0.0.1:${http[i]}
server.routing.listen_address=127.0.0.1:${routing[i]}
server.routing.advertised_address=127.0.0.1:${routing[i]}
dbms.routing.default_router=SERVER
CONF
done

writable() {
	(exec 3<>"/dev/tcp/127.0.0.1/${http[$1]}" && printf 'GET /db/neo4j/cluster/%s HTTP/1.0\r\n\r\n' "$2" >&3 && head -1 <&3) 2>/dev/null | grep -q " 200 "
}
for i in 0 1 2; do
	"$build/graftd" --config "$dir/c$i/graft.conf" >>"$dir/c$i/out" 2>&1 &
	pids[i]=$!
done
leader=""
for _ in $(seq 1 600); do
	for i in 0 1 2; do writable "$i" writable && leader=$i; done
	[ -n "$leader" ] && break
	sleep 0.1
done
[ -n "$leader" ] || { echo "no leader; logs in $dir" >&2; exit 1; }
follower=$(((leader + 1) % 3))
for _ in $(seq 1 600); do writable "$follower" read-only && break; sleep 0.1; done
# discovery gives the follower the leader's routing address within 3 s
sleep 4
bench() { "$build/bench/bolt_bench" -c "$1" -d "$secs" "127.0.0.1:$2" "$3"; }
echo "graft: 3 cores on loopback, dbms.routing.default_router=SERVER, ${secs} s per run; leader c$leader, follower c$follower"
echo "routing table on the follower: CALL dbms.routing.getRoutingTable({}, 'neo4j')"
for c in 1 8; do bench "$c" "${bolt[follower]}" "CALL dbms.routing.getRoutingTable({}, 'neo4j')"; done
for c in 1 8; do
	echo "writes, $c clients: CREATE (:B {v: 1}) direct to the leader, then through the follower"
	bench "$c" "${bolt[leader]}" "CREATE (:B {v: 1})"
	bench "$c" "${bolt[follower]}" "CREATE (:B {v: 1})"
done
load
