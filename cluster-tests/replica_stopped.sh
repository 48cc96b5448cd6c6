#!/usr/bin/env bash
# A read replica that stops reading (SIGSTOP: its socket buffers fill) does
# not hold up its upstream, the leader (the default strategy follows it):
# the cores go on committing, and the leader's memory grows no more than a
# follower's, which serves no replica, while about 40 MB of transactions
# the stopped replica has not read go by (an upstream holds at most one
# chunk of a stream, 1 MiB, per subscriber, never the transactions it has
# not sent). Resumed (SIGCONT), the replica catches up to exactly the
# leader's graph, from the log.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"
command -v node >/dev/null || fail "node is missing: run tools/deps.sh"
export GRAFT_SRC_DIR
# A sanitized build keeps up to 256 MB of freed memory in quarantine, more
# on the leader, which parses every write: the memory compared here is the
# live one.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=4"

cluster_confs 3
replica_confs 1
start_cores
replica_start 1
leader_write a 5
wait_until "the replica holding the 5 writes" replica_holds 1 a 5
follows_leader() { http_get "${CORE_HTTP[$LEADER]}" /db/neo4j/cluster/status | grep -q '"subscribers": \[{'; }
wait_until "the replica following the leader" follows_leader
pick_followers
rss() { awk '/^VmRSS/ { print $2 }' "/proc/${CORE_PID[$1]}/status"; } # kB
# a first round of the same writes, so that both members' allocators have
# grown to the working set before the measure
replicas_js bulk "${CORE_BOLT[$LEADER]}" warm 10 40 100000
wait_until "the replica holding the first 40 MB" [ "$(replicas_js count "${REPLICA_BOLT[1]}" warm)" = 400 ]
lead0=$(rss "$LEADER") fol0=$(rss "$F1")

step "the replica stopped; the leader takes 40 MB of transactions"
kill -STOP "${REPLICA_PID[1]}"
start=$SECONDS
replicas_js bulk "${CORE_BOLT[$LEADER]}" big 10 40 100000
leader_write s 20
echo "40 transactions of 1 MB and 20 small ones committed in $((SECONDS - start)) s with the replica stopped"
lead1=$(rss "$LEADER") fol1=$(rss "$F1")
grown=$(( (lead1 - lead0) - (fol1 - fol0) ))
echo "memory grown: leader $(( (lead1 - lead0) / 1024 )) MB, follower $(( (fol1 - fol0) / 1024 )) MB"
[ "$grown" -lt $((16 * 1024)) ] ||
	fail "the leader grew $((grown / 1024)) MB more than a follower while its replica was stopped"

step "resumed, the replica catches up"
kill -CONT "${REPLICA_PID[1]}"
lead=$(replicas_js digest "${CORE_BOLT[$LEADER]}")
same() { [ "$(replicas_js digest "${REPLICA_BOLT[1]}")" = "$lead" ]; }
wait_until "the replica holding exactly the leader's graph" same
grep -q "copying its store" "$T/r1/graftd.out" && fail "the replica took a store copy"

replica_stop 1
for i in 1 2 3; do core_stop "$i"; done
exit 0
