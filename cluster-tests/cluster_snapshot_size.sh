#!/usr/bin/env bash
# causal_clustering.raft_log_prune_strategy by size: the threshold in
# entries follows the size of the entries applied since the last Raft
# snapshot, recomputed as they apply. With "1M size" and entries of about
# 10 KB, a snapshot comes after libraft's minimum of 128 entries (about
# 1.3 MB of log). It used to count 1 KiB per entry until the first snapshot:
# 1,024 entries, ten times the strategy's size (a bulk load of 400 KB
# entries: 400 MB for "1M size", 40 GB for "100M size", and a new core
# replayed all of it instead of being sent a snapshot).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"

CORE_FORMATION=1 CORE_MIN_RUNTIME=2 cluster_confs 1 \
	"causal_clustering.raft_log_prune_strategy=1M size"
core_start 1
wait_leader

step "200 transactions of about 10 KB: a Raft snapshot within them"
s=$(printf 'x%.0s' $(seq 1 1000))
for i in $(seq 1 200); do
	echo "UNWIND range(1, 10) AS i CREATE (:N {v: i, s: '$s'});"
done >"$T/big.cypher"
"$GRAFT_SHELL" -a "bolt://127.0.0.1:${CORE_BOLT[1]}" -u neo4j -p x \
	--non-interactive -f "$T/big.cypher" >/dev/null 2>"$T/shell.err" ||
	fail "the writes failed: $(cat "$T/shell.err")"
n=$("$GRAFT_SHELL" -a "bolt://127.0.0.1:${CORE_BOLT[1]}" -u neo4j -p x \
	--format plain "MATCH (n:N) RETURN count(n) AS n" | tail -1)
[ "$n" = 2000 ] || fail "2000 nodes expected, $n held"
grep -q "Raft snapshot taken at index" "$T/c1/graftd.out" ||
	fail "no Raft snapshot after 200 entries of 10 KB with 1M size: $(core_log 1 5)"
core_stop 1
echo PASS
