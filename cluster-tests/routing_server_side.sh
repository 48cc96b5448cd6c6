#!/usr/bin/env bash
# Server-side routing in a three-core cluster, through the official driver:
# every core opens the routing connector (dbms.routing.enabled, the
# server.routing.listen_address of its configuration), which serves Bolt to
# the members that forward transactions to it; with
# dbms.routing.default_router=SERVER a bolt:// client of a follower runs
# write transactions on the leader (auto-commit, transaction functions,
# explicit, failing, large results) and reads on the follower, reads its
# forwarded writes with their bookmarks, gets routing tables that name the
# member asked alone (so neo4j:// drivers send it everything), keeps writing through the
# follower across SIGKILL of the leader, and gets DatabaseUnavailable from
# a follower left without a leader.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"
command -v node >/dev/null || fail "node is missing: run tools/deps.sh"
export GRAFT_SRC_DIR

cluster_confs 3 "dbms.routing.default_router=SERVER"
core_start 1 2 3
wait_cluster
rjs() { node "$GRAFT_SRC_DIR/cluster-tests/js/routing.js" "$@"; }

step "every core serves Bolt on its routing connector"
for i in 1 2 3; do
	got=$(rjs query "${CORE_ROUTING[$i]}" "RETURN 40 + 2") || fail "the routing connector of core $i"
	[ "$got" = 42 ] || fail "RETURN 40 + 2 on core $i's routing connector gave '$got'"
	grep -q "Server-side routing connector enabled on 127.0.0.1:${CORE_ROUTING[$i]}" "$T/c$i/graftd.out" ||
		fail "core $i does not log its routing connector: $(core_log "$i")"
done

pick_followers
f1=$F1 f2=$F2
step "bolt:// to follower $f1: writes run on leader $LEADER, reads locally"
rjs server-side "${CORE_BOLT[$f1]}" first >"$T/ssr" 2>&1 || fail "server-side routing through core $f1: $(cat "$T/ssr")"

step "with default_router=SERVER a ROUTE names the member asked alone"
rjs route "${CORE_BOLT[$f1]}" >"$T/route" || fail "ROUTE on core $f1"
for role in WRITE READ ROUTE; do
	[ "$(grep "^$role " "$T/route")" = "$role 127.0.0.1:${CORE_BOLT[$f1]}" ] ||
		fail "$role of core $f1's table is not core $f1 alone: $(cat "$T/route")"
done

step "writes through follower $f1 go on across SIGKILL of leader $LEADER"
core_kill "$LEADER"
rjs ssr-write "${CORE_BOLT[$f1]}" after-kill || fail "executeWrite through core $f1 after the leader died"
got=$(rjs query "${CORE_BOLT[$f2]}" "MATCH (n:S {key: 'after-kill'}) RETURN count(n)")
[ "$got" = 1 ] || fail "the write through core $f1 is on core $f2 $got times, not once"

step "a follower without a leader answers DatabaseUnavailable"
wait_leader
alone=$f1
[ "$LEADER" = "$f1" ] && alone=$f2
for i in $f1 $f2; do [ "$i" = "$alone" ] || core_stop "$i"; done
unavailable() { [ "$(rjs ssr-error "${CORE_BOLT[$alone]}")" = "Neo.TransientError.General.DatabaseUnavailable" ]; }
wait_until "core $alone refusing to forward with DatabaseUnavailable" unavailable
core_stop "$alone"
