#!/usr/bin/env bash
# Read-replica figures (issue 16) of three graft cores and two read replicas
# on loopback:
#  1. lag: commit on the leader -> in each replica's log, at 1,000 and
#     5,000 writes/s (CREATE of a small node per auto-commit transaction,
#     paced by bench/bolt_bench -R), from the answer reaching the client
#     (bolt_bench -A) to the transaction in each replica's stream
#     (bench/replica_lag -A): p50, p99, max; LAG_DETAIL=1 adds the
#     leader's and a follower's streams, to see where the time goes;
#  2. catch-up: replica 1 stopped while the leader takes CATCHUP_TXS
#     transactions (default 100000; set 1000000 for the issue's figure),
#     then restarted: transactions/s until it holds the leader's last;
#  3. store copy: replica 2 started empty after the cores pruned their logs
#     copies the leader's store: MB/s between its two log lines, the
#     replica's own split (received, checked and durable; loaded on a
#     worker; the loop's hold to switch; the final fdatasync's share),
#     beside fio's sequential write (without and with its final fsync)
#     and read on the same disk (when fio is installed), and the same
#     checkpoint copied by bench/copy_ceiling (blocking threads: the
#     network alone, the disk alone, the whole copy in several designs).
#
#   bench/replica_bench.sh [BUILD_DIR]
#
# BUILD_DIR (default .) holds graftd, bench/bolt_bench and
# bench/replica_lag; use a build configured without
# --enable-debug/--enable-sanitize for figures. Settings: SECONDS_PER_RUN
# (10), STEPS (the steps to run, "lag catchup copy"), RATES (of the lag
# step, "1000 5000"), UPSTREAM (the replicas'
# causal_clustering.upstream_selection_strategy), CATCHUP_TXS
# (100000), PRELOAD_TXS (100 transactions of 5,000 nodes
# of about 100 bytes, the store a copy moves), FIO_SIZE (1G), HUGETLB
# (1: graftd runs with GLIBC_TUNABLES=glibc.malloc.hugetlb=1 added, as
# graft and the systemd unit start it; 0: without), COPY_ROUNDS (1: store
# copies into replica 2, emptied each time, each beside copy_ceiling),
# COPY_ALT_GRAFTD (a graftd that replica 2 runs every second round: two
# builds compared in one run), COPY_ALT_CONF (lines added to replica 2's
# configuration every second round, e.g.
# dbms.cluster.catchup.store_copy_direct_io_min_size=1T: two settings
# compared in one run). Stops everything it started, by pid.
set -euo pipefail
build=$(cd "${1:-.}" && pwd)
src=$(cd "$(dirname "$0")/.." && pwd)
secs=${SECONDS_PER_RUN:-10}
catchup_txs=${CATCHUP_TXS:-100000}
preload=${PRELOAD_TXS:-100}
steps=" ${STEPS:-lag catchup copy} "
dir=$(mktemp -d /tmp/graft-replica-bench-XXXXXX)
for p in graftd bench/bolt_bench bench/replica_lag; do
	[ -x "$build/$p" ] || { echo "$build/$p not found: run make in BUILD_DIR first" >&2; exit 2; }
done

. "$(dirname "$0")/bench_lib.sh"
. "$(dirname "$0")/replica_lib.sh"

# Cores prune their logs after each checkpoint (for the store copy) and keep
# a departed replica's place (for the catch-up from the log).
core_confs "db.tx_log.rotation.retention_policy=false
db.tx_log.rotation.size=16M
db.checkpoint.interval.tx=50000
dbms.cluster.catchup.departed_hold=1h"
for r in 1 2; do replica_conf "$r" "${UPSTREAM:+causal_clustering.upstream_selection_strategy=$UPSTREAM}"; done

# graftd as graft and the systemd unit start it: the heap on transparent
# huge pages (docs/operations/service.md), which the install of a store
# copy, allocating its whole graph, gains from most
tunables=${GLIBC_TUNABLES:-}
if [ "${HUGETLB:-1}" = 1 ] && [[ "$tunables" != *glibc.malloc.hugetlb* ]]; then
	tunables=${tunables:+$tunables:}glibc.malloc.hugetlb=1
