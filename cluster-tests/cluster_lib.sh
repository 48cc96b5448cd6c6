# Core clusters for the cluster-tests suites: N graftd members on claimed
# loopback ports, started and stopped one by one, and the leader found from
# the members' own HTTP endpoints. Source after lib.sh. Members are numbered
# from 1; member i lives in $T/c<i> (config $T/c<i>/graft.conf, output
# $T/c<i>/graftd.out, log $T/c<i>/logs/graft.log).
command -v node >/dev/null || fail "node is missing: run tools/deps.sh"
export GRAFT_SRC_DIR
CORE_N=0
CORE_BOLT=() CORE_ROUTING=() CORE_HTTP=() CORE_DISC=() CORE_RAFT=() CORE_PID=() CORE_TX=()

# cluster_confs N [extra lines...]: configurations of N cores that know
# each other, in the 4.x keys of the Neo4j operations manual's walk-through,
# auth off (CORE_AUTH=true: on, the cluster endpoints without it), formation
# size and minimum runtime size N (CORE_FORMATION, CORE_MIN_RUNTIME: others).
# The election window is 1-2 s, not the sub-second default: a sanitized
# build on a loaded 2-core machine can stall a loop for a few hundred
# milliseconds, and a spurious election would make
# a suite's writes fail for reasons it does not test (bench/ measures the
# defaults).
cluster_confs() {
	local n=$1 i endpoints=""
	shift
	CORE_N=$n
	CLUSTER_ENDPOINTS=
	for i in $(seq 1 "$n"); do
		claim_port; CORE_DISC[$i]=$PORT
		claim_port; CORE_RAFT[$i]=$PORT
		claim_port; CORE_TX[$i]=$PORT
		endpoints+="127.0.0.1:${CORE_DISC[$i]},"
	done
	CLUSTER_ENDPOINTS=${endpoints%,}
	for i in $(seq 1 "$n"); do
		mkdir -p "$T/c$i"
		write_conf "$T/c$i/graft.conf" "$T/c$i" \
			"dbms.mode=CORE" \
			"dbms.security.auth_enabled=${CORE_AUTH:-false}" \
			"dbms.security.cluster_status_auth_enabled=false" \
			"causal_clustering.minimum_core_cluster_size_at_formation=${CORE_FORMATION:-$n}" \
			"causal_clustering.minimum_core_cluster_size_at_runtime=${CORE_MIN_RUNTIME:-$n}" \
			"causal_clustering.initial_discovery_members=${endpoints%,}" \
			"causal_clustering.discovery_listen_address=127.0.0.1:${CORE_DISC[$i]}" \
			"causal_clustering.raft_listen_address=127.0.0.1:${CORE_RAFT[$i]}" \
			"causal_clustering.transaction_listen_address=127.0.0.1:${CORE_TX[$i]}" \
			"causal_clustering.transaction_advertised_address=127.0.0.1:${CORE_TX[$i]}" \
			"dbms.cluster.raft.leader_failure_detection_window=1s-2s" \
			"dbms.cluster.raft.heartbeat_interval=100ms" \
			"$@"
		CORE_BOLT[$i]=$BOLT_PORT
		CORE_ROUTING[$i]=$ROUTING_PORT
		CORE_HTTP[$i]=$HTTP_PORT
	done
}

# core_start I...: starts members I... at once and waits until each serves
# Bolt (the cluster may not be formed yet).
core_start() {
	local i
	for i in "$@"; do
		"$GRAFTD" --config "$T/c$i/graft.conf" >>"$T/c$i/graftd.out" 2>&1 &
		CORE_PID[$i]=$!
		PIDS+=("${CORE_PID[$i]}")
	done
	for i in "$@"; do
		wait_until "core $i started (log: $T/c$i/graftd.out)" started "$T/c$i/graftd.out" "${CORE_PID[$i]}"
		wait_port "${CORE_BOLT[$i]}" "${CORE_PID[$i]}"
	done
}

# member_start NAME DIR BOLT_PORT: starts the graftd of DIR, waits until
# it serves Bolt; its pid in MEMBER_PID.
member_start() {
	"$GRAFTD" --config "$2/graft.conf" >>"$2/graftd.out" 2>&1 &
	MEMBER_PID=$!
	PIDS+=("$MEMBER_PID")
	wait_until "$1 started (log: $2/graftd.out)" started "$2/graftd.out" "$MEMBER_PID"
	wait_port "$3" "$MEMBER_PID"
}

