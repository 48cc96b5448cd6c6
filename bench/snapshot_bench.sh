#!/usr/bin/env bash
# A store installed on a new core (issue 14's snapshot figure). Three graft
# cores on loopback with a Raft log pruned at PRUNE (causal_clustering.
# raft_log_prune_strategy, default 100M size: below the default 1g, so that
# the preload's log, about 400 MB at 10 M, is pruned), so that a new member
# cannot replay the log and is sent a Raft snapshot, then copies each
# database's store from the leader's transaction port
# (src/cluster/behind.c):
#  1. preload: NODES nodes and as many relationships on the leader, in
#     transactions of BATCH (CREATE (a:N {v: i})-[:R]->(a));
#  2. the leader's commit latency without a copy: bench/bolt_bench, 8
#     clients paced to RATE writes/s in all, SECONDS_PER_RUN;
#  3. a fourth core started empty; the same load runs in windows of
#     SECONDS_PER_RUN until it is available, each window's p99 printed;
#     the store-copy time, and the leader's and the new core's peak
#     resident memory beside the store's size on disk.
#
#   bench/snapshot_bench.sh [BUILD_DIR]
#
# BUILD_DIR (default .) holds graftd, graft-shell and bench/bolt_bench; use
# a build configured without --enable-debug/--enable-sanitize for figures.
# Settings: NODES (10000000), BATCH (10000), RATE (1000), PRUNE
# (100M size; "50 txs" was used before 2026-12-06 17:00, a Raft snapshot
# every 128 entries, 100 times more often than any real setting),
# SECONDS_PER_RUN (5), NEW_CORE_NICE (0: the fourth core runs under
# nice -n NEW_CORE_NICE, so that on a machine whose cores the members share
# its store load yields to the leader: what is left of the leader's p99 is
# then what the copy itself costs it). Stops everything it started, by pid.
set -euo pipefail
build=$(cd "${1:-.}" && pwd)
nodes=${NODES:-10000000}
batch=${BATCH:-10000}
rate=${RATE:-1000}
secs=${SECONDS_PER_RUN:-5}
prune=${PRUNE:-100M size}
dir=$(mktemp -d /tmp/graft-snapshot-bench-XXXXXX)
for p in graftd graft-shell bench/bolt_bench; do
	[ -x "$build/$p" ] || { echo "$build/$p not found: run make in BUILD_DIR first" >&2; exit 2; }
done

. "$(dirname "$0")/bench_lib.sh"

# The loop checked every 1 ms, a stall logged from 10 ms: the stalls this
# benchmark reports (at 3 ms, a loaded machine logs a line every few ms on
# every member, which buries the copy's own lines).
CORES=4 core_confs "causal_clustering.raft_log_prune_strategy=$prune
causal_clustering.minimum_core_cluster_size_at_runtime=3
server.vm_pause_monitor.measurement_duration=1ms
server.vm_pause_monitor.stall_alert_threshold=10ms"

# rss_kb PID: resident memory now; hwm_kb PID: its peak since it started or
# since reset_hwm PID (Linux: 5 in clear_refs resets the peak to now).
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
hwm_kb() { awk '/^VmHWM/ { print $2 }' "/proc/$1/status"; }
reset_hwm() { echo 5 >"/proc/$1/clear_refs"; }
writes() { "$build/bench/bolt_bench" -c 8 -R "$rate" -d "$secs" "127.0.0.1:${bolt[leader]}" "CREATE (:B {v: 1})"; }

for i in 0 1 2; do start_core "$i"; done
wait_leader
echo "graft: 3 cores on loopback, Raft log pruned at $prune; data in $dir"
echo "preload: $nodes nodes and $nodes relationships in transactions of $batch"
# A transaction whose outcome is unknown (leadership lost) may have been
# applied: count what the leader holds rather than what was sent.
t0=$SECONDS
failed=0
held() {
	"$build/graft-shell" -a "bolt://127.0.0.1:${bolt[leader]}" -u neo4j -p x --format plain \
		"MATCH (n:N) RETURN count(n) AS n" | tail -1
}
n=0
while [ "$n" -lt "$nodes" ]; do
	if ! "$build/graft-shell" -a "bolt://127.0.0.1:${bolt[leader]}" -u neo4j -p x \
		"UNWIND range(1, $batch) AS i CREATE (a:N {v: i})-[:R]->(a)" >/dev/null 2>"$dir/preload.err"; then
		failed=$((failed + 1))
		wait_leader
		n=$(held)
	else
		n=$((n + batch))
	fi
done
echo "  preloaded in $((SECONDS - t0)) s; $failed transactions failed on a change of leader (now c$leader)"
load
echo "the leader's commit latency, no store copy ($rate writes/s, 8 clients):"
writes
leader_rss=$(rss_kb "${pids[leader]}")
reset_hwm "${pids[leader]}"

echo "a fourth core started empty (nice ${NEW_CORE_NICE:-0}); the same load until it is available:"
log_from=$(($(wc -l <"$dir/c$leader/logs/graft.log") + 1))
nice -n "${NEW_CORE_NICE:-0}" "$build/graftd" --config "$dir/c3/graft.conf" >>"$dir/c3/out" 2>&1 &
pids[3]=$!
t0=$(date +%s.%N)
while ! core_check 3 available; do
	writes
	kill -0 "${pids[3]}" 2>/dev/null || { echo "core 4 died:" >&2; tail -n 20 "$dir/c3/out" >&2; exit 1; }
	[ "$(( $(date +%s) - ${t0%.*} ))" -lt 1800 ] || { echo "core 4 not available after 30 min; logs in $dir" >&2; exit 1; }
done
t1=$(date +%s.%N)
copied=$(grep -h "store of neo4j copied from" "$dir/c3/out" || true)
[ -n "$copied" ] || { echo "  core 4 logged no store copy (it replayed the log: make the prune strategy smaller)"; exit 1; }
echo "  core 4: ${copied#*INFO  }"
store_mib=$(($(echo "$copied" | sed -n 's/.*(\([0-9]*\) bytes).*/\1/p') / 1048576))
awk -v a="$t0" -v b="$t1" 'BEGIN { printf "  available %.1f s after its start\n", b - a }'
echo "  the leader's event-loop stalls of 10 ms or more during the copy, longest first: $(tail -n +"$log_from" "$dir/c$leader/logs/graft.log" | grep -o 'pauseTime=[0-9]*' | cut -d= -f2 | awk '$1 >= 10' | sort -rn | head -8 | tr '\n' ' ')"
printf '  resident memory: leader peak %d MiB during the copy (%+d MiB over before it); core 4 peak %d MiB, %d MiB once available; the copied checkpoint %d MiB\n' \
	$(($(hwm_kb "${pids[leader]}") / 1024)) $((($(hwm_kb "${pids[leader]}") - leader_rss) / 1024)) \
	$(($(hwm_kb "${pids[3]}") / 1024)) $(($(rss_kb "${pids[3]}") / 1024)) "$store_mib"
load
