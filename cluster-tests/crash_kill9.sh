#!/usr/bin/env bash
# 20 cycles of kill -9 under concurrent writes. After each, recovery must
# show every acknowledged transaction and nothing half-applied. Checkpoints
# and segment rotation run during the load so that crashes land in them too;
# every fifth cycle graftd itself recovers the directory and stops cleanly.
. "$(dirname "$0")/lib.sh"

conf=$T/graft.conf
write_conf "$conf" "$T/home" "db.checkpoint.interval.tx=300" \
	"db.tx_log.rotation.size=128k" "db.tx_log.rotation.retention_policy=4 files"
acks=$T/acks
: >"$acks"
cycles=${CRASH_CYCLES:-20}

acked_since() {
	kill -0 "$pid" 2>/dev/null || fail "cycle $cycle: the load died early: $(cat "$T/load.err")"
	[ "$(wc -l <"$acks")" -gt "$1" ]
}

for cycle in $(seq 1 "$cycles"); do
	writers=$((cycle % 4 == 0 ? 64 : 8))
	before=$(wc -l <"$acks")
	"$LOAD" write --config "$conf" --writers "$writers" \
		--first-writer $((cycle * 1000)) --pad $((RANDOM % 300)) \
		>>"$acks" 2>"$T/load.err" &
	pid=$!
	PIDS+=("$pid")
	# the kill lands while writes run, however slow recovery is to start
	wait_until "cycle $cycle: a first acknowledged write" acked_since "$before"
	sleep "0.$((3 + RANDOM % 7))"
	kill -0 "$pid" 2>/dev/null || fail "cycle $cycle: the load died early: $(cat "$T/load.err")"
	kill -9 "$pid"
	wait "$pid" 2>/dev/null || true
	out=$("$LOAD" verify --config "$conf" --acks "$acks") ||
		fail "cycle $cycle: $out"
	echo "cycle $cycle ($writers writers): $out"
	if [ $((cycle % 5)) -eq 0 ]; then
		start_graftd "$conf" "$BOLT_PORT" "$T/graftd.out"
		stop_graftd "$T/graftd.out"
	fi
done
[ "$(wc -l <"$acks")" -gt 100 ] || fail "too few acknowledged transactions to mean anything"
echo "PASS: $(wc -l <"$acks") acknowledged transactions survived $cycles kill -9 cycles"
