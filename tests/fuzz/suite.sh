#!/bin/bash
# SPDX-License-Identifier: MIT
# Builds the libFuzzer targets (tests/fuzz/fuzz_*.c, clang with ASan and
# UBSan) and runs each briefly from a seed corpus of valid messages made by
# build/tools/proto_seeds (DNS queries from build/tools/dns_seeds for
# fuzz_dns). A crash, leak, sanitizer report or a target that
# did not run fails the suite. FUZZ_SECONDS sets the time per target
# (default 20: each target fuzzes for 20 s, plus the build).
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
# the AS frame, config and HTTP parsers: a few valid inputs each
mkdir -p "$seeds/as" "$seeds/config" "$seeds/http" "$seeds/policy"
printf '\0\0\0\x2e\x01\x10\0\0\0\0\0\x01\0\x01\0\x05alice\0\x02\0\x01x\0\x03\0\x20%032d' 0 \
	> "$seeds/as/auth"
printf '\0\0\0\x08\x01\x20\0\0\0\0\0\x02' > "$seeds/as/gnlist"
cp "$top"/deploy/config/*.conf "$seeds/config/"
printf 'as.workers=3\n[as]\nlisten = 127.0.0.1:7443\ndomain = x.test\n' > "$seeds/config/set"
printf 'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n' > "$seeds/http/get"
printf 'HEAD /healthz?x=1 HTTP/1.0\n\n' > "$seeds/http/head"
printf 'g=nodes,staff;r=cams,*' > "$seeds/policy/ext"
printf '# p\nrule nodes nodes\nrule staff cams\nmember alice staff\n' > "$seeds/policy/file"
status=0
for bin in "$out"/fuzz_*; do
	[ -x "$bin" ] || continue
	name=$(basename "$bin")
	case $name in
	fuzz_nms|fuzz_relay) seed=$seeds/sel ;;
	fuzz_dns) seed=$seeds/dns ;;
	fuzz_asframe) seed=$seeds/as ;;
	fuzz_config) seed=$seeds/config ;;
	fuzz_http) seed=$seeds/http ;;
	fuzz_policy) seed=$seeds/policy ;;
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
