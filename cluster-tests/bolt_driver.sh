#!/usr/bin/env bash
# The Bolt server end to end with the official JavaScript driver, auth off
# (cluster-tests/bolt_driver.js), then garbage, half handshakes and stalled
# connections on the port: the server stays up and serves the next client.
. "$(dirname "$0")/lib.sh"
command -v node >/dev/null || fail "node is missing: run tools/deps.sh"

write_conf "$T/graft.conf" "$T/home" "dbms.security.auth_enabled=false"
export BOLT_PORT GRAFT_SRC_DIR

step "driver suite"
start_graftd "$T/graft.conf" "$BOLT_PORT" "$T/graftd.out"
node "$GRAFT_SRC_DIR/cluster-tests/bolt_driver.js" ||
	fail "bolt_driver.js failed; server log: $(tail -20 "$T/home/logs/graft.log" 2>/dev/null)"

step "garbage and a half handshake do not harm the server"
exec 3<>"/dev/tcp/127.0.0.1/$BOLT_PORT"
send 3 'GET / HTTP/1.1\r\nHost: x\r\n\r\n'
reply=$(read_to_close 3 | od -An -tx1 | tr -d ' \n') || fail "garbage: connection not closed"
[ -z "$reply" ] || fail "garbage got a reply: $reply"
# writing on after the server closed: EPIPE, not SIGPIPE killing this script
for i in 1 2 3; do send 3 'more garbage after the close\r\n'; sleep 0.1; done
exec 3>&-
exec 3<>"/dev/tcp/127.0.0.1/$BOLT_PORT"
send 3 '\x60\x60\xb0\x17\x00\x00'
exec 3>&-
exec 3<>"/dev/tcp/127.0.0.1/$BOLT_PORT"
send 3 '\x60\x60\xb0\x17\x00\x00\x00\x03\x00\x00\x01\x04\x00\x00\x00\x00\x00\x00\x00\x00'
reply=$(read_to_close 3 | od -An -tx1 | tr -d ' \n') || fail "no common version: not closed"
[ "$reply" = "00000000" ] || fail "no common version: got '$reply', expected 00000000"
exec 3>&-
step "200 stalled connections (half a handshake, or a request never finished) do not block a client"
node -e "
const net = require('net')
const socks = []
for (let i = 0; i < 200; i++) {
  const s = net.connect($BOLT_PORT, '127.0.0.1')
  s.on('error', () => {})
  s.write(i % 2 ? Buffer.from([0x60, 0x60]) : Buffer.from([0x60, 0x60, 0xb0, 0x17, 0, 0, 4, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0xb1]))
  socks.push(s)
}
setTimeout(() => {
  const { neo4j } = require('$GRAFT_SRC_DIR/cluster-tests/js/lib.js')
  const d = neo4j.driver('bolt://127.0.0.1:$BOLT_PORT', neo4j.auth.basic('neo4j', 'x'))
  const t = Date.now()
  d.executeQuery('RETURN 1 AS x').then((r) => {
    if (r.records[0].get('x').toNumber() !== 1 || Date.now() - t > 8000) process.exit(1) // under the 10 s handshake timeout
    socks.forEach((s) => s.destroy())
    return d.close()
  }).catch((e) => { console.error(e); process.exit(1) })
}, 500)
" || fail "a client waited behind stalled connections"
kill -0 "$GRAFTD_PID" || fail "graftd died: $(cat "$T/graftd.out")"
node -e "
const { neo4j } = require('$GRAFT_SRC_DIR/cluster-tests/js/lib.js')
const d = neo4j.driver('bolt://127.0.0.1:$BOLT_PORT', neo4j.auth.basic('neo4j', 'x'))
d.executeQuery('RETURN 1 AS x').then((r) => {
  if (r.records[0].get('x').toNumber() !== 1) process.exit(1)
  return d.close()
}).catch((e) => { console.error(e); process.exit(1) })
" || fail "the server did not serve a client after the garbage"

stop_graftd "$T/graftd.out"
echo "bolt_driver: ok"
