#!/bin/bash
# SPDX-License-Identifier: MIT
# User-space unit tests, built with ASan/UBSan (SAN=1) and run one by one.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib/tap.sh"
echo "TAP version 13"
if ! make -s -C "$top/user" SAN=1 unit > "$top/build/unit-build.log" 2>&1; then
	tap_fail "unit: build (SAN=1)" "see build/unit-build.log"
	sed 's/^/# /' "$top/build/unit-build.log" | tail -n 40
	tap_plan
	exit 1
fi
status=0
for t in "$top"/build/san/test/test_*; do
	[ -x "$t" ] || continue
	tap_run "$(basename "$t")" env ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 "$t" || status=1
done
tap_plan
exit $status
