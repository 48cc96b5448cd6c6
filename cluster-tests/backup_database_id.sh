#!/usr/bin/env bash
# Backup artifacts carry the database id: a DIFF onto the chain of a
# database that was since dropped and created again under the same name is
# refused, naming both ids and saying to take a FULL backup; AUTO starts a
# new chain with a FULL and the next AUTO continues that chain (not the
# dropped database's, whose transaction ids run higher); --inspect-path
# shows the ids; a restore keeps the id, so that a DIFF from the restored
# server continues the chain. Real graftd, real graft-admin.
. "$(dirname "$0")/lib.sh"

PW=backup-id-secret
cypher() {
	local port=$1 db=$2
	shift 2
	"$GRAFT_SHELL" -a "bolt://127.0.0.1:$port" -u neo4j -p "$PW" -d "$db" --format plain "$@"
}

write_conf "$T/src.conf" "$T/src"
SRC_BOLT=$BOLT_PORT
SRC_BACKUP=$BACKUP_PORT
"$GRAFT_ADMIN" --config "$T/src.conf" dbms set-initial-password "$PW" >/dev/null
start_graftd "$T/src.conf" "$SRC_BOLT" "$T/src.out"
mkdir "$T/backups"
backup() { # CONF BACKUP-PORT OPTIONS...
	local conf=$1 port=$2
	shift 2
	"$GRAFT_ADMIN" --config "$conf" database backup \
		--from="127.0.0.1:$port" --to-path="$T/backups" "$@" shop 2>&1
}
inspect() { "$GRAFT_ADMIN" database backup --inspect-path="$T/backups"; }
# id_of FILE-PATTERN: the DATABASE ID column of the artifact rows matching it.
id_of() { inspect | awk -v p="$1" '$1 ~ p && $2 == "shop" { print $3 }' | sort -u; }

step "shop, created on a SINGLE server, gets an id; its FULL and DIFF carry it"
cypher "$SRC_BOLT" system "CREATE DATABASE other" >/dev/null
cypher "$SRC_BOLT" system "CREATE DATABASE shop" >/dev/null
for i in 1 2 3 4 5 6; do cypher "$SRC_BOLT" shop "CREATE (:Order {n: $i})" >/dev/null; done
out=$(backup "$T/src.conf" "$SRC_BACKUP") || fail "FULL backup failed: $out"
expect_in "$out" "FULL" "first backup"
cypher "$SRC_BOLT" shop "CREATE (:Order {n: 7})" >/dev/null
out=$(backup "$T/src.conf" "$SRC_BACKUP" --type=DIFF) || fail "DIFF backup failed: $out"
expect_in "$out" "DIFF" "second backup"
old_id=$(id_of .)
[ -n "$old_id" ] && [ "$(wc -w <<<"$old_id")" -eq 1 ] && [ "$old_id" != 0 ] && [ "$old_id" != - ] ||
	fail "expected one non-zero database id of shop: $(inspect)"
expect_in "$(inspect)" "chain shop: FULL + 1 DIFF, restores up to transaction" "chain"
expect_in "$(inspect)" ", database id $old_id" "chain's id"
expect_in "$(inspect | head -1)" "DATABASE ID" "inspect header"
old_last=$(inspect | sed -n 's/^chain shop: .*transaction \([0-9]*\),.*/\1/p')

step "dropped and created again: fewer transactions than the old chain"
cypher "$SRC_BOLT" system "DROP DATABASE shop" >/dev/null
cypher "$SRC_BOLT" system "CREATE DATABASE shop" >/dev/null
cypher "$SRC_BOLT" shop "CREATE (:Order {n: 100})" >/dev/null

step "a DIFF onto the dropped database's chain is refused, naming both ids"
if out=$(backup "$T/src.conf" "$SRC_BACKUP" --type=DIFF); then
	fail "DIFF onto another database's chain succeeded: $out"
fi
expect_in "$out" "Backup of shop FAILED" "refusal"
expect_in "$out" "id $old_id" "the chain's id"
expect_in "$out" "dropped and created again" "why"
expect_in "$out" "take a FULL backup" "what to do"
[ "$(ls "$T/backups" | grep -c '\.backup$')" -eq 2 ] || fail "the refused DIFF left a file: $(ls "$T/backups")"

