#!/usr/bin/env bash
# SIGKILL of the leader of three cores under concurrent writers (the
# official driver, retrying on another member at once when told NotALeader
# or cut off): the two others elect a new leader and the writes go on; every
# acknowledged write is on every surviving member exactly once; the killed
# member, restarted, catches up to the same writes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"

cluster_up 3
old=$LEADER
export CORE_PORTS="${CORE_BOLT[1]},${CORE_BOLT[2]},${CORE_BOLT[3]}"

step "four writers; SIGKILL of leader $old once they are under way"
core_node_bg "$T/acks" "$T/writers.err" "$old" writers f 4 "$T/stop"
writers=$BG_PID
acked() { [ "$(grep -vc '^#' "$T/acks")" -ge "$1" ]; }
wait_until "40 acknowledged writes" acked 40
core_kill "$old"
before=$(grep -vc '^#' "$T/acks")

step "a new leader among the two others, and writes after the kill"
wait_leader
[ "$LEADER" != "$old" ] || fail "the killed member is still the leader"
wait_until "writes acknowledged after the kill" acked $((before + 20))
touch "$T/stop"
wait "$writers" || fail "the writers failed: $(cat "$T/writers.err")"
grep -v '^#' "$T/acks" | sort >"$T/acked"
echo "$(wc -l <"$T/acked") acknowledged, $(grep -c '^#' "$T/acks" || true) of unknown outcome"

step "every acknowledged write exactly once on each surviving member"
for i in 1 2 3; do
	[ "$i" = "$old" ] && continue
	holds_all() {
		core_node "$i" keys f >"$T/keys.$i" &&
			[ -z "$(comm -23 "$T/acked" "$T/keys.$i")" ]
	}
	wait_until "core $i holding every acknowledged write" holds_all
	[ -z "$(uniq -d "$T/keys.$i")" ] || fail "core $i applied a write twice: $(uniq -d "$T/keys.$i" | head -3)"
done

step "the killed member restarts and catches up"
core_start "$old"
same_as_leader() {
	core_node "$LEADER" keys f >"$T/lead" && core_node "$old" keys f >"$T/back" && cmp -s "$T/lead" "$T/back"
}
wait_until "core $old holding the leader's writes" same_as_leader
[ -z "$(comm -23 "$T/acked" "$T/back")" ] || fail "core $old lacks acknowledged writes"
core_check "$old" read-only || fail "core $old does not follow"
for i in 1 2 3; do core_stop "$i"; done
