#!/usr/bin/env bash
# All three cores SIGKILLed at once under retrying writers, then restarted:
# the cluster forms again, nothing acknowledged is lost, nothing is applied
# twice, and the members' graphs are identical (a name-based digest).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"

cluster_up 3
for round in $(seq 1 "$SOAK_ROUNDS"); do
	step "round $round: writers, then SIGKILL of all three at once"
	retrying_start "k$round" 3
	wait_until "40 acknowledged writes" acked "k$round" 40
	kill -KILL "${CORE_PID[1]}" "${CORE_PID[2]}" "${CORE_PID[3]}"
	for i in 1 2 3; do wait "${CORE_PID[$i]}" 2>/dev/null || true; CORE_PID[$i]=; done
	retrying_stop "k$round"

	step "round $round: restarted, every acknowledged write is there once"
	for i in 3 1 2; do core_start "$i"; done
	wait_cluster
	acked_everywhere "k$round"
	core_node "$LEADER" write "after$round" 1 >/dev/null || fail "no write after the restart: $(core_log "$LEADER")"
done
for i in 1 2 3; do core_stop "$i"; done
echo PASS
