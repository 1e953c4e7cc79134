#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs the npm packages tests/k8s needs (the kubernetes-models schema
# validators and a YAML parser) with `npm ci` from the committed
# package.json and package-lock.json, outside the repository:
#
#   ${XDG_CACHE_HOME:-~/.cache}/cyphonic/npm/<sha256 of the lock>/node_modules
#
# Keyed by the lock file, so a rerun is a no-op and a changed lock installs
# afresh beside the old one. Prints the directory holding node_modules.
# --ignore-scripts: nothing from the registry runs at install time.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
hash=$(cat "$here/package.json" "$here/package-lock.json" | sha256sum | cut -c1-16)
dir=${XDG_CACHE_HOME:-$HOME/.cache}/cyphonic/npm/$hash
mkdir -p "${dir%/*}"
# one install per lock file at a time (parallel test runs)
exec 9> "$dir.lock"
flock 9
if [ ! -f "$dir/.done" ]; then
	command -v npm > /dev/null || { echo "npm-deps: npm missing (scripts/deps.sh)" >&2; exit 1; }
	rm -rf "$dir.tmp"
	mkdir -p "$dir.tmp"
	cp "$here/package.json" "$here/package-lock.json" "$dir.tmp/"
	(cd "$dir.tmp" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) >&2
	rm -rf "$dir"
	mv "$dir.tmp" "$dir"
	touch "$dir/.done"
fi
echo "$dir"
