#!/bin/bash
# SPDX-License-Identifier: MIT
# Harness self-check (run in the VM): never finish; run.sh must time out.
echo "hanging on purpose"
sleep 100000
