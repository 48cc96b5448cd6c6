#!/usr/bin/env bash
# Online backup and restore of a chain: FULL, writes, DIFF, writes, DIFF
# from a running server (written to over Bolt meanwhile); --inspect-path
# shows the chain; restoring it into a fresh server, up to each backup's
# last transaction id and to a commit time, gives a database whose digest
# equals the source's at that point; check, aggregate-backup, the 3.x
# spellings and dump/load of the stopped server do the same.
. "$(dirname "$0")/lib.sh"

PW=backup-secret
cypher() {
	local port=$1
	shift
	"$GRAFT_SHELL" -a "bolt://127.0.0.1:$port" -u neo4j -p "$PW" --format plain "$@"
}
# digest PORT: nodes, the sum of their ids of work, relationships.
digest() {
	echo "$(cypher "$1" "MATCH (n) RETURN count(n), sum(coalesce(n.i, 0) + coalesce(n.seq, 0))" | tail -n 1)" \
		"$(cypher "$1" "MATCH ()-[r]->() RETURN count(r)" | tail -n 1)"
}
last_id() { sed -n 's/.*transactions [0-9]*\.\.\([0-9]*\).*/\1/p' <<<"$1"; }

write_conf "$T/src.conf" "$T/src" "db.checkpoint.interval.tx=150"
SRC_BOLT=$BOLT_PORT
SRC_BACKUP=$BACKUP_PORT
"$GRAFT_ADMIN" --config "$T/src.conf" dbms set-initial-password "$PW" >/dev/null
"$LOAD" write --config "$T/src.conf" --writers 2 --count 200 --pad 100 >"$T/acks" ||
	fail "initial load failed"
start_graftd "$T/src.conf" "$SRC_BOLT" "$T/src.out"
SRC_PID=$GRAFTD_PID
mkdir "$T/backups"
backup() {
	"$GRAFT_ADMIN" --config "$T/src.conf" database backup \
		--from="127.0.0.1:$SRC_BACKUP" --to-path="$T/backups" "$@" neo4j
}

step "a backup of system first (for --inspect-path's order below)"
mkdir "$T/sys"
"$GRAFT_ADMIN" --config "$T/src.conf" database backup --from="127.0.0.1:$SRC_BACKUP" \
	--to-path="$T/sys" system >/dev/null || fail "backup of system failed"

step "first backup is FULL (AUTO with an empty directory)"
out=$(backup) || fail "FULL backup failed: $out"
expect_in "$out" "Backup of neo4j from 127.0.0.1:$SRC_BACKUP: FULL, transactions 1..400" "FULL"
id0=$(last_id "$out")
d0=$(digest "$SRC_BOLT")

step "writes, then a DIFF with exactly the new transactions"
for k in 1 2 3; do cypher "$SRC_BOLT" "UNWIND range(1, 50) AS i CREATE (:W {i: i * $k})" >/dev/null; done
out=$(backup --verify) || fail "DIFF backup failed: $out"
expect_in "$out" "DIFF, transactions $((id0 + 1))..$((id0 + 3))" "first DIFF"
expect_in "$out" "Backup of neo4j verified: the chain restores and recovers to transaction $((id0 + 3))." "--verify"
id1=$(last_id "$out")
d1=$(digest "$SRC_BOLT")
sleep 1.1
t1=$(date -u '+%Y-%m-%d %H:%M:%S')
sleep 1.1

step "more writes, a second DIFF, then nothing new"
for k in 4 5; do cypher "$SRC_BOLT" "MATCH (a:W {i: $k}) CREATE (a)-[:R]->(:W {i: 1000 + $k})" >/dev/null; done
out=$(backup --type=DIFF) || fail "second DIFF failed: $out"
expect_in "$out" "DIFF, transactions $((id1 + 1))..$((id1 + 2))" "second DIFF"
id2=$(last_id "$out")
d2=$(digest "$SRC_BOLT")
out=$(backup) || fail "up-to-date backup failed: $out"
expect_in "$out" "up to date at transaction $id2" "nothing new"
[ "$(ls "$T/backups" | grep -c '\.backup$')" -eq 3 ] || fail "expected 3 artifacts: $(ls "$T/backups")"

