# Shared by the cluster-tests suites: real processes, real files, loopback
# ports. Each suite sources this, gets a fresh directory in $T (on the build
# disk, not tmpfs) and helpers; everything it started is killed at exit.
set -euo pipefail
B=${GRAFT_BUILD_DIR:?run through make check, or set GRAFT_BUILD_DIR}
GRAFTD=$B/graftd
GRAFT=$B/graft
GRAFT_ADMIN=$B/graft-admin
GRAFT_SHELL=$B/graft-shell
LOAD=$B/cluster-tests/graft-load
mkdir -p "$B/cluster-tests/tmp"
T=$(mktemp -d "$B/cluster-tests/tmp/$(basename "$0" .sh).XXXXXX")
PIDS=()
PORTS_DIR=$B/cluster-tests/tmp/ports
CLAIMED=()

cleanup() {
	local rc=$?
	for p in "${PIDS[@]:-}"; do
		[ -n "$p" ] && kill -9 "$p" 2>/dev/null || true
	done
	for p in "${CLAIMED[@]:-}"; do
		[ -n "$p" ] && rmdir "$PORTS_DIR/$p" 2>/dev/null || true
	done
	if [ $rc -eq 0 ]; then rm -rf "$T"; else echo "kept $T for diagnosis" >&2; fi
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "--- $*"; }

# Every wait on another process (a server starting or stopping, a load
# producing, a reply arriving) has this budget in seconds: it must hold on a
# loaded 2-core machine running the ASan build, where a start can take tens
# of seconds. A wait ends as soon as its condition holds, so a large budget
# costs nothing when all is well.
BUDGET=${GRAFT_TEST_BUDGET:-120}

# wait_until WHAT CMD...: runs CMD every 0.1 s until it succeeds; fails
# naming WHAT after $BUDGET s.
wait_until() {
	local what=$1 deadline=$((SECONDS + BUDGET))
	shift
	until "$@"; do
		[ $SECONDS -lt $deadline ] || fail "$what: not after $BUDGET s"
		sleep 0.1
	done
}

# send FD TEXT: printf TEXT to an open socket. The peer may have closed it
# already (that is often what a test provokes): the write then fails with
# EPIPE instead of killing the script with SIGPIPE (exit 141), and the
# test's assertions on the reply decide.
send() {
	(
		trap '' PIPE
		printf "$2" >&"$1"
	) 2>/dev/null || true
}

