#!/bin/bash
# SPDX-License-Identifier: MIT
# Harness self-check (run in the VM): the guest environment is as promised.
set -e
fail() { echo "clean.sh: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || fail "not root"
[ -z "$(ls /sys/class/net | grep -vx lo)" ] || fail "guest has a network device: $(ls /sys/class/net)"
case ":$PATH:" in *":$VM_TOP/build/bin:"*) ;; *) fail "PATH lacks build/bin: $PATH" ;; esac
touch /etc/cyphonic-vm-write-test || fail "overlay not writable"
[ "$(command -v python3)" = /usr/bin/python3 ] || fail "python3 is $(command -v python3)"
if [ -f "$VM_TOP/kmod/cyphonic.ko" ]; then
	modinfo -F filename cyphonic | grep -q "/lib/modules/$(uname -r)/extra/" || fail "cyphonic.ko not installed in extra/"
fi
echo "guest ok: $(uname -r), $(nproc) CPUs, args: $*"
