#!/usr/bin/env bash
# Bookmarks name their database by id on a SINGLE server too: a database
# created there gets an id above 0 that survives a restart, and once it is
# dropped and created again the new database's id is larger, so the
# official driver's old bookmark is refused with
# Neo.ClientError.Database.DatabaseNotFound (before, every id was 0 on a
# SINGLE server and the new database's transactions satisfied it), while
# the new bookmark and one of the older form without an id are served.
. "$(dirname "$0")/lib.sh"

njs() { node "$GRAFT_SRC_DIR/cluster-tests/js/net.js" "$@"; }
# reads BOOKMARK N: the server counts N (:B) in shop with BOOKMARK.
reads() { [ "$(njs read-bookmark "$BOLT_PORT" shop "$1")" = "$2" ]; }
write_conf "$T/graft.conf" "$T/home" "dbms.security.auth_enabled=false"
start_graftd "$T/graft.conf" "$BOLT_PORT" "$T/graftd.out"

step "a database created on a SINGLE server has an id, kept across a restart"
njs admin "$BOLT_PORT" "CREATE DATABASE shop" || fail "CREATE DATABASE shop"
old=$(njs write-bookmark "$BOLT_PORT" shop) || fail "a write in shop"
[[ $old =~ ^shop:[1-9][0-9]*:[0-9]+$ ]] || fail "the bookmark '$old' names no database id"
stop_graftd "$T/graftd.out"
start_graftd "$T/graft.conf" "$BOLT_PORT" "$T/graftd2.out"
again=$(njs write-bookmark "$BOLT_PORT" shop) || fail "a write in shop after the restart"
[ "${again%:*}" = "${old%:*}" ] || fail "shop's id changed across the restart: $old, then $again"
reads "$old" 2 || fail "the bookmark $old after the restart"

step "shop dropped and created again: the old bookmark is refused, the new one is served"
njs admin "$BOLT_PORT" "DROP DATABASE shop" || fail "DROP DATABASE shop"
njs admin "$BOLT_PORT" "CREATE DATABASE shop" || fail "CREATE DATABASE shop again"
new=$(njs write-bookmark "$BOLT_PORT" shop) || fail "a write in the new shop"
[ "${new%:*}" != "${old%:*}" ] || fail "the new shop has the old one's id: $old, $new"
got=$(njs read-bookmark "$BOLT_PORT" shop "$old")
case $got in
Neo.ClientError.Database.DatabaseNotFound*) ;;
*) fail "the dropped database's bookmark $old answered '$got'" ;;
esac
reads "$new" 1 || fail "the new shop's bookmark $new"
reads "shop:${new##*:}" 1 || fail "an old-form bookmark shop:${new##*:}"

step "a clean stop"
stop_graftd "$T/graftd2.out"
