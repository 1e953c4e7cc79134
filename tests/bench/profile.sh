#!/bin/bash
# SPDX-License-Identifier: MIT
# make bench-profile: the CPU work per packet (CPU time by kind, context
# switches, interrupts) while 4 TCP streams cross plain veth, WireGuard
# and cyphonic with workers 1 and all, in one guest. A diagnosis aid for
# the figures of `make bench`, not a benchmark itself.
#
#   tests/bench/profile.sh [aes-gcm|chacha20-poly1305]   (default aes-gcm)
#   BENCH_SECONDS=N   seconds measured per path (10)
#   BENCH_STREAMS=N   parallel TCP streams (4)
set -u -o pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
[ -f "$top/kmod/cyphonic.ko" ] || { echo "profile: kmod/cyphonic.ko not built (make)" >&2; exit 1; }
export BENCH_SECONDS=${BENCH_SECONDS:-10}
export VM_NAME=${VM_NAME:-bench-profile} VM_TIMEOUT=${VM_TIMEOUT:-900}
export VM_PASSENV="${VM_PASSENV:-} BENCH_SECONDS BENCH_STREAMS"
mkdir -p "$top/build/bench"
"$top/tests/vm/run.sh" "$top/tests/bench/guest-profile.sh" "$@" |
	tee "$top/build/bench/profile.txt"
