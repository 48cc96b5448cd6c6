#!/usr/bin/env bash
# graft-shell against graftd, non-interactive: statements from standard input,
# a file and the command line; plain and verbose output; parameters and
# explicit transactions; exit codes; bolt:// and neo4j://; wrong password;
# the first-login password change with --change-password and, on a terminal,
# at the prompt.
. "$(dirname "$0")/lib.sh"

start_shell_server 'shell-secret-1'

step "statements from standard input, plain output"
out=$(printf "CREATE (:P {name: 'a;b', n: 1});\nMATCH (p:P)\nRETURN p.name AS name, p.n AS n;\n" | sh_ 2>&1) ||
	fail "stdin run failed: $out"
[ "$out" = $'name, n\n"a;b", 1' ] || fail "plain output: $out"

step "values as cypher-shell shows them"
out=$(sh_ "MATCH (p:P) RETURN p, [1, 2.5, null, true] AS l, {k: 'v'} AS m" 2>&1) ||
	fail "entity query failed: $out"
expect_in "$out" '(:P {' "node rendering"
expect_in "$out" '[1, 2.5, NULL, TRUE], {k: "v"}' "list and map rendering"

step "GET / names the edition dbms.components() reports"
edition=$(sh_ "CALL dbms.components() YIELD edition RETURN edition" 2>&1 | tail -1)
expect_in "$(http_get "$HTTP_PORT" /)" "\"neo4j_edition\": $edition" "one edition"

step "EXPLAIN and PROFILE print the plan"
out=$(sh_ "PROFILE MATCH (p:P) RETURN p.name" 2>&1) || fail "PROFILE failed: $out"
expect_in "$out" "DB Hits" "profile table"
expect_in "$out" "NodeByLabelScan (p:P)" "profile details"
out=$(sh_ "EXPLAIN MATCH (p:P) RETURN p.name" 2>&1) || fail "EXPLAIN failed: $out"
expect_in "$out" "+Projection" "explain tree"

step "the first error stops the run with exit code 1"
set +e
out=$(printf "RETURN 1 AS x;\nRETURN nope(;\nCREATE (:Q);\n" | sh_ 2>&1)
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "exit code after an error: $rc ($out)"
out=$(sh_ "MATCH (q:Q) RETURN count(q) AS c" 2>&1)
[ "$out" = $'c\n0' ] || fail "the statement after the error ran: $out"

step "-f file, :param, verbose format"
printf ":param who => 'z' + 'ed'\n:param {k: 2}\nCREATE (:P {name: \$who, n: \$k});\n" >"$T/in.cypher"
sh_ -f "$T/in.cypher" >/dev/null 2>&1 || fail "-f run failed"
out=$(sh_ --format verbose "MATCH (p:P {name: 'zed'}) RETURN p.n AS n" 2>&1) || fail "verbose: $out"
expect_in "$out" "| n |" "table header"
expect_in "$out" "| 2 |" "table row"
expect_in "$out" "1 row" "row count"
out=$(sh_ -P 'x => 40 + 2' "RETURN \$x AS x" 2>&1) || fail "-P: $out"
[ "$out" = $'x\n42' ] || fail "-P value: $out"

step ":begin / :rollback / :commit"
printf ":begin\nCREATE (:T);\n:rollback\n:begin\nCREATE (:T {v: 1});\n:commit\n" | sh_ >/dev/null 2>&1 ||
	fail "transaction commands failed"
out=$(sh_ "MATCH (t:T) RETURN t.v AS v" 2>&1)
[ "$out" = $'v\n1' ] || fail "rollback/commit: $out"

step "neo4j:// and -d"
out=$("$GRAFT_SHELL" -a "neo4j://127.0.0.1:$BOLT_PORT" -u neo4j -p shell-secret-1 -d neo4j "RETURN 7 AS s" 2>&1) ||
	fail "neo4j:// failed: $out"
[ "$out" = $'s\n7' ] || fail "neo4j:// output: $out"

step "wrong password: exit 1 with the server's message"
set +e
out=$("$GRAFT_SHELL" -a "$A" -u neo4j -p wrong "RETURN 1" 2>&1)
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "wrong password exit code $rc"
expect_in "$out" "unauthorized" "wrong password message"

step "first login of a user that must change its password"
sh_ -d system "CREATE USER carol SET PASSWORD 'carol-pass-1' CHANGE REQUIRED" >/dev/null 2>&1 ||
	fail "CREATE USER failed"
set +e
out=$("$GRAFT_SHELL" -a "$A" -u carol -p carol-pass-1 "RETURN 1" 2>&1)
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "expired credentials exit code $rc"
expect_in "$out" "must be changed" "expired credentials message"
out=$(printf 'carol-pass-2\ncarol-pass-2\n' |
	"$GRAFT_SHELL" -a "$A" -u carol -p carol-pass-1 --change-password 2>&1) ||
	fail "--change-password failed: $out"
out=$("$GRAFT_SHELL" -a "$A" -u carol -p carol-pass-2 "RETURN 1 AS one" 2>&1) ||
	fail "login with the new password failed: $out"
[ "$out" = $'one\n1' ] || fail "after the change: $out"

step "interactive first login on a terminal (a pty from script(1)): prompt, change, go on"
sh_ -d system "CREATE USER dave SET PASSWORD 'dave-pass-1'" >/dev/null 2>&1 || fail "CREATE USER dave failed"
out=$( (printf 'dave-pass-2\ndave-pass-2\nRETURN 40 + 2 AS x;\n:exit\n'; sleep 3) |
	HOME="$T" timeout "$BUDGET" script -qec "'$GRAFT_SHELL' -a '$A' -u dave -p dave-pass-1" /dev/null |
	tr -d '\r') || fail "interactive session failed: $out"
expect_in "$out" "Password changed." "interactive change"
expect_in "$out" "| 42 |" "statement after the change"
expect_in "$out" "dave@neo4j> :exit" "prompt"
[ -s "$T/.graft_shell_history" ] || fail "no history file written"
"$GRAFT_SHELL" -a "$A" -u dave -p dave-pass-2 "RETURN 1" >/dev/null 2>&1 || fail "dave's new password"

stop_graftd "$T/graftd.out"
echo "driver_shell: ok"
