#!/usr/bin/env bash
# Auto-commit writes on the event loop (issue 14: no worker hand-over for a
# small write): results, counters, errors, conflicts and DISCARD of the
# statements run there, and a statement that outruns the loop's budget
# going back to a worker (cluster-tests/js/statements_on_loop.js); the
# loop's longest pause meanwhile is logged, and every write checked.
. "$(dirname "$0")/lib.sh"
command -v node >/dev/null || fail "node is missing: run tools/deps.sh"

write_conf "$T/graft.conf" "$T/home" "dbms.security.auth_enabled=false" \
	"server.threads.worker_count=2" \
	"server.vm_pause_monitor.measurement_duration=10ms" \
	"server.vm_pause_monitor.stall_alert_threshold=50ms"
export BOLT_PORT GRAFT_SRC_DIR

step "writes on the loop and one sent back to a worker, with the driver"
start_graftd "$T/graft.conf" "$BOLT_PORT" "$T/graftd.out"
node "$GRAFT_SRC_DIR/cluster-tests/js/statements_on_loop.js" ||
	fail "statements_on_loop.js failed; server log: $(tail -20 "$T/home/logs/graft.log" 2>/dev/null)"
echo "  the loop's pauses of 50 ms or more: $(grep -o 'pauseTime=[0-9]*' "$T/home/logs/graft.log" | cut -d= -f2 | sort -rn | head -5 | tr '\n' ' ')"

kill -0 "$GRAFTD_PID" || fail "graftd died: $(cat "$T/graftd.out")"
stop_graftd "$T/graftd.out"
echo "statements_on_loop: ok"
