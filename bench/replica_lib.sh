# Shared by the read-replica benchmarks (replica_bench.sh,
# replica_backup_bench.sh): read replicas of the three cores of
# bench_lib.sh's core_confs, and the members' HTTP status. Source after
# bench_lib.sh.

rbolt=() rhttp=() rtx=()
# replica_conf R [EXTRA]: free ports for replica R (rbolt, rhttp, rtx) and
# $dir/rR/graft.conf following the three cores, auth off, ending with the
# EXTRA lines.
replica_conf() {
	rbolt[$1]=$(free_port) rhttp[$1]=$(free_port) rtx[$1]=$(free_port)
	mkdir -p "$dir/r$1"
	cat >"$dir/r$1/graft.conf" <<CONF
server.directories.neo4j_home=$dir/r$1
dbms.mode=READ_REPLICA
dbms.security.auth_enabled=false
server.backup.enabled=false
causal_clustering.initial_discovery_members=127.0.0.1:${disc[0]},127.0.0.1:${disc[1]},127.0.0.1:${disc[2]}
causal_clustering.transaction_listen_address=127.0.0.1:${rtx[$1]}
causal_clustering.transaction_advertised_address=127.0.0.1:${rtx[$1]}
server.bolt.listen_address=127.0.0.1:${rbolt[$1]}
server.http.listen_address=127.0.0.1:${rhttp[$1]}
server.routing.listen_address=127.0.0.1:$(free_port)
${2:-}
CONF
}

http_get() { (exec 3<>"/dev/tcp/127.0.0.1/$1" && printf 'GET %s HTTP/1.0\r\n\r\n' "$2" >&3 && cat <&3) 2>/dev/null; }
# last_tx HTTP_PORT: the member's last transaction of neo4j.
last_tx() { http_get "$1" /db/neo4j/cluster/status | grep -o '"lastCommittedTxId": [0-9]*' | head -1 | grep -o '[0-9]*$'; }
# holds R TXID: replica R's last transaction of neo4j is TXID.
holds() { [ "$(last_tx "${rhttp[$1]}")" = "$2" ]; }
wait_for() { # SECONDS WHAT COMMAND...
	local limit=$1 what=$2 _
	shift 2
	for _ in $(seq 1 $((limit * 10))); do "$@" && return 0; sleep 0.1; done
	echo "timed out waiting for $what; logs in $dir" >&2
	exit 1
}

# medians ROUNDS KIND...: each KIND's median p50 and p99 over the rounds
# (files $dir/KIND, a "p50 p99" line per window, in us), and its ratio to
# the first KIND's.
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
medians() {
	local rounds=$1 kind p50 p99 base50 base99
	shift
	base50=$(cut -d' ' -f1 "$dir/$1" | median) base99=$(cut -d' ' -f2 "$dir/$1" | median)
	echo "medians over $rounds rounds:"
	for kind in "$@"; do
		p50=$(cut -d' ' -f1 "$dir/$kind" | median) p99=$(cut -d' ' -f2 "$dir/$kind" | median)
		awk -v k="$kind" -v a="$p50" -v b="$p99" -v a0="$base50" -v b0="$base99" 'BEGIN {
			printf "  %-8s p50 %d us (x%.2f), p99 %d us (x%.2f)\n", k, a, a / a0, b, b / b0 }'
	done
}

# pin_setup: with PIN=1 (the default) on 2+ CPUs, pin_cores and
# pin_replica are taskset prefixes for CPU 0 and CPU 1, so a replica stands
# for a machine of its own; otherwise both are empty.
pin_setup() {
	pin_cores=() pin_replica=()
	if [ "${PIN:-1}" = 1 ] && [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
		pin_cores=(taskset -c 0) pin_replica=(taskset -c 1)
	fi
}
