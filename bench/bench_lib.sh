# Shared by the benchmark scripts that start servers (etcd_anchor.sh,
# cluster_bench.sh, routing_bench.sh, ...): the processes they started (pids,
# killed by pid on every exit, with $dir removed), free loopback ports, the
# configuration of three graft cores, the machine's load.
# Source after setting $dir.
pids=()
cleanup() {
	# Only our members: a bare `wait` would also wait for the stderr
	# filter of the calling script, which ends only when that script does.
	for p in "${pids[@]}"; do
		[ -n "$p" ] || continue
		kill -9 "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	[ -n "${KEEP_DIR:-}" ] || rm -rf "$dir" # KEEP_DIR=1: logs kept
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
taken=" "
free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 30000))
		case "$taken" in *" $p "*) continue ;; esac
		port_free "$p" && { taken="$taken$p "; echo "$p"; return; }
	done
}

load() { printf '  (uptime:%s)\n' "$(uptime | sed 's/.*load/ load/')"; }

# start_core I: graftd on $dir/cI/graft.conf (core_confs), its pid in pids[I].
start_core() { "$build/graftd" --config "$dir/c$1/graft.conf" >>"$dir/c$1/out" 2>&1 & pids[$1]=$!; }
# core_check I CHECK: core I runs and answers 200 to GET
# /db/neo4j/cluster/CHECK (writable, read-only, available).
core_check() {
	[ -n "${pids[$1]:-}" ] && kill -0 "${pids[$1]}" 2>/dev/null &&
		(exec 3<>"/dev/tcp/127.0.0.1/${http[$1]}" && printf 'GET /db/neo4j/cluster/%s HTTP/1.0\r\n\r\n' "$2" >&3 && head -1 <&3) 2>/dev/null | grep -q " 200 "
}
# wait_leader: the index of the writable core among c0..c2 in $leader
# (60 s, else the run ends naming the logs).
wait_leader() {
	local _ i
	for _ in $(seq 1 600); do
		for i in 0 1 2; do core_check "$i" writable && { leader=$i; return; }; done
		sleep 0.1
	done
	echo "no leader within 60 s; logs in $dir" >&2
	tail -n 5 "$dir"/c*/out >&2
	exit 1
}

# core_confs [EXTRA]: free ports for $CORES (default three) cores on loopback
# (the arrays bolt, http, disc, raft, routing, tx) and $dir/c0..c2/graft.conf
# (and c3... beyond three, joining the three that form the cluster), auth
# off, each ending with the EXTRA lines.
core_confs() {
	local i endpoints="" last=$((${CORES:-3} - 1))
	bolt=() http=() disc=() raft=() routing=() tx=()
	for i in $(seq 0 "$last"); do
		bolt[i]=$(free_port); http[i]=$(free_port); disc[i]=$(free_port)
		raft[i]=$(free_port); routing[i]=$(free_port); tx[i]=$(free_port)
		endpoints="${endpoints:+$endpoints,}127.0.0.1:${disc[i]}"
	done
	for i in $(seq 0 "$last"); do
		mkdir -p "$dir/c$i"
		cat >"$dir/c$i/graft.conf" <<CONF
server.directories.neo4j_home=$dir/c$i
dbms.mode=CORE
dbms.security.auth_enabled=false
dbms.security.cluster_status_auth_enabled=false
server.backup.enabled=false
causal_clustering.minimum_core_cluster_size_at_formation=3
causal_clustering.initial_discovery_members=$endpoints
causal_clustering.discovery_listen_address=127.0.0.1:${disc[i]}
causal_clustering.raft_listen_address=127.0.0.1:${raft[i]}
causal_clustering.transaction_listen_address=127.0.0.1:${tx[i]}
causal_clustering.transaction_advertised_address=127.0.0.1:${tx[i]}
server.bolt.listen_address=127.0.0.1:${bolt[i]}
server.http.listen_address=127.0.0.1:${http[i]}
server.routing.listen_address=127.0.0.1:${routing[i]}
server.routing.advertised_address=127.0.0.1:${routing[i]}
${1:-}
CONF
	done
}

# start_single [EXTRA]: a graftd (SINGLE) on a fresh $dir/home, auth off,
# every listener on a free loopback port, the EXTRA lines at the end of its
# configuration; returns once it listens, its pid in $pid (the only one in
# pids) and its Bolt port in $bolt. Its output: $dir/out.
start_single() {
	rm -rf "$dir/home"
	mkdir -p "$dir/home"
	bolt=$(free_port)
	cat >"$dir/graft.conf" <<CONF
server.directories.neo4j_home=$dir/home
dbms.security.auth_enabled=false
server.backup.enabled=false
server.bolt.listen_address=127.0.0.1:$bolt
server.http.listen_address=127.0.0.1:$(free_port)
server.cluster.listen_address=127.0.0.1:$(free_port)
server.routing.listen_address=127.0.0.1:$(free_port)
${1:-}
CONF
	"$build/graftd" --config "$dir/graft.conf" >"$dir/out" 2>&1 &
	pid=$!
	pids=("$pid")
	for _ in $(seq 1 600); do
		! port_free "$bolt" && return
		kill -0 "$pid" 2>/dev/null || { cat "$dir/out" >&2; exit 1; }
		sleep 0.1
	done
	echo "graftd did not listen on $bolt within 60 s" >&2
	exit 1
}
