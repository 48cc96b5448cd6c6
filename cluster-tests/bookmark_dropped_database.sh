#!/usr/bin/env bash
# Bookmarks name their database by id, the same on every member: in a
# three-core cluster a bookmark of database shop, written on the leader,
# is read on a follower; once shop is dropped and created again, the new
# shop's transactions do not satisfy the old bookmark (the official driver
# gets Neo.ClientError.Database.DatabaseNotFound, as from Neo4j), while a
# bookmark of the new shop and one of the older form without an id are
# waited for as before.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"

cluster_up 3
pick_followers
njs() { node "$GRAFT_SRC_DIR/cluster-tests/js/net.js" "$@"; }
# reads PORT BOOKMARK N: PORT counts N (:B) in shop with BOOKMARK (a
# follower may not have created shop yet: its database then is not there).
reads() { [ "$(njs read-bookmark "$1" shop "$2")" = "$3" ]; }
writable() { njs write-bookmark "$leader" shop >/dev/null; }
leader=${CORE_BOLT[$LEADER]} follower=${CORE_BOLT[$F1]}

step "a bookmark of shop names its database id and is read on a follower"
njs admin "$leader" "CREATE DATABASE shop" || fail "CREATE DATABASE shop"
wait_until "shop on the leader" writable
old=$(njs write-bookmark "$leader" shop) || fail "a write in shop"
[[ $old =~ ^shop:[1-9][0-9]*:[0-9]+$ ]] || fail "the bookmark '$old' names no database id"
wait_until "follower $F1 reading the 2 writes with bookmark $old" reads "$follower" "$old" 2

step "shop dropped and created again: the old bookmark is refused, the new one is served"
njs admin "$leader" "DROP DATABASE shop" || fail "DROP DATABASE shop"
njs admin "$leader" "CREATE DATABASE shop" || fail "CREATE DATABASE shop again"
wait_until "the new shop on the leader" writable
new=$(njs write-bookmark "$leader" shop) || fail "a write in the new shop"
[ "${new%:*}" != "${old%:*}" ] || fail "the new shop has the old one's id: $old, $new"
[ "${new##*:}" -ge "${old##*:}" ] || fail "the new shop's bookmark $new is behind $old: the test proves nothing"
wait_until "follower $F1 reading the new shop with bookmark $new" reads "$follower" "$new" 2
got=$(njs read-bookmark "$follower" shop "$old")
case $got in
Neo.ClientError.Database.DatabaseNotFound*) ;;
*) fail "follower $F1 answered '$got' to the dropped database's bookmark $old" ;;
esac
got=$(njs read-bookmark "$follower" shop "shop:${new##*:}")
[ "$got" = 2 ] || fail "an old-form bookmark shop:${new##*:} read '$got'"

step "a clean stop of every member"
for i in 1 2 3; do core_stop "$i"; done
