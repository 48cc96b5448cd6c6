#!/usr/bin/env bash
# bench/loop_lag beside its anchor: how late a plain timer thread wakes on
# this machine, measured by cyclictest (Debian's rt-tests, the standard
# timer-latency test): one thread, a 1 ms interval like loop_lag's timer,
# the normal scheduling class like graftd's loop, the machine's idle states
# left as they are (--laptop). First alone on the machine, then beside
# loop_lag for its whole run (the same load as graftd's loop). A loop lag
# no worse than the bare timer's is the machine's, not graftd's.
#   bench/loop_lag_anchor.sh [BUILD_DIR] [SECONDS] [loop_lag options...]
# Needs cyclictest (apt-get install rt-tests); without it, says so.
set -euo pipefail
build=${1:-.}
secs=${2:-5}
shift $(($# > 2 ? 2 : $#))
command -v cyclictest >/dev/null || {
	echo "cyclictest not found: apt-get install rt-tests (the anchor of this benchmark)" >&2
	exit 2
}
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
ct() { # DURATION: cyclictest's line "p50-less": avg and max in ms
	cyclictest -q --laptop -t1 -i 1000 -D "$1" 2>/dev/null |
		awk '/^T:/ { for (i = 1; i <= NF; i++) { if ($i == "Avg:") a = $(i + 1); if ($i == "Max:") m = $(i + 1) } }
		     END { printf "avg %.2f ms  max %.2f ms", a / 1000, m / 1000 }'
}
echo "anchor, cyclictest alone ($((secs * 3)) s, load $(cut -d' ' -f1 /proc/loadavg)): a 1 ms timer thread wakes late by $(ct $((secs * 3)))"
ctout=$(mktemp)
(ct $((secs * 3 + 4)) >"$ctout") &
ctpid=$!
"$build/bench/loop_lag" -d "$secs" "$@" "$home" 2>&1 | grep -v INFO
wait "$ctpid"
echo "anchor, cyclictest beside the run above: a 1 ms timer thread wakes late by $(cat "$ctout")"
rm -f "$ctout"
