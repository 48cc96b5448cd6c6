#!/usr/bin/env bash
# Checks the layer order written in src/layers.txt:
#  - every #include "..." in src/<folder>/ names its own folder or a folder
#    on an earlier line (resolved as the compiler does: relative to the file,
#    then to src/);
#  - with a build directory (argument or GRAFT_BUILD_DIR), every undefined
#    symbol of an object built from src/<folder>/ that another folder's
#    object defines belongs to an earlier line, and no two convenience
#    libraries (libgraft_*.a) need each other, so the static link order is a
#    line, not a cycle.
# Prints each violation as file: what it uses, and exits 1 if there is any.
# Usage: tools/layers.sh [build-dir]
set -euo pipefail
src_dir=${GRAFT_SRC_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
build_dir=${1:-${GRAFT_BUILD_DIR:-}}
[ -z "$build_dir" ] || build_dir=$(cd "$build_dir" && pwd)
layers=$src_dir/src/layers.txt
cd "$src_dir/src"

# rank[folder] = line number among the non-comment lines of layers.txt
declare -A rank
n=0
while read -r line; do
	line=${line%%#*}
	[ -n "${line// /}" ] || continue
	n=$((n + 1))
	for f in $line; do rank[$f]=$n; done
done <"$layers"

bad=0
# allowed FROM TO: TO is FROM itself or on an earlier line
allowed() {
	[ "$1" = "$2" ] || { [ -n "${rank[$2]:-}" ] && [ "${rank[$2]}" -lt "${rank[$1]}" ]; }
}

for dir in */; do
	layer=${dir%/}
	if [ -z "${rank[$layer]:-}" ]; then
		echo "src/$layer/: a folder missing from src/layers.txt (add it on its layer's line)"
		bad=1
		continue
	fi
	while IFS=: read -r file lineno inc; do
		inc=${inc#*\"}
		inc=${inc%%\"*}
		if [ -e "$layer/$inc" ]; then
			target=$(realpath -m --relative-to=. "$layer/$inc")
		else
			target=$(realpath -m --relative-to=. "$inc")
		fi
		case $target in
		../*) continue ;; # outside src/ (include/graft.h is included as <graft.h>)
		*/*) to=${target%%/*} ;;
		*) continue ;;
		esac
		if ! allowed "$layer" "$to"; then
			echo "src/$file:$lineno: includes \"$inc\" of src/$to/, which is not below src/$layer/ in src/layers.txt"
			bad=1
		fi
	done < <(grep -Hn '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$layer"/*.[ch] "$layer"/*.inc 2>/dev/null || true)
done

# The folder an object was built from, or nothing for a stale object whose
# source is gone (automake prefixes per-program objects: graftd-main.o).
object_layer() {
	local o=$1 layer base
	layer=${o#"$build_dir"/src/}
	layer=${layer%%/*}
	base=${o##*/}
	base=${base%.o}
	if [ -e "$layer/$base.c" ] || [ -e "$layer/${base#*-}.c" ]; then
		echo "$layer"
	fi
}

if [ -n "$build_dir" ] && [ -d "$build_dir/src" ]; then
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	objs=()
	while read -r o; do
		layer=$(object_layer "$o")
		[ -z "$layer" ] || objs+=("$o")
	done < <(find "$build_dir/src" -name '*.o' ! -path '*/.libs/*')
	# nm -A -P: "file: symbol type ..."; the folder is the path after src/
	nm -A -P -g --defined-only "${objs[@]}" |
		awk -v b="$build_dir/src/" '{f=$1; sub(b, "", f); split(f, p, "/"); print $2, p[1]}' |
		sort -u >"$tmp/defs"
	nm -A -P -u "${objs[@]}" |
		awk -v b="$build_dir/src/" '{f=$1; sub(b, "", f); sub(/:$/, "", f); split(f, p, "/"); print $2, p[1], "src/" f}' |
		sort -k1,1 >"$tmp/uses"
	while read -r sym from obj to; do
		if ! allowed "$from" "$to"; then
			echo "$obj: calls $sym of src/$to/, which is not below src/$from/ in src/layers.txt"
			bad=1
		fi
	done < <(join -1 1 -2 1 "$tmp/uses" "$tmp/defs" | sort -u)

	# Libraries that need each other
	libs=()
	for a in "$build_dir"/.libs/libgraft_*.a; do
		[ -e "$a" ] || continue
		l=$(basename "$a")
		libs+=("$l")
		nm -P -u "$a" 2>/dev/null | awk '{print $1}' | sort -u >"$tmp/$l.u"
		nm -P -g --defined-only "$a" 2>/dev/null | awk '{print $1}' | sort -u >"$tmp/$l.d"
	done
	for a in "${libs[@]}"; do
		for b in "${libs[@]}"; do
			if [[ $a < $b ]] && join "$tmp/$a.u" "$tmp/$b.d" | grep -q . &&
				join "$tmp/$b.u" "$tmp/$a.d" | grep -q .; then
				echo "$a and $b call each other: move the caller's file to the library it calls"
				bad=1
			fi
		done
	done
fi
exit $bad
