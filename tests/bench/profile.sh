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
#   BENCH_TCGPROF=1   also count the guest's instructions per packet by kind
#                     and function (QEMU plugin tests/bench/tcgprof/; slows
#                     the guest, so its Mbit/s are not comparable)
set -u -o pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
[ -f "$top/kmod/cyphonic.ko" ] || { echo "profile: kmod/cyphonic.ko not built (make)" >&2; exit 1; }
export BENCH_SECONDS=${BENCH_SECONDS:-10}
export VM_NAME=${VM_NAME:-bench-profile} VM_TIMEOUT=${VM_TIMEOUT:-900}
export VM_PASSENV="${VM_PASSENV:-} BENCH_SECONDS BENCH_STREAMS BENCH_TCGPROF"
mkdir -p "$top/build/bench"
[ "${BENCH_TCGPROF:-0}" = 1 ] && export VM_TCGPROF="$top/build/bench/tcgprof"
"$top/tests/vm/run.sh" "$top/tests/bench/guest-profile.sh" "$@" |
	tee "$top/build/bench/profile.txt" || exit 1
if [ "${BENCH_TCGPROF:-0}" = 1 ]; then
	"$top/tests/bench/tcgprof/report.py" "$VM_TCGPROF" | tee -a "$top/build/bench/profile.txt"
fi
