#!/bin/bash
# SPDX-License-Identifier: MIT
# User-space unit tests, built with ASan/UBSan (SAN=1) and run one by one.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib/tap.sh"
. "$top/tests/lib/pg.sh"
. "$top/tests/lib/redis.sh"
echo "TAP version 13"
if ! make -s -C "$top/user" SAN=1 unit > "$top/build/unit-build.log" 2>&1; then
	tap_fail "unit: build (SAN=1)" "see build/unit-build.log"
	sed 's/^/# /' "$top/build/unit-build.log" | tail -n 40
	tap_plan
	exit 1
fi
status=0
# The store tests run against PostgreSQL too (CYPH_TEST_PG): a real server,
# and a missing one is a failure, not a skip.
trap pg_stop EXIT
if pg_start 2> "$top/build/unit-pg.log"; then
	tap_ok "unit: PostgreSQL started for the store tests (${PG_BIN%/bin})"
else
	tap_fail "unit: PostgreSQL for the store tests" "see build/unit-pg.log"
	sed 's/^/# /' "$top/build/unit-pg.log" | tail -n 20
	status=1
fi
# The NMS store and TRS sync tests run against Redis too (CYPH_TEST_REDIS).
trap 'pg_stop; redis_stop' EXIT
if redis_start 2> "$top/build/unit-redis.log"; then
	tap_ok "unit: Redis started for the NMS store and TRS sync tests ($(redis-server --version | cut -d' ' -f3))"
else
	tap_fail "unit: Redis for the NMS store and TRS sync tests" "see build/unit-redis.log"
	sed 's/^/# /' "$top/build/unit-redis.log" | tail -n 20
	status=1
fi
for t in "$top"/build/san/test/test_*; do
	[ -x "$t" ] || continue
	tap_run "$(basename "$t")" env ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 "$t" || status=1
done
tap_plan
exit $status
