#!/usr/bin/env bash
# A zeroed 4 KiB block in the transaction log (issue: one bad block silently
# dropped acknowledged transactions). 1,000 acknowledged single-writer
# commits, kill -9, then:
# - a block zeroed mid-segment (in batches that were acknowledged): startup
#   is refused naming the segment and the offset, and nothing on disk is
#   changed: with the block put back, every acknowledged transaction is
#   there;
# - the last 4 KiB or so zeroed (they hold acknowledged batches too):
#   refused;
# - a never-written block after the last batch (the file grew, the data did
#   not reach the disk): graftd starts, every acknowledged transaction is
#   there, and the cut bytes are in a file beside the segment that the log
#   names.
. "$(dirname "$0")/lib.sh"

conf=$T/graft.conf
write_conf "$conf" "$T/home" "db.checkpoint.interval.tx=100000000" "db.checkpoint.interval.time=1d"
txlog_dir=$T/home/data/transactions/neo4j
acks=$T/acks

# One writer: every commit is its own group-commit batch.
load_then_kill9 "$conf" "$acks" 1000 --writers 1 --pad 100
seg=$(ls "$txlog_dir"/txlog.* | sort | tail -n 1)
size=$(stat -c %s "$seg")
[ "$size" -ge $((4 * 4096)) ] || fail "segment $seg is only $size bytes"
cp -a "$T/home" "$T/pristine"
reset_home() { rm -rf "$T/home"; cp -a "$T/pristine" "$T/home"; }

# zero_block FILE OFFSET: 4 KiB of zeros over FILE at OFFSET.
zero_block() {
	dd if=/dev/zero of="$1" bs=4096 count=1 seek=$(($2 / 4096)) conv=notrunc status=none
}

# refuse_start NAME FILE OFFSET_LO OFFSET_HI: graftd exits 1 naming FILE and
# an offset in [LO, HI), and FILE is left byte for byte as it was.
refuse_start() {
	local name=$1 file=$2 lo=$3 hi=$4 out rc off
	cp "$file" "$T/before"
	set +e; out=$(timeout 60 "$GRAFTD" --config "$conf" 2>&1); rc=$?; set -e
	[ $rc -eq 1 ] || fail "$name: graftd exited $rc, want 1: $out"
	expect_in "$out" "$file" "$name"
	off=$(grep -o 'damaged at offset [0-9]*' <<<"$out" | head -n 1 | grep -o '[0-9]*$') ||
		fail "$name: no offset in: $out"
	[ "$off" -ge "$lo" ] && [ "$off" -lt "$hi" ] ||
		fail "$name: offset $off is not in the damaged block [$lo, $hi): $out"
	cmp -s "$file" "$T/before" || fail "$name: the segment was changed on disk"
	! ls "$txlog_dir" | grep -q cut- || fail "$name: something was cut: $(ls "$txlog_dir")"
	echo "$name: $(grep -o 'damaged at offset.*' <<<"$out" | head -c 200)"
}

step "a block zeroed mid-segment: refused with file and offset, nothing lost on disk"
reset_home
mid=$((size / 2 / 4096 * 4096))
zero_block "$seg" "$mid"
refuse_start "mid-segment block" "$seg" $((mid - 1024)) $((mid + 4096))
dd if="$T/pristine/data/transactions/neo4j/$(basename "$seg")" of="$seg" bs=4096 \
	count=1 skip=$((mid / 4096)) seek=$((mid / 4096)) conv=notrunc status=none
out=$("$LOAD" verify --config "$conf" --acks "$acks") ||
	fail "acknowledged transactions missing once the block is put back: $out"

step "the last 4 KiB or so zeroed, over acknowledged batches: refused"
reset_home
# Zeros from the middle of a record's 100-byte pad (so that the damage
# starts inside a frame whose header survives) to the end of the file.
pads=$(grep -obUaE 'x{100}' "$seg" | cut -d: -f1)
tail_off=$(awk -v lim=$((size - 4096)) '$1 <= lim { o = $1 } END { print o + 50 }' <<<"$pads")
[ "$tail_off" -gt $((size - 8192)) ] || fail "no record pad near the end of $seg"
dd if=/dev/zero of="$seg" bs=1 count=$((size - tail_off)) seek="$tail_off" conv=notrunc status=none
refuse_start "zeroed tail" "$seg" $((tail_off - 1024)) "$tail_off"

step "a never-written block after the last batch: starts, nothing acknowledged lost, cut bytes moved aside"
reset_home
head -c 4096 /dev/zero >>"$seg"
start_graftd "$conf" "$BOLT_PORT" "$T/tail.out"
stop_graftd "$T/tail.out"
aside="$seg.cut-$size"
[ -f "$aside" ] || fail "no $aside: $(ls "$txlog_dir")"
[ "$(stat -c %s "$aside")" -eq 4096 ] || fail "$aside holds $(stat -c %s "$aside") bytes, want 4096"
grep "torn tail at offset $size" "$T/home/logs/graft.log" | grep -qF "moved aside to $aside" ||
	fail "the WARN line does not name $aside: $(grep -i torn "$T/home/logs/graft.log")"
out=$("$LOAD" verify --config "$conf" --acks "$acks") ||
	fail "acknowledged transactions lost after the torn tail was cut: $out"
echo "PASS: $(wc -l <"$acks") acknowledged transactions; mid-segment and tail damage refused, torn tail moved aside"
