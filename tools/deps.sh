#!/usr/bin/env bash
# Installs the Debian 12 packages graft needs to build and test. Fast when
# everything is already there: it only calls apt-get for what is missing.
set -euo pipefail
packages=(gcc make autoconf automake libtool pkg-config
	libuv1-dev libraft-dev libmsgpack-dev libssl-dev libzstd-dev libcmocka-dev)
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
