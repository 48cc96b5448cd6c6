#!/usr/bin/env bash
# Lag-aware READ: three cores and two read replicas with
# dbms.routing.reads.max_replication_lag=4s; the cores advertise their
# transaction ports through a relay (replicas.js relay: bytes unchanged;
# its 'proxy' damages every stream), so that the replicas' streams can be
# held up while the replicas themselves go on (they probe the cores
# directly). A replica paused with SIGSTOP leaves READ on every core once
# writes it lacks are older than the bound, and returns after SIGCONT; with
# the relay paused, both replicas, still heard from (SHOW SERVERS: Available),
# leave READ on every core for their lag alone, and return once their
# streams resume.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"

cluster_confs 3 "dbms.routing.reads.max_replication_lag=4s"
proxied_tx_ports
replica_confs 2
# node itself in the background (not a shell function): SIGSTOP must reach
# the relay
node "$GRAFT_SRC_DIR/cluster-tests/js/replicas.js" relay "${PROXY_PAIRS[@]}" >"$T/proxy.out" 2>&1 &
RELAY=$!
PIDS+=("$RELAY")
wait_until "the relay listening" grep -q ready "$T/proxy.out"
core_start 1 2 3
wait_cluster
for i in 1 2; do replica_start "$i"; done
rjs() { node "$GRAFT_SRC_DIR/cluster-tests/js/routing.js" "$@"; }
# reads_on_cores I...: READ of every core names exactly replicas I...
# (among the replicas)
reads_on_cores() {
	local c i want="" got
	for i in "$@"; do want+="127.0.0.1:${REPLICA_BOLT[$i]} "; done
	for c in 1 2 3; do
		rjs table "${CORE_BOLT[$c]}" >"$T/table.$c" || return 1
		got=""
		for i in 1 2; do
			grep -q "^READ .*127.0.0.1:${REPLICA_BOLT[$i]}\b" "$T/table.$c" &&
				got+="127.0.0.1:${REPLICA_BOLT[$i]} "
		done
		[ "$got" = "$want" ] || return 1
	done
}
leader_write a 5
# both streams work (a replica whose catch-up stopped is behind for good,
# and every step below would fail for that instead)
for i in 1 2; do
	wait_until "replica $i holding the writes (log: $T/r$i/graftd.out)" replica_holds_keys "$i" a 5
done
wait_until "both replicas reading on every core" reads_on_cores 1 2

step "a replica paused with SIGSTOP leaves READ after the bound, returns after SIGCONT"
kill -STOP "${REPLICA_PID[1]}"
leader_write b 5
wait_until "replica 1 out of READ on every core" reads_on_cores 2
kill -CONT "${REPLICA_PID[1]}"
wait_until "replica 1 back in READ on every core" reads_on_cores 1 2

step "replicas whose streams are held up leave READ for their lag alone"
kill -STOP "$RELAY"
leader_write c 5
wait_until "both replicas out of READ on every core" reads_on_cores
for c in 1 2 3; do
	n=$(rjs query "${CORE_BOLT[$c]}" "SHOW SERVERS YIELD modeConstraint, health WHERE modeConstraint = 'SECONDARY' AND health = 'Available' RETURN count(*)")
	[ "$n" = 2 ] || fail "core $c does not hear from both lagging replicas (SHOW SERVERS: $n available)"
done
kill -CONT "$RELAY"
wait_until "both replicas back in READ on every core" reads_on_cores 1 2

for i in 1 2; do replica_stop "$i"; done
for i in 1 2 3; do core_stop "$i"; done
exit 0
