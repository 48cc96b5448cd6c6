#!/usr/bin/env bash
# A full disk (here: a file-size limit, so the log's write fails for real
# with EFBIG) fails commits with a clear error and loses nothing that was
# acknowledged; once there is room again, writing resumes.
. "$(dirname "$0")/lib.sh"

conf=$T/graft.conf
write_conf "$conf" "$T/home" "db.tx_log.rotation.size=64M"
acks=$T/acks

step "writes until the log cannot grow"
set +e
(
	ulimit -f 1024 # KiB: the segment stops growing at 1 MiB
	trap '' XFSZ   # a write past the limit then fails with EFBIG instead of killing
	exec "$LOAD" write --config "$conf" --writers 8 --pad 1000
) >"$acks" 2>"$T/load.err"
rc=$?
set -e
[ $rc -ne 0 ] || fail "the load did not notice the full disk"
err=$(cat "$T/load.err")
expect_in "$err" "no space left on device" "commit error"
expect_in "$err" "not committed" "commit error"
n=$(wc -l <"$acks")
[ "$n" -gt 100 ] || fail "only $n transactions were acknowledged before the disk filled"
echo "acknowledged before the disk filled: $n; the error: $(head -n 1 "$T/load.err")"

step "every acknowledged transaction is there, nothing half-applied"
out=$("$LOAD" verify --config "$conf" --acks "$acks") || fail "$out"
echo "$out"

step "with room again, commits go on from where they stopped"
"$LOAD" write --config "$conf" --writers 2 --count 50 --first-writer 100 >>"$acks" ||
	fail "commits did not resume after the disk had room"
out=$("$LOAD" verify --config "$conf" --acks "$acks") || fail "$out"
echo "PASS: $out"
