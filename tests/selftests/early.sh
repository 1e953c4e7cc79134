#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# DATA for a tunnel still being set up (CYPHONIC_CMD_TUNNEL_EXPECT): an
# initiator sends its first packet right behind its last handshake flight,
# before the responder has created its tunnel. B expects A's index; A's
# first echo request reaches B before B's tunnel exists and is held
# (rx_early_held), then received when B adds the tunnel, and answered.
# DATA for an index nobody expects is dropped as before
# (rx_drop_unknown_index); the per-index bound and the reuse of the slot
# that ends first (rx_drop_early_timeout) keep what a peer can make B hold
# small; an expected index that has a tunnel already is refused; a device
# deleted while it holds packets frees them.
. "$(dirname "$0")/lib.sh"
need ip cyphctl ping
t_begin
trap 'topo_down' EXIT

topo_up && cyph_up && genkeys || t_abort "setup failed"
held_is() { [ "$(dstat $NS_B rx_early_held)" = "$1" ]; }
t_check "A adds its tunnel (B has none yet)" tunnel_a 4

# Nobody expects the index: dropped as unknown.
u0=$(dstat $NS_B rx_drop_unknown_index)
ina ping -c 1 -W 1 $VB4 > /dev/null 2>&1
t_expect "B: DATA for an index it does not expect is dropped (rx_drop_unknown_index +1)" \
	"$(($(dstat $NS_B rx_drop_unknown_index) - u0))" -eq 1
t_expect "B: nothing held" "$(dstat $NS_B rx_early_held)" -eq 0

# Expected: held, then received when the tunnel comes.
t_check "B expects its index $IDX_B" inb cyphctl tunnel expect cyph0 index $IDX_B
ina ping -c 1 -W 20 $VB4 > /dev/null 2>&1 &
p=$!
t_check "B holds A's first echo request (rx_early_held 1)" wait_until 5 held_is 1
sleep 1
t_check "B adds its tunnel" tunnel_b 4
wait $p
t_expect "the held echo request was received and answered" $? -eq 0
t_expect "B: nothing dropped as early_timeout" "$(dstat $NS_B rx_drop_early_timeout)" -eq 0
t_check "then the tunnel works both ways" inb ping -c 2 -i 0.2 -W 5 $VA4

# Bounds: an expectation for an index with a tunnel is refused.
out=$(inb cyphctl tunnel expect cyph0 index $IDX_B 2>&1)
t_expect "expect for an index that has a tunnel: refused" $? -ne 0
diag "$out"
t_check "expect index 0: refused" bash -c "! nsenter --net=/run/netns/$NS_B cyphctl tunnel expect cyph0 index 0 2> /dev/null"

# At most CYPHONIC_EARLY_PACKETS (4) held per index; a 33rd expectation
# reuses the slot that ends first, dropping what it held.
inb cyphctl tunnel del cyph0 index $IDX_B
inb cyphctl tunnel expect cyph0 index $IDX_B
h0=$(dstat $NS_B rx_early_held)
ina ping -c 6 -i 0.1 -W 1 $VB4 > /dev/null 2>&1
t_expect "B holds at most 4 packets for one index" \
	"$(($(dstat $NS_B rx_early_held) - h0))" -eq 4
e0=$(dstat $NS_B rx_drop_early_timeout)
for i in $(seq 101 132); do
	inb cyphctl tunnel expect cyph0 index $i || break
done
t_expect "the 32 slots full: a new expectation reused the one ending first (rx_drop_early_timeout +4)" \
	"$(($(dstat $NS_B rx_drop_early_timeout) - e0))" -eq 4

# A device deleted while it holds packets frees them (the console check
# catches a leak or a warning).
inb cyphctl tunnel expect cyph0 index $IDX_B
ina ping -c 2 -i 0.1 -W 1 $VB4 > /dev/null 2>&1
t_expect "B holds 2 packets again" "$(dstat $NS_B rx_early_held)" -eq $((h0 + 6))
t_check "B's device deleted while holding them" ip -n $NS_B link del cyph0
t_end