# core_kill I [SIGNAL]: SIGKILL (or SIGNAL) to member I; after KILL, reaps it.
core_kill() {
	local i=$1 sig=${2:-KILL}
	kill "-$sig" "${CORE_PID[$i]}"
	if [ "$sig" = KILL ]; then
		wait "${CORE_PID[$i]}" 2>/dev/null || true
		CORE_PID[$i]=
	fi
}

# core_stop I: SIGTERM and a clean exit.
core_stop() {
	local i=$1
	kill -TERM "${CORE_PID[$i]}"
	wait_exit "${CORE_PID[$i]}" "$BUDGET" || fail "core $i did not stop cleanly: $(stop_report "$T/c$i/graftd.out")"
	CORE_PID[$i]=
}

core_alive() { [ -n "${CORE_PID[$1]:-}" ] && kill -0 "${CORE_PID[$1]}" 2>/dev/null; }

# core_check I CHECK: the HTTP answer of /db/neo4j/cluster/CHECK on member
# I is 200 (writable, read-only, available).
core_check() {
	core_alive "$1" || return 1
	http_get "${CORE_HTTP[$1]}" "/db/neo4j/cluster/$2" 2>/dev/null | head -1 | grep -q " 200 "
}

# cluster_leader: the one writable member among the live ones, in $LEADER;
# fails if two are writable at once.
find_leader() {
	local i found=""
	for i in $(seq 1 "$CORE_N"); do
		if core_check "$i" writable; then
			[ -z "$found" ] || fail "two writable members: $found and $i"
			found=$i
		fi
	done
	[ -n "$found" ] || return 1
	LEADER=$found
}
wait_leader() { wait_until "a writable leader" find_leader; }

# followers_ready: every live member other than the leader is read-only
# (knows the leader).
followers_ready() {
	local i
	for i in $(seq 1 "$CORE_N"); do
		[ "$i" = "$LEADER" ] && continue
		core_alive "$i" || continue
		core_check "$i" read-only || return 1
	done
}
wait_cluster() {
	wait_leader
	wait_until "followers following leader $LEADER" followers_ready
}

# pick_followers: the two members other than $LEADER of three, in F1, F2.
pick_followers() {
	local i
	F1="" F2=""
	for i in 1 2 3; do
		[ "$i" = "$LEADER" ] && continue
		if [ -z "$F1" ]; then F1=$i; else F2=$i; fi
	done
}

# core_node I ARGS...: runs cluster-tests/js/cluster.js against member I.
core_node() {
	local i=$1
	shift
	BOLT_PORT=${CORE_BOLT[$i]} node "$GRAFT_SRC_DIR/cluster-tests/js/cluster.js" "$@"
}

# core_node_bg OUT ERR I ARGS...: core_node in the background, output to
# OUT and ERR; the pid, node's own, in BG_PID and PIDS. (A shell function
# sent to the background runs in a subshell: its pid is the subshell's,
# and the exit's kill -9 of it left node running, writing for hours into
# whatever server took its ports next.)
core_node_bg() {
	local out=$1 err=$2 i=$3
	shift 3
	BOLT_PORT=${CORE_BOLT[$i]} node "$GRAFT_SRC_DIR/cluster-tests/js/cluster.js" "$@" >"$out" 2>"$err" &
	BG_PID=$!
	PIDS+=("$BG_PID")
}

core_log() { tail -${2:-30} "$T/c$1/graftd.out"; }

# core_oldest_log I: the first transaction id of core I's log of neo4j
# (above 1 once a checkpoint pruned the log's start: a replica that lacks
# what is gone must copy the store).
core_oldest_log() {
	ls "$T/c$1/data/transactions/neo4j" | grep '^txlog\.[0-9]*$' | sort | head -n 1 | sed 's/^txlog\.0*//'
}

# Read replicas (dbms.mode=READ_REPLICA), numbered from 1, in $T/r<i>:
# replica_confs N [extra lines...] after cluster_confs (they discover the
# same cores), replica_start I, replica_kill I, replica_stop I.
REPLICA_BOLT=() REPLICA_HTTP=() REPLICA_TX=() REPLICA_PID=() REPLICA_BACKUP=()
replica_confs() {
	local n=$1 i
	shift
	for i in $(seq 1 "$n"); do
		mkdir -p "$T/r$i"
		claim_port; REPLICA_TX[$i]=$PORT
		write_conf "$T/r$i/graft.conf" "$T/r$i" \
			"dbms.mode=READ_REPLICA" \
			"dbms.security.auth_enabled=false" \
			"causal_clustering.initial_discovery_members=$CLUSTER_ENDPOINTS" \
			"causal_clustering.transaction_listen_address=127.0.0.1:${REPLICA_TX[$i]}" \
			"causal_clustering.transaction_advertised_address=127.0.0.1:${REPLICA_TX[$i]}" \
			"$@"
		REPLICA_BOLT[$i]=$BOLT_PORT
		REPLICA_HTTP[$i]=$HTTP_PORT
		REPLICA_BACKUP[$i]=$BACKUP_PORT
	done
}

