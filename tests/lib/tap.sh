# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# TAP helpers shared by the suite scripts (sourced).
#
#   tap_run PREFIX CMD...   run CMD, re-emit its TAP results as top-level
#                           lines prefixed with PREFIX, return CMD's status
#   tap_ok NAME / tap_fail NAME [WHY] / tap_skip NAME WHY
#   tap_check NAME CMD...   run CMD: ok, or not ok with the last lines of
#                           its output; returns CMD's success

TAP_N=${TAP_N:-0}
TAP_FAILED=${TAP_FAILED:-0}	# not ok lines so far: a suite's exit status

tap_ok() { TAP_N=$((TAP_N + 1)); echo "ok $TAP_N - $1"; }
tap_fail() {
	TAP_N=$((TAP_N + 1)) TAP_FAILED=$((TAP_FAILED + 1)); echo "not ok $TAP_N - $1"
	[ -n "${2:-}" ] && echo "#   $2"
	return 0
}
tap_skip() { TAP_N=$((TAP_N + 1)); echo "ok $TAP_N - $1 # SKIP $2"; }

tap_check() {
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then
		tap_ok "$name"
	else
		tap_fail "$name" "command: $*"
		printf '%s\n' "$out" | tail -n 25 | sed 's/^/#   /'
		return 1
	fi
}

# Re-number a TAP stream from stdin under PREFIX; prints the count of
# failures to fd 3 is overkill, so callers use the exit status of the
# producing command plus the not-ok lines they see.
tap_relabel() {
	local prefix=$1 line rest
	while IFS= read -r line; do
		case "$line" in
		"ok "*|"not ok "*)
			local st=ok
			[ "${line#not ok}" != "$line" ] && st="not ok"
			rest=${line#"$st" }
			rest=${rest#* }          # drop the number
			rest=${rest#- }
			TAP_N=$((TAP_N + 1))
			echo "$st $TAP_N - $prefix: $rest" ;;
		"TAP version"*|"1.."*) ;;
		*) echo "# $line" ;;
		esac
	done
}

tap_run() {
	local prefix=$1; shift
	local out rc
	out=$(mktemp)
	"$@" > "$out" 2>&1
	rc=$?
	tap_relabel "$prefix" < "$out"
	if [ "$rc" -ne 0 ] && ! grep -q '^not ok' "$out"; then
		tap_fail "$prefix: exited with status $rc"
	fi
	rm -f "$out"
	return $rc
}

tap_plan() { echo "1..$TAP_N"; }