step "AUTO takes a FULL of the new database, and the next AUTO continues its chain"
out=$(backup "$T/src.conf" "$SRC_BACKUP") || fail "AUTO backup failed: $out"
expect_in "$out" "FULL, transactions 1.." "AUTO after the re-creation"
new_id=$(inspect | awk '$2 == "shop" { id = $3 } END { print id }')
[ "$new_id" != "$old_id" ] && [ "$new_id" != - ] || fail "new id '$new_id', old '$old_id': $(inspect)"
cypher "$SRC_BOLT" shop "CREATE (:Order {n: 101})" >/dev/null
out=$(backup "$T/src.conf" "$SRC_BACKUP") || fail "second AUTO backup failed: $out"
expect_in "$out" "DIFF" "AUTO continues the new chain"
new_last=$(sed -n 's/.*DIFF, transactions [0-9]*\.\.\([0-9]*\).*/\1/p' <<<"$out")
[ "$new_last" -lt "$old_last" ] || fail "the new database should be behind the old chain ($new_last vs $old_last)"
out=$(inspect)
expect_in "$out" "chain shop: FULL + 1 DIFF, restores up to transaction $new_last, database id $new_id" "inspect: the new chain"
[ "$(awk -v id="$old_id" '$2 == "shop" && $3 == id' <<<"$out" | wc -l)" -eq 2 ] || fail "old artifacts: $out"
[ "$(awk -v id="$new_id" '$2 == "shop" && $3 == id' <<<"$out" | wc -l)" -eq 2 ] || fail "new artifacts: $out"
GRAFTD_PID_SRC=$GRAFTD_PID

step "restore picks the new database's chain and keeps its id"
write_conf "$T/dst.conf" "$T/dst"
DST_BOLT=$BOLT_PORT
DST_BACKUP=$BACKUP_PORT
"$GRAFT_ADMIN" --config "$T/dst.conf" dbms set-initial-password "$PW" >/dev/null
out=$("$GRAFT_ADMIN" --config "$T/dst.conf" database restore --from-path="$T/backups" shop 2>&1) ||
	fail "restore failed: $out"
expect_in "$out" "Restored database shop up to transaction $new_last" "restore"
expect_in "$out" "Its database id is $new_id, as in the backup." "restore keeps the id"
start_graftd "$T/dst.conf" "$DST_BOLT" "$T/dst.out"
got=$(cypher "$DST_BOLT" shop "MATCH (o:Order) WITH o.n AS n ORDER BY n RETURN collect(n)" | tail -n 1)
[ "$got" = "[100, 101]" ] || fail "restored shop holds $got, want [100, 101]"

step "a DIFF from the restored server continues the chain"
cypher "$DST_BOLT" shop "CREATE (:Order {n: 102})" >/dev/null
out=$(backup "$T/dst.conf" "$DST_BACKUP" --type=DIFF) || fail "DIFF from the restored server failed: $out"
expect_in "$out" "DIFF, transactions $((new_last + 1))..$((new_last + 1))" "DIFF after restore"
stop_graftd "$T/dst.out"

step "shop dropped and created again on the restored server gets a new id"
# The restored id raised the server's count: without that, the databases
# created here first would use ids 1..$((new_id - 1)) and shop $new_id again.
start_graftd "$T/dst.conf" "$DST_BOLT" "$T/dst.out"
for i in $(seq 1 $((new_id - 1))); do
	cypher "$DST_BOLT" system "CREATE DATABASE tmp$i" >/dev/null
done
cypher "$DST_BOLT" system "DROP DATABASE shop" >/dev/null
cypher "$DST_BOLT" system "CREATE DATABASE shop" >/dev/null
# past the chain's end, so that only the id tells the two apart
for i in $(seq 1 $((new_last + 3))); do
	cypher "$DST_BOLT" shop "CREATE (:Order {n: $i})" >/dev/null
done
if out=$(backup "$T/dst.conf" "$DST_BACKUP" --type=DIFF); then
	fail "DIFF of a re-created shop on the restored server succeeded: $out"
fi
expect_in "$out" "dropped and created again" "re-created after restore"
stop_graftd "$T/dst.out"
GRAFTD_PID=$GRAFTD_PID_SRC
stop_graftd "$T/src.out"
echo "PASS"
