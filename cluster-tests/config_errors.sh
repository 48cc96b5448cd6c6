#!/usr/bin/env bash
# Configuration errors stop graftd at once, naming file, line, key, value and
# what is allowed; non-strict validation downgrades unknown keys to warnings.
. "$(dirname "$0")/lib.sh"

# refuse NAME CONF PATTERN...: graftd must exit 1 printing every pattern.
refuse() {
	local name=$1 conf=$2 out rc
	shift 2
	set +e; out=$(timeout "$BUDGET" "$GRAFTD" --config "$conf" 2>&1); rc=$?; set -e
	[ $rc -eq 1 ] || fail "$name: graftd exited $rc, want 1: $out"
	for p in "$@"; do expect_in "$out" "$p" "$name"; done
	[ ! -e "$T/home/run/graft.pid" ] || fail "$name: a pid file was written"
}

# file:line of the first line of file holding text (write_conf's own lines
# come first, and their number changes as settings are added)
where() {
	echo "$1:$(grep -n -F -- "$2" "$1" | head -1 | cut -d: -f1)"
}

step "unknown key"
write_conf "$T/a.conf" "$T/home" "server.bolt.listen_adress=:7687"
refuse "unknown key" "$T/a.conf" "$(where "$T/a.conf" listen_adress)" \
	"server.bolt.listen_adress" \
	"did you mean 'server.bolt.listen_address'"

step "bad size"
write_conf "$T/b.conf" "$T/home" "# a comment" "db.tx_log.rotation.size=12Q"
refuse "bad size" "$T/b.conf" "$(where "$T/b.conf" rotation.size=12Q)" \
	"db.tx_log.rotation.size=12Q" "allowed"

step "size below the minimum"
write_conf "$T/b2.conf" "$T/home" "db.tx_log.rotation.size=1k"
refuse "small size" "$T/b2.conf" "db.tx_log.rotation.size=1k"

step "bad retention policy"
write_conf "$T/c.conf" "$T/home" "db.tx_log.rotation.retention_policy=3 weeks"
refuse "bad retention" "$T/c.conf" "db.tx_log.rotation.retention_policy=3 weeks" "allowed"

step "bad boolean and bad duration"
write_conf "$T/d.conf" "$T/home" "server.http.enabled=yes please"
refuse "bad bool" "$T/d.conf" "server.http.enabled=yes please"
write_conf "$T/e.conf" "$T/home" "db.checkpoint.interval.time=soon"
refuse "bad duration" "$T/e.conf" "db.checkpoint.interval.time=soon"

step "conflicting aliases"
write_conf "$T/f.conf" "$T/home" "dbms.directories.data=/x" "server.directories.data=/y"
refuse "conflicting aliases" "$T/f.conf" "dbms.directories.data" "server.directories.data"

step "a line without '='"
write_conf "$T/g.conf" "$T/home" "just some words"
refuse "no equals" "$T/g.conf" "$(where "$T/g.conf" "just some words")"

step "read replicas are refused clearly by this release"
write_conf "$T/h.conf" "$T/home" "dbms.mode=READ_REPLICA"
refuse "dbms.mode" "$T/h.conf" "dbms.mode=READ_REPLICA"

step "a core without discovery endpoints, or one that could never form"
write_conf "$T/h2.conf" "$T/home" "dbms.mode=CORE"
refuse "no endpoints" "$T/h2.conf" "causal_clustering.initial_discovery_members"
write_conf "$T/h3.conf" "$T/home" "dbms.mode=CORE" \
	"causal_clustering.initial_discovery_members=127.0.0.1:5000,127.0.0.1:5001" \
	"causal_clustering.minimum_core_cluster_size_at_formation=3"
refuse "formation size" "$T/h3.conf" "lists only 2 cores"
write_conf "$T/h4.conf" "$T/home" "dbms.mode=CORE" \
	"causal_clustering.initial_discovery_members=127.0.0.1:5000" \
	"causal_clustering.minimum_core_cluster_size_at_formation=1" \
	"causal_clustering.leader_election_timeout=100ms" \
	"dbms.cluster.raft.heartbeat_interval=80ms"
