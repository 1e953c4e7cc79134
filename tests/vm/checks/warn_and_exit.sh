#!/bin/bash
# SPDX-License-Identifier: MIT
# Harness self-check (run in the VM): print a fake kernel warning through
# /dev/kmsg and exit with status $1. run.sh must report the warning and
# return this status.
echo "WARNING: user-space text like this must not count"
echo "<4>WARNING: CPU: 0 PID: 1 at tests/vm/checks/warn_and_exit.sh:6 harness_selfcheck" > /dev/kmsg
exit "${1:-0}"
