#!/usr/bin/env bash
# deploy/kubernetes/single: the kustomization builds (when kubectl is
# here), and the CronJob's backup.sh and the initContainer's restore.sh do
# what the manifests promise against real servers: nightly backups keep
# <db>-latest.backup current; restore.sh fills an empty data volume from
# it, leaves an existing database alone, and replaces it only with
# FORCE_OVERWRITE=true.
. "$(dirname "$0")/lib.sh"

K=$GRAFT_SRC_DIR/deploy/kubernetes/single
PW=backup-secret
cypher() {
	local port=$1
	shift
	"$GRAFT_SHELL" -a "bolt://127.0.0.1:$port" -u neo4j -p "$PW" --format plain "$@"
}
count() { cypher "$1" "MATCH (n:K) RETURN count(n)" | tail -n 1; }

step "the kustomization builds"
if command -v kubectl >/dev/null; then
	out=$(kubectl kustomize "$K") || fail "kubectl kustomize failed: $out"
	for kind in StatefulSet CronJob Service NetworkPolicy PersistentVolumeClaim; do
		expect_in "$out" "kind: $kind" "kustomize"
	done
	expect_in "$out" "  restore.sh: " "scripts ConfigMap"
else
	echo "kubectl is not installed: the manifests' build is not checked"
fi

step "the manifests validate against the Kubernetes API schemas (offline)"
command -v node >/dev/null || fail "node is missing: run tools/deps.sh"
out=$(node "$GRAFT_SRC_DIR/cluster-tests/js/k8s_validate.js" "$K"/*.yaml 2>&1) ||
	fail "manifests do not validate: $out"
expect_in "$out" "5 resources valid, 0 invalid" "schema validation"
printf 'apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: x}\nspec: {replicas: three}\n' >"$T/bad.yaml"
node "$GRAFT_SRC_DIR/cluster-tests/js/k8s_validate.js" "$T/bad.yaml" >/dev/null 2>&1 &&
	fail "an invalid StatefulSet was accepted"

write_conf "$T/src.conf" "$T/src"
SRC_BOLT=$BOLT_PORT
export GRAFT_ADMIN BACKUP_DIR=$T/backups BACKUP_FROM=127.0.0.1:$BACKUP_PORT DATABASES="neo4j system"
"$GRAFT_ADMIN" --config "$T/src.conf" dbms set-initial-password "$PW" >/dev/null
start_graftd "$T/src.conf" "$SRC_BOLT" "$T/src.out"
SRC_PID=$GRAFTD_PID

step "backup.sh: first night FULL, second night DIFF; latest is the whole chain"
cypher "$SRC_BOLT" "UNWIND range(1, 10) AS i CREATE (:K {i: i})" >/dev/null
GRAFT_CONF=$T/src.conf sh "$K/scripts/backup.sh" >"$T/night1.out" || fail "night 1: $(cat "$T/night1.out")"
expect_in "$(cat "$T/night1.out")" "neo4j: $BACKUP_DIR/neo4j-latest.backup updated" "night 1"
cypher "$SRC_BOLT" "UNWIND range(11, 25) AS i CREATE (:K {i: i})" >/dev/null
GRAFT_CONF=$T/src.conf sh "$K/scripts/backup.sh" >"$T/night2.out" || fail "night 2: $(cat "$T/night2.out")"
expect_in "$(cat "$T/night2.out")" ": DIFF," "night 2"
[ -f "$BACKUP_DIR/system-latest.backup" ] || fail "no system-latest.backup"
out=$("$GRAFT_ADMIN" database backup --inspect-path="$BACKUP_DIR/neo4j-latest.backup")
expect_in "$out" "FULL + 0 DIFF" "latest is one FULL"

step "restore.sh fills an empty data volume before the server starts"
write_conf "$T/dst.conf" "$T/dst"
DST_BOLT=$BOLT_PORT
restore() { GRAFT_CONF=$T/dst.conf DATA_DIR=$T/dst/data sh "$K/scripts/restore.sh" "$@"; }
restore >"$T/restore1.out" 2>&1 || fail "restore.sh: $(cat "$T/restore1.out")"
start_graftd "$T/dst.conf" "$DST_BOLT" "$T/dst.out"
[ "$(count "$DST_BOLT")" = 25 ] || fail "restored $(count "$DST_BOLT") of 25 nodes"
cypher "$DST_BOLT" "CREATE (:K {i: 100})" >/dev/null
stop_graftd "$T/dst.out"

step "restore.sh leaves an existing database alone; FORCE_OVERWRITE=true replaces it"
out=$(restore 2>&1) || fail "restore.sh over an existing database: $out"
expect_in "$out" "neo4j: exists; not restored" "existing database"
start_graftd "$T/dst.conf" "$DST_BOLT" "$T/dst.out"
[ "$(count "$DST_BOLT")" = 26 ] || fail "restore.sh touched an existing database"
stop_graftd "$T/dst.out"
FORCE_OVERWRITE=true restore >"$T/restore3.out" 2>&1 || fail "forced restore: $(cat "$T/restore3.out")"
start_graftd "$T/dst.conf" "$DST_BOLT" "$T/dst.out"
[ "$(count "$DST_BOLT")" = 25 ] || fail "FORCE_OVERWRITE=true did not replace the database"
stop_graftd "$T/dst.out"
GRAFTD_PID=$SRC_PID
stop_graftd "$T/src.out"
echo "PASS"
