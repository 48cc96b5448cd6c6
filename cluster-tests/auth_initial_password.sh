#!/usr/bin/env bash
# graft-admin dbms set-initial-password: works before the first start and on
# a stopped server, reads the same configuration, refuses a running server
# and a too short password, and leaves a data directory graftd starts on.
. "$(dirname "$0")/lib.sh"

write_conf "$T/graft.conf" "$T/home"
export GRAFT_CONF="$T/graft.conf"

step "before the first start (config through GRAFT_CONF)"
out=$("$GRAFT_ADMIN" dbms set-initial-password 'first-secret' 2>&1) ||
	fail "set-initial-password failed: $out"
expect_in "$out" "Changed password for user 'neo4j'." "first set"
[ -d "$T/home/data/databases/system" ] || fail "no system database under the configured home"

step "a too short password is refused"
if out=$("$GRAFT_ADMIN" dbms set-initial-password 'short' 2>&1); then
	fail "a 5-character password was accepted: $out"
fi
expect_in "$out" "at least 8 characters" "short password"

step "usage errors exit 2"
set +e
"$GRAFT_ADMIN" dbms set-initial-password >/dev/null 2>&1
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "missing password: exit $rc, expected 2"

step "graftd starts on it"
start_graftd "$T/graft.conf" "$BOLT_PORT" "$T/graftd.out"

step "refused while the server runs"
if out=$("$GRAFT_ADMIN" --config "$T/graft.conf" dbms set-initial-password 'second-secret' 2>&1); then
	fail "set-initial-password ran beside a live server: $out"
fi
expect_in "$out" "the server is running" "running server"
expect_in "$out" "graft.lock" "running server"

stop_graftd "$T/graftd.out"

step "on a stopped server, with --require-password-change"
out=$("$GRAFT_ADMIN" --config "$T/graft.conf" dbms set-initial-password \
	'third-secret' --require-password-change 2>&1) ||
	fail "set-initial-password on a stopped server failed: $out"
expect_in "$out" "must be changed at first login" "change required"

start_graftd "$T/graft.conf" "$BOLT_PORT" "$T/graftd.out"
stop_graftd "$T/graftd.out"
echo "auth_initial_password: ok"
