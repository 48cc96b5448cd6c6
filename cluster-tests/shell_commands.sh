#!/usr/bin/env bash
# graft-shell's commands as cypher-shell has them (:use, :source, :history,
# :connect, :disconnect), Ctrl-C during a large result, and a first login
# that gets a refused new password: asked again, stating the rule.
# Interactive parts run on a terminal: a pty from script(1), fed through a
# fifo so that the test answers what the shell prints.
. "$(dirname "$0")/lib.sh"

start_shell_server 'shell-secret-1'

# run_rc VAR CMD...: runs CMD with its stdout+stderr in $out, exit code in VAR.
run_rc() {
	local var=$1
	shift
	set +e
	out=$("$@" 2>&1)
	printf -v "$var" '%s' $?
	set -e
}

step ":use of a database that does not exist fails at once and keeps the current one"
run_rc rc sh_ <<<':use nosuchdb'
[ "$rc" -eq 1 ] || fail ":use nosuchdb exited $rc: $out"
expect_in "$out" "Database does not exist. Database name: 'nosuchdb'" ":use nosuchdb"
out=$(sh_ <<<$':use system\nSHOW DATABASES YIELD name RETURN name ORDER BY name;\n:use `neo4j`\nRETURN 2 AS two;\n:use\nRETURN 3 AS three;' 2>&1) ||
	fail ":use of existing databases failed: $out"
[ "$out" = $'name\n"neo4j"\n"system"\ntwo\n2\nthree\n3' ] || fail ":use output: $out"

step ":source FILE runs the file's statements, nested, and stops at its first error"
printf 'CREATE (:S {v: 1});\nRETURN 5 AS five;\n' >"$T/inner.cypher"
printf ':source %s\nRETURN 6 AS six;\n' "$T/inner.cypher" >"$T/outer.cypher"
out=$(sh_ <<<":source $T/outer.cypher" 2>&1) || fail ":source failed: $out"
[ "$out" = $'five\n5\nsix\n6' ] || fail ":source output: $out"
printf 'RETURN nope(;\nCREATE (:S {v: 2});\n' >"$T/bad.cypher"
run_rc rc sh_ <<<":source $T/bad.cypher"
[ "$rc" -eq 1 ] || fail ":source of a bad file exited $rc: $out"
out=$(sh_ "MATCH (s:S) RETURN collect(s.v) AS vs" 2>&1)
[ "$out" = $'vs\n[1]' ] || fail "the statement after the error in a sourced file ran: $out"
run_rc rc sh_ <<<":source $T/missing.cypher"
[ "$rc" -eq 1 ] || fail ":source of a missing file exited $rc"
expect_in "$out" "Cannot read $T/missing.cypher" ":source of a missing file"
printf ':source %s\n' "$T/loop.cypher" >"$T/loop.cypher"
run_rc rc sh_ <<<":source $T/loop.cypher"
[ "$rc" -eq 1 ] || fail ":source of a file sourcing itself exited $rc"
expect_in "$out" "nested more than" ":source loop"

step ":disconnect, then statements are refused until :connect"
run_rc rc sh_ <<<$':disconnect\nRETURN 1 AS x;'
[ "$rc" -eq 1 ] || fail "a statement while disconnected exited $rc: $out"
expect_in "$out" "Not connected" "statement while disconnected"
out=$(sh_ <<<$':disconnect\n:connect -u neo4j --password=shell-secret-1 -d system\nSHOW DATABASES YIELD name RETURN count(*) AS n;' 2>&1) ||
	fail ":connect failed: $out"
expect_in "$out" "Connected to" ":connect"
expect_in "$out" $'n\n2' "statement on the database :connect -d named"
run_rc rc sh_ <<<$':connect -u neo4j -p x'
expect_in "$out" "Already connected" ":connect while connected"
run_rc rc sh_ <<<$':disconnect\n:connect -u neo4j -p wrong-password'
[ "$rc" -eq 1 ] || fail ":connect with a wrong password exited $rc: $out"

