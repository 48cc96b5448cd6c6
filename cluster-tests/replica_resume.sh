#!/usr/bin/env bash
# A read replica stopped for a short while resumes from the log, not a
# store copy, even though the cores checkpoint every few transactions and
# keep no log beyond what recovery needs: its upstream keeps the log from
# the replica's last reported position after its stream closed
# (dbms.cluster.catchup.departed_hold), while the other cores prune theirs.
# The replica, refused by the cores that pruned, finds the one that kept it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"
command -v node >/dev/null || fail "node is missing: run tools/deps.sh"
export GRAFT_SRC_DIR

cluster_confs 3 "db.tx_log.rotation.size=128k" "db.checkpoint.interval.tx=2" \
	"db.tx_log.rotation.retention_policy=false" "db.tx_log.preallocate=false" \
	"dbms.cluster.catchup.departed_hold=10m"
replica_confs 1 "db.cluster.catchup.pull_interval=200ms"
start_cores

step "the replica follows, then stops"
replica_start 1
core_node "$LEADER" write a 5 >/dev/null
wait_until "the replica holding the 5 writes" replica_holds 1 a 5
reported() { http_get "${CORE_HTTP[$1]}" /db/neo4j/cluster/status | grep -q '"replicationLagTxs": 0, "millisSinceReport"'; }
up=
upstream() { for i in 1 2 3; do reported "$i" && up=$i && return 0; done; return 1; }
wait_until "the replica's position reported to its upstream" upstream
last_tx() { http_get "$1" /db/neo4j/cluster/status | grep -o '"lastCommittedTxId": [0-9]*' | head -1 | grep -o '[0-9]*$'; }
stopped_at=$(last_tx "${REPLICA_HTTP[1]}")
replica_stop 1

step "the other cores prune their logs past the replica; its upstream keeps it"
replicas_js bulk "${CORE_BOLT[$LEADER]}" big 600 12
others_pruned() { local i; for i in 1 2 3; do [ "$i" = "$up" ] || [ "$(core_oldest_log "$i")" -gt 8 ] || return 1; done; }
wait_until "the other cores' logs starting after transaction 8" others_pruned
[ "$(core_oldest_log "$up")" -le 8 ] || fail "core $up pruned the log the departed replica needs (oldest $(core_oldest_log "$up"))"

step "the replica restarts and resumes from the log"
replica_start 1
lead=$(replicas_js digest "${CORE_BOLT[$LEADER]}")
same() { [ "$(replicas_js digest "${REPLICA_BOLT[1]}")" = "$lead" ]; }
wait_until "the replica holding exactly the leader's graph" same
grep -q "copying its store\|store copy" "$T/r1/graftd.out" && fail "the replica took a store copy: $(grep 'store' "$T/r1/graftd.out")"
[ "$(replicas_js count "${REPLICA_BOLT[1]}" big)" = 7200 ] || fail "the replica misses bulk writes"

step "the replica logged its catch-up, from the transaction after its own last to the upstream's last"
# bench/replica_bench.sh takes the catch-up rate from this line
line=$(grep "read replica: neo4j caught up with" "$T/r1/graftd.out" | tail -1)
[ -n "$line" ] || fail "no catch-up line in the replica's log"
range=$(grep -o 'transactions [0-9]*\.\.[0-9]*' <<<"$line" | grep -o '[0-9].*')
[ "${range%%..*}" = $((stopped_at + 1)) ] ||
	fail "the catch-up starts at ${range%%..*}, not after the replica's last transaction $stopped_at: $line"
[ "${range##*..}" = "$(last_tx "${CORE_HTTP[$LEADER]}")" ] ||
	fail "the catch-up ends at ${range##*..}, not at the leader's last transaction: $line"
grep -q 'applied in [0-9.]* s from the first to the last: [0-9]* transactions/s' <<<"$line" ||
	fail "the catch-up line gives no time or rate: $line"

replica_stop 1
for i in 1 2 3; do core_stop "$i"; done
exit 0