step "--inspect-path lists the artifacts and the chain without a server"
out=$("$GRAFT_ADMIN" database backup --inspect-path="$T/backups")
expect_in "$out" "chain neo4j: FULL + 2 DIFF, restores up to transaction $id2" "inspect chain"
[ "$(grep -c ' neo4j .* DIFF ' <<<"$out")" -eq 2 ] || fail "inspect: $out"
expect_in "$out" "LOWEST TX" "inspect header"

step "--inspect-path lists in the order taken, in aligned columns however long the paths"
long="$T/inspect/a-directory-name-long-enough-to-push-a-fixed-width-file-column-out-of-line"
mkdir -p "$long"
cp "$T/backups/"*.backup "$T/sys/"*.backup "$long/"
out=$("$GRAFT_ADMIN" database backup --inspect-path="$long")
rows=$(grep '\.backup ' <<<"$out")
dbs=$(awk '{ printf "%s ", $2 }' <<<"$rows")
[ "$dbs" = "system neo4j neo4j neo4j " ] || fail "inspect order (want system's first, taken first): $out"
[ "$(awk '{ print $4 }' <<<"$rows")" = "$(awk '{ print $4 }' <<<"$rows" | sort)" ] || fail "inspect not by time: $out"
head=$(head -1 <<<"$out")
for col in "DATABASE" "TIME (UTC)" "TYPE" "COMPRESSED"; do
	at=$(($(grep -bo "$col" <<<"$head" | head -1 | cut -d: -f1)))
	while IFS= read -r line; do
		[ "${line:at-1:1}" = " " ] && [ "${line:at:1}" != " " ] ||
			fail "column $col does not start at $at in: $line"$'\n'"$out"
	done <<<"$rows"
done

step "restore into a fresh server at each point and compare digests"
write_conf "$T/dst.conf" "$T/dst"
DST_BOLT=$BOLT_PORT
"$GRAFT_ADMIN" --config "$T/dst.conf" dbms set-initial-password "$PW" >/dev/null
check_restored() { # WHAT EXPECTED-DIGEST RESTORE-OPTIONS...
	local what=$1 want=$2 got
	shift 2
	out=$("$GRAFT_ADMIN" --config "$T/dst.conf" database restore \
		--from-path="$T/backups" --overwrite-destination "$@" neo4j 2>&1) ||
		fail "$what: restore failed: $out"
	start_graftd "$T/dst.conf" "$DST_BOLT" "$T/dst.out"
	got=$(digest "$DST_BOLT")
	stop_graftd "$T/dst.out"
	[ "$got" = "$want" ] || fail "$what: digest '$got', source had '$want'"
	echo "$what: $got"
}
check_restored "whole chain" "$d2"
check_restored "until the FULL's last id" "$d0" --restore-until="$id0"
check_restored "until the first DIFF's last id" "$d1" --restore-until="$id1"
check_restored "until a commit time" "$d1" --restore-until="$t1"
check_restored "until the second DIFF" "$d2" --restore-until="$id2"
"$LOAD" verify --config "$T/dst.conf" --acks "$T/acks" >/dev/null ||
	fail "acknowledged transactions of the initial load missing after restore"

step "check restores into a scratch directory; aggregate-backup collapses the chain"
out=$("$GRAFT_ADMIN" database check --from-path="$T/backups" neo4j) || fail "check failed: $out"
expect_in "$out" "restores and recovers to transaction $id2; the backup is usable" "check"
cp -r "$T/backups" "$T/agg"
out=$("$GRAFT_ADMIN" database aggregate-backup --from-path="$T/agg" neo4j) || fail "aggregate failed: $out"
expect_in "$out" "(FULL + 2 DIFF, up to transaction $id2)" "aggregate"
expect_in "$out" "3 older artifacts removed" "aggregate"
[ "$(ls "$T/agg")" = "$(cd "$T/agg" && ls neo4j-*.backup)" ] && [ "$(ls "$T/agg" | wc -l)" -eq 1 ] ||
	fail "aggregate left: $(ls -a "$T/agg")"
