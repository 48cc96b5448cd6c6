#!/usr/bin/env bash
# Rotation and retention end to end, for each policy form: segments rotate
# at db.tx_log.rotation.size, checkpoints prune whole segments as the policy
# allows, and whatever the policy, every acknowledged transaction survives.
. "$(dirname "$0")/lib.sh"

seg_dir() { echo "$1/data/transactions/neo4j"; }
seg_count() { ls "$(seg_dir "$1")" | grep -c '^txlog\.[0-9]*$'; }
seg_bytes() { cat "$(seg_dir "$1")"/txlog.* | wc -c; }
oldest_txid() { ls "$(seg_dir "$1")" | grep '^txlog\.[0-9]*$' | sort | head -n 1 | sed 's/^txlog\.0*//'; }

# run POLICY: loads 4000 transactions (~500 B each) with 128 KiB segments
# and a checkpoint every 500 transactions; sets $home.
run() {
	home=$T/$(echo "$1" | tr ' ' _)
	write_conf "$home.conf" "$home" "db.tx_log.rotation.size=128k" \
		"db.checkpoint.interval.tx=500" \
		"db.tx_log.rotation.retention_policy=$1"
	"$LOAD" write --config "$home.conf" --writers 4 --count 1000 --pad 400 \
		>"$home.acks" || fail "$1: load failed"
	"$LOAD" verify --config "$home.conf" --acks "$home.acks" >/dev/null ||
		fail "$1: acknowledged transactions lost"
	echo "$1: $(seg_count "$home") segments, $(seg_bytes "$home") bytes, oldest txid $(oldest_txid "$home")"
}

for keep_all in true keep_all "1 hours" "2 days 2G"; do
	step "retention '$keep_all' keeps every segment"
	run "$keep_all"
	[ "$(oldest_txid "$home")" = 1 ] || fail "$keep_all: the first segment was pruned"
	[ "$(seg_count "$home")" -ge 10 ] || fail "$keep_all: expected rotation into 10+ segments"
done

for keep_none in false keep_none; do
	step "retention '$keep_none' keeps only what recovery needs"
	run "$keep_none"
	[ "$(seg_count "$home")" -le 2 ] || fail "$keep_none: $(seg_count "$home") segments left"
done

step "retention '3 files'"
run "3 files"
n=$(seg_count "$home")
[ "$n" -ge 3 ] && [ "$n" -le 4 ] || fail "3 files: $n segments left"

step "retention '1M size'"
run "1M size"
[ "$(seg_bytes "$home")" -le $((1024 * 1024 + 2 * 131072)) ] || fail "1M size: $(seg_bytes "$home") bytes left"
[ "$(oldest_txid "$home")" -gt 1 ] || fail "1M size: nothing was pruned"

step "retention '1000 txs'"
run "1000 txs"
[ "$(oldest_txid "$home")" -le $((4000 - 1000 + 1)) ] || fail "1000 txs: fewer than 1000 transactions kept"
[ "$(oldest_txid "$home")" -gt 1 ] || fail "1000 txs: nothing was pruned"

step "retention '2 days 1M' applies the size cap"
run "2 days 1M"
[ "$(seg_bytes "$home")" -le $((1024 * 1024 + 2 * 131072)) ] || fail "2 days 1M: $(seg_bytes "$home") bytes left"
echo "PASS"
