#!/usr/bin/env bash
# The Raft anchors of issue 14, in one run on this machine:
#  1. a 3-member etcd (Debian etcd-server, its default election timeout
#     1000 ms and heartbeat 100 ms) on loopback, 64-byte puts from 1, 8 and
#     64 clients through bench/etcd_put (puts/s, p50, p99, and the CPU
#     each member and the client spent per put), then the
#     failover gap: SIGKILL of the leader, time to the first successful put;
#  2. bench/raft_raw: three bare libraft members, the raw ceiling.
#
#   bench/etcd_anchor.sh [BUILD_DIR [DATA_DIR]]
#
# BUILD_DIR holds bench/etcd_put and bench/raft_raw (use a build configured
# without --enable-debug/--enable-sanitize for figures). DATA_DIR defaults to
# a fresh directory under /tmp (a real disk here: etcd fsyncs its WAL).
# Installs etcd-server with apt-get when etcd is missing (as root), else says
# what to install. Stops everything it started, by pid, on every exit.
# Settings: SECONDS_PER_RUN (5), ROUNDS (3 failovers).
set -euo pipefail
# bash reports each member the failover kills ("line N: PID Killed etcd ...")
# whatever wait's redirection says: that line is expected, not an error.
exec 2> >(grep --line-buffered -v '^.*: line [0-9]*: *[0-9]* Killed  ' >&2)
build=${1:-.}
dir=${2:-$(mktemp -d /tmp/graft-etcd-anchor-XXXXXX)}
secs=${SECONDS_PER_RUN:-5}
rounds=${ROUNDS:-3}

for p in bench/etcd_put bench/raft_raw; do
	[ -x "$build/$p" ] || { echo "$build/$p not found: run make in BUILD_DIR first" >&2; exit 2; }
done
if ! command -v etcd >/dev/null || ! command -v etcdctl >/dev/null; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "etcd not found: apt-get install etcd-server etcd-client" >&2
		exit 2
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		etcd-server etcd-client >/dev/null
fi

. "$(dirname "$0")/bench_lib.sh"

cport=() pport=()
cluster=""
for i in 0 1 2; do
	cport[i]=$(free_port)
	pport[i]=$(free_port)
	cluster="${cluster:+$cluster,}m$i=http://127.0.0.1:${pport[i]}"
done
endpoints="127.0.0.1:${cport[0]},127.0.0.1:${cport[1]},127.0.0.1:${cport[2]}"

# start_member I: runs etcd member I in the background; a restarted member
# finds its data directory and ignores the initial-cluster flags.
start_member() {
	local i=$1
	etcd --name "m$i" --data-dir "$dir/m$i" \
		--listen-client-urls "http://127.0.0.1:${cport[i]}" \
		--advertise-client-urls "http://127.0.0.1:${cport[i]}" \
		--listen-peer-urls "http://127.0.0.1:${pport[i]}" \
		--initial-advertise-peer-urls "http://127.0.0.1:${pport[i]}" \
		--initial-cluster "$cluster" --initial-cluster-state new \
		--initial-cluster-token "graft-anchor-$$" \
		>>"$dir/m$i.log" 2>&1 &
	pids[i]=$!
}

ctl() { ETCDCTL_API=3 etcdctl --endpoints="$endpoints" --command-timeout=2s "$@"; }

# wait_healthy: until every member answers and one is leader (30 s).
wait_healthy() {
	local _ n
	for _ in $(seq 1 300); do
		# etcdctl writes its health lines to stderr.
		n=$(ctl endpoint health 2>&1 | grep -c 'is healthy' || true)
		[ "${n:-0}" -eq 3 ] && [ -n "$(leader_index)" ] && return 0
		sleep 0.1
	done
	echo "etcd did not become healthy; logs in $dir" >&2
	tail -n 5 "$dir"/m*.log >&2
	exit 1
}

# leader_index: the index (0-2) of the member that reports itself leader.
leader_index() {
	local ep i
	ep=$(ctl endpoint status 2>/dev/null || true)
	ep=$(echo "$ep" | awk -F', ' '$5 == "true" { print $1 }')
	for i in 0 1 2; do
		[ "$ep" = "127.0.0.1:${cport[i]}" ] && { echo "$i"; return; }
	done
}


mkdir -p "$dir"
for i in 0 1 2; do start_member "$i"; done
wait_healthy
echo "etcd $(etcd --version | awk '/etcd Version/ {print $3}'): 3 members on loopback (election 1000 ms, heartbeat 100 ms: defaults), data in $dir"
echo "throughput: 64-byte values via POST /v3/kv/put on the leader, ${secs} s per run, two runs each"
for c in 1 8 64; do
	for _ in 1 2; do
		l=$(leader_index)
		cpu_begin "${pids[l]}" "${pids[(l + 1) % 3]}" "${pids[(l + 2) % 3]}"
		out=$("$build/bench/etcd_put" -e "127.0.0.1:${cport[l]}" -c "$c" -s "$secs")
		echo "$out"
		cpu_end "$(echo "$out" | awk -v s="$secs" '{ printf "%.0f", $3 * s }')" \
			leader follower follower etcd_put
	done
done
load
echo "failover: SIGKILL of the leader, 1 client on the leader, then on the next member at once on any failure or after 100 ms without an answer"
for r in $(seq 1 "$rounds"); do
	l=$(leader_index)
	order="127.0.0.1:${cport[l]}"
	for i in 0 1 2; do [ "$i" -ne "$l" ] && order="$order,127.0.0.1:${cport[i]}"; done
	printf '  round %s: killed leader m%s; ' "$r" "$l"
	"$build/bench/etcd_put" -e "$order" -c 1 -k "${pids[l]}" | sed 's/^ *//'
	wait "${pids[l]}" 2>/dev/null || true
	start_member "$l"
	wait_healthy
done
load
for i in 0 1 2; do
	kill "${pids[i]}" 2>/dev/null || true
	wait "${pids[i]}" 2>/dev/null || true
	pids[i]=""
done

echo
"$build/bench/raft_raw" -d "$dir/raft" -s "$secs" -r "$rounds"