fi
graftd=(env "GLIBC_TUNABLES=$tunables" "$build/graftd")
start_core() { "${graftd[@]}" --config "$dir/c$1/graft.conf" >>"$dir/c$1/out" 2>&1 & pids[$1]=$!; }
start_replica() { "${graftd[@]}" --config "$dir/r$1/graft.conf" >>"$dir/r$1/out" 2>&1 & pids[$((2 + $1))]=$!; }
stop_pid() { kill "${pids[$1]}" 2>/dev/null || true; wait "${pids[$1]}" 2>/dev/null || true; pids[$1]=""; }
leader=""
find_leader() {
	local i
	for i in 0 1 2; do
		http_get "${http[i]}" /db/neo4j/cluster/writable | head -1 | grep -q " 200 " && { leader=$i; return 0; }
	done
	return 1
}

for i in 0 1 2; do start_core "$i"; done
wait_for 60 "a leader" find_leader
for r in 1 2; do start_replica "$r"; done
echo "graft: 3 cores and 2 read replicas on loopback, data in $dir${tunables:+, GLIBC_TUNABLES=$tunables}"
node "$src/cluster-tests/js/replicas.js" bulk "${bolt[leader]}" pre 5000 "$preload" >/dev/null
last=$(last_tx "${http[leader]}")
for r in 1 2; do wait_for 300 "replica $r holding the preload" holds "$r" "$last"; done
load

step() { [[ "$steps" == *" $1 "* ]]; }

if step lag; then
	echo "lag: CREATE (:B {v: 1}) per auto-commit transaction on the leader, paced, ${secs} s per rate,"
	echo "  from the answer reaching the client to the transaction in each replica's stream (after its apply and log)"
	# Each client sends every 10 ms: a commit's round trip under load (several
	# ms on 2 shared cores) must stay below a client's interval, or the clients
	# fall behind the rate.
	lag_streams=("127.0.0.1:${rtx[1]}" "127.0.0.1:${rtx[2]}")
	[ -z "${LAG_DETAIL:-}" ] || lag_streams+=("127.0.0.1:${tx[leader]}" "127.0.0.1:${tx[$(((leader + 1) % 3))]}")
	for rate in ${RATES:-1000 5000}; do
		after=$(last_tx "${http[leader]}")
		for r in 1 2; do wait_for 300 "replica $r holding transaction $after" holds "$r" "$after"; done
		rm -f "$dir/acks"
		"$build/bench/replica_lag" -A "$dir/acks" -d $((secs + 120)) -a "$after" "${lag_streams[@]}" >"$dir/lag.out" &
		lagpid=$!
		sleep 1
		"$build/bench/bolt_bench" -A "$dir/acks" -c $((rate / 100)) -R "$rate" -d "$secs" "127.0.0.1:${bolt[leader]}" "CREATE (:B {v: 1})"
		wait "$lagpid"
		echo "  at $rate writes/s:"
		sed 's/^/    /' "$dir/lag.out"
		load
	done
fi

if step catchup; then
	echo "catch-up: replica 1 stopped while the leader takes $catchup_txs transactions"
	from=$(last_tx "${http[leader]}")
	wait_for 300 "replica 1 holding transaction $from" holds 1 "$from"
	stop_pid 3
	while [ $(($(last_tx "${http[leader]}") - from)) -lt "$catchup_txs" ]; do
		# -F: a write refused in an election is counted, not the end
		find_leader || true
		"$build/bench/bolt_bench" -F -c 32 -d 5 "127.0.0.1:${bolt[leader]}" "CREATE (:B {v: 2})" >/dev/null
	done
	until_tx=$(last_tx "${http[leader]}")
	caught=$(grep -c "read replica: neo4j caught up with" "$dir/r1/out" || true)
	start_replica 1
	wait_for 600 "replica 1 holding transaction $until_tx" holds 1 "$until_tx"
	# The replica's own figure: its log says when it applied the first and
	# the last transaction of each stream that started behind (an observer
	# subscribing to the replica can come late and count a burst read from
	# its log). A stream may move to another upstream half-way: from the
	# first line's first transaction to the last line's last.
	grep "read replica: neo4j caught up with" "$dir/r1/out" | tail -n +$((caught + 1)) >"$dir/caught" || true
	awk -v want="$until_tx" '
	function ms(line, t) { # the time of day of a log line, in ms
		split(substr(line, 12, 12), t, "[:.]")
		return ((t[1] * 60 + t[2]) * 60 + t[3]) * 1000 + t[4]
	}
	{
		match($0, /transactions [0-9]+\.\.[0-9]+/)
		split(substr($0, RSTART + 13, RLENGTH - 13), r, /\.\./)
		match($0, /applied in [0-9.]+ s/)
		took = substr($0, RSTART + 11, RLENGTH - 13) * 1000
		if (NR == 1) { first = r[1]; t0 = ms($0) - took }
		last = r[2]; t1 = ms($0)
	}
	END {
		if (NR == 0 || last + 0 < want + 0) { print "  catch-up: replica 1 logged no catch-up up to " want; exit }
		s = (t1 - t0) / 1000
		printf "  catch-up (replica 1'"'"'s log, %d stream(s)): transactions %d..%d applied in %.2f s: %.0f tx/s\n",
			NR, first, last, s, (s > 0 ? (last - first) / s : 0)
	}' "$dir/caught"
	load
