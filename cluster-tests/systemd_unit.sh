#!/usr/bin/env bash
# The systemd unit `make` writes is one systemd accepts as it stands
# (`systemd-analyze verify`, which needs no running systemd): every key
# known, its ExecStart this build's graftd, and the state directory graftd
# writes to one systemd creates for the service user.
. "$(dirname "$0")/lib.sh"

unit=$B/deploy/systemd/graft.service
[ -f "$unit" ] || fail "make did not write $unit"
if ! command -v systemd-analyze >/dev/null; then
	echo "SKIP: systemd-analyze is missing (Debian's systemd package; tools/deps.sh --test installs it)"
	exit 77
fi

step "the unit names the installed graftd and graft.conf, and keeps its data under /var/lib/graft"
grep -qE '^ExecStart=/.*/graftd$' "$unit" || fail "no absolute ExecStart to graftd in $unit"
grep -qE '^Environment=GRAFT_CONF=/.*/graft/graft.conf$' "$unit" || fail "no absolute GRAFT_CONF in $unit"
grep -q '@[a-z]*@' "$unit" && fail "unsubstituted placeholders in $unit"
expect_in "$(cat "$unit")" "StateDirectory=graft" "state directory"
expect_in "$(cat "$unit")" "Environment=GRAFT_HOME=/var/lib/graft" "GRAFT_HOME"

step "systemd-analyze verify accepts it, without a word"
mkdir -p "$T/unit"
# verify checks that ExecStart is executable: point it at this build
sed "s|^ExecStart=.*|ExecStart=$GRAFTD|" "$unit" >"$T/unit/graft.service"
out=$(SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --man=no "$T/unit/graft.service" 2>&1) ||
	fail "systemd-analyze verify failed: $out"
[ -z "$out" ] || fail "systemd-analyze verify warned: $out"

step "and refuses a broken one (the check can fail)"
sed 's/^StateDirectory=graft/StateDirectry=graft/' "$T/unit/graft.service" >"$T/unit/broken.service"
out=$(systemd-analyze verify --man=no "$T/unit/broken.service" 2>&1 || true)
expect_in "$out" "StateDirectry" "a misspelt key"
echo "systemd_unit: ok"