rm -rf "$T/backups.all" && mv "$T/backups" "$T/backups.all" && mv "$T/agg" "$T/backups"
check_restored "the aggregated FULL" "$d2"
rm -rf "$T/backups" && mv "$T/backups.all" "$T/backups"

step "restore refuses an existing database without --overwrite-destination"
if out=$("$GRAFT_ADMIN" --config "$T/dst.conf" database restore --from-path="$T/backups" neo4j 2>&1); then
	fail "restore replaced an existing database: $out"
fi
expect_in "$out" "already exists" "no overwrite"

step "restore shows its progress on a terminal (a pty from script(1)), and only there"
out=$(timeout "$BUDGET" script -qec "'$GRAFT_ADMIN' --config '$T/dst.conf' database restore \
	--from-path='$T/backups' --overwrite-destination neo4j" /dev/null </dev/null | tr -d '\r') ||
	fail "restore on a terminal failed: $out"
expect_in "$out" "restore of neo4j: verifying artifact 1 of 3" "progress: verification"
expect_in "$out" "restore of neo4j: recovering: replaying transactions" "progress: recovery"
expect_in "$out" "restore of neo4j: done, at transaction $id2" "progress: the end"
expect_in "$out" "Restored database neo4j up to transaction $id2" "restore on a terminal"
out=$("$GRAFT_ADMIN" --config "$T/dst.conf" database restore --from-path="$T/backups" \
	--overwrite-destination neo4j 2>&1) || fail "restore failed: $out"
grep -q "restore of" <<<"$out" && fail "progress without a terminal: $out"

step "the 3.x spellings (the production operations course's commands)"
day=$T/legacy/$(date +%Y-%m-%d)
out=$("$GRAFT_ADMIN" --config "$T/src.conf" backup --backup-dir="$day" --database=neo4j \
	--from="127.0.0.1:$SRC_BACKUP") || fail "3.x backup failed: $out"
expect_in "$out" "FULL, transactions 1..$id2" "3.x backup"
out=$("$GRAFT_ADMIN" --config "$T/dst.conf" restore --from="$day" --database=neo4j --force 2>&1) ||
	fail "3.x restore failed: $out"
start_graftd "$T/dst.conf" "$DST_BOLT" "$T/dst.out"
[ "$(digest "$DST_BOLT")" = "$d2" ] || fail "3.x restore: digest differs"
stop_graftd "$T/dst.out"
GRAFTD_PID=$SRC_PID
stop_graftd "$T/src.out"

step "dump of the stopped source, loaded into the other server"
mkdir "$T/dumps"
out=$("$GRAFT_ADMIN" --config "$T/src.conf" database dump --to-path="$T/dumps" neo4j) ||
	fail "dump failed: $out"
expect_in "$out" "Dumped database neo4j (up to transaction $id2) to $T/dumps/neo4j.dump" "dump"
if out=$("$GRAFT_ADMIN" --config "$T/src.conf" database dump --to-path="$T/dumps" neo4j 2>&1); then
	fail "dump replaced an existing file: $out"
fi
expect_in "$out" "already exists" "dump over a file"
out=$("$GRAFT_ADMIN" --config "$T/dst.conf" database load --from-path="$T/dumps" \
	--overwrite-destination neo4j 2>&1) || fail "load failed: $out"
start_graftd "$T/dst.conf" "$DST_BOLT" "$T/dst.out"
[ "$(digest "$DST_BOLT")" = "$d2" ] || fail "load: digest differs"
stop_graftd "$T/dst.out"
echo "PASS"
