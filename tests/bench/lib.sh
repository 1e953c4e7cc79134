# shellcheck shell=bash
# shellcheck disable=SC2034 # top, B: for the benchmark that sources this
# SPDX-License-Identifier: MIT
# What the loopback benchmarks share. `. lib.sh NAME` after `set -u`
# (NAME: bench-cloud, bench-evloop, ...): it sets top and B (the
# built programs), makes a scratch directory D that goes at exit
# (BENCH_KEEP=1 keeps it) with every daemon whose pid is in pids, defines
# die(), and builds the programs.
BENCH_NAME=$1
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
B=$top/build/bin
D=$(mktemp -d "/tmp/cyph-$BENCH_NAME.XXXXXX")
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ -n "${BENCH_KEEP:-}" ] || rm -rf "$D"
}
trap cleanup EXIT
die() { echo "$BENCH_NAME: $*" >&2; exit 1; }

make -s -C "$top/user" progs > "$D/build.log" 2>&1 || { cat "$D/build.log"; die "build failed"; }
