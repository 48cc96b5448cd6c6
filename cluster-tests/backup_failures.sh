#!/usr/bin/env bash
# Backup and restore when things go wrong, and with several databases:
# globs, exit code 1 with a line per database when one of two fails,
# --from addresses tried in order, an unreachable server, a damaged
# artifact and a broken chain refused with the artifact named (and the
# destination untouched), a restore beside a running server refused, and
# AUTO falling back to FULL when the server pruned the log a DIFF needs.
. "$(dirname "$0")/lib.sh"

write_conf "$T/src.conf" "$T/src" "db.tx_log.rotation.size=128k" \
	"db.checkpoint.interval.tx=500" "db.tx_log.rotation.retention_policy=false"
SRC_BOLT=$BOLT_PORT
FROM=127.0.0.1:$BACKUP_PORT
mkdir -p "$T/src/data/databases/other"
"$LOAD" write --config "$T/src.conf" --writers 2 --count 100 --pad 100 >/dev/null ||
	fail "initial load failed"
start_graftd "$T/src.conf" "$SRC_BOLT" "$T/src.out"
admin() { "$GRAFT_ADMIN" --config "$T/src.conf" "$@"; }
# run_rc VAR CMD...: runs CMD, its output in $out and exit code in VAR.
run_rc() {
	local var=$1
	shift
	set +e
	out=$("$@" 2>&1)
	printf -v "$var" '%s' "$?"
	set -e
}

step "\"*\" backs up every database, \"n*\" only those starting with n"
mkdir "$T/all" "$T/n"
run_rc rc admin database backup --from="$FROM" --to-path="$T/all" "*"
[ "$rc" -eq 0 ] || fail "backup of \"*\" exited $rc: $out"
for db in neo4j other system; do expect_in "$out" "Backup of $db from $FROM: FULL" "glob *"; done
run_rc rc admin database backup --from="$FROM" --to-path="$T/n" "n*"
[ "$rc" -eq 0 ] || fail "backup of \"n*\" exited $rc: $out"
[ "$(ls "$T/n")" = "$(cd "$T/n" && ls neo4j-*.backup)" ] || fail "n* wrote more than neo4j: $(ls "$T/n")"

step "exit code 1 when one of two databases fails, with a line for each"
run_rc rc admin database backup --from="$FROM" --to-path="$T/n" --type=DIFF neo4j other
[ "$rc" -eq 1 ] || fail "one failed database: exit $rc: $out"
expect_in "$out" "Backup of neo4j from $FROM: up to date" "the good database"
expect_in "$out" "Backup of other FAILED: --type=DIFF" "the failed database"
expect_in "$out" "1 of 2 database backups failed." "summary"
run_rc rc admin database backup --from="$FROM" --to-path="$T/n" neo4j nosuch
[ "$rc" -eq 1 ] || fail "unknown database: exit $rc: $out"
expect_in "$out" "Backup of nosuch FAILED: backup server $FROM: database nosuch does not exist" "unknown database"

step "--from addresses are tried in order; an unreachable server fails clearly"
claim_port; dead=127.0.0.1:$PORT
run_rc rc admin database backup --from="$dead,$FROM" --to-path="$T/n" --type=FULL neo4j
[ "$rc" -eq 0 ] || fail "second --from not used: exit $rc: $out"
expect_in "$out" "Backup of neo4j from $FROM: FULL" "second address"
run_rc rc admin database backup --from="$dead" --to-path="$T/n" neo4j
[ "$rc" -eq 1 ] || fail "unreachable server: exit $rc: $out"
expect_in "$out" "cannot connect to the backup server at $dead" "unreachable"
run_rc rc admin database backup --from="$FROM" --to-path="$T/missing" neo4j
[ "$rc" -eq 1 ] || fail "missing --to-path: exit $rc: $out"
expect_in "$out" "is not a directory" "missing --to-path"

