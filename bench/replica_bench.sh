#!/usr/bin/env bash
# Read-replica figures (issue 16) of three graft cores and two read replicas
# on loopback:
#  1. lag: commit on the leader -> in the replica's log, at 1,000 and 5,000
#     writes/s (CREATE of a small node per auto-commit transaction, paced
#     by bench/bolt_bench -R), measured by bench/replica_lag on the leader's
#     and the replica's transaction streams: p50, p99, max;
#  2. catch-up: replica 1 stopped while the leader takes CATCHUP_TXS
#     transactions (default 100000; set 1000000 for the issue's figure),
#     then restarted: transactions/s until it holds the leader's last;
#  3. store copy: replica 2 started empty after the cores pruned their logs
#     copies the leader's store: MB/s between its two log lines, beside
#     fio's sequential read and write on the same disk (when fio is
#     installed).
#
#   bench/replica_bench.sh [BUILD_DIR]
#
# BUILD_DIR (default .) holds graftd, bench/bolt_bench and
# bench/replica_lag; use a build configured without
# --enable-debug/--enable-sanitize for figures. Settings: SECONDS_PER_RUN
# (10), CATCHUP_TXS (100000), PRELOAD_TXS (100 transactions of 5,000 nodes
# of about 100 bytes, the store a copy moves), FIO_SIZE (1G). Stops
# everything it started, by pid.
set -euo pipefail
build=$(cd "${1:-.}" && pwd)
src=$(cd "$(dirname "$0")/.." && pwd)
secs=${SECONDS_PER_RUN:-10}
catchup_txs=${CATCHUP_TXS:-100000}
preload=${PRELOAD_TXS:-100}
dir=$(mktemp -d /tmp/graft-replica-bench-XXXXXX)
for p in graftd bench/bolt_bench bench/replica_lag; do
	[ -x "$build/$p" ] || { echo "$build/$p not found: run make in BUILD_DIR first" >&2; exit 2; }
done

. "$(dirname "$0")/bench_lib.sh"

# Cores prune their logs after each checkpoint (for the store copy) and keep
# a departed replica's place (for the catch-up from the log).
core_confs "db.tx_log.rotation.retention_policy=false
db.tx_log.rotation.size=16M
db.checkpoint.interval.tx=50000
dbms.cluster.catchup.departed_hold=1h"
endpoints=127.0.0.1:${disc[0]},127.0.0.1:${disc[1]},127.0.0.1:${disc[2]}
rbolt=() rhttp=() rtx=()
for r in 1 2; do
	rbolt[r]=$(free_port); rhttp[r]=$(free_port); rtx[r]=$(free_port)
	mkdir -p "$dir/r$r"
	cat >"$dir/r$r/graft.conf" <<CONF
server.directories.neo4j_home=$dir/r$r
dbms.mode=READ_REPLICA
dbms.security.auth_enabled=false
server.backup.enabled=false
causal_clustering.initial_discovery_members=$endpoints
causal_clustering.transaction_listen_address=127.0.0.1:${rtx[r]}
causal_clustering.transaction_advertised_address=127.0.0.1:${rtx[r]}
server.bolt.listen_address=127.0.0.1:${rbolt[r]}
server.http.listen_address=127.0.0.1:${rhttp[r]}
server.routing.listen_address=127.0.0.1:$(free_port)
CONF
done

start_core() { "$build/graftd" --config "$dir/c$1/graft.conf" >>"$dir/c$1/out" 2>&1 & pids[$1]=$!; }
start_replica() { "$build/graftd" --config "$dir/r$1/graft.conf" >>"$dir/r$1/out" 2>&1 & pids[$((2 + $1))]=$!; }
stop_pid() { kill "${pids[$1]}" 2>/dev/null || true; wait "${pids[$1]}" 2>/dev/null || true; pids[$1]=""; }
http_get() { (exec 3<>"/dev/tcp/127.0.0.1/$1" && printf 'GET %s HTTP/1.0\r\n\r\n' "$2" >&3 && cat <&3) 2>/dev/null; }
# last_tx HTTP_PORT: the member's last transaction of neo4j.
last_tx() { http_get "$1" /db/neo4j/cluster/status | grep -o '"lastCommittedTxId": [0-9]*' | head -1 | grep -o '[0-9]*$'; }
wait_for() { # SECONDS WHAT COMMAND...
	local limit=$1 what=$2 _
	shift 2
	for _ in $(seq 1 $((limit * 10))); do "$@" && return 0; sleep 0.1; done
	echo "timed out waiting for $what; logs in $dir" >&2
	exit 1
}
leader=""
find_leader() {
	local i
	for i in 0 1 2; do
		http_get "${http[i]}" /db/neo4j/cluster/writable | head -1 | grep -q " 200 " && { leader=$i; return 0; }
	done
	return 1
}
holds() { [ "$(last_tx "${rhttp[$1]}")" = "$2" ]; }

