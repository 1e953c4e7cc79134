#!/bin/bash
# SPDX-License-Identifier: MIT
# `make demo`: boot the test VM and run the narrated demo (tests/demo/guest.sh)
# in it. Needs the module, the daemons and cyphctl built (make does that first).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
for f in kmod/cyphonic.ko build/bin/cyphctl build/bin/cyphonicd build/bin/cyphonic-as build/bin/cyphonic-nms build/bin/cyphonic-trs build/bin/cyphonic-admin build/tools/cyph_node; do
	[ -e "$top/$f" ] || { echo "demo: $f is missing; run make first" >&2; exit 1; }
done
echo "Booting a QEMU VM (software emulation, about 15 s) ..."
VM_NAME=demo exec "$top/tests/vm/run.sh" "$top/tests/demo/guest.sh"
