#!/usr/bin/env bash
# Runs the openCypher TCK (tests/tck/features) against the Cypher engine and
# prints pass / fail / error / skipped counts per feature folder and overall.
# A report, not a gate: it exits 0 whatever the counts (non-zero only when
# the runner cannot be built). See docs/cypher-tck.md.
#
#   tools/tck.sh [BUILD_DIR] [-v] [--list]
#   GRAFT_TCK=clauses/match,expressions/list tools/tck.sh   # some folders
#
# BUILD_DIR defaults to _build (the one tools/check.sh makes); it must be
# configured already. The full report is also written to BUILD_DIR/tck.txt.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build="$src/_build"
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
	build=$(cd "$1" && pwd)
	shift
fi
if [ ! -f "$build/Makefile" ]; then
	echo "tck.sh: $build is not a configured build directory;" \
		"run tools/check.sh or configure one and pass it" >&2
	exit 2
fi
make -C "$build" -s tests/unit/tck_runner
"$build/tests/unit/tck_runner" "$@" "$src/tests/tck/features" |
	tee "$build/tck.txt"
