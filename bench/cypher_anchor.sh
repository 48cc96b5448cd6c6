#!/usr/bin/env bash
# Point-lookup anchor for bench/cypher_bench: redis-benchmark GET without
# pipelining from 1 and from 50 clients against a local redis-server, then
# cypher_bench in the same run, then both figures side by side.
#   bench/cypher_anchor.sh [--install] [BUILD_DIR] [CYPHER_BENCH_ARGS...]
# e.g. bench/cypher_anchor.sh . --small. Needs redis-server and
# redis-benchmark (Debian: redis-server, redis-tools): --install installs
# them with apt-get; without it a missing Redis is skipped with a message and
# cypher_bench runs alone.
set -euo pipefail
install=no
if [ "${1:-}" = --install ]; then
	install=yes
	shift
fi
build=${1:-.}
[ $# -gt 0 ] && shift
requests=${REDIS_REQUESTS:-1000000}

have_redis() {
	command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null
}
if ! have_redis && [ $install = yes ]; then
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	$sudo apt-get install -y redis-server redis-tools >/dev/null
fi

declare -A redis_rate
if have_redis; then
	dir=$(mktemp -d)
	port=$((30000 + RANDOM % 20000))
	redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --save "" \
		--appendonly no --daemonize no >"$dir/redis.log" 2>&1 &
	rpid=$!
	trap 'kill $rpid 2>/dev/null; rm -rf "$dir"' EXIT
	for _ in $(seq 1 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
	# redis-benchmark GETs the key "key:__rand_int__"; give it a value.
	redis-cli -p "$port" set key:__rand_int__ xxx >/dev/null
	echo "anchor: redis $(redis-server --version | awk '{print $3}' | sed 's/^v=//'), GET of a 3 B value, $requests requests, -P 1"
	for c in 1 50; do
		line=$(redis-benchmark -p "$port" -t get -n "$requests" -P 1 -c "$c" -q 2>/dev/null |
			tr '\r' '\n' | grep 'requests per second' | tail -n 1)
		redis_rate[$c]=$(grep -o '[0-9.]* requests per second' <<<"$line" | awk '{print $1}')
		printf '  %2d client(s): %s\n' "$c" "$line"
	done
	kill "$rpid"
	wait "$rpid" 2>/dev/null || true
else
	echo "anchor skipped: redis-server/redis-benchmark not found (run with --install, or apt-get install redis-server redis-tools)"
fi

echo "graft: cypher_bench $*"
out=$(mktemp)
"$build/bench/cypher_bench" "$@" | tee "$out"
qps=$(awk '/^LOOKUP_QPS/ {print $2}' "$out")
rm -f "$out"
echo
echo "point lookup, same run:"
printf '  graft engine, in-process, 1 core : %s queries/s\n' "$qps"
for c in 1 50; do
	[ -n "${redis_rate[$c]:-}" ] || continue
	printf '  redis GET over loopback, %2s clients: %s requests/s (graft = %s %%)\n' \
		"$c" "${redis_rate[$c]}" "$(awk -v a="$qps" -v b="${redis_rate[$c]}" 'BEGIN {printf "%.0f", 100 * a / b}')"
done
