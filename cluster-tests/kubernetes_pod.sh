#!/usr/bin/env bash
# deploy/kubernetes: the image and the pod. The Dockerfile builds on Debian
# 12 by name only, runs as a non-root user with /data as a volume, installs
# the run-time library of every -dev package tools/deps.sh builds with, and
# bakes in a configuration graftd accepts. The pods run as that user with
# fsGroup, a read-only root and no capabilities; the StatefulSet's probes
# ask a real server, started on the manifests' graft.conf, what they say
# they ask: startup and liveness the discovery document, readiness whether
# the database is available, all without credentials. No registry host
# name appears under deploy/.
. "$(dirname "$0")/lib.sh"

D=$GRAFT_SRC_DIR/deploy/kubernetes
K=$D/single

step "the Dockerfile: Debian 12 by name, a non-root user, /data a volume"
froms=$(grep -E '^FROM ' "$D/Dockerfile")
[ "$(grep -cvE '^FROM debian:12( AS [a-z]+)?$' <<<"$froms")" -eq 0 ] || fail "a base other than debian:12: $froms"
user=$(sed -n 's/^USER //p' "$D/Dockerfile" | tail -1)
[ -n "$user" ] && [ "${user%%:*}" != 0 ] && [ "${user%%:*}" != root ] || fail "the image runs as root: USER '$user'"
grep -qE '^VOLUME .*/data' "$D/Dockerfile" || fail "/data is not a volume"
grep -q 'tools/deps.sh' "$D/Dockerfile" || fail "the build does not install tools/deps.sh's packages"

step "the image installs the run-time library of every -dev package it builds with"
runtime=$(sed -n '/^FROM debian:12$/,$p' "$D/Dockerfile")
for dev in $(grep -oE 'lib[a-z0-9.+-]+-dev' "$GRAFT_SRC_DIR/tools/deps.sh" | sort -u); do
	[ "$dev" = libcmocka-dev ] && continue # the unit tests only
	lib=$(dpkg-query -W -f='${Depends}' "$dev" | tr ',' '\n' | sed 's/^ *//; s/ .*//' |
		grep -E '^lib' | grep -v -- '-dev$' | head -1)
	[ -n "$lib" ] || fail "no run-time library found for $dev"
	grep -qw -- "$lib" <<<"$runtime" || fail "the image lacks $lib, the run-time library of $dev"
done

step "the configuration baked into the image is valid"
out=$("$GRAFT_ADMIN" --config "$D/graft-image.conf" server validate-config 2>&1) ||
	fail "graft-image.conf: $out"

step "the pods run as the image's user, with fsGroup, a read-only root, no capabilities"
pod=$(cd "$GRAFT_SRC_DIR" && node -e '
const yaml = require("js-yaml"), fs = require("fs")
for (const f of process.argv.slice(1)) {
  for (const d of yaml.loadAll(fs.readFileSync(f, "utf8"))) {
    if (!d || !d.spec) continue
    const t = d.kind === "CronJob" ? d.spec.jobTemplate.spec.template : d.spec.template
    if (!t) continue
    const sc = t.spec.securityContext || {}
    console.log(`${d.kind} pod runAsNonRoot=${sc.runAsNonRoot} runAsUser=${sc.runAsUser} fsGroup=${sc.fsGroup}`)
    for (const c of [...(t.spec.initContainers || []), ...t.spec.containers]) {
      const s = c.securityContext || {}
      console.log(`${d.kind} ${c.name} readOnlyRoot=${s.readOnlyRootFilesystem} escalation=${s.allowPrivilegeEscalation} drop=${(s.capabilities || {}).drop}`)
      for (const p of ["startupProbe", "livenessProbe", "readinessProbe"])
        if (c[p]) console.log(`${d.kind} ${c.name} ${p} ${c[p].httpGet.path} ${c[p].httpGet.port}`)
    }
  }
}' "$K/statefulset.yaml" "$K/backup-cronjob.yaml")
uid=${user%%:*}
for kind in StatefulSet CronJob; do
	expect_in "$pod" "$kind pod runAsNonRoot=true runAsUser=$uid fsGroup=$uid" "$kind pod security"
done
[ "$(grep -c 'readOnlyRoot=true escalation=false drop=ALL' <<<"$pod")" -eq 3 ] ||
	fail "a container without the restricted securityContext: $pod"

step "the probes mean what they say, asked of a server on the manifests' graft.conf"
for p in startupProbe livenessProbe readinessProbe; do
	grep -q "StatefulSet graftd $p .* http$" <<<"$pod" || fail "no $p on the http port: $pod"
done
grep -q "readinessProbe /db/neo4j/cluster/available" <<<"$pod" || fail "readiness does not ask for the database: $pod"
# the manifests' settings, on this test's loopback ports and directories
write_conf "$T/graft.conf" "$T/home" $(grep -vE '^#|address=|directories\.' "$K/graft.conf")
"$GRAFT_ADMIN" --config "$T/graft.conf" dbms set-initial-password 'k8s-secret-1' >/dev/null
start_graftd "$T/graft.conf" "$HTTP_PORT" "$T/graftd.out"
while read -r _ _ probe path _; do
	out=$(http_get "$HTTP_PORT" "$path")
	expect_in "$out" "HTTP/1.1 200 OK" "$probe $path without credentials"
done < <(grep 'StatefulSet graftd .*Probe' <<<"$pod")
expect_in "$(http_get "$HTTP_PORT" /db/nosuchdb/cluster/available)" "404" "readiness of a missing database"
stop_graftd "$T/graftd.out"

step "no registry host names under deploy/"
hosts=$(grep -rnoE '[a-z0-9-]+(\.[a-z0-9-]+)+(:[0-9]+)?/[a-z0-9._/-]+:[a-z0-9._-]+' "$GRAFT_SRC_DIR/deploy" || true)
[ -z "$hosts" ] || fail "registry host names: $hosts"
echo "PASS"
