#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Dumps work with thousands of tunnels: 2000 tunnels are added in one
# netlink session (nl_bulk), a TUNNEL_GET dump returns each exactly once,
# cyphctl show lists them all, a dump is not carried on over another
# device that took its device's ifindex, and deleting the device with all
# of them installed leaves no warning.
. "$(dirname "$0")/lib.sh"
need ip cyphctl jq nl_bulk nl_dumpcursor
t_begin
trap topo_down EXIT
COUNT=2000

topo_up && cyph_dev $NS_A $PORT_A $VA4 $VA6 || t_abort "setup failed"
# the default cap (1024 tunnels per device) is below COUNT: raise it
t_check "max-tunnels 4096 for this test (default 1024)" \
	ina cyphctl set cyph0 max-tunnels 4096

t_tool nl_bulk ina nl_bulk cyph0 $VA4 $COUNT

# A dump's cursor names its device by ifindex. Between two parts of a dump
# the device is deleted and another one created with the same ifindex and
# the same number of changes (so the same generation): the dump must not
# carry on over the other device as if nothing happened.
mk_dumpdev() {
	echo "ip link add cyphd index 4000 type cyphonic &&" \
		"cyphctl local add cyphd vip4 $1 && nl_bulk cyphd $1 200 > /dev/null"
}
if ina sh -c "$(mk_dumpdev 10.201.0.1)"; then
	t_tool nl_dumpcursor ina nl_dumpcursor cyphd "ip link del cyphd && $(mk_dumpdev 10.202.0.1)"
	ip -n $NS_A link del cyphd
else
	t_fail "a device with 200 tunnels for nl_dumpcursor"
fi

n=$(ina cyphctl show cyph0 --json | jq '.devices[0].tunnels | length')
t_expect "cyphctl show lists all $COUNT tunnels" "${n:-0}" -eq $COUNT
t_check "deleting the device with $COUNT tunnels" ip -n $NS_A link del cyph0
t_end
