#!/bin/sh
# SPDX-License-Identifier: MIT
# Install every Debian package listed in scripts/packages.txt. Idempotent:
# when everything is present it only runs dpkg-query and returns.
set -eu
list="$(dirname "$0")/packages.txt"
pkgs=$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$list")
missing=""
for p in $pkgs; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$status" = installed ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing:$missing"
if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
else
	SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
# Another apt (a parallel build, unattended-upgrades) may hold the lock: wait.
$SUDO apt-get -o DPkg::Lock::Timeout=900 update -q
# shellcheck disable=SC2086
$SUDO apt-get -o DPkg::Lock::Timeout=900 install -y -q --no-install-recommends $missing
