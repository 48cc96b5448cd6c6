#!/usr/bin/env bash
# Server-side routing in a three-core cluster, through the official driver:
# every core opens the routing connector (dbms.routing.enabled, the
# server.routing.listen_address of its configuration), which serves Bolt to
# the members that forward transactions to it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"
command -v node >/dev/null || fail "node is missing: run tools/deps.sh"
export GRAFT_SRC_DIR

cluster_confs 3
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
for i in 1 2 3; do core_stop "$i"; done
