#!/usr/bin/env bash
# bigtx_bench's transaction through Bolt, and small transactions beside it.
#
# Big: a fresh graftd on loopback per size, one auto-commit RUN of
#   UNWIND range(1, N) AS i CREATE (:Item {i: i, name: 'item-' + toString(i), payload: '<50 chars>'})
# sent by bench/bolt_bench (one client, one request: its round trip is the
# statement and the durable commit), then nodes per second and the server's
# peak resident set per node (VmHWM).
# Small: a fresh graftd, one client creating one such node per auto-commit
# transaction for SMALL_SECONDS (default 10): bolt_bench's rate, p50 and
# p99, so that a change for big transactions shows it costs small ones
# nothing.
#
#   bench/bigtx_bolt.sh [BUILD_DIR] [SIZES]
#
# BUILD_DIR (default .) holds graftd and bench/bolt_bench; use a build
# configured without --enable-debug/--enable-sanitize for figures. SIZES
# defaults to 10000,100000,1000000 (0: none, small transactions only).
# Stops what it started, by pid.
set -euo pipefail
build=$(cd "${1:-.}" && pwd)
sizes=${2:-10000,100000,1000000}
small_seconds=${SMALL_SECONDS:-10}
payload=abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwx
dir=$(mktemp -d /tmp/graft-bigtx-bolt-XXXXXX)
for p in graftd bench/bolt_bench; do
	[ -x "$build/$p" ] || { echo "$build/$p not found: run make in BUILD_DIR first" >&2; exit 2; }
done

. "$(dirname "$0")/bench_lib.sh"

stop_server() {
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	pids=()
}

if [ "$sizes" != 0 ]; then
	echo "one auto-commit transaction over Bolt: UNWIND range(1, N) AS i CREATE (:Item {i: i, name: 'item-' + toString(i), payload: '$payload'})"
	load
	echo "|   nodes | round trip s |  nodes/s | server peak MiB | B/node |"
	echo "|---------|--------------|----------|-----------------|--------|"
	for n in ${sizes//,/ }; do
		start_single
		q="UNWIND range(1, $n) AS i CREATE (:Item {i: i, name: 'item-' + toString(i), payload: '$payload'})"
		line=$("$build/bench/bolt_bench" -c 1 -d 0.001 "127.0.0.1:$bolt" "$q")
		us=$(sed -n 's/.* p50 \([0-9]*\) us.*/\1/p' <<<"$line")
		hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")
		stop_server
		awk -v n="$n" -v us="$us" -v kib="$hwm" 'BEGIN {
			printf "| %7d | %12.2f | %8.0f | %15.0f | %6.0f |\n",
				n, us / 1e6, n / (us / 1e6), kib / 1024, kib * 1024 / n }'
	done
	load
fi

echo "small transactions: one client, one node per auto-commit transaction, $small_seconds s"
load
start_single
"$build/bench/bolt_bench" -c 1 -d "$small_seconds" "127.0.0.1:$bolt" \
	"CREATE (:Item {i: 1, name: 'item-1', payload: '$payload'})"
stop_server
load
