#!/usr/bin/env bash
# Three graft cores on loopback (issue 14's benchmark), in one run with its
# anchors:
#  1. CREATE of a small node per auto-commit transaction on the leader
#     through bench/bolt_bench at 1, 8 and 64 clients (tx/s, p50, p99),
#     and the CPU (user + system, /proc/PID/stat) the leader, each
#     follower and bolt_bench spent per committed transaction: on 2 shared
#     cores, what bounds the rate once the pipeline is full;
#  2. the failover gap: one writer (the official driver, retrying on the
#     next member at once on any failure), SIGKILL of the leader; the
#     longest time between two acknowledged writes across the kill;
#  3. the longest event-loop stall on the leader during 1.: its pause
#     monitor checks every 1 ms and logs every check 3 ms or more late;
#  4. one big transaction (BIG_ROWS nodes, each with a relationship) on the
#     leader: its round trip, the leader's longest stall, and whether the
#     leader kept its leadership through it;
#  5. bench/etcd_anchor.sh: a 3-member etcd and bench/raft_raw, the bare
#     libraft ceiling, on the same machine in the same run.
#
#   bench/cluster_bench.sh [BUILD_DIR]
#
# BUILD_DIR (default .) holds graftd and the benches; use a build configured
# without --enable-debug/--enable-sanitize for figures. Settings:
# SECONDS_PER_RUN (5), ROUNDS (3 failovers), BIG_ROWS (100000), CLIENTS
# ("1 8 64": the throughput points), ANCHORS (1:
# also run etcd and raft_raw), ONLY (big: step 4 alone, e.g. to compare
# two builds: ONLY=big bench/cluster_bench.sh BEFORE; ONLY=big
# bench/cluster_bench.sh AFTER). Stops everything it started, by pid.
set -euo pipefail
exec 2> >(grep --line-buffered -v '^.*: line [0-9]*: *[0-9]* Killed  ' >&2)
build=$(cd "${1:-.}" && pwd)
src=$(cd "$(dirname "$0")/.." && pwd)
secs=${SECONDS_PER_RUN:-5}
rounds=${ROUNDS:-3}
dir=$(mktemp -d /tmp/graft-cluster-bench-XXXXXX)
for p in graftd bench/bolt_bench; do
	[ -x "$build/$p" ] || { echo "$build/$p not found: run make in BUILD_DIR first" >&2; exit 2; }
done

. "$(dirname "$0")/bench_lib.sh"

# A 1 ms check catches every stall of the leader's loop, not one in 100.
core_confs "server.vm_pause_monitor.measurement_duration=1ms
server.vm_pause_monitor.stall_alert_threshold=3ms"

for i in 0 1 2; do start_core "$i"; done
wait_leader
echo "graft: 3 cores on loopback (election 300-600 ms, heartbeat 50 ms: defaults), data in $dir"
# longest_stall FROM: the longest pause the leader logged from line FROM.
longest_stall() {
	tail -n +"$1" "$leader_log" | awk -F'pauseTime=' '/stop-the-world pause/ { n++; v = $2 + 0; if (v > max) max = v }
		END { if (n) printf "%d ms (%d checks 3 ms or more late)", max, n; else printf "under 3 ms (no check 3 ms late)" }'
}
leader_log=$dir/c$leader/logs/graft.log
log_from=$(($(wc -l <"$leader_log") + 1))
only=${ONLY:-}
if [ "$only" != big ]; then
	echo "throughput: CREATE (:B {v: 1}) per auto-commit transaction on the leader, ${secs} s per run, two runs each"
	f1=$(((leader + 1) % 3)) f2=$(((leader + 2) % 3))
	for c in ${CLIENTS:-1 8 64}; do
		for _ in 1 2; do
			cpu_begin "${pids[leader]}" "${pids[f1]}" "${pids[f2]}"
			out=$("$build/bench/bolt_bench" -c "$c" -d "$secs" "127.0.0.1:${bolt[leader]}" "CREATE (:B {v: 1})")
			echo "$out"
			cpu_end "$(echo "$out" | sed -n 's/.*s: \([0-9]*\) requests.*/\1/p')" \
				"leader" "follower" "follower" "bolt_bench"
		done
	done
	load
	echo "  longest event-loop stall on the leader under this load: $(longest_stall "$log_from")"
fi
rows=${BIG_ROWS:-100000}
echo "one transaction of $rows nodes and $rows relationships on the leader (UNWIND ... CREATE (a:N {v: i})-[:R]->(a)):"
log_from=$(($(wc -l <"$leader_log") + 1))
t0=$(date +%s%N)
if out=$("$build/graft-shell" -a "bolt://127.0.0.1:${bolt[leader]}" -u neo4j -p x \
	"UNWIND range(1, $rows) AS i CREATE (a:N {v: i})-[:R]->(a)" 2>&1); then
	out="committed"
fi
echo "  $(( ($(date +%s%N) - t0) / 1000000 )) ms: ${out:0:160}"
echo "  longest event-loop stall on the leader: $(longest_stall "$log_from")"
echo "  its stalls of 10 ms or more, longest first: $(tail -n +"$log_from" "$leader_log" | grep -o 'pauseTime=[0-9]*' | cut -d= -f2 | awk '$1 >= 10' | sort -rn | head -8 | tr '\n' ' ')"
grep -q "no longer leader" <(tail -n +"$log_from" "$leader_log") && echo "  the leader LOST its leadership during it" ||
	echo "  the leader kept its leadership"
[ "$only" = big ] && rounds=0
[ "$rounds" = 0 ] || echo "failover: SIGKILL of the leader under one writer (the JS driver, next member at once on any failure)"
for r in $(seq 1 "$rounds"); do
	wait_leader
	gap=$(CORE_PORTS="${bolt[leader]},${bolt[(leader + 1) % 3]},${bolt[(leader + 2) % 3]}" \
		BOLT_PORT=${bolt[leader]} GRAFT_SRC_DIR=$src \
		node "$src/cluster-tests/js/cluster.js" gap 4000 1000 "${pids[leader]}")
	echo "  round $r: killed leader c$leader; longest gap between acknowledged writes: $gap ms"
	wait "${pids[leader]}" 2>/dev/null || true
	start_core "$leader"
done
load
for i in 0 1 2; do
	kill "${pids[i]}" 2>/dev/null || true
	wait "${pids[i]}" 2>/dev/null || true
	pids[i]=""
done
[ "${ANCHORS:-1}" = 1 ] && [ "$only" != big ] || exit 0
echo
SECONDS_PER_RUN=$secs ROUNDS=$rounds "$src/bench/etcd_anchor.sh" "$build" "$dir/etcd"
