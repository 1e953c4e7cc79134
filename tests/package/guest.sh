#!/bin/bash
# The in-VM half of the "package" suite (tests/package/suite.sh runs it with
# tests/vm/run.sh and VM_NO_MODULE=1): installs the two packages built on
# the host, checks what they installed, purges them and checks that nothing
# is left behind. Prints TAP. Everything it writes lands in the guest's
# tmpfs overlay and is thrown away with the guest.
#
#   tests/package/guest.sh DEBDIR VERSION
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../lib/tap.sh
. "$top/tests/lib/tap.sh"
debs=${1:?usage: guest.sh DEBDIR VERSION}
ver=${2:?usage: guest.sh DEBDIR VERSION}
kver=$(uname -r)
fails=0
fail() { tap_fail "$@"; fails=$((fails + 1)); }
check() { tap_check "$@" || fails=$((fails + 1)); }
# Installed programs, not the work tree's build/bin that PATH starts with.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export DEBIAN_FRONTEND=noninteractive

[ "${VM_GUEST:-0}" = 1 ] || { fail "runs inside the test VM" "use tests/vm/run.sh"; tap_plan; exit 1; }
check "no cyphonic module before the install" bash -c '! modinfo cyphonic'

# ---- install: the DKMS postinst builds the module for this kernel ----
# dpkg's output (the DKMS build) is streamed to stderr as it comes, so a
# slow guest shows where its time goes (the host streams our stderr live).
start=$(date +%s)
dpkg -i "$debs/cyphonic-dkms_${ver}_all.deb" "$debs"/cyphonic_"${ver}"_*.deb 2>&1 |
	while IFS= read -r l; do echo "[$(cut -d' ' -f1 /proc/uptime)] dpkg: $l" >&2; done
if [ "${PIPESTATUS[0]}" -eq 0 ]; then
	tap_ok "dpkg -i cyphonic-dkms cyphonic"
else
	fail "dpkg -i cyphonic-dkms cyphonic" "its output is on stderr"
fi
echo "# dpkg -i (DKMS build + install for $kver under TCG) took $(($(date +%s) - start)) s"
check "dkms status: cyphonic/$ver installed for $kver" \
	bash -c "dkms status cyphonic/$ver -k $kver | grep -q ': installed'"
path=$(modinfo -n cyphonic 2> /dev/null)
check "modprobe finds the DKMS module ($path)" \
	bash -c "[[ '$path' == /lib/modules/$kver/updates/dkms/cyphonic.ko* ]]"
check "modinfo cyphonic: version $ver" test "$(modinfo -F version cyphonic 2> /dev/null)" = "$ver"
check "ip link add cyph0 type cyphonic (autoloads the installed module)" \
	ip link add cyph0 type cyphonic
check "installed cyphctl talks to it: cyphctl show cyph0" /usr/sbin/cyphctl show cyph0
ip link del cyph0 2> /dev/null
check "rmmod cyphonic" rmmod cyphonic

# ---- the tools ----
for p in cyphctl cyphonicd cyphonic-as cyphonic-nms cyphonic-trs cyphonic-admin; do
	check "/usr/sbin/$p --version says $ver" \
		bash -c "/usr/sbin/$p --version | grep -qw -- '$ver'"
done
# --nocfprotection: the IBT/SHSTK property needs every linked object to
# carry it, and bookworm's glibc start files (crt1.o, crti.o) do not, so
# no bookworm binary has it (/usr/bin/wg, /usr/sbin/ip fail the same way).
# Our objects are built with -fcf-protection all the same (debian/rules).
if command -v hardening-check > /dev/null; then
	check "hardening-check --nocfprotection: every installed binary clean" \
		hardening-check --nocfprotection /usr/sbin/cyphctl /usr/sbin/cyphonic-as /usr/sbin/cyphonic-nms \
		/usr/sbin/cyphonic-trs /usr/sbin/cyphonic-admin /usr/sbin/cyphonicd
else
	fail "hardening-check installed" "apt-get install devscripts"
fi

# ---- units, sysusers, tmpfiles, docs ----
for s in as nms trs; do
	unit=/lib/systemd/system/cyphonic-$s.service
	check "$unit runs /usr/sbin/cyphonic-$s with /etc/cyphonic/$s.conf" \
		bash -c "grep -qx 'ExecStart=/usr/sbin/cyphonic-$s -c /etc/cyphonic/$s.conf' '$unit' && test -x /usr/sbin/cyphonic-$s"
	check "cyphonic-$s.service is not enabled (services need a config first)" \
		bash -c "! ls /etc/systemd/system/*.wants/cyphonic-$s.service 2> /dev/null | grep -q ."