step "a chain of three for the damage cases"
mkdir "$T/chain"
admin database backup --from="$FROM" --to-path="$T/chain" neo4j >/dev/null
for i in 1 2; do
	stop_graftd "$T/src.out"
	"$LOAD" write --config "$T/src.conf" --writers 1 --count 20 --first-writer $((10 + i)) >/dev/null
	start_graftd "$T/src.conf" "$SRC_BOLT" "$T/src.out"
	sleep 1.05 # artifact names have one-second resolution
	admin database backup --from="$FROM" --to-path="$T/chain" neo4j >/dev/null
done
mapfile -t arts < <(ls "$T/chain"/*.backup | sort)
[ "${#arts[@]}" -eq 3 ] || fail "expected 3 artifacts: ${arts[*]}"

step "restore refuses while the server runs"
run_rc rc admin database restore --from-path="$T/chain" --overwrite-destination neo4j
[ "$rc" -eq 1 ] || fail "restore beside a running server: exit $rc: $out"
expect_in "$out" "the server is running" "running server"

write_conf "$T/dst.conf" "$T/dst"
dst_has_data() { ls "$T/dst/data/databases/neo4j" 2>/dev/null | grep -q checkpoint; }

step "a damaged artifact is refused by name and nothing is restored"
cp -r "$T/chain" "$T/bad"
bad=$T/bad/$(basename "${arts[1]}")
flip_byte "$bad"
run_rc rc "$GRAFT_ADMIN" --config "$T/dst.conf" database restore --from-path="$T/bad"
[ "$rc" -eq 1 ] || fail "damaged artifact: exit $rc: $out"
expect_in "$out" "$bad is damaged: checksum mismatch" "damaged artifact"
dst_has_data && fail "a damaged chain left a database behind"
run_rc rc "$GRAFT_ADMIN" database backup --inspect-path="$T/bad"
[ "$rc" -eq 0 ] || fail "inspect of a damaged set: exit $rc"

step "a broken chain is refused naming the artifact after the gap"
cp -r "$T/chain" "$T/gap"
rm "$T/gap/$(basename "${arts[1]}")"
run_rc rc "$GRAFT_ADMIN" --config "$T/dst.conf" database restore --from-path="$T/gap" --restore-until=210
[ "$rc" -eq 1 ] || fail "broken chain: exit $rc: $out"
expect_in "$out" "backup chain of neo4j is broken at $T/gap/$(basename "${arts[2]}")" "broken chain"
dst_has_data && fail "a broken chain left a database behind"

step "the good chain restores, naming artifacts one by one"
run_rc rc "$GRAFT_ADMIN" --config "$T/dst.conf" database restore \
	--from-path="${arts[0]},${arts[1]},${arts[2]}" neo4j
[ "$rc" -eq 0 ] || fail "restore of the chain: exit $rc: $out"
expect_in "$out" "up to transaction 240 (FULL + 2 DIFF)" "good chain"

step "AUTO falls back to FULL when the log a DIFF needs is pruned"
stop_graftd "$T/src.out"
"$LOAD" write --config "$T/src.conf" --writers 2 --count 1000 --first-writer 20 --pad 400 >/dev/null
start_graftd "$T/src.conf" "$SRC_BOLT" "$T/src.out"
run_rc rc admin database backup --from="$FROM" --to-path="$T/chain" --type=DIFF neo4j
[ "$rc" -eq 1 ] || fail "DIFF over a pruned log: exit $rc: $out"
expect_in "$out" "is no longer in the server's log" "pruned"
run_rc rc admin database backup --from="$FROM" --to-path="$T/chain" --verbose neo4j
[ "$rc" -eq 0 ] || fail "AUTO over a pruned log: exit $rc: $out"
expect_in "$out" "taking a FULL backup" "fallback"
expect_in "$out" "FULL, transactions 1..2240" "fallback artifact"
stop_graftd "$T/src.out"
echo "PASS"
