#!/usr/bin/env bash
# deploy/haproxy/haproxy.cfg in front of a three-core cluster on loopback:
# `haproxy -c` validates the file as shipped; HAProxy with the file's
# settings (only the addresses and ports are this test's) sends bolt://
# writes to the leader by the members' /db/neo4j/cluster/writable, and goes
# on doing so after SIGKILL of the leader; every acknowledged write is on the
# new leader; the read front end serves reads.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"
command -v node >/dev/null || fail "node is missing: run tools/deps.sh"
command -v haproxy >/dev/null || fail "haproxy is missing: run tools/deps.sh --test"
export GRAFT_SRC_DIR
CFG=$GRAFT_SRC_DIR/deploy/haproxy/haproxy.cfg

step "haproxy -c accepts the shipped file"
haproxy -c -f "$CFG" >"$T/check.out" 2>&1 || fail "haproxy -c rejects $CFG: $(cat "$T/check.out")"

cluster_confs 3 "dbms.security.cluster_status_auth_enabled=false"
core_start 1 2 3
wait_cluster
rjs() { node "$GRAFT_SRC_DIR/cluster-tests/js/routing.js" "$@"; }

# The shipped file with this test's addresses: hostN:7687 and port 7474 of
# each server line become member N's Bolt and HTTP ports on loopback.
claim_port; WRITE_PORT=$PORT
claim_port; READ_PORT=$PORT
awk -v w="$WRITE_PORT" -v r="$READ_PORT" \
	-v b="${CORE_BOLT[1]} ${CORE_BOLT[2]} ${CORE_BOLT[3]}" \
	-v h="${CORE_HTTP[1]} ${CORE_HTTP[2]} ${CORE_HTTP[3]}" '
	BEGIN { split(b, bolt, " "); split(h, http, " ") }
	/^ *bind :7687/ { sub(/:7687/, "127.0.0.1:" w) }
	/^ *bind :7689/ { sub(/:7689/, "127.0.0.1:" r) }
	/^ *server core[0-9]/ {
		n = substr($2, 5)
		sub(/host[0-9]:7687/, "127.0.0.1:" bolt[n])
		sub(/port 7474/, "port " http[n])
	}
	{ print }' "$CFG" >"$T/haproxy.cfg"
grep -q "127.0.0.1:${CORE_BOLT[3]} check port ${CORE_HTTP[3]}" "$T/haproxy.cfg" ||
	fail "the server lines of $CFG no longer look like 'server coreN hostN:7687 check port 7474'"
haproxy -db -f "$T/haproxy.cfg" >"$T/haproxy.out" 2>&1 &
PIDS+=($!)
wait_port "$WRITE_PORT" "$!"

step "writes through the write front end reach leader $LEADER"
rjs lb-writes a "$WRITE_PORT" 20 >"$T/acks.a" || fail "writes through HAProxy: $(tail -5 "$T/haproxy.out")"

step "SIGKILL of leader $LEADER; writes through the same front end go on"
old=$LEADER
core_kill "$old"
rjs lb-writes b "$WRITE_PORT" 20 >"$T/acks.b" || fail "writes after the failover: $(tail -5 "$T/haproxy.out")"
wait_leader
[ "$LEADER" != "$old" ] || fail "core $old still leads"
cat "$T/acks.a" "$T/acks.b" | sort >"$T/acked"
[ "$(wc -l <"$T/acked")" = 40 ] || fail "$(wc -l <"$T/acked") writes acknowledged, not 40"
holds_all() { rjs lb-keys "$1" >"$T/has" && [ -z "$(comm -23 "$T/acked" "$T/has")" ]; }
wait_until "leader $LEADER holding every acknowledged write" holds_all "${CORE_BOLT[$LEADER]}"

step "the read front end serves reads"
wait_until "a member behind the read front end holding every acknowledged write" holds_all "$READ_PORT"
for i in 1 2 3; do core_alive "$i" && core_stop "$i"; done
true
