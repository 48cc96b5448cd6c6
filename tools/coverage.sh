#!/usr/bin/env bash
# Line and branch coverage of src/ from the gcov counts a build configured
# with --enable-coverage wrote while its tests ran (docs/coverage.md):
#   tools/deps.sh --coverage      # gcovr
#   mkdir -p _cov && cd _cov && ../configure --enable-coverage -q
#   make -j2 && make -j2 check    # or TESTS="..." for a part of the suite
#   ../tools/coverage.sh .
# Prints a Markdown table per folder (lines and branches) and the files
# the tests reach least, and writes an annotated HTML report to
# <build>/coverage/index.html. Counts add up over runs; delete the build's
# *.gcda files (find . -name '*.gcda' -delete) to start over.
set -euo pipefail
build="${1:-.}"
src="$(cd "$(dirname "$0")/.." && pwd)"
command -v gcovr >/dev/null || {
	echo "coverage.sh: gcovr is missing; install it with tools/deps.sh --coverage" >&2
	exit 2
}
[ -n "$(find "$build" -name '*.gcda' -print -quit)" ] || {
	echo "coverage.sh: no gcov counts under $build; configure it with --enable-coverage and run make check there first" >&2
	exit 2
}
mkdir -p "$build/coverage"
# One gcov pass: the CSV summary (filename,line_total,line_covered,
# line_percent,branch_total,branch_covered,...) and the HTML pages.
csv="$build/coverage/files.csv"
gcovr --root "$src" --object-directory "$build" --filter "$src/src/" \
	--exclude-unreachable-branches \
	--csv "$csv" --html-details "$build/coverage/index.html" 2>/dev/null

pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (b) printf "%.1f%%", 100 * a / b; else printf "-" }'; }
echo "| folder | lines | line coverage | branches | branch coverage |"
echo "|---|---:|---:|---:|---:|"
awk -F, 'NR > 1 {
	split($1, p, "/"); d = p[1] "/" p[2] "/"
	lt[d] += $2; lc[d] += $3; bt[d] += $5; bc[d] += $6
}
END { for (d in lt) print d, lt[d], lc[d], bt[d], bc[d] }' "$csv" | sort |
	while read -r dir lt lc bt bc; do
		echo "| $dir | $lt | $(pct "$lc" "$lt") | $bt | $(pct "$bc" "$bt") |"
	done
awk -F, 'NR > 1 { lt += $2; lc += $3; bt += $5; bc += $6 }
END { print lt, lc, bt, bc }' "$csv" | {
	read -r lt lc bt bc
	echo "| **src/** | $lt | $(pct "$lc" "$lt") | $bt | $(pct "$bc" "$bt") |"
}
echo
echo "Least covered files (100 lines or more):"
echo
echo "| file | lines | line coverage | branch coverage |"
echo "|---|---:|---:|---:|"
awk -F, 'NR > 1 && $2 >= 100 { printf "%.4f %s %d %d %d %d\n", $3 / $2, $1, $2, $3, $5, $6 }' "$csv" |
	sort -n | head -12 | while read -r _ file lt lc bt bc; do
		echo "| $file | $lt | $(pct "$lc" "$lt") | $(pct "$bc" "$bt") |"
	done
echo
echo "Annotated sources: $build/coverage/index.html"
