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
	[ "$status" = installed ] && continue
	# a virtual package provided by an installed one (npm in nodejs from
	# another repository): installing the named one would conflict
	dpkg-query -W -f='${db:Status-Status}\t${Provides}\n' 2>/dev/null | awk -F'\t' -v p="$p" '
		$1 == "installed" { n = split($2, a, /, */)
			for (i = 1; i <= n; i++) { sub(/ .*/, "", a[i]); if (a[i] == p) f = 1 } }
		END { exit !f }' && continue
	missing="$missing $p"
done
# the npm packages of tests/k8s (cached outside the repo), after nodejs
# (a registry that cannot be reached is reported, not fatal: the k8s suite
# then says why it skips, and nothing else needs them)
npm_deps() {
	"$(dirname "$0")/../tests/k8s/npm-deps.sh" > /dev/null ||
		echo "deps: npm packages of tests/k8s not installed (see above): the k8s suite will skip" >&2
}
[ -z "$missing" ] && { npm_deps; exit 0; }
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
npm_deps
