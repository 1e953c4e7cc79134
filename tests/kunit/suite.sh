#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tests/run.sh suite: the module's KUnit suites in QEMU, then a check that
# the harness itself can fail.
#
# Prints flat TAP: "ok N - kunit: <suite>: <case>" per test case, one line
# per suite, the guest-wide checks (warnings, lockdep, KASAN, timeout), and
# the self-check lines. A cold run builds the KUnit kernel first (6-8 min
# on 2 idle CPUs; cached afterwards, see docs/kunit.md); a cached run takes
# under a minute.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/tap.sh
. "$here/../lib/tap.sh"

status=0

# The parser on a fixed console log holding every failure shape it knows
# (failed case, lost and glued result lines, a suite that lies, missing
# and unexpected suites, a warning, taint, no end marker).
if diff -u "$here/ktap-fixture.expected" \
	<(awk -v expected="good failing glued liar absent" -f "$here/ktap.awk" \
	      "$here/ktap-fixture.log") > /dev/null; then
	tap_ok "kunit: parser: ktap.awk on ktap-fixture.log gives ktap-fixture.expected"
else
	tap_fail "kunit: parser: ktap.awk on ktap-fixture.log gives ktap-fixture.expected"
	status=1
fi

tap_run kunit "$here/run.sh" || status=1

# The self-check: selftest_test.c plants a failed expectation, a kernel
# warning and a case whose result line overflows its log. run.sh must
# report exactly those, and fail; a harness that passes them is broken.
out=$(KUNIT_SELFTEST_FAIL=1 "$here/run.sh" 2>&1)
rc=$?
failed=$(printf '%s\n' "$out" | sed -n 's/^not ok [0-9]* - //p')

check() {
	local name=$1 pattern=$2
	if printf '%s\n' "$failed" | grep -q -- "$pattern"; then
		tap_ok "kunit: self-check: $name"
	else
		tap_fail "kunit: self-check: $name" "no 'not ok' line matching '$pattern'"
		status=1
	fi
}
check "a failed expectation is reported" '^cyphonic_selftest: selftest_fails$'
check "a case whose result line was lost is reported" \
	'^cyphonic_selftest: case #4: result line missing'
check "a kernel warning fails the run" '^guest: no kernel warning'
check "a warning's taint fails the run" '^guest: kernel not tainted'
check "the failing suite is reported" '^cyphonic_selftest (suite:'

if printf '%s\n' "$out" | grep -q '^ok [0-9]* - cyphonic_selftest: selftest_passes$'; then
	tap_ok "kunit: self-check: a passing case next to them still passes"
else
	tap_fail "kunit: self-check: a passing case next to them still passes"
	status=1
fi
others=$(printf '%s\n' "$failed" | grep -v -e '^cyphonic_selftest' \
	-e '^guest: no kernel warning' -e '^guest: kernel not tainted')
if [ -z "$others" ]; then
	tap_ok "kunit: self-check: nothing but the planted failures failed"
else
	tap_fail "kunit: self-check: nothing but the planted failures failed"
	printf '%s\n' "$others" | head -n 10 | sed 's/^/#   /'
	status=1
fi
if [ "$rc" -ne 0 ]; then
	tap_ok "kunit: self-check: run.sh exits non-zero"
else
	tap_fail "kunit: self-check: run.sh exits non-zero" "it exited 0"
	status=1
fi
tap_plan
exit $status