# read_to_close FD: prints what arrives on FD until the peer closes it. A
# reset counts as closed: a server closing a socket with input still unread
# (garbage it refused after reading its first bytes) resets it rather than
# ending it, as the kernel must. Fails only when $BUDGET s pass first.
read_to_close() {
	local rc=0
	timeout "$BUDGET" cat <&"$1" 2>/dev/null || rc=$?
	[ "$rc" -ne 124 ]
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# claim_port: a loopback port nobody listens on, below the kernel's ephemeral
# range (an outgoing connection of any process may take a port inside it
# between our check and the server's bind), and claimed with an atomic mkdir
# so that suites running side by side (make -j) never pick the same one. The
# claim is dropped at exit. The port is left in $PORT; call it in the shell
# itself, not in $(...), so that the claim is recorded in this shell.
EPHEMERAL_LOW=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
mkdir -p "$PORTS_DIR"
claim_port() {
	local p
	while :; do
		p=$((10000 + RANDOM % (EPHEMERAL_LOW - 10000)))
		port_free "$p" || continue
		mkdir "$PORTS_DIR/$p" 2>/dev/null || continue
		CLAIMED+=("$p")
		PORT=$p
		return
	done
}

# write_conf FILE HOME [extra lines...]: a config on fresh loopback ports.
write_conf() {
	local f=$1 home=$2
	shift 2
	claim_port; BOLT_PORT=$PORT
	claim_port; HTTP_PORT=$PORT
	claim_port; BACKUP_PORT=$PORT
	claim_port; ROUTING_PORT=$PORT
	{
		echo "server.directories.neo4j_home=$home"
		echo "server.bolt.listen_address=127.0.0.1:$BOLT_PORT"
		echo "server.bolt.advertised_address=127.0.0.1:$BOLT_PORT"
		echo "server.http.listen_address=127.0.0.1:$HTTP_PORT"
		echo "server.backup.listen_address=127.0.0.1:$BACKUP_PORT"
		echo "server.routing.listen_address=127.0.0.1:$ROUTING_PORT"
		echo "server.routing.advertised_address=127.0.0.1:$ROUTING_PORT"
		for l in "$@"; do echo "$l"; done
	} >"$f"
}

# wait_port PORT [PID]: until something listens on PORT; with PID, fails
# at once when that process exits first.
wait_port() {
	local port=$1 pid=${2:-} deadline=$((SECONDS + BUDGET))
	while port_free "$port"; do
		[ -z "$pid" ] || kill -0 "$pid" 2>/dev/null ||
			fail "pid $pid exited before listening on port $port"
		[ $SECONDS -lt $deadline ] || fail "nothing listens on port $port after $BUDGET s"
		sleep 0.1
	done
}

# http_get PORT PATH: prints the whole response.
http_get() {
	exec 5<>"/dev/tcp/127.0.0.1/$1"
	send 5 "GET $2 HTTP/1.1\r\nHost: localhost\r\n\r\n"
	timeout "$BUDGET" cat <&5
	exec 5>&-
}

# http_get_auth PORT PATH USER:PASSWORD: the same with HTTP Basic auth.
http_get_auth() {
	exec 5<>"/dev/tcp/127.0.0.1/$1"
	send 5 "GET $2 HTTP/1.1\r\nHost: localhost\r\nAuthorization: Basic $(printf '%s' "$3" | base64 -w0)\r\n\r\n"
	timeout "$BUDGET" cat <&5
	exec 5>&-
}

# expect_in TEXT PATTERN WHAT: fails unless the fixed string is in TEXT.
expect_in() {
	grep -qF -- "$2" <<<"$1" || fail "$3: expected '$2' in: $1"
}

# wait_exit PID SECONDS: waits for a child, prints its exit status.
wait_exit() {
	local pid=$1 limit=$2 i
	for i in $(seq 1 $((limit * 10))); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && fail "pid $pid still running after $limit s"
	wait "$pid"
}

# flip_byte FILE: changes the byte in the middle of FILE (adds one to it).
flip_byte() {
	local f=$1 off byte
	off=$(($(stat -c %s "$f") / 2))
	byte=$(od -An -tu1 -j "$off" -N1 "$f" | tr -d ' ')
	printf "$(printf '\\%03o' $(((byte + 1) % 256)))" |
		dd of="$f" bs=1 seek="$off" conv=notrunc status=none
}

# started OUT PID: graftd logged that it is ready (every port listening, the
# pid file written); fails at once when PID is gone.
started() {
	kill -0 "$2" 2>/dev/null || fail "graftd (pid $2) exited while starting: $(cat "$1")"
	grep -q "INFO  Started\.$" "$1"
}

# start_graftd CONF PORT OUT: starts graftd in the background on CONF and
# waits until it is ready: its "Started." line, and PORT listening; sets
# $GRAFTD_PID.
start_graftd() {
	"$GRAFTD" --config "$1" >"$3" 2>&1 &
	GRAFTD_PID=$!
	PIDS+=("$GRAFTD_PID")
	wait_until "graftd on $1 ready (log: $3)" started "$3" "$GRAFTD_PID"
	wait_port "$2" "$GRAFTD_PID"
}

# stop_report OUT: what a failed stop shows of a server's output: a
# sanitizer's report from its first line (its tail is only the legend),
# else the last 20 lines.
stop_report() {
	if grep -q "ERROR: [A-Za-z]*Sanitizer" "$1"; then
		grep -A40 "ERROR: [A-Za-z]*Sanitizer" "$1" | head -40
	else
		tail -20 "$1"
	fi
}

# stop_graftd OUT: SIGTERM, and a clean exit 0 within the budget.
stop_graftd() {
	kill -TERM "$GRAFTD_PID"
	wait_exit "$GRAFTD_PID" "$BUDGET" || fail "graftd did not stop cleanly: $(stop_report "$1")"
}

# load_then_kill9 CONF ACKS MIN [graft-load write options...]: runs graft-load
# write on CONF, printing acknowledgements to ACKS, until MIN are
# acknowledged (within the budget), then kills it with SIGKILL, so that the
# log holds everything since the last checkpoint and ends as a crash left it.
load_then_kill9() {
	local conf=$1 acks=$2 min=$3 pid
	shift 3
	"$LOAD" write --config "$conf" "$@" >"$acks" 2>"$T/load.err" &
	pid=$!
	PIDS+=("$pid")
	acked() {
		kill -0 "$pid" 2>/dev/null || fail "the load died: $(cat "$T/load.err")"
		[ "$(wc -l <"$acks")" -ge "$min" ]
	}
	wait_until "$min acknowledged transactions" acked
	kill -9 "$pid"
	wait "$pid" 2>/dev/null || true
	[ "$(wc -l <"$acks")" -ge "$min" ] || fail "load produced too little: $(cat "$T/load.err")"
}

# start_shell_server PASSWORD: a fresh graftd whose neo4j user has PASSWORD,
# and sh_ ARGS... running graft-shell against it as neo4j ($A: its address).
start_shell_server() {
	SHELL_PASSWORD=$1
	write_conf "$T/graft.conf" "$T/home"
	"$GRAFT_ADMIN" --config "$T/graft.conf" dbms set-initial-password "$SHELL_PASSWORD" >/dev/null
	start_graftd "$T/graft.conf" "$BOLT_PORT" "$T/graftd.out"
	A="bolt://127.0.0.1:$BOLT_PORT"
}
sh_() { "$GRAFT_SHELL" -a "$A" -u neo4j -p "$SHELL_PASSWORD" "$@"; }