fi

step copy || exit 0
echo "store copy: replica 2 restarted empty after the cores pruned their logs"
# The copy needs every core's log to start after transaction 1 (else
# replica 2 follows the log): after the catch-up step it does; run alone,
# writes pass db.checkpoint.interval.tx, whose checkpoint prunes.
oldest() { ls "$dir/c$1/data/transactions/neo4j" | grep '^txlog\.[0-9]*$' | sort | head -n 1 | sed 's/^txlog\.0*//'; }
pruned() { local i o; for i in 0 1 2; do o=$(oldest "$i"); [ "${o:-0}" -gt 1 ] || return 1; done; }
while ! pruned; do
	find_leader || true
	"$build/bench/bolt_bench" -F -c 32 -d 5 "127.0.0.1:${bolt[leader]}" "CREATE (:B {v: 3})" >/dev/null
done
ms() { date -d "$(echo "$1" | cut -c1-23)" +%s%3N; }
mbs() { awk -v b="$bytes" -v t="$1" 'BEGIN { printf "%.1f", (t > 0 ? b / 1048576 / t : 0) }'; }
copied() { [ "$(grep -c "store copy of neo4j from .* installed" "$dir/r2/out")" -gt "$installed" ]; }
transfers=()
for round in $(seq 1 "${COPY_ROUNDS:-1}"); do
	# COPY_ALT_GRAFTD: every second round's replica runs that graftd (the
	# A/B of two builds in one run, against the same upstream)
	label=$build/graftd conf=$dir/r2/graft.conf
	if [ -n "${COPY_ALT_GRAFTD:-}" ] && [ $((round % 2)) = 0 ]; then label=$COPY_ALT_GRAFTD; fi
	if [ -n "${COPY_ALT_CONF:-}" ] && [ $((round % 2)) = 0 ]; then
		conf=$dir/r2/graft.alt.conf
		{ cat "$dir/r2/graft.conf"; printf '%s\n' "$COPY_ALT_CONF"; } >"$conf"
		label="$label with $COPY_ALT_CONF"
	fi
	stop_pid 4
	rm -rf "$dir/r2/data" "$dir/r2/transactions"
	# The disk as fio finds it, with nothing else to write back: before
	# the first round the cores' checkpoints and their derived logs
	# (written without fsync in a cluster) may still be going out. That
	# round was the slowest of three at 21:22 on 2026-12-06 (0.107 s
	# against 0.078 and 0.079); with this sync, 0.098 s against 0.070-0.087
	# at 21:52.
	sync
	installed=$(grep -c "store copy of neo4j from .* installed" "$dir/r2/out" || true)
	env "GLIBC_TUNABLES=$tunables" "${label%% with *}" --config "$conf" >>"$dir/r2/out" 2>&1 &
	pids[4]=$!
	wait_for 600 "replica 2's store copy" copied
	[ "${COPY_ROUNDS:-1}" = 1 ] || echo "  round $round, replica 2 running $label:"
	t0=$(ms "$(grep "copying its store" "$dir/r2/out" | tail -1)")
	line=$(grep "store copy of neo4j from .* installed" "$dir/r2/out" | tail -1)
	t1=$(ms "$line")
	bytes=$(echo "$line" | grep -o '[0-9]* bytes' | grep -o '[0-9]*')
	echo "  $bytes bytes of checkpoint in $((t1 - t0)) ms (log lines, verification and install included): $(mbs "$(awk -v t=$((t1 - t0)) 'BEGIN { print t / 1000 }')") MB/s"
	# the replica's own figures: the copy to a durable file, the load on a
	# worker, the loop's hold to switch
	parts=$(grep "store copy of neo4j: .* loaded and verified off the loop" "$dir/r2/out" | tail -1)
	if [ -n "$parts" ]; then
		copy_s=$(sed 's/.* durable in \([0-9.]*\) s.*/\1/' <<<"$parts")
		transfer_s=$(sed -n 's/.* (\([0-9.]*\) s from its first byte.*/\1/p' <<<"$parts")
		# "the final wait for the disk" since 2026-12-06 evening (the
		# last writes, then fdatasync), "the final fdatasync" before
		sync_s=$(sed -n 's/.* \([0-9.]*\) s of it the final \(fdatasync\|wait for the disk\).*/\1/p' <<<"$parts")
		how=$(sed -n 's/.* written \(buffered\|O_DIRECT on a writer thread\)).*/, \1/p' <<<"$parts")
		load_s=$(sed 's/.* off the loop in \([0-9.]*\) s.*/\1/' <<<"$parts")
		hold_s=$(sed 's/.* the loop held \([0-9.]*\) s.*/\1/' <<<"$parts")
		transfers+=("$transfer_s")
		echo "  the copy: received, checked and durable in $copy_s s from the request: $(mbs "$copy_s") MB/s;" \
			"from the checkpoint's first byte (the transfer) in ${transfer_s:-?} s: $(mbs "${transfer_s:-0}") MB/s" \
			"(the final wait for the disk ${sync_s:-?} s of it${how})"
		echo "  the install: loaded and verified on a worker in $load_s s: $(mbs "$load_s") MB/s; the replica's loop held $hold_s s to switch"
	fi
	# The same checkpoint copied the simplest ways (bench/copy_ceiling.c),
	# in the same minute: what this machine allows a store copy, network
	# and disk, beside graft's
	ckpt=$(ls "$dir/r2/data/databases/neo4j/"checkpoint.* 2>/dev/null | head -n 1)
	if [ -x "$build/bench/copy_ceiling" ] && [ -n "$ckpt" ]; then
		"$build/bench/copy_ceiling" "$ckpt" "$dir" 1
	fi
	load
