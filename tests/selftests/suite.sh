#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Test suite "selftests" (run by tests/run.sh): checks the VM harness
# itself, then boots ONE VM that runs every scenario (run_all.sh) and
# re-emits its TAP. Builds nothing: `make check` has built the module and
# the tools already.
#
#   SELFTESTS="roaming rekey" tests/selftests/suite.sh   # only these
#   VM_CONSOLE=1 ...                                     # watch the console
#
# Logs: build/vm-logs/selftests.log (console), build/vm-logs/harness-*.log.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../lib/tap.sh
. "$top/tests/lib/tap.sh"
run="$top/tests/vm/run.sh"
checks="$top/tests/vm/checks"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
tap_fail() { TAP_N=$((TAP_N + 1)); fails=$((fails + 1)); echo "not ok $TAP_N - $1"; [ -n "${2:-}" ] && echo "#   $2"; return 0; }

# ---- prerequisites (never skipped: this machine must build them) ----
for f in kmod/cyphonic.ko build/bin/cyphctl build/tools/nl_negative build/tools/seqcheck; do
	if [ -e "$top/$f" ]; then
		tap_ok "built: $f"
	else
		tap_fail "built: $f" "missing; run make first"
	fi
done

# ---- the harness ----
t0=$(date +%s)
VM_NAME=harness-clean "$run" "$checks/clean.sh" "two words" > "$tmp/out" 2> "$tmp/err"
rc=$?
if [ "$rc" -eq 0 ] && grep -q '^guest ok: .*args: two words$' "$tmp/out"; then
	tap_ok "harness: guest environment (root, no NIC, PATH, overlay, module, args)"
else
	tap_fail "harness: guest environment" "status $rc: $(tail -n 5 "$tmp/out" "$tmp/err" | tr '\n' ' ')"
fi
if [ ! -e /etc/cyphonic-vm-write-test ]; then
	tap_ok "harness: guest writes stay in the overlay"
else
	tap_fail "harness: guest writes stay in the overlay" "/etc/cyphonic-vm-write-test appeared on the host"
fi
boot=$(sed -n 's/^vm: boot took \([0-9.]*\) s.*/\1/p' "$tmp/err")
echo "# VM boot to script start: ${boot:-?} s (guest uptime), whole VM run $(($(date +%s) - t0)) s"

VM_NAME=harness-warn "$run" "$checks/warn_and_exit.sh" 7 > "$tmp/out" 2> "$tmp/err"
rc=$?
if [ "$rc" -eq 7 ]; then
	tap_ok "harness: script exit status becomes run.sh's status"
else
	tap_fail "harness: script exit status becomes run.sh's status" "got $rc, expected 7"
fi
if grep -q 'kernel console shows problems' "$tmp/err" && grep -q 'harness_selfcheck' "$tmp/err" &&
	! grep -A3 'kernel console shows problems' "$tmp/err" | grep -q 'must not count'; then
	tap_ok "harness: a kernel WARNING on the console fails the run (user text does not)"
else
	tap_fail "harness: a kernel WARNING on the console fails the run" "$(tr '\n' ' ' < "$tmp/err")"
fi

VM_NAME=harness-timeout VM_TIMEOUT=25 "$run" "$checks/hang.sh" > "$tmp/out" 2> "$tmp/err"
rc=$?
if [ "$rc" -ne 0 ] && grep -q 'timed out after 25s' "$tmp/err"; then
	tap_ok "harness: VM_TIMEOUT stops a hung guest and fails"
else
	tap_fail "harness: VM_TIMEOUT stops a hung guest and fails" "status $rc: $(tr '\n' ' ' < "$tmp/err")"
fi

VM_NAME=harness-stall VM_TEST_STALL_BOOTS=1 VM_BOOT_TIMEOUT=${HARNESS_BOOT_TIMEOUT:-30} \
	"$run" "$checks/clean.sh" > "$tmp/out" 2> "$tmp/err"
rc=$?
if [ "$rc" -eq 0 ] && grep -q "^guest ok" "$tmp/out" && grep -q "silent for .*before its init started .*attempt 1 of 2" "$tmp/err" &&
	! grep -q 'attempt 2 of 2' "$tmp/err"; then
	tap_ok "harness: a guest stalled before its init is booted again, and the second boot runs the script"
else
	tap_fail "harness: a guest stalled before its init is booted again, and the second boot runs the script" "status $rc: $(tr '\n' ' ' < "$tmp/err")"
fi
VM_NAME=harness-stall VM_TEST_STALL_BOOTS=9 VM_BOOT_TIMEOUT=${HARNESS_BOOT_TIMEOUT:-30} VM_BOOT_TRIES=1 \
	"$run" "$checks/clean.sh" > "$tmp/out" 2> "$tmp/err"
rc=$?
if [ "$rc" -ne 0 ] && grep -q "no boot reached the guest's init (1 tried" "$tmp/err"; then
	tap_ok "harness: a guest that stalls in every boot fails the run (VM_BOOT_TRIES)"
else
	tap_fail "harness: a guest that stalls in every boot fails the run" "status $rc: $(tr '\n' ' ' < "$tmp/err")"
fi

# ---- the scenarios, in one VM ----
t0=$(date +%s)
# Every scenario has its own limit in run_all.sh; this one only stops a
# hung guest. The whole list takes 20-30 min of guest time (adapter_nat,
# adapter_admission and cyphonicd_relay 5-7 min each on a loaded host),
# past run.sh's default of 20 min.
# shellcheck disable=SC2086
VM_NAME=selftests VM_TIMEOUT=${VM_TIMEOUT:-3600} "$run" "$top/tests/selftests/run_all.sh" ${SELFTESTS:-} \
	> "$tmp/out" 2> "$tmp/err"
rc=$?
while IFS= read -r line; do
	case "$line" in
	"ok "*|"not ok "*)
		st=ok
		[ "${line#not ok}" != "$line" ] && st="not ok" fails=$((fails + 1))
		rest=${line#"$st" }
		rest=${rest#* }
		rest=${rest#- }
		TAP_N=$((TAP_N + 1))
		echo "$st $TAP_N - $rest" ;;
	"TAP version"*|"1.."*) ;;
	*) echo "# $line" ;;
	esac
done < "$tmp/out"
sed 's/^/# /' "$tmp/err"
echo "# selftest VM run: $(($(date +%s) - t0)) s"
if [ "$rc" -eq 0 ]; then
	tap_ok "selftest VM run: all scenarios passed, kernel console clean"
else
	tap_fail "selftest VM run: status $rc (see build/vm-logs/selftests.log)"
fi
tap_plan
[ "$fails" -eq 0 ]
