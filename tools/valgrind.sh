#!/usr/bin/env bash
# Runs the cmocka unit tests under valgrind's memcheck: invalid reads and
# writes, uninitialised bytes reaching a system call or a decision, and
# definite leaks. It finds what tools/check.sh's AddressSanitizer build does
# not look for: uninitialised memory (a header written to disk with bytes
# nobody set) and a handle in a returned frame that a loop still reads.
# Its own build in _vg/ (no sanitizer: valgrind and ASan do not mix).
#   tools/valgrind.sh [tests/unit/test_x ...]   (default: every unit test)
# Suppressions (each says why it is not ours): tools/valgrind.supp.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || {
	echo "valgrind is missing: apt-get install valgrind" >&2
	exit 2
}
if [ ! -x configure ] || [ configure.ac -nt configure ]; then
	autoreconf -fi
fi
mkdir -p _vg
cd _vg
[ -f config.status ] || ../configure --enable-debug -q
jobs=$(nproc 2>/dev/null || echo 2)
make -j"$jobs"
if [ $# -gt 0 ]; then
	tests="$*"
else
	tests=$(make -s -f Makefile -f <(printf 'print-tests:\n\t@echo $(TESTS)\n') print-tests |
		tr ' ' '\n' | grep '^tests/unit/' | tr '\n' ' ')
fi
if ! make -j"$jobs" check TESTS="$tests" LOG_COMPILER=valgrind \
	AM_LOG_FLAGS="-q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --suppressions=$PWD/../tools/valgrind.supp"; then
	grep -l '==[0-9]*==' tests/unit/*.log | xargs -r grep -h -A20 '==[0-9]*== [A-Z]' | head -200
	exit 1
fi
