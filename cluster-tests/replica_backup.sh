#!/usr/bin/env bash
# Backups from any member: graft-admin database backup --from a read replica
# (its backup port, and its transaction port, which serves backups too) and
# from a follower's transaction port each restore to the leader's graph (a
# digest by names and values); a --from list whose first address is down
# takes the backup from the next and names the address that failed; FULL
# then DIFF backups taken back to back from the replica while the leader
# takes writes all succeed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"
command -v node >/dev/null || fail "node is missing: run tools/deps.sh"
export GRAFT_SRC_DIR

cluster_confs 3
replica_confs 1
start_cores
pick_followers
replica_start 1

core_node "$LEADER" write a 60 >"$T/acked.a"
core_node "$LEADER" query neo4j "MATCH (w:W) WITH w ORDER BY w.key LIMIT 20 CREATE (w)-[:LINKED {k: w.key}]->(:Z {k: w.key})" >/dev/null
core_node "$LEADER" digest neo4j >"$T/lead.digest"
same_digest() { replica_node 1 digest neo4j >"$T/rep.digest" && cmp -s "$T/lead.digest" "$T/rep.digest"; }
wait_until "the replica holding the leader's graph" same_digest

write_conf "$T/dst.conf" "$T/dst" "dbms.security.auth_enabled=false"
DST_BOLT=$BOLT_PORT
# restores_to_leader DIR: the newest backup in DIR restores to the leader's graph.
restores_to_leader() {
	"$GRAFT_ADMIN" --config "$T/dst.conf" database restore --from-path="$1" \
		--overwrite-destination neo4j >"$T/restore.out" 2>&1 || fail "restore of $1 failed: $(cat "$T/restore.out")"
	start_graftd "$T/dst.conf" "$DST_BOLT" "$T/dst.out"
	BOLT_PORT=$DST_BOLT node "$GRAFT_SRC_DIR/cluster-tests/js/cluster.js" digest neo4j >"$T/dst.digest"
	stop_graftd "$T/dst.out"
	cmp -s "$T/lead.digest" "$T/dst.digest" ||
		fail "the backup in $1 restores to $(cat "$T/dst.digest"), the leader has $(cat "$T/lead.digest")"
}
backup_from() { # FROM DIR
	mkdir -p "$2"
	"$GRAFT_ADMIN" database backup --from="$1" --type=FULL --to-path="$2" neo4j >"$T/backup.out" 2>"$T/backup.err" ||
		fail "backup --from=$1 failed: $(cat "$T/backup.out" "$T/backup.err")"
}

step "a FULL backup from the replica's backup port restores to the leader's graph"
backup_from "127.0.0.1:${REPLICA_BACKUP[1]}" "$T/b1"
restores_to_leader "$T/b1"

step "the same from the replica's transaction port"
backup_from "127.0.0.1:${REPLICA_TX[1]}" "$T/b2"
grep -q "Backup of neo4j from 127.0.0.1:${REPLICA_TX[1]}: FULL" "$T/backup.out" || fail "unexpected report: $(cat "$T/backup.out")"
restores_to_leader "$T/b2"

step "the same from follower $F1's transaction port"
backup_from "127.0.0.1:${CORE_TX[$F1]}" "$T/b3"
restores_to_leader "$T/b3"

step "a --from list whose first member is down"
claim_port
dead=127.0.0.1:$PORT
backup_from "$dead,127.0.0.1:${REPLICA_TX[1]}" "$T/b4"
grep -q "$dead" "$T/backup.err" || fail "the failed address is not named: $(cat "$T/backup.err")"
grep -q "Backup of neo4j from 127.0.0.1:${REPLICA_TX[1]}: FULL" "$T/backup.out" || fail "unexpected report: $(cat "$T/backup.out")"
restores_to_leader "$T/b4"

# A member applies a transaction before its log holds it (a core logs from
# Raft after applying, a replica after applying what it received): a backup
# that asked for everything applied read past the end of the log and failed
# with "left the log while the backup ran" whenever it began between the
# two, which writes arriving all the time make likely.
step "back-to-back backups from the replica while the leader takes writes all succeed"
retrying_start busy 4
wait_until "writes under way" acked busy 20
mkdir -p "$T/b5"
for i in $(seq 1 20); do
	"$GRAFT_ADMIN" database backup --from="127.0.0.1:${REPLICA_BACKUP[1]}" --type=AUTO --to-path="$T/b5" neo4j \
		>"$T/backup.out" 2>"$T/backup.err" ||
		fail "backup $i during writes failed: $(cat "$T/backup.out" "$T/backup.err")"
done
retrying_stop busy
grep -q "DIFF" "$T/backup.out" || fail "the last backup was not a DIFF: $(cat "$T/backup.out")"

replica_stop 1
for i in 1 2 3; do core_stop "$i"; done
exit 0
