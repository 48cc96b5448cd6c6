#!/usr/bin/env bash
# One path for every change: on three cores with authentication on, the
# first leader creates the initial user once for the whole cluster; CREATE
# USER, CREATE DATABASE, CREATE INDEX and CREATE CONSTRAINT run on the
# leader are applied identically on every member (compared through the
# members' own SHOW commands); a CREATE DATABASE sent to a follower fails
# with NotALeader; after the leader is killed the new leader enforces the
# constraint it never ran itself; DROP DATABASE reaches every member; a
# member restarted after a DROP and a CREATE of the same name replays its
# Raft log without bringing back what was dropped. A CREATE INDEX and its
# name in the system database are one Raft entry (the leader's applied
# index moves by one), so a leader SIGKILLed while it creates indexes
# leaves no member with an index whose name was lost; so are the user
# changes of one explicit transaction (BEGIN; CREATE USER bob; CREATE USER
# dave; ALTER USER alice; COMMIT), and one that fails takes none of them.
# A CREATE CONSTRAINT
# over an index that exists returns a bookmark that a follower lacking the
# constraint waits for (the follower is isolated with nftables; skipped,
# saying why, where nft cannot be used).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"

CORE_AUTH=true cluster_confs 3
for i in 1 2 3; do core_start "$i"; done
wait_cluster

step "the initial user is created once, by the cluster's leader"
seeded() { grep -c "Created the initial user 'neo4j' for the cluster" "$T"/c*/logs/graft.log | awk -F: '{s += $2} END {print s}'; }
seeded_once() { [ "$(seeded)" -ge 1 ]; }
wait_until "the initial user" seeded_once
export GRAFT_USER=neo4j GRAFT_PASSWORD=neo4j
core_node "$LEADER" query system "ALTER CURRENT USER SET PASSWORD FROM 'neo4j' TO 'cluster-pw-1'" ||
	fail "changing the initial password on the leader: $(core_log "$LEADER")"
export GRAFT_PASSWORD=cluster-pw-1
[ "$(seeded)" = 1 ] || fail "the initial user was created $(seeded) times"

step "CREATE USER, DATABASE, INDEX and CONSTRAINT on the leader"
core_node "$LEADER" query system "CREATE USER alice SET PASSWORD 'alice-pw-1' CHANGE NOT REQUIRED" || fail "CREATE USER"
core_node "$LEADER" query system "CREATE DATABASE shop" || fail "CREATE DATABASE: $(core_log "$LEADER")"
core_node "$LEADER" query neo4j "CREATE INDEX item_name FOR (n:Item) ON (n.name)" || fail "CREATE INDEX"
core_node "$LEADER" query neo4j "CREATE CONSTRAINT sku_unique FOR (n:Sku) REQUIRE n.code IS UNIQUE" || fail "CREATE CONSTRAINT"
core_node "$LEADER" query shop "CREATE (:Item {name: 'lamp'})" || fail "a write to the new database: $(core_log "$LEADER")"

# digest I: what member I says of its databases, users and schema, in
# names only (ids and counters may differ between members).
digest() {
	core_node "$1" query system "SHOW DATABASES YIELD name RETURN name ORDER BY name" &&
	core_node "$1" query system "SHOW USERS YIELD user, passwordChangeRequired, suspended RETURN user, passwordChangeRequired, suspended ORDER BY user" &&
	core_node "$1" query neo4j "SHOW INDEXES YIELD name, labelsOrTypes, properties RETURN name, labelsOrTypes, properties ORDER BY name" &&
	core_node "$1" query neo4j "SHOW CONSTRAINTS YIELD name, labelsOrTypes, properties RETURN name, labelsOrTypes, properties ORDER BY name" &&
	core_node "$1" query shop "MATCH (n:Item) RETURN n.name AS name ORDER BY name"
}
digest "$LEADER" >"$T/digest.leader" || fail "digest of the leader"
for want in '"name":"shop"' '"user":"alice"' '"name":"item_name"' '"name":"sku_unique"' '"name":"lamp"'; do
	grep -q "$want" "$T/digest.leader" || fail "the leader's digest lacks $want: $(cat "$T/digest.leader")"
