#!/bin/bash
# SPDX-License-Identifier: MIT
# Builds the container images of deploy/k8s from Debian packages, without
# any registry: mmdebstrap extracts the packages an image needs from the
# Debian archive this machine's apt uses (its own sources files), the
# project's binaries are added, and the result is written as
#
#   <cache>/rootfs/           the root filesystem (the tests run it)
#   <cache>/rootfs.tar        one layer, reproducible (sorted, fixed mtime)
#   <cache>/image.oci.tar     an OCI image archive named localhost/NAME:VERSION
#
#   deploy/k8s/image/build.sh [cyphonic|postgres|redis]   (default cyphonic)
#
# prints <cache>, ${XDG_CACHE_HOME:-~/.cache}/cyphonic/image/NAME-<hash>,
# where the hash covers every input: this script, the package list with
# the versions the archive offers now, and (cyphonic) the daemons' binaries.
# A rebuild with the same inputs reuses it. Put an image on a node with
#   podman load -i image.oci.tar         or
#   ctr -n k8s.io images import image.oci.tar
# (the manifests say imagePullPolicy: Never).
#
# "extract" mode unpacks packages without running maintainer scripts or
# installing Essential packages: the cyphonic image is only the shared
# libraries the daemons link (found with ldd, mapped to packages with
# dpkg -S) plus the daemons: no shell, no package manager.
set -euo pipefail
top=$(cd "$(dirname "$0")/../../.." && pwd)
name=${1:-cyphonic}
version=$(cat "$top/VERSION")
suite=$(. /etc/os-release && echo "$VERSION_CODENAME")
log() { echo "image: $*" >&2; }

# the machine's Debian sources, handed to mmdebstrap as files
mirrors=()
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
	[ -s "$f" ] && mirrors+=("$f")
done
[ ${#mirrors[@]} -gt 0 ] || { log "no apt sources on this machine"; exit 1; }

bins=()
case $name in
cyphonic)
	make -s -C "$top/user" > /dev/null
	for b in cyphonic-as cyphonic-nms cyphonic-trs cyphonic-admin; do
		bins+=("$top/build/bin/$b")
	done
	# packages holding the libraries the daemons load (dpkg knows the
	# /usr path or the /lib one, depending on the package)
	pkgs=$(ldd "${bins[@]}" | awk '/=>/ { print $3 } /ld-linux/ { print $1 }' | sort -u |
		while read -r l; do
			dpkg -S "$l" 2>/dev/null || dpkg -S "/usr$l" 2>/dev/null ||
				dpkg -S "$(realpath "$l")"
		done | cut -d: -f1 | sort -u)
	uid=10001 user=cyphonic
	dirs="etc/cyphonic/ca etc/cyphonic/nms etc/cyphonic/relay var/lib/cyphonic/as var/lib/cyphonic/crl tmp"
	;;
postgres)
	pkgs="postgresql-15 dash coreutils"
	uid=10002 user=postgres
	dirs="var/lib/postgresql/data run/postgresql etc/cyphonic/postgres-init etc/cyphonic/postgres tmp"
	;;
redis)
	pkgs="redis-server redis-tools"
	uid=10003 user=redis
	dirs="data tmp"
	;;
*)
	log "unknown image '$name' (cyphonic, postgres, redis)"; exit 2 ;;
esac
# shellcheck disable=SC2086
versions=$(apt-cache policy $pkgs 2>/dev/null | awk '/^[^ ]/ { p = $1 } /Candidate:/ { print p, $2 }')
hash=$( { cat "$0"; echo "$suite $versions"; [ ${#bins[@]} -eq 0 ] || sha256sum "${bins[@]}" | cut -d' ' -f1; } |
	sha256sum | cut -c1-16)
cache=${XDG_CACHE_HOME:-$HOME/.cache}/cyphonic/image/$name-$hash
mkdir -p "${cache%/*}"
# one build per cache entry at a time (parallel test runs)
exec 9> "$cache.lock"
flock 9
if [ -f "$cache/.done" ]; then
	echo "$cache"
	exit 0
fi
rm -rf "$cache"
mkdir -p "$cache"
root=$cache/rootfs
log "$name: mmdebstrap $suite, packages: $(echo "$pkgs" | tr "\n" " ")"
# shellcheck disable=SC2086
mmdebstrap --mode=root --variant=extract --include="$(echo $pkgs | tr ' ' ,)" \
	--dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
	--dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
	--skip=cleanup/apt --quiet "$suite" "$root" "${mirrors[@]}" >&2
# what extract leaves of apt and dpkg is no part of the image
rm -rf "$root"/var/lib/apt "$root"/var/cache/apt "$root"/var/lib/dpkg "$root"/etc/apt \
	"$root"/usr/share/doc "$root"/usr/share/man "$root"/usr/share/locale "$root"/usr/share/info \
	"$root"/usr/share/lintian
for b in "${bins[@]}"; do
	install -D -m 0755 "$b" "$root/usr/sbin/$(basename "$b")"
done
# the one user the pod runs as (runAsUser), for tools that look it up
mkdir -p "$root/etc"
printf 'root:x:0:0::/nonexistent:/usr/sbin/nologin\n%s:x:%s:%s::/nonexistent:/usr/sbin/nologin\n' \
	"$user" "$uid" "$uid" > "$root/etc/passwd"
printf 'root:x:0:\n%s:x:%s:\n' "$user" "$uid" > "$root/etc/group"
printf 'hosts: files dns\n' > "$root/etc/nsswitch.conf"
# the kubelet bind-mounts these; a plain chroot needs them present
: > "$root/etc/hosts"
: > "$root/etc/resolv.conf"
for d in $dirs proc dev; do mkdir -p "$root/$d"; done
chmod 1777 "$root/tmp"
# a reproducible layer: sorted names, one mtime, numeric owners
epoch=$(git -C "$top" log -1 --format=%ct 2>/dev/null || echo 0)
tar -C "$root" --sort=name --mtime="@$epoch" --owner=0 --group=0 --numeric-owner \
	-cf "$cache/rootfs.tar" .
python3 "$(dirname "$0")/oci.py" "$cache/rootfs.tar" "localhost/$name:$version" "$uid" \
	"$cache/image.oci.tar"
touch "$cache/.done"
# keep the newest three builds of this image
for old in $(ls -1dt "${cache%/*}/$name"-???????????????? 2> /dev/null | tail -n +4); do
	rm -rf "$old" "$old.lock"
done
log "$name: $(du -sh "$root" | cut -f1) rootfs, $(du -h "$cache/image.oci.tar" | cut -f1) image"
echo "$cache"
