#!/usr/bin/env bash
# The leader's commit latency with 0 read replicas, with 2 attached, and with
# the same 2 attached of which one is stopped (SIGSTOP: it reads nothing, its
# socket buffers fill), printed side by side (issue 16: "a replica never
# affects the cores' commit latency or availability"), with the leader's
# resident memory at the end of each window.
#
# Three graft cores on loopback; the leader takes CREATE (:B {v: 1})
# auto-commit transactions at a fixed rate (bench/bolt_bench -R, a client
# per 100 commits/s) for WINDOW seconds in each of: none (no replica
# running), two (both replicas following, the default strategy: from the
# leader), stopped (replica 1 stopped; resumed after the window, and both
# stopped before the next round's "none"). ROUNDS rounds of the three, then
# the medians of p50 and p99 of each kind and their ratio to "none".
#
# Pinning (PIN=1, the default on 2+ CPUs): the cores and the writing clients
# on CPU 0, the replicas on CPU 1, so that a replica stands for a machine of
# its own and the figure is the leader's serving them, not the CPUs shared.
#
#   bench/replica_commit_bench.sh [BUILD_DIR]
#
# BUILD_DIR (default .) holds graftd and bench/bolt_bench; use a build
# configured without --enable-debug/--enable-sanitize. Settings: RATE (1000
# commits/s), WINDOW (10 s), ROUNDS (3), PIN. Stops everything it started,
# by pid.
set -euo pipefail
build=$(cd "${1:-.}" && pwd)
src=$(cd "$(dirname "$0")/.." && pwd)
rate=${RATE:-1000}
window=${WINDOW:-10}
rounds=${ROUNDS:-3}
dir=$(mktemp -d /tmp/graft-replica-commit-bench-XXXXXX)
for p in graftd bench/bolt_bench; do
	[ -x "$build/$p" ] || { echo "$build/$p not found: run make in BUILD_DIR first" >&2; exit 2; }
done

. "$(dirname "$0")/bench_lib.sh"
. "$(dirname "$0")/replica_lib.sh"

pin_setup

core_confs
for r in 1 2; do replica_conf "$r"; done
for i in 0 1 2; do
	"${pin_cores[@]}" "$build/graftd" --config "$dir/c$i/graft.conf" >>"$dir/c$i/out" 2>&1 &
	pids[i]=$!
done
wait_leader
echo "graft: 3 cores on loopback, 2 read replicas, data in $dir"
[ ${#pin_cores[@]} -eq 0 ] && echo "  not pinned: the replicas compete with the cores for the CPUs" ||
	echo "  pinned: the cores and the writers on CPU 0, the replicas on CPU 1"
load

start_replicas() {
	local r last
	for r in 1 2; do
		"${pin_replica[@]}" "$build/graftd" --config "$dir/r$r/graft.conf" >>"$dir/r$r/out" 2>&1 &
		pids[$((2 + r))]=$!
	done
	last=$(last_tx "${http[leader]}")
	for r in 1 2; do wait_for 120 "replica $r holding transaction $last" holds "$r" "$last"; done
}
stop_replicas() {
	local r
	for r in 1 2; do
		kill -CONT "${pids[$((2 + r))]}" 2>/dev/null || true
		kill "${pids[$((2 + r))]}" 2>/dev/null || true
		wait "${pids[$((2 + r))]}" 2>/dev/null || true
		pids[$((2 + r))]=""
	done
}
rss_mb() { awk '/^VmRSS/ { printf "%d", $2 / 1024 }' "/proc/${pids[leader]}/status"; }

# window KIND: one window of commits on the leader; its p50 and p99 (us)
# appended to $dir/KIND.
window() {
	local out
	out=$("${pin_cores[@]}" "$build/bench/bolt_bench" -c $((rate / 100)) -R "$rate" -d "$window" \
		"127.0.0.1:${bolt[leader]}" "CREATE (:B {v: 1})")
	echo "$out" | sed -n 's/.* p50 \([0-9]*\) us, p99 \([0-9]*\) us.*/\1 \2/p' >>"$dir/$1"
	printf '  %-8s %s, leader RSS %s MB\n' "$1:" "$(echo "$out" | sed 's/.*s: //; s/  (.*//')" "$(rss_mb)"
}

echo "the leader's commits at $rate/s, $window s windows: no replica, 2 replicas, 2 replicas of which 1 stopped"
for r in $(seq 1 "$rounds"); do
	echo " round $r"
	window none
	start_replicas
	window two
	kill -STOP "${pids[3]}"
	window stopped
	kill -CONT "${pids[3]}"
	started=$SECONDS
	last=$(last_tx "${http[leader]}")
	wait_for 300 "the stopped replica catching up" holds 1 "$last"
	echo "  the stopped replica resumed, caught up in $((SECONDS - started)) s"
	stop_replicas
	load
done

medians "$rounds" none two stopped
