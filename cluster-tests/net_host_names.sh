#!/usr/bin/env bash
# Host names instead of IP addresses in a core cluster: three cores whose
# discovery endpoints and advertised addresses (discovery, Raft,
# transaction, Bolt, routing connector) all say localhost:PORT form one
# cluster, and the official driver, given neo4j://localhost:PORT and no
# resolver of its own, follows routing tables naming localhost, writes
# (forwarded by a follower to the leader's routing connector, named by host
# name) and reads its writes. A discovery endpoint whose host name does not
# resolve is logged as an error naming the setting and the endpoint; a
# Raft advertised address that does not resolve stops the start, naming
# the setting and the host.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"

BAD=no-such-core.invalid

step "a discovery endpoint that does not resolve is an error naming the setting"
mkdir -p "$T/bad"
claim_port; own=$PORT
claim_port; raft=$PORT
claim_port; bad_port=$PORT
claim_port; other=$PORT
write_conf "$T/bad/graft.conf" "$T/bad" \
	"dbms.mode=CORE" \
	"dbms.security.auth_enabled=false" \
	"causal_clustering.minimum_core_cluster_size_at_formation=3" \
	"causal_clustering.initial_discovery_members=$BAD:$bad_port,localhost:$own,localhost:$other" \
	"causal_clustering.discovery_listen_address=127.0.0.1:$own" \
	"causal_clustering.raft_listen_address=127.0.0.1:$raft"
member_start "the core with a wrong endpoint" "$T/bad" "$BOLT_PORT"
named() { grep "ERROR" "$T/bad/logs/graft.log" | grep "dbms.cluster.discovery.endpoints" | grep -qF "$BAD:$bad_port"; }
wait_until "an error naming dbms.cluster.discovery.endpoints and $BAD:$bad_port" named
grep "ERROR" "$T/bad/logs/graft.log" | grep -q "localhost:$own" &&
	fail "the endpoint localhost:$own is reported as not resolving"
kill -TERM "$MEMBER_PID"
wait_exit "$MEMBER_PID" "$BUDGET" || fail "the core with a wrong endpoint did not stop"

step "a Raft advertised address that does not resolve stops the start, naming it"
echo "causal_clustering.raft_advertised_address=$BAD:$raft" >>"$T/bad/graft.conf"
if "$GRAFTD" --config "$T/bad/graft.conf" >"$T/bad/refused.out" 2>&1; then
	fail "graftd started with an unresolvable Raft advertised address"
fi
grep "raft.advertised_address" "$T/bad/refused.out" | grep -qF "$BAD" ||
	fail "the refusal does not name the setting and the host: $(tail -5 "$T/bad/refused.out")"

step "three cores that name each other by host name form a cluster"
cluster_confs 3 "dbms.routing.default_router=SERVER"
for i in 1 2 3; do
	sed -i -e '/initial_discovery_members=\|advertised_address=/ s/127\.0\.0\.1:/localhost:/g' "$T/c$i/graft.conf"
	{
		echo "causal_clustering.discovery_advertised_address=localhost:${CORE_DISC[$i]}"
		echo "causal_clustering.raft_advertised_address=localhost:${CORE_RAFT[$i]}"
	} >>"$T/c$i/graft.conf"
	grep -q "127.0.0.1" <(grep "advertised_address=\|discovery_members=" "$T/c$i/graft.conf") &&
		fail "core $i still advertises an IP address"
done
core_start 1 2 3
wait_cluster
pick_followers

step "the driver follows localhost addresses; a follower forwards writes to the leader by host name"
njs() { node "$GRAFT_SRC_DIR/cluster-tests/js/net.js" "$@"; }
njs routed "${CORE_BOLT[$F1]}" h 20 >"$T/routed" 2>&1 || fail "routed writes and reads: $(cat "$T/routed")"
grep -qx "wrote 20 read 20" "$T/routed" || fail "the reads missed writes: $(cat "$T/routed")"
for role in WRITE READ ROUTE; do
	[ "$(grep "^$role " "$T/routed")" = "$role localhost:${CORE_BOLT[$F1]}" ] ||
		fail "$role of core $F1's table is not its advertised localhost address: $(cat "$T/routed")"
done
njs ssr-write "${CORE_BOLT[$F2]}" k1 >"$T/ssr" 2>&1 || fail "a write through follower $F2: $(cat "$T/ssr")"
for i in 1 2 3; do
	holds() { [ "$(core_node "$i" query neo4j "MATCH (h:H) RETURN count(h) AS n" 2>/dev/null)" = '{"n":"21"}' ]; }
	wait_until "core $i holding the 21 writes" holds
done

step "a clean stop of every member"
for i in 1 2 3; do core_stop "$i"; done
