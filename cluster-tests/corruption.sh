#!/usr/bin/env bash
# Damaged files: a torn tail is cut (moved aside) and logged, and the server starts;
# a flipped byte in the middle of the log or in a checkpoint stops startup
# with the file and offset named; nothing acknowledged is silently skipped.
. "$(dirname "$0")/lib.sh"

conf=$T/graft.conf
write_conf "$conf" "$T/home" "db.checkpoint.interval.tx=100000000" "db.checkpoint.interval.time=1d"
txlog_dir=$T/home/data/transactions/neo4j
acks=$T/acks

# Load without a clean close, so the log holds everything after the
# first-start checkpoint.
load_then_kill9 "$conf" "$acks" 200 --writers 4 --pad 4000
last=$(ls "$txlog_dir"/* | sort | tail -n 1)
cp -a "$T/home" "$T/pristine"

start_expect_fail() {
	local name=$1 out rc
	shift
	set +e; out=$(timeout "$BUDGET" "$GRAFTD" --config "$conf" 2>&1); rc=$?; set -e
	[ $rc -eq 1 ] || fail "$name: graftd exited $rc, want 1: $out"
	for p in "$@"; do expect_in "$out" "$p" "$name"; done
}

step "torn tail: a partial frame at the end is truncated and logged"
printf '\x90\x0f\x00\x00\xde\xad\xbe\xef\x01\x02' >>"$last"
start_graftd "$conf" "$BOLT_PORT" "$T/torn.out"
stop_graftd "$T/torn.out"
grep -q "torn tail" "$T/home/logs/graft.log" || fail "torn tail not logged: $(cat "$T/torn.out")"
"$LOAD" verify --config "$conf" --acks "$acks" >/dev/null || fail "acknowledged data lost after torn-tail recovery"

step "flipped byte in the middle of the log: startup refused, file and offset named"
rm -rf "$T/home"; cp -a "$T/pristine" "$T/home"
flip_byte "$last"
start_expect_fail "flipped log byte" "$(basename "$last")" "offset"

step "flipped byte in a checkpoint: startup refused, file and offset named"
rm -rf "$T/home"; cp -a "$T/pristine" "$T/home"
"$LOAD" write --config "$conf" --writers 1 --count 1 --first-writer 999 >/dev/null 2>&1
ckpt=$(ls "$T/home/data/databases/neo4j"/checkpoint.* | sort | tail -n 1)
flip_byte "$ckpt"
start_expect_fail "flipped checkpoint byte" "$(basename "$ckpt")" "damaged at byte"

step "a leftover temporary checkpoint is ignored"
rm -rf "$T/home"; cp -a "$T/pristine" "$T/home"
echo "half a checkpoint" >"$T/home/data/databases/neo4j/checkpoint.00000000000099999999.tmp"
"$LOAD" verify --config "$conf" --acks "$acks" >/dev/null || fail "a .tmp checkpoint broke recovery"
echo "PASS"
