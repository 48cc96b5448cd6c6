#!/usr/bin/env bash
# executeWrite through the routing driver (neo4j://, a resolver naming every
# member) keeps working through SIGKILL of the leader and through a
# graceful leadership transfer (SIGTERM of the leader hands over first):
# every acknowledged write is on every member afterwards, exactly once; once
# a new leader is elected no member names the dead one as writer, and every
# acknowledgement came from the member that led at the time (never from two
# members for writes sent while one led).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"
command -v node >/dev/null || fail "node is missing: run tools/deps.sh"
export GRAFT_SRC_DIR

cluster_confs 3
core_start 1 2 3
wait_cluster
export CORE_PORTS="${CORE_BOLT[1]},${CORE_BOLT[2]},${CORE_BOLT[3]}"
rjs() { node "$GRAFT_SRC_DIR/cluster-tests/js/routing.js" "$@"; }
acked() { [ "$(wc -l <"$T/acks.$1")" -ge "$2" ]; }

# through EVENT TAG: two executeWrite clients; EVENT (a function) runs on
# the leader once 30 writes are acknowledged; they stop once 20 more are.
through() {
	local event=$1 tag=$2 before
	# node itself in the background (a backgrounded function's pid is a
	# subshell's, and killing it would leave the writers running).
	STOP_FILE=$T/stop.$tag node "$GRAFT_SRC_DIR/cluster-tests/js/routing.js" writes "$tag" 2 $((BUDGET * 1000)) \
		>"$T/acks.$tag" 2>"$T/err.$tag" &
	local w=$!
	PIDS+=("$w")
	wait_until "30 acknowledged writes" acked "$tag" 30
	old=$LEADER
	"$event" "$old"
	before=$(wc -l <"$T/acks.$tag")
	wait_leader
	[ "$LEADER" != "$old" ] || fail "core $old still leads"
	wait_until "writes acknowledged after core $old lost the lead" acked "$tag" $((before + 20))
	touch "$T/stop.$tag"
	wait "$w" || fail "executeWrite failed through the routing driver: $(cat "$T/err.$tag")"
	# After the event only the new leader acknowledges.
	tail -n +$((before + 1)) "$T/acks.$tag" | cut -d' ' -f2 | sort -u >"$T/writers.$tag"
	[ "$(cat "$T/writers.$tag")" = "127.0.0.1:${CORE_BOLT[$LEADER]}" ] ||
		fail "writes after the event acknowledged by $(tr '\n' ' ' <"$T/writers.$tag"), not only leader $LEADER"
	cut -d' ' -f1 "$T/acks.$tag" | sort >"$T/keys.$tag"
	echo "$(wc -l <"$T/keys.$tag") writes acknowledged"
}

# holds_all TAG I: member I holds every acknowledged key of TAG, once.
holds_all() {
	BOLT_PORT=${CORE_BOLT[$2]} node "$GRAFT_SRC_DIR/cluster-tests/js/cluster.js" keys "$1" >"$T/has.$1.$2" &&
		[ -z "$(comm -23 "$T/keys.$1" "$T/has.$1.$2")" ]
}
check_all() {
	local i
	for i in 1 2 3; do
		core_alive "$i" || continue
		wait_until "core $i holding every acknowledged $1 write" holds_all "$1" "$i"
		[ -z "$(uniq -d "$T/has.$1.$i")" ] || fail "core $i applied a write twice"
	done
}

kill_leader() { core_kill "$1"; }
step "executeWrite through SIGKILL of leader $LEADER"
through kill_leader k
dead=$old
no_dead_writer() {
	local i
	for i in 1 2 3; do
		core_alive "$i" || continue
		rjs table "${CORE_BOLT[$i]}" >"$T/t.$i" || return 1
		grep -q "^WRITE .*:${CORE_BOLT[$dead]}\b" "$T/t.$i" &&
			fail "core $i names the dead core $dead as writer: $(cat "$T/t.$i")"
		grep -q "^WRITE 127.0.0.1:${CORE_BOLT[$LEADER]}$" "$T/t.$i" || return 1
	done
}
wait_until "every live member naming leader $LEADER alone as writer" no_dead_writer
check_all k

step "core $dead back; executeWrite through a graceful transfer"
core_start "$dead"
wait_cluster
stop_leader() { core_stop "$1"; }
through stop_leader t
check_all t
check_all k
for i in 1 2 3; do core_alive "$i" && core_stop "$i"; done
true
