# Shared by the benchmark scripts that start servers (etcd_anchor.sh,
# cluster_bench.sh): the processes they started (pids, killed by pid on
# every exit, with $dir removed), free loopback ports, the machine's load.
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
	rm -rf "$dir"
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
