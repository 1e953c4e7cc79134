#!/bin/bash
# SPDX-License-Identifier: MIT
# Harness self-check (run in the VM): print a fake kernel warning through
# /dev/kmsg and exit with status $1. run.sh must report the warning and
# return this status.
echo "WARNING: user-space text like this must not count"
# The serial port sends a tty's text after the write returns, and the
# kernel's console line could land in the middle of it (one merged line
# that counts). Let it drain first.
sleep 0.5
echo "<4>WARNING: CPU: 0 PID: 1 at tests/vm/checks/warn_and_exit.sh:6 harness_selfcheck" > /dev/kmsg
exit "${1:-0}"
