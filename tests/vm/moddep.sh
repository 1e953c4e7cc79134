#!/bin/bash
# SPDX-License-Identifier: MIT
# Prepare kmod/cyphonic.ko for the guest: print a directory holding
# extra/cyphonic.ko and the modules.* index files of KVER regenerated with
# it, ready to copy into the guest's /lib/modules/KVER.
#
#   tests/vm/moddep.sh KVER KO
#
# depmod inside the guest would read all ~4000 modules over 9p under TCG
# (over a minute); on the host it takes seconds, and the result is cached
# under ${XDG_CACHE_HOME:-~/.cache}/cyphonic/vm/moddep/<hash>/.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../../scripts/kernel-tools.sh
. "$top/scripts/kernel-tools.sh"
kver=${1:?usage: moddep.sh KVER KO}
ko=${2:?usage: moddep.sh KVER KO}
mods="/lib/modules/$kver"

key=$( { echo "$kver"; sha256sum "$ko" "$0"; stat -c '%n %s %Y' "$mods/modules.dep"; } |
	sha256sum | cut -c1-16)
out="$(kt_cache_root)/vm/moddep/$key"
if [ -s "$out/modules.dep.bin" ] && [ -f "$out/extra/cyphonic.ko" ]; then
	echo "$out"
	exit 0
fi

# A tree that looks like /lib/modules/KVER (symlinks to the real module
# directories) plus extra/cyphonic.ko; depmod -b writes its indexes there.
base=$(mktemp -d)
trap 'rm -rf "$base"' EXIT
tree="$base/lib/modules/$kver"
mkdir -p "$tree/extra"
for e in "$mods"/*; do
	case $(basename "$e") in
	modules.order|modules.builtin|modules.builtin.modinfo) cp "$e" "$tree/" ;;
	modules.*|build|source) ;;
	*) ln -s "$e" "$tree/" ;;
	esac
done
cp "$ko" "$tree/extra/cyphonic.ko"
depmod -b "$base" "$kver"
grep -q '^extra/cyphonic.ko:' "$tree/modules.dep" ||
	{ echo "moddep: depmod did not index cyphonic.ko" >&2; exit 1; }

rm -rf "$out.tmp"
mkdir -p "$out.tmp/extra"
cp "$tree"/modules.* "$out.tmp/"
cp "$ko" "$out.tmp/extra/"
rm -rf "$out"
mv "$out.tmp" "$out"
# Every module build makes a new entry (5 MB); keep the newest few.
ls -dt "$(dirname "$out")"/*/ | tail -n +6 | xargs -r rm -rf
echo "$out"
