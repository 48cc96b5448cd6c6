#!/usr/bin/env bash
# libuv's thread pool (log fsyncs, checkpoints, password hashing, backups,
# big applies off the event loop, libraft's file work) is sized by
# server.threads.blocking_pool_size before libuv first starts it: a server
# given 9 threads and one given 17 differ by 8 threads once each has
# committed (the pool starts with its first blocking work), and each logs
# its size; with 0, UV_THREADPOOL_SIZE from the environment is taken, and
# without it one per core plus 4, at least 8 (not libuv's 4).
. "$(dirname "$0")/lib.sh"
command -v node >/dev/null || fail "node is missing: run tools/deps.sh"
export BOLT_PORT GRAFT_SRC_DIR

# started_with NAME [SETTING...]: a server on its own home, after one
# commit; its thread count in THREADS, its log in $T/NAME.out.
started_with() {
	local name=$1
	shift
	write_conf "$T/$name.conf" "$T/$name" "dbms.security.auth_enabled=false" \
		"server.threads.worker_count=2" "$@"
	start_graftd "$T/$name.conf" "$BOLT_PORT" "$T/$name.out"
	node -e "
const { run } = require('$GRAFT_SRC_DIR/cluster-tests/js/lib.js')
run('neo4j', 'x', 'CREATE (:Pool)').then(() => process.exit(0), (e) => { console.error(e); process.exit(1) })
" || fail "a commit on $name: $(tail -5 "$T/$name.out")"
	sleep 0.5
	THREADS=$(find "/proc/$GRAFTD_PID/task" -mindepth 1 -maxdepth 1 | wc -l)
}

pool_logged() { grep -o "[0-9]* threads in libuv's pool" "$T/$1.out" | grep -o '^[0-9]*'; }

step "the setting sizes the pool"
started_with p9 "server.threads.blocking_pool_size=9"
n9=$THREADS
[ "$(pool_logged p9)" = 9 ] || fail "logged: $(grep "libuv's pool" "$T/p9.out")"
stop_graftd "$T/p9.out"
started_with p17 "server.threads.blocking_pool_size=17"
n17=$THREADS
[ "$(pool_logged p17)" = 17 ] || fail "logged: $(grep "libuv's pool" "$T/p17.out")"
stop_graftd "$T/p17.out"
[ $((n17 - n9)) = 8 ] || fail "9 pool threads gave $n9 threads in all, 17 gave $n17: the setting did not size libuv's pool"
echo "threads in all: $n9 with a pool of 9, $n17 with 17"

step "0: the environment's UV_THREADPOOL_SIZE, else one per core plus 4, at least 8"
UV_THREADPOOL_SIZE=11 started_with env11
[ "$(pool_logged env11)" = 11 ] || fail "UV_THREADPOOL_SIZE=11 gave: $(grep "libuv's pool" "$T/env11.out")"
stop_graftd "$T/env11.out"
started_with default
want=$(($(getconf _NPROCESSORS_ONLN) + 4))
[ "$want" -ge 8 ] || want=8
[ "$(pool_logged default)" = "$want" ] || fail "the default: $(grep "libuv's pool" "$T/default.out"), expected $want"
stop_graftd "$T/default.out"

echo "PASS"
