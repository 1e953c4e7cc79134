# SPDX-License-Identifier: GPL-2.0
# Parses the serial console of a KUnit guest booted by run.sh.
#
#   awk -v expected="suite1 suite2" -f ktap.awk console.log
#
# The guest's init prints each suite's /sys/kernel/debug/kunit/<suite>/
# results between "@@CYPH-KUNIT begin <suite>" and "@@CYPH-KUNIT end
# <suite>". Only those blocks are parsed: on 6.1 a module's suites print
# no top-level KTAP header in the kernel log, which is how `kunit.py
# parse` came to miss a failing suite.
#
# Output, one item per line, for run.sh to number:
#   RESULT ok <description>       RESULT not ok <description>
#   RESULT ok <description> # SKIP <why>
#   DIAG <text>                   (belongs to the RESULT line before it)
#
# Besides each case and each suite, it checks what a passing run cannot
# show in KTAP: that the guest finished, that every expected suite (and
# no other) ran, that each suite reported every case of its plan (a case
# log over 512 bytes loses its own result line on 6.1), and that the
# console has no kernel warning, lockdep splat or KASAN report.

function result(ok, desc) { print "RESULT " (ok ? "ok " : "not ok ") desc }
function diag(text) { print "DIAG " text }

BEGIN {
	nexp = split(expected, exp_list, " ")
	for (i = 1; i <= nexp; i++)
		want[exp_list[i]] = 1
	nsuites = 0
	nwarn = 0
	inblock = 0
	done = 0
	insmod = "missing"
	rmmod = "missing"
	tainted = ""
	debug_locks = ""
	# What the kernel prints for a warning, a lockdep or RCU splat, a
	# KASAN/UBSAN report, list corruption, a stall or an oops.
	warn_re = "WARNING:|(^|[^A-Z_])BUG:|INFO: |Oops|Kernel panic|general protection fault|" \
		  "Call Trace:|cut here|list_add corruption|list_del corruption|" \
		  "refcount_t:|UBSAN:|DEBUG_LOCKS_WARN_ON|stack-protector|" \
		  "self-detected stall|blocked for more than"
}

{ sub(/\r$/, "") }

/^@@CYPH-KUNIT begin / {
	suite = $3
	inblock = 1
	if (!(suite in plan)) {
		order[++nsuites] = suite
		plan[suite] = -1
		ncase[suite] = 0
		nfail[suite] = 0
		suite_line[suite] = ""
	}
	pending = ""
	next
}
/^@@CYPH-KUNIT end / { inblock = 0; next }
/^@@CYPH-KUNIT insmod / { insmod = $3; next }
/^@@CYPH-KUNIT rmmod / { rmmod = $3; next }
/^@@CYPH-KUNIT tainted / { tainted = $3; next }
/^@@CYPH-KUNIT debug_locks / { debug_locks = $3; next }
/^@@CYPH-KUNIT done/ { done = 1; next }