step "--change-password: a refused or mismatched new password is asked for again"
sh_ -d system "CREATE USER erin SET PASSWORD 'erin-pass-1' CHANGE REQUIRED" >/dev/null 2>&1 ||
	fail "CREATE USER erin failed"
out=$(printf 'short\nshort\nerin-pass-2\nerin-pass-X\nerin-pass-2\nerin-pass-2\n' |
	"$GRAFT_SHELL" -a "$A" -u erin -p erin-pass-1 --change-password 2>&1) ||
	fail "--change-password after a short and a mismatched password failed: $out"
expect_in "$out" "at least 8 characters" "the rule is stated"
expect_in "$out" "do not match" "mismatch"
expect_in "$out" "Password changed." "change"
out=$("$GRAFT_SHELL" -a "$A" -u erin -p erin-pass-2 "RETURN 1 AS one" 2>&1) || fail "erin's new password: $out"

# A terminal session: say TEXT writes to it, await PATTERN waits for its
# output to hold the fixed string.
mkfifo "$T/tty.in"
start_tty() {
	HOME="$T" script -qfec "$*" /dev/null <"$T/tty.in" >"$T/tty.out" 2>&1 &
	TTY_PID=$!
	PIDS+=("$TTY_PID")
	exec 7>"$T/tty.in"
}
say() { printf "$1" >&7; }
await() { wait_until "the shell printing '$1' (see $T/tty.out)" grep -qF -- "$1" "$T/tty.out"; }
rows() { grep -c '^| [0-9]' "$T/tty.out" || true; }
at_least_rows() { [ "$(rows)" -ge "$1" ]; }

step "interactive first login: a short, then a mismatched new password are asked again"
sh_ -d system "CREATE USER frank SET PASSWORD 'frank-pass-1' CHANGE REQUIRED" >/dev/null 2>&1 ||
	fail "CREATE USER frank failed"
start_tty "'$GRAFT_SHELL' -a '$A' -u frank -p frank-pass-1"
await "new password:"
say 'short\nshort\n'
await "at least 8 characters"
say 'frank-pass-2\nfrank-pass-3\n'
await "do not match"
say 'frank-pass-2\nfrank-pass-2\n'
await "Password changed."
say 'RETURN 40 + 2 AS x;\n'
await "| 42 |"

step "interactive :use of a missing database keeps the current one"
say ':use nosuchdb\n'
await "Database does not exist. Database name: 'nosuchdb'"
say 'RETURN 1 AS k;\n'
await "| k |"

step ":history lists what was typed"
say ':history\n'
await "RETURN 40 + 2 AS x;"
grep -qE '^ +[0-9]+  RETURN 40 \+ 2 AS x;' <(tr -d '\r' <"$T/tty.out") || fail ":history: $(cat "$T/tty.out")"

step "Ctrl-C during a large result stops printing and returns to the prompt"
# ten billion rows: without the interrupt this would print for hours
say 'UNWIND range(1, 100000) AS i UNWIND range(1, 100000) AS j RETURN i * 100000 + j AS n;\n'
wait_until "rows printing" at_least_rows 2000
say '\003'
await "Interrupted: the statement was stopped."
shown=$(rows)
# what was on its way when the interrupt came is dropped, not printed:
# the old shell printed some 400,000 rows more here
[ "$shown" -lt 50000 ] || fail "$shown rows printed: Ctrl-C did not stop the printing"
say 'RETURN 7 * 6 AS y;\n'
await "| y  |"
say ':exit\n'
exec 7>&-
wait_exit "$TTY_PID" "$BUDGET" || fail "the interactive shell did not exit cleanly: $(cat "$T/tty.out")"
[ "$(rows)" -eq "$((shown + 1))" ] || fail "rows printed after the interrupt: $(($(rows) - shown - 1))"
"$GRAFT_SHELL" -a "$A" -u frank -p frank-pass-2 "RETURN 1" >/dev/null 2>&1 || fail "frank's new password"

stop_graftd "$T/graftd.out"
echo "shell_commands: ok"
