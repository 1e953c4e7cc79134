#!/bin/sh
# SPDX-License-Identifier: MIT
# Points the host's resolver at the node's DNS responder for the CYPHONIC
# domain only (split DNS), and takes that back again. docs/dns.md explains
# the set-ups; cyphonicd is meant to run this when it has created its
# device and started the responder, and again with "down" when it stops.
#
#   dns-resolver.sh [-n] up DEV DOMAIN ADDR PORT
#   dns-resolver.sh [-n] down DEV DOMAIN
#   dns-resolver.sh dnsmasq-conf DOMAIN ADDR PORT   print the dnsmasq drop-in
#
#   -n   print the commands instead of running them
#   RESOLVER=resolved|dnsmasq in the environment skips the detection
#   DEV  the cyphonic device (cyph0), DOMAIN the CYPHONIC domain,
#   ADDR:PORT where the responder listens (a loopback address)
#
# With systemd-resolved running: per-link DNS on DEV, DOMAIN as a
# routing-only domain (~DOMAIN), and DEV never the default route for
# other names. The settings live as long as DEV does (or until resolved
# restarts), so "up" is run whenever the device is (re)created.
# Otherwise, with dnsmasq running: a drop-in in /etc/dnsmasq.d forwarding
# DOMAIN to the responder, and dnsmasq restarted.
# Otherwise it fails and says what to install (docs/dns.md).
set -eu
run=
if [ "${1:-}" = -n ]; then run="echo"; shift; fi
DNSMASQ_DIR=${DNSMASQ_DIR:-/etc/dnsmasq.d}

die() { echo "dns-resolver: $*" >&2; exit 1; }
usage() {
	sed -n 's/^#   dns-resolver.sh /usage: dns-resolver.sh /p' "$0" >&2
	exit 2
}
check_dev() {
	printf '%s' "$1" | grep -Eq '^[A-Za-z0-9_.-]{1,15}$' || die "$1: not an interface name"
}
check_domain() {
	printf '%s' "$1" | grep -Eq '^([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.)*[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$' ||
		die "$1: not a DNS domain"
}
# A loopback address: the responder binds nowhere else.
check_addr() {
	printf '%s' "$1" | grep -Eq '^(127\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}|::1)$' ||
		die "$1: not a loopback address (127.0.0.0/8 or ::1)"
}
check_port() {
	if ! printf '%s' "$1" | grep -Eq '^[0-9]{1,5}$' || [ "$1" -lt 1 ] || [ "$1" -gt 65535 ]; then
		die "$1: not a port"
	fi
}
# resolved's server syntax: 127.0.0.1:5354, [::1]:5354
server_spec() {
	case $1 in
	*:*) echo "[$1]:$2" ;;
	*) echo "$1:$2" ;;
	esac
}
resolved_running() {
	[ -z "${RESOLVER:-}" ] || { [ "$RESOLVER" = resolved ]; return; }
	command -v resolvectl > /dev/null && [ -d /run/systemd/resolve ] &&
		systemctl is-active --quiet systemd-resolved 2> /dev/null
}
dnsmasq_running() {
	[ -z "${RESOLVER:-}" ] || { [ "$RESOLVER" = dnsmasq ]; return; }
	command -v dnsmasq > /dev/null && systemctl is-active --quiet dnsmasq 2> /dev/null
}
dnsmasq_conf() {
	# server=: DOMAIN (and everything below) goes to the responder only;
	# rebind-domain-ok: VIPs are private addresses, which stop-dns-rebind
	# would otherwise drop.
	echo "# cyphonic: names in $1 are answered by cyphonicd's DNS responder"
	echo "server=/$1/$2#$3"
	echo "rebind-domain-ok=/$1/"
}

[ $# -ge 1 ] || usage
cmd=$1; shift
case $cmd in
up)
	[ $# -eq 4 ] || usage
	check_dev "$1"; check_domain "$2"; check_addr "$3"; check_port "$4"
	if resolved_running; then
		$run resolvectl dns "$1" "$(server_spec "$3" "$4")"
		$run resolvectl domain "$1" "~$2"
		$run resolvectl default-route "$1" false
		$run resolvectl llmnr "$1" no
		$run resolvectl mdns "$1" no
		$run resolvectl dnssec "$1" no
		$run resolvectl dnsovertls "$1" no
	elif dnsmasq_running; then
		f=$DNSMASQ_DIR/cyphonic-$2.conf
		if [ -n "$run" ]; then
			echo "cat > $f <<EOC"
			dnsmasq_conf "$2" "$3" "$4"
			echo "EOC"
		else
			dnsmasq_conf "$2" "$3" "$4" > "$f.tmp"
			mv "$f.tmp" "$f"
		fi
		$run systemctl restart dnsmasq
	else
		die "neither systemd-resolved nor dnsmasq is running: install one (apt install systemd-resolved, or dnsmasq), see docs/dns.md"
	fi
	;;
down)
	[ $# -eq 2 ] || usage
	check_dev "$1"; check_domain "$2"
	if resolved_running; then
		# the link may be gone already, and its settings with it
		$run resolvectl revert "$1" 2> /dev/null || true
	elif dnsmasq_running; then
		$run rm -f "$DNSMASQ_DIR/cyphonic-$2.conf"
		$run systemctl restart dnsmasq
	fi
	;;
dnsmasq-conf)
	[ $# -eq 3 ] || usage
	check_domain "$1"; check_addr "$2"; check_port "$3"
	dnsmasq_conf "$1" "$2" "$3"
	;;
*)
	usage
	;;
esac
