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

# CPU accounting (issue 14: where a committed transaction's CPU goes, per
# process). cpu_ticks PID: its user + system time so far, in clock ticks
# (getconf CLK_TCK, 100 here), 0 once it is gone. children_ticks: the same
# for this shell's children that have ended (bash's `times`), written to
# $dir/.ticks, so that a client run in the foreground is counted once it
# exits; not run in a subshell, whose `times` counts only its own children.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
children_ticks() {
	times >"$dir/.times"
	awk -v hz="$(getconf CLK_TCK)" 'NR == 2 {
		split($1, u, /[ms]/); split($2, s, /[ms]/)
		printf "%d\n", (u[1] * 60 + u[2] + s[1] * 60 + s[2]) * hz + 0.5 }' "$dir/.times" >"$dir/.ticks"
}
# cpu_per_tx NAME TICKS COUNT: "NAME N us" (CPU microseconds per transaction).
cpu_per_tx() {
	awk -v n="$1" -v t="$2" -v c="$3" -v hz="$(getconf CLK_TCK)" \
		'BEGIN { printf "%s %.0f us", n, (c > 0 ? t * 1e6 / hz / c : 0) }'
}
# ctx_switches PID: voluntary + involuntary context switches of all its
# threads so far (a hop between threads costs one or two).
ctx_switches() {
	cat /proc/"$1"/task/*/status 2>/dev/null |
		awk '/ctxt_switches/ { n += $2 } END { print n + 0 }'
}
# cpu_begin PID...: notes their CPU (and this shell's ended children's);
# cpu_end COUNT NAME... (one NAME per PID of cpu_begin, then the client's):
# prints each one's CPU microseconds per transaction over COUNT
# transactions, their sum, and the first PID's context switches per
# transaction.
cpu_begin() {
	children_ticks
	cpu_pids=("$@") cpu_t0=() cpu_c0=$(cat "$dir/.ticks") cpu_x0=$(ctx_switches "$1")
	local p
	for p in "$@"; do cpu_t0+=("$(cpu_ticks "$p")"); done
}
cpu_end() {
	local count=$1 i t sum=0 line="" x
	shift
	for i in "${!cpu_pids[@]}"; do
		t=$(($(cpu_ticks "${cpu_pids[i]}") - cpu_t0[i]))
		sum=$((sum + t))
		line="$line$(cpu_per_tx "$1" "$t" "$count"), "
		shift
	done
	children_ticks
	t=$(($(cat "$dir/.ticks") - cpu_c0))
	sum=$((sum + t))
	x=$(($(ctx_switches "${cpu_pids[0]}") - cpu_x0))
	echo "    CPU per transaction: $line$(cpu_per_tx "$1" "$t" "$count"); $(cpu_per_tx all "$sum" "$count"); $(awk -v x="$x" -v c="$count" 'BEGIN { printf "%.1f", (c > 0 ? x / c : 0) }') context switches of the first per transaction"
}
