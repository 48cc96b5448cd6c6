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

cleanup() {
	local rc=$?
	for p in "${PIDS[@]:-}"; do
		[ -n "$p" ] && kill -9 "$p" 2>/dev/null || true
	done
	if [ $rc -eq 0 ]; then rm -rf "$T"; else echo "kept $T for diagnosis" >&2; fi
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "--- $*"; }

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 40000))
		port_free "$p" && { echo "$p"; return; }
	done
}

# write_conf FILE HOME [extra lines...]: a config on fresh loopback ports.
write_conf() {
	local f=$1 home=$2
	shift 2
	BOLT_PORT=$(free_port)
	HTTP_PORT=$(free_port)
	BACKUP_PORT=$(free_port)
	{
		echo "server.directories.neo4j_home=$home"
		echo "server.bolt.listen_address=127.0.0.1:$BOLT_PORT"
		echo "server.bolt.advertised_address=127.0.0.1:$BOLT_PORT"
		echo "server.http.listen_address=127.0.0.1:$HTTP_PORT"
		echo "server.backup.listen_address=127.0.0.1:$BACKUP_PORT"
		for l in "$@"; do echo "$l"; done
	} >"$f"
}

wait_port() {
	local port=$1 i
	for i in $(seq 1 300); do
		port_free "$port" || return 0
		sleep 0.1
	done
	fail "nothing listens on port $port after 30 s"
}

# http_get PORT PATH: prints the whole response.
http_get() {
	exec 5<>"/dev/tcp/127.0.0.1/$1"
	printf 'GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n' "$2" >&5
	cat <&5
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

# start_graftd CONF PORT OUT: starts graftd in the background on CONF,
# waits until it listens on PORT; sets $GRAFTD_PID.
start_graftd() {
	"$GRAFTD" --config "$1" >"$3" 2>&1 &
	GRAFTD_PID=$!
	PIDS+=("$GRAFTD_PID")
	wait_port "$2"
}

# stop_graftd OUT: SIGTERM, and a clean exit 0 within 60 s.
stop_graftd() {
	kill -TERM "$GRAFTD_PID"
	wait_exit "$GRAFTD_PID" 60 || fail "graftd did not stop cleanly: $(cat "$1")"
}
