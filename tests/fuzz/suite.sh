#!/bin/bash
# SPDX-License-Identifier: MIT
# Builds the libFuzzer targets (tests/fuzz/fuzz_*.c, clang with ASan and
# UBSan) and runs each briefly from a seed corpus of valid messages made by
# build/tools/proto_seeds (DNS queries from build/tools/dns_seeds for
# fuzz_dns). A crash, leak, sanitizer report or a target that
# did not run fails the suite. FUZZ_SECONDS sets the time per target
# (default 20: five targets fuzz for 100 s, plus the build).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib/tap.sh"
secs=${FUZZ_SECONDS:-20}
out=$top/build/fuzz
echo "TAP version 13"
mkdir -p "$out"
if ! make -s -C "$top/user" -j2 fuzz "$top/build/tools/proto_seeds" "$top/build/tools/dns_seeds" \
	> "$out/build.log" 2>&1; then
	tap_fail "fuzz: build (clang -fsanitize=fuzzer,address,undefined)" "see build/fuzz/build.log"
	sed 's/^/# /' "$out/build.log" | tail -n 30
	tap_plan
	exit 1
fi
seeds=$out/seeds
rm -rf "$seeds"
mkdir -p "$seeds" "$seeds/dns"
"$top/build/tools/proto_seeds" "$seeds"
"$top/build/tools/dns_seeds" "$seeds/dns"
status=0
for bin in "$out"/fuzz_*; do
	[ -x "$bin" ] || continue
	name=$(basename "$bin")
	case $name in
	fuzz_nms|fuzz_relay) seed=$seeds/sel ;;
	fuzz_dns) seed=$seeds/dns ;;
	*) seed=$seeds/raw ;;
	esac
	corpus=$out/corpus/$name
	mkdir -p "$corpus" "$out/artifacts"
	log=$out/$name.log
	# -timeout: one input taking 10 s is a hang; -rss_limit_mb: bounded memory.
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=1024 \
		-artifact_prefix="$out/artifacts/$name-" "$corpus" "$seed" > "$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -n 1)
	if [ "$rc" -eq 0 ] && [ "${runs:-0}" -gt 1000 ]; then
		tap_ok "$name: ${runs} inputs in ${secs} s, no crash or sanitizer report"
	else
		tap_fail "$name: exit $rc after ${runs:-0} runs" "see build/fuzz/$name.log"
		grep -E 'ERROR|SUMMARY|artifact' "$log" | head -n 10 | sed 's/^/# /'
		status=1
	fi
done
tap_plan
exit $status
