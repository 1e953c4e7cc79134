#!/bin/bash
# The kernel's hold on its UDP sockets follows user space: when the
# process keeping them (here cyphctl's socket holder) dies, the device
# stops using them and counts what it cannot send, also when the owner
# took a socket back (setsockopt UDP_ENCAP) before closing it; `cyphctl
# set detach` gives them back explicitly; and deleting a namespace with a device
# inside frees the device (no `ip link del` first), so rmmod afterwards
# has nothing left to clean up.
. "$(dirname "$0")/lib.sh"
need ip cyphctl ping rmmod modprobe nl_encapreset
t_begin
trap topo_down EXIT

# holder NS: pid of cyphctl's socket holder in NS
holder() {
	local p
	for p in $(ip netns pids "$1" 2> /dev/null); do
		[ "$(cat /proc/$p/comm 2> /dev/null)" = cyphctl-socks ] && { echo $p; return 0; }
	done
	return 1
}
port4() { jpick "$(show_json "$1")" '"port4":([0-9]+)'; }
port4_is() { [ "$(port4 "$1")" = "$2" ]; }
no_holder() { ! holder "$1" > /dev/null; }
destroyed_since() { dmesg | sed -n "/$1/,\$p" | grep -c 'cyphonic: cyph0 destroyed'; }
# both_destroyed MARKER: evaluated anew on each try of wait_until
both_destroyed() { [ "$(destroyed_since "$1")" -ge 2 ]; }
# trims_since MARKER: the "no device left: cpu N let go of P pages, R
# requests" lines since MARKER, one per online CPU once the last device
# is gone (kmod/trim.c)
trims_since() { dmesg | sed -n "/$1/,\$p" | grep 'cyphonic: no device left: cpu'; }
all_trimmed() { [ "$(trims_since "$1" | wc -l)" -ge "$(nproc)" ]; }
# trimmed MARKER WHAT: the pages or requests let go, summed over the CPUs
trimmed() { trims_since "$1" | sed -n "s/.* \([0-9]*\) $2.*/\1/p" | awk '{ s += $1 } END { print s + 0 }'; }

setup 4 || t_abort "setup failed"
t_check "tunnel works" ina ping -c 2 -i 0.2 -W 5 $VB4
t_check "A's sockets are kept by a cyphctl-socks process" holder $NS_A
t_expect "A's device uses its IPv4 socket" "$(port4 $NS_A)" -eq $PORT_A

# 1. The owner dies: the device lets go.
kill "$(holder $NS_A)"
t_check "A's device lets go of its sockets when their owner dies" wait_until 10 port4_is $NS_A 0
before=$(dstat $NS_A tx_drop_no_socket)
ina ping -c 3 -i 0.2 -W 1 $VB4 > /dev/null
after=$(dstat $NS_A tx_drop_no_socket)
t_expect "sends without a socket are counted (tx_drop_no_socket)" "$after" -ge $((before + 3))
t_check "the port is free: new sockets on the same port" ina cyphctl set cyph0 listen-port $PORT_A
t_check "the tunnel works again" ina ping -c 2 -i 0.2 -W 5 $VB4

# 2. Explicit detach: the device stops using them, the holder exits.
t_check "cyphctl set detach all" ina cyphctl set cyph0 detach all
t_expect "no socket after detach" "$(port4 $NS_A)" -eq 0
t_check "the holder exits once the kernel let go" wait_until 10 no_holder $NS_A
t_check "reattach" ina cyphctl set cyph0 listen-port $PORT_A
t_check "the tunnel works after reattaching" ina ping -c 2 -i 0.2 -W 5 $VB4

# 2b. The owner takes a socket back behind the device's back
# (setsockopt UDP_ENCAP 0: the UDP core then no longer calls the device's
# encap_destroy) and closes it: the device must let go all the same, or it
# keeps sending from a port anyone may bind now, and its reference pins
# the socket's namespace (and the device) forever.
PORT_R=$((PORT_A + 50))
t_tool nl_encapreset ina nl_encapreset cyph0 $PORT_R
t_check "A's device lets go of a socket taken back and closed" wait_until 15 port4_is $NS_A 0
t_check "detach the rest" ina cyphctl set cyph0 detach all
t_check "the holder exits" wait_until 10 no_holder $NS_A
t_check "reattach after the taken socket" ina cyphctl set cyph0 listen-port $PORT_A
t_check "the tunnel works after that" ina ping -c 2 -i 0.2 -W 5 $VB4

# 3. Namespaces deleted with their devices inside.
marker="sockets: netns del $$ $(date +%s%N)"
if ddebug +p; then
	echo "$marker" > /dev/kmsg
	topo_down
	if ! t_check "deleting the namespaces destroys both devices (no ip link del)" \
		wait_until 30 both_destroyed "$marker"; then
		diag "kernel messages since the deletion:"
		dmesg | sed -n "/$marker/,\$p" | tail -40 | sed 's/^/#   /'
		diag "namespaces: $(ls /run/netns 2> /dev/null | tr '\n' ' ')"
		diag "cyphonic refcount: $(cat /sys/module/cyphonic/refcnt 2> /dev/null)"
	fi
	# What the data path kept per CPU for reuse is freed with the last
	# device, not at rmmod: the pings above were sealed into its pages.
	t_check "with the last device gone, every CPU lets go of its caches" \
		wait_until 10 all_trimmed "$marker"
	t_expect "the pages sealed packets were written into are let go" \
		"$(trimmed "$marker" pages)" -ge 1
	t_expect "the crypt requests kept for reuse are freed" \
		"$(trimmed "$marker" requests)" -ge 1
	trims_since "$marker" | sed 's/^.*cyphonic: /#   /'
	ddebug -p
else
	topo_down
	t_skip "deleting the namespaces destroys both devices" "no dynamic debug"
	t_skip "with the last device gone, every CPU lets go of its caches" "no dynamic debug"
fi
t_check "rmmod cyphonic afterwards" rmmod cyphonic
t_check "the module is gone" bash -c "! grep -q '^cyphonic ' /proc/modules"
setup 4
t_expect "and loads again for a new setup" $? -eq 0
t_check "tunnel works after reload" ina ping -c 2 -i 0.2 -W 5 $VB4
t_end