# proxied_tx_ports after cluster_confs: each core advertises a transaction
# address of its own that is not its listener ($PROXY_PAIRS: "FROM:TO"
# for replicas.js proxy), so that a proxy can stand between it and the
# replicas.
proxied_tx_ports() {
	local i
	PROXY_PAIRS=()
	for i in $(seq 1 "$CORE_N"); do
		claim_port
		sed -i "s/^causal_clustering.transaction_advertised_address=.*/causal_clustering.transaction_advertised_address=127.0.0.1:$PORT/" "$T/c$i/graft.conf"
		PROXY_PAIRS+=("$PORT:${CORE_TX[$i]}")
	done
}

# store_stall_cluster [REPLICA_SETTING...]: one core (not started) whose
# transaction port is behind replicas.js store-stall (a store copy's first
# 1 MB forwarded, then nothing while $T/stall exists), checkpointing every
# 2 transactions and keeping no log it does not need, so that a replica
# soon needs a store copy; and one replica's config with those settings.
store_stall_cluster() {
	CORE_FORMATION=1 CORE_MIN_RUNTIME=2 cluster_confs 1 \
		"db.tx_log.rotation.size=128k" "db.checkpoint.interval.tx=2" \
		"dbms.cluster.catchup.departed_hold=0" \
		"db.tx_log.rotation.retention_policy=false" "db.tx_log.preallocate=false"
	proxied_tx_ports
	replica_confs 1 "db.cluster.catchup.pull_interval=200ms" "$@"
	node "$GRAFT_SRC_DIR/cluster-tests/js/replicas.js" store-stall "$T/stall" "${PROXY_PAIRS[@]}" >"$T/proxy.out" 2>&1 &
	PIDS+=("$!")
	wait_until "the proxy listening" grep -q ready "$T/proxy.out"
}

# start_cores: every core of cluster_confs, then wait_cluster.
start_cores() {
	local i
	for i in $(seq 1 "$CORE_N"); do core_start "$i"; done
	wait_cluster
}

# replica_holds I TAG N: replica I holds N (:W {tag: TAG}) nodes.
replica_holds() { [ "$(replica_node "$1" keys "$2" | wc -l)" = "$3" ]; }
# replica_holds_keys I TAG N: replica I holds the N keys of TAG (with
# leader_write: a key written twice counts once).
replica_holds_keys() { [ "$(replica_node "$1" keys "$2" | sort -u | wc -l)" = "$3" ]; }

# leader_write TAG N: cluster.js write TAG N on whichever core leads. A
# loaded machine may elect another leader meanwhile (NotALeader): the
# writes are made again on the new one.
leader_write_once() { find_leader && core_node "$LEADER" write "$1" "$2" >/dev/null; }
leader_write() { wait_until "$1 writes acknowledged by a leader" leader_write_once "$1" "$2"; }

replica_start() {
	member_start "replica $1" "$T/r$1" "${REPLICA_BOLT[$1]}"
	REPLICA_PID[$1]=$MEMBER_PID
}

replica_kill() {
	kill -KILL "${REPLICA_PID[$1]}"
	wait "${REPLICA_PID[$1]}" 2>/dev/null || true
	REPLICA_PID[$1]=
}

replica_stop() {
	kill -TERM "${REPLICA_PID[$1]}"
	wait_exit "${REPLICA_PID[$1]}" "$BUDGET" || fail "replica $1 did not stop cleanly: $(stop_report "$T/r$1/graftd.out")"
	REPLICA_PID[$1]=
}

# replica_node I ARGS...: cluster.js against replica I.
replica_node() {
	local i=$1
	shift
	BOLT_PORT=${REPLICA_BOLT[$i]} node "$GRAFT_SRC_DIR/cluster-tests/js/cluster.js" "$@"
}

replicas_js() { node "$GRAFT_SRC_DIR/cluster-tests/js/replicas.js" "$@"; }

# Soak: GRAFT_CLUSTER_SOAK=N repeats each suite's disruption N times (and
# lets writers run that much longer); make check runs one round.
SOAK_ROUNDS=${GRAFT_CLUSTER_SOAK:-1}

# nftables isolation. The rules live in a table of this test's own
# (inet graft_test_<pid>), which the exit trap always deletes.
NFT_TABLE=graft_test_$$
NFT_ACTIVE=