inblock {
	if ($0 ~ /^    1\.\.[0-9]+$/) {
		plan[suite] = substr($0, 8) + 0
		next
	}
	# A case whose log overflowed ends without a newline, so the next
	# case's first line is glued to it: split a result off the end.
	if ($0 !~ /^    (ok|not ok) [0-9]+ / &&
	    match($0, /    (ok|not ok) [0-9]+ [^ ]+( # SKIP.*)?$/)) {
		pending = pending (pending == "" ? "" : "\n") substr($0, 1, RSTART - 1)
		$0 = substr($0, RSTART)
	}
	# A case result: exactly one indent (deeper ones are parameters).
	if ($0 ~ /^    (ok|not ok) [0-9]+ /) {
		line = substr($0, 5)
		ok = line !~ /^not ok/
		sub(/^(ok|not ok) /, "", line)
		num = line + 0
		sub(/^[0-9]+ /, "", line)
		skip = ""
		if (match(line, / # SKIP/)) {
			skip = substr(line, RSTART + 7)
			sub(/^ +/, "", skip)
			line = substr(line, 1, RSTART - 1)
		}
		k = ++ncase[suite]
		cnum[suite, k] = num
		cname[suite, k] = line
		cok[suite, k] = ok
		cskip[suite, k] = skip
		cdiag[suite, k] = pending
		pending = ""
		if (!ok)
			nfail[suite]++
		next
	}
	if ($0 ~ /^(ok|not ok) [0-9]+ /) {
		suite_line[suite] = $0
		next
	}
	# The suite's own line, glued to an overflowed log like the above.
	if (match($0, /(ok|not ok) [0-9]+ [^ ]+$/) &&
	    substr($0, RSTART) ~ ("^(ok|not ok) [0-9]+ " suite "$")) {
		suite_line[suite] = substr($0, RSTART)
		next
	}
	# Anything else indented belongs to the next case's result: its
	# "# case: EXPECTATION FAILED at" lines and their continuations.
	if ($0 ~ /^    [^ ]/ && $0 !~ /^    (# Subtest:|KTAP version|1\.\.)/) {
		pending = pending (pending == "" ? "" : "\n") substr($0, 5)
		next
	}
	if ($0 ~ /^     +[^ ]/) {
		pending = pending (pending == "" ? "" : "\n") "  " $0
		next
	}
	next
}

# Outside the result blocks: the kernel's own messages.
$0 ~ warn_re {
	if (nwarn < 20)
		warnings[++nwarn] = $0
	else
		nwarn++
}

function missing(s, from, to) {
	for (; from <= to; from++)
		result(0, s ": case #" from ": result line missing (its log went over 512 bytes, or a crash)")
}

function report_suite(s,    k, n, bad, sl, next_num, nd, dl, d) {
	bad = 0
	n = ncase[s]
	next_num = 1
	for (k = 1; k <= n; k++) {
		if (cnum[s, k] > next_num) {
			missing(s, next_num, cnum[s, k] - 1)
			bad = 1
		} else if (cnum[s, k] < next_num) {
			result(0, s ": case #" cnum[s, k] " " cname[s, k] " reported out of order")
			bad = 1
		}
		next_num = cnum[s, k] + 1
		if (cskip[s, k] != "")
			result(1, s ": " cname[s, k] " # SKIP " cskip[s, k])
		else
			result(cok[s, k], s ": " cname[s, k])
		if (!cok[s, k] && cdiag[s, k] != "") {
			nd = split(cdiag[s, k], dl, "\n")
			for (d = 1; d <= nd; d++)
				diag(dl[d])
		}
	}
	if (plan[s] < 0) {
		result(0, s ": no test plan in its results")
		bad = 1
	} else if (next_num <= plan[s]) {
		missing(s, next_num, plan[s])
		bad = 1
	}
	sl = suite_line[s]
	if (sl == "") {
		result(0, s ": suite result line missing")
		bad = 1
	} else if (sl ~ /^not ok/ && nfail[s] == 0 && !bad) {
		result(0, s ": suite reported failure without a failing case: " sl)
		bad = 1
	}
	result(!bad && nfail[s] == 0 && sl ~ /^ok/, \
	       s " (suite: " n " cases, " nfail[s] " failed)")
}

END {
	result(insmod == "0", "guest: insmod cyphonic_test.ko (status " insmod ")")
	for (i = 1; i <= nexp; i++) {
		s = exp_list[i]
		if (s in plan)
			report_suite(s)
		else
			result(0, s ": suite did not run (no results in debugfs)")
	}
	for (i = 1; i <= nsuites; i++)
		if (!(order[i] in want))
			result(0, order[i] ": unexpected suite (add it to run.sh's list)")
	result(rmmod == "0", "guest: rmmod cyphonic_test (status " rmmod ")")
	result(nwarn == 0, "guest: no kernel warning, lockdep splat or KASAN report on the console")
	for (i = 1; i <= nwarn && i <= 20; i++)
		diag(warnings[i])
	if (nwarn > 20)
		diag("... " (nwarn - 20) " more")
	# 0x2a0: W (warning), D (oops), B (bad page, set by KASAN).
	t = tainted + 0
	result(tainted != "" && int(t / 32) % 2 == 0 && int(t / 128) % 2 == 0 && \
	       int(t / 512) % 2 == 0, "guest: kernel not tainted by a warning, oops or bad page (tainted=" tainted ")")
	result(debug_locks == "1", "guest: lockdep still on after the tests (debug_locks=" debug_locks ")")
	result(done, "guest: finished (end marker seen; missing means a crash, panic or timeout)")
}
