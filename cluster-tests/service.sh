#!/usr/bin/env bash
# graftd and `graft` as a service: start/status/stop with LSB exit codes,
# pid file, logs, HTTP endpoints, the Bolt handshake, SIGTERM/SIGINT giving a
# clean exit 0, and a second server on the same data directory refused.
. "$(dirname "$0")/lib.sh"

conf=$T/graft.conf
# The endpoints themselves here; their authentication: http_auth.sh.
write_conf "$conf" "$T/home" "dbms.security.cluster_status_auth_enabled=false"
export GRAFT_CONF=$conf
bolt=$BOLT_PORT http=$HTTP_PORT # write_conf picks new ports on each call

step "status before start exits 3"
set +e; out=$("$GRAFT" status); rc=$?; set -e
[ $rc -eq 3 ] || fail "status exited $rc, want 3"
expect_in "$out" "not running" "status"

step "start daemonises and reports the pid"
out=$("$GRAFT" start)
expect_in "$out" "Started graft (pid" "start"
pid=$(cat "$T/home/run/graft.pid")
PIDS+=("$pid")
kill -0 "$pid" || fail "pid $pid from the pid file is not running"
out=$("$GRAFT" status) || fail "status of a running server exited non-zero"
expect_in "$out" "running at pid $pid" "status"
out=$("$GRAFT" start)
expect_in "$out" "already running" "second start"
env=$(tr '\0' '\n' <"/proc/$pid/environ")
expect_in "$env" "GLIBC_TUNABLES=glibc.malloc.hugetlb=1" "graftd's environment (huge pages for cheap checkpoint forks)"

step "databases system and neo4j exist from first start"
[ -d "$T/home/data/databases/system" ] || fail "no system database directory"
[ -d "$T/home/data/databases/neo4j" ] || fail "no neo4j database directory"
[ -d "$T/home/data/transactions/neo4j" ] || fail "no neo4j transaction log directory"

step "the server has an identity that health endpoints report"
id=$(cat "$T/home/data/dbms/server_id")
[[ $id =~ ^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$ ]] || fail "server_id is not a v4 UUID: $id"
expect_in "$(http_get "$http" /db/neo4j/cluster/status)" "\"memberId\": \"$id\"" "status endpoint"

