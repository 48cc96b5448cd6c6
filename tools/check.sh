#!/usr/bin/env bash
# The one command that installs the build dependencies, builds graft with
# AddressSanitizer and UndefinedBehaviorSanitizer, and runs every test
# (`make check`: the layer check of tools/layers.sh, cmocka unit tests and
# the cluster-tests/ suites), then builds the unit tests with ThreadSanitizer
# in _tsan/ and runs the threaded ones.
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
# ThreadSanitizer over the unit tests of the code that shares memory between
# the statement threads and the loop (util/gate, util/pool, what the cluster
# publishes for procedures, transactions on worker threads checked against
# a serial model: test_db_serial, the engine's transactions kept per slot
# and reused across threads: test_cypher_engine). Only those:
# Debian's libuv is not instrumented, so TSan cannot see the ordering its
# own work queue and async handles give, and flags every hand-over between
# a libuv worker and the loop (the transaction log's) as a race.
cd ..
mkdir -p _tsan
cd _tsan
if [ ! -f config.status ] || ! grep -q -- "--enable-tsan" config.status; then
	../configure --enable-debug --enable-tsan -q
fi
if ! make -j"$jobs" check TESTS="tests/unit/test_gate tests/unit/test_cluster_topology tests/unit/test_db_serial tests/unit/test_dbms_replace tests/unit/test_db_entry tests/unit/test_cypher_engine"; then
	cat test-suite.log
	exit 1
fi
