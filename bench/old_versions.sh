#!/usr/bin/env bash
# Memory held for a long reader (issue 13): one graftd (SINGLE), NODES :P
# nodes; a read transaction (bench/js/long_reader.js, the official driver)
# holds its snapshot for SECONDS_PER_RUN while bench/bolt_bench updates random :P
# nodes at RATE writes/s; the server's resident memory every second, then
# after the reader ends. Run twice: with the default bound on old versions
# (db.transaction.old_versions.max_size=1G: the reader keeps its snapshot),
# then with SMALL_MAX (8M), where the reader is ended with an error and the
# memory is let go.
#
#   bench/old_versions.sh [BUILD_DIR]
#
# BUILD_DIR (default .) holds graftd and bench/bolt_bench; use a build
# configured without --enable-debug/--enable-sanitize for figures.
# Settings: NODES (100000), RATE (5000), SECONDS_PER_RUN (20), SMALL_MAX
# (8M), CLIENTS (16: each writer waits for its durable commit before the
# next, 1-2 ms on a shared disk, so 8 of them top out near 8 / latency,
# 2.5k writes/s at load 6; 16 paced to RATE reach it).
# Stops everything it started, by pid.
set -euo pipefail
build=$(cd "${1:-.}" && pwd)
src=$(cd "$(dirname "$0")/.." && pwd)
nodes=${NODES:-100000}
rate=${RATE:-5000}
secs=${SECONDS_PER_RUN:-20}
clients=${CLIENTS:-16}
dir=$(mktemp -d /tmp/graft-old-versions-XXXXXX)
for p in graftd bench/bolt_bench; do
	[ -x "$build/$p" ] || { echo "$build/$p not found: run make in BUILD_DIR first" >&2; exit 2; }
done

. "$(dirname "$0")/bench_lib.sh"

rss_mib() { awk '/^VmRSS/ { printf "%d", $2 / 1024 }' "/proc/$1/status"; }

# run MAX: one server with db.transaction.old_versions.max_size=MAX.
run() {
	local reader writer t rss=""
	start_single "db.transaction.old_versions.max_size=$1"
	"$build/bench/bolt_bench" -c 1 -d 0.001 -s "CREATE INDEX FOR (n:P) ON (n.id)" \
		"127.0.0.1:$bolt" "UNWIND range(1, $nodes) AS i CREATE (:P {id: i, v: 0})" >/dev/null
	echo "db.transaction.old_versions.max_size=$1: $nodes nodes, $(rss_mib "$pid") MiB resident before the reader"
	node "$src/bench/js/long_reader.js" "127.0.0.1:$bolt" $((secs * 1000)) >"$dir/reader" &
	reader=$!
	pids+=("$reader")
	until grep -q "sum at its start" "$dir/reader"; do
		kill -0 "$reader" 2>/dev/null || { cat "$dir/reader" >&2; exit 1; }
		sleep 0.05
	done
	"$build/bench/bolt_bench" -F -c "$clients" -R "$rate" -d "$secs" -r "$nodes" "127.0.0.1:$bolt" \
		"MATCH (n:P {id: \$id}) SET n.v = n.v + 1" >"$dir/writes" &
	writer=$!
	pids+=("$writer")
	for t in $(seq 1 "$secs"); do
		sleep 1
		rss="$rss $(rss_mib "$pid")"
	done
	echo "  resident MiB, one sample a second while the reader holds its snapshot:$rss"
	wait "$writer" || true
	sed 's/^/  /' "$dir/writes"
	wait "$reader" || true
	cat "$dir/reader"
	sleep 2
	echo "  resident 2 s after the reader ended: $(rss_mib "$pid") MiB"
	grep -h "old versions" "$dir/out" | sed 's/^/  log: /' | head -3 || true
	kill "$pid"
	wait "$pid" || true
}

run 1G
run "${SMALL_MAX:-8M}"
load
