#!/usr/bin/env bash
# A rolling restart of all three cores (graceful stops: a leader hands its
# leadership over first) under writers that retry on the next member as the
# drivers' transaction functions do: not one transaction fails, and every
# acknowledged write is on every member exactly once, the graphs identical
# (a name-based digest).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"

cluster_up 3
retrying_start r 3
wait_until "20 acknowledged writes" acked r 20

for round in $(seq 1 "$SOAK_ROUNDS"); do
	# The followers first, the leader last, as an operator would.
	order=""
	for i in 1 2 3; do [ "$i" = "$LEADER" ] || order+="$i "; done
	order+=$LEADER
	for i in $order; do
		step "round $round: restarting core $i (leader: $LEADER)"
		core_stop "$i"
		grep -q "leadership handed over" "$T/c$i/logs/graft.log" ||
			[ "$i" != "$LEADER" ] || fail "leader $i stopped without handing over"
		core_start "$i"
		wait_cluster
		n=$(acked_count r)
		wait_until "writes acknowledged after core $i came back" acked r $((n + 10))
	done
done

step "no transaction failed; every acknowledged write once on every member"
retrying_stop r
failed=$(grep '^# failed' "$T/acks.r" || true)
[ -z "$failed" ] || fail "transactions failed during the rolling restart: $(echo "$failed" | head -3)"
acked_everywhere r
for i in 1 2 3; do core_stop "$i"; done
echo PASS