done
for i in 1 2 3; do
	same() { digest "$i" >"$T/digest.$i" 2>/dev/null && cmp -s "$T/digest.$i" "$T/digest.leader"; }
	wait_until "core $i identical to the leader" same
	GRAFT_USER=alice GRAFT_PASSWORD=alice-pw-1 core_node "$i" query neo4j "RETURN 1" >/dev/null ||
		fail "alice cannot log in to core $i"
done

step "a schema change and its name in the system database are one Raft entry"
applied() { http_get_auth "${CORE_HTTP[$1]}" /db/neo4j/cluster/status "$GRAFT_USER:$GRAFT_PASSWORD" | grep -o '"lastAppliedRaftIndex": *[0-9]*' | grep -o '[0-9]*$'; }
settled() { # the Raft index member I publishes, once it stops moving
	local a b k
	for k in $(seq 20); do
		a=$(applied "$1"); sleep 0.3; b=$(applied "$1")
		[ -n "$a" ] && [ "$a" = "$b" ] && echo "$b" && return 0
	done
	return 1
}
before=$(settled "$LEADER") || fail "no settled Raft index on the leader"
core_node "$LEADER" query neo4j "CREATE INDEX one_entry FOR (n:OneEntry) ON (n.k)" || fail "CREATE INDEX one_entry"
after=$(settled "$LEADER") || fail "no settled Raft index on the leader"
[ "$after" = $((before + 1)) ] ||
	fail "CREATE INDEX took Raft entries $before..$after: the index and its name must be one entry"
echo "CREATE INDEX: Raft index $before -> $after"

step "an explicit transaction's user changes are one Raft entry, all or none"
before=$(settled "$LEADER") || fail "no settled Raft index on the leader"
core_node "$LEADER" txn system "CREATE USER bob SET PASSWORD 'bob-pw-1' CHANGE NOT REQUIRED" \
	"CREATE USER dave SET PASSWORD 'dave-pw-1' CHANGE NOT REQUIRED" "ALTER USER alice SET STATUS ACTIVE" >/dev/null ||
	fail "BEGIN; CREATE USER bob; CREATE USER dave; ALTER USER alice; COMMIT"
after=$(settled "$LEADER") || fail "no settled Raft index on the leader"
[ "$after" = $((before + 1)) ] ||
	fail "a transaction of three user changes took Raft entries $before..$after: they must be one entry"
echo "BEGIN; CREATE USER bob; CREATE USER dave; ALTER USER alice; COMMIT: Raft index $before -> $after"
for i in 1 2 3; do
	for u in bob dave; do
		logs_in() { GRAFT_USER=$u GRAFT_PASSWORD=$u-pw-1 core_node "$i" query neo4j "RETURN 1" >/dev/null 2>&1; }
		wait_until "$u logging in to core $i" logs_in
	done
done
core_node "$LEADER" txn system "CREATE USER carol SET PASSWORD 'carol-pw-1'" "CREATE USER bob SET PASSWORD 'bob-pw-2'" \
	>"$T/txn.out" 2>&1 && fail "a transaction creating an existing user committed"
grep -q "already exists" "$T/txn.out" || fail "the failed transaction says: $(cat "$T/txn.out")"
core_node "$LEADER" query system "SHOW USERS YIELD user RETURN user ORDER BY user" >"$T/users" || fail "SHOW USERS"
! grep -q '"carol"' "$T/users" || fail "carol was created by a transaction that failed: $(cat "$T/users")"

step "a constraint over an existing index: its bookmark holds a follower's read until it has it"
# The constraint writes only its name (system) and nothing of neo4j's: a
# bookmark of neo4j's would let a follower that lacks it answer at once.
if nft_usable; then
	core_node "$LEADER" query neo4j "CREATE INDEX tag_code FOR (n:Tag) ON (n.code)" || fail "CREATE INDEX tag_code"
	f=$(( LEADER % 3 + 1 ))
	has_index() { core_node "$f" query neo4j "SHOW INDEXES YIELD name RETURN name" | grep -q '"name":"tag_code"'; }
	wait_until "core $f has index tag_code" has_index
	isolate "$f"
	bm=$(core_node "$LEADER" bookmark neo4j "CREATE CONSTRAINT tag_unique FOR (n:Tag) REQUIRE n.code IS UNIQUE") ||
		fail "CREATE CONSTRAINT over index tag_code: $(core_log "$LEADER")"
	core_node_bg "$T/after.out" "$T/after.err" "$f" query-after "$bm" neo4j "SHOW CONSTRAINTS YIELD name RETURN name ORDER BY name"
	sleep 1
	kill -0 "$BG_PID" 2>/dev/null ||
		fail "isolated core $f answered a read with bookmark $bm at once: $(cat "$T/after.out" "$T/after.err")"
	heal
	wait "$BG_PID" || fail "the read with bookmark $bm on core $f: $(cat "$T/after.err")"
	grep -q '"name":"tag_unique"' "$T/after.out" ||
		fail "core $f's read with bookmark $bm lacks tag_unique: $(cat "$T/after.out")"
	echo "bookmark $bm: core $f waited for the constraint"
