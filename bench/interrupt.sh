#!/usr/bin/env bash
# How promptly a running statement stops (issue 13: within 50 ms): one
# graftd (SINGLE), a query of about 10^10 rows, stopped by TERMINATE
# TRANSACTION, by RESET and by the transaction timeout (bench/js/interrupt.js,
# ROUNDS each), then by SIGTERM: the time from the signal until graftd has
# exited (its final checkpoint included).
#
#   bench/interrupt.sh [BUILD_DIR]
#
# BUILD_DIR (default .) holds graftd; use a build configured without
# --enable-debug/--enable-sanitize for figures. ROUNDS (5).
# Stops everything it started, by pid.
set -euo pipefail
build=$(cd "${1:-.}" && pwd)
src=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d /tmp/graft-interrupt-XXXXXX)
[ -x "$build/graftd" ] || { echo "$build/graftd not found: run make in BUILD_DIR first" >&2; exit 2; }

. "$(dirname "$0")/bench_lib.sh"

start_single
node "$src/bench/js/interrupt.js" "127.0.0.1:$bolt" "${ROUNDS:-5}"
load

# SIGTERM while the long query runs: graftd stops it and exits.
node "$src/bench/js/interrupt.js" "127.0.0.1:$bolt" long >"$dir/long" 2>&1 &
pids+=("$!")
sleep 1.5 # the query runs
t0=$(date +%s%N)
kill -TERM "$pid"
wait "$pid" || true
t1=$(date +%s%N)
echo "SIGTERM during the long query to graftd exited: $(((t1 - t0) / 1000000)) ms"
sleep 0.5
cat "$dir/long"
grep -h "Stopping\|Stopped\|terminated\|stop" "$dir/out" | sed 's/^/  log: /' | head -5 || true
