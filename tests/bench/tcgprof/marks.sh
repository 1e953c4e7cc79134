# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# Guest side of BENCH_TCGPROF=1, sourced by the benchmark guest scripts:
# the host's TCG plugin (tcgprof.c) counts the instructions run between
# marks made in the directory the guest shares with the host, and
# report.py divides each measured window by the packets it carried.
#
#   prof_begin                  before a measured window
#   prof_end                    right after it
#   prof_record PACKETS LABEL   once its packets are counted: listed in
#                               marks.txt as "MARK PACKETS LABEL"
#   prof_symbols                once every module measured is loaded
#
# Each is a no-op unless BENCH_TCGPROF=1.
PROF_IO=/run/vmio
prof_n=0
prof_on() { [ "${BENCH_TCGPROF:-0}" = 1 ]; }
prof_mark() {
	prof_n=$((prof_n + 1))
	: > "$PROF_IO/mark-$prof_n"
}
prof_begin() { if prof_on; then prof_mark; fi; }
prof_end() { prof_begin; }
prof_record() { if prof_on; then echo "$prof_n $1 $2" >> "$PROF_IO/marks.txt"; fi; }
prof_symbols() { if prof_on; then cat /proc/kallsyms > "$PROF_IO/kallsyms"; fi; }
if prof_on; then : > "$PROF_IO/marks.txt"; fi
