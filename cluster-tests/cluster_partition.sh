#!/usr/bin/env bash
# Three cores under retrying writers. The leader isolated by nftables rules
# on loopback (a table of the test's own, always deleted at exit): it stops
# taking writes, the two others elect a new leader, there are never two
# writable members, a write sent to the isolated one fails; healed, it
# follows. A follower paused (SIGSTOP) while writes go on, then resumed
# (SIGCONT), catches up. Every acknowledged write ends on every member
# exactly once, and the members' graphs are identical (a name-based
# digest). Without a usable nft (not root, no nftables, a chroot's kernel
# refusing tables) the isolation case is skipped, saying why.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cluster_lib.sh"

cluster_up 3
retrying_start p 3
wait_until "20 acknowledged writes" acked p 20

# writable_count: how many live members take writes now (fails on two).
one_writer_at_most() {
	local i n=0
	for i in 1 2 3; do core_check "$i" writable && n=$((n + 1)); done
	[ "$n" -le 1 ] || fail "$n writable members at once"
}

for round in $(seq 1 "$SOAK_ROUNDS"); do
	if nft_usable; then
		step "round $round: leader $LEADER isolated"
		old=$LEADER
		isolate "$old"
		stepped_down() { one_writer_at_most; ! core_check "$old" writable; }
		wait_until "the isolated leader $old stops taking writes" stepped_down
		new_leader() { one_writer_at_most; find_leader && [ "$LEADER" != "$old" ]; }
		wait_until "a new leader among the others" new_leader
		core_node "$old" expect-error Neo.ClientError.Cluster.NotALeader "CREATE (:W {tag: 'isolated'})" ||
			fail "a write on the isolated member $old"
		n=$(acked_count p)
		more() { one_writer_at_most; acked p $((n + 20)); }
		wait_until "writes acknowledged by the new leader" more
		heal
		follows() { one_writer_at_most; core_check "$old" read-only; }
		wait_until "the healed member $old following" follows
	else
		echo "SKIP: leader isolation: $NFT_WHY"
	fi

	step "round $round: a follower paused and resumed"
	wait_leader
	f=$(( LEADER % 3 + 1 ))
	core_kill "$f" STOP
	n=$(acked_count p)
	wait_until "writes acknowledged while core $f is paused" acked p $((n + 20))
	core_kill "$f" CONT
	wait_cluster
done

step "every acknowledged write once on every member; identical graphs"
retrying_stop p
bad=$(grep '^# failed' "$T/acks.p" | grep -v 'Neo.DatabaseError.Transaction.TransactionCommitFailed' || true)
[ -z "$bad" ] || fail "writes failed other than with an unknown outcome: $(echo "$bad" | head -3)"
acked_everywhere p
for i in 1 2 3; do core_stop "$i"; done
echo PASS