# nft_usable: nftables can be used here (root, nft installed, the kernel
# takes a table); otherwise NFT_WHY says why not.
nft_usable() {
	NFT_WHY=
	if ! command -v nft >/dev/null; then
		NFT_WHY="nft is not installed (tools/deps.sh installs nftables)"
	elif [ "$(id -u)" != 0 ]; then
		NFT_WHY="nftables needs root; the suite runs as $(id -un)"
	elif ! NFT_WHY=$(nft add table inet "$NFT_TABLE" 2>&1); then
		NFT_WHY="the kernel refused an nftables table: $NFT_WHY"
	else
		nft delete table inet "$NFT_TABLE"
		return 0
	fi
	return 1
}

nft_cleanup() {
	local rc=$?
	[ -z "$NFT_ACTIVE" ] || nft delete table inet "$NFT_TABLE" 2>/dev/null || true
	(exit $rc)
	cleanup
}

# nft_drop MATCH...: this test's own table, whose input chain drops the
# loopback packets each MATCH selects (nft words, e.g. "tcp dport { 1, 2 }");
# heal removes it, and the exit trap always does.
nft_drop() {
	local m
	trap nft_cleanup EXIT
	trap 'exit 143' TERM INT
	NFT_ACTIVE=1
	nft add table inet "$NFT_TABLE"
	nft add chain inet "$NFT_TABLE" input '{ type filter hook input priority 0; policy accept; }'
	for m in "$@"; do
		# shellcheck disable=SC2086 # nft takes the match as words
		nft add rule inet "$NFT_TABLE" input iif lo $m drop
	done
}

# isolate I: drops every packet to member I's Raft and discovery ports on
# loopback: it hears nobody (what it sends out goes on, as a member behind
# a one-way partition would; it cannot commit anything).
isolate() { nft_drop "tcp dport { ${CORE_RAFT[$1]}, ${CORE_DISC[$1]} }"; }

# heal: removes the isolation.
heal() {
	[ -z "$NFT_ACTIVE" ] || nft delete table inet "$NFT_TABLE"
	NFT_ACTIVE=
}

# core_keys I TAG: the keys of (:W {tag}) on member I, sorted, in $T/keys.I.
core_keys() { core_node "$1" keys "$2" >"$T/keys.$1"; }

# holds_acked I TAG ACKED: member I holds every key of file ACKED, each
# once.
holds_acked() {
	core_keys "$1" "$2" && [ -z "$(comm -23 "$3" "$T/keys.$1")" ] &&
		[ -z "$(uniq -d "$T/keys.$1")" ]
}

# same_digest: every live member gives the leader's digest of neo4j.
same_digest() {
	local i want
	want=$(core_node "$LEADER" digest neo4j) || return 1
	for i in $(seq 1 "$CORE_N"); do
		core_alive "$i" || continue
		[ "$(core_node "$i" digest neo4j 2>/dev/null)" = "$want" ] || return 1
	done
}

# retrying_start TAG CLIENTS: retrying writers (cluster.js retrying) into
# $T/acks.TAG until retrying_stop.
retrying_start() {
	export CORE_PORTS
	CORE_PORTS=$(IFS=,; echo "${CORE_BOLT[*]:1}")
	rm -f "$T/stop.$1"
	core_node_bg "$T/acks.$1" "$T/writers.$1.err" 1 retrying "$1" "$2" "$T/stop.$1"
	WRITERS=$BG_PID
}
retrying_stop() {
	touch "$T/stop.$1"
	wait "$WRITERS" || fail "the writers failed: $(cat "$T/writers.$1.err")"
	grep -v '^#' "$T/acks.$1" | sort >"$T/acked.$1"
	echo "$(wc -l <"$T/acked.$1") acknowledged, $(grep -c '^#' "$T/acks.$1" || true) failed"
}
# acked TAG N: at least N writes acknowledged so far.
acked() { [ "$(grep -vc '^#' "$T/acks.$1")" -ge "$2" ]; }
acked_count() { grep -vc '^#' "$T/acks.$1" || true; }

# cluster_up N: N cores configured (cluster_confs), started, formed, with a
# leader and its followers.
cluster_up() {
	local i
	cluster_confs "$1"
	for i in $(seq 1 "$1"); do core_start "$i"; done
	wait_cluster
}

# acked_everywhere TAG: every member holds every write acknowledged to the
# retrying writers of TAG ($T/acked.TAG), each once, and the members'
# graphs are identical.
acked_everywhere() {
	local i
	for i in $(seq 1 "$CORE_N"); do
		wait_until "core $i holding every acknowledged write once" holds_acked "$i" "$1" "$T/acked.$1"
	done
	wait_until "identical graphs on every member" same_digest
}
