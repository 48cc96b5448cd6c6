#!/usr/bin/env bash
# Installs the Debian 12 packages graft needs to build and run
# (`tools/deps.sh`, the README's first command); with --test also what the
# tests need (tools/check.sh): Node.js with the pinned npm packages of the
# end-to-end tests (package-lock.json), systemd-analyze for the unit
# check, haproxy for haproxy_cluster.sh, curl for replica_copy_serving.sh's
# HTTP probes and nft (nftables) for the cluster suites' partitions; with --coverage gcovr for tools/coverage.sh
# (docs/coverage.md).
# Fast when everything is already there: apt-get runs only for what is
# missing and `npm ci` only when node_modules is older than
# package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/.."
test=false
coverage=false
case "${1:-}" in
--test) test=true ;;
--coverage) coverage=true ;;
"") ;;
*)
	echo "usage: tools/deps.sh [--test | --coverage]" >&2
	exit 2
	;;
esac
# configure asks for cmocka (the unit tests build with the rest).
packages=(gcc make autoconf automake libtool pkg-config
	libuv1-dev libraft-dev libmsgpack-dev libssl-dev libzstd-dev libcmocka-dev
	libedit-dev libpcre2-dev)
$test && packages+=(systemd haproxy nftables curl)
$coverage && packages+=(gcovr)
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
# Node.js may come from elsewhere than Debian (then npm comes with it): only
# ask Debian for what is not on the PATH.
if $test; then
	command -v node >/dev/null || missing+=(nodejs)
	command -v npm >/dev/null || missing+=(npm)
fi
if [ ${#missing[@]} -gt 0 ]; then
	echo "installing: ${missing[*]}"
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get update -q
	$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
$test || exit 0
# npm writes node_modules/.package-lock.json on every install.
if [ ! -f node_modules/.package-lock.json ] ||
	[ package-lock.json -nt node_modules/.package-lock.json ]; then
	npm ci --no-audit --no-fund --loglevel=error
fi
