#!/usr/bin/env bash
# A core's transaction log is derived from its Raft log and written without
# an fdatasync of its own (the Raft log is the durable record). A machine
# crash may then lose any part of that log's tail: here a follower is
# SIGKILLed and a 4 KiB block in the middle of its log zeroed, valid
# batches after it, which a log that is fsynced per batch would refuse as
# damage to acknowledged transactions. The follower cuts the log from the
# damaged batch on (moved aside, logged), applies those transactions again
# from the Raft log, and ends with every acknowledged write and the
# leader's digest.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"

cluster_confs 3 "causal_clustering.raft_log_prune_strategy=keep_all"
core_start 1 2 3
wait_cluster

step "writes, then a follower SIGKILLed"
retrying_start d 3
wait_until "300 acknowledged writes" acked d 300
retrying_stop d
pick_followers
wait_until "core $F1 holding every acknowledged write" holds_acked "$F1" d "$T/acked.d"
core_kill "$F1"

step "a block in the middle of its log zeroed, as a crash before any fdatasync may leave it"
seg=$(ls "$T/c$F1"/data/transactions/neo4j/txlog.* | grep -v '\.cut-' | tail -1)
size=$(stat -c %s "$seg")
[ "$size" -gt 16384 ] || fail "the log $seg is only $size bytes"
block=$(( size / 2 / 4096 ))
dd if=/dev/zero of="$seg" bs=4096 seek="$block" count=1 conv=notrunc status=none

step "restarted: the tail is cut and applied again from Raft"
core_start "$F1"
logged() { grep -q "$2" "$T/c$1/graftd.out"; }
wait_until "core $F1 cutting its log's tail" logged "$F1" "applies these transactions again from its Raft log"
wait_until "core $F1 following" core_check "$F1" read-only
acked_everywhere d
core_node "$LEADER" write after 1 >/dev/null || fail "no write after the restart: $(core_log "$LEADER")"
for i in 1 2 3; do core_stop "$i"; done
echo PASS
