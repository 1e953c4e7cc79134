#!/bin/bash
# SPDX-License-Identifier: MIT
# Build the tcgprof QEMU plugin: tests/bench/tcgprof/build.sh OUT.so
# (used by tests/vm/run.sh for VM_TCGPROF and by the static suite, with
# one set of flags).
set -eu
[ $# -eq 1 ] || { echo "usage: $0 OUT.so" >&2; exit 2; }
exec cc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -shared -fPIC \
	-o "$1" "$(dirname "$0")/tcgprof.c" -lpthread
