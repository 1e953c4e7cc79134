#!/bin/bash
# SPDX-License-Identifier: MIT
# Runs every test suite and prints one summary.
#
# A suite is an executable tests/<dir>/suite.sh that prints TAP on stdout
# ("ok N - name", "not ok N - name", "ok N - name # SKIP reason") and exits
# non-zero on failure. Suites run in the order of their directory names;
# SUITES="unit vm" runs only those. Full logs go to build/test-logs/.
#
# The last line is "N passed, N failed[, N skipped]"; the exit status is
# non-zero when anything failed.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
logs="$top/build/test-logs"
mkdir -p "$logs"

pass=0 fail=0 skip=0
failed_names=()

suites=()
if [ -n "${SUITES:-}" ]; then
	for s in $SUITES; do suites+=("$top/tests/$s/suite.sh"); done
else
	for f in "$top"/tests/*/suite.sh; do suites+=("$f"); done
fi

for s in "${suites[@]}"; do
	name=$(basename "$(dirname "$s")")
	log="$logs/$name.log"
	echo "=== suite $name"
	start=$(date +%s)
	if [ ! -x "$s" ]; then
		echo "not ok 1 - $name: $s is missing or not executable" > "$log"
		rc=1
	else
		"$s" > "$log" 2> "$logs/$name.stderr"
		rc=$?
	fi
	p=0 f=0 k=0
	while IFS= read -r line; do
		case "$line" in
		"ok "*"# SKIP"*|"ok "*"# skip"*)
			k=$((k + 1)); echo "  $line" ;;
		"ok "*)
			p=$((p + 1)); echo "  $line" ;;
		"not ok "*)
			f=$((f + 1)); echo "  $line"; failed_names+=("$name: ${line#not ok }") ;;
		esac
	done < "$log"
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "  not ok - suite $name exited with status $rc without reporting a failure"
		failed_names+=("$name: exited $rc")
	fi
	if [ $((p + f + k)) -eq 0 ]; then
		f=1
		echo "  not ok - suite $name ran no test"
		failed_names+=("$name: ran no test")
	fi
	if [ "$f" -ne 0 ]; then
		echo "--- last lines of $log and its stderr:"
		tail -n 30 "$log" | sed 's/^/  | /'
		tail -n 30 "$logs/$name.stderr" | sed 's/^/  ! /'
	fi
	echo "=== suite $name: $p passed, $f failed, $k skipped ($(( $(date +%s) - start )) s)"
	pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + k))
done

if [ "$fail" -ne 0 ]; then
	echo "FAILED:"
	printf '  %s\n' "${failed_names[@]}"
fi
if [ "$skip" -ne 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ]
