#!/usr/bin/env bash
# The one command that installs the build dependencies, builds graft with
# AddressSanitizer and UndefinedBehaviorSanitizer, and runs every test
# (`make check`: the layer check of tools/layers.sh, cmocka unit tests and
# the cluster-tests/ suites).
# The build goes to _build/ and is reused by the next run.
set -euo pipefail
cd "$(dirname "$0")/.."
./tools/deps.sh --test
if [ ! -x configure ] || [ configure.ac -nt configure ]; then
	autoreconf -fi
fi
mkdir -p _build
cd _build
if [ ! -f config.status ] || ! grep -q -- "--enable-sanitize" config.status; then
	../configure --enable-debug --enable-sanitize -q
fi
jobs=$(nproc 2>/dev/null || echo 2)
make -j"$jobs"
# The layer order first: a wrong include or call fails here in seconds.
../tools/layers.sh .
if ! make -j"$jobs" check; then
	cat test-suite.log
	exit 1
fi
