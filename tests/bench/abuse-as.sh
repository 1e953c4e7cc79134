#!/bin/bash
# SPDX-License-Identifier: MIT
# The AS part of `make bench-abuse` (issue 12's targets), loopback only,
# about 2.5 min (the guessing rounds last a minute each): runs tests/cloud/part_asabuse.sh on its own and prints the
# figures it measured (slowloris hold times, connections one address
# gets, legitimate login latency under attack, password checks that
# guessing got through, KDF timing of cheap hashes and unknown names).
# Text to stdout and build/bench-abuse-as.txt; exit status: the checks'.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
out=$top/build/bench-abuse-as.txt
mkdir -p "$top/build"
log=$(mktemp)
# the guessing rounds for a full minute: the issue's bound is per minute
ABUSE_GUESS_SECONDS=${ABUSE_GUESS_SECONDS:-60} CLOUD_PARTS=asabuse \
	"$top/tests/cloud/suite.sh" > "$log" 2>&1
rc=$?
{
	echo "AS under attack (tests/cloud/part_asabuse.sh, $(date -u +%FT%TZ)):"
	sed -n 's/^# \(timing\|slowloris\|guessing\|bound\)/  \1/p' "$log"
	grep -E '^(not )?ok .*[0-9]+ (ms|checks)' "$log" | sed 's/^/  /'
	grep -q '^not ok' "$log" && echo "  FAILED: see the lines marked 'not ok'"
} | tee "$out"
rm -f "$log"
exit $rc
