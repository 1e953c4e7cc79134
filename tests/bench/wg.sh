# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# WireGuard between site-a and site-b for the benchmarks (sourced after
# tests/selftests/lib.sh): wg0 in each site, one peer, MTU $MTU, addresses
# $WG4A and $WG4B, keys in $W.

WG4A=10.98.0.1 WG4B=10.98.0.2

wg_side() {
	local ns=$1 addr=$2 port=$3 key=$4 peer=$5 ep=$6 allowed=$7
	ip -n "$ns" link add wg0 type wireguard || return 1
	nsx "$ns" wg set wg0 listen-port "$port" private-key "$key" \
		peer "$peer" endpoint "$ep" allowed-ips "$allowed/32" || return 1
	ip -n "$ns" -batch - <<-EOF
	link set wg0 mtu $MTU
	addr add $addr/24 dev wg0
	link set wg0 up
	EOF
}

wg_up() {
	local pa pb
	(umask 077 && wg genkey > "$W/wga.key" && wg genkey > "$W/wgb.key") || return 1
	pa=$(wg pubkey < "$W/wga.key") && pb=$(wg pubkey < "$W/wgb.key") || return 1
	wg_side "$NS_A" $WG4A 51820 "$W/wga.key" "$pb" "$B4:51821" $WG4B &&
		wg_side "$NS_B" $WG4B 51821 "$W/wgb.key" "$pa" "$A4:51820" $WG4A
}