else
	echo "SKIP: a follower's read with a constraint's bookmark: $NFT_WHY"
fi

step "CREATE DATABASE on a follower fails with NotALeader"
f=$(( LEADER % 3 + 1 ))
core_node "$f" expect-error Neo.ClientError.Cluster.NotALeader "CREATE DATABASE nowhere" system ||
	fail "CREATE DATABASE on follower $f"

step "a new leader enforces the constraint the old one created"
old=$LEADER
core_kill "$old"
wait_leader
[ "$LEADER" != "$old" ] || fail "the killed member is still the leader"
core_node "$LEADER" query neo4j "CREATE (:Sku {code: 'a1'})" || fail "a write on the new leader: $(core_log "$LEADER")"
core_node "$LEADER" expect-error Neo.ClientError.Schema.ConstraintValidationFailed "CREATE (:Sku {code: 'a1'})" neo4j ||
	fail "the new leader let a duplicate past sku_unique"

step "DROP DATABASE and CREATE again on the new leader, everywhere"
core_node "$LEADER" query system "DROP DATABASE shop" || fail "DROP DATABASE: $(core_log "$LEADER")"
core_node "$LEADER" query system "CREATE DATABASE shop" || fail "CREATE DATABASE again"
core_node "$LEADER" query shop "CREATE (:Item {name: 'desk'})" || fail "a write to the new shop"
core_start "$old"
digest "$LEADER" >"$T/digest.leader" || fail "digest of the leader"
grep -q '"name":"lamp"' "$T/digest.leader" && fail "the dropped database's data is back on the leader"
for i in 1 2 3; do
	same() { digest "$i" >"$T/digest.$i" 2>/dev/null && cmp -s "$T/digest.$i" "$T/digest.leader"; }
	wait_until "core $i identical to the leader after the drop" same
done
grep -q "DROP DATABASE shop at Raft index" "$T/c$old/logs/graft.log" ||
	fail "the restarted member never applied the drop: $(core_log "$old")"

step "a restart replays the log without bringing back what was dropped"
core_stop "$old"
core_start "$old"
for i in 1 2 3; do
	same() { digest "$i" >"$T/digest.$i" 2>/dev/null && cmp -s "$T/digest.$i" "$T/digest.leader"; }
	wait_until "core $i identical to the leader after a restart" same
done

step "the leader SIGKILLed while it creates indexes: no index without its name"
core_node_bg "$T/schema.out" "$T/schema.err" "$LEADER" schema Half 400
made() { [ "$(grep -c . "$T/schema.out")" -ge "$1" ]; }
wait_until "indexes being created" made 5
old=$LEADER
core_kill "$old"
wait_leader
core_start "$old"
names() { core_node "$1" query neo4j "SHOW INDEXES YIELD name RETURN name ORDER BY name"; }
for i in 1 2 3; do
	same() { names "$i" >"$T/names.$i" && names "$LEADER" >"$T/names.leader" && cmp -s "$T/names.$i" "$T/names.leader"; }
	wait_until "core $i's indexes identical to the leader's" same
	grep -q '"name":"index_Half' "$T/names.$i" &&
		fail "core $i holds an index whose name was lost: $(grep index_Half "$T/names.$i")"
done
echo "$(grep -c Half_ "$T/names.leader") Half indexes, each with its name, on every member ($(grep -c . "$T/schema.out") acknowledged)"
while read -r n; do
	grep -q "\"name\":\"$n\"" "$T/names.leader" || fail "acknowledged index $n lost"
done <"$T/schema.out"

echo "PASS"
