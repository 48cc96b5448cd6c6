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

core_confs "dbms.routing.default_router=SERVER"

for i in 0 1 2; do start_core "$i"; done
wait_leader
follower=$(((leader + 1) % 3))
for _ in $(seq 1 600); do core_check "$follower" read-only && break; sleep 0.1; done
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