refuse "heartbeat" "$T/h4.conf" "dbms.cluster.raft.heartbeat_interval=80ms must be at most half"

step "a missing explicit config file"
set +e; out=$("$GRAFTD" --config "$T/nope.conf" 2>&1); rc=$?; set -e
[ $rc -eq 1 ] || fail "missing config: exit $rc"
expect_in "$out" "$T/nope.conf" "missing config"

step "non-strict validation: unknown key is a warning, the server starts"
write_conf "$T/i.conf" "$T/home" "server.config.strict_validation.enabled=false" "made.up.key=1"
start_graftd "$T/i.conf" "$BOLT_PORT" "$T/i.out"
stop_graftd "$T/i.out"
expect_in "$(cat "$T/i.out")" "made.up.key" "non-strict warning"

step "graft-admin server validate-config agrees"
set +e; out=$("$GRAFT_ADMIN" --config "$T/b.conf" server validate-config 2>&1); rc=$?; set -e
[ $rc -eq 1 ] || fail "validate-config on a bad file exited $rc"
expect_in "$out" "db.tx_log.rotation.size=12Q" "validate-config"
step "validate-config reports every error in the file, not only the first"
write_conf "$T/many.conf" "$T/home" "server.bolt.listen_adress=:7687" "db.tx_log.rotation.size=12Q" \
	"just some words" "server.http.enabled=yes please"
set +e; out=$("$GRAFT_ADMIN" --config "$T/many.conf" server validate-config 2>&1); rc=$?; set -e
[ $rc -eq 1 ] || fail "validate-config on a file with four errors exited $rc"
for p in listen_adress rotation.size=12Q "just some words" "server.http.enabled=yes please"; do
	expect_in "$out" "$(where "$T/many.conf" "$p")" "validate-config lists every error"
done
expect_in "$out" "4 errors" "validate-config counts the errors"
step "graftd refuses the same file naming every error, not only the first"
refuse "four errors" "$T/many.conf" "4 errors" \
	"$(where "$T/many.conf" listen_adress)" "$(where "$T/many.conf" rotation.size=12Q)" \
	"$(where "$T/many.conf" "just some words")" "$(where "$T/many.conf" "server.http.enabled=yes please")"
out=$("$GRAFT_ADMIN" --config "$T/i.conf" server validate-config)
expect_in "$out" "is valid" "validate-config"
step "settings accepted but not acted on: graftd warns, naming each"
write_conf "$T/inert.conf" "$T/home" "server.metrics.prometheus.enabled=true" \
	"server.metrics.csv.enabled=true" "db.logs.query.enabled=INFO" "server.bolt.tls_level=REQUIRED" \
	"server.metrics.enabled=false"
start_graftd "$T/inert.conf" "$BOLT_PORT" "$T/inert.out"
stop_graftd "$T/inert.out"
for s in server.metrics.prometheus.enabled=true server.metrics.csv.enabled=true \
	db.logs.query.enabled=INFO server.bolt.tls_level=REQUIRED; do
	expect_in "$(grep WARN "$T/inert.out")" "$s is accepted but not yet acted on" "inert setting warning"
done
grep -q "server.metrics.enabled=false is accepted" "$T/inert.out" && fail "a setting set to false was warned about"

step "the installed template marks them, and no listed setting is read anywhere in src/"
"$GRAFTD" --write-config-template "$T/template.conf"
inert=$(awk '/^# Accepted, not yet acted on/ { want = 1 } want && /^#[a-z]/ { sub(/^#/, ""); sub(/=.*/, ""); print; want = 0 }' "$T/template.conf")
for s in server.metrics.prometheus.enabled server.metrics.csv.enabled db.logs.query.enabled; do
	grep -qx "$s" <<<"$inert" || fail "the template does not mark $s as not acted on"
done
for s in $inert; do
	users=$(grep -rlF "\"$s\"" "$GRAFT_SRC_DIR/src" | grep -v '/settings\.c$' || true)
	[ -z "$users" ] || fail "$s is read in $users: remove it from the inert list in src/util/settings.c"
done
grep -q "debug.log" "$T/template.conf" && ! grep -q "no debug.log" "$T/template.conf" &&
	fail "the template promises a debug.log"
echo "PASS"
