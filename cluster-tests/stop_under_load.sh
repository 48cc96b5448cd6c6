#!/usr/bin/env bash
# A server stopped with SIGTERM while clients log in and write exits
# cleanly (exit 0, no sanitizer report), and after a restart every write a
# client had acknowledged is there: each client's graft-shell logs in
# (a password hash in libuv's pool) and writes, so the stop falls among
# logins, statements and commits in flight.
. "$(dirname "$0")/lib.sh"

start_shell_server 'stop-secret-1'
CLIENTS=4
LOOPS=()

# client C: logs in and writes (:W {c: C, i: I}) for I = 0, 1, ... until
# killed, one graft-shell (one login) per write; records each acknowledged
# write in $T/acked.C.
client() {
	local c=$1 i=0
	while :; do
		if sh_ "CREATE (:W {c: $c, i: $i})" >/dev/null 2>&1; then
			echo "$c-$i" >>"$T/acked.$c"
			i=$((i + 1))
		fi
	done
}

acked_total() { { cat "$T"/acked.* 2>/dev/null || true; } | wc -l; }

start_clients() {
	local c
	LOOPS=()
	for c in $(seq 1 $CLIENTS); do
		client "$c" &
		LOOPS+=("$!")
		PIDS+=("$!")
	done
}

stop_clients() {
	local p
	for p in "${LOOPS[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
}

for round in 1 2; do
	step "round $round: SIGTERM while $CLIENTS clients log in and write"
	before=$(acked_total)
	start_clients
	enough() { [ "$(acked_total)" -ge $((before + 3 * CLIENTS)) ]; }
	wait_until "writes acknowledged in round $round" enough
	sleep "0.$((RANDOM % 4))"
	stop_graftd "$T/graftd.out"
	stop_clients
	if grep -E "ERROR: (Address|Leak)Sanitizer|runtime error:" "$T/graftd.out"; then
		fail "the stop under load left a sanitizer report: $(cat "$T/graftd.out")"
	fi

	step "round $round: restarted, every acknowledged write is there"
	start_graftd "$T/graft.conf" "$BOLT_PORT" "$T/graftd.out"
	sh_ "MATCH (w:W) RETURN toString(w.c) + '-' + toString(w.i) AS k" |
		tail -n +2 | tr -d '"' | sort >"$T/stored"
	sort "$T"/acked.* >"$T/acked"
	missing=$(comm -23 "$T/acked" "$T/stored")
	[ -z "$missing" ] || fail "acknowledged writes lost: $missing"
done
stop_graftd "$T/graftd.out"
