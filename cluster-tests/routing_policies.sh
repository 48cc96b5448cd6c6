#!/usr/bin/env bash
# Server tags and load-balancing policies in a three-core cluster, through
# the official driver: core 1 is tagged east, core 2 east and ssd, core 3
# west (initial.server.tags and its 4.x name causal_clustering.server_groups),
# policies in Neo4j's rule language under both setting names; the policy a
# routing context names (procedure argument, or neo4j://...?policy= in a
# driver's ROUTE) narrows READ and ROUTE, 'default' applies without one, an
# unknown policy is refused naming the configured ones, and a policy that
# does not parse keeps a core from starting with the setting named.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"
command -v node >/dev/null || fail "node is missing: run tools/deps.sh"
export GRAFT_SRC_DIR

# Reads on the leader too, so that every core is a candidate reader
# whoever leads, and the expectations do not depend on the election.
cluster_confs 3 "dbms.routing.reads_on_writers_enabled=true" \
	"causal_clustering.load_balancing.plugin=server_policies" \
	"causal_clustering.load_balancing.config.server_policies.east=tags(east)->min(2); all();" \
	"dbms.routing.load_balancing.config.server_policies.ssd=groups(ssd)" \
	"dbms.routing.load_balancing.config.server_policies.far=tags(north); halt();" \
	"dbms.routing.load_balancing.config.server_policies.default=tags(west)"
echo "initial.server.tags=east" >>"$T/c1/graft.conf"
echo "causal_clustering.server_groups=east, ssd" >>"$T/c2/graft.conf"
echo "server.groups=west" >>"$T/c3/graft.conf"
core_start 1 2 3
wait_cluster
rjs() { node "$GRAFT_SRC_DIR/cluster-tests/js/routing.js" "$@"; }
addrs() { for i in "$@"; do echo "127.0.0.1:${CORE_BOLT[$i]}"; done | sort | tr '\n' ' '; }
role_set() { grep "^$2 " "$1" | cut -d' ' -f2- | tr ' ' '\n' | sed '/^$/d' | sort | tr '\n' ' '; }
# expect FILE ROLE MEMBERS...: ROLE of table FILE names exactly MEMBERS.
expect() {
	local f=$1 role=$2
	shift 2
	[ "$(role_set "$f" "$role")" = "$(addrs "$@")" ] ||
		fail "$role is '$(role_set "$f" "$role")', not '$(addrs "$@")': $(cat "$f")"
}
# Discovery brings the tags every 3 s: wait until a member knows them all.
knows_tags() {
	rjs table "${CORE_BOLT[1]}" dbms.routing.getRoutingTable ssd >"$T/t" &&
		[ "$(role_set "$T/t" READ)" = "$(addrs 2)" ]
}
wait_until "core 1 knowing every core's tags" knows_tags

step "a policy narrows READ and ROUTE"
rjs table "${CORE_BOLT[3]}" dbms.routing.getRoutingTable east >"$T/east" || fail "policy east"
expect "$T/east" READ 1 2
expect "$T/east" ROUTE 1 2
step "a driver's ?policy= chooses the policy of its ROUTE"
rjs route "${CORE_BOLT[1]}" ssd >"$T/ssd" || fail "ROUTE with policy ssd"
expect "$T/ssd" READ 2
step "'default' applies without a policy; halt() leaves no reader but every router"
rjs table "${CORE_BOLT[2]}" >"$T/default" || fail "no policy"
expect "$T/default" READ 3
rjs table "${CORE_BOLT[2]}" dbms.routing.getRoutingTable far >"$T/far" || fail "policy far"
expect "$T/far" READ
expect "$T/far" ROUTE 1 2 3
step "an unknown policy is refused"
got=$(rjs table-error "${CORE_BOLT[1]}" nowhere)
[ "$got" = "Neo.ClientError.Procedure.ProcedureCallFailed" ] || fail "policy nowhere gave '$got'"
for i in 1 2 3; do core_stop "$i"; done

step "a policy that does not parse keeps a core from starting"
echo "dbms.routing.load_balancing.config.server_policies.bad=tags(a)->near(b)" >>"$T/c1/graft.conf"
"$GRAFTD" --config "$T/c1/graft.conf" >"$T/bad.out" 2>&1 && fail "core 1 started with a bad policy"
grep -q "server_policies.bad: load-balancing policy 'bad', rule 'tags(a)->near(b)': unknown filter" "$T/bad.out" ||
	fail "the refusal does not name the policy and what is wrong: $(tail -5 "$T/bad.out")"
