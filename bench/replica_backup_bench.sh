#!/usr/bin/env bash
# The leader's commit latency while a read replica serves back-to-back FULL
# backups (issue 16, "Backups from any member": goal within 10 % of the
# latency without a backup), beside the same backups served by the leader
# itself (what taking them on a replica spares the leader).
#
# Three graft cores and one read replica on loopback; the leader takes
# CREATE (:B {v: 1}) auto-commit transactions at a fixed rate
# (bench/bolt_bench -R, a client per 100 commits/s) in windows of WINDOW
# seconds: without a backup, with graft-admin database backup --type=FULL
# --from=<the replica> running back to back, and with the same backups
# --from=<the leader>; ROUNDS rounds of the three, then p50 and p99 of each
# kind of window (the median over the rounds) and the ratio to the windows
# without backup.
#
# Pinning (PIN=1, the default on 2+ CPUs): the cores and the writing
# clients run on CPU 0, the replica and graft-admin on CPU 1, so the
# replica stands for a machine of its own as in a deployment; only the disk
# is shared. Without it (PIN=0) on 2 cores, a backup's CPU (zstd
# compression, checksums) competes with the cores' and the figure measures
# the machine, not the leader. The leader's own backups stay on CPU 1's
# graft-admin, the serving on CPU 0 with the cores.
#
#   bench/replica_backup_bench.sh [BUILD_DIR]
#
# BUILD_DIR (default .) holds graftd, graft-admin and bench/bolt_bench; use
# a build configured without --enable-debug/--enable-sanitize. Settings:
# RATE (1000 commits/s), WINDOW (10 s), ROUNDS (3), PRELOAD_TXS (100
# transactions of 5,000 nodes of about 100 bytes: the store a backup
# copies), PIN. Stops everything it started, by pid.
set -euo pipefail
build=$(cd "${1:-.}" && pwd)
src=$(cd "$(dirname "$0")/.." && pwd)
rate=${RATE:-1000}
window=${WINDOW:-10}
rounds=${ROUNDS:-3}
preload=${PRELOAD_TXS:-100}
dir=$(mktemp -d /tmp/graft-replica-backup-bench-XXXXXX)
for p in graftd graft-admin bench/bolt_bench; do
	[ -x "$build/$p" ] || { echo "$build/$p not found: run make in BUILD_DIR first" >&2; exit 2; }
done

. "$(dirname "$0")/bench_lib.sh"
. "$(dirname "$0")/replica_lib.sh"

pin_setup

# Every member serves backups (on its backup port and its transaction
# port); the cores checkpoint often enough for a store copy to exist.
core_confs "db.checkpoint.interval.tx=20000"
for i in 0 1 2; do
	printf 'server.backup.enabled=true\nserver.backup.listen_address=127.0.0.1:%s\n' "$(free_port)" >>"$dir/c$i/graft.conf"
done
replica_conf 1 "server.backup.enabled=true
server.backup.listen_address=127.0.0.1:$(free_port)"
# The artifacts go to memory (/dev/shm) where there is one: written and
# fsynced on the members' disk they would measure that disk's fsyncs shared
# with the cores' Raft logs, not the replica serving a backup.
backups=$dir/backups
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
	backups=$(mktemp -d /dev/shm/graft-replica-backup-bench-XXXXXX)
	trap 'rm -rf "$backups"; cleanup' EXIT
fi
mkdir -p "$backups"

for i in 0 1 2; do
	"${pin_cores[@]}" "$build/graftd" --config "$dir/c$i/graft.conf" >>"$dir/c$i/out" 2>&1 &
	pids[i]=$!
done
wait_leader
"${pin_replica[@]}" "$build/graftd" --config "$dir/r1/graft.conf" >>"$dir/r1/out" 2>&1 &
pids[3]=$!
echo "graft: 3 cores and a read replica on loopback, data in $dir, backups written to $backups"
[ ${#pin_cores[@]} -eq 0 ] && echo "  not pinned: the backups compete with the cores for the CPUs" ||
	echo "  pinned: the cores and the writers on CPU 0, the replica and graft-admin on CPU 1"
node "$src/cluster-tests/js/replicas.js" bulk "${bolt[leader]}" pre 5000 "$preload" >/dev/null
last=$(last_tx "${http[leader]}")
wait_for 300 "the replica holding the preload" holds 1 "$last"
leader_backup=$(grep -o 'server.backup.listen_address=.*' "$dir/c$leader/graft.conf" | tail -1 | cut -d= -f2)
load

# backups_loop FROM: FULL backups of neo4j from FROM, one after another,
# until $dir/stop exists; a line per backup in $dir/backups.log.
cat >"$dir/backups_loop.sh" <<'LOOP'
build=$1 from=$2 dir=$3 backups=$4
while [ ! -e "$dir/stop" ]; do
	rm -f "$backups/"*
	"$build/graft-admin" database backup --from="$from" --type=FULL \
		--to-path="$backups" neo4j >>"$dir/backups.log" 2>&1 || exit 1
done
LOOP

# window KIND [FROM]: one window of commits on the leader; its p50 and p99 (us)
# appended to $dir/KIND.
window() {
	local from=${2:-} out loop=""
	if [ -n "$from" ]; then
		rm -f "$dir/stop" "$dir/backups.log"
		"${pin_replica[@]}" bash "$dir/backups_loop.sh" "$build" "$from" "$dir" "$backups" &
		loop=$!
		sleep 1 # the first backup under way
	fi
	out=$("${pin_cores[@]}" "$build/bench/bolt_bench" -c $((rate / 100)) -R "$rate" -d "$window" \
		"127.0.0.1:${bolt[leader]}" "CREATE (:B {v: 1})")
	if [ -n "$loop" ]; then
		touch "$dir/stop"
		wait "$loop" || { echo "a backup from $from failed:" >&2; tail -3 "$dir/backups.log" >&2; exit 1; }
	fi
	echo "$out" | sed -n 's/.* p50 \([0-9]*\) us, p99 \([0-9]*\) us.*/\1 \2/p' >>"$dir/$1"
	printf '  %-16s %s' "$1:" "$(echo "$out" | sed 's/.*s: //; s/  (.*//')"
	[ -z "$loop" ] || printf ', %s FULL backups of %s bytes' "$(grep -c '^Backup of neo4j.*FULL' "$dir/backups.log")" \
		"$(grep -o '[0-9]* bytes' "$dir/backups.log" | tail -1 | grep -o '[0-9]*')"
	echo
}

echo "the leader's commits at $rate/s, $window s windows: none, backups from the replica, backups from the leader"
for r in $(seq 1 "$rounds"); do
	echo " round $r"
	window none
	window replica "127.0.0.1:${rtx[1]}"
	window leader "$leader_backup"
	load
done

medians "$rounds" none replica leader
