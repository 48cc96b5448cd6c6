#!/usr/bin/env bash
# Statements off the event loop (issue 13): a long query does not stop other
# sessions' reads; TERMINATE TRANSACTION, RESET, the transaction timeout and
# a client's disconnect stop it (cluster-tests/js/long_query.js); SIGTERM
# during one stops the server cleanly with every acknowledged commit kept.
. "$(dirname "$0")/lib.sh"
command -v node >/dev/null || fail "node is missing: run tools/deps.sh"

write_conf "$T/graft.conf" "$T/home" "dbms.security.auth_enabled=false" \
	"server.threads.worker_count=2"
export BOLT_PORT GRAFT_SRC_DIR

step "long queries beside short ones, stopped every way"
start_graftd "$T/graft.conf" "$BOLT_PORT" "$T/graftd.out"
node "$GRAFT_SRC_DIR/cluster-tests/js/long_query.js" ||
	fail "long_query.js failed; server log: $(tail -20 "$T/home/logs/graft.log" 2>/dev/null)"

step "SIGTERM during a long query: a clean stop, nothing acknowledged lost"
node -e "
const { run } = require('$GRAFT_SRC_DIR/cluster-tests/js/lib.js')
run('neo4j', 'x', 'UNWIND range(1, 100) AS i CREATE (:Kept {i: i})')
  .then(() => process.exit(0), (e) => { console.error(e); process.exit(1) })
" || fail "the commit before the long query failed"
node -e "
const { driver } = require('$GRAFT_SRC_DIR/cluster-tests/js/lib.js')
driver('neo4j', 'x').session().run('UNWIND range(1, 100000) AS a UNWIND range(1, 100000) AS b RETURN count(*)')
  .then(() => process.exit(0), () => process.exit(0))
" >"$T/long.out" 2>&1 &
PIDS+=($!)
long_running() {
	node -e "
const { run } = require('$GRAFT_SRC_DIR/cluster-tests/js/lib.js')
run('neo4j', 'x', 'SHOW TRANSACTIONS YIELD currentQuery RETURN collect(currentQuery) AS q')
  .then((r) => process.exit(r.records[0].get('q').some((q) => q.startsWith('UNWIND range(1, 100000)')) ? 0 : 1),
        () => process.exit(1))
"
}
wait_until "the long query running" long_running
stop_graftd "$T/graftd.out"
start_graftd "$T/graft.conf" "$BOLT_PORT" "$T/graftd2.out"
node -e "
const { run, num } = require('$GRAFT_SRC_DIR/cluster-tests/js/lib.js')
run('neo4j', 'x', 'MATCH (n:Kept) RETURN count(n) AS c')
  .then((r) => process.exit(num(r.records[0].get('c')) === 100 ? 0 : 1), (e) => { console.error(e); process.exit(1) })
" || fail "the 100 nodes committed before SIGTERM are not all there after the restart"
stop_graftd "$T/graftd2.out"
echo "PASS"
