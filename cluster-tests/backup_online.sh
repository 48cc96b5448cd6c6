#!/usr/bin/env bash
# Backups of a server that is taking writes: FULL and DIFFs taken while a
# client commits over Bolt each restore to a consistent prefix of its
# transactions (no gap, nothing half), and the last chain to all of them.
# A backup killed half-way leaves nothing that inspects or restores as an
# artifact; one that fails half-way with --keep-failed keeps the partial
# file under a name that says so.
. "$(dirname "$0")/lib.sh"

PW=backup-secret
cypher() {
	local port=$1
	shift
	"$GRAFT_SHELL" -a "bolt://127.0.0.1:$port" -u neo4j -p "$PW" --format plain "$@"
}

write_conf "$T/src.conf" "$T/src" "db.checkpoint.interval.tx=40"
SRC_BOLT=$BOLT_PORT
FROM=127.0.0.1:$BACKUP_PORT
"$GRAFT_ADMIN" --config "$T/src.conf" dbms set-initial-password "$PW" >/dev/null
"$LOAD" write --config "$T/src.conf" --writers 4 --count 500 --pad 2000 >/dev/null ||
	fail "initial load failed"
start_graftd "$T/src.conf" "$SRC_BOLT" "$T/src.out"
SRC_PID=$GRAFTD_PID
backup() {
	"$GRAFT_ADMIN" --config "$T/src.conf" database backup --from="$FROM" "$@" neo4j
}

step "FULL and DIFFs while a client commits one node per transaction"
mkdir "$T/online"
(for k in $(seq 1 40); do cypher "$SRC_BOLT" "CREATE (:C {k: $k})" >/dev/null || exit 1; sleep 0.1; done) &
writer=$!
for i in 1 2 3; do
	sleep 0.4
	backup --to-path="$T/online" >>"$T/online.out" || fail "online backup $i failed: $(cat "$T/online.out")"
	sleep 1.05 # artifact names have one-second resolution
done
wait "$writer" || fail "the writer failed"
backup --to-path="$T/online" >>"$T/online.out" || fail "final backup failed"
cat "$T/online.out"
[ "$(grep -c ': FULL' "$T/online.out")" -eq 1 ] || fail "expected one FULL"
[ "$(grep -c ': DIFF' "$T/online.out")" -ge 2 ] || fail "expected DIFFs"

step "each backup point restores a prefix of the writer's transactions"
write_conf "$T/dst.conf" "$T/dst"
DST_BOLT=$BOLT_PORT
"$GRAFT_ADMIN" --config "$T/dst.conf" dbms set-initial-password "$PW" >/dev/null
for id in $(sed -n 's/.*transactions [0-9]*\.\.\([0-9]*\).*/\1/p' "$T/online.out"); do
	"$GRAFT_ADMIN" --config "$T/dst.conf" database restore --from-path="$T/online" \
		--overwrite-destination --restore-until="$id" neo4j >/dev/null 2>&1 ||
		fail "restore until $id failed"
	start_graftd "$T/dst.conf" "$DST_BOLT" "$T/dst.out"
	got=$(cypher "$DST_BOLT" "MATCH (n:C) RETURN count(n), coalesce(max(n.k), 0), sum(n.k)" | tail -n 1)
	stop_graftd "$T/dst.out"
	read -r n max sum <<<"${got//,/ }"
	[ "$n" = "$max" ] && [ "$sum" = $((n * (n + 1) / 2)) ] ||
		fail "until $id: C nodes are not a prefix: count, max, sum = $got"
	echo "until $id: $n of the writer's 40 transactions"
done
[ "$n" = 40 ] || fail "the last backup misses writes: $n of 40"

step "a backup killed half-way leaves no artifact"
mkdir "$T/killed"
set +e
(trap - XFSZ; ulimit -f 256; exec "$GRAFT_ADMIN" --config "$T/src.conf" database backup \
	--from="$FROM" --to-path="$T/killed" --compress=false neo4j) >"$T/killed.out" 2>&1
rc=$?
set -e
[ "$rc" -gt 128 ] || fail "the backup was not killed (exit $rc): $(cat "$T/killed.out")"
ls "$T/killed" | grep -q '\.backup\.tmp$' || fail "expected the killed backup's temporary file"
out=$("$GRAFT_ADMIN" database backup --inspect-path="$T/killed")
grep -q '\.backup ' <<<"$out" && fail "inspect lists a killed backup: $out"
if out=$("$GRAFT_ADMIN" --config "$T/dst.conf" database restore --from-path="$T/killed" \
	--overwrite-destination 2>&1); then
	fail "a killed backup restored: $out"
fi
expect_in "$out" "no backup artifact" "killed backup"

step "a failed backup leaves nothing; --keep-failed keeps it as *.failed"
mkdir "$T/failed"
for keep in false true; do
	set +e
	out=$(trap '' XFSZ; ulimit -f 256; "$GRAFT_ADMIN" --config "$T/src.conf" database backup \
		--from="$FROM" --to-path="$T/failed" --compress=false --keep-failed=$keep neo4j 2>&1)
	rc=$?
	set -e
	[ "$rc" -eq 1 ] || fail "failed backup (keep $keep): exit $rc: $out"
	expect_in "$out" "Backup of neo4j FAILED: cannot write backup file" "failed backup"
done
[ "$(ls "$T/failed" | wc -l)" -eq 1 ] || fail "expected one file: $(ls "$T/failed")"
ls "$T/failed" | grep -q '^neo4j-.*\.backup\.failed$' || fail "no kept file: $(ls "$T/failed")"
expect_in "$out" "partial artifact is kept as" "keep-failed"

step "a server stopped during a backup stops cleanly; the client leaves no artifact"
mkdir "$T/stopped"
"$GRAFT_ADMIN" --config "$T/src.conf" database backup --from="$FROM" --to-path="$T/stopped" \
	--compress=false neo4j >"$T/stopped.out" 2>&1 &
client=$!
GRAFTD_PID=$SRC_PID
stop_graftd "$T/src.out"
if wait "$client"; then
	echo "(the backup finished before the server stopped)"
else
	expect_in "$(cat "$T/stopped.out")" "Backup of neo4j FAILED" "stopped server"
	[ -z "$(ls "$T/stopped")" ] || fail "a cut backup left: $(ls "$T/stopped")"
fi
echo "PASS"
