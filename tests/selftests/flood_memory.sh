#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Bounded memory under a flood: 30 s of UDP offered far above what the
# tunnel carries (workers = all CPUs), with the kernel's allocations
# sampled from /proc/slabinfo. The pipeline's queues and rings are bounded
# and drop at the door, so allocations must level off during the flood and
# return to the baseline once it stops (nothing leaks, nothing is stuck in
# a ring). Checked by object counts, not times.
. "$(dirname "$0")/lib.sh"
need ip cyphctl iperf3 awk
t_begin
trap topo_down EXIT

# live KiB of the caches a packet in flight uses: skb heads, skb data and
# crypto requests (kmalloc-*), from active objects x object size
inflight_kib() {
	awk '$1 == "skbuff_head_cache" || $1 ~ /^kmalloc-[0-9]+k?$/ ||
	     $1 == "skbuff_fclone_cache" { kib += $2 * $4 / 1024 }
	     END { printf "%d\n", kib }' /proc/slabinfo
}

setup 4 workers 0 || t_abort "setup failed"
t_check "tunnel works" ina ping -c 2 -i 0.2 -W 5 $VB4
sleep 1
base=$(inflight_kib)
diag "baseline: ${base} KiB in skb and kmalloc caches"

iperf_server $NS_B || t_abort "iperf3 server did not start"
# -w: socket buffers far larger than a ring, so the senders are not held
# back by their own send buffers and the pipeline has to drop.
sysctl -qw net.core.wmem_max=33554432 net.core.rmem_max=33554432
out=$(mktemp)
ina iperf3 -c $VB4 -u -b 4G -l 1380 -P 4 -w 4M -t 30 > "$out" 2>&1 &
client=$!
samples=()
for i in 1 2 3 4 5 6; do
	sleep 5
	samples+=("$(inflight_kib)")
done
wait $client
rc=$?
wait "$IPERF_SERVER_PID" 2> /dev/null
diag "during the flood (every 5 s): ${samples[*]} KiB; tunnel drops A: $(drops $NS_A) B: $(drops $NS_B)"
t_expect "iperf3 flood ran" "$rc" -eq 0
[ "$rc" -eq 0 ] || sed 's/^/#   /' "$out" | tail -5
rm -f "$out"
rx=$(tstat $NS_B rx_packets)
t_expect "B received DATA packets during the flood" "${rx:-0}" -gt 1000
# A tunnel alone may hold 7/8 of a device queue (queue_share beyond).
full=$(( $(dstat $NS_A tx_drop_queue_full || echo 0) + $(dstat $NS_B rx_drop_queue_full || echo 0) +
	 $(dstat $NS_A tx_drop_queue_share || echo 0) + $(dstat $NS_B rx_drop_queue_share || echo 0) ))
t_expect "the flood overflowed the pipeline (queue_full/queue_share drops counted)" "$full" -gt 0

# Level: from 10 s on, no sample exceeds the 10 s one by more than the
# pipeline's own bound (two rings and two queues of full datagrams, about
# 12 MiB) -- a leak of every dropped or sent packet would grow by far more.
lo=${samples[1]} hi=${samples[1]}
for s in "${samples[@]:1}"; do
	[ "$s" -gt "$hi" ] && hi=$s
	[ "$s" -lt "$lo" ] && lo=$s
done
t_expect "allocations level off during the flood (growth after 10 s, KiB)" $((hi - samples[1])) -lt 12288

# Back to the baseline when it stops: nothing left in rings or queues.
sleep 3
after=$(inflight_kib)
diag "3 s after the flood: ${after} KiB (baseline ${base})"
t_expect "allocations return to the baseline after the flood (excess KiB)" $((after - base)) -lt 4096
t_check "tunnel still works" ina ping -c 2 -i 0.2 -W 5 $VB4
t_end
