#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Module unload under traffic: with iperf3 running over a tunnel, delete the
# devices, then the namespaces, then rmmod; then the same with the
# namespaces deleted under traffic and modprobe -r; then rmmod with live
# devices still carrying traffic. Each time the module must unload cleanly
# (run_all.sh fails the test on any kernel warning) and load again for a
# working tunnel.
. "$(dirname "$0")/lib.sh"
need ip cyphctl iperf3 rmmod modprobe
t_begin
trap topo_down EXIT

loaded() { grep -q '^cyphonic ' /proc/modules; }
# unload_with CMD...: retry briefly (netns teardown is asynchronous)
unload_with() {
	local i
	for i in $(seq 20); do
		"$@" 2> /dev/null && ! loaded && return 0
		sleep 0.25
	done
	"$@"
	! loaded
}
traffic() {
	iperf_server $NS_B || return 1
	ina iperf3 -c $VB4 -t 30 > /dev/null 2>&1 &
	CLIENT=$!
	sleep 2
	# Traffic is really flowing through the tunnel.
	local a b
	a=$(dstat $NS_B rx_packets)
	sleep 1
	b=$(dstat $NS_B rx_packets)
	[ "$b" -gt "$a" ]
}

# Round 1: devices deleted under traffic, then namespaces, then rmmod.
setup 4; t_expect "round 1: setup" $? -eq 0
t_check "round 1: iperf3 traffic flows over the tunnel" traffic
t_check "round 1: delete A's device under traffic" ip -n $NS_A link del cyph0
t_check "round 1: delete B's device under traffic" ip -n $NS_B link del cyph0
topo_down
t_check "round 1: rmmod cyphonic" unload_with rmmod cyphonic

# Round 2: namespaces (with their devices) deleted under traffic, modprobe -r.
setup 6; t_expect "round 2: setup (module autoloads again)" $? -eq 0
t_check "round 2: iperf3 traffic flows over the tunnel" traffic
topo_down
t_check "round 2: modprobe -r cyphonic" unload_with modprobe -r cyphonic

# Round 3: rmmod while the devices exist and carry traffic.
setup 4; t_expect "round 3: setup" $? -eq 0
t_check "round 3: iperf3 traffic flows over the tunnel" traffic
t_check "round 3: rmmod with live devices under traffic" unload_with rmmod cyphonic
t_check "round 3: devices are gone" bash -c "! ip -n $NS_A link show cyph0 2> /dev/null"
topo_down

setup 4; t_expect "reload: setup" $? -eq 0
t_check "reload: a new device works" ina ping -c 2 -i 0.2 -W 5 $VB4
t_end
