#!/usr/bin/env bash
# A read replica keeps answering while it installs a store copy of some MB:
# the copied checkpoint is loaded once, on a worker thread, verified as it
# loads, and that graph is the one the database serves; the event loop only
# applies the few records after the checkpoint and switches the database
# in. It used to load the checkpoint a second time on the loop (dbms_replace
# -> db_open), a stall as long as the load itself during which the replica
# answered nothing. The replica logs both durations; the loop's hold must be
# a small part of the load, and its HTTP port answers throughout (the
# slowest answer is printed beside the load).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"
command -v curl >/dev/null || fail "curl is missing: run tools/deps.sh"

# One core (a primary and its replica), pruning its log after every few
# transactions, so that an empty replica must copy the store.
CORE_FORMATION=1 CORE_MIN_RUNTIME=2 cluster_confs 1 \
	"db.tx_log.rotation.size=128k" "db.checkpoint.interval.tx=2" \
	"dbms.cluster.catchup.departed_hold=0" \
	"db.tx_log.rotation.retention_policy=false" "db.tx_log.preallocate=false"
replica_confs 1 "db.cluster.catchup.pull_interval=200ms"
core_start 1
wait_leader

step "a store of some MB on the core, its log pruned"
replicas_js bulk "${CORE_BOLT[1]}" big 5000 10
pruned() { [ "$(core_oldest_log 1)" -gt 2 ]; }
wait_until "the core's log starting after transaction 2" pruned

step "an empty replica copies the store, answering HTTP meanwhile"
replica_start 1
log=$T/r1/graftd.out
installed() { grep -q "store copy of neo4j: .* loaded and verified off the loop" "$log"; }
probes=$T/probes
: >"$probes"
# Each probe waits at most 10 s: a loop held for the whole load shows as
# a slow answer, not a lost one.
deadline=$((SECONDS + BUDGET))
until installed; do
	[ $SECONDS -lt $deadline ] || fail "no store copy installed after $BUDGET s: $(tail -20 "$log")"
	curl -s -m 10 -o /dev/null -w '%{http_code} %{time_total}\n' "http://127.0.0.1:${REPLICA_HTTP[1]}/" >>"$probes" || true
	kill -0 "${REPLICA_PID[1]}" || fail "replica 1 exited: $(tail -20 "$log")"
	sleep 0.02
done
line=$(grep "store copy of neo4j: .* loaded and verified off the loop" "$log" | tail -1)
echo "$line"
load=$(sed 's/.* off the loop in \([0-9.]*\) s.*/\1/' <<<"$line")
hold=$(sed 's/.* the loop held \([0-9.]*\) s.*/\1/' <<<"$line")
slowest=$(awk '{ if ($2 > m) m = $2 } END { printf "%.3f", m }' "$probes")
echo "load $load s on a worker, loop held $hold s; $(wc -l <"$probes") HTTP probes, slowest $slowest s"
awk -v l="$load" 'BEGIN { exit !(l > 0) }' || fail "no load time in: $line"
awk -v l="$load" -v h="$hold" 'BEGIN { exit !(h < l / 4) }' ||
	fail "the loop was held $hold s of a $load s load: the checkpoint was loaded on the loop"
grep -q "^200 " "$probes" || fail "the replica's HTTP never answered during the copy: $(sort -k2 -n "$probes" | tail -3)"

step "the replica serves exactly the core's graph"
lead=$(replicas_js digest "${CORE_BOLT[1]}")
same() { [ "$(replicas_js digest "${REPLICA_BOLT[1]}")" = "$lead" ]; }
wait_until "replica 1 holding exactly the core's graph" same
[ "$(replicas_js count "${REPLICA_BOLT[1]}" big)" = 50000 ] || fail "replica 1 misses bulk writes"
replica_stop 1
core_stop 1
