#!/usr/bin/env bash
# One core with causal_clustering.minimum_core_cluster_size_at_formation=1
# (one primary, as a deployment of one core and its read replicas has)
# forms its cluster alone. It used to decide only on hearing another
# core's discovery line, which never comes, and waited forever. It elects
# itself, takes writes, and after a restart is the same cluster with them.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"

CORE_FORMATION=1 CORE_MIN_RUNTIME=2 cluster_confs 1

step "stopped the moment it leads, while it seeds the initial user, it stops cleanly"
# The seed hashes the password in libuv's pool; the server used to free
# its user store under that hash (a use after free, found by CI).
core_start 1
leads() { grep -q "takes writes" "$T/c1/graftd.out"; }
wait_until "core 1 leading" leads
core_stop 1

step "one core with a formation size of 1 forms alone and takes writes"
core_start 1
wait_leader
[ -s "$T/c1/data/dbms/cluster_id" ] || fail "no cluster id recorded"
id=$(cat "$T/c1/data/dbms/cluster_id")
core_node 1 write a 3 >/dev/null || fail "no write: $(core_log 1)"

step "restarted, it is the same cluster and still has its writes"
core_stop 1
core_start 1
wait_leader
[ "$(cat "$T/c1/data/dbms/cluster_id")" = "$id" ] || fail "another cluster id after the restart"
[ "$(core_node 1 keys a | wc -l)" = 3 ] || fail "the writes are not all there: $(core_node 1 keys a)"
core_stop 1

step "its Raft port held by another process: it refuses to start, naming the address and the setting"
# libraft itself reports only "I/O error ()" when its listener cannot bind.
node -e "require('net').createServer().listen(${CORE_RAFT[1]}, '127.0.0.1')" &
holder=$!
PIDS+=("$holder")
held() { ! port_free "${CORE_RAFT[1]}"; }
wait_until "port ${CORE_RAFT[1]} held" held
"$GRAFTD" --config "$T/c1/graft.conf" >"$T/held.out" 2>&1 && fail "core 1 started without its Raft port"
grep -q "cannot listen on 127.0.0.1:${CORE_RAFT[1]}: Address already in use; set causal_clustering.raft_listen_address" "$T/held.out" ||
	fail "the error does not name the Raft address: $(tail -3 "$T/held.out")"
kill "$holder"
wait "$holder" 2>/dev/null || true