done
unit=/lib/systemd/system/cyphonicd.service
check "$unit runs /usr/sbin/cyphonicd with /etc/cyphonic/cyphonicd.conf (Type=notify)" \
	bash -c "grep -qx 'ExecStart=/usr/sbin/cyphonicd -c /etc/cyphonic/cyphonicd.conf' '$unit' && grep -qx 'Type=notify' '$unit' && test -x /usr/sbin/cyphonicd"
check "cyphonicd.service is not enabled (it needs a config first)" \
	bash -c "! ls /etc/systemd/system/*.wants/cyphonicd.service 2> /dev/null | grep -q ."
check "cyphonicd's man pages and example config installed" \
	bash -c "ls /usr/share/man/man8/cyphonicd.8* /usr/share/man/man5/cyphonicd.conf.5* > /dev/null && test -f /usr/share/doc/cyphonic/examples/cyphonicd.conf"
check "sysusers created the cyphonic system user" \
	bash -c "test -f /usr/lib/sysusers.d/cyphonic.conf && getent passwd cyphonic | grep -q ':/var/lib/cyphonic:'"
check "tmpfiles created /var/lib/cyphonic owned by cyphonic" \
	bash -c "test -f /usr/lib/tmpfiles.d/cyphonic.conf && [ \"\$(stat -c %U /var/lib/cyphonic)\" = cyphonic ]"
check "example configs in /usr/share/doc/cyphonic/examples, none in /etc" \
	bash -c "ls /usr/share/doc/cyphonic/examples/as.conf && [ ! -e /etc/cyphonic/as.conf ]"
check "the adapter's drop-in for cyphonicd.service in examples (not active by itself)" \
	bash -c "grep -q '^AmbientCapabilities=CAP_NET_ADMIN CAP_NET_BIND_SERVICE CAP_NET_RAW\$' /usr/share/doc/cyphonic/examples/cyphonicd-adapter.conf && [ ! -e /etc/systemd/system/cyphonicd.service.d ]"
check "units' Documentation= file exists" \
	bash -c "for f in \$(sed -n 's|^Documentation=file:||p' /lib/systemd/system/cyphonic-*.service /lib/systemd/system/cyphonicd.service); do test -f \$f || exit 1; done"
# Purge must also remove state the services write (StateDirectory=).
mkdir -p /var/lib/cyphonic/as && touch /var/lib/cyphonic/as/registry.db

# ---- purge: nothing left behind ----
files=$(mktemp)
dpkg -L cyphonic cyphonic-dkms 2> /dev/null | sort -u > "$files"
check "dpkg --purge cyphonic cyphonic-dkms" dpkg --purge cyphonic cyphonic-dkms
check "both packages are gone from dpkg's database" \
	bash -c "! dpkg-query -W -f='\${db:Status-Abbrev}\n' cyphonic cyphonic-dkms 2> /dev/null | grep -q '^[a-z][a-z]'"
left=$(while read -r f; do [ -e "$f" ] && [ ! -d "$f" ] && echo "$f"; done < "$files")
check "no file of either package is left ($(wc -l < "$files") listed)" test -z "$left"
[ -n "$left" ] && printf '#   left: %s\n' $left
check "no /usr/src/cyphonic-*" bash -c '! ls -d /usr/src/cyphonic-* 2> /dev/null | grep -q .'
check "no /var/lib/dkms/cyphonic" test ! -e /var/lib/dkms/cyphonic
check "no cyphonic.ko under /lib/modules/*/updates" \
	bash -c '! ls /lib/modules/*/updates/dkms/cyphonic.ko* /lib/modules/*/updates/cyphonic.ko* 2> /dev/null | grep -q .'
check "modprobe no longer finds cyphonic" bash -c '! modinfo cyphonic'
check "no /var/lib/cyphonic (state removed on purge)" test ! -e /var/lib/cyphonic
check "no systemd state of the units" \
	bash -c '! ls /var/lib/systemd/deb-systemd-helper-enabled/ 2> /dev/null | grep -q cyphonic'
echo "# the cyphonic system user stays after purge, as Debian leaves system accounts"
rm -f "$files"
tap_plan
[ "$fails" -eq 0 ]
