#!/usr/bin/env bash
# Routing tables of a three-core cluster, through the official driver: every
# member names the leader as the one writer, the followers as readers and
# every core as a router, in dbms.routing.getRoutingTable, its 4.x name and a
# ROUTE request alike; getServerInfo() and verifyConnectivity() work through
# neo4j://; a read with the bookmark of a write on the leader, served by a
# follower, sees the write; a follower that cannot get the bookmarked
# transaction (it was paused, the others are paused now) answers
# BookmarkTimeout, and the same read succeeds once they are back; a member
# left alone refuses to route with DatabaseUnavailable.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"
command -v node >/dev/null || fail "node is missing: run tools/deps.sh"
export GRAFT_SRC_DIR

cluster_confs 3 "db.transaction.bookmark_ready_timeout=2s"
core_start 1 2 3
wait_cluster
export CORE_PORTS="${CORE_BOLT[1]},${CORE_BOLT[2]},${CORE_BOLT[3]}"
rjs() { node "$GRAFT_SRC_DIR/cluster-tests/js/routing.js" "$@"; }
addr() { echo "127.0.0.1:${CORE_BOLT[$1]}"; }
# role_set FILE ROLE: the addresses of ROLE in a table, sorted, one line.
role_set() { grep "^$2 " "$1" | cut -d' ' -f2- | tr ' ' '\n' | sed '/^$/d' | sort | tr '\n' ' '; }
others() { for i in 1 2 3; do [ "$i" = "$1" ] || addr "$i"; done | sort | tr '\n' ' '; }
every() { for i in 1 2 3; do addr "$i"; done | sort | tr '\n' ' '; }
# table_right FILE: leader $LEADER writes, the others read, all route.
table_right() {
	local f=$1
	[ "$(role_set "$f" WRITE)" = "$(addr "$LEADER") " ] ||
		fail "WRITE is '$(role_set "$f" WRITE)', not leader $(addr "$LEADER"): $(cat "$f")"
	[ "$(role_set "$f" READ)" = "$(others "$LEADER")" ] ||
		fail "READ is '$(role_set "$f" READ)', not the followers '$(others "$LEADER")': $(cat "$f")"
	[ "$(role_set "$f" ROUTE)" = "$(every)" ] ||
		fail "ROUTE is '$(role_set "$f" ROUTE)', not every core '$(every)': $(cat "$f")"
}

step "every member's table names leader $LEADER as the writer"
for i in 1 2 3; do
	rjs table "${CORE_BOLT[$i]}" >"$T/proc.$i" || fail "getRoutingTable on core $i"
	grep -q '^ttl 300$' "$T/proc.$i" || fail "ttl is not dbms.routing_ttl's 300 s: $(cat "$T/proc.$i")"
	table_right "$T/proc.$i"
	rjs table "${CORE_BOLT[$i]}" dbms.cluster.routing.getRoutingTable >"$T/proc4.$i" ||
		fail "the 4.x dbms.cluster.routing.getRoutingTable on core $i"
	table_right "$T/proc4.$i"
	rjs route "${CORE_BOLT[$i]}" >"$T/route.$i" || fail "ROUTE on core $i"
	table_right "$T/route.$i"
done

step "verifyConnectivity() and getServerInfo() through neo4j://"
rjs info >"$T/info" || fail "through routing: $(cat "$T/info")"
grep -q '^127\.0\.0\.1:' "$T/info" || fail "getServerInfo named no member: $(cat "$T/info")"

step "reads with the bookmark of a write, on a follower, see the write"
rjs read-your-writes ryw 20 || fail "read-your-writes across members"

pick_followers
f1=$F1 f2=$F2
step "BookmarkTimeout on follower $f2, which cannot get the transaction"
kill -STOP "${CORE_PID[$f2]}"
bm=$(rjs write-bookmark "${CORE_BOLT[$LEADER]}" paused) || fail "write with core $f2 paused"
kill -STOP "${CORE_PID[$LEADER]}" "${CORE_PID[$f1]}"
kill -CONT "${CORE_PID[$f2]}"
got=$(rjs read-bookmark "${CORE_BOLT[$f2]}" "$bm" paused)
[ "$got" = "Neo.TransientError.Transaction.BookmarkTimeout" ] ||
	fail "a read with bookmark $bm on core $f2, which lacks it, gave '$got', not BookmarkTimeout"
kill -CONT "${CORE_PID[$LEADER]}" "${CORE_PID[$f1]}"
read_sees() { [ "$(rjs read-bookmark "${CORE_BOLT[$f2]}" "$bm" paused)" = 1 ]; }
wait_until "core $f2 reading the bookmarked write once the others are back" read_sees

step "a member left alone refuses to route"
wait_cluster
alone=$LEADER
for i in 1 2 3; do [ "$i" = "$alone" ] || core_stop "$i"; done
refuses() { [ "$(rjs table-error "${CORE_BOLT[$alone]}")" = "Neo.TransientError.General.DatabaseUnavailable" ]; }
wait_until "core $alone answering DatabaseUnavailable" refuses
core_stop "$alone"
