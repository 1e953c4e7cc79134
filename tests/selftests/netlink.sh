#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Bad netlink input is rejected with an errno and an extended ack (the TAP
# of nl_negative, merged here), and cyphctl rejects bad arguments with a
# message naming the argument.
. "$(dirname "$0")/lib.sh"
need ip cyphctl
t_begin
trap 'topo_down; rm -f "$err"' EXIT
err=$(mktemp)

topo_up && cyph_up && genkeys || t_abort "setup failed"

# nl_negative runs in site-a, where cyph0 exists.
if command -v nl_negative > /dev/null; then
	out=$(ina nl_negative cyph0 2>&1)
	rc=$?
	while IFS= read -r line; do
		case "$line" in
		"ok "*|"not ok "*)
			st=${line%% [0-9]*}
			rest=${line#"$st" }
			rest=${rest#* }
			rest=${rest#- }
			if [ "$st" = ok ]; then t_ok "nl_negative: $rest"; else t_fail "nl_negative: $rest"; fi ;;
		"#"*) echo "$line" ;;
		esac
	done <<< "$out"
	t_expect "nl_negative exit status" "$rc" -eq 0
else
	t_fail "nl_negative not built (build/tools/nl_negative)"
fi

# cli_rejects NAME WORD CMD...: CMD fails and its stderr mentions WORD
cli_rejects() {
	local name=$1 word=$2
	shift 2
	if ina "$@" > /dev/null 2> "$err"; then
		t_fail "$name" "command succeeded: $*"
	elif ! grep -qF -- "$word" "$err"; then
		t_fail "$name" "message does not name '$word':" "$(cat "$err")"
	else
		t_ok "$name"
		diag "  $(head -n 1 "$err")"
	fi
}
cli_rejects "cyphctl: non-numeric index" "index" \
	cyphctl tunnel add cyph0 index abc peer-index 2 local4 $VA4 remote4 $VB4
cli_rejects "cyphctl: bad IPv4 address" "remote4" \
	cyphctl tunnel add cyph0 index 1 peer-index 2 local4 $VA4 remote4 300.1.1.1
cli_rejects "cyphctl: bad endpoint" "endpoint" \
	cyphctl tunnel add cyph0 index 1 peer-index 2 local4 $VA4 remote4 $VB4 endpoint 1.2.3.4
cli_rejects "cyphctl: short key" "tx-key" \
	cyphctl tunnel add cyph0 index 1 peer-index 2 local4 $VA4 remote4 $VB4 key-id 0 tx-key abcd rx-key "$KEY_BA"
cli_rejects "cyphctl: unknown cipher" "rot13" cyphctl set cyph0 cipher rot13
cli_rejects "cyphctl: port out of range" "listen-port" cyphctl set cyph0 listen-port 70000
cli_rejects "cyphctl: key id out of range" "key-id" \
	cyphctl tunnel add cyph0 index 1 peer-index 2 local4 $VA4 remote4 $VB4 key-id 9 tx-key "$KEY_AB" rx-key "$KEY_BA"
cli_rejects "cyphctl: unknown keyword" "frobnicate" cyphctl tunnel add cyph0 index 1 frobnicate 3
cli_rejects "cyphctl: unknown command" "dance" cyphctl dance
cli_rejects "cyphctl show nosuchdev fails naming the device" "nosuchdev" cyphctl show nosuchdev
cli_rejects "cyphctl: a non-cyphonic device is refused" "not a cyphonic device" cyphctl show eth0
cli_rejects "cyphctl: tunnel without a complete VIP pair names the missing half" "remote4" \
	cyphctl tunnel add cyph0 index 5 peer-index 2 local4 $VA4
cli_rejects "kernel: tunnel whose local VIP is no local identity (extack)" "local identity" \
	cyphctl tunnel add cyph0 index 5 peer-index 2 local4 10.99.0.77 remote4 $VB4
t_check "valid tunnel is accepted" tunnel_a 4
cli_rejects "kernel: duplicate tunnel index (extack)" "exists" \
	cyphctl tunnel add cyph0 index $IDX_A peer-index 9 local4 $VA4 remote4 10.99.0.9
cli_rejects "kernel: cipher change with tunnels (extack)" "no tunnels" \
	cyphctl set cyph0 cipher chacha20-poly1305
cli_rejects "kernel: swap without a next key (extack)" "no next key" cyphctl tunnel swap cyph0 index $IDX_A
cli_rejects "kernel: delete of an unknown tunnel (extack)" "no tunnel with this INDEX" cyphctl tunnel del cyph0 index 77

# Caps: past max-tunnels / max-locals the kernel refuses with a message.
jdev() { ina cyphctl show --json | jq -r ".devices[0].$1"; }
t_expect "default max-tunnels is 1024" "$(jdev max_tunnels)" -eq 1024
t_expect "default max-locals is 256" "$(jdev max_locals)" -eq 256
t_check "a second tunnel" ina cyphctl tunnel add cyph0 index 9 peer-index 9 local4 $VA4 remote4 10.99.0.9
cli_rejects "kernel: max-tunnels below the tunnels held (extack)" "already holds" \
	cyphctl set cyph0 max-tunnels 1
cli_rejects "kernel: max-tunnels 0 is out of range" "range" cyphctl set cyph0 max-tunnels 0
t_check "max-tunnels 2 with two tunnels" ina cyphctl set cyph0 max-tunnels 2
cli_rejects "kernel: a tunnel past max-tunnels (extack)" "max-tunnels" \
	cyphctl tunnel add cyph0 index 10 peer-index 10 local4 $VA4 remote4 10.99.0.10
t_check "cyphctl show: tunnels 2 of at most 2" bash -c \
	"nsenter --net=/run/netns/$NS_A cyphctl show cyph0 | grep -q 'tunnels: 2 of at most 2'"
t_check "max-locals 1 with one identity" ina cyphctl set cyph0 max-locals 1
cli_rejects "kernel: a local identity past max-locals (extack)" "max-locals" \
	cyphctl local add cyph0 vip4 10.99.0.50
t_expect "show --json reports max_locals" "$(jdev max_locals)" -eq 1
t_check "caps back to their defaults" ina cyphctl set cyph0 max-tunnels 1024 max-locals 256
t_check "the second tunnel goes" ina cyphctl tunnel del cyph0 index 9
# One UDP socket serves one device: a second device cannot claim it.
ip -n $NS_A link add cyph1 type cyphonic || t_fail "second device"
t_tool nl_sockclaim ina nl_sockclaim cyph0 cyph1
ip -n $NS_A link del cyph1
t_check "the device still works: show --json parses" bash -c "nsenter --net=/run/netns/$NS_A cyphctl show --json | jq -e '.devices | length == 1'"

# Accounting: whoever creates devices pays for them. A user root only in a
# user namespace of its own may create any number; their per-CPU state
# (counters, a receive cell with a NAPI context per CPU, crypt queue workers)
# must be charged to its memory cgroup like the rest. memory.stat's percpu
# is exact: compare 20 cyphonic devices with 20 dummy ones (the stack's own
# per-device state, charged or not, is the same for both); ours must add at
# least the counters (39 u64) and a NAPI context (400 bytes) per CPU.
cg=/run/cyph-cg
cg_percpu() { awk '$1 == "percpu" { print $2 }' $cg/t/memory.stat; }
# make_devs KIND PREFIX: 20 devices in NS_A, made from inside the cgroup
make_devs() {
	sh -c "echo \$\$ > $cg/t/cgroup.procs && for i in \$(seq 1 20); do echo \"link add $2\$i type $1\"; done | ip -n $NS_A -batch -"
}
if mkdir -p $cg && { mountpoint -q $cg || mount -t cgroup2 none $cg; } &&
	echo +memory > $cg/cgroup.subtree_control && mkdir -p $cg/t &&
	modprobe dummy 2> /dev/null; then
	ncpu=$(awk -F, '{ for (i = 1; i <= NF; i++) { split($i, r, "-");
		n += r[2] == "" ? 1 : r[2] - r[1] + 1 } print n }' /sys/devices/system/cpu/possible)
	p0=$(cg_percpu)
	make_devs cyphonic cacct || t_fail "20 cyphonic devices"
	p1=$(cg_percpu)
	make_devs dummy dacct || t_fail "20 dummy devices"
	p2=$(cg_percpu)
	diag "percpu charged per device: cyphonic $(((p1 - p0) / 20)), dummy $(((p2 - p1) / 20)), $ncpu CPUs"
	t_expect "a device's per-CPU state is charged to its creator's memory cgroup" \
		$(((p1 - p0 - (p2 - p1)) / 20)) -ge $((ncpu * (39 * 8 + 400)))
	for i in $(seq 1 20); do echo "link del cacct$i"; echo "link del dacct$i"; done |
		ip -n $NS_A -batch -
	rmdir $cg/t 2> /dev/null
	umount $cg 2> /dev/null
else
	t_skip "a device's per-CPU state is charged to its creator's memory cgroup" "no cgroup2 memory controller"
fi
t_end
