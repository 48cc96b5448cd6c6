#!/usr/bin/env bash
# graft and graft-admin parse options one way everywhere: an option is never
# taken as a value or a password, every command answers --help (and -h) with
# its own usage and exit 0, a usage error exits 2 and changes nothing.
. "$(dirname "$0")/lib.sh"

write_conf "$T/graft.conf" "$T/home"
export GRAFT_CONF="$T/graft.conf"

# usage_of WORDS...: `graft-admin WORDS --help` and -h exit 0 and print a
# usage naming exactly those words.
usage_of() {
	local out flag
	for flag in --help -h; do
		out=$("$GRAFT_ADMIN" "$@" "$flag") || fail "graft-admin $* $flag exited $?"
		expect_in "$out" "usage: graft-admin [--config FILE] $*" "graft-admin $* $flag"
	done
}

# usage_error WHAT ARGS...: exit 2 and the message WHAT.
usage_error() {
	local what=$1 out rc
	shift
	set +e; out=$("$@" 2>&1); rc=$?; set -e
	[ $rc -eq 2 ] || fail "$*: exit $rc, want 2: $out"
	expect_in "$out" "$what" "$*"
}

step "set-initial-password takes no option as the password"
usage_error "unknown option --verbose" "$GRAFT_ADMIN" dbms set-initial-password --verbose
[ ! -e "$T/home/data" ] || fail "a data directory was made by a usage error"
out=$("$GRAFT_ADMIN" dbms set-initial-password --help) || fail "--help exited $?"
expect_in "$out" "usage: graft-admin [--config FILE] dbms set-initial-password PASSWORD" "--help"
[ ! -e "$T/home/data" ] || fail "--help set a password"
usage_error "unexpected argument 'two-passwords'" \
	"$GRAFT_ADMIN" dbms set-initial-password one-password two-passwords

step "a password that starts with a dash goes after --"
out=$("$GRAFT_ADMIN" dbms set-initial-password --require-password-change -- '-dash-secret') ||
	fail "set-initial-password -- -dash-secret: $out"
expect_in "$out" "must be changed at first login" "-- password"

step "the README's example password is one the server accepts"
pw=$(sed -n "s/.*set-initial-password '\([^']*\)'.*/\1/p" "$GRAFT_SRC_DIR/README.md" | head -1)
[ -n "$pw" ] || fail "no set-initial-password example in README.md"
grep -o -- "-p '[^']*'" "$GRAFT_SRC_DIR/README.md" | grep -vqF -- "-p '$pw'" &&
	fail "README.md logs in with another password than it sets"
write_conf "$T/readme.conf" "$T/readme"
out=$("$GRAFT_ADMIN" --config "$T/readme.conf" dbms set-initial-password "$pw" 2>&1) ||
	fail "the README's password '$pw' is refused: $out"

step "set-initial-password refuses a core: the cluster's leader creates the user"
write_conf "$T/core.conf" "$T/core" "dbms.mode=CORE" \
	"causal_clustering.initial_discovery_members=127.0.0.1:5000"
out=$("$GRAFT_ADMIN" --config "$T/core.conf" dbms set-initial-password 'core-secret' 2>&1) &&
	fail "set-initial-password on a core succeeded: $out"
expect_in "$out" "dbms.mode=CORE: the cluster's leader creates user 'neo4j'" "set-initial-password on a core"
[ -e "$T/core/data/databases/system" ] && fail "set-initial-password on a core wrote a system database"

step "every command answers --help with its own usage"
usage_of server validate-config
usage_of dbms set-initial-password
for c in backup restore check aggregate-backup dump load; do usage_of database "$c"; done
usage_of backup
usage_of restore
out=$("$GRAFT_ADMIN" database --help) || fail "database --help exited $?"
expect_in "$out" "database aggregate-backup" "database --help"
out=$("$GRAFT_ADMIN" --help) || fail "graft-admin --help exited $?"
expect_in "$out" "dbms set-initial-password" "graft-admin --help"
for flag in -h --help help; do
	out=$("$GRAFT" $flag) || fail "graft $flag exited $?"
	expect_in "$out" "usage: graft [--config FILE] <command>" "graft $flag"
done

step "an option that needs a value does not swallow the next option"
usage_error "--to-path needs a value" "$GRAFT_ADMIN" database backup --to-path --verbose
usage_error "--from-path needs a value" "$GRAFT_ADMIN" database restore --from-path
usage_error "unknown option --bogus" "$GRAFT_ADMIN" database restore --bogus --from-path=x
usage_error "unknown option --bogus" "$GRAFT" --bogus status
usage_error "unknown command 'database nosuch'" "$GRAFT_ADMIN" database nosuch
usage_error "database needs a command" "$GRAFT_ADMIN" database
usage_error "expected true or false" "$GRAFT_ADMIN" database backup --to-path="$T" --compress=maybe

step "--restore-until takes a transaction id, a date-time and the ISO form with T"
for until in 12 "2026-12-05 10:11:12" 2026-12-05T10:11:12 2026-12-05T10:11:12Z; do
	usage_error "--from-path is required" "$GRAFT_ADMIN" database restore --restore-until="$until"
done
usage_error "expected a transaction id" "$GRAFT_ADMIN" database restore --restore-until=yesterday --from-path=x

step "dump into a missing directory says so"
set +e; out=$("$GRAFT_ADMIN" database dump --to-path="$T/missing" neo4j 2>&1); rc=$?; set -e
[ $rc -eq 1 ] || fail "dump into a missing directory: exit $rc: $out"
expect_in "$out" "--to-path=$T/missing is not a directory; create it first" "dump"
echo "admin_options: ok"