for i in 0 1 2; do start_core "$i"; done
wait_for 60 "a leader" find_leader
for r in 1 2; do start_replica "$r"; done
echo "graft: 3 cores and 2 read replicas on loopback, data in $dir"
node "$src/cluster-tests/js/replicas.js" bulk "${bolt[leader]}" pre 5000 "$preload" >/dev/null
last=$(last_tx "${http[leader]}")
for r in 1 2; do wait_for 300 "replica $r holding the preload" holds "$r" "$last"; done
load

echo "lag: CREATE (:B {v: 1}) per auto-commit transaction, paced, ${secs} s per rate"
for rate in 1000 5000; do
	after=$(last_tx "${http[leader]}")
	wait_for 300 "replica 1 holding transaction $after" holds 1 "$after"
	"$build/bench/replica_lag" -d "$((secs + 2))" -a "$after" "127.0.0.1:${tx[leader]}" "127.0.0.1:${rtx[1]}" >"$dir/lag.out" &
	lagpid=$!
	sleep 1
	"$build/bench/bolt_bench" -c $((rate / 250)) -R "$rate" -d "$secs" "127.0.0.1:${bolt[leader]}" "CREATE (:B {v: 1})"
	wait "$lagpid"
	echo "  at $rate writes/s: $(cat "$dir/lag.out")"
done
load

echo "catch-up: replica 1 stopped while the leader takes $catchup_txs transactions"
from=$(last_tx "${http[leader]}")
wait_for 300 "replica 1 holding transaction $from" holds 1 "$from"
stop_pid 3
while [ $(($(last_tx "${http[leader]}") - from)) -lt "$catchup_txs" ]; do
	"$build/bench/bolt_bench" -c 32 -d 5 "127.0.0.1:${bolt[leader]}" "CREATE (:B {v: 2})" >/dev/null
done
until_tx=$(last_tx "${http[leader]}")
start_replica 1
wait_for 60 "replica 1's transaction port" bash -c "exec 3<>/dev/tcp/127.0.0.1/${rtx[1]}" 2>/dev/null
echo "  $("$build/bench/replica_lag" -a "$from" -u "$until_tx" "127.0.0.1:${rtx[1]}")"
load

echo "store copy: replica 2 restarted empty after the cores pruned their logs"
stop_pid 4
rm -rf "$dir/r2/data" "$dir/r2/transactions"
start_replica 2
copied() { grep -q "store copy of neo4j from .* installed" "$dir/r2/out"; }
wait_for 600 "replica 2's store copy" copied
ms() { date -d "$(echo "$1" | cut -c1-23)" +%s%3N; }
t0=$(ms "$(grep "copying its store" "$dir/r2/out" | tail -1)")
line=$(grep "store copy of neo4j from .* installed" "$dir/r2/out" | tail -1)
t1=$(ms "$line")
bytes=$(echo "$line" | grep -o '[0-9]* bytes' | grep -o '[0-9]*')
echo "  $bytes bytes of checkpoint in $((t1 - t0)) ms (log lines, verification and install included): $(awk -v b="$bytes" -v t=$((t1 - t0)) 'BEGIN { printf "%.1f", t > 0 ? b / 1048576 / (t / 1000) : 0 }') MB/s"
if command -v fio >/dev/null; then
	for rw in write read; do
		fio --name="seq$rw" --directory="$dir" --rw="$rw" --bs=1M --size="${FIO_SIZE:-1G}" --direct=1 \
			--ioengine=psync --output-format=terse --terse-version=3 2>/dev/null |
			awk -F';' -v rw="$rw" '{ kb = (rw == "read") ? $7 : $48; printf "  fio sequential %s: %.1f MB/s\n", rw, kb / 1024 }'
		rm -f "$dir/seq$rw".*
	done
else
	echo "  fio is not installed (Debian package fio): no disk figure beside it"
fi
load