done
# fio on the same disk: sequential write (1 MB, O_DIRECT) without a flush,
# the issue's anchor, and with its fsync at the end (end_fsync=1), the
# disk's durable rate: a store copy must end durable, and this disk (a
# virtual one with a write-back cache) spends as long on the flush as on
# the writes; then sequential read.
fio_run() { # fio_run RW END_FSYNC: MB/s
	fio --name="seq$1" --directory="$dir" --rw="$1" --bs=1M --size="${FIO_SIZE:-1G}" --direct=1 \
		--end_fsync="$2" --ioengine=psync --output-format=terse --terse-version=3 2>/dev/null |
		awk -F';' -v rw="$1" '{ kb = (rw == "read") ? $7 : $48; printf "%.1f\n", kb / 1024 }'
	rm -f "$dir/seq$1".*
}
if command -v fio >/dev/null; then
	fio_w=$(fio_run write 0)
	fio_wd=$(fio_run write 1)
	fio_r=$(fio_run read 0)
	echo "  fio sequential write with its fsync at the end (durable, the anchor): $fio_wd MB/s; without it: $fio_w MB/s; read: $fio_r MB/s"
	for t in "${transfers[@]}"; do
		awk -v b="$bytes" -v t="$t" -v w="$fio_w" -v d="$fio_wd" 'BEGIN {
			if (t > 0 && w > 0 && d > 0) printf "  a transfer of %.3f s: %.0f %% of fio'"'"'s durable sequential write (the anchor, goal >= 80 %%), %.0f %% of its unflushed write\n", t, 100 * b / 1048576 / t / d, 100 * b / 1048576 / t / w }'
	done
else
	echo "  fio is not installed (Debian package fio): no disk figure beside it"
fi
load
