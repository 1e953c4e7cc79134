#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Ping and a short TCP transfer over a static tunnel for each inner/outer
# family combination (4-in-4, 6-in-6, 4-in-6, 6-in-4), and ping with both
# ciphers. The wan router's per-family forwarding counters prove which
# outer family carried the traffic; the device counters prove it went
# through cyphonic.
. "$(dirname "$0")/lib.sh"
need ip cyphctl iperf3 ping
t_begin
trap 'topo_down; rm -f "$res"' EXIT
res=$(mktemp)

# one_combo INNER OUTER: ping + iperf3 over the tunnel
one_combo() {
	local inner=$1 outer=$2 name="$1-in-$2" dst=$VB4 other=$((10 - $2))
	local rx0 tx0 f0 o0 g0 p0 bytes bps gso pkts
	[ "$inner" = 6 ] && dst=$VB6
	ina cyphctl tunnel set cyph0 index $IDX_A endpoint "$(ep_of_b "$outer")" &&
		inb cyphctl tunnel set cyph0 index $IDX_B endpoint "$(ep_of_a "$outer")" ||
		{ t_fail "$name: set endpoints"; return; }
	rx0=$(dstat $NS_B rx_packets)
	tx0=$(dstat $NS_A tx_packets)
	f0=$(wan_fwd "$outer")
	o0=$(wan_fwd "$other")
	t_check "$name: ping" ina ping -c 3 -i 0.2 -W 5 "$dst"
	t_expect "$name: B counted received DATA packets" \
		"$(($(dstat $NS_B rx_packets) - rx0))" -ge 3
	t_expect "$name: A counted sent DATA packets" \
		"$(($(dstat $NS_A tx_packets) - tx0))" -ge 3
	t_expect "$name: outer IPv$outer carried them (wan forwarded)" \
		"$(($(wan_fwd "$outer") - f0))" -ge 6
	t_expect "$name: nothing went over outer IPv$other" \
		"$(($(wan_fwd "$other") - o0))" -eq 0
	if ! iperf_server $NS_B; then
		t_fail "$name: iperf3 server did not start"
		return
	fi
	g0=$(dstat $NS_A tx_gso_sends)
	p0=$(dstat $NS_A tx_packets)
	ina iperf3 -c "$dst" -t 2 -J > "$res" 2>&1
	wait "$IPERF_SERVER_PID" 2> /dev/null
	bytes=$(iperf_last "$res" bytes)
	t_expect "$name: TCP transfer (iperf3, 2 s) received bytes" "${bytes:-0}" -gt 100000
	# TCP's GSO bursts leave as UDP GSO trains, segmented again by the
	# receiver's UDP layer after crossing the router whole.
	gso=$(($(dstat $NS_A tx_gso_sends) - g0))
	pkts=$(($(dstat $NS_A tx_packets) - p0))
	diag "$name: $pkts DATA packets sent, $gso UDP GSO trains"
	t_expect "$name: A sent TCP's bursts as UDP GSO trains (tx_gso_sends)" "$gso" -gt 0
	bps=$(iperf_last "$res" bits_per_second)
	diag "$name: $((${bps:-0} / 1000000)) Mbit/s"
}

setup 4 || t_abort "setup failed (see above)"
for combo in "4 4" "6 6" "4 6" "6 4"; do
	one_combo $combo
done
diag "drops on B: $(drops $NS_B)"
d=$(fault_drops $NS_B)
t_check "no drops counted on B but congestion${d:+ ($d)}" test -z "$d"
diag "drops on A: $(drops $NS_A)"
d=$(fault_drops $NS_A)
t_check "no drops counted on A but congestion${d:+ ($d)}" test -z "$d"

# The other cipher (set only while a device has no tunnel).
topo_down
if setup 4 cipher chacha20-poly1305; then
	t_check "chacha20-poly1305: device reports the cipher" \
		test "$(jpick "$(show_json $NS_A)" '"cipher":"([^"]*)"')" = chacha20-poly1305
	t_check "chacha20-poly1305: ping 4-in-4" ina ping -c 3 -i 0.2 -W 5 $VB4
	t_check "chacha20-poly1305: ping 6-in-4" ina ping -c 3 -i 0.2 -W 5 $VB6
else
	t_fail "chacha20-poly1305: setup"
fi
topo_down
if setup 6 cipher aes-gcm; then
	t_check "aes-gcm (explicit): device reports the cipher" \
		test "$(jpick "$(show_json $NS_A)" '"cipher":"([^"]*)"')" = aes-gcm
	t_check "aes-gcm: ping 6-in-6" ina ping -c 3 -i 0.2 -W 5 $VB6
else
	t_fail "aes-gcm: setup"
fi
t_end
