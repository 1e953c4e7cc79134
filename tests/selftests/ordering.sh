#!/bin/bash
# In-order delivery: the tunnel must not reorder a flow's packets (the
# design's per-tunnel reorder buffer releases them strictly in sequence).
# Control: the same TCP transfer over the plain underlay shows no
# reordering, so any reordering seen through the tunnel comes from it.
# Measured by the TCP stacks: SACK/timestamp reorder detection on the
# sender, out-of-order queueing on the receiver.
. "$(dirname "$0")/lib.sh"
need ip cyphctl iperf3
t_begin
trap topo_down EXIT

# tcpext NS NAME: a TcpExt counter of NS (from /proc/PID/net/netstat)
tcpext() {
	local names=() l i
	while read -r -a l; do
		[ "${l[0]}" = TcpExt: ] || continue
		if [ ${#names[@]} -eq 0 ]; then
			names=("${l[@]}")
			continue
		fi
		for i in "${!names[@]}"; do
			[ "${names[$i]}" = "$2" ] && { echo "${l[$i]}"; return 0; }
		done
	done < "/proc/${ANCHOR[$1]}/net/netstat"
	echo 0
}
reorder_total() {
	echo $(($(tcpext $NS_A TCPSACKReorder) + $(tcpext $NS_A TCPTSReorder) + \
		$(tcpext $NS_B TCPOFOQueue)))
}
# transfer DST: 3 s of iperf3 TCP from A; prints reorder events it caused
transfer() {
	local r0
	r0=$(reorder_total)
	iperf_server $NS_B || return 1
	ina iperf3 -c "$1" -t 3 > /dev/null 2>&1 || return 1
	wait "$IPERF_SERVER_PID" 2> /dev/null
	echo $(($(reorder_total) - r0))
}

setup 4 || t_abort "setup failed"
plain=$(transfer $B4)
t_expect "control: TCP over the plain underlay is not reordered" "${plain:-1}" -eq 0
for w in 1 0; do
	topo_down
	setup 4 workers $w || { t_fail "workers $w: setup"; continue; }
	n=$(transfer $VB4)
	t_expect "workers $w: TCP through the tunnel is not reordered (reorder events: ${n:-?})" "${n:-1}" -eq 0
	diag "workers $w: sender retransmits $(tcpext $NS_A TCPFastRetrans), SACK reorder $(tcpext $NS_A TCPSACKReorder), receiver OFO queued $(tcpext $NS_B TCPOFOQueue), drops: $(drops $NS_A)$(drops $NS_B)"
done
t_end
