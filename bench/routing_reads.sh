#!/usr/bin/env bash
# Reads spread by the routing driver (issue 15's read figure): PROCS Node
# processes (one tops out near 6k requests/s here), each a neo4j:// driver
# with CONCURRENCY loops of executeRead point lookups (MATCH (n:P {id: $id})
# on an index, NODES nodes), for SECONDS_PER_RUN:
#  1. against one SINGLE server: reads/s, p50/p99, its CPU;
#  2. against three cores (the driver given the leader's address; its
#     routing table names the readers): reads/s, p50/p99, and per member
#     its share of the reads and its CPU.
# On this 2-core machine three members and the clients share two cores, so
# the cluster's total cannot beat one server's; the shares and the CPU per
# read are what carry over to three machines.
#
#   bench/routing_reads.sh [BUILD_DIR]
#
# BUILD_DIR (default .) holds graftd, graft-shell and bench/bolt_bench; use
# a build configured without --enable-debug/--enable-sanitize for figures.
# Settings: PROCS (4), CONCURRENCY (13), NODES (10000), SECONDS_PER_RUN
# (10). Stops everything it started, by pid.
set -euo pipefail
build=$(cd "${1:-.}" && pwd)
src=$(cd "$(dirname "$0")/.." && pwd)
procs=${PROCS:-4}
conc=${CONCURRENCY:-13}
nodes=${NODES:-10000}
secs=${SECONDS_PER_RUN:-10}
dir=$(mktemp -d /tmp/graft-routing-reads-XXXXXX)
for p in graftd graft-shell bench/bolt_bench; do
	[ -x "$build/$p" ] || { echo "$build/$p not found: run make in BUILD_DIR first" >&2; exit 2; }
done

. "$(dirname "$0")/bench_lib.sh"

# cpu_ticks PID: user + system clock ticks the process has used.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
preload() {
	"$build/bench/bolt_bench" -c 1 -d 0.001 -s "CREATE INDEX FOR (n:P) ON (n.id)" \
		"127.0.0.1:$1" "UNWIND range(1, $nodes) AS i CREATE (:P {id: i})" >/dev/null
}
# clients URI: runs the PROCS client processes at once; their JSON lines
# in $dir/reads.
clients() {
	local i cs=()
	for i in $(seq 1 "$procs"); do
		node "$src/bench/js/routed_reads.js" "$1" "$secs" "$conc" "$nodes" >"$dir/reads.$i" &
		cs+=("$!")
		pids+=("$!")
	done
	for i in "${cs[@]}"; do wait "$i"; done
	cat "$dir"/reads.* >"$dir/reads"
	rm -f "$dir"/reads.*
}
# summary: total reads/s, the worst p50/p99 of the processes, and the
# count per server address (JSON) on the last line.
summary() {
	node -e '
		const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map(JSON.parse)
		const by = {}
		let reads = 0, p50 = 0, p99 = 0
		for (const l of lines) {
			reads += l.reads; p50 = Math.max(p50, l.p50); p99 = Math.max(p99, l.p99)
			for (const [a, n] of Object.entries(l.byServer)) by[a] = (by[a] || 0) + n
		}
		console.log(`  ${reads} reads, ${(reads / process.argv[2]).toFixed(0)} reads/s, p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms (the worst process)`)
		console.log(JSON.stringify(by))' "$dir/reads" "$secs"
}

echo "routed point reads: $procs driver processes x $conc concurrent reads, $nodes nodes, ${secs} s"
echo "one SINGLE server:"
start_single
preload "$bolt"
c0=$(cpu_ticks "$pid")
clients "neo4j://127.0.0.1:$bolt"
cpu=$(( $(cpu_ticks "$pid") - c0 ))
summary | head -1
echo "  server CPU $((cpu / secs))% of one core"
kill "$pid"
wait "$pid" 2>/dev/null || true
load

core_confs
for i in 0 1 2; do start_core "$i"; done
wait_leader
preload "${bolt[leader]}"
holds_all() {
	[ "$("$build/graft-shell" -a "bolt://127.0.0.1:${bolt[$1]}" -u neo4j -p x --format plain \
		"MATCH (n:P) RETURN count(n) AS n" 2>/dev/null | tail -1)" = "$nodes" ]
}
for i in 0 1 2; do
	until holds_all "$i"; do sleep 0.2; done
done
echo "three cores (leader c$leader), the drivers given the leader's address:"
for i in 0 1 2; do before[i]=$(cpu_ticks "${pids[i]}"); done
clients "neo4j://127.0.0.1:${bolt[leader]}"
summary >"$dir/summary"
head -1 "$dir/summary"
by=$(tail -1 "$dir/summary")
total=$(node -e 'console.log(Object.values(JSON.parse(process.argv[1])).reduce((a, b) => a + b, 0))' "$by")
for i in 0 1 2; do
	n=$(node -e 'const by = JSON.parse(process.argv[1]); let n = 0
		for (const [a, c] of Object.entries(by)) if (a.endsWith(":" + process.argv[2])) n += c
		console.log(n)' "$by" "${bolt[i]}")
	role=follower
	[ "$i" = "$leader" ] && role=leader
	printf '  c%d (%s): %d reads, %.1f%% of all, CPU %d%% of one core\n' "$i" "$role" "$n" \
		"$(awk -v n="$n" -v t="$total" 'BEGIN { print t ? 100 * n / t : 0 }')" \
		$(( ($(cpu_ticks "${pids[i]}") - before[i]) / secs ))
done
load