step "a stopped server's pause is logged as Neo4j logs one and counted by the status endpoint"
kill -STOP "$pid"
sleep 0.5
kill -CONT "$pid"
paused() { grep -q "WARN  Detected VM stop-the-world pause: {pauseTime=" "$T/home/logs/graft.log"; }
wait_until "the pause in the log" paused
out=$(http_get "$http" /db/neo4j/cluster/status)
[[ $out =~ \"vmPauses\":\ ([0-9]+),\ \"vmPauseTimeMillis\":\ ([0-9]+),\ \"vmPauseMaxMillis\":\ ([0-9]+) ]] || fail "no pause figures in the status: $out"
[ "${BASH_REMATCH[1]}" -ge 1 ] && [ "${BASH_REMATCH[3]}" -ge 300 ] || fail "a 500 ms stop not counted: $out"

step "HTTP discovery and health endpoints"
out=$(http_get "$http" /)
expect_in "$out" "200 OK" "GET /"
expect_in "$out" "\"bolt_direct\": \"bolt://127.0.0.1:$bolt\"" "GET /"
expect_in "$out" "\"bolt_routing\": \"neo4j://127.0.0.1:$bolt\"" "GET /"
expect_in "$out" "\"db/cluster\": \"http://localhost/db/{databaseName}/cluster\"" "GET / links through the Host asked for"
expect_in "$out" "\"neo4j_edition\": \"community\"" "GET / edition"
out=$(http_get "$http" /db/neo4j/cluster/available)
expect_in "$out" "200 OK" "available"
out=$(http_get "$http" /db/nosuchdb/cluster/available)
expect_in "$out" "404" "available on a missing database"

step "Bolt handshake is answered with 5.4, garbage is closed"
exec 6<>"/dev/tcp/127.0.0.1/$bolt"
send 6 '\x60\x60\xb0\x17\x00\x04\x04\x05\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00'
reply=$(timeout "$BUDGET" head -c 4 <&6 | od -An -tx1 | tr -d ' \n')
exec 6>&-
[ "$reply" = "00000405" ] || fail "Bolt handshake answered '$reply', want 00000405 (5.4)"
exec 6<>"/dev/tcp/127.0.0.1/$bolt"
send 6 'GET / HTTP/1.1\r\n\r\n'
# closed either way: an end of stream, or a reset when the close leaves some
# of the garbage unread (cat then fails); only timeout's 124 means open
rc=0; timeout "$BUDGET" cat <&6 >/dev/null 2>&1 || rc=$?
[ "$rc" != 124 ] || fail "garbage on the Bolt port was not closed"
exec 6>&-
kill -0 "$pid" || fail "server died after garbage on the Bolt port"

step "a second graftd on the same data directory fails at once"
write_conf "$T/second.conf" "$T/home"
set +e; out=$(timeout "$BUDGET" "$GRAFTD" --config "$T/second.conf" 2>&1); rc=$?; set -e
[ $rc -eq 1 ] || fail "second graftd exited $rc, want 1: $out"
expect_in "$out" "is locked by another graftd (pid $pid" "second graftd"

step "a port already in use fails at once, naming the setting"
write_conf "$T/port.conf" "$T/other" "server.bolt.listen_address=127.0.0.1:$bolt"
set +e; out=$(timeout "$BUDGET" "$GRAFTD" --config "$T/port.conf" 2>&1); rc=$?; set -e
[ $rc -eq 1 ] || fail "graftd on a used port exited $rc, want 1: $out"
expect_in "$out" "cannot listen on 127.0.0.1:$bolt (server.bolt.listen_address)" "port in use"

step "a config typo does not take control away: status and stop use the pid file"
{ cat "$conf"; echo "server.bolt.listen_adress=:7687"; echo "db.tx_log.rotation.size=12Q"; } >"$T/typo.conf"
out=$(GRAFT_CONF=$T/typo.conf "$GRAFT" status 2>&1) || fail "status through a config with errors exited $?: $out"
expect_in "$out" "running at pid $pid" "status through a config with errors"
expect_in "$out" "listen_adress" "status names the error"
set +e; out=$(GRAFT_CONF=$T/typo.conf "$GRAFT" start 2>&1); rc=$?; set -e
[ $rc -eq 1 ] || fail "start on a config with errors exited $rc: $out"
kill -0 "$pid" || fail "a refused start stopped the server"

step "stop waits for a clean exit"
out=$(GRAFT_CONF=$T/typo.conf "$GRAFT" stop 2>&1)
expect_in "$out" "stopped" "stop through a config with errors"
kill -0 "$pid" 2>/dev/null && fail "pid $pid still alive after stop"
[ ! -e "$T/home/run/graft.pid" ] || fail "pid file left behind"
set +e; "$GRAFT" status >/dev/null; rc=$?; set -e
[ $rc -eq 3 ] || fail "status after stop exited $rc, want 3"
log=$(cat "$T/home/logs/graft.log")
expect_in "$log" "INFO  Started." "graft.log"
expect_in "$log" "INFO  Stopped." "graft.log"
out=$("$GRAFT" stop)
expect_in "$out" "not running" "stop when stopped"

step "console: SIGINT and SIGTERM both give a clean exit 0; graftd started directly runs with the heap's huge pages, an operator's own setting kept"
for sig in INT TERM; do
	if [ "$sig" = INT ]; then
		env -u GLIBC_TUNABLES "$GRAFTD" --config "$conf" >"$T/console.out" 2>&1 &
		want="GLIBC_TUNABLES=glibc.malloc.hugetlb=1"
	else
		GLIBC_TUNABLES=glibc.malloc.hugetlb=0 "$GRAFTD" --config "$conf" >"$T/console.out" 2>&1 &
		want="GLIBC_TUNABLES=glibc.malloc.hugetlb=0"
	fi
	cpid=$!
	PIDS+=("$cpid")
	wait_until "console ready" started "$T/console.out" "$cpid"
	[ "$(tr '\0' '\n' <"/proc/$cpid/environ" | grep '^GLIBC_TUNABLES=')" = "$want" ] ||
		fail "graftd's environment: $(tr '\0' '\n' <"/proc/$cpid/environ" | grep '^GLIBC_TUNABLES=' || echo no GLIBC_TUNABLES), want $want"
	kill -"$sig" "$cpid"
	set +e; wait_exit "$cpid" "$BUDGET"; rc=$?; set -e
	[ $rc -eq 0 ] || fail "graftd exited $rc on SIG$sig: $(cat "$T/console.out")"
	expect_in "$(cat "$T/console.out")" "Received SIG$sig" "console output"
done

step "restart after a clean stop recovers the databases"
"$GRAFT" start >/dev/null
PIDS+=("$(cat "$T/home/run/graft.pid")")
"$GRAFT" restart >/dev/null
PIDS+=("$(cat "$T/home/run/graft.pid")")
"$GRAFT" status >/dev/null || fail "not running after restart"
"$GRAFT" stop >/dev/null
[ "$(cat "$T/home/data/dbms/server_id")" = "$id" ] || fail "the server id changed across restarts"

step "a damaged server id stops startup, naming the file"
echo "not-a-uuid" >"$T/home/data/dbms/server_id"
set +e; out=$(timeout "$BUDGET" "$GRAFTD" --config "$conf" 2>&1); rc=$?; set -e
[ $rc -eq 1 ] || fail "graftd with a damaged server_id exited $rc: $out"
expect_in "$out" "$T/home/data/dbms/server_id does not hold a server id" "damaged server id"
echo "PASS"
