#!/usr/bin/env bash
# A listen address naming a host listens on each of its addresses: with
# server.bolt.listen_address=localhost:PORT (and HTTP the same) on a
# machine whose localhost is ::1 and 127.0.0.1 (Debian 12's /etc/hosts),
# the official driver reaches the server at bolt://[::1]:PORT and at
# bolt://127.0.0.1:PORT, and HTTP answers on both (before, graft listened
# on the first address only: "ECONNREFUSED ::1:7687" for a driver trying
# ::1 first). A port taken on ::1 alone stops the start with an error
# naming the address, the host name and the setting.
#
# Where localhost is 127.0.0.1 only, the suite runs in a mount namespace of
# its own whose /etc/hosts adds "::1 localhost", as Debian's has; it is
# skipped when the machine has no ::1 (a chroot without IPv6) or cannot
# make that namespace.
if [ -z "${NET_LOCALHOST_NS:-}" ] && ! getent ahosts localhost | grep -q '^::1 '; then
	grep -qs '^0\{31\}1 .* lo$' /proc/net/if_inet6 ||
		{ echo "SKIP: this machine has no ::1 (/proc/net/if_inet6)"; exit 77; }
	unshare -rm true 2>/dev/null ||
		{ echo "SKIP: localhost is not ::1 here and unshare -rm is not allowed"; exit 77; }
	hosts=${GRAFT_BUILD_DIR:?}/cluster-tests/tmp/net_localhost.hosts
	mkdir -p "${hosts%/*}"
	{ echo "::1 localhost"; cat /etc/hosts; } >"$hosts"
	exec env NET_LOCALHOST_NS=1 unshare -rm sh -c \
		'mount --bind "$1" /etc/hosts && exec bash "$2"' sh "$hosts" "$0"
fi
. "$(dirname "$0")/lib.sh"

njs() { node "$GRAFT_SRC_DIR/cluster-tests/js/net.js" "$@"; }
# http_on IP PORT: the HTTP discovery answer over IP.
http_on() {
	exec 5<>"/dev/tcp/$1/$2" || return 1
	send 5 "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"
	timeout "$BUDGET" cat <&5
	exec 5>&-
}
write_conf "$T/graft.conf" "$T/home" "dbms.security.auth_enabled=false"
echo "server.bolt.listen_address=localhost:$BOLT_PORT" >>"$T/graft.conf"
echo "server.http.listen_address=localhost:$HTTP_PORT" >>"$T/graft.conf"

step "bolt://[::1] and bolt://127.0.0.1 both reach a server listening on localhost"
start_graftd "$T/graft.conf" "$BOLT_PORT" "$T/graftd.out"
for url in "bolt://[::1]:$BOLT_PORT" "bolt://127.0.0.1:$BOLT_PORT"; do
	got=$(njs ping "$url") || fail "the driver at $url: $got"
	[ "$got" = 1 ] || fail "RETURN 1 at $url answered '$got'"
done
for ip in ::1 127.0.0.1; do
	out=$(http_on "$ip" "$HTTP_PORT") || fail "HTTP on $ip refused"
	expect_in "$out" "HTTP/1.1 200" "HTTP on $ip"
done
stop_graftd "$T/graftd.out"

step "a port taken on ::1 alone stops the start, naming the address and the setting"
node -e "require('net').createServer().listen($BOLT_PORT, '::1', () => console.log('up'))" >"$T/holder.out" &
PIDS+=("$!")
holder=$!
wait_until "a process holding [::1]:$BOLT_PORT" grep -q up "$T/holder.out"
set +e; out=$(timeout "$BUDGET" "$GRAFTD" --config "$T/graft.conf" 2>&1); rc=$?; set -e
[ $rc -eq 1 ] || fail "graftd with [::1]:$BOLT_PORT taken exited $rc, want 1: $out"
expect_in "$out" "cannot listen on [::1]:$BOLT_PORT of localhost (server.bolt.listen_address)" "::1 taken"
kill "$holder"; wait "$holder" 2>/dev/null || true
