#!/usr/bin/env bash
# Durable-write anchor for bench/commit_bench: Redis with appendfsync always
# (it fsyncs its append-only file once per event-loop turn before replying,
# i.e. group commit) doing SETs from 1, 8 and 64 clients, on the same disk,
# followed by graft's commit_bench in the same run.
#   bench/durable_anchor.sh [BUILD_DIR] [DATA_DIR]
# Needs redis-server and redis-benchmark (Debian: redis-server, redis-tools).
set -euo pipefail
build=${1:-.}
dir=${2:-$PWD/durable-anchor.$$}
command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null || {
	echo "redis-server/redis-benchmark not found: apt-get install redis-server redis-tools" >&2
	exit 2
}
mkdir -p "$dir/redis"
port=$((30000 + RANDOM % 20000))
redis-server --port "$port" --bind 127.0.0.1 --dir "$dir/redis" --save "" \
	--appendonly yes --appendfsync always --daemonize no >"$dir/redis.log" 2>&1 &
rpid=$!
trap 'kill $rpid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 1 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
echo "anchor: redis $(redis-server --version | awk '{print $3}') appendfsync always, SET of 100 B values"
for c in 1 8 64; do
	n=$((c == 1 ? 5000 : 100000))
	rate=$(redis-benchmark -p "$port" -t set -c "$c" -n "$n" -d 100 -q 2>/dev/null |
		grep -o '[0-9.]* requests per second' | head -n 1)
	printf '  %2d clients: %s\n' "$c" "$rate"
done
kill "$rpid"
wait "$rpid" 2>/dev/null || true
echo "graft: commit_bench on the same disk"
"$build/bench/commit_bench" "$dir/graft" 3
