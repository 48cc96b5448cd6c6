#!/usr/bin/env bash
# A follower away while a database is dropped and created again (and
# another dropped) under the same name, and while the leader compacts its
# Raft log past all of it, is sent the leader's snapshot: it never applies
# those CREATE/DROP DATABASE entries, so the snapshot must tell it which
# databases exist and which of each name (the Raft index that created it).
# It ends with the new database's data only, and without the dropped one;
# with its old store of the same name kept, the entries after the snapshot
# were skipped as already applied (the old store had more transactions).
# A member restarted from a snapshot older than a DROP it applied keeps
# the database dropped.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"

cluster_confs 3 "causal_clustering.raft_log_prune_strategy=150 txs"
core_start 1 2 3
wait_cluster

# on I DB QUERY: member I's single answer to QUERY on DB.
on() { core_node "$1" query "$2" "$3"; }
logged() { grep -q "$2" "$T/c$1/graftd.out"; }
snapshots() { grep -c "Raft snapshot taken at index" "$T/c$1/graftd.out" || true; }
f=$(( LEADER % 3 + 1 ))

step "databases shop and gone, shop with five transactions, on every member"
on "$LEADER" system "CREATE DATABASE shop" >/dev/null || fail "CREATE DATABASE shop: $(core_log "$LEADER")"
on "$LEADER" system "CREATE DATABASE gone" >/dev/null || fail "CREATE DATABASE gone"
for k in 1 2 3 4 5; do on "$LEADER" shop "CREATE (:Old {k: $k})" >/dev/null || fail "write $k to shop"; done
five_old() { [ "$(on "$f" shop "MATCH (n:Old) RETURN count(n) AS c")" = '{"c":"5"}' ]; }
wait_until "core $f holding shop's five transactions" five_old

step "core $f away: shop dropped and created again, gone dropped, the log compacted"
core_stop "$f"
before=$(snapshots "$LEADER")
on "$LEADER" system "DROP DATABASE shop" >/dev/null || fail "DROP DATABASE shop"
on "$LEADER" system "CREATE DATABASE shop" >/dev/null || fail "CREATE DATABASE shop again"
on "$LEADER" shop "CREATE (:New)" >/dev/null || fail "a write to the new shop"
on "$LEADER" system "DROP DATABASE gone" >/dev/null || fail "DROP DATABASE gone"
retrying_start t 3
more_snapshots() { [ "$(snapshots "$LEADER")" -ge $((before + 3)) ]; }
wait_until "three more snapshots on the leader" more_snapshots

step "core $f back: sent the snapshot, it holds the new shop only, and no gone"
core_start "$f"
wait_until "core $f seeing that its stores are behind the leader's snapshot" logged "$f" "whose stores this member lacks"
wait_until "core $f caught up and available" core_check "$f" available
retrying_stop t
acked_everywhere t
[ "$(on "$f" shop "MATCH (n:Old) RETURN count(n) AS c")" = '{"c":"0"}' ] ||
	fail "core $f kept the dropped shop's nodes: $(on "$f" shop "MATCH (n) RETURN labels(n) AS l, count(n) AS c")"
[ "$(on "$f" shop "MATCH (n:New) RETURN count(n) AS c")" = '{"c":"1"}' ] ||
	fail "core $f lacks the new shop's node"
dbs=$(on "$f" system "SHOW DATABASES YIELD name RETURN DISTINCT name ORDER BY name" | tr -d '\n')
[ "$dbs" = '{"name":"neo4j"}{"name":"shop"}{"name":"system"}' ] || fail "core $f has the databases $dbs"
logged "$f" "database gone dropped, as the Raft snapshot says" || fail "core $f did not log the drop of gone"

step "shop dropped after core $f's snapshot, core $f restarted: no shop, and available"
# The leader may change meanwhile: NotALeader means not applied, so again.
drop_shop() {
	wait_leader
	on "$LEADER" system "DROP DATABASE shop" >/dev/null 2>"$T/drop.err" && return
	grep -qi "leader" "$T/drop.err" || fail "DROP DATABASE shop, the second time: $(cat "$T/drop.err")"
	return 1
}
wait_until "shop dropped on the leader" drop_shop
no_shop() { ! on "$f" system "SHOW DATABASES YIELD name RETURN DISTINCT name" | grep -q '"shop"'; }
wait_until "core $f dropping shop" no_shop
core_stop "$f"
core_start "$f"
wait_until "core $f restarted and available" core_check "$f" available
no_shop || fail "core $f has shop again after its restart (the snapshot it restarted from names it)"
for i in 1 2 3; do core_stop "$i"; done
echo PASS
