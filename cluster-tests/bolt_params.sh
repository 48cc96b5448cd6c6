#!/usr/bin/env bash
# Parameters of results streamed in several PULLs: the official JavaScript
# driver with a fetch size of 2 over bolt:// and neo4j://, many sessions at
# once, and one big transaction whose nodes share a value seeking its own
# writes (cluster-tests/js/params.js); then graft-shell with -P.
. "$(dirname "$0")/lib.sh"
command -v node >/dev/null || fail "node is missing: run tools/deps.sh"

write_conf "$T/graft.conf" "$T/home" "dbms.security.auth_enabled=false"
export BOLT_PORT GRAFT_SRC_DIR

step "driver: multi-row results with parameters, fetch size 2, concurrent sessions"
start_graftd "$T/graft.conf" "$BOLT_PORT" "$T/graftd.out"
node "$GRAFT_SRC_DIR/cluster-tests/js/params.js" ||
	fail "params.js failed; server log: $(tail -20 "$T/home/logs/graft.log" 2>/dev/null)"

for scheme in bolt neo4j; do
	step "graft-shell -P over $scheme://: every row sees the parameters"
	out=$("$GRAFT_SHELL" -a "$scheme://127.0.0.1:$BOLT_PORT" -P 'x => 1' -P "s => 'p-'" \
		-P 'm => {k: [10, 20]}' 'UNWIND range(1, 2500) AS i RETURN i + $x AS v, $s + toString(i) AS s, $m.k[1] AS k' 2>&1) ||
		fail "graft-shell -P failed: $(tail -3 <<<"$out")"
	[ "$(wc -l <<<"$out")" -eq 2501 ] || fail "graft-shell -P: $(wc -l <<<"$out") lines, expected 2501"
	[ "$(sed -n 2p <<<"$out")" = '2, "p-1", 20' ] || fail "first row: $(sed -n 2p <<<"$out")"
	[ "$(tail -1 <<<"$out")" = '2501, "p-2500", 20' ] || fail "last row: $(tail -1 <<<"$out")"
done

kill -0 "$GRAFTD_PID" || fail "graftd died: $(cat "$T/graftd.out")"
stop_graftd "$T/graftd.out"
echo "bolt_params: ok"
