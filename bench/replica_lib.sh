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
